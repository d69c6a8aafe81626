//! The tokio driver: sockets, netlink, scripts, signals and timers around the units.
//!
//! One task owns every state machine. Receiver tasks (one per interface and family),
//! the link watcher and the script checks feed it through one channel; after each
//! input it drains adverts, then actions, then sleeps until the earliest deadline, as
//! vrrp-core's loop contract asks. SIGTERM/SIGINT stop (priority 0 sent, VIPs removed,
//! `notify_stop`), SIGHUP reloads the configuration.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vrrp_config::{Config, Host};
use vrrp_core::{
    Action, Event, Family, Notify, NotifyState, ScriptOutcome, ScriptTracker, Transmit,
};
use vrrp_netlink::{Announcer, Cap, LinkEvent, LinkWatcher, Netlink, RecvMeta, VrrpSocket};

use crate::Error;
use crate::log::Logger;
use crate::mapping::{InterfaceFacts, NotifyCommands, Plan};
use crate::scripts;
use crate::smtp;
use crate::units::Unit;
use crate::users::{self, Credentials};

/// Received datagrams larger than this are dropped (VRRP adverts are far smaller).
const RECV_BUF: usize = 2048;

type SockKey = (String, Family);

enum Input {
    Packet {
        key: SockKey,
        meta: RecvMeta,
        data: Vec<u8>,
    },
    RecvError {
        key: SockKey,
        error: String,
    },
    Link(LinkEvent),
    Script {
        generation: u64,
        name: String,
        outcome: ScriptOutcome,
    },
}

struct SocketEntry {
    sock: Arc<VrrpSocket>,
    task: JoinHandle<()>,
}

impl Drop for SocketEntry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the daemon needs from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file (`-f`).
    pub config: PathBuf,
}

/// Why the daemon stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGTERM or SIGINT: stopped cleanly.
    Signalled,
}

struct Daemon {
    opts: Options,
    log: Arc<Logger>,
    netlink: Netlink,
    config: Config,
    plan: Plan,
    plans: Vec<crate::mapping::UnitPlan>,
    units: Vec<Unit>,
    sockets: HashMap<SockKey, SocketEntry>,
    announcers: HashMap<String, Announcer>,
    link_up: HashMap<String, bool>,
    trackers: HashMap<String, ScriptTracker>,
    script_tasks: Vec<JoinHandle<()>>,
    generation: u64,
    tx: mpsc::Sender<Input>,
    epoch: tokio::time::Instant,
    /// Who scripts and notify commands run as; `None`: not run.
    creds: Option<Credentials>,
}

/// Loads the configuration and runs until SIGTERM or SIGINT. Errors are startup
/// failures (unreadable configuration, missing interface, no privileges).
pub async fn run(opts: Options, log: Arc<Logger>) -> Result<Exit, Error> {
    // signal handlers first, so that a signal during startup is not fatal
    let io = |source| Error::Io {
        op: "installing a handler for",
        path: PathBuf::from("signals"),
        source,
    };
    let mut sigterm = signal(SignalKind::terminate()).map_err(io)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(io)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(io)?;
    let config = load_config(&opts, &log)?;
    let (tx, mut rx) = mpsc::channel(1024);
    let netlink = Netlink::connect()?;
    // subscribe before reading the initial link states, so no change falls between
    let mut watcher = LinkWatcher::subscribe()?;
    let link_tx = tx.clone();
    let watch_task = tokio::spawn(async move {
        while let Some(ev) = watcher.next().await {
            if link_tx.send(Input::Link(ev)).await.is_err() {
                break;
            }
        }
    });
    let mut d = Daemon {
        opts,
        log,
        netlink,
        config: Config::default(),
        plan: Plan::default(),
        plans: Vec::new(),
        units: Vec::new(),
        sockets: HashMap::new(),
        announcers: HashMap::new(),
        link_up: HashMap::new(),
        trackers: HashMap::new(),
        script_tasks: Vec::new(),
        generation: 0,
        tx,
        epoch: tokio::time::Instant::now(),
        creds: None,
    };
    d.apply(config).await?;
    if scripts::current_uid() == Some(0) {
        d.drop_capabilities();
    }
    loop {
        let deadline = d
            .units
            .iter()
            .filter_map(Unit::poll_timeout)
            .min()
            .map(|t| d.epoch + Duration::from_micros(t.as_micros()));
        let far = tokio::time::Instant::now() + Duration::from_secs(3600);
        tokio::select! {
            biased;
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = sighup.recv() => d.reload().await,
            // timers before packets, so that a flood of adverts cannot delay our own
            _ = tokio::time::sleep_until(deadline.unwrap_or(far)) => {
                let now = d.now();
                for u in &mut d.units {
                    u.handle_timeout(now);
                }
            }
            Some(input) = rx.recv() => d.input(input).await,
        }
        d.drain().await;
    }
    d.log.info("Stopping");
    d.stop_units().await;
    watch_task.abort();
    d.log.info("Stopped");
    Ok(Exit::Signalled)
}

