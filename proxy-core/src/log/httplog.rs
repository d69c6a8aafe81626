//! HAProxy's `option httplog` and `option tcplog` line formats.
//!
//! httplog is `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
//! %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r`; tcplog is `%ci:%cp [%t] %ft %b/%s
//! %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`. A timer that was never reached
//! prints `-1`. With `option logasap` the total time and byte count are prefixed
//! with `+`, as the line is emitted before the transfer ends.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use super::push_num;
use super::time::Civil;

/// Everything one log line reports about a stream.
#[derive(Debug, Clone)]
pub struct StreamLog<'a> {
    /// Client address and port.
    pub client: SocketAddr,
    /// When the request (or, for tcplog, the connection) was accepted
    /// (`%tr`).
    pub date: SystemTime,
    /// When the connection was accepted (`%t`, `%Ts`).
    pub accept_date: SystemTime,
    /// Frontend name.
    pub frontend: &'a str,
    /// The frontend side used TLS (`~` after its name).
    pub frontend_tls: bool,
    /// The address the client connected to (`%fi:%fp`).
    pub frontend_addr: Option<SocketAddr>,
    /// Backend name; the frontend's name when no backend was chosen.
    pub backend: &'a str,
    /// Server name; `None` prints `<NOSRV>`.
    pub server: Option<&'a str>,
    /// The server's address (`%si:%sp`), when one was chosen.
    pub server_addr: Option<SocketAddr>,
    /// Timers in milliseconds, `None` when the step was not reached:
    /// TR (request head), Tw (queue), Tc (connect), Tr (response head), Ta/Tt (total).
    pub timers: Timers,
    /// HTTP status sent to the client (unused by tcplog).
    pub status: u16,
    /// Bytes sent to the client.
    pub bytes: u64,
    /// Bytes received from the client (`%U`).
    pub bytes_in: u64,
    /// `option logasap` was set and the line is emitted early.
    pub logasap: bool,
    /// Captured request and response cookies (`%CC`, `%CS`).
    pub cookies: (Option<&'a str>, Option<&'a str>),
    /// Termination state: cause, stream state, and (httplog) two cookie flags.
    pub termination: [u8; 4],
    /// Connection counters: process, frontend, backend, server.
    pub conns: [u32; 4],
    /// Connection retries, and whether the stream was redispatched (`+` prefix).
    pub retries: (u32, bool),
    /// Server queue and backend queue lengths.
    pub queues: (u32, u32),
    /// Values of `capture request header` lines, in declaration order.
    pub request_captures: &'a [Option<String>],
    /// Values of `capture response header` lines, in declaration order.
    pub response_captures: &'a [Option<String>],
    /// The request line, as received.
    pub request_line: &'a str,
}

/// The timers of a log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timers {
    /// TR: time to receive the whole request head.
    pub request: Option<u64>,
    /// Tw: time waiting in queues.
    pub queue: Option<u64>,
    /// Tc: time to connect to the server.
    pub connect: Option<u64>,
    /// Tr: time for the server to send the response head.
    pub response: Option<u64>,
    /// Ta (httplog) or Tt (tcplog): total active time.
    pub total: Option<u64>,
    /// Ti: idle time before the request (HTTP keep-alive), when known.
    pub idle: Option<u64>,
    /// Th: connection handshake time (zero without TLS).
    pub handshake: Option<u64>,
}

fn timer(out: &mut String, t: Option<u64>) {
    match t {
        Some(v) => push_num(out, v, 0),
        None => out.push_str("-1"),
    }
}

/// `%ci:%cp`.
fn address(out: &mut String, a: SocketAddr) {
    match a.ip() {
        IpAddr::V4(ip) => {
            for (i, o) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_num(out, u64::from(o), 0);
            }
        }
        IpAddr::V6(ip) => {
            let _ = write!(out, "{ip}");
        }
    }
    out.push(':');
    push_num(out, u64::from(a.port()), 0);
}

fn head(out: &mut String, l: &StreamLog<'_>) {
    address(out, l.client);
    out.push_str(" [");
    Civil::from_system(l.date).write_accept_date(out);
    out.push_str("] ");
    out.push_str(l.frontend);
    if l.frontend_tls {
        out.push('~');
    }
    out.push(' ');
    out.push_str(l.backend);
    out.push('/');
    out.push_str(l.server.unwrap_or("<NOSRV>"));
    out.push(' ');
}

fn counters(out: &mut String, l: &StreamLog<'_>) {
    for c in l.conns {
        push_num(out, u64::from(c), 0);
        out.push('/');
    }
    if l.retries.1 {
        out.push('+');
    }
    push_num(out, u64::from(l.retries.0), 0);
    out.push(' ');
    push_num(out, u64::from(l.queues.0), 0);
    out.push('/');
    push_num(out, u64::from(l.queues.1), 0);
}

/// Appends `s` escaped as HAProxy escapes captures and quoted fields: control
/// characters, DEL and above, `"` and the characters in `extra` become `#XX`.
fn escaped(out: &mut String, s: &str, extra: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut plain = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if !(0x20..0x7f).contains(&b) || b == b'"' || b == b'#' || extra.contains(&b) {
            // Runs of plain bytes go in one piece; they end before a byte
            // that needs escaping, so always on a character boundary.
            out.push_str(s.get(plain..i).unwrap_or(""));
            out.push('#');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
            plain = i + 1;
        }
    }
    out.push_str(s.get(plain..).unwrap_or(""));
}

