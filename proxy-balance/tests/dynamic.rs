//! Servers added and removed on a live balancer (HAProxy's `add server` and
//! `del server`): errors, declaration order, and every algorithm still
//! picking correctly afterwards.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use proxy_balance::{
    Algorithm, BalanceError, Balancer, BalancerConfig, HashMethod, HashType, RequestKey, ServerId,
    ServerSpec, ServerState,
};

fn ip(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 ^ i.wrapping_mul(2_654_435_761)))
}

fn source(method: HashMethod) -> BalancerConfig {
    BalancerConfig::new(Algorithm::Source).hash_type(HashType::new(method, None, false))
}

/// Every algorithm, with the hash methods that change its lookup structure.
fn all_configs() -> Vec<BalancerConfig> {
    vec![
        BalancerConfig::new(Algorithm::RoundRobin),
        BalancerConfig::new(Algorithm::StaticRr),
        BalancerConfig::new(Algorithm::LeastConn),
        BalancerConfig::new(Algorithm::First),
        BalancerConfig::new(Algorithm::Random { draws: 2 }),
        source(HashMethod::MapBased),
        source(HashMethod::Consistent),
        source(HashMethod::Consistent).allbackups(true),
        BalancerConfig::new(Algorithm::RoundRobin).allbackups(true),
    ]
}

fn key(config: &BalancerConfig, i: u32) -> RequestKey<'static> {
    match config.algorithm {
        Algorithm::Source => RequestKey::source(ip(i)),
        _ => RequestKey::random(i.wrapping_mul(0x9e37_79b9)),
    }
}

/// A sequential request: picks, then starts and ends the connection, as the
/// engine reports it (leastconn rotates only through those reports).
fn request(b: &mut Balancer, config: &BalancerConfig, i: u32) -> Option<ServerId> {
    let got = b.pick(&key(config, i));
    if let Some(id) = got {
        b.conn_started(id).unwrap();
        b.conn_ended(id).unwrap();
    }
    got
}

fn build(config: BalancerConfig, servers: Vec<ServerSpec>) -> Balancer {
    Balancer::new(config, servers).unwrap()
}

/// The answers of a real HAProxy 2.6.12 to `add server` on a backend of each
/// algorithm (CLI on a stats socket): dynamic algorithms only.
#[test]
fn dynamic_servers_follow_haproxys_rule() {
    let cases = [
        (BalancerConfig::new(Algorithm::RoundRobin), true),
        (BalancerConfig::new(Algorithm::StaticRr), false),
        (BalancerConfig::new(Algorithm::LeastConn), true),
        (BalancerConfig::new(Algorithm::First), true),
        (BalancerConfig::new(Algorithm::Random { draws: 2 }), true),
        (source(HashMethod::MapBased), false),
        (source(HashMethod::Consistent), true),
        (
            BalancerConfig::new(Algorithm::Uri(Default::default())),
            false,
        ),
        (
            BalancerConfig::new(Algorithm::Hdr {
                name: "host".into(),
                use_domain_only: false,
            })
            .hash_type(HashType::new(HashMethod::Consistent, None, false)),
            true,
        ),
        (
            BalancerConfig::new(Algorithm::RdpCookie {
                name: "mstshash".into(),
            }),
            false,
        ),
        (
            BalancerConfig::new(Algorithm::UrlParam { name: "id".into() }),
            false,
        ),
    ];
    for (config, dynamic) in cases {
        let b = build(config.clone(), vec![ServerSpec::new(1)]);
        assert_eq!(b.supports_dynamic_servers(), dynamic, "{config:?}");
    }
}

#[test]
fn add_server_rejects_bad_specs_and_leaves_the_balancer_alone() {
    let mut b = build(
        BalancerConfig::new(Algorithm::RoundRobin),
        vec![ServerSpec::new(1), ServerSpec::new(2)],
    );
    assert_eq!(
        b.add_server(ServerSpec::new(2)),
        Err(BalanceError::DuplicateId(ServerId(2)))
    );
    assert_eq!(b.add_server(ServerSpec::new(0)), Err(BalanceError::ZeroId));
    assert_eq!(
        b.add_server(ServerSpec::new(3).weight(257)),
        Err(BalanceError::WeightOutOfRange {
            id: ServerId(3),
            weight: 257
        })
    );
    assert_eq!(
        b.server_ids().collect::<Vec<_>>(),
        [ServerId(1), ServerId(2)]
    );
    let picks: Vec<_> = (0..4).map(|_| b.pick(&RequestKey::default())).collect();
    assert_eq!(
        picks,
        [1, 2, 1, 2].map(|i| Some(ServerId(i))),
        "rotation unchanged"
    );
}

