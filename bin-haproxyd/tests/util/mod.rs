//! Helpers for the tests that run proxies: temporary directories, free
//! loopback ports, a proxy process stopped on drop, and a raw HTTP/1 client.
//!
//! Every wait here is bounded; a test that times out fails with a message
//! instead of hanging.

#![allow(dead_code)] // each test target uses a different subset

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a proxy may take to start listening or to stop.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("haproxyd-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nobody listens on right now.
pub(crate) fn free_port() -> u16 {
    // Never the same port twice in one test process: haproxy and haproxyd
    // both bind with SO_REUSEPORT, so two proxies handed one port would
    // silently share its connections instead of failing to bind.
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("ephemeral port")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The workspace's root directory.
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Whether the real `haproxy` runs here; the tests that compare with it
/// skip, saying so, when it does not.
pub(crate) fn haproxy_installed() -> bool {
    std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// True, after saying so, when the real `haproxy` is not here: the test
/// comparing with it then returns early.
pub(crate) fn skip_without_haproxy() -> bool {
    let missing = !haproxy_installed();
    if missing {
        eprintln!("skipped: haproxy is not installed (apt-get install haproxy)");
    }
    missing
}

/// A proxy process (haproxyd or haproxy), killed on drop if still running.
/// Its stdout and stderr go to files, so a chatty proxy never blocks.
pub(crate) struct Proxy {
    pub(crate) child: Child,
    pub(crate) stdout: PathBuf,
    pub(crate) stderr: PathBuf,
}

impl Proxy {
    /// Starts `program` with `args`, output into files of `dir` named after `tag`.
    pub(crate) fn start(program: &str, args: &[&str], dir: &TempDir, tag: &str) -> Proxy {
        let stdout = dir.path(&format!("{tag}.stdout"));
        let stderr = dir.path(&format!("{tag}.stderr"));
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|err| panic!("{program} starts: {err}"));
        Proxy {
            child,
            stdout,
            stderr,
        }
    }

    /// haproxyd in the foreground on `config`.
    pub(crate) fn haproxyd(config: &Path, dir: &TempDir, tag: &str) -> Proxy {
        let config = config.to_str().expect("utf-8 path");
        Proxy::start(
            env!("CARGO_BIN_EXE_haproxyd"),
            &["-db", "-f", config],
            dir,
            tag,
        )
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub(crate) fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Waits until `addr` accepts connections, failing with the proxy's
    /// stderr if the proxy exits or takes too long.
    pub(crate) fn wait_listening(&mut self, addr: SocketAddr) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "proxy exited with {status} before listening on {addr}:\n{}",
                    self.stderr_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "proxy not listening on {addr}:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit, within [`PATIENCE`].
    pub(crate) fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(Instant::now() < deadline, "proxy did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn signal(&self, signal: nix::sys::signal::Signal) {
        signal_pid(self.pid(), signal);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `signal` to one process.
pub(crate) fn signal_pid(pid: u32, signal: nix::sys::signal::Signal) {
    let pid = i32::try_from(pid).expect("pid fits");
    assert!(pid > 0);
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal);
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// Sends `request` on a new connection and reads the answer until the
/// server closes or `timeout` passes.
pub(crate) fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect to proxy");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream.write_all(request).expect("send request");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

/// A GET with `Connection: close` and the response as text.
pub(crate) fn get(addr: SocketAddr, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    String::from_utf8_lossy(&exchange(addr, request.as_bytes())).into_owned()
}

/// The status code of a raw response.
pub(crate) fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// The body of a raw response (after the blank line).
pub(crate) fn body(response: &str) -> &str {
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or("")
}

/// The quickstart example with its four ports replaced by free ones and its
/// stats socket moved into `dir`. Returns the config path and the ports
/// (frontend web, stats, web1, web2).
pub(crate) fn quickstart(dir: &TempDir, extra_global: &str) -> (PathBuf, [u16; 4]) {
    let text = std::fs::read_to_string(workspace().join("examples/quickstart.cfg"))
        .expect("examples/quickstart.cfg");
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let mut text = text
        .replace("127.0.0.1:8000", &format!("127.0.0.1:{}", ports[0]))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", ports[1]))
        .replace("127.0.0.1:8081", &format!("127.0.0.1:{}", ports[2]))
        .replace("127.0.0.1:8082", &format!("127.0.0.1:{}", ports[3]))
        .replace(
            "/tmp/haproxyd-quickstart.sock",
            &dir.path("stats.sock").display().to_string(),
        );
    text = text.replacen("global\n", &format!("global\n{extra_global}"), 1);
    (dir.write("quickstart.cfg", &text), ports)
}

pub(crate) fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
