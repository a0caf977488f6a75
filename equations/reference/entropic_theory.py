# Python reference of equations/entropic.md (numpy, scipy): the solver of the final
# system used to verify the derivation against simulation. Not part of the build;
# the Rust port (issue 4) is to be checked against it.
import numpy as np
from scipy import special, optimize
from numpy.polynomial.legendre import leggauss
from numpy.polynomial.hermite import hermgauss

# ---------- GEP coefficients (tanh / identity) ----------
_xh, _wh = hermgauss(200)
def gep_coeffs(act, L, v0=1.0):
    out=[]; v=v0
    for _ in range(L):
        if act=='identity':
            r1, vo = 1.0, v
        elif act=='tanh':
            z=np.sqrt(2*v)*_xh
            r1=np.sum(_wh*z*np.tanh(z))/np.sqrt(np.pi)/v
            vo=np.sum(_wh*np.tanh(z)**2)/np.sqrt(np.pi)
        r2sq=max(vo-r1**2*v,0.0)
        out.append((r1,r2sq)); v=vo
    return out

# ---------- squared chain (squared.md 5.2) ----------
def chain(u1, widths, coeffs):
    """returns list of (u_l, tau_{l-1}(u_l), tau'_{l-1}(u_l)) for l=1..L and (kappa, tau_L, tau_L')"""
    u=u1; tau=1/(1+u); dtau=-1/(1+u)**2
    rec=[]
    for l,(r1,r2sq) in enumerate(coeffs):
        g=widths[l+1]/widths[l]
        rec.append((u,tau,dtau))
        unext=r1**2*u*(g-tau)-r2sq
        if unext<=0: return rec, None
        taun=(tau+r2sq/(r1**2*u))/g
        dtaun=((dtau-r2sq/(r1**2*u**2))/g)/(r1**2*(g-tau-u*dtau))
        u,tau,dtau=unext,taun,dtaun
    return rec,(u,tau,dtau)

def solve_layers(widths, coeffs, n):
    d=n/widths[-1]
    def f(x):
        rec,top=chain(np.exp(x),widths,coeffs)
        if top is None: return 1-d
        return top[1]-d
    lo,hi=-1.0,1.0
    while f(hi)>=0: hi+=2
    while f(lo)<0: lo-=2
    x=optimize.brentq(f,lo,hi,xtol=1e-15,rtol=1e-15)
    rec,top=chain(np.exp(x),widths,coeffs)
    return rec,top

def top_scalars(widths, coeffs, n):
    """u=u_L, T=tau_{L-1}(u), T'=..., Q, R, plus squared kappa, tau_L, tau_L'"""
    rec,top=solve_layers(widths,coeffs,n)
    u,T,dT=rec[-1]; r1,r2sq=coeffs[-1]
    g=widths[-1]/widths[-2]; d=n/widths[-1]
    Q=r2sq+r1**2*u*T
    R=r2sq-r1**2*u**2*dT
    return dict(u=u,T=T,dT=dT,Q=Q,R=R,gamma=g,delta=d,kappa=top[0],tauL=top[1],dtauL=top[2],rec=rec,
                Qcheck=r1**2*g*u*d)

# ---------- quadrature over prior x gaussian ----------
def gl_composite(a,b,panels,q=16):
    t,w=leggauss(q)
    edges=np.linspace(a,b,panels+1)
    xs=[];ws=[]
    for i in range(panels):
        lo,hi=edges[i],edges[i+1]
        xs.append(0.5*(hi-lo)*t+0.5*(hi+lo)); ws.append(0.5*(hi-lo)*w)
    return np.concatenate(xs),np.concatenate(ws)

def prior_nodes(prior, r, nq=None):
    if prior=='gaussian':
        x,w=gl_composite(-12,12,48,16); w=w*np.exp(-x**2/2)/np.sqrt(2*np.pi)
        return r*x,w
    if prior=='halfnormal':
        x,w=gl_composite(0,12,48,16); w=2*w*np.exp(-x**2/2)/np.sqrt(2*np.pi)
        return r*x,w
    if prior=='const':
        return np.array([r]),np.array([1.0])
    raise ValueError

# ---------- mirror maps: prox in scaled coordinates ----------
def prox_entropic(chi, eta, cbar):
    # argmin_x x log(x/c) - x + c + (x-chi)^2/(2 eta) = eta * W(c/eta exp(chi/eta))
    z=np.log(cbar/eta)+chi/eta
    w=special.wrightomega(z).real
    x=eta*w
    dx=x/(x+eta)
    return x,dx

def prox_squared(chi, eta, cbar):
    x=(chi+eta*cbar)/(1+eta)
    return x,np.full_like(chi,1/(1+eta))

