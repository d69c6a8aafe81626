//! Codec errors: what was wrong, and on which side of the proxy.

use std::fmt;

/// Which peer sent the rejected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client, sending a request.
    Client,
    /// The server, sending a response.
    Server,
    /// The proxy itself, asked to write an invalid field by a rewrite.
    Internal,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Client => "request",
            Side::Server => "response",
            Side::Internal => "rewrite",
        })
    }
}

/// What made a message invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The start line is malformed (missing parts, bad separators).
    #[error("malformed start line")]
    StartLine,
    /// A byte outside the token set in the method.
    #[error("invalid character in method")]
    Method,
    /// A control byte, space or non-ASCII byte in the request target.
    #[error("invalid character in request target")]
    Target,
    /// The version is not `HTTP/1.0` or `HTTP/1.1`.
    #[error("unsupported or malformed HTTP version")]
    Version,
    /// The status code is not three digits.
    #[error("malformed status code")]
    Status,
    /// A byte outside the token set in a header name, an empty name, or
    /// whitespace before the colon.
    #[error("invalid header name")]
    HeaderName,
    /// A control byte (NUL, bare CR, ...) in a header value.
    #[error("invalid character in header value")]
    HeaderValue,
    /// A line folded onto the previous one (obs-fold) in a request.
    #[error("obsolete line folding in request")]
    ObsFold,
    /// More header fields than `Limits::max_headers`.
    #[error("too many header fields (limit {0})")]
    TooManyHeaders(usize),
    /// The head does not fit in the buffer HAProxy would use for it.
    #[error("message head too large (limit {0} bytes)")]
    HeadTooLarge(usize),
    /// `Content-Length` is not a list of plain decimal numbers, or overflows.
    #[error("invalid Content-Length value")]
    ContentLength,
    /// Several `Content-Length` values that differ.
    #[error("conflicting Content-Length values")]
    ContentLengthConflict,
    /// `Transfer-Encoding` does not end in a single `chunked`.
    #[error("invalid Transfer-Encoding (chunked must be the single last coding)")]
    TransferEncoding,
    /// A request transfer coding other than `chunked` (HAProxy answers 422).
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// Several `Host` headers that differ.
    #[error("conflicting Host headers")]
    HostConflict,
    /// An absolute-form target whose authority differs from `Host`.
    #[error("request target authority does not match Host")]
    HostMismatch,
    /// `Upgrade: websocket` without `Sec-WebSocket-Key`.
    #[error("websocket upgrade without Sec-WebSocket-Key")]
    WebSocketKey,
    /// A chunk-size line that is not hexadecimal digits, optional blanks and
    /// extensions.
    #[error("invalid chunk size line")]
    ChunkSize,
    /// A chunk size that does not fit in 64 bits.
    #[error("chunk size overflow")]
    ChunkSizeOverflow,
    /// Chunk data not followed by CRLF (or LF).
    #[error("missing CRLF after chunk data")]
    ChunkTerminator,
    /// A malformed trailer section.
    #[error("invalid trailer section")]
    Trailer,
    /// The peer closed the connection before the announced body end.
    #[error("connection closed before the end of the body")]
    Truncated,
}

impl ErrorKind {
    /// Status HAProxy answers the client when it rejects a request for this
    /// reason.
    pub fn client_status(&self) -> u16 {
        match self {
            ErrorKind::UnsupportedTransferCoding => 422,
            _ => 400,
        }
    }
}

/// A rejected HTTP/1 message: what was wrong and who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HTTP/1 {side}: {kind}")]
pub struct Error {
    /// The peer that sent the message.
    pub side: Side,
    /// What was wrong with it.
    pub kind: ErrorKind,
}

impl Error {
    /// Builds an error for `side`.
    pub fn new(side: Side, kind: ErrorKind) -> Self {
        Error { side, kind }
    }

    /// Status the proxy answers the client with: the request's error status
    /// for a client error, 502 for a bad response, 500 for a failed rewrite.
    pub fn status(&self) -> u16 {
        match self.side {
            Side::Client => self.kind.client_status(),
            Side::Server => 502,
            Side::Internal => 500,
        }
    }
}
