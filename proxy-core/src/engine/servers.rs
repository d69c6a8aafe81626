//! Run-time state of servers and the API to read and change it.
//!
//! A server's state is its administrative state ([`AdminState`]: ready,
//! drain, maintenance), set by the configuration (`disabled`) and at run time
//! through [`ServerRef`], and its health as checks see it (up or down, with
//! HAProxy's `rise`/`fall` counter). Together with the user weight and the
//! `slowstart` ramp they decide what the backend's balancer is told. Every
//! change goes through this module, which updates the balancer, wakes the
//! requests queued on the server when it leaves, and logs the transition in
//! HAProxy 2.6's words to the backend's log targets (and on stderr when the
//! process runs in the foreground, as HAProxy does).
//!
//! Lock order: a backend's balancer, then a server's state. Log lines are
//! emitted after both are released.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proxy_balance::{Balancer, ServerState};
use tokio::sync::Notify;

use super::check::{CheckConf, CheckStatus};
use super::model::{Backend, Runtime, Server, lock};

/// Syslog severities of HAProxy's state lines.
const LOG_EMERG: u8 = 0;
const LOG_ALERT: u8 = 1;
const LOG_NOTICE: u8 = 5;

/// A server's administrative state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AdminState {
    /// Takes traffic when healthy (`set server B/S state ready`).
    Ready,
    /// Takes no new traffic; sessions in progress finish
    /// (`set server B/S state drain`).
    Drain,
    /// Out of service (`set server B/S state maint`, or `disabled` in the
    /// configuration); health checks enabled at that point pause until
    /// it leaves.
    Maint,
}

impl AdminState {
    /// The word the runtime API uses (`ready`, `drain`, `maint`).
    pub fn keyword(self) -> &'static str {
        match self {
            AdminState::Ready => "ready",
            AdminState::Drain => "drain",
            AdminState::Maint => "maint",
        }
    }
}

/// Errors from the server-state API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerStateError {
    /// A weight outside 0-256, or not 0 or the initial weight for a
    /// static algorithm.
    #[error("{server}: {source}")]
    Weight {
        /// `backend/server`.
        server: String,
        /// What the balancer said.
        source: proxy_balance::BalanceError,
    },
    /// Health checks cannot be enabled on a server without `check`.
    #[error("{0}: the server has no health check configured")]
    NoCheck(String),
}

/// A snapshot of a server's state, for statistics and `show servers state`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStatus {
    /// Administrative state.
    pub admin: AdminState,
    /// `disabled` in the configuration: HAProxy keeps this "configured
    /// maintenance" bit in the admin state column for good, even once the
    /// server is enabled at run time.
    pub config_maint: bool,
    /// Added at run time (`add server`).
    pub added: bool,
    /// Whether health checks (or their absence) say the server is up.
    pub up: bool,
    /// Whether the balancer may give it new traffic now.
    pub usable: bool,
    /// A backup server.
    pub backup: bool,
    /// Weight set by the configuration or `set server weight`.
    pub weight: u32,
    /// Weight from the configuration.
    pub initial_weight: u32,
    /// Weight the balancer uses when the server is usable (lower during
    /// `slowstart`); HAProxy shows it for a server down too, and in
    /// maintenance the one the server had when it entered (1 for a server
    /// added at run time).
    pub effective_weight: u32,
    /// Whether health checks are configured.
    pub check_configured: bool,
    /// Whether health checks run (configured and not disabled at run time).
    pub check_enabled: bool,
    /// Whether checks wait for the server to leave maintenance (also set,
    /// as in HAProxy, for a server `disabled` in the configuration without
    /// checks, and then never cleared).
    pub check_paused: bool,
    /// HAProxy's health counter: 0 to `rise + fall - 1`, up from `rise`.
    /// A server without checks starts at `rise` and drops to 0 for good
    /// the first time it goes into maintenance, as HAProxy's does.
    pub check_health: u32,
    /// `rise` and `fall`.
    pub check_rise_fall: (u32, u32),
    /// The last completed check.
    pub last_check: Option<CheckStatus>,
    /// Time since the last state change.
    pub since_change: Duration,
    /// Sessions in progress on the server.
    pub current_sessions: u32,
    /// Sessions since start.
    pub total_sessions: u64,
    /// Requests waiting in the server's own queue.
    pub queued: u32,
    /// `maxconn` in force (configured or set at run time), 0 for none.
    pub maxconn: u32,
    /// The `port` keyword (the port checks use), 0 without it.
    pub check_port: u16,
    /// Checks that failed since start.
    pub failed_checks: u64,
    /// Transitions from up to down since start.
    pub down_transitions: u64,
}

