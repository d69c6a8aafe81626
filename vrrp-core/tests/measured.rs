//! Scripted timelines for each scenario of the keepalived 2.2.7 lab
//! (/work/shared/vrrp-lab/MEASURED.md), with explicit virtual times.
//!
//! The lab: n1 198.18.22.1 (priority 100, chk_haproxy weight 2, so 102), n2 198.18.22.2
//! (101), n3 198.18.22.3 (100), VI_1 vrid 77, VIP 198.18.22.249, auth PASS 11111,
//! advert_int 1, garp_master_delay 1. The wire delay is zero so gaps compare directly
//! with the tcpdump gaps measured on the bridge.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vrrp_core::sim::{Link, Sim};
use vrrp_core::{Action, Auth, Event, InstanceConfig, Instant, NotifyState, State, Tracked};

const VID: u8 = 77;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 22, last))
}

fn lab_config(name: &str, vrid: u8, node: u8, priority: u8, script: bool) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, "eth1", vrid, priority, ip(node), vec![ip(249)]);
    c.auth = Auth::pass(b"11111");
    c.garp_master_delay = Duration::from_secs(1);
    if script {
        c.track_scripts = vec![Tracked::new("chk_haproxy", 2)];
    }
    c
}

fn script(ok: bool) -> Event {
    Event::ScriptStatus {
        name: "chk_haproxy".into(),
        ok,
    }
}

fn us(micros: u64) -> Duration {
    Duration::from_micros(micros)
}

/// Master-down interval for advert_int 1 s at `prio`: 3 s + (256 - prio)/256 s.
fn master_down(prio: u64) -> Duration {
    Duration::from_secs(3) + us((256 - prio) * 1_000_000 / 256)
}

/// Two (or three) lab nodes started at t=0 with n1's script already good; runs until n1
/// has been master for a while. Returns the sim.
fn lab(nodes: u8) -> Sim {
    let mut sim = Sim::new(1, Link::fixed(Duration::ZERO));
    sim.add_router(ip(1), vec![lab_config("VI_1", VID, 1, 100, true)])
        .unwrap();
    sim.add_router(ip(2), vec![lab_config("VI_1", VID, 2, 101, false)])
        .unwrap();
    if nodes == 3 {
        sim.add_router(ip(3), vec![lab_config("VI_1", VID, 3, 100, false)])
            .unwrap();
    }
    for r in 0..usize::from(nodes) {
        sim.event(r, Event::Start);
    }
    sim.event(0, script(true));
    sim
}

fn lines(sim: &Sim, router: usize, from: Instant) -> Vec<String> {
    sim.routers[router]
        .log
        .iter()
        .filter(|(t, _)| *t >= from)
        .map(|(_, l)| l.clone())
        .collect()
}

/// When `router` last sent an advert with priority other than `except` before `before`.
fn last_advert(sim: &Sim, router: usize, before: Instant) -> Instant {
    sim.sent
        .iter()
        .filter(|s| s.router == router && s.at <= before)
        .map(|s| s.at)
        .max()
        .expect("an advert was sent")
}

fn first_advert(sim: &Sim, router: usize, after: Instant) -> (Instant, u8) {
    sim.sent
        .iter()
        .find(|s| s.router == router && s.at > after)
        .map(|s| (s.at, s.transmit.advert.priority))
        .expect("an advert was sent")
}

fn became(sim: &Sim, router: usize, to: State, after: Instant) -> Instant {
    sim.transitions
        .iter()
        .find(|t| t.router == router && t.to == to && t.at >= after)
        .map(|t| t.at)
        .unwrap_or_else(|| panic!("router {router} never became {to:?} after {after}"))
}

