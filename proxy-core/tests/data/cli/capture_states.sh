#!/usr/bin/env bash
# Captures HAProxy 2.6's `show servers state` and `show stat` rows for
# servers in each situation (checked or not, disabled, backup, weight 0,
# drained, in maintenance and back through the runtime API, added and
# deleted at run time), replayed by tests/cli_states.rs. Runs haproxy on
# loopback with a TCP target on 18692 that accepts and closes (TCP checks
# pass); port 1 refuses (checks fail). Saves states.txt: "== STEP" then the
# `show servers state b` rows (time since the last change written T), the
# `show stat` header and the backend's rows. Needs haproxy, socat, python3.
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
frontend web
    bind 127.0.0.1:18681
    default_backend b
backend b
    balance roundrobin
    server nochk 127.0.0.1:18692
    server chk 127.0.0.1:18692 check inter 100
    server dis 127.0.0.1:18692 disabled
    server disc 127.0.0.1:18692 check inter 100 disabled
    server bk 127.0.0.1:18692 backup
    server bkc 127.0.0.1:18692 backup check inter 100
    server dr 127.0.0.1:18692
    server drc 127.0.0.1:18692 check inter 100
    server mt 127.0.0.1:18692
    server mtc 127.0.0.1:18692 check inter 100
    server down 127.0.0.1:1 check inter 100
    server w0 127.0.0.1:18692 weight 0
    server r5 127.0.0.1:18692 rise 5 fall 2
CFG
python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18692))
s.listen(100)
while True:
    s.accept()[0].close()
' & srv=$!
# The target listens before the first check.
sleep 0.5
haproxy -db -f "$work/h.cfg" >/dev/null 2>&1 & hap=$!
sleep 1.5
cli() { printf '%s\n' "$1" | socat "$work/admin.sock" -; }
out="$here/states.txt"
: > "$out"
snap() {
  {
    printf '== %s\n' "$1"
    cli "show servers state b" | awk 'NR > 2 && NF { $10 = "T"; print }'
    cli "show stat" | grep '^# \|^b,'
  } >> "$out"
}
ask() { { printf '== %s\n' "$1"; cli "$1"; } >> "$out"; }
snap "start"
for c in "set server b/dr state drain" "set server b/drc state drain" \
         "set server b/mt state maint" "set server b/mtc state maint" \
         "disable server b/nochk"; do
  ask "$c"
done
sleep 0.5
snap "drained and in maintenance"
for c in "enable server b/dis" "enable server b/disc" "set server b/mt state ready" \
         "set server b/mtc state ready" "enable server b/nochk" "set server b/dr state ready"; do
  ask "$c"
done
sleep 1
snap "back"
ask "set server b/dis state maint"
ask "set server b/disc state drain"
snap "configured disabled, maint and drain again"
for c in "add server b/a1 127.0.0.1:18692" "add server b/a2 127.0.0.1:18692 check" \
         "add server b/a3 127.0.0.1:18692 backup" "set server b/a1 state maint" \
         "del server b/a1" "add server b/a4 127.0.0.1:18692" "enable server b/a3" \
         "set server b/a4 state drain" "set server b/a2 state maint" "del server b/a2" \
         "add server b/a5 127.0.0.1:18692 weight 3" "add server b/a6 127.0.0.1:18692"; do
  ask "$c"
done
snap "added and deleted"
# Checks disabled on a server up and on one down; weights set on servers
# in maintenance (HAProxy shows the weight they had), down and drained.
ask "disable health b/chk"
ask "disable health b/down"
snap "checks disabled"
for c in "set server b/w0 weight 7" "set server b/mt state maint" "set server b/mt weight 9" \
         "set server b/down weight 4" "set server b/dr state drain" "set server b/dr weight 5" \
         "set server b/a5 weight 6" "set server b/dis weight 8"; do
  ask "$c"
done
snap "weights"
for c in "enable health b/chk" "enable health b/down" "set server b/mt state ready" \
         "set server b/dis state ready" "enable server b/a5"; do
  ask "$c"
done
sleep 1
snap "checks enabled, back from maintenance"
