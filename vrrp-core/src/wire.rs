//! VRRP advertisement wire format, versions 2 (RFC 3768) and 3 (RFC 5798).
//!
//! Two layers, as in smoltcp: [`Packet`] is a checked view over the bytes of the IP payload
//! (the VRRP message), and [`AdvertRepr`] is the parsed, owned form with
//! [`AdvertRepr::parse`], [`AdvertRepr::emit`] and [`AdvertRepr::buffer_len`].
//!
//! Contract: once [`Packet::new_checked`] has returned `Ok`, no accessor of that view can panic;
//! every length the accessors rely on was checked there. Nothing here panics on any input.
//!
//! Layout notes. VRRPv2 is IPv4 only: an 8-byte header, `count` IPv4 addresses, then 8 bytes of
//! authentication data (keepalived's `PASS` type 1 carries the password NUL padded or truncated
//! to 8 bytes; type 0 carries zeros). The v2 checksum covers the VRRP message alone. VRRPv3 has
//! no authentication; its 12-bit interval is in centiseconds and its checksum includes the IP
//! pseudo-header, so v3 parsing and emitting take the source and destination addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use thiserror::Error;

/// IP protocol number of VRRP.
pub const IP_PROTO_VRRP: u8 = 112;
/// IPv4 multicast group of VRRP (224.0.0.18).
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 multicast group of VRRP (ff02::12).
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit every VRRP packet must carry.
pub const REQUIRED_TTL: u8 = 255;
/// Length of the fixed VRRP header (both versions).
pub const HEADER_LEN: usize = 8;
/// Length of the v2 authentication data trailer.
pub const AUTH_DATA_LEN: usize = 8;
/// The only packet type VRRP defines: ADVERTISEMENT.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// A malformed VRRP message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer is shorter than the message it announces.
    #[error("VRRP packet too short: {got} bytes, expected at least {needed}")]
    Truncated {
        /// Bytes the header says are needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The version nibble is neither 2 nor 3.
    #[error("unsupported VRRP version {0}")]
    UnknownVersion(u8),
    /// The type nibble is not ADVERTISEMENT (1).
    #[error("invalid packet type {0}, expected 1")]
    UnknownType(u8),
    /// VRRPv2 carried over IPv6, which RFC 3768 does not define.
    #[error("VRRPv2 cannot be carried over IPv6")]
    V2OverIpv6,
    /// The checksum does not verify.
    #[error("invalid VRRPv{0} checksum")]
    Checksum(u8),
    /// The source and destination addresses given for the pseudo-header are of
    /// different families, or of a family other than the one the packet was checked for.
    #[error("address family mismatch between the packet and its IP addresses")]
    FamilyMismatch,
    /// A field of the representation is out of range for its version
    /// (for emitting: interval, address count or address family).
    #[error("field out of range: {0}")]
    FieldRange(&'static str),
}

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768, IPv4 only, interval in seconds, optional simple password.
    V2,
    /// RFC 5798, IPv4 and IPv6, interval in centiseconds, no authentication.
    V3,
}

impl Version {
    /// The number carried in the version nibble.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Address family of the IP packet carrying the advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: addresses are 4 bytes.
    V4,
    /// IPv6: addresses are 16 bytes (VRRPv3 only).
    V6,
}

impl Family {
    /// Length in bytes of one address of this family.
    pub fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// VRRPv2 authentication as carried on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Type 0: no authentication; the 8 data bytes are zero on emit and ignored on parse.
    None,
    /// Type 1 (RFC 2338 simple text password, as keepalived's `auth_type PASS`): the
    /// password NUL padded or truncated to 8 bytes.
    Pass([u8; AUTH_DATA_LEN]),
    /// Any other type (2 is IPsec AH in RFC 2338); kept so the receiver can report it.
    Other {
        /// The type number.
        auth_type: u8,
        /// The 8 data bytes.
        data: [u8; AUTH_DATA_LEN],
    },
}

impl Auth {
    /// A simple password, NUL padded or truncated to 8 bytes as keepalived does.
    pub fn pass(password: &[u8]) -> Auth {
        let mut data = [0u8; AUTH_DATA_LEN];
        for (d, s) in data.iter_mut().zip(password.iter()) {
            *d = *s;
        }
        Auth::Pass(data)
    }

