//! Health checks: what a server's `check` line and its backend's check
//! directives compile to, one check run against a server, and the task that
//! runs them on HAProxy's schedule.
//!
//! Three kinds: a TCP connect (the default), `option httpchk` with
//! `http-check send` / `http-check expect`, and `option tcp-check` with
//! `tcp-check connect|send|send-binary|expect`. Results carry HAProxy's
//! status codes (`L4OK`, `L4CON`, `L7STS`...) and wording, which
//! [`super::servers`] turns into the server's state and log lines.
//!
//! Timing follows HAProxy 2.6: the first checks are spread over the largest
//! interval at start-up; then each server is checked every `inter` when fully
//! up, `fastinter` while changing state and `downinter` when down, with
//! `spread-checks` percent of random jitter. Without `timeout check`, a whole
//! check must finish within `inter`; with it, connecting is bounded by
//! min(`timeout connect`, `inter`) and reading by `timeout check`.
//!
//! Servers added at run time (`add server B/S ADDR:PORT check [inter N]
//! [rise N] [fall N] [port N]`) run the backend's kind of check. As in
//! HAProxy 2.6 their checks start disabled: `enable health B/S` turns them
//! on, and they run once the server leaves maintenance. Each backend keeps
//! its check tasks ([`BackendChecks`]) so that `del server` ends the task of
//! the server it removes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proxy_config::{OptionKind, Proxy, ServerOptions, ServerPort, Span, TimeoutKind};
use regex::bytes::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::error::BuildError;
use super::model::{Backend, Runtime, lock};
use super::servers;

/// HAProxy's default `inter`.
const DEFAULT_INTER: Duration = Duration::from_secs(2);
/// HAProxy's default `rise` and `fall`.
const DEFAULT_RISE: u32 = 2;
const DEFAULT_FALL: u32 = 3;
/// Most bytes of a response a check reads (HAProxy's `tune.bufsize`).
const MAX_READ: usize = 16384;

/// The outcome class of a check, HAProxy's `check_status` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckCode {
    /// `L4OK`: the connection was accepted.
    L4Ok,
    /// `L4CON`: the connection failed (refused, unreachable...).
    L4Con,
    /// `L4TOUT`: connecting timed out.
    L4Timeout,
    /// `L7OK`: the expected response came.
    L7Ok,
    /// `L7STS`: an HTTP status that was not expected.
    L7Status,
    /// `L7RSP`: a response that did not match or could not be parsed.
    L7Response,
    /// `L7TOUT`: the response did not come in time.
    L7Timeout,
    /// `SOCKERR`: a local socket error.
    SockErr,
}

impl CheckCode {
    /// HAProxy's abbreviation (`L4OK`, `L7STS`...).
    pub fn abbrev(self) -> &'static str {
        match self {
            CheckCode::L4Ok => "L4OK",
            CheckCode::L4Con => "L4CON",
            CheckCode::L4Timeout => "L4TOUT",
            CheckCode::L7Ok => "L7OK",
            CheckCode::L7Status => "L7STS",
            CheckCode::L7Response => "L7RSP",
            CheckCode::L7Timeout => "L7TOUT",
            CheckCode::SockErr => "SOCKERR",
        }
    }

    /// The reason HAProxy writes in its state lines.
    pub fn reason(self) -> &'static str {
        match self {
            CheckCode::L4Ok => "Layer4 check passed",
            CheckCode::L4Con => "Layer4 connection problem",
            CheckCode::L4Timeout => "Layer4 timeout",
            CheckCode::L7Ok => "Layer7 check passed",
            CheckCode::L7Status => "Layer7 wrong status",
            CheckCode::L7Response => "Layer7 invalid response",
            CheckCode::L7Timeout => "Layer7 timeout",
            CheckCode::SockErr => "Socket error",
        }
    }

    /// Whether the check passed.
    pub fn passed(self) -> bool {
        matches!(self, CheckCode::L4Ok | CheckCode::L7Ok)
    }
}

/// The result of one health check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckStatus {
    /// The outcome.
    pub code: CheckCode,
    /// The response code HAProxy reports with layer-7 results (the HTTP
    /// status; 0 for `tcp-check`).
    pub http_code: Option<u16>,
    /// Details (`Connection refused`, the HTTP reason phrase...).
    pub info: Option<String>,
    /// How long the check took.
    pub duration: Duration,
}

impl CheckStatus {
    fn new(code: CheckCode, http_code: Option<u16>, info: Option<String>) -> CheckStatus {
        CheckStatus {
            code,
            http_code,
            info,
            duration: Duration::ZERO,
        }
    }
}

/// What an HTTP check expects.
#[derive(Debug, Clone)]
pub(crate) enum HttpExpect {
    /// No `http-check expect`: a 2xx or 3xx status.
    Default,
    /// `status CODE[,CODE|LOW-HIGH]...`.
    Status(bool, Vec<(u16, u16)>),
    /// `rstatus REGEX`.
    RStatus(bool, Regex),
    /// `string TEXT` in the body.
    String(bool, Vec<u8>),
    /// `rstring REGEX` on the body.
    RString(bool, Regex),
}

