"""Independent Python reference for the p-norm mirror maps phi(x) = |x|^q / q, q in (1, inf),
in the general separable-mirror-map system of equations/entropic.md (section 6).

What it computes
    For the deep random-features model with the last layer trained by SMD with the potential
    psi(a) = sum_i phi(sqrt(d_L) a_i) (a positive multiple of ||a||_q^q, so the interpolator is
    the same), it solves the top problem (entropic.md (6.2)) for the prox step eta and the
    effective noise level s,
        (T1)  E P_eta'(chi) = n/d_L,
        (T2)  (n/d_L) s^2 = E (P_eta(chi) - a)^2 + sigma^2 / Q,     Q = n kappa / (d_L - n),
    with chi = a + s G, a the scaled teacher entry (a = sqrt(d_L) a*_i), G ~ N(0,1) independent,
    P_eta(chi) = argmin_x { D_phi(x, c) + (x - chi)^2 / (2 eta) }, c = sqrt(d_L) a_0,i, and
    returns the excess risk (6.3)
        E = Q D + sigma^2 ( n/(d_L kappa A) - d_L/(d_L - n) ),   D = E (P - a)^2.
    The layer chain (kappa, A = -tau_L'(kappa), Q, R) is imported from entropic_theory.py
    (gep_coeffs, top_scalars); everything else (prox, priors, quadrature, top solve) is written
    here, independently of the Rust code (src/solver/*.rs was not read).

The prox
    The optimality condition sgn(P)|P|^{q-1} - sgn(c)|c|^{q-1} + (P - chi)/eta = 0 reads
    phi'(P) + P/eta = t with t = chi/eta + sgn(c)|c|^{q-1}; P has the sign of t, and x = |P|
    solves x^{q-1} + x/eta = |t|.  Bracket: 0 <= x <= x_hi = min(eta|t|, |t|^{1/(q-1)}) (each
    term on the left is nonnegative), and x >= x_hi / 2 (one of the two terms is >= |t|/2).
    q >= 2: h(x) = x^{q-1} + x/eta - |t| is convex increasing in x;
    q <  2: in w = x^{q-1}, k(w) = w + w^m/eta - |t| (m = 1/(q-1) > 1) is convex increasing;
    Newton from the upper end of the bracket therefore decreases monotonically to the root
    (vectorized, about 6 steps; accuracy at rounding level).  `check_prox` compares it with
    scalar bracketed scipy.optimize.brentq on the same bracket.
    P' = 1/(1 + eta (q-1)|P|^{q-2}), evaluated as x^{2-q}/(x^{2-q} + eta(q-1)) for q < 2
    (P' = 0 at P = 0 for q < 2, = 1 for q > 2).  q = 2 is the closed form (chi + eta c)/(1+eta).

The quadrature (2-D, teacher x noise)
    Priors (E a^2 = r^2): 'gaussian' a ~ N(0, r^2); 'sparse:EPS' a = 0 w.p. 1-EPS, a ~ N(0, r^2/EPS)
    w.p. EPS.  The point mass is exact (a 1-D integral over G only).  A Gaussian component is an
    outer composite 16-point Gauss-Legendre rule in x = a/r_c on [-9, 9] (uniform panels of width
    1, plus breakpoints graded geometrically from s/4 up to the panel width around the teacher
    values chi0, chi0 +- eta where the prox bends) times an inner composite 16-point Gauss-Legendre
    rule in G on [-9, 9] (weight exp(-G^2/2)/sqrt(2 pi)): uniform panels of width 1, a breakpoint at
    G0 = (chi0 - a)/s, chi0 = -eta sgn(c)|c|^{q-1} (where P = 0: the kink / cusp of P'), graded
    geometrically towards G0 (2^k, k = -12..0), and graded breakpoints at the soft-threshold knees
    chi0 +- eta (k = -8..0; they matter as q -> 1).  Level `sub` splits every panel (outer and
    inner) into `sub` equal pieces; the reported refinement change is the re-solved solution at
    sub = 2 against sub = 1.  Checked against nested adaptive scipy.integrate.quad with the scalar
    brentq prox at two (eta, s) points (agreement 2e-16).

The top solve
    Residuals F1 = V/delta - 1, F2 = (D + sigma^2/Q)/(delta s^2) - 1 in (log eta, log s);
    scipy.optimize.root (hybr) from the squared map's start eta0 = (1-delta)/delta,
    s0^2 = ((1-delta)^2 r_eff^2 + sigma^2/Q)/(delta(1-delta)) (section 9; section 10.3 of
    entropic.md writes (1-delta) r_eff^2, which is not the squared map's s); if that fails, continuation in q from
    2 (q_k = 2 + (q-2) k/K); then up to 3 Newton steps with a central-difference Jacobian.
"""
import math
import os
import sys

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy import optimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from entropic_theory import gep_coeffs, top_scalars  # noqa: E402  (layer chain only)

