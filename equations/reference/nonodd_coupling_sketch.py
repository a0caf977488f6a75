"""UNVALIDATED SKETCH (equations/nonodd.md §7, "The next step"): the rank-one coupling term at L = 2
added to the referee's top system of nonodd_top_theory.py (a direction v_i = rho1(b_i) b_i of strength
theta = gamma_2 v_1 / M_1, a second tilt lambda_2 v_i of each unit's start, one more equation).

    /tmp/w/py/bin/python equations/reference/nonodd_coupling_sketch.py   (numpy, scipy)

It printed (ReLU, d0 = 400, widths 1000, 1000, n = 300, noise 0.1): squared, half-normal: +7.45%;
squared, Gaussian teacher: 0.00%; entropic, half-normal, init 0.03: +0.70%; sigmoid squared
half-normal: +0.07%. The Gaussian-equivalent simulation measured about +4% and +1.7% for the first
and third, so the sign and the zero for a centred teacher are right and the size is not: the sketch
is incomplete. It is not used by rfrisk."""
import sys, math, numpy as np
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
import nonodd_top_theory as T
from numpy.polynomial.hermite import hermgauss
from scipy import optimize

class Coupled(T.Top):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        M = self.Ms[-2]; vprev = self.vs[-2]
        x, w = hermgauss(48); bs = math.sqrt(2*M)*x; ws = w/math.sqrt(math.pi); bs = bs[ws > 1e-14]
        assert len(bs) == len(self.w)
        self.v = np.sqrt(self.r1) * bs
        self.theta = self.gamma * vprev / M
    def units2(self, y):
        lb, lu, lX, lY, lam, lam2 = y
        beta, u, X, Y = math.exp(lb), math.exp(lu), math.exp(lX), math.exp(lY)
        tau, dtau = self.tauB(u)
        Q = self.r2 + self.r1*u*tau
        out = []
        for k in range(len(self.w)):
            eta = 1/(beta*Q[k]); s = math.sqrt(X*X*self.r2[k] + self.gamma*self.r1[k]*Y*Y)/Q[k]
            ci = self.mp.tilt(lam*self.mu[k] + lam2*self.v[k])
            out.append(T.moments(self.mp, eta, s, ci, self.prior, self.r, self.sub))
        V, D, gap = (np.array(z) for z in zip(*out))
        return dict(beta=beta, u=u, X=X, Y=Y, tau=tau, dtau=dtau, Q=Q, V=V, D=D, gap=gap, lam2=lam2)
    def residuals2(self, y):
        z = self.units2(y); w, r1, r2, g, d = self.w, self.r1, self.r2, self.gamma, self.delta
        u, X, Y, tau, dtau, Q = z["u"], z["X"], z["Y"], z["tau"], z["dtau"], z["Q"]
        t2 = z["lam2"]/(z["beta"]*self.theta)
        ra = g*u*np.sum(w*r1*z["V"]/Q) - 1
        rb = (np.sum(w*r2*z["V"]/Q) + tau/g)/d - 1
        lc = np.sum(w*z["D"]*r1)*(tau + u*dtau); rc_ = X*X*dtau/g + Y*Y/u**2
        rc = (lc - rc_)/(abs(lc)+abs(rc_))
        ld = np.sum(w*z["D"]*Q) + self.theta*t2*t2 + self.sigma**2; rd_ = X*X*(d - tau/g) + Y*Y/u
        rd = (ld - rd_)/(abs(ld)+abs(rd_))
        re = np.sum(w*self.mu*z["gap"])/(np.sum(w*np.abs(self.mu))*(self.r+abs(self.c)))
        rf = (np.sum(w*self.v*z["gap"]) - t2)/(np.sum(w*np.abs(self.v))*(self.r+abs(self.c)))
        return np.array([ra, rb, rc, rd, re, rf])

for mirror, prior, init, sigma, act in [("squared","half-normal",0.0,0.1,"relu"), ("squared","gaussian",0.0,0.1,"relu"), ("entropic","half-normal",0.03,0.1,"relu"), ("squared","half-normal",0.0,0.1,"sigmoid")]:
    t = Coupled(act, [400,1000,1000], 300, mirror, prior=prior, r=1.0, sigma=sigma, init=init)
    base = t.solve()
    y0 = np.append(base["y"], 0.0)
    sol = optimize.root(t.residuals2, y0, method="hybr", options=dict(xtol=1e-14))
    z = t.units2(sol.x); risk = t.delta*z["X"]**2 - t.sigma**2
    print(f"{act} {mirror} {prior} init {init}: theta {t.theta:.4f}; uncoupled {base['risk']:.6f}, coupled {risk:.6f} ({(risk/base['risk']-1)*100:+.2f}%), max res {np.max(np.abs(t.residuals2(sol.x))):.1e}, t2 {z['lam2']/(z['beta']*t.theta):.4f}")
