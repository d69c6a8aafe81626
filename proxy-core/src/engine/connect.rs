//! Getting a server for a stream: balancing, the FIFO queues of the backend
//! and of each server (`maxconn`, `timeout queue`), and connecting with
//! `retries`, the turn-around delay and `option redispatch`.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use proxy_balance::{HashMethod, RequestKey, ServerId};
use tokio::sync::OwnedSemaphorePermit;

use super::model::{Backend, CounterGuard, lock};
use super::stream::ServerStream;
use super::streams::Stream;

/// Longest pause between two connection attempts (HAProxy's turn-around timer
/// is the smaller of this and `timeout connect`).
const TURN_AROUND: Duration = Duration::from_secs(1);

/// Why no server connection could be had; each maps to a 503 (HTTP) or a
/// closed client (TCP) and to a termination flag pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectFail {
    /// No usable server in the backend (`SC` in logs).
    NoServer,
    /// `timeout queue` expired while waiting for a slot (`sQ`).
    QueueTimeout,
    /// Every attempt failed or timed out (`SC`); the log line names the
    /// last server tried and the retries made, as HAProxy's does.
    Exhausted {
        /// Index of the last server tried in the backend.
        server: usize,
        /// Retries made, and whether the stream moved to another server.
        retries: (u32, bool),
    },
    /// The server's queue held `maxqueue` requests already (`sQ`).
    QueueFull,
}

impl ConnectFail {
    /// Termination state letters (cause, stream state).
    pub(crate) fn termination(self) -> [u8; 2] {
        match self {
            ConnectFail::NoServer | ConnectFail::Exhausted { .. } => *b"SC",
            ConnectFail::QueueTimeout | ConnectFail::QueueFull => *b"sQ",
        }
    }
}

/// A slot on a server: counted in the balancer, the server's `maxconn` and
/// live counters until dropped; dropping it wakes the next queued request.
#[derive(Debug)]
pub(crate) struct Slot {
    backend: Arc<Backend>,
    /// Index of the server in the backend.
    pub(crate) server: usize,
    id: ServerId,
    permit: Option<OwnedSemaphorePermit>,
    _counted: CounterGuard,
    /// The stream holding the slot, shown on this server by `show sess`.
    stream: Option<Arc<Stream>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        // The balancer only errs for an id it does not know or a count that
        // would go negative; neither can happen for a slot it handed out.
        let _ = lock(&self.backend.balancer).conn_ended(self.id);
        if let (Some(p), Some(s)) = (self.permit.take(), self.backend.servers.get(self.server)) {
            s.slots.release(p);
        }
        if let Some(s) = &self.stream {
            s.set_server(None);
        }
        self.backend.queue.notify_one();
    }
}

/// The outcome of [`connect`]: a connection, its slot and what it took.
#[derive(Debug)]
pub(crate) struct Connected {
    /// The connection.
    pub(crate) stream: ServerStream,
    /// The server slot held while the connection serves this stream.
    pub(crate) slot: Slot,
    /// Time spent in queues.
    pub(crate) queue_time: Duration,
    /// Time spent connecting (last attempt).
    pub(crate) connect_time: Duration,
    /// Retries made.
    pub(crate) retries: u32,
    /// Whether the stream moved to another server.
    pub(crate) redispatched: bool,
}

/// A request's balancing inputs, owned so they outlive the request buffers.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyOwned {
    /// Client address.
    pub(crate) client: Option<std::net::IpAddr>,
    /// Request target.
    pub(crate) uri: Option<String>,
    /// The header value `balance hdr()` hashes.
    pub(crate) header: Option<String>,
    /// Random input for `balance random`.
    pub(crate) random: u32,
    /// The server a persistence cookie names (index in the backend): it is
    /// taken while usable, bypassing the balancer.
    pub(crate) sticky: Option<usize>,
}

impl KeyOwned {
    fn key(&self) -> RequestKey<'_> {
        RequestKey {
            client_ip: self.client,
            uri: self.uri.as_deref(),
            header: self.header.as_deref(),
            rdp_cookie: None,
            random: self.random,
        }
    }
}