#[test]
fn startup_state_master_waits_for_master_down_timer() {
    let mut sim = lab(2);
    sim.run_until(Instant::from_millis(10_000));
    // n1: BACKUP(init) first, MASTER when the timer armed at start (priority 100, before
    // the first script result) runs out: 3 + 156/256 s, as keepalived's 3.609 s
    assert_eq!(
        became(&sim, 0, State::Master, Instant::ZERO),
        Instant::ZERO + master_down(100)
    );
    assert_eq!(sim.masters(VID), vec![0]);
    let m = Instant::ZERO + master_down(100);
    assert_eq!(
        lines(&sim, 0, Instant::ZERO),
        [
            "(VI_1) Entering BACKUP STATE (init)",
            "(VI_1) Changing effective priority from 100 to 102",
            "(VI_1) received lower priority (101) advert from 198.18.22.2 - discarding",
            "(VI_1) Receive advertisement timeout",
            "(VI_1) Entering MASTER STATE",
            "(VI_1) setting VIPs.",
            "(VI_1) Sending/queueing gratuitous ARPs on eth1 for 198.18.22.249",
            "(VI_1) Sending/queueing gratuitous ARPs on eth1 for 198.18.22.249",
        ]
    );
    // GARPs: 5 right after becoming master and 5 more garp_master_delay (1 s) later
    let garps: Vec<(Instant, u32)> = sim.routers[0]
        .actions
        .iter()
        .filter_map(|(t, a)| match a {
            Action::Announce { count, .. } => Some((*t, *count)),
            _ => None,
        })
        .collect();
    assert_eq!(garps, [(m, 5), (m + Duration::from_secs(1), 5)]);
    // n2's timer (101) runs out 3.9 ms earlier, so when both start together it is master
    // for those 3.9 ms and yields on n1's first advert
    assert_eq!(
        became(&sim, 1, State::Master, Instant::ZERO),
        Instant::ZERO + master_down(101)
    );
    assert_eq!(became(&sim, 1, State::Backup, Instant::from_micros(1)), m);
    assert!(
        lines(&sim, 1, m).contains(
            &"(VI_1) Master received advert from 198.18.22.1 with higher priority 102, ours 101"
                .to_string()
        )
    );
    assert_eq!(sim.state(1, VID), Some(State::Backup));
}

#[test]
fn a_crash_failover_takes_master_down_interval() {
    let mut sim = lab(2);
    sim.run_until(Instant::from_millis(10_000));
    let crash = Instant::from_millis(10_050);
    sim.run_until(crash);
    sim.crash(0);
    sim.run_until(Instant::from_millis(20_000));
    let last = last_advert(&sim, 0, crash);
    let (first, prio) = first_advert(&sim, 1, crash);
    assert_eq!(prio, 101);
    // measured on the wire: 3605-3611 ms = 3 * 1 + (256 - 101)/256
    assert_eq!(first.saturating_duration_since(last), master_down(101));
    assert_eq!(became(&sim, 1, State::Master, crash), first);
    assert_eq!(
        lines(&sim, 1, crash),
        [
            "(VI_1) Receive advertisement timeout",
            "(VI_1) Entering MASTER STATE",
            "(VI_1) setting VIPs.",
            "(VI_1) Sending/queueing gratuitous ARPs on eth1 for 198.18.22.249",
            "(VI_1) Sending/queueing gratuitous ARPs on eth1 for 198.18.22.249",
        ]
    );
}

#[test]
fn a_graceful_stop_hands_over_in_skew_time() {
    let mut sim = lab(2);
    let stop = Instant::from_millis(10_050);
    sim.run_until(stop);
    sim.event(0, Event::Stop);
    sim.run_until(Instant::from_millis(20_000));
    let (zero_at, zero_prio) = first_advert(&sim, 0, Instant::from_millis(10_000));
    assert_eq!((zero_at, zero_prio), (stop, 0));
    let (first, prio) = first_advert(&sim, 1, stop);
    assert_eq!(prio, 101);
    // measured: 605-609 ms after the priority-0 advert
    assert_eq!(
        first.saturating_duration_since(stop),
        us(155 * 1_000_000 / 256)
    );
    assert_eq!(
        lines(&sim, 0, stop),
        ["(VI_1) sent 0 priority", "(VI_1) removing VIPs."]
    );
    assert_eq!(
        lines(&sim, 1, stop)[..3],
        [
            "(VI_1) Backup received priority 0 advertisement",
            "(VI_1) Receive advertisement timeout",
            "(VI_1) Entering MASTER STATE",
        ]
    );
    assert_eq!(sim.state(0, VID), Some(State::Stop));
    let stop_notify = sim.routers[0]
        .actions
        .iter()
        .any(|(t, a)| *t == stop && matches!(a, Action::Notify(n) if n.state == NotifyState::Stop));
    assert!(stop_notify);
    assert_eq!(sim.masters(VID), vec![1]);
}

