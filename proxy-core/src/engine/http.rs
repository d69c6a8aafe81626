//! `mode http` sessions over HTTP/1.1, driven by the sans-IO codec in
//! [`crate::h1`].
//!
//! One task per client connection runs transactions in order (pipelined
//! requests wait in the input buffer). For each: read the head under
//! `timeout http-request` (after `timeout http-keep-alive` for a request that
//! is not the first), apply the frontend's rules, pick the backend, apply the
//! backend's rules, add `X-Forwarded-For`, get a server connection (reused
//! when the connection mode allows), then forward the request body and the
//! response concurrently, each direction on its own half of both
//! connections, so that `Expect: 100-continue` and early responses work.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use proxy_acl::RequestView;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::auth::Userlists;
use super::connect::{self, ConnectFail, KeyOwned, Slot};
use super::cookie;
use super::model::{Backend, ConnMode, Frontend, Runtime, Server};
use super::rules::{Action, Fetch, HttpRules, Redirect, RedirectKind, Reply, ReplyBody, Samples};
use super::stream::{
    ClientReader, ClientStream, ClientWriter, ServerReader, ServerStream, ServerWriter,
};
use super::streams::{Listed, Streams};
use super::tcp::min_timeout;
use super::tunnel::{self, TunnelEnd};
use super::{Endpoints, Session};
use crate::h1::{
    BodyDecoder, BodyKind, ConnectionMode, HeadParser, Limits, RequestHead, RequestInfo,
    ResponseHead, Side, Step, error_page, parse_error_page,
};
use crate::log::httplog::{StreamLog, Timers};

/// Read size for both directions.
const READ_CHUNK: usize = super::buffers::SIZE;

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// The request line as logged (`%r`): method, target and version, one
/// space apart (built without the formatting machinery: once per request).
fn request_line(req: &RequestHead) -> String {
    let words = [
        text(req.method()),
        text(req.target()),
        text(req.version().as_bytes()),
    ];
    let mut line = String::with_capacity(words.iter().map(|w| w.len() + 1).sum());
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(w);
    }
    line
}

/// What ACLs and rule values see of a request.
struct ReqView<'a> {
    head: &'a RequestHead,
    ep: Endpoints,
    vars: &'a HashMap<String, String>,
    res: Option<&'a ResponseHead>,
    users: &'a Userlists,
    /// The backends `nbsrv` counts servers of, and the proxy evaluating
    /// (whose own servers a bare `nbsrv` counts).
    servers: (&'a [Arc<Backend>], &'a str),
}

impl RequestView for ReqView<'_> {
    fn method(&self) -> &str {
        text(self.head.method())
    }
    fn url(&self) -> &str {
        text(self.head.target())
    }
    fn version(&self) -> &str {
        match self.head.version() {
            crate::h1::Version::Http10 => "1.0",
            crate::h1::Version::Http11 => "1.1",
        }
    }
    fn header_at(&self, index: usize) -> Option<(&str, &str)> {
        self.head
            .headers()
            .iter()
            .nth(index)
            .map(|(n, v)| (text(n), text(v)))
    }
    fn src(&self) -> Option<SocketAddr> {
        Some(self.ep.src)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.ep.dst)
    }
    fn http_auth(&self, userlist: &str) -> Option<&[String]> {
        let authorization = self.head.headers().get(b"authorization")?;
        self.users
            .authenticate(userlist, std::str::from_utf8(authorization).ok()?)
    }
    fn status(&self) -> Option<u16> {
        self.res.map(ResponseHead::status)
    }
    fn res_version(&self) -> Option<&str> {
        Some(match self.res?.version() {
            crate::h1::Version::Http10 => "1.0",
            crate::h1::Version::Http11 => "1.1",
        })
    }
    fn res_header_at(&self, index: usize) -> Option<(&str, &str)> {
        self.res?
            .headers()
            .iter()
            .nth(index)
            .map(|(n, v)| (text(n), text(v)))
    }
    fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
    fn nbsrv(&self, backend: Option<&str>) -> Option<u32> {
        let (backends, proxy) = self.servers;
        let name = backend.unwrap_or(proxy);
        let be = backends.iter().find(|b| b.name == name)?;
        Some(be.usable_servers())
    }
}

impl Samples for ReqView<'_> {
    fn fetch(&self, f: &Fetch) -> Option<String> {
        let last = |h: &crate::h1::Headers, name: &str| {
            h.get_all(name.as_bytes())
                .last()
                .map(|v| text(v).to_string())
        };
        Some(match f {
            Fetch::Src => self.ep.src.ip().to_string(),
            Fetch::SrcPort => self.ep.src.port().to_string(),
            Fetch::Dst => self.ep.dst.ip().to_string(),
            Fetch::DstPort => self.ep.dst.port().to_string(),
            Fetch::Method => text(self.head.method()).to_string(),
            Fetch::Path => text(self.head.path()).to_string(),
            Fetch::Query => text(self.head.query()?).to_string(),
            Fetch::Url => text(self.head.target()).to_string(),
            Fetch::Base => {
                let host = self.head.headers().get(b"host").map_or("", text);
                format!("{host}{}", text(self.head.path()))
            }
            Fetch::ReqHdr(h) => last(self.head.headers(), h)?,
            Fetch::ResHdr(h) => last(self.res?.headers(), h)?,
            Fetch::Hdr(h) => last(self.res.map_or(self.head.headers(), |r| r.headers()), h)?,
            Fetch::Status => self.res?.status().to_string(),
            Fetch::Var(v) => self.vars.get(v)?.clone(),
            Fetch::Str(s) => s.clone(),
        })
    }
}

/// What a rule set decided.
enum Verdict {
    /// Go on with the transaction.
    Continue,
    /// Answer the client with these bytes instead (status for the log):
    /// a denial or an error, logged `PR` as HAProxy logs them.
    Reply(u16, Bytes),
    /// Answer with a reply of the proxy's own (`return`, `redirect`,
    /// `auth`), logged `LR` as HAProxy logs them.
    Local(u16, Bytes),
    /// Answer with the Prometheus exporter's page.
    Prometheus,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

fn build_reply(r: &Reply, view: &ReqView<'_>) -> Bytes {
    let body: Bytes = match &r.body {
        None => Bytes::new(),
        Some(ReplyBody::Fixed(b)) => b.clone(),
        Some(ReplyBody::Format(f)) => Bytes::from(f.render(view)),
    };
    // HAProxy writes the `hdr` fields first, then the length and type, all
    // with lowercase names.
    let mut out = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (n, v) in &r.headers {
        let v = v.render(view);
        if !v.contains(['\r', '\n']) {
            let n = n.to_ascii_lowercase();
            out.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    out.push_str(&format!("content-length: {}\r\n", body.len()));
    if let Some(ct) = &r.content_type {
        out.push_str(&format!("content-type: {ct}\r\n"));
    }
    out.push_str("\r\n");
    let mut b = BytesMut::from(out.as_bytes());
    b.extend_from_slice(&body);
    b.freeze()
}

fn build_redirect(r: &Redirect, view: &ReqView<'_>) -> Bytes {
    let head = view.head;
    let mut path = text(head.path()).to_string();
    if r.append_slash && !path.ends_with('/') {
        path.push('/');
    }
    let query = match head.query() {
        Some(q) if !r.drop_query => format!("?{}", text(q)),
        _ => String::new(),
    };
    let value = r.value.render(view);
    let location = match r.kind {
        RedirectKind::Location => value,
        RedirectKind::Prefix => {
            let prefix = value.trim_end_matches('/');
            format!("{prefix}{path}{query}")
        }
        RedirectKind::Scheme => {
            let host = head.headers().get(b"host").map_or("", text);
            format!("{value}://{host}{path}{query}")
        }
    };
    let location: String = location.chars().filter(|c| !c.is_control()).collect();
    // HAProxy marks temporary redirects as not cacheable, permanent ones not.
    let cache = if matches!(r.code, 301 | 308) {
        ""
    } else {
        "cache-control: no-cache\r\n"
    };
    Bytes::from(format!(
        "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: {location}\r\n{cache}\r\n",
        r.code,
        reason(r.code)
    ))
}

/// `bytes` (a complete response) with `connection: close` added to its head
/// unless it says so already.
/// A reply of the stream (error page, `return`, `deny`) with the names of
/// `h1-case-adjust` in their configured case, where the frontend asks for it.
fn case_adjusted<'a>(
    adjust: Option<&crate::h1::CaseAdjust>,
    bytes: &'a [u8],
) -> std::borrow::Cow<'a, [u8]> {
    match adjust.and_then(|a| a.adjust_message(bytes)) {
        Some(v) => std::borrow::Cow::Owned(v),
        None => std::borrow::Cow::Borrowed(bytes),
    }
}

fn with_close(bytes: &[u8]) -> Bytes {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Bytes::copy_from_slice(bytes);
    };
    let head = bytes.get(..end).unwrap_or_default();
    let present = head.split(|&b| b == b'\n').any(|l| {
        l.len() >= 11
            && l.get(..11)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"connection:"))
    });
    if present {
        return Bytes::copy_from_slice(bytes);
    }
    let mut out = BytesMut::with_capacity(bytes.len() + 19);
    out.extend_from_slice(head);
    out.extend_from_slice(b"\r\nconnection: close");
    out.extend_from_slice(bytes.get(end..).unwrap_or_default());
    out.freeze()
}

