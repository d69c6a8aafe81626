//! Response fetches (`status`, `res.hdr`, `shdr`, `res.fhdr`, `scook`,
//! `res.ver`...) and `var(NAME)`: what they match on a response, that they
//! match nothing before there is one, and `haproxy -c` 2.6.12's wording for
//! the lines it refuses.

use proxy_acl::{AclExpr, AclSet, Condition, NoFiles, OwnedRequest, OwnedResponse};

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

/// Whether the ACL `expr` matches `req`.
fn matches(expr: &str, req: &OwnedRequest) -> bool {
    let mut set = AclSet::new();
    let e = AclExpr::parse(&words(expr)).unwrap_or_else(|e| panic!("{expr}: {e}"));
    set.declare("a", &e, &NoFiles).expect("declare");
    let c = Condition::parse(&words("if a")).expect("condition");
    set.compile(&c, &NoFiles).expect("compile").evaluate(req)
}

fn refused(expr: &str) -> String {
    match AclExpr::parse(&words(expr)) {
        Ok(_) => format!("accepted: {expr}"),
        Err(e) => e.to_string(),
    }
}

fn exchange() -> OwnedRequest {
    OwnedRequest::new("GET", "/a")
        .header("X-Req", "r")
        .var("txn.tier", "gold")
        .var("req.n", "12")
        .with_response(
            OwnedResponse::new(404)
                .header("X-A", "one, two")
                .header("x-a", "three")
                .header("Content-Length", "42")
                .header("X-Addr", "192.0.2.7:80")
                .header("Set-Cookie", "sid=abc; Path=/; Max-Age=30")
                .header("Set-Cookie", "n=7"),
        )
}

#[test]
fn status_and_version() {
    let r = exchange();
    assert!(matches("status 404", &r));
    assert!(matches("status 400:499", &r));
    assert!(!matches("status 200", &r));
    assert!(matches("status ge 400", &r));
    assert!(matches("res.ver 1.1", &r));
    assert!(matches("resp_ver 1.1", &r));
    assert!(!matches("res.ver 1.0", &r));
}

#[test]
fn response_headers() {
    let r = exchange();
    // Comma-split values, every occurrence.
    assert!(matches("res.hdr(x-a) two", &r));
    assert!(matches("shdr(X-A) three", &r));
    assert!(matches("res.hdr(x-a,1) one", &r));
    assert!(!matches("res.hdr(x-a,1) two", &r));
    assert!(matches("res.hdr(x-a,-1) three", &r));
    assert!(matches("shdr_beg(x-a) thr", &r));
    assert!(matches("shdr_sub(x-a) wo", &r));
    assert!(matches("res.hdr_cnt(x-a) 3", &r));
    assert!(matches("shdr_cnt(x-a) eq 3", &r));
    assert!(matches("res.hdr_val(content-length) gt 40", &r));
    assert!(matches("shdr_ip(x-addr) 192.0.2.0/24", &r));
    // Whole values: the comma does not split.
    assert!(matches("res.fhdr(x-a,1) -m beg one,", &r));
    assert!(!matches("res.fhdr(x-a) two", &r));
    assert!(matches("res.fhdr_cnt(x-a) 2", &r));
    // The request's headers are not the response's.
    assert!(!matches("res.hdr(x-req) -m found", &r));
    assert!(!matches("req.hdr(x-a) -m found", &r));
}

// Checked against haproxy 2.6.12: in http-response rules, ACLs on the
// request's contents never match; the method and addresses still do.
#[test]
fn request_contents_are_out_of_reach_once_the_response_exists() {
    let r = exchange();
    let before = OwnedRequest::new("GET", "/a").header("X-Req", "r");
    for acl in [
        "path /a",
        "req.hdr(x-req) -m found",
        "hdr(x-req) r",
        "url_beg /",
        "req.ver 1.1",
    ] {
        assert!(matches(acl, &before), "{acl}");
        assert!(!matches(acl, &r), "{acl}");
    }
    assert!(matches("method GET", &r));
    assert!(matches("var(txn.tier) -m found", &r));
}

