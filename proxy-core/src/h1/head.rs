//! Request and response heads: parsing, HAProxy's validation rules, framing
//! and keep-alive decisions, rewrites, and serialization.
//!
//! httparse tokenizes the head; this module then applies the rules HAProxy
//! 2.6 adds on top (Content-Length lists, Transfer-Encoding, Host, websocket
//! key, head size as HAProxy accounts it) and decides the message framing.
//! Spans index the frozen head bytes or, once rewritten, a side buffer, so no
//! accessor can panic whatever the input was.

use std::mem::MaybeUninit;

use bytes::{BufMut, Bytes, BytesMut};

use super::body::BodyKind;
use super::case::CaseAdjust;
use super::error::{Error, ErrorKind, Side};

/// Size limits applied while parsing a head.
///
/// The defaults are HAProxy 2.6's: `tune.bufsize` 16384, `tune.maxrewrite`
/// 1024 and `tune.http.maxhdr` 101 (which leaves room for 100 fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Raw bytes that may be buffered while the head is incomplete
    /// (HAProxy's input buffer, `tune.bufsize`).
    pub max_buffer: usize,
    /// Size of a complete head as HAProxy stores it internally
    /// (`tune.bufsize - tune.maxrewrite`): 85 bytes of fixed overhead, the
    /// start line's three parts without separators, and for each header field
    /// its name and value plus 8 bytes. This reproduces HAProxy's observed
    /// limit to the byte (see `tests/data/h1-haproxy-answers.tsv`).
    pub max_head_size: usize,
    /// Number of header fields allowed in a head.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_buffer: 16384,
            max_head_size: 16384 - 1024,
            max_headers: 100,
        }
    }
}

impl Limits {
    /// Limits for a given `tune.bufsize`, `tune.maxrewrite` and
    /// `tune.http.maxhdr`, as HAProxy derives them.
    pub fn from_tune(bufsize: usize, maxrewrite: usize, maxhdr: usize) -> Self {
        Limits {
            max_buffer: bufsize,
            max_head_size: bufsize.saturating_sub(maxrewrite),
            max_headers: maxhdr.saturating_sub(1),
        }
    }
}

/// Fixed part of HAProxy's internal head accounting (see
/// [`Limits::max_head_size`]).
const HEAD_OVERHEAD: usize = 85;
/// Per-field part of HAProxy's internal head accounting.
const FIELD_OVERHEAD: usize = 8;
/// Header slots kept on the stack; larger `max_headers` use the heap.
const STACK_HEADERS: usize = 128;

/// HTTP/1 protocol version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `HTTP/1.0`: connections close after each message unless
    /// `Connection: keep-alive` says otherwise.
    Http10,
    /// `HTTP/1.1`: connections persist unless `Connection: close`.
    Http11,
}

impl Version {
    /// The version as written on the wire.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Version::Http10 => b"HTTP/1.0",
            Version::Http11 => b"HTTP/1.1",
        }
    }
}

/// Connection persistence to announce when forwarding a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionMode {
    /// Keep the connection open after this message.
    KeepAlive,
    /// Close the connection after this message.
    Close,
}

/// Where a field's bytes live: in the parsed head or in the rewrite buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    owned: bool,
}

impl Span {
    const EMPTY: Span = Span {
        start: 0,
        end: 0,
        owned: true,
    };

    fn raw(start: usize, end: usize) -> Span {
        Span {
            start,
            end,
            owned: false,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    name: Span,
    value: Span,
}

/// Header fields of a head, in received order with names in received case
/// (the writers lowercase them).
///
/// Lookups are case-insensitive. Mutators that take bytes from the caller
/// validate them, so a rewrite can never inject a line break into the
/// forwarded head.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    raw: Bytes,
    extra: Vec<u8>,
    entries: Vec<Entry>,
}

impl Headers {
    fn bytes(&self, s: Span) -> &[u8] {
        let buf: &[u8] = if s.owned { &self.extra } else { &self.raw };
        buf.get(s.start..s.end).unwrap_or_default()
    }

