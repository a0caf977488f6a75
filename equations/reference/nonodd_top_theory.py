"""Independent Python reference for the last layer of a network with a NON-ODD activation (relu,
sigmoid) trained by a mirror map (squared, entropic, p-norm), equations/nonodd.md sections 2-6.
Written from the equations only (src/ was not read); numpy + scipy.

What it computes
    Unit moments (N0) at an offset b (relu closed form, sigmoid by 200-node Gauss-Hermite), the fold
    (N1), the resolvent trace of the layer below tau_B(u), tau_B'(u) (L = 1: tau_0 = 1/(1+u); L = 2:
    the one-law layer equation of squared.md (3.1) for layer 1, differentiated implicitly), and the
    top system (N4a)-(N4e) in (beta, u, X, Y, lambda) over a law of units (Gauss-Hermite nodes in
    the offset b ~ N(0, M_{L-1}); one unit at L = 1).  Risk = delta X^2 - sigma^2.  Plus the L = 1
    feasibility boundary (N5).

Per-unit moments, by a 1-D integral (not the 2-D teacher x noise rule)
    V = E P'(chi), D = E (P(chi) - a)^2, gap = E (P(chi) - a), chi = a + s G.  Everything depends on
    (a, chi) only through P(chi) and the first two powers of a, so
        E h(P(chi)) a^k = int p(chi) E[a^k | chi] h(P(chi)) dchi,
    with closed forms: gaussian a ~ N(0, r^2): chi ~ N(0, S^2), S^2 = r^2 + s^2, a | chi ~ N(m, sc^2),
    m = chi r^2/S^2, sc = r s/S; half-normal a = r|xi|: the same Gaussian truncated to a > 0, i.e.
        p(chi) = 2 N(chi; 0, S^2) Phi(k),  p E[a|chi] = 2 N (m Phi(k) + sc phi(k)),
        p E[a^2|chi] = 2 N ((m^2 + sc^2) Phi(k) + m sc phi(k)),  k = m/sc.
    The chi integral is a composite Gauss-Legendre rule (20 nodes per panel) on [-12 S, 12 S]:
    uniform panels of width S/4, plus breakpoints graded geometrically (factor 2) towards the prox's
    bend chi0 (entropic: where omega = 1, chi0 = eta (1 - log(c/eta)); p-norm: the kink t = 0,
    chi0 = -eta phi'(c)) from width eta/64 upwards, and towards chi = 0 from width s/16 (the
    half-normal density bends there on the scale s).  `sub` splits every panel into `sub` pieces;
    the reported refinement change is the re-solve at sub = 2 (and twice the Gauss-Hermite nodes
    in b) against sub = 1.  `check_moments_2d` compares with a brute 2-D rule.
    Squared map: closed forms, P = (chi + eta c)/(1 + eta).

Teacher priors: 'gaussian', 'half-normal', and 'mix:P' (half-normal w.p. P, its mirror image w.p.
1 - P; P = 1/2 is the gaussian) for a continuation from a positive to a signed teacher.

Maps and the tilt (nonodd.md section 5): unit i's start is c_i with phi'(c_i) = phi'(c) - lambda mu_i:
    squared c_i = c - lambda mu_i; entropic c_i = c exp(-lambda mu_i) (carried as log c_i); p-norm
    phi'(c_i) = phi'(c) - lambda mu_i (only phi'(c_i) enters the p-norm prox).
"""
import math

import numpy as np
from numpy.polynomial.hermite import hermgauss
from numpy.polynomial.legendre import leggauss
from scipy import optimize, special

EPS = np.finfo(float).eps
SQ2PI = math.sqrt(2 * math.pi)
_GH200 = hermgauss(200)
_GL = {k: leggauss(k) for k in (20, 40)}


# ------------------------------------------------------------------ unit moments (N0)
def ncdf(x):
    return special.ndtr(x)


def npdf(x):
    return np.exp(-0.5 * np.asarray(x) ** 2) / SQ2PI


