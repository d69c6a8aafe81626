//! `roundrobin`: HAProxy's fast weighted round robin (lb_fwrr), step for step.
//!
//! Each group (active, backup) has a "current" tree of servers ordered by
//! their next position in the cycle, plus an "init" and a "next" tree ordered
//! by weight for servers that have not entered, or have left, the current
//! window. A pick takes the first server of the current tree and requeues it
//! at its next position, so a server of weight w comes back every total/w
//! picks: the sequence is smooth, and a weight change only moves that server.
//! Each pick is O(log n).

use crate::Target;
use crate::server::Srv;
use crate::tree::{Seq, Tree};

/// HAProxy's SRV_UWGHT_RANGE: sort key units per position.
const UWGHT_RANGE: i64 = 256;
/// HAProxy's SRV_EWGHT_MAX: the largest effective weight.
const EWGHT_MAX: i64 = 256 * crate::WEIGHT_SCALE as i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Curr,
    /// One of the two weight-ordered trees; which one is "init" flips.
    Alt(usize),
}

#[derive(Debug, Clone, Default)]
struct Group {
    curr: Tree,
    alt: [Tree; 2],
    init: usize,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
}

impl Group {
    fn next(&self) -> usize {
        1 - self.init
    }
    fn tree(&mut self, w: Which) -> &mut Tree {
        match w {
            Which::Curr => &mut self.curr,
            Which::Alt(i) => &mut self.alt[i & 1],
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Node {
    npos: i64,
    lpos: i64,
    rweight: i64,
    cur_eweight: i64,
    next_eweight: i64,
    /// HAProxy's `lb_tree`: the tree the server belongs to, kept while it is
    /// momentarily dequeued during a pick.
    lb_tree: Option<Which>,
    /// Where the server's node actually is, if queued.
    queued: Option<(Which, (u32, Seq))>,
}

/// Round-robin state over all servers of a backend.
#[derive(Debug, Clone)]
pub(crate) struct Fwrr {
    groups: [Group; 2],
    nodes: Vec<Node>,
    seq: Seq,
}

fn gi(s: &Srv) -> usize {
    usize::from(s.backup)
}

impl Fwrr {
    pub(crate) fn new(servers: &[Srv]) -> Self {
        let mut me = Self {
            groups: [Group::default(), Group::default()],
            nodes: vec![Node::default(); servers.len()],
            seq: 0,
        };
        for (i, s) in servers.iter().enumerate() {
            let ew = i64::from(s.eweight());
            if let Some(n) = me.nodes.get_mut(i) {
                n.cur_eweight = ew;
                n.next_eweight = ew;
            }
            if let Some(g) = me.groups.get_mut(gi(s)) {
                g.next_weight += ew;
            }
        }
        for g in &mut me.groups {
            g.curr_weight = g.next_weight;
            g.curr_pos = g.next_weight;
        }
        for (i, s) in servers.iter().enumerate() {
            if s.usable() {
                let g = gi(s);
                let init = me.groups.get(g).map_or(0, |g| g.init);
                me.queue_by_weight(g, Which::Alt(init), i);
            }
        }
        me
    }

    fn node(&mut self, i: usize) -> &mut Node {
        // Indices come from the balancer's own server table, which has the
        // same length as `nodes`; the fallback is unreachable in practice.
        if i >= self.nodes.len() {
            self.nodes.resize(i + 1, Node::default());
        }
        &mut self.nodes[i]
    }

    fn group(&mut self, g: usize) -> &mut Group {
        &mut self.groups[g & 1]
    }

    fn insert(&mut self, g: usize, w: Which, key: u32, i: usize) {
        self.seq += 1;
        let seq = self.seq;
        self.group(g).tree(w).insert((key, seq), i);
        self.node(i).queued = Some((w, (key, seq)));
    }

    fn dequeue(&mut self, g: usize, i: usize) {
        if let Some((w, k)) = self.node(i).queued.take() {
            self.group(g).tree(w).remove(&k);
        }
    }

    fn queue_by_weight(&mut self, g: usize, w: Which, i: usize) {
        let key = (EWGHT_MAX - self.node(i).next_eweight) as u32;
        self.insert(g, w, key, i);
        self.node(i).lb_tree = Some(w);
    }

    fn get_srv(&mut self, g: usize, i: usize) {
        let grp = &self.groups[g & 1];
        let (init, next, curr_weight, curr_pos) =
            (grp.init, grp.next(), grp.curr_weight, grp.curr_pos);
        let n = self.node(i);
        match n.lb_tree {
            Some(Which::Alt(t)) if t == init => {
                n.npos = 0;
                n.rweight = 0;
            }
            Some(Which::Alt(t)) if t == next => n.npos += curr_weight,
            None => n.npos = curr_pos,
            _ => {}
        }
    }

    fn switch_trees(&mut self, g: usize) {
        let grp = self.group(g);
        grp.init = grp.next();
        grp.curr_weight = grp.next_weight;
        grp.curr_pos = grp.curr_weight;
    }

    fn first_in_group(&mut self, g: usize) -> Option<usize> {
        let grp = &self.groups[g & 1];
        let s1 = grp.curr.values().next().copied();
        let s2 = grp.alt[grp.init & 1].values().next().copied();
        let curr_pos = grp.curr_pos;
        if let Some(s) = s1 {
            let n = self.node(s);
            if n.cur_eweight != 0 && n.npos <= curr_pos {
                return Some(s);
            }
        }
        if let Some(s) = s2 {
            let n = self.node(s);
            if n.cur_eweight != 0 {
                n.npos = 0;
                n.rweight = 0;
                return Some(s);
            }
        }
        s1
    }

    fn update_position(&mut self, g: usize, i: usize) {
        let (curr_pos, next_weight) = {
            let grp = self.group(g);
            (grp.curr_pos, grp.next_weight)
        };
        let n = self.node(i);
        let ew = n.cur_eweight;
        if ew == 0 {
            return;
        }
        if n.npos == 0 {
            n.npos = curr_pos;
        }
        n.lpos = n.npos;
        n.npos += next_weight / ew;
        n.rweight += next_weight % ew;
        if n.rweight >= ew {
            n.rweight -= ew;
            n.npos += 1;
        }
    }

    fn queue_srv(&mut self, g: usize, i: usize) {
        let (cw, nw, next) = {
            let grp = self.group(g);
            (grp.curr_weight, grp.next_weight, grp.next())
        };
        let n = self.node(i);
        if n.next_eweight <= 0 {
            // Not usable any more: out of every tree.
            n.lb_tree = None;
        } else if n.npos >= 2 * cw || n.npos >= cw + nw {
            n.npos -= cw;
            self.queue_by_weight(g, Which::Alt(next), i);
        } else {
            let key = UWGHT_RANGE * n.npos
                + (EWGHT_MAX + n.rweight - n.next_eweight) / i64::from(crate::WEIGHT_SCALE);
            // HAProxy stores this in an unsigned 32-bit key.
            self.insert(g, Which::Curr, key as u32, i);
            self.node(i).lb_tree = Some(Which::Curr);
        }
    }

    /// Picks the next server, skipping servers at their connection limit.
    pub(crate) fn next(&mut self, servers: &[Srv], target: Target) -> Option<usize> {
        let g = match target {
            Target::None => return None,
            Target::Only(i) => return Some(i),
            Target::Group(g) => g,
        };
        let mut switched = false;
        let mut full: Vec<usize> = Vec::new();
        let picked = 'pick: loop {
            {
                let grp = self.group(g);
                if grp.curr_weight == 0 {
                    grp.curr_weight = grp.next_weight;
                    grp.curr_pos = grp.next_weight;
                }
            }
            let srv = loop {
                if let Some(s) = self.first_in_group(g) {
                    break s;
                }
                if switched {
                    break 'pick None;
                }
                switched = true;
                self.switch_trees(g);
            };
            self.update_position(g, srv);
            self.dequeue(g, srv);
            self.group(g).curr_pos += 1;
            if !servers.get(srv).is_some_and(Srv::full) {
                break Some(srv);
            }
            full.push(srv);
        };
        if let Some(srv) = picked {
            self.queue_srv(g, srv);
        }
        // Saturated servers regain their place: by position if the window
        // did not move, else by weight in the new init tree.
        for s in full {
            if switched {
                let init = self.group(g).init;
                self.queue_by_weight(g, Which::Alt(init), s);
            } else {
                self.queue_srv(g, s);
            }
        }
        picked
    }

    /// Makes slot `i` a fresh, unqueued server, as a newly added one is.
    /// The slot must hold no queued server (a removed one has left every
    /// tree when it went out of rotation).
    pub(crate) fn reset(&mut self, i: usize) {
        *self.node(i) = Node::default();
    }

    /// Applies a change of effective weight (0 meaning "takes no new traffic")
    /// of server `i`, as HAProxy's status up / status down / weight update do.
    pub(crate) fn update(&mut self, s: &Srv, i: usize) {
        let g = gi(s);
        let new = i64::from(s.eweight());
        let old = self.node(i).cur_eweight;
        self.node(i).next_eweight = new;
        match (old > 0, new > 0) {
            (false, false) => {}
            (true, false) => {
                self.group(g).next_weight -= old;
                self.dequeue(g, i);
                self.node(i).lb_tree = None;
            }
            (false, true) => {
                self.group(g).next_weight += new;
                self.get_srv(g, i);
                let grp = &self.groups[g & 1];
                let npos = grp.curr_pos + (grp.next_weight + grp.curr_weight - grp.curr_pos) / new;
                self.node(i).npos = npos;
                self.queue_srv(g, i);
            }
            (true, true) => {
                let grp = self.group(g);
                grp.next_weight = grp.next_weight - old + new;
                let init = grp.init;
                match self.node(i).lb_tree {
                    Some(Which::Alt(t)) if t == init => {
                        self.dequeue(g, i);
                        self.queue_by_weight(g, Which::Alt(init), i);
                    }
                    None => {
                        self.get_srv(g, i);
                        self.queue_srv(g, i);
                    }
                    _ => {
                        self.get_srv(g, i);
                        let (curr_pos, next_weight) = {
                            let grp = self.group(g);
                            (grp.curr_pos, grp.next_weight)
                        };
                        let n = self.node(i);
                        let prev_next = n.npos;
                        let step = next_weight / new;
                        n.npos = n.lpos + step;
                        n.rweight = 0;
                        if n.npos > prev_next {
                            n.npos = prev_next;
                        }
                        if n.npos < curr_pos + 2 {
                            n.npos = curr_pos + step;
                        }
                        self.dequeue(g, i);
                        self.queue_srv(g, i);
                    }
                }
            }
        }
        self.node(i).cur_eweight = new;
    }
}
