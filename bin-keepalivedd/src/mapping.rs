//! From vrrp-config's model to what the daemon runs: vrrp-core instance configurations
//! grouped into units (a lone instance or a sync group), the netlink form of every
//! virtual address, the notify commands and the scripts to run.
//!
//! Pure: the interface facts (primary addresses) come in through a function, so the
//! mapping is tested without a network.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vrrp_config::{AuthType, Config, Family, ScriptUser, VrrpInstance, VrrpVersion};
use vrrp_core::{Auth, InstanceConfig, Tracked, Version};
use vrrp_netlink::{Scope, Vip};

use crate::Error;

/// The addresses of an interface an instance may send from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterfaceFacts {
    /// The primary IPv4 address.
    pub primary_v4: Option<Ipv4Addr>,
    /// An IPv6 link-local address.
    pub link_local_v6: Option<Ipv6Addr>,
}

/// What runs as one state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitPlan {
    /// An instance in no sync group.
    Single(InstanceConfig),
    /// A `vrrp_sync_group` and its members, in the group's order.
    Group {
        /// The group name.
        name: String,
        /// The members.
        members: Vec<InstanceConfig>,
    },
}

impl UnitPlan {
    /// The member configurations.
    pub fn members(&self) -> &[InstanceConfig] {
        match self {
            UnitPlan::Single(c) => std::slice::from_ref(c),
            UnitPlan::Group { members, .. } => members,
        }
    }
}

/// A notify command set (`notify_master` ... `notify`), each already split into argv.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotifyCommands {
    /// `notify_master`.
    pub master: Option<Vec<String>>,
    /// `notify_backup`.
    pub backup: Option<Vec<String>>,
    /// `notify_fault`.
    pub fault: Option<Vec<String>>,
    /// `notify_stop`.
    pub stop: Option<Vec<String>>,
    /// `notify`, to which `INSTANCE name STATE priority` is appended.
    pub any: Option<Vec<String>>,
    /// `smtp_alert`.
    pub smtp_alert: bool,
}

impl NotifyCommands {
    fn from_model(n: &vrrp_config::Notify, smtp_alert: bool) -> Result<NotifyCommands, Error> {
        let split = |s: &Option<String>| s.as_deref().map(crate::argv::split).transpose();
        Ok(NotifyCommands {
            master: split(&n.master)?,
            backup: split(&n.backup)?,
            fault: split(&n.fault)?,
            stop: split(&n.stop)?,
            any: split(&n.any)?,
            smtp_alert,
        })
    }

    /// The state's own command, if configured.
    pub fn for_state(&self, state: vrrp_core::NotifyState) -> Option<&Vec<String>> {
        match state {
            vrrp_core::NotifyState::Master => self.master.as_ref(),
            vrrp_core::NotifyState::Backup => self.backup.as_ref(),
            vrrp_core::NotifyState::Fault => self.fault.as_ref(),
            vrrp_core::NotifyState::Stop => self.stop.as_ref(),
        }
    }
}

/// A `vrrp_script` some instance tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptPlan {
    /// The name.
    pub name: String,
    /// The command, split.
    pub argv: Vec<String>,
    /// Time between runs.
    pub interval: Duration,
    /// How long a run may take before it is killed (the interval when unset).
    pub timeout: Duration,
    /// `rise`.
    pub rise: u32,
    /// `fall`.
    pub fall: u32,
    /// The script's own `user`, overriding `script_user`.
    pub user: Option<ScriptUser>,
}

/// Everything the daemon runs for one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// State machines, in configuration order (sync groups where their first member is).
    pub units: Vec<UnitPlan>,
    /// The netlink form of each virtual address, by (instance interface, address).
    pub vips: HashMap<(String, IpAddr), Vip>,
    /// Notify commands by instance name.
    pub notify: HashMap<String, NotifyCommands>,
    /// Notify commands by sync group name.
    pub group_notify: HashMap<String, NotifyCommands>,
    /// Tracked scripts.
    pub scripts: Vec<ScriptPlan>,
    /// Things accepted but not acted on, worded for the log.
    pub warnings: Vec<String>,
}

