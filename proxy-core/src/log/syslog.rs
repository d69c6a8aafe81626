//! Syslog framing and the non-blocking senders behind `log` targets.
//!
//! Sending never blocks the proxy: sockets are non-blocking and a datagram that
//! cannot leave at once is counted as dropped. A dead syslog server loses log
//! lines, never requests.

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::time::Civil;

/// Syslog severities, 0 (emerg) to 7 (debug).
pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// How a log line is framed on the wire, as HAProxy 2.6 frames each
/// `format` of a `log` line (checked byte for byte against its output).
///
/// PRI is `facility * 8 + level`; `short` and `timed` carry the level alone.
/// Only RFC 3164 and RFC 5424 carry a host name, and only when the origin
/// has one (`log-send-hostname`): without, RFC 3164 has none and RFC 5424
/// has `-` in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `<PRI>Mmm dd hh:mm:ss [HOST ]TAG[PID]: MESSAGE` (HAProxy's default).
    Rfc3164,
    /// `<PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE`: `local`, RFC 3164 never
    /// carrying a host name.
    Local,
    /// `<PRI>1 TIMESTAMP HOST|- TAG PID - - MESSAGE`.
    Rfc5424,
    /// `<LEVEL>MESSAGE`.
    Short,
    /// `<PRI>MESSAGE`.
    Priority,
    /// `<LEVEL>TIMESTAMP MESSAGE`, the time stamp as in RFC 5424.
    Timed,
    /// `TIMESTAMP MESSAGE`.
    Iso,
    /// The message alone.
    Raw,
}

/// Identity stamped on every line.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The program tag, `haproxy` by default.
    pub tag: String,
    /// The process id.
    pub pid: u32,
    /// The host name sent in RFC 3164 and RFC 5424 headers
    /// (`log-send-hostname`); none by default.
    pub host: Option<String>,
}

/// A syslog facility and severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// Facility number (local2 is 18).
    pub facility: u8,
    /// Severity, 0 (emerg) to 7 (debug).
    pub level: u8,
}

/// Appends one framed line to `out`: header and message truncated to
/// `max_len` bytes, then `\n` (so the datagram is at most `max_len + 1`
/// bytes, as HAProxy sends it).
pub fn frame(
    out: &mut Vec<u8>,
    framing: Framing,
    priority: Priority,
    now: SystemTime,
    origin: &Origin,
    message: &str,
    max_len: usize,
) {
    let start = out.len();
    let level = u32::from(priority.level.min(7));
    let pri = u32::from(priority.facility) * 8 + level;
    let civil = Civil::from_system(now);
    let mut head = String::with_capacity(64);
    match framing {
        Framing::Rfc3164 | Framing::Local => {
            head.push('<');
            super::push_num(&mut head, u64::from(pri), 0);
            head.push('>');
            civil.write_rfc3164(&mut head);
            head.push(' ');
            if let (Some(host), Framing::Rfc3164) = (&origin.host, framing) {
                head.push_str(host);
                head.push(' ');
            }
            head.push_str(&origin.tag);
            head.push('[');
            super::push_num(&mut head, u64::from(origin.pid), 0);
            head.push_str("]: ");
        }
        Framing::Rfc5424 => {
            head.push('<');
            super::push_num(&mut head, u64::from(pri), 0);
            head.push_str(">1 ");
            civil.write_rfc5424(&mut head);
            head.push(' ');
            head.push_str(origin.host.as_deref().unwrap_or("-"));
            head.push(' ');
            head.push_str(&origin.tag);
            head.push(' ');
            super::push_num(&mut head, u64::from(origin.pid), 0);
            head.push_str(" - - ");
        }
        Framing::Short => {
            head.push('<');
            super::push_num(&mut head, u64::from(level), 0);
            head.push('>');
        }
        Framing::Priority => {
            head.push('<');
            super::push_num(&mut head, u64::from(pri), 0);
            head.push('>');
        }
        Framing::Timed => {
            head.push('<');
            super::push_num(&mut head, u64::from(level), 0);
            head.push('>');
            civil.write_rfc5424(&mut head);
            head.push(' ');
        }
        Framing::Iso => {
            civil.write_rfc5424(&mut head);
            head.push(' ');
        }
        Framing::Raw => {}
    }
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(message.as_bytes());
    if out.len() - start > max_len {
        out.truncate(start + max_len);
    }
    out.push(b'\n');
}

