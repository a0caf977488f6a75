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
//! - **The offsets' coupling** (from layer 2 on). The offsets `b = W_L m_{L-1}` come from the
//!   last weights themselves, which adds a rank-one term along the units' `omega_i = rho1(b_i) b_i`
//!   of strength `theta(u)` (nonodd.md (N6)); with a mean part it moves the risk by a few per cent.
//!   Its multiplier `lambda2` tilts each start once more, along `omega_i`.
//!
//! The unknowns are `(log beta, log u, log X, log Y, lambda, lambda2)` and the equations (nonodd.md (N4))
//!
//! - (N4a) `gamma u E[r1 V/Q] = 1`,
//! - (N4b) `E[r2 V/Q] + tau_B/gamma = delta`,
//! - (N4c) `E[D r1] (tau_B + u tau_B') + theta'(u) t2^2 = X^2 tau_B'/gamma + Y^2/u^2`,
//! - (N4d) `E[D Q] + theta t2^2 + sigma^2 = X^2 (delta - tau_B/gamma) + Y^2/u`,
//! - (N4e) `E[mu (P - a)] = 0`,
//! - (N4f) `t2 = E[omega (P - a)] = lambda2 / (beta theta)`,
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
    /// The share of the offsets' coupling to the last weights that is kept: 1 for the model, 0
    /// to compare with offsets drawn independently of the weights (nonodd.md §7), and the steps
    /// between for the solver's continuation.
    pub coupling: f64,
}

/// The number of unknowns of (N4a)–(N4f).
const UNKNOWNS: usize = 6;

/// A solved top problem.
#[derive(Clone, Debug)]
pub struct MeanSolution {
    /// `[log beta, log u, log X, log Y, lambda, lambda2]`.
    pub point: [f64; UNKNOWNS],
    /// Relative residuals of (N4a)–(N4f).
    pub residuals: [f64; UNKNOWNS],
    /// The layers below at `u = u_L` (for `L = 1`, the input alone).
    pub below: Chain,
    /// Unit-averaged prox step, noise level, stiffness `E Q` and distance `E D`.
    pub eta: f64,
    pub s: f64,
    pub q: f64,
    pub distance: f64,
    /// The smallest `d_L/n` with a positive interpolator (entropic map with label noise).
    pub boundary: Option<f64>,
    pub excess_risk: f64,
    /// Relative move of the risk when every quadrature panel is halved.
    pub quadrature_error: f64,
    pub iterations: u64,
}

/// The deepest network whose top system is solved: beyond it the quasi-Newton from the averaged
/// problem's point often fails (deep chains through bottlenecks; nonodd.md §5), so it is refused.
pub const MAX_DEPTH: usize = 6;

/// Units whose weight in the offset law is below this are left out (Gauss–Hermite tails).
const NEGLIGIBLE_WEIGHT: f64 = 1e-14;

/// What one evaluation of the system gives.
struct Evaluation {
    residuals: [f64; UNKNOWNS],
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

    /// The coupling strength `theta(u)` of (N6) at the top, with `theta'(u)` (from the slope of
    /// `q_{L-1}` along the chain below).
    fn coupling(&self, log_u: f64, below: &Chain) -> Option<(f64, f64)> {
        let (depth, top) = (self.layers.len(), self.top());
        if self.coupling == 0.0 || depth == 1 || top.offset_var == 0.0 {
            return Some((0.0, 0.0));
        }
        let u = log_u.exp();
        let (q, dq_dlog_u) = nonodd::mean_resolvent(&self.layers[..depth - 1], below)?;
        let theta = self.coupling * nonodd::coupling_strength(top, q, u);
        let slope = self.coupling * top.aspect / top.offset_var * (-dq_dlog_u / (u * q * q) - 1.0);
        Some((theta, slope))
    }

