//! The live streams, for the runtime API: `show sess` lists them,
//! `shutdown session` and `shutdown sessions server` end them.
//!
//! As in HAProxy, a TCP-mode connection (and a CLI connection) is a stream
//! from its accept on, and runs inside [`Stream::run`], which ends it when
//! it is shut down: the connection's task drops everything it holds, so
//! both sides are closed and its server slot freed. An HTTP connection
//! becomes a stream for each request, once its head is in, and the
//! transaction runs inside [`watched`]: shut down, the transaction is
//! dropped and the connection closed. The stream records which backend and
//! server it uses: the session hands it to the code that picks and connects
//! to servers.
//!
//! Code that ends a killed stream as HAProxy does (an error page, a log
//! line with `K` termination flags) holds a [`Handling`] guard meanwhile:
//! the task is then left to finish, and dropped only once no guard is held.
//!
//! Registering costs a connection little: one allocation, one short lock
//! on one of several shards, no formatting and no system call; what
//! `show sess` prints is worked out when it asks. Whatever waits for a
//! shutdown runs in the stream's own task, so a shutdown has one waker to
//! wake, and waiting for it takes no lock once the task's waker is known.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::model::{Backend, Frontend, lock};

/// Registers the stream of a client of `session`'s frontend on descriptor
/// `fd`, started at `timing` (monotonic and wall clock: the session's own
/// readings, no second reading per stream).
pub(crate) fn register_client(
    session: &super::Session,
    fd: i32,
    (started, accepted): (Instant, SystemTime),
) -> Arc<Stream> {
    let origin = Origin::Client {
        frontend: Arc::clone(&session.ctx.fe),
        src: session.ep.src,
        dst: session.ep.dst,
    };
    session
        .ctx
        .rt
        .streams
        .register_at(origin, Some(fd), (accepted, started))
}

/// A stream's place in the registry: removed when this is dropped.
pub(crate) struct Listed<R: Deref<Target = Registry>> {
    registry: R,
    stream: Arc<Stream>,
}

impl<R: Deref<Target = Registry>> Listed<R> {
    /// The place of `stream` in `registry`.
    pub(crate) fn new(registry: R, stream: Arc<Stream>) -> Self {
        Listed { registry, stream }
    }
}

impl<R: Deref<Target = Registry>> Drop for Listed<R> {
    fn drop(&mut self) {
        if let Some(shard) = self.registry.shard(self.stream.id) {
            lock(shard).remove(&self.stream.id);
        }
    }
}

/// Runs `fut`, one part of a task (an HTTP transaction, the tunnel that
/// follows it), until it ends or the stream `listed` holds is shut down
/// (with no [`Handling`] guard held): `None` then, and `fut` dropped at
/// once. `fut` may register the stream itself, part way through.
///
/// `fut` is boxed by the caller: a transaction's state is kilobytes, and
/// moved into this future, then pinned, it would be copied each time.
pub(crate) async fn watched<R: Deref<Target = Registry>, F: Future + ?Sized>(
    listed: &std::sync::OnceLock<Listed<R>>,
    fut: Pin<Box<F>>,
) -> Option<F::Output> {
    let mut fut = Some(fut);
    let mut known = None;
    std::future::poll_fn(|cx| {
        let Some(f) = fut.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = match listed.get() {
            Some(l) => l
                .stream
                .poll_guarded(&mut known, cx, |cx| f.as_mut().poll(cx)),
            None => f.as_mut().poll(cx).map(Some),
        };
        if polled.is_ready() {
            // Dropped at once: its sockets close and its server slot frees.
            fut = None;
        }
        polled
    })
    .await
}

/// The registry of a runtime, held by a connection's task.
pub(crate) struct Streams(pub(crate) Arc<super::model::Runtime>);

impl Deref for Streams {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.0.streams
    }
}

