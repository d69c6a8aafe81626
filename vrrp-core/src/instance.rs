//! One VRRP instance (`vrrp_instance` in keepalived.conf): the RFC 3768/5798 state
//! machine with keepalived 2.2's behaviour, sans-IO in the style of quinn-proto.
//!
//! Methods fall into four groups:
//! - getters: [`Instance::state`], [`Instance::effective_priority`], [`Instance::config`];
//! - inputs: [`Instance::handle_event`], [`Instance::handle_packet`] (raw bytes) or
//!   [`Instance::handle_advert`] (already parsed), and [`Instance::handle_timeout`];
//! - outputs: [`Instance::poll_transmit`], [`Instance::poll_action`], [`Instance::poll_timeout`];
//! - for sync groups: [`Instance::force_state`].
//!
//! After every input the caller drains `poll_transmit` (adverts to send), then `poll_action`
//! (address changes, gratuitous ARP / unsolicited NA, notify scripts, log lines, in the order
//! keepalived performs them), then sleeps until `poll_timeout` and calls `handle_timeout`.
//!
//! Keepalived behaviours kept on purpose: every instance starts in BACKUP (even with
//! `state MASTER`) and becomes master only when the master-down timer fires, except the
//! address owner (priority 255) which starts as master. A backup that outranks the master
//! discards its adverts and so takes over when its own master-down timer fires. A master
//! answers a lower-priority advert with an advert of its own unless `lower_prio_no_advert`.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use crate::time::Instant;
use crate::wire::{
    AdvertRepr, Auth, Family, IpPair, MULTICAST_V4, MULTICAST_V6, Packet, REQUIRED_TTL, Version,
    WireError,
};
use crate::{ConfigError, Reject};

/// The priority of the address owner, which is master whenever it runs.
pub const PRIORITY_OWNER: u8 = 255;

/// A tracked script or interface and the weight it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// The script or interface name.
    pub name: String,
    /// Positive: added to the priority while good. Negative: added (so subtracted) while bad.
    /// Zero: the instance goes to FAULT while bad.
    pub weight: i32,
}

impl Tracked {
    /// A tracked item with a weight.
    pub fn new(name: impl Into<String>, weight: i32) -> Tracked {
        Tracked {
            name: name.into(),
            weight,
        }
    }
}

/// The parameters of one instance, independent of how they were configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceConfig {
    /// The instance name (`VI_1`), used in log lines and notify arguments.
    pub name: String,
    /// The interface the instance runs on; always tracked (FAULT while down).
    pub interface: String,
    /// VRRP version (keepalived's default is 2).
    pub version: Version,
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// Base priority, 1..=255 (255 is the address owner).
    pub priority: u8,
    /// Advertisement interval: whole seconds for v2, a multiple of 10 ms for v3.
    pub advert_int: Duration,
    /// Preemption (`nopreempt` clears it).
    pub preempt: bool,
    /// `preempt_delay`: how long a higher-priority backup keeps accepting a lower master.
    pub preempt_delay: Duration,
    /// v2 authentication (ignored for v3).
    pub auth: Auth,
    /// The source address of adverts: the interface's primary address or `unicast_src_ip`.
    pub source: IpAddr,
    /// `unicast_peer` addresses; empty means multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// The virtual addresses.
    pub vips: Vec<IpAddr>,
    /// Delay of the second gratuitous ARP burst after becoming master (keepalived: 5 s).
    pub garp_master_delay: Duration,
    /// Gratuitous ARPs (or NAs) per burst (keepalived: 5).
    pub garp_master_repeat: u32,
    /// Do not answer a lower-priority advert with an advert while master.
    pub lower_prio_no_advert: bool,
    /// `track_script` entries.
    pub track_scripts: Vec<Tracked>,
    /// `track_interface` entries (the instance's own interface is tracked regardless).
    pub track_interfaces: Vec<Tracked>,
}

