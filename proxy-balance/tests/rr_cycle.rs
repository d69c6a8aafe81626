//! `roundrobin` replays its periodic sequence in the steady state: the
//! replayed picks, and the picks after any change, saturation or server
//! addition or removal, are exactly those of the tree walk alone (itself
//! HAProxy's sequence, see haproxy_compat.rs).

use proptest::prelude::*;
use proxy_balance::{
    Algorithm, Balancer, BalancerConfig, RequestKey, ServerId, ServerSpec, ServerState,
};

const CAPTURE: &str = include_str!("data/haproxy-2.6-choices.csv");

fn rr_with(servers: Vec<ServerSpec>, allbackups: bool) -> Balancer {
    let config = BalancerConfig::new(Algorithm::RoundRobin).allbackups(allbackups);
    Balancer::new(config, servers).unwrap()
}

fn weighted(weights: &[u32]) -> Vec<ServerSpec> {
    weights
        .iter()
        .zip(1..)
        .map(|(&w, id)| ServerSpec::new(id).weight(w))
        .collect()
}

/// The same backend twice: replaying (default limit) and tree walk only.
fn pair(servers: Vec<ServerSpec>) -> (Balancer, Balancer) {
    let cached = rr_with(servers.clone(), false);
    let mut trees = rr_with(servers, false);
    trees.set_roundrobin_cycle_limit(0);
    (cached, trees)
}

fn pick(b: &mut Balancer) -> Option<ServerId> {
    b.pick(&RequestKey::default())
}

/// Picks `n` times from both, asserting equal picks; returns how many of the
/// replaying side's picks came from its cycle.
fn lockstep(a: &mut Balancer, b: &mut Balancer, n: usize, what: &str) -> usize {
    let mut replayed = 0;
    for k in 0..n {
        if a.roundrobin_cycle_len().is_some() {
            replayed += 1;
        }
        assert_eq!(pick(a), pick(b), "{what}: pick {k}");
    }
    assert_eq!(b.roundrobin_cycle_len(), None, "limit 0 never replays");
    replayed
}

#[test]
fn the_captured_haproxy_sequence_is_replayed_exactly() {
    // rr299: weights 2, 9, 9 over 1,300 picks, about four windows of 319.
    let expected: Vec<ServerId> = CAPTURE
        .lines()
        .filter_map(|l| l.strip_prefix("rr299,"))
        .filter_map(|rest| rest.rsplit_once(','))
        .map(|(_, s)| ServerId(s.trim_start_matches('s').parse().unwrap()))
        .collect();
    assert_eq!(expected.len(), 1300);
    let mut b = rr_with(weighted(&[2, 9, 9]), false);
    let mut replayed = 0;
    for (n, want) in expected.iter().enumerate() {
        if b.roundrobin_cycle_len().is_some() {
            replayed += 1;
        }
        assert_eq!(pick(&mut b), Some(*want), "pick {n}");
    }
    assert!(replayed > 600, "only {replayed} picks replayed");
    // 2, 9, 9 loses a pick to rounding: the window is 319 picks, not 320;
    // its last 8 picks repeat its first 8, so 311 are stored.
    assert_eq!(b.roundrobin_cycle_len(), Some(311));
}

#[test]
fn equal_weights_store_one_rotation() {
    let (mut a, mut b) = pair((1..=3000).map(ServerSpec::new).collect());
    // One window of 16 x 3000 picks is recorded, confirmed at its end, then
    // replayed; a few windows leave room to spare.
    let replayed = lockstep(&mut a, &mut b, 3 * 16 * 3000 + 500, "3000 servers");
    assert!(replayed > 16 * 3000, "only {replayed} picks replayed");
    assert_eq!(a.roundrobin_cycle_len(), Some(3000));
}

#[test]
fn a_window_above_the_limit_stays_on_the_trees() {
    let (mut a, mut b) = pair(weighted(&[2, 9, 9]));
    a.set_roundrobin_cycle_limit(310);
    assert_eq!(lockstep(&mut a, &mut b, 2000, "limit 310"), 0);
    a.set_roundrobin_cycle_limit(311);
    // The limit counts from the next window boundary.
    let replayed = lockstep(&mut a, &mut b, 2000, "limit 311");
    assert!(replayed > 0);
    assert_eq!(a.roundrobin_cycle_len(), Some(311));
}

