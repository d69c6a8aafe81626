//! Faults the proxy must survive, each checked against haproxyd and, when it
//! is installed, against the real HAProxy 2.6 as the oracle of what a client
//! sees:
//!
//! - slowloris: 2,000 connections trickling a request head do not stop
//!   other clients, and `timeout http-request` closes them with 408;
//! - a backend answering garbage (502), closing in the middle of its head
//!   (502) or of its body (the client connection closes), or frozen past
//!   `timeout server` (504); with haproxyd, 10,000 such events leak no
//!   descriptor and no memory;
//! - a backend process killed (503, then served again once it is back) or
//!   stopped with SIGSTOP (504);
//! - a reload (`-sf OLD`) with a broken configuration: the new process says
//!   why and exits 1, the old one keeps serving.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use util::{PATIENCE, Proxy, TempDir, alive, body, free_port, get, local, status};

/// The real HAProxy, when installed.
fn haproxy() -> Option<&'static str> {
    let ok = Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("haproxy is not installed: only haproxyd is checked");
    }
    ok.then_some("haproxy")
}

fn haproxyd() -> &'static str {
    env!("CARGO_BIN_EXE_haproxyd")
}

/// Starts `program` (haproxyd or haproxy) in the foreground on `cfg`.
fn start(program: &str, cfg: &Path, dir: &TempDir, tag: &str, front: u16) -> Proxy {
    let cfg = cfg.to_str().expect("utf-8 path");
    let mut proxy = Proxy::start(program, &["-db", "-f", cfg], dir, tag);
    proxy.wait_listening(local(front));
    proxy
}

/// A backend whose behaviour the request path picks:
/// `/ok` answers, `/garbage` answers bytes that are no HTTP response,
/// `/cut-head` closes in the middle of the head, `/cut-body` in the middle of
/// the body, `/freeze` reads the request and never answers.
fn faulty_backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
    let port = listener.local_addr().expect("backend address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || misbehave(stream));
        }
    });
    port
}

fn misbehave(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&byte[..n]),
        }
    }
    let path = String::from_utf8_lossy(&head)
        .split(' ')
        .nth(1)
        .unwrap_or("")
        .to_string();
    let answer: &[u8] = match path.as_str() {
        "/ok" => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        "/garbage" => b"\x16\x03\x01 this is not HTTP at all\r\n\r\n",
        "/cut-head" => b"HTTP/1.1 200 OK\r\nContent-Le",
        "/cut-body" => b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..",
        "/freeze" => {
            // Hold the connection until the proxy gives up on it.
            let _ = stream.read(&mut byte);
            return;
        }
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    };
    let _ = stream.write_all(answer);
}

/// Sends one `GET path` with `Connection: close` and returns the status
/// (0 when none came) and whether the body was complete.
fn fetch(addr: SocketAddr, path: &str) -> (u16, bool) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PATIENCE) else {
        return (0, false);
    };
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let request = format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, false);
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let complete = text
        .split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .is_some_and(|n| body(&text).len() == n);
    (status(&text), complete)
}

/// What a client must see for each fault, as HAProxy 2.6 answers it:
/// path, status, whether the body is complete.
const EVENTS: [(&str, u16, bool); 4] = [
    ("/garbage", 502, true),
    ("/cut-head", 502, true),
    ("/cut-body", 200, false),
    ("/ok", 200, true),
];

fn fault_config(dir: &TempDir, front: u16, back: u16) -> std::path::PathBuf {
    dir.write(
        "faults.cfg",
        &format!(
            "global\n    maxconn 5000\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    \
             timeout server 100ms\n    timeout http-request 2s\n\
             frontend fe\n    bind 127.0.0.1:{front}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{back}\n"
        ),
    )
}

