//! Gratuitous ARP and unsolicited neighbour advertisements, written as whole Ethernet
//! frames and sent through an AF_PACKET socket bound to the interface.
//!
//! The frame builders are pure and fixed-size, so they cannot fail; only the socket does IO.
//! IPv4: an ARP *request* "who-has VIP tell VIP" to ff:ff:ff:ff:ff:ff from the interface
//! MAC, target hardware address ff:ff:ff:ff:ff:ff, as keepalived sends it. IPv6: an
//! ICMPv6 neighbour advertisement (type 136) for the VIP from the VIP, to ff02::1, hop
//! limit 255, override flag set, with the target link-layer address option.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::netlink::InterfaceInfo;
use crate::{Error, sys};

/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETH_P_IPV6: u16 = 0x86dd;
/// Length of a gratuitous ARP frame (Ethernet header and ARP body, no padding).
pub const GARP_FRAME_LEN: usize = 42;
/// Length of an unsolicited neighbour advertisement frame.
pub const NA_FRAME_LEN: usize = 86;

const BROADCAST: [u8; 6] = [0xff; 6];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// 33:33 followed by the low 32 bits of ff02::1.
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];

/// The gratuitous ARP request keepalived sends for `vip` from `mac`.
pub fn garp_frame(mac: [u8; 6], vip: Ipv4Addr) -> [u8; GARP_FRAME_LEN] {
    let mut f = [0u8; GARP_FRAME_LEN];
    let ip = vip.octets();
    let parts: [&[u8]; 8] = [
        &BROADCAST,
        &mac,
        &ETH_P_ARP.to_be_bytes(),
        // hardware Ethernet, protocol IPv4, lengths 6 and 4, op 1 (request)
        &[0, 1, 0x08, 0x00, 6, 4, 0, 1],
        &mac,
        &ip,
        &BROADCAST,
        &ip,
    ];
    fill(&mut f, &parts);
    f
}

/// An unsolicited neighbour advertisement for `vip` from `mac`; `router` sets the R flag
/// (keepalived sets it when the host forwards IPv6).
pub fn unsolicited_na_frame(mac: [u8; 6], vip: Ipv6Addr, router: bool) -> [u8; NA_FRAME_LEN] {
    const ICMP_LEN: u16 = 32;
    let flags = 0x20 | if router { 0x80 } else { 0 };
    let mut icmp = [0u8; ICMP_LEN as usize];
    fill(
        &mut icmp,
        &[
            &[136, 0, 0, 0, flags, 0, 0, 0],
            &vip.octets(),
            // option 2 (target link-layer address), length 1 (8 bytes)
            &[2, 1],
            &mac,
        ],
    );
    let sum = icmpv6_checksum(vip, ALL_NODES, &icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());

    let mut f = [0u8; NA_FRAME_LEN];
    fill(
        &mut f,
        &[
            &ALL_NODES_MAC,
            &mac,
            &ETH_P_IPV6.to_be_bytes(),
            &[0x60, 0, 0, 0],
            &ICMP_LEN.to_be_bytes(),
            // next header ICMPv6, hop limit 255
            &[58, 255],
            &vip.octets(),
            &ALL_NODES.octets(),
            &icmp,
        ],
    );
    f
}

/// Copies `parts` one after the other into `out`; the callers' sizes add up exactly.
fn fill(out: &mut [u8], parts: &[&[u8]]) {
    let mut at = 0;
    for p in parts {
        if let Some(dst) = out.get_mut(at..at + p.len()) {
            dst.copy_from_slice(p);
        }
        at += p.len();
    }
    debug_assert_eq!(at, out.len());
}

