//! The connection layer: what the engine reads and writes on each side.
//!
//! Client and server connections are enums over transports. Today both are
//! plain TCP; TLS (a rustls stream wrapping the TCP one), unix sockets and
//! streams whose first bytes carried a PROXY protocol header become new
//! variants or wrappers here, and the forwarding code above, which only sees
//! `AsyncRead + AsyncWrite` plus the [`Endpoints`], does not change. HTTP/2
//! would sit above this layer, as another session type next to HTTP/1.1.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The addresses of one client connection as the proxy sees them.
///
/// With the PROXY protocol these become the addresses the header announces;
/// the transport's own addresses stay available for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The client's address.
    pub src: SocketAddr,
    /// The local address the connection arrived on.
    pub dst: SocketAddr,
}

/// An accepted client connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// Plain TCP.
    Tcp(TcpStream),
}

impl ClientStream {
    /// Whether the transport is TLS (for logs and the `ssl_fc` fetch).
    pub fn is_tls(&self) -> bool {
        match self {
            ClientStream::Tcp(_) => false,
        }
    }

    /// The connection's descriptor (shown by `show sess`).
    pub(crate) fn fd(&self) -> i32 {
        match self {
            ClientStream::Tcp(s) => s.as_raw_fd(),
        }
    }

    /// Splits the connection into halves that can be used at the same
    /// time, one per direction. Unlike `tokio::io::split`, the TCP halves
    /// take no lock on each read and write, and the reading half can wait
    /// for input without a buffer ([`ClientReader::readable`]).
    pub(crate) fn into_split(self) -> (ClientReader, ClientWriter) {
        match self {
            ClientStream::Tcp(s) => {
                let (r, w) = s.into_split();
                (ClientReader::Tcp(r), ClientWriter::Tcp(w))
            }
        }
    }
}

/// The reading half of a client connection.
#[derive(Debug)]
pub(crate) enum ClientReader {
    /// Plain TCP.
    Tcp(OwnedReadHalf),
}

impl ClientReader {
    /// The connection's descriptor (shown by `show sess`).
    pub(crate) fn fd(&self) -> i32 {
        match self {
            ClientReader::Tcp(s) => s.as_ref().as_raw_fd(),
        }
    }

    /// Ready once bytes (or the end of input, or an error) wait to be read,
    /// without reading them, so that an idle connection needs no buffer.
    /// May be ready on stale readiness: the read that follows can still
    /// have to wait. Keeps no state of its own: the waker waits in the
    /// socket's registration.
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            ClientReader::Tcp(s) => s.as_ref().poll_read_ready(cx),
        }
    }
}

/// The writing half of a client connection. Dropped without a shutdown,
/// it shuts the connection down for writing, as closing it would.
#[derive(Debug)]
pub(crate) enum ClientWriter {
    /// Plain TCP.
    Tcp(OwnedWriteHalf),
}

/// A connection to a server.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerStream {
    /// Plain TCP.
    Tcp(TcpStream),
}

