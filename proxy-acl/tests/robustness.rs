//! Arbitrary word sequences given to the parsers and the compiler must produce a
//! value or an error, never a panic; what compiles must evaluate.

use std::collections::HashMap;
use std::net::SocketAddr;

use proptest::prelude::*;
use proxy_acl::{AclExpr, AclSet, Condition, RequestView, criteria};

struct Req;

impl RequestView for Req {
    fn method(&self) -> &str {
        "PURGE"
    }
    fn url(&self) -> &str {
        "/a/b?x=1&x=&y"
    }
    fn version(&self) -> &str {
        "1.1"
    }
    fn header_at(&self, index: usize) -> Option<(&str, &str)> {
        [
            ("Host", "h"),
            ("Cookie", "a=1; ; b"),
            ("X", "\"unterminated, 1"),
        ]
        .get(index)
        .copied()
    }
    fn src(&self) -> Option<SocketAddr> {
        "[::ffff:10.0.0.1]:1".parse().ok()
    }
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
}

fn word() -> impl Strategy<Value = String> {
    let kws: Vec<String> = criteria().map(String::from).collect();
    prop_oneof![
        proptest::sample::select(kws.clone()),
        proptest::sample::select(kws).prop_map(|k| format!("{k}(x,-1)")),
        proptest::sample::select(vec![
            "-i",
            "-m",
            "-f",
            "-u",
            "-n",
            "--",
            "str",
            "beg",
            "reg",
            "ip",
            "int",
            "len",
            "found",
            "bool",
            "gt",
            "lt",
            "{",
            "}",
            "!",
            "||",
            "if",
            "unless",
            "TRUE",
            "a",
            "f1",
            "(",
            "1:",
            ":",
            "10.0.0.0/8",
            "::/0",
            "^a",
            "/",
        ])
        .prop_map(String::from),
        "[ -~]{0,6}",
    ]
}

proptest! {
    #[test]
    fn never_panics(lines in proptest::collection::vec(proptest::collection::vec(word(), 0..8), 1..6)) {
        let files: HashMap<String, String> =
            [("f1".to_string(), "a\n1\n::1\n(\n".to_string())].into();
        let mut set = AclSet::new();
        for words in &lines {
            if let Ok(e) = AclExpr::parse(words) {
                let _ = set.declare("a", &e, &files);
            }
            let mut cond = vec!["if".to_string()];
            cond.extend(words.iter().cloned());
            if let Ok(c) = Condition::parse(&cond) {
                if let Ok(cc) = set.compile(&c, &files) {
                    let _ = cc.evaluate(&Req);
                }
            }
        }
    }
}
