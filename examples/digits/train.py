#!/usr/bin/env python3
"""Trains the digits MLP and converts it to the IF network of digits.fpn.

Run from this directory (`pip install -r requirements.txt` first). Writes
w1.csv, w2.csv, test_x.npy, test_y.npy, stimulus.csv and float_accuracy.txt.
Deterministic: every random draw comes from a fixed seed.

1. Data: scikit-learn's bundled 8x8 digits (1797 images, no download),
   pixels / 16 -> [0, 1], a stratified split with exactly 360 test samples.
2. A 64-32-10 MLP without biases (ReLU hidden layer, softmax output),
   trained with Adam on cross-entropy in plain numpy.
3. Conversion to integrate-and-fire (data-based normalisation, Diehl et al.
   2015, with the robust percentile of Rueckauer et al. 2017): layer l's
   weights are multiplied by lambda_{l-1} / lambda_l, where lambda_l is the
   PERCENTILE-th percentile of layer l's positive activations on the
   training set (lambda_0 = 1, the largest pixel value). The activation that
   reaches lambda_l then drives the neuron to fire about once per step with
   threshold 1.0.
4. A numpy simulation of the converted network with the arithmetic of
   docs/semantics.md (Q16 fixed point, IF: no leak, tau_syn = 0 so a step's
   input is current only in that step, v >= threshold fires, reset by
   subtraction, v floored at v_min = -1.0, one step of delay per
   projection), on rate-coded inputs: a
   pixel of value x spikes with probability x in each step. The class is the
   output neuron with the most spikes (ties: the lowest index). It is run
   with the Q16 weights (as `fpnna sim --exact`) and with the weights
   quantized to the 32 conductance levels of the default preset
   (docs/compiler.md: per projection scale = ceil(max|w| / 31), level =
   round(|w| / scale)), which is what `fpnna sim` and the chip compute.
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0            # weights init and minibatch order
HIDDEN = 32
EPOCHS = 200
BATCH = 32
LR = 2e-3
L2 = 1e-4           # keeps the weights moderate (they are quantized later)
PERCENTILE = 99.9   # of positive activations, per layer (Rueckauer et al.)
STEPS = 100         # steps per presented sample
EVAL_SEED = 1       # Bernoulli draws of the test-set evaluation
STIM_SEED = 2       # Bernoulli draws of stimulus.csv
STIM_SAMPLES = 3    # first test samples, one after another, in stimulus.csv
LEVELS = 32         # nonvolatile.levels of the default preset
ONE = 65536         # Q16: 1.0
V_MIN = -ONE        # v_min = -1.0: bounds the negative potential a neuron
                    # carries from one presented sample into the next


def load():
    d = load_digits()
    x = d.data.astype(np.float64) / 16.0
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=360, random_state=0, stratify=y)


def train(xtr, ytr):
    rng = np.random.default_rng(SEED)
    w1 = rng.normal(0.0, np.sqrt(2.0 / 64), (64, HIDDEN))
    w2 = rng.normal(0.0, np.sqrt(2.0 / HIDDEN), (HIDDEN, 10))
    params = [w1, w2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    onehot = np.eye(10)[ytr]
    for _ in range(EPOCHS):
        order = rng.permutation(len(xtr))
        for s in range(0, len(xtr), BATCH):
            idx = order[s:s + BATCH]
            x, y = xtr[idx], onehot[idx]
            h = np.maximum(x @ w1, 0.0)
            z = h @ w2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            dz = (p - y) / len(idx)
            g2 = h.T @ dz + L2 * w2
            dh = (dz @ w2.T) * (h > 0)
            g1 = x.T @ dh + L2 * w1
            t += 1
            for k, g in enumerate([g1, g2]):
                m[k] = b1 * m[k] + (1 - b1) * g
                v[k] = b2 * v[k] + (1 - b2) * g * g
                mh = m[k] / (1 - b1 ** t)
                vh = v[k] / (1 - b2 ** t)
                params[k] -= LR * mh / (np.sqrt(vh) + eps)
    return w1, w2


def predict(w1, w2, x):
    return np.argmax(np.maximum(x @ w1, 0.0) @ w2, axis=1)


def normalise(w1, w2, xtr):
    a1 = np.maximum(xtr @ w1, 0.0)
    a2 = np.maximum(a1 @ w2, 0.0)
    lam1 = np.percentile(a1[a1 > 0], PERCENTILE)
    lam2 = np.percentile(a2[a2 > 0], PERCENTILE)
    return w1 / lam1, w2 * lam1 / lam2, lam1, lam2


def q16(w):
    """round(x * 65536), half away from zero, as the DSL's to_fixed."""
    return (np.sign(w) * np.floor(np.abs(w) * ONE + 0.5)).astype(np.int64)