def unit_moments(act, b, v):
    """mu, Var sigma(b+z), rho1 = E sigma'(b+z) for z ~ N(0, v); vectorized in b."""
    b = np.asarray(b, dtype=float)
    if act == "relu":
        s = math.sqrt(v)
        t = b / s
        mu = b * ncdf(t) + s * npdf(t)
        e2 = (b * b + v) * ncdf(t) + b * s * npdf(t)
        var = e2 - mu * mu
        rho1 = ncdf(t)
        return mu, var, rho1
    if act.startswith("leaky-relu"):
        a = float(act.split(":")[1]) if ":" in act else 0.01
        mr, vr, r1r = unit_moments("relu", b, v)
        e2r = vr + mr * mr
        mu = a * b + (1 - a) * mr
        e2 = a * a * (b * b + v) + (1 - a * a) * e2r
        return mu, e2 - mu * mu, a + (1 - a) * r1r
    if act in ("sigmoid", "gelu"):
        x, w = _GH200
        z = math.sqrt(2 * v) * x
        y = b[..., None] + z
        w = w / math.sqrt(math.pi)
        if act == "sigmoid":
            f = special.expit(y)
            fp = f * (1 - f)
        else:
            f = y * ncdf(y)
            fp = ncdf(y) + y * npdf(y)
        mu = np.sum(w * f, axis=-1)
        var = np.sum(w * f * f, axis=-1) - mu * mu
        rho1 = np.sum(w * fp, axis=-1)
        return mu, var, rho1
    raise ValueError(act)


def fold(act, L, nb=48):
    """Layers 1..L.  Returns the list of unit laws [(weights, r1, r2, mu)], and v, M per layer.
    Layer 1: a single unit at b = 0, v_0 = 1.  Layer l >= 2: b ~ N(0, M_{l-1}) on nb GH nodes."""
    v, M = 1.0, 0.0
    laws, vs, Ms = [], [v], [M]
    for _ in range(L):
        if M == 0.0:
            bs, ws = np.array([0.0]), np.array([1.0])
        else:
            x, w = hermgauss(nb)
            bs, ws = math.sqrt(2 * M) * x, w / math.sqrt(math.pi)
            keep = ws > 1e-14
            bs, ws = bs[keep], ws[keep] / np.sum(ws[keep])
        mu, var, rho1 = unit_moments(act, bs, v)
        r1 = rho1 ** 2
        r2 = np.maximum(var - r1 * v, 0.0)
        laws.append((ws, r1, r2, mu))
        v, M = float(np.sum(ws * var)), float(np.sum(ws * mu * mu))
        vs.append(v)
        Ms.append(M)
    return laws, vs, Ms


# ------------------------------------------------------------------ layer below
class TauInput:
    """tau_0(u) = 1/(1+u) (B = I)."""

    def __call__(self, u):
        return 1 / (1 + u), -1 / (1 + u) ** 2


class TauOneLaw:
    """tau_1 of B = r1 W W^T + r2 I, W d1 x d0 with entries of variance 1/d0, gamma1 = d1/d0.
    squared.md (3.1): m_1(s) = 1/(r1 gamma1 u'), s = r1 u' (gamma1 - tau_0(u')) - r2;
    tau_1(s) = 1 - s m_1(s); derivative by (3.2)."""

    def __init__(self, r1, r2, gamma1):
        self.r1, self.r2, self.g = float(r1), float(r2), float(gamma1)

    def t(self, up):
        return self.r1 * up * (self.g - 1 / (1 + up)) - self.r2

    def shift(self, s):
        # t(u') is convex with t(0) = -r2; take the root on the increasing branch
        lo, hi = 0.0, 1.0
        while self.t(hi) < s:
            hi *= 2
        # lower bracket: the point where t = 0 / increasing: just use brentq from a point with t < s
        return optimize.brentq(lambda x: self.t(x) - s, lo, hi, xtol=1e-300, rtol=4 * EPS, maxiter=500)

    def __call__(self, s):
        up = self.shift(s)
        m = 1 / (self.r1 * self.g * up)
        tp = self.r1 * (self.g - 1 / (1 + up) ** 2)  # ds/du'
        dm = -1 / (self.r1 * self.g * up * up) / tp
        tau = 1 - s * m
        dtau = -m - s * dm
        return tau, dtau


