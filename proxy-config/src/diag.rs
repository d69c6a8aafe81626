//! Source positions and diagnostics: where a directive came from and what is
//! wrong with it.

use std::fmt;
use std::sync::Arc;

/// A position in a configuration file: file name, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file name as given to the loader.
    pub file: Arc<str>,
    /// Line number, starting at 1.
    pub line: u32,
    /// Column (in characters), starting at 1.
    pub column: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A value with the position of the directive that set it.
///
/// Equality compares the values only: two models that mean the same thing are
/// equal wherever their directives were written.
#[derive(Debug, Clone, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where the directive that set it starts.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps `value` with its position.
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The configuration loads, but something is ignored or suspicious.
    Warning,
    /// The configuration is refused.
    Error,
}

/// Kind of a configuration section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// `global`
    Global,
    /// `defaults`
    Defaults,
    /// `frontend`
    Frontend,
    /// `backend`
    Backend,
    /// `listen`
    Listen,
    /// `userlist`
    Userlist,
    /// `resolvers`
    Resolvers,
    /// `peers`
    Peers,
    /// `http-errors`
    HttpErrors,
    /// Another HAProxy section (`cache`, `program`, `ring`...) that is not supported.
    Other(&'static str),
}

impl SectionKind {
    /// The keyword that opens the section.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Defaults => "defaults",
            Self::Frontend => "frontend",
            Self::Backend => "backend",
            Self::Listen => "listen",
            Self::Userlist => "userlist",
            Self::Resolvers => "resolvers",
            Self::Peers => "peers",
            Self::HttpErrors => "http-errors",
            Self::Other(k) => k,
        }
    }
}

/// The section a diagnostic was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRef {
    /// The section's kind.
    pub kind: SectionKind,
    /// Its name, if it has one.
    pub name: Option<String>,
}

impl fmt::Display for SectionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{} {}", self.kind.keyword(), n),
            None => f.write_str(self.kind.keyword()),
        }
    }
}

