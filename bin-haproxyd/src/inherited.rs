//! `bind fd@N`: checks that an inherited descriptor is there and is a
//! socket, as HAProxy does while loading (even with `-c`).
//!
//! proxy-config does no IO, so this check lives in the binary. It reads
//! `/proc/self/fd/N`, whose link target is `socket:[inode]` for a socket.

use std::path::Path;

use proxy_config::{BindAddress, Diagnostic, DiagnosticKind, Errors, Loaded, Severity};

/// Why descriptor `fd` cannot be used as a listener, if it cannot, reading
/// descriptor links under `fd_dir` (`/proc/self/fd` outside tests).
fn unusable(fd_dir: &Path, fd: u32) -> Option<&'static str> {
    match std::fs::read_link(fd_dir.join(fd.to_string())) {
        Err(_) => Some("Bad file descriptor"),
        Ok(target) if target.to_string_lossy().starts_with("socket:") => None,
        Ok(_) => Some("Socket operation on non-socket"),
    }
}

/// Turns a successful load into a failure when a `bind fd@N` names a
/// descriptor that is not an open socket; other results pass unchanged.
pub(crate) fn check(result: Result<Loaded, Errors>) -> Result<Loaded, Errors> {
    check_in(result, Path::new("/proc/self/fd"))
}

fn check_in(result: Result<Loaded, Errors>, fd_dir: &Path) -> Result<Loaded, Errors> {
    let loaded = result?;
    let mut errors = Vec::new();
    for proxy in &loaded.config.proxies {
        for bind in &proxy.binds {
            for address in &bind.value.addresses {
                let BindAddress::Fd(fd) = address else {
                    continue;
                };
                if let Some(reason) = unusable(fd_dir, *fd) {
                    errors.push(Diagnostic {
                        span: bind.span.clone(),
                        section: None,
                        keyword: Some("bind".to_owned()),
                        kind: DiagnosticKind::InvalidArgument {
                            keyword: "bind".to_owned(),
                            message: format!("cannot use file descriptor '{fd}' : {reason}."),
                        },
                        severity: Severity::Error,
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(loaded);
    }
    let mut diagnostics = loaded.warnings;
    diagnostics.extend(errors);
    Err(Errors { diagnostics })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Loaded, Errors> {
        proxy_config::parse_str("t.cfg", text, &|_| None)
    }

    const CONFIG: &str = "defaults\n    mode http\n    timeout connect 5s\n    \
                          timeout client 30s\n    timeout server 30s\n\
                          frontend web\n    bind fd@7\n    default_backend app\n\
                          backend app\n    server a1 127.0.0.1:8001\n";

    /// A fake descriptor directory with fd 7 linked to `target`, if any.
    fn fd_dir(tag: &str, target: Option<&str>) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("haproxyd-fd-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(target) = target {
            std::os::unix::fs::symlink(target, dir.join("7")).unwrap();
        }
        dir
    }

    #[test]
    fn a_socket_descriptor_is_accepted() {
        let dir = fd_dir("socket", Some("socket:[12345]"));
        assert!(check_in(load(CONFIG), &dir).is_ok());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_file_descriptor_is_refused_at_the_bind_line() {
        let dir = fd_dir("file", Some("/dev/null"));
        let errors = check_in(load(CONFIG), &dir).unwrap_err();
        let _ = std::fs::remove_dir_all(dir);
        let error = errors.errors().next().unwrap();
        assert_eq!((error.file(), error.line()), ("t.cfg", 7));
        assert!(error.message().contains("Socket operation on non-socket"));
    }

    #[test]
    fn a_closed_descriptor_is_refused() {
        let dir = fd_dir("closed", None);
        let errors = check_in(load(CONFIG), &dir).unwrap_err();
        let _ = std::fs::remove_dir_all(dir);
        assert!(
            errors
                .errors()
                .any(|e| e.message().contains("Bad file descriptor"))
        );
    }

    #[test]
    fn configurations_without_fd_binds_pass_unchanged() {
        let text = CONFIG.replace("fd@7", ":80");
        let dir = fd_dir("none", None);
        assert_eq!(check_in(load(&text), &dir), load(&text));
        let _ = std::fs::remove_dir_all(dir);
    }
}