/// Mutable state of one server, behind [`ServerRt::inner`].
#[derive(Debug)]
struct Inner {
    admin: AdminState,
    up: bool,
    health: u32,
    check_enabled: bool,
    /// HAProxy's CHK_ST_PAUSED: checks enabled when the server went into
    /// maintenance wait until it leaves. A server added at run time starts
    /// in maintenance with its checks disabled, so `enable health` runs
    /// them at once, in maintenance, as HAProxy 2.6 does.
    check_paused: bool,
    last_check: Option<CheckStatus>,
    uweight: u32,
    last_change: Instant,
    /// Set while `slowstart` ramps the weight up after a return.
    warming_since: Option<Instant>,
    failed_checks: u64,
    down_transitions: u64,
    /// The weight shown while in maintenance: HAProxy does not update a
    /// server's effective weight there, so the statistics go on showing
    /// the one it had when it entered (its configured weight for
    /// `disabled`, 1 for a server added at run time), whatever `set
    /// weight` says meanwhile.
    frozen_weight: Option<u32>,
}

/// A server's run-time state and what depends on it.
#[derive(Debug)]
pub(crate) struct ServerRt {
    inner: Mutex<Inner>,
    /// Wakes the requests queued on this server when it goes down or into
    /// maintenance, so they can be redispatched.
    pub(crate) evicted: Notify,
    /// Wakes the server's check task when checks are re-enabled or the
    /// server leaves maintenance, so it checks at once.
    pub(crate) recheck: Notify,
    /// Set by `del server`: the server is out of the balancer and listings.
    deleted: AtomicBool,
    /// The `port` keyword's value (0 without it), listed by `show servers
    /// state` whether or not the server is checked, as HAProxy does.
    check_port: u16,
    /// `disabled` in the configuration (HAProxy's SRV_ADMF_CMAINT).
    config_maint: bool,
    /// Added at run time.
    added: bool,
}

impl ServerRt {
    /// The state at start: ready (or maint for `disabled`), up, with the
    /// check counter at `rise` (so the first failure takes it down, as in
    /// HAProxy); `rise` is the server's `rise` keyword, which HAProxy
    /// shows as the counter of a server without checks.
    pub(crate) fn new(
        disabled: bool,
        weight: u32,
        rise: u32,
        check: Option<&CheckConf>,
    ) -> ServerRt {
        ServerRt {
            inner: Mutex::new(Inner {
                admin: if disabled {
                    AdminState::Maint
                } else {
                    AdminState::Ready
                },
                up: true,
                // HAProxy zeroes the counter of a server in maintenance.
                health: if disabled {
                    0
                } else {
                    check.map_or(rise, |c| c.rise)
                },
                check_enabled: check.is_some(),
                check_paused: disabled,
                last_check: None,
                uweight: weight,
                last_change: Instant::now(),
                warming_since: None,
                failed_checks: 0,
                down_transitions: 0,
                frozen_weight: disabled.then_some(weight),
            }),
            evicted: Notify::new(),
            recheck: Notify::new(),
            deleted: AtomicBool::new(false),
            check_port: 0,
            config_maint: disabled,
            added: false,
        }
    }

