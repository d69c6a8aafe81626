//! Compiled pattern sets and how a sample is tested against them.
//!
//! Each match method gets a structure whose lookup cost does not grow with the
//! number of patterns where HAProxy's does not either: exact strings in a hash
//! set, prefixes and suffixes in byte tries, integers and addresses as sorted
//! disjoint ranges searched by bisection, regexes as one [`regex::bytes::RegexSet`].
//! With `-i`, patterns are lower-cased here, once; samples are lower-cased on the
//! stack (or compared ASCII case-insensitively) at evaluation.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use ahash::HashSet;

use crate::AclError;
use crate::expr::Pattern;
use crate::fetch::{MatchMethod, Sample};
use crate::pattern::{IntRange, IpNet, leading_int, parse_ip, v6_to_v4};

/// A byte trie answering "does any pattern start this input?".
#[derive(Debug, Clone, Default)]
pub(crate) struct Trie {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    terminal: bool,
    /// Sorted by byte.
    children: Vec<(u8, u32)>,
}

impl Trie {
    pub(crate) fn new() -> Self {
        Self {
            nodes: vec![Node::default()],
        }
    }

    pub(crate) fn insert(&mut self, bytes: impl Iterator<Item = u8>) {
        let mut cur = 0usize;
        for b in bytes {
            let next_id = self.nodes.len();
            let Some(node) = self.nodes.get_mut(cur) else {
                return;
            };
            cur = match node.children.binary_search_by_key(&b, |c| c.0) {
                Ok(i) => node.children.get(i).map_or(0, |c| c.1 as usize),
                Err(i) => {
                    // Node count is bounded by total pattern bytes, far below u32::MAX
                    // for any configuration that fits in memory.
                    let id = u32::try_from(next_id).unwrap_or(u32::MAX);
                    node.children.insert(i, (b, id));
                    self.nodes.push(Node::default());
                    next_id
                }
            };
        }
        if let Some(node) = self.nodes.get_mut(cur) {
            node.terminal = true;
        }
    }

    /// Whether some inserted sequence is a prefix of `bytes`.
    pub(crate) fn any_prefix(&self, bytes: impl Iterator<Item = u8>) -> bool {
        let mut node = match self.nodes.first() {
            Some(n) => n,
            None => return false,
        };
        if node.terminal {
            return true;
        }
        for b in bytes {
            let Ok(i) = node.children.binary_search_by_key(&b, |c| c.0) else {
                return false;
            };
            let next = node
                .children
                .get(i)
                .and_then(|c| self.nodes.get(c.1 as usize));
            match next {
                Some(n) if n.terminal => return true,
                Some(n) => node = n,
                None => return false,
            }
        }
        false
    }
}

/// Sorted, merged, inclusive ranges with bisection lookup.
#[derive(Debug, Clone, Default)]
pub(crate) struct RangeSet<T> {
    ranges: Vec<(T, T)>,
}

impl<T: Ord + Copy> RangeSet<T> {
    pub(crate) fn new(mut ranges: Vec<(T, T)>, succ: impl Fn(T) -> Option<T>) -> Self {
        ranges.sort_unstable();
        let mut merged: Vec<(T, T)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            if let Some(last) = merged.last_mut() {
                let adjacent = succ(last.1).is_none_or(|n| lo <= n);
                if adjacent {
                    if hi > last.1 {
                        last.1 = hi;
                    }
                    continue;
                }
            }
            merged.push((lo, hi));
        }
        Self { ranges: merged }
    }

    pub(crate) fn contains(&self, v: T) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < v);
        self.ranges.get(i).is_some_and(|r| r.0 <= v)
    }
}

/// The compiled patterns of one ACL expression.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Found,
    Bool,
    Int(RangeSet<i64>),
    Len(RangeSet<i64>),
    Ip {
        v4: RangeSet<u32>,
        v6: RangeSet<u128>,
    },
    Str(HashSet<Box<[u8]>>),
    Beg(Trie),
    /// Patterns inserted reversed.
    End(Trie),
    Sub(Vec<Box<[u8]>>),
    Dom(Vec<Box<[u8]>>),
    Dir(Vec<Box<[u8]>>),
    Reg(Option<regex::bytes::RegexSet>),
    Meth(Vec<Box<str>>),
}

const KNOWN_METHODS: &[&str] = &[
    "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT",
];

fn lower(s: &str, icase: bool) -> Box<[u8]> {
    if icase {
        s.to_ascii_lowercase().into_bytes().into_boxed_slice()
    } else {
        s.as_bytes().into()
    }
}

