//! Which connections `show sess` lists, against HAProxy 2.6: in HTTP mode a
//! connection becomes a stream only once a request head is in, so one that
//! has sent nothing yet, one kept alive after its response and one with half
//! a head are not listed; in TCP mode a connection is a stream from its
//! accept on.
//!
//! Captured from HAProxy 2.6.12 first: with those three HTTP connections
//! open and one idle TCP connection, `show sess` lists the TCP one and the
//! runtime API's own. Skipped with a printed reason when `haproxy` is not
//! installed.

mod diff_util;
mod stats_util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use diff_util::{free_port, with_haproxy};
use stats_util::{Proxy, socat, web};

/// Generous bound on every wait: the machine may be loaded.
const PATIENCE: Duration = Duration::from_secs(20);

fn config(dir: &str, http: u16, tcp: u16, backend: SocketAddr) -> String {
    format!(
        "global
    stats socket {dir}/admin.sock mode 600 level admin
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen httpin
    bind 127.0.0.1:{http}
    mode http
    option http-keep-alive
    server s1 {backend}
listen tcpin
    bind 127.0.0.1:{tcp}
    mode tcp
    server s1 {backend}
"
    )
}

/// The number of `show sess` lines of each frontend (`httpin`, `tcpin`,
/// the runtime API's `GLOBAL`), with the four client connections open.
fn listed(http: SocketAddr, tcp: SocketAddr, sock: &Path) -> [usize; 3] {
    let idle = TcpStream::connect(http).expect("idle connection");
    let mut half = TcpStream::connect(http).expect("half-head connection");
    half.write_all(b"GET / HT").expect("half a head");
    let mut kept = TcpStream::connect(http).expect("keep-alive connection");
    kept.set_read_timeout(Some(PATIENCE)).expect("timeout");
    kept.write_all(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        .expect("request");
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !got.ends_with(b"ok") {
        match kept.read(&mut chunk) {
            Ok(0) | Err(_) => panic!("no response: {:?}", String::from_utf8_lossy(&got)),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
        }
    }
    let plain = TcpStream::connect(tcp).expect("tcp connection");
    // Every connection is accepted once the proxy counts them all (the
    // runtime API's own connection may be counted too).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let info = socat(sock, "show info\n");
        let cur = info
            .lines()
            .find_map(|l| l.strip_prefix("CurrConns: "))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if cur >= 4 {
            break;
        }
        assert!(Instant::now() < deadline, "not all accepted: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let listing = socat(sock, "show sess\n");
    let count = |fe: &str| {
        listing
            .lines()
            .filter(|l| l.contains(&format!(" fe={fe} ")))
            .count()
    };
    drop((idle, half, kept, plain));
    [count("httpin"), count("tcpin"), count("GLOBAL")]
}

#[test]
fn connections_without_a_request_are_not_streams() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("skipped: haproxy is not installed");
        return;
    }
    let backend = web();
    let dir = std::env::temp_dir().join(format!("sess-idle-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (http, tcp) = (free_port(), free_port());
    let text = config(dir.to_str().expect("utf-8 path"), http, tcp, backend);
    let theirs = with_haproxy("sess-idle", &text, tcp, || {
        listed(
            ([127, 0, 0, 1], http).into(),
            ([127, 0, 0, 1], tcp).into(),
            &dir.join("admin.sock"),
        )
    });
    let _ = std::fs::remove_dir_all(&dir);
    let Some(theirs) = theirs else {
        eprintln!("skipped: haproxy does not start");
        return;
    };
    let p = Proxy::start(&config("@DIR@", 1, 1, backend));
    let ours = listed(p.addr("httpin"), p.addr("tcpin"), &p.path("admin.sock"));
    assert_eq!(ours, theirs, "show sess lines of httpin, tcpin, GLOBAL");
    // The captured truth, so that a change on both sides cannot pass.
    assert_eq!(theirs, [0, 1, 1]);
}