#[test]
fn response_cookies() {
    let r = exchange();
    assert!(matches("res.cook(sid) abc", &r));
    assert!(matches("scook(n) 7", &r));
    // Attributes are not cookies.
    assert!(!matches("scook(Path) -m found", &r));
    assert!(matches("res.cook_cnt 2", &r));
    assert!(matches("scook_val(n) lt 10", &r));
    assert!(matches("scook_beg(sid) ab", &r));
}

#[test]
fn nothing_matches_before_the_response() {
    let r = OwnedRequest::new("GET", "/").header("X-A", "1");
    for acl in [
        "status -m found",
        "res.hdr(x-a) -m found",
        "res.fhdr(x-a) -m found",
        "res.ver -m found",
        "scook(a) -m found",
        "status ge 0",
    ] {
        assert!(!matches(acl, &r), "{acl}");
    }
    // Not even a count of zero: there is no response to count in.
    assert!(!matches("res.hdr_cnt(x-a) 0", &r));
    assert!(!matches("scook_cnt 0", &r));
}

#[test]
fn variables() {
    let r = exchange();
    assert!(matches("var(txn.tier) -m str gold", &r));
    assert!(!matches("var(txn.tier) -m str silver", &r));
    assert!(matches("var(req.n) -m int gt 10", &r));
    assert!(matches("var(txn.tier) -m found", &r));
    assert!(!matches("var(txn.other) -m found", &r));
    // The second argument stands in for an unset variable.
    assert!(matches("var(txn.other,x) -m str x", &r));
}

#[test]
fn response_only_fetches() {
    for (expr, response) in [
        ("status 200", true),
        ("res.hdr(x) a", true),
        ("shdr_beg(x) a", true),
        ("res.fhdr(x) a", true),
        ("res.cook(a) b", true),
        ("resp_ver 1.1", true),
        ("hdr(x) a", false),
        ("req.fhdr(x) a", false),
        ("var(txn.a) -m found", false),
        ("path /", false),
    ] {
        let e = AclExpr::parse(&words(expr)).expect(expr);
        assert_eq!(e.fetch().is_response_only(), response, "{expr}");
    }
    // The lists `haproxy -c` gives for a backend's http-response rules.
    for (expr, request) in [
        ("path /", true),
        ("base_sub a", true),
        ("cook_val(a) 1", true),
        ("hdr_ip(x) 1.1.1.1", true),
        ("req.fhdr_cnt(x) 1", true),
        ("req_ver 1.1", true),
        ("urlp_val(a) 1", true),
        ("http_auth(ul)", true),
        ("method GET", false),
        ("src 1.1.1.1", false),
        ("dst_port 1", false),
        ("ssl_fc", false),
        ("var(txn.a) -m found", false),
        ("always_true", false),
        ("status 200", false),
    ] {
        let e = AclExpr::parse(&words(expr)).expect(expr);
        assert_eq!(e.fetch().is_request_only(), request, "{expr}");
    }
}

// Wording checked against `haproxy -c` 2.6.12.
#[test]
fn refused_like_haproxy() {
    assert_eq!(
        refused("var(txn.foo) bar"),
        "matching method must be specified first (using '-m') when using a sample fetch of this type ('var')"
    );
    assert_eq!(
        refused("var(foo) -m str bar"),
        "invalid args in fetch method 'var' : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check' in ACL expression 'var(foo)'"
    );
    assert_eq!(
        refused("var() x"),
        "invalid args in fetch method 'var' : Empty variable name cannot be accepted in ACL expression 'var()'"
    );
    assert_eq!(
        refused("res.hdr(x,y) a"),
        "fetch method 'res.hdr' : failed to parse 'y' as type 'integer' at position 2 in ACL expression 'res.hdr(x,y)'"
    );
    assert_eq!(
        refused("status(1) 2"),
        "fetch method 'status' : expected ')' before '1)' in ACL expression 'status(1)'"
    );
    assert_eq!(
        refused("fhdr(x) a"),
        "unknown fetch method 'fhdr' in ACL expression 'fhdr(x)'"
    );
}
