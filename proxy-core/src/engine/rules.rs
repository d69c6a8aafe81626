//! `http-request` / `http-response` rules compiled from the configuration:
//! conditions resolved against the proxy's ACLs, log-format values parsed
//! into literal and sample parts, regular expressions built, `return` bodies
//! read. Applying them to a message is the HTTP session's job; this module
//! only evaluates values through the [`Samples`] a session provides.

use std::collections::HashMap;

use bytes::Bytes;
use proxy_acl::{AclSet, CompiledCondition, NoFiles};
use proxy_config::{HttpAction, HttpRule, Span, Spanned};
use regex::bytes::Regex;

use super::error::BuildError;

/// What a log-format expression or a `set-var` sample can read.
pub(crate) trait Samples {
    /// The value of sample fetch `fetch` (`src`, `path`, `req.hdr(host)`...).
    fn fetch(&self, fetch: &Fetch) -> Option<String>;
}

/// A sample fetch a rule may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// `src` / `%ci`.
    Src,
    /// `src_port` / `%cp`.
    SrcPort,
    /// `dst` / `%fi`.
    Dst,
    /// `dst_port` / `%fp`.
    DstPort,
    /// `method`.
    Method,
    /// `path`.
    Path,
    /// `query`.
    Query,
    /// `url`.
    Url,
    /// `base`: Host header then path.
    Base,
    /// `req.hdr(NAME)`: the last value of the request header.
    ReqHdr(String),
    /// `hdr(NAME)`: the last value of the header in the message the rule
    /// works on, the request's in request rules and the response's in
    /// response rules, as HAProxy's `hdr` sample fetch.
    Hdr(String),
    /// `res.hdr(NAME)`: the last value of the response header.
    ResHdr(String),
    /// `status` of the response.
    Status,
    /// `var(SCOPE.NAME)`.
    Var(String),
    /// `str(TEXT)`: a constant.
    Str(String),
}

impl Fetch {
    /// Parses a sample expression without converters.
    fn parse(s: &str) -> Option<Fetch> {
        let s = s.trim();
        let (name, arg) = match s.split_once('(') {
            Some((n, rest)) => (n, Some(rest.strip_suffix(')')?)),
            None => (s, None),
        };
        Some(match (name, arg) {
            ("src", None) => Fetch::Src,
            ("src_port", None) => Fetch::SrcPort,
            ("dst", None) => Fetch::Dst,
            ("dst_port", None) => Fetch::DstPort,
            ("method", None) => Fetch::Method,
            ("path", None) => Fetch::Path,
            ("query", None) => Fetch::Query,
            ("url", None) => Fetch::Url,
            ("base", None) => Fetch::Base,
            ("status", None) => Fetch::Status,
            ("req.hdr", Some(h)) if !h.is_empty() && !h.contains(',') => {
                Fetch::ReqHdr(h.to_string())
            }
            ("hdr", Some(h)) if !h.is_empty() && !h.contains(',') => Fetch::Hdr(h.to_string()),
            ("res.hdr", Some(h)) if !h.is_empty() && !h.contains(',') => {
                Fetch::ResHdr(h.to_string())
            }
            ("var", Some(v)) if !v.is_empty() => Fetch::Var(v.to_string()),
            ("str", Some(v)) => Fetch::Str(v.to_string()),
            ("int", Some(v)) if v.parse::<i64>().is_ok() => Fetch::Str(v.to_string()),
            _ => return None,
        })
    }
}

/// One part of a log-format string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Sample(Fetch),
}

/// A compiled log-format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fmt(Vec<Part>);