EPS = np.finfo(float).eps
_GL = {k: leggauss(k) for k in (16,)}


# ---------------------------------------------------------------- prox
def phi_prime(x, q):
    return np.sign(x) * np.abs(x) ** (q - 1)


def prox(chi, eta, q, c):
    """P_eta(chi) and P'_eta(chi) for phi = |x|^q/q, Bregman divergence from c (vectorized)."""
    chi = np.asarray(chi, dtype=float)
    t = chi / eta + float(phi_prime(c, q))
    sg = np.sign(t)
    at = np.abs(t)
    if q == 2.0:
        x = eta * at / (1 + eta)
        return sg * x, np.full_like(chi, 1 / (1 + eta))
    if q > 2:
        x = np.minimum(eta * at, at ** (1 / (q - 1)))
        for _ in range(100):
            xp = x ** (q - 2)
            h = x * xp + x / eta - at
            step = h / ((q - 1) * xp + 1 / eta)
            step = np.where(x > 0, step, 0.0)
            x = x - step
            if np.all(step <= 4 * EPS * x):
                break
        else:
            raise RuntimeError("prox Newton did not converge")
        x = np.maximum(x, 0.0)
        slope = 1 / (1 + eta * (q - 1) * x ** (q - 2))
        return sg * x, slope
    m = 1 / (q - 1)
    w = np.minimum(at, (eta * at) ** (1 / m))
    for _ in range(100):
        wm1 = w ** (m - 1)
        k = w + w * wm1 / eta - at
        step = k / (1 + m * wm1 / eta)
        step = np.where(w > 0, step, 0.0)
        w = w - step
        if np.all(step <= 4 * EPS * w):
            break
    else:
        raise RuntimeError("prox Newton did not converge")
    w = np.maximum(w, 0.0)
    x = w ** m
    x2q = w ** ((2 - q) * m)  # = x^(2-q)
    slope = x2q / (x2q + eta * (q - 1))
    return sg * x, slope


def prox_brent(chi, eta, q, c):
    """scalar reference: bracketed Brent on the optimality condition itself."""
    t = chi / eta + phi_prime(c, q)
    if t == 0:
        return 0.0
    hi = min(eta * abs(t), abs(t) ** (1 / (q - 1)))
    g = lambda P: phi_prime(P, q) - phi_prime(c, q) + (P - chi) / eta  # noqa: E731
    lo, hi = (0.0, hi) if t > 0 else (-hi, 0.0)
    if g(lo) == 0:
        return lo
    if g(hi) == 0:
        return hi
    return optimize.brentq(g, lo, hi, xtol=1e-300, rtol=4 * EPS, maxiter=500)


