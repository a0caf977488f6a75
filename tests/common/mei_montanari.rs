// Independent reference implementation of the Mei–Montanari asymptotic risk
// of random-features ridge regression (std only, no dependency on the crate).
//
// Source: S. Mei and A. Montanari, "The generalization error of random
// features regression: precise asymptotics and double descent curve",
// arXiv:1908.05355, Comm. Pure Appl. Math. 75 (2022).
//
// * **Theorem 1** (λ > 0): with ζ = μ1/μ*, λ̄ = λ_MM/μ*², ξ ∈ C₊, let
//   (ν1(ξ), ν2(ξ)) be the unique solution, analytic in ξ with Im ν_i > 0 and
//   |ν_i| ≤ ψ_i / Im ξ, of
//   ν1 = ψ1 (−ξ − ν2 − ζ²ν2/(1 − ζ²ν1ν2))⁻¹,
//   ν2 = ψ2 (−ξ − ν1 − ζ²ν1/(1 − ζ²ν1ν2))⁻¹,
//   and χ = ν1(i√(ψ1ψ2λ̄)) ν2(i√(ψ1ψ2λ̄)). Then
//   R = F1² B + (τ² + F*²) V + F*², B = E1/E0, V = E2/E0 with
//   E0 = −χ⁵ζ⁶ + 3χ⁴ζ⁴ + (ψ1ψ2 − ψ2 − ψ1 + 1)χ³ζ⁶ − 2χ³ζ⁴ − 3χ³ζ²
//        + (ψ1 + ψ2 − 3ψ1ψ2 + 1)χ²ζ⁴ + 2χ²ζ² + χ² + 3ψ1ψ2χζ² − ψ1ψ2,
//   E1 = ψ2χ³ζ⁴ − ψ2χ²ζ² + ψ1ψ2χζ² − ψ1ψ2,
//   E2 = χ⁵ζ⁶ − 3χ⁴ζ⁴ + (ψ1 − 1)χ³ζ⁶ + 2χ³ζ⁴ + 3χ³ζ² + (−ψ1 − 1)χ²ζ⁴ − 2χ²ζ² − χ².
// * **Ridgeless theorem** (λ → 0+; Theorem 3 in the arXiv numbering as
//   recalled — the paper text could not be retrieved here, see below): the
//   same B, V evaluated at
//   χ0 = [(ψζ² − ζ² − 1) − √((ψζ² − ζ² − 1)² + 4ζ²ψ)] / (2ζ²), ψ = min(ψ1, ψ2)
//   (E0,E1,E2 depend on λ only through χ, and χ(λ) → χ0 continuously).
//
// **Solving the fixed point.** On the imaginary axis ξ = i y (y > 0) the
// unique solution is purely imaginary (the map ν ↦ −ν̄, ξ ↦ −ξ̄ preserves the
// system and the constraints, so uniqueness forces it), ν1 = i a, ν2 = i b,
// a, b > 0, χ = −t with t = ab. Substituting gives exactly
//   a y + h(t) = ψ1,  b y + h(t) = ψ2,  h(t) = t (1 + ζ²/(1 + ζ² t)),
// so t solves the scalar equation y² t = (ψ1 − h(t))(ψ2 − h(t)) on
// 0 ≤ t ≤ t_max, h(t_max) = min(ψ1, ψ2). The left side increases from 0,
// the right side decreases to 0, so the root is unique (this *is* the right
// branch: a, b > 0 ⇔ Im ν_i > 0, and a ≤ ψ1/y, b ≤ ψ2/y) and is found by
// bisection to the last ulp. At y = 0 the root is t_max, which reproduces
// Theorem 3's χ0 (so the ridgeless value is exact, not an extrapolation).
//
// **Mapping of conventions** (this crate → MM):
// * x ~ N(0, I_d0) ↔ x ~ Unif(S^{d−1}(√d)); ⟨w_i, x⟩ with w_i ~ N(0, I/d0)
//   ↔ ⟨θ_a, x⟩/√d (both N(0,1) asymptotically); d0 ↔ d.
// * f(x) = Σ_i a_i σ(⟨w_i, x⟩) (no 1/√N) in both.
// * ours: (1/n)‖y − Φa‖² + lam‖a‖²; MM: (1/n)‖y − Φa‖² + (Nλ_MM/d)‖a‖²
//   ⇒ λ_MM = lam·d0/N = lam/ψ1, and λ̄ = λ_MM/μ*² = lam/(ψ1 μ*²).
// * ψ1 = N/d0, ψ2 = n/d0, F1² = ‖β‖², τ² = noise variance, F* = 0, μ0 = 0
//   (odd activation), μ1 = E[Gσ(G)], μ*² = E[σ(G)²] − μ1².
// * returns the excess risk R = E_x(f̂(x) − βᵀx)²; test error = R + τ².
//
// Provenance: the paper text was not retrievable in this environment, so the
// expressions above were written down from the published theorem as
// recalled, then validated by (i) an independent derivation
// ([`excess_risk_gaussian_equivalent`], agreement ~1e-15 relative at all tested
// points, which also checks the λ mapping), (ii) Monte Carlo with tanh
// features, and (iii) the limit λ̄ → ∞ (χ → 0 gives B = 1, V = 0).
//
// A second, independently derived formula is provided in
// [`excess_risk_gaussian_equivalent`] (Gaussian equivalence conditional on W
// + the anisotropic ridge deterministic equivalent + the Marchenko–Pastur
// Stieltjes transform); the two agree to ~1e-15 relative, and both agree with
// Monte Carlo (see equations/reference/mei_montanari.py).
// (No inner attributes, so the file works both as `mod` and via `include!`;
// every item carries its own #[allow(dead_code)].)

