//! Redispatch: a pick that avoids the server that just failed, for every
//! algorithm, hash-based ones included, leaving the balancer as it was.

use std::net::{IpAddr, Ipv4Addr};

use proxy_balance::{
    Algorithm, Balancer, BalancerConfig, HashMethod, HashType, RequestKey, ServerSpec,
};

fn balancer(algorithm: Algorithm, method: HashMethod) -> Balancer {
    let config = BalancerConfig::new(algorithm).hash_type(HashType::new(method, None, false));
    Balancer::new(config, (1..=4).map(|i| ServerSpec::new(i).maxconn(10))).unwrap()
}

#[test]
fn redispatch_avoids_the_failed_server() {
    let algorithms = [
        (Algorithm::Source, HashMethod::Consistent),
        (Algorithm::Source, HashMethod::MapBased),
        (Algorithm::First, HashMethod::MapBased),
        (Algorithm::RoundRobin, HashMethod::MapBased),
        (Algorithm::LeastConn, HashMethod::MapBased),
        (Algorithm::StaticRr, HashMethod::MapBased),
    ];
    for (algorithm, method) in algorithms {
        let mut b = balancer(algorithm.clone(), method);
        for n in 0..50u8 {
            let ip = IpAddr::V4(Ipv4Addr::new(198, 18, 1, n));
            let key = RequestKey::source(ip);
            let failed = b.pick(&key).unwrap();
            let other = b.pick_avoiding(&key, failed).unwrap();
            assert_ne!(other, failed, "{algorithm:?} {method:?} client {ip}");
            // The failed server is back in service afterwards.
            assert!(b.is_usable(failed).unwrap());
            if matches!(algorithm, Algorithm::Source) {
                assert_eq!(b.pick(&key), Some(failed), "hash unchanged for {ip}");
            }
        }
    }
}

#[test]
fn the_failed_server_is_kept_when_nothing_else_serves() {
    let config = BalancerConfig::new(Algorithm::Source);
    let mut b = Balancer::new(config, [ServerSpec::new(1)]).unwrap();
    let key = RequestKey::source(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)));
    let only = b.pick(&key).unwrap();
    assert_eq!(b.pick_avoiding(&key, only), Some(only));
}
