//! Replays HAProxy 2.6's captured verdicts (`data/h1-haproxy-answers.tsv`,
//! written by `capture_h1.py`) against the codec: for each raw request or
//! response, the status the codec implies must be the status HAProxy sent,
//! except for the deliberate differences listed in `DEVIATIONS`.

use bytes::BytesMut;
use proxy_core::h1::{BodyDecoder, HeadParser, Limits, Side, Step};

/// Cases where the codec is knowingly stricter than HAProxy 2.6, with the
/// status the codec gives and why.
const DEVIATIONS: &[(&str, u16, &str)] = &[
    (
        "hdr_value_nul",
        400,
        "NUL in a header value is refused (HAProxy 2.6 forwards it)",
    ),
    (
        "hdr_value_ctl",
        400,
        "control bytes in header values are refused",
    ),
    (
        "obs_fold",
        400,
        "RFC 9112 5.2 lets a server refuse obs-fold in requests",
    ),
    ("version_12", 400, "only HTTP/1.0 and HTTP/1.1 are spoken"),
    ("version_20", 400, "only HTTP/1.0 and HTTP/1.1 are spoken"),
    (
        "request_line_tab",
        400,
        "the request line is delimited by spaces only",
    ),
    ("uri_del", 400, "DEL is refused in the request target"),
    ("resp_status_short", 502, "a status code has three digits"),
    (
        "resp_version_bad",
        502,
        "a response must start with HTTP/1.x",
    ),
    (
        "resp_hdr_value_nul",
        502,
        "NUL in a header value is refused",
    ),
];

struct Case {
    side: String,
    name: String,
    status: u16,
    bytes: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/h1-haproxy-answers.tsv"
    );
    let text = std::fs::read_to_string(path).expect("capture file is readable");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "bad capture line: {l}");
            Case {
                side: f[0].to_string(),
                name: f[1].to_string(),
                status: f[2].parse().expect("status is a number"),
                bytes: hex(f[4]),
            }
        })
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// Drives the decoder over the whole body; the peer closes after `buf`.
fn body_ok(dec: &mut BodyDecoder, buf: &mut BytesMut) -> Result<(), u16> {
    loop {
        let step = dec.poll(buf).map_err(|e| e.status())?;
        match step {
            Step::Data(n) | Step::Framing(n) => {
                let _ = buf.split_to(n);
            }
            Step::End { len, .. } => {
                let _ = buf.split_to(len);
                return Ok(());
            }
            Step::NeedMore => return dec.finish().map_err(|e| e.status()),
        }
    }
}

/// Status the codec implies for a request: 200 when it would be forwarded
/// (the capture's backend answers 200), else the error's status.
fn request_verdict(raw: &[u8]) -> u16 {
    let mut parser = HeadParser::new(Limits::default());
    let mut buf = BytesMut::from(raw);
    match parser.parse_request(&mut buf) {
        Ok(Some(head)) => {
            let mut dec = BodyDecoder::new(head.body_kind(), Side::Client);
            match body_ok(&mut dec, &mut buf) {
                Ok(()) => 200,
                Err(status) => status,
            }
        }
        // HAProxy times the incomplete request out.
        Ok(None) => 408,
        Err(e) => e.status(),
    }
}

fn response_verdict(name: &str, raw: &[u8]) -> u16 {
    let mut parser = HeadParser::new(Limits::default());
    let mut req = BytesMut::from(format!("GET /r/{name} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
    let info = match parser.parse_request(&mut req) {
        Ok(Some(head)) => head.info(),
        other => panic!("request for {name} did not parse: {other:?}"),
    };
    let mut buf = BytesMut::from(raw);
    match parser.parse_response(&mut buf, &info) {
        Ok(Some(head)) => {
            let mut dec = BodyDecoder::new(head.body_kind(), Side::Server);
            match body_ok(&mut dec, &mut buf) {
                Ok(()) => head.status(),
                Err(status) => status,
            }
        }
        Ok(None) => 502,
        Err(e) => e.status(),
    }
}

#[test]
fn codec_agrees_with_captured_haproxy_answers() {
    let cases = cases();
    assert!(cases.len() > 80, "capture looks truncated");
    let mut failures = Vec::new();
    for c in &cases {
        let got = match c.side.as_str() {
            "request" => request_verdict(&c.bytes),
            "response" => response_verdict(&c.name, &c.bytes),
            other => panic!("unknown side {other}"),
        };
        let want = DEVIATIONS
            .iter()
            .find(|d| d.0 == c.name)
            .map_or(c.status, |d| d.1);
        if got != want {
            failures.push(format!(
                "{} {}: haproxy {}, want {want}, codec {got}",
                c.side, c.name, c.status
            ));
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn every_deviation_names_a_captured_case_that_differs() {
    let cases = cases();
    for (name, ours, _) in DEVIATIONS {
        let c = cases
            .iter()
            .find(|c| c.name == *name)
            .unwrap_or_else(|| panic!("{name} not captured"));
        assert_ne!(c.status, *ours, "{name} is no longer a deviation");
    }
}