impl InstanceConfig {
    /// A configuration with keepalived's defaults: VRRPv2, 1 s adverts, preemption on,
    /// no authentication, multicast, garp_master_delay 5 s, garp_master_repeat 5.
    pub fn new(
        name: impl Into<String>,
        interface: impl Into<String>,
        vrid: u8,
        priority: u8,
        source: IpAddr,
        vips: Vec<IpAddr>,
    ) -> InstanceConfig {
        InstanceConfig {
            name: name.into(),
            interface: interface.into(),
            version: Version::V2,
            vrid,
            priority,
            advert_int: Duration::from_secs(1),
            preempt: true,
            preempt_delay: Duration::ZERO,
            auth: Auth::None,
            source,
            unicast_peers: Vec::new(),
            vips,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            lower_prio_no_advert: false,
            track_scripts: Vec::new(),
            track_interfaces: Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let err = |field: &'static str, reason: String| {
            Err(ConfigError::Invalid {
                instance: self.name.clone(),
                field,
                reason,
            })
        };
        if self.vrid == 0 {
            return err("virtual_router_id", "must be between 1 and 255".into());
        }
        if self.priority == 0 {
            return err("priority", "must be between 1 and 255".into());
        }
        let family = Family::of(&self.source);
        if self.version == Version::V2 && family == Family::V6 {
            return err("version", "VRRPv2 cannot be used with IPv6".into());
        }
        if let Some(v) = self.vips.iter().find(|v| Family::of(v) != family) {
            return err(
                "virtual_ipaddress",
                format!("{v} is not of the source address's family"),
            );
        }
        if let Some(p) = self.unicast_peers.iter().find(|p| Family::of(p) != family) {
            return err(
                "unicast_peer",
                format!("{p} is not of the source address's family"),
            );
        }
        if self.vips.len() > usize::from(u8::MAX) {
            return err("virtual_ipaddress", "more than 255 addresses".into());
        }
        let micros = self.advert_int.as_micros();
        match self.version {
            Version::V2 => {
                if micros % 1_000_000 != 0 || !(1..=255).contains(&(micros / 1_000_000)) {
                    return err(
                        "advert_int",
                        "VRRPv2 needs a whole number of seconds from 1 to 255".into(),
                    );
                }
            }
            Version::V3 => {
                if micros % 10_000 != 0 || !(1..=4095).contains(&(micros / 10_000)) {
                    return err(
                        "advert_int",
                        "VRRPv3 needs a multiple of 10 ms from 0.01 to 40.95 s".into(),
                    );
                }
            }
        }
        Ok(())
    }

    fn interval_centis(&self) -> u16 {
        u16::try_from(self.advert_int.as_millis() / 10).unwrap_or(u16::MAX)
    }
}

/// The state of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Created, not started.
    Init,
    /// Listening for the master's adverts.
    Backup,
    /// Holding the virtual addresses and sending adverts.
    Master,
    /// A tracked interface or weight-0 script is down.
    Fault,
    /// Shut down.
    Stop,
}

/// Inputs other than packets and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Start the instance.
    Start,
    /// Graceful shutdown: a master sends priority 0 and releases its addresses.
    Stop,
    /// A tracked script's status changed (after rise/fall counting, see
    /// [`ScriptTracker`](crate::ScriptTracker)).
    ScriptStatus {
        /// The script name as in [`InstanceConfig::track_scripts`].
        name: String,
        /// Whether the script now succeeds.
        ok: bool,
    },
    /// An interface came up.
    InterfaceUp(String),
    /// An interface went down.
    InterfaceDown(String),
}

/// The state named in notify arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyState {
    /// `notify_master`.
    Master,
    /// `notify_backup`.
    Backup,
    /// `notify_fault`.
    Fault,
    /// `notify_stop`.
    Stop,
}

impl NotifyState {
    /// The word keepalived passes: `MASTER`, `BACKUP`, `FAULT` or `STOP`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
        }
    }
}

/// A notify script run: the state's own script and the generic `notify` script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// The instance name.
    pub instance: String,
    /// The state entered.
    pub state: NotifyState,
    /// The effective priority at the time.
    pub priority: u8,
}

impl Notify {
    /// The arguments keepalived appends to the generic `notify` script:
    /// `INSTANCE VI_1 MASTER 102`.
    pub fn args(&self) -> [String; 4] {
        [
            "INSTANCE".to_string(),
            self.instance.clone(),
            self.state.as_str().to_string(),
            self.priority.to_string(),
        ]
    }
}

