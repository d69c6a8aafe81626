//! Server host names resolved at load time, as HAProxy does before it starts.
//!
//! This is the one step of loading that asks the outside world something, so
//! it is kept apart and takes the resolver as a function: [`crate::load`]
//! passes [`system_resolves`] (the C library's resolver, through
//! [`std::net::ToSocketAddrs`]), tests pass a table. [`crate::parse_str`]
//! does not resolve at all.
//!
//! A name that does not resolve is an error, unless the server's `init-addr`
//! allows `none`: then the server starts disabled, with a warning. The
//! resolved addresses are not kept; the runtime resolves again when it
//! connects.

use std::net::ToSocketAddrs;

use crate::diag::{Diagnostic, DiagnosticKind, SectionKind, SectionRef, Severity};
use crate::model::{Config, ProxyKind, ServerHost};
use crate::{Errors, Loaded};

/// Whether `host` resolves with the system resolver.
pub fn system_resolves(host: &str) -> bool {
    (host, 0u16)
        .to_socket_addrs()
        .is_ok_and(|mut addrs| addrs.next().is_some())
}

/// Checks every server host name of a loaded configuration with `resolves`.
///
/// A failed load is returned unchanged: HAProxy stops before resolving when
/// the configuration has errors.
pub fn resolve_server_names(
    result: Result<Loaded, Errors>,
    resolves: &dyn Fn(&str) -> bool,
) -> Result<Loaded, Errors> {
    let loaded = result?;
    let found = unresolved(&loaded.config, resolves);
    loaded.with_findings(found)
}

fn unresolved(config: &Config, resolves: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in config.proxies.iter().filter(|p| p.kind.is_backend()) {
        for s in &p.servers {
            let ServerHost::Name(host) = &s.address.host else {
                continue;
            };
            if resolves(host) {
                continue;
            }
            let options = p.server_options(s);
            let disabled = options
                .other
                .iter()
                .filter(|(name, _)| name == "init-addr")
                .filter_map(|(_, value)| value.as_deref())
                .any(|methods| methods.split(',').any(|m| m == "none"));
            out.push(Diagnostic {
                span: s.span.clone(),
                section: Some(SectionRef {
                    kind: if p.kind == ProxyKind::Listen {
                        SectionKind::Listen
                    } else {
                        SectionKind::Backend
                    },
                    name: Some(p.name.value.clone()),
                }),
                keyword: Some("server".into()),
                kind: DiagnosticKind::Unresolvable {
                    proxy: p.name.value.clone(),
                    server: s.name.clone(),
                    host: host.clone(),
                    disabled,
                },
                severity: if disabled {
                    Severity::Warning
                } else {
                    Severity::Error
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  \
                        timeout connect 1s\nbackend b\n  server s known.example:80\n  \
                        server t unknown.example:80\n  server u 127.0.0.1:80\n";

    fn known(host: &str) -> bool {
        host == "known.example"
    }

    #[test]
    fn an_unresolvable_name_is_an_error_at_its_server_line() {
        let loaded = crate::parse_str("t.cfg", TEXT, &|_| None);
        let e = resolve_server_names(loaded, &known).unwrap_err();
        let errors: Vec<String> = e.errors().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "t.cfg:8:3: in section 'backend b': 'server b/t' : could not resolve address 'unknown.example'"
            ]
        );
    }

    #[test]
    fn init_addr_none_disables_the_server_with_a_warning() {
        let text = TEXT.replace(
            "unknown.example:80",
            "unknown.example:80 init-addr last,libc,none",
        );
        let loaded = crate::parse_str("t.cfg", &text, &|_| None);
        let l = resolve_server_names(loaded, &known).unwrap();
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.to_string().ends_with("disabling server")),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn the_system_resolver_knows_localhost_and_not_invalid_names() {
        assert!(system_resolves("localhost"));
        assert!(!system_resolves("name.invalid"));
    }

    #[test]
    fn failed_loads_pass_unchanged() {
        let loaded = crate::parse_str("t.cfg", "nonsense\n", &|_| None);
        let before = loaded.clone();
        assert_eq!(resolve_server_names(loaded, &|_| false), before);
    }
}
