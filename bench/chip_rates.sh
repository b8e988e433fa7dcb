#!/usr/bin/env bash
# The highest defect rate (half at G_min, half at G_max, seeded) at which a
# network still compiles to an exact configuration for a chip, and whether
# the chip then runs it exactly as `fpnna sim` (ideal devices).
# Usage: bench/chip_rates.sh FPNNA SOURCE PRESET STEPS [STIMULUS] -- RATE...
set -euo pipefail
fpnna=$1 src=$2 preset=$3 steps=$4
shift 4
stim=()
if [ "$1" != "--" ]; then stim=(--stimulus "$1"); shift; fi
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$fpnna" sim "$src" --preset "$preset" --steps "$steps" "${stim[@]}" --spikes "$tmp/sim.csv" >/dev/null 2>&1
for rate in "$@"; do
  "$fpnna" device new --preset "$preset" --stuck-rate "$rate" --seed 1 -o "$tmp/chip.state" >/dev/null 2>&1
  if out=$("$fpnna" compile "$src" --device "$tmp/chip.state" -o "$tmp/x.fpb" 2>&1); then
    "$fpnna" run "$tmp/x.fpb" --device "$tmp/chip.state" --ideal --steps "$steps" "${stim[@]}" --spikes "$tmp/run.csv" >/dev/null 2>&1
    same=$(cmp -s "$tmp/sim.csv" "$tmp/run.csv" && echo "equals sim" || echo "DIFFERS from sim")
    tiles=$(echo "$out" | sed -n 's/.*tiles *: \([0-9]*\) of.*/\1/p')
    packings=$(echo "$out" | sed -n 's/.*(\([0-9]*\) packing(s).*/\1/p')
    echo "rate $rate: compiled, $tiles tiles, $packings packing(s), run on the chip $same"
  else
    echo "rate $rate: does not compile: $(echo "$out" | tail -1 | cut -c1-160)"
  fi
done