/// Excess risk R = E_x (f̂(x) − βᵀx)² of RF ridge regression, Mei–Montanari
/// (arXiv:1908.05355) Theorem 1, R = F1² B + τ² V with B = E1/E0, V = E2/E0
/// at χ = ν1ν2(i√(ψ1ψ2λ̄)) (lam > 0), and their ridgeless-limit theorem
/// (lam == 0: χ = χ0 in closed form). Our lam ↦ λ_MM = lam/ψ1,
/// λ̄ = lam/(ψ1 μ*²); F* = 0, μ0 = 0. See the file header for the full
/// statement, the branch argument and the mapping of conventions.
///
/// `lam` is this crate's ridge (penalty lam‖a‖² next to (1/n)‖y − Φa‖²).
/// Requires mu_star > 0, psi1, psi2 > 0, lam ≥ 0; otherwise NaN. At
/// lam == 0 and psi1 == psi2 the risk is infinite (interpolation peak).
#[allow(dead_code)]
pub fn excess_risk(
    mu1: f64,
    mu_star: f64,
    psi1: f64,
    psi2: f64,
    lam: f64,
    f1_sq: f64,
    noise_var: f64,
) -> f64 {
    match bias_variance(mu1, mu_star, psi1, psi2, lam) {
        Some((b, v)) => f1_sq * b + noise_var * v,
        None => f64::NAN,
    }
}

/// MM's (B, V): R = F1² B + τ² V (with F* = 0).
#[allow(dead_code)]
pub fn bias_variance(mu1: f64, mu_star: f64, psi1: f64, psi2: f64, lam: f64) -> Option<(f64, f64)> {
    let chi = chi(mu1, mu_star, psi1, psi2, lam)?;
    if lam == 0.0 && psi1 == psi2 {
        // interpolation threshold: E0(χ0) = 0 exactly, the risk diverges
        return Some((f64::INFINITY, f64::INFINITY));
    }
    let zeta2 = (mu1 / mu_star) * (mu1 / mu_star);
    Some(mm_bv(chi, psi1, psi2, zeta2))
}

/// MM's χ = ν1 ν2 at ξ = i √(ψ1ψ2λ̄) (a negative real number), λ̄ = lam/(ψ1 μ*²).
#[allow(dead_code)]
pub fn chi(mu1: f64, mu_star: f64, psi1: f64, psi2: f64, lam: f64) -> Option<f64> {
    let ok = mu1.is_finite()
        && mu_star.is_finite()
        && mu_star > 0.0
        && psi1.is_finite()
        && psi1 > 0.0
        && psi2.is_finite()
        && psi2 > 0.0
        && lam.is_finite()
        && lam >= 0.0;
    if !ok {
        return None;
    }
    let zeta2 = (mu1 / mu_star) * (mu1 / mu_star);
    let lam_mm = lam / psi1;
    let lam_bar = lam_mm / (mu_star * mu_star);
    let y = (psi1 * psi2 * lam_bar).sqrt();
    let t = solve_t(y, psi1, psi2, zeta2)?;
    Some(-t)
}

