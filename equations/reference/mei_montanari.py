#!/usr/bin/env python3
"""Independent reference for the Mei--Montanari random-features ridge risk.

Reference: S. Mei, A. Montanari, "The generalization error of random features
regression: precise asymptotics and double descent curve", arXiv:1908.05355,
Comm. Pure Appl. Math. 75 (2022).  Theorem 1 (asymptotic risk, lambda > 0;
the definitions of nu1, nu2, chi, E0, E1, E2, B, V) and the ridgeless-limit
theorem (Theorem 3 in the arXiv numbering as recalled; lambda -> 0+, closed
form of chi).  The paper text could not be retrieved in the environment where
this was written, so route (A) is the theorem as recalled; it is validated to
~1e-15 by the independent route (B) and by Monte Carlo below.

Two INDEPENDENT routes are implemented and must agree to ~1e-12:

  (A) ``mm_excess_risk``: MM Theorem 1 / Theorem 3 (formula of the paper).
  (B) ``ge_excess_risk``: a derivation done here from scratch: Gaussian
      equivalence  sigma(Wx) -> mu1 W x + mu_star z  conditionally on W, which
      turns RF ridge into anisotropic Gaussian-design ridge regression with
      covariance Sigma = mu1^2 W W^T + mu_star^2 I, true coefficient
      a* = mu1 Sigma^{-1} W beta and an extra independent "misspecification"
      noise; the standard ridge deterministic equivalent
          lam = kappa (1 - df1(kappa)/n),
          df_k = tr Sigma^k (Sigma + kappa)^{-k},
          R = kappa^2 a*^T Sigma (Sigma+kappa)^{-2} a* / (1 - df2/n)
              + s_eff^2 df2/(n - df2) + E e^2
      is then evaluated in closed form with the Marchenko--Pastur Stieltjes
      transform of W W^T (ratio psi1).

Conventions (ours -> MM):
  x ~ N(0, I_d0)                <->  x ~ Unif(S^{d-1}(sqrt d))
  <w_i, x>, w_i ~ N(0, I/d0)    <->  <theta_a, x>/sqrt(d)
  f(x) = sum_i a_i sigma(<w_i,x>)  (same, no 1/sqrt(N))
  (1/n)||y - Phi a||^2 + lam ||a||^2  <->  MM penalty (N lambda_MM / d)||a||^2
        => lambda_MM = lam d0 / N = lam / psi1,  lambda_bar = lambda_MM / mu_star^2
  F1^2 = ||beta||^2, tau^2 = noise variance, F_star = 0, mu0 = 0.
  R = E_x (f_hat(x) - beta^T x)^2  (excess risk; test error = R + tau^2).

Usage:  python3 mei_montanari.py [d0 [seeds [ntest]]]   (formula table + Monte Carlo)
        python3 mei_montanari.py --formula  (formula values only)
"""
import sys
import numpy as np
from numpy.polynomial.hermite_e import hermegauss


# --------------------------------------------------------------------------
# activation coefficients
# --------------------------------------------------------------------------
def activation_coeffs(sigma, nodes=200):
    x, w = hermegauss(nodes)
    w = w / np.sqrt(2.0 * np.pi)
    s = sigma(x)
    mu0 = np.sum(w * s)
    mu1 = np.sum(w * x * s)
    # mu_star^2 = E[sigma^2] - mu0^2 - mu1^2 = E[(sigma - mu0 - mu1 G)^2] (no cancellation)
    mustar = np.sqrt(np.sum(w * (s - mu0 - mu1 * x) ** 2))
    return mu0, mu1, mustar


