//! Giving up Linux capabilities once the sockets are open: the bounding set loses
//! every capability not kept (so no program executed later can regain one, even as
//! root), the ambient set is cleared, and the calling thread's effective and permitted
//! sets become exactly the kept ones, with nothing inheritable.
//!
//! Capabilities belong to threads: call [`drop_capabilities`] while the process has
//! a single thread, or from every thread; threads created afterwards inherit the
//! reduced sets.

use crate::{Error, sys};

/// A capability [`drop_capabilities`] can keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cap {
    /// `CAP_KILL`: signal processes of other users (scripts run as `script_user`).
    Kill,
    /// `CAP_SETGID`: change group ids (to start scripts as `script_user`).
    SetGid,
    /// `CAP_SETUID`: change user ids (to start scripts as `script_user`).
    SetUid,
    /// `CAP_NET_ADMIN`: add and remove addresses, bind sockets to devices.
    NetAdmin,
    /// `CAP_NET_RAW`: raw IP and packet sockets.
    NetRaw,
}

impl Cap {
    /// The capability's number in `linux/capability.h`.
    pub fn number(self) -> u32 {
        match self {
            Cap::Kill => 5,
            Cap::SetGid => 6,
            Cap::SetUid => 7,
            Cap::NetAdmin => 12,
            Cap::NetRaw => 13,
        }
    }

    /// The name `capsh` and `/proc/PID/status` decoders print, e.g. `cap_net_raw`.
    pub fn name(self) -> &'static str {
        match self {
            Cap::Kill => "cap_kill",
            Cap::SetGid => "cap_setgid",
            Cap::SetUid => "cap_setuid",
            Cap::NetAdmin => "cap_net_admin",
            Cap::NetRaw => "cap_net_raw",
        }
    }
}

/// The bit mask of `keep` (bit N is capability N), as `CapEff` in `/proc/PID/status`
/// shows it.
pub fn capability_mask(keep: &[Cap]) -> u64 {
    keep.iter().fold(0, |m, c| m | 1u64 << c.number())
}

/// The highest capability number this kernel knows, from
/// `/proc/sys/kernel/cap_last_cap`; 40 (Linux 5.9's last) when unreadable.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
        .min(63)
}

/// Keeps only `keep`: drops every other capability from the bounding set, clears the
/// ambient set, and sets the calling thread's effective and permitted sets to `keep`
/// with an empty inheritable set. Needs CAP_SETPCAP for the bounding set, so call it
/// once, as root, before anything else lowers privileges. Irreversible.
pub fn drop_capabilities(keep: &[Cap]) -> Result<(), Error> {
    let mask = capability_mask(keep);
    for cap in 0..=last_cap() {
        if mask & (1u64 << cap) != 0 {
            continue;
        }
        match sys::prctl_int(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap)) {
            Ok(()) => {}
            // a capability this kernel does not have
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => {
                return Err(Error::io(
                    "PR_CAPBSET_DROP",
                    &format!("capability {cap}"),
                    e,
                ));
            }
        }
    }
    match sys::prctl_int(
        libc::PR_CAP_AMBIENT,
        libc::c_ulong::try_from(libc::PR_CAP_AMBIENT_CLEAR_ALL).unwrap_or(4),
    ) {
        // kernels before 4.3 have no ambient set
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
        Err(e) => return Err(Error::io("PR_CAP_AMBIENT_CLEAR_ALL", "ambient set", e)),
    }
    sys::capset_thread(mask).map_err(|e| Error::io("capset", "the calling thread", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_kernel_numbers() {
        assert_eq!(capability_mask(&[Cap::NetRaw, Cap::NetAdmin]), 0x3000);
        assert_eq!(
            capability_mask(&[Cap::Kill, Cap::SetGid, Cap::SetUid]),
            0xe0
        );
        assert_eq!(capability_mask(&[]), 0);
        assert_eq!(Cap::NetRaw.name(), "cap_net_raw");
    }
}
