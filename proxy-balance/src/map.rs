//! Map-based lookups (HAProxy's lb_map): `static-rr` and `hash-type map-based`.
//!
//! The usable servers of the selected group are laid out in a table with one
//! slot per unit of weight (weights first divided by their greatest common
//! divisor), interleaved so that equal weights keep declaration order. A hash
//! picks slot `hash % total`; static-rr walks the slots. The table is rebuilt
//! whenever the usable set changes, in O(servers x total weight), or O(servers)
//! when all weights are equal; a lookup is O(1).

use crate::Target;
use crate::server::Srv;

/// Map-based state.
#[derive(Debug, Clone)]
pub(crate) struct MapLb {
    /// The GCD of the initial non-zero weights (HAProxy's `wmult`).
    wmult: u32,
    table: Vec<usize>,
    rr_idx: usize,
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl MapLb {
    pub(crate) fn new(servers: &[Srv], target: Target) -> Self {
        let wmult = servers
            .iter()
            .map(|s| s.uweight)
            .filter(|&w| w != 0)
            .reduce(gcd)
            .unwrap_or(1)
            .max(1);
        let mut me = Self {
            wmult,
            table: Vec::new(),
            rr_idx: 0,
        };
        me.rebuild(servers, target);
        me
    }

    fn eweight(&self, s: &Srv) -> u32 {
        if s.usable() {
            s.uweight.div_ceil(self.wmult)
        } else {
            0
        }
    }

    /// Recomputes the table for the current usable set.
    pub(crate) fn rebuild(&mut self, servers: &[Srv], target: Target) {
        self.table.clear();
        let members: Vec<(usize, u32)> = match target {
            Target::None => return,
            Target::Only(i) => vec![(i, 1)],
            Target::Group(g) => servers
                .iter()
                .enumerate()
                .filter(|(_, s)| usize::from(s.backup) == g)
                .map(|(i, s)| (i, self.eweight(s)))
                .filter(|&(_, w)| w > 0)
                .collect(),
        };
        let tot: u64 = members.iter().map(|&(_, w)| u64::from(w)).sum();
        let Some(&(_, w0)) = members.first() else {
            return;
        };
        if members.iter().all(|&(_, w)| w == w0) {
            // Equal weights interleave in declaration order.
            for _ in 0..w0 {
                self.table.extend(members.iter().map(|&(i, _)| i));
            }
            return;
        }
        // HAProxy's recalc_server_map: every slot, each server gains its
        // weight; the one furthest ahead ((score + tot) / tot, earliest
        // declared on ties) takes the slot and pays tot.
        let tot_i = tot as i64;
        let mut score = vec![0i64; members.len()];
        self.table.reserve(tot as usize);
        for _ in 0..tot {
            let mut best: Option<(usize, i64)> = None;
            for (k, &(_, w)) in members.iter().enumerate() {
                if let Some(sc) = score.get_mut(k) {
                    *sc += i64::from(w);
                    let v = (*sc + tot_i) / tot_i;
                    if best.is_none_or(|(_, max)| v > max) {
                        best = Some((k, v));
                    }
                }
            }
            if let Some((k, _)) = best {
                if let (Some(sc), Some(&(i, _))) = (score.get_mut(k), members.get(k)) {
                    *sc -= tot_i;
                    self.table.push(i);
                }
            }
        }
    }

    /// The server for `hash`.
    pub(crate) fn by_hash(&self, hash: u32) -> Option<usize> {
        let len = self.table.len();
        if len == 0 {
            return None;
        }
        self.table.get((hash as usize) % len).copied()
    }

    /// The next server in table order with a free slot.
    pub(crate) fn next_rr(&mut self, servers: &[Srv]) -> Option<usize> {
        let len = self.table.len();
        if len == 0 {
            return None;
        }
        if self.rr_idx >= len {
            self.rr_idx = 0;
        }
        let start = self.rr_idx;
        let mut idx = start;
        loop {
            let srv = self.table.get(idx).copied();
            idx = (idx + 1) % len;
            if let Some(s) = srv {
                if !servers.get(s).is_some_and(Srv::full) {
                    self.rr_idx = idx;
                    return Some(s);
                }
            }
            if idx == start {
                return None;
            }
        }
    }
}
