//! HAProxy's load-balancing algorithms over a weighted set of servers.
//!
//! A [`Balancer`] is built from a server list and a [`BalancerConfig`] and
//! picks a server for a [`RequestKey`]; server health, weight and
//! administrative state, and connection counts, are inputs given by the
//! caller. The choices match HAProxy 2.6's for the same inputs (the tests
//! replay choices captured from a real HAProxy). Servers can be added and
//! removed on a live balancer, as HAProxy's `add server` / `del server` do.
//!
//! This crate is pure selection: no clock, no IO, no health checking, no
//! queueing, no randomness of its own (`random` takes the caller's input),
//! and no request parsing beyond the small key-extraction helpers in [`key`].
//!
//! # Thread safety
//!
//! A `Balancer` is plain data (`Send + Sync`) and mutates on every pick, as
//! HAProxy's balancing state does under its per-backend lock. Hold one per
//! backend behind a `Mutex` (the critical section is one O(log n) or O(1)
//! step), or one per thread if per-thread rotation is acceptable; then report
//! state, weight and connection changes to every copy.

#![forbid(unsafe_code)]

mod algo;
mod chash;
mod first;
mod fwlc;
mod fwrr;
pub mod hash;
pub mod key;
mod map;
mod server;
mod tree;

use std::collections::HashMap;

pub use algo::{Algorithm, BalancerConfig, UriOptions};
pub use hash::{HashFunction, HashMethod, HashType};
pub use key::RequestKey;
pub use server::{MAX_WEIGHT, ServerId, ServerSpec, ServerState};

use server::Srv;

/// The default bound, in entries of 4 bytes, on the cycle `roundrobin`
/// replays in the steady state (see [`Balancer::set_roundrobin_cycle_limit`]):
/// 16 MiB.
pub const DEFAULT_ROUNDROBIN_CYCLE_LIMIT: usize = fwrr::DEFAULT_CYCLE_LIMIT;

/// HAProxy's BE_WEIGHT_SCALE: dynamic algorithms work on weight x 16 so that
/// gradual weight changes stay smooth.
const WEIGHT_SCALE: u32 = 16;

/// Errors from building or updating a [`Balancer`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BalanceError {
    /// Two servers share an id.
    #[error("server id {0} is used twice")]
    DuplicateId(ServerId),
    /// Server ids start at 1.
    #[error("server id 0 is invalid: ids start at 1")]
    ZeroId,
    /// A weight above [`MAX_WEIGHT`].
    #[error("server {id}: weight {weight} is out of range 0-256")]
    WeightOutOfRange {
        /// The server.
        id: ServerId,
        /// The rejected weight.
        weight: u32,
    },
    /// No server has this id.
    #[error("no server with id {0}")]
    UnknownServer(ServerId),
    /// Static algorithms (static-rr, map-based hashing) only accept a weight
    /// of 0 or the server's initial weight.
    #[error(
        "server {id}: the backend uses a static balancing algorithm, so the weight can only be 0 or {initial} (got {weight})"
    )]
    StaticWeight {
        /// The server.
        id: ServerId,
        /// The rejected weight.
        weight: u32,
        /// The weight the server was built with.
        initial: u32,
    },
    /// `url_param`, `hdr` or `rdp-cookie` without a name.
    #[error("balance {0}: the name must not be empty")]
    EmptyName(&'static str),
    /// `random` with zero draws.
    #[error("balance random: the number of draws must be at least 1")]
    ZeroDraws,
    /// `conn_ended` for a server with no connection in flight.
    #[error("server {0}: connection ended but none was in flight")]
    NoConnection(ServerId),
    /// `remove_server` while connections reported by `conn_started` have not
    /// all ended.
    #[error("server {id}: cannot remove it while {served} connection(s) are in flight")]
    ServerInUse {
        /// The server.
        id: ServerId,
        /// Connections still in flight.
        served: u32,
    },
}

