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
use std::sync::{Arc, Mutex};

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::error::EngineError;
use super::model::{Runtime, lock};

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
///
/// A socket that several threads accept on (`shared`) is shut down and
/// listened on once, by the first thread to get there: a second shutdown
/// of the closed socket would mark it shut for reading, and every
/// connection accepted after resuming would inherit the mark: a read
/// before the client's first bytes arrive would find the end of input.
pub(crate) async fn hold_paused(
    listener: TcpListener,
    name: &str,
    shared: Option<&Mutex<()>>,
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
    {
        let _once = shared.map(lock);
        let sock = SockRef::from(&socket);
        if (shared.is_none() || sock.is_listener().unwrap_or(true))
            && let Err(e) = sock.shutdown(Shutdown::Read)
        {
            tracing::warn!(frontend = %name, error = %e, "cannot pause the listener");
        }
    }
    tokio::pin!(stop);
    while *paused.borrow_and_update() {
        tokio::select! {
            () = &mut stop => return None,
            () = pause_changed(paused) => {}
        }
    }
    {
        let _once = shared.map(lock);
        let sock = SockRef::from(&socket);
        if (shared.is_none() || !sock.is_listener().unwrap_or(false))
            && let Err(e) = sock.listen(BACKLOG)
        {
            tracing::warn!(frontend = %name, error = %e, "cannot resume the listener");
        }
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
    /// accepts on a duplicate of the one socket. The lock, shared by the
    /// duplicates, makes pausing and resuming happen once.
    Duplicate(Arc<Mutex<()>>),
}

impl Sharing {
    /// A socket to be shared among threads.
    pub(crate) fn duplicate() -> Sharing {
        Sharing::Duplicate(Arc::new(Mutex::new(())))
    }

    /// The lock that pausing and resuming take, for a shared socket.
    pub(crate) fn pause_lock(&self) -> Option<Arc<Mutex<()>>> {
        match self {
            Sharing::Rebind { .. } => None,
            Sharing::Duplicate(once) => Some(Arc::clone(once)),
        }
    }
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
                Some(fd) => (inherit(fd), Sharing::duplicate()),
                None if reuse_port => (
                    bind_one(b.addr, b.v6only, true),
                    Sharing::Rebind {
                        v6only: b.v6only,
                        at: b.at.clone(),
                    },
                ),
                None => (bind_one(b.addr, b.v6only, false), Sharing::duplicate()),
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
            Sharing::Duplicate(_) => {
                l.socket
                    .try_clone()
                    .map_err(|source| EngineError::Register {
                        addr: l.local,
                        source,
                    })?
            }
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

    /// Regression: with `-dR` both threads paused the one socket, the
    /// second shutdown marked it shut for reading, and connections
    /// accepted after resuming read the end of input before their bytes.
    #[tokio::test(flavor = "current_thread")]
    async fn a_shared_socket_paused_and_resumed_by_two_threads_still_reads() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // An explicit port, as `-dR` listeners have: one bound to port 0
        // gives its port back when paused. Free a moment ago; retried if
        // taken meanwhile.
        let socket = (0..20)
            .find_map(|_| {
                let free = StdListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?;
                bind_one(free, false, false).ok()
            })
            .unwrap();
        let first = one(socket, Sharing::duplicate());
        let sibling = bind_sibling(&first).unwrap();
        let (switch, _) = watch::channel(true);
        let mut held = Vec::new();
        for set in [first, sibling] {
            let bound = set.list.into_iter().next().unwrap();
            let listener = TcpListener::from_std(bound.socket).unwrap();
            let shared = bound.sharing.pause_lock();
            let mut paused = switch.subscribe();
            held.push(tokio::spawn(async move {
                let stop = std::future::pending::<()>();
                hold_paused(listener, "fe", shared.as_deref(), &mut paused, stop).await
            }));
        }
        // Both tasks run (and pause) while this one yields.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        switch.send_replace(false);
        let mut listeners = Vec::new();
        for h in held {
            listeners.push(h.await.unwrap().unwrap());
        }
        let local = listeners[0].local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(local).await.unwrap();
        let (mut conn, _) = listeners[1].accept().await.unwrap();
        // Nothing sent yet: nothing to read, and not the end of input.
        let mut got = [0u8; 3];
        let early = conn.try_read(&mut got);
        assert!(
            matches!(&early, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{early:?}"
        );
        client.write_all(b"GET").await.unwrap();
        conn.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"GET");
    }

    #[test]
    fn a_listener_without_reuseport_is_shared_by_its_siblings() {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let first = one(bind_one(addr, false, false).unwrap(), Sharing::duplicate());
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
