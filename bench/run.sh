#!/usr/bin/env bash
# Benchmarks behind docs/PERFORMANCE.md. Run from the repository root:
#   bench/run.sh
# Builds the release binary first; each figure is the median of several runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
F=target/release/fpnna
M="python3 bench/measure.py"
echo "== parse + elaborate (fpnna check)"
$M 5 -- $F check bench/fanin_1m.fpn
$M 3 -- $F check bench/fanin_10m.fpn
echo "== reference simulation, CUBA, 10,000 steps"
$M 5 -- $F sim examples/cuba/cuba.fpn --steps 10000
$F sim examples/cuba/cuba.fpn --steps 10000 2>&1 | tail -3
