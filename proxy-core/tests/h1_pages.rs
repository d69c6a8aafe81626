//! HAProxy's built-in answers must match, byte for byte, what haproxy 2.6
//! sent in `data/h1-haproxy-error-pages.tsv` (written by `capture_h1.py`).

use proxy_core::h1::{error_page, parse_error_page};

fn captured() -> Vec<(u16, String, Vec<u8>)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/h1-haproxy-error-pages.tsv"
    );
    let text = std::fs::read_to_string(path).expect("capture file is readable");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "bad capture line");
            let bytes = (0..f[2].len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&f[2][i..i + 2], 16).expect("hex digits"))
                .collect();
            (f[0].parse().expect("status"), f[1].to_string(), bytes)
        })
        .collect()
}

#[test]
fn pages_match_haproxy_byte_for_byte() {
    let rows = captured();
    assert!(rows.len() >= 16);
    for (status, source, bytes) in rows {
        let ours = match (source.as_str(), status) {
            ("deny_status", _) => error_page(status),
            // The HTTP/1 layer answers parse failures and request timeouts.
            ("real", 400 | 408 | 422) => parse_error_page(status),
            ("real", _) => error_page(status),
            (other, _) => panic!("unknown source {other}"),
        };
        assert_eq!(
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(&bytes),
            "{source} {status}"
        );
    }
}

#[test]
fn unknown_status_gets_the_500_page() {
    assert_eq!(error_page(418), error_page(500));
    assert!(error_page(500).starts_with(b"HTTP/1.1 500 "));
    assert_eq!(parse_error_page(503), error_page(503));
}

#[test]
fn content_length_matches_body() {
    for status in [
        400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
    ] {
        for page in [error_page(status), parse_error_page(status)] {
            let text = std::str::from_utf8(page).expect("ascii page");
            let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
            let cl = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .expect("content-length");
            assert_eq!(cl.parse::<usize>().expect("number"), body.len(), "{status}");
        }
    }
}
