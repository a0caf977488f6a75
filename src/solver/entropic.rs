//! The general-mirror-map system of [equations/entropic.md](../../equations/entropic.md#final-system):
//! the squared layer chain (unchanged, `squared::solve`) plus two top unknowns,
//! the prox step `eta` and the effective noise level `s`:
//!
//! - (T1) `E P_eta'(a + sG) = n/d_L`,
//! - (T2) `(n/d_L) s^2 = E (P_eta(a + sG) - a)^2 + sigma^2 / Q`, `Q = n kappa / (d_L - n)`,
//!
//! with `a` the scaled teacher entry, and the risk
//! `Q D + sigma^2 (n/(d_L kappa A) - d_L/(d_L - n))` (6.3). Generic over
//! [`MirrorMap`]; with [`crate::solver::mirror::Squared`] it reproduces the SGD solver (§9).

use crate::solver::mirror::MirrorMap;
use crate::solver::quadrature::gauss_legendre;
use crate::spec::Prior;
use crate::solver::squared::{self, Layer, Ratio, SolveError};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Relative residual of (T1), (T2) above which a point is refused.
pub const MAX_RESIDUAL: f64 = 1e-10;
/// Where the safeguarded searches and the final Newton step stop: a few ulps of the relative residuals.
const NEWTON_TOLERANCE: f64 = 1e-13;

/// The law of a scaled teacher entry `a = sqrt(d_L) a*_i`: `N(0, r^2)` or `r |N(0, 1)|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Teacher {
    pub prior: Prior,
    /// `r = sqrt(norm2)`.
    pub r: f64,
}

impl Teacher {
    pub fn mean(&self) -> f64 {
        match self.prior {
            Prior::Gaussian | Prior::Sparse { .. } => 0.0,
            Prior::HalfNormal => self.r * (2.0 / PI).sqrt(),
        }
    }

    /// The variance of the teacher's widest component: `r^2`, or `r^2 / eps` for the slab of a sparse one.
    fn widest_variance(&self) -> f64 {
        match self.prior {
            Prior::Sparse { eps } => self.r * self.r / eps,
            _ => self.r * self.r,
        }
    }

    /// Signed (or zero) teachers behave alike for feasibility: `P(a + sG > 0) = 1/2`.
    fn is_symmetric(&self) -> bool {
        matches!(self.prior, Prior::Gaussian | Prior::Sparse { .. }) || self.r == 0.0
    }

    /// At `chi = a + sG`: the density of `chi` and the law of `a` given `chi`
    /// (Gaussian prior: Gaussian; half-normal: the same Gaussian truncated to `a > 0`,
    /// so `chi` is skew-normal).
    fn given(&self, chi: f64, s: f64) -> Conditional {
        let r = self.r;
        let spread2 = r * r + s * s;
        let spread = spread2.sqrt();
        let sd = r * s / spread;
        let base = normal_pdf(chi / spread) / spread;
        // chi - E[a | chi] for the untruncated Gaussian, without the cancellation chi - chi r^2/spread^2.
        let residual = chi * s * s / spread2;
        if let Prior::Sparse { eps } = self.prior {
            if eps < 1.0 && r > 0.0 {
                return self.given_sparse(chi, s, eps);
            }
        }
        if self.is_symmetric() {
            return Conditional { density: base, residual, var: sd * sd };
        }
        let x = chi * r / (s * spread);
        let (cdf, pdf) = (normal_cdf(x), normal_pdf(x));
        if cdf == 0.0 {
            return Conditional { density: 0.0, residual, var: 0.0 }; // far below the teacher's support: no mass
        }
        // Truncated-normal moments; the inverse Mills ratio pdf/cdf is finite for every x on the grid.
        let mills = pdf / cdf;
        Conditional {
            density: 2.0 * base * cdf,
            residual: residual - sd * mills,
            var: sd * sd * (1.0 - x * mills - mills * mills).max(0.0),
        }
    }
}

