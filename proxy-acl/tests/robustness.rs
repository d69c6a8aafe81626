//! Arbitrary word sequences given to the parsers and the compiler must produce a
//! value or an error, never a panic; what compiles must evaluate.

use proptest::prelude::*;
use proxy_acl::{AclExpr, AclSet, Condition, OwnedRequest, criteria};
use std::collections::HashMap;

fn req() -> OwnedRequest {
    let mut r = OwnedRequest::new("PURGE", "/a/b?x=1&x=&y")
        .header("Host", "h")
        .header("Cookie", "a=1; ; b")
        .header("X", "\"unterminated, 1");
    r.src = "[::ffff:10.0.0.1]:1".parse().ok();
    r
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
        let req = req();
        let mut set = AclSet::new();
        for words in &lines {
            if let Ok(e) = AclExpr::parse(words) {
                let _ = set.declare("a", &e, &files);
            }
            let mut cond = vec!["if".to_string()];
            cond.extend(words.iter().cloned());
            if let Ok(c) = Condition::parse(&cond) {
                if let Ok(cc) = set.compile(&c, &files) {
                    let _ = cc.evaluate(&req);
                }
            }
        }
    }
}
