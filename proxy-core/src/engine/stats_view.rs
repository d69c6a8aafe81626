//! Statistics over the live engine: the traffic counters the statistics
//! need (kept beside each proxy's and server's [`Counters`]), the
//! [`Snapshot`] taken from the runtime model, server administration (state,
//! weight) for the page's form and the runtime API, and the statistics page
//! and Prometheus exporter served by the proxy itself.
//!
//! Counters are updated once per transaction, when its log line is built,
//! so a stream counts whether or not a log target is configured.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use proxy_acl::{AclSet, CompiledCondition, NoFiles, OwnedRequest};
use proxy_config::{Config, Mode, Stats};
use std::sync::Arc;

use super::Engine;
use super::error::BuildError;
use super::model::{Backend, Counters, Frontend, Runtime, Server, lock};
use super::servers::{AdminState, EngineHandle, ServerRef, ServerStatus};
use crate::h1::RequestHead;
use crate::stats::{Info, ObjType, PageOptions, Row, ServerAction, Snapshot, Value, col};

/// Per-second rate and its maximum, kept with two atomics.
#[derive(Debug, Default)]
pub(crate) struct Rate {
    /// Second (since the engine started) the count belongs to, and the count.
    slot: AtomicU64,
    /// Highest count seen in one second.
    max: AtomicU32,
}

impl Rate {
    fn hit(&self, now: u64) {
        // The slot packs the second in the high 40 bits and the count in the
        // low 24: one atomic, no lock, exact enough for a statistics page.
        let mut cur = self.slot.load(Ordering::Relaxed);
        loop {
            let (sec, n) = (cur >> 24, cur & 0xff_ffff);
            let next = if sec == now {
                (now << 24) | (n + 1).min(0xff_ffff)
            } else {
                (now << 24) | 1
            };
            match self
                .slot
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    let n = u32::try_from(next & 0xff_ffff).unwrap_or(u32::MAX);
                    self.max.fetch_max(n, Ordering::Relaxed);
                    return;
                }
                Err(c) => cur = c,
            }
        }
    }

    fn current(&self, now: u64) -> u32 {
        let cur = self.slot.load(Ordering::Relaxed);
        if cur >> 24 == now || cur >> 24 == now.saturating_sub(1) {
            u32::try_from(cur & 0xff_ffff).unwrap_or(u32::MAX)
        } else {
            0
        }
    }

    fn max(&self) -> u32 {
        self.max.load(Ordering::Relaxed)
    }
}

/// Traffic counters of a frontend, backend or server.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    /// Highest number of concurrent streams.
    pub(crate) max: AtomicU32,
    /// Bytes received from clients.
    pub(crate) bytes_in: AtomicU64,
    /// Bytes sent to clients.
    pub(crate) bytes_out: AtomicU64,
    /// HTTP requests.
    pub(crate) requests: AtomicU64,
    /// Responses by class: 1xx to 5xx, then other.
    pub(crate) hrsp: [AtomicU64; 6],
    /// Requests denied by rules.
    pub(crate) denied_req: AtomicU64,
    /// Request errors (bad or timed-out requests).
    pub(crate) err_req: AtomicU64,
    /// Connection errors towards servers.
    pub(crate) err_conn: AtomicU64,
    /// Response errors from servers.
    pub(crate) err_resp: AtomicU64,
    /// Connection retries.
    pub(crate) retries: AtomicU64,
    /// Redispatches.
    pub(crate) redispatches: AtomicU64,
    /// Transfers aborted by the client.
    pub(crate) cli_abort: AtomicU64,
    /// Transfers aborted by the server.
    pub(crate) srv_abort: AtomicU64,
    /// Requests the proxy answered itself (stats page, exporter).
    pub(crate) intercepted: AtomicU64,
    /// Times the server was picked by the balancer.
    pub(crate) lbtot: AtomicU64,
    /// When the last stream was seen, in seconds since the engine started
    /// plus one (0: never).
    pub(crate) last_sess: AtomicU64,
    /// New streams per second.
    pub(crate) rate: Rate,
    /// HTTP requests per second.
    pub(crate) req_rate: Rate,
}

impl Traffic {
    /// Records a new concurrent count.
    pub(crate) fn seen(&self, current: u32) {
        self.max.fetch_max(current, Ordering::Relaxed);
        let now = clock();
        self.rate.hit(now);
        self.last_sess.store(now + 1, Ordering::Relaxed);
    }
}

fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

