//! One balancer pick from 3 and from 300,000 servers: roundrobin in the
//! steady state (O(1): its periodic sequence replayed), leastconn (O(log n)
//! tree walk, as in HAProxy), consistent hashing (O(log n) ring lookup) and
//! map-based hashing (O(1) table slot).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use proxy_balance::{
    Algorithm, Balancer, BalancerConfig, HashMethod, HashType, RequestKey, ServerSpec,
};

const SIZES: [u32; 2] = [3, 300_000];

/// Weights 2, 3, 4 for the small backend; weight 1 for the large one, which
/// keeps the consistent ring at 16 points per server (4.8 million points).
fn servers(n: u32) -> impl Iterator<Item = ServerSpec> {
    (1..=n).map(move |id| ServerSpec::new(id).weight(if n <= 3 { 1 + id } else { 1 }))
}

fn build(config: BalancerConfig, n: u32) -> Balancer {
    match Balancer::new(config, servers(n)) {
        Ok(b) => b,
        Err(e) => panic!("bench backend: {e}"),
    }
}

fn roundrobin(c: &mut Criterion) {
    let mut g = c.benchmark_group("roundrobin");
    for n in SIZES {
        let mut b = build(BalancerConfig::new(Algorithm::RoundRobin), n);
        // The steady state: a window of 16 x total weight picks is recorded,
        // confirmed at its end, then replayed.
        let window: u64 = 16 * servers(n).map(|s| u64::from(s.weight)).sum::<u64>();
        let mut warm = 0u64;
        while b.roundrobin_cycle_len().is_none() && warm < 4 * window {
            black_box(b.pick(&RequestKey::default()));
            warm += 1;
        }
        assert!(
            b.roundrobin_cycle_len().is_some(),
            "roundrobin with {n} servers did not reach its steady state"
        );
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| black_box(b.pick(&RequestKey::default())));
        });
    }
    g.finish();
}

fn leastconn(c: &mut Criterion) {
    let mut g = c.benchmark_group("leastconn");
    for n in SIZES {
        let mut b = build(BalancerConfig::new(Algorithm::LeastConn), n);
        // A pick plus the start and end of its connection, as the engine
        // reports them: the two requeues are part of leastconn's cost.
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                if let Some(id) = b.pick(&RequestKey::default()) {
                    let _ = b.conn_started(id);
                    let _ = b.conn_ended(id);
                }
            });
        });
    }
    g.finish();
}

fn source_hash(c: &mut Criterion, name: &str, method: HashMethod) {
    let mut g = c.benchmark_group(name);
    for n in SIZES {
        let config =
            BalancerConfig::new(Algorithm::Source).hash_type(HashType::new(method, None, false));
        let mut b = build(config, n);
        let mut ip = 0x0a00_0001u32;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| {
                ip = ip.wrapping_add(0x9e37_79b9);
                black_box(b.pick(&RequestKey::source(IpAddr::V4(Ipv4Addr::from(ip)))))
            });
        });
    }
    g.finish();
}

fn consistent(c: &mut Criterion) {
    source_hash(c, "source_consistent", HashMethod::Consistent);
}

fn map_based(c: &mut Criterion) {
    source_hash(c, "source_map_based", HashMethod::MapBased);
}

criterion_group!(benches, roundrobin, leastconn, consistent, map_based);
criterion_main!(benches);
