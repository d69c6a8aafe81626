//! A server's `maxconn` slots, resizable at run time
//! (`set maxconn server`).
//!
//! The slots are a FIFO semaphore. A server without `maxconn` gets so many
//! permits that it is never full, so that a limit can be set later. Raising
//! the limit adds permits at once (waking the requests queued on the
//! server); lowering it takes the free permits back and records the rest as
//! a debt, paid by the slots in use as they are released.

use std::sync::{Arc, Mutex};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::model::lock;

/// Permits of a server without a limit: far more concurrent streams than a
/// process can hold, and small enough to add to a semaphore safely.
const UNLIMITED: usize = 1 << 28;

/// The limit and the permits still owed after a lowering.
#[derive(Debug)]
struct Limit {
    /// `maxconn`, 0 for none.
    maxconn: u32,
    /// Permits to forget as they are released.
    debt: usize,
}

/// A server's connection slots.
#[derive(Debug)]
pub(crate) struct Slots {
    sem: Arc<Semaphore>,
    limit: Mutex<Limit>,
}

/// Permits standing for `maxconn` (0: no limit).
fn permits(maxconn: u32) -> usize {
    match usize::try_from(maxconn) {
        Ok(0) | Err(_) => UNLIMITED,
        Ok(n) => n.min(UNLIMITED),
    }
}

impl Slots {
    /// Slots for `maxconn` concurrent streams (0: no limit).
    pub(crate) fn new(maxconn: u32) -> Slots {
        Slots {
            sem: Arc::new(Semaphore::new(permits(maxconn))),
            limit: Mutex::new(Limit { maxconn, debt: 0 }),
        }
    }

    /// The limit in force, 0 for none.
    pub(crate) fn maxconn(&self) -> u32 {
        lock(&self.limit).maxconn
    }

    /// Free slots now.
    pub(crate) fn available(&self) -> usize {
        self.sem.available_permits()
    }

    /// Takes a slot if one is free.
    pub(crate) fn try_take(&self) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        Arc::clone(&self.sem).try_acquire_owned()
    }

    /// Waits for a slot, in FIFO order.
    pub(crate) async fn take(&self) -> Result<OwnedSemaphorePermit, AcquireError> {
        Arc::clone(&self.sem).acquire_owned().await
    }

    /// Gives a slot back, or keeps it when a lowered limit is still owed.
    pub(crate) fn release(&self, permit: OwnedSemaphorePermit) {
        let mut l = lock(&self.limit);
        if l.debt > 0 {
            l.debt -= 1;
            permit.forget();
        } else {
            drop(l);
            drop(permit);
        }
    }

    /// Changes the limit (0: none). Raising it frees slots at once, which
    /// wakes the requests waiting for one; lowering it takes effect as
    /// streams end.
    pub(crate) fn set_maxconn(&self, maxconn: u32) {
        let mut l = lock(&self.limit);
        let (old, new) = (permits(l.maxconn), permits(maxconn));
        l.maxconn = maxconn;
        if new > old {
            let grow = new - old;
            let paid = grow.min(l.debt);
            l.debt -= paid;
            self.sem.add_permits(grow - paid);
        } else {
            let shrink = old - new;
            let taken = self.sem.forget_permits(shrink);
            l.debt += shrink - taken;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowering_below_the_slots_in_use_is_paid_back_on_release() {
        let s = Slots::new(3);
        let a = s.try_take().unwrap();
        let b = s.try_take().unwrap();
        s.set_maxconn(1);
        assert_eq!(s.maxconn(), 1);
        assert_eq!(s.available(), 0);
        s.release(a);
        assert_eq!(s.available(), 0, "one permit was owed");
        s.release(b);
        assert_eq!(s.available(), 1);
        s.set_maxconn(4);
        assert_eq!(s.available(), 4);
    }

    #[test]
    fn raising_pays_the_debt_first() {
        let s = Slots::new(2);
        let a = s.try_take().unwrap();
        let b = s.try_take().unwrap();
        s.set_maxconn(1);
        s.set_maxconn(2);
        assert_eq!(s.available(), 0, "the two slots are still in use");
        s.release(a);
        s.release(b);
        assert_eq!(s.available(), 2);
    }

    #[test]
    fn no_limit_is_never_full_and_can_become_one() {
        let s = Slots::new(0);
        let held: Vec<_> = (0..100).map(|_| s.try_take().unwrap()).collect();
        s.set_maxconn(100);
        assert!(s.try_take().is_err());
        for p in held {
            s.release(p);
        }
        assert_eq!(s.available(), 100);
        s.set_maxconn(0);
        assert_eq!(s.available(), UNLIMITED);
    }
}
