//! `errorfile` and `errorloc`: the pages a proxy sends instead of
//! HAProxy's built-in ones.
//!
//! Each file is read when the engine is built, as HAProxy reads it at
//! startup, and kept as the bytes HAProxy sends for it
//! ([`proxy_config::read_errorfile`]); an `errorloc` is a redirect. The
//! page for a status is the chosen backend's, then the frontend's, then the
//! built-in one, as HAProxy looks them up. The HTTP/1 layer's own answers to unparsable requests do not
//! use these files, in HAProxy 2.6 either.

use std::collections::HashMap;
use std::path::PathBuf;

use bytes::Bytes;

use super::error::BuildError;
use super::model::{Backend, Frontend};

/// A proxy's error files, by status.
#[derive(Debug, Default)]
pub(crate) struct ErrorFiles(HashMap<u16, Bytes>);

impl ErrorFiles {
    /// Reads the files of proxy `p` (its own and those inherited from its
    /// `defaults`). `read` holds the pages already read while building this
    /// engine, so a file shared through `defaults`, or by the two sides of a
    /// `listen`, is read once.
    pub(crate) fn build(
        p: &proxy_config::Proxy,
        read: &mut HashMap<PathBuf, Bytes>,
    ) -> Result<Self, BuildError> {
        let mut out = HashMap::new();
        for (code, f) in &p.errorfiles {
            let page = match read.get(&f.value) {
                Some(page) => page.clone(),
                None => {
                    let page = proxy_config::read_errorfile(&f.value).map_err(|e| {
                        BuildError::Invalid {
                            at: f.span.to_string(),
                            message: format!("errorfile : {e}"),
                        }
                    })?;
                    let page = Bytes::from(page.wire);
                    read.insert(f.value.clone(), page.clone());
                    page
                }
            };
            out.insert(*code, page);
        }
        for (code, l) in &p.errorlocs {
            out.insert(*code, redirect(l.value.0, &l.value.1));
        }
        Ok(Self(out))
    }
}

/// The answer of `errorloc` (302) or `errorloc303`: a redirect to
/// `location`, as HAProxy sends it.
fn redirect(status: u16, location: &str) -> Bytes {
    let reason = if status == 303 { "See Other" } else { "Found" };
    Bytes::from(format!(
        "HTTP/1.1 {status} {reason}\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: {location}\r\n\r\n"
    ))
}

/// The configured page for `status`, if any: the backend's (once one was
/// chosen) before the frontend's.
pub(crate) fn custom(fe: &Frontend, be: Option<&Backend>, status: u16) -> Option<Bytes> {
    be.and_then(|b| b.errorfiles.0.get(&status))
        .or_else(|| fe.errorfiles.0.get(&status))
        .cloned()
}

/// The page sent for `status`: the configured one, else HAProxy's own.
pub(crate) fn page(fe: &Frontend, be: Option<&Backend>, status: u16) -> Bytes {
    custom(fe, be, status).unwrap_or_else(|| Bytes::from_static(crate::h1::error_page(status)))
}

/// Whether a page says where it ends (`content-length` or chunked), so
/// that the connection can stay open after it. A configured page may not.
pub(crate) fn delimited(page: &[u8]) -> bool {
    let Some(end) = page.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    page.get(..end)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with(b"content-length:")
                || (l.starts_with(b"transfer-encoding:") && l.ends_with(b"chunked"))
        })
}

/// Whether a page is an HTTP/1.0 response: closing after it needs no
/// `connection: close`, and HAProxy adds none.
pub(crate) fn is_http10(page: &[u8]) -> bool {
    page.starts_with(b"HTTP/1.0 ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_pages_are_delimited() {
        for s in [400, 403, 500, 502, 503, 504] {
            assert!(delimited(crate::h1::error_page(s)), "{s}");
        }
        assert!(!delimited(
            b"HTTP/1.0 503 Unavailable\r\ncache-control: no-cache\r\n\r\nbody"
        ));
        assert!(is_http10(b"HTTP/1.0 503 Unavailable\r\n\r\n"));
        assert!(!is_http10(crate::h1::error_page(503)));
    }
}
