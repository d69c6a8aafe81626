//! The `log-format` language: `%`-variables, `%{flags}`, `%[sample]` and
//! literal text, parsed into a [`LogFormatExpr`] and checked as HAProxy 2.6
//! checks it when it reads the configuration.
//!
//! Spaces in the text are separators: HAProxy writes one space for a run of
//! them, and none after a field that printed nothing. `%o` with flags sets
//! the flags of every following field; it prints nothing itself. This module
//! only parses: rendering a line is the engine's job.

use std::fmt;

/// A parsed `log-format` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormatExpr {
    /// The string as written (after the configuration's unquoting).
    pub source: String,
    /// Its parts, in order.
    pub nodes: Vec<LogNode>,
}

/// One part of a log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogNode {
    /// Literal text (never contains a space; `%%` is already a `%`).
    Text(String),
    /// One or more spaces.
    Separator,
    /// A `%` variable.
    Var {
        /// Which one.
        var: LogVar,
        /// Its flags, with those of a preceding `%o` applied.
        flags: LogFlags,
    },
    /// A `%[fetch,converter...]` sample expression.
    Sample {
        /// The expression.
        expr: SampleExpr,
        /// Its flags, with those of a preceding `%o` applied.
        flags: LogFlags,
    },
}

/// Field flags: `%{+Q}`, `%{+X}`, `%{+E}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogFlags {
    /// `+Q`: the field is written between double quotes.
    pub quote: bool,
    /// `+X`: numbers and addresses are written in hexadecimal.
    pub hex: bool,
    /// `+E`: `"`, `\` and `]` are escaped with a backslash.
    pub escape: bool,
}

/// A sample expression of a log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleExpr {
    /// The fetch.
    pub fetch: LogFetch,
    /// Converters applied in order.
    pub converters: Vec<LogConverter>,
}

/// Sample fetches usable in a log format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFetch {
    /// `src`: client address.
    Src,
    /// `src_port`: client port.
    SrcPort,
    /// `dst`: address the client connected to.
    Dst,
    /// `dst_port`: port the client connected to.
    DstPort,
    /// `fe_name`.
    FeName,
    /// `be_name`.
    BeName,
    /// `srv_name`.
    SrvName,
    /// `method` (from the request line).
    Method,
    /// `status`: the status sent to the client.
    Status,
    /// `capture.req.method`.
    CaptureReqMethod,
    /// `capture.req.uri`.
    CaptureReqUri,
    /// `capture.req.ver`.
    CaptureReqVer,
    /// `capture.req.hdr(N)`: the Nth `capture request header`.
    CaptureReqHdr(u32),
    /// `capture.res.hdr(N)`: the Nth `capture response header`.
    CaptureResHdr(u32),
    /// `str(TEXT)`.
    Str(String),
    /// `int(N)`.
    Int(i64),
}

/// Converters usable in a log format's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogConverter {
    /// `lower`.
    Lower,
    /// `upper`.
    Upper,
    /// `hex`: bytes as upper-case hexadecimal.
    Hex,
    /// `base64`.
    Base64,
    /// `length`: the length in bytes.
    Length,
}

