//! The general-mirror-map system of [equations/entropic.md](../equations/entropic.md#final-system):
//! the squared layer chain (unchanged, `squared::solve`) plus two top unknowns,
//! the prox step `eta` and the effective noise level `s`:
//!
//! - (T1) `E P_eta'(a + sG) = n/d_L`,
//! - (T2) `(n/d_L) s^2 = E (P_eta(a + sG) - a)^2 + sigma^2 / Q`, `Q = n kappa / (d_L - n)`,
//!
//! with `a` the scaled teacher entry, and the risk
//! `Q D + sigma^2 (n/(d_L kappa A) - d_L/(d_L - n))` (6.3). Generic over
//! [`MirrorMap`]; with [`crate::mirror::Squared`] it reproduces the SGD solver (§9).

use crate::mirror::MirrorMap;
use crate::quadrature::gauss_legendre;
use crate::spec::Prior;
use crate::squared::{self, Layer, SolveError};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// Relative residual of (T1), (T2) above which a point is refused.
pub const MAX_RESIDUAL: f64 = 1e-10;

/// The law of a scaled teacher entry `a = sqrt(d_L) a*_i`: `N(0, r^2)` or `r |N(0, 1)|`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Teacher {
    pub prior: Prior,
    /// `r = sqrt(norm2)`.
    pub r: f64,
}

impl Teacher {
    fn mean(&self) -> f64 {
        match self.prior {
            Prior::Gaussian => 0.0,
            Prior::HalfNormal => self.r * (2.0 / PI).sqrt(),
        }
    }

    /// Signed (or zero) teachers behave alike for feasibility: `P(a + sG > 0) = 1/2`.
    fn is_symmetric(&self) -> bool {
        self.prior == Prior::Gaussian || self.r == 0.0
    }

    /// At `chi = a + sG`: the density of `chi` and the conditional mean and
    /// variance of `a` given `chi` (Gaussian prior: Gaussian; half-normal: the
    /// same Gaussian truncated to `a > 0`, so `chi` is skew-normal).
    fn given(&self, chi: f64, s: f64) -> (f64, f64, f64) {
        let r = self.r;
        let spread2 = r * r + s * s;
        let spread = spread2.sqrt();
        let mu = chi * r * r / spread2;
        let sd = r * s / spread;
        let base = normal_pdf(chi / spread) / spread;
        if self.is_symmetric() {
            return (base, mu, sd * sd);
        }
        let x = chi * r / (s * spread);
        let (cdf, pdf) = (normal_cdf(x), normal_pdf(x));
        if cdf == 0.0 {
            return (0.0, mu, 0.0); // far below the teacher's support: no mass
        }
        // Truncated-normal moments; the inverse Mills ratio pdf/cdf is finite for every x on the grid.
        let mills = pdf / cdf;
        (2.0 * base * cdf, mu + sd * mills, sd * sd * (1.0 - x * mills - mills * mills).max(0.0))
    }
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// `V = E P'`, `D = E (P - a)^2` and their partial derivatives in `eta` and `s`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Moments {
    pub v: f64,
    pub d: f64,
    pub v_eta: f64,
    pub v_s: f64,
    pub d_eta: f64,
    pub d_s: f64,
}

/// Gauss–Legendre nodes per panel of the chi grid.
const NODES: usize = 16;
/// Uniform panels over the range of chi, before refinement at the prox's bend.
const PANELS: usize = 48;

