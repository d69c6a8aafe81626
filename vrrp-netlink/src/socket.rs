//! The raw IP protocol 112 socket of one VRRP instance's interface, driven by tokio.
//!
//! IPv4 sockets use `IP_HDRINCL`: this module writes the 20-byte IP header itself (TOS
//! 0xc0, TTL 255, no DF, id 0 so that the kernel numbers it, source the chosen address)
//! because a raw socket bound to a local address would no longer see 224.0.0.18. On
//! receive the kernel hands over the IP header, which is checked, read (TTL, addresses)
//! and stripped. IPv6 raw sockets never carry the header: the hop limit, destination
//! and interface come from `IPV6_HOPLIMIT` / `IPV6_PKTINFO` ancillary data, and an
//! explicit source goes out in an `IPV6_PKTINFO` control message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use socket2::{Domain, MsgHdr, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use vrrp_core::Family;
use vrrp_core::wire::{IP_PROTO_VRRP, MULTICAST_V4, MULTICAST_V6, REQUIRED_TTL};

use crate::{Error, sys};

/// TOS / traffic class of adverts: precedence "internetwork control", as keepalived.
pub const TOS_INTERNET_CONTROL: u8 = 0xc0;

/// Length of the IPv4 header this crate writes (no options).
pub const IPV4_HEADER_LEN: usize = 20;

/// Where a received advert came from, as [`Instance::handle_packet`] needs it.
///
/// [`Instance::handle_packet`]: vrrp_core::Instance::handle_packet
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address (the multicast group or our own unicast address).
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6) as received.
    pub ttl: u8,
    /// Index of the interface the packet arrived on.
    pub ifindex: u32,
}

impl RecvMeta {
    /// The address pair for [`vrrp_core::Instance::handle_packet`].
    pub fn ips(&self) -> vrrp_core::IpPair {
        vrrp_core::IpPair {
            src: self.src,
            dst: self.dst,
        }
    }
}

/// A VRRP socket bound to one interface, for one address family.
///
/// `open` must run inside a tokio runtime with IO enabled. `send*` and `recv` take
/// `&self` and are cancel-safe (the system call happens only when the socket is ready,
/// inside the poll), so one task can `select!` over `recv`, timers and other events.
#[derive(Debug)]
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    family: Family,
    ifname: String,
    ifindex: u32,
    source: Option<IpAddr>,
}

impl VrrpSocket {
    /// Opens a raw protocol 112 socket on `ifname` (`SO_BINDTODEVICE`), joins 224.0.0.18
    /// (IPv4) or ff02::12 (IPv6) there, turns multicast loop off and sets TTL / hop limit
    /// 255 and TOS 0xc0. Until [`set_source`](Self::set_source) is called the kernel
    /// picks the source address (IPv4: the interface's primary address).
    pub fn open(ifname: &str, family: Family) -> Result<VrrpSocket, Error> {
        let ifindex = sys::if_nametoindex(ifname).map_err(|e| Error::interface(ifname, e))?;
        let io = |op: &'static str| move |e| Error::io(op, ifname, e);
        let sock = match family {
            Family::V4 => {
                let s = Socket::new(
                    Domain::IPV4,
                    Type::RAW,
                    Some(Protocol::from(i32::from(IP_PROTO_VRRP))),
                )
                .map_err(io("socket(AF_INET, SOCK_RAW, 112)"))?;
                s.set_header_included_v4(true).map_err(io("IP_HDRINCL"))?;
                s.bind_device(Some(ifname.as_bytes()))
                    .map_err(io("SO_BINDTODEVICE"))?;
                s.join_multicast_v4_n(
                    &MULTICAST_V4,
                    &socket2::InterfaceIndexOrAddress::Index(ifindex),
                )
                .map_err(io("IP_ADD_MEMBERSHIP 224.0.0.18"))?;
                s.set_multicast_loop_v4(false)
                    .map_err(io("IP_MULTICAST_LOOP"))?;
                s.set_multicast_ttl_v4(u32::from(REQUIRED_TTL))
                    .map_err(io("IP_MULTICAST_TTL"))?;
                s.set_ttl_v4(u32::from(REQUIRED_TTL))
                    .map_err(io("IP_TTL"))?;
                s.set_tos_v4(u32::from(TOS_INTERNET_CONTROL))
                    .map_err(io("IP_TOS"))?;
                sys::set_pmtudisc_dont_v4(&s).map_err(io("IP_MTU_DISCOVER"))?;
                s
            }
            Family::V6 => {
                let s = Socket::new(
                    Domain::IPV6,
                    Type::RAW,
                    Some(Protocol::from(i32::from(IP_PROTO_VRRP))),
                )
                .map_err(io("socket(AF_INET6, SOCK_RAW, 112)"))?;
                s.bind_device(Some(ifname.as_bytes()))
                    .map_err(io("SO_BINDTODEVICE"))?;
                s.join_multicast_v6(&MULTICAST_V6, ifindex)
                    .map_err(io("IPV6_ADD_MEMBERSHIP ff02::12"))?;
                s.set_multicast_if_v6(ifindex)
                    .map_err(io("IPV6_MULTICAST_IF"))?;
                s.set_multicast_loop_v6(false)
                    .map_err(io("IPV6_MULTICAST_LOOP"))?;
                s.set_multicast_hops_v6(u32::from(REQUIRED_TTL))
                    .map_err(io("IPV6_MULTICAST_HOPS"))?;
                s.set_unicast_hops_v6(u32::from(REQUIRED_TTL))
                    .map_err(io("IPV6_UNICAST_HOPS"))?;
                s.set_tclass_v6(u32::from(TOS_INTERNET_CONTROL))
                    .map_err(io("IPV6_TCLASS"))?;
                s.set_recv_hoplimit_v6(true)
                    .map_err(io("IPV6_RECVHOPLIMIT"))?;
                sys::set_recv_pktinfo_v6(&s).map_err(io("IPV6_RECVPKTINFO"))?;
                s
            }
        };
        sock.set_nonblocking(true).map_err(io("O_NONBLOCK"))?;
        let fd = sys::register(sock, Interest::READABLE | Interest::WRITABLE)
            .map_err(io("registering with the tokio reactor"))?;
        Ok(VrrpSocket {
            fd,
            family,
            ifname: ifname.to_string(),
            ifindex,
            source: None,
        })
    }