impl Matcher {
    /// Builds the structure for `method` from typed patterns.
    pub(crate) fn build(
        method: MatchMethod,
        icase: bool,
        patterns: &[Pattern],
    ) -> Result<Self, AclError> {
        let texts = || {
            patterns.iter().filter_map(|p| match p {
                Pattern::Text(t) => Some(t.as_str()),
                _ => None,
            })
        };
        let ints = || -> Vec<(i64, i64)> {
            patterns
                .iter()
                .filter_map(|p| match p {
                    Pattern::Int(IntRange { min, max }) => Some((*min, *max)),
                    _ => None,
                })
                .collect()
        };
        let succ_i64 = |v: i64| v.checked_add(1);
        Ok(match method {
            MatchMethod::Found => Self::Found,
            MatchMethod::Bool => Self::Bool,
            MatchMethod::Int => Self::Int(RangeSet::new(ints(), succ_i64)),
            MatchMethod::Len => Self::Len(RangeSet::new(ints(), succ_i64)),
            MatchMethod::Ip => {
                let mut v4 = Vec::new();
                let mut v6 = Vec::new();
                for p in patterns {
                    match p {
                        Pattern::Ip(IpNet::V4 { start, end }) => v4.push((*start, *end)),
                        Pattern::Ip(IpNet::V6 { start, end }) => v6.push((*start, *end)),
                        _ => {}
                    }
                }
                Self::Ip {
                    v4: RangeSet::new(v4, |v: u32| v.checked_add(1)),
                    v6: RangeSet::new(v6, |v: u128| v.checked_add(1)),
                }
            }
            MatchMethod::Str => Self::Str(texts().map(|t| lower(t, icase)).collect()),
            MatchMethod::Beg => {
                let mut t = Trie::new();
                for p in texts() {
                    t.insert(lower(p, icase).iter().copied());
                }
                Self::Beg(t)
            }
            MatchMethod::End => {
                let mut t = Trie::new();
                for p in texts() {
                    t.insert(lower(p, icase).iter().rev().copied());
                }
                Self::End(t)
            }
            MatchMethod::Sub => Self::Sub(texts().map(|t| lower(t, icase)).collect()),
            MatchMethod::Dom => Self::Dom(texts().map(|t| lower(t, icase)).collect()),
            MatchMethod::Dir => Self::Dir(texts().map(|t| lower(t, icase)).collect()),
            MatchMethod::Reg => {
                let list: Vec<&str> = texts().collect();
                if list.is_empty() {
                    Self::Reg(None)
                } else {
                    let set = regex::bytes::RegexSetBuilder::new(&list)
                        .case_insensitive(icase)
                        .unicode(false)
                        .size_limit(256 << 20)
                        .build()
                        .map_err(|e| AclError::Pattern(format!("cannot compile regexes: {e}")))?;
                    Self::Reg(Some(set))
                }
            }
            MatchMethod::Meth => Self::Meth(texts().map(Box::from).collect()),
        })
    }

    /// Whether one sample matches.
    pub(crate) fn matches(&self, icase: bool, s: Sample<'_>) -> bool {
        match self {
            Self::Found => true,
            Self::Bool => as_int(s).is_some_and(|v| v != 0),
            Self::Int(r) => as_int(s).is_some_and(|v| r.contains(v)),
            Self::Ip { v4, v6 } => as_ip(s).is_some_and(|a| ip_in(v4, v6, a)),
            Self::Meth(pats) => match s {
                Sample::Meth(m) => meth_match(pats, icase, m),
                other => with_text(other, &mut |t| {
                    pats.iter().any(|p| str_eq(p.as_bytes(), t, icase))
                }),
            },
            Self::Len(r) => with_text(s, &mut |t| {
                r.contains(i64::try_from(t.len()).unwrap_or(i64::MAX))
            }),
            Self::Str(set) => with_text(s, &mut |t| {
                if icase {
                    with_lower(t, &mut |l| set.contains(l))
                } else {
                    set.contains(t)
                }
            }),
            Self::Beg(trie) => with_text(s, &mut |t| {
                trie.any_prefix(t.iter().map(|b| fold(*b, icase)))
            }),
            Self::End(trie) => with_text(s, &mut |t| {
                trie.any_prefix(t.iter().rev().map(|b| fold(*b, icase)))
            }),
            Self::Sub(pats) => with_text(s, &mut |t| pats.iter().any(|p| contains(t, p, icase))),
            Self::Dom(pats) => with_text(s, &mut |t| {
                pats.iter().any(|p| match_word(t, p, icase, b"/?.:"))
            }),
            Self::Dir(pats) => with_text(s, &mut |t| {
                pats.iter().any(|p| match_word(t, p, icase, b"/?"))
            }),
            Self::Reg(set) => {
                with_text(s, &mut |t| set.as_ref().is_some_and(|set| set.is_match(t)))
            }
        }
    }
}

