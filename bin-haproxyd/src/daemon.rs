//! `daemon` / `-D`: going to the background without `fork()`.
//!
//! `fork()` is unsafe in a Rust program and this crate forbids unsafe code,
//! so the foreground process re-executes its own binary with the same
//! arguments, the same working directory and the [`CHILD_ENV`] marker, its
//! stdin on `/dev/null` and its stdout and stderr on two pipes. The child
//! starts a new session ([`detach`]), then does everything a foreground run
//! does (binds, writes the pid file, drops privileges, ...), printing its
//! warnings and alerts on the stderr pipe. Once it serves, [`ready`] writes
//! [`READY`] on the stdout pipe and points both at `/dev/null`.
//!
//! The foreground process ([`spawn`]) relays the child's stderr as its own
//! and exits 0 when the child reports ready, or with the child's exit code
//! when it exits before that: errors at start-up reach the terminal and the
//! exit status, as they do with HAProxy's fork.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

/// Environment variable marking the re-executed background process.
pub(crate) const CHILD_ENV: &str = "HAPROXYD_DAEMON_CHILD";

/// The line the background process writes on stdout once it serves.
const READY: &str = "haproxyd-ready";

/// Whether this process is the background half of `-D`.
pub(crate) fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some_and(|value| value == "1")
}

/// Starts the background process with `args` in `cwd` and waits until it
/// serves or fails. Returns the exit code for the foreground process.
pub(crate) fn spawn(args: &[OsString], cwd: &Path) -> Result<u8, String> {
    let exe = std::env::current_exe()
        .map_err(|err| format!("[haproxyd.main()] Cannot find the executable : {err}."))?;
    let mut child = Command::new(&exe)
        .args(args)
        .current_dir(cwd)
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("[haproxyd.main()] Cannot go to the background : {err}."))?;
    let relay = child.stderr.take().map(|mut from| {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut std::io::stderr());
        })
    });
    let mut ready = false;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            match line {
                Ok(line) if line == READY => {
                    ready = true;
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    // The child closes its stderr before announcing itself, so the relay
    // ends right away in both cases.
    if let Some(relay) = relay {
        let _ = relay.join();
    }
    if ready {
        return Ok(0);
    }
    let status = child
        .wait()
        .map_err(|err| format!("[haproxyd.main()] Lost the background process : {err}."))?;
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .unwrap_or(1))
}

/// In the background process: leaves the foreground's session and process
/// group, so the terminal's hang-ups and job control no longer reach it.
pub(crate) fn detach() -> Result<(), String> {
    nix::unistd::setsid().map(drop).map_err(|err| {
        format!(
            "[haproxyd.main()] Cannot start a new session : {}.",
            err.desc()
        )
    })
}

/// Opens `/dev/null` for [`ready`], before a chroot hides it.
pub(crate) fn open_null() -> Result<File, String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|err| format!("[haproxyd.main()] Cannot open /dev/null : {err}."))
}

/// In the background process, once serving: stops writing to the
/// foreground's stderr, announces readiness and lets go of stdout. `null`
/// comes from [`open_null`].
pub(crate) fn ready(null: File) -> Result<(), String> {
    let redirect = |err: nix::Error| {
        format!(
            "[haproxyd.main()] Cannot redirect standard streams : {}.",
            err.desc()
        )
    };
    nix::unistd::dup2_stderr(&null).map_err(redirect)?;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{READY}");
    let _ = stdout.flush();
    nix::unistd::dup2_stdout(&null).map_err(redirect)?;
    Ok(())
}