impl ServerStream {
    /// Connects to `addr`.
    ///
    /// The outcome is read from the readiness the connection reports, as
    /// HAProxy does: writable without an error is connected, and only a
    /// failure asks the socket for its error (`tokio::net::TcpStream::connect`
    /// asks after every connection, one system call more per request when
    /// each request opens a server connection).
    pub(crate) async fn connect(addr: SocketAddr) -> io::Result<ServerStream> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking(),
            Some(Protocol::TCP),
        )?;
        // Heads and small bodies leave at once rather than after the peer's
        // delayed ACK.
        socket.set_tcp_nodelay(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
            Err(e) => return Err(e),
        }
        let s = TcpStream::from_std(std::net::TcpStream::from(socket))?;
        let ready = s.ready(Interest::WRITABLE | Interest::ERROR).await?;
        if ready.is_error() || ready.is_write_closed() {
            return Err(s.take_error()?.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::ConnectionRefused, "connection failed")
            }));
        }
        Ok(ServerStream::Tcp(s))
    }

    /// Splits the connection into halves that can be used at the same
    /// time, one per direction, without a lock on each read and write (as
    /// [`ClientStream::into_split`]); [`ServerReader::reunite`] joins them
    /// again to pool the connection.
    pub(crate) fn into_split(self) -> (ServerReader, ServerWriter) {
        match self {
            ServerStream::Tcp(s) => {
                let (r, w) = s.into_split();
                (ServerReader::Tcp(r), ServerWriter(Some(w)))
            }
        }
    }

    /// Closes the connection with a reset rather than a FIN, as HAProxy
    /// closes a server connection it ends first: the proxy's side then keeps
    /// no TIME_WAIT socket, which under a connection per request would pile
    /// up by the ten thousand and slow every later `connect` down. Only for
    /// a connection with nothing left to deliver (a finished exchange, an
    /// idle one).
    pub(crate) fn reset(self) {
        match &self {
            ServerStream::Tcp(s) => set_no_linger(s),
        }
    }

    /// Whether an idle pooled connection is still usable: not closed by the
    /// server and without unexpected bytes waiting.
    pub(crate) fn is_reusable(&self) -> bool {
        let mut b = [0u8; 1];
        match self {
            ServerStream::Tcp(s) => match s.try_read(&mut b) {
                Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                Ok(_) => false,
            },
        }
    }
}

/// `SO_LINGER` on with a zero delay: the close that follows sends a reset.
pub(crate) fn set_no_linger(s: &TcpStream) {
    // Best effort: a failure leaves the usual close.
    let _ = socket2::SockRef::from(s).set_linger(Some(std::time::Duration::ZERO));
}

/// The reading half of a server connection.
#[derive(Debug)]
pub(crate) enum ServerReader {
    /// Plain TCP.
    Tcp(OwnedReadHalf),
}

impl ServerReader {
    /// Makes the connection close with a reset once both halves are
    /// dropped (see [`ServerStream::reset`]).
    pub(crate) fn reset_on_close(&self) {
        match self {
            ServerReader::Tcp(r) => set_no_linger(r.as_ref()),
        }
    }

    /// The whole connection again; `None` if `w` is the half of another one
    /// (then both are dropped).
    pub(crate) fn reunite(self, mut w: ServerWriter) -> Option<ServerStream> {
        match (self, w.0.take()) {
            (ServerReader::Tcp(r), Some(w)) => r.reunite(w).ok().map(ServerStream::Tcp),
            (ServerReader::Tcp(_), None) => None,
        }
    }
}

/// The writing half of a server connection. Unlike a bare tokio half,
/// dropping it sends nothing: the connection closes (once, with no
/// separate shutdown) when its reading half goes too.
#[derive(Debug)]
pub(crate) struct ServerWriter(Option<OwnedWriteHalf>);

impl Drop for ServerWriter {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            w.forget();
        }
    }
}

impl AsyncWrite for ServerWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            Some(w) => Pin::new(w).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            Some(w) => Pin::new(w).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.0.as_ref().is_some_and(|w| w.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Some(w) => Pin::new(w).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Some(w) => Pin::new(w).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

macro_rules! delegate_read {
    ($t:ident) => {
        impl AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $t::Tcp(s) => Pin::new(s).poll_read(cx, buf),
                }
            }
        }
    };
}

macro_rules! delegate_write {
    ($t:ident) => {
        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    $t::Tcp(s) => Pin::new(s).poll_write(cx, buf),
                }
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $t::Tcp(s) => Pin::new(s).poll_flush(cx),
                }
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                match self.get_mut() {
                    $t::Tcp(s) => Pin::new(s).poll_shutdown(cx),
                }
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                match self.get_mut() {
                    $t::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
                }
            }

            fn is_write_vectored(&self) -> bool {
                match self {
                    $t::Tcp(s) => s.is_write_vectored(),
                }
            }
        }
    };
}

delegate_read!(ClientStream);
delegate_write!(ClientStream);
delegate_read!(ServerStream);
delegate_write!(ServerStream);
delegate_read!(ClientReader);
delegate_read!(ServerReader);
delegate_write!(ClientWriter);
