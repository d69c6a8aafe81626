#!/usr/bin/env python3
"""Capture how HAProxy 2.6 answers raw HTTP/1 messages.

Starts a loopback backend (a small Python server) and a real `haproxy -db`
in front of it, sends each request case below on its own connection and
records the status HAProxy answered (0 when it closed without answering).
Response cases are requests for `/r/<name>`: the backend answers with the
bytes of that case and the recorded status says whether HAProxy relayed
the response (the backend's own status) or refused it (502).

Writes two files beside this script:
  data/h1-haproxy-answers.tsv      side, name, status, forwarded, hex(message)
  data/h1-haproxy-error-pages.tsv  status, hex(bytes HAProxy sent)

Run: python3 proxy-core/tests/capture_h1.py   (needs `haproxy` on PATH)
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"

def sized_head(total):
    """A GET whose head is exactly `total` bytes long."""
    start = b"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
    end = b"\r\n\r\n"
    return start + b"p" * (total - len(start) - len(end)) + end


# Request cases: name -> raw bytes sent by the client.
REQ = [
    ("valid_get", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("valid_post_cl", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"),
    ("valid_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("chunked_ext_trailer", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"),
    ("cl_and_te_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te_and_cl_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("cl_differing", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    ("cl_differing_list", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd"),
    ("cl_identical", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
    ("cl_identical_list", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc"),
    ("cl_plus", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"),
    ("cl_minus", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc"),
    ("cl_trailing_garbage", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3x\r\n\r\nabc"),
    ("cl_leading_garbage", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x3\r\n\r\nabc"),
    ("cl_hex", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc"),
    ("cl_empty", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"),
    ("cl_inner_space", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\nabcdefghijkl"),
    ("cl_leading_zeros", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc"),
    ("cl_overflow", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\nabc"),
    ("cl_empty_list_elem", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3,\r\n\r\nabc"),
    ("te_gzip", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
    ("te_identity", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\nabc"),
    ("te_gzip_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te_chunked_gzip", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te_chunked_twice", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te_chunked_two_headers", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te_chunked_upper", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("te_empty", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n"),
    ("te_http10", b"POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("chunk_size_bad", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
    ("chunk_size_overflow", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
    ("chunk_missing_crlf", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"),
    ("chunk_size_space", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n"),
    ("chunk_bare_lf", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n"),
    ("method_bad_char", b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("method_unknown", b"FOO / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("method_lower", b"get / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_ctl", b"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_del", b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_high_bit", b"GET /a\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_quote", b"GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_absolute", b"GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_asterisk", b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_missing", b"GET HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("hdr_name_space", b"GET / HTTP/1.1\r\nHost: a\r\nFoo Bar: x\r\n\r\n"),
    ("hdr_name_paren", b"GET / HTTP/1.1\r\nHost: a\r\nFoo(: x\r\n\r\n"),
    ("hdr_space_before_colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    ("hdr_empty_name", b"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"),
    ("hdr_no_colon", b"GET / HTTP/1.1\r\nHost: a\r\nFoo\r\n\r\n"),
    ("hdr_value_nul", b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x00b\r\n\r\n"),
    ("hdr_value_ctl", b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\x01b\r\n\r\n"),
    ("hdr_value_bare_cr", b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\rb\r\n\r\n"),
    ("hdr_value_high_bit", b"GET / HTTP/1.1\r\nHost: a\r\nFoo: \xc3\xa9\r\n\r\n"),
    ("hdr_value_tab", b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\tb\r\n\r\n"),
    ("obs_fold", b"GET / HTTP/1.1\r\nHost: a\r\nFoo: a\r\n b\r\n\r\n"),
    ("first_hdr_folded", b"GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
    ("bare_lf", b"GET / HTTP/1.1\nHost: a\n\n"),
    ("bare_cr_eol", b"GET / HTTP/1.1\rHost: a\r\r"),
    ("leading_crlf", b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("no_host_11", b"GET / HTTP/1.1\r\n\r\n"),
    ("no_host_10", b"GET / HTTP/1.0\r\n\r\n"),
    ("two_hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("two_hosts_identical", b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
    ("absolute_uri_host_mismatch", b"GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("version_09", b"GET /\r\n\r\n"),
    ("version_12", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    ("version_20", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ("version_bad", b"GET / HTTX/1.1\r\nHost: a\r\n\r\n"),
    ("version_lower", b"GET / http/1.1\r\nHost: a\r\n\r\n"),
    ("request_line_double_space", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("request_line_tab", b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("expect_100", b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"),
    ("connect", b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
    ("upgrade_ws", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
    ("upgrade_ws_key", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    ("upgrade_other", b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n"),
    ("head_15360", sized_head(15360)),
    ("head_15361", sized_head(15361)),
    ("head_15359", sized_head(15359)),
    ("head_too_large", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%05d: %s\r\n" % (i, b"v" * 100) for i in range(200)) + b"\r\n"),
    ("uri_too_long", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("uri_just_fits", b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("many_headers", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n"),
    ("too_many_headers", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(110)) + b"\r\n"),
]

# Response cases: name -> raw bytes the backend answers.
RESP = [
    ("resp_valid", OK),
    ("resp_chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ("resp_cl_differing", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
    ("resp_cl_identical", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
    ("resp_cl_bad", b"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok"),
    ("resp_cl_and_te", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ("resp_te_gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nconnection: close\r\n\r\nok"),
    ("resp_te_gzip_chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ("resp_trailers", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;e=1\r\nok\r\n0\r\nX-T: 1\r\n\r\n"),
    ("resp_te_chunked_gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ("resp_no_length", b"HTTP/1.1 200 OK\r\n\r\nok"),
    ("resp_status_bad", b"HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_status_short", b"HTTP/1.1 20 OK\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_status_no_reason", b"HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_version_bad", b"HTTX/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_version_10", b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_hdr_name_space", b"HTTP/1.1 200 OK\r\nFoo Bar: x\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_hdr_value_nul", b"HTTP/1.1 200 OK\r\nFoo: a\x00b\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_obs_fold", b"HTTP/1.1 200 OK\r\nFoo: a\r\n b\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_bare_lf", b"HTTP/1.1 200 OK\ncontent-length: 2\n\nok"),
    ("resp_chunk_size_bad", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n"),
    ("resp_204_with_cl", b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n"),
    ("resp_status_999", b"HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\nok"),
    ("resp_status_099", b"HTTP/1.1 099 Odd\r\ncontent-length: 2\r\n\r\nok"),
]

RESP_MAP = dict(RESP)
received = {}  # path -> bytes the backend got


def backend(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def serve(conn):
    conn.settimeout(0.4)
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    path = b""
    parts = data.split(b" ", 2)
    if len(parts) >= 2:
        path = parts[1]
    received[path] = data
    name = path[3:].decode("latin-1") if path.startswith(b"/r/") else ""
    if name == "hang":
        time.sleep(3)
    else:
        try:
            conn.sendall(RESP_MAP.get(name, OK))
        except OSError:
            pass
    conn.close()


def send(port, raw, wait=2.0):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    try:
        s.sendall(raw)
    except OSError:
        pass
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def status_of(answer):
    if answer.startswith(b"HTTP/1.") and len(answer) >= 12:
        return int(answer[9:12])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PAGES = [400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504]


def main():
    bsock = socket.socket()
    bsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bsock.bind(("127.0.0.1", 0))
    bsock.listen(64)
    bport = bsock.getsockname()[1]
    threading.Thread(target=backend, args=(bsock,), daemon=True).start()
    fport, nport, tport = free_port(), free_port(), free_port()
    denies = "\n".join(
        f"    http-request deny deny_status {c} if {{ path /deny/{c} }}" for c in PAGES
    )
    cfg = f"""
