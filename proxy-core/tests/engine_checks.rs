//! Health checks, server states and overload protection of the haproxyd
//! engine, over real loopback sockets: servers killed and restarted while
//! traffic flows, the state lines in HAProxy 2.6's words (pinned against
//! `data/haproxy-check-lines.tsv`, captured by `capture_checks.py`), the
//! runtime state API, and a flood of clients against a small `maxconn`.
//!
//! No timing is asserted: tests wait for events (a log line, a state) with a
//! generous guard that only turns a hang into a failure.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proxy_config::{BindAddress, Config};
use proxy_core::engine::{AdminState, Engine, EngineHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Upper bound on any wait, never asserted on.
const GUARD: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------
// Backends that can be killed and restarted on the same port
// ---------------------------------------------------------------------------

/// A tokio HTTP server answering `200` with its name, optionally after a
/// delay; `kill` closes the listener and every connection.
struct Srv {
    name: &'static str,
    addr: SocketAddr,
    delay: Duration,
    task: Option<JoinHandle<()>>,
    busy: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Srv {
    async fn new(name: &'static str, delay: Duration) -> Srv {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let mut s = Srv {
            name,
            addr,
            delay,
            task: None,
            busy: Arc::default(),
            peak: Arc::default(),
        };
        s.run(l);
        s
    }

    fn run(&mut self, l: TcpListener) {
        let (name, delay) = (self.name, self.delay);
        let (busy, peak) = (Arc::clone(&self.busy), Arc::clone(&self.peak));
        self.task = Some(tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                let (busy, peak) = (Arc::clone(&busy), Arc::clone(&peak));
                conns.spawn(async move {
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut tmp).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&tmp[..n]),
                            }
                        }
                        buf.clear();
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        busy.fetch_sub(1, Ordering::SeqCst);
                        let body = format!("{name}\n");
                        let out = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if s.write_all(out.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }));
    }

    /// Closes the listener and every connection: connections are refused.
    async fn kill(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same port.
    async fn restart(&mut self) {
        let l = TcpListener::bind(self.addr).await.unwrap();
        self.run(l);
    }
}

// ---------------------------------------------------------------------------
// A syslog receiver
// ---------------------------------------------------------------------------

/// Receives the engine's syslog lines as (severity, message).
struct Syslog {
    addr: SocketAddr,
    rx: mpsc::UnboundedReceiver<(u8, String)>,
    seen: Vec<(u8, String)>,
}

impl Syslog {
    async fn new() -> Syslog {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = sock.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = sock.recv(&mut buf).await {
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                let Some(rest) = text.strip_prefix('<') else {
                    continue;
                };
                let (prio, msg) = rest.split_once('>').unwrap();
                let sev = prio.parse::<u8>().unwrap() & 7;
                // "Mon dd hh:mm:ss host haproxy[pid]: message"
                let msg = msg.split_once("]: ").map_or(msg, |(_, m)| m);
                if tx.send((sev, msg.trim_end().to_string())).is_err() {
                    return;
                }
            }
        });
        Syslog {
            addr,
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits for the next line containing `needle` and returns it; lines
    /// before it are kept in `seen`.
    async fn wait_for(&mut self, needle: &str) -> (u8, String) {
        let got = tokio::time::timeout(GUARD, async {
            loop {
                let l = self.rx.recv().await.expect("syslog receiver ended");
                self.seen.push(l.clone());
                if l.1.contains(needle) {
                    return l;
                }
            }
        })
        .await;
        got.unwrap_or_else(|_| panic!("no line with {needle:?}; saw {:#?}", self.seen))
    }
}

/// Masks the number after `before` up to `after` in `line`.
fn mask_between(line: &str, before: &str, after: &str) -> String {
    let Some(i) = line.find(before) else {
        return line.to_string();
    };
    let start = i + before.len();
    let end = line[start..].find(after).map_or(line.len(), |e| start + e);
    format!("{}N{}", &line[..start], &line[end..])
}

/// Masks the digits of "check duration: Nms" so lines compare without time.
fn mask(line: &str) -> String {
    mask_between(line, "check duration: ", "ms")
}

/// Also masks the sessions in progress, which traffic makes vary.
fn mask_sessions(line: &str) -> String {
    match line.find(" sessions active") {
        None => mask(line),
        Some(end) => {
            let start = line[..end].rfind(' ').map_or(0, |s| s + 1);
            mask(&format!("{}N{}", &line[..start], &line[end..]))
        }
    }
}

