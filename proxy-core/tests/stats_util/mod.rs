//! Shared by the statistics and runtime API tests: a proxy run in its own
//! runtime thread on loopback, a tiny HTTP server, and socat/curl drivers.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use proxy_config::{BindAddress, Config};
use proxy_core::engine::Engine;

/// A running proxy; stopped when dropped.
pub(crate) struct Proxy {
    pub(crate) addrs: Vec<(String, SocketAddr)>,
    pub(crate) engine: Engine,
    pub(crate) dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    /// Loads `text` with `@DIR@` replaced by a fresh temporary directory and
    /// every bind moved to an ephemeral loopback port, and serves it.
    pub(crate) fn start(text: &str) -> Proxy {
        let dir = std::env::temp_dir().join(format!(
            "haproxyd-stats-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let text = text.replace("@DIR@", dir.to_str().unwrap());
        let mut config: Config = proxy_config::parse_str("test.cfg", &text, &|_| None)
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
        let listeners = engine.bind().unwrap_or_else(|e| panic!("bind: {e}"));
        let addrs = listeners.local_addrs();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let e2 = engine.clone();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let _ = e2
                    .serve(listeners, async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Proxy {
            addrs,
            engine,
            dir,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    pub(crate) fn addr(&self, frontend: &str) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(n, _)| n == frontend)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("no frontend {frontend}"))
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// A tiny HTTP server answering `200 ok` to every request, with keep-alive,
/// until the test process ends. Returns its address.
pub(crate) fn web() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    }
                }
            });
        }
    });
    addr
}

/// Whether a command-line tool is installed.
pub(crate) fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Sends `input` through `socat` to a unix socket, as operators do:
/// `echo "show info" | socat /path/stats.sock -`.
pub(crate) fn socat(sock: &Path, input: &str) -> String {
    socat_addr(sock.to_str().unwrap(), input)
}

/// Same with any socat address (`TCP:127.0.0.1:9999`).
pub(crate) fn socat_addr(addr: &str, input: &str) -> String {
    let mut child = Command::new("socat")
        .args(["-t", "2", addr, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("socat");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// One HTTP/1.1 request over a fresh connection; returns the whole answer.
pub(crate) fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let (tx, rx) = mpsc::channel();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    // Read until the announced length arrived or the proxy closed.
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|l| buf.len() >= end + 4 + l) {
                break;
            }
        }
    }
    let _ = tx.send(());
    drop(rx);
    String::from_utf8_lossy(&buf).into_owned()
}
