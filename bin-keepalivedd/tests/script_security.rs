//! `enable_script_security`: a script that would run as root is refused when
//! any part of its real path could be changed by another user, as keepalived
//! refuses it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use keepalived_daemon::users::{find_program, insecure_component};

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
    })
}

/// A directory under /tmp (root-owned, sticky), removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("kd-sec-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn script(dir: &Path, mode: u32) -> PathBuf {
    let f = dir.join("check.sh");
    std::fs::write(&f, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
    f
}

#[test]
fn unsafe_paths_are_found() {
    if !is_root() {
        eprintln!("skipped: the ownership checks need files owned by root");
        return;
    }
    let d = Dir::new("a");
    let f = script(&d.0, 0o755);
    assert_eq!(
        insecure_component(&f),
        None,
        "root-owned 0755 under /tmp is safe"
    );
    // the script itself writable by others
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o757)).unwrap();
    assert_eq!(insecure_component(&f), Some(f.clone()));
    // a directory on the way writable by its group (and without the sticky bit)
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o775)).unwrap();
    assert_eq!(insecure_component(&f), Some(d.0.clone()));
    // ... which the sticky bit makes safe again, as for /tmp
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(insecure_component(&f), None);
    // a file owned by another user
    std::fs::set_permissions(&d.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&f, Some(65534), None).unwrap();
    assert_eq!(insecure_component(&f), Some(f.clone()));
    // a symbolic link is judged by what it points at
    let e = Dir::new("b");
    let safe = script(&e.0, 0o755);
    let link = d.0.join("link.sh");
    std::os::unix::fs::symlink(&safe, &link).unwrap();
    assert_eq!(insecure_component(&link), None);
    // a missing script cannot be vouched for
    assert!(insecure_component(&d.0.join("missing")).is_some());
}

#[test]
fn programs_are_found_through_path() {
    assert_eq!(
        find_program("/bin/true", "/nonexistent"),
        Some(PathBuf::from("/bin/true"))
    );
    let found = find_program("sh", "/nonexistent:/usr/bin:/bin").unwrap();
    assert!(found.ends_with("sh") && found.is_absolute());
    assert_eq!(find_program("no-such-program-here", "/usr/bin:/bin"), None);
}