def tau_below(act, widths, laws):
    """widths = [d0, d1, ..., dL]."""
    L = len(widths) - 1
    if L == 1:
        return TauInput()
    if L == 2:
        ws, r1, r2, mu = laws[0]
        return TauOneLaw(r1[0], r2[0], widths[1] / widths[0])
    raise NotImplementedError("L <= 2 only")


# ------------------------------------------------------------------ maps and prox
def wright_omega(z):
    """omega(z): omega + log omega = z; Newton on l = log omega (entropic.md section 7)."""
    z = np.asarray(z, dtype=float)
    ell = np.where(z <= 1, z, np.log(np.maximum(z, 1.0)))
    for _ in range(100):
        e = np.exp(ell)
        step = (e + ell - z) / (e + 1)
        ell = ell - step
        if np.all(np.abs(step) <= 4 * EPS * np.maximum(1, np.abs(ell))):
            break
    else:
        raise RuntimeError("omega Newton")
    return np.exp(ell)


class Map:
    def __init__(self, kind, c):
        self.kind = kind
        self.c = float(c)
        if kind.startswith("pnorm:"):
            self.q = float(kind.split(":")[1])
        if kind == "entropic" and not self.c > 0:
            raise ValueError("entropic needs c > 0")

    def gprime(self, x):
        if self.kind == "squared":
            return x
        if self.kind == "entropic":
            return 1 + math.log(x)
        q = self.q
        return math.copysign(abs(x) ** (q - 1), x)

    def tilt(self, lam_mu):
        """the parameter of unit i's prox: its start c_i (squared, entropic) or phi'(c_i) (p-norm)."""
        if self.kind == "squared":
            return self.c - lam_mu
        if self.kind == "entropic":
            return math.log(self.c) - lam_mu  # log c_i (no underflow for large tilts)
        return self.gprime(self.c) - lam_mu

    def prox(self, chi, eta, ci):
        """P and P' (vectorized in chi) at the unit's tilted parameter ci."""
        if self.kind == "entropic":
            om = wright_omega(chi / eta + ci - math.log(eta))
            return eta * om, om / (1 + om)
        if self.kind == "squared":
            return (chi + eta * ci) / (1 + eta), np.full_like(chi, 1 / (1 + eta))
        q = self.q
        t = chi / eta + ci  # ci = phi'(c_i)
        sg, at = np.sign(t), np.abs(t)
        if q < 2:
            m = 1 / (q - 1)
            w = np.minimum(at, (eta * at) ** (1 / m))
            for _ in range(200):
                wm1 = w ** (m - 1)
                step = (w + w * wm1 / eta - at) / (1 + m * wm1 / eta)
                step = np.where(w > 0, step, 0.0)
                w = w - step
                if np.all(step <= 4 * EPS * w):
                    break
            else:
                raise RuntimeError("pnorm prox")
            w = np.maximum(w, 0.0)
            x = w ** m
            x2q = w ** ((2 - q) * m)
            return sg * x, x2q / (x2q + eta * (q - 1))
        x = np.minimum(eta * at, at ** (1 / (q - 1)))
        for _ in range(200):
            xp = x ** (q - 2)
            step = (x * xp + x / eta - at) / ((q - 1) * xp + 1 / eta)
            step = np.where(x > 0, step, 0.0)
            x = x - step
            if np.all(step <= 4 * EPS * x):
                break
        x = np.maximum(x, 0.0)
        return sg * x, 1 / (1 + eta * (q - 1) * x ** (q - 2))

    def bend(self, eta, ci):
        if self.kind == "entropic":
            return eta * (1 - ci + math.log(eta))
        if self.kind == "squared":
            return None
        return -eta * ci


