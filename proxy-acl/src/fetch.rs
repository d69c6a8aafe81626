//! Sample fetches: the criterion of an ACL (`path`, `hdr(host)`, `src`...), its
//! arguments, and the samples it yields from a [`RequestView`].
//!
//! A fetch may yield several samples (every `Host` value, every cookie named
//! `id`); an ACL matches when any of them matches, as with HAProxy's ACLs.
//!
//! Response fetches (`status`, `res.hdr`, `shdr`, `scook`, `res.ver`...) read
//! the response through [`RequestView`]'s response methods and yield nothing
//! while there is none; once it exists the request's contents (`path`,
//! `hdr`...) yield nothing, as in HAProxy's response rules.
//! [`Fetch::is_response_only`] and [`Fetch::is_request_only`] tell a
//! configuration checker which ones HAProxy calls incompatible where.

use std::net::{IpAddr, Ipv4Addr};

use crate::AclError;
use crate::pattern::leading_int;
use crate::view::{
    RequestView, Side, cookies, first_header, full_values, header_values, url_params,
};

/// A pattern matching method (`-m ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchMethod {
    /// `-m found`: the sample exists.
    Found,
    /// `-m bool`: the sample, as an integer, is non-zero.
    Bool,
    /// `-m int`: integer ranges and operators.
    Int,
    /// `-m ip`: IPv4/IPv6 addresses and networks.
    Ip,
    /// `-m str`: exact string.
    Str,
    /// `-m beg`: string prefix.
    Beg,
    /// `-m end`: string suffix.
    End,
    /// `-m sub`: substring.
    Sub,
    /// `-m reg`: regular expression search.
    Reg,
    /// `-m dom`: a run of whole domain labels (delimited by `/ ? . :`).
    Dom,
    /// `-m dir`: a run of whole path segments (delimited by `/ ?`).
    Dir,
    /// `-m len`: the string's length, compared as an integer.
    Len,
    /// The `method` keyword's own matching: known methods compare exactly,
    /// others as strings.
    Meth,
}

impl MatchMethod {
    /// Parses the argument of `-m`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "found" => Self::Found,
            "bool" => Self::Bool,
            "int" => Self::Int,
            "ip" => Self::Ip,
            "str" => Self::Str,
            "beg" => Self::Beg,
            "end" => Self::End,
            "sub" => Self::Sub,
            "reg" => Self::Reg,
            "dom" => Self::Dom,
            "dir" => Self::Dir,
            "len" => Self::Len,
            _ => return None,
        })
    }

    /// The name used after `-m`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Ip => "ip",
            Self::Str | Self::Meth => "str",
            Self::Beg => "beg",
            Self::End => "end",
            Self::Sub => "sub",
            Self::Reg => "reg",
            Self::Dom => "dom",
            Self::Dir => "dir",
            Self::Len => "len",
        }
    }
}

/// What a fetch produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutType {
    Str,
    Int,
    Bool,
    Ip,
    Meth,
}

impl OutType {
    /// Whether a sample of this type can be matched with `m` (HAProxy's cast table).
    pub(crate) fn allows(self, m: MatchMethod) -> bool {
        match self {
            Self::Str | Self::Int => true,
            Self::Ip => m != MatchMethod::Meth,
            Self::Bool => !matches!(m, MatchMethod::Ip | MatchMethod::Meth),
            Self::Meth => !matches!(m, MatchMethod::Int | MatchMethod::Ip | MatchMethod::Bool),
        }
    }
}

/// Which piece of the request a fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Path,
    Url,
    Base,
    Query,
    Method,
    Hdr,
    HdrCnt,
    HdrVal,
    HdrIp,
    /// Whole header values, commas included (`req.fhdr`, `res.fhdr`).
    Fhdr,
    FhdrCnt,
    Src,
    Dst,
    SrcPort,
    DstPort,
    UrlParam,
    UrlParamVal,
    Cook,
    CookCnt,
    CookVal,
    ReqVer,
    Status,
    ResVer,
    Var,
    SslFc,
    HttpAuth,
    HttpAuthGroup,
    AlwaysTrue,
    AlwaysFalse,
    /// `nbsrv([backend])`: usable servers of a backend.
    Nbsrv,
}