/// Where framed lines go.
#[derive(Debug)]
pub enum Sink {
    /// A UDP syslog server.
    Udp {
        /// The unconnected, non-blocking socket.
        socket: UdpSocket,
        /// The server.
        to: SocketAddr,
    },
    /// A local datagram socket such as `/dev/log`.
    Unix {
        /// The unbound, non-blocking socket.
        socket: UnixDatagram,
        /// The socket path.
        path: PathBuf,
    },
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Sink {
    /// A UDP sender towards `to`.
    pub fn udp(to: SocketAddr) -> io::Result<Self> {
        let bind: SocketAddr = if to.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(bind)?;
        socket.set_nonblocking(true)?;
        Ok(Sink::Udp { socket, to })
    }

    /// A sender towards the datagram socket at `path`.
    pub fn unix(path: &Path) -> io::Result<Self> {
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(Sink::Unix {
            socket,
            path: path.to_path_buf(),
        })
    }

    /// Sends one framed line; never blocks. Returns false when it was dropped.
    pub fn send(&self, line: &[u8]) -> bool {
        match self {
            Sink::Udp { socket, to } => socket.send_to(line, to).is_ok(),
            Sink::Unix { socket, path } => socket.send_to(line, path).is_ok(),
            // A terminal or pipe: a short write is acceptable, a blocked one is
            // not worth a thread; lines are small and the descriptor is ours.
            Sink::Stdout => io::stdout().lock().write_all(line).is_ok(),
            Sink::Stderr => io::stderr().lock().write_all(line).is_ok(),
        }
    }
}

/// One configured `log` target: a sink with its facility and level filter.
#[derive(Debug)]
pub struct Target {
    /// Where lines go.
    pub sink: Sink,
    /// Line framing.
    pub framing: Framing,
    /// Syslog facility number (local2 is 18).
    pub facility: u8,
    /// Most verbose level sent; lines above it are not sent.
    pub max_level: u8,
    /// `minlevel`: lines more severe than this level are capped to it
    /// (0, emerg, when not set, which caps nothing).
    pub min_level: u8,
    /// Maximum line length, newline included (`len`, 1024 by default).
    pub max_len: usize,
    /// Lines that could not be sent.
    pub dropped: AtomicU64,
}

impl Target {
    /// Frames and sends `message` at `level` if the target takes that level.
    pub fn log(&self, level: u8, now: SystemTime, origin: &Origin, message: &str) {
        if level > self.max_level {
            return;
        }
        let level = level.max(self.min_level);
        let mut buf = Vec::with_capacity(message.len() + 64);
        frame(
            &mut buf,
            self.framing,
            Priority {
                facility: self.facility,
                level,
            },
            now,
            origin,
            message,
            self.max_len,
        );
        if !self.sink.send(&buf) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn origin() -> Origin {
        Origin {
            tag: "haproxy".into(),
            pid: 21149,
            host: None,
        }
    }

    #[test]
    fn rfc3164_matches_captured_haproxy_framing() {
        let now = UNIX_EPOCH + Duration::from_millis(1_764_324_554_659);
        let mut out = Vec::new();
        frame(
            &mut out,
            Framing::Rfc3164,
            Priority {
                facility: 18,
                level: 6,
            },
            now,
            &origin(),
            "hello",
            1024,
        );
        assert_eq!(out, b"<150>Nov 28 10:09:14 haproxy[21149]: hello\n");
    }

    /// Each `format` of a `log` line as HAProxy 2.6.12 sent the message
    /// `m` at local2.info (captured with a UDP listener).
    #[test]
    fn every_framing_matches_captured_haproxy_datagrams() {
        // 2026-11-28T11:01:58.307814Z
        let now = UNIX_EPOCH + Duration::from_micros(1_795_863_718_307_814);
        let cases: [(Framing, &[u8]); 8] = [
            (
                Framing::Rfc3164,
                b"<150>Nov 28 11:01:58 haproxy[21149]: m\n",
            ),
            (
                Framing::Rfc5424,
                b"<150>1 2026-11-28T11:01:58.307814+00:00 - haproxy 21149 - - m\n",
            ),
            (Framing::Short, b"<6>m\n"),
            (Framing::Priority, b"<150>m\n"),
            (Framing::Timed, b"<6>2026-11-28T11:01:58.307814+00:00 m\n"),
            (Framing::Iso, b"2026-11-28T11:01:58.307814+00:00 m\n"),
            (Framing::Raw, b"m\n"),
            (Framing::Local, b"<150>Nov 28 11:01:58 haproxy[21149]: m\n"),
        ];
        for (framing, want) in cases {
            let mut out = Vec::new();
            let p = Priority {
                facility: 18,
                level: 6,
            };
            frame(&mut out, framing, p, now, &origin(), "m", 1024);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(want),
                "{framing:?}"
            );
        }
    }

