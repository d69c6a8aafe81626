#!/usr/bin/env bash
# Loads a generated configuration of 300,000 servers in 3,000 backends with
# `haproxy -c -f` and with our release `haproxyd -c -f`, alternating, three
# rounds each, under /usr/bin/time; prints wall time and peak RSS of both and
# the ratios, and writes the table to benches/results/config-load.txt.
#
# Needs haproxy and GNU time (Debian packages `haproxy` and `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

servers=${SERVERS:-300000}
backends=${BACKENDS:-3000}
rounds=${ROUNDS:-3}
target=${CARGO_TARGET_DIR:-target}
out=benches/results/config-load.txt

command -v haproxy >/dev/null || { echo "haproxy is not installed" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

cargo build --release -q -p benches --bin gen-haproxy-config
cargo build --release -q -p bin-haproxyd --bin haproxyd

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cfg=$work/large.cfg
"$target/release/gen-haproxy-config" "$servers" "$backends" >"$cfg"

# measure NAME COMMAND...: one run; appends "NAME seconds kilobytes" to $work/runs.
measure() {
  local name=$1
  shift
  if ! /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr"; then
    echo "$name refused the generated configuration:" >&2
    cat "$work/stdout" "$work/stderr" >&2
    exit 1
  fi
  echo "$name $(tail -n1 "$work/time")" >>"$work/runs"
}

: >"$work/runs"
for ((round = 1; round <= rounds; round++)); do
  measure haproxy haproxy -c -f "$cfg"
  measure haproxyd "$target/release/haproxyd" -c -f "$cfg"
done

{
  echo "config load: $servers servers in $backends backends, $(wc -c <"$cfg") bytes, $rounds rounds each"
  echo "haproxy:  $(haproxy -v | head -n1)"
  echo "haproxyd: $("$target/release/haproxyd" -v | head -n1)"
  echo "machine:  $(nproc) CPUs, $(uname -sr)"
  echo
  awk '
    { wall[$1] = wall[$1] " " $2; rss[$1] = rss[$1] " " $3; sw[$1] += $2; sr[$1] += $3; n[$1]++ }
    END {
      printf "%-9s %-22s %-8s %-28s %-10s\n", "tool", "wall s (each round)", "mean s", "max RSS KiB (each round)", "mean MiB"
      split("haproxy haproxyd", tools, " ")
      for (i = 1; i <= 2; i++) {
        t = tools[i]
        sub(/^ /, "", wall[t]); sub(/^ /, "", rss[t])
        printf "%-9s %-22s %-8.2f %-28s %-10.1f\n", t, wall[t], sw[t] / n[t], rss[t], sr[t] / n[t] / 1024
      }
      printf "\nratio haproxyd/haproxy: wall %.2fx, max RSS %.2fx\n", \
        (sw["haproxyd"] / n["haproxyd"]) / (sw["haproxy"] / n["haproxy"]), \
        (sr["haproxyd"] / n["haproxyd"]) / (sr["haproxy"] / n["haproxy"])
    }' "$work/runs"
} | tee "$out"
