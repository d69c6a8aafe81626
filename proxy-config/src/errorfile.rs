//! `errorfile CODE FILE`: the files read when the configuration is loaded,
//! as HAProxy reads them, and checked as full HTTP responses.
//!
//! HAProxy keeps at most `tune.bufsize` bytes of a file (with a warning),
//! parses them as an HTTP/1 response and sends the parsed message again:
//! header names lowercased, `Connection` headers dropped, the body as
//! written. [`parse_errorfile`] does that on bytes and does no IO;
//! [`read_errorfile`] reads a file first; [`check_errorfiles`] is the load
//! step that reports every unusable file at its `errorfile` line.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diag::{Diagnostic, DiagnosticKind, SectionKind, SectionRef, Severity};
use crate::model::{Proxy, ProxyKind};
use crate::{Errors, Loaded};

/// HAProxy's default `tune.bufsize`: a longer file is cut there.
pub const ERRORFILE_MAX: usize = 16_384;

/// Why an `errorfile` cannot be used, in HAProxy's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorfileError {
    /// The file cannot be opened or read.
    #[error("error opening file '{file}'.")]
    Open {
        /// The path as written.
        file: String,
    },
    /// The bytes are not an HTTP/1 response head.
    #[error("'{file}': unable to parse headers (error offset: {offset})")]
    Headers {
        /// The path as written.
        file: String,
        /// Where parsing stopped, from the start of the file.
        offset: usize,
    },
    /// The body is not as long as `Content-Length` says.
    #[error(
        "'{file}': payload size does not match the announced content-length ({payload} != {announced})"
    )]
    ContentLength {
        /// The path as written.
        file: String,
        /// The body's length.
        payload: usize,
        /// The announced length.
        announced: usize,
    },
}

/// A usable error file: the response as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFile {
    /// The response HAProxy sends for this file.
    pub wire: Vec<u8>,
    /// Whether the file was longer than [`ERRORFILE_MAX`] and was cut.
    pub truncated: bool,
}

/// Whether `b` may appear in a header name (RFC 9110 tchar).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses an error file's bytes (already cut to [`ERRORFILE_MAX`]) into the
/// bytes sent on the wire. `file` names the file in errors.
pub fn parse_errorfile(file: &str, bytes: &[u8]) -> Result<Vec<u8>, ErrorfileError> {
    let headers_err = |offset| ErrorfileError::Headers {
        file: file.to_string(),
        offset,
    };
    let mut wire = Vec::with_capacity(bytes.len());
    let mut pos = 0;
    let mut first = true;
    let mut announced: Option<usize> = None;
    loop {
        let rest = bytes.get(pos..).unwrap_or_default();
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            return Err(headers_err(if first { 0 } else { pos }));
        };
        let line = rest.get(..lf).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = pos;
        pos += lf + 1;
        if first {
            if !status_line_ok(line) {
                return Err(headers_err(0));
            }
            wire.extend_from_slice(line);
            wire.extend_from_slice(b"\r\n");
            first = false;
            continue;
        }
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':');
        let Some(colon) = colon.filter(|&c| c > 0) else {
            return Err(headers_err(start));
        };
        let name = line.get(..colon).unwrap_or_default();
        if !name.iter().all(|&b| is_tchar(b)) {
            return Err(headers_err(start));
        }
        let value = line.get(colon + 1..).unwrap_or_default().trim_ascii();
        let name = name.to_ascii_lowercase();
        if name == b"connection" {
            continue;
        }
        if name == b"content-length" {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or_else(|| headers_err(start))?;
            if announced.is_some_and(|a| a != n) {
                return Err(headers_err(start));
            }
            announced = Some(n);
        }
        wire.extend_from_slice(&name);
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(value);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    let body = bytes.get(pos..).unwrap_or_default();
    if let Some(announced) = announced
        && announced != body.len()
    {
        return Err(ErrorfileError::ContentLength {
            file: file.to_string(),
            payload: body.len(),
            announced,
        });
    }
    wire.extend_from_slice(body);
    Ok(wire)
}

/// `HTTP/x.y NNN reason`.
fn status_line_ok(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"HTTP/") else {
        return false;
    };
    let version_ok =
        matches!(rest, [a, b'.', b, b' ', ..] if a.is_ascii_digit() && b.is_ascii_digit());
    let code = rest.get(4..7).unwrap_or_default();
    version_ok
        && code.len() == 3
        && code.iter().all(u8::is_ascii_digit)
        && matches!(rest.get(7), None | Some(b' '))
}

