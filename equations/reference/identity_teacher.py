#!/usr/bin/env python3
"""Independent closed forms for linear random features with a linear teacher.

Model (see identity_teacher.md for the derivation):
    x ~ N(0, I_d0),  phi = W x,  W in R^{p x d0} with iid N(0, 1/d0) entries,
    y = beta^T x + sigma * eps,  beta iid N(0, r2/d0),  eps ~ N(0, 1),
    a_hat = argmin (1/n)||y - Phi a||^2 + lam ||a||^2   (lam = 0: pseudo-inverse,
            i.e. min-norm interpolator / least squares),
    R = ||W^T a_hat - beta||^2 = E_x (a_hat^T W x - beta^T x)^2.

Ratios: alpha = n/d0, gamma = p/d0.

lam > 0: let u be the smallest positive root of the cubic
    F(u) = (1-u)(1-gamma u)(alpha - gamma u) - alpha lam u
         = -gamma^2 u^3 + gamma(alpha+1+gamma) u^2 - (alpha(1+gamma)+gamma+alpha lam) u + alpha,
(it is the unique root in (0, u_max), u_max = min(1, 1/gamma, alpha/gamma)); put
    a = 1-u,  b = 1-gamma u,  c = 1-gamma u/alpha   (all > 0),
    R = [alpha r2 b^2 + sigma2 gamma u^2 (b + gamma a)] / (alpha [a b + u c (b + gamma a)]).

lam = 0, m = min(gamma, 1):
    alpha > m:  R = [r2 (1-m) alpha + sigma2 m] / (alpha - m)
    alpha < m:  R = r2 (1-alpha) gamma/(gamma-alpha) + sigma2 [alpha/(1-alpha) + alpha/(gamma-alpha)]
    alpha = m:  +inf (unless the effective noise vanishes).

Approximation error (best linear predictor in phi): r2 * max(0, 1 - gamma).

Run:  python3 identity_teacher.py [--d0 400] [--draws 24] [--seed 1]
"""
import argparse
import math
import sys

import numpy as np


# --------------------------------------------------------------------------
# closed forms (float)
# --------------------------------------------------------------------------

def approximation_error(gamma, r2):
    return r2 * max(0.0, 1.0 - gamma)


def solve_u(alpha, gamma, lam):
    """Unique root of F on (0, u_max); safeguarded Newton, F strictly decreasing there."""
    umax = min(1.0, 1.0 / gamma, alpha / gamma)

    def F(u):
        return (1 - u) * (1 - gamma * u) * (alpha - gamma * u) - alpha * lam * u

    def dF(u):
        A, B, C = 1 - u, 1 - gamma * u, alpha - gamma * u
        return -B * C - gamma * A * C - gamma * A * B - alpha * lam

    lo, hi = 0.0, umax
    u = 0.5 * umax
    for _ in range(200):
        f = F(u)
        if f > 0:
            lo = u
        else:
            hi = u
        un = u - f / dF(u)
        if not (lo < un < hi):
            un = 0.5 * (lo + hi)
        if abs(un - u) <= 1e-17 * max(1.0, u) or hi - lo <= 1e-18:
            u = un
            break
        u = un
    return u


def excess_risk(alpha, gamma, lam, r2, sigma2):
    if alpha <= 0 or gamma <= 0:
        return r2
    if lam > 0:
        u = solve_u(alpha, gamma, lam)
        a, b, c = 1 - u, 1 - gamma * u, 1 - gamma * u / alpha
        num = alpha * r2 * b * b + sigma2 * gamma * u * u * (b + gamma * a)
        den = alpha * (a * b + u * c * (b + gamma * a))
        return num / den
    m = min(gamma, 1.0)
    if alpha > m:
        return (r2 * (1 - m) * alpha + sigma2 * m) / (alpha - m)
    if alpha < m:
        return (r2 * (1 - alpha) * gamma / (gamma - alpha)
                + sigma2 * (alpha / (1 - alpha) + alpha / (gamma - alpha)))
    return math.inf


def exact_ls_finite(n, p, d0, r2, sigma2):
    """Exact finite-sample E R for lam = 0 and min(p, d0) < n - 1 (Wishart inverse moments)."""
    if p < d0:
        A = r2 * (d0 - p) / d0          # E ||(I-P) beta||^2
        return A + (sigma2 + A) * p / (n - p - 1)
    return sigma2 * d0 / (n - d0 - 1)   # W^T a_hat = X^+ y exactly


# --------------------------------------------------------------------------
# high-precision version (mpmath), used to produce reference values for Rust
# --------------------------------------------------------------------------

