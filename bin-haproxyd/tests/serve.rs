//! haproxyd serving for real: the quickstart example routes as the seed
//! says, `-D -p` goes to the background, privileges drop after binding,
//! signals stop it hard or softly, `-sf` replaces a running process, and a
//! bad configuration stops it at start.

mod util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use util::{PATIENCE, Proxy, TempDir, alive, body, get, local, quickstart, signal_pid, status};

#[test]
fn quickstart_routes_as_the_seed_says() {
    let dir = TempDir::new("serve-quickstart");
    let (config, ports) = quickstart(&dir, "");
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    let web = local(ports[0]);
    proxy.wait_listening(web);
    // The seed's url_static ACLs: path_beg /static /image /js or path_end
    // .html .jpg .gif .png .css .js, both case-insensitive.
    let table = [
        ("/static/logo.png", "web1 (static)\n"),
        ("/static/a", "web1 (static)\n"),
        ("/IMAGE/x.png", "web1 (static)\n"),
        ("/js", "web1 (static)\n"),
        ("/a.HTML", "web1 (static)\n"),
        ("/styles/site.css", "web1 (static)\n"),
        ("/index.php", "web2 (dynamic)\n"),
        ("/", "web2 (dynamic)\n"),
        ("/jsx/app", "web1 (static)\n"),
        ("/javascript", "web2 (dynamic)\n"),
        ("/api/static", "web2 (dynamic)\n"),
    ];
    for (path, expected) in table {
        let response = get(web, path);
        assert_eq!(status(&response), 200, "{path}: {response}");
        assert_eq!(body(&response), expected, "{path}: {response}");
    }
    proxy.signal(Signal::SIGTERM);
    let exit = proxy.wait_exit();
    assert!(exit.success(), "SIGTERM exit: {exit}");
    // `log stdout` with `option httplog`: one line per request.
    let log = proxy.stdout_text();
    assert!(log.contains("GET /index.php HTTP/1.1"), "{log}");
}

#[test]
fn daemon_writes_its_pid_and_detaches() {
    let dir = TempDir::new("serve-daemon");
    // As root, the daemon also enters a chroot: /dev/null must be opened
    // before it, or detaching would fail.
    let root = nix::unistd::Uid::effective().is_root();
    let jail = dir.path("jail");
    std::fs::create_dir(&jail).unwrap();
    let global = if root {
        format!("    chroot {}\n", jail.display())
    } else {
        String::new()
    };
    let (config, ports) = quickstart(&dir, &global);
    let pidfile = dir.path("haproxyd.pid");
    let mut foreground = Proxy::start(
        env!("CARGO_BIN_EXE_haproxyd"),
        &[
            "-D",
            "-p",
            pidfile.to_str().unwrap(),
            "-f",
            config.to_str().unwrap(),
        ],
        &dir,
        "foreground",
    );
    // The foreground process returns once the background one serves.
    let exit = foreground.wait_exit();
    assert!(exit.success(), "{exit}: {}", foreground.stderr_text());
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("pid file written")
        .trim()
        .parse()
        .expect("a pid");
    assert_ne!(pid, foreground.pid());
    assert!(alive(pid), "daemon {pid} runs");
    // A new session: the daemon leads it, away from the test's terminal.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    assert_eq!(fields[3], pid.to_string(), "session id is the daemon's pid");
    // Its standard streams are /dev/null.
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, std::path::Path::new("/dev/null"), "fd {fd}");
    }
    if root {
        let inside = std::fs::read_link(format!("/proc/{pid}/root")).unwrap();
        assert_eq!(inside, jail.canonicalize().unwrap());
    }
    let response = get(local(ports[0]), "/static/a");
    let stopped = {
        signal_pid(pid, Signal::SIGTERM);
        let deadline = Instant::now() + PATIENCE;
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        !alive(pid)
    };
    assert_eq!(body(&response), "web1 (static)\n", "{response}");
    assert!(stopped, "daemon {pid} stops on SIGTERM");
}

