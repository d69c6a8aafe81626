//! The four reference deployment files: each directive's value in the model.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use vrrp_config::{
    AuthType, Config, Family, Host, InitialState, Loaded, Severity, VrrpInstance, VrrpVersion,
};

fn load(name: &str) -> Loaded {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    match vrrp_config::load(&path) {
        Ok(l) => l,
        Err(e) => panic!("{name} failed to load:\n{e}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("bad test address {s}"))
}

fn instance<'a>(c: &'a Config, name: &str) -> &'a VrrpInstance {
    c.instance(name)
        .unwrap_or_else(|| panic!("instance {name} missing"))
}

/// The values common to every seed's global_defs and vrrp_script.
fn check_common(c: &Config, email: &str, router_id: &str) {
    let g = &c.global;
    assert_eq!(g.notification_email, vec![email.to_string()]);
    assert_eq!(g.notification_email_from.as_deref(), Some("root@localhost"));
    let smtp = g.smtp_server.as_ref().expect("smtp_server");
    assert_eq!(smtp.host, Host::Ip(ip("127.0.0.1")));
    assert_eq!(smtp.port, 25);
    assert_eq!(g.smtp_connect_timeout, Some(Duration::from_secs(3)));
    assert_eq!(g.router_id.as_deref(), Some(router_id));
    assert!(!g.enable_script_security);
    assert_eq!(g.script_user, None);

    assert_eq!(c.scripts.len(), 1);
    let s = &c.scripts[0];
    assert_eq!(s.name, "chk_haproxy");
    assert_eq!(s.script, "killall -0 haproxy");
    assert_eq!(s.interval, Duration::from_secs(2));
    assert_eq!(s.weight, 2);
    assert!(!s.weight_reverse);
    assert_eq!((s.rise, s.fall, s.timeout), (1, 1, None));
    assert!(c.sync_groups.is_empty());
    // Scripts run as root without enable_script_security: keepalived -t exits 6.
    assert!(c.script_security_violation());
}

fn check_instance(
    i: &VrrpInstance,
    state: InitialState,
    vrid: u8,
    priority: u8,
    pass: &str,
    vip: &str,
    tracks_script: bool,
) {
    assert_eq!(i.state, state);
    assert_eq!(i.interface, "eth1");
    assert_eq!(i.virtual_router_id, vrid);
    assert_eq!(i.priority, priority);
    assert_eq!(i.garp_master_delay, Duration::from_secs(1));
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert_eq!(i.version, VrrpVersion::V2);
    let auth = i.authentication.as_ref().expect("authentication");
    assert_eq!(auth.auth_type, AuthType::Pass);
    assert_eq!(auth.auth_pass, pass);
    assert_eq!(i.virtual_ipaddress.len(), 1);
    let v = &i.virtual_ipaddress[0];
    assert_eq!(v.addr, ip(vip));
    assert_eq!(v.prefix, 24);
    assert_eq!(v.dev.as_deref(), Some("eth1"));
    assert_eq!(
        (v.broadcast, v.scope, v.label.as_deref()),
        (None, None, None)
    );
    assert_eq!(i.family(), Family::V4);
    let tracked: Vec<_> = i.track_script.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        tracked,
        if tracks_script {
            vec!["chk_haproxy"]
        } else {
            vec![]
        }
    );
    assert!(i.track_script.iter().all(|t| t.weight.is_none()));
    let ifs: Vec<_> = i.track_interface.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(ifs, vec!["eth1"]);
    assert!(!i.nopreempt && i.unicast_peer.is_empty() && !i.notify.any());
}

#[test]
fn backup_seed() {
    let l = load("keepalived-backup.conf");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    check_common(&l.config, "your_email@163.com", "LVS_HAPROXY");
    assert_eq!(l.config.instances.len(), 1);
    let i = instance(&l.config, "VI_1");
    check_instance(
        i,
        InitialState::Backup,
        77,
        99,
        "11111",
        "192.168.22.249",
        true,
    );
    assert_eq!(i.interface_origin.line, 18);
    assert_eq!(i.virtual_ipaddress[0].origin.line, 28);
    assert_eq!(i.track_interface[0].origin.line, 34);
}

#[test]
fn manager_seed_with_trailing_comments() {
    let l = load("keepalived-manager.conf");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    check_common(&l.config, "your_email@163.com", "LVS_HAPROXY");
    let i = instance(&l.config, "VI_1");
    check_instance(
        i,
        InitialState::Master,
        77,
        100,
        "11111",
        "192.168.22.249",
        true,
    );
}

#[test]
fn mutual_seeds() {
    for (file, first, second) in [
        (
            "keepalived-mutual-backup.conf",
            (InitialState::Backup, 99),
            (InitialState::Master, 100),
        ),
        (
            "keepalived-mutual-manager.conf",
            (InitialState::Master, 100),
            (InitialState::Backup, 99),
        ),
    ] {
        let l = load(file);
        assert!(l.warnings.is_empty(), "{file}: {:?}", l.warnings);
        assert!(l.passes_config_test());
        check_common(&l.config, "root@localhost", "LVS_DEVEL");
        assert_eq!(l.config.instances.len(), 2);
        let a = instance(&l.config, "VI_1");
        check_instance(a, first.0, 100, first.1, "11111", "192.168.22.249", true);
        let b = instance(&l.config, "VI_2");
        check_instance(b, second.0, 101, second.1, "22222", "192.168.22.147", false);
    }
}

#[test]
fn seeds_name_eth1_which_the_check_reports_like_keepalived() {
    let l = load("keepalived-mutual-backup.conf");
    let diags = l.config.check_interfaces(|name| name == "lo");
    let lines: Vec<_> = diags.iter().map(|d| d.origin.line).collect();
    // keepalived -t reports lines 16, 26, 29, 36, 46, 49 for this file.
    assert_eq!(lines, vec![16, 26, 29, 36, 46, 49]);
    assert!(diags.iter().all(|d| d.severity == Severity::Error));
    assert!(
        diags[0]
            .to_string()
            .contains("interface eth1 for vrrp_instance VI_1 doesn't exist")
    );
    assert!(l.config.check_interfaces(|name| name == "eth1").is_empty());
}

#[test]
fn seeds_render_and_reparse_to_the_same_model() {
    for f in [
        "keepalived-backup.conf",
        "keepalived-manager.conf",
        "keepalived-mutual-backup.conf",
        "keepalived-mutual-manager.conf",
    ] {
        let l = load(f);
        let text = l.config.to_string();
        let again = vrrp_config::parse_with_loader("canon.conf", &text, &vrrp_config::NoIncludes)
            .unwrap_or_else(|e| panic!("{f} canonical text failed:\n{e}\n{text}"));
        assert_eq!(again.config, l.config, "{f}");
    }
}
