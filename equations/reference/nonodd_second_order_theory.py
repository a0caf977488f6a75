"""The squared map's risk for ReLU at L = 2 with the second-order term (N8) carried, in the
proportional limit (equations/nonodd.md §7a, "Carried in the limit"), written without the Rust code:

    python3 equations/reference/nonodd_second_order_theory.py          # the risks
    python3 equations/reference/nonodd_second_order_theory.py forms    # the new quadratic forms on drawn weights

It extends the Woodbury form of nonodd_coupling_woodbury.py. That script reduces the offsets' coupling
omega f'^T + f' omega^T + (s^T B s) omega omega^T to one strength theta along omega. Here f' = D1 W_perp P B s
is kept as a direction of its own, because (N8)'s bulk-correlated part p = D1 W_perp xi, xi = (G - I) 1,
pairs with it. The quadratic forms of f' and p are those of the mixed resolvent (P B P + u)^{-1}
(teacher.md §3) at the generic vector 1/sqrt(d1). They are integrals over the spectral law of
G = W1 W1^T (Marchenko-Pastur, with an atom at 0 when d1 > d0). The offset functions mu, omega, e2
pair with neither (W_perp -> -W_perp). Directions and strengths, in units of 1/d2:

    mu      infinite (the spike)
    omega   (g2/M1) <beta> + g1 g2 a2^2 / (2 M1)          (the coupling's s^T B s; (N8)'s layer-1 term)
    f'      1 with omega                                  (the coupling)
    e2      g2 (Var f + b2^2 g1 / 2) / 4;  g2 (k3 + a2 b2 g1 / 2) / (2 mu1) with omega   ((N8)'s square, cross)
    p       g2 a1 b1 / 2 with e2                          ((N8)'s bulk-correlated cross)

Prints, per case, the coupled theory (rfrisk's, which this reproduces), the theory with (N8), and the move.
"""
import math

import numpy as np
from scipy import optimize, special

MU = 1 / math.sqrt(2 * math.pi)
A1, A2 = 0.5, MU                                   # E z relu, E (z^2 - 1) relu
B1, B2 = MU, 1 - 2 * MU * MU                       # the same of f = (relu - mu)^2
VAR_F = 1.5 - 5 * MU ** 2 - 3 * MU ** 4 - (0.5 - MU * MU) ** 2
K3 = 0.5 * MU + 2 * MU ** 3                        # E (relu - mu)^3


def relu_moments(b, v):
    sd = math.sqrt(v)
    t = b / sd
    cdf, pdf = special.ndtr(t), np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    mean = b * cdf + sd * pdf
    return mean, (b * b + v) * cdf + b * sd * pdf - mean * mean, cdf, pdf / sd


def gram_law(g1, nodes=600):
    """Nodes and weights of the spectral law of G = W1 W1^T (entries of W1 of variance 1/d0), g1 = d1/d0."""
    y, scale, atom = (g1, 1.0, 0.0) if g1 <= 1 else (1 / g1, g1, 1 - 1 / g1)
    lo, hi = (1 - math.sqrt(y)) ** 2, (1 + math.sqrt(y)) ** 2
    t, wt = np.polynomial.legendre.leggauss(nodes)
    angle = (t + 1) * math.pi / 2
    c, r = (lo + hi) / 2, (hi - lo) / 2
    x = c + r * np.cos(angle)
    weights = wt * math.pi / 2 * r * r * np.sin(angle) ** 2 / (2 * math.pi * y * x) * (1 - atom)
    return np.append(scale * x, 0.0), np.append(weights, atom)


