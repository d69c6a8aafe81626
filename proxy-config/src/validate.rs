//! The validation pass: lines of words to the typed [`Config`].
//!
//! Each file's lines are grouped into sections and every directive is checked
//! and converted. Problems become [`Diagnostic`]s; checking goes on after an
//! error so that one run reports everything. Cross-references that may point
//! forward (backend names) are checked once every file is read.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proxy_acl::{AclExpr, AclRef, Condition};

use crate::diag::{Diagnostic, DiagnosticKind, SectionKind, SectionRef, Severity, Span, Spanned};
use crate::env::EnvOverlay;
use crate::keywords::{self, BE, DEF, FE, NAMED_DEF, STRICT, Status};
use crate::lax;
use crate::logformat::parse_log_format;
use crate::model::*;
use crate::syntax::{Word, decode, lex};

/// The statuses `errorfile` and `errorloc` may replace, as HAProxy 2.6's.
const ERRORFILE_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// The `global` directives that change the environment of later lines.
const ENV_DIRECTIVES: &[&str] = &["setenv", "presetenv", "unsetenv", "resetenv"];

type Fail = (u32, u32, DiagnosticKind);
type R<T = ()> = Result<T, Fail>;

fn fail_at(w: &Word<'_>, kind: DiagnosticKind) -> Fail {
    (w.line, w.column, kind)
}

fn invalid(w: &Word<'_>, keyword: &str, message: impl Into<String>) -> Fail {
    fail_at(
        w,
        DiagnosticKind::InvalidArgument {
            keyword: keyword.to_string(),
            message: message.into(),
        },
    )
}

fn missing(w: &Word<'_>, keyword: &str, expected: &str) -> Fail {
    fail_at(
        w,
        DiagnosticKind::MissingArgument {
            keyword: keyword.to_string(),
            expected: expected.to_string(),
        },
    )
}

/// The argument at `i`, or a "missing argument" failure positioned on `kw`.
fn arg<'w, 'a>(args: &'w [Word<'a>], i: usize, kw: &Word<'_>, expected: &str) -> R<&'w Word<'a>> {
    args.get(i).ok_or_else(|| missing(kw, &kw.text, expected))
}

/// The single argument of a directive; more than one is an error.
fn only_arg<'w, 'a>(args: &'w [Word<'a>], kw: &Word<'_>, expected: &str) -> R<&'w Word<'a>> {
    let a = arg(args, 0, kw, expected)?;
    if let Some(x) = args.get(1) {
        return Err(invalid(
            x,
            &kw.text,
            format!("takes only one argument, found '{}'", x.text),
        ));
    }
    Ok(a)
}

fn strings(words: &[Word<'_>]) -> Vec<String> {
    words.iter().map(|w| w.text.to_string()).collect()
}

/// Parses an unsigned number.
fn number<T: std::str::FromStr>(w: &Word<'_>, keyword: &str) -> R<T> {
    w.text
        .parse()
        .map_err(|_| invalid(w, keyword, format!("'{}' is not a valid number", w.text)))
}

/// Parses a HAProxy time value: digits and an optional unit (`us`, `ms`, `s`,
/// `m`, `h`, `d`; default `ms`), at most 2147483647 ms.
///
/// As in HAProxy 2.6, characters after a valid unit are ignored (`5sec` is
/// five seconds, `5min` five minutes); the loader warns about them.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    lax::time(s).map(|(d, _)| d)
}

/// A time value; characters after its unit leave a note saying what is used.
fn duration(w: &Word<'_>, keyword: &str, notes: &mut Vec<Fail>) -> R<Duration> {
    let (d, trailing) = lax::time(&w.text).map_err(|m| invalid(w, keyword, m))?;
    if let Some(c) = trailing {
        notes.push(fail_at(
            w,
            DiagnosticKind::LaxValue {
                keyword: keyword.to_string(),
                written: w.text.to_string(),
                reason: format!(
                    "HAProxy ignores the characters from '{c}' on in '{}' (only us, ms, s, m, h and d are units)",
                    w.text
                ),
                used: lax::show(d),
            },
        ));
    }
    Ok(d)
}

/// A number HAProxy reads with `atol()`: `w` may be missing (read as 0).
/// Anything but a plain number leaves a note saying what is used.
fn lax_number(w: Option<&Word<'_>>, at: &Word<'_>, keyword: &str, notes: &mut Vec<Fail>) -> u32 {
    let text = w.map_or("", |w| &*w.text);
    let n = lax::number(text);
    if let Some(reason) = n.note {
        notes.push(fail_at(
            w.unwrap_or(at),
            DiagnosticKind::LaxValue {
                keyword: keyword.to_string(),
                written: text.to_string(),
                reason,
                used: n.value.to_string(),
            },
        ));
    }
    n.value
}

/// `uid N` / `gid N`: a decimal id, with an optional sign as HAProxy's
/// `strl2irc` reads it (a negative id wraps as C's `uid_t` does). Anything
/// else is a warning and sets nothing, as in HAProxy.
fn numeric_id(w: &Word<'_>, keyword: &str, named: &str, notes: &mut Vec<Fail>) -> Option<u32> {
    let text = &*w.text;
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let parsed = if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else {
        text.parse::<i32>().ok()
    };
    match parsed {
        // C's conversion of a negative int to uid_t / gid_t.
        Some(n) => Some(u32::from_ne_bytes(n.to_ne_bytes())),
        None => {
            notes.push(fail_at(
                w,
                DiagnosticKind::LaxValue {
                    keyword: keyword.to_string(),
                    written: text.to_string(),
                    reason: format!(
                        "'{text}' is not a number (use '{named}' for a system {named} name)"
                    ),
                    used: "none: the line is ignored".into(),
                },
            ));
            None
        }
    }
}

/// The keywords `retry-on` accepts in HAProxy 2.6.
const RETRY_ON: &[&str] = &[
    "none",
    "conn-failure",
    "empty-response",
    "junk-response",
    "response-timeout",
    "0rtt-rejected",
    "all-retryable-errors",
    "401",
    "403",
    "404",
    "408",
    "425",
    "500",
    "501",
    "502",
    "503",
    "504",
];

/// A second `user`/`uid` (or `group`/`gid`) line: HAProxy keeps the first.
fn already_specified(w: &Word<'_>, keyword: &str, what: &str) -> Fail {
    fail_at(
        w,
        DiagnosticKind::LaxValue {
            keyword: keyword.to_string(),
            written: w.text.to_string(),
            reason: format!("{what} already specified"),
            used: "the first one".into(),
        },
    )
}

fn bad_address(w: &Word<'_>, keyword: &str, address: &str, reason: impl Into<String>) -> Fail {
    fail_at(
        w,
        DiagnosticKind::BadAddress {
            keyword: keyword.to_string(),
            address: address.to_string(),
            reason: reason.into(),
        },
    )
}

/// Splits `host:port`, `[v6]:port` and `v6:port` (last colon) forms.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "missing ']' after IPv6 address".to_string())?;
        return match after {
            "" => Ok((host, None)),
            p => match p.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected '{p}' after ']'")),
            },
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Ok((h, Some(p))),
        None => Ok((s, None)),
    }
}

fn parse_ip(host: &str, v6: Option<bool>) -> Result<IpAddr, String> {
    if host.is_empty() || host == "*" {
        return Ok(if v6 == Some(true) {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    if host == "localhost" {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("invalid address '{host}' (host names are not resolved here)"))?;
    match (v6, ip) {
        (Some(true), IpAddr::V4(_)) => Err("IPv4 address with 'ipv6@' prefix".into()),
        (Some(false), IpAddr::V6(_)) => Err("IPv6 address with 'ipv4@' prefix".into()),
        _ => Ok(ip),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    if p.is_empty() {
        return Err("missing port".into());
    }
    match p.bytes().find(|b| !b.is_ascii_digit()) {
        Some(c) => Err(format!(
            "invalid character '{}' in port number '{p}'",
            char::from(c)
        )),
        None => p
            .parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("invalid port '{p}'")),
    }
}

/// Strips a family prefix: `Some(true)` for IPv6, `Some(false)` for IPv4.
fn family_prefix(s: &str) -> (Option<bool>, &str) {
    for (p, v6) in [
        ("ipv4@", Some(false)),
        ("ipv6@", Some(true)),
        ("tcp4@", Some(false)),
        ("tcp6@", Some(true)),
        ("udp4@", Some(false)),
        ("udp6@", Some(true)),
        ("tcp@", None),
        ("udp@", None),
    ] {
        if let Some(rest) = s.strip_prefix(p) {
            return (v6, rest);
        }
    }
    (None, s)
}

/// Parses one bind address (no commas).
pub(crate) fn parse_bind_address(s: &str) -> Result<BindAddress, String> {
    if let Some(n) = s.strip_prefix("fd@") {
        return n
            .parse()
            .map(BindAddress::Fd)
            .map_err(|_| format!("invalid file descriptor '{n}'"));
    }
    if let Some(p) = s.strip_prefix("unix@") {
        if p.is_empty() {
            return Err("missing socket path".into());
        }
        return Ok(BindAddress::Unix(PathBuf::from(p)));
    }
    if s.starts_with('/') {
        return Ok(BindAddress::Unix(PathBuf::from(s)));
    }
    if let Some(n) = s.strip_prefix("abns@") {
        if n.is_empty() {
            return Err("missing abstract socket name".into());
        }
        return Ok(BindAddress::Abstract(n.to_string()));
    }
    let (v6, rest) = family_prefix(s);
    let (host, port) = split_host_port(rest)?;
    let port = port.ok_or_else(|| format!("missing port specification in '{s}'"))?;
    if port.is_empty() {
        return Err(format!("missing port specification in '{s}'"));
    }
    let ports = match port.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_port(a)?, parse_port(b)?);
            if a > b {
                return Err(format!("invalid port range '{port}'"));
            }
            a..=b
        }
        None => {
            let p = parse_port(port)?;
            p..=p
        }
    };
    Ok(BindAddress::Inet {
        ip: parse_ip(host, v6)?,
        ports,
    })
}

/// Parses a server address.
pub(crate) fn parse_server_address(s: &str) -> Result<ServerAddress, String> {
    if let Some(p) = s.strip_prefix("unix@") {
        if p.is_empty() {
            return Err("missing socket path".into());
        }
        return Ok(ServerAddress {
            host: ServerHost::Unix(PathBuf::from(p)),
            port: ServerPort::Same,
        });
    }
    if s.starts_with('/') {
        return Ok(ServerAddress {
            host: ServerHost::Unix(PathBuf::from(s)),
            port: ServerPort::Same,
        });
    }
    if s.starts_with("fd@") || s.starts_with("abns@") || s.starts_with("sockpair@") {
        return Err("this address family is not supported for servers".into());
    }
    let (v6, rest) = family_prefix(s);
    let (host, port) = split_host_port(rest)?;
    let port = match port {
        None | Some("") => ServerPort::Same,
        Some(p) if p.starts_with('+') || p.starts_with('-') => {
            let n: i32 = p
                .parse()
                .map_err(|_| format!("invalid port offset '{p}'"))?;
            if n.unsigned_abs() > 65535 {
                return Err(format!("invalid port offset '{p}'"));
            }
            ServerPort::Offset(n)
        }
        Some(p) => ServerPort::Fixed(parse_port(p)?),
    };
    let host = if host.is_empty() || host == "*" {
        ServerHost::Ip(parse_ip(host, v6)?)
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        ServerHost::Ip(parse_ip(&ip.to_string(), v6)?)
    } else if host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || host.contains(':')
        || v6.is_some()
    {
        return Err(format!("invalid IP address '{host}'"));
    } else if host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        ServerHost::Name(host.to_string())
    } else {
        return Err(format!("invalid host name '{host}'"));
    };
    Ok(ServerAddress { host, port })
}

fn parse_log_address(s: &str) -> Result<LogAddress, String> {
    match s {
        "stdout" => return Ok(LogAddress::Fd(1)),
        "stderr" => return Ok(LogAddress::Fd(2)),
        _ => {}
    }
    if let Some(n) = s.strip_prefix("fd@") {
        return n
            .parse()
            .map(LogAddress::Fd)
            .map_err(|_| format!("invalid file descriptor '{n}'"));
    }
    if let Some(n) = s.strip_prefix("ring@") {
        return Ok(LogAddress::Ring(n.to_string()));
    }
    if let Some(p) = s.strip_prefix("unix@") {
        return Ok(LogAddress::Unix(PathBuf::from(p)));
    }
    if s.starts_with('/') {
        return Ok(LogAddress::Unix(PathBuf::from(s)));
    }
    let (v6, rest) = family_prefix(s);
    // A bare IPv6 address has no port.
    let (host, port) = match rest.parse::<IpAddr>() {
        Ok(_) => (rest, None),
        Err(_) => split_host_port(rest)?,
    };
    if host.is_empty() {
        return Err(format!("missing address in '{s}'"));
    }
    let port = match port {
        None | Some("") => 514,
        Some(p) => parse_port(p)?,
    };
    Ok(LogAddress::Udp(SocketAddr::new(parse_ip(host, v6)?, port)))
}

