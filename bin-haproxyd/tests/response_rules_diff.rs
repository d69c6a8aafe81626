//! `http-response` rules on response fetches (`status`, `res.hdr`,
//! `res.fhdr`, `res.hdr_cnt`, `scook`), `var()` in conditions, `hdr()`
//! in values (the response's header in response rules),
//! `http-response return`, and the request's contents, which ACLs in
//! response rules cannot read (the method and addresses they can): the same
//! configuration and requests through the real HAProxy 2.6 and through
//! haproxyd, compared on status, body and the headers the rules set.
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use util::{Proxy, TempDir, free_port, local, skip_without_haproxy};

/// The backend's answer to `GET /code/N`: status N, a header `X-A` sent
/// twice (once with a comma), a cookie, and the request's `X-Seen` header
/// echoed as `X-Echo`.
fn backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
    let port = listener.local_addr().expect("backend address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}

fn answer(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let code: u16 = head
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|p| p.strip_prefix("/code/"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    let seen = head
        .iter()
        .skip(1)
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("x-seen")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| "-".into());
    let body = "backend";
    let text = format!(
        "HTTP/1.1 {code} Whatever\r\nContent-Type: text/html\r\nX-A: one, two\r\nX-A: three\r\n\
         Set-Cookie: sid=abc; Path=/\r\nX-Echo: {seen}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = writer.write_all(text.as_bytes());
}

const CONFIG: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend rules
    bind 127.0.0.1:{front}
    http-request set-var(txn.tier) req.hdr(x-tier)
    http-request set-header x-seen gold if { var(txn.tier) -m str gold }
    http-request set-var(txn.host) hdr(host)
    http-response set-header x-host %[var(txn.host)]
    http-request deny deny_status 500 if { status 200 }
    acl missing status 404
    acl gold var(txn.tier) -m str gold
    http-response return status 200 content-type text/plain string replaced hdr x-b y if missing gold
    http-response return status 202 content-type text/plain lf-string \"tier=%[var(txn.tier)]\" if missing { var(txn.tier) -m str silver }
    http-response set-header x-st %[status] if { status 400:499 }
    http-response set-header x-a-two yes if { res.hdr(x-a) two }
    http-response set-header x-a-first yes if { res.hdr(x-a,1) one }
    http-response set-header x-fh yes if { res.fhdr(x-a,1) -m sub , }
    http-response set-header x-cnt yes if { res.hdr_cnt(x-a) 3 } { res.fhdr_cnt(x-a) 2 }
    http-response set-header x-cook yes if { scook(sid) abc } !{ scook(path) -m found }
    http-response set-header x-ver yes if { res.ver 1.1 }
    http-response set-header x-path yes if { path_beg /code }
    http-response set-header x-tier-hdr yes if { req.hdr(x-tier) -m found }
    http-response set-header x-meth yes if { method GET } { src 127.0.0.1 }
    http-response set-header x-hdr %[hdr(x-a)]
    default_backend be

backend be
    server s1 127.0.0.1:{back}
";

/// Status, body, and the headers rules may set, lower-cased and sorted.
fn seen(addr: SocketAddr, path: &str, extra: &str) -> (u16, Vec<String>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to proxy");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut headers: Vec<String> = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            let n = n.trim().to_ascii_lowercase();
            (n.starts_with("x-") || n == "content-type").then(|| format!("{n}: {}", v.trim()))
        })
        .collect();
    headers.sort();
    (status, headers, body.to_owned())
}

#[test]
fn response_rules_act_as_haproxy_does() {
    if skip_without_haproxy() {
        return;
    }
    let dir = TempDir::new("resrules");
    let back = backend().to_string();
    let start = |program: &str, tag: &str| {
        let front = free_port();
        let text = CONFIG
            .replace("{front}", &front.to_string())
            .replace("{back}", &back);
        let cfg = dir.write(&format!("{tag}.cfg"), &text);
        let cfg = cfg.to_str().expect("utf-8 path").to_owned();
        let mut p = Proxy::start(program, &["-db", "-f", &cfg], &dir, tag);
        p.wait_listening(local(front));
        (p, local(front))
    };
    let (reference, want_addr) = start("haproxy", "haproxy");
    let (ours, got_addr) = start(env!("CARGO_BIN_EXE_haproxyd"), "haproxyd");
    let cases = [
        ("/code/404", "X-Tier: gold\r\n"),
        ("/code/404", "X-Tier: silver\r\n"),
        ("/code/404", ""),
        ("/code/200", "X-Tier: gold\r\n"),
        ("/code/503", "X-Tier: silver\r\n"),
    ];
    let mut report = String::new();
    for (path, extra) in cases {
        let want = seen(want_addr, path, extra);
        let got = seen(got_addr, path, extra);
        if want != got {
            report.push_str(&format!(
                "--- {path} {extra:?}\n  haproxy:  {want:?}\n  haproxyd: {got:?}\n"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{report}\nhaproxy stderr:\n{}\nhaproxyd stderr:\n{}",
        reference.stderr_text(),
        ours.stderr_text()
    );
}