/// Picks a server and takes a slot on it, waiting in the backend's queue
/// when every server is full and in the server's queue when that one is.
pub(crate) async fn acquire(
    be: &Arc<Backend>,
    key: &KeyOwned,
    avoid: Option<usize>,
    stream: Option<&Arc<Stream>>,
) -> Result<Slot, ConnectFail> {
    let deadline = be.timeout_queue.and_then(|t| Instant::now().checked_add(t));
    if let Some(s) = stream {
        s.set_backend(be);
    }
    loop {
        let picked = {
            let mut bal = lock(&be.balancer);
            // A persistence cookie wins while its server takes persistent
            // traffic (up, or draining: HAProxy keeps a draining server's
            // clients); once the stream has to leave it the balancer decides.
            let sticky = key
                .sticky
                .filter(|_| avoid.is_none())
                .and_then(|i| be.servers.get(i))
                .map(|s| s.id)
                .filter(|id| bal.accepts_persistent(*id).unwrap_or(false));
            let mut pick = sticky.or_else(|| bal.pick(&key.key()));
            // Redispatch wants another server than the one that failed, for
            // hash-based algorithms too (HAProxy skips it in the hash ring).
            if let (Some(a), Some(id)) = (avoid, pick) {
                if be.server(id).is_some_and(|(i, _)| i == a) && be.servers.len() > 1 {
                    pick = bal.pick_avoiding(&key.key(), id).or(pick);
                }
            }
            match pick {
                Some(id) => Some(id),
                None => {
                    let bal = &*bal;
                    if !bal
                        .server_ids()
                        .any(|id| bal.is_usable(id).unwrap_or(false))
                    {
                        return Err(ConnectFail::NoServer);
                    }
                    None
                }
            }
        };
        let Some(id) = picked else {
            // Every usable server is full: wait in the backend queue.
            be.queued.fetch_add(1, Ordering::Relaxed);
            let woke = wait_until(deadline, be.queue.notified()).await;
            be.queued.fetch_sub(1, Ordering::Relaxed);
            if woke.is_none() {
                return Err(ConnectFail::QueueTimeout);
            }
            continue;
        };
        let Some((index, server)) = be.server(id) else {
            return Err(ConnectFail::NoServer);
        };
        let permit = match server.slots.try_take() {
            Ok(p) => Some(p),
            Err(_) => {
                // The server is full (hash-based algorithms do not skip
                // it): wait in its FIFO queue, unless `maxqueue` says
                // the queue is full too.
                if server.maxqueue > 0 && server.queued.load(Ordering::Relaxed) >= server.maxqueue {
                    return Err(ConnectFail::QueueFull);
                }
                server.queued.fetch_add(1, Ordering::Relaxed);
                // A server leaving (down with `option redispatch`, or
                // maintenance) sends its queue back to the balancer.
                let evicted = server.rt.evicted.notified();
                tokio::pin!(evicted);
                evicted.as_mut().enable();
                let got = wait_until(deadline, async {
                    tokio::select! {
                        p = server.slots.take() => p.ok(),
                        () = evicted => None,
                    }
                })
                .await;
                server.queued.fetch_sub(1, Ordering::Relaxed);
                match got {
                    Some(Some(p)) => Some(p),
                    Some(None) => continue,
                    None => return Err(ConnectFail::QueueTimeout),
                }
            }
        };
        let _ = lock(&be.balancer).conn_started(id);
        if let Some(s) = stream {
            s.set_server(Some(index));
        }
        return Ok(Slot {
            backend: Arc::clone(be),
            server: index,
            id,
            permit,
            _counted: server.counters.enter(),
            stream: stream.cloned(),
        });
    }
}

async fn wait_until<F: Future>(deadline: Option<Instant>, f: F) -> Option<F::Output> {
    match deadline {
        None => Some(f.await),
        Some(d) => tokio::time::timeout_at(d.into(), f).await.ok(),
    }
}

/// What a retry does after a failed connection attempt.
struct RetryPlan {
    /// Go back to the balancer (else retry the same server).
    redispatch: bool,
    /// Pause the turn-around delay first (after a refusal).
    wait: bool,
    /// Ask the balancer for another server than the failed one. As
    /// HAProxy's, an active server that is the only one usable is asked
    /// again rather than a backup, and a map-based hash is asked again as
    /// it is: it names the failed server again while that one is usable.
    avoid: bool,
}

