//! End-to-end tests of the haproxyd engine over real loopback sockets: the
//! seed configuration's routing, balancing, X-Forwarded-For, connection
//! modes, pipelining, timeouts, bodies, rules, logs and TCP mode.
//!
//! Backends are small tokio HTTP/1.1 servers that answer with their name,
//! the request line, the headers they received and the body they received.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proxy_config::{BindAddress, Config};
use proxy_core::engine::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;

/// Upper bound on any single wait, so a broken engine fails a test instead of
/// hanging it. Never asserted on.
const GUARD: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Test backends
// ---------------------------------------------------------------------------

/// A running test backend.
struct Backend {
    addr: SocketAddr,
    /// Connections accepted so far.
    conns: Arc<AtomicUsize>,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn parse_head(head: &[u8]) -> (String, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    (first, headers)
}

/// Reads more bytes into `buf`; false at end of input.
async fn fill(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut tmp = [0u8; 8192];
    match tokio::time::timeout(GUARD, s.read(&mut tmp)).await {
        Ok(Ok(0)) | Ok(Err(_)) => false,
        Ok(Ok(n)) => {
            buf.extend_from_slice(&tmp[..n]);
            true
        }
        Err(_) => panic!("no data within the guard time"),
    }
}

/// Reads a body framed by `headers` from `buf` (refilled from `s`).
async fn read_body(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    headers: &[(String, String)],
    until_close: bool,
) -> Vec<u8> {
    if header(headers, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                assert!(fill(s, buf).await, "eof in chunk size");
            };
            let line = String::from_utf8_lossy(&buf[..line_end]).to_string();
            let size = usize::from_str_radix(line.split(';').next().unwrap().trim(), 16).unwrap();
            buf.drain(..line_end + 2);
            if size == 0 {
                while find_head_end(&[b"\r\n".as_slice(), buf].concat()).is_none() {
                    assert!(fill(s, buf).await, "eof in trailers");
                }
                let end = find_head_end(&[b"\r\n".as_slice(), buf].concat()).unwrap() - 2;
                buf.drain(..end);
                return body;
            }
            while buf.len() < size + 2 {
                assert!(fill(s, buf).await, "eof in chunk");
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
        }
    }
    if let Some(len) = header(headers, "content-length") {
        let len: usize = len.parse().unwrap();
        while buf.len() < len {
            assert!(fill(s, buf).await, "eof in body");
        }
        return buf.drain(..len).collect();
    }
    if until_close {
        while fill(s, buf).await {}
        return std::mem::take(buf);
    }
    Vec::new()
}

/// Starts a backend called `name`. `/hang` never answers; `/chunked` answers
/// with a chunked body; anything else echoes what was received.
async fn backend(name: &'static str) -> Backend {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&conns);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let end = loop {
                        if let Some(e) = find_head_end(&buf) {
                            break e;
                        }
                        if !fill(&mut s, &mut buf).await {
                            return;
                        }
                    };
                    let head: Vec<u8> = buf.drain(..end).collect();
                    let (line, headers) = parse_head(&head);
                    let body = read_body(&mut s, &mut buf, &headers, false).await;
                    if line.contains(" /ws ") {
                        let answer = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
                        if s.write_all(answer).await.is_err() {
                            return;
                        }
                        // From here on, raw bytes: echo them.
                        if !buf.is_empty() && s.write_all(&buf).await.is_err() {
                            return;
                        }
                        let mut b = [0u8; 4096];
                        while let Ok(n) = s.read(&mut b).await {
                            if n == 0 || s.write_all(&b[..n]).await.is_err() {
                                return;
                            }
                        }
                        return;
                    }
                    if line.contains(" /hang ") {
                        tokio::time::sleep(GUARD).await;
                        return;
                    }
                    let mut echo = format!("{name}\n{line}\n");
                    for (n, v) in &headers {
                        echo.push_str(&format!("{}: {v}\n", n.to_ascii_lowercase()));
                    }
                    echo.push('\n');
                    let mut payload = echo.into_bytes();
                    payload.extend_from_slice(&body);
                    let close = header(&headers, "connection")
                        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                    let mut out = Vec::new();
                    if line.contains(" /chunked ") {
                        out.extend_from_slice(
                            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-backend: yes\r\n\r\n",
                        );
                        for part in payload.chunks(1000) {
                            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                            out.extend_from_slice(part);
                            out.extend_from_slice(b"\r\n");
                        }
                        out.extend_from_slice(b"0\r\n\r\n");
                    } else {
                        out.extend_from_slice(
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nx-backend: yes\r\n\r\n",
                                payload.len()
                            )
                            .as_bytes(),
                        );
                        out.extend_from_slice(&payload);
                    }
                    if s.write_all(&out).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    Backend { addr, conns }
}

