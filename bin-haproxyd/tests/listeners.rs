//! haproxyd's listeners across processes: SIGTTOU and SIGTTIN pause and
//! resume them, `-sf` binds beside the old process with `SO_REUSEPORT` (and
//! falls back to pausing it under `-dR`), and `bind fd@N` serves a socket
//! inherited from the parent.

mod util;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use util::{PATIENCE, Proxy, TempDir, body, get, local, quickstart};

/// Polls `port` until connecting is refused (`refused`) or accepted;
/// bounded by [`PATIENCE`].
fn wait_refused(port: u16, refused: bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let is_refused =
            TcpStream::connect_timeout(&local(port), Duration::from_millis(200)).is_err();
        if is_refused == refused {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Waits until `proxy`'s stderr contains `text`; bounded by [`PATIENCE`].
fn wait_stderr(proxy: &Proxy, text: &str) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if proxy.stderr_text().contains(text) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn sigttou_pauses_and_sigttin_resumes_the_listeners() {
    let dir = TempDir::new("listeners-pause");
    let (config, ports) = quickstart(&dir, "");
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    proxy.wait_listening(local(ports[0]));
    proxy.signal(Signal::SIGTTOU);
    assert!(wait_refused(ports[0], true), "{}", proxy.stderr_text());
    assert!(wait_stderr(&proxy, "Paused frontend web."));
    proxy.signal(Signal::SIGTTIN);
    // Every listener resumes, the in-process web servers' too: the request
    // below goes through `web` to `web1`, and the listeners do not resume
    // all at the same instant.
    for port in ports {
        assert!(wait_refused(port, false), "{}", proxy.stderr_text());
    }
    assert!(wait_stderr(&proxy, "Resumed frontend web."));
    assert!(wait_stderr(&proxy, "Resumed frontend web1."));
    let response = get(local(ports[0]), "/a.html");
    assert_eq!(body(&response), "web1 (static)\n", "{response}");
    assert!(proxy.child.try_wait().unwrap().is_none());
    proxy.signal(Signal::SIGINT);
    assert!(proxy.wait_exit().success());
}

/// Starts the old process, then a new one with `-sf` and `extra` flags on
/// the same configuration; returns both once the old one has exited.
fn take_over(tag: &str, extra: &[&str]) -> (TempDir, Proxy, Proxy) {
    let dir = TempDir::new(tag);
    let (config, ports) = quickstart(&dir, "");
    let config = config.to_str().unwrap().to_owned();
    let mut args = vec!["-db", "-f", config.as_str()];
    args.extend_from_slice(extra);
    let mut old = Proxy::start(env!("CARGO_BIN_EXE_haproxyd"), &args, &dir, "old");
    old.wait_listening(local(ports[0]));
    let old_pid = old.pid().to_string();
    args.extend_from_slice(&["-sf", old_pid.as_str()]);
    let mut new = Proxy::start(env!("CARGO_BIN_EXE_haproxyd"), &args, &dir, "new");
    assert!(old.wait_exit().success(), "{}", old.stderr_text());
    new.wait_listening(local(ports[0]));
    let response = get(local(ports[0]), "/a.html");
    assert_eq!(body(&response), "web1 (static)\n", "{response}");
    assert!(
        new.child.try_wait().unwrap().is_none(),
        "{}",
        new.stderr_text()
    );
    (dir, old, new)
}

#[test]
fn sf_binds_beside_the_old_process_without_pausing_it() {
    let (_dir, old, mut new) = take_over("listeners-sf", &[]);
    // With SO_REUSEPORT the new process bound at once: the old one was
    // never asked to pause, only to stop.
    assert!(
        !old.stderr_text().contains("Paused frontend"),
        "{}",
        old.stderr_text()
    );
    new.signal(Signal::SIGINT);
    assert!(new.wait_exit().success());
}

#[test]
fn sf_without_reuseport_pauses_the_old_process_first() {
    let (_dir, old, mut new) = take_over("listeners-sf-dr", &["-dR"]);
    // -dR: the address was busy, so the old process was paused (SIGTTOU)
    // before it was told to stop, as HAProxy does.
    assert!(
        old.stderr_text().contains("Paused frontend web."),
        "{}",
        old.stderr_text()
    );
    new.signal(Signal::SIGINT);
    assert!(new.wait_exit().success());
}

#[test]
fn bind_fd_serves_a_socket_passed_by_the_parent() {
    use std::os::fd::AsRawFd;
    let dir = TempDir::new("listeners-fd");
    let (config, ports) = quickstart(&dir, "");
    // A listening socket this process hands down to haproxyd: without
    // close-on-exec, the child finds it under the same number.
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    nix::fcntl::fcntl(
        &socket,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
    )
    .unwrap();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!("bind 127.0.0.1:{}", ports[0]),
        &format!("bind fd@{}", socket.as_raw_fd()),
    );
    assert!(text.contains("bind fd@"), "{text}");
    let config = dir.write("fd.cfg", &text);
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    // Closed here: the socket lives on in the child only.
    drop(socket);
    proxy.wait_listening(local(port));
    let response = get(local(port), "/a.html");
    assert_eq!(body(&response), "web1 (static)\n", "{response}");
    proxy.signal(Signal::SIGINT);
    assert!(proxy.wait_exit().success());
}