    fn store(&mut self, bytes: &[u8]) -> Span {
        let start = self.extra.len();
        self.extra.extend_from_slice(bytes);
        Span {
            start,
            end: self.extra.len(),
            owned: true,
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no field.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Fields in order, as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.entries
            .iter()
            .map(|e| (self.bytes(e.name), self.bytes(e.value)))
    }

    /// Value of the first field called `name`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Values of every field called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// True when some field is called `name`.
    pub fn contains(&self, name: &[u8]) -> bool {
        self.get(name).is_some()
    }

    /// True when a comma-separated element of some `name` field equals
    /// `token`, ignoring case (as for `Connection: close`).
    pub fn has_token(&self, name: &[u8], token: &[u8]) -> bool {
        self.get_all(name)
            .flat_map(list_elements)
            .any(|t| t.eq_ignore_ascii_case(token))
    }

    /// Appends a field after the others.
    pub fn append(&mut self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        check_name(name)?;
        check_value(value)?;
        let name = self.store(name);
        let value = self.store(value);
        self.entries.push(Entry { name, value });
        Ok(())
    }

    /// Sets `name` to `value`: the first such field takes the new value in
    /// place, the others are removed; appends when there is none.
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        check_name(name)?;
        check_value(value)?;
        let first = self
            .entries
            .iter()
            .position(|e| self.bytes(e.name).eq_ignore_ascii_case(name));
        match first {
            None => self.append(name, value),
            Some(i) => {
                let value = self.store(value);
                if let Some(e) = self.entries.get_mut(i) {
                    e.value = value;
                }
                let mut idx = 0;
                let raw = &self.raw;
                let extra = &self.extra;
                self.entries.retain(|e| {
                    let keep = idx <= i || {
                        let buf: &[u8] = if e.name.owned { extra } else { raw };
                        !buf.get(e.name.start..e.name.end)
                            .unwrap_or_default()
                            .eq_ignore_ascii_case(name)
                    };
                    idx += 1;
                    keep
                });
                Ok(())
            }
        }
    }

    /// Removes every field called `name`; returns how many were removed.
    pub fn remove(&mut self, name: &[u8]) -> usize {
        let before = self.entries.len();
        let raw = &self.raw;
        let extra = &self.extra;
        self.entries.retain(|e| {
            let buf: &[u8] = if e.name.owned { extra } else { raw };
            !buf.get(e.name.start..e.name.end)
                .unwrap_or_default()
                .eq_ignore_ascii_case(name)
        });
        before - self.entries.len()
    }

    /// Rewrites in place the value of each field called `name` for which
    /// `f` returns a new value, keeping the fields' order; returns how many
    /// changed. A new value that is not a valid field value is an error and
    /// leaves every field as it was.
    pub fn rewrite(
        &mut self,
        name: &[u8],
        mut f: impl FnMut(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<usize, Error> {
        let mut changes = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if !self.bytes(e.name).eq_ignore_ascii_case(name) {
                continue;
            }
            if let Some(new) = f(self.bytes(e.value)) {
                check_value(&new)?;
                changes.push((i, new));
            }
        }
        for (i, new) in &changes {
            let value = self.store(new);
            if let Some(e) = self.entries.get_mut(*i) {
                e.value = value;
            }
        }
        Ok(changes.len())
    }

    /// Rewrites the `Connection` field for `mode` on a message of `version`,
    /// keeping its other tokens (such as `upgrade`): HTTP/1.1 says `close`
    /// when closing, HTTP/1.0 says `keep-alive` when persisting.
    pub fn set_connection(&mut self, version: Version, mode: ConnectionMode) {
        let mut tokens: Vec<u8> = Vec::new();
        for t in self.get_all(b"connection").flat_map(list_elements) {
            if t.eq_ignore_ascii_case(b"close") || t.eq_ignore_ascii_case(b"keep-alive") {
                continue;
            }
            if !tokens.is_empty() {
                tokens.extend_from_slice(b", ");
            }
            tokens.extend_from_slice(t);
        }
        let wanted: &[u8] = match (version, mode) {
            (Version::Http11, ConnectionMode::Close) => b"close",
            (Version::Http10, ConnectionMode::KeepAlive) => b"keep-alive",
            _ => b"",
        };
        if !wanted.is_empty() {
            if !tokens.is_empty() {
                tokens.extend_from_slice(b", ");
            }
            tokens.extend_from_slice(wanted);
        }
        self.remove(b"connection");
        if !tokens.is_empty() {
            let name = self.store(b"connection");
            let value = self.store(&tokens);
            self.entries.push(Entry { name, value });
        }
    }

    fn encoded_len(&self) -> usize {
        self.iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum::<usize>()
            + 2
    }

    /// Writes the fields with lowercased names, as HAProxy's HTX stores
    /// and sends them, except those `adjust` names.
    fn encode(&self, dst: &mut BytesMut, adjust: Option<&CaseAdjust>) {
        for (n, v) in self.iter() {
            let start = dst.len();
            dst.put_slice(n);
            if let Some(name) = dst.get_mut(start..) {
                name.make_ascii_lowercase();
                // A rule's wire form is the same name up to case, so it
                // overwrites the lowercased bytes in place.
                if let Some(to) = adjust.and_then(|a| a.get(name))
                    && to.len() == name.len()
                {
                    name.copy_from_slice(to);
                }
            }
            dst.put_slice(b": ");
            dst.put_slice(v);
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(b"\r\n");
    }
}

/// What the engine needs to know about a request to frame its response and
/// manage the connection; small and `Copy` so it outlives the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestInfo {
    /// Protocol version of the request.
    pub version: Version,
    /// The method is `HEAD`: the response has no body.
    pub is_head: bool,
    /// The method is `CONNECT`: a 2xx response turns the connection into a
    /// tunnel.
    pub is_connect: bool,
    /// The client wants the connection kept open after the response.
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub expect_continue: bool,
    /// `Connection: upgrade` with an `Upgrade` field: a 101 response turns
    /// the connection into a tunnel.
    pub upgrade: bool,
    /// Framing of the request body.
    pub body: BodyKind,
}

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct RequestHead {
    headers: Headers,
    method: Span,
    target: Span,
    info: RequestInfo,
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    headers: Headers,
    version: Version,
    status: u16,
    reason: Span,
    body: BodyKind,
    keep_alive: bool,
}

impl RequestHead {
    /// The method, as received (methods are case-sensitive).
    pub fn method(&self) -> &[u8] {
        self.headers.bytes(self.method)
    }

