//! keepalivedd: parses flags, checks configurations (`-t`), daemonizes and runs the
//! VRRP daemon of the `keepalived_daemon` library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use keepalived_daemon::flags::{self, Flags, Mode};
use keepalived_daemon::log::Logger;
use keepalived_daemon::pidfile::{DEFAULT_PID_FILE, PidFile};
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
        Mode::Run => run(&flags),
    }
}

/// Set in the environment of the detached copy a daemonizing keepalivedd starts.
const DETACHED_ENV: &str = "KEEPALIVEDD_DETACHED";

/// keepalived's default pid file of the VRRP process.
const DEFAULT_VRRP_PID_FILE: &str = "/run/vrrp.pid";

fn run(flags: &Flags) -> ExitCode {
    if !flags.dont_fork && std::env::var_os(DETACHED_ENV).is_none() {
        return detach();
    }
    let log = Arc::new(Logger::new(
        flags.log_console,
        !flags.log_console,
        flags.log_detail,
        flags.log_file.as_deref(),
    ));
    log.info(&format!(
        "Starting keepalivedd {}",
        env!("CARGO_PKG_VERSION")
    ));
    let pid = std::process::id();
    let main_pid = flags
        .pid_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
    let vrrp_pid = flags
        .vrrp_pid_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VRRP_PID_FILE));
    let _pidfiles = match PidFile::create(&main_pid, pid)
        .and_then(|a| PidFile::create(&vrrp_pid, pid).map(|b| (a, b)))
    {
        Ok(p) => p,
        Err(e) => {
            log.error(&e.to_string());
            return ExitCode::from(e.exit_code());
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log.error(&format!("cannot start the runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let opts = keepalived_daemon::daemon::Options {
        config: flags.config.clone(),
    };
    match runtime.block_on(keepalived_daemon::daemon::run(opts, Arc::clone(&log))) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            log.error(&e.to_string());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Starts a detached copy of this command (own process group, standard streams on
/// /dev/null) and returns: the copy writes the pid files and runs the daemon.
fn detach() -> ExitCode {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("keepalivedd: cannot find its own executable: {e}");
            return ExitCode::from(1);
        }
    };
    let spawned = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(DETACHED_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match spawned {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keepalivedd: cannot start the daemon: {e}");
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