fn fold(b: u8, icase: bool) -> u8 {
    if icase { b.to_ascii_lowercase() } else { b }
}

fn str_eq(pattern: &[u8], t: &[u8], icase: bool) -> bool {
    if icase {
        pattern.eq_ignore_ascii_case(t)
    } else {
        pattern == t
    }
}

/// Known methods compare by identity (so `-i get` does not match `GET`, as in
/// HAProxy); other methods compare as strings, honouring `-i`.
fn meth_match(pats: &[Box<str>], icase: bool, m: &str) -> bool {
    let known = KNOWN_METHODS.contains(&m);
    pats.iter().any(|p| {
        if KNOWN_METHODS.contains(&p.as_ref()) {
            p.as_ref() == m
        } else {
            !known && str_eq(p.as_bytes(), m.as_bytes(), icase)
        }
    })
}

/// `pattern` (already lower-cased under `-i`) occurs in `t`.
fn contains(t: &[u8], pattern: &[u8], icase: bool) -> bool {
    if pattern.is_empty() {
        return true;
    }
    t.windows(pattern.len()).any(|w| str_eq(pattern, w, icase))
}

/// HAProxy's word match: `pattern`, stripped of leading and trailing delimiters,
/// occurs in `t` bounded by delimiters or the ends of `t`.
fn match_word(t: &[u8], pattern: &[u8], icase: bool, delims: &[u8]) -> bool {
    let is_delim = |b: &u8| delims.contains(b);
    let start = pattern
        .iter()
        .position(|b| !is_delim(b))
        .unwrap_or(pattern.len());
    let end = pattern
        .iter()
        .rposition(|b| !is_delim(b))
        .map_or(start, |i| i + 1);
    let Some(p) = pattern.get(start..end) else {
        return false;
    };
    if p.is_empty() || p.len() > t.len() {
        return false;
    }
    let mut may_match = true;
    for i in 0..=t.len() - p.len() {
        let Some(c) = t.get(i) else {
            break;
        };
        if is_delim(c) {
            may_match = true;
            continue;
        }
        if may_match {
            let hit = t.get(i..i + p.len()).is_some_and(|w| str_eq(p, w, icase));
            let bounded = t.get(i + p.len()).is_none_or(is_delim);
            if hit && bounded {
                return true;
            }
        }
        may_match = false;
    }
    false
}

fn as_int(s: Sample<'_>) -> Option<i64> {
    match s {
        Sample::Int(v) => Some(v),
        Sample::Bool(b) => Some(i64::from(b)),
        Sample::Str(t) => leading_int(t),
        Sample::Ip(IpAddr::V4(a)) => Some(i64::from(u32::from(a))),
        Sample::Ip(IpAddr::V6(_)) | Sample::Meth(_) => None,
    }
}

fn as_ip(s: Sample<'_>) -> Option<IpAddr> {
    match s {
        Sample::Ip(a) => Some(a),
        Sample::Str(t) => parse_ip(t),
        // HAProxy's int-to-address cast keeps the low 32 bits.
        Sample::Int(v) => Some(IpAddr::V4(Ipv4Addr::from(v as u32))),
        Sample::Bool(_) | Sample::Meth(_) => None,
    }
}

fn ip_in(v4: &RangeSet<u32>, v6: &RangeSet<u128>, a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => v4.contains(u32::from(a)) || v6.contains(u128::from(a.to_ipv6_mapped())),
        IpAddr::V6(a) => {
            v6.contains(u128::from(a)) || v6_to_v4(a).is_some_and(|m| v4.contains(u32::from(m)))
        }
    }
}

/// Calls `f` with the sample as text, formatting numbers and addresses on the stack.
fn with_text(s: Sample<'_>, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    match s {
        Sample::Str(t) | Sample::Meth(t) => f(t.as_bytes()),
        Sample::Bool(b) => f(if b { b"1" } else { b"0" }),
        Sample::Int(v) => {
            let mut buf = StackBuf::default();
            let _ = write!(buf, "{v}");
            f(buf.as_bytes())
        }
        Sample::Ip(a) => {
            let mut buf = StackBuf::default();
            let _ = write!(buf, "{a}");
            f(buf.as_bytes())
        }
    }
}

/// Calls `f` with `t` lower-cased, on the stack when short enough.
fn with_lower(t: &[u8], f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let mut buf = [0u8; 256];
    match buf.get_mut(..t.len()) {
        Some(dst) => {
            for (d, s) in dst.iter_mut().zip(t) {
                *d = s.to_ascii_lowercase();
            }
            f(dst)
        }
        None => f(&t.to_ascii_lowercase()),
    }
}

