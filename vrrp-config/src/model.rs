//! The typed configuration: what a valid keepalived.conf means, with
//! keepalived's defaults filled in. Built by validation; rendered back to
//! canonical text by `Display for Config`.

use std::net::IpAddr;
use std::time::Duration;

use crate::diag::Origin;

/// A whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// `global_defs`.
    pub global: GlobalDefs,
    /// `vrrp_script` blocks, in file order.
    pub scripts: Vec<VrrpScript>,
    /// `vrrp_instance` blocks, in file order.
    pub instances: Vec<VrrpInstance>,
    /// `vrrp_sync_group` blocks, in file order.
    pub sync_groups: Vec<SyncGroup>,
}

impl Config {
    /// The script called `name`.
    pub fn script(&self, name: &str) -> Option<&VrrpScript> {
        self.scripts.iter().find(|s| s.name == name)
    }

    /// The instance called `name`.
    pub fn instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.instances.iter().find(|i| i.name == name)
    }

    /// True when scripts would run as root without `enable_script_security`,
    /// which `keepalived -t` reports as a security violation (exit status 6).
    pub fn script_security_violation(&self) -> bool {
        let runs_scripts = !self.scripts.is_empty()
            || self.instances.iter().any(|i| i.notify.any())
            || self.sync_groups.iter().any(|g| g.notify.any());
        let as_root = self
            .global
            .script_user
            .as_ref()
            .is_none_or(|u| u.user == "root");
        runs_scripts && as_root && !self.global.enable_script_security
    }
}

/// `global_defs`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalDefs {
    /// `notification_email { ... }` addresses.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_connect_timeout` (whole seconds; keepalived's default is 30 s when unset).
    pub smtp_connect_timeout: Option<Duration>,
    /// `router_id`.
    pub router_id: Option<String>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<ScriptUser>,
}

/// Where notification mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// The server.
    pub host: Host,
    /// The TCP port, 25 unless given.
    pub port: u16,
}

/// An address or a name to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A literal address.
    Ip(IpAddr),
    /// A host name.
    Name(String),
}

/// A user (and optional group) scripts run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUser {
    /// User name.
    pub user: String,
    /// Group name; the user's primary group when absent.
    pub group: Option<String>,
}

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpScript {
    /// The name `track_script` refers to.
    pub name: String,
    /// The command line, as keepalived would split and run it.
    pub script: String,
    /// `interval` between runs (default 1 s).
    pub interval: Duration,
    /// `timeout`; keepalived uses the interval when absent.
    pub timeout: Option<Duration>,
    /// `weight` (-253..=253, default 0).
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `rise` (successes before up, default 1).
    pub rise: u32,
    /// `fall` (failures before down, default 1).
    pub fall: u32,
    /// `user USER [GROUP]`.
    pub user: Option<ScriptUser>,
    /// Where the block starts.
    pub origin: Origin,
}

/// The state an instance starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialState {
    /// `state MASTER`.
    Master,
    /// `state BACKUP` (the default).
    #[default]
    Backup,
}

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VrrpVersion {
    /// RFC 3768 (the default).
    #[default]
    V2,
    /// RFC 5798.
    V3,
}

/// Address family of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// `authentication { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// `auth_type`.
    pub auth_type: AuthType,
    /// `auth_pass`, at most 8 bytes (longer is truncated).
    pub auth_pass: String,
}

/// `auth_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// Simple password.
    Pass,
    /// IPsec AH.
    Ah,
}

/// `scope` of a virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `global`.
    Global,
    /// `site`.
    Site,
    /// `link`.
    Link,
    /// `host`.
    Host,
    /// `nowhere`.
    Nowhere,
}

impl Scope {
    /// The keyword keepalived uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Site => "site",
            Scope::Link => "link",
            Scope::Host => "host",
            Scope::Nowhere => "nowhere",
        }
    }
}

