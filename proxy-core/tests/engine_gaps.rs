//! Engine behaviours pinned one test each: header rewrites in place,
//! listeners shared with `SO_REUSEPORT`, paused and resumed, adopted from a
//! descriptor, `http_auth` and `http-request auth`, what is replayed after a
//! failed send, slow start and frontend `maxconn`.
//!
//! Backends are small tokio servers answering with their name followed by
//! the raw head they received, so tests can look at field order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proxy_config::{BindAddress, Config};
use proxy_core::engine::{Engine, EngineError, EngineHandle, Listeners};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Upper bound on any single wait, so a broken engine fails a test instead
/// of hanging it. Never asserted on.
const GUARD: Duration = Duration::from_secs(10);

const DEFAULTS: &str = "defaults\n    mode http\n    timeout connect 2s\n    \
                        timeout client 5s\n    timeout server 5s\n";

// ---------------------------------------------------------------------------
// Backends and clients
// ---------------------------------------------------------------------------

/// What a test backend does with a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Answers with its name and the raw request head.
    Echo,
    /// Reads the request head, then closes without answering.
    CloseAfterHead,
    /// Holds each answer until this many requests are in progress at once,
    /// or half a second has passed.
    Gate(usize),
}

/// A running test backend.
struct Backend {
    addr: SocketAddr,
    /// Requests whose head was received.
    requests: Arc<AtomicUsize>,
    /// Most requests in progress at once.
    peak: Arc<AtomicUsize>,
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Starts a backend called `name`, on `listener` if given.
async fn backend_on(name: &'static str, behaviour: Behaviour, l: TcpListener) -> Backend {
    let addr = l.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let peak = Arc::new(AtomicUsize::new(0));
    let high = Arc::clone(&peak);
    let inflight = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            let high = Arc::clone(&high);
            let inflight = Arc::clone(&inflight);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let end = loop {
                        if let Some(e) = head_end(&buf) {
                            break e;
                        }
                        let mut tmp = [0u8; 4096];
                        match s.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    };
                    let head: Vec<u8> = buf.drain(..end).collect();
                    counter.fetch_add(1, Ordering::SeqCst);
                    if behaviour == Behaviour::CloseAfterHead {
                        return;
                    }
                    if let Behaviour::Gate(n) = behaviour {
                        let now = inflight.fetch_add(1, Ordering::SeqCst) + 1;
                        high.fetch_max(now, Ordering::SeqCst);
                        for _ in 0..50 {
                            if inflight.load(Ordering::SeqCst) >= n {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        inflight.fetch_sub(1, Ordering::SeqCst);
                    }
                    let mut body = format!("{name}\n").into_bytes();
                    body.extend_from_slice(&head);
                    let mut out =
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len())
                            .into_bytes();
                    out.extend_from_slice(&body);
                    if s.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Backend {
        addr,
        requests,
        peak,
    }
}

async fn backend(name: &'static str, behaviour: Behaviour) -> Backend {
    backend_on(
        name,
        behaviour,
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
}

/// A response as a client saw it.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    /// The backend server that answered.
    fn server(&self) -> &str {
        self.body.lines().next().unwrap_or_default()
    }
    /// The header lines the backend received, in order, names lower-cased.
    fn received(&self) -> Vec<String> {
        self.body
            .lines()
            .skip(2)
            .take_while(|l| !l.trim().is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap_or((l, ""));
                format!("{}: {}", n.to_ascii_lowercase(), v.trim())
            })
            .collect()
    }
}

/// Sends `request` on a new connection and reads one response (framed by
/// content-length, else up to the close).
async fn exchange(to: SocketAddr, request: &str) -> Response {
    let mut s = tokio::time::timeout(GUARD, TcpStream::connect(to))
        .await
        .expect("connect timed out")
        .unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    read_response(&mut s).await
}

async fn read_response(s: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let end = loop {
        if let Some(e) = head_end(&buf) {
            break e;
        }
        let n = tokio::time::timeout(GUARD, s.read(&mut tmp))
            .await
            .expect("no response within the guard time")
            .unwrap();
        assert!(n > 0, "eof before a response head: {buf:?}");
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let len = head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().unwrap())
    });
    let mut body = buf[end..].to_vec();
    loop {
        if len.is_some_and(|l| body.len() >= l) {
            break;
        }
        let n = tokio::time::timeout(GUARD, s.read(&mut tmp))
            .await
            .expect("body timed out")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Response {
        status,
        head,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

async fn get(to: SocketAddr, path: &str, extra: &str) -> Response {
    exchange(
        to,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n"),
    )
    .await
}

// ---------------------------------------------------------------------------
// The proxy under test
// ---------------------------------------------------------------------------

fn load(text: &str) -> Config {
    let mut config: Config = proxy_config::parse_str("test.cfg", text, &|_| None)
        .unwrap_or_else(|e| panic!("config: {e:?}"))
        .config;
    for p in &mut config.proxies {
        for b in &mut p.binds {
            for a in &mut b.value.addresses {
                if let BindAddress::Inet { ports, .. } = a {
                    if *ports.start() == 1 {
                        *ports = 0..=0;
                    }
                }
            }
        }
    }
    config
}

struct Proxy {
    addrs: Vec<(String, SocketAddr)>,
    handle: EngineHandle,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Loads `text`, moves every bind on port 1 to an ephemeral port, serves.
    async fn start(text: &str) -> Proxy {
        let engine = Engine::build(&load(text)).unwrap_or_else(|e| panic!("build: {e}"));
        let listeners = engine.bind().unwrap();
        Proxy::serve(engine, listeners)
    }

    fn serve(engine: Engine, listeners: Listeners) -> Proxy {
        let addrs = listeners.local_addrs();
        let handle = engine.handle();
        let (tx, rx) = oneshot::channel();
        let done = tokio::spawn(async move {
            engine
                .serve(listeners, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Proxy {
            addrs,
            handle,
            stop: Some(tx),
            done,
        }
    }

    fn addr(&self, frontend: &str) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(n, _)| n == frontend)
            .map(|(_, a)| *a)
            .unwrap()
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(GUARD, self.done)
            .await
            .expect("engine did not stop")
            .unwrap();
    }
}

// ---------------------------------------------------------------------------
// Header rewrites
// ---------------------------------------------------------------------------

/// HAProxy 2.6 (checked by hand against haproxy 2.6.12): `replace-header`
/// replaces the whole value of each field where the regex matches anywhere,
/// in place; `replace-value` does it per comma-separated element, and a
/// rewritten element loses its surrounding blanks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_header_and_value_rewrite_in_place() {
    let b = backend("s1", Behaviour::Echo).await;
    let proxy = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    \
         http-request replace-header X-A foo(.) bar\\1\n    \
         http-request replace-value X-B ^a(.)$ z\\1\n    default_backend b\n\
         backend b\n    server s1 {}\n",
        b.addr
    ))
    .await;
    let r = get(
        proxy.addr("f"),
        "/",
        "X-A: 1foo2x\r\nX-C: c\r\nX-A: nomatch\r\nX-B: a1, b, a2,aa\r\nX-D: d\r\n",
    )
    .await;
    assert_eq!((r.status, r.server()), (200, "s1"));
    let received = r.received();
    let from = received.iter().position(|l| l.starts_with("x-a")).unwrap();
    assert_eq!(
        received[from..from + 5],
        [
            "x-a: bar2",
            "x-c: c",
            "x-a: nomatch",
            "x-b: z1, b,z2,za",
            "x-d: d"
        ]
    );
    assert_eq!(b.requests.load(Ordering::SeqCst), 1);
    proxy.stop().await;
}

