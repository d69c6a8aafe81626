//! Request smuggling and protocol abuse, compared with HAProxy 2.6.
//!
//! Every `tests/hostile/NAME.http` holds the raw bytes a client sends on one
//! connection: CL.TE and TE.CL, Transfer-Encoding obfuscations, odd
//! Content-Length values, chunk-size tricks, bare CR and LF, NUL and control
//! bytes, unusual request targets, oversized heads, HTTP/0.9, `Connection`
//! abuse and pipelining after an error. `hostile/capture.py` recorded what
//! the real HAProxy 2.6 did with each (`hostile/haproxy-2.6.tsv`): the
//! statuses the client read, whether the connection was closed, and the raw
//! bytes that reached a recording backend. This test sends the same bytes
//! through haproxyd, with the same configuration (`hostile/proxy.cfg`), to
//! the same kind of backend, and compares.
//!
//! Forwarded requests are compared after normalizations that do not change
//! what a server understands: header names lower-cased, headers ordered by
//! name (the order among fields of one name is kept), Content-Length as a
//! number, chunked bodies decoded (payload and trailers), and
//! `Connection: keep-alive` / `close` (which only govern the server side
//! connection) left out. Whatever the expectations say, haproxyd must never
//! forward an ambiguous message, nor anything when it answers an error.

mod util;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use util::{PATIENCE, Proxy, TempDir, free_port, local, workspace};

/// Cases where haproxyd knowingly differs from HAProxy 2.6, with why. The
/// test fails when one of them stops differing, so the list stays true.
const KNOWN: &[(&str, &str)] = &[
    (
        "cl_overflow",
        "HAProxy 2.6.12 forwards a Content-Length of 184467440737095516160 \
         (2^64 * 10) as it is and waits for the body: an overflow it does not \
         detect. haproxyd refuses it with 400",
    ),
    (
        "nul_in_value",
        "haproxyd refuses NUL in a header value with 400; HAProxy 2.6 forwards it",
    ),
    (
        "uri_del",
        "haproxyd refuses DEL in the request target with 400; HAProxy 2.6 forwards it",
    ),
    (
        "version_12",
        "haproxyd speaks HTTP/1.0 and 1.1 only and refuses HTTP/1.2 with 400; \
         HAProxy 2.6 forwards it as HTTP/1.1",
    ),
    (
        "te_folded",
        "haproxyd refuses obs-fold in requests with 400 (RFC 9112 5.2 allows \
         it); HAProxy 2.6 unfolds the field and forwards",
    ),
];

/// What HAProxy did with one case.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    /// Status of each response the client read.
    statuses: Vec<u16>,
    /// The proxy closed the client connection after them.
    closed: bool,
    /// What reached the backend, normalized, one entry per request.
    forwarded: Vec<Normal>,
}

/// A forwarded request in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Normal {
    /// Request line, headers (`name: value`), body.
    Request(String, Vec<String>, Vec<u8>),
    /// Bytes that did not form a request.
    Raw(Vec<u8>),
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digits"))
        .collect()
}

fn hostile_dir() -> PathBuf {
    workspace().join("bin-haproxyd/tests/hostile")
}

/// The captured expectations, by case name.
fn expectations() -> BTreeMap<String, Outcome> {
    let text = std::fs::read_to_string(hostile_dir().join("haproxy-2.6.tsv"))
        .expect("hostile/haproxy-2.6.tsv is readable");
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 4, "bad capture line: {line}");
        let statuses = match f[1] {
            "-" => Vec::new(),
            s => s.split(',').map(|c| c.parse().expect("status")).collect(),
        };
        let forwarded = match f[3] {
            "-" => Vec::new(),
            s => s.split(',').map(|h| normalize(&hex(h))).collect(),
        };
        out.insert(
            f[0].to_string(),
            Outcome {
                statuses,
                closed: f[2] == "yes",
                forwarded,
            },
        );
    }
    out
}

