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
    pub(crate) fn new(servers: &[Srv], order: &[usize], target: Target) -> Self {
        let mut me = Self {
            wmult: 1,
            table: Vec::new(),
            rr_idx: 0,
        };
        me.reset_weights(servers, order);
        me.rebuild(servers, order, target);
        me
    }

    /// Recomputes the weight divisor from the initial weights of the servers
    /// in `order`, after the server set changed.
    pub(crate) fn reset_weights(&mut self, servers: &[Srv], order: &[usize]) {
        self.wmult = order
            .iter()
            .filter_map(|&i| servers.get(i))
            .map(|s| s.iweight)
            .filter(|&w| w != 0)
            .reduce(gcd)
            .unwrap_or(1)
            .max(1);
    }

    fn eweight(&self, s: &Srv) -> u32 {
        if s.usable() {
            s.uweight.div_ceil(self.wmult)
        } else {
            0
        }
    }

    /// Recomputes the table for the current usable set; `order` lists the
    /// servers' slots in declaration order.
    pub(crate) fn rebuild(&mut self, servers: &[Srv], order: &[usize], target: Target) {
        self.table.clear();
        let members: Vec<(usize, u32)> = match target {
            Target::None => return,
            Target::Only(i) => vec![(i, 1)],
            Target::Group(g) => order
                .iter()
                .filter_map(|&i| servers.get(i).map(|s| (i, s)))
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
        fill_table(&mut self.table, &members, tot);
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

/// HAProxy's recalc_server_map: for every slot, each server gains its weight;
/// the one furthest ahead ((score + tot) / tot, earliest declared on ties)
/// takes the slot and pays tot.
fn fill_table(table: &mut Vec<usize>, members: &[(usize, u32)], tot: u64) {
    let tot_i = i64::try_from(tot).unwrap_or(i64::MAX);
    let mut score = vec![0i64; members.len()];
    table.reserve(usize::try_from(tot).unwrap_or(0));
    for _ in 0..tot {
        let mut best: Option<(usize, i64)> = None;
        for (k, (&(_, w), sc)) in members.iter().zip(score.iter_mut()).enumerate() {
            *sc += i64::from(w);
            let v = (*sc + tot_i) / tot_i;
            if best.is_none_or(|(_, max)| v > max) {
                best = Some((k, v));
            }
        }
        if let Some((k, _)) = best {
            if let (Some(sc), Some(&(i, _))) = (score.get_mut(k), members.get(k)) {
                *sc -= tot_i;
                table.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(members: &[(usize, u32)]) -> Vec<usize> {
        let tot = members.iter().map(|&(_, w)| u64::from(w)).sum();
        let mut t = Vec::new();
        fill_table(&mut t, members, tot);
        t
    }

    #[test]
    fn equal_weights_shortcut_matches_the_general_fill() {
        // The shortcut in rebuild() must give what the slot loop gives.
        for (n, w) in [(2, 1), (3, 2), (5, 3), (4, 7)] {
            let members: Vec<(usize, u32)> = (0..n).map(|i| (i, w)).collect();
            let expected: Vec<usize> = (0..w as usize).flat_map(|_| 0..n).collect();
            assert_eq!(table(&members), expected, "{n} servers of weight {w}");
        }
    }

    #[test]
    fn unequal_weights_interleave() {
        assert_eq!(
            table(&[(0, 2), (1, 1), (2, 5)]),
            vec![0, 2, 1, 2, 2, 0, 2, 2]
        );
        // HAProxy 2.6 walks static-rr 1,2,3 as s1 s3 s2 s3 s2 s3 (captured).
        assert_eq!(table(&[(0, 1), (1, 2), (2, 3)]), vec![0, 2, 1, 2, 1, 2]);
    }
}