#[test]
fn daemon_start_errors_reach_the_terminal() {
    let dir = TempDir::new("serve-daemon-err");
    let (config, ports) = quickstart(&dir, "");
    // Someone else holds the frontend's port.
    let _holder = TcpListener::bind(local(ports[0])).unwrap();
    let mut foreground = Proxy::start(
        env!("CARGO_BIN_EXE_haproxyd"),
        &["-D", "-f", config.to_str().unwrap()],
        &dir,
        "foreground",
    );
    let exit = foreground.wait_exit();
    assert_eq!(exit.code(), Some(1));
    let err = foreground.stderr_text();
    assert!(err.contains("[ALERT]"), "{err}");
    assert!(err.contains("cannot bind socket"), "{err}");
}

/// A privileged port nobody uses, if one is found among a few candidates.
fn free_privileged_port() -> Option<u16> {
    (900..1000).find(|&port| TcpListener::bind(local(port)).is_ok())
}

#[test]
fn privileges_drop_after_binding_a_privileged_port() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: dropping privileges needs root");
        return;
    }
    let (Ok(Some(user)), Ok(Some(group))) = (
        nix::unistd::User::from_name("nobody"),
        nix::unistd::Group::from_name("nogroup"),
    ) else {
        eprintln!("skipped: no user 'nobody' or group 'nogroup' here");
        return;
    };
    let Some(port) = free_privileged_port() else {
        eprintln!("skipped: no free port in 900..1000");
        return;
    };
    let dir = TempDir::new("serve-privileges");
    let jail = dir.path("jail");
    std::fs::create_dir(&jail).unwrap();
    let global = format!(
        "    chroot {}\n    user nobody\n    group nogroup\n",
        jail.display()
    );
    let (config, ports) = quickstart(&dir, &global);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!("127.0.0.1:{}", ports[0]),
        &format!("127.0.0.1:{port}"),
    );
    std::fs::write(&config, text).unwrap();
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    proxy.wait_listening(local(port));
    let response = get(local(port), "/index.php");
    assert_eq!(body(&response), "web2 (dynamic)\n", "{response}");

    let pid = proxy.pid();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let ids = |key: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap()
            .split_whitespace()
            .map(|id| id.parse().unwrap())
            .collect()
    };
    let uid = user.uid.as_raw();
    let gid = group.gid.as_raw();
    assert_eq!(ids("Uid:"), [uid; 4], "real, effective, saved, fs uid");
    assert_eq!(ids("Gid:"), [gid; 4], "real, effective, saved, fs gid");
    assert!(!ids("Groups:").contains(&0), "root's group is gone");
    let root = std::fs::read_link(format!("/proc/{pid}/root")).unwrap();
    let jail = jail.canonicalize().unwrap();
    assert_eq!(root, jail);
    // Nothing outside is reachable: a file beside the jail does not exist
    // from the proxy's root, its working directory is inside, and it holds
    // no descriptor of a directory outside (fchdir would be a way out).
    let outside = dir.write("secret", "outside the jail\n");
    assert!(outside.exists());
    let through_root = format!("/proc/{pid}/root{}", outside.display());
    assert!(
        std::fs::metadata(&through_root).is_err(),
        "{through_root} is reachable"
    );
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert!(
        cwd.starts_with(&jail),
        "working directory {}",
        cwd.display()
    );
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        // A descriptor may close between the listing and the look-up (a
        // health check finishing, say): only the ones still open count.
        let Ok(target) = std::fs::read_link(fd.unwrap().path()) else {
            continue;
        };
        assert!(
            !target.is_dir() || target.starts_with(&jail),
            "open directory outside the jail: {}",
            target.display()
        );
    }
    proxy.signal(Signal::SIGTERM);
    assert!(proxy.wait_exit().success());
}

/// A backend that takes one request, says so on `got`, and answers only
/// when `release` says so.
fn held_backend() -> (u16, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (got_tx, got_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            line.clear();
        }
        let _ = got_tx.send(());
        let _ = release_rx.recv_timeout(PATIENCE);
        let mut stream = stream;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nslow!");
    });
    (port, got_rx, release_tx)
}

const PLAIN: &str = "defaults\n    mode http\n    timeout connect 5s\n    \
                     timeout client 30s\n    timeout server 30s\n";

