//! `first`: the usable server with the lowest id that still has a free
//! connection slot (HAProxy's lb_fas), so that extra servers can be powered
//! down when load is low.

use std::collections::BTreeMap;

use crate::Target;
use crate::server::Srv;

/// First-available state: usable servers ordered by id, per group.
#[derive(Debug, Clone)]
pub(crate) struct First {
    trees: [BTreeMap<u32, usize>; 2],
}

impl First {
    pub(crate) fn new(servers: &[Srv]) -> Self {
        let mut me = Self {
            trees: [BTreeMap::new(), BTreeMap::new()],
        };
        for (i, s) in servers.iter().enumerate() {
            me.update(s, i);
        }
        me
    }

    /// Adds or removes server `i` according to its usability.
    pub(crate) fn update(&mut self, s: &Srv, i: usize) {
        let tree = &mut self.trees[usize::from(s.backup)];
        if s.usable() {
            tree.insert(s.id.0, i);
        } else {
            tree.remove(&s.id.0);
        }
    }

    pub(crate) fn next(&self, servers: &[Srv], target: Target) -> Option<usize> {
        target.first_free(servers, |g| self.trees[g & 1].values().copied())
    }
}
