//! The tokio engine of haproxyd: listeners, the accept loop with `maxconn`,
//! and the TCP and HTTP/1.1 sessions that route and forward traffic.
//!
//! A [`Config`] is compiled once by [`Engine::build`] into a runtime model
//! (frontends with compiled ACLs and `use_backend` rules, backends with a
//! balancer and live server counters). The binary then binds with
//! [`Engine::bind`] (or adopts inherited sockets with [`Engine::adopt`]),
//! drops privileges and runs [`Engine::serve`] on a tokio runtime.
//!
//! With [`Engine::nbthread`] above 1, each thread runs its own
//! current-thread runtime, as HAProxy's threads each run their own loop:
//! [`Engine::bind_sibling`] gives every further thread its own listening
//! sockets (`SO_REUSEPORT`: the kernel spreads connections among them),
//! one thread runs [`Engine::serve`] (which also runs the health checks
//! and the `stats socket`s) and the others [`Engine::serve_accepting`].
//! A connection stays on the thread that accepted it, so its tasks never
//! wake another thread; the model and counters they share are atomics
//! and short per-backend locks, which work across runtimes.
//!
//! ```no_run
//! # fn run(config: &proxy_config::Config) -> Result<(), Box<dyn std::error::Error>> {
//! use proxy_core::engine::Engine;
//! use tokio::runtime::Builder;
//! let engine = Engine::build(config)?;
//! for w in engine.warnings() {
//!     eprintln!("[WARNING] {w}");
//! }
//! let listeners = engine.bind()?;
//! let mut others = Vec::new();
//! for _ in 1..engine.nbthread() {
//!     others.push(engine.bind_sibling(&listeners)?);
//! }
//! // ... chroot, setgid, setuid here ...
//! let (stop, stopped) = tokio::sync::watch::channel(false);
//! let threads: Vec<_> = others
//!     .into_iter()
//!     .map(|l| {
//!         let (engine, mut stopped) = (engine.clone(), stopped.clone());
//!         std::thread::spawn(move || {
//!             let runtime = Builder::new_current_thread().enable_all().build()?;
//!             runtime.block_on(engine.serve_accepting(l, async move {
//!                 let _ = stopped.wait_for(|s| *s).await;
//!             }))?;
//!             Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//!         })
//!     })
//!     .collect();
//! let runtime = Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(engine.serve(listeners, async {
//!     let _ = tokio::signal::ctrl_c().await;
//!     let _ = stop.send(true);
//! }))?;
//! for t in threads {
//!     let _ = t.join();
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What the engine does not implement yet is refused by [`Engine::build`]
//! with [`BuildError::Unsupported`] when ignoring it would change where
//! traffic goes or what it carries (TLS and PROXY-protocol binds, unix
//! sockets, TLS or PROXY-protocol servers, `balance rdp-cookie`, cookie
//! persistence other than `insert` and `prefix`, dynamic `use_backend`,
//! rule actions and samples beyond the common ones), and reported by
//! [`Engine::warnings`] when it does not (agent checks).
//!
//! The statistics page (`stats uri`), the Prometheus exporter
//! (`http-request use-service prometheus-exporter`) and the runtime API on
//! `stats socket`s are served by the engine itself; [`Engine::snapshot`]
//! and [`Engine::cli_execute`] reach the same data without a socket.
//!
//! The request path takes no global lock: the model is shared through `Arc`,
//! counters are atomic, and each backend's balancer sits behind its own short
//! mutex.

mod activity;
mod auth;
mod buffers;
mod check;
mod cli_exec;
mod connect;
mod cookie;
mod dynamic;
mod error;
mod errorfiles;
mod errors;
mod http;
mod listen;
mod logging;
mod model;
mod rules;
mod server_list;
mod servers;
mod slots;
mod stats_view;
mod stream;
mod streams;
mod tcp;
mod tunnel;

use std::future::Future;
use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use proxy_config::{Config, Mode};
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc, watch};

pub use check::{CheckCode, CheckStatus};
pub use error::{BuildError, EngineError};
pub use listen::Listeners;
pub use servers::{AdminState, EngineHandle, ServerRef, ServerStateError, ServerStatus};
pub use stream::{ClientStream, Endpoints, ServerStream};

use listen::BoundListener;
use model::{Frontend, Runtime};

