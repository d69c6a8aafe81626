//! Connection retries on refused servers with and without `option
//! redispatch`, through the real HAProxy 2.6 and through haproxyd: which
//! server the request ends on and the retries field of the log line (`+N`
//! when the stream moved to another server), for each balancing situation
//! that decides whether a retry goes back to the balancer at once.
//!
//! Timers are never compared: `timeout connect` is short so that the
//! turn-around pauses stay short, and only where the request ends is
//! compared, which follows from the same decisions.
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod util;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use util::{PATIENCE, Proxy, TempDir, free_port, local, skip_without_haproxy};

/// A backend that answers every request 200, closing.
fn alive() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
    let port = listener.local_addr().expect("backend address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    port
}

/// One backend situation: name, `balance` line, redispatch line, retries
/// and servers (`R` refusing, `A` alive, `b` suffix for backup).
const CASES: &[(&str, &str, &str, u32, &[&str])] = &[
    // Every retry goes to the other server at once.
    (
        "first_redispatch",
        "first",
        "option redispatch",
        4,
        &["R", "R"],
    ),
    (
        "rr_redispatch",
        "roundrobin",
        "option redispatch",
        3,
        &["R", "R"],
    ),
    (
        "leastconn_redispatch",
        "leastconn",
        "option redispatch",
        3,
        &["R", "R"],
    ),
    (
        "static_rr_interval_0",
        "static-rr",
        "option redispatch 0",
        3,
        &["R", "R"],
    ),
    (
        "first_interval_3",
        "first",
        "option redispatch 3",
        4,
        &["R", "R"],
    ),
    (
        "first_to_alive",
        "first",
        "option redispatch",
        3,
        &["R", "A"],
    ),
    // Without redispatch, or with one server: the same server each time.
    ("first_stubborn", "first", "", 2, &["R", "R"]),
    (
        "single_redispatch",
        "roundrobin",
        "option redispatch",
        2,
        &["R"],
    ),
    (
        "backup_last",
        "roundrobin",
        "option redispatch",
        2,
        &["R", "Rb"],
    ),
    // A map-based hash answers with the same server on a redispatch, so
    // the retries stay there and the log shows no `+`; the consistent ring
    // skips it.
    (
        "source_interval_1",
        "source",
        "option redispatch 1",
        2,
        &["R", "R"],
    ),
    ("source_last", "source", "option redispatch", 2, &["R", "R"]),
    ("uri_map_1", "uri", "option redispatch 1", 2, &["R", "R"]),
    (
        "consistent_last",
        "source\n    hash-type consistent",
        "option redispatch",
        2,
        &["R", "R"],
    ),
    (
        "uri_consistent_1",
        "uri\n    hash-type consistent",
        "option redispatch 1",
        2,
        &["R", "R"],
    ),
];

/// Differences from HAProxy that are known, as (case name, reason). The test
/// fails when one of them disappears too, so the list stays true.
const KNOWN: &[(&str, &str)] = &[];

fn config(ports: &[(String, u16)], servers: &[Vec<(u16, bool)>]) -> String {
    let mut text = String::from(
        "global\n    log stdout format raw local0\n\
         defaults\n    mode http\n    log global\n    option httplog\n    \
         timeout connect 50ms\n    timeout client 10s\n    timeout server 10s\n",
    );
    for (((name, balance, redispatch, retries, _), (_, port)), servers) in
        CASES.iter().zip(ports).zip(servers)
    {
        text.push_str(&format!(
            "listen {name}\n    bind 127.0.0.1:{port}\n    balance {balance}\n    \
             retries {retries}\n    {redispatch}\n"
        ));
        for (i, (p, backup)) in servers.iter().enumerate() {
            let backup = if *backup { " backup" } else { "" };
            text.push_str(&format!("    server s{} 127.0.0.1:{p}{backup}\n", i + 1));
        }
    }
    text
}

/// The status, then `server retries` from the request's log line.
fn outcome(proxy: &Proxy, addr: SocketAddr, name: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to proxy");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut first = String::new();
    let _ = BufReader::new(stream).read_line(&mut first);
    let status = first
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let deadline = Instant::now() + PATIENCE;
    let marker = format!(" {name} {name}/");
    loop {
        let text = proxy.stdout_text();
        // Not the lines of the probes that waited for the proxy to listen.
        if let Some(line) = text
            .lines()
            .find(|l| l.contains(&marker) && l.contains("\"GET / "))
        {
            // `... name name/server Tq/Tw/Tc/Tr/Ta status bytes cc cs tsc
            // ac/fc/bc/sc/retries ...`
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| w.starts_with(&marker[name.len() + 2..]));
            let server = at.and_then(|i| words.get(i)).copied().unwrap_or("?");
            let retries = at
                .and_then(|i| words.get(i + 7))
                .and_then(|w| w.rsplit('/').next())
                .unwrap_or("?");
            return (status, format!("{server} {retries}"));
        }
        assert!(Instant::now() < deadline, "no log line for {name}:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn retries_end_where_haproxy_ends_them() {
    if skip_without_haproxy() {
        return;
    }
    let dir = TempDir::new("redispatch");
    // The live backend first, so that the refused ports (nobody listens
    // on them) cannot be its own.
    let live = alive();
    let refused = [free_port(), free_port()];
    let servers: Vec<Vec<(u16, bool)>> = CASES
        .iter()
        .map(|(_, _, _, _, kinds)| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let port = match *k {
                        "A" => live,
                        _ => refused.get(i).copied().unwrap_or(0),
                    };
                    (port, k.ends_with('b'))
                })
                .collect()
        })
        .collect();
    let start = |program: &str, tag: &str| {
        let ports: Vec<(String, u16)> = CASES
            .iter()
            .map(|(name, ..)| ((*name).to_owned(), free_port()))
            .collect();
        let cfg = dir.write(&format!("{tag}.cfg"), &config(&ports, &servers));
        let cfg = cfg.to_str().expect("utf-8 path").to_owned();
        let mut proxy = Proxy::start(program, &["-db", "-f", &cfg], &dir, tag);
        for (_, port) in &ports {
            proxy.wait_listening(local(*port));
        }
        (proxy, ports)
    };
    let (haproxy, want_ports) = start("haproxy", "haproxy");
    let (ours, got_ports) = start(env!("CARGO_BIN_EXE_haproxyd"), "haproxyd");
    let mut report = String::new();
    for (((name, ..), (_, want_port)), (_, got_port)) in
        CASES.iter().zip(&want_ports).zip(&got_ports)
    {
        let want = outcome(&haproxy, local(*want_port), name);
        let got = outcome(&ours, local(*got_port), name);
        let known = KNOWN.iter().any(|(k, _)| k == name);
        if (want != got) != known {
            let verdict = if known {
                "known difference gone"
            } else {
                "differs"
            };
            report.push_str(&format!(
                "{name}: {verdict}: haproxy {want:?}, haproxyd {got:?}\n"
            ));
        }
    }
    assert!(report.is_empty(), "{report}");
}
