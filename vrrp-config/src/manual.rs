//! # keepalived.conf keywords and how keepalivedd treats them
//!
//! Each keyword of keepalived 2.2 falls in one of three groups:
//!
//! - **supported**: parsed, checked and present in the [`Config`](crate::Config) model;
//! - **accepted and ignored**: parsed, reported with a warning, without effect
//!   (`keepalivedd -t` still passes);
//! - **rejected**: known to keepalived but not provided here; an error naming
//!   the keyword. Any other keyword is an error too, with the nearest known
//!   keyword of its block suggested.
//!
//! ## Syntax
//!
//! | Feature | Status |
//! |---|---|
//! | `!` and `#` comments, anywhere outside double quotes | supported |
//! | `{` on the keyword's line, alone on the next line, or followed by statements (`track_script { chk }`) | supported |
//! | double-quoted words (`script "killall -0 haproxy"`) | supported |
//! | `include PATTERN` with `*`, `?`, `[...]`, relative to the including file's directory; a pattern matching nothing is a warning | supported |
//! | `@id` conditional lines, `$NAME=` parameters, `~SEQ` | rejected (unknown keyword) |
//!
//! ## Top level
//!
//! Supported: `global_defs`, `vrrp_script`, `vrrp_instance`, `vrrp_sync_group`.
//! Rejected: `virtual_server`, `virtual_server_group`, `static_ipaddress`,
//! `static_routes`, `static_rules`, `vrrp_track_process`, `vrrp_track_file`,
//! `bfd_instance`, `linkbeat_interfaces`, `net_namespace`, `instance`.
//!
//! ## `global_defs`
//!
//! Supported: `notification_email { ... }`, `notification_email_from`,
//! `smtp_server HOST [PORT]`, `smtp_connect_timeout`, `router_id`,
//! `enable_script_security`, `script_user USER [GROUP]`.
//!
//! Accepted and ignored: `smtp_helo_name`, `vrrp_mcast_group4`,
//! `vrrp_mcast_group6`, `vrrp_garp_master_delay`, `vrrp_garp_master_repeat`,
//! `vrrp_garp_master_refresh`, `vrrp_garp_master_refresh_repeat`,
//! `vrrp_garp_interval`, `vrrp_gna_interval`, `vrrp_lower_prio_no_advert`,
//! `vrrp_higher_prio_send_advert`, `vrrp_version`, `vrrp_iptables`,
//! `vrrp_check_unicast_src`, `vrrp_skip_check_adv_addr`, `vrrp_strict`,
//! `vrrp_priority`, `checker_priority`, `vrrp_no_swap`, `checker_no_swap`,
//! `max_auto_priority`, `min_auto_priority_delay`, `enable_traps`,
//! `dynamic_interfaces`, `notify_fifo`, `notify_fifo_script`,
//! `vrrp_notify_fifo`, `vrrp_notify_fifo_script`, `vrrp_startup_delay`,
//! `lvs_flush`, `lvs_timeouts`.
//!
//! Rejected: `default_interface`, `net_namespace`, `lvs_sync_daemon`, `nftables`.
//!
//! ## `vrrp_script NAME`
//!
//! Supported: `script` (required), `interval` (whole seconds, default 1),
//! `timeout`, `weight N [reverse]` (-253..=253), `rise`, `fall`,
//! `user USER [GROUP]`. Accepted and ignored: `init_fail`.
//!
//! ## `vrrp_instance NAME`
//!
//! Supported: `state MASTER|BACKUP` (anything else: BACKUP, with a recovered
//! error), `interface` (required), `virtual_router_id` (1..=255, required),
//! `priority` (1..=255; out of range gives the default 100 with a recovered
//! error, as keepalived does), `advert_int` (seconds; VRRPv2 rounds fractions
//! with a recovered error, VRRPv3 takes centiseconds up to 40.95),
//! `garp_master_delay`, `garp_master_repeat`, `garp_master_refresh`,
//! `authentication { auth_type PASS|AH; auth_pass }` (a password over 8 bytes
//! is truncated with a recovered error), `virtual_ipaddress` and
//! `virtual_ipaddress_excluded` entries `ADDR[/PREFIX] [brd X] [dev IF]
//! [scope S] [label L]`, `track_script { NAME [weight N [reverse]] }`,
//! `track_interface { IF [weight N [reverse]] }`, `nopreempt`,
//! `preempt_delay`, `unicast_src_ip`, `unicast_peer { ADDR }`,
//! `notify_master`, `notify_backup`, `notify_fault`, `notify_stop`, `notify`,
//! `smtp_alert`, `version 2|3`, `native_ipv6`, `dont_track_primary`.
//!
//! Accepted and ignored: `debug`, `garp_master_refresh_repeat`,
//! `garp_lower_prio_delay`, `garp_lower_prio_repeat`, `lower_prio_no_advert`,
//! `higher_prio_send_advert`, `skip_check_adv_addr`, `strict_mode`,
//! `check_unicast_src`, `unicast_fault_no_peer`.
//!
//! Rejected: `use_vmac`, `vmac_xmit_base`, `mcast_src_ip`, `virtual_routes`,
//! `virtual_rules`, `track_process`, `track_file`, `track_bfd`,
//! `track_src_ip`, `unicast_ttl`, `accept`, `no_accept`,
//! `notify_master_rx_lower_pri`, `notify_deleted`, `promote_secondaries`,
//! `kernel_rx_buf_size`, `old_unicast_checksum`; and virtual address options
//! other than `brd`, `dev`, `scope`, `label` (`no_track`, `preferred_lft`, ...).
//!
//! ## `vrrp_sync_group NAME`
//!
//! Supported: `group { NAME ... }`, `notify_master`, `notify_backup`,
//! `notify_fault`, `notify_stop`, `notify`, `smtp_alert`.
//! Accepted and ignored: `global_tracking`, `sync_group_tracking_weight`.
//! Rejected: `track_script`, `track_interface`, `track_file`, `track_process`.
//!
//! ## Consistency checks
//!
//! Errors: an instance without `interface` or `virtual_router_id`; two
//! instances with one VRID on one interface and address family; a
//! `track_script` naming no `vrrp_script`; a sync group naming an unknown
//! instance, or an instance in two groups; a `vrrp_script` without `script`;
//! virtual addresses that do not parse; names defined twice. Recovered
//! errors: an instance without virtual addresses, a virtual address of the
//! other family, an unknown `scope`. Warnings: a sync group of one instance.
//! [`Config::check_interfaces`](crate::Config::check_interfaces) reports
//! interfaces missing on the host; [`Config::script_security_violation`](crate::Config::script_security_violation)
//! tells when scripts would run as root without `enable_script_security`.
