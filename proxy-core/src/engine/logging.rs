//! Log targets of a proxy, built once from its `log` lines (with `log global`
//! expanded to the global section's targets), its line format (`log-format`,
//! `option httplog` or `option tcplog`, compiled once), its syslog identity
//! (`log-tag`, the global `log-send-hostname`), and the emission of one
//! traffic line through [`crate::log`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use proxy_config::{
    Config, HTTPLOG_CLF_FORMAT, Log, LogAddress, LogFormat, LogTarget, Mode, OptionKind, Proxy,
    Span, Spanned,
};

use super::error::BuildError;
use crate::log::format::{self, LineMeta};
use crate::log::httplog::{StreamLog, write_httplog, write_tcplog};
use crate::log::syslog::{Framing, Origin, Sink, Target};

/// Streams logged by the process so far (`%rt`). Numbered when their line
/// is written, so under concurrency the order may differ from HAProxy's,
/// which numbers streams as they are created.
static STREAMS: AtomicU64 = AtomicU64::new(0);

/// How a proxy's traffic lines are written.
#[derive(Debug, Clone)]
enum LineFormat {
    /// No format: the short `Connect from` line.
    Connect,
    /// `option httplog`, by the fast writer.
    Http,
    /// `option tcplog` (or httplog in a TCP proxy), by the fast writer.
    Tcp,
    /// `log-format` or `option httplog clf`.
    Custom(Arc<format::LogFormat>),
}

/// Severity of traffic lines (`info`).
const TRAFFIC_LEVEL: u8 = 6;

/// HAProxy's default maximum line length.
const DEFAULT_LEN: usize = 1024;

/// Largest line buffer a thread keeps between lines.
const LINE_KEPT: usize = 4096;

