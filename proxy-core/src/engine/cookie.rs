//! Cookie-based persistence (`cookie NAME insert|prefix ...` and server
//! `cookie VALUE`): reading the persistence cookie from a request, removing
//! it (`indirect`) or its server prefix (`prefix`), and the `Set-Cookie` a
//! response gets or has prefixed.
//!
//! Insert and prefix modes are applied; `rewrite`, `maxidle` and `maxlife`
//! are refused when the engine is built rather than silently ignored. The
//! header bytes follow what HAProxy 2.6 sends (see
//! `tests/engine_cookie.rs` for the captures).

use proxy_config::{Cookie, Spanned};

use super::error::BuildError;
use crate::h1::Headers;

/// A backend's `cookie` directive, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CookieConf {
    /// Cookie name.
    pub(crate) name: String,
    /// `prefix` mode: the server's value prefixes the application's cookie
    /// as `SERVER~VALUE`; otherwise `insert` mode.
    pub(crate) prefix: bool,
    /// `indirect`: the cookie is removed from requests sent to servers.
    pub(crate) indirect: bool,
    /// `nocache`: a cacheable response that sets the cookie is made private.
    pub(crate) nocache: bool,
    /// `httponly`.
    pub(crate) httponly: bool,
    /// `secure`.
    pub(crate) secure: bool,
    /// `domain D`, each one an attribute.
    pub(crate) domains: Vec<String>,
}

impl CookieConf {
    /// Resolves the directive; modes and options not applied are an error.
    pub(crate) fn compile(c: &Spanned<Cookie>) -> Result<CookieConf, BuildError> {
        let refuse = |what: String| BuildError::Unsupported {
            at: c.span.to_string(),
            what,
        };
        let mut conf = CookieConf {
            name: c.value.name.clone(),
            prefix: false,
            indirect: false,
            nocache: false,
            httponly: false,
            secure: false,
            domains: Vec::new(),
        };
        let mut insert = false;
        let mut words = c.value.options.iter();
        while let Some(w) = words.next() {
            match w.to_ascii_lowercase().as_str() {
                "insert" => insert = true,
                "prefix" => conf.prefix = true,
                "indirect" => conf.indirect = true,
                "nocache" => conf.nocache = true,
                "httponly" => conf.httponly = true,
                "secure" => conf.secure = true,
                "domain" => match words.next() {
                    Some(d) => conf.domains.push(d.clone()),
                    None => return Err(refuse("cookie 'domain' without a value".into())),
                },
                other => {
                    return Err(refuse(format!(
                        "cookie option '{other}' (only insert with indirect, nocache, \
                         httponly, secure and domain is applied)"
                    )));
                }
            }
        }
        let insert_only = conf.indirect
            || conf.nocache
            || conf.httponly
            || conf.secure
            || !conf.domains.is_empty();
        if conf.prefix && (insert || insert_only) {
            return Err(refuse(
                "cookie 'prefix' with insert options (only a bare prefix is applied)".into(),
            ));
        }
        if !insert && !conf.prefix {
            return Err(refuse(
                "cookie persistence without 'insert' or 'prefix' (rewrite mode)".into(),
            ));
        }
        Ok(conf)
    }

