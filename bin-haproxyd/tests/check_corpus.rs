//! Replays the verdicts of the real `haproxy -c` recorded beside every corpus
//! file (tests/corpus/capture.sh) against `haproxyd -c`.
//!
//! A file agrees when haproxyd exits with the same code and, for a refused
//! file where HAProxy names a `file:line`, when one of haproxyd's alerts names
//! one of the same `file:line`s. Files that disagree today are listed in
//! [`KNOWN_DISAGREEMENTS`] with what differs; the test fails on any other
//! disagreement, and on a listed file that has come to agree, so the list
//! can only shrink.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment of every run; keep in step with capture.sh.
const CORPUS_ENV: &[(&str, &str)] = &[
    ("HAPD_ADDR", "127.0.0.1"),
    ("HAPD_PORT", "8443"),
    ("HAPD_NAME", "app"),
    ("HAPD_WEIGHT", "30"),
];

/// Corpus files whose verdict haproxyd does not reproduce yet, and how.
/// Each is a difference in proxy-config's validation, not in this test.
/// Empty: every verdict agrees.
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[];

struct Verdict {
    code: i32,
    locations: BTreeSet<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every `[FILE:LINE]` (also `[FILE:LINE:COL]`) named in `line`, as `FILE:LINE`.
fn locations(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let inside = &rest[..close];
        let mut parts = inside.split(':');
        if let (Some(file), Some(line_no)) = (parts.next(), parts.next()) {
            let numeric = !line_no.is_empty() && line_no.bytes().all(|b| b.is_ascii_digit());
            if !file.is_empty() && numeric {
                found.push(format!("{file}:{line_no}"));
            }
        }
        rest = &rest[close..];
    }
    found
}

fn alert_locations<'a>(lines: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    lines
        .filter(|line| line.starts_with("[ALERT]"))
        .flat_map(locations)
        .collect()
}

fn read_verdict(path: &Path) -> Verdict {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("{}: {err}; run capture.sh", path.display()));
    let mut lines = text.lines();
    let code = lines
        .next()
        .and_then(|first| first.strip_prefix("exit: "))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{}: first line is not 'exit: N'", path.display()));
    Verdict {
        code,
        locations: alert_locations(lines),
    }
}

fn run_check(dir: &Path, file_name: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_haproxyd"))
        .args(["-c", "-f", file_name])
        .current_dir(dir)
        .env_clear()
        .envs(CORPUS_ENV.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("haproxyd runs");
    let code = output.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Why `ours` disagrees with `theirs`, if it does.
fn disagreement(theirs: &Verdict, code: i32, stderr: &str) -> Option<String> {
    if code != theirs.code {
        return Some(format!("exit {code}, haproxy exits {}", theirs.code));
    }
    if theirs.code != 0 && !theirs.locations.is_empty() {
        let ours = alert_locations(stderr.lines());
        if ours.is_disjoint(&theirs.locations) {
            return Some(format!(
                "alerts at {ours:?}, haproxy alerts at {:?}",
                theirs.locations
            ));
        }
    }
    None
}

#[test]
fn location_extraction() {
    assert_eq!(
        locations("[ALERT]    (PID) : config : parsing [a.cfg:3] : bad"),
        ["a.cfg:3"]
    );
    assert_eq!(
        locations("[ALERT]    (PID) : config : [b.cfg:9] : parsing [b.cfg:9] : x"),
        ["b.cfg:9", "b.cfg:9"]
    );
    assert_eq!(
        locations("[ALERT]    (PID) : config : Parsing [c.cfg:12:5]: y"),
        ["c.cfg:12"]
    );
    assert!(locations("[ALERT]    (PID) : config : Fatal errors found.").is_empty());
    assert!(locations("[ALERT] [x] [:3] [a:] [a:b]").is_empty());
}

#[test]
fn corpus_agrees_with_haproxy() {
    let dir = corpus_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".cfg"))
        .collect();
    names.sort();
    assert!(names.len() >= 60, "only {} corpus files", names.len());

    let mut agree = 0;
    let mut unexpected = Vec::new();
    let mut known = Vec::new();
    for name in &names {
        let stem = name.trim_end_matches(".cfg");
        let theirs = read_verdict(&dir.join(format!("{stem}.verdict")));
        let (code, stderr) = run_check(&dir, name);
        let listed = KNOWN_DISAGREEMENTS.iter().any(|(file, _)| file == name);
        match (disagreement(&theirs, code, &stderr), listed) {
            (None, false) => agree += 1,
            (None, true) => unexpected.push(format!(
                "{name}: now agrees with haproxy; remove it from KNOWN_DISAGREEMENTS"
            )),
            (Some(why), true) => known.push(format!("{name}: {why}")),
            (Some(why), false) => unexpected.push(format!("{name}: {why}\n{stderr}")),
        }
    }
    for (file, _) in KNOWN_DISAGREEMENTS {
        assert!(
            names.iter().any(|name| name == file),
            "{file} is listed as a known disagreement but is not in the corpus"
        );
    }
    println!("{} files, {agree} agree", names.len());
    for line in &known {
        println!("known disagreement: {line}");
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected result(s):\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
