//! One ACL expression: the words after `acl NAME`, or inside `{ ... }`:
//! `CRITERION [FLAGS] [OPERATOR] [PATTERN]...`.
//!
//! Parsing resolves the criterion, reads the flags (`-i -n -m -f -u -M --`) and
//! checks every pattern for the chosen match method, with HAProxy's wording on
//! failure. Pattern files named with `-f` are only recorded here; they are read
//! when the expression is compiled.

use crate::AclError;
use crate::fetch::{Fetch, MatchMethod};
use crate::pattern::{IntRange, IpNet};

/// One typed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Text for the string methods (`str beg end sub dom dir`), regexes and methods.
    Text(String),
    /// An integer range for `int` and `len`.
    Int(IntRange),
    /// An address or network for `ip`.
    Ip(IpNet),
}

/// A parsed ACL expression (criterion, flags and patterns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclExpr {
    words: Vec<String>,
    fetch: Fetch,
    method: MatchMethod,
    ignore_case: bool,
    files: Vec<String>,
    patterns: Vec<Pattern>,
}

/// HAProxy's integer comparison operators, kept across the following patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

impl AclExpr {
    /// Parses the words of an ACL expression, criterion first.
    pub fn parse(words: &[String]) -> Result<Self, AclError> {
        let (criterion, rest) = words
            .split_first()
            .ok_or_else(|| AclError::Syntax("missing ACL criterion".into()))?;
        let fetch = Fetch::parse(criterion)?;
        let mut method = None;
        let mut ignore_case = false;
        let mut files = Vec::new();
        let mut i = 0;
        while let Some(w) = rest.get(i) {
            if !w.starts_with('-') {
                break;
            }
            i += 1;
            match w.as_str() {
                "--" => break,
                "-i" => ignore_case = true,
                // Names are never resolved here, so "no DNS" holds already.
                "-n" => {}
                // Map-file marker: patterns stay plain keys.
                "-M" => {}
                "-u" => {
                    if let Some(id) = rest.get(i) {
                        i += 1;
                        if id.parse::<i64>().is_err() {
                            return Err(AclError::Pattern(
                                "the argument of -u must be an integer".into(),
                            ));
                        }
                    }
                }
                "-f" => {
                    let file = rest.get(i).map(String::as_str).unwrap_or_default();
                    i += 1;
                    files.push(file.to_string());
                }
                "-m" => {
                    let name = rest.get(i).map(String::as_str).unwrap_or_default();
                    i += 1;
                    if !files.is_empty() {
                        return Err(AclError::Pattern(
                            "'-m' must only be specified before patterns and files in parsing ACL expression".into(),
                        ));
                    }
                    let m = MatchMethod::parse(name).ok_or_else(|| {
                        AclError::Pattern(format!(
                            "unknown matching method '{name}' when parsing ACL expression"
                        ))
                    })?;
                    method = Some(m);
                }
                other => {
                    return Err(AclError::Pattern(format!(
                        "'{other}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                    )));
                }
            }
        }
        let method = match method {
            // `-m str` on `method` still means the method matcher's string compare.
            Some(m) => m,
            None if fetch.needs_match_method() => {
                return Err(AclError::Pattern(format!(
                    "matching method must be specified first (using '-m') when using a sample fetch of this type ('{}')",
                    fetch.keyword()
                )));
            }
            None => fetch.default_match(),
        };
        if !fetch.out_type().allows(method) {
            return Err(AclError::Pattern(format!(
                "matching method '{}' cannot be used with fetch keyword '{}'",
                method.name(),
                fetch.keyword()
            )));
        }
        let mut patterns = Vec::new();
        let mut op = Op::Eq;
        for w in rest.get(i..).unwrap_or_default() {
            if matches!(method, MatchMethod::Int | MatchMethod::Len) {
                if let Some(o) = parse_op(w) {
                    op = o;
                    continue;
                }
            }
            if let Some(p) = parse_pattern(method, ignore_case, w, op)? {
                patterns.push(p);
            }
        }
        Ok(Self {
            words: words.to_vec(),
            fetch,
            method,
            ignore_case,
            files,
            patterns,
        })
    }

    /// The words the expression was parsed from.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The resolved criterion.
    pub fn fetch(&self) -> &Fetch {
        &self.fetch
    }

    /// The match method in effect (`-m`, or the criterion's default).
    pub fn match_method(&self) -> MatchMethod {
        self.method
    }

    /// Whether `-i` was given.
    pub fn ignore_case(&self) -> bool {
        self.ignore_case
    }

    /// Pattern files named with `-f`, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Patterns given on the line (not those of `-f` files).
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether the expression can never match for lack of patterns (HAProxy warns
    /// about this). `-m found` and `-m bool` need none.
    pub fn has_no_pattern(&self) -> bool {
        self.patterns.is_empty()
            && self.files.is_empty()
            && !matches!(self.method, MatchMethod::Found | MatchMethod::Bool)
    }
}

fn parse_op(w: &str) -> Option<Op> {
    Some(match w {
        "eq" => Op::Eq,
        "ge" => Op::Ge,
        "gt" => Op::Gt,
        "le" => Op::Le,
        "lt" => Op::Lt,
        _ => return None,
    })
}

/// Parses one pattern for `method`; `None` when the method takes no patterns.
fn parse_pattern(
    method: MatchMethod,
    ignore_case: bool,
    w: &str,
    op: Op,
) -> Result<Option<Pattern>, AclError> {
    Ok(Some(match method {
        MatchMethod::Found | MatchMethod::Bool => return Ok(None),
        MatchMethod::Int | MatchMethod::Len => {
            let r = IntRange::parse(w).map_err(AclError::Pattern)?;
            // A range ignores the operator, as in HAProxy.
            let r = if w.contains(':') || op == Op::Eq {
                r
            } else {
                let n = r.min;
                let (min, max) = match op {
                    Op::Ge => (n, i64::MAX),
                    Op::Gt => (n.saturating_add(1), i64::MAX),
                    Op::Le => (i64::MIN, n),
                    Op::Lt => (i64::MIN, n.saturating_sub(1)),
                    Op::Eq => (n, n),
                };
                IntRange { min, max }
            };
            Pattern::Int(r)
        }
        MatchMethod::Ip => Pattern::Ip(IpNet::parse(w).map_err(AclError::Pattern)?),
        MatchMethod::Reg => {
            regex::bytes::RegexBuilder::new(w)
                .case_insensitive(ignore_case)
                .unicode(false)
                .build()
                .map_err(|e| {
                    AclError::Pattern(format!(
                        "regex '{w}' is invalid (error={})",
                        first_line(&e.to_string())
                    ))
                })?;
            Pattern::Text(w.to_string())
        }
        MatchMethod::Str
        | MatchMethod::Beg
        | MatchMethod::End
        | MatchMethod::Sub
        | MatchMethod::Dom
        | MatchMethod::Dir
        | MatchMethod::Meth => Pattern::Text(w.to_string()),
    }))
}

/// Parses one line of a pattern file, which holds no operators.
pub(crate) fn parse_file_pattern(
    method: MatchMethod,
    ignore_case: bool,
    w: &str,
) -> Result<Option<Pattern>, AclError> {
    parse_pattern(method, ignore_case, w, Op::Eq)
}

fn first_line(s: &str) -> &str {
    s.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map_or(s, |l| l.trim_start_matches("error:").trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn err(s: &str) -> String {
        match AclExpr::parse(&w(s)) {
            Err(e) => e.to_string(),
            Ok(e) => format!("ok {e:?}"),
        }
    }

    fn ints(s: &str) -> Vec<(i64, i64)> {
        AclExpr::parse(&w(s))
            .map(|e| {
                e.patterns()
                    .iter()
                    .filter_map(|p| match p {
                        Pattern::Int(r) => Some((r.min, r.max)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn flags_and_patterns() {
        let e = AclExpr::parse(&w("path_beg -i -n -u 3 /static /image")).unwrap();
        assert_eq!(e.match_method(), MatchMethod::Beg);
        assert!(e.ignore_case());
        assert_eq!(
            e.patterns(),
            [
                Pattern::Text("/static".into()),
                Pattern::Text("/image".into())
            ]
        );
        let e = AclExpr::parse(&w("path -m beg -f a.lst -f b.lst /x -i")).unwrap();
        assert_eq!(e.files(), ["a.lst", "b.lst"]);
        assert_eq!(e.patterns().len(), 2, "a flag after a pattern is a pattern");
        let e = AclExpr::parse(&w("src_port -- -3")).unwrap();
        assert_eq!(ints("src_port -- -3"), [(-3, -3)]);
        assert!(!e.has_no_pattern());
        assert!(AclExpr::parse(&w("path")).unwrap().has_no_pattern());
        assert!(
            !AclExpr::parse(&w("hdr(x) -m found"))
                .unwrap()
                .has_no_pattern()
        );
    }

    #[test]
    fn operators() {
        assert_eq!(ints("src_port gt 1024"), [(1025, i64::MAX)]);
        assert_eq!(
            ints("src_port ge 1024 lt 10"),
            [(1024, i64::MAX), (i64::MIN, 9)]
        );
        assert_eq!(
            ints("src_port le 5 6 eq 7"),
            [(i64::MIN, 5), (i64::MIN, 6), (7, 7)]
        );
        assert_eq!(ints("src_port gt 1:3"), [(1, 3)]);
        assert_eq!(ints("path_len gt 3"), [(4, i64::MAX)]);
        assert_eq!(ints("hdr_cnt gt"), []);
        // Not an operator for string matches.
        let e = AclExpr::parse(&w("path gt")).unwrap();
        assert_eq!(e.patterns(), [Pattern::Text("gt".into())]);
    }

    // Wording checked against `haproxy -c` 2.6.12.
    #[test]
    fn errors_like_haproxy() {
        assert_eq!(
            err("path_beg -z /x"),
            "'-z' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
        );
        assert_eq!(
            err("src_port -3"),
            "'-3' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
        );
        assert_eq!(err("hdr_cnt(host) abc"), "'abc' is not a number");
        assert_eq!(
            err("src 1.2.3.400"),
            "'1.2.3.400' is not a valid IPv4 or IPv6 address"
        );
        assert!(err("path_reg (abc").starts_with("regex '(abc' is invalid (error="));
        assert_eq!(
            err("path -m foo /x"),
            "unknown matching method 'foo' when parsing ACL expression"
        );
        assert_eq!(
            err("path -m"),
            "unknown matching method '' when parsing ACL expression"
        );
        assert_eq!(err("src_port 1:abc"), "'1:abc' is not a valid number range");
        assert_eq!(err("path -u x"), "the argument of -u must be an integer");
        assert_eq!(
            err("path -f x -m beg y"),
            "'-m' must only be specified before patterns and files in parsing ACL expression"
        );
        assert_eq!(
            err("ssl_fc -m ip 1.2.3.4"),
            "matching method 'ip' cannot be used with fetch keyword 'ssl_fc'"
        );
        assert_eq!(
            err("method -m int 1"),
            "matching method 'int' cannot be used with fetch keyword 'method'"
        );
        assert_eq!(
            err("method -m bool"),
            "matching method 'bool' cannot be used with fetch keyword 'method'"
        );
        assert_eq!(err(""), "missing ACL criterion");
        // Accepted by haproxy -c as well.
        for ok in [
            "src -m beg /x",
            "path -m ip 1.2.3.4/24",
            "path -m int 1",
            "src_port -m reg ^1",
            "method -m found",
            "method -m beg G",
            "path -m found x",
            "src -i 1.2.3.4",
            "path -M x",
            "src --",
        ] {
            assert!(AclExpr::parse(&w(ok)).is_ok(), "{ok}");
        }
    }
}