impl Plan {
    /// The netlink form of `addr` as instance interface `interface` configures it;
    /// a host address on that interface when the configuration does not know it.
    pub fn vip(&self, interface: &str, addr: IpAddr) -> Vip {
        self.vips
            .get(&(interface.to_string(), addr))
            .cloned()
            .unwrap_or_else(|| Vip::new(addr, if addr.is_ipv4() { 32 } else { 128 }, interface))
    }
}

fn unsupported(instance: &str, field: &'static str, reason: impl Into<String>) -> Error {
    Error::Unsupported {
        instance: instance.to_string(),
        field,
        reason: reason.into(),
    }
}

fn scope(s: vrrp_config::Scope) -> Scope {
    match s {
        vrrp_config::Scope::Global => Scope::Global,
        vrrp_config::Scope::Site => Scope::Site,
        vrrp_config::Scope::Link => Scope::Link,
        vrrp_config::Scope::Host => Scope::Host,
        vrrp_config::Scope::Nowhere => Scope::Nowhere,
    }
}

/// The vrrp-core configuration of `inst`, sending from `facts`' address unless
/// `unicast_src_ip` is set. Warnings (ignored settings) are appended to `warnings`.
pub fn instance_config(
    config: &Config,
    inst: &VrrpInstance,
    facts: InterfaceFacts,
    warnings: &mut Vec<String>,
) -> Result<InstanceConfig, Error> {
    let name = inst.name.as_str();
    let family = inst.family();
    let source = match (inst.unicast_src_ip, family) {
        (Some(ip), _) => ip,
        (None, Family::V4) => IpAddr::V4(facts.primary_v4.ok_or_else(|| Error::NoSource {
            instance: name.to_string(),
            interface: inst.interface.clone(),
            family: "IPv4",
        })?),
        (None, Family::V6) => IpAddr::V6(facts.link_local_v6.ok_or_else(|| Error::NoSource {
            instance: name.to_string(),
            interface: inst.interface.clone(),
            family: "IPv6 link-local",
        })?),
    };
    let vips: Vec<IpAddr> = inst.virtual_ipaddress.iter().map(|v| v.addr).collect();
    let mut c = InstanceConfig::new(
        name,
        inst.interface.as_str(),
        inst.virtual_router_id,
        inst.priority,
        source,
        vips,
    );
    // keepalived runs IPv6 instances as VRRPv3 whatever `version` says
    c.version = match (inst.version, family) {
        (_, Family::V6) | (VrrpVersion::V3, _) => Version::V3,
        (VrrpVersion::V2, Family::V4) => Version::V2,
    };
    c.advert_int = inst.advert_int;
    c.preempt = !inst.nopreempt;
    c.preempt_delay = inst.preempt_delay.unwrap_or(Duration::ZERO);
    c.auth = match &inst.authentication {
        None => Auth::None,
        Some(a) if a.auth_type == AuthType::Pass => Auth::pass(a.auth_pass.as_bytes()),
        Some(_) => {
            return Err(unsupported(
                name,
                "auth_type",
                "AH authentication is not supported",
            ));
        }
    };
    c.unicast_peers = inst.unicast_peer.clone();
    c.garp_master_delay = inst.garp_master_delay;
    c.garp_master_repeat = inst.garp_master_repeat;
    for t in &inst.track_script {
        let script = config.script(&t.name).ok_or_else(|| {
            unsupported(name, "track_script", format!("no vrrp_script {}", t.name))
        })?;
        let reverse = t.reverse || (t.weight.is_none() && script.weight_reverse);
        if reverse {
            return Err(unsupported(
                name,
                "track_script",
                format!("weight ... reverse ({}) is not supported", t.name),
            ));
        }
        c.track_scripts.push(Tracked::new(
            t.name.as_str(),
            t.weight.unwrap_or(script.weight),
        ));
    }
    for t in &inst.track_interface {
        if t.name == inst.interface {
            // always tracked; counting it twice would double its weight
            warnings.push(format!(
                "({name}) track_interface {} is the instance's own interface and always tracked",
                t.name
            ));
            continue;
        }
        if t.reverse {
            return Err(unsupported(
                name,
                "track_interface",
                format!("weight ... reverse ({}) is not supported", t.name),
            ));
        }
        c.track_interfaces
            .push(Tracked::new(t.name.as_str(), t.weight.unwrap_or(0)));
    }
    if !inst.virtual_ipaddress_excluded.is_empty() {
        warnings.push(format!(
            "({name}) virtual_ipaddress_excluded is not acted on"
        ));
    }
    if inst.garp_master_refresh.is_some() {
        warnings.push(format!("({name}) garp_master_refresh is not acted on"));
    }
    Ok(c)
}