def excess_risk_mp(alpha, gamma, lam, r2, sigma2, dps=50):
    import mpmath as mp
    mp.mp.dps = dps
    # exact binary values of the float inputs (decimal strings would shift near-threshold points)
    al, ga, la, r2, s2 = (mp.mpf(float(v)) for v in (alpha, gamma, lam, r2, sigma2))
    if la > 0:
        # F(u) coefficients, highest degree first
        coeffs = [-ga**2, ga * (al + 1 + ga), -(al * (1 + ga) + ga + al * la), al]
        roots = mp.polyroots(coeffs, maxsteps=500, extraprec=200)
        umax = min(mp.mpf(1), 1 / ga, al / ga)
        cand = [mp.re(z) for z in roots if abs(mp.im(z)) < mp.mpf(10) ** (-dps + 10)
                and 0 < mp.re(z) < umax]
        assert len(cand) == 1, (alpha, gamma, lam, roots)
        u = cand[0]
        a, b, c = 1 - u, 1 - ga * u, 1 - ga * u / al
        return (al * r2 * b * b + s2 * ga * u * u * (b + ga * a)) / (al * (a * b + u * c * (b + ga * a)))
    m = min(ga, mp.mpf(1))
    if al > m:
        return (r2 * (1 - m) * al + s2 * m) / (al - m)
    return r2 * (1 - al) * ga / (ga - al) + s2 * (al / (1 - al) + al / (ga - al))


# --------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------

def mc_one(rng, n, p, d0, lam, r2, sigma2):
    """One draw of (W, X).  Returns (R sampled with one (beta, eps), R averaged
    analytically over (beta, eps) given (W, X), approximation error for the sampled beta)."""
    W = rng.standard_normal((p, d0)) / math.sqrt(d0)
    X = rng.standard_normal((n, d0))
    beta = rng.standard_normal(d0) * math.sqrt(r2 / d0)
    y = X @ beta + math.sqrt(sigma2) * rng.standard_normal(n)
    Phi = X @ W.T
    # a_hat = L y with L the (p x n) linear estimator map
    if lam > 0:
        if p <= n:
            L = np.linalg.solve(Phi.T @ Phi + n * lam * np.eye(p), Phi.T)
        else:
            L = Phi.T @ np.linalg.inv(Phi @ Phi.T + n * lam * np.eye(n))
    else:
        L = np.linalg.pinv(Phi)                     # min-norm least squares
    WL = W.T @ L                                    # d0 x n
    risk_sample = float(np.sum((WL @ y - beta) ** 2))
    # E_{beta,eps} ||(W^T L X - I) beta + sigma W^T L eps||^2
    E = WL @ X
    E[np.diag_indices(d0)] -= 1.0
    risk_avg = r2 / d0 * float(np.sum(E * E)) + sigma2 * float(np.sum(WL * WL))
    # best linear predictor in phi: min_a ||W^T a - beta||^2
    ab = np.linalg.lstsq(W.T, beta, rcond=None)[0]
    approx = float(np.sum((W.T @ ab - beta) ** 2))
    return risk_sample, risk_avg, approx


POINTS = [
    # alpha=n/d0, gamma=p/d0, lam, r2, sigma2, regime
    (2.0, 0.5, 0.0, 1.0, 0.25, "LS, p<d0<n (misspec.)"),
    (1.5, 0.8, 0.0, 2.0, 0.50, "LS, p<d0<n (misspec.)"),
    (3.0, 2.0, 0.0, 1.0, 0.25, "pinv, d0<p<n"),
    (2.0, 3.0, 0.0, 1.0, 0.25, "pinv, d0<n<p"),
    (0.5, 2.0, 0.0, 1.0, 0.25, "min-norm, n<d0<p"),
    (0.3, 0.6, 0.0, 1.0, 0.25, "min-norm, n<p<d0"),
    (0.5, 2.0, 1e-3, 1.0, 0.25, "ridge, n<d0<p"),
    (0.4, 0.8, 1e-3, 1.0, 0.25, "ridge, n<p<d0"),
    (1.5, 0.5, 1e-3, 1.0, 0.25, "ridge, p<d0<n"),
    (1.5, 0.5, 0.1, 1.0, 0.25, "ridge, p<d0<n"),
    (1.2, 1.0, 0.1, 1.0, 0.25, "ridge, p=d0<n"),
    (2.0, 4.0, 0.1, 1.0, 0.25, "ridge, d0<n<p"),
    (0.7, 1.5, 1.0, 1.0, 0.25, "ridge, n<d0<p"),
    (0.8, 0.4, 1.0, 2.0, 0.50, "ridge, p<n<d0"),
    (3.0, 1.5, 0.1, 1.0, 0.25, "ridge, d0<p<n"),
]

