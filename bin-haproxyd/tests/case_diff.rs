//! Header-name case on the wire: the same configuration and requests
//! through the real HAProxy 2.6 and through haproxyd, compared on the raw
//! bytes the server receives and the raw bytes the client receives.
//!
//! HAProxy sends names lowercased: the request's, those rules add,
//! `x-forwarded-for`, the response's, `connection`, those of its own
//! answers, and trailers. `h1-case-adjust` (and `h1-case-adjust-file`)
//! name exceptions where `option h1-case-adjust-bogus-client|server` asks.
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use util::{PATIENCE, Proxy, TempDir, free_port, local, skip_without_haproxy};

/// A backend that sends each request's raw head and body (up to the end
/// of a chunked body or of its Content-Length) down `seen`, then answers
/// with mixed-case names and a chunked body with a trailer.
fn backend(seen: Sender<Vec<u8>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
    let port = listener.local_addr().expect("backend address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let seen = seen.clone();
            std::thread::spawn(move || serve(stream, &seen));
        }
    });
    port
}

fn serve(mut stream: TcpStream, seen: &Sender<Vec<u8>>) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(len) = request_len(&buf) {
            let request: Vec<u8> = buf.drain(..len).collect();
            let _ = seen.send(request);
            let answer = b"HTTP/1.1 200 OK\r\nX-Server-Hdr: A\r\nContent-Type: text/plain\r\n\
                Transfer-Encoding: chunked\r\nSet-Cookie: a=b\r\n\r\n\
                2\r\nhi\r\n0\r\nX-Res-Trailer: T\r\n\r\n";
            if stream.write_all(answer).is_err() {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}

/// Length of the first complete request in `buf`: head, then a chunked body
/// up to its final empty line or a Content-Length body.
fn request_len(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(buf.get(..head)?).to_ascii_lowercase();
    if text.contains("transfer-encoding: chunked") {
        // The test's chunked bodies are one chunk and a trailer section.
        let rest = buf.get(head..)?;
        let last = rest.windows(5).position(|w| w == b"\r\n0\r\n")? + 5;
        let end = rest.get(last..)?.windows(4).position(|w| w == b"\r\n\r\n");
        let end = match end {
            Some(e) => last + e + 4,
            None if rest.get(last..last + 2)? == b"\r\n" => last + 2,
            None => return None,
        };
        return Some(head + end);
    }
    let len = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head + len).then_some(head + len)
}

const CONFIG: &str = "\
global
    h1-case-adjust content-length Content-LENGTH
    h1-case-adjust x-forwarded-for X-Forwarded-For
    h1-case-adjust-file {file}

defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend plain
    bind 127.0.0.1:{plain}
    option forwardfor
    http-request set-header X-Foo bar
    http-response set-header X-Resp Yes
    http-request return status 200 content-type text/plain string hello hdr X-Ret Val if { path /ret }
    http-request deny if { path /deny }
    default_backend be

frontend bogus
    bind 127.0.0.1:{bogus}
    option forwardfor
    option h1-case-adjust-bogus-client
    http-request return status 200 content-type text/plain string hello hdr X-Ret Val if { path /ret }
    http-request deny if { path /deny }
    default_backend be_bogus

backend be
    server s1 127.0.0.1:{back}

backend be_bogus
    option h1-case-adjust-bogus-server
    http-request set-header x-foo bar
    server s1 127.0.0.1:{back}
";

const CASE_FILE: &str = "\
# names the file adjusts
  x-foo   X-FOO
set-cookie Set-Cookie
";

/// Requests sent to each frontend; every one asks to close.
const REQUESTS: &[&str] = &[
    "GET /a HTTP/1.1\r\nHost: X\r\nUser-Agent: UA\r\nX-Mixed-CASE: v\r\nConnection: close\r\n\r\n",
    "POST /b HTTP/1.1\r\nHOST: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
     3\r\nabc\r\n0\r\nX-Trailer: V\r\n\r\n",
    "GET /ret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
];

/// The raw bytes the client got for `request`, and those the server got
/// (empty when the proxy answered itself).
fn exchange(addr: SocketAddr, request: &str, seen: &Receiver<Vec<u8>>) -> (String, String) {
    while seen.try_recv().is_ok() {}
    let mut stream = TcpStream::connect(addr).expect("connect to proxy");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let from_server = raw
        .windows(13)
        .any(|w| w.eq_ignore_ascii_case(b"x-server-hdr:"));
    let to_server = if from_server {
        seen.recv_timeout(Duration::from_secs(10))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    (
        String::from_utf8_lossy(&raw).into_owned(),
        String::from_utf8_lossy(&to_server).into_owned(),
    )
}

#[test]
fn header_names_on_the_wire_as_haproxy_sends_them() {
    if skip_without_haproxy() {
        return;
    }
    let dir = TempDir::new("case");
    let (tx, rx) = channel();
    let back = backend(tx).to_string();
    let file = dir.write("case.txt", CASE_FILE);
    let start = |program: &str, tag: &str| {
        let (plain, bogus) = (free_port(), free_port());
        let text = CONFIG
            .replace("{plain}", &plain.to_string())
            .replace("{bogus}", &bogus.to_string())
            .replace("{back}", &back)
            .replace("{file}", file.to_str().expect("utf-8 path"));
        let cfg = dir.write(&format!("{tag}.cfg"), &text);
        let cfg = cfg.to_str().expect("utf-8 path").to_owned();
        let mut p = Proxy::start(program, &["-db", "-f", &cfg], &dir, tag);
        p.wait_listening(local(plain));
        p.wait_listening(local(bogus));
        (p, [local(plain), local(bogus)])
    };
    let (reference, want_addrs) = start("haproxy", "haproxy");
    let (ours, got_addrs) = start(env!("CARGO_BIN_EXE_haproxyd"), "haproxyd");
    let mut report = String::new();
    let mut compared = 0;
    for (want_addr, got_addr) in want_addrs.into_iter().zip(got_addrs) {
        for request in REQUESTS {
            let want = exchange(want_addr, request, &rx);
            // The reference lowercases what this test expects it to.
            if request.starts_with("GET /a ") {
                assert!(want.1.contains("\r\nx-mixed-case: v\r\n"), "{want:?}");
            }
            let got = exchange(got_addr, request, &rx);
            compared += 1;
            if want != got {
                report.push_str(&format!(
                    "--- {request:?}\n  haproxy:  {want:?}\n  haproxyd: {got:?}\n"
                ));
            }
        }
    }
    assert_eq!(compared, 2 * REQUESTS.len());
    assert!(
        report.is_empty(),
        "{report}\nhaproxy stderr:\n{}\nhaproxyd stderr:\n{}",
        reference.stderr_text(),
        ours.stderr_text()
    );
}
