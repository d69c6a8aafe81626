#!/usr/bin/env python3
"""Replays acls.txt x requests.txt through a real haproxy 2.6 on loopback and
writes haproxy_verdicts.txt: for each request, the names of the ACLs that matched.

Usage: python3 capture.py   (needs `haproxy` in PATH; port 18481 free)
"""
import os, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 18481

def lines(name):
    with open(os.path.join(HERE, name)) as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]

acls = [l.split(None, 1) for l in lines("acls.txt")]
names = []
for n, _ in acls:
    if n not in names:
        names.append(n)
cfg = ["global", "  log stderr format raw local0 emerg", "defaults", "  mode http",
       "  timeout client 2s", "  timeout server 2s", "  timeout connect 2s",
       "frontend f", f"  bind 127.0.0.1:{PORT}", "  http-request set-var(txn.m) str(:)"]
cfg += [f"  acl {n} {e}" for n, e in acls]
cfg += [f"  http-request set-var-fmt(txn.m) \"%[var(txn.m)]{n}:\" if {n}" for n in names]
cfg += ["  http-request return status 200 hdr x-acl \"%[var(txn.m)]\""]
with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as f:
    f.write("\n".join(cfg) + "\n")
    path = f.name
proc = subprocess.Popen(["haproxy", "-db", "-f", path])
try:
    time.sleep(1)
    out = []
    for req in lines("requests.txt"):
        parts = [p.strip() for p in req.split("|")]
        raw = parts[0] + "\r\n" + "".join(p + "\r\n" for p in parts[1:]) + "\r\n"
        s = socket.create_connection(("127.0.0.1", PORT))
        s.sendall(raw.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                break
        s.close()
        head = data.split(b"\r\n\r\n", 1)[0].decode()
        value = [l.split(":", 1)[1] for l in head.split("\r\n") if l.lower().startswith("x-acl:")]
        matched = sorted(x.strip() for x in "".join(value).split(":") if x.strip())
        out.append(req + "\n=> " + " ".join(matched))
    with open(os.path.join(HERE, "haproxy_verdicts.txt"), "w") as f:
        f.write("# Captured from haproxy 2.6 by capture.py; do not edit by hand.\n")
        f.write("\n".join(out) + "\n")
finally:
    proc.kill()
    proc.wait()
    os.unlink(path)
