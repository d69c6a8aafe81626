//! HAProxy access control lists: sample fetches, pattern matchers and the
//! `if` / `unless` conditions built from them.
//!
//! An ACL line (`acl NAME CRITERION [FLAGS] [OPERATOR] PATTERN...`) is parsed once
//! into an [`AclExpr`] and compiled into fast matchers; a [`Condition`] combines
//! named and anonymous ACLs. Evaluation reads a request view supplied by the caller.
//!
//! This crate is pure: no sockets, no clock, no file reads during evaluation
//! (pattern files named with `-f` are read at compile time through a caller-given
//! loader).

mod condition;
mod expr;

pub use condition::{AclRef, Condition, Polarity, Term};
pub use expr::AclExpr;

/// Why an ACL line or a condition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// The condition is syntactically wrong (empty, dangling `||`, unbalanced braces...).
    #[error("{0}")]
    Syntax(String),
    /// The criterion (sample fetch or ACL keyword) is not known.
    #[error("unknown fetch method '{0}' in ACL expression '{0}'")]
    UnknownFetch(String),
    /// A pattern or flag could not be parsed for this criterion.
    #[error("{0}")]
    Pattern(String),
}

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