    /// The server value a request cookie names: all of it in insert mode,
    /// the part before `~` in prefix mode (none without a `~`).
    pub(crate) fn server_key<'a>(&self, found: &'a str) -> Option<&'a str> {
        if self.prefix {
            found.split_once('~').map(|(k, _)| k)
        } else {
            Some(found)
        }
    }

    /// Takes the server prefix off this cookie in the request's `Cookie`
    /// fields (`NAME=SRV~v` becomes `NAME=v`), as prefix mode forwards it.
    pub(crate) fn unprefix(&self, h: &mut Headers) -> Result<(), crate::h1::Error> {
        let fields: Vec<Vec<u8>> = h.get_all(b"cookie").map(<[u8]>::to_vec).collect();
        let mut changed = false;
        let mut out = Vec::with_capacity(fields.len());
        for v in &fields {
            let mut parts = Vec::new();
            for p in v.split(|&b| b == b';').map(<[u8]>::trim_ascii) {
                match split_pair(p) {
                    Some((n, val)) if n == self.name.as_bytes() => {
                        match val.iter().position(|&b| b == b'~') {
                            Some(t) => {
                                changed = true;
                                let rest = val.get(t + 1..).unwrap_or_default();
                                parts.push([n, b"=", rest].concat());
                            }
                            None => parts.push(p.to_vec()),
                        }
                    }
                    _ if p.is_empty() => {}
                    _ => parts.push(p.to_vec()),
                }
            }
            out.push(parts.join(&b"; "[..]));
        }
        if changed {
            h.remove(b"cookie");
            for v in out {
                h.append(b"cookie", &v)?;
            }
        }
        Ok(())
    }

    /// Prefixes the application's `Set-Cookie: NAME=...` fields of a
    /// response with `server~`, keeping every field in place. Returns
    /// whether one was rewritten.
    pub(crate) fn prefix_response(
        &self,
        h: &mut Headers,
        server: &str,
    ) -> Result<bool, crate::h1::Error> {
        let ours = |n: &[u8], v: &[u8]| {
            n.eq_ignore_ascii_case(b"set-cookie")
                && split_pair(v.split(|&b| b == b';').next().unwrap_or_default())
                    .is_some_and(|(name, _)| name == self.name.as_bytes())
        };
        if !h.iter().any(|(n, v)| ours(n, v)) {
            return Ok(false);
        }
        let fields: Vec<(Vec<u8>, Vec<u8>)> = h
            .iter()
            .map(|(n, v)| {
                let v = match v.iter().position(|&b| b == b'=') {
                    Some(eq) if ours(n, v) => {
                        let (head, rest) = v.split_at(eq + 1);
                        [head, server.as_bytes(), b"~", rest].concat()
                    }
                    _ => v.to_vec(),
                };
                (n.to_vec(), v)
            })
            .collect();
        let mut names: Vec<Vec<u8>> = fields.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        names.sort_unstable();
        names.dedup();
        for n in &names {
            h.remove(n);
        }
        for (n, v) in &fields {
            h.append(n, v)?;
        }
        Ok(true)
    }

    /// The value of this cookie in the request's `Cookie` fields, if any.
    pub(crate) fn find(&self, h: &Headers) -> Option<String> {
        h.get_all(b"cookie")
            .flat_map(|v| v.split(|&b| b == b';'))
            .find_map(|pair| {
                let (n, v) = split_pair(pair)?;
                (n == self.name.as_bytes()).then(|| String::from_utf8_lossy(v).into_owned())
            })
    }

    /// Removes this cookie from the request's `Cookie` fields; a field left
    /// empty is removed. Other cookies keep their order, joined by `"; "`.
    pub(crate) fn strip(&self, h: &mut Headers) -> Result<(), crate::h1::Error> {
        let fields: Vec<Vec<u8>> = h.get_all(b"cookie").map(<[u8]>::to_vec).collect();
        let touched = fields.iter().any(|v| {
            v.split(|&b| b == b';')
                .any(|p| split_pair(p).is_some_and(|(n, _)| n == self.name.as_bytes()))
        });
        if !touched {
            return Ok(());
        }
        h.remove(b"cookie");
        for v in fields {
            let kept: Vec<&[u8]> = v
                .split(|&b| b == b';')
                .map(<[u8]>::trim_ascii)
                .filter(|p| !p.is_empty())
                .filter(|p| split_pair(p).is_none_or(|(n, _)| n != self.name.as_bytes()))
                .collect();
            if !kept.is_empty() {
                h.append(b"cookie", &kept.join(&b"; "[..]))?;
            }
        }
        Ok(())
    }

    /// The `Set-Cookie` value giving a client server `value`.
    pub(crate) fn set_cookie(&self, value: &str) -> String {
        let mut out = format!("{}={value}; path=/", self.name);
        for d in &self.domains {
            out.push_str("; domain=");
            out.push_str(d);
        }
        if self.httponly {
            out.push_str("; HttpOnly");
        }
        if self.secure {
            out.push_str("; Secure");
        }
        out
    }
}

/// `name=value` with blanks around both trimmed; `None` without `=`.
fn split_pair(pair: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = pair.iter().position(|&b| b == b'=')?;
    let (n, v) = pair.split_at(eq);
    Some((n.trim_ascii(), v.get(1..).unwrap_or_default().trim_ascii()))
}

/// Whether a shared cache could store this response to a GET or HEAD, by
/// the rule observed from HAProxy 2.6 for `nocache`: a cacheable status,
/// no `Cache-Control` at all, and a validator or expiry that lets a cache
/// keep it (`Last-Modified`, `Expires` or `ETag`).
pub(crate) fn cacheable(method: &[u8], status: u16, h: &Headers) -> bool {
    matches!(method, b"GET" | b"HEAD")
        && matches!(
            status,
            200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501
        )
        && !h.contains(b"cache-control")
        && !h.contains(b"pragma")
        && (h.contains(b"last-modified") || h.contains(b"expires") || h.contains(b"etag"))
}

