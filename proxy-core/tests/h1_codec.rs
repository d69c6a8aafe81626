//! Rules of the HTTP/1.1 codec, one test per rule, written as exchanges of
//! raw bytes.

use bytes::BytesMut;
use proxy_core::h1::{
    BodyDecoder, BodyKind, CaseAdjust, ConnectionMode, ErrorKind, HeadParser, Limits, RequestHead,
    RequestInfo, ResponseHead, Side, Step, Version,
};

fn parser() -> HeadParser {
    HeadParser::new(Limits::default())
}

fn req(raw: &[u8]) -> RequestHead {
    let mut buf = BytesMut::from(raw);
    match parser().parse_request(&mut buf) {
        Ok(Some(h)) => h,
        other => panic!(
            "{:?} did not parse: {other:?}",
            String::from_utf8_lossy(raw)
        ),
    }
}

fn req_err(raw: &[u8]) -> ErrorKind {
    let mut buf = BytesMut::from(raw);
    match parser().parse_request(&mut buf) {
        Err(e) => {
            assert_eq!(e.side, Side::Client);
            e.kind
        }
        other => panic!("{:?} was accepted: {other:?}", String::from_utf8_lossy(raw)),
    }
}

fn info_for(raw: &[u8]) -> RequestInfo {
    req(raw).info()
}

fn resp_with(raw: &[u8], info: &RequestInfo) -> Result<ResponseHead, ErrorKind> {
    let mut buf = BytesMut::from(raw);
    match parser().parse_response(&mut buf, info) {
        Ok(Some(h)) => Ok(h),
        Ok(None) => panic!("incomplete response"),
        Err(e) => {
            assert_eq!(e.side, Side::Server);
            assert_eq!(e.status(), 502);
            Err(e.kind)
        }
    }
}

fn resp(raw: &[u8]) -> ResponseHead {
    resp_with(raw, &info_for(b"GET / HTTP/1.1\r\n\r\n")).expect("response parses")
}