    /// The type number carried in the header.
    pub fn type_number(&self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::Pass(_) => 1,
            Auth::Other { auth_type, .. } => *auth_type,
        }
    }

    fn data(&self) -> [u8; AUTH_DATA_LEN] {
        match self {
            Auth::None => [0; AUTH_DATA_LEN],
            Auth::Pass(d) | Auth::Other { data: d, .. } => *d,
        }
    }

    fn from_wire(auth_type: u8, data: [u8; AUTH_DATA_LEN]) -> Auth {
        match auth_type {
            0 => Auth::None,
            1 => Auth::Pass(data),
            t => Auth::Other { auth_type: t, data },
        }
    }
}

/// Source and destination addresses of the carrying IP packet, needed for the VRRPv3
/// pseudo-header checksum (and to know the address family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPair {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address.
    pub dst: IpAddr,
}

impl IpPair {
    /// The common family, or `FamilyMismatch` if source and destination differ.
    pub fn family(&self) -> Result<Family, WireError> {
        match (self.src, self.dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => Ok(Family::V4),
            (IpAddr::V6(_), IpAddr::V6(_)) => Ok(Family::V6),
            _ => Err(WireError::FamilyMismatch),
        }
    }
}

/// A read-only, length-checked view over a VRRP message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

mod field {
    pub(super) const VER_TYPE: usize = 0;
    pub(super) const VRID: usize = 1;
    pub(super) const PRIORITY: usize = 2;
    pub(super) const COUNT: usize = 3;
    pub(super) const AUTH_TYPE: usize = 4;
    pub(super) const ADVER_INT: usize = 5;
    pub(super) const CHECKSUM: usize = 6;
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that `buffer` holds a whole VRRP v2 or v3 advertisement for `family`
    /// (the family of the carrying IP packet) and wraps it.
    ///
    /// Trailing bytes after the message are tolerated (they are covered by the checksum,
    /// which is computed over the whole buffer as the receiver gets the IP payload).
    pub fn new_checked(buffer: T, family: Family) -> Result<Packet<T>, WireError> {
        let b = buffer.as_ref();
        let Some(&ver_type) = b.get(field::VER_TYPE) else {
            return Err(WireError::Truncated {
                needed: HEADER_LEN,
                got: 0,
            });
        };
        let version = match ver_type >> 4 {
            2 => Version::V2,
            3 => Version::V3,
            v => return Err(WireError::UnknownVersion(v)),
        };
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                needed: HEADER_LEN,
                got: b.len(),
            });
        }
        if ver_type & 0x0f != TYPE_ADVERTISEMENT {
            return Err(WireError::UnknownType(ver_type & 0x0f));
        }
        if version == Version::V2 && family == Family::V6 {
            return Err(WireError::V2OverIpv6);
        }
        let count = usize::from(b[field::COUNT]);
        let needed = message_len(version, family, count);
        if b.len() < needed {
            return Err(WireError::Truncated {
                needed,
                got: b.len(),
            });
        }
        Ok(Packet { buffer, family })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn byte(&self, at: usize) -> u8 {
        // new_checked guaranteed HEADER_LEN bytes; `get` keeps this panic-free regardless.
        self.bytes().get(at).copied().unwrap_or(0)
    }

    /// The address family this view was checked for.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Protocol version.
    pub fn version(&self) -> Version {
        if self.byte(field::VER_TYPE) >> 4 == 3 {
            Version::V3
        } else {
            Version::V2
        }
    }

    /// Virtual router identifier.
    pub fn vrid(&self) -> u8 {
        self.byte(field::VRID)
    }

    /// Advertised priority (0 means the master is leaving).
    pub fn priority(&self) -> u8 {
        self.byte(field::PRIORITY)
    }

    /// Number of addresses.
    pub fn count(&self) -> u8 {
        self.byte(field::COUNT)
    }

    /// The raw advertisement interval: seconds in v2, centiseconds (12 bits) in v3.
    pub fn raw_interval(&self) -> u16 {
        match self.version() {
            Version::V2 => u16::from(self.byte(field::ADVER_INT)),
            Version::V3 => {
                u16::from_be_bytes([self.byte(field::AUTH_TYPE), self.byte(field::ADVER_INT)])
                    & 0x0fff
            }
        }
    }

    /// The advertisement interval in centiseconds, whatever the version.
    pub fn interval_centis(&self) -> u16 {
        match self.version() {
            Version::V2 => self.raw_interval().saturating_mul(100),
            Version::V3 => self.raw_interval(),
        }
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.byte(field::CHECKSUM), self.byte(field::CHECKSUM + 1)])
    }

    /// The v2 authentication (always `Auth::None` for v3).
    pub fn auth(&self) -> Auth {
        if self.version() == Version::V3 {
            return Auth::None;
        }
        let start = HEADER_LEN + usize::from(self.count()) * 4;
        let mut data = [0u8; AUTH_DATA_LEN];
        if let Some(src) = self.bytes().get(start..start + AUTH_DATA_LEN) {
            data.copy_from_slice(src);
        }
        Auth::from_wire(self.byte(field::AUTH_TYPE), data)
    }

    /// The advertised addresses.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let len = self.family.addr_len();
        let end = HEADER_LEN + usize::from(self.count()) * len;
        let body = self.bytes().get(HEADER_LEN..end).unwrap_or(&[]);
        let family = self.family;
        body.chunks_exact(len).map(move |c| addr_from(family, c))
    }

    /// Whether the checksum verifies. `ips` is only used for v3 (pseudo-header).
    pub fn verify_checksum(&self, ips: &IpPair) -> Result<bool, WireError> {
        let sum = match self.version() {
            Version::V2 => checksum(&[self.bytes()]),
            Version::V3 => {
                if ips.family()? != self.family {
                    return Err(WireError::FamilyMismatch);
                }
                let pseudo = pseudo_header(ips, self.bytes().len())?;
                checksum(&[&pseudo, self.bytes()])
            }
        };
        Ok(sum == 0)
    }
}