/// The moments at `(eta, s)` by one quadrature over `chi = a + sG` (entropic.md §7,
/// "Expectations"): `E h(a, chi) = int E[h | chi] density(chi) dchi`, so one prox
/// evaluation per node serves every teacher value, and the teacher's law enters
/// through closed-form conditional moments. The grid covers 12 standard
/// deviations of `chi` and is refined around the bend of `P_eta`, a layer of
/// width `~eta` near `chi = eta log(eta/c)` for the entropic map. `refine`
/// splits every panel (1 = the working grid; 2 estimates the quadrature error).
pub fn moments(map: &dyn MirrorMap, teacher: Teacher, c: f64, eta: f64, s: f64, refine: usize) -> Moments {
    static RULE: OnceLock<(Vec<f64>, Vec<f64>)> = OnceLock::new();
    let (t, w) = RULE.get_or_init(|| gauss_legendre(NODES));
    let spread = (teacher.r * teacher.r + s * s).sqrt();
    let lo = if teacher.is_symmetric() { -12.0 * spread } else { -12.0 * s };
    let hi = 12.0 * spread;
    let mut breaks: Vec<f64> = (0..=PANELS).map(|k| lo + (hi - lo) * k as f64 / PANELS as f64).collect();
    if map.positive_domain() {
        let bend = eta * (eta / c).ln();
        breaks.push(bend);
        for j in -3..=6 {
            let half = eta * 2f64.powi(j);
            breaks.extend([bend - half, bend + half]);
        }
    }
    breaks.retain(|b| (lo..=hi).contains(b));
    breaks.sort_by(f64::total_cmp);
    breaks.dedup_by(|a, b| (*a - *b).abs() <= 1e-14 * (hi - lo));
    let mut m = Moments::default();
    for pair in breaks.windows(2) {
        let width = (pair[1] - pair[0]) / refine as f64;
        for piece in 0..refine {
            let left = pair[0] + piece as f64 * width;
            for (&ti, &wi) in t.iter().zip(w) {
                let chi = left + 0.5 * width * (ti + 1.0);
                let (density, mean, var) = teacher.given(chi, s);
                let weight = 0.5 * width * wi * density;
                if weight == 0.0 {
                    continue;
                }
                let p = map.prox(chi, eta, c);
                let (gap, noise) = (p.x - mean, chi - mean);
                m.v += weight * p.slope;
                m.d += weight * (gap * gap + var);
                m.v_eta += weight * p.slope_d_eta;
                m.v_s += weight * p.curvature * noise;
                m.d_eta += weight * 2.0 * p.d_eta * gap;
                m.d_s += weight * 2.0 * p.slope * (gap * noise + var);
            }
        }
    }
    m.v_s /= s;
    m.d_s /= s;
    m
}

/// The top problem: everything (T1), (T2) and the risk need besides the map.
#[derive(Clone, Debug)]
pub struct Problem<'a> {
    /// The layers, for the feasibility boundary (which moves `n/d_L`).
    pub layers: &'a [Layer],
    /// `delta = n/d_L`.
    pub ratio: f64,
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
    /// `|risk(refined grid) - risk| / risk`: the quadrature's own error estimate.
    pub quadrature_error: f64,
    /// The smallest `d_L/n` with a positive interpolator at these widths (`None` when every `d_L > n` works).
    pub boundary: Option<f64>,
    pub excess_risk: f64,
}

/// `Q(delta) = delta kappa / (1 - delta)` from the layer chain at `delta`.
fn q_at(layers: &[Layer], ratio: f64) -> Result<(f64, squared::Solution), SolveError> {
    let solution = squared::solve(layers, ratio)?;
    Ok((ratio * solution.chain.kappa() / (1.0 - ratio), solution))
}

/// Feasibility margin at `delta` (entropic.md (8.3)): positive iff a positive interpolator exists.
fn margin(problem: &Problem, ratio: f64, q: f64) -> f64 {
    let Teacher { r, .. } = problem.teacher;
    if problem.teacher.is_symmetric() {
        return 0.5 - ratio;
    }
    if ratio <= 0.5 {
        return f64::INFINITY;
    }
    let t = (PI * (1.0 - ratio)).tan();
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
        let mid = 0.5 * (lo + hi);
        if q_at(problem.layers, mid).is_ok_and(|(q, _)| margin(problem, mid, q) > 0.0) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(2.0 / (lo + hi))
}

/// `sup { s : P(a + sG > 0) > delta }`: (T1) has a root in `eta` only below it (entropic.md §8).
fn s_max(teacher: Teacher, ratio: f64) -> f64 {
    if teacher.is_symmetric() || ratio <= 0.5 {
        f64::INFINITY
    } else {
        teacher.r * (PI * (1.0 - ratio)).tan()
    }
}

