//! Encode/decode round trips of arbitrary adverts, and decoding of arbitrary bytes
//! never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp_core::wire::{MULTICAST_V4, MULTICAST_V6};
use vrrp_core::{AdvertRepr, Auth, Family, IpPair, Packet, Version};

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        any::<[u8; 8]>().prop_map(Auth::Pass),
        (2u8.., any::<[u8; 8]>()).prop_map(|(auth_type, data)| Auth::Other { auth_type, data }),
    ]
}

fn case() -> impl Strategy<Value = (AdvertRepr, IpPair)> {
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        0u16..=255,
        auth(),
        prop::collection::vec(v4(), 0..20),
        v4(),
    )
        .prop_map(|(vrid, priority, secs, auth, addresses, src)| {
            (
                AdvertRepr {
                    version: Version::V2,
                    vrid,
                    priority,
                    interval_centis: secs * 100,
                    auth,
                    addresses,
                },
                IpPair {
                    src,
                    dst: IpAddr::V4(MULTICAST_V4),
                },
            )
        });
    let v3 = (
        any::<u8>(),
        any::<u8>(),
        0u16..=4095,
        any::<bool>(),
        prop::collection::vec(v4(), 0..20),
        prop::collection::vec(v6(), 0..20),
        v4(),
        v6(),
    )
        .prop_map(|(vrid, priority, cs, ipv6, a4, a6, s4, s6)| {
            let (addresses, ips) = if ipv6 {
                (
                    a6,
                    IpPair {
                        src: s6,
                        dst: IpAddr::V6(MULTICAST_V6),
                    },
                )
            } else {
                (
                    a4,
                    IpPair {
                        src: s4,
                        dst: IpAddr::V4(MULTICAST_V4),
                    },
                )
            };
            (
                AdvertRepr {
                    version: Version::V3,
                    vrid,
                    priority,
                    interval_centis: cs,
                    auth: Auth::None,
                    addresses,
                },
                ips,
            )
        });
    prop_oneof![v2, v3]
}

proptest! {
    #[test]
    fn emit_then_parse_is_identity((repr, ips) in case()) {
        let bytes = repr.to_bytes(&ips).unwrap();
        prop_assert_eq!(bytes.len(), repr.buffer_len());
        let family = ips.family().unwrap();
        let packet = Packet::new_checked(&bytes[..], family).unwrap();
        let parsed = AdvertRepr::parse(&packet, &ips).unwrap();
        prop_assert_eq!(&parsed, &repr);
        // any single flipped bit is caught by the checksum or the layout checks
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            let r = Packet::new_checked(&bad[..], family).and_then(|p| AdvertRepr::parse(&p, &ips));
            prop_assert!(r.is_err() || r.as_ref().ok() != Some(&repr), "byte {}", i);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), six in any::<bool>()) {
        let (family, ips) = if six {
            (Family::V6, IpPair { src: IpAddr::V6(Ipv6Addr::LOCALHOST), dst: IpAddr::V6(MULTICAST_V6) })
        } else {
            (Family::V4, IpPair { src: IpAddr::V4(Ipv4Addr::LOCALHOST), dst: IpAddr::V4(MULTICAST_V4) })
        };
        if let Ok(p) = Packet::new_checked(&bytes[..], family) {
            let _ = (p.vrid(), p.priority(), p.count(), p.auth(), p.addresses().count(), p.interval_centis());
            if let Ok(r) = AdvertRepr::parse(&p, &ips) {
                let again = r.to_bytes(&ips).unwrap();
                let p2 = Packet::new_checked(&again[..], family).unwrap();
                prop_assert_eq!(AdvertRepr::parse(&p2, &ips).unwrap(), r);
            }
        }
    }
}
