//! Fuzzes the VRRP advert decoder: any input must give a value or an error, never a panic;
//! whatever decodes must emit and decode again to the same advert.
//!
//! The first input byte picks the address family and version context; the rest is the
//! VRRP message.
#![no_main]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::wire::{AdvertRepr, Family, IpPair, MULTICAST_V4, MULTICAST_V6, Packet};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let (family, ips) = if sel & 1 == 0 {
        (
            Family::V4,
            IpPair {
                src: IpAddr::V4(Ipv4Addr::new(198, 18, 22, 1)),
                dst: IpAddr::V4(MULTICAST_V4),
            },
        )
    } else {
        (
            Family::V6,
            IpPair {
                src: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
                dst: IpAddr::V6(MULTICAST_V6),
            },
        )
    };
    let Ok(packet) = Packet::new_checked(bytes, family) else {
        return;
    };
    // accessors must not panic whatever the checksum
    let _ = (
        packet.vrid(),
        packet.priority(),
        packet.auth(),
        packet.addresses().count(),
    );
    let Ok(repr) = AdvertRepr::parse(&packet, &ips) else {
        return;
    };
    let Ok(emitted) = repr.to_bytes(&ips) else {
        panic!("a decoded advert must emit: {repr:?}");
    };
    let again = Packet::new_checked(&emitted[..], family).and_then(|p| AdvertRepr::parse(&p, &ips));
    assert_eq!(again.as_ref(), Ok(&repr));
});
