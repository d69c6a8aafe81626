//! The runtime API commands that change a backend's server set and limits
//! live (`set maxconn server`, `add server ... check`, `del server`), driven
//! with socat as an operator does. Expected answers are HAProxy 2.6.12's,
//! captured by data/cli/capture_checks.sh.

mod stats_util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use stats_util::{Proxy, have, http, socat};

/// An HTTP server that answers every request with its own name, so that a
/// test sees which server the balancer picked; `hits` counts the requests
/// it got.
struct Named {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl Named {
    fn start(name: &'static str) -> Named {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let n = Arc::clone(&hits);
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let n = Arc::clone(&n);
                thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            n.fetch_add(1, Ordering::SeqCst);
                            let answer = format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{name}",
                                name.len()
                            );
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
        Named { addr, hits }
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

/// `set maxconn server` used to rebuild the balancer, which sent the next
/// request to the first server again; the sequence now goes on.
#[test]
fn set_maxconn_server_keeps_the_roundrobin_sequence() {
    if socat_missing() {
        return;
    }
    let (a, b, c) = (Named::start("s1"), Named::start("s2"), Named::start("s3"));
    let p = Proxy::start(&format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:1
    default_backend rr
backend rr
    balance roundrobin
    server s1 {} maxconn 10
    server s2 {}
    server s3 {}
",
        a.addr, b.addr, c.addr
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
