//! Direct tests of one instance: what keepalived rejects (with its log lines, the packets
//! `vrrp_probe.py` sent in the lab), priority 0, preemption options, the address owner,
//! VRRPv3 interval learning, unicast peers, weights and sync groups.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vrrp_core::wire::MULTICAST_V4;
use vrrp_core::{
    Action, AdvertRepr, Auth, Event, Family, Instance, InstanceConfig, IpPair, Reject, State,
    SyncGroup, Tracked, Version,
};

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 22, last))
}

fn t(ms: u64) -> vrrp_core::Instant {
    vrrp_core::Instant::from_millis(ms)
}

fn config(priority: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new("VI_1", "eth1", 77, priority, ip(1), vec![ip(249)]);
    c.auth = Auth::pass(b"11111");
    c
}

fn advert(priority: u8) -> AdvertRepr {
    AdvertRepr {
        version: Version::V2,
        vrid: 77,
        priority,
        interval_centis: 100,
        auth: Auth::pass(b"11111"),
        addresses: vec![ip(249)],
    }
}

fn drain(i: &mut Instance) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(a) = i.poll_action() {
        if let Action::Log(l) = a {
            out.push(l);
        }
    }
    out
}

fn backup(priority: u8) -> Instance {
    let mut i = Instance::new(config(priority)).unwrap();
    i.handle_event(t(0), Event::Start);
    drain(&mut i);
    i
}

fn master(priority: u8) -> Instance {
    let mut i = backup(priority);
    let at = i.poll_timeout().unwrap();
    i.handle_timeout(at);
    assert_eq!(i.state(), State::Master);
    drain(&mut i);
    while i.poll_transmit().is_some() {}
    i
}

fn probe_bytes(a: &AdvertRepr) -> Vec<u8> {
    a.to_bytes(&IpPair {
        src: ip(100),
        dst: IpAddr::V4(MULTICAST_V4),
    })
    .unwrap()
}

#[test]
fn rejects_what_keepalived_rejects_with_its_log_lines() {
    let ips = IpPair {
        src: ip(100),
        dst: IpAddr::V4(MULTICAST_V4),
    };
    let good = probe_bytes(&advert(254));
    let mut badsum = good.clone();
    badsum[6] ^= 0x55;
    let mut wrongpass = advert(254);
    wrongpass.auth = Auth::pass(b"22222");
    let mut int2 = advert(254);
    int2.interval_centis = 200;
    let mut wrongvip = advert(254);
    wrongvip.addresses = vec![ip(248)];
    let mut noauth = advert(254);
    noauth.auth = Auth::None;
    let mut twovips = advert(254);
    twovips.addresses.push(ip(248));
    let mut othervrid = advert(254);
    othervrid.vrid = 78;
    let cases: Vec<(Vec<u8>, u8, Reject, &str)> = vec![
        (
            good.clone(),
            64,
            Reject::Ttl { received: 64 },
            "(VI_1) invalid TTL/HL. Received 64 and expect 255",
        ),
        (
            probe_bytes(&wrongpass),
            255,
            Reject::Password,
            "(VI_1) received an invalid passwd!",
        ),
        (
            badsum,
            255,
            Reject::Checksum { version: 2 },
            "(VI_1) Invalid VRRPv2 checksum",
        ),
        (
            probe_bytes(&int2),
            255,
            Reject::AdvertInterval {
                mine_secs: 1,
                received_secs: 2,
            },
            "(VI_1) advertisement interval mismatch mine=1 sec rcv'd=2 sec",
        ),
        (
            probe_bytes(&wrongvip),
            255,
            Reject::VipMissing {
                vrid: 77,
                addr: ip(249),
            },
            "(VI_1) ip address associated with VRID 77 not present in MASTER advert: 198.18.22.249",
        ),
        (
            probe_bytes(&noauth),
            255,
            Reject::AuthType {
                received: 0,
                expected: 1,
            },
            "(VI_1) received a 0 auth, expecting 1!",
        ),
        (
            probe_bytes(&twovips),
            255,
            Reject::VipCount {
                received: 2,
                expected: 1,
            },
            "(VI_1) received an unexpected ip number count 2, expected 1!",
        ),
        (
            probe_bytes(&othervrid),
            255,
            Reject::UnknownVrid {
                vrid: 78,
                interface: "eth1".into(),
            },
            "Unknown VRID(78) received on interface(eth1). ignoring...",
        ),
        (
            // a VRRPv3 message (its checksum left zero) to a v2 instance
            {
                let mut v3 = good.clone();
                v3[0] = 0x31;
                v3
            },
            255,
            Reject::Version {
                received: 3,
                expected: 2,
            },
            "(VI_1) wrong version. Received 3 and expect 2",
        ),
        (
            good[..6].to_vec(),
            255,
            Reject::TooShort {
                family: Family::V4,
                bytes: 26,
            },
            "IPv4 VRRP packet too short - 26 bytes",
        ),
    ];
    for start_master in [false, true] {
        for (bytes, ttl, reason, line) in &cases {
            let mut i = if start_master {
                master(102)
            } else {
                backup(102)
            };
            let state = i.state();
            let deadline = i.poll_timeout();
            assert_eq!(
                i.handle_packet(t(100), ips, *ttl, bytes).as_ref(),
                Err(reason)
            );
            assert_eq!(drain(&mut i), [line.to_string()]);
            assert_eq!(i.state(), state, "{line}: state unchanged");
            assert_eq!(i.poll_timeout(), deadline, "{line}: timers unchanged");
            assert!(i.poll_transmit().is_none());
        }
    }
    // the good probe at 254 makes a master step down
    let mut m = master(102);
    assert_eq!(m.handle_packet(t(100), ips, 255, &good), Ok(()));
    assert_eq!(
        drain(&mut m)[..3],
        [
            "(VI_1) Master received advert from 198.18.22.100 with higher priority 254, ours 102",
            "(VI_1) Entering BACKUP STATE",
            "(VI_1) removing VIPs.",
        ]
    );
    assert_eq!(m.state(), State::Backup);
}

