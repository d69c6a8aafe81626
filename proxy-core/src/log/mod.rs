//! Logging as HAProxy does it: syslog framing and senders, custom
//! `log-format` lines, and the httplog and tcplog line formats (kept as fast
//! writers, byte-identical to their `log-format` strings). No sockets are
//! opened here beyond the senders' own, and nothing here blocks.

pub mod format;
pub mod httplog;
pub mod syslog;
pub mod time;
