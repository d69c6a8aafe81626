//! The canonical printer: a [`Config`] back to haproxy.cfg text.
//!
//! Loading the printed text gives back an equal model (positions aside). Each
//! proxy is printed right after the `defaults` section it inherits from, with
//! every effective setting written out, so inheritance cannot change it.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use proxy_acl::{AclRef, Condition, Polarity};

use crate::model::*;

/// Prints `config` as canonical haproxy.cfg text.
pub fn print(config: &Config) -> String {
    let mut out = String::new();
    print_global(&mut out, &config.global);
    for u in &config.userlists {
        print_userlist(&mut out, u);
    }
    for h in &config.http_errors {
        line(
            &mut out,
            false,
            &["http-errors".into(), h.name.value.clone()],
        );
        for (code, f) in &h.errorfiles {
            line(
                &mut out,
                true,
                &["errorfile".into(), code.to_string(), path(f)],
            );
        }
    }
    for p in config.proxies.iter().filter(|p| p.defaults.is_none()) {
        print_proxy(&mut out, p, None);
    }
    for (i, d) in config.defaults.iter().enumerate() {
        print_proxy(&mut out, d, None);
        for p in config.proxies.iter().filter(|p| p.defaults == Some(i)) {
            print_proxy(&mut out, p, Some(d));
        }
    }
    out
}

