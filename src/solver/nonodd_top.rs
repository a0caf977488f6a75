//! The last layer of a network with a non-odd activation, for any separable mirror map
//! (equations/nonodd.md §5). Two things differ from the odd theory of entropic.md:
//!
//! - **The mean spike.** The features have the mean vector `m_L` (entries `mu(b_i)`), a spike
//!   the interpolator must fit at vanishing cost, which pins the student's mean part to the
//!   teacher's: `E[mu (P - a)] = 0`. Its multiplier `lambda` tilts each unit's start,
//!   `phi'(c_i) = phi'(c) - lambda mu_i` ([`MirrorMap::tilted_start`]).
//! - **The unit law** (from layer 2 on). Unit `i` has its own `r1_i = rho1(b_i)^2`,
//!   `r2_i = rho2(b_i)^2`, hence its own stiffness `Q_i = r2_i + r1_i u tau_B(u)`, prox step
//!   `eta_i = 1/(beta Q_i)` and noise level `s_i = sqrt(X^2 r2_i + gamma r1_i Y^2)/Q_i`.
//!
//! The unknowns are `(log beta, log u, log X, log Y, lambda)` and the equations (nonodd.md (N4))
//!
//! - (N4a) `gamma u E[r1 V/Q] = 1`,
//! - (N4b) `E[r2 V/Q] + tau_B/gamma = delta`,
//! - (N4c) `E[D r1] (tau_B + u tau_B') = X^2 tau_B'/gamma + Y^2/u^2`,
//! - (N4d) `E[D Q] + sigma^2 = X^2 (delta - tau_B/gamma) + Y^2/u`,
//! - (N4e) `E[mu (P - a)] = 0`,
//!
//! with `V_i, D_i` the moments of [`entropic::moments`] at `(c_i, eta_i, s_i)`, expectations over
//! the top layer's unit law, and the risk `delta X^2 - sigma^2`. With one unit law and no mean they
//! are entropic.md (S1)–(S4); with the squared map they are the variance-profile chain of (N2).

use crate::solver::entropic::{self, moments, Problem, Teacher, TopError};
use crate::solver::mirror::MirrorMap;
use crate::solver::nonodd::{self, MixedLayer};
use crate::solver::squared::{self, brent_root, Chain, Input, Layer, Ratio, Trace};

/// The top problem of a non-odd network.
#[derive(Clone, Copy)]
pub struct MeanTop<'a> {
    pub input: &'a Input,
    /// Every hidden layer; the last one's units carry the feature means.
    pub layers: &'a [MixedLayer],
    pub ratio: Ratio,
    pub teacher: Teacher,
    /// Scaled start `c = sqrt(d_L) a_0,i`.
    pub start: f64,
    pub noise_var: f64,
}

/// A solved top problem.
#[derive(Clone, Debug)]
pub struct MeanSolution {
    /// `[log beta, log u, log X, log Y, lambda]`.
    pub point: [f64; 5],
    /// Relative residuals of (N4a)–(N4e).
    pub residuals: [f64; 5],
    /// The layers below at `u = u_L` (for `L = 1`, the input alone).
    pub below: Chain,
    /// Unit-averaged prox step, noise level, stiffness `E Q` and distance `E D`.
    pub eta: f64,
    pub s: f64,
    pub q: f64,
    pub distance: f64,
    /// The tilt of the average unit, `lambda E mu`: the start moved to `tilted_start(c, lambda E mu)`.
    pub tilt: f64,
    /// The smallest `d_L/n` with a positive interpolator (entropic map with label noise).
    pub boundary: Option<f64>,
    pub excess_risk: f64,
    /// Relative move of the risk when every quadrature panel is halved.
    pub quadrature_error: f64,
    pub iterations: u64,
}

/// Units whose weight in the offset law is below this are left out (Gauss–Hermite tails).
const NEGLIGIBLE_WEIGHT: f64 = 1e-14;

/// What one evaluation of the system gives.
struct Evaluation {
    residuals: [f64; 5],
    eta: f64,
    s: f64,
    q: f64,
    distance: f64,
}

