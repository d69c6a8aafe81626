//! Scripts and notify commands run as `script_user`, and no supplementary
//! group of the root daemon survives the switch (std's spawn clears them when
//! root sets a uid). Needs root; says why and passes otherwise.

use std::time::Duration;

use keepalived_daemon::scripts::run_check;
use keepalived_daemon::users::Credentials;
use vrrp_core::ScriptOutcome;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
    })
}

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

#[tokio::test]
async fn script_runs_as_user_without_root_groups() {
    if !is_root() {
        eprintln!("skipped: switching users needs root");
        return;
    }
    // Give this (root) process supplementary groups a script must not keep.
    let extra = [nix::unistd::Gid::from_raw(0), nix::unistd::Gid::from_raw(4)];
    nix::unistd::setgroups(&extra).expect("setgroups as root");
    let mine = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(
        mine.lines()
            .any(|l| l.starts_with("Groups:") && l.contains('4'))
    );
    let nobody = Credentials {
        uid: 65534,
        gid: 65534,
    };
    let t = Duration::from_secs(10);
    // Uid, Gid and the supplementary groups as /proc shows them.
    let ids = "grep -Eq '^Uid:\\s+65534\\s' /proc/self/status \
               && grep -Eq '^Gid:\\s+65534\\s' /proc/self/status \
               && grep -Eq '^Groups:\\s*$' /proc/self/status";
    assert_eq!(
        run_check(&sh(ids), nobody, t).await,
        ScriptOutcome::Exited(0)
    );
    // The check can fail, too: root's group 0 is not among them.
    let root_group = "grep -Eq '^Groups:.*\\b0\\b' /proc/self/status";
    assert_eq!(
        run_check(&sh(root_group), nobody, t).await,
        ScriptOutcome::Exited(1)
    );
    // A program found through PATH, as keepalived finds `killall`.
    assert_eq!(
        run_check(&["true".to_string()], nobody, t).await,
        ScriptOutcome::Exited(0)
    );
    assert_eq!(
        run_check(&["/nonexistent/check".to_string()], nobody, t).await,
        ScriptOutcome::Exited(127)
    );
}