/// Every position of the window: a change there resumes the trees exactly
/// where the sequence is.
#[test]
fn a_change_at_any_point_of_the_cycle_resumes_exactly() {
    for weights in [&[1u32, 2, 3][..], &[2, 9, 9], &[5, 3, 3, 1]] {
        let total: u32 = weights.iter().sum();
        let window = 16 * total as usize;
        for k in 0..window {
            for change in 0..5 {
                let (mut a, mut b) = pair(weighted(weights));
                let what = format!("weights {weights:?}, change {change} at {k}");
                lockstep(&mut a, &mut b, 2 * window + 2, &what);
                assert!(a.roundrobin_cycle_len().is_some(), "{what}: replaying");
                lockstep(&mut a, &mut b, k, &what);
                for x in [&mut a, &mut b] {
                    match change {
                        0 => x.set_weight(ServerId(2), 7).unwrap(),
                        1 => x.set_state(ServerId(1), ServerState::Down).unwrap(),
                        2 => {
                            x.add_server(ServerSpec::new(9).weight(4)).unwrap();
                        }
                        3 => {
                            // A limit server 1 is already at.
                            x.conn_started(ServerId(1)).unwrap();
                            x.set_maxconn(ServerId(1), 1).unwrap();
                        }
                        _ => {
                            // Saturation: server 3 at its maxconn of 1.
                            x.remove_server(ServerId(3)).unwrap();
                            x.add_server(ServerSpec::new(3).weight(3).maxconn(1))
                                .unwrap();
                            x.conn_started(ServerId(3)).unwrap();
                        }
                    }
                }
                lockstep(&mut a, &mut b, 2 * window, &what);
            }
        }
    }
}

/// Saturation met while replaying: the saturated server is skipped where
/// the trees would skip it, and replay comes back once it is free again.
#[test]
fn a_saturated_server_met_while_replaying_is_skipped_exactly() {
    let servers: Vec<ServerSpec> = weighted(&[1, 2, 3])
        .into_iter()
        .map(|s| s.maxconn(2))
        .collect();
    let (mut a, mut b) = pair(servers);
    lockstep(&mut a, &mut b, 300, "warm-up");
    assert!(a.roundrobin_cycle_len().is_some());
    for x in [&mut a, &mut b] {
        x.conn_started(ServerId(3)).unwrap();
        x.conn_started(ServerId(3)).unwrap();
    }
    lockstep(&mut a, &mut b, 50, "server 3 full");
    assert_eq!(a.roundrobin_cycle_len(), None, "a full server stops replay");
    for x in [&mut a, &mut b] {
        x.conn_ended(ServerId(3)).unwrap();
        x.conn_ended(ServerId(3)).unwrap();
    }
    let replayed = lockstep(&mut a, &mut b, 600, "server 3 free again");
    assert!(replayed > 0, "replay resumes in the steady state");
}

#[derive(Debug, Clone)]
enum Op {
    Picks(u16),
    Weight(u32, u32),
    State(u32, ServerState),
    Start(u32),
    End(u32),
    Add(u32, u32, bool, u32),
    Remove(u32),
    Maxconn(u32, u32),
}

