//! Body framing: a state machine that walks the bytes after a head and says,
//! step by step, how many are payload, how many are framing, and where the
//! message ends; plus chunked encoding for the other direction.

use std::ops::Range;

use bytes::{BufMut, BytesMut};

use super::error::{Error, ErrorKind, Side};

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// No body: the message ends with its head.
    Empty,
    /// Exactly this many bytes (never zero: that is `Empty`).
    Length(u64),
    /// `Transfer-Encoding: chunked`, ending with the last chunk and trailers.
    Chunked,
    /// A response without length: the body runs until the server closes.
    CloseDelimited,
    /// After a 101 or a 2xx to CONNECT: bytes flow both ways until either
    /// side closes, and are no longer HTTP.
    Tunnel,
}

/// One step of a [`BodyDecoder`]. Each length counts bytes at the start of
/// the buffer passed to [`BodyDecoder::poll`]; the caller consumes exactly
/// that many before polling again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Payload bytes.
    Data(usize),
    /// Chunked framing (a chunk-size line or the CRLF after chunk data):
    /// forward it when relaying the body as received, drop it when decoding.
    Framing(usize),
    /// The message ends after `len` more bytes (the last-chunk line, the
    /// trailer fields in `trailers`, and the final empty line; zero for other
    /// framings). Bytes after them belong to the next message.
    End {
        /// Bytes to consume, framing only.
        len: usize,
        /// Where the trailer field lines are, within those `len` bytes.
        trailers: Range<usize>,
    },
    /// Nothing can be decided from these bytes: read more and poll again
    /// with them appended.
    NeedMore,
}

/// Longest chunk-size line, or trailer section, the decoder buffers (the size
/// of HAProxy's buffer).
const MAX_LINE: usize = 16384;
/// Trailer fields accepted after the last chunk.
const MAX_TRAILERS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A fixed number of bytes remain.
    Length(u64),
    /// Expecting a chunk-size line.
    ChunkSize,
    /// Inside chunk data.
    ChunkData(u64),
    /// Expecting the line break after chunk data.
    ChunkEnd,
    /// Expecting the trailer section after the last-chunk line.
    Trailers { line: usize },
    /// Until the connection closes.
    UntilClose,
    /// The message is complete.
    Done,
}

/// Sans-IO body framing state machine for one message.
///
/// ```
/// use proxy_core::h1::{BodyDecoder, BodyKind, Side, Step};
/// let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Client);
/// let mut buf: &[u8] = b"3\r\nabc\r\n0\r\n\r\nNEXT";
/// let mut payload = Vec::new();
/// loop {
///     match dec.poll(buf).unwrap() {
///         Step::Data(n) => { payload.extend_from_slice(&buf[..n]); buf = &buf[n..]; }
///         Step::Framing(n) => buf = &buf[n..],
///         Step::End { len, .. } => { buf = &buf[len..]; break; }
///         Step::NeedMore => unreachable!(),
///     }
/// }
/// assert_eq!(payload, b"abc");
/// assert_eq!(buf, b"NEXT");
/// ```
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: State,
    side: Side,
    kind: BodyKind,
}

impl BodyDecoder {
    /// A decoder for a body framed as `kind`, sent by `side` (which errors
    /// are attributed to).
    pub fn new(kind: BodyKind, side: Side) -> Self {
        let state = match kind {
            BodyKind::Empty | BodyKind::Length(0) => State::Done,
            BodyKind::Length(n) => State::Length(n),
            BodyKind::Chunked => State::ChunkSize,
            BodyKind::CloseDelimited | BodyKind::Tunnel => State::UntilClose,
        };
        BodyDecoder { state, side, kind }
    }

    /// The framing this decoder follows.
    pub fn kind(&self) -> BodyKind {
        self.kind
    }

