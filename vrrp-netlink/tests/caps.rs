//! `drop_capabilities` on a thread of its own (capabilities and the bounding set are
//! per thread, so the rest of the test process keeps its own): afterwards the thread's
//! effective, permitted and bounding sets hold exactly the kept capabilities and
//! nothing is inheritable or ambient. Needs root; skipped with a reason otherwise.

use vrrp_netlink::{Cap, capability_mask, drop_capabilities};

/// A hexadecimal capability field of `/proc/thread-self/status`.
fn field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no {key} in {status}"))
}

#[test]
fn only_the_kept_capabilities_remain() {
    let status = std::fs::read_to_string("/proc/thread-self/status").expect("status");
    let keep = [Cap::NetRaw, Cap::NetAdmin];
    let mask = capability_mask(&keep);
    if field(&status, "CapEff:") & mask != mask || field(&status, "CapEff:") & (1 << 8) == 0 {
        eprintln!("skipped: needs CAP_NET_RAW, CAP_NET_ADMIN and CAP_SETPCAP (root)");
        return;
    }
    let after = std::thread::spawn(move || {
        drop_capabilities(&keep).expect("drop");
        std::fs::read_to_string("/proc/thread-self/status").expect("status")
    })
    .join()
    .expect("thread");
    assert_eq!(field(&after, "CapEff:"), 0x3000, "{after}");
    assert_eq!(field(&after, "CapPrm:"), 0x3000, "{after}");
    assert_eq!(field(&after, "CapBnd:"), 0x3000, "{after}");
    assert_eq!(field(&after, "CapInh:"), 0, "{after}");
    assert_eq!(field(&after, "CapAmb:"), 0, "{after}");
    // This thread was not touched.
    let here = std::fs::read_to_string("/proc/thread-self/status").expect("status");
    assert_eq!(field(&here, "CapEff:"), field(&status, "CapEff:"));
}