/// Maps the whole configuration. `facts` gives the addresses of an instance's
/// interface (`None`: unknown interface, an error unless `unicast_src_ip` is set).
pub fn plan(
    config: &Config,
    facts: impl Fn(&str) -> Option<InterfaceFacts>,
) -> Result<Plan, Error> {
    let mut out = Plan::default();
    let mut configs: HashMap<String, InstanceConfig> = HashMap::new();
    for inst in &config.instances {
        let f = facts(&inst.interface);
        if f.is_none() && inst.unicast_src_ip.is_none() {
            return Err(Error::Net(vrrp_netlink::Error::NoSuchInterface(
                inst.interface.clone(),
            )));
        }
        let c = instance_config(config, inst, f.unwrap_or_default(), &mut out.warnings)?;
        for v in &inst.virtual_ipaddress {
            let mut vip = Vip::new(
                v.addr,
                v.prefix,
                v.dev.clone().unwrap_or_else(|| inst.interface.clone()),
            );
            vip.label = v.label.clone();
            vip.scope = v.scope.map_or(Scope::Global, scope);
            vip.broadcast = match v.broadcast {
                Some(IpAddr::V4(b)) => Some(b),
                _ => None,
            };
            out.vips.insert((inst.interface.clone(), v.addr), vip);
        }
        out.notify.insert(
            inst.name.clone(),
            NotifyCommands::from_model(&inst.notify, inst.smtp_alert)?,
        );
        configs.insert(inst.name.clone(), c);
    }
    let mut grouped: HashMap<&str, usize> = HashMap::new();
    for (gi, g) in config.sync_groups.iter().enumerate() {
        for m in &g.group {
            if grouped.insert(m.as_str(), gi).is_some() {
                return Err(unsupported(
                    m,
                    "vrrp_sync_group",
                    "instance is a member of two sync groups",
                ));
            }
        }
        out.group_notify.insert(
            g.name.clone(),
            NotifyCommands::from_model(&g.notify, g.smtp_alert)?,
        );
    }
    let mut emitted: HashSet<usize> = HashSet::new();
    for inst in &config.instances {
        let Some(c) = configs.get(&inst.name) else {
            continue;
        };
        match grouped.get(inst.name.as_str()) {
            None => out.units.push(UnitPlan::Single(c.clone())),
            Some(gi) => {
                if !emitted.insert(*gi) {
                    continue;
                }
                let Some(g) = config.sync_groups.get(*gi) else {
                    continue;
                };
                let members = g
                    .group
                    .iter()
                    .map(|m| {
                        configs.get(m).cloned().ok_or_else(|| {
                            unsupported(&g.name, "group", format!("no vrrp_instance {m}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                out.units.push(UnitPlan::Group {
                    name: g.name.clone(),
                    members,
                });
            }
        }
    }
    let tracked: HashSet<&str> = config
        .instances
        .iter()
        .flat_map(|i| i.track_script.iter().map(|t| t.name.as_str()))
        .collect();
    for s in &config.scripts {
        if !tracked.contains(s.name.as_str()) {
            out.warnings.push(format!(
                "VRRP_Script({}) is not used by any instance",
                s.name
            ));
            continue;
        }
        out.scripts.push(ScriptPlan {
            name: s.name.clone(),
            argv: crate::argv::split(&s.script)?,
            interval: s.interval,
            timeout: s.timeout.unwrap_or(s.interval),
            rise: s.rise,
            fall: s.fall,
            user: s.user.clone(),
        });
    }
    Ok(out)
}