    /// The address family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The interface name.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The source address [`send`](Self::send) uses, if one was set.
    pub fn source(&self) -> Option<IpAddr> {
        self.source
    }

    /// Sets the source address of [`send`](Self::send): the interface's primary IPv4
    /// address or its IPv6 link-local address (keepalived's default), or a configured
    /// `mcast_src_ip` / `unicast_src_ip`.
    pub fn set_source(&mut self, src: IpAddr) -> Result<(), Error> {
        check_family(self.family, src, "source address")?;
        self.source = Some(src);
        Ok(())
    }

    /// Sends one VRRP message (`payload`, checksum included) to `dst` (the group or a
    /// unicast peer) from the [`source`](Self::source).
    pub async fn send(&self, dst: IpAddr, payload: &[u8]) -> Result<(), Error> {
        self.send_inner(self.source, dst, payload).await
    }

    /// Sends one VRRP message from an explicit source, e.g. a
    /// [`Transmit`](vrrp_core::Transmit)'s `src`, whose checksum (VRRPv3) covers it.
    pub async fn send_from(&self, src: IpAddr, dst: IpAddr, payload: &[u8]) -> Result<(), Error> {
        self.send_inner(Some(src), dst, payload).await
    }

    async fn send_inner(
        &self,
        src: Option<IpAddr>,
        dst: IpAddr,
        payload: &[u8],
    ) -> Result<(), Error> {
        check_family(self.family, dst, "destination address")?;
        if let Some(s) = src {
            check_family(self.family, s, "source address")?;
        }
        let op = "sendto";
        let sent = match (src, dst) {
            (_, IpAddr::V4(d)) => {
                let s = match src {
                    Some(IpAddr::V4(s)) => s,
                    _ => Ipv4Addr::UNSPECIFIED,
                };
                let packet = ipv4_packet(s, d, payload)?;
                let to = SockAddr::from(SocketAddrV4::new(d, 0));
                let n = self
                    .fd
                    .async_io(Interest::WRITABLE, |sock| sock.send_to(&packet, &to))
                    .await
                    .map_err(|e| Error::io(op, &self.ifname, e))?;
                n.saturating_sub(IPV4_HEADER_LEN)
            }
            (_, IpAddr::V6(d)) => {
                let scope = if is_link_scoped(&d) { self.ifindex } else { 0 };
                let to = SockAddr::from(SocketAddrV6::new(d, 0, 0, scope));
                let control = match src {
                    Some(IpAddr::V6(s)) => pktinfo_v6(s, self.ifindex),
                    _ => Vec::new(),
                };
                let bufs = [std::io::IoSlice::new(payload)];
                self.fd
                    .async_io(Interest::WRITABLE, |sock| {
                        let mut msg = MsgHdr::new().with_addr(&to).with_buffers(&bufs);
                        if !control.is_empty() {
                            msg = msg.with_control(&control);
                        }
                        sock.sendmsg(&msg, 0)
                    })
                    .await
                    .map_err(|e| Error::io(op, &self.ifname, e))?
            }
        };
        if sent != payload.len() {
            return Err(Error::io(
                op,
                &self.ifname,
                std::io::Error::other(format!("short send: {sent} of {} bytes", payload.len())),
            ));
        }
        Ok(())
    }

