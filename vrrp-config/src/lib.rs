//! The keepalived.conf language: a pest grammar and a typed, validated model of
//! `global_defs`, `vrrp_script`, `vrrp_instance` and `vrrp_sync_group`.
//!
//! Loading runs in two passes. [`syntax`] turns text into a tree of
//! statements with file:line:col positions, expanding `include` globs through
//! a [`Loader`]; validation turns the tree into a [`Config`] with keepalived's
//! defaults, range checks and cross-references, reporting each finding as a
//! [`Diagnostic`] whose [`Severity`] follows keepalived's own (a warning, a
//! configuration error keepalived recovers from, or an error).
//!
//! This crate reads configuration files (and their includes) and nothing
//! else: it runs no scripts, opens no sockets and does not look at the host's
//! interfaces ([`Config::check_interfaces`] takes the lookup as a function).
//! [`manual`] lists which keepalived keywords are supported.

pub mod diag;
pub mod loader;
pub mod manual;
pub mod model;
mod render;
pub mod syntax;
mod validate;

use std::path::Path;
use std::sync::Arc;

pub use diag::{Diagnostic, Errors, Origin, Problem, Severity};
pub use loader::{FsLoader, Loader, MemLoader, NoIncludes};
pub use model::{
    AuthType, Authentication, Config, Family, GlobalDefs, Host, InitialState, Notify, Scope,
    ScriptUser, SmtpServer, SyncGroup, TrackInterface, TrackScript, VirtualAddress, VrrpInstance,
    VrrpScript, VrrpVersion,
};

/// A configuration that loaded, with what was reported on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Warnings and recovered errors ([`Severity::Warning`], [`Severity::Recoverable`]),
    /// in the order found. Any recovered error means `keepalived -t` would fail.
    pub warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// True when `keepalived -t` would accept the file (no recovered errors).
    pub fn passes_config_test(&self) -> bool {
        !self.warnings.iter().any(|d| d.severity.fails_config_test())
    }
}

/// Loads the file at `path` and its includes from the file system.
pub fn load(path: &Path) -> Result<Loaded, Errors> {
    let name = path.display().to_string();
    match FsLoader.read(path) {
        Ok(text) => parse_with_loader(&name, &text, &FsLoader),
        Err(e) => Err(Errors {
            errors: vec![Diagnostic::new(
                Severity::Error,
                Origin::file(Arc::from(name.as_str())),
                Problem::Read {
                    path: name,
                    reason: e.to_string(),
                },
            )],
            warnings: Vec::new(),
        }),
    }
}

/// Parses `text` read from `file_name`, resolving includes on the file system
/// relative to `file_name`'s directory.
pub fn parse_str(file_name: &str, text: &str) -> Result<Loaded, Errors> {
    parse_with_loader(file_name, text, &FsLoader)
}

/// Parses `text` read from `file_name`, taking included files from `loader`.
pub fn parse_with_loader(
    file_name: &str,
    text: &str,
    loader: &dyn Loader,
) -> Result<Loaded, Errors> {
    let mut diags = Vec::new();
    let tree = syntax::parse_tree(file_name, text, loader, &mut diags);
    let config = validate::validate(&tree, &mut diags);
    let (errors, warnings): (Vec<_>, Vec<_>) = diags
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if errors.is_empty() {
        Ok(Loaded { config, warnings })
    } else {
        Err(Errors { errors, warnings })
    }
}

/// What the host says about an interface name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceState {
    /// No such interface.
    Missing,
    /// A loopback interface, which VRRP cannot use.
    Loopback,
    /// An interface VRRP can use.
    Usable,
}

impl Config {
    /// Interfaces the configuration names that do not exist, as `exists` reports them.
    ///
    /// Pure: the caller looks at the host. Each diagnostic is an error, as
    /// `keepalived -t` fails on a missing interface.
    pub fn check_interfaces(&self, exists: impl Fn(&str) -> bool) -> Vec<Diagnostic> {
        self.check_host_interfaces(|name| {
            if exists(name) {
                InterfaceState::Usable
            } else {
                InterfaceState::Missing
            }
        })
    }