/// Ids are shown as HAProxy shows its stream pointers; they start high so
/// that they never look like small numbers (HAProxy refuses 0 too).
const FIRST_ID: u64 = 0x5600_0000_0000;

/// Every live stream, by id.
#[derive(Debug)]
pub(crate) struct Registry {
    next: AtomicU64,
    /// Incremented by each `show sess`, as HAProxy's stream epoch: a stream
    /// shows the epoch it was created in.
    epoch: AtomicU32,
    /// Streams by id, in shards so that connections accepted on different
    /// threads rarely wait for one another.
    live: Box<[Shard]>,
}

/// Shards of the registry.
const SHARDS: u64 = 16;

/// Some of the live streams, by id.
type Shard = Mutex<BTreeMap<u64, Arc<Stream>>>;

/// Distance between two ids, as between two of HAProxy's stream pointers.
const ID_STEP: u64 = 0x40;

impl Default for Registry {
    fn default() -> Self {
        Registry {
            next: AtomicU64::new(0),
            epoch: AtomicU32::new(0),
            live: (0..SHARDS).map(|_| Mutex::new(BTreeMap::new())).collect(),
        }
    }
}

/// Where a stream comes from.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A client of frontend `frontend`, accepted on `dst`.
    Client {
        /// The frontend (its name and mode are shown).
        frontend: Arc<Frontend>,
        /// Client address.
        src: SocketAddr,
        /// Local address the client reached.
        dst: SocketAddr,
    },
    /// A runtime API connection on `stats socket` number `socket` (1-based)
    /// of the unix kind, or from `src` over TCP.
    Cli {
        /// The `stats socket` line's rank.
        socket: usize,
        /// The peer, for a TCP socket.
        src: Option<SocketAddr>,
    },
}

/// The backend and server a stream uses now.
#[derive(Debug, Default)]
struct Attached {
    backend: Option<Arc<Backend>>,
    /// Index of the server in the backend, while it holds a slot there.
    server: Option<usize>,
    /// The server connection's descriptor, while connected; its local
    /// address is looked up only when shown.
    server_conn: Option<i32>,
}

/// A stream's backend and the index of its server there, if any.
type Attachment = Option<(Arc<Backend>, Option<usize>)>;

/// One live stream.
#[derive(Debug)]
pub(crate) struct Stream {
    id: u64,
    /// HAProxy's unique stream number (`id=` of `show sess ID`).
    uniq: u64,
    epoch: u32,
    origin: Origin,
    accepted: SystemTime,
    started: Instant,
    client_fd: AtomicI32,
    attached: Mutex<Attached>,
    killed: AtomicBool,
    /// The waker of the task serving the stream (see the module doc).
    waker: Mutex<Option<Waker>>,
    /// Whether [`Stream::run`] keeps `waker` up to date: what waits inside
    /// it then registers nothing.
    in_task: AtomicBool,
    /// How many [`Handling`] guards are held.
    handlers: AtomicUsize,
}

/// A stream's task, as [`Stream::run`] makes it: the stream's future, run
/// until it ends or the stream is shut down, and the stream removed from
/// the registry once the future is dropped, however the task ends.
///
/// Written by hand rather than as an `async fn`: every TCP-mode and CLI
/// connection's task holds one, and this one is 40 bytes (the async fn
/// with its task-local scope was 160, which put each task in a 384-byte
/// cell instead of 256).
pub(crate) struct Running<R: Deref<Target = Registry>, F: Future<Output = ()>> {
    /// `None` once it has ended.
    fut: Option<Pin<Box<F>>>,
    /// The waker last handed to the stream: a task's waker does not
    /// change, so it registers once.
    known: Option<Waker>,
    /// The stream, dropped after `fut` (fields drop in order): it leaves
    /// the registry once its future is gone.
    listed: Listed<R>,
}

