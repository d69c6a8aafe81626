//! Cookie-based persistence (`cookie NAME insert ...` and server
//! `cookie VALUE`): reading the persistence cookie from a request, removing
//! it in `indirect` mode, and the `Set-Cookie` a response gets.
//!
//! Only insert mode is applied; `rewrite`, `prefix`, `maxidle` and `maxlife`
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
        if !insert {
            return Err(refuse(
                "cookie persistence without 'insert' (rewrite and prefix modes)".into(),
            ));
        }
        Ok(conf)
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
pub(crate) fn log_flags(found: Option<&str>, valid: bool, down: bool, inserted: bool) -> [u8; 2] {
    let status = match (found, valid, down) {
        (None, _, _) => b'N',
        (Some(_), true, _) => b'V',
        (Some(_), false, true) => b'D',
        (Some(_), false, false) => b'I',
    };
    [status, if inserted { b'I' } else { b'N' }]
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
        for bad in [
            &["rewrite"][..],
            &["prefix"],
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
        assert_eq!(&log_flags(None, false, false, true), b"NI");
        assert_eq!(&log_flags(Some("a1"), true, false, false), b"VN");
        assert_eq!(&log_flags(Some("a1"), false, true, true), b"DI");
        assert_eq!(&log_flags(Some("zz"), false, false, true), b"II");
    }
}
