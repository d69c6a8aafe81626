//! `roundrobin`: HAProxy's fast weighted round robin (lb_fwrr), step for step.
//!
//! Each group (active, backup) has a "current" tree of servers ordered by
//! their next position in the cycle, plus an "init" and a "next" tree ordered
//! by weight for servers that have not entered, or have left, the current
//! window. A pick takes the first server of the current tree and requeues it
//! at its next position, so a server of weight w comes back every total/w
//! picks: the sequence is smooth, and a weight change only moves that server.
//! Each tree pick is O(log n).
//!
//! # The cycle memory: O(1) picks in the steady state
//!
//! Picks run in windows: a window ends when every server of the group has
//! moved to the "next" tree, and the next pick swaps the trees. At that
//! boundary a server's positions no longer matter (each is reset when it
//! leaves the init tree), so the state is just the order of the servers in
//! the weight tree, and the window that follows is a function of that order.
//! Hence when a boundary shows the same order as an earlier one, with no
//! change and no saturated server in between, the windows since then repeat
//! forever, pick for pick: HAProxy's own sequence, periodic. Usually the
//! order is the same at every boundary; equal weights may also swap places
//! from one window to the next and back, a cycle of two windows.
//!
//! So picks are recorded from a boundary on; when the order at a later
//! boundary (within [`MAX_WINDOWS`]) equals the first, the trees stay frozen
//! at that boundary and picks come from the recording by index, in O(1). Any
//! change (state, weight, connection limit, server added or removed) or a
//! picked server at its maxconn first brings the trees to the exact
//! position in the cycle (`Fwrr::settle`: a counting pass over the k picks
//! into the cycle, a closed form per server, and the trees requeued or
//! rebuilt: O(n + k + m log m) for m servers picked; at 300,000 servers,
//! from 10 ms early in the cycle to 60 ms at its end, release build), then
//! the tree path resumes.
//! Recording costs an append per pick and the order at each boundary (O(n),
//! once per window of at least 16 x n picks).
//!
//! Memory: the cycle is stored as its shortest repeating prefix (4 bytes an
//! entry), found while recording, plus 4 bytes a server for the boundary
//! order while recording. 300,000 servers of equal weight repeat a 300,000
//! pick rotation 16 times per window: 1.2 MB for the cycle, 1.2 MB for the
//! order. Windows whose stored form would exceed the limit (by default
//! [`DEFAULT_CYCLE_LIMIT`] entries, 16 MiB) stay on the tree path.

mod cycle;

use crate::Target;
use crate::server::Srv;
use crate::tree::{Seq, Tree};
use cycle::{Cycle, Recording};

/// Most windows a recording spans waiting for its initial order to come
/// back; then it starts over from the current boundary.
const MAX_WINDOWS: usize = 4;

/// Default bound on the entries of a cached cycle (4 bytes each).
pub(crate) const DEFAULT_CYCLE_LIMIT: usize = 1 << 22;

/// HAProxy's SRV_UWGHT_RANGE: sort key units per position.
const UWGHT_RANGE: i64 = 256;
/// HAProxy's SRV_EWGHT_MAX: the largest effective weight.
const EWGHT_MAX: i64 = 256 * crate::WEIGHT_SCALE as i64;

/// Where a server was last placed while settling: pick time, tree, key.
type Placed = (usize, Which, u32);

/// A server's picks while settling: in the current window, the first one
/// in it, and the last one overall.
#[derive(Debug, Clone, Copy)]
struct Tally {
    count: usize,
    first: usize,
    last: usize,
}

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

/// What is known about the sequence ahead (see the module doc).
#[derive(Debug, Clone)]
enum Memo {
    /// Just built: the trees stand at the start of a window.
    Fresh,
    /// A change happened: wait for the next boundary.
    Idle,
    /// Recording the window since the last boundary.
    Recording(Recording),
    /// Windows repeat: picks come from the cycle, the trees stay frozen at a
    /// boundary.
    Cycle(Cycle),
    /// The window does not fit the limit: trees only, until a change.
    TooLong,
}