impl<R: Deref<Target = Registry> + Unpin, F: Future<Output = ()>> Future for Running<R, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(());
        };
        if this
            .listed
            .stream
            .poll_guarded(&mut this.known, cx, |cx| fut.as_mut().poll(cx))
            .is_ready()
        {
            // Dropped at once: its sockets close and its server slot frees.
            this.fut = None;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Registry {
    /// Registers a new stream.
    pub(crate) fn register(&self, origin: Origin, client_fd: Option<i32>) -> Arc<Stream> {
        self.register_at(origin, client_fd, (SystemTime::now(), Instant::now()))
    }

    /// Registers a new stream accepted at `accepted` (wall clock and
    /// monotonic).
    pub(crate) fn register_at(
        &self,
        origin: Origin,
        client_fd: Option<i32>,
        (accepted, started): (SystemTime, Instant),
    ) -> Arc<Stream> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let s = Arc::new(Stream {
            id: FIRST_ID.wrapping_add(n.wrapping_mul(ID_STEP)),
            uniq: n,
            epoch: self.epoch.load(Ordering::Relaxed),
            origin,
            accepted,
            started,
            client_fd: AtomicI32::new(client_fd.unwrap_or(-1)),
            attached: Mutex::new(Attached::default()),
            killed: AtomicBool::new(false),
            waker: Mutex::new(None),
            in_task: AtomicBool::new(false),
            handlers: AtomicUsize::new(0),
        });
        if let Some(shard) = self.shard(s.id) {
            lock(shard).insert(s.id, Arc::clone(&s));
        }
        s
    }

    /// The shard holding id `id`.
    fn shard(&self, id: u64) -> Option<&Shard> {
        let n = id.wrapping_sub(FIRST_ID) / ID_STEP;
        self.live.get(usize::try_from(n % SHARDS).ok()?)
    }

    /// The live streams, oldest first.
    fn list(&self) -> Vec<Arc<Stream>> {
        let mut all: Vec<Arc<Stream>> = self
            .live
            .iter()
            .flat_map(|shard| lock(shard).values().cloned().collect::<Vec<_>>())
            .collect();
        all.sort_by_key(|s| s.uniq);
        all
    }

    /// The stream shown as `id`.
    pub(crate) fn find(&self, id: u64) -> Option<Arc<Stream>> {
        lock(self.shard(id)?).get(&id).cloned()
    }

    /// Shuts down every stream using server `index` of `backend`; returns
    /// how many.
    pub(crate) fn shutdown_server(&self, backend: &Arc<Backend>, index: usize) -> usize {
        let mut n = 0;
        for s in self.list() {
            let on = {
                let a = lock(&s.attached);
                a.server == Some(index)
                    && a.backend.as_ref().is_some_and(|b| Arc::ptr_eq(b, backend))
            };
            if on {
                s.shutdown();
                n += 1;
            }
        }
        n
    }

    /// `show sess`: one line per stream, in HAProxy 2.6's layout. Counters
    /// the engine does not keep (task calls, CPU, buffer flags) show the
    /// values HAProxy shows for an idle stream. Starts a new epoch.
    pub(crate) fn show(&self) -> String {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let mut out = String::new();
        for s in self.list() {
            s.write_line(&mut out);
        }
        out
    }

    /// `show sess all`: every stream in the detailed form of `show sess ID`.
    pub(crate) fn show_all(&self, proxy_ids: &dyn Fn(&str) -> Option<u32>) -> String {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let mut out = String::new();
        for s in self.list() {
            s.write_detail(&mut out, proxy_ids);
        }
        out
    }
}

