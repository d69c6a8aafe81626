//! Fuzzes the ACL expression and condition parser: any input must give a value or an error, never a panic.
//!
//! The input is split into lines; the first word of each line picks what it is:
//! `acl NAME EXPR...` declares, `if`/`unless ...` compiles a condition and
//! evaluates it on a fixed request. Pattern files come from an in-memory loader.
//! A parsed condition written back as words (as the configuration printer does)
//! parses to the same condition, and an expression parses the same from its words.
#![no_main]

use std::collections::HashMap;

use proxy_acl::{AclExpr, AclRef, AclSet, Condition, OwnedRequest, Polarity};

/// The words of `c`, `if`/`unless` first.
fn condition_words(c: &Condition) -> Vec<String> {
    let mut w = vec![match c.polarity {
        Polarity::If => "if".to_string(),
        Polarity::Unless => "unless".to_string(),
    }];
    for (i, alt) in c.alternatives.iter().enumerate() {
        if i > 0 {
            w.push("||".into());
        }
        for t in alt {
            if t.negated {
                w.push("!".into());
            }
            match &t.acl {
                AclRef::Named(n) => w.push(n.clone()),
                AclRef::Anonymous(words) => {
                    w.push("{".into());
                    w.extend(words.iter().cloned());
                    w.push("}".into());
                }
            }
        }
    }
    w
}

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
                    assert_eq!(Condition::parse(&condition_words(&c)).as_ref(), Ok(&c));
                    if let Ok(cc) = set.compile(&c, &files) {
                        let _ = cc.evaluate(&req);
                    }
                }
                if let Ok(e) = AclExpr::parse(&words) {
                    let _ = e.has_no_pattern();
                    assert_eq!(AclExpr::parse(e.words()).as_ref(), Ok(&e));
                }
            }
            None => {}
        }
    }
});
