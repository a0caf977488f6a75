"""Reference numbers for non-odd activations trained by a mirror map (equations/nonodd.md sections 5-6),
printed by the independent Python reference nonodd_top_theory.py (numpy, scipy; it does not use or
mirror the Rust code):

    python3 equations/reference/nonodd_top_cases.py

Each case: rfrisk's defaults teacher at the last layer, teacher.norm2 = 1, gaussian weights; the
spec is /tmp/w/ent1.toml (relu, d0 = 400, widths [1000], n = 300, entropic, half-normal,
init 0.03, noise 0.1) or ent2.toml (the same with widths [1000, 1000]) with the --set assignments
printed.  Printed per case: (beta, u, X, Y, lambda), the excess risk delta X^2 - sigma^2 (12
significant digits), the largest residual of (N4a)-(N4e), and the refinement change: the relative
change of the risk when every chi panel is split in two and the offset rule has 1.5x the
Gauss-Hermite nodes (64 against 48 at L = 2), the system re-solved.  Case g is the L = 1 boundary
(N5); case h solves (N4a)-(N4e) for a signed (gaussian) teacher with the entropic map at L = 2 by
continuation in the prior (nonodd_top_theory.solve_signed): for GELU at n = 100 it has a solution,
although section 5 says there is none at any n (GELU and leaky-ReLU offsets give units with mu_i < 0).
Runs in about 3 minutes on one core (case h is most of it).
"""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nonodd_top_theory as T  # noqa: E402

# name, spec, activation, widths (with d0), n, mirror, prior, noise, init
CASES = [
    ("a0", "ent1", "relu", [400, 1000], 300, "entropic", "half-normal", 0.0, 0.03),
    ("a1", "ent1", "relu", [400, 1000], 300, "entropic", "half-normal", 0.1, 0.03),
    ("b", "ent1", "relu", [400, 1000], 300, "squared", "half-normal", 0.1, 0.05),
    ("c", "ent1", "relu", [400, 1000], 300, "pnorm:1.5", "gaussian", 0.1, 0.02),
    ("d", "ent2", "relu", [400, 1000, 1000], 300, "entropic", "half-normal", 0.1, 0.03),
    ("e", "ent2", "relu", [400, 1000, 1000], 300, "squared", "half-normal", 0.1, 0.0),
    ("f", "ent2", "sigmoid", [400, 1000, 1000], 300, "entropic", "half-normal", 0.0, 0.03),
]


def assignments(case):
    name, spec, act, widths, n, mirror, prior, sigma, init = case
    base = dict(activation="relu", mirror="entropic", prior="half-normal", noise=0.1, init=0.03)
    out = []
    if act != base["activation"]:
        out.append(f"features.activation={act}")
    if mirror != base["mirror"]:
        out.append(f"training.mirror={mirror}")
    if prior != base["prior"]:
        out.append(f"teacher.prior={prior}")
    if sigma != base["noise"]:
        out.append(f"teacher.noise_std={sigma:g}")
    if init != base["init"]:
        out.append(f"training.init={init:g}")
    return f"rfrisk predict /tmp/w/{spec}.toml " + " ".join("--set " + a for a in out)


def run(case):
    name, spec, act, widths, n, mirror, prior, sigma, init = case
    t0 = time.time()
    top = T.Top(act, widths, n, mirror, prior, 1.0, sigma, init, nb=48, sub=1)
    sol = top.solve()
    top2 = T.Top(act, widths, n, mirror, prior, 1.0, sigma, init, nb=64 if len(widths) > 2 else 48, sub=2)
    sol2 = top2.solve(y0=sol["y"])
    change = abs(sol2["risk"] / sol["risk"] - 1)
    return top, sol, sol2, change, time.time() - t0