    /// With `log-send-hostname` and `log-tag tg`, as HAProxy 2.6.12 sent
    /// them: the host name in RFC 3164 and RFC 5424 only.
    #[test]
    fn host_name_and_tag_match_captured_haproxy_datagrams() {
        let now = UNIX_EPOCH + Duration::from_micros(1_795_863_718_307_814);
        let origin = Origin {
            tag: "tg".into(),
            pid: 16569,
            host: Some("my.host".into()),
        };
        let cases: [(Framing, &[u8]); 5] = [
            (
                Framing::Rfc3164,
                b"<150>Nov 28 11:01:58 my.host tg[16569]: m\n",
            ),
            (
                Framing::Rfc5424,
                b"<150>1 2026-11-28T11:01:58.307814+00:00 my.host tg 16569 - - m\n",
            ),
            (Framing::Local, b"<150>Nov 28 11:01:58 tg[16569]: m\n"),
            (Framing::Short, b"<6>m\n"),
            (Framing::Iso, b"2026-11-28T11:01:58.307814+00:00 m\n"),
        ];
        for (framing, want) in cases {
            let mut out = Vec::new();
            let p = Priority {
                facility: 18,
                level: 6,
            };
            frame(&mut out, framing, p, now, &origin, "m", 1024);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(want),
                "{framing:?}"
            );
        }
    }

    #[test]
    fn truncation_keeps_newline() {
        let mut out = Vec::new();
        frame(
            &mut out,
            Framing::Raw,
            Priority {
                facility: 18,
                level: 6,
            },
            UNIX_EPOCH,
            &origin(),
            "abcdef",
            4,
        );
        assert_eq!(out, b"abcd\n");
    }

    #[test]
    fn udp_sink_delivers_and_level_filters() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let t = Target {
            sink: Sink::udp(rx.local_addr().unwrap()).unwrap(),
            framing: Framing::Short,
            facility: 18,
            max_level: 6,
            min_level: 0,
            max_len: 1024,
            dropped: AtomicU64::new(0),
        };
        t.log(7, SystemTime::now(), &origin(), "debug line, filtered");
        t.log(6, SystemTime::now(), &origin(), "info line");
        let mut buf = [0u8; 256];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<6>info line\n");
        let capped = Target {
            min_level: 5,
            framing: Framing::Priority,
            ..t
        };
        capped.log(0, SystemTime::now(), &origin(), "emerg capped to notice");
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<149>emerg capped to notice\n");
    }

    #[test]
    fn dead_unix_target_drops_without_blocking() {
        let t = Target {
            sink: Sink::unix(Path::new("/nonexistent/dev-log")).unwrap(),
            framing: Framing::Rfc3164,
            facility: 18,
            max_level: 7,
            min_level: 0,
            max_len: 1024,
            dropped: AtomicU64::new(0),
        };
        t.log(6, SystemTime::now(), &origin(), "lost");
        assert_eq!(t.dropped.load(Ordering::Relaxed), 1);
    }
}