/// Which arguments a fetch takes between parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgSpec {
    None,
    /// `[name[,occ]]`
    NameOcc,
    /// `[name]`
    Name,
    /// `[name[,delim]]`
    NameDelim,
    /// `(userlist)`, required.
    Userlist,
    /// `(scope.name[,default])`, required.
    Var,
}

struct Keyword {
    name: &'static str,
    source: Source,
    /// Match method used without `-m`.
    default: MatchMethod,
    /// HAProxy lists it among ACL keywords (changes the error wording).
    acl_kw: bool,
    /// The message whose headers (or cookies) it reads.
    side: Side,
}

const fn kw(name: &'static str, source: Source, default: MatchMethod, acl_kw: bool) -> Keyword {
    Keyword {
        name,
        source,
        default,
        acl_kw,
        side: Side::Req,
    }
}

/// A keyword reading the response's headers or cookies.
const fn res(name: &'static str, source: Source, default: MatchMethod, acl_kw: bool) -> Keyword {
    Keyword {
        side: Side::Res,
        ..kw(name, source, default, acl_kw)
    }
}

use MatchMethod as M;
use Source as S;

/// Every criterion this crate knows, with its default match method.
static KEYWORDS: &[Keyword] = &[
    kw("path", S::Path, M::Str, true),
    kw("path_beg", S::Path, M::Beg, true),
    kw("path_dir", S::Path, M::Dir, true),
    kw("path_dom", S::Path, M::Dom, true),
    kw("path_end", S::Path, M::End, true),
    kw("path_len", S::Path, M::Len, true),
    kw("path_reg", S::Path, M::Reg, true),
    kw("path_sub", S::Path, M::Sub, true),
    kw("url", S::Url, M::Str, true),
    kw("url_beg", S::Url, M::Beg, true),
    kw("url_dir", S::Url, M::Dir, true),
    kw("url_dom", S::Url, M::Dom, true),
    kw("url_end", S::Url, M::End, true),
    kw("url_len", S::Url, M::Len, true),
    kw("url_reg", S::Url, M::Reg, true),
    kw("url_sub", S::Url, M::Sub, true),
    kw("base", S::Base, M::Str, true),
    kw("base_beg", S::Base, M::Beg, true),
    kw("base_dir", S::Base, M::Dir, true),
    kw("base_dom", S::Base, M::Dom, true),
    kw("base_end", S::Base, M::End, true),
    kw("base_len", S::Base, M::Len, true),
    kw("base_reg", S::Base, M::Reg, true),
    kw("base_sub", S::Base, M::Sub, true),
    kw("query", S::Query, M::Str, false),
    kw("method", S::Method, M::Meth, true),
    kw("hdr", S::Hdr, M::Str, true),
    kw("req.hdr", S::Hdr, M::Str, false),
    kw("hdr_beg", S::Hdr, M::Beg, true),
    kw("hdr_dir", S::Hdr, M::Dir, true),
    kw("hdr_dom", S::Hdr, M::Dom, true),
    kw("hdr_end", S::Hdr, M::End, true),
    kw("hdr_len", S::Hdr, M::Len, true),
    kw("hdr_reg", S::Hdr, M::Reg, true),
    kw("hdr_sub", S::Hdr, M::Sub, true),
    kw("hdr_cnt", S::HdrCnt, M::Int, false),
    kw("req.hdr_cnt", S::HdrCnt, M::Int, false),
    kw("hdr_val", S::HdrVal, M::Int, false),
    kw("req.hdr_val", S::HdrVal, M::Int, false),
    kw("hdr_ip", S::HdrIp, M::Ip, false),
    kw("req.hdr_ip", S::HdrIp, M::Ip, false),
    kw("src", S::Src, M::Ip, false),
    kw("dst", S::Dst, M::Ip, false),
    kw("src_port", S::SrcPort, M::Int, false),
    kw("dst_port", S::DstPort, M::Int, false),
    kw("url_param", S::UrlParam, M::Str, false),
    kw("urlp", S::UrlParam, M::Str, true),
    kw("urlp_beg", S::UrlParam, M::Beg, true),
    kw("urlp_dir", S::UrlParam, M::Dir, true),
    kw("urlp_dom", S::UrlParam, M::Dom, true),
    kw("urlp_end", S::UrlParam, M::End, true),
    kw("urlp_len", S::UrlParam, M::Len, true),
    kw("urlp_reg", S::UrlParam, M::Reg, true),
    kw("urlp_sub", S::UrlParam, M::Sub, true),
    kw("urlp_val", S::UrlParamVal, M::Int, false),
    kw("cook", S::Cook, M::Str, true),
    kw("req.cook", S::Cook, M::Str, false),
    kw("cook_beg", S::Cook, M::Beg, true),
    kw("cook_dir", S::Cook, M::Dir, true),
    kw("cook_dom", S::Cook, M::Dom, true),
    kw("cook_end", S::Cook, M::End, true),
    kw("cook_len", S::Cook, M::Len, true),
    kw("cook_reg", S::Cook, M::Reg, true),
    kw("cook_sub", S::Cook, M::Sub, true),
    kw("cook_cnt", S::CookCnt, M::Int, false),
    kw("req.cook_cnt", S::CookCnt, M::Int, false),
    kw("cook_val", S::CookVal, M::Int, false),
    kw("req.cook_val", S::CookVal, M::Int, false),
    kw("req.fhdr", S::Fhdr, M::Str, false),
    kw("req.fhdr_cnt", S::FhdrCnt, M::Int, false),
    res("res.hdr", S::Hdr, M::Str, false),
    res("shdr", S::Hdr, M::Str, true),
    res("shdr_beg", S::Hdr, M::Beg, true),
    res("shdr_dir", S::Hdr, M::Dir, true),
    res("shdr_dom", S::Hdr, M::Dom, true),
    res("shdr_end", S::Hdr, M::End, true),
    res("shdr_len", S::Hdr, M::Len, true),
    res("shdr_reg", S::Hdr, M::Reg, true),
    res("shdr_sub", S::Hdr, M::Sub, true),
    res("res.hdr_cnt", S::HdrCnt, M::Int, false),
    res("shdr_cnt", S::HdrCnt, M::Int, false),
    res("res.hdr_val", S::HdrVal, M::Int, false),
    res("shdr_val", S::HdrVal, M::Int, false),
    res("res.hdr_ip", S::HdrIp, M::Ip, false),
    res("shdr_ip", S::HdrIp, M::Ip, false),
    res("res.fhdr", S::Fhdr, M::Str, false),
    res("res.fhdr_cnt", S::FhdrCnt, M::Int, false),
    res("res.cook", S::Cook, M::Str, false),
    res("scook", S::Cook, M::Str, true),
    res("scook_beg", S::Cook, M::Beg, true),
    res("scook_dir", S::Cook, M::Dir, true),
    res("scook_dom", S::Cook, M::Dom, true),
    res("scook_end", S::Cook, M::End, true),
    res("scook_len", S::Cook, M::Len, true),
    res("scook_reg", S::Cook, M::Reg, true),
    res("scook_sub", S::Cook, M::Sub, true),
    res("res.cook_cnt", S::CookCnt, M::Int, false),
    res("scook_cnt", S::CookCnt, M::Int, false),
    res("res.cook_val", S::CookVal, M::Int, false),
    res("scook_val", S::CookVal, M::Int, false),
    kw("status", S::Status, M::Int, false),
    kw("res.ver", S::ResVer, M::Str, false),
    kw("resp_ver", S::ResVer, M::Str, true),
    // HAProxy gives `var` no default match method: `-m` is required.
    kw("var", S::Var, M::Str, false),
    kw("req.ver", S::ReqVer, M::Str, false),
    kw("req_ver", S::ReqVer, M::Str, true),
    kw("ssl_fc", S::SslFc, M::Bool, false),
    kw("http_auth", S::HttpAuth, M::Bool, false),
    kw("http_auth_group", S::HttpAuthGroup, M::Str, false),
    kw("always_true", S::AlwaysTrue, M::Bool, false),
    kw("always_false", S::AlwaysFalse, M::Bool, false),
    kw("nbsrv", S::Nbsrv, M::Int, false),
];

