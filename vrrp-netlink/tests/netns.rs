//! End-to-end checks in two network namespaces joined by a veth pair
//! (A: eth1 198.18.40.1/24, B: eth1 198.18.40.2/24). Each test builds its own pair under
//! a unique `vnt-` name and deletes it on the way out, panics included. The code under
//! test runs on a thread that entered the namespace before building its own
//! current-thread runtime. Without root the tests print why and pass.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use vrrp_core::wire::{MULTICAST_V4, MULTICAST_V6};
use vrrp_core::{AdvertRepr, Auth, Family, IpPair, Packet, Version};
use vrrp_netlink::{
    Announcer, Error, LinkWatcher, Netlink, Scope, Vip, VrrpSocket, enter_netns, garp_frame,
    unsolicited_na_frame,
};

const A_ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 40, 1);
const B_ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 40, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 40, 249);
/// Bound on every wait, so a broken test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(5);

/// The VRRPv2 advert captured from keepalived in the lab (MEASURED.md).
const KEEPALIVED_ADVERT: [u8; 20] = [
    0x21, 0x4d, 0x66, 0x01, 0x01, 0x01, 0x07, 0x42, 0xc6, 0x12, 0x16, 0xf9, 0x31, 0x31, 0x31, 0x31,
    0x31, 0x00, 0x00, 0x00,
];

fn skip_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_string));
    if euid.as_deref() != Some("0") {
        return Some("not running as root".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("iproute2 `ip` not found".into());
    }
    None
}

macro_rules! need_root {
    () => {
        if let Some(why) = skip_reason() {
            eprintln!("skipping {}: {why}", module_path!());
            return;
        }
    };
}

