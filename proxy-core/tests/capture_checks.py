#!/usr/bin/env python3
"""Capture the server state lines HAProxy 2.6 logs when health checks and the
runtime API change a server's state.

Starts a real `haproxy -db` with a UDP syslog target on loopback and a stats
socket, with backends whose servers are small Python listeners that this
script starts, stops and switches between answers. Each scenario step waits
for the line it provokes (no fixed sleeps decide the outcome) and records:

  data/haproxy-check-lines.tsv   scenario, syslog severity, line
  data/haproxy-check-stderr.txt  what HAProxy printed on stderr

Durations ("check duration: 0ms") and pids are kept as printed; tests
compare lines with the duration digits masked.

Run: python3 proxy-core/tests/capture_checks.py   (needs `haproxy` on PATH)
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """A loopback listener that can be stopped, restarted and told what to
    answer: 'close' (accept then close), 'http:<status>:<body>', 'text:<bytes>'
    or 'silent' (accept, read, never answer)."""

    def __init__(self, port, answer="close"):
        self.port = port
        self.answer = answer
        self.sock = None
        self.conns = []

    def start(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.sock = s
        threading.Thread(target=self.loop, args=(s,), daemon=True).start()

    def stop(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def loop(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        answer = self.answer
        try:
            if answer == "close":
                c.close()
                return
            c.settimeout(2)
            if answer.startswith("http:"):
                _, status, body = answer.split(":", 2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                reason = {"200": "OK", "503": "Service Unavailable", "404": "Not Found"}[status]
                c.sendall(
                    f"HTTP/1.1 {status} {reason}\r\ncontent-length: {len(body)}\r\n"
                    f"connection: close\r\n\r\n{body}".encode()
                )
                time.sleep(0.05)
                c.close()
            elif answer.startswith("text:"):
                c.recv(4096)
                c.sendall(answer[5:].encode())
                time.sleep(0.05)
                c.close()
            elif answer == "silent":
                self.conns.append(c)
        except OSError:
            pass


class Syslog:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            data, _ = self.sock.recvfrom(65535)
            text = data.decode(errors="replace")
            m = re.match(r"<(\d+)>(.*)", text)
            if not m:
                continue
            prio = int(m.group(1))
            # rfc3164: "Mon dd hh:mm:ss haproxy[pid]: message"
            msg = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: ", "", m.group(2))
            with self.cond:
                self.lines.append((prio & 7, msg.rstrip("\n")))
                self.cond.notify_all()

    def wait_for(self, pattern, start, timeout=10):
        """Index of the first line from `start` on matching `pattern`."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if re.search(pattern, self.lines[i][1]):
                        return i
                left = deadline - time.time()
                if left <= 0:
                    sys.exit(f"timed out waiting for {pattern!r}; all: " + "\n".join(l for _, l in self.lines))
                self.cond.wait(left)