/// HAProxy's `human_time`: at most two units among d, h, m, s (`0s`,
/// `45s`, `1m5s`, `1h2m`, `1d5s`).
pub(crate) fn human_time(secs: u64) -> String {
    let mut out = String::new();
    let mut units = 2;
    if secs >= 86_400 {
        let _ = write!(out, "{}d", secs / 86_400);
        units -= 1;
    }
    if units > 0 && secs % 86_400 / 3600 > 0 {
        let _ = write!(out, "{}h", secs % 86_400 / 3600);
        units -= 1;
    }
    if units > 0 && secs % 3600 / 60 > 0 {
        let _ = write!(out, "{}m", secs % 3600 / 60);
        units -= 1;
    }
    if units > 0 && secs % 60 > 0 || secs == 0 {
        let _ = write!(out, "{}s", secs % 60);
    }
    out
}

/// `%#x` as C prints it: `0` for zero.
fn c_hex(n: u64) -> String {
    if n == 0 {
        "0".into()
    } else {
        format!("{n:#x}")
    }
}

impl Stream {
    /// Runs `fut` as this stream's task: registered until it ends, ended at
    /// once (the future dropped) when the stream is shut down. `registry`
    /// is where the stream is registered (a reference, or what holds one).
    pub(crate) fn run<R: Deref<Target = Registry>, F: Future<Output = ()>>(
        self: Arc<Self>,
        registry: R,
        fut: F,
    ) -> Running<R, F> {
        Running {
            fut: Some(Box::pin(fut)),
            known: None,
            listed: Listed::new(registry, self),
        }
    }

