//! Listening sockets: bound with socket2 before the runtime serves, so that a
//! binary can bind privileged ports, drop privileges, then serve; and so that
//! sockets inherited from a previous process (seamless reload) can be handed
//! in through [`Engine::adopt`](super::Engine::adopt) instead.
//!
//! Listeners are bound with `SO_REUSEPORT` unless told otherwise, as
//! HAProxy's are, so that a new process binds beside the old one and takes
//! over without a moment where connections are refused. They can be paused
//! and resumed (HAProxy's SIGTTOU and SIGTTIN): a paused listener stops
//! listening on its bound port, leaving it to the other sockets on it. (A
//! listener bound to port 0 gives its port back to the kernel when paused
//! and listens on another when resumed.)
//!
//! With `nbthread` above 1 every thread accepts on its own sockets:
//! [`bind_sibling`] binds, for each listener, another `SO_REUSEPORT`
//! socket on the same address, so that the kernel spreads connections
//! among the threads; a socket inherited (`fd@N`) or bound without
//! `SO_REUSEPORT` (`-dR`) is shared as a duplicated descriptor instead.

use std::net::{Shutdown, SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::error::EngineError;
use super::model::Runtime;

/// Listener settings and the pause switch shared by every accept loop.
#[derive(Debug)]
pub(crate) struct ListenerControl {
    /// Bind with `SO_REUSEPORT` (HAProxy's default; `-dR` turns it off).
    reuse_port: AtomicBool,
    /// True while the listeners are paused.
    paused: watch::Sender<bool>,
}

impl Default for ListenerControl {
    fn default() -> ListenerControl {
        ListenerControl {
            reuse_port: AtomicBool::new(true),
            paused: watch::Sender::new(false),
        }
    }
}

impl ListenerControl {
    /// Whether later binds use `SO_REUSEPORT`.
    pub(crate) fn set_reuse_port(&self, on: bool) {
        self.reuse_port.store(on, Ordering::Relaxed);
    }

    /// Pauses (`true`) or resumes (`false`) every listener; returns whether
    /// this changed anything.
    pub(crate) fn set_paused(&self, paused: bool) -> bool {
        self.paused
            .send_if_modified(|p| std::mem::replace(p, paused) != paused)
    }

    /// Whether the listeners are paused.
    pub(crate) fn paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// A receiver of the pause switch, for an accept loop.
    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.paused.subscribe()
    }
}

/// Resolves when the pause switch changes; never if its sender is gone
/// (it lives as long as the runtime, so this cannot happen while serving).
pub(crate) async fn pause_changed(rx: &mut watch::Receiver<bool>) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Keeps `listener` paused until the switch turns off, and gives it back
/// listening again (or `None` when it could not be registered again).
///
/// The socket stops listening (Linux turns a listening socket shut down for
/// reading back into a bound, closed one; connections waiting in its backlog
/// are reset, as with HAProxy), then listens again. It leaves the reactor
/// meanwhile, so that the hang-up the shutdown reports does not stay in its
/// readiness. Returns early, still paused, when `stop` resolves.
pub(crate) async fn hold_paused(
    listener: TcpListener,
    name: &str,
    paused: &mut watch::Receiver<bool>,
    stop: impl std::future::Future<Output = ()>,
) -> Option<TcpListener> {
    let socket = match listener.into_std() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(frontend = %name, error = %e, "cannot pause the listener");
            return None;
        }
    };
    match SockRef::from(&socket).shutdown(Shutdown::Read) {
        // A socket shared by several threads: another one paused it first.
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOTCONN.raw_os_error()) => {}
        Err(e) => tracing::warn!(frontend = %name, error = %e, "cannot pause the listener"),
        Ok(()) => {}
    }
    tokio::pin!(stop);
    while *paused.borrow_and_update() {
        tokio::select! {
            () = &mut stop => return None,
            () = pause_changed(paused) => {}
        }
    }
    if let Err(e) = SockRef::from(&socket).listen(BACKLOG) {
        tracing::warn!(frontend = %name, error = %e, "cannot resume the listener");
    }
    match TcpListener::from_std(socket) {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(frontend = %name, error = %e, "cannot resume the listener");
            None
        }
    }
}

/// HAProxy's default listen backlog when neither `backlog` nor `maxconn` says otherwise.
const BACKLOG: i32 = 1024;