    /// Records the server's `port` keyword.
    pub(crate) fn with_check_port(mut self, port: u16) -> ServerRt {
        self.check_port = port;
        self
    }

    /// The state of a server added at run time: in maintenance, and, as in
    /// HAProxy, with its checks (if configured) disabled until `enable
    /// health` and its health counter at 0.
    pub(crate) fn new_dynamic(weight: u32, check: Option<&CheckConf>) -> ServerRt {
        let mut rt = ServerRt::new(true, weight, 0, check);
        rt.config_maint = false;
        rt.added = true;
        {
            let mut i = lock(&rt.inner);
            i.check_enabled = false;
            i.check_paused = false;
            i.health = 0;
            // Not up until it leaves maintenance, so that `enable health`
            // leaves the counter at 0 as HAProxy's does.
            i.up = false;
            i.frozen_weight = Some(1);
        }
        rt
    }

    /// The administrative state.
    pub(crate) fn admin(&self) -> AdminState {
        lock(&self.inner).admin
    }

    /// Whether `del server` removed the server.
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// Marks the server removed by `del server`.
    pub(crate) fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
    }

    /// Whether checks should run now (enabled and not paused by
    /// maintenance).
    pub(crate) fn checks_active(&self) -> bool {
        let i = lock(&self.inner);
        i.check_enabled && !i.check_paused
    }

    /// Whether the server is down for checks, to pick `downinter`, and the
    /// health counter, to pick `fastinter`.
    pub(crate) fn health(&self) -> (bool, u32) {
        let i = lock(&self.inner);
        (i.up, i.health)
    }
}

/// The balancer state for a server's admin state and health.
fn balancer_state(i: &Inner) -> ServerState {
    match (i.admin, i.up) {
        (AdminState::Maint, _) => ServerState::Maint,
        (_, false) => ServerState::Down,
        (AdminState::Drain, true) => ServerState::Drain,
        (AdminState::Ready, true) => ServerState::Up,
    }
}

/// The weight the balancer should use: the user weight, ramped by
/// `slowstart` after a return (never below 1 while ramping, as in HAProxy).
fn effective_weight(i: &Inner, slowstart: Option<Duration>, now: Instant) -> u32 {
    let (Some(since), Some(ramp)) = (i.warming_since, slowstart) else {
        return i.uweight;
    };
    let elapsed = now.saturating_duration_since(since);
    if elapsed >= ramp || ramp.is_zero() {
        return i.uweight;
    }
    let num = u128::from(i.uweight) * elapsed.as_millis();
    let w = num.div_ceil(ramp.as_millis().max(1));
    u32::try_from(w)
        .unwrap_or(i.uweight)
        .clamp(1, i.uweight.max(1))
}

/// Pushes a server's state and weight into the balancer. Static algorithms
/// refuse intermediate weights; the ramp is then skipped, as HAProxy does.
fn sync_balancer(bal: &mut Balancer, s: &Server, i: &Inner, now: Instant) {
    let _ = bal.set_state(s.id, balancer_state(i));
    let w = effective_weight(i, s.slowstart, now);
    if bal.set_weight(s.id, w).is_err() {
        let _ = bal.set_weight(s.id, i.uweight);
    }
}

