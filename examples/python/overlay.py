"""Theory against simulation: a 200-point sweep of the sample count n and a small
simulation (Gaussian and one-bit hidden weights, mean ± standard error over trials),
drawn with matplotlib into overlay.png beside this file.

    pip install ./python matplotlib
    python examples/python/overlay.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a file, no window
import matplotlib.pyplot as plt
import numpy as np

import rfrisk

HERE = Path(__file__).resolve().parent
# The README's example spec at a smaller width, so that the trials take about a minute.
SPEC = HERE.parent / "tanh-depth2.toml"
SMALLER = {"data.dim": 400, "features.widths": [800, 800]}
TRIALS = 10

theory = rfrisk.sweep(SPEC, "training.samples", np.linspace(8, 1600, 200).round().astype(int), **SMALLER)
# NaN marks the points the theory refuses (n = d_L with noise: an infinite risk).
refused = theory["status"] != "ok"
for n, why in zip(theory["training.samples"][refused], theory["status"][refused]):
    print(f"theory refuses n = {n}: {why}")

fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
ax.plot(theory["training.samples"], theory["excess_risk"], color="black", lw=1.5, label="theory (rfrisk.sweep)")
markers = {"gaussian": ("o", "tab:blue"), "onebit": ("s", "tab:orange")}
for i, n in enumerate([100, 250, 400, 550, 1100, 1400]):
    rows = rfrisk.simulate(SPEC, TRIALS, n_test=2000, seed=1, backend="cpu", **SMALLER, **{"training.samples": n})
    for law, (marker, color) in markers.items():
        risks = np.array([r["excess_risk"] for r in rows if r["weights"] == law])
        mean, stderr = risks.mean(), risks.std(ddof=1) / np.sqrt(len(risks))
        # A small offset in n keeps the two laws' error bars apart.
        ax.errorbar(n * (0.985 if law == "gaussian" else 1.015), mean, yerr=stderr, fmt=marker, color=color, mfc="none", ms=5, capsize=4, elinewidth=1.5,
                    label=f"{law} weights, mean ± s.e. of {TRIALS} trials" if i == 0 else None)
        print(f"n = {n:5d}  {law:8s}  {mean:.4f} ± {stderr:.4f}   theory {rfrisk.predict(SPEC, **SMALLER, **{'training.samples': n})['excess_risk']:.4f}")

ax.axvline(800, color="grey", ls=":", lw=1)
ax.text(810, 0.02, "n = d_L", color="grey", fontsize=8)
ax.set_yscale("log")
ax.set_xlabel("training samples n")
ax.set_ylabel("excess risk")
ax.set_title("tanh, L = 2, d0 = 400, widths 800 × 2, noise 0.1: theory against trials", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
fig.savefig(HERE / "overlay.png")
print(f"wrote {HERE / 'overlay.png'}")
