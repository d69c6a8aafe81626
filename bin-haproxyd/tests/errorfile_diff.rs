//! `errorfile`: the same configuration and requests through the real
//! HAProxy 2.6 and through haproxyd, compared on the raw bytes the client
//! receives.
//!
//! Pins which page is sent (the chosen backend's before the frontend's,
//! those inherited from `defaults` included), the bytes HAProxy sends for a
//! file (names lowercased, `Connection` dropped, HTTP/1.0 kept) and when
//! the connection closes after it (a page without a length closes), and
//! the redirects of `errorloc` and `errorloc303`, and pages imported from
//! `http-errors` sections with `errorfiles`: at the place of that line
//! among `errorfile` and `errorloc` lines, from a section declared before or
//! after the proxy, all of a section's codes or those listed.
//!
//! Skipped with a printed reason when `haproxy` is not installed.

mod util;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use util::{PATIENCE, Proxy, TempDir, exchange, free_port, local, skip_without_haproxy};

const CONFIG: &str = "\
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 1s
    errorfile 503 {dir}/d503.http

frontend fe
    bind 127.0.0.1:{port}
    errorfile 403 {dir}/fe403.http
    errorfile 400 {dir}/fe400.http
    http-request deny if { path /deny }
    http-request deny deny_status 400 if { path /bad }
    http-request deny deny_status 500 if { path /plain }
    use_backend own if { path_beg /own }
    use_backend broken if { path_beg /broken }
    use_backend moved if { path_beg /moved }
    use_backend imp_after if { path_beg /imp_after }
    use_backend imp_before if { path_beg /imp_before }
    use_backend imp_two if { path_beg /imp_two }
    use_backend imp_loc if { path_beg /imp_loc }
    default_backend empty

http-errors site
    errorfile 403 {dir}/s403.http
    errorfile 503 {dir}/s503.http

# errorfile, then the section's pages over it.
backend imp_after
    errorfile 403 {dir}/be403.http
    errorfiles site
    http-request deny if { path /imp_after/deny }

# The section's pages, then an errorfile over one of them.
backend imp_before
    errorfiles site
    errorfile 403 {dir}/be403.http
    http-request deny if { path /imp_before/deny }

# The listed code of one section, then all of a section declared below.
backend imp_two
    errorfiles site 503
    errorfiles other
    http-request deny if { path /imp_two/deny }

# errorloc, then an imported page over it.
backend imp_loc
    errorloc 403 /gone
    errorloc 503 /gone
    errorfiles other 403
    http-request deny if { path /imp_loc/deny }

backend empty

backend own
    errorfile 503 {dir}/be503.http
    errorfile 403 {dir}/be403.http
    http-request deny if { path /own/deny }

backend moved
    errorloc 503 http://example.com/sorry
    errorloc303 403 /denied
    http-request deny if { path /moved/deny }

backend broken
    errorfile 502 {dir}/be502.http
    server s1 127.0.0.1:{bad}

http-errors other
    errorfile 403 {dir}/o403.http
";

/// Debian's stock page: HTTP/1.0, no length, mixed-case names, `Connection`.
const D503: &str = "HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\n\
    Connection: close\r\nContent-Type: text/html\r\n\r\n\
    <html><body><h1>503 Service Unavailable</h1>\nNo server is available.\n</body></html>\n\n";
const FE403: &str = "HTTP/1.1 403 Go Away\r\nX-Page: fe\r\nContent-Length: 5\r\n\r\nfe403";
const FE400: &str = "HTTP/1.1 400 Nope\nX-Page: fe\nContent-Length: 5\n\nfe400";
const BE503: &str = "HTTP/1.1 503 Busy\r\nX-Page: be\r\nContent-Type: text/plain\r\n\
    Content-Length: 5\r\n\r\nbe503";
const BE502: &str = "HTTP/1.1 502 Broken\r\nContent-Length: 5\r\n\r\nbe502";
const BE403: &str = "HTTP/1.1 403 Denied Here\r\nX-PAGE: be\r\nContent-Length: 5\r\n\r\nbe403";
const S403: &str = "HTTP/1.1 403 Site\r\nContent-Length: 4\r\n\r\ns403";
const S503: &str = "HTTP/1.1 503 Site\r\nContent-Length: 4\r\n\r\ns503";
const O403: &str = "HTTP/1.1 403 Other\r\nContent-Length: 4\r\n\r\no403";

