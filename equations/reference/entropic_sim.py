# Monte Carlo of the GEP Gaussian model under the entropic map (dual Newton), the
# simulation equations/entropic.md was checked against. Run beside entropic_theory.py.
import numpy as np, time
from entropic_theory import gep_coeffs

def realized_sigma(act, widths, rng):
    coeffs=gep_coeffs(act,len(widths)-1)
    S=np.eye(widths[0])
    for l,(r1,r2sq) in enumerate(coeffs):
        W=rng.standard_normal((widths[l+1],widths[l]))/np.sqrt(widths[l])
        S=r1**2*W@S@W.T+r2sq*np.eye(widths[l+1])
    return S

def sqrtm_psd(S):
    lam,U=np.linalg.eigh(S)
    return (U*np.sqrt(np.maximum(lam,0)))@U.T

def entropic_interp(Pt, y, cbar, tol=1e-11, maxit=200):
    """argmin sum D(abar, cbar) s.t. Pt abar = y (Pt = Phi/sqrt p); dual Newton. returns abar or None if no convergence"""
    n,p=Pt.shape
    lam=np.zeros(n)
    def dual(lam):
        z=Pt.T@lam
        return lam@y-cbar*np.sum(np.exp(z)), z
    Dv,z=dual(lam)
    ny=np.linalg.norm(y)
    for it in range(maxit):
        a=cbar*np.exp(z)
        g=y-Pt@a
        if np.linalg.norm(g)<tol*ny: return a,it
        H=(Pt*a)@Pt.T
        try:
            c=np.linalg.cholesky(H+1e-14*np.trace(H)/n*np.eye(n))
            step=np.linalg.solve(c.T,np.linalg.solve(c,g))
        except np.linalg.LinAlgError:
            step=np.linalg.lstsq(H,g,rcond=None)[0]
        t=1.0; dec=g@step
        if np.linalg.norm(g)<1e-6*ny:
            Dn,zn=dual(lam+step)   # local quadratic convergence: take the full step (the dual value is at roundoff level)
        else:
          while True:
            Dn,zn=dual(lam+t*step)
            if np.isfinite(Dn) and Dn>=Dv+1e-4*t*dec: break
            t/=2
            if t<1e-12: return None,it
        lam=lam+t*step; Dv,z=Dn,zn
    return None,maxit

def trial(act, widths, n, prior, r, cbar, sigma, rng, mirror='entropic', with_stats=False):
    p=widths[-1]
    S=realized_sigma(act,widths,rng)
    Sh=sqrtm_psd(S)
    Z=rng.standard_normal((n,p))
    Pt=(Z@Sh)/np.sqrt(p)
    xi=rng.standard_normal(p)
    astar=r*(np.abs(xi) if prior=='halfnormal' else xi)
    y=Pt@astar+sigma*rng.standard_normal(n)
    if mirror=='entropic':
        a,it=entropic_interp(Pt,y,cbar)
        if a is None: return None
    else:
        a0=np.full(p,cbar)
        a=a0+Pt.T@np.linalg.solve(Pt@Pt.T,y-Pt@a0)
    e=a-astar
    if mirror=='entropic' and with_stats:
        return e@S@e/p, e@e/p, a
    return e@S@e/p

if __name__=='__main__':
    rng=np.random.default_rng(0)
    t=time.time()
    print(trial('tanh',[1000,1500],600,'halfnormal',1.0,np.sqrt(2/np.pi),0.0,rng), time.time()-t)