    /// The request target (origin, absolute, authority or asterisk form).
    pub fn target(&self) -> &[u8] {
        self.headers.bytes(self.target)
    }

    /// The path part of the target: without scheme and authority for an
    /// absolute-form target, without the query; empty for the authority form.
    pub fn path(&self) -> &[u8] {
        let t = self.target();
        let (start, end) = path_bounds(t);
        t.get(start..end).unwrap_or_default()
    }

    /// The query string after `?`, if any.
    pub fn query(&self) -> Option<&[u8]> {
        let t = self.target();
        let (_, end) = path_bounds(t);
        t.get(end..)?.strip_prefix(b"?")
    }

    /// Protocol version.
    pub fn version(&self) -> Version {
        self.info.version
    }

    /// Header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Header fields, for rewriting. Framing was decided when parsing and is
    /// not re-derived from rewritten fields.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// Framing and connection facts about this request.
    pub fn info(&self) -> RequestInfo {
        self.info
    }

    /// Framing of the body that follows this head.
    pub fn body_kind(&self) -> BodyKind {
        self.info.body
    }

    /// Replaces the method.
    pub fn set_method(&mut self, method: &[u8]) -> Result<(), Error> {
        if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
            return Err(Error::new(Side::Internal, ErrorKind::Method));
        }
        self.method = self.headers.store(method);
        self.info.is_head = method == b"HEAD";
        self.info.is_connect = method == b"CONNECT";
        Ok(())
    }

    /// Replaces the whole request target.
    pub fn set_target(&mut self, target: &[u8]) -> Result<(), Error> {
        if target.is_empty() || !target.iter().all(|&b| is_target_byte(b)) {
            return Err(Error::new(Side::Internal, ErrorKind::Target));
        }
        self.target = self.headers.store(target);
        Ok(())
    }

    /// Replaces the path, keeping scheme, authority and query.
    pub fn set_path(&mut self, path: &[u8]) -> Result<(), Error> {
        if path.contains(&b'?') {
            return Err(Error::new(Side::Internal, ErrorKind::Target));
        }
        let t = self.target();
        let (start, end) = path_bounds(t);
        let mut new = Vec::with_capacity(t.len() + path.len());
        new.extend_from_slice(t.get(..start).unwrap_or_default());
        new.extend_from_slice(path);
        new.extend_from_slice(t.get(end..).unwrap_or_default());
        self.set_target(&new)
    }

    /// Replaces the query (`None` removes it, with its `?`).
    pub fn set_query(&mut self, query: Option<&[u8]>) -> Result<(), Error> {
        let t = self.target();
        let (_, end) = path_bounds(t);
        let mut new = Vec::with_capacity(t.len() + query.map_or(0, <[u8]>::len) + 1);
        new.extend_from_slice(t.get(..end).unwrap_or_default());
        if let Some(q) = query {
            new.push(b'?');
            new.extend_from_slice(q);
        }
        self.set_target(&new)
    }

    /// Announces `mode` in the `Connection` field.
    pub fn set_connection(&mut self, mode: ConnectionMode) {
        self.headers.set_connection(self.info.version, mode);
        self.info.keep_alive = mode == ConnectionMode::KeepAlive;
    }

    /// Number of bytes [`RequestHead::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        self.method().len() + self.target().len() + 12 + self.headers.encoded_len()
    }

    /// Appends the head, as it is to be forwarded, to `dst`: header names
    /// lowercased, as HAProxy sends them.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_adjusted(dst, None);
    }

    /// Appends the head as [`RequestHead::encode`] does, sending the names
    /// `adjust` lists in their configured case.
    pub fn encode_adjusted(&self, dst: &mut BytesMut, adjust: Option<&CaseAdjust>) {
        dst.reserve(self.encoded_len());
        dst.put_slice(self.method());
        dst.put_u8(b' ');
        dst.put_slice(self.target());
        dst.put_u8(b' ');
        dst.put_slice(self.info.version.as_bytes());
        dst.put_slice(b"\r\n");
        self.headers.encode(dst, adjust);
    }
}

impl ResponseHead {
    /// Protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Status code (three digits, 100 to 999 as HAProxy relays them).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Reason phrase, as received (may be empty).
    pub fn reason(&self) -> &[u8] {
        self.headers.bytes(self.reason)
    }

