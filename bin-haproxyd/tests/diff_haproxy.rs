//! The differential test: the same configurations and requests through the
//! real HAProxy 2.6 and through haproxyd, against the same recording
//! backends, compared on what matters to a client and to a server: the
//! status, which server answered, the request line, headers and body the
//! server received (the `Date` header aside), the response body when the
//! proxy answers itself, and whether the client connection stays open.
//!
//! Skipped with a printed reason when `haproxy` is not installed. A
//! difference that is known and understood is listed in [`KNOWN`] with its
//! reason; any other difference fails the test.

mod util;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use util::{Proxy, TempDir, free_port, local, skip_without_haproxy, workspace};

/// Differences from HAProxy that are known, as (case name, reason). The test
/// fails when one of them disappears too, so the list stays true.
const KNOWN: &[(&str, &str)] = &[];

/// One request as a recording backend received it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Received {
    server: &'static str,
    /// The request line.
    line: String,
    /// Header lines in order, `Date` aside, names lower-cased.
    headers: Vec<String>,
    /// The body, de-chunked.
    body: Vec<u8>,
}

type Journal = Arc<Mutex<Vec<Received>>>;

/// Reads one HTTP/1 message head (up to the blank line) from `reader`.
fn read_head(reader: &mut impl BufRead) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            return Some(lines);
        }
        lines.push(line);
    }
}

fn header<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines.iter().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads a body framed by the head's Content-Length or chunked encoding.
/// Without either, a request has no body and a response runs to the close.
fn read_body(reader: &mut impl BufRead, lines: &[String], response: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    if header(lines, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                // Trailers up to the blank line.
                read_head(reader)?;
                return Some(body);
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    }
    if let Some(length) = header(lines, "content-length") {
        let mut data = vec![0; length.parse().ok()?];
        reader.read_exact(&mut data).ok()?;
        return Some(data);
    }
    if response {
        reader.read_to_end(&mut body).ok()?;
    }
    Some(body)
}

/// A backend that records every request and answers with its own name,
/// keeping the connection open unless the request asks to close it.
fn recording_backend(server: &'static str, journal: Journal) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend port");
    let port = listener.local_addr().expect("backend address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let journal = Arc::clone(&journal);
            std::thread::spawn(move || serve_connection(server, stream, &journal));
        }
    });
    port
}

