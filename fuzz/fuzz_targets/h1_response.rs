//! Fuzzes the HTTP/1.1 response head parser against every kind of request
//! (GET, HEAD, CONNECT, upgrade): never a panic, and an accepted head
//! serializes to bytes that parse back to the same head.
#![no_main]
use proxy_core::h1::{BytesMut, HeadParser, Limits};

const REQUESTS: [&[u8]; 4] = [
    b"GET / HTTP/1.1\r\n\r\n",
    b"HEAD / HTTP/1.0\r\n\r\n",
    b"CONNECT a:443 HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, raw)) = data.split_first() else {
        return;
    };
    let mut parser = HeadParser::new(Limits::default());
    let mut req = BytesMut::from(REQUESTS[usize::from(pick) % REQUESTS.len()]);
    let Ok(Some(request)) = parser.parse_request(&mut req) else {
        panic!("fixed request must parse");
    };
    let info = request.info();
    let mut buf = BytesMut::from(raw);
    let Ok(Some(head)) = parser.parse_response(&mut buf, &info) else {
        return;
    };
    let mut encoded = BytesMut::new();
    head.encode(&mut encoded);
    assert_eq!(encoded.len(), head.encoded_len());
    let mut again = encoded.clone();
    let reparsed = HeadParser::new(Limits::default())
        .parse_response(&mut again, &info)
        .expect("emitted head parses")
        .expect("emitted head is complete");
    assert_eq!(reparsed.status(), head.status());
    assert_eq!(reparsed.body_kind(), head.body_kind());
    let mut round = BytesMut::new();
    reparsed.encode(&mut round);
    assert_eq!(round, encoded);
});
