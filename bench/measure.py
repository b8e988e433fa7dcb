#!/usr/bin/env python3
"""Runs a command several times; prints the median wall time and peak RSS.

Usage: bench/measure.py RUNS -- COMMAND...
Peak memory comes from getrusage of the child (ru_maxrss, KiB on Linux).
"""
import os
import resource
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
cmd = sys.argv[sys.argv.index("--") + 1:]
walls, peaks = [], []
for _ in range(runs):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    walls.append(time.perf_counter() - t0)
    peaks.append(usage.ru_maxrss)
    if status != 0:
        sys.exit(f"command failed with status {status}: {' '.join(cmd)}")
print(f"median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f}, {runs} runs), "
      f"peak RSS {max(peaks) / 1024:.1f} MiB  : {' '.join(cmd)}")
