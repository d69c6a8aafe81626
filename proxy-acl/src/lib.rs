//! HAProxy access control lists: sample fetches, pattern matchers and the
//! `if` / `unless` conditions built from them.
//!
//! An ACL line (`acl NAME CRITERION [FLAGS] [OPERATOR] PATTERN...`) is parsed once
//! into an [`AclExpr`], declared into an [`AclSet`] (which compiles it into fast
//! matchers), and a [`Condition`] naming ACLs is resolved by
//! [`AclSet::compile`] into a [`CompiledCondition`]. Evaluation reads a
//! [`RequestView`] the caller implements over its own request type.
//!
//! This crate is pure: no sockets, no clock, no name resolution, no file reads
//! during evaluation (pattern files named with `-f` are read at compile time
//! through a caller-given [`PatternLoader`]). It does not parse configuration
//! files or HTTP messages.

mod compile;
mod condition;
mod expr;
mod fetch;
mod matcher;
mod pattern;
mod view;

pub use compile::{AclSet, CompiledAcl, CompiledCondition, NoFiles, PatternLoader};
pub use condition::{AclRef, Condition, Polarity, Term};
pub use expr::{AclExpr, Pattern};
pub use fetch::{Fetch, MatchMethod, criteria};
pub use pattern::{IntRange, IpNet};
pub use view::{OwnedRequest, OwnedResponse, RequestView, path_of};

/// Why an ACL line or a condition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// The condition is syntactically wrong (empty, dangling `||`, unbalanced braces...).
    #[error("{0}")]
    Syntax(String),
    /// The criterion (sample fetch or ACL keyword) is not known.
    #[error("unknown fetch method '{name}' in ACL expression '{0}'", name = .0.split('(').next().unwrap_or_default())]
    UnknownFetch(String),
    /// A pattern, flag or fetch argument could not be parsed for this criterion.
    #[error("{0}")]
    Pattern(String),
    /// A condition names an ACL that is neither declared nor predefined.
    #[error("no such ACL : '{0}'")]
    UnknownAcl(String),
    /// A pattern file named with `-f` could not be read.
    #[error("failed to open pattern file <{file}> ({reason})")]
    FileUnreadable {
        /// The path as written after `-f`.
        file: String,
        /// What the loader reported.
        reason: String,
    },
    /// A line of a pattern file is not a valid pattern.
    #[error("{message} at line {line} of file '{file}'")]
    PatternFile {
        /// The path as written after `-f`.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the pattern.
        message: String,
    },
}

/// HAProxy's predefined ACLs and the expressions they stand for.
///
/// `RDP_COOKIE` and `REQ_CONTENT` inspect raw request buffers, which this crate
/// never sees: they are false here. `WAIT_END` is true, as HAProxy's is in HTTP
/// rules, where no inspection delay applies. `HTTP` is true: every request
/// evaluated here is an HTTP request.
pub const PREDEFINED_DEFINITIONS: &[(&str, &str)] = &[
    ("FALSE", "always_false"),
    ("HTTP", "always_true"),
    ("HTTP_1.0", "req.ver 1.0"),
    ("HTTP_1.1", "req.ver 1.1"),
    ("HTTP_2.0", "req.ver 2.0"),
    ("HTTP_3.0", "req.ver 3.0"),
    ("HTTP_CONTENT", "req.hdr_val(content-length) gt 0"),
    ("HTTP_URL_ABS", "url_reg ^[^/:]*://"),
    ("HTTP_URL_SLASH", "url_beg /"),
    ("HTTP_URL_STAR", "url *"),
    ("LOCALHOST", "src 127.0.0.1/8 ::1"),
    ("METH_CONNECT", "method CONNECT"),
    ("METH_DELETE", "method DELETE"),
    ("METH_GET", "method GET HEAD"),
    ("METH_HEAD", "method HEAD"),
    ("METH_OPTIONS", "method OPTIONS"),
    ("METH_POST", "method POST"),
    ("METH_PUT", "method PUT"),
    ("METH_TRACE", "method TRACE"),
    ("RDP_COOKIE", "always_false"),
    ("REQ_CONTENT", "always_false"),
    ("TRUE", "always_true"),
    ("WAIT_END", "always_true"),
];

/// Names of HAProxy's predefined ACLs, usable in conditions without an `acl` line.
pub const PREDEFINED_ACLS: &[&str] = &[
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "HTTP_3.0",
    "HTTP_CONTENT",
    "HTTP_URL_ABS",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
    "RDP_COOKIE",
    "REQ_CONTENT",
    "TRUE",
    "WAIT_END",
];

/// Whether `name` is one of HAProxy's predefined ACLs.
pub fn is_predefined(name: &str) -> bool {
    PREDEFINED_ACLS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_lists_agree_and_parse() {
        assert_eq!(PREDEFINED_ACLS.len(), PREDEFINED_DEFINITIONS.len());
        for ((a, (b, def)), _) in PREDEFINED_ACLS.iter().zip(PREDEFINED_DEFINITIONS).zip(0..) {
            assert_eq!(a, b);
            let words: Vec<String> = def.split_whitespace().map(String::from).collect();
            assert!(AclExpr::parse(&words).is_ok(), "{a}: {def}");
        }
    }
}