    /// True once [`Step::End`] was returned.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Payload bytes still expected for a `Length` body, or inside the
    /// current chunk; `None` when unknown.
    pub fn remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) | State::ChunkData(n) => Some(n),
            State::Done => Some(0),
            _ => None,
        }
    }

    /// The next step over `buf`, the unconsumed bytes that follow what
    /// earlier steps covered. After `End`, polling returns `End` with
    /// `len` 0.
    pub fn poll(&mut self, buf: &[u8]) -> Result<Step, Error> {
        let err = |kind| Error::new(self.side, kind);
        match self.state {
            State::Done => Ok(Step::End {
                len: 0,
                trailers: 0..0,
            }),
            State::UntilClose if buf.is_empty() => Ok(Step::NeedMore),
            State::UntilClose => Ok(Step::Data(buf.len())),
            State::Length(n) | State::ChunkData(n) => {
                if buf.is_empty() {
                    return Ok(Step::NeedMore);
                }
                let take = usize::try_from(n).unwrap_or(usize::MAX).min(buf.len());
                // take <= n, so the subtraction cannot wrap.
                let left = n - take as u64;
                self.state = match (self.state, left) {
                    (State::Length(_), 0) => State::Done,
                    (State::Length(_), left) => State::Length(left),
                    (_, 0) => State::ChunkEnd,
                    (_, left) => State::ChunkData(left),
                };
                Ok(Step::Data(take))
            }
            State::ChunkEnd => match buf {
                [] | [b'\r'] => Ok(Step::NeedMore),
                [b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok(Step::Framing(1))
                }
                [b'\r', b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok(Step::Framing(2))
                }
                _ => Err(err(ErrorKind::ChunkTerminator)),
            },
            State::ChunkSize => {
                let Some((line, size)) = chunk_size_line(buf).map_err(err)? else {
                    return if buf.len() >= MAX_LINE {
                        Err(err(ErrorKind::ChunkSize))
                    } else {
                        Ok(Step::NeedMore)
                    };
                };
                if size == 0 {
                    self.state = State::Trailers { line };
                    return self.poll(buf);
                }
                self.state = State::ChunkData(size);
                Ok(Step::Framing(line))
            }
            State::Trailers { line } => {
                let rest = buf.get(line..).unwrap_or_default();
                let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILERS];
                match httparse::parse_headers(rest, &mut fields) {
                    Ok(httparse::Status::Complete((n, _))) => {
                        self.state = State::Done;
                        let end =
                            n.saturating_sub(if rest.get(n.wrapping_sub(2)) == Some(&b'\r') {
                                2
                            } else {
                                1
                            });
                        Ok(Step::End {
                            len: line + n,
                            trailers: line..line + end,
                        })
                    }
                    Ok(httparse::Status::Partial) if buf.len() < MAX_LINE => Ok(Step::NeedMore),
                    _ => Err(err(ErrorKind::Trailer)),
                }
            }
        }
    }

    /// The connection closed with this decoder in its current state: fine
    /// for a body that runs until close or a tunnel, or once the message
    /// ended; an error otherwise.
    pub fn finish(&self) -> Result<(), Error> {
        match self.state {
            State::UntilClose | State::Done => Ok(()),
            _ => Err(Error::new(self.side, ErrorKind::Truncated)),
        }
    }
}

/// Parses a chunk-size line: hex digits, optional blanks, optional
/// `;extensions`, then CRLF or LF. `Ok(None)` when the line is incomplete.
fn chunk_size_line(buf: &[u8]) -> Result<Option<(usize, u64)>, ErrorKind> {
    let mut size: u64 = 0;
    let mut digits = 0usize;
    let mut i = 0;
    while let Some(&b) = buf.get(i) {
        let Some(d) = (b as char).to_digit(16) else {
            break;
        };
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(d)))
            .ok_or(ErrorKind::ChunkSizeOverflow)?;
        digits += 1;
        i += 1;
    }
    if i == buf.len() {
        return Ok(None);
    }
    if digits == 0 {
        return Err(ErrorKind::ChunkSize);
    }
    while matches!(buf.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if buf.get(i) == Some(&b';') {
        // Extensions are forwarded untouched; only line breaks and control
        // bytes are refused in them.
        while let Some(&b) = buf.get(i) {
            if b == b'\r' || b == b'\n' || (b < 0x20 && b != b'\t') || b == 0x7f {
                break;
            }
            i += 1;
        }
    }
    match (buf.get(i), buf.get(i + 1)) {
        (None, _) | (Some(b'\r'), None) => Ok(None),
        (Some(b'\n'), _) => Ok(Some((i + 1, size))),
        (Some(b'\r'), Some(b'\n')) => Ok(Some((i + 2, size))),
        _ => Err(ErrorKind::ChunkSize),
    }
}

/// Appends `data` as one chunk (nothing for empty data, which would end the
/// body).
pub fn encode_chunk(data: &[u8], dst: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    let mut size = [0u8; 16];
    let mut n = data.len();
    let mut i = size.len();
    while n > 0 || i == size.len() {
        i -= 1;
        if let Some(slot) = size.get_mut(i) {
            *slot = b"0123456789abcdef"[n % 16];
        }
        n /= 16;
    }
    dst.reserve(size.len() - i + data.len() + 4);
    dst.put_slice(size.get(i..).unwrap_or_default());
    dst.put_slice(b"\r\n");
    dst.put_slice(data);
    dst.put_slice(b"\r\n");
}

/// Appends the last chunk with no trailers.
pub fn encode_last_chunk(dst: &mut BytesMut) {
    dst.put_slice(b"0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_line_forms() {
        assert_eq!(chunk_size_line(b"1a\r\n"), Ok(Some((4, 26))));
        assert_eq!(chunk_size_line(b"3 \r\n"), Ok(Some((4, 3))));
        assert_eq!(chunk_size_line(b"3;a=b\n"), Ok(Some((6, 3))));
        assert_eq!(chunk_size_line(b"3\r"), Ok(None));
        assert_eq!(chunk_size_line(b"zz\r\n"), Err(ErrorKind::ChunkSize));
        assert_eq!(chunk_size_line(b"3x\r\n"), Err(ErrorKind::ChunkSize));
        assert_eq!(chunk_size_line(b"3\rx"), Err(ErrorKind::ChunkSize));
        assert_eq!(
            chunk_size_line(b"fffffffffffffffff\r\n"),
            Err(ErrorKind::ChunkSizeOverflow)
        );
    }

    #[test]
    fn chunk_encoding() {
        let mut b = BytesMut::new();
        encode_chunk(&[7u8; 26], &mut b);
        encode_chunk(b"", &mut b);
        encode_last_chunk(&mut b);
        assert!(b.starts_with(b"1a\r\n"));
        assert!(b.ends_with(b"\r\n0\r\n\r\n"));
    }
}