/// Seconds since the first use of the statistics clock (engine start).
///
/// Read from the coarse monotonic clock: whole seconds are all the rates
/// and `last_sess` keep, and it is read several times per request (the
/// precise clock costs a few times more, a measurable share of the CPU).
fn clock() -> u64 {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let now = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    let now = u64::try_from(now.tv_sec).unwrap_or(0);
    now.saturating_sub(*START.get_or_init(|| now))
}

/// What one finished transaction adds to the counters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// Status sent to the client (0 for TCP streams).
    pub(crate) status: u16,
    /// Bytes sent to the client.
    pub(crate) bytes_out: u64,
    /// Bytes received from the client, when known.
    pub(crate) bytes_in: u64,
    /// Termination state (cause, stream state).
    pub(crate) termination: [u8; 2],
    /// Connection retries and whether the stream was redispatched.
    pub(crate) retries: (u32, bool),
    /// An HTTP transaction (else a TCP stream).
    pub(crate) http: bool,
}

/// Counts `o` into `t`; `now` is [`clock`], read once per transaction.
fn count_into(t: &Traffic, o: &Outcome, now: u64) {
    add(&t.bytes_out, o.bytes_out);
    add(&t.bytes_in, o.bytes_in);
    if o.http {
        add(&t.requests, 1);
        t.req_rate.hit(now);
        let class = match o.status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 5,
        };
        if let Some(h) = t.hrsp.get(class) {
            add(h, 1);
        }
    }
}

/// Counts a finished transaction into its frontend, backend and server.
pub(crate) fn account(fe: &Frontend, be: Option<&Backend>, server: Option<&Server>, o: &Outcome) {
    let ft = &fe.counters.traffic;
    let now = clock();
    count_into(ft, o, now);
    let [cause, state] = o.termination;
    if cause == b'P' && state == b'R' && o.status == 403 {
        add(&ft.denied_req, 1);
    }
    if be.is_none() && matches!(o.status, 400 | 408) {
        add(&ft.err_req, 1);
    }
    for t in be
        .map(|b| &b.counters.traffic)
        .into_iter()
        .chain(server.map(|s| &s.counters.traffic))
    {
        count_into(t, o, now);
        add(&t.retries, u64::from(o.retries.0));
        if o.retries.1 {
            add(&t.redispatches, 1);
        }
        match (cause, state) {
            (b'S', b'C') => add(&t.err_conn, 1),
            (b'S', b'H') => add(&t.err_resp, 1),
            (b'S', b'D') => add(&t.srv_abort, 1),
            (b'C', b'D') => add(&t.cli_abort, 1),
            _ => {}
        }
    }
    if let Some(s) = server {
        add(&s.counters.traffic.lbtot, 1);
    }
}

/// Counts a request the proxy answered itself.
pub(crate) fn intercepted(fe: &Frontend) {
    add(&fe.counters.traffic.intercepted, 1);
}

/// `stats` settings of one proxy.
#[derive(Debug)]
pub(crate) struct Page {
    /// `stats uri` (default `/haproxy?stats`).
    uri: String,
    /// `stats realm`.
    realm: String,
    /// `stats auth` pairs.
    auth: Vec<(String, String)>,
    /// `stats admin` condition.
    admin: Option<CompiledCondition>,
    /// `stats hide-version`.
    hide_version: bool,
    /// `stats refresh`.
    refresh: Option<Duration>,
    /// `stats show-legends`.
    show_legends: bool,
    /// `stats show-node`.
    node: Option<String>,
    /// `stats show-desc`.
    desc: Option<String>,
    /// `stats scope`: proxies shown (all when empty).
    scope: Vec<String>,
}

/// What the statistics need from the configuration.
#[derive(Debug)]
pub(crate) struct StatsModel {
    /// Proxies in declaration order: name, has a frontend, has a backend.
    order: Vec<(String, bool, bool)>,
    /// Statistics pages, by proxy name.
    pages: HashMap<String, Page>,
    /// When the engine was built.
    started: SystemTime,
    /// Global `maxconn`, 0 when unset.
    maxconn: u32,
    /// The host name.
    node: String,
    /// `stats socket` lines.
    pub(crate) sockets: Vec<super::cli_exec::CliSpec>,
    /// Frontend `maxconn` in force, changed by `set maxconn frontend`.
    fe_limits: HashMap<String, AtomicU32>,
}

impl StatsModel {
    /// The numeric id (`iid`) of proxy `name`, as the statistics number
    /// proxies.
    pub(crate) fn proxy_id(&self, name: &str) -> Option<u32> {
        let i = self.order.iter().position(|(n, _, _)| n == name)?;
        u32::try_from(i + 2).ok()
    }