/// Round-robin state over all servers of a backend.
#[derive(Debug, Clone)]
pub(crate) struct Fwrr {
    groups: [Group; 2],
    nodes: Vec<Node>,
    seq: Seq,
    memo: Memo,
    /// Most entries a cycle may store; 0 keeps every pick on the trees.
    limit: usize,
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
            memo: Memo::Fresh,
            limit: DEFAULT_CYCLE_LIMIT,
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

    /// Where server `i` goes after a pick or a change, as HAProxy's
    /// fwrr_queue_srv decides it: nowhere if it takes no traffic, the next
    /// window's weight tree if its next position is past this window, else
    /// the current tree at that position. Updates the node only.
    fn place(&mut self, g: usize, i: usize) -> Option<(Which, u32)> {
        let (cw, nw, next) = {
            let grp = self.group(g);
            (grp.curr_weight, grp.next_weight, grp.next())
        };
        let n = self.node(i);
        if n.next_eweight <= 0 {
            n.lb_tree = None;
            None
        } else if n.npos >= 2 * cw || n.npos >= cw + nw {
            n.npos -= cw;
            n.lb_tree = Some(Which::Alt(next));
            Some((Which::Alt(next), (EWGHT_MAX - n.next_eweight) as u32))
        } else {
            let key = UWGHT_RANGE * n.npos
                + (EWGHT_MAX + n.rweight - n.next_eweight) / i64::from(crate::WEIGHT_SCALE);
            n.lb_tree = Some(Which::Curr);
            // HAProxy stores this in an unsigned 32-bit key.
            Some((Which::Curr, key as u32))
        }
    }

    fn queue_srv(&mut self, g: usize, i: usize) {
        if let Some((w, key)) = self.place(g, i) {
            self.insert(g, w, key, i);
        }
    }

