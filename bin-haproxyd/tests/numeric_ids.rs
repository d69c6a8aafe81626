//! `uid N` and `gid N` in `global`: haproxyd binds, then runs with those
//! ids, as HAProxy does, without looking any name up.

mod util;

use nix::sys::signal::Signal;
use util::{Proxy, TempDir, body, get, local, quickstart};

#[test]
fn uid_and_gid_apply_after_binding() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: changing ids needs root");
        return;
    }
    // Ids that need not exist in /etc/passwd: numbers are used as given.
    let (uid, gid) = (4242u32, 4343u32);
    let dir = TempDir::new("numeric-ids");
    let (config, ports) = quickstart(&dir, &format!("    uid {uid}\n    gid {gid}\n"));
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    proxy.wait_listening(local(ports[0]));
    let response = get(local(ports[0]), "/index.php");
    assert_eq!(body(&response), "web2 (dynamic)\n", "{response}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", proxy.pid())).unwrap();
    let ids = |key: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap()
            .split_whitespace()
            .map(|id| id.parse().unwrap())
            .collect()
    };
    assert_eq!(ids("Uid:"), [uid; 4], "real, effective, saved, fs uid");
    assert_eq!(ids("Gid:"), [gid; 4], "real, effective, saved, fs gid");
    assert!(!ids("Groups:").contains(&0), "root's group is gone");
    proxy.signal(Signal::SIGINT);
    assert!(proxy.wait_exit().success(), "{}", proxy.stderr_text());
}