fn load_config(opts: &Options, log: &Logger) -> Result<Config, Error> {
    log.info(&format!("Configuration file {}", opts.config.display()));
    match vrrp_config::load(&opts.config) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                log.warn(&w.to_string());
            }
            Ok(loaded.config)
        }
        Err(e) => {
            for d in e.warnings.iter().chain(&e.errors) {
                log.error(&d.to_string());
            }
            let unreadable = e.errors.iter().find_map(|d| match &d.problem {
                vrrp_config::Problem::Read { path, .. } if d.origin.line == 0 => Some(path),
                _ => None,
            });
            if let Some(path) = unreadable.filter(|p| Path::new(p.as_str()) == opts.config) {
                return Err(Error::NoConfig {
                    path: PathBuf::from(path),
                });
            }
            Err(Error::Config {
                path: opts.config.clone(),
                errors: e.errors.len(),
            })
        }
    }
}

impl Daemon {
    fn now(&self) -> vrrp_core::Instant {
        let micros = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        vrrp_core::Instant::from_micros(micros)
    }

    /// Plans `config` and switches to it: unchanged units keep running, removed or
    /// changed ones stop, new ones start. On error nothing changed.
    async fn apply(&mut self, config: Config) -> Result<(), Error> {
        let mut names: HashSet<String> = HashSet::new();
        for i in &config.instances {
            names.insert(i.interface.clone());
            names.extend(i.track_interface.iter().map(|t| t.name.clone()));
        }
        let mut infos = HashMap::new();
        for n in &names {
            match self.netlink.interface(n).await {
                Ok(info) => {
                    infos.insert(n.clone(), info);
                }
                Err(vrrp_netlink::Error::NoSuchInterface(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let plan = crate::mapping::plan(&config, |name| {
            infos.get(name).map(|i| InterfaceFacts {
                primary_v4: i.primary_v4,
                link_local_v6: i.link_local_v6,
            })
        })?;
        let creds = script_credentials(&config, &plan, &self.log)?;
        // build every new unit before touching the running ones
        let mut kept: Vec<Option<Unit>> = Vec::new();
        let mut old: Vec<Option<Unit>> = std::mem::take(&mut self.units)
            .into_iter()
            .map(Some)
            .collect();
        for p in &plan.units {
            // unchanged means the same state machines and the same address details
            // (prefix, label, scope...), which the instance configuration does not carry
            let same_vips = p.members().iter().all(|m| {
                m.vips
                    .iter()
                    .all(|a| plan.vip(&m.interface, *a) == self.plan.vip(&m.interface, *a))
            });
            let reuse = self
                .plans
                .iter()
                .position(|o| o == p && same_vips)
                .and_then(|i| old.get_mut(i).and_then(Option::take));
            kept.push(reuse);
        }
        let mut fresh = Vec::new();
        for (p, k) in plan.units.iter().zip(&kept) {
            fresh.push(match k {
                Some(_) => None,
                None => match Unit::build(p) {
                    Ok(u) => Some(u),
                    Err(e) => {
                        // put everything back as it was
                        self.units = restore(old, kept, &self.plans, &plan.units);
                        return Err(e);
                    }
                },
            });
        }
        // sockets the new set needs, opened before anything running is stopped
        let mut wanted: HashSet<SockKey> = HashSet::new();
        for p in &plan.units {
            for m in p.members() {
                wanted.insert((m.interface.clone(), Family::of(&m.source)));
            }
        }
        let mut opened = HashMap::new();
        for key in &wanted {
            if self.sockets.contains_key(key) {
                continue;
            }
            match self.open_socket(key) {
                Ok(entry) => {
                    opened.insert(key.clone(), entry);
                }
                Err(e) => {
                    self.units = restore(old, kept, &self.plans, &plan.units);
                    return Err(e);
                }
            }
        }
        for (n, info) in &infos {
            self.link_up.insert(n.clone(), info.up);
        }
        for n in &names {
            if !infos.contains_key(n) {
                self.link_up.insert(n.clone(), false);
            }
        }
        // stop what goes away, while its sockets are still open
        let now = self.now();
        let mut leaving: Vec<Unit> = old.into_iter().flatten().collect();
        for u in &mut leaving {
            u.handle_event(now, Event::Stop);
        }
        let old_plan = std::mem::replace(&mut self.plan, plan);
        self.units = leaving;
        self.drain_with(&old_plan).await;
        self.units.clear();
        self.config = config;
        self.creds = creds;
        for w in &self.plan.warnings {
            self.log.warn(w);
        }
        self.sockets.retain(|k, _| wanted.contains(k));
        self.sockets.extend(opened);
        let now = self.now();
        for (k, f) in kept.into_iter().zip(fresh) {
            match (k, f) {
                (Some(u), _) => self.units.push(u),
                (None, Some(mut u)) => {
                    let down: Vec<String> = u
                        .interfaces()
                        .filter(|n| !self.link_up.get(*n).copied().unwrap_or(false))
                        .map(str::to_string)
                        .collect();
                    for n in down {
                        u.handle_event(now, Event::InterfaceDown(n));
                    }
                    u.handle_event(now, Event::Start);
                    self.units.push(u);
                }
                (None, None) => {}
            }
        }
        self.plans = self.plan.units.clone();
        self.start_scripts();
        self.drain().await;
        Ok(())
    }

    fn open_socket(&self, key: &SockKey) -> Result<SocketEntry, Error> {
        let sock = Arc::new(VrrpSocket::open(&key.0, key.1)?);
        let rx_sock = Arc::clone(&sock);
        let tx = self.tx.clone();
        let k = key.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; RECV_BUF];
            loop {
                let input = match rx_sock.recv(&mut buf).await {
                    Ok((meta, n)) => Input::Packet {
                        key: k.clone(),
                        meta,
                        data: buf.get(..n).unwrap_or(&[]).to_vec(),
                    },
                    Err(vrrp_netlink::Error::Packet(e)) => Input::RecvError {
                        key: k.clone(),
                        error: e,
                    },
                    Err(e) => {
                        let input = Input::RecvError {
                            key: k.clone(),
                            error: e.to_string(),
                        };
                        // a failing socket (interface gone) must not spin
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        input
                    }
                };
                if tx.send(input).await.is_err() {
                    break;
                }
            }
        });
        Ok(SocketEntry { sock, task })
    }

    /// Who the scripts and notify commands of the current plan run as.
    fn script_runners(&self) -> Vec<Credentials> {
        let mut runners = Vec::new();
        for s in &self.plan.scripts {
            match &s.user {
                Some(u) => runners.extend(users::lookup(&u.user, u.group.as_deref()).ok()),
                None => runners.extend(self.creds),
            }
        }
        if has_notify_commands(&self.plan) {
            runners.extend(self.creds);
        }
        runners
    }

    /// Once the sockets are open, keeps CAP_NET_RAW and CAP_NET_ADMIN, plus
    /// CAP_SETUID, CAP_SETGID and CAP_KILL when scripts run as another user. Scripts
    /// that run as root keep every capability: keepalived gives them root's powers.
    /// Capabilities dropped are gone for good, also for scripts a reload adds.
    fn drop_capabilities(&self) {
        let runners = self.script_runners();
        if runners.iter().any(|c| c.uid == 0) {
            self.log
                .info("Capabilities not dropped: scripts or notify commands run as root");
            return;
        }
        let mut keep = vec![Cap::NetRaw, Cap::NetAdmin];
        if !runners.is_empty() {
            keep.extend([Cap::SetUid, Cap::SetGid, Cap::Kill]);
        }
        match vrrp_netlink::drop_capabilities(&keep) {
            Ok(()) => {
                let names: Vec<&str> = keep.iter().map(|c| c.name()).collect();
                self.log
                    .info(&format!("Capabilities kept: {}", names.join(", ")));
            }
            Err(e) => self.log.warn(&format!("Capabilities not dropped: {e}")),
        }
    }

    fn start_scripts(&mut self) {
        for t in self.script_tasks.drain(..) {
            t.abort();
        }
        self.generation += 1;
        self.trackers.clear();
        for s in &self.plan.scripts {
            self.trackers.insert(
                s.name.clone(),
                ScriptTracker::new(s.name.as_str(), s.rise, s.fall),
            );
            let creds = match &s.user {
                Some(u) => match users::lookup(&u.user, u.group.as_deref()) {
                    Ok(c) => c,
                    Err(e) => {
                        self.log
                            .error(&format!("VRRP_Script({}) not run: {e}", s.name));
                        continue;
                    }
                },
                None => match self.creds {
                    Some(c) => c,
                    None => continue,
                },
            };
            if creds == Credentials::ROOT && self.config.global.enable_script_security {
                let path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_string());
                let unsafe_part = match s.argv.first() {
                    Some(prog) => users::find_program(prog, &path)
                        .and_then(|p| users::insecure_component(&p).map(|_| p)),
                    None => None,
                };
                if let Some(script) = unsafe_part {
                    self.log.warn(&format!(
                        "Unsafe permissions found for script '{}' - disabling.",
                        script.display()
                    ));
                    self.log.warn(&format!(
                        "Disabling track script {} due to insecure",
                        s.name
                    ));
                    continue;
                }
            }
            let s = s.clone();
            let tx = self.tx.clone();
            let generation = self.generation;
            self.script_tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(s.interval.max(Duration::from_millis(10)));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let outcome = scripts::run_check(&s.argv, creds, s.timeout).await;
                    let input = Input::Script {
                        generation,
                        name: s.name.clone(),
                        outcome,
                    };
                    if tx.send(input).await.is_err() {
                        break;
                    }
                }
            }));
        }
    }

    async fn input(&mut self, input: Input) {
        let now = self.now();
        match input {
            Input::Packet { key, meta, data } => {
                let Some(vrid) = vrrp_core::wire::peek_vrid(&data) else {
                    self.log.info(&format!(
                        "malformed VRRP packet from {} on {}: {} bytes",
                        meta.src,
                        key.0,
                        data.len()
                    ));
                    return;
                };
                let unit = self
                    .units
                    .iter_mut()
                    .find(|u| u.member(&key.0, key.1, vrid).is_some());
                match unit {
                    Some(u) => {
                        // rejections are logged by the instance itself
                        let _ = u.handle_packet(now, meta.ips(), meta.ttl, &data);
                    }
                    None => {
                        let r = vrrp_core::Reject::UnknownVrid {
                            vrid,
                            interface: key.0.clone(),
                        };
                        self.log.info(&r.log_line(""));
                    }
                }
            }
            Input::RecvError { key, error } => {
                self.log.detail(&format!("{} receive: {error}", key.0));
            }
            Input::Link(ev) => {
                let relevant = self
                    .units
                    .iter()
                    .any(|u| u.interfaces().any(|n| n == ev.ifname));
                let was = self.link_up.insert(ev.ifname.clone(), ev.up);
                if !relevant || was == Some(ev.up) {
                    return;
                }
                self.log.info(&format!(
                    "Netlink reports {} {}",
                    ev.ifname,
                    if ev.up { "up" } else { "down" }
                ));
                if ev.up {
                    // the interface may come back with other addresses
                    self.announcers.remove(&ev.ifname);
                }
                for u in &mut self.units {
                    u.handle_event(now, ev.to_event());
                }
            }
            Input::Script {
                generation,
                name,
                outcome,
            } => {
                if generation != self.generation {
                    return;
                }
                let Some(change) = self.trackers.get_mut(&name).and_then(|t| t.record(outcome))
                else {
                    return;
                };
                self.log.info(&change.log);
                for u in &mut self.units {
                    u.handle_event(
                        now,
                        Event::ScriptStatus {
                            name: change.name.clone(),
                            ok: change.ok,
                        },
                    );
                }
            }
        }
    }

    async fn drain(&mut self) {
        let plan = self.plan.clone();
        self.drain_with(&plan).await;
    }

    /// Sends every queued advert, then performs every queued action.
    async fn drain_with(&mut self, plan: &Plan) {
        let mut transmits: Vec<(String, Transmit)> = Vec::new();
        let mut actions = Vec::new();
        let mut groups = Vec::new();
        for u in &mut self.units {
            while let Some(t) = u.poll_transmit() {
                let iface = u.sender(&t).map(|c| c.interface.clone());
                if let Some(i) = iface {
                    transmits.push((i, t));
                }
            }
            while let Some(a) = u.poll_action() {
                actions.push(a);
            }
            if let Some(g) = u.group_transition() {
                groups.push(g);
            }
        }
        for (iface, t) in transmits {
            let key = (iface, Family::of(&t.src));
            match self.sockets.get(&key) {
                Some(s) => {
                    if let Err(e) = s.sock.send_from(t.src, t.dst, &t.payload).await {
                        self.log.detail(&format!("advert to {}: {e}", t.dst));
                    }
                }
                None => self.log.error(&format!("no VRRP socket on {}", key.0)),
            }
        }
        for a in actions {
            self.act(plan, a).await;
        }
        for (name, state) in groups {
            let ns = match state {
                vrrp_core::State::Master => NotifyState::Master,
                vrrp_core::State::Backup => NotifyState::Backup,
                vrrp_core::State::Fault => NotifyState::Fault,
                vrrp_core::State::Stop => NotifyState::Stop,
                vrrp_core::State::Init => continue,
            };
            if let Some(cmds) = plan.group_notify.get(&name).cloned() {
                self.notify(
                    &cmds,
                    ns,
                    ["GROUP".into(), name.clone(), ns.as_str().into()].to_vec(),
                );
                if cmds.smtp_alert {
                    let (subject, body) = smtp::group_alert(&self.router_id(), &name, ns);
                    self.mail(subject, body);
                }
            }
        }
    }

    async fn act(&mut self, plan: &Plan, action: Action) {
        match action {
            Action::Log(line) => self.log.info(&line),
            Action::AddVips { interface, addrs } => {
                for a in addrs {
                    let vip = plan.vip(&interface, a);
                    if let Err(e) = self.netlink.add_vip(&vip).await {
                        self.log.error(&format!("cannot add VIP {a}: {e}"));
                    }
                }
            }
            Action::RemoveVips { interface, addrs } => {
                for a in addrs {
                    let vip = plan.vip(&interface, a);
                    if let Err(e) = self.netlink.remove_vip(&vip).await {
                        self.log.error(&format!("cannot remove VIP {a}: {e}"));
                    }
                }
            }
            Action::Announce {
                interface,
                addrs,
                count,
            } => {
                for _ in 0..count {
                    for a in &addrs {
                        let dev = plan.vip(&interface, *a).dev;
                        let what = if a.is_ipv4() {
                            "gratuitous ARP"
                        } else {
                            "unsolicited Neighbour Advert"
                        };
                        self.log.detail(&format!("Sending {what} on {dev} for {a}"));
                        if let Err(e) = self.announce(&dev, *a).await {
                            self.log
                                .detail(&format!("gratuitous ARP/NA for {a} on {dev}: {e}"));
                        }
                    }
                }
            }
            Action::Notify(n) => self.instance_notify(plan, &n),
        }
    }

    async fn announce(&mut self, dev: &str, addr: IpAddr) -> Result<(), Error> {
        if !self.announcers.contains_key(dev) {
            let info = self.netlink.interface(dev).await?;
            let a = Announcer::open(&info)?;
            self.announcers.insert(dev.to_string(), a);
        }
        if let Some(a) = self.announcers.get(dev) {
            a.announce(addr).await?;
        }
        Ok(())
    }

    fn instance_notify(&self, plan: &Plan, n: &Notify) {
        let Some(cmds) = plan.notify.get(&n.instance) else {
            return;
        };
        self.notify(cmds, n.state, n.args().to_vec());
        if cmds.smtp_alert {
            let (subject, body) = smtp::instance_alert(&self.router_id(), &n.instance, n.state);
            self.mail(subject, body);
        }
    }

    fn notify(&self, cmds: &NotifyCommands, state: NotifyState, args: Vec<String>) {
        let mut run = Vec::new();
        if let Some(c) = cmds.for_state(state) {
            run.push(c.clone());
        }
        if let Some(c) = &cmds.any {
            let mut c = c.clone();
            c.extend(args);
            run.push(c);
        }
        let Some(creds) = self.creds else {
            return;
        };
        for argv in run {
            if let Err(e) = scripts::spawn_notify(&argv, creds) {
                self.log.error(&format!("notify: {e}"));
            }
        }
    }

    fn router_id(&self) -> String {
        self.config
            .global
            .router_id
            .clone()
            .unwrap_or_else(hostname)
    }

    fn mail(&self, subject: String, body: String) {
        let g = &self.config.global;
        let Some(server) = &g.smtp_server else {
            return;
        };
        if g.notification_email.is_empty() {
            return;
        }
        let target = match &server.host {
            Host::Ip(ip) => SocketAddr::new(*ip, server.port).to_string(),
            Host::Name(n) => format!("{n}:{}", server.port),
        };
        let mail = smtp::Mail {
            from: g
                .notification_email_from
                .clone()
                .unwrap_or_else(|| format!("keepalived@{}", hostname())),
            to: g.notification_email.clone(),
            subject,
            body,
        };
        let timeout = g.smtp_connect_timeout.unwrap_or(smtp::DEFAULT_TIMEOUT);
        let log = Arc::clone(&self.log);
        tokio::spawn(async move {
            match smtp::send(&target, &hostname(), &mail, timeout).await {
                Ok(()) => log.info("SMTP alert successfully sent."),
                Err(e) => log.error(&e.to_string()),
            }
        });
    }

    async fn reload(&mut self) {
        self.log.info("Reloading");
        let config = match load_config(&self.opts, &self.log) {
            Ok(c) => c,
            Err(e) => {
                self.log.error(&format!(
                    "reload failed, keeping the running configuration: {e}"
                ));
                return;
            }
        };
        if let Err(e) = self.apply(config).await {
            self.log.error(&format!(
                "reload failed, keeping the running configuration: {e}"
            ));
        }
    }

    async fn stop_units(&mut self) {
        for t in self.script_tasks.drain(..) {
            t.abort();
        }
        let now = self.now();
        for u in &mut self.units {
            u.handle_event(now, Event::Stop);
        }
        self.drain().await;
        // give the notify_stop children a moment to start before the runtime goes
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Puts the running units back after a failed switch.
fn restore(
    old: Vec<Option<Unit>>,
    kept: Vec<Option<Unit>>,
    old_plans: &[crate::mapping::UnitPlan],
    new_plans: &[crate::mapping::UnitPlan],
) -> Vec<Unit> {
    let mut slots = old;
    for (p, k) in new_plans.iter().zip(kept) {
        if let Some(u) = k {
            // the first empty slot with this plan is where the unit came from
            let home = old_plans
                .iter()
                .zip(&slots)
                .position(|(o, s)| o == p && s.is_none());
            if let Some(i) = home {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = Some(u);
                }
            }
        }
    }
    slots.into_iter().flatten().collect()
}

