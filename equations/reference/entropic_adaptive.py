"""Independent high-accuracy solver of the entropic mirror map's top problem (equations/entropic.md §6-§8).

What it computes.  For tanh features, d0 = 1000, hidden widths [1000, d_L], a half-normal teacher
a = r|xi| (r = 1) and the start c = sqrt(2/pi) r, it solves (T1) E P'_eta(chi) = delta and
(T2) delta s^2 = E(P_eta(chi) - a)^2 + sigma^2/Q, chi = a + sG, P_eta(chi) = eta*omega(chi/eta + log(c/eta)),
and prints eta, s, s/s_max, D = E(P - a)^2 and the excess risk (6.3) for cases near n/d_L -> 1, or
"infeasible" with the boundary d_L/n of (8.3b).

How.  Layer chain: `chain` of entropic_theory.py, re-solved in 40-digit mpmath (kappa is a difference
of O(1) numbers that vanishes as delta -> 1, so Q = n kappa/(d_L - n) from the double-precision chain
loses ~1/(1-delta) in relative accuracy).  Expectations: one integral over chi with the skew-normal
density of chi and the closed-form truncated-normal moments of a | chi (entropic.md §7), by an adaptive
vectorised Gauss-Legendre rule (10 points, a panel is accepted when its value agrees with the sum of
its two halves to tol * |integral|) on panels whose edges are explicit breakpoints: 0, +-s 2^k, the
bend chi_b = eta log(eta/c) +- eta 2^k, and a geometric ladder 2^k on both sides.  Stein's identity
E[G (P - chi)] = -s E[1 - P'] gives D = E(P - chi)^2 + s^2 (1 - 2U), U = E[1/(1+omega)] = 1 - E P', so
(T1) is solved as U = 1 - delta and (T2) as s^2 (2U - (1-delta)) = E(P - chi)^2 + sigma^2/Q: both sides
are O((1-delta) s^2), no cancellation, and P - chi = -eta log(P/c) is computed from log omega.  D is also
integrated directly, (P - m)^2 + var(a|chi), as a check.  Solve: brentq in eta (bracketed in log eta) for (T1) at fixed s,
brentq in s in (0, s_max) for (T2); infeasibility is the sign of (T2)'s residual at s -> s_max and,
independently, the (8.3b) margin, whose root in delta is the boundary.

Accuracy check: every case is solved twice (tol 1e-14 on breakpoint set A, tol 1e-11 on set B whose
geometric breakpoints are shifted by a factor 2^0.5), and U, E(P - chi)^2, direct D are re-integrated at
the solution with scipy.integrate.quad (points = breakpoints, epsrel 1e-13); `--mp` adds an mpmath
(30 digits) re-integration for the (9990, 10000) case.

Run (from the repository root):  python3 equations/reference/entropic_adaptive.py [--mp]
"""
import sys, time, os, warnings
import numpy as np
import mpmath as mp
from scipy import special, optimize, integrate
from numpy.polynomial.legendre import leggauss
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from entropic_theory import gep_coeffs, chain, top_scalars  # layer chain only

R = 1.0                          # teacher scale r (norm2 = r^2 = 1)
C = np.sqrt(2 / np.pi) * R       # scaled start c = E a
SQ2, SQPI = np.sqrt(2.0), np.sqrt(np.pi)
COEFFS = gep_coeffs('tanh', 2)
GT, GW = leggauss(10)
NAMES = ['U', 'V', 'E2', 'Dc', 'one', 'm', 'a2', 'neg']   # integrated quantities (times density)

def layers(n, dL):
    """kappa, Q, A = -tau_L'(kappa), R of the chain [1000, 1000, dL], solved in 40-digit arithmetic."""
    ts = top_scalars([1000, 1000, dL], COEFFS, n)          # double solution: starting point
    with mp.workdps(40):
        W = [mp.mpf(1000), mp.mpf(1000), mp.mpf(dL)]
        Cm = [(mp.mpf(a), mp.mpf(b)) for a, b in COEFFS]
        d = mp.mpf(n) / W[-1]
        x = mp.findroot(lambda x: chain(mp.exp(x), W, Cm)[1][1] - d, mp.log(ts['rec'][0][0]))
        rec, (kap, tauL, dtauL) = chain(mp.exp(x), W, Cm)
        u, T, dT = rec[-1]; r1, r2sq = Cm[-1]
        Q, Rr = r2sq + r1**2 * u * T, r2sq - r1**2 * u**2 * dT
        Qk = mp.mpf(n) * kap / (W[-1] - n)                    # (4.7): equals Q at the exact root
        noise = d / (kap * -dtauL) - W[-1] / (W[-1] - n)      # (6.3) noise factor = Q/R - 1 (4.5)
        out = dict(kappa=float(kap), Q=float(Qk), A=float(-dtauL), noise=float(noise),
                   checks=(float(Q / Qk - 1), float(noise - (Q / Rr - 1))),
                   Q_double=n * ts['kappa'] / (dL - n))
    return out