    /// Polls a future of the task serving the stream: `None` when the
    /// stream ends now, before the poll or because of it. `known` is the
    /// waker last handed to the stream: a task's waker does not change,
    /// so it registers once.
    fn poll_guarded<T>(
        &self,
        known: &mut Option<Waker>,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<Option<T>> {
        if !known.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.set_waker(cx.waker());
            self.in_task.store(true, Ordering::Release);
            *known = Some(cx.waker().clone());
        }
        if self.ends_now() {
            return Poll::Ready(None);
        }
        match poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending if self.ends_now() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Ends the stream (`shutdown session`).
    pub(crate) fn shutdown(&self) {
        self.killed.store(true, Ordering::Release);
        self.wake();
    }

    /// Wakes the stream's task, which looks at its state again.
    fn wake(&self) {
        if let Some(w) = lock(&self.waker).as_ref() {
            w.wake_by_ref();
        }
    }

    /// Hands the stream the waker of the task that serves it.
    fn set_waker(&self, waker: &Waker) {
        let mut slot = lock(&self.waker);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Whether the task must end now: shut down, and no [`Handling`] guard
    /// held.
    fn ends_now(&self) -> bool {
        self.is_killed() && self.handlers.load(Ordering::Acquire) == 0
    }

    /// Ready once the stream is shut down. Inside [`Stream::run`] the
    /// task's waker is known already; elsewhere the waker of the first poll
    /// is the one woken.
    fn poll_killed(&self, registered: &mut bool, cx: &Context<'_>) -> Poll<()> {
        if self.is_killed() {
            return Poll::Ready(());
        }
        if !*registered && !self.in_task.load(Ordering::Acquire) {
            *registered = true;
            self.set_waker(cx.waker());
            if self.is_killed() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }

    /// Whether the stream was shut down.
    pub(crate) fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Resolves once the stream is shut down. Awaited in the stream's own
    /// task (see the module doc).
    pub(crate) async fn killed(&self) {
        let mut registered = false;
        std::future::poll_fn(|cx| self.poll_killed(&mut registered, cx)).await;
    }

    /// Until the guard is dropped, a shutdown leaves the task running: the
    /// caller watches [`Stream::killed`] and ends the stream itself.
    pub(crate) fn handling(self: &Arc<Self>) -> Handling {
        self.handlers.fetch_add(1, Ordering::AcqRel);
        Handling(Arc::clone(self))
    }

    /// The stream waits for or uses `backend`.
    pub(crate) fn set_backend(&self, backend: &Arc<Backend>) {
        let mut a = lock(&self.attached);
        if !a.backend.as_ref().is_some_and(|b| Arc::ptr_eq(b, backend)) {
            a.backend = Some(Arc::clone(backend));
            a.server = None;
            a.server_conn = None;
        }
    }

    /// The stream holds a slot on server `index` of its backend (`None`:
    /// it released it).
    pub(crate) fn set_server(&self, index: Option<usize>) {
        let mut a = lock(&self.attached);
        a.server = index;
        if index.is_none() {
            a.server_conn = None;
        }
    }

    /// The stream's server connection is descriptor `fd` (its local
    /// address is read when `show sess ID` asks).
    pub(crate) fn set_server_conn(&self, fd: i32) {
        lock(&self.attached).server_conn = Some(fd);
    }

    fn proto_src_fe(&self) -> (&'static str, String, &str) {
        match &self.origin {
            Origin::Client { frontend, src, .. } => (
                if src.is_ipv4() { "tcpv4" } else { "tcpv6" },
                src.to_string(),
                frontend.name.as_str(),
            ),
            Origin::Cli { socket, src: None } => {
                ("unix_stream", format!("unix:{socket}"), "GLOBAL")
            }
            Origin::Cli { src: Some(a), .. } => (
                if a.is_ipv4() { "tcpv4" } else { "tcpv6" },
                a.to_string(),
                "GLOBAL",
            ),
        }
    }

    /// Backend name, server name (as `show sess` prints them) and the
    /// server's descriptor.
    fn be_srv(&self) -> (String, String, Option<i32>, Attachment) {
        let a = lock(&self.attached);
        let be = a
            .backend
            .as_ref()
            .map_or("<NONE>".to_string(), |b| b.name.clone());
        let srv = a
            .backend
            .as_ref()
            .zip(a.server)
            .and_then(|(b, i)| b.servers.get(i))
            .map_or("<none>".to_string(), |s| s.name.clone());
        let at = a.backend.as_ref().map(|b| (Arc::clone(b), a.server));
        (be, srv, a.server_conn, at)
    }

    fn write_line(&self, out: &mut String) {
        let (proto, src, fe) = self.proto_src_fe();
        let (be, srv, conn, _) = self.be_srv();
        let sfd = conn.unwrap_or(-1);
        let age = human_time(self.started.elapsed().as_secs());
        let _ = writeln!(
            out,
            "{:#x}: proto={proto} src={src} fe={fe} be={be} srv={srv} ts=00 epoch={} age={age} calls=1 rate=0 cpu=0 lat=0 rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd={}] scb=[8,1h,fd={sfd}] exp= rc=0 c_exp=",
            self.id,
            c_hex(u64::from(self.epoch)),
            self.client_fd.load(Ordering::Relaxed),
        );
    }

    /// `show sess ID`: the parts of HAProxy's detailed dump an operator
    /// reads (dates, addresses, frontend, backend, server); the internal
    /// task and buffer state it goes on with is left out.
    pub(crate) fn write_detail(&self, out: &mut String, proxy_ids: &dyn Fn(&str) -> Option<u32>) {
        let (proto, src, fe) = self.proto_src_fe();
        let c = crate::log::time::Civil::from_system(self.accepted);
        let mut date = String::new();
        c.write_accept_date(&mut date);
        // HAProxy prints microseconds here: the milliseconds' digits and
        // three more.
        let date = match date.rsplit_once('.') {
            Some((head, _)) => format!("{head}.{:06}", c.micros),
            None => date,
        };
        let (be, srv, conn, at) = self.be_srv();
        let _ = writeln!(
            out,
            "{:#x}: [{date}] id={} proto={proto} source={src}",
            self.id, self.uniq
        );
        let id = |name: &str| proxy_ids(name).map_or("-1".to_string(), |i| i.to_string());
        match &self.origin {
            Origin::Client { frontend, dst, .. } => {
                let _ = writeln!(
                    out,
                    "  frontend={} (id={} mode={}), listener=? (id=1) addr={dst}",
                    frontend.name,
                    id(&frontend.name),
                    frontend.mode.name()
                );
            }
            Origin::Cli { .. } => {
                let _ = writeln!(
                    out,
                    "  frontend={fe} (id=0 mode=cli), listener=? (id=1) addr=unix"
                );
            }
        }
        match &at {
            Some((b, _)) => {
                let _ = write!(
                    out,
                    "  backend={be} (id={} mode={})",
                    id(&b.name),
                    b.mode.name()
                );
                match conn.and_then(local_addr) {
                    Some(local) => {
                        let _ = writeln!(out, " addr={local}");
                    }
                    None => out.push('\n'),
                }
            }
            None => {
                let _ = writeln!(out, "  backend=<NONE> (id=-1 mode=-)");
            }
        }
        let server = at
            .as_ref()
            .and_then(|(b, i)| i.and_then(|i| b.servers.get(i)));
        match server {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "  server={srv} (id={}) addr={}",
                    s.id.0,
                    s.addr(SocketAddr::from(([0, 0, 0, 0], 0)))
                );
            }
            None => {
                let _ = writeln!(out, "  server=<NONE> (id=-1)");
            }
        }
    }
}

/// The local address of socket descriptor `fd` of this process, read from
/// `/proc` as `ss` reads it: asked only by `show sess ID`, so that a
/// connection never pays a system call for it. `None` when the descriptor
/// is no TCP socket (any more).
fn local_addr(fd: i32) -> Option<SocketAddr> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let inode = link
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .to_string();
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .find_map(|text| {
            text.lines().skip(1).find_map(|line| {
                let cols: Vec<&str> = line.split_whitespace().collect();
                if cols.get(9) != Some(&inode.as_str()) {
                    return None;
                }
                parse_proc_addr(cols.get(1)?)
            })
        })
}