def cli(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(cmd.encode() + b"\n")
    out = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
    s.close()
    return out.decode()


def main():
    log = Syslog()
    tmp = tempfile.mkdtemp()
    stats = os.path.join(tmp, "stats.sock")
    fe = free_port()
    tcp1, tcp2 = Server(free_port()), Server(free_port())
    web1 = Server(free_port(), "http:200:ok")
    exp1 = Server(free_port(), "http:200:ready")
    tc1 = Server(free_port(), "text:+PONG\r\n")
    st1 = Server(free_port(), "http:200:x")
    ng1 = Server(free_port(), "http:200:x")
    slow = Server(free_port(), "silent")
    adm = Server(free_port())
    for s in (tcp1, tcp2, web1, exp1, tc1, st1, ng1, slow, adm):
        s.start()
    cfg = f"""
global
    log 127.0.0.1:{log.port} local0
    stats socket {stats} level admin

defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend tcpchk

backend tcpchk
    server s1 127.0.0.1:{tcp1.port} check inter 100ms rise 2 fall 3
    server s2 127.0.0.1:{tcp2.port} check inter 100ms rise 2 fall 3

backend httpchk
    option httpchk GET /health
    server web1 127.0.0.1:{web1.port} check inter 100ms rise 2 fall 2

backend expect
    option httpchk
    http-check send meth GET uri /ready ver HTTP/1.1 hdr Host example
    http-check expect string ready
    server e1 127.0.0.1:{exp1.port} check inter 100ms rise 1 fall 1

backend status
    option httpchk GET /
    http-check expect rstatus ^2
    server st1 127.0.0.1:{st1.port} check inter 100ms rise 1 fall 1

backend negated
    option httpchk GET /
    http-check expect ! status 503
    server n1 127.0.0.1:{ng1.port} check inter 100ms rise 1 fall 1

backend tcpcheck
    mode tcp
    option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    server t1 127.0.0.1:{tc1.port} check inter 100ms rise 1 fall 1

backend timeouts
    option httpchk
    timeout check 300ms
    server slow 127.0.0.1:{slow.port} check inter 100ms rise 1 fall 1

backend admin
    server a1 127.0.0.1:{adm.port} check inter 100ms
    server a2 127.0.0.1:{adm.port} check inter 100ms backup
"""
    path = os.path.join(tmp, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    proc = subprocess.Popen(
        ["haproxy", "-db", "-f", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    records = []
    try:
        # The slow server's first timeout comes on its own.
        i = log.wait_for(r"Server timeouts/slow is DOWN", 0)
        records.append(("timeouts", *log.lines[i]))

        def step(name, action, *patterns):
            start = len(log.lines)
            action()
            for p in patterns:
                i = log.wait_for(p, start)
                records.append((name, *log.lines[i]))
                start = i + 1

        step("tcpchk", tcp1.stop, r"Server tcpchk/s1 is DOWN")
        step("tcpchk", tcp1.start, r"Server tcpchk/s1 is UP")
        step("tcpchk", lambda: (tcp1.stop(), tcp2.stop()),
             r"Server tcpchk/s\d is DOWN", r"Server tcpchk/s\d is DOWN",
             r"backend tcpchk has no server available")
        step("tcpchk", tcp2.start, r"Server tcpchk/s2 is UP")

        def answer(srv, a):
            return lambda: setattr(srv, "answer", a)

        step("httpchk", answer(web1, "http:503:down"), r"Server httpchk/web1 is DOWN",
             r"backend httpchk has no server available")
        step("httpchk", answer(web1, "http:200:ok"), r"Server httpchk/web1 is UP")
        step("expect", answer(exp1, "http:200:busy"), r"Server expect/e1 is DOWN",
             r"backend expect has no server available")
        step("expect", answer(exp1, "http:200:ready"), r"Server expect/e1 is UP")
        step("status", answer(st1, "http:404:x"), r"Server status/st1 is DOWN",
             r"backend status has no server available")
        step("status", answer(st1, "http:200:x"), r"Server status/st1 is UP")
        step("negated", answer(ng1, "http:503:x"), r"Server negated/n1 is DOWN",
             r"backend negated has no server available")
        step("negated", answer(ng1, "http:200:x"), r"Server negated/n1 is UP")
        step("tcpcheck", answer(tc1, "text:-ERR\r\n"), r"Server tcpcheck/t1 is DOWN",
             r"backend tcpcheck has no server available")
        step("tcpcheck", answer(tc1, "text:+PONG\r\n"), r"Server tcpcheck/t1 is UP")
        step("tcpcheck", tc1.stop, r"Server tcpcheck/t1 is DOWN",
             r"backend tcpcheck has no server available")
        step("tcpcheck", tc1.start, r"Server tcpcheck/t1 is UP")

        def cmd(c):
            return lambda: cli(stats, c)

        step("admin", cmd("set server admin/a1 state drain"), r"admin/a1")
        step("admin", cmd("set server admin/a1 state ready"), r"admin/a1")
        step("admin", cmd("set server admin/a1 state maint"), r"admin/a1")
        step("admin", cmd("set server admin/a1 state ready"), r"admin/a1")
        step("admin", cmd("disable server admin/a1"), r"admin/a1")
        step("admin", cmd("enable server admin/a1"), r"admin/a1")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        for s in (tcp1, tcp2, web1, exp1, tc1, st1, ng1, slow, adm):
            s.stop()
    with open(os.path.join(HERE, "data", "haproxy-check-lines.tsv"), "w") as f:
        f.write("# scenario\tseverity\tline   (captured by capture_checks.py)\n")
        for name, sev, line in records:
            f.write(f"{name}\t{sev}\t{line}\n")
    with open(os.path.join(HERE, "data", "haproxy-check-stderr.txt"), "w") as f:
        f.write(re.sub(r"\(\d+\)", "(PID)", err.decode(errors="replace")))
    print(f"{len(records)} lines captured")


if __name__ == "__main__":
    main()
