#!/usr/bin/env python3
"""Alternates Brian2's compiled CUBA program and an fpnna command, N times
each, in one session; prints each median and the median of the per-round
ratios (fpnna / Brian2). Whole processes, wall time.

Usage: bench/alternate.py N BRIAN2_BUILD_DIR -- FPNNA COMMAND...
"""
import statistics
import subprocess
import sys
import time

n, build = int(sys.argv[1]), sys.argv[2]
cmd = sys.argv[sys.argv.index("--") + 1:]


def timed(argv, cwd=None):
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


b, f = [], []
for _ in range(n):
    b.append(timed(["./main"], cwd=build))
    f.append(timed(cmd))
ratios = [x / y for x, y in zip(f, b)]
print(f"brian2 main: median {statistics.median(b):.3f} s; fpnna: median {statistics.median(f):.3f} s; "
      f"median ratio fpnna/brian2 {statistics.median(ratios):.2f} ({n} rounds)")
