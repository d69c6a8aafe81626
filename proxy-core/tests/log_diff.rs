//! Log lines compared with HAProxy 2.6's: the seed configuration (its
//! addresses moved to loopback) plus test proxies (a `log-format` frontend,
//! one without servers, `mode tcp` listeners, request and response rules,
//! refused servers), served by the real `haproxy` and by the engine side by
//! side, each logging to its own UDP syslog listener. The same requests go
//! through both, and the datagrams must be equal once the time stamps,
//! pids, ports and timer values are masked (which timers were not reached
//! is compared).
//!
//! Termination flags, byte counts (but the statistics page's) and
//! connection counters (`%ac/%fc/%bc/%sc/%rc`) are compared: each step waits
//! for the previous one's line and its connection to close, one holds a
//! request at a server while another goes through (the backend and server
//! counts of a final and of an early `logasap` line), and a step whose
//! lines differ is run again on both proxies before it fails, as a loaded
//! machine can delay the release of the previous step's connection.
//!
//! A second test compares syslog headers with `log-tag` and
//! `log-send-hostname`.
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod diff_util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diff_util::{Syslog, free_port, with_haproxy};
use proxy_core::engine::Engine;
use regex::Regex;

/// Requests to `/hold` wait at the backend until [`Hold::release`].
struct Hold {
    /// Count of held requests that reached the backend, and whether they
    /// may go on.
    state: std::sync::Mutex<(usize, bool)>,
    changed: std::sync::Condvar,
}

static HOLD: Hold = Hold {
    state: std::sync::Mutex::new((0, false)),
    changed: std::sync::Condvar::new(),
};

