//! Fuzzes the ACL expression and condition parser: any input must give a value or an error, never a panic.
//!
//! The input is split into lines; the first word of each line picks what it is:
//! `acl NAME EXPR...` declares, `if`/`unless ...` compiles a condition and
//! evaluates it on a fixed request. Pattern files come from an in-memory loader.
#![no_main]

use std::collections::HashMap;
use std::net::SocketAddr;

use proxy_acl::{AclExpr, AclSet, Condition, RequestView};

struct Req;

impl RequestView for Req {
    fn method(&self) -> &str {
        "GET"
    }
    fn url(&self) -> &str {
        "http://example.com/a/b.php?x=1&y=2"
    }
    fn version(&self) -> &str {
        "1.1"
    }
    fn header_at(&self, index: usize) -> Option<(&str, &str)> {
        [
            ("Host", "example.com"),
            ("X-List", "a, \"b,c\", 10"),
            ("Cookie", "sid=abc; n=7"),
        ]
        .get(index)
        .copied()
    }
    fn src(&self) -> Option<SocketAddr> {
        "192.0.2.1:40000".parse().ok()
    }
    fn dst(&self) -> Option<SocketAddr> {
        "[2001:db8::1]:443".parse().ok()
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files: HashMap<String, String> = [
        ("a".to_string(), "/static\n# c\n\n10\n10.0.0.0/8\n^x$\n".to_string()),
        ("b".to_string(), "::1/128\n(\n".to_string()),
    ]
    .into();
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
                        let _ = cc.evaluate(&Req);
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
