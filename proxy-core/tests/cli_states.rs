//! `show servers state` and the server rows of `show stat` for servers in
//! each situation (checked or not, `disabled`, backup, weight 0, drained
//! and put in maintenance through the runtime API and back, added and
//! deleted at run time, checks disabled and enabled, weights set in each
//! state), column for column against HAProxy 2.6.12's,
//! captured by data/cli/capture_states.sh. Masked: the columns that
//! measure time; `need_conn_est`, HAProxy's estimate of the connections a
//! server needs, which also counts health check connections (haproxyd does
//! not estimate it); the backend's `slim`, which follows the global
//! `maxconn` HAProxy derives from the machine's file descriptor limit; and
//! the "* " that `check_status` shows while a check is under way.

mod stats_util;

use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::{Duration, Instant};

use stats_util::{Proxy, have, socat};

/// HAProxy's answers and listings: "== STEP" then the text.
const CAPTURED: &str = include_str!("data/cli/states.txt");

/// The port the captured target listened on.
const CAPTURED_PORT: &str = "18692";

/// `show stat` columns masked on both sides.
const MASKED: &[&str] = &[
    "lastchg",
    "downtime",
    "check_duration",
    "lastsess",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "need_conn_est",
];

/// The captured text of `step`.
fn captured(step: &str) -> &'static str {
    let start = CAPTURED
        .find(&format!("== {step}\n"))
        .unwrap_or_else(|| panic!("not captured: {step}"))
        + step.len()
        + 4;
    let rest = &CAPTURED[start..];
    &rest[..rest.find("\n== ").map_or(rest.len(), |e| e + 1)]
}

/// A TCP target that accepts and closes: TCP checks pass.
fn target() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            drop(s);
        }
    });
    addr
}

/// A listing made comparable: the state rows with the time since the
/// last change written `T`, the `show stat` header, and backend `b`'s
/// rows with the masked columns emptied; `port` written as the capture's.
fn comparable(listing: &str, port: u16) -> Vec<String> {
    let port = port.to_string();
    let mut header: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for l in listing.lines() {
        if let Some(h) = l.strip_prefix("# pxname,") {
            header = std::iter::once("pxname").chain(h.split(',')).collect();
            out.push(l.to_string());
        } else if l.starts_with("b,") {
            let row: Vec<String> = l
                .split(',')
                .enumerate()
                .map(|(i, f)| {
                    let name = header.get(i).copied().unwrap_or_default();
                    if MASKED.contains(&name) || (name == "slim" && l.starts_with("b,BACKEND,")) {
                        String::new()
                    } else if name == "check_status" {
                        // "* " marks a check under way at that instant.
                        f.trim_start_matches("* ").to_string()
                    } else {
                        f.replace(&format!(":{port}"), &format!(":{CAPTURED_PORT}"))
                    }
                })
                .collect();
            out.push(row.join(","));
        } else if l.split(' ').count() > 20 && !l.starts_with('#') {
            let row: Vec<&str> = l
                .split(' ')
                .enumerate()
                .map(|(i, f)| match i {
                    9 => "T",
                    _ if f == port => CAPTURED_PORT,
                    _ => f,
                })
                .collect();
            out.push(row.join(" "));
        }
    }
    out
}

/// Our listing in the capture's form.
fn listing(p: &Proxy, port: u16) -> Vec<String> {
    let admin = p.path("admin.sock");
    let text = socat(&admin, "show servers state b\n") + &socat(&admin, "show stat\n");
    comparable(&text, port)
}

/// Where two rows differ: the state row, or the `show stat` columns by
/// name.
fn describe(ours: &str, theirs: &str) -> String {
    if !ours.contains(',') {
        return format!("ours:    {ours}\nhaproxy: {theirs}");
    }
    let header: Vec<&str> = captured("start")
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .unwrap_or_default()
        .split(',')
        .collect();
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.split(',').collect(), theirs.split(',').collect());
    let cols: Vec<String> = (0..a.len().max(b.len()))
        .filter(|i| a.get(*i) != b.get(*i))
        .map(|i| {
            format!(
                "{}: ours {:?}, haproxy {:?}",
                header.get(i).unwrap_or(&"?"),
                a.get(i).unwrap_or(&""),
                b.get(i).unwrap_or(&"")
            )
        })
        .collect();
    format!("{},{}: {}", a[0], a.get(1).unwrap_or(&""), cols.join("; "))
}

