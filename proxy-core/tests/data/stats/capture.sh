#!/usr/bin/env bash
# Captures HAProxy 2.6's statistics outputs replayed by tests/stats_*.rs and
# tests/cli_*.rs: runs haproxy on capture.cfg (loopback only), sends a few
# requests, then saves the CSV export, the metrics page and the runtime API
# answers beside this script. Needs haproxy, socat, curl and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$hap" "$web" 2>/dev/null || true; rm -rf "$work"' EXIT
sed "s#/tmp/cap#$work#g" "$here/capture.cfg" > "$work/h.cfg"
haproxy -db -f "$work/h.cfg" >/dev/null 2>&1 & hap=$!
python3 -m http.server 18091 --bind 127.0.0.1 >/dev/null 2>&1 & web=$!
sleep 1
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null 127.0.0.1:18081/; done
curl -s 'http://admin:admin@127.0.0.1:18080/haproxy?stats;csv' > "$here/csv.txt"
curl -s 127.0.0.1:18081/metrics > "$here/metrics.txt"
for c in "help" "show info" "show stat" "show stat typed" "show stat json" "show servers state" \
         "show servers state dyn" "show backend" "show sess" "show errors" "show info typed" \
         "show info json" "show stat -1 4 -1" "show stat dyn 4 -1"; do
  echo "$c" | socat "$work/admin.sock" - > "$here/$(echo "$c" | tr ' ' '_').txt"
done