// ---------------------------------------------------------------------------
// Listeners: SO_REUSEPORT, pause and resume
// ---------------------------------------------------------------------------

/// A one-server HTTP frontend on `bind`, served by `server`.
fn simple(bind: &str, server: SocketAddr) -> String {
    format!(
        "{DEFAULTS}frontend f\n    bind {bind}\n    default_backend b\n\
         backend b\n    server s {server}\n"
    )
}

/// A loopback address free a moment ago. Pausing needs an explicit port: a
/// socket bound to port 0 gives its port back when it stops listening.
fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Polls `to` until a connection is refused (true) or accepted `want_refused`
/// is false and a request is served; bounded in tries and time.
async fn wait_until_refused(to: SocketAddr, want_refused: bool) -> bool {
    for _ in 0..200 {
        let refused = TcpStream::connect(to).await.is_err();
        if refused == want_refused {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// One request on a new connection; `None` when the connection fails or is
/// reset.
async fn try_get(to: SocketAddr) -> Option<String> {
    let mut s = tokio::time::timeout(GUARD, TcpStream::connect(to))
        .await
        .ok()?
        .ok()?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut out = Vec::new();
    tokio::time::timeout(GUARD, s.read_to_end(&mut out))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&out).to_string();
    let (_, body) = text.split_once("\r\n\r\n")?;
    Some(body.lines().next().unwrap_or_default().to_string())
}

/// Whether 20 requests in a row are answered by `server`, within a bounded
/// number of tries.
async fn streak(to: SocketAddr, server: &str) -> bool {
    let mut run = 0;
    for _ in 0..300 {
        if try_get(to).await.as_deref() == Some(server) {
            run += 1;
            if run == 20 {
                return true;
            }
        } else {
            run = 0;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    false
}

/// `SO_REUSEPORT` (on by default, as in HAProxy) lets a second engine bind
/// the address of a running one; without it (`-dR`) the bind fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_port_lets_a_new_engine_bind_beside_the_old_one() {
    let old_srv = backend("old", Behaviour::Echo).await;
    let new_srv = backend("new", Behaviour::Echo).await;
    let addr = free_addr();
    let old = Proxy::start(&simple(&addr.to_string(), old_srv.addr)).await;
    let text = simple(&addr.to_string(), new_srv.addr);

    let refused = Engine::build(&load(&text)).unwrap();
    refused.set_reuse_port(false);
    match refused.bind() {
        Err(EngineError::Bind { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("bound without SO_REUSEPORT: {other:?}"),
    }

    let engine = Engine::build(&load(&text)).unwrap();
    let listeners = engine.bind().unwrap();
    assert_eq!(listeners.local_addr("f"), Some(addr));
    let new = Proxy::serve(engine, listeners);
    // The old engine pauses (as on SIGTTOU from the new process): once it
    // has (a connection that reached its backlog just before is reset, as
    // with HAProxy), every connection reaches the new one.
    assert!(old.handle.pause_listeners());
    assert!(
        streak(addr, "new").await,
        "the new engine did not take over"
    );
    // The new one pauses and the old one resumes: back to the old one.
    assert!(new.handle.pause_listeners());
    assert!(old.handle.resume_listeners());
    assert!(!old.handle.resume_listeners());
    assert!(
        streak(addr, "old").await,
        "the resumed engine did not take over"
    );
    new.stop().await;
    old.stop().await;
}

/// SIGTTOU and SIGTTIN in HAProxy: a paused listener refuses connections,
/// a resumed one serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_listeners_refuse_then_serve_again() {
    let b = backend("s", Behaviour::Echo).await;
    let addr = free_addr();
    let proxy = Proxy::start(&simple(&addr.to_string(), b.addr)).await;
    assert_eq!(get(addr, "/", "").await.status, 200);
    assert!(proxy.handle.pause_listeners());
    assert!(!proxy.handle.pause_listeners());
    assert!(proxy.handle.listeners_paused());
    assert!(wait_until_refused(addr, true).await, "still accepting");
    assert!(proxy.handle.resume_listeners());
    assert!(
        wait_until_refused(addr, false).await,
        "never listened again"
    );
    assert_eq!(get(addr, "/", "").await.server(), "s");
    proxy.stop().await;
}

// ---------------------------------------------------------------------------
// http_auth, http_auth_group and http-request auth
// ---------------------------------------------------------------------------

/// `openssl passwd -6 -salt saltsalt s3cret`.
const ALICE_HASH: &str = "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnNxjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1";

/// What haproxy 2.6.12 answered on the same configuration (checked by
/// hand): 401 with HAProxy's page and the realm (the proxy's name without
/// `realm`), 200 for valid credentials, 403 from a group check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_auth_and_the_auth_action() {
    let b = backend("s", Behaviour::Echo).await;
    let proxy = Proxy::start(&format!(
        "userlist L\n    group admins users alice\n    group ops\n    \
         user alice password {ALICE_HASH}\n    user bob insecure-password plain groups ops\n\
         {DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    acl ok http_auth(L)\n    \
         acl adm http_auth_group(L) admins\n    \
         http-request auth realm \"My Realm\" if {{ path_beg /r }} !ok\n    \
         http-request auth if {{ path_beg /noreal }} !ok\n    \
         http-request deny if {{ path_beg /adm }} !adm\n    default_backend b\n\
         backend b\n    server s {}\n",
        b.addr
    ))
    .await;
    let addr = proxy.addr("f");
    // "user:password" in base64, as a client sends them.
    let alice = "Authorization: Basic YWxpY2U6czNjcmV0\r\n"; // alice:s3cret
    let bob = "Authorization: Basic Ym9iOnBsYWlu\r\n"; // bob:plain
    let wrong = "Authorization: Basic YWxpY2U6d3Jvbmc=\r\n"; // alice:wrong

    let r = get(addr, "/r", "").await;
    assert_eq!(r.status, 401);
    assert!(
        r.head
            .contains("\r\nwww-authenticate: Basic realm=\"My Realm\"\r\n"),
        "{}",
        r.head
    );
    assert!(r.body.starts_with("<html><body><h1>401 Unauthorized</h1>"));
    let r = get(addr, "/noreal", "").await;
    assert!(r.head.contains("www-authenticate: Basic realm=\"f\""));
    assert_eq!(get(addr, "/r", wrong).await.status, 401);
    assert_eq!(get(addr, "/r", alice).await.server(), "s");
    assert_eq!(get(addr, "/r", bob).await.server(), "s");
    assert_eq!(get(addr, "/adm", alice).await.server(), "s");
    assert_eq!(get(addr, "/adm", bob).await.status, 403);
    assert_eq!(get(addr, "/adm", "").await.status, 403);
    proxy.stop().await;
}

// ---------------------------------------------------------------------------
// bind fd@N
// ---------------------------------------------------------------------------

/// A listening socket the process already holds (as one inherited from a
/// parent would be) serves a frontend declared with `bind fd@N`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_fd_adopts_an_inherited_listening_socket() {
    use std::os::fd::AsRawFd;
    let b = backend("s", Behaviour::Echo).await;
    let inherited = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = inherited.local_addr().unwrap();
    let fd = inherited.as_raw_fd();
    let engine = Engine::build(&load(&simple(&format!("fd@{fd}"), b.addr))).unwrap();
    let listeners = engine.bind().unwrap();
    assert_eq!(listeners.local_addr("f"), Some(addr));
    let proxy = Proxy::serve(engine, listeners);
    assert_eq!(get(addr, "/", "").await.server(), "s");
    proxy.stop().await;
    drop(inherited);

    // A descriptor that is not a socket is refused at bind time.
    let file = std::fs::File::open("/dev/null").unwrap();
    let text = simple(&format!("fd@{}", file.as_raw_fd()), b.addr);
    let engine = Engine::build(&load(&text)).unwrap();
    assert!(matches!(engine.bind(), Err(EngineError::Bind { .. })));
}

// ---------------------------------------------------------------------------
// Issue 6 leftovers: no replay after a send, slowstart, frontend maxconn
// ---------------------------------------------------------------------------

/// HAProxy 2.6's default `retry-on conn-failure` (checked against haproxy
/// 2.6.12 with the same servers): a connection that fails is retried on
/// another server, but a request that was sent is never replayed, whatever
/// its method; the client gets 502 and the other server sees nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_request_is_not_replayed_on_another_server() {
    let closer = backend("closer", Behaviour::CloseAfterHead).await;
    let other = backend("other", Behaviour::Echo).await;
    // Round robin with a redispatch on every retry: a replay, if there were
    // one, would go to the other server.
    let proxy = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    default_backend b\n\
         backend b\n    balance roundrobin\n    retries 3\n    option redispatch 1\n    \
         server closer {}\n    server other {}\n",
        closer.addr, other.addr
    ))
    .await;
    let addr = proxy.addr("f");
    for (i, method) in ["GET", "HEAD", "POST", "PUT", "DELETE"].iter().enumerate() {
        let mut statuses = Vec::new();
        // Round robin alternates: one of the two goes to each server.
        for _ in 0..2 {
            let r = exchange(
                addr,
                &format!(
                    "{method} /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\
                     Connection: close\r\n\r\n"
                ),
            )
            .await;
            statuses.push(r.status);
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 502], "{method}");
        assert_eq!(closer.requests.load(Ordering::SeqCst), i + 1, "{method}");
        assert_eq!(
            other.requests.load(Ordering::SeqCst),
            i + 1,
            "{method} replayed"
        );
    }
    proxy.stop().await;

    // A connection failure, by contrast, moves the request on.
    let dead = free_addr();
    let proxy = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    default_backend b\n\
         backend b\n    balance roundrobin\n    retries 1\n    option redispatch 1\n    \
         server dead {dead}\n    server other {}\n",
        other.addr
    ))
    .await;
    let before = other.requests.load(Ordering::SeqCst);
    for _ in 0..2 {
        let r = exchange(
            proxy.addr("f"),
            "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
        )
        .await;
        assert_eq!((r.status, r.server()), (200, "other"));
    }
    assert_eq!(other.requests.load(Ordering::SeqCst), before + 2);
    proxy.stop().await;
}