#[test]
fn remove_server_needs_a_known_idle_server() {
    let mut b = build(
        BalancerConfig::new(Algorithm::LeastConn),
        vec![ServerSpec::new(1), ServerSpec::new(2)],
    );
    assert_eq!(
        b.remove_server(ServerId(9)),
        Err(BalanceError::UnknownServer(ServerId(9)))
    );
    b.conn_started(ServerId(2)).unwrap();
    b.conn_started(ServerId(2)).unwrap();
    assert_eq!(
        b.remove_server(ServerId(2)),
        Err(BalanceError::ServerInUse {
            id: ServerId(2),
            served: 2
        })
    );
    assert!(
        b.is_usable(ServerId(2)).unwrap(),
        "a refused removal changes nothing"
    );
    b.conn_ended(ServerId(2)).unwrap();
    b.conn_ended(ServerId(2)).unwrap();
    b.remove_server(ServerId(2)).unwrap();
    assert_eq!(
        b.remove_server(ServerId(2)),
        Err(BalanceError::UnknownServer(ServerId(2)))
    );
    assert_eq!(
        b.state(ServerId(2)),
        Err(BalanceError::UnknownServer(ServerId(2)))
    );
    assert_eq!(b.server_ids().collect::<Vec<_>>(), [ServerId(1)]);
    for _ in 0..5 {
        assert_eq!(b.pick(&RequestKey::default()), Some(ServerId(1)));
    }
}

/// HAProxy adds servers in maintenance; `enable server` brings them in.
#[test]
fn a_server_added_in_maintenance_joins_when_enabled() {
    for config in all_configs() {
        let mut b = build(config.clone(), vec![ServerSpec::new(1), ServerSpec::new(2)]);
        let id = b
            .add_server(ServerSpec::new(7).weight(2).state(ServerState::Maint))
            .unwrap();
        assert_eq!(id, ServerId(7));
        assert_eq!(
            b.server_ids().collect::<Vec<_>>(),
            [ServerId(1), ServerId(2), ServerId(7)],
            "added servers come last"
        );
        for i in 0..200 {
            let got = request(&mut b, &config, i);
            assert!(matches!(got, Some(ServerId(1 | 2))), "{config:?}: {got:?}");
        }
        b.set_state(ServerId(7), ServerState::Up).unwrap();
        let picked7 = (0..400)
            .filter(|&i| request(&mut b, &config, i) == Some(ServerId(7)))
            .count();
        if config.algorithm == Algorithm::First {
            // `first` fills the lowest id first: server 7 waits its turn.
            assert_eq!(picked7, 0);
        } else {
            assert!(
                (100..300).contains(&picked7),
                "{config:?}: weight 2 of 4 got {picked7} of 400"
            );
        }
    }
}

/// Servers removed and added again reuse room inside the balancer, yet keep
/// the declaration order of HAProxy (new servers last).
#[test]
fn removal_then_addition_keeps_declaration_order() {
    for config in all_configs() {
        let mut b = build(
            config.clone(),
            (1..=4).map(ServerSpec::new).collect::<Vec<_>>(),
        );
        b.remove_server(ServerId(2)).unwrap();
        b.remove_server(ServerId(1)).unwrap();
        b.add_server(ServerSpec::new(1)).unwrap();
        b.add_server(ServerSpec::new(9).backup()).unwrap();
        assert_eq!(
            b.server_ids().collect::<Vec<_>>(),
            [3, 4, 1, 9].map(ServerId),
            "{config:?}"
        );
        let mut seen = BTreeMap::new();
        for i in 0..300 {
            if let Some(id) = request(&mut b, &config, i) {
                *seen.entry(id.0).or_insert(0) += 1;
            }
        }
        if config.algorithm == Algorithm::First {
            assert_eq!(seen.keys().copied().collect::<Vec<_>>(), [1], "{config:?}");
        } else {
            assert_eq!(
                seen.keys().copied().collect::<Vec<_>>(),
                [1, 3, 4],
                "{config:?}"
            );
        }
        // Only the backup is left: it takes everything.
        for id in [1, 3, 4] {
            b.remove_server(ServerId(id)).unwrap();
        }
        for i in 0..20 {
            assert_eq!(b.pick(&key(&config, i)), Some(ServerId(9)), "{config:?}");
        }
        b.remove_server(ServerId(9)).unwrap();
        assert_eq!(b.pick(&key(&config, 0)), None, "{config:?}");
        assert_eq!(b.server_ids().count(), 0);
    }
}

