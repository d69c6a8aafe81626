//! A deterministic network simulator for tests: N routers on one segment, a virtual
//! clock, and seeded loss, delay, duplication and partitions. Not part of the API.
//!
//! Each router runs one or more [`Instance`]s. Adverts travel as encoded bytes and are
//! received through [`Instance::handle_packet`], so the wire code is exercised too.
//! Every state change, log line and advert is recorded with its virtual time.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::net::IpAddr;
use std::time::Duration;

use crate::instance::{Action, Event, Instance, InstanceConfig, State, Transmit};
use crate::time::Instant;
use crate::wire::{IpPair, peek_vrid};

/// A small deterministic PRNG (SplitMix64), enough for simulations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi` (`lo` if `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.next_u64() % 1000 < u64::from(per_mille)
    }
}

/// How the segment treats packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Loss probability in per mille.
    pub loss_per_mille: u32,
    /// Duplication probability in per mille.
    pub dup_per_mille: u32,
    /// Smallest one-way delay.
    pub delay_min: Duration,
    /// Largest one-way delay.
    pub delay_max: Duration,
}

impl Link {
    /// No loss, no duplication, a fixed delay.
    pub fn fixed(delay: Duration) -> Link {
        Link {
            loss_per_mille: 0,
            dup_per_mille: 0,
            delay_min: delay,
            delay_max: delay,
        }
    }
}

/// A state change seen in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// When.
    pub at: Instant,
    /// Router index.
    pub router: usize,
    /// The instance's vrid.
    pub vrid: u8,
    /// Old state.
    pub from: State,
    /// New state.
    pub to: State,
}

/// An advert put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// When.
    pub at: Instant,
    /// Router index.
    pub router: usize,
    /// The advert.
    pub transmit: Transmit,
}

/// One simulated router.
#[derive(Debug, Clone)]
pub struct Router {
    /// The router's primary address.
    pub addr: IpAddr,
    /// Its instances.
    pub instances: Vec<Instance>,
    /// False once crashed: it neither receives, sends nor runs timers.
    pub alive: bool,
    /// Log lines with their times.
    pub log: Vec<(Instant, String)>,
    /// Every action other than log lines, with its time.
    pub actions: Vec<(Instant, Action)>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    seq: u64,
    to: usize,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    payload: Vec<u8>,
}

/// The simulated segment.
#[derive(Debug, Clone)]
pub struct Sim {
    now: Instant,
    rng: Rng,
    /// Link behaviour; may be changed at any time.
    pub link: Link,
    /// The routers.
    pub routers: Vec<Router>,
    partitions: BTreeSet<(usize, usize)>,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    /// Every state change.
    pub transitions: Vec<Transition>,
    /// Every advert sent.
    pub sent: Vec<Sent>,
}