/// Requests, each on a new connection, and what the reference's answer
/// holds; those without `Connection: close` show whether the proxy keeps
/// the connection after the page.
const REQUESTS: &[(&str, &str)] = &[
    (
        "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "HTTP/1.0 503",
    ),
    (
        "GET /x HTTP/1.1\r\nHost: x\r\n\r\n",
        "No server is available.",
    ),
    (
        "GET /deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "fe403",
    ),
    (
        "GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "fe400",
    ),
    (
        "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "500 Internal",
    ),
    (
        "GET /own/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "be503",
    ),
    (
        "GET /own/x HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /own/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "be503HTTP/1.1 403 Denied Here",
    ),
    (
        "GET /own/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "be403",
    ),
    ("GET /deny HTTP/1.0\r\n\r\n", "fe403"),
    (
        "GET /moved/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "302 Found",
    ),
    (
        "GET /moved/x HTTP/1.1\r\nHost: x\r\n\r\n",
        "location: http://example.com/sorry",
    ),
    (
        "GET /moved/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "303 See Other",
    ),
    (
        "GET /broken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "be502",
    ),
    (
        "GET /imp_after/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "s403",
    ),
    (
        "GET /imp_after/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "s503",
    ),
    (
        "GET /imp_before/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "be403",
    ),
    (
        "GET /imp_before/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "s503",
    ),
    (
        "GET /imp_two/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "o403",
    ),
    (
        "GET /imp_two/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "s503",
    ),
    (
        "GET /imp_loc/deny HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "o403",
    ),
    (
        "GET /imp_loc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "location: /gone",
    ),
];

/// A server that answers every request with bytes that are no response.
fn broken_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("server port");
    let port = listener.local_addr().expect("server address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(PATIENCE));
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"garbage\r\n\r\n");
        }
    });
    port
}

#[test]
fn error_pages_from_files_as_haproxy_sends_them() {
    if skip_without_haproxy() {
        return;
    }
    let dir = TempDir::new("errorfile");
    for (name, text) in [
        ("d503.http", D503),
        ("fe403.http", FE403),
        ("fe400.http", FE400),
        ("be503.http", BE503),
        ("be403.http", BE403),
        ("be502.http", BE502),
        ("s403.http", S403),
        ("s503.http", S503),
        ("o403.http", O403),
    ] {
        dir.write(name, text);
    }
    let bad = broken_server().to_string();
    let start = |program: &str, tag: &str| -> (Proxy, SocketAddr) {
        let port = free_port();
        let text = CONFIG
            .replace("{port}", &port.to_string())
            .replace("{bad}", &bad)
            .replace("{dir}", dir.0.to_str().expect("utf-8 path"));
        let cfg = dir.write(&format!("{tag}.cfg"), &text);
        let cfg = cfg.to_str().expect("utf-8 path").to_owned();
        let mut p = Proxy::start(program, &["-db", "-f", &cfg], &dir, tag);
        p.wait_listening(local(port));
        (p, local(port))
    };
    let (reference, want_addr) = start("haproxy", "haproxy");
    let (ours, got_addr) = start(env!("CARGO_BIN_EXE_haproxyd"), "haproxyd");
    let mut report = String::new();
    for (request, holds) in REQUESTS {
        let want = String::from_utf8_lossy(&exchange(want_addr, request.as_bytes())).into_owned();
        // The reference serves the page this test expects it to.
        assert!(want.contains(holds), "{request:?}: {want:?}");
        let got = String::from_utf8_lossy(&exchange(got_addr, request.as_bytes())).into_owned();
        if want != got {
            report.push_str(&format!(
                "request {request:?}\n  haproxy:  {want:?}\n  haproxyd: {got:?}\n"
            ));
        }
    }
    drop((reference, ours));
    assert!(report.is_empty(), "differences:\n{report}");
}
