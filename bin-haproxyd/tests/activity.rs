//! `show activity` on the stats socket: with `nbthread 2` the kernel
//! spreads connections over both threads' `SO_REUSEPORT` listeners, and the
//! per-thread `accepted` figures say so (issues #3 and #7).

mod util;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;

use util::{PATIENCE, Proxy, TempDir, free_port, get, local, status};

/// Connections made in the spreading test: with the kernel hashing each
/// source port to one of two sockets, all landing on one is a 2^-199 event.
const CONNECTIONS: usize = 200;

/// haproxyd with `nbthread` threads, a frontend answering every request
/// itself on the returned address, and a stats socket in the directory.
fn start(tag: &str, nbthread: u32) -> (TempDir, Proxy, SocketAddr) {
    let dir = TempDir::new(tag);
    let port = free_port();
    let text = format!(
        "global\n    nbthread {nbthread}\n    stats socket {} level user\n\n\
         defaults\n    mode http\n    timeout client 10s\n    timeout server 10s\n    \
         timeout connect 10s\n\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    http-request return status 200\n",
        dir.path("stats.sock").display()
    );
    let cfg = dir.write("activity.cfg", &text);
    let mut proxy = Proxy::haproxyd(&cfg, &dir, "haproxyd");
    proxy.wait_listening(local(port));
    (dir, proxy, local(port))
}

/// The answer to `command` on the stats socket at `path`.
fn cli(path: &Path, command: &str) -> String {
    let mut sock = UnixStream::connect(path).expect("connect to the stats socket");
    sock.set_read_timeout(Some(PATIENCE)).expect("timeout");
    sock.write_all(format!("{command}\n").as_bytes())
        .expect("send command");
    let mut out = String::new();
    sock.read_to_string(&mut out).expect("read answer");
    out
}

/// The figures of the `name:` line: the total, then one per thread (none
/// when the line has no `[ ... ]`).
fn figures(activity: &str, name: &str) -> (u64, Vec<u64>) {
    let line = activity
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} line in:\n{activity}"));
    let (total, per) = match line.split_once(" [ ") {
        Some((t, rest)) => (t, rest.strip_suffix(" ]").expect("closing bracket")),
        None => (line, ""),
    };
    let num = |s: &str| {
        s.parse::<u64>()
            .unwrap_or_else(|_| panic!("{s:?} in {line:?}"))
    };
    (num(total), per.split_whitespace().map(num).collect())
}

#[test]
fn connections_spread_over_both_threads() {
    let (dir, _proxy, addr) = start("activity-two", 2);
    // Each connection is answered, so it was accepted before the next one
    // opens; each comes from a new ephemeral source port.
    for _ in 0..CONNECTIONS {
        assert_eq!(status(&get(addr, "/")), 200);
    }
    let out = cli(&dir.path("stats.sock"), "show activity");
    assert!(out.starts_with("thread_id: 1 (1..2)\ndate_now: "), "{out}");
    let (total, per) = figures(&out, "accepted");
    assert_eq!(per.len(), 2, "{out}");
    assert!(
        per.iter().all(|n| *n > 0),
        "a thread accepted nothing:\n{out}"
    );
    assert_eq!(per.iter().sum::<u64>(), total, "{out}");
    // The requests plus the probes of wait_listening.
    assert!(total >= CONNECTIONS as u64, "{out}");
    assert_eq!(figures(&out, "ctxsw"), (0, vec![0, 0]), "{out}");
}

#[test]
fn one_thread_prints_one_column() {
    let (dir, _proxy, addr) = start("activity-one", 1);
    assert_eq!(status(&get(addr, "/")), 200);
    let out = cli(&dir.path("stats.sock"), "show activity");
    assert!(out.starts_with("thread_id: 1 (1..1)\ndate_now: "), "{out}");
    let (total, per) = figures(&out, "accepted");
    assert!(total >= 2, "the probe and the request:\n{out}");
    assert!(per.is_empty(), "{out}");
}
