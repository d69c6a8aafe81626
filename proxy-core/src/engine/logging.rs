//! Log targets of a proxy, built once from its `log` lines (with `log global`
//! expanded to the global section's targets), and the emission of one
//! traffic line through [`crate::log`].

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use proxy_config::{Config, Log, LogAddress, LogFormat, LogTarget, Proxy, Span, Spanned};

use super::error::BuildError;
use crate::log::syslog::{Framing, Origin, Sink, Target};

/// Severity of traffic lines (`info`).
const TRAFFIC_LEVEL: u8 = 6;

/// HAProxy's default maximum line length.
const DEFAULT_LEN: usize = 1024;

/// The log targets of one proxy.
#[derive(Debug, Clone)]
pub(crate) struct Logger {
    targets: Vec<Arc<Target>>,
    origin: Arc<Origin>,
}

/// The global section's targets, opened once and shared by every proxy that
/// says `log global`.
#[derive(Debug, Clone)]
pub(crate) struct GlobalLogs {
    targets: Vec<Arc<Target>>,
    origin: Arc<Origin>,
}

impl GlobalLogs {
    /// Opens the global section's targets.
    pub(crate) fn build(config: &Config) -> Result<GlobalLogs, BuildError> {
        let origin = Arc::new(Origin {
            tag: "haproxy".into(),
            pid: std::process::id(),
            host: hostname(),
        });
        let mut targets = Vec::new();
        for l in &config.global.logs {
            if let Log::Target(t) = &l.value {
                targets.push(open(t, &l.span)?);
            }
        }
        Ok(GlobalLogs { targets, origin })
    }
}

impl Logger {
    /// The targets of proxy `p`.
    pub(crate) fn build(global: &GlobalLogs, p: &Proxy) -> Result<Logger, BuildError> {
        let mut targets = Vec::new();
        for Spanned { value, span } in &p.logs {
            match value {
                Log::Global => targets.extend(global.targets.iter().cloned()),
                Log::Target(t) => targets.push(open(t, span)?),
            }
        }
        Ok(Logger {
            targets,
            origin: Arc::clone(&global.origin),
        })
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
        LogFormat::Short | LogFormat::Priority => Framing::Short,
        LogFormat::Raw => Framing::Raw,
        LogFormat::Rfc3164 | LogFormat::Local | LogFormat::Timed | LogFormat::Iso => {
            Framing::Rfc3164
        }
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
