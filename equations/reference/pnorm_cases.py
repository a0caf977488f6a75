"""Reference numbers for the p-norm mirror maps (training.mirror=pnorm:q, phi(x) = |x|^q/q),
printed by the independent Python reference pnorm_theory.py (numpy, scipy; it does not use or
mirror the Rust code):

    python3 equations/reference/pnorm_cases.py            # the 8 cases
    python3 equations/reference/pnorm_cases.py --extra    # also the q -> 1 (q = 1.1) and q = 4 scans

Each case: rfrisk's defaults data.dim = 1000, features.activation = tanh, teacher.norm2 = 1,
teacher at the last layer, training.init = a_0,i (scaled start c = sqrt(d_L) init, default 0).
The top problem (T1)-(T2) of equations/entropic.md (6.2) is solved by scipy.optimize.root
(hybr, then Newton polish) on the 2-D teacher x noise Gauss-Legendre rule of pnorm_theory.py
(breakpoints at the P = 0 point chi0 = -eta sgn(c)|c|^{q-1}, graded); the risk is (6.3).
Printed per case: the --set assignments, eta, s, the excess risk (12 significant digits), the
largest residual, and the refinement change: max relative change of (eta, s, risk) when every
quadrature panel is split in two (sub = 2) and the system is re-solved.  q = 2 (case 8) is also
compared with the squared map's closed form (entropic.md section 9) and with
entropic_theory.predict('squared', ...) (the existing reference; its gaussian prior has the same
r_eff^2 = 1 as sparse:0.1, the only way the prior enters the squared map).
"""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pnorm_theory as pt  # noqa: E402

D0 = 1000
# (widths without d0, n, q, prior, noise_std, init)
CASES = [
    ([1500], 600, 1.25, "gaussian", 0.0, 0.0),
    ([1500], 600, 1.5, "sparse:0.1", 0.1, 0.0),
    ([1200, 1500], 500, 3.0, "gaussian", 0.1, 0.0),
    ([1500], 600, 3.0, "sparse:0.1", 0.0, 0.0),
    ([1200, 1500], 600, 1.25, "sparse:0.1", 0.1, 0.0),
    ([1500], 400, 1.5, "gaussian", 0.1, 0.02),
    ([1500], 600, 3.0, "sparse:0.1", 0.1, -0.01),
    ([1500], 600, 2.0, "sparse:0.1", 0.1, 0.0),
]


def fmt_q(q):
    return f"{q:g}"


def assignments(widths, n, q, prior, sigma, init):
    s = f"features.widths=[{','.join(str(w) for w in widths)}] training.samples={n} training.mirror=pnorm:{fmt_q(q)}"
    s += f" teacher.prior={prior} teacher.noise_std={sigma:g}"
    if init != 0.0:
        s += f" training.init={init:g}"
    return s


def run(case, refine=True):
    widths, n, q, prior, sigma, init = case
    t0 = time.time()
    p = pt.predict([D0] + widths, n, q, prior, 1.0, sigma, init, sub=1)
    out = dict(p=p)
    if refine:
        p2 = pt.predict([D0] + widths, n, q, prior, 1.0, sigma, init, sub=2, start=(p["eta"], p["s"]))
        out["p2"] = p2
        out["change"] = max(abs(p2[k] / p[k] - 1) for k in ("eta", "s", "risk"))
    out["time"] = time.time() - t0
    return out


def squared_checks(case, p):
    """q = 2: closed form of entropic.md section 9 and the existing reference's squared predict."""
    from entropic_theory import predict as ent_predict

    widths, n, q, prior, sigma, init = case
    d = p["delta"]
    Q = p["Q"]
    reff2 = 1.0 + p["c"] ** 2
    eta = (1 - d) / d
    s = math.sqrt(((1 - d) ** 2 * reff2 + sigma**2 / Q) / (d * (1 - d)))  # section 9
    D = (1 - d) * reff2 + d * sigma**2 / ((1 - d) * Q)
    risk = Q * D + sigma**2 * p["noise_gain"]
    ref = ent_predict("squared", "tanh", [D0] + widths, n, "gaussian", 1.0, p["c"], sigma)
    return dict(eta=eta, s=s, risk=risk, ref_eta=ref["eta"], ref_s=ref["s"], ref_risk=float(ref["risk"]))


def main(extra=False):
    t_all = time.time()
    print("prox (vectorized Newton) vs bracketed brentq, max relative difference:", f"{pt.check_prox():.1e}")
    for i, case in enumerate(CASES, 1):
        o = run(case)
        p = o["p"]
        print(f"{i}. {assignments(*case)}")
        print(f"   eta {p['eta']:.12g}  s {p['s']:.12g}  risk {p['risk']:.12g}  "
              f"(residual {max(abs(p['res'])):.1e}, refinement change {o['change']:.1e}, "
              f"(4.5)-form risk differs by {abs(p['risk_QR'] / p['risk'] - 1):.1e}, Q {p['Q']:.12g}, D {p['D']:.12g}, "
              f"{o['time']:.0f} s)")
        if case[2] == 2.0:
            sq = squared_checks(case, p)
            print(f"   squared closed form: eta {sq['eta']:.12g}  s {sq['s']:.12g}  risk {sq['risk']:.12g};  "
                  f"entropic_theory squared: eta {sq['ref_eta']:.12g}  s {sq['ref_s']:.12g}  risk {sq['ref_risk']:.12g}")
    if extra:
        print("q scans (case 4 and case 2 and case 1 setups)")
        for base in (CASES[3], CASES[1], CASES[0]):
            qs = (1.03, 1.05, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0) if base is CASES[3] else (1.05, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0)
            for q in qs:
                case = (base[0], base[1], q) + base[3:]
                o = run(case, refine=(q in (1.03, 1.05, 1.1, 4.0)))
                p = o["p"]
                ch = f"{o['change']:.1e}" if "change" in o else "-"
                print(f"   {assignments(*case)}: eta {p['eta']:.12g}  s {p['s']:.12g}  risk {p['risk']:.12g}  "
                      f"D {p['D']:.6g} (residual {max(abs(p['res'])):.1e}, refinement {ch}, "
                      f"{'continuation in q' if p['continued'] else 'direct from the squared start'}, {o['time']:.0f} s)")
    print(f"total {time.time() - t_all:.0f} s")


if __name__ == "__main__":
    main(extra="--extra" in sys.argv)
