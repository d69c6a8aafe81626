//! Per-thread activity counters and the runtime API's `show activity`,
//! laid out as HAProxy 2.6 prints it: `thread_id`, `date_now`, then one
//! `name: total [ t1 t2 ... ]` line per counter (just `name: total` with
//! one thread).
//!
//! Counted here: `accepted` (connections each thread's accept loops took).
//! `thread_id` is the thread serving the CLI (always the first, which runs
//! the `stats socket`s) and `date_now` the wall clock. HAProxy's other
//! counters (`ctxsw`, `loops`, `poll_io`, `accq_pushed`...) describe its
//! own scheduler and poller, which the engine does not have: they are
//! printed as 0 so that tools reading the layout still find every line.
//!
//! Each thread writes only its own slot, and slots are cache-line aligned,
//! so counting an accept never contends with another thread.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// HAProxy 2.6's counters, in its order; all but `accepted` stay 0.
const COUNTERS: &[&str] = &[
    "ctxsw",
    "tasksw",
    "empty_rq",
    "long_rq",
    "loops",
    "wake_tasks",
    "wake_signal",
    "poll_io",
    "poll_exp",
    "poll_drop_fd",
    "poll_skip_fd",
    "conn_dead",
    "stream_calls",
    "pool_fail",
    "buf_wait",
    "cpust_ms_tot",
    "cpust_ms_1s",
    "cpust_ms_15s",
    "avg_loop_us",
    "accepted",
    "accq_pushed",
    "accq_full",
    "accq_ring",
    "fd_takeover",
];

/// One thread's counters, alone on its cache line(s).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot {
    accepted: AtomicU64,
}

/// The activity counters of every thread.
#[derive(Debug)]
pub(crate) struct Activity {
    slots: Box<[Slot]>,
    /// The number the next [`Activity::claim`] of a further thread gets.
    next: AtomicUsize,
}

impl Activity {
    /// Counters for `nbthread` threads (at least one).
    pub(crate) fn new(nbthread: usize) -> Activity {
        Activity {
            slots: (0..nbthread.max(1)).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(1),
        }
    }

    /// The number of a thread starting to serve: 0 for the first (the one
    /// running the services), 1, 2... for the further ones in the order
    /// they start.
    pub(crate) fn claim(&self, first: bool) -> usize {
        if first {
            0
        } else {
            self.next.fetch_add(1, Ordering::Relaxed)
        }
    }

    /// Counts a connection accepted by `thread`. A thread beyond
    /// `nbthread` (an engine served more times than it has threads) is
    /// not counted rather than counted as another.
    pub(crate) fn accepted(&self, thread: usize) {
        if let Some(s) = self.slots.get(thread) {
            s.accepted.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The `show activity` answer, as seen from the first thread at `now`.
    pub(crate) fn render(&self, now: SystemTime) -> String {
        let n = self.slots.len();
        let date = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let mut out = format!(
            "thread_id: 1 (1..{n})\ndate_now: {}.{:06}\n",
            date.as_secs(),
            date.subsec_micros()
        );
        for name in COUNTERS {
            let per: Vec<u64> = if *name == "accepted" {
                self.slots
                    .iter()
                    .map(|s| s.accepted.load(Ordering::Relaxed))
                    .collect()
            } else {
                vec![0; n]
            };
            let total: u64 = per.iter().sum();
            let _ = write!(out, "{name}: {total}");
            if n > 1 {
                out.push_str(" [");
                for v in &per {
                    let _ = write!(out, " {v}");
                }
                out.push_str(" ]");
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn two_threads_print_a_total_and_a_column_each() {
        let a = Activity::new(2);
        assert_eq!((a.claim(true), a.claim(false)), (0, 1));
        a.accepted(0);
        a.accepted(1);
        a.accepted(1);
        let out = a.render(UNIX_EPOCH + Duration::from_micros(1_795_876_675_000_042));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2 + COUNTERS.len());
        assert_eq!(
            lines[..3],
            [
                "thread_id: 1 (1..2)",
                "date_now: 1795876675.000042",
                "ctxsw: 0 [ 0 0 ]"
            ]
        );
        assert!(lines.contains(&"accepted: 3 [ 1 2 ]"), "{out}");
        assert!(lines.contains(&"fd_takeover: 0 [ 0 0 ]"), "{out}");
    }

    #[test]
    fn one_thread_prints_one_column_and_a_stray_thread_is_not_counted() {
        let a = Activity::new(1);
        a.accepted(0);
        a.accepted(a.claim(false));
        let out = a.render(UNIX_EPOCH);
        assert!(
            out.starts_with("thread_id: 1 (1..1)\ndate_now: 0.000000\nctxsw: 0\n"),
            "{out}"
        );
        assert!(out.lines().any(|l| l == "accepted: 1"), "{out}");
    }
}