# ------------------------------------------------------------------ teacher
def teacher_mean(prior, r):
    if prior.startswith("mix:"):  # half-normal w.p. P, its mirror image w.p. 1 - P (P = 1/2: gaussian)
        P = float(prior.split(":")[1])
        return (2 * P - 1) * r * math.sqrt(2 / math.pi)
    return r * math.sqrt(2 / math.pi) if prior == "half-normal" else 0.0


def chi_weights(prior, r, s, chi):
    """p(chi), p E[a|chi], p E[a^2|chi]."""
    if prior.startswith("mix:"):
        P = float(prior.split(":")[1])
        u0, u1, u2 = chi_weights("half-normal", r, s, chi)
        v0, v1, v2 = chi_weights("half-normal", r, s, -chi)
        return P * u0 + (1 - P) * v0, P * u1 - (1 - P) * v1, P * u2 + (1 - P) * v2
    S2 = r * r + s * s
    S = math.sqrt(S2)
    N = np.exp(-0.5 * chi * chi / S2) / (SQ2PI * S)
    m = chi * r * r / S2
    sc = r * s / S
    if prior == "gaussian":
        return N, N * m, N * (m * m + sc * sc)
    k = m / sc
    Pk, pk = ncdf(k), npdf(k)
    return 2 * N * Pk, 2 * N * (m * Pk + sc * pk), 2 * N * ((m * m + sc * sc) * Pk + m * sc * pk)


def _graded(center, scale, h0, lo, hi):
    out = [center] if lo < center < hi else []
    h = scale
    while h < h0:
        for sg in (-1, 1):
            v = center + sg * h
            if lo < v < hi:
                out.append(v)
        h *= 2
    return out


def chi_rule(S, s, centers, sub=1, nq=20):
    lo, hi = -12 * S, 12 * S
    h0 = S / 4
    bps = list(np.linspace(lo, hi, 97))
    bps += _graded(0.0, s / 16, h0, lo, hi)
    for c0, sc in centers:
        bps += _graded(c0, sc, h0, lo, hi)
    bps = np.unique(np.asarray(bps))
    if sub > 1:
        fr = np.arange(sub + 1) / sub
        bps = np.unique((bps[:-1, None] + (bps[1:] - bps[:-1])[:, None] * fr[None, :]).ravel())
    a, b = bps[:-1], bps[1:]
    keep = b - a > 1e-14 * S
    a, b = a[keep], b[keep]
    t, w = _GL[nq]
    x = (0.5 * (b - a)[:, None] * t + 0.5 * (b + a)[:, None]).ravel()
    wx = (0.5 * (b - a)[:, None] * w).ravel()
    return x, wx


def moments(mp, eta, s, ci, prior, r, sub=1):
    """V, D, gap for one unit."""
    ea = teacher_mean(prior, r)
    if mp.kind == "squared":
        V = 1 / (1 + eta)
        e2 = r * r - 2 * ci * ea + ci * ci  # E (c_i - a)^2
        D = (s * s + eta * eta * e2) / (1 + eta) ** 2
        gap = eta * (ci - ea) / (1 + eta)
        return V, D, gap
    S = math.sqrt(r * r + s * s)
    c0 = mp.bend(eta, ci)
    chi, w = chi_rule(S, s, [(c0, eta / 64)], sub)
    p0, p1, p2 = chi_weights(prior, r, s, chi)
    P, dP = mp.prox(chi, eta, ci)
    V = float(np.sum(w * p0 * dP))
    D = float(np.sum(w * (p0 * P * P - 2 * p1 * P + p2)))
    gap = float(np.sum(w * p0 * P)) - ea
    return V, D, gap


