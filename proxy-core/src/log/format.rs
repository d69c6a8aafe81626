//! Custom log formats: a `log-format` string compiled once into a
//! [`LogFormat`], rendered for each stream from a [`StreamLog`].
//!
//! Rendering follows HAProxy 2.6: a run of spaces writes one space, and none
//! when nothing was written since the last one (a field with no value, such
//! as `%hr` without captures); a missing value prints `-`, or `""` when
//! quoted; numbers are never quoted, text fields are with `+Q`; HTTP fields
//! encode `"`, `#`, control and non-ASCII bytes as `#XX`, captured headers
//! also `{`, `|` and `}`, while samples are written as they are; `+E` puts a
//! backslash before `"`, `\` and `]`; `+X` writes addresses, ports and a few
//! counters in hexadecimal.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proxy_config::{
    LogConverter, LogFetch, LogFlags, LogFormatExpr, LogNode, LogVar, SampleExpr, parse_log_format,
};

use super::httplog::StreamLog;
use super::time::Civil;

/// Why a format string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The string does not parse; HAProxy's message.
    #[error("failed to parse log-format : {0}")]
    Parse(String),
}

/// What a line needs beyond the stream itself.
#[derive(Debug, Clone, Copy)]
pub struct LineMeta<'a> {
    /// Host name (`%H`).
    pub hostname: &'a str,
    /// Process id (`%pid`).
    pub pid: u32,
    /// Request counter of the process (`%rt`).
    pub request_id: u64,
    /// Lines the frontend logged before this one (`%lc`).
    pub log_count: u64,
}

/// A compiled log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    items: Vec<LogNode>,
}

/// Bytes that HTTP fields (`%r`, `%HU`...) write as `#XX`.
fn http_encoded(b: u8) -> bool {
    !(0x20..0x7f).contains(&b) || b == b'"' || b == b'#'
}

/// Bytes that captured headers (`%hr`, `%hs`) write as `#XX`.
fn header_encoded(b: u8) -> bool {
    http_encoded(b) || matches!(b, b'{' | b'|' | b'}')
}

/// Appends `s`, `#XX`-encoding the bytes `encode` selects and, with `+E`,
/// escaping `"`, `\` and `]`.
fn encoded(out: &mut String, s: &str, encode: fn(u8) -> bool, escape: bool) {
    for &b in s.as_bytes() {
        if encode(b) {
            let _ = write!(out, "#{b:02X}");
        } else if escape && matches!(b, b'"' | b'\\' | b']') {
            out.push('\\');
            out.push(char::from(b));
        } else {
            out.push(char::from(b));
        }
    }
}

fn never(_: u8) -> bool {
    false
}

/// A sample's value.
enum Value {
    Text(String),
    Int(i64),
}

impl LogFormat {
    /// Parses and compiles `source`.
    pub fn parse(source: &str) -> Result<LogFormat, FormatError> {
        parse_log_format(source)
            .map(|e| LogFormat::compile(&e))
            .map_err(FormatError::Parse)
    }

    /// Compiles a format parsed by the configuration.
    pub fn compile(expr: &LogFormatExpr) -> LogFormat {
        let mut items: Vec<LogNode> = Vec::with_capacity(expr.nodes.len());
        for n in &expr.nodes {
            // Adjacent text runs become one.
            if let (LogNode::Text(t), Some(LogNode::Text(prev))) = (n, items.last_mut()) {
                prev.push_str(t);
                continue;
            }
            items.push(n.clone());
        }
        LogFormat { items }
    }

    /// Appends the line of `l` to `out` (no trailing newline).
    pub fn render(&self, out: &mut String, l: &StreamLog<'_>, meta: &LineMeta<'_>) {
        // Starts as if after a space: a leading separator writes nothing.
        let mut after_space = true;
        for item in &self.items {
            let start = out.len();
            match item {
                LogNode::Separator => {
                    if !after_space {
                        out.push(' ');
                        after_space = true;
                    }
                    continue;
                }
                LogNode::Text(t) => out.push_str(t),
                LogNode::Var { var, flags } => var_field(out, *var, *flags, l, meta),
                LogNode::Sample { expr, flags } => sample_field(out, expr, *flags, l),
            }
            if out.len() > start || counts_when_empty(item) {
                after_space = false;
            }
        }
    }
}

