#!/usr/bin/env bash
# Runs fuzz targets one after another, each for SECONDS (default 600), with
# inputs up to 64 KiB, at the lowest CPU priority. Each target's corpus
# grows in fuzz/corpus/TARGET (seeded by fuzz/seeds/TARGET); a crash, leak,
# timeout or out-of-memory input is copied to fuzz/regressions/TARGET/,
# and the script exits non-zero after the last target.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: every target)
#
# Needs cargo-fuzz (`cargo +nightly install cargo-fuzz --locked`). The
# build goes to $CARGO_TARGET_DIR when it is set.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

seconds=600
if [[ $# -gt 0 && "$1" =~ ^[0-9]+$ ]]; then
    seconds="$1"
    shift
fi
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t" logs
    seeds=()
    [[ -d "seeds/$t" ]] && seeds=("seeds/$t")
    echo "== $t: ${seconds} s (log: fuzz/logs/$t.log)"
    nice -n 19 cargo +nightly fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_len=65536 -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" \
        -print_final_stats=1 >"logs/$t.log" 2>&1
    rc=$?
    grep -E '^Done [0-9]+ runs|^stat::number_of_executed_units' "logs/$t.log" | tail -2
    found=0
    for f in artifacts/"$t"/*; do
        [[ -f "$f" ]] || continue
        cp "$f" "regressions/$t/"
        echo "   artifact: fuzz/regressions/$t/$(basename "$f")"
        found=1
    done
    if [[ $rc -ne 0 || $found -ne 0 ]]; then
        failed+=("$t")
        echo "   FAILED (exit $rc): see fuzz/logs/$t.log"
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all passed"
