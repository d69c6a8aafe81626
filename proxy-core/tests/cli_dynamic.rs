//! The runtime API commands that change a backend's server set and limits
//! live (`set maxconn server`, `add server ... check`, `del server`), driven
//! with socat as an operator does. Expected answers are HAProxy 2.6.12's,
//! captured by data/cli/capture_checks.sh.

mod stats_util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use stats_util::{Proxy, have, http, socat};

/// An HTTP server that answers every request with its own name, so that a
/// test sees which server the balancer picked. While `healthy` is false,
/// it answers `503` instead; `hits` counts the requests it got.
struct Named {
    addr: SocketAddr,
    healthy: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
}

impl Named {
    fn start(name: &'static str) -> Named {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let healthy = Arc::new(AtomicBool::new(true));
        let hits = Arc::new(AtomicUsize::new(0));
        let (h, n) = (Arc::clone(&healthy), Arc::clone(&hits));
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let (h, n) = (Arc::clone(&h), Arc::clone(&n));
                thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            n.fetch_add(1, Ordering::SeqCst);
                            let answer = if h.load(Ordering::SeqCst) {
                                format!(
                                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{name}",
                                    name.len()
                                )
                            } else {
                                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"
                                    .to_string()
                            };
                            if s.write_all(answer.as_bytes()).is_err() {
                                return;
                            }
                        }
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                        }
                    }
                });
            }
        });
        Named {
            addr,
            healthy,
            hits,
        }
    }
}

fn socat_missing() -> bool {
    if have("socat") {
        return false;
    }
    eprintln!("skipped: socat is not installed (scripts/setup installs it)");
    true
}

