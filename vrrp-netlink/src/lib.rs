//! The Linux side of keepalivedd: what [`vrrp_core`]'s sans-IO state machine asks the
//! system to do, done with tokio.
//!
//! - [`VrrpSocket`]: a raw IP protocol 112 socket per interface and family, bound to the
//!   interface, in the VRRP multicast group, sending with TTL 255 and TOS 0xc0 and
//!   handing received adverts up with their TTL and addresses ([`RecvMeta`]).
//! - [`Netlink`]: interface facts ([`InterfaceInfo`]) and virtual addresses ([`Vip`])
//!   through rtnetlink; [`LinkWatcher`]: link up/down notifications ([`LinkEvent`]).
//! - [`Announcer`]: gratuitous ARP and unsolicited neighbour advertisements through an
//!   AF_PACKET socket.
//! - [`enter_netns`]: move the calling thread into a named network namespace.
//! - [`drop_capabilities`]: keep only the capabilities ([`Cap`]) still needed once the
//!   sockets are open.
//!
//! It is not the daemon: it keeps no VRRP state, runs no timers and reads no
//! configuration. Everything here needs Linux and CAP_NET_RAW / CAP_NET_ADMIN. This is
//! the only crate of the workspace with `unsafe` code, all of it in one private module
//! (`sys`) for the few calls socket2 and rtnetlink do not cover.
#![deny(unsafe_code)]

use std::io;
use std::path::Path;

use thiserror::Error;

mod announce;
mod caps;
mod netlink;
mod socket;
mod sys;

pub use announce::{
    Announcer, ETH_P_ARP, ETH_P_IPV6, GARP_FRAME_LEN, NA_FRAME_LEN, garp_frame,
    unsolicited_na_frame,
};
pub use caps::{Cap, capability_mask, drop_capabilities};
pub use netlink::{
    InterfaceInfo, LinkEvent, LinkWatcher, MAX_LABEL_LEN, Netlink, OperState, Scope, Vip,
};
pub use socket::{IPV4_HEADER_LEN, RecvMeta, TOS_INTERNET_CONTROL, VrrpSocket};

/// Where named network namespaces live (`ip netns add NAME`).
pub const NETNS_DIR: &str = "/var/run/netns";

/// Errors of this crate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call or netlink request failed.
    #[error("{op} on {target}: {source}")]
    Io {
        /// The operation, e.g. `SO_BINDTODEVICE` or `RTM_NEWADDR`.
        op: &'static str,
        /// What it was applied to: an interface, an address.
        target: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The interface does not exist (in this network namespace).
    #[error("interface {0}: no such interface")]
    NoSuchInterface(String),
    /// rtnetlink failed in a way that carries no OS error (an unexpected reply).
    #[error("netlink {op} on {target}: {message}")]
    Netlink {
        /// The request.
        op: &'static str,
        /// What it was applied to.
        target: String,
        /// rtnetlink's description.
        message: String,
    },
    /// An argument the kernel would reject: a family mismatch, a prefix or label out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// A received datagram could not be used (malformed IP header, truncated).
    #[error("received packet dropped: {0}")]
    Packet(String),
}

impl Error {
    pub(crate) fn io(op: &'static str, target: &str, source: io::Error) -> Error {
        Error::Io {
            op,
            target: target.to_string(),
            source,
        }
    }

    pub(crate) fn interface(name: &str, source: io::Error) -> Error {
        if source.raw_os_error() == Some(libc::ENODEV) {
            Error::NoSuchInterface(name.to_string())
        } else {
            Error::io("if_nametoindex", name, source)
        }
    }
}

/// Moves the calling thread into the named network namespace (keepalived's
/// `net_namespace`): sockets it opens afterwards, and the netlink connections it spawns
/// on a current-thread runtime, live there. Other threads are not affected, so call it
/// on a dedicated thread before building that thread's runtime.
pub fn enter_netns(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(Error::InvalidArgument(format!(
            "invalid namespace name '{name}'"
        )));
    }
    let path = Path::new(NETNS_DIR).join(name);
    sys::setns_net(&path)
        .map_err(|e| Error::io("setns(CLONE_NEWNET)", &path.display().to_string(), e))
}
