//! Access to the runtime API: a `stats socket`'s file mode is the one
//! configured, and no admin action runs on a socket below the admin level,
//! nor after a session lowers its own level; the server state proves that
//! nothing changed, not only the answer.

mod stats_util;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use stats_util::{Proxy, have, socat, web};

fn config(web1: std::net::SocketAddr) -> String {
    format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin
    stats socket @DIR@/group.sock mode 660 level operator
    stats socket @DIR@/read.sock mode 640 level user
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:1
    default_backend dyn
backend dyn
    server web1 {web1}
"
    )
}

/// The operational and administrative state fields of `web1`.
fn web1_state(p: &Proxy) -> String {
    let out = socat(&p.path("admin.sock"), "show servers state dyn\n");
    let line = out
        .lines()
        .find(|l| l.contains(" web1 "))
        .unwrap_or_else(|| panic!("no web1 in {out}"));
    let f: Vec<&str> = line.split(' ').collect();
    format!("{} {}", f[5], f[6])
}

#[test]
fn socket_files_have_the_configured_mode() {
    let p = Proxy::start(&config(web()));
    for (name, mode) in [
        ("admin.sock", 0o600),
        ("group.sock", 0o660),
        ("read.sock", 0o640),
    ] {
        let meta = std::fs::symlink_metadata(p.path(name)).expect("socket exists");
        assert!(meta.file_type().is_socket(), "{name} is a socket");
        assert_eq!(
            meta.permissions().mode() & 0o7777,
            mode,
            "{name}: mode {:o}",
            meta.permissions().mode()
        );
    }
}

#[test]
fn no_admin_action_below_the_admin_level() {
    if !have("socat") {
        eprintln!("skipped: socat is not installed (scripts/setup installs it)");
        return;
    }
    let p = Proxy::start(&config(web()));
    let before = web1_state(&p);
    for sock in ["read.sock", "group.sock"] {
        for cmd in [
            "disable server dyn/web1",
            "set server dyn/web1 state maint",
            "set server dyn/web1 weight 0",
            "shutdown sessions server dyn/web1",
            "del server dyn/web1",
            "add server dyn/evil 127.0.0.1:1",
        ] {
            assert_eq!(
                socat(&p.path(sock), &format!("{cmd}\n")),
                "Permission denied\n\n",
                "{sock}: {cmd}"
            );
        }
    }
    // An admin session that lowers itself loses the right for the rest of
    // the line, and a command cannot raise it again.
    assert_eq!(
        socat(&p.path("admin.sock"), "user; disable server dyn/web1\n"),
        "\nPermission denied\n\n"
    );
    assert_eq!(web1_state(&p), before, "nothing changed");
    assert_eq!(
        socat(&p.path("admin.sock"), "disable server dyn/web1\n"),
        "\n"
    );
    assert_ne!(web1_state(&p), before, "the admin socket does change it");
}
