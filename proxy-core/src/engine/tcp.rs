//! `mode tcp` sessions: pick a backend from the connection's addresses,
//! connect to a server, forward both ways until either side is done, and
//! log one `option tcplog` line.

use std::net::SocketAddr;
use std::time::Duration;

use proxy_acl::RequestView;

use super::connect::{self, KeyOwned};
use super::model::{Backend, Server};
use super::stream::ClientStream;
use super::streams::Killable;
use super::tunnel::{self, TunnelEnd};
use super::{Endpoints, Session};
use crate::log::httplog::{StreamLog, Timers};

/// What ACLs see of a TCP connection: its addresses and nothing of layer 7.
pub(crate) struct ConnView(pub(crate) Endpoints);

impl RequestView for ConnView {
    fn method(&self) -> &str {
        ""
    }
    fn url(&self) -> &str {
        ""
    }
    fn version(&self) -> &str {
        ""
    }
    fn header_at(&self, _index: usize) -> Option<(&str, &str)> {
        None
    }
    fn src(&self) -> Option<SocketAddr> {
        Some(self.0.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.0.dst)
    }
}

/// The smaller of two optional timeouts (`None` is infinite).
pub(crate) fn min_timeout(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs one TCP-mode session to its end, registered as a live stream.
///
/// Not an `async fn`, as `http::serve`: the session is laid out once.
pub(crate) fn serve(mut session: Session, mut client: ClientStream) -> impl Future<Output = ()> {
    let rt = super::streams::Streams(std::sync::Arc::clone(&session.ctx.rt));
    let stream = super::streams::register_client(
        &session,
        client.fd(),
        (session.started, session.accepted_at),
    );
    session.stream = Some(std::sync::Arc::clone(&stream));
    stream.run(rt, async move { serve_stream(&session, &mut client).await })
}

/// The session itself, on what `serve` captured once.
async fn serve_stream(session: &Session, client: &mut ClientStream) {
    let fe_name = session.fe().name.clone();
    let Some(be) = session.select_backend(&ConnView(session.ep)) else {
        log(
            session,
            &fe_name,
            None,
            None,
            Timers::default(),
            (0, 0),
            *b"PR",
            (0, false),
            Emit::Final { null: true },
        );
        return;
    };
    // Counted in the backend (`%bc`) until the log line, which, as
    // HAProxy's, counts neither the backend nor the server it leaves.
    let be_counted = be.counters.enter();
    let key = KeyOwned {
        client: Some(session.ep.src.ip()),
        ..KeyOwned::default()
    };
    let c = match connect::connect(&be, &key, session.ep.dst, false, session.stream.as_ref()).await
    {
        Ok(c) => c,
        Err(fail) => {
            drop(be_counted);
            // The last server tried is logged, with its retries, as HAProxy
            // logs it.
            let (server, retries) = match fail {
                connect::ConnectFail::Exhausted { server, retries } => {
                    (be.servers.get(server), retries)
                }
                _ => (None, (0, false)),
            };
            let timers = Timers {
                queue: server.map(|_| ms(session.started.elapsed())),
                connect: None,
                total: Some(ms(session.started.elapsed())),
                handshake: Some(0),
                ..Timers::default()
            };
            log(
                session,
                &fe_name,
                Some(&be),
                server,
                timers,
                (0, 0),
                fail.termination(),
                retries,
                Emit::Final { null: false },
            );
            return;
        }
    };
    let mut server_stream = c.stream;
    let server = be.servers.get(c.slot.server);
    // `option logasap`: the line leaves once connected, counting this
    // stream in the backend and server, with no bytes yet, as HAProxy's.
    let early = session.fe().logasap;
    if early {
        let timers = Timers {
            queue: Some(ms(c.queue_time)),
            connect: Some(ms(c.connect_time)),
            total: Some(ms(session.started.elapsed())),
            handshake: Some(0),
            ..Timers::default()
        };
        log(
            session,
            &fe_name,
            Some(&be),
            server,
            timers,
            (0, 0),
            *b"--",
            (c.retries, c.redispatched),
            Emit::Early,
        );
    }
    // Once connected, `timeout tunnel` replaces the client and server ones.
    let idle = be
        .timeout_tunnel
        .or_else(|| min_timeout(session.fe().timeout_client, be.timeout_server));
    // A shutdown (`shutdown session`) fails the client side: the tunnel
    // ends with what it forwarded, logged with `K`, as HAProxy's.
    let me = session.stream.clone();
    let _handling = me.as_ref().map(|s| s.handling());
    let stats = {
        let mut client = Killable::new(&mut *client, me.clone());
        tunnel::run(&mut client, &mut server_stream, idle).await
    };
    let termination = match stats.end {
        _ if me.as_ref().is_some_and(|s| s.is_killed()) => *b"K-",
        TunnelEnd::Closed => *b"--",
        TunnelEnd::Timeout => *b"cD",
        TunnelEnd::ClientError => *b"CD",
        TunnelEnd::ServerError => *b"SD",
    };
    let timers = Timers {
        request: None,
        queue: Some(ms(c.queue_time)),
        connect: Some(ms(c.connect_time)),
        response: None,
        total: Some(ms(session.started.elapsed())),
        idle: None,
        handshake: Some(0),
    };
    let null = stats.to_server == 0 && stats.to_client == 0;
    drop(c.slot);
    drop(be_counted);
    log(
        session,
        &fe_name,
        Some(&be),
        server,
        timers,
        (stats.to_client, stats.to_server),
        termination,
        (c.retries, c.redispatched),
        if early {
            Emit::Counted
        } else {
            Emit::Final { null }
        },
    );
}

/// What [`log`] does with a session's outcome.
#[derive(Clone, Copy)]
enum Emit {
    /// Count it in the statistics and send its line (`null`: nothing was
    /// exchanged, which `option dontlognull` does not log).
    Final { null: bool },
    /// Send the early line of `option logasap` only.
    Early,
    /// Count it only: its line left early.
    Counted,
}

#[allow(clippy::too_many_arguments)]
fn log(
    session: &Session,
    fe_name: &str,
    be: Option<&Backend>,
    server: Option<&Server>,
    timers: Timers,
    (bytes, bytes_in): (u64, u64),
    termination: [u8; 2],
    retries: (u32, bool),
    emit: Emit,
) {
    let fe = session.fe();
    if !matches!(emit, Emit::Early) {
        super::stats_view::account(
            fe,
            be,
            server,
            &super::stats_view::Outcome {
                status: 0,
                bytes_out: bytes,
                bytes_in: 0,
                termination,
                retries,
                http: false,
            },
        );
    }
    let null = match emit {
        Emit::Final { null } => null,
        Emit::Early => false,
        Emit::Counted => return,
    };
    if !fe.logger.enabled() || (null && fe.dontlognull) {
        return;
    }
    let l = StreamLog {
        client: session.ep.src,
        date: session.accepted_at,
        accept_date: session.accepted_at,
        frontend: fe_name,
        frontend_tls: false,
        frontend_addr: Some(session.ep.dst),
        backend: be.map_or(fe_name, |b| b.name.as_str()),
        server: server.map(|s| s.name.as_str()),
        server_addr: server.map(|s| s.addr(session.ep.dst)),
        timers,
        status: 0,
        bytes,
        bytes_in,
        logasap: matches!(emit, Emit::Early),
        cookies: (None, None),
        termination: [termination[0], termination[1], b'-', b'-'],
        conns: session.conns(be, server),
        retries,
        queues: (0, 0),
        request_captures: &[],
        response_captures: &[],
        request_line: "",
    };
    fe.logger.traffic(&l, || {
        format!(
            "Connect from {} to {} ({}/TCP)",
            session.ep.src, session.ep.dst, fe_name
        )
    });
}
