//! The steady-state memory of `roundrobin`: the picks of one or a few
//! windows, recorded while the trees make them, then replayed by index.
//!
//! The picks are stored compactly: the shortest prefix that the rest
//! repeats (found online while recording), plus the total length and where
//! each window starts. With n servers of equal weight that prefix is the
//! n-pick rotation, so a window of 16 x n picks costs n entries.

/// A window being recorded from one boundary on.
#[derive(Debug, Clone)]
pub(super) struct Recording {
    /// The group whose picks are recorded.
    pub(super) group: usize,
    /// Server order in the weight tree at the boundary the window began at:
    /// the whole state the window depends on.
    pub(super) order: Vec<u32>,
    /// The picks so far: `buf`, then `buf` repeated when `period` is set.
    buf: Vec<u32>,
    period: Option<usize>,
    len: usize,
    /// Where each window after the first starts.
    starts: Vec<usize>,
}

impl Recording {
    pub(super) fn new(group: usize, order: Vec<u32>) -> Self {
        Self {
            group,
            order,
            buf: Vec::new(),
            period: None,
            len: 0,
            starts: Vec::new(),
        }
    }

    /// Notes a window boundary that did not bring the initial order back.
    pub(super) fn boundary(&mut self) {
        self.starts.push(self.len);
    }

    /// Windows recorded, the current one included.
    pub(super) fn windows(&self) -> usize {
        self.starts.len() + 1
    }

    /// Records the next pick; `false` when the stored form would exceed
    /// `limit` entries (the recording is then useless).
    pub(super) fn push(&mut self, x: u32, limit: usize) -> bool {
        let t = self.len;
        match self.period {
            Some(p) if self.buf.get(t % p) == Some(&x) => {}
            Some(_) => {
                // The guessed repetition broke: store the window in full.
                if t >= limit {
                    return false;
                }
                let full: Vec<u32> = self.buf.iter().copied().cycle().take(t).collect();
                self.buf = full;
                self.buf.push(x);
                self.period = None;
            }
            // Every pick so far is stored; guess that the window repeats
            // from here when its first pick comes back.
            None if t > 0 && self.buf.first() == Some(&x) => self.period = Some(t),
            None => {
                if self.buf.len() >= limit {
                    return false;
                }
                self.buf.push(x);
            }
        }
        self.len += 1;
        true
    }

    /// Picks recorded so far.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The recorded windows, to replay from their start.
    pub(super) fn into_cycle(mut self) -> Cycle {
        self.buf.shrink_to_fit();
        Cycle {
            group: self.group,
            buf: self.buf,
            len: self.len,
            starts: self.starts,
            pos: 0,
            at: 0,
        }
    }
}

/// Confirmed windows, replayed over and over.
#[derive(Debug, Clone)]
pub(super) struct Cycle {
    /// The group the picks belong to.
    pub(super) group: usize,
    buf: Vec<u32>,
    /// Picks in a cycle.
    len: usize,
    /// Where each window after the first starts.
    starts: Vec<usize>,
    /// Position in the cycle of the next pick.
    pos: usize,
    /// `pos % buf.len()`, kept to avoid a division per pick.
    at: usize,
}

impl Cycle {
    /// The server of the next pick.
    pub(super) fn peek(&self) -> Option<usize> {
        self.buf.get(self.at).map(|&x| x as usize)
    }

    pub(super) fn advance(&mut self) {
        self.pos += 1;
        self.at += 1;
        if self.pos >= self.len {
            self.pos = 0;
            self.at = 0;
        } else if self.at >= self.buf.len() {
            self.at = 0;
        }
    }

    /// Position in the cycle of the next pick.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// Picks in a cycle.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Where each window after the first starts.
    pub(super) fn starts(&self) -> &[usize] {
        &self.starts
    }

    /// The servers picked from the start of the cycle on.
    pub(super) fn picks(&self) -> impl Iterator<Item = usize> + '_ {
        self.buf.iter().cycle().map(|&x| x as usize)
    }

    /// Entries stored.
    pub(super) fn entries(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(window: &[u32], limit: usize) -> Option<Vec<usize>> {
        let mut r = Recording::new(0, Vec::new());
        for &x in window {
            if !r.push(x, limit) {
                return None;
            }
        }
        let mut c = r.into_cycle();
        let mut out = Vec::new();
        for _ in 0..window.len() * 2 {
            out.push(c.peek()?);
            c.advance();
        }
        Some(out)
    }

    #[test]
    fn windows_replay_exactly_whatever_their_shape() {
        let windows: [&[u32]; 6] = [
            &[0, 1, 2, 0, 1, 2, 0, 1, 2],
            &[2, 1, 2, 0, 1, 2],
            &[2, 1, 2, 0, 1, 2, 2, 1, 2, 0, 1, 2, 2],
            &[5],
            &[1, 1, 1, 2],
            &[0, 1, 0, 1, 0, 2, 0, 1, 0, 1, 0, 2, 0, 1],
        ];
        for w in windows {
            let expected: Vec<usize> = w.iter().chain(w).map(|&x| x as usize).collect();
            assert_eq!(replay(w, 64), Some(expected), "{w:?}");
        }
    }

    #[test]
    fn repeating_windows_are_stored_once() {
        let w: Vec<u32> = (0..16).flat_map(|_| 0..1000).collect();
        let mut r = Recording::new(0, Vec::new());
        for &x in &w {
            assert!(r.push(x, 1000));
        }
        let c = r.into_cycle();
        assert_eq!(c.entries(), 1000);
        assert_eq!(c.picks().nth(15_999), Some(999));
    }

    #[test]
    fn the_limit_bounds_what_is_stored() {
        assert_eq!(replay(&[0, 1, 2, 3], 3), None);
        assert!(replay(&[0, 1, 0, 1, 0, 1], 2).is_some());
        assert_eq!(replay(&[0, 1, 0, 2], 2), None);
    }
}
