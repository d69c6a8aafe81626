//! Checks over the whole loaded configuration, run once every file is read,
//! as HAProxy runs them after parsing: settings that are valid line by line
//! but wrong, or useless, together.
//!
//! - a server with `check` but neither a service port nor a check port is an
//!   error (HAProxy cannot tell where to send the health checks);
//! - a proxy that lacks a client, connect or server timeout gets HAProxy's
//!   "missing timeouts" warning;
//! - a frontend with a log format (`option httplog`, `tcplog`, `httpslog`,
//!   `log-format`) but no log target gets the "log format ignored" warning;
//! - a userlist group naming an unknown user, or a user naming an unknown
//!   group, is an error;
//! - `http_auth(L)` and `http_auth_group(L)` naming an unknown userlist (in
//!   an `acl` line or an anonymous ACL of a rule) are errors, and so is
//!   `nbsrv(B)` naming no backend, or `nbsrv` without an argument in a proxy
//!   without the backend capability.

use crate::diag::{Diagnostic, DiagnosticKind, SectionKind, SectionRef, Severity, Span};
use crate::model::{
    Config, Log, Mode, Proxy, ProxyKind, ServerHost, ServerPort, TimeoutKind, Userlist,
};

/// Every finding: userlists first, then proxies, each in order.
pub(crate) fn run(config: &Config) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for u in &config.userlists {
        check_userlist(u, &mut out);
    }
    for p in config.proxies.iter().filter(|p| !disabled(config, p)) {
        check_ports(p, &mut out);
        check_userlist_refs(config, p, &mut out);
        if lacks_timeouts(p) {
            out.push(finding(
                p,
                p.name.span.clone(),
                Severity::Warning,
                DiagnosticKind::MissingTimeouts { proxy: describe(p) },
            ));
        }
        if has_log_format(config, p) && !has_log_target(config, p) {
            out.push(finding(
                p,
                p.name.span.clone(),
                Severity::Warning,
                DiagnosticKind::LogFormatWithoutTarget { proxy: describe(p) },
            ));
        }
    }
    out
}

/// ACL fetches that name a userlist or a backend must name a declared one.
fn check_userlist_refs(config: &Config, p: &Proxy, out: &mut Vec<Diagnostic>) {
    let known = |name: &str| config.userlists.iter().any(|u| u.name.value == name);
    let mut report = |fetch: &proxy_acl::Fetch, span: &Span| {
        let unresolved = match fetch.counted_backend() {
            Some(Some(b)) if config.backend(b).is_none() => Some(format!(
                "unable to find backend '{b}' referenced in arg 1 of ACL keyword '{}' in proxy '{}'.",
                fetch.keyword(),
                p.name.value
            )),
            Some(None) if !p.kind.is_backend() => Some(format!(
                "proxy '{0}', referenced in arg 1 of ACL keyword '{1}' in proxy '{0}', has not backend capability.",
                p.name.value,
                fetch.keyword()
            )),
            _ => None,
        };
        if let Some(message) = unresolved {
            out.push(finding(
                p,
                span.clone(),
                Severity::Error,
                DiagnosticKind::InvalidArgument {
                    keyword: fetch.keyword().to_owned(),
                    message,
                },
            ));
        }
        if let Some(list) = fetch.userlist().filter(|l| !known(l)) {
            out.push(finding(
                p,
                span.clone(),
                Severity::Error,
                DiagnosticKind::UnknownUserlist {
                    userlist: list.to_owned(),
                    keyword: fetch.keyword().to_owned(),
                    proxy: p.name.value.clone(),
                },
            ));
        }
    };
    for acl in &p.acls {
        report(acl.value.expr.fetch(), &acl.span);
    }
    let conditions = p
        .http_request
        .iter()
        .chain(&p.http_response)
        .map(|r| (r.value.condition.as_ref(), &r.span))
        .chain(
            p.use_backends
                .iter()
                .map(|u| (u.value.condition.as_ref(), &u.span)),
        )
        .chain(p.monitor_fail.iter().map(|c| (Some(&c.value), &c.span)));
    for (condition, span) in conditions {
        let anonymous = condition
            .into_iter()
            .flat_map(|c| c.alternatives.iter().flatten())
            .filter_map(|t| match &t.acl {
                proxy_acl::AclRef::Anonymous(words) => proxy_acl::AclExpr::parse(words).ok(),
                proxy_acl::AclRef::Named(_) => None,
            });
        for expr in anonymous {
            report(expr.fetch(), span);
        }
    }
}

/// `frontend 'web'`, `backend 'app'`, `proxy 'both'`: HAProxy's words.
fn describe(p: &Proxy) -> String {
    let kind = match p.kind {
        ProxyKind::Listen => "proxy",
        other => other.keyword(),
    };
    format!("{kind} '{}'", p.name.value)
}