/// Whether a field that wrote nothing still counts as written, so that the
/// separator after it is kept: HAProxy skips the separator only after
/// header captures that are not configured (and `%o`); an empty `%HQ`
/// leaves two spaces.
fn counts_when_empty(item: &LogNode) -> bool {
    match item {
        LogNode::Var { var, .. } => !matches!(
            var,
            LogVar::Global
                | LogVar::ReqHeaders
                | LogVar::ResHeaders
                | LogVar::ReqHeadersList
                | LogVar::ResHeadersList
        ),
        LogNode::Sample { .. } => true,
        LogNode::Separator | LogNode::Text(_) => false,
    }
}

fn quoted(out: &mut String, flags: LogFlags, body: impl FnOnce(&mut String)) {
    if flags.quote {
        out.push('"');
    }
    body(out);
    if flags.quote {
        out.push('"');
    }
}

/// A text field: `-` (or `""` quoted) when absent.
fn text(out: &mut String, flags: LogFlags, v: Option<&str>, encode: fn(u8) -> bool) {
    match v {
        Some(s) => quoted(out, flags, |o| encoded(o, s, encode, flags.escape)),
        None if flags.quote => out.push_str("\"\""),
        None => out.push('-'),
    }
}

fn ip(out: &mut String, flags: LogFlags, a: Option<IpAddr>) {
    match a {
        Some(IpAddr::V4(v4)) if flags.hex => {
            quoted(out, flags, |o| {
                let _ = write!(o, "{:08X}", u32::from(v4));
            });
        }
        Some(IpAddr::V6(v6)) if flags.hex => {
            quoted(out, flags, |o| {
                let _ = write!(o, "{:032X}", u128::from(v6));
            });
        }
        Some(a) => quoted(out, flags, |o| {
            let _ = write!(o, "{a}");
        }),
        None => text(out, flags, None, never),
    }
}

fn port(out: &mut String, flags: LogFlags, a: Option<SocketAddr>) {
    match a {
        Some(a) if flags.hex => {
            let _ = write!(out, "{:04X}", a.port());
        }
        Some(a) => {
            let _ = write!(out, "{}", a.port());
        }
        None => text(out, flags, None, never),
    }
}

fn timer(out: &mut String, t: Option<u64>) {
    match t {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.push_str("-1"),
    }
}