/// Which servers a pick is made among.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// No usable server.
    None,
    /// Only this server (the first usable backup, without `allbackups`).
    Only(usize),
    /// The usable servers of group 0 (active) or 1 (backup).
    Group(usize),
}

impl Target {
    /// The first server with a free slot among `group`'s candidates in the
    /// order the lookup structure walks them; the single server of `Only` is
    /// returned even when full, as HAProxy does for the first backup.
    pub(crate) fn first_free<I: Iterator<Item = usize>>(
        self,
        servers: &[Srv],
        group: impl FnOnce(usize) -> I,
    ) -> Option<usize> {
        match self {
            Target::None => None,
            Target::Only(i) => Some(i),
            Target::Group(g) => group(g).find(|&i| servers.get(i).is_some_and(|s| !s.full())),
        }
    }
}

/// The lookup structure behind the configured algorithm.
#[derive(Debug, Clone)]
enum Engine {
    // Boxed: by far the largest state.
    Fwrr(Box<fwrr::Fwrr>),
    Fwlc(fwlc::Fwlc),
    First(first::First),
    Map(map::MapLb),
    Chash(chash::Chash),
}

/// Picks servers for one backend with one of HAProxy's algorithms.
///
/// Servers keep their declaration order, which decides ties as in HAProxy;
/// servers added at run time ([`add_server`](Self::add_server)) come last.
/// Picking is O(log n) for consistent hashing, `leastconn`, `first` (plus
/// the servers skipped at their maxconn) and `random`, and O(1) for
/// `static-rr` and map-based hashing. `roundrobin` is O(1) in the steady
/// state (no change of state, weight or server set, no saturated server
/// met), where it replays its own periodic sequence, and O(log n) otherwise;
/// the sequence is HAProxy's either way (see
/// [`set_roundrobin_cycle_limit`](Self::set_roundrobin_cycle_limit)). A
/// change of connection limit costs O(1), plus for `roundrobin` bringing its
/// trees to the current point of the sequence. State and weight changes, and
/// adding or removing a server, cost O(n) for the bookkeeping of active and
/// backup counts (plus the table rebuild of map-based algorithms).
#[derive(Debug, Clone)]
pub struct Balancer {
    config: BalancerConfig,
    /// Server records by slot; the engines refer to servers by slot. A
    /// removed server's slot is left unusable and reused by the next add.
    servers: Vec<Srv>,
    /// Slots of the live servers in declaration order.
    order: Vec<usize>,
    /// Slots of removed servers, free for reuse.
    free: Vec<usize>,
    index: HashMap<ServerId, usize, ahash::RandomState>,
    target: Target,
    engine: Engine,
}

impl Balancer {
    /// Builds a balancer; servers are taken in declaration order.
    pub fn new(
        config: BalancerConfig,
        servers: impl IntoIterator<Item = ServerSpec>,
    ) -> Result<Self, BalanceError> {
        match &config.algorithm {
            Algorithm::UrlParam { name } if name.is_empty() => {
                return Err(BalanceError::EmptyName("url_param"));
            }
            Algorithm::Hdr { name, .. } if name.is_empty() => {
                return Err(BalanceError::EmptyName("hdr"));
            }
            Algorithm::RdpCookie { name } if name.is_empty() => {
                return Err(BalanceError::EmptyName("rdp-cookie"));
            }
            Algorithm::Random { draws: 0 } => return Err(BalanceError::ZeroDraws),
            _ => {}
        }
        let mut list = Vec::new();
        let mut index = HashMap::with_hasher(ahash::RandomState::new());
        for spec in servers {
            let srv = Srv::from_spec(&spec)?;
            if index.insert(spec.id, list.len()).is_some() {
                return Err(BalanceError::DuplicateId(spec.id));
            }
            list.push(srv);
        }
        let order: Vec<usize> = (0..list.len()).collect();
        let target = compute_target(&list, &order, config.allbackups);
        let engine = match &config.algorithm {
            Algorithm::RoundRobin => Engine::Fwrr(Box::new(fwrr::Fwrr::new(&list))),
            Algorithm::LeastConn => Engine::Fwlc(fwlc::Fwlc::new(&list)),
            Algorithm::First => Engine::First(first::First::new(&list)),
            Algorithm::StaticRr => Engine::Map(map::MapLb::new(&list, &order, target)),
            Algorithm::Random { .. } => Engine::Chash(chash::Chash::new(&list)),
            _ => match config.hash_type.method {
                HashMethod::MapBased => Engine::Map(map::MapLb::new(&list, &order, target)),
                HashMethod::Consistent => Engine::Chash(chash::Chash::new(&list)),
            },
        };
        Ok(Self {
            config,
            servers: list,
            order,
            free: Vec::new(),
            index,
            target,
            engine,
        })
    }