    /// Receives one VRRP message into `buf` (the IP payload only) and says where it came
    /// from. Malformed IPv4 headers and truncated datagrams are errors
    /// ([`Error::Packet`]); the socket stays usable, so a loop should log and go on.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<(RecvMeta, usize), Error> {
        match self.family {
            Family::V4 => {
                let (n, truncated) = self
                    .fd
                    .async_io(Interest::READABLE, |sock| {
                        sys::recvmsg(sock, buf, &mut []).map(|r| (r.len, r.truncated))
                    })
                    .await
                    .map_err(|e| Error::io("recvmsg", &self.ifname, e))?;
                if truncated {
                    return Err(Error::Packet(format!(
                        "datagram longer than the {}-byte buffer",
                        buf.len()
                    )));
                }
                let data = buf
                    .get(..n)
                    .ok_or_else(|| Error::Packet("bad length".into()))?;
                let h = Ipv4Header::parse(data)?;
                buf.copy_within(h.header_len..h.total_len, 0);
                let meta = RecvMeta {
                    src: IpAddr::V4(h.src),
                    dst: IpAddr::V4(h.dst),
                    ttl: h.ttl,
                    ifindex: self.ifindex,
                };
                Ok((meta, h.total_len - h.header_len))
            }
            Family::V6 => {
                let mut control = [0u8; 128];
                let r = self
                    .fd
                    .async_io(Interest::READABLE, |sock| {
                        sys::recvmsg(sock, buf, &mut control)
                    })
                    .await
                    .map_err(|e| Error::io("recvmsg", &self.ifname, e))?;
                if r.truncated {
                    return Err(Error::Packet(format!(
                        "datagram longer than the {}-byte buffer",
                        buf.len()
                    )));
                }
                let src = r
                    .from
                    .as_socket_ipv6()
                    .map(|a| *a.ip())
                    .ok_or_else(|| Error::Packet("no IPv6 source address".into()))?;
                let ctl = control.get(..r.control_len).unwrap_or(&[]);
                let anc = parse_control_v6(ctl);
                let ttl = anc
                    .hop_limit
                    .ok_or_else(|| Error::Packet(format!("from {src}: no hop limit delivered")))?;
                let (dst, ifindex) = anc.pktinfo.ok_or_else(|| {
                    Error::Packet(format!("from {src}: no packet info delivered"))
                })?;
                let meta = RecvMeta {
                    src: IpAddr::V6(src),
                    dst: IpAddr::V6(dst),
                    ttl,
                    ifindex,
                };
                Ok((meta, r.len))
            }
        }
    }
}

fn check_family(family: Family, addr: IpAddr, what: &str) -> Result<(), Error> {
    if Family::of(&addr) == family {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{what} {addr} is not of the socket's family ({family:?})"
        )))
    }
}

fn is_link_scoped(a: &Ipv6Addr) -> bool {
    let s = a.segments()[0];
    (s & 0xffc0) == 0xfe80 || (s & 0xff0f) == 0xff02
}

/// An IPv4 header as read from a raw socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv4Header {
    pub(crate) header_len: usize,
    pub(crate) total_len: usize,
    pub(crate) ttl: u8,
    pub(crate) protocol: u8,
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
}