impl MeanTop<'_> {
    fn top(&self) -> &MixedLayer {
        self.layers.last().expect("at least one layer")
    }

    /// `tau_B` at `u` with its elasticity `u tau_B'(u)`, and the chain below that reaches `u`.
    fn below(&self, log_u: f64) -> Option<Chain> {
        let depth = self.layers.len();
        if depth == 1 {
            return Some(Chain { log_shifts: vec![log_u], traces: vec![self.input.trace(log_u)], gains: vec![] });
        }
        nonodd::chain_at(self.input, &self.layers[..depth - 1], log_u)
    }

    /// The residuals of (N4a)–(N4e) at `z`, the moments on a grid refined `refine` times.
    fn evaluate(&self, map: &dyn MirrorMap, z: &[f64; 5], refine: usize) -> Option<Evaluation> {
        let [log_beta, log_u, log_x, log_y, lambda] = *z;
        let (beta, u, x, y) = (log_beta.exp(), log_u.exp(), log_x.exp(), log_y.exp());
        let Trace { tau, elasticity } = self.below(log_u)?.top();
        let gamma = self.top().aspect;
        let delta = self.ratio.delta;
        let (mut s1, mut s2, mut dr1, mut dq, mut mass, mut mass_scale) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut eta_mean, mut s_mean, mut q_mean, mut d_mean) = (0.0, 0.0, 0.0, 0.0);
        for unit in self.top().units.iter().filter(|n| n.weight > NEGLIGIBLE_WEIGHT) {
            let q = unit.r2 + unit.r1 * u * tau;
            if !(q > 0.0) {
                continue; // a dead unit: its feature is constant, and the data never see it
            }
            let eta = 1.0 / (beta * q);
            let s = (x * x * unit.r2 + gamma * unit.r1 * y * y).sqrt() / q;
            let c = map.tilted_start(self.start, lambda * unit.mean);
            let m = moments(map, self.teacher, c, eta, s, refine);
            let w = unit.weight;
            s1 += w * unit.r1 * m.v / q;
            s2 += w * unit.r2 * m.v / q;
            dr1 += w * m.d * unit.r1;
            dq += w * m.d * q;
            mass += w * unit.mean * m.gap;
            mass_scale += w * unit.mean.abs() * (m.d.sqrt() + s);
            (eta_mean, s_mean, q_mean, d_mean) = (eta_mean + w * eta, s_mean + w * s, q_mean + w * q, d_mean + w * m.d);
        }
        let tau_prime = elasticity / u;
        let (x2, y2) = (x * x, y * y);
        let e3_terms = [dr1 * (tau + elasticity), x2 * tau_prime / gamma, y2 / (u * u)];
        let e4_terms = [dq + self.noise_var, x2 * (delta - tau / gamma), y2 / u];
        let relative = |t: [f64; 3]| (t[0] - t[1] - t[2]) / (t[0].abs() + t[1].abs() + t[2].abs()).max(f64::MIN_POSITIVE);
        let residuals = [
            gamma * u * s1 - 1.0,
            (s2 + tau / gamma) / delta - 1.0,
            relative(e3_terms),
            relative(e4_terms),
            mass / mass_scale.max(f64::MIN_POSITIVE),
        ];
        residuals.iter().all(|r| r.is_finite()).then_some(Evaluation { residuals, eta: eta_mean, s: s_mean, q: q_mean, distance: d_mean })
    }

    /// The top layer with its unit law averaged, for the starting point.
    fn averaged_layers(&self) -> Vec<Layer> {
        self.layers
            .iter()
            .map(|l| {
                let (r1, r2) = l.units.iter().fold((0.0, 0.0), |(a, b), n| (a + n.weight * n.r1, b + n.weight * n.r2));
                Layer { rho1: r1.sqrt(), rho2: r2.sqrt(), aspect: l.aspect }
            })
            .collect()
    }

    /// The point of (N4a)–(N4e) that a solution of the averaged problem maps to (entropic.md
    /// (4.1)–(4.6), §4's `X` and `Y`): `u = u_L`, `beta = 1/(eta Q)` (1 when `eta` is `None`),
    /// and `lambda` from the average unit's tilt.
    fn mapped_point(&self, averaged: &[Layer], log_u: f64, distance: f64, eta: Option<f64>, tilt: f64) -> Option<[f64; 5]> {
        let top = averaged.last()?;
        let (r1, r2, gamma) = (top.rho1 * top.rho1, top.rho2 * top.rho2, top.aspect);
        let u = log_u.exp();
        let Trace { tau, elasticity } = self.below(log_u)?.top();
        let q = r2 + r1 * u * tau;
        let big_r = r2 - r1 * u * elasticity;
        let x2 = gamma * r1 * u * (distance + self.noise_var / big_r);
        let y2 = u * (r1 * u * tau * distance + self.noise_var * (big_r - r2) / big_r);
        let log_beta = eta.map_or(0.0, |eta| -(eta * q).ln());
        let tilt = if eta.is_some() { tilt } else { tilt * q };
        Some([log_beta, log_u, 0.5 * x2.ln(), 0.5 * y2.max(1e-300).ln(), tilt / self.mean_feature()])
    }

    fn mean_feature(&self) -> f64 {
        self.top().units.iter().map(|n| n.weight * n.mean).sum()
    }
}