    /// The residuals of (N4a)–(N4f) at `z`, the moments on a grid refined `refine` times.
    fn evaluate(&self, map: &dyn MirrorMap, z: &[f64; UNKNOWNS], refine: usize) -> Option<Evaluation> {
        let [log_beta, log_u, log_x, log_y, lambda, lambda2] = *z;
        let (beta, u, x, y) = (log_beta.exp(), log_u.exp(), log_x.exp(), log_y.exp());
        let below = self.below(log_u)?;
        let Trace { tau, elasticity } = below.top();
        let (theta, theta_prime) = self.coupling(log_u, &below)?;
        let gamma = self.top().aspect;
        let delta = self.ratio.delta;
        let (mut s1, mut s2, mut dr1, mut dq, mut mass, mut mass_scale) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut t2, mut t2_scale) = (0.0, 0.0);
        let (mut eta_mean, mut s_mean, mut q_mean, mut d_mean) = (0.0, 0.0, 0.0, 0.0);
        for unit in self.top().units.iter().filter(|n| n.weight > NEGLIGIBLE_WEIGHT) {
            let q = unit.r2 + unit.r1 * u * tau;
            if !(q > 0.0) {
                continue; // a dead unit: its feature is constant, and the data never see it
            }
            let eta = 1.0 / (beta * q);
            let s = (x * x * unit.r2 + gamma * unit.r1 * y * y).sqrt() / q;
            let c = map.tilted_start(self.start, lambda * unit.mean + lambda2 * unit.coupling);
            if !(eta > 0.0 && eta.is_finite() && s > 0.0 && s.is_finite() && c.is_finite()) {
                return None; // outside the unknowns' domain: a Newton trial step that overshot
            }
            let m = moments(map, self.teacher, c, eta, s, refine);
            let w = unit.weight;
            s1 += w * unit.r1 * m.v / q;
            s2 += w * unit.r2 * m.v / q;
            dr1 += w * m.d * unit.r1;
            dq += w * m.d * q;
            mass += w * unit.mean * m.gap;
            mass_scale += w * unit.mean.abs() * (m.d.sqrt() + s);
            t2 += w * unit.coupling * m.gap;
            t2_scale += w * unit.coupling.abs() * (m.d.sqrt() + s);
            (eta_mean, s_mean, q_mean, d_mean) = (eta_mean + w * eta, s_mean + w * s, q_mean + w * q, d_mean + w * m.d);
        }
        let tau_prime = elasticity / u;
        let (x2, y2) = (x * x, y * y);
        let e3_terms = [dr1 * (tau + elasticity) + theta_prime * t2 * t2, x2 * tau_prime / gamma, y2 / (u * u)];
        let e4_terms = [dq + theta * t2 * t2 + self.noise_var, x2 * (delta - tau / gamma), y2 / u];
        let relative = |t: [f64; 3]| (t[0] - t[1] - t[2]) / (t[0].abs() + t[1].abs() + t[2].abs()).max(f64::MIN_POSITIVE);
        // (N4f); without a coupling it pins lambda2 at 0.
        let coupling_residual = if theta > 0.0 { (t2 - lambda2 / (beta * theta)) / t2_scale.max(f64::MIN_POSITIVE) } else { lambda2 };
        let residuals = [
            gamma * u * s1 - 1.0,
            (s2 + tau / gamma) / delta - 1.0,
            relative(e3_terms),
            relative(e4_terms),
            mass / mass_scale.max(f64::MIN_POSITIVE),
            coupling_residual,
        ];
        residuals.iter().all(|r| r.is_finite()).then_some(Evaluation { residuals, eta: eta_mean, s: s_mean, q: q_mean, distance: d_mean })
    }

    /// The top layer with its unit law averaged, for the starting point.
    fn averaged_layers(&self) -> Vec<Layer> {
        self.layers.iter().map(MixedLayer::averaged).collect()
    }

    /// The point of (N4a)–(N4f) that a solution of the averaged problem maps to (entropic.md
    /// (4.1)–(4.6), §4's `X` and `Y`): `u = u_L`, `beta = 1/(eta Q)` (1 when `eta` is `None`),
    /// `lambda` from the average unit's tilt, and `lambda2 = 0`.
    fn mapped_point(&self, averaged: &[Layer], log_u: f64, distance: f64, eta: Option<f64>, tilt: f64) -> Option<[f64; UNKNOWNS]> {
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
        Some([log_beta, log_u, 0.5 * x2.ln(), 0.5 * y2.max(1e-300).ln(), tilt / self.mean_feature(), 0.0])
    }

    fn mean_feature(&self) -> f64 {
        self.top().units.iter().map(|n| n.weight * n.mean).sum()
    }
}

