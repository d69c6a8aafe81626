//! Configuration loading at scale: `proxy_config::parse_str` on generated
//! configurations of 3,000 and 30,000 servers under criterion, then one timed
//! run at 300,000 servers in 3,000 backends (too slow to sample repeatedly).
//!
//! The side-by-side comparison with `haproxy -c` is
//! `benches/config-load-vs-haproxy.sh`.

use std::hint::black_box;
use std::time::Instant;

use benches::{ConfigShape, haproxy_config};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// The generated files use no environment variables.
fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> usize {
    match proxy_config::parse_str("generated.cfg", text, &no_env) {
        Ok(loaded) => loaded.warnings.len(),
        Err(errors) => panic!("generated configuration refused:\n{errors}"),
    }
}

fn parse_str_by_size(c: &mut Criterion) {
    let mut group = c.benchmark_group("config_load/parse_str");
    group.sample_size(10);
    for (servers, backends) in [(3_000, 30), (30_000, 300)] {
        let text = haproxy_config(ConfigShape { servers, backends });
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(servers), &text, |b, text| {
            b.iter(|| parse(black_box(text)))
        });
    }
    group.finish();
}

fn parse_str_large_once(_: &mut Criterion) {
    let text = haproxy_config(ConfigShape::LARGE);
    let start = Instant::now();
    let warnings = parse(black_box(&text));
    let elapsed = start.elapsed();
    println!(
        "config_load/parse_str/{} (single run): {:.3} s for {} MB, {} warnings",
        ConfigShape::LARGE.servers,
        elapsed.as_secs_f64(),
        text.len() / 1_000_000,
        warnings
    );
}

criterion_group!(benches, parse_str_by_size, parse_str_large_once);
criterion_main!(benches);
