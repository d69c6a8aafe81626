//! Connection limits changed on a live balancer (HAProxy's `set maxconn
//! server`): the sequence goes on where it was, only servers at their new
//! limit are skipped.

use proptest::prelude::*;
use proxy_balance::{
    Algorithm, BalanceError, Balancer, BalancerConfig, HashMethod, HashType, RequestKey, ServerId,
    ServerSpec,
};

fn rr(weights: &[u32]) -> Balancer {
    let servers = weights
        .iter()
        .zip(1..)
        .map(|(&w, id)| ServerSpec::new(id).weight(w));
    Balancer::new(BalancerConfig::new(Algorithm::RoundRobin), servers).unwrap()
}

fn pick(b: &mut Balancer) -> Option<ServerId> {
    b.pick(&RequestKey::default())
}

#[test]
fn limits_are_read_back_and_unknown_servers_refused() {
    let mut b = rr(&[1, 1]);
    assert_eq!(b.maxconn(ServerId(2)), Ok(0));
    b.set_maxconn(ServerId(2), 7).unwrap();
    assert_eq!(b.maxconn(ServerId(2)), Ok(7));
    assert_eq!(
        b.set_maxconn(ServerId(9), 1),
        Err(BalanceError::UnknownServer(ServerId(9)))
    );
    b.remove_server(ServerId(2)).unwrap();
    assert_eq!(
        b.maxconn(ServerId(2)),
        Err(BalanceError::UnknownServer(ServerId(2)))
    );
}

/// A limit no server reaches changes nothing: at every point of two
/// windows (replayed from the cycle or walked on the trees), the picks
/// after the change are those of a balancer that never saw it. A balancer
/// rebuilt with the new limit would start over from its first server.
#[test]
fn the_roundrobin_sequence_continues_across_a_limit_change() {
    let weights = [2u32, 9, 9, 4];
    let window = 16 * weights.iter().sum::<u32>() as usize;
    let mut reference = rr(&weights);
    let warm: Vec<_> = (0..3 * window).map(|_| pick(&mut reference)).collect();
    assert!(reference.roundrobin_cycle_len().is_some(), "replaying");
    for k in (0..2 * window).step_by(5) {
        let mut a = reference.clone();
        let mut b = reference.clone();
        for _ in 0..k {
            assert_eq!(pick(&mut a), pick(&mut b));
        }
        b.set_maxconn(ServerId(3), 4).unwrap();
        b.set_maxconn(ServerId(1), 0).unwrap();
        assert_eq!(b.roundrobin_cycle_len(), None, "the change drops the cycle");
        for n in 0..3 * window {
            assert_eq!(pick(&mut a), pick(&mut b), "change at {k}, pick {n}");
        }
        assert!(b.roundrobin_cycle_len().is_some(), "replay resumes");
    }
    let mut rebuilt = Balancer::new(
        BalancerConfig::new(Algorithm::RoundRobin),
        weights
            .iter()
            .zip(1..)
            .map(|(&w, id)| ServerSpec::new(id).weight(w).maxconn(4)),
    )
    .unwrap();
    let restart: Vec<_> = (0..3 * window).map(|_| pick(&mut rebuilt)).collect();
    assert_eq!(restart, warm, "a rebuild replays from the start");
}

/// Lowering the limit under the connections in flight skips the server
/// from the next pick on, exactly where the trees skip it; raising it
/// again brings it back at its place in the sequence.
#[test]
fn a_limit_reached_skips_the_server_until_raised() {
    let mut cached = rr(&[1, 2, 3]);
    let mut trees = rr(&[1, 2, 3]);
    trees.set_roundrobin_cycle_limit(0);
    for _ in 0..500 {
        assert_eq!(pick(&mut cached), pick(&mut trees));
    }
    for b in [&mut cached, &mut trees] {
        b.conn_started(ServerId(3)).unwrap();
        b.conn_started(ServerId(3)).unwrap();
        b.set_maxconn(ServerId(3), 2).unwrap();
    }
    for n in 0..200 {
        let got = pick(&mut cached);
        assert_eq!(got, pick(&mut trees), "pick {n}");
        assert_ne!(got, Some(ServerId(3)), "pick {n}: server 3 is full");
    }
    for b in [&mut cached, &mut trees] {
        b.set_maxconn(ServerId(3), 3).unwrap();
    }
    let mut seen = false;
    for n in 0..500 {
        let got = pick(&mut cached);
        assert_eq!(got, pick(&mut trees), "pick {n} after raising");
        seen |= got == Some(ServerId(3));
    }
    assert!(seen, "server 3 takes traffic again");
}