/// Runs `count` fault events from 4 client threads; every 50th is a frozen
/// backend. Panics on the first answer that is not the expected one.
fn run_events(addr: SocketAddr, count: usize) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in (t..count).step_by(4) {
                    let (path, want, complete) = if i % 50 == 49 {
                        ("/freeze", 504, true)
                    } else {
                        EVENTS[i % EVENTS.len()]
                    };
                    let got = fetch(addr, path);
                    assert_eq!(got, (want, complete), "event {i}: {path}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
}

/// Open descriptors and resident memory (KiB) of a process.
fn usage(pid: u32) -> (usize, u64) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    (fds, rss)
}

#[test]
fn haproxy_answers_backend_faults_as_expected() {
    let Some(program) = haproxy() else { return };
    let dir = TempDir::new("faults-oracle");
    let (front, back) = (free_port(), faulty_backend());
    let cfg = fault_config(&dir, front, back);
    let _proxy = start(program, &cfg, &dir, "haproxy", front);
    run_events(local(front), 200);
}

#[test]
fn backend_faults_leak_nothing_over_10000_events() {
    let dir = TempDir::new("faults-leak");
    let (front, back) = (free_port(), faulty_backend());
    let cfg = fault_config(&dir, front, back);
    let mut proxy = start(haproxyd(), &cfg, &dir, "haproxyd", front);
    let pid = proxy.pid();
    // Warm up: thread pools, buffers and allocator arenas reach their size.
    run_events(local(front), 1_000);
    let settle = |limit: usize| {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = usage(pid);
            if now.0 <= limit || Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let (fds0, rss0) = settle(0);
    run_events(local(front), 10_000);
    let (fds1, rss1) = settle(fds0);
    assert!(
        proxy.child.try_wait().expect("status").is_none(),
        "haproxyd died: {}",
        proxy.stderr_text()
    );
    assert!(fds1 <= fds0, "descriptors grew from {fds0} to {fds1}");
    assert!(
        rss1 <= rss0 + 4 * 1024,
        "resident memory grew from {rss0} KiB to {rss1} KiB over 10,000 faults"
    );
    eprintln!("10,000 faults: descriptors {fds0} -> {fds1}, RSS {rss0} -> {rss1} KiB");
    assert_eq!(fetch(local(front), "/ok"), (200, true));
}

/// Opens `n` connections that each send the start of a request head.
fn slow_clients(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| {
            let mut s = TcpStream::connect_timeout(&addr, PATIENCE)
                .unwrap_or_else(|e| panic!("slow client {i} connects: {e}"));
            s.write_all(b"GET /ok HTTP/1.1\r\nHost: a\r\n")
                .expect("slow client writes");
            s
        })
        .collect()
}

fn slowloris(program: &str, tag: &str) {
    let dir = TempDir::new(tag);
    let (front, back) = (free_port(), faulty_backend());
    let cfg = fault_config(&dir, front, back);
    let _proxy = start(program, &cfg, &dir, tag, front);
    let addr = local(front);
    let mut slow = slow_clients(addr, 2_000);
    // Normal clients are served while the slow ones hold their connections.
    for i in 0..20 {
        assert_eq!(fetch(addr, "/ok"), (200, true), "{tag}: normal client {i}");
    }
    // One more header line each: trickling does not extend the timeout.
    for s in &mut slow {
        let _ = s.write_all(b"X-Slow: 1\r\n");
    }
    let mut timed_out = 0;
    for (i, s) in slow.iter_mut().enumerate() {
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut answer = Vec::new();
        match s.read_to_end(&mut answer) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("{tag}: slow client {i} not closed: {e}"),
        }
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 408 "),
            "{tag}: slow client {i} got {text:?}"
        );
        timed_out += 1;
    }
    assert_eq!(timed_out, 2_000);
    assert_eq!(fetch(addr, "/ok"), (200, true), "{tag}: served afterwards");
}

#[test]
fn slowloris_is_closed_with_408_and_others_are_served() {
    check_nofile();
    if let Some(program) = haproxy() {
        slowloris(program, "slowloris-haproxy");
    }
    slowloris(haproxyd(), "slowloris-haproxyd");
}

/// 2,000 slow clients hold 2,000 descriptors here and as many in the proxy,
/// which inherits this process's limit.
fn check_nofile() {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(u64::MAX);
    assert!(
        soft >= 4_600,
        "the slowloris test needs 4,600 descriptors; `ulimit -n` is {soft}"
    );
}

