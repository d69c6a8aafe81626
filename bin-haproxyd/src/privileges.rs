//! `chroot`, `group`/`gid` and `user`/`uid` from the `global` section, applied after the
//! listeners are bound, as HAProxy does: a process started as root binds
//! privileged ports, then confines itself and gives up root.
//!
//! Names are resolved by [`Plan::resolve`] before anything changes, while
//! `/etc/passwd` and `/etc/group` are still reachable; [`Plan::apply`] then
//! enters the chroot, sets the groups and finally the user, in the order that
//! keeps the right to do each step until it is done.

use std::ffi::CString;
use std::path::PathBuf;

use nix::unistd::{Gid, Group, Uid, User};
use proxy_config::{Global, Span, Spanned};

/// What to change, with names already resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    chroot: Option<PathBuf>,
    /// `group` or `gid`: the group id.
    gid: Option<Gid>,
    /// `user`: the name (for the supplementary groups) and the user id.
    user: Option<(CString, Uid)>,
    /// `uid`: a user id given as a number, with no name.
    uid: Option<Uid>,
}

impl Plan {
    /// Looks up the `user` and `group` names of `global` (`uid` and `gid`
    /// need no lookup). An unknown name is an error naming the
    /// configuration line.
    pub(crate) fn resolve(global: &Global) -> Result<Plan, String> {
        let gid = match &global.group {
            None => global.gid.as_ref().map(|gid| Gid::from_raw(gid.value)),
            Some(group) => Some(lookup(group, "group", Group::from_name)?.gid),
        };
        let user = match &global.user {
            None => None,
            Some(user) => {
                let uid = lookup(user, "user", User::from_name)?.uid;
                let name = CString::new(user.value.as_bytes()).map_err(|_| {
                    format!(
                        "parsing [{}] : user name '{}' contains a NUL byte.",
                        at(&user.span),
                        user.value
                    )
                })?;
                Some((name, uid))
            }
        };
        Ok(Plan {
            chroot: global.chroot.as_ref().map(|dir| dir.value.clone()),
            gid,
            user,
            uid: global.uid.as_ref().map(|uid| Uid::from_raw(uid.value)),
        })
    }

    /// Enters the chroot (and its root directory), sets the group and the
    /// supplementary groups, then the user. Messages follow HAProxy's.
    pub(crate) fn apply(&self) -> Result<(), String> {
        if let Some(dir) = &self.chroot {
            nix::unistd::chroot(dir.as_path())
                .and_then(|()| nix::unistd::chdir("/"))
                .map_err(|err| {
                    format!(
                        "[haproxyd.main()] Cannot chroot({}) : {}.",
                        dir.display(),
                        err.desc()
                    )
                })?;
        }
        // Supplementary groups first: they must not keep root's groups once
        // the user changes. With a user, its own groups plus `group`; with a
        // group only, just that group, as HAProxy does.
        let root = Uid::effective().is_root();
        match (&self.user, self.gid) {
            (Some((name, _)), gid) if root => {
                let primary = gid.unwrap_or_else(Gid::effective);
                nix::unistd::initgroups(name, primary).map_err(|err| {
                    format!(
                        "[haproxyd.main()] Failed to set supplementary groups : {}.",
                        err.desc()
                    )
                })?;
            }
            (None, Some(gid)) if root => {
                nix::unistd::setgroups(&[gid]).map_err(|err| {
                    format!(
                        "[haproxyd.main()] Failed to drop supplementary groups : {}.",
                        err.desc()
                    )
                })?;
            }
            _ => {}
        }
        if let Some(gid) = self.gid {
            nix::unistd::setgid(gid).map_err(|err| {
                format!("[haproxyd.main()] Cannot set gid {gid} : {}.", err.desc())
            })?;
        }
        if let Some(uid) = self.user.as_ref().map(|(_, uid)| *uid).or(self.uid) {
            nix::unistd::setuid(uid).map_err(|err| {
                format!("[haproxyd.main()] Cannot set uid {uid} : {}.", err.desc())
            })?;
        }
        Ok(())
    }
}

/// Looks up the `what` (user or group) named by `name` with `find`.
fn lookup<T>(
    name: &Spanned<String>,
    what: &str,
    find: impl FnOnce(&str) -> nix::Result<Option<T>>,
) -> Result<T, String> {
    match find(&name.value) {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(format!(
            "parsing [{}] : cannot find {what} id for '{}'.",
            at(&name.span),
            name.value
        )),
        Err(err) => Err(format!(
            "parsing [{}] : cannot look up {what} '{}' : {err}.",
            at(&name.span),
            name.value
        )),
    }
}

/// `file:line`, as HAProxy names a configuration line.
fn at(span: &Span) -> String {
    format!("{}:{}", span.file, span.line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(text: &str) -> Global {
        let config = format!(
            "global\n{text}defaults\n    mode http\n    timeout connect 5s\n    \
             timeout client 30s\n    timeout server 30s\n\
             frontend web\n    bind :80\n    default_backend app\n\
             backend app\n    server a1 127.0.0.1:8001\n"
        );
        proxy_config::parse_str("t.cfg", &config, &|_| None)
            .unwrap()
            .config
            .global
    }

    #[test]
    fn nothing_configured_is_an_empty_plan() {
        let plan = Plan::resolve(&global("")).unwrap();
        assert_eq!(plan, Plan::default());
        // Nothing to do succeeds whoever runs it.
        assert_eq!(plan.apply(), Ok(()));
    }

    #[test]
    fn names_resolve_to_ids() {
        // `root` and its group exist on every Linux system.
        let plan = Plan::resolve(&global("    user root\n    group root\n")).unwrap();
        assert_eq!(plan.gid, Some(Gid::from_raw(0)));
        assert_eq!(
            plan.user,
            Some((CString::new("root").unwrap(), Uid::from_raw(0)))
        );
    }

    #[test]
    fn numeric_ids_need_no_lookup() {
        let plan = Plan::resolve(&global("    uid 4242\n    gid 4343\n")).unwrap();
        assert_eq!(plan.gid, Some(Gid::from_raw(4343)));
        assert_eq!((plan.user, plan.uid), (None, Some(Uid::from_raw(4242))));
        // A name given first wins over a later number, as in HAProxy.
        let plan = Plan::resolve(&global("    group root\n    gid 4343\n")).unwrap();
        assert_eq!(plan.gid, Some(Gid::from_raw(0)));
    }

    #[test]
    fn unknown_names_name_the_line() {
        let err = Plan::resolve(&global("    user no-such-user-here\n")).unwrap_err();
        assert_eq!(
            err,
            "parsing [t.cfg:2] : cannot find user id for 'no-such-user-here'."
        );
        let err = Plan::resolve(&global("    group no-such-group-here\n")).unwrap_err();
        assert!(err.contains("cannot find group id for 'no-such-group-here'"));
    }
}
