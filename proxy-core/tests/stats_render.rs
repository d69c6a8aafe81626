//! The statistics renderers against output captured from HAProxy 2.6.12
//! (`data/stats/`, captured with `data/stats/capture.sh`).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use proxy_core::stats::{
    Info, ObjType, PageOptions, Row, Snapshot, Value, col, csv_header, render_csv, render_html,
    render_info, render_prometheus, render_stat_json, render_stat_typed,
};

const CAPTURED_CSV: &str = include_str!("data/stats/csv.txt");
const CAPTURED_TYPED: &str = include_str!("data/stats/show_stat_typed.txt");
const CAPTURED_INFO: &str = include_str!("data/stats/show_info.txt");

fn snapshot() -> Snapshot {
    let mut fe = Row::new(ObjType::Frontend, "web", "FRONTEND", 3, 0);
    fe.set(col::STATUS, Value::Str("OPEN".into()));
    fe.set(col::MODE, Value::Str("http".into()));
    fe.set(col::STOT, Value::U64(6));
    fe.set(col::SLIM, Value::U32(9984));
    fe.set(col::HRSP_2XX, Value::U64(1));
    fe.set(col::HRSP_5XX, Value::U64(5));
    let mut s1 = Row::new(ObjType::Server, "dyn", "web1", 4, 1);
    s1.set(col::STATUS, Value::Str("no check".into()));
    s1.set(col::WEIGHT, Value::U32(1));
    s1.set(col::SLIM, Value::U32(50));
    s1.set(col::ACT, Value::U32(1));
    s1.set(col::MODE, Value::Str("http".into()));
    let mut s2 = Row::new(ObjType::Server, "dyn", "web2", 4, 2);
    s2.set(col::STATUS, Value::Str("DRAIN".into()));
    s2.set(col::SLIM, Value::Empty);
    let mut be = Row::new(ObjType::Backend, "dyn", "BACKEND", 4, 0);
    be.set(col::STATUS, Value::Str("UP".into()));
    be.set(col::MODE, Value::Str("http".into()));
    be.set(col::DOWNTIME, Value::U32(0));
    Snapshot {
        info: Info {
            version: "2.6.12".into(),
            release_date: "2023/03/10".into(),
            nbthread: 2,
            pid: 42,
            uptime: Duration::from_secs(20),
            maxconn: 9984,
            node: "vm".into(),
            ..Info::default()
        },
        rows: vec![fe, s1, s2, be],
    }
}

#[test]
fn csv_header_is_haproxys() {
    let captured = CAPTURED_CSV.lines().next().unwrap();
    assert_eq!(csv_header(), format!("{captured}\n"));
}

#[test]
fn csv_rows_have_haproxys_empty_cells() {
    // Column by column, a row is empty exactly where HAProxy leaves it empty
    // for that kind of row (the values differ, the shape must not).
    let s = snapshot();
    let ours = render_csv(&s.rows);
    let shape = |line: &str| -> Vec<bool> { line.split(',').map(str::is_empty).collect() };
    let theirs: Vec<&str> = CAPTURED_CSV.lines().collect();
    let ours: Vec<&str> = ours.lines().collect();
    // Captured: web,FRONTEND is line 3, dyn,web1 line 4, dyn,BACKEND line 6.
    assert_eq!(shape(ours[1]), shape(theirs[3]), "frontend row");
    assert_eq!(shape(ours[2]), shape(theirs[4]), "server row");
    assert_eq!(shape(ours[4]), shape(theirs[6]), "backend row");
}

#[test]
fn typed_lines_use_haproxys_positions_and_tags() {
    let s = snapshot();
    let ours = render_stat_typed(&s.rows);
    let key = |l: &str| l.rsplit_once(':').map(|(k, _)| k.to_string()).unwrap();
    // Every field HAProxy prints for its web frontend, we print too, with the
    // same position, name, tags and type.
    let theirs: Vec<String> = CAPTURED_TYPED
        .lines()
        .filter(|l| l.starts_with("F.3.0."))
        .map(key)
        .collect();
    let ours: Vec<String> = ours
        .lines()
        .filter(|l| l.starts_with("F.3.0."))
        .map(key)
        .collect();
    assert_eq!(ours, theirs);
    assert!(render_stat_typed(&s.rows).contains("S.4.2.17.status.1:SGP:str:DRAIN\n"));
}

#[test]
fn json_is_valid_and_complete() {
    let s = snapshot();
    let json = render_stat_json(&s.rows);
    let out = python(
        "import json,sys\nd=json.load(sys.stdin)\nprint(len(d), d[1][1]['value']['value'], d[0][0]['objType'])",
        &json,
    );
    if let Some(out) = out {
        assert_eq!(out.trim(), "4 web1 Frontend");
    }
}

#[test]
fn info_fields_are_haproxys() {
    let s = snapshot();
    let names = |t: &str| -> Vec<String> {
        t.lines()
            .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_string()))
            .collect()
    };
    assert_eq!(names(&render_info(&s.info)), names(CAPTURED_INFO));
    assert!(render_info(&s.info).contains("Uptime: 0d 0h00m20s\n"));
}

#[test]
fn page_has_the_operators_table() {
    let s = snapshot();
    let opts = PageOptions {
        uri: "/haproxy?stats".into(),
        admin: true,
        hide_version: true,
        ..PageOptions::default()
    };
    let html = render_html(&s, &opts);
    assert!(!html.contains("2.6.12"), "hide-version");
    assert!(html.contains(
        "<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th>"
    ));
    assert!(html.contains("<tr class=\"active_draining\">"));
    assert!(html.contains("<tr class=\"active_no_check\">"));
    assert!(html.contains("name=\"s\" value=\"web2\""));
    assert!(html.contains("<option value=\"drain\">Set state to DRAIN</option>"));
    let plain = render_html(
        &s,
        &PageOptions {
            admin: false,
            ..opts
        },
    );
    assert!(!plain.contains("<form"));
}

/// Runs python3 with `script` on `input`; `None` when python3 is missing.
fn python(script: &str, input: &str) -> Option<String> {
    let mut child = match Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skipped: python3 not available: {e}");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn prometheus_output_parses_with_the_reference_client() {
    let text = render_prometheus(&snapshot());
    let script = "import sys\ntry:\n from prometheus_client.parser import text_string_to_metric_families\nexcept ImportError:\n print('SKIP'); sys.exit(0)\nfams={f.name:f for f in text_string_to_metric_families(sys.stdin.read())}\nst=[s for s in fams['haproxy_server_status'].samples if s.labels['server']=='web2' and s.value==1]\nprint(len(fams), st[0].labels['state'], fams['haproxy_frontend_http_responses'].samples[4].value)";
    let Some(out) = python(script, &text) else {
        return;
    };
    if out.trim() == "SKIP" {
        eprintln!("skipped: prometheus_client is not installed (scripts/setup installs it)");
        return;
    }
    let parts: Vec<&str> = out.split_whitespace().collect();
    assert!(parts[0].parse::<usize>().unwrap() > 150, "{out}");
    assert_eq!(parts[1], "DRAIN");
    assert_eq!(
        parts[2].parse::<f64>().unwrap(),
        5.0,
        "5xx responses of the frontend"
    );
}
