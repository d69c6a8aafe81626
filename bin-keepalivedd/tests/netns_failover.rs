//! keepalivedd in network namespaces: the seed pair's failovers, the mutual pair,
//! interop with the real keepalived 2.2 both ways, and malformed adverts.
//!
//! Each test runs one scenario of the lab in `tests/vrrp/vrrplab.py` (bridge, node and
//! client namespaces named `kdt-PID-*`, addresses in 198.18.60.0/24), which builds the
//! topology, runs the daemons, checks and tears everything down, failures included.
//! Without root, `ip`, `python3` or the real `keepalived`, a test prints why and passes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Upper bound for one scenario; the lab bounds each of its own waits well below this.
const SCENARIO_BOUND: Duration = Duration::from_secs(240);
/// The harness's "skipped" exit status (as automake's).
const SKIPPED: i32 = 77;

fn harness() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vrrp/vrrplab.py")
}

fn keepalivedd() -> &'static str {
    env!("CARGO_BIN_EXE_keepalivedd")
}

fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(prog).is_file()))
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
    for prog in ["ip", "python3", "keepalived"] {
        if !on_path(prog) {
            return Some(format!("`{prog}` not found on PATH"));
        }
    }
    None
}

/// Runs `vrrplab.py check SCENARIO` with the given daemon on each node and fails the
/// test with the lab's own report unless the scenario passes.
fn scenario(name: &str, n1: &str, n2: &str) {
    if let Some(why) = skip_reason() {
        eprintln!("skipping {name} ({n1} / {n2}): {why}");
        return;
    }
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let out_path = std::env::temp_dir().join(format!(
        "kdt-{}-{}-{name}.out",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let out = std::fs::File::create(&out_path).expect("create the lab's output file");
    let err = out.try_clone().expect("clone the output file handle");
    let mut child = Command::new("python3")
        .arg(harness())
        .args(["check", name, "--impl"])
        .arg(format!("n1={n1}"))
        .arg("--impl")
        .arg(format!("n2={n2}"))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start python3 vrrplab.py");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the lab") {
            break Some(status);
        }
        if start.elapsed() > SCENARIO_BOUND {
            // SIGTERM lets the lab delete its namespaces before it exits
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let report = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    print!("{report}");
    match status {
        None => panic!("{name}: no verdict within {SCENARIO_BOUND:?}"),
        Some(s) if s.code() == Some(SKIPPED) => eprintln!("skipping {name}: the lab skipped"),
        Some(s) => assert!(s.success(), "{name} ({n1} / {n2}) failed: {s}\n{report}"),
    }
}

/// Crash (SIGKILL), tracked script failure, interface down and SIGTERM on the master
/// each move the VIP to the backup, and recovery preempts back; a client in its own
/// namespace reaches a server on the VIP each time and its ARP cache follows the GARPs.
#[test]
fn seed_pair_fails_over_and_preempts_back() {
    scenario("seed", keepalivedd(), keepalivedd());
}

/// keepalived-mutual-*.conf: each node masters one VIP; either dies, the other holds both.
#[test]
fn mutual_pair_one_node_holds_both_vips() {
    scenario("mutual", keepalivedd(), keepalivedd());
}

/// keepalivedd as backup takes over from a real keepalived master and hands back.
#[test]
fn keepalivedd_backs_up_keepalived() {
    scenario("interop", "keepalived", keepalivedd());
}

/// A real keepalived backup takes over from a keepalivedd master and hands back.
#[test]
fn keepalived_backs_up_keepalivedd() {
    scenario("interop", keepalivedd(), "keepalived");
}

/// Malformed adverts (TTL 64, bad password, bad checksum, advert_int 2, other VIP,
/// no auth, truncated, VRRPv3) are logged and dropped without a state change.
#[test]
fn malformed_adverts_are_logged_and_dropped() {
    scenario("malformed", keepalivedd(), keepalivedd());
}

/// The same malformed-advert checks against two real keepalived nodes: pins the lab's
/// expectations (keepalived's log lines) to the reference implementation.
#[test]
fn malformed_adverts_reference_keepalived() {
    scenario("malformed", "keepalived", "keepalived");
}
