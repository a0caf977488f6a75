"""The squared map's risk for ReLU at L = 2 with the second-order term (N8) carried, in the
proportional limit (equations/nonodd.md §7a, "Carried in the limit"), written without the Rust code:

    python3 equations/reference/nonodd_second_order_theory.py          # the risks
    python3 equations/reference/nonodd_second_order_theory.py forms    # the new quadratic forms on drawn weights

It extends the Woodbury form of nonodd_coupling_woodbury.py, whose chain and risk it calls with other
low-rank terms. That script reduces the offsets' coupling
omega f'^T + f' omega^T + (s^T B s) omega omega^T to one strength theta along omega. Here f' = D1 W_perp P B s
is kept as a direction of its own, because (N8)'s bulk-correlated part p = D1 W_perp xi, xi = (G - I) 1,
pairs with it. The quadratic forms of f' and p are those of the mixed resolvent (P B P + u)^{-1}
(teacher.md §3) at the generic vector 1/sqrt(d1). They are integrals over the spectral law of
G = W1 W1^T (Marchenko-Pastur, with an atom at 0 when d1 > d0). The offset functions mu, omega, e2
pair with neither (W_perp -> -W_perp). Directions and strengths, in units of 1/d2:

    mu      infinite (the spike)
    omega   (g2/M1) <beta> + g1 g2 a2^2 / (2 M1)          (the coupling's s^T B s; (N8)'s layer-1 term)
    d2 f'   1 with omega                                  (the coupling)
    e2      g2 (Var f + b2^2 g1 / 2) / 4;  g2 (k3 + a2 b2 g1 / 2) / (2 mu1) with omega   ((N8)'s square, cross)
    p       g2 a1 b1 / 2 with e2                          ((N8)'s bulk-correlated cross)

Prints, per case, the coupled theory (rfrisk's, which this reproduces), the theory with (N8), and the move.
"""
import math

import numpy as np
from scipy import special

import nonodd_coupling_woodbury as woodbury

MU = 1 / math.sqrt(2 * math.pi)
A1, A2 = 0.5, MU                                   # E z relu, E (z^2 - 1) relu
B1, B2 = MU, 1 - 2 * MU * MU                       # the same of f = (relu - mu)^2
VAR_F = 1.5 - 5 * MU ** 2 - 3 * MU ** 4 - (0.5 - MU * MU) ** 2
K3 = 0.5 * MU + 2 * MU ** 3                        # E (relu - mu)^3


def relu_moments(b, v):
    """nonodd_coupling_woodbury's moments and e2 = E relu''(b + z) = phi(b/s)/s."""
    sd = math.sqrt(v)
    return (*woodbury.relu_moments(b, v), np.exp(-b * b / (2 * v)) / (math.sqrt(2 * math.pi) * sd))


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


def projected(h1, h2, u, beta, lw):
    """x_h1^T (P B P + u)^{-1} x_h2 with x_h = h(G) 1/sqrt(d1), B = beta(G), on G's law (nodes lam, weights lw)."""
    mean_of = lambda h: np.sum(lw * h)
    h1, h2, res = h1 - mean_of(h1), h2 - mean_of(h2), 1 / (beta + u)
    return mean_of(h1 * h2 * res) - mean_of(h1 * res) * mean_of(h2 * res) / mean_of(res)


def second_order_terms(with_second_order, spike=1e9):
    """The low-rank terms of the module doc, for nonodd_coupling_woodbury.risk: the directions
    mu, omega, e2 of the offsets' law, then d2 f' and p."""
    def low_rank(law, ip, u):
        g1, g2, mu1, m_var = law["g1"], law["g2"], law["mu1"], law["M1"]
        e2 = relu_moments(law["b"], law["var1"])[3]
        lam, lw = gram_law(g1)
        beta = law["r1a"] * lam + law["r2a"]  # B = Sigma_1 on G's eigenvalues
        offsets = [law["mu"], law["omega"], e2]
        gram, strength = np.zeros((5, 5)), np.zeros((5, 5))
        gram[:3, :3] = [[ip(x, y) for y in offsets] for x in offsets]
        gram[3, 3] = (g2 / m_var) * projected(beta, beta, u, beta, lw)
        gram[3, 4] = gram[4, 3] = projected(beta, lam - 1, u, beta, lw) / mu1
        gram[4, 4] = (law["d1"] / law["d2"]) * projected(lam - 1, lam - 1, u, beta, lw)
        strength[0, 0] = spike
        strength[1, 1] = (g2 / m_var) * np.sum(lw * beta)
        strength[1, 3] = strength[3, 1] = 1.0
        if with_second_order:
            strength[1, 1] += g1 * g2 * A2 ** 2 / (2 * m_var)
            strength[1, 2] = strength[2, 1] = g2 * (K3 + 0.5 * A2 * B2 * g1) / (2 * mu1)
            strength[2, 2] = (g2 / 4) * (VAR_F + 0.5 * B2 ** 2 * g1)
            strength[2, 4] = strength[4, 2] = g2 * A1 * B1 / 2
        r = np.array([ip(np.ones_like(e2), x) for x in offsets] + [0.0, 0.0])
        return gram, strength, r
    return low_rank


def risk(d0, d1, d2, n, prior, init, sigma, with_second_order):
    return woodbury.risk(d0, d1, d2, n, prior, init, sigma, True, low_rank=second_order_terms(with_second_order))


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
    form = lambda h1, h2: projected(h1, h2, u, beta, lw)
    for name, drawn, limit in [("<f',f'>", ip(f, f), (d2 / d1) / mu1 ** 2 * form(beta, beta)),
                               ("<f',p>", ip(f, p), form(beta, lam - 1) / mu1),
                               ("<p,p>", ip(p, p), (d1 / d2) * form(lam - 1, lam - 1))]:
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
