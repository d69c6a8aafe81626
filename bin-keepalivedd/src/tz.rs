//! The local time zone, as keepalived's timestamps use it: the TZif file named by `TZ`
//! (`:path`, or a name under /usr/share/zoneinfo) or /etc/localtime, UTC when none
//! can be read.
//!
//! Only the transition table is used. Times after the last transition keep its
//! offset; Debian ships "fat" files whose tables run to 2037, so that is exact until
//! then. POSIX `TZ` rule strings (`CET-1CEST,...`) are not interpreted (UTC is used).

use std::path::{Path, PathBuf};

/// UTC offsets over time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Zone {
    /// (transition time, offset from then on), ascending.
    transitions: Vec<(i64, i32)>,
    /// The offset before the first transition.
    initial: i32,
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(<[u8; 4]>::try_from(s).ok()?))
}

fn be_i64(b: &[u8], at: usize) -> Option<i64> {
    let s = b.get(at..at.checked_add(8)?)?;
    Some(i64::from_be_bytes(<[u8; 8]>::try_from(s).ok()?))
}

/// One TZif data block's counts, in the header's order.
struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

fn counts(b: &[u8], at: usize) -> Option<Counts> {
    if b.get(at..at + 4)? != b"TZif" {
        return None;
    }
    let c = |i: usize| be_u32(b, at + 20 + 4 * i).and_then(|v| usize::try_from(v).ok());
    Some(Counts {
        isut: c(0)?,
        isstd: c(1)?,
        leap: c(2)?,
        time: c(3)?,
        types: c(4)?,
        chars: c(5)?,
    })
}

const HEADER_LEN: usize = 44;

impl Zone {
    /// UTC: no transitions, offset 0.
    pub fn utc() -> Zone {
        Zone::default()
    }

    /// Parses a TZif file (version 1, or the 64-bit block of version 2 and later).
    /// `None` when the bytes are not a well-formed TZif file.
    pub fn parse(b: &[u8]) -> Option<Zone> {
        let v1 = counts(b, 0)?;
        let version = *b.get(4)?;
        let v1_len = v1
            .time
            .checked_mul(5)?
            .checked_add(v1.types.checked_mul(6)?)?
            .checked_add(v1.chars)?
            .checked_add(v1.leap.checked_mul(8)?)?
            .checked_add(v1.isstd)?
            .checked_add(v1.isut)?;
        let (at, c, time_len) = if version >= b'2' {
            let at = HEADER_LEN.checked_add(v1_len)?;
            (at, counts(b, at)?, 8)
        } else {
            (0, v1, 4)
        };
        let times_at = at + HEADER_LEN;
        let idx_at = times_at.checked_add(c.time.checked_mul(time_len)?)?;
        let types_at = idx_at.checked_add(c.time)?;
        // the counts are only believed as far as the bytes go
        if b.len() < types_at.checked_add(c.types.checked_mul(6)?)? {
            return None;
        }
        let offset_of = |t: usize| -> Option<i32> {
            let p = types_at.checked_add(t.checked_mul(6)?)?;
            be_u32(b, p).map(|v| v as i32)
        };
        let mut transitions = Vec::with_capacity(c.time);
        for i in 0..c.time {
            let when = if time_len == 8 {
                be_i64(b, times_at + i * 8)?
            } else {
                i64::from(be_u32(b, times_at + i * 4)? as i32)
            };
            let ty = usize::from(*b.get(idx_at + i)?);
            if ty >= c.types {
                return None;
            }
            transitions.push((when, offset_of(ty)?));
        }
        // RFC 8536: local time before the first transition uses type 0
        let initial = if c.types > 0 { offset_of(0)? } else { 0 };
        Some(Zone {
            transitions,
            initial,
        })
    }

    /// The zone the process would use: `TZ` when set, else /etc/localtime.
    pub fn local() -> Zone {
        let path = match std::env::var("TZ") {
            Ok(tz) if tz.is_empty() => return Zone::utc(),
            Ok(tz) => match zone_path(&tz) {
                Some(p) => p,
                None => return Zone::utc(),
            },
            Err(_) => PathBuf::from("/etc/localtime"),
        };
        std::fs::read(path)
            .ok()
            .and_then(|b| Zone::parse(&b))
            .unwrap_or_default()
    }

    /// Seconds east of UTC at `unix` seconds.
    pub fn offset_at(&self, unix: i64) -> i32 {
        let i = self.transitions.partition_point(|(t, _)| *t <= unix);
        match i.checked_sub(1).and_then(|j| self.transitions.get(j)) {
            Some((_, off)) => *off,
            None => self.initial,
        }
    }
}

/// The file a `TZ` value names: `:/path`, `:Name`, `/path` or `Name` under
/// /usr/share/zoneinfo. Names with `..` are refused.
fn zone_path(tz: &str) -> Option<PathBuf> {
    let tz = tz.strip_prefix(':').unwrap_or(tz);
    if tz.starts_with('/') {
        return Some(PathBuf::from(tz));
    }
    if tz.split('/').any(|c| c == ".." || c.is_empty()) {
        return None;
    }
    Some(Path::new("/usr/share/zoneinfo").join(tz))
}
