//! VRRP version 2 (RFC 3768) and version 3 (RFC 5798) with keepalived 2.2's semantics:
//! the advert wire format ([`wire`]), the per-instance state machine ([`Instance`]),
//! sync groups ([`SyncGroup`]) and rise/fall counting for tracked scripts ([`ScriptTracker`]).
//!
//! Sans-IO, like quinn-proto: timestamped inputs go in, adverts and actions come out.
//! This crate opens no socket, reads no clock, runs no script and touches no interface;
//! the daemon does all of that and maps keepalived.conf onto [`InstanceConfig`].
//! The `sim` module (hidden) is a deterministic network simulator for tests.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use thiserror::Error;

mod instance;
#[doc(hidden)]
pub mod sim;
mod sync;
pub mod time;
mod track;
pub mod wire;

pub use instance::{
    Action, Event, Instance, InstanceConfig, Notify, NotifyState, PRIORITY_OWNER, State, Tracked,
    Transmit,
};
pub use sync::SyncGroup;
pub use time::Instant;
pub use track::{ScriptChange, ScriptOutcome, ScriptTracker};
pub use wire::{AdvertRepr, Auth, Family, IpPair, Packet, Version, WireError};

/// An instance or sync group configuration this crate cannot run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field of an instance is out of range or inconsistent.
    #[error("({instance}) {field}: {reason}")]
    Invalid {
        /// The instance name.
        instance: String,
        /// The keepalived keyword of the field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A sync group is empty or two of its members share a vrid and family.
    #[error("sync group {group}: {reason}")]
    Group {
        /// The group name.
        group: String,
        /// What is wrong.
        reason: String,
    },
}

/// Why a received advert was dropped. Each has keepalived's log line
/// ([`Reject::log_line`]); a dropped advert never changes the state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Reject {
    /// The TTL (IPv4) or hop limit (IPv6) is not 255.
    #[error("TTL/hop limit {received}, expected 255")]
    Ttl {
        /// The received TTL.
        received: u8,
    },
    /// The checksum does not verify.
    #[error("invalid VRRPv{version} checksum")]
    Checksum {
        /// The packet's version.
        version: u8,
    },
    /// The version differs from the instance's.
    #[error("version {received}, expected {expected}")]
    Version {
        /// The packet's version.
        received: u8,
        /// The instance's version.
        expected: u8,
    },
    /// The v2 authentication type differs.
    #[error("auth type {received}, expected {expected}")]
    AuthType {
        /// The packet's type.
        received: u8,
        /// The configured type.
        expected: u8,
    },
    /// The v2 password differs.
    #[error("invalid password")]
    Password,
    /// The v2 advert interval differs.
    #[error("advert interval {received_secs} s, ours {mine_secs} s")]
    AdvertInterval {
        /// Our interval in seconds.
        mine_secs: u16,
        /// The packet's interval in seconds.
        received_secs: u16,
    },
    /// The advert carries a different number of addresses.
    #[error("{received} addresses, expected {expected}")]
    VipCount {
        /// Addresses in the packet.
        received: usize,
        /// Addresses configured.
        expected: usize,
    },
    /// A configured address is missing from the advert.
    #[error("VRID {vrid}: {addr} missing from the advert")]
    VipMissing {
        /// Our vrid.
        vrid: u8,
        /// The first configured address not in the advert.
        addr: IpAddr,
    },
    /// No instance has this vrid on the interface.
    #[error("unknown VRID {vrid} on {interface}")]
    UnknownVrid {
        /// The packet's vrid.
        vrid: u8,
        /// The receiving interface.
        interface: String,
    },
    /// The packet is shorter than a VRRP message needs.
    #[error("{family:?} VRRP packet too short: {bytes} bytes")]
    TooShort {
        /// The address family it arrived on.
        family: Family,
        /// Its length as keepalived counts it: with the 20-byte IPv4 header,
        /// without an IPv6 one.
        bytes: usize,
    },
    /// The bytes are not a VRRP advert.
    #[error("malformed advert: {0}")]
    Malformed(WireError),
}

impl Reject {
    /// The line keepalived 2.2 logs for this rejection, e.g.
    /// `(VI_1) invalid TTL/HL. Received 64 and expect 255`.
    pub fn log_line(&self, instance: &str) -> String {
        match self {
            Reject::Ttl { received } => {
                format!("({instance}) invalid TTL/HL. Received {received} and expect 255")
            }
            Reject::Checksum { version } => format!("({instance}) Invalid VRRPv{version} checksum"),
            Reject::Version { received, expected } => {
                format!("({instance}) wrong version. Received {received} and expect {expected}")
            }
            Reject::AuthType { received, expected } => {
                format!("({instance}) received a {received} auth, expecting {expected}!")
            }
            Reject::Password => format!("({instance}) received an invalid passwd!"),
            Reject::AdvertInterval {
                mine_secs,
                received_secs,
            } => format!(
                "({instance}) advertisement interval mismatch mine={mine_secs} sec rcv'd={received_secs} sec"
            ),
            Reject::VipCount { received, expected } => format!(
                "({instance}) received an unexpected ip number count {received}, expected {expected}!"
            ),
            Reject::VipMissing { vrid, addr } => format!(
                "({instance}) ip address associated with VRID {vrid} not present in MASTER advert: {addr}"
            ),
            Reject::UnknownVrid { vrid, interface } => {
                format!("Unknown VRID({vrid}) received on interface({interface}). ignoring...")
            }
            Reject::TooShort { family, bytes } => {
                let ip = match family {
                    Family::V4 => "IPv4",
                    Family::V6 => "IPv6",
                };
                format!("{ip} VRRP packet too short - {bytes} bytes")
            }
            Reject::Malformed(e) => format!("({instance}) {e}"),
        }
    }
}
