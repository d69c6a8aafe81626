//! One ACL expression: the words after `acl NAME`, or inside `{ ... }`.

use crate::AclError;

/// A parsed ACL expression (criterion, flags and patterns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclExpr {
    words: Vec<String>,
}

impl AclExpr {
    /// Parses the words of an ACL expression, criterion first.
    pub fn parse(words: &[String]) -> Result<Self, AclError> {
        if words.is_empty() {
            return Err(AclError::Syntax("missing ACL criterion".into()));
        }
        Ok(Self {
            words: words.to_vec(),
        })
    }

    /// The words the expression was parsed from.
    pub fn words(&self) -> &[String] {
        &self.words
    }
}