/// Parses the words after `log` (not `global`).
fn parse_log(kw: &Word<'_>, args: &[Word<'_>]) -> R<Log> {
    let a = arg(args, 0, kw, "an address, 'global' or 'stdout'")?;
    if a.text == "global" {
        if let Some(extra) = args.get(1) {
            return Err(invalid(extra, "log", "'log global' takes no argument"));
        }
        return Ok(Log::Global);
    }
    let address = parse_log_address(&a.text).map_err(|r| bad_address(a, "log", &a.text, r))?;
    let mut len = None;
    let mut format = None;
    let mut i = 1;
    while let Some(w) = args.get(i) {
        match &*w.text {
            "len" => {
                let v = arg(args, i + 1, w, "a length")?;
                len = Some(number(v, "log len")?);
                i += 2;
            }
            "format" => {
                let v = arg(args, i + 1, w, "a format name")?;
                format = Some(
                    LogFormat::ALL
                        .iter()
                        .find(|(n, _)| *n == v.text)
                        .map(|(_, f)| *f)
                        .ok_or_else(|| {
                            invalid(v, "log format", format!("unknown log format '{}'", v.text))
                        })?,
                );
                i += 2;
            }
            "sample" => {
                let v = arg(args, i + 1, w, "ranges:size")?;
                return Err(fail_at(
                    v,
                    DiagnosticKind::NotImplemented("log sample".into()),
                ));
            }
            _ => break,
        }
    }
    let f = arg(args, i, kw, "a facility")?;
    let facility = Facility::parse(&f.text)
        .ok_or_else(|| invalid(f, "log", format!("unknown log facility '{}'", f.text)))?;
    let mut levels = args.iter().skip(i + 1).map(|w| {
        Level::parse(&w.text)
            .ok_or_else(|| invalid(w, "log", format!("unknown optional log level '{}'", w.text)))
    });
    let level = levels.next().transpose()?;
    let min_level = levels.next().transpose()?;
    if let Some(extra) = args.get(i + 3) {
        return Err(invalid(
            extra,
            "log",
            format!("unexpected word '{}'", extra.text),
        ));
    }
    Ok(Log::Target(LogTarget {
        address,
        len,
        format,
        facility,
        level,
        min_level,
    }))
}

/// Splits rule words at the first `if` / `unless`.
fn split_condition<'w, 'a>(words: &'w [Word<'a>]) -> (&'w [Word<'a>], &'w [Word<'a>]) {
    let at = words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
        .unwrap_or(words.len());
    words.split_at(at)
}

/// Options shared by `bind` lines and `stats socket`.
fn parse_bind_options(
    kw: &str,
    words: &[Word<'_>],
) -> R<(BindOptions, Option<u32>, Option<StatsLevel>)> {
    let mut o = BindOptions::default();
    let mut mode = None;
    let mut level = None;
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let name = &*w.text;
        let Some(&(_, n)) = keywords::BIND_OPTIONS.iter().find(|(k, _)| *k == name) else {
            let hint = keywords::nearest(name, keywords::BIND_OPTIONS.iter().map(|k| k.0));
            return Err(fail_at(
                w,
                DiagnosticKind::UnknownKeyword {
                    keyword: name.to_string(),
                    section: if kw == "bind" { "bind" } else { "stats socket" },
                    suggestion: hint,
                },
            ));
        };
        let value = if n == 1 {
            Some(arg(words, i + 1, w, "an argument")?)
        } else {
            None
        };
        let text = value.map(|v| v.text.to_string());
        match (name, value) {
            ("name", Some(v)) => o.name = Some(v.text.to_string()),
            ("ssl", _) => o.ssl = true,
            ("crt", Some(v)) => o.crt.push(PathBuf::from(&*v.text)),
            ("alpn", Some(v)) => o.alpn = Some(v.text.to_string()),
            ("accept-proxy", _) => o.accept_proxy = true,
            ("transparent", _) => o.transparent = true,
            ("v4v6", _) => o.v4v6 = true,
            ("v6only", _) => o.v6only = true,
            ("maxconn", Some(v)) => o.maxconn = Some(number(v, "maxconn")?),
            ("interface", Some(v)) => o.interface = Some(v.text.to_string()),
            ("mode", Some(v)) => {
                mode = Some(u32::from_str_radix(&v.text, 8).map_err(|_| {
                    invalid(v, "mode", format!("'{}' is not an octal mode", v.text))
                })?);
            }
            ("level", Some(v)) => {
                level = Some(match &*v.text {
                    "user" => StatsLevel::User,
                    "operator" => StatsLevel::Operator,
                    "admin" => StatsLevel::Admin,
                    _ => {
                        return Err(invalid(
                            v,
                            "level",
                            "expects one of 'user', 'operator', 'admin'",
                        ));
                    }
                });
            }
            _ => o.other.push((name.to_string(), text)),
        }
        i += 1 + usize::from(n);
    }
    Ok((o, mode, level))
}

fn parse_server_options(words: &[Word<'_>], notes: &mut Vec<Fail>) -> R<ServerOptions> {
    let mut o = ServerOptions::default();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let name = &*w.text;
        let Some(&(_, n)) = keywords::SERVER_OPTIONS.iter().find(|(k, _)| *k == name) else {
            let hint = keywords::nearest(name, keywords::SERVER_OPTIONS.iter().map(|k| k.0));
            return Err(fail_at(
                w,
                DiagnosticKind::UnknownKeyword {
                    keyword: name.to_string(),
                    section: "server",
                    suggestion: hint,
                },
            ));
        };
        // HAProxy reads these with atol() and takes a missing value as 0.
        let lax = matches!(name, "weight" | "maxconn" | "maxqueue" | "minconn");
        let v = match n {
            0 => None,
            _ if lax => words.get(i + 1),
            _ => Some(arg(words, i + 1, w, "an argument")?),
        };
        match (name, v) {
            ("check", _) => o.check = Some(true),
            ("no-check", _) => o.check = Some(false),
            ("inter", Some(v)) => o.inter = Some(duration(v, name, notes)?),
            ("fastinter", Some(v)) => o.fastinter = Some(duration(v, name, notes)?),
            ("downinter", Some(v)) => o.downinter = Some(duration(v, name, notes)?),
            ("slowstart", Some(v)) => o.slowstart = Some(duration(v, name, notes)?),
            ("rise" | "fall", Some(v)) => {
                let n = lax_number(Some(v), w, name, notes);
                if n == 0 {
                    return Err(invalid(v, name, format!("'{name}' has to be > 0")));
                }
                if name == "rise" {
                    o.rise = Some(n);
                } else {
                    o.fall = Some(n);
                }
            }
            ("port", Some(v)) => {
                let n = lax_number(Some(v), w, name, notes);
                // HAProxy keeps the check port in an int and sends its low 16 bits.
                let port = u16::try_from(n % 65_536).unwrap_or(0);
                if n > 65_535 {
                    notes.push(fail_at(
                        v,
                        DiagnosticKind::LaxValue {
                            keyword: name.to_string(),
                            written: v.text.to_string(),
                            reason: "HAProxy uses only the low 16 bits of a port".into(),
                            used: port.to_string(),
                        },
                    ));
                }
                o.port = Some(port);
            }
            ("addr", Some(v)) => {
                o.addr = Some(
                    v.text
                        .parse()
                        .map_err(|_| bad_address(v, name, &v.text, "not an IP address"))?,
                );
            }
            ("weight", v) => {
                let read = lax::atol(v.map_or("", |v| &*v.text));
                if !(0..=256).contains(&read) {
                    return Err(invalid(
                        v.unwrap_or(w),
                        name,
                        format!("weight must be between 0 and 256 ({read})"),
                    ));
                }
                o.weight = Some(lax_number(v, w, name, notes));
            }
            ("maxconn", v) => o.maxconn = Some(lax_number(v, w, name, notes)),
            ("maxqueue", v) => o.maxqueue = Some(lax_number(v, w, name, notes)),
            ("minconn", v) => o.minconn = Some(lax_number(v, w, name, notes)),
            ("backup", _) => o.backup = Some(true),
            ("no-backup", _) => o.backup = Some(false),
            ("disabled", _) => o.disabled = Some(true),
            ("enabled", _) => o.disabled = Some(false),
            ("cookie", Some(v)) => o.cookie = Some(v.text.to_string()),
            ("send-proxy", _) => o.send_proxy = Some(true),
            ("no-send-proxy", _) => o.send_proxy = Some(false),
            ("send-proxy-v2", _) => o.send_proxy_v2 = Some(true),
            ("no-send-proxy-v2", _) => o.send_proxy_v2 = Some(false),
            ("ssl", _) => o.ssl = Some(true),
            ("no-ssl", _) => o.ssl = Some(false),
            ("verify", Some(v)) => {
                o.verify = Some(match &*v.text {
                    "none" => Verify::None,
                    "required" => Verify::Required,
                    _ => return Err(invalid(v, name, "expects 'none' or 'required'")),
                });
            }
            ("sni", Some(v)) => o.sni = Some(v.text.to_string()),
            ("on-marked-down", Some(v)) => {
                if v.text != "shutdown-sessions" {
                    return Err(invalid(v, name, "expects 'shutdown-sessions'"));
                }
                o.on_marked_down = Some(v.text.to_string());
            }
            _ => o
                .other
                .push((name.to_string(), v.map(|v| v.text.to_string()))),
        }
        i += 1 + usize::from(v.is_some());
    }
    Ok(o)
}

fn positive(w: &Word<'_>, keyword: &str) -> R<u32> {
    let n: u32 = number(w, keyword)?;
    if n == 0 {
        return Err(invalid(w, keyword, "must be greater than 0"));
    }
    Ok(n)
}

fn parse_balance(kw: &Word<'_>, args: &[Word<'_>]) -> R<Balance> {
    let a = arg(args, 0, kw, "an algorithm")?;
    let rest = args.get(1..).unwrap_or(&[]);
    let t = &*a.text;
    let no_args = |b: Balance| -> R<Balance> {
        match rest.first() {
            Some(w) => Err(invalid(w, "balance", format!("'{t}' takes no argument"))),
            None => Ok(b),
        }
    };
    let paren = |prefix: &str| -> Option<Option<&str>> {
        let r = t.strip_prefix(prefix)?;
        if r.is_empty() {
            return Some(None);
        }
        r.strip_prefix('(')?.strip_suffix(')').map(Some)
    };
    match t {
        "roundrobin" => no_args(Balance::new(Algorithm::RoundRobin)),
        "static-rr" => no_args(Balance::new(Algorithm::StaticRr)),
        "leastconn" => no_args(Balance::new(Algorithm::LeastConn)),
        "first" => no_args(Balance::new(Algorithm::First)),
        "source" => no_args(Balance::new(Algorithm::Source)),
        "uri" => {
            let (mut len, mut depth, mut whole, mut path_only) = (None, None, false, false);
            let mut i = 0;
            while let Some(w) = rest.get(i) {
                match &*w.text {
                    "len" => {
                        len = Some(number(arg(rest, i + 1, w, "a length")?, "balance uri len")?);
                        i += 1;
                    }
                    "depth" => {
                        depth = Some(number(
                            arg(rest, i + 1, w, "a depth")?,
                            "balance uri depth",
                        )?);
                        i += 1;
                    }
                    "whole" => whole = true,
                    "path-only" => path_only = true,
                    other => {
                        return Err(invalid(
                            w,
                            "balance uri",
                            format!(
                                "unknown argument '{other}', expects 'len', 'depth', 'whole' or 'path-only'"
                            ),
                        ));
                    }
                }
                i += 1;
            }
            Ok(Balance::new(Algorithm::Uri(UriOptions {
                len,
                depth,
                whole,
                path_only,
            })))
        }
        "url_param" => {
            let n = arg(rest, 0, a, "a parameter name")?;
            let check_post = match rest.get(1) {
                Some(w) if w.text == "check_post" => true,
                Some(w) => {
                    return Err(invalid(
                        w,
                        "balance url_param",
                        format!("unexpected '{}'", w.text),
                    ));
                }
                None => false,
            };
            if let Some(w) = rest.get(2) {
                return Err(fail_at(
                    w,
                    DiagnosticKind::NotImplemented("balance url_param check_post arguments".into()),
                ));
            }
            Ok(Balance {
                algorithm: Algorithm::UrlParam {
                    name: n.text.to_string(),
                },
                check_post,
            })
        }
        _ => {
            if let Some(inner) = paren("hdr") {
                let name = inner.filter(|n| !n.is_empty()).ok_or_else(|| {
                    invalid(a, "balance", "hdr requires a header name: hdr(NAME)")
                })?;
                let use_domain_only = match rest.first() {
                    Some(w) if w.text == "use_domain_only" => true,
                    Some(w) => {
                        return Err(invalid(
                            w,
                            "balance hdr",
                            format!("unexpected '{}'", w.text),
                        ));
                    }
                    None => false,
                };
                return Ok(Balance::new(Algorithm::Hdr {
                    name: name.to_string(),
                    use_domain_only,
                }));
            }
            if let Some(inner) = paren("random") {
                let draws = match inner {
                    Some(n) => n.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| {
                        invalid(a, "balance", format!("invalid number of draws '{n}'"))
                    })?,
                    None => 2,
                };
                return no_args(Balance::new(Algorithm::Random { draws }));
            }
            if let Some(inner) = paren("rdp-cookie") {
                let name = inner.filter(|n| !n.is_empty()).unwrap_or("mstshash");
                return no_args(Balance::new(Algorithm::RdpCookie {
                    name: name.to_string(),
                }));
            }
            let names = [
                "roundrobin",
                "static-rr",
                "leastconn",
                "first",
                "source",
                "uri",
                "url_param",
                "hdr",
                "random",
                "rdp-cookie",
            ];
            let hint = keywords::nearest(t, names.into_iter());
            Err(invalid(
                a,
                "balance",
                format!(
                    "unknown algorithm '{t}'{}",
                    hint.map(|h| format!("; did you mean '{h}'?"))
                        .unwrap_or_default()
                ),
            ))
        }
    }
}

