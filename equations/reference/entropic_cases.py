"""The reference numbers that tests/entropic_theory.rs hard-codes, printed by the calls that
produce them (numpy, scipy):

    python3 equations/reference/entropic_cases.py

1. `entropic_solution_matches_the_python_reference`: eta, s and the excess risk of 8 specs by
   `entropic_theory.predict` (its own 2-D quadrature over teacher x noise, scipy's Wright omega).
   rfrisk's defaults: d0 = 1000, tanh, norm2 = 1, default start cbar = sqrt(2/pi) r.
2. `infeasible_specs_are_refused_with_the_boundary`: the feasibility boundary delta_c of
   entropic.md (8.3b) for tanh, d0 = 400, d1 = 600, half-normal, r = 1, by bisection of the margin
   tan(pi(1-delta)) - arctan(tan(pi(1-delta))) - pi sigma^2 / (r^2 Q(delta)), Q from the layer chain.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from entropic_theory import gep_coeffs, predict, top_scalars  # noqa: E402

CBAR = math.sqrt(2 / math.pi)
# (label, activation, widths with d0 first, n, prior, cbar, sigma), as the Rust test lists them.
CASES = [
    ("[1500], half-normal, n=600", "tanh", [1000, 1500], 600, "halfnormal", CBAR, 0.0),
    ("[1500], half-normal, noise 0.1, n=600", "tanh", [1000, 1500], 600, "halfnormal", CBAR, 0.1),
    ("[1200, 1500], half-normal, noise 0.1, n=600", "tanh", [1000, 1200, 1500], 600, "halfnormal", CBAR, 0.1),
    ("[1500], gaussian, n=500", "tanh", [1000, 1500], 500, "gaussian", CBAR, 0.0),
    ("[1500], gaussian, noise 0.1, n=375", "tanh", [1000, 1500], 375, "gaussian", CBAR, 0.1),
    ("[1200, 1500], gaussian, n=375", "tanh", [1000, 1200, 1500], 375, "gaussian", CBAR, 0.0),
    ("[1500], half-normal, n=600, cbar=2", "tanh", [1000, 1500], 600, "halfnormal", 2.0, 0.0),
    ("identity [1200, 1500], half-normal, noise 0.3, n=600, cbar=0.5", "identity", [1000, 1200, 1500], 600, "halfnormal", 0.5, 0.3),
]


def boundary(sigma, widths=(400, 600), r=1.0):
    coeffs = gep_coeffs("tanh", len(widths) - 1)

    def margin(delta):
        q = top_scalars(list(widths), coeffs, delta * widths[-1])["Q"]
        t = math.tan(math.pi * (1 - delta))
        return t - math.atan(t) - math.pi * sigma**2 / (r * r * q)

    lo, hi = 0.5 + 1e-9, 1 - 1e-9
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if margin(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


if __name__ == "__main__":
    for label, act, widths, n, prior, cbar, sigma in CASES:
        p = predict("entropic", act, widths, n, prior, 1.0, cbar, sigma)
        print(f"{label}: eta {p['eta']:.12g}  s {p['s']:.12g}  risk {float(p['risk']):.12g}  (residuals {max(abs(p['res'])):.1e})")
    for sigma in (0.1, 0.3, 1.0):
        print(f"boundary, noise {sigma}: delta_c = {boundary(sigma):.6f}")