    /// Like [`Config::check_interfaces`], and also refuses a loopback
    /// interface for an instance, as keepalived does.
    pub fn check_host_interfaces(&self, probe: impl Fn(&str) -> InterfaceState) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut report = |origin: &Origin, msg: String| {
            out.push(Diagnostic::new(
                Severity::Error,
                origin.clone(),
                Problem::Interface(msg),
            ));
        };
        for i in &self.instances {
            match probe(&i.interface) {
                InterfaceState::Missing => report(
                    &i.interface_origin,
                    format!(
                        "interface {} for vrrp_instance {} doesn't exist",
                        i.interface, i.name
                    ),
                ),
                InterfaceState::Loopback => report(
                    &i.interface_origin,
                    format!(
                        "({}) cannot use a loopback interface ({}) for vrrp",
                        i.name, i.interface
                    ),
                ),
                InterfaceState::Usable => {}
            }
            for v in i
                .virtual_ipaddress
                .iter()
                .chain(&i.virtual_ipaddress_excluded)
            {
                if let Some(dev) = &v.dev {
                    if probe(dev) == InterfaceState::Missing {
                        report(
                            &v.origin,
                            format!(
                                "interface {dev} for ip address {}/{} doesn't exist",
                                v.addr, v.prefix
                            ),
                        );
                    }
                }
            }
            for t in &i.track_interface {
                if probe(&t.name) == InterfaceState::Missing {
                    report(
                        &t.origin,
                        format!("({}) tracked interface {} doesn't exist", i.name, t.name),
                    );
                }
            }
        }
        out.sort_by_key(|d| (d.origin.file.clone(), d.origin.line, d.origin.col));
        out
    }
}

/// The outcome of checking a configuration the way `keepalived -t` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigTest {
    /// Everything found, in order: loading diagnostics, then interface checks.
    pub diagnostics: Vec<Diagnostic>,
    /// The verdict.
    pub status: TestStatus,
}

/// The verdict of a configuration test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// Nothing keepalived would object to.
    Ok,
    /// A configuration error (recovered or not), or a missing interface.
    ConfigError,
    /// The file is otherwise fine, but scripts would run as root without
    /// `enable_script_security`.
    SecurityViolation,
}

impl TestStatus {
    /// The exit status `keepalived -t` uses for this verdict (0, 5 or 6).
    pub fn exit_code(self) -> u8 {
        match self {
            TestStatus::Ok => 0,
            TestStatus::ConfigError => 5,
            TestStatus::SecurityViolation => 6,
        }
    }
}

