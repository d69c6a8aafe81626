//! keepalivedd: flags, signals and wiring around vrrp-core and vrrp-netlink.
//!
//! Today it checks configurations (`-t`), prints its version (`-v`) and usage
//! (`-h`); the VRRP daemon itself is not available yet.

mod flags;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use flags::Mode;
use vrrp_config::{InterfaceState, TestStatus};

fn main() -> ExitCode {
    let flags = match flags::parse(std::env::args().skip(1)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("keepalivedd: {e}");
            eprintln!("Try 'keepalivedd --help' for more information.");
            return ExitCode::from(1);
        }
    };
    match flags.mode {
        Mode::Help => {
            print!("{}", flags::USAGE);
            ExitCode::SUCCESS
        }
        Mode::Version => {
            println!(
                "keepalivedd {} (keepalived 2.2 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::SUCCESS
        }
        Mode::ConfigTest(log) => config_test(&flags.config, log.as_deref()),
        Mode::Run => {
            eprintln!("keepalivedd: the VRRP daemon is not available yet; only -t, -v and -h work");
            ExitCode::from(1)
        }
    }
}

/// `-t`: report to stderr (or `log`), exit as keepalived does (0, 5 or 6).
fn config_test(config: &Path, log: Option<&Path>) -> ExitCode {
    let test = vrrp_config::config_test(vrrp_config::load(config), host_interface);
    let mut report = String::new();
    for d in &test.diagnostics {
        report.push_str(&d.to_string());
        report.push('\n');
    }
    if test
        .diagnostics
        .iter()
        .any(|d| matches!(d.problem, vrrp_config::Problem::Interface(_)))
    {
        report.push_str("Non-existent interface specified in configuration\n");
    }
    if test.status == TestStatus::SecurityViolation {
        report.push_str(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.\n",
        );
    }
    let written = match log {
        Some(path) => std::fs::write(path, &report),
        None => std::io::stderr().write_all(report.as_bytes()),
    };
    if let Err(e) = written {
        eprintln!("keepalivedd: cannot write the report: {e}");
    }
    ExitCode::from(test.status.exit_code())
}

/// Looks `name` up in /sys/class/net: missing, loopback (ARPHRD_LOOPBACK) or usable.
fn host_interface(name: &str) -> InterfaceState {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return InterfaceState::Missing;
    }
    let dir = Path::new("/sys/class/net").join(name);
    if !dir.exists() {
        return InterfaceState::Missing;
    }
    match std::fs::read_to_string(dir.join("type")) {
        Ok(t) if t.trim() == "772" => InterfaceState::Loopback,
        _ => InterfaceState::Usable,
    }
}