impl Teacher {
    /// `a = 0` with probability `1 - eps` (the spike), `N(0, tau^2)`, `tau^2 = r^2/eps`, with
    /// probability `eps` (the slab), given `chi = a + sG` (equations/pnorm.md §3): each component
    /// is Gaussian given `chi`, mixed by the posterior weights of the two.
    fn given_sparse(&self, chi: f64, s: f64, eps: f64) -> Conditional {
        let tau2 = self.r * self.r / eps;
        let slab2 = tau2 + s * s;
        // Log densities of chi under each component, so that far tails do not underflow the weights.
        let log_spike = (1.0 - eps).ln() - 0.5 * (chi / s) * (chi / s) - s.ln();
        let log_slab = eps.ln() - 0.5 * chi * chi / slab2 - 0.5 * slab2.ln();
        let top = log_spike.max(log_slab);
        let (w0, w1) = ((log_spike - top).exp(), (log_slab - top).exp());
        let (pi0, pi1) = (w0 / (w0 + w1), w1 / (w0 + w1));
        let density = (top.exp() * (w0 + w1)) / (2.0 * PI).sqrt();
        // Given chi and the slab: a ~ N(chi tau^2/slab2, tau^2 s^2/slab2).
        let (m1, v1) = (chi * tau2 / slab2, tau2 * s * s / slab2);
        Conditional {
            density,
            // chi - pi1 m1 = chi (pi0 + pi1 s^2/slab2), without the cancellation.
            residual: chi * (pi0 + pi1 * s * s / slab2),
            var: pi1 * v1 + pi1 * pi0 * m1 * m1,
        }
    }
}

/// The law of the teacher entry `a` given `chi = a + sG`, at one `chi`.
#[derive(Clone, Copy, Debug)]
struct Conditional {
    /// The density of `chi`.
    density: f64,
    /// `chi - E[a | chi]` (= `s E[G | chi]`).
    residual: f64,
    /// `Var(a | chi)`.
    var: f64,
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// `V = E P'`, `W = E[1 - P'] = 1 - V` (integrated on its own, for (T1) near
/// `n/d_L = 1`), `D = E (P - a)^2` and their partial derivatives in `eta` and `s`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub v: f64,
    pub w: f64,
    pub d: f64,
    /// `E (P - a)`: how far the student's mean entry is from the teacher's (0 by symmetry
    /// on the half line). The features' mean spike forces it to 0 (equations/nonodd.md §5).
    pub gap: f64,
    pub v_eta: f64,
    pub v_s: f64,
    pub d_eta: f64,
    pub d_s: f64,
}

/// Gauss–Legendre nodes per panel of the chi grid.
const NODES: usize = 16;
/// Uniform panels over the range of chi, before the graded refinement.
const PANELS: usize = 48;

/// The panel edges of the chi grid (entropic.md §7, "Expectations"): uniform panels
/// over 12 standard deviations of `chi`, plus panels graded geometrically (widths
/// doubling from an eighth of the local scale up to the uniform width) around each
/// point where an integrand changes on a scale far below the uniform width:
/// - the bend of `P_eta` near `chi = eta log(eta/c)` (scale `eta`; above it the
///   slack `1 - P'` decays like `eta/chi`, which a uniform panel cannot follow);
/// - for a half-normal teacher, `chi = 0`, where the density of `chi` steps up over a
///   width `s` (and `s << r` as `n/d_L -> 1`).
fn chi_grid(map: &dyn MirrorMap, teacher: Teacher, c: f64, eta: f64, s: f64) -> Vec<f64> {
    let spread = (teacher.widest_variance() + s * s).sqrt();
    let lo = match (teacher.is_symmetric(), half_line(map, teacher, c)) {
        (_, true) => 0.0,
        (true, false) => -12.0 * spread,
        (false, false) => -12.0 * s,
    };
    let hi = 12.0 * spread;
    let width = (hi - lo) / PANELS as f64;
    let mut breaks: Vec<f64> = (0..=PANELS).map(|k| lo + (hi - lo) * k as f64 / PANELS as f64).collect();
    let mut graded = |centre: f64, scale: f64| {
        if !(centre.is_finite() && scale > 0.0) {
            return;
        }
        breaks.push(centre);
        // At most about 40 doublings: a scale below 1e-12 of a panel is graded from there.
        let mut h = (scale / 8.0).max(1e-12 * width);
        while h < width {
            breaks.extend([centre - h, centre + h]);
            h *= 2.0;
        }
    };
    for (centre, scale) in map.bends(eta, c) {
        graded(centre, scale);
    }
    // A half-normal teacher's chi steps up at 0 over a width s; a sparse one's spike is that wide.
    if !teacher.is_symmetric() || matches!(teacher.prior, Prior::Sparse { .. }) {
        graded(0.0, s);
    }
    breaks.retain(|b| (lo..=hi).contains(b));
    breaks.sort_by(f64::total_cmp);
    breaks.dedup_by(|a, b| (*a - *b).abs() <= 1e-15 * (hi - lo));
    breaks
}