    /// Header fields.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Header fields, for rewriting. Framing was decided when parsing.
    pub fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }

    /// Framing of the body that follows this head.
    pub fn body_kind(&self) -> BodyKind {
        self.body
    }

    /// A 1xx other than 101: the final response is still to come.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The server's connection can carry another request after this
    /// response (its version and `Connection` allow it, and the body does not
    /// run until close).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Replaces status and reason.
    pub fn set_status(&mut self, status: u16, reason: &[u8]) -> Result<(), Error> {
        if !(100..=999).contains(&status) {
            return Err(Error::new(Side::Internal, ErrorKind::Status));
        }
        if !reason.iter().all(|&b| is_value_byte(b)) {
            return Err(Error::new(Side::Internal, ErrorKind::HeaderValue));
        }
        self.status = status;
        self.reason = self.headers.store(reason);
        Ok(())
    }

    /// Announces `mode` in the `Connection` field.
    pub fn set_connection(&mut self, mode: ConnectionMode) {
        self.headers.set_connection(self.version, mode);
        self.keep_alive = mode == ConnectionMode::KeepAlive;
    }

    /// Number of bytes [`ResponseHead::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        8 + 5 + self.reason().len() + 2 + self.headers.encoded_len()
    }

    /// Appends the head, as it is to be forwarded, to `dst`: header names
    /// lowercased, as HAProxy sends them.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_adjusted(dst, None);
    }

    /// Appends the head as [`ResponseHead::encode`] does, sending the names
    /// `adjust` lists in their configured case.
    pub fn encode_adjusted(&self, dst: &mut BytesMut, adjust: Option<&CaseAdjust>) {
        dst.reserve(self.encoded_len());
        dst.put_slice(self.version.as_bytes());
        dst.put_u8(b' ');
        let s = self.status;
        // Status is 100..=999, so each digit is in 0..=9.
        for d in [s / 100 % 10, s / 10 % 10, s % 10] {
            dst.put_u8(b'0' + d as u8);
        }
        dst.put_u8(b' ');
        dst.put_slice(self.reason());
        dst.put_slice(b"\r\n");
        self.headers.encode(dst, adjust);
    }
}

/// Incremental head parser for one direction of one connection.
///
/// Call [`HeadParser::parse_request`] (or `parse_response`) each time bytes
/// arrive. `Ok(None)` means "need more"; `Ok(Some(head))` removed exactly the
/// head from the buffer, so a body or pipelined requests stay there. The
/// parser remembers how far it has looked for the end of the head, so a head
/// arriving byte by byte is scanned once.
#[derive(Debug, Clone, Default)]
pub struct HeadParser {
    limits: Limits,
    scanned: usize,
}

/// Bytes handed to httparse: exactly the head, or (`exact` false) a prefix
/// of the buffer that may hold it.
#[derive(Debug, Clone, Copy)]
struct Window {
    len: usize,
    exact: bool,
}

/// Header facts collected in one pass over the fields.
#[derive(Default)]
struct Scan {
    content_length: Option<u64>,
    first_cl: Option<usize>,
    chunked: bool,
    te: bool,
    te_other: bool,
    host: Option<usize>,
    conn_close: bool,
    conn_keep_alive: bool,
    conn_upgrade: bool,
    upgrade: bool,
    websocket: bool,
    ws_key: bool,
    expect_continue: bool,
}

