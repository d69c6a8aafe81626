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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    struct Req {
        method: &'static str,
        url: &'static str,
        headers: Vec<(&'static str, &'static str)>,
        src: &'static str,
    }

    impl RequestView for Req {
        fn method(&self) -> &str {
            self.method
        }
        fn url(&self) -> &str {
            self.url
        }
        fn version(&self) -> &str {
            "1.1"
        }
        fn header_at(&self, index: usize) -> Option<(&str, &str)> {
            self.headers.get(index).copied()
        }
        fn src(&self) -> Option<SocketAddr> {
            self.src.parse().ok()
        }
        fn dst(&self) -> Option<SocketAddr> {
            None
        }
    }

    fn req(method: &'static str, url: &'static str) -> Req {
        Req {
            method,
            url,
            headers: vec![("Host", "example.com"), ("Content-Length", "3")],
            src: "192.0.2.7:5000",
        }
    }

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn set(lines: &[&str], loader: &dyn PatternLoader) -> AclSet {
        let mut set = AclSet::new();
        for l in lines {
            let words = w(l);
            let (name, expr) = words.split_first().unwrap();
            set.declare(name, &AclExpr::parse(expr).unwrap(), loader)
                .unwrap();
        }
        set
    }

    fn eval(set: &AclSet, cond: &str, r: &Req) -> bool {
        let c = Condition::parse(&w(cond)).unwrap();
        set.compile(&c, &NoFiles).unwrap().evaluate(r)
    }

    #[test]
    fn same_name_lines_are_ored() {
        let s = set(
            &[
                "url_static path_beg -i /static /image /js",
                "url_static path_end -i .html .jpg .gif .png .css .js",
            ],
            &NoFiles,
        );
        assert!(eval(&s, "if url_static", &req("GET", "/STATIC/x")));
        assert!(eval(&s, "if url_static", &req("GET", "/a/b.PNG?x")));
        assert!(!eval(&s, "if url_static", &req("GET", "/a/b.php")));
        assert!(eval(&s, "unless url_static", &req("GET", "/a/b.php")));
    }

    #[test]
    fn and_or_not_predefined_anonymous() {
        let s = set(&["api path_beg /api", "local src 192.0.2.0/24"], &NoFiles);
        let r = req("POST", "/api/v1");
        assert!(eval(&s, "if api local", &r));
        assert!(!eval(&s, "if api !local", &r));
        assert!(eval(&s, "if api !local || METH_POST", &r));
        assert!(eval(
            &s,
            "if !METH_GET HTTP_1.1 HTTP_CONTENT HTTP_URL_SLASH",
            &r
        ));
        assert!(!eval(&s, "if LOCALHOST || FALSE || HTTP_URL_ABS", &r));
        assert!(eval(
            &s,
            "if TRUE { hdr(host) -i EXAMPLE.com } ! { src_port lt 1024 }",
            &r
        ));
        assert!(eval(&s, "if METH_GET", &req("HEAD", "/")));
        assert!(eval(&s, "if HTTP_URL_STAR", &req("OPTIONS", "*")));
        assert!(eval(&s, "if HTTP_URL_ABS", &req("GET", "http://h/")));
    }

    #[test]
    fn declared_names_shadow_predefined_ones() {
        let s = set(&["TRUE always_false"], &NoFiles);
        assert!(!eval(&s, "if TRUE", &req("GET", "/")));
    }

    #[test]
    fn unknown_acl_and_bad_anonymous() {
        let s = AclSet::new();
        let c = Condition::parse(&w("if nope")).unwrap();
        assert_eq!(
            s.compile(&c, &NoFiles).unwrap_err().to_string(),
            "no such ACL : 'nope'"
        );
        let c = Condition::parse(&w("if { nope_fetch x }")).unwrap();
        assert!(matches!(
            s.compile(&c, &NoFiles),
            Err(AclError::UnknownFetch(_))
        ));
    }

    #[test]
    fn pattern_files_through_loader() {
        let files: HashMap<String, String> = [
            (
                "paths.lst".to_string(),
                "# statics\n/static\n\n  /img  \r\n".to_string(),
            ),
            (
                "nets.lst".to_string(),
                "10.0.0.0/8\n192.0.2.0/28\n".to_string(),
            ),
            ("bad.lst".to_string(), "10.0.0.0/8\nnot-an-ip\n".to_string()),
        ]
        .into();
        let s = set(
            &["st path_beg -f paths.lst /js", "net src -f nets.lst"],
            &files,
        );
        assert!(eval(&s, "if st", &req("GET", "/img/a")));
        assert!(eval(&s, "if st", &req("GET", "/js/a")));
        assert!(!eval(&s, "if st", &req("GET", "/#")));
        assert!(eval(&s, "if net", &req("GET", "/")));
        let bad = AclExpr::parse(&w("src -f bad.lst")).unwrap();
        assert_eq!(
            CompiledAcl::compile(&bad, &files).unwrap_err().to_string(),
            "'not-an-ip' is not a valid IPv4 or IPv6 address at line 2 of file 'bad.lst'"
        );
        let missing = AclExpr::parse(&w("src -f nope.lst")).unwrap();
        assert!(matches!(
            CompiledAcl::compile(&missing, &files),
            Err(AclError::FileUnreadable { .. })
        ));
    }

    #[test]
    fn fetch_edge_cases() {
        let s = set(
            &[
                "q query -m found",
                "p path -m found",
                "b base example.com/x",
                "ssl ssl_fc",
                "nossl ssl_fc -m bool",
            ],
            &NoFiles,
        );
        assert!(!eval(&s, "if q", &req("GET", "/x")));
        assert!(eval(&s, "if q", &req("GET", "/x?")));
        assert!(!eval(&s, "if p", &req("OPTIONS", "*")));
        assert!(eval(&s, "if b", &req("GET", "/x?y")));
        assert!(!eval(&s, "if ssl || nossl", &req("GET", "/")));
    }

    #[test]
    fn long_inputs_fall_back_to_the_heap() {
        let s = set(&["s path -i /AAA", "b base_end x"], &NoFiles);
        let long: &'static str = Box::leak(format!("/{}", "a".repeat(1000)).into_boxed_str());
        assert!(!eval(&s, "if s", &req("GET", long)));
        let longx: &'static str = Box::leak(format!("/{}x", "a".repeat(1000)).into_boxed_str());
        assert!(eval(&s, "if b", &req("GET", longx)));
    }
}