/// Whether the expectations fold onto `chi >= 0`: an odd prox and a symmetric teacher make
/// every integrand of [`moments`] even in `chi`.
fn half_line(map: &dyn MirrorMap, teacher: Teacher, c: f64) -> bool {
    map.is_odd(c) && teacher.is_symmetric()
}

/// The moments at `(eta, s)` by one quadrature over `chi = a + sG` (entropic.md §7,
/// "Expectations"): `E h(a, chi) = int E[h | chi] density(chi) dchi`, so one prox
/// evaluation per node serves every teacher value, and the teacher's law enters
/// through closed-form conditional moments. `chi_grid` gives the panels; `refine`
/// splits every panel (1 = the working grid; 2 estimates the quadrature error).
pub fn moments(map: &dyn MirrorMap, teacher: Teacher, c: f64, eta: f64, s: f64, refine: usize) -> Moments {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    let (t, w) = RULE.get_or_init(|| gauss_legendre(NODES));
    let mut m = Moments::default();
    let fold = if half_line(map, teacher, c) { 2.0 } else { 1.0 };
    for pair in chi_grid(map, teacher, c, eta, s).windows(2) {
        let width = (pair[1] - pair[0]) / refine as f64;
        for piece in 0..refine {
            let left = pair[0] + piece as f64 * width;
            for (&ti, &wi) in t.iter().zip(w) {
                let chi = left + 0.5 * width * (ti + 1.0);
                let given = teacher.given(chi, s);
                let weight = fold * 0.5 * width * wi * given.density;
                if weight == 0.0 {
                    continue;
                }
                let p = map.prox(chi, eta, c);
                // P - E[a | chi] = (P - chi) + (chi - E[a | chi]), each without cancellation.
                let (gap, noise) = (p.shift + given.residual, given.residual);
                m.v += weight * p.slope;
                m.w += weight * p.slack;
                m.d += weight * (gap * gap + given.var);
                m.gap += weight * gap;
                m.v_eta += weight * p.slope_d_eta;
                m.v_s += weight * p.curvature * noise;
                m.d_eta += weight * 2.0 * p.d_eta * gap;
                m.d_s += weight * 2.0 * p.slope * (gap * noise + given.var);
            }
        }
    }
    m.v_s /= s;
    m.d_s /= s;
    if fold == 2.0 {
        m.gap = 0.0;
    }
    m
}

/// The top problem: everything (T1), (T2) and the risk need besides the map.
#[derive(Clone, Debug)]
pub struct Problem<'a> {
    /// The layers, for the feasibility boundary (which moves `n/d_L`).
    pub layers: &'a [Layer],
    /// `delta = n/d_L` and `1 - delta`.
    pub ratio: Ratio,
    pub teacher: Teacher,
    /// Scaled start `c = sqrt(d_L) a_0,i`.
    pub start: f64,
    pub noise_var: f64,
}

