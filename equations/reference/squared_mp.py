"""Squared-map layer chain (equations/squared.md (5.2)) solved in 60-digit arithmetic.

An independent high-precision route for the squared solver's numbers where double
precision is stressed (bottleneck widths, n/d_L near 1): the same bottom-up chain, its
root in log u_1 by 400 bisections in mpmath, and the risk of (5.3) per unit r^2 and
sigma^2. The GEP coefficients are inputs (closed forms are exact; tanh's come from
rfrisk's 200-node Gauss-Hermite rule, accurate to ~1e-14).

    python3 equations/reference/squared_mp.py

prints, for each case of tests/regression.rs, kappa, bias/r^2 and variance/sigma^2.
"""
import mpmath as mp

mp.mp.dps = 60


def chain(x, coef, widths):
    """Shifts u_1..u_L, kappa and (tau_L, tau_L') at kappa from log u_1 = x; None off the branch."""
    u = mp.e ** x
    tau, dtau = 1 / (1 + u), -1 / (1 + u) ** 2
    for l, (rho1, rho2) in enumerate(coef):
        r1, r2 = mp.mpf(rho1) ** 2, mp.mpf(rho2) ** 2
        g = mp.mpf(widths[l + 1]) / widths[l]
        nxt = r1 * u * (g - tau) - r2
        if nxt <= 0:
            return None
        slope = r1 * (g - tau - u * dtau)
        tau, dtau = (tau + r2 / (r1 * u)) / g, (dtau - r2 / (r1 * u * u)) / g / slope
        u = nxt
    return u, tau, dtau


def solve(coef, widths, n):
    delta = mp.mpf(n) / widths[-1]
    f = lambda x: (1 - delta) if chain(x, coef, widths) is None else chain(x, coef, widths)[1] - delta
    lo, hi = mp.mpf(-200), mp.mpf(200)
    for _ in range(400):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) >= 0 else (lo, mid)
    kappa, tau, dtau = chain(lo, coef, widths)
    kappa_a = -kappa * dtau
    return kappa, kappa * tau, (tau - kappa_a) / kappa_a


SIGN = (mp.sqrt(2 / mp.pi), mp.sqrt(1 - 2 / mp.pi))
# tanh coefficients of layers 1..8 from rfrisk (`rfrisk gep`, v_0 = 1).
TANH = [
    (0.6057055096021585, 0.16557574108374226), (0.763549589500704, 0.08107760388474577),
    (0.833343646198061, 0.049503693637775854), (0.8720952647005852, 0.033973817831393964),
    (0.8965593919476141, 0.02506759787528514), (0.9133344057078213, 0.019430262688865375),
    (0.9255197960032527, 0.01560742995734349), (0.9347556811801611, 0.012879684273951161),
]
CASES = {
    # issue 10 item 2: an extreme but valid architecture, n/d_L = 0.9999.
    "bottlenecks tanh": (TANH, [454, 791, 25, 16654, 51505, 2818, 42, 393, 261068], 261041),
    "bottlenecks sign": ([SIGN] * 8, [454, 791, 25, 16654, 51505, 2818, 42, 393, 261068], 261041),
}

if __name__ == "__main__":
    for name, (coef, widths, n) in CASES.items():
        kappa, bias, variance = solve(coef, widths, n)
        print(f"{name}: kappa {mp.nstr(kappa, 17)}  bias/r^2 {mp.nstr(bias, 17)}  variance/sigma^2 {mp.nstr(variance, 17)}")