fn encoded_req(h: &RequestHead) -> String {
    let mut out = BytesMut::new();
    h.encode(&mut out);
    assert_eq!(out.len(), h.encoded_len());
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// Decodes a whole body, returning (payload, bytes left after the message).
fn decode_all(kind: BodyKind, raw: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ErrorKind> {
    let mut dec = BodyDecoder::new(kind, Side::Client);
    let mut buf = raw;
    let mut payload = Vec::new();
    loop {
        match dec.poll(buf).map_err(|e| e.kind)? {
            Step::Data(n) => {
                payload.extend_from_slice(&buf[..n]);
                buf = &buf[n..];
            }
            Step::Framing(n) => buf = &buf[n..],
            Step::End { len, .. } => return Ok((payload, buf[len..].to_vec())),
            Step::NeedMore => {
                dec.finish().map_err(|e| e.kind)?;
                return Ok((payload, Vec::new()));
            }
        }
    }
}

#[test]
fn keeps_header_order_and_case_and_sends_names_lowercased() {
    let h = req(b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Foo: 1\r\nx-bar:2\r\nX-FOO: 3\r\n\r\n");
    let names: Vec<&[u8]> = h.headers().iter().map(|(n, _)| n).collect();
    assert_eq!(names, [&b"Host"[..], b"X-Foo", b"x-bar", b"X-FOO"]);
    assert_eq!(h.headers().get(b"x-foo"), Some(&b"1"[..]));
    assert_eq!(
        h.headers().get_all(b"X-foo").collect::<Vec<_>>(),
        [b"1", b"3"]
    );
    assert_eq!(h.method(), b"GET");
    assert_eq!(h.path(), b"/a");
    assert_eq!(h.query(), Some(&b"b=1"[..]));
    assert_eq!(h.version(), Version::Http11);
    assert_eq!(
        encoded_req(&h),
        "GET /a?b=1 HTTP/1.1\r\nhost: x\r\nx-foo: 1\r\nx-bar: 2\r\nx-foo: 3\r\n\r\n"
    );
}

#[test]
fn case_adjust_sends_its_names_in_their_case() {
    let mut adjust = CaseAdjust::new();
    adjust.insert("content-length", "Content-LENGTH").unwrap();
    adjust.insert("X-Forwarded-For", "X-Forwarded-For").unwrap();
    let mut h = req(b"POST / HTTP/1.1\r\nHOST: x\r\nCONTENT-length: 1\r\n\r\n");
    h.headers_mut()
        .append(b"x-forwarded-for", b"1.2.3.4")
        .unwrap();
    let mut out = BytesMut::new();
    h.encode_adjusted(&mut out, Some(&adjust));
    assert_eq!(out.len(), h.encoded_len());
    assert_eq!(
        &out[..],
        b"POST / HTTP/1.1\r\nhost: x\r\nContent-LENGTH: 1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"
    );
    let r = resp(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nServer: S\r\n\r\n");
    let mut out = BytesMut::new();
    r.encode_adjusted(&mut out, Some(&adjust));
    assert_eq!(
        &out[..],
        b"HTTP/1.1 200 OK\r\nContent-LENGTH: 0\r\nserver: S\r\n\r\n"
    );
}

#[test]
fn pipelined_bytes_stay_in_the_buffer() {
    let mut buf = BytesMut::from(&b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3"[..]);
    let mut p = parser();
    let one = p.parse_request(&mut buf).unwrap().unwrap();
    assert_eq!(one.target(), b"/1");
    let two = p.parse_request(&mut buf).unwrap().unwrap();
    assert_eq!(two.target(), b"/2");
    assert!(p.parse_request(&mut buf).unwrap().is_none());
    assert_eq!(&buf[..], b"GET /3");
    buf.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    assert_eq!(p.parse_request(&mut buf).unwrap().unwrap().target(), b"/3");
    assert!(buf.is_empty());
}

#[test]
fn body_leaves_next_request_in_buffer() {
    let mut buf = BytesMut::from(&b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET"[..]);
    let head = parser().parse_request(&mut buf).unwrap().unwrap();
    assert_eq!(head.body_kind(), BodyKind::Length(3));
    let (payload, rest) = decode_all(head.body_kind(), &buf).unwrap();
    assert_eq!(payload, b"abc");
    assert_eq!(rest, b"GET");
}

#[test]
fn content_length_rules() {
    assert_eq!(
        req(b"POST / HTTP/1.1\r\nContent-Length: 003\r\n\r\n").body_kind(),
        BodyKind::Length(3)
    );
    assert_eq!(
        req(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").body_kind(),
        BodyKind::Empty
    );
    for bad in [
        &b"+3"[..],
        b"-3",
        b"3x",
        b"x3",
        b"0x3",
        b"",
        b"1 2",
        b"3,",
        b"99999999999999999999999",
    ] {
        let mut raw = b"POST / HTTP/1.1\r\nContent-Length: ".to_vec();
        raw.extend_from_slice(bad);
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            req_err(&raw),
            ErrorKind::ContentLength,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn differing_content_lengths_conflict_identical_merge() {
    assert_eq!(
        req_err(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
        ErrorKind::ContentLengthConflict
    );
    assert_eq!(
        req_err(b"POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n"),
        ErrorKind::ContentLengthConflict
    );
    let h = req(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nX: y\r\ncontent-length: 3\r\n\r\n");
    assert_eq!(h.body_kind(), BodyKind::Length(3));
    assert_eq!(
        encoded_req(&h),
        "POST / HTTP/1.1\r\ncontent-length: 3\r\nx: y\r\n\r\n"
    );
    let h = req(b"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n");
    assert_eq!(
        encoded_req(&h),
        "POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\n"
    );
}

#[test]
fn transfer_encoding_wins_over_content_length_which_is_dropped() {
    for raw in [
        &b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    ] {
        let h = req(raw);
        assert_eq!(h.body_kind(), BodyKind::Chunked);
        assert!(!h.headers().contains(b"content-length"));
    }
}

#[test]
fn transfer_encoding_rules() {
    let te = |v: &str| format!("POST / HTTP/1.1\r\nTransfer-Encoding: {v}\r\n\r\n").into_bytes();
    assert_eq!(req(&te("CHUNKED")).body_kind(), BodyKind::Chunked);
    assert_eq!(req_err(&te("gzip")), ErrorKind::TransferEncoding);
    assert_eq!(req_err(&te("identity")), ErrorKind::TransferEncoding);
    assert_eq!(req_err(&te("chunked, gzip")), ErrorKind::TransferEncoding);
    assert_eq!(
        req_err(&te("chunked, chunked")),
        ErrorKind::TransferEncoding
    );
    assert_eq!(req_err(&te("")), ErrorKind::TransferEncoding);
    assert_eq!(
        req_err(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        ),
        ErrorKind::TransferEncoding
    );
    let e = req_err(&te("gzip, chunked"));
    assert_eq!(e, ErrorKind::UnsupportedTransferCoding);
    assert_eq!(e.client_status(), 422);
    // HAProxy refuses other codings in responses too (502).
    let info = info_for(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(
        resp_with(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            &info
        )
        .unwrap_err(),
        ErrorKind::UnsupportedTransferCoding
    );
    assert_eq!(
        resp_with(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &info).unwrap_err(),
        ErrorKind::TransferEncoding
    );
}

#[test]
fn invalid_bytes_in_start_line_and_names() {
    assert_eq!(req_err(b"G(T / HTTP/1.1\r\n\r\n"), ErrorKind::Method);
    assert_eq!(req_err(b"GET /a\x01b HTTP/1.1\r\n\r\n"), ErrorKind::Target);
    assert_eq!(
        req_err(b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n"),
        ErrorKind::Target
    );
    assert_eq!(req_err(b"GET / HTTX/1.1\r\n\r\n"), ErrorKind::Version);
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nFoo Bar: x\r\n\r\n"),
        ErrorKind::HeaderName
    );
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        ErrorKind::HeaderName
    );
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\n: x\r\n\r\n"),
        ErrorKind::HeaderName
    );
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nFoo: a\x00b\r\n\r\n"),
        ErrorKind::HeaderValue
    );
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nFoo: a\rb\r\n\r\n"),
        ErrorKind::HeaderValue
    );
    // Lowercase and unknown methods are tokens like any other.
    assert_eq!(req(b"get / HTTP/1.1\r\n\r\n").method(), b"get");
    assert_eq!(req(b"GET  /x  HTTP/1.1\r\n\r\n").target(), b"/x");
    assert_eq!(
        req(b"GET / HTTP/1.1\r\nFoo: \xc3\xa9\tx\r\n\r\n")
            .headers()
            .get(b"foo"),
        Some(&b"\xc3\xa9\tx"[..])
    );
}

#[test]
fn line_endings() {
    let h = req(b"\r\n\nGET / HTTP/1.1\nHost: a\n\n");
    assert_eq!(h.headers().get(b"host"), Some(&b"a"[..]));
    assert!(matches!(
        req_err(b"GET / HTTP/1.1\rHost: a\r\r\n\r\n"),
        ErrorKind::StartLine | ErrorKind::Version
    ));
    // A bare CR is refused before the head is complete.
    assert_eq!(req_err(b"GET / HTTP/1.1\rHost"), ErrorKind::StartLine);
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nA: b\rc"),
        ErrorKind::HeaderValue
    );
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r"[..]);
    assert!(parser().parse_request(&mut buf).unwrap().is_none());
}

#[test]
fn obs_fold_refused_in_requests_joined_in_responses() {
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
        ErrorKind::HeaderName
    );
    assert!(matches!(
        req_err(b"GET / HTTP/1.1\r\nFoo: a\r\n b\r\n\r\n"),
        ErrorKind::HeaderName | ErrorKind::HeaderValue
    ));
    let r = resp(b"HTTP/1.1 200 OK\r\nFoo: a\r\n b\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.headers().get(b"foo"), Some(&b"a   b"[..]));
}

#[test]
fn host_rules() {
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ErrorKind::HostConflict
    );
    let h = req(b"GET / HTTP/1.1\r\nHost: a\r\nHOST: A\r\n\r\n");
    assert_eq!(h.headers().len(), 1);
    assert_eq!(
        req_err(b"GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        ErrorKind::HostMismatch
    );
    let h = req(b"GET http://u@a:80/p?q HTTP/1.1\r\nHost: a:80\r\n\r\n");
    assert_eq!(h.path(), b"/p");
    assert_eq!(h.query(), Some(&b"q"[..]));
    // Missing Host is accepted, like HAProxy does.
    req(b"GET / HTTP/1.1\r\n\r\n");
}

#[test]
fn head_size_as_haproxy_counts_it() {
    // HAProxy 2.6 with default tunes accepts this shape up to 15273 bytes.
    let sized = |total: usize| {
        let start = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
        let mut v = start.to_vec();
        v.resize(total - 4, b'p');
        v.extend_from_slice(b"\r\n\r\n");
        v
    };
    req(&sized(15273));
    assert_eq!(req_err(&sized(15274)), ErrorKind::HeadTooLarge(15360));
    // An incomplete head may not grow past the buffer.
    let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nX: "[..]);
    buf.resize(16384, b'a');
    assert!(
        matches!(parser().parse_request(&mut buf), Err(e) if e.kind == ErrorKind::HeadTooLarge(15360))
    );
}

#[test]
fn header_count_limit() {
    let many = |n: usize| {
        let mut v = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..n {
            v.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        v.extend_from_slice(b"\r\n");
        v
    };
    assert_eq!(req(&many(100)).headers().len(), 100);
    assert_eq!(req_err(&many(101)), ErrorKind::TooManyHeaders(100));
    let mut p = HeadParser::new(Limits::from_tune(65536, 1024, 201));
    let mut buf = BytesMut::from(&many(200)[..]);
    assert_eq!(
        p.parse_request(&mut buf).unwrap().unwrap().headers().len(),
        200
    );
}

#[test]
fn keep_alive_rules() {
    assert!(info_for(b"GET / HTTP/1.1\r\n\r\n").keep_alive);
    assert!(!info_for(b"GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n").keep_alive);
    assert!(!info_for(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(info_for(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    assert!(resp(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive());
    assert!(!resp(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive());
    assert!(
        resp(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
            .keep_alive()
    );
    assert!(
        !resp(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive()
    );
    // Without a length, the body ends when the server closes.
    let r = resp(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(r.body_kind(), BodyKind::CloseDelimited);
    assert!(!r.keep_alive());
}

#[test]
fn set_connection_keeps_other_tokens() {
    let mut h =
        req(b"GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: foo\r\nX: 1\r\n\r\n");
    h.set_connection(ConnectionMode::Close);
    assert!(!h.info().keep_alive);
    assert_eq!(
        encoded_req(&h),
        "GET / HTTP/1.1\r\nupgrade: foo\r\nx: 1\r\nconnection: Upgrade, close\r\n\r\n"
    );
    let mut h = req(b"GET / HTTP/1.0\r\n\r\n");
    h.set_connection(ConnectionMode::KeepAlive);
    assert_eq!(
        encoded_req(&h),
        "GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"
    );
    let mut h = req(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    h.set_connection(ConnectionMode::KeepAlive);
    assert_eq!(encoded_req(&h), "GET / HTTP/1.1\r\n\r\n");
}

#[test]
fn bodiless_responses() {
    let get = info_for(b"GET / HTTP/1.1\r\n\r\n");
    let head = info_for(b"HEAD / HTTP/1.1\r\n\r\n");
    assert!(head.is_head);
    let with_cl = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    assert_eq!(
        resp_with(with_cl, &get).unwrap().body_kind(),
        BodyKind::Length(10)
    );
    assert_eq!(
        resp_with(with_cl, &head).unwrap().body_kind(),
        BodyKind::Empty
    );
    for status in [
        "204 No Content",
        "304 Not Modified",
        "100 Continue",
        "103 Early Hints",
    ] {
        let raw = format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
        assert_eq!(
            resp_with(raw.as_bytes(), &get).unwrap().body_kind(),
            BodyKind::Empty,
            "{status}"
        );
    }
    assert!(resp(b"HTTP/1.1 100 Continue\r\n\r\n").is_interim());
    assert!(!resp(b"HTTP/1.1 200 OK\r\n\r\n").is_interim());
}

#[test]
fn expect_continue() {
    let i = info_for(b"POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
    assert!(i.expect_continue);
    assert!(!info_for(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
    assert_eq!(
        proxy_core::h1::CONTINUE_100,
        b"HTTP/1.1 100 Continue\r\n\r\n"
    );
}

#[test]
fn upgrade_and_connect_become_tunnels() {
    let ws = info_for(
        b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
    );
    assert!(ws.upgrade);
    let r = resp_with(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        &ws,
    )
    .unwrap();
    assert_eq!(r.body_kind(), BodyKind::Tunnel);
    assert!(!r.is_interim());
    let plain = info_for(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(
        resp_with(b"HTTP/1.1 101 Switching Protocols\r\n\r\n", &plain).unwrap_err(),
        ErrorKind::Status
    );
    assert_eq!(
        req_err(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
        ErrorKind::WebSocketKey
    );
    let connect = info_for(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n");
    assert!(connect.is_connect);
    assert_eq!(connect.body, BodyKind::Empty);
    assert_eq!(
        resp_with(b"HTTP/1.1 200 OK\r\n\r\n", &connect)
            .unwrap()
            .body_kind(),
        BodyKind::Tunnel
    );
    assert_eq!(
        resp_with(b"HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", &connect)
            .unwrap()
            .body_kind(),
        BodyKind::Empty
    );
    let mut dec = BodyDecoder::new(BodyKind::Tunnel, Side::Server);
    assert_eq!(dec.poll(b"any bytes").unwrap(), Step::Data(9));
    assert_eq!(dec.poll(b"").unwrap(), Step::NeedMore);
    assert!(dec.finish().is_ok());
}

#[test]
fn rewrites() {
    let mut h = req(b"GET /old?x=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-B: 2\r\nx-a: 3\r\n\r\n");
    h.set_method(b"POST").unwrap();
    h.set_path(b"/new").unwrap();
    h.headers_mut().set(b"X-A", b"9").unwrap();
    h.headers_mut().append(b"X-C", b"c").unwrap();
    assert_eq!(h.headers_mut().remove(b"x-b"), 1);
    assert_eq!(
        encoded_req(&h),
        "POST /new?x=1 HTTP/1.1\r\nhost: a\r\nx-a: 9\r\nx-c: c\r\n\r\n"
    );
    h.set_query(Some(b"y=2")).unwrap();
    assert_eq!(h.target(), b"/new?y=2");
    h.set_query(None).unwrap();
    assert_eq!(h.target(), b"/new");
    // Rewrites can never inject a line.
    let e = h.headers_mut().set(b"X", b"a\r\nEvil: 1").unwrap_err();
    assert_eq!((e.side, e.status()), (Side::Internal, 500));
    assert!(h.headers_mut().append(b"Bad Name", b"v").is_err());
    assert!(h.set_target(b"/a b").is_err());
    assert!(h.set_method(b"G T").is_err());
    assert!(h.set_path(b"/a?b").is_err());

    let mut r = resp(b"HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 0\r\n\r\n");
    r.set_status(503, b"Busy").unwrap();
    r.headers_mut().remove(b"server");
    r.set_connection(ConnectionMode::Close);
    let mut out = BytesMut::new();
    r.encode(&mut out);
    assert_eq!(
        &out[..],
        b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    assert_eq!(out.len(), r.encoded_len());
}

#[test]
fn response_status_line_forms() {
    let r = resp(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
    assert_eq!((r.status(), r.reason()), (200, &b""[..]));
    let r = resp(b"HTTP/1.1 404 Not  Found \xe9\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.reason(), b"Not  Found \xe9");
    let info = info_for(b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(
        resp_with(b"HTTP/1.1 2x0 OK\r\n\r\n", &info).unwrap_err(),
        ErrorKind::Status
    );
}

#[test]
fn chunked_with_extensions_and_trailers() {
    let raw = b"3;ext=\"v\"\r\nabc\r\n2 \r\nde\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\nNEXT";
    assert_eq!(
        decode_all(BodyKind::Chunked, raw).unwrap(),
        (b"abcde".to_vec(), b"NEXT".to_vec())
    );
    let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Client);
    let tail = b"0\r\nX-Sum: 1\r\n\r\n";
    match dec.poll(tail).unwrap() {
        Step::End { len, trailers } => {
            assert_eq!(len, tail.len());
            assert_eq!(&tail[trailers], b"X-Sum: 1\r\n");
        }
        other => panic!("{other:?}"),
    }
    assert!(dec.is_done());
    assert_eq!(
        decode_all(BodyKind::Chunked, b"1\nx\n0\n\n").unwrap().0,
        b"x"
    );
}

#[test]
fn chunked_errors() {
    assert_eq!(
        decode_all(BodyKind::Chunked, b"zz\r\nabc\r\n0\r\n\r\n").unwrap_err(),
        ErrorKind::ChunkSize
    );
    assert_eq!(
        decode_all(BodyKind::Chunked, b"fffffffffffffffff\r\n").unwrap_err(),
        ErrorKind::ChunkSizeOverflow
    );
    assert_eq!(
        decode_all(BodyKind::Chunked, b"3\r\nabcX\r\n").unwrap_err(),
        ErrorKind::ChunkTerminator
    );
    assert_eq!(
        decode_all(BodyKind::Chunked, b"0\r\nBad Trailer\r\n\r\n").unwrap_err(),
        ErrorKind::Trailer
    );
    assert_eq!(
        decode_all(BodyKind::Chunked, b"3\r\nab").unwrap_err(),
        ErrorKind::Truncated
    );
    assert_eq!(
        decode_all(BodyKind::Length(5), b"ab").unwrap_err(),
        ErrorKind::Truncated
    );
    let long_ext = [b"1;".to_vec(), vec![b'a'; 20000]].concat();
    assert_eq!(
        decode_all(BodyKind::Chunked, &long_ext).unwrap_err(),
        ErrorKind::ChunkSize
    );
}

#[test]
fn close_delimited_body_ends_at_eof() {
    assert_eq!(
        decode_all(BodyKind::CloseDelimited, b"all of it")
            .unwrap()
            .0,
        b"all of it"
    );
    let dec = BodyDecoder::new(BodyKind::Empty, Side::Server);
    assert!(dec.is_done());
    assert_eq!(dec.remaining(), Some(0));
}