/// Names of every criterion (fetch or ACL keyword) this crate accepts.
pub fn criteria() -> impl Iterator<Item = &'static str> {
    KEYWORDS.iter().map(|k| k.name)
}

impl Source {
    fn args(self) -> ArgSpec {
        match self {
            S::Hdr | S::HdrVal | S::HdrIp | S::Fhdr => ArgSpec::NameOcc,
            S::HdrCnt | S::FhdrCnt | S::Cook | S::CookCnt | S::CookVal | S::Nbsrv => ArgSpec::Name,
            S::Var => ArgSpec::Var,
            S::UrlParam | S::UrlParamVal => ArgSpec::NameDelim,
            S::HttpAuth | S::HttpAuthGroup => ArgSpec::Userlist,
            _ => ArgSpec::None,
        }
    }

    pub(crate) fn out_type(self) -> OutType {
        match self {
            S::Path
            | S::Url
            | S::Base
            | S::Query
            | S::Hdr
            | S::UrlParam
            | S::Cook
            | S::ReqVer
            | S::Fhdr
            | S::ResVer
            | S::Var
            | S::HttpAuthGroup => OutType::Str,
            S::Method => OutType::Meth,
            S::HdrCnt
            | S::HdrVal
            | S::SrcPort
            | S::DstPort
            | S::UrlParamVal
            | S::CookCnt
            | S::CookVal
            | S::FhdrCnt
            | S::Status
            | S::Nbsrv => OutType::Int,
            S::HdrIp | S::Src | S::Dst => OutType::Ip,
            S::SslFc | S::HttpAuth | S::AlwaysTrue | S::AlwaysFalse => OutType::Bool,
        }
    }
}

