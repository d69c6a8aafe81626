//! The runtime model: a [`Config`] compiled once into frontends (with their
//! compiled ACLs and `use_backend` rules), backends (with a balancer and live
//! server counters) and log targets. Everything here is read-only after build
//! except atomic counters, the balancers (each behind its own short mutex) and
//! the per-server idle connection pools.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use proxy_acl::{AclSet, CompiledCondition, NoFiles};
use proxy_balance::{
    Algorithm, Balancer, BalancerConfig, HashType, ServerId, ServerSpec, ServerState,
};
use proxy_config::{
    BindAddress, Config, ForwardFor, IpNet, Mode, OptionKind, Proxy, ServerHost, ServerPort, Span,
    TimeoutKind,
};
use tokio::sync::{Notify, Semaphore};

use super::error::BuildError;
use super::logging::{GlobalLogs, Logger};
use super::rules::{self, HttpRules};

/// Idle server connections kept per server for reuse.
const MAX_IDLE_PER_SERVER: usize = 64;

/// How long an idle server connection is kept (HAProxy's `pool-purge-delay`).
const IDLE_PURGE: Duration = Duration::from_secs(5);

/// Numbers the threads that pool server connections.
static POOL_THREADS: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// This thread's number among those that pool server connections.
    static POOL_THREAD: u32 = POOL_THREADS.fetch_add(1, Ordering::Relaxed);
}

/// A server connection kept for reuse.
#[derive(Debug)]
pub(crate) struct IdleConn {
    /// When it became idle.
    since: Instant,
    /// The thread that pooled it: its reactor watches the socket, so only
    /// that thread reuses it (elsewhere each event would cross threads).
    thread: u32,
    conn: super::stream::ServerStream,
}

/// HAProxy's default `retries`.
const DEFAULT_RETRIES: u32 = 3;

fn at(span: &Span) -> String {
    span.to_string()
}

/// Locks a mutex, recovering the data if a holder panicked: the guarded
/// state (a balancer, a pool) stays consistent between statements.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How HTTP connections are handled on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ConnMode {
    /// Both sides kept alive (the default).
    KeepAlive,
    /// Client side kept alive, server side closed after each response.
    ServerClose,
    /// Both sides closed after each response.
    Close,
}

impl ConnMode {
    /// The mode a proxy's own options ask for, if any.
    fn of(p: &Proxy) -> Option<ConnMode> {
        if p.option_enabled("httpclose") {
            Some(ConnMode::Close)
        } else if p.option_enabled("http-server-close") {
            Some(ConnMode::ServerClose)
        } else if p.option_enabled("http-keep-alive") {
            Some(ConnMode::KeepAlive)
        } else {
            None
        }
    }

    /// Frontend and backend options combine: the more closing one wins.
    pub(crate) fn combine(fe: Option<ConnMode>, be: Option<ConnMode>) -> ConnMode {
        fe.unwrap_or(ConnMode::KeepAlive)
            .max(be.unwrap_or(ConnMode::KeepAlive))
    }
}

/// `option forwardfor` as compiled.
#[derive(Debug, Clone)]
pub(crate) struct ForwardForRt {
    /// Sources that are not given the header.
    pub(crate) except: Option<IpNet>,
    /// Header name.
    pub(crate) header: String,
    /// Only when the request has no such header.
    pub(crate) if_none: bool,
}

impl ForwardForRt {
    fn of(p: &Proxy) -> Option<ForwardForRt> {
        let opt = p.option("forwardfor")?;
        if opt.negated {
            return None;
        }
        let OptionKind::ForwardFor(ForwardFor {
            except,
            header,
            if_none,
        }) = &opt.kind
        else {
            return None;
        };
        Some(ForwardForRt {
            except: *except,
            header: header.clone().unwrap_or_else(|| "X-Forwarded-For".into()),
            if_none: *if_none,
        })
    }

    /// Whether a client at `ip` is given the header.
    pub(crate) fn applies_to(&self, ip: IpAddr) -> bool {
        self.except.is_none_or(|net| !net_contains(&net, ip))
    }
}

