//! The runtime API on `stats socket`s, driven with socat exactly as an
//! operator does, answers compared with HAProxy 2.6's (captured in
//! data/stats/).

mod stats_util;

use stats_util::{Proxy, have, http, socat, socat_addr, web};

fn config(web1: std::net::SocketAddr) -> String {
    format!(
        "global
    stats socket @DIR@/admin.sock mode 600 level admin
    stats socket @DIR@/user.sock mode 600 level user
    stats socket @DIR@/oper.sock level operator
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:1
    maxconn 100
    default_backend dyn
backend dyn
    balance roundrobin
    server web1 {web1} maxconn 50
    server web2 127.0.0.1:1 weight 3
"
    )
}

fn setup() -> Option<Proxy> {
    if !have("socat") {
        eprintln!("skipped: socat is not installed (scripts/setup installs it)");
        return None;
    }
    Some(Proxy::start(&config(web())))
}

#[test]
fn show_info_and_help() {
    let Some(p) = setup() else { return };
    let admin = p.path("admin.sock");
    let info = socat(&admin, "show info\n");
    let theirs = include_str!("data/stats/show_info.txt");
    let names = |t: &str| -> Vec<String> {
        t.lines()
            .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_string()))
            .collect()
    };
    assert_eq!(names(&info), names(theirs));
    assert!(info.starts_with("Name: HAProxy\n"), "{info}");
    assert!(info.ends_with("\n\n"), "an empty line ends each answer");
    let help = socat(&admin, "help\n");
    assert!(help.starts_with("The following commands are valid at this level:\n"));
    assert!(help.contains(
        "  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server\n"
    ));
    // Each help line we print is word for word one of HAProxy's.
    let reference = include_str!("data/stats/help.txt");
    for l in help.lines().skip(1).filter(|l| !l.is_empty()) {
        assert!(reference.contains(l), "not HAProxy's help line: {l:?}");
    }
}

#[test]
fn show_stat_forms() {
    let Some(p) = setup() else { return };
    let admin = p.path("admin.sock");
    for _ in 0..3 {
        let r = http(p.addr("web"), "GET / HTTP/1.1\r\nhost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 "), "{r}");
    }
    let csv = socat(&admin, "show stat\n");
    let header = include_str!("data/stats/show_stat.txt")
        .lines()
        .next()
        .unwrap();
    assert_eq!(csv.lines().next().unwrap(), header);
    let rows: Vec<&str> = csv.lines().skip(1).filter(|l| !l.is_empty()).collect();
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.split(',').take(2).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        names,
        ["web,FRONTEND", "dyn,web1", "dyn,web2", "dyn,BACKEND"]
    );
    // Three requests went through the frontend.
    let fe: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(fe[7], "3", "stot: {}", rows[0]);
    let req_tot = header
        .trim_start_matches("# ")
        .split(',')
        .position(|c| c == "req_tot")
        .unwrap();
    assert_eq!(fe[req_tot], "3");
    let typed = socat(&admin, "show stat typed\n");
    assert!(typed.contains("F.2.0.0.pxname.1:KNS:str:web\n"), "{typed}");
    assert!(typed.contains("S.3.1.1.svname.1:KNS:str:web1\n"));
    let json = socat(&admin, "show stat json\n");
    assert!(json.starts_with("[[{\"objType\":\"Frontend\",\"proxyId\":2,\"id\":0,\"field\":{\"pos\":0,\"name\":\"pxname\"}"));
    // Filter: servers of proxy 3 only.
    let servers = socat(&admin, "show stat 3 4 -1\n");
    assert_eq!(servers.lines().filter(|l| l.starts_with("dyn,")).count(), 2);
    assert!(!servers.contains("FRONTEND"));
    let info_typed = socat(&admin, "show info typed\n");
    assert!(info_typed.starts_with("0.Name.1:POS:str:HAProxy\n"));
}

