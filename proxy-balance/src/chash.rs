//! Consistent hashing (HAProxy's lb_chash), also the ring `random` draws on.
//!
//! Each usable server owns `weight x 16` points on a 32-bit ring, point j of
//! server id s sitting at `avalanche(s * 4096 + j)`. A key goes to the point
//! nearest its hash (the one before it on a tie), found in O(log n). Changing
//! a server's weight adds or removes only its own points, so only the keys
//! near those points move.
//!
//! Points are ordered by position, then by server rank and point number.
//! HAProxy orders points at the very same position by insertion time instead,
//! which can differ only after run-time changes and only on exact 32-bit
//! collisions.

use std::collections::BTreeSet;
use std::ops::Bound;

use crate::Target;
use crate::hash::avalanche;
use crate::server::Srv;

/// HAProxy's SRV_EWGHT_RANGE: point numbers reserved per server id.
const EWGHT_RANGE: u32 = 256 * crate::WEIGHT_SCALE;

/// A point: ring position, server index, point number.
type Point = (u32, u32, u32);

/// Consistent-hash state.
#[derive(Debug, Clone)]
pub(crate) struct Chash {
    trees: [BTreeSet<Point>; 2],
    /// Points currently on the ring, per server.
    now: Vec<u32>,
    /// The last point used by the round-robin fallback.
    last: Option<Point>,
}

fn position(s: &Srv, j: u32) -> u32 {
    avalanche(s.id.0.wrapping_mul(EWGHT_RANGE).wrapping_add(j))
}

impl Chash {
    pub(crate) fn new(servers: &[Srv]) -> Self {
        let mut me = Self {
            trees: [BTreeSet::new(), BTreeSet::new()],
            now: vec![0; servers.len()],
            last: None,
        };
        for (i, s) in servers.iter().enumerate() {
            me.update(s, i);
        }
        me
    }

    /// Makes room for slot `i` (a newly added server, no point yet). A
    /// removed server's slot already has none: its weight went to 0.
    pub(crate) fn reset(&mut self, i: usize) {
        if self.now.len() <= i {
            self.now.resize(i + 1, 0);
        }
    }

    /// Brings server `i`'s points in line with its effective weight.
    pub(crate) fn update(&mut self, s: &Srv, i: usize) {
        let want = s.eweight();
        let tree = &mut self.trees[usize::from(s.backup)];
        let Some(now) = self.now.get_mut(i) else {
            return;
        };
        let Ok(rank) = u32::try_from(i) else {
            return;
        };
        while *now > want {
            *now -= 1;
            tree.remove(&(position(s, *now), rank, *now));
        }
        while *now < want {
            tree.insert((position(s, *now), rank, *now));
            *now += 1;
        }
    }

    fn tree(&self, target: Target) -> Result<&BTreeSet<Point>, Option<usize>> {
        match target {
            Target::None => Err(None),
            Target::Only(i) => Err(Some(i)),
            Target::Group(g) => Ok(&self.trees[g & 1]),
        }
    }

    /// The server whose point is nearest `hash`.
    pub(crate) fn by_hash(&self, hash: u32, target: Target) -> Option<usize> {
        let tree = match self.tree(target) {
            Ok(t) => t,
            Err(direct) => return direct,
        };
        let next = tree
            .range((hash, 0, 0)..)
            .next()
            .or_else(|| tree.first())
            .copied()?;
        let prev = tree
            .range(..next)
            .next_back()
            .or_else(|| tree.last())
            .copied()
            .unwrap_or(next);
        let dp = hash.wrapping_sub(prev.0);
        let dn = next.0.wrapping_sub(hash);
        let chosen = if dp <= dn { prev } else { next };
        Some(chosen.1 as usize)
    }

    /// Round robin over the ring's points, for requests without a hash key;
    /// skips servers at their connection limit.
    pub(crate) fn next_rr(&mut self, servers: &[Srv], target: Target) -> Option<usize> {
        let tree = match target {
            Target::None => return None,
            Target::Only(i) => return Some(i),
            Target::Group(g) => &self.trees[g & 1],
        };
        let after = match self.last {
            Some(p) => Bound::Excluded(p),
            None => Bound::Unbounded,
        };
        let walk = tree
            .range((after, Bound::Unbounded))
            .chain(tree.range(..))
            .take(tree.len());
        for &p in walk {
            let i = p.1 as usize;
            if servers.get(i).is_some_and(|s| !s.full()) {
                self.last = Some(p);
                return Some(i);
            }
        }
        None
    }
}