/// `balance source` with a redispatch, as HAProxy 2.6 does it: the
/// consistent ring skips the failed server, while a map-based hash is asked
/// again and names the same dead server (until a check takes it out), so
/// the request ends in 503. The client's address hashes to one slot: the
/// two server orders put the dead server there in exactly one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redispatch_leaves_the_hashed_server_only_on_the_consistent_ring() {
    let alive = backend("alive", Behaviour::Echo).await;
    for hash in ["map-based", "consistent"] {
        let mut refused_runs = 0;
        for dead_first in [true, false] {
            let dead = free_addr();
            let servers = if dead_first {
                format!("server dead {dead}\n    server alive {}\n", alive.addr)
            } else {
                format!("server alive {}\n    server dead {dead}\n", alive.addr)
            };
            let proxy = Proxy::start(&format!(
                "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    default_backend b\n\
                 backend b\n    balance source\n    hash-type {hash}\n    retries 1\n    \
                 option redispatch\n    {servers}"
            ))
            .await;
            let mut answers = Vec::new();
            for _ in 0..3 {
                let r = get(proxy.addr("f"), "/", "").await;
                answers.push((r.status, r.server().to_owned()));
            }
            proxy.stop().await;
            let served = vec![(200, "alive".to_owned()); 3];
            if hash == "consistent" || answers == served {
                assert_eq!(answers, served, "{hash}, {servers}");
            } else {
                assert!(
                    answers.iter().all(|(status, _)| *status == 503),
                    "{hash}, {servers}: {answers:?}"
                );
                refused_runs += 1;
            }
        }
        let want = if hash == "map-based" { 1 } else { 0 };
        assert_eq!(
            refused_runs, want,
            "{hash}: runs that hashed to the dead server"
        );
    }
}