/// One `tcp-check` rule.
#[derive(Debug, Clone)]
pub(crate) enum TcpStep {
    /// `connect [port N] [addr A]`.
    Connect(Option<u16>, Option<IpAddr>),
    /// `send` / `send-binary`.
    Send(Vec<u8>),
    /// `expect [!] string|rstring|binary PATTERN`.
    Expect {
        negate: bool,
        pattern: Pattern,
        /// The pattern as written, for the failure message.
        shown: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    Bytes(Vec<u8>),
    Regex(Regex),
}

impl Pattern {
    fn find(&self, hay: &[u8]) -> bool {
        match self {
            Pattern::Bytes(b) => b.is_empty() || hay.windows(b.len()).any(|w| w == b.as_slice()),
            Pattern::Regex(r) => r.is_match(hay),
        }
    }
}

/// The kind of check a backend runs.
#[derive(Debug, Clone)]
pub(crate) enum CheckKind {
    /// Connect only.
    Tcp,
    /// Send `request`, check the response.
    Http {
        request: Vec<u8>,
        expect: HttpExpect,
    },
    /// Run the rules in order.
    TcpScript(Vec<TcpStep>),
}

/// A server's check settings, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CheckConf {
    /// What to run.
    pub(crate) kind: Arc<CheckKind>,
    /// Where to connect.
    pub(crate) addr: SocketAddr,
    /// `inter`, `fastinter`, `downinter`.
    pub(crate) inter: Duration,
    pub(crate) fastinter: Duration,
    pub(crate) downinter: Duration,
    /// `rise`, `fall`.
    pub(crate) rise: u32,
    pub(crate) fall: u32,
    /// `timeout connect`, `timeout check`.
    pub(crate) timeout_connect: Option<Duration>,
    pub(crate) timeout_check: Option<Duration>,
}

fn invalid(at: &Span, message: String) -> BuildError {
    BuildError::Invalid {
        at: at.to_string(),
        message,
    }
}

fn unsupported(at: &Span, what: String) -> BuildError {
    BuildError::Unsupported {
        at: at.to_string(),
        what,
    }
}

/// Compiles a backend's check kind from `option httpchk`, `http-check`,
/// `option tcp-check` and `tcp-check` lines.
pub(crate) fn backend_kind(p: &Proxy) -> Result<CheckKind, BuildError> {
    if let Some(OptionKind::HttpChk { args }) =
        p.option("httpchk").filter(|o| !o.negated).map(|o| &o.kind)
    {
        return http_kind(p, args);
    }
    if p.option_enabled("tcp-check") {
        let mut steps = Vec::new();
        for line in p
            .ignored
            .iter()
            .filter(|l| l.value.first().is_some_and(|w| w == "tcp-check"))
        {
            steps.push(tcp_step(
                &line.span,
                line.value.get(1..).unwrap_or_default(),
            )?);
        }
        return Ok(CheckKind::TcpScript(steps));
    }
    Ok(CheckKind::Tcp)
}