/// Brent in one unknown, as the layer chain uses it.
fn root(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> Option<(f64, u64)> {
    squared::brent_root(f, lo, hi, 1e-14, 200)
}

/// The root `eta(s)` of (T1) at fixed `s`, searched in `log eta`: `V` falls from
/// `P(a + sG > 0)` (or 1) at `eta -> 0` to 0 at `eta -> infinity`.
fn eta_for(map: &dyn MirrorMap, p: &Problem, s: f64) -> Option<(f64, u64)> {
    let f = |x: f64| moments(map, p.teacher, p.start, x.exp(), s, 1).v - p.ratio;
    let (mut lo, mut hi, mut steps) = (-1.0, 1.0, 0);
    while f(hi) > 0.0 {
        hi += 3.0;
        steps += 1;
        if hi > 60.0 {
            return None;
        }
    }
    while f(lo) < 0.0 {
        lo -= 3.0;
        steps += 1;
        if lo < -60.0 {
            return None;
        }
    }
    root(f, lo, hi).map(|(x, it)| (x.exp(), steps + it))
}

/// Relative residuals `F1 = V/delta - 1`, `F2 = (D + sigma^2/Q)/(delta s^2) - 1`
/// and their Jacobian in `(log eta, log s)` (entropic.md §10.4).
fn newton_system(m: &Moments, p: &Problem, q: f64, eta: f64, s: f64) -> ([f64; 2], [[f64; 2]; 2]) {
    let delta = p.ratio;
    let target = m.d + p.noise_var / q;
    let f = [m.v / delta - 1.0, target / (delta * s * s) - 1.0];
    let jac = [
        [eta * m.v_eta / delta, s * m.v_s / delta],
        [eta * m.d_eta / (delta * s * s), (s * m.d_s - 2.0 * target) / (delta * s * s)],
    ];
    (f, jac)
}

fn worst(f: &[f64; 2]) -> f64 {
    f[0].abs().max(f[1].abs())
}

/// Solves (T1), (T2) for `map` (entropic.md §10): layer chain, feasibility check,
/// start at the squared map's `s` (capped below `s_max`) and the (T1) root there,
/// damped Newton in `(log eta, log s)`, nested bracketing if Newton fails.
pub fn solve(map: &dyn MirrorMap, p: &Problem) -> Result<(Solution, squared::Solution), TopError> {
    let (q, layers) = q_at(p.layers, p.ratio)?;
    let delta = p.ratio;
    let boundary = if map.positive_domain() { boundary(p) } else { None };
    if map.positive_domain() && !(margin(p, delta, q) > 0.0) {
        return Err(TopError::Infeasible { ratio: 1.0 / delta, boundary: boundary.unwrap_or(f64::NAN) });
    }
    let limit = if map.positive_domain() { s_max(p.teacher, delta) } else { f64::INFINITY };
    let (r, c) = (p.teacher.r, p.start);
    let reff2 = r * r - 2.0 * c * p.teacher.mean() + c * c;
    let s0 = (((1.0 - delta) * reff2 + p.noise_var / q) / (delta * (1.0 - delta))).sqrt().min(0.9 * limit);
    let mut iterations = 0;
    let newton = eta_for(map, p, s0).and_then(|(eta0, it)| {
        iterations += it;
        let (point, it) = damped_newton(map, p, q, eta0, s0);
        iterations += it;
        point
    });
    let (eta, s) = match newton {
        Some(point) => point,
        None => {
            let (point, it) = nested(map, p, q, s0, limit);
            iterations += it;
            point.ok_or(TopError::NoConvergence { iterations, t1: f64::NAN, t2: f64::NAN, eta: f64::NAN, s: f64::NAN })?
        }
    };
    let m = moments(map, p.teacher, c, eta, s, 1);
    let (residuals, _) = newton_system(&m, p, q, eta, s);
    if !(worst(&residuals) <= MAX_RESIDUAL) || !(eta > 0.0) {
        return Err(TopError::NoConvergence { iterations, t1: residuals[0], t2: residuals[1], eta, s });
    }
    let noise_gain = noise_gain(&layers, delta);
    let excess_risk = q * m.d + p.noise_var * noise_gain;
    let fine = q * moments(map, p.teacher, c, eta, s, 2).d + p.noise_var * noise_gain;
    let solution = Solution {
        eta,
        s,
        q,
        distance: m.d,
        residuals,
        iterations,
        quadrature_error: (fine - excess_risk).abs() / excess_risk.abs().max(f64::MIN_POSITIVE),
        boundary,
        excess_risk,
    };
    Ok((solution, layers))
}

/// What the layers below contribute besides `Q`: the noise they amplify,
/// `n/(d_L kappa A) - d_L/(d_L - n) >= 0` (entropic.md (6.3)).
fn noise_gain(layers: &squared::Solution, delta: f64) -> f64 {
    let kappa_a = layers.chain.kappa_a();
    delta / kappa_a - 1.0 / (1.0 - delta)
}

/// Damped Newton on (T1), (T2) in `(log eta, log s)`: steps clipped to 2, halved
/// until the worst residual falls. `None` if it stalls.
fn damped_newton(map: &dyn MirrorMap, p: &Problem, q: f64, eta0: f64, s0: f64) -> (Option<(f64, f64)>, u64) {
    let (mut x, mut y) = (eta0.ln(), s0.ln());
    let system = |x: f64, y: f64| {
        let (eta, s) = (x.exp(), y.exp());
        newton_system(&moments(map, p.teacher, p.start, eta, s, 1), p, q, eta, s)
    };
    let (mut f, mut jac) = system(x, y);
    for iteration in 1..=60u64 {
        if worst(&f) <= 1e-13 {
            return (Some((x.exp(), y.exp())), iteration);
        }
        let det = jac[0][0] * jac[1][1] - jac[0][1] * jac[1][0];
        if !(det.abs() > 0.0) {
            return (None, iteration);
        }
        let dx = ((-f[0] * jac[1][1] + f[1] * jac[0][1]) / det).clamp(-2.0, 2.0);
        let dy = ((-f[1] * jac[0][0] + f[0] * jac[1][0]) / det).clamp(-2.0, 2.0);
        let mut step = 1.0;
        loop {
            let (fx, fj) = system(x + step * dx, y + step * dy);
            if worst(&fx) < worst(&f) * (1.0 - 1e-4 * step) {
                (x, y, f, jac) = (x + step * dx, y + step * dy, fx, fj);
                break;
            }
            step *= 0.5;
            if step < 1e-6 {
                // No descent: accept a point already at rounding level, else give up.
                return (if worst(&f) <= MAX_RESIDUAL { Some((x.exp(), y.exp())) } else { None }, iteration);
            }
        }
    }
    (if worst(&f) <= MAX_RESIDUAL { Some((x.exp(), y.exp())) } else { None }, 60)
}

/// The fallback of entropic.md §10.5: for each `s`, `eta(s)` from (T1); then the
/// increasing residual `r(s) = delta s^2 - D - sigma^2/Q` of (T2) is bracketed in `(0, s_max)`.
fn nested(map: &dyn MirrorMap, p: &Problem, q: f64, s0: f64, limit: f64) -> (Option<(f64, f64)>, u64) {
    let count = std::cell::Cell::new(0u64);
    let residual = |y: f64| {
        let s = y.exp();
        match eta_for(map, p, s) {
            Some((eta, it)) => {
                count.set(count.get() + it);
                let m = moments(map, p.teacher, p.start, eta, s, 1);
                (p.ratio * s * s - m.d - p.noise_var / q) / (p.ratio * s * s)
            }
            None => f64::NAN,
        }
    };
    let (mut lo, mut hi) = (s0.ln() - 1.0, s0.ln().min(limit.ln() - 1e-9));
    while !(residual(lo) < 0.0) {
        lo -= 2.0;
        if lo < s0.ln() - 40.0 {
            return (None, count.get());
        }
    }
    while !(residual(hi) > 0.0) {
        hi = if limit.is_finite() { 0.5 * (hi + limit.ln()) } else { hi + 1.0 };
        if hi > s0.ln() + 40.0 || (limit.is_finite() && limit.ln() - hi < 1e-12) {
            return (None, count.get());
        }
    }
    let Some((y, it)) = root(residual, lo, hi) else { return (None, count.get()) };
    let s = y.exp();
    let eta = eta_for(map, p, s).map(|(eta, _)| eta);
    (eta.map(|eta| (eta, s)), count.get() + it)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::{Entropic, Squared};

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
                        let (density, mean, var) = teacher.given(chi, s);
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
        let p = Problem { layers: &layers, ratio: 0.4, teacher: Teacher { prior: Prior::Gaussian, r: 1.0 }, start: 0.0, noise_var: 0.25 };
        let (sol, _) = solve(&Squared, &p).unwrap();
        assert!((sol.eta - 1.5).abs() < 1e-12, "{}", sol.eta);
    }
}
