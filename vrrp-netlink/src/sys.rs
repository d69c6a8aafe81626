//! The few system calls socket2 and rtnetlink have no safe API for: interface name to
//! index, `sockaddr_ll` for AF_PACKET, `IPV6_RECVPKTINFO`, a `recvmsg` into an
//! initialised buffer, `setns`, and the capability calls (`prctl`, `capset`). Every
//! `unsafe` block of the crate lives here.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::fd::AsRawFd;

use socket2::{MaybeUninitSlice, MsgHdrMut, SockAddr, SockAddrStorage, Socket};

/// `if_nametoindex(3)` in the calling thread's network namespace.
pub(crate) fn if_nametoindex(name: &str) -> io::Result<u32> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name contains NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call; the function
    // only reads it.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(index)
    }
}

/// A `sockaddr_ll` for interface `ifindex`, EtherType `protocol` (host order) and
/// link-layer destination `dst`.
pub(crate) fn packet_addr(ifindex: u32, protocol: u16, dst: [u8; 6]) -> io::Result<SockAddr> {
    let ifindex = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index out of range"))?;
    let mut storage = SockAddrStorage::zeroed();
    // SAFETY: `sockaddr_storage` is larger than and suitably aligned for `sockaddr_ll`,
    // and a zeroed `sockaddr_ll` is a valid value of that plain C struct.
    let ll = unsafe { storage.view_as::<libc::sockaddr_ll>() };
    ll.sll_family = libc::AF_PACKET as libc::sa_family_t;
    ll.sll_protocol = protocol.to_be();
    ll.sll_ifindex = ifindex;
    ll.sll_halen = 6;
    ll.sll_addr[..6].copy_from_slice(&dst);
    let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the first `len` bytes of `storage` hold the initialised `sockaddr_ll` above,
    // whose family field says AF_PACKET.
    Ok(unsafe { SockAddr::new(storage, len) })
}

/// Sets an `int` socket option.
fn setsockopt_int(
    sock: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the fd is open for the lifetime of `sock`; the option value points to a live
    // `c_int` whose exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `IPV6_RECVPKTINFO`: deliver each datagram's destination address and interface.
pub(crate) fn set_recv_pktinfo_v6(sock: &Socket) -> io::Result<()> {
    setsockopt_int(sock, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)
}

/// `IP_MTU_DISCOVER = IP_PMTUDISC_DONT`: never set DF, as keepalived's adverts do not.
pub(crate) fn set_pmtudisc_dont_v4(sock: &Socket) -> io::Result<()> {
    setsockopt_int(
        sock,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DONT,
    )
}

/// What one `recvmsg` produced.
pub(crate) struct Received {
    /// Bytes of data.
    pub(crate) len: usize,
    /// Bytes of ancillary data.
    pub(crate) control_len: usize,
    /// The sender.
    pub(crate) from: SockAddr,
    /// The datagram was longer than `buf` (MSG_TRUNC).
    pub(crate) truncated: bool,
}

/// `recvmsg(2)` into initialised buffers.
pub(crate) fn recvmsg(sock: &Socket, buf: &mut [u8], control: &mut [u8]) -> io::Result<Received> {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the kernel only ever writes
    // initialised bytes into these buffers, so they stay valid `u8` slices afterwards.
    let data = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    // SAFETY: as above.
    let control = unsafe { &mut *(control as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let mut bufs = [MaybeUninitSlice::new(data)];
    // the largest address family this crate receives, so that msg_namelen fits any sender
    let mut from = SockAddr::from(std::net::SocketAddrV6::new(
        std::net::Ipv6Addr::UNSPECIFIED,
        0,
        0,
        0,
    ));
    let (len, control_len, truncated) = {
        let mut msg = MsgHdrMut::new()
            .with_addr(&mut from)
            .with_buffers(&mut bufs)
            .with_control(control);
        let len = sock.recvmsg(&mut msg, 0)?;
        (len, msg.control_len(), msg.flags().is_truncated())
    };
    Ok(Received {
        len,
        control_len,
        from,
        truncated,
    })
}

/// Moves the calling thread into the network namespace at `path` (`setns(2)`).
pub(crate) fn setns_net(path: &std::path::Path) -> io::Result<()> {
    let f = File::open(path)?;
    // SAFETY: `f` is an open namespace fd for the duration of the call; setns only changes
    // the calling thread's namespace and touches no memory of ours.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Registers `sock` with the current tokio reactor; an error, not a panic, when there is
/// no runtime.
pub(crate) fn register(
    sock: Socket,
    interest: tokio::io::Interest,
) -> io::Result<tokio::io::unix::AsyncFd<Socket>> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(io::Error::other("not called from within a tokio runtime"));
    }
    // SAFETY: `Socket` owns its fd, which stays open and unchanged until the `Socket` is
    // dropped; the `AsyncFd` owns the `Socket` and nothing here replaces or closes the fd
    // while it does.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(sock, interest) }
        .map_err(io::Error::from)
}

/// `prctl(option, arg2, 0, 0, 0)` for the capability options, which take plain integers.
pub(crate) fn prctl_int(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<()> {
    let zero: libc::c_ulong = 0;
    // SAFETY: PR_CAPBSET_DROP and PR_CAP_AMBIENT take integer arguments only; no pointer
    // is passed and no memory of ours is touched.
    let rc = unsafe { libc::prctl(option, arg2, zero, zero, zero) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets as two 32-bit words.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Sets the calling thread's effective and permitted capability sets to `mask` (bit N
/// is capability N) and its inheritable set to nothing (`capset(2)`, version 3).
pub(crate) fn capset_thread(mask: u64) -> io::Result<()> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let low = (mask & 0xffff_ffff) as u32;
    let high = (mask >> 32) as u32;
    let data = [
        CapData {
            effective: low,
            permitted: low,
            inheritable: 0,
        },
        CapData {
            effective: high,
            permitted: high,
            inheritable: 0,
        },
    ];
    // SAFETY: `header` and `data` are live, properly laid out (`repr(C)`) version-3
    // structures: one header and the two data words version 3 reads. The kernel may
    // write the preferred version into the header, which is why it is passed mutable;
    // the data is only read. pid 0 is the calling thread.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
