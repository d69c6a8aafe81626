//! Compilation: named ACL declarations and conditions turned once into matchers,
//! then evaluated against a [`RequestView`].
//!
//! An [`AclSet`] collects `acl NAME ...` lines (several lines with one name are
//! OR-ed) and resolves a [`Condition`] into a [`CompiledCondition`], looking names
//! up among declared ACLs first and HAProxy's predefined ones second. Pattern
//! files are read through a caller-given [`PatternLoader`] at that time, never
//! during evaluation.

use std::collections::HashMap;
use std::sync::Arc;

use crate::condition::{AclRef, Condition, Polarity};
use crate::expr::{AclExpr, parse_file_pattern};
use crate::fetch::Fetch;
use crate::matcher::Matcher;
use crate::view::RequestView;
use crate::{AclError, PREDEFINED_DEFINITIONS};

/// Reads pattern files named with `-f`.
pub trait PatternLoader {
    /// Returns the whole content of `path`, or why it cannot be read.
    fn load(&self, path: &str) -> Result<String, String>;
}

impl<F: Fn(&str) -> Result<String, String>> PatternLoader for F {
    fn load(&self, path: &str) -> Result<String, String> {
        self(path)
    }
}

impl PatternLoader for HashMap<String, String> {
    fn load(&self, path: &str) -> Result<String, String> {
        self.get(path).cloned().ok_or_else(|| "no such file".into())
    }
}

/// A loader for configurations without pattern files: every `-f` fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl PatternLoader for NoFiles {
    fn load(&self, _path: &str) -> Result<String, String> {
        Err("pattern files are not available here".into())
    }
}

/// One ACL expression ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledAcl {
    fetch: Fetch,
    ignore_case: bool,
    matcher: Matcher,
}

impl CompiledAcl {
    /// Compiles `expr`, reading its pattern files through `loader`.
    pub fn compile(expr: &AclExpr, loader: &dyn PatternLoader) -> Result<Self, AclError> {
        let method = expr.match_method();
        let icase = expr.ignore_case();
        let mut patterns = expr.patterns().to_vec();
        for file in expr.files() {
            let text = loader
                .load(file)
                .map_err(|reason| AclError::FileUnreadable {
                    file: file.clone(),
                    reason,
                })?;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim_matches([' ', '\t', '\r']);
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let p =
                    parse_file_pattern(method, icase, line).map_err(|e| AclError::PatternFile {
                        file: file.clone(),
                        line: n + 1,
                        message: e.to_string(),
                    })?;
                patterns.extend(p);
            }
        }
        Ok(Self {
            fetch: expr.fetch().clone(),
            ignore_case: icase,
            matcher: Matcher::build(method, icase, &patterns)?,
        })
    }

    /// Whether any sample the request yields matches a pattern.
    pub fn matches(&self, view: &dyn RequestView) -> bool {
        self.fetch
            .any(view, &mut |s| self.matcher.matches(self.ignore_case, s))
    }
}

/// A named ACL: the OR of its lines.
#[derive(Debug, Clone)]
struct NamedAcl {
    lines: Vec<CompiledAcl>,
}

impl NamedAcl {
    fn matches(&self, view: &dyn RequestView) -> bool {
        self.lines.iter().any(|l| l.matches(view))
    }
}

/// Named ACLs of one proxy section, compiled as they are declared.
#[derive(Debug, Clone, Default)]
pub struct AclSet {
    named: HashMap<String, Arc<NamedAcl>>,
}

impl AclSet {
    /// An empty set (predefined ACLs are always available).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one `acl NAME EXPR` line; a name declared again is OR-ed with its
    /// earlier lines. Conditions compiled before see the lines declared before them.
    pub fn declare(
        &mut self,
        name: &str,
        expr: &AclExpr,
        loader: &dyn PatternLoader,
    ) -> Result<(), AclError> {
        let acl = CompiledAcl::compile(expr, loader)?;
        let entry = self
            .named
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(NamedAcl { lines: Vec::new() }));
        Arc::make_mut(entry).lines.push(acl);
        Ok(())
    }

    /// Whether `name` was declared (predefined names excluded).
    pub fn contains(&self, name: &str) -> bool {
        self.named.contains_key(name)
    }

    /// Resolves every term of `cond`. Unknown names fail with
    /// [`AclError::UnknownAcl`]; anonymous ACLs are parsed and compiled here.
    pub fn compile(
        &self,
        cond: &Condition,
        loader: &dyn PatternLoader,
    ) -> Result<CompiledCondition, AclError> {
        let mut alternatives = Vec::with_capacity(cond.alternatives.len());
        for alt in &cond.alternatives {
            let mut terms = Vec::with_capacity(alt.len());
            for term in alt {
                let acl = match &term.acl {
                    AclRef::Named(name) => self.resolve(name)?,
                    AclRef::Anonymous(words) => {
                        let expr = AclExpr::parse(words)?;
                        Arc::new(NamedAcl {
                            lines: vec![CompiledAcl::compile(&expr, loader)?],
                        })
                    }
                };
                terms.push(CompiledTerm {
                    negated: term.negated,
                    acl,
                });
            }
            alternatives.push(terms);
        }
        Ok(CompiledCondition {
            polarity: cond.polarity,
            alternatives,
        })
    }

    fn resolve(&self, name: &str) -> Result<Arc<NamedAcl>, AclError> {
        if let Some(acl) = self.named.get(name) {
            return Ok(Arc::clone(acl));
        }
        let (_, def) = PREDEFINED_DEFINITIONS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| AclError::UnknownAcl(name.to_string()))?;
        let words: Vec<String> = def.split_whitespace().map(String::from).collect();
        let expr = AclExpr::parse(&words)?;
        Ok(Arc::new(NamedAcl {
            lines: vec![CompiledAcl::compile(&expr, &NoFiles)?],
        }))
    }
}

#[derive(Debug, Clone)]
struct CompiledTerm {
    negated: bool,
    acl: Arc<NamedAcl>,
}

/// A condition with every ACL resolved and compiled; cheap to clone and to share.
#[derive(Debug, Clone)]
pub struct CompiledCondition {
    polarity: Polarity,
    alternatives: Vec<Vec<CompiledTerm>>,
}

impl CompiledCondition {
    /// Whether the rule guarded by this condition applies: the OR of ANDs of
    /// terms, inverted for `unless`.
    pub fn evaluate(&self, view: &dyn RequestView) -> bool {
        let matched = self
            .alternatives
            .iter()
            .any(|alt| alt.iter().all(|t| t.acl.matches(view) != t.negated));
        match self.polarity {
            Polarity::If => matched,
            Polarity::Unless => !matched,
        }
    }

    /// `if` or `unless`.
    pub fn polarity(&self) -> Polarity {
        self.polarity
    }
}
