//! The `balance` algorithms and their parameters.

use crate::hash::HashType;

/// Options of `balance uri`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UriOptions {
    /// `len <n>`: hash at most the first n bytes.
    pub len: Option<u32>,
    /// `depth <n>`: hash at most n directory levels (stop before the
    /// (n+1)-th `/`).
    pub depth: Option<u32>,
    /// `whole`: include the query string.
    pub whole: bool,
    /// `path-only`: drop scheme and authority of absolute-form targets.
    pub path_only: bool,
}

/// A backend's `balance` algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `roundrobin`: smooth weighted round robin; weights may change at run
    /// time and take effect at once.
    RoundRobin,
    /// `static-rr`: weighted round robin over a precomputed table; weights
    /// can only be set to 0 or back to their initial value.
    StaticRr,
    /// `leastconn`: fewest connections per unit of weight; ties go round robin.
    LeastConn,
    /// `first`: the lowest-id server with a free slot under its maxconn.
    First,
    /// `source`: hash of the client address.
    Source,
    /// `uri`: hash of the request target.
    Uri(UriOptions),
    /// `url_param <name>`: hash of a query-string parameter's value.
    UrlParam {
        /// The parameter name.
        name: String,
    },
    /// `hdr(<name>)`: hash of a header value.
    Hdr {
        /// The header name; the caller looks it up and passes the value.
        name: String,
        /// `use_domain_only`: hash only the label before the top-level domain.
        use_domain_only: bool,
    },
    /// `random(<draws>)`: the least loaded of `draws` random picks on the
    /// consistent-hash ring (power of n choices; HAProxy's default is 2).
    Random {
        /// Number of draws, at least 1.
        draws: u32,
    },
    /// `rdp-cookie(<name>)`: hash of an RDP cookie's value.
    RdpCookie {
        /// The cookie name (HAProxy's default is `mstshash`).
        name: String,
    },
}

impl Algorithm {
    /// Whether the algorithm hashes a key (and so honours `hash-type`).
    pub fn is_hash(&self) -> bool {
        matches!(
            self,
            Self::Source
                | Self::Uri(_)
                | Self::UrlParam { .. }
                | Self::Hdr { .. }
                | Self::RdpCookie { .. }
        )
    }

    /// Whether weights are fixed at construction (HAProxy's "static" algorithms:
    /// static-rr and map-based hashing), given the hash type in use.
    pub fn is_static(&self, hash_type: &HashType) -> bool {
        match self {
            Self::StaticRr => true,
            a if a.is_hash() => hash_type.method == crate::HashMethod::MapBased,
            _ => false,
        }
    }
}

/// Everything about a backend's balancing apart from its servers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BalancerConfig {
    /// The `balance` algorithm.
    pub algorithm: Algorithm,
    /// The `hash-type`; only hash-based algorithms use it.
    pub hash_type: HashType,
    /// `option allbackups`: when no active server is usable, balance over all
    /// usable backups instead of only the first one.
    pub allbackups: bool,
}

impl BalancerConfig {
    /// A configuration with the default hash type and without `allbackups`.
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            hash_type: HashType::default(),
            allbackups: false,
        }
    }

    /// Sets the hash type.
    pub fn hash_type(mut self, hash_type: HashType) -> Self {
        self.hash_type = hash_type;
        self
    }

    /// Sets `option allbackups`.
    pub fn allbackups(mut self, on: bool) -> Self {
        self.allbackups = on;
        self
    }
}