/// The captured HAProxy line of `scenario` at `index` (0-based within it),
/// with its severity, duration masked.
fn captured(scenario: &str, index: usize) -> (u8, String) {
    let data = include_str!("data/haproxy-check-lines.tsv");
    let (sev, line) = data
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((f.next()?, f.next()?, f.next()?))
        })
        .filter(|(s, _, _)| *s == scenario)
        .map(|(_, sev, line)| (sev.parse::<u8>().unwrap(), line))
        .nth(index)
        .unwrap_or_else(|| panic!("no captured line {scenario}#{index}"));
    (sev, mask(line))
}

/// Renames the servers and backend of a captured line.
fn renamed(line: &str, pairs: &[(&str, &str)]) -> String {
    let mut l = line.to_string();
    for (from, to) in pairs {
        l = l.replace(from, to);
    }
    l
}

// ---------------------------------------------------------------------------
// The proxy under test
// ---------------------------------------------------------------------------

struct Proxy {
    addr: SocketAddr,
    handle: EngineHandle,
    stop: Option<oneshot::Sender<()>>,
    done: JoinHandle<()>,
}

impl Proxy {
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
        engine.set_console_notices(false);
        let handle = engine.handle();
        let listeners = engine.bind().unwrap();
        let addr = listeners.local_addrs()[0].1;
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
            addr,
            handle,
            stop: Some(tx),
            done,
        }
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

