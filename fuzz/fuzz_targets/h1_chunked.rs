//! Fuzzes the chunked body decoder fed in random splits: never a panic, the
//! same verdict and payload whatever the splits, and a decoded payload
//! re-encoded as chunks decodes to itself.
#![no_main]
use proxy_core::h1::{
    BodyDecoder, BodyKind, BytesMut, Side, Step, encode_chunk, encode_last_chunk,
};

/// Decodes `raw` delivered in pieces cut at `cuts`; `None` on error or an
/// incomplete body, else the payload.
fn decode(raw: &[u8], cuts: &[usize]) -> Option<Vec<u8>> {
    let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Client);
    let mut buf = BytesMut::new();
    let mut payload = Vec::new();
    let mut last = 0;
    for &c in cuts.iter().chain(std::iter::once(&raw.len())) {
        let c = c.clamp(last, raw.len());
        buf.extend_from_slice(&raw[last..c]);
        last = c;
        loop {
            match dec.poll(&buf).ok()? {
                Step::Data(n) => {
                    payload.extend_from_slice(&buf[..n]);
                    drop(buf.split_to(n));
                }
                Step::Framing(n) => drop(buf.split_to(n)),
                Step::End { len, .. } => {
                    drop(buf.split_to(len));
                    return Some(payload);
                }
                Step::NeedMore => break,
            }
        }
    }
    None
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let ncuts = usize::from(n % 8).min(rest.len());
    let (cut_bytes, raw) = rest.split_at(ncuts);
    let mut cuts: Vec<usize> = cut_bytes
        .iter()
        .map(|&b| usize::from(b) * raw.len() / 256)
        .collect();
    cuts.sort_unstable();

    let whole = decode(raw, &[]);
    let split = decode(raw, &cuts);
    assert_eq!(whole, split, "splitting changed the result");

    if let Some(payload) = whole {
        let mut encoded = BytesMut::new();
        for piece in payload.chunks(97) {
            encode_chunk(piece, &mut encoded);
        }
        encode_last_chunk(&mut encoded);
        assert_eq!(decode(&encoded, &cuts), Some(payload));
    }
});
