#!/usr/bin/env python3
"""Interleaved timing of two commands: runs A, then B, N rounds; prints each
median and the median per-round ratio B/A. Whole processes, wall time (this
machine is noisy: never trust one run).

Usage: bench/pair.py N -- COMMAND A... --vs COMMAND B...
e.g.   bench/pair.py 11 -- fpnna compile cuba.fpn --preset large -o /dev/null \
           --vs fpnna compile cuba.fpn --device chip.state -o /dev/null
"""
import statistics
import subprocess
import sys
import time

n = int(sys.argv[1])
rest = sys.argv[sys.argv.index("--") + 1:]
a, b = rest[:rest.index("--vs")], rest[rest.index("--vs") + 1:]


def timed(argv):
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


ta, tb = [], []
for _ in range(n):
    ta.append(timed(a))
    tb.append(timed(b))
ratios = [y / x for x, y in zip(ta, tb)]
print(f"A: median {statistics.median(ta):.3f} s; B: median {statistics.median(tb):.3f} s; "
      f"median ratio B/A {statistics.median(ratios):.2f} ({n} rounds)")
