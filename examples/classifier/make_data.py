#!/usr/bin/env python3
"""Writes the classifier's weights and stimulus (run from this directory).

Four 4x4 patterns (two bars and two diagonals); hidden neurons 2k and 2k+1
prefer pattern k; output k listens to its two hidden neurons and is inhibited
by the others. Hand-set, so the example needs no training step.
"""
P = [
    [1 if r == 1 else 0 for r in range(4) for c in range(4)],       # horizontal bar
    [1 if c == 2 else 0 for r in range(4) for c in range(4)],       # vertical bar
    [1 if r == c else 0 for r in range(4) for c in range(4)],       # diagonal
    [1 if r + c == 3 else 0 for r in range(4) for c in range(4)],   # anti-diagonal
]
with open("w1.csv", "w") as f:
    f.write("# input pixel (row) x hidden neuron (column)\n")
    for px in range(16):
        f.write(",".join("0.4" if P[h // 2][px] else "-0.2" for h in range(8)) + "\n")
with open("w2.csv", "w") as f:
    f.write("# hidden neuron (row) x output class (column)\n")
    for h in range(8):
        f.write(",".join("0.8" if h // 2 == o else "-0.6" for o in range(4)) + "\n")
with open("stimulus.csv", "w") as f:
    f.write("step,population,index\n")
    for k, t in enumerate(range(5, 200, 20)):
        for px in range(16):
            if P[k % 4][px]:
                f.write(f"{t},pixels,{px}\n")
