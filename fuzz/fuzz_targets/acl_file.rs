//! Fuzzes the ACL pattern-file loader (the content `-f FILE` reads): never a
//! panic whatever the file holds, and with `path -m str`, every pattern the
//! file lists matches a request for exactly that path.
//!
//! The first input byte picks the criterion the file is loaded for; the
//! rest is the file.
#![no_main]

use std::collections::HashMap;

use proxy_acl::{AclExpr, CompiledAcl, OwnedRequest};

/// Criteria a pattern file is commonly loaded for, one per match method.
const CRITERIA: [&str; 14] = [
    "path -m str",
    "path_beg -i",
    "path_end",
    "path_sub",
    "path_reg",
    "path_dir",
    "hdr_dom(host)",
    "path_len",
    "src",
    "dst",
    "src_port",
    "url_param(x) -m int",
    "path -m found",
    "hdr(x-a) -m bool",
];

/// A request whose path is `path`, with addresses for the IP criteria.
fn request(path: &str) -> OwnedRequest {
    let mut req = OwnedRequest::new("GET", path)
        .header("Host", "www.example.com")
        .header("X-A", "1");
    req.src = "192.0.2.1:40000".parse().ok();
    req.dst = "[2001:db8::1]:443".parse().ok();
    req
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(file) = std::str::from_utf8(rest) else {
        return;
    };
    let criterion = CRITERIA[usize::from(pick) % CRITERIA.len()];
    let words: Vec<String> = criterion
        .split(' ')
        .chain(["-f", "f"])
        .map(String::from)
        .collect();
    let Ok(expr) = AclExpr::parse(&words) else {
        panic!("fixed expression must parse: {criterion}");
    };
    let files: HashMap<String, String> = [("f".to_string(), file.to_string())].into();
    let Ok(acl) = CompiledAcl::compile(&expr, &files) else {
        return;
    };
    let _ = acl.matches(&request("/a/b.php?x=10"));

    if criterion == "path -m str" {
        // The loader's rule for a line: blanks around it go, blank lines
        // and comments are skipped. A path has no query and starts with '/'.
        for line in file.lines() {
            let line = line.trim_matches([' ', '\t', '\r']);
            if !line.starts_with('/') || line.contains('?') {
                continue;
            }
            assert!(
                acl.matches(&request(line)),
                "pattern {line:?} from the file does not match its own path"
            );
        }
    }
});