    /// The name of the proxy with numeric id `iid`.
    pub(crate) fn proxy_name(&self, iid: u32) -> Option<&str> {
        let i = usize::try_from(iid.checked_sub(2)?).ok()?;
        self.order.get(i).map(|(n, _, _)| n.as_str())
    }

    /// Collects the statistics settings of `config`.
    pub(crate) fn build(config: &Config) -> Result<StatsModel, BuildError> {
        let _ = clock();
        let mut order = Vec::new();
        let mut pages = HashMap::new();
        for p in &config.proxies {
            let name = p.name.value.clone();
            order.push((name.clone(), p.kind.is_frontend(), p.kind.is_backend()));
            if p.stats.is_empty() || p.effective_mode() != Mode::Http {
                continue;
            }
            let mut acls = AclSet::new();
            for a in &p.acls {
                acls.declare(&a.value.name, &a.value.expr, &NoFiles)
                    .map_err(|source| BuildError::Acl {
                        at: a.span.to_string(),
                        source,
                    })?;
            }
            let mut page = Page {
                uri: "/haproxy?stats".into(),
                realm: "HAProxy Statistics".into(),
                auth: Vec::new(),
                admin: None,
                hide_version: false,
                refresh: None,
                show_legends: false,
                node: None,
                desc: None,
                scope: Vec::new(),
            };
            for s in &p.stats {
                match &s.value {
                    Stats::Enable => {}
                    Stats::Uri(u) => page.uri.clone_from(u),
                    Stats::Realm(r) => page.realm.clone_from(r),
                    Stats::Auth { user, password } => {
                        page.auth.push((user.clone(), password.clone()));
                    }
                    Stats::Admin(c) => {
                        page.admin =
                            Some(
                                acls.compile(c, &NoFiles)
                                    .map_err(|source| BuildError::Acl {
                                        at: s.span.to_string(),
                                        source,
                                    })?,
                            );
                    }
                    Stats::HideVersion => page.hide_version = true,
                    Stats::Refresh(d) => page.refresh = Some(*d),
                    Stats::ShowLegends => page.show_legends = true,
                    Stats::ShowNode(n) => page.node = Some(n.clone().unwrap_or_else(hostname)),
                    Stats::ShowDesc(d) => page.desc = Some(d.clone().unwrap_or_default()),
                    Stats::Scope(sc) => page.scope.push(sc.clone()),
                }
            }
            pages.insert(name, page);
        }
        Ok(StatsModel {
            order,
            pages,
            started: SystemTime::now(),
            maxconn: config.global.maxconn.as_ref().map_or(0, |m| m.value),
            node: hostname(),
            sockets: super::cli_exec::specs(config),
            fe_limits: config
                .proxies
                .iter()
                .filter_map(|p| {
                    Some((
                        p.name.value.clone(),
                        AtomicU32::new(p.maxconn.as_ref()?.value),
                    ))
                })
                .collect(),
        })
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The version the statistics show.
pub(crate) fn version() -> String {
    format!("2.6-haproxyd-{}", env!("CARGO_PKG_VERSION"))
}

fn descriptor_limit() -> u32 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A server's status as the `status` column shows it: `UP`, `DOWN`,
/// `MAINT`, `DRAIN`, `no check`, or `UP 1/3` / `DOWN 1/2` while checks
/// are taking it down or up.
fn status_text(st: &ServerStatus) -> String {
    let (rise, fall) = st.check_rise_fall;
    match st.admin {
        AdminState::Maint => "MAINT".into(),
        AdminState::Drain => "DRAIN".into(),
        // A server checks took down stays down once they are disabled.
        _ if !st.check_enabled && st.up => "no check".into(),
        _ if !st.check_enabled => "DOWN".into(),
        _ if st.up && st.check_health + 1 < rise + fall => {
            format!(
                "UP {}/{}",
                st.check_health + 1 - rise.min(st.check_health + 1),
                fall
            )
        }
        _ if st.up => "UP".into(),
        _ if st.check_health > 0 => format!("DOWN {}/{}", st.check_health, rise),
        _ => "DOWN".into(),
    }
}

/// The `algo` column: HAProxy's name for the `balance` algorithm (2.6
/// has none for `random`, which it shows as `unknown`).
fn algo_name(a: &proxy_balance::Algorithm) -> &'static str {
    use proxy_balance::Algorithm as A;
    match a {
        A::RoundRobin => "roundrobin",
        A::StaticRr => "static-rr",
        A::LeastConn => "leastconn",
        A::First => "first",
        A::Source => "source",
        A::Uri(_) => "uri",
        A::UrlParam { .. } => "url_param",
        A::Hdr { .. } => "hdr",
        A::RdpCookie { .. } => "rdp-cookie",
        _ => "unknown",
    }
}

fn traffic_cols(r: &mut Row, c: &Counters, now: u64) {
    let t = &c.traffic;
    r.set(col::SCUR, Value::U32(c.current()));
    r.set(col::SMAX, Value::U32(t.max.load(Ordering::Relaxed)));
    r.set(col::STOT, Value::U64(c.total.load(Ordering::Relaxed)));
    r.set(col::BIN, Value::U64(get(&t.bytes_in)));
    r.set(col::BOUT, Value::U64(get(&t.bytes_out)));
    r.set(col::RATE, Value::U32(t.rate.current(now)));
    r.set(col::RATE_MAX, Value::U32(t.rate.max()));
    let h = [
        col::HRSP_1XX,
        col::HRSP_2XX,
        col::HRSP_3XX,
        col::HRSP_4XX,
        col::HRSP_5XX,
        col::HRSP_OTHER,
    ];
    for (c, a) in h.into_iter().zip(&t.hrsp) {
        r.set(c, Value::U64(get(a)));
    }
}

fn backend_cols(r: &mut Row, t: &Traffic, now: u64) {
    r.set(col::ECON, Value::U64(get(&t.err_conn)));
    r.set(col::ERESP, Value::U64(get(&t.err_resp)));
    r.set(col::WRETR, Value::U64(get(&t.retries)));
    r.set(col::WREDIS, Value::U64(get(&t.redispatches)));
    r.set(col::CLI_ABRT, Value::U64(get(&t.cli_abort)));
    r.set(col::SRV_ABRT, Value::U64(get(&t.srv_abort)));
    let last = t.last_sess.load(Ordering::Relaxed);
    r.set(
        col::LASTSESS,
        Value::S32(if last == 0 {
            -1
        } else {
            i32::try_from(now + 1 - last.min(now + 1)).unwrap_or(i32::MAX)
        }),
    );
}

/// Takes a snapshot of every proxy and server.
pub(crate) fn snapshot(rt: &Arc<Runtime>) -> Snapshot {
    let m = &rt.stats;
    let now = clock();
    let mut rows = Vec::new();
    let mut total_out = 0u64;
    let mut cum_req = 0u64;
    for (i, (name, is_fe, is_be)) in m.order.iter().enumerate() {
        let iid = u32::try_from(i + 2).unwrap_or(u32::MAX);
        if *is_fe {
            if let Some(fe) = rt.frontends.iter().find(|f| &f.name == name) {
                let mut r = Row::new(ObjType::Frontend, name, "FRONTEND", iid, 0);
                traffic_cols(&mut r, &fe.counters, now);
                let t = &fe.counters.traffic;
                total_out += get(&t.bytes_out);
                cum_req += get(&t.requests);
                // HAProxy's frontend limit defaults to the global maxconn.
                let slim = m
                    .fe_limits
                    .get(name)
                    .map_or(m.maxconn, |l| l.load(Ordering::Relaxed));
                r.set(col::SLIM, Value::U32(slim));
                r.set(col::DREQ, Value::U64(get(&t.denied_req)));
                r.set(col::EREQ, Value::U64(get(&t.err_req)));
                r.set(col::STATUS, Value::Str("OPEN".into()));
                r.set(col::REQ_RATE, Value::U32(t.req_rate.current(now)));
                r.set(col::REQ_RATE_MAX, Value::U32(t.req_rate.max()));
                r.set(col::REQ_TOT, Value::U64(get(&t.requests)));
                r.set(col::MODE, Value::Str(fe.mode.name().into()));
                r.set(col::CONN_RATE, Value::U32(t.rate.current(now)));
                r.set(col::CONN_RATE_MAX, Value::U32(t.rate.max()));
                r.set(
                    col::CONN_TOT,
                    Value::U64(fe.counters.total.load(Ordering::Relaxed)),
                );
                r.set(col::INTERCEPTED, Value::U64(get(&t.intercepted)));
                r.set(
                    col::H1_TOTAL_CONNECTIONS,
                    Value::U64(fe.counters.total.load(Ordering::Relaxed)),
                );
                r.set(
                    col::H1_OPEN_CONNECTIONS,
                    Value::U64(u64::from(fe.counters.current())),
                );
                rows.push(r);
            }
        }
        if *is_be {
            if let Some(be) = rt.backends.iter().find(|b| &b.name == name) {
                let mut act = 0u32;
                let mut bck = 0u32;
                let mut weight = 0u32;
                let mut queued = 0u32;
                for (index, s) in be.servers.live() {
                    let sref = ServerRef::at(be, index);
                    let st = sref.status();
                    let mut r = Row::new(ObjType::Server, name, &s.name, iid, sref.id());
                    traffic_cols(&mut r, &s.counters, now);
                    backend_cols(&mut r, &s.counters.traffic, now);
                    queued += st.queued;
                    r.set(col::QCUR, Value::U32(st.queued));
                    r.set(
                        col::SLIM,
                        if st.maxconn > 0 {
                            Value::U32(st.maxconn)
                        } else {
                            Value::Empty
                        },
                    );
                    r.set(col::STATUS, Value::Str(status_text(&st)));
                    r.set(col::WEIGHT, Value::U32(st.effective_weight));
                    r.set(col::UWEIGHT, Value::U32(st.weight));
                    r.set(col::ACT, Value::U32(u32::from(!st.backup)));
                    r.set(col::BCK, Value::U32(u32::from(st.backup)));
                    if st.usable {
                        if st.backup {
                            bck += 1;
                        } else {
                            act += 1;
                            weight += st.effective_weight;
                        }
                    }
                    let since = st.since_change.as_secs();
                    r.set(
                        col::LASTCHG,
                        Value::U32(u32::try_from(since).unwrap_or(u32::MAX)),
                    );
                    r.set(col::LBTOT, Value::U64(get(&s.counters.traffic.lbtot)));
                    r.set(col::MODE, Value::Str(be.mode.name().into()));
                    r.set(col::ADDR, Value::Str(sref.addr().to_string()));
                    r.set(col::CONNECT, Value::U64(st.total_sessions));
                    // HAProxy leaves a configured server's idle connection
                    // limit unset (no limit) and gives an added one 0.
                    if st.added {
                        r.set(col::SRC_ILIM, Value::U32(0));
                    }
                    // As HAProxy: the counters while checks are enabled, the
                    // rest only while they run (not paused by maintenance).
                    if st.check_enabled {
                        r.set(col::CHKFAIL, Value::U64(st.failed_checks));
                        r.set(col::CHKDOWN, Value::U64(st.down_transitions));
                    }
                    if st.check_enabled && !st.check_paused {
                        let (rise, fall) = st.check_rise_fall;
                        r.set(col::CHECK_RISE, Value::U32(rise));
                        r.set(col::CHECK_FALL, Value::U32(fall));
                        r.set(col::CHECK_HEALTH, Value::U32(st.check_health));
                        if let Some(c) = &st.last_check {
                            let text = c.code.abbrev().to_string();
                            if let Some(code) = c.http_code {
                                r.set(col::CHECK_CODE, Value::U32(u32::from(code)));
                            }
                            r.set(col::CHECK_STATUS, Value::Str(text));
                            r.set(
                                col::CHECK_DURATION,
                                Value::U64(
                                    u64::try_from(c.duration.as_millis()).unwrap_or(u64::MAX),
                                ),
                            );
                            r.set(col::CHECK_DESC, Value::Str(c.code.reason().into()));
                            r.set(
                                col::LAST_CHK,
                                Value::Str(c.info.clone().unwrap_or_default()),
                            );
                        }
                    }
                    rows.push(r);
                }
                let mut r = Row::new(ObjType::Backend, name, "BACKEND", iid, 0);
                traffic_cols(&mut r, &be.counters, now);
                backend_cols(&mut r, &be.counters.traffic, now);
                let q = be.queued.load(Ordering::Relaxed) + queued;
                r.set(col::QCUR, Value::U32(q));
                // HAProxy's default `fullconn`: a tenth of the connections the
                // frontends may bring.
                if m.maxconn > 0 {
                    r.set(col::SLIM, Value::U32(m.maxconn.div_ceil(10)));
                }
                r.set(
                    col::STATUS,
                    Value::Str(
                        if act + bck > 0 || be.servers.is_empty() {
                            "UP"
                        } else {
                            "DOWN"
                        }
                        .into(),
                    ),
                );
                r.set(col::WEIGHT, Value::U32(weight));
                r.set(col::UWEIGHT, Value::U32(weight));
                r.set(col::ACT, Value::U32(act));
                r.set(col::BCK, Value::U32(bck));
                r.set(
                    col::LASTCHG,
                    Value::U32(u32::try_from(now).unwrap_or(u32::MAX)),
                );
                if !be.servers.is_empty() {
                    r.set(col::DOWNTIME, Value::U32(0));
                }
                r.set(
                    col::LBTOT,
                    Value::U64(
                        be.servers
                            .iter()
                            .map(|s| get(&s.counters.traffic.lbtot))
                            .sum(),
                    ),
                );
                r.set(col::REQ_TOT, Value::U64(get(&be.counters.traffic.requests)));
                r.set(col::MODE, Value::Str(be.mode.name().into()));
                let algo = algo_name(&lock(&be.balancer).config().algorithm);
                r.set(col::ALGO, Value::Str(algo.into()));
                r.set(
                    col::CONNECT,
                    Value::U64(
                        be.servers
                            .iter()
                            .map(|s| s.counters.total.load(Ordering::Relaxed))
                            .sum(),
                    ),
                );
                rows.push(r);
            }
        }
    }
    let uptime = m.started.elapsed().unwrap_or_default();
    let listeners: usize = rt.frontends.iter().map(|f| f.binds.len()).sum();
    Snapshot {
        info: Info {
            version: version(),
            release_date: "2023/03/10".into(),
            nbthread: u32::try_from(rt.nbthread).unwrap_or(u32::MAX),
            pid: std::process::id(),
            uptime,
            start_time_sec: m
                .started
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            ulimit_n: descriptor_limit(),
            maxconn: m.maxconn,
            curr_conns: rt.counters.current(),
            cum_conns: rt.counters.total.load(Ordering::Relaxed),
            cum_req,
            max_conn_rate: rt.counters.traffic.rate.max(),
            conn_rate: rt.counters.traffic.rate.current(now),
            node: m.node.clone(),
            stopping: false,
            listeners: u32::try_from(listeners).unwrap_or(u32::MAX),
            total_bytes_out: total_out,
            dropped_logs: 0,
        },
        rows,
    }
}

/// Why a server administration request failed, in HAProxy's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdminError {
    /// `No such backend.`
    NoBackend,
    /// `No such server.`
    NoServer,
    /// Another refusal, with HAProxy's message.
    Other(String),
}