/// HAProxy writes back-references as `\1`; the regex crate as `${1}`.
fn regex_replacement(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// HAProxy's `replace-header`: when `re` matches somewhere in `value`, the
/// whole value becomes `rep` with its back-references filled in.
fn expand(re: &regex::bytes::Regex, value: &[u8], rep: &str) -> Option<Vec<u8>> {
    let caps = re.captures(value)?;
    let mut out = Vec::new();
    caps.expand(rep.as_bytes(), &mut out);
    Some(out)
}

/// HAProxy's `replace-value`: [`expand`] on each comma-separated element
/// (without its surrounding blanks); a rewritten element loses its blanks,
/// the others are kept as they were. `None` when no element matched.
fn replace_elements(re: &regex::bytes::Regex, value: &[u8], rep: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut changed = false;
    for (i, element) in value.split(|&b| b == b',').enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let trimmed = element.trim_ascii();
        match expand(re, trimmed, rep) {
            Some(new) => {
                changed = true;
                out.extend_from_slice(&new);
            }
            None => out.extend_from_slice(element),
        }
    }
    changed.then_some(out)
}

/// The header operations shared by request and response rules.
trait HeadOps {
    fn headers_mut(&mut self) -> &mut crate::h1::Headers;
}

impl HeadOps for RequestHead {
    fn headers_mut(&mut self) -> &mut crate::h1::Headers {
        RequestHead::headers_mut(self)
    }
}

impl HeadOps for ResponseHead {
    fn headers_mut(&mut self) -> &mut crate::h1::Headers {
        ResponseHead::headers_mut(self)
    }
}

/// Applies a header action; `Err` when a rewrite produced an invalid field.
fn header_action<H: HeadOps>(h: &mut H, a: &Action, value: Option<String>) -> Result<(), ()> {
    let hs = h.headers_mut();
    match (a, value) {
        (Action::SetHeader(n, _), Some(v)) => hs.set(n.as_bytes(), v.as_bytes()).map_err(|_| ()),
        (Action::AddHeader(n, _), Some(v)) => hs.append(n.as_bytes(), v.as_bytes()).map_err(|_| ()),
        (Action::DelHeader(n), _) => {
            hs.remove(n.as_bytes());
            Ok(())
        }
        (Action::ReplaceHeader(n, re, _), Some(rep)) => {
            let rep = regex_replacement(&rep);
            hs.rewrite(n.as_bytes(), |v| expand(re, v, &rep))
                .map(drop)
                .map_err(|_| ())
        }
        (Action::ReplaceValue(n, re, _), Some(rep)) => {
            let rep = regex_replacement(&rep);
            hs.rewrite(n.as_bytes(), |v| replace_elements(re, v, &rep))
                .map(drop)
                .map_err(|_| ())
        }
        _ => Ok(()),
    }
}

/// Runs `http-request` rules of proxy `proxy` on `req`.
fn run_request_rules(
    rules: &HttpRules,
    req: &mut RequestHead,
    ep: Endpoints,
    vars: &mut HashMap<String, String>,
    (rt, proxy): (&Runtime, &str),
) -> Verdict {
    let users = &rt.users;
    for rule in &rules.0 {
        let (applies, value) = {
            let view = ReqView {
                head: req,
                ep,
                vars,
                res: None,
                users,
                servers: (&rt.backends, proxy),
            };
            let applies = rule.cond.as_ref().is_none_or(|c| c.evaluate(&view));
            if !applies {
                (false, None)
            } else {
                let value = match &rule.action {
                    Action::SetHeader(_, f)
                    | Action::AddHeader(_, f)
                    | Action::ReplaceHeader(_, _, f)
                    | Action::ReplaceValue(_, _, f)
                    | Action::SetPath(f)
                    | Action::SetQuery(f) => Some(f.render(&view)),
                    Action::SetVar(_, f) => view.fetch(f),
                    Action::Redirect(r) => {
                        return Verdict::Local(r.code, build_redirect(r, &view));
                    }
                    Action::Return(r) => return Verdict::Local(r.status, build_reply(r, &view)),
                    Action::Deny(s) => {
                        return Verdict::Reply(*s, Bytes::from_static(error_page(*s)));
                    }
                    Action::Allow => return Verdict::Continue,
                    Action::Prometheus => return Verdict::Prometheus,
                    Action::Auth(realm) => {
                        let realm = realm.as_deref().unwrap_or(proxy);
                        return Verdict::Local(401, super::auth::challenge(realm));
                    }
                    Action::DelHeader(_) => None,
                };
                (true, value)
            }
        };
        if !applies {
            continue;
        }
        let ok = match (&rule.action, value) {
            (Action::SetPath(_), Some(p)) => req.set_path(p.as_bytes()).map_err(|_| ()),
            (Action::SetQuery(_), Some(q)) => {
                let q = q.strip_prefix('?').unwrap_or(&q).to_string();
                req.set_query((!q.is_empty()).then_some(q.as_bytes()))
                    .map_err(|_| ())
            }
            (Action::SetVar(name, _), Some(v)) => {
                vars.insert(name.clone(), v);
                Ok(())
            }
            (Action::SetVar(..), None) => Ok(()),
            (a, v) => header_action(req, a, v),
        };
        if ok.is_err() {
            return Verdict::Reply(500, Bytes::from_static(error_page(500)));
        }
    }
    Verdict::Continue
}

/// Runs `http-response` rules on `res`.
fn run_response_rules(
    rules: &HttpRules,
    req: &RequestHead,
    res: &mut ResponseHead,
    ep: Endpoints,
    vars: &mut HashMap<String, String>,
    (rt, proxy): (&Runtime, &str),
) -> Verdict {
    let users = &rt.users;
    for rule in &rules.0 {
        let value = {
            let view = ReqView {
                head: req,
                ep,
                vars,
                res: Some(res),
                users,
                servers: (&rt.backends, proxy),
            };
            if !rule.cond.as_ref().is_none_or(|c| c.evaluate(&view)) {
                continue;
            }
            match &rule.action {
                Action::SetHeader(_, f)
                | Action::AddHeader(_, f)
                | Action::ReplaceHeader(_, _, f)
                | Action::ReplaceValue(_, _, f) => Some(f.render(&view)),
                Action::SetVar(_, f) => view.fetch(f),
                Action::Redirect(r) => return Verdict::Local(r.code, build_redirect(r, &view)),
                Action::Return(r) => return Verdict::Local(r.status, build_reply(r, &view)),
                Action::Deny(s) => {
                    let s = if *s == 403 { 502 } else { *s };
                    return Verdict::Reply(s, Bytes::from_static(error_page(s)));
                }
                Action::Allow => return Verdict::Continue,
                _ => None,
            }
        };
        let ok = match (&rule.action, value) {
            (Action::SetVar(name, _), Some(v)) => {
                vars.insert(name.clone(), v);
                Ok(())
            }
            (a, v) => header_action(res, a, v),
        };
        if ok.is_err() {
            return Verdict::Reply(500, Bytes::from_static(error_page(500)));
        }
    }
    Verdict::Continue
}

/// Runs an IO operation under an optional deadline: `Err(None)` when it
/// expires, `Err(Some(e))` when the operation fails.
///
/// Most reads and writes complete at their first poll, so the operation is
/// polled once before any timer exists: only one that has to wait pays for
/// registering (and later cancelling) a timer.
async fn within<T>(
    timeout: Option<Duration>,
    fut: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, Option<std::io::Error>> {
    let mut fut = std::pin::pin!(fut);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
    if let std::task::Poll::Ready(r) = first {
        return r.map_err(Some);
    }
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(Some),
            Err(_) => Err(None),
        },
        None => fut.await.map_err(Some),
    }
}

/// Reads into `buf`, with an optional deadline. `Ok(0)` is end of input;
/// `Err(None)` a timeout, `Err(Some(e))` an error.
async fn read_some<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    timeout: Option<Duration>,
) -> Result<usize, Option<std::io::Error>> {
    super::buffers::reserve(buf);
    let fut = r.read_buf(buf);
    within(timeout, fut).await
}

async fn write_all<W: AsyncWrite + Unpin>(
    w: &mut W,
    b: &[u8],
    timeout: Option<Duration>,
) -> Result<(), Option<std::io::Error>> {
    let fut = async {
        w.write_all(b).await?;
        w.flush().await
    };
    within(timeout, fut).await
}

