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
CFG
haproxy -db -f "$work/h.cfg" >/dev/null 2>&1 & hap=$!
# The checked servers' port: accepts and closes, so TCP checks pass.
python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18592))
s.listen(50)
while True:
    s.accept()[0].close()
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
rows "c1 health enabled in maintenance"
ask "enable server dyn/c1"
sleep 1
rows "c1 enabled and checked"
ask "disable server dyn/c1"
ask "del server dyn/c1"
rows "c1 deleted"
