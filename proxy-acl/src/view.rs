//! The request as ACLs see it: the [`RequestView`] trait a caller implements over
//! its own parsed request, plus the derived pieces HAProxy's fetches read (path,
//! query, comma-split header values, cookies, URL parameters).
//!
//! Everything here borrows from the view; nothing allocates.

use std::net::SocketAddr;

/// Read access to one request and its connection, as the ACL fetches need it.
///
/// Only [`method`](Self::method), [`url`](Self::url), [`version`](Self::version),
/// [`header_at`](Self::header_at), [`src`](Self::src) and [`dst`](Self::dst) are
/// required; the rest derive from them the way HAProxy does and may be overridden
/// when the caller already holds the parsed parts.
pub trait RequestView {
    /// The request method as sent (`GET`, `PURGE`...), case preserved.
    fn method(&self) -> &str;

    /// The request target exactly as sent: origin form (`/a?b`), absolute form
    /// (`http://h/a?b`), authority form or `*`.
    fn url(&self) -> &str;

    /// The HTTP version without its `HTTP/` prefix, such as `1.1`.
    fn version(&self) -> &str;

    /// The header at position `index` among all request headers, in order of
    /// appearance, as `(name, value)` with the value's surrounding whitespace removed.
    fn header_at(&self, index: usize) -> Option<(&str, &str)>;

    /// The client's address and port, when known.
    fn src(&self) -> Option<SocketAddr>;

    /// The local address and port the request arrived on, when known.
    fn dst(&self) -> Option<SocketAddr>;

    /// Whether the request came over TLS. `false` until TLS exists.
    fn ssl(&self) -> bool {
        false
    }

    /// When the request carries HTTP Basic credentials (`Authorization:
    /// Basic ...`) that are valid for a user of the userlist named
    /// `userlist`: that user's groups (possibly none). `None` otherwise, and
    /// by default, for callers that hold no userlists. Read by the
    /// `http_auth` and `http_auth_group` fetches.
    fn http_auth(&self, userlist: &str) -> Option<&[String]> {
        let _ = userlist;
        None
    }

    /// The path part of the URL (`/a` for both `/a?b` and `http://h/a?b`), or
    /// `None` when the target has none (`*`, `http://h`).
    fn path(&self) -> Option<&str> {
        path_of(self.url())
    }

    /// What follows the first `?` of the URL (possibly empty), or `None` without `?`.
    fn query(&self) -> Option<&str> {
        self.url().split_once('?').map(|(_, q)| q)
    }
}

/// An owned request holding exactly what [`RequestView`] reads: for tests, tools
/// and callers that have no parsed request of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedRequest {
    /// Request method, as sent.
    pub method: String,
    /// Request target, as sent.
    pub url: String,
    /// HTTP version without `HTTP/`.
    pub version: String,
    /// Headers in order, as `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// Client address.
    pub src: Option<SocketAddr>,
    /// Local address.
    pub dst: Option<SocketAddr>,
    /// Whether the request came over TLS.
    pub ssl: bool,
}

impl OwnedRequest {
    /// A request with the given method and target, HTTP/1.1, no headers, no addresses.
    pub fn new(method: &str, url: &str) -> Self {
        Self {
            method: method.to_string(),
            url: url.to_string(),
            version: "1.1".to_string(),
            ..Self::default()
        }
    }

    /// Appends a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

impl RequestView for OwnedRequest {
    fn method(&self) -> &str {
        &self.method
    }
    fn url(&self) -> &str {
        &self.url
    }
    fn version(&self) -> &str {
        &self.version
    }
    fn header_at(&self, index: usize) -> Option<(&str, &str)> {
        self.headers
            .get(index)
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn ssl(&self) -> bool {
        self.ssl
    }
}

/// The path of a request target, as HAProxy's `path` fetch extracts it.
pub fn path_of(url: &str) -> Option<&str> {
    let before_query = url.split_once('?').map_or(url, |(p, _)| p);
    if before_query.starts_with('/') {
        return Some(before_query);
    }
    let (_, after_scheme) = before_query.split_once("://")?;
    after_scheme.find('/').map(|i| &after_scheme[i..])
}

/// Iterates the comma-separated values of every header named `name`
/// (ASCII case-insensitive), or of every header when `name` is empty, trimmed,
/// in order. Commas inside double quotes do not split.
pub(crate) fn header_values<'a>(
    view: &'a dyn RequestView,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    (0..)
        .map_while(move |i| view.header_at(i))
        .filter(move |(n, _)| name.is_empty() || n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| CommaSplit { rest: Some(v) })
}

/// The first full value of the header `name` (no comma splitting).
pub(crate) fn first_header<'a>(view: &'a dyn RequestView, name: &str) -> Option<&'a str> {
    (0..)
        .map_while(|i| view.header_at(i))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

struct CommaSplit<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, b) in s.bytes().enumerate() {
            if escaped {
                escaped = false;
                continue;
            }
            match b {
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    self.rest = s.get(i + 1..);
                    return Some(s.get(..i).unwrap_or_default().trim());
                }
                _ => {}
            }
        }
        self.rest = None;
        Some(s.trim())
    }
}

/// Iterates `(name, value)` of every cookie in every `Cookie` header.
pub(crate) fn cookies(view: &dyn RequestView) -> impl Iterator<Item = (&str, &str)> {
    (0..)
        .map_while(move |i| view.header_at(i))
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .filter_map(|c| {
            let c = c.trim();
            if c.is_empty() {
                return None;
            }
            Some(match c.split_once('=') {
                Some((n, v)) => (n.trim(), v.trim()),
                None => (c, ""),
            })
        })
}

/// Iterates `(name, value)` of the query string's parameters, split on `delim`.
pub(crate) fn url_params(query: &str, delim: char) -> impl Iterator<Item = (&str, &str)> {
    query
        .split(delim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_forms() {
        assert_eq!(path_of("/a/b?c=d"), Some("/a/b"));
        assert_eq!(path_of("/"), Some("/"));
        assert_eq!(path_of("http://h:80/x?y"), Some("/x"));
        assert_eq!(path_of("http://h"), None);
        assert_eq!(path_of("*"), None);
        assert_eq!(path_of("h:443"), None);
    }

    #[test]
    fn comma_split_respects_quotes() {
        let v: Vec<_> = CommaSplit {
            rest: Some(r#"a, "b,c" ,d\,,"#),
        }
        .collect();
        assert_eq!(v, ["a", r#""b,c""#, r"d\", "", ""]);
    }

    #[test]
    fn params() {
        let v: Vec<_> = url_params("a=1&&b&c=3=4", '&').collect();
        assert_eq!(v, [("a", "1"), ("b", ""), ("c", "3=4")]);
    }
}
