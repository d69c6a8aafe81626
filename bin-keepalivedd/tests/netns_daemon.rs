//! keepalivedd alone in a network namespace it owns (`kdd-PID-TAG`, a veth pair, addresses
//! in 198.18.50.0/24): it becomes MASTER after the master-down time and adds the VIP,
//! survives a bad and a good SIGHUP without dropping the VIP, goes to FAULT when its
//! link goes down, and on SIGTERM sends priority 0, removes the VIP, runs notify_stop
//! and exits 0. Without root or `ip`, the test prints why and passes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VIP: &str = "198.18.50.10";

fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn skip_reason() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("not running as root".into());
    }
    if run(&["ip", "-V"]).is_err() {
        return Some("`ip` is not available".into());
    }
    None
}

/// The namespace, its files and the daemon; everything is removed on drop, also when
/// an assertion failed half-way.
struct Lab {
    ns: String,
    dir: PathBuf,
    daemon: Option<Child>,
}

impl Lab {
    /// `tag` keeps the namespaces of tests running side by side apart.
    fn new(tag: &str) -> Lab {
        let ns = format!("kdd-{}-{tag}", std::process::id());
        let dir = std::env::temp_dir().join(format!("keepalivedd-{ns}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let lab = Lab {
            ns,
            dir,
            daemon: None,
        };
        let ns = lab.ns.as_str();
        run(&["ip", "netns", "add", ns]).expect("netns add");
        for step in [
            vec![
                "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
            ],
            vec!["addr", "add", "198.18.50.2/24", "dev", "eth1"],
            vec!["link", "set", "lo", "up"],
            vec!["link", "set", "eth1p", "up"],
            vec!["link", "set", "eth1", "up"],
        ] {
            let mut args = vec!["ip", "-n", ns];
            args.extend(step);
            run(&args).expect("namespace setup");
        }
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn conf(&self, second_instance: bool) -> String {
        let notify = self.path("notify.log");
        let mut text = format!(
            "global_defs {{\n    router_id KDD_TEST\n}}\n\
             vrrp_instance VI_1 {{\n    state MASTER\n    interface eth1\n    \
             virtual_router_id 51\n    priority 100\n    advert_int 1\n    \
             garp_master_delay 1\n    authentication {{\n        auth_type PASS\n        \
             auth_pass secret\n    }}\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n    \
             notify \"/bin/sh -c 'echo \\\"$*\\\" >> {}' notify\"\n}}\n",
            notify.display()
        );
        if second_instance {
            text.push_str(
                "vrrp_instance VI_2 {\n    interface eth1\n    virtual_router_id 52\n    \
                 priority 90\n    virtual_ipaddress {\n        198.18.50.11/24\n    }\n}\n",
            );
        }
        text
    }

    fn start(&mut self) {
        let conf = self.path("keepalived.conf");
        let log = std::fs::File::create(self.path("daemon.log")).expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, env!("CARGO_BIN_EXE_keepalivedd")])
            .args(["-n", "-l", "-D", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(self.path("k.pid"))
            .arg("-r")
            .arg(self.path("k-vrrp.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start keepalivedd");
        self.daemon = Some(child);
    }

    fn pid(&self) -> String {
        self.daemon
            .as_ref()
            .map(|c| c.id().to_string())
            .unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        run(&["kill", sig, &self.pid()]).expect("signal the daemon");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    fn has(&self, addr: &str) -> bool {
        run(&[
            "ip", "-n", &self.ns, "-o", "-4", "addr", "show", "dev", "eth1",
        ])
        .is_ok_and(|o| o.contains(&format!(" {addr}/")))
    }

    /// Polls `cond` every 20 ms for at most `secs` seconds.
    fn wait(&self, secs: u64, mut cond: impl FnMut(&Lab) -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if cond(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        cond(self)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            if c.try_wait().ok().flatten().is_none() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        let _ = run(&["ip", "netns", "del", &self.ns]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write config");
}

#[test]
fn master_reload_fault_and_graceful_stop() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping: {why}");
        return;
    }
    let mut lab = Lab::new("a");
    write(&lab.path("keepalived.conf"), &lab.conf(false));
    lab.start();

    // BACKUP first, MASTER after 3 x 1 s + (256 - 100) / 256 s
    assert!(lab.wait(10, |l| l.has(VIP)), "no VIP; log:\n{}", lab.log());
    let log = lab.log();
    let backup = log.find("(VI_1) Entering BACKUP STATE (init)");
    let master = log.find("(VI_1) Entering MASTER STATE");
    assert!(backup.is_some() && master > backup, "{log}");
    assert!(
        log.contains("(VI_1) Receive advertisement timeout"),
        "{log}"
    );
    assert!(log.contains("Sending/queueing gratuitous ARPs on eth1 for 198.18.50.10"));
    for line in log.lines() {
        // console lines carry keepalived's timestamp: `Sat Nov 28 08:51:37 2026: `
        let stamp = line.get(..26).unwrap_or("");
        assert!(stamp.ends_with(": ") && stamp.len() == 26, "{line}");
    }
    assert!(lab.wait(5, |l| {
        std::fs::read_to_string(l.path("notify.log"))
            .is_ok_and(|n| n.contains("INSTANCE VI_1 MASTER 100"))
    }));

    // a broken configuration is refused and the running one stays
    write(
        &lab.path("keepalived.conf"),
        "vrrp_instance VI_1 {\n    priorty 1\n}\n",
    );
    lab.signal("-HUP");
    assert!(
        lab.wait(5, |l| l.log().contains("reload failed")),
        "{}",
        lab.log()
    );
    assert!(lab.has(VIP));

    // a good one adding VI_2 keeps VI_1 master with its VIP throughout
    write(&lab.path("keepalived.conf"), &lab.conf(true));
    lab.signal("-HUP");
    let end = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < end {
        assert!(lab.has(VIP), "VIP dropped on reload; log:\n{}", lab.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = lab.log();
    assert!(log.contains("(VI_2) Entering BACKUP STATE (init)"), "{log}");
    assert_eq!(
        log.matches("(VI_1) Entering BACKUP STATE").count(),
        1,
        "{log}"
    );

    // the link going down puts both instances in FAULT and releases the VIP
    run(&["ip", "-n", &lab.ns, "link", "set", "eth1p", "down"]).expect("link down");
    assert!(
        lab.wait(5, |l| !l.has(VIP)
            && l.log().contains("(VI_2) Entering FAULT STATE")),
        "{}",
        lab.log()
    );
    assert!(lab.log().contains("Netlink reports eth1 down"));
    run(&["ip", "-n", &lab.ns, "link", "set", "eth1p", "up"]).expect("link up");
    assert!(
        lab.wait(5, |l| l.log().contains("Netlink reports eth1 up")),
        "{}",
        lab.log()
    );

    // back to master, then a graceful stop releases the VIP and exits 0
    assert!(lab.wait(10, |l| l.has(VIP)), "{}", lab.log());
    lab.signal("-TERM");
    let mut child = lab.daemon.take().expect("daemon");
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keepalivedd did not stop; log:\n{}", lab.log());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{}", lab.log());
    assert!(!lab.has(VIP));
    let log = lab.log();
    let sent0 = log.rfind("(VI_1) sent 0 priority");
    let removed = log.rfind("(VI_1) removing VIPs.");
    assert!(sent0.is_some() && removed > sent0, "{log}");
    assert!(log.trim_end().ends_with("Stopped"), "{log}");
    assert!(!lab.path("k.pid").exists(), "pid file removed on exit");
    assert!(lab.wait(5, |l| {
        std::fs::read_to_string(l.path("notify.log"))
            .is_ok_and(|n| n.contains("INSTANCE VI_1 STOP"))
    }));
}

/// Serves SMTP sessions on 127.0.0.1 inside namespace `ns` until `sessions` were
/// served or `bound` passed; returns everything the clients sent, per session.
fn smtp_in_namespace(
    ns: String,
    sessions: usize,
    bound: Duration,
) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        if let Err(e) = vrrp_netlink::enter_netns(&ns) {
            eprintln!("entering {ns}: {e}");
            let _ = port_tx.send(0);
            return seen;
        }
        let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") else {
            let _ = port_tx.send(0);
            return seen;
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let _ = port_tx.send(port);
        let _ = listener.set_nonblocking(true);
        let end = Instant::now() + bound;
        while seen.len() < sessions && Instant::now() < end {
            let Ok((sock, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            let _ = sock.set_nonblocking(false);
            let _ = sock.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(mut wr) = sock.try_clone() else {
                continue;
            };
            let mut rd = BufReader::new(sock);
            let mut text = String::new();
            let _ = wr.write_all(b"220 lab ESMTP\r\n");
            let mut data = false;
            loop {
                let mut line = String::new();
                match rd.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                text.push_str(&line);
                let reply: &[u8] = if data {
                    if line != ".\r\n" {
                        continue;
                    }
                    data = false;
                    b"250 queued\r\n"
                } else if line.starts_with("DATA") {
                    data = true;
                    b"354 go on\r\n"
                } else if line.starts_with("QUIT") {
                    let _ = wr.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = wr.write_all(reply);
            }
            seen.push(text);
        }
        seen
    });
    let port = port_rx.recv_timeout(Duration::from_secs(5)).unwrap_or(0);
    (port, handle)
}

#[test]
fn script_failure_faults_and_mail_follows_state_changes() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping: {why}");
        return;
    }
    let mut lab = Lab::new("b");
    let ok_file = lab.path("healthy");
    write(&ok_file, "");
    // master (an SMTP session), then fault (another); BACKUP at init is a third
    let (port, server) = smtp_in_namespace(lab.ns.clone(), 3, Duration::from_secs(30));
    assert_ne!(port, 0, "SMTP server in the namespace");
    let conf = format!(
        "global_defs {{\n    router_id KDD_SMTP\n    notification_email {{\n        \
         ops@example.com\n        oncall@example.com\n    }}\n    \
         notification_email_from kdd@example.com\n    smtp_server 127.0.0.1 {port}\n    \
         smtp_connect_timeout 5\n}}\n\
         vrrp_script chk {{\n    script \"/bin/test -e {}\"\n    interval 1\n    weight 0\n}}\n\
         vrrp_instance VI_1 {{\n    interface eth1\n    virtual_router_id 53\n    \
         priority 200\n    advert_int 1\n    virtual_ipaddress {{\n        {VIP}/24\n    }}\n    \
         track_script {{\n        chk\n    }}\n    smtp_alert\n}}\n",
        ok_file.display()
    );
    write(&lab.path("keepalived.conf"), &conf);
    lab.start();
    assert!(lab.wait(10, |l| l.has(VIP)), "{}", lab.log());
    assert!(
        lab.log().contains("VRRP_Script(chk) succeeded"),
        "{}",
        lab.log()
    );

    std::fs::remove_file(&ok_file).expect("make the check fail");
    assert!(
        lab.wait(5, |l| !l.has(VIP)
            && l.log().contains("(VI_1) Entering FAULT STATE")),
        "{}",
        lab.log()
    );
    assert!(
        lab.log()
            .contains("VRRP_Script(chk) failed (exited with status 1)")
    );
    let mails = server.join().expect("SMTP thread");
    let subjects: Vec<&str> = mails
        .iter()
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("Subject: ")))
        .collect();
    for want in [
        "[KDD_SMTP] VRRP Instance VI_1 - Entering BACKUP state",
        "[KDD_SMTP] VRRP Instance VI_1 - Entering MASTER state",
        "[KDD_SMTP] VRRP Instance VI_1 - Entering FAULT state",
    ] {
        assert!(subjects.contains(&want), "{want} missing from {subjects:?}");
    }
    let master = mails
        .iter()
        .find(|m| m.contains("Entering MASTER state"))
        .expect("master mail");
    assert!(
        master.contains("MAIL FROM:<kdd@example.com>\r\n"),
        "{master}"
    );
    assert!(master.contains("RCPT TO:<ops@example.com>\r\n"), "{master}");
    assert!(
        master.contains("RCPT TO:<oncall@example.com>\r\n"),
        "{master}"
    );
    assert!(master.contains("=> VRRP Instance is now owning VRRP VIPs <="));
    assert!(lab.log().contains("SMTP alert successfully sent."));
}

/// The union of one capability set over every thread of `pid`.
fn thread_caps(pid: &str, key: &str) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("task dir");
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .fold(0, |a, b| a | b)
}

#[test]
fn capabilities_kept_after_start() {
    if let Some(why) = skip_reason() {
        eprintln!("skipping: {why}");
        return;
    }
    if std::process::Command::new("id")
        .arg("nobody")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        eprintln!("skipping: no user 'nobody'");
        return;
    }
    let instance = format!(
        "vrrp_instance VI_1 {{\n    state MASTER\n    interface eth1\n    \
         virtual_router_id 51\n    priority 100\n    advert_int 1\n    \
         virtual_ipaddress {{\n        {VIP}/24\n    }}\n@EXTRA@}}\n"
    );
    let net = (1u64 << 12) | (1 << 13);
    let users = (1u64 << 5) | (1 << 6) | (1 << 7);
    // Succeeds only as nobody (65534), and as root for the root case.
    let script = "vrrp_script chk {\n    script \"/bin/sh -c 'test $(id -u) = @UID@'\"\n    \
                  interval 1\n}\n";
    // (name, configuration, CapEff wanted: None = unchanged)
    let cases = [
        ("none", instance.replace("@EXTRA@", ""), Some(net)),
        (
            "user",
            format!(
                "global_defs {{\n    script_user nobody\n    enable_script_security\n}}\n\
                 {}{}",
                script.replace("@UID@", "65534"),
                instance.replace("@EXTRA@", "    track_script {\n        chk\n    }\n")
            ),
            Some(net | users),
        ),
        (
            "root",
            format!(
                "{}{}",
                script.replace("@UID@", "0"),
                instance.replace("@EXTRA@", "    track_script {\n        chk\n    }\n")
            ),
            None,
        ),
    ];
    for (name, conf, want) in cases {
        let mut lab = Lab::new(&format!("cap{name}"));
        write(&lab.path("keepalived.conf"), &conf);
        lab.start();
        assert!(
            lab.wait(10, |l| l.log().contains("Capabilities ")),
            "{name}: no capability line; log:\n{}",
            lab.log()
        );
        let pid = lab.pid();
        let eff = thread_caps(&pid, "CapEff:");
        let bnd = thread_caps(&pid, "CapBnd:");
        match want {
            Some(mask) => {
                assert_eq!(eff, mask, "{name}: CapEff {eff:x}; log:\n{}", lab.log());
                assert_eq!(bnd, mask, "{name}: CapBnd {bnd:x}");
                assert_eq!(thread_caps(&pid, "CapInh:"), 0, "{name}");
            }
            None => {
                assert!(
                    lab.log().contains(
                        "Capabilities not dropped: scripts or notify commands run as root"
                    ),
                    "{name}: {}",
                    lab.log()
                );
                assert_ne!(eff & !(net | users), 0, "{name}: CapEff {eff:x}");
            }
        }
        // The daemon still does its job with what it kept, and the script
        // runs (and succeeds) as the user it should.
        assert!(
            lab.wait(10, |l| l.has(VIP)),
            "{name}: no VIP; log:\n{}",
            lab.log()
        );
        if name != "none" {
            assert!(
                lab.wait(5, |l| l.log().contains("VRRP_Script(chk) succeeded")),
                "{name}: script; log:\n{}",
                lab.log()
            );
            assert!(
                !lab.log().contains("VRRP_Script(chk) failed"),
                "{}",
                lab.log()
            );
        }
        lab.signal("-TERM");
        assert!(
            lab.wait(10, |l| !l.has(VIP)),
            "{name}: VIP left after stop; log:\n{}",
            lab.log()
        );
    }
}
