//! Fuzzes the ACL expression and condition parser: any input must give a value or an error, never a panic.
//!
//! The input is split into lines; the first word of each line picks what it is:
//! `acl NAME EXPR...` declares, `if`/`unless ...` compiles a condition and
//! evaluates it on a fixed request. Pattern files come from an in-memory loader.
#![no_main]

use std::collections::HashMap;

use proxy_acl::{AclExpr, AclSet, Condition, OwnedRequest};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files: HashMap<String, String> = [
        (
            "a".to_string(),
            "/static\n# c\n\n10\n10.0.0.0/8\n^x$\n".to_string(),
        ),
        ("b".to_string(), "::1/128\n(\n".to_string()),
    ]
    .into();
    let mut req = OwnedRequest::new("GET", "http://example.com/a/b.php?x=1&y=2")
        .header("Host", "example.com")
        .header("X-List", "a, \"b,c\", 10")
        .header("Cookie", "sid=abc; n=7");
    req.src = "192.0.2.1:40000".parse().ok();
    req.dst = "[2001:db8::1]:443".parse().ok();
    let mut set = AclSet::new();
    for line in text.lines() {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        match words.split_first() {
            Some((kw, rest)) if kw == "acl" => {
                if let Some((name, expr)) = rest.split_first() {
                    if let Ok(e) = AclExpr::parse(expr) {
                        let _ = set.declare(name, &e, &files);
                    }
                }
            }
            Some(_) => {
                if let Ok(c) = Condition::parse(&words) {
                    let _ = c.acl_names().count();
                    if let Ok(cc) = set.compile(&c, &files) {
                        let _ = cc.evaluate(&req);
                    }
                }
                if let Ok(e) = AclExpr::parse(&words) {
                    let _ = e.has_no_pattern();
                }
            }
            None => {}
        }
    }
});