/// For hash-based algorithms a server added at run time lands exactly where
/// it would have been declared: the same keys go to the same servers.
#[test]
fn added_servers_hash_as_if_declared() {
    for method in [HashMethod::MapBased, HashMethod::Consistent] {
        let all: Vec<ServerSpec> = (1..=5).map(|i| ServerSpec::new(i).weight(i)).collect();
        let mut declared = build(source(method), all.clone());
        let mut grown = build(source(method), all[..2].to_vec());
        for spec in &all[2..] {
            grown.add_server(spec.clone()).unwrap();
        }
        // Churn that ends where it started.
        grown.remove_server(ServerId(2)).unwrap();
        grown.add_server(ServerSpec::new(6)).unwrap();
        grown.remove_server(ServerId(6)).unwrap();
        grown.add_server(all[1].clone()).unwrap();
        let mut declared_again = build(
            source(method),
            [0, 2, 3, 4, 1].map(|k| all[k].clone()).to_vec(),
        );
        for i in 0..2000 {
            let k = RequestKey::source(ip(i));
            let got = grown.pick(&k);
            assert_eq!(got, declared_again.pick(&k), "{method:?} key {i}");
            if method == HashMethod::Consistent {
                // The ring does not depend on declaration order at all.
                assert_eq!(got, declared.pick(&k), "{method:?} key {i}");
            }
        }
    }
}

/// Removing a server from a consistent ring moves only its own keys; adding
/// it back restores every key.
#[test]
fn consistent_ring_moves_only_the_removed_servers_keys() {
    let mut b = build(
        source(HashMethod::Consistent),
        (1..=8).map(ServerSpec::new).collect(),
    );
    let picks = |b: &mut Balancer| -> Vec<_> {
        (0..3000)
            .map(|i| b.pick(&RequestKey::source(ip(i))))
            .collect()
    };
    let before = picks(&mut b);
    b.remove_server(ServerId(5)).unwrap();
    let after = picks(&mut b);
    for (x, y) in before.iter().zip(&after) {
        if x != y {
            assert_eq!(*x, Some(ServerId(5)), "a key moved between other servers");
        }
        assert_ne!(*y, Some(ServerId(5)));
    }
    b.add_server(ServerSpec::new(5)).unwrap();
    assert_eq!(picks(&mut b), before);
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        id: u32,
        weight: u32,
        backup: bool,
        state: ServerState,
        maxconn: u32,
    },
    Remove(u32),
    State(u32, ServerState),
    Weight(u32, u32),
    Start(u32),
    End(u32),
    Pick(u32),
}