macro_rules! log_vars {
    ($( $(#[$doc:meta])* $v:ident = $name:literal, )*) => {
        /// The `%` variables of HAProxy 2.6's custom log format.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum LogVar {
            $( $(#[$doc])* $v, )*
        }

        impl LogVar {
            /// Every variable with its name.
            pub const ALL: &'static [(&'static str, LogVar)] = &[ $( ($name, LogVar::$v), )* ];
        }
    };
}

log_vars! {
    /// `%o`: sets the flags of the following fields.
    Global = "o",
    /// `%B`: bytes sent to the client.
    BytesOut = "B",
    /// `%CC`: captured request cookie.
    CapturedReqCookie = "CC",
    /// `%CS`: captured response cookie.
    CapturedResCookie = "CS",
    /// `%H`: host name.
    Hostname = "H",
    /// `%ID`: unique request id.
    UniqueId = "ID",
    /// `%ST`: status code.
    Status = "ST",
    /// `%T`: accept date in UTC (`28/Nov/2026:10:09:14 +0000`).
    GmtDate = "T",
    /// `%Ta`: active time of the request.
    Ta = "Ta",
    /// `%Tc`: connect time.
    Tc = "Tc",
    /// `%Td`: data transmission time.
    Td = "Td",
    /// `%Th`: connection handshake time.
    Th = "Th",
    /// `%Ti`: idle time before the request.
    Ti = "Ti",
    /// `%Tl`: accept date in local time.
    LocalDate = "Tl",
    /// `%TR`: time to receive the request head.
    TR = "TR",
    /// `%Tr`: server response time.
    Tr = "Tr",
    /// `%Ts`: accept date as a Unix timestamp.
    Timestamp = "Ts",
    /// `%Tt`: total session time.
    Tt = "Tt",
    /// `%Tu`: total time seen by the user.
    Tu = "Tu",
    /// `%Tw`: time waiting in queues.
    Tw = "Tw",
    /// `%Tq`: `Th + Ti + TR`.
    Tq = "Tq",
    /// `%U`: bytes received from the client.
    BytesIn = "U",
    /// `%ac`: active connections of the process.
    ActConn = "ac",
    /// `%b`: backend name.
    Backend = "b",
    /// `%bc`: backend connections.
    BeConn = "bc",
    /// `%bi`: backend source address.
    BackendIp = "bi",
    /// `%bp`: backend source port.
    BackendPort = "bp",
    /// `%bq`: backend queue.
    BeQueue = "bq",
    /// `%ci`: client address.
    ClientIp = "ci",
    /// `%cp`: client port.
    ClientPort = "cp",
    /// `%f`: frontend name.
    Frontend = "f",
    /// `%fc`: frontend connections.
    FeConn = "fc",
    /// `%ft`: frontend name with a `~` for TLS.
    FrontendTransport = "ft",
    /// `%fi`: frontend address.
    FrontendIp = "fi",
    /// `%fp`: frontend port.
    FrontendPort = "fp",
    /// `%hr`: captured request headers, `{a|b}`.
    ReqHeaders = "hr",
    /// `%hrl`: captured request headers, space separated.
    ReqHeadersList = "hrl",
    /// `%hs`: captured response headers, `{a|b}`.
    ResHeaders = "hs",
    /// `%hsl`: captured response headers, space separated.
    ResHeadersList = "hsl",
    /// `%HM`: HTTP method.
    Method = "HM",
    /// `%HP`: path.
    Path = "HP",
    /// `%HQ`: query string with its `?`.
    Query = "HQ",
    /// `%HU`: URI.
    Uri = "HU",
    /// `%HV`: HTTP version.
    Version = "HV",
    /// `%lc`: the frontend's log counter.
    LogCount = "lc",
    /// `%ms`: milliseconds of the accept date.
    Millis = "ms",
    /// `%pid`: process id.
    Pid = "pid",
    /// `%r`: request line.
    RequestLine = "r",
    /// `%rc`: retries.
    Retries = "rc",
    /// `%rt`: request counter.
    RequestCount = "rt",
    /// `%s`: server name.
    Server = "s",
    /// `%sc`: server connections.
    SrvConn = "sc",
    /// `%si`: server address.
    ServerIp = "si",
    /// `%sp`: server port.
    ServerPort = "sp",
    /// `%sq`: server queue.
    SrvQueue = "sq",
    /// `%sslc`: TLS cipher.
    SslCipher = "sslc",
    /// `%sslv`: TLS version.
    SslVersion = "sslv",
    /// `%t`: accept date with milliseconds.
    AcceptDate = "t",
    /// `%tr`: request date with milliseconds.
    RequestDate = "tr",
    /// `%trg`: request date in UTC.
    RequestDateGmt = "trg",
    /// `%trl`: request date in local time.
    RequestDateLocal = "trl",
    /// `%ts`: termination state.
    TermState = "ts",
    /// `%tsc`: termination state with cookie flags.
    TermStateCookie = "tsc",
}

impl LogVar {
    /// The variable's name, without the `%`.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("", |(n, _)| n)
    }

    /// The variable called `name`.
    pub fn from_name(name: &str) -> Option<LogVar> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl fmt::Display for LogVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.name())
    }
}

