//! Cookie persistence (`cookie NAME insert indirect nocache ...`) end to
//! end over loopback: the first response names its server in `Set-Cookie`,
//! later requests carrying it stick to that server whatever the balancer
//! says, servers never see the cookie, and a stopped server's clients move.
//!
//! The expected header bytes were captured from HAProxy 2.6.12 with this
//! backend section (python echo servers behind it, curl as the client):
//!
//! ```text
//! backend be
//!     cookie SRV insert indirect nocache httponly secure domain example.com
//!     option redispatch
//!     server s1 127.0.0.1:18482 cookie a1
//!     server s2 127.0.0.1:18483 cookie b2
//! ```
//!
//! A request without the cookie got `set-cookie: SRV=a1; path=/;
//! domain=example.com; HttpOnly; Secure` after the server's fields, plus
//! `cache-control: private` after it only when the response had
//! `Last-Modified` and no `Cache-Control`; `Cookie: x=1; SRV=a1; y=2` reached
//! s1 as `cookie: x=1; y=2` with no `Set-Cookie` in the answer; with s2
//! stopped, `Cookie: SRV=b2` was served by s1 with `SRV=a1` set again.
//!
//! With `cookie SRV prefix` instead, a server's `set-cookie: SRV=zz` reached
//! the client as `set-cookie: SRV=a1~zz` in place, `Cookie: SRV=b2~zz` was
//! routed to s2 and forwarded as `SRV=zz`, and `Cookie: SRV=zz` (no `~`)
//! was balanced and forwarded unchanged.

use std::net::SocketAddr;
use std::time::Duration;

use proxy_core::engine::{AdminState, Engine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

mod stats_util;
use stats_util::Proxy;

/// Upper bound on any wait, so a broken engine fails instead of hanging.
const GUARD: Duration = Duration::from_secs(10);

/// What HAProxy 2.6 sent for server `a1` with the configuration above.
const HAPROXY_SET_COOKIE_A1: &str = "SRV=a1; path=/; domain=example.com; HttpOnly; Secure";

/// A backend answering `NAME\nCOOKIE` (the `Cookie` it received, or `-`);
/// `/lm` answers carry `Last-Modified`, `/sc` ones `Set-Cookie: SRV=zz`. Aborting the task closes its port.
fn backend(l: TcpListener, name: &'static str) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let cookies: Vec<&str> = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
                    .map(|(_, v)| v.trim())
                    .collect();
                let body = if cookies.is_empty() {
                    format!("{name}\n-")
                } else {
                    format!("{name}\n{}", cookies.join("|"))
                };
                let extra = if head.starts_with("GET /lm ") {
                    "last-modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                } else if head.starts_with("GET /sc ") {
                    "set-cookie: SRV=zz\r\n"
                } else {
                    ""
                };
                let out = format!(
                    "HTTP/1.1 200 OK\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(out.as_bytes()).await;
            });
        }
    })
}

struct Answer {
    headers: Vec<(String, String)>,
    server: String,
    cookie_seen: String,
}