impl Fmt {
    /// Parses the subset of HAProxy's log-format used in rule values:
    /// literal text, `%%`, `%[fetch]`, `%ci`, `%cp`, `%fi`, `%fp`.
    pub(crate) fn parse(s: &str) -> Result<Fmt, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            lit.push_str(rest.get(..i).unwrap_or_default());
            let after = rest.get(i + 1..).unwrap_or_default();
            let (part, used) = if let Some(r) = after.strip_prefix('%') {
                lit.push('%');
                rest = r;
                continue;
            } else if let Some(r) = after.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| format!("missing ']' in '{s}'"))?;
                let expr = r.get(..end).unwrap_or_default();
                let f = Fetch::parse(expr)
                    .ok_or_else(|| format!("unsupported sample expression '{expr}'"))?;
                (Part::Sample(f), end + 2)
            } else {
                let alias = after.get(..2).unwrap_or(after);
                let f = match alias {
                    "ci" => Fetch::Src,
                    "cp" => Fetch::SrcPort,
                    "fi" => Fetch::Dst,
                    "fp" => Fetch::DstPort,
                    _ => return Err(format!("unsupported log-format variable '%{alias}'")),
                };
                (Part::Sample(f), 2)
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(part);
            rest = after.get(used..).unwrap_or_default();
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Fmt(parts))
    }

    /// Renders the string; a missing sample renders as nothing.
    pub(crate) fn render(&self, samples: &dyn Samples) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Sample(f) => {
                    if let Some(v) = samples.fetch(f) {
                        out.push_str(&v);
                    }
                }
            }
        }
        out
    }
}

/// Which redirect form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RedirectKind {
    /// `location`: the value as is.
    Location,
    /// `prefix`: the value then the original path and query.
    Prefix,
    /// `scheme`: the value, `://`, the Host, then path and query.
    Scheme,
}

/// `redirect` as compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redirect {
    /// Form.
    pub(crate) kind: RedirectKind,
    /// The location, prefix or scheme.
    pub(crate) value: Fmt,
    /// Status (301, 302, 303, 307 or 308).
    pub(crate) code: u16,
    /// `drop-query`.
    pub(crate) drop_query: bool,
    /// `append-slash`.
    pub(crate) append_slash: bool,
}

/// `return` (and `deny` with a custom answer) as compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Status.
    pub(crate) status: u16,
    /// `content-type`.
    pub(crate) content_type: Option<String>,
    /// Body: fixed bytes, a log-format string, or none.
    pub(crate) body: Option<ReplyBody>,
    /// Extra `hdr NAME FMT` fields.
    pub(crate) headers: Vec<(String, Fmt)>,
}

/// The body of a [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyBody {
    /// `string` or `file`.
    Fixed(Bytes),
    /// `lf-string`.
    Format(Fmt),
}

/// A rule action.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// `set-header`.
    SetHeader(String, Fmt),
    /// `add-header`.
    AddHeader(String, Fmt),
    /// `del-header` (exact name).
    DelHeader(String),
    /// `replace-header NAME REGEX FMT`: each value in which the regex
    /// matches becomes FMT with the back-references filled in.
    ReplaceHeader(String, Regex, Fmt),
    /// `replace-value NAME REGEX FMT`: the same on each comma-separated
    /// element of the values.
    ReplaceValue(String, Regex, Fmt),
    /// `set-path`.
    SetPath(Fmt),
    /// `set-query`.
    SetQuery(Fmt),
    /// `redirect`.
    Redirect(Redirect),
    /// `deny` with HAProxy's error page for the status.
    Deny(u16),
    /// `allow`: stop evaluating rules.
    Allow,
    /// `return`.
    Return(Reply),
    /// `set-var(NAME) EXPR`.
    SetVar(String, Fetch),
    /// `use-service prometheus-exporter`: the proxy answers with its metrics.
    Prometheus,
    /// `auth [realm R]`: 401 asking for credentials in realm R (the proxy's
    /// name by default).
    Auth(Option<String>),
}

/// A rule: an action and its condition.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// The condition (always true when `None`).
    pub(crate) cond: Option<CompiledCondition>,
    /// The action.
    pub(crate) action: Action,
}

/// The rules of one proxy for one direction, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpRules(pub(crate) Vec<Rule>);

/// Compiles `rules` against the proxy's ACLs.
pub(crate) fn compile(rules: &[Spanned<HttpRule>], acls: &AclSet) -> Result<HttpRules, BuildError> {
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let cond = match &r.value.condition {
            Some(c) => Some(
                acls.compile(c, &NoFiles)
                    .map_err(|source| BuildError::Acl {
                        at: r.span.to_string(),
                        source,
                    })?,
            ),
            None => None,
        };
        let action = action(&r.value.action, &r.span)?;
        out.push(Rule { cond, action });
    }
    Ok(HttpRules(out))
}