fn http_kind(p: &Proxy, args: &[String]) -> Result<CheckKind, BuildError> {
    let mut meth = args.first().cloned().unwrap_or_else(|| "OPTIONS".into());
    let mut uri = args.get(1).cloned().unwrap_or_else(|| "/".into());
    let mut ver = args.get(2).cloned().unwrap_or_else(|| "HTTP/1.0".into());
    // 2.6 still accepts headers hidden after the version ("HTTP/1.1\r\nHost: x").
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some((v, rest)) = ver.clone().split_once("\r\n") {
        ver = v.to_string();
        for h in rest.split("\r\n").filter(|h| !h.is_empty()) {
            if let Some((n, val)) = h.split_once(':') {
                headers.push((n.trim().to_string(), val.trim().to_string()));
            }
        }
    }
    let mut body = Vec::new();
    let mut expect = HttpExpect::Default;
    for line in &p.http_checks {
        let w = &line.value;
        match w.first().map(String::as_str) {
            Some("send") => {
                let mut it = w.iter().skip(1);
                while let Some(k) = it.next() {
                    let mut val = || {
                        it.next().cloned().ok_or_else(|| {
                            invalid(
                                &line.span,
                                format!("http-check send: '{k}' expects an argument"),
                            )
                        })
                    };
                    match k.as_str() {
                        "meth" => meth = val()?,
                        "uri" => uri = val()?,
                        "ver" => ver = val()?,
                        "body" => body = val()?.into_bytes(),
                        "hdr" => {
                            let n = val()?;
                            let v = val()?;
                            headers.push((n, v));
                        }
                        other => {
                            return Err(unsupported(
                                &line.span,
                                format!("http-check send '{other}'"),
                            ));
                        }
                    }
                }
            }
            Some("expect") => expect = http_expect(&line.span, w.get(1..).unwrap_or_default())?,
            Some("disable-on-404" | "send-state" | "comment") => {}
            Some(other) => {
                return Err(unsupported(&line.span, format!("http-check {other}")));
            }
            None => {}
        }
    }
    let mut req = format!("{meth} {uri} {ver}\r\n").into_bytes();
    for (n, v) in &headers {
        req.extend_from_slice(format!("{}: {v}\r\n", n.to_ascii_lowercase()).as_bytes());
    }
    if !body.is_empty() {
        req.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    if ver.eq_ignore_ascii_case("HTTP/1.1") {
        req.extend_from_slice(b"connection: close\r\n");
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(&body);
    Ok(CheckKind::Http {
        request: req,
        expect,
    })
}

fn regex(at: &Span, pattern: &str) -> Result<Regex, BuildError> {
    Regex::new(pattern).map_err(|e| invalid(at, format!("invalid regex '{pattern}': {e}")))
}

fn http_expect(at: &Span, w: &[String]) -> Result<HttpExpect, BuildError> {
    let (negate, w) = match w.first().map(String::as_str) {
        Some("!") => (true, w.get(1..).unwrap_or_default()),
        _ => (false, w),
    };
    let (Some(kind), Some(pat)) = (w.first(), w.get(1)) else {
        return Err(invalid(
            at,
            "http-check expect: expects a match type and a pattern".into(),
        ));
    };
    Ok(match kind.as_str() {
        "status" => {
            let mut codes = Vec::new();
            for part in pat.split(',') {
                let (lo, hi) = part.split_once('-').unwrap_or((part, part));
                let n = |s: &str| {
                    s.trim().parse::<u16>().map_err(|_| {
                        invalid(at, format!("http-check expect status: bad code '{part}'"))
                    })
                };
                codes.push((n(lo)?, n(hi)?));
            }
            HttpExpect::Status(negate, codes)
        }
        "rstatus" => HttpExpect::RStatus(negate, regex(at, pat)?),
        "string" => HttpExpect::String(negate, pat.clone().into_bytes()),
        "rstring" => HttpExpect::RString(negate, regex(at, pat)?),
        other => return Err(unsupported(at, format!("http-check expect {other}"))),
    })
}

fn hex(at: &Span, s: &str) -> Result<Vec<u8>, BuildError> {
    let bad = || invalid(at, format!("'{s}' is not an even number of hex digits"));
    if s.len() % 2 != 0 {
        return Err(bad());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

fn tcp_step(at: &Span, w: &[String]) -> Result<TcpStep, BuildError> {
    match w.first().map(String::as_str) {
        Some("connect") => {
            let mut port = None;
            let mut addr = None;
            let mut it = w.iter().skip(1);
            while let Some(k) = it.next() {
                match k.as_str() {
                    "port" => {
                        port = Some(it.next().and_then(|p| p.parse().ok()).ok_or_else(|| {
                            invalid(at, "tcp-check connect port: expects a port".into())
                        })?);
                    }
                    "addr" => {
                        addr = Some(it.next().and_then(|p| p.parse().ok()).ok_or_else(|| {
                            invalid(at, "tcp-check connect addr: expects an address".into())
                        })?);
                    }
                    other => return Err(unsupported(at, format!("tcp-check connect {other}"))),
                }
            }
            Ok(TcpStep::Connect(port, addr))
        }
        Some("send") => {
            let s = w
                .get(1)
                .ok_or_else(|| invalid(at, "tcp-check send: expects a string".into()))?;
            Ok(TcpStep::Send(s.clone().into_bytes()))
        }
        Some("send-binary") => {
            let s = w
                .get(1)
                .ok_or_else(|| invalid(at, "tcp-check send-binary: expects hex digits".into()))?;
            Ok(TcpStep::Send(hex(at, s)?))
        }
        Some("expect") => {
            let rest = w.get(1..).unwrap_or_default();
            let (negate, rest) = match rest.first().map(String::as_str) {
                Some("!") => (true, rest.get(1..).unwrap_or_default()),
                _ => (false, rest),
            };
            let (Some(kind), Some(pat)) = (rest.first(), rest.get(1)) else {
                return Err(invalid(
                    at,
                    "tcp-check expect: expects a match type and a pattern".into(),
                ));
            };
            let pattern = match kind.as_str() {
                "string" => Pattern::Bytes(pat.clone().into_bytes()),
                "binary" => Pattern::Bytes(hex(at, pat)?),
                "rstring" => Pattern::Regex(regex(at, pat)?),
                other => return Err(unsupported(at, format!("tcp-check expect {other}"))),
            };
            Ok(TcpStep::Expect {
                negate,
                pattern,
                shown: pat.clone(),
            })
        }
        Some("comment") => Ok(TcpStep::Send(Vec::new())),
        Some(other) => Err(unsupported(at, format!("tcp-check {other}"))),
        None => Err(invalid(at, "tcp-check: expects an action".into())),
    }
}

/// A server's check settings, or `None` without `check`.
pub(crate) fn server_conf(
    p: &Proxy,
    o: &ServerOptions,
    at: &Span,
    kind: &Arc<CheckKind>,
    ip: IpAddr,
    port: ServerPort,
) -> Result<Option<CheckConf>, BuildError> {
    if o.check != Some(true) {
        return Ok(None);
    }
    let port = match (o.port, port) {
        (Some(p), _) => p,
        (None, ServerPort::Fixed(p)) => p,
        (None, _) => {
            return Err(invalid(
                at,
                "health check requested but the server has no fixed port: add 'port N'".into(),
            ));
        }
    };
    let inter = o
        .inter
        .unwrap_or(DEFAULT_INTER)
        .max(Duration::from_millis(1));
    Ok(Some(CheckConf {
        kind: Arc::clone(kind),
        addr: SocketAddr::new(o.addr.unwrap_or(ip), port),
        inter,
        fastinter: o.fastinter.unwrap_or(inter).max(Duration::from_millis(1)),
        downinter: o.downinter.unwrap_or(inter).max(Duration::from_millis(1)),
        rise: o.rise.unwrap_or(DEFAULT_RISE).max(1),
        fall: o.fall.unwrap_or(DEFAULT_FALL).max(1),
        timeout_connect: p.timeout(TimeoutKind::Connect),
        timeout_check: p.timeout(TimeoutKind::Check),
    }))
}

impl CheckConf {
    /// The delay before the next check: `inter` when fully up, `downinter`
    /// when down, `fastinter` in between (HAProxy's `srv_getinter`).
    pub(crate) fn interval(&self, up: bool, health: u32) -> Duration {
        if health >= self.rise + self.fall - 1 {
            self.inter
        } else if !up && health == 0 {
            self.downinter
        } else {
            self.fastinter
        }
    }

    /// Connect bound and read bound.
    fn timeouts(&self) -> (Duration, Duration) {
        match self.timeout_check {
            Some(read) => (
                self.timeout_connect
                    .map_or(self.inter, |c| c.min(self.inter)),
                read,
            ),
            None => (self.inter, self.inter),
        }
    }
}

/// Runs one check against `conf.addr`.
pub(crate) async fn run_once(conf: &CheckConf) -> CheckStatus {
    let started = Instant::now();
    let (connect_limit, read_limit) = conf.timeouts();
    // Without `timeout check` the whole check shares one budget.
    let whole = conf.timeout_check.is_none().then(|| started + conf.inter);
    let mut st = match &*conf.kind {
        CheckKind::Tcp => match connect(conf.addr, connect_limit).await {
            Ok(_) => CheckStatus::new(CheckCode::L4Ok, None, None),
            Err(st) => st,
        },
        CheckKind::Http { request, expect } => {
            http_check(conf.addr, connect_limit, read_limit, whole, request, expect).await
        }
        CheckKind::TcpScript(steps) => {
            tcp_script(conf.addr, connect_limit, read_limit, whole, steps).await
        }
    };
    st.duration = started.elapsed();
    st
}

fn io_info(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "Connection reset by peer".into(),
        std::io::ErrorKind::TimedOut => "Connection timed out".into(),
        _ => {
            // Drop the " (os error N)" suffix the standard library adds.
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        }
    }
}

async fn connect(addr: SocketAddr, limit: Duration) -> Result<TcpStream, CheckStatus> {
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => {
            // As HAProxy: a check connection that the proxy closes first
            // ends with a reset, leaving no TIME_WAIT socket per check.
            super::stream::set_no_linger(&s);
            Ok(s)
        }
        Ok(Err(e)) => Err(CheckStatus::new(CheckCode::L4Con, None, Some(io_info(&e)))),
        Err(_) => Err(CheckStatus::new(CheckCode::L4Timeout, None, None)),
    }
}

/// The read deadline: the read bound from now, capped by the whole budget.
fn read_deadline(read_limit: Duration, whole: Option<Instant>) -> Instant {
    let d = Instant::now() + read_limit;
    whole.map_or(d, |w| w.min(d))
}

/// Reads until `done` says the buffer is enough, the peer closes, the buffer
/// is full or the deadline passes. Returns the buffer and whether it ended by
/// the deadline.
async fn read_until(
    s: &mut TcpStream,
    deadline: Instant,
    done: impl Fn(&[u8]) -> bool,
    buf: &mut Vec<u8>,
) -> bool {
    let mut tmp = [0u8; 4096];
    loop {
        if done(buf) || buf.len() >= MAX_READ {
            return false;
        }
        match tokio::time::timeout_at(deadline.into(), s.read(&mut tmp)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return false,
            Ok(Ok(n)) => buf.extend_from_slice(tmp.get(..n).unwrap_or_default()),
            Err(_) => return true,
        }
    }
}

/// An HTTP response head as far as a check needs it.
struct Head {
    status: u16,
    reason: String,
    body_at: usize,
    length: Option<usize>,
}

fn parse_head(buf: &[u8]) -> Option<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let length = r
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .and_then(|v| v.trim().parse().ok());
            Some(Head {
                status: r.code?,
                reason: r.reason.unwrap_or_default().to_string(),
                body_at: n,
                length,
            })
        }
        _ => None,
    }
}

