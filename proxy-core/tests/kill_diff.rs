//! Streams ended from the runtime API (`shutdown session ID`, `shutdown
//! sessions server B/S`) end as HAProxy 2.6's do: what the client gets and
//! the log line (termination flags with `K`, status, bytes, which timers
//! were reached), in HTTP and TCP mode, before and after the response
//! started. The real `haproxy` and the engine serve the same configuration,
//! each logging to its own UDP syslog listener, and the same cases go
//! through both.
//!
//! Captured from HAProxy 2.6.12 by hand first: a request waiting for its
//! response head gets the 502 page and logs `KH--` with status 502 and no
//! response time, and a keep-alive client keeps its connection: its next
//! request is served and logged as usual; a response cut in its body logs `KD--` with the bytes
//! forwarded; a response already out while the request body still comes
//! logs `K---`; a TCP stream logs `K-` with the bytes sent to the client.
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod diff_util;
mod stats_util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diff_util::{Syslog, free_port, with_haproxy};
use regex::Regex;
use stats_util::Proxy;

/// Generous bound on every wait: the machine may be loaded.
const PATIENCE: Duration = Duration::from_secs(20);

/// A server that never finishes an exchange: `GET /part` gets a response
/// head and 2 of its 10 body bytes, `POST /early` a whole response before
/// its body is sent, `tcpdata` gets `hello`, anything else nothing; every
/// connection is then held until the proxy closes it or the server is
/// dropped.
struct Held {
    addr: SocketAddr,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Held {
    fn start() -> Held {
        let l = TcpListener::bind("127.0.0.1:0").expect("backend");
        let addr = l.local_addr().expect("address");
        let conns = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&conns);
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                if let Ok(c) = s.try_clone() {
                    keep.lock().unwrap_or_else(|e| e.into_inner()).push(c);
                }
                std::thread::spawn(move || hold(s));
            }
        });
        Held { addr, conns }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        for s in self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// How many requests (or first TCP payloads) reached [`Held`]: a case
/// ends its stream only once its request is at the server, where both
/// proxies wait for the answer.
static ARRIVED: AtomicUsize = AtomicUsize::new(0);

fn hold(mut s: TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while !got.starts_with(b"tcp") && !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
        // A body-less `POST /early` (the request after a kill) is answered
        // whole, and the proxies pool the connection: a later request may
        // come on it.
        let end = got.windows(4).position(|w| w == b"\r\n\r\n");
        let bodyless = end.filter(|&e| {
            got.starts_with(b"POST /early")
                && String::from_utf8_lossy(&got[..e])
                    .to_lowercase()
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .is_none_or(|v| v.trim() == "0")
        });
        let Some(e) = bodyless else { break };
        ARRIVED.fetch_add(1, Ordering::SeqCst);
        if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
        got.drain(..e + 4);
    }
    ARRIVED.fetch_add(1, Ordering::SeqCst);
    if got.starts_with(b"GET /part") {
        // Lower case, as HAProxy writes header names: the case of the
        // names is not what this test compares.
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab");
    } else if got.starts_with(b"POST /early") {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    } else if got.starts_with(b"tcpdata") {
        let _ = s.write_all(b"hello");
    }
    while matches!(s.read(&mut chunk), Ok(n) if n > 0) {}
    // Closes the clone kept for the drop too.
    let _ = s.shutdown(Shutdown::Both);
}

/// One proxy under test: where its listeners and runtime API are.
struct Side {
    http: SocketAddr,
    tcp: SocketAddr,
    sock: PathBuf,
}

fn config(dir: &str, syslog: u16, http: u16, tcp: u16, backend: SocketAddr) -> String {
    format!(
        "global
    stats socket {dir}/admin.sock mode 600 level admin
defaults
    log 127.0.0.1:{syslog} local2
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen httpin
    bind 127.0.0.1:{http}
    mode http
    option httplog
    server s1 {backend}
listen tcpin
    bind 127.0.0.1:{tcp}
    mode tcp
    option tcplog
    server s1 {backend}
"
    )
}