/// Something for the daemon to do, other than sending an advert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add these addresses to the interface.
    AddVips {
        /// Interface name.
        interface: String,
        /// Addresses to add.
        addrs: Vec<IpAddr>,
    },
    /// Remove these addresses from the interface (absent ones are not an error).
    RemoveVips {
        /// Interface name.
        interface: String,
        /// Addresses to remove.
        addrs: Vec<IpAddr>,
    },
    /// Send `count` gratuitous ARP requests (IPv4) or unsolicited neighbour adverts (IPv6)
    /// for each address.
    Announce {
        /// Interface name.
        interface: String,
        /// Addresses to announce.
        addrs: Vec<IpAddr>,
        /// Packets per address.
        count: u32,
    },
    /// Run the notify scripts.
    Notify(Notify),
    /// A log line worded as keepalived's (without timestamp or ident).
    Log(String),
}

/// An advert to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination: the VRRP multicast group or a unicast peer.
    pub dst: IpAddr,
    /// TTL / hop limit (always 255).
    pub ttl: u8,
    /// The advert.
    pub advert: AdvertRepr,
    /// The encoded VRRP message, checksum included.
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    MasterDown = 0,
    Advert = 1,
    Garp = 2,
}

const TIMERS: [Timer; 3] = [Timer::MasterDown, Timer::Advert, Timer::Garp];

/// Deadlines, one slot per [`Timer`].
#[derive(Debug, Clone, Default)]
struct TimerTable([Option<Instant>; 3]);

impl TimerTable {
    fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }
    fn stop(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }
    fn get(&self, t: Timer) -> Option<Instant> {
        self.0[t as usize]
    }
    fn stop_all(&mut self) {
        self.0 = [None; 3];
    }
    fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
    /// Takes the expired timer with the earliest deadline.
    fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        let t = TIMERS
            .iter()
            .filter_map(|t| self.get(*t).filter(|d| *d <= now).map(|d| (d, *t)))
            .min_by_key(|(d, _)| *d)
            .map(|(_, t)| t)?;
        self.stop(t);
        Some(t)
    }
}

/// One VRRP instance.
#[derive(Debug, Clone)]
pub struct Instance {
    cfg: InstanceConfig,
    state: State,
    effective_priority: u8,
    /// The master's advert interval (v3 backups learn it from the master).
    master_adver_int: Duration,
    timers: TimerTable,
    preempt_until: Option<Instant>,
    /// Set by a sync group while another member is in FAULT: stay in FAULT.
    group_fault_hold: bool,
    scripts: Vec<Option<bool>>,
    interfaces: Vec<bool>,
    own_interface_up: bool,
    transmits: VecDeque<Transmit>,
    actions: VecDeque<Action>,
}

fn cmp_addr(a: &IpAddr, b: &IpAddr) -> std::cmp::Ordering {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.cmp(b),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.cmp(b),
        (IpAddr::V4(_), IpAddr::V6(_)) => std::cmp::Ordering::Less,
        (IpAddr::V6(_), IpAddr::V4(_)) => std::cmp::Ordering::Greater,
    }
}

impl Instance {
    /// Checks the configuration and builds the instance in [`State::Init`].
    pub fn new(cfg: InstanceConfig) -> Result<Instance, ConfigError> {
        cfg.validate()?;
        let scripts = vec![None; cfg.track_scripts.len()];
        let interfaces = vec![true; cfg.track_interfaces.len()];
        let mut inst = Instance {
            effective_priority: cfg.priority,
            master_adver_int: cfg.advert_int,
            cfg,
            state: State::Init,
            timers: TimerTable::default(),
            preempt_until: None,
            group_fault_hold: false,
            scripts,
            interfaces,
            own_interface_up: true,
            transmits: VecDeque::new(),
            actions: VecDeque::new(),
        };
        inst.effective_priority = inst.compute_priority();
        Ok(inst)
    }

    // ---- getters

    /// The configuration.
    pub fn config(&self) -> &InstanceConfig {
        &self.cfg
    }

    /// The instance name.
    pub fn name(&self) -> &str {
        &self.cfg.name
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The priority after tracking weights.
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// Skew time: `(256 - priority) / 256` s for v2, `(256 - priority) * master_adver_int / 256`
    /// for v3, with the effective priority.
    pub fn skew_time(&self) -> Duration {
        let unit = match self.cfg.version {
            Version::V2 => Duration::from_secs(1),
            Version::V3 => self.master_adver_int,
        };
        unit * (256 - u32::from(self.effective_priority)) / 256
    }

    /// Master-down interval: three master advert intervals plus the skew time.
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_int * 3 + self.skew_time()
    }

