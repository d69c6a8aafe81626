//! Server identity, declaration and run-time state as the balancer sees them.

use std::fmt;

/// A server's numeric id, HAProxy's `id` (by default its 1-based rank in the
/// backend). It is unique in a backend and, for consistent hashing, decides
/// where the server's points sit on the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerId(pub u32);

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The largest weight HAProxy accepts on a server.
pub const MAX_WEIGHT: u32 = 256;

/// A server's run-time state, as health checks and the admin interface set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerState {
    /// Healthy and taking new traffic.
    #[default]
    Up,
    /// Healthy but draining: no new traffic (its weight counts as 0), though
    /// a caller may still honour persistence to it (see
    /// [`Balancer::accepts_persistent`](crate::Balancer::accepts_persistent)).
    Drain,
    /// Administratively in maintenance: excluded.
    Maint,
    /// Failed its health checks: excluded.
    Down,
}

/// One `server` line of a backend, as far as balancing is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// Unique, non-zero id.
    pub id: ServerId,
    /// Weight from 0 to [`MAX_WEIGHT`]; 0 takes no new traffic.
    pub weight: u32,
    /// Used only when no active (non-backup) server is usable.
    pub backup: bool,
    /// Maximum concurrent connections, 0 for no limit. Round robin, static-rr,
    /// leastconn, first and random skip a server at its limit; hash-based
    /// algorithms do not (HAProxy queues on that server instead).
    pub maxconn: u32,
    /// State at start (HAProxy's `disabled` keyword is [`ServerState::Maint`]).
    pub state: ServerState,
}

impl ServerSpec {
    /// An active server with weight 1, no connection limit, up.
    pub fn new(id: u32) -> Self {
        Self {
            id: ServerId(id),
            weight: 1,
            backup: false,
            maxconn: 0,
            state: ServerState::Up,
        }
    }

    /// Sets the weight.
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Marks the server as a backup.
    pub fn backup(mut self) -> Self {
        self.backup = true;
        self
    }

    /// Sets the connection limit (0 for none).
    pub fn maxconn(mut self, maxconn: u32) -> Self {
        self.maxconn = maxconn;
        self
    }

    /// Sets the initial state.
    pub fn state(mut self, state: ServerState) -> Self {
        self.state = state;
        self
    }
}

/// The balancer's record of one server.
#[derive(Debug, Clone)]
pub(crate) struct Srv {
    pub(crate) id: ServerId,
    pub(crate) backup: bool,
    /// Weight given at construction, for static algorithms.
    pub(crate) iweight: u32,
    /// Current user weight.
    pub(crate) uweight: u32,
    pub(crate) state: ServerState,
    pub(crate) maxconn: u32,
    /// Connections in flight, as reported by the caller.
    pub(crate) served: u32,
}

impl Srv {
    /// Validates a spec into a record with no connection in flight.
    pub(crate) fn from_spec(spec: &ServerSpec) -> Result<Self, crate::BalanceError> {
        if spec.id.0 == 0 {
            return Err(crate::BalanceError::ZeroId);
        }
        if spec.weight > MAX_WEIGHT {
            return Err(crate::BalanceError::WeightOutOfRange {
                id: spec.id,
                weight: spec.weight,
            });
        }
        Ok(Self {
            id: spec.id,
            backup: spec.backup,
            iweight: spec.weight,
            uweight: spec.weight,
            state: spec.state,
            maxconn: spec.maxconn,
            served: 0,
        })
    }

    /// The record left in the slot of a removed server: never usable.
    pub(crate) fn vacant() -> Self {
        Self {
            id: ServerId(0),
            backup: false,
            iweight: 0,
            uweight: 0,
            state: ServerState::Maint,
            maxconn: 0,
            served: 0,
        }
    }

    /// Whether the server takes new traffic: up and with a non-zero weight.
    pub(crate) fn usable(&self) -> bool {
        self.state == ServerState::Up && self.uweight > 0
    }

    /// Whether the server is at its connection limit.
    pub(crate) fn full(&self) -> bool {
        self.maxconn != 0 && self.served >= self.maxconn
    }

    /// Effective weight in HAProxy's dynamic scale (user weight x 16), 0 if
    /// the server takes no new traffic.
    pub(crate) fn eweight(&self) -> u32 {
        if self.usable() {
            self.uweight * crate::WEIGHT_SCALE
        } else {
            0
        }
    }
}