fn addr_from(family: Family, c: &[u8]) -> IpAddr {
    match family {
        Family::V4 => {
            let mut a = [0u8; 4];
            a.copy_from_slice(c.get(..4).unwrap_or(&[0; 4]));
            IpAddr::V4(Ipv4Addr::from(a))
        }
        Family::V6 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(c.get(..16).unwrap_or(&[0; 16]));
            IpAddr::V6(Ipv6Addr::from(a))
        }
    }
}

fn message_len(version: Version, family: Family, count: usize) -> usize {
    let auth = match version {
        Version::V2 => AUTH_DATA_LEN,
        Version::V3 => 0,
    };
    HEADER_LEN + count * family.addr_len() + auth
}

fn pseudo_header(ips: &IpPair, len: usize) -> Result<Vec<u8>, WireError> {
    let mut p = Vec::with_capacity(40);
    match (ips.src, ips.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = u16::try_from(len).map_err(|_| WireError::FieldRange("length"))?;
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, IP_PROTO_VRRP]);
            p.extend_from_slice(&len.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let len = u32::try_from(len).map_err(|_| WireError::FieldRange("length"))?;
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, IP_PROTO_VRRP]);
        }
        _ => return Err(WireError::FamilyMismatch),
    }
    Ok(p)
}

/// The Internet checksum (RFC 1071) over the concatenation of `parts`, each padded
/// separately only at the very end (parts other than the last must have even length,
/// which holds for the pseudo-headers used here).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut chunks = part.chunks_exact(2);
        for c in &mut chunks {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
        // fold early so the sum never overflows on long inputs
        sum = (sum & 0xffff) + (sum >> 16);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A parsed VRRP advertisement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdvertRepr {
    /// Protocol version.
    pub version: Version,
    /// Virtual router identifier (1..=255; 0 is accepted on parse and reported by the receiver).
    pub vrid: u8,
    /// Priority; 0 means the master is releasing.
    pub priority: u8,
    /// Advertisement interval in centiseconds (v2 intervals are whole seconds, so a
    /// multiple of 100 up to 25500; v3 at most 4095).
    pub interval_centis: u16,
    /// Authentication (always [`Auth::None`] for v3).
    pub auth: Auth,
    /// The virtual addresses, all of one family.
    pub addresses: Vec<IpAddr>,
}

impl AdvertRepr {
    /// Parses a checked packet and verifies its checksum (`ips` gives the pseudo-header
    /// for v3 and is not used for v2).
    pub fn parse<T: AsRef<[u8]>>(
        packet: &Packet<T>,
        ips: &IpPair,
    ) -> Result<AdvertRepr, WireError> {
        if !packet.verify_checksum(ips)? {
            return Err(WireError::Checksum(packet.version().number()));
        }
        Ok(AdvertRepr {
            version: packet.version(),
            vrid: packet.vrid(),
            priority: packet.priority(),
            interval_centis: packet.interval_centis(),
            auth: packet.auth(),
            addresses: packet.addresses().collect(),
        })
    }

    /// The address family of the addresses (IPv4 for v2, and when there are none; emitting
    /// then takes the family of the [`IpPair`]).
    pub fn family(&self) -> Family {
        match (self.version, self.addresses.first()) {
            (Version::V3, Some(a)) => Family::of(a),
            _ => Family::V4,
        }
    }

    /// The length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        message_len(self.version, self.family(), self.addresses.len())
    }

    fn check(&self, ips: &IpPair) -> Result<(u8, u8), WireError> {
        // an advert without addresses takes its family from the carrying packet
        let family = match (self.version, self.addresses.first()) {
            (Version::V3, None) => ips.family()?,
            _ => self.family(),
        };
        if self.addresses.iter().any(|a| Family::of(a) != family) {
            return Err(WireError::FieldRange("addresses of mixed families"));
        }
        let count = u8::try_from(self.addresses.len())
            .map_err(|_| WireError::FieldRange("address count"))?;
        match self.version {
            Version::V2 => {
                if family != Family::V4 {
                    return Err(WireError::V2OverIpv6);
                }
                if self.interval_centis % 100 != 0 {
                    return Err(WireError::FieldRange(
                        "VRRPv2 interval must be whole seconds",
                    ));
                }
                let secs = u8::try_from(self.interval_centis / 100)
                    .map_err(|_| WireError::FieldRange("VRRPv2 interval above 255 s"))?;
                Ok((count, secs))
            }
            Version::V3 => {
                if self.interval_centis > 0x0fff {
                    return Err(WireError::FieldRange("VRRPv3 interval above 4095 cs"));
                }
                if ips.family()? != family {
                    return Err(WireError::FamilyMismatch);
                }
                Ok((count, 0))
            }
        }
    }

    /// Writes the message into the first [`buffer_len`](Self::buffer_len) bytes of
    /// `buffer`, checksum included, and returns that length.
    pub fn emit(&self, buffer: &mut [u8], ips: &IpPair) -> Result<usize, WireError> {
        let (count, secs) = self.check(ips)?;
        let len = self.buffer_len();
        let got = buffer.len();
        let Some(out) = buffer.get_mut(..len) else {
            return Err(WireError::Truncated { needed: len, got });
        };
        out.fill(0);
        out[0] = (self.version.number() << 4) | TYPE_ADVERTISEMENT;
        out[1] = self.vrid;
        out[2] = self.priority;
        out[3] = count;
        match self.version {
            Version::V2 => {
                out[4] = self.auth.type_number();
                out[5] = secs;
            }
            Version::V3 => out[4..6].copy_from_slice(&self.interval_centis.to_be_bytes()),
        }
        let mut at = HEADER_LEN;
        for a in &self.addresses {
            match a {
                IpAddr::V4(v4) => {
                    out[at..at + 4].copy_from_slice(&v4.octets());
                    at += 4;
                }
                IpAddr::V6(v6) => {
                    out[at..at + 16].copy_from_slice(&v6.octets());
                    at += 16;
                }
            }
        }
        let sum = match self.version {
            Version::V2 => {
                out[at..at + AUTH_DATA_LEN].copy_from_slice(&self.auth.data());
                checksum(&[out])
            }
            Version::V3 => checksum(&[&pseudo_header(ips, len)?, out]),
        };
        out[field::CHECKSUM..field::CHECKSUM + 2].copy_from_slice(&sum.to_be_bytes());
        Ok(len)
    }

    /// Emits into a new vector.
    pub fn to_bytes(&self, ips: &IpPair) -> Result<Vec<u8>, WireError> {
        let mut v = vec![0u8; self.buffer_len()];
        self.emit(&mut v, ips)?;
        Ok(v)
    }
}