#[test]
fn wrong_version_is_rejected() {
    let mut c = config(100);
    c.version = Version::V3;
    c.auth = Auth::None;
    let mut i = Instance::new(c).unwrap();
    i.handle_event(t(0), Event::Start);
    drain(&mut i);
    let r = i.handle_advert(t(10), ip(2), &advert(100), 255);
    assert_eq!(
        r,
        Err(Reject::Version {
            received: 2,
            expected: 3
        })
    );
    assert_eq!(
        drain(&mut i),
        ["(VI_1) wrong version. Received 2 and expect 3"]
    );
}

#[test]
fn master_answers_priority_zero_with_an_advert() {
    let mut m = master(100);
    m.handle_advert(t(4000), ip(2), &advert(0), 255).unwrap();
    assert_eq!(drain(&mut m), ["(VI_1) Master received priority 0 message"]);
    let tx = m.poll_transmit().unwrap();
    assert_eq!(tx.advert.priority, 100);
    assert_eq!(m.state(), State::Master);
}

#[test]
fn master_answers_lower_priority_unless_told_not_to() {
    let mut m = master(100);
    m.handle_advert(t(4000), ip(2), &advert(50), 255).unwrap();
    assert_eq!(
        drain(&mut m),
        [
            "(VI_1) Received advert from 198.18.22.2 with lower priority 50, ours 100, forcing new election"
        ]
    );
    assert!(m.poll_transmit().is_some());

    let mut c = config(100);
    c.lower_prio_no_advert = true;
    let mut m = Instance::new(c).unwrap();
    m.handle_event(t(0), Event::Start);
    m.handle_timeout(m.poll_timeout().unwrap());
    drain(&mut m);
    while m.poll_transmit().is_some() {}
    m.handle_advert(t(4000), ip(2), &advert(50), 255).unwrap();
    assert_eq!(
        drain(&mut m),
        ["(VI_1) Received advert from 198.18.22.2 with lower priority 50, ours 100"]
    );
    assert!(m.poll_transmit().is_none());
}