/// What is wrong, one variant per kind of problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A file or directory could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// A line whose quotes are not closed.
    #[error("unterminated {0} quote")]
    UnterminatedQuote(&'static str),
    /// The last line has no line feed: HAProxy takes the file for truncated.
    #[error("Missing LF on last line, file might have been truncated at position {position}")]
    MissingFinalNewline {
        /// The 1-based column just past the last character.
        position: u32,
    },
    /// A keyword outside of any section.
    #[error("unknown keyword '{0}' out of section")]
    OutOfSection(String),
    /// A keyword that is not known in its section.
    #[error("unknown keyword '{keyword}' in '{section}' section{}", did_you_mean(.suggestion))]
    UnknownKeyword {
        /// The keyword as written.
        keyword: String,
        /// The section kind keyword (`frontend`...).
        section: &'static str,
        /// The nearest known keyword, if one is close.
        suggestion: Option<&'static str>,
    },
    /// A keyword known in HAProxy but not allowed where it is written.
    #[error("'{keyword}' not allowed in {place}")]
    NotAllowed {
        /// The keyword.
        keyword: String,
        /// Where it was written (`'defaults' section`, `frontend 'web' (no backend capability)`).
        place: String,
    },
    /// A keyword that is ignored where it is written (as HAProxy ignores it).
    #[error("'{keyword}' ignored because {proxy} has no {capability} capability")]
    IgnoredCapability {
        /// The keyword.
        keyword: String,
        /// The proxy, as `backend 'name'`.
        proxy: String,
        /// `frontend` or `backend`.
        capability: &'static str,
    },
    /// A keyword or option that parses but is not implemented yet.
    #[error("'{0}' is not implemented yet and is ignored")]
    NotImplemented(String),
    /// A section kind that is parsed but not supported yet.
    #[error("'{0}' sections are not supported yet; the section is ignored")]
    UnsupportedSection(&'static str),
    /// A directive lacks an argument.
    #[error("'{keyword}' expects {expected}")]
    MissingArgument {
        /// The directive.
        keyword: String,
        /// What was expected.
        expected: String,
    },
    /// An argument that does not parse.
    #[error("'{keyword}': {message}")]
    InvalidArgument {
        /// The directive (or the option inside it).
        keyword: String,
        /// Why the argument is refused.
        message: String,
    },
    /// A value HAProxy accepts leniently (`retries three`, `timeout client
    /// 5sec`): accepted too, with the value really used.
    #[error("'{keyword}' accepted as HAProxy does, but {reason}; the value used is {used}")]
    LaxValue {
        /// The directive or option.
        keyword: String,
        /// The value as written (empty when left out).
        written: String,
        /// How HAProxy reads it.
        reason: String,
        /// The value used.
        used: String,
    },
    /// A server host name that does not resolve at load time.
    #[error("'server {proxy}/{server}' : could not resolve address '{host}'{}", if *.disabled { ", disabling server" } else { "" })]
    Unresolvable {
        /// The server's proxy.
        proxy: String,
        /// The server.
        server: String,
        /// The host name.
        host: String,
        /// Whether the server is kept, disabled (`init-addr ... none`).
        disabled: bool,
    },
    /// A userlist group names an unknown user, or a user an unknown group.
    #[error("userlist '{userlist}': no such {what} '{name}' specified in {owner_kind} '{owner}'")]
    UnknownUserlistMember {
        /// The userlist.
        userlist: String,
        /// `user` or `group`: what is missing.
        what: &'static str,
        /// Its name.
        name: String,
        /// `group` or `user`: the line that names it.
        owner_kind: &'static str,
        /// That group's or user's name.
        owner: String,
    },
    /// `http_auth(L)` or `http_auth_group(L)` names a userlist that does
    /// not exist.
    #[error(
        "unable to find userlist '{userlist}' referenced in arg 1 of ACL keyword '{keyword}' in proxy '{proxy}'"
    )]
    UnknownUserlist {
        /// The missing userlist.
        userlist: String,
        /// The fetch keyword.
        keyword: String,
        /// The proxy's name.
        proxy: String,
    },
    /// A server checked without any port to send the checks to.
    #[error("{proxy}: server '{server}' has neither service port nor check port")]
    NoCheckPort {
        /// The proxy, as `backend 'name'`.
        proxy: String,
        /// The server.
        server: String,
    },
    /// A proxy without the timeouts every proxy should have.
    #[error(
        "missing timeouts for {proxy}. While not properly invalid, you will certainly encounter various problems with such a configuration. To fix this, please ensure that all following timeouts are set to a non-zero value: 'client', 'connect', 'server'."
    )]
    MissingTimeouts {
        /// The proxy, as `frontend 'name'`.
        proxy: String,
    },
    /// A `log-format` string that does not parse (HAProxy's message).
    #[error("failed to parse log-format : {0}")]
    LogFormat(String),
    /// `log-format` with more than one word.
    #[error("log-format expects only one argument, don't forget to escape spaces!")]
    LogFormatWords,
    /// A log format replacing another one in a `defaults` section.
    #[error("'{new}' overrides previous '{old}' in 'defaults' section.")]
    LogFormatOverride {
        /// The directive written last.
        new: String,
        /// The one it replaces.
        old: String,
    },
    /// A log format set in a proxy that logs nowhere.
    #[error("log format ignored for {proxy} since it has no log address.")]
    LogFormatWithoutTarget {
        /// The proxy, as `frontend 'name'`.
        proxy: String,
    },
    /// An address that does not parse.
    #[error("'{keyword}': invalid address '{address}': {reason}")]
    BadAddress {
        /// The directive.
        keyword: String,
        /// The address as written.
        address: String,
        /// Why it is refused.
        reason: String,
    },
    /// Two proxies (or two sections of one kind) share a name.
    #[error("{kind} '{name}' has the same name as {other_kind} '{name}' declared at {other}")]
    DuplicateName {
        /// The second section's kind keyword.
        kind: &'static str,
        /// The shared name.
        name: String,
        /// The first section's kind (`proxy` if it has both capabilities).
        other_kind: &'static str,
        /// Where the first one was declared.
        other: Span,
    },
    /// `use_backend` or `default_backend` names a backend that does not exist.
    #[error("unable to find required {keyword}: '{name}'")]
    UnknownBackend {
        /// `use_backend` or `default_backend`.
        keyword: &'static str,
        /// The missing backend.
        name: String,
    },
    /// A condition names an ACL that is neither declared nor predefined.
    #[error("no such ACL : '{0}'")]
    UnknownAcl(String),
    /// `from NAME` names a defaults section that does not exist.
    #[error("defaults section '{name}' not found for {proxy}")]
    UnknownDefaults {
        /// The missing defaults section.
        name: String,
        /// The proxy, as `frontend 'name'`.
        proxy: String,
    },
    /// An ACL expression or condition refused by the ACL parser.
    #[error("{0}")]
    Acl(proxy_acl::AclError),
    /// A condition uses an ACL whose fetches cannot work where the condition
    /// is evaluated, such as a response fetch in a request rule: HAProxy
    /// warns, and the ACL (or that part of it) never matches there.
    #[error("{}", incompatible_acl(.acl.as_deref(), .keyword, *.never, .place))]
    IncompatibleAcl {
        /// The ACL's name; `None` for an anonymous ACL.
        acl: Option<String>,
        /// The first incompatible fetch keyword.
        keyword: String,
        /// Whether every expression of the ACL is incompatible.
        never: bool,
        /// Where it is evaluated (`frontend http-request header rule`).
        place: String,
    },
}

fn incompatible_acl(acl: Option<&str>, keyword: &str, never: bool, place: &str) -> String {
    match (acl, never) {
        (Some(a), true) => format!(
            "acl '{a}' will never match because it only involves keywords that are incompatible with '{place}'"
        ),
        (Some(a), false) => {
            format!("acl '{a}' involves keywords '{keyword}' which is incompatible with '{place}'")
        }
        (None, true) => format!(
            "anonymous acl will never match because it uses keyword '{keyword}' which is incompatible with '{place}'"
        ),
        (None, false) => {
            format!(
                "anonymous acl involves keyword '{keyword}' which is incompatible with '{place}'"
            )
        }
    }
}

fn did_you_mean(s: &Option<&'static str>) -> String {
    match s {
        Some(k) => format!("; did you mean '{k}'?"),
        None => String::new(),
    }
}

/// One problem found in a configuration, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is (the word at fault when known, else the directive).
    pub span: Span,
    /// The section it is in, if any.
    pub section: Option<SectionRef>,
    /// The directive's keyword, if any.
    pub keyword: Option<String>,
    /// What is wrong.
    pub kind: DiagnosticKind,
    /// Error or warning.
    pub severity: Severity,
}

impl Diagnostic {
    /// The human-readable message, without position.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
    /// The file name.
    pub fn file(&self) -> &str {
        &self.span.file
    }
    /// The 1-based line.
    pub fn line(&self) -> u32 {
        self.span.line
    }
    /// The 1-based column.
    pub fn column(&self) -> u32 {
        self.span.column
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.span)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(s) = &self.section {
            write!(f, "in section '{s}': ")?;
        }
        write!(f, "{}", self.kind)
    }
}

/// Every error found while loading (warnings found on the way are kept too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors {
    /// All diagnostics, errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Errors {
    /// The diagnostics of severity [`Severity::Error`].
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for d in &self.diagnostics {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}