/// A parsed response as the client saw it.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    /// The name of the backend server that answered.
    fn server(&self) -> &str {
        std::str::from_utf8(&self.body)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
    }
    /// A header the backend received, from its echo.
    fn received(&self, name: &str) -> Option<String> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.text()
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
    }
}

async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Response {
    let end = loop {
        if let Some(e) = find_head_end(buf) {
            break e;
        }
        assert!(fill(s, buf).await, "eof before a response head: {buf:?}");
    };
    let head: Vec<u8> = buf.drain(..end).collect();
    let (line, headers) = parse_head(&head);
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let close = header(&headers, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let body = read_body(s, buf, &headers, close).await;
    Response {
        status,
        headers,
        body,
    }
}

/// Whether the peer closed the connection (after everything was read).
async fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(
        tokio::time::timeout(GUARD, s.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

async fn connect_from(src: &str, to: SocketAddr) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(format!("{src}:0").parse().unwrap()).unwrap();
    sock.connect(to).await.unwrap()
}

/// A loopback address nothing listens on: bound, noted, closed.
fn dead_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn get(to: SocketAddr, path: &str) -> Response {
    let mut s = TcpStream::connect(to).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_response(&mut s, &mut Vec::new()).await
}

// ---------------------------------------------------------------------------
// The proxy under test
// ---------------------------------------------------------------------------

struct Proxy {
    addrs: Vec<(String, SocketAddr)>,
    warnings: Vec<String>,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Loads `text`, moves every bind to an ephemeral loopback port, serves.
    async fn start(text: &str) -> Proxy {
        let mut config: Config = proxy_config::parse_str("test.cfg", text, &|_| None)
            .unwrap_or_else(|e| panic!("config: {e:?}"))
            .config;
        for p in &mut config.proxies {
            for b in &mut p.binds {
                for a in &mut b.value.addresses {
                    if let BindAddress::Inet { ports, .. } = a {
                        *ports = 0..=0;
                    }
                }
            }
        }
        let engine = Engine::build(&config).unwrap_or_else(|e| panic!("build: {e}"));
        let listeners = engine.bind().unwrap();
        let addrs = listeners.local_addrs();
        let warnings = engine.warnings().to_vec();
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
            warnings,
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

/// The seed configuration with loopback addresses.
fn seed(static_srv: SocketAddr, dynamic_srv: SocketAddr) -> String {
    include_str!("../../examples/seed/haproxy.cfg")
        .replace("bind :80", "bind 127.0.0.1:80")
        .replace("bind :8080", "bind 127.0.0.1:8080")
        .replace("192.168.10.3:80", &static_srv.to_string())
        .replace("192.168.10.4:80", &dynamic_srv.to_string())
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_routes_paths_like_haproxy() {
    let a = backend("web1").await;
    let b = backend("web2").await;
    let proxy = Proxy::start(&seed(a.addr, b.addr)).await;
    // The seed's statistics page and health checks are served and run:
    // nothing it asks is reported as ignored.
    let w = proxy.warnings.join("\n");
    assert!(
        !w.contains("statistics page") && !w.contains("health checks are not run"),
        "{w}"
    );
    let web = proxy.addr("web");
    for (path, expect) in [
        ("/static/a", "web1"),
        ("/IMAGE/x.png", "web1"),
        ("/js", "web1"),
        ("/a.HTML", "web1"),
        ("/index.php", "web2"),
        ("/", "web2"),
        ("/image", "web1"),
        ("/x.css?v=1", "web1"),
        ("/jsx/app", "web1"),
        ("/api/data.json", "web2"),
    ] {
        let mut s = TcpStream::connect(web).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let r = read_response(&mut s, &mut Vec::new()).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.server(), expect, "{path}");
        // `option httpclose` in the frontend: the client is told and closed,
        // and the server was asked to close too.
        assert_eq!(r.header("connection"), Some("close"), "{path}");
        assert_eq!(r.received("connection").as_deref(), Some("close"), "{path}");
        assert!(closed(&mut s).await, "{path}");
        // `except 127.0.0.0/8`: loopback clients get no X-Forwarded-For.
        assert_eq!(r.received("x-forwarded-for"), None, "{path}");
    }
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwardfor_except_network() {
    let a = backend("a").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:80\n option forwardfor except 127.0.0.2/32\n default_backend be\n\
         backend be\n server s1 {}\n\
         frontend fe2\n bind 127.0.0.1:81\n option forwardfor header X-Client if-none\n default_backend be\n",
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let fe = proxy.addr("fe");
    let r = get(fe, "/").await;
    assert_eq!(r.received("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    let mut s = connect_from("127.0.0.2", fe).await;
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.received("x-forwarded-for"), None);

    // `header NAME if-none`: added under that name, kept when present.
    let fe2 = proxy.addr("fe2");
    let r = get(fe2, "/").await;
    assert_eq!(r.received("x-client").as_deref(), Some("127.0.0.1"));
    let mut s = TcpStream::connect(fe2).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-Client: 10.1.1.1\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.received("x-client").as_deref(), Some("10.1.1.1"));
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_source_sticks_per_client_address() {
    let a = backend("a").await;
    let b = backend("b").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:80\n default_backend be\n\
         backend be\n balance source\n hash-type consistent\n server a {}\n server b {}\n",
        a.addr, b.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let fe = proxy.addr("fe");
    // Choices haproxy 2.6.12 made for these clients with the same backend
    // (servers a and b, `balance source`, `hash-type consistent`).
    const HAPROXY: [&str; 12] = ["b", "a", "b", "a", "b", "a", "b", "a", "a", "b", "b", "b"];
    for (host, expect) in (1..=12).zip(HAPROXY) {
        let src = format!("127.0.0.{host}");
        for _ in 0..3 {
            let mut s = connect_from(&src, fe).await;
            s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let r = read_response(&mut s, &mut Vec::new()).await;
            assert_eq!(r.server(), expect, "client {src}");
        }
    }
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_modes() {
    let a = backend("a").await;
    let b = backend("b").await;
    let c = backend("c").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend ka\n bind 127.0.0.1:80\n default_backend be_ka\n\
         backend be_ka\n server s {}\n\
         frontend scl\n bind 127.0.0.1:81\n option http-server-close\n default_backend be_scl\n\
         backend be_scl\n server s {}\n\
         frontend clo\n bind 127.0.0.1:82\n default_backend be_clo\n\
         backend be_clo\n option httpclose\n server s {}\n",
        a.addr, b.addr, c.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let two = |addr| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut buf = Vec::new();
        s.write_all(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let r1 = read_response(&mut s, &mut buf).await;
        let r2 = if r1.header("connection") == Some("close") {
            None
        } else {
            s.write_all(b"GET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .unwrap();
            Some(read_response(&mut s, &mut buf).await)
        };
        (s, r1, r2)
    };

    // keep-alive: both sides persist; the server connection is reused.
    let (_s, r1, r2) = two(proxy.addr("ka")).await;
    let r2 = r2.expect("keep-alive closed the client");
    assert_eq!(r1.received("connection"), None);
    assert_eq!(r2.status, 200);
    assert_eq!(a.conns.load(Ordering::SeqCst), 1);

    // http-server-close: client persists, the server is asked to close.
    let (_s, r1, r2) = two(proxy.addr("scl")).await;
    let r2 = r2.expect("server-close closed the client");
    assert_eq!(r1.received("connection").as_deref(), Some("close"));
    assert_eq!(r2.received("connection").as_deref(), Some("close"));
    assert_eq!(b.conns.load(Ordering::SeqCst), 2);

    // httpclose in the backend: both sides close after one response.
    let (mut s, r1, r2) = two(proxy.addr("clo")).await;
    assert!(r2.is_none());
    assert_eq!(r1.header("connection"), Some("close"));
    assert_eq!(r1.received("connection").as_deref(), Some("close"));
    assert!(closed(&mut s).await);

    // A client's own `Connection: close` is honoured in keep-alive mode.
    let mut s = TcpStream::connect(proxy.addr("ka")).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.header("connection"), Some("close"));
    assert!(closed(&mut s).await);

    // HTTP/1.0 without keep-alive closes.
    let mut s = TcpStream::connect(proxy.addr("ka")).await.unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.status, 200);
    assert!(closed(&mut s).await);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_with_pipelining() {
    let a = backend("a").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:80\n default_backend be\n\
         backend be\n server s {}\n",
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let mut s = TcpStream::connect(proxy.addr("fe")).await.unwrap();
    s.write_all(
        b"GET /one HTTP/1.1\r\nHost: t\r\n\r\n\
          POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
          GET /three HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    for (path, body) in [("/one", ""), ("/two", "hello"), ("/three", "")] {
        let r = read_response(&mut s, &mut buf).await;
        assert_eq!(r.status, 200);
        let text = r.text();
        assert!(text.contains(&format!("{path} HTTP/1.1")), "{text}");
        assert!(text.ends_with(&format!("\n\n{body}")), "{text}");
    }
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_503_504_408() {
    let a = backend("a").await;
    let dead = dead_port();
    let cfg = format!(
        "defaults\n mode http\n timeout connect 200ms\n timeout client 5s\n timeout server 300ms\n\
         timeout http-request 300ms\n retries 1\n\
         frontend empty\n bind 127.0.0.1:80\n default_backend none\n\
         backend none\n\
         frontend refused\n bind 127.0.0.1:81\n default_backend down\n\
         backend down\n server d {dead}\n\
         frontend slow\n bind 127.0.0.1:82\n default_backend be\n\
         backend be\n server s {}\n",
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let page = |status| String::from_utf8_lossy(proxy_core::h1::error_page(status)).to_string();

    // HAProxy keeps the client connection after its own 503.
    let mut s = TcpStream::connect(proxy.addr("empty")).await.unwrap();
    let mut buf = Vec::new();
    for _ in 0..2 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let r = read_response(&mut s, &mut buf).await;
        assert_eq!(r.status, 503);
        assert!(page(503).ends_with(&r.text()));
        assert_eq!(r.header("connection"), None);
    }
    // With `Connection: close` it says so and closes.
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!((r.status, r.header("connection")), (503, Some("close")));
    assert!(closed(&mut s).await);

    let r = get(proxy.addr("refused"), "/").await;
    assert_eq!(r.status, 503);

    let r = get(proxy.addr("slow"), "/hang").await;
    assert_eq!(r.status, 504);
    assert!(page(504).ends_with(&r.text()));

    let mut s = TcpStream::connect(proxy.addr("slow")).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").await.unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.status, 408);
    assert!(closed(&mut s).await);

    // A malformed request gets HAProxy's 400.
    let mut s = TcpStream::connect(proxy.addr("slow")).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: x\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.status, 400);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_forwarded_intact() {
    let a = backend("a").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:80\n default_backend be\n\
         backend be\n server s {}\n",
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let fe = proxy.addr("fe");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();

    // Content-Length request, content-length response.
    let mut s = TcpStream::connect(fe).await.unwrap();
    let mut req = format!(
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        big.len()
    )
    .into_bytes();
    req.extend_from_slice(&big);
    s.write_all(&req).await.unwrap();
    let mut buf = Vec::new();
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!(r.status, 200);
    assert!(r.body.ends_with(&big));

    // Chunked request (framing forwarded as received) and chunked response.
    let mut req =
        b"POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in big.chunks(7000) {
        req.extend_from_slice(format!("{:x};ext=1\r\n", part.len()).as_bytes());
        req.extend_from_slice(part);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
    s.write_all(&req).await.unwrap();
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert!(r.body.ends_with(&big));
    assert!(r.text().contains("transfer-encoding: chunked"));

    // Expect: 100-continue reaches the server, whose 100 would be relayed;
    // the test server does not send one, so the body simply follows.
    s.write_all(b"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut buf).await;
    assert!(r.text().ends_with("\n\nabc"));
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_rules_and_captures_and_log_line() {
    let a = backend("a").await;
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog.set_read_timeout(Some(GUARD)).unwrap();
    let cfg = format!(
        "global\n log {} local0\n\
         defaults\n mode http\n log global\n option httplog\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind 127.0.0.1:80\n\
         capture request header Host len 4\n\
         capture response header X-Backend len 10\n\
         acl blocked path_beg /admin\n\
         http-request deny deny_status 403 if blocked\n\
         http-request redirect prefix https://example.org code 301 if {{ path_beg /old }}\n\
         http-request redirect location /moved if {{ path /tmp }}\n\
         http-request return status 200 content-type text/plain string pong if {{ path /ping }}\n\
         http-request set-header X-Src %[src]\n\
         http-request add-header X-Tag t1\n\
         http-request del-header X-Drop\n\
         http-request set-var(txn.host) req.hdr(host)\n\
         http-request set-header X-Host-Var %[var(txn.host)]\n\
         http-request set-path /rewritten if {{ path /rewrite-me }}\n\
         http-response add-header X-Resp yes\n\
         default_backend be\n\
         backend be\n server web1 {}\n",
        syslog.local_addr().unwrap(),
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let fe = proxy.addr("fe");

    // Answers of the proxy's own keep the connection, as in HAProxy; their
    // heads are the ones haproxy 2.6 sends.
    let mut s = TcpStream::connect(fe).await.unwrap();
    let mut buf = Vec::new();
    s.write_all(
        b"GET /admin/x HTTP/1.1\r\nHost: t\r\n\r\nGET /old/page?q=1 HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await
    .unwrap();
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!(r.status, 403);
    let head = |r: &Response| {
        r.headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect::<Vec<_>>()
    };
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!(r.status, 301);
    assert_eq!(
        head(&r),
        [
            "content-length: 0",
            "location: https://example.org/old/page?q=1"
        ]
    );
    s.write_all(b"GET /old HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!(
        head(&r),
        [
            "content-length: 0",
            "location: https://example.org/old",
            "connection: close"
        ]
    );
    let r = get(fe, "/tmp").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        head(&r),
        [
            "content-length: 0",
            "location: /moved",
            "cache-control: no-cache"
        ]
    );

    let r = get(fe, "/ping").await;
    assert_eq!((r.status, r.text().as_str()), (200, "pong"));
    assert_eq!(r.header("content-type"), Some("text/plain"));

    let mut s = TcpStream::connect(fe).await.unwrap();
    s.write_all(b"GET /rewrite-me?a=b HTTP/1.1\r\nHost: example\r\nX-Drop: 1\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut Vec::new()).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("GET /rewritten?a=b HTTP/1.1"),
        "{}",
        r.text()
    );
    assert_eq!(r.received("x-src").as_deref(), Some("127.0.0.1"));
    assert_eq!(r.received("x-tag").as_deref(), Some("t1"));
    assert_eq!(r.received("x-drop"), None);
    assert_eq!(r.received("x-host-var").as_deref(), Some("example"));
    assert_eq!(r.header("x-resp"), Some("yes"));

    // Log lines: find the one for the rewritten request.
    let mut line = String::new();
    let mut b = [0u8; 2048];
    for _ in 0..10 {
        let n = syslog.recv(&mut b).unwrap();
        line = String::from_utf8_lossy(&b[..n]).to_string();
        if line.contains("/rewrite-me") {
            break;
        }
    }
    assert!(line.starts_with("<134>"), "{line}");
    // Shape of the line haproxy 2.6.12 logs for such a request:
    // `... fe be/web1 0/0/0/0/0 200 87 - - ---- 1/1/0/0/0 0/0 {exam} {37} "GET /x?y=1 HTTP/1.1"`
    let fields: Vec<&str> = line.split("] ").nth(1).unwrap().split(' ').collect();
    assert_eq!(fields[0..2], ["fe", "be/web1"], "{line}");
    assert_eq!(fields[2].split('/').count(), 5, "{line}");
    assert_eq!(fields[3..8], ["200", fields[4], "-", "-", "----"], "{line}");
    assert_eq!(fields[9], "0/0", "{line}");
    assert!(line.contains(" fe be/web1 "), "{line}");
    assert!(line.contains(" 200 "), "{line}");
    assert!(line.contains("{exam} {yes}"), "{line}");
    assert!(
        line.ends_with("\"GET /rewrite-me?a=b HTTP/1.1\"\n"),
        "{line}"
    );
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_mode_forwards_both_ways() {
    let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = echo.accept().await {
            tokio::spawn(async move {
                let mut b = vec![0u8; 4096];
                loop {
                    match s.read(&mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&b[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    let cfg = format!(
        "defaults\n mode tcp\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         listen echo\n bind 127.0.0.1:80\n server e {echo_addr}\n\
         frontend none\n bind 127.0.0.1:81\n default_backend empty\n\
         backend empty\n"
    );
    let proxy = Proxy::start(&cfg).await;
    let mut s = TcpStream::connect(proxy.addr("echo")).await.unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 13) as u8).collect();
    let (mut rd, mut wr) = s.split();
    let send = async {
        wr.write_all(&data).await.unwrap();
        wr.shutdown().await.unwrap();
    };
    let recv = async {
        let mut got = Vec::new();
        tokio::time::timeout(GUARD, rd.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        got
    };
    let ((), got) = tokio::join!(send, recv);
    assert_eq!(got, data);

    // No server: the client is closed without a byte.
    let mut s = TcpStream::connect(proxy.addr("none")).await.unwrap();
    assert!(closed(&mut s).await);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_maxconn_queues_fifo_then_503_on_queue_timeout() {
    let a = backend("a").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 1s\n\
         frontend patient\n bind 127.0.0.1:80\n default_backend long\n\
         backend long\n timeout queue 5s\n server s {a} maxconn 1\n\
         frontend hasty\n bind 127.0.0.1:81\n default_backend short\n\
         backend short\n timeout queue 100ms\n server s {a} maxconn 1\n",
        a = a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    for (fe, queued_status) in [("patient", 200), ("hasty", 503)] {
        let before = a.conns.load(Ordering::SeqCst);
        // The first request takes the only slot and holds it until its 504.
        let mut first = TcpStream::connect(proxy.addr(fe)).await.unwrap();
        first
            .write_all(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        // The slot is taken before the server connection is opened.
        while a.conns.load(Ordering::SeqCst) == before {
            tokio::task::yield_now().await;
        }
        let second = get(proxy.addr(fe), "/");
        let mut held_buf = Vec::new();
        let held = read_response(&mut first, &mut held_buf);
        let (second, held) = tokio::join!(second, held);
        assert_eq!(held.status, 504, "{fe}");
        assert_eq!(second.status, queued_status, "{fe}");
    }
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_listener_and_soft_stop() {
    let a = backend("a").await;
    let cfg = format!(
        "defaults\n mode http\n timeout connect 5s\n timeout client 5s\n timeout server 5s\n\
         frontend fe\n bind ::1:80 v6only\n option forwardfor\n default_backend be\n\
         backend be\n server s {}\n",
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let addr = proxy.addr("fe");
    assert!(addr.is_ipv6());
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s, &mut buf).await;
    assert_eq!(r.received("x-forwarded-for").as_deref(), Some("::1"));
    // A soft stop closes the idle keep-alive connection and returns.
    proxy.stop().await;
    assert!(closed(&mut s).await);
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_becomes_a_tunnel_in_server_close_mode() {
    let a = backend("a").await;
    let cfg = format!(
        "defaults\n mode http\n option http-server-close\n timeout connect 5s\n timeout client 5s\n\
         timeout server 5s\n timeout tunnel 5s\n\
         frontend fe\n bind 127.0.0.1:80\n default_backend be\n\
         backend be\n server s {}\n",
        a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let mut s = TcpStream::connect(proxy.addr("fe")).await.unwrap();
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let end = loop {
        if let Some(e) = find_head_end(&buf) {
            break e;
        }
        assert!(fill(&mut s, &mut buf).await);
    };
    let (line, headers) = parse_head(&buf[..end]);
    buf.drain(..end);
    assert!(line.starts_with("HTTP/1.1 101"), "{line}");
    assert!(header(&headers, "upgrade").is_some());
    for msg in [
        &b"ping"[..],
        b"\x00\x01binary\xff",
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        s.write_all(msg).await.unwrap();
        while buf.len() < msg.len() {
            assert!(fill(&mut s, &mut buf).await);
        }
        assert_eq!(buf.drain(..msg.len()).as_slice(), msg);
    }
    s.shutdown().await.unwrap();
    assert!(closed(&mut s).await);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redispatch_moves_a_failed_connection_to_another_server() {
    let a = backend("alive").await;
    let dead = dead_port();
    let cfg = format!(
        "defaults\n mode http\n timeout connect 100ms\n timeout client 5s\n timeout server 5s\n\
         retries 1\n\
         frontend fe\n bind 127.0.0.1:80\n default_backend be\n\
         backend be\n option redispatch\n server dead {dead}\n server alive {}\n\
         frontend stubborn\n bind 127.0.0.1:81\n default_backend be2\n\
         backend be2\n server dead {dead}\n server alive {}\n",
        a.addr, a.addr
    );
    let proxy = Proxy::start(&cfg).await;
    // Round robin sends every other request to the dead server: with
    // redispatch the retry goes to the live one, without it the request fails.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = get(proxy.addr("fe"), "/").await;
        assert_eq!((r.status, r.server()), (200, "alive"));
        statuses.push(get(proxy.addr("stubborn"), "/").await.status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 503, 503]);
    proxy.stop().await;
}
