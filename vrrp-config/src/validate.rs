//! Second pass: the syntax tree to a typed [`Config`], with keepalived's
//! defaults, range checks and cross-references. Every finding becomes a
//! [`Diagnostic`] at the keyword or value it concerns.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use crate::diag::{Diagnostic, Origin, Problem, Severity};
use crate::model::{
    AuthType, Authentication, Config, Family, GlobalDefs, Host, InitialState, Notify, Scope,
    ScriptUser, SmtpServer, SyncGroup, TrackInterface, TrackScript, VirtualAddress, VrrpInstance,
    VrrpScript, VrrpVersion,
};
use crate::syntax::{Node, Word};

/// Keywords of one block, by how keepalivedd treats them.
pub(crate) struct Keywords {
    /// Parsed into the model.
    pub(crate) supported: &'static [&'static str],
    /// Accepted with a warning, without effect.
    pub(crate) ignored: &'static [&'static str],
    /// Known keepalived keywords refused with an error.
    pub(crate) rejected: &'static [&'static str],
}

pub(crate) const TOP: Keywords = Keywords {
    supported: &[
        "global_defs",
        "vrrp_script",
        "vrrp_instance",
        "vrrp_sync_group",
    ],
    ignored: &[],
    rejected: &[
        "virtual_server",
        "virtual_server_group",
        "static_ipaddress",
        "static_routes",
        "static_rules",
        "vrrp_track_process",
        "vrrp_track_file",
        "bfd_instance",
        "linkbeat_interfaces",
        "net_namespace",
        "instance",
    ],
};

pub(crate) const GLOBAL: Keywords = Keywords {
    supported: &[
        "notification_email",
        "notification_email_from",
        "smtp_server",
        "smtp_connect_timeout",
        "router_id",
        "enable_script_security",
        "script_user",
    ],
    ignored: &[
        "smtp_helo_name",
        "vrrp_mcast_group4",
        "vrrp_mcast_group6",
        "vrrp_garp_master_delay",
        "vrrp_garp_master_repeat",
        "vrrp_garp_master_refresh",
        "vrrp_garp_master_refresh_repeat",
        "vrrp_garp_interval",
        "vrrp_gna_interval",
        "vrrp_lower_prio_no_advert",
        "vrrp_higher_prio_send_advert",
        "vrrp_version",
        "vrrp_iptables",
        "vrrp_check_unicast_src",
        "vrrp_skip_check_adv_addr",
        "vrrp_strict",
        "vrrp_priority",
        "checker_priority",
        "vrrp_no_swap",
        "checker_no_swap",
        "max_auto_priority",
        "min_auto_priority_delay",
        "enable_traps",
        "dynamic_interfaces",
        "notify_fifo",
        "notify_fifo_script",
        "vrrp_notify_fifo",
        "vrrp_notify_fifo_script",
        "vrrp_startup_delay",
        "lvs_flush",
        "lvs_timeouts",
    ],
    rejected: &[
        "default_interface",
        "net_namespace",
        "lvs_sync_daemon",
        "nftables",
    ],
};

pub(crate) const SCRIPT: Keywords = Keywords {
    supported: &[
        "script", "interval", "timeout", "weight", "rise", "fall", "user",
    ],
    ignored: &["init_fail"],
    rejected: &[],
};

pub(crate) const INSTANCE: Keywords = Keywords {
    supported: &[
        "state",
        "interface",
        "virtual_router_id",
        "priority",
        "advert_int",
        "garp_master_delay",
        "garp_master_repeat",
        "garp_master_refresh",
        "authentication",
        "virtual_ipaddress",
        "virtual_ipaddress_excluded",
        "track_script",
        "track_interface",
        "nopreempt",
        "preempt_delay",
        "unicast_src_ip",
        "unicast_peer",
        "notify_master",
        "notify_backup",
        "notify_fault",
        "notify_stop",
        "notify",
        "smtp_alert",
        "version",
        "native_ipv6",
        "dont_track_primary",
    ],
    ignored: &[
        "debug",
        "garp_master_refresh_repeat",
        "garp_lower_prio_delay",
        "garp_lower_prio_repeat",
        "lower_prio_no_advert",
        "higher_prio_send_advert",
        "skip_check_adv_addr",
        "strict_mode",
        "check_unicast_src",
        "unicast_fault_no_peer",
    ],
    rejected: &[
        "use_vmac",
        "vmac_xmit_base",
        "mcast_src_ip",
        "virtual_routes",
        "virtual_rules",
        "track_process",
        "track_file",
        "track_bfd",
        "track_src_ip",
        "unicast_ttl",
        "accept",
        "no_accept",
        "notify_master_rx_lower_pri",
        "notify_deleted",
        "promote_secondaries",
        "kernel_rx_buf_size",
        "old_unicast_checksum",
    ],
};

