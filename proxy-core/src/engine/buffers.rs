//! Read buffers, recycled per thread as HAProxy recycles its buffers
//! through per-thread pool caches.
//!
//! Connections take a buffer only while bytes are in flight and give it
//! back when it is empty (between requests, after a response), so a buffer
//! is taken and given back once or twice per request. The system allocator
//! serves a 16 KiB block from its slower large-block path, consolidating
//! small free blocks first; a short per-thread list of empty buffers
//! avoids it. A buffer still shared with bytes in flight elsewhere (a part
//! split off and not yet dropped) is not recycled, only dropped.

use std::cell::RefCell;

use bytes::BytesMut;

/// The read size and buffer size for both directions (HAProxy's default
/// `tune.bufsize`).
pub(crate) const SIZE: usize = 16 * 1024;

/// Empty buffers kept per thread (512 KiB at most).
const KEEP: usize = 32;

thread_local! {
    static FREE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// Makes room in `buf` for a read of [`SIZE`] bytes, with a recycled
/// buffer when `buf` has none.
pub(crate) fn reserve(buf: &mut BytesMut) {
    if buf.capacity() == 0
        && let Some(b) = FREE.with(|f| f.borrow_mut().pop())
    {
        *buf = b;
        return;
    }
    buf.reserve(SIZE);
}

/// Empties `buf`, keeping its memory for reuse on this thread when it
/// holds no bytes and nothing else refers to its memory. A buffer with
/// bytes is left as it is.
pub(crate) fn recycle(buf: &mut BytesMut) {
    if !buf.is_empty() {
        return;
    }
    let mut b = std::mem::take(buf);
    // The whole block back at the start of the view: only when no split
    // part still refers to it.
    if b.capacity() == 0 || !b.try_reclaim(SIZE) || b.capacity() > 2 * SIZE {
        return;
    }
    FREE.with(|f| {
        let mut free = f.borrow_mut();
        if free.len() < KEEP {
            free.push(b);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_buffer_is_reused_and_a_shared_one_is_not() {
        let mut a = BytesMut::new();
        reserve(&mut a);
        assert!(a.capacity() >= SIZE);
        a.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        let head = a.split_to(a.len());
        let block = head.as_ptr();
        // Still shared with `head`: dropped, not kept.
        recycle(&mut a);
        assert_eq!(a.capacity(), 0);
        let mut b = BytesMut::new();
        reserve(&mut b);
        assert_ne!(b.as_ptr(), block);
        // Once alone, a buffer goes back whole and is taken again.
        drop(head);
        let ptr = b.as_ptr();
        recycle(&mut b);
        assert_eq!(b.capacity(), 0);
        let mut c = BytesMut::new();
        reserve(&mut c);
        assert_eq!(c.as_ptr(), ptr);
        assert!(c.capacity() >= SIZE && c.is_empty());
    }

    #[test]
    fn a_buffer_holding_bytes_is_left_alone() {
        let mut a = BytesMut::from(&b"pipelined"[..]);
        recycle(&mut a);
        assert_eq!(&a[..], b"pipelined");
    }
}