/// One `virtual_ipaddress` entry: `ADDR[/PREFIX] [brd X] [dev IF] [scope S] [label L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (32 or 128 when not written).
    pub prefix: u8,
    /// `brd`.
    pub broadcast: Option<IpAddr>,
    /// `dev`; the instance's interface when absent.
    pub dev: Option<String>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `label`.
    pub label: Option<String>,
    /// Where the entry is.
    pub origin: Origin,
}

impl VirtualAddress {
    /// The address family.
    pub fn family(&self) -> Family {
        if self.addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// One `track_script` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackScript {
    /// The `vrrp_script` name.
    pub name: String,
    /// `weight N` overriding the script's.
    pub weight: Option<i32>,
    /// `weight N reverse`.
    pub reverse: bool,
}

/// One `track_interface` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInterface {
    /// Interface name.
    pub name: String,
    /// `weight N`.
    pub weight: Option<i32>,
    /// `weight N reverse`.
    pub reverse: bool,
    /// Where the entry is.
    pub origin: Origin,
}

/// Notification scripts (`notify_*`), on instances and sync groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<String>,
    /// `notify_backup`.
    pub backup: Option<String>,
    /// `notify_fault`.
    pub fault: Option<String>,
    /// `notify_stop`.
    pub stop: Option<String>,
    /// `notify` (called on every transition).
    pub any: Option<String>,
}

impl Notify {
    /// True when any script is set.
    pub fn any(&self) -> bool {
        self.master.is_some()
            || self.backup.is_some()
            || self.fault.is_some()
            || self.stop.is_some()
            || self.any.is_some()
    }
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpInstance {
    /// The instance name.
    pub name: String,
    /// `state` (default BACKUP).
    pub state: InitialState,
    /// `interface`.
    pub interface: String,
    /// `virtual_router_id` (1..=255).
    pub virtual_router_id: u8,
    /// `priority` (1..=255, default 100).
    pub priority: u8,
    /// `advert_int` (default 1 s; whole seconds in VRRPv2, centiseconds in v3).
    pub advert_int: Duration,
    /// `garp_master_delay` (default 5 s).
    pub garp_master_delay: Duration,
    /// `garp_master_repeat` (default 5).
    pub garp_master_repeat: u32,
    /// `garp_master_refresh` (none by default).
    pub garp_master_refresh: Option<Duration>,
    /// `authentication { ... }`.
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress { ... }`.
    pub virtual_ipaddress: Vec<VirtualAddress>,
    /// `virtual_ipaddress_excluded { ... }`.
    pub virtual_ipaddress_excluded: Vec<VirtualAddress>,
    /// `track_script { ... }`.
    pub track_script: Vec<TrackScript>,
    /// `track_interface { ... }`.
    pub track_interface: Vec<TrackInterface>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`.
    pub preempt_delay: Option<Duration>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer { ... }`.
    pub unicast_peer: Vec<IpAddr>,
    /// `notify_*` scripts.
    pub notify: Notify,
    /// `smtp_alert`.
    pub smtp_alert: bool,
    /// `version`.
    pub version: VrrpVersion,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// Where the block starts.
    pub origin: Origin,
    /// Where `interface` is written.
    pub interface_origin: Origin,
}

impl VrrpInstance {
    /// The instance's address family: IPv6 with `native_ipv6` or when the
    /// first virtual address is IPv6, IPv4 otherwise.
    pub fn family(&self) -> Family {
        if self.native_ipv6 {
            return Family::V6;
        }
        self.virtual_ipaddress
            .first()
            .map_or(Family::V4, VirtualAddress::family)
    }
}

/// `vrrp_sync_group NAME { group { ... } notify_* }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    /// The group name.
    pub name: String,
    /// Member instance names.
    pub group: Vec<String>,
    /// `notify_*` scripts.
    pub notify: Notify,
    /// `smtp_alert`.
    pub smtp_alert: bool,
    /// Where the block starts.
    pub origin: Origin,
}