impl HeadParser {
    /// A parser with the given limits.
    pub fn new(limits: Limits) -> Self {
        HeadParser { limits, scanned: 0 }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Parses a request head at the start of `buf`.
    pub fn parse_request(&mut self, buf: &mut BytesMut) -> Result<Option<RequestHead>, Error> {
        let side = Side::Client;
        let Some(window) = self.window(buf, side)? else {
            return Ok(None);
        };
        let err = |kind| Error::new(side, kind);
        let limits = self.limits;
        let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        let mut heap = Vec::new();
        let slots = header_slots(&mut stack, &mut heap, limits.max_headers);
        let head = buf.get(..window.len).unwrap_or_default();
        let mut req = httparse::Request::new(&mut []);
        let mut config = httparse::ParserConfig::default();
        config.allow_multiple_spaces_in_request_line_delimiters(true);
        let len = match config.parse_request_with_uninit_headers(&mut req, head, slots) {
            Ok(httparse::Status::Complete(n)) if !window.exact || n == window.len => n,
            Ok(httparse::Status::Partial) if !window.exact => return self.incomplete(buf, side),
            Ok(_) => return Err(err(ErrorKind::StartLine)),
            Err(e) => return Err(err(map_request_error(e, head, limits.max_headers))),
        };
        let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
            return Err(err(ErrorKind::StartLine));
        };
        let target = target.as_bytes();
        if !target.iter().all(|&b| is_target_byte(b)) {
            return Err(err(ErrorKind::Target));
        }
        let version = if minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        };
        let method_span = span_of(head, method.as_bytes());
        let target_span = span_of(head, target);
        let mut size = HEAD_OVERHEAD + method.len() + target.len() + 8;
        let mut entries = Vec::with_capacity(req.headers.len());
        let mut scan = Scan::default();
        for h in req.headers.iter() {
            let value = h.value;
            size += FIELD_OVERHEAD + h.name.len() + value.len();
            let name = span_of(head, h.name.as_bytes());
            let value_span = span_of(head, value);
            if let Some(keep) = scan.field(side, h.name.as_bytes(), value, entries.len())? {
                if keep {
                    entries.push(Entry {
                        name,
                        value: value_span,
                    });
                }
            } else if let Some(i) = scan.host {
                // A repeated Host: identical values merge, others conflict.
                let first = entries.get(i).map_or(Span::EMPTY, |e: &Entry| e.value);
                let first = head.get(first.start..first.end).unwrap_or_default();
                if !first.eq_ignore_ascii_case(value) {
                    return Err(err(ErrorKind::HostConflict));
                }
            }
        }
        if size > limits.max_head_size {
            return Err(err(ErrorKind::HeadTooLarge(limits.max_head_size)));
        }
        if scan.websocket && !scan.ws_key {
            return Err(err(ErrorKind::WebSocketKey));
        }
        if let Some(i) = scan.host {
            if let Some(authority) = absolute_authority(target) {
                let host = entries.get(i).map_or(Span::EMPTY, |e| e.value);
                let host = head.get(host.start..host.end).unwrap_or_default();
                if !authority.eq_ignore_ascii_case(host) {
                    return Err(err(ErrorKind::HostMismatch));
                }
            }
        }
        let body = scan.body(side)?;
        // RFC 9112 6.1: after a request with both Content-Length and
        // Transfer-Encoding the connection closes, so that whatever a
        // peer framed differently cannot become a request of its own.
        let keep_alive = scan.persistent(version) && !(scan.te && scan.first_cl.is_some());
        let method = method.as_bytes();
        let info = RequestInfo {
            version,
            is_head: method == b"HEAD",
            is_connect: method == b"CONNECT",
            keep_alive,
            expect_continue: scan.expect_continue && version == Version::Http11,
            upgrade: scan.conn_upgrade && scan.upgrade,
            body: body.unwrap_or(BodyKind::Empty),
        };
        let raw = self.take(buf, len);
        let mut headers = Headers {
            raw,
            extra: Vec::new(),
            entries,
        };
        scan.normalize(&mut headers);
        Ok(Some(RequestHead {
            headers,
            method: method_span,
            target: target_span,
            info,
        }))
    }

    /// Parses a response head at the start of `buf`, framed according to
    /// the request it answers.
    pub fn parse_response(
        &mut self,
        buf: &mut BytesMut,
        request: &RequestInfo,
    ) -> Result<Option<ResponseHead>, Error> {
        let side = Side::Server;
        let Some(window) = self.window(buf, side)? else {
            return Ok(None);
        };
        let err = |kind| Error::new(side, kind);
        let limits = self.limits;
        let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        let mut heap = Vec::new();
        let slots = header_slots(&mut stack, &mut heap, limits.max_headers);
        let head = buf.get(..window.len).unwrap_or_default();
        let mut resp = httparse::Response::new(&mut []);
        let mut config = httparse::ParserConfig::default();
        config
            .allow_multiple_spaces_in_response_status_delimiters(true)
            .allow_obsolete_multiline_headers_in_responses(true);
        let len = match config.parse_response_with_uninit_headers(&mut resp, head, slots) {
            Ok(httparse::Status::Complete(n)) if !window.exact || n == window.len => n,
            Ok(httparse::Status::Partial) if !window.exact => return self.incomplete(buf, side),
            Ok(_) => return Err(err(ErrorKind::StartLine)),
            Err(e) => return Err(err(map_response_error(e, limits.max_headers))),
        };
        let (Some(minor), Some(status)) = (resp.version, resp.code) else {
            return Err(err(ErrorKind::StartLine));
        };
        let version = if minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        };
        // httparse blanks a reason with obs-text; take it from the line.
        let reason = status_line_reason(head);
        let mut size = HEAD_OVERHEAD + 8 + 3 + (reason.end - reason.start);
        let mut entries = Vec::with_capacity(resp.headers.len());
        let mut folded = Vec::new();
        let mut scan = Scan::default();
        for h in resp.headers.iter() {
            size += FIELD_OVERHEAD + h.name.len() + h.value.len();
            let value = span_of(head, h.value);
            if h.value.iter().any(|&b| b == b'\n' || b == b'\r') {
                folded.push(value);
            }
            if scan.field(side, h.name.as_bytes(), h.value, entries.len())? != Some(false) {
                entries.push(Entry {
                    name: span_of(head, h.name.as_bytes()),
                    value,
                });
            }
        }
        if size > limits.max_head_size {
            return Err(err(ErrorKind::HeadTooLarge(limits.max_head_size)));
        }
        let framed = scan.body(side)?;
        let body = if status == 101 {
            if !request.upgrade {
                return Err(err(ErrorKind::Status));
            }
            BodyKind::Tunnel
        } else if (100..200).contains(&status) || request.is_head || status == 204 || status == 304
        {
            BodyKind::Empty
        } else if request.is_connect && (200..300).contains(&status) {
            BodyKind::Tunnel
        } else {
            framed.unwrap_or(BodyKind::CloseDelimited)
        };
        let keep_alive = scan.persistent(version)
            && !matches!(body, BodyKind::CloseDelimited | BodyKind::Tunnel);
        // Folded lines are forwarded as one line, the line breaks blanked.
        for s in folded {
            if let Some(v) = buf.get_mut(s.start..s.end) {
                for b in v.iter_mut().filter(|b| **b == b'\r' || **b == b'\n') {
                    *b = b' ';
                }
            }
        }
        let raw = self.take(buf, len);
        let mut headers = Headers {
            raw,
            extra: Vec::new(),
            entries,
        };
        scan.normalize(&mut headers);
        Ok(Some(ResponseHead {
            headers,
            version,
            status,
            reason,
            body,
            keep_alive,
        }))
    }

    /// The bytes to tokenize. A first attempt hands httparse the whole
    /// buffer (most heads arrive in one read, and httparse finds their end);
    /// once a head is known to be incomplete, later attempts first look for
    /// its end from where the last one stopped, so a head that trickles in
    /// is not tokenized again on every read.
    fn window(&mut self, buf: &mut BytesMut, side: Side) -> Result<Option<Window>, Error> {
        if self.scanned == 0 {
            let skip = leading_empty_lines(buf);
            if skip > 0 {
                let _ = buf.split_to(skip);
            }
            if buf.is_empty() {
                return Ok(None);
            }
            return Ok(Some(Window {
                len: buf.len().min(self.limits.max_buffer),
                exact: false,
            }));
        }
        Ok(self
            .head_end(buf, side)?
            .map(|len| Window { len, exact: true }))
    }

    /// After httparse found the head incomplete: errs if it can never
    /// complete within the limits, else asks for more.
    fn incomplete<T>(&mut self, buf: &BytesMut, side: Side) -> Result<Option<T>, Error> {
        match self.head_end(buf, side)? {
            None => Ok(None),
            // httparse disagrees with the line structure: refuse the head.
            Some(_) => Err(Error::new(side, ErrorKind::StartLine)),
        }
    }

    /// Finds the end of the head from where the last search stopped. Errs
    /// when the buffered bytes exceed the limit without completing a head.
    fn head_end(&mut self, buf: &BytesMut, side: Side) -> Result<Option<usize>, Error> {
        match find_head_end(buf, self.scanned) {
            Some(len) if len <= self.limits.max_buffer => Ok(Some(len)),
            Some(_) => Err(Error::new(
                side,
                ErrorKind::HeadTooLarge(self.limits.max_head_size),
            )),
            None if buf.len() >= self.limits.max_buffer => Err(Error::new(
                side,
                ErrorKind::HeadTooLarge(self.limits.max_head_size),
            )),
            None => {
                // A CR not followed by LF can never become valid: refuse it
                // now rather than wait for a head end that may never come.
                let fresh = buf.get(self.scanned..).unwrap_or_default();
                if let Some(at) = fresh
                    .windows(2)
                    .position(|w| matches!(w, [b'\r', n] if *n != b'\n'))
                {
                    let in_first_line = !buf
                        .get(..self.scanned + at)
                        .unwrap_or_default()
                        .contains(&b'\n');
                    let kind = if in_first_line {
                        ErrorKind::StartLine
                    } else {
                        ErrorKind::HeaderValue
                    };
                    return Err(Error::new(side, kind));
                }
                // Keep two bytes: the end may straddle this read and the next.
                self.scanned = buf.len().saturating_sub(2);
                Ok(None)
            }
        }
    }

    fn take(&mut self, buf: &mut BytesMut, len: usize) -> Bytes {
        self.scanned = 0;
        buf.split_to(len.min(buf.len())).freeze()
    }
}

