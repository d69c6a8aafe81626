#!/usr/bin/env bash
# Captures the servers real HAProxy 2.6 chooses, for replay by tests/haproxy_compat.rs.
#
# One haproxy process runs four "server" frontends that answer with their own name
# and one frontend per case, each with its own backend. Requests go over loopback
# only; source addresses are varied with `curl --interface 127.a.b.c` (all of
# 127.0.0.0/8 is local on Linux). Output: CSV lines `case,key,server` on stdout.
#
# Usage: proxy-balance/tests/data/capture.sh > proxy-balance/tests/data/haproxy-2.6-choices.csv
set -euo pipefail

BASE=${BASE_PORT:-19300}
work=$(mktemp -d)
cfg=$work/haproxy.cfg
sock=$work/admin.sock
hapid=
cleanup() {
    if [[ -n $hapid ]]; then kill "$hapid" 2>/dev/null || true; wait "$hapid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

srv() { echo "127.0.0.1:$((BASE + $1))"; }

# The cases: name, balance/hash-type lines, server lines. Frontend port = BASE + 100 + index.
declare -a names bodies
add_case() { names+=("$1"); bodies+=("$2"); }

hashsrv="  server s1 $(srv 1) weight 1
  server s2 $(srv 2) weight 2
  server s3 $(srv 3) weight 3
  server s4 $(srv 4) weight 1"

add_case src_map "  balance source
  hash-type map-based
$hashsrv"
add_case src_map_aval "  balance source
  hash-type map-based sdbm avalanche
$hashsrv"
add_case src_cons "  balance source
  hash-type consistent
$hashsrv"
add_case src_cons_aval "  balance source
  hash-type consistent sdbm avalanche
$hashsrv"
for kind in map-based consistent; do
    for fn in sdbm djb2 wt6 crc32; do
        for mod in "" avalanche; do
            add_case "uri_${kind%%-*}_${fn}${mod:+_aval}" "  balance uri
  hash-type $kind $fn $mod
$hashsrv"
        done
    done
done
add_case uri_depth2 "  balance uri depth 2
  hash-type consistent
$hashsrv"
add_case uri_len5_whole "  balance uri len 5 whole
  hash-type map-based
$hashsrv"
add_case uri_whole "  balance uri whole
  hash-type consistent djb2
$hashsrv"
add_case urlp_id "  balance url_param id
  hash-type consistent wt6
$hashsrv"
add_case hdr_djb2 "  balance hdr(X-Key)
  hash-type map-based djb2
$hashsrv"
add_case hdr_domain "  balance hdr(Host) use_domain_only
  hash-type consistent crc32
$hashsrv"
add_case rr123 "  balance roundrobin
  server s1 $(srv 1) weight 1
  server s2 $(srv 2) weight 2
  server s3 $(srv 3) weight 3"
add_case rr_reweight "  balance roundrobin
  server s1 $(srv 1) weight 1
  server s2 $(srv 2) weight 2
  server s3 $(srv 3) weight 3"
add_case rr299 "  balance roundrobin
  server s1 $(srv 1) weight 2
  server s2 $(srv 2) weight 9
  server s3 $(srv 3) weight 9"
add_case srr123 "  balance static-rr
  server s1 $(srv 1) weight 1
  server s2 $(srv 2) weight 2
  server s3 $(srv 3) weight 3"
add_case lc "  balance leastconn
  server s1 $(srv 1)
  server s2 $(srv 2)
  server s3 $(srv 3)"
bk="  server s1 $(srv 1) disabled
  server s2 $(srv 2) weight 2 backup
  server s3 $(srv 3) weight 3 backup
  server s4 $(srv 4) weight 1 backup"
add_case bk_src_map "  balance source
  hash-type map-based
$bk"
add_case bk_src_map_all "  balance source
  hash-type map-based
  option allbackups
$bk"
add_case bk_src_cons_all "  balance source
  hash-type consistent sdbm avalanche
  option allbackups
$bk"
add_case bk_rr "  balance roundrobin
$bk"
add_case bk_rr_all "  balance roundrobin
  option allbackups
$bk"

{
    cat <<CFG
global
  nbthread 1
  stats socket $sock level admin
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
CFG
    for i in 1 2 3 4; do
        printf 'frontend s%d\n  bind %s\n  http-request return status 200 content-type text/plain string "s%d"\n' \
            "$i" "$(srv "$i")" "$i"
    done
    for idx in "${!names[@]}"; do
        n=${names[$idx]}
        printf 'frontend f_%s\n  bind 127.0.0.1:%d\n  default_backend %s\n' "$n" $((BASE + 100 + idx)) "$n"
        printf 'backend %s\n%s\n' "$n" "${bodies[$idx]}"
    done
} > "$cfg"

haproxy -c -q -f "$cfg"
haproxy -db -f "$cfg" >"$work/log" 2>&1 &
hapid=$!
for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.1; done
sleep 0.3

port_of() {
    local idx
    for idx in "${!names[@]}"; do
        if [[ ${names[$idx]} == "$1" ]]; then echo $((BASE + 100 + idx)); return; fi
    done
    echo "unknown case $1" >&2; exit 1
}

# fetch <case> <key> [curl args...]: one request, prints the CSV row
fetch() {
    local c=$1 k=$2; shift 2
    local s
    s=$(curl -sS --max-time 5 "$@")
    echo "$c,$k,$s"
}

# Source addresses: a fixed pseudo-random spread over 127.0.0.0/8.
for i in $(seq 1 150); do
    a=$(( (i * 37) % 256 )); b=$(( (i * 101 + 7) % 256 )); c=$(( (i * 13) % 254 + 1 ))
    ip=127.$a.$b.$c
    for n in src_map src_map_aval src_cons src_cons_aval bk_src_map bk_src_map_all bk_src_cons_all; do
        fetch "$n" "$ip" --interface "$ip" "http://127.0.0.1:$(port_of "$n")/"
    done
done

# URI keys
for idx in "${!names[@]}"; do
    n=${names[$idx]}
    case $n in uri_*) ;; *) continue ;; esac
    port=$(port_of "$n")
    for i in $(seq 1 150); do
        uri="/d$((i % 7))/p$i/f$((i * 31 % 97)).html?q=$i&z=$((i % 5))"
        fetch "$n" "$uri" "http://127.0.0.1:$port$uri"
    done