/// Why the top problem has no solution.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TopError {
    #[error(
        "no positive interpolator: d_L/n = {ratio:.6}, but with this teacher, noise and architecture the entropic map interpolates only for d_L/n > {boundary:.6} (equations/entropic.md §8); use fewer samples or a wider last layer"
    )]
    Infeasible { ratio: f64, boundary: f64 },
    #[error("layer chain: {0}")]
    Layers(#[from] SolveError),
    #[error("top equations (T1), (T2) did not converge after {iterations} iterations: residuals [{t1:e}, {t2:e}] exceed {MAX_RESIDUAL:e} (eta = {eta}, s = {s})")]
    NoConvergence { iterations: u64, t1: f64, t2: f64, eta: f64, s: f64 },
    #[error(
        "top equations (T1), (T2): no root in (eta, s) was found (equations/entropic.md §10); the scaled start is c = {start:e} and the teacher's scale r = {scale:e}. Known limits of this solver: starts far above r (and, for a non-odd network's mean-corrected start search, far below it), where (T1) folds back in s, and p-norm exponents q < 1.2 within a few units of n = d_L (equations/pnorm.md §2)"
    )]
    NoSolution { start: f64, scale: f64 },
    #[error(
        "the top equations (N4a)-(N4f) of a non-odd network did not converge after {evaluations} evaluations: residuals {residuals:?} exceed {MAX_RESIDUAL:e} (equations/nonodd.md §5)"
    )]
    UnitLawNoConvergence { evaluations: u64, residuals: Vec<f64> },
    #[error(
        "no positive interpolator: the features of a non-odd activation share a mean direction with positive entries, so a positive interpolator must carry the teacher's mass sum_i a*_i, and a signed teacher has none (equations/nonodd.md §5); use teacher.prior = half-normal"
    )]
    NoMass,
}

/// A solved top problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    pub eta: f64,
    pub s: f64,
    /// `Q = n kappa / (d_L - n)`: converts `D` into prediction error.
    pub q: f64,
    /// `D = E (P - a)^2 = ||a_hat - a*||^2` in the limit.
    pub distance: f64,
    /// Relative residuals of (T1) and (T2).
    pub residuals: [f64; 2],
    pub iterations: u64,
    /// Relative error estimate of the risk: the move of the solution and of `D` when every
    /// panel of the chi grid is halved, plus what the solver's residual tolerance leaves open.
    pub quadrature_error: f64,
    /// The smallest `d_L/n` with a positive interpolator at these widths (`None` when every `d_L > n` works).
    pub boundary: Option<f64>,
    pub excess_risk: f64,
}

/// `Q(delta) = delta kappa / (1 - delta)` from the layer chain at `delta`.
fn q_at(layers: &[Layer], ratio: Ratio) -> Result<(f64, squared::Solution), SolveError> {
    let solution = squared::solve(layers, ratio)?;
    Ok((ratio.delta * solution.chain.kappa() / ratio.slack, solution))
}

/// Feasibility margin at `delta` (entropic.md (8.3)): positive iff a positive interpolator exists.
fn margin(problem: &Problem, ratio: Ratio, q: f64) -> f64 {
    let Teacher { r, .. } = problem.teacher;
    if problem.teacher.is_symmetric() {
        return 0.5 - ratio.delta;
    }
    if ratio.delta <= 0.5 {
        return f64::INFINITY;
    }
    let t = (PI * ratio.slack).tan();
    t - t.atan() - PI * problem.noise_var / (r * r * q)
}

/// The smallest feasible `d_L/n` (entropic.md §8): 2 for a signed teacher; for a
/// half-normal teacher with noise, the root of (8.3b) in `delta`, whose `Q(delta)`
/// needs the layer chain at each trial `delta`.
fn boundary(problem: &Problem) -> Option<f64> {
    if problem.teacher.is_symmetric() {
        return Some(2.0);
    }
    if problem.noise_var == 0.0 {
        return None;
    }
    // The margin is +inf at delta <= 1/2 and tends to -pi sigma^2/(r^2 Q) < 0 as delta -> 1.
    let (mut lo, mut hi) = (0.5, 1.0 - 1e-12);
    // Where the chain has no solution (identity layers past their rank) the theory
    // does not reach, so it counts as outside the feasible range.
    for _ in 0..60 {
        let mid = Ratio::new(0.5 * (lo + hi));
        if q_at(problem.layers, mid).is_ok_and(|(q, _)| margin(problem, mid, q) > 0.0) {
            lo = mid.delta;
        } else {
            hi = mid.delta;
        }
    }
    Some(2.0 / (lo + hi))
}

/// `sup { s : P(a + sG > 0) > delta }` (entropic.md §8): where `V` falls with `eta`, (T1) has a root
/// only below it, so the start is capped there (with a start far above the teacher's scale the
/// roots reach beyond it, §10.4).
fn s_max(teacher: Teacher, ratio: Ratio) -> f64 {
    if teacher.is_symmetric() || ratio.delta <= 0.5 {
        f64::INFINITY
    } else {
        teacher.r * (PI * ratio.slack).tan()
    }
}