def prox_project(chi, eta, cbar):
    return np.maximum(chi,0),(chi>0).astype(float)

def moments(prox, eta, s, cbar, prior, r):
    """E prox'(A+sG), E (prox(A+sG)-A)^2"""
    A,wA=prior_nodes(prior,r)
    g,wg=gl_composite(-10,10,80,16); wg=wg*np.exp(-g**2/2)/np.sqrt(2*np.pi)
    chi=A[:,None]+s*g[None,:]
    x,dx=prox(chi,eta,cbar)
    W=wA[:,None]*wg[None,:]
    V=np.sum(W*dx); E2=np.sum(W*(x-A[:,None])**2)
    return V,E2

def solve_top(prox, cbar, prior, r, sigma2, delta, Q, eta0, s0, tol=1e-13, verbose=False):
    """solve E prox' = delta, delta s^2 = E e^2 + sigma^2/Q, by Newton in (log eta, log s) with FD jacobian"""
    def res(v):
        eta,s=np.exp(v)
        V,E2=moments_fine(prox,eta,s,cbar,prior,r)
        return np.array([V/delta-1, (E2+sigma2/Q)/(delta*s*s)-1])
    v=np.log([eta0,s0])
    for it in range(100):
        F=res(v)
        if np.max(np.abs(F))<tol: break
        J=np.zeros((2,2)); h=1e-6
        for j in range(2):
            dv=np.zeros(2); dv[j]=h
            J[:,j]=(res(v+dv)-res(v-dv))/(2*h)
        step=np.linalg.solve(J,-F)
        t=1.0
        while t>1e-6:
            vn=v+t*np.clip(step,-2,2)
            Fn=res(vn)
            if np.all(np.isfinite(Fn)) and np.max(np.abs(Fn))<np.max(np.abs(F))*(1-1e-4*t) : break
            t/=2
        v=vn
        if verbose: print(it,np.exp(v),Fn)
    eta,s=np.exp(v)
    V,E2=moments_fine(prox,eta,s,cbar,prior,r)
    return eta,s,V,E2,res(v)

def risk(Q,R,E2,sigma2):
    return Q*E2+sigma2*(Q/R-1)

def predict(mirror, act, widths, n, prior, r, cbar, sigma, verbose=False):
    L=len(widths)-1
    coeffs=gep_coeffs(act,L)
    ts=top_scalars(widths,coeffs,n)
    d=ts['delta']; Q=ts['Q']; R=ts['R']
    prox={'entropic':prox_entropic,'squared':prox_squared}[mirror]
    reff2=np.sum(prior_nodes(prior,r)[1]*(prior_nodes(prior,r)[0]-cbar)**2)
    # starting point: squared-map solution for the local quadratic model (step eta/cbar)
    if mirror=='entropic':
        eta0=cbar*(1/d-1)
    else:
        eta0=1/d-1
    s0=np.sqrt(((1-d)*reff2+sigma**2/Q)/(d*(1-d)))
    eta,s,V,E2,F=solve_top(prox,cbar,prior,r,sigma**2,d,Q,eta0,s0,verbose=verbose)
    return dict(eta=eta,s=s,E2=E2,res=F,risk=risk(Q,R,E2,sigma**2),ts=ts,reff2=reff2)

def chi_grid(lo, hi, eta, q=16):
    bp=set(np.linspace(lo,hi,121).tolist())
    bp.add(0.0)
    for k in range(-6,7):
        for sgn in (-1,1):
            v=sgn*eta*2.0**k
            if lo<v<hi: bp.add(v)
    bp=np.array(sorted(bp))
    t,w=leggauss(q)
    xs=(0.5*(bp[1:]-bp[:-1])[:,None]*t[None,:]+0.5*(bp[1:]+bp[:-1])[:,None]).ravel()
    ws=(0.5*(bp[1:]-bp[:-1])[:,None]*w[None,:]).ravel()
    return xs,ws

def moments_fine(prox, eta, s, cbar, prior, r):
    """same as moments but integrating over chi=A+sG on a grid refined around chi=0 at scale eta"""
    A,wA=prior_nodes(prior,r)
    lo=A.min()-12*s; hi=A.max()+12*s
    chi,wc=chi_grid(lo,hi,max(eta,1e-12))
    x,dx=prox(chi,eta,cbar)
    K=np.exp(-0.5*((chi[None,:]-A[:,None])/s)**2)/(s*np.sqrt(2*np.pi))*wc[None,:]
    W=wA[:,None]*K
    V=np.sum(W*dx[None,:]); E2=np.sum(W*(x[None,:]-A[:,None])**2)
    return V,E2
