//! VRRP advert encode and decode: a 1-VIP VRRPv2 advert (as keepalived sends it) and a
//! 2-VIP VRRPv3 IPv6 advert, whose checksum includes the pseudo-header.
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, criterion_group, criterion_main};
use vrrp_core::wire::{
    AdvertRepr, Auth, Family, IpPair, MULTICAST_V4, MULTICAST_V6, Packet, Version,
};

fn cases() -> Vec<(&'static str, AdvertRepr, IpPair, Family)> {
    let v2 = AdvertRepr {
        version: Version::V2,
        vrid: 77,
        priority: 102,
        interval_centis: 100,
        auth: Auth::pass(b"11111"),
        addresses: vec![IpAddr::V4(Ipv4Addr::new(198, 18, 22, 249))],
    };
    let v2_ips = IpPair {
        src: IpAddr::V4(Ipv4Addr::new(198, 18, 22, 1)),
        dst: IpAddr::V4(MULTICAST_V4),
    };
    let v3 = AdvertRepr {
        version: Version::V3,
        vrid: 77,
        priority: 102,
        interval_centis: 100,
        auth: Auth::None,
        addresses: vec![
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x249)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x249)),
        ],
    };
    let v3_ips = IpPair {
        src: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
        dst: IpAddr::V6(MULTICAST_V6),
    };
    vec![
        ("v2_1vip", v2, v2_ips, Family::V4),
        ("v3_ipv6_2vip", v3, v3_ips, Family::V6),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, repr, ips, family) in cases() {
        let bytes = repr.to_bytes(&ips).expect("bench advert encodes");
        let mut buf = vec![0u8; repr.buffer_len()];
        c.bench_function(&format!("vrrp_encode_{name}"), |b| {
            b.iter(|| black_box(&repr).emit(black_box(&mut buf), &ips))
        });
        c.bench_function(&format!("vrrp_decode_{name}"), |b| {
            b.iter(|| {
                Packet::new_checked(black_box(&bytes[..]), family)
                    .and_then(|p| AdvertRepr::parse(&p, &ips))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
