//! Who scripts run as: `/etc/passwd` and `/etc/group` lookups, and keepalived's rule
//! for the default script user.
//!
//! Name lookups read the files directly (no NSS): enough for local accounts, which
//! is what `script_user` names in practice.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::Error;

/// A numeric user and group a child process is started as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Credentials {
    /// root:root.
    pub const ROOT: Credentials = Credentials { uid: 0, gid: 0 };
}

/// The user keepalived runs scripts as when no `script_user` is configured and it exists.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Finds `name` (or a numeric id) in passwd-format `text`: its uid and primary gid.
pub fn parse_passwd(text: &str, name: &str) -> Option<Credentials> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut f = l.split(':');
            let user = f.next()?;
            let _pw = f.next()?;
            let uid = f.next()?.parse().ok()?;
            let gid = f.next()?.parse().ok()?;
            (user == name).then_some(Credentials { uid, gid })
        })
        .or_else(|| {
            let uid: u32 = name.parse().ok()?;
            Some(Credentials { uid, gid: uid })
        })
}

/// Finds group `name` (or a numeric id) in group-format `text`.
pub fn parse_group(text: &str, name: &str) -> Option<u32> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut f = l.split(':');
            let group = f.next()?;
            let _pw = f.next()?;
            let gid = f.next()?.parse().ok()?;
            (group == name).then_some(gid)
        })
        .or_else(|| name.parse().ok())
}

/// Looks up `user` and optional `group` in the files under `etc` (normally `/etc`).
pub fn lookup_in(etc: &Path, user: &str, group: Option<&str>) -> Result<Credentials, Error> {
    let read = |f: &str| {
        let path = etc.join(f);
        std::fs::read_to_string(&path).map_err(|source| Error::Io {
            op: "reading",
            path,
            source,
        })
    };
    let mut creds = parse_passwd(&read("passwd")?, user).ok_or_else(|| Error::NoSuchUser {
        kind: "user",
        name: user.to_string(),
    })?;
    if let Some(g) = group {
        creds.gid = parse_group(&read("group")?, g).ok_or_else(|| Error::NoSuchUser {
            kind: "group",
            name: g.to_string(),
        })?;
    }
    Ok(creds)
}

/// Looks up `user` and optional `group` in /etc.
pub fn lookup(user: &str, group: Option<&str>) -> Result<Credentials, Error> {
    lookup_in(Path::new("/etc"), user, group)
}

/// The user scripts run as when none is configured, as keepalived picks it:
/// `keepalived_script` when that account exists, otherwise root. The flag says whether
/// the fallback to root happened, which keepalived reports as a security violation
/// unless `enable_script_security` is set.
pub fn default_script_user(etc: &Path) -> (Credentials, bool) {
    match lookup_in(etc, DEFAULT_SCRIPT_USER, None) {
        Ok(c) => (c, false),
        Err(_) => (Credentials::ROOT, true),
    }
}

/// Where `program` (a script's argv\[0\]) is found: itself when it holds a `/`,
/// else the first executable of that name in `path` (a `PATH` value).
pub fn find_program(program: &str, path: &str) -> Option<std::path::PathBuf> {
    if program.contains('/') {
        return Some(Path::new(program).to_path_buf());
    }
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `enable_script_security`'s test for a script that would run as root, as
/// keepalived makes it: the first component of its real path, the file itself
/// or a directory above it, that a user other than root could change (owned
/// by another user, or writable by group or others, a directory with the
/// sticky bit excepted). `None` when the path is safe; an unreadable path
/// counts as unsafe.
pub fn insecure_component(script: &Path) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let real = match std::fs::canonicalize(script) {
        Ok(r) => r,
        Err(_) => return Some(script.to_path_buf()),
    };
    for component in real.ancestors() {
        let Ok(m) = std::fs::metadata(component) else {
            return Some(component.to_path_buf());
        };
        let sticky_dir = m.is_dir() && m.mode() & 0o1000 != 0;
        if m.uid() != 0 || (!sticky_dir && m.mode() & 0o022 != 0) {
            return Some(component.to_path_buf());
        }
    }
    None
}