def check_prox(qs=(1.1, 1.25, 1.5, 1.75, 2.0, 3.0, 4.0), n=400, seed=1):
    """max relative difference |P_newton - P_brent| / |P| (where |P| > 1e-3 (|chi| + |c|)), and the
    q = 2 closed form."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for q in qs:
        for _ in range(3):
            eta = math.exp(rng.uniform(-5, 4))
            c = rng.choice([0.0, rng.normal(), -0.3])
            chi = rng.normal(size=n) * math.exp(rng.uniform(-6, 3))
            P, _ = prox(chi, eta, q, c)
            Pb = np.array([prox_brent(x, eta, q, c) for x in chi])
            # relative difference where P is not at the cancellation scale of t = chi/eta + phi'(c)
            # (there both roots have optimality residuals at rounding level; P is tiny)
            scale = np.abs(chi) + abs(c) + 1e-300
            ok = np.abs(Pb) > 1e-3 * scale
            rel = np.abs(P - Pb) / np.maximum(np.abs(Pb), 1e-300)
            worst = max(worst, float(np.max(rel[ok])) if np.any(ok) else 0.0)
            if q == 2.0:
                worst = max(worst, float(np.max(np.abs(P - (chi + eta * c) / (1 + eta)) / np.abs(P))))
    return worst


# ---------------------------------------------------------------- priors
def prior_components(prior, r):
    """list of (weight, std): std = 0 is a point mass at 0."""
    if prior == "gaussian":
        return [(1.0, r)]
    if prior.startswith("sparse:"):
        e = float(prior.split(":")[1])
        return [(1 - e, 0.0), (e, r / math.sqrt(e))]
    raise ValueError(prior)


# ---------------------------------------------------------------- quadrature
def _panels(bps, sub):
    t, w = _GL[16]
    bps = np.unique(np.asarray(bps, dtype=float))
    if sub > 1:
        fr = np.arange(sub + 1) / sub
        bps = np.unique((bps[:-1, None] + (bps[1:] - bps[:-1])[:, None] * fr[None, :]).ravel())
    lo, hi = bps[:-1], bps[1:]
    keep = hi - lo > 1e-13 * max(1.0, float(np.max(np.abs(bps))))
    lo, hi = lo[keep], hi[keep]
    x = (0.5 * (hi - lo)[:, None] * t[None, :] + 0.5 * (hi + lo)[:, None]).ravel()
    wx = (0.5 * (hi - lo)[:, None] * w[None, :]).ravel()
    return x, wx


GMAX = 9.0   # |G| <= 9: the Gaussian tail beyond is 2e-19
WUNI = 1.0   # uniform panel width (in G, and in a / r_c) before refinement
KG = -12     # geometric grading towards the P = 0 point: h 2^k, k = KG..0
KK = -8      # grading towards the knees chi0 +- eta


def _graded(center, lo, hi, kmin, width):
    out = []
    for k in range(kmin, 1):
        for sg in (-1, 1):
            v = center + sg * width * 2.0 ** k
            if lo < v < hi:
                out.append(v)
    if lo < center < hi:
        out.append(center)
    return out


def inner_rule(a, s, eta, chi0, sub):
    """nodes/weights in G (standard normal weight included) for teacher value a."""
    bps = list(np.linspace(-GMAX, GMAX, int(round(2 * GMAX / WUNI)) + 1))
    bps += _graded((chi0 - a) / s, -GMAX, GMAX, KG, WUNI)
    for b in (chi0 - eta, chi0 + eta):
        bps += _graded((b - a) / s, -GMAX, GMAX, KK, WUNI)
    g, wg = _panels(bps, sub)
    return g, wg * np.exp(-0.5 * g * g) / math.sqrt(2 * math.pi)


def outer_rule(sd, s, eta, chi0, sub, X=9.0):
    """nodes a and weights (N(0, sd^2) density included) for a Gaussian teacher component."""
    bps = list(np.linspace(-X, X, int(round(2 * X / WUNI)) + 1))
    # I(a) = E_G h(a, a + sG) is smooth on the scale s around the bend points, and for q near 1
    # it behaves like |a - chi0|^{q-1} beyond: grade geometrically from s/4 up to the panel width.
    for b in (chi0, chi0 - eta, chi0 + eta):
        h = s / 4
        while h < WUNI * sd:
            for sg in (-1, 1):
                v = (b + sg * h) / sd
                if -X < v < X:
                    bps.append(v)
            h *= 2
        if -X < b / sd < X:
            bps.append(b / sd)
    x, wx = _panels(bps, sub)
    return sd * x, wx * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def moments(eta, s, q, c, prior, r, sub=1):
    """V = E P'(a + sG), D = E (P(a + sG) - a)^2 by the 2-D rule."""
    chi0 = -eta * float(phi_prime(c, q))
    A_all, W_all, X_all = [], [], []
    for wc, sd in prior_components(prior, r):
        if sd == 0.0:
            avals, wa = np.array([0.0]), np.array([1.0])
        else:
            avals, wa = outer_rule(sd, s, eta, chi0, sub)
        for a, w in zip(avals, wa):
            g, wg = inner_rule(a, s, eta, chi0, sub)
            A_all.append(np.full_like(g, a))
            X_all.append(a + s * g)
            W_all.append(wc * w * wg)
    A = np.concatenate(A_all)
    chi = np.concatenate(X_all)
    W = np.concatenate(W_all)
    P, dP = prox(chi, eta, q, c)
    e = P - A
    return float(np.sum(W * dP)), float(np.sum(W * e * e)), W.size