#[test]
fn b_script_failure_then_c_recovery_preempts_after_own_timer() {
    let mut sim = lab(2);
    let fail = Instant::from_millis(10_050);
    sim.run_until(fail);
    sim.event(0, script(false));
    sim.run_until(Instant::from_millis(20_000));
    // (b): n1 drops to 100 but stays master; n2 discards the lower adverts and takes over
    // a master-down interval after the last accepted (priority 102) advert
    let last_102 = sim
        .sent
        .iter()
        .filter(|s| s.router == 0 && s.transmit.advert.priority == 102)
        .map(|s| s.at)
        .max()
        .unwrap();
    let n2_master = became(&sim, 1, State::Master, fail);
    assert_eq!(n2_master, last_102 + master_down(101));
    assert_eq!(became(&sim, 0, State::Backup, fail), n2_master);
    assert_eq!(
        lines(&sim, 0, fail),
        [
            "(VI_1) Changing effective priority from 102 to 100",
            "(VI_1) Master received advert from 198.18.22.2 with higher priority 101, ours 100",
            "(VI_1) Entering BACKUP STATE",
            "(VI_1) removing VIPs.",
        ]
    );
    let n2 = lines(&sim, 1, fail);
    assert_eq!(
        n2.iter()
            .filter(|l| *l
                == "(VI_1) received lower priority (100) advert from 198.18.22.1 - discarding")
            .count(),
        3
    );

    // (c): the script recovers; n1 (102 again) discards n2's 101 adverts and takes over when
    // its own timer, set at the last accepted advert while it was at 100, runs out
    let recover = Instant::from_millis(20_020);
    sim.run_until(recover);
    sim.event(0, script(true));
    sim.run_until(Instant::from_millis(30_000));
    let last_accepted = last_advert(&sim, 1, recover);
    let n1_master = became(&sim, 0, State::Master, recover);
    assert_eq!(n1_master, last_accepted + master_down(100));
    // n2 releases as soon as it hears n1's first advert
    assert_eq!(became(&sim, 1, State::Backup, recover), n1_master);
    assert!(lines(&sim, 0, recover).contains(
        &"(VI_1) received lower priority (101) advert from 198.18.22.2 - discarding".to_string()
    ));
    assert!(
        lines(&sim, 1, recover).contains(
            &"(VI_1) Master received advert from 198.18.22.1 with higher priority 102, ours 101"
                .to_string()
        )
    );
    assert_eq!(sim.masters(VID), vec![0]);
}

#[test]
fn c_restart_preempts_after_master_down() {
    let mut sim = lab(2);
    sim.run_until(Instant::from_millis(10_050));
    sim.crash(0);
    sim.run_until(Instant::from_millis(20_000));
    assert_eq!(sim.masters(VID), vec![1]);
    let restart = Instant::from_millis(20_300);
    sim.run_until(restart);
    sim.restart(0).unwrap();
    sim.event(0, script(true));
    sim.run_until(Instant::from_millis(30_000));
    // keepalived first removes stale VIPs, then BACKUP(init), then preempts
    assert!(matches!(
        sim.routers[0].actions.iter().find(|(t, _)| *t >= restart),
        Some((_, Action::RemoveVips { .. }))
    ));
    let n1_master = became(&sim, 0, State::Master, restart);
    // measured: about 50 ms to start + 3.609 s, the timer armed at start with priority 100
    // (before the script result); n1 at 102 then discards n2's 101 adverts
    assert_eq!(n1_master, restart + master_down(100));
    assert_eq!(sim.masters(VID), vec![0]);
}

#[test]
fn d_link_down_faults_and_link_up_preempts() {
    let mut sim = lab(2);
    let down = Instant::from_millis(10_050);
    sim.run_until(down);
    // the priority-0 advert cannot leave a down link
    sim.partition(0, 1, true);
    sim.event(0, Event::InterfaceDown("eth1".into()));
    assert_eq!(sim.state(0, VID), Some(State::Fault));
    sim.run_until(Instant::from_millis(20_000));
    let last = last_advert(&sim, 0, Instant::from_millis(10_000));
    assert_eq!(
        became(&sim, 1, State::Master, down),
        last + master_down(101)
    );
    assert_eq!(
        lines(&sim, 0, down),
        [
            "(VI_1) Entering FAULT STATE",
            "(VI_1) sent 0 priority",
            "(VI_1) removing VIPs.",
        ]
    );

    let up = Instant::from_millis(20_100);
    sim.run_until(up);
    sim.heal();
    sim.event(0, Event::InterfaceUp("eth1".into()));
    assert_eq!(sim.state(0, VID), Some(State::Backup));
    sim.run_until(Instant::from_millis(30_000));
    // back in BACKUP with its timer armed at link-up; n2's adverts are lower and discarded
    assert_eq!(became(&sim, 0, State::Master, up), up + master_down(102));
    assert_eq!(lines(&sim, 0, up)[0], "(VI_1) Entering BACKUP STATE");
    assert_eq!(sim.masters(VID), vec![0]);
}

