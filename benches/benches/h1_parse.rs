//! HTTP/1.1 codec: parsing a typical browser request head (about 400 bytes)
//! and a response head, decoding 64 KiB of chunked body, and serializing a
//! request head for forwarding.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use proxy_core::h1::{
    BodyDecoder, BodyKind, BytesMut, HeadParser, Limits, Side, Step, encode_chunk,
    encode_last_chunk,
};

const REQUEST: &[u8] = b"GET /static/js/app.min.js?v=20240101 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Referer: https://www.example.com/index.html\r\n\
Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n\
Connection: keep-alive\r\n\
Sec-Fetch-Dest: script\r\n\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
Server: nginx\r\n\
Content-Type: application/javascript\r\n\
Content-Length: 48213\r\n\
Last-Modified: Sun, 31 Dec 2023 12:00:00 GMT\r\n\
ETag: \"6590a1b0-bc55\"\r\n\
Cache-Control: max-age=31536000\r\n\
Accept-Ranges: bytes\r\n\r\n";

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("h1_parse");
    g.throughput(Throughput::Bytes(REQUEST.len() as u64));
    g.bench_function("request_head", |b| {
        let mut parser = HeadParser::new(Limits::default());
        b.iter_batched_ref(
            || BytesMut::from(REQUEST),
            |buf| black_box(parser.parse_request(buf).expect("valid").expect("complete")),
            BatchSize::SmallInput,
        );
    });

    let mut req = BytesMut::from(REQUEST);
    let info = HeadParser::default()
        .parse_request(&mut req)
        .expect("valid")
        .expect("complete")
        .info();
    g.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    g.bench_function("response_head", |b| {
        let mut parser = HeadParser::new(Limits::default());
        b.iter_batched_ref(
            || BytesMut::from(RESPONSE),
            |buf| {
                black_box(
                    parser
                        .parse_response(buf, &info)
                        .expect("valid")
                        .expect("complete"),
                )
            },
            BatchSize::SmallInput,
        );
    });

    let mut buf = BytesMut::from(REQUEST);
    let mut head = HeadParser::default()
        .parse_request(&mut buf)
        .expect("valid")
        .expect("complete");
    head.headers_mut()
        .set(b"X-Forwarded-For", b"203.0.113.7")
        .expect("valid field");
    g.throughput(Throughput::Bytes(head.encoded_len() as u64));
    g.bench_function("request_head_encode", |b| {
        let mut out = BytesMut::with_capacity(1024);
        b.iter(|| {
            out.clear();
            head.encode(&mut out);
            black_box(out.len())
        });
    });
    g.finish();
}

fn chunked(c: &mut Criterion) {
    let payload: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let mut raw = BytesMut::new();
    for piece in payload.chunks(4096) {
        encode_chunk(piece, &mut raw);
    }
    encode_last_chunk(&mut raw);
    let raw = raw.freeze();

    let mut g = c.benchmark_group("h1_chunked");
    g.throughput(Throughput::Bytes(payload.len() as u64));
    g.bench_function("decode_64k", |b| {
        b.iter(|| {
            let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Server);
            let mut rest: &[u8] = &raw;
            let mut data = 0usize;
            loop {
                match dec.poll(rest).expect("valid body") {
                    Step::Data(n) => {
                        data += n;
                        rest = &rest[n..];
                    }
                    Step::Framing(n) => rest = &rest[n..],
                    Step::End { .. } | Step::NeedMore => break,
                }
            }
            black_box(data)
        });
    });
    g.finish();
}

criterion_group!(benches, parse, chunked);
criterion_main!(benches);