fn finding(p: &Proxy, span: Span, severity: Severity, kind: DiagnosticKind) -> Diagnostic {
    Diagnostic {
        span,
        section: Some(SectionRef {
            kind: match p.kind {
                ProxyKind::Frontend => SectionKind::Frontend,
                ProxyKind::Backend => SectionKind::Backend,
                ProxyKind::Listen => SectionKind::Listen,
                ProxyKind::Defaults => SectionKind::Defaults,
            },
            name: Some(p.name.value.clone()),
        }),
        keyword: None,
        kind,
        severity,
    }
}

/// The words of the accepted-but-ignored lines of `p` and of its defaults.
fn ignored_lines<'a>(config: &'a Config, p: &'a Proxy) -> impl Iterator<Item = &'a [String]> {
    let inherited = p
        .defaults
        .and_then(|i| config.defaults.get(i))
        .map(|d| d.ignored.as_slice())
        .unwrap_or(&[]);
    inherited
        .iter()
        .chain(p.ignored.iter())
        .map(|l| l.value.as_slice())
}

/// A proxy stopped with `disabled` is not checked by HAProxy.
fn disabled(config: &Config, p: &Proxy) -> bool {
    let mut state = false;
    for words in ignored_lines(config, p) {
        match words.first().map(String::as_str) {
            Some("disabled") => state = true,
            Some("enabled") => state = false,
            _ => {}
        }
    }
    state
}

/// Health checks need a port: the server's own, `port`, or a first
/// `tcp-check connect port N` rule.
fn check_ports(p: &Proxy, out: &mut Vec<Diagnostic>) {
    if !p.kind.is_backend() {
        return;
    }
    let tcp_check_connect_port = p
        .ignored
        .iter()
        .map(|l| l.value.as_slice())
        .find(|w| w.first().is_some_and(|k| k == "tcp-check"))
        .is_some_and(|w| w.get(1).is_some_and(|a| a == "connect") && w.iter().any(|x| x == "port"));
    for s in &p.servers {
        // The line's own options win over default-server's (no clone per server:
        // configurations may hold hundreds of thousands).
        let check = s.options.check.or(p.default_server.check);
        if check != Some(true) || matches!(s.address.host, ServerHost::Unix(_)) {
            continue;
        }
        let service_port = matches!(s.address.port, ServerPort::Fixed(n) if n != 0);
        let port = s.options.port.or(p.default_server.port);
        let check_port = port.is_some_and(|n| n != 0);
        if service_port || check_port || tcp_check_connect_port {
            continue;
        }
        out.push(finding(
            p,
            s.span.clone(),
            Severity::Error,
            DiagnosticKind::NoCheckPort {
                proxy: describe(p),
                server: s.name.clone(),
            },
        ));
    }
}

/// HAProxy's rule: a frontend needs a client timeout; a backend with servers
/// needs a connect timeout and a server timeout (in TCP mode a tunnel timeout
/// stands in for the server one). Zero means not set.
fn lacks_timeouts(p: &Proxy) -> bool {
    let set = |k: TimeoutKind| p.timeout(k).is_some_and(|d| !d.is_zero());
    let frontend = p.kind.is_frontend() && !set(TimeoutKind::Client);
    let backend = p.kind.is_backend()
        && !p.servers.is_empty()
        && (!set(TimeoutKind::Connect)
            || (!set(TimeoutKind::Server)
                && (p.effective_mode() == Mode::Http || !set(TimeoutKind::Tunnel))));
    frontend || backend
}

fn has_log_format(config: &Config, p: &Proxy) -> bool {
    if !p.kind.is_frontend() {
        return false;
    }
    ["httplog", "tcplog", "httpslog"]
        .iter()
        .any(|o| p.option_enabled(o))
        || p.log_format.is_some()
        || ignored_lines(config, p).any(|w| w.first().is_some_and(|k| k == "log-format"))
}

fn has_log_target(config: &Config, p: &Proxy) -> bool {
    p.logs.iter().any(|l| match &l.value {
        Log::Global => !config.global.logs.is_empty(),
        _ => true,
    })
}

/// Groups and users may name each other in either order, but must exist.
fn check_userlist(u: &Userlist, out: &mut Vec<Diagnostic>) {
    let section = || {
        Some(SectionRef {
            kind: SectionKind::Userlist,
            name: Some(u.name.value.clone()),
        })
    };
    let mut push =
        |span: &Span, what: &'static str, name: &str, owner_kind: &'static str, owner: &str| {
            out.push(Diagnostic {
                span: span.clone(),
                section: section(),
                keyword: Some(owner_kind.to_string()),
                kind: DiagnosticKind::UnknownUserlistMember {
                    userlist: u.name.value.clone(),
                    what,
                    name: name.to_string(),
                    owner_kind,
                    owner: owner.to_string(),
                },
                severity: Severity::Error,
            });
        };
    for g in &u.groups {
        for user in &g.users {
            if !u.users.iter().any(|x| x.value.name == *user) {
                push(&g.span, "user", user, "group", &g.name);
            }
        }
    }
    for x in &u.users {
        for group in &x.groups {
            if !u.groups.iter().any(|g| g.value.name == *group) {
                push(&x.span, "group", group, "user", &x.name);
            }
        }
    }
}
