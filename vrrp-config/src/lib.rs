//! The keepalived.conf language: a pest grammar and a typed, validated model of
//! `global_defs`, `vrrp_script`, `vrrp_instance` and `vrrp_sync_group`.
//!
//! Reads configuration files (and their `include`s) and nothing else.