#[test]
fn equal_priority_goes_to_the_higher_address() {
    // our address is .1: a .2 master at equal priority wins, a .0 one loses
    let mut m = master(100);
    m.handle_advert(
        t(4000),
        IpAddr::V4(Ipv4Addr::new(198, 18, 22, 0)),
        &advert(100),
        255,
    )
    .unwrap();
    assert_eq!(m.state(), State::Master);
    drain(&mut m);
    m.handle_advert(t(4100), ip(2), &advert(100), 255).unwrap();
    assert_eq!(m.state(), State::Backup);
    assert_eq!(
        drain(&mut m)[0],
        "(VI_1) Master received advert from 198.18.22.2 with same priority 100 but higher IP address than ours"
    );
}

#[test]
fn nopreempt_backup_keeps_accepting_a_lower_master() {
    let mut c = config(150);
    c.preempt = false;
    let mut b = Instance::new(c).unwrap();
    b.handle_event(t(0), Event::Start);
    for k in 1..20 {
        b.handle_advert(t(k * 1000), ip(2), &advert(100), 255)
            .unwrap();
        b.handle_timeout(t(k * 1000));
    }
    assert_eq!(b.state(), State::Backup);
    // the timer follows the lower master's adverts
    assert_eq!(
        b.poll_timeout(),
        Some(t(19_000) + Duration::from_micros(3_000_000 + 106 * 1_000_000 / 256))
    );
}

#[test]
fn preempt_delay_accepts_a_lower_master_for_the_delay() {
    let mut c = config(150);
    c.preempt_delay = Duration::from_secs(5);
    let mut b = Instance::new(c).unwrap();
    b.handle_event(t(0), Event::Start);
    drain(&mut b);
    let mut k = 1;
    while b.state() == State::Backup && k < 30 {
        b.handle_advert(t(k * 1000), ip(2), &advert(100), 255)
            .unwrap();
        b.handle_timeout(t(k * 1000));
        k += 1;
    }
    let logs = drain(&mut b);
    assert_eq!(logs[0], "(VI_1) start preempt delay (5.000000)");
    // accepted at 1..=5 s (delay ends at 6 s exclusive), discarded from 6 s, master at
    // 5 s + master-down
    let became = t(5000) + Duration::from_micros(3_000_000 + 106 * 1_000_000 / 256);
    assert_eq!(b.state(), State::Master);
    assert!(logs.contains(
        &"(VI_1) received lower priority (100) advert from 198.18.22.2 - discarding".to_string()
    ));
    assert!(t((k - 1) * 1000) >= became);
}

#[test]
fn address_owner_starts_as_master() {
    let mut i = Instance::new(config(255)).unwrap();
    i.handle_event(t(0), Event::Start);
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.poll_transmit().unwrap().advert.priority, 255);
}

#[test]
fn v3_backup_learns_the_master_interval() {
    let mut c = config(100);
    c.version = Version::V3;
    c.auth = Auth::None;
    let mut b = Instance::new(c).unwrap();
    b.handle_event(t(0), Event::Start);
    drain(&mut b);
    let mut a = advert(200);
    a.version = Version::V3;
    a.auth = Auth::None;
    a.interval_centis = 50;
    b.handle_advert(t(100), ip(2), &a, 255).unwrap();
    assert_eq!(
        drain(&mut b),
        ["(VI_1) advertisement interval updated from 1000ms to 500ms by master"]
    );
    // 3 * 0.5 s + (256 - 100) * 0.5 s / 256
    assert_eq!(
        b.master_down_interval(),
        Duration::from_nanos(1_500_000_000 + 304_687_500)
    );
    assert_eq!(b.poll_timeout(), Some(t(100) + b.master_down_interval()));
}

#[test]
fn unicast_sends_to_each_peer() {
    let mut c = config(255);
    c.unicast_peers = vec![ip(2), ip(3)];
    let mut i = Instance::new(c).unwrap();
    i.handle_event(t(0), Event::Start);
    let dsts: Vec<IpAddr> = std::iter::from_fn(|| i.poll_transmit())
        .map(|t| t.dst)
        .collect();
    assert_eq!(dsts, [ip(2), ip(3)]);
}

