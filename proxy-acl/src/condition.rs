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
        if rest.is_empty() {
            return Err(AclError::Syntax(format!(
                "missing condition after '{first}'"
            )));
        }
        let mut alternatives = vec![Vec::new()];
        let mut negated = false;
        let mut i = 0;
        while i < rest.len() {
            let w = rest[i].as_str();
            match w {
                "||" | "or" => {
                    if negated || alternatives.last().is_some_and(Vec::is_empty) {
                        return Err(AclError::Syntax(format!(
                            "missing ACL before '{w}' in condition"
                        )));
                    }
                    alternatives.push(Vec::new());
                }
                _ => {
                    // HAProxy strips every leading `!` of a word, each one
                    // toggling the negation: `!a`, `! a`, `!!a`, `!{ ... }`.
                    let name = w.trim_start_matches('!');
                    if (w.len() - name.len()) % 2 == 1 {
                        negated = !negated;
                    }
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
            }
            i += 1;
        }
        if negated || alternatives.last().is_some_and(Vec::is_empty) {
            return Err(AclError::Syntax("condition ends without an ACL".into()));
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
        for bad in [
            "if", "when a", "if a ||", "if || a", "if { a", "if !", "if a }",
        ] {
            assert!(Condition::parse(&w(bad)).is_err(), "{bad}");
        }
    }
}
