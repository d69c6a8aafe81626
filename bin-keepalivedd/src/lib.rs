//! keepalivedd's daemon logic: flags, the mapping of keepalived.conf onto vrrp-core,
//! the tokio driver around vrrp-core's state machines and vrrp-netlink's sockets,
//! script and notify runners, SMTP alerts, keepalived-style logging and the pid file.
//!
//! It is not the VRRP protocol (vrrp-core), nor the Linux plumbing (vrrp-netlink), nor
//! the configuration language (vrrp-config); the `keepalivedd` binary only parses
//! flags, daemonizes and calls [`daemon::run`].
#![forbid(unsafe_code)]

pub mod argv;
pub mod daemon;
mod error;
pub mod flags;
pub mod log;
pub mod mapping;
pub mod pidfile;
pub mod scripts;
pub mod smtp;
pub mod tz;
pub mod units;
pub mod users;

pub use error::Error;