impl Hold {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Called by the backend: counts the request in and waits (at most
    /// 10 s) for the release.
    fn wait(&self) {
        let mut s = self.lock();
        s.0 += 1;
        self.changed.notify_all();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !s.1 && Instant::now() < deadline {
            s = self
                .changed
                .wait_timeout(s, Duration::from_millis(100))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Waits (at most 10 s) until `n` held requests reached the backend.
    fn arrived(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut s = self.lock();
        while s.0 < n && Instant::now() < deadline {
            s = self
                .changed
                .wait_timeout(s, Duration::from_millis(100))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    fn release(&self) {
        self.lock().1 = true;
        self.changed.notify_all();
    }

    /// Back to no request held, the next ones to be held.
    fn reset(&self) {
        *self.lock() = (0, false);
    }
}

/// A backend that answers every request with a fixed response and closes.
fn backend() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("backend");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}

fn answer(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    let mut chunked = false;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if request_line.is_empty() {
            request_line = line.to_string();
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            if n.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.trim().eq_ignore_ascii_case("chunked");
            }
        }
    }
    if request_line.starts_with("GET /hold") {
        HOLD.wait();
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    // A chunked body: up to the last chunk and the empty line after it.
    let mut last = false;
    let mut line = String::new();
    while chunked && !(last && line.trim_end().is_empty()) {
        last = last || line.trim_end() == "0";
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    let response: &[u8] = if request_line.starts_with("GET /chunked") {
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
          5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    } else if request_line.starts_with("GET /304") {
        b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nConnection: close\r\n\r\n"
    } else if request_line.starts_with("HEAD ") {
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\
          Connection: close\r\n\r\n"
    } else {
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\
          Connection: close\r\n\r\nok"
    };
    let _ = writer.write_all(response);
    // An HTTP/1.1 exchange stays open until the proxy closes it: a server
    // connection read closed with its response would be counted out (%sc)
    // before an early (`logasap`) line or not, depending on timing. A TCP
    // client never closes first, so the TCP case closes at once.
    if request_line.ends_with("HTTP/1.1") {
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
    }
}

/// Ports of one proxy's listeners and of the shared backends.
struct Ports {
    web: u16,
    stats: u16,
    nosrv: u16,
    lf: u16,
    tcp: u16,
    tcpasap: u16,
    rules: u16,
    resdeny: u16,
    resredirect: u16,
    dead: u16,
    redispatch: u16,
    statslf: u16,
    caps: u16,
    clf: u16,
    slow: u16,
    /// A port nothing listens on.
    closed: u16,
    syslog: u16,
    b1: u16,
    b2: u16,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

const LOG_FORMAT: &str = "%ci:%cp %f %b %s %ST %B %U %tsc %ts %HM %HP %HQ %HV %{+Q}HU \
                          %hr %hrl %{+Q}r %[capture.req.hdr(0),lower] %{+Q}[src] %[dst_port] \
                          %{+X}fp %fp %si %{+E}[capture.req.hdr(1)] %ac/%fc/%bc/%sc/%rc %sq/%bq";

/// The seed configuration on loopback, with the extra test proxies.
fn config(p: &Ports) -> String {
    let seed = std::fs::read_to_string(workspace().join("examples/seed/haproxy.cfg"))
        .expect("examples/seed/haproxy.cfg");
    let mut out = String::new();
    for line in seed.lines() {
        let code = line.split('#').next().unwrap_or("").trim_end();
        let first = code.split_whitespace().next().unwrap_or("");
        if ["chroot", "pidfile", "user", "group", "daemon"].contains(&first)
            || code.trim_start().starts_with("stats socket")
        {
            continue;
        }
        let code = code
            .replace(
                "log         127.0.0.1 local2",
                &format!("log 127.0.0.1:{} local2", p.syslog),
            )
            .replace("bind :8080", &format!("bind 127.0.0.1:{}", p.stats))
            .replace("bind :80", &format!("bind 127.0.0.1:{}", p.web))
            .replace("192.168.10.3:80", &format!("127.0.0.1:{}", p.b1))
            .replace("192.168.10.4:80", &format!("127.0.0.1:{}", p.b2));
        // No health checks: their connections would shift the counters.
        let code = if first == "server" {
            code.replace(" check ", " ")
        } else {
            code
        };
        out.push_str(&code);
        out.push('\n');
    }
    out.push_str(&format!(
        "frontend nosrv\n    bind 127.0.0.1:{nosrv}\n    default_backend empty\n\
         backend empty\n    mode http\n\
         frontend lf\n    bind 127.0.0.1:{lf}\n    capture request header Host len 10\n    \
         capture request header X-Note len 20\n    log-format \"{LOG_FORMAT}\"\n    \
         http-request return status 200 content-type text/plain string hi if {{ path /ret }}\n    \
         use_backend empty if {{ path /nosrv }}\n    \
         default_backend static_servers\n\
         listen tcpin\n    bind 127.0.0.1:{tcp}\n    mode tcp\n    option tcplog\n    \
         server t1 127.0.0.1:{b1}\n\
         listen tcpasap\n    bind 127.0.0.1:{tcpasap}\n    mode tcp\n    option tcplog\n    \
         option logasap\n    server t1 127.0.0.1:{b1}\n\
         frontend rules\n    bind 127.0.0.1:{rules}\n    \
         http-request return status 200 content-type text/plain string hi if {{ path /ret }}\n    \
         http-request redirect location /x if {{ path /redir }}\n    \
         http-request deny if {{ path /deny }}\n    \
         http-request auth realm r if {{ path /auth }}\n    \
         http-request use-service prometheus-exporter if {{ path /metrics }}\n    \
         default_backend static_servers\n\
         frontend resdeny\n    bind 127.0.0.1:{resdeny}\n    http-response deny\n    \
         default_backend static_servers\n\
         frontend resredirect\n    bind 127.0.0.1:{resredirect}\n    \
         http-response redirect location /z\n    default_backend static_servers\n\
         listen dead\n    bind 127.0.0.1:{dead}\n    retries 0\n    \
         server s1 127.0.0.1:{closed}\n\
         listen redispatch\n    bind 127.0.0.1:{redispatch}\n    retries 1\n    \
         option redispatch\n    server s1 127.0.0.1:{closed}\n    server s2 127.0.0.1:{b1}\n\
         listen statslf\n    bind 127.0.0.1:{statslf}\n    stats enable\n    stats uri /st\n    \
         log-format \"%b/%s %ST %U %tsc\"\n\
         frontend caps\n    bind 127.0.0.1:{caps}\n    capture request header Host len 5\n    \
         capture response header Content-Type len 8\n    capture response header X-None len 4\n    \
         default_backend static_servers\n\
         frontend clf\n    bind 127.0.0.1:{clf}\n    option httplog clf\n    \
         default_backend static_servers\n\
         listen slow\n    bind 127.0.0.1:{slow}\n    timeout http-request 300ms\n    \
         timeout server 300ms\n    server s1 127.0.0.1:{b1}\n",
        slow = p.slow,
        statslf = p.statslf,
        caps = p.caps,
        clf = p.clf,
        dead = p.dead,
        redispatch = p.redispatch,
        closed = p.closed,
        resdeny = p.resdeny,
        resredirect = p.resredirect,
        nosrv = p.nosrv,
        lf = p.lf,
        tcp = p.tcp,
        tcpasap = p.tcpasap,
        rules = p.rules,
        b1 = p.b1,
    ));
    out
}

/// A request case: its name, which listener, the raw bytes.
type Case = (&'static str, fn(&Ports) -> u16, &'static str);

fn cases() -> Vec<Case> {
    vec![
        (
            "static route, captures present",
            |p| p.web,
            "GET /static/a.png HTTP/1.1\r\nHost: www.example.com\r\nX-Forwarded-For: 10.0.0.1\r\n\
             Referer: http://x/y\r\nConnection: close\r\n\r\n",
        ),
        (
            "dynamic route, captures absent",
            |p| p.web,
            "GET /index.php?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        ),
        (
            "POST with a body",
            |p| p.web,
            "POST /form.php HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nConnection: close\r\n\r\n\
             hello world",
        ),
        ("bad request", |p| p.web, "GET /a b c HTTP/1.1\r\n\r\n"),
        (
            "no server: 503",
            |p| p.nosrv,
            "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "log-format",
            |p| p.lf,
            "GET /p%20q/r?x=1&y=\"2 HTTP/1.1\r\nHost: LongHostName\r\n\
             X-Note: a\"b\\c]d|e{f\r\nConnection: close\r\n\r\n",
        ),
        (
            "log-format, no query, bad request",
            |p| p.lf,
            "GET /a b c HTTP/1.1\r\n\r\n",
        ),
        ("tcplog", |p| p.tcp, "GET / HTTP/1.0\r\n\r\n"),
        ("tcplog, logasap", |p| p.tcpasap, "GET / HTTP/1.0\r\n\r\n"),
        // Byte counts (%B, %U of the log-format frontend) in the forms
        // HAProxy counts apart: bodies, chunked, none, HTTP/1.0.
        (
            "GET with a body",
            |p| p.lf,
            "GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        ),
        (
            "chunked POST",
            |p| p.lf,
            "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        ),
        (
            "chunked response",
            |p| p.lf,
            "GET /chunked HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "HEAD",
            |p| p.lf,
            "HEAD /x HTTP/1.1\r\nHost:   h  \r\nConnection: close\r\n\r\n",
        ),
        (
            "304",
            |p| p.lf,
            "GET /304 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        ("HTTP/1.0", |p| p.lf, "GET /x HTTP/1.0\r\n\r\n"),
        (
            "POST answered by http-request return",
            |p| p.lf,
            "POST /ret HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        ),
        (
            "chunked POST without a server",
            |p| p.lf,
            "POST /nosrv HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
        (
            "http-request return",
            |p| p.rules,
            "GET /ret HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "http-request redirect",
            |p| p.rules,
            "GET /redir HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "http-request deny",
            |p| p.rules,
            "GET /deny HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "http-request auth",
            |p| p.rules,
            "GET /auth HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "http-response deny",
            |p| p.resdeny,
            "GET /deny HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "http-response redirect",
            |p| p.resredirect,
            "GET /redirect HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "server refuses",
            |p| p.dead,
            "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "server refuses, redispatched",
            |p| p.redispatch,
            "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "response captures",
            |p| p.caps,
            "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
        ),
        (
            "httplog clf",
            |p| p.clf,
            "GET /x?y HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "prometheus exporter",
            |p| p.rules,
            "GET /metrics HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "stats page without credentials",
            |p| p.stats,
            "GET /haproxy?stats HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        (
            "stats page",
            |p| p.stats,
            // admin:admin
            "GET /haproxy?stats HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\
             Connection: close\r\n\r\n",
        ),
        (
            "stats page, a form without an action",
            |p| p.stats,
            "POST /haproxy?stats HTTP/1.1\r\nHost: h\r\n\
             Authorization: Basic YWRtaW46YWRtaW4=\r\nContent-Length: 3\r\n\
             Connection: close\r\n\r\nx=y",
        ),
        (
            "stats page, a form's bytes",
            |p| p.statslf,
            "POST /st HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\
             Connection: close\r\n\r\nx=y",
        ),
        (
            "stats CSV",
            |p| p.stats,
            "GET /haproxy?stats;csv HTTP/1.1\r\nHost: h\r\n\
             Authorization: Basic YWRtaW46YWRtaW4=\r\nConnection: close\r\n\r\n",
        ),
    ]
}

/// Masks what legitimately differs between two runs.
fn mask(line: &str) -> String {
    let rules = [
        // Connection counters, compared: marked so that the timer rule
        // below does not take them for timers.
        (r" (\d+/\d+/\d+/\d+/\+?\d+) (\d+/\d+)", " CONNS[${1}] ${2}"),
        // Syslog header time stamp and pid.
        (
            r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: ",
            "<$1>DATE haproxy[PID]: ",
        ),
        // Accept dates.
        (r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]", "[DATE]"),
        // Client ports.
        (r"127\.0\.0\.1:\d+ ", "127.0.0.1:PORT "),
        // Timers: every value but -1 (not reached), keeping a `+`.
        (r"(^|[ /+])-?\d+(/-?\+?\d+){2,4}( )", "${1}TIMERS${3}"),
        // Listener and server ports chosen per run.
        // In hex (`%{+X}`) too: a hex port may be all digits, so both
        // spellings mask to the same word.
        (r"(%fp|\b)\d{4,5}\b", "${1}PORT"),
        (r"\b[0-9A-F]{4}\b", "PORT"),
        // Byte counts of the statistics page and the Prometheus exporter
        // cannot match: their contents differ from HAProxy's, and HAProxy
        // 2.6 logs 462 bytes for the 283 of its `stats auth` challenge
        // (not the size of any form of it). Every other count is compared.
        (
            r"(<STATS>|<PROMEX>) (\S+) (\d{3}) \d+ ",
            "${1} ${2} ${3} BYTES ",
        ),
    ];
    // `option httplog clf`: its date and milliseconds, then its five
    // timers, separated by spaces, each masked but -1.
    let clf = Regex::new(
        r#"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\](.*"" "" )\d+ \d{3}( "[^"]*" "[^"]*" "[^"]*")((?: -?\d+){5}) "#,
    )
    .expect("regex");
    let mut s = clf
        .replace_all(line.trim_end(), |c: &regex::Captures<'_>| {
            let timers: Vec<&str> = c[3]
                .split_whitespace()
                .map(|t| if t == "-1" { t } else { "T" })
                .collect();
            format!("[DATE]{}PORT MS{} {} ", &c[1], &c[2], timers.join(" "))
        })
        .into_owned();
    for (re, to) in rules {
        s = Regex::new(re)
            .expect("regex")
            .replace_all(&s, to)
            .into_owned();
    }
    s
}

/// Timers that were not reached, as `-1` markers, to compare apart from
/// their values.
fn unreached(line: &str) -> Vec<usize> {
    line.split(' ')
        .filter(|w| {
            w.contains('/')
                && w.split('/')
                    .all(|t| t.trim_start_matches('+').parse::<i64>().is_ok())
        })
        .map(|w| w.split('/').filter(|t| *t == "-1").count())
        .collect()
}

fn send(port: u16, request: &str) {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("send");
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
}

/// The next log line, or a placeholder naming the case that has none.
fn line_of(syslog: &Syslog, name: &str) -> (String, String) {
    let line = syslog
        .next()
        .unwrap_or_else(|| format!("<no line for {name}>"));
    // The line leaves before the connection is released: let the proxy
    // count it out, so that the next case sees no other connection (a
    // step whose lines differ is tried again after a longer pause).
    std::thread::sleep(Duration::from_millis(50));
    (name.to_string(), line)
}

/// Holds a request at a server through `port`, sends another one beside it
/// and then releases the first: the line of the second one counts both
/// streams, the held one's only itself.
fn held_case(port: u16, name: &'static str, syslog: &Syslog) -> Vec<(String, String)> {
    HOLD.reset();
    let holder = std::thread::spawn(move || {
        send(
            port,
            "GET /hold HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        );
    });
    HOLD.arrived(1);
    send(
        port,
        "GET /x.php HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    );
    let beside = line_of(syslog, name);
    HOLD.release();
    let _ = holder.join();
    let held = line_of(syslog, "the held request");
    HOLD.reset();
    vec![beside, held]
}

/// One step of the comparison: a request, one the client gives up on
/// (closing its side before the head is complete), requests on one
/// connection (with the number of lines they give), or a request beside a
/// held one.
enum Step {
    Case(Case),
    Aborted(Case),
    Stalled(Case),
    Pipelined(Case, usize),
    Held(&'static str, fn(&Ports) -> u16),
}

fn steps() -> Vec<Step> {
    let mut steps: Vec<Step> = cases().into_iter().map(Step::Case).collect();
    steps.push(Step::Aborted((
        "client closes mid-head",
        |p| p.lf,
        "GET /x HTTP/1.1\r\nHost: h\r\n",
    )));
    steps.push(Step::Stalled((
        "client stalls mid-head",
        |p| p.slow,
        "GET /x HTTP/1.1\r\nHost: h\r\n",
    )));
    steps.push(Step::Case((
        "server too slow",
        |p| p.slow,
        "GET /hold HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )));
    steps.push(Step::Pipelined(
        (
            "two requests on one connection",
            |p| p.lf,
            "GET /a?1 HTTP/1.1\r\nHost: h\r\n\r\n\
             GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        ),
        2,
    ));
    steps.push(Step::Held("beside a held request, logasap", |p| p.web));
    steps.push(Step::Held("beside a held request, log-format", |p| p.lf));
    steps
}

/// One proxy under test: its listeners and its syslog listener.
struct Side {
    ports: Ports,
    syslog: Syslog,
}

/// Runs one step through one proxy and returns its log lines.
fn run_step(step: &Step, side: &Side) -> Vec<(String, String)> {
    side.syslog.drain();
    match step {
        Step::Case((name, port, request)) => {
            send(port(&side.ports), request);
            vec![line_of(&side.syslog, name)]
        }
        Step::Stalled((name, port, request)) => {
            let addr: SocketAddr = ([127, 0, 0, 1], port(&side.ports)).into();
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            s.write_all(request.as_bytes()).expect("send");
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
            vec![line_of(&side.syslog, name)]
        }
        Step::Aborted((name, port, request)) => {
            let addr: SocketAddr = ([127, 0, 0, 1], port(&side.ports)).into();
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            s.write_all(request.as_bytes()).expect("send");
            s.shutdown(std::net::Shutdown::Write).expect("shutdown");
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
            vec![line_of(&side.syslog, name)]
        }
        Step::Pipelined((name, port, request), n) => {
            send(port(&side.ports), request);
            (0..*n).map(|_| line_of(&side.syslog, name)).collect()
        }
        Step::Held(name, port) => held_case(port(&side.ports), name, &side.syslog),
    }
}

/// The lines of a step that differ between the two proxies, as a report.
fn differences(theirs: &[(String, String)], ours: &[(String, String)]) -> String {
    let mut report = String::new();
    for ((name, t), (_, o)) in theirs.iter().zip(ours) {
        let missing = t.starts_with("<no line") || o.starts_with("<no line");
        if missing || mask(t) != mask(o) || unreached(t) != unreached(o) {
            report.push_str(&format!(
                "{name}:\n  haproxy:  {}\n  haproxyd: {}\n",
                t.trim_end(),
                o.trim_end()
            ));
        }
    }
    report
}

fn ports(syslog: &Syslog, b1: u16, b2: u16) -> Ports {
    Ports {
        web: free_port(),
        stats: free_port(),
        nosrv: free_port(),
        lf: free_port(),
        tcp: free_port(),
        tcpasap: free_port(),
        rules: free_port(),
        resdeny: free_port(),
        resredirect: free_port(),
        dead: free_port(),
        redispatch: free_port(),
        statslf: free_port(),
        caps: free_port(),
        clf: free_port(),
        slow: free_port(),
        closed: free_port(),
        syslog: syslog.port(),
        b1,
        b2,
    }
}

/// Runs `f` beside the engine serving `text`.
fn with_engine<T>(text: &str, f: impl FnOnce() -> T) -> T {
    let config = proxy_config::parse_str("seed.cfg", text, &|_| None)
        .unwrap_or_else(|e| panic!("config: {e}"))
        .config;
    let engine = Engine::build(&config).unwrap_or_else(|e| panic!("build: {e}"));
    let listeners = engine.bind().expect("bind");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = runtime.spawn(engine.serve(listeners, async {
        let _ = rx.await;
    }));
    let out = f();
    let _ = tx.send(());
    let _ = runtime.block_on(served);
    out
}

#[test]
fn log_lines_match_haproxy() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("skipped: haproxy is not installed");
        return;
    }
    let (b1, b2) = (backend(), backend());
    let side = || {
        let syslog = Syslog::new();
        Side {
            ports: ports(&syslog, b1, b2),
            syslog,
        }
    };
    let (theirs, ours) = (side(), side());
    // Both proxies run side by side, so that a step whose lines differ is
    // run again on both: a line's connection counters still count the
    // connection of the step before when a proxy was slow to release it.
    let report = with_haproxy("seed", &config(&theirs.ports), theirs.ports.tcp, || {
        with_engine(&config(&ours.ports), || {
            let mut report = String::new();
            for step in steps() {
                for attempt in 1..=3 {
                    let diff = differences(&run_step(&step, &theirs), &run_step(&step, &ours));
                    if diff.is_empty() {
                        break;
                    }
                    if attempt == 3 {
                        report.push_str(&diff);
                    } else {
                        eprintln!("attempt {attempt} differs, trying again:\n{diff}");
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
            report
        })
    });
    let Some(report) = report else {
        eprintln!("skipped: haproxy does not start");
        return;
    };
    assert!(report.is_empty(), "log lines differ:\n{report}");
}

#[test]
fn masking_keeps_what_matters() {
    let a = "<150>Nov 28 10:09:14 haproxy[21149]: 127.0.0.1:48668 [28/Nov/2026:10:09:14.658] \
             web static_servers/web1 0/0/1/2/+3 200 +76 - - ---- 1/1/1/0/0 0/0 {h||} \"GET / HTTP/1.1\"";
    let b = "<150>Nov 28 10:09:15 haproxy[99]: 127.0.0.1:3 [28/Nov/2026:10:09:15.001] \
             web static_servers/web1 5/0/0/0/+9 200 +76 - - ---- 1/1/1/0/0 0/0 {h||} \"GET / HTTP/1.1\"";
    assert_eq!(mask(a), mask(b));
    // Neither bytes, the `+` of logasap, the status, the flags nor the
    // counters are masked.
    assert_ne!(mask(a), mask(&b.replace("+76", "+77")));
    assert_ne!(mask(a), mask(&b.replace("+76", "76")));
    assert_ne!(mask(a), mask(&b.replace("200", "503")));
    assert_ne!(mask(a), mask(&b.replace("----", "SC--")));
    assert_ne!(mask(a), mask(&b.replace("1/1/1/0/0", "1/1/0/1/0")));
    let d = "x 0/-1/-1/-1/0 y";
    assert_eq!(unreached(d), vec![3]);
    // The CLF line: date, client port, milliseconds and timers but -1.
    let c = "127.0.0.1 - - [28/Nov/2026:13:45:14 +0000] \"GET / HTTP/1.1\" 200 73 \"\" \"\" \
             42186 146 \"clf\" \"b\" \"s\" 0 0 1 0 1 ---- 1 1 0 0 0 0 0 \"\" \"\"";
    let e = "127.0.0.1 - - [28/Nov/2026:13:45:15 +0000] \"GET / HTTP/1.1\" 200 73 \"\" \"\" \
             48142 201 \"clf\" \"b\" \"s\" 3 0 0 0 2 ---- 1 1 0 0 0 0 0 \"\" \"\"";
    assert_eq!(mask(c), mask(e));
    assert_ne!(mask(c), mask(&e.replace(" 3 0 0 0 2 ", " 3 0 -1 0 2 ")));
    assert_ne!(mask(c), mask(&e.replace(" 73 ", " 74 ")));
}

/// Syslog headers with `log-send-hostname` and `log-tag` (global, per
/// frontend, and from a named defaults section), in the RFC 3164, RFC 5424
/// and `local` framings; only time stamps and pids are masked.
fn tagged_config(syslog: u16, ports: [u16; 3], server: u16) -> String {
    let [tagged, plain, inherited] = ports;
    let timeouts = "    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n";
    format!(
        "global\n    log 127.0.0.1:{syslog} local2\n    \
         log 127.0.0.1:{syslog} format rfc5424 local2\n    \
         log 127.0.0.1:{syslog} format local local2\n    \
         log-send-hostname\n    log-tag gtag\n\
         defaults\n    mode http\n    log global\n    option dontlognull\n    log-format \"%f %b %ST\"\n{timeouts}\
         frontend tagged\n    bind 127.0.0.1:{tagged}\n    log-tag fetag\n    default_backend b\n\
         frontend plain\n    bind 127.0.0.1:{plain}\n    default_backend b\n\
         backend b\n    server s 127.0.0.1:{server}\n\
         defaults named\n    mode http\n    log global\n    option dontlognull\n    log-format \"%f %b %ST\"\n    \
         log-tag deftag\n{timeouts}\
         frontend inherited\n    bind 127.0.0.1:{inherited}\n    default_backend b2\n\
         backend b2\n    server s 127.0.0.1:{server}\n"
    )
}

fn tagged_lines(syslog: &Syslog, ports: [u16; 3]) -> Vec<String> {
    syslog.drain();
    let mut lines = Vec::new();
    for port in ports {
        send(
            port,
            "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        );
        // One datagram per target.
        for _ in 0..3 {
            lines.push(syslog.next().unwrap_or_else(|| "<no line>".into()));
        }
    }
    lines
}

fn mask_header(line: &str) -> String {
    let rules = [
        (r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ", "<$1>DATE "),
        (r"\[\d+\]: ", "[PID]: "),
        (
            r"^<(\d+)>1 \S+ (\S+) (\S+) \d+ - - ",
            "<$1>1 DATE $2 $3 PID - - ",
        ),
    ];
    let mut s = line.trim_end().to_string();
    for (re, to) in rules {
        s = Regex::new(re)
            .expect("regex")
            .replace_all(&s, to)
            .into_owned();
    }
    s
}

#[test]
fn syslog_headers_match_haproxy() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("skipped: haproxy is not installed");
        return;
    }
    let server = backend();
    let theirs_log = Syslog::new();
    let theirs_ports = [free_port(), free_port(), free_port()];
    let text = tagged_config(theirs_log.port(), theirs_ports, server);
    let Some(theirs) = with_haproxy("tags", &text, theirs_ports[2], || {
        tagged_lines(&theirs_log, theirs_ports)
    }) else {
        eprintln!("skipped: haproxy does not start");
        return;
    };
    let ours_log = Syslog::new();
    let ours_ports = [free_port(), free_port(), free_port()];
    let text = tagged_config(ours_log.port(), ours_ports, server);
    let ours = with_engine(&text, || tagged_lines(&ours_log, ours_ports));
    let theirs: Vec<String> = theirs.iter().map(|l| mask_header(l)).collect();
    let ours: Vec<String> = ours.iter().map(|l| mask_header(l)).collect();
    assert_eq!(ours, theirs);
    // The masking left the host name and tags to compare.
    assert!(
        theirs.iter().any(|l| l.contains(" fetag[PID]: ")),
        "{theirs:?}"
    );
    assert!(
        theirs.iter().any(|l| l.contains(" deftag PID - - ")),
        "{theirs:?}"
    );
}