fn configs() -> Vec<BalancerConfig> {
    vec![
        BalancerConfig::new(Algorithm::RoundRobin),
        BalancerConfig::new(Algorithm::StaticRr),
        BalancerConfig::new(Algorithm::LeastConn),
        BalancerConfig::new(Algorithm::First),
        BalancerConfig::new(Algorithm::Random { draws: 2 }),
        BalancerConfig::new(Algorithm::Source).hash_type(HashType::new(
            HashMethod::Consistent,
            None,
            false,
        )),
        BalancerConfig::new(Algorithm::Source).hash_type(HashType::new(
            HashMethod::MapBased,
            None,
            false,
        )),
    ]
}

fn key(i: u32) -> RequestKey<'static> {
    let ip = std::net::Ipv4Addr::from(0x0a00_0000 ^ i.wrapping_mul(2_654_435_761));
    RequestKey {
        random: i.wrapping_mul(0x9e37_79b9),
        ..RequestKey::source(ip.into())
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Picks this many, starting a connection on each server picked.
    Picks(u8),
    /// Ends one connection on the server, if it has any.
    End(u32),
    /// Sets the server's limit.
    Limit(u32, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u8..40).prop_map(Op::Picks),
        2 => (1u32..=5).prop_map(Op::End),
        1 => (1u32..=5, 0u32..=4).prop_map(|(i, m)| Op::Limit(i, m)),
    ]
}

/// A model of the caller: what it knows of each server's connections.
fn run(b: &mut Balancer, ops: &[Op], with_limits: bool) -> Vec<Option<ServerId>> {
    let mut out = Vec::new();
    let mut n = 0u32;
    for op in ops {
        match *op {
            Op::Picks(count) => {
                for _ in 0..count {
                    n += 1;
                    let got = b.pick(&key(n));
                    if let Some(id) = got {
                        b.conn_started(id).unwrap();
                    }
                    out.push(got);
                }
            }
            Op::End(id) => {
                if b.served(ServerId(id)).unwrap() > 0 {
                    b.conn_ended(ServerId(id)).unwrap();
                }
            }
            Op::Limit(id, m) if with_limits => b.set_maxconn(ServerId(id), m).unwrap(),
            Op::Limit(..) => {}
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With every algorithm: limits changed at run time pick as the same
    /// limits given from the start when they never bind, and never give a
    /// server more connections than its limit in force (hash-based
    /// algorithms excepted: HAProxy queues on the hashed server instead).
    #[test]
    fn live_limits_bind_exactly_when_reached(
        config in prop::sample::select(configs()),
        weights in prop::collection::vec(1u32..=5, 5),
        ops in prop::collection::vec(op(), 1..25),
    ) {
        let specs = || weights.iter().zip(1..).map(|(&w, id)| ServerSpec::new(id).weight(w));
        let mut plain = Balancer::new(config.clone(), specs()).unwrap();
        let mut limited = Balancer::new(config.clone(), specs()).unwrap();
        let hashed = matches!(config.algorithm, Algorithm::Source);
        // Limits of 0 or far above any count never bind.
        let loose: Vec<Op> = ops
            .iter()
            .map(|op| match *op {
                Op::Limit(id, m) => Op::Limit(id, if m == 0 { 0 } else { 1000 + m }),
                ref o => o.clone(),
            })
            .collect();
        prop_assert_eq!(run(&mut plain, &loose, false), run(&mut limited, &loose, true));

        let mut b = Balancer::new(config.clone(), specs()).unwrap();
        let mut n = 0u32;
        for op in &ops {
            match *op {
                Op::Picks(count) => {
                    for _ in 0..count {
                        n += 1;
                        let Some(id) = b.pick(&key(n)) else { continue };
                        let (served, max) = (b.served(id).unwrap(), b.maxconn(id).unwrap());
                        prop_assert!(
                            hashed || max == 0 || served < max,
                            "{:?}: {} picked with {} of {} in flight", config.algorithm, id, served, max
                        );
                        b.conn_started(id).unwrap();
                    }
                }
                Op::End(id) => {
                    if b.served(ServerId(id)).unwrap() > 0 {
                        b.conn_ended(ServerId(id)).unwrap();
                    }
                }
                Op::Limit(id, m) => b.set_maxconn(ServerId(id), m).unwrap(),
            }
        }
    }
}