impl AdminError {
    /// The message, as the runtime API prints it.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::NoBackend => "No such backend.".into(),
            Self::NoServer => "No such server.".into(),
            Self::Other(m) => m.clone(),
        }
    }
}

/// Finds a backend's server, telling a missing backend from a missing
/// server as HAProxy does.
pub(crate) fn server_ref(
    rt: &Arc<Runtime>,
    backend: &str,
    server: &str,
) -> Result<ServerRef, AdminError> {
    if !rt.backends.iter().any(|b| b.name == backend) {
        return Err(AdminError::NoBackend);
    }
    EngineHandle::new(Arc::clone(rt))
        .server(backend, server)
        .ok_or(AdminError::NoServer)
}

/// Sets a server's administrative state: ready, drain or maint.
pub(crate) fn set_state(
    rt: &Arc<Runtime>,
    backend: &str,
    server: &str,
    state: AdminState,
) -> Result<(), AdminError> {
    server_ref(rt, backend, server)?.set_admin_state(state);
    Ok(())
}

/// Current and initial weight of a server.
pub(crate) fn weights(
    rt: &Arc<Runtime>,
    backend: &str,
    server: &str,
) -> Result<(u32, u32), AdminError> {
    let st = server_ref(rt, backend, server)?.status();
    Ok((st.weight, st.initial_weight))
}