async fn http_check(
    addr: SocketAddr,
    connect_limit: Duration,
    read_limit: Duration,
    whole: Option<Instant>,
    request: &[u8],
    expect: &HttpExpect,
) -> CheckStatus {
    let mut s = match connect(addr, connect_limit).await {
        Ok(s) => s,
        Err(st) => return st,
    };
    let deadline = read_deadline(read_limit, whole);
    if tokio::time::timeout_at(deadline.into(), s.write_all(request))
        .await
        .map_or(true, |r| r.is_err())
    {
        return CheckStatus::new(CheckCode::L7Response, None, None);
    }
    let needs_body = matches!(expect, HttpExpect::String(..) | HttpExpect::RString(..));
    let mut buf = Vec::new();
    let timed_out = read_until(
        &mut s,
        deadline,
        |b| match parse_head(b) {
            Some(h) if !needs_body => {
                let _ = h;
                true
            }
            Some(h) => h.length.is_some_and(|l| b.len() >= h.body_at + l),
            None => false,
        },
        &mut buf,
    )
    .await;
    let Some(head) = parse_head(&buf) else {
        return if timed_out {
            CheckStatus::new(CheckCode::L7Timeout, None, None)
        } else {
            CheckStatus::new(CheckCode::L7Response, None, None)
        };
    };
    let body = buf.get(head.body_at..).unwrap_or_default();
    let ok = || {
        CheckStatus::new(
            CheckCode::L7Ok,
            Some(head.status),
            Some(head.reason.clone()),
        )
    };
    let wrong = || {
        CheckStatus::new(
            CheckCode::L7Status,
            Some(head.status),
            Some(head.reason.clone()),
        )
    };
    let content = |matched: bool, negate: bool| {
        if matched != negate {
            ok()
        } else {
            let info = if negate {
                "HTTP content check found a forbidden pattern"
            } else {
                "HTTP content check did not match"
            };
            CheckStatus::new(CheckCode::L7Response, None, Some(info.into()))
        }
    };
    let mut st = match expect {
        HttpExpect::Default => {
            if (200..400).contains(&head.status) {
                ok()
            } else {
                wrong()
            }
        }
        HttpExpect::Status(negate, codes) => {
            let m = codes
                .iter()
                .any(|(lo, hi)| (*lo..=*hi).contains(&head.status));
            if m != *negate { ok() } else { wrong() }
        }
        HttpExpect::RStatus(negate, re) => {
            let m = re.is_match(head.status.to_string().as_bytes());
            if m != *negate { ok() } else { wrong() }
        }
        HttpExpect::String(negate, text) => {
            content(Pattern::Bytes(text.clone()).find(body), *negate)
        }
        HttpExpect::RString(negate, re) => content(re.is_match(body), *negate),
    };
    if st.code == CheckCode::L7Ok {
        // HAProxy reports a passed HTTP check with its code only.
        st.info = None;
    }
    st
}