/// `slowstart`: a server back from maintenance gets its weight back step
/// by step, never going down, and its share of the traffic grows with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowstart_ramps_a_returning_servers_share_up() {
    use proxy_core::engine::AdminState;
    let s1 = backend("s1", Behaviour::Echo).await;
    let s2 = backend("s2", Behaviour::Echo).await;
    let proxy = Proxy::start(&format!(
        "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    default_backend b\n\
         backend b\n    balance roundrobin\n    server s1 {} weight 100\n    \
         server s2 {} weight 100 slowstart 3s\n",
        s1.addr, s2.addr
    ))
    .await;
    let addr = proxy.addr("f");
    let s2_ref = proxy.handle.server("b", "s2").unwrap();
    s2_ref.set_admin_state(AdminState::Maint);
    s2_ref.set_admin_state(AdminState::Ready);
    let share = |n: usize| async move {
        let mut hits = 0;
        for _ in 0..n {
            if get(addr, "/", "").await.server() == "s2" {
                hits += 1;
            }
        }
        hits
    };
    let early = share(20).await;
    let mut weights = vec![s2_ref.status().effective_weight];
    for _ in 0..200 {
        if weights.last() == Some(&100) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        weights.push(s2_ref.status().effective_weight);
    }
    assert_eq!(
        weights.last(),
        Some(&100),
        "never reached full weight: {weights:?}"
    );
    assert!(weights[0] < 100, "no ramp: {weights:?}");
    assert!(weights.windows(2).all(|w| w[0] <= w[1]), "{weights:?}");
    let late = share(20).await;
    // Equal weights at last: round robin shares about evenly.
    assert!((8..=12).contains(&late), "late {late}");
    assert!(early < late, "early {early}, late {late}");
    proxy.stop().await;
}

