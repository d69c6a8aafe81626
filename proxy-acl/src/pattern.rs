//! Typed ACL patterns: integer ranges and IP networks, parsed from one word
//! with HAProxy's wording on failure. String and regex patterns stay text.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An inclusive integer range; a single value `n` is `n:n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IntRange {
    /// Lowest value matched.
    pub min: i64,
    /// Highest value matched.
    pub max: i64,
}

impl IntRange {
    /// Parses `N`, `N:M`, `:M` or `N:` (inclusive bounds).
    pub fn parse(word: &str) -> Result<Self, String> {
        match word.split_once(':') {
            None => {
                let n = parse_i64(word).ok_or_else(|| format!("'{word}' is not a number"))?;
                Ok(Self { min: n, max: n })
            }
            Some((lo, hi)) => {
                let bad = || format!("'{word}' is not a valid number range");
                let min = if lo.is_empty() {
                    i64::MIN
                } else {
                    parse_i64(lo).ok_or_else(bad)?
                };
                let max = if hi.is_empty() {
                    i64::MAX
                } else {
                    parse_i64(hi).ok_or_else(bad)?
                };
                if min > max {
                    return Err(bad());
                }
                Ok(Self { min, max })
            }
        }
    }

    /// Whether `v` lies in the range.
    pub fn contains(&self, v: i64) -> bool {
        self.min <= v && v <= self.max
    }
}

fn parse_i64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads a leading integer the way HAProxy casts a string to an integer:
/// optional `-`, then digits up to the first non-digit (`"12ab"` is 12, `"ab"` is 0).
/// Saturates instead of overflowing. `None` only for an empty string.
pub(crate) fn leading_int(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        v = v.saturating_mul(10);
        v = if neg {
            v.saturating_sub(d)
        } else {
            v.saturating_add(d)
        };
    }
    Some(v)
}

/// An IPv4 or IPv6 network, as an inclusive address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpNet {
    /// IPv4 addresses `start..=end` as integers.
    V4 {
        /// First address.
        start: u32,
        /// Last address.
        end: u32,
    },
    /// IPv6 addresses `start..=end` as integers.
    V6 {
        /// First address.
        start: u128,
        /// Last address.
        end: u128,
    },
}

impl IpNet {
    /// Parses `ADDR`, `ADDR/LEN` or, for IPv4, `ADDR/DOTTED.MASK`. Host names are
    /// refused: this crate never resolves names.
    pub fn parse(word: &str) -> Result<Self, String> {
        let bad = || format!("'{word}' is not a valid IPv4 or IPv6 address");
        let (addr, mask) = match word.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (word, None),
        };
        if let Ok(a) = addr.parse::<Ipv4Addr>() {
            let bits = match mask {
                None => 32,
                Some(m) => match m.parse::<u8>() {
                    Ok(n) if n <= 32 && !m.starts_with('+') => u32::from(n),
                    _ => {
                        let mask = u32::from(m.parse::<Ipv4Addr>().map_err(|_| bad())?);
                        if mask.leading_ones() + mask.trailing_zeros() != 32 {
                            return Err(bad());
                        }
                        mask.leading_ones()
                    }
                },
            };
            let host = u32::MAX.checked_shr(bits).unwrap_or(0);
            let start = u32::from(a) & !host;
            return Ok(Self::V4 {
                start,
                end: start | host,
            });
        }
        let a: Ipv6Addr = addr.parse().map_err(|_| bad())?;
        let bits = match mask {
            None => 128,
            Some(m) => match m.parse::<u8>() {
                Ok(n) if n <= 128 && !m.starts_with('+') => u32::from(n),
                _ => return Err(bad()),
            },
        };
        let host = u128::MAX.checked_shr(bits).unwrap_or(0);
        let start = u128::from(a) & !host;
        Ok(Self::V6 {
            start,
            end: start | host,
        })
    }
}

/// Parses a sample string as an address, as HAProxy's string-to-address cast does.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

/// For an IPv6 address carrying an IPv4 one (mapped `::ffff:a.b.c.d`, the old
/// compatible `::a.b.c.d`, or 6to4 `2002:AABB:CCDD::/48`), that IPv4 address.
pub(crate) fn v6_to_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = a.segments();
    let low = (u32::from(s[6]) << 16) | u32::from(s[7]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::from(low)),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_ranges() {
        assert_eq!(IntRange::parse("5"), Ok(IntRange { min: 5, max: 5 }));
        assert_eq!(IntRange::parse("1:10"), Ok(IntRange { min: 1, max: 10 }));
        assert_eq!(
            IntRange::parse(":10"),
            Ok(IntRange {
                min: i64::MIN,
                max: 10
            })
        );
        assert_eq!(
            IntRange::parse("10:"),
            Ok(IntRange {
                min: 10,
                max: i64::MAX
            })
        );
        assert_eq!(
            IntRange::parse("99999999999").map(|r| r.min),
            Ok(99_999_999_999)
        );
        assert_eq!(IntRange::parse("abc"), Err("'abc' is not a number".into()));
        assert_eq!(IntRange::parse("1.5"), Err("'1.5' is not a number".into()));
        assert_eq!(
            IntRange::parse("1:abc"),
            Err("'1:abc' is not a valid number range".into())
        );
        assert_eq!(
            IntRange::parse("10:5"),
            Err("'10:5' is not a valid number range".into())
        );
    }

    #[test]
    fn leading_ints() {
        assert_eq!(leading_int("12ab"), Some(12));
        assert_eq!(leading_int("ab"), Some(0));
        assert_eq!(leading_int("-7"), Some(-7));
        assert_eq!(leading_int(""), None);
        assert_eq!(leading_int("99999999999999999999999"), Some(i64::MAX));
    }

    #[test]
    fn ip_nets() {
        assert_eq!(
            IpNet::parse("10.1.2.3/8"),
            Ok(IpNet::V4 {
                start: 0x0a00_0000,
                end: 0x0aff_ffff
            })
        );
        assert_eq!(
            IpNet::parse("10.1.2.3/255.255.0.0"),
            IpNet::parse("10.1.0.0/16")
        );
        assert_eq!(
            IpNet::parse("0.0.0.0/0"),
            Ok(IpNet::V4 {
                start: 0,
                end: u32::MAX
            })
        );
        assert_eq!(IpNet::parse("::1"), Ok(IpNet::V6 { start: 1, end: 1 }));
        assert!(matches!(
            IpNet::parse("2001:db8::/32"),
            Ok(IpNet::V6 { .. })
        ));
        for bad in [
            "10.0.0.0/33",
            "::1/129",
            "1.2.3.4/",
            "1.2.3.400",
            "localhost",
            "1.2.3.4/255.0.255.0",
            "",
        ] {
            assert_eq!(
                IpNet::parse(bad),
                Err(format!("'{bad}' is not a valid IPv4 or IPv6 address")),
                "{bad}"
            );
        }
    }

    #[test]
    fn v4_in_v6() {
        let m = |s: &str| v6_to_v4(s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED));
        assert_eq!(m("::ffff:1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(m("2002:0102:0304::1"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(m("2001:db8::1"), None);
    }
}