impl Answer {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

async fn get(to: SocketAddr, path: &str, cookie: Option<&str>) -> Answer {
    let mut s = TcpStream::connect(to).await.unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{cookie}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(GUARD, s.read_to_end(&mut raw))
        .await
        .expect("no answer within the guard time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    assert!(status.starts_with("HTTP/1.1 200"), "{text}");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let (server, cookie_seen) = body.split_once('\n').unwrap_or((body, ""));
    Answer {
        headers,
        server: server.to_string(),
        cookie_seen: cookie_seen.to_string(),
    }
}

fn config(s1: SocketAddr, s2: SocketAddr, cookie: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    \
         timeout server 5s\n    retries 1\n\
         frontend fe\n    bind 127.0.0.1:8000\n    default_backend be\n\
         backend be\n    balance roundrobin\n    cookie {cookie}\n    option redispatch\n    \
         server s1 {s1} cookie a1\n    server s2 {s2} cookie b2\n"
    )
}

#[tokio::test]
async fn insert_indirect_sticks_hides_and_moves() {
    let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
    let (b1, b2) = (backend(l1, "s1"), backend(l2, "s2"));
    let proxy = Proxy::start(&config(
        a1,
        a2,
        "SRV insert indirect nocache httponly secure domain example.com",
    ));
    assert!(
        proxy.engine.warnings().is_empty(),
        "{:?}",
        proxy.engine.warnings()
    );
    let fe = proxy.addr("fe");

    // No cookie: the balancer picks, and the answer names the server.
    let mut values = Vec::new();
    for _ in 0..2 {
        let r = get(fe, "/", None).await;
        let value = if r.server == "s1" { "a1" } else { "b2" };
        let expected = HAPROXY_SET_COOKIE_A1.replace("a1", value);
        assert_eq!(r.all("set-cookie"), [expected.as_str()]);
        // After the server's own fields, as HAProxy places it.
        let at = |name: &str| {
            r.headers
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        assert!(at("set-cookie") > at("content-length"));
        assert!(r.all("cache-control").is_empty());
        values.push(value);
    }
    values.sort_unstable();
    assert_eq!(values, ["a1", "b2"], "round robin used both servers");

    // The cookie wins over round robin (which would alternate), and
    // servers never see it.
    for _ in 0..4 {
        let r = get(fe, "/", Some("x=1; SRV=b2; y=2")).await;
        assert_eq!(r.server, "s2");
        assert_eq!(r.cookie_seen, "x=1; y=2");
        assert!(r.all("set-cookie").is_empty());
    }
    for _ in 0..4 {
        let r = get(fe, "/", Some("SRV=a1")).await;
        assert_eq!(r.server, "s1");
        assert_eq!(r.cookie_seen, "-");
        assert!(r.all("set-cookie").is_empty());
    }

    // An unknown value is replaced; nocache makes a cacheable answer private.
    let r = get(fe, "/lm", Some("SRV=zz")).await;
    let expected = HAPROXY_SET_COOKIE_A1.replace("a1", if r.server == "s1" { "a1" } else { "b2" });
    assert_eq!(r.all("set-cookie"), [expected.as_str()]);
    assert_eq!(r.all("cache-control"), ["private"]);
    assert_eq!(r.cookie_seen, "-");

    // s2 stops: its clients are redispatched to s1 and get s1's cookie.
    b2.abort();
    let _ = b2.await;
    for _ in 0..2 {
        let r = get(fe, "/", Some("SRV=b2")).await;
        assert_eq!(r.server, "s1");
        assert_eq!(r.all("set-cookie"), [HAPROXY_SET_COOKIE_A1]);
    }
    drop(proxy);
    b1.abort();
}

#[tokio::test]
async fn insert_without_indirect_passes_the_cookie_on() {
    let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
    let (b1, b2) = (backend(l1, "s1"), backend(l2, "s2"));
    let proxy = Proxy::start(&config(a1, a2, "SRV insert"));
    let fe = proxy.addr("fe");
    for _ in 0..3 {
        let r = get(fe, "/", Some("x=1; SRV=a1; y=2")).await;
        assert_eq!(r.server, "s1");
        assert_eq!(r.cookie_seen, "x=1; SRV=a1; y=2");
        assert!(r.all("set-cookie").is_empty());
    }
    let r = get(fe, "/", Some("SRV=zz")).await;
    assert_eq!(r.cookie_seen, "SRV=zz");
    let value = if r.server == "s1" { "a1" } else { "b2" };
    assert_eq!(
        r.all("set-cookie"),
        [format!("SRV={value}; path=/").as_str()]
    );
    drop(proxy);
    b1.abort();
    b2.abort();
}

#[tokio::test]
async fn a_draining_server_keeps_its_cookie_clients() {
    let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
    let (b1, b2) = (backend(l1, "s1"), backend(l2, "s2"));
    let proxy = Proxy::start(&config(a1, a2, "SRV insert indirect"));
    let fe = proxy.addr("fe");
    let s2 = proxy.engine.handle().server("be", "s2").expect("server s2");
    s2.set_admin_state(AdminState::Drain);
    // New clients all go to s1 ...
    for _ in 0..3 {
        assert_eq!(get(fe, "/", None).await.server, "s1");
    }
    // ... while s2's clients stay with it, as HAProxy keeps them.
    for _ in 0..3 {
        let r = get(fe, "/", Some("SRV=b2")).await;
        assert_eq!(r.server, "s2");
        assert!(r.all("set-cookie").is_empty());
    }
    // In maintenance it loses them.
    s2.set_admin_state(AdminState::Maint);
    let r = get(fe, "/", Some("SRV=b2")).await;
    assert_eq!(r.server, "s1");
    drop(proxy);
    b1.abort();
    b2.abort();
}

#[test]
fn modes_not_applied_are_refused_at_build() {
    for mode in [
        "SRV prefix indirect",
        "SRV rewrite",
        "SRV insert maxidle 1h",
    ] {
        let text = config(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            mode,
        );
        let config = proxy_config::parse_str("cookie.cfg", &text, &|_| None)
            .unwrap_or_else(|e| panic!("config: {e:?}"))
            .config;
        let err = Engine::build(&config).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("cookie")),
            "{mode}: {err:?}"
        );
    }
}

/// What HAProxy 2.6 sent in prefix mode for server `a1` answering
/// `set-cookie: SRV=zz`.
const HAPROXY_PREFIXED_A1: &str = "SRV=a1~zz";

#[tokio::test]
async fn prefix_routes_on_the_prefix_and_prefixes_the_server_cookie() {
    let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
    let (b1, b2) = (backend(l1, "s1"), backend(l2, "s2"));
    let proxy = Proxy::start(&config(a1, a2, "SRV prefix"));
    let fe = proxy.addr("fe");
    let r = get(fe, "/sc", None).await;
    let value = if r.server == "s1" { "a1" } else { "b2" };
    assert_eq!(
        r.all("set-cookie"),
        [HAPROXY_PREFIXED_A1.replace("a1", value).as_str()]
    );
    let at = |name: &str| {
        r.headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    assert!(at("set-cookie") < at("content-length"), "kept in place");
    for _ in 0..4 {
        let r = get(fe, "/", Some("x=1; SRV=b2~zz; y=2")).await;
        assert_eq!(r.server, "s2");
        assert_eq!(r.cookie_seen, "x=1; SRV=zz; y=2");
        assert!(r.all("set-cookie").is_empty());
    }
    for _ in 0..2 {
        let r = get(fe, "/sc", Some("SRV=a1~zz")).await;
        assert_eq!(r.server, "s1");
        assert_eq!(r.cookie_seen, "SRV=zz");
        assert_eq!(r.all("set-cookie"), [HAPROXY_PREFIXED_A1]);
    }
    let r = get(fe, "/", Some("SRV=zz")).await;
    assert_eq!(r.cookie_seen, "SRV=zz");
    drop(proxy);
    b1.abort();
    b2.abort();
}