/// Runs a command line (words split on whitespace; none of ours contain spaces).
fn run(cmdline: &str) -> Result<String, String> {
    let mut words = cmdline.split_whitespace();
    let prog = words.next().ok_or("empty command")?;
    let out = Command::new(prog)
        .args(words)
        .output()
        .map_err(|e| format!("{cmdline}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmdline}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Two namespaces and a veth pair, deleted on drop.
struct Lab {
    a: String,
    b: String,
}

impl Lab {
    fn new() -> Lab {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let base = format!("vnt-{}-{n}", std::process::id());
        let lab = Lab {
            a: format!("{base}-a"),
            b: format!("{base}-b"),
        };
        if let Err(e) = lab.setup() {
            panic!("building the namespaces: {e}");
        }
        lab
    }

    fn setup(&self) -> Result<(), String> {
        let (a, b) = (self.a.as_str(), self.b.as_str());
        for ns in [a, b] {
            run(&format!("ip netns add {ns}"))?;
            run(&format!("ip -n {ns} link set lo up"))?;
            // link-local addresses usable at once, without duplicate detection
            run(&format!(
                "ip netns exec {ns} sysctl -qw net.ipv6.conf.default.accept_dad=0 \
                 net.ipv6.conf.all.accept_dad=0"
            ))?;
        }
        run(&format!(
            "ip -n {a} link add eth1 type veth peer name eth1 netns {b}"
        ))?;
        run(&format!("ip -n {a} addr add 198.18.40.1/24 dev eth1"))?;
        run(&format!("ip -n {b} addr add 198.18.40.2/24 dev eth1"))?;
        // A accepts gratuitous ARP into its neighbour table
        run(&format!(
            "ip netns exec {a} sysctl -qw net.ipv4.conf.all.arp_accept=1 \
             net.ipv4.conf.eth1.arp_accept=1"
        ))?;
        run(&format!("ip -n {a} link set eth1 up"))?;
        run(&format!("ip -n {b} link set eth1 up"))?;
        Ok(())
    }
}

impl Lab {
    /// Waits until both sides have a usable link-local address: before that an IPv6
    /// stack may drop what arrives.
    fn wait_ipv6_ready(&self) {
        for ns in [&self.a, &self.b] {
            let ready = eventually(|| {
                run(&format!("ip -n {ns} -6 addr show dev eth1 scope link"))
                    .is_ok_and(|o| o.contains("inet6 fe80:") && !o.contains("tentative"))
            });
            assert!(ready, "{ns}: no usable link-local address on eth1");
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = run(&format!("ip netns del {ns}"));
        }
    }
}

/// Runs `f` on a new thread inside namespace `ns`, on its own current-thread runtime.
fn in_ns<T, F, Fut>(ns: &str, f: F) -> std::thread::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    let ns = ns.to_string();
    std::thread::spawn(move || {
        enter_netns(&ns).unwrap_or_else(|e| panic!("entering {ns}: {e}"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        rt.block_on(f())
    })
}

fn join<T>(h: std::thread::JoinHandle<T>) -> T {
    match h.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Polls `cond` every 20 ms until it holds or [`BOUND`] passes.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + BOUND;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

#[test]
fn advert_v4_arrives_with_ttl_255_tos_c0_and_source() {
    need_root!();
    let lab = Lab::new();
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = in_ns(&lab.b, move || async move {
        let sock = VrrpSocket::open("eth1", Family::V4).expect("open in B");
        // a second raw socket sees the same datagrams with their IP header intact
        let spy = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
        spy.set_read_timeout(Some(BOUND)).unwrap();
        ready_tx.send(sock.ifindex()).unwrap();
        let mut got = Vec::new();
        for _ in 0..2 {
            let mut buf = [0u8; 2048];
            let (meta, n) = tokio::time::timeout(BOUND, sock.recv(&mut buf))
                .await
                .expect("advert within the bound")
                .expect("recv");
            got.push((meta, buf[..n].to_vec()));
        }
        let mut raw = [0u8; 2048];
        let n = (&spy).read(&mut raw).expect("spy read");
        (got, raw[..n].to_vec())
    });
    let b_index = ready_rx.recv_timeout(BOUND).expect("B ready");
    let sender = in_ns(&lab.a, move || async move {
        let mut sock = VrrpSocket::open("eth1", Family::V4).expect("open in A");
        sock.set_source(IpAddr::V4(A_ADDR)).unwrap();
        sock.send(IpAddr::V4(MULTICAST_V4), &KEEPALIVED_ADVERT)
            .await
            .expect("multicast send");
        sock.send_from(IpAddr::V4(A_ADDR), IpAddr::V4(B_ADDR), &KEEPALIVED_ADVERT)
            .await
            .expect("unicast send");
        // a family mismatch is an error, not a panic
        assert!(matches!(
            sock.send(IpAddr::V6(Ipv6Addr::LOCALHOST), &KEEPALIVED_ADVERT)
                .await,
            Err(Error::InvalidArgument(_))
        ));
    });
    join(sender);
    let (got, raw) = join(receiver);
    let (m, payload) = &got[0];
    assert_eq!(m.src, IpAddr::V4(A_ADDR));
    assert_eq!(m.dst, IpAddr::V4(MULTICAST_V4));
    assert_eq!(m.ttl, 255);
    assert_eq!(m.ifindex, b_index);
    assert_eq!(payload.as_slice(), &KEEPALIVED_ADVERT);
    let (u, upayload) = &got[1];
    assert_eq!(
        (u.src, u.dst, u.ttl),
        (IpAddr::V4(A_ADDR), IpAddr::V4(B_ADDR), 255)
    );
    assert_eq!(upayload.as_slice(), &KEEPALIVED_ADVERT);
    // the IP header as keepalived writes it: TOS 0xc0, no DF, TTL 255, protocol 112
    assert_eq!(raw[0], 0x45);
    assert_eq!(raw[1], 0xc0, "TOS");
    assert_eq!(raw[6] & 0x40, 0, "DF must be clear");
    assert_eq!((raw[8], raw[9]), (255, 112));
    assert_eq!(raw[12..16], A_ADDR.octets());
    assert_eq!(raw[16..20], MULTICAST_V4.octets());
    assert_eq!(&raw[20..], &KEEPALIVED_ADVERT);
}

#[test]
fn advert_v3_over_ipv6_arrives_with_hop_limit_and_checksum_intact() {
    need_root!();
    let lab = Lab::new();
    lab.wait_ipv6_ready();
    let a_ll = join(in_ns(&lab.a, || async {
        let nl = Netlink::connect().expect("netlink");
        let info = nl.interface("eth1").await.expect("interface");
        info.link_local_v6.expect("a link-local address on eth1")
    }));
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = in_ns(&lab.b, move || async move {
        let sock = VrrpSocket::open("eth1", Family::V6).expect("open v6 in B");
        ready_tx.send(sock.ifindex()).unwrap();
        let mut buf = [0u8; 2048];
        let (meta, n) = tokio::time::timeout(BOUND, sock.recv(&mut buf))
            .await
            .expect("advert within the bound")
            .expect("recv");
        (meta, buf[..n].to_vec())
    });
    let b_index = ready_rx.recv_timeout(BOUND).expect("B ready");
    let advert = AdvertRepr {
        version: Version::V3,
        vrid: 51,
        priority: 150,
        interval_centis: 100,
        auth: Auth::None,
        addresses: vec!["fe80::249".parse().unwrap()],
    };
    let ips = IpPair {
        src: IpAddr::V6(a_ll),
        dst: IpAddr::V6(MULTICAST_V6),
    };
    let payload = advert.to_bytes(&ips).expect("emit");
    let sent = payload.clone();
    join(in_ns(&lab.a, move || async move {
        let sock = VrrpSocket::open("eth1", Family::V6).expect("open v6 in A");
        sock.send_from(IpAddr::V6(a_ll), IpAddr::V6(MULTICAST_V6), &sent)
            .await
            .expect("send v6");
    }));
    let (meta, got) = join(receiver);
    assert_eq!(meta.src, IpAddr::V6(a_ll));
    assert_eq!(meta.dst, IpAddr::V6(MULTICAST_V6));
    assert_eq!(meta.ttl, 255);
    assert_eq!(meta.ifindex, b_index);
    assert_eq!(got, payload);
    let packet = Packet::new_checked(&got[..], Family::V6).expect("checked");
    assert_eq!(
        AdvertRepr::parse(&packet, &meta.ips()).expect("checksum"),
        advert
    );
}

#[test]
fn vip_added_with_label_shows_in_ip_addr_and_is_removed() {
    need_root!();
    let lab = Lab::new();
    let b = lab.b.clone();
    let mut vip = Vip::new(IpAddr::V4(VIP), 24, "eth1");
    vip.label = Some("eth1:vi1".into());
    vip.broadcast = Some(Ipv4Addr::new(198, 18, 40, 255));
    let mut v6 = Vip::new("fe80::249".parse().unwrap(), 64, "eth1");
    v6.scope = Scope::Link;
    let show = move |b: &str| run(&format!("ip -n {b} addr show dev eth1")).unwrap();
    let (step_tx, step_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (vip2, v62) = (vip.clone(), v6.clone());
    let worker = in_ns(&lab.b, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let before = nl.interface("eth1").await.expect("eth1");
        // removing what is not there, as keepalived's startup does, is fine
        nl.remove_vip(&vip2).await.expect("remove absent");
        nl.add_vip(&vip2).await.expect("add");
        nl.add_vip(&vip2).await.expect("add again");
        nl.add_vip(&v62).await.expect("add v6");
        let after = nl.interface("eth1").await.expect("eth1");
        done_tx.send(()).unwrap();
        step_rx.recv_timeout(BOUND).expect("step");
        nl.remove_vip(&vip2).await.expect("remove");
        nl.remove_vip(&vip2).await.expect("remove again");
        nl.remove_vip(&v62).await.expect("remove v6");
        let missing = nl.interface("vnt-none").await;
        let bad_dev = nl.add_vip(&Vip::new(IpAddr::V4(VIP), 24, "vnt-none")).await;
        (before, after, missing, bad_dev)
    });
    done_rx.recv_timeout(BOUND).expect("added");
    let added = show(&b);
    assert!(
        added.contains("inet 198.18.40.249/24 brd 198.18.40.255 scope global secondary eth1:vi1"),
        "{added}"
    );
    assert!(added.contains("inet6 fe80::249/64 scope link"), "{added}");
    step_tx.send(()).unwrap();
    let (before, after, missing, bad_dev) = join(worker);
    let removed = show(&b);
    assert!(!removed.contains("198.18.40.249"), "{removed}");
    assert!(!removed.contains("fe80::249/"), "{removed}");
    // interface facts: the primary address stays the first non-secondary one
    assert_eq!(before.primary_v4, Some(B_ADDR));
    assert_eq!(after.primary_v4, Some(B_ADDR));
    assert!(before.up);
    assert!(before.mac.is_some());
    let idx = run(&format!(
        "ip netns exec {b} cat /sys/class/net/eth1/ifindex"
    ))
    .unwrap();
    assert_eq!(idx.trim().parse::<u32>().ok(), Some(before.index));
    assert!(matches!(missing, Err(Error::NoSuchInterface(n)) if n == "vnt-none"));
    assert!(matches!(bad_dev, Err(Error::NoSuchInterface(_))));
}

#[test]
fn gratuitous_arp_from_b_updates_a_and_matches_the_frame() {
    need_root!();
    let lab = Lab::new();
    // capture in A before B sends
    let (cap_tx, cap_rx) = mpsc::channel();
    let capture = in_ns(&lab.a, move || async move {
        let proto = i32::from(0x0806u16.to_be());
        let s = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(proto))).unwrap();
        s.set_read_timeout(Some(BOUND)).unwrap();
        cap_tx.send(()).unwrap();
        let end = Instant::now() + BOUND;
        while Instant::now() < end {
            let mut f = [0u8; 1514];
            let Ok(n) = (&s).read(&mut f) else { break };
            // ARP request whose sender IP is the VIP
            if n >= 42 && f[21] == 1 && f[28..32] == VIP.octets() {
                return Some(f[..n].to_vec());
            }
        }
        None
    });
    cap_rx.recv_timeout(BOUND).expect("capture ready");
    let mac = join(in_ns(&lab.b, || async {
        let nl = Netlink::connect().expect("netlink");
        let info = nl.interface("eth1").await.expect("eth1");
        let ann = Announcer::open(&info).expect("announcer");
        ann.announce(IpAddr::V4(VIP)).await.expect("garp");
        info.mac.expect("mac")
    }));
    let frame = join(capture).expect("GARP seen in A");
    assert_eq!(frame[..42], garp_frame(mac, VIP));
    let mac_text = mac.map(|b| format!("{b:02x}")).join(":");
    let a = lab.a.clone();
    assert!(
        eventually(
            || run(&format!("ip -n {a} neigh show 198.18.40.249 dev eth1"))
                .is_ok_and(|o| o.contains(&mac_text))
        ),
        "A's neighbour table never learned {mac_text} for the VIP"
    );
}

#[test]
fn unsolicited_na_passes_the_kernels_icmpv6_checks() {
    need_root!();
    let lab = Lab::new();
    let target: Ipv6Addr = "fe80::249".parse().unwrap();
    lab.wait_ipv6_ready();
    let (cap_tx, cap_rx) = mpsc::channel();
    // a raw ICMPv6 socket only sees messages whose checksum the kernel verified
    let capture = in_ns(&lab.a, move || async move {
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).unwrap();
        s.set_read_timeout(Some(BOUND)).unwrap();
        let pspy = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(i32::from(0x86ddu16.to_be()))),
        )
        .unwrap();
        pspy.set_read_timeout(Some(BOUND)).unwrap();
        cap_tx.send(()).unwrap();
        let mut icmp = None;
        let end = Instant::now() + BOUND;
        while icmp.is_none() && Instant::now() < end {
            let mut m = [0u8; 1500];
            let Ok(n) = (&s).read(&mut m) else { break };
            if n >= 24 && m[0] == 136 && m[8..24] == target.octets() {
                icmp = Some(m[..n].to_vec());
            }
        }
        let mut frame = None;
        while frame.is_none() && Instant::now() < end {
            let mut f = [0u8; 1514];
            let Ok(n) = (&pspy).read(&mut f) else { break };
            if n >= 86 && f[54] == 136 && f[62..78] == target.octets() {
                frame = Some(f[..n].to_vec());
            }
        }
        (icmp, frame)
    });
    cap_rx.recv_timeout(BOUND).expect("capture ready");
    let mac = join(in_ns(&lab.b, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let info = nl.interface("eth1").await.expect("eth1");
        let ann = Announcer::open(&info).expect("announcer");
        ann.announce(IpAddr::V6(target)).await.expect("na");
        info.mac.expect("mac")
    }));
    let (icmp, frame) = join(capture);
    let icmp = icmp.expect("NA delivered to A's ICMPv6 socket");
    assert_eq!(icmp[4] & 0x20, 0x20, "override flag");
    assert_eq!(icmp[24..32], [[2u8, 1].as_slice(), &mac].concat()[..]);
    let frame = frame.expect("NA frame captured in A");
    assert_eq!(frame[..86], unsolicited_na_frame(mac, target, false));
}