global
    tune.bufsize 16384
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 1s
frontend fe
    bind 127.0.0.1:{fport}
{denies}
    default_backend be
backend be
    server s1 127.0.0.1:{bport}
frontend fe_noserver
    bind 127.0.0.1:{nport}
    default_backend be_empty
backend be_empty
frontend fe_timeout
    bind 127.0.0.1:{tport}
    default_backend be_slow
backend be_slow
    timeout server 300ms
    server s1 127.0.0.1:{bport}
"""
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
        f.write(cfg)
        cfg_path = f.name
    proc = subprocess.Popen(["haproxy", "-db", "-f", cfg_path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.7)
        rows = []
        for name, raw in REQ:
            received.clear()
            answer = send(fport, raw)
            time.sleep(0.05)
            fwd = "yes" if received else "no"
            rows.append(("request", name, status_of(answer), fwd, raw.hex()))
            print(name, status_of(answer), fwd, file=sys.stderr)
        for name, raw in RESP:
            req = b"GET /r/" + name.encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n"
            answer = send(fport, req)
            rows.append(("response", name, status_of(answer), "yes", raw.hex()))
            print(name, status_of(answer), file=sys.stderr)
        with open(os.path.join(HERE, "data", "h1-haproxy-answers.tsv"), "w") as out:
            out.write("# side\tname\tstatus\tforwarded\thex\n")
            for r in rows:
                out.write("\t".join(str(x) for x in r) + "\n")

        pages = {}
        for c in PAGES:
            pages[c] = send(fport, f"GET /deny/{c} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        # The same pages from real situations, to check deny_status uses them.
        real = {
            400: send(fport, b"G(T / HTTP/1.1\r\n\r\n"),
            408: send(fport, b"GET / HTTP/1.1\r\n", wait=4.0),
            503: send(nport, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            504: send(tport, b"GET /r/hang HTTP/1.1\r\nHost: a\r\n\r\n", wait=4.0),
            502: send(fport, b"GET /r/resp_status_bad HTTP/1.1\r\nHost: a\r\n\r\n"),
            422: send(fport, dict(REQ)["te_gzip_chunked"]),
        }
        with open(os.path.join(HERE, "data", "h1-haproxy-error-pages.tsv"), "w") as out:
            out.write("# status\tsource\thex(bytes sent)\n")
            for c in PAGES:
                out.write(f"{c}\tdeny_status\t{pages[c].hex()}\n")
            for c, raw in real.items():
                out.write(f"{c}\treal\t{raw.hex()}\n")
    finally:
        proc.terminate()
        proc.wait()
        os.unlink(cfg_path)


if __name__ == "__main__":
    main()