def check_moments_2d(mp, eta, s, ci, prior, r, n=4000):
    """brute force: G on a fine uniform-ish composite GL rule, a likewise (half-normal: a = r|xi|)."""
    t, w = leggauss(40)

    def comp(lo, hi, npan):
        e = np.linspace(lo, hi, npan + 1)
        x = (0.5 * (e[1:] - e[:-1])[:, None] * t + 0.5 * (e[1:] + e[:-1])[:, None]).ravel()
        wx = (0.5 * (e[1:] - e[:-1])[:, None] * w).ravel()
        return x, wx

    g, wg = comp(-10, 10, 200)
    wg = wg * npdf(g)
    if prior == "half-normal":
        xi, wx = comp(0, 10, 100)
        wx = 2 * wx * npdf(xi)
    else:
        xi, wx = comp(-10, 10, 200)
        wx = wx * npdf(xi)
    a = r * xi
    A = a[:, None] + 0 * g[None, :]
    chi = a[:, None] + s * g[None, :]
    W = wx[:, None] * wg[None, :]
    P, dP = mp.prox(chi.ravel(), eta, ci)
    P, dP = P.reshape(chi.shape), dP.reshape(chi.shape)
    return float(np.sum(W * dP)), float(np.sum(W * (P - A) ** 2)), float(np.sum(W * (P - A)))


# ------------------------------------------------------------------ the top system (N4a)-(N4e)
class Top:
    def __init__(self, act, widths, n, mirror, prior="half-normal", r=1.0, sigma=0.0, init=0.0, nb=48, sub=1):
        self.act, self.widths, self.n = act, list(widths), n
        self.dL = widths[-1]
        self.delta = n / self.dL
        self.gamma = widths[-1] / widths[-2]
        self.laws, self.vs, self.Ms = fold(act, len(widths) - 1, nb)
        self.w, self.r1, self.r2, self.mu = self.laws[-1]
        self.tauB = tau_below(act, widths, self.laws)
        self.c = math.sqrt(self.dL) * init
        self.mp = Map(mirror, self.c)
        self.prior, self.r, self.sigma, self.sub = prior, r, sigma, sub

    def units(self, y):
        lb, lu, lX, lY, lam = y
        beta, u, X, Y = math.exp(lb), math.exp(lu), math.exp(lX), math.exp(lY)
        tau, dtau = self.tauB(u)
        Q = self.r2 + self.r1 * u * tau
        out = []
        for k in range(len(self.w)):
            eta = 1 / (beta * Q[k])
            s = math.sqrt((X * X * self.r2[k] + self.gamma * self.r1[k] * Y * Y)) / Q[k]
            ci = self.mp.tilt(lam * self.mu[k])
            out.append(moments(self.mp, eta, s, ci, self.prior, self.r, self.sub))
        V, D, gap = (np.array(z) for z in zip(*out))
        return dict(beta=beta, u=u, X=X, Y=Y, lam=lam, tau=tau, dtau=dtau, Q=Q, V=V, D=D, gap=gap)

    def residuals(self, y):
        z = self.units(y)
        w, r1, r2, g, d = self.w, self.r1, self.r2, self.gamma, self.delta
        u, X, Y, tau, dtau, Q = z["u"], z["X"], z["Y"], z["tau"], z["dtau"], z["Q"]
        ra = g * u * np.sum(w * r1 * z["V"] / Q) - 1
        rb = (np.sum(w * r2 * z["V"] / Q) + tau / g) / d - 1
        lc = np.sum(w * z["D"] * r1) * (tau + u * dtau)
        rc_ = X * X * dtau / g + Y * Y / u ** 2
        rc = (lc - rc_) / (abs(lc) + abs(rc_))
        ld = np.sum(w * z["D"] * Q) + self.sigma ** 2
        rd_ = X * X * (d - tau / g) + Y * Y / u
        rd = (ld - rd_) / (abs(ld) + abs(rd_))
        re = np.sum(w * self.mu * z["gap"]) / (np.sum(w * np.abs(self.mu)) * (self.r + abs(self.c)))
        return np.array([ra, rb, rc, rd, re])

    # ---------- start: the averaged one-law problem, solved with its start moved
    def one_law_start(self):
        w = self.w
        r1, r2, mu = float(np.sum(w * self.r1)), float(np.sum(w * self.r2)), float(np.sum(w * self.mu))
        g, d = self.gamma, self.delta
        u = optimize.brentq(lambda u: self.tauB(u)[0] + r2 / (r1 * u) - g * d, 1e-12, 1e12, xtol=1e-300, rtol=4 * EPS)
        tau, dtau = self.tauB(u)
        Q = r1 * g * u * d
        R = r2 - r1 * u * u * dtau
        sol = solve_one_law(self.mp, self.prior, self.r, self.sigma ** 2 / Q, d, self.sub)
        eta, s, lm = sol["eta"], sol["s"], sol["lam_mu"]
        D = sol["D"]
        beta = 1 / (eta * Q)
        X2 = g * r1 * u * D + g * r1 * u * self.sigma ** 2 / R
        Y2 = u * (r1 * u * tau * D + self.sigma ** 2 * (R - r2) / R)
        lam = lm / mu
        return np.array([math.log(beta), math.log(u), 0.5 * math.log(X2), 0.5 * math.log(max(Y2, 1e-300)), lam])

    def solve(self, y0=None, tol=1e-13):
        y = self.one_law_start() if y0 is None else np.asarray(y0, float)
        sol = optimize.root(self.residuals, y, method="hybr", options=dict(xtol=1e-14))
        y = sol.x
        F = self.residuals(y)
        for _ in range(4):  # Newton polish, central-difference Jacobian
            if np.max(np.abs(F)) < 1e-15:
                break
            J = np.zeros((5, 5))
            for j in range(5):
                h = 1e-6 * max(1.0, abs(y[j]))
                e = np.zeros(5)
                e[j] = h
                J[:, j] = (self.residuals(y + e) - self.residuals(y - e)) / (2 * h)
            yn = y - np.linalg.solve(J, F)
            Fn = self.residuals(yn)
            if np.max(np.abs(Fn)) < np.max(np.abs(F)):
                y, F = yn, Fn
            else:
                break
        z = self.units(y)
        risk = self.delta * z["X"] ** 2 - self.sigma ** 2
        return dict(y=y, res=F, risk=risk, **z)