#[test]
fn link_down_and_up_in_b_are_reported() {
    need_root!();
    let lab = Lab::new();
    let (ev_tx, ev_rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    let watcher = in_ns(&lab.b, move || async move {
        let mut w = LinkWatcher::subscribe().expect("subscribe");
        ready_tx.send(()).unwrap();
        let mut seen_down = false;
        loop {
            let ev = match tokio::time::timeout(BOUND, w.next()).await {
                Ok(Some(ev)) => ev,
                _ => return,
            };
            let is_eth1 = ev.ifname == "eth1";
            let up = ev.up;
            if ev_tx.send(ev).is_err() {
                return;
            }
            if is_eth1 && !up {
                seen_down = true;
            } else if is_eth1 && up && seen_down {
                return;
            }
        }
    });
    ready_rx.recv_timeout(BOUND).expect("watcher ready");
    let wait_for = |up: bool| loop {
        let ev = ev_rx
            .recv_timeout(BOUND)
            .expect("link event within the bound");
        if ev.ifname == "eth1" && ev.up == up {
            return ev;
        }
    };
    run(&format!("ip -n {} link set eth1 down", lab.b)).unwrap();
    let down = wait_for(false);
    assert_eq!(
        down.to_event(),
        vrrp_core::Event::InterfaceDown("eth1".into())
    );
    run(&format!("ip -n {} link set eth1 up", lab.b)).unwrap();
    let up = wait_for(true);
    assert_eq!(up.index, down.index);
    join(watcher);
}

#[test]
fn opening_on_a_missing_interface_is_an_error() {
    need_root!();
    let lab = Lab::new();
    let r = join(in_ns(&lab.a, || async {
        (
            VrrpSocket::open("vnt-none", Family::V4).map(|_| ()),
            enter_netns("../etc"),
        )
    }));
    assert!(matches!(r.0, Err(Error::NoSuchInterface(n)) if n == "vnt-none"));
    assert!(matches!(r.1, Err(Error::InvalidArgument(_))));
}

/// A keepalived started by a test, stopped (SIGTERM, then SIGKILL) on drop.
struct Keepalived {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Keepalived {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ka.log")).unwrap_or_default()
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        let _ = run(&format!("kill -TERM {}", self.child.id()));
        let end = Instant::now() + BOUND;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts keepalived 2.2 in `ns` as the address owner (priority 255, so MASTER at once)
/// of VRID 77 on eth1 with the VIP.
fn start_keepalived(ns: &str) -> Keepalived {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vnt-ka-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("ka.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n    state MASTER\n    interface eth1\n    virtual_router_id 77\n    \
         priority 255\n    advert_int 1\n    authentication {\n        auth_type PASS\n        \
         auth_pass 11111\n    }\n    virtual_ipaddress {\n        198.18.40.249/24 dev eth1\n    \
         }\n}\n",
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("ka.log")).unwrap();
    let err = log.try_clone().unwrap();
    // -P VRRP only, -n foreground, -l log to stdout, -D detailed, -G no syslog
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "keepalived",
            "-P",
            "-n",
            "-l",
            "-D",
            "-G",
            "-f",
        ])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("keepalived.pid"))
        .arg("-r")
        .arg(dir.join("vrrp.pid"))
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .expect("starting keepalived");
    Keepalived { child, dir }
}

