//! The tokio engine of haproxyd: listeners, the accept loop with `maxconn`,
//! and the TCP and HTTP/1.1 sessions that route and forward traffic.
//!
//! A [`Config`] is compiled once by [`Engine::build`] into a runtime model
//! (frontends with compiled ACLs and `use_backend` rules, backends with a
//! balancer and live server counters). The binary then binds with
//! [`Engine::bind`] (or adopts inherited sockets with [`Engine::adopt`]),
//! drops privileges, creates a multi-thread runtime with
//! [`Engine::nbthread`] workers and runs [`Engine::serve`] on it.
//!
//! ```no_run
//! # fn run(config: &proxy_config::Config) -> Result<(), Box<dyn std::error::Error>> {
//! use proxy_core::engine::Engine;
//! let engine = Engine::build(config)?;
//! for w in engine.warnings() {
//!     eprintln!("[WARNING] {w}");
//! }
//! let listeners = engine.bind()?;
//! // ... chroot, setgid, setuid here ...
//! let runtime = tokio::runtime::Builder::new_multi_thread()
//!     .worker_threads(engine.nbthread())
//!     .enable_all()
//!     .build()?;
//! runtime.block_on(engine.serve(listeners, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! }))?;
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

mod auth;
mod check;
mod cli_exec;
mod connect;
mod cookie;
mod error;
mod errors;
mod http;
mod listen;
mod logging;
mod model;
mod rules;
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
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

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

    /// Worker threads to run the engine on (`nbthread`, else one per CPU).
    pub fn nbthread(&self) -> usize {
        self.rt.nbthread
    }

    /// Binds every `bind` address. Needs no runtime, so it can run before
    /// privileges are dropped and before the runtime is created.
    pub fn bind(&self) -> Result<Listeners, EngineError> {
        listen::bind_all(&self.rt, self.id)
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
    pub async fn serve(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), EngineError> {
        if listeners.owner != self.id {
            return Err(EngineError::ForeignListeners);
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
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
            tokio_listeners.push((tl, fe));
        }
        for (tl, fe) in tokio_listeners {
            let ctx = Shared {
                rt: Arc::clone(&self.rt),
                fe,
                stop: stop_rx.clone(),
                _alive: alive_tx.clone(),
            };
            tokio::spawn(accept_loop(tl, ctx));
        }
        cli_exec::spawn(&self.rt, listeners.cli, &stop_rx);
        check::spawn_all(&self.rt, &stop_rx);
        drop(alive_tx);
        shutdown.await;
        let _ = stop_tx.send(true);
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
    /// Held while the task runs; [`Engine::serve`] waits for all to drop.
    pub(crate) _alive: mpsc::Sender<()>,
}

impl Shared {
    /// Whether a soft stop was requested.
    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow()
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

async fn accept_loop(mut listener: TcpListener, ctx: Shared) {
    let mut paused = ctx.rt.listeners.subscribe();
    let mut bound = fixed_local(&listener);
    loop {
        if *paused.borrow_and_update() {
            let held = listen::hold_paused(listener, &ctx.fe.name, &mut paused, ctx.stopped());
            match held.await {
                Some(l) if !ctx.stopping() => listener = l,
                _ => return,
            }
            bound = fixed_local(&listener);
            continue;
        }
        // At maxconn the listener stops accepting, as HAProxy's does: new
        // connections wait in the kernel's backlog.
        let permits = tokio::select! {
            () = ctx.stopped() => return,
            () = listen::pause_changed(&mut paused) => continue,
            p = async {
                let g = permit(ctx.rt.maxconn.as_ref()).await;
                let f = permit(ctx.fe.maxconn.as_ref()).await;
                ConnPermits { _global: g, _frontend: f }
            } => p,
        };
        let accepted = tokio::select! {
            () = ctx.stopped() => return,
            () = listen::pause_changed(&mut paused) => continue,
            a = listener.accept() => a,
        };
        let (sock, src) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors or similar: back off briefly instead of
                // spinning; the connection stays in the backlog.
                tracing::warn!(frontend = %ctx.fe.name, error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
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