def integrands(chi, eta, s):
    """rows: density times [1/(1+w), w/(1+w), (P-chi)^2, E[(P-a)^2|chi], 1, m, E[a^2|chi], 1{chi<0}]"""
    sg = np.hypot(R, s)
    x = R * chi / (s * sg)                                     # standardized truncation point of a|chi
    Phi = 0.5 * special.erfc(-x / SQ2)
    rho = 2 / sg * np.exp(-0.5 * (chi / sg)**2) / np.sqrt(2 * np.pi) * Phi   # skew-normal density
    z = chi / eta + np.log(C / eta)
    om = special.wrightomega(z)
    with np.errstate(all='ignore'):
        ell = np.where(z < 1, z - om, np.log(om))             # log omega, no underflow for z << 0
        e_ = np.exp(ell); ell = ell - (e_ + ell - z) / (e_ + 1)   # one Newton polish in log omega
        om = np.exp(ell)
        u = 1 / (1 + om)                                       # 1 - P'
        P = eta * om
        e = -eta * (ell + np.log(eta / C))                     # P - chi = -eta log(P/c)
        v = (R * s / sg)**2                                    # a|chi ~ N(mu, v) truncated to (0, inf)
        y = -x / SQ2; ex = special.erfcx(y); phx = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        lam = np.where(x < 0, np.sqrt(2 / np.pi) / ex, phx / Phi)          # phi(x)/Phi(x)
        xl = np.where(x < 0, SQ2 * (1 / (SQPI * ex) - y), x + lam)        # x + lambda
        m = np.sqrt(v) * xl
        var = v * (1 - lam * xl)
        F = np.array([u, om * u, e * e, (P - m)**2 + var, np.ones_like(chi), m, m * m + var, chi < 0])
    return np.nan_to_num(F * rho)

def breakpoints(eta, s, shift=0.0):
    """panel edges: 0, +-s 2^k, bend +- eta 2^k, geometric ladder; shift moves every ladder by 2^shift."""
    sg = np.hypot(R, s); lo, hi = -40 * s * sg / R, 40 * sg   # density < 1e-300 outside
    chib = eta * np.log(eta / C)
    k = np.arange(-4, 9) + shift
    b = [0.0, chib, lo, hi]
    b += list(s * 2.0**k) + list(-s * 2.0**k) + list(chib + eta * 2.0**k) + list(chib - eta * 2.0**k)
    g = 2.0**(np.arange(np.floor(np.log2(min(eta, s))) - 3, 7) + shift)
    b += list(g) + list(-g)
    b = np.unique(np.array(b)); return b[(b >= lo) & (b <= hi)]

def expect(eta, s, tol=1e-14, shift=0.0):
    """dict of the integrals of NAMES, adaptive on breakpoint panels."""
    a = breakpoints(eta, s, shift); a, b = a[:-1], a[1:]
    tot, scale = np.zeros(len(NAMES)), None
    for depth in range(60):
        mid, h = 0.5 * (a + b), 0.5 * (b - a)
        X = np.concatenate([mid[:, None] + h[:, None] * GT, (mid - h / 2)[:, None] + (h / 2)[:, None] * GT,
                            (mid + h / 2)[:, None] + (h / 2)[:, None] * GT], axis=1)
        Y = integrands(X.ravel(), eta, s).reshape(len(NAMES), len(a), 30)
        I1 = (Y[:, :, :10] @ GW) * h
        I2 = ((Y[:, :, 10:20] + Y[:, :, 20:]) @ GW) * h / 2
        if scale is None: scale = np.abs(I2.sum(1)) + 1e-300
        ok = np.all(np.abs(I2 - I1) <= tol * scale[:, None], axis=0) | (depth == 59)
        tot += I2[:, ok].sum(1)
        a, b, mid = a[~ok], b[~ok], mid[~ok]
        if a.size == 0: break
        a, b = np.concatenate([a, mid]), np.concatenate([mid, b])
    return dict(zip(NAMES, tot))