/// The largest residual.
fn worst(r: &[f64; UNKNOWNS]) -> f64 {
    r.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The uniform problem (every layer's law averaged) with the mass constraint: the odd top
/// solve (entropic.md §10) from the averaged unit's effective start `c'`, the root of
/// `E(P - a) = 0`, with the tilt `t` that takes the start `c` there (`c' = tilted_start(c, t)`).
/// Exact for `L = 1`, where every unit shares one law; the starting point otherwise.
///
/// The root is sought in `c'` itself, not in `t`: far from the teacher's scale `t` nearly cancels
/// the start (`c' = c - t`), and `c'` computed from `t` would lose those digits.
fn uniform_with_mass(map: &dyn MirrorMap, p: &MeanTop, layers: &[Layer]) -> Result<(entropic::Solution, squared::Solution, f64), TopError> {
    let problem = |start: f64| Problem { layers, ratio: p.ratio, teacher: p.teacher, start, noise_var: p.noise_var };
    let gap = |start: f64| -> Result<f64, TopError> {
        let problem = problem(start);
        let (solution, _) = entropic::solve(map, &problem)?;
        Ok(moments(map, p.teacher, start, solution.eta, solution.s, 1).gap)
    };
    let no_root = || TopError::NoSolution { start: p.start, scale: p.teacher.r };
    // The student's mean grows with its start. On the half line the search runs in log c'.
    let (to_start, from_start): (&dyn Fn(f64) -> f64, &dyn Fn(f64) -> f64) =
        if map.positive_domain() { (&|x: f64| x.exp(), &|c: f64| c.ln()) } else { (&|x: f64| x, &|c: f64| c) };
    // From the teacher's mean (the squared map's root), else the start, by steps on the problem's
    // scale, doubling until the gap changes sign.
    let guess = if map.positive_domain() && !(p.teacher.mean() > 0.0) { p.start } else { p.teacher.mean() };
    let x0 = from_start(guess);
    let step0 = if map.positive_domain() { 0.5 } else { p.teacher.r + p.noise_var.sqrt() + p.start.abs() };
    let g0 = gap(to_start(x0))?;
    let x = if g0 == 0.0 {
        x0
    } else {
        let direction = if g0 > 0.0 { -1.0 } else { 1.0 };
        let (mut near, mut far, mut step) = (x0, x0, step0);
        for doubling in 0.. {
            far = x0 + direction * step;
            if gap(to_start(far))? * g0 <= 0.0 {
                break;
            }
            if doubling == 60 {
                return Err(no_root());
            }
            (near, step) = (far, 2.0 * step);
        }
        // A failed solve inside the bracket counts as the far side (rare; its error resurfaces below).
        let tolerance = 1e-15 * near.abs().max(far.abs()).max(f64::MIN_POSITIVE);
        brent_root(|x| gap(to_start(x)).unwrap_or(-g0), near.min(far), near.max(far), tolerance, 200).ok_or_else(no_root)?.0
    };
    let effective = to_start(x);
    let (solution, chain) = entropic::solve(map, &problem(effective))?;
    Ok((solution, chain, map.tilt(p.start, effective)))
}

/// What [`damped_newton`] ends with: the point, its residuals, the evaluations used and the
/// Jacobian there (for the quadrature error's Newton step).
struct Newton {
    point: [f64; UNKNOWNS],
    residuals: [f64; UNKNOWNS],
    evaluations: u64,
    jacobian: faer::Mat<f64>,
}

impl Newton {
    /// `-J^{-1} r`.
    fn step(&self, r: &[f64; UNKNOWNS]) -> [f64; UNKNOWNS] {
        let rhs = faer::Mat::<f64>::from_fn(UNKNOWNS, 1, |i, _| r[i]);
        let step = faer::linalg::solvers::Solve::solve(&self.jacobian.partial_piv_lu(), &rhs);
        std::array::from_fn(|i| -step[(i, 0)])
    }
}

/// Quasi-Newton on `f` from `z`: a finite-difference Jacobian, then Broyden's rank-one updates
/// (each evaluation costs a quadrature per unit, so they are worth saving); each step halved
/// until the worst residual falls, and the Jacobian recomputed once when no halving helps.
/// `tilt_unit` is the tilts' natural size (the last two unknowns; the others are logarithms):
/// the differences step by a millionth of it, or of the unknown where that is larger.
fn damped_newton(f: &dyn Fn(&[f64; UNKNOWNS]) -> Option<[f64; UNKNOWNS]>, z: [f64; UNKNOWNS], tilt_unit: f64) -> Option<Newton> {
    let mut count = 0u64;
    let mut eval = |z: &[f64; UNKNOWNS]| {
        count += 1;
        f(z)
    };
    let r = eval(&z)?;
    let jacobian = |z: &[f64; UNKNOWNS], r: &[f64; UNKNOWNS], eval: &mut dyn FnMut(&[f64; UNKNOWNS]) -> Option<[f64; UNKNOWNS]>| -> Option<faer::Mat<f64>> {
        let mut j = faer::Mat::<f64>::zeros(UNKNOWNS, UNKNOWNS);
        for col in 0..UNKNOWNS {
            let h = 1e-6 * z[col].abs().max(if col >= 4 { tilt_unit } else { 1.0 });
            let mut y = *z;
            y[col] += h;
            let ry = eval(&y)?;
            for row in 0..UNKNOWNS {
                j[(row, col)] = (ry[row] - r[row]) / h;
            }
        }
        Some(j)
    };
    let first = jacobian(&z, &r, &mut eval)?;
    let mut state = Newton { point: z, residuals: r, evaluations: 0, jacobian: first };
    let mut fresh = true;
    for _ in 0..60 {
        if worst(&state.residuals) <= 1e-14 {
            break;
        }
        let step = state.step(&state.residuals);
        let mut scale = 1.0;
        let mut accepted = None;
        for _ in 0..12 {
            let trial: [f64; UNKNOWNS] = std::array::from_fn(|i| state.point[i] + scale * step[i]);
            if let Some(rt) = eval(&trial) {
                if worst(&rt) < worst(&state.residuals) {
                    accepted = Some((trial, rt));
                    break;
                }
            }
            scale *= 0.5;
        }
        match accepted {
            Some((trial, rt)) => {
                // Broyden: J += (dr - J dz) dz^T / |dz|^2.
                let dz: [f64; UNKNOWNS] = std::array::from_fn(|i| trial[i] - state.point[i]);
                let norm2: f64 = dz.iter().map(|x| x * x).sum();
                for row in 0..UNKNOWNS {
                    let predicted: f64 = (0..UNKNOWNS).map(|col| state.jacobian[(row, col)] * dz[col]).sum();
                    let miss = rt[row] - state.residuals[row] - predicted;
                    for col in 0..UNKNOWNS {
                        state.jacobian[(row, col)] += miss * dz[col] / norm2;
                    }
                }
                (state.point, state.residuals, fresh) = (trial, rt, false);
            }
            None if !fresh => {
                state.jacobian = jacobian(&state.point, &state.residuals, &mut eval)?;
                fresh = true;
            }
            None => break,
        }
    }
    state.evaluations = count;
    Some(state)
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
    fn tilt(&self, c: f64, c_prime: f64) -> f64 {
        c - c_prime
    }
}

/// `Lambda_m(s) = 2 P(chi > tau) - (E e_+^2 + sigma^2/Q)/s^2` with `tau` the tilt that keeps the
/// mass, `E (chi - tau)_+ = E a` (nonodd.md (N5)); one law of units, `sigma^2/Q` given.
fn lambda_m(teacher: Teacher, s: f64, noise_over_q: f64) -> Option<(f64, f64)> {
    // E (chi - tau)_+ falls in tau with slope -P(chi > tau) = -V: safeguarded Newton from tau = 0,
    // where E (chi)_+ >= E chi = E a.
    let (mut lo, mut hi, mut tau) = (0.0, f64::INFINITY, 0.0);
    for _ in 0..100 {
        let m = moments(&Projection, teacher, -tau, 1.0, s, 1);
        if m.gap > 0.0 { lo = tau } else { hi = tau }
        let next = tau + m.gap / m.v.max(f64::MIN_POSITIVE);
        let next = if next > lo && next < hi { next } else if hi.is_finite() { 0.5 * (lo + hi) } else { 2.0 * tau + teacher.r + s };
        if (next - tau).abs() <= 1e-15 * (teacher.r + s) {
            tau = next;
            break;
        }
        tau = next;
    }
    let m = moments(&Projection, teacher, -tau, 1.0, s, 1);
    Some((2.0 * m.v - (m.d + noise_over_q) / (s * s), tau))
}

/// `sup_s Lambda_m(s)`, its maximizer and tilt: a scan in `log s`, then golden section.
fn sup_lambda_m(teacher: Teacher, noise_over_q: f64) -> Option<(f64, f64, f64)> {
    let scale = teacher.r + noise_over_q.sqrt();
    let at = |log_s: f64| lambda_m(teacher, log_s.exp(), noise_over_q).map_or(f64::NEG_INFINITY, |(l, _)| l);
    let grid: Vec<f64> = (0..=18).map(|k| (scale * 1e-3).ln() + k as f64 * (1e6f64).ln() / 18.0).collect();
    let best = (0..grid.len()).max_by(|&i, &j| at(grid[i]).total_cmp(&at(grid[j])))?;
    let (mut a, mut b) = (grid[best.saturating_sub(1)], grid[(best + 1).min(grid.len() - 1)]);
    let golden = 0.5 * (5f64.sqrt() - 1.0);
    let (mut x1, mut x2) = (b - golden * (b - a), a + golden * (b - a));
    let (mut f1, mut f2) = (at(x1), at(x2));
    for _ in 0..32 {
        if f1 > f2 {
            (b, x2, f2) = (x2, x1, f1);
            x1 = b - golden * (b - a);
            f1 = at(x1);
        } else {
            (a, x1, f1) = (x1, x2, f2);
            x2 = a + golden * (b - a);
            f2 = at(x2);
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
    const SMALLEST: f64 = 1e-6;
    if !(margin(SMALLEST) > 0.0) {
        return Ok(SMALLEST); // noise far above the teacher's scale: no positive interpolator at any n/d_L we resolve
    }
    let (uniform, _) = brent_root(margin, SMALLEST, 1.0 - 1e-9, 1e-13, 200).ok_or(TopError::NoSolution { start: p.start, scale: p.teacher.r })?;
    if p.layers.iter().all(|l| l.uniform().is_some()) && !by_newton {
        return Ok(uniform);
    }
    // The unit law: Newton from the averaged problem's boundary point (beta = 1, the tilt tau Q).
    let no_boundary = || TopError::UnitLawNoConvergence { evaluations: 0, residuals: vec![f64::INFINITY; UNKNOWNS] };
    let (_, s, tau, chain) = feasible(uniform).ok_or_else(no_boundary)?;
    let log_u = chain.chain.log_shifts[p.layers.len() - 1];
    let d = moments(&Projection, p.teacher, -tau, 1.0, s, 1).d;
    let mut w0 = p.mapped_point(averaged, log_u, d, None, tau).ok_or_else(no_boundary)?;
    w0[0] = (uniform / (1.0 - uniform)).ln();
    let system = |w: &[f64; UNKNOWNS]| {
        let delta = 1.0 / (1.0 + (-w[0]).exp());
        let at = MeanTop { ratio: Ratio::new(delta), start: 0.0, ..*p };
        at.evaluate(&Projection, &[0.0, w[1], w[2], w[3], w[4], w[5]], 1).map(|e| e.residuals)
    };
    let newton = damped_newton(&system, w0, p.teacher.r + p.noise_var.sqrt()).ok_or_else(no_boundary)?;
    if !(worst(&newton.residuals) <= entropic::MAX_RESIDUAL) {
        return Err(TopError::UnitLawNoConvergence { evaluations: newton.evaluations, residuals: newton.residuals.to_vec() });
    }
    Ok(1.0 / (1.0 + (-newton.point[0]).exp()))
}

/// Quasi-Newton on (N4a)–(N4f) from `z0`; where that fails, a continuation in the share of the
/// offsets' coupling (0, 1/4, ..., 1), each stage from the last one's root: far from its root the
/// coupling's tilt `lambda2 = 0` of the averaged point can lead the first steps astray.
fn newton_with_continuation(map: &dyn MirrorMap, p: &MeanTop, z0: [f64; UNKNOWNS]) -> Option<Newton> {
    // The tilt that doubles a start on the scale of the teacher, the noise and the start (a fixed
    // number for the entropic map, whose tilt is logarithmic).
    let scale = p.teacher.r + p.noise_var.sqrt() + p.start.abs();
    let tilt_unit = Some(map.tilt(2.0 * scale, scale).abs()).filter(|t| t.is_finite() && *t > 0.0).unwrap_or(1.0);
    let at = |share: f64, z: [f64; UNKNOWNS]| {
        let q = MeanTop { coupling: share * p.coupling, ..*p };
        damped_newton(&|z: &[f64; UNKNOWNS]| q.evaluate(map, z, 1).map(|e| e.residuals), z, tilt_unit)
    };
    let converged = |n: &Newton| worst(&n.residuals) <= entropic::MAX_RESIDUAL;
    let direct = at(1.0, z0)?;
    if converged(&direct) || p.coupling == 0.0 {
        return Some(direct);
    }
    let mut evaluations = direct.evaluations;
    let mut last = None;
    for share in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let stage = at(share, last.as_ref().map_or(z0, |n: &Newton| n.point))?;
        evaluations += stage.evaluations;
        if !converged(&stage) {
            // A failed stage solved another problem: report the direct attempt at this one.
            return Some(Newton { evaluations, ..direct });
        }
        last = Some(stage);
    }
    last.map(|stage| Newton { evaluations, ..stage })
}

/// The root of (N4a)–(N4f), from the averaged problem's point. Near the entropic map's boundary
/// the averaged problem can lack a positive interpolator where the unit law has one; then the
/// root at half the noise variance is the starting point (at most `MAX_HALVINGS` times).
///
/// Where the start is far above the labels' scale (no teacher and no noise at the extreme), the
/// averaged root is near the zero problem: its start is moved to `c' ~ E a ~ 0`, nothing is left
/// to fit, and it maps to a point far from the unit law's root (the units' starts differ, so that
/// risk is not zero). The averaged problem at the start itself, untilted, is then the second
/// starting point (the only one for zero labels, where the first maps to no point).
fn unit_law_root(map: &dyn MirrorMap, p: &MeanTop, halvings: usize) -> Result<Newton, TopError> {
    const MAX_HALVINGS: usize = 6;
    let averaged = p.averaged_layers();
    let mapped = |(uniform, chain, t): (entropic::Solution, squared::Solution, f64)| {
        let log_u = chain.chain.log_shifts[p.layers.len() - 1];
        let z0 = p.mapped_point(&averaged, log_u, uniform.distance, Some(uniform.eta), t).ok_or(TopError::NoSolution { start: p.start, scale: p.teacher.r })?;
        Ok::<_, TopError>((z0, uniform.iterations))
    };
    let untilted = || {
        let problem = Problem { layers: &averaged, ratio: p.ratio, teacher: p.teacher, start: p.start, noise_var: p.noise_var };
        entropic::solve(map, &problem).and_then(|(solution, chain)| mapped((solution, chain, 0.0)))
    };
    let zero_labels = p.teacher.r == 0.0 && p.noise_var == 0.0;
    let first = if zero_labels {
        untilted()
    } else {
        match uniform_with_mass(map, p, &averaged) {
            Ok(root) => mapped(root),
            Err(e) if p.noise_var > 0.0 && halvings < MAX_HALVINGS && map.positive_domain() => {
                unit_law_root(map, &MeanTop { noise_var: 0.5 * p.noise_var, ..*p }, halvings + 1).map(|quieter| (quieter.point, quieter.evaluations)).map_err(|_| e)
            }
            Err(e) => Err(e),
        }
    };
    let (z0, mut evaluations) = first?;
    let converged = |n: &Newton| worst(&n.residuals) <= entropic::MAX_RESIDUAL;
    let mut newton = newton_with_continuation(map, p, z0);
    if !newton.as_ref().is_some_and(converged) && !zero_labels && !map.positive_domain() {
        if let Ok((z1, more)) = untilted() {
            // Whichever attempt is reported, the other's evaluations count too.
            evaluations += more;
            match newton_with_continuation(map, p, z1) {
                Some(second) if converged(&second) => {
                    evaluations += newton.as_ref().map_or(0, |n| n.evaluations);
                    newton = Some(second);
                }
                second => evaluations += second.map_or(0, |n| n.evaluations),
            }
        }
    }
    let mut newton = newton.ok_or(TopError::UnitLawNoConvergence { evaluations, residuals: vec![f64::INFINITY; UNKNOWNS] })?;
    newton.evaluations += evaluations;
    if !converged(&newton) {
        return Err(TopError::UnitLawNoConvergence { evaluations: newton.evaluations, residuals: newton.residuals.to_vec() });
    }
    Ok(newton)
}

/// Solves (N4a)–(N4f) for `map`: the uniform problem with the mass constraint gives the
/// starting point (and, with one unit law, the solution), then damped Newton on the unit law.
/// For the entropic map, a signed teacher has no positive interpolator, and label noise brings
/// the boundary of §6.
pub fn solve(map: &dyn MirrorMap, p: &MeanTop) -> Result<MeanSolution, TopError> {
    // Every unit's feature has a positive mean (one law at L = 1, whatever the activation): a
    // positive student must then carry the teacher's mass, which a signed teacher lacks.
    if map.positive_domain() && !(p.teacher.mean() > 0.0) && p.top().units.iter().all(|u| u.mean > 0.0) {
        return Err(TopError::NoMass);
    }
    let boundary = if map.positive_domain() && p.noise_var > 0.0 { Some(boundary(p, false)?) } else { None };
    if let Some(b) = boundary {
        if p.ratio.delta >= b {
            return Err(TopError::Infeasible { ratio: 1.0 / p.ratio.delta, boundary: 1.0 / b });
        }
    }
    let newton = unit_law_root(map, p, 0)?;
    let (z, residuals, iterations) = (newton.point, newton.residuals, newton.evaluations);
    let at = p.evaluate(map, &z, 1).expect("evaluated above");
    let excess_risk = p.ratio.delta * (2.0 * z[2]).exp() - p.noise_var;
    // The quadrature error: the residuals on a grid with every panel halved, carried by one
    // Newton step to where that grid's solution lies (the risk moves by 2 delta X^2 d log X).
    let quadrature_error = match p.evaluate(map, &z, 2) {
        Some(fine) => (2.0 * p.ratio.delta * (2.0 * z[2]).exp() * newton.step(&fine.residuals)[2]).abs() / excess_risk.abs().max(f64::MIN_POSITIVE),
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
        boundary: boundary.map(|b| 1.0 / b),
        excess_risk,
        quadrature_error,
        iterations,
    })
}
