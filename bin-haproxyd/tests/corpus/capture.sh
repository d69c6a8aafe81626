#!/usr/bin/env bash
# Re-records NAME.verdict beside every NAME.cfg from the real `haproxy -c`.
#
# A verdict holds the exit code on its first line ("exit: N") and then every
# [ALERT] line HAProxy printed, with the process id masked as "(PID)".
# tests/check_corpus.rs replays these verdicts against haproxyd, so CI does not
# need haproxy installed. The environment is fixed here and in the test alike,
# so that ${VAR} expansion gives the same text on every machine; stdin is
# /dev/null in both so that "bind fd@0" meets the same descriptor.
#
# Usage: capture.sh [NAME.cfg...]   (all files when no argument is given)
set -euo pipefail
cd "$(dirname "$0")"

haproxy=${HAPROXY:-haproxy}
command -v "$haproxy" >/dev/null || { echo "capture.sh: $haproxy not found" >&2; exit 1; }

# Keep in step with CORPUS_ENV in tests/check_corpus.rs.
corpus_env=(
  HAPD_ADDR=127.0.0.1
  HAPD_PORT=8443
  HAPD_NAME=app
  HAPD_WEIGHT=30
)

if (($#)); then files=("$@"); else files=(*.cfg); fi
for cfg in "${files[@]}"; do
  name=${cfg%.cfg}
  set +e
  out=$(env -i PATH="$PATH" "${corpus_env[@]}" "$haproxy" -c -f "$cfg" </dev/null 2>&1 >/dev/null)
  rc=$?
  set -e
  {
    echo "exit: $rc"
    grep '^\[ALERT\]' <<<"$out" | sed -E 's/^(\[ALERT\] +)\([0-9]+\)/\1(PID)/' || true
  } >"$name.verdict"
done
echo "recorded ${#files[@]} verdicts with $("$haproxy" -v | head -n1)"