/// HAProxy's `option httplog` format.
pub const HTTPLOG_FORMAT: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc \
                                  %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

/// HAProxy's `option httplog clf` format.
pub const HTTPLOG_CLF_FORMAT: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b \
                                      %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC \
                                      %CS %hrl %hsl";

/// HAProxy's `option tcplog` format.
pub const TCPLOG_FORMAT: &str =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/// Fetches HAProxy knows but cannot evaluate when it logs, with what they
/// need, for HAProxy's own refusal.
const NEEDS_HEADERS: &[(&str, &str)] = &[
    ("req.hdr", "HTTP request headers"),
    ("req.fhdr", "HTTP request headers"),
    ("req.hdr_cnt", "HTTP request headers"),
    ("req.cook", "HTTP request headers"),
    ("cook", "HTTP request headers"),
    ("path", "HTTP request headers"),
    ("url", "HTTP request headers"),
    ("query", "HTTP request headers"),
    ("base", "HTTP request headers"),
    ("hdr", "HTTP request headers,HTTP response headers"),
    ("res.hdr", "HTTP response headers"),
    ("res.fhdr", "HTTP response headers"),
    ("res.cook", "HTTP response headers"),
    ("shdr", "HTTP response headers"),
];

/// Fetches and converters HAProxy accepts here that this implementation
/// does not evaluate yet: refused with a message that says so.
const NOT_YET: &[&str] = &[
    "fe_id",
    "be_id",
    "srv_id",
    "var",
    "unique-id",
    "uuid",
    "date",
    "rand",
    "hostname",
    "ssl_fc",
    "ssl_fc_protocol",
    "ssl_fc_cipher",
    "ssl_fc_sni",
    "ssl_c_used",
    "req.body",
    "nbsrv",
    "env",
    "mul",
    "div",
    "add",
    "sub",
    "field",
    "word",
    "regsub",
    "json",
    "ipmask",
    "map",
    "bytes",
    "ltrim",
    "rtrim",
    "sha1",
    "crc32",
    "djb2",
    "url_dec",
    "concat",
    "digest",
    "lua",
];

/// Parses a `log-format` string. The error is HAProxy's message after its
/// `failed to parse log-format : ` prefix.
pub fn parse_log_format(source: &str) -> Result<LogFormatExpr, String> {
    let mut nodes = Vec::new();
    let mut text = String::new();
    let mut global = LogFlags::default();
    let mut rest = source;
    let flush = |text: &mut String, nodes: &mut Vec<LogNode>| {
        if !text.is_empty() {
            nodes.push(LogNode::Text(std::mem::take(text)));
        }
    };
    while let Some(c) = rest.chars().next() {
        if c == ' ' {
            flush(&mut text, &mut nodes);
            if nodes.last() != Some(&LogNode::Separator) {
                nodes.push(LogNode::Separator);
            }
            rest = rest.trim_start_matches(' ');
            continue;
        }
        if c != '%' {
            text.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let after = &rest[1..];
        if let Some(r) = after.strip_prefix('%') {
            text.push('%');
            rest = r;
            continue;
        }
        flush(&mut text, &mut nodes);
        let mut flags = global;
        let mut body = after;
        if let Some(r) = body.strip_prefix('{') {
            let Some(end) = r.find('}') else {
                return Err(format!("truncated line after '{r}'."));
            };
            apply_flags(&mut flags, &r[..end]);
            body = &r[end + 1..];
            if body.is_empty() {
                return Err("truncated line after '}'.".into());
            }
        }
        if body.is_empty() {
            return Err("truncated line after '%'.".into());
        }
        if let Some(r) = body.strip_prefix('[') {
            let (expr, remaining) = parse_sample(r)?;
            nodes.push(LogNode::Sample { expr, flags });
            rest = remaining;
            continue;
        }
        let len = body
            .find(|ch: char| !ch.is_ascii_alphabetic())
            .unwrap_or(body.len());
        let name = &body[..len];
        let Some(var) = LogVar::from_name(name) else {
            return Err(format!(
                "no such format variable '{name}'. If you wanted to emit the '%' character \
                 verbatim, you need to use '%%'."
            ));
        };
        if var == LogVar::Global {
            global = flags;
        } else {
            nodes.push(LogNode::Var { var, flags });
        }
        rest = &body[len..];
    }
    flush(&mut text, &mut nodes);
    Ok(LogFormatExpr {
        source: source.to_string(),
        nodes,
    })
}

/// Applies `+Q,-E,...`; unknown flag names are ignored, as HAProxy does.
fn apply_flags(flags: &mut LogFlags, spec: &str) {
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        let on = match c {
            '+' => true,
            '-' => false,
            _ => continue,
        };
        let mut name = String::new();
        while let Some(&n) = chars.peek() {
            if n == '+' || n == '-' || n == ',' {
                break;
            }
            name.push(n);
            chars.next();
        }
        match name.as_str() {
            "Q" => flags.quote = on,
            "X" => flags.hex = on,
            "E" => flags.escape = on,
            _ => {}
        }
    }
}

