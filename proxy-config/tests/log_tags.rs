//! `log-tag` and `log-send-hostname` as HAProxy 2.6 reads them (verdicts of
//! `haproxy -c` on the same lines).

use proxy_config::*;

fn load(text: &str) -> Result<Loaded, Errors> {
    parse_str("t.cfg", text, &|_| None)
}

const TIMEOUTS: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

#[test]
fn tags_are_read_and_inherited_from_defaults() {
    let text = format!(
        "global\n  log-tag gtag\n  log-send-hostname my.host extra\n{TIMEOUTS}  log-tag deftag\n\
         frontend f\n  bind :8080\n  log-tag fetag x\n  default_backend b\n\
         backend b\n  server s 127.0.0.1:80\n"
    );
    let c = load(&text).unwrap_or_else(|e| panic!("{e}")).config;
    assert_eq!(c.global.log_tag.map(|t| t.value).as_deref(), Some("gtag"));
    assert_eq!(
        c.global.log_send_hostname.map(|h| h.value),
        Some(Some("my.host".to_string()))
    );
    let tag = |name: &str| {
        c.proxies
            .iter()
            .find(|p| p.name.value == name)
            .and_then(|p| p.log_tag.as_ref())
            .map(|t| t.value.clone())
    };
    assert_eq!(tag("f").as_deref(), Some("fetag"));
    assert_eq!(tag("b").as_deref(), Some("deftag"));

    let c = load(&format!("global\n  log-send-hostname\n{TIMEOUTS}"))
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    assert_eq!(c.global.log_send_hostname.map(|h| h.value), Some(None));
}

#[test]
fn a_tag_is_required_and_global_takes_one_word() {
    for text in [
        format!("global\n  log-tag\n{TIMEOUTS}"),
        format!("global\n  log-tag a b\n{TIMEOUTS}"),
        format!("{TIMEOUTS}  log-tag\n"),
    ] {
        assert!(load(&text).is_err(), "accepted: {text}");
    }
}
