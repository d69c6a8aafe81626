//! Fuzzes the HTTP/1.1 request head parser and the body framing behind it:
//! any input must give a value or an error, never a panic, and an accepted
//! head must serialize to bytes that parse back to the same head.
#![no_main]
use proxy_core::h1::{BodyDecoder, BytesMut, HeadParser, Limits, Side, Step};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&cut, raw)) = data.split_first() else {
        return;
    };
    // Deliver the bytes in two reads, cut where the first byte says.
    let cut = usize::from(cut).min(raw.len());
    let mut parser = HeadParser::new(Limits::default());
    let mut buf = BytesMut::from(&raw[..cut]);
    let head = match parser.parse_request(&mut buf) {
        Ok(Some(head)) => {
            buf.extend_from_slice(&raw[cut..]);
            head
        }
        Ok(None) => {
            buf.extend_from_slice(&raw[cut..]);
            match parser.parse_request(&mut buf) {
                Ok(Some(head)) => head,
                _ => return,
            }
        }
        Err(_) => return,
    };

    let mut encoded = BytesMut::new();
    head.encode(&mut encoded);
    assert_eq!(encoded.len(), head.encoded_len());
    let mut again = encoded.clone();
    let reparsed = HeadParser::new(Limits::default())
        .parse_request(&mut again)
        .expect("emitted head parses")
        .expect("emitted head is complete");
    let mut round = BytesMut::new();
    reparsed.encode(&mut round);
    assert_eq!(round, encoded);
    assert_eq!(reparsed.body_kind(), head.body_kind());

    let mut dec = BodyDecoder::new(head.body_kind(), Side::Client);
    let mut rest: &[u8] = &buf;
    loop {
        match dec.poll(rest) {
            Ok(Step::Data(n) | Step::Framing(n)) => {
                assert!(n > 0 && n <= rest.len());
                rest = &rest[n..];
            }
            Ok(Step::End { len, trailers }) => {
                assert!(len <= rest.len() && trailers.end <= len);
                break;
            }
            Ok(Step::NeedMore) | Err(_) => break,
        }
    }
});