/// Whether `ip` is inside `net` (IPv4-mapped IPv6 clients match IPv4 networks).
pub(crate) fn net_contains(net: &IpNet, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match (net.addr, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = u32::from(net.prefix.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = u32::from(net.prefix.min(128));
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// One listening address of a frontend.
#[derive(Debug, Clone)]
pub(crate) struct BindSpec {
    /// The address to bind (unspecified for `fd@N`).
    pub(crate) addr: SocketAddr,
    /// `fd@N`: an inherited listening socket to adopt instead of binding.
    pub(crate) fd: Option<u32>,
    /// `v6only`.
    pub(crate) v6only: bool,
    /// The `bind` line, for errors.
    pub(crate) at: String,
}

/// `capture request|response header NAME len N`.
#[derive(Debug, Clone)]
pub(crate) struct CaptureSpec {
    /// Header name.
    pub(crate) header: String,
    /// Maximum captured length.
    pub(crate) len: usize,
}

/// Live counters of a proxy or server.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Streams in progress.
    pub(crate) current: AtomicU32,
    /// Streams since start.
    pub(crate) total: AtomicU64,
    /// What the statistics show beyond these.
    pub(crate) traffic: super::stats_view::Traffic,
}

impl Counters {
    /// Counts one stream in; the guard counts it out.
    pub(crate) fn enter(self: &Arc<Self>) -> CounterGuard {
        let now = self
            .current
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        self.traffic.seen(now);
        self.total.fetch_add(1, Ordering::Relaxed);
        CounterGuard(Arc::clone(self))
    }

    /// Streams in progress now.
    pub(crate) fn current(&self) -> u32 {
        self.current.load(Ordering::Relaxed)
    }
}

/// Decrements a [`Counters::current`] when dropped.
#[derive(Debug)]
pub(crate) struct CounterGuard(Arc<Counters>);

impl Drop for CounterGuard {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A frontend (or the frontend half of a listen section).
#[derive(Debug)]
pub(crate) struct Frontend {
    /// Name.
    pub(crate) name: String,
    /// `mode`.
    pub(crate) mode: Mode,
    /// Listening addresses.
    pub(crate) binds: Vec<BindSpec>,
    /// `maxconn` (concurrent connections accepted).
    pub(crate) maxconn: Option<Arc<Semaphore>>,
    /// `timeout client`.
    pub(crate) timeout_client: Option<Duration>,
    /// `timeout http-request`.
    pub(crate) timeout_http_request: Option<Duration>,
    /// `timeout http-keep-alive`.
    pub(crate) timeout_keep_alive: Option<Duration>,
    /// Connection mode asked by the frontend's options.
    pub(crate) conn_mode: Option<ConnMode>,
    /// `option forwardfor`.
    pub(crate) forwardfor: Option<ForwardForRt>,
    /// `option h1-case-adjust-bogus-client`: the global `h1-case-adjust`
    /// table applied to heads sent to clients.
    pub(crate) case_adjust: Option<Arc<crate::h1::CaseAdjust>>,
    /// `option dontlognull`.
    pub(crate) dontlognull: bool,
    /// `option logasap`.
    pub(crate) logasap: bool,
    /// `capture request header` lines.
    pub(crate) req_captures: Vec<CaptureSpec>,
    /// `capture response header` lines.
    pub(crate) res_captures: Vec<CaptureSpec>,
    /// `errorfile` pages, by status.
    pub(crate) errorfiles: super::errorfiles::ErrorFiles,
    /// `use_backend` rules: condition and backend index.
    pub(crate) use_backends: Vec<(Option<CompiledCondition>, usize)>,
    /// `default_backend` (or the listen section itself).
    pub(crate) default_backend: Option<usize>,
    /// `monitor-uri`: requests for it are answered here, not logged.
    pub(crate) monitor_uri: Option<String>,
    /// `monitor fail` conditions: the monitor answers 503 when one holds.
    pub(crate) monitor_fail: Vec<CompiledCondition>,
    /// `http-request` rules.
    pub(crate) http_request: HttpRules,
    /// `http-response` rules.
    pub(crate) http_response: HttpRules,
    /// Log targets.
    pub(crate) logger: Logger,
    /// Live counters.
    pub(crate) counters: Arc<Counters>,
}

/// A server of a backend.
#[derive(Debug)]
pub(crate) struct Server {
    /// Name.
    pub(crate) name: String,
    /// Host part of the address, resolved.
    pub(crate) ip: IpAddr,
    /// Port part of the address.
    pub(crate) port: ServerPort,
    /// `maxconn`: the slots of this server, handed out in FIFO order.
    pub(crate) slots: super::slots::Slots,
    /// Requests waiting for a slot.
    pub(crate) queued: AtomicU32,
    /// Live counters.
    pub(crate) counters: Arc<Counters>,
    /// Idle connections kept for reuse, oldest first; each thread takes
    /// back only its own.
    pub(crate) idle: Mutex<Vec<IdleConn>>,
    /// Balancer id.
    pub(crate) id: ServerId,
    /// `backup`.
    pub(crate) backup: bool,
    /// `weight` from the configuration.
    pub(crate) initial_weight: u32,
    /// `maxqueue` (0: unlimited).
    pub(crate) maxqueue: u32,
    /// `slowstart`.
    pub(crate) slowstart: Option<Duration>,
    /// Health check settings, when `check` is on.
    pub(crate) check: Option<super::check::CheckConf>,
    /// Administrative state and health.
    pub(crate) rt: super::servers::ServerRt,
    /// `cookie VALUE`: the persistence cookie value naming this server.
    pub(crate) cookie: Option<String>,
}

impl Server {
    /// The address to connect to for a client that arrived on `dst`.
    pub(crate) fn addr(&self, dst: SocketAddr) -> SocketAddr {
        let port = match self.port {
            ServerPort::Fixed(p) => p,
            ServerPort::Same => dst.port(),
            ServerPort::Offset(off) => {
                let p = i64::from(dst.port()) + i64::from(off);
                u16::try_from(p.rem_euclid(65536)).unwrap_or(0)
            }
        };
        SocketAddr::new(self.ip, port)
    }

    /// Takes the most recently idle connection this thread pooled that is
    /// still usable.
    pub(crate) fn take_idle(&self) -> Option<super::stream::ServerStream> {
        let now = Instant::now();
        let me = POOL_THREAD.with(|t| *t);
        let mut idle = lock(&self.idle);
        while let Some(i) = idle.iter().rposition(|c| c.thread == me) {
            let c = idle.remove(i);
            if now.saturating_duration_since(c.since) < IDLE_PURGE && c.conn.is_reusable() {
                return Some(c.conn);
            }
            c.conn.reset();
        }
        None
    }

    /// Keeps a connection for reuse, first closing the ones idle for too
    /// long or closed by the server; dropped when the pool is full.
    pub(crate) fn put_idle(&self, s: super::stream::ServerStream) {
        // One clock reading for the whole pool, not one per connection.
        let now = Instant::now();
        let mut idle = lock(&self.idle);
        let mut i = 0;
        while i < idle.len() {
            let c = &idle[i];
            if now.saturating_duration_since(c.since) < IDLE_PURGE && c.conn.is_reusable() {
                i += 1;
            } else {
                idle.remove(i).conn.reset();
            }
        }
        if idle.len() < MAX_IDLE_PER_SERVER {
            idle.push(IdleConn {
                since: now,
                thread: POOL_THREAD.with(|t| *t),
                conn: s,
            });
        } else {
            s.reset();
        }
    }
}

/// A backend (or the backend half of a listen section).
#[derive(Debug)]
pub(crate) struct Backend {
    /// Name.
    pub(crate) name: String,
    /// `mode`.
    pub(crate) mode: Mode,
    /// Servers in declaration order, then those added at run time.
    pub(crate) servers: super::server_list::ServerList,
    /// Balancer over the servers, behind a short lock.
    pub(crate) balancer: Mutex<Balancer>,
    /// Server ids to indexes in [`Backend::servers`].
    pub(crate) ids: super::dynamic::ServerIds,
    /// Wakes requests queued on the backend when a slot frees up.
    pub(crate) queue: Notify,
    /// Requests waiting in the backend queue.
    pub(crate) queued: AtomicU32,
    /// `retries`.
    pub(crate) retries: u32,
    /// `option redispatch [interval]`.
    pub(crate) redispatch: Option<i32>,
    /// `option abortonclose`.
    pub(crate) abortonclose: bool,
    /// `timeout connect`.
    pub(crate) timeout_connect: Option<Duration>,
    /// `timeout server`.
    pub(crate) timeout_server: Option<Duration>,
    /// `timeout queue` (falls back on `timeout connect`).
    pub(crate) timeout_queue: Option<Duration>,
    /// `timeout tunnel`.
    pub(crate) timeout_tunnel: Option<Duration>,
    /// Connection mode asked by the backend's options.
    pub(crate) conn_mode: Option<ConnMode>,
    /// `option forwardfor`.
    pub(crate) forwardfor: Option<ForwardForRt>,
    /// `option h1-case-adjust-bogus-server`: the global `h1-case-adjust`
    /// table applied to heads sent to servers.
    pub(crate) case_adjust: Option<Arc<crate::h1::CaseAdjust>>,
    /// `http-request` rules (run after the frontend's).
    pub(crate) http_request: HttpRules,
    /// `http-response` rules (run before the frontend's).
    pub(crate) http_response: HttpRules,
    /// `balance hdr(NAME)`: the header to hash.
    pub(crate) hash_header: Option<String>,
    /// `errorfile` pages, by status.
    pub(crate) errorfiles: super::errorfiles::ErrorFiles,
    /// `cookie NAME insert ...`: cookie persistence.
    pub(crate) cookie: Option<super::cookie::CookieConf>,
    /// Live counters.
    pub(crate) counters: Arc<Counters>,
    /// Log targets, for server state changes.
    pub(crate) logger: Logger,
    /// Whether state changes are also printed on stderr (foreground).
    pub(crate) console: Arc<AtomicBool>,
    /// Check settings for servers added at run time, and the check tasks.
    pub(crate) checks: super::check::BackendChecks,
}

impl Backend {
    /// The server with balancer id `id` (HAProxy's numeric id: a server
    /// added at run time takes the lowest free one).
    pub(crate) fn server(&self, id: ServerId) -> Option<(usize, &Server)> {
        let i = self.ids.get(id)?;
        self.servers.get(i).filter(|s| s.id == id).map(|s| (i, s))
    }
}

/// The whole compiled configuration.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// Frontends in declaration order.
    pub(crate) frontends: Vec<Arc<Frontend>>,
    /// Backends in declaration order.
    pub(crate) backends: Vec<Arc<Backend>>,
    /// Global `maxconn`.
    pub(crate) maxconn: Option<Arc<Semaphore>>,
    /// Process-wide counters.
    pub(crate) counters: Arc<Counters>,
    /// `nbthread`.
    pub(crate) nbthread: usize,
    /// What the configuration asks that the engine does not do.
    pub(crate) warnings: Vec<String>,
    /// `spread-checks` percent.
    pub(crate) spread_checks: u32,
    /// Whether server state changes are printed on stderr.
    pub(crate) console: Arc<AtomicBool>,
    /// What the statistics and the runtime API need from the configuration.
    pub(crate) stats: super::stats_view::StatsModel,
    /// `SO_REUSEPORT` and the pause switch of the listeners.
    pub(crate) listeners: super::listen::ListenerControl,
    /// The `userlist`s, for `http_auth` and `http_auth_group`.
    pub(crate) users: super::auth::Userlists,
    /// The live streams, for `show sess` and `shutdown session`.
    pub(crate) streams: super::streams::Registry,
    /// The last invalid request of each frontend, for `show errors`.
    pub(crate) errors: super::errors::ErrorLog,
    /// Per-thread counters, for `show activity`.
    pub(crate) activity: super::activity::Activity,
}

impl Runtime {
    /// Compiles `config`.
    pub(crate) fn build(config: &Config) -> Result<Runtime, BuildError> {
        let logs = GlobalLogs::build(config)?;
        // HAProxy prints state changes on stderr unless it runs as a daemon.
        let console = Arc::new(AtomicBool::new(config.global.daemon.is_none()));
        let case = case_adjust(config)?;
        // Error pages read so far, by path: each file is read once.
        let mut pages = HashMap::new();
        let mut backends = Vec::new();
        let mut index = HashMap::new();
        for p in config.backends() {
            index.insert(p.name.value.clone(), backends.len());
            let mut be = build_backend(p, &logs, &console)?;
            be.errorfiles = super::errorfiles::ErrorFiles::build(p, &mut pages)?;
            if p.option_enabled("h1-case-adjust-bogus-server") {
                be.case_adjust = Some(Arc::clone(&case));
            }
            backends.push(Arc::new(be));
        }
        let mut frontends = Vec::new();
        for p in config.frontends() {
            let mut fe = build_frontend(&logs, p, &index, &backends)?;
            fe.errorfiles = super::errorfiles::ErrorFiles::build(p, &mut pages)?;
            if p.option_enabled("h1-case-adjust-bogus-client") {
                fe.case_adjust = Some(Arc::clone(&case));
            }
            frontends.push(Arc::new(fe));
        }
        let maxconn = config.global.maxconn.as_ref().map(|m| semaphore(m.value));
        let users = super::auth::Userlists::build(config);
        let nbthread = config
            .global
            .nbthread
            .as_ref()
            .and_then(|n| usize::try_from(n.value).ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(Runtime {
            frontends,
            backends,
            maxconn,
            counters: Arc::new(Counters::default()),
            nbthread,
            warnings: warnings(config)
                .into_iter()
                .chain(users.warnings().iter().cloned())
                .collect(),
            spread_checks: spread_checks(config),
            console,
            stats: super::stats_view::StatsModel::build(config)?,
            listeners: super::listen::ListenerControl::default(),
            users,
            streams: super::streams::Registry::default(),
            activity: super::activity::Activity::new(nbthread),
            errors: super::errors::ErrorLog::default(),
        })
    }
}

/// The global `h1-case-adjust` lines, then those of `h1-case-adjust-file`
/// (read now, as HAProxy reads it at startup).
fn case_adjust(config: &Config) -> Result<Arc<crate::h1::CaseAdjust>, BuildError> {
    let g = &config.global;
    let mut table = crate::h1::CaseAdjust::new();
    for c in &g.h1_case_adjust {
        let (from, to) = &c.value;
        table.insert(from, to).map_err(|e| BuildError::Invalid {
            at: at(&c.span),
            message: format!("h1-case-adjust: {e}"),
        })?;
    }
    if let Some(f) = &g.h1_case_adjust_file {
        let text = std::fs::read_to_string(&f.value).map_err(|source| BuildError::Io {
            at: at(&f.span),
            message: format!("h1-case-adjust-file '{}'", f.value.display()),
            source,
        })?;
        table
            .insert_file_text(&text)
            .map_err(|e| BuildError::Invalid {
                at: at(&f.span),
                message: format!("h1-case-adjust-file '{}': {e}", f.value.display()),
            })?;
    }
    Ok(Arc::new(table))
}

/// Directives the configuration accepts but this engine does not act on,
/// each as `file:line:col: what happens instead`.
fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for p in &config.proxies {
        let name = &p.name.value;
        for s in &p.servers {
            let o = p.server_options(&s.value);
            if let Some((k, _)) = o.other.iter().find(|(k, _)| k == "agent-check") {
                out.push(format!(
                    "{}: server '{name}/{}': '{k}' is not run; only the health check decides",
                    s.span, s.value.name
                ));
            }
        }
    }
    out
}

fn semaphore(n: u32) -> Arc<Semaphore> {
    let n = usize::try_from(n)
        .unwrap_or(Semaphore::MAX_PERMITS)
        .min(Semaphore::MAX_PERMITS);
    Arc::new(Semaphore::new(n))
}

fn build_frontend(
    logs: &GlobalLogs,
    p: &Proxy,
    index: &HashMap<String, usize>,
    backends: &[Arc<Backend>],
) -> Result<Frontend, BuildError> {
    let name = p.name.value.clone();
    let mode = p.effective_mode();
    if mode == Mode::Health {
        return Err(BuildError::Unsupported {
            at: at(&p.name.span),
            what: "mode health".into(),
        });
    }
    let mut binds = Vec::new();
    for b in &p.binds {
        let v6only = b.value.options.v6only;
        for a in &b.value.addresses {
            match a {
                BindAddress::Inet { ip, ports } => {
                    for port in ports.clone() {
                        binds.push(BindSpec {
                            addr: SocketAddr::new(*ip, port),
                            fd: None,
                            v6only,
                            at: at(&b.span),
                        });
                    }
                }
                BindAddress::Fd(fd) => binds.push(BindSpec {
                    addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                    fd: Some(*fd),
                    v6only,
                    at: at(&b.span),
                }),
                other => {
                    return Err(BuildError::Unsupported {
                        at: at(&b.span),
                        what: format!("bind address {other:?}"),
                    });
                }
            }
        }
        if b.value.options.ssl || b.value.options.accept_proxy {
            return Err(BuildError::Unsupported {
                at: at(&b.span),
                what: "bind options 'ssl' and 'accept-proxy'".into(),
            });
        }
    }
    let mut acls = AclSet::new();
    for a in &p.acls {
        acls.declare(&a.value.name, &a.value.expr, &NoFiles)
            .map_err(|source| BuildError::Acl {
                at: at(&a.span),
                source,
            })?;
    }
    let lookup = |name: &str, span: &Span| -> Result<usize, BuildError> {
        let i = *index.get(name).ok_or_else(|| BuildError::Invalid {
            at: at(span),
            message: format!("unable to find required backend '{name}'"),
        })?;
        let be = backends.get(i).ok_or_else(|| BuildError::Invalid {
            at: at(span),
            message: format!("unable to find required backend '{name}'"),
        })?;
        if be.mode != mode {
            return Err(BuildError::Invalid {
                at: at(span),
                message: format!(
                    "{} proxy '{}' cannot use {} backend '{}'",
                    mode.name(),
                    p.name.value,
                    be.mode.name(),
                    name
                ),
            });
        }
        Ok(i)
    };
    let mut use_backends = Vec::new();
    for u in &p.use_backends {
        if u.value.backend.contains('%') {
            return Err(BuildError::Unsupported {
                at: at(&u.span),
                what: "a log-format expression in use_backend".into(),
            });
        }
        let cond = match &u.value.condition {
            Some(c) => Some(
                acls.compile(c, &NoFiles)
                    .map_err(|source| BuildError::Acl {
                        at: at(&u.span),
                        source,
                    })?,
            ),
            None => None,
        };
        use_backends.push((cond, lookup(&u.value.backend, &u.span)?));
    }
    let monitor_fail = p
        .monitor_fail
        .iter()
        .map(|c| {
            acls.compile(&c.value, &NoFiles)
                .map_err(|source| BuildError::Acl {
                    at: at(&c.span),
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let default_backend = match (&p.default_backend, p.kind.is_backend()) {
        (Some(d), _) => Some(lookup(&d.value, &d.span)?),
        (None, true) => Some(lookup(&p.name.value, &p.name.span)?),
        (None, false) => None,
    };
    let captures = |request: bool| {
        p.captures
            .iter()
            .filter(|c| c.value.request == request)
            .map(|c| CaptureSpec {
                header: c.value.header.clone(),
                len: usize::try_from(c.value.len).unwrap_or(usize::MAX),
            })
            .collect::<Vec<_>>()
    };
    Ok(Frontend {
        mode,
        binds,
        maxconn: p.maxconn.as_ref().map(|m| semaphore(m.value)),
        timeout_client: p.timeout(TimeoutKind::Client),
        timeout_http_request: p.timeout(TimeoutKind::HttpRequest),
        timeout_keep_alive: p.timeout(TimeoutKind::HttpKeepAlive),
        conn_mode: ConnMode::of(p),
        forwardfor: ForwardForRt::of(p),
        case_adjust: None,
        dontlognull: p.option_enabled("dontlognull"),
        logasap: p.option_enabled("logasap"),
        req_captures: captures(true),
        res_captures: captures(false),
        errorfiles: super::errorfiles::ErrorFiles::default(),
        use_backends,
        default_backend,
        monitor_uri: p.monitor_uri.as_ref().map(|u| u.value.clone()),
        monitor_fail,
        http_request: rules::compile(&p.http_request, &acls)?,
        http_response: rules::compile(&p.http_response, &acls)?,
        logger: Logger::build(logs, p)?,
        counters: Arc::new(Counters::default()),
        name,
    })
}

fn algorithm(p: &Proxy) -> Result<(Algorithm, Option<String>), BuildError> {
    let Some(b) = &p.balance else {
        return Ok((Algorithm::RoundRobin, None));
    };
    let unsupported = |what: &str| BuildError::Unsupported {
        at: at(&b.span),
        what: what.into(),
    };
    if b.check_post {
        return Err(unsupported("balance url_param check_post"));
    }
    Ok(match &b.algorithm {
        Algorithm::RdpCookie { .. } => return Err(unsupported("balance rdp-cookie")),
        Algorithm::Hdr { name, .. } => (b.algorithm.clone(), Some(name.clone())),
        other => (other.clone(), None),
    })
}

fn hash_type(p: &Proxy) -> HashType {
    p.hash_type.as_ref().map(|h| h.value).unwrap_or_default()
}

/// `spread-checks N` from the global section (0 to 50 percent).
fn spread_checks(config: &Config) -> u32 {
    config
        .global
        .ignored
        .iter()
        .find(|w| w.value.first().is_some_and(|k| k == "spread-checks"))
        .and_then(|w| w.value.get(1)?.parse::<u32>().ok())
        .map_or(0, |n| n.min(50))
}

/// `retries`, or none when `retry-on` leaves out connection failures (its
/// default is `conn-failure`). Replaying a request after it was sent (the
/// other `retry-on` keywords) is not implemented, hence refused; TLS early
/// data does not exist here, so `0rtt-rejected` never applies.
fn connect_retries(p: &Proxy) -> Result<u32, BuildError> {
    let configured = p.retries.as_ref().map_or(DEFAULT_RETRIES, |r| r.value);
    let Some(on) = &p.retry_on else {
        return Ok(configured);
    };
    let layer7 = on
        .value
        .iter()
        .find(|k| !matches!(k.as_str(), "none" | "conn-failure" | "0rtt-rejected"));
    if let Some(k) = layer7 {
        return Err(BuildError::Unsupported {
            at: at(&on.span),
            what: format!("retry-on {k} (replaying a request once it was sent)"),
        });
    }
    Ok(if on.value.iter().any(|k| k == "conn-failure") {
        configured
    } else {
        0
    })
}

fn build_backend(
    p: &Proxy,
    logs: &GlobalLogs,
    console: &Arc<AtomicBool>,
) -> Result<Backend, BuildError> {
    let mode = p.effective_mode();
    let (algo, hash_header) = algorithm(p)?;
    let config = BalancerConfig::new(algo)
        .hash_type(hash_type(p))
        .allbackups(p.option_enabled("allbackups"));
    let mut servers = Vec::new();
    let mut specs = Vec::new();
    let mut by_id = HashMap::new();
    let check_kind = Arc::new(super::check::backend_kind(p)?);
    for (n, s) in p.servers.iter().enumerate() {
        let o = p.server_options(&s.value);
        let id = ServerId(u32::try_from(n + 1).unwrap_or(u32::MAX));
        let ip = match &s.value.address.host {
            ServerHost::Ip(ip) => *ip,
            ServerHost::Name(host) => resolve(host).map_err(|source| BuildError::Io {
                at: at(&s.span),
                message: format!("could not resolve address '{host}'"),
                source,
            })?,
            ServerHost::Unix(_) => {
                return Err(BuildError::Unsupported {
                    at: at(&s.span),
                    what: "a unix socket server address".into(),
                });
            }
        };
        if o.ssl == Some(true) || o.send_proxy == Some(true) || o.send_proxy_v2 == Some(true) {
            return Err(BuildError::Unsupported {
                at: at(&s.span),
                what: "server options 'ssl', 'send-proxy' and 'send-proxy-v2'".into(),
            });
        }
        let maxconn = o.maxconn.unwrap_or(0);
        let state = if o.disabled == Some(true) {
            ServerState::Maint
        } else {
            ServerState::Up
        };
        let check =
            super::check::server_conf(p, &o, &s.span, &check_kind, ip, s.value.address.port)?;
        let weight = o.weight.unwrap_or(1);
        let mut spec = ServerSpec::new(id.0)
            .weight(weight)
            .maxconn(maxconn)
            .state(state);
        if o.backup == Some(true) {
            spec = spec.backup();
        }
        specs.push(spec);
        by_id.insert(id, servers.len());
        servers.push(Server {
            name: s.value.name.clone(),
            ip,
            port: s.value.address.port,
            slots: super::slots::Slots::new(maxconn),
            queued: AtomicU32::new(0),
            counters: Arc::new(Counters::default()),
            idle: Mutex::new(Vec::new()),
            id,
            backup: o.backup == Some(true),
            initial_weight: weight,
            maxqueue: o.maxqueue.unwrap_or(0),
            slowstart: o.slowstart.filter(|d| !d.is_zero()),
            rt: super::servers::ServerRt::new(
                o.disabled == Some(true),
                weight,
                o.rise.unwrap_or(2).max(1),
                check.as_ref(),
            )
            .with_check_port(o.port.unwrap_or(0)),
            check,
            cookie: o.cookie.clone(),
        });
    }
    let balancer = Balancer::new(config, specs).map_err(|source| BuildError::Balance {
        at: at(&p.name.span),
        source,
    })?;
    let mut acls = AclSet::new();
    for a in &p.acls {
        acls.declare(&a.value.name, &a.value.expr, &NoFiles)
            .map_err(|source| BuildError::Acl {
                at: at(&a.span),
                source,
            })?;
    }
    let redispatch = match p.option("redispatch") {
        Some(o) if !o.negated => match o.kind {
            OptionKind::Redispatch { interval } => Some(interval.unwrap_or(-1)),
            _ => Some(-1),
        },
        _ => None,
    };
    Ok(Backend {
        checks: super::check::BackendChecks::new(Arc::clone(&check_kind), p),
        name: p.name.value.clone(),
        mode,
        servers: super::server_list::ServerList::new(servers),
        balancer: Mutex::new(balancer),
        ids: super::dynamic::ServerIds::new(by_id),
        queue: Notify::new(),
        queued: AtomicU32::new(0),
        retries: connect_retries(p)?,
        redispatch,
        abortonclose: p.option_enabled("abortonclose"),
        timeout_connect: p.timeout(TimeoutKind::Connect),
        timeout_server: p.timeout(TimeoutKind::Server),
        timeout_queue: p
            .timeout(TimeoutKind::Queue)
            .or_else(|| p.timeout(TimeoutKind::Connect)),
        timeout_tunnel: p.timeout(TimeoutKind::Tunnel),
        conn_mode: ConnMode::of(p),
        forwardfor: ForwardForRt::of(p),
        case_adjust: None,
        http_request: if p.kind.is_frontend() {
            HttpRules::default()
        } else {
            rules::compile(&p.http_request, &acls)?
        },
        http_response: if p.kind.is_frontend() {
            HttpRules::default()
        } else {
            rules::compile(&p.http_response, &acls)?
        },
        hash_header,
        errorfiles: super::errorfiles::ErrorFiles::default(),
        cookie: match &p.cookie {
            Some(c) if p.kind.is_backend() => Some(super::cookie::CookieConf::compile(c)?),
            _ => None,
        },
        counters: Arc::new(Counters::default()),
        logger: Logger::build(logs, p)?,
        console: Arc::clone(console),
    })
}

/// Resolves a server host name once, at start-up, as HAProxy does by default.
fn resolve(host: &str) -> std::io::Result<IpAddr> {
    (host, 0)
        .to_socket_addrs()?
        .next()
        .map(|a| a.ip())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str, prefix: u8) -> IpNet {
        IpNet {
            addr: s.parse().unwrap(),
            prefix,
        }
    }

    #[test]
    fn network_membership() {
        let n = net("127.0.0.0", 8);
        assert!(net_contains(&n, "127.1.2.3".parse().unwrap()));
        assert!(net_contains(&n, "::ffff:127.0.0.1".parse().unwrap()));
        assert!(!net_contains(&n, "128.0.0.1".parse().unwrap()));
        assert!(!net_contains(&n, "::1".parse().unwrap()));
        assert!(net_contains(
            &net("0.0.0.0", 0),
            "10.0.0.1".parse().unwrap()
        ));
        assert!(net_contains(&net("fe80::", 10), "fe80::1".parse().unwrap()));
        assert!(!net_contains(
            &net("fe80::", 10),
            "fec0::1".parse().unwrap()
        ));
    }

    #[test]
    fn connection_modes_combine_towards_closing() {
        use ConnMode::*;
        assert_eq!(ConnMode::combine(None, None), KeepAlive);
        assert_eq!(ConnMode::combine(Some(Close), Some(ServerClose)), Close);
        assert_eq!(
            ConnMode::combine(Some(KeepAlive), Some(ServerClose)),
            ServerClose
        );
        assert_eq!(ConnMode::combine(None, Some(Close)), Close);
    }

    /// A pooled server connection goes back only to the thread that pooled
    /// it (its reactor watches the socket).
    #[test]
    fn idle_connections_are_reused_by_the_thread_that_pooled_them() {
        let config =
            proxy_config::parse_str("t.cfg", "backend b\n    server s1 127.0.0.1:1\n", &|_| None)
                .unwrap()
                .config;
        let rt = Runtime::build(&config).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let tokio_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.backends[0].servers.get(0).unwrap();
        tokio_rt.block_on(async {
            let conn = super::super::stream::ServerStream::connect(addr)
                .await
                .unwrap();
            let (_accepted, _) = listener.accept().unwrap();
            server.put_idle(conn);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| server.take_idle().is_some());
                assert!(!other.join().unwrap(), "taken by another thread");
            });
            assert!(server.take_idle().is_some(), "not taken back");
            assert!(server.take_idle().is_none());
        });
    }
}