/// An address of `/proc/net/tcp{,6}`: the address as the kernel's 32-bit
/// words in native byte order, in hexadecimal, then `:` and the port.
fn parse_proc_addr(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..addr.len()).step_by(8) {
        let word = u32::from_str_radix(addr.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// Held while the running code ends a shut-down stream itself; see
/// [`Stream::handling`].
#[derive(Debug)]
pub(crate) struct Handling(Arc<Stream>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handlers.fetch_sub(1, Ordering::AcqRel);
        // The task's own wait looks again: a shutdown seen meanwhile ends
        // it now.
        if self.0.is_killed() {
            self.0.wake();
        }
    }
}

/// Resolves when `stream` is shut down; never without a stream.
pub(crate) async fn killed(stream: Option<&Stream>) {
    match stream {
        Some(s) => s.killed().await,
        None => std::future::pending().await,
    }
}

/// A connection whose reads and writes fail once its stream is shut down,
/// so that a copy loop over it ends with what it counted so far.
pub(crate) struct Killable<'a, T> {
    inner: &'a mut T,
    stream: Option<Arc<Stream>>,
    registered: bool,
}

impl<'a, T> Killable<'a, T> {
    /// Wraps `inner`, watching `stream` (nothing without one).
    pub(crate) fn new(inner: &'a mut T, stream: Option<Arc<Stream>>) -> Self {
        Killable {
            inner,
            stream,
            registered: false,
        }
    }

