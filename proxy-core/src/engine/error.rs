//! Errors at the engine's boundary: building the runtime model from a
//! configuration, binding listeners, and serving.

use std::io;
use std::net::SocketAddr;

/// Why a [`Config`](proxy_config::Config) could not be turned into an engine.
///
/// Every variant names the configuration line (`file:line:col`) it comes from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A directive the engine does not implement yet, where silently ignoring
    /// it would change how traffic is routed.
    #[error("{at}: {what} is not supported by this engine")]
    Unsupported {
        /// Where the directive is.
        at: String,
        /// What is not supported.
        what: String,
    },
    /// A reference to something that does not exist or does not fit.
    #[error("{at}: {message}")]
    Invalid {
        /// Where the directive is.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// An ACL or condition failed to compile.
    #[error("{at}: {source}")]
    Acl {
        /// Where the directive is.
        at: String,
        /// The ACL error.
        source: proxy_acl::AclError,
    },
    /// A backend's balancer could not be built.
    #[error("{at}: {source}")]
    Balance {
        /// Where the backend is declared.
        at: String,
        /// The balancer error.
        source: proxy_balance::BalanceError,
    },
    /// A server host name did not resolve, or a log target could not be opened.
    #[error("{at}: {message}: {source}")]
    Io {
        /// Where the directive is.
        at: String,
        /// What was attempted.
        message: String,
        /// The system error.
        source: io::Error,
    },
}

/// Why listening or serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A `bind` address could not be bound.
    #[error("{at}: cannot bind socket ({frontend}) [{addr}]: {source}")]
    Bind {
        /// Where the `bind` line is.
        at: String,
        /// The proxy that owns the listener.
        frontend: String,
        /// The address.
        addr: SocketAddr,
        /// The system error.
        source: io::Error,
    },
    /// A bound listener could not be handed to the runtime.
    #[error("cannot register listener {addr} with the runtime: {source}")]
    Register {
        /// The address.
        addr: SocketAddr,
        /// The system error.
        source: io::Error,
    },
    /// Bound listeners do not belong to this engine.
    #[error("listener set was bound for a different configuration")]
    ForeignListeners,
    /// A `stats socket` could not be bound.
    #[error("{at}: cannot bind the stats socket: {source}")]
    Cli {
        /// Where the `stats socket` line is.
        at: String,
        /// The system error.
        source: io::Error,
    },
}