def quantize(wq):
    """The compiler's per-projection quantization to LEVELS levels (Q16 in/out)."""
    lmax = LEVELS - 1
    a = np.abs(wq)
    scale = max(1, -(-int(a.max()) // lmax))
    level = np.minimum((2 * a + scale) // (2 * scale), lmax)
    return np.sign(wq) * level * scale


def simulate(w1q, w2q, spikes):
    """IF network of digits.fpn in Q16 integers, docs/semantics.md.

    spikes: bool (steps, batch, 64), the input port's spikes per step. A spike
    at step t arrives one step later (delay 1), so the hidden layer sees the
    inputs of t - 1 and the class layer the hidden spikes of t - 1. Returns
    the class spikes, bool (steps, batch, 10).
    """
    steps, n, _ = spikes.shape
    v1 = np.zeros((n, HIDDEN), np.int64)
    v2 = np.zeros((n, 10), np.int64)
    s0 = np.zeros((n, 64), np.int64)       # spikes of the previous step
    s1 = np.zeros((n, HIDDEN), np.int64)
    out = np.zeros((steps, n, 10), bool)
    for t in range(steps):
        # tau_syn = 0 (decay_i = 1): i is this step's input only.
        v1 = np.maximum(v1 + s0 @ w1q, V_MIN)
        v2 = np.maximum(v2 + s1 @ w2q, V_MIN)
        f1, f2 = v1 >= ONE, v2 >= ONE
        v1 -= f1 * ONE                     # reset = subtract (stays >= 0)
        v2 -= f2 * ONE
        out[t] = f2
        s0, s1 = spikes[t].astype(np.int64), f1.astype(np.int64)
    return out


def snn_accuracy(w1q, w2q, xte, yte):
    rng = np.random.default_rng(EVAL_SEED)
    # Inputs in steps 0..STEPS-1, counted at the class layer two steps later.
    spikes = np.zeros((STEPS + 2, len(xte), 64), bool)
    spikes[:STEPS] = rng.random((STEPS, len(xte), 64)) < xte
    counts = simulate(w1q, w2q, spikes)[2:].sum(axis=0)
    pred = np.argmax(counts, axis=1)
    return int((pred == yte).sum())


def write_matrix(path, w, comment):
    with open(path, "w") as f:
        f.write(f"# {comment}\n")
        for row in w:
            f.write(",".join(f"{x + 0.0:.6f}" for x in row) + "\n")


def main():
    xtr, xte, ytr, yte = load()
    w1, w2 = train(xtr, ytr)
    correct = int((predict(w1, w2, xte) == yte).sum())
    lines = [f"float MLP test accuracy: {correct / len(yte):.4f} ({correct}/{len(yte)})"]

    n1, n2, lam1, lam2 = normalise(w1, w2, xtr)
    # Weights written as exact Q16 values (6 decimals recover them exactly).
    n1, n2 = q16(n1) / ONE, q16(n2) / ONE
    write_matrix("w1.csv", n1, f"input pixel (64 rows) x hidden neuron ({HIDDEN} columns); "
                 f"normalised by lambda1 = {lam1:.4f}")
    write_matrix("w2.csv", n2, f"hidden neuron ({HIDDEN} rows) x output class (10 columns); "
                 f"normalised by lambda1 / lambda2 = {lam1:.4f} / {lam2:.4f}")
    np.save("test_x.npy", xte.astype(np.float32))
    np.save("test_y.npy", yte.astype(np.int64))

    w1q, w2q = q16(n1), q16(n2)
    for name, a, b in [("Q16 weights, as sim --exact", w1q, w2q),
                       (f"{LEVELS} levels, as sim/compile (default preset)", quantize(w1q), quantize(w2q))]:
        c = snn_accuracy(a, b, xte, yte)
        lines.append(f"IF SNN test accuracy ({name}; {STEPS} steps, Bernoulli rate code, "
                     f"spike-count readout): {c / len(yte):.4f} ({c}/{len(yte)})")

    # Stimulus: the first test samples one after another, STEPS steps each.
    rng = np.random.default_rng(STIM_SEED)
    stim = np.concatenate([rng.random((STEPS, 64)) < xte[k] for k in range(STIM_SAMPLES)])
    with open("stimulus.csv", "w") as f:
        f.write("step,population,index\n")
        for t, px in zip(*np.nonzero(stim)):
            f.write(f"{t},pixels,{px}\n")
    # What `fpnna sim --steps 300 --stimulus stimulus.csv` gives (state carries
    # over between samples; each sample's window is shifted by the two-step
    # latency and the last one is cut at the run's end).
    total = STEPS * STIM_SAMPLES
    out = simulate(quantize(w1q), quantize(w2q), stim[:, None, :])[:, 0]
    for k in range(STIM_SAMPLES):
        lo, hi = k * STEPS + 2, min((k + 1) * STEPS + 2, total)
        counts = out[lo:hi].sum(axis=0)
        lines.append(f"stimulus.csv sample {k} (steps {k * STEPS}-{(k + 1) * STEPS - 1}, label {yte[k]}): "
                     f"class spikes in steps {lo}-{hi - 1}: {counts.tolist()}")

    print(f"w1 range [{n1.min():.4f}, {n1.max():.4f}], w2 range [{n2.min():.4f}, {n2.max():.4f}]")
    print("\n".join(lines))
    with open("float_accuracy.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