/// Where the head ends (after its blank line), accepting bare LF as the
/// recording backend does.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `name: value` pairs of a head (the start line aside), names lower-cased.
fn fields(head: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(head)
        .split('\n')
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

fn field<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Decodes a chunked body into payload and trailer lines; `None` when it is
/// not complete chunked framing.
fn dechunk(mut body: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut payload = Vec::new();
    loop {
        let eol = body.iter().position(|&b| b == b'\n')?;
        let line = std::str::from_utf8(&body[..eol]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        body = &body[eol + 1..];
        if size == 0 {
            let trailers = fields(&[b"x\n", body].concat())
                .into_iter()
                .flat_map(|(n, v)| format!("{n}: {v}\n").into_bytes())
                .collect();
            return Some((payload, trailers));
        }
        payload.extend_from_slice(body.get(..size)?);
        body = body.get(size..)?;
        let eol = body.iter().position(|&b| b == b'\n')?;
        body = &body[eol + 1..];
    }
}

/// The comparable form of one forwarded request.
fn normalize(raw: &[u8]) -> Normal {
    let Some(end) = head_end(raw) else {
        return Normal::Raw(raw.to_vec());
    };
    let (head, body) = raw.split_at(end);
    let line = String::from_utf8_lossy(head)
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_string();
    let f = fields(head);
    let chunked = field(&f, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut headers: Vec<(String, String)> = f
        .into_iter()
        .filter(|(n, v)| {
            !(n == "connection"
                && (v.eq_ignore_ascii_case("keep-alive") || v.eq_ignore_ascii_case("close")))
        })
        .map(|(n, v)| {
            let v = match v.parse::<u64>() {
                Ok(number) if n == "content-length" => number.to_string(),
                _ => v,
            };
            (n, v)
        })
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let body = if chunked {
        match dechunk(body) {
            Some((payload, trailers)) => [payload, b"\0trailers\0".to_vec(), trailers].concat(),
            None => return Normal::Raw(raw.to_vec()),
        }
    } else {
        body.to_vec()
    };
    let headers = headers
        .into_iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    Normal::Request(line, headers, body)
}

/// Why `raw`, a request haproxyd forwarded, could be framed two ways, if
/// it could.
fn ambiguity(raw: &[u8]) -> Option<String> {
    let Some(end) = head_end(raw) else {
        return Some("no complete head".into());
    };
    let head = &raw[..end];
    if head.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r') {
        return Some("a line not ended by CRLF".into());
    }
    let f = fields(head);
    let te: Vec<&str> = f
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .map(|(_, v)| v.as_str())
        .collect();
    let cl: Vec<&str> = f
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    if !te.is_empty() && !cl.is_empty() {
        return Some("both Transfer-Encoding and Content-Length".into());
    }
    // Coding names are case-insensitive: `CHUNKED` is chunked (HAProxy
    // forwards it as it came too).
    if te.len() > 1
        || te
            .first()
            .is_some_and(|v| !v.eq_ignore_ascii_case("chunked"))
    {
        return Some(format!("Transfer-Encoding {te:?}"));
    }
    if cl.len() > 1
        || cl
            .first()
            .is_some_and(|v| !v.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!("Content-Length {cl:?}"));
    }
    if let Some(v) = cl.first() {
        let n: usize = v.parse().map_err(|_| ()).ok()?;
        if raw.len() - end != n {
            return Some(format!(
                "Content-Length {n} but {} body bytes",
                raw.len() - end
            ));
        }
    }
    None
}

/// Raw requests as the backend received them, each tagged with the case
/// being run when its last byte arrived.
type Journal = Arc<Mutex<Vec<(usize, Vec<u8>)>>>;

/// The length of the first complete request in `buf`, framed as a plain
/// server would frame it.
fn request_len(buf: &[u8]) -> Option<usize> {
    let end = head_end(buf)?;
    let f = fields(&buf[..end]);
    if field(&f, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let body = &buf[end..];
        // Find the end of a complete chunked body by decoding prefixes.
        let mut pos = 0;
        loop {
            let eol = body[pos..].iter().position(|&b| b == b'\n')? + pos;
            let line = std::str::from_utf8(&body[pos..eol]).ok()?;
            let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
            pos = eol + 1;
            if size == 0 {
                loop {
                    let eol = body[pos..].iter().position(|&b| b == b'\n')? + pos;
                    let blank = body[pos..eol].iter().all(|&b| b == b'\r');
                    pos = eol + 1;
                    if blank {
                        return Some(end + pos);
                    }
                }
            }
            pos = pos.checked_add(size)?;
            let eol = body.get(pos..)?.iter().position(|&b| b == b'\n')? + pos;
            pos = eol + 1;
        }
    }
    let n: usize = field(&f, "content-length").map_or(Some(0), |v| v.parse().ok())?;
    (buf.len() >= end + n).then_some(end + n)
}

/// A backend that records every request raw and answers each with a 200
/// whose body is the request target, so a client can tell answers apart.
struct Backend {
    port: u16,
    journal: Journal,
    case: Arc<AtomicUsize>,
    open: Arc<AtomicUsize>,
}

impl Backend {
    fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
        let port = listener.local_addr().expect("backend address").port();
        let journal: Journal = Arc::default();
        let case = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let (j, c, o) = (journal.clone(), case.clone(), open.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                o.fetch_add(1, Ordering::SeqCst);
                let (j, c, o) = (j.clone(), c.clone(), o.clone());
                std::thread::spawn(move || {
                    record(stream, &j, &c);
                    o.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Backend {
            port,
            journal,
            case,
            open,
        }
    }

    /// Waits until every backend connection has closed.
    fn wait_idle(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn record(mut stream: TcpStream, journal: &Journal, case: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut buf = Vec::new();
    let mut tag = case.load(Ordering::SeqCst);
    let mut chunk = [0u8; 16384];
    loop {
        while let Some(n) = request_len(&buf) {
            let raw: Vec<u8> = buf.drain(..n).collect();
            let target = String::from_utf8_lossy(&raw)
                .split(' ')
                .nth(1)
                .unwrap_or("")
                .to_string();
            if let Ok(mut j) = journal.lock() {
                j.push((tag, raw));
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{target}",
                target.len()
            );
            if stream.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tag = case.load(Ordering::SeqCst);
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    if !buf.is_empty() {
        if let Ok(mut j) = journal.lock() {
            j.push((tag, buf));
        }
    }
}

/// Reads one response: its status and body, `None` at EOF or on an error.
fn read_response(reader: &mut impl BufRead) -> Option<(u16, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        head.extend_from_slice(&line);
    }
    let status = String::from_utf8_lossy(&head)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())?;
    let n: usize = field(&fields(&head), "content-length").map_or(Some(0), |v| v.parse().ok())?;
    let mut body = vec![0; n];
    reader.read_exact(&mut body).ok()?;
    Some((status, body))
}

/// Sends one case and sees how the proxy treats the client: reads as many
/// responses as HAProxy sent, then either waits for the close HAProxy did,
/// or proves the connection still open with one more request.
fn run_client(addr: SocketAddr, raw: &[u8], expected: &Outcome) -> (Vec<u16>, bool) {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect to haproxyd");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    // A proxy may close before reading everything: that is an answer too.
    let _ = stream.write_all(raw);
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut statuses = Vec::new();
    for _ in 0..expected.statuses.len() {
        match read_response(&mut reader) {
            Some((status, _)) => statuses.push(status),
            None => return (statuses, true),
        }
    }
    if expected.closed {
        let mut byte = [0u8; 1];
        let closed = match reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        };
        return (statuses, closed);
    }
    let probe = b"GET /__probe HTTP/1.1\r\nHost: a\r\n\r\n";
    if stream.write_all(probe).is_err() {
        return (statuses, true);
    }
    match read_response(&mut reader) {
        Some((200, body)) if body == b"/__probe" => (statuses, false),
        // An extra response of haproxyd's own, or a dead connection.
        Some((status, _)) => {
            statuses.push(status);
            (statuses, false)
        }
        None => (statuses, true),
    }
}

#[test]
fn hostile_requests_match_haproxy() {
    let expected = expectations();
    let mut cases: Vec<(String, Vec<u8>)> = std::fs::read_dir(hostile_dir())
        .expect("hostile dir")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".http")?
                .to_string();
            Some((name, std::fs::read(&path).ok()?))
        })
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 50,
        "the corpus holds {} requests, fewer than 50",
        cases.len()
    );
    for (name, _) in &cases {
        assert!(
            expected.contains_key(name),
            "{name}.http has no capture: run hostile/capture.py"
        );
    }

    let backend = Backend::start();
    let dir = TempDir::new("smuggling");
    let front = free_port();
    let cfg = std::fs::read_to_string(hostile_dir().join("proxy.cfg"))
        .expect("hostile/proxy.cfg")
        .replace("@FRONT@", &front.to_string())
        .replace("@BACK@", &backend.port.to_string());
    let cfg = dir.write("proxy.cfg", &cfg);
    let mut proxy = Proxy::haproxyd(&cfg, &dir, "haproxyd");
    proxy.wait_listening(local(front));

    // Tags start at 1: 0 is the listening probe of `wait_listening`.
    let mut client_side = Vec::new();
    for (i, (name, raw)) in cases.iter().enumerate() {
        backend.case.store(i + 1, Ordering::SeqCst);
        client_side.push(run_client(local(front), raw, &expected[name]));
    }
    backend.case.store(usize::MAX, Ordering::SeqCst);
    drop(proxy);
    backend.wait_idle();

    let journal = backend
        .journal
        .lock()
        .map(|j| j.clone())
        .unwrap_or_default();
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    for (i, ((name, _), (statuses, closed))) in cases.iter().zip(client_side).enumerate() {
        let raw: Vec<&Vec<u8>> = journal
            .iter()
            .filter(|(tag, raw)| *tag == i + 1 && !raw.starts_with(b"GET /__probe "))
            .map(|(_, raw)| raw)
            .collect();
        for r in &raw {
            if let Some(why) = ambiguity(r) {
                failures.push(format!(
                    "{name}: forwarded an ambiguous message ({why}): {:?}",
                    String::from_utf8_lossy(r)
                ));
            }
        }
        if statuses.iter().any(|&s| s >= 400) && !raw.is_empty() && statuses.len() == 1 {
            failures.push(format!(
                "{name}: answered {statuses:?} yet forwarded {raw:?}"
            ));
        }
        let got = Outcome {
            statuses,
            closed,
            forwarded: raw.iter().map(|r| normalize(r)).collect(),
        };
        let want = &expected[name];
        if want.forwarded.is_empty() && !got.forwarded.is_empty() {
            failures.push(format!(
                "{name}: HAProxy forwards nothing, haproxyd forwarded {:?}",
                got.forwarded
            ));
        }
        let known = KNOWN.iter().any(|(k, _)| k == name);
        match (&got == want, known) {
            (true, false) => {}
            (false, true) => known_seen.push(name.as_str()),
            (true, true) => failures.push(format!(
                "{name}: listed in KNOWN but now matches HAProxy: remove it from the list"
            )),
            (false, false) => failures.push(format!(
                "{name}: differs from HAProxy 2.6\n  haproxy : {want:?}\n  haproxyd: {got:?}"
            )),
        }
    }
    for (k, _) in KNOWN {
        assert!(
            cases.iter().any(|(n, _)| n == k),
            "KNOWN names {k}, which is not in the corpus"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile requests fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} hostile requests: all as HAProxy 2.6 but {} known and stricter: {known_seen:?}",
        cases.len(),
        known_seen.len()
    );
}
