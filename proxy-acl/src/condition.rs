//! `if` / `unless` conditions: terms joined by implicit AND, alternatives
//! separated by `||` (or `or`), each term optionally negated with `!`, naming an
//! ACL or holding an anonymous one between `{` and `}`.

use crate::AclError;

/// Whether the condition applies when it matches (`if`) or when it does not (`unless`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// `if COND`
    If,
    /// `unless COND`
    Unless,
}

/// What a term refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclRef {
    /// A named ACL, declared by `acl` lines or predefined (`TRUE`, `LOCALHOST`...).
    Named(String),
    /// An anonymous ACL: the words between `{` and `}`.
    Anonymous(Vec<String>),
}

/// One term of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// `!` before the term.
    pub negated: bool,
    /// The ACL the term tests.
    pub acl: AclRef,
}

/// A full condition: `polarity` applied to an OR of ANDs of terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// `if` or `unless`.
    pub polarity: Polarity,
    /// Alternatives (OR); each is a list of terms that must all match (AND).
    pub alternatives: Vec<Vec<Term>>,
}

impl Condition {
    /// Parses `if ...` or `unless ...` from its words, the keyword first.
    pub fn parse(words: &[String]) -> Result<Self, AclError> {
        let (first, rest) = words
            .split_first()
            .ok_or_else(|| AclError::Syntax("missing 'if' or 'unless'".into()))?;
        let polarity = match first.as_str() {
            "if" => Polarity::If,
            "unless" => Polarity::Unless,
            other => {
                return Err(AclError::Syntax(format!(
                    "expects 'if' or 'unless' followed by a condition but found '{other}'"
                )));
            }
        };
        let mut alternatives = vec![Vec::new()];
        let mut negated = false;
        let mut i = 0;
        while i < rest.len() {
            let w = rest[i].as_str();
            // HAProxy strips every leading `!` of a word, each one toggling the
            // negation: `!a`, `! a`, `!!a`, `!{ ... }`. What is left may be a
            // separator, which drops a pending negation (`!|| a` is `|| a`).
            let name = w.trim_start_matches('!');
            if (w.len() - name.len()) % 2 == 1 {
                negated = !negated;
            }
            if name == "||" || name.eq_ignore_ascii_case("or") {
                // Empty alternatives (`|| a`, `a || || b`, `a ||`) are
                // accepted and hold nothing, as HAProxy does.
                if alternatives
                    .last()
                    .is_some_and(|a: &Vec<Term>| !a.is_empty())
                {
                    alternatives.push(Vec::new());
                }
                negated = false;
            } else {
                match name {
                    "" => {}
                    "{" => {
                        let close =
                            rest[i + 1..].iter().position(|x| x == "}").ok_or_else(|| {
                                AclError::Syntax("missing '}' after anonymous ACL".into())
                            })?;
                        let inner = rest[i + 1..i + 1 + close].to_vec();
                        if inner.is_empty() {
                            return Err(AclError::Syntax("empty anonymous ACL '{ }'".into()));
                        }
                        push(&mut alternatives, &mut negated, AclRef::Anonymous(inner));
                        i += close + 1;
                    }
                    "}" => return Err(AclError::Syntax("unexpected '}' in condition".into())),
                    _ => push(
                        &mut alternatives,
                        &mut negated,
                        AclRef::Named(name.to_string()),
                    ),
                }
            }
            i += 1;
        }
        // A condition with no ACL at all (`if`, `unless !`, `if ||`) is
        // accepted too: it never matches, so `unless` always applies.
        if alternatives.last().is_some_and(Vec::is_empty) {
            alternatives.pop();
        }
        Ok(Self {
            polarity,
            alternatives,
        })
    }

    /// Names of every named ACL the condition refers to, in order of appearance.
    pub fn acl_names(&self) -> impl Iterator<Item = &str> {
        self.alternatives
            .iter()
            .flatten()
            .filter_map(|t| match &t.acl {
                AclRef::Named(n) => Some(n.as_str()),
                AclRef::Anonymous(_) => None,
            })
    }
}