async fn tcp_script(
    addr: SocketAddr,
    connect_limit: Duration,
    read_limit: Duration,
    whole: Option<Instant>,
    steps: &[TcpStep],
) -> CheckStatus {
    let explicit_connect = matches!(steps.first(), Some(TcpStep::Connect(..)));
    let mut conn: Option<TcpStream> = None;
    if !explicit_connect {
        match connect(addr, connect_limit).await {
            Ok(s) => conn = Some(s),
            Err(mut st) => {
                if let Some(i) = &mut st.info {
                    i.push_str(" at initial connection step of tcp-check");
                }
                return st;
            }
        }
    }
    let mut buf = Vec::new();
    let mut expects = false;
    for (n, step) in steps.iter().enumerate() {
        let n = n + 1;
        match step {
            TcpStep::Connect(port, ip) => {
                let to = SocketAddr::new(ip.unwrap_or(addr.ip()), port.unwrap_or(addr.port()));
                match connect(to, connect_limit).await {
                    Ok(s) => {
                        conn = Some(s);
                        buf.clear();
                    }
                    Err(mut st) => {
                        if let Some(i) = &mut st.info {
                            if n == 1 {
                                i.push_str(" at initial connection step of tcp-check");
                            } else {
                                i.push_str(&format!(" at step {n} of tcp-check (connect)"));
                            }
                        }
                        return st;
                    }
                }
            }
            TcpStep::Send(data) => {
                let Some(s) = conn.as_mut() else {
                    return CheckStatus::new(CheckCode::SockErr, None, None);
                };
                if data.is_empty() {
                    continue;
                }
                let deadline = read_deadline(read_limit, whole);
                if tokio::time::timeout_at(deadline.into(), s.write_all(data))
                    .await
                    .map_or(true, |r| r.is_err())
                {
                    return CheckStatus::new(
                        CheckCode::L7Response,
                        None,
                        Some(format!("at step {n} of tcp-check (send)")),
                    );
                }
            }
            TcpStep::Expect {
                negate,
                pattern,
                shown,
            } => {
                expects = true;
                let Some(s) = conn.as_mut() else {
                    return CheckStatus::new(CheckCode::SockErr, None, None);
                };
                let deadline = read_deadline(read_limit, whole);
                let timed_out =
                    read_until(s, deadline, |b| !*negate && pattern.find(b), &mut buf).await;
                let found = pattern.find(&buf);
                if found == *negate {
                    if timed_out && !found {
                        return CheckStatus::new(
                            CheckCode::L7Timeout,
                            None,
                            Some(format!(
                                "at step {n} of tcp-check (expect string '{shown}')"
                            )),
                        );
                    }
                    let info = if *negate {
                        format!("TCPCHK matched unwanted content '{shown}' at step {n}")
                    } else {
                        format!("TCPCHK did not match content '{shown}' at step {n}")
                    };
                    return CheckStatus::new(CheckCode::L7Response, None, Some(info));
                }
            }
        }
    }
    if expects {
        CheckStatus::new(CheckCode::L7Ok, Some(0), Some("(tcp-check)".into()))
    } else {
        CheckStatus::new(CheckCode::L4Ok, None, None)
    }
}