/// Distinguishes engines so listeners cannot be served by the wrong one.
static NEXT_ENGINE: AtomicUsize = AtomicUsize::new(1);

/// A configuration compiled for serving.
#[derive(Debug, Clone)]
pub struct Engine {
    rt: Arc<Runtime>,
    id: usize,
}

impl Engine {
    /// Compiles `config`: resolves backends, compiles ACLs and rules, builds
    /// balancers, resolves server host names and opens log targets.
    pub fn build(config: &Config) -> Result<Engine, BuildError> {
        Ok(Engine {
            rt: Arc::new(Runtime::build(config)?),
            id: NEXT_ENGINE.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Directives accepted but not acted on (agent checks), as `file:line:col: message`, for the
    /// binary to report at start-up.
    pub fn warnings(&self) -> &[String] {
        &self.rt.warnings
    }

    /// A handle on the servers' run-time state (administrative state,
    /// weight, health checks, counters), valid before and while serving.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle::new(Arc::clone(&self.rt))
    }

    /// Whether server state changes are also printed on stderr as HAProxy
    /// does in the foreground (`[WARNING]`/`[ALERT]` lines). On by default
    /// unless the configuration says `daemon`; turn off for `-q` or `-D`.
    pub fn set_console_notices(&self, on: bool) {
        self.rt.console.store(on, Ordering::Relaxed);
    }

    /// Whether [`Engine::bind`] sets `SO_REUSEPORT` on the listeners, so
    /// that another process can bind the same addresses and take over
    /// without a gap. On by default, as in HAProxy; `-dR` turns it off.
    pub fn set_reuse_port(&self, on: bool) {
        self.rt.listeners.set_reuse_port(on);
    }

    /// Threads to run the engine on (`nbthread`, else one per CPU).
    pub fn nbthread(&self) -> usize {
        self.rt.nbthread
    }

    /// Binds every `bind` address. Needs no runtime, so it can run before
    /// privileges are dropped and before the runtime is created.
    pub fn bind(&self) -> Result<Listeners, EngineError> {
        listen::bind_all(&self.rt, self.id)
    }

    /// Listening sockets for one more thread beside `first` (see the module
    /// documentation): for each listener of `first`, a new socket bound
    /// with `SO_REUSEPORT` on the same address, or, for a socket inherited
    /// (`fd@N`), adopted, or bound without `SO_REUSEPORT`, a duplicate of
    /// it. The `stats socket`s are not repeated. Call it before dropping
    /// privileges, as [`Engine::bind`].
    pub fn bind_sibling(&self, first: &Listeners) -> Result<Listeners, EngineError> {
        if first.owner != self.id {
            return Err(EngineError::ForeignListeners);
        }
        listen::bind_sibling(first)
    }

    /// Takes listening sockets bound elsewhere (inherited from a previous
    /// process on reload), as `(frontend name, socket)`. Sockets must be
    /// listening already; they are switched to non-blocking mode.
    pub fn adopt(
        &self,
        sockets: impl IntoIterator<Item = (String, StdListener)>,
    ) -> Result<Listeners, EngineError> {
        let mut list = Vec::new();
        for (name, socket) in sockets {
            let frontend = self
                .rt
                .frontends
                .iter()
                .position(|f| f.name == name)
                .ok_or(EngineError::ForeignListeners)?;
            let local = socket
                .local_addr()
                .map_err(|_| EngineError::ForeignListeners)?;
            socket
                .set_nonblocking(true)
                .map_err(|source| EngineError::Register {
                    addr: local,
                    source,
                })?;
            list.push(BoundListener {
                frontend,
                frontend_name: name,
                socket,
                local,
                sharing: listen::Sharing::duplicate(),
            });
        }
        Ok(Listeners {
            list,
            owner: self.id,
            cli: cli_exec::bind(&self.rt)?,
        })
    }

    /// Serves `listeners` until `shutdown` completes, then stops accepting,
    /// closes idle keep-alive connections and waits for the streams in
    /// progress to finish. Must run inside a tokio runtime.
    ///
    /// Also runs the health checks and serves the `stats socket`s: with
    /// several threads, one of them runs this and the others
    /// [`Engine::serve_accepting`].
    pub async fn serve(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), EngineError> {
        self.serve_with(listeners, shutdown, true).await
    }

    /// Serves `listeners` as [`Engine::serve`] does, the connections they
    /// accept and nothing else: no health checks and no `stats socket`
    /// (those of `listeners` are closed). For the further threads of
    /// [`Engine::nbthread`], each on its own runtime with listeners from
    /// [`Engine::bind_sibling`], while one thread runs [`Engine::serve`].
    pub async fn serve_accepting(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), EngineError> {
        self.serve_with(listeners, shutdown, false).await
    }

    async fn serve_with(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
        services: bool,
    ) -> Result<(), EngineError> {
        if listeners.owner != self.id {
            return Err(EngineError::ForeignListeners);
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let stop_note = Arc::new(Notify::new());
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        let thread = self.rt.activity.claim(services);
        let mut tokio_listeners = Vec::new();
        for l in listeners.list {
            let addr = l.local;
            let tl = TcpListener::from_std(l.socket)
                .map_err(|source| EngineError::Register { addr, source })?;
            let fe = self
                .rt
                .frontends
                .get(l.frontend)
                .cloned()
                .ok_or(EngineError::ForeignListeners)?;
            tokio_listeners.push((tl, fe, l.sharing.pause_lock()));
        }
        for (tl, fe, shared) in tokio_listeners {
            let ctx = Shared {
                rt: Arc::clone(&self.rt),
                fe,
                stop: stop_rx.clone(),
                stop_note: Arc::clone(&stop_note),
                _alive: alive_tx.clone(),
            };
            tokio::spawn(accept_loop(tl, shared, ctx, thread));
        }
        if services {
            cli_exec::spawn(&self.rt, listeners.cli, &stop_rx);
            check::spawn_all(&self.rt, &stop_rx);
        }
        drop(alive_tx);
        shutdown.await;
        let _ = stop_tx.send(true);
        // After the flag: a waiter registered later sees the flag instead.
        stop_note.notify_waiters();
        // Every accept loop and session holds a sender: recv() returns None
        // once the last of them has finished.
        while alive_rx.recv().await.is_some() {}
        Ok(())
    }
}

/// What every task of a listener shares.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) rt: Arc<Runtime>,
    pub(crate) fe: Arc<Frontend>,
    pub(crate) stop: watch::Receiver<bool>,
    /// Woken once `stop` turns true: what idle connections wait on, a
    /// smaller waiter than a watch receiver's.
    pub(crate) stop_note: Arc<Notify>,
    /// Held while the task runs; [`Engine::serve`] waits for all to drop.
    pub(crate) _alive: mpsc::Sender<()>,
}

impl Shared {
    /// Whether a soft stop was requested.
    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves to false once a soft stop is requested, to true when `poll`
    /// does (or false for its error), in the meantime holding only a stop
    /// waiter and what `poll` keeps: for idle connections, which are many.
    pub(crate) async fn until_stop(
        &self,
        mut poll: impl FnMut(&mut std::task::Context<'_>) -> std::task::Poll<bool>,
    ) -> bool {
        let mut note = std::pin::pin!(self.stop_note.notified());
        // Registered before the flag is read: a stop after the read wakes it.
        note.as_mut().enable();
        if self.stopping() {
            return false;
        }
        std::future::poll_fn(|cx| {
            if note.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(false);
            }
            poll(cx)
        })
        .await
    }

    /// Resolves when a soft stop is requested.
    pub(crate) async fn stopped(&self) {
        let mut rx = self.stop.clone();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// Permits held by an accepted connection: its place under the global and
/// the frontend `maxconn`.
#[derive(Debug)]
pub(crate) struct ConnPermits {
    _global: Option<OwnedSemaphorePermit>,
    _frontend: Option<OwnedSemaphorePermit>,
}

async fn permit(sem: Option<&Arc<tokio::sync::Semaphore>>) -> Option<OwnedSemaphorePermit> {
    match sem {
        Some(s) => Arc::clone(s).acquire_owned().await.ok(),
        None => None,
    }
}

/// The local address every connection accepted on `listener` has, when the
/// listener is bound to one address: the per-connection `getsockname` is
/// then not needed (HAProxy skips it too).
fn fixed_local(listener: &TcpListener) -> Option<std::net::SocketAddr> {
    listener
        .local_addr()
        .ok()
        .filter(|a| !a.ip().is_unspecified())
}

/// Accepts on `listener` until a soft stop; `shared` is the pause lock of
/// a socket other threads accept on too, `thread` the number the accepts
/// are counted under for `show activity`.
async fn accept_loop(
    mut listener: TcpListener,
    shared: Option<Arc<std::sync::Mutex<()>>>,
    ctx: Shared,
    thread: usize,
) {
    let mut paused = ctx.rt.listeners.subscribe();
    let mut bound = fixed_local(&listener);
    loop {
        if *paused.borrow_and_update() {
            let held = listen::hold_paused(
                listener,
                &ctx.fe.name,
                shared.as_deref(),
                &mut paused,
                ctx.stopped(),
            );
            match held.await {
                Some(l) if !ctx.stopping() => listener = l,
                _ => return,
            }
            bound = fixed_local(&listener);
            continue;
        }
        // Biased: a pause is seen before the hang-up that another thread's
        // pausing of a shared socket reports to this one's accept.
        let accepted = tokio::select! {
            biased;
            () = ctx.stopped() => return,
            () = listen::pause_changed(&mut paused) => continue,
            a = listener.accept() => a,
        };
        let (sock, src) = match accepted {
            Ok(a) => {
                ctx.rt.activity.accepted(thread);
                a
            }
            Err(e) => {
                // Out of descriptors or similar: back off briefly instead of
                // spinning; the connection stays in the backlog.
                tracing::warn!(frontend = %ctx.fe.name, error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // At maxconn the connection just accepted waits, unserved, and the
        // listener accepts no more: the next ones wait in the kernel's
        // backlog, as with HAProxy. Taking the places only once a
        // connection is there leaves none idle in the accept loops of other
        // listeners or threads, so the cap is exact whatever their number.
        let permits = tokio::select! {
            () = ctx.stopped() => return,
            p = async {
                let g = permit(ctx.rt.maxconn.as_ref()).await;
                let f = permit(ctx.fe.maxconn.as_ref()).await;
                ConnPermits { _global: g, _frontend: f }
            } => p,
        };
        let dst = match bound.map_or_else(|| sock.local_addr(), Ok) {
            Ok(d) => d,
            Err(_) => continue,
        };
        let _ = sock.set_nodelay(true);
        let ep = Endpoints { src, dst };
        let session = Session {
            _counted: [ctx.rt.counters.enter(), ctx.fe.counters.enter()],
            ctx: ctx.clone(),
            stream: None,
            accepted_at: SystemTime::now(),
            started: Instant::now(),
            ep,
            _permits: permits,
        };
        let client = ClientStream::Tcp(sock);
        match ctx.fe.mode {
            Mode::Http => {
                tokio::spawn(http::serve(session, client));
            }
            _ => {
                tokio::spawn(tcp::serve(session, client));
            }
        }
    }
}

/// One accepted client connection.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) ctx: Shared,
    /// The stream registered for `show sess` and `shutdown session`: what
    /// picks and connects to servers records them on it.
    pub(crate) stream: Option<Arc<streams::Stream>>,
    pub(crate) accepted_at: SystemTime,
    pub(crate) started: Instant,
    pub(crate) ep: Endpoints,
    pub(crate) _permits: ConnPermits,
    pub(crate) _counted: [model::CounterGuard; 2],
}

impl Session {
    /// The frontend.
    pub(crate) fn fe(&self) -> &Frontend {
        &self.ctx.fe
    }

    /// Picks the backend: the first `use_backend` whose condition holds,
    /// else `default_backend`.
    pub(crate) fn select_backend(
        &self,
        view: &dyn proxy_acl::RequestView,
    ) -> Option<Arc<model::Backend>> {
        let fe = self.fe();
        let idx = fe
            .use_backends
            .iter()
            .find(|(cond, _)| cond.as_ref().is_none_or(|c| c.evaluate(view)))
            .map(|(_, i)| *i)
            .or(fe.default_backend)?;
        self.ctx.rt.backends.get(idx).cloned()
    }

    /// Connection counters for a log line: process, frontend, backend, server.
    pub(crate) fn conns(
        &self,
        be: Option<&model::Backend>,
        server: Option<&model::Server>,
    ) -> [u32; 4] {
        [
            self.ctx.rt.counters.current(),
            self.fe().counters.current(),
            be.map_or(0, |b| b.counters.current()),
            server.map_or(0, |s| s.counters.current()),
        ]
    }
}