impl Ipv4Header {
    /// Checks and reads the header at the start of `data`; after `Ok`,
    /// `header_len <= total_len <= data.len()`.
    pub(crate) fn parse(data: &[u8]) -> Result<Ipv4Header, Error> {
        let fixed: &[u8; IPV4_HEADER_LEN] = data
            .get(..IPV4_HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| {
                Error::Packet(format!(
                    "IPv4 packet of {} bytes: header cut short",
                    data.len()
                ))
            })?;
        if fixed[0] >> 4 != 4 {
            return Err(Error::Packet(format!(
                "IP version {} on an IPv4 socket",
                fixed[0] >> 4
            )));
        }
        let header_len = usize::from(fixed[0] & 0x0f) * 4;
        let total_len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
        if header_len < IPV4_HEADER_LEN || header_len > total_len {
            return Err(Error::Packet(format!(
                "IPv4 header length {header_len} with total length {total_len}"
            )));
        }
        if total_len > data.len() {
            return Err(Error::Packet(format!(
                "IPv4 total length {total_len} but {} bytes received",
                data.len()
            )));
        }
        Ok(Ipv4Header {
            header_len,
            total_len,
            ttl: fixed[8],
            protocol: fixed[9],
            src: Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15]),
            dst: Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19]),
        })
    }
}

/// The IPv4 packet keepalived sends: TOS 0xc0, id 0 (the kernel fills it), no DF,
/// TTL 255, protocol 112. The kernel computes the header checksum and, for an
/// unspecified `src`, the source address.
pub(crate) fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let total = u16::try_from(IPV4_HEADER_LEN + payload.len()).map_err(|_| {
        Error::InvalidArgument(format!("VRRP payload of {} bytes too long", payload.len()))
    })?;
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, TOS_INTERNET_CONTROL]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0, REQUIRED_TTL, IP_PROTO_VRRP, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    Ok(p)
}

/// Ancillary data of one IPv6 datagram.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ControlV6 {
    pub(crate) hop_limit: Option<u8>,
    pub(crate) pktinfo: Option<(Ipv6Addr, u32)>,
}

const CMSG_HDR_LEN: usize = std::mem::size_of::<libc::cmsghdr>();
const CMSG_ALIGN: usize = std::mem::size_of::<usize>();

fn cmsg_align(n: usize) -> usize {
    n.div_ceil(CMSG_ALIGN) * CMSG_ALIGN
}

/// Walks a control buffer as the kernel lays it out (`struct cmsghdr` with a `size_t`
/// length, then the data, each record padded to `size_t`); records that do not fit
/// end the walk.
pub(crate) fn parse_control_v6(mut ctl: &[u8]) -> ControlV6 {
    let mut out = ControlV6::default();
    while let Some(hdr) = ctl.get(..CMSG_HDR_LEN) {
        let (len_b, rest) = hdr.split_at(CMSG_ALIGN);
        let len = len_b.try_into().map(usize::from_ne_bytes).unwrap_or(0);
        let level = rest
            .get(0..4)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_ne_bytes);
        let kind = rest
            .get(4..8)
            .and_then(|b| b.try_into().ok())
            .map(i32::from_ne_bytes);
        let Some(data) = (len >= CMSG_HDR_LEN)
            .then(|| ctl.get(CMSG_HDR_LEN..len))
            .flatten()
        else {
            break;
        };
        if level == Some(libc::IPPROTO_IPV6) {
            if kind == Some(libc::IPV6_HOPLIMIT) {
                if let Some(v) = data.get(..4).and_then(|b| b.try_into().ok()) {
                    out.hop_limit = u8::try_from(i32::from_ne_bytes(v)).ok();
                }
            } else if kind == Some(libc::IPV6_PKTINFO) {
                let addr: Option<[u8; 16]> = data.get(..16).and_then(|b| b.try_into().ok());
                let idx: Option<[u8; 4]> = data.get(16..20).and_then(|b| b.try_into().ok());
                if let (Some(a), Some(i)) = (addr, idx) {
                    out.pktinfo = Some((Ipv6Addr::from(a), u32::from_ne_bytes(i)));
                }
            }
        }
        ctl = ctl.get(cmsg_align(len)..).unwrap_or(&[]);
    }
    out
}

