//! ACL evaluation: the seed configuration's `url_static` ACLs on a few paths, and
//! 10-pattern against 10,000-pattern ACLs for `beg`, `end`, `str` and `ip`, whose
//! costs should stay within a small constant of each other.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use proxy_acl::{AclExpr, AclSet, CompiledCondition, Condition, NoFiles, OwnedRequest};

fn req(url: &str) -> OwnedRequest {
    let mut r = OwnedRequest::new("GET", url)
        .header("Host", "www.example.com")
        .header("User-Agent", "bench/1.0");
    r.src = Some(SocketAddr::from(([203, 0, 113, 77], 40000)));
    r
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn condition(lines: &[Vec<String>]) -> CompiledCondition {
    let mut set = AclSet::new();
    for l in lines {
        let expr = AclExpr::parse(l).expect("bench ACL parses");
        set.declare("a", &expr, &NoFiles)
            .expect("bench ACL compiles");
    }
    let cond = Condition::parse(&words("if a")).expect("condition");
    set.compile(&cond, &NoFiles).expect("condition compiles")
}

fn seed_url_static(c: &mut Criterion) {
    let cond = condition(&[
        words("path_beg -i /static /image /js"),
        words("path_end -i .html .jpg .gif .png .css .js"),
    ]);
    let mut g = c.benchmark_group("acl/url_static");
    for path in ["/static/app.css", "/index.php?id=3", "/a/b/c/logo.PNG", "/"] {
        let r = req(path);
        g.bench_function(path, |b| b.iter(|| cond.evaluate(black_box(&r))));
    }
    g.finish();
}

/// Pattern `i` of a family, all distinct.
fn pattern(kind: &str, i: u32) -> String {
    match kind {
        "beg" => format!("/p{i:05}/"),
        "end" => format!(".e{i:05}"),
        "str" => format!("/exact/{i:05}"),
        _ => format!("10.{}.{}.0/24", (i >> 8) & 0xff, i & 0xff),
    }
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("acl/scaling");
    for (kind, criterion, hit_url) in [
        ("beg", "path_beg", "/p00007/x"),
        ("end", "path_end", "/x.e00007"),
        ("str", "path", "/exact/00007"),
        ("ip", "src", "/"),
    ] {
        for n in [10u32, 10_000] {
            let mut line = words(criterion);
            line.extend((0..n).map(|i| pattern(kind, i)));
            let cond = condition(&[line]);
            let hit = req(hit_url);
            let mut miss = req("/nothing/here.txt");
            if kind == "ip" {
                miss.src = Some(SocketAddr::from(([198, 51, 100, 1], 40000)));
                let mut h = req("/");
                h.src = Some(SocketAddr::from(([10, 0, 7, 9], 40000)));
                g.bench_function(format!("{kind}/{n}/hit"), |b| {
                    b.iter(|| cond.evaluate(black_box(&h)))
                });
            } else {
                g.bench_function(format!("{kind}/{n}/hit"), |b| {
                    b.iter(|| cond.evaluate(black_box(&hit)))
                });
            }
            g.bench_function(format!("{kind}/{n}/miss"), |b| {
                b.iter(|| cond.evaluate(black_box(&miss)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, seed_url_static, scaling);
criterion_main!(benches);