/// Writes `head` then `body` with as few system calls as the transport
/// allows (one `writev` when both fit the socket buffer), so that a message
/// whose body is already buffered leaves in one segment, as HAProxy sends it.
async fn write_all_pair<W: AsyncWrite + Unpin>(
    w: &mut W,
    head: &[u8],
    body: &[u8],
    timeout: Option<Duration>,
) -> Result<(), Option<std::io::Error>> {
    if body.is_empty() {
        return write_all(w, head, timeout).await;
    }
    let fut = async {
        let (mut head, mut body) = (head, body);
        while !head.is_empty() {
            let slices = [std::io::IoSlice::new(head), std::io::IoSlice::new(body)];
            let n = w.write_vectored(&slices).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            let from_head = n.min(head.len());
            head = head.get(from_head..).unwrap_or_default();
            body = body.get(n - from_head..).unwrap_or_default();
        }
        w.write_all(body).await?;
        w.flush().await
    };
    within(timeout, fut).await
}

/// A server connection split in halves for concurrent directions (owned
/// halves: no lock on each read and write).
struct ServerConn {
    rd: ServerReader,
    wr: ServerWriter,
    /// Bytes read past the previous response (should stay empty).
    buf: BytesMut,
    /// The server it goes to.
    server: usize,
    backend: Arc<Backend>,
}

impl ServerConn {
    fn new(s: ServerStream, server: usize, backend: Arc<Backend>) -> Self {
        let (rd, wr) = s.into_split();
        ServerConn {
            rd,
            wr,
            buf: BytesMut::new(),
            server,
            backend,
        }
    }

    /// Returns the connection to its server's idle pool.
    fn release(self) {
        if !self.buf.is_empty() {
            return;
        }
        let Some(stream) = self.rd.reunite(self.wr) else {
            return;
        };
        if let Some(s) = self.backend.servers.get(self.server) {
            s.put_idle(stream);
        }
    }
}

/// How the request direction of a transaction ended.
enum ReqEnd {
    /// The whole body was forwarded.
    Done,
    /// The client timed out (`cD`) or closed/failed (`CD`).
    Client(bool),
    /// Writing to the server failed.
    Server,
    /// The stream was shut down while the body was still uploading.
    Killed,
}

/// How the response direction of a transaction ended.
enum ResEnd {
    /// The whole response was forwarded.
    Done,
    /// A 101 or a 2xx to CONNECT: the connection becomes a tunnel.
    Tunnel,
    /// The response ran until the server closed: the client must be closed.
    UntilClose,
    /// Failure before the response head; an error page was sent.
    NoHead,
    /// Failure after the head was sent (flags).
    Broken([u8; 2]),
    /// An `http-response` rule replied instead.
    Replied,
}

/// The per-transaction facts the log line needs.
#[derive(Default)]
struct TxnLog {
    /// Counted but not logged (a `monitor-uri` request).
    silent: bool,
    status: u16,
    bytes: u64,
    /// Bytes received from the client: request head and body (`%U`).
    bytes_in: u64,
    termination: [u8; 2],
    t_request: Option<u64>,
    t_queue: Option<u64>,
    t_connect: Option<u64>,
    t_response: Option<u64>,
    retries: (u32, bool),
    queues: (u32, u32),
    req_caps: Vec<Option<String>>,
    res_caps: Vec<Option<String>>,
    request_line: String,
    backend: Option<Arc<Backend>>,
    server: Option<usize>,
    /// Persistence cookie status and operation (`--` without `cookie`).
    cookie_flags: Option<[u8; 2]>,
    /// The stream counted in its backend (`%bc`) from the choice of the
    /// backend until its final log line, which, as HAProxy's, no longer
    /// counts it; an early (`logasap`) line does.
    be_counted: Option<super::model::CounterGuard>,
    /// The proxy's own service that answered (`<STATS>`, `<PROMEX>`),
    /// logged in place of the server.
    applet: Option<&'static str>,
    /// The status the log line shows when it differs from the one sent.
    logged_status: Option<u16>,
}

fn capture(h: &crate::h1::Headers, specs: &[super::model::CaptureSpec]) -> Vec<Option<String>> {
    specs
        .iter()
        .map(|c| {
            h.get(c.header.as_bytes()).map(|v| {
                let v = String::from_utf8_lossy(v);
                // The longest whole-character prefix of at most `len` bytes.
                let mut end = c.len.min(v.len());
                while !v.is_char_boundary(end) {
                    end -= 1;
                }
                v.get(..end).unwrap_or_default().to_string()
            })
        })
        .collect()
}

/// Marks a transaction answered by one of the proxy's own services, as
/// HAProxy logs those: the service in place of the server, `LR`, no time
/// in queues or connecting, and a response timer only when the service
/// answered (HAProxy 2.6 logs the 401 of `stats auth` with status 400 and
/// no response time, as captured from it).
fn served_locally(txn: &mut TxnLog, applet: &'static str, status: u16) {
    txn.applet = Some(applet);
    txn.termination = *b"LR";
    txn.t_queue = Some(0);
    txn.t_connect = Some(0);
    if status == 401 {
        txn.logged_status = Some(400);
    } else {
        txn.t_response = Some(0);
    }
}

/// Emits the log line of a transaction; `logasap` for the early line of
/// `option logasap`, sent while the stream still holds its backend.
fn emit_log(
    fe: &Frontend,
    session: &Session,
    txn: &mut TxnLog,
    timing: (Instant, SystemTime),
    logasap: bool,
) {
    if !logasap {
        txn.be_counted = None;
    }
    let txn = &*txn;
    let be = txn.backend.as_deref();
    let server: Option<&Server> = be.zip(txn.server).and_then(|(b, i)| b.servers.get(i));
    super::stats_view::account(
        fe,
        be,
        server,
        &super::stats_view::Outcome {
            status: txn.status,
            bytes_out: txn.bytes,
            bytes_in: 0,
            termination: txn.termination,
            retries: txn.retries,
            http: true,
        },
    );
    if txn.silent || !fe.logger.enabled() {
        return;
    }
    let l = StreamLog {
        client: session.ep.src,
        date: timing.1,
        accept_date: session.accepted_at,
        frontend: &fe.name,
        frontend_tls: false,
        frontend_addr: Some(session.ep.dst),
        backend: be.map_or(fe.name.as_str(), |b| b.name.as_str()),
        server: txn.applet.or(server.map(|s| s.name.as_str())),
        server_addr: server.map(|s| s.addr(session.ep.dst)),
        timers: Timers {
            request: txn.t_request,
            queue: txn.t_queue,
            connect: txn.t_connect,
            response: txn.t_response,
            total: Some(ms(timing.0.elapsed())),
            // The wait for a request is counted in TR, not apart.
            idle: Some(0),
            handshake: Some(0),
        },
        status: txn.logged_status.unwrap_or(txn.status),
        // HAProxy logs no bytes for the error page of a request it could
        // not parse.
        bytes: if txn.request_line.is_empty() {
            0
        } else {
            txn.bytes
        },
        bytes_in: txn.bytes_in,
        // With `option logasap` every line marks its totals with `+`, as
        // HAProxy does, whether it was sent early or not.
        logasap: logasap || fe.logasap,
        cookies: (None, None),
        termination: {
            let [c, o] = txn.cookie_flags.unwrap_or(*b"--");
            [txn.termination[0], txn.termination[1], c, o]
        },
        conns: session.conns(be, server),
        retries: txn.retries,
        queues: txn.queues,
        request_captures: &txn.req_caps,
        response_captures: &txn.res_caps,
        // HAProxy's placeholder when no request line could be read.
        request_line: if txn.request_line.is_empty() {
            "<BADREQ>"
        } else {
            &txn.request_line
        },
    };
    fe.logger.traffic(&l, || {
        format!(
            "Connect from {} to {} ({}/HTTP)",
            session.ep.src, session.ep.dst, fe.name
        )
    });
}

/// How many bytes at the start of `buf` belong to the message body, framing
/// included, whether the message ends with them, and how many of them
/// HAProxy counts in its logs: the payload, and one byte for the end of a
/// chunked body.
fn ready(dec: &mut BodyDecoder, buf: &[u8]) -> Result<Ready, crate::h1::Error> {
    scan(dec, buf).map(|(r, _)| r)
}

/// [`ready`] for bytes about to be forwarded: the names of the trailer
/// fields among them are lowercased in place, as HAProxy sends them
/// (`h1-case-adjust` does not apply to trailers there either).
fn ready_to_forward(dec: &mut BodyDecoder, buf: &mut [u8]) -> Result<Ready, crate::h1::Error> {
    let (r, trailers) = scan(dec, buf)?;
    if let Some(fields) = buf.get_mut(trailers) {
        let mut in_name = true;
        for b in fields {
            match *b {
                b'\n' => in_name = true,
                b':' => in_name = false,
                _ if in_name => b.make_ascii_lowercase(),
                _ => {}
            }
        }
    }
    Ok(r)
}

/// What [`ready`] says: bytes to forward, message done, bytes HAProxy counts.
type Ready = (usize, bool, u64);