done

port=$(port_of urlp_id)
for i in $(seq 1 150); do
    uri="/search?a=$((i % 3))&id=user$((i * 7919 % 10007))&b=x"
    fetch urlp_id "$uri" "http://127.0.0.1:$port$uri"
done

port=$(port_of hdr_djb2)
for i in $(seq 1 150); do
    k="key-$((i * 131 % 9973))"
    fetch hdr_djb2 "$k" -H "X-Key: $k" "http://127.0.0.1:$port/"
done
port=$(port_of hdr_domain)
for i in $(seq 1 150); do
    h="www$((i % 3)).site$((i * 17 % 211)).example"
    fetch hdr_domain "$h" -H "Host: $h" "http://127.0.0.1:$port/"
done

# Sequences: the key is the request's rank.
for n in rr123 srr123 lc bk_rr bk_rr_all; do
    port=$(port_of "$n")
    for i in $(seq 1 36); do fetch "$n" "$i" "http://127.0.0.1:$port/"; done
done

port=$(port_of rr299)
for i in $(seq 1 1300); do fetch rr299 "$i" "http://127.0.0.1:$port/"; done

# Weight change at run time: 13 requests, s3 to weight 1, 12 more, s1 to weight 4, 18 more.
port=$(port_of rr_reweight)
i=0
for step in 13 "s3 1" 12 "s1 4" 18; do
    if [[ $step == *" "* ]]; then
        read -r s w <<<"$step"
        echo "set weight rr_reweight/$s $w" | socat - "UNIX-CONNECT:$sock" >/dev/null
        echo "rr_reweight,set $s $w,"
        continue
    fi
    for _ in $(seq 1 "$step"); do i=$((i + 1)); fetch rr_reweight "$i" "http://127.0.0.1:$port/"; done
done