/// One `IPV6_PKTINFO` control message: send from `src` out of `ifindex`.
pub(crate) fn pktinfo_v6(src: Ipv6Addr, ifindex: u32) -> Vec<u8> {
    const DATA: usize = 20;
    let mut c = vec![0u8; CMSG_HDR_LEN + cmsg_align(DATA)];
    let (hdr, data) = c.split_at_mut(CMSG_HDR_LEN);
    hdr[..CMSG_ALIGN].copy_from_slice(&(CMSG_HDR_LEN + DATA).to_ne_bytes());
    hdr[CMSG_ALIGN..CMSG_ALIGN + 4].copy_from_slice(&libc::IPPROTO_IPV6.to_ne_bytes());
    hdr[CMSG_ALIGN + 4..CMSG_ALIGN + 8].copy_from_slice(&libc::IPV6_PKTINFO.to_ne_bytes());
    data[..16].copy_from_slice(&src.octets());
    data[16..20].copy_from_slice(&ifindex.to_ne_bytes());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_packet_matches_keepalived_header() {
        let payload = [0x21, 0x4d, 0x66, 0x01];
        let p = ipv4_packet(
            Ipv4Addr::new(198, 18, 22, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            &payload,
        )
        .unwrap();
        assert_eq!(
            p[..20],
            [
                0x45, 0xc0, 0, 24, 0, 0, 0, 0, 255, 112, 0, 0, 198, 18, 22, 1, 224, 0, 0, 18
            ]
        );
        assert_eq!(p[20..], payload);
        let h = Ipv4Header::parse(&p).unwrap();
        assert_eq!(
            (h.header_len, h.total_len, h.ttl, h.protocol),
            (20, 24, 255, 112)
        );
        assert_eq!(h.src, Ipv4Addr::new(198, 18, 22, 1));
        assert_eq!(h.dst, MULTICAST_V4);
    }

    #[test]
    fn ipv4_packet_rejects_oversized_payload() {
        let big = vec![0u8; 65_536];
        assert!(matches!(
            ipv4_packet(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, &big),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn ipv4_header_with_options_is_stripped_by_length() {
        // IHL 6: 4 option bytes before the payload
        let mut p = vec![0x46, 0, 0, 26, 0, 0, 0, 0, 64, 112, 0, 0];
        p.extend_from_slice(&[10, 0, 0, 1, 224, 0, 0, 18]);
        p.extend_from_slice(&[1, 1, 0, 0]);
        p.extend_from_slice(&[0xaa, 0xbb]);
        let h = Ipv4Header::parse(&p).unwrap();
        assert_eq!((h.header_len, h.total_len, h.ttl), (24, 26, 64));
        assert_eq!(&p[h.header_len..h.total_len], &[0xaa, 0xbb]);
    }

    #[test]
    fn ipv4_header_errors_do_not_panic() {
        for bad in [
            &[][..],
            &[0x45; 19][..],
            // version 6
            &[
                0x65, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            // IHL 4
            &[
                0x44, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            // total length beyond the data
            &[
                0x45, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            // total length shorter than the header
            &[
                0x45, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
            // IHL 15 (60 bytes) in 20 bytes
            &[
                0x4f, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ][..],
        ] {
            assert!(
                matches!(Ipv4Header::parse(bad), Err(Error::Packet(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn control_v6_round_trip_and_truncation() {
        let dst: Ipv6Addr = "ff02::12".parse().unwrap();
        let mut ctl = Vec::new();
        // a hop-limit record
        let mut hl = vec![0u8; CMSG_HDR_LEN + cmsg_align(4)];
        hl[..CMSG_ALIGN].copy_from_slice(&(CMSG_HDR_LEN + 4).to_ne_bytes());
        hl[CMSG_ALIGN..CMSG_ALIGN + 4].copy_from_slice(&libc::IPPROTO_IPV6.to_ne_bytes());
        hl[CMSG_ALIGN + 4..CMSG_ALIGN + 8].copy_from_slice(&libc::IPV6_HOPLIMIT.to_ne_bytes());
        hl[CMSG_HDR_LEN..CMSG_HDR_LEN + 4].copy_from_slice(&255i32.to_ne_bytes());
        ctl.extend_from_slice(&hl);
        ctl.extend_from_slice(&pktinfo_v6(dst, 7));
        let c = parse_control_v6(&ctl);
        assert_eq!(c.hop_limit, Some(255));
        assert_eq!(c.pktinfo, Some((dst, 7)));
        // every prefix parses without panicking and never invents a record
        for n in 0..ctl.len() {
            let c = parse_control_v6(&ctl[..n]);
            assert!(c.pktinfo.is_none() || n >= hl.len() + CMSG_HDR_LEN + 20);
        }
        // a length field pointing past the end stops the walk
        let mut bad = hl.clone();
        bad[..CMSG_ALIGN].copy_from_slice(&1000usize.to_ne_bytes());
        assert_eq!(parse_control_v6(&bad), ControlV6::default());
    }
}
