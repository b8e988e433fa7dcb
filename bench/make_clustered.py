#!/usr/bin/env python3
"""Writes clustered_10m.fpn: 100 clusters of 1000 neurons (100,000 neurons),
each neuron with 90 random inputs from its own cluster and 10 from the
previous cluster in a ring: 10,000,000 synapses with the locality of
cortical columns (a random 10M network cannot fit any array of 1024 tiles:
each tile's rows would need most of the network's neurons)."""
CLUSTERS = 100
lines = [
    "// Benchmark network, written by make_clustered.py: 100 clusters x 1000",
    "// neurons, fan-in 90 within the cluster + 10 from the previous one",
    "// (10,000,000 synapses), excitatory only so that each source needs one row",
    "// per tile. docs/PERFORMANCE.md says how it is used.",
    "module cluster(s) {",
    "    population n[1000] : lif { tau_m = 20, threshold = 1.0, refractory = 2, v_init = uniform(0, 1, seed = s) };",
    "    connect n -> n : fixed_fan_in(90, seed = s) weight uniform(0.0, 0.1, seed = s);",
    "}",
    "network clustered_10m {",
    "    source drive[100] : poisson { rate = 20, seed = 1 };",
]
for c in range(CLUSTERS):
    lines.append(f"    inst c{c} = cluster({c + 1});")
for c in range(CLUSTERS):
    lines.append(f"    connect c{(c - 1) % CLUSTERS}.n -> c{c}.n : fixed_fan_in(10, seed = {1000 + c}) weight 0.05;")
lines.append("    connect drive -> c0.n : fixed_fan_in(5, seed = 7) weight 0.5;")
lines.append("}")
open("clustered_10m.fpn", "w").write("\n".join(lines) + "\n")
