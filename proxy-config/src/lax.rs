//! HAProxy's lenient readers of numbers and time values.
//!
//! HAProxy 2.6 reads many numeric arguments with C's `atol()` (leading digits,
//! the rest ignored, `0` when there are none) and accepts characters after a
//! time unit (`5sec` is five seconds) with only a generic warning. The loader
//! accepts the same values so that verdicts agree, and these functions say
//! which value is really used, so that the caller can warn at the word's
//! position: an operator who wrote `retries three` must learn that it means 0.

use std::time::Duration;

/// What C's `atol()` returns for `s`: optional leading blanks and sign, then
/// decimal digits up to the first other character; 0 without digits.
/// Saturates instead of overflowing.
pub(crate) fn atol(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(d)
        } else {
            value.saturating_mul(10).saturating_add(d)
        };
    }
    value
}

/// A number read the way HAProxy's `atol()` keywords read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaxNumber {
    /// The value used, clamped into `u32`.
    pub(crate) value: u32,
    /// When the text is not exactly that number: what HAProxy makes of it.
    pub(crate) note: Option<String>,
}

/// Reads `s` as an unsigned number the lenient way; `s` may be empty (the
/// argument was left out).
pub(crate) fn number(s: &str) -> LaxNumber {
    if let Ok(value) = s.parse::<u32>()
        && !s.starts_with('+')
    {
        return LaxNumber { value, note: None };
    }
    let read = atol(s);
    let value = u32::try_from(read.max(0)).unwrap_or(u32::MAX);
    let note = if s.is_empty() {
        format!("the value is missing; HAProxy reads it as {read}")
    } else if read < 0 {
        format!("HAProxy reads '{s}' as {read}; a negative value is taken as {value}")
    } else if i64::from(value) != read {
        format!("HAProxy reads '{s}' as {read}, which is capped to {value}")
    } else {
        format!("'{s}' is not a plain number; HAProxy reads it as {read}")
    };
    LaxNumber {
        value,
        note: Some(note),
    }
}

/// A time value: the duration and, when characters follow a valid unit, the
/// first of them (HAProxy ignores them with a warning).
pub(crate) fn time(s: &str) -> Result<(Duration, Option<char>), String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    if num.is_empty() {
        return Err(match s.chars().next() {
            Some(c) => format!("unexpected character '{c}' in time value '{s}'"),
            None => "missing time value".to_string(),
        });
    }
    let n: u64 = num
        .parse()
        .map_err(|_| format!("timer overflow in '{s}'"))?;
    // HAProxy reads the unit by its first letters: `us`, `ms`, `s`, `m`,
    // `h`, `d`; `m` not followed by `s` is minutes. Anything after is ignored.
    let (us_per, unit_len): (u64, usize) = match unit.as_bytes() {
        [] => (1_000, 0),
        [b'u', b's', ..] => (1, 2),
        [b'm', b's', ..] => (1_000, 2),
        [b's', ..] => (1_000_000, 1),
        [b'm', ..] => (60_000_000, 1),
        [b'h', ..] => (3_600_000_000, 1),
        [b'd', ..] => (86_400_000_000, 1),
        _ => {
            let c = unit.chars().next().unwrap_or('?');
            return Err(format!("unexpected character '{c}' in time value '{s}'"));
        }
    };
    let us = n
        .checked_mul(us_per)
        .filter(|us| *us / 1_000 <= i32::MAX as u64)
        .ok_or_else(|| {
            format!("timer overflow in '{s}' (maximum value is 2147483647 ms or ~24.8 days)")
        })?;
    let trailing = unit.get(unit_len..).and_then(|rest| rest.chars().next());
    Ok((Duration::from_micros(us), trailing))
}

/// A duration in the unit that shows it best (`5s`, `1500ms`, `90us`).
pub(crate) fn show(d: Duration) -> String {
    let us = d.as_micros();
    if us % 1_000 != 0 {
        format!("{us}us")
    } else if us % 1_000_000 != 0 {
        format!("{}ms", us / 1_000)
    } else {
        format!("{}s", us / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atol_reads_leading_digits_like_c() {
        assert_eq!(atol("three"), 0);
        assert_eq!(atol(""), 0);
        assert_eq!(atol("3x"), 3);
        assert_eq!(atol("  42"), 42);
        assert_eq!(atol("-1"), -1);
        assert_eq!(atol("+7"), 7);
        assert_eq!(atol("99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn plain_numbers_have_no_note() {
        assert_eq!(
            number("30"),
            LaxNumber {
                value: 30,
                note: None
            }
        );
    }

    #[test]
    fn lenient_numbers_say_what_is_used() {
        let n = number("three");
        assert_eq!(n.value, 0);
        assert!(n.note.unwrap().contains("reads it as 0"));
        let n = number("");
        assert_eq!(n.value, 0);
        assert!(n.note.unwrap().contains("missing"));
        let n = number("-1");
        assert_eq!(n.value, 0);
        assert!(n.note.unwrap().contains("as -1"));
        assert_eq!(number("5x").value, 5);
        assert_eq!(number("99999999999").value, u32::MAX);
    }

    #[test]
    fn units_are_read_by_their_first_letters() {
        let t = |s: &str| time(s).unwrap();
        assert_eq!(t("5"), (Duration::from_millis(5), None));
        assert_eq!(t("5sec"), (Duration::from_secs(5), Some('e')));
        assert_eq!(t("5min"), (Duration::from_secs(300), Some('i')));
        assert_eq!(t("5msec"), (Duration::from_millis(5), Some('e')));
        assert_eq!(t("5usec"), (Duration::from_micros(5), Some('e')));
        assert_eq!(t("2hours"), (Duration::from_secs(7200), Some('o')));
        assert_eq!(t("1days"), (Duration::from_secs(86400), Some('a')));
        assert_eq!(t("5s5"), (Duration::from_secs(5), Some('5')));
        assert_eq!(t("2147483647"), (Duration::from_millis(2147483647), None));
        for bad in ["5u", "5S", "5M", "5.", "x", "", "2147483648", "2147484s"] {
            assert!(time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_show_in_their_largest_exact_unit() {
        assert_eq!(show(Duration::from_secs(5)), "5s");
        assert_eq!(show(Duration::from_millis(1500)), "1500ms");
        assert_eq!(show(Duration::from_micros(7)), "7us");
    }
}