#[test]
fn server_state_weight_and_levels() {
    let Some(p) = setup() else { return };
    let admin = p.path("admin.sock");
    let user = p.path("user.sock");
    let oper = p.path("oper.sock");
    // HAProxy's answers, from the capture.
    assert_eq!(
        socat(&user, "set server dyn/web1 state drain\n"),
        "Permission denied\n\n"
    );
    assert_eq!(
        socat(&oper, "set server dyn/web1 state drain\n"),
        "Permission denied\n\n"
    );
    assert_eq!(
        socat(&user, "disable server dyn/web1\n"),
        "Permission denied\n\n"
    );
    assert_eq!(socat(&admin, "set server dyn/web1 state drain\n"), "\n");
    let stat = socat(&admin, "show stat\n");
    let web1 = stat.lines().find(|l| l.starts_with("dyn,web1,")).unwrap();
    assert_eq!(web1.split(',').nth(17), Some("DRAIN"), "{web1}");
    assert_eq!(
        socat(&admin, "set server dyn/web1 state bogus\n"),
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
    );
    assert_eq!(
        socat(&admin, "set server dyn/nope state ready\n"),
        "No such server.\n\n"
    );
    assert_eq!(
        socat(&admin, "set server nope/web1 state ready\n"),
        "No such backend.\n\n"
    );
    assert_eq!(
        socat(&admin, "set server dyn/web1\n"),
        "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n"
    );
    assert_eq!(
        socat(&admin, "set server dyn\n"),
        "Require 'backend/server'.\n\n"
    );
    assert_eq!(
        socat(&admin, "set server dyn/web1 weight 300\n"),
        "Absolute weight can only be between 0 and 256 inclusive.\n\n"
    );
    assert_eq!(
        socat(&admin, "set server dyn/web1 weight abc\n"),
        "Empty weight string empty or preceded by garbage\n\n"
    );
    assert_eq!(socat(&admin, "set server dyn/web1 weight 5\n"), "\n");
    assert_eq!(socat(&admin, "set weight dyn/web1 7\n"), "\n");
    assert_eq!(socat(&admin, "get weight dyn/web1\n"), "7 (initial 1)\n\n");
    assert_eq!(socat(&user, "get weight dyn/web1\n"), "7 (initial 1)\n\n");
    assert_eq!(socat(&admin, "disable server dyn/web2\n"), "\n");
    let st = socat(&oper, "show servers state\n");
    let theirs = include_str!("data/stats/show_servers_state.txt");
    assert_eq!(
        st.lines().take(2).collect::<Vec<_>>(),
        theirs.lines().take(2).collect::<Vec<_>>()
    );
    let web2 = st.lines().find(|l| l.contains(" web2 ")).unwrap();
    let f: Vec<&str> = web2.split(' ').collect();
    assert_eq!(
        (f[1], f[5], f[6], f[7]),
        ("dyn", "0", "1", "3"),
        "maint: {web2}"
    );
    assert_eq!(socat(&admin, "enable server dyn/web2\n"), "\n");
    assert_eq!(socat(&admin, "set server dyn/web1 state ready\n"), "\n");
    assert_eq!(
        socat(&user, "show servers state\n"),
        "Permission denied\n\n"
    );
    assert_eq!(
        socat(&admin, "show servers state nope\n"),
        "Can't find backend.\n\n"
    );
}

#[test]
fn several_commands_levels_prompt_and_maxconn() {
    let Some(p) = setup() else { return };
    let admin = p.path("admin.sock");
    assert_eq!(
        socat(&admin, "show backend; show cli level\n"),
        "# name\ndyn\n\nadmin\n\n"
    );
    assert_eq!(socat(&p.path("user.sock"), "show cli level\n"), "user\n\n");
    assert_eq!(
        socat(&admin, "operator; show cli level\n"),
        "\noperator\n\n"
    );
    // Prompt mode: the connection stays open and each answer is followed by
    // the prompt, as HAProxy's (captured byte for byte).
    assert_eq!(
        socat(&admin, "prompt\nshow backend\nshow cli level\nquit\n"),
        "\n> # name\ndyn\n\n> admin\n\n> "
    );
    assert_eq!(socat(&admin, "set maxconn frontend web 10\n"), "\n");
    let stat = socat(&admin, "show stat\n");
    let fe = stat
        .lines()
        .find(|l| l.starts_with("web,FRONTEND,"))
        .unwrap();
    assert_eq!(fe.split(',').nth(6), Some("10"), "slim: {fe}");
    assert_eq!(
        socat(&admin, "set maxconn frontend nope 10\n"),
        "No such frontend.\n\n"
    );
    assert!(socat(&admin, "bogus command\n").starts_with("Unknown command"));
    assert!(socat(&admin, "show errors\n").starts_with("Total events captured on ["));
    assert_eq!(
        socat(&admin, "add server dyn/web3 127.0.0.1:9\n"),
        "New server registered.\n\n"
    );
    // As HAProxy's, this answer has no empty line after it.
    assert_eq!(
        socat(&admin, "del server nope/web3\n"),
        "No such backend.\n"
    );
}

#[test]
fn tcp_socket_and_engine_entry_point() {
    if !have("socat") {
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = format!(
        "global\n    stats socket ipv4@127.0.0.1:{port} level operator\ndefaults\n    mode http\nfrontend f\n    bind 127.0.0.1:1\n    timeout client 5s\n    http-request return status 200\n"
    );
    let p = Proxy::start(&text);
    let addr = format!("TCP:127.0.0.1:{port}");
    assert_eq!(socat_addr(&addr, "show cli level\n"), "operator\n\n");
    assert_eq!(
        socat_addr(&addr, "disable server b/s\n"),
        "Permission denied\n\n"
    );
    let out = p
        .engine
        .cli_execute("show backend", proxy_core::cli::Level::User);
    assert_eq!(out, "# name\n\n");
}