def solve_one_law(mp, prior, r, s2noise, delta, sub=1):
    """entropic.md (T1), (T2) with the start moved so that (N4e) holds: E(P - a) = 0 (one law).
    unknowns (log eta, log s, theta = lambda mu)."""
    ea = teacher_mean(prior, r)
    var_a = r * r - ea * ea

    def F(v):
        eta, s = math.exp(v[0]), math.exp(v[1])
        ci = mp.tilt(v[2])
        V, D, gap = moments(mp, eta, s, ci, prior, r, sub)
        return np.array([V / delta - 1, (D + s2noise) / (delta * s * s) - 1, gap / r])

    eta0 = (1 - delta) / delta
    s0 = math.sqrt(((1 - delta) ** 2 * var_a + s2noise) / (delta * (1 - delta)))
    # start: the squared map's solution, with the start moved to the teacher's mean (c' = E a)
    if mp.kind == "squared":
        th0 = mp.c - ea
    elif mp.kind == "entropic":
        eta0 *= ea
        th0 = math.log(mp.c / ea)
    else:
        th0 = mp.gprime(mp.c) - (mp.gprime(ea) if ea != 0 else 0.0)
    best = None
    for v0 in ([math.log(eta0), math.log(s0), th0], [math.log(eta0 / 4), math.log(s0), th0]):
        sol = optimize.root(F, np.array(v0), method="hybr", options=dict(xtol=1e-14))
        Fv = F(sol.x)
        if best is None or np.max(np.abs(Fv)) < np.max(np.abs(best[1])):
            best = (sol.x, Fv)
        if np.max(np.abs(Fv)) < 1e-12:
            break
    v = best[0]
    eta, s = math.exp(v[0]), math.exp(v[1])
    V, D, gap = moments(mp, eta, s, mp.tilt(v[2]), prior, r, sub)
    return dict(eta=eta, s=s, lam_mu=v[2], D=D, V=V, gap=gap, res=best[1])