/// Relative residuals of (T1) and (T2) and their Jacobian in `(log eta, log s)`
/// (entropic.md §10.4): `F1 = V/delta - 1` for `delta <= 1/2`, else `F1 = W/(1 - delta) - 1`
/// (the same equation, relative to its smaller side, so that it keeps its accuracy as
/// `delta -> 1`); `F2 = (D + sigma^2/Q)/(delta s^2) - 1`.
fn newton_system(m: &Moments, p: &Problem, q: f64, eta: f64, s: f64) -> ([f64; 2], [[f64; 2]; 2]) {
    let Ratio { delta, slack } = p.ratio;
    let target = m.d + p.noise_var / q;
    let (f1, row1) = if delta <= 0.5 {
        (m.v / delta - 1.0, [eta * m.v_eta / delta, s * m.v_s / delta])
    } else {
        (m.w / slack - 1.0, [-eta * m.v_eta / slack, -s * m.v_s / slack])
    };
    let f = [f1, target / (delta * s * s) - 1.0];
    let jac = [row1, [eta * m.d_eta / (delta * s * s), (s * m.d_s - 2.0 * target) / (delta * s * s)]];
    (f, jac)
}

/// The Newton step `-J^{-1} F` in `(log eta, log s)`, `None` for a singular `J`.
fn newton_step(f: &[f64; 2], jac: &[[f64; 2]; 2]) -> Option<[f64; 2]> {
    let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
    let step = [(-f[0] * jac[1][1] + f[1] * jac[0][1]) / det, (-f[1] * jac[0][0] + f[0] * jac[1][0]) / det];
    (det.abs() > 0.0 && step.iter().all(|x| x.is_finite())).then_some(step)
}

fn worst(f: &[f64; 2]) -> f64 {
    f[0].abs().max(f[1].abs())
}

/// Solves (T1), (T2) for `map` (entropic.md §10): layer chain, feasibility check,
/// start at the squared map's `s` (capped below `s_max`) and the (T1) root there,
/// then `top_root`.
pub fn solve(map: &dyn MirrorMap, p: &Problem) -> Result<(Solution, squared::Solution), TopError> {
    let (q, layers) = q_at(p.layers, p.ratio)?;
    let Ratio { delta, slack } = p.ratio;
    let boundary = if map.positive_domain() { boundary(p) } else { None };
    if map.positive_domain() && !(margin(p, p.ratio, q) > 0.0) {
        return Err(TopError::Infeasible { ratio: 1.0 / delta, boundary: boundary.unwrap_or(2.0) });
    }
    let limit = if map.positive_domain() { s_max(p.teacher, p.ratio) } else { f64::INFINITY };
    let (r, c) = (p.teacher.r, p.start);
    let reff2 = r * r - 2.0 * c * p.teacher.mean() + c * c;
    // Start at the squared map's step and noise level (§9), s capped below s_max.
    let s0 = ((slack * reff2 + p.noise_var / q) / (delta * slack)).sqrt().min(0.9 * limit);
    let (eta, s, iterations) = top_root(map, p, q, slack / delta * map.step_scale((reff2 + p.noise_var / q).sqrt()), s0).ok_or(TopError::NoSolution { start: c, scale: r })?;
    let m = moments(map, p.teacher, c, eta, s, 1);
    let (residuals, jac) = newton_system(&m, p, q, eta, s);
    if !(worst(&residuals) <= MAX_RESIDUAL && eta > 0.0) {
        return Err(TopError::NoConvergence { iterations, t1: residuals[0], t2: residuals[1], eta, s });
    }
    let noise_gain = noise_gain(&layers, p.ratio);
    let excess_risk = q * m.d + p.noise_var * noise_gain;
    // The numerical error of the risk: the residuals on a grid with every panel halved,
    // carried by one Newton step to where that grid's solution lies, D there to first
    // order; plus what residuals at the solver's tolerance leave open (the same step for
    // a residual of NEWTON_TOLERANCE in each equation, worst sign).
    let fine = moments(map, p.teacher, c, eta, s, 2);
    let (fine_residuals, _) = newton_system(&fine, p, q, eta, s);
    let risk_moved = |f: &[f64; 2], m: &Moments| {
        let [dx, dy] = newton_step(f, &jac).unwrap_or([f64::INFINITY; 2]);
        q * (eta * m.d_eta * dx + s * m.d_s * dy)
    };
    let quadrature = q * (fine.d - m.d) + risk_moved(&fine_residuals, &fine);
    let tolerance = [[1.0, 1.0], [1.0, -1.0]]
        .iter()
        .map(|[a, b]| risk_moved(&[a * NEWTON_TOLERANCE, b * NEWTON_TOLERANCE], &m).abs())
        .fold(0.0, f64::max);
    let numerical_error = (quadrature.abs() + tolerance) / excess_risk.abs().max(f64::MIN_POSITIVE);
    let solution = Solution {
        eta,
        s,
        q,
        distance: m.d,
        residuals,
        iterations,
        quadrature_error: numerical_error,
        boundary,
        excess_risk,
    };
    Ok((solution, layers))
}

