//! `h1-case-adjust`, `h1-case-adjust-file` and the
//! `option h1-case-adjust-bogus-client|server` options as HAProxy 2.6 reads
//! them (verdicts of `haproxy -c` on the same lines).

use proxy_config::*;

fn load(text: &str) -> Result<Loaded, Errors> {
    parse_str("t.cfg", text, &|_| None)
}

const TIMEOUTS: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

#[test]
fn rules_file_and_options_are_read() {
    let text = format!(
        "global\n  h1-case-adjust content-length Content-LENGTH\n  h1-case-adjust x-a X-A\n  \
         h1-case-adjust-file /etc/case.txt\n{TIMEOUTS}\
         frontend f\n  bind :8080\n  option h1-case-adjust-bogus-client\n  default_backend b\n\
         backend b\n  option h1-case-adjust-bogus-server\n  server s 127.0.0.1:80\n"
    );
    let loaded = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let c = loaded.config;
    let rules: Vec<_> = c
        .global
        .h1_case_adjust
        .iter()
        .map(|r| r.value.clone())
        .collect();
    assert_eq!(
        rules,
        [
            ("content-length".to_string(), "Content-LENGTH".to_string()),
            ("x-a".to_string(), "X-A".to_string())
        ]
    );
    assert_eq!(
        c.global.h1_case_adjust_file.map(|f| f.value),
        Some(std::path::PathBuf::from("/etc/case.txt"))
    );
    let proxy = |name: &str| c.proxies.iter().find(|p| p.name.value == name).unwrap();
    assert!(proxy("f").option_enabled("h1-case-adjust-bogus-client"));
    assert!(proxy("b").option_enabled("h1-case-adjust-bogus-server"));
}

#[test]
fn a_rule_needs_two_names_equal_up_to_case() {
    for line in [
        "h1-case-adjust content-length Foo",
        "h1-case-adjust content-length",
        "h1-case-adjust-file",
    ] {
        let text = format!("global\n  {line}\n{TIMEOUTS}");
        assert!(load(&text).is_err(), "accepted: {line}");
    }
    let text = format!("global\n  h1-case-adjust Content-Length CONTENT-length\n{TIMEOUTS}");
    assert!(load(&text).is_ok());
}
