//! `monitor-uri` and `monitor fail` as HAProxy 2.6 reads them (verdicts and
//! messages of `haproxy -c` on the same lines).

use proxy_config::*;

fn load(text: &str) -> Result<Loaded, Errors> {
    parse_str("t.cfg", text, &|_| None)
}

const TIMEOUTS: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

#[test]
fn read_inherited_and_printed_back() {
    let text = format!(
        "{TIMEOUTS}  monitor-uri /d\n\
         frontend f\n  bind :8080\n  acl down req.hdr(x-down) -m found\n  \
         monitor fail if down\n  monitor fail unless {{ path /health }}\n\
         frontend g\n  bind :8081\n  monitor-uri /g\n"
    );
    let loaded = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let c = &loaded.config;
    let f = c.frontend("f").unwrap();
    assert_eq!(f.monitor_uri.as_ref().map(|u| u.value.as_str()), Some("/d"));
    assert_eq!(f.monitor_fail.len(), 2);
    let g = c.frontend("g").unwrap();
    assert_eq!(g.monitor_uri.as_ref().map(|u| u.value.as_str()), Some("/g"));
    let printed = print(c);
    let again = load(&printed).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    assert_eq!(&again.config, c, "{printed}");
}

#[test]
fn refused_as_haproxy_refuses() {
    for (line, says) in [
        ("monitor", "'monitor' only supports 'fail'."),
        ("monitor pass if TRUE", "'monitor' only supports 'fail'."),
        (
            "monitor fail",
            "'monitor fail' requires either 'if' or 'unless' followed by a condition.",
        ),
        (
            "monitor fail foo",
            "'monitor fail' requires either 'if' or 'unless' followed by a condition.",
        ),
        ("monitor fail if nope", "nope"),
        ("monitor-uri", "monitor-uri"),
    ] {
        let text = format!("{TIMEOUTS}frontend f\n  bind :8080\n  {line}\n");
        let e = load(&text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {line}"));
        assert!(e.to_string().contains(says), "{line}: {e}");
        assert_eq!(e.diagnostics[0].span.line, 8, "{line}");
    }
}

#[test]
fn ignored_in_a_backend_with_a_warning() {
    let text = format!("{TIMEOUTS}backend b\n  monitor-uri /x\n");
    let loaded = load(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message().contains("no frontend capability")),
        "{:?}",
        loaded.warnings
    );
}

/// `nbsrv` must name a backend, or be used where there is one.
#[test]
fn nbsrv_backends_resolved_as_haproxy_resolves_them() {
    let text = format!(
        "{TIMEOUTS}frontend f\n  bind :8080\n  monitor-uri /h\n  \
         monitor fail if {{ nbsrv(nope) lt 1 }}\n  acl bare nbsrv eq 0\n"
    );
    let e = load(&text).expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains(
            "unable to find backend 'nope' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'f'."
        ),
        "{text}"
    );
    assert!(
        text.contains("proxy 'f', referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'f', has not backend capability."),
        "{text}"
    );
    let ok = format!(
        "{TIMEOUTS}listen l\n  bind :8080\n  monitor-uri /h\n  monitor fail if {{ nbsrv lt 1 }} || {{ nbsrv(b) lt 1 }}\n  \
         server s 127.0.0.1:80\nbackend b\n  server s 127.0.0.1:80\n"
    );
    load(&ok).unwrap_or_else(|e| panic!("{e}"));
}
