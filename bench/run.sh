#!/usr/bin/env bash
# Every benchmark behind docs/PERFORMANCE.md. Run from the repository root:
#   bench/run.sh            # all but Brian2
#   bench/run.sh brian2     # also CUBA against Brian2 (needs the venv below)
# Builds the release binary first; each time is the median of several runs
# (bench/measure.py, which also reports peak memory).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q
F=$PWD/target/release/fpnna
M="python3 $PWD/bench/measure.py"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

echo "== parse + elaborate (fpnna check)"
$M 5 -- $F check bench/fanin_1m.fpn
$M 3 -- $F check bench/clustered_10m.fpn

echo "== reference simulation, CUBA, 10,000 steps (quantized for large)"
$M 5 -- $F sim examples/cuba/cuba.fpn --preset large --steps 10000
$F sim examples/cuba/cuba.fpn --preset large --steps 10000 2>&1 | tail -1

echo "== compile (quantize, partition, place, route, bitgen, write)"
$M 3 -- $F compile bench/fanin_1m.fpn --preset large -o "$W/f1m.fpb"
$M 3 -- $F compile bench/clustered_10m.fpn --preset large -o "$W/c10m.fpb"
$M 3 -- $F compile examples/cuba/cuba.fpn --preset large -o "$W/cuba.fpb"
for n in bench/fanin_1m.fpn bench/clustered_10m.fpn examples/cuba/cuba.fpn; do
    b=$(basename "$n" .fpn)
    $F compile "$n" --preset large --report "$W/$b.json" -o "$W/$b.fpb" | grep -E "bitstream|placement|routing"
    python3 - "$W/$b.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h = r["route_history"]
print(f"  {r['network']}: placement final {r['placement_cost_final']:.0f}, random {r['placement_cost_random']:.0f}, "
      f"lower bound {r['placement_cost_lower_bound']:.0f}; routing {r['route_iterations']} iteration(s), "
      f"{r['total_hops']} hops vs {h[0]['total_hops']} for dimension-ordered shortest-path trees")
PY
done

echo "== bitstream load (decode + validate + emulator set-up: run --steps 0)"
$M 5 -- $F run "$W/cuba.fpb" --steps 0 --ideal
$M 3 -- $F run "$W/fanin_1m.fpb" --steps 0 --ideal
$M 3 -- $F run "$W/clustered_10m.fpb" --steps 0 --ideal

echo "== emulator, CUBA, 10,000 steps, ideal, one thread (whole process)"
$M 5 -- $F run "$W/cuba.fpb" --steps 10000 --ideal
$F run "$W/cuba.fpb" --steps 10000 --ideal 2>&1 | tail -1

echo "== emulator cost vs array size: synfire on 4x4 and on 32x32 tiles (interleaved runs)"
for g in 4 32; do
    $F arch | sed -e "0,/^width = 16/s//width = $g/" -e "0,/^height = 16/s//height = $g/" > "$W/grid$g.toml"
    $F compile examples/synfire/synfire.fpn --arch "$W/grid$g.toml" -o "$W/syn$g.fpb" > /dev/null
done
python3 - "$F" "$W" <<'PY'
import statistics, subprocess, sys, time
f, w = sys.argv[1], sys.argv[2]
t = {4: [], 32: []}
for _ in range(15):
    for g in t:
        t0 = time.perf_counter()
        subprocess.run([f, "run", f"{w}/syn{g}.fpb", "--steps", "100000", "--ideal"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t[g].append(time.perf_counter() - t0)
m = {g: statistics.median(v) for g, v in t.items()}
print(f"4x4 median {m[4]:.4f} s, 32x32 median {m[32]:.4f} s, ratio 32x32/4x4 {m[32] / m[4]:.2f} (15 rounds)")
PY

if [ "${1:-}" = brian2 ]; then
    echo "== CUBA: fpnna run vs Brian2's C++ standalone program, alternating"
    V=${BRIAN2_VENV:-/tmp/brian2-venv}
    [ -x "$V/bin/python" ] || { python3 -m venv "$V"; "$V/bin/pip" install -q -r bench/requirements-brian2.txt; }
    "$V/bin/python" bench/brian2_cuba.py --mode cpp --dir "$W/cuba_build"
    python3 bench/alternate.py 15 "$W/cuba_build" -- $F run "$W/cuba.fpb" --steps 10000 --ideal
fi
