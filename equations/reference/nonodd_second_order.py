"""What Gaussian equivalence leaves out with a mean part from two layers on (nonodd.md §7a).

ReLU, L = 2, Gaussian weights and inputs, a half-normal teacher on the last layer, the squared map.
For one draw of the weights this script computes three second moments of the last layer's features:

  GE      the realized per-unit Gaussian-equivalent one (offsets b = W2 m1 coupled to W2 as in
          the model, the mean spike included): what rfrisk's theory is the limit of;
  real    the real features' one, by Monte Carlo over N inputs;
  GE + Δ  GE plus the second-order correction Δ of nonodd.md (7a), in closed form from the
          layer-1 Hermite coefficients and the drawn weights (no Monte Carlo);

and the ridgeless deterministic equivalent of each (the teacher's energy on every eigenvector,
its mean part along 1 included). The real model's simulated risk sits on the second, not the first.

    python3 nonodd_second_order.py D0 WIDTH N_TRAIN MC_SAMPLES SEED

d0 = 400, widths 1000, n = 300, 2e6 samples, seeds 1-5 printed (nonodd.md §7a), half-normal teacher:
GE -> real -2.09, -2.15, -2.20, -2.59, -2.30 %; GE -> GE + Δ -1.81, -1.97, -1.90, -2.35, -2.07 %;
a Gaussian teacher: real -0.33 % to -0.36 %, GE + Δ -0.01 %. Needs numpy and scipy; about a
minute per seed at 2e6 samples on two cores.
"""
import sys

import numpy as np
from scipy.integrate import quad
from scipy.stats import norm

NOISE = 0.1


def relu_moments(b, v):
    """Mean, variance, rho1 = E sigma'(b + z) and e2 = E sigma''(b + z) of ReLU, z ~ N(0, v)."""
    s = np.sqrt(v)
    t = b / s
    mean = b * norm.cdf(t) + s * norm.pdf(t)
    second = (b * b + v) * norm.cdf(t) + b * s * norm.pdf(t)
    return mean, second - mean * mean, norm.cdf(t), norm.pdf(t) / s


def gaussian_equivalent(w1, w2):
    """The realized per-unit GE second moment of layer 2 and its pieces (model.md §3, nonodd.md §1)."""
    d1, d0 = w1.shape
    mean1, var1, rho11, _ = relu_moments(np.zeros(d1), np.sum(w1 * w1, axis=1))
    sigma1 = np.outer(rho11, rho11) * (w1 @ w1.T)
    np.fill_diagonal(sigma1, var1)
    offsets = w2 @ mean1
    variances = np.einsum("ij,jk,ik->i", w2, sigma1, w2)
    mean2, var2, rho1, e2 = relu_moments(offsets, variances)
    sigma2 = np.outer(rho1, rho1) * (w2 @ sigma1 @ w2.T)
    np.fill_diagonal(sigma2, var2)
    return sigma2 + np.outer(mean2, mean2), offsets, rho1, e2


