//! A backend's servers: those of the configuration, then those added at
//! run time (`add server`), in one list that only grows, so that a server
//! keeps its index (and every reference to it stays valid) for the life of
//! the engine. A deleted server (`del server`) stays in its slot, marked
//! deleted and out of the balancer; listings skip it.
//!
//! Storage is a series of chunks of doubling size, each slot written once:
//! reading never takes a lock; adding does, briefly.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::model::{Server, lock};

/// Slots of the first chunk; chunk `k` has `FIRST << k`.
const FIRST: usize = 16;

/// Chunks: enough for far more servers than a backend can hold.
const CHUNKS: usize = 24;

/// Slots written once each.
type Chunk = Box<[OnceLock<Server>]>;

/// The list holds as many servers as it can: no slot is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// The servers of one backend, in declaration then addition order.
#[derive(Debug)]
pub(crate) struct ServerList {
    chunks: Box<[OnceLock<Chunk>]>,
    len: AtomicUsize,
    adding: Mutex<()>,
}

/// Chunk and offset of slot `i`.
fn place(i: usize) -> (usize, usize) {
    // Chunk k starts at FIRST * (2^k - 1).
    let q = i / FIRST + 1;
    let k = usize::try_from(usize::BITS - 1 - q.leading_zeros()).unwrap_or(0);
    (k, i - FIRST * ((1 << k) - 1))
}

impl ServerList {
    /// A list holding `servers`.
    pub(crate) fn new(servers: Vec<Server>) -> ServerList {
        let list = ServerList {
            chunks: (0..CHUNKS).map(|_| OnceLock::new()).collect(),
            len: AtomicUsize::new(0),
            adding: Mutex::new(()),
        };
        for s in servers {
            // Cannot fail below CHUNKS' capacity.
            let _ = list.push(s);
        }
        list
    }

    /// Appends a server; returns its index.
    pub(crate) fn push(&self, server: Server) -> Result<usize, Full> {
        let _adding = lock(&self.adding);
        let i = self.len.load(Ordering::Acquire);
        let (k, off) = place(i);
        let Some(chunk) = self.chunks.get(k) else {
            return Err(Full);
        };
        let chunk = chunk.get_or_init(|| (0..FIRST << k).map(|_| OnceLock::new()).collect());
        let Some(slot) = chunk.get(off) else {
            return Err(Full);
        };
        slot.set(server).map_err(|_| Full)?;
        self.len.store(i + 1, Ordering::Release);
        Ok(i)
    }

    /// The server at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&Server> {
        if index >= self.len() {
            return None;
        }
        let (k, off) = place(index);
        self.chunks.get(k)?.get()?.get(off)?.get()
    }

    /// Servers in the list, deleted ones included.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether the list holds no server.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every server in order, deleted ones included (indexes stay those of
    /// [`ServerList::get`]).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Server> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The servers not deleted, with their indexes.
    pub(crate) fn live(&self) -> impl Iterator<Item = (usize, &Server)> + '_ {
        (0..self.len())
            .filter_map(|i| self.get(i).map(|s| (i, s)))
            .filter(|(_, s)| !s.rt.is_deleted())
    }
}

impl<'a> IntoIterator for &'a ServerList {
    type Item = &'a Server;
    type IntoIter = Box<dyn Iterator<Item = &'a Server> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_fill_chunks_in_order() {
        assert_eq!(place(0), (0, 0));
        assert_eq!(place(15), (0, 15));
        assert_eq!(place(16), (1, 0));
        assert_eq!(place(47), (1, 31));
        assert_eq!(place(48), (2, 0));
        let mut seen = std::collections::HashSet::new();
        for i in 0..5000 {
            let (k, off) = place(i);
            assert!(off < FIRST << k, "{i}");
            assert!(seen.insert((k, off)), "{i}");
        }
    }
}