/// Parses `fetch(args),conv,...]` and returns it with what follows the `]`.
fn parse_sample(s: &str) -> Result<(SampleExpr, &str), String> {
    let mut parts = Vec::new();
    let mut i = 0;
    let bytes = s.as_bytes();
    // Split on commas outside parentheses, up to the closing bracket.
    let mut depth = 0u32;
    let mut start = 0;
    let end = loop {
        match bytes.get(i) {
            None => {
                let last = s.get(start..).unwrap_or_default();
                return Err(format!(
                    "missing ']' after '{}'.",
                    if last.is_empty() { s } else { last }
                ));
            }
            Some(b'(') => depth += 1,
            Some(b')') => depth = depth.saturating_sub(1),
            Some(b',') if depth == 0 => {
                parts.push((start, &s[start..i]));
                start = i + 1;
            }
            Some(b']') if depth == 0 => {
                parts.push((start, &s[start..i]));
                break i;
            }
            Some(_) => {}
        }
        i += 1;
    };
    let whole = |at: usize| format!("<{}>", s.get(at..).unwrap_or_default());
    let mut parts = parts.into_iter();
    let Some((_, first)) = parts.next() else {
        return Err("missing fetch method".into());
    };
    let (name, arg) = split_call(first)
        .map_err(|m| format!("failed to parse sample expression {} : {m}", whole(0)))?;
    if let Some((_, needs)) = NEEDS_HEADERS.iter().find(|(n, _)| *n == name) {
        return Err(format!(
            "sample fetch {} may not be reliably used here because it needs '{needs}' which is \
             not available here.",
            whole(0)
        ));
    }
    let int_arg = |what: &str| -> Result<u32, String> {
        let a = arg.unwrap_or_default();
        a.trim().parse::<u32>().map_err(|_| {
            format!(
                "failed to parse sample expression {} : fetch method '{what}' : failed to parse \
                 '{a}' as type 'integer' at position 1.",
                whole(0)
            )
        })
    };
    let no_arg = |f: LogFetch| -> Result<LogFetch, String> {
        match arg {
            None => Ok(f),
            Some(a) => Err(format!(
                "failed to parse sample expression {} : fetch method '{name}' : end of arguments \
                 expected at position 1, but got '{a})'.",
                whole(0)
            )),
        }
    };
    let fetch = match name {
        "src" => no_arg(LogFetch::Src)?,
        "src_port" => no_arg(LogFetch::SrcPort)?,
        "dst" => no_arg(LogFetch::Dst)?,
        "dst_port" => no_arg(LogFetch::DstPort)?,
        "fe_name" => no_arg(LogFetch::FeName)?,
        "be_name" => no_arg(LogFetch::BeName)?,
        "srv_name" => no_arg(LogFetch::SrvName)?,
        "method" => no_arg(LogFetch::Method)?,
        "status" => no_arg(LogFetch::Status)?,
        "capture.req.method" => no_arg(LogFetch::CaptureReqMethod)?,
        "capture.req.uri" => no_arg(LogFetch::CaptureReqUri)?,
        "capture.req.ver" => no_arg(LogFetch::CaptureReqVer)?,
        "capture.req.hdr" => LogFetch::CaptureReqHdr(int_arg(name)?),
        "capture.res.hdr" => LogFetch::CaptureResHdr(int_arg(name)?),
        "str" => LogFetch::Str(arg.unwrap_or_default().to_string()),
        "int" => {
            let a = arg.unwrap_or_default();
            LogFetch::Int(a.trim().parse().map_err(|_| {
                format!(
                    "failed to parse sample expression {} : fetch method 'int' : failed to parse \
                     '{a}' as type 'signed integer' at position 1.",
                    whole(0)
                )
            })?)
        }
        n if NOT_YET.contains(&n) => {
            return Err(format!(
                "sample fetch method '{n}' is not supported by this implementation yet."
            ));
        }
        n => {
            return Err(format!(
                "failed to parse sample expression {} : unknown fetch method '{n}'.",
                whole(0)
            ));
        }
    };
    let mut converters = Vec::new();
    for (at, p) in parts {
        let (cname, carg) = split_call(p)
            .map_err(|m| format!("failed to parse sample expression {} : {m}", whole(0)))?;
        let conv = match cname {
            "lower" => LogConverter::Lower,
            "upper" => LogConverter::Upper,
            "hex" => LogConverter::Hex,
            "base64" => LogConverter::Base64,
            "length" => LogConverter::Length,
            n if NOT_YET.contains(&n) => {
                return Err(format!(
                    "converter '{n}' is not supported by this implementation yet."
                ));
            }
            n => {
                return Err(format!(
                    "failed to parse sample expression {} : unknown converter '{n}'.",
                    whole(0)
                ));
            }
        };
        if let Some(a) = carg {
            return Err(format!(
                "failed to parse sample expression {} : invalid arg 1 in converter '{cname}' : \
                 expected ')' before '{}'.",
                whole(0),
                s.get(at + cname.len() + 1..).unwrap_or(a)
            ));
        }
        converters.push(conv);
    }
    Ok((SampleExpr { fetch, converters }, &s[end + 1..]))
}