fn serve_connection(server: &'static str, stream: TcpStream, journal: &Journal) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(lines) = read_head(&mut reader) {
        let Some(body) = read_body(&mut reader, &lines, false) else {
            return;
        };
        let close = header(&lines, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let mut headers: Vec<String> = lines
            .iter()
            .skip(1)
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                let name = name.trim().to_ascii_lowercase();
                (name != "date").then(|| format!("{name}: {}", value.trim()))
            })
            .collect();
        headers.shrink_to_fit();
        if let Ok(mut journal) = journal.lock() {
            journal.push(Received {
                server,
                line: lines.first().cloned().unwrap_or_default(),
                headers,
                body,
            });
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n{server}",
            server.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        if writer.write_all(answer.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// What a client saw of one case, and what the servers received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    /// Per response: status, `Connection` header (lower-cased), body.
    responses: Vec<(u16, String, String)>,
    /// What followed the responses: the proxy closed the client connection
    /// (`closed`), kept it quiet (`open`) or sent more bytes (`extra`).
    after: &'static str,
    received: Vec<Received>,
}

/// Sends `request` (which may hold several requests) and reads `expected`
/// responses, then checks whether the proxy closes the connection.
fn run_case(addr: SocketAddr, request: &[u8], expected: usize, journal: &Journal) -> Seen {
    if let Ok(mut j) = journal.lock() {
        j.clear();
    }
    let mut stream = TcpStream::connect(addr).expect("connect to proxy");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut responses = Vec::new();
    for _ in 0..expected {
        let Some(lines) = read_head(&mut reader) else {
            break;
        };
        let status = lines
            .first()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let connection = header(&lines, "connection")
            .unwrap_or("")
            .to_ascii_lowercase();
        // The answer to a HEAD request (a lone one) has no body.
        let body = if request.starts_with(b"HEAD ") && expected == 1 {
            Vec::new()
        } else {
            read_body(&mut reader, &lines, true).unwrap_or_default()
        };
        responses.push((
            status,
            connection,
            String::from_utf8_lossy(&body).into_owned(),
        ));
    }
    // A closed connection reads EOF at once; an open one times out.
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    let after = match reader.read(&mut byte) {
        Ok(0) => "closed",
        Ok(_) => "extra",
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => "open",
        Err(_) => "closed",
    };
    // The backend records before it answers, so the journal is complete.
    let received = journal.lock().map(|j| j.clone()).unwrap_or_default();
    Seen {
        responses,
        after,
        received,
    }
}

/// A request case: name, frontend, raw bytes, number of responses.
struct Case {
    name: &'static str,
    frontend: &'static str,
    request: String,
    responses: usize,
}

fn get(name: &'static str, frontend: &'static str, path: &str, extra: &str) -> Case {
    Case {
        name,
        frontend,
        request: format!("GET {path} HTTP/1.1\r\nHost: diff.test\r\n{extra}\r\n"),
        responses: 1,
    }
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // The seed's routing table, through its `web` frontend (httpclose,
    // forwardfor except 127.0.0.0/8).
    for (name, path) in [
        ("seed /static/a", "/static/a"),
        ("seed /IMAGE/x.png", "/IMAGE/x.png"),
        ("seed /js", "/js"),
        ("seed /a.HTML", "/a.HTML"),
        ("seed /index.php", "/index.php"),
        ("seed /", "/"),
        ("seed /img/logo.GIF?v=1", "/img/logo.GIF?v=1"),
    ] {
        cases.push(get(name, "web", path, ""));
    }
    cases.push(get(
        "seed xff from client kept, none added (except)",
        "web",
        "/index.php",
        "X-Forwarded-For: 198.18.0.9\r\n",
    ));
    cases.push(Case {
        name: "seed POST with a body",
        frontend: "web",
        request: "POST /form.php HTTP/1.1\r\nHost: diff.test\r\nContent-Type: text/plain\r\n\
                  Content-Length: 11\r\n\r\nhello world"
            .to_owned(),
        responses: 1,
    });
    cases.push(Case {
        name: "seed POST chunked",
        frontend: "web",
        request: "POST /up.php HTTP/1.1\r\nHost: diff.test\r\nTransfer-Encoding: chunked\r\n\r\n\
                  5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            .to_owned(),
        responses: 1,
    });
    cases.push(Case {
        name: "seed two requests on one connection (httpclose)",
        frontend: "web",
        request: "GET /a.css HTTP/1.1\r\nHost: diff.test\r\n\r\n\
                  GET /b.php HTTP/1.1\r\nHost: diff.test\r\n\r\n"
            .to_owned(),
        responses: 2,
    });
    cases.push(get(
        "seed header with a bad name is 400",
        "web",
        "/",
        "Bad Header: x\r\n",
    ));
    cases.push(Case {
        name: "seed both content-length and chunked is 400",
        frontend: "web",
        request: "POST / HTTP/1.1\r\nHost: diff.test\r\nContent-Length: 3\r\n\
                  Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            .to_owned(),
        responses: 1,
    });
    // Connection modes, forwardfor variants.
    for frontend in ["keepalive", "serverclose", "close"] {
        let name: &'static str = Box::leak(format!("{frontend}: one request").into_boxed_str());
        cases.push(get(name, frontend, "/x", ""));
        let name: &'static str =
            Box::leak(format!("{frontend}: client asks to close").into_boxed_str());
        cases.push(get(name, frontend, "/x", "Connection: close\r\n"));
        let name: &'static str =
            Box::leak(format!("{frontend}: two requests kept alive").into_boxed_str());
        cases.push(Case {
            name,
            frontend,
            request: "GET /1 HTTP/1.1\r\nHost: diff.test\r\n\r\n\
                      GET /2 HTTP/1.1\r\nHost: diff.test\r\n\r\n"
                .to_owned(),
            responses: 2,
        });
        let name: &'static str = Box::leak(format!("{frontend}: HTTP/1.0").into_boxed_str());
        cases.push(Case {
            name,
            frontend,
            request: "GET /old HTTP/1.0\r\nHost: diff.test\r\n\r\n".to_owned(),
            responses: 1,
        });
        let name: &'static str =
            Box::leak(format!("{frontend}: HTTP/1.0 keep-alive").into_boxed_str());
        cases.push(Case {
            name,
            frontend,
            request: "GET /old HTTP/1.0\r\nHost: diff.test\r\nConnection: keep-alive\r\n\r\n"
                .to_owned(),
            responses: 1,
        });
        let name: &'static str =
            Box::leak(format!("{frontend}: existing X-Forwarded-For").into_boxed_str());
        cases.push(get(
            name,
            frontend,
            "/x",
            "X-Forwarded-For: 198.18.0.9\r\nX-Client: 198.18.0.8\r\n",
        ));
    }
    // http-request rules.
    for (name, path) in [
        ("rules: set/add/del-header", "/plain"),
        ("rules: deny", "/deny"),
        ("rules: deny 429", "/deny429"),
        ("rules: return", "/ret"),
        ("rules: redirect location", "/old"),
        ("rules: redirect prefix", "/pfx/a?b=c"),
        ("rules: redirect scheme", "/sch"),
        ("rules: replace-header and set-path", "/rewrite/me"),
    ] {
        cases.push(get(name, "rules", path, "X-Del: gone\r\nX-Add: zero\r\n"));
    }
    // Loosely written conditions.
    for (name, path) in [
        ("conds: !|| drops the negation", "/a"),
        ("conds: OR in capitals", "/b"),
        ("conds: empty alternatives", "/c"),
        ("conds: !or after a negated term", "/d"),
        ("conds: a trailing !", "/e"),
        ("conds: bare if never, bare unless always", "/f"),
    ] {
        cases.push(get(name, "conds", path, ""));
    }
    // monitor-uri.
    cases.push(get("monitor: 200", "monitor", "/health", ""));
    cases.push(get(
        "monitor: 503 when monitor fail holds",
        "monitor",
        "/health",
        "X-Fail: 1\r\n",
    ));
    cases.push(get(
        "monitor: nbsrv of a backend without usable server",
        "monitor",
        "/health",
        "X-Nb: 1\r\n",
    ));
    cases.push(get(
        "monitor: nbsrv of a backend with one server",
        "monitor",
        "/health",
        "X-Nb1: 1\r\n",
    ));
    cases.push(get(
        "monitor: a query string is another URI",
        "monitor",
        "/health?x=1",
        "",
    ));
    cases.push(get(
        "monitor: absolute form",
        "monitor",
        "http://diff.test/health",
        "",
    ));
    // The proxy's own answers to HEAD carry no body (the connection stays
    // open: nothing after the head may be read as a body).
    for (name, frontend, path) in [
        ("monitor: HEAD", "monitor", "/health"),
        ("rules: HEAD deny", "rules", "/deny"),
        ("rules: HEAD return", "rules", "/ret"),
    ] {
        cases.push(Case {
            name,
            frontend,
            request: format!("HEAD {path} HTTP/1.1\r\nHost: diff.test\r\n\r\n"),
            responses: 1,
        });
    }
    cases.push(Case {
        name: "monitor: HTTP/1.0",
        frontend: "monitor",
        request: "GET /health HTTP/1.0\r\n\r\n".to_owned(),
        responses: 1,
    });
    cases.push(Case {
        name: "monitor: kept alive",
        frontend: "monitor",
        request: "GET /health HTTP/1.1\r\nHost: diff.test\r\n\r\n\
                  GET /other HTTP/1.1\r\nHost: diff.test\r\n\r\n"
            .to_owned(),
        responses: 2,
    });
    // Malformed requests, through a keep-alive frontend: answered by the
    // proxy and never forwarded.
    for (name, request) in [
        (
            "400: differing content-lengths",
            "POST / HTTP/1.1\r\nHost: diff.test\r\nContent-Length: 3\r\n\
             Content-Length: 4\r\n\r\nabcd",
        ),
        (
            "400: bad chunk size",
            "POST / HTTP/1.1\r\nHost: diff.test\r\nTransfer-Encoding: chunked\r\n\r\n\
             zz\r\nhello\r\n0\r\n\r\n",
        ),
        (
            "400: space in the URI",
            "GET /a b/c HTTP/1.1\r\nHost: diff.test\r\n\r\n",
        ),
        (
            "501: unknown transfer-encoding",
            "POST / HTTP/1.1\r\nHost: diff.test\r\nTransfer-Encoding: gzip\r\n\r\n",
        ),
        (
            "keep-alive with a body then a second request",
            "POST /a HTTP/1.1\r\nHost: diff.test\r\nContent-Length: 2\r\n\r\nhi\
             GET /b HTTP/1.1\r\nHost: diff.test\r\n\r\n",
        ),
    ] {
        cases.push(Case {
            name,
            frontend: "keepalive",
            request: request.to_owned(),
            responses: if name.starts_with("keep-alive") { 2 } else { 1 },
        });
    }
    cases.push(get("no server answers: 503", "dead", "/", ""));
    cases.push(get(
        "a second defaults section starts afresh",
        "reset",
        "/",
        "",
    ));
    cases
}

/// The second configuration: connection modes, forwardfor variants, rules
/// and an unreachable server. `{name}` marks a port.
const VARIANTS: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 5s
    retries 0

frontend keepalive
    bind 127.0.0.1:{keepalive}
    option forwardfor
    default_backend b1

frontend serverclose
    bind 127.0.0.1:{serverclose}
    option http-server-close
    option forwardfor header X-Client
    default_backend b1

frontend close
    bind 127.0.0.1:{close}
    option httpclose
    option forwardfor if-none
    default_backend b2

frontend rules
    bind 127.0.0.1:{rules}
    http-request deny if { path /deny }
    http-request deny deny_status 429 if { path /deny429 }
    http-request return status 200 content-type text/plain string returned if { path /ret }
    http-request redirect location /new code 301 if { path /old }
    http-request redirect prefix https://example.com if { path_beg /pfx }
    http-request redirect scheme https if { path /sch }
    http-request set-header X-Set yes
    http-request add-header X-Add one
    http-request del-header X-Del
    http-request replace-header X-Add (.*) \\1-replaced if { path_beg /rewrite }
    http-request set-path /rewritten if { path_beg /rewrite }
    default_backend b1

# Conditions written loosely, as HAProxy reads them: `or` in any case, a
# `!` before a separator dropped, empty alternatives, an empty condition.
frontend conds
    bind 127.0.0.1:{conds}
    acl a path /a
    acl b path /b
    http-request return status 200 content-type text/plain string bare-if if
    http-request return status 200 content-type text/plain string bang-or if !|| a
    http-request return status 200 content-type text/plain string upper-or if FALSE OR b
    http-request return status 200 content-type text/plain string empty-alts if || || { path /c } ||
    http-request return status 200 content-type text/plain string bang-or-word if { path /x } !or { path /d }
    http-request return status 200 content-type text/plain string trailing-bang if { path /e } !
    http-request return status 200 content-type text/plain string bare-unless unless
    default_backend b1

# monitor-uri answers before any rule; monitor fail turns it to 503.
frontend monitor
    bind 127.0.0.1:{monitor}
    monitor-uri /health
    monitor fail if { req.hdr(x-fail) -m found }
    monitor fail if { req.hdr(x-nb) -m found } { nbsrv(down) lt 1 }
    monitor fail if { req.hdr(x-nb1) -m found } !{ nbsrv(b1) eq 1 }
    http-request deny if { path /health }
    default_backend b1

# No usable server: the only one is in maintenance.
backend down
    server s1 127.0.0.1:{closed} disabled

frontend dead
    bind 127.0.0.1:{dead}
    default_backend gone

backend b1
    server web1 127.0.0.1:{web1}

backend b2
    server web2 127.0.0.1:{web2}

backend gone
    server nobody 127.0.0.1:{closed}
";

/// Loaded after [`VARIANTS`]: a second unnamed `defaults` section starts
/// afresh instead of inheriting from the first one.
const RESET: &str = "\
defaults
    mode http
    option http-server-close
    option forwardfor except 127.0.0.0/8
    timeout connect 5s
    timeout client 10s
    timeout server 10s

defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend reset
    bind 127.0.0.1:{reset}
    default_backend b1
";

/// The seed configuration with its addresses on loopback: binds on the
/// given ports, servers on the recording backends. The privilege, pid-file
/// and stats-socket lines, which need a system setup, are left out; both
/// proxies run with `-db`.
fn seed_config(ports: &[(&str, u16)], dir: &Path, tag: &str) -> String {
    let text = std::fs::read_to_string(workspace().join("examples/seed/haproxy.cfg"))
        .expect("examples/seed/haproxy.cfg");
    let port = |name: &str| {
        ports
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
            .expect("port")
    };
    let mut out = String::new();
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("");
        let first = code.split_whitespace().next().unwrap_or("");
        if ["chroot", "pidfile", "user", "group"].contains(&first) {
            continue;
        }
        let code = code
            .replace("bind :8080", &format!("bind 127.0.0.1:{}", port("stats")))
            .replace("bind :80", &format!("bind 127.0.0.1:{}", port("web")))
            .replace("192.168.10.3:80", &format!("127.0.0.1:{}", port("web1")))
            .replace("192.168.10.4:80", &format!("127.0.0.1:{}", port("web2")))
            .replace(
                "/var/lib/haproxy/stats",
                &dir.join(format!("{tag}-stats.sock")).display().to_string(),
            );
        let _ = writeln!(out, "{code}");
    }
    out
}