    // ---- outputs

    /// The next advert to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next action to perform.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ---- inputs

    /// Handles every timer that expired at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(t) = self.timers.take_expired(now) {
            match (t, self.state) {
                (Timer::MasterDown, State::Backup) => {
                    self.log("Receive advertisement timeout");
                    self.become_master(now);
                }
                (Timer::Advert, State::Master) => {
                    self.send_advert(self.effective_priority);
                    self.timers.set(Timer::Advert, now + self.cfg.advert_int);
                }
                (Timer::Garp, State::Master) => self.announce(),
                // a timer left over from a state already left has nothing to do
                _ => {}
            }
        }
    }

    /// Handles an event.
    pub fn handle_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Start => self.start(now),
            Event::Stop => self.stop(),
            Event::ScriptStatus { name, ok } => {
                let mut hit = false;
                for (t, s) in self.cfg.track_scripts.iter().zip(self.scripts.iter_mut()) {
                    if t.name == name {
                        *s = Some(ok);
                        hit = true;
                    }
                }
                if hit {
                    self.tracking_changed(now);
                }
            }
            Event::InterfaceUp(name) | Event::InterfaceDown(name) if name.is_empty() => {}
            Event::InterfaceUp(name) => self.set_interface(now, &name, true),
            Event::InterfaceDown(name) => self.set_interface(now, &name, false),
        }
    }

    /// Validates and handles a received VRRP message (the IP payload).
    ///
    /// `ips` are the carrying packet's addresses and `ttl` its TTL / hop limit. A rejected
    /// packet is logged (as keepalived words it), dropped and returned as the error; the
    /// state does not change. Packets are ignored (`Ok`) outside BACKUP and MASTER.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        ips: IpPair,
        ttl: u8,
        payload: &[u8],
    ) -> Result<(), Reject> {
        if !matches!(self.state, State::Backup | State::Master) {
            return Ok(());
        }
        let family = Family::of(&ips.src);
        // keepalived's order: length, TTL, version, then the checksum.
        if let Some(&first) = payload.first() {
            let version = first >> 4;
            if payload.len() >= 8
                && matches!(version, 2 | 3)
                && version != self.cfg.version.number()
            {
                if ttl != REQUIRED_TTL {
                    return self.reject(Reject::Ttl { received: ttl });
                }
                return self.reject(Reject::Version {
                    received: version,
                    expected: self.cfg.version.number(),
                });
            }
        }
        let parsed = Packet::new_checked(payload, family).and_then(|p| AdvertRepr::parse(&p, &ips));
        let advert = match parsed {
            Ok(a) => a,
            Err(WireError::Checksum(v)) => {
                // keepalived checks the TTL before the checksum
                if ttl != REQUIRED_TTL {
                    return self.reject(Reject::Ttl { received: ttl });
                }
                return self.reject(Reject::Checksum { version: v });
            }
            Err(WireError::UnknownVersion(v)) => {
                return self.reject(Reject::Version {
                    received: v,
                    expected: self.cfg.version.number(),
                });
            }
            Err(WireError::Truncated { got, .. }) => {
                let header = match family {
                    Family::V4 => 20,
                    Family::V6 => 0,
                };
                return self.reject(Reject::TooShort {
                    family,
                    bytes: got + header,
                });
            }
            Err(e) => return self.reject(Reject::Malformed(e)),
        };
        self.handle_advert(now, ips.src, &advert, ttl)
    }

    /// Validates and handles a parsed advert from `src` received with `ttl`.
    /// See [`handle_packet`](Self::handle_packet).
    pub fn handle_advert(
        &mut self,
        now: Instant,
        src: IpAddr,
        advert: &AdvertRepr,
        ttl: u8,
    ) -> Result<(), Reject> {
        if !matches!(self.state, State::Backup | State::Master) {
            return Ok(());
        }
        if let Err(r) = self.validate(advert, ttl) {
            return self.reject(r);
        }
        if self.state == State::Backup {
            self.backup_rx(now, src, advert);
        } else {
            self.master_rx(now, src, advert);
        }
        Ok(())
    }

    /// Moves the instance to `target` as a sync group does when a fellow member moved:
    /// BACKUP to MASTER, MASTER to BACKUP, or either to FAULT. Other requests are ignored.
    pub fn force_state(&mut self, now: Instant, target: State) {
        match (self.state, target) {
            (State::Backup, State::Master) => self.become_master(now),
            (State::Master, State::Backup) => self.become_backup(now),
            (State::Backup | State::Master, State::Fault) => self.enter_fault(),
            (State::Fault, State::Backup) if !self.fault_condition() => self.leave_fault(now),
            _ => {}
        }
    }

    /// Keeps the instance in FAULT (or releases it) regardless of its own tracking;
    /// used by sync groups.
    pub(crate) fn set_group_fault_hold(&mut self, hold: bool) {
        self.group_fault_hold = hold;
    }

    /// Whether the instance's own tracking asks for FAULT.
    pub fn fault_condition(&self) -> bool {
        !self.own_interface_up
            || self
                .cfg
                .track_interfaces
                .iter()
                .zip(&self.interfaces)
                .any(|(t, up)| t.weight == 0 && !up)
            || self
                .cfg
                .track_scripts
                .iter()
                .zip(&self.scripts)
                .any(|(t, ok)| t.weight == 0 && *ok == Some(false))
    }

    // ---- internals

    fn log(&mut self, msg: impl std::fmt::Display) {
        self.actions
            .push_back(Action::Log(format!("({}) {msg}", self.cfg.name)));
    }

    fn notify(&mut self, state: NotifyState) {
        self.actions.push_back(Action::Notify(Notify {
            instance: self.cfg.name.clone(),
            state,
            priority: self.effective_priority,
        }));
    }

    fn reject(&mut self, r: Reject) -> Result<(), Reject> {
        let line = r.log_line(&self.cfg.name);
        self.actions.push_back(Action::Log(line));
        Err(r)
    }

    fn validate(&self, a: &AdvertRepr, ttl: u8) -> Result<(), Reject> {
        if ttl != REQUIRED_TTL {
            return Err(Reject::Ttl { received: ttl });
        }
        if a.version != self.cfg.version {
            return Err(Reject::Version {
                received: a.version.number(),
                expected: self.cfg.version.number(),
            });
        }
        if a.vrid != self.cfg.vrid {
            return Err(Reject::UnknownVrid {
                vrid: a.vrid,
                interface: self.cfg.interface.clone(),
            });
        }
        if self.cfg.version == Version::V2 {
            let expected = self.cfg.auth.type_number();
            if a.auth.type_number() != expected {
                return Err(Reject::AuthType {
                    received: a.auth.type_number(),
                    expected,
                });
            }
            if a.auth != self.cfg.auth {
                return Err(Reject::Password);
            }
            let mine = self.cfg.interval_centis();
            if a.interval_centis != mine {
                return Err(Reject::AdvertInterval {
                    mine_secs: mine / 100,
                    received_secs: a.interval_centis / 100,
                });
            }
        }
        if a.addresses.len() != self.cfg.vips.len() {
            return Err(Reject::VipCount {
                received: a.addresses.len(),
                expected: self.cfg.vips.len(),
            });
        }
        if let Some(missing) = self.cfg.vips.iter().find(|v| !a.addresses.contains(v)) {
            return Err(Reject::VipMissing {
                vrid: self.cfg.vrid,
                addr: *missing,
            });
        }
        Ok(())
    }

    fn backup_rx(&mut self, now: Instant, src: IpAddr, a: &AdvertRepr) {
        if a.priority == 0 {
            self.log("Backup received priority 0 advertisement");
            self.timers.set(Timer::MasterDown, now + self.skew_time());
            return;
        }
        let ours = self.effective_priority;
        let in_delay =
            !self.cfg.preempt_delay.is_zero() && self.preempt_until.is_none_or(|until| until > now);
        if !self.cfg.preempt || a.priority >= ours || in_delay {
            if !self.cfg.preempt_delay.is_zero() {
                if a.priority >= ours {
                    if self.preempt_until.take().is_some() {
                        self.log("stop preempt delay");
                    }
                } else if self.preempt_until.is_none() {
                    let d = self.cfg.preempt_delay;
                    self.preempt_until = Some(now + d);
                    self.log(format_args!(
                        "start preempt delay ({}.{:06})",
                        d.as_secs(),
                        d.subsec_micros()
                    ));
                }
            }
            if self.cfg.version == Version::V3 {
                self.learn_interval(a);
            }
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
        } else {
            self.log(format_args!(
                "received lower priority ({}) advert from {src} - discarding",
                a.priority
            ));
        }
    }

    fn learn_interval(&mut self, a: &AdvertRepr) {
        let rcvd = Duration::from_millis(u64::from(a.interval_centis) * 10);
        if rcvd != self.master_adver_int && !rcvd.is_zero() {
            self.log(format_args!(
                "advertisement interval updated from {}ms to {}ms by master",
                self.master_adver_int.as_millis(),
                rcvd.as_millis()
            ));
            self.master_adver_int = rcvd;
        }
    }

    fn master_rx(&mut self, now: Instant, src: IpAddr, a: &AdvertRepr) {
        let ours = self.effective_priority;
        if a.priority == 0 {
            self.log("Master received priority 0 message");
            self.send_advert(ours);
            self.timers.set(Timer::Advert, now + self.cfg.advert_int);
            return;
        }
        let higher_addr = cmp_addr(&src, &self.cfg.source).is_gt();
        if a.priority > ours {
            self.log(format_args!(
                "Master received advert from {src} with higher priority {}, ours {ours}",
                a.priority
            ));
        } else if a.priority == ours && higher_addr {
            self.log(format_args!(
                "Master received advert from {src} with same priority {} but higher IP address than ours",
                a.priority
            ));
        } else {
            let suffix = if self.cfg.lower_prio_no_advert {
                ""
            } else {
                ", forcing new election"
            };
            self.log(format_args!(
                "Received advert from {src} with lower priority {}, ours {ours}{suffix}",
                a.priority
            ));
            if !self.cfg.lower_prio_no_advert {
                self.send_advert(ours);
                self.timers.set(Timer::Advert, now + self.cfg.advert_int);
            }
            return;
        }
        if self.cfg.version == Version::V3 {
            self.learn_interval(a);
        }
        self.become_backup(now);
    }

    fn start(&mut self, now: Instant) {
        if self.state != State::Init && self.state != State::Stop {
            return;
        }
        self.master_adver_int = self.cfg.advert_int;
        self.preempt_until = None;
        // addresses left over from an earlier run are released before anything else
        self.actions.push_back(Action::RemoveVips {
            interface: self.cfg.interface.clone(),
            addrs: self.cfg.vips.clone(),
        });
        if self.fault_condition() {
            self.state = State::Fault;
            self.log("Entering FAULT STATE (init)");
            self.notify(NotifyState::Fault);
        } else if self.cfg.priority == PRIORITY_OWNER {
            self.become_master(now);
        } else {
            self.state = State::Backup;
            self.log("Entering BACKUP STATE (init)");
            self.notify(NotifyState::Backup);
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
        }
    }

    fn stop(&mut self) {
        if self.state == State::Stop || self.state == State::Init {
            return;
        }
        if self.state == State::Master {
            self.release_master();
        }
        self.timers.stop_all();
        self.state = State::Stop;
        self.notify(NotifyState::Stop);
    }

    /// Sends priority 0 and removes the addresses.
    fn release_master(&mut self) {
        self.send_advert(0);
        self.log("sent 0 priority");
        self.remove_vips();
    }

    fn remove_vips(&mut self) {
        self.log("removing VIPs.");
        self.actions.push_back(Action::RemoveVips {
            interface: self.cfg.interface.clone(),
            addrs: self.cfg.vips.clone(),
        });
    }

    fn become_master(&mut self, now: Instant) {
        self.state = State::Master;
        self.preempt_until = None;
        self.log("Entering MASTER STATE");
        self.log("setting VIPs.");
        self.actions.push_back(Action::AddVips {
            interface: self.cfg.interface.clone(),
            addrs: self.cfg.vips.clone(),
        });
        self.send_advert(self.effective_priority);
        self.announce();
        self.notify(NotifyState::Master);
        self.timers.stop(Timer::MasterDown);
        self.timers.set(Timer::Advert, now + self.cfg.advert_int);
        if !self.cfg.garp_master_delay.is_zero() {
            self.timers
                .set(Timer::Garp, now + self.cfg.garp_master_delay);
        }
    }

    fn become_backup(&mut self, now: Instant) {
        self.state = State::Backup;
        self.log("Entering BACKUP STATE");
        self.remove_vips();
        self.notify(NotifyState::Backup);
        self.timers.stop_all();
        self.timers
            .set(Timer::MasterDown, now + self.master_down_interval());
    }

    fn enter_fault(&mut self) {
        let was_master = self.state == State::Master;
        self.state = State::Fault;
        self.log("Entering FAULT STATE");
        if was_master {
            self.release_master();
        }
        self.timers.stop_all();
        self.notify(NotifyState::Fault);
    }

    fn leave_fault(&mut self, now: Instant) {
        self.master_adver_int = self.cfg.advert_int;
        if self.cfg.priority == PRIORITY_OWNER {
            self.become_master(now);
        } else {
            self.state = State::Backup;
            self.log("Entering BACKUP STATE");
            self.notify(NotifyState::Backup);
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
        }
    }

    fn announce(&mut self) {
        if self.cfg.vips.is_empty() || self.cfg.garp_master_repeat == 0 {
            return;
        }
        let kind = match Family::of(&self.cfg.source) {
            Family::V4 => "gratuitous ARPs",
            Family::V6 => "Unsolicited Neighbour Adverts",
        };
        if let Some(first) = self.cfg.vips.first().copied() {
            let iface = self.cfg.interface.clone();
            self.log(format_args!(
                "Sending/queueing {kind} on {iface} for {first}"
            ));
        }
        self.actions.push_back(Action::Announce {
            interface: self.cfg.interface.clone(),
            addrs: self.cfg.vips.clone(),
            count: self.cfg.garp_master_repeat,
        });
    }

    fn send_advert(&mut self, priority: u8) {
        let advert = AdvertRepr {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority,
            interval_centis: self.cfg.interval_centis(),
            auth: match self.cfg.version {
                Version::V2 => self.cfg.auth.clone(),
                Version::V3 => Auth::None,
            },
            addresses: self.cfg.vips.clone(),
        };
        let src = self.cfg.source;
        let dsts: Vec<IpAddr> = if self.cfg.unicast_peers.is_empty() {
            vec![match src {
                IpAddr::V4(_) => IpAddr::V4(MULTICAST_V4),
                IpAddr::V6(_) => IpAddr::V6(MULTICAST_V6),
            }]
        } else {
            self.cfg.unicast_peers.clone()
        };
        for dst in dsts {
            match advert.to_bytes(&IpPair { src, dst }) {
                Ok(payload) => self.transmits.push_back(Transmit {
                    src,
                    dst,
                    ttl: REQUIRED_TTL,
                    advert: advert.clone(),
                    payload,
                }),
                // unreachable with a validated configuration; never panic on it
                Err(e) => self.log(format_args!("cannot encode advert for {dst}: {e}")),
            }
        }
    }

    fn set_interface(&mut self, now: Instant, name: &str, up: bool) {
        let mut hit = false;
        if name == self.cfg.interface {
            self.own_interface_up = up;
            hit = true;
        }
        for (t, s) in self
            .cfg
            .track_interfaces
            .iter()
            .zip(self.interfaces.iter_mut())
        {
            if t.name == name {
                *s = up;
                hit = true;
            }
        }
        if hit {
            self.tracking_changed(now);
        }
    }

    fn compute_priority(&self) -> u8 {
        if self.cfg.priority == PRIORITY_OWNER {
            return PRIORITY_OWNER;
        }
        let mut p = i64::from(self.cfg.priority);
        for (t, ok) in self.cfg.track_scripts.iter().zip(&self.scripts) {
            match ok {
                Some(true) if t.weight > 0 => p += i64::from(t.weight),
                Some(false) if t.weight < 0 => p += i64::from(t.weight),
                _ => {}
            }
        }
        for (t, up) in self.cfg.track_interfaces.iter().zip(&self.interfaces) {
            if (*up && t.weight > 0) || (!*up && t.weight < 0) {
                p += i64::from(t.weight);
            }
        }
        u8::try_from(p.clamp(1, 254)).unwrap_or(1)
    }

    fn tracking_changed(&mut self, now: Instant) {
        let p = self.compute_priority();
        if p != self.effective_priority {
            let old = self.effective_priority;
            self.log(format_args!(
                "Changing effective priority from {old} to {p}"
            ));
            self.effective_priority = p;
        }
        let fault = self.fault_condition();
        match self.state {
            State::Backup | State::Master if fault => self.enter_fault(),
            State::Fault if !fault && !self.group_fault_hold => self.leave_fault(now),
            _ => {}
        }
    }
}