/// The vrid of a message, for dispatching to an instance before full parsing.
pub fn peek_vrid(buffer: &[u8]) -> Option<u8> {
    buffer.get(field::VRID).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advert keepalived 2.2.7 sent in the lab (MEASURED.md): vrid 77, prio 102,
    /// one VIP 198.18.22.249, auth PASS "11111", 1 s.
    const KEEPALIVED_ADVERT: [u8; 20] = [
        0x21, 0x4d, 0x66, 0x01, 0x01, 0x01, 0x07, 0x42, 0xc6, 0x12, 0x16, 0xf9, 0x31, 0x31, 0x31,
        0x31, 0x31, 0x00, 0x00, 0x00,
    ];

    fn v4_pair() -> IpPair {
        IpPair {
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 22, 1)),
            dst: IpAddr::V4(MULTICAST_V4),
        }
    }

    #[test]
    fn decodes_keepalived_capture() {
        let p = Packet::new_checked(&KEEPALIVED_ADVERT[..], Family::V4).unwrap();
        assert_eq!(p.checksum(), 0x0742);
        let r = AdvertRepr::parse(&p, &v4_pair()).unwrap();
        assert_eq!(
            r,
            AdvertRepr {
                version: Version::V2,
                vrid: 77,
                priority: 102,
                interval_centis: 100,
                auth: Auth::pass(b"11111"),
                addresses: vec![IpAddr::V4(Ipv4Addr::new(198, 18, 22, 249))],
            }
        );
        assert_eq!(r.to_bytes(&v4_pair()).unwrap(), KEEPALIVED_ADVERT);
    }

    #[test]
    fn rejects_bad_checksum() {
        let mut b = KEEPALIVED_ADVERT;
        b[7] ^= 0x55;
        let p = Packet::new_checked(&b[..], Family::V4).unwrap();
        assert_eq!(
            AdvertRepr::parse(&p, &v4_pair()),
            Err(WireError::Checksum(2))
        );
    }

    #[test]
    fn rejects_truncated_and_unknown() {
        for n in 0..KEEPALIVED_ADVERT.len() {
            assert!(
                Packet::new_checked(&KEEPALIVED_ADVERT[..n], Family::V4).is_err(),
                "{n}"
            );
        }
        let mut b = KEEPALIVED_ADVERT;
        b[0] = 0x41;
        assert_eq!(
            Packet::new_checked(&b[..], Family::V4).unwrap_err(),
            WireError::UnknownVersion(4)
        );
        b[0] = 0x22;
        assert_eq!(
            Packet::new_checked(&b[..], Family::V4).unwrap_err(),
            WireError::UnknownType(2)
        );
        assert_eq!(
            Packet::new_checked(&KEEPALIVED_ADVERT[..], Family::V6).unwrap_err(),
            WireError::V2OverIpv6
        );
    }

    #[test]
    fn password_is_padded_or_truncated() {
        assert_eq!(Auth::pass(b"abc"), Auth::Pass(*b"abc\0\0\0\0\0"));
        assert_eq!(Auth::pass(b"0123456789"), Auth::Pass(*b"01234567"));
    }

    #[test]
    fn v3_ipv6_round_trip_and_pseudo_header() {
        let ips = IpPair {
            src: "fe80::1".parse().unwrap(),
            dst: IpAddr::V6(MULTICAST_V6),
        };
        let r = AdvertRepr {
            version: Version::V3,
            vrid: 9,
            priority: 100,
            interval_centis: 100,
            auth: Auth::None,
            addresses: vec!["fe80::9".parse().unwrap(), "2001:db8::9".parse().unwrap()],
        };
        let b = r.to_bytes(&ips).unwrap();
        assert_eq!(b.len(), 8 + 32);
        assert_eq!(&b[..6], &[0x31, 9, 100, 2, 0x00, 0x64]);
        let p = Packet::new_checked(&b[..], Family::V6).unwrap();
        assert_eq!(AdvertRepr::parse(&p, &ips).unwrap(), r);
        // another source changes the pseudo-header, so the checksum fails
        let other = IpPair {
            src: "fe80::2".parse().unwrap(),
            ..ips
        };
        assert_eq!(AdvertRepr::parse(&p, &other), Err(WireError::Checksum(3)));
    }

    #[test]
    fn v3_ipv4_checksum_uses_pseudo_header() {
        let r = AdvertRepr {
            version: Version::V3,
            vrid: 1,
            priority: 150,
            interval_centis: 4095,
            auth: Auth::None,
            addresses: vec![IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1))],
        };
        let b = r.to_bytes(&v4_pair()).unwrap();
        // independent check: sum over pseudo-header + message folds to 0xffff
        let mut words: Vec<u8> = vec![198, 18, 22, 1, 224, 0, 0, 18, 0, 112, 0, b.len() as u8];
        words.extend_from_slice(&b);
        let mut s: u32 = words
            .chunks(2)
            .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
            .sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        assert_eq!(s, 0xffff);
        assert_eq!(b[4] & 0xf0, 0, "reserved bits zero");
    }

    #[test]
    fn emit_rejects_out_of_range() {
        let mut r = AdvertRepr {
            version: Version::V2,
            vrid: 1,
            priority: 1,
            interval_centis: 150,
            auth: Auth::None,
            addresses: vec![],
        };
        assert!(r.to_bytes(&v4_pair()).is_err());
        r.interval_centis = 25600;
        assert!(r.to_bytes(&v4_pair()).is_err());
        r.version = Version::V3;
        assert!(r.to_bytes(&v4_pair()).is_err());
        r.interval_centis = 100;
        assert!(r.to_bytes(&v4_pair()).is_ok());
        let mut small = [0u8; 4];
        assert!(matches!(
            r.emit(&mut small, &v4_pair()),
            Err(WireError::Truncated { .. })
        ));
    }
}