/// RFC 4443 section 2.3: one's complement sum over the IPv6 pseudo-header and the message.
pub(crate) fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, msg: &[u8]) -> u16 {
    let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let mut sum: u64 = 0;
    let mut add = |bytes: &[u8]| {
        for c in bytes.chunks(2) {
            let hi = u64::from(c.first().copied().unwrap_or(0)) << 8;
            sum += hi | u64::from(c.get(1).copied().unwrap_or(0));
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&len.to_be_bytes());
    add(&[0, 0, 0, 58]);
    add(msg);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sends gratuitous ARPs and unsolicited neighbour advertisements on one interface.
///
/// Needs CAP_NET_RAW; `open` must run inside a tokio runtime with IO enabled.
#[derive(Debug)]
pub struct Announcer {
    fd: AsyncFd<Socket>,
    ifname: String,
    mac: [u8; 6],
    router: bool,
}

impl Announcer {
    /// Opens an AF_PACKET socket bound to `iface` that sends frames from its MAC and
    /// receives nothing (protocol 0).
    pub fn open(iface: &InterfaceInfo) -> Result<Announcer, Error> {
        let name = iface.name.as_str();
        let mac = iface.mac.ok_or_else(|| {
            Error::InvalidArgument(format!("interface {name} has no Ethernet address"))
        })?;
        let io = |op: &'static str| move |e| Error::io(op, name, e);
        let sock = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0)))
            .map_err(io("socket(AF_PACKET, SOCK_RAW)"))?;
        let addr = sys::packet_addr(iface.index, 0, BROADCAST).map_err(io("sockaddr_ll"))?;
        sock.bind(&addr).map_err(io("bind(AF_PACKET)"))?;
        sock.set_nonblocking(true).map_err(io("O_NONBLOCK"))?;
        let fd = sys::register(sock, Interest::WRITABLE)
            .map_err(io("registering with the tokio reactor"))?;
        Ok(Announcer {
            fd,
            ifname: iface.name.clone(),
            mac,
            router: false,
        })
    }

    /// Sets the R (router) flag of neighbour advertisements.
    pub fn set_router(&mut self, router: bool) {
        self.router = router;
    }

    /// The interface name.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// Sends one gratuitous ARP (IPv4) or unsolicited neighbour advertisement (IPv6)
    /// for `addr`.
    pub async fn announce(&self, addr: IpAddr) -> Result<(), Error> {
        match addr {
            IpAddr::V4(a) => self.send(&garp_frame(self.mac, a)).await,
            IpAddr::V6(a) => {
                self.send(&unsolicited_na_frame(self.mac, a, self.router))
                    .await
            }
        }
    }

    async fn send(&self, frame: &[u8]) -> Result<(), Error> {
        let n = self
            .fd
            .async_io(Interest::WRITABLE, |s| s.send(frame))
            .await
            .map_err(|e| Error::io("send(AF_PACKET)", &self.ifname, e))?;
        if n == frame.len() {
            Ok(())
        } else {
            Err(Error::io(
                "send(AF_PACKET)",
                &self.ifname,
                std::io::Error::other(format!("short send: {n} of {} bytes", frame.len())),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[test]
    fn garp_is_a_broadcast_request_who_has_vip_tell_vip() {
        let f = garp_frame(MAC, Ipv4Addr::new(198, 18, 22, 249));
        let want: [u8; GARP_FRAME_LEN] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
            198, 18, 22, 249, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 198, 18, 22, 249,
        ];
        assert_eq!(f, want);
    }

    #[test]
    fn na_frame_layout_and_checksum() {
        let vip: Ipv6Addr = "2001:db8::249".parse().unwrap();
        let f = unsolicited_na_frame(MAC, vip, false);
        assert_eq!(f[..6], ALL_NODES_MAC);
        assert_eq!(f[6..12], MAC);
        assert_eq!(f[12..14], [0x86, 0xdd]);
        let ip = &f[14..54];
        assert_eq!(ip[0] >> 4, 6);
        assert_eq!(u16::from_be_bytes([ip[4], ip[5]]), 32);
        assert_eq!((ip[6], ip[7]), (58, 255));
        assert_eq!(ip[8..24], vip.octets());
        assert_eq!(ip[24..40], ALL_NODES.octets());
        let icmp = &f[54..];
        assert_eq!((icmp[0], icmp[1]), (136, 0));
        assert_eq!(icmp[4], 0x20, "override only");
        assert_eq!(icmp[8..24], vip.octets());
        assert_eq!(icmp[24..26], [2, 1]);
        assert_eq!(icmp[26..32], MAC);
        // a correct checksum makes the sum over pseudo-header and message zero
        assert_eq!(icmpv6_checksum(vip, ALL_NODES, icmp), 0);
        let r = unsolicited_na_frame(MAC, vip, true);
        assert_eq!(r[54 + 4], 0xa0);
        assert_eq!(icmpv6_checksum(vip, ALL_NODES, &r[54..]), 0);
    }

    #[test]
    fn icmpv6_checksum_known_vector() {
        // echo request id 1 seq 1 from ::1 to ::1, summed by hand: the pseudo-header
        // gives 0x0001 twice, length 8 and next header 0x3a; the message 0x8000, 1 and 1
        let src = Ipv6Addr::LOCALHOST;
        let msg = [128u8, 0, 0, 0, 0, 1, 0, 1];
        let total: u32 = 0x0002 + 0x0008 + 0x003a + 0x8000 + 0x0001 + 0x0001;
        assert_eq!(icmpv6_checksum(src, src, &msg), !(total as u16));
    }
}