/// `set weight`: `N` (0 to 256) or `N%` of the initial weight.
pub(crate) fn set_weight(
    rt: &Arc<Runtime>,
    backend: &str,
    server: &str,
    value: &str,
) -> Result<(), AdminError> {
    let sref = server_ref(rt, backend, server)?;
    let initial = sref.status().initial_weight;
    let weight = if let Some(p) = value.strip_suffix('%') {
        let p: u64 = p.parse().map_err(|_| {
            AdminError::Other("Relative weight can only be set from 0 to 100% inclusive.".into())
        })?;
        if p > 100 {
            return Err(AdminError::Other(
                "Relative weight can only be set from 0 to 100% inclusive.".into(),
            ));
        }
        u32::try_from(u64::from(initial) * p / 100).unwrap_or(256)
    } else {
        let w: u32 = value.parse().map_err(|_| {
            AdminError::Other("Empty weight string empty or preceded by garbage".into())
        })?;
        if w > 256 {
            return Err(AdminError::Other(
                "Absolute weight can only be between 0 and 256 inclusive.".into(),
            ));
        }
        w
    };
    sref.set_weight(weight).map_err(|_| {
        AdminError::Other(
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'."
                .into(),
        )
    })
}

/// Enables or disables a server's health checks.
pub(crate) fn set_checks(
    rt: &Arc<Runtime>,
    backend: &str,
    server: &str,
    enabled: bool,
) -> Result<(), AdminError> {
    server_ref(rt, backend, server)?
        .set_health_checks(enabled)
        .map_err(|_| {
            AdminError::Other(format!(
                "Health check was not configured on this server, cannot {}.",
                if enabled { "enable" } else { "disable" }
            ))
        })
}

