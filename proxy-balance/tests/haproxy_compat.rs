//! Replays server choices captured from a real HAProxy 2.6.12
//! (`tests/data/capture.sh` produced `tests/data/haproxy-2.6-choices.csv`).
//!
//! Each case is a backend of the capture configuration; its rows are
//! `case,key,server`. Hash cases must give the same server for every key;
//! sequence cases (key = request rank) must give the same sequence.

use std::collections::BTreeMap;
use std::net::IpAddr;

use proxy_balance::{
    Algorithm, Balancer, BalancerConfig, HashFunction, HashMethod, HashType, RequestKey, ServerId,
    ServerSpec, ServerState, UriOptions,
};

const DATA: &str = include_str!("data/haproxy-2.6-choices.csv");

fn rows() -> BTreeMap<&'static str, Vec<(&'static str, &'static str)>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for line in DATA.lines().filter(|l| !l.is_empty()) {
        // The key may contain commas only in hdr cases, which it does not;
        // split the case off the front and the server off the back.
        let (case, rest) = line.split_once(',').expect("case column");
        let (key, server) = rest.rsplit_once(',').expect("server column");
        out.entry(case).or_default().push((key, server));
    }
    out
}

fn server_id(name: &str) -> ServerId {
    ServerId(
        name.trim_start_matches('s')
            .parse()
            .expect("server name sN"),
    )
}

/// s1 w1, s2 w2, s3 w3, s4 w1: the hash backends of the capture.
fn hash_servers() -> Vec<ServerSpec> {
    vec![
        ServerSpec::new(1).weight(1),
        ServerSpec::new(2).weight(2),
        ServerSpec::new(3).weight(3),
        ServerSpec::new(4).weight(1),
    ]
}

fn rr_servers() -> Vec<ServerSpec> {
    vec![
        ServerSpec::new(1).weight(1),
        ServerSpec::new(2).weight(2),
        ServerSpec::new(3).weight(3),
    ]
}

/// s1 disabled, s2..s4 backups with weights 2, 3, 1.
fn backup_servers() -> Vec<ServerSpec> {
    vec![
        ServerSpec::new(1).state(ServerState::Maint),
        ServerSpec::new(2).weight(2).backup(),
        ServerSpec::new(3).weight(3).backup(),
        ServerSpec::new(4).weight(1).backup(),
    ]
}

fn ht(method: HashMethod, function: Option<HashFunction>, avalanche: bool) -> HashType {
    HashType::new(method, function, avalanche)
}