def real_second_moment(w1, w2, samples, seed, chunk=20000):
    """The real features' second moment, by Monte Carlo (float32 products, float64 sums)."""
    rng = np.random.default_rng(seed)
    a, b = w1.astype(np.float32), w2.astype(np.float32)
    acc = np.zeros((w2.shape[0],) * 2)
    for _ in range(samples // chunk):
        x = rng.standard_normal((chunk, w1.shape[1]), dtype=np.float32)
        h = np.maximum(np.maximum(x @ a.T, 0) @ b.T, 0)
        acc += (h.T @ h).astype(np.float64)
    return acc / (samples // chunk * chunk)


def expect(h):
    """E h(z), z ~ N(0, 1), split at ReLU's kink."""
    return sum(quad(lambda z: h(z) * norm.pdf(z), lo, hi, limit=200)[0] for lo, hi in [(-12, 0), (0, 12)])


def second_order_correction(w1, w2, rho1, e2):
    """Δ of nonodd.md (7a): the second Hermite terms that Gaussian equivalence drops.

    Layer 1: its own term along 1 from Var |x|^2 / d0^2 = 2 / d0, carried up by D1 W2.
    Layer 2: the cross term from tau = E[phi1~ |phi1~|^2] / d1 and the square term from
    V = Var(|phi1~|^2 / d1), both of the real layer-1 features, by their Hermite coefficients
    and the drawn Gram matrix (unit variances taken as 1)."""
    d1, d0 = w1.shape
    relu = lambda z: max(z, 0.0)
    mu = expect(relu)
    var = expect(lambda z: (relu(z) - mu) ** 2)
    f = lambda z: (relu(z) - mu) ** 2  # the centred square, whose sum is |phi1~|^2
    var_f = expect(lambda z: f(z) ** 2) - var ** 2
    a1, a2 = expect(lambda z: z * relu(z)), expect(lambda z: (z * z - 1) * relu(z))
    b1, b2 = expect(lambda z: z * f(z)), expect(lambda z: (z * z - 1) * f(z))
    k3 = expect(lambda z: (relu(z) - mu) ** 3)
    gram = w1 @ w1.T
    off = gram - np.diag(np.diag(gram))  # correlations of distinct layer-1 units
    v_norm = (d1 * var_f + b1 ** 2 * off.sum() + 0.5 * b2 ** 2 * (off ** 2).sum()) / d1 ** 2
    tau = (k3 + a1 * b1 * off.sum(axis=1) + 0.5 * a2 * b2 * (off ** 2).sum(axis=1)) / d1
    carried = rho1 * (w2 @ np.ones(d1))
    layer1 = (a2 ** 2 / (2 * d0)) * np.outer(carried, carried)
    cross_dir = rho1 * (w2 @ tau)
    cross = 0.5 * (np.outer(cross_dir, e2) + np.outer(e2, cross_dir))
    square = 0.25 * v_norm * np.outer(e2, e2)
    return layer1 + cross + square


def ridgeless_risk(second, n, prior_mean, prior_var):
    """The deterministic equivalent of the minimum-norm interpolator's excess risk, with the
    teacher's energy on eigenvector k equal to Var a*_i + (E a*_i)^2 (1^T u_k)^2."""
    lam, vecs = np.linalg.eigh(second)
    lam = np.maximum(lam, 0.0)
    energy = prior_var + prior_mean ** 2 * vecs.sum(axis=0) ** 2
    lo, hi = 1e-14, 10 * lam.max()
    for _ in range(200):  # kappa: sum lam / (lam + kappa) = n, by bisection in log kappa
        kappa = np.sqrt(lo * hi)
        lo, hi = (kappa, hi) if (lam / (lam + kappa)).sum() > n else (lo, kappa)
    df2 = ((lam / (lam + kappa)) ** 2).sum()
    bias = kappa ** 2 * (energy * lam / (lam + kappa) ** 2).sum()
    return (bias + NOISE ** 2 * df2 / n) / (1 - df2 / n)


def main():
    d0, width, n, samples, seed = (int(float(a)) for a in sys.argv[1:6])
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((width, d0)) / np.sqrt(d0)
    w2 = rng.standard_normal((width, width)) / np.sqrt(width)
    ge, _, rho1, e2 = gaussian_equivalent(w1, w2)
    real = real_second_moment(w1, w2, samples, seed + 10 ** 6)
    corrected = ge + second_order_correction(w1, w2, rho1, e2)
    prior_mean = np.sqrt(2 / (np.pi * width))  # half-normal, E||a*||^2 = 1
    prior_var = 1 / width - prior_mean ** 2
    risks = {name: ridgeless_risk(s, n, prior_mean, prior_var) for name, s in [("GE", ge), ("real", real), ("GE+Δ", corrected)]}
    centred = {name: ridgeless_risk(s, n, 0.0, 1 / width) for name, s in [("GE", ge), ("real", real), ("GE+Δ", corrected)]}
    print(f"d0 = {d0}, widths {width}, n = {n}, seed {seed}, {samples:.0e} samples")
    for label, r in [("half-normal teacher", risks), ("Gaussian teacher", centred)]:
        print(f"  {label:20} GE {r['GE']:.6f}   real {r['real']:.6f} ({r['real'] / r['GE'] - 1:+.2%})"
              f"   GE + Δ {r['GE+Δ']:.6f} ({r['GE+Δ'] / r['GE'] - 1:+.2%})")


if __name__ == "__main__":
    main()