#[test]
fn weights_and_fault() {
    let mut c = config(100);
    c.track_scripts = vec![
        Tracked::new("up", 2),
        Tracked::new("down", -30),
        Tracked::new("crit", 0),
    ];
    c.track_interfaces = vec![Tracked::new("eth2", -10)];
    let mut i = Instance::new(c).unwrap();
    i.handle_event(t(0), Event::Start);
    drain(&mut i);
    let ev = |name: &str, ok| Event::ScriptStatus {
        name: name.into(),
        ok,
    };
    i.handle_event(t(1), ev("up", true));
    assert_eq!(i.effective_priority(), 102);
    i.handle_event(t(2), ev("down", false));
    assert_eq!(i.effective_priority(), 72);
    i.handle_event(t(3), Event::InterfaceDown("eth2".into()));
    assert_eq!(i.effective_priority(), 62);
    assert_eq!(
        drain(&mut i),
        [
            "(VI_1) Changing effective priority from 100 to 102",
            "(VI_1) Changing effective priority from 102 to 72",
            "(VI_1) Changing effective priority from 72 to 62",
        ]
    );
    i.handle_event(t(4), ev("crit", false));
    assert_eq!(i.state(), State::Fault);
    i.handle_event(t(5), ev("crit", true));
    assert_eq!(i.state(), State::Backup);
    i.handle_event(t(6), Event::InterfaceDown("eth1".into()));
    assert_eq!(i.state(), State::Fault);
    i.handle_event(t(7), Event::InterfaceUp("eth1".into()));
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn invalid_configs_are_errors() {
    let mut c = config(100);
    c.vrid = 0;
    assert!(Instance::new(c).is_err());
    let mut c = config(100);
    c.advert_int = Duration::from_millis(1500);
    assert!(
        Instance::new(c)
            .unwrap_err()
            .to_string()
            .contains("advert_int")
    );
    let mut c = config(100);
    c.vips = vec!["2001:db8::1".parse().unwrap()];
    assert!(Instance::new(c).is_err());
}

#[test]
fn sync_group_moves_together() {
    let mut a = config(100);
    a.name = "VI_A".into();
    let mut b = config(100);
    b.name = "VI_B".into();
    b.vrid = 78;
    b.vips = vec![ip(250)];
    let mut g = SyncGroup::new(
        "G1",
        vec![Instance::new(a).unwrap(), Instance::new(b.clone()).unwrap()],
    )
    .unwrap();
    g.handle_event(t(0), Event::Start);
    // only VI_A hears from a master; VI_B times out and pulls VI_A to MASTER with it
    for k in 1..5 {
        g.handle_advert(t(k * 1000), ip(2), &advert(200), 255)
            .unwrap();
        g.handle_timeout(t(k * 1000));
    }
    let states = |g: &SyncGroup| g.members().iter().map(|m| m.state()).collect::<Vec<_>>();
    assert_eq!(states(&g), [State::Master, State::Master]);
    let logs: Vec<String> = std::iter::from_fn(|| g.poll_action())
        .filter_map(|a| match a {
            Action::Log(l) => Some(l),
            _ => None,
        })
        .collect();
    assert!(logs.contains(&"VRRP_Group(G1) Syncing instances to MASTER state".to_string()));
    // a higher master for VI_A sends both back
    g.handle_advert(t(5000), ip(2), &advert(200), 255).unwrap();
    assert_eq!(states(&g), [State::Backup, State::Backup]);
    // a link down on VI_B's interface faults both; up releases both
    g.handle_event(t(6000), Event::InterfaceDown("eth1".into()));
    assert_eq!(states(&g), [State::Fault, State::Fault]);
    g.handle_event(t(7000), Event::InterfaceUp("eth1".into()));
    assert_eq!(states(&g), [State::Backup, State::Backup]);
    // duplicate vrids are refused
    let mut dup = b;
    dup.name = "VI_C".into();
    assert!(
        SyncGroup::new(
            "G2",
            vec![
                Instance::new(dup.clone()).unwrap(),
                Instance::new(dup).unwrap()
            ]
        )
        .is_err()
    );
}