fn captures(out: &mut String, caps: &[Option<String>]) {
    if caps.is_empty() {
        return;
    }
    out.push_str(" {");
    for (i, c) in caps.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        if let Some(v) = c {
            escaped(out, v, b"{|}");
        }
    }
    out.push('}');
}

/// Appends the `option httplog` line of `l` to `out` (no trailing newline).
pub fn write_httplog(out: &mut String, l: &StreamLog<'_>) {
    head(out, l);
    let t = &l.timers;
    timer(out, t.request);
    out.push('/');
    timer(out, t.queue);
    out.push('/');
    timer(out, t.connect);
    out.push('/');
    timer(out, t.response);
    out.push('/');
    if l.logasap {
        out.push('+');
    }
    timer(out, t.total);
    out.push(' ');
    push_num(out, u64::from(l.status), 0);
    out.push(' ');
    if l.logasap {
        out.push('+');
    }
    push_num(out, l.bytes, 0);
    out.push(' ');
    out.push_str(l.cookies.0.unwrap_or("-"));
    out.push(' ');
    out.push_str(l.cookies.1.unwrap_or("-"));
    out.push(' ');
    for &c in &l.termination {
        out.push(char::from(c));
    }
    out.push(' ');
    counters(out, l);
    captures(out, l.request_captures);
    captures(out, l.response_captures);
    out.push_str(" \"");
    escaped(out, l.request_line, b"");
    out.push('"');
}

/// Appends the `option tcplog` line of `l` to `out` (no trailing newline).
pub fn write_tcplog(out: &mut String, l: &StreamLog<'_>) {
    head(out, l);
    let t = &l.timers;
    timer(out, t.queue);
    out.push('/');
    timer(out, t.connect);
    out.push('/');
    if l.logasap {
        out.push('+');
    }
    timer(out, t.total);
    out.push(' ');
    if l.logasap {
        out.push('+');
    }
    push_num(out, l.bytes, 0);
    out.push(' ');
    out.push(char::from(l.termination[0]));
    out.push(char::from(l.termination[1]));
    out.push(' ');
    counters(out, l);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn base<'a>(caps: &'a [Option<String>]) -> StreamLog<'a> {
        StreamLog {
            client: "127.0.0.1:48668".parse().unwrap(),
            date: UNIX_EPOCH + Duration::from_millis(1_795_860_554_658),
            accept_date: UNIX_EPOCH + Duration::from_millis(1_795_860_554_658),
            frontend: "web",
            frontend_tls: false,
            frontend_addr: None,
            backend: "st",
            server: Some("web1"),
            server_addr: None,
            timers: Timers {
                request: Some(0),
                queue: Some(0),
                connect: Some(0),
                response: Some(0),
                total: Some(0),
                idle: Some(0),
                handshake: Some(0),
            },
            status: 200,
            bytes: 76,
            bytes_in: 0,
            logasap: true,
            cookies: (None, None),
            termination: *b"----",
            conns: [1, 1, 1, 0],
            retries: (0, false),
            queues: (0, 0),
            request_captures: caps,
            response_captures: &[],
            request_line: "GET /static/a.png HTTP/1.1",
        }
    }

    /// Lines captured from HAProxy 2.6 on the seed's frontend (see
    /// tests/data/haproxy-httplog.txt): logasap, three request captures.
    #[test]
    fn matches_captured_haproxy_lines() {
        let caps = [
            Some("127.0.0.1:18080".to_string()),
            None,
            Some("http://x/y".to_string()),
        ];
        let mut s = String::new();
        write_httplog(&mut s, &base(&caps));
        assert_eq!(
            s,
            "127.0.0.1:48668 [28/Nov/2026:10:09:14.658] web st/web1 0/0/0/0/+0 200 +76 - - ---- \
             1/1/1/0/0 0/0 {127.0.0.1:18080||http://x/y} \"GET /static/a.png HTTP/1.1\""
        );

        let mut l = base(&[]);
        l.frontend = "w1";
        l.backend = "w1";
        l.server = None;
        l.logasap = false;
        l.timers = Timers {
            request: Some(0),
            total: Some(0),
            ..Timers::default()
        };
        l.termination = *b"LR--";
        l.conns = [2, 1, 0, 0];
        s.clear();
        write_httplog(&mut s, &l);
        assert_eq!(
            s,
            "127.0.0.1:48668 [28/Nov/2026:10:09:14.658] w1 w1/<NOSRV> 0/-1/-1/-1/0 200 76 - - LR-- \
             2/1/0/0/0 0/0 \"GET /static/a.png HTTP/1.1\""
        );
    }

    #[test]
    fn escapes_captures_and_request_line() {
        let caps = [Some("a|b\"c{".to_string())];
        let mut l = base(&caps);
        l.request_line = "GET /\"x\x01 HTTP/1.1";
        let mut s = String::new();
        write_httplog(&mut s, &l);
        assert!(
            s.ends_with("{a#7Cb#22c#7B} \"GET /#22x#01 HTTP/1.1\""),
            "{s}"
        );
    }

    #[test]
    fn tcplog_shape() {
        let mut l = base(&[]);
        l.logasap = false;
        l.timers.total = Some(12);
        l.termination = *b"SC--";
        l.retries = (3, true);
        let mut s = String::new();
        write_tcplog(&mut s, &l);
        assert_eq!(
            s,
            "127.0.0.1:48668 [28/Nov/2026:10:09:14.658] web st/web1 0/0/12 76 SC 1/1/1/0/+3 0/0"
        );
    }
}