def eta_of_s(s, om, tol, shift):
    """root of (T1) in the complementary form U(eta, s) = 1 - delta."""
    f = lambda eta: expect(eta, s, tol, shift)['U'] / om - 1
    hi = lo = s                                                # bracket by factors of e^3 ...
    while f(hi) < 0: hi *= np.exp(3)
    while f(lo) > 0: lo /= np.exp(3)
    return optimize.brentq(f, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500)   # ... root to 1e-15 rel

def solve(n, dL, sigma, tol=1e-14, shift=0.0):
    om = (dL - n) / dL; delta = n / dL                        # om = 1 - delta, exact
    lay = layers(n, dL); Q = lay['Q']
    smax = R * np.tan(np.pi * om) if delta > 0.5 else np.inf   # (T1) solvable iff s < s_max (§8)
    def resid(s):                                              # (T2) residual / ((1-delta) s^2)
        eta = eta_of_s(s, om, tol, shift); I = expect(eta, s, tol, shift)
        return (s * s * (2 * I['U'] - om) - I['E2'] - sigma**2 / Q) / (om * s * s), eta, I
    if np.isfinite(smax):
        hi = smax * (1 - 1e-7)
        if resid(hi)[0] <= 0:
            return dict(lay=lay, delta=delta, smax=smax, infeasible=True, r_at_smax=resid(hi)[0] * om * hi * hi)
    else:
        hi = 1.0
        while resid(hi)[0] <= 0: hi *= 2
    lo = hi / 2
    while resid(lo)[0] >= 0: lo /= 2
    s = optimize.brentq(lambda s: resid(s)[0], lo, hi, xtol=1e-300, rtol=1e-15, maxiter=500)
    F2, eta, I = resid(s)
    D = I['E2'] + s * s * (1 - 2 * I['U'])                     # Stein form of E(P - a)^2
    return dict(lay=lay, delta=delta, smax=smax, infeasible=False, eta=eta, s=s, D=D, Dc=I['Dc'], I=I,
                F1=I['U'] / om - 1, F2=F2, excess=Q * D + sigma**2 * lay['noise'])

def margin(delta, dL, sigma):
    """(8.3b): t - arctan t - pi sigma^2/(r^2 Q(delta)); Q well conditioned from the double chain."""
    t = np.tan(np.pi * (1 - delta)); Q = top_scalars([1000, 1000, dL], COEFFS, delta * dL)['Q']
    return t - np.arctan(t) - np.pi * sigma**2 / (R**2 * Q)

def boundary(dL, sigma):
    """d_L/n at the feasibility boundary (root of the margin in delta in (1/2, 1))."""
    return 1 / optimize.brentq(lambda d: margin(d, dL, sigma), 0.5 + 1e-9, 1 - 1e-9, xtol=1e-15, rtol=1e-15)

def quad_check(eta, s):
    """U, E(P-chi)^2, direct D at the solution by scipy.integrate.quad on the same breakpoints."""
    b = breakpoints(eta, s); out = []
    warnings.simplefilter('ignore', integrate.IntegrationWarning)   # roundoff warnings at epsrel 1e-13
    for j in (0, 2, 3):
        f = lambda x: integrands(np.array([x]), eta, s)[j, 0]
        out.append(sum(integrate.quad(f, p, q, epsabs=0, epsrel=1e-13, limit=200)[0] for p, q in zip(b[:-1], b[1:])))
    return np.array(out)

def mp_check(eta, s):
    """U and E(P-chi)^2 in 30-digit mpmath (tanh-sinh on the same breakpoints)."""
    mp.mp.dps = 30; eta, s = mp.mpf(eta), mp.mpf(s); sg = mp.sqrt(1 + s * s); c = mp.sqrt(2 / mp.pi)
    def f(chi, j):
        rho = 2 / sg * mp.npdf(chi / sg) * mp.ncdf(chi / (s * sg))
        z = chi / eta + mp.log(c / eta); w = mp.lambertw(mp.exp(z)).real
        return rho / (1 + w) if j == 0 else rho * (eta * (mp.log(w) + mp.log(eta / c)))**2
    b = [mp.mpf(x) for x in breakpoints(float(eta), float(s))]
    return [mp.quad(lambda x: f(x, j), b) for j in (0, 1)]

