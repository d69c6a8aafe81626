//! Running `vrrp_script` checks and notify commands: execve of a split argv (no
//! shell), standard streams on /dev/null, as the configured user, a check killed when
//! it overruns its timeout, notify commands left running and reaped in the background.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use vrrp_core::ScriptOutcome;

use crate::Error;
use crate::users::Credentials;

/// The uid this process runs as.
pub fn current_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn command(argv: &[String], creds: Credentials) -> Result<Command, Error> {
    let (prog, args) = argv.split_first().ok_or_else(|| Error::Command {
        command: String::new(),
        reason: "empty command".into(),
    })?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // switching needs root; an unprivileged daemon runs children as itself
    if current_uid() == Some(0) && creds != Credentials::ROOT {
        cmd.gid(creds.gid).uid(creds.uid);
    }
    Ok(cmd)
}

/// Runs a check once: its exit status, the signal that killed it, or `TimedOut`
/// (it is then killed with SIGKILL and reaped). A program that cannot be started
/// counts as exit status 127, as a shell would report it.
pub async fn run_check(argv: &[String], creds: Credentials, timeout: Duration) -> ScriptOutcome {
    let Ok(mut cmd) = command(argv, creds) else {
        return ScriptOutcome::Exited(127);
    };
    cmd.kill_on_drop(true);
    let Ok(mut child) = cmd.spawn() else {
        return ScriptOutcome::Exited(127);
    };
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => ScriptOutcome::Exited(code),
            (None, Some(sig)) => ScriptOutcome::Signalled(sig),
            (None, None) => ScriptOutcome::Exited(127),
        },
        Ok(Err(_)) => ScriptOutcome::Exited(127),
        Err(_) => {
            let _ = child.kill().await;
            ScriptOutcome::TimedOut
        }
    }
}

/// Starts a notify command and returns at once; the child is reaped by a task.
pub fn spawn_notify(argv: &[String], creds: Credentials) -> Result<(), Error> {
    let mut child = command(argv, creds)?.spawn().map_err(|source| Error::Io {
        op: "executing",
        path: argv.first().map(Into::into).unwrap_or_default(),
        source,
    })?;
    tokio::spawn(async move {
        let _ = child.wait().await;
    });
    Ok(())
}
