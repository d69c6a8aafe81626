//! The daemon's pure and local pieces: argv splitting, the configuration mapping,
//! log line formats, the SMTP exchange against a server on loopback, the script
//! runner, user lookups and the pid file.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keepalived_daemon::Error;
use keepalived_daemon::argv::split;
use keepalived_daemon::log::{Level, console_line, syslog_line};
use keepalived_daemon::mapping::{InterfaceFacts, UnitPlan, plan};
use keepalived_daemon::pidfile::PidFile;
use keepalived_daemon::scripts::run_check;
use keepalived_daemon::smtp::{self, Mail};
use keepalived_daemon::tz::Zone;
use keepalived_daemon::units::Unit;
use keepalived_daemon::users::{self, Credentials};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use vrrp_core::{Auth, NotifyState, ScriptOutcome, Tracked, Version};

fn words(line: &str) -> Vec<String> {
    split(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn argv_splits_like_keepalived() {
    assert_eq!(words("killall -0 haproxy"), ["killall", "-0", "haproxy"]);
    assert_eq!(words("  /bin/x\t a  "), ["/bin/x", "a"]);
    assert_eq!(
        words(r#"/bin/sh -c 'echo "$1" > /tmp/x' sh"#),
        ["/bin/sh", "-c", r#"echo "$1" > /tmp/x"#, "sh"]
    );
    assert_eq!(words(r#"a "b c" d"#), ["a", "b c", "d"]);
    assert_eq!(words(r#"a"b c"d"#), ["ab cd"]);
    assert_eq!(words(r#"x "" y"#), ["x", "", "y"]);
    assert_eq!(words(r"a\ b c"), ["a b", "c"]);
    assert_eq!(words(r#""q\"uote""#), [r#"q"uote"#]);
    // no shell: `$(...)` and pipes stay words
    assert_eq!(
        words("test $(cat pid) | x"),
        ["test", "$(cat", "pid)", "|", "x"]
    );
    for bad in ["", "   ", "'open", "\"open", "end\\"] {
        assert!(
            matches!(split(bad), Err(Error::Command { .. })),
            "{bad:?} must fail"
        );
    }
}

const SEED_LIKE: &str = r#"
global_defs {
    notification_email {
        ops@example.com
    }
    notification_email_from root@localhost
    smtp_server 127.0.0.1
    smtp_connect_timeout 3
    router_id LVS_HAPROXY
}
vrrp_script chk_haproxy {
    script "killall -0 haproxy"
    interval 2
    weight 2
    rise 2
    fall 3
}
vrrp_script unused {
    script "/bin/true"
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth1
    virtual_router_id 77
    priority 100
    garp_master_delay 1
    advert_int 1
    nopreempt
    authentication {
        auth_type PASS
        auth_pass 11111
    }
    virtual_ipaddress {
        198.18.22.249/24 dev eth1 label eth1:vip
        198.18.22.250
    }
    track_script {
        chk_haproxy
    }
    track_interface {
        eth1
        eth2 weight -10
    }
    notify_master "/usr/local/bin/up.sh 'VI 1'"
    notify /usr/local/bin/any.sh
    smtp_alert
}
"#;

fn facts(name: &str) -> Option<InterfaceFacts> {
    (name == "eth1" || name == "eth2").then(|| InterfaceFacts {
        primary_v4: Some("198.18.22.10".parse().expect("addr")),
        link_local_v6: Some("fe80::1".parse().expect("addr")),
    })
}

fn parse(text: &str) -> vrrp_config::Config {
    vrrp_config::parse_str("test.conf", text)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .config
}

#[test]
fn seed_instance_maps_onto_vrrp_core() {
    let p = plan(&parse(SEED_LIKE), facts).expect("plan");
    assert_eq!(p.units.len(), 1);
    let UnitPlan::Single(c) = &p.units[0] else {
        panic!("a lone instance");
    };
    assert_eq!(c.name, "VI_1");
    assert_eq!(c.interface, "eth1");
    assert_eq!(c.vrid, 77);
    assert_eq!(c.priority, 100);
    assert_eq!(c.version, Version::V2);
    assert_eq!(c.advert_int, Duration::from_secs(1));
    assert!(!c.preempt);
    assert_eq!(c.preempt_delay, Duration::ZERO);
    assert_eq!(c.auth, Auth::pass(b"11111"));
    assert_eq!(c.source, "198.18.22.10".parse::<IpAddr>().expect("addr"));
    assert_eq!(c.garp_master_delay, Duration::from_secs(1));
    assert_eq!(c.garp_master_repeat, 5);
    assert_eq!(
        c.vips,
        [
            "198.18.22.249".parse::<IpAddr>().expect("a"),
            "198.18.22.250".parse().expect("a")
        ]
    );
    assert_eq!(c.track_scripts, [Tracked::new("chk_haproxy", 2)]);
    // the instance's own interface is tracked anyway; only eth2 remains
    assert_eq!(c.track_interfaces, [Tracked::new("eth2", -10)]);
    assert!(p.warnings.iter().any(|w| w.contains("own interface")));
    assert!(p.warnings.iter().any(|w| w.contains("VRRP_Script(unused)")));

    let vip = p.vip("eth1", "198.18.22.249".parse().expect("addr"));
    assert_eq!((vip.prefix, vip.dev.as_str()), (24, "eth1"));
    assert_eq!(vip.label.as_deref(), Some("eth1:vip"));
    let host = p.vip("eth1", "198.18.22.250".parse().expect("addr"));
    assert_eq!(host.prefix, 32);

    assert_eq!(p.scripts.len(), 1, "unused scripts do not run");
    let s = &p.scripts[0];
    assert_eq!(s.argv, ["killall", "-0", "haproxy"]);
    assert_eq!(
        (s.interval, s.timeout),
        (Duration::from_secs(2), Duration::from_secs(2))
    );
    assert_eq!((s.rise, s.fall), (2, 3));

    let n = &p.notify["VI_1"];
    assert_eq!(
        n.master.as_deref(),
        Some(&["/usr/local/bin/up.sh".to_string(), "VI 1".to_string()][..])
    );
    assert_eq!(
        n.any.as_deref(),
        Some(&["/usr/local/bin/any.sh".to_string()][..])
    );
    assert!(n.smtp_alert);
    assert!(n.backup.is_none());

    // the plan builds and starts in vrrp-core
    let mut u = Unit::build(&p.units[0]).expect("unit");
    u.handle_event(vrrp_core::Instant::ZERO, vrrp_core::Event::Start);
    assert_eq!(u.members()[0].state(), vrrp_core::State::Backup);
}

#[test]
fn ipv6_unicast_and_sync_groups() {
    let text = r#"
vrrp_instance A {
    interface eth1
    virtual_router_id 1
    priority 150
    version 3
    advert_int 0.5
    virtual_ipaddress {
        2001:db8::10/64
    }
}
vrrp_instance B {
    interface eth1
    virtual_router_id 2
    preempt_delay 5
    unicast_src_ip 198.18.22.11
    unicast_peer {
        198.18.22.12
    }
    virtual_ipaddress {
        198.18.22.20
    }
}
vrrp_instance C {
    interface eth2
    virtual_router_id 3
    virtual_ipaddress {
        198.18.23.20
    }
}
vrrp_sync_group G {
    group {
        C
        B
    }
}
"#;
    let p = plan(&parse(text), facts).expect("plan");
    assert_eq!(p.units.len(), 2);
    let UnitPlan::Single(a) = &p.units[0] else {
        panic!("A is alone");
    };
    assert_eq!(a.version, Version::V3, "IPv6 runs VRRPv3");
    assert_eq!(a.source, "fe80::1".parse::<IpAddr>().expect("addr"));
    assert_eq!(a.advert_int, Duration::from_millis(500));
    let UnitPlan::Group { name, members } = &p.units[1] else {
        panic!("B and C are grouped");
    };
    assert_eq!(name, "G");
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["C", "B"]);
    let b = &members[1];
    assert_eq!(b.source, "198.18.22.11".parse::<IpAddr>().expect("addr"));
    assert_eq!(
        b.unicast_peers,
        ["198.18.22.12".parse::<IpAddr>().expect("addr")]
    );
    assert!(b.preempt);
    assert_eq!(b.preempt_delay, Duration::from_secs(5));
    let u = Unit::build(&p.units[1]).expect("group builds");
    assert_eq!(u.group_name(), Some("G"));
    assert!(u.member("eth1", vrrp_core::Family::V4, 2).is_some());
    assert!(u.member("eth2", vrrp_core::Family::V4, 2).is_none());
}

#[test]
fn mapping_errors_name_the_instance() {
    let missing = "vrrp_instance X {\n interface nope0\n virtual_router_id 9\n virtual_ipaddress {\n 198.18.1.1\n }\n}\n";
    let e = plan(&parse(missing), facts).expect_err("unknown interface");
    assert!(e.to_string().contains("nope0"), "{e}");
    let no_addr = "vrrp_instance X {\n interface eth1\n virtual_router_id 9\n virtual_ipaddress {\n 198.18.1.1\n }\n}\n";
    let e = plan(&parse(no_addr), |_| Some(InterfaceFacts::default())).expect_err("no source");
    assert!(matches!(e, Error::NoSource { .. }), "{e}");
    assert!(e.to_string().contains("(X)"), "{e}");
    let reverse = "vrrp_script s {\n script /bin/true\n weight 5 reverse\n}\nvrrp_instance X {\n interface eth1\n virtual_router_id 9\n virtual_ipaddress {\n 198.18.1.1\n }\n track_script {\n s\n }\n}\n";
    let e = plan(&parse(reverse), facts).expect_err("reverse");
    assert!(e.to_string().contains("reverse"), "{e}");
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn log_lines_are_worded_as_keepalived() {
    let utc = Zone::utc();
    // 2026-11-28 08:51:37 UTC, a Saturday
    let t = at(1_795_855_897);
    assert_eq!(
        console_line(t, &utc, "(VI_1) Entering MASTER STATE"),
        "Sat Nov 28 08:51:37 2026: (VI_1) Entering MASTER STATE"
    );
    assert_eq!(
        syslog_line(
            at(1_795_856_700),
            &utc,
            Level::Info,
            "Keepalived_vrrp",
            5489,
            "(VI_1) Entering MASTER STATE"
        ),
        "<30>Nov 28 09:05:00 Keepalived_vrrp[5489]: (VI_1) Entering MASTER STATE"
    );
    // single-digit days are space-padded in syslog, zero-padded on the console
    let mar1 = at(1_709_251_200); // 2024-03-01 00:00:00, a Friday after Feb 29
    assert_eq!(console_line(mar1, &utc, "x"), "Fri Mar 01 00:00:00 2024: x");
    assert_eq!(
        syslog_line(mar1, &utc, Level::Warning, "Keepalived_vrrp", 1, "x"),
        "<28>Mar  1 00:00:00 Keepalived_vrrp[1]: x"
    );
    assert_eq!(
        console_line(at(0), &utc, "e"),
        "Thu Jan 01 00:00:00 1970: e"
    );
}

#[test]
fn alert_wording() {
    let (s, b) = smtp::instance_alert("LVS_HAPROXY", "VI_1", NotifyState::Master);
    assert_eq!(
        s,
        "[LVS_HAPROXY] VRRP Instance VI_1 - Entering MASTER state"
    );
    assert_eq!(b, "=> VRRP Instance is now owning VRRP VIPs <=");
    let (s, b) = smtp::instance_alert("R", "VI_1", NotifyState::Backup);
    assert_eq!(s, "[R] VRRP Instance VI_1 - Entering BACKUP state");
    assert_eq!(b, "=> VRRP Instance is no longer owning VRRP VIPs <=");
    let (s, _) = smtp::group_alert("R", "G", NotifyState::Fault);
    assert_eq!(s, "[R] VRRP Group G - Entering FAULT state");
    assert_eq!(
        smtp::date_header(at(1_795_855_897), &Zone::utc()),
        "Sat, 28 Nov 2026 08:51:37 +0000"
    );
}

/// A one-connection SMTP server: replies as scripted and records what it read.
async fn smtp_server(refuse_rcpt: bool) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr").to_string();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        let Ok((sock, _)) = listener.accept().await else {
            return seen;
        };
        let (rd, mut wr) = sock.into_split();
        let mut rd = BufReader::new(rd);
        let _ = wr
            .write_all(b"220-test.example ESMTP\r\n220 ready\r\n")
            .await;
        let mut in_data = false;
        loop {
            let mut line = String::new();
            match rd.read_line(&mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            seen.push(line.clone());
            let reply: &[u8] = if in_data {
                if line != ".\r\n" {
                    continue;
                }
                in_data = false;
                b"250 queued\r\n"
            } else if line.starts_with("DATA") {
                in_data = true;
                b"354 go ahead\r\n"
            } else if line.starts_with("RCPT") && refuse_rcpt {
                b"550 no such user\r\n"
            } else if line.starts_with("QUIT") {
                let _ = wr.write_all(b"221 bye\r\n").await;
                break;
            } else {
                b"250 ok\r\n"
            };
            if wr.write_all(reply).await.is_err() {
                break;
            }
        }
        seen
    });
    (addr, task)
}

fn mail() -> Mail {
    Mail {
        from: "root@localhost".into(),
        to: vec!["a@example.com".into(), "b@example.com".into()],
        subject: "[R] VRRP Instance VI_1 - Entering MASTER state".into(),
        body: "=> VRRP Instance is now owning VRRP VIPs <=\n.dot line".into(),
    }
}

#[tokio::test]
async fn smtp_exchange_against_a_loopback_server() {
    let (addr, server) = smtp_server(false).await;
    smtp::send(&addr, "node1", &mail(), Duration::from_secs(5))
        .await
        .expect("mail sent");
    let seen = server.await.expect("server task");
    let text = seen.concat();
    let commands: Vec<&str> = seen
        .iter()
        .map(String::as_str)
        .filter(|l| {
            ["HELO", "MAIL", "RCPT", "DATA", "QUIT"]
                .iter()
                .any(|c| l.starts_with(c))
        })
        .collect();
    assert_eq!(
        commands,
        [
            "HELO node1\r\n",
            "MAIL FROM:<root@localhost>\r\n",
            "RCPT TO:<a@example.com>\r\n",
            "RCPT TO:<b@example.com>\r\n",
            "DATA\r\n",
            "QUIT\r\n"
        ]
    );
    assert!(text.contains("From: root@localhost\r\n"), "{text}");
    assert!(
        text.contains("Subject: [R] VRRP Instance VI_1 - Entering MASTER state\r\n"),
        "{text}"
    );
    assert!(text.contains("X-Mailer: Keepalived\r\n"), "{text}");
    assert!(
        text.contains("To: a@example.com, b@example.com\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n"));
    // a body line starting with a dot is stuffed, so it cannot end DATA early
    assert!(text.contains("\r\n..dot line\r\n"), "{text}");
}

#[tokio::test]
async fn smtp_refusal_and_unreachable_server_are_errors() {
    let (addr, server) = smtp_server(true).await;
    let e = smtp::send(&addr, "n", &mail(), Duration::from_secs(5))
        .await
        .expect_err("RCPT refused");
    assert!(e.to_string().contains("RCPT refused: 550"), "{e}");
    drop(server);
    // a port nobody listens on (bound, then closed)
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let e = smtp::send(
        &format!("127.0.0.1:{port}"),
        "n",
        &mail(),
        Duration::from_secs(2),
    )
    .await
    .expect_err("nobody listens");
    assert!(matches!(e, Error::Smtp { .. }), "{e}");
}

#[tokio::test]
async fn checks_report_status_signal_and_timeout() {
    let me = Credentials::ROOT;
    let t = Duration::from_secs(5);
    let argv = |s: &str| split(s).expect("argv");
    assert_eq!(
        run_check(&argv("/bin/true"), me, t).await,
        ScriptOutcome::Exited(0)
    );
    assert_eq!(
        run_check(&argv("/bin/sh -c 'exit 3'"), me, t).await,
        ScriptOutcome::Exited(3)
    );
    assert_eq!(
        run_check(&argv("/bin/sh -c 'kill -TERM $$'"), me, t).await,
        ScriptOutcome::Signalled(15)
    );
    assert_eq!(
        run_check(&argv("/bin/sleep 30"), me, Duration::from_millis(200)).await,
        ScriptOutcome::TimedOut
    );
    assert_eq!(
        run_check(&argv("/nonexistent/check"), me, t).await,
        ScriptOutcome::Exited(127)
    );
}

#[test]
fn user_lookups() {
    let passwd = "root:x:0:0:root:/root:/bin/bash\nkeepalived_script:x:998:997::/:/sbin/nologin\n";
    let group = "root:x:0:\nhaproxy:x:120:\n";
    assert_eq!(
        users::parse_passwd(passwd, "keepalived_script"),
        Some(Credentials { uid: 998, gid: 997 })
    );
    assert_eq!(users::parse_passwd(passwd, "nobody_here"), None);
    assert_eq!(
        users::parse_passwd(passwd, "1234"),
        Some(Credentials {
            uid: 1234,
            gid: 1234
        })
    );
    assert_eq!(users::parse_group(group, "haproxy"), Some(120));
    assert_eq!(users::parse_group(group, "nope"), None);

    let dir = tempdir("users");
    std::fs::write(dir.join("passwd"), passwd).expect("passwd");
    std::fs::write(dir.join("group"), group).expect("group");
    assert_eq!(
        users::lookup_in(&dir, "keepalived_script", Some("haproxy")).expect("found"),
        Credentials { uid: 998, gid: 120 }
    );
    assert!(matches!(
        users::lookup_in(&dir, "root", Some("nope")),
        Err(Error::NoSuchUser { kind: "group", .. })
    ));
    assert_eq!(
        users::default_script_user(&dir),
        (Credentials { uid: 998, gid: 997 }, false)
    );
    std::fs::write(dir.join("passwd"), "root:x:0:0::/:/bin/sh\n").expect("passwd");
    assert_eq!(users::default_script_user(&dir), (Credentials::ROOT, true));
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keepalivedd-logic-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn pid_file_refuses_a_live_daemon() {
    let dir = tempdir("pid");
    let path = dir.join("k.pid");
    // pid 1 is always alive
    std::fs::write(&path, "1\n").expect("write");
    let e = PidFile::create(&path, std::process::id()).expect_err("pid 1 is alive");
    assert!(e.to_string().contains("daemon is already running"), "{e}");
    // a stale pid is overwritten, and the file goes away with the guard
    std::fs::write(&path, "999999999\n").expect("write");
    {
        let p = PidFile::create(&path, std::process::id()).expect("stale pid");
        let text = std::fs::read_to_string(p.path()).expect("read");
        assert_eq!(text, format!("{}\n", std::process::id()));
    }
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sync_group_reports_each_shared_state_once() {
    let text = "vrrp_instance A {\n interface eth1\n virtual_router_id 1\n virtual_ipaddress {\n 198.18.22.20\n }\n}\n\
                vrrp_instance B {\n interface eth2\n virtual_router_id 2\n virtual_ipaddress {\n 198.18.23.20\n }\n}\n\
                vrrp_sync_group G {\n group {\n A\n B\n }\n}\n";
    let p = plan(&parse(text), facts).expect("plan");
    let mut u = Unit::build(&p.units[0]).expect("group");
    assert_eq!(u.group_transition(), None, "not started");
    let t0 = vrrp_core::Instant::ZERO;
    u.handle_event(t0, vrrp_core::Event::Start);
    assert_eq!(
        u.group_transition(),
        Some(("G".into(), vrrp_core::State::Backup))
    );
    assert_eq!(u.group_transition(), None);
    let deadline = u.poll_timeout().expect("master-down timer");
    u.handle_timeout(deadline);
    assert_eq!(
        u.group_transition(),
        Some(("G".into(), vrrp_core::State::Master))
    );
    // each member's advert is attributed to its own interface
    let mut seen = Vec::new();
    while let Some(t) = u.poll_transmit() {
        seen.push(u.sender(&t).map(|c| c.interface.clone()));
    }
    seen.sort();
    assert_eq!(seen, [Some("eth1".to_string()), Some("eth2".to_string())]);
    // eth2 down: the whole group goes to FAULT
    u.handle_event(deadline, vrrp_core::Event::InterfaceDown("eth2".into()));
    assert_eq!(
        u.group_transition(),
        Some(("G".into(), vrrp_core::State::Fault))
    );
    let ifaces: Vec<&str> = u.interfaces().collect();
    assert_eq!(ifaces, ["eth1", "eth2"]);
}

#[test]
fn local_time_follows_the_zone_file() {
    // garbage and truncated files are refused, never a panic
    assert_eq!(Zone::parse(b""), None);
    assert_eq!(Zone::parse(b"TZif2 not really"), None);
    let mut huge = b"TZif2".to_vec();
    huge.resize(44, 0);
    huge[32..36].copy_from_slice(&u32::MAX.to_be_bytes()); // timecnt
    assert_eq!(Zone::parse(&huge), None);
    let Ok(bytes) = std::fs::read("/usr/share/zoneinfo/Europe/Berlin") else {
        eprintln!("no tzdata for Europe/Berlin on this host");
        return;
    };
    let berlin = Zone::parse(&bytes).expect("a TZif file");
    let winter = at(1_795_855_897); // 2026-11-28 08:51:37 UTC
    let summer = at(1_782_900_000); // 2026-07-01 10:00:00 UTC
    assert_eq!(
        console_line(winter, &berlin, "m"),
        "Sat Nov 28 09:51:37 2026: m"
    );
    assert_eq!(
        console_line(summer, &berlin, "m"),
        "Wed Jul 01 12:00:00 2026: m"
    );
    assert_eq!(
        smtp::date_header(summer, &berlin),
        "Wed, 01 Jul 2026 12:00:00 +0200"
    );
    // every truncation and a corrupted count either parse or are refused, never panic
    for len in 0..bytes.len() {
        let _ = Zone::parse(&bytes[..len]);
    }
    let mut bad = bytes.clone();
    for at in (20..44).step_by(4) {
        bad[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        let _ = Zone::parse(&bad);
    }
}