impl Scan {
    /// Records one field. Returns `Some(true)` to keep it, `Some(false)` to
    /// drop it (a merged duplicate), `None` for a repeated Host to compare.
    fn field(
        &mut self,
        side: Side,
        name: &[u8],
        value: &[u8],
        index: usize,
    ) -> Result<Option<bool>, Error> {
        let err = |kind| Error::new(side, kind);
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        match name.len() {
            14 if is(b"content-length") => {
                for elem in value.split(|&b| b == b',') {
                    let n = parse_decimal(trim_ows(elem)).ok_or(err(ErrorKind::ContentLength))?;
                    match self.content_length {
                        Some(prev) if prev != n => {
                            return Err(err(ErrorKind::ContentLengthConflict));
                        }
                        _ => self.content_length = Some(n),
                    }
                }
                if self.first_cl.is_some() {
                    return Ok(Some(false));
                }
                self.first_cl = Some(index);
            }
            17 if is(b"transfer-encoding") => {
                self.te = true;
                for elem in value.split(|&b| b == b',') {
                    let t = trim_ows(elem);
                    if self.chunked {
                        // Nothing may follow chunked.
                        return Err(err(ErrorKind::TransferEncoding));
                    }
                    // An empty element counts as a coding other than
                    // chunked, as in HAProxy: `, chunked` is a 422.
                    if t.eq_ignore_ascii_case(b"chunked") {
                        self.chunked = true;
                    } else {
                        self.te_other = true;
                    }
                }
            }
            10 if is(b"connection") => {
                for t in list_elements(value) {
                    if t.eq_ignore_ascii_case(b"close") {
                        self.conn_close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        self.conn_keep_alive = true;
                    } else if t.eq_ignore_ascii_case(b"upgrade") {
                        self.conn_upgrade = true;
                    }
                }
            }
            4 if side == Side::Client && is(b"host") => {
                if self.host.is_some() {
                    return Ok(None);
                }
                self.host = Some(index);
            }
            7 if is(b"upgrade") => {
                self.upgrade |= !value.is_empty();
                self.websocket |=
                    list_elements(value).any(|t| t.eq_ignore_ascii_case(b"websocket"));
            }
            6 if is(b"expect") => {
                self.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
            }
            17 if is(b"sec-websocket-key") => self.ws_key = true,
            _ => {}
        }
        Ok(Some(true))
    }

