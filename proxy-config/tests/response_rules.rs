//! `http-response return` and response fetches in conditions, with the
//! verdicts and warnings `haproxy -c` 2.6.12 gives for the same lines.

use proxy_config::*;

const TIMEOUTS: &str =
    "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n";

fn warnings(text: &str) -> Vec<String> {
    match parse_str("t.cfg", text, &|_| None) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("refused: {e}"),
    }
}

/// `got` holds the warnings `haproxy` gives as (line, text), in order.
fn same_warnings(got: &[String], haproxy: &[(u32, &str)]) {
    assert_eq!(got.len(), haproxy.len(), "{got:#?}");
    for (got, (line, text)) in got.iter().zip(haproxy) {
        assert!(
            got.starts_with(&format!("t.cfg:{line}:")) && got.ends_with(text),
            "{got}\nexpected line {line}: {text}"
        );
    }
}

#[test]
fn http_response_return_is_accepted() {
    let text = format!(
        "{TIMEOUTS}frontend f\n  bind :80\n  acl st status 404\n  \
         http-response return status 200 content-type text/plain string hi hdr x-b y if st\n  \
         http-response return status 503 if {{ res.hdr(x-a) -m found }}\n  \
         default_backend b\nbackend b\n  server s 127.0.0.1:81\n"
    );
    let loaded = parse_str("t.cfg", &text, &|_| None).expect("accepted");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let f = loaded
        .config
        .proxies
        .iter()
        .find(|p| p.name.value == "f")
        .expect("frontend");
    let actions: Vec<&HttpAction> = f.http_response.iter().map(|r| &r.value.action).collect();
    assert_eq!(
        actions,
        [
            &HttpAction::Return(
                "status 200 content-type text/plain string hi hdr x-b y"
                    .split(' ')
                    .map(String::from)
                    .collect()
            ),
            &HttpAction::Return(vec!["status".into(), "503".into()]),
        ]
    );
}

#[test]
fn response_fetches_in_request_rules_warn_as_haproxy() {
    let w = warnings(&format!(
        "{TIMEOUTS}frontend fe\n  bind :80\n  acl st status 404\n  acl mix status 404\n  \
         acl mix path /x\n  acl p path /a\n  \
         http-request deny if st\n  \
         http-request deny if {{ res.hdr_cnt(x) gt 0 }}\n  \
         http-request deny if p mix\n  \
         http-request deny if p mix || st\n  \
         http-request deny if p\n  \
         use_backend b if {{ shdr(x) -m found }}\n  \
         default_backend b\n\
         backend b\n  http-request deny if {{ status 200 }} || TRUE\n  \
         acl st2 status 500\n  http-response deny if st2\n  server s 127.0.0.1:81\n"
    ));
    // HAProxy's lines, as `haproxy -c` printed them for the same file.
    let haproxy = [
        (
            12,
            "acl 'st' will never match because it only involves keywords that are incompatible with 'frontend http-request header rule'",
        ),
        (
            13,
            "anonymous acl will never match because it uses keyword 'res.hdr_cnt' which is incompatible with 'frontend http-request header rule'",
        ),
        (
            14,
            "acl 'mix' involves keywords 'status' which is incompatible with 'frontend http-request header rule'",
        ),
        (
            15,
            "acl 'st' will never match because it only involves keywords that are incompatible with 'frontend http-request header rule'",
        ),
        (
            17,
            "anonymous acl will never match because it uses keyword 'shdr' which is incompatible with 'frontend use-backend rule'",
        ),
        (
            20,
            "anonymous acl will never match because it uses keyword 'status' which is incompatible with 'backend http-request header rule'",
        ),
    ];
    same_warnings(&w, &haproxy);
}

#[test]
fn request_contents_in_response_rules_warn_as_haproxy() {
    let w = warnings(&format!(
        "{TIMEOUTS}frontend fe\n  bind :80\n  acl p path /a\n  acl h req.hdr(x) -m found\n  \
         http-response deny if p\n  http-response deny if h\n  \
         http-response deny if {{ method GET }} {{ src 127.0.0.1 }} {{ var(txn.a) -m found }}\n  \
         http-response deny if {{ hdr(x) -m found }} {{ hdr_cnt(x) gt 1 }}\n  \
         default_backend b\nbackend b\n  http-response deny if {{ url_beg /a }}\n  \
         server s 127.0.0.1:81\n"
    ));
    let haproxy = [
        (
            10,
            "acl 'p' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'",
        ),
        (
            11,
            "acl 'h' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'",
        ),
        (
            13,
            "anonymous acl will never match because it uses keyword 'hdr' which is incompatible with 'frontend http-response header rule'",
        ),
        (
            16,
            "anonymous acl will never match because it uses keyword 'url_beg' which is incompatible with 'backend http-response header rule'",
        ),
    ];
    same_warnings(&w, &haproxy);
}

fn refused(text: &str) -> Vec<String> {
    match parse_str("t.cfg", text, &|_| None) {
        Ok(l) => panic!("accepted; warnings: {:?}", l.warnings),
        Err(e) => e.errors().map(ToString::to_string).collect(),
    }
}

// Verdicts of haproxy -c 2.6.12 (bin-haproxyd/tests/corpus/err-http-*-value.cfg).
#[test]
fn values_sampling_the_other_direction_are_refused() {
    for (line, needs) in [
        (
            "http-response set-header x a%[path]b",
            "sample fetch <path]b> may not be reliably used here because it needs 'HTTP request headers' which is not available here",
        ),
        (
            "http-request set-header x %[res.hdr(x-a),lower]",
            "sample fetch <res.hdr(x-a),lower]> may not be reliably used here because it needs 'HTTP response headers' which is not available here",
        ),
        (
            "http-request return status 200 content-type t lf-string %[status]",
            "sample fetch <status]> may not be reliably used here because it needs 'HTTP response' which is not available here",
        ),
        (
            "http-response set-var(txn.p) path",
            "fetch method 'set-var(txn.p)' extracts information from 'HTTP request headers', none of which is available here",
        ),
    ] {
        let e = refused(&format!("{TIMEOUTS}backend b\n  {line}\n"));
        assert!(
            e.len() == 1 && e[0].starts_with("t.cfg:7:") && e[0].ends_with(needs),
            "{line}: {e:?}"
        );
    }
    // hdr() samples whichever message the rule works on; the method and the
    // addresses are there in both directions.
    assert!(
        warnings(&format!(
            "{TIMEOUTS}backend b\n  http-response set-header x %[hdr(x)]%[method]%[src]\n  \
             http-request set-header x %[hdr(host)]\n"
        ))
        .is_empty()
    );
}
