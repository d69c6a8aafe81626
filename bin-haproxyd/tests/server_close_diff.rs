//! How a server connection ends when the proxy is done with it, through the
//! real HAProxy 2.6 and through haproxyd: with a reset when the proxy closes
//! first (HAProxy sets `SO_LINGER` to zero on server connections, so that
//! no TIME_WAIT socket stays on its side), or not at all while the
//! connection waits in the idle pool.
//!
//! The backend answers with a Content-Length and never closes; after each
//! answer it waits for what the proxy does next: another request, a FIN, a
//! reset, or nothing within a bound (`open`, the connection pooled).
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use util::{Proxy, TempDir, free_port, local, skip_without_haproxy};

/// How long the backend waits for the proxy's next move before calling the
/// connection `open`. Only a bound: a slow machine can turn a late reset
/// into `open` (and fail the comparison), never the other way round.
const WAIT: Duration = Duration::from_secs(3);

/// A backend on its own port that reports, for every connection, how the
/// proxy ended it after its first answer.
fn backend() -> (u16, mpsc::Receiver<&'static str>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
    let port = listener.local_addr().expect("backend address").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(serve(stream));
            });
        }
    });
    (port, rx)
}

/// Answers one request, then tells what came next.
fn serve(mut stream: TcpStream) -> &'static str {
    let _ = stream.set_read_timeout(Some(WAIT));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return "no request",
        }
    }
    if stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        .is_err()
    {
        return "write failed";
    }
    match stream.read(&mut byte) {
        Ok(0) => "fin",
        Ok(_) => "another request",
        Err(e) if e.kind() == ErrorKind::ConnectionReset => "reset",
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => "open",
        Err(_) => "error",
    }
}

/// (frontend and option, request, whether the client closes its side
/// after the answer, what HAProxy 2.6 does to the server connection).
const CASES: &[(&str, &str, bool, &str)] = &[
    // The connection goes to the idle pool when the client leaves, whether
    // it asked to close or not: the pool is below what HAProxy estimates
    // the server needs.
    (
        "http-keep-alive",
        "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        true,
        "open",
    ),
    (
        "http-keep-alive",
        "GET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        false,
        "open",
    ),
    (
        "http-keep-alive",
        "GET /c HTTP/1.1\r\nHost: t\r\n\r\n",
        true,
        "open",
    ),
    // The proxy ends the connection after the answer: a reset.
    (
        "http-server-close",
        "GET /d HTTP/1.1\r\nHost: t\r\n\r\n",
        false,
        "reset",
    ),
    (
        "httpclose",
        "GET /e HTTP/1.1\r\nHost: t\r\n\r\n",
        false,
        "reset",
    ),
];

fn config(ports: &[(u16, u16)]) -> String {
    let mut text = String::from(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    \
         timeout server 10s\n    timeout http-keep-alive 10s\n",
    );
    for (i, ((option, ..), (front, back))) in CASES.iter().zip(ports).enumerate() {
        text += &format!(
            "\nlisten case{i}\n    bind 127.0.0.1:{front}\n    option {option}\n    \
             server s1 127.0.0.1:{back}\n"
        );
    }
    text
}

/// Runs every case through `program`; returns what each server connection saw.
fn run(program: &str, dir: &TempDir, tag: &str) -> Vec<&'static str> {
    let backends: Vec<_> = CASES.iter().map(|_| backend()).collect();
    let ports: Vec<(u16, u16)> = backends.iter().map(|(p, _)| (free_port(), *p)).collect();
    let cfg = dir.write(&format!("{tag}.cfg"), &config(&ports));
    let mut proxy = Proxy::start(
        program,
        &["-db", "-f", cfg.to_str().expect("utf-8 path")],
        dir,
        tag,
    );
    for (front, _) in &ports {
        proxy.wait_listening(local(*front));
    }
    let mut seen = Vec::new();
    for (((_, request, client_leaves, _), (front, _)), (_, rx)) in
        CASES.iter().zip(&ports).zip(&backends)
    {
        let addr: SocketAddr = local(*front);
        let mut client = TcpStream::connect(addr).expect("connect to the proxy");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        client.write_all(request.as_bytes()).expect("send");
        let mut answer = Vec::new();
        let mut buf = [0u8; 512];
        while !answer.ends_with(b"\r\n\r\nok") {
            match client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "{tag}: {}\n{}",
            String::from_utf8_lossy(&answer),
            proxy.stderr_text()
        );
        // The client stays connected while the server connection's end is
        // awaited, unless leaving is the case.
        let kept = (!client_leaves).then_some(client);
        seen.push(rx.recv_timeout(WAIT * 3).unwrap_or("nothing reported"));
        drop(kept);
    }
    seen
}

#[test]
fn server_connections_end_as_with_haproxy() {
    if skip_without_haproxy() {
        return;
    }
    let dir = TempDir::new("server-close");
    // Each side has its own backends and ports: both run at once.
    let (wanted, got) = std::thread::scope(|scope| {
        let wanted = scope.spawn(|| run("haproxy", &dir, "haproxy"));
        let got = run(env!("CARGO_BIN_EXE_haproxyd"), &dir, "haproxyd");
        (wanted.join().expect("the HAProxy run"), got)
    });
    let pinned: Vec<&str> = CASES.iter().map(|c| c.3).collect();
    assert_eq!(wanted, pinned, "HAProxy itself: {CASES:?}");
    assert_eq!(got, wanted, "haproxyd against HAProxy: {CASES:?}");
}
