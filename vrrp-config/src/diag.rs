//! Diagnostics: where a problem is ([`Origin`]), how bad it is ([`Severity`])
//! and what it is ([`Problem`]); [`Errors`] is what loading returns on failure.

use std::fmt;
use std::sync::Arc;

/// A position in a configuration file: file name as given, 1-based line and column.
///
/// Origins are provenance, not configuration: two origins always compare equal,
/// so that a model read from one file equals the same model read from another
/// (or rebuilt by hand). Line 0 stands for "the file as a whole".
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The file name, as it was given to the loader or named by `include`.
    pub file: Arc<str>,
    /// 1-based line, or 0 when the problem concerns the whole file.
    pub line: u32,
    /// 1-based column, or 0 when unknown.
    pub col: u32,
}

impl Origin {
    /// An origin at `line`:`col` of `file`.
    pub fn new(file: Arc<str>, line: u32, col: u32) -> Self {
        Self { file, line, col }
    }

    /// An origin naming a whole file.
    pub fn file(file: Arc<str>) -> Self {
        Self {
            file,
            line: 0,
            col: 0,
        }
    }
}

impl PartialEq for Origin {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Origin {}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.col) {
            (0, _) => write!(f, "{}", self.file),
            (line, 0) => write!(f, "{}:{line}", self.file),
            (line, col) => write!(f, "{}:{line}:{col}", self.file),
        }
    }
}

/// How serious a diagnostic is, on keepalived's own scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Logged only: `keepalived -t` still passes (an ignored keyword, a missing include).
    Warning,
    /// keepalived reports a configuration error yet carries on with a fallback
    /// (default value, clamp, truncation, skipped item): `-t` fails, the daemon runs.
    Recoverable,
    /// The configuration cannot be used as written.
    Error,
}

impl Severity {
    /// True when `keepalived -t` would reject a file carrying this diagnostic.
    pub fn fails_config_test(self) -> bool {
        self != Severity::Warning
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Recoverable | Severity::Error => "error",
        })
    }
}

/// What is wrong. The crate's error enum: every diagnostic carries one.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The text does not lex: an unterminated quote, a stray character.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// Braces do not balance.
    #[error("{0}")]
    Braces(String),
    /// A keyword keepalived does not know in this block.
    #[error("unknown keyword '{keyword}'{}", suggestion.as_ref().map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default())]
    UnknownKeyword {
        /// The keyword as written.
        keyword: String,
        /// The nearest keyword valid in this block, if one is close.
        suggestion: Option<String>,
    },
    /// A keepalived keyword this implementation does not provide.
    #[error("'{keyword}' is not supported by keepalivedd")]
    Unsupported {
        /// The keyword as written.
        keyword: String,
    },
    /// A keepalived keyword accepted and ignored.
    #[error("'{keyword}' is accepted and ignored by keepalivedd")]
    Ignored {
        /// The keyword as written.
        keyword: String,
    },
    /// A file (the main one or an include) could not be read.
    #[error("cannot read '{path}': {reason}")]
    Read {
        /// The path as resolved.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// An `include` pattern matched no file.
    #[error("config files missing '{0}'")]
    IncludeMissing(String),
    /// A value is malformed or out of range, a reference dangles, a required
    /// item is missing, two items clash. The text says which and why.
    #[error("{0}")]
    Invalid(String),
    /// An interface named by the configuration does not exist on the host.
    #[error("{0}")]
    Interface(String),
}

/// One finding, with its place and severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// Where it is.
    pub origin: Origin,
    /// What it is.
    pub problem: Problem,
}

impl Diagnostic {
    /// A diagnostic of `severity` at `origin`.
    pub fn new(severity: Severity, origin: Origin, problem: Problem) -> Self {
        Self {
            severity,
            origin,
            problem,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.severity, self.problem)
    }
}

impl std::error::Error for Diagnostic {}

/// Loading failed: the errors found, plus the warnings gathered on the way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_list(.errors))]
pub struct Errors {
    /// Diagnostics of severity [`Severity::Error`], in file order.
    pub errors: Vec<Diagnostic>,
    /// Everything else that was reported before loading gave up.
    pub warnings: Vec<Diagnostic>,
}

fn render_list(list: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in list.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    out
}