    /// Bounds the memory `roundrobin` may use to replay its sequence in the
    /// steady state, in entries of 4 bytes; 0 keeps every pick on the trees.
    /// The default is [`DEFAULT_ROUNDROBIN_CYCLE_LIMIT`].
    ///
    /// HAProxy's weighted round robin repeats itself: once the trees come
    /// back to a state they were in at the end of a window of picks (16 x
    /// the total weight, give or take rounding; usually one window later,
    /// sometimes two), the balancer replays the windows since by index
    /// instead of walking its trees, and brings the trees to the exact
    /// position on the next change or saturated server. The picks are stored
    /// as their shortest repeating part: with 300,000 servers of equal
    /// weight, 300,000 entries (1.2 MB), plus as much while recording.
    /// Cycles needing more than the limit stay on the trees; a new limit
    /// applies from the next window. Other algorithms ignore this.
    pub fn set_roundrobin_cycle_limit(&mut self, entries: usize) {
        if let Engine::Fwrr(e) = &mut self.engine {
            e.set_limit(entries);
        }
    }

    /// Entries of the cycle `roundrobin` picks are replayed from, or `None`
    /// while picks walk the trees (another algorithm, a change since the
    /// last two window boundaries, or a window above the limit).
    pub fn roundrobin_cycle_len(&self) -> Option<usize> {
        match &self.engine {
            Engine::Fwrr(e) => e.cycle_entries(),
            _ => None,
        }
    }

    /// Whether HAProxy 2.6 accepts `add server` on a backend with this
    /// configuration: only with a dynamic algorithm (`roundrobin`,
    /// `leastconn`, `first`, `random`, or consistent hashing); static-rr and
    /// map-based hashing refuse it ("Backend must use a dynamic load
    /// balancing to support dynamic servers"). [`add_server`](Self::add_server)
    /// works with every algorithm; enforcing this rule is the caller's policy.
    pub fn supports_dynamic_servers(&self) -> bool {
        !self.config.algorithm.is_static(&self.config.hash_type)
    }