#[test]
fn soft_stop_finishes_the_request_in_flight() {
    let dir = TempDir::new("serve-soft-stop");
    let (backend, got, release) = held_backend();
    let port = util::free_port();
    let config = dir.write(
        "soft.cfg",
        &format!(
            "{PLAIN}frontend web\n    bind 127.0.0.1:{port}\n    default_backend app\n\
             backend app\n    server s1 127.0.0.1:{backend}\n"
        ),
    );
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    proxy.wait_listening(local(port));
    let client = std::thread::spawn(move || get(local(port), "/slow"));
    got.recv_timeout(PATIENCE)
        .expect("request reaches the backend");
    proxy.signal(Signal::SIGUSR1);
    // The listener closes while the request is still in flight.
    let deadline = Instant::now() + PATIENCE;
    while std::net::TcpStream::connect(local(port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "listener still open after SIGUSR1"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        proxy.child.try_wait().unwrap().is_none(),
        "waits for the session"
    );
    release.send(()).unwrap();
    let response = client.join().unwrap();
    assert_eq!(status(&response), 200, "{response}");
    assert_eq!(body(&response), "slow!");
    assert!(proxy.wait_exit().success());
}

#[test]
fn soft_stop_of_the_old_process_with_sf() {
    let dir = TempDir::new("serve-sf");
    let (config, ports) = quickstart(&dir, "");
    let mut old = Proxy::haproxyd(&config, &dir, "old");
    old.wait_listening(local(ports[0]));
    let old_pid = old.pid().to_string();
    let mut new = Proxy::start(
        env!("CARGO_BIN_EXE_haproxyd"),
        &["-db", "-f", config.to_str().unwrap(), "-sf", &old_pid],
        &dir,
        "new",
    );
    // The old process stops; the new one takes its ports over.
    assert!(old.wait_exit().success(), "{}", old.stderr_text());
    new.wait_listening(local(ports[0]));
    let response = get(local(ports[0]), "/a.html");
    assert_eq!(body(&response), "web1 (static)\n", "{response}");
    assert!(
        new.child.try_wait().unwrap().is_none(),
        "{}",
        new.stderr_text()
    );
    new.signal(Signal::SIGINT);
    assert!(new.wait_exit().success());
}

#[test]
fn bad_configuration_exits_1_with_the_errors() {
    let dir = TempDir::new("serve-bad");
    let config = dir.write(
        "bad.cfg",
        &format!(
            "{PLAIN}frontend web\n    bind 127.0.0.1:{}\n    frobnicate\n    \
             default_backend app\nbackend app\n    server s1 127.0.0.1:1\n",
            util::free_port()
        ),
    );
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    assert_eq!(proxy.wait_exit().code(), Some(1));
    let err = proxy.stderr_text();
    assert!(err.contains("[ALERT]"), "{err}");
    assert!(err.contains("bad.cfg:8"), "{err}");
    assert!(
        err.contains("Fatal errors found in configuration."),
        "{err}"
    );
}

#[test]
fn busy_port_exits_1() {
    let dir = TempDir::new("serve-busy");
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let config = dir.write(
        "busy.cfg",
        &format!(
            "{PLAIN}frontend web\n    bind 127.0.0.1:{port}\n    default_backend app\n\
             backend app\n    server s1 127.0.0.1:1\n"
        ),
    );
    let mut proxy = Proxy::haproxyd(&config, &dir, "haproxyd");
    assert_eq!(proxy.wait_exit().code(), Some(1));
    let err = proxy.stderr_text();
    assert!(err.contains("[ALERT]"), "{err}");
    assert!(err.contains("busy.cfg:7"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

/// The 30-second wrk run of `scripts/load-test`: no errors, no descriptor
/// left open. Too long for every `cargo test`; CI runs the script itself.
#[test]
#[ignore = "30 s under wrk; run with --ignored or scripts/load-test"]
fn load_test_script_passes() {
    let status = std::process::Command::new(util::workspace().join("scripts/load-test"))
        .status()
        .expect("scripts/load-test runs");
    assert!(status.success(), "scripts/load-test: {status}");
}
