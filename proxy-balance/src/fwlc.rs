//! `leastconn`: HAProxy's fast weighted least connections (lb_fwlc).
//!
//! Usable servers sit in a tree keyed by load per unit of weight; an idle
//! server has key 0. A server is requeued each time a connection starts or
//! ends, which puts it after the servers of equal key: ties therefore rotate
//! round robin. A pick walks the tree from the least loaded server and skips
//! servers at their connection limit.

use crate::Target;
use crate::server::Srv;
use crate::tree::{Seq, Tree};

const EWGHT_MAX: u64 = 256 * crate::WEIGHT_SCALE as u64;

/// Least-connections state.
#[derive(Debug, Clone)]
pub(crate) struct Fwlc {
    trees: [Tree; 2],
    queued: Vec<Option<(u32, Seq)>>,
    seq: Seq,
}

fn key(s: &Srv) -> u32 {
    let ew = u64::from(s.eweight()).max(1);
    let inflight = u64::from(s.served);
    if inflight == 0 {
        0
    } else {
        u32::try_from((inflight + 1) * EWGHT_MAX / ew).unwrap_or(u32::MAX)
    }
}

impl Fwlc {
    pub(crate) fn new(servers: &[Srv]) -> Self {
        let mut me = Self {
            trees: [Tree::new(), Tree::new()],
            queued: vec![None; servers.len()],
            seq: 0,
        };
        for (i, s) in servers.iter().enumerate() {
            me.update(s, i);
        }
        me
    }

    /// Makes room for slot `i` (a newly added server, not yet queued).
    pub(crate) fn reset(&mut self, i: usize) {
        if self.queued.len() <= i {
            self.queued.resize(i + 1, None);
        }
    }

    /// Requeues server `i` after a change of state, weight or load.
    pub(crate) fn update(&mut self, s: &Srv, i: usize) {
        let g = usize::from(s.backup);
        let Some(slot) = self.queued.get_mut(i) else {
            return;
        };
        if let Some(k) = slot.take() {
            self.trees[g].remove(&k);
        }
        if s.usable() {
            self.seq += 1;
            let k = (key(s), self.seq);
            self.trees[g].insert(k, i);
            *slot = Some(k);
        }
    }

    pub(crate) fn next(&self, servers: &[Srv], target: Target) -> Option<usize> {
        target.first_free(servers, |g| self.trees[g & 1].values().copied())
    }
}
