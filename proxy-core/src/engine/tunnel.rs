//! Bidirectional forwarding with an inactivity timeout: TCP mode, and HTTP
//! connections after a 101 or a CONNECT.
//!
//! Both streams are wrapped so that every read and write stamps a shared
//! activity clock and counts bytes; a watchdog ends the tunnel when neither
//! side moved for the timeout. Half-closes propagate as in HAProxy: end of
//! input on one side shuts the other side's output down.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How a tunnel ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TunnelEnd {
    /// Both directions finished normally.
    Closed,
    /// Nothing moved for the inactivity timeout.
    Timeout,
    /// The client side failed.
    ClientError,
    /// The server side failed.
    ServerError,
}

/// Result of [`run`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct TunnelStats {
    /// How it ended.
    pub(crate) end: TunnelEnd,
    /// Bytes written to the client.
    pub(crate) to_client: u64,
    /// Bytes written to the server.
    pub(crate) to_server: u64,
}

#[derive(Debug)]
struct Clock {
    start: Instant,
    last: AtomicU64,
}

impl Clock {
    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last.load(Ordering::Relaxed))
    }
}

/// A stream that stamps the clock and counts what was written and whether
/// its own reads or writes failed.
struct Watched<'a, T> {
    inner: &'a mut T,
    clock: Arc<Clock>,
    written: u64,
    failed: bool,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<'_, T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut *this.inner).poll_read(cx, buf);
        match &r {
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.clock.touch(),
            Poll::Ready(Err(_)) => this.failed = true,
            _ => {}
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<'_, T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut *this.inner).poll_write(cx, buf);
        match &r {
            Poll::Ready(Ok(n)) => {
                this.written += *n as u64;
                this.clock.touch();
            }
            Poll::Ready(Err(_)) => this.failed = true,
            Poll::Pending => {}
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Forwards between `client` and `server` until both directions end, an error
/// occurs, or nothing moves for `idle` (no limit when `None`).
pub(crate) async fn run<C, S>(client: &mut C, server: &mut S, idle: Option<Duration>) -> TunnelStats
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let clock = Arc::new(Clock {
        start: Instant::now(),
        last: AtomicU64::new(0),
    });
    let mut c = Watched {
        inner: client,
        clock: Arc::clone(&clock),
        written: 0,
        failed: false,
    };
    let mut s = Watched {
        inner: server,
        clock: Arc::clone(&clock),
        written: 0,
        failed: false,
    };
    let end = {
        let copy = tokio::io::copy_bidirectional(&mut c, &mut s);
        tokio::pin!(copy);
        loop {
            let wake = idle.and_then(|t| clock.last().checked_add(t));
            tokio::select! {
                r = &mut copy => break match r {
                    Ok(_) => TunnelEnd::Closed,
                    Err(_) => TunnelEnd::ServerError,
                },
                () = sleep_opt(wake) => {
                    if let Some(t) = idle {
                        if clock.last().checked_add(t).is_some_and(|d| d <= Instant::now()) {
                            break TunnelEnd::Timeout;
                        }
                    }
                }
            }
        }
    };
    let end = match end {
        TunnelEnd::ServerError if c.failed && !s.failed => TunnelEnd::ClientError,
        e => e,
    };
    TunnelStats {
        end,
        to_client: c.written,
        to_server: s.written,
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