/// Enough for any integer or address rendering.
struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl Default for StackBuf {
    fn default() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }
}

impl StackBuf {
    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert!(match_word(b"/a/b/c", b"b", false, b"/?"));
        assert!(match_word(b"/a/b/c", b"/b/", false, b"/?"));
        assert!(match_word(b"/a/b/c", b"a/b", false, b"/?"));
        assert!(!match_word(b"/a/bc", b"b", false, b"/?"));
        assert!(!match_word(b"/ab/c", b"b", false, b"/?"));
        assert!(match_word(b"/x/B?q", b"b", true, b"/?"));
        assert!(match_word(b"www.example.com", b"example", false, b"/?.:"));
        assert!(match_word(b"www.example.com:80", b"com", false, b"/?.:"));
        assert!(!match_word(
            b"www.myexample.com",
            b"example",
            false,
            b"/?.:"
        ));
        assert!(!match_word(b"/a", b"/", false, b"/?"));
    }

    #[test]
    fn ranges_merge() {
        let r = RangeSet::new(vec![(5, 7), (1, 2), (3, 4), (10, 12)], |v: i64| {
            v.checked_add(1)
        });
        assert_eq!(r.ranges, [(1, 7), (10, 12)]);
        assert!(r.contains(1) && r.contains(7) && r.contains(11));
        assert!(!r.contains(0) && !r.contains(8) && !r.contains(13));
        let full = RangeSet::new(vec![(i64::MIN, i64::MAX), (3, 4)], |v: i64| {
            v.checked_add(1)
        });
        assert!(full.contains(i64::MIN) && full.contains(i64::MAX));
    }

    #[test]
    fn methods() {
        let p: Vec<Box<str>> = vec!["GET".into(), "get".into(), "PURGE".into()];
        assert!(meth_match(&p, false, "GET"));
        assert!(!meth_match(&p, false, "HEAD"));
        assert!(meth_match(&p, false, "PURGE"));
        assert!(!meth_match(&p, false, "purge"));
        assert!(meth_match(&p, true, "purge"));
        let lower: Vec<Box<str>> = vec!["get".into()];
        assert!(!meth_match(&lower, true, "GET"));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn pats() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec("[abAB/.]{0,5}", 0..20)
    }

    fn build(m: MatchMethod, icase: bool, p: &[String]) -> Matcher {
        let p: Vec<Pattern> = p.iter().map(|s| Pattern::Text(s.clone())).collect();
        Matcher::build(m, icase, &p).unwrap_or(Matcher::Found)
    }

    proptest! {
        #[test]
        fn beg_end_str_agree_with_naive(p in pats(), input in "[abAB/.]{0,8}", icase: bool) {
            let norm = |s: &str| if icase { s.to_ascii_lowercase() } else { s.to_string() };
            let i = norm(&input);
            let beg = p.iter().any(|x| i.starts_with(&norm(x)));
            let end = p.iter().any(|x| i.ends_with(&norm(x)));
            let eq = p.iter().any(|x| i == norm(x));
            let s = Sample::Str(&input);
            prop_assert_eq!(build(MatchMethod::Beg, icase, &p).matches(icase, s), beg);
            prop_assert_eq!(build(MatchMethod::End, icase, &p).matches(icase, s), end);
            prop_assert_eq!(build(MatchMethod::Str, icase, &p).matches(icase, s), eq);
        }

        #[test]
        fn ranges_agree_with_naive(r in proptest::collection::vec((-50i64..50, 0i64..20), 0..20), v in -80i64..80) {
            let ranges: Vec<(i64, i64)> = r.iter().map(|(a, l)| (*a, a + l)).collect();
            let naive = ranges.iter().any(|(a, b)| *a <= v && v <= *b);
            let set = RangeSet::new(ranges, |x: i64| x.checked_add(1));
            prop_assert_eq!(set.contains(v), naive);
        }

        #[test]
        fn ip_agrees_with_naive(nets in proptest::collection::vec((any::<u32>(), 0u32..=32), 0..20), a: u32) {
            let mut words = Vec::new();
            let mut naive = false;
            for (addr, len) in &nets {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                naive |= (a & mask) == (addr & mask);
                words.push(Pattern::Ip(IpNet::parse(&format!("{}/{len}", Ipv4Addr::from(*addr))).unwrap()));
            }
            let m = Matcher::build(MatchMethod::Ip, false, &words).unwrap();
            prop_assert_eq!(m.matches(false, Sample::Ip(IpAddr::V4(Ipv4Addr::from(a)))), naive);
        }
    }
}
