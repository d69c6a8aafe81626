//! The runtime API commands that act on live streams and limits (`set
//! maxconn server`, `shutdown sessions server`, `show sess`, `shutdown
//! session`, `show errors`), driven with socat against streams held open by
//! a server that never answers. Expected answers are HAProxy 2.6.12's,
//! captured by data/cli/capture.sh on the same kind of configuration.

mod stats_util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
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
}

impl Silent {
    fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&held);
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                if let Ok(c) = s.try_clone() {
                    keep.lock().unwrap().push(c);
                }
                thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                    let mut chunk = [0u8; 4096];
                    while matches!(s.read(&mut chunk), Ok(n) if n > 0) {}
                });
            }
        });
        Silent { addr, held }
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
    let all = include_str!("data/cli/answers.txt");
    let mark = format!("== {command}\n");
    let start = all
        .find(&mark)
        .unwrap_or_else(|| panic!("no capture of {command:?}"))
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