/// What the layers below contribute besides `Q`: the noise they amplify,
/// `n/(d_L kappa A) - d_L/(d_L - n) >= 0` (entropic.md (6.3)).
fn noise_gain(layers: &squared::Solution, ratio: Ratio) -> f64 {
    let kappa_a = layers.chain.kappa_a();
    ratio.delta / kappa_a - 1.0 / ratio.slack
}

/// (T1) and (T2) as a nested pair of one-dimensional roots (entropic.md §10): for each
/// `s`, `eta(s)` solves (T1); along that curve the (T2) residual `delta s^2 - D - sigma^2/Q`
/// increases with `s` (§8), and its root is the solution. Both roots are found by
/// safeguarded Newton, the outer with the derivative along the curve,
/// `dF2/dlog s + dF2/dlog eta * dlog eta/dlog s`, and the inner warm-started from the
/// last `eta`, so a solve costs a few dozen quadratures. Where (T1) has no root the
/// outer search counts `s` as too large. `V` need not decrease in `eta` (for `chi < -eta`
/// the slope `P'` grows with `eta`): with a start far above the teacher's scale (T1) then
/// has roots beyond `s_max` of §8, on the branch that continues from large `eta`, which
/// is the one followed here. Returns `(eta, s, quadratures)`.
fn top_root(map: &dyn MirrorMap, p: &Problem, q: f64, eta0: f64, s0: f64) -> Option<(f64, f64, u64)> {
    let count = std::cell::Cell::new(0u64);
    let system = |eta: f64, s: f64| {
        count.set(count.get() + 1);
        newton_system(&moments(map, p.teacher, p.start, eta, s, 1), p, q, eta, s)
    };
    // A map on the whole line has no feasibility edge to fall off: plain damped Newton in
    // (log eta, log s) from the squared map's point usually lands in a handful of steps; the
    // nested roots below are the fallback that always brackets.
    if !map.positive_domain() {
        if let Some((eta, s)) = damped_newton(&system, eta0, s0) {
            return Some((eta, s, count.get()));
        }
    }
    // F1 increases with eta in its W form; the V form is negated to match.
    let orient = if p.ratio.delta <= 0.5 { -1.0 } else { 1.0 };
    let mut log_eta = eta0.ln();
    let outer = |y: f64, log_eta: &mut f64| -> Option<(f64, f64)> {
        let s = y.exp();
        let inner = |x: f64| {
            let (f, jac) = system(x.exp(), s);
            Some((orient * f[0], orient * jac[0][0]))
        };
        *log_eta = safeguarded_newton(inner, *log_eta, f64::INFINITY, NEWTON_TOLERANCE)?;
        let (f, jac) = system(log_eta.exp(), s);
        let along = jac[1][1] - jac[1][0] * jac[0][1] / jac[0][0];
        Some((-f[1], -along))
    };
    let mut last_eta = log_eta;
    let y = safeguarded_newton(
        |y| {
            let value = outer(y, &mut log_eta);
            if value.is_some() {
                last_eta = log_eta;
            }
            value
        },
        s0.ln(),
        f64::INFINITY,
        NEWTON_TOLERANCE,
    )?;
    // The inner root at the returned s (the outer's last evaluation may have been elsewhere),
    // then plain Newton in both unknowns, which takes the residuals from the nested
    // tolerance to rounding level in a step or two.
    let mut log_eta = last_eta;
    outer(y, &mut log_eta)?;
    let mut point = [log_eta, y];
    let (mut f, mut jac) = system(point[0].exp(), point[1].exp());
    for _ in 0..3 {
        let Some(step) = newton_step(&f, &jac) else { break };
        let trial = [point[0] + step[0], point[1] + step[1]];
        let (ft, jt) = system(trial[0].exp(), trial[1].exp());
        if !(worst(&ft) < worst(&f)) {
            break;
        }
        (point, f, jac) = (trial, ft, jt);
    }
    Some((point[0].exp(), point[1].exp(), count.get()))
}

