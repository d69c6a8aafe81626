//! The haproxy.cfg language: a pest grammar and a typed, validated model.
//!
//! Loading runs in two passes. The syntax pass splits the text into sections and
//! lines of words with HAProxy's lexical rules (comments, quotes, escapes,
//! environment expansion) and keeps every word's position. The validation pass
//! resolves those lines into a typed configuration and reports each problem with
//! `file:line:column`, the keyword and the section.
//!
//! This crate reads configuration files and nothing else: no sockets, no clock.
