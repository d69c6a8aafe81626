//! The transaction as ACLs see it: the [`RequestView`] trait a caller implements
//! over its own parsed request (and, in response rules, the response and the
//! transaction's variables), plus the derived pieces HAProxy's fetches read
//! (path, query, comma-split header values, cookies, URL parameters).
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

    /// The response's status code. `None` while no response exists (request
    /// rules, and by default): the response fetches then yield nothing, so
    /// their ACLs never match, as HAProxy's do not in request rules.
    fn status(&self) -> Option<u16> {
        None
    }

    /// The response's HTTP version without its `HTTP/` prefix. `None` while
    /// no response exists, and by default.
    fn res_version(&self) -> Option<&str> {
        None
    }

    /// The response header at position `index`, as
    /// [`header_at`](Self::header_at) gives request headers. `None` while no
    /// response exists, and by default.
    fn res_header_at(&self, index: usize) -> Option<(&str, &str)> {
        let _ = index;
        None
    }

    /// The value of the variable `name`, scope included (`txn.foo`), as last
    /// set by `set-var`. `None` when unset, and by default.
    fn var(&self, name: &str) -> Option<&str> {
        let _ = name;
        None
    }

    /// The number of usable servers of backend `backend` (or, for `None`, of
    /// the proxy evaluating the condition), as HAProxy's `nbsrv` counts
    /// them: the active servers that are up, else the backups (all of them
    /// with `option allbackups`, one otherwise). `None` by default.
    fn nbsrv(&self, backend: Option<&str>) -> Option<u32> {
        let _ = backend;
        None
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
    /// The response, once there is one.
    pub response: Option<OwnedResponse>,
    /// Variables, as `(scope.name, value)`.
    pub vars: Vec<(String, String)>,
}

/// An owned response, as [`OwnedRequest::response`] holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedResponse {
    /// Status code.
    pub status: u16,
    /// HTTP version without `HTTP/`.
    pub version: String,
    /// Headers in order, as `(name, value)`.
    pub headers: Vec<(String, String)>,
}

impl OwnedResponse {
    /// An HTTP/1.1 response with status `status` and no headers.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            version: "1.1".to_string(),
            headers: Vec::new(),
        }
    }

    /// Appends a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
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

    /// Sets the response.
    pub fn with_response(mut self, response: OwnedResponse) -> Self {
        self.response = Some(response);
        self
    }

    /// Sets variable `name` (scope included) to `value`.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_string(), value.to_string()));
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
    fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
    fn res_version(&self) -> Option<&str> {
        self.response.as_ref().map(|r| r.version.as_str())
    }
    fn res_header_at(&self, index: usize) -> Option<(&str, &str)> {
        self.response
            .as_ref()?
            .headers
            .get(index)
            .map(|(n, v)| (n.as_str(), v.as_str()))
    }
    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
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

/// Which message's headers a fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The request (`hdr`, `req.hdr`, `cook`...).
    Req,
    /// The response (`res.hdr`, `shdr`, `scook`...).
    Res,
}

/// Iterates `(name, value)` of every header of `side`, in order.
pub(crate) fn headers<'a>(
    view: &'a dyn RequestView,
    side: Side,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    (0..).map_while(move |i| match side {
        Side::Req => view.header_at(i),
        Side::Res => view.res_header_at(i),
    })
}

/// Iterates the whole values of every header of `side` named `name` (ASCII
/// case-insensitive), or of every header when `name` is empty, in order.
pub(crate) fn full_values<'a>(
    view: &'a dyn RequestView,
    side: Side,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers(view, side)
        .filter(move |(n, _)| name.is_empty() || n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Iterates the comma-separated values of every header of `side` named
/// `name` (ASCII case-insensitive), or of every header when `name` is empty,
/// trimmed, in order. Commas inside double quotes do not split.
pub(crate) fn header_values<'a>(
    view: &'a dyn RequestView,
    side: Side,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    full_values(view, side, name).flat_map(|v| CommaSplit { rest: Some(v) })
}

/// The first full value of the request header `name` (no comma splitting).
pub(crate) fn first_header<'a>(view: &'a dyn RequestView, name: &'a str) -> Option<&'a str> {
    full_values(view, Side::Req, name).next()
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

/// Iterates `(name, value)` of every cookie: on the request, each of every
/// `Cookie` header; on the response, the first of every `Set-Cookie` header
/// (what follows its first `;` are attributes, not cookies).
pub(crate) fn cookies(view: &dyn RequestView, side: Side) -> impl Iterator<Item = (&str, &str)> {
    let header = match side {
        Side::Req => "cookie",
        Side::Res => "set-cookie",
    };
    full_values(view, side, header)
        .flat_map(move |v| {
            let mut parts = v.split(';');
            let first = parts.next();
            first
                .into_iter()
                .chain(parts.filter(move |_| side == Side::Req))
        })
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
    fn response_cookies_skip_attributes() {
        let r = OwnedRequest::new("GET", "/")
            .header("Cookie", "a=1; b=2")
            .with_response(
                OwnedResponse::new(200)
                    .header("Set-Cookie", "sid=x; Path=/; HttpOnly")
                    .header("set-cookie", "lang=fr"),
            );
        let req: Vec<_> = cookies(&r, Side::Req).collect();
        assert_eq!(req, [("a", "1"), ("b", "2")]);
        let res: Vec<_> = cookies(&r, Side::Res).collect();
        assert_eq!(res, [("sid", "x"), ("lang", "fr")]);
    }

    #[test]
    fn params() {
        let v: Vec<_> = url_params("a=1&&b&c=3=4", '&').collect();
        assert_eq!(v, [("a", "1"), ("b", ""), ("c", "3=4")]);
    }
}