    /// The sender's wish to keep the connection: HTTP/1.1 unless `close`,
    /// HTTP/1.0 only with `keep-alive`.
    fn persistent(&self, version: Version) -> bool {
        match version {
            Version::Http11 => !self.conn_close,
            Version::Http10 => self.conn_keep_alive && !self.conn_close,
        }
    }

    /// Framing from Content-Length and Transfer-Encoding, `None` when the
    /// head announces neither.
    fn body(&self, side: Side) -> Result<Option<BodyKind>, Error> {
        if self.te {
            if !self.chunked {
                return Err(Error::new(side, ErrorKind::TransferEncoding));
            }
            if self.te_other {
                return Err(Error::new(side, ErrorKind::UnsupportedTransferCoding));
            }
            return Ok(Some(BodyKind::Chunked));
        }
        Ok(self.content_length.map(|n| match n {
            0 => BodyKind::Empty,
            n => BodyKind::Length(n),
        }))
    }

    /// With chunked framing Content-Length is dropped (HAProxy does the
    /// same); otherwise a list such as `3, 3` is forwarded as `3`.
    fn normalize(&self, headers: &mut Headers) {
        if self.te {
            if self.first_cl.is_some() {
                headers.remove(b"content-length");
            }
            return;
        }
        let (Some(i), Some(n)) = (self.first_cl, self.content_length) else {
            return;
        };
        let digits = n.to_string();
        let current = headers.entries.get(i).map(|e| headers.bytes(e.value));
        if current != Some(digits.as_bytes()) {
            let span = headers.store(digits.as_bytes());
            if let Some(e) = headers.entries.get_mut(i) {
                e.value = span;
            }
        }
    }
}

fn header_slots<'s, 'b>(
    stack: &'s mut [MaybeUninit<httparse::Header<'b>>; STACK_HEADERS],
    heap: &'s mut Vec<MaybeUninit<httparse::Header<'b>>>,
    max: usize,
) -> &'s mut [MaybeUninit<httparse::Header<'b>>] {
    if max <= STACK_HEADERS {
        stack.get_mut(..max).unwrap_or_default()
    } else {
        heap.resize_with(max, MaybeUninit::uninit);
        heap.as_mut_slice()
    }
}

fn map_request_error(e: httparse::Error, head: &[u8], max_headers: usize) -> ErrorKind {
    match e {
        httparse::Error::HeaderName => ErrorKind::HeaderName,
        httparse::Error::HeaderValue => ErrorKind::HeaderValue,
        httparse::Error::Version => ErrorKind::Version,
        httparse::Error::TooManyHeaders => ErrorKind::TooManyHeaders(max_headers),
        httparse::Error::Token => {
            let method = head.split(|&b| b == b' ').next().unwrap_or_default();
            if method.iter().all(|&b| is_tchar(b)) {
                ErrorKind::Target
            } else {
                ErrorKind::Method
            }
        }
        _ => ErrorKind::StartLine,
    }
}

fn map_response_error(e: httparse::Error, max_headers: usize) -> ErrorKind {
    match e {
        httparse::Error::HeaderName => ErrorKind::HeaderName,
        httparse::Error::HeaderValue => ErrorKind::HeaderValue,
        httparse::Error::Version => ErrorKind::Version,
        httparse::Error::Status => ErrorKind::Status,
        httparse::Error::TooManyHeaders => ErrorKind::TooManyHeaders(max_headers),
        _ => ErrorKind::StartLine,
    }
}

