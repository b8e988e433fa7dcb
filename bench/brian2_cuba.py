#!/usr/bin/env python3
"""The CUBA benchmark network (Vogels & Abbott 2005, as in Brian2's examples/CUBA.py)
simulated by Brian2, timed, for a side-by-side comparison with fpnna.

Set up once (Brian2 2.9 needs numpy < 2.4):
    python3 -m venv brian2-venv && brian2-venv/bin/pip install -r bench/requirements-brian2.txt
Run (prints one JSON line):
    brian2-venv/bin/python bench/brian2_cuba.py --mode cpp --dir cuba_build   # C++ standalone
    brian2-venv/bin/python bench/brian2_cuba.py --mode runtime                 # Cython runtime

t_sim is the simulation loop alone: for cpp, the time Brian2 measures inside the
compiled program (compile time excluded); for runtime, run(1 s) minus a warm run(0 ms).
Timings on a shared 2-core machine are noisy: run several times, quote the median,
and run fpnna in the same session.
"""
import argparse
import json
import time

ap = argparse.ArgumentParser()
ap.add_argument("--mode", choices=["runtime", "cpp"], required=True)
ap.add_argument("--N", type=int, default=4000, help="neurons (80 %% excitatory)")
ap.add_argument("--fanin", type=float, default=80.0, help="expected synapses per neuron; p = fanin/N")
ap.add_argument("--duration-ms", type=float, default=1000.0)
ap.add_argument("--seed", type=int, default=12345)
ap.add_argument("--dir", default="cuba_build", help="cpp standalone build directory")
args = ap.parse_args()

import numpy as np
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, defaultclock, device,
                    ms, mV, prefs, seed, set_device)
import brian2

if args.mode == "cpp":
    set_device("cpp_standalone", directory=args.dir, build_on_run=False)
seed(args.seed)
defaultclock.dt = 0.1 * ms

N, NE, p = args.N, int(round(0.8 * args.N)), args.fanin / args.N
taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
eqs = """
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
"""
P = NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="linear",
                namespace=dict(taum=taum, taue=taue, taui=taui, Vt=Vt, Vr=Vr, El=El))
P.v = "Vr + rand() * (Vt - Vr)"
we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
Ce = Synapses(P, P, on_pre="ge += we", namespace=dict(we=we))
Ci = Synapses(P, P, on_pre="gi += wi", namespace=dict(wi=wi))
Ce.connect(f"i<{NE}", p=p)
Ci.connect(f"i>={NE}", p=p)
spikes = SpikeMonitor(P)
net = Network(P, Ce, Ci, spikes)

if args.mode == "runtime":
    net.run(0 * ms)                      # code generation and compilation
    t0 = time.perf_counter(); net.run(args.duration_ms * ms); t1 = time.perf_counter()
    net.run(0 * ms); t2 = time.perf_counter()
    t_sim = (t1 - t0) - (t2 - t1)        # minus the per-run overhead
else:
    net.run(args.duration_ms * ms)
    device.build(directory=args.dir, compile=True, run=True, clean=True, with_output=False)
    t_sim = float(device._last_run_time)

outdeg = (np.bincount(np.asarray(Ce.i[:]), minlength=N)
          + np.bincount(np.asarray(Ci.i[:]), minlength=N))
counts = np.asarray(spikes.count[:])
events = int(np.sum(counts.astype(np.int64) * outdeg))
print(json.dumps(dict(
    brian2=brian2.__version__, mode=args.mode, N=N, synapses=int(len(Ce) + len(Ci)),
    spikes=int(spikes.num_spikes), rate_hz=float(spikes.num_spikes) / N / (args.duration_ms / 1000),
    synaptic_events=events, t_sim_s=t_sim, synaptic_events_per_s=events / t_sim)))