/// Persistence cookie status and operation, the 3rd and 4th characters of
/// the termination state in HTTP logs.
pub(crate) fn log_flags(found: Option<&str>, valid: bool, down: bool, op: u8) -> [u8; 2] {
    let status = match (found, valid, down) {
        (None, _, _) => b'N',
        (Some(_), true, _) => b'V',
        (Some(_), false, true) => b'D',
        (Some(_), false, false) => b'I',
    };
    [status, op]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(opts: &[&str]) -> Result<CookieConf, BuildError> {
        let c = Cookie {
            name: "SRV".into(),
            options: opts.iter().map(|s| (*s).to_string()).collect(),
        };
        CookieConf::compile(&Spanned::new(c, proxy_config::Span::default()))
    }

    fn headers(fields: &[(&str, &str)]) -> Headers {
        let mut h = Headers::default();
        for (n, v) in fields {
            assert!(h.append(n.as_bytes(), v.as_bytes()).is_ok());
        }
        h
    }

    #[test]
    fn insert_options_compile_and_other_modes_are_refused() {
        let c = conf(&["insert", "indirect", "nocache", "domain", "a.example"]);
        assert!(
            c.as_ref()
                .is_ok_and(|c| c.indirect && c.nocache && c.domains == ["a.example"])
        );
        assert!(conf(&["prefix"]).is_ok_and(|c| c.prefix));
        for bad in [
            &["rewrite"][..],
            &["prefix", "indirect"],
            &["insert", "prefix"],
            &["insert", "maxidle", "1h"],
            &[],
        ] {
            assert!(conf(bad).is_err(), "{bad:?}");
        }
        assert!(conf(&["insert", "domain"]).is_err());
    }

    #[test]
    fn finds_and_strips_only_the_persistence_cookie() -> Result<(), Box<dyn std::error::Error>> {
        let c = conf(&["insert", "indirect"])?;
        let mut h = headers(&[("Cookie", "x=1; SRV=a1; y=2"), ("cookie", "SRV=b")]);
        assert_eq!(c.find(&h).as_deref(), Some("a1"));
        c.strip(&mut h)?;
        let left: Vec<&[u8]> = h.get_all(b"cookie").collect();
        assert_eq!(left, [&b"x=1; y=2"[..]]);
        assert_eq!(c.find(&h), None);
        let mut other = headers(&[("Cookie", "SRVX=1")]);
        assert_eq!(c.find(&other), None);
        c.strip(&mut other)?;
        assert_eq!(other.get(b"cookie"), Some(&b"SRVX=1"[..]));
        Ok(())
    }

    #[test]
    fn set_cookie_attributes_in_haproxy_order() -> Result<(), BuildError> {
        let c = conf(&["insert", "secure", "httponly", "domain", "example.com"])?;
        assert_eq!(
            c.set_cookie("a1"),
            "SRV=a1; path=/; domain=example.com; HttpOnly; Secure"
        );
        Ok(())
    }

    #[test]
    fn cacheability_and_log_flags() {
        let lm = headers(&[("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert!(cacheable(b"GET", 200, &lm));
        assert!(!cacheable(b"POST", 200, &lm));
        assert!(!cacheable(b"GET", 200, &headers(&[])));
        let public = headers(&[("Last-Modified", "x"), ("Cache-Control", "public")]);
        assert!(!cacheable(b"GET", 200, &public));
        assert_eq!(&log_flags(None, false, false, b'I'), b"NI");
        assert_eq!(&log_flags(Some("a1"), true, false, b'N'), b"VN");
        assert_eq!(&log_flags(Some("a1"), false, true, b'I'), b"DI");
        assert_eq!(&log_flags(Some("zz"), false, false, b'I'), b"II");
    }

    #[test]
    fn prefix_mode_unprefixes_requests_and_prefixes_responses()
    -> Result<(), Box<dyn std::error::Error>> {
        let c = conf(&["prefix"])?;
        assert_eq!(c.server_key("a1~zz"), Some("a1"));
        assert_eq!(c.server_key("zz"), None);
        let mut h = headers(&[("Cookie", "x=1; SRV=a1~zz; y=2")]);
        c.unprefix(&mut h)?;
        assert_eq!(h.get(b"cookie"), Some(&b"x=1; SRV=zz; y=2"[..]));
        let mut res = headers(&[
            ("Server", "s"),
            ("Set-Cookie", "SRV=zz; path=/"),
            ("Set-Cookie", "other=1"),
            ("Content-Length", "0"),
        ]);
        assert!(c.prefix_response(&mut res, "a1")?);
        let got: Vec<(&[u8], &[u8])> = res.iter().collect();
        assert_eq!(
            got,
            [
                (&b"Server"[..], &b"s"[..]),
                (b"Set-Cookie", b"SRV=a1~zz; path=/"),
                (b"Set-Cookie", b"other=1"),
                (b"Content-Length", b"0"),
            ]
        );
        assert!(!c.prefix_response(&mut headers(&[("Set-Cookie", "SRVX=1")]), "a1")?);
        Ok(())
    }
}