/// Newton on (T1), (T2) in `(log eta, log s)`, each step halved until the worst residual
/// falls; the point once the residuals are at rounding level (no step improves them
/// below [`MAX_RESIDUAL`]), or `None` when a step cannot be made to improve before that.
fn damped_newton(system: &dyn Fn(f64, f64) -> ([f64; 2], [[f64; 2]; 2]), eta0: f64, s0: f64) -> Option<(f64, f64)> {
    let mut point = [eta0.ln(), s0.ln()];
    let (mut f, mut jac) = system(eta0, s0);
    for _ in 0..40 {
        let step = newton_step(&f, &jac)?;
        // A step of more than a factor e^4 in eta or s is taken as far as that at most.
        let mut t = (4.0 / step[0].abs().max(step[1].abs())).min(1.0);
        let improved = loop {
            let trial = [point[0] + t * step[0], point[1] + t * step[1]];
            let (ft, jt) = system(trial[0].exp(), trial[1].exp());
            if worst(&ft) < worst(&f) {
                break Some((trial, ft, jt));
            }
            t *= 0.5;
            if t < 1e-3 {
                break None;
            }
        };
        match improved {
            Some((trial, ft, jt)) => (point, f, jac) = (trial, ft, jt),
            None if worst(&f) <= MAX_RESIDUAL => return Some((point[0].exp(), point[1].exp())),
            None => return None,
        }
        if worst(&f) <= NEWTON_TOLERANCE {
            return Some((point[0].exp(), point[1].exp()));
        }
    }
    (worst(&f) <= MAX_RESIDUAL).then(|| (point[0].exp(), point[1].exp()))
}