/// The largest residual.
fn worst(r: &[f64; 5]) -> f64 {
    r.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The uniform problem (every layer's law averaged) with the mass constraint: the odd top
/// solve (entropic.md §10) at the start `tilted_start(c, t)`, `t` the root of `E(P - a) = 0`.
/// Exact for `L = 1`, where every unit shares one law; the starting point otherwise.
fn uniform_with_mass(map: &dyn MirrorMap, p: &MeanTop, layers: &[Layer]) -> Result<(entropic::Solution, squared::Solution, f64), TopError> {
    let problem = |t: f64| Problem { layers, ratio: p.ratio, teacher: p.teacher, start: map.tilted_start(p.start, t), noise_var: p.noise_var };
    let gap = |t: f64| -> Result<f64, TopError> {
        let problem = problem(t);
        let (solution, _) = entropic::solve(map, &problem)?;
        Ok(moments(map, p.teacher, problem.start, solution.eta, solution.s, 1).gap)
    };
    // The student's mean falls as the tilt grows (the start moves down): bracket the root.
    let g0 = gap(0.0)?;
    let direction = if g0 > 0.0 { 1.0 } else { -1.0 };
    let (mut lo, mut hi, mut step) = (0.0, 0.0, 0.25);
    if g0 != 0.0 {
        loop {
            hi = lo + direction * step;
            if gap(hi)? * direction <= 0.0 {
                break;
            }
            (lo, step) = (hi, 2.0 * step);
            if step > 1e3 {
                return Err(TopError::NoSolution { start: p.start, scale: p.teacher.r });
            }
        }
    }
    let t = if g0 == 0.0 {
        0.0
    } else {
        // A failed solve inside the bracket counts as the far side (rare; its error resurfaces below).
        brent_root(|t| gap(t).unwrap_or(-direction), lo.min(hi), lo.max(hi), 1e-14, 200).ok_or(TopError::NoSolution { start: p.start, scale: p.teacher.r })?.0
    };
    let (solution, chain) = entropic::solve(map, &problem(t))?;
    Ok((solution, chain, t))
}

/// Newton on `f` from `z` with a finite-difference Jacobian, each step halved until the
/// worst residual falls; the best point, its residuals and the evaluations used.
fn damped_newton(f: &dyn Fn(&[f64; 5]) -> Option<[f64; 5]>, mut z: [f64; 5]) -> Option<([f64; 5], [f64; 5], u64)> {
    let mut r = f(&z)?;
    let mut count = 1u64;
    for _ in 0..40 {
        if worst(&r) <= 1e-14 {
            break;
        }
        let mut jacobian = faer::Mat::<f64>::zeros(5, 5);
        for j in 0..5 {
            let h = 1e-6 * z[j].abs().max(1.0);
            let mut y = z;
            y[j] += h;
            let ry = f(&y)?;
            count += 1;
            for i in 0..5 {
                jacobian[(i, j)] = (ry[i] - r[i]) / h;
            }
        }
        let rhs = faer::Mat::<f64>::from_fn(5, 1, |i, _| r[i]);
        let step = faer::linalg::solvers::Solve::solve(&jacobian.partial_piv_lu(), &rhs);
        let mut scale = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let trial: [f64; 5] = std::array::from_fn(|i| z[i] - scale * step[(i, 0)]);
            count += 1;
            if let Some(rt) = f(&trial) {
                if worst(&rt) < worst(&r) {
                    (z, r, improved) = (trial, rt, true);
                    break;
                }
            }
            scale *= 0.5;
        }
        if !improved {
            break;
        }
    }
    Some((z, r, count))
}

/// The indicator of `x >= 0` with a linear tilt: `P = (chi + eta c)_+`. The limit of the
/// entropic map at its feasibility boundary (entropic.md §8): with the start `c = 0` tilted to
/// `c_i = -lambda mu_i`, `P = (chi - eta_i lambda mu_i)_+`.
struct Projection;

impl MirrorMap for Projection {
    fn prox(&self, chi: f64, eta: f64, c: f64) -> crate::solver::mirror::Prox {
        use crate::solver::mirror::Prox;
        let z = chi + eta * c;
        if z > 0.0 {
            Prox { x: z, shift: eta * c, slope: 1.0, slack: 0.0, curvature: 0.0, d_eta: c, slope_d_eta: 0.0 }
        } else {
            Prox { x: 0.0, shift: -chi, slope: 0.0, slack: 1.0, curvature: 0.0, d_eta: 0.0, slope_d_eta: 0.0 }
        }
    }
    fn positive_domain(&self) -> bool {
        true
    }
    /// The kink, a break of the chi grid.
    fn bends(&self, eta: f64, c: f64) -> Vec<(f64, f64)> {
        vec![(-eta * c, eta)]
    }
    fn tilted_start(&self, c: f64, t: f64) -> f64 {
        c - t
    }
}

/// `Lambda_m(s) = 2 P(chi > tau) - (E e_+^2 + sigma^2/Q)/s^2` with `tau` the tilt that keeps the
/// mass, `E (chi - tau)_+ = E a` (nonodd.md (N5)); one law of units, `sigma^2/Q` given.
fn lambda_m(teacher: Teacher, s: f64, noise_over_q: f64) -> Option<(f64, f64)> {
    let gap = |tau: f64| moments(&Projection, teacher, -tau, 1.0, s, 1).gap;
    let mut hi = teacher.r + s;
    while gap(hi) > 0.0 {
        hi *= 2.0;
        if hi > 1e6 * (teacher.r + s) {
            return None;
        }
    }
    // E (chi)_+ >= E chi = E a: the root lies in [0, hi].
    let (tau, _) = brent_root(gap, 0.0, hi, 1e-15 * hi, 200)?;
    let m = moments(&Projection, teacher, -tau, 1.0, s, 1);
    Some((2.0 * m.v - (m.d + noise_over_q) / (s * s), tau))
}

/// `sup_s Lambda_m(s)`, its maximizer and tilt: a scan in `log s`, then golden section.
fn sup_lambda_m(teacher: Teacher, noise_over_q: f64) -> Option<(f64, f64, f64)> {
    let scale = teacher.r + noise_over_q.sqrt();
    let at = |log_s: f64| lambda_m(teacher, log_s.exp(), noise_over_q).map_or(f64::NEG_INFINITY, |(l, _)| l);
    let grid: Vec<f64> = (0..=24).map(|k| (scale * 1e-3).ln() + k as f64 * (1e6f64).ln() / 24.0).collect();
    let best = (0..grid.len()).max_by(|&i, &j| at(grid[i]).total_cmp(&at(grid[j])))?;
    let (mut a, mut b) = (grid[best.saturating_sub(1)], grid[(best + 1).min(grid.len() - 1)]);
    let golden = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..45 {
        let (x1, x2) = (b - golden * (b - a), a + golden * (b - a));
        if at(x1) > at(x2) {
            b = x2;
        } else {
            a = x1;
        }
    }
    let s = (0.5 * (a + b)).exp();
    let (value, tau) = lambda_m(teacher, s, noise_over_q)?;
    Some((value, s, tau))
}

/// The feasibility boundary `delta*` of a positive interpolator under the mean spike (nonodd.md
/// §6): with one law of units the largest `delta` with `delta < sup_s Lambda_m(s)` (`Q(delta)` from
/// the chain at each trial `delta`), else that point polished by Newton on (N4a)–(N4e) with the
/// projection in `(delta, u, X, Y, lambda)` (`beta` drops out of the projection; it is set to 1).
/// `by_newton` takes the second route with one law too (the two are compared in tests).
pub fn boundary(p: &MeanTop, by_newton: bool) -> Result<f64, TopError> {
    let averaged = &p.averaged_layers();
    let feasible = |delta: f64| {
        let ratio = Ratio::new(delta);
        squared::solve(averaged, ratio).ok().and_then(|c| {
            let q = delta * c.chain.kappa() / ratio.slack;
            sup_lambda_m(p.teacher, p.noise_var / q).map(|(value, s, tau)| (value, s, tau, c))
        })
    };
    // sup Lambda_m - delta: positive as delta -> 0 (Q stays bounded), negative as delta -> 1 (noise).
    let margin = |delta: f64| feasible(delta).map_or(-1.0, |(value, ..)| value - delta);
    let (uniform, _) = brent_root(margin, 1e-6, 1.0 - 1e-9, 1e-13, 200).ok_or(TopError::NoSolution { start: p.start, scale: p.teacher.r })?;
    if p.layers.iter().all(|l| l.uniform().is_some()) && !by_newton {
        return Ok(uniform);
    }
    // The unit law: Newton from the averaged problem's boundary point (beta = 1, the tilt tau Q).
    let no_boundary = || TopError::UnitLawNoConvergence { evaluations: 0, residuals: vec![f64::INFINITY; 5] };
    let (_, s, tau, chain) = feasible(uniform).ok_or_else(no_boundary)?;
    let log_u = chain.chain.log_shifts[p.layers.len() - 1];
    let d = moments(&Projection, p.teacher, -tau, 1.0, s, 1).d;
    let mut w0 = p.mapped_point(averaged, log_u, d, None, tau).ok_or_else(no_boundary)?;
    w0[0] = (uniform / (1.0 - uniform)).ln();
    let system = |w: &[f64; 5]| {
        let delta = 1.0 / (1.0 + (-w[0]).exp());
        let at = MeanTop { ratio: Ratio::new(delta), start: 0.0, ..*p };
        at.evaluate(&Projection, &[0.0, w[1], w[2], w[3], w[4]], 1).map(|e| e.residuals)
    };
    let (w, residuals, evaluations) = damped_newton(&system, w0).ok_or_else(no_boundary)?;
    if !(worst(&residuals) <= entropic::MAX_RESIDUAL) {
        return Err(TopError::UnitLawNoConvergence { evaluations, residuals: residuals.to_vec() });
    }
    Ok(1.0 / (1.0 + (-w[0]).exp()))
}

/// Solves (N4a)–(N4e) for `map`: the uniform problem with the mass constraint gives the
/// starting point (and, with one unit law, the solution), then damped Newton on the unit law.
/// For the entropic map, a signed teacher has no positive interpolator, and label noise brings
/// the boundary of §6.
pub fn solve(map: &dyn MirrorMap, p: &MeanTop) -> Result<MeanSolution, TopError> {
    if map.positive_domain() && !(p.teacher.mean() > 0.0) {
        return Err(TopError::NoMass);
    }
    let boundary = if map.positive_domain() && p.noise_var > 0.0 { Some(boundary(p, false)?) } else { None };
    if let Some(b) = boundary {
        if p.ratio.delta >= b {
            return Err(TopError::Infeasible { ratio: 1.0 / p.ratio.delta, boundary: 1.0 / b });
        }
    }
    let averaged = p.averaged_layers();
    let (uniform, chain, t) = uniform_with_mass(map, p, &averaged)?;
    let log_u = chain.chain.log_shifts[p.layers.len() - 1];
    let z0 = p.mapped_point(&averaged, log_u, uniform.distance, Some(uniform.eta), t).ok_or(TopError::NoSolution { start: p.start, scale: p.teacher.r })?;
    let mean = p.mean_feature();
    let system = |z: &[f64; 5]| p.evaluate(map, z, 1).map(|e| e.residuals);
    let no_convergence = |r: [f64; 5], evaluations: u64| TopError::UnitLawNoConvergence { evaluations, residuals: r.to_vec() };
    let (z, residuals, iterations) = damped_newton(&system, z0).ok_or(no_convergence([f64::INFINITY; 5], 0))?;
    if !(worst(&residuals) <= entropic::MAX_RESIDUAL) {
        return Err(no_convergence(residuals, iterations));
    }
    let at = p.evaluate(map, &z, 1).expect("evaluated above");
    let risk = |z: &[f64; 5]| p.ratio.delta * (2.0 * z[2]).exp() - p.noise_var;
    let excess_risk = risk(&z);
    // The quadrature error: the solution on a grid with every panel halved, from here.
    let fine_system = |z: &[f64; 5]| p.evaluate(map, z, 2).map(|e| e.residuals);
    let quadrature_error = match damped_newton(&fine_system, z) {
        Some((fine, _, _)) => (risk(&fine) - excess_risk).abs() / excess_risk.abs().max(f64::MIN_POSITIVE),
        None => f64::INFINITY,
    };
    let below = p.below(z[1]).expect("evaluated above");
    Ok(MeanSolution {
        point: z,
        residuals,
        below,
        eta: at.eta,
        s: at.s,
        q: at.q,
        distance: at.distance,
        tilt: z[4] * mean,
        boundary: boundary.map(|b| 1.0 / b),
        excess_risk,
        quadrature_error,
        iterations: iterations + uniform.iterations,
    })
}