/// The runtime API's answer to `command`.
fn cli(sock: &Path, command: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut s = loop {
        match UnixStream::connect(sock) {
            Ok(s) => break s,
            Err(e) => assert!(Instant::now() < deadline, "{}: {e}", sock.display()),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s.write_all(format!("{command}\n").as_bytes())
        .expect("command");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// How a case ends its stream.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// `shutdown session ID`.
    Session,
    /// `shutdown sessions server B/S`.
    Server,
}

/// A case: its name, whether it goes through the TCP listener, what the
/// client sends, and what it reads before the stream is ended.
struct Case {
    name: &'static str,
    tcp: bool,
    send: &'static [u8],
    before: &'static [u8],
}

const CASES: &[Case] = &[
    Case {
        name: "http, waiting for the response head",
        tcp: false,
        send: b"GET /hold HTTP/1.1\r\nHost: h\r\n\r\n",
        before: b"",
    },
    Case {
        name: "http, waiting for the response head, connection: close",
        tcp: false,
        send: b"GET /hold HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        before: b"",
    },
    Case {
        name: "http, response body cut",
        tcp: false,
        send: b"GET /part HTTP/1.1\r\nHost: h\r\n\r\n",
        before: b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab",
    },
    Case {
        name: "http, response out, request body still coming",
        tcp: false,
        send: b"POST /early HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\nabc",
        before: b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    },
    Case {
        name: "tcp, nothing exchanged back",
        tcp: true,
        send: b"tcpx",
        before: b"",
    },
    Case {
        name: "tcp, data sent to the client",
        tcp: true,
        send: b"tcpdata",
        before: b"hello",
    },
];

/// Reads until `want` bytes came, the proxy closed, or a complete response
/// with a `content-length` arrived (HAProxy keeps a keep-alive client after
/// its 502).
fn read_answer(s: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline && (want == 0 || got.len() < want) {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        if want == 0 && complete(&got) {
            break;
        }
    }
    got
}

fn complete(got: &[u8]) -> bool {
    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|len| got.len() >= end + 4 + len)
}

/// The `show sess` line of the stream of frontend `fe` once it reached
/// its server.
fn wait_stream(sock: &Path, fe: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let listing = cli(sock, "show sess");
        if let Some(line) = listing
            .lines()
            .find(|l| l.contains(&format!(" fe={fe} ")) && l.contains(" srv=s1 "))
        {
            return line.to_string();
        }
        assert!(Instant::now() < deadline, "no stream of {fe}: {listing}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the client sends on the same connection after the kill: a request
/// [`Held`] answers whole, asking for the close so that no server
/// connection is left idle for the next case.
const NEXT: &[u8] =
    b"POST /early HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Runs one case on one proxy: what the client got, and the log line; then
/// what a next request on the same connection got, and its log line if it
/// was answered (HAProxy keeps a keep-alive client after the 502 of a
/// stream ended before its response head).
fn run_case(case: &Case, kill: Kill, side: &Side, syslog: &Syslog) -> [String; 4] {
    syslog.drain();
    let addr = if case.tcp { side.tcp } else { side.http };
    let fe = if case.tcp { "tcpin" } else { "httpin" };
    let arrived = ARRIVED.load(Ordering::SeqCst);
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    c.write_all(case.send).expect("send");
    let deadline = Instant::now() + PATIENCE;
    while ARRIVED.load(Ordering::SeqCst) == arrived {
        assert!(
            Instant::now() < deadline,
            "{}: no request at the server",
            case.name
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let line = wait_stream(&side.sock, fe);
    let mut got = if case.before.is_empty() {
        Vec::new()
    } else {
        read_answer(&mut c, case.before.len())
    };
    let answer = match kill {
        Kill::Session => {
            let id = line.split(':').next().unwrap_or_default();
            cli(&side.sock, &format!("shutdown session {id}"))
        }
        Kill::Server => cli(&side.sock, &format!("shutdown sessions server {fe}/s1")),
    };
    assert_eq!(answer.trim(), "", "{kill:?}");
    got.extend(read_answer(&mut c, 0));
    let log = syslog
        .next_within(PATIENCE)
        .unwrap_or_else(|| format!("<no line for {}>", case.name));
    // A closed connection answers nothing: no line to wait for then.
    let next = match c.write_all(NEXT) {
        Ok(()) => read_answer(&mut c, 0),
        Err(_) => Vec::new(),
    };
    let next_log = if next.is_empty() {
        String::new()
    } else {
        syslog
            .next_within(PATIENCE)
            .map_or_else(|| format!("<no line after {}>", case.name), |l| mask(&l))
    };
    [
        String::from_utf8_lossy(&got).into_owned(),
        mask(&log),
        String::from_utf8_lossy(&next).into_owned(),
        next_log,
    ]
}

/// Masks what differs between runs: the syslog header's date and pid, the
/// client port, the accept date, every timer value but `-1`, and the
/// process-wide connection count (`%ac`): HAProxy counts the runtime API
/// connection that ended the stream there, or not, as the two streams'
/// tasks happen to run.
fn mask(line: &str) -> String {
    let header = Regex::new(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: ").unwrap();
    let port = Regex::new(r"127\.0\.0\.1:\d+ ").unwrap();
    let date = Regex::new(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]").unwrap();
    let timers = Regex::new(r"(/s1 )([-\d/]+) ").unwrap();
    let actconn = Regex::new(r" \d+(/\d+/\d+/\d+/\d+ \d+/\d+)").unwrap();
    let s = header.replace(line.trim_end(), "<$1>DATE haproxy[PID]: ");
    let s = port.replace_all(&s, "127.0.0.1:PORT ");
    let s = date.replace_all(&s, "[DATE]");
    let s = actconn.replace(&s, " AC$1");
    timers
        .replace(&s, |c: &regex::Captures<'_>| {
            let t: Vec<&str> = c[2]
                .split('/')
                .map(|t| if t == "-1" { t } else { "T" })
                .collect();
            format!("{}{} ", &c[1], t.join("/"))
        })
        .into_owned()
}

/// What one case gave on one proxy: its name, then [`run_case`]'s answers.
type Outcome = (String, [String; 4]);

/// Runs every case, each way of ending it, on one proxy.
fn run_all(side: &Side, syslog: &Syslog) -> Vec<Outcome> {
    let mut out = Vec::new();
    for kill in [Kill::Session, Kill::Server] {
        for case in CASES {
            let got = run_case(case, kill, side, syslog);
            out.push((format!("{} ({kill:?})", case.name), got));
        }
    }
    out
}

fn haproxy_side(backend: SocketAddr, syslog: &Syslog) -> Option<Vec<Outcome>> {
    // The runtime API socket lives apart from haproxy's own files, as the
    // configuration names it before they exist.
    let dir = std::env::temp_dir().join(format!("kill-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (http, tcp) = (free_port(), free_port());
    let text = config(
        dir.to_str().expect("utf-8 path"),
        syslog.port(),
        http,
        tcp,
        backend,
    );
    let side = Side {
        http: ([127, 0, 0, 1], http).into(),
        tcp: ([127, 0, 0, 1], tcp).into(),
        sock: dir.join("admin.sock"),
    };
    // Probed on the HTTP listener: a connection closed without a request
    // reaches no server, so no stream is left for the cases to find; its
    // line (`CR`) is out of the way first.
    let out = with_haproxy("kill", &text, http, || {
        let _ = syslog.next_within(PATIENCE);
        run_all(&side, syslog)
    });
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn engine_side(backend: SocketAddr, syslog: &Syslog) -> Vec<Outcome> {
    let p = Proxy::start(&config("@DIR@", syslog.port(), 1, 1, backend));
    let side = Side {
        http: p.addr("httpin"),
        tcp: p.addr("tcpin"),
        sock: p.path("admin.sock"),
    };
    run_all(&side, syslog)
}

#[test]
fn killed_streams_end_as_haproxys() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("skipped: haproxy is not installed");
        return;
    }
    let backend = Held::start();
    let syslog = Syslog::new();
    let Some(theirs) = haproxy_side(backend.addr, &syslog) else {
        eprintln!("skipped: haproxy does not start");
        return;
    };
    let ours = engine_side(backend.addr, &syslog);
    let mut diffs = String::new();
    let what = [
        "client got",
        "log",
        "next request got",
        "next request's log",
    ];
    for ((name, t), (_, o)) in theirs.iter().zip(&ours) {
        for ((w, t), o) in what.iter().zip(t).zip(o) {
            if t != o {
                diffs.push_str(&format!(
                    "{name}: {w}\n  haproxy: {t:?}\n  ours:    {o:?}\n"
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{diffs}");
    // The captured truth, so that a change on both sides cannot pass.
    let kh = &theirs[0].1[1];
    assert!(kh.contains(" 502 209 - - KH-- "), "{kh}");
    assert!(kh.contains("/-1/T 502"), "{kh}");
    assert!(
        theirs[2].1[1].contains(" 200 52 - - KD-- "),
        "{}",
        theirs[2].1[1]
    );
    assert!(
        theirs[3].1[1].contains(" 200 51 - - K--- "),
        "{}",
        theirs[3].1[1]
    );
    assert!(theirs[5].1[1].contains(" 5 K- "), "{}", theirs[5].1[1]);
    // A keep-alive client's next request is served after the 502; one
    // that asked for the close gets nothing more.
    for (i, (name, t)) in theirs.iter().enumerate() {
        let kept = i % CASES.len() == 0;
        assert_eq!(
            t[2].starts_with("HTTP/1.1 200 OK\r\n"),
            kept,
            "{name}: {:?}",
            t[2]
        );
        assert_eq!(t[3].contains(" 200 "), kept, "{name}: {}", t[3]);
    }
}

#[test]
fn masking_keeps_flags_counts_and_unreached_timers() {
    let line = "<150>Nov 28 14:06:55 haproxy[19740]: 127.0.0.1:50438 \
                [28/Nov/2026:14:06:55.289] httpin httpin/s1 0/0/0/-1/500 502 209 - - KH-- \
                1/1/0/0/0 0/0 \"GET /hold HTTP/1.1\"\n";
    assert_eq!(
        mask(line),
        "<150>DATE haproxy[PID]: 127.0.0.1:PORT [DATE] httpin httpin/s1 T/T/T/-1/T 502 209 \
         - - KH-- AC/1/0/0/0 0/0 \"GET /hold HTTP/1.1\""
    );
}