    /// Adds a server at run time (HAProxy's `add server`), after the existing
    /// ones in declaration order, in the state and with the weight the spec
    /// gives (HAProxy adds servers in maintenance; [`set_state`](Self::set_state)
    /// then enables them). Fails when the id is in use, is 0, or the weight is
    /// out of range; the balancer is then unchanged.
    pub fn add_server(&mut self, spec: ServerSpec) -> Result<ServerId, BalanceError> {
        let srv = Srv::from_spec(&spec)?;
        if self.index.contains_key(&spec.id) {
            return Err(BalanceError::DuplicateId(spec.id));
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.servers.get_mut(slot) {
                    *s = srv;
                }
                slot
            }
            None => {
                self.servers.push(srv);
                self.servers.len() - 1
            }
        };
        self.index.insert(spec.id, slot);
        self.order.push(slot);
        match &mut self.engine {
            Engine::Fwrr(e) => e.reset(slot),
            Engine::Fwlc(e) => e.reset(slot),
            Engine::Chash(e) => e.reset(slot),
            Engine::First(_) => {}
            Engine::Map(e) => e.reset_weights(&self.servers, &self.order),
        }
        // The engine saw the slot as empty: this is the usual "server comes
        // up" transition (HAProxy's `enable server` after `add server`).
        self.refresh(slot);
        Ok(spec.id)
    }

    /// Removes a server at run time (HAProxy's `del server`). Fails when no
    /// server has this id, or while connections reported by
    /// [`conn_started`](Self::conn_started) have not all ended. HAProxy's CLI
    /// also wants the server in maintenance first; that is the caller's
    /// policy, the balancer takes it out of rotation either way.
    pub fn remove_server(&mut self, id: ServerId) -> Result<(), BalanceError> {
        let i = self.idx(id)?;
        let served = self.srv(id)?.served;
        if served > 0 {
            return Err(BalanceError::ServerInUse { id, served });
        }
        if let Some(s) = self.servers.get_mut(i) {
            s.state = ServerState::Maint;
        }
        // Leaves every lookup structure as a server going to maintenance does.
        self.refresh(i);
        if let Some(s) = self.servers.get_mut(i) {
            *s = Srv::vacant();
        }
        self.index.remove(&id);
        self.order.retain(|&slot| slot != i);
        self.free.push(i);
        if let Engine::Map(e) = &mut self.engine {
            e.reset_weights(&self.servers, &self.order);
        }
        self.target = compute_target(&self.servers, &self.order, self.config.allbackups);
        if let Engine::Map(e) = &mut self.engine {
            e.rebuild(&self.servers, &self.order, self.target);
        }
        Ok(())
    }

    /// The configuration the balancer was built with.
    pub fn config(&self) -> &BalancerConfig {
        &self.config
    }

    /// Picks a server for a new request or connection, or `None` when no
    /// server is usable (or, for algorithms that honour maxconn, when every
    /// candidate is full: the caller should queue).
    ///
    /// Hash-based algorithms whose key part is missing from `key` fall back
    /// to round robin, as HAProxy does.
    pub fn pick(&mut self, key: &RequestKey<'_>) -> Option<ServerId> {
        let i = self.pick_index(key)?;
        self.servers.get(i).map(|s| s.id)
    }

    /// Picks as [`pick`](Self::pick) does, but another server than `avoid`
    /// when one is usable: a redispatch after `avoid` failed. Hash-based
    /// algorithms would answer `avoid` again, so it is left out for this one
    /// pick (its state is restored afterwards); `avoid` comes back only when
    /// nothing else can serve.
    pub fn pick_avoiding(&mut self, key: &RequestKey<'_>, avoid: ServerId) -> Option<ServerId> {
        let first = self.pick(key);
        if first != Some(avoid) {
            return first;
        }
        let Ok(prev) = self.state(avoid) else {
            return first;
        };
        if self.set_state(avoid, ServerState::Maint).is_err() {
            return first;
        }
        let other = self.pick(key);
        let _ = self.set_state(avoid, prev);
        other.or(first)
    }

    fn pick_index(&mut self, key: &RequestKey<'_>) -> Option<usize> {
        let target = self.target;
        let servers = &self.servers;
        let hash = self.key_hash(key);
        match (&mut self.engine, &self.config.algorithm) {
            (Engine::Fwrr(e), _) => e.next(servers, target),
            (Engine::Fwlc(e), _) => e.next(servers, target),
            (Engine::First(e), _) => e.next(servers, target),
            (Engine::Map(e), Algorithm::StaticRr) => e.next_rr(servers),
            (Engine::Chash(e), Algorithm::Random { draws }) => {
                random_pick(e, servers, target, *draws, key.random)
            }
            (Engine::Map(e), _) => match hash {
                Some(h) => e.by_hash(h),
                None => e.next_rr(servers),
            },
            (Engine::Chash(e), _) => match hash {
                Some(h) => e.by_hash(h, target),
                None => e.next_rr(servers, target),
            },
        }
    }

    /// The hash of the key part the algorithm uses, if present.
    fn key_hash(&self, key: &RequestKey<'_>) -> Option<u32> {
        let ht = &self.config.hash_type;
        match &self.config.algorithm {
            Algorithm::Source => {
                let ip = key.client_ip?;
                Some(ht.finish(key::source_hash_input(ip)))
            }
            Algorithm::Uri(opts) => Some(ht.hash(key::uri_hash_input(key.uri?, opts))),
            Algorithm::UrlParam { name } => {
                Some(ht.hash(key::url_param_value(key.uri?, name)?.as_bytes()))
            }
            Algorithm::Hdr {
                use_domain_only, ..
            } => {
                let v = key.header?;
                let v = if *use_domain_only {
                    key::domain_only(v)
                } else {
                    v
                };
                Some(ht.hash(v.as_bytes()))
            }
            Algorithm::RdpCookie { .. } => Some(ht.hash(key.rdp_cookie?.as_bytes())),
            _ => None,
        }
    }

    fn idx(&self, id: ServerId) -> Result<usize, BalanceError> {
        self.index
            .get(&id)
            .copied()
            .ok_or(BalanceError::UnknownServer(id))
    }

    fn srv(&self, id: ServerId) -> Result<&Srv, BalanceError> {
        let i = self.idx(id)?;
        self.servers.get(i).ok_or(BalanceError::UnknownServer(id))
    }

    /// Sets a server's state; takes effect on the next pick.
    pub fn set_state(&mut self, id: ServerId, state: ServerState) -> Result<(), BalanceError> {
        let i = self.idx(id)?;
        if let Some(s) = self.servers.get_mut(i) {
            s.state = state;
        }
        self.refresh(i);
        Ok(())
    }

    /// Sets a server's weight (0 to 256); takes effect on the next pick.
    /// Static algorithms only accept 0 or the initial weight.
    pub fn set_weight(&mut self, id: ServerId, weight: u32) -> Result<(), BalanceError> {
        let i = self.idx(id)?;
        if weight > MAX_WEIGHT {
            return Err(BalanceError::WeightOutOfRange { id, weight });
        }
        let is_static = self.config.algorithm.is_static(&self.config.hash_type);
        if let Some(s) = self.servers.get_mut(i) {
            if is_static && weight != 0 && weight != s.iweight {
                return Err(BalanceError::StaticWeight {
                    id,
                    weight,
                    initial: s.iweight,
                });
            }
            s.uweight = weight;
        }
        self.refresh(i);
        Ok(())
    }

    /// Sets a server's connection limit (HAProxy's `set maxconn server`; 0
    /// for none); takes effect on the next pick. Nothing else moves:
    /// `roundrobin` goes on from the same point of its sequence, `leastconn`
    /// and the others keep their order, and connections in flight above a
    /// lowered limit stay counted until they end.
    pub fn set_maxconn(&mut self, id: ServerId, maxconn: u32) -> Result<(), BalanceError> {
        let i = self.idx(id)?;
        if let Some(s) = self.servers.get_mut(i) {
            s.maxconn = maxconn;
        }
        if let Engine::Fwrr(e) = &mut self.engine {
            e.limit_changed();
        }
        Ok(())
    }

    /// The server's connection limit, 0 for none.
    pub fn maxconn(&self, id: ServerId) -> Result<u32, BalanceError> {
        Ok(self.srv(id)?.maxconn)
    }

    /// Records that a connection to the server started.
    pub fn conn_started(&mut self, id: ServerId) -> Result<(), BalanceError> {
        let i = self.idx(id)?;
        if let Some(s) = self.servers.get_mut(i) {
            s.served = s.served.saturating_add(1);
        }
        self.requeue_load(i);
        Ok(())
    }

    /// Records that a connection to the server ended.
    pub fn conn_ended(&mut self, id: ServerId) -> Result<(), BalanceError> {
        let i = self.idx(id)?;
        if let Some(s) = self.servers.get_mut(i) {
            if s.served == 0 {
                return Err(BalanceError::NoConnection(id));
            }
            s.served -= 1;
        }
        self.requeue_load(i);
        Ok(())
    }

    fn requeue_load(&mut self, i: usize) {
        if let (Engine::Fwlc(e), Some(s)) = (&mut self.engine, self.servers.get(i)) {
            e.update(s, i);
        }
    }

    /// Propagates a state or weight change of server `i`.
    fn refresh(&mut self, i: usize) {
        self.target = compute_target(&self.servers, &self.order, self.config.allbackups);
        let Some(s) = self.servers.get(i) else {
            return;
        };
        match &mut self.engine {
            Engine::Fwrr(e) => e.update(s, i),
            Engine::Fwlc(e) => e.update(s, i),
            Engine::First(e) => e.update(s, i),
            Engine::Chash(e) => e.update(s, i),
            Engine::Map(e) => e.rebuild(&self.servers, &self.order, self.target),
        }
    }

    /// The server's current state.
    pub fn state(&self, id: ServerId) -> Result<ServerState, BalanceError> {
        Ok(self.srv(id)?.state)
    }

    /// The server's current weight.
    pub fn weight(&self, id: ServerId) -> Result<u32, BalanceError> {
        Ok(self.srv(id)?.uweight)
    }

    /// Connections in flight on the server, as reported.
    pub fn served(&self, id: ServerId) -> Result<u32, BalanceError> {
        Ok(self.srv(id)?.served)
    }

    /// Whether the server takes new traffic (up with a non-zero weight).
    pub fn is_usable(&self, id: ServerId) -> Result<bool, BalanceError> {
        Ok(self.srv(id)?.usable())
    }

    /// Whether a request already bound to the server (a persistence cookie,
    /// a stick table entry) may still go there: up or draining, whatever its
    /// weight; not in maintenance and not down.
    pub fn accepts_persistent(&self, id: ServerId) -> Result<bool, BalanceError> {
        Ok(matches!(
            self.srv(id)?.state,
            ServerState::Up | ServerState::Drain
        ))
    }

    /// Server ids in declaration order.
    pub fn server_ids(&self) -> impl Iterator<Item = ServerId> + '_ {
        self.order
            .iter()
            .filter_map(|&i| self.servers.get(i).map(|s| s.id))
    }
}

