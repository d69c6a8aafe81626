//! Shared by the tests that compare the engine with the real `haproxy`:
//! ports handed out once per process, a UDP syslog listener, and a
//! `haproxy` run for the length of a closure.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port, never the same twice in one process: haproxy and
/// haproxyd bind with SO_REUSEPORT, so two proxies handed one port would
/// share it instead of failing.
pub(crate) fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("ephemeral port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Collects syslog datagrams on a loopback UDP port.
pub(crate) struct Syslog(UdpSocket);

impl Syslog {
    pub(crate) fn new() -> Syslog {
        let s = UdpSocket::bind("127.0.0.1:0").expect("udp");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        Syslog(s)
    }

    pub(crate) fn port(&self) -> u16 {
        self.0.local_addr().expect("address").port()
    }

    /// The next datagram, waiting up to 5 s.
    pub(crate) fn next(&self) -> Option<String> {
        self.next_within(Duration::from_secs(5))
    }

    /// The next datagram, waiting up to `patience`.
    pub(crate) fn next_within(&self, patience: Duration) -> Option<String> {
        let deadline = Instant::now() + patience;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.0.recv(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        None
    }

    /// Drops what is waiting (start-up notices, lines of an earlier
    /// attempt), without waiting for more.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 4096];
        if self.0.set_nonblocking(true).is_ok() {
            while self.0.recv(&mut buf).is_ok() {}
        }
        self.0.set_nonblocking(false).expect("blocking again");
    }
}

fn wait_listening(port: u16, child: &mut Child, err: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "haproxy exited with {status}: {}",
                std::fs::read_to_string(err).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "haproxy does not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `f` beside the real haproxy serving `text`, once it listens on
/// `probe`; `None` when haproxy cannot be started.
pub(crate) fn with_haproxy<T>(
    name: &str,
    text: &str,
    probe: u16,
    f: impl FnOnce() -> T,
) -> Option<T> {
    /// Stops the haproxy this test started, by its handle, even when the
    /// test panics, and removes its files.
    struct Running(Child, PathBuf);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }
    let dir = std::env::temp_dir().join(format!("haproxy-diff-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cfg = dir.join("haproxy.cfg");
    std::fs::write(&cfg, text).expect("write config");
    let err = dir.join("haproxy.stderr");
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .ok()?;
    let mut running = Running(child, dir);
    wait_listening(probe, &mut running.0, &err);
    Some(f())
}
