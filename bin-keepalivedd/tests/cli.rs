//! Runs the keepalivedd binary as an operator would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn keepalivedd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keepalivedd"))
        .args(args)
        .output()
        .expect("run keepalivedd")
}

fn seed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vrrp-config/tests/data")
        .join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temporary config file, removed on drop.
struct TempConf(PathBuf);

impl TempConf {
    fn new(tag: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("keepalivedd-cli-{}-{tag}.conf", std::process::id()));
        std::fs::write(&path, text).expect("write temp config");
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A non-loopback interface of this host, as keepalived would accept.
fn usable_interface() -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_to_string(e.path().join("type")).is_ok_and(|t| t.trim() != "772"))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().next()
}

fn instance_on(interface: &str) -> String {
    format!(
        "global_defs {{\n    router_id TEST\n}}\n\
         vrrp_instance VI_1 {{\n    state MASTER\n    interface {interface}\n    \
         virtual_router_id 51\n    priority 100\n    advert_int 1\n    \
         virtual_ipaddress {{\n        198.18.0.10/24\n    }}\n}}\n"
    )
}

#[test]
fn seeds_fail_on_missing_eth1_like_keepalived() {
    if Path::new("/sys/class/net/eth1").exists() {
        eprintln!("this host has eth1; the missing-interface case cannot be shown here");
        return;
    }
    let file = seed("keepalived-backup.conf");
    let file_s = file.to_str().expect("utf-8 path");
    let out = keepalivedd(&["-t", "-f", file_s]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains(&format!(
            "{file_s}:18:15: error: interface eth1 for vrrp_instance VI_1 doesn't exist"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{file_s}:28:")), "{err}");
    assert!(
        err.contains("(VI_1) tracked interface eth1 doesn't exist"),
        "{err}"
    );
    assert!(
        err.ends_with("Non-existent interface specified in configuration\n"),
        "{err}"
    );
}

#[test]
fn every_seed_parses_and_only_the_interface_is_missing() {
    for name in [
        "keepalived-backup.conf",
        "keepalived-manager.conf",
        "keepalived-mutual-backup.conf",
        "keepalived-mutual-manager.conf",
    ] {
        let file = seed(name);
        let out = keepalivedd(&["--config-test", "--use-file", file.to_str().expect("path")]);
        let err = stderr(&out);
        for line in err.lines() {
            assert!(
                line.contains("eth1") || line.starts_with("Non-existent interface"),
                "{name}: unexpected line: {line}"
            );
        }
    }
}

#[test]
fn loopback_is_refused_as_keepalived_refuses_it() {
    let conf = TempConf::new("lo", &instance_on("lo"));
    let out = keepalivedd(&["-t", "-f", conf.path()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains(&format!(
            "{}:6:15: error: (VI_1) cannot use a loopback interface (lo) for vrrp",
            conf.path()
        )),
        "{err}"
    );
}

#[test]
fn valid_config_on_a_real_interface_passes() {
    let Some(ifname) = usable_interface() else {
        eprintln!("no non-loopback interface on this host");
        return;
    };
    let conf = TempConf::new("ok", &instance_on(&ifname));
    let out = keepalivedd(&["-t", "-l", "-D", "-f", conf.path()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn scripts_without_script_security_exit_6() {
    let Some(ifname) = usable_interface() else {
        eprintln!("no non-loopback interface on this host");
        return;
    };
    let text = format!(
        "vrrp_script chk {{\n    script \"/bin/true\"\n}}\n{}",
        instance_on(&ifname)
    );
    let conf = TempConf::new("sec", &text);
    let out = keepalivedd(&["-t", "-f", conf.path()]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("SECURITY VIOLATION"));
}

#[test]
fn config_errors_carry_file_and_line() {
    let conf = TempConf::new("bad", "vrrp_instance VI_1 {\n    priorty 100\n}\n");
    let out = keepalivedd(&["-t", "-f", conf.path()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        err.contains(&format!(
            "{}:2:5: error: unknown keyword 'priorty' (did you mean 'priority'?)",
            conf.path()
        )),
        "{err}"
    );
}

#[test]
fn report_goes_to_the_config_test_log_file() {
    let conf = TempConf::new("logged", "vrrp_instance VI_1 {\n    priorty 100\n}\n");
    let log = TempConf::new("log", "");
    let out = keepalivedd(&["-f", conf.path(), &format!("--config-test={}", log.path())]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stderr(&out), "");
    let report = std::fs::read_to_string(log.path()).expect("log file");
    assert!(report.contains("unknown keyword 'priorty'"), "{report}");
}

#[test]
fn missing_file_is_an_error() {
    let out = keepalivedd(&["-t", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr(&out).contains("cannot read '/nonexistent/keepalived.conf'"));
}

#[test]
fn version_help_and_other_modes() {
    let v = keepalivedd(&["-v"]);
    assert_eq!(v.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("keepalivedd "));
    let h = keepalivedd(&["--help"]);
    assert_eq!(h.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&h.stdout).contains("--config-test"));
    let pid = TempConf::new("pid", "");
    let vrrp_pid = TempConf::new("vrrp-pid", "");
    let run = keepalivedd(&[
        "-n",
        "-l",
        "-P",
        "-f",
        "/nonexistent/keepalived.conf",
        "-p",
        pid.path(),
        "-r",
        vrrp_pid.path(),
    ]);
    // keepalived 2.2.7 exits 6 when its configuration file is missing
    assert_eq!(run.status.code(), Some(6));
    assert!(stderr(&run).contains("Config files missing '/nonexistent/keepalived.conf'."));
    let bad = keepalivedd(&["-x"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("invalid option -- 'x'"));
}

#[test]
fn startup_failures_exit_as_keepalived() {
    let pid = TempConf::new("run-pid", "");
    let vrrp_pid = TempConf::new("run-vrrp-pid", "");
    let bad = TempConf::new("run-bad", "vrrp_instance VI_1 {\n    priorty 100\n}\n");
    let args = |conf: &TempConf| {
        keepalivedd(&[
            "-n",
            "-l",
            "-f",
            conf.path(),
            "-p",
            pid.path(),
            "-r",
            vrrp_pid.path(),
        ])
    };
    // a configuration keepalived's VRRP process rejects: exit 2
    let out = args(&bad);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("unknown keyword 'priorty'"));
    assert!(!Path::new(pid.path()).exists(), "pid file removed again");
    // so is a missing interface
    let missing = TempConf::new("run-missing", &instance_on("kdd-nonexist0"));
    let out = args(&missing);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("kdd-nonexist0"));
    // a live process in the pid file: refuse, and exit 0 as keepalived does
    std::fs::write(pid.path(), "1\n").expect("pid file");
    let out = args(&bad);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("daemon is already running"));
    assert_eq!(
        std::fs::read_to_string(pid.path()).expect("pid file kept"),
        "1\n"
    );
}