#[test]
fn three_nodes_crash_next_highest_takes_over_and_third_stays_backup() {
    let mut sim = lab(3);
    let crash = Instant::from_millis(10_050);
    sim.run_until(crash);
    sim.crash(0);
    sim.run_until(Instant::from_millis(20_000));
    let last = last_advert(&sim, 0, crash);
    assert_eq!(
        became(&sim, 1, State::Master, crash),
        last + master_down(101)
    );
    assert_eq!(sim.state(2, VID), Some(State::Backup));
    assert!(
        !sim.transitions
            .iter()
            .any(|t| t.router == 2 && t.to == State::Master)
    );
}

#[test]
fn three_nodes_graceful_stop_goes_to_highest_backup() {
    let mut sim = lab(3);
    let stop = Instant::from_millis(10_050);
    sim.run_until(stop);
    sim.event(0, Event::Stop);
    sim.run_until(Instant::from_millis(20_000));
    // skews 605.5 ms (101) and 609.4 ms (100): n2 wins without jitter
    assert_eq!(
        became(&sim, 1, State::Master, stop),
        stop + us(155 * 1_000_000 / 256)
    );
    assert_eq!(sim.state(2, VID), Some(State::Backup));
}

#[test]
fn mutual_instances_crash_and_restart() {
    // the seed's mutual master/backup: VI_1 vrid 100 (n1 100+2, n2 99+2),
    // VI_2 vrid 101 (n1 99, n2 100), both with chk_haproxy only on VI_1
    let mut sim = Sim::new(7, Link::fixed(Duration::ZERO));
    let mut vi2_n1 = lab_config("VI_2", 101, 1, 99, false);
    vi2_n1.vips = vec![ip(250)];
    vi2_n1.auth = Auth::pass(b"22222");
    let mut vi2_n2 = vi2_n1.clone();
    vi2_n2.source = ip(2);
    vi2_n2.priority = 100;
    let mut vi1_n1 = lab_config("VI_1", 100, 1, 100, true);
    let mut vi1_n2 = lab_config("VI_1", 100, 2, 99, true);
    vi1_n1.vips = vec![ip(249)];
    vi1_n2.vips = vec![ip(249)];
    sim.add_router(ip(1), vec![vi1_n1, vi2_n1]).unwrap();
    sim.add_router(ip(2), vec![vi1_n2, vi2_n2]).unwrap();
    for r in 0..2 {
        sim.event(r, Event::Start);
        sim.event(r, script(true));
    }
    sim.run_until(Instant::from_millis(10_000));
    assert_eq!(sim.masters(100), vec![0]);
    assert_eq!(sim.masters(101), vec![1]);

    let crash = Instant::from_millis(10_050);
    sim.run_until(crash);
    sim.crash(0);
    sim.run_until(Instant::from_millis(20_000));
    let last = last_advert(&sim, 0, crash);
    assert_eq!(
        became(&sim, 1, State::Master, crash),
        last + master_down(101)
    );
    assert_eq!(sim.masters(100), vec![1]);
    assert_eq!(sim.masters(101), vec![1]);

    let restart = Instant::from_millis(20_300);
    sim.run_until(restart);
    sim.restart(0).unwrap();
    sim.event(0, script(true));
    sim.run_until(Instant::from_millis(30_000));
    assert_eq!(sim.masters(100), vec![0], "VI_1 back on n1");
    assert_eq!(sim.masters(101), vec![1], "VI_2 stays on n2");
    let vi2_moves = sim
        .transitions
        .iter()
        .filter(|t| t.vrid == 101 && t.at >= restart && t.to == State::Master)
        .count();
    assert_eq!(vi2_moves, 0);
}
