//! Log lines as keepalived writes them: `Sat Nov 28 08:51:37 2026: MESSAGE` on the
//! console (`-l`, standard error) and in the `-g` file, and
//! `<30>Nov 28 09:05:00 Keepalived_vrrp[5489]: MESSAGE` datagrams to /dev/log
//! (daemon facility) otherwise.
//!
//! Times are local, in the [`Zone`] the caller passes (see [`crate::tz`]).

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::tz::Zone;

/// The syslog ident of the VRRP process.
pub const IDENT: &str = "Keepalived_vrrp";

/// The daemon facility (3).
pub const FACILITY_DAEMON: u8 = 3;

/// Syslog severities used by the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// err (3).
    Error = 3,
    /// warning (4).
    Warning = 4,
    /// info (6).
    Info = 6,
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// 0..=23.
    pub hour: u32,
    /// 0..=59.
    pub minute: u32,
    /// 0..=59.
    pub second: u32,
    /// Days since 1970-01-01 modulo 7 (0 is Thursday).
    weekday: usize,
    /// Seconds east of UTC.
    offset: i32,
}

impl Civil {
    /// `t` in `zone`; times before the epoch are clamped to it.
    pub fn from_system(t: SystemTime, zone: &Zone) -> Civil {
        let utc = t
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4));
        let offset = zone.offset_at(utc);
        let secs = utc.saturating_add(i64::from(offset));
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // days to civil date, proleptic Gregorian (Howard Hinnant's algorithm)
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
            hour: u32::try_from(rem / 3600).unwrap_or(0),
            minute: u32::try_from(rem % 3600 / 60).unwrap_or(0),
            second: u32::try_from(rem % 60).unwrap_or(0),
            weekday: usize::try_from(days.rem_euclid(7)).unwrap_or(0),
            offset,
        }
    }

    /// The UTC offset as `+0100`.
    pub fn offset_hhmm(&self) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let m = self.offset.unsigned_abs() / 60;
        format!("{sign}{:02}{:02}", m / 60, m % 60)
    }

    /// `Sat`.
    pub fn weekday_name(&self) -> &'static str {
        DAYS.get(self.weekday).copied().unwrap_or("???")
    }

    /// `Nov`.
    pub fn month_name(&self) -> &'static str {
        let i = usize::try_from(self.month.saturating_sub(1)).unwrap_or(0);
        MONTHS.get(i).copied().unwrap_or("???")
    }
}

/// `Sat Nov 28 08:51:37 2026: MESSAGE` (no newline).
pub fn console_line(now: SystemTime, zone: &Zone, msg: &str) -> String {
    let c = Civil::from_system(now, zone);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {}: {msg}",
        c.weekday_name(),
        c.month_name(),
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// `<30>Nov 28 09:05:00 Keepalived_vrrp[5489]: MESSAGE`, the day space-padded as
/// syslog(3) writes it.
pub fn syslog_line(
    now: SystemTime,
    zone: &Zone,
    level: Level,
    ident: &str,
    pid: u32,
    msg: &str,
) -> String {
    let c = Civil::from_system(now, zone);
    let pri = u32::from(FACILITY_DAEMON) * 8 + level as u32;
    format!(
        "<{pri}>{} {:>2} {:02}:{:02}:{:02} {ident}[{pid}]: {msg}",
        c.month_name(),
        c.day,
        c.hour,
        c.minute,
        c.second
    )
}

/// Where log lines go.
#[derive(Debug, Default)]
pub struct Logger {
    console: bool,
    detail: bool,
    syslog: Option<UnixDatagram>,
    file: Option<Mutex<File>>,
    pid: u32,
    zone: Zone,
}

impl Logger {
    /// A logger writing to standard error when `console`, to /dev/log when `syslog`
    /// and it exists, and appending to `file` when given. `detail` enables
    /// [`Logger::detail`] lines.
    pub fn new(console: bool, syslog: bool, detail: bool, file: Option<&Path>) -> Logger {
        let syslog = syslog
            .then(|| {
                let s = UnixDatagram::unbound().ok()?;
                s.connect("/dev/log").ok()?;
                s.set_nonblocking(true).ok()?;
                Some(s)
            })
            .flatten();
        let file = file.and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
                .map(Mutex::new)
        });
        Logger {
            console,
            detail,
            syslog,
            file,
            pid: std::process::id(),
            zone: Zone::local(),
        }
    }

    /// Logs at info level.
    pub fn info(&self, msg: &str) {
        self.write(Level::Info, msg);
    }

    /// Logs at warning level.
    pub fn warn(&self, msg: &str) {
        self.write(Level::Warning, msg);
    }

    /// Logs at error level.
    pub fn error(&self, msg: &str) {
        self.write(Level::Error, msg);
    }

    /// Logs only with `-D`.
    pub fn detail(&self, msg: &str) {
        if self.detail {
            self.write(Level::Info, msg);
        }
    }

    fn write(&self, level: Level, msg: &str) {
        let now = SystemTime::now();
        if self.console || self.file.is_some() {
            let mut line = console_line(now, &self.zone, msg);
            line.push('\n');
            if self.console {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            if let Some(f) = &self.file {
                if let Ok(mut f) = f.lock() {
                    let _ = f.write_all(line.as_bytes());
                }
            }
        }
        if let Some(s) = &self.syslog {
            // a full or absent syslog loses the line, never blocks the daemon
            let _ = s.send(syslog_line(now, &self.zone, level, IDENT, self.pid, msg).as_bytes());
        }
    }
}