/// haproxyd itself as a backend process: it answers every request with 200.
fn backend_process(dir: &TempDir, port: u16) -> Proxy {
    let cfg = dir.write(
        "backend.cfg",
        &format!(
            "defaults\n    mode http\n    timeout client 10s\n\
             frontend be\n    bind 127.0.0.1:{port}\n    \
             http-request return status 200 content-type text/plain string alive\n"
        ),
    );
    start(haproxyd(), &cfg, dir, "backend", port)
}

/// Waits until every thread of `pid` is stopped (state `T`): a signal is
/// delivered when the process is next scheduled, not when `kill` returns.
fn wait_stopped(pid: u32) {
    let deadline = Instant::now() + PATIENCE;
    let stopped = || {
        std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
            tasks.filter_map(Result::ok).all(|t| {
                std::fs::read_to_string(t.path().join("stat"))
                    .ok()
                    .and_then(|s| s.rsplit_once(") ").map(|(_, r)| r.starts_with('T')))
                    .unwrap_or(false)
            })
        })
    };
    while !stopped() {
        assert!(Instant::now() < deadline, "process {pid} did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn killed_and_frozen(program: &str, tag: &str) {
    let dir = TempDir::new(tag);
    let (front, back) = (free_port(), free_port());
    let cfg = fault_config(&dir, front, back);
    let mut backend = backend_process(&dir, back);
    let _proxy = start(program, &cfg, &dir, tag, front);
    let addr = local(front);
    assert_eq!(fetch(addr, "/"), (200, true), "{tag}: served");

    backend.signal(Signal::SIGSTOP);
    wait_stopped(backend.pid());
    // The kernel still accepts; nobody answers before `timeout server`.
    assert_eq!(fetch(addr, "/"), (504, true), "{tag}: frozen backend");
    backend.signal(Signal::SIGCONT);
    assert_eq!(fetch(addr, "/"), (200, true), "{tag}: thawed backend");

    backend.signal(Signal::SIGKILL);
    let _ = backend.wait_exit();
    assert_eq!(fetch(addr, "/"), (503, true), "{tag}: killed backend");
    let _backend = backend_process(&dir, back);
    assert_eq!(fetch(addr, "/"), (200, true), "{tag}: restarted backend");
}

#[test]
fn killed_and_frozen_backend_processes() {
    if let Some(program) = haproxy() {
        killed_and_frozen(program, "proc-faults-haproxy");
    }
    killed_and_frozen(haproxyd(), "proc-faults-haproxyd");
}

#[test]
fn bad_reload_keeps_the_old_process_serving() {
    let dir = TempDir::new("faults-reload");
    let (front, back) = (free_port(), faulty_backend());
    let cfg = fault_config(&dir, front, back);
    let mut old = start(haproxyd(), &cfg, &dir, "old", front);
    let bad = dir.write(
        "bad.cfg",
        &std::fs::read_to_string(&cfg)
            .expect("config")
            .replace("default_backend be", "default_backend be\n    frobnicate"),
    );
    let old_pid = old.pid().to_string();
    let mut new = Proxy::start(
        haproxyd(),
        &["-db", "-f", bad.to_str().expect("path"), "-sf", &old_pid],
        &dir,
        "new",
    );
    assert_eq!(new.wait_exit().code(), Some(1), "{}", new.stderr_text());
    let err = new.stderr_text();
    assert!(
        err.contains("bad.cfg:12"),
        "the new process says where: {err}"
    );
    assert!(err.contains("frobnicate"), "and what: {err}");
    // The old process got no stop signal and still serves.
    assert_eq!(
        fetch(local(front), "/ok"),
        (200, true),
        "old process serves"
    );
    assert!(alive(old.pid()), "{}", old.stderr_text());
    assert!(old.child.try_wait().expect("status").is_none());
    let answer = get(local(front), "/ok");
    assert_eq!(body(&answer), "ok", "{answer}");
}