REFERENCE = [  # values to cross-check the Rust module against (r2=1, sigma2=0.25)
    (2.0, 0.5, 0.0), (0.5, 2.0, 0.0), (0.3, 0.6, 0.0), (2.0, 3.0, 0.0),
    (0.5, 2.0, 1e-3), (0.4, 0.8, 1e-3), (1.5, 0.5, 0.1), (1.2, 1.0, 0.1),
    (0.7, 1.5, 1.0), (2.0, 4.0, 0.1), (3.0, 1.5, 0.1), (0.8, 0.4, 1.0),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d0", type=int, default=400)
    ap.add_argument("--draws", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reference-only", action="store_true")
    ap.add_argument("--finite-size", action="store_true",
                    help="also run a d0 = 200/400/800 sweep at a few points and extrapolate in 1/d0")
    args = ap.parse_args()

    print("# high-precision reference values (mpmath, 50 digits) vs float closed form")
    print(f"{'n/d0':>6} {'p/d0':>6} {'lam':>7} {'R (mpmath)':>24} {'float rel.err':>14}")
    for al, ga, la in REFERENCE:
        ref = excess_risk_mp(al, ga, la, 1.0, 0.25)
        fl = excess_risk(al, ga, la, 1.0, 0.25)
        print(f"{al:6.2f} {ga:6.2f} {la:7.0e} {float(ref):24.17e} {abs(fl - float(ref)) / float(ref):14.2e}")
    # lam -> 0+ of the ridge formula reproduces the lam = 0 formulas
    print("# lam -> 0+ continuity (ridge formula at lam=1e-10 vs lam=0 formula)")
    for al, ga, *_ in POINTS:
        r0 = excess_risk(al, ga, 0.0, 1.0, 0.25)
        r1 = excess_risk(al, ga, 1e-10, 1.0, 0.25)
        print(f"  alpha={al:4.2f} gamma={ga:4.2f}: lam=0 {r0:.12f}  lam=1e-10 {r1:.12f}  diff {abs(r1 - r0):.1e}")
    if args.reference_only:
        return

    rng = np.random.default_rng(args.seed)
    d0 = args.d0
    print(f"\n# Monte Carlo: d0={d0}, {args.draws} draws per point; mean +- standard error")
    hdr = (f"{'n/d0':>5} {'p/d0':>5} {'lam':>6} {'r2':>4} {'s2':>5} {'theory R':>10} "
           f"{'MC R(b,e avg)':>13} {'+-se':>8} {'z':>6} {'MC R(sampled)':>13} {'+-se':>7} "
           f"{'exactFS':>8} {'A theory':>8} {'A MC':>7}  regime")
    print(hdr)
    worst = 0.0
    for al, ga, la, r2, s2, regime in POINTS:
        n, p = int(round(al * d0)), int(round(ga * d0))
        th = excess_risk(n / d0, p / d0, la, r2, s2)
        vals = np.array([mc_one(rng, n, p, d0, la, r2, s2) for _ in range(args.draws)])
        mean = vals.mean(axis=0)
        se = vals.std(axis=0, ddof=1) / math.sqrt(args.draws)
        fs = ""
        if la == 0 and min(p, d0) < n - 1:
            fs = f"{exact_ls_finite(n, p, d0, r2, s2):8.4f}"
        z = (mean[1] - th) / se[1]
        worst = max(worst, abs(mean[1] - th) / th)
        print(f"{n / d0:5.2f} {p / d0:5.2f} {la:6.0e} {r2:4.1f} {s2:5.2f} {th:10.5f} "
              f"{mean[1]:13.5f} {se[1]:8.5f} {z:6.2f} {mean[0]:13.5f} {se[0]:7.4f} "
              f"{fs:>8} {approximation_error(p / d0, r2):8.4f} {mean[2]:7.4f}  {regime}")
        sys.stdout.flush()
    print(f"# max relative deviation |MC(beta,eps-averaged) - theory|/theory = {worst:.3%}")
    if args.finite_size:
        finite_size(rng, args.draws)


FS_POINTS = [(0.4, 0.8, 1e-3), (1.2, 1.0, 0.1), (0.7, 1.5, 1.0), (0.5, 2.0, 1e-3), (0.5, 2.0, 0.0)]


def finite_size(rng, draws):
    """The MC - theory gaps above are O(1/d0): check by a d0 sweep and a linear
    extrapolation in 1/d0 (R_inf ~ 2 R(2 d0) - R(d0))."""
    print(f"\n# finite-size sweep (r2=1, sigma2=0.25), beta/eps-averaged MC, {draws} draws")
    print(f"{'n/d0':>5} {'p/d0':>5} {'lam':>6} {'theory':>9} {'d0=200':>9} {'d0=400':>9} {'d0=800':>9} "
          f"{'extrap.':>9} {'+-se':>8} {'rel.gap extrap.':>15}")
    for al, ga, la in FS_POINTS:
        th = excess_risk(al, ga, la, 1.0, 0.25)
        ms, ses = [], []
        for d0 in (200, 400, 800):
            n, p = int(round(al * d0)), int(round(ga * d0))
            v = np.array([mc_one(rng, n, p, d0, la, 1.0, 0.25)[1] for _ in range(draws)])
            ms.append(v.mean())
            ses.append(v.std(ddof=1) / math.sqrt(draws))
        ex = 2 * ms[2] - ms[1]
        exse = math.sqrt(4 * ses[2] ** 2 + ses[1] ** 2)
        print(f"{al:5.2f} {ga:5.2f} {la:6.0e} {th:9.5f} {ms[0]:9.5f} {ms[1]:9.5f} {ms[2]:9.5f} "
              f"{ex:9.5f} {exse:8.5f} {(ex - th) / th:15.2e}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