fn op() -> impl Strategy<Value = Op> {
    let id = 1u32..=7;
    let state = prop_oneof![
        Just(ServerState::Up),
        Just(ServerState::Drain),
        Just(ServerState::Maint),
        Just(ServerState::Down),
    ];
    prop_oneof![
        6 => (0u16..1200).prop_map(Op::Picks),
        1 => (id.clone(), 0u32..=12).prop_map(|(i, w)| Op::Weight(i, w)),
        1 => (id.clone(), state).prop_map(|(i, s)| Op::State(i, s)),
        2 => id.clone().prop_map(Op::Start),
        2 => id.clone().prop_map(Op::End),
        1 => (id.clone(), 0u32..=12, prop::bool::weighted(0.2), 0u32..=3)
            .prop_map(|(i, w, b, m)| Op::Add(i, w, b, m)),
        1 => id.clone().prop_map(Op::Remove),
        1 => (id, 0u32..=3).prop_map(|(i, m)| Op::Maxconn(i, m)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Replaying and walking the trees give the same picks through any mix
    /// of weights, state changes, saturations (maxconn reached and freed),
    /// limits changed, backups, and servers added and removed; also with a small limit that
    /// keeps most windows on the trees.
    #[test]
    fn replay_equals_the_tree_walk(
        initial in prop::collection::vec((1u32..=12, prop::bool::weighted(0.15), 0u32..=3), 1..6),
        allbackups in any::<bool>(),
        limit in prop_oneof![Just(proxy_balance::DEFAULT_ROUNDROBIN_CYCLE_LIMIT), 1usize..40],
        ops in prop::collection::vec(op(), 1..30),
    ) {
        let servers: Vec<ServerSpec> = initial
            .iter()
            .zip(1..)
            .map(|(&(w, backup, maxconn), id)| {
                let s = ServerSpec::new(id).weight(w).maxconn(maxconn);
                if backup { s.backup() } else { s }
            })
            .collect();
        let mut a = rr_with(servers.clone(), allbackups);
        a.set_roundrobin_cycle_limit(limit);
        let mut b = rr_with(servers, allbackups);
        b.set_roundrobin_cycle_limit(0);
        for (n, op) in ops.iter().enumerate() {
            match *op {
                Op::Picks(count) => {
                    for k in 0..count {
                        prop_assert_eq!(pick(&mut a), pick(&mut b), "op {} pick {}", n, k);
                    }
                }
                _ => {
                    let ra = apply(&mut a, op);
                    let rb = apply(&mut b, op);
                    prop_assert_eq!(ra, rb, "op {} {:?}", n, op);
                }
            }
        }
        prop_assert_eq!(b.roundrobin_cycle_len(), None);
    }
}

/// Applies a change; the result says whether it was accepted.
fn apply(b: &mut Balancer, op: &Op) -> bool {
    match *op {
        Op::Picks(_) => true,
        Op::Weight(id, w) => b.set_weight(ServerId(id), w).is_ok(),
        Op::State(id, s) => b.set_state(ServerId(id), s).is_ok(),
        Op::Start(id) => b.conn_started(ServerId(id)).is_ok(),
        Op::End(id) => b.conn_ended(ServerId(id)).is_ok(),
        Op::Add(id, w, backup, maxconn) => {
            let s = ServerSpec::new(id).weight(w).maxconn(maxconn);
            b.add_server(if backup { s.backup() } else { s }).is_ok()
        }
        Op::Remove(id) => b.remove_server(ServerId(id)).is_ok(),
        Op::Maxconn(id, m) => b.set_maxconn(ServerId(id), m).is_ok(),
    }
}

/// After this weight change the two servers of weight 2 swap places at
/// every window boundary (HAProxy's trees do the same): the cycle is two
/// windows long, and replaying it stays exact.
#[test]
fn a_two_window_cycle_is_replayed_exactly() {
    let (mut a, mut b) = pair(weighted(&[2, 7, 2, 5]));
    lockstep(&mut a, &mut b, 299, "before the change");
    for x in [&mut a, &mut b] {
        x.set_weight(ServerId(2), 3).unwrap();
    }
    let window = 16 * (2 + 3 + 2 + 5);
    let replayed = lockstep(&mut a, &mut b, 8 * window, "after the change");
    assert!(replayed > 2 * window, "only {replayed} picks replayed");
    // Then a change at each point of the two windows.
    for k in (0..2 * window).step_by(7) {
        let (mut a2, mut b2) = (a.clone(), b.clone());
        lockstep(&mut a2, &mut b2, k, "into the cycle");
        for x in [&mut a2, &mut b2] {
            x.set_state(ServerId(4), ServerState::Drain).unwrap();
        }
        lockstep(&mut a2, &mut b2, 2 * window, &format!("drain at {k}"));
    }
}
