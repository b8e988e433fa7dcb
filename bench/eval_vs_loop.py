#!/usr/bin/env python3
"""The digits evaluation two ways, interleaved, N rounds, medians of whole
wall time: (A) the per-process loop users wrote before `fpnna eval` (one
`fpnna run` per sample, from a stimulus file per sample), (B) one
`fpnna eval` process for all 360 samples; then (C) a sweep of 4 stuck-at
rates x 10 seeds; all three with ideal devices apart from the swept
stuck-at faults; and (D) `fpnna eval` with the architecture's device
figures (read noise and drift on every read). Bernoulli coding of 100
steps; stdlib only (the stimulus files of A are written once, before
timing).

Usage: bench/eval_vs_loop.py N FPNNA DIGITS.fpb
"""
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import time

n, fpnna, fpb = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data, labels = "examples/digits/test_x.npy", "examples/digits/test_y.npy"
steps = 100


def read_npy_f32(path):
    raw = open(path, "rb").read()
    hlen = struct.unpack("<H", raw[8:10])[0]
    body = raw[10 + hlen:]
    return struct.unpack(f"<{len(body) // 4}f", body)


x = read_npy_f32(data)
samples = len(x) // 64
tmp = tempfile.mkdtemp()
rng = random.Random(1)
stimuli = []
for k in range(samples):
    path = os.path.join(tmp, f"s{k}.csv")
    with open(path, "w") as f:
        f.write("step,population,index\n")
        for t in range(steps):
            for c in range(64):
                if rng.random() < x[k * 64 + c]:
                    f.write(f"{t},pixels,{c}\n")
    stimuli.append(path)


def timed(cmds):
    t0 = time.perf_counter()
    for c in cmds:
        subprocess.run(c, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


task = ["--data", data, "--labels", labels, "--input", "pixels", "--output", "class",
        "--steps-per-sample", str(steps), "--encode", "bernoulli"]
loop = [[fpnna, "run", fpb, "--ideal", "--steps", str(steps), "--stimulus", s, "--spikes",
         os.path.join(tmp, "o.csv")] for s in stimuli]
one = [[fpnna, "eval", fpb, "--ideal", *task]]
sweep = [[fpnna, "sweep", fpb, "--ideal", *task, "--vary", "stuck-rate=0,0.01,0.05,0.1", "--seeds", "10",
          "-o", os.path.join(tmp, "sweep.csv")]]
noisy = [[fpnna, "eval", fpb, *task]]
a, b, c, d = [], [], [], []
for _ in range(n):
    a.append(timed(loop))
    b.append(timed(one))
    c.append(timed(sweep))
    d.append(timed(noisy))
m = statistics.median
print(f"{samples} samples x {steps} steps, medians of {n} interleaved rounds: (A) per-process loop {m(a):.3f} s; "
      f"(B) fpnna eval {m(b):.3f} s; (C) sweep 4 rates x 10 seeds {m(c):.3f} s; "
      f"(D) fpnna eval, architecture's devices {m(d):.3f} s")