/// A resolved criterion: what to read and with which arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub(crate) keyword: &'static str,
    pub(crate) source: Source,
    pub(crate) default: MatchMethod,
    /// The message whose headers or cookies it reads.
    pub(crate) side: Side,
    /// Header, cookie, parameter or variable name; empty means "any".
    pub(crate) name: String,
    /// `var(NAME,DEFAULT)`: the value used when the variable is unset.
    pub(crate) default_value: Option<String>,
    /// Header occurrence: 0 = all, n > 0 = n-th, n < 0 = n-th from the last.
    pub(crate) occ: i64,
    /// URL parameter delimiter.
    pub(crate) delim: char,
}

impl Fetch {
    /// Parses a criterion such as `hdr_beg(host)` or `src`.
    pub fn parse(criterion: &str) -> Result<Self, AclError> {
        let (name, rest) = match criterion.find('(') {
            Some(i) => (&criterion[..i], Some(&criterion[i + 1..])),
            None => (criterion, None),
        };
        let k = KEYWORDS
            .iter()
            .find(|k| k.name == name)
            .ok_or_else(|| AclError::UnknownFetch(criterion.to_string()))?;
        let err = |msg: String| {
            AclError::Pattern(if k.acl_kw {
                format!("ACL keyword '{name}' : {msg}")
            } else {
                format!("fetch method '{name}' : {msg} in ACL expression '{criterion}'")
            })
        };
        let mut fetch = Self {
            keyword: k.name,
            source: k.source,
            default: k.default,
            side: k.side,
            name: String::new(),
            occ: 0,
            delim: '&',
            default_value: None,
        };
        let missing_userlist = || {
            Err(AclError::Pattern(format!(
                "missing userlist name in arg 1 of ACL keyword '{name}'"
            )))
        };
        let Some(rest) = rest else {
            if k.source.args() == ArgSpec::Userlist {
                return missing_userlist();
            }
            if k.source.args() == ArgSpec::Var {
                check_var_name("", criterion)?;
            }
            return Ok(fetch);
        };
        let inner = match rest.find(')') {
            Some(close) => {
                let after = &rest[close + 1..];
                if !after.is_empty() {
                    return Err(err(format!("unexpected '{after}' after ')'")));
                }
                &rest[..close]
            }
            None => return Err(err("expected ')'".into())),
        };
        let max_args = match k.source.args() {
            ArgSpec::None => 0,
            ArgSpec::Name | ArgSpec::Userlist => 1,
            ArgSpec::NameOcc | ArgSpec::NameDelim | ArgSpec::Var => 2,
        };
        let mut start = 0;
        for (pos, arg) in inner.split(',').enumerate() {
            if pos >= max_args {
                if max_args == 0 && inner.is_empty() {
                    break;
                }
                let from = if pos == 0 { 0 } else { start - 1 };
                return Err(err(format!(
                    "expected ')' before '{})'",
                    inner.get(from..).unwrap_or_default()
                )));
            }
            start += arg.len() + 1;
            match (pos, k.source.args()) {
                (0, _) => fetch.name = arg.to_string(),
                (1, ArgSpec::NameOcc) => {
                    if arg.is_empty() {
                        continue;
                    }
                    fetch.occ = arg.parse().map_err(|_| {
                        err(format!(
                            "failed to parse '{arg}' as type 'integer' at position 2"
                        ))
                    })?;
                }
                // A default value for an unset variable.
                (1, ArgSpec::Var) => fetch.default_value = Some(arg.to_string()),
                (1, _) => {
                    let mut chars = arg.chars();
                    match (chars.next(), chars.next()) {
                        (None, _) => {}
                        (Some(c), None) => fetch.delim = c,
                        _ => {
                            return Err(err(format!(
                                "delimiter '{arg}' must be a single character"
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        if k.source.args() == ArgSpec::Userlist && fetch.name.is_empty() {
            return missing_userlist();
        }
        if k.source.args() == ArgSpec::Var {
            check_var_name(&fetch.name, criterion)?;
        }
        Ok(fetch)
    }

    /// The userlist named by `http_auth(L)` or `http_auth_group(L)`, which
    /// the configuration must declare.
    pub fn userlist(&self) -> Option<&str> {
        matches!(self.source, S::HttpAuth | S::HttpAuthGroup).then_some(self.name.as_str())
    }

    /// For `nbsrv([backend])`: the backend it counts the servers of, `None`
    /// for the proxy it is used in, which must have the backend capability.
    pub fn counted_backend(&self) -> Option<Option<&str>> {
        (self.source == S::Nbsrv).then(|| Some(self.name.as_str()).filter(|n| !n.is_empty()))
    }

    /// The keyword as written, without arguments.
    pub fn keyword(&self) -> &'static str {
        self.keyword
    }

    /// The match method used when no `-m` is given.
    pub fn default_match(&self) -> MatchMethod {
        self.default
    }

    /// Whether an ACL on this fetch needs an explicit `-m` (HAProxy gives
    /// `var` no default match method).
    pub fn needs_match_method(&self) -> bool {
        self.source == S::Var
    }

    /// Whether the fetch reads the response (`status`, `res.hdr`, `shdr`,
    /// `scook`, `res.ver`...): HAProxy warns that an ACL on it never
    /// matches in request rules, `use_backend` and the like.
    pub fn is_response_only(&self) -> bool {
        self.side == Side::Res || matches!(self.source, S::Status | S::ResVer)
    }

    /// Whether the fetch reads the request's contents (`path`, `hdr`,
    /// `cook`, `url_param`, `req.ver`...): HAProxy 2.6 warns that an ACL on
    /// it never matches in `http-response` rules, and it does not match
    /// there. The method, the addresses, `ssl_fc`, `var` and the constants
    /// remain readable.
    pub fn is_request_only(&self) -> bool {
        !self.is_response_only()
            && !matches!(
                self.source,
                S::Method
                    | S::Src
                    | S::Dst
                    | S::SrcPort
                    | S::DstPort
                    | S::SslFc
                    | S::Var
                    | S::AlwaysTrue
                    | S::AlwaysFalse
                    | S::Nbsrv
            )
    }

    pub(crate) fn out_type(&self) -> OutType {
        self.source.out_type()
    }

    /// Calls `f` with each sample until it returns `true`; returns whether it did.
    pub(crate) fn any(
        &self,
        view: &dyn RequestView,
        f: &mut dyn FnMut(Sample<'_>) -> bool,
    ) -> bool {
        // Before the response exists, response fetches yield no sample at
        // all, not even a count of zero; once it exists, the request's
        // contents are out of reach, as in HAProxy's response rules.
        let response = view.status().is_some();
        if (self.is_response_only() && !response) || (self.is_request_only() && response) {
            return false;
        }
        match self.source {
            S::Path => view.path().is_some_and(|p| f(Sample::Str(p))),
            S::Url => f(Sample::Str(view.url())),
            S::Base => {
                let path = view.path().unwrap_or_default();
                match first_header(view, "host") {
                    None => f(Sample::Str(path)),
                    Some(host) => with_concat(host, path, &mut |s| f(Sample::Str(s))),
                }
            }
            S::Query => view.query().is_some_and(|q| f(Sample::Str(q))),
            S::Method => f(Sample::Meth(view.method())),
            S::Hdr => self.headers(view, &mut |v| f(Sample::Str(v))),
            S::HdrCnt => {
                let n = header_values(view, self.side, &self.name).count();
                f(Sample::Int(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            S::Fhdr => self.full_headers(view, &mut |v| f(Sample::Str(v))),
            S::FhdrCnt => {
                let n = full_values(view, self.side, &self.name).count();
                f(Sample::Int(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            S::Status => view.status().is_some_and(|s| f(Sample::Int(i64::from(s)))),
            S::ResVer => view.res_version().is_some_and(|v| f(Sample::Str(v))),
            S::Var => view
                .var(&self.name)
                .or(self.default_value.as_deref())
                .is_some_and(|v| f(Sample::Str(v))),
            S::HdrVal => self.headers(view, &mut |v| {
                leading_int(v).is_some_and(|n| f(Sample::Int(n)))
            }),
            S::HdrIp => self.headers(view, &mut |v| {
                header_ip(v).is_some_and(|a| f(Sample::Ip(a)))
            }),
            S::Src => view.src().is_some_and(|a| f(Sample::Ip(a.ip()))),
            S::Dst => view.dst().is_some_and(|a| f(Sample::Ip(a.ip()))),
            S::SrcPort => view
                .src()
                .is_some_and(|a| f(Sample::Int(i64::from(a.port())))),
            S::DstPort => view
                .dst()
                .is_some_and(|a| f(Sample::Int(i64::from(a.port())))),
            S::UrlParam => self.params(view, &mut |v| f(Sample::Str(v))),
            S::UrlParamVal => self.params(view, &mut |v| {
                leading_int(v).is_some_and(|n| f(Sample::Int(n)))
            }),
            S::Cook => self.cookies(view, &mut |v| f(Sample::Str(v))),
            S::CookCnt => {
                let n = cookies(view, self.side)
                    .filter(|(n, _)| self.name.is_empty() || *n == self.name)
                    .count();
                f(Sample::Int(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            S::CookVal => self.cookies(view, &mut |v| {
                leading_int(v).is_some_and(|n| f(Sample::Int(n)))
            }),
            S::ReqVer => f(Sample::Str(view.version())),
            S::SslFc => f(Sample::Bool(view.ssl())),
            S::HttpAuth => f(Sample::Bool(view.http_auth(&self.name).is_some())),
            S::HttpAuthGroup => view
                .http_auth(&self.name)
                .is_some_and(|groups| groups.iter().any(|g| f(Sample::Str(g)))),
            S::AlwaysTrue => f(Sample::Bool(true)),
            S::AlwaysFalse => f(Sample::Bool(false)),
            S::Nbsrv => view
                .nbsrv(self.counted_backend().flatten())
                .is_some_and(|n| f(Sample::Int(i64::from(n)))),
        }
    }

    /// Header values for `hdr`, `hdr_val` and `hdr_ip`. Without a name these
    /// yield nothing: haproxy 2.6 documents "every header" but its ACLs match none.
    fn headers(&self, view: &dyn RequestView, f: &mut dyn FnMut(&str) -> bool) -> bool {
        if self.name.is_empty() {
            return false;
        }
        let values = || header_values(view, self.side, &self.name);
        nth_or_any(self.occ, values, f)
    }

    /// Whole header values for `req.fhdr` and `res.fhdr`. Without a name
    /// these yield nothing, as [`headers`](Self::headers).
    fn full_headers(&self, view: &dyn RequestView, f: &mut dyn FnMut(&str) -> bool) -> bool {
        if self.name.is_empty() {
            return false;
        }
        nth_or_any(self.occ, || full_values(view, self.side, &self.name), f)
    }

    fn params(&self, view: &dyn RequestView, f: &mut dyn FnMut(&str) -> bool) -> bool {
        let Some(q) = view.query() else {
            return false;
        };
        url_params(q, self.delim)
            .filter(|(n, _)| self.name.is_empty() || *n == self.name)
            .any(|(_, v)| f(v))
    }

    fn cookies(&self, view: &dyn RequestView, f: &mut dyn FnMut(&str) -> bool) -> bool {
        cookies(view, self.side)
            .filter(|(n, _)| self.name.is_empty() || *n == self.name)
            .any(|(_, v)| f(v))
    }
}

/// Calls `f` on every value (`occ` 0), the `occ`-th (`occ` > 0) or the
/// `-occ`-th from the last (`occ` < 0) of the values `values` yields.
fn nth_or_any<'a, I: Iterator<Item = &'a str>>(
    occ: i64,
    values: impl Fn() -> I,
    f: &mut dyn FnMut(&str) -> bool,
) -> bool {
    match occ {
        0 => values().any(f),
        n if n > 0 => usize::try_from(n - 1)
            .ok()
            .and_then(|i| values().nth(i))
            .is_some_and(f),
        n => {
            let back = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
            let count = values().count();
            count
                .checked_sub(back)
                .and_then(|i| values().nth(i))
                .is_some_and(f)
        }
    }
}

/// HAProxy's rule for variable names: a known scope, a dot, a name.
fn check_var_name(name: &str, criterion: &str) -> Result<(), AclError> {
    const SCOPES: &[&str] = &["proc", "sess", "txn", "req", "res", "check"];
    let message = if name.is_empty() {
        "Empty variable name cannot be accepted".to_string()
    } else if name
        .split_once('.')
        .is_some_and(|(scope, rest)| SCOPES.contains(&scope) && !rest.is_empty())
    {
        return Ok(());
    } else {
        format!(
            "invalid variable name '{name}'. A variable name must be start by its scope. \
             The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
        )
    };
    Err(AclError::Pattern(format!(
        "invalid args in fetch method 'var' : {message} in ACL expression '{criterion}'"
    )))
}

/// An address at the start of a header value: a dotted quad (possibly followed by
/// `:port`), else a whole IPv6 address.
fn header_ip(v: &str) -> Option<IpAddr> {
    let end = v
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(v.len());
    if let Ok(a) = v[..end].parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(a));
    }
    v.trim().parse().ok()
}

/// Calls `f` with `a` followed by `b`, built on the stack when short enough.
fn with_concat(a: &str, b: &str, f: &mut dyn FnMut(&str) -> bool) -> bool {
    let mut buf = [0u8; 512];
    let len = a.len() + b.len();
    if let Some(dst) = buf.get_mut(..len) {
        let (x, y) = dst.split_at_mut(a.len());
        x.copy_from_slice(a.as_bytes());
        y.copy_from_slice(b.as_bytes());
        // Both halves are whole `str`s, so the concatenation is valid UTF-8.
        return std::str::from_utf8(dst).is_ok_and(&mut *f);
    }
    let mut s = String::with_capacity(len);
    s.push_str(a);
    s.push_str(b);
    f(&s)
}

/// One value a fetch produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sample<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
    Ip(IpAddr),
    Meth(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perr(c: &str) -> String {
        match Fetch::parse(c) {
            Err(e) => e.to_string(),
            Ok(f) => format!("ok {f:?}"),
        }
    }

    #[test]
    fn criterion_args() {
        let f = Fetch::parse("hdr(Host,-1)").unwrap();
        assert_eq!((f.name.as_str(), f.occ), ("Host", -1));
        let f = Fetch::parse("url_param(id,;)").unwrap();
        assert_eq!((f.name.as_str(), f.delim), ("id", ';'));
        assert!(Fetch::parse("hdr()").is_ok());
        assert!(Fetch::parse("src()").is_ok());
    }

    // Wording checked against `haproxy -c` 2.6.12.
    #[test]
    fn criterion_errors() {
        assert_eq!(
            perr("foo_bar"),
            "unknown fetch method 'foo_bar' in ACL expression 'foo_bar'"
        );
        assert_eq!(
            perr("path(foo)"),
            "ACL keyword 'path' : expected ')' before 'foo)'"
        );
        assert_eq!(
            perr("src(x)"),
            "fetch method 'src' : expected ')' before 'x)' in ACL expression 'src(x)'"
        );
        assert_eq!(
            perr("hdr(a,1,2)"),
            "ACL keyword 'hdr' : expected ')' before ',2)'"
        );
        assert_eq!(perr("hdr(a"), "ACL keyword 'hdr' : expected ')'");
        assert_eq!(
            perr("hdr(a,x)"),
            "ACL keyword 'hdr' : failed to parse 'x' as type 'integer' at position 2"
        );
        assert_eq!(
            perr("hdr_cnt(a,1)"),
            "fetch method 'hdr_cnt' : expected ')' before ',1)' in ACL expression 'hdr_cnt(a,1)'"
        );
        assert_eq!(
            perr("url_param(a,b,c)"),
            "fetch method 'url_param' : expected ')' before ',c)' in ACL expression 'url_param(a,b,c)'"
        );
        assert_eq!(
            perr("cook(a,b)"),
            "ACL keyword 'cook' : expected ')' before ',b)'"
        );
    }

    #[test]
    fn type_table() {
        assert!(!OutType::Bool.allows(MatchMethod::Ip));
        assert!(!OutType::Meth.allows(MatchMethod::Int));
        assert!(!OutType::Meth.allows(MatchMethod::Bool));
        assert!(OutType::Meth.allows(MatchMethod::Found));
        assert!(OutType::Ip.allows(MatchMethod::Beg));
        assert!(OutType::Int.allows(MatchMethod::Ip));
    }

    #[test]
    fn header_ips() {
        assert_eq!(header_ip("1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(header_ip(" ::1 "), "::1".parse().ok());
        assert_eq!(header_ip("nope"), None);
    }
}