# ---------------------------------------------------------------- top solve
def layer_scalars(widths, n, act="tanh"):
    coeffs = gep_coeffs(act, len(widths) - 1)
    ts = top_scalars(list(widths), coeffs, n)
    dL = widths[-1]
    kappa, A = ts["kappa"], -ts["dtauL"]
    Q = n * kappa / (dL - n)
    noise_gain = n / (dL * kappa * A) - dL / (dL - n)
    return dict(Q=Q, kappa=kappa, A=A, noise_gain=noise_gain, R=ts["R"], Qchain=ts["Q"], delta=n / dL)


def solve_top(q, c, prior, r, sigma, delta, Q, sub=1, start=None, tol=1e-14):
    s2 = sigma * sigma / Q

    def F(v):
        eta, s = np.exp(v)
        V, D, _ = moments(eta, s, q, c, prior, r, sub)
        return np.array([V / delta - 1, (D + s2) / (delta * s * s) - 1])

    reff2 = r * r + c * c  # both priors have mean 0
    if start is None:
        eta0 = (1 - delta) / delta
        s0 = math.sqrt(((1 - delta) ** 2 * reff2 + s2) / (delta * (1 - delta)))  # entropic.md section 9
        start = (eta0, s0)
    v = np.log(np.asarray(start, dtype=float))
    sol = optimize.root(F, v, method="hybr", options=dict(xtol=tol))
    v = sol.x
    Fv = F(v)
    for _ in range(3):
        if np.max(np.abs(Fv)) < 1e-15:
            break
        J = np.zeros((2, 2))
        h = 1e-6
        for j in range(2):
            dv = np.zeros(2)
            dv[j] = h
            J[:, j] = (F(v + dv) - F(v - dv)) / (2 * h)
        vn = v - np.linalg.solve(J, Fv)
        Fn = F(vn)
        if np.max(np.abs(Fn)) < np.max(np.abs(Fv)):
            v, Fv = vn, Fn
        else:
            break
    eta, s = np.exp(v)
    return eta, s, Fv


def predict(widths, n, q, prior="gaussian", r=1.0, sigma=0.0, init=0.0, act="tanh", sub=1, start=None,
            continuation=False):
    """widths with d0 first, e.g. [1000, 1500]; init = a_0,i (c = sqrt(d_L) init)."""
    ls = layer_scalars(widths, n, act)
    delta, Q = ls["delta"], ls["Q"]
    c = math.sqrt(widths[-1]) * init
    if continuation:
        st = start
        K = 8
        for k in range(1, K + 1):
            qk = 2 + (q - 2) * k / K
            eta, s, Fv = solve_top(qk, c, prior, r, sigma, delta, Q, sub, st)
            st = (eta, s)
    else:
        eta, s, Fv = solve_top(q, c, prior, r, sigma, delta, Q, sub, start)
        if not np.max(np.abs(Fv)) < 1e-12:
            return predict(widths, n, q, prior, r, sigma, init, act, sub, start, continuation=True)
    V, D, nodes = moments(eta, s, q, c, prior, r, sub)
    risk = Q * D + sigma**2 * ls["noise_gain"]
    risk_QR = Q * D + sigma**2 * (ls["Qchain"] / ls["R"] - 1)  # (4.5) form, a consistency check
    out = dict(ls)
    out.update(eta=eta, s=s, D=D, V=V, risk=risk, risk_QR=risk_QR, res=Fv, c=c, nodes=nodes, continued=continuation)
    return out