/// How another thread gets its own socket for a listener.
#[derive(Debug, Clone)]
pub(crate) enum Sharing {
    /// Bound here with `SO_REUSEPORT`: a new socket binds beside it.
    Rebind {
        /// `v6only`, as the first socket was bound.
        v6only: bool,
        /// The `bind` line, for errors.
        at: String,
    },
    /// Inherited, adopted or bound without `SO_REUSEPORT`: every thread
    /// accepts on a duplicate of the one socket.
    Duplicate,
}

/// One bound listening socket, with the frontend it belongs to.
#[derive(Debug)]
pub(crate) struct BoundListener {
    /// Index of the frontend in the engine.
    pub(crate) frontend: usize,
    /// The frontend's name.
    pub(crate) frontend_name: String,
    /// The socket, non-blocking, already listening.
    pub(crate) socket: StdListener,
    /// The address actually bound (the real port when 0 was asked).
    pub(crate) local: SocketAddr,
    /// How another thread gets a socket for the same address.
    pub(crate) sharing: Sharing,
}

/// Every listening socket of an engine, bound and not yet served.
#[derive(Debug)]
pub struct Listeners {
    pub(crate) list: Vec<BoundListener>,
    /// Identity of the engine they were bound for.
    pub(crate) owner: usize,
    /// The `stats socket`s.
    pub(crate) cli: Vec<super::cli_exec::CliListener>,
}

impl Listeners {
    /// The bound addresses as `(frontend name, address)`, in declaration order.
    pub fn local_addrs(&self) -> Vec<(String, SocketAddr)> {
        self.list
            .iter()
            .map(|l| (l.frontend_name.clone(), l.local))
            .collect()
    }

    /// The bound address of the first listener of `frontend`.
    pub fn local_addr(&self, frontend: &str) -> Option<SocketAddr> {
        self.list
            .iter()
            .find(|l| l.frontend_name == frontend)
            .map(|l| l.local)
    }

    /// The raw sockets, e.g. to pass them to a new process on reload.
    pub fn sockets(&self) -> impl Iterator<Item = (&str, &StdListener)> {
        self.list
            .iter()
            .map(|l| (l.frontend_name.as_str(), &l.socket))
    }
}

/// Binds every `bind` address of every frontend of `rt`.
pub(crate) fn bind_all(rt: &Runtime, owner: usize) -> Result<Listeners, EngineError> {
    let mut list = Vec::new();
    for (i, fe) in rt.frontends.iter().enumerate() {
        for b in &fe.binds {
            let reuse_port = rt.listeners.reuse_port.load(Ordering::Relaxed);
            let (socket, sharing) = match b.fd {
                Some(fd) => (inherit(fd), Sharing::Duplicate),
                None if reuse_port => (
                    bind_one(b.addr, b.v6only, true),
                    Sharing::Rebind {
                        v6only: b.v6only,
                        at: b.at.clone(),
                    },
                ),
                None => (bind_one(b.addr, b.v6only, false), Sharing::Duplicate),
            };
            let socket = socket.map_err(|source| EngineError::Bind {
                at: b.at.clone(),
                frontend: fe.name.clone(),
                addr: b.addr,
                source,
            })?;
            let local = socket.local_addr().unwrap_or(b.addr);
            list.push(BoundListener {
                frontend: i,
                frontend_name: fe.name.clone(),
                socket,
                local,
                sharing,
            });
        }
    }
    let cli = super::cli_exec::bind(rt)?;
    Ok(Listeners { list, owner, cli })
}

/// Listeners for one more thread, beside those of `first`: a new
/// `SO_REUSEPORT` socket on the address each was bound to (its real port
/// when port 0 was asked), or a duplicate of the socket itself (see
/// [`Sharing`]). The `stats socket`s stay with `first`.
pub(crate) fn bind_sibling(first: &Listeners) -> Result<Listeners, EngineError> {
    let mut list = Vec::with_capacity(first.list.len());
    for l in &first.list {
        let socket = match &l.sharing {
            Sharing::Rebind { v6only, at } => {
                bind_one(l.local, *v6only, true).map_err(|source| EngineError::Bind {
                    at: at.clone(),
                    frontend: l.frontend_name.clone(),
                    addr: l.local,
                    source,
                })?
            }
            Sharing::Duplicate => l
                .socket
                .try_clone()
                .map_err(|source| EngineError::Register {
                    addr: l.local,
                    source,
                })?,
        };
        list.push(BoundListener {
            frontend: l.frontend,
            frontend_name: l.frontend_name.clone(),
            socket,
            local: l.local,
            sharing: l.sharing.clone(),
        });
    }
    Ok(Listeners {
        list,
        owner: first.owner,
        cli: Vec::new(),
    })
}