fn fmt(s: &str, span: &Span) -> Result<Fmt, BuildError> {
    Fmt::parse(s).map_err(|what| BuildError::Unsupported {
        at: span.to_string(),
        what,
    })
}

fn invalid(span: &Span, message: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        at: span.to_string(),
        message: message.into(),
    }
}

fn action(a: &HttpAction, span: &Span) -> Result<Action, BuildError> {
    Ok(match a {
        HttpAction::SetHeader { name, value } => Action::SetHeader(name.clone(), fmt(value, span)?),
        HttpAction::AddHeader { name, value } => Action::AddHeader(name.clone(), fmt(value, span)?),
        HttpAction::DelHeader { name, method } => {
            if method.as_deref().is_some_and(|m| m != "str") {
                return Err(BuildError::Unsupported {
                    at: span.to_string(),
                    what: "del-header with a match method other than 'str'".into(),
                });
            }
            Action::DelHeader(name.clone())
        }
        HttpAction::ReplaceHeader {
            name,
            regex,
            replacement,
        } => {
            // Unanchored, as HAProxy's: the regex may match anywhere.
            let re = Regex::new(regex)
                .map_err(|e| invalid(span, format!("invalid regex '{regex}': {e}")))?;
            Action::ReplaceHeader(name.clone(), re, fmt(replacement, span)?)
        }
        HttpAction::Other { name, args } if name == "auth" => match args.as_slice() {
            [] => Action::Auth(None),
            [kw, realm] if kw == "realm" => Action::Auth(Some(realm.clone())),
            _ => return Err(invalid(span, "auth expects nothing or 'realm' and a realm")),
        },
        HttpAction::Other { name, args } if name == "replace-value" => {
            let [header, regex, replacement] = args.as_slice() else {
                return Err(invalid(
                    span,
                    "replace-value expects a header name, a regex and a replacement",
                ));
            };
            let re = Regex::new(regex)
                .map_err(|e| invalid(span, format!("invalid regex '{regex}': {e}")))?;
            Action::ReplaceValue(header.clone(), re, fmt(replacement, span)?)
        }
        HttpAction::SetPath(v) => Action::SetPath(fmt(v, span)?),
        HttpAction::SetQuery(v) => Action::SetQuery(fmt(v, span)?),
        HttpAction::Redirect(words) => Action::Redirect(redirect(words, span)?),
        HttpAction::Deny { status, args } => {
            if !args.is_empty() {
                return Err(BuildError::Unsupported {
                    at: span.to_string(),
                    what: format!("deny arguments '{}'", args.join(" ")),
                });
            }
            Action::Deny(status.unwrap_or(403))
        }
        HttpAction::Allow => Action::Allow,
        HttpAction::Return(words) => Action::Return(reply(words, span)?),
        HttpAction::SetVar { name, expr } => {
            let text = expr.join(" ");
            let f = Fetch::parse(&text).ok_or_else(|| BuildError::Unsupported {
                at: span.to_string(),
                what: format!("sample expression '{text}'"),
            })?;
            Action::SetVar(name.clone(), f)
        }
        HttpAction::UseService(s) if s == "prometheus-exporter" => Action::Prometheus,
        HttpAction::UseService(s) => {
            return Err(BuildError::Unsupported {
                at: span.to_string(),
                what: format!("use-service {s}"),
            });
        }
        HttpAction::Other { name, .. } => {
            return Err(BuildError::Unsupported {
                at: span.to_string(),
                what: format!("http rule action '{name}'"),
            });
        }
    })
}

fn redirect(words: &[String], span: &Span) -> Result<Redirect, BuildError> {
    let mut it = words.iter();
    let kind = match it.next().map(String::as_str) {
        Some("location") => RedirectKind::Location,
        Some("prefix") => RedirectKind::Prefix,
        Some("scheme") => RedirectKind::Scheme,
        _ => {
            return Err(invalid(
                span,
                "redirect expects 'location', 'prefix' or 'scheme'",
            ));
        }
    };
    let value = it
        .next()
        .ok_or_else(|| invalid(span, "redirect expects a value"))?;
    let mut r = Redirect {
        kind,
        value: fmt(value, span)?,
        code: 302,
        drop_query: false,
        append_slash: false,
    };
    while let Some(w) = it.next() {
        match w.as_str() {
            "code" => {
                let c = it
                    .next()
                    .and_then(|c| c.parse::<u16>().ok())
                    .filter(|c| [301, 302, 303, 307, 308].contains(c))
                    .ok_or_else(|| {
                        invalid(span, "redirect code must be 301, 302, 303, 307 or 308")
                    })?;
                r.code = c;
            }
            "drop-query" => r.drop_query = true,
            "append-slash" => r.append_slash = true,
            other => {
                return Err(BuildError::Unsupported {
                    at: span.to_string(),
                    what: format!("redirect option '{other}'"),
                });
            }
        }
    }
    Ok(r)
}