/// Reads `path` (relative to the working directory, as HAProxy does) and
/// parses it with [`parse_errorfile`].
pub fn read_errorfile(path: &Path) -> Result<ErrorFile, ErrorfileError> {
    let file = path.display().to_string();
    let mut bytes = std::fs::read(path).map_err(|_| ErrorfileError::Open { file: file.clone() })?;
    let truncated = bytes.len() > ERRORFILE_MAX;
    bytes.truncate(ERRORFILE_MAX);
    Ok(ErrorFile {
        wire: parse_errorfile(&file, &bytes)?,
        truncated,
    })
}

/// Reads every `errorfile` of a loaded configuration with `read`, once per
/// line (a `defaults` line is not reported again for each proxy using it).
///
/// A failed load is returned unchanged. A file that cannot be used is an
/// error at its line; a file cut to [`ERRORFILE_MAX`] is a warning.
pub fn check_errorfiles(
    result: Result<Loaded, Errors>,
    read: &dyn Fn(&Path) -> Result<ErrorFile, ErrorfileError>,
) -> Result<Loaded, Errors> {
    let loaded = result?;
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    // Every page of every section, used or not (HAProxy reads them all),
    // and the proxies' own.
    let sections = loaded
        .config
        .http_errors
        .iter()
        .map(|h| (&h.errorfiles, SectionKind::HttpErrors, &h.name.value))
        .chain(
            loaded
                .config
                .defaults
                .iter()
                .map(|p| (&p.errorfiles, SectionKind::Defaults, &p.name.value)),
        )
        .chain(
            loaded
                .config
                .proxies
                .iter()
                .map(|p| (&p.errorfiles, kind_of(p), &p.name.value)),
        );
    for (errorfiles, kind, name) in sections {
        for f in errorfiles.values() {
            let key = (f.span.file.to_string(), f.span.line, f.span.column);
            if !seen.insert(key) {
                continue;
            }
            let diag = |kind_: DiagnosticKind, severity| Diagnostic {
                span: f.span.clone(),
                section: Some(SectionRef {
                    kind,
                    name: Some(name.clone()).filter(|n| !n.is_empty()),
                }),
                keyword: Some("errorfile".into()),
                kind: kind_,
                severity,
            };
            match read(&f.value) {
                Ok(e) if e.truncated => found.push(diag(
                    DiagnosticKind::InvalidArgument {
                        keyword: "errorfile".into(),
                        message: format!(
                            "custom error message file '{}' larger than {ERRORFILE_MAX} bytes. Truncating.",
                            f.value.display()
                        ),
                    },
                    Severity::Warning,
                )),
                Ok(_) => {}
                Err(e) => found.push(diag(
                    DiagnosticKind::InvalidArgument {
                        keyword: "errorfile".into(),
                        message: e.to_string(),
                    },
                    Severity::Error,
                )),
            }
        }
    }
    // In the order of the lines, as HAProxy reads them.
    found.sort_by(|a, b| (&a.span.file, a.span.line).cmp(&(&b.span.file, b.span.line)));
    loaded.with_findings(found)
}