/// Whether an instance or a group of `plan` has a notify command to run.
fn has_notify_commands(plan: &Plan) -> bool {
    plan.notify
        .values()
        .chain(plan.group_notify.values())
        .any(|n| {
            n.master.is_some()
                || n.backup.is_some()
                || n.fault.is_some()
                || n.stop.is_some()
                || n.any.is_some()
        })
}

/// The user scripts and notify commands run as, with keepalived's warnings; `None`
/// when keepalived would not run them at all (`enable_script_security` without a
/// usable script user: it will not fall back to root then).
fn script_credentials(
    config: &Config,
    plan: &Plan,
    log: &Logger,
) -> Result<Option<Credentials>, Error> {
    if let Some(u) = &config.global.script_user {
        return users::lookup(&u.user, u.group.as_deref()).map(Some);
    }
    let runs_scripts = !plan.scripts.is_empty() || has_notify_commands(plan);
    let (creds, fell_back) = users::default_script_user(std::path::Path::new("/etc"));
    if !runs_scripts || !fell_back {
        return Ok(Some(creds));
    }
    if config.global.enable_script_security {
        log.warn(&format!(
            "Script user '{}' does not exist; scripts without their own user are not run",
            users::DEFAULT_SCRIPT_USER
        ));
        return Ok(None);
    }
    log.warn("SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
    Ok(Some(creds))
}

/// The search path for scripts named without a `/` when `PATH` is unset.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The host name, as keepalived's default router_id and HELO name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