/// `hash-type METHOD [FUNCTION [avalanche]]`. Without a function, HAProxy
/// uses sdbm, with avalanche for `consistent` ([`HashType::new`]).
fn parse_hash_type(kw: &Word<'_>, args: &[Word<'_>]) -> R<HashType> {
    let m = arg(args, 0, kw, "'map-based' or 'consistent'")?;
    let method = match &*m.text {
        "map-based" => HashMethod::MapBased,
        "consistent" => HashMethod::Consistent,
        _ => {
            return Err(invalid(
                m,
                "hash-type",
                "expects 'map-based' or 'consistent'",
            ));
        }
    };
    let function =
        match args.get(1) {
            Some(f) => Some(HashFunction::from_keyword(&f.text).ok_or_else(|| {
                invalid(f, "hash-type", "expects 'sdbm', 'djb2', 'wt6' or 'crc32'")
            })?),
            None => None,
        };
    let avalanche = match args.get(2) {
        Some(x) if x.text == "avalanche" => true,
        Some(x) => return Err(invalid(x, "hash-type", "expects 'avalanche'")),
        None => false,
    };
    if let Some(x) = args.get(3) {
        return Err(invalid(x, "hash-type", format!("unexpected '{}'", x.text)));
    }
    Ok(HashType::new(method, function, avalanche))
}

fn parse_ipnet(w: &Word<'_>, keyword: &str) -> R<IpNet> {
    let (a, p) = match w.text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (&*w.text, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| bad_address(w, keyword, &w.text, "not an IP network"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        None => max,
        Some(p) => {
            // HAProxy also accepts a dotted netmask.
            match (p.parse::<u8>(), p.parse::<Ipv4Addr>()) {
                (Ok(n), _) if n <= max => n,
                (_, Ok(mask)) if addr.is_ipv4() => {
                    let bits = u32::from(mask);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return Err(bad_address(w, keyword, &w.text, "non-contiguous netmask"));
                    }
                    u8::try_from(bits.leading_ones()).unwrap_or(32)
                }
                _ => return Err(bad_address(w, keyword, &w.text, "invalid prefix length")),
            }
        }
    };
    Ok(IpNet { addr, prefix })
}

fn parse_option(name_w: &Word<'_>, args: &[Word<'_>]) -> R<OptionKind> {
    let name = &*name_w.text;
    let no_args = |k: OptionKind| -> R<OptionKind> {
        match args.first() {
            Some(w) => Err(invalid(w, &format!("option {name}"), "takes no argument")),
            None => Ok(k),
        }
    };
    match name {
        "httplog" => match args.first() {
            Some(w) if w.text == "clf" => Ok(OptionKind::HttpLog { clf: true }),
            Some(w) => Err(invalid(w, "option httplog", "expects only 'clf'")),
            None => Ok(OptionKind::HttpLog { clf: false }),
        },
        "tcplog" => no_args(OptionKind::TcpLog),
        "dontlognull" => no_args(OptionKind::DontLogNull),
        "http-server-close" => no_args(OptionKind::HttpServerClose),
        "httpclose" => no_args(OptionKind::HttpClose),
        "http-keep-alive" => no_args(OptionKind::HttpKeepAlive),
        "abortonclose" => no_args(OptionKind::AbortOnClose),
        "logasap" => no_args(OptionKind::LogAsap),
        "allbackups" => no_args(OptionKind::AllBackups),
        "redispatch" => {
            let interval = match args.first() {
                Some(w) => {
                    let n: i32 = w.text.parse().map_err(|_| {
                        invalid(w, "option redispatch", "expects an integer interval")
                    })?;
                    Some(n)
                }
                None => None,
            };
            if let Some(w) = args.get(1) {
                return Err(invalid(
                    w,
                    "option redispatch",
                    "takes at most one argument",
                ));
            }
            Ok(OptionKind::Redispatch { interval })
        }
        "httpchk" => {
            if let Some(w) = args.get(3) {
                return Err(invalid(w, "option httpchk", "takes at most 3 arguments"));
            }
            Ok(OptionKind::HttpChk {
                args: strings(args),
            })
        }
        "forwardfor" => {
            let mut f = ForwardFor::default();
            let mut i = 0;
            while let Some(w) = args.get(i) {
                match &*w.text {
                    "except" => {
                        f.except = Some(parse_ipnet(
                            arg(args, i + 1, w, "a network")?,
                            "option forwardfor except",
                        )?);
                        i += 1;
                    }
                    "header" => {
                        f.header = Some(arg(args, i + 1, w, "a header name")?.text.to_string());
                        i += 1;
                    }
                    "if-none" => f.if_none = true,
                    other => {
                        return Err(invalid(
                            w,
                            "option forwardfor",
                            format!(
                                "unknown parameter '{other}', expects 'except', 'header' or 'if-none'"
                            ),
                        ));
                    }
                }
                i += 1;
            }
            Ok(OptionKind::ForwardFor(f))
        }
        _ => Ok(OptionKind::Other {
            name: name.to_string(),
            args: strings(args),
        }),
    }
}

/// What a sample fetch needs that a rule of kind `kw` cannot give: HAProxy
/// refuses `%[status]` in an http-request rule and `%[path]` in an
/// http-response one. `hdr` reads whichever message the rule works on.
fn unavailable(kw: &str, expr: &str) -> Option<&'static str> {
    let mut depth = 0u32;
    let end = expr
        .char_indices()
        .find(|&(_, c)| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            depth == 0 && matches!(c, ',' | ']')
        })
        .map_or(expr.len(), |(i, _)| i);
    let fetch = proxy_acl::Fetch::parse(expr.get(..end)?.trim()).ok()?;
    match kw {
        "http-request" if fetch.is_response_only() => Some(if fetch.keyword() == "status" {
            "HTTP response"
        } else {
            "HTTP response headers"
        }),
        "http-response" if fetch.is_request_only() && fetch.keyword() != "hdr" => {
            Some("HTTP request headers")
        }
        _ => None,
    }
}

/// Refuses, as HAProxy does, a log-format value `w` of a `kw` rule that
/// samples what the rule's direction cannot see.
fn check_value(kw: &str, name: &str, w: &Word<'_>) -> R {
    let mut rest = &*w.text;
    while let Some(i) = rest.find("%[") {
        let expr = rest.get(i + 2..).unwrap_or_default();
        if let Some(needs) = unavailable(kw, expr) {
            return Err(invalid(
                w,
                &format!("{kw} {name}"),
                format!(
                    "sample fetch <{expr}> may not be reliably used here because it needs \
                     '{needs}' which is not available here"
                ),
            ));
        }
        rest = expr;
    }
    Ok(())
}

fn parse_http_action(kw: &str, words: &[Word<'_>], at: &Word<'_>) -> R<HttpAction> {
    let action = parse_http_action_words(kw, words, at)?;
    let name = words.first().map_or("", |w| &*w.text);
    let rest = words.get(1..).unwrap_or(&[]);
    // Which words are log-format values.
    let values: Vec<&Word<'_>> = match &action {
        HttpAction::SetHeader { .. } | HttpAction::AddHeader { .. } => {
            rest.get(1).into_iter().collect()
        }
        HttpAction::ReplaceHeader { .. } => rest.get(2).into_iter().collect(),
        HttpAction::SetPath(_) | HttpAction::SetQuery(_) => rest.first().into_iter().collect(),
        HttpAction::Return(_) => rest
            .iter()
            .zip(rest.iter().skip(1))
            .filter(|(k, _)| k.text == "lf-string")
            .map(|(_, v)| v)
            .chain(
                rest.iter()
                    .zip(rest.iter().skip(2))
                    .filter(|(k, _)| k.text == "hdr")
                    .map(|(_, v)| v),
            )
            .collect(),
        HttpAction::SetVar { expr, .. } => {
            if let (Some(first), Some(needs)) = (
                rest.first(),
                expr.first()
                    .and_then(|e| unavailable(kw, &e.replace(' ', ""))),
            ) {
                return Err(invalid(
                    first,
                    &format!("{kw} {name}"),
                    format!(
                        "fetch method '{name}' extracts information from '{needs}', \
                         none of which is available here"
                    ),
                ));
            }
            Vec::new()
        }
        _ => Vec::new(),
    };
    for w in values {
        check_value(kw, name, w)?;
    }
    Ok(action)
}