fn kind_of(p: &Proxy) -> SectionKind {
    match p.kind {
        ProxyKind::Frontend => SectionKind::Frontend,
        ProxyKind::Backend => SectionKind::Backend,
        ProxyKind::Listen => SectionKind::Listen,
        ProxyKind::Defaults => SectionKind::Defaults,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_503: &[u8] = b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n\n";

    #[test]
    fn debian_page_is_sent_as_haproxy_sends_it() {
        let wire = parse_errorfile("503.http", DEBIAN_503).unwrap();
        assert_eq!(
            wire,
            b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n\n"
        );
    }

    #[test]
    fn garbage_is_refused_at_offset_zero() {
        let e = parse_errorfile("bad.http", b"garbage\r\n\r\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "'bad.http': unable to parse headers (error offset: 0)"
        );
        assert!(parse_errorfile("x", b"HTTP/1.1 200 OK\r\nx-a: b").is_err());
    }

    #[test]
    fn content_length_must_match_the_body() {
        let e = parse_errorfile(
            "t.http",
            b"HTTP/1.1 403 No\r\nContent-Length: 3\r\n\r\nabcdef",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "'t.http': payload size does not match the announced content-length (6 != 3)"
        );
    }

    #[test]
    fn errorloc_and_errorfile_the_later_line_wins() {
        let text = "defaults\n  mode http\n  errorfile 503 /x/503.http\n  errorloc 403 /a\n\
                    frontend f\n  bind :80\n  errorloc303 503 http://h/down\n  \
                    errorfile 403 /x/403.http\n";
        let loaded = crate::parse_str("a.cfg", text, &|_| None).unwrap();
        let f = loaded.config.frontend("f").unwrap();
        assert_eq!(f.errorlocs[&503].value, (303, "http://h/down".to_string()));
        assert!(!f.errorfiles.contains_key(&503));
        assert!(!f.errorlocs.contains_key(&403));
        assert!(f.errorfiles.contains_key(&403));
        let d = &loaded.config.defaults[0];
        assert_eq!(d.errorlocs[&403].value, (302, "/a".to_string()));
    }

    /// `errorfiles` imports at its own place among the lines that set
    /// pages, inherited ones first, from sections declared anywhere.
    #[test]
    fn errorfiles_import_in_line_order() {
        let text = "http-errors early\n  errorfile 403 /e/403.http\n  errorfile 503 /e/503.http\n\
                    defaults\n  mode http\n  errorfiles early\n  errorfile 403 /d/403.http\n\
                    frontend f\n  bind :80\n  errorfiles late 503\n\
                    frontend g\n  bind :81\n  errorfile 503 /g/503.http\n  errorloc 403 /moved\n  \
                    errorfiles early 403\n\
                    http-errors late\n  errorfile 503 /l/503.http\n  errorfile 500 /l/500.http\n";
        let loaded = crate::parse_str("a.cfg", text, &|_| None).unwrap();
        let page = |p: &Proxy, code| p.errorfiles[&code].value.display().to_string();
        let d = &loaded.config.defaults[0];
        assert_eq!(page(d, 403), "/d/403.http");
        assert_eq!(page(d, 503), "/e/503.http");
        let f = loaded.config.frontend("f").unwrap();
        assert_eq!(page(f, 403), "/d/403.http");
        assert_eq!(page(f, 503), "/l/503.http");
        assert!(!f.errorfiles.contains_key(&500), "only the listed code");
        let g = loaded.config.frontend("g").unwrap();
        assert_eq!(page(g, 403), "/e/403.http");
        assert!(!g.errorlocs.contains_key(&403));
        assert_eq!(page(g, 503), "/g/503.http");
        // An imported page keeps the position of its section's line.
        assert_eq!(g.errorfiles[&403].span.line, 2);
        assert_eq!(loaded.config.http_errors.len(), 2);
        let about = |w: &&Diagnostic| w.keyword.as_deref() == Some("errorfiles");
        assert_eq!(loaded.warnings.iter().filter(about).count(), 0);
    }

    #[test]
    fn http_errors_print_back() {
        let text = "http-errors s\n  errorfile 403 \"/s/4 03.http\"\n  errorfile 200 /s/200.http\n\
                    defaults\n  mode http\n  errorfile 503 /d/503.http\n\
                    frontend f\n  bind :80\n  errorfiles s\n";
        let loaded = crate::parse_str("a.cfg", text, &|_| None).unwrap();
        let printed = crate::print(&loaded.config);
        let again = crate::parse_str("printed.cfg", &printed, &|_| None).unwrap();
        assert_eq!(again.config, loaded.config, "{printed}");
        assert_eq!(crate::print(&again.config), printed);
        assert!(printed.contains("http-errors s\n"), "{printed}");
    }

    #[test]
    fn errorfiles_findings() {
        let text = "http-errors s\n  errorfile 403 /s/403.http\n\
                    defaults\n  mode http\n  errorfiles s 404\n\
                    frontend f\n  bind :80\n\
                    frontend g\n  bind :81\n";
        let loaded = crate::parse_str("a.cfg", text, &|_| None).unwrap();
        // Once, for the defaults line, not again for each frontend.
        let found: Vec<_> = loaded
            .warnings
            .iter()
            .filter(|w| w.keyword.as_deref() == Some("errorfiles"))
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message()
                .contains("status '404' not declared in http-errors section 's'")
        );
        assert_eq!(found[0].span.line, 5);
        let errors = crate::parse_str("a.cfg", "defaults\n  errorfiles nope\n", &|_| None)
            .unwrap_err()
            .diagnostics;
        assert!(
            errors[0]
                .message()
                .contains("unknown http-errors section 'nope'")
        );
        assert_eq!(errors[0].span.line, 2);
        // A page of a section no proxy uses is read all the same.
        let unused = "http-errors s\n  errorfile 403 /nonexistent/403.http\n";
        let errors = check_errorfiles(
            crate::parse_str("a.cfg", unused, &|_| None),
            &read_errorfile,
        )
        .unwrap_err()
        .diagnostics;
        assert_eq!(errors[0].span.line, 2);
    }

    #[test]
    fn missing_file_and_defaults_reported_once() {
        let text = "defaults\n  mode http\n  errorfile 503 /nonexistent/503.http\nfrontend f\n  bind :80\n  default_backend b\nbackend b\n";
        let loaded = crate::parse_str("a.cfg", text, &|_| None);
        let errors = check_errorfiles(loaded, &read_errorfile).unwrap_err();
        let errs: Vec<_> = errors
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].span.line, 3);
        assert!(
            errs[0]
                .message()
                .contains("error opening file '/nonexistent/503.http'.")
        );
    }
}
