//! Properties of the codec over random inputs: splitting the bytes anywhere
//! never changes what is parsed or decoded.

use bytes::{Buf, BytesMut};
use proptest::prelude::*;
use proxy_core::h1::{
    BodyDecoder, BodyKind, HeadParser, Limits, Side, Step, encode_chunk, encode_last_chunk,
};

/// Feeds `pieces` one after the other to a chunked decoder; returns the
/// payload and what followed the message.
fn decode_in_pieces(pieces: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
    let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Client);
    let mut buf = BytesMut::new();
    let mut payload = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        if dec.is_done() {
            continue;
        }
        loop {
            match dec.poll(&buf).expect("valid chunked body") {
                Step::Data(n) => {
                    payload.extend_from_slice(&buf[..n]);
                    buf.advance(n);
                }
                Step::Framing(n) => buf.advance(n),
                Step::End { len, .. } => {
                    buf.advance(len);
                    break;
                }
                Step::NeedMore => break,
            }
        }
    }
    assert!(dec.is_done(), "body not complete");
    (payload, buf.to_vec())
}

fn split_at_points<'a>(raw: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (raw.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut last = 0;
    for c in cuts {
        pieces.push(&raw[last..c]);
        last = c;
    }
    pieces.push(&raw[last..]);
    pieces
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn value() -> impl Strategy<Value = String> {
    "[ -~]{0,30}".prop_map(|v| v.trim_matches(' ').to_string())
}

proptest! {
    #[test]
    fn chunked_split_anywhere_decodes_the_same(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..200), 0..8),
        exts in prop::collection::vec(prop::option::of("[a-z]{1,5}=[a-z0-9]{0,5}"), 8),
        trailers in prop::collection::vec((token(), value()), 0..3),
        points in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut raw = BytesMut::new();
        for (i, c) in chunks.iter().enumerate() {
            match exts.get(i).cloned().flatten() {
                // Hand-written size line with an extension.
                Some(ext) => {
                    raw.extend_from_slice(format!("{:X};{ext}\r\n", c.len()).as_bytes());
                    raw.extend_from_slice(c);
                    raw.extend_from_slice(b"\r\n");
                }
                None => encode_chunk(c, &mut raw),
            }
        }
        if trailers.is_empty() {
            encode_last_chunk(&mut raw);
        } else {
            raw.extend_from_slice(b"0\r\n");
            for (n, v) in &trailers {
                raw.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
            }
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"NEXT");
        let expected: Vec<u8> = chunks.concat();
        let (payload, rest) = decode_in_pieces(&split_at_points(&raw, &points));
        prop_assert_eq!(payload, expected);
        prop_assert_eq!(rest, b"NEXT".to_vec());
    }

    #[test]
    fn request_head_split_anywhere_parses_the_same(
        method in token(),
        path in "/[!-~&&[^?]]{0,20}",
        headers in prop::collection::vec((token(), value()), 0..10),
        crlf in any::<bool>(),
        cut in any::<usize>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("{method} {path} HTTP/1.1{eol}");
        for (n, v) in &headers {
            // Keep framing and Host rules out of the way of this property.
            let n = format!("X-{n}");
            text.push_str(&format!("{n}: {v}{eol}"));
        }
        text.push_str(eol);
        text.push_str("NEXT");
        let raw = text.as_bytes();

        let mut whole = BytesMut::from(raw);
        let head = HeadParser::new(Limits::default()).parse_request(&mut whole).unwrap().unwrap();
        let mut expected = BytesMut::new();
        head.encode(&mut expected);
        prop_assert_eq!(&whole[..], b"NEXT");

        let cut = cut % raw.len();
        let mut parser = HeadParser::new(Limits::default());
        let mut buf = BytesMut::from(&raw[..cut]);
        let early = parser.parse_request(&mut buf).unwrap();
        let head = match early {
            Some(h) => h,
            None => {
                buf.extend_from_slice(&raw[cut..]);
                parser.parse_request(&mut buf).unwrap().unwrap()
            }
        };
        let mut got = BytesMut::new();
        head.encode(&mut got);
        prop_assert_eq!(got, expected.clone());

        // What the codec emits parses back to itself.
        let mut again = expected.clone();
        let reparsed = HeadParser::new(Limits::default()).parse_request(&mut again).unwrap().unwrap();
        let mut round = BytesMut::new();
        reparsed.encode(&mut round);
        prop_assert_eq!(round, expected);
    }

    #[test]
    fn response_head_split_anywhere_parses_the_same(
        // 101 needs an upgrade request; that rule has its own test.
        status in (100u16..600).prop_filter("not 101", |s| *s != 101),
        reason in "[ -~]{0,20}",
        headers in prop::collection::vec((token(), value()), 0..10),
        cut in any::<usize>(),
    ) {
        let mut text = format!("HTTP/1.1 {status} {}\r\n", reason.trim());
        for (n, v) in &headers {
            text.push_str(&format!("X-{n}: {v}\r\n"));
        }
        text.push_str("\r\n");
        let raw = text.as_bytes();
        let mut req = BytesMut::from(&b"GET / HTTP/1.1\r\n\r\n"[..]);
        let info = HeadParser::default().parse_request(&mut req).unwrap().unwrap().info();

        let mut whole = BytesMut::from(raw);
        let head = HeadParser::default().parse_response(&mut whole, &info).unwrap().unwrap();
        let mut expected = BytesMut::new();
        head.encode(&mut expected);

        let cut = cut % raw.len();
        let mut parser = HeadParser::default();
        let mut buf = BytesMut::from(&raw[..cut]);
        let head = match parser.parse_response(&mut buf, &info).unwrap() {
            Some(h) => h,
            None => {
                buf.extend_from_slice(&raw[cut..]);
                parser.parse_response(&mut buf, &info).unwrap().unwrap()
            }
        };
        let mut got = BytesMut::new();
        head.encode(&mut got);
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut buf = BytesMut::from(&raw[..]);
        let _ = HeadParser::default().parse_request(&mut buf);
        let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Server);
        let _ = dec.poll(&raw);
    }
}
