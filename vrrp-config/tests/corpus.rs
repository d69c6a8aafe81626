//! Replays `keepalived -t` verdicts recorded by `tests/corpus/capture.sh`.
//!
//! The capture host had a usable `eth0` and a loopback `lo`; every other
//! interface name is missing there, and the probe below says the same.

use std::path::PathBuf;

use vrrp_config::{InterfaceState, TestStatus, config_test};

fn capture_host(name: &str) -> InterfaceState {
    match name {
        "eth0" => InterfaceState::Usable,
        "lo" => InterfaceState::Loopback,
        _ => InterfaceState::Missing,
    }
}

#[test]
fn verdicts_match_keepalived() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut confs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    confs.sort();
    assert!(confs.len() >= 20, "corpus too small: {}", confs.len());
    let mut mismatches = Vec::new();
    let mut seen = [0usize; 3];
    for conf in &confs {
        let expected_file = conf.with_extension("expected");
        let recorded = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_file.display()));
        let want: u8 = recorded
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("exit "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{}: no 'exit N' line", expected_file.display()));
        let test = config_test(vrrp_config::load(conf), capture_host);
        let got = test.status.exit_code();
        seen[match test.status {
            TestStatus::Ok => 0,
            TestStatus::ConfigError => 1,
            TestStatus::SecurityViolation => 2,
        }] += 1;
        if got != want {
            let ours: Vec<String> = test.diagnostics.iter().map(|d| d.to_string()).collect();
            mismatches.push(format!(
                "{}: keepalived exit {want}, ours {got}\n  ours: {ours:#?}\n  keepalived: {recorded}",
                conf.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        seen.iter().all(|&n| n > 0),
        "corpus lacks a verdict kind: {seen:?}"
    );
}