/// A small xorshift generator for check jitter; quality does not matter.
struct Jitter(u64);

impl Jitter {
    fn new(seed: u64) -> Jitter {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into());
        Jitter((seed ^ t).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// `d` moved by up to ±`percent`%.
    fn spread(&mut self, d: Duration, percent: u32) -> Duration {
        if percent == 0 {
            return d;
        }
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let span = d.as_micros() * u128::from(percent.min(50)) / 100;
        let r = u128::from(self.0 % 1_000_001);
        // From -span to +span.
        let off = span * 2 * r / 1_000_000;
        let micros = (d.as_micros() + off).saturating_sub(span);
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

/// A backend's check settings for servers added at run time, and its
/// running check tasks by server index.
#[derive(Debug)]
pub(crate) struct BackendChecks {
    kind: Arc<CheckKind>,
    timeout_connect: Option<Duration>,
    timeout_check: Option<Duration>,
    tasks: Mutex<Tasks>,
}

#[derive(Debug, Default)]
struct Tasks {
    /// Where tasks run, once the engine serves.
    runner: Option<Runner>,
    running: HashMap<usize, tokio::task::JoinHandle<()>>,
}

#[derive(Debug)]
struct Runner {
    handle: tokio::runtime::Handle,
    stop: watch::Receiver<bool>,
    spread: u32,
}

/// The check keywords of `add server` (HAProxy's, a subset).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct DynamicCheckOptions {
    /// `check`.
    pub(crate) check: bool,
    /// `port N`, wrapped to 16 bits as HAProxy does; 0 means the service
    /// port.
    pub(crate) port: Option<u16>,
    /// `inter N`.
    pub(crate) inter: Option<Duration>,
    /// `rise N`, `fall N`.
    pub(crate) rise: Option<u32>,
    pub(crate) fall: Option<u32>,
}

/// HAProxy's largest timer, in milliseconds.
const MAX_TIMER_MS: u128 = 2_147_483_647;

/// A time value of the runtime API: digits and an optional unit (`us`,
/// `ms`, `s`, `m`, `h`, `d`; `ms` by default); what follows a unit is
/// ignored, as HAProxy's parser does. The error is the first unexpected
/// character.
fn cli_time(v: &str) -> Result<Duration, Option<char>> {
    let end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(end);
    if digits.is_empty() {
        return Err(v.chars().next());
    }
    let n: u128 = digits.parse().map_err(|_| None)?;
    let micros_per = match unit.as_bytes() {
        [] => 1_000,
        [b'u', b's', ..] => 1,
        [b'm', b's', ..] => 1_000,
        [b's', ..] => 1_000_000,
        [b'm', ..] => 60_000_000,
        [b'h', ..] => 3_600_000_000,
        [b'd', ..] => 86_400_000_000,
        _ => return Err(unit.chars().next()),
    };
    let micros = n.checked_mul(micros_per).ok_or(None)?;
    if micros / 1_000 > MAX_TIMER_MS {
        return Err(None);
    }
    Ok(Duration::from_micros(
        u64::try_from(micros).map_err(|_| None)?,
    ))
}

/// HAProxy's `atol`: an optional sign and the digits that follow, 0 when
/// there are none.
fn atol(v: &str) -> i64 {
    let (neg, rest) = match v.as_bytes().first() {
        Some(b'-') => (true, v.get(1..).unwrap_or_default()),
        Some(b'+') => (false, v.get(1..).unwrap_or_default()),
        _ => (false, v),
    };
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let n = rest
        .get(..end)
        .and_then(|d| d.parse::<i64>().ok())
        .unwrap_or(0);
    if neg { -n } else { n }
}

impl DynamicCheckOptions {
    /// Whether `kw` is one of the check keywords of `add server`.
    pub(crate) fn knows(kw: &str) -> bool {
        matches!(
            kw,
            "check" | "no-check" | "inter" | "rise" | "fall" | "port"
        )
    }

    /// Reads keyword `kw` (one [`knows`](Self::knows)) of server `server`
    /// with its `value`; returns how many words it took, or HAProxy's
    /// answer to the error.
    pub(crate) fn read(
        &mut self,
        server: &str,
        kw: &str,
        value: Option<&String>,
    ) -> Result<usize, String> {
        match kw {
            "check" => {
                self.check = true;
                return Ok(1);
            }
            "no-check" => {
                self.check = false;
                return Ok(1);
            }
            "inter" => {
                let v =
                    value.ok_or_else(|| "'inter' expects a delay as argument..\n".to_string())?;
                let d = cli_time(v).map_err(|c| match c {
                    // HAProxy 2.6 names the wrong keyword in this message.
                    Some(c) => format!(
                        "unexpected character '{c}' in 'agent-inter' argument of server {server}..\n"
                    ),
                    None => format!(
                        "timer overflow in argument <{v}> to <inter> of server {server}, maximum value is 2147483647 ms (~24.8 days)..\n"
                    ),
                })?;
                if d.is_zero() {
                    return Err(format!(
                        "invalid value 0 for argument 'inter' of server {server}..\n"
                    ));
                }
                self.inter = Some(d);
            }
            "rise" | "fall" => {
                let v = value.ok_or_else(|| format!("'{kw}' expects an integer argument..\n"))?;
                let n = u32::try_from(atol(v))
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("'{kw}' has to be > 0..\n"))?;
                if kw == "rise" {
                    self.rise = Some(n);
                } else {
                    self.fall = Some(n);
                }
            }
            "port" => {
                let v = value
                    .ok_or_else(|| "'port' expects a port number as argument..\n".to_string())?;
                // HAProxy keeps the low 16 bits of the number.
                self.port = Some((atol(v) & 0xffff) as u16);
            }
            _ => return Err(format!("unknown keyword '{kw}'.\n")),
        }
        Ok(2)
    }
}

impl BackendChecks {
    /// The settings of backend `p`, whose check kind is `kind`.
    pub(crate) fn new(kind: Arc<CheckKind>, p: &Proxy) -> BackendChecks {
        BackendChecks {
            kind,
            timeout_connect: p.timeout(TimeoutKind::Connect),
            timeout_check: p.timeout(TimeoutKind::Check),
            tasks: Mutex::new(Tasks::default()),
        }
    }

