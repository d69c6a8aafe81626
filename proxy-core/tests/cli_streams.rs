//! The runtime API commands that act on live streams and limits (`set
//! maxconn server`, `shutdown sessions server`, `show sess`, `shutdown
//! session`, `show errors`), driven with socat against streams held open by
//! a server that never answers. Expected answers are HAProxy 2.6.12's,
//! captured by data/cli/capture.sh on the same kind of configuration.

mod stats_util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use stats_util::{Proxy, have, socat};

/// A server that accepts connections and reads them without ever answering,
/// so that the streams through it stay open until it is dropped (or 30 s
/// pass); dropping it closes them, which ends the streams.
struct Silent {
    addr: SocketAddr,
    held: Arc<Mutex<Vec<TcpStream>>>,
    /// How many request heads (up to their blank line) came in: a request
    /// counted here is at the server, where the proxy waits for the answer.
    requests: Arc<AtomicUsize>,
}

impl Silent {
    fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&held);
        let requests = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&requests);
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                if let Ok(c) = s.try_clone() {
                    keep.lock().unwrap().push(c);
                }
                let count = Arc::clone(&count);
                thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                    let mut chunk = [0u8; 4096];
                    let mut got = Vec::new();
                    let mut counted = 0;
                    while let Ok(n @ 1..) = s.read(&mut chunk) {
                        got.extend_from_slice(&chunk[..n]);
                        let heads = got.windows(4).filter(|w| w == b"\r\n\r\n").count();
                        count.fetch_add(heads - counted, Ordering::SeqCst);
                        counted = heads;
                    }
                });
            }
        });
        Silent {
            addr,
            held,
            requests,
        }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        for s in self.held.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// The silent server, dropped before the proxy so that the proxy's streams
/// end and it stops at once.
struct Env {
    _silent: Silent,
    p: Proxy,
}

fn config(silent: SocketAddr) -> String {
    format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin
    stats socket @DIR@/oper.sock mode 600 level operator
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout queue 30s
frontend web
    bind 127.0.0.1:1
    default_backend dyn
frontend raw
    mode tcp
    bind 127.0.0.1:1
    default_backend tcpb
backend dyn
    balance roundrobin
    server web1 {silent} maxconn 1
backend tcpb
    mode tcp
    server t1 {silent}
backend static
    balance source
    server s1 127.0.0.1:1
listen stats
    bind 127.0.0.1:1
    stats enable
    stats uri /stats
    stats admin if TRUE
"
    )
}

fn setup() -> Option<Env> {
    if !have("socat") {
        eprintln!("skipped: socat is not installed (scripts/setup installs it)");
        return None;
    }
    let silent = Silent::start();
    let p = Proxy::start(&config(silent.addr));
    Some(Env { _silent: silent, p })
}

/// A client that sent `request` and waits for the answer.
fn client(addr: SocketAddr, request: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    s
}

/// Waits (bounded) until `cond` holds on the admin socket's answer to
/// `command`, and returns that answer.
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

/// HAProxy 2.6's answer to `command`, from data/cli/answers.txt (the
/// first capture of that command line).
fn haproxy(command: &str) -> String {
    haproxy_nth(command, 0)
}

/// The answer to the `n`th capture of `command` (0-based).
fn haproxy_nth(command: &str, n: usize) -> String {
    let all = include_str!("data/cli/answers.txt");
    let mark = format!("== {command}\n");
    let start = all
        .match_indices(&mark)
        .nth(n)
        .unwrap_or_else(|| panic!("no capture {n} of {command:?}"))
        .0
        + mark.len();
    let rest = &all[start..];
    let end = rest.find("\n== ").map_or(rest.len(), |e| e + 1);
    rest[..end].to_string()
}

/// Fields `names` of `show stat`'s row `pxname,svname`.
fn stat(csv: &str, row: &str, names: &[&str]) -> Vec<String> {
    let header: Vec<&str> = csv
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{row},")))
        .unwrap_or_else(|| panic!("no row {row} in {csv}"));
    let fields: Vec<&str> = line.split(',').collect();
    names
        .iter()
        .map(|n| {
            let i = header.iter().position(|h| h == n).unwrap();
            fields[i].to_string()
        })
        .collect()
}

/// Whether the proxy closed `s` (EOF or reset) within the read timeout.
fn closed(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

/// Reads one whole response (head and `content-length` body) from `s`;
/// what came before the proxy closed if it closes first.
fn response(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return String::from_utf8_lossy(&got).into_owned();
            }
        }
        match s.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return String::from_utf8_lossy(&got).into_owned(),
        }
    }
}

