//! The statistics page and the Prometheus exporter served by the proxy
//! itself: authentication, the CSV export, admin actions from the form, and
//! the exporter's output read by the reference Prometheus client.

mod stats_util;

use stats_util::{Proxy, http, web};

fn config(web1: std::net::SocketAddr) -> String {
    format!(
        "defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:1
    stats enable
    stats hide-version
    stats uri /haproxy?stats
    stats realm no\\ entrance
    stats auth admin:admin
    stats admin if TRUE
listen ro
    bind 127.0.0.1:1
    stats uri /st
    stats refresh 5s
frontend web
    bind 127.0.0.1:1
    http-request use-service prometheus-exporter if {{ path /metrics }}
    default_backend dyn
backend dyn
    server web1 {web1}
    server web2 {web1} weight 3
"
    )
}

const AUTH: &str = "authorization: Basic YWRtaW46YWRtaW4=\r\n";

fn get(p: &Proxy, fe: &str, path: &str, auth: bool) -> String {
    http(
        p.addr(fe),
        &format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\n{}connection: close\r\n\r\n",
            if auth { AUTH } else { "" }
        ),
    )
}

#[test]
fn auth_is_required_with_the_realm() {
    let p = Proxy::start(&config(web()));
    let r = get(&p, "stats", "/haproxy?stats", false);
    assert!(r.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{r}");
    assert!(
        r.contains("www-authenticate: Basic realm=\"no entrance\"\r\n"),
        "{r}"
    );
    let bad = http(
        p.addr("stats"),
        "GET /haproxy?stats HTTP/1.1\r\nhost: x\r\nauthorization: Basic YWRtaW46eA==\r\n\r\n",
    );
    assert!(bad.starts_with("HTTP/1.1 401 "), "wrong password: {bad}");
    let ok = get(&p, "stats", "/haproxy?stats", true);
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(ok.contains("content-type: text/html"));
    assert!(ok.contains("<a class=px href=\"#dyn\">dyn</a>"));
    assert!(!ok.contains("haproxyd-"), "hide-version");
    // Admin form present: authenticated and `stats admin if TRUE`.
    assert!(ok.contains("name=\"s\" value=\"web1\""));
    // Another URI on the same listener is not the page (no server: 503).
    let other = get(&p, "stats", "/other", true);
    assert!(other.starts_with("HTTP/1.1 503 "), "{other}");
}

#[test]
fn csv_export_has_haproxys_header_and_counts() {
    let p = Proxy::start(&config(web()));
    for _ in 0..4 {
        let r = get(&p, "web", "/", false);
        assert!(r.starts_with("HTTP/1.1 200 OK"), "{r}");
    }
    let csv = get(&p, "stats", "/haproxy?stats;csv;norefresh", true);
    let body = csv.split("\r\n\r\n").nth(1).unwrap();
    let captured = include_str!("data/stats/csv.txt").lines().next().unwrap();
    assert_eq!(body.lines().next().unwrap(), captured);
    let header: Vec<&str> = captured.trim_start_matches("# ").split(',').collect();
    let col = |n: &str| header.iter().position(|c| *c == n).unwrap();
    let row = |px: &str, sv: &str| -> Vec<String> {
        body.lines()
            .find(|l| l.starts_with(&format!("{px},{sv},")))
            .unwrap_or_else(|| panic!("no row {px},{sv} in {body}"))
            .split(',')
            .map(String::from)
            .collect()
    };
    let fe = row("web", "FRONTEND");
    assert_eq!(fe[col("req_tot")], "4");
    assert_eq!(fe[col("hrsp_2xx")], "4");
    assert_eq!(fe[col("status")], "OPEN");
    let be = row("dyn", "BACKEND");
    assert_eq!(be[col("hrsp_2xx")], "4");
    assert_eq!(be[col("act")], "2");
    let w1: u64 = row("dyn", "web1")[col("lbtot")].parse().unwrap();
    let w2: u64 = row("dyn", "web2")[col("lbtot")].parse().unwrap();
    assert_eq!(w1 + w2, 4);
    assert_eq!(row("dyn", "web2")[col("weight")], "3");
}

#[test]
fn admin_form_drains_a_server() {
    let p = Proxy::start(&config(web()));
    let body = "s=web1&action=drain&b=%235";
    let post = |auth: &str| {
        http(
            p.addr("stats"),
            &format!(
                "POST /haproxy?stats HTTP/1.1\r\nhost: x\r\n{auth}content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    // Without credentials: 401, nothing changes.
    assert!(post("").starts_with("HTTP/1.1 401 "));
    let r = post(AUTH);
    assert!(r.starts_with("HTTP/1.1 303 See Other\r\n"), "{r}");
    assert!(r.contains("location: /haproxy?stats;st=DONE\r\n"), "{r}");
    let page = get(&p, "stats", "/haproxy?stats;st=DONE", true);
    assert!(page.contains("Action processed successfully."));
    assert!(page.contains("<tr class=\"active_draining\">"), "{page}");
    let out = p
        .engine
        .cli_execute("show servers state dyn", proxy_core::cli::Level::Admin);
    let web1 = out.lines().find(|l| l.contains(" web1 ")).unwrap();
    assert_eq!(web1.split(' ').nth(6), Some("8"), "drain: {web1}");
}

#[test]
fn page_without_admin_rule_refuses_actions() {
    let p = Proxy::start(&config(web()));
    let body = "s=web1&action=maint&b=dyn";
    let r = http(
        p.addr("ro"),
        &format!(
            "POST /st HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(r.contains("location: /st;st=DENY\r\n"), "{r}");
    let page = get(&p, "ro", "/st", false);
    assert!(page.contains("http-equiv=\"refresh\" content=\"5\""));
    assert!(!page.contains("<form method=\"post\""));
    assert!(!page.contains("class=\"maintain\""));
    let norefresh = get(&p, "ro", "/st;norefresh", false);
    assert!(!norefresh.contains("http-equiv=\"refresh\""));
}

#[test]
fn prometheus_exporter_parses_with_the_reference_client() {
    let p = Proxy::start(&config(web()));
    for _ in 0..2 {
        get(&p, "web", "/", false);
    }
    let r = get(&p, "web", "/metrics", false);
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    let body = r.split("\r\n\r\n").nth(1).unwrap().to_string();
    assert!(body.contains("haproxy_process_nbthread "));
    assert!(body.contains("haproxy_server_status{proxy=\"dyn\",server=\"web1\",state=\"UP\"} 1\n"));
    let script = "import sys\ntry:\n from prometheus_client.parser import text_string_to_metric_families\nexcept ImportError:\n print('SKIP'); sys.exit(0)\nf={x.name:x for x in text_string_to_metric_families(sys.stdin.read())}\nreq=[s.value for s in f['haproxy_frontend_http_requests'].samples if s.labels['proxy']=='web']\nprint(len(f), req[0])";
    let mut child = match std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => {
            eprintln!("skipped: python3 missing");
            return;
        }
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    if out.trim() == "SKIP" {
        eprintln!("skipped: prometheus_client not installed (scripts/setup installs it)");
        return;
    }
    let v: Vec<&str> = out.split_whitespace().collect();
    assert!(v[0].parse::<usize>().unwrap() > 150, "{out}");
    // Two requests counted before the exporter's own.
    assert!(v[1].parse::<f64>().unwrap() >= 2.0, "{out}");
}
