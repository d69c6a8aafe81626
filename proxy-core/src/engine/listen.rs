//! Listening sockets: bound with socket2 before the runtime serves, so that a
//! binary can bind privileged ports, drop privileges, then serve; and so that
//! sockets inherited from a previous process (seamless reload) can be handed
//! in through [`Engine::adopt`](super::Engine::adopt) instead.

use std::net::{SocketAddr, TcpListener as StdListener};

use socket2::{Domain, Protocol, Socket, Type};

use super::error::EngineError;
use super::model::Runtime;

/// HAProxy's default listen backlog when neither `backlog` nor `maxconn` says otherwise.
const BACKLOG: i32 = 1024;

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
            let socket = bind_one(b.addr, b.v6only).map_err(|source| EngineError::Bind {
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
            });
        }
    }
    let cli = super::cli_exec::bind(rt)?;
    Ok(Listeners { list, owner, cli })
}

fn bind_one(addr: SocketAddr, v6only: bool) -> std::io::Result<StdListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // Restarting right after a stop must not fail on sockets in TIME_WAIT.
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // `bind :::80` serves IPv4 too unless `v6only` is given, as in HAProxy.
        socket.set_only_v6(v6only)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}
