//! Logging as HAProxy does it: syslog framing and senders, and the httplog and
//! tcplog line formats.

pub mod httplog;
pub mod syslog;
pub mod time;