#[test]
fn interop_with_keepalived_adverts_and_garp_both_ways() {
    need_root!();
    if Command::new("keepalived").arg("-v").output().is_err() {
        eprintln!("skipping: keepalived not installed");
        return;
    }
    let lab = Lab::new();
    let a_mac = join(in_ns(&lab.a, || async {
        let nl = Netlink::connect().expect("netlink");
        nl.interface("eth1").await.expect("eth1").mac.expect("mac")
    }));
    let (ready_tx, ready_rx) = mpsc::channel();
    let b_side = in_ns(&lab.b, move || async move {
        let sock = VrrpSocket::open("eth1", Family::V4).expect("open in B");
        let proto = i32::from(0x0806u16.to_be());
        let arp = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(proto))).unwrap();
        arp.set_read_timeout(Some(BOUND)).unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 2048];
        let (meta, n) = tokio::time::timeout(BOUND, sock.recv(&mut buf))
            .await
            .expect("keepalived's advert within the bound")
            .expect("recv");
        let advert = buf[..n].to_vec();
        let mut garp = None;
        let end = Instant::now() + BOUND;
        while garp.is_none() && Instant::now() < end {
            let mut f = [0u8; 1514];
            let Ok(n) = (&arp).read(&mut f) else { break };
            if n >= 42 && f[28..32] == VIP.octets() {
                garp = Some(f[..n].to_vec());
            }
        }
        // a lower-priority advert of ours: the master must accept it (and re-assert itself)
        let ours = AdvertRepr {
            version: Version::V2,
            vrid: 77,
            priority: 254,
            interval_centis: 100,
            auth: Auth::pass(b"11111"),
            addresses: vec![IpAddr::V4(VIP)],
        };
        let ips = IpPair {
            src: IpAddr::V4(B_ADDR),
            dst: IpAddr::V4(MULTICAST_V4),
        };
        let bytes = ours.to_bytes(&ips).expect("emit");
        sock.send_from(ips.src, ips.dst, &bytes)
            .await
            .expect("send to keepalived");
        (meta, advert, garp)
    });
    ready_rx.recv_timeout(BOUND).expect("B ready");
    let ka = start_keepalived(&lab.a);
    let (meta, advert, garp) = join(b_side);
    assert_eq!(meta.src, IpAddr::V4(A_ADDR));
    assert_eq!(meta.dst, IpAddr::V4(MULTICAST_V4));
    assert_eq!(meta.ttl, 255);
    let packet = Packet::new_checked(&advert[..], Family::V4).expect("checked");
    let parsed = AdvertRepr::parse(&packet, &meta.ips()).expect("keepalived's checksum");
    assert_eq!((parsed.vrid, parsed.priority), (77, 255));
    assert_eq!(parsed.addresses, vec![IpAddr::V4(VIP)]);
    assert_eq!(parsed.auth, Auth::pass(b"11111"));
    let garp = garp.expect("keepalived's gratuitous ARP");
    assert_eq!(
        garp[..],
        garp_frame(a_mac, VIP)[..],
        "our GARP is keepalived's frame"
    );
    let wanted = "Received advert from 198.18.40.2 with lower priority 254, ours 255";
    assert!(
        eventually(|| ka.log().contains(wanted)),
        "keepalived did not take our advert in:\n{}",
        ka.log()
    );
    assert!(!ka.log().contains("invalid"), "{}", ka.log());
}