/// Checks a load result as `keepalived -t` does, with `probe` describing the host's interfaces.
pub fn config_test(
    result: Result<Loaded, Errors>,
    probe: impl Fn(&str) -> InterfaceState,
) -> ConfigTest {
    match result {
        Err(e) => {
            let mut diagnostics = e.warnings;
            diagnostics.extend(e.errors);
            diagnostics.sort_by_key(|d| d.severity != Severity::Error);
            ConfigTest {
                diagnostics,
                status: TestStatus::ConfigError,
            }
        }
        Ok(loaded) => {
            let interfaces = loaded.config.check_host_interfaces(probe);
            let status = if !loaded.passes_config_test() || !interfaces.is_empty() {
                TestStatus::ConfigError
            } else if loaded.config.script_security_violation() {
                TestStatus::SecurityViolation
            } else {
                TestStatus::Ok
            };
            let mut diagnostics = loaded.warnings;
            diagnostics.extend(interfaces);
            ConfigTest {
                diagnostics,
                status,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(body: &str) -> String {
        format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 9\n \
             virtual_ipaddress {{\n  198.18.0.1\n }}\n{body}\n}}\n"
        )
    }

    fn load(text: &str) -> Result<Loaded, Errors> {
        parse_with_loader("t.conf", text, &NoIncludes)
    }

    #[test]
    fn recovered_values_follow_keepalived() {
        let l = load(&instance(
            " priority 0\n state LEADER\n advert_int 1.5\n \
             authentication {\n  auth_type PASS\n  auth_pass 123456789\n }",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let i = &l.config.instances[0];
        assert_eq!(i.priority, 100);
        assert_eq!(i.state, InitialState::Backup);
        assert_eq!(i.advert_int, std::time::Duration::from_secs(2));
        assert_eq!(
            i.authentication.as_ref().map(|a| a.auth_pass.as_str()),
            Some("12345678")
        );
        assert_eq!(l.warnings.len(), 4);
        assert!(
            l.warnings
                .iter()
                .all(|d| d.severity == Severity::Recoverable)
        );
        assert!(!l.passes_config_test());
    }

    #[test]
    fn errors_name_file_line_and_keyword() {
        let e = load(&instance(" priorty 100\n track_script {\n  nope\n }"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        let text = e.to_string();
        assert!(
            text.contains(
                "t.conf:7:2: error: unknown keyword 'priorty' (did you mean 'priority'?)"
            ),
            "{text}"
        );
        assert!(text.contains("track script nope not found"), "{text}");
    }

    #[test]
    fn vip_entries_parse_every_option() {
        let l = load(
            "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  \
             10.0.0.1/24 brd 10.0.0.255 dev eth1 scope link label eth1:0\n  fe80::1\n }\n}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let v = &l.config.instances[0].virtual_ipaddress;
        assert_eq!(v.len(), 1, "the IPv6 address is of the other family");
        assert_eq!(v[0].prefix, 24);
        assert_eq!(v[0].broadcast, "10.0.0.255".parse().ok());
        assert_eq!(v[0].dev.as_deref(), Some("eth1"));
        assert_eq!(v[0].scope, Some(Scope::Link));
        assert_eq!(v[0].label.as_deref(), Some("eth1:0"));
        assert_eq!(l.warnings.len(), 1);
        for bad in [
            "10.0.0.300",
            "10.0.0.1/33",
            "10.0.0.1 dev",
            "10.0.0.1 no_track x",
        ] {
            let text = format!(
                "vrrp_instance V {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  {bad}\n }}\n}}\n"
            );
            assert!(load(&text).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn duplicate_vrid_needs_same_interface_and_family() {
        let two = |if2: &str, vip2: &str| {
            format!(
                "vrrp_instance A {{\n interface eth0\n virtual_router_id 5\n virtual_ipaddress {{\n 10.0.0.1\n }}\n}}\n\
                 vrrp_instance B {{\n interface {if2}\n virtual_router_id 5\n virtual_ipaddress {{\n {vip2}\n }}\n}}\n"
            )
        };
        assert!(load(&two("eth0", "10.0.0.2")).is_err());
        assert!(load(&two("eth1", "10.0.0.2")).is_ok());
        assert!(load(&two("eth0", "2001:db8::2")).is_ok());
    }

    #[test]
    fn ignored_and_rejected_keywords() {
        let l = load(&instance(" debug 2")).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(&l.warnings[0].problem, Problem::Ignored { keyword } if keyword == "debug")
        );
        assert!(l.passes_config_test());
        let e = load(&instance(" use_vmac"))
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert!(
            matches!(&e.errors[0].problem, Problem::Unsupported { keyword } if keyword == "use_vmac")
        );
    }

    #[test]
    fn sync_groups_check_members() {
        let text = format!(
            "{}vrrp_sync_group G {{\n group {{\n  VI_1\n  VI_9\n }}\n}}\n",
            instance("")
        );
        let e = load(&text).err().unwrap_or_else(|| panic!("should fail"));
        assert!(e.to_string().contains("VI_9"), "{e}");
    }

    #[test]
    fn instance_needs_interface_and_vrid() {
        let e = load("vrrp_instance V {\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n")
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        let text = e.to_string();
        assert!(
            text.contains("no interface set") && text.contains("virtual router id must be set"),
            "{text}"
        );
    }

    #[test]
    fn interface_check_reports_each_place() {
        let l = load(&instance(" track_interface {\n  eth7 weight 5\n }"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.config.instances[0].track_interface[0].weight, Some(5));
        let d = l.config.check_interfaces(|n| n == "eth0");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].origin.line, 8);
        let d = l.config.check_host_interfaces(|n| {
            if n == "eth0" {
                InterfaceState::Loopback
            } else {
                InterfaceState::Usable
            }
        });
        assert!(d[0].to_string().contains("loopback"));
    }
}
