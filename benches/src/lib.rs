//! Helpers shared by the criterion benches and the side-by-side runs against
//! HAProxy and keepalived.
//!
//! This crate holds input generators only; it measures nothing itself and
//! does no IO.

use std::fmt::Write as _;

/// Shape of a generated haproxy.cfg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigShape {
    /// Total number of `server` lines, spread evenly over the backends.
    pub servers: u32,
    /// Number of backends; each gets an ACL and a `use_backend` rule.
    pub backends: u32,
}

impl ConfigShape {
    /// The large configuration of the side-by-side run: 300,000 servers in
    /// 3,000 backends.
    pub const LARGE: ConfigShape = ConfigShape {
        servers: 300_000,
        backends: 3_000,
    };
}

/// Generates a valid haproxy.cfg with `shape.servers` servers spread over
/// `shape.backends` backends, and one frontend routing to each backend with a
/// path ACL and a `use_backend` rule.
///
/// Server addresses are taken in order from 127.0.0.0/8 (skipping the
/// network and broadcast addresses of each /24), so the file needs no name
/// resolution; ports vary so that addresses may repeat without two servers of
/// a backend being identical. A backend count of zero is treated as one.
/// The output is a pure function of `shape`.
pub fn haproxy_config(shape: ConfigShape) -> String {
    let backends = shape.backends.max(1);
    // About 110 bytes per server line and 150 per backend.
    let mut out = String::with_capacity(shape.servers as usize * 110 + backends as usize * 150);
    out.push_str(
        "global\n    maxconn 100000\n    log 127.0.0.1:514 local0\n\n\
         defaults\n    mode http\n    log global\n    option httplog\n    option dontlognull\n    \
         retries 3\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n\
         frontend web\n    bind 127.0.0.1:8080\n",
    );
    for b in 0..backends {
        let _ = writeln!(out, "    acl path_b{b} path_beg /b{b}/");
    }
    for b in 0..backends {
        let _ = writeln!(out, "    use_backend be{b} if path_b{b}");
    }
    out.push_str("    default_backend be0\n");

    let mut next_server = 0u32;
    for b in 0..backends {
        let _ = write!(
            out,
            "\nbackend be{b}\n    balance roundrobin\n    default-server inter 2s rise 2 fall 3\n"
        );
        // Spread the remainder over the first backends.
        let count = shape.servers / backends + u32::from(b < shape.servers % backends);
        for s in 0..count {
            let _ = writeln!(
                out,
                "    server s{s} {}:{} check weight {} maxconn 1000",
                loopback_address(next_server),
                8000 + next_server % 1000,
                1 + next_server % 100,
            );
            next_server += 1;
        }
    }
    out
}

/// The `n`-th usable address of 127.0.0.0/8, cycling after 16,581,375.
fn loopback_address(n: u32) -> String {
    // 253 usable host numbers (1..=253) per /24, then 255 * 255 /24s.
    let host = n % 253 + 1;
    let subnet = n / 253;
    let c = subnet % 255;
    let b = (subnet / 255) % 255;
    format!("127.{b}.{c}.{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_shape() {
        let text = haproxy_config(ConfigShape {
            servers: 1_003,
            backends: 10,
        });
        let servers = text
            .lines()
            .filter(|l| l.trim_start().starts_with("server "))
            .count();
        let backends = text.lines().filter(|l| l.starts_with("backend ")).count();
        let rules = text
            .lines()
            .filter(|l| l.trim_start().starts_with("use_backend "))
            .count();
        assert_eq!((servers, backends, rules), (1_003, 10, 10));
        assert!(text.contains("\nbackend be0\n") && text.contains("\nbackend be9\n"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn addresses_stay_in_loopback_and_skip_network_and_broadcast() {
        assert_eq!(loopback_address(0), "127.0.0.1");
        assert_eq!(loopback_address(252), "127.0.0.253");
        assert_eq!(loopback_address(253), "127.0.1.1");
        assert_eq!(loopback_address(253 * 255), "127.1.0.1");
        assert_eq!(loopback_address(299_999), "127.4.165.195");
    }

    #[test]
    fn server_names_are_unique_within_a_backend() {
        let text = haproxy_config(ConfigShape {
            servers: 50,
            backends: 2,
        });
        for backend in text.split("\nbackend ").skip(1) {
            let mut names: Vec<&str> = backend
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("server "))
                .filter_map(|l| l.split(' ').next())
                .collect();
            let total = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), total);
        }
    }

    #[test]
    fn zero_backends_means_one() {
        let text = haproxy_config(ConfigShape {
            servers: 3,
            backends: 0,
        });
        assert_eq!(text.matches("\nbackend ").count(), 1);
    }
}