fn push(alternatives: &mut [Vec<Term>], negated: &mut bool, acl: AclRef) {
    if let Some(last) = alternatives.last_mut() {
        last.push(Term {
            negated: *negated,
            acl,
        });
    }
    *negated = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn and_or_not_anonymous() {
        let c = Condition::parse(&w("if a !b || { path_beg /x } c")).unwrap();
        assert_eq!(c.polarity, Polarity::If);
        assert_eq!(c.alternatives.len(), 2);
        assert!(c.alternatives[0][1].negated);
        assert_eq!(c.acl_names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(
            c.alternatives[1][0].acl,
            AclRef::Anonymous(w("path_beg /x"))
        );
    }

    #[test]
    fn leading_bangs_toggle_negation() {
        let c = Condition::parse(&w("if !{ path /x } !!a ! ! b !!!c")).unwrap();
        let terms = &c.alternatives[0];
        assert_eq!(terms[0].acl, AclRef::Anonymous(w("path /x")));
        assert!(terms[0].negated);
        assert_eq!(terms[1].acl, AclRef::Named("a".into()));
        assert!(!terms[1].negated);
        assert!(!terms[2].negated);
        assert!(terms[3].negated);
    }

    #[test]
    fn errors() {
        for bad in ["", "when a", "if { a", "if a }", "if { }", "unless !{ }"] {
            assert!(Condition::parse(&w(bad)).is_err(), "{bad}");
        }
    }

    /// What HAProxy 2.6 accepts (`haproxy -c`) around separators: `or` in
    /// any case, a `!` before a separator dropped, empty alternatives and
    /// empty conditions holding nothing.
    #[test]
    fn separators_as_haproxy_reads_them() {
        let names = |s: &str| -> Vec<Vec<(bool, String)>> {
            Condition::parse(&w(s))
                .unwrap()
                .alternatives
                .iter()
                .map(|alt| {
                    alt.iter()
                        .map(|t| match &t.acl {
                            AclRef::Named(n) => (t.negated, n.clone()),
                            AclRef::Anonymous(x) => (t.negated, x.join(" ")),
                        })
                        .collect()
                })
                .collect()
        };
        let a = || vec![(false, "a".to_string())];
        let b = || vec![(false, "b".to_string())];
        assert_eq!(names("if a OR b"), [a(), b()]);
        assert_eq!(names("if a !or b"), [a(), b()]);
        assert_eq!(names("if !|| a"), [a()]);
        assert_eq!(names("if ! || a"), [a()]);
        assert_eq!(names("if || a"), [a()]);
        assert_eq!(names("if a || || b"), [a(), b()]);
        assert_eq!(names("if a ||"), [a()]);
        assert_eq!(names("if !a || !b")[1], [(true, "b".to_string())]);
        for empty in ["if", "unless", "if ||", "if !", "unless or"] {
            assert!(names(empty).is_empty(), "{empty}");
        }
    }

    /// The acl_expr fuzz target's finding (fuzz/corpus/acl_expr/regress-bang-separator):
    /// `!||` read as a negated ACL named `||`, which printed back as `! ||`
    /// and parsed as another condition.
    #[test]
    fn bang_separator_prints_back_to_itself() {
        let c = Condition::parse(&w("unless { src 129.0.0.0/8 } !|| tatic")).unwrap();
        assert_eq!(c.acl_names().collect::<Vec<_>>(), ["tatic"]);
        let mut words = vec!["unless".to_string()];
        for (i, alt) in c.alternatives.iter().enumerate() {
            if i > 0 {
                words.push("||".into());
            }
            for t in alt {
                if t.negated {
                    words.push("!".into());
                }
                match &t.acl {
                    AclRef::Named(n) => words.push(n.clone()),
                    AclRef::Anonymous(x) => {
                        words.push("{".into());
                        words.extend(x.iter().cloned());
                        words.push("}".into());
                    }
                }
            }
        }
        assert_eq!(Condition::parse(&words), Ok(c));
    }
}