/// Waits (bounded) until `n` requests reached the silent server.
fn requests_at_least(env: &Env, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while env._silent.requests.load(Ordering::SeqCst) < n {
        assert!(
            Instant::now() < deadline,
            "request {n} never reached the server"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// After its stream was shut down while waiting for the response head, a
/// keep-alive client gets the 502 page and keeps its connection, as with
/// HAProxy: its next request reaches the server as a new stream, which
/// `kill` shuts down in turn; asking for the close then ends the
/// connection after the second 502.
fn kept_after_the_502(env: &Env, http: &mut TcpStream, kill: impl Fn()) {
    let first = response(http);
    assert!(first.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{first}");
    assert!(
        !first.to_lowercase().contains("connection: close"),
        "{first}"
    );
    let before = env._silent.requests.load(Ordering::SeqCst);
    http.write_all(b"GET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    requests_at_least(env, before + 1);
    kill();
    let second = response(http);
    assert!(
        second.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{second}"
    );
    assert!(closed(http), "the client asked for the close");
}

#[test]
fn set_maxconn_server_drains_the_queue_when_raised() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    let req = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";
    let _a = client(p.addr("web"), req);
    wait_for(p, "show stat\n", "first stream on web1", |o| {
        stat(o, "dyn,web1", &["scur"]) == ["1"]
    });
    let _b = client(p.addr("web"), req);
    wait_for(p, "show stat\n", "second stream queued", |o| {
        stat(o, "dyn,BACKEND", &["qcur"]) == ["1"]
    });
    assert_eq!(socat(&admin, "set maxconn server dyn/web1 2\n"), "\n");
    let o = wait_for(p, "show stat\n", "queue drained", |o| {
        stat(o, "dyn,web1", &["scur"]) == ["2"]
    });
    assert_eq!(stat(&o, "dyn,web1", &["slim", "qcur"]), ["2", "0"]);
    assert_eq!(stat(&o, "dyn,BACKEND", &["qcur"]), ["0"]);
    // Lowered below the streams in use: the limit shows at once.
    assert_eq!(socat(&admin, "set maxconn server dyn/web1 1\n"), "\n");
    let o = socat(&admin, "show stat\n");
    assert_eq!(stat(&o, "dyn,web1", &["slim", "scur"]), ["1", "2"]);
    // HAProxy keeps strtol's result in 32 bits (captured: -1 shows as
    // 4294967295, 0 as no limit).
    assert_eq!(socat(&admin, "set maxconn server dyn/web1 -1\n"), "\n");
    let o = socat(&admin, "show stat\n");
    assert_eq!(stat(&o, "dyn,web1", &["slim"]), ["4294967295"]);
    assert_eq!(socat(&admin, "set maxconn server dyn/web1 0\n"), "\n");
    let o = socat(&admin, "show stat\n");
    assert_eq!(stat(&o, "dyn,web1", &["slim"]), [""]);
}

#[test]
fn set_maxconn_server_errors_are_haproxys() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    for cmd in [
        "set maxconn server dyn/web1",
        "set maxconn server dyn/web1 abc",
        "set maxconn server dyn/web1 5x",
        "set maxconn server dyn/nope 5",
        "set maxconn server dyn/nope abc",
        "set maxconn server nope/web1 5",
        "set maxconn server dyn",
        "set maxconn server",
        "set maxconn server dyn/web1 +3",
    ] {
        assert_eq!(socat(&admin, &format!("{cmd}\n")), haproxy(cmd), "{cmd}");
    }
    let o = socat(&admin, "show stat\n");
    assert_eq!(stat(&o, "dyn,web1", &["slim"]), ["3"]);
    // Admin level only, in HAProxy 2.6 as for frontends.
    let oper = p.path("oper.sock");
    for cmd in [
        "set maxconn server dyn/web1 4",
        "set maxconn frontend web 4",
    ] {
        assert_eq!(socat(&oper, &format!("{cmd}\n")), haproxy(cmd), "{cmd}");
    }
}

/// `key=value` fields of a `show sess` line, after its id.
fn sess_fields(line: &str) -> Vec<(String, String)> {
    line.split_once(": ")
        .map_or("", |(_, rest)| rest)
        .split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

/// The `show sess` line of the stream from frontend `fe`.
fn sess_line<'a>(listing: &'a str, fe: &str) -> Option<&'a str> {
    listing.lines().find(|l| l.contains(&format!(" fe={fe} ")))
}

/// Waits until the HTTP stream is on web1 and the TCP one on t1, and
/// returns the `show sess` listing that shows it.
fn both_on_their_servers(p: &Proxy) -> String {
    wait_for(p, "show sess\n", "both streams on their servers", |o| {
        sess_line(o, "web").is_some_and(|l| l.contains(" srv=web1 "))
            && sess_line(o, "raw").is_some_and(|l| l.contains(" srv=t1 "))
    })
}

#[test]
fn show_sess_lists_live_streams_as_haproxy() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    let _http = client(p.addr("web"), "GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
    let _tcp = client(p.addr("raw"), "hello");
    let ours = both_on_their_servers(p);
    let theirs = include_str!("data/cli/show_sess.txt");
    assert!(ours.ends_with("\n\n"), "{ours:?}");
    for fe in ["web", "raw", "GLOBAL"] {
        let o = sess_fields(sess_line(&ours, fe).unwrap());
        let t = sess_fields(sess_line(theirs, fe).unwrap());
        let keys = |f: &[(String, String)]| f.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&o), keys(&t), "fields of the {fe} line");
        for key in ["proto", "fe", "be", "srv", "ts"] {
            assert_eq!(field(&o, key), field(&t, key), "{key} of the {fe} line");
        }
    }
    let line = sess_line(&ours, "web").unwrap();
    let f = sess_fields(line);
    assert!(field(&f, "src").starts_with("127.0.0.1:"), "{line}");
    assert!(field(&f, "age").ends_with('s'), "{line}");
    assert!(line.starts_with("0x"), "{line}");
    // The operator level may list streams, as in HAProxy.
    let oper = socat(&p.path("oper.sock"), "show sess\n");
    assert!(sess_line(&oper, "raw").is_some(), "{oper}");

    // One stream in detail: the lines an operator reads, as HAProxy's.
    let id = sess_line(&ours, "raw").unwrap().split(':').next().unwrap();
    let detail = socat(&admin, &format!("show sess {id}\n"));
    let theirs = include_str!("data/cli/show_sess_id.txt");
    let mask = |t: &str| -> Vec<String> {
        t.lines()
            .take(4)
            .map(|l| {
                l.split(' ')
                    .map(|w| match w.split_once('=') {
                        Some((k, _)) if ["id", "source", "addr"].contains(&k) => format!("{k}=*"),
                        _ if w.starts_with("0x") || w.starts_with('[') => "*".into(),
                        _ => w.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let theirs_kept: String = theirs
        .lines()
        .filter(|l| !l.starts_with("  flags="))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(mask(&detail), mask(&theirs_kept), "{detail}");
    assert!(detail.contains("addr=127.0.0.1:"), "{detail}");
    assert_eq!(
        socat(&admin, "show sess 0x1234\n"),
        haproxy("show sess 0x1234")
    );
    let all = socat(&admin, "show sess all\n");
    assert!(all.contains("  frontend=raw (id=3 mode=tcp)"), "{all}");
    assert!(all.contains("  frontend=web (id=2 mode=http)"), "{all}");
}

#[test]
fn shutdown_session_ends_one_stream() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    let mut tcp = client(p.addr("raw"), "hello");
    let _http = client(p.addr("web"), "GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
    let listing = both_on_their_servers(p);
    let id = sess_line(&listing, "raw")
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    assert_eq!(socat(&admin, &format!("shutdown session {id}\n")), "\n");
    assert!(closed(&mut tcp), "the client sees its connection closed");
    let after = socat(&admin, "show sess\n");
    assert!(sess_line(&after, "raw").is_none(), "{after}");
    assert!(sess_line(&after, "web").is_some(), "{after}");
    // Captured by hand from HAProxy 2.6.12 (the scripted capture may see
    // the freed stream's address reused).
    assert_eq!(
        socat(&admin, &format!("shutdown session {id}\n")),
        "No such session (use 'show sess').\n\n"
    );
    for cmd in [
        "shutdown session",
        "shutdown session zz",
        "shutdown session 0x0",
    ] {
        assert_eq!(socat(&admin, &format!("{cmd}\n")), haproxy(cmd), "{cmd}");
    }
    assert_eq!(
        socat(&p.path("oper.sock"), "shutdown session 0x1\n"),
        haproxy("shutdown session 0x1")
    );
}

#[test]
fn shutdown_sessions_server_closes_its_streams() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    let mut http = client(p.addr("web"), "GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
    let mut tcp = client(p.addr("raw"), "hello");
    both_on_their_servers(p);
    requests_at_least(&env, 1);
    assert_eq!(
        socat(&admin, "shutdown sessions server dyn/web1\n"),
        haproxy("shutdown sessions server dyn/web1")
    );
    kept_after_the_502(&env, &mut http, || {
        assert_eq!(socat(&admin, "shutdown sessions server dyn/web1\n"), "\n");
    });
    wait_for(p, "show stat\n", "web1 has no stream left", |o| {
        stat(o, "dyn,web1", &["scur"]) == ["0"]
    });
    // The other server's stream goes on.
    let listing = socat(&admin, "show sess\n");
    assert!(sess_line(&listing, "raw").is_some(), "{listing}");
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(!closed(&mut tcp));
    for cmd in [
        "shutdown sessions server dyn/nope",
        "shutdown sessions server nope/x",
        "shutdown sessions server dyn",
        "shutdown sessions server",
        "shutdown sessions",
    ] {
        assert_eq!(socat(&admin, &format!("{cmd}\n")), haproxy(cmd), "{cmd}");
    }
    assert_eq!(
        socat(&p.path("oper.sock"), "shutdown sessions server dyn/web1\n"),
        "Permission denied\n\n"
    );
}

/// `show errors` with the dates and the client port masked.
fn mask_errors(answer: &str) -> String {
    answer
        .lines()
        .map(|l| {
            let l = match (l.find('['), l.find(']')) {
                (Some(a), Some(b)) if a < b => format!("{}[DATE]{}", &l[..a], &l[b + 1..]),
                _ => l.to_string(),
            };
            match l.rsplit_once(", src 127.0.0.1:") {
                Some((head, _)) => format!("{head}, src 127.0.0.1:PORT\n"),
                None => format!("{l}\n"),
            }
        })
        .collect()
}

/// Sends `request` to `addr` and returns the status line of the answer.
fn status_of(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn show_errors_prints_the_last_bad_request_as_haproxy() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    let none = socat(&admin, "show errors\n");
    assert!(none.ends_with("] : 0\n\n"), "{none:?}");
    // The requests of data/cli/capture.sh, in its order: the answers then
    // count the same events.
    let web = p.addr("web");
    let bad = status_of(web, b"GET / HTTP/1.1\r\nho st: y\r\nfoo: bar\r\n\r\n");
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert_eq!(
        mask_errors(&socat(&admin, "show errors\n")),
        mask_errors(include_str!("data/cli/show_errors.txt"))
    );
    for cmd in [
        "show errors dyn",
        "show errors nope",
        "show errors web response",
    ] {
        assert_eq!(
            mask_errors(&socat(&admin, &format!("{cmd}\n"))),
            mask_errors(&haproxy(cmd)),
            "{cmd}"
        );
    }
    let theirs: Vec<String> = include_str!("data/cli/show_errors_web.txt")
        .split_inclusive("\n\n")
        .map(mask_errors)
        .collect();
    let long = format!(
        "GET /{} HTTP/1.1\r\nx-long: {}\r\nbad\\x\r\n\r\n",
        "a".repeat(102),
        "b".repeat(111)
    );
    let requests: [&[u8]; 4] = [
        b"G@T / HTTP/1.1\r\n\r\n",
        b"GET /a\x01b HTTP/1.1\r\n\r\n",
        b"GET / HTTX/1.1\r\n\r\n",
        long.as_bytes(),
    ];
    assert_eq!(theirs.len(), requests.len());
    for (req, want) in requests.iter().zip(&theirs) {
        let status = status_of(web, req);
        assert!(status.starts_with("HTTP/1.1 400"), "{status}");
        assert_eq!(&mask_errors(&socat(&admin, "show errors web\n")), want);
    }
    // By numeric id too, as HAProxy allows.
    assert!(socat(&admin, "show errors 2\n").contains("] frontend web (#2): invalid request\n"));
}

/// The `show servers state` line of server `name`, split in fields.
fn state_line(p: &Proxy, name: &str) -> Option<Vec<String>> {
    let out = socat(&p.path("admin.sock"), "show servers state dyn\n");
    out.lines()
        .map(|l| l.split(' ').map(String::from).collect::<Vec<_>>())
        .find(|f| f.get(3).is_some_and(|n| n == name))
}

#[test]
fn add_and_del_server_follow_haproxy() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let admin = p.path("admin.sock");
    let silent = env._silent.addr;
    assert_eq!(
        socat(&admin, &format!("add server dyn/web3 {silent}\n")),
        haproxy("add server dyn/web3 127.0.0.1:18293")
    );
    assert_eq!(
        socat(&admin, &format!("add server dyn/web3 {silent}\n")),
        haproxy_nth("add server dyn/web3 127.0.0.1:18293", 1)
    );
    // A new server starts in maintenance, as in HAProxy (captured: op
    // state 0, admin state 1, weights 1 1).
    let theirs = include_str!("data/cli/answers.txt")
        .lines()
        .find(|l| l.starts_with("4 dyn 2 web3 "))
        .unwrap();
    let theirs: Vec<&str> = theirs.split(' ').collect();
    let ours = state_line(p, "web3").expect("web3 listed");
    assert_eq!(ours.len(), theirs.len(), "{ours:?}");
    // All but the time since the last change and the port.
    for i in (0..ours.len()).filter(|i| *i != 9 && *i != 18) {
        assert_eq!(ours[i], theirs[i], "field {i}: {ours:?}");
    }
    let o = socat(&admin, "show stat\n");
    assert_eq!(stat(&o, "dyn,web3", &["status", "sid"]), ["MAINT", "2"]);
    // Ready, it takes traffic.
    assert_eq!(socat(&admin, "set server dyn/web1 state maint\n"), "\n");
    assert_eq!(socat(&admin, "set server dyn/web3 state ready\n"), "\n");
    let mut c = client(p.addr("web"), "GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    wait_for(p, "show sess\n", "a stream on web3", |o| {
        sess_line(o, "web").is_some_and(|l| l.contains(" srv=web3 "))
    });
    requests_at_least(&env, 1);
    // Deleting wants maintenance, then no stream on it.
    assert_eq!(socat(&admin, "set server dyn/web1 state ready\n"), "\n");
    assert_eq!(
        socat(&admin, "del server dyn/web1\n"),
        haproxy("del server dyn/web1")
    );
    assert_eq!(socat(&admin, "set server dyn/web3 state maint\n"), "\n");
    assert_eq!(
        socat(&admin, "del server dyn/web3\n"),
        haproxy("del server dyn/web1 (with a stream)")
    );
    assert_eq!(socat(&admin, "shutdown sessions server dyn/web3\n"), "\n");
    // The 502 page, and the client keeps its connection, as with HAProxy.
    let page = response(&mut c);
    assert!(page.starts_with("HTTP/1.1 502 "), "{page}");
    drop(c);
    wait_for(p, "show stat\n", "web3 has no stream left", |o| {
        stat(o, "dyn,web3", &["scur"]) == ["0"]
    });
    assert_eq!(
        socat(&admin, "del server dyn/web3\n"),
        haproxy("del server dyn/web3")
    );
    assert!(state_line(p, "web3").is_none());
    assert!(!socat(&admin, "show stat\n").contains("dyn,web3,"));
    assert_eq!(
        socat(&admin, "set server dyn/web3 state ready\n"),
        "No such server.\n\n"
    );
    // The name is free again, and so is the id: as in HAProxy, the new
    // server takes the lowest free one, web3's.
    assert_eq!(
        socat(&admin, "add server dyn/web3 127.0.0.1:1 weight 2\n"),
        "New server registered.\n\n"
    );
    assert_eq!(state_line(p, "web3").unwrap()[2], "2");
    assert_eq!(
        socat(&admin, "add server dyn/web4 127.0.0.1:1\n"),
        "New server registered.\n\n"
    );
    assert_eq!(state_line(p, "web4").unwrap()[2], "3");
    for cmd in [
        "add server static/x 127.0.0.1:1",
        "add server dyn/w4",
        "add server dyn/w5 127.0.0.1:1 bogus",
        "add server dyn/w7 127.0.0.1:1 weight 300",
        "add server nope/x 127.0.0.1",
        "add server dyn",
        "del server dyn/nope",
        "del server nope/x",
        "del server dyn",
    ] {
        assert_eq!(socat(&admin, &format!("{cmd}\n")), haproxy(cmd), "{cmd}");
    }
    assert_eq!(
        socat(&p.path("oper.sock"), "add server dyn/x 127.0.0.1:1\n"),
        "Permission denied\n\n"
    );
}

#[test]
fn the_stats_page_kills_a_servers_sessions() {
    let Some(env) = setup() else { return };
    let p = &env.p;
    let mut http = client(p.addr("web"), "GET /a HTTP/1.1\r\nhost: x\r\n\r\n");
    let mut tcp = client(p.addr("raw"), "hello");
    both_on_their_servers(p);
    requests_at_least(&env, 1);
    let shutdown = || {
        let body = "s=web1&action=shutdown&b=dyn";
        let answer = stats_util::http(
            p.addr("stats"),
            &format!(
                "POST /stats HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
        assert!(answer.contains(";st=DONE"), "{answer}");
    };
    shutdown();
    kept_after_the_502(&env, &mut http, shutdown);
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(!closed(&mut tcp));
}