def main():
    t_all = time.time()
    results = {}
    for case in CASES:
        top, sol, sol2, change, dt = run(case)
        results[case[0]] = sol["risk"]
        b, u, X, Y, lam = sol["beta"], sol["u"], sol["X"], sol["Y"], sol["lam"]
        print(f"{case[0]}. {assignments(case)}")
        print(f"   beta {b:.12g}  u {u:.12g}  X {X:.12g}  Y {Y:.12g}  lambda {lam:.12g}")
        print(f"   risk {sol['risk']:.12g}   (max residual {max(abs(sol['res'])):.1e}; refined {sol2['risk']:.12g}, "
              f"change {change:.1e}, residual {max(abs(sol2['res'])):.1e}; {len(top.w)} units; {dt:.1f} s)")
        if len(case[3]) == 2:
            sc = T.l1_scalars(case[2], case[3][0], case[3][1], case[4])
            D = float(sol["D"][0])
            alt = sc["Q"] * D + case[7] ** 2 * (sc["Q"] / sc["R"] - 1)
            Qs = float(sol["Q"][0])
            eta = 1 / (sol["beta"] * Qs)
            print(f"   L = 1 cross-check: eta {eta:.12g}, (4.5) form Q D + sigma^2 (Q/R - 1) = {alt:.12g} "
                  f"(rel. diff {abs(alt / sol['risk'] - 1):.1e}), Q {sc['Q']:.12g}")
            if case[5] == "squared":
                d = case[4] / case[3][1]
                reff2 = 1 - 2 / math.pi
                Dc = (1 - d) * reff2 + d * case[7] ** 2 / ((1 - d) * sc["Q"])
                cf = sc["Q"] * Dc + case[7] ** 2 * (sc["Q"] / sc["R"] - 1)
                print(f"   squared closed form (r_eff^2 = 1 - 2/pi, start irrelevant): {cf:.12g} "
                      f"(rel. diff {abs(cf / sol['risk'] - 1):.1e})")
    print("g. L = 1 feasibility boundary n/d_L (N5), relu, d0 = 400, d_L = 1000, half-normal, r = 1")
    for sigma in (0.1, 0.5):
        t0 = time.time()
        dc = T.boundary_l1("relu", 400, 1000, sigma)
        Q = T.l1_scalars("relu", 400, 1000, dc * 1000)["Q"]
        print(f"   noise {sigma:g}: n/d_L < {dc:.12g}  (d_L/n > {1 / dc:.12g}; Q at the boundary {Q:.12g}; "
              f"{time.time() - t0:.1f} s)")
    for s2 in (0.01, 0.1, 1.0):
        print(f"   sup_s Lambda_m at sigma^2/Q = {s2:g}: {T.sup_lambda('half-normal', 1.0, s2)[0]:.12g}")
    print("h. signed (gaussian) teacher with the entropic map at L = 2 (nonodd.md section 5 says: no positive")
    print("   interpolator at any n; rfrisk exits 3).  Continuation in the prior from half-normal to gaussian:")
    for act, n in (("gelu", 100), ("gelu", 300), ("leaky-relu", 100)):
        t0 = time.time()
        P, sol = T.solve_signed(act, [400, 1000, 1000], n, "entropic", 1.0, 0.1, 0.03)
        laws, _, _ = T.fold(act, 2)
        w, _, _, mu = laws[-1]
        tag = "SOLVED at the gaussian teacher" if P == 0.5 else f"no solution past P = {P:.2f}"
        print(f"   {act}, n = {n}: weight of units with mu_i < 0 = {w[mu < 0].sum():.4f}; {tag}: risk {sol['risk']:.12g}, "
              f"lambda {sol['lam']:.6g}, max residual {max(abs(sol['res'])):.1e} ({time.time() - t0:.0f} s)")
        if P == 0.5:
            print(f"      rfrisk predict /tmp/w/ent2.toml --set features.activation={act} --set teacher.prior=gaussian "
                  f"--set training.samples={n}")
    print(f"total {time.time() - t_all:.0f} s")


if __name__ == "__main__":
    main()