pub(crate) const AUTH: Keywords = Keywords {
    supported: &["auth_type", "auth_pass"],
    ignored: &[],
    rejected: &[],
};

pub(crate) const SYNC: Keywords = Keywords {
    supported: &[
        "group",
        "notify_master",
        "notify_backup",
        "notify_fault",
        "notify_stop",
        "notify",
        "smtp_alert",
    ],
    ignored: &["global_tracking", "sync_group_tracking_weight"],
    rejected: &[
        "track_script",
        "track_interface",
        "track_file",
        "track_process",
    ],
};

/// Validates `tree`, appending findings to `diags`.
pub(crate) fn validate(tree: &[Node], diags: &mut Vec<Diagnostic>) -> Config {
    let mut v = Validator { diags };
    let mut config = Config::default();
    let mut seen_global = false;
    for node in tree {
        let Some(kw) = v.classify(node, &TOP) else {
            continue;
        };
        match kw {
            "global_defs" => {
                if seen_global {
                    v.warn(node.origin(), "global_defs repeated; later values override");
                }
                seen_global = true;
                if let Some(block) = v.block(node) {
                    v.global(block, &mut config.global);
                }
            }
            "vrrp_script" => {
                if let Some(s) = v.script(node) {
                    config.scripts.push(s);
                }
            }
            "vrrp_instance" => {
                if let Some(i) = v.instance(node) {
                    config.instances.push(i);
                }
            }
            "vrrp_sync_group" => {
                if let Some(g) = v.sync_group(node) {
                    config.sync_groups.push(g);
                }
            }
            _ => {}
        }
    }
    v.cross_check(&config);
    config
}

struct Validator<'a> {
    diags: &'a mut Vec<Diagnostic>,
}