/// [`ready`], with where the trailer fields are in `buf`.
fn scan(
    dec: &mut BodyDecoder,
    buf: &[u8],
) -> Result<(Ready, std::ops::Range<usize>), crate::h1::Error> {
    let mut fwd = 0usize;
    let mut data = 0u64;
    loop {
        match dec.poll(buf.get(fwd..).unwrap_or_default())? {
            Step::Data(n) => {
                fwd += n;
                data += n as u64;
            }
            Step::Framing(n) => fwd += n,
            Step::End { len, trailers } => {
                if dec.kind() == BodyKind::Chunked {
                    data += 1;
                }
                let trailers = fwd + trailers.start..fwd + trailers.end;
                return Ok(((fwd + len, true, data), trailers));
            }
            Step::NeedMore => return Ok(((fwd, false, data), 0..0)),
        }
    }
}

/// Whether the chunked body bytes already read with the head break the
/// framing. HAProxy parses them before it picks a server and answers 400
/// without forwarding anything; later bytes can only abort the transfer.
fn chunked_prefix_broken(buf: &[u8]) -> bool {
    let mut dec = BodyDecoder::new(BodyKind::Chunked, Side::Client);
    ready(&mut dec, buf).is_err()
}

/// Forwards the request head and body to the server.
async fn forward_request(
    crd: &mut ClientReader,
    cbuf: &mut BytesMut,
    swr: &mut ServerWriter,
    head: Bytes,
    body: BodyKind,
    timeouts: (Option<Duration>, Option<Duration>),
    body_in: &mut u64,
) -> ReqEnd {
    let (t_client, t_server) = timeouts;
    if matches!(body, BodyKind::Empty) {
        return match write_all(swr, &head, t_server).await {
            Ok(()) => ReqEnd::Done,
            Err(_) => ReqEnd::Server,
        };
    }
    // The body bytes that came with the head leave in the head's write.
    let mut dec = BodyDecoder::new(body, Side::Client);
    let (first, first_state) = match ready_to_forward(&mut dec, cbuf) {
        Ok((fwd, done, data)) => {
            *body_in += data;
            (cbuf.split_to(fwd.min(cbuf.len())), Ok(done))
        }
        Err(e) => (BytesMut::new(), Err(e)),
    };
    if write_all_pair(swr, &head, &first, t_server).await.is_err() {
        return ReqEnd::Server;
    }
    match first_state {
        Ok(true) => return ReqEnd::Done,
        Ok(false) => {}
        Err(_) => return ReqEnd::Client(false),
    }
    loop {
        match read_some(crd, cbuf, t_client).await {
            Ok(n) if n > 0 => {}
            Ok(_) | Err(Some(_)) => return ReqEnd::Client(false),
            Err(None) => return ReqEnd::Client(true),
        }
        let Ok((fwd, done, data)) = ready_to_forward(&mut dec, cbuf) else {
            return ReqEnd::Client(false);
        };
        *body_in += data;
        if fwd > 0 {
            let chunk = cbuf.split_to(fwd.min(cbuf.len()));
            if write_all(swr, &chunk, t_server).await.is_err() {
                return ReqEnd::Server;
            }
        }
        if done {
            return ReqEnd::Done;
        }
    }
}

/// The shared, read-only inputs of the response direction.
struct ResCtx<'a> {
    fe: &'a Frontend,
    be: &'a Backend,
    session: &'a Session,
    req: &'a RequestHead,
    info: RequestInfo,
    client_keep: bool,
    sent_at: Instant,
    timing: (Instant, SystemTime),
    /// `Set-Cookie` value the response gets for cookie persistence.
    set_cookie: Option<String>,
    /// Prefix mode: the server value the application's cookie gets.
    prefix_with: Option<String>,
}

/// How the response direction left both connections.
struct ResOutcome {
    end: ResEnd,
    /// The server connection may carry another request.
    server_reusable: bool,
    /// The client connection may carry another request.
    client_keep: bool,
}

/// Reads the response head (passing interim ones on), applies the response
/// rules and forwards head and body to the client.
async fn forward_response(
    cx: &ResCtx<'_>,
    cwr: &mut ClientWriter,
    srd: &mut ServerReader,
    sbuf: &mut BytesMut,
    vars: &mut HashMap<String, String>,
    txn: &mut TxnLog,
) -> ResOutcome {
    let t_client = cx.fe.timeout_client;
    let adjust = cx.fe.case_adjust.as_deref();
    let t_server = cx.be.timeout_server;
    let fail = |end| ResOutcome {
        end,
        server_reusable: false,
        client_keep: false,
    };
    // A stream shut down (`shutdown session`) ends here as HAProxy's: a
    // 502 before the response head, a cut body after it.
    let me = cx.session.stream.clone();
    let mut parser = HeadParser::new(Limits::default());
    let mut res = loop {
        match parser.parse_response(sbuf, &cx.info) {
            Ok(Some(head)) if head.is_interim() => {
                let mut out = BytesMut::with_capacity(head.encoded_len());
                head.encode_adjusted(&mut out, adjust);
                if write_all(cwr, &out, t_client).await.is_err() {
                    return fail(ResEnd::Broken(*b"CH"));
                }
                txn.bytes += super::logging::htx_response_len(&head);
            }
            Ok(Some(head)) => break head,
            Ok(None) => {
                let read = read_some(srd, sbuf, t_server);
                match unless_killed(me.as_deref(), read).await {
                    None => {
                        return killed_before_head(cwr, txn, cx.client_keep, t_client, adjust)
                            .await;
                    }
                    Some(Ok(n)) if n > 0 => {}
                    Some(Ok(_) | Err(Some(_))) => {
                        return no_head(cwr, txn, (502, *b"SH"), t_client, (adjust, cx)).await;
                    }
                    Some(Err(None)) => {
                        return no_head(cwr, txn, (504, *b"sH"), t_client, (adjust, cx)).await;
                    }
                }
            }
            Err(_) => {
                return no_head(cwr, txn, (502, *b"PH"), t_client, (adjust, cx)).await;
            }
        }
    };
    txn.t_response = Some(ms(cx.sent_at.elapsed()));
    // Counted as received: HAProxy's count ignores later edits.
    let head_count = super::logging::htx_response_len(&res);
    txn.status = res.status();
    txn.res_caps = capture(res.headers(), &cx.fe.res_captures);
    for (rules, proxy) in [
        (&cx.be.http_response, &cx.be.name),
        (&cx.fe.http_response, &cx.fe.name),
    ] {
        let verdict = run_response_rules(
            rules,
            cx.req,
            &mut res,
            cx.session.ep,
            vars,
            (&cx.session.ctx.rt, proxy),
        );
        if let Verdict::Reply(status, bytes) | Verdict::Local(status, bytes) = &verdict {
            // As HAProxy logs it: `PH` for a denial, `LH` for an answer of
            // the proxy's own, no response time, and the bytes of the
            // server's response it had read before those of the reply.
            txn.termination = if matches!(verdict, Verdict::Local(..)) {
                *b"LH"
            } else {
                *b"PH"
            };
            txn.t_response = None;
            txn.status = *status;
            let mut dec = BodyDecoder::new(res.body_kind(), Side::Server);
            let read = ready(&mut dec, sbuf).map_or(0, |(_, _, data)| data);
            txn.bytes += head_count + read;
            let adjusted = case_adjusted(adjust, bytes);
            if write_all(cwr, &adjusted, t_client).await.is_ok() {
                txn.bytes += super::logging::htx_message_len(bytes);
            }
            return fail(ResEnd::Replied);
        }
    }
    if let (Some(value), Some(conf)) = (&cx.set_cookie, &cx.be.cookie) {
        // Decided before the rules ran, added after them, as HAProxy does.
        let private =
            conf.nocache && cookie::cacheable(cx.req.method(), res.status(), res.headers());
        let h = res.headers_mut();
        if h.append(b"set-cookie", value.as_bytes()).is_err()
            || (private && h.append(b"cache-control", b"private").is_err())
        {
            return no_head(cwr, txn, (502, *b"PH"), t_client, (adjust, cx)).await;
        }
    }
    if let (Some(server), Some(conf)) = (&cx.prefix_with, &cx.be.cookie) {
        match conf.prefix_response(res.headers_mut(), server) {
            Ok(true) => {
                if let Some(f) = txn.cookie_flags.as_mut() {
                    f[1] = b'R';
                }
            }
            Ok(false) => {}
            Err(_) => {
                return no_head(cwr, txn, (502, *b"PH"), t_client, (adjust, cx)).await;
            }
        }
    }
    let kind = res.body_kind();
    let server_reusable = res.keep_alive() && kind != BodyKind::CloseDelimited;
    let client_keep = cx.client_keep && kind != BodyKind::CloseDelimited;
    if kind != BodyKind::Tunnel {
        res.set_connection(if client_keep {
            ConnectionMode::KeepAlive
        } else {
            ConnectionMode::Close
        });
        // The client's version decides what it must be told: an HTTP/1.0
        // client kept alive needs `Connection: keep-alive`, as HAProxy says.
        if client_keep && cx.req.version() == crate::h1::Version::Http10 {
            res.headers_mut()
                .set_connection(crate::h1::Version::Http10, ConnectionMode::KeepAlive);
        }
    }
    let mut out = BytesMut::with_capacity(res.encoded_len());
    res.encode_adjusted(&mut out, adjust);
    // The body bytes read with the head leave in the head's write.
    let with_body = !matches!(kind, BodyKind::Tunnel | BodyKind::Empty);
    let mut dec = BodyDecoder::new(kind, Side::Server);
    let (first, first_data, first_state) = if with_body {
        match ready_to_forward(&mut dec, sbuf) {
            Ok((fwd, done, data)) => (sbuf.split_to(fwd.min(sbuf.len())), data, Ok(done)),
            Err(e) => (BytesMut::new(), 0, Err(e)),
        }
    } else {
        (BytesMut::new(), 0, Ok(true))
    };
    // Counted once read from the server, as HAProxy counts it, whether the
    // client takes it or the stream is shut down meanwhile.
    txn.bytes += head_count;
    txn.bytes += first_data;
    let sent = write_all_pair(cwr, &out, &first, t_client).await;
    if let Some(end) = after_write(me.as_deref(), sent.is_ok()) {
        return fail(end);
    }
    // The early log line counts what came with the head, as HAProxy's
    // counts what its buffer holds then.
    if cx.fe.logasap {
        emit_log(cx.fe, cx.session, txn, cx.timing, true);
    }
    if kind == BodyKind::Tunnel {
        return ResOutcome {
            end: ResEnd::Tunnel,
            server_reusable: false,
            client_keep: false,
        };
    }
    match first_state {
        Ok(true) => {
            return ResOutcome {
                end: ResEnd::Done,
                server_reusable,
                client_keep,
            };
        }
        Ok(false) => {}
        Err(_) => return fail(ResEnd::Broken(*b"SD")),
    }
    loop {
        let read = read_some(srd, sbuf, t_server);
        let Some(read) = unless_killed(me.as_deref(), read).await else {
            return fail(ResEnd::Broken(*b"KD"));
        };
        match read {
            Ok(n) if n > 0 => {}
            Ok(_) => {
                return if dec.finish().is_ok() {
                    ResOutcome {
                        end: ResEnd::UntilClose,
                        server_reusable: false,
                        client_keep: false,
                    }
                } else {
                    fail(ResEnd::Broken(*b"SD"))
                };
            }
            Err(Some(_)) => return fail(ResEnd::Broken(*b"SD")),
            Err(None) => return fail(ResEnd::Broken(*b"sD")),
        }
        let Ok((fwd, done, data)) = ready_to_forward(&mut dec, sbuf) else {
            return fail(ResEnd::Broken(*b"SD"));
        };
        if fwd > 0 {
            let chunk = sbuf.split_to(fwd.min(sbuf.len()));
            txn.bytes += data;
            let sent = write_all(cwr, &chunk, t_client).await;
            if let Some(end) = after_write(me.as_deref(), sent.is_ok()) {
                return fail(end);
            }
        }
        if done {
            return ResOutcome {
                end: ResEnd::Done,
                server_reusable,
                client_keep,
            };
        }
    }
}

