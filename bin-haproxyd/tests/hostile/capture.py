#!/usr/bin/env python3
"""Capture what HAProxy 2.6 does with each hostile request of this directory.

Every `NAME.http` file here holds the raw bytes a client sends on one
connection. This script starts a raw recording backend and a real
`haproxy -db` on `proxy.cfg`, sends each file on its own connection, and
writes `haproxy-2.6.tsv` with one line per case:

  name  statuses  closed  forwarded

statuses   the status of each response the client read, comma-separated
           ('-' for none)
closed     'yes' when HAProxy closed the client connection after them
forwarded  the raw bytes of each request the backend received, hex,
           comma-separated ('-' for none)

bin-haproxyd/tests/smuggling.rs sends the same files through haproxyd with
the same backend and compares. Rerun after adding a case:

  python3 bin-haproxyd/tests/hostile/capture.py      (needs `haproxy` on PATH)

`capture.py PROGRAM OUT` runs another proxy with HAProxy's command line
(e.g. target/debug/haproxyd) and writes OUT instead, to compare by hand.
"""

import glob
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = sys.argv[1] if len(sys.argv) > 1 else "haproxy"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "haproxy-2.6.tsv")
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

# (case, raw request) for each request the backend received, tagged with the
# case being sent when its last byte arrived.
journal = []
journal_lock = threading.Lock()
current_case = [None]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def find_head_end(buf):
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = buf.find(sep)
        if i >= 0:
            return i + len(sep)
    return -1


def header(head, name):
    for line in head.split(b"\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            return v.strip().lower()
    return None


def chunked_end(buf):
    """Length of a complete chunked body at the start of buf, None if incomplete."""
    pos = 0
    while True:
        eol = buf.find(b"\n", pos)
        if eol < 0:
            return None
        size = int(buf[pos:eol].split(b";")[0].strip() or b"0", 16)
        pos = eol + 1
        if size == 0:
            while True:
                eol = buf.find(b"\n", pos)
                if eol < 0:
                    return None
                line = buf[pos:eol]
                pos = eol + 1
                if line.strip() == b"":
                    return pos
        pos += size
        eol = buf.find(b"\n", pos)
        if eol < 0:
            return None
        pos = eol + 1


def request_end(buf):
    """Length of the first complete request in buf, or None."""
    head_end = find_head_end(buf)
    if head_end < 0:
        return None
    head = buf[:head_end]
    if header(head, b"transfer-encoding") == b"chunked":
        n = chunked_end(buf[head_end:])
        return None if n is None else head_end + n
    cl = header(head, b"content-length")
    n = int(cl) if cl else 0
    return head_end + n if len(buf) >= head_end + n else None


def serve(conn):
    conn.settimeout(10)
    buf = b""
    tag = current_case[0]
    try:
        while True:
            try:
                end = request_end(buf)
            except ValueError:
                end = None
            if end is not None:
                with journal_lock:
                    journal.append((tag, buf[:end]))
                buf = buf[end:]
                conn.sendall(ANSWER)
                continue
            data = conn.recv(65536)
            if not data:
                break
            tag = current_case[0]
            buf += data
    except OSError:
        pass
    if buf:
        # Bytes that never made a complete request are recorded as they are.
        with journal_lock:
            journal.append((tag, buf))
    conn.close()


def backend(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def read_responses(sock):
    """Statuses of the responses read, and whether the peer closed."""
    sock.settimeout(1.0)
    data = b""
    closed = False
    deadline = time.time() + 6
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    statuses = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        head = data[: end + 4]
        statuses.append(head.split(b" ")[1].decode())
        cl = header(head, b"content-length")
        data = data[end + 4 + (int(cl) if cl else 0):]
    return statuses, closed


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    threading.Thread(target=backend, args=(listener,), daemon=True).start()
    front = free_port()
    cfg_text = open(os.path.join(HERE, "proxy.cfg")).read()
    cfg_text = cfg_text.replace("@FRONT@", str(front)).replace(
        "@BACK@", str(listener.getsockname()[1]))
    tmp = tempfile.mkdtemp()
    cfg = os.path.join(tmp, "haproxy.cfg")
    open(cfg, "w").write(cfg_text)
    proc = subprocess.Popen([PROGRAM, "-db", "-f", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", front), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.2)
        results = []
        for path in sorted(glob.glob(os.path.join(HERE, "*.http"))):
            name = os.path.basename(path)[: -len(".http")]
            raw = open(path, "rb").read()
            current_case[0] = name
            sock = socket.create_connection(("127.0.0.1", front))
            sock.sendall(raw)
            statuses, closed = read_responses(sock)
            sock.close()
            time.sleep(0.3)
            results.append((name, statuses, closed))
    finally:
        current_case[0] = None
        proc.terminate()
        proc.wait()
    # Requests cut short are recorded when their connection closes.
    time.sleep(1)
    rows = []
    for name, statuses, closed in results:
        with journal_lock:
            forwarded = [raw for tag, raw in journal if tag == name]
        rows.append("\t".join([
            name,
            ",".join(statuses) or "-",
            "yes" if closed else "no",
            ",".join(f.hex() for f in forwarded) or "-",
        ]))
        print(f"{name}: {statuses} closed={closed} forwarded={len(forwarded)}",
              file=sys.stderr)
    version = subprocess.run([PROGRAM, "-v"], capture_output=True, text=True).stdout
    with open(OUT, "w") as out:
        out.write("# " + version.splitlines()[0] + "\n")
        out.write("# name\tstatuses\tclosed\tforwarded (hex, one per request)\n")
        out.write("\n".join(rows) + "\n")


main()
