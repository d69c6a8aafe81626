//! The command line of `haproxyd` as a user meets it: version texts, refused
//! flags and `-c` on files, directories and several `-f`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn haproxyd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haproxyd"))
        .args(args)
        .current_dir(corpus_dir())
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("haproxyd runs")
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("haproxyd-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DEFAULTS: &str = "defaults\n    mode http\n    timeout connect 5s\n    \
                        timeout client 30s\n    timeout server 30s\n";
const FRONTEND: &str = "frontend web\n    bind 127.0.0.1:8080\n    default_backend app\n";
const BACKEND: &str = "backend app\n    server a1 127.0.0.1:8001\n";

#[test]
fn version_is_one_line_then_status_and_system() {
    let output = haproxyd(&["-v"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("haproxyd version "), "{text}");
    assert!(lines[2].starts_with("Running on: "), "{text}");
}

#[test]
fn build_options_have_haproxy_layout() {
    let output = haproxyd(&["-vv"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("haproxyd version "), "{text}");
    let build = lines
        .iter()
        .position(|l| *l == "Build options :")
        .expect("Build options section");
    assert!(build >= 2);
    assert!(lines[build + 1].starts_with("  TARGET  = "), "{text}");
    let features = lines
        .iter()
        .find_map(|l| l.strip_prefix("Feature list : "))
        .expect("feature list");
    let words: Vec<&str> = features.split(' ').collect();
    assert!(words.len() > 20);
    assert!(
        words
            .iter()
            .all(|w| w.len() > 1 && (w.starts_with('+') || w.starts_with('-'))),
        "{features}"
    );
    assert!(words.contains(&"+EPOLL") && words.contains(&"-LUA"));
    assert!(stderr(&output).is_empty());
}

#[test]
fn unknown_flag_prints_usage_and_exits_1() {
    let output = haproxyd(&["-z"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("haproxyd version "));
    let err = stderr(&output);
    assert!(err.contains("unknown option '-z'"), "{err}");
    assert!(
        err.contains("Usage : haproxyd [-f <cfgfile|cfgdir>]*"),
        "{err}"
    );
    assert!(err.contains("-c check mode : only check config files and exit"));
}

#[test]
fn check_without_file_is_a_usage_error() {
    let output = haproxyd(&["-c"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("Usage : "));
}

#[test]
fn check_on_the_seed_is_valid() {
    let output = haproxyd(&["-c", "-f", "seed.cfg"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().last(),
        Some("Configuration file is valid")
    );
}

#[test]
fn quiet_check_prints_nothing() {
    let valid = haproxyd(&["-c", "-q", "-f", "seed.cfg"]);
    assert_eq!(valid.status.code(), Some(0));
    assert!(valid.stdout.is_empty() && valid.stderr.is_empty());
    let invalid = haproxyd(&["-q", "-c", "-f", "err-unknown-keyword-frontend.cfg"]);
    assert_eq!(invalid.status.code(), Some(1));
    assert!(invalid.stdout.is_empty() && invalid.stderr.is_empty());
}

#[test]
fn errors_use_haproxy_prefixes_and_closing_lines() {
    let output = haproxyd(&["-c", "-f", "err-unknown-keyword-frontend.cfg"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("[NOTICE]   ("), "{err}");
    assert!(
        lines.iter().any(|l| l.starts_with("[ALERT]    (")
            && l.contains(") : config : parsing [err-unknown-keyword-frontend.cfg:8] : ")),
        "{err}"
    );
    let n = lines.len();
    assert!(n >= 2);
    assert!(
        lines[n - 2].ends_with(
            " : config : Error(s) found in configuration file : err-unknown-keyword-frontend.cfg"
        ),
        "{err}"
    );
    assert!(
        lines[n - 1].ends_with(" : config : Fatal errors found in configuration."),
        "{err}"
    );
}

#[test]
fn check_on_a_directory_reads_its_cfg_files_in_order() {
    let dir = TempDir::new("dir");
    dir.write("10-defaults.cfg", DEFAULTS);
    dir.write("20-frontend.cfg", FRONTEND);
    dir.write("30-backend.cfg", BACKEND);
    // Not a .cfg file: HAProxy skips it, and so must we.
    dir.write("99-broken.conf", "this is not a configuration\n");
    let path = dir.0.display().to_string();
    let output = haproxyd(&["-c", "-f", &path]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Configuration file is valid"));
}

#[test]
fn several_files_load_in_command_line_order() {
    let dir = TempDir::new("several");
    let defaults = dir.write("a.cfg", DEFAULTS);
    let frontend = dir.write("b.cfg", FRONTEND);
    let backend = dir.write("c.cfg", BACKEND);
    let output = haproxyd(&["-c", "-f", &defaults, "-f", &frontend, "-f", &backend]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("Configuration file is valid"));

    // The same backend in two files is a duplicate, reported in the second.
    let again = dir.write("d.cfg", BACKEND);
    let output = haproxyd(&[
        "-c", "-f", &defaults, "-f", &frontend, "-f", &backend, "-f", &again,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains(&format!("[{again}:1]")), "{err}");
    assert!(
        err.contains(&format!("Error(s) found in configuration file : {again}")),
        "{err}"
    );
}

#[test]
fn files_after_double_dash_are_configs() {
    let output = haproxyd(&["-c", "--", "seed.cfg"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn missing_file_is_an_alert() {
    let output = haproxyd(&["-c", "-f", "no-such-file.cfg"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("no-such-file.cfg"), "{err}");
    assert!(err.lines().any(|l| l.starts_with("[ALERT]    (")), "{err}");
}

#[test]
fn no_listener_exits_2() {
    let output = haproxyd(&["-c", "-f", "exit2-no-listener.cfg"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).trim_end(),
        "Configuration file has no error but will not start (no listener) => exit(2)."
    );
}