impl Sim {
    /// An empty segment at time zero.
    pub fn new(seed: u64, link: Link) -> Sim {
        Sim {
            now: Instant::ZERO,
            rng: Rng::new(seed),
            link,
            routers: Vec::new(),
            partitions: BTreeSet::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            transitions: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The simulator's PRNG, for tests that draw scenarios from the same seed.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Adds a router with instances built from `configs`; returns its index.
    pub fn add_router(
        &mut self,
        addr: IpAddr,
        configs: Vec<InstanceConfig>,
    ) -> Result<usize, crate::ConfigError> {
        let instances = configs
            .into_iter()
            .map(Instance::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.routers.push(Router {
            addr,
            instances,
            alive: true,
            log: Vec::new(),
            actions: Vec::new(),
        });
        Ok(self.routers.len() - 1)
    }

    /// Cuts (`true`) or heals (`false`) the path between two routers, both ways.
    pub fn partition(&mut self, a: usize, b: usize, cut: bool) {
        let key = (a.min(b), a.max(b));
        if cut {
            self.partitions.insert(key);
        } else {
            self.partitions.remove(&key);
        }
    }

    /// Heals every partition.
    pub fn heal(&mut self) {
        self.partitions.clear();
    }

    /// Delivers an event to every instance of a router, now.
    pub fn event(&mut self, router: usize, event: Event) {
        let now = self.now;
        self.with_router(router, |inst| inst.handle_event(now, event.clone()));
    }

    /// Stops a router abruptly: nothing more is sent or handled (SIGKILL).
    pub fn crash(&mut self, router: usize) {
        if let Some(r) = self.routers.get_mut(router) {
            r.alive = false;
        }
    }

    /// Restarts a crashed (or running) router with fresh instances built from the same
    /// configurations, and starts them now.
    pub fn restart(&mut self, router: usize) -> Result<(), crate::ConfigError> {
        let Some(r) = self.routers.get_mut(router) else {
            return Ok(());
        };
        r.instances = r
            .instances
            .iter()
            .map(|i| Instance::new(i.config().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        r.alive = true;
        self.event(router, Event::Start);
        Ok(())
    }

    /// The state of the instance with `vrid` on a router.
    pub fn state(&self, router: usize, vrid: u8) -> Option<State> {
        self.routers
            .get(router)?
            .instances
            .iter()
            .find(|i| i.config().vrid == vrid)
            .map(|i| i.state())
    }

    /// Live routers whose instance with `vrid` is master.
    pub fn masters(&self, vrid: u8) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|r| self.routers[*r].alive && self.state(*r, vrid) == Some(State::Master))
            .collect()
    }

    /// Runs the simulation up to and including `until`.
    pub fn run_until(&mut self, until: Instant) {
        loop {
            let next_packet = self.queue.peek().map(|Reverse(p)| p.at);
            let next_timer = self
                .routers
                .iter()
                .filter(|r| r.alive)
                .flat_map(|r| r.instances.iter().filter_map(|i| i.poll_timeout()))
                .min();
            let next = match (next_packet, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = next;
            while self.queue.peek().is_some_and(|Reverse(p)| p.at <= next) {
                if let Some(Reverse(p)) = self.queue.pop() {
                    self.deliver(p);
                }
            }
            for r in 0..self.routers.len() {
                if self.routers[r].alive {
                    self.with_router(r, |inst| inst.handle_timeout(next));
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` more.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn deliver(&mut self, p: InFlight) {
        let Some(vrid) = peek_vrid(&p.payload) else {
            return;
        };
        let now = self.now;
        let ips = IpPair {
            src: p.src,
            dst: p.dst,
        };
        self.with_router(p.to, |inst| {
            if inst.config().vrid == vrid {
                // a rejection is logged by the instance; nothing else to do here
                let _ = inst.handle_packet(now, ips, p.ttl, &p.payload);
            }
        });
    }

    fn with_router(&mut self, router: usize, mut f: impl FnMut(&mut Instance)) {
        let Some(r) = self.routers.get_mut(router) else {
            return;
        };
        if !r.alive {
            return;
        }
        let mut out = Vec::new();
        for inst in &mut r.instances {
            let before = inst.state();
            f(inst);
            let after = inst.state();
            if before != after {
                self.transitions.push(Transition {
                    at: self.now,
                    router,
                    vrid: inst.config().vrid,
                    from: before,
                    to: after,
                });
            }
            while let Some(t) = inst.poll_transmit() {
                out.push(t);
            }
            while let Some(a) = inst.poll_action() {
                match a {
                    Action::Log(l) => r.log.push((self.now, l)),
                    a => r.actions.push((self.now, a)),
                }
            }
        }
        for t in out {
            self.send(router, t);
        }
    }

    fn send(&mut self, from: usize, t: Transmit) {
        let multicast = t.dst.is_multicast();
        for to in 0..self.routers.len() {
            if to == from {
                continue;
            }
            if !multicast && self.routers[to].addr != t.dst {
                continue;
            }
            if self.partitions.contains(&(from.min(to), from.max(to))) {
                continue;
            }
            if self.rng.chance(self.link.loss_per_mille) {
                continue;
            }
            let copies = if self.rng.chance(self.link.dup_per_mille) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let lo = u64::try_from(self.link.delay_min.as_micros()).unwrap_or(u64::MAX);
                let hi = u64::try_from(self.link.delay_max.as_micros()).unwrap_or(u64::MAX);
                let delay = Duration::from_micros(self.rng.range(lo, hi));
                self.seq += 1;
                self.queue.push(Reverse(InFlight {
                    at: self.now + delay,
                    seq: self.seq,
                    to,
                    src: t.src,
                    dst: t.dst,
                    ttl: t.ttl,
                    payload: t.payload.clone(),
                }));
            }
        }
        self.sent.push(Sent {
            at: self.now,
            router: from,
            transmit: t,
        });
    }
}