/// How retry number `retry` (1-based) after a failure on server `failed`
/// proceeds, as HAProxy 2.6 decides (checked against it: with `option
/// redispatch` and two servers refusing, roundrobin, static-rr, leastconn
/// and first alternate between them at once on every retry, while a hash
/// keeps to the interval and waits on the retries in between).
///
/// With `option redispatch` (any interval, even 0), a retry is
/// redispatched when the failed server is down, when the interval says so
/// (every Nth retry, or the Nth before the last one for -N), or at once
/// when the algorithm does not hash a key, more than one active server is
/// usable and no persistence cookie chose the server (`direct`). A retry
/// waits when it stays on the same server, or when at most one active
/// server is usable: then another attempt at once would fail the same way.
///
/// A redispatch avoids the failed server except under a map-based hash
/// (`balance source`, `uri`, `url_param`, `hdr` without `hash-type
/// consistent`): HAProxy 2.6 looks the key up in its map again, which gives
/// the same server until a check takes it out, so the retry fails there
/// again (503 once retries run out) and is not counted as redispatched.
/// The consistent ring skips the failed server.
fn retry_plan(be: &Backend, retry: u32, failed: usize, direct: bool) -> RetryPlan {
    let (failed_down, failed_backup, active, hashing, map_based) = {
        let bal = lock(&be.balancer);
        let server = be.servers.get(failed);
        let down = server.is_some_and(|s| !bal.accepts_persistent(s.id).unwrap_or(false));
        let backup = server.is_some_and(|s| s.backup);
        let active = be
            .servers
            .iter()
            .filter(|s| !s.backup && bal.is_usable(s.id).unwrap_or(false))
            .count();
        let config = bal.config();
        let hashing = config.algorithm.is_hash();
        let map_based = hashing && config.hash_type.method == HashMethod::MapBased;
        (down, backup, active, hashing, map_based)
    };
    let redispatch = be.redispatch.is_some_and(|interval| {
        let by_interval = match interval {
            0 => false,
            i if i > 0 => retry % i.unsigned_abs() == 0,
            // Negative: the Nth retry before the last one, -1 being the last.
            i => i64::from(retry) == i64::from(be.retries) + 1 + i64::from(i),
        };
        failed_down || by_interval || (!direct && active > 1 && !hashing)
    });
    RetryPlan {
        redispatch,
        wait: !redispatch || active <= 1,
        avoid: !map_based && (active > 1 || failed_backup),
    }
}

/// Gets a connected server for a stream that arrived on `dst`.
///
/// Tries a pooled idle connection first when `reuse` allows it. A failed
/// attempt is retried `retries` times, moving to another server when `option
/// redispatch` says so, after the turn-around delay when a refused attempt
/// stays on its server or no other active one is usable (see
/// [`retry_plan`]).
pub(crate) async fn connect(
    be: &Arc<Backend>,
    key: &KeyOwned,
    dst: SocketAddr,
    reuse: bool,
    stream: Option<&Arc<Stream>>,
) -> Result<Connected, ConnectFail> {
    let started = Instant::now();
    let mut slot = acquire(be, key, None, stream).await?;
    let mut queue_time = started.elapsed();
    let mut retries = 0;
    let mut redispatched = false;
    // A persistence cookie chose the server: no immediate redispatch.
    let mut direct = key.sticky == Some(slot.server);
    let mut assigned = Instant::now();
    loop {
        let Some(server) = be.servers.get(slot.server) else {
            return Err(ConnectFail::NoServer);
        };
        if reuse {
            if let Some(stream) = server.take_idle() {
                return Ok(Connected {
                    stream,
                    slot,
                    queue_time,
                    connect_time: Duration::ZERO,
                    retries,
                    redispatched,
                });
            }
        }
        let attempt = ServerStream::connect(server.addr(dst));
        let failure = match be.timeout_connect {
            Some(t) => match tokio::time::timeout(t, attempt).await {
                Ok(Ok(s)) => Ok(s),
                Ok(Err(_)) => Err(true),
                Err(_) => Err(false),
            },
            None => attempt.await.map_err(|_| true),
        };
        match failure {
            Ok(stream) => {
                if let (Some(s), ServerStream::Tcp(tcp)) = (&slot.stream, &stream) {
                    s.set_server_conn(tcp.as_raw_fd());
                }
                return Ok(Connected {
                    stream,
                    slot,
                    queue_time,
                    // From the last server assignment, as HAProxy's Tc.
                    connect_time: assigned.elapsed(),
                    retries,
                    redispatched,
                });
            }
            Err(fast) => {
                if retries >= be.retries {
                    return Err(ConnectFail::Exhausted {
                        server: slot.server,
                        retries: (retries, redispatched),
                    });
                }
                retries += 1;
                let plan = retry_plan(be, retries, slot.server, direct);
                if fast && plan.wait {
                    // An immediate refusal: leave the server a moment, as a
                    // restarting one would otherwise see a burst of attempts.
                    let pause = be
                        .timeout_connect
                        .map_or(TURN_AROUND, |t| t.min(TURN_AROUND));
                    tokio::time::sleep(pause).await;
                }
                if plan.redispatch {
                    let failed = slot.server;
                    drop(slot);
                    slot = if plan.avoid {
                        acquire(be, key, Some(failed), stream).await?
                    } else {
                        // A redispatch ignores the persistence cookie.
                        let key = KeyOwned {
                            sticky: None,
                            ..key.clone()
                        };
                        acquire(be, &key, None, stream).await?
                    };
                    // HAProxy's Tw runs up to the last assignment, the
                    // failed attempts and pauses before it included.
                    queue_time = started.elapsed();
                    assigned = Instant::now();
                    redispatched |= slot.server != failed;
                    direct = false;
                }
            }
        }
    }
}
