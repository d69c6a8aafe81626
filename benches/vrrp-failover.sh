#!/usr/bin/env bash
# Failover times of keepalivedd and keepalived 2.2, measured in the same run, in the
# scenarios of the keepalived lab (crash, graceful stop, script failure and recovery,
# link down and up, 3-node crash, mutual crash). Runs as root; takes about 10 minutes
# with the default 3 trials. Writes the table to benches/results/vrrp-failover.txt.
#
#   benches/vrrp-failover.sh              # builds keepalivedd (release) first
#   TRIALS=5 benches/vrrp-failover.sh
#   KEEPALIVEDD=/path/to/keepalivedd benches/vrrp-failover.sh
#
# Both daemons run the same seed configurations in identical namespace labs
# (tests/vrrp/vrrplab.py); trials alternate between the two so drift hits both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${TRIALS:-3}
bin=${KEEPALIVEDD:-}
label="$bin (given)"
if [ -z "$bin" ]; then
  cargo build --release -p bin-keepalivedd
  bin=$PWD/target/release/keepalivedd
  label="release build of the working tree at $(git rev-parse --short HEAD)"
fi
exec python3 tests/vrrp/vrrplab.py bench --trials "$trials" --keepalivedd "$bin" \
  --label "$label" --out benches/results/vrrp-failover.txt
