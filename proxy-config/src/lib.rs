//! The haproxy.cfg language: a pest grammar and a typed, validated model.
//!
//! Loading runs in two passes. The syntax pass splits the text into lines of
//! words with HAProxy's lexical rules (comments, quotes, escapes, environment
//! expansion inside double quotes) and keeps every word's position. The
//! validation pass groups lines into sections and resolves them into a typed
//! [`Config`], reporting each problem with `file:line:column`, the keyword and
//! the section, and without stopping at the first one.
//!
//! This crate reads configuration files and nothing else: no sockets, no
//! clock. Server host names are kept as names; [`load`] checks that they
//! resolve, as HAProxy does before starting, in a separate step
//! ([`resolve_server_names`]) that [`parse_str`] leaves out. [`load`] also
//! reads and checks every `errorfile` ([`check_errorfiles`]); certificates
//! are not read here.
//!
//! ```
//! let text = "frontend web\n  bind :80\n  default_backend app\nbackend app\n  server s1 127.0.0.1:8080 check\n";
//! let loaded = proxy_config::parse_str("example.cfg", text, &|_| None).unwrap();
//! assert_eq!(loaded.config.backend("app").unwrap().servers.len(), 1);
//! ```

mod checks;
mod diag;
mod env;
mod errorfile;
mod keywords;
mod lax;
mod logformat;
pub mod manual;
mod model;
mod print;
mod resolve;
mod syntax;
mod validate;

use std::path::{Path, PathBuf};

pub use diag::{
    Diagnostic, DiagnosticKind, Errors, SectionKind, SectionRef, Severity, Span, Spanned,
};
pub use errorfile::{
    ERRORFILE_MAX, ErrorFile, ErrorfileError, check_errorfiles, parse_errorfile, read_errorfile,
};
pub use logformat::{
    HTTPLOG_CLF_FORMAT, HTTPLOG_FORMAT, LogConverter, LogFetch, LogFlags, LogFormatExpr, LogNode,
    LogVar, SampleExpr, TCPLOG_FORMAT, parse_log_format,
};
pub use model::*;
pub use print::print;
pub use resolve::{resolve_server_names, system_resolves};
pub use validate::parse_duration;

/// A loaded configuration and the warnings found on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Warnings (ignored keywords, unimplemented options...).
    pub warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// Adds what a step after parsing found: warnings are kept, and any
    /// error fails the load with everything reported so far.
    pub(crate) fn with_findings(mut self, found: Vec<Diagnostic>) -> Result<Loaded, Errors> {
        let failed = found.iter().any(|d| d.severity == Severity::Error);
        self.warnings.extend(found);
        if failed {
            return Err(Errors {
                diagnostics: self.warnings,
            });
        }
        Ok(self)
    }
}

/// Parses one configuration text; `env` supplies environment variables for
/// `${VAR}` expansion inside double quotes. Server host names are not
/// resolved (see [`resolve_server_names`]).
pub fn parse_str(
    file_name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, Errors> {
    let mut b = validate::Builder::new();
    b.add_file(file_name, text, env);
    b.finish()
}

/// Loads configuration files in order, as `haproxy -f A -f B` does.
///
/// A directory stands for its `*.cfg` files in lexical order. Environment
/// variables come from the process environment, and server host names must
/// resolve with the system resolver ([`system_resolves`]).
pub fn load(paths: &[PathBuf]) -> Result<Loaded, Errors> {
    let env = |name: &str| std::env::var(name).ok();
    let mut b = validate::Builder::new();
    for path in paths {
        for file in expand(path, &mut b) {
            let name = file.display().to_string();
            match std::fs::read(&file) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    b.add_file(&name, &text, &env);
                }
                Err(e) => b.io_error(&name, e.to_string()),
            }
        }
    }
    check_errorfiles(
        resolve_server_names(b.finish(), &system_resolves),
        &read_errorfile,
    )
}

/// The files a path stands for: itself, or a directory's `*.cfg` files sorted.
fn expand(path: &Path, b: &mut validate::Builder) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    match std::fs::read_dir(path) {
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "cfg") && p.is_file())
                .collect();
            files.sort();
            files
        }
        Err(e) => {
            b.io_error(&path.display().to_string(), e.to_string());
            Vec::new()
        }
    }
}