/// `set maxconn frontend`: grows or shrinks the frontend's connection
/// semaphore. Shrinking takes effect as connections end.
pub(crate) fn set_frontend_maxconn(rt: &Runtime, fe: &Frontend, v: u32) -> String {
    let (Some(sem), Some(cur)) = (fe.maxconn.as_ref(), rt.stats.fe_limits.get(&fe.name)) else {
        return "haproxyd can only change the maxconn of a frontend that sets one.\n".into();
    };
    if v == 0 {
        return "Value out of range.\n".into();
    }
    let old = cur.swap(v, Ordering::Relaxed);
    let (old, new) = (
        usize::try_from(old).unwrap_or(0),
        usize::try_from(v).unwrap_or(0),
    );
    if new > old {
        sem.add_permits(new - old);
    } else {
        sem.forget_permits(old - new);
    }
    String::new()
}

impl Engine {
    /// A snapshot of every proxy's and server's statistics, in HAProxy's
    /// row order, for the renderers of [`crate::stats`].
    pub fn snapshot(&self) -> Snapshot {
        snapshot(&self.rt)
    }
}

/// A raw HTTP/1.1 response with a body.
fn response(status: u16, reason: &str, ctype: &str, extra: &str, body: &[u8]) -> Bytes {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// The Prometheus exporter's answer.
pub(crate) fn prometheus(rt: &Arc<Runtime>) -> (u16, Bytes) {
    let text = crate::stats::render_prometheus(&snapshot(rt));
    (
        200,
        response(200, "OK", "text/plain; version=0.0.4", "", text.as_bytes()),
    )
}

/// Decodes standard base64 (for `Authorization: Basic`).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    Some(out)
}

