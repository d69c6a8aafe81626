#!/usr/bin/env bash
# Captures HAProxy 2.6's answers to `add server ... check` (dynamic servers
# with health checks) replayed by tests/cli_dynamic.rs: runs haproxy on
# capture_checks.cfg (loopback only) and saves each command's answer in
# dyn_checks.txt ("== COMMAND" then the answer, byte for byte), then the
# `show servers state dyn` rows at each step of enabling a checked server.
# Needs haproxy, socat and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$hap" "$srv" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/h.cfg" <<CFG
global
    stats socket $work/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
backend dyn
    balance roundrobin
    server web1 127.0.0.1:18591
backend st
    balance static-rr
    server s1 127.0.0.1:18591
backend hc
    balance roundrobin
    option httpchk GET /health
backend chk
    server c 127.0.0.1:18592 check inter 100
    server d 127.0.0.1:18592 check inter 100 disabled
CFG
haproxy -db -f "$work/h.cfg" >/dev/null 2>&1 & hap=$!
# The checked servers: 18592 accepts and closes (TCP checks pass), 18593
# answers HTTP 200 and 18594 HTTP 503.
python3 -c '
import socket, threading
def serve(port, answer):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(50)
    while True:
        c = s.accept()[0]
        if answer:
            c.recv(4096)
            c.sendall(answer)
        c.close()
for port, answer in ((18593, b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
                     (18594, b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")):
    threading.Thread(target=serve, args=(port, answer), daemon=True).start()
serve(18592, None)
' & srv=$!
sleep 1
cli() { printf '%s\n' "$1" | socat "$work/admin.sock" -; }
out="$here/dyn_checks.txt"
: > "$out"
ask() { { printf '== %s\n' "$1"; cli "$1"; } >> "$out"; }
rows() { { printf '== %s\n' "$1"; cli "show servers state dyn" | awk 'NR > 2 && NF { $10 = "T"; print }'; } >> "$out"; }

for c in "add server dyn/e1 127.0.0.1:1 check inter abc" \
         "add server dyn/e2 127.0.0.1:1 check inter 0" \
         "add server dyn/e3 127.0.0.1:1 check inter 10x" \
         "add server dyn/e4 127.0.0.1:1 check inter" \
         "add server dyn/e5 127.0.0.1:1 check rise 0" \
         "add server dyn/e6 127.0.0.1:1 check rise" \
         "add server dyn/e7 127.0.0.1:1 check fall abc" \
         "add server dyn/e8 127.0.0.1:1 check fall" \
         "add server dyn/e9 127.0.0.1 check" \
         "add server dyn/e10 127.0.0.1:+1 check" \
         "add server dyn/e11 127.0.0.1:1 check port" \
         "add server dyn/e12 127.0.0.1:1 check port 0" \
         "add server dyn/e13 127.0.0.1:1 check port 70000" \
         "add server st/x 127.0.0.1:1 check"; do
  ask "$c"
done
ask "add server dyn/c1 127.0.0.1:18592 check inter 100 rise 1 fall 1"
ask "add server dyn/c2 127.0.0.1 check port 18592 inter 1s"
ask "add server dyn/n1 127.0.0.1:18592 inter 2s rise 5"
ask "enable health dyn/n1"
rows "after add"
ask "enable server dyn/c2"
rows "c2 enabled without enable health"
ask "enable health dyn/c1"
# Checks enabled on an added server run even in maintenance.
sleep 1
rows "c1 health enabled in maintenance"
ask "enable server dyn/c1"
sleep 1
rows "c1 enabled and checked"
ask "disable server dyn/c1"
ask "del server dyn/c1"
rows "c1 deleted"
# A host name is registered but never resolved (no resolvers): no address.
ask "add server dyn/named localhost:18592"
rows "named added"
# HTTP checks of added servers: one passes, one fails.
for s in "ok 127.0.0.1:18593" "bad 127.0.0.1:18594"; do
  ask "add server hc/${s% *} ${s#* } check inter 100 rise 2 fall 2"
  ask "enable health hc/${s% *}"
  ask "enable server hc/${s% *}"
done
sleep 1
{ printf '== hc checked\n'; cli "show servers state hc" | awk 'NR > 2 && NF { $10 = "T"; print }'; } >> "$out"
# A configured checked server through maintenance: checks pause, resume.
crows() { { printf '== %s\n' "$1"; cli "show servers state chk" | awk 'NR > 2 && NF { $10 = "T"; print }'; } >> "$out"; }
crows "chk start"
for c in "disable server chk/c" "disable health chk/c" "enable health chk/c" "enable server chk/c"; do
  ask "$c"
  sleep 0.5
  crows "chk after $c"
done