impl Backend {
    /// Usable servers as HAProxy's `nbsrv` counts them: the active ones,
    /// else the backups (all with `option allbackups`, the first otherwise).
    pub(crate) fn usable_servers(&self) -> u32 {
        let bal = lock(&self.balancer);
        let (act, bck) = counts(self, &bal);
        let n = if act > 0 {
            act
        } else if bal.config().allbackups {
            bck
        } else {
            bck.min(1)
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// Usable active and backup servers, as HAProxy counts them in its lines.
fn counts(be: &Backend, bal: &Balancer) -> (usize, usize) {
    let mut act = 0;
    let mut bck = 0;
    for s in &be.servers {
        if bal.is_usable(s.id).unwrap_or(false) {
            if s.backup {
                bck += 1;
            } else {
                act += 1;
            }
        }
    }
    (act, bck)
}

/// A line to log once the locks are released.
struct Line {
    level: u8,
    text: String,
}

/// Emits state lines to the backend's log targets, and on stderr when the
/// process runs in the foreground.
fn emit(be: &Backend, lines: &[Line]) {
    for l in lines {
        be.logger.emit_at(l.level, &l.text);
        if be.console.load(Ordering::Relaxed) {
            let (tag, text) = if l.level == LOG_EMERG {
                // HAProxy quotes the name on stderr only.
                (
                    "[ALERT]",
                    format!("backend '{}' has no server available!", be.name),
                )
            } else {
                ("[WARNING]", l.text.clone())
            };
            eprintln!("{tag:<10} ({}) : {text}", std::process::id());
        }
    }
}

/// What a change did to the queues, for the line's tail.
struct Moved {
    requeued: u32,
    remaining: u32,
}

/// Whether requests queued on a server that leaves are sent elsewhere:
/// always for maintenance, with `option redispatch` for a failure.
fn redistributes(be: &Backend, maint: bool) -> bool {
    maint || be.redispatch.is_some()
}

fn leave_tail(s: &Server, act: usize, bck: usize, moved: &Moved) -> String {
    let mut t = format!(". {act} active and {bck} backup servers left.");
    if act == 0 && bck > 0 {
        t.push_str(" Running on backup.");
    }
    t.push_str(&format!(
        " {} sessions active, {} requeued, {} remaining in queue.",
        s.counters.current(),
        moved.requeued,
        moved.remaining
    ));
    t
}

fn online_tail(be: &Backend, s: &Server, act: usize, bck: usize) -> String {
    let mut t = format!(". {act} active and {bck} backup servers online.");
    if act == 0 && bck > 0 {
        t.push_str(" Running on backup.");
    }
    // Requests waiting in the backend queue are handed to the server that
    // returns, up to its free slots.
    let waiting = be.queued.load(Ordering::Relaxed);
    let grabbed = waiting.min(u32::try_from(s.slots.available()).unwrap_or(u32::MAX));
    t.push_str(&format!(
        " {grabbed} sessions requeued, {} total in queue.",
        s.queued.load(Ordering::Relaxed)
    ));
    t
}

/// The "check duration" and reason part of a check line.
fn check_reason(st: &CheckStatus) -> String {
    let mut r = format!("reason: {}", st.code.reason());
    if let Some(code) = st.http_code {
        r.push_str(&format!(", code: {code}"));
    }
    if let Some(info) = &st.info {
        r.push_str(&format!(", info: \"{info}\""));
    }
    r.push_str(&format!(", check duration: {}ms", st.duration.as_millis()));
    r
}

/// Records a check result: moves HAProxy's health counter and, when it
/// crosses `rise` or reaches 0, marks the server up or down and logs it.
pub(crate) fn record_check(be: &Arc<Backend>, index: usize, st: CheckStatus) {
    let Some(s) = be.servers.get(index).filter(|s| !s.rt.is_deleted()) else {
        return;
    };
    let Some(conf) = &s.check else {
        return;
    };
    let (rise, fall) = (conf.rise.max(1), conf.fall.max(1));
    let max = rise + fall - 1;
    let now = Instant::now();
    let mut lines = Vec::new();
    let mut evict = false;
    let mut woke = false;
    {
        let mut bal = lock(&be.balancer);
        let before = counts(be, &bal);
        let mut i = lock(&s.rt.inner);
        if !i.check_enabled || i.check_paused {
            return;
        }
        let passed = st.code.passed();
        i.last_check = Some(st.clone());
        if passed {
            if i.health < max {
                i.health += 1;
                if i.health >= rise {
                    i.health = max;
                }
            }
        } else if i.health > 0 {
            i.failed_checks += 1;
            i.health -= 1;
            if i.health < rise {
                i.health = 0;
            }
        }
        if i.admin == AdminState::Maint {
            // Checked in maintenance (an added server): the counter moves,
            // the state waits for the server to leave maintenance.
            return;
        }
        if !i.up && i.health >= rise {
            i.up = true;
            i.last_change = now;
            i.warming_since = s.slowstart.map(|_| now);
            sync_balancer(&mut bal, s, &i, now);
            let (act, bck) = counts(be, &bal);
            lines.push(Line {
                level: LOG_NOTICE,
                text: format!(
                    "Server {}/{} is UP, {}{}",
                    be.name,
                    s.name,
                    check_reason(&st),
                    online_tail(be, s, act, bck)
                ),
            });
            woke = true;
        } else if i.up && i.health == 0 {
            i.up = false;
            i.last_change = now;
            i.warming_since = None;
            i.down_transitions += 1;
            sync_balancer(&mut bal, s, &i, now);
            let (act, bck) = counts(be, &bal);
            let queued = s.queued.load(Ordering::Relaxed);
            let moved = if redistributes(be, false) {
                Moved {
                    requeued: queued,
                    remaining: 0,
                }
            } else {
                Moved {
                    requeued: 0,
                    remaining: queued,
                }
            };
            evict = redistributes(be, false);
            lines.push(Line {
                level: LOG_ALERT,
                text: format!(
                    "Server {}/{} is DOWN, {}{}",
                    be.name,
                    s.name,
                    check_reason(&st),
                    leave_tail(s, act, bck, &moved)
                ),
            });
            if before.0 + before.1 > 0 && act + bck == 0 {
                lines.push(no_server(be));
            }
        }
    }
    emit(be, &lines);
    if evict {
        s.rt.evicted.notify_waiters();
    }
    if woke {
        be.queue.notify_waiters();
    }
}

fn no_server(be: &Backend) -> Line {
    Line {
        level: LOG_EMERG,
        text: format!("backend {} has no server available!", be.name),
    }
}

/// Sets a server's administrative state and logs the change as HAProxy does.
fn set_admin(be: &Arc<Backend>, index: usize, admin: AdminState) {
    let Some(s) = be.servers.get(index) else {
        return;
    };
    let now = Instant::now();
    let mut lines = Vec::new();
    let mut evict = false;
    let mut woke = false;
    let mut recheck = false;
    {
        let mut bal = lock(&be.balancer);
        let before = counts(be, &bal);
        let mut i = lock(&s.rt.inner);
        let old = i.admin;
        if old == admin {
            return;
        }
        i.admin = admin;
        i.last_change = now;
        if admin == AdminState::Maint {
            // A running server stopped for maintenance counts as a
            // transition to down, as in HAProxy.
            if i.up {
                i.down_transitions += 1;
            }
            i.frozen_weight = Some(effective_weight(&i, s.slowstart, now));
            // HAProxy pauses the checks and zeroes the counter, which for
            // a server without checks stays at 0 from then on.
            i.check_paused |= i.check_enabled;
            i.health = 0;
        }
        if old == AdminState::Maint {
            // Leaving maintenance: up at once, but one failed check takes
            // it down again; checks resume now. Without checks, the pause
            // set by `disabled` stays, as in HAProxy.
            if let Some(c) = &s.check {
                i.check_paused = false;
                if i.check_enabled {
                    i.health = c.rise;
                    recheck = true;
                }
            }
            i.up = true;
            i.frozen_weight = None;
            i.warming_since = s.slowstart.map(|_| now);
        }
        sync_balancer(&mut bal, s, &i, now);
        let (act, bck) = counts(be, &bal);
        let name = format!("{}/{}", be.name, s.name);
        match (old, admin) {
            (_, AdminState::Maint) => {
                let queued = s.queued.load(Ordering::Relaxed);
                evict = true;
                lines.push(Line {
                    level: LOG_ALERT,
                    text: format!(
                        "Server {name} is going DOWN for maintenance{}",
                        leave_tail(
                            s,
                            act,
                            bck,
                            &Moved {
                                requeued: queued,
                                remaining: 0
                            }
                        )
                    ),
                });
            }
            (AdminState::Maint, _) => {
                woke = true;
                let what = if admin == AdminState::Drain {
                    "DRAIN"
                } else {
                    "READY"
                };
                lines.push(Line {
                    level: LOG_NOTICE,
                    text: format!("Server {name} is UP/{what} (leaving forced maintenance)."),
                });
            }
            (_, AdminState::Drain) => {
                let mut t = format!("Server {name} enters drain state");
                t.push_str(&online_tail(be, s, act, bck));
                lines.push(Line {
                    level: LOG_NOTICE,
                    text: t,
                });
            }
            (AdminState::Drain, AdminState::Ready) => {
                woke = true;
                lines.push(Line {
                    level: LOG_NOTICE,
                    text: format!("Server {name} is UP (leaving forced drain)."),
                });
            }
            _ => {}
        }
        if before.0 + before.1 > 0 && act + bck == 0 {
            lines.push(no_server(be));
        }
    }
    emit(be, &lines);
    if evict {
        s.rt.evicted.notify_waiters();
    }
    if woke {
        be.queue.notify_waiters();
    }
    if recheck {
        s.rt.recheck.notify_one();
    }
}

/// Advances every `slowstart` ramp in the backend; true while one is still
/// ramping.
pub(crate) fn warm_up(be: &Backend) -> bool {
    let now = Instant::now();
    let mut any = false;
    let mut bal = lock(&be.balancer);
    for s in &be.servers {
        let mut i = lock(&s.rt.inner);
        if let (Some(since), Some(ramp)) = (i.warming_since, s.slowstart) {
            if now.saturating_duration_since(since) >= ramp {
                i.warming_since = None;
            } else {
                any = true;
            }
            sync_balancer(&mut bal, s, &i, now);
        }
    }
    any
}

/// A handle on a running (or built) engine's servers, for the statistics
/// page and the runtime API. Cheap to clone; every method takes effect at
/// once on the live engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    rt: Arc<Runtime>,
}

impl EngineHandle {
    pub(crate) fn new(rt: Arc<Runtime>) -> EngineHandle {
        EngineHandle { rt }
    }

    /// Pauses every listener, as HAProxy does on SIGTTOU: they stop
    /// listening (the ports stay bound) so that another process can take
    /// the addresses; connections in progress go on. Returns false when
    /// they were paused already.
    pub fn pause_listeners(&self) -> bool {
        self.rt.listeners.set_paused(true)
    }

    /// Resumes paused listeners, as HAProxy does on SIGTTIN. Returns false
    /// when they were not paused.
    pub fn resume_listeners(&self) -> bool {
        self.rt.listeners.set_paused(false)
    }

    /// Whether the listeners are paused.
    pub fn listeners_paused(&self) -> bool {
        self.rt.listeners.paused()
    }

    /// The server `server` of backend `backend`.
    pub fn server(&self, backend: &str, server: &str) -> Option<ServerRef> {
        let be = self.rt.backends.iter().find(|b| b.name == backend)?;
        let (index, _) = be.servers.live().find(|(_, s)| s.name == server)?;
        Some(ServerRef {
            be: Arc::clone(be),
            index,
        })
    }

    /// Every server, backends and servers in declaration order.
    pub fn servers(&self) -> Vec<ServerRef> {
        self.rt
            .backends
            .iter()
            .flat_map(|be| {
                be.servers.live().map(|(index, _)| ServerRef {
                    be: Arc::clone(be),
                    index,
                })
            })
            .collect()
    }

    /// Backend names in declaration order.
    pub fn backends(&self) -> Vec<String> {
        self.rt.backends.iter().map(|b| b.name.clone()).collect()
    }

    /// Requests waiting in backend `backend`'s own queue (not counting the
    /// servers' queues).
    pub fn backend_queued(&self, backend: &str) -> Option<u32> {
        let be = self.rt.backends.iter().find(|b| b.name == backend)?;
        Some(be.queued.load(Ordering::Relaxed))
    }
}

/// One server of a live engine.
#[derive(Debug, Clone)]
pub struct ServerRef {
    be: Arc<Backend>,
    index: usize,
}

impl ServerRef {
    /// The server at `index` in `be`'s list.
    pub(crate) fn at(be: &Arc<Backend>, index: usize) -> ServerRef {
        ServerRef {
            be: Arc::clone(be),
            index,
        }
    }

    fn srv(&self) -> Option<&Server> {
        self.be.servers.get(self.index)
    }

    /// Ends every stream using the server (`shutdown sessions server`);
    /// returns how many there were.
    pub(crate) fn shutdown_sessions(&self, registry: &super::streams::Registry) -> usize {
        registry.shutdown_server(&self.be, self.index)
    }

    /// The backend's name.
    pub fn backend(&self) -> &str {
        &self.be.name
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        self.srv().map_or("", |s| s.name.as_str())
    }

    /// The server's numeric id: 1 to N for the configured servers, the
    /// lowest free one for a server added at run time (as in HAProxy).
    pub fn id(&self) -> u32 {
        self.srv().map_or(0, |s| s.id.0)
    }

    /// The address traffic goes to (the port is 0 when it follows the
    /// client's destination port).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.srv().map_or_else(
            || std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
            |s| s.addr(std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
        )
    }

    /// Sets the administrative state (`set server B/S state ...`), logging
    /// the change as HAProxy does. Setting the current state does nothing.
    pub fn set_admin_state(&self, state: AdminState) {
        set_admin(&self.be, self.index, state);
    }

    /// Sets the weight (`set server B/S weight N`), 0 to 256; static
    /// algorithms accept only 0 or the initial weight.
    pub fn set_weight(&self, weight: u32) -> Result<(), ServerStateError> {
        let Some(s) = self.srv() else {
            return Ok(());
        };
        let err = |source| ServerStateError::Weight {
            server: format!("{}/{}", self.be.name, s.name),
            source,
        };
        let now = Instant::now();
        {
            let mut bal = lock(&self.be.balancer);
            let mut i = lock(&s.rt.inner);
            let old = i.uweight;
            i.uweight = weight;
            let w = effective_weight(&i, s.slowstart, now);
            if let Err(e) = bal.set_weight(s.id, w) {
                i.uweight = old;
                return Err(err(e));
            }
        }
        self.be.queue.notify_waiters();
        Ok(())
    }

    /// Sets the server's `maxconn` (`set maxconn server B/S N`; 0 removes
    /// the limit). A higher limit serves the requests queued on the server
    /// and on the backend at once; a lower one takes effect as streams end.
    pub fn set_maxconn(&self, maxconn: u32) {
        let Some(s) = self.srv() else {
            return;
        };
        {
            let mut bal = lock(&self.be.balancer);
            s.slots.set_maxconn(maxconn);
            // The balancer goes on from where it is (roundrobin keeps its
            // place in the sequence); only full servers are skipped anew.
            let _ = bal.set_maxconn(s.id, maxconn);
        }
        self.be.queue.notify_waiters();
    }

    /// Enables or disables health checks (`enable health` / `disable
    /// health`). As in HAProxy, the server keeps its state and its health
    /// counter: one that checks took down stays down until they take it up
    /// again.
    pub fn set_health_checks(&self, enabled: bool) -> Result<(), ServerStateError> {
        let Some(s) = self.srv() else {
            return Ok(());
        };
        if s.check.is_none() {
            return Err(ServerStateError::NoCheck(format!(
                "{}/{}",
                self.be.name, s.name
            )));
        }
        {
            let mut i = lock(&s.rt.inner);
            if i.check_enabled == enabled {
                return Ok(());
            }
            i.check_enabled = enabled;
        }
        if enabled {
            s.rt.recheck.notify_one();
        }
        Ok(())
    }

    /// The last completed health check, if any.
    pub fn check_status(&self) -> Option<CheckStatus> {
        self.srv()
            .and_then(|s| lock(&s.rt.inner).last_check.clone())
    }

    /// A snapshot of the whole state.
    pub fn status(&self) -> ServerStatus {
        let now = Instant::now();
        let Some(s) = self.srv() else {
            return ServerStatus {
                admin: AdminState::Maint,
                config_maint: false,
                added: false,
                up: false,
                usable: false,
                backup: false,
                weight: 0,
                initial_weight: 0,
                effective_weight: 0,
                check_configured: false,
                check_enabled: false,
                check_paused: false,
                check_health: 0,
                check_rise_fall: (0, 0),
                last_check: None,
                since_change: Duration::ZERO,
                current_sessions: 0,
                total_sessions: 0,
                queued: 0,
                maxconn: 0,
                check_port: 0,
                failed_checks: 0,
                down_transitions: 0,
            };
        };
        let bal = lock(&self.be.balancer);
        let usable = bal.is_usable(s.id).unwrap_or(false);
        let i = lock(&s.rt.inner);
        ServerStatus {
            admin: i.admin,
            config_maint: s.rt.config_maint,
            added: s.rt.added,
            up: i.up,
            usable,
            backup: s.backup,
            weight: i.uweight,
            initial_weight: s.initial_weight,
            effective_weight: i
                .frozen_weight
                .unwrap_or_else(|| effective_weight(&i, s.slowstart, now)),
            check_configured: s.check.is_some(),
            check_enabled: i.check_enabled,
            check_paused: i.check_paused,
            check_health: i.health,
            check_rise_fall: s.check.as_ref().map_or((0, 0), |c| (c.rise, c.fall)),
            last_check: i.last_check.clone(),
            since_change: now.saturating_duration_since(i.last_change),
            current_sessions: s.counters.current(),
            total_sessions: s.counters.total.load(Ordering::Relaxed),
            queued: s.queued.load(Ordering::Relaxed),
            maxconn: s.slots.maxconn(),
            check_port: s.rt.check_port,
            failed_checks: i.failed_checks,
            down_transitions: i.down_transitions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(uweight: u32, since: Option<Instant>) -> Inner {
        Inner {
            admin: AdminState::Ready,
            up: true,
            health: 2,
            check_enabled: true,
            check_paused: false,
            last_check: None,
            uweight,
            last_change: Instant::now(),
            warming_since: since,
            failed_checks: 0,
            down_transitions: 0,
            frozen_weight: None,
        }
    }

    #[test]
    fn slowstart_ramps_from_one_to_the_full_weight() {
        let t0 = Instant::now();
        let ramp = Some(Duration::from_secs(10));
        let i = inner(100, Some(t0));
        assert_eq!(effective_weight(&i, ramp, t0), 1);
        assert_eq!(effective_weight(&i, ramp, t0 + Duration::from_secs(5)), 50);
        assert_eq!(
            effective_weight(&i, ramp, t0 + Duration::from_secs(10)),
            100
        );
        assert_eq!(
            effective_weight(&i, ramp, t0 + Duration::from_secs(60)),
            100
        );
        assert_eq!(effective_weight(&i, None, t0), 100);
        assert_eq!(effective_weight(&inner(100, None), ramp, t0), 100);
    }

    #[test]
    fn balancer_state_follows_admin_then_health() {
        let mut i = inner(1, None);
        assert_eq!(balancer_state(&i), ServerState::Up);
        i.admin = AdminState::Drain;
        assert_eq!(balancer_state(&i), ServerState::Drain);
        i.up = false;
        assert_eq!(balancer_state(&i), ServerState::Down);
        i.admin = AdminState::Maint;
        assert_eq!(balancer_state(&i), ServerState::Maint);
    }
}
