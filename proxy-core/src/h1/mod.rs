//! Sans-IO HTTP/1.1 codec: head parsing, body framing, head serialization
//! and HAProxy 2.6's own error pages.
//!
//! Nothing here reads a socket or looks at a clock. The engine feeds bytes it
//! has read into a [`HeadParser`] (which splits a complete head off the front
//! of a `BytesMut`, leaving pipelined bytes in place), asks the parsed head for
//! its [`BodyKind`], and then drives a [`BodyDecoder`] over the following
//! bytes: each [`Step`] says how many bytes are payload, how many are framing,
//! and when the message ends.
//!
//! Validation follows what HAProxy 2.6 answers on the wire (captured in
//! `tests/data/h1-haproxy-answers.tsv` by `tests/capture_h1.py`): a rejected
//! message is an [`Error`] whose [`Error::status`] is the status HAProxy
//! sends (400, 422 for the client side, 502 for the server side), and a
//! rejected message is never handed to the engine for forwarding. Where the
//! codec is stricter than HAProxy 2.6 (it rejects NUL and other control bytes
//! in header values, obs-fold in requests, HTTP versions other than 1.0 and
//! 1.1, and tabs in the request line, all of which HAProxy 2.6 forwards) the
//! difference is deliberate and listed in the replay test.
//!
//! Parsed heads keep header order and the original case of names; the head
//! writers send names lowercased as HAProxy 2.6 does, but for the exceptions
//! of a [`CaseAdjust`] table (`h1-case-adjust`). Heads borrow nothing: the
//! head bytes are frozen into one [`bytes::Bytes`] and fields are offsets
//! into it, so parsing allocates only the header index, and rewrites append to a side buffer.

mod body;
mod case;
mod error;
mod head;
mod pages;

/// The buffer types of the codec's API, re-exported so that callers need no
/// direct dependency on `bytes`.
pub use bytes::{Bytes, BytesMut};

pub use body::{BodyDecoder, BodyKind, Step, encode_chunk, encode_last_chunk};
pub use case::{CaseAdjust, CaseAdjustError};
pub use error::{Error, ErrorKind, Side};
pub use head::{
    ConnectionMode, HeadParser, Headers, Limits, RequestHead, RequestInfo, ResponseHead, Version,
};
pub use pages::{CONTINUE_100, error_page, parse_error_page};