/// Waits (bounded, generously: checks run every 100 ms) until our listing
/// equals HAProxy's at `step`; on a timeout, fails with the lines that
/// differ.
fn matches(p: &Proxy, port: u16, step: &str) {
    let want = comparable(captured(step), port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ours = listing(p, port);
        if ours == want {
            return;
        }
        if Instant::now() > deadline {
            let diff: Vec<String> = ours
                .iter()
                .zip(&want)
                .filter(|(a, b)| a != b)
                .map(|(a, b)| describe(a, b))
                .collect();
            panic!(
                "{step}: {} lines against {}\n{}",
                ours.len(),
                want.len(),
                diff.join("\n")
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The configuration of data/cli/capture_states.sh, on `port`.
fn config(port: u16) -> String {
    let t = format!("127.0.0.1:{port}");
    format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend web
    bind 127.0.0.1:1
    default_backend b
backend b
    balance roundrobin
    server nochk {t}
    server chk {t} check inter 100
    server dis {t} disabled
    server disc {t} check inter 100 disabled
    server bk {t} backup
    server bkc {t} backup check inter 100
    server dr {t}
    server drc {t} check inter 100
    server mt {t}
    server mtc {t} check inter 100
    server down 127.0.0.1:1 check inter 100
    server w0 {t} weight 0
    server r5 {t} rise 5 fall 2
"
    )
}

/// Every server situation of the capture, step by step.
#[test]
fn server_states_follow_haproxy_column_for_column() {
    if !have("socat") {
        eprintln!("skipped: socat is not installed (scripts/setup installs it)");
        return;
    }
    let t = target();
    let port = t.port();
    let p = Proxy::start(&config(port));
    let admin = p.path("admin.sock");
    let ask = |c: &str| {
        let c = c.replace(&format!(":{CAPTURED_PORT}"), &format!(":{port}"));
        socat(&admin, &format!("{c}\n"))
    };
    matches(&p, port, "start");
    let steps: &[(&[&str], &str)] = &[
        (
            &[
                "set server b/dr state drain",
                "set server b/drc state drain",
                "set server b/mt state maint",
                "set server b/mtc state maint",
                "disable server b/nochk",
            ],
            "drained and in maintenance",
        ),
        (
            &[
                "enable server b/dis",
                "enable server b/disc",
                "set server b/mt state ready",
                "set server b/mtc state ready",
                "enable server b/nochk",
                "set server b/dr state ready",
            ],
            "back",
        ),
        (
            &[
                "set server b/dis state maint",
                "set server b/disc state drain",
            ],
            "configured disabled, maint and drain again",
        ),
        (
            &[
                "add server b/a1 127.0.0.1:18692",
                "add server b/a2 127.0.0.1:18692 check",
                "add server b/a3 127.0.0.1:18692 backup",
                "set server b/a1 state maint",
                "del server b/a1",
                "add server b/a4 127.0.0.1:18692",
                "enable server b/a3",
                "set server b/a4 state drain",
                "set server b/a2 state maint",
                "del server b/a2",
                "add server b/a5 127.0.0.1:18692 weight 3",
                "add server b/a6 127.0.0.1:18692",
            ],
            "added and deleted",
        ),
        (
            &["disable health b/chk", "disable health b/down"],
            "checks disabled",
        ),
        (
            &[
                "set server b/w0 weight 7",
                "set server b/mt state maint",
                "set server b/mt weight 9",
                "set server b/down weight 4",
                "set server b/dr state drain",
                "set server b/dr weight 5",
                "set server b/a5 weight 6",
                "set server b/dis weight 8",
            ],
            "weights",
        ),
        (
            &[
                "enable health b/chk",
                "enable health b/down",
                "set server b/mt state ready",
                "set server b/dis state ready",
                "enable server b/a5",
            ],
            "checks enabled, back from maintenance",
        ),
    ];
    for (commands, step) in steps {
        for c in *commands {
            assert_eq!(ask(c), captured(c), "{c}");
        }
        matches(&p, port, step);
    }
}