fn with_ports(template: &str, ports: &[(&str, u16)]) -> String {
    let mut text = template.to_owned();
    for (name, port) in ports {
        text = text.replace(&format!("{{{name}}}"), &port.to_string());
    }
    text
}

/// One proxy implementation under test: a process on the seed
/// configuration, one on the variants, and their frontend ports.
struct Side {
    _seed: Proxy,
    variants: Proxy,
    ports: Vec<(&'static str, u16)>,
}

impl Side {
    fn addr(&self, frontend: &str) -> SocketAddr {
        let port = self
            .ports
            .iter()
            .find(|(n, _)| *n == frontend)
            .map(|(_, p)| *p)
            .expect("frontend port");
        local(port)
    }

    fn stderr(&self) -> String {
        format!(
            "{}{}",
            self._seed.stderr_text(),
            self.variants.stderr_text()
        )
    }
}

const FRONTENDS: [&str; 10] = [
    "web",
    "stats",
    "keepalive",
    "serverclose",
    "close",
    "rules",
    "conds",
    "monitor",
    "dead",
    "reset",
];

fn start(program: &str, tag: &str, dir: &TempDir, backends: &[(&'static str, u16)]) -> Side {
    let mut ports: Vec<(&'static str, u16)> = FRONTENDS.iter().map(|n| (*n, free_port())).collect();
    ports.extend_from_slice(backends);
    let path = |file: &std::path::PathBuf| file.to_str().expect("utf-8 path").to_owned();
    let seed = dir.write(
        &format!("{tag}-seed.cfg"),
        &seed_config(&ports, &dir.0, tag),
    );
    let variants = dir.write(
        &format!("{tag}-variants.cfg"),
        &with_ports(VARIANTS, &ports),
    );
    let reset = dir.write(&format!("{tag}-reset.cfg"), &with_ports(RESET, &ports));
    let mut seed = Proxy::start(
        program,
        &["-db", "-f", &path(&seed)],
        dir,
        &format!("{tag}-seed"),
    );
    let mut variants = Proxy::start(
        program,
        &["-db", "-f", &path(&variants), "-f", &path(&reset)],
        dir,
        &format!("{tag}-variants"),
    );
    for (name, port) in &ports[..FRONTENDS.len()] {
        match *name {
            "stats" => {}
            "web" => seed.wait_listening(local(*port)),
            _ => variants.wait_listening(local(*port)),
        }
    }
    Side {
        _seed: seed,
        variants,
        ports,
    }
}

#[test]
fn haproxyd_answers_as_haproxy_does() {
    if skip_without_haproxy() {
        return;
    }
    let dir = TempDir::new("diff");
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("port");
        l.local_addr().expect("addr").port()
    };
    // Each side has its own recording backends, so both run at once.
    let side = |program: &'static str, tag: &'static str| {
        let journal: Journal = Arc::default();
        let backends = [
            ("web1", recording_backend("web1", Arc::clone(&journal))),
            ("web2", recording_backend("web2", Arc::clone(&journal))),
            ("closed", closed),
        ];
        (start(program, tag, &dir, &backends), journal)
    };
    let reference = side("haproxy", "haproxy");
    let ours = side(env!("CARGO_BIN_EXE_haproxyd"), "haproxyd");
    let run_all = |(side, journal): &(Side, Journal)| -> Vec<Seen> {
        cases()
            .iter()
            .map(|case| {
                run_case(
                    side.addr(case.frontend),
                    case.request.as_bytes(),
                    case.responses,
                    journal,
                )
            })
            .collect()
    };
    let (wanted, got) = std::thread::scope(|scope| {
        let wanted = scope.spawn(|| run_all(&reference));
        let got = run_all(&ours);
        (wanted.join().expect("reference run"), got)
    });

    let mut differences = BTreeSet::new();
    let mut report = String::new();
    for ((case, want), got) in cases().iter().zip(&wanted).zip(&got) {
        if want != got {
            differences.insert(case.name);
            let _ = writeln!(
                report,
                "--- {}\n  haproxy:  {want:?}\n  haproxyd: {got:?}",
                case.name
            );
        }
    }
    let known: BTreeSet<&str> = KNOWN.iter().map(|(name, _)| *name).collect();
    let new: Vec<_> = differences.difference(&known).collect();
    let gone: Vec<_> = known.difference(&differences).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "new differences: {new:?}\nknown differences no longer seen: {gone:?}\n{report}\n\
         haproxy stderr:\n{}\nhaproxyd stderr:\n{}",
        reference.0.stderr(),
        ours.0.stderr()
    );
}