fn hex_or_dec(out: &mut String, flags: LogFlags, v: u64, width: usize) {
    if flags.hex {
        let _ = write!(out, "{v:0width$X}");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Date as `28/Nov/2026:10:09:14 +0000` (`%T`, `%Tl`, `%trg`, `%trl`).
fn date_with_zone(out: &mut String, t: SystemTime) {
    let mut s = String::with_capacity(24);
    Civil::from_system(t).write_accept_date(&mut s);
    // Drop the milliseconds: `.123`.
    if let Some(dot) = s.rfind('.') {
        s.truncate(dot);
    }
    out.push_str(&s);
    out.push_str(" +0000");
}

/// The parts of the request line: method, URI, version.
fn request_parts(line: &str) -> (&str, &str, &str) {
    let mut it = line.splitn(3, ' ');
    let m = it.next().unwrap_or("");
    let u = it.next().unwrap_or("");
    let v = it.next().unwrap_or("");
    (m, u, v)
}

fn captures_braced(out: &mut String, flags: LogFlags, caps: &[Option<String>]) {
    if caps.is_empty() {
        return;
    }
    quoted(out, flags, |o| {
        o.push('{');
        for (i, c) in caps.iter().enumerate() {
            if i > 0 {
                o.push('|');
            }
            if let Some(v) = c {
                encoded(o, v, header_encoded, flags.escape);
            }
        }
        o.push('}');
    });
}

fn captures_list(out: &mut String, flags: LogFlags, caps: &[Option<String>]) {
    for (i, c) in caps.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        text(out, flags, c.as_deref(), header_encoded);
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

fn var_field(
    out: &mut String,
    var: LogVar,
    flags: LogFlags,
    l: &StreamLog<'_>,
    meta: &LineMeta<'_>,
) {
    let t = &l.timers;
    let plus = |out: &mut String| {
        if l.logasap {
            out.push('+');
        }
    };
    // Tt = Th + Ti + Ta: the session's time, idle and handshake included.
    let tt = t
        .total
        .map(|a| a + t.handshake.unwrap_or(0) + t.idle.unwrap_or(0));
    let tq = t
        .request
        .map(|r| r + t.handshake.unwrap_or(0) + t.idle.unwrap_or(0));
    let (method, uri, version) = request_parts(l.request_line);
    let badreq = l.request_line == "<BADREQ>";
    match var {
        LogVar::Global => {}
        LogVar::BytesOut => {
            plus(out);
            let _ = write!(out, "{}", l.bytes);
        }
        LogVar::BytesIn => {
            let _ = write!(out, "{}", l.bytes_in);
        }
        LogVar::CapturedReqCookie => text(out, flags, l.cookies.0, http_encoded),
        LogVar::CapturedResCookie => text(out, flags, l.cookies.1, http_encoded),
        LogVar::Hostname => text(out, flags, Some(meta.hostname), http_encoded),
        // No unique-id-format is supported yet: never set.
        LogVar::UniqueId => text(out, flags, None, never),
        LogVar::Status => {
            let _ = write!(out, "{}", l.status);
        }
        LogVar::GmtDate | LogVar::LocalDate => date_with_zone(out, l.accept_date),
        LogVar::RequestDateGmt | LogVar::RequestDateLocal => date_with_zone(out, l.date),
        LogVar::AcceptDate => Civil::from_system(l.accept_date).write_accept_date(out),
        LogVar::RequestDate => Civil::from_system(l.date).write_accept_date(out),
        LogVar::Timestamp => hex_or_dec(out, flags, secs(l.accept_date), 8),
        LogVar::Millis => {
            let _ = write!(out, "{:03}", Civil::from_system(l.accept_date).millis);
        }
        LogVar::Ta => {
            plus(out);
            timer(out, t.total);
        }
        LogVar::Tt => {
            plus(out);
            timer(out, tt);
        }
        LogVar::Tc => timer(out, t.connect),
        LogVar::Tw => timer(out, t.queue),
        LogVar::Tr => timer(out, t.response),
        LogVar::TR => timer(out, t.request),
        LogVar::Th => timer(out, t.handshake),
        LogVar::Ti => timer(out, t.idle),
        LogVar::Tq => timer(out, tq),
        LogVar::Td => {
            let td = match (tt, tq, t.queue, t.connect, t.response) {
                (Some(tt), Some(tq), Some(w), Some(c), Some(r)) => {
                    Some(tt.saturating_sub(tq + w + c + r))
                }
                _ => None,
            };
            timer(out, td);
        }
        LogVar::Tu => timer(out, tt.map(|v| v.saturating_sub(t.idle.unwrap_or(0)))),
        LogVar::ActConn => {
            let _ = write!(out, "{}", l.conns[0]);
        }
        LogVar::FeConn => {
            let _ = write!(out, "{}", l.conns[1]);
        }
        LogVar::BeConn => {
            let _ = write!(out, "{}", l.conns[2]);
        }
        LogVar::SrvConn => {
            let _ = write!(out, "{}", l.conns[3]);
        }
        LogVar::Retries => {
            if l.retries.1 {
                out.push('+');
            }
            let _ = write!(out, "{}", l.retries.0);
        }
        LogVar::SrvQueue => {
            let _ = write!(out, "{}", l.queues.0);
        }
        LogVar::BeQueue => {
            let _ = write!(out, "{}", l.queues.1);
        }
        LogVar::Backend => text(out, flags, Some(l.backend), never),
        LogVar::Frontend => text(out, flags, Some(l.frontend), never),
        LogVar::FrontendTransport => quoted(out, flags, |o| {
            o.push_str(l.frontend);
            if l.frontend_tls {
                o.push('~');
            }
        }),
        LogVar::Server => text(out, flags, Some(l.server.unwrap_or("<NOSRV>")), never),
        LogVar::ClientIp => ip(out, flags, Some(l.client.ip())),
        LogVar::ClientPort => port(out, flags, Some(l.client)),
        LogVar::FrontendIp => ip(out, flags, l.frontend_addr.map(|a| a.ip())),
        LogVar::FrontendPort => port(out, flags, l.frontend_addr),
        LogVar::ServerIp => ip(out, flags, l.server_addr.map(|a| a.ip())),
        LogVar::ServerPort => port(out, flags, l.server_addr),
        // The source address of the server connection is not recorded.
        LogVar::BackendIp => ip(out, flags, None),
        LogVar::BackendPort => port(out, flags, None),
        LogVar::ReqHeaders => captures_braced(out, flags, l.request_captures),
        LogVar::ResHeaders => captures_braced(out, flags, l.response_captures),
        LogVar::ReqHeadersList => captures_list(out, flags, l.request_captures),
        LogVar::ResHeadersList => captures_list(out, flags, l.response_captures),
        LogVar::RequestLine => text(out, flags, Some(l.request_line), http_encoded),
        LogVar::Method => text(
            out,
            flags,
            Some(if badreq { l.request_line } else { method }),
            http_encoded,
        ),
        LogVar::Uri => text(
            out,
            flags,
            Some(if badreq { l.request_line } else { uri }),
            http_encoded,
        ),
        LogVar::Path => {
            let p = if badreq {
                l.request_line
            } else {
                uri.split('?').next().unwrap_or("")
            };
            text(out, flags, Some(p), http_encoded);
        }
        LogVar::Query => {
            let q = if badreq {
                l.request_line
            } else {
                uri.find('?').and_then(|i| uri.get(i..)).unwrap_or("")
            };
            text(out, flags, Some(q), http_encoded);
        }
        LogVar::Version => text(
            out,
            flags,
            Some(if badreq { l.request_line } else { version }),
            http_encoded,
        ),
        LogVar::LogCount => {
            let _ = write!(out, "{}", meta.log_count);
        }
        LogVar::Pid => hex_or_dec(out, flags, u64::from(meta.pid), 4),
        LogVar::RequestCount => hex_or_dec(out, flags, meta.request_id, 4),
        // No TLS on frontends yet.
        LogVar::SslCipher | LogVar::SslVersion => text(out, flags, None, never),
        LogVar::TermState => {
            for &c in l.termination.get(..2).unwrap_or_default() {
                out.push(char::from(c));
            }
        }
        LogVar::TermStateCookie => {
            for &c in &l.termination {
                out.push(char::from(c));
            }
        }
        // Variables added to the language later print nothing.
        _ => {}
    }
}

fn fetch(f: &LogFetch, l: &StreamLog<'_>) -> Option<Value> {
    let (method, uri, version) = request_parts(l.request_line);
    let known = l.request_line != "<BADREQ>" && !l.request_line.is_empty();
    let capture = |caps: &[Option<String>], n: u32| {
        caps.get(usize::try_from(n).ok()?)
            .and_then(|c| c.clone())
            .map(Value::Text)
    };
    Some(match f {
        LogFetch::Src => Value::Text(l.client.ip().to_string()),
        LogFetch::SrcPort => Value::Int(i64::from(l.client.port())),
        LogFetch::Dst => Value::Text(l.frontend_addr?.ip().to_string()),
        LogFetch::DstPort => Value::Int(i64::from(l.frontend_addr?.port())),
        LogFetch::FeName => Value::Text(l.frontend.to_string()),
        LogFetch::BeName => Value::Text(l.backend.to_string()),
        LogFetch::SrvName => Value::Text(l.server?.to_string()),
        LogFetch::Method | LogFetch::CaptureReqMethod if known => Value::Text(method.to_string()),
        LogFetch::CaptureReqUri if known => Value::Text(uri.to_string()),
        LogFetch::CaptureReqVer if known => Value::Text(version.to_string()),
        LogFetch::Status => Value::Int(i64::from(l.status)),
        LogFetch::CaptureReqHdr(n) => capture(l.request_captures, *n)?,
        LogFetch::CaptureResHdr(n) => capture(l.response_captures, *n)?,
        LogFetch::Str(s) => Value::Text(s.clone()),
        LogFetch::Int(i) => Value::Int(*i),
        _ => return None,
    })
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                s.push(char::from(BASE64.get(idx).copied().unwrap_or(b'A')));
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn convert(v: Value, c: LogConverter) -> Value {
    let as_text = |v: Value| match v {
        Value::Text(s) => s,
        Value::Int(i) => i.to_string(),
    };
    match c {
        LogConverter::Lower => Value::Text(as_text(v).to_ascii_lowercase()),
        LogConverter::Upper => Value::Text(as_text(v).to_ascii_uppercase()),
        LogConverter::Hex => {
            let s = as_text(v);
            let mut h = String::with_capacity(s.len() * 2);
            for b in s.bytes() {
                let _ = write!(h, "{b:02X}");
            }
            Value::Text(h)
        }
        LogConverter::Base64 => Value::Text(base64(as_text(v).as_bytes())),
        LogConverter::Length => Value::Int(i64::try_from(as_text(v).len()).unwrap_or(i64::MAX)),
    }
}

fn sample_field(out: &mut String, expr: &SampleExpr, flags: LogFlags, l: &StreamLog<'_>) {
    let v = fetch(&expr.fetch, l).map(|v| expr.converters.iter().fold(v, |v, c| convert(v, *c)));
    match v {
        None => text(out, flags, None, never),
        Some(Value::Int(i)) => quoted(out, flags, |o| {
            let _ = write!(o, "{i}");
        }),
        Some(Value::Text(s)) => quoted(out, flags, |o| encoded(o, &s, never, flags.escape)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::httplog::{Timers, write_httplog, write_tcplog};
    use std::time::{Duration, UNIX_EPOCH};

    fn meta() -> LineMeta<'static> {
        LineMeta {
            hostname: "lb1",
            pid: 21149,
            request_id: 3,
            log_count: 0,
        }
    }

    fn base<'a>(caps: &'a [Option<String>]) -> StreamLog<'a> {
        let date = UNIX_EPOCH + Duration::from_millis(1_795_860_554_658);
        StreamLog {
            client: "127.0.0.1:56092".parse().unwrap(),
            date,
            accept_date: date,
            frontend: "f1",
            frontend_tls: false,
            frontend_addr: Some("127.0.0.1:19110".parse().unwrap()),
            backend: "b",
            server: Some("s1"),
            server_addr: Some("127.0.0.1:19101".parse().unwrap()),
            timers: Timers {
                request: Some(0),
                queue: Some(0),
                connect: Some(0),
                response: Some(1),
                total: Some(1),
                idle: Some(0),
                handshake: Some(0),
            },
            status: 200,
            bytes: 125,
            bytes_in: 109,
            logasap: false,
            cookies: (None, None),
            termination: *b"----",
            conns: [1, 1, 0, 0],
            retries: (0, false),
            queues: (0, 0),
            request_captures: caps,
            response_captures: &[],
            request_line: "GET /p%20q/r?x=1&y=\"2 HTTP/1.1",
        }
    }

    fn render(f: &str, l: &StreamLog<'_>) -> String {
        let mut s = String::new();
        LogFormat::parse(f).unwrap().render(&mut s, l, &meta());
        s
    }

    /// The builtin formats give the fast writers' lines, byte for byte.
    #[test]
    fn builtin_formats_agree_with_the_writers() {
        let caps = [Some("a|b\"c{".to_string()), None];
        let mut variants = Vec::new();
        let l = base(&caps);
        variants.push(l.clone());
        let mut v = l.clone();
        v.logasap = true;
        v.retries = (2, true);
        variants.push(v);
        let mut v = base(&[]);
        v.server = None;
        v.timers = Timers {
            request: Some(0),
            total: Some(3),
            ..Timers::default()
        };
        v.termination = *b"PR--";
        v.request_line = "<BADREQ>";
        variants.push(v);
        let http = LogFormat::parse(proxy_config::HTTPLOG_FORMAT).unwrap();
        let tcp = LogFormat::parse(proxy_config::TCPLOG_FORMAT).unwrap();
        for v in &variants {
            let (mut a, mut b) = (String::new(), String::new());
            write_httplog(&mut a, v);
            http.render(&mut b, v, &meta());
            assert_eq!(a, b);
            let (mut a, mut b) = (String::new(), String::new());
            write_tcplog(&mut a, v);
            tcp.render(&mut b, v, &meta());
            assert_eq!(a, b);
        }
    }

    /// Fields as HAProxy 2.6.12 wrote them for the same request (the
    /// request of `curl -H 'X-A: a"b\c]d|e{f' -H 'Host: longhostname'
    /// 'http://127.0.0.1:19110/p%20q/r?x=1&y="2'` with two captures).
    #[test]
    fn fields_match_a_captured_haproxy_line() {
        let caps = [Some("longh".to_string()), Some("a\"b\\c]d|e{f".to_string())];
        let l = base(&caps);
        let f = "A %ci   %ST|%{+X}ci:%{+X}cp %{+X}ST %{+X}B %{+Q}CC %CC %{+Q}hr %hr %{+E}hr \
                 %{+Q}HQ %HQ %{+Q}HU %{+E}HU %HP %HV %HM %{+Q}ID %ID %{+Q}[capture.req.hdr(1)] \
                 %[capture.req.hdr(1)] %[capture.req.hdr(0),upper] %{+E}[capture.req.hdr(1)] \
                 %{+Q,+E}[capture.req.hdr(1)] %[src] %{+X}[src] %[dst_port] %{+Q}[src_port,mul(0)]";
        // `mul` is not evaluated here: the captured line's tail is checked
        // with `int(0)` in its place.
        let f = f.replace("[src_port,mul(0)]", "[int(0)]");
        let want = "A 127.0.0.1 200|7F000001:DB1C 200 125 \"\" - \"{longh|a#22b\\c]d#7Ce#7Bf}\" \
                    {longh|a#22b\\c]d#7Ce#7Bf} {longh|a#22b\\\\c\\]d#7Ce#7Bf} \"?x=1&y=#222\" \
                    ?x=1&y=#222 \"/p%20q/r?x=1&y=#222\" /p%20q/r?x=1&y=#222 /p%20q/r HTTP/1.1 GET \
                    \"\" - \"a\"b\\c]d|e{f\" a\"b\\c]d|e{f LONGH a\\\"b\\\\c\\]d|e{f \
                    \"a\\\"b\\\\c\\]d|e{f\" 127.0.0.1 127.0.0.1 19110 \"0\"";
        assert_eq!(render(&f, &l), want);
        let tail = "%rt %lc %U %{+Q}o %ci %ST %r %{-Q}b %tsc %ts %s %si %sp %fi %fp %{+X}fp %f \
                    %ft %b %hrl %hsl %{+X}Tt %{+Q}H";
        let want = "3 0 109 \"127.0.0.1\" 200 \"GET /p%20q/r?x=1&y=#222 HTTP/1.1\" b ---- -- \
                    \"s1\" \"127.0.0.1\" 19101 \"127.0.0.1\" 19110 4AA6 \"f1\" \"f1\" \"b\" \
                    \"longh\" \"a#22b\\c]d#7Ce#7Bf\" 1 \"lb1\"";
        assert_eq!(render(tail, &l), want);
    }

    /// A request HAProxy could not parse: every request field says so.
    #[test]
    fn bad_request_fields() {
        let mut l = base(&[]);
        l.request_line = "<BADREQ>";
        l.server = None;
        l.server_addr = None;
        assert_eq!(
            render("%{+Q}r %HM %HU %HP %HQ %HV %s %si %{+Q}sp", &l),
            "\"<BADREQ>\" <BADREQ> <BADREQ> <BADREQ> <BADREQ> <BADREQ> <NOSRV> - \"\""
        );
    }

    /// As HAProxy 2.6.12 wrote `a %HQ b %hr c %hrl d` for a request without
    /// a query and without captures.
    #[test]
    fn empty_query_keeps_its_separator() {
        let mut l = base(&[]);
        l.request_line = "GET /x HTTP/1.1";
        assert_eq!(render("a %HQ b %hr c %hrl d", &l), "a  b c d");
    }

    #[test]
    fn dates_and_hex() {
        let l = base(&[]);
        assert_eq!(
            render("[%t] %T %Ts %{+X}Ts %ms %trg", &l),
            "[28/Nov/2026:10:09:14.658] 28/Nov/2026:10:09:14 +0000 1795860554 6B0AA84A 658 \
             28/Nov/2026:10:09:14 +0000"
        );
        assert_eq!(
            render(
                "%[str(ab),base64] %[str(ab),hex,lower] %[str(abc),length]",
                &l
            ),
            "YWI= 6162 3"
        );
    }
}