impl Validator<'_> {
    fn push(&mut self, severity: Severity, origin: &Origin, problem: Problem) {
        self.diags
            .push(Diagnostic::new(severity, origin.clone(), problem));
    }

    fn warn(&mut self, origin: &Origin, msg: impl Into<String>) {
        self.push(Severity::Warning, origin, Problem::Invalid(msg.into()));
    }

    fn recoverable(&mut self, origin: &Origin, msg: impl Into<String>) {
        self.push(Severity::Recoverable, origin, Problem::Invalid(msg.into()));
    }

    fn error(&mut self, origin: &Origin, msg: impl Into<String>) {
        self.push(Severity::Error, origin, Problem::Invalid(msg.into()));
    }

    /// The keyword if `table` supports it; reports it otherwise.
    fn classify<'n>(&mut self, node: &'n Node, table: &Keywords) -> Option<&'n str> {
        let kw = node.keyword.text.as_str();
        if node.keyword.quoted {
            self.error(node.origin(), format!("keyword '{kw}' must not be quoted"));
            return None;
        }
        if table.supported.contains(&kw) {
            return Some(kw);
        }
        let keyword = kw.to_string();
        if table.ignored.contains(&kw) {
            self.push(
                Severity::Warning,
                node.origin(),
                Problem::Ignored { keyword },
            );
        } else if table.rejected.contains(&kw) {
            self.push(
                Severity::Error,
                node.origin(),
                Problem::Unsupported { keyword },
            );
        } else {
            let suggestion = nearest(kw, table);
            self.push(
                Severity::Error,
                node.origin(),
                Problem::UnknownKeyword {
                    keyword,
                    suggestion,
                },
            );
        }
        None
    }

    /// The node's block; an error when it has none.
    fn block<'n>(&mut self, node: &'n Node) -> Option<&'n [Node]> {
        if let Some(b) = &node.block {
            Some(b)
        } else {
            self.error(
                node.origin(),
                format!("'{}' expects a {{ }} block", node.keyword.text),
            );
            None
        }
    }

    /// Reports a block on a keyword that takes none.
    fn no_block(&mut self, node: &Node) {
        if node.block.is_some() {
            self.error(
                node.origin(),
                format!("'{}' does not take a {{ }} block", node.keyword.text),
            );
        }
    }

    /// Exactly one argument (extra ones are ignored with a warning, as keepalived does).
    fn one<'n>(&mut self, node: &'n Node) -> Option<&'n Word> {
        self.no_block(node);
        let kw = &node.keyword.text;
        match node.args.as_slice() {
            [] => {
                self.error(node.origin(), format!("'{kw}' needs a value"));
                None
            }
            [w] => Some(w),
            [w, extra, ..] => {
                self.warn(&extra.origin, format!("extra arguments to '{kw}' ignored"));
                Some(w)
            }
        }
    }

    /// A flag: no arguments expected.
    fn flag(&mut self, node: &Node) -> bool {
        self.no_block(node);
        if let Some(extra) = node.args.first() {
            self.warn(
                &extra.origin,
                format!("'{}' takes no argument; ignored", node.keyword.text),
            );
        }
        true
    }

    /// A command line: all arguments joined, as keepalived rebuilds it.
    fn command(&mut self, node: &Node) -> Option<String> {
        self.no_block(node);
        if node.args.is_empty() {
            self.error(
                node.origin(),
                format!("'{}' needs a command", node.keyword.text),
            );
            return None;
        }
        Some(
            node.args
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    fn uint(&mut self, node: &Node, min: u64, max: u64) -> Option<u64> {
        let w = self.one(node)?;
        match parse_uint(&w.text, min, max) {
            Ok(n) => Some(n),
            Err(msg) => {
                self.error(&w.origin, format!("{}: {msg}", node.keyword.text));
                None
            }
        }
    }

    fn seconds(&mut self, node: &Node, max: u64) -> Option<Duration> {
        self.uint(node, 0, max).map(Duration::from_secs)
    }

    fn decimal_seconds(&mut self, node: &Node, max_secs: u64) -> Option<Duration> {
        let w = self.one(node)?;
        match parse_decimal(&w.text, max_secs) {
            Ok(d) => Some(d),
            Err(msg) => {
                self.error(&w.origin, format!("{}: {msg}", node.keyword.text));
                None
            }
        }
    }

    fn ip(&mut self, node: &Node) -> Option<IpAddr> {
        let w = self.one(node)?;
        match w.text.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    &w.origin,
                    format!("{}: invalid IP address '{}'", node.keyword.text, w.text),
                );
                None
            }
        }
    }

    fn user(&mut self, node: &Node) -> Option<ScriptUser> {
        self.no_block(node);
        match node.args.as_slice() {
            [] => {
                self.error(
                    node.origin(),
                    format!("'{}' needs a user", node.keyword.text),
                );
                None
            }
            [user, rest @ ..] => {
                if let Some(extra) = rest.get(1) {
                    self.warn(&extra.origin, "extra arguments ignored");
                }
                Some(ScriptUser {
                    user: user.text.clone(),
                    group: rest.first().map(|g| g.text.clone()),
                })
            }
        }
    }

    fn global(&mut self, block: &[Node], g: &mut GlobalDefs) {
        for node in block {
            let Some(kw) = self.classify(node, &GLOBAL) else {
                continue;
            };
            match kw {
                "notification_email" => {
                    if let Some(items) = self.block(node) {
                        for item in items {
                            self.no_block(item);
                            g.notification_email.push(item.keyword.text.clone());
                            for extra in &item.args {
                                g.notification_email.push(extra.text.clone());
                            }
                        }
                    }
                }
                "notification_email_from" => {
                    if let Some(w) = self.one(node) {
                        g.notification_email_from = Some(w.text.clone());
                    }
                }
                "smtp_server" => g.smtp_server = self.smtp_server(node),
                "smtp_connect_timeout" => {
                    if let Some(d) = self.uint(node, 1, 3600) {
                        g.smtp_connect_timeout = Some(Duration::from_secs(d));
                    }
                }
                "router_id" => {
                    if let Some(w) = self.one(node) {
                        g.router_id = Some(w.text.clone());
                    }
                }
                "enable_script_security" => g.enable_script_security = self.flag(node),
                "script_user" => g.script_user = self.user(node),
                _ => {}
            }
        }
    }

    fn smtp_server(&mut self, node: &Node) -> Option<SmtpServer> {
        self.no_block(node);
        let (host, port) = match node.args.as_slice() {
            [] => {
                self.error(node.origin(), "'smtp_server' needs a host");
                return None;
            }
            [h] => (h, None),
            [h, p, ..] => (h, Some(p)),
        };
        let port = match port {
            None => 25,
            Some(p) => match parse_uint(&p.text, 1, 65535) {
                Ok(n) => u16::try_from(n).unwrap_or(25),
                Err(msg) => {
                    self.error(&p.origin, format!("smtp_server port: {msg}"));
                    return None;
                }
            },
        };
        let host = match host.text.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(host.text.clone()),
        };
        Some(SmtpServer { host, port })
    }

    fn name(&mut self, node: &Node) -> Option<String> {
        match node.args.first() {
            Some(w) => {
                if let Some(extra) = node.args.get(1) {
                    self.warn(&extra.origin, "extra arguments ignored");
                }
                Some(w.text.clone())
            }
            None => {
                self.error(
                    node.origin(),
                    format!("'{}' needs a name", node.keyword.text),
                );
                None
            }
        }
    }

    fn script(&mut self, node: &Node) -> Option<VrrpScript> {
        let name = self.name(node)?;
        let block = self.block(node)?;
        let mut s = VrrpScript {
            name,
            script: String::new(),
            interval: Duration::from_secs(1),
            timeout: None,
            weight: 0,
            weight_reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            origin: node.origin().clone(),
        };
        let mut has_script = false;
        for item in block {
            let Some(kw) = self.classify(item, &SCRIPT) else {
                continue;
            };
            match kw {
                "script" => {
                    if let Some(c) = self.command(item) {
                        s.script = c;
                        has_script = true;
                    }
                }
                "interval" => {
                    if let Some(n) = self.uint(item, 1, u64::from(u32::MAX)) {
                        s.interval = Duration::from_secs(n);
                    }
                }
                "timeout" => {
                    if let Some(n) = self.uint(item, 1, u64::from(u32::MAX)) {
                        s.timeout = Some(Duration::from_secs(n));
                    }
                }
                "weight" => {
                    if let Some((w, rev)) = self.weight(item) {
                        s.weight = w;
                        s.weight_reverse = rev;
                    }
                }
                "rise" => {
                    if let Some(n) = self.uint(item, 1, u64::from(u32::MAX)) {
                        s.rise = u32::try_from(n).unwrap_or(u32::MAX);
                    }
                }
                "fall" => {
                    if let Some(n) = self.uint(item, 1, u64::from(u32::MAX)) {
                        s.fall = u32::try_from(n).unwrap_or(u32::MAX);
                    }
                }
                "user" => s.user = self.user(item),
                _ => {}
            }
        }
        if !has_script {
            self.error(
                node.origin(),
                format!("no script set for vrrp_script {}", s.name),
            );
            return None;
        }
        Some(s)
    }

    /// `weight N [reverse]` on its own line.
    fn weight(&mut self, node: &Node) -> Option<(i32, bool)> {
        self.no_block(node);
        let Some(w) = node.args.first() else {
            self.error(node.origin(), "'weight' needs a value");
            return None;
        };
        self.weight_args(w, node.args.get(1..).unwrap_or_default())
    }

    fn weight_args(&mut self, w: &Word, rest: &[Word]) -> Option<(i32, bool)> {
        let n = match parse_int(&w.text, -253, 253) {
            Ok(n) => n,
            Err(msg) => {
                self.error(&w.origin, format!("weight: {msg}"));
                return None;
            }
        };
        let reverse = match rest {
            [] => false,
            [r] if r.text == "reverse" => true,
            [r, ..] => {
                self.error(&r.origin, format!("unexpected '{}' after weight", r.text));
                return None;
            }
        };
        Some((i32::try_from(n).unwrap_or(0), reverse))
    }

    /// `NAME [weight N [reverse]]` entries of track_script / track_interface.
    fn tracked(&mut self, item: &Node) -> Option<(String, Option<i32>, bool)> {
        self.no_block(item);
        let name = item.keyword.text.clone();
        match item.args.as_slice() {
            [] => Some((name, None, false)),
            [kw, w, rest @ ..] if kw.text == "weight" => {
                let (n, rev) = self.weight_args(w, rest)?;
                Some((name, Some(n), rev))
            }
            [other, ..] => {
                self.error(
                    &other.origin,
                    format!(
                        "unexpected '{}' after '{name}' (expected 'weight N')",
                        other.text
                    ),
                );
                None
            }
        }
    }

    fn notify(&mut self, kw: &str, node: &Node, n: &mut Notify) {
        let Some(cmd) = self.command(node) else {
            return;
        };
        let slot = match kw {
            "notify_master" => &mut n.master,
            "notify_backup" => &mut n.backup,
            "notify_fault" => &mut n.fault,
            "notify_stop" => &mut n.stop,
            _ => &mut n.any,
        };
        *slot = Some(cmd);
    }

    fn instance(&mut self, node: &Node) -> Option<VrrpInstance> {
        let name = self.name(node)?;
        let block = self.block(node)?;
        let mut i = VrrpInstance {
            name,
            state: InitialState::Backup,
            interface: String::new(),
            virtual_router_id: 0,
            priority: 100,
            advert_int: Duration::from_secs(1),
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: None,
            authentication: None,
            virtual_ipaddress: Vec::new(),
            virtual_ipaddress_excluded: Vec::new(),
            track_script: Vec::new(),
            track_interface: Vec::new(),
            nopreempt: false,
            preempt_delay: None,
            unicast_src_ip: None,
            unicast_peer: Vec::new(),
            notify: Notify::default(),
            smtp_alert: false,
            version: VrrpVersion::V2,
            native_ipv6: false,
            dont_track_primary: false,
            origin: node.origin().clone(),
            interface_origin: node.origin().clone(),
        };
        let who = format!("({})", i.name);
        let mut advert: Option<(Duration, Origin)> = None;
        for item in block {
            let Some(kw) = self.classify(item, &INSTANCE) else {
                continue;
            };
            match kw {
                "state" => {
                    if let Some(w) = self.one(item) {
                        i.state = match w.text.as_str() {
                            "MASTER" => InitialState::Master,
                            "BACKUP" => InitialState::Backup,
                            other => {
                                self.recoverable(
                                    &w.origin,
                                    format!("{who} unknown state '{other}', defaulting to BACKUP"),
                                );
                                InitialState::Backup
                            }
                        };
                    }
                }
                "interface" => {
                    if let Some(w) = self.one(item) {
                        i.interface = w.text.clone();
                        i.interface_origin = w.origin.clone();
                    }
                }
                "virtual_router_id" => {
                    if let Some(w) = self.one(item) {
                        match parse_uint(&w.text, 1, 255) {
                            Ok(n) => i.virtual_router_id = u8::try_from(n).unwrap_or(0),
                            Err(msg) => {
                                self.error(&w.origin, format!("{who} virtual_router_id: {msg}"))
                            }
                        }
                    }
                }
                "priority" => {
                    if let Some(w) = self.one(item) {
                        match parse_uint(&w.text, 1, 255) {
                            Ok(n) => i.priority = u8::try_from(n).unwrap_or(100),
                            Err(msg) => {
                                i.priority = 100;
                                self.recoverable(
                                    &w.origin,
                                    format!("{who} priority: {msg}; using default 100"),
                                );
                            }
                        }
                    }
                }
                "advert_int" => {
                    if let Some(d) = self.decimal_seconds(item, 255) {
                        if d.is_zero() {
                            self.recoverable(
                                item.origin(),
                                format!("{who} advert_int must be positive; using default 1"),
                            );
                        } else {
                            advert = Some((d, item.origin().clone()));
                        }
                    }
                }
                "garp_master_delay" => {
                    if let Some(d) = self.seconds(item, 255) {
                        i.garp_master_delay = d;
                    }
                }
                "garp_master_repeat" => {
                    if let Some(n) = self.uint(item, 1, 255) {
                        i.garp_master_repeat = u32::try_from(n).unwrap_or(5);
                    }
                }
                "garp_master_refresh" => {
                    if let Some(d) = self.seconds(item, u64::from(u32::MAX)) {
                        i.garp_master_refresh = (!d.is_zero()).then_some(d);
                    }
                }
                "authentication" => {
                    if let Some(b) = self.block(item) {
                        i.authentication = self.authentication(item, b, &who);
                    }
                }
                "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                    if let Some(b) = self.block(item) {
                        for entry in b {
                            if let Some(vip) = self.vip(entry) {
                                if kw == "virtual_ipaddress" {
                                    i.virtual_ipaddress.push(vip);
                                } else {
                                    i.virtual_ipaddress_excluded.push(vip);
                                }
                            }
                        }
                    }
                }
                "track_script" => {
                    if let Some(b) = self.block(item) {
                        for entry in b {
                            if let Some((name, weight, reverse)) = self.tracked(entry) {
                                i.track_script.push(TrackScript {
                                    name,
                                    weight,
                                    reverse,
                                });
                            }
                        }
                    }
                }
                "track_interface" => {
                    if let Some(b) = self.block(item) {
                        for entry in b {
                            if let Some((name, weight, reverse)) = self.tracked(entry) {
                                i.track_interface.push(TrackInterface {
                                    name,
                                    weight,
                                    reverse,
                                    origin: entry.origin().clone(),
                                });
                            }
                        }
                    }
                }
                "nopreempt" => i.nopreempt = self.flag(item),
                "preempt_delay" => {
                    if let Some(d) = self.decimal_seconds(item, 1000) {
                        i.preempt_delay = Some(d);
                    }
                }
                "unicast_src_ip" => i.unicast_src_ip = self.ip(item),
                "unicast_peer" => {
                    if let Some(b) = self.block(item) {
                        for entry in b {
                            self.no_block(entry);
                            match entry.keyword.text.parse() {
                                Ok(a) => i.unicast_peer.push(a),
                                Err(_) => self.error(
                                    entry.origin(),
                                    format!(
                                        "{who} invalid unicast peer address '{}'",
                                        entry.keyword.text
                                    ),
                                ),
                            }
                        }
                    }
                }
                "notify_master" | "notify_backup" | "notify_fault" | "notify_stop" | "notify" => {
                    self.notify(kw, item, &mut i.notify);
                }
                "smtp_alert" => i.smtp_alert = self.flag(item),
                "version" => {
                    if let Some(n) = self.uint(item, 2, 3) {
                        i.version = if n == 3 {
                            VrrpVersion::V3
                        } else {
                            VrrpVersion::V2
                        };
                    }
                }
                "native_ipv6" => i.native_ipv6 = self.flag(item),
                "dont_track_primary" => i.dont_track_primary = self.flag(item),
                _ => {}
            }
        }
        if let Some((d, origin)) = advert {
            i.advert_int = self.advert_for_version(d, i.version, &origin, &who);
        }
        self.preempt_check(&mut i, node.origin(), &who);
        let mut ok = true;
        if i.interface.is_empty() {
            self.error(node.origin(), format!("{who} no interface set"));
            ok = false;
        }
        if i.virtual_router_id == 0 {
            self.error(
                node.origin(),
                format!("{who} the virtual router id must be set"),
            );
            ok = false;
        }
        self.family_check(&mut i, &who);
        if i.virtual_ipaddress.is_empty() {
            self.recoverable(
                node.origin(),
                format!("{who} no VIP specified; at least one is sensible"),
            );
        }
        ok.then_some(i)
    }

    fn advert_for_version(
        &mut self,
        d: Duration,
        version: VrrpVersion,
        origin: &Origin,
        who: &str,
    ) -> Duration {
        let centis = d.as_micros().div_ceil(10_000);
        match version {
            VrrpVersion::V2 => {
                if d.subsec_micros() != 0 {
                    let rounded = (d.as_secs() + u64::from(d.subsec_micros() >= 500_000)).max(1);
                    self.recoverable(
                        origin,
                        format!(
                            "{who} VRRPv2 advertisement interval {}s must be an integer; rounding to {rounded}s",
                            d.as_secs_f64()
                        ),
                    );
                    return Duration::from_secs(rounded);
                }
                d
            }
            VrrpVersion::V3 => {
                if centis > 4095 {
                    self.recoverable(
                        origin,
                        format!("{who} VRRPv3 advertisement interval must be at most 40.95s; using 40.95s"),
                    );
                    return Duration::from_millis(40_950);
                }
                let exact = Duration::from_millis(u64::try_from(centis).unwrap_or(1) * 10);
                if exact != d {
                    self.warn(
                        origin,
                        format!("{who} advertisement interval rounded up to centiseconds"),
                    );
                }
                exact
            }
        }
    }

    /// keepalived clears preemption settings that cannot apply, and reports it.
    fn preempt_check(&mut self, i: &mut VrrpInstance, origin: &Origin, who: &str) {
        if i.state == InitialState::Master {
            if i.nopreempt {
                i.nopreempt = false;
                self.recoverable(
                    origin,
                    format!("{who} nopreempt will not work with initial state MASTER; clearing"),
                );
            }
            if i.preempt_delay.take().is_some() {
                self.recoverable(
                    origin,
                    format!(
                        "{who} preempt_delay will not work with initial state MASTER; clearing"
                    ),
                );
            }
        } else if i.nopreempt && i.preempt_delay.take().is_some() {
            self.recoverable(
                origin,
                format!("{who} preempt_delay is incompatible with nopreempt; resetting"),
            );
        }
    }

    fn family_check(&mut self, i: &mut VrrpInstance, who: &str) {
        let family = i.family();
        let mut dropped = Vec::new();
        i.virtual_ipaddress.retain(|v| {
            let keep = v.family() == family;
            if !keep {
                dropped.push(v.origin.clone());
            }
            keep
        });
        for origin in dropped {
            self.recoverable(
                &origin,
                format!("{who} address family must match the instance's ({family:?}); ignoring"),
            );
        }
    }

    fn authentication(&mut self, node: &Node, block: &[Node], who: &str) -> Option<Authentication> {
        let mut auth_type = None;
        let mut pass = None;
        for item in block {
            let Some(kw) = self.classify(item, &AUTH) else {
                continue;
            };
            let Some(w) = self.one(item) else {
                continue;
            };
            if kw == "auth_type" {
                match w.text.as_str() {
                    "PASS" => auth_type = Some(AuthType::Pass),
                    "AH" => auth_type = Some(AuthType::Ah),
                    other => self.error(
                        &w.origin,
                        format!("{who} unknown auth_type '{other}' (expected PASS or AH)"),
                    ),
                }
            } else {
                let mut p = w.text.clone();
                if p.len() > 8 {
                    let mut cut = 8;
                    while !p.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    p.truncate(cut);
                    self.recoverable(
                        &w.origin,
                        format!("{who} truncating auth_pass to 8 characters"),
                    );
                }
                pass = Some(p);
            }
        }
        match auth_type {
            Some(auth_type) => Some(Authentication {
                auth_type,
                auth_pass: pass.unwrap_or_default(),
            }),
            None => {
                self.error(
                    node.origin(),
                    format!("{who} authentication without auth_type"),
                );
                None
            }
        }
    }

    /// One `virtual_ipaddress` line.
    fn vip(&mut self, entry: &Node) -> Option<VirtualAddress> {
        self.no_block(entry);
        let text = &entry.keyword.text;
        let (addr_s, prefix_s) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.as_str(), None),
        };
        let Ok(addr) = addr_s.parse::<IpAddr>() else {
            self.error(
                entry.origin(),
                format!("invalid virtual IP address '{text}'"),
            );
            return None;
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_s {
            None => {
                if addr.is_ipv4() {
                    32
                } else {
                    128
                }
            }
            Some(p) => match parse_uint(p, 0, max) {
                Ok(n) => u8::try_from(n).unwrap_or(32),
                Err(msg) => {
                    self.error(
                        entry.origin(),
                        format!("invalid prefix length in virtual IP address '{text}': {msg}"),
                    );
                    return None;
                }
            },
        };
        let mut vip = VirtualAddress {
            addr,
            prefix,
            broadcast: None,
            dev: None,
            scope: None,
            label: None,
            origin: entry.origin().clone(),
        };
        let mut args = entry.args.iter();
        while let Some(opt) = args.next() {
            let Some(val) = args.next() else {
                self.error(
                    &opt.origin,
                    format!(
                        "'{}' in virtual IP address '{text}' needs a value",
                        opt.text
                    ),
                );
                return None;
            };
            match opt.text.as_str() {
                "brd" => match val.text.parse::<IpAddr>() {
                    Ok(b) if b.is_ipv4() == addr.is_ipv4() => vip.broadcast = Some(b),
                    _ => {
                        self.error(
                            &val.origin,
                            format!("invalid broadcast address '{}'", val.text),
                        );
                        return None;
                    }
                },
                "dev" => vip.dev = Some(val.text.clone()),
                "label" => vip.label = Some(val.text.clone()),
                "scope" => {
                    vip.scope = match val.text.as_str() {
                        "global" => Some(Scope::Global),
                        "site" => Some(Scope::Site),
                        "link" => Some(Scope::Link),
                        "host" => Some(Scope::Host),
                        "nowhere" => Some(Scope::Nowhere),
                        other => {
                            self.recoverable(
                                &val.origin,
                                format!("invalid scope '{other}' specified for {text}; ignoring"),
                            );
                            None
                        }
                    }
                }
                other => {
                    self.push(
                        Severity::Error,
                        &opt.origin,
                        Problem::Unsupported {
                            keyword: other.to_string(),
                        },
                    );
                    return None;
                }
            }
        }
        Some(vip)
    }

    fn sync_group(&mut self, node: &Node) -> Option<SyncGroup> {
        let name = self.name(node)?;
        let block = self.block(node)?;
        let mut g = SyncGroup {
            name,
            group: Vec::new(),
            notify: Notify::default(),
            smtp_alert: false,
            origin: node.origin().clone(),
        };
        for item in block {
            let Some(kw) = self.classify(item, &SYNC) else {
                continue;
            };
            match kw {
                "group" => {
                    if let Some(b) = self.block(item) {
                        for member in b {
                            self.no_block(member);
                            g.group.push(member.keyword.text.clone());
                            g.group.extend(member.args.iter().map(|w| w.text.clone()));
                        }
                    }
                }
                "smtp_alert" => g.smtp_alert = self.flag(item),
                _ => self.notify(kw, item, &mut g.notify),
            }
        }
        Some(g)
    }

    fn cross_check(&mut self, c: &Config) {
        let mut scripts = HashSet::new();
        for s in &c.scripts {
            if !scripts.insert(s.name.as_str()) {
                self.error(&s.origin, format!("vrrp_script {} defined twice", s.name));
            }
        }
        let mut names = HashSet::new();
        let mut vrids: HashMap<(&str, Family, u8), &str> = HashMap::new();
        for i in &c.instances {
            if !names.insert(i.name.as_str()) {
                self.error(&i.origin, format!("vrrp_instance {} defined twice", i.name));
            }
            let key = (i.interface.as_str(), i.family(), i.virtual_router_id);
            if let Some(other) = vrids.insert(key, i.name.as_str()) {
                self.error(
                    &i.origin,
                    format!(
                        "{other} and {} both use VRID {} with {} on interface {}",
                        i.name,
                        i.virtual_router_id,
                        match i.family() {
                            Family::V4 => "IPv4",
                            Family::V6 => "IPv6",
                        },
                        i.interface
                    ),
                );
            }
            for t in &i.track_script {
                if !scripts.contains(t.name.as_str()) {
                    self.error(
                        &i.origin,
                        format!("({}) track script {} not found", i.name, t.name),
                    );
                }
            }
        }
        let mut member_of: HashMap<&str, &str> = HashMap::new();
        let mut groups = HashSet::new();
        for g in &c.sync_groups {
            if !groups.insert(g.name.as_str()) {
                self.error(
                    &g.origin,
                    format!("vrrp_sync_group {} defined twice", g.name),
                );
            }
            for m in &g.group {
                if !names.contains(m.as_str()) {
                    self.error(
                        &g.origin,
                        format!(
                            "virtual router {m} specified in sync group {} doesn't exist",
                            g.name
                        ),
                    );
                } else if let Some(prev) = member_of.insert(m.as_str(), g.name.as_str()) {
                    self.error(
                        &g.origin,
                        format!(
                            "virtual router {m} cannot be in sync groups {prev} and {}",
                            g.name
                        ),
                    );
                }
            }
            if g.group.len() < 2 {
                self.warn(
                    &g.origin,
                    format!(
                        "sync group {} has only {} virtual router(s); this probably isn't what you want",
                        g.name,
                        g.group.len()
                    ),
                );
            }
        }
    }
}