    fn check(&mut self, cx: &mut Context<'_>) -> std::io::Result<()> {
        let killed = self
            .stream
            .as_ref()
            .is_some_and(|s| s.poll_killed(&mut self.registered, cx).is_ready());
        if killed {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "stream shut down",
            ));
        }
        Ok(())
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Killable<'_, T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut *this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Killable<'_, T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut *this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn ages_print_as_haproxy_human_time() {
        assert_eq!(human_time(0), "0s");
        assert_eq!(human_time(45), "45s");
        assert_eq!(human_time(60), "1m");
        assert_eq!(human_time(65), "1m5s");
        assert_eq!(human_time(3725), "1h2m");
        assert_eq!(human_time(86_405), "1d5s");
        assert_eq!(human_time(90_000), "1d1h");
    }

    #[test]
    fn a_server_connection_shows_its_local_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let conn = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let local = conn.local_addr().unwrap();
        assert_eq!(local_addr(conn.as_raw_fd()), Some(local));
        assert_eq!(local_addr(-1), None);
        if cfg!(target_endian = "little") {
            assert_eq!(
                parse_proc_addr("00000000000000000000000001000000:1F90"),
                Some("[::1]:8080".parse().unwrap())
            );
        }
        assert_eq!(parse_proc_addr("0100007F"), None);
    }

    #[test]
    fn epochs_print_as_c_does() {
        assert_eq!(c_hex(0), "0");
        assert_eq!(c_hex(3), "0x3");
    }

    #[test]
    fn shards_list_streams_oldest_first_and_find_each() {
        let reg = Registry::default();
        let origin = Origin::Cli {
            socket: 1,
            src: None,
        };
        let all: Vec<_> = (0..40)
            .map(|_| reg.register(origin.clone(), None))
            .collect();
        let listed: Vec<u64> = reg.list().iter().map(|s| s.id).collect();
        assert_eq!(listed, all.iter().map(|s| s.id).collect::<Vec<_>>());
        for s in &all {
            assert!(reg.find(s.id).is_some_and(|f| Arc::ptr_eq(&f, s)));
        }
        assert!(reg.find(FIRST_ID + 1).is_none());
        assert!(reg.find(0).is_none());
    }

    #[tokio::test]
    async fn a_shut_stream_ends_and_leaves_the_registry() {
        let reg = Registry::default();
        let origin = Origin::Cli {
            socket: 1,
            src: None,
        };
        let s = reg.register(origin, None);
        let id = s.id;
        assert!(id > FIRST_ID - 1);
        assert!(reg.find(id).is_some());
        let listing = reg.show();
        assert!(
            listing.starts_with(&format!("{id:#x}: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0 age=0s ")),
            "{listing}"
        );
        let target = Arc::clone(&s);
        let task = s.run(&reg, std::future::pending());
        target.shutdown();
        task.await;
        assert!(reg.find(id).is_none());
        assert!(reg.show().is_empty());
    }

    fn cli_stream(reg: &Registry) -> Arc<Stream> {
        let origin = Origin::Cli {
            socket: 1,
            src: None,
        };
        reg.register(origin, None)
    }

    #[tokio::test]
    async fn a_handled_kill_lets_the_task_finish() {
        let reg = Registry::default();
        let s = cli_stream(&reg);
        let finished = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&finished);
        let me = Arc::clone(&s);
        let task = Arc::clone(&s).run(&reg, async move {
            let guard = me.handling();
            me.killed().await;
            tokio::task::yield_now().await;
            done.store(true, Ordering::Release);
            drop(guard);
            std::future::pending::<()>().await;
        });
        let killer = async {
            tokio::task::yield_now().await;
            s.shutdown();
        };
        tokio::join!(task, killer);
        assert!(finished.load(Ordering::Acquire));
        assert!(reg.find(s.id).is_none());
    }

    #[tokio::test]
    async fn a_killable_connection_fails_once_killed() {
        use tokio::io::AsyncReadExt;
        let reg = Registry::default();
        let s = cli_stream(&reg);
        let (mut a, _b) = tokio::io::duplex(64);
        let mut k = Killable::new(&mut a, Some(Arc::clone(&s)));
        let mut buf = [0u8; 8];
        let read = k.read(&mut buf);
        let killer = async {
            tokio::task::yield_now().await;
            s.shutdown();
        };
        let (r, ()) = tokio::join!(read, killer);
        assert_eq!(
            r.map_err(|e| e.kind()).err(),
            Some(std::io::ErrorKind::ConnectionAborted)
        );
    }
}