    /// The check settings of server `server` added to backend `backend` at
    /// `ip`:`port` with options `o`: `None` without `check`, HAProxy's
    /// answer when no port is known to check.
    pub(crate) fn conf(
        &self,
        backend: &str,
        server: &str,
        ip: IpAddr,
        port: ServerPort,
        o: &DynamicCheckOptions,
    ) -> Result<Option<CheckConf>, String> {
        if !o.check {
            return Ok(None);
        }
        let connect_port = match &*self.kind {
            CheckKind::TcpScript(steps) => steps.iter().find_map(|s| match s {
                TcpStep::Connect(p, _) => *p,
                _ => None,
            }),
            _ => None,
        };
        let port = match (o.port.filter(|p| *p != 0), port, connect_port) {
            (Some(p), _, _) => p,
            (None, ServerPort::Fixed(p), _) => p,
            // The script's connect rule gives the port.
            (None, _, Some(_)) => 0,
            _ => {
                return Err(format!(
                    "config: backend '{backend}': server '{server}' has neither service port nor check port nor tcp_check rule 'connect' with port information.\n"
                ));
            }
        };
        let inter = o.inter.unwrap_or(DEFAULT_INTER);
        Ok(Some(CheckConf {
            kind: Arc::clone(&self.kind),
            addr: SocketAddr::new(ip, port),
            inter,
            fastinter: inter,
            downinter: inter,
            rise: o.rise.unwrap_or(DEFAULT_RISE),
            fall: o.fall.unwrap_or(DEFAULT_FALL),
            timeout_connect: self.timeout_connect,
            timeout_check: self.timeout_check,
        }))
    }

    /// Starts the check task of server `index` of `be`, added at run time,
    /// if the engine serves (else [`spawn_all`] starts it with the others).
    pub(crate) fn start(be: &Arc<Backend>, index: usize) {
        let mut tasks = lock(&be.checks.tasks);
        let Some(r) = &tasks.runner else {
            return;
        };
        if tasks.running.get(&index).is_some_and(|t| !t.is_finished()) {
            return;
        }
        let seed = u64::try_from(index).unwrap_or(0);
        let task = r.handle.spawn(run_server(
            Arc::clone(be),
            index,
            Duration::ZERO,
            r.spread,
            seed,
            r.stop.clone(),
        ));
        tasks.running.insert(index, task);
    }

    /// Ends the check task of server `index` (`del server`).
    pub(crate) fn stop(&self, index: usize) {
        if let Some(t) = lock(&self.tasks).running.remove(&index) {
            t.abort();
        }
    }