/// Quotes a word so that the lexer reads it back unchanged.
pub(crate) fn quote(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !matches!(c, '#' | '"' | '\'' | '\\')
        });
    if plain {
        return w.to_string();
    }
    if !w.contains('\'') && !w.chars().any(|c| c.is_control()) {
        return format!("'{w}'");
    }
    let mut s = String::with_capacity(w.len() + 2);
    s.push('"');
    for c in w.chars() {
        match c {
            '"' | '\\' | '$' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x80 => {
                let _ = write!(s, "\\x{:02x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

fn line(out: &mut String, indent: bool, words: &[String]) {
    if indent {
        out.push_str("    ");
    }
    let mut first = true;
    for w in words {
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(&quote(w));
    }
    out.push('\n');
}

macro_rules! emit {
    ($out:expr, $($w:expr),+ $(,)?) => {
        line($out, true, &[$(String::from($w)),+])
    };
}

/// A duration in the largest unit that represents it exactly.
pub(crate) fn duration(d: Duration) -> String {
    let us = d.as_micros();
    for (unit, n) in [
        ("d", 86_400_000_000u128),
        ("h", 3_600_000_000),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
    ] {
        if us % n == 0 && us != 0 {
            return format!("{}{unit}", us / n);
        }
    }
    if us == 0 {
        return "0".into();
    }
    format!("{us}us")
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn ip_port(ip: IpAddr, port: &str) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

fn unix(p: &Path) -> String {
    let s = path(p);
    if s.starts_with('/') {
        s
    } else {
        format!("unix@{s}")
    }
}

fn bind_address(a: &BindAddress) -> String {
    match a {
        BindAddress::Inet { ip, ports } => {
            let port = if ports.start() == ports.end() {
                ports.start().to_string()
            } else {
                format!("{}-{}", ports.start(), ports.end())
            };
            ip_port(*ip, &port)
        }
        BindAddress::Unix(p) => unix(p),
        BindAddress::Abstract(n) => format!("abns@{n}"),
        BindAddress::Fd(n) => format!("fd@{n}"),
    }
}

fn bind_options(w: &mut Vec<String>, o: &BindOptions) {
    if let Some(n) = &o.name {
        w.extend(["name".into(), n.clone()]);
    }
    if o.ssl {
        w.push("ssl".into());
    }
    for c in &o.crt {
        w.extend(["crt".into(), path(c)]);
    }
    if let Some(a) = &o.alpn {
        w.extend(["alpn".into(), a.clone()]);
    }
    for (set, name) in [
        (o.accept_proxy, "accept-proxy"),
        (o.transparent, "transparent"),
        (o.v4v6, "v4v6"),
        (o.v6only, "v6only"),
    ] {
        if set {
            w.push(name.into());
        }
    }
    if let Some(m) = o.maxconn {
        w.extend(["maxconn".into(), m.to_string()]);
    }
    if let Some(i) = &o.interface {
        w.extend(["interface".into(), i.clone()]);
    }
    for (k, v) in &o.other {
        w.push(k.clone());
        w.extend(v.clone());
    }
}

fn log(l: &Log) -> Vec<String> {
    let mut w = vec!["log".to_string()];
    match l {
        Log::Global => w.push("global".into()),
        Log::Target(t) => {
            w.push(match &t.address {
                LogAddress::Udp(sa) => ip_port(sa.ip(), &sa.port().to_string()),
                LogAddress::Unix(p) => unix(p),
                LogAddress::Fd(n) => format!("fd@{n}"),
                LogAddress::Ring(r) => format!("ring@{r}"),
            });
            if let Some(n) = t.len {
                w.extend(["len".into(), n.to_string()]);
            }
            if let Some(f) = t.format {
                w.extend(["format".into(), f.name().into()]);
            }
            w.push(t.facility.name().into());
            if let Some(l) = t.level {
                w.push(l.name().into());
                if let Some(m) = t.min_level {
                    w.push(m.name().into());
                }
            }
        }
    }
    w
}

fn print_global(out: &mut String, g: &Global) {
    out.push_str("global\n");
    for e in &g.environment {
        line(out, true, &e.value);
    }
    for l in &g.logs {
        line(out, true, &log(l));
    }
    if let Some(c) = &g.chroot {
        emit!(out, "chroot", path(c));
    }
    if let Some(p) = &g.pidfile {
        emit!(out, "pidfile", path(p));
    }
    if let Some(m) = &g.maxconn {
        emit!(out, "maxconn", m.to_string());
    }
    if let Some(u) = &g.user {
        emit!(out, "user", u.value.clone());
    }
    if let Some(u) = &g.group {
        emit!(out, "group", u.value.clone());
    }
    if let Some(u) = &g.uid {
        emit!(out, "uid", u.value.to_string());
    }
    if let Some(u) = &g.gid {
        emit!(out, "gid", u.value.to_string());
    }
    if g.daemon.is_some() {
        emit!(out, "daemon");
    }
    if let Some(n) = &g.nbthread {
        emit!(out, "nbthread", n.to_string());
    }
    for s in &g.stats_sockets {
        let mut w = vec!["stats".into(), "socket".into(), bind_address(&s.address)];
        if let Some(m) = s.mode {
            w.extend(["mode".into(), format!("{m:o}")]);
        }
        if let Some(l) = s.level {
            w.extend(["level".into(), l.name().into()]);
        }
        bind_options(&mut w, &s.options);
        line(out, true, &w);
    }
    if let Some(t) = &g.stats_timeout {
        emit!(out, "stats", "timeout", duration(t.value));
    }
    if let Some(t) = &g.log_tag {
        emit!(out, "log-tag", t.value.clone());
    }
    if let Some(h) = &g.log_send_hostname {
        let mut w = vec!["log-send-hostname".to_string()];
        w.extend(h.value.clone());
        line(out, true, &w);
    }
    for c in &g.h1_case_adjust {
        let (from, to) = &c.value;
        emit!(out, "h1-case-adjust", from.clone(), to.clone());
    }
    if let Some(f) = &g.h1_case_adjust_file {
        emit!(out, "h1-case-adjust-file", f.value.display().to_string());
    }
    for i in &g.ignored {
        line(out, true, &i.value);
    }
}

fn print_userlist(out: &mut String, u: &Userlist) {
    line(out, false, &["userlist".into(), u.name.value.clone()]);
    for g in &u.groups {
        let mut w = vec!["group".to_string(), g.name.clone()];
        if !g.users.is_empty() {
            w.extend(["users".into(), g.users.join(",")]);
        }
        line(out, true, &w);
    }
    for u in &u.users {
        let mut w = vec!["user".to_string(), u.name.clone()];
        match &u.password {
            Some(Password::Hashed(p)) => w.extend(["password".into(), p.clone()]),
            Some(Password::Insecure(p)) => w.extend(["insecure-password".into(), p.clone()]),
            None => {}
        }
        if !u.groups.is_empty() {
            w.extend(["groups".into(), u.groups.join(",")]);
        }
        line(out, true, &w);
    }
}

/// The words of a condition, `if`/`unless` first.
pub(crate) fn condition(c: &Condition) -> Vec<String> {
    let mut w = vec![match c.polarity {
        Polarity::If => "if".to_string(),
        Polarity::Unless => "unless".to_string(),
    }];
    for (i, alt) in c.alternatives.iter().enumerate() {
        if i > 0 {
            w.push("||".into());
        }
        for t in alt {
            if t.negated {
                w.push("!".into());
            }
            match &t.acl {
                AclRef::Named(n) => w.push(n.clone()),
                AclRef::Anonymous(words) => {
                    w.push("{".into());
                    w.extend(words.iter().cloned());
                    w.push("}".into());
                }
            }
        }
    }
    w
}

fn option(o: &ProxyOption) -> Vec<String> {
    let mut w = Vec::new();
    if o.negated {
        w.push("no".to_string());
    }
    w.push("option".into());
    w.push(o.kind.name().to_string());
    if o.negated {
        return w;
    }
    match &o.kind {
        OptionKind::HttpLog { clf: true } => w.push("clf".into()),
        OptionKind::ForwardFor(f) => {
            if let Some(e) = f.except {
                w.extend(["except".into(), e.to_string()]);
            }
            if let Some(h) = &f.header {
                w.extend(["header".into(), h.clone()]);
            }
            if f.if_none {
                w.push("if-none".into());
            }
        }
        OptionKind::Redispatch { interval: Some(n) } => w.push(n.to_string()),
        OptionKind::HttpChk { args } | OptionKind::Other { args, .. } => {
            w.extend(args.iter().cloned());
        }
        _ => {}
    }
    w
}

fn balance(b: &Balance) -> Vec<String> {
    let mut w = vec!["balance".to_string()];
    match &b.algorithm {
        Algorithm::RoundRobin => w.push("roundrobin".into()),
        Algorithm::StaticRr => w.push("static-rr".into()),
        Algorithm::LeastConn => w.push("leastconn".into()),
        Algorithm::First => w.push("first".into()),
        Algorithm::Source => w.push("source".into()),
        Algorithm::Uri(o) => {
            w.push("uri".into());
            if let Some(l) = o.len {
                w.extend(["len".into(), l.to_string()]);
            }
            if let Some(d) = o.depth {
                w.extend(["depth".into(), d.to_string()]);
            }
            if o.whole {
                w.push("whole".into());
            }
            if o.path_only {
                w.push("path-only".into());
            }
        }
        Algorithm::UrlParam { name } => {
            w.extend(["url_param".into(), name.clone()]);
            if b.check_post {
                w.push("check_post".into());
            }
        }
        Algorithm::Hdr {
            name,
            use_domain_only,
        } => {
            w.push(format!("hdr({name})"));
            if *use_domain_only {
                w.push("use_domain_only".into());
            }
        }
        Algorithm::Random { draws } => w.push(format!("random({draws})")),
        Algorithm::RdpCookie { name } => w.push(format!("rdp-cookie({name})")),
    }
    w
}

fn server_address(a: &ServerAddress) -> String {
    let port = match a.port {
        ServerPort::Same => None,
        ServerPort::Fixed(p) => Some(p.to_string()),
        ServerPort::Offset(n) if n >= 0 => Some(format!("+{n}")),
        ServerPort::Offset(n) => Some(n.to_string()),
    };
    match (&a.host, port) {
        (ServerHost::Unix(p), _) => unix(p),
        (ServerHost::Ip(ip), Some(port)) => ip_port(*ip, &port),
        (ServerHost::Ip(IpAddr::V6(v6)), None) => format!("[{v6}]"),
        (ServerHost::Ip(ip), None) => ip.to_string(),
        (ServerHost::Name(n), Some(port)) => format!("{n}:{port}"),
        (ServerHost::Name(n), None) => n.clone(),
    }
}

fn server_options(w: &mut Vec<String>, o: &ServerOptions) {
    let flag = |w: &mut Vec<String>, v: Option<bool>, on: &str, off: &str| {
        if let Some(b) = v {
            w.push(if b { on } else { off }.to_string());
        }
    };
    let val = |w: &mut Vec<String>, name: &str, v: Option<String>| {
        if let Some(v) = v {
            w.extend([name.to_string(), v]);
        }
    };
    flag(w, o.check, "check", "no-check");
    val(w, "inter", o.inter.map(duration));
    val(w, "fastinter", o.fastinter.map(duration));
    val(w, "downinter", o.downinter.map(duration));
    val(w, "rise", o.rise.map(|n| n.to_string()));
    val(w, "fall", o.fall.map(|n| n.to_string()));
    val(w, "port", o.port.map(|n| n.to_string()));
    val(w, "addr", o.addr.map(|a| a.to_string()));
    val(w, "weight", o.weight.map(|n| n.to_string()));
    val(w, "maxconn", o.maxconn.map(|n| n.to_string()));
    val(w, "maxqueue", o.maxqueue.map(|n| n.to_string()));
    val(w, "minconn", o.minconn.map(|n| n.to_string()));
    flag(w, o.backup, "backup", "no-backup");
    flag(w, o.disabled, "disabled", "enabled");
    val(w, "cookie", o.cookie.clone());
    flag(w, o.send_proxy, "send-proxy", "no-send-proxy");
    flag(w, o.send_proxy_v2, "send-proxy-v2", "no-send-proxy-v2");
    flag(w, o.ssl, "ssl", "no-ssl");
    val(
        w,
        "verify",
        o.verify.map(|v| {
            match v {
                Verify::None => "none",
                Verify::Required => "required",
            }
            .to_string()
        }),
    );
    val(w, "sni", o.sni.clone());
    val(w, "slowstart", o.slowstart.map(duration));
    val(w, "on-marked-down", o.on_marked_down.clone());
    for (k, v) in &o.other {
        w.push(k.clone());
        w.extend(v.clone());
    }
}

fn http_rule(kw: &str, r: &HttpRule) -> Vec<String> {
    let mut w = vec![kw.to_string()];
    match &r.action {
        HttpAction::SetHeader { name, value } => {
            w.extend(["set-header".into(), name.clone(), value.clone()]);
        }
        HttpAction::AddHeader { name, value } => {
            w.extend(["add-header".into(), name.clone(), value.clone()]);
        }
        HttpAction::DelHeader { name, method } => {
            w.extend(["del-header".into(), name.clone()]);
            if let Some(m) = method {
                w.extend(["-m".into(), m.clone()]);
            }
        }
        HttpAction::ReplaceHeader {
            name,
            regex,
            replacement,
        } => w.extend([
            "replace-header".into(),
            name.clone(),
            regex.clone(),
            replacement.clone(),
        ]),
        HttpAction::SetPath(p) => w.extend(["set-path".into(), p.clone()]),
        HttpAction::SetQuery(p) => w.extend(["set-query".into(), p.clone()]),
        HttpAction::Redirect(a) => {
            w.push("redirect".into());
            w.extend(a.iter().cloned());
        }
        HttpAction::Deny { status, args } => {
            w.push("deny".into());
            if let Some(s) = status {
                w.extend(["deny_status".into(), s.to_string()]);
            }
            w.extend(args.iter().cloned());
        }
        HttpAction::Allow => w.push("allow".into()),
        HttpAction::Return(a) => {
            w.push("return".into());
            w.extend(a.iter().cloned());
        }
        HttpAction::SetVar { name, expr } => {
            w.push(format!("set-var({name})"));
            w.extend(expr.iter().cloned());
        }
        HttpAction::UseService(s) => w.extend(["use-service".into(), s.clone()]),
        HttpAction::Other { name, args } => {
            w.push(name.clone());
            w.extend(args.iter().cloned());
        }
    }
    if let Some(c) = &r.condition {
        w.extend(condition(c));
    }
    w
}

fn stats(s: &Stats) -> Vec<String> {
    let mut w = vec!["stats".to_string()];
    match s {
        Stats::Enable => w.push("enable".into()),
        Stats::Uri(u) => w.extend(["uri".into(), u.clone()]),
        Stats::Realm(r) => w.extend(["realm".into(), r.clone()]),
        Stats::Auth { user, password } => {
            w.extend(["auth".into(), format!("{user}:{password}")]);
        }
        Stats::Admin(c) => {
            w.push("admin".into());
            w.extend(condition(c));
        }
        Stats::HideVersion => w.push("hide-version".into()),
        Stats::Refresh(d) => w.extend(["refresh".into(), duration(*d)]),
        Stats::ShowLegends => w.push("show-legends".into()),
        Stats::ShowNode(n) => {
            w.push("show-node".into());
            w.extend(n.clone());
        }
        Stats::ShowDesc(n) => {
            w.push("show-desc".into());
            w.extend(n.clone());
        }
        Stats::Scope(s) => w.extend(["scope".into(), s.clone()]),
    }
    w
}

fn print_proxy(out: &mut String, p: &Proxy, defaults: Option<&Proxy>) {
    let mut head = vec![p.kind.keyword().to_string()];
    if !p.name.value.is_empty() {
        head.push(p.name.value.clone());
    }
    line(out, false, &head);
    if let Some(m) = &p.mode {
        emit!(out, "mode", m.name());
    }
    if defaults.is_some_and(|d| !d.logs.is_empty()) {
        emit!(out, "no", "log");
    }
    for l in &p.logs {
        line(out, true, &log(l));
    }
    for o in &p.options {
        line(out, true, &option(o));
    }
    if let Some(r) = &p.retries {
        emit!(out, "retries", r.to_string());
    }
    if let Some(r) = &p.retry_on {
        let mut words = vec!["retry-on".to_owned()];
        words.extend(r.value.iter().cloned());
        line(out, true, &words);
    }
    for (k, v) in &p.timeouts {
        emit!(out, "timeout", k.name(), duration(v.value));
    }
    if let Some(m) = &p.maxconn {
        emit!(out, "maxconn", m.to_string());
    }
    for b in &p.binds {
        let addrs: Vec<String> = b.addresses.iter().map(bind_address).collect();
        let mut w = vec!["bind".to_string(), addrs.join(",")];
        bind_options(&mut w, &b.options);
        line(out, true, &w);
    }
    for s in &p.stats {
        line(out, true, &stats(s));
    }
    for c in &p.captures {
        let dir = if c.request { "request" } else { "response" };
        emit!(
            out,
            "capture",
            dir,
            "header",
            c.header.clone(),
            "len",
            c.len.to_string()
        );
    }
    for a in &p.acls {
        let mut w = vec!["acl".to_string(), a.name.clone()];
        w.extend(a.expr.words().iter().cloned());
        line(out, true, &w);
    }
    for u in &p.use_backends {
        let mut w = vec!["use_backend".to_string(), u.backend.clone()];
        if let Some(c) = &u.condition {
            w.extend(condition(c));
        }
        line(out, true, &w);
    }
    if let Some(d) = &p.default_backend {
        emit!(out, "default_backend", d.value.clone());
    }
    if let Some(u) = &p.monitor_uri {
        emit!(out, "monitor-uri", u.value.clone());
    }
    for c in &p.monitor_fail {
        let mut w = vec!["monitor".to_string(), "fail".to_string()];
        w.extend(condition(c));
        line(out, true, &w);
    }
    if let Some(b) = &p.balance {
        line(out, true, &balance(b));
    }
    if let Some(h) = &p.hash_type {
        // Written out in full: `consistent` alone would mean avalanche too.
        let mut w = vec![
            "hash-type".to_string(),
            match h.method {
                HashMethod::Consistent => "consistent",
                HashMethod::MapBased => "map-based",
            }
            .into(),
            h.function.keyword().into(),
        ];
        if h.avalanche {
            w.push("avalanche".into());
        }
        line(out, true, &w);
    }
    if let Some(c) = &p.cookie {
        let mut w = vec!["cookie".to_string(), c.name.clone()];
        w.extend(c.options.iter().cloned());
        line(out, true, &w);
    }
    if p.default_server != ServerOptions::default() {
        let mut w = vec!["default-server".to_string()];
        server_options(&mut w, &p.default_server);
        line(out, true, &w);
    }
    for s in &p.servers {
        let mut w = vec![
            "server".to_string(),
            s.name.clone(),
            server_address(&s.address),
        ];
        server_options(&mut w, &s.options);
        line(out, true, &w);
    }
    for r in &p.http_request {
        line(out, true, &http_rule("http-request", r));
    }
    for r in &p.http_response {
        line(out, true, &http_rule("http-response", r));
    }
    for c in &p.http_checks {
        let mut w = vec!["http-check".to_string()];
        w.extend(c.value.iter().cloned());
        line(out, true, &w);
    }
    for (code, f) in &p.errorfiles {
        emit!(out, "errorfile", code.to_string(), path(f));
    }
    for (code, l) in &p.errorlocs {
        let (redirect, url) = &l.value;
        let kw = if *redirect == 303 {
            "errorloc303"
        } else {
            "errorloc302"
        };
        emit!(out, kw, code.to_string(), url.clone());
    }
    // After the options: the later of `log-format` and `option httplog`
    // wins, and a kept `log-format` came last.
    if let Some(f) = &p.log_format {
        emit!(out, "log-format", f.source.clone());
    }
    if let Some(t) = &p.log_tag {
        emit!(out, "log-tag", t.value.clone());
    }
    for i in &p.ignored {
        line(out, true, &i.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_through_the_lexer() {
        for w in [
            "a",
            "no entrance",
            "",
            "it's",
            "a#b",
            "x\"y",
            "$HOME",
            "${X}",
            "tab\there",
            "back\\slash",
        ] {
            let q = quote(w);
            let back = crate::syntax::decode(&q, &|_| Some("EXPANDED".into()));
            assert_eq!(back, w, "{q}");
        }
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(duration(Duration::from_secs(60)), "1m");
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration(Duration::from_micros(7)), "7us");
        assert_eq!(duration(Duration::ZERO), "0");
        assert_eq!(duration(Duration::from_secs(86_400 * 2)), "2d");
    }
}