thread_local! {
    /// Each thread's buffer for the traffic line being written.
    static LINE: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// The log targets of one proxy.
#[derive(Debug, Clone)]
pub(crate) struct Logger {
    targets: Vec<Arc<Target>>,
    origin: Arc<Origin>,
    /// The system's host name (`%H`).
    hostname: Arc<str>,
    format: LineFormat,
    /// Lines this proxy logged (`%lc`).
    lines: Arc<AtomicU64>,
}

/// The global section's targets, opened once and shared by every proxy that
/// says `log global`.
#[derive(Debug, Clone)]
pub(crate) struct GlobalLogs {
    targets: Vec<Arc<Target>>,
    origin: Arc<Origin>,
    hostname: Arc<str>,
}

impl GlobalLogs {
    /// Opens the global section's targets.
    pub(crate) fn build(config: &Config) -> Result<GlobalLogs, BuildError> {
        let hostname: Arc<str> = hostname().into();
        let g = &config.global;
        let origin = Arc::new(Origin {
            tag: g
                .log_tag
                .as_ref()
                .map_or_else(|| "haproxy".into(), |t| t.value.clone()),
            pid: std::process::id(),
            // `log-send-hostname` without a name sends the system's.
            host: g
                .log_send_hostname
                .as_ref()
                .map(|h| h.value.clone().unwrap_or_else(|| hostname.to_string())),
        });
        let mut targets = Vec::new();
        for l in &config.global.logs {
            if let Log::Target(t) = &l.value {
                targets.push(open(t, &l.span)?);
            }
        }
        Ok(GlobalLogs {
            targets,
            origin,
            hostname,
        })
    }
}

impl Logger {
    /// The targets of proxy `p`.
    pub(crate) fn build(global: &GlobalLogs, p: &Proxy) -> Result<Logger, BuildError> {
        let mut targets = Vec::new();
        for Spanned { value, span } in &p.logs {
            match value {
                // `log global` in both defaults and the proxy sends each
                // line once, as HAProxy does.
                Log::Global => {
                    for t in &global.targets {
                        if !targets.iter().any(|x| Arc::ptr_eq(x, t)) {
                            targets.push(Arc::clone(t));
                        }
                    }
                }
                Log::Target(t) => targets.push(open(t, span)?),
            }
        }
        // A proxy's `log-tag` (its own or its defaults') replaces the global
        // one on the lines it sends.
        let origin = match &p.log_tag {
            Some(t) => Arc::new(Origin {
                tag: t.value.clone(),
                ..Origin::clone(&global.origin)
            }),
            None => Arc::clone(&global.origin),
        };
        Ok(Logger {
            targets,
            origin,
            hostname: Arc::clone(&global.hostname),
            format: line_format(p)?,
            lines: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Writes and sends the traffic line of `l` in the proxy's format;
    /// `connect` gives the line of a proxy without one.
    pub(crate) fn traffic(&self, l: &StreamLog<'_>, connect: impl FnOnce() -> String) {
        if !self.enabled() {
            return;
        }
        // The thread's line buffer, taken for the call (a nested call would
        // find it empty and allocate its own): no allocation per line.
        let mut line = LINE.take();
        line.clear();
        match &self.format {
            LineFormat::Connect => line = connect(),
            LineFormat::Http => write_httplog(&mut line, l),
            LineFormat::Tcp => write_tcplog(&mut line, l),
            LineFormat::Custom(f) => {
                let meta = LineMeta {
                    hostname: &self.hostname,
                    pid: self.origin.pid,
                    request_id: STREAMS.fetch_add(1, Ordering::Relaxed),
                    log_count: self.lines.load(Ordering::Relaxed),
                };
                f.render(&mut line, l, &meta);
            }
        }
        if !matches!(self.format, LineFormat::Custom(_)) {
            STREAMS.fetch_add(1, Ordering::Relaxed);
        }
        self.lines.fetch_add(1, Ordering::Relaxed);
        self.emit(&line);
        if line.capacity() <= LINE_KEPT {
            LINE.set(line);
        }
    }

    /// Whether any target is configured (lines need not be built otherwise).
    pub(crate) fn enabled(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Sends one line at syslog severity `level` (0 emerg to 7 debug) to
    /// every target, as server state changes are sent.
    pub(crate) fn emit_at(&self, level: u8, line: &str) {
        let now = SystemTime::now();
        for t in &self.targets {
            t.log(level, now, &self.origin, line);
        }
    }

    /// Sends one traffic line to every target.
    pub(crate) fn emit(&self, line: &str) {
        let now = SystemTime::now();
        for t in &self.targets {
            t.log(TRAFFIC_LEVEL, now, &self.origin, line);
        }
    }
}

/// The line format of proxy `p`: the later of `log-format` and `option
/// httplog` / `tcplog` (the configuration keeps `log_format` only when it
/// came last); httplog in a TCP proxy falls back to tcplog, as in HAProxy.
fn line_format(p: &Proxy) -> Result<LineFormat, BuildError> {
    if let Some(f) = &p.log_format {
        return Ok(LineFormat::Custom(Arc::new(format::LogFormat::compile(
            &f.value,
        ))));
    }
    let http = p.effective_mode() == Mode::Http;
    match p.option("httplog") {
        Some(o) if !o.negated => {
            if !http {
                return Ok(LineFormat::Tcp);
            }
            if matches!(o.kind, OptionKind::HttpLog { clf: true }) {
                let clf = format::LogFormat::parse(HTTPLOG_CLF_FORMAT).map_err(|e| {
                    BuildError::Invalid {
                        at: p.name.span.to_string(),
                        message: e.to_string(),
                    }
                })?;
                return Ok(LineFormat::Custom(Arc::new(clf)));
            }
            return Ok(LineFormat::Http);
        }
        _ => {}
    }
    Ok(if p.option_enabled("tcplog") {
        LineFormat::Tcp
    } else {
        LineFormat::Connect
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

fn open(t: &LogTarget, span: &Span) -> Result<Arc<Target>, BuildError> {
    let io = |source| BuildError::Io {
        at: span.to_string(),
        message: "cannot open log target".into(),
        source,
    };
    let sink = match &t.address {
        LogAddress::Udp(a) => Sink::udp(*a).map_err(io)?,
        LogAddress::Unix(p) => Sink::unix(p).map_err(io)?,
        LogAddress::Fd(1) => Sink::Stdout,
        LogAddress::Fd(2) => Sink::Stderr,
        other => {
            return Err(BuildError::Unsupported {
                at: span.to_string(),
                what: format!("log target {other:?}"),
            });
        }
    };
    let framing = match t.format.unwrap_or(LogFormat::Rfc3164) {
        LogFormat::Rfc5424 => Framing::Rfc5424,
        LogFormat::Short => Framing::Short,
        LogFormat::Priority => Framing::Priority,
        LogFormat::Timed => Framing::Timed,
        LogFormat::Iso => Framing::Iso,
        LogFormat::Raw => Framing::Raw,
        LogFormat::Rfc3164 => Framing::Rfc3164,
        LogFormat::Local => Framing::Local,
    };
    Ok(Arc::new(Target {
        sink,
        framing,
        facility: t.facility.0,
        max_level: t.level.map_or(7, |l| l.0),
        min_level: t.min_level.map_or(0, |l| l.0),
        max_len: t
            .len
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(DEFAULT_LEN),
        dropped: AtomicU64::new(0),
    }))
}

/// The fixed part of a message head in HAProxy 2.6's byte counts, fitted on
/// the lines it logged for requests and responses with and without headers
/// (its start line's spaces and line ends are gone, this stands in their
/// place and the end of headers').
const HTX_HEAD_FIXED: u64 = 21;

/// What HAProxy 2.6 counts for a message head in `%B` and `%U`: not the bytes
/// on the wire but its internal (HTX) form as parsed: the start line's three
/// words, the name and value of each header field (no `: `, no CRLF, no
/// surrounding blanks) except `Connection`, which it never stores, and a
/// fixed part. Rules that edit the head afterwards do not change the count.
pub(crate) fn htx_head_len<'a>(
    start: [&[u8]; 3],
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> u64 {
    let words: usize = start.iter().map(|w| w.len()).sum();
    let fields: usize = fields
        .filter(|(n, _)| !n.eq_ignore_ascii_case(b"connection"))
        .map(|(n, v)| n.len() + v.trim_ascii().len())
        .sum();
    HTX_HEAD_FIXED + (words + fields) as u64
}

/// [`htx_head_len`] of a parsed request head.
pub(crate) fn htx_request_len(h: &crate::h1::RequestHead) -> u64 {
    htx_head_len(
        [h.method(), h.target(), h.version().as_bytes()],
        h.headers().iter(),
    )
}

/// [`htx_head_len`] of a parsed response head.
pub(crate) fn htx_response_len(h: &crate::h1::ResponseHead) -> u64 {
    htx_head_len(
        // The status is three digits, whatever its value.
        [h.version().as_bytes(), b"000", h.reason()],
        h.headers().iter(),
    )
}

/// What HAProxy 2.6 counts for a whole message of the proxy's own (an
/// error page, a redirect, a `return`, a statistics page): [`htx_head_len`]
/// of its head plus its `Content-Length` body. Bytes that are not such a
/// message count as they are.
pub(crate) fn htx_message_len(msg: &[u8]) -> u64 {
    let Some(end) = msg.windows(4).position(|w| w == b"\r\n\r\n") else {
        return msg.len() as u64;
    };
    let head = msg.get(..end).unwrap_or_default();
    let body = msg.len().saturating_sub(end + 4) as u64;
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.trim_ascii_end());
    let start = lines.next().unwrap_or_default();
    let mut words = start.splitn(3, |&b| b == b' ');
    let sl = [
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    ];
    let fields = lines.map(|l| match l.iter().position(|&b| b == b':') {
        Some(i) => (
            l.get(..i).unwrap_or_default(),
            l.get(i + 1..).unwrap_or_default(),
        ),
        None => (l, &[][..]),
    });
    htx_head_len(sl, fields) + body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte counts HAProxy 2.6.12 logged (`%B`) for its own answers, and
    /// the wire bytes it sent for them.
    #[test]
    fn own_messages_count_as_haproxy_logged_them() {
        let cases: [(&[u8], u64); 3] = [
            (
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\
                  connection: close\r\n\r\nhi",
                73,
            ),
            (
                b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /x\r\n\
                  cache-control: no-cache\r\nconnection: close\r\n\r\n",
                83,
            ),
            (
                b"HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\nconnection: close\r\n\r\n",
                51,
            ),
        ];
        for (msg, want) in cases {
            assert_eq!(
                htx_message_len(msg),
                want,
                "{}",
                String::from_utf8_lossy(msg)
            );
        }
        // Requests: `GET /x HTTP/1.1` with `Host: h`, with or without a
        // `Connection` field, and `GET /x HTTP/1.0` alone (%U).
        let host: [(&[u8], &[u8]); 2] = [(b"Host", b"  h "), (b"Connection", b"keep-alive")];
        assert_eq!(
            htx_head_len([b"GET", b"/x", b"HTTP/1.1"], host.into_iter()),
            39
        );
        assert_eq!(
            htx_head_len([b"GET", b"/x", b"HTTP/1.0"], std::iter::empty()),
            34
        );
    }
}
