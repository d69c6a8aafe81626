//! The `-v` and `-vv` texts, laid out as HAProxy lays them out so that
//! scripts reading the first line or grepping the feature list keep working.
//!
//! The feature list names HAProxy's build features and marks with `+` only
//! those this build provides; everything else is listed with `-`.

use std::fmt::Write as _;

/// The product name on the first line.
const NAME: &str = "haproxyd";
/// The HAProxy release whose configuration language and behaviour we follow.
const COMPATIBLE_WITH: &str = "2.6";

/// HAProxy's build features and whether this build has them.
const FEATURES: &[(&str, bool)] = &[
    ("51DEGREES", false),
    ("ACCEPT4", true),
    ("BACKTRACE", true),
    ("CLOSEFROM", false),
    ("CPU_AFFINITY", false),
    ("CRYPT_H", false),
    ("DEVICEATLAS", false),
    ("DL", false),
    ("ENGINE", false),
    ("EPOLL", true),
    ("EVPORTS", false),
    ("GETADDRINFO", false),
    ("KQUEUE", false),
    ("LIBCRYPT", false),
    ("LINUX_SPLICE", false),
    ("LINUX_TPROXY", false),
    ("LUA", false),
    ("MEMORY_PROFILING", false),
    ("NETFILTER", false),
    ("NS", false),
    ("OBSOLETE_LINKER", false),
    ("OPENSSL", false),
    ("OT", false),
    ("PCRE", false),
    ("PCRE2", false),
    ("PCRE2_JIT", false),
    ("PCRE_JIT", false),
    ("POLL", false),
    ("PRCTL", false),
    ("PROCCTL", false),
    ("PROMEX", false),
    ("QUIC", false),
    ("RT", false),
    ("SLZ", false),
    ("STATIC_PCRE", false),
    ("STATIC_PCRE2", false),
    ("SYSTEMD", false),
    ("TFO", false),
    ("THREAD", true),
    ("THREAD_DUMP", false),
    ("TPROXY", false),
    ("WURFL", false),
    ("ZLIB", false),
];

/// The `-v` text: the version line, the compatibility status and the system.
pub(crate) fn version() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{NAME} version {} - {}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    );
    let _ = writeln!(
        out,
        "Status: compatible with the HAProxy {COMPATIBLE_WITH} configuration language."
    );
    let _ = writeln!(out, "Running on: {}", running_on());
    out
}

/// The `-vv` text: `-v`, then the build options and the feature list.
pub(crate) fn build_options() -> String {
    let mut out = version();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let _ = writeln!(out, "Build options :");
    let _ = writeln!(
        out,
        "  TARGET  = {}-{}",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    let _ = writeln!(out, "  PROFILE = {profile}");
    let _ = writeln!(out, "  RUSTC   = edition 2024");
    let _ = writeln!(out);
    let _ = writeln!(out, "Feature list : {}", feature_list());
    let _ = writeln!(out);
    let _ = writeln!(out, "Default settings :");
    let _ = writeln!(out, "  bufsize = 16384, maxrewrite = 1024");
    let _ = writeln!(out);
    let _ = writeln!(out, "Built with multi-threading support.");
    let _ = writeln!(out, "Built without OpenSSL support.");
    let _ = writeln!(out, "Built without Lua support.");
    let _ = writeln!(out, "Built without PCRE or PCRE2 support.");
    let _ = writeln!(out, "Built without compression support.");
    let _ = writeln!(out);
    let _ = writeln!(out, "Available polling systems :");
    let _ = writeln!(out, "      epoll : pref=300,  test result OK");
    let _ = writeln!(out, "Total: 1 (1 usable), will use epoll.");
    let _ = writeln!(out);
    let _ = writeln!(out, "Available multiplexer protocols :");
    let _ = writeln!(
        out,
        "(protocols marked as <default> cannot be specified using 'proto' keyword)"
    );
    let _ = writeln!(
        out,
        "  <default> : mode=HTTP  side=FE|BE  mux=H1    flags=HTX"
    );
    let _ = writeln!(out, "  <default> : mode=TCP   side=FE|BE  mux=PASS  flags=");
    out
}

fn feature_list() -> String {
    FEATURES
        .iter()
        .map(|(name, on)| format!("{}{name}", if *on { '+' } else { '-' }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `uname -srvm` as HAProxy prints it, read from /proc; missing parts are
/// left out rather than guessed.
fn running_on() -> String {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
            .map(|text| text.trim().to_owned())
            .unwrap_or_default()
    };
    let parts = [
        read("ostype"),
        read("osrelease"),
        read("version"),
        std::env::consts::ARCH.to_owned(),
    ];
    parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_name_and_version() {
        let text = version();
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("haproxyd version 0."), "{first}");
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn feature_list_is_sorted_and_signed() {
        let list = feature_list();
        let words: Vec<&str> = list.split(' ').collect();
        assert_eq!(words.len(), FEATURES.len());
        assert!(
            words
                .iter()
                .all(|w| w.starts_with('+') || w.starts_with('-'))
        );
        let names: Vec<&str> = words.iter().map(|w| &w[1..]).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(list.contains("+EPOLL") && list.contains("-OPENSSL"));
    }

    #[test]
    fn build_options_follow_the_version() {
        let text = build_options();
        assert!(text.starts_with(&version()));
        assert!(text.contains("\nBuild options :\n"));
        assert!(text.contains("\nFeature list : "));
    }
}
