//! VRRP version 2 (RFC 3768) and version 3 (RFC 5798) with keepalived's semantics:
//! advert packets and the per-instance state machine.
//!
//! Sans-IO: events with timestamps go in, actions come out. This crate never reads
//! a socket or a clock.
#![forbid(unsafe_code)]