/// How the response ends after a write to the client, if it does: a
/// stream shut down meanwhile ends with `K-`, as HAProxy's, which still
/// hands the client what it holds (until `timeout client` if the client
/// does not read) and logs no phase; a failed write ends with `CD`.
fn after_write(stream: Option<&super::streams::Stream>, sent: bool) -> Option<ResEnd> {
    if stream.is_some_and(super::streams::Stream::is_killed) {
        Some(ResEnd::Broken(*b"K-"))
    } else if sent {
        None
    } else {
        Some(ResEnd::Broken(*b"CD"))
    }
}

/// Runs `fut` unless `stream` is shut down first (`None` then).
async fn unless_killed<T>(
    stream: Option<&super::streams::Stream>,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    // Once per read and write of a response: no select (and its random
    // pick), and nothing to watch without a stream.
    let Some(stream) = stream else {
        return Some(fut.await);
    };
    let mut fut = std::pin::pin!(fut);
    let mut killed = std::pin::pin!(stream.killed());
    std::future::poll_fn(|cx| {
        if killed.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

/// Answers a stream shut down while it waited for the response head, as
/// HAProxy 2.6 does: its 502 page (announcing the close unless the client
/// keeps the connection), counted without that header, and `KH`. A
/// keep-alive client is kept, as HAProxy keeps it: its next request is a
/// new stream.
async fn killed_before_head(
    cwr: &mut ClientWriter,
    txn: &mut TxnLog,
    client_keep: bool,
    t_client: Option<Duration>,
    adjust: Option<&crate::h1::CaseAdjust>,
) -> ResOutcome {
    let page = error_page(502);
    txn.status = 502;
    txn.termination = *b"KH";
    let sent = if client_keep {
        write_all(cwr, &case_adjusted(adjust, page), t_client).await
    } else {
        write_all(cwr, &case_adjusted(adjust, &with_close(page)), t_client).await
    };
    if sent.is_ok() {
        txn.bytes += super::logging::htx_message_len(page);
    }
    ResOutcome {
        end: ResEnd::NoHead,
        server_reusable: false,
        client_keep: client_keep && sent.is_ok(),
    }
}

/// Answers with an error page when no response head could be had.
async fn no_head(
    cwr: &mut ClientWriter,
    txn: &mut TxnLog,
    (status, termination): (u16, [u8; 2]),
    t_client: Option<Duration>,
    (adjust, cx): (Option<&crate::h1::CaseAdjust>, &ResCtx<'_>),
) -> ResOutcome {
    let page = super::errorfiles::page(cx.fe, Some(cx.be), status);
    // As HAProxy: the close is announced when the client did not ask to
    // keep the connection, and not counted.
    let sent = if cx.client_keep || super::errorfiles::is_http10(&page) {
        page.clone()
    } else {
        with_close(&page)
    };
    txn.status = status;
    txn.termination = termination;
    if write_all(cwr, &case_adjusted(adjust, &sent), t_client)
        .await
        .is_ok()
    {
        txn.bytes += super::logging::htx_message_len(&page);
    }
    ResOutcome {
        end: ResEnd::NoHead,
        server_reusable: false,
        client_keep: false,
    }
}

/// Resolves when the client closes while its request waits for a server
/// (`option abortonclose`). Bytes read meanwhile stay in `buf`; past a
/// buffer's worth, it stops watching.
async fn client_gone(crd: &mut ClientReader, buf: &mut BytesMut) {
    while buf.len() < READ_CHUNK * 4 {
        match crd.read_buf(buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    std::future::pending::<()>().await;
}

/// What a connection keeps from one request to the next. Idle connections
/// hold this (and what waits for their next bytes) in their task: what is
/// needed only while a head is read or a transaction runs lives there.
struct Http {
    session: Session,
    crd: ClientReader,
    cwr: ClientWriter,
    cbuf: BytesMut,
    server: Option<ServerConn>,
}

/// What follows a transaction.
enum Next {
    KeepAlive,
    Close,
    Tunnel(ServerConn),
}

/// The head of a response the proxy sends, without its body.
fn head_only(page: &[u8]) -> &[u8] {
    let end = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| page.windows(2).position(|w| w == b"\n\n").map(|i| i + 2));
    end.and_then(|e| page.get(..e)).unwrap_or(page)
}

/// Whether a request for `target` asks for the `monitor-uri` `uri`: one
/// that starts with `/` is compared with the target's path and query (an
/// absolute-form target's too), another with the whole target.
fn monitor_matches(uri: &str, target: &[u8]) -> bool {
    if !uri.starts_with('/') {
        return target == uri.as_bytes();
    }
    let path = match target.windows(3).position(|w| w == b"://") {
        Some(i) if target.first() != Some(&b'/') => {
            let rest = &target[i + 3..];
            match rest.iter().position(|&b| b == b'/') {
                Some(j) => &rest[j..],
                // `http://host` alone: the path is `/`.
                None => b"/".as_slice(),
            }
        }
        _ => target,
    };
    path == uri.as_bytes()
}

/// Runs one HTTP-mode session to its end.
///
/// As in HAProxy, the connection is not a stream of its own: each request
/// becomes one once its head is in (see [`Http::transaction`]), so that a
/// connection waiting for a request is neither listed by `show sess` nor
/// holds a registry entry.
///
/// Not an `async fn`: an async fn's arguments stay in its state next to
/// the copies it moves them into, so the session would be laid out in
/// every connection's task twice over; the returned future holds the
/// session once, inside `h`.
pub(crate) fn serve(session: Session, client: ClientStream) -> impl Future<Output = ()> {
    let (crd, cwr) = client.into_split();
    let mut h = Http {
        session,
        crd,
        cwr,
        cbuf: BytesMut::new(),
        server: None,
    };
    async move {
        // The first bytes usually arrived with the connection. When they have
        // not, the connection waits without a buffer (idle connections cost
        // none) until the first request's deadline, past which the reading in
        // the transaction answers 408, as it handles a client gone meanwhile.
        let first_deadline = h
            .timeouts()
            .http_request
            .and_then(|t| h.session.started.checked_add(t));
        h.read_when_ready(first_deadline, true).await;
        let mut first = true;
        loop {
            // A request after the first (unless pipelined) is awaited here,
            // under `timeout http-keep-alive`; an idle connection then closes.
            if !first && h.cbuf.is_empty() {
                let idle = h.timeouts().keep_alive;
                let deadline = idle.and_then(|t| Instant::now().checked_add(t));
                if !h.read_when_ready(deadline, false).await {
                    break;
                }
            }
            // Boxed: the session task holds only what an idle connection needs;
            // a transaction's larger state lives as long as the transaction.
            // Watched through `listed`: the request's stream, once it is one,
            // ends the transaction when shut down. Declared first, so dropped
            // last: the stream leaves the registry once its future is gone.
            let listed = OnceLock::new();
            let next =
                super::streams::watched(&listed, Box::pin(h.transaction(first, &listed))).await;
            let keep = match next {
                Some(Next::KeepAlive) => true,
                Some(Next::Close) | None => false,
                // Boxed: rare, and its state would otherwise enlarge every
                // session's.
                Some(Next::Tunnel(conn)) => {
                    super::streams::watched(&listed, Box::pin(h.tunnel(conn))).await;
                    false
                }
            };
            h.session.stream = None;
            if !keep {
                break;
            }
            first = false;
        }
        if let Some(s) = h.server.take() {
            s.release();
        }
        super::buffers::recycle(&mut h.cbuf);
        let _ = h.cwr.shutdown().await;
    }
}

/// How long a connection may wait for a request.
struct Waits {
    /// For the first one: `timeout http-request`, else `timeout client`.
    http_request: Option<Duration>,
    /// For the next ones: `timeout http-keep-alive`, else as the first.
    keep_alive: Option<Duration>,
}

impl Http {
    /// The frontend's waits for a request. Worked out when needed rather
    /// than kept: what an idle connection's task holds is kept small.
    fn timeouts(&self) -> Waits {
        let fe = &self.session.ctx.fe;
        let http_request = fe.timeout_http_request.or(fe.timeout_client);
        Waits {
            http_request,
            keep_alive: fe.timeout_keep_alive.or(http_request),
        }
    }

    /// Sends an answer of the proxy's own and logs the transaction.
    async fn answer(
        &mut self,
        txn: &mut TxnLog,
        status: u16,
        bytes: &[u8],
        timing: (Instant, SystemTime),
    ) {
        txn.status = status;
        if write_all(&mut self.cwr, bytes, self.session.ctx.fe.timeout_client)
            .await
            .is_ok()
        {
            txn.bytes += super::logging::htx_message_len(bytes);
        }
        emit_log(&self.session.ctx.fe, &self.session, txn, timing, false);
    }

    /// Reads the first bytes of a request once they are there: at once
    /// when `at_once` and they are, else after waiting for them until
    /// `deadline`. False when none came: the wait expired, the client
    /// closed or failed, or a soft stop began.
    ///
    /// Called outside a transaction's boxed state, and the read buffer
    /// goes back while waiting, as HAProxy releases its buffers when they
    /// are empty: a connection waiting for a request holds neither, and a
    /// buffer is taken once bytes are there.
    async fn read_when_ready(&mut self, deadline: Option<Instant>, at_once: bool) -> bool {
        let stop = &self.session.ctx;
        let mut wait = !at_once;
        loop {
            if wait {
                super::buffers::recycle(&mut self.cbuf);
                let crd = &self.crd;
                // Polled by hand: an idle connection waits here, holding a
                // timer and a stop waiter and nothing more.
                let mut sleep =
                    std::pin::pin!(deadline.map(|d| tokio::time::sleep_until(d.into())));
                let ready = stop
                    .until_stop(|cx| {
                        if let Some(s) = sleep.as_mut().as_pin_mut()
                            && s.poll(cx).is_ready()
                        {
                            return std::task::Poll::Ready(false);
                        }
                        crd.poll_readable(cx).map(|r| r.is_ok())
                    })
                    .await;
                if !ready {
                    return false;
                }
            }
            wait = true;
            // One attempt: nothing may be there yet (a new connection), or
            // readiness was stale (the request before was read in full);
            // the wait then starts again without the buffer.
            super::buffers::reserve(&mut self.cbuf);
            let mut read = std::pin::pin!(self.crd.read_buf(&mut self.cbuf));
            match std::future::poll_fn(|cx| std::task::Poll::Ready(read.as_mut().poll(cx))).await {
                std::task::Poll::Ready(Ok(n)) => return n > 0,
                std::task::Poll::Ready(Err(_)) => return false,
                std::task::Poll::Pending => {}
            }
        }
    }

    /// Reads a request head, answering 400/408 when it cannot be had.
    async fn read_head(
        &mut self,
        first: bool,
    ) -> Result<(RequestHead, (Instant, SystemTime)), Next> {
        let fe = Arc::clone(&self.session.ctx.fe);
        let timing = if first {
            (self.session.started, self.session.accepted_at)
        } else {
            (Instant::now(), SystemTime::now())
        };
        let deadline = self
            .timeouts()
            .http_request
            .and_then(|t| timing.0.checked_add(t));
        // Here rather than in `Http`: what it keeps is the progress through
        // one head.
        let mut parser = HeadParser::new(Limits::default());
        loop {
            match parser.parse_request(&mut self.cbuf) {
                Ok(Some(head)) => return Ok((head, timing)),
                Ok(None) => {}
                Err(e) => {
                    let status = e.status();
                    self.session.ctx.rt.errors.record(
                        &fe.name,
                        self.session.ep.src,
                        &self.cbuf,
                        &e.kind,
                    );
                    let mut txn = TxnLog {
                        termination: *b"PR",
                        ..TxnLog::default()
                    };
                    self.answer(&mut txn, status, parse_error_page(status), timing)
                        .await;
                    return Err(Next::Close);
                }
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match read_some(&mut self.crd, &mut self.cbuf, left).await {
                Ok(n) if n > 0 => {}
                Ok(_) | Err(Some(_)) => {
                    // The client went away before a complete head.
                    if !self.cbuf.is_empty() || !fe.dontlognull {
                        let mut txn = TxnLog {
                            status: 400,
                            termination: *b"CR",
                            ..TxnLog::default()
                        };
                        emit_log(&fe, &self.session, &mut txn, timing, false);
                    }
                    return Err(Next::Close);
                }
                Err(None) => {
                    let mut txn = TxnLog {
                        termination: *b"cR",
                        ..TxnLog::default()
                    };
                    self.answer(&mut txn, 408, parse_error_page(408), timing)
                        .await;
                    return Err(Next::Close);
                }
            }
        }
    }

    /// Answers a request with bytes of the proxy's own (an error page, a
    /// redirect, a `return`), then keeps the connection when nothing of the
    /// request is left unread and the modes allow it, as HAProxy does, or
    /// announces `connection: close` and closes.
    async fn reply(
        &mut self,
        txn: &mut TxnLog,
        (status, bytes): (u16, &[u8]),
        timing: (Instant, SystemTime),
        (info, mode): (RequestInfo, ConnMode),
    ) -> Next {
        // HAProxy counts (%U) the body bytes that came with the head.
        let mut dec = BodyDecoder::new(info.body, Side::Client);
        txn.bytes_in += ready(&mut dec, &self.cbuf).map_or(0, |(_, _, data)| data);
        // A HEAD request gets the head alone, as HAProxy sends it (the
        // length still says what a GET would get).
        let bytes = if info.is_head {
            head_only(bytes)
        } else {
            bytes
        };
        let keep = matches!(info.body, BodyKind::Empty)
            && info.keep_alive
            && mode != ConnMode::Close
            && !self.session.ctx.stopping()
            && super::errorfiles::delimited(bytes);
        let adjust = self.session.ctx.fe.case_adjust.as_deref();
        if keep {
            self.answer(txn, status, &case_adjusted(adjust, bytes), timing)
                .await;
            Next::KeepAlive
        } else {
            // An `errorfile` in HTTP/1.0 closes without saying so, as HAProxy's.
            let bytes = if super::errorfiles::is_http10(bytes) {
                Bytes::copy_from_slice(bytes)
            } else {
                with_close(bytes)
            };
            self.answer(txn, status, &case_adjusted(adjust, &bytes), timing)
                .await;
            Next::Close
        }
    }

    /// Reads a small request body announced by `Content-Length` (a form
    /// posted to the statistics page) into memory; `None` when there is none,
    /// it is chunked, too large, or does not arrive in time.
    async fn read_small_body(&mut self, info: &RequestInfo) -> Option<Vec<u8>> {
        const MAX_FORM: u64 = 64 * 1024;
        let BodyKind::Length(len) = info.body else {
            return None;
        };
        let len = usize::try_from(len.min(MAX_FORM)).ok()?;
        let limit = self
            .timeouts()
            .http_request
            .unwrap_or(Duration::from_secs(10));
        let deadline = Instant::now() + limit;
        while self.cbuf.len() < len {
            let left = deadline.saturating_duration_since(Instant::now());
            match read_some(&mut self.crd, &mut self.cbuf, Some(left)).await {
                Ok(n) if n > 0 => {}
                _ => return None,
            }
        }
        Some(self.cbuf.split_to(len).to_vec())
    }

    /// One transaction; `first` on the connection.
    ///
    /// As in HAProxy, a request becomes a stream once its head is in: it is
    /// then registered in `listed`, which the caller watches (see
    /// [`super::streams::watched`]) until the transaction ends, or the
    /// tunnel that follows a 101 or a CONNECT.
    async fn transaction(&mut self, first: bool, listed: &OnceLock<Listed<Streams>>) -> Next {
        let (mut req, timing) = match self.read_head(first).await {
            Ok(h) => h,
            Err(next) => return next,
        };
        let stream = super::streams::register_client(&self.session, self.crd.fd(), timing);
        self.session.stream = Some(Arc::clone(&stream));
        let _ = listed.set(Listed::new(
            Streams(Arc::clone(&self.session.ctx.rt)),
            stream,
        ));
        let fe = Arc::clone(&self.session.ctx.fe);
        let ep = self.session.ep;
        let info0 = req.info();
        let mut txn = TxnLog {
            t_request: Some(ms(timing.0.elapsed())),
            request_line: request_line(&req),
            req_caps: capture(req.headers(), &fe.req_captures),
            res_caps: vec![None; fe.res_captures.len()],
            termination: *b"--",
            bytes_in: super::logging::htx_request_len(&req),
            ..TxnLog::default()
        };
        if matches!(info0.body, BodyKind::Chunked) && chunked_prefix_broken(&self.cbuf) {
            txn.termination = *b"PR";
            self.answer(&mut txn, 400, parse_error_page(400), timing)
                .await;
            return Next::Close;
        }
        // `monitor-uri` comes before every rule, as in HAProxy; the answer
        // is counted as intercepted and never logged.
        if fe
            .monitor_uri
            .as_deref()
            .is_some_and(|uri| monitor_matches(uri, req.target()))
        {
            let view = ReqView {
                head: &req,
                ep,
                vars: &HashMap::new(),
                res: None,
                users: &self.session.ctx.rt.users,
                servers: (&self.session.ctx.rt.backends, &fe.name),
            };
            let status = if fe.monitor_fail.iter().any(|c| c.evaluate(&view)) {
                503
            } else {
                200
            };
            super::stats_view::intercepted(&fe);
            txn.silent = true;
            txn.termination = *b"LR";
            let page = super::errorfiles::page(&fe, None, status);
            let mode = fe.conn_mode.unwrap_or(ConnMode::KeepAlive);
            return self
                .reply(&mut txn, (status, &page), timing, (info0, mode))
                .await;
        }
        let mut vars = HashMap::new();
        let verdict = run_request_rules(
            &fe.http_request,
            &mut req,
            ep,
            &mut vars,
            (&self.session.ctx.rt, &fe.name),
        );
        if let Verdict::Prometheus = verdict {
            let (status, bytes) = super::stats_view::prometheus(&self.session.ctx.rt);
            super::stats_view::intercepted(&fe);
            served_locally(&mut txn, "<PROMEX>", status);
            let mode = fe.conn_mode.unwrap_or(ConnMode::KeepAlive);
            return self
                .reply(&mut txn, (status, &bytes), timing, (info0, mode))
                .await;
        }
        if let Verdict::Reply(status, bytes) | Verdict::Local(status, bytes) = &verdict {
            txn.termination = if matches!(verdict, Verdict::Local(..)) {
                *b"LR"
            } else {
                *b"PR"
            };
            let custom = matches!(verdict, Verdict::Reply(..))
                .then(|| super::errorfiles::custom(&fe, None, *status))
                .flatten();
            let bytes = custom.as_ref().unwrap_or(bytes);
            let mode = fe.conn_mode.unwrap_or(ConnMode::KeepAlive);
            return self
                .reply(&mut txn, (*status, bytes), timing, (info0, mode))
                .await;
        }
        let be = {
            let view = ReqView {
                head: &req,
                ep,
                vars: &vars,
                res: None,
                users: &self.session.ctx.rt.users,
                servers: (&self.session.ctx.rt.backends, &fe.name),
            };
            self.session.select_backend(&view)
        };
        let Some(be) = be else {
            txn.termination = *b"PR";
            let mode = fe.conn_mode.unwrap_or(ConnMode::KeepAlive);
            let page = super::errorfiles::page(&fe, None, 503);
            return self
                .reply(&mut txn, (503, &page), timing, (info0, mode))
                .await;
        };
        let mode = ConnMode::combine(fe.conn_mode, be.conn_mode);
        txn.backend = Some(Arc::clone(&be));
        txn.be_counted = Some(be.counters.enter());
        let verdict = run_request_rules(
            &be.http_request,
            &mut req,
            ep,
            &mut vars,
            (&self.session.ctx.rt, &be.name),
        );
        if let Verdict::Reply(status, bytes) | Verdict::Local(status, bytes) = &verdict {
            txn.termination = if matches!(verdict, Verdict::Local(..)) {
                *b"LR"
            } else {
                *b"PR"
            };
            let custom = matches!(verdict, Verdict::Reply(..))
                .then(|| super::errorfiles::custom(&fe, Some(&be), *status))
                .flatten();
            let bytes = custom.as_ref().unwrap_or(bytes);
            return self
                .reply(&mut txn, (*status, bytes), timing, (info0, mode))
                .await;
        }
        // The statistics page, answered by the proxy itself.
        if let Some(page) = super::stats_view::page_for(&self.session.ctx.rt, &fe, Some(&be), &req)
        {
            let body = self.read_small_body(&info0).await;
            // Read apart from the buffer: counted here (%U).
            txn.bytes_in += body.as_ref().map_or(0, |b| b.len() as u64);
            let (status, bytes) = super::stats_view::serve_page(
                &self.session.ctx.rt,
                &page,
                &req,
                ep.src,
                body.as_deref(),
            );
            served_locally(&mut txn, "<STATS>", status);
            return self
                .reply(&mut txn, (status, &bytes), timing, (info0, mode))
                .await;
        }
        if let Some(ff) = be.forwardfor.as_ref().or(fe.forwardfor.as_ref()) {
            let present = req.headers().contains(ff.header.as_bytes());
            if ff.applies_to(ep.src.ip()) && !(ff.if_none && present) {
                let ip = ep.src.ip().to_string();
                if req
                    .headers_mut()
                    .append(ff.header.as_bytes(), ip.as_bytes())
                    .is_err()
                {
                    txn.termination = *b"PR";
                    return self
                        .reply(&mut txn, (500, error_page(500)), timing, (info0, mode))
                        .await;
                }
            }
        }
        // An upgrade keeps the connection whatever the mode: it becomes a
        // tunnel if the server agrees.
        req.set_connection(match mode {
            _ if info0.upgrade => ConnectionMode::KeepAlive,
            ConnMode::KeepAlive => ConnectionMode::KeepAlive,
            _ => ConnectionMode::Close,
        });
        let info = req.info();
        let client_keep = info0.keep_alive && mode != ConnMode::Close;

        // A connection kept from the previous request goes back to its
        // server's pool: the balancer decides, and reuse finds it there.
        if let Some(s) = self.server.take() {
            s.release();
        }
        // Cookie persistence: the server the request's cookie names, if any;
        // `indirect` hides the cookie from servers.
        let mut persist = None;
        if let Some(conf) = &be.cookie {
            let found = conf.find(req.headers());
            let named = found
                .as_deref()
                .and_then(|v| conf.server_key(v))
                .and_then(|k| {
                    be.servers
                        .iter()
                        .position(|s| s.cookie.as_deref() == Some(k))
                });
            let rewritten = match (&found, conf.prefix) {
                (None, _) => Ok(()),
                (Some(_), true) => conf.unprefix(req.headers_mut()),
                (Some(_), false) if conf.indirect => conf.strip(req.headers_mut()),
                (Some(_), false) => Ok(()),
            };
            if rewritten.is_err() {
                txn.termination = *b"PR";
                return self
                    .reply(&mut txn, (500, error_page(500)), timing, (info0, mode))
                    .await;
            }
            persist = Some((found, named));
        }
        let key = KeyOwned {
            sticky: persist.as_ref().and_then(|(_, named)| *named),
            client: Some(ep.src.ip()),
            uri: Some(text(req.target()).to_string()),
            header: be
                .hash_header
                .as_ref()
                .and_then(|h| req.headers().get(h.as_bytes()))
                .map(|v| text(v).split(',').next().unwrap_or("").trim().to_string()),
            random: rand_u32(),
        };
        // Like `http-reuse safe`: a session's first request never rides on
        // another session's idle connection.
        let reuse = mode == ConnMode::KeepAlive && !first;
        let connected = {
            let connecting =
                connect::connect(&be, &key, ep.dst, reuse, self.session.stream.as_ref());
            if be.abortonclose {
                tokio::select! {
                    c = connecting => Some(c),
                    () = client_gone(&mut self.crd, &mut self.cbuf) => None,
                }
            } else {
                Some(connecting.await)
            }
        };
        let c = match connected {
            None => {
                txn.termination = *b"CQ";
                emit_log(&fe, &self.session, &mut txn, timing, false);
                return Next::Close;
            }
            Some(Err(fail)) => {
                txn.termination = fail.termination();
                txn.queues = (0, be.queued.load(Ordering::Relaxed));
                if fail != ConnectFail::NoServer {
                    txn.t_queue = Some(ms(timing.0.elapsed()));
                }
                if let ConnectFail::Exhausted { server, retries } = fail {
                    txn.server = Some(server);
                    txn.retries = retries;
                }
                // The request body, if any, was not read: `reply` closes then.
                let page = super::errorfiles::page(&fe, Some(&be), 503);
                return self
                    .reply(&mut txn, (503, &page), timing, (info0, mode))
                    .await;
            }
            Some(Ok(c)) => c,
        };
        txn.server = Some(c.slot.server);
        let mut set_cookie = None;
        let mut prefix_with = None;
        if let (Some((found, named)), Some(conf)) = (&persist, &be.cookie) {
            let valid = *named == Some(c.slot.server);
            let value = be
                .servers
                .get(c.slot.server)
                .and_then(|s| s.cookie.as_deref());
            if conf.prefix {
                prefix_with = value.map(str::to_string);
            } else if !valid {
                set_cookie = value.map(|v| conf.set_cookie(v));
            }
            txn.cookie_flags = Some(cookie::log_flags(
                found.as_deref(),
                valid,
                named.is_some(),
                if set_cookie.is_some() { b'I' } else { b'N' },
            ));
        }
        txn.t_queue = Some(ms(c.queue_time));
        txn.t_connect = Some(ms(c.connect_time));
        txn.retries = (c.retries, c.redispatched);
        let slot: Slot = c.slot;
        let mut conn = ServerConn::new(c.stream, slot.server, Arc::clone(&be));

        let mut head_bytes = BytesMut::with_capacity(req.encoded_len());
        req.encode_adjusted(&mut head_bytes, be.case_adjust.as_deref());
        let cx = ResCtx {
            fe: &fe,
            be: &be,
            session: &self.session,
            req: &req,
            info,
            client_keep,
            sent_at: Instant::now(),
            timing,
            set_cookie,
            prefix_with,
        };
        // From here a shutdown is answered and logged by the response
        // direction before the stream ends.
        let me = self.session.stream.clone();
        let _handling = me.as_ref().map(|s| s.handling());
        let mut body_in = 0u64;
        let (req_end, out) = {
            let req_dir = forward_request(
                &mut self.crd,
                &mut self.cbuf,
                &mut conn.wr,
                head_bytes.freeze(),
                info.body,
                (fe.timeout_client, be.timeout_server),
                &mut body_in,
            );
            let res_dir = forward_response(
                &cx,
                &mut self.cwr,
                &mut conn.rd,
                &mut conn.buf,
                &mut vars,
                &mut txn,
            );
            tokio::pin!(req_dir, res_dir);
            let mut req_end = None;
            let mut out = None;
            while req_end.is_none() || out.is_none() {
                tokio::select! {
                    r = &mut req_dir, if req_end.is_none() => {
                        let abort = matches!(r, ReqEnd::Client(_));
                        req_end = Some(r);
                        // A client gone mid-request aborts the server side.
                        if abort && out.is_none() {
                            break;
                        }
                    }
                    o = &mut res_dir, if out.is_none() => {
                        let over = !matches!(o.end, ResEnd::Done | ResEnd::Tunnel | ResEnd::UntilClose);
                        out = Some(o);
                        // The answer is out: an unfinished upload is dropped.
                        if over {
                            break;
                        }
                    }
                    // The response direction watches for a shutdown until
                    // it is done; an upload still going on then stops here.
                    () = super::streams::killed(me.as_deref()), if out.is_some() => {
                        req_end = Some(ReqEnd::Killed);
                    }
                }
            }
            (req_end, out)
        };
        drop(slot);
        txn.bytes_in += body_in;
        let res_end = out.as_ref().map(|o| &o.end);
        match (&req_end, res_end) {
            (Some(ReqEnd::Done), Some(ResEnd::Tunnel)) => {
                if !fe.logasap {
                    emit_log(&fe, &self.session, &mut txn, timing, false);
                }
                return Next::Tunnel(conn);
            }
            (_, Some(ResEnd::NoHead | ResEnd::Replied)) => {}
            (_, Some(ResEnd::Broken(t))) => txn.termination = *t,
            // As HAProxy logs it: the response was out, no phase.
            (Some(ReqEnd::Killed), _) => txn.termination = *b"K-",
            (Some(ReqEnd::Client(true)), _) => txn.termination = *b"cD",
            (Some(ReqEnd::Client(false)), _) => txn.termination = *b"CD",
            (Some(ReqEnd::Server), _) => txn.termination = *b"SD",
            _ => {}
        }
        // A stream shut down before its response head leaves the connection
        // open when the client keeps it, as in HAProxy: the next request is
        // a new stream.
        let killed_keep = matches!(res_end, Some(ResEnd::NoHead)) && txn.termination == *b"KH";
        let logged_early = fe.logasap && txn.t_response.is_some();
        if !logged_early {
            emit_log(&fe, &self.session, &mut txn, timing, false);
        }
        let clean = matches!(req_end, Some(ReqEnd::Done))
            && (matches!(res_end, Some(ResEnd::Done)) || killed_keep);
        let (server_reusable, client_keep) =
            out.map_or((false, false), |o| (o.server_reusable, o.client_keep));
        // An empty server buffer goes back whether the connection stays
        // (it waits for the next request without one) or closes.
        super::buffers::recycle(&mut conn.buf);
        if clean && server_reusable && mode == ConnMode::KeepAlive && conn.buf.is_empty() {
            self.server = Some(conn);
        } else {
            // As HAProxy: a server connection the proxy ends first closes
            // with a reset, leaving no TIME_WAIT socket on this side.
            conn.rd.reset_on_close();
        }
        if clean && client_keep && !self.session.ctx.stopping() {
            Next::KeepAlive
        } else {
            Next::Close
        }
    }

    /// Turns the connection into a tunnel after a 101 or a CONNECT.
    async fn tunnel(&mut self, mut conn: ServerConn) {
        let be = Arc::clone(&conn.backend);
        let t_client = self.session.ctx.fe.timeout_client;
        if !conn.buf.is_empty() {
            let b = conn.buf.split();
            if write_all(&mut self.cwr, &b, t_client).await.is_err() {
                return;
            }
        }
        if !self.cbuf.is_empty() {
            let b = self.cbuf.split();
            if write_all(&mut conn.wr, &b, be.timeout_server)
                .await
                .is_err()
            {
                return;
            }
        }
        let mut server = tokio::io::join(&mut conn.rd, &mut conn.wr);
        let mut client = tokio::io::join(&mut self.crd, &mut self.cwr);
        let idle = be
            .timeout_tunnel
            .or_else(|| min_timeout(t_client, be.timeout_server));
        let stats = tunnel::run(&mut client, &mut server, idle).await;
        if stats.end != TunnelEnd::Closed {
            tracing::debug!(frontend = %self.session.ctx.fe.name, end = ?stats.end, "tunnel ended");
        }
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::{head_only, monitor_matches};

    /// As HAProxy 2.6 matched them (`monitor-uri` answered or not).
    #[test]
    fn monitor_uri_matching() {
        assert!(monitor_matches("/health", b"/health"));
        assert!(monitor_matches("/health", b"http://h.example/health"));
        assert!(!monitor_matches("/health", b"/health?x"));
        assert!(!monitor_matches("/health", b"/healthz"));
        assert!(monitor_matches("/", b"http://h.example"));
        assert!(monitor_matches("*", b"*"));
        assert!(!monitor_matches("*", b"/"));
    }

    #[test]
    fn head_only_keeps_the_head() {
        assert_eq!(
            head_only(b"HTTP/1.1 200 OK\r\na: b\r\n\r\nbody"),
            b"HTTP/1.1 200 OK\r\na: b\r\n\r\n"
        );
        assert_eq!(
            head_only(b"HTTP/1.0 200 OK\na: b\n\nbody"),
            b"HTTP/1.0 200 OK\na: b\n\n"
        );
        assert_eq!(head_only(b"no end"), b"no end");
    }
}
