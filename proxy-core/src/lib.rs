//! The haproxyd engine: a sans-IO HTTP/1.1 codec and the tokio runtime that
//! drives listeners, forwarding, timeouts, health checks, logs, stats and the
//! runtime API.

pub mod cli;
pub mod engine;
pub mod h1;
pub mod log;
pub mod stats;