fn state() -> impl Strategy<Value = ServerState> {
    prop_oneof![
        3 => Just(ServerState::Up),
        1 => Just(ServerState::Drain),
        1 => Just(ServerState::Maint),
        1 => Just(ServerState::Down),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let id = 1u32..=10;
    prop_oneof![
        3 => (id.clone(), 0u32..=6, prop::bool::weighted(0.2), state(), 0u32..=2).prop_map(
            |(id, weight, backup, state, maxconn)| Op::Add { id, weight, backup, state, maxconn }
        ),
        2 => id.clone().prop_map(Op::Remove),
        2 => (id.clone(), state()).prop_map(|(id, s)| Op::State(id, s)),
        1 => (id.clone(), 0u32..=6).prop_map(|(id, w)| Op::Weight(id, w)),
        1 => id.clone().prop_map(Op::Start),
        1 => id.prop_map(Op::End),
        3 => any::<u32>().prop_map(Op::Pick),
    ]
}

/// What the balancer should know about each live server.
#[derive(Debug, Clone)]
struct Model {
    spec: ServerSpec,
    served: u32,
}

/// The server a pick may return given the live servers: an active one if
/// any is usable, else a backup; `None` only when nothing is usable or (for
/// algorithms that honour maxconn) every candidate is full.
fn check_pick(
    config: &BalancerConfig,
    live: &BTreeMap<u32, Model>,
    order: &[u32],
    got: Option<ServerId>,
) -> Result<(), TestCaseError> {
    let usable = |m: &Model| m.spec.state == ServerState::Up && m.spec.weight > 0;
    let full = |m: &Model| m.spec.maxconn != 0 && m.served >= m.spec.maxconn;
    let active: Vec<&Model> = order
        .iter()
        .filter_map(|id| live.get(id))
        .filter(|m| usable(m) && !m.spec.backup)
        .collect();
    let backups: Vec<&Model> = order
        .iter()
        .filter_map(|id| live.get(id))
        .filter(|m| usable(m) && m.spec.backup)
        .collect();
    let candidates: Vec<&Model> = if !active.is_empty() {
        active
    } else if config.allbackups {
        backups
    } else {
        backups.into_iter().take(1).collect()
    };
    match got {
        Some(id) => {
            prop_assert!(
                candidates.iter().any(|m| m.spec.id == id),
                "picked {} outside {:?}",
                id,
                candidates.iter().map(|m| m.spec.id).collect::<Vec<_>>()
            );
        }
        None => {
            let honours_maxconn = !config.algorithm.is_hash();
            let random = matches!(config.algorithm, Algorithm::Random { .. });
            prop_assert!(
                candidates.is_empty()
                    || (honours_maxconn && (random || candidates.iter().all(|m| full(m)))),
                "no pick among {:?}",
                candidates
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any mix of additions, removals, state, weight and load changes leaves
    /// every algorithm picking only usable servers of the right group, with
    /// the errors the model predicts; hash-based balancers end up mapping
    /// keys exactly as one built from scratch with the same servers.
    #[test]
    fn adding_and_removing_never_breaks_picks(
        initial in prop::collection::vec((1u32..=6, prop::bool::weighted(0.2)), 0..5),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        for config in all_configs() {
            let is_static = config.algorithm.is_static(&config.hash_type);
            let mut live: BTreeMap<u32, Model> = BTreeMap::new();
            let mut order: Vec<u32> = Vec::new();
            let mut specs = Vec::new();
            for (k, &(weight, backup)) in initial.iter().enumerate() {
                let id = u32::try_from(k).unwrap() + 1;
                let mut spec = ServerSpec::new(id).weight(weight);
                spec.backup = backup;
                live.insert(id, Model { spec: spec.clone(), served: 0 });
                order.push(id);
                specs.push(spec);
            }
            let mut b = build(config.clone(), specs);
            for op in &ops {
                match *op {
                    Op::Add { id, weight, backup, state, maxconn } => {
                        let mut spec = ServerSpec::new(id).weight(weight).maxconn(maxconn).state(state);
                        spec.backup = backup;
                        let r = b.add_server(spec.clone());
                        if let std::collections::btree_map::Entry::Vacant(e) = live.entry(id) {
                            prop_assert_eq!(r, Ok(ServerId(id)));
                            e.insert(Model { spec, served: 0 });
                            order.push(id);
                        } else {
                            prop_assert_eq!(r, Err(BalanceError::DuplicateId(ServerId(id))));
                        }
                    }
                    Op::Remove(id) => {
                        let r = b.remove_server(ServerId(id));
                        match live.get(&id) {
                            None => prop_assert_eq!(r, Err(BalanceError::UnknownServer(ServerId(id)))),
                            Some(m) if m.served > 0 => prop_assert_eq!(
                                r,
                                Err(BalanceError::ServerInUse { id: ServerId(id), served: m.served })
                            ),
                            Some(_) => {
                                prop_assert_eq!(r, Ok(()));
                                live.remove(&id);
                                order.retain(|&x| x != id);
                            }
                        }
                    }
                    Op::State(id, s) => {
                        let r = b.set_state(ServerId(id), s);
                        prop_assert_eq!(r.is_ok(), live.contains_key(&id));
                        if let Some(m) = live.get_mut(&id) {
                            m.spec.state = s;
                        }
                    }
                    Op::Weight(id, w) => {
                        // Static algorithms keep their initial weights here,
                        // so that a rebuilt balancer has the same table.
                        if !is_static {
                            let r = b.set_weight(ServerId(id), w);
                            prop_assert_eq!(r.is_ok(), live.contains_key(&id));
                            if let Some(m) = live.get_mut(&id) {
                                m.spec.weight = w;
                            }
                        }
                    }
                    Op::Start(id) => {
                        let r = b.conn_started(ServerId(id));
                        prop_assert_eq!(r.is_ok(), live.contains_key(&id));
                        if let Some(m) = live.get_mut(&id) {
                            m.served += 1;
                        }
                    }
                    Op::End(id) => {
                        let r = b.conn_ended(ServerId(id));
                        let ok = live.get(&id).is_some_and(|m| m.served > 0);
                        prop_assert_eq!(r.is_ok(), ok);
                        if let Some(m) = live.get_mut(&id).filter(|m| m.served > 0) {
                            m.served -= 1;
                        }
                    }
                    Op::Pick(k) => {
                        let got = b.pick(&key(&config, k));
                        check_pick(&config, &live, &order, got)?;
                    }
                }
                let ids: Vec<u32> = b.server_ids().map(|id| id.0).collect();
                prop_assert_eq!(&ids, &order, "declaration order");
            }
            // A burst of picks over the final set.
            for k in 0..50 {
                let got = b.pick(&key(&config, k));
                check_pick(&config, &live, &order, got)?;
            }
            if config.algorithm.is_hash() {
                let specs: Vec<ServerSpec> = order
                    .iter()
                    .filter_map(|id| live.get(id))
                    .map(|m| m.spec.clone())
                    .collect();
                let mut fresh = build(config.clone(), specs);
                for k in 0..200 {
                    prop_assert_eq!(
                        b.pick(&key(&config, k)),
                        fresh.pick(&key(&config, k)),
                        "{:?}: key {} maps differently from a fresh balancer", &config, k
                    );
                }
            }
        }
    }
}