fn reply(words: &[String], span: &Span) -> Result<Reply, BuildError> {
    let mut r = Reply {
        status: 200,
        content_type: None,
        body: None,
        headers: Vec::new(),
    };
    let mut it = words.iter();
    let mut next = |what: &str| {
        it.next()
            .cloned()
            .ok_or_else(|| invalid(span, format!("return: '{what}' expects a value")))
    };
    let mut files: HashMap<String, Bytes> = HashMap::new();
    while let Ok(w) = next("") {
        match w.as_str() {
            "status" => {
                r.status = next("status")?
                    .parse()
                    .ok()
                    .filter(|s| (200..=599).contains(s))
                    .ok_or_else(|| invalid(span, "return: status must be 200 to 599"))?;
            }
            "content-type" => r.content_type = Some(next("content-type")?),
            "string" => r.body = Some(ReplyBody::Fixed(Bytes::from(next("string")?))),
            "lf-string" => r.body = Some(ReplyBody::Format(fmt(&next("lf-string")?, span)?)),
            "file" => {
                let path = next("file")?;
                let body = match files.get(&path) {
                    Some(b) => b.clone(),
                    None => {
                        let b =
                            Bytes::from(std::fs::read(&path).map_err(|source| BuildError::Io {
                                at: span.to_string(),
                                message: format!("cannot read '{path}'"),
                                source,
                            })?);
                        files.insert(path, b.clone());
                        b
                    }
                };
                r.body = Some(ReplyBody::Fixed(body));
            }
            "hdr" => {
                let name = next("hdr")?;
                let value = next("hdr")?;
                r.headers.push((name, fmt(&value, span)?));
            }
            "default-errorfiles" => {}
            other => {
                return Err(BuildError::Unsupported {
                    at: span.to_string(),
                    what: format!("return option '{other}'"),
                });
            }
        }
    }
    if r.body.is_some() && r.content_type.is_none() {
        return Err(invalid(span, "return: a body requires a 'content-type'"));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S;
    impl Samples for S {
        fn fetch(&self, f: &Fetch) -> Option<String> {
            match f {
                Fetch::Src => Some("10.0.0.1".into()),
                Fetch::ReqHdr(h) if h == "host" => Some("example.org".into()),
                Fetch::Str(s) => Some(s.clone()),
                _ => None,
            }
        }
    }

    #[test]
    fn log_format_values() {
        let f = Fmt::parse("a %[src] b %[req.hdr(host)]%% %ci").unwrap();
        assert_eq!(f.render(&S), "a 10.0.0.1 b example.org% 10.0.0.1");
        assert_eq!(Fmt::parse("plain").unwrap().render(&S), "plain");
        assert_eq!(Fmt::parse("%[path]").unwrap().render(&S), "");
        assert!(Fmt::parse("%[src").is_err());
        assert!(Fmt::parse("%[lower(src)]").is_err());
        assert!(Fmt::parse("%Tq").is_err());
    }

    #[test]
    fn fetch_parsing() {
        assert_eq!(Fetch::parse("hdr(x-a)"), Some(Fetch::Hdr("x-a".into())));
        assert_eq!(
            Fetch::parse("req.hdr(x-a)"),
            Some(Fetch::ReqHdr("x-a".into()))
        );
        assert_eq!(Fetch::parse("str(abc)"), Some(Fetch::Str("abc".into())));
        assert_eq!(Fetch::parse("var(txn.x)"), Some(Fetch::Var("txn.x".into())));
        assert_eq!(Fetch::parse("int(x)"), None);
        assert_eq!(Fetch::parse("nope"), None);
    }
}
