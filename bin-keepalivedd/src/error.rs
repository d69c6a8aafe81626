//! The daemon's error type.

use std::path::PathBuf;

use thiserror::Error;

/// What can stop the daemon from starting, reloading or performing an action.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration asks for something the daemon cannot run.
    #[error("({instance}) {field}: {reason}")]
    Unsupported {
        /// The instance, script or group name.
        instance: String,
        /// The keepalived keyword.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The configuration file itself cannot be read.
    #[error("Config files missing '{}'.", path.display())]
    NoConfig {
        /// The file.
        path: PathBuf,
    },
    /// The configuration file has errors (each was logged).
    #[error("{}: {errors} configuration error(s)", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// How many errors.
        errors: usize,
    },
    /// vrrp-core refused an instance or sync group.
    #[error(transparent)]
    Core(#[from] vrrp_core::ConfigError),
    /// A netlink, socket or announcement operation failed.
    #[error(transparent)]
    Net(#[from] vrrp_netlink::Error),
    /// The interface has no address to send adverts from.
    #[error("({instance}) interface {interface} has no {family} address to send adverts from")]
    NoSource {
        /// The instance name.
        instance: String,
        /// The interface.
        interface: String,
        /// `IPv4` or `IPv6 link-local`.
        family: &'static str,
    },
    /// A script or notify command line cannot be split into an argv.
    #[error("command '{command}': {reason}")]
    Command {
        /// The command line as configured.
        command: String,
        /// Why it cannot be split.
        reason: String,
    },
    /// A user or group named in the configuration does not exist.
    #[error("{kind} '{name}' not found")]
    NoSuchUser {
        /// `user` or `group`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// The SMTP exchange failed.
    #[error("SMTP server {server}: {reason}")]
    Smtp {
        /// `host:port`.
        server: String,
        /// What went wrong, with the server's reply when there was one.
        reason: String,
    },
    /// The pid file names a live process.
    #[error("daemon is already running (pid {pid} in {})", path.display())]
    AlreadyRunning {
        /// The pid file.
        path: PathBuf,
        /// The live process.
        pid: u32,
    },
    /// A file or process operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// The operation.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The exit status keepalived 2.2 uses when startup fails this way: 6 for a missing
    /// configuration file, 2 for a configuration its VRRP process rejects (a missing
    /// interface among them), 0 when
    /// another daemon already runs, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoConfig { .. } => 6,
            Error::Net(vrrp_netlink::Error::NoSuchInterface(_)) => 2,
            Error::Config { .. }
            | Error::Unsupported { .. }
            | Error::Core(_)
            | Error::Command { .. } => 2,
            Error::AlreadyRunning { .. } => 0,
            _ => 1,
        }
    }
}
