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
use proxy_core::engine::{Engine, Listeners};
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
}

/// A running test backend.
struct Backend {
    addr: SocketAddr,
    /// Requests whose head was received.
    requests: Arc<AtomicUsize>,
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Starts a backend called `name`, on `listener` if given.
async fn backend_on(name: &'static str, behaviour: Behaviour, l: TcpListener) -> Backend {
    let addr = l.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
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
    Backend { addr, requests }
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