/// Active servers if any is usable; else the first usable backup (or, with
/// `allbackups`, all usable backups); else nothing.
fn compute_target(servers: &[Srv], order: &[usize], allbackups: bool) -> Target {
    let mut first_backup = None;
    for &i in order {
        let Some(s) = servers.get(i) else {
            continue;
        };
        if !s.usable() {
            continue;
        }
        if !s.backup {
            return Target::Group(0);
        }
        if first_backup.is_none() {
            first_backup = Some(i);
        }
    }
    match first_backup {
        None => Target::None,
        Some(_) if allbackups => Target::Group(1),
        Some(i) => Target::Only(i),
    }
}

/// `random(draws)`: draw servers on the consistent-hash ring and keep the one
/// with the fewest connections per unit of weight; the first draw wins ties.
/// Draw 0 uses the caller's input as is; draw k uses
/// `avalanche(random + k * 0x9e3779b9)`.
fn random_pick(
    ring: &chash::Chash,
    servers: &[Srv],
    target: Target,
    draws: u32,
    random: u32,
) -> Option<usize> {
    let mut best: Option<usize> = None;
    for k in 0..draws {
        let h = if k == 0 {
            random
        } else {
            hash::avalanche(random.wrapping_add(k.wrapping_mul(0x9e37_79b9)))
        };
        let Some(curr) = ring.by_hash(h, target) else {
            break;
        };
        best = match best {
            Some(prev) if prev != curr => {
                let (Some(p), Some(c)) = (servers.get(prev), servers.get(curr)) else {
                    return None;
                };
                let lhs = u64::from(c.served) * u64::from(p.eweight());
                let rhs = u64::from(p.served) * u64::from(c.eweight());
                if lhs > rhs { Some(prev) } else { Some(curr) }
            }
            _ => Some(curr),
        };
    }
    // A full server means the request should queue rather than overload it.
    best.filter(|&i| servers.get(i).is_some_and(|s| !s.full()))
}