# --------------------------------------------------------------------------
# (A) Mei--Montanari Theorem 1 / 3
# --------------------------------------------------------------------------
def _solve_t(y, psi1, psi2, zeta2):
    """nu1 = i a, nu2 = i b on xi = i y (y > 0); t = a b = -chi.

    From MM's fixed point  nu1 = psi1 (-xi - nu2 - zeta^2 nu2/(1 - zeta^2 nu1 nu2))^{-1}
    (and 1<->2) with purely imaginary xi, nu1, nu2:
        a y + h(t) = psi1,  b y + h(t) = psi2,  h(t) = t (1 + zeta^2/(1 + zeta^2 t)),
    hence the scalar equation  y^2 t = (psi1 - h)(psi2 - h),  0 <= h(t) < min(psi).
    LHS increasing, RHS decreasing on that interval -> unique root (bisection).
    """
    psi = min(psi1, psi2)
    h = lambda t: t * (1.0 + zeta2 / (1.0 + zeta2 * t))
    # t_max: h(t_max) = psi (positive root of a quadratic)
    bq = 1.0 + zeta2 - psi * zeta2
    disc = np.sqrt(bq * bq + 4 * zeta2 * psi)
    tmax = 2 * psi / (bq + disc) if bq > 0 else (disc - bq) / (2 * zeta2)
    if y == 0.0:
        return tmax
    g = lambda t: y * y * t - (psi1 - h(t)) * (psi2 - h(t))
    lo, hi = 0.0, tmax
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if g(mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-17 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def mm_chi(psi1, psi2, lam_bar, zeta2):
    y = np.sqrt(psi1 * psi2 * lam_bar)
    return -_solve_t(y, psi1, psi2, zeta2)


def mm_nu_complex(xi, psi1, psi2, zeta2, y_start=50.0, steps=400, iters=20000):
    """Brute-force check of the branch: solve MM's complex fixed point by damped
    iteration, continuing from xi_0 = Re(xi) + i*y_start (where the iteration is a
    contraction and nu ~ -psi/xi) down to xi along a straight path."""
    nu1, nu2 = -psi1 / (1j * y_start), -psi2 / (1j * y_start)
    path = [complex(xi.real, y_start + (xi.imag - y_start) * k / steps) for k in range(steps + 1)]
    for x in path:
        for _ in range(iters):
            d = 1 - zeta2 * nu1 * nu2
            n1 = psi1 / (-x - nu2 - zeta2 * nu2 / d)
            n2 = psi2 / (-x - nu1 - zeta2 * nu1 / d)
            err = abs(n1 - nu1) + abs(n2 - nu2)
            nu1, nu2 = 0.5 * nu1 + 0.5 * n1, 0.5 * nu2 + 0.5 * n2
            if err < 1e-15:
                break
    return nu1, nu2


def mm_BV(chi, psi1, psi2, zeta2):
    z2, z4, z6 = zeta2, zeta2 ** 2, zeta2 ** 3
    p = psi1 * psi2
    E0 = (-chi ** 5 * z6 + 3 * chi ** 4 * z4 + (p - psi2 - psi1 + 1) * chi ** 3 * z6
          - 2 * chi ** 3 * z4 - 3 * chi ** 3 * z2 + (psi1 + psi2 - 3 * p + 1) * chi ** 2 * z4
          + 2 * chi ** 2 * z2 + chi ** 2 + 3 * p * chi * z2 - p)
    E1 = psi2 * chi ** 3 * z4 - psi2 * chi ** 2 * z2 + p * chi * z2 - p
    E2 = (chi ** 5 * z6 - 3 * chi ** 4 * z4 + (psi1 - 1) * chi ** 3 * z6 + 2 * chi ** 3 * z4
          + 3 * chi ** 3 * z2 + (-psi1 - 1) * chi ** 2 * z4 - 2 * chi ** 2 * z2 - chi ** 2)
    return E1 / E0, E2 / E0


def mm_excess_risk(mu1, mustar, psi1, psi2, lam, f1sq, tau2):
    zeta2 = (mu1 / mustar) ** 2
    lam_mm = lam / psi1              # our lam -> MM lambda
    lam_bar = lam_mm / mustar ** 2
    chi = mm_chi(psi1, psi2, lam_bar, zeta2)
    B, V = mm_BV(chi, psi1, psi2, zeta2)
    return f1sq * B + tau2 * V


# --------------------------------------------------------------------------
# (B) Gaussian-equivalent anisotropic ridge + Marchenko--Pastur
# --------------------------------------------------------------------------
def _mp_m(z, g):
    """Stieltjes m(z) = int dmu(a)/(a - z) of W W^T (ratio g = N/d0), z < 0.
    Root of g z m^2 + (z + g - 1) m + 1 = 0 that is positive."""
    A, Bq, C = g * z, z + g - 1.0, 1.0
    disc = np.sqrt(Bq * Bq - 4 * A * C)
    # A < 0: the two roots have opposite sign; take the positive one, computed stably
    q = -0.5 * (Bq + np.copysign(disc, Bq))
    r1, r2 = q / A, C / q
    m = r1 if r1 > 0 else r2
    dm = -(g * m * m + m) / (2 * g * z * m + z + g - 1.0)
    return m, dm


def ge_excess_risk(mu1, mustar, psi1, psi2, lam, f1sq, tau2):
    m1s, ms2 = mu1 * mu1, mustar * mustar
    g = psi1
    z0 = -ms2 / m1s
    m0, _ = _mp_m(z0, g)
    # E e^2 = F1^2 (1 - mu1^2 psi1 int a/s),  int a/s = (1 + z0 m0)/mu1^2
    e2 = f1sq * (1.0 - psi1 * (1.0 + z0 * m0))
    ratio = psi2 / psi1  # n / N

    def pieces(kappa):
        z = -(ms2 + kappa) / m1s
        m, dm = _mp_m(z, g)
        df1 = 1.0 - kappa / m1s * m                          # /N
        df2 = 1.0 - 2 * kappa / m1s * m + kappa ** 2 / m1s ** 2 * dm  # /N
        return z, m, dm, df1, df2

    if lam == 0.0 and psi1 < psi2:
        df2n = psi1 / psi2
        return e2 + (e2 + tau2) * df2n / (1 - df2n)
    # lam = kappa (1 - df1/n) = kappa (1 - df1N/ratio); increasing in kappa
    f = lambda k: k * (1.0 - pieces(k)[3] / ratio) - lam
    lo, hi = 0.0, 1.0
    if lam == 0.0:
        lo = 1e-300
    while f(hi) < 0:
        hi *= 2.0
    # for lam == 0, psi1 > psi2: root of df1 = n is where f crosses 0 from below
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-16 * hi:
            break
    kappa = 0.5 * (lo + hi)
    z, m, dm, df1, df2 = pieces(kappa)
    df2n = df2 / ratio
    # bias: kappa^2 mu1^2 F1^2 psi1 int a/(s (s+kappa)^2) / (1 - df2/n)
    Acoef = z0 / (z0 - z) ** 2
    Ccoef = z / (z - z0)
    integ = (Acoef * m0 - Acoef * m + Ccoef * dm) / m1s ** 3
    bias = kappa ** 2 * m1s * f1sq * psi1 * integ / (1 - df2n)
    var = (e2 + tau2) * df2n / (1 - df2n)
    return bias + var + e2


# --------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------
def simulate(sigma, d0, psi1, psi2, lam, f1sq, tau2, seed, ntest=None):
    rng = np.random.default_rng(seed)
    N, n = int(round(psi1 * d0)), int(round(psi2 * d0))
    beta = rng.standard_normal(d0)
    beta *= np.sqrt(f1sq) / np.linalg.norm(beta)
    W = rng.standard_normal((N, d0)) / np.sqrt(d0)
    X = rng.standard_normal((n, d0))
    y = X @ beta + np.sqrt(tau2) * rng.standard_normal(n)
    Phi = sigma(X @ W.T)
    if lam == 0.0:
        a = np.linalg.lstsq(Phi, y, rcond=None)[0]  # min-norm
    elif N <= n:
        a = np.linalg.solve(Phi.T @ Phi / n + lam * np.eye(N), Phi.T @ y / n)
    else:
        a = Phi.T @ np.linalg.solve(Phi @ Phi.T / n + lam * np.eye(n), y / n)
    # exact-in-x risk would need E over x; use a large fresh test set
    ntest = ntest or NTEST
    risk = 0.0
    done = 0
    while done < ntest:
        b = min(5000, ntest - done)
        Xt = rng.standard_normal((b, d0))
        r = sigma(Xt @ W.T) @ a - Xt @ beta
        risk += np.sum(r * r)
        done += b
    return risk / ntest


POINTS = [  # (psi1, psi2, lam)
    (3.0, 1.5, 0.0),
    (0.5, 1.5, 0.0),
    (2.0, 1.0, 1e-3),
    (0.6, 1.2, 1e-3),
    (1.5, 0.75, 0.1),
    (0.5, 2.0, 0.1),
    (1.2, 1.0, 0.0),
    (1.0, 1.2, 1e-3),
]


NTEST = 20000


def main():
    global NTEST
    if len(sys.argv) > 3:
        NTEST = int(sys.argv[3])
    mu0, mu1, mustar = activation_coeffs(np.tanh, 200)
    f1sq, tau2 = 1.0, 0.25
    print(f"tanh: mu0={mu0:.3e} mu1={mu1:.17g} mu_star={mustar:.17g}")
    print(f"{'psi1':>6} {'psi2':>6} {'lam':>7} {'MM formula':>22} {'GE derivation':>22} {'rel diff':>9}")
    for psi1, psi2, lam in POINTS + [(2.0, 0.5, 0.0), (0.5, 1.0, 1e-2), (4.0, 2.0, 1e-1), (1.0, 3.0, 0.0)]:
        a = mm_excess_risk(mu1, mustar, psi1, psi2, lam, f1sq, tau2)
        b = ge_excess_risk(mu1, mustar, psi1, psi2, lam, f1sq, tau2)
        print(f"{psi1:6.3g} {psi2:6.3g} {lam:7.1e} {a:22.16g} {b:22.16g} {abs(a-b)/abs(a):9.1e}")
    # branch check: complex continuation vs the purely-imaginary reduction
    for psi1, psi2, lam in [(3.0, 1.5, 1e-3), (0.6, 1.2, 1e-3), (1.5, 0.75, 0.1)]:
        zeta2 = (mu1 / mustar) ** 2
        y = np.sqrt(psi1 * psi2 * lam / psi1 / mustar ** 2)
        nu1, nu2 = mm_nu_complex(1j * y, psi1, psi2, zeta2)
        print(f"branch check psi=({psi1},{psi2}) lam={lam}: complex nu1*nu2={nu1*nu2:.15g}  "
              f"reduction chi={mm_chi(psi1, psi2, lam / psi1 / mustar**2, zeta2):.15g}")
    # small-lambda continuity of the ridgeless limit
    for psi1, psi2 in [(3.0, 1.5), (0.5, 1.5)]:
        r0 = mm_excess_risk(mu1, mustar, psi1, psi2, 0.0, f1sq, tau2)
        rs = [mm_excess_risk(mu1, mustar, psi1, psi2, l, f1sq, tau2) for l in (1e-6, 1e-8, 1e-10)]
        print(f"ridgeless continuity psi=({psi1},{psi2}): R(0)={r0:.15g}  R(1e-6,1e-8,1e-10)=",
              " ".join(f"{r:.15g}" for r in rs))
    if "--formula" in sys.argv:
        return
    d0 = int(dict(enumerate(sys.argv)).get(1, "600")) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 600
    seeds = range(int(sys.argv[2]) if len(sys.argv) > 2 else 6)
    print(f"\nMonte Carlo: sigma=tanh, d0={d0}, seeds={len(seeds)}, {NTEST} test points each")
    print(f"{'psi1':>6} {'psi2':>6} {'lam':>7} {'N':>5} {'n':>5} {'MC mean':>10} {'s.e.':>8} {'formula':>10} {'z':>6}")
    for psi1, psi2, lam in POINTS:
        rs = np.array([simulate(np.tanh, d0, psi1, psi2, lam, f1sq, tau2, 1000 * k + 7) for k in seeds])
        th = mm_excess_risk(mu1, mustar, psi1, psi2, lam, f1sq, tau2)
        se = rs.std(ddof=1) / np.sqrt(len(rs))
        print(f"{psi1:6.3g} {psi2:6.3g} {lam:7.1e} {int(round(psi1*d0)):5d} {int(round(psi2*d0)):5d} "
              f"{rs.mean():10.5f} {se:8.5f} {th:10.5f} {(rs.mean()-th)/se:6.2f}", flush=True)


if __name__ == "__main__":
    main()