/// One request on its own connection: (status, first body line).
async fn get(to: SocketAddr) -> (u16, String) {
    let mut s = TcpStream::connect(to).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(GUARD, s.read_to_end(&mut buf))
        .await
        .expect("no answer within the guard")
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.lines().next().unwrap_or_default().to_string())
        .unwrap_or_default();
    (status, body)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_server_goes_down_after_fall_and_up_after_rise_while_traffic_flows() {
    let mut log = Syslog::new().await;
    let mut s1 = Srv::new("s1", Duration::ZERO).await;
    let s2 = Srv::new("s2", Duration::ZERO).await;
    let cfg = format!(
        "global\n    log {} local0\n\
         defaults\n    mode http\n    log global\n    timeout connect 200ms\n    timeout client 5s\n    timeout server 5s\n    retries 3\n    option redispatch 1\n\
         frontend fe\n    bind 127.0.0.1:80\n    default_backend tcpchk\n\
         backend tcpchk\n    server s1 {} check inter 100ms rise 2 fall 3\n    server s2 {} check inter 100ms rise 2 fall 3\n",
        log.addr, s1.addr, s2.addr
    );
    let proxy = Proxy::start(&cfg).await;

    // Traffic all along: every request must succeed, one server being
    // enough to serve it. A request already sent to a server that dies
    // before answering gets 502 from HAProxy too (it only retries failed
    // connections), so the traffic holds `quiet` for each request and the
    // test takes it to kill a server between two requests: the requests
    // that follow meet the dead server before the checks notice it.
    let stop_traffic = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let quiet = Arc::new(tokio::sync::Mutex::new(()));
    let traffic = {
        let stop = Arc::clone(&stop_traffic);
        let quiet = Arc::clone(&quiet);
        let addr = proxy.addr;
        tokio::spawn(async move {
            let mut answers = Vec::new();
            while !stop.load(Ordering::SeqCst) && answers.len() < 2000 {
                let turn = quiet.lock().await;
                answers.push(get(addr).await);
                drop(turn);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            answers
        })
    };

    // Up at start: the first failure takes it down (HAProxy's health
    // counter starts at `rise`).
    {
        let _between_requests = quiet.lock().await;
        s1.kill().await;
    }
    let down = log.wait_for("Server tcpchk/s1 is DOWN").await;
    let (sev, want) = captured("tcpchk", 0);
    assert_eq!(
        (down.0, mask_sessions(&down.1)),
        (sev, mask_sessions(&want))
    );
    assert!(!proxy.handle.server("tcpchk", "s1").unwrap().status().up);
    for _ in 0..10 {
        assert_eq!(get(proxy.addr).await, (200, "s2".to_string()));
    }

    s1.restart().await;
    let up = log.wait_for("Server tcpchk/s1 is UP").await;
    assert_eq!((up.0, mask(&up.1)), captured("tcpchk", 1));
    // Round robin alternates: the traffic paused, so that its requests
    // cannot take every other turn, ten in a row see both servers.
    let mut seen = std::collections::HashSet::new();
    {
        let _alone = quiet.lock().await;
        for _ in 0..10 {
            let (status, who) = get(proxy.addr).await;
            assert_eq!(status, 200);
            seen.insert(who);
        }
    }
    assert!(seen.contains("s1") && seen.contains("s2"), "{seen:?}");

    // Fully up now: `fall` failures are needed. Both go: the backend has
    // no server left.
    let mut s2 = s2;
    stop_traffic.store(true, Ordering::SeqCst);
    let answers = traffic.await.unwrap();
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "a request failed while another server was up: {answers:?}"
    );
    s1.kill().await;
    s2.kill().await;
    let a = log.wait_for("is DOWN").await;
    let b = log.wait_for("is DOWN").await;
    let none = log.wait_for("has no server available").await;
    // Which of the two is noticed first is a race, as with HAProxy.
    let first = if a.1.contains("/s1 ") { "s1" } else { "s2" };
    let second = if first == "s1" { "s2" } else { "s1" };
    let (sev, want) = captured("tcpchk", 2);
    assert_eq!(
        (a.0, mask(&a.1)),
        (sev, renamed(&want, &[("/s1 ", &format!("/{first} "))]))
    );
    let (sev, want) = captured("tcpchk", 3);
    assert_eq!(
        (b.0, mask(&b.1)),
        (sev, renamed(&want, &[("/s2 ", &format!("/{second} "))]))
    );
    assert_eq!(none, captured("tcpchk", 4));
    assert_eq!(get(proxy.addr).await.0, 503);
    let st = proxy.handle.server("tcpchk", "s1").unwrap().status();
    assert!(st.failed_checks >= 4 && st.down_transitions == 2, "{st:?}");
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_check_wrong_status_and_frozen_process() {
    let mut log = Syslog::new().await;
    // A real process as the server, frozen with SIGSTOP: connections are
    // still accepted by the kernel, answers never come.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 is needed for this test");
    let pid = child.id().to_string();
    tokio::time::timeout(GUARD, async {
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("python server never listened");
    let backup = Srv::new("spare", Duration::ZERO).await;
    let cfg = format!(
        "global\n    log {} local0\n\
         defaults\n    mode http\n    log global\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check 300ms\n\
         frontend fe\n    bind 127.0.0.1:80\n    default_backend web\n\
         backend web\n    option httpchk GET /\n    server py 127.0.0.1:{port} check inter 100ms rise 2 fall 2\n    server spare {} backup\n",
        log.addr, backup.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let py = proxy.handle.server("web", "py").unwrap();
    // Wait for the process to listen and pass a check.
    tokio::time::timeout(GUARD, async {
        while py.check_status().is_none_or(|c| !c.code.passed()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("python server never passed a check");
    let kill = |sig: &str| {
        std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
    };
    kill("-STOP");
    let down = log.wait_for("Server web/py is DOWN").await;
    let want = "Server web/py is DOWN, reason: Layer7 timeout, check duration: Nms. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.";
    assert_eq!((down.0, mask(&down.1)), (1, want.to_string()));
    // Requests now go to the backup.
    for _ in 0..5 {
        assert_eq!(get(proxy.addr).await, (200, "spare".to_string()));
    }
    kill("-CONT");
    let up = log.wait_for("Server web/py is UP").await;
    assert_eq!(
        mask(&up.1),
        // HAProxy counts the backups that are up, used or not.
        "Server web/py is UP, reason: Layer7 check passed, code: 200, check duration: Nms. 1 active and 1 backup servers online. 0 sessions requeued, 0 total in queue."
    );
    assert_eq!(up.0, 5);
    let _ = child.kill();
    let _ = child.wait();
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_states_through_the_handle_log_like_haproxy() {
    let mut log = Syslog::new().await;
    let a = Srv::new("a1", Duration::ZERO).await;
    let b = Srv::new("a2", Duration::ZERO).await;
    let cfg = format!(
        "global\n    log {} local0\n\
         defaults\n    mode http\n    log global\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:80\n    default_backend admin\n\
         backend admin\n    server a1 {} check inter 100ms\n    server a2 {} check inter 100ms backup\n",
        log.addr, a.addr, b.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let a1 = proxy.handle.server("admin", "a1").unwrap();
    assert_eq!(get(proxy.addr).await.1, "a1");

    // The same sequence capture_checks.py ran against HAProxy's CLI.
    a1.set_admin_state(AdminState::Drain);
    assert_eq!(log.wait_for("admin/a1").await, captured("admin", 0));
    assert_eq!(
        get(proxy.addr).await.1,
        "a2",
        "a drained server takes no new traffic"
    );
    a1.set_admin_state(AdminState::Ready);
    assert_eq!(log.wait_for("admin/a1").await, captured("admin", 1));
    assert_eq!(get(proxy.addr).await.1, "a1");
    a1.set_admin_state(AdminState::Maint);
    assert_eq!(log.wait_for("admin/a1").await, captured("admin", 2));
    assert_eq!(get(proxy.addr).await.1, "a2");
    assert!(a1.status().check_enabled && a1.status().admin == AdminState::Maint);
    a1.set_admin_state(AdminState::Ready);
    assert_eq!(log.wait_for("admin/a1").await, captured("admin", 3));
    assert_eq!(get(proxy.addr).await.1, "a1");

    // Weight 0 acts as drain for new traffic; back to 1 restores it.
    a1.set_weight(0).unwrap();
    assert_eq!(get(proxy.addr).await.1, "a2");
    a1.set_weight(1).unwrap();
    assert_eq!(get(proxy.addr).await.1, "a1");
    assert!(a1.set_weight(300).is_err());

    // Health checks can be paused and resumed.
    a1.set_health_checks(false).unwrap();
    assert!(!a1.status().check_enabled);
    a1.set_health_checks(true).unwrap();
    let a2 = proxy.handle.server("admin", "a2").unwrap();
    assert!(a2.status().backup);
    assert_eq!(proxy.handle.servers().len(), 2);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_only_when_all_normal_servers_are_down_and_allbackups() {
    let n = Srv::new("n1", Duration::ZERO).await;
    let b1 = Srv::new("b1", Duration::ZERO).await;
    let b2 = Srv::new("b2", Duration::ZERO).await;
    for all in [false, true] {
        let cfg = format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:80\n    default_backend be\n\
             backend be\n    {}\n    server n1 {}\n    server b1 {} backup\n    server b2 {} backup\n    server d1 {} disabled\n",
            if all { "option allbackups" } else { "" },
            n.addr,
            b1.addr,
            b2.addr,
            n.addr
        );
        let proxy = Proxy::start(&cfg).await;
        let d1 = proxy.handle.server("be", "d1").unwrap();
        assert_eq!(d1.status().admin, AdminState::Maint);
        for _ in 0..4 {
            assert_eq!(get(proxy.addr).await.1, "n1");
        }
        proxy
            .handle
            .server("be", "n1")
            .unwrap()
            .set_admin_state(AdminState::Maint);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..6 {
            seen.insert(get(proxy.addr).await.1);
        }
        let want: Vec<&str> = if all { vec!["b1", "b2"] } else { vec!["b1"] };
        assert_eq!(seen.iter().map(String::as_str).collect::<Vec<_>>(), want);
        proxy.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_times_maxconn_clients_are_served_or_get_503_after_timeout_queue() {
    const MAXCONN: usize = 4;
    let slow = Srv::new("slow", Duration::from_millis(150)).await;
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout queue 400ms\n\
         frontend fe\n    bind 127.0.0.1:80\n    default_backend be\n\
         backend be\n    server s {} maxconn {MAXCONN}\n",
        slow.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let before = open_fds();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..MAXCONN * 10 {
        let addr = proxy.addr;
        clients.spawn(async move { get(addr).await });
    }
    let mut peak_fds = 0;
    let mut served = 0;
    let mut refused = 0;
    while let Some(r) = clients.join_next().await {
        peak_fds = peak_fds.max(open_fds());
        match r.unwrap() {
            (200, who) => {
                assert_eq!(who, "slow");
                served += 1;
            }
            (503, _) => refused += 1,
            other => panic!("neither served nor 503: {other:?}"),
        }
    }
    assert_eq!(served + refused, MAXCONN * 10);
    assert!(served >= MAXCONN, "served {served}");
    assert!(refused > 0, "the queue timeout never fired");
    assert!(slow.peak.load(Ordering::SeqCst) <= MAXCONN);
    // Clients, accepted sockets and server connections: bounded by the
    // client count, whatever the queue does.
    assert!(
        peak_fds <= before + MAXCONN * 10 * 2 + MAXCONN * 2 + 16,
        "descriptors grew from {before} to {peak_fds}"
    );
    // The engine still answers.
    assert_eq!(get(proxy.addr).await.0, 200);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_maxconn_leaves_connections_in_the_backlog() {
    const MAXCONN: usize = 3;
    let slow = Srv::new("slow", Duration::from_millis(100)).await;
    let cfg = format!(
        "global\n    maxconn {MAXCONN}\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:80\n    default_backend be\n\
         backend be\n    server s {}\n",
        slow.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..MAXCONN * 10 {
        let addr = proxy.addr;
        clients.spawn(async move { get(addr).await });
    }
    while let Some(r) = clients.join_next().await {
        assert_eq!(r.unwrap(), (200, "slow".to_string()));
    }
    // Never more sessions at once than maxconn reached the server.
    assert!(slow.peak.load(Ordering::SeqCst) <= MAXCONN);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxqueue_refuses_beyond_the_server_queue() {
    let slow = Srv::new("slow", Duration::from_millis(300)).await;
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout queue 5s\n\
         frontend fe\n    bind 127.0.0.1:80\n    default_backend be\n\
         backend be\n    balance source\n    server s {} maxconn 1 maxqueue 2\n",
        slow.addr
    );
    let proxy = Proxy::start(&cfg).await;
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let addr = proxy.addr;
        clients.spawn(async move { get(addr).await.0 });
    }
    let mut codes = Vec::new();
    while let Some(r) = clients.join_next().await {
        codes.push(r.unwrap());
    }
    let served = codes.iter().filter(|c| **c == 200).count();
    let refused = codes.iter().filter(|c| **c == 503).count();
    assert_eq!(served + refused, 8, "{codes:?}");
    // One in service and two queued at most at any time.
    assert!(refused >= 1 && served >= 3, "{codes:?}");
    proxy.stop().await;
}

/// Kills a child process when dropped, so a failing test leaves nothing behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_transitions_as_real_haproxy_on_the_same_config() {
    if std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("skipped: no haproxy on PATH to compare with");
        return;
    }
    let mut ours = Syslog::new().await;
    let mut theirs = Syslog::new().await;
    let mut s1 = Srv::new("s1", Duration::ZERO).await;
    let mut s2 = Srv::new("s2", Duration::ZERO).await;
    let cfg = |log: SocketAddr, port: u16| {
        format!(
            "global\n    log {log} local0\n\
             defaults\n    mode http\n    log global\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
             backend be\n    option httpchk GET /\n    server s1 {} check inter 100ms rise 2 fall 3\n    server s2 {} check inter 100ms rise 1 fall 2\n",
            s1.addr, s2.addr
        )
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("engine-checks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("haproxy.cfg");
    std::fs::write(&file, cfg(theirs.addr, port)).unwrap();
    let _haproxy = Child(
        std::process::Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let proxy = Proxy::start(&cfg(ours.addr, 80)).await;
    // Let both run their first checks against healthy servers.
    tokio::time::sleep(Duration::from_millis(500)).await;

    s1.kill().await;
    for log in [&mut ours, &mut theirs] {
        log.wait_for("Server be/s1 is DOWN").await;
    }
    s1.restart().await;
    for log in [&mut ours, &mut theirs] {
        log.wait_for("Server be/s1 is UP").await;
    }
    s1.kill().await;
    s2.kill().await;
    for log in [&mut ours, &mut theirs] {
        log.wait_for("has no server available").await;
    }
    s2.restart().await;
    for log in [&mut ours, &mut theirs] {
        log.wait_for("Server be/s2 is UP").await;
    }
    let norm = |seen: &[(u8, String)]| {
        let mut v: Vec<(u8, String)> = seen.iter().map(|(s, l)| (*s, mask(l))).collect();
        // The two servers killed together may be noticed in either order.
        if let Some(w) = v.get_mut(2..4) {
            w.sort();
        }
        v
    };
    assert_eq!(norm(&ours.seen), norm(&theirs.seen));
    assert_eq!(ours.seen.len(), 6, "{:#?}", ours.seen);
    let _ = std::fs::remove_dir_all(&dir);
    proxy.stop().await;
}
