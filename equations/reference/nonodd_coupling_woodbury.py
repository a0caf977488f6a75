"""The squared map's risk for ReLU at L = 2 with a mean part (a half-normal teacher or a start), by
the ridgeless deterministic equivalent and Woodbury's identity (equations/nonodd.md (N6), the
squared-map route), written without the Rust code:

    python3 equations/reference/nonodd_coupling_woodbury.py

The centred covariance of the last layer is the bulk D1 W_perp B W_perp^T D1 + D2^2 (diagonal
deterministic equivalent 1/(kappa + r2(b) + r1(b) u tau_1(u)) on the offsets' law) plus the
rank-two coupling [omega, D1 W_perp f] with omega_i = rho1(b_i) b_i; the cross quadratic forms with
D1 W_perp f vanish (W_perp -> -W_perp), which leaves a rank-one term along omega of strength
theta = (gamma_2/M_1)(1/m_1(u) - u), and the mean spike (infinite) along mu(b). The risk is
kappa^2 d/dkappa[kappa F(kappa)] + sigma^2 df2/n over 1 - df2/n, F = (a* - a0)^T (Sigma + kappa)^{-1} (a* - a0).
Prints each case's excess risk with the coupling and without it (theta = 0). `risk(..., low_rank=...)`
takes other low-rank terms in place of the coupling (nonodd_second_order_theory.py).
"""
import math
import numpy as np
from scipy import optimize, special


def relu_moments(b, v):
    sd = math.sqrt(v)
    t = b / sd
    P, p = special.ndtr(t), np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    mu = b * P + sd * p
    return mu, (b * b + v) * P + b * sd * p - mu * mu, P


def risk(d0, d1, d2, n, prior, init, sigma, coupled, nodes=120, low_rank=None):
    """`low_rank(law, ip, u)`, where given, replaces the coupling: it returns the Gram matrix of the
    low-rank directions under the bulk resolvent, their strengths S (in units of 1/d2; any entry may
    be large, as the spike's) and their overlaps with 1, and F's coherent part is
    <1,1> - r^T S (I + G S)^{-1} r. `law` holds the sizes and the offsets' law."""
    g1, g2, delta, s2 = d1 / d0, d2 / d1, n / d2, sigma * sigma
    mu1, var1, rho = relu_moments(0.0, 1.0)
    r1a, r2a, M1 = rho ** 2, var1 - rho ** 2, mu1 ** 2

    def m1(s):  # layer 1: r1 g1 u = s + r2 + r1 u/(1 + u), m_1 = 1/(r1 g1 u)
        A, B, C = r1a * g1, r1a * g1 - s - r2a - r1a, -(s + r2a)
        return 2 / (-B + math.sqrt(B * B - 4 * A * C))

    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    b = x * math.sqrt(M1)
    mu, var, rho1 = relu_moments(b, var1)
    r1, r2, omega = rho1 ** 2, var - rho1 ** 2 * var1, rho1 * b

    def diag(k):
        def f(lu):
            u = math.exp(lu)
            return g2 * np.sum(w * r1 / (k + r2 + r1 * u * (1 - u * m1(u)))) - 1 / u
        u = math.exp(optimize.brentq(f, -40, 40, xtol=1e-14))
        return 1 / (k + r2 + r1 * u * (1 - u * m1(u))), u

    tau = lambda k: 1 - k * np.sum(w * diag(k)[0])
    kappa = math.exp(optimize.brentq(lambda lk: tau(math.exp(lk)) - delta, -8, 5, xtol=1e-14))
    mean = math.sqrt(2 / math.pi) if prior == "half-normal" else 0.0
    var_a = 1 - mean ** 2
    c = init * math.sqrt(d2)

    law = dict(d1=d1, d2=d2, g1=g1, g2=g2, mu1=mu1, var1=var1, r1a=r1a, r2a=r2a, M1=M1, m1=m1, b=b, mu=mu, omega=omega)

    def F(k):
        g, u = diag(k)
        ip = lambda x, y: np.sum(w * x * y * g)
        one = np.ones_like(b)
        if low_rank is not None:
            G, S, r = low_rank(law, ip, u)
            coherent = ip(one, one) - r @ S @ np.linalg.solve(np.eye(len(r)) + G @ S, r)
            return var_a * np.sum(w * g) + (mean - c) ** 2 * coherent
        if coupled:
            U, cinv = [mu, omega], np.diag([0.0, 1 / ((g2 / M1) * (1 / m1(u) - u))])
        else:
            U, cinv = [mu], np.zeros((1, 1))
        G = np.array([[ip(x, y) for y in U] for x in U])
        r = np.array([ip(one, x) for x in U])
        coherent = ip(one, one) - r @ np.linalg.solve(cinv + G, r)
        return var_a * np.sum(w * g) + (mean - c) ** 2 * coherent

    h = 1e-5 * kappa
    q = ((kappa + h) * F(kappa + h) - (kappa - h) * F(kappa - h)) / (2 * h)
    df2n = 1 + kappa * (tau(kappa + h) - tau(kappa - h)) / (2 * h) / delta
    return (kappa ** 2 * q + s2 * df2n) / (1 - df2n)


CASES = [
    ("half-normal teacher, zero start", (400, 1000, 1000, 300, "half-normal", 0.0, 0.1)),
    ("gaussian teacher, init 0.05", (400, 1000, 1000, 300, "gaussian", 0.05, 0.1)),
    ("half-normal teacher, init -0.02, no noise", (400, 1000, 1500, 300, "half-normal", -0.02, 0.0)),
]

if __name__ == "__main__":
    for name, args in CASES:
        print(f"relu L=2 d={args[:3]} n={args[3]} {name}: coupled {risk(*args, True):.15g}, decoupled {risk(*args, False):.15g}")