/// Adopts the inherited descriptor `fd` (`bind fd@N`) as a listener.
///
/// Turning a bare descriptor number into an owned socket is `unsafe` in
/// Rust's standard library, and this crate forbids `unsafe`. Instead the
/// kernel duplicates it for us: `pidfd_getfd` on our own process (Linux
/// 5.6 or later) returns a new, owned descriptor for the same socket,
/// through rustix's safe wrapper. Descriptor `fd` itself stays open, owned
/// by nobody, as the process received it.
fn inherit(fd: u32) -> std::io::Result<StdListener> {
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned());
    let raw = i32::try_from(fd).map_err(|_| bad("no such file descriptor"))?;
    let me = pidfd_open(getpid(), PidfdFlags::empty())?;
    let socket = Socket::from(pidfd_getfd(&me, raw, PidfdGetfdFlags::empty())?);
    if socket.r#type()? != Type::STREAM {
        return Err(bad("not a stream socket"));
    }
    if socket.local_addr()?.as_socket().is_none() {
        return Err(bad("not an IPv4 or IPv6 socket"));
    }
    socket.set_cloexec(true)?;
    socket.set_nonblocking(true)?;
    // As HAProxy does: listen even if the parent did already (this only
    // sets the backlog again).
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

fn bind_one(addr: SocketAddr, v6only: bool, reuse_port: bool) -> std::io::Result<StdListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Restarting right after a stop must not fail on sockets in TIME_WAIT.
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        // `bind :::80` serves IPv4 too unless `v6only` is given, as in HAProxy.
        socket.set_only_v6(v6only)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use super::*;

    fn one(socket: StdListener, sharing: Sharing) -> Listeners {
        let local = socket.local_addr().unwrap();
        Listeners {
            list: vec![BoundListener {
                frontend: 0,
                frontend_name: "fe".to_owned(),
                socket,
                local,
                sharing,
            }],
            owner: 7,
            cli: Vec::new(),
        }
    }

    /// The socket's identity (`socket:[inode]`).
    fn inode(listener: &StdListener) -> std::path::PathBuf {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap()
    }

    /// Accepts one connection on a non-blocking listener, waiting at most
    /// a few seconds for it.
    fn accept_within(listener: &StdListener) -> std::io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match listener.accept() {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e),
            }
        }
    }

    #[test]
    fn a_sibling_binds_beside_a_reuseport_listener_on_its_real_port() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let first = one(
            bind_one(addr, false, true).unwrap(),
            Sharing::Rebind {
                v6only: false,
                at: "t.cfg:3".to_owned(),
            },
        );
        let sibling = bind_sibling(&first).unwrap();
        let (a, b) = (&first.list[0], &sibling.list[0]);
        assert_eq!(b.socket.local_addr().unwrap(), a.local);
        assert_eq!((sibling.owner, b.frontend_name.as_str()), (7, "fe"));
        assert_ne!(inode(&a.socket), inode(&b.socket));
        drop(first);
        let _client = TcpStream::connect(b.local).unwrap();
        accept_within(&b.socket).unwrap();
    }

    #[test]
    fn a_listener_without_reuseport_is_shared_by_its_siblings() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let first = one(bind_one(addr, false, false).unwrap(), Sharing::Duplicate);
        let sibling = bind_sibling(&first).unwrap();
        let local = first.list[0].local;
        assert_eq!(inode(&first.list[0].socket), inode(&sibling.list[0].socket));
        // A connection is accepted through either.
        let _client = TcpStream::connect(local).unwrap();
        accept_within(&sibling.list[0].socket).unwrap();
        let _client = TcpStream::connect(local).unwrap();
        accept_within(&first.list[0].socket).unwrap();
        // A fresh bind of the address still fails: nothing new was bound.
        assert!(bind_one(local, false, false).is_err());
    }
}
