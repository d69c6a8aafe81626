//! Calendar formatting of timestamps for log lines, without a time-zone database.
//!
//! Times are rendered in UTC (the daemons' hosts run in UTC; HAProxy renders in
//! the host's local time, which is the same there).

use std::fmt::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::push_num;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down UTC time with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 59.
    pub second: u8,
    /// Millisecond, 0 to 999.
    pub millis: u16,
    /// Microseconds within the second, 0 to 999,999.
    pub micros: u32,
}

impl Civil {
    /// Breaks `t` down in UTC. Times before 1970 are clamped to the epoch.
    pub fn from_system(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self::from_unix(d)
    }

    /// Breaks a duration since the Unix epoch down in UTC.
    pub fn from_unix(d: Duration) -> Self {
        let secs = d.as_secs() as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: (rem % 3600 / 60) as u8,
            second: (rem % 60) as u8,
            millis: d.subsec_millis() as u16,
            micros: d.subsec_micros(),
        }
    }

    fn month_name(&self) -> &'static str {
        MONTHS
            .get(usize::from(self.month.saturating_sub(1)))
            .copied()
            .unwrap_or("Jan")
    }

    /// HAProxy's accept date: `28/Nov/2026:10:09:14.659`.
    pub fn write_accept_date(&self, out: &mut String) {
        push_num(out, u64::from(self.day), 2);
        out.push('/');
        out.push_str(self.month_name());
        out.push('/');
        self.push_year(out);
        out.push(':');
        self.push_clock(out);
        out.push('.');
        push_num(out, u64::from(self.millis), 3);
    }

    /// The RFC 3164 timestamp: `Nov 28 10:09:14` (day padded with a space).
    pub fn write_rfc3164(&self, out: &mut String) {
        out.push_str(self.month_name());
        out.push(' ');
        if self.day < 10 {
            out.push(' ');
        }
        push_num(out, u64::from(self.day), 1);
        out.push(' ');
        self.push_clock(out);
    }

    /// The RFC 5424 / ISO 8601 timestamp: `2026-11-28T10:09:14.659123+00:00`.
    pub fn write_rfc5424(&self, out: &mut String) {
        self.push_year(out);
        out.push('-');
        push_num(out, u64::from(self.month), 2);
        out.push('-');
        push_num(out, u64::from(self.day), 2);
        out.push('T');
        self.push_clock(out);
        out.push('.');
        push_num(out, u64::from(self.micros), 6);
        out.push_str("+00:00");
    }

    /// `HH:MM:SS`.
    fn push_clock(&self, out: &mut String) {
        push_num(out, u64::from(self.hour), 2);
        out.push(':');
        push_num(out, u64::from(self.minute), 2);
        out.push(':');
        push_num(out, u64::from(self.second), 2);
    }

    /// The year on four digits at least (a negative one as `format!` does).
    fn push_year(&self, out: &mut String) {
        match u64::try_from(self.year) {
            Ok(y) => push_num(out, y, 4),
            Err(_) => {
                let _ = write!(out, "{:04}", self.year);
            }
        }
    }

    /// The date of HAProxy's `show info` and keepalived's console lines:
    /// `Sat Nov 28 10:09:14 2026`.
    pub fn write_ctime(&self, out: &mut String) {
        let _ = write!(
            out,
            "{} {} {:>2} {:02}:{:02}:{:02} {}",
            self.weekday_name(),
            self.month_name(),
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.year
        );
    }

    fn weekday_name(&self) -> &'static str {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        let days = days_from_civil(self.year, self.month, self.day);
        DAYS[days.rem_euclid(7) as usize]
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instant() {
        // 2026-11-28T10:09:14.659Z, the instant of a captured HAProxy log line.
        let c = Civil::from_unix(Duration::from_millis(1_764_324_554_659));
        let mut s = String::new();
        c.write_accept_date(&mut s);
        assert_eq!(s, "28/Nov/2025:10:09:14.659");
        s.clear();
        c.write_rfc3164(&mut s);
        assert_eq!(s, "Nov 28 10:09:14");
        s.clear();
        c.write_ctime(&mut s);
        assert_eq!(s, "Fri Nov 28 10:09:14 2025");
    }

    #[test]
    fn day_padding_and_leap_years() {
        // 2024-02-29T00:00:00Z
        let c = Civil::from_unix(Duration::from_secs(1_709_164_800));
        assert_eq!((c.year, c.month, c.day), (2024, 2, 29));
        let mut s = String::new();
        c.write_rfc3164(&mut s);
        assert_eq!(s, "Feb 29 00:00:00");
        // 2000-03-01T00:00:00Z
        let c = Civil::from_unix(Duration::from_secs(951_868_800));
        assert_eq!((c.year, c.month, c.day), (2000, 3, 1));
        s.clear();
        c.write_rfc3164(&mut s);
        assert_eq!(s, "Mar  1 00:00:00");
    }

    #[test]
    fn days_round_trip() {
        for days in (-1000..30_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