    /// Bounds the entries a cycle may store (0: every pick on the trees).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.settle();
        self.limit = limit;
    }

    /// Entries of the cycle picks are served from, if any.
    pub(crate) fn cycle_entries(&self) -> Option<usize> {
        match &self.memo {
            Memo::Cycle(c) => Some(c.entries()),
            _ => None,
        }
    }

    /// Leaves the cycle, if picks come from it, bringing the trees from the
    /// boundary they are frozen at to the exact position in the cycle; in
    /// any case forgets what was recorded.
    ///
    /// Within a window a server's state depends only on how many times it
    /// was picked and when first (its position restarts from the window's
    /// position when it leaves the init tree, then advances by total/weight
    /// a pick, the remainders carried), so one counting pass over the picks
    /// and a closed form per server stand for replaying every pick.
    fn settle(&mut self) {
        let Memo::Cycle(c) = std::mem::replace(&mut self.memo, Memo::Idle) else {
            return;
        };
        let k = c.pos();
        if k == 0 {
            // Still at the boundary: the next tree pick swaps the trees.
            return;
        }
        let g = c.group;
        // Every window started so far swapped the trees.
        let window = c.starts().iter().copied().rfind(|&s| s < k).unwrap_or(0);
        let swaps = 1 + c.starts().iter().filter(|&&s| s < k).count();
        for _ in 0..swaps {
            self.switch_trees(g);
        }
        let mut tally: Vec<Option<Tally>> = vec![None; self.nodes.len()];
        for (t, i) in c.picks().take(k).enumerate() {
            let Some(e) = tally.get_mut(i) else {
                continue;
            };
            let x = e.get_or_insert(Tally {
                count: 0,
                first: t,
                last: t,
            });
            x.last = t;
            if t >= window {
                if x.count == 0 {
                    x.first = t;
                }
                x.count += 1;
            }
        }
        let (w, init) = {
            let grp = self.group(g);
            grp.curr_pos = grp.curr_weight + (k - window) as i64;
            (grp.curr_weight, grp.init)
        };
        let mut last: Vec<Option<Placed>> = vec![None; self.nodes.len()];
        for (i, x) in tally.iter().enumerate() {
            let Some(x) = x else {
                continue;
            };
            let n = self.node(i);
            let ew = n.cur_eweight;
            let placed = if x.count == 0 || ew <= 0 {
                // Picked in an earlier window only: its last move was to the
                // weight tree that is now the init tree (its positions are
                // reset when it leaves it).
                n.lb_tree = Some(Which::Alt(init));
                Some((Which::Alt(init), (EWGHT_MAX - n.next_eweight) as u32))
            } else {
                let j = x.count as i64;
                let (q, r) = (w / ew, w % ew);
                let first = w + (x.first - window) as i64;
                n.lpos = first + (j - 1) * q + (j - 1) * r / ew;
                n.npos = first + j * q + j * r / ew;
                n.rweight = j * r % ew;
                self.place(g, i)
            };
            if let Some(slot) = last.get_mut(i) {
                *slot = placed.map(|(wh, key)| (x.last, wh, key));
            }
        }
        self.requeue_placed(g, &last);
    }

    /// Requeues the servers placed while settling, in the order they were
    /// placed (insertion order decides ties between equal keys).
    fn requeue_placed(&mut self, g: usize, last: &[Option<Placed>]) {
        let mut moved: Vec<(usize, usize, Which, u32)> = last
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|(t, w, key)| (t, i, w, key)))
            .collect();
        moved.sort_unstable_by_key(|m| m.0);
        if moved.len().saturating_mul(4) < self.nodes.len() {
            for (_, i, w, key) in moved {
                self.dequeue(g, i);
                self.insert(g, w, key, i);
            }
        } else {
            self.rebuild_trees(g, &moved, last);
        }
    }

    /// [`settle`](Self::settle) the slow way, replaying every pick on the
    /// nodes: the reference its closed form is tested against.
    #[cfg(test)]
    fn settle_by_steps(&mut self) {
        let Memo::Cycle(c) = std::mem::replace(&mut self.memo, Memo::Idle) else {
            return;
        };
        let k = c.pos();
        if k == 0 {
            // Still at the boundary: the next tree pick swaps the trees.
            return;
        }
        let g = c.group;
        // Replays the k picks on the nodes alone, as the tree path would make
        // them (swapping the trees at each window start), noting each
        // server's last placement; the trees are touched once per server at
        // the end.
        let mut last: Vec<Option<Placed>> = vec![None; self.nodes.len()];
        let mut starts = c.starts().iter().copied().peekable();
        for (t, i) in c.picks().take(k).enumerate() {
            if t == 0 || starts.next_if_eq(&t).is_some() {
                self.switch_trees(g);
            }
            let init = self.group(g).init;
            let n = self.node(i);
            if n.lb_tree == Some(Which::Alt(init)) {
                // Taken from the init tree (fwrr_get_next_server's reset).
                n.npos = 0;
                n.rweight = 0;
            }
            self.update_position(g, i);
            self.group(g).curr_pos += 1;
            let placed = self.place(g, i).map(|(w, key)| (t, w, key));
            if let Some(slot) = last.get_mut(i) {
                *slot = placed;
            }
        }
        self.requeue_placed(g, &last);
    }

    /// Rebuilds group `g`'s trees in bulk (O(n log n) with a small constant,
    /// where requeueing most servers one by one costs far more): servers in
    /// `moved` (sorted by time) go to their new place, the others keep
    /// theirs.
    fn rebuild_trees(
        &mut self,
        g: usize,
        moved: &[(usize, usize, Which, u32)],
        last: &[Option<Placed>],
    ) {
        let slot = |w: Which| match w {
            Which::Curr => 0,
            Which::Alt(t) => 1 + (t & 1),
        };
        let grp = self.group(g);
        let old = [
            std::mem::take(&mut grp.curr),
            std::mem::take(&mut grp.alt[0]),
            std::mem::take(&mut grp.alt[1]),
        ];
        let mut entries: [Vec<((u32, Seq), usize)>; 3] = Default::default();
        for (tree, out) in old.into_iter().zip(entries.iter_mut()) {
            out.extend(
                tree.into_iter()
                    .filter(|&(_, i)| !last.get(i).is_some_and(Option::is_some)),
            );
        }
        for &(_, i, w, key) in moved {
            self.seq += 1;
            let k = (key, self.seq);
            if let Some(out) = entries.get_mut(slot(w)) {
                out.push((k, i));
            }
            self.node(i).queued = Some((w, k));
        }
        let [curr, alt0, alt1] = entries;
        let grp = self.group(g);
        grp.curr = curr.into_iter().collect();
        grp.alt = [alt0.into_iter().collect(), alt1.into_iter().collect()];
    }

    /// Follows a tree pick in group `g`: extends the recording, and at a
    /// window boundary either confirms the cycle or starts a new recording.
    /// `clean` is false when the pick skipped a saturated server.
    fn observe(&mut self, g: usize, picked: Option<usize>, clean: bool, fresh: Option<Vec<u32>>) {
        let Some(i) = picked.filter(|_| clean) else {
            self.memo = Memo::Idle;
            return;
        };
        let Ok(x) = u32::try_from(i) else {
            self.memo = Memo::Idle;
            return;
        };
        match &mut self.memo {
            Memo::Fresh => {
                let mut rec = Recording::new(g, fresh.unwrap_or_default());
                self.memo = if rec.push(x, self.limit) {
                    Memo::Recording(rec)
                } else {
                    Memo::TooLong
                };
            }
            Memo::Recording(rec) if rec.group == g => {
                if !rec.push(x, self.limit) {
                    self.memo = Memo::TooLong;
                }
            }
            Memo::TooLong => return,
            _ => self.memo = Memo::Idle,
        }
        let grp = &self.groups[g & 1];
        if !(grp.curr.is_empty() && grp.alt[grp.init & 1].is_empty()) {
            return;
        }
        // A boundary: every server waits in the next window's tree.
        let order: Option<Vec<u32>> = grp.alt[grp.next() & 1]
            .values()
            .map(|&i| u32::try_from(i).ok())
            .collect();
        let Some(order) = order else {
            self.memo = Memo::Idle;
            return;
        };
        self.memo = match std::mem::replace(&mut self.memo, Memo::Idle) {
            Memo::Recording(rec) if rec.group == g && rec.len() > 0 && rec.order == order => {
                Memo::Cycle(rec.into_cycle())
            }
            // Equal weights can swap places from one window to the next and
            // back (seen after a weight change): keep recording a few
            // windows for the order to come back.
            Memo::Recording(mut rec) if rec.group == g && rec.windows() < MAX_WINDOWS => {
                rec.boundary();
                Memo::Recording(rec)
            }
            _ if self.limit == 0 => Memo::TooLong,
            _ => Memo::Recording(Recording::new(g, order)),
        };
    }

    /// Picks the next server, skipping servers at their connection limit.
    pub(crate) fn next(&mut self, servers: &[Srv], target: Target) -> Option<usize> {
        let g = match target {
            Target::None => return None,
            Target::Only(i) => return Some(i),
            Target::Group(g) => g,
        };
        if let Memo::Cycle(c) = &mut self.memo {
            if c.group == g {
                if let Some(i) = c.peek().filter(|&i| !servers.get(i).is_some_and(Srv::full)) {
                    c.advance();
                    return Some(i);
                }
            }
            // Saturated server ahead (or another group): back to the trees,
            // which skip it exactly where the sequence is.
            self.settle();
        }
        let fresh = match self.memo {
            Memo::Fresh => {
                let grp = &self.groups[g & 1];
                grp.alt[grp.init & 1]
                    .values()
                    .map(|&i| u32::try_from(i).ok())
                    .collect()
            }
            _ => None,
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
        let clean = full.is_empty();
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
        self.observe(g, picked, clean, fresh);
        picked
    }

    /// Makes slot `i` a fresh, unqueued server, as a newly added one is.
    /// The slot must hold no queued server (a removed one has left every
    /// tree when it went out of rotation).
    pub(crate) fn reset(&mut self, i: usize) {
        self.settle();
        *self.node(i) = Node::default();
    }

    /// Follows a change of a server's connection limit. Picks already skip
    /// a full server by its current limit, so only the cycle memory is at
    /// stake: it is left at the exact position, as on any other change, so
    /// that a recording never spans two limits.
    pub(crate) fn limit_changed(&mut self) {
        self.settle();
    }

    /// Applies a change of effective weight (0 meaning "takes no new traffic")
    /// of server `i`, as HAProxy's status up / status down / weight update do.
    pub(crate) fn update(&mut self, s: &Srv, i: usize) {
        self.settle();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{ServerId, ServerState};

    fn servers(weights: &[u32]) -> Vec<Srv> {
        weights
            .iter()
            .zip(1..)
            .map(|(&w, id)| Srv {
                id: ServerId(id),
                backup: false,
                iweight: w,
                uweight: w,
                state: ServerState::Up,
                maxconn: 0,
                served: 0,
            })
            .collect()
    }

    /// What settling must get right: the trees in order, the group's
    /// positions, and each server's place and (outside the init tree, where
    /// they are reset on leaving) positions.
    fn snapshot(f: &Fwrr) -> String {
        let mut out = String::new();
        for grp in &f.groups {
            out += &format!(
                "init {} pos {} cw {} nw {}\n curr {:?}\n alt {:?}\n",
                grp.init, grp.curr_pos, grp.curr_weight, grp.next_weight, grp.curr, grp.alt
            );
        }
        // The servers are all active (group 0).
        let init = f.groups[0].init;
        for (i, n) in f.nodes.iter().enumerate() {
            out += &format!(" {i}: {:?} {:?}", n.lb_tree, n.queued);
            if n.lb_tree != Some(Which::Alt(init)) {
                out += &format!(" {} {} {}", n.npos, n.lpos, n.rweight);
            }
            out += "\n";
        }
        out
    }

    /// Weights, and a weight change (server, new weight) after 299 picks.
    type Case = (&'static [u32], Option<(usize, u32)>);

    #[test]
    fn settling_in_closed_form_equals_replaying_every_pick() {
        let cases: [Case; 5] = [
            (&[1, 2, 3], None),
            (&[2, 9, 9], None),
            (&[5, 3, 3, 1], None),
            (&[7, 1, 12, 13, 2], None),
            // Two-window cycle: equal weights swap places at each boundary.
            (&[2, 7, 2, 5], Some((1, 3))),
        ];
        for (weights, change) in cases {
            let mut srv = servers(weights);
            let mut f = Fwrr::new(&srv);
            let g = Target::Group(0);
            if let Some((i, w)) = change {
                for _ in 0..299 {
                    f.next(&srv, g);
                }
                srv[i].uweight = w;
                f.update(&srv[i], i);
            }
            let mut guard = 0;
            while f.cycle_entries().is_none() && guard < 100_000 {
                f.next(&srv, g);
                guard += 1;
            }
            let Memo::Cycle(c) = &f.memo else {
                panic!("{weights:?}: no cycle");
            };
            let cycle = c.len();
            for k in 0..=cycle {
                let mut a = f.clone();
                for _ in 0..k {
                    a.next(&srv, g);
                }
                let mut b = a.clone();
                a.settle();
                b.settle_by_steps();
                assert_eq!(snapshot(&a), snapshot(&b), "{weights:?} at {k}");
                for n in 0..2 * cycle {
                    assert_eq!(a.next(&srv, g), b.next(&srv, g), "{weights:?} at {k}, {n}");
                }
            }
        }
    }
}