fn authorized(page: &Page, head: &RequestHead) -> bool {
    if page.auth.is_empty() {
        return true;
    }
    let Some(v) = head.headers().get(b"authorization") else {
        return false;
    };
    let v = String::from_utf8_lossy(v);
    let Some(b64) = v
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, c)| c.trim())
    else {
        return false;
    };
    let Some(cred) = base64_decode(b64) else {
        return false;
    };
    let cred = String::from_utf8_lossy(&cred);
    page.auth
        .iter()
        .any(|(u, p)| cred.split_once(':') == Some((u.as_str(), p.as_str())))
}

/// The statistics page of the frontend or backend, if `head` asks for it.
pub(crate) fn page_for(
    rt: &Runtime,
    fe: &Frontend,
    be: Option<&Backend>,
    head: &RequestHead,
) -> Option<String> {
    let target = String::from_utf8_lossy(head.target());
    [Some(fe.name.as_str()), be.map(|b| b.name.as_str())]
        .into_iter()
        .flatten()
        .find_map(|n| {
            let (name, page) = rt.stats.pages.get_key_value(n)?;
            target.starts_with(&page.uri).then(|| name.clone())
        })
}

fn form_value(body: &str, key: &str) -> Vec<String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| url_decode(v))
        .collect()
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(c),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves the statistics page `name` for `head` (with the body of a POSTed
/// admin form): the page, its CSV export, a 401 asking for credentials, or
/// the 303 after an admin action.
pub(crate) fn serve_page(
    rt: &Arc<Runtime>,
    name: &str,
    head: &RequestHead,
    src: std::net::SocketAddr,
    body: Option<&[u8]>,
) -> (u16, Bytes) {
    let Some(page) = rt.stats.pages.get(name) else {
        return (503, Bytes::from_static(crate::h1::error_page(503)));
    };
    if let Some(fe) = rt.frontends.iter().find(|f| f.name == name) {
        add(&fe.counters.traffic.intercepted, 1);
    }
    if !authorized(page, head) {
        let body = b"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
        let realm = page.realm.replace('"', "\\\"");
        return (
            401,
            response(
                401,
                "Unauthorized",
                "text/html",
                &format!("www-authenticate: Basic realm=\"{realm}\"\r\n"),
                body,
            ),
        );
    }
    let target = String::from_utf8_lossy(head.target()).into_owned();
    let opts_part = target.get(page.uri.len()..).unwrap_or("");
    let admin = page.admin.as_ref().is_some_and(|c| {
        let mut req = OwnedRequest::new(&String::from_utf8_lossy(head.method()), &target);
        req.src = Some(src);
        for (n, v) in head.headers().iter() {
            req = req.header(&String::from_utf8_lossy(n), &String::from_utf8_lossy(v));
        }
        c.evaluate(&req)
    });
    if head.method() == b"POST" {
        let st = if admin {
            apply_form(
                rt,
                body.map(String::from_utf8_lossy).as_deref().unwrap_or(""),
            )
        } else {
            "DENY"
        };
        let loc = format!("location: {};st={st}\r\n", page.uri);
        return (303, response(303, "See Other", "text/plain", &loc, b""));
    }
    let mut snap = snapshot(rt);
    if !page.scope.is_empty() {
        snap.rows
            .retain(|r| page.scope.iter().any(|s| s == r.pxname()));
    }
    if opts_part.contains(";up") {
        snap.rows.retain(|r| {
            r.obj != ObjType::Server
                || !r.text(col::STATUS).starts_with("DOWN")
                    && !r.text(col::STATUS).starts_with("MAINT")
        });
    }
    if opts_part.contains(";csv") {
        let csv = crate::stats::render_csv(&snap.rows);
        return (200, response(200, "OK", "text/plain", "", csv.as_bytes()));
    }
    let status = opts_part
        .split(';')
        .find_map(|p| p.strip_prefix("st="))
        .map(String::from);
    let opts = PageOptions {
        uri: page.uri.clone(),
        hide_version: page.hide_version,
        refresh: page.refresh.filter(|_| !opts_part.contains(";norefresh")),
        show_legends: page.show_legends,
        node: page.node.clone(),
        desc: page.desc.clone(),
        admin,
        status,
    };
    let html = crate::stats::render_html(&snap, &opts);
    (200, response(200, "OK", "text/html", "", html.as_bytes()))
}

/// Applies a POSTed admin form: `s` (servers), `action`, `b` (`#<iid>` or a
/// backend name). Returns the page's outcome code.
fn apply_form(rt: &Arc<Runtime>, body: &str) -> &'static str {
    let action = form_value(body, "action").into_iter().next();
    let Some(action) = action.as_deref().and_then(ServerAction::from_value) else {
        return "ERRP";
    };
    let Some(b) = form_value(body, "b").into_iter().next() else {
        return "ERRP";
    };
    let backend = match b.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
        Some(iid) => rt
            .stats
            .order
            .get(iid.saturating_sub(2))
            .map(|o| o.0.clone()),
        None => Some(b),
    };
    let Some(backend) = backend else {
        return "ERRP";
    };
    let servers = form_value(body, "s");
    if servers.is_empty() {
        return "NONE";
    }
    let mut done = 0;
    for s in &servers {
        let r = match action {
            ServerAction::Ready => set_state(rt, &backend, s, AdminState::Ready),
            ServerAction::Drain => set_state(rt, &backend, s, AdminState::Drain),
            ServerAction::Maint => set_state(rt, &backend, s, AdminState::Maint),
            ServerAction::DisableHealth => set_checks(rt, &backend, s, false),
            ServerAction::EnableHealth => set_checks(rt, &backend, s, true),
            ServerAction::Shutdown => server_ref(rt, &backend, s).map(|r| {
                r.shutdown_sessions(&rt.streams);
            }),
        };
        if r.is_ok() {
            done += 1;
        }
    }
    match done {
        0 => "ERRP",
        n if n == servers.len() => "DONE",
        _ => "PART",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(base64_decode("YWRtaW46YWRtaW4=").unwrap(), b"admin:admin");
        assert_eq!(base64_decode("YQ").unwrap(), b"a");
        assert!(base64_decode("a*b").is_none());
    }

    #[test]
    fn form_values_are_url_decoded() {
        let body = "s=web1&s=web%202&action=drain&b=%234";
        assert_eq!(form_value(body, "s"), vec!["web1", "web 2"]);
        assert_eq!(form_value(body, "b"), vec!["#4"]);
        assert_eq!(url_decode("a%zz+b"), "a%zz b");
    }

    #[test]
    fn rates_count_within_a_second() {
        let r = Rate::default();
        r.hit(5);
        r.hit(5);
        r.hit(6);
        assert_eq!(r.current(6), 1);
        assert_eq!(r.max(), 2);
        assert_eq!(r.current(9), 0);
    }
}