/// The name of the server that answered a fresh request.
fn served_by(p: &Proxy) -> String {
    let answer = http(p.addr("web"), "GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    body.to_string()
}

/// Waits (bounded, generously) until `cond` holds on the admin socket's
/// answer to `command`, and returns that answer.
fn wait_for(p: &Proxy, command: &str, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = socat(&p.path("admin.sock"), command);
        if cond(&out) {
            return out;
        }
        assert!(Instant::now() < deadline, "{what}: last answer {out:?}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// `set maxconn server` used to rebuild the balancer, which sent the next
/// request to the first server again; the sequence now goes on.
#[test]
fn set_maxconn_server_keeps_the_roundrobin_sequence() {
    if socat_missing() {
        return;
    }
    let (a, b, c) = (Named::start("s1"), Named::start("s2"), Named::start("s3"));
    let p = Proxy::start(&config(
        "rr",
        &format!(
            "backend rr
    balance roundrobin
    server s1 {} maxconn 10
    server s2 {}
    server s3 {}
",
            a.addr, b.addr, c.addr
        ),
    ));
    let admin = p.path("admin.sock");
    let mut seen: Vec<String> = (0..4).map(|_| served_by(&p)).collect();
    assert_eq!(socat(&admin, "set maxconn server rr/s1 20\n"), "\n");
    seen.extend((0..4).map(|_| served_by(&p)));
    assert_eq!(socat(&admin, "set maxconn server rr/s2 5\n"), "\n");
    seen.extend((0..4).map(|_| served_by(&p)));
    // Equal weights: a strict rotation over the three, across both changes.
    for (i, w) in seen.windows(4).enumerate() {
        assert_eq!(w[0], w[3], "rotation broken at request {i}: {seen:?}");
        assert!(w[0] != w[1] && w[1] != w[2] && w[0] != w[2], "{seen:?}");
    }
    let state = socat(&admin, "show stat\n");
    let slim = |sv: &str| {
        state
            .lines()
            .find(|l| l.starts_with(&format!("rr,{sv},")))
            .and_then(|l| l.split(',').nth(6).map(str::to_string))
    };
    assert_eq!(slim("s1").as_deref(), Some("20"));
    assert_eq!(slim("s2").as_deref(), Some("5"));
    for s in [&a, &b, &c] {
        assert_eq!(s.hits.load(Ordering::SeqCst), 4);
    }
}

/// HAProxy's answers, captured by data/cli/capture_checks.sh: "== COMMAND"
/// then the answer.
const CAPTURED: &str = include_str!("data/cli/dyn_checks.txt");

/// The captured answer to `command`.
fn haproxy(command: &str) -> &'static str {
    let start = CAPTURED
        .find(&format!("== {command}\n"))
        .unwrap_or_else(|| panic!("not captured: {command}"))
        + command.len()
        + 4;
    let rest = &CAPTURED[start..];
    &rest[..rest.find("\n== ").map_or(rest.len(), |e| e + 1)]
}

/// `show servers state` rows by name, without the backend id and the time
/// since the last change, with the ports in `ports` (ours, HAProxy's)
/// written as HAProxy's capture has them.
fn state_rows(answer: &str, ports: &[(u16, &str)]) -> Vec<String> {
    let mut rows: Vec<String> = answer
        .lines()
        .filter(|l| !l.starts_with('#') && l.split(' ').count() > 14)
        .map(|l| {
            l.split(' ')
                .enumerate()
                .filter(|(i, _)| *i != 0 && *i != 9)
                .map(|(_, f)| {
                    ports
                        .iter()
                        .find(|(ours, _)| ours.to_string() == f)
                        .map_or(f, |(_, theirs)| theirs)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    rows.sort();
    rows
}

/// A proxy with a runtime API socket and frontend `web` serving backend
/// `default`, with `backends` (the test's sections) after them.
fn config(default: &str, backends: &str) -> String {
    format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:1
    default_backend {default}
{backends}"
    )
}

/// The backends of data/cli/capture_checks.sh, and `extra`.
fn config_with_backends(extra: &str) -> String {
    config(
        "hc",
        &format!(
            "backend dyn
    balance roundrobin
    server web1 127.0.0.1:18591
backend st
    balance static-rr
    server s1 127.0.0.1:18591
{extra}"
        ),
    )
}

/// `add server ... check` and its options answer as HAProxy's; checks start
/// disabled, run once enabled and out of maintenance, and the server is
/// listed as HAProxy lists it at each step.
#[test]
fn add_server_with_check_follows_haproxy() {
    if socat_missing() {
        return;
    }
    let target = Named::start("c1");
    let p = Proxy::start(&config_with_backends(&format!(
        "backend hc
    balance roundrobin
    option httpchk GET /health
backend chk
    server c {0} check inter 100
    server d {0} check inter 100 disabled
",
        target.addr
    )));
    let admin = p.path("admin.sock");
    let ask = |c: &str| socat(&admin, &format!("{c}\n"));
    for c in [
        "add server dyn/e1 127.0.0.1:1 check inter abc",
        "add server dyn/e2 127.0.0.1:1 check inter 0",
        "add server dyn/e3 127.0.0.1:1 check inter 10x",
        "add server dyn/e4 127.0.0.1:1 check inter",
        "add server dyn/e5 127.0.0.1:1 check rise 0",
        "add server dyn/e6 127.0.0.1:1 check rise",
        "add server dyn/e7 127.0.0.1:1 check fall abc",
        "add server dyn/e8 127.0.0.1:1 check fall",
        "add server dyn/e9 127.0.0.1 check",
        "add server dyn/e10 127.0.0.1:+1 check",
        "add server dyn/e11 127.0.0.1:1 check port",
        "add server dyn/e12 127.0.0.1:1 check port 0",
        "add server dyn/e13 127.0.0.1:1 check port 70000",
        "add server st/x 127.0.0.1:1 check",
    ] {
        assert_eq!(ask(c), haproxy(c), "{c}");
    }
    // The captured target listened on 18592; ours is the named server.
    let port = target.addr.port();
    for (ours, theirs) in [
        (
            format!("add server dyn/c1 127.0.0.1:{port} check inter 100 rise 1 fall 1"),
            "add server dyn/c1 127.0.0.1:18592 check inter 100 rise 1 fall 1",
        ),
        (
            format!("add server dyn/c2 127.0.0.1 check port {port} inter 1s"),
            "add server dyn/c2 127.0.0.1 check port 18592 inter 1s",
        ),
        (
            format!("add server dyn/n1 127.0.0.1:{port} inter 2s rise 5"),
            "add server dyn/n1 127.0.0.1:18592 inter 2s rise 5",
        ),
    ] {
        assert_eq!(ask(&ours), haproxy(theirs), "{ours}");
    }
    assert_eq!(ask("enable health dyn/n1"), haproxy("enable health dyn/n1"));
    let mapped = [(port, "18592")];
    let rows = || state_rows(&ask("show servers state dyn"), &mapped);
    assert_eq!(rows(), state_rows(haproxy("after add"), &[]));
    assert_eq!(ask("enable server dyn/c2"), haproxy("enable server dyn/c2"));
    assert_eq!(
        rows(),
        state_rows(haproxy("c2 enabled without enable health"), &[])
    );
    assert_eq!(ask("enable health dyn/c1"), haproxy("enable health dyn/c1"));
    // Checks enabled on an added server run even in maintenance.
    let want = state_rows(haproxy("c1 health enabled in maintenance"), &[]);
    wait_for(
        &p,
        "show servers state dyn\n",
        "c1 checked in maintenance",
        |a| state_rows(a, &mapped) == want,
    );
    assert_eq!(ask("enable server dyn/c1"), haproxy("enable server dyn/c1"));
    let want = state_rows(haproxy("c1 enabled and checked"), &[]);
    wait_for(&p, "show servers state dyn\n", "c1 checked", |a| {
        state_rows(a, &mapped) == want
    });
    assert!(
        target.hits.load(Ordering::SeqCst) == 0,
        "a TCP check sends nothing"
    );
    assert_eq!(
        ask("disable server dyn/c1"),
        haproxy("disable server dyn/c1")
    );
    assert_eq!(ask("del server dyn/c1"), haproxy("del server dyn/c1"));
    assert_eq!(rows(), state_rows(haproxy("c1 deleted"), &[]));

    // HTTP checks: one server passes, one answers 503.
    let (ok, bad) = (Named::start("ok"), Named::start("bad"));
    bad.healthy.store(false, Ordering::SeqCst);
    for (name, target, captured) in [("ok", &ok, "18593"), ("bad", &bad, "18594")] {
        let add = format!("add server hc/{name} 127.0.0.1:{{}} check inter 100 rise 2 fall 2");
        assert_eq!(
            ask(&add.replace("{}", &target.addr.port().to_string())),
            haproxy(&add.replace("{}", captured))
        );
        for c in [
            format!("enable health hc/{name}"),
            format!("enable server hc/{name}"),
        ] {
            assert_eq!(ask(&c), haproxy(&c), "{c}");
        }
    }
    let want = state_rows(haproxy("hc checked"), &[]);
    let hc_ports = [(ok.addr.port(), "18593"), (bad.addr.port(), "18594")];
    wait_for(&p, "show servers state hc\n", "hc checked", |a| {
        state_rows(a, &hc_ports) == want
    });

    // A configured checked server through maintenance: its checks pause
    // (and its counter drops to 0), then resume when it leaves.
    let chk = |step: &str| {
        let want = state_rows(haproxy(step), &[]);
        wait_for(&p, "show servers state chk\n", step, |a| {
            state_rows(a, &mapped) == want
        });
    };
    chk("chk start");
    for c in [
        "disable server chk/c",
        "disable health chk/c",
        "enable health chk/c",
        "enable server chk/c",
    ] {
        assert_eq!(ask(c), haproxy(c), "{c}");
        chk(&format!("chk after {c}"));
    }
}

/// The column `name` of server `server`'s row in `show stat`.
fn stat_field(csv: &str, server: &str, name: &str) -> String {
    let header: Vec<&str> = csv
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let col = header.iter().position(|h| *h == name).unwrap();
    csv.lines()
        .find(|l| l.starts_with(&format!("hc,{server},")))
        .and_then(|l| l.split(',').nth(col))
        .unwrap_or_default()
        .to_string()
}

/// An added server's HTTP check follows its server down and up, traffic
/// with it; `del server` ends its checks.
#[test]
fn an_added_server_is_checked_down_and_up_until_deleted() {
    if socat_missing() {
        return;
    }
    let h1 = Named::start("h1");
    let p = Proxy::start(&config_with_backends(
        "backend hc
    balance roundrobin
    option httpchk GET /health
",
    ));
    let admin = p.path("admin.sock");
    let ask = |c: &str| socat(&admin, &format!("{c}\n"));
    assert_eq!(
        ask(&format!(
            "add server hc/h1 {} check inter 100 rise 2 fall 2",
            h1.addr
        )),
        "New server registered.\n\n"
    );
    assert_eq!(ask("enable health hc/h1"), "\n");
    assert_eq!(ask("enable server hc/h1"), "\n");
    let status = |want: &'static str, code: &'static str| {
        wait_for(&p, "show stat\n", want, move |csv| {
            stat_field(csv, "h1", "status") == want && stat_field(csv, "h1", "check_status") == code
        })
    };
    status("UP", "L7OK");
    assert_eq!(served_by(&p), "h1");
    h1.healthy.store(false, Ordering::SeqCst);
    let csv = status("DOWN", "L7STS");
    assert_eq!(stat_field(&csv, "h1", "check_code"), "503");
    let answer = http(p.addr("web"), "GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 503"), "no server: {answer}");
    h1.healthy.store(true, Ordering::SeqCst);
    status("UP", "L7OK");
    assert_eq!(served_by(&p), "h1");
    assert_eq!(ask("disable server hc/h1"), "\n");
    assert_eq!(ask("del server hc/h1"), "Server deleted.\n");
    // No check after the deletion, but maybe one that was under way.
    let at_delete = h1.hits.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(1000));
    let after = h1.hits.load(Ordering::SeqCst);
    assert!(
        after <= at_delete + 1,
        "checks go on after del server: {at_delete} then {after}"
    );
}