def solve_signed(act, widths, n, mirror, r, sigma, init, steps=25, nb=48, sub=1):
    """A signed (gaussian) teacher by continuation in the prior 'mix:P' (half-normal w.p. P, its mirror
    image w.p. 1 - P) from P = 1 (half-normal) to P = 1/2 (gaussian).  Returns the last solution and
    the last P reached with residual < 1e-10 (P = 0.5: the gaussian teacher has a solution)."""
    top = Top(act, widths, n, mirror, "half-normal", r, sigma, init, nb, sub)
    sol = top.solve()
    last = (1.0, sol)
    for P in np.linspace(1, 0.5, steps + 1)[1:]:
        top = Top(act, widths, n, mirror, "mix:%.12f" % P, r, sigma, init, nb, sub)
        try:
            sol = top.solve(y0=last[1]["y"])
        except (RuntimeError, ValueError, OverflowError, np.linalg.LinAlgError):
            break
        if not np.max(np.abs(sol["res"])) < 1e-10:
            break
        last = (P, sol)
    return last


# ------------------------------------------------------------------ L = 1 chain scalars, (4.6)-(4.7)
def l1_scalars(act, d0, dL, n):
    laws, _, _ = fold(act, 1)
    _, r1, r2, mu = laws[0]
    r1, r2 = float(r1[0]), float(r2[0])
    g, d = dL / d0, n / dL
    u = optimize.brentq(lambda u: 1 / (1 + u) + r2 / (r1 * u) - g * d, 1e-14, 1e14, xtol=1e-300, rtol=4 * EPS)
    Q = r1 * g * u * d
    R = r2 + r1 * u * u / (1 + u) ** 2
    kappa = r1 * u * (g - 1 / (1 + u)) - r2
    return dict(u=u, Q=Q, R=R, kappa=kappa, Q47=n * kappa / (dL - n), r1=r1, r2=r2, mu=float(mu[0]))


# ------------------------------------------------------------------ (N5) feasibility at L = 1
def _threshold_moments(prior, r, s, tau, sub=2):
    """Pr(chi > tau), E (chi - tau)_+, E e_+^2 with e_+ = (chi - tau)_+ - a."""
    S = math.sqrt(r * r + s * s)
    chi, w = chi_rule(S, s, [(tau, s / 64)], sub, nq=40)
    p0, p1, p2 = chi_weights(prior, r, s, chi)
    P = np.maximum(chi - tau, 0.0)
    on = chi > tau
    return (float(np.sum(w * p0 * on)), float(np.sum(w * p0 * P)),
            float(np.sum(w * (p0 * P * P - 2 * p1 * P + p2))))


def lambda_m(prior, r, s, s2noise):
    ea = teacher_mean(prior, r)
    f = lambda t: _threshold_moments(prior, r, s, t)[1] - ea  # noqa: E731  decreasing in tau
    lo, hi = -1.0, 1.0
    while f(lo) < 0:
        lo *= 2
    while f(hi) > 0:
        hi *= 2
    tau = optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * EPS)
    Pp, _, E2 = _threshold_moments(prior, r, s, tau)
    return 2 * Pp - (E2 + s2noise) / (s * s), tau


def sup_lambda(prior, r, s2noise):
    ls = np.linspace(math.log(0.01), math.log(50), 61)
    vals = [lambda_m(prior, r, math.exp(x), s2noise)[0] for x in ls]
    k = int(np.argmax(vals))
    res = optimize.minimize_scalar(lambda x: -lambda_m(prior, r, math.exp(x), s2noise)[0],
                                   bracket=(ls[max(k - 1, 0)], ls[k], ls[min(k + 1, len(ls) - 1)]),
                                   tol=1e-12)
    return -res.fun, math.exp(res.x)


def boundary_l1(act, d0, dL, sigma, prior="half-normal", r=1.0):
    """root in delta of sup_s Lambda_m(s; sigma^2/Q(delta)) = delta, Q from the L = 1 chain."""
    def g(d):
        Q = l1_scalars(act, d0, dL, d * dL)["Q"]
        return sup_lambda(prior, r, sigma ** 2 / Q)[0] - d
    dc = optimize.brentq(g, 0.3, 0.95, xtol=1e-13)
    return dc