/// Splits `name(arg)` into its name and argument.
fn split_call(s: &str) -> Result<(&str, Option<&str>), String> {
    match s.find('(') {
        None => Ok((s, None)),
        Some(open) => {
            let Some(inner) = s[open + 1..].strip_suffix(')') else {
                return Err(format!(
                    "missing closing ')' after arguments to '{}'.",
                    &s[..open]
                ));
            };
            Ok((&s[..open], Some(inner)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(v: LogVar) -> LogNode {
        LogNode::Var {
            var: v,
            flags: LogFlags::default(),
        }
    }

    #[test]
    fn standard_formats_parse() {
        for f in [HTTPLOG_FORMAT, HTTPLOG_CLF_FORMAT, TCPLOG_FORMAT] {
            parse_log_format(f).unwrap();
        }
        let e = parse_log_format("%ci:%cp  [%tr]%%").unwrap();
        assert_eq!(
            e.nodes,
            vec![
                var(LogVar::ClientIp),
                LogNode::Text(":".into()),
                var(LogVar::ClientPort),
                LogNode::Separator,
                LogNode::Text("[".into()),
                var(LogVar::RequestDate),
                LogNode::Text("]%".into()),
            ]
        );
    }

    #[test]
    fn flags_and_global_option() {
        let e = parse_log_format("%{+Q}o %ci %{-Q,+X}cp %{+E,+Z}[src,upper]").unwrap();
        let q = LogFlags {
            quote: true,
            ..LogFlags::default()
        };
        assert_eq!(
            e.nodes,
            vec![
                LogNode::Separator,
                LogNode::Var {
                    var: LogVar::ClientIp,
                    flags: q
                },
                LogNode::Separator,
                LogNode::Var {
                    var: LogVar::ClientPort,
                    flags: LogFlags {
                        hex: true,
                        ..LogFlags::default()
                    }
                },
                LogNode::Separator,
                LogNode::Sample {
                    expr: SampleExpr {
                        fetch: LogFetch::Src,
                        converters: vec![LogConverter::Upper]
                    },
                    flags: LogFlags {
                        quote: true,
                        escape: true,
                        hex: false
                    }
                },
            ]
        );
    }

    /// Messages as HAProxy 2.6.12 prints them after `failed to parse
    /// log-format : ` (captured with `haproxy -c`).
    #[test]
    fn errors_read_as_haproxy_s() {
        let cases = [
            (
                "%zz",
                "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, \
                 you need to use '%%'.",
            ),
            ("%{+Q", "truncated line after '+Q'."),
            ("abc %", "truncated line after '%'."),
            (
                "%[foo]",
                "failed to parse sample expression <foo]> : unknown fetch method 'foo'.",
            ),
            ("%[src", "missing ']' after 'src'."),
            (
                "%[src,lower2]",
                "failed to parse sample expression <src,lower2]> : unknown converter 'lower2'.",
            ),
            (
                "x %[req.hdr(x)] y",
                "sample fetch <req.hdr(x)] y> may not be reliably used here because it needs \
                 'HTTP request headers' which is not available here.",
            ),
            (
                "x %[hdr(x)] y",
                "sample fetch <hdr(x)] y> may not be reliably used here because it needs 'HTTP \
                 request headers,HTTP response headers' which is not available here.",
            ),
            (
                "x %[src,] y",
                "failed to parse sample expression <src,] y> : unknown converter ''.",
            ),
        ];
        for (f, want) in cases {
            assert_eq!(parse_log_format(f).unwrap_err(), want, "{f}");
        }
    }

    const BASE: &str = "global\n  log 127.0.0.1 local0\ndefaults\n  mode http\n  log global\n  \
                        timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

    fn load(tail: &str) -> Result<crate::Loaded, crate::Errors> {
        crate::parse_str("t.cfg", &format!("{BASE}{tail}"), &|_| None)
    }

    #[test]
    fn config_keeps_the_later_of_log_format_and_options() {
        let tail = "frontend a\n  bind :1\n  option httplog\n  log-format \"%ci %ST\"\n\
                    frontend b\n  bind :2\n  log-format \"%ci\"\n  option tcplog\n";
        let l = load(tail).unwrap();
        let a = l.config.frontend("a").unwrap();
        assert_eq!(a.log_format.as_ref().unwrap().source, "%ci %ST");
        assert!(l.config.frontend("b").unwrap().log_format.is_none());
        // Inherited from defaults, replaced by a later option in the proxy.
        let tail = "  log-format \"%ci\"\nfrontend c\n  bind :1\nfrontend d\n  bind :2\n  \
                    option httplog\n";
        let l = load(tail).unwrap();
        assert!(l.config.frontend("c").unwrap().log_format.is_some());
        assert!(l.config.frontend("d").unwrap().log_format.is_none());
    }

    #[test]
    fn config_errors_name_the_line() {
        let e = load("frontend a\n  bind :1\n  log-format \"%ci %zz\"\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("t.cfg:11:"), "{text}");
        assert!(
            text.contains("failed to parse log-format : no such format variable 'zz'"),
            "{text}"
        );
        let e = load("frontend a\n  bind :1\n  log-format %ci %ST\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("log-format expects only one argument, don't forget to escape spaces!"),
            "{e}"
        );
        // In defaults, HAProxy warns when one log format replaces another.
        let l = load("  option httplog\n  log-format \"%ci\"\nfrontend a\n  bind :1\n").unwrap();
        assert!(
            l.warnings.iter().any(|w| w.to_string().contains(
                "'log-format' overrides previous 'option httplog' in 'defaults' section."
            )),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn every_variable_name_round_trips() {
        for (n, v) in LogVar::ALL {
            assert_eq!(LogVar::from_name(n), Some(*v));
            assert_eq!(v.name(), *n);
        }
        assert_eq!(LogVar::ALL.len(), 63);
    }
}