/// A frontend's `maxconn` caps its sessions in progress: the next
/// connections wait in the backlog and are served later, none refused.
/// Without it, the same clients all reach the server at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontend_maxconn_caps_sessions_in_progress() {
    for (maxconn, want_peak) in [(Some(2), 2), (None, 4)] {
        let gate = backend("s", Behaviour::Gate(4)).await;
        let limit = maxconn.map_or(String::new(), |n| format!("    maxconn {n}\n"));
        let proxy = Proxy::start(&format!(
            "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n{limit}    default_backend b\n\
             backend b\n    server s {}\n",
            gate.addr
        ))
        .await;
        let addr = proxy.addr("f");
        let mut clients = tokio::task::JoinSet::new();
        for _ in 0..4 {
            clients.spawn(async move { get(addr, "/", "").await.status });
        }
        while let Some(status) = clients.join_next().await {
            assert_eq!(status.unwrap(), 200);
        }
        let peak = gate.peak.load(Ordering::SeqCst);
        match maxconn {
            Some(n) => assert!(peak <= n, "peak {peak} over maxconn {n}"),
            None => assert_eq!(peak, want_peak),
        }
        proxy.stop().await;
    }
}

/// `retry-on none` turns connection retries off, as in HAProxy (checked
/// against haproxy 2.6.12: 503 at once); the layer-7 keywords, which would
/// replay a request once sent, are refused rather than ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_on_none_and_the_refused_layer7_keywords() {
    let other = backend("other", Behaviour::Echo).await;
    let dead = free_addr();
    let config = |retry_on: &str| {
        format!(
            "{DEFAULTS}frontend f\n    bind 127.0.0.1:1\n    default_backend b\n\
             backend b\n    balance roundrobin\n    retries 3\n    option redispatch 1\n    \
             {retry_on}\n    server dead {dead}\n    server other {}\n",
            other.addr
        )
    };
    for (retry_on, want) in [
        ("retry-on none", [200, 503]),
        ("retry-on conn-failure", [200, 200]),
    ] {
        let proxy = Proxy::start(&config(retry_on)).await;
        let mut statuses = Vec::new();
        for _ in 0..2 {
            statuses.push(get(proxy.addr("f"), "/", "").await.status);
        }
        statuses.sort_unstable();
        assert_eq!(statuses, want, "{retry_on}");
        proxy.stop().await;
    }
    for refused in ["retry-on empty-response", "retry-on conn-failure 503"] {
        let err = Engine::build(&load(&config(refused))).unwrap_err();
        assert!(err.to_string().contains("retry-on"), "{err}");
    }
}
