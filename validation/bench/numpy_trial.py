#!/usr/bin/env python3
"""NumPy baseline of one rfrisk simulation trial (the same work as `rfrisk bench trial`).

d0 = 2048, widths 2048 x 2, tanh, n = 1000, n_test = 2000, squared mirror map,
Gaussian and one-bit weights. Features in float32 (sgemm), Gram matrix and
solve in float64, as in validation/src/trial.rs. Prints one JSON line with the
median seconds per trial for each weight law.
"""
import json
import sys
import time

import numpy as np

D0, WIDTHS, N, N_TEST = 2048, (2048, 2048), 1000, 2000


def trial(rng, law):
    fan_in = D0
    weights = []
    for width in WIDTHS:
        g = rng.standard_normal((width, fan_in), dtype=np.float32)
        w = g if law == "gaussian" else np.sign(g)
        weights.append(w / np.float32(np.sqrt(fan_in)))
        fan_in = width
    h = rng.standard_normal((N + N_TEST, D0), dtype=np.float32)
    for w in weights:
        h = np.tanh(h @ w.T)
    p = WIDTHS[-1]
    teacher = rng.standard_normal(p) / np.sqrt(p)
    phi = h[:N].astype(np.float64)
    y = phi @ teacher
    dual = np.linalg.solve(phi @ phi.T, y)
    a_hat = phi.T @ dual
    gap = h[N:].astype(np.float64) @ (a_hat - teacher)
    return float(np.mean(gap**2))


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rng = np.random.default_rng(0)
    out = {"numpy": np.__version__}
    for law in ("gaussian", "onebit"):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            risk = trial(rng, law)
            times.append(time.perf_counter() - start)
        out[law] = {"seconds": sorted(times)[len(times) // 2], "excess_risk": risk}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