/// The known keyword of `table` closest to `kw`, if close enough to be a typo.
fn nearest(kw: &str, table: &Keywords) -> Option<String> {
    let limit = (kw.chars().count() / 3).max(2);
    table
        .supported
        .iter()
        .chain(table.ignored)
        .chain(table.rejected)
        .map(|k| (levenshtein(kw, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k.to_string())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.last().copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// A decimal integer in `min..=max`, with keepalived's wording on failure.
pub(crate) fn parse_uint(s: &str, min: u64, max: u64) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid number '{s}'"));
    }
    match s.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("number '{s}' outside range [{min}, {max}]")),
    }
}

fn parse_int(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let digits = s
        .strip_prefix('-')
        .or_else(|| s.strip_prefix('+'))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid number '{s}'"));
    }
    match s.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("number '{s}' outside range [{min}, {max}]")),
    }
}

/// Seconds with up to six decimals (`1`, `0.5`, `2.25`), at most `max_secs`.
pub(crate) fn parse_decimal(s: &str, max_secs: u64) -> Result<Duration, String> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let ok = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 6
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(s.contains('.') && frac.is_empty());
    if !ok {
        return Err(format!("invalid decimal number '{s}'"));
    }
    let secs = whole
        .parse::<u64>()
        .ok()
        .filter(|&n| n <= max_secs)
        .ok_or_else(|| format!("number '{s}' outside range [0, {max_secs}]"))?;
    let mut micros: u32 = 0;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(6) {
        micros = micros * 10 + u32::from(b - b'0');
    }
    let d = Duration::from_secs(secs) + Duration::from_micros(u64::from(micros));
    if d > Duration::from_secs(max_secs) {
        return Err(format!("number '{s}' outside range [0, {max_secs}]"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_uint("7", 1, 255), Ok(7));
        assert!(parse_uint("0", 1, 255).is_err());
        assert!(parse_uint("-1", 1, 255).is_err());
        assert!(parse_uint("99999999999999999999999", 1, 255).is_err());
        assert_eq!(parse_int("-253", -253, 253), Ok(-253));
        assert!(parse_int("-", -253, 253).is_err());
        assert_eq!(parse_decimal("0.5", 255), Ok(Duration::from_millis(500)));
        assert_eq!(parse_decimal("2", 255), Ok(Duration::from_secs(2)));
        assert_eq!(parse_decimal("0.000001", 255), Ok(Duration::from_micros(1)));
        assert!(parse_decimal("1.", 255).is_err());
        assert!(parse_decimal(".5", 255).is_err());
        assert!(parse_decimal("256", 255).is_err());
        assert!(parse_decimal("1.0000001", 255).is_err());
        assert!(parse_decimal("18446744073709551615.5", 255).is_err());
        assert!(parse_decimal("255.5", 255).is_err());
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("priorty", &INSTANCE).as_deref(), Some("priority"));
        assert_eq!(
            nearest("virtual_ipadress", &INSTANCE).as_deref(),
            Some("virtual_ipaddress")
        );
        assert_eq!(nearest("zzzzzz", &INSTANCE), None);
    }
}