/// Offset of `part` within `whole`; `part` must be a sub-slice (it is, as
/// httparse returns slices of its input). Falls back to an empty span.
fn span_of(whole: &[u8], part: &[u8]) -> Span {
    let base = whole.as_ptr() as usize;
    let start = (part.as_ptr() as usize).wrapping_sub(base);
    match start.checked_add(part.len()) {
        Some(end) if end <= whole.len() => Span::raw(start, end),
        _ => Span::EMPTY,
    }
}

/// The reason phrase of a complete status line: after `HTTP/1.x NNN` and
/// blanks, up to the line end without CR.
fn status_line_reason(head: &[u8]) -> Span {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head.get(..line_end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // Version (8 bytes), blanks, three digits, blanks.
    let mut i = 8;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    i += 3;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    if i >= line.len() {
        return Span::raw(line.len(), line.len());
    }
    Span::raw(i, line.len())
}

/// Bytes of CR LF / LF lines at the start of `buf`.
fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match (buf.get(i), buf.get(i + 1)) {
            (Some(b'\n'), _) => i += 1,
            (Some(b'\r'), Some(b'\n')) => i += 2,
            _ => return i,
        }
    }
}

/// Length of the head (through its empty line) if `buf` holds all of it;
/// the search restarts at `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let rest = buf.get(i..)?;
        let lf = i + rest.iter().position(|&b| b == b'\n')?;
        match (buf.get(lf + 1), buf.get(lf + 2)) {
            (Some(b'\n'), _) => return Some(lf + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
}

/// Elements of a comma-separated list, blanks trimmed, empty ones skipped.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|t| !t.is_empty())
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// A non-empty run of ASCII digits that fits in a u64.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Start and end of the path within a request target.
fn path_bounds(t: &[u8]) -> (usize, usize) {
    let start = if t.first().is_some_and(|&b| b == b'/' || b == b'*') {
        0
    } else if let Some(scheme_end) = t.windows(3).position(|w| w == b"://") {
        let auth = scheme_end + 3;
        t.get(auth..)
            .and_then(|r| r.iter().position(|&b| b == b'/' || b == b'?'))
            .map_or(t.len(), |p| auth + p)
    } else {
        t.len()
    };
    let end = t
        .get(start..)
        .and_then(|r| r.iter().position(|&b| b == b'?'))
        .map_or(t.len(), |p| start + p);
    (start, end)
}

/// The authority of an absolute-form target, without user info.
fn absolute_authority(t: &[u8]) -> Option<&[u8]> {
    if t.first() == Some(&b'/') {
        return None;
    }
    let scheme_end = t.windows(3).position(|w| w == b"://")?;
    let rest = t.get(scheme_end + 3..)?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let auth = rest.get(..end)?;
    Some(match auth.iter().rposition(|&b| b == b'@') {
        Some(at) => auth.get(at + 1..).unwrap_or_default(),
        None => auth,
    })
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// HAProxy accepts any visible ASCII byte (and DEL) in the target, nothing
/// at or below space, nothing with the high bit set.
fn is_target_byte(b: u8) -> bool {
    (0x21..0x80).contains(&b)
}

fn is_value_byte(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
}

fn check_name(name: &[u8]) -> Result<(), Error> {
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(Error::new(Side::Internal, ErrorKind::HeaderName));
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), Error> {
    if !value.iter().all(|&b| is_value_byte(b)) {
        return Err(Error::new(Side::Internal, ErrorKind::HeaderValue));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_bounds_forms() {
        assert_eq!(path_bounds(b"/a?b"), (0, 2));
        assert_eq!(path_bounds(b"http://h/p?q"), (8, 10));
        assert_eq!(path_bounds(b"http://h?q"), (8, 8));
        assert_eq!(path_bounds(b"h:443"), (5, 5));
        assert_eq!(path_bounds(b"*"), (0, 1));
    }

    #[test]
    fn authority_without_userinfo() {
        assert_eq!(absolute_authority(b"http://u@h:1/x"), Some(&b"h:1"[..]));
        assert_eq!(absolute_authority(b"/x"), None);
    }

    #[test]
    fn decimal_rules() {
        assert_eq!(parse_decimal(b"003"), Some(3));
        assert_eq!(parse_decimal(b"+3"), None);
        assert_eq!(parse_decimal(b""), None);
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
    }

    #[test]
    fn head_end_search() {
        assert_eq!(find_head_end(b"a\r\n\r\nrest", 0), Some(5));
        assert_eq!(find_head_end(b"a\n\nrest", 0), Some(3));
        assert_eq!(find_head_end(b"a\r\nb\r\n", 0), None);
        assert_eq!(leading_empty_lines(b"\r\n\nGET"), 3);
    }
}