#[allow(dead_code)]
fn h_of_t(t: f64, zeta2: f64) -> f64 {
    t * (1.0 + zeta2 / (1.0 + zeta2 * t))
}

/// Root t = −χ of y² t = (ψ1 − h(t))(ψ2 − h(t)) on [0, t_max].
#[allow(dead_code)]
fn solve_t(y: f64, psi1: f64, psi2: f64, zeta2: f64) -> Option<f64> {
    let psi = psi1.min(psi2);
    // t_max: zeta2 t^2 + (1 + zeta2 - psi zeta2) t - psi = 0, positive root (stable form).
    let bq = 1.0 + zeta2 - psi * zeta2;
    let disc = (bq * bq + 4.0 * zeta2 * psi).sqrt();
    let tmax = if bq > 0.0 {
        2.0 * psi / (bq + disc)
    } else {
        (disc - bq) / (2.0 * zeta2)
    };
    if !tmax.is_finite() || tmax <= 0.0 {
        return None;
    }
    if y == 0.0 {
        return Some(tmax);
    }
    let g = |t: f64| {
        let h = h_of_t(t, zeta2);
        y * y * t - (psi1 - h) * (psi2 - h)
    };
    let (mut lo, mut hi) = (0.0_f64, tmax);
    // g(0) = -psi1 psi2 < 0, g(tmax) = y^2 tmax > 0.
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if g(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    if t.is_finite() {
        Some(t)
    } else {
        None
    }
}

#[allow(dead_code)]
fn mm_bv(chi: f64, psi1: f64, psi2: f64, zeta2: f64) -> (f64, f64) {
    let (z2, z4, z6) = (zeta2, zeta2 * zeta2, zeta2 * zeta2 * zeta2);
    let p = psi1 * psi2;
    let c2 = chi * chi;
    let c3 = c2 * chi;
    let c4 = c3 * chi;
    let c5 = c4 * chi;
    let e0 = -c5 * z6 + 3.0 * c4 * z4 + (p - psi2 - psi1 + 1.0) * c3 * z6
        - 2.0 * c3 * z4
        - 3.0 * c3 * z2
        + (psi1 + psi2 - 3.0 * p + 1.0) * c2 * z4
        + 2.0 * c2 * z2
        + c2
        + 3.0 * p * chi * z2
        - p;
    let e1 = psi2 * c3 * z4 - psi2 * c2 * z2 + p * chi * z2 - p;
    let e2 = c5 * z6 - 3.0 * c4 * z4 + (psi1 - 1.0) * c3 * z6 + 2.0 * c3 * z4 + 3.0 * c3 * z2
        + (-psi1 - 1.0) * c2 * z4
        - 2.0 * c2 * z2
        - c2;
    (e1 / e0, e2 / e0)
}

// ---------------------------------------------------------------------------
// Independent second route: Gaussian equivalence + anisotropic ridge
// deterministic equivalent + Marchenko–Pastur (derived here, not from MM).
// ---------------------------------------------------------------------------

/// Stieltjes transform m(z) = ∫ dμ(a)/(a − z) of W Wᵀ (W: N×d0, entries
/// N(0,1/d0), ratio g = N/d0) for real z < 0, and m'(z).
/// m solves g z m² + (z + g − 1) m + 1 = 0; the roots have opposite signs
/// for z < 0 and m is the positive one.
#[allow(dead_code)]
fn mp_m(z: f64, g: f64) -> (f64, f64) {
    let a = g * z;
    let b = z + g - 1.0;
    let disc = (b * b - 4.0 * a).sqrt();
    let q = -0.5 * (b + disc.copysign(b));
    let (r1, r2) = (q / a, 1.0 / q);
    let m = if r1 > 0.0 { r1 } else { r2 };
    let dm = -(g * m * m + m) / (2.0 * g * z * m + z + g - 1.0);
    (m, dm)
}

/// Same quantity as [`excess_risk`], computed by an independent derivation:
/// conditional on W, σ(Wx) ≈ μ1 W x + μ* z (Gaussian equivalence), so the
/// problem is ridge regression with Gaussian covariates of covariance
/// Σ = μ1² WWᵀ + μ*² I, target a* = μ1 Σ⁻¹Wβ, extra independent noise of
/// variance e² = F1² − μ1² βᵀWᵀΣ⁻¹Wβ. With κ solving lam = κ(1 − df1/n),
/// df_k = tr Σᵏ(Σ+κ)⁻ᵏ:
/// R = κ² a*ᵀΣ(Σ+κ)⁻²a* /(1 − df2/n) + (e² + τ²) df2/(n − df2) + e²,
/// with all traces evaluated through the MP Stieltjes transform.
#[allow(dead_code)]
pub fn excess_risk_gaussian_equivalent(
    mu1: f64,
    mu_star: f64,
    psi1: f64,
    psi2: f64,
    lam: f64,
    f1_sq: f64,
    noise_var: f64,
) -> f64 {
    let ok = mu1.is_finite()
        && mu1 != 0.0
        && mu_star.is_finite()
        && mu_star > 0.0
        && psi1 > 0.0
        && psi2 > 0.0
        && psi1.is_finite()
        && psi2.is_finite()
        && lam.is_finite()
        && lam >= 0.0;
    if !ok {
        return f64::NAN;
    }
    let m1s = mu1 * mu1;
    let ms2 = mu_star * mu_star;
    let g = psi1;
    let z0 = -ms2 / m1s;
    let (m0, _) = mp_m(z0, g);
    let e2 = f1_sq * (1.0 - psi1 * (1.0 + z0 * m0));
    let ratio = psi2 / psi1; // n/N
    if lam == 0.0 && psi1 == psi2 {
        return f64::INFINITY;
    }
    if lam == 0.0 && psi1 < psi2 {
        let d = psi1 / psi2;
        return e2 + (e2 + noise_var) * d / (1.0 - d);
    }
    let pieces = |k: f64| {
        let z = -(ms2 + k) / m1s;
        let (m, dm) = mp_m(z, g);
        let df1 = 1.0 - k / m1s * m;
        let df2 = 1.0 - 2.0 * k / m1s * m + k * k / (m1s * m1s) * dm;
        (z, m, dm, df1, df2)
    };
    let f = |k: f64| k * (1.0 - pieces(k).3 / ratio) - lam;
    let mut lo = if lam == 0.0 { f64::MIN_POSITIVE } else { 0.0 };
    let mut hi = 1.0_f64;
    let mut guard = 0;
    while f(hi) < 0.0 {
        hi *= 2.0;
        guard += 1;
        if guard > 2000 {
            return f64::NAN;
        }
    }
    for _ in 0..3000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let kappa = 0.5 * (lo + hi);
    let (z, m, dm, _df1, df2) = pieces(kappa);
    let df2n = df2 / ratio;
    let acoef = z0 / ((z0 - z) * (z0 - z));
    let ccoef = z / (z - z0);
    let integ = (acoef * m0 - acoef * m + ccoef * dm) / (m1s * m1s * m1s);
    let bias = kappa * kappa * m1s * f1_sq * psi1 * integ / (1.0 - df2n);
    let var = (e2 + noise_var) * df2n / (1.0 - df2n);
    bias + var + e2
}

/// Hermite coefficients of tanh, (μ1, μ*) = (E[G tanh G], sqrt(E[(tanh G − μ1 G)²]))
/// for G ~ N(0,1), by the trapezoid rule with step 1/128 on [−14, 14]: for an
/// analytic integrand times a Gaussian this is spectrally accurate (error
/// ~ e^{−π²·128} from the poles of tanh at ±iπ/2, plus e^{−98} truncation), i.e.
/// exact to rounding; agrees with 200-node Gauss–Hermite (Python reference).
#[allow(dead_code)]
pub fn tanh_mu1_mustar() -> (f64, f64) {
    let h = 1.0 / 128.0;
    let m = 14 * 128;
    let norm = h / (2.0 * std::f64::consts::PI).sqrt();
    let mut s1 = 0.0;
    for i in -m..=m {
        let x = i as f64 * h;
        s1 += (-0.5 * x * x).exp() * x * x.tanh();
    }
    let mu1 = s1 * norm;
    let mut s2 = 0.0;
    for i in -m..=m {
        let x = i as f64 * h;
        let r = x.tanh() - mu1 * x;
        s2 += (-0.5 * x * x).exp() * r * r;
    }
    (mu1, (s2 * norm).sqrt())
}