/// A root of a function that is negative below it and positive above, on `(-inf, hi)`:
/// Newton from `x0`, replaced by bisection (or, while one side is unbounded, a step that
/// doubles each time) whenever a step would leave the bracket known so far. `f` gives the
/// value and slope, or `None` where it is undefined, which counts as above the root
/// (there (T1) has no root: `s` too large). Stops at `|f| <= tol` or a collapsed bracket.
fn safeguarded_newton(mut f: impl FnMut(f64) -> Option<(f64, f64)>, x0: f64, hi: f64, tol: f64) -> Option<f64> {
    const REACH: f64 = 745.0; // |log| beyond which eta or s leaves the floating-point range
    let (mut lo, mut hi) = (f64::NEG_INFINITY, hi);
    let mut x = if hi.is_finite() { x0.min(hi - 1e-12 * hi.abs().max(1.0)) } else { x0 };
    let mut reach = 1.0;
    for _ in 0..200 {
        let value = f(x);
        let (v, slope) = value.unwrap_or((f64::INFINITY, f64::NAN));
        if v.abs() <= tol {
            return Some(x);
        }
        if v > 0.0 { hi = x } else { lo = x }
        if hi - lo <= 4.0 * f64::EPSILON * x.abs().max(1.0) {
            // A sign change with a large value across a collapsed bracket is a jump, not a root.
            return (v.abs() <= 1e-8).then_some(x);
        }
        // Newton, but while the bracket is open on the side it heads for, no further than a
        // reach that doubles each time it binds (a flat start would otherwise jump out of range).
        let newton = x - v / slope;
        x = if newton > lo && newton < hi && (lo.is_finite() && hi.is_finite() || (newton - x).abs() <= reach) {
            newton
        } else if lo.is_finite() && hi.is_finite() {
            0.5 * (lo + hi)
        } else {
            reach *= 2.0;
            if lo.is_finite() { (x.max(lo) + reach).min(0.5 * (lo + hi)) } else { (x.min(hi) - reach).max(0.5 * (lo + hi)) }
        };
        if !(x.abs() <= REACH) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::mirror::{Entropic, Squared};

    #[test]
    fn conditional_moments_integrate_to_the_prior() {
        // int density = 1, int density * E[a|chi] = E a, int density * E[a^2|chi] = r^2.
        for teacher in [Teacher { prior: Prior::Gaussian, r: 1.3 }, Teacher { prior: Prior::HalfNormal, r: 0.7 }] {
            for s in [0.05, 0.8, 4.0] {
                let (t, w) = gauss_legendre(NODES);
                let spread = (teacher.r * teacher.r + s * s).sqrt();
                let (lo, hi, panels) = (-12.0 * spread, 12.0 * spread, 400);
                let mut sums = [0.0; 3];
                for k in 0..panels {
                    let width = (hi - lo) / panels as f64;
                    for (&ti, &wi) in t.iter().zip(&w) {
                        let chi = lo + width * (k as f64 + 0.5 * (ti + 1.0));
                        let Conditional { density, residual, var } = teacher.given(chi, s);
                        let mean = chi - residual;
                        let weight = 0.5 * width * wi * density;
                        sums[0] += weight;
                        sums[1] += weight * mean;
                        sums[2] += weight * (var + mean * mean);
                    }
                }
                let r = teacher.r;
                assert!((sums[0] - 1.0).abs() < 1e-13, "{teacher:?} s={s}: {sums:?}");
                assert!((sums[1] - teacher.mean()).abs() < 1e-13, "{teacher:?} s={s}: {sums:?}");
                assert!((sums[2] - r * r).abs() < 1e-12, "{teacher:?} s={s}: {sums:?}");
            }
        }
    }

    /// The analytic Jacobian entries match central differences of V and D.
    #[test]
    fn moment_derivatives_match_differences() {
        let teacher = Teacher { prior: Prior::HalfNormal, r: 1.0 };
        for (eta, s, c) in [(1.17, 0.72, 0.8), (0.05, 2.0, 0.1), (3.0, 0.3, 2.0)] {
            let m = moments(&Entropic, teacher, c, eta, s, 1);
            let h = 1e-5;
            let at = |eta: f64, s: f64| moments(&Entropic, teacher, c, eta, s, 1);
            let (ep, em) = (at(eta * (1.0 + h), s), at(eta * (1.0 - h), s));
            let (sp, sm) = (at(eta, s * (1.0 + h)), at(eta, s * (1.0 - h)));
            let close = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-6 * (1.0 + a.abs()), "{what} at ({eta},{s}): {a} vs {b}");
            close(m.v_eta, (ep.v - em.v) / (2.0 * h * eta), "V_eta");
            close(m.d_eta, (ep.d - em.d) / (2.0 * h * eta), "D_eta");
            close(m.v_s, (sp.v - sm.v) / (2.0 * h * s), "V_s");
            close(m.d_s, (sp.d - sm.d) / (2.0 * h * s), "D_s");
        }
    }

    /// Half-normal projection moments (entropic.md §8): as eta -> 0 the prox is
    /// `chi_+`, and `V -> P(chi > 0) = 1/2 + arctan(r/s)/pi`.
    #[test]
    fn small_step_limit_is_the_projection() {
        let teacher = Teacher { prior: Prior::HalfNormal, r: 1.0 };
        for s in [0.3, 1.0, 3.0] {
            let m = moments(&Entropic, teacher, 0.8, 1e-9, s, 1);
            let p_plus = 0.5 + (1.0 / s).atan() / PI;
            assert!((m.v - p_plus).abs() < 1e-7, "s = {s}: {} vs {p_plus}", m.v);
        }
    }

    #[test]
    fn squared_map_gives_the_closed_form_step() {
        // (T1) for the squared prox: 1/(1 + eta) = delta.
        let layers = [Layer { rho1: 1.0, rho2: 0.0, aspect: 0.5 }];
        let p = Problem { layers: &layers, ratio: Ratio::new(0.4), teacher: Teacher { prior: Prior::Gaussian, r: 1.0 }, start: 0.0, noise_var: 0.25 };
        let (sol, _) = solve(&Squared, &p).unwrap();
        assert!((sol.eta - 1.5).abs() < 1e-12, "{}", sol.eta);
    }
}