fn parse_http_action_words(kw: &str, words: &[Word<'_>], at: &Word<'_>) -> R<HttpAction> {
    let a = arg(words, 0, at, "an action")?;
    let rest = words.get(1..).unwrap_or(&[]);
    let name = &*a.text;
    let need = |i: usize, what: &str| -> R<String> {
        rest.get(i)
            .map(|w| w.text.to_string())
            .ok_or_else(|| missing(a, &format!("{kw} {name}"), what))
    };
    let at_most = |n: usize| -> R<()> {
        match rest.get(n) {
            Some(w) => Err(invalid(
                w,
                &format!("{kw} {name}"),
                format!("unexpected '{}'", w.text),
            )),
            None => Ok(()),
        }
    };
    Ok(match name {
        "set-header" | "add-header" => {
            let (n, v) = (need(0, "a header name and a value")?, need(1, "a value")?);
            at_most(2)?;
            if name == "set-header" {
                HttpAction::SetHeader { name: n, value: v }
            } else {
                HttpAction::AddHeader { name: n, value: v }
            }
        }
        "del-header" => {
            let n = need(0, "a header name")?;
            let method = match rest.get(1) {
                Some(w) if w.text == "-m" => Some(need(2, "a match method")?),
                Some(w) => {
                    return Err(invalid(w, "del-header", format!("unexpected '{}'", w.text)));
                }
                None => None,
            };
            at_most(if method.is_some() { 3 } else { 1 })?;
            HttpAction::DelHeader { name: n, method }
        }
        "replace-header" => {
            let r = HttpAction::ReplaceHeader {
                name: need(0, "a header name, a regex and a replacement")?,
                regex: need(1, "a regex and a replacement")?,
                replacement: need(2, "a replacement")?,
            };
            at_most(3)?;
            r
        }
        "set-path" => {
            let p = need(0, "a path format")?;
            at_most(1)?;
            HttpAction::SetPath(p)
        }
        "set-query" => {
            let p = need(0, "a query format")?;
            at_most(1)?;
            HttpAction::SetQuery(p)
        }
        "redirect" => {
            need(0, "'location', 'prefix' or 'scheme'")?;
            HttpAction::Redirect(strings(rest))
        }
        "deny" => {
            let mut status = None;
            let mut args = Vec::new();
            let mut i = 0;
            while let Some(w) = rest.get(i) {
                if w.text == "deny_status" {
                    let v = arg(rest, i + 1, w, "a status code")?;
                    let s: u16 = number(v, "deny_status")?;
                    if !(200..=599).contains(&s) {
                        return Err(invalid(
                            v,
                            "deny_status",
                            "expects a status code between 200 and 599",
                        ));
                    }
                    status = Some(s);
                    i += 2;
                } else {
                    args.push(w.text.to_string());
                    i += 1;
                }
            }
            HttpAction::Deny { status, args }
        }
        "allow" => {
            at_most(0)?;
            HttpAction::Allow
        }
        "return" => HttpAction::Return(strings(rest)),
        "use-service" if kw == "http-request" => {
            let s = need(0, "a service name")?;
            at_most(1)?;
            HttpAction::UseService(s)
        }
        _ if name.starts_with("set-var(") && name.ends_with(')') => {
            let var = name
                .get("set-var(".len()..name.len() - 1)
                .unwrap_or("")
                .to_string();
            if var.is_empty() {
                return Err(invalid(a, kw, "set-var needs a variable name"));
            }
            need(0, "an expression")?;
            HttpAction::SetVar {
                name: var,
                expr: strings(rest),
            }
        }
        _ => {
            const KNOWN: &[&str] = &[
                "add-acl",
                "auth",
                "cache-use",
                "cache-store",
                "capture",
                "del-acl",
                "del-map",
                "disable-l7-retry",
                "do-resolve",
                "early-hint",
                "normalize-uri",
                "reject",
                "replace-path",
                "replace-pathq",
                "replace-uri",
                "replace-value",
                "sc-inc-gpc0",
                "sc-set-gpt0",
                "send-spoe-group",
                "set-dst",
                "set-dst-port",
                "set-log-level",
                "set-map",
                "set-mark",
                "set-method",
                "set-nice",
                "set-pathq",
                "set-priority-class",
                "set-priority-offset",
                "set-src",
                "set-src-port",
                "set-status",
                "set-tos",
                "set-uri",
                "silent-drop",
                "strict-mode",
                "tarpit",
                "track-sc0",
                "track-sc1",
                "track-sc2",
                "unset-var",
                "wait-for-body",
                "wait-for-handshake",
                "lua",
            ];
            let base = name.split('(').next().unwrap_or(name);
            if !KNOWN.contains(&base) && !base.starts_with("lua.") {
                let all = KNOWN.iter().copied().chain([
                    "set-header",
                    "add-header",
                    "del-header",
                    "replace-header",
                    "set-path",
                    "set-query",
                    "redirect",
                    "deny",
                    "allow",
                    "return",
                    "set-var",
                    "use-service",
                ]);
                let hint = keywords::nearest(base, all);
                return Err(fail_at(
                    a,
                    DiagnosticKind::UnknownKeyword {
                        keyword: name.to_string(),
                        section: if kw == "http-request" {
                            "http-request"
                        } else {
                            "http-response"
                        },
                        suggestion: hint,
                    },
                ));
            }
            HttpAction::Other {
                name: name.to_string(),
                args: strings(rest),
            }
        }
    })
}

/// Where the lines of the current section go.
enum Current {
    None,
    Global,
    Proxy(Box<ProxyBuild>),
    Userlist(Userlist),
    HttpErrors(HttpErrors),
    Skip,
}

struct ProxyBuild {
    p: Proxy,
    named_defaults: bool,
    own_stats: bool,
    own_http_checks: bool,
    /// `errorfiles` lines, the inherited ones first: resolved once every
    /// `http-errors` section is known.
    error_imports: Vec<ErrorImport>,
}

/// One `errorfiles NAME [CODE...]` line.
#[derive(Debug, Clone)]
struct ErrorImport {
    section: String,
    /// The codes to import; empty for all of the section's.
    codes: Vec<u16>,
    span: Span,
}

/// Accumulates a [`Config`] over one or more files.
pub(crate) struct Builder {
    config: Config,
    diags: Vec<Diagnostic>,
    last_defaults: Option<usize>,
    file: Arc<str>,
    section: Option<SectionRef>,
    /// Environment changes made by `setenv` and friends so far.
    env: EnvOverlay,
    /// Warnings about leniently read values of the line being read.
    notes: Vec<Fail>,
    /// The files loaded, in order: the order of lines across files.
    files: Vec<Arc<str>>,
    /// `errorfiles` lines of each `defaults` section (inherited ones
    /// first), in the order of [`Config::defaults`].
    default_imports: Vec<Vec<ErrorImport>>,
    /// The same for each proxy, in the order of [`Config::proxies`].
    proxy_imports: Vec<Vec<ErrorImport>>,
}

impl Builder {
    pub(crate) fn new() -> Self {
        Self {
            config: Config::default(),
            diags: Vec::new(),
            last_defaults: None,
            file: Arc::from(""),
            section: None,
            env: EnvOverlay::default(),
            notes: Vec::new(),
            files: Vec::new(),
            default_imports: Vec::new(),
            proxy_imports: Vec::new(),
        }
    }

    fn span(&self, line: u32, column: u32) -> Span {
        Span {
            file: self.file.clone(),
            line,
            column,
        }
    }

    fn wspan(&self, w: &Word<'_>) -> Span {
        self.span(w.line, w.column)
    }

    fn push(&mut self, severity: Severity, keyword: Option<&str>, (line, column, kind): Fail) {
        let span = self.span(line, column);
        self.diags.push(Diagnostic {
            span,
            section: self.section.clone(),
            keyword: keyword.map(str::to_string),
            kind,
            severity,
        });
    }

    fn warn(&mut self, w: &Word<'_>, kind: DiagnosticKind) {
        self.push(Severity::Warning, Some(&w.text), fail_at(w, kind));
    }

    /// Reports a failure as an error.
    pub(crate) fn error(&mut self, keyword: Option<&str>, f: Fail) {
        self.push(Severity::Error, keyword, f);
    }

    /// Records an IO failure for `file`.
    pub(crate) fn io_error(&mut self, file: &str, message: String) {
        self.file = Arc::from(file);
        self.section = None;
        self.error(None, (0, 0, DiagnosticKind::Io(message)));
    }

    /// Runs both passes over one file's text.
    pub(crate) fn add_file(
        &mut self,
        name: &str,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) {
        self.file = Arc::from(name);
        self.files.push(self.file.clone());
        self.section = None;
        let lexed = if self.env.is_active() {
            let overlay = &self.env;
            lex(text, &|name: &str| overlay.get(env, name))
        } else {
            lex(text, env)
        };
        for (line, col, kind) in lexed.errors.iter().cloned() {
            self.error(None, (line, col, kind));
        }
        let mut cur = Current::None;
        let mut env_changed = false;
        let mut redecoded: Vec<Word<'_>>;
        for line in &lexed.lines {
            let mut words = lexed.line_words(line);
            // Words were expanded before any `setenv` of this file ran.
            if env_changed && words.iter().any(|w| w.raw.contains("${")) {
                let overlay = &self.env;
                let lookup = |name: &str| overlay.get(env, name);
                redecoded = words
                    .iter()
                    .map(|w| Word {
                        text: decode(w.raw, &lookup),
                        ..w.clone()
                    })
                    .collect();
                words = &redecoded;
            }
            let Some(first) = words.first() else { continue };
            if keywords::SECTIONS.contains(&&*first.text) {
                self.close(std::mem::replace(&mut cur, Current::Skip));
                cur = self.open(words);
                continue;
            }
            match &mut cur {
                Current::None => {
                    self.error(
                        Some(&first.text),
                        fail_at(first, DiagnosticKind::OutOfSection(first.text.to_string())),
                    );
                }
                Current::Skip => {}
                Current::Global => {
                    if ENV_DIRECTIVES.contains(&&*first.text) {
                        match self.env_line(words, env) {
                            Ok(()) => env_changed = true,
                            Err(f) => self.error(Some(&first.text), f),
                        }
                    } else if let Err(f) = self.global_line(words) {
                        self.error(Some(&first.text), f);
                    }
                }
                Current::Userlist(u) => {
                    let mut u = std::mem::replace(
                        u,
                        Userlist {
                            name: Spanned::default(),
                            groups: Vec::new(),
                            users: Vec::new(),
                        },
                    );
                    if let Err(f) = self.userlist_line(&mut u, words) {
                        self.error(Some(&first.text), f);
                    }
                    cur = Current::Userlist(u);
                }
                Current::Proxy(pb) => {
                    if let Err(f) = self.proxy_line(pb, words) {
                        self.error(Some(&first.text), f);
                    }
                }
                Current::HttpErrors(h) => {
                    if let Err(f) = self.http_errors_line(h, words) {
                        self.error(Some(&first.text), f);
                    }
                }
            }
            for note in std::mem::take(&mut self.notes) {
                self.push(Severity::Warning, Some(&first.text), note);
            }
        }
        self.close(cur);
        self.section = None;
        if !text.is_empty() && !text.ends_with('\n') {
            let tail = text.rsplit('\n').next().unwrap_or(text);
            let line = u32::try_from(text.matches('\n').count().saturating_add(1));
            let position = u32::try_from(tail.chars().count().saturating_add(1));
            let (line, position) = (line.unwrap_or(u32::MAX), position.unwrap_or(u32::MAX));
            self.error(
                None,
                (
                    line,
                    position,
                    DiagnosticKind::MissingFinalNewline { position },
                ),
            );
        }
    }

    /// `setenv`, `presetenv`, `unsetenv`, `resetenv`: change the environment
    /// seen by the lines that follow.
    fn env_line(&mut self, words: &[Word<'_>], env: &dyn Fn(&str) -> Option<String>) -> R {
        let Some((kw, args)) = words.split_first() else {
            return Ok(());
        };
        let span = self.wspan(kw);
        match &*kw.text {
            "setenv" | "presetenv" => {
                let (Some(name), Some(value)) = (args.first(), args.get(1)) else {
                    return Err(missing(kw, &kw.text, "a name and a value"));
                };
                if let Some(x) = args.get(2) {
                    self.warn(
                        x,
                        DiagnosticKind::InvalidArgument {
                            keyword: kw.text.to_string(),
                            message: format!(
                                "extra argument '{}' ignored (HAProxy ignores it too); '{}' is set to '{}'",
                                x.text, name.text, value.text
                            ),
                        },
                    );
                }
                if kw.text == "setenv" || self.env.get(env, &name.text).is_none() {
                    self.env.set(&name.text, &value.text);
                }
            }
            "unsetenv" => {
                if args.is_empty() {
                    return Err(missing(kw, "unsetenv", "at least one variable name"));
                }
                for a in args {
                    self.env.unset(&a.text);
                }
            }
            _ => {
                let keep: Vec<&str> = args.iter().map(|a| &*a.text).collect();
                self.env.reset(&keep);
            }
        }
        self.config
            .global
            .environment
            .push(Spanned::new(strings(words), span));
        Ok(())
    }

    fn open(&mut self, words: &[Word<'_>]) -> Current {
        let Some(head) = words.first() else {
            return Current::None;
        };
        let kind = match &*head.text {
            "global" => SectionKind::Global,
            "defaults" => SectionKind::Defaults,
            "frontend" => SectionKind::Frontend,
            "backend" => SectionKind::Backend,
            "listen" => SectionKind::Listen,
            "userlist" => SectionKind::Userlist,
            "resolvers" => SectionKind::Resolvers,
            "peers" => SectionKind::Peers,
            "http-errors" => SectionKind::HttpErrors,
            other => SectionKind::Other(
                keywords::SECTIONS
                    .iter()
                    .copied()
                    .find(|s| *s == other)
                    .unwrap_or("unknown"),
            ),
        };
        let name = words.get(1).map(|w| w.text.to_string());
        self.section = Some(SectionRef {
            kind,
            name: name.clone(),
        });
        match kind {
            SectionKind::Global => {
                if let Some(w) = words.get(1) {
                    self.error(Some("global"), invalid(w, "global", "takes no argument"));
                }
                Current::Global
            }
            SectionKind::Defaults
            | SectionKind::Frontend
            | SectionKind::Backend
            | SectionKind::Listen => match self.open_proxy(kind, words) {
                Ok(pb) => Current::Proxy(Box::new(pb)),
                Err(f) => {
                    self.error(Some(&head.text), f);
                    Current::Skip
                }
            },
            SectionKind::Userlist => {
                let Some(n) = words.get(1) else {
                    self.error(Some("userlist"), missing(head, "userlist", "a name"));
                    return Current::Skip;
                };
                if self.config.userlists.iter().any(|u| u.name.value == n.text) {
                    self.warn(
                        head,
                        DiagnosticKind::InvalidArgument {
                            keyword: "userlist".into(),
                            message: format!("ignoring duplicated userlist '{}'", n.text),
                        },
                    );
                    return Current::Skip;
                }
                Current::Userlist(Userlist {
                    name: Spanned::new(n.text.to_string(), self.wspan(head)),
                    groups: Vec::new(),
                    users: Vec::new(),
                })
            }
            SectionKind::HttpErrors => {
                let Some(n) = words.get(1) else {
                    let f = invalid(head, "http-errors", "missing name for http-errors section.");
                    self.error(Some("http-errors"), f);
                    return Current::Skip;
                };
                if let Some(other) = self
                    .config
                    .http_errors
                    .iter()
                    .find(|h| h.name.value == n.text)
                {
                    let message = format!(
                        "http-errors section '{}' already exists (declared at {}:{}).",
                        n.text, other.name.span.file, other.name.span.line
                    );
                    self.error(Some("http-errors"), invalid(n, "http-errors", message));
                    return Current::Skip;
                }
                Current::HttpErrors(HttpErrors {
                    name: Spanned::new(n.text.to_string(), self.wspan(head)),
                    errorfiles: BTreeMap::new(),
                })
            }
            SectionKind::Resolvers | SectionKind::Peers | SectionKind::Other(_) => {
                if words.get(1).is_none() && kind != SectionKind::Other("program") {
                    let f = missing(head, &head.text, "a name");
                    self.error(Some(&head.text), f);
                } else {
                    self.warn(head, DiagnosticKind::UnsupportedSection(kind.keyword()));
                }
                Current::Skip
            }
        }
    }

    fn open_proxy(&mut self, kind: SectionKind, words: &[Word<'_>]) -> R<ProxyBuild> {
        let head = words
            .first()
            .ok_or_else(|| (0, 0, DiagnosticKind::OutOfSection(String::new())))?;
        let pkind = match kind {
            SectionKind::Defaults => ProxyKind::Defaults,
            SectionKind::Frontend => ProxyKind::Frontend,
            SectionKind::Backend => ProxyKind::Backend,
            _ => ProxyKind::Listen,
        };
        let mut rest = words.get(1..).unwrap_or(&[]);
        let mut name = String::new();
        if let Some(n) = rest
            .first()
            .filter(|w| w.text != "from" || pkind != ProxyKind::Defaults)
        {
            name = n.text.to_string();
            rest = rest.get(1..).unwrap_or(&[]);
        }
        if pkind != ProxyKind::Defaults && name.is_empty() {
            return Err(missing(head, &head.text, "a name"));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
        {
            let at = words.get(1).unwrap_or(head);
            return Err(invalid(
                at,
                &head.text,
                format!(
                    "character '{bad}' is not permitted in {} name '{name}'",
                    head.text
                ),
            ));
        }
        // A new `defaults` section starts from HAProxy's built-in settings,
        // not from the previous one, unless it names one with `from`.
        let mut defaults = if pkind == ProxyKind::Defaults {
            None
        } else {
            self.last_defaults
        };
        match rest {
            [] => {}
            [f, d] if f.text == "from" => {
                let found = self
                    .config
                    .defaults
                    .iter()
                    .rposition(|p| p.name.value == d.text && !d.text.is_empty());
                match found {
                    Some(i) => defaults = Some(i),
                    None => {
                        return Err(fail_at(
                            d,
                            DiagnosticKind::UnknownDefaults {
                                name: d.text.to_string(),
                                proxy: format!("{} '{}'", head.text, name),
                            },
                        ));
                    }
                }
            }
            [f] if f.text == "from" => return Err(missing(f, "from", "a defaults section name")),
            [w, ..] => {
                return Err(invalid(
                    w,
                    &head.text,
                    format!("unexpected '{}' after the name", w.text),
                ));
            }
        }
        if pkind != ProxyKind::Defaults {
            let caps = |k: ProxyKind| (u8::from(k.is_frontend())) | (u8::from(k.is_backend()) << 1);
            if let Some(other) = self
                .config
                .proxies
                .iter()
                .find(|p| p.name.value == name && caps(p.kind) & caps(pkind) != 0)
            {
                return Err(fail_at(
                    head,
                    DiagnosticKind::DuplicateName {
                        kind: pkind.keyword(),
                        name,
                        other_kind: if other.kind == pkind {
                            other.kind.keyword()
                        } else {
                            "proxy"
                        },
                        other: other.name.span.clone(),
                    },
                ));
            }
        }
        let span = self.wspan(head);
        let mut p = Proxy::new(pkind, Spanned::new(name.clone(), span));
        if let Some(d) = defaults.and_then(|i| self.config.defaults.get(i)) {
            inherit(&mut p, d);
            p.defaults = defaults;
        }
        let error_imports = defaults
            .and_then(|i| self.default_imports.get(i))
            .cloned()
            .unwrap_or_default();
        Ok(ProxyBuild {
            p,
            named_defaults: pkind == ProxyKind::Defaults && !name.is_empty(),
            own_stats: false,
            own_http_checks: false,
            error_imports,
        })
    }

    fn close(&mut self, cur: Current) {
        match cur {
            Current::Proxy(pb) => {
                let ProxyBuild {
                    p, error_imports, ..
                } = *pb;
                if p.kind == ProxyKind::Defaults {
                    self.config.defaults.push(p);
                    self.default_imports.push(error_imports);
                    self.last_defaults = Some(self.config.defaults.len() - 1);
                } else {
                    self.config.proxies.push(p);
                    self.proxy_imports.push(error_imports);
                }
            }
            Current::Userlist(u) => self.config.userlists.push(u),
            Current::HttpErrors(h) => self.config.http_errors.push(h),
            Current::None | Current::Global | Current::Skip => {}
        }
    }

    /// Finishes loading: cross-reference checks, then the verdict.
    pub(crate) fn finish(mut self) -> Result<crate::Loaded, crate::Errors> {
        self.section = None;
        let mut missing = Vec::new();
        for p in self.config.frontends() {
            let wanted = p
                .use_backends
                .iter()
                .map(|u| ("use_backend", &u.value.backend, &u.span))
                .chain(
                    p.default_backend
                        .iter()
                        .map(|d| ("default_backend", &d.value, &d.span)),
                );
            for (keyword, name, span) in wanted {
                // A name with a sample expression is resolved per request.
                if name.contains("%[") || self.config.backend(name).is_some() {
                    continue;
                }
                missing.push(Diagnostic {
                    span: span.clone(),
                    section: Some(SectionRef {
                        kind: if p.kind == ProxyKind::Listen {
                            SectionKind::Listen
                        } else {
                            SectionKind::Frontend
                        },
                        name: Some(p.name.value.clone()),
                    }),
                    keyword: Some(keyword.to_string()),
                    kind: DiagnosticKind::UnknownBackend {
                        keyword,
                        name: name.clone(),
                    },
                    severity: Severity::Error,
                });
            }
        }
        self.diags.extend(missing);
        self.import_errorfiles();
        self.diags.extend(crate::checks::run(&self.config));
        if self.diags.iter().any(|d| d.severity == Severity::Error) {
            Err(crate::Errors {
                diagnostics: self.diags,
            })
        } else {
            Ok(crate::Loaded {
                config: self.config,
                warnings: self.diags,
            })
        }
    }

    /// A line of an `http-errors` section: only `errorfile CODE FILE`.
    fn http_errors_line(&mut self, h: &mut HttpErrors, words: &[Word<'_>]) -> R {
        let Some((kw, args)) = words.split_first() else {
            return Ok(());
        };
        if kw.text != "errorfile" {
            return Err(invalid(
                kw,
                "http-errors",
                format!("unknown keyword '{}' in 'http-errors' section", kw.text),
            ));
        }
        let expects = "<status_code> and <file> as arguments.";
        let c = arg(args, 0, kw, expects)?;
        let f = arg(args, 1, kw, expects)?;
        let code = c.text.parse::<u16>().unwrap_or(0);
        if !ERRORFILE_CODES.contains(&code) {
            return Err(invalid(
                c,
                "errorfile",
                format!("status code '{code}' not handled."),
            ));
        }
        let span = self.wspan(kw);
        h.errorfiles
            .insert(code, Spanned::new(PathBuf::from(&*f.text), span));
        Ok(())
    }

    /// Where a line stands among all lines loaded: file order, then line.
    fn line_order(&self, span: &Span) -> (usize, u32, u32) {
        let file = self.files.iter().rposition(|f| *f == span.file);
        (file.unwrap_or(0), span.line, span.column)
    }

    /// Resolves every proxy's `errorfiles` lines against the `http-errors`
    /// sections, as HAProxy does once all sections are read: each line
    /// imports the section's pages (or the codes it lists) over what earlier
    /// lines set, and under what later `errorfile` and `errorloc` lines set.
    fn import_errorfiles(&mut self) {
        let mut found = Vec::new();
        let mut defaults = std::mem::take(&mut self.config.defaults);
        let mut proxies = std::mem::take(&mut self.config.proxies);
        let default_imports = std::mem::take(&mut self.default_imports);
        let proxy_imports = std::mem::take(&mut self.proxy_imports);
        let all = defaults
            .iter_mut()
            .zip(&default_imports)
            .chain(proxies.iter_mut().zip(&proxy_imports));
        for (p, imports) in all {
            self.import_into(p, imports, &mut found);
        }
        self.config.defaults = defaults;
        self.config.proxies = proxies;
        // A `defaults` line is reported once, not again for each proxy.
        let mut seen = std::collections::BTreeSet::new();
        found.retain(|d: &Diagnostic| seen.insert((d.span.to_string(), format!("{:?}", d.kind))));
        self.diags.extend(found);
    }

    fn import_into(&self, p: &mut Proxy, imports: &[ErrorImport], found: &mut Vec<Diagnostic>) {
        let section = SectionRef {
            kind: match p.kind {
                ProxyKind::Defaults => SectionKind::Defaults,
                ProxyKind::Frontend => SectionKind::Frontend,
                ProxyKind::Backend => SectionKind::Backend,
                ProxyKind::Listen => SectionKind::Listen,
            },
            name: Some(p.name.value.clone()).filter(|n| !n.is_empty()),
        };
        let diag = |span: &Span, message: String, severity| Diagnostic {
            span: span.clone(),
            section: Some(section.clone()),
            keyword: Some("errorfiles".into()),
            kind: DiagnosticKind::InvalidArgument {
                keyword: "errorfiles".into(),
                message,
            },
            severity,
        };
        // Which line last set each code's page, to compare with imports.
        let mut set_at: BTreeMap<u16, (usize, u32, u32)> = p
            .errorfiles
            .iter()
            .map(|(c, f)| (*c, self.line_order(&f.span)))
            .chain(
                p.errorlocs
                    .iter()
                    .map(|(c, l)| (*c, self.line_order(&l.span))),
            )
            .collect();
        for import in imports {
            let Some(h) = self
                .config
                .http_errors
                .iter()
                .find(|h| h.name.value == import.section)
            else {
                let message = format!("unknown http-errors section '{}'", import.section);
                found.push(diag(&import.span, message, Severity::Error));
                continue;
            };
            let at = self.line_order(&import.span);
            let codes: Vec<u16> = if import.codes.is_empty() {
                h.errorfiles.keys().copied().collect()
            } else {
                import.codes.clone()
            };
            for code in codes {
                let Some(page) = h.errorfiles.get(&code) else {
                    let message = format!(
                        "status '{code}' not declared in http-errors section '{}'",
                        import.section
                    );
                    found.push(diag(&import.span, message, Severity::Warning));
                    continue;
                };
                if set_at.get(&code).is_some_and(|by| *by > at) {
                    continue;
                }
                p.errorlocs.remove(&code);
                p.errorfiles.insert(code, page.clone());
                set_at.insert(code, at);
            }
        }
    }

    fn global_line(&mut self, words: &[Word<'_>]) -> R {
        let Some((kw, args)) = words.split_first() else {
            return Ok(());
        };
        let name = &*kw.text;
        let span = self.wspan(kw);
        let status = keywords::GLOBAL
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, s)| *s)
            .or_else(|| name.starts_with("tune.").then_some(Status::Ignored));
        let one = |what: &str| only_arg(args, kw, what);
        match status {
            None => {
                let hint = keywords::nearest(name, keywords::GLOBAL.iter().map(|k| k.0));
                return Err(fail_at(
                    kw,
                    DiagnosticKind::UnknownKeyword {
                        keyword: name.to_string(),
                        section: "global",
                        suggestion: hint,
                    },
                ));
            }
            Some(Status::Rejected) => {
                return Err(fail_at(
                    kw,
                    DiagnosticKind::NotAllowed {
                        keyword: name.to_string(),
                        place: "HAProxy 2.6 (removed keyword)".into(),
                    },
                ));
            }
            Some(Status::Ignored) => {
                self.warn(kw, DiagnosticKind::NotImplemented(name.to_string()));
                self.config
                    .global
                    .ignored
                    .push(Spanned::new(strings(words), span));
                return Ok(());
            }
            Some(Status::Supported) => {}
        }
        let g = &mut self.config.global;
        match name {
            "log" => {
                let l = parse_log(kw, args)?;
                if l == Log::Global {
                    return Err(invalid(kw, "log", "'log global' is only valid in proxies"));
                }
                g.logs.push(Spanned::new(l, span));
            }
            "chroot" => {
                g.chroot = Some(Spanned::new(
                    PathBuf::from(&*one("a directory")?.text),
                    span,
                ))
            }
            "pidfile" => {
                g.pidfile = Some(Spanned::new(
                    PathBuf::from(&*one("a file name")?.text),
                    span,
                ))
            }
            "maxconn" => {
                let n = lax_number(Some(one("a number")?), kw, name, &mut self.notes);
                g.maxconn = Some(Spanned::new(n, span));
            }
            "nbthread" => g.nbthread = Some(Spanned::new(positive(one("a number")?, name)?, span)),
            "user" | "uid" => {
                let w = one(if name == "user" {
                    "a user name"
                } else {
                    "a number"
                })?;
                if g.user.is_some() || g.uid.is_some() {
                    self.notes.push(already_specified(w, name, "user/uid"));
                } else if name == "user" {
                    g.user = Some(Spanned::new(w.text.to_string(), span));
                } else if let Some(id) = numeric_id(w, name, "user", &mut self.notes) {
                    g.uid = Some(Spanned::new(id, span));
                }
            }
            "group" | "gid" => {
                let w = one(if name == "group" {
                    "a group name"
                } else {
                    "a number"
                })?;
                if g.group.is_some() || g.gid.is_some() {
                    self.notes.push(already_specified(w, name, "group/gid"));
                } else if name == "group" {
                    g.group = Some(Spanned::new(w.text.to_string(), span));
                } else if let Some(id) = numeric_id(w, name, "group", &mut self.notes) {
                    g.gid = Some(Spanned::new(id, span));
                }
            }
            "log-tag" => {
                let t = arg(args, 0, kw, "a tag for use in syslog")?;
                if let Some(x) = args.get(1) {
                    return Err(invalid(
                        x,
                        name,
                        format!("cannot handle unexpected argument '{}'", x.text),
                    ));
                }
                g.log_tag = Some(Spanned::new(t.text.to_string(), span));
            }
            "h1-case-adjust" => {
                let (Some(from), Some(to)) = (args.first(), args.get(1)) else {
                    return Err(missing(kw, name, "<from> and <to> as argument"));
                };
                if !from.text.eq_ignore_ascii_case(&to.text) {
                    return Err(invalid(
                        to,
                        name,
                        "<from> and <to> must not differ except the case",
                    ));
                }
                g.h1_case_adjust.push(Spanned::new(
                    (from.text.to_string(), to.text.to_string()),
                    span,
                ));
            }
            "h1-case-adjust-file" => {
                let f = only_arg(args, kw, "a file name")?;
                g.h1_case_adjust_file = Some(Spanned::new(PathBuf::from(&*f.text), span));
            }
            // HAProxy takes the first word as the name and ignores the rest.
            "log-send-hostname" => {
                let host = args.first().map(|w| w.text.to_string());
                g.log_send_hostname = Some(Spanned::new(host, span));
            }
            "daemon" => {
                if let Some(x) = args.first() {
                    return Err(invalid(x, name, "takes no argument"));
                }
                g.daemon = Some(Spanned::new((), span));
            }
            "stats" => {
                let sub = arg(
                    args,
                    0,
                    kw,
                    "'socket', 'timeout', 'maxconn' or 'bind-process'",
                )?;
                match &*sub.text {
                    "socket" => {
                        let a = arg(args, 1, sub, "an address")?;
                        let address = parse_bind_address(&a.text)
                            .map_err(|r| bad_address(a, "stats socket", &a.text, r))?;
                        let (options, mode, level) =
                            parse_bind_options("stats socket", args.get(2..).unwrap_or(&[]))?;
                        self.config.global.stats_sockets.push(Spanned::new(
                            StatsSocket {
                                address,
                                mode,
                                level,
                                options,
                            },
                            span,
                        ));
                    }
                    "timeout" => {
                        let v = arg(args, 1, sub, "a time value")?;
                        self.config.global.stats_timeout = Some(Spanned::new(
                            duration(v, "stats timeout", &mut self.notes)?,
                            span,
                        ));
                    }
                    "maxconn" | "bind-process" => {
                        self.warn(
                            sub,
                            DiagnosticKind::NotImplemented(format!("stats {}", sub.text)),
                        );
                        self.config
                            .global
                            .ignored
                            .push(Spanned::new(strings(words), span));
                    }
                    other => {
                        return Err(invalid(
                            sub,
                            "stats",
                            format!(
                                "unknown argument '{other}' in 'global' section, expects 'socket', 'timeout', 'maxconn' or 'bind-process'"
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn userlist_line(&mut self, u: &mut Userlist, words: &[Word<'_>]) -> R {
        let Some((kw, args)) = words.split_first() else {
            return Ok(());
        };
        let span = self.wspan(kw);
        let list = |w: &Word<'_>| -> Vec<String> {
            w.text
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        match &*kw.text {
            "group" => {
                let n = arg(args, 0, kw, "a group name")?;
                let mut g = Group {
                    name: n.text.to_string(),
                    users: Vec::new(),
                };
                match args.get(1..).unwrap_or(&[]) {
                    [] => {}
                    [k] if k.text == "users" => {}
                    [k, v] if k.text == "users" => g.users = list(v),
                    [x, ..] => {
                        return Err(invalid(
                            x,
                            "group",
                            format!("unexpected '{}', expects 'users'", x.text),
                        ));
                    }
                }
                if u.groups.iter().any(|x| x.value.name == g.name) {
                    self.warn(
                        kw,
                        DiagnosticKind::InvalidArgument {
                            keyword: "group".into(),
                            message: format!(
                                "ignoring duplicated group '{}' in userlist '{}'",
                                g.name, u.name.value
                            ),
                        },
                    );
                    return Ok(());
                }
                u.groups.push(Spanned::new(g, span));
            }
            "user" => {
                let n = arg(args, 0, kw, "a user name")?;
                let mut password = None;
                let mut groups = Vec::new();
                let mut i = 1;
                while let Some(w) = args.get(i) {
                    // HAProxy takes a missing value as an empty one.
                    let v = args.get(i + 1);
                    let text = v.map_or(String::new(), |v| v.text.to_string());
                    if v.is_none() && w.text != "groups" {
                        self.notes.push(fail_at(
                            w,
                            DiagnosticKind::LaxValue {
                                keyword: format!("user {} {}", n.text, w.text),
                                written: String::new(),
                                reason: "the value is missing and HAProxy takes it as empty".into(),
                                used: if w.text == "password" {
                                    "an empty hash, which no password matches".into()
                                } else {
                                    "the empty password".into()
                                },
                            },
                        ));
                    }
                    match &*w.text {
                        "password" => password = Some(Password::Hashed(text)),
                        "insecure-password" => password = Some(Password::Insecure(text)),
                        "groups" => groups = v.map(list).unwrap_or_default(),
                        other => {
                            return Err(invalid(
                                w,
                                "user",
                                format!(
                                    "unexpected '{other}', expects 'password', 'insecure-password' or 'groups'"
                                ),
                            ));
                        }
                    }
                    i += 2;
                }
                if password.is_none() {
                    self.notes.push(fail_at(
                        n,
                        DiagnosticKind::LaxValue {
                            keyword: "user".into(),
                            written: n.text.to_string(),
                            reason: "it has no 'password' nor 'insecure-password', which HAProxy accepts".into(),
                            used: "no password: the user can never authenticate".into(),
                        },
                    ));
                }
                if u.users.iter().any(|x| x.value.name == n.text) {
                    self.warn(
                        kw,
                        DiagnosticKind::InvalidArgument {
                            keyword: "user".into(),
                            message: format!(
                                "ignoring duplicated user '{}' in userlist '{}'",
                                n.text, u.name.value
                            ),
                        },
                    );
                    return Ok(());
                }
                u.users.push(Spanned::new(
                    User {
                        name: n.text.to_string(),
                        password,
                        groups,
                    },
                    span,
                ));
            }
            other => {
                let hint = keywords::nearest(other, ["user", "group"].into_iter());
                return Err(fail_at(
                    kw,
                    DiagnosticKind::UnknownKeyword {
                        keyword: other.to_string(),
                        section: "userlist",
                        suggestion: hint,
                    },
                ));
            }
        }
        Ok(())
    }

    /// Checks a keyword's capability; `Ok(false)` means ignored with a warning.
    fn capability(&mut self, pb: &ProxyBuild, kw: &Word<'_>, label: &str, caps: u8) -> R<bool> {
        let kind = pb.p.kind;
        if kind == ProxyKind::Defaults {
            if caps & DEF != 0 {
                return Ok(true);
            }
            if caps & NAMED_DEF != 0 {
                if pb.named_defaults {
                    self.warn(
                        kw,
                        DiagnosticKind::NotImplemented(format!("{label} in 'defaults'")),
                    );
                    return Ok(false);
                }
                return Err(fail_at(
                    kw,
                    DiagnosticKind::NotAllowed {
                        keyword: label.to_string(),
                        place: "anonymous 'defaults' section".into(),
                    },
                ));
            }
            return Err(fail_at(
                kw,
                DiagnosticKind::NotAllowed {
                    keyword: label.to_string(),
                    place: "'defaults' section".into(),
                },
            ));
        }
        let ok = (kind.is_frontend() && caps & FE != 0) || (kind.is_backend() && caps & BE != 0);
        if ok {
            return Ok(true);
        }
        let capability = if caps & FE != 0 {
            "frontend"
        } else {
            "backend"
        };
        let proxy = format!("{} '{}'", kind.keyword(), pb.p.name.value);
        if caps & STRICT != 0 {
            return Err(fail_at(
                kw,
                DiagnosticKind::NotAllowed {
                    keyword: label.to_string(),
                    place: format!("{proxy}, which has no {capability} capability"),
                },
            ));
        }
        self.warn(
            kw,
            DiagnosticKind::IgnoredCapability {
                keyword: label.to_string(),
                proxy,
                capability,
            },
        );
        Ok(false)
    }

    fn condition(&self, pb: &ProxyBuild, words: &[Word<'_>]) -> R<Option<Condition>> {
        let Some(first) = words.first() else {
            return Ok(None);
        };
        let c = Condition::parse(&strings(words))
            .map_err(|e| fail_at(first, DiagnosticKind::Acl(e)))?;
        for alt in &c.alternatives {
            for t in alt {
                match &t.acl {
                    AclRef::Named(n) => {
                        let declared = proxy_acl::is_predefined(n)
                            || pb.p.acls.iter().any(|a| a.value.name == *n);
                        if !declared {
                            let at = words
                                .iter()
                                .find(|w| w.text.trim_start_matches('!') == n.as_str())
                                .unwrap_or(first);
                            return Err(fail_at(at, DiagnosticKind::UnknownAcl(n.clone())));
                        }
                    }
                    AclRef::Anonymous(ws) => {
                        AclExpr::parse(ws).map_err(|e| fail_at(first, DiagnosticKind::Acl(e)))?;
                    }
                }
            }
        }
        Ok(Some(c))
    }

    /// Warns, in HAProxy's words, about the first ACL of `cond` whose
    /// fetches cannot work where `cond` is evaluated: `incompatible` tells
    /// which (response fetches in request rules, request contents in
    /// response rules); `rule` names the rule kind, as `http-request header
    /// rule`.
    fn warn_incompatible(
        &mut self,
        pb: &ProxyBuild,
        cond: Option<&Condition>,
        at: &Word<'_>,
        rule: &str,
        incompatible: fn(&proxy_acl::Fetch) -> bool,
    ) {
        let Some(cond) = cond else { return };
        // (name, keyword of the first response fetch, all of them are).
        let mut found: Option<(Option<String>, String, bool)> = None;
        for t in cond.alternatives.iter().flatten() {
            let (name, exprs): (Option<String>, Vec<&AclExpr>) = match &t.acl {
                AclRef::Named(n) => (
                    Some(n.clone()),
                    pb.p.acls
                        .iter()
                        .filter(|a| a.value.name == *n)
                        .map(|a| &a.value.expr)
                        .collect(),
                ),
                // One expression: an anonymous ACL is never only partly
                // incompatible.
                AclRef::Anonymous(ws) => {
                    if let Ok(e) = AclExpr::parse(ws)
                        && incompatible(e.fetch())
                    {
                        found = Some((None, e.fetch().keyword().to_string(), true));
                        break;
                    }
                    continue;
                }
            };
            let Some(first) = exprs.iter().find(|e| incompatible(e.fetch())) else {
                continue;
            };
            let all = exprs.iter().all(|e| incompatible(e.fetch()));
            let kw = first.fetch().keyword().to_string();
            // An ACL that can never match is reported before one that
            // only partly cannot, wherever it stands, as HAProxy does.
            if all {
                found = Some((name, kw, true));
                break;
            }
            if found.is_none() {
                found = Some((name, kw, false));
            }
        }
        if let Some((acl, keyword, never)) = found {
            let side = if pb.p.kind == ProxyKind::Backend {
                "backend"
            } else {
                "frontend"
            };
            self.warn(
                at,
                DiagnosticKind::IncompatibleAcl {
                    acl,
                    keyword,
                    never,
                    place: format!("{side} {rule}"),
                },
            );
        }
    }

    fn proxy_line(&mut self, pb: &mut ProxyBuild, words: &[Word<'_>]) -> R {
        let Some((mut kw, mut args)) = words.split_first() else {
            return Ok(());
        };
        let mut negated = false;
        if kw.text == "no" || kw.text == "default" {
            let (k, a) = args
                .split_first()
                .ok_or_else(|| missing(kw, &kw.text, "a keyword"))?;
            if k.text != "option" && k.text != "log" {
                return Err(invalid(
                    k,
                    &kw.text,
                    format!("'{} {}' is not supported", kw.text, k.text),
                ));
            }
            if kw.text == "default" {
                return Err(fail_at(
                    kw,
                    DiagnosticKind::NotImplemented(format!("default {}", k.text)),
                ));
            }
            negated = true;
            kw = k;
            args = a;
        }
        let name = &*kw.text;
        let span = self.wspan(kw);
        let Some(&(_, caps, status)) = keywords::PROXY.iter().find(|(k, _, _)| *k == name) else {
            let hint = keywords::nearest(name, keywords::PROXY.iter().map(|k| k.0));
            return Err(fail_at(
                kw,
                DiagnosticKind::UnknownKeyword {
                    keyword: name.to_string(),
                    section: pb.p.kind.keyword(),
                    suggestion: hint,
                },
            ));
        };
        if status == Status::Rejected {
            return Err(fail_at(
                kw,
                DiagnosticKind::NotAllowed {
                    keyword: name.to_string(),
                    place: "HAProxy 2.6 (removed keyword)".into(),
                },
            ));
        }
        // Where HAProxy ignores most keywords of the wrong side with a
        // warning, it refuses `retry-on` in a frontend.
        if name == "retry-on" && pb.p.kind == ProxyKind::Frontend {
            return Err(invalid(
                kw,
                name,
                "only available in backend or listen section",
            ));
        }
        // `option` and `timeout` check capability per option / kind below.
        if name != "option" && name != "timeout" && !self.capability(pb, kw, name, caps)? {
            return Ok(());
        }
        if status == Status::Ignored {
            self.warn(kw, DiagnosticKind::NotImplemented(name.to_string()));
            pb.p.ignored.push(Spanned::new(strings(words), span));
            return Ok(());
        }
        let one = |what: &str| only_arg(args, kw, what);
        let p = &mut pb.p;
        match name {
            "mode" => {
                let a = one("'tcp', 'http' or 'health'")?;
                let m = match &*a.text {
                    "tcp" => Mode::Tcp,
                    "http" => Mode::Http,
                    "health" => Mode::Health,
                    _ => return Err(invalid(a, "mode", "expects 'tcp', 'http' or 'health'")),
                };
                p.mode = Some(Spanned::new(m, span));
            }
            "log" if negated => {
                if let Some(x) = args.first() {
                    return Err(invalid(x, "no log", "takes no argument"));
                }
                p.logs.clear();
            }
            "log" => {
                let l = parse_log(kw, args)?;
                p.logs.push(Spanned::new(l, span));
            }
            // HAProxy ignores words after the tag here.
            "log-tag" => {
                let t = arg(args, 0, kw, "a tag for use in syslog")?;
                p.log_tag = Some(Spanned::new(t.text.to_string(), span));
            }
            "log-format" => {
                let a = arg(args, 0, kw, "a log format string")?;
                if args.get(1).is_some() {
                    return Err(fail_at(kw, DiagnosticKind::LogFormatWords));
                }
                let expr = parse_log_format(&a.text)
                    .map_err(|m| fail_at(a, DiagnosticKind::LogFormat(m)))?;
                if p.kind == ProxyKind::Defaults
                    && let Some(old) = log_format_name(p)
                {
                    self.warn(
                        kw,
                        DiagnosticKind::LogFormatOverride {
                            new: "log-format".into(),
                            old,
                        },
                    );
                }
                p.log_format = Some(Spanned::new(expr, span));
            }
            "option" => {
                let (o, rest) = args
                    .split_first()
                    .ok_or_else(|| missing(kw, "option", "an option name"))?;
                let oname = &*o.text;
                let Some(&(_, ocaps, ostatus)) =
                    keywords::OPTIONS.iter().find(|(k, _, _)| *k == oname)
                else {
                    let hint = keywords::nearest(oname, keywords::OPTIONS.iter().map(|k| k.0));
                    return Err(fail_at(
                        o,
                        DiagnosticKind::UnknownKeyword {
                            keyword: format!("option {oname}"),
                            section: pb.p.kind.keyword(),
                            suggestion: hint,
                        },
                    ));
                };
                if ostatus == Status::Rejected {
                    return Err(fail_at(
                        o,
                        DiagnosticKind::NotAllowed {
                            keyword: format!("option {oname}"),
                            place: "HAProxy 2.6 (removed option)".into(),
                        },
                    ));
                }
                if negated && keywords::NOT_NEGATABLE.contains(&oname) {
                    return Err(invalid(
                        o,
                        &format!("no option {oname}"),
                        format!("negation/default is not supported for option '{oname}'"),
                    ));
                }
                let kind = parse_option(o, if negated { &[] } else { rest })?;
                if negated && let Some(x) = rest.first() {
                    return Err(invalid(
                        x,
                        &format!("no option {oname}"),
                        "takes no argument",
                    ));
                }
                if !self.capability(pb, o, oname, ocaps)? {
                    return Ok(());
                }
                if ostatus == Status::Ignored {
                    self.warn(o, DiagnosticKind::NotImplemented(format!("option {oname}")));
                }
                if !negated && matches!(kind, OptionKind::HttpLog { .. } | OptionKind::TcpLog) {
                    if pb.p.kind == ProxyKind::Defaults
                        && let Some(old) = log_format_name(&pb.p)
                    {
                        self.warn(
                            kw,
                            DiagnosticKind::LogFormatOverride {
                                new: format!("option {oname}"),
                                old,
                            },
                        );
                    }
                    // The later of `log-format` and these options wins.
                    pb.p.log_format = None;
                }
                pb.p.set_option(Spanned::new(ProxyOption { negated, kind }, span));
            }
            "retries" => {
                let n = lax_number(Some(one("an integer argument")?), kw, name, &mut self.notes);
                p.retries = Some(Spanned::new(n, span));
            }
            "retry-on" => {
                if args.is_empty() {
                    return Err(invalid(
                        kw,
                        name,
                        "needs at least one keyword to specify when to retry",
                    ));
                }
                for w in args {
                    if !RETRY_ON.contains(&&*w.text) {
                        return Err(invalid(w, name, format!("unknown keyword '{}'", w.text)));
                    }
                    if w.text == "none" && args.len() > 1 {
                        return Err(invalid(w, name, "'none' keyword only usable alone"));
                    }
                }
                p.retry_on = Some(Spanned::new(strings(args), span));
            }
            "maxconn" => {
                let n = lax_number(Some(one("a number")?), kw, name, &mut self.notes);
                p.maxconn = Some(Spanned::new(n, span));
            }
            "timeout" => {
                let k = arg(args, 0, kw, "a timeout kind")?;
                let Some(&(_, tk)) = TimeoutKind::ALL.iter().find(|(n, _)| *n == k.text) else {
                    let hint = keywords::nearest(&k.text, TimeoutKind::ALL.iter().map(|t| t.0));
                    return Err(invalid(
                        k,
                        "timeout",
                        format!(
                            "unknown timeout '{}'{}",
                            k.text,
                            hint.map(|h| format!("; did you mean '{h}'?"))
                                .unwrap_or_default()
                        ),
                    ));
                };
                let label = format!("timeout {}", k.text);
                let v = arg(args, 1, k, "a time value")?;
                if let Some(x) = args.get(2) {
                    return Err(invalid(x, &label, format!("unexpected '{}'", x.text)));
                }
                let d = duration(v, &label, &mut self.notes)?;
                let caps = DEF | if tk.is_frontend_side() { FE } else { BE };
                if self.capability(pb, k, &label, caps)? {
                    pb.p.timeouts.insert(tk, Spanned::new(d, span));
                }
            }
            "bind" => {
                let a = arg(args, 0, kw, "an address")?;
                let mut addresses = Vec::new();
                for part in a.text.split(',') {
                    addresses.push(
                        parse_bind_address(part).map_err(|r| bad_address(a, "bind", part, r))?,
                    );
                }
                let (options, mode, level) =
                    parse_bind_options("bind", args.get(1..).unwrap_or(&[]))?;
                if mode.is_some() || level.is_some() {
                    self.warn(
                        kw,
                        DiagnosticKind::NotImplemented(
                            "bind mode/level outside stats socket".into(),
                        ),
                    );
                }
                pb.p.binds
                    .push(Spanned::new(Bind { addresses, options }, span));
            }
            "stats" => {
                let s = self.parse_stats(pb, kw, args)?;
                if !pb.own_stats {
                    pb.p.stats.clear();
                    pb.own_stats = true;
                }
                pb.p.stats.push(Spanned::new(s, span));
            }
            "capture" => {
                let w = arg(args, 0, kw, "'request', 'response' or 'cookie'")?;
                let request = match &*w.text {
                    "request" => true,
                    "response" => false,
                    "cookie" => {
                        self.warn(w, DiagnosticKind::NotImplemented("capture cookie".into()));
                        pb.p.ignored.push(Spanned::new(strings(words), span));
                        return Ok(());
                    }
                    _ => {
                        return Err(invalid(
                            w,
                            "capture",
                            "expects 'request', 'response' or 'cookie'",
                        ));
                    }
                };
                let h = arg(args, 1, w, "'header'")?;
                if h.text != "header" {
                    return Err(invalid(h, "capture", "expects 'header'"));
                }
                let n = arg(args, 2, h, "a header name")?;
                let l = arg(args, 3, n, "'len' and a length")?;
                if l.text != "len" {
                    return Err(invalid(l, "capture", "expects 'len'"));
                }
                let v = arg(args, 4, l, "a length")?;
                let len = positive(v, "capture len")?;
                if let Some(x) = args.get(5) {
                    return Err(invalid(x, "capture", format!("unexpected '{}'", x.text)));
                }
                pb.p.captures.push(Spanned::new(
                    Capture {
                        request,
                        header: n.text.to_string(),
                        len,
                    },
                    span,
                ));
            }
            "acl" => {
                let n = arg(args, 0, kw, "an ACL name and an expression")?;
                if let Some(c) = n
                    .text
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
                {
                    return Err(invalid(
                        n,
                        "acl",
                        format!("character '{c}' is not permitted in acl name '{}'", n.text),
                    ));
                }
                if proxy_acl::is_predefined(&n.text) {
                    self.warn(
                        n,
                        DiagnosticKind::InvalidArgument {
                            keyword: "acl".into(),
                            message: format!(
                                "acl name '{}' will never match: it is a predefined ACL",
                                n.text
                            ),
                        },
                    );
                }
                let rest = args.get(1..).unwrap_or(&[]);
                let first = rest
                    .first()
                    .ok_or_else(|| missing(n, "acl", "a criterion"))?;
                let expr = AclExpr::parse(&strings(rest))
                    .map_err(|e| fail_at(first, DiagnosticKind::Acl(e)))?;
                p.acls.push(Spanned::new(
                    Acl {
                        name: n.text.to_string(),
                        expr,
                    },
                    span,
                ));
            }
            "monitor-uri" => {
                let u = arg(args, 0, kw, "an URI")?;
                pb.p.monitor_uri = Some(Spanned::new(u.text.to_string(), span));
            }
            "monitor" => {
                let fail = args.first().filter(|w| w.text == "fail");
                let Some(fail) = fail else {
                    return Err(invalid(kw, "monitor", "'monitor' only supports 'fail'."));
                };
                let cond = &args[1..];
                if !cond
                    .first()
                    .is_some_and(|w| w.text == "if" || w.text == "unless")
                {
                    return Err(invalid(
                        fail,
                        "monitor fail",
                        "'monitor fail' requires either 'if' or 'unless' followed by a condition.",
                    ));
                }
                let condition = self.condition(pb, cond)?;
                self.warn_incompatible(
                    pb,
                    condition.as_ref(),
                    kw,
                    "monitor fail",
                    proxy_acl::Fetch::is_response_only,
                );
                if let Some(c) = condition {
                    pb.p.monitor_fail.push(Spanned::new(c, span));
                }
            }
            "use_backend" => {
                let (b, cond) = args
                    .split_first()
                    .ok_or_else(|| missing(kw, name, "a backend name"))?;
                let (extra, cond) = split_condition(cond);
                if let Some(x) = extra.first() {
                    return Err(invalid(
                        x,
                        name,
                        format!(
                            "expects 'if' or 'unless' after the backend name, found '{}'",
                            x.text
                        ),
                    ));
                }
                let condition = self.condition(pb, cond)?;
                self.warn_incompatible(
                    pb,
                    condition.as_ref(),
                    kw,
                    "use-backend rule",
                    proxy_acl::Fetch::is_response_only,
                );
                pb.p.use_backends.push(Spanned::new(
                    UseBackend {
                        backend: b.text.to_string(),
                        condition,
                    },
                    span,
                ));
            }
            "default_backend" => {
                let b = one("a backend name")?;
                pb.p.default_backend = Some(Spanned::new(b.text.to_string(), span));
            }
            "balance" if args.is_empty() => {
                // HAProxy accepts a bare `balance` and keeps the algorithm.
                self.warn(
                    kw,
                    DiagnosticKind::MissingArgument {
                        keyword: "balance".into(),
                        expected: "an algorithm; the line is ignored".into(),
                    },
                );
            }
            "balance" => p.balance = Some(Spanned::new(parse_balance(kw, args)?, span)),
            "hash-type" => p.hash_type = Some(Spanned::new(parse_hash_type(kw, args)?, span)),
            "cookie" => {
                let (n, rest) = args
                    .split_first()
                    .ok_or_else(|| missing(kw, name, "a cookie name"))?;
                const OPTS: &[&str] = &[
                    "rewrite", "insert", "prefix", "indirect", "nocache", "postonly", "preserve",
                    "httponly", "secure", "domain", "maxidle", "maxlife", "dynamic", "attr",
                ];
                let mut i = 0;
                while let Some(w) = rest.get(i) {
                    if !OPTS.contains(&&*w.text) {
                        let hint = keywords::nearest(&w.text, OPTS.iter().copied());
                        return Err(fail_at(
                            w,
                            DiagnosticKind::UnknownKeyword {
                                keyword: w.text.to_string(),
                                section: "cookie",
                                suggestion: hint,
                            },
                        ));
                    }
                    if matches!(&*w.text, "domain" | "maxidle" | "maxlife" | "attr") {
                        let v = arg(rest, i + 1, w, "an argument")?;
                        if w.text == "maxidle" || w.text == "maxlife" {
                            duration(v, &w.text, &mut self.notes)?;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                p.cookie = Some(Spanned::new(
                    Cookie {
                        name: n.text.to_string(),
                        options: strings(rest),
                    },
                    span,
                ));
            }
            "default-server" => {
                let o = parse_server_options(args, &mut self.notes)?;
                self.warn_server_other(&o, kw);
                pb.p.default_server.merge(&o);
            }
            "server" => {
                let n = arg(args, 0, kw, "a server name and an address")?;
                let a = arg(args, 1, n, "an address")?;
                let address = parse_server_address(&a.text)
                    .map_err(|r| bad_address(a, "server", &a.text, r))?;
                let options = parse_server_options(args.get(2..).unwrap_or(&[]), &mut self.notes)?;
                if let Some(prev) = p.servers.iter().find(|s| s.value.name == n.text) {
                    let at = prev.span.clone();
                    return Err(invalid(
                        n,
                        "server",
                        format!("server name '{}' already used at {at}", n.text),
                    ));
                }
                self.warn_server_other(&options, kw);
                pb.p.servers.push(Spanned::new(
                    Server {
                        name: n.text.to_string(),
                        address,
                        options,
                    },
                    span,
                ));
            }
            "http-request" | "http-response" => {
                let (action, cond) = split_condition(args);
                let action = parse_http_action(name, action, kw)?;
                let condition = self.condition(pb, cond)?;
                let (rule, incompatible): (_, fn(&proxy_acl::Fetch) -> bool) =
                    if name == "http-request" {
                        (
                            "http-request header rule",
                            proxy_acl::Fetch::is_response_only,
                        )
                    } else {
                        (
                            "http-response header rule",
                            proxy_acl::Fetch::is_request_only,
                        )
                    };
                self.warn_incompatible(pb, condition.as_ref(), kw, rule, incompatible);
                let rule = Spanned::new(HttpRule { action, condition }, span);
                if name == "http-request" {
                    pb.p.http_request.push(rule);
                } else {
                    pb.p.http_response.push(rule);
                }
            }
            "http-check" => {
                arg(args, 0, kw, "an action")?;
                if !pb.own_http_checks {
                    pb.p.http_checks.clear();
                    pb.own_http_checks = true;
                }
                pb.p.http_checks.push(Spanned::new(strings(args), span));
            }
            "errorfile" => {
                let c = arg(args, 0, kw, "a status code and a file")?;
                let f = arg(args, 1, c, "a file")?;
                let code: u16 = number(c, "errorfile")?;
                if !ERRORFILE_CODES.contains(&code) {
                    return Err(invalid(
                        c,
                        "errorfile",
                        format!("status code {code} not handled"),
                    ));
                }
                p.errorlocs.remove(&code);
                p.errorfiles
                    .insert(code, Spanned::new(PathBuf::from(&*f.text), span));
            }
            "errorfiles" => {
                let n = arg(args, 0, kw, "<name> as argument")?;
                let mut codes = Vec::new();
                for c in &args[1..] {
                    // Read as atoi does: `abc` is code 0, refused below.
                    let code = c.text.parse::<u16>().unwrap_or(0);
                    if !ERRORFILE_CODES.contains(&code) {
                        return Err(invalid(
                            c,
                            "errorfiles",
                            format!("status code '{code}' not handled."),
                        ));
                    }
                    codes.push(code);
                }
                pb.error_imports.push(ErrorImport {
                    section: n.text.to_string(),
                    codes,
                    span,
                });
            }
            "errorloc" | "errorloc302" | "errorloc303" => {
                let expects = "<status_code> and <url> as arguments";
                let c = arg(args, 0, kw, expects)?;
                let url = arg(args, 1, kw, expects)?;
                let code: u16 = number(c, name)?;
                if !ERRORFILE_CODES.contains(&code) {
                    return Err(invalid(
                        c,
                        name,
                        format!("status code '{code}' not handled."),
                    ));
                }
                let redirect = if name == "errorloc303" { 303 } else { 302 };
                p.errorfiles.remove(&code);
                p.errorlocs
                    .insert(code, Spanned::new((redirect, url.text.to_string()), span));
            }
            _ => {
                // Every supported proxy keyword has a branch above; the table
                // and this match are kept in step by the manual test.
                return Err(fail_at(
                    kw,
                    DiagnosticKind::NotImplemented(name.to_string()),
                ));
            }
        }
        Ok(())
    }

    fn warn_server_other(&mut self, o: &ServerOptions, kw: &Word<'_>) {
        for (n, _) in &o.other {
            self.warn(
                kw,
                DiagnosticKind::NotImplemented(format!("server option '{n}'")),
            );
        }
    }

    fn parse_stats(&mut self, pb: &ProxyBuild, kw: &Word<'_>, args: &[Word<'_>]) -> R<Stats> {
        let sub = arg(args, 0, kw, "a stats keyword")?;
        let rest = args.get(1..).unwrap_or(&[]);
        let label = format!("stats {}", sub.text);
        let none = |s: Stats| -> R<Stats> {
            match rest.first() {
                Some(x) => Err(invalid(x, &label, "takes no argument")),
                None => Ok(s),
            }
        };
        let one = |what: &str| -> R<String> {
            let a = arg(rest, 0, sub, what)?;
            if let Some(x) = rest.get(1) {
                return Err(invalid(x, &label, format!("unexpected '{}'", x.text)));
            }
            Ok(a.text.to_string())
        };
        match &*sub.text {
            "enable" => none(Stats::Enable),
            "hide-version" => none(Stats::HideVersion),
            "show-legends" => none(Stats::ShowLegends),
            "uri" => Ok(Stats::Uri(one("a URI prefix")?)),
            "realm" => Ok(Stats::Realm(one("a realm")?)),
            "scope" => Ok(Stats::Scope(one("a proxy name")?)),
            "refresh" => {
                let v = arg(rest, 0, sub, "a delay")?;
                Ok(Stats::Refresh(duration(v, &label, &mut self.notes)?))
            }
            "show-node" | "show-desc" => {
                if let Some(x) = rest.get(1) {
                    return Err(invalid(x, &label, format!("unexpected '{}'", x.text)));
                }
                let v = rest.first().map(|w| w.text.to_string());
                Ok(if sub.text == "show-node" {
                    Stats::ShowNode(v)
                } else {
                    Stats::ShowDesc(v)
                })
            }
            "auth" => {
                let a = one("'user:password'")?;
                let (user, password) = a
                    .split_once(':')
                    .ok_or_else(|| invalid(sub, "stats auth", "expects 'user:password'"))?;
                Ok(Stats::Auth {
                    user: user.to_string(),
                    password: password.to_string(),
                })
            }
            "admin" => {
                if pb.p.kind == ProxyKind::Defaults {
                    return Err(fail_at(
                        sub,
                        DiagnosticKind::NotAllowed {
                            keyword: "stats admin".into(),
                            place: "'defaults' section".into(),
                        },
                    ));
                }
                if rest.is_empty() {
                    return Err(missing(
                        sub,
                        "stats admin",
                        "'if' or 'unless' followed by a condition",
                    ));
                }
                let c = self.condition(pb, rest)?;
                c.map(Stats::Admin)
                    .ok_or_else(|| missing(sub, "stats admin", "a condition"))
            }
            "socket" => Err(fail_at(
                sub,
                DiagnosticKind::NotAllowed {
                    keyword: "stats socket".into(),
                    place: format!("'{}' section (only in 'global')", pb.p.kind.keyword()),
                },
            )),
            other => {
                const SUBS: &[&str] = &[
                    "enable",
                    "hide-version",
                    "show-legends",
                    "uri",
                    "realm",
                    "scope",
                    "refresh",
                    "show-node",
                    "show-desc",
                    "auth",
                    "admin",
                ];
                let hint = keywords::nearest(other, SUBS.iter().copied());
                Err(fail_at(
                    sub,
                    DiagnosticKind::UnknownKeyword {
                        keyword: label.clone(),
                        section: pb.p.kind.keyword(),
                        suggestion: hint.map(|_| "stats"),
                    },
                ))
            }
        }
    }
}

/// The directive that set `p`'s log format so far, for the override warning.
fn log_format_name(p: &Proxy) -> Option<String> {
    if p.log_format.is_some() {
        return Some("log-format".into());
    }
    ["httplog", "tcplog"]
        .iter()
        .find(|o| p.option_enabled(o))
        .map(|o| format!("option {o}"))
}

/// Copies into `p` what a proxy of its kind inherits from `d`.
pub(crate) fn inherit(p: &mut Proxy, d: &Proxy) {
    let fe = p.kind.is_frontend();
    let be = p.kind.is_backend();
    p.mode.clone_from(&d.mode);
    p.logs.clone_from(&d.logs);
    p.options = d
        .options
        .iter()
        .filter(|o| option_applies(p.kind, o.value.kind.name()))
        .cloned()
        .collect();
    p.timeouts = d
        .timeouts
        .iter()
        .filter(|(k, _)| if k.is_frontend_side() { fe } else { be })
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    p.stats.clone_from(&d.stats);
    p.errorfiles.clone_from(&d.errorfiles);
    if fe {
        p.monitor_uri.clone_from(&d.monitor_uri);
    }
    p.errorlocs.clone_from(&d.errorlocs);
    p.log_tag.clone_from(&d.log_tag);
    if fe {
        p.log_format.clone_from(&d.log_format);
        p.maxconn.clone_from(&d.maxconn);
        p.default_backend.clone_from(&d.default_backend);
    }
    if be {
        p.retries.clone_from(&d.retries);
        p.retry_on.clone_from(&d.retry_on);
        p.balance.clone_from(&d.balance);
        p.hash_type.clone_from(&d.hash_type);
        p.cookie.clone_from(&d.cookie);
        p.default_server = d.default_server.clone();
        p.http_checks.clone_from(&d.http_checks);
    }
}

/// Whether option `name` has an effect in a proxy of `kind`.
pub(crate) fn option_applies(kind: ProxyKind, name: &str) -> bool {
    keywords::OPTIONS
        .iter()
        .find(|(k, _, _)| *k == name)
        .is_some_and(|(_, caps, _)| {
            kind == ProxyKind::Defaults
                || (kind.is_frontend() && caps & FE != 0)
                || (kind.is_backend() && caps & BE != 0)
        })
}
