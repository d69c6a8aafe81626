//! The reference deployment's four keepalived.conf files, checked by
//! `keepalivedd -t` and by the real `keepalived -t` on a host that has their
//! interface (`eth1`, made in a network namespace): both give the same exit
//! status. keepalived 2.2 answers 6 for them, since their `vrrp_script` would
//! run as root without `enable_script_security`.
//!
//! Needs root (namespaces) and keepalived; says why and passes otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A namespace holding a veth pair whose one end is `eth1`; deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Option<Self> {
        let name = format!("kst-{}", std::process::id());
        let ns = Netns(name.clone());
        let steps: [&[&str]; 4] = [
            &["netns", "add", &name],
            &[
                "-n", &name, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
            ],
            &["-n", &name, "link", "set", "eth1", "up"],
            &["-n", &name, "link", "set", "eth1p", "up"],
        ];
        for args in steps {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("skipped: `ip {}` failed", args.join(" "));
                return None;
            }
        }
        Some(ns)
    }

    fn exit_status(&self, program: &str, conf: &Path) -> Option<i32> {
        Command::new("ip")
            .args(["netns", "exec", &self.0, program, "-t", "-f"])
            .arg(conf)
            .output()
            .ok()?
            .status
            .code()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
    })
}

fn seed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vrrp-config/tests/data")
        .join(name)
}

#[test]
fn seed_files_get_keepalived_verdict_where_eth1_exists() {
    if !is_root() {
        eprintln!("skipped: needs root for network namespaces");
        return;
    }
    let have_keepalived = Command::new("keepalived").arg("-v").output().is_ok();
    if !have_keepalived {
        eprintln!("skipped: keepalived is not installed");
        return;
    }
    let Some(ns) = Netns::new() else { return };
    for name in [
        "keepalived-manager.conf",
        "keepalived-backup.conf",
        "keepalived-mutual-manager.conf",
        "keepalived-mutual-backup.conf",
    ] {
        let conf = seed(name);
        assert!(conf.exists(), "{} missing", conf.display());
        let ours = ns.exit_status(env!("CARGO_BIN_EXE_keepalivedd"), &conf);
        let theirs = ns.exit_status("keepalived", &conf);
        assert_eq!(
            ours, theirs,
            "{name}: keepalivedd vs keepalived exit status"
        );
        // Neither refuses the file itself: 6 is the script-security verdict.
        assert!(matches!(ours, Some(0 | 6)), "{name}: {ours:?}");
    }
}