def risk(d0, d1, d2, n, prior, init, sigma, with_second_order, nodes=120, spike=1e9):
    g1, g2, delta, s2 = d1 / d0, d2 / d1, n / d2, sigma * sigma
    mu1, var1, rho, _ = relu_moments(0.0, 1.0)
    r1a, r2a, m_var = rho ** 2, var1 - rho ** 2, mu1 ** 2

    def m1(s):  # layer 1: r1 g1 u = s + r2 + r1 u/(1 + u), m_1 = 1/(r1 g1 u)
        a, b, c = r1a * g1, r1a * g1 - s - r2a - r1a, -(s + r2a)
        return 2 / (-b + math.sqrt(b * b - 4 * a * c))

    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    b = x * math.sqrt(m_var)
    mu, var, rho1, e2 = relu_moments(b, var1)
    r1, r2, omega = rho1 ** 2, var - rho1 ** 2 * var1, rho1 * b
    lam, lw = gram_law(g1)
    beta = r1a * lam + r2a  # B = Sigma_1 on G's eigenvalues
    mean_of = lambda h: np.sum(lw * h)

    def projected(h1, h2, u):  # x_h1^T (P B P + u)^{-1} x_h2, x_h = h(G) 1/sqrt(d1)
        h1, h2, res = h1 - mean_of(h1), h2 - mean_of(h2), 1 / (beta + u)
        return mean_of(h1 * h2 * res) - mean_of(h1 * res) * mean_of(h2 * res) / mean_of(res)

    def diag(k):
        def f(lu):
            u = math.exp(lu)
            return g2 * np.sum(w * r1 / (k + r2 + r1 * u * (1 - u * m1(u)))) - 1 / u
        u = math.exp(optimize.brentq(f, -40, 40, xtol=1e-14))
        return 1 / (k + r2 + r1 * u * (1 - u * m1(u))), u

    tau = lambda k: 1 - k * np.sum(w * diag(k)[0])
    kappa = math.exp(optimize.brentq(lambda lk: tau(math.exp(lk)) - delta, -8, 5, xtol=1e-14))
    mean = math.sqrt(2 / math.pi) if prior == "half-normal" else 0.0
    c = init * math.sqrt(d2)

    def F(k):
        g, u = diag(k)
        ip = lambda x, y: np.sum(w * x * y * g)
        offsets = [mu, omega, e2]  # then f' (3) and p (4)
        gram, strength = np.zeros((5, 5)), np.zeros((5, 5))
        gram[:3, :3] = [[ip(x, y) for y in offsets] for x in offsets]
        gram[3, 3] = (g2 / m_var) * projected(beta, beta, u)
        gram[3, 4] = gram[4, 3] = projected(beta, lam - 1, u) / mu1
        gram[4, 4] = (d1 / d2) * projected(lam - 1, lam - 1, u)
        strength[0, 0] = spike
        strength[1, 1] = (g2 / m_var) * mean_of(beta)
        strength[1, 3] = strength[3, 1] = 1.0
        if with_second_order:
            strength[1, 1] += g1 * g2 * A2 ** 2 / (2 * m_var)
            strength[1, 2] = strength[2, 1] = g2 * (K3 + 0.5 * A2 * B2 * g1) / (2 * mu1)
            strength[2, 2] = (g2 / 4) * (VAR_F + 0.5 * B2 ** 2 * g1)
            strength[2, 4] = strength[4, 2] = g2 * A1 * B1 / 2
        r = np.array([ip(np.ones_like(b), x) for x in offsets] + [0.0, 0.0])
        coherent = ip(np.ones_like(b), np.ones_like(b)) - r @ strength @ np.linalg.solve(np.eye(5) + gram @ strength, r)
        return (1 - mean ** 2) * np.sum(w * g) + (mean - c) ** 2 * coherent

    h = 1e-5 * kappa
    q = ((kappa + h) * F(kappa + h) - (kappa - h) * F(kappa - h)) / (2 * h)
    df2n = 1 + kappa * (tau(kappa + h) - tau(kappa - h)) / (2 * h) / delta
    return (kappa ** 2 * q + s2 * df2n) / (1 - df2n)


def check_forms(d0=400, d1=1000, d2=1000, kappa=1 / 5.557854563709818, u=0.9780367920674864, seed=1):
    """The quadratic forms of f' and p on one drawn network's bulk resolvent against the formulas
    (kappa and u of the half-normal case, from `rfrisk predict`: 1/beta and u_2)."""
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((d1, d0)) / math.sqrt(d0)
    w2 = rng.standard_normal((d2, d1)) / math.sqrt(d1)
    mu1, var1, rho, _ = relu_moments(0.0, 1.0)
    r1a, r2a = rho ** 2, var1 - rho ** 2
    gram = w1 @ w1.T
    cov1 = r1a * gram + r2a * np.eye(d1)  # B, unit-variance layer 1 as in the theory
    m = mu1 * np.ones(d1)
    proj = np.eye(d1) - np.outer(m, m) / (m @ m)
    perp = w2 @ proj
    _, var, rho1, e2 = relu_moments(w2 @ m, var1)
    bulk = (rho1[:, None] * perp) @ cov1 @ (rho1[:, None] * perp).T + np.diag(var - rho1 ** 2 * var1)
    res = np.linalg.inv(bulk + kappa * np.eye(d2))
    ip = lambda x, y: x @ res @ y / d2
    f = d2 * rho1 * (perp @ (proj @ cov1 @ (m / (m @ m))))
    p = rho1 * (perp @ ((gram - np.diag(np.diag(gram))) @ np.ones(d1)))
    lam, lw = gram_law(d1 / d0)
    beta = r1a * lam + r2a
    mean_of = lambda h: np.sum(lw * h)

    def projected(h1, h2):
        h1, h2, r = h1 - mean_of(h1), h2 - mean_of(h2), 1 / (beta + u)
        return mean_of(h1 * h2 * r) - mean_of(h1 * r) * mean_of(h2 * r) / mean_of(r)

    for name, drawn, limit in [("<f',f'>", ip(f, f), (d2 / d1) / mu1 ** 2 * projected(beta, beta)),
                               ("<f',p>", ip(f, p), projected(beta, lam - 1) / mu1),
                               ("<p,p>", ip(p, p), (d1 / d2) * projected(lam - 1, lam - 1))]:
        print(f"{name:8} drawn {drawn:.4f}, limit {limit:.4f} ({drawn / limit - 1:+.2%})")
    print(f"cross forms (0 in the limit): <f',e2> {ip(f, e2):+.4f}, <p,e2> {ip(p, e2):+.4f}, <p,1> {ip(p, np.ones(d2)):+.4f}; <e2,e2> {ip(e2, e2):.4f}")


CASES = [
    ("half-normal teacher, zero start", (400, 1000, 1000, 300, "half-normal", 0.0, 0.1)),
    ("gaussian teacher, init 0.05", (400, 1000, 1000, 300, "gaussian", 0.05, 0.1)),
    ("gaussian teacher, zero start", (400, 1000, 1000, 300, "gaussian", 0.0, 0.1)),
]

if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["forms"]:
        check_forms()
        sys.exit()
    for name, args in CASES:
        coupled, carried = risk(*args, False), risk(*args, True)
        print(f"relu L=2 d={args[:3]} n={args[3]} {name}: coupled {coupled:.15g}, with (N8) {carried:.15g} ({carried / coupled - 1:+.4%})")