    /// Whether a check task runs for server `index`.
    #[cfg(test)]
    pub(crate) fn running(&self, index: usize) -> bool {
        lock(&self.tasks)
            .running
            .get(&index)
            .is_some_and(|t| !t.is_finished())
    }
}

/// Starts a check task for every checked server and a warm-up task for every
/// backend with `slowstart` servers. Tasks end when `stop` turns true.
pub(crate) fn spawn_all(rt: &Arc<Runtime>, stop: &watch::Receiver<bool>) {
    let checked: Vec<(Arc<Backend>, usize)> = rt
        .backends
        .iter()
        .flat_map(|be| {
            be.servers
                .iter()
                .enumerate()
                .filter(|(_, s)| s.check.is_some())
                .map(|(i, _)| (Arc::clone(be), i))
                .collect::<Vec<_>>()
        })
        .collect();
    // HAProxy spreads the first checks evenly over the largest interval.
    let mininter = checked
        .iter()
        .filter_map(|(be, i)| be.servers.get(*i)?.check.as_ref().map(|c| c.fastinter))
        .max()
        .unwrap_or(Duration::ZERO);
    let n = u32::try_from(checked.len()).unwrap_or(u32::MAX).max(1);
    let handle = tokio::runtime::Handle::current();
    for be in &rt.backends {
        let mut tasks = lock(&be.checks.tasks);
        tasks.runner = Some(Runner {
            handle: handle.clone(),
            stop: stop.clone(),
            spread: rt.spread_checks,
        });
    }
    for (pos, (be, i)) in checked.into_iter().enumerate() {
        let first = mininter * u32::try_from(pos).unwrap_or(0) / n;
        let seed = u64::try_from(pos).unwrap_or(0);
        let mut tasks = lock(&be.checks.tasks);
        let task = tokio::spawn(run_server(
            Arc::clone(&be),
            i,
            first,
            rt.spread_checks,
            seed,
            stop.clone(),
        ));
        if let Some(old) = tasks.running.insert(i, task) {
            old.abort();
        }
    }
    for be in &rt.backends {
        if let Some(ramp) = be.servers.iter().filter_map(|s| s.slowstart).min() {
            let tick = (ramp / 20).clamp(Duration::from_millis(100), Duration::from_secs(1));
            tokio::spawn(warm_up(Arc::clone(be), tick, stop.clone()));
        }
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn run_server(
    be: Arc<Backend>,
    index: usize,
    first: Duration,
    spread: u32,
    seed: u64,
    mut stop: watch::Receiver<bool>,
) {
    let Some(conf) = be.servers.get(index).and_then(|s| s.check.clone()) else {
        return;
    };
    let mut jitter = Jitter::new(seed);
    tokio::select! {
        () = stopped(&mut stop) => return,
        () = tokio::time::sleep(first) => {}
    }
    loop {
        let Some(s) = be.servers.get(index).filter(|s| !s.rt.is_deleted()) else {
            return;
        };
        if s.rt.checks_active() {
            let st = tokio::select! {
                () = stopped(&mut stop) => return,
                st = run_once(&conf) => st,
            };
            servers::record_check(&be, index, st);
        }
        let (up, health) = s.rt.health();
        let delay = jitter.spread(conf.interval(up, health), spread);
        tokio::select! {
            () = stopped(&mut stop) => return,
            () = tokio::time::sleep(delay) => {}
            () = s.rt.recheck.notified() => {}
        }
    }
}

async fn warm_up(be: Arc<Backend>, tick: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = stopped(&mut stop) => return,
            () = tokio::time::sleep(tick) => {}
        }
        servers::warm_up(&be);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(rise: u32, fall: u32) -> CheckConf {
        CheckConf {
            kind: Arc::new(CheckKind::Tcp),
            addr: SocketAddr::from(([127, 0, 0, 1], 1)),
            inter: Duration::from_millis(1000),
            fastinter: Duration::from_millis(200),
            downinter: Duration::from_millis(5000),
            rise,
            fall,
            timeout_connect: Some(Duration::from_millis(300)),
            timeout_check: None,
        }
    }

    #[test]
    fn interval_follows_haproxy_srv_getinter() {
        let c = conf(2, 3);
        assert_eq!(c.interval(true, 4), Duration::from_millis(1000));
        assert_eq!(c.interval(true, 2), Duration::from_millis(200));
        assert_eq!(c.interval(false, 1), Duration::from_millis(200));
        assert_eq!(c.interval(false, 0), Duration::from_millis(5000));
    }

    #[test]
    fn timeouts_with_and_without_timeout_check() {
        let mut c = conf(2, 3);
        assert_eq!(c.timeouts(), (c.inter, c.inter));
        c.timeout_check = Some(Duration::from_millis(50));
        assert_eq!(
            c.timeouts(),
            (Duration::from_millis(300), Duration::from_millis(50))
        );
        c.timeout_connect = Some(Duration::from_secs(10));
        assert_eq!(c.timeouts(), (c.inter, Duration::from_millis(50)));
    }

    #[test]
    fn jitter_stays_within_the_spread() {
        let mut j = Jitter::new(7);
        let d = Duration::from_millis(1000);
        for _ in 0..1000 {
            let x = j.spread(d, 10);
            assert!(x >= Duration::from_millis(900) && x <= Duration::from_millis(1100));
        }
        assert_eq!(j.spread(d, 0), d);
    }

    #[test]
    fn hex_patterns() {
        let at = Span::default();
        assert_eq!(hex(&at, "0aFF").unwrap(), vec![0x0a, 0xff]);
        assert!(hex(&at, "abc").is_err());
        assert!(hex(&at, "zz").is_err());
    }

    #[test]
    fn http_heads_parse() {
        let h = parse_head(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown")
            .unwrap();
        assert_eq!(
            (h.status, h.reason.as_str(), h.length),
            (503, "Service Unavailable", Some(4))
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n").is_none());
        assert!(parse_head(b"garbage\r\n\r\n").is_none());
    }
}
