#!/usr/bin/env bash
# Captures HAProxy 2.6's runtime API answers replayed by tests/cli_streams.rs:
# runs haproxy on capture.cfg (loopback only) with a server that never
# answers (so streams stay open), then saves each command's answer in
# answers.txt ("== COMMAND" then the answer, byte for byte) and the longer
# ones (show sess, show errors) in their own files. Needs haproxy, socat and
# python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$hap" "$srv" 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
sed "s#/tmp/cap#$work#g" "$here/capture.cfg" > "$work/h.cfg"
haproxy -db -f "$work/h.cfg" >/dev/null 2>&1 & hap=$!
python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18291))
s.listen(50)
held = []
while True:
    held.append(s.accept()[0])
' & srv=$!
sleep 1
cli() { printf '%s\n' "$1" | socat "$work/$2.sock" -; }
out="$here/answers.txt"
: > "$out"
ask() { { printf '== %s\n' "$1"; cli "${1% (*}" "${2:-admin}"; } >> "$out"; }

# set maxconn server
for c in "set maxconn server dyn/web1" "set maxconn server dyn/web1 abc" \
         "set maxconn server dyn/web1 5x" "set maxconn server dyn/nope 5" \
         "set maxconn server dyn/nope abc" "set maxconn server nope/web1 5" \
         "set maxconn server dyn" "set maxconn server" "set maxconn server dyn/web1 +3"; do
  ask "$c"
done
ask "set maxconn server dyn/web1 4" oper
ask "set maxconn frontend web 4" oper
cli "set maxconn server dyn/web1 1" admin >/dev/null

# Streams held open: one HTTP stream on web1, one TCP stream on t1.
(printf 'GET /a HTTP/1.1\r\nhost: x\r\n\r\n'; sleep 20) | socat - TCP:127.0.0.1:18281 > "$work/http.out" &
(printf 'hello'; sleep 20) | socat - TCP:127.0.0.1:18282 > "$work/tcp.out" &
sleep 1
cli "show sess" admin > "$here/show_sess.txt"
id=$(grep 'fe=raw' "$here/show_sess.txt" | cut -d: -f1)
cli "show sess $id" admin > "$here/show_sess_id.txt"
ask "show sess 0x1234"
ask "show sess" oper
ask "shutdown session $id"
sleep 0.5
# HAProxy answers "No such session (use 'show sess')." here, unless the
# freed stream's memory was reused by this very CLI stream (then it shuts
# itself and answers nothing).
ask "shutdown session $id"
for c in "shutdown session" "shutdown session zz" "shutdown session 0x0"; do ask "$c"; done
ask "shutdown session 0x1" oper
# del server refuses a server in maintenance that still has a stream.
cli "set server dyn/web1 state maint" admin >/dev/null
ask "del server dyn/web1 (with a stream)"
cli "set server dyn/web1 state ready" admin >/dev/null
ask "shutdown sessions server dyn/web1"
sleep 0.5
{ echo "== http client saw"; cat "$work/http.out"; echo "== tcp client saw"; cat "$work/tcp.out"; } >> "$out"
for c in "shutdown sessions server dyn/nope" "shutdown sessions server nope/x" \
         "shutdown sessions server dyn" "shutdown sessions server"; do
  ask "$c"
done
ask "shutdown sessions server dyn/web1" oper
ask "shutdown sessions"

rm -f "$here/show_errors_web.txt"
# show errors: one bad request, then the answers by proxy and direction.
printf 'GET / HTTP/1.1\r\nho st: y\r\nfoo: bar\r\n\r\n' | socat - TCP:127.0.0.1:18281 > /dev/null
cli "show errors" admin > "$here/show_errors.txt"
for c in "show errors dyn" "show errors nope" "show errors web response"; do ask "$c"; done
for r in 'G@T / HTTP/1.1\r\n\r\n' 'GET /a\x01b HTTP/1.1\r\n\r\n' 'GET / HTTX/1.1\r\n\r\n' \
         'GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nx-long: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nbad\\x\r\n\r\n'; do
  printf "$r" | socat - TCP:127.0.0.1:18281 > /dev/null
  cli "show errors web" admin >> "$here/show_errors_web.txt"
done

# add server / del server (dynamic servers)
for c in "add server dyn/web3 127.0.0.1:18293" "add server dyn/web3 127.0.0.1:18293" \
         "show servers state dyn" "add server static/x 127.0.0.1:1" "add server dyn/w4" \
         "add server dyn/w5 127.0.0.1:1 bogus" "add server dyn/w7 127.0.0.1:1 weight 300" \
         "add server nope/x 127.0.0.1" "add server dyn" "del server dyn/web3" \
         "del server dyn/web1" "del server dyn/nope" "del server nope/x" "del server dyn"; do
  ask "$c"
done
