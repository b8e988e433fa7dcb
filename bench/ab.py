#!/usr/bin/env python3
"""Interleaved A/B timing of two fpnna binaries on the same command: runs
A, then B, N rounds; prints each median and the median per-round ratio B/A.
Whole processes, wall time (this machine is noisy: never trust one run).

Usage: bench/ab.py N OLD_FPNNA NEW_FPNNA -- ARGS...
e.g.   bench/ab.py 15 /tmp/fpnna-old target/release/fpnna -- run cuba.fpb --steps 10000 --ideal
"""
import statistics
import subprocess
import sys
import time

n, old, new = int(sys.argv[1]), sys.argv[2], sys.argv[3]
args = sys.argv[sys.argv.index("--") + 1:]


def timed(binary):
    t0 = time.perf_counter()
    subprocess.run([binary, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


a, b = [], []
for _ in range(n):
    a.append(timed(old))
    b.append(timed(new))
ratios = [y / x for x, y in zip(a, b)]
print(f"A {old}: median {statistics.median(a):.4f} s; B {new}: median {statistics.median(b):.4f} s; "
      f"median ratio B/A {statistics.median(ratios):.3f} ({n} rounds)")