CASES = [(9900, 10000), (9990, 10000), (9995, 10000), (9999, 10000), (99999, 100000),
         (5000, 10000), (7500, 10000), (9000, 10000)]

if __name__ == '__main__':
    t0 = time.time(); worst = dict(eta=0, s=0, D=0, excess=0, quad=0, F=0, Dc=0, norm=0, Qd=0, lay=0)
    fmt = lambda v: '%.15g' % v
    print('n d_L sigma delta kappa Q eta s s/s_max D excess')
    for sigma, cases in ((0.0, CASES), (0.1, CASES + [(5500, 10000)])):
        for n, dL in cases:
            A = solve(n, dL, sigma); lay = A['lay']
            head = ' '.join([str(n), str(dL), fmt(sigma), fmt(A['delta']), fmt(lay['kappa']), fmt(lay['Q'])])
            worst['lay'] = max(worst['lay'], *map(abs, lay['checks']))
            worst['Qd'] = max(worst['Qd'], abs(lay['Q_double'] / lay['Q'] - 1))
            if A['infeasible']:
                print(head, 'infeasible (boundary d_L/n = %.10f; (8.3b) margin %.6g; (T2) residual at s_max(1-1e-7) %.6g)'
                      % (boundary(dL, sigma), margin(A['delta'], dL, sigma), A['r_at_smax']))
                continue
            B = solve(n, dL, sigma, tol=1e-11, shift=0.5)      # looser tolerance, other breakpoints
            for k in ('eta', 's', 'D', 'excess'):
                worst[k] = max(worst[k], abs(B[k] / A[k] - 1))
            q = quad_check(A['eta'], A['s']); I = A['I']
            worst['quad'] = max(worst['quad'], *abs(q / np.array([I['U'], I['E2'], I['Dc']]) - 1))
            worst['F'] = max(worst['F'], abs(A['F1']), abs(A['F2']))
            worst['Dc'] = max(worst['Dc'], abs(A['Dc'] / A['D'] - 1))
            worst['norm'] = max(worst['norm'], abs(I['one'] - 1), abs(I['m'] / C - 1), abs(I['a2'] - R * R),
                                abs(I["neg"] / (np.arctan(A["s"] / R) / np.pi) - 1))
            print(head, ' '.join(fmt(v) for v in (A['eta'], A['s'], A['s'] / A['smax'], A['D'], A['excess'])),
                  '  eta/s=%.3g' % (A['eta'] / A['s']))
            if '--mp' in sys.argv and (n, dL, sigma) == (9990, 10000, 0.0):
                Um, Em = mp_check(A['eta'], A['s'])
                print('  mpmath check: U rel diff %.2e, E(P-chi)^2 rel diff %.2e'
                      % (float(Um / I['U'] - 1), float(Em / I['E2'] - 1)))
    for sig in (0.1,):
        print('boundary sigma=%g: d_L/n = %.10f (widths [1000,10000]), %.10f (widths [1000,100000])'
              % (sig, boundary(10000, sig), boundary(100000, sig)))
    print('accuracy: max rel change tol 1e-14/set A -> tol 1e-11/set B: eta %.1e s %.1e D %.1e excess %.1e'
          % (worst['eta'], worst['s'], worst['D'], worst['excess']))
    print('  scipy quad vs adaptive rule (U, E(P-chi)^2, direct D): %.1e; |F1|,|F2| <= %.1e; direct D vs Stein D: %.1e'
          % (worst['quad'], worst['F'], worst['Dc']))
    print('  density/teacher moments (int rho-1, E a/c-1, E a^2-1, P(chi<0)): %.1e; chain Q/Q_kappa, noise forms: %.1e;'
          ' double-chain n kappa/(d_L-n) vs 40-digit Q: %.1e' % (worst['norm'], worst['lay'], worst['Qd']))
    print('runtime %.1f s' % (time.time() - t0))
