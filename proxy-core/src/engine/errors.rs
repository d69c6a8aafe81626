//! The last invalid request of each frontend, kept for `show errors` and
//! printed in HAProxy 2.6's layout: where the parser stopped (HAProxy's
//! parser state and flags for that kind of error), then the buffer as it
//! was received, dumped line by line with the offending byte's position.
//!
//! The position is found again in the rejected bytes from the kind of
//! error the codec reports, as HAProxy's parser would have stopped there.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use crate::h1::ErrorKind;

use super::model::lock;

/// HAProxy's buffer size (`tune.bufsize`): at most this much is kept.
const BUFSIZE: usize = 16_384;

/// Where HAProxy's buffer wraps with the default `tune.maxrewrite`.
const WRAPS_AT: usize = 16_336;

/// One captured invalid request.
#[derive(Debug, Clone)]
struct Capture {
    when: SystemTime,
    event: u32,
    src: SocketAddr,
    buf: Vec<u8>,
    pos: usize,
    state: &'static str,
    flags: u32,
}

/// The last invalid request of each frontend.
#[derive(Debug, Default)]
pub(crate) struct ErrorLog {
    /// Events captured since start, every proxy included.
    events: AtomicU32,
    last: Mutex<HashMap<String, Capture>>,
}

/// Whether `b` may appear in a method or a header name (RFC 9110 tchar).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Offsets of the lines of `buf` (each without its line end), up to the
/// empty line ending the head.
fn lines(buf: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let rest = buf.get(start..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = rest.get(..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && !out.is_empty() {
            break;
        }
        out.push((start, line));
        start += end + 1;
    }
    out
}

/// The position HAProxy reports for a request rejected for `kind`, its
/// parser state and message flags at that point.
fn locate(buf: &[u8], kind: &ErrorKind) -> (usize, &'static str, u32) {
    let all = lines(buf);
    let first = all.first().map_or(&[][..], |(_, l)| *l);
    let headers = all.get(1..).unwrap_or_default();
    let method_end = first.iter().position(|&b| b == b' ').unwrap_or(first.len());
    match kind {
        ErrorKind::Method => {
            let pos = first.iter().position(|&b| !is_tchar(b)).unwrap_or(0);
            (pos, "MSG_RQMETH(2)", 0x1400)
        }
        ErrorKind::Target => {
            let uri = method_end + 1;
            let pos = first
                .get(uri..)
                .unwrap_or_default()
                .iter()
                .position(|&b| b <= b' ' || b >= 0x7f)
                .map_or(uri, |p| uri + p);
            (pos, "MSG_RQURI(4)", 0x1400)
        }
        ErrorKind::Version => {
            let pos = first.iter().rposition(|&b| b == b' ').map_or(0, |p| p + 1);
            (pos, "MSG_DATA(27)", 0x1410)
        }
        ErrorKind::StartLine => {
            let raw = buf
                .iter()
                .position(|&b| b == b'\n')
                .map_or(buf, |e| buf.get(..e).unwrap_or_default());
            match raw.windows(2).position(|w| w[0] == b'\r' && w[1] != b'\n') {
                Some(cr) => (cr + 1, "MSG_RQLINE_END(7)", 0x1410),
                None => (first.len(), "MSG_DATA(27)", 0x1400),
            }
        }
        ErrorKind::HeaderName => {
            for (start, line) in headers {
                let name_end = line.iter().position(|&b| b == b':');
                let name = line
                    .get(..name_end.unwrap_or(line.len()))
                    .unwrap_or_default();
                if name.is_empty() {
                    return (*start, "MSG_HDR_NAME(17)", 0x1410);
                }
                if let Some(p) = name.iter().position(|&b| !is_tchar(b)) {
                    return (start + p, "MSG_HDR_NAME(17)", 0x1410);
                }
            }
            (buf.len(), "MSG_HDR_NAME(17)", 0x1410)
        }
        ErrorKind::HeaderValue => {
            let head_start = all.get(1).map_or(buf.len(), |(s, _)| *s);
            let rest = buf.get(head_start..).unwrap_or_default();
            let bad = rest.windows(2).position(|w| w[0] == b'\r' && w[1] != b'\n');
            let pos = bad.map_or(buf.len(), |p| head_start + p + 1);
            (pos, "MSG_HDR_L2_LF(23)", 0x1410)
        }
        ErrorKind::ContentLength | ErrorKind::ContentLengthConflict | ErrorKind::HostConflict => {
            let name: &[u8] = if matches!(kind, ErrorKind::HostConflict) {
                b"host"
            } else {
                b"content-length"
            };
            let matching: Vec<_> = headers
                .iter()
                .filter(|(_, l)| {
                    l.get(..name.len())
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                        && l.get(name.len()) == Some(&b':')
                })
                .collect();
            // The value that could not be taken: the first for a bad
            // Content-Length, the repeated one for a conflict.
            let at = if matches!(kind, ErrorKind::ContentLength) {
                matching.first()
            } else {
                matching.get(1).or(matching.first())
            };
            let pos = at.map_or(buf.len(), |(start, line)| {
                let after = line.get(name.len() + 1..).unwrap_or_default();
                let blanks = after
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                start + name.len() + 1 + blanks
            });
            let flags = if matches!(kind, ErrorKind::ContentLengthConflict) {
                0x1411
            } else {
                0x1410
            };
            (pos, "MSG_HDR_L2_LWS(24)", flags)
        }
        ErrorKind::TransferEncoding | ErrorKind::UnsupportedTransferCoding => {
            (buf.len(), "MSG_DATA(27)", 0x0002_1610)
        }
        _ => (buf.len(), "MSG_DATA(27)", 0x1410),
    }
}

/// One line of HAProxy's buffer dump starting at `ptr`: the offset (with
/// `+` when it continues a line), then the bytes, escaped, up to a line
/// feed or 80 columns. Returns where the next line starts.
fn dump_line(out: &mut String, buf: &[u8], ptr: usize, continued: bool) -> usize {
    let start = out.len();
    let _ = write!(out, "  {ptr:05}{} ", if continued { '+' } else { ' ' });
    let limit = start + 80;
    let mut i = ptr;
    while let Some(&c) = buf.get(i) {
        let esc = match c {
            b'\t' => Some('t'),
            b'\n' => Some('n'),
            b'\r' => Some('r'),
            0x1b => Some('e'),
            b'\\' => Some('\\'),
            _ => None,
        };
        if let Some(e) = esc {
            if out.len() > limit - 3 {
                break;
            }
            out.push('\\');
            out.push(e);
        } else if (0x20..0x7f).contains(&c) {
            if out.len() > limit - 2 {
                break;
            }
            out.push(char::from(c));
        } else {
            if out.len() > limit - 5 {
                break;
            }
            let _ = write!(out, "\\x{c:02x}");
        }
        i += 1;
        if c == b'\n' {
            break;
        }
    }
    out.push('\n');
    i
}

fn date(t: SystemTime) -> String {
    let mut d = String::new();
    crate::log::time::Civil::from_system(t).write_accept_date(&mut d);
    d
}

impl ErrorLog {
    /// Records the invalid request `buf` received from `src` by frontend
    /// `frontend`, rejected for `kind`.
    pub(crate) fn record(&self, frontend: &str, src: SocketAddr, buf: &[u8], kind: &ErrorKind) {
        let buf = buf.get(..BUFSIZE.min(buf.len())).unwrap_or_default();
        let (pos, state, flags) = locate(buf, kind);
        let event = self.events.fetch_add(1, Ordering::Relaxed);
        let c = Capture {
            when: SystemTime::now(),
            event,
            src,
            buf: buf.to_vec(),
            pos,
            state,
            flags,
        };
        lock(&self.last).insert(frontend.to_string(), c);
    }

    /// `show errors`: the captures of the frontends `proxies` (name and
    /// numeric id, in declaration order), in HAProxy 2.6's layout.
    /// `requests` is false when only response errors are asked for (none
    /// are captured).
    pub(crate) fn show(&self, proxies: &[(String, u32)], requests: bool) -> String {
        let mut out = format!(
            "Total events captured on [{}] : {}\n",
            date(SystemTime::now()),
            self.events.load(Ordering::Relaxed)
        );
        if !requests {
            return out;
        }
        let last = lock(&self.last);
        for (name, iid) in proxies {
            let Some(c) = last.get(name) else {
                continue;
            };
            let len = c.buf.len();
            let _ = write!(
                out,
                " \n[{}] frontend {name} (#{iid}): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #{}, src {}\n  buffer starts at 0 (including 0 out), {} free,\n  len {len}, wraps at {WRAPS_AT}, error at position {}\n  H1 connection flags 0x00000100, H1 stream flags 0x00000810\n  H1 msg state {}, H1 msg flags 0x{:08x}\n  H1 chunk len 0 bytes, H1 body len 0 bytes :\n  \n",
                date(c.when),
                c.event,
                c.src,
                BUFSIZE - len,
                c.pos,
                c.state,
                c.flags,
            );
            let mut ptr = 0;
            let mut line_start = 0;
            while ptr < len {
                let next = dump_line(&mut out, &c.buf, ptr, ptr != line_start);
                if next == ptr {
                    break;
                }
                if c.buf.get(next - 1) == Some(&b'\n') {
                    line_start = next;
                }
                ptr = next;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_haproxys_captures() {
        // Positions, states and flags from tests/data/cli/show_errors*.txt
        // and the captures listed in capture.sh.
        let cases: &[(&[u8], ErrorKind, usize, &str)] = &[
            (
                b"G@T / HTTP/1.1\r\n\r\n",
                ErrorKind::Method,
                1,
                "MSG_RQMETH(2)",
            ),
            (
                b"GET /a\x01b HTTP/1.1\r\n\r\n",
                ErrorKind::Target,
                6,
                "MSG_RQURI(4)",
            ),
            (
                b"GET / HTTX/1.1\r\n\r\n",
                ErrorKind::Version,
                6,
                "MSG_DATA(27)",
            ),
            (
                b"GET / HTTP/1.1\r\nho st: y\r\nfoo: bar\r\n\r\n",
                ErrorKind::HeaderName,
                18,
                "MSG_HDR_NAME(17)",
            ),
            (
                b"GET /x HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n",
                ErrorKind::HeaderName,
                29,
                "MSG_HDR_NAME(17)",
            ),
            (
                b"GET / HTTP/1.1\r\n: novalue\r\n\r\n",
                ErrorKind::HeaderName,
                16,
                "MSG_HDR_NAME(17)",
            ),
            (
                b"GET / HTTP/1.1\r\nfoo: a\rb\r\n\r\n",
                ErrorKind::HeaderValue,
                23,
                "MSG_HDR_L2_LF(23)",
            ),
            (
                b"GET / HTTP/1.1\r\ncontent-length: abc\r\n\r\n",
                ErrorKind::ContentLength,
                32,
                "MSG_HDR_L2_LWS(24)",
            ),
            (
                b"GET / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
                ErrorKind::ContentLengthConflict,
                51,
                "MSG_HDR_L2_LWS(24)",
            ),
            (
                b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n",
                ErrorKind::HostConflict,
                31,
                "MSG_HDR_L2_LWS(24)",
            ),
            (
                b"GET / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
                ErrorKind::UnsupportedTransferCoding,
                43,
                "MSG_DATA(27)",
            ),
            (b"GET /\r\n\r\n", ErrorKind::StartLine, 5, "MSG_DATA(27)"),
            (
                b"GET / HTTP/1.1\rX\n\r\n",
                ErrorKind::StartLine,
                15,
                "MSG_RQLINE_END(7)",
            ),
        ];
        for (buf, kind, pos, state) in cases {
            let (p, s, _) = locate(buf, kind);
            assert_eq!((p, s), (*pos, *state), "{}", String::from_utf8_lossy(buf));
        }
    }

    /// The bytes a captured dump shows, unescaped.
    fn undump(lines: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for l in lines {
            let text = l.get(9..).unwrap_or_default().as_bytes();
            let mut i = 0;
            while let Some(&c) = text.get(i) {
                if c != b'\\' {
                    out.push(c);
                    i += 1;
                    continue;
                }
                let (b, n) = match text.get(i + 1) {
                    Some(b't') => (b'\t', 2),
                    Some(b'n') => (b'\n', 2),
                    Some(b'r') => (b'\r', 2),
                    Some(b'e') => (0x1b, 2),
                    Some(b'x') => {
                        let h = std::str::from_utf8(text.get(i + 2..i + 4).unwrap()).unwrap();
                        (u8::from_str_radix(h, 16).unwrap(), 4)
                    }
                    _ => (b'\\', 2),
                };
                out.push(b);
                i += n;
            }
        }
        out
    }

    #[test]
    fn captured_dumps_and_positions_replay() {
        // HAProxy 2.6.12's answers, captured by tests/data/cli/capture.sh:
        // for each, the request is read back from the dump, dumped again
        // and located again.
        let captured = [
            include_str!("../../tests/data/cli/show_errors.txt"),
            include_str!("../../tests/data/cli/show_errors_web.txt"),
        ]
        .concat();
        let kinds = [
            ErrorKind::HeaderName,
            ErrorKind::Method,
            ErrorKind::Target,
            ErrorKind::Version,
            ErrorKind::HeaderName,
        ];
        let answers: Vec<&str> = captured
            .split("Total events captured on ")
            .filter(|a| !a.is_empty())
            .collect();
        assert_eq!(answers.len(), kinds.len());
        for (answer, kind) in answers.iter().zip(&kinds) {
            let dump_lines: Vec<&str> = answer
                .lines()
                .filter(|l| {
                    l.starts_with("  ")
                        && l.get(2..7)
                            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
                })
                .collect();
            let buf = undump(&dump_lines);
            let mut ours = String::new();
            let (mut ptr, mut line) = (0, 0);
            while ptr < buf.len() {
                let next = dump_line(&mut ours, &buf, ptr, ptr != line);
                if buf.get(next - 1) == Some(&b'\n') {
                    line = next;
                }
                ptr = next;
            }
            let theirs: String = dump_lines.iter().map(|l| format!("{l}\n")).collect();
            assert_eq!(ours, theirs);
            let (pos, state, flags) = locate(&buf, kind);
            let said = |key: &str| {
                let i = answer.find(key).unwrap() + key.len();
                answer[i..].split([',', '\n']).next().unwrap().to_string()
            };
            assert_eq!(pos.to_string(), said("error at position "), "{answer}");
            assert_eq!(state, said("H1 msg state "), "{answer}");
            assert_eq!(format!("0x{flags:08x}"), said("H1 msg flags "), "{answer}");
        }
    }
}