/// The balancer for a capture case, mirroring its backend in capture.sh.
fn balancer_for(case: &str) -> Balancer {
    use HashMethod::{Consistent, MapBased};
    let hash_cfg = |algorithm: Algorithm, hash_type: HashType| {
        BalancerConfig::new(algorithm).hash_type(hash_type)
    };
    let (config, servers) = match case {
        "src_map" => (
            hash_cfg(Algorithm::Source, ht(MapBased, None, false)),
            hash_servers(),
        ),
        "src_map_aval" => (
            hash_cfg(
                Algorithm::Source,
                ht(MapBased, Some(HashFunction::Sdbm), true),
            ),
            hash_servers(),
        ),
        "src_cons" => (
            hash_cfg(Algorithm::Source, ht(Consistent, None, false)),
            hash_servers(),
        ),
        "src_cons_aval" => (
            hash_cfg(
                Algorithm::Source,
                ht(Consistent, Some(HashFunction::Sdbm), true),
            ),
            hash_servers(),
        ),
        "uri_depth2" => (
            hash_cfg(
                Algorithm::Uri(UriOptions {
                    depth: Some(2),
                    ..UriOptions::default()
                }),
                ht(Consistent, None, false),
            ),
            hash_servers(),
        ),
        "uri_len5_whole" => (
            hash_cfg(
                Algorithm::Uri(UriOptions {
                    len: Some(5),
                    whole: true,
                    ..UriOptions::default()
                }),
                ht(MapBased, None, false),
            ),
            hash_servers(),
        ),
        "uri_whole" => (
            hash_cfg(
                Algorithm::Uri(UriOptions {
                    whole: true,
                    ..UriOptions::default()
                }),
                ht(Consistent, Some(HashFunction::Djb2), false),
            ),
            hash_servers(),
        ),
        "urlp_id" => (
            hash_cfg(
                Algorithm::UrlParam { name: "id".into() },
                ht(Consistent, Some(HashFunction::Wt6), false),
            ),
            hash_servers(),
        ),
        "hdr_djb2" => (
            hash_cfg(
                Algorithm::Hdr {
                    name: "X-Key".into(),
                    use_domain_only: false,
                },
                ht(MapBased, Some(HashFunction::Djb2), false),
            ),
            hash_servers(),
        ),
        "hdr_domain" => (
            hash_cfg(
                Algorithm::Hdr {
                    name: "Host".into(),
                    use_domain_only: true,
                },
                ht(Consistent, Some(HashFunction::Crc32), false),
            ),
            hash_servers(),
        ),
        "rr123" | "rr_reweight" => (BalancerConfig::new(Algorithm::RoundRobin), rr_servers()),
        "rr299" => (
            BalancerConfig::new(Algorithm::RoundRobin),
            vec![
                ServerSpec::new(1).weight(2),
                ServerSpec::new(2).weight(9),
                ServerSpec::new(3).weight(9),
            ],
        ),
        "srr123" => (BalancerConfig::new(Algorithm::StaticRr), rr_servers()),
        "lc" => (
            BalancerConfig::new(Algorithm::LeastConn),
            vec![ServerSpec::new(1), ServerSpec::new(2), ServerSpec::new(3)],
        ),
        "bk_src_map" => (
            hash_cfg(Algorithm::Source, ht(MapBased, None, false)),
            backup_servers(),
        ),
        "bk_src_map_all" => (
            hash_cfg(Algorithm::Source, ht(MapBased, None, false)).allbackups(true),
            backup_servers(),
        ),
        "bk_src_cons_all" => (
            hash_cfg(
                Algorithm::Source,
                ht(Consistent, Some(HashFunction::Sdbm), true),
            )
            .allbackups(true),
            backup_servers(),
        ),
        "bk_rr" => (BalancerConfig::new(Algorithm::RoundRobin), backup_servers()),
        "bk_rr_all" => (
            BalancerConfig::new(Algorithm::RoundRobin).allbackups(true),
            backup_servers(),
        ),
        uri if uri.starts_with("uri_") => {
            // uri_<map|consistent>_<function>[_aval]
            let mut parts = uri.split('_').skip(1);
            let method = match parts.next() {
                Some("map") => MapBased,
                Some("consistent") => Consistent,
                other => panic!("unknown method in {uri}: {other:?}"),
            };
            let function = parts
                .next()
                .and_then(HashFunction::from_keyword)
                .unwrap_or_else(|| panic!("unknown function in {uri}"));
            let avalanche = parts.next() == Some("aval");
            (
                hash_cfg(
                    Algorithm::Uri(UriOptions::default()),
                    ht(method, Some(function), avalanche),
                ),
                hash_servers(),
            )
        }
        other => panic!("no balancer for capture case {other}"),
    };
    Balancer::new(config, servers).expect("valid capture backend")
}

fn key_for<'a>(case: &str, key: &'a str) -> RequestKey<'a> {
    if case.starts_with("src_") || case.starts_with("bk_src_") {
        let ip: IpAddr = key.parse().expect("source address");
        RequestKey::source(ip)
    } else if case.starts_with("hdr_") {
        RequestKey::header(key)
    } else {
        RequestKey::uri(key)
    }
}

fn is_sequence(case: &str) -> bool {
    matches!(
        case,
        "rr123" | "rr_reweight" | "srr123" | "lc" | "bk_rr" | "bk_rr_all"
    )
}

#[test]
fn every_captured_choice_matches() {
    let all = rows();
    assert!(all.len() >= 30, "capture has {} cases", all.len());
    let mut checked = 0;
    for (case, rows) in &all {
        let mut b = balancer_for(case);
        let mut mismatches = Vec::new();
        for (n, (key, server)) in rows.iter().enumerate() {
            if let Some(change) = key.strip_prefix("set ") {
                // "set sN W": a run-time weight change between requests.
                let (s, w) = change.split_once(' ').expect("set sN W");
                b.set_weight(server_id(s), w.parse().expect("weight"))
                    .expect("weight change");
                continue;
            }
            let got = if is_sequence(case) {
                // Sequential requests: each connection ends before the next.
                let got = b.pick(&RequestKey::default());
                if let Some(id) = got {
                    b.conn_started(id).expect("known server");
                    b.conn_ended(id).expect("known server");
                }
                got
            } else {
                b.pick(&key_for(case, key))
            };
            checked += 1;
            if got != Some(server_id(server)) {
                mismatches.push(format!("row {n} key {key}: haproxy {server}, ours {got:?}"));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{case}: {} of {} differ, first: {:?}",
            mismatches.len(),
            rows.len(),
            &mismatches[..mismatches.len().min(5)]
        );
    }
    assert!(checked > 4000, "only {checked} rows replayed");
}
