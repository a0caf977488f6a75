//! The squared mirror map (SGD): the L+1 scalar equations of
//! [equations/squared.md §4](../../equations/squared.md#4-the-final-system) and their solution.
//!
//! Unknowns: one shift `u_l > 0` per layer and `kappa = u_{L+1}`. Given `u_1`, each
//! layer equation yields the next shift explicitly ([`layer_equation`]), so the
//! whole system reduces to one monotone scalar equation in `log u_1`, the sample
//! equation, solved by a bracketed Brent root (§5). No fixed-point iteration.

use argmin::core::{CostFunction, Executor};
use argmin::solver::brent::BrentRoot;

/// Relative residual above which a returned point is refused.
pub const MAX_RESIDUAL: f64 = 1e-10;

/// One hidden layer as the system sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer {
    pub rho1: f64,
    pub rho2: f64,
    /// `gamma_l = d_l / d_{l-1}`.
    pub aspect: f64,
}

/// `tau(s) = lim (1/d) tr Sigma (Sigma + s I)^{-1}` (the fraction of directions that
/// a shift `s` leaves "resolved") and its elasticity `s tau'(s) <= 0`, at one shift.
/// `tau = 1 - s m(s)` with `m` the normalised resolvent trace of squared.md §3;
/// carrying `tau` instead of `m` avoids the cancellation in `1 - s m` at large shifts,
/// and the elasticity instead of `tau'` keeps every number of order one when the
/// shifts themselves leave the floating-point range (deep sign networks reach
/// `u_1 ~ e^{0.45 L}`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trace {
    pub tau: f64,
    /// `s tau'(s)`.
    pub elasticity: f64,
}

impl Trace {
    /// Layer 0 with inputs `x ~ N(0, I)`: `tau_0(u) = 1/(1+u)` and `u tau_0' = -tau_0 (1 - tau_0)`.
    pub fn input(log_u: f64) -> Self {
        let tau = logistic(-log_u);
        Trace { tau, elasticity: -tau * logistic(log_u) }
    }
}

/// The input layer: the spectrum of `Sigma_0` (`data.spectrum`, equations/teacher.md §1).
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// `Sigma_0 = I`.
    Isotropic,
    /// The distinct eigenvalues of a diagonal `Sigma_0` (mean 1), each with the fraction of
    /// the spectrum it holds.
    Spectrum { eigenvalues: Vec<(f64, f64)> },
}

impl Input {
    /// From distinct eigenvalues and the fraction of the spectrum each holds.
    pub fn of_levels(levels: Vec<(f64, f64)>) -> Self {
        if levels.iter().all(|&(l, _)| l == 1.0) {
            return Input::Isotropic;
        }
        Input::Spectrum { eigenvalues: levels }
    }

    /// A spectrum listed eigenvalue by eigenvalue, as given, even when it is the identity's
    /// (no isotropic shortcut).
    pub fn spectrum(eigenvalues: &[f64]) -> Self {
        let mut sorted = eigenvalues.to_vec();
        sorted.sort_by(f64::total_cmp);
        let share = 1.0 / sorted.len() as f64;
        let mut grouped: Vec<(f64, f64)> = Vec::new();
        for l in sorted {
            match grouped.last_mut() {
                Some((value, weight)) if *value == l => *weight += share,
                _ => grouped.push((l, share)),
            }
        }
        Input::Spectrum { eigenvalues: grouped }
    }

    /// `tau_0(u) = mean_i lambda_i/(lambda_i + u)` and its elasticity
    /// `u tau_0'(u) = -mean_i tau_i (1 - tau_i)`.
    pub fn trace(&self, log_u: f64) -> Trace {
        let Input::Spectrum { eigenvalues } = self else { return Trace::input(log_u) };
        let u = log_u.exp();
        let (mut tau, mut elasticity) = (0.0, 0.0);
        for &(l, weight) in eigenvalues {
            // One division per eigenvalue; past the floating-point range of u (deep sign
            // networks), the same terms as logistics of log lambda - log u.
            let t = if u.is_finite() && u > 0.0 { l / (l + u) } else { logistic(l.ln() - log_u) };
            tau += weight * t;
            elasticity -= weight * t * (1.0 - t);
        }
        Trace { tau, elasticity }
    }
}

/// `1/(1 + e^{-x})` without overflow.
fn logistic(x: f64) -> f64 {
    if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { let e = x.exp(); e / (1.0 + e) }
}

/// Equation `E_l` (squared.md (4.1) in the form (5.2)) in logarithms of the shifts:
/// given `log u_l` and layer `l-1`'s trace at `u_l`, returns `log u_{l+1}` with
/// `u_{l+1} = u_l (rho1^2 (gamma - tau_{l-1}(u_l)) - rho2^2/u_l)` and layer `l`'s trace
/// there, `tau_l = (tau_{l-1}(u_l) + rho2^2/(rho1^2 u_l)) / gamma`, with its elasticity by
/// the chain rule. `growth = u_{l+1}/u_l` may be given instead of computed from this
/// difference: `along` takes it from polished shifts. Also returns the layer's gain
/// `d log u_{l+1} / d log u_l >= 1`. `None` below the physical branch (`u_{l+1} <= 0`).
pub fn layer_equation(layer: &Layer, log_u: f64, below: Trace, growth: Option<f64>) -> Option<(f64, Trace, f64)> {
    let (r1, r2) = (layer.rho1 * layer.rho1, layer.rho2 * layer.rho2);
    let gap = layer.aspect - below.tau;
    let noise = if r2 == 0.0 { 0.0 } else { r2 * (-log_u).exp() }; // rho2^2 / u_l, 0 when u_l is astronomically large
    let growth = growth.unwrap_or(r1 * gap - noise);
    let slope = r1 * (gap - below.elasticity); // d u_{l+1} / d u_l
    if !(growth > 0.0 && slope > 0.0 && growth.is_finite()) {
        return None;
    }
    let next = log_u + growth.ln();
    let tau = (below.tau + noise / r1) / layer.aspect;
    // u_{l+1} dtau_l/du_{l+1} = (u_{l+1}/u_l) (u_l dtau_l/du_l) / (du_{l+1}/du_l).
    let elasticity = growth * ((below.elasticity - noise / r1) / layer.aspect) / slope;
    next.is_finite().then_some((next, Trace { tau, elasticity }, slope / growth))
}

/// The shifts `u_1, ..., u_L, kappa` (as logarithms), each layer's trace at the shift
/// above it (`traces[l]` is layer `l`'s at `u_{l+1}`, layer 0 the input; `traces[L]` is
/// `(tau_L, kappa tau_L')` at `kappa`), and each layer's gain `d log u_{l+1} / d log u_l`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub log_shifts: Vec<f64>,
    pub traces: Vec<Trace>,
    pub gains: Vec<f64>,
}

impl Chain {
    /// Layer `L`'s trace at `kappa`.
    pub fn top(&self) -> Trace {
        *self.traces.last().expect("a chain holds the input's trace at least")
    }

    pub fn kappa(&self) -> f64 {
        self.log_shifts.last().expect("a chain holds u_1 at least").exp()
    }

    /// `kappa A = -kappa tau_L'(kappa) = (1/p) tr kappa Sigma (Sigma+kappa)^{-2}`.
    pub fn kappa_a(&self) -> f64 {
        -self.top().elasticity
    }

    /// What a teacher at layer `k` leaves unexplained at the effective ridge `kappa`, per unit
    /// `r^2` (equations/teacher.md (T3)): with `C` the cross-covariance of layers `L` and `k`,
    /// `(1/d_k)[tr Sigma_k - tr C^T (Sigma_L + kappa)^{-1} C - kappa tr C^T (Sigma_L + kappa)^{-2} C]
    /// = u tau_k(u) (1 - D) - u (u tau_k'(u)) D` at `u = u_{k+1}`, `D = d log u_{k+1} / d log kappa`.
    /// At `k = L` it is `kappa (kappa A)`, computed so, without the cancellation in `1 - D = 0`.
    pub fn unexplained(&self, k: usize) -> f64 {
        let depth = self.gains.len();
        assert!(k <= depth, "teacher depth {k} above the top layer {depth}");
        if k == depth {
            return self.kappa() * self.kappa_a();
        }
        let u = self.log_shifts[k].exp();
        let trace = self.traces[k];
        // D = prod_{l > k} 1/gain_l <= 1, and 1 - D without cancellation.
        let log_d: f64 = -self.gains[k..].iter().map(|g| g.ln()).sum::<f64>();
        u * (trace.tau * -log_d.exp_m1() - trace.elasticity * log_d.exp())
    }
}

/// Runs the layer equations upwards from `log u_1` (squared.md §5).
pub fn bottom_up(input: &Input, layers: &[Layer], log_u1: f64) -> Option<Chain> {
    let mut log_shifts = Vec::with_capacity(layers.len() + 1);
    log_shifts.push(log_u1);
    let mut traces = vec![input.trace(log_u1)];
    let mut gains = Vec::with_capacity(layers.len());
    for layer in layers {
        let (next, t, gain) = layer_equation(layer, *log_shifts.last().unwrap(), *traces.last().unwrap(), None)?;
        log_shifts.push(next);
        traces.push(t);
        gains.push(gain);
    }
    Some(Chain { log_shifts, traces, gains })
}

/// The traces carried along given shifts (each growth `u_{l+1}/u_l` taken from them).
fn along(input: &Input, layers: &[Layer], log_shifts: Vec<f64>) -> Option<Chain> {
    let mut traces = vec![input.trace(log_shifts[0])];
    let mut gains = Vec::with_capacity(layers.len());
    for (layer, pair) in layers.iter().zip(log_shifts.windows(2)) {
        let (_, t, gain) = layer_equation(layer, pair[0], *traces.last().unwrap(), Some((pair[1] - pair[0]).exp()))?;
        traces.push(t);
        gains.push(gain);
    }
    Some(Chain { log_shifts, traces, gains })
}

/// The chain whose top shift is `kappa` (no sample equation: `kappa` is given), by a
/// bracketed root in `log u_1` of `log u_{L+1} - log kappa`, which increases with `u_1`.
/// Used at `kappa -> 0` (least squares, and the approximation error of a teacher below the top).
pub fn chain_at(input: &Input, layers: &[Layer], log_kappa: f64) -> Option<Chain> {
    let gap = |x: f64| bottom_up(input, layers, x).map_or(f64::NEG_INFINITY, |c| c.log_shifts[layers.len()] - log_kappa);
    let (mut hi, mut width) = (0.0, 2.0);
    while gap(hi) < 0.0 {
        hi += width;
        width *= 2.0;
        if hi > BRACKET_LIMIT {
            return None;
        }
    }
    let (mut lo, mut width) = (hi - 2.0, 2.0);
    while gap(lo) >= 0.0 {
        lo -= width;
        width *= 2.0;
        if lo < -BRACKET_LIMIT {
            return None;
        }
    }
    // Below the physical branch the gap is -infinity: Brent needs finite values.
    let (x, _) = brent_root(|x| gap(x).max(-1e3), lo, hi, 1e-15, 300)?;
    bottom_up(input, layers, x)
}

/// Equation `E_0`: `tau_L(kappa) - n/d_L` (= `1 - kappa m_L(kappa) - n/d_L`), zero at the solution.
pub fn sample_equation(chain: &Chain, ratio: Ratio) -> f64 {
    sample_equation_with_ridge(chain, ratio, 0.0)
}

/// `E_0` with a ridge `lambda` (squared.md §6a, (6a.2); `training.ridge`):
/// `tau_L(kappa) - (n/d_L)(1 - lambda/kappa)`, the effective-regularization equation
/// `kappa - lambda = (kappa/n) tr Sigma_L (Sigma_L + kappa)^{-1}` in the chain's terms.
/// It falls from +infinity to -n/d_L as `u_1` grows, on either side of n = d_L.
pub fn sample_equation_with_ridge(chain: &Chain, ratio: Ratio, ridge: f64) -> f64 {
    let ridge_term = if ridge == 0.0 { 0.0 } else { ratio.delta * ridge / chain.kappa() };
    chain.top().tau - ratio.delta + ridge_term
}

/// `kappa m_L(kappa)` at the solution: `1 - n/d_L` (exact from the counts), plus
/// `(n/d_L) lambda/kappa` with a ridge.
fn unresolved_target(ratio: Ratio, ridge: f64, log_kappa: f64) -> f64 {
    if ridge == 0.0 { ratio.slack } else { ratio.slack + ratio.delta * ridge * (-log_kappa).exp() }
}

/// `log(e^a + e^b)`.
fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY { hi } else { hi + (lo - hi).exp().ln_1p() }
}

/// `log(u_{l+1} m_l(u_{l+1}))` at the shifts `w = log [u_1..u_L, kappa]`, with
/// `m_l(u_{l+1}) = 1/(rho1^2 gamma_l u_l)` (squared.md (4.2)): layer `l`'s unresolved fraction `1 - tau_l`.
fn log_um(layers: &[Layer], w: &[f64], l: usize) -> f64 {
    w[l + 1] - w[l] - (layers[l].rho1.powi(2) * layers[l].aspect).ln()
}

/// Relative residuals of `E_0, E_1, ..., E_L` at `log_shifts = log [u_1..u_L, kappa]`,
/// evaluated from the equations as stated in squared.md §4 (not from the chain), each
/// relative to the size of its largest term, so that rounding alone gives ~1e-16
/// whatever the scale of the shifts.
pub fn residuals(layers: &[Layer], ratio: Ratio, log_shifts: &[f64]) -> Vec<f64> {
    residuals_with(&Input::Isotropic, layers, ratio, 0.0, log_shifts)
}

/// [`residuals`] for any input spectrum and with a ridge in `E_0` (see [`sample_equation_with_ridge`]).
pub fn residuals_with(input: &Input, layers: &[Layer], ratio: Ratio, ridge: f64, log_shifts: &[f64]) -> Vec<f64> {
    let depth = layers.len();
    assert_eq!(log_shifts.len(), depth + 1, "one shift per layer plus kappa");
    // E_0 as kappa m_L(kappa) = 1 - n/d_L = (d_L - n)/d_L, exact from the counts, so the
    // equation's scale is the complement itself (plus the ridge's term, when there is one).
    let um = log_um(layers, log_shifts, depth - 1).exp();
    let target = unresolved_target(ratio, ridge, log_shifts[depth]);
    // With a ridge the target is `1 - n/d_L + (n/d_L) lambda/kappa`, whose two terms nearly
    // cancel for n > d_L and a small ridge: its scale is the larger term, not the sum.
    let scale = if ridge == 0.0 { target.max(um) } else { ratio.slack.abs().max(target - ratio.slack).max(um) };
    let mut out = vec![(target - um) / scale];
    for l in 0..depth {
        let (layer, log_u) = (&layers[l], log_shifts[l]);
        // (4.1) as rho2^2/rho1^2 + u_{l+1}/rho1^2 = u_l (gamma - tau_{l-1}(u_l)), tau = 1 - u m,
        // exact for the input layer (tau_0 from its spectrum).
        let tau_below = if l == 0 { input.trace(log_u).tau } else { 1.0 - log_um(layers, log_shifts, l - 1).exp() };
        let r1 = layer.rho1.powi(2);
        let lhs = log_add((layer.rho2.powi(2) / r1).ln(), log_shifts[l + 1] - r1.ln());
        let rhs = log_u + (layer.aspect - tau_below).ln();
        // The terms of (4.1) as stated are rho2^2/rho1^2, u_{l+1}/rho1^2, gamma u_l, u_l and
        // u_l^2 m_{l-1} <= u_l: the residual is relative to the largest.
        let scale = lhs.max(log_u + layer.aspect.max(1.0).ln());
        out.push(if rhs.is_nan() { 1.0 } else { (lhs - scale).exp() - (rhs - scale).exp() });
    }
    out
}

/// Newton on the whole system `E_1..E_L, E_0` in `w = log [u_1..u_L, kappa]`, from the
/// shooting point (squared.md §5, "Polish"). Shooting fixes every shift through
/// `u_1`, and where `u_{l+1} = rho1^2 u_l (gamma - tau) - rho2^2` cancels, one ulp of
/// `log u_1` moves `kappa` by far more than one ulp; with each shift its own unknown the
/// equations are well conditioned. The Jacobian is tridiagonal (`E_l` involves
/// `u_{l-1}, u_l, u_{l+1}`), so a step costs O(L). Returns the best point seen.
fn polish(input: &Input, layers: &[Layer], ratio: Ratio, ridge: f64, mut w: Vec<f64>) -> Vec<f64> {
    let depth = layers.len();
    let worst = |w: &[f64]| residuals_with(input, layers, ratio, ridge, w).iter().fold(0.0f64, |m, r| m.max(r.abs()));
    let mut best = worst(&w);
    for _ in 0..8 {
        if best <= 4.0 * f64::EPSILON {
            break;
        }
        // Rows 0..L-1: g_l = log(rho2^2 + u_{l+1}) - log rho1^2 - w_l - log(gamma_l - tau_{l-1}(u_l));
        // row L: g = log(1 - n/d_L) - log(kappa m_L(kappa)).
        let (mut sub, mut diag, mut sup, mut g) = (vec![0.0; depth + 1], vec![0.0; depth + 1], vec![0.0; depth + 1], vec![0.0; depth + 1]);
        for l in 0..depth {
            let layer = &layers[l];
            let (r1, r2) = (layer.rho1 * layer.rho1, layer.rho2 * layer.rho2);
            let (tau, dtau_dw, dtau_dw_below) = if l == 0 {
                let trace = input.trace(w[0]);
                (trace.tau, trace.elasticity, 0.0)
            } else {
                let ratio_below = log_um(layers, &w, l - 1).exp();
                (1.0 - ratio_below, -ratio_below, ratio_below)
            };
            let gap = layer.aspect - tau;
            g[l] = log_add(r2.ln(), w[l + 1]) - r1.ln() - w[l] - gap.ln();
            // u_{l+1}/(rho2^2 + u_{l+1}), without forming u_{l+1} (beyond f64 in deep sign networks).
            sup[l] = 1.0 / (1.0 + r2 * (-w[l + 1]).exp());
            diag[l] = -1.0 + dtau_dw / gap;
            sub[l] = dtau_dw_below / gap;
        }
        let target = unresolved_target(ratio, ridge, w[depth]);
        g[depth] = target.ln() - log_um(layers, &w, depth - 1);
        // d/dw_L of log(target): the ridge's term falls like 1/kappa.
        let ridge_share = if ridge == 0.0 { 0.0 } else { (target - ratio.slack) / target };
        (sub[depth], diag[depth]) = (1.0, -1.0 - ridge_share);
        let Some(step) = tridiagonal_solve(&sub, &diag, &sup, &g) else { break };
        let trial: Vec<f64> = w.iter().zip(&step).map(|(wi, si)| wi - si).collect();
        let residual = worst(&trial);
        if !(residual < best) {
            break;
        }
        (w, best) = (trial, residual);
    }
    w
}

/// Solves `T x = g` for the tridiagonal `T` with `sub[i] = T[i][i-1]`, `diag[i] = T[i][i]`,
/// `sup[i] = T[i][i+1]` (Thomas; the system of [`polish`] is diagonally dominant).
fn tridiagonal_solve(sub: &[f64], diag: &[f64], sup: &[f64], g: &[f64]) -> Option<Vec<f64>> {
    let n = diag.len();
    let (mut c, mut x) = (vec![0.0; n], vec![0.0; n]);
    let mut pivot = diag[0];
    c[0] = sup[0] / pivot;
    x[0] = g[0] / pivot;
    for i in 1..n {
        pivot = diag[i] - sub[i] * c[i - 1];
        if !(pivot.abs() > 0.0) {
            return None;
        }
        c[i] = sup[i] / pivot;
        x[i] = (g[i] - sub[i] * x[i - 1]) / pivot;
    }
    for i in (0..n - 1).rev() {
        x[i] -= c[i] * x[i + 1];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// `n/d_L` and its complement `1 - n/d_L`, the latter from the counts: near `n/d_L = 1`,
/// `1 - fl(n/d_L)` carries a relative error of `eps/(1 - n/d_L)` (1e-11 at 0.99999), and
/// both the sample equation and the entropic map's (T1) are equations in the complement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratio {
    pub delta: f64,
    pub slack: f64,
}

impl Ratio {
    pub fn of_counts(n: usize, p: usize) -> Self {
        assert!(n < p, "the interpolation regime needs n < d_L");
        Ratio { delta: n as f64 / p as f64, slack: (p - n) as f64 / p as f64 }
    }

    pub fn new(delta: f64) -> Self {
        Ratio { delta, slack: 1.0 - delta }
    }
}

/// Why the system could not be solved.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SolveError {
    #[error("no bracket for the sample equation n/d_L = {ratio}: the chain has no valid point with the right sign")]
    NoBracket { ratio: f64 },
    #[error("solver did not converge after {iterations} iterations: residuals {residuals:?} exceed {MAX_RESIDUAL:e}")]
    NoConvergence { iterations: u64, residuals: Vec<f64> },
}

/// A solved system.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    pub chain: Chain,
    pub residuals: Vec<f64>,
    /// Bracketing steps plus Brent iterations.
    pub iterations: u64,
}

impl Solution {
    pub fn max_residual(&self) -> f64 {
        self.residuals.iter().fold(0.0f64, |a, r| a.max(r.abs()))
    }
}

/// The sample equation as a function of `x = log u_1`, extended by a positive
/// constant below the physical branch, where it tends to `1 - n/d_L > 0` anyway:
/// a monotone function with exactly one sign change.
struct SampleEquation<'a> {
    input: &'a Input,
    layers: &'a [Layer],
    ratio: Ratio,
    ridge: f64,
}

impl SampleEquation<'_> {
    fn at(&self, x: f64) -> f64 {
        match bottom_up(self.input, self.layers, x) {
            Some(chain) => sample_equation_with_ridge(&chain, self.ratio, self.ridge),
            None => 1.0,
        }
    }
}

/// A function of one real variable as argmin's solvers take it (roots here, minima in `tune`).
pub struct Scalar<F>(pub F);

impl<F: Fn(f64) -> f64> CostFunction for Scalar<F> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, x: &f64) -> Result<f64, argmin::core::Error> {
        Ok((self.0)(*x))
    }
}

/// A scalar root by argmin's Brent method on `[lo, hi]` (the bracket must change
/// sign): the point and the iterations it took. Shared by both solvers.
pub fn brent_root(f: impl Fn(f64) -> f64, lo: f64, hi: f64, tol: f64, max_iters: u64) -> Option<(f64, u64)> {
    let result = Executor::new(Scalar(f), BrentRoot::new(lo, hi, tol))
        .configure(|state| state.param(0.5 * (lo + hi)).max_iters(max_iters))
        .run()
        .ok()?;
    Some((result.state.best_param.or(result.state.param)?, result.state.iter))
}

/// How far the bracket on `log u_1` may grow: `u_1 = e^{1e6}` is far past any depth
/// whose GEP coefficients can be computed (deep sign networks need about `0.45 L`).
const BRACKET_LIMIT: f64 = 1e6;

/// Solves `E_0..E_L` for `ratio = n/d_L` in (0, 1) (squared.md §5).
pub fn solve(layers: &[Layer], ratio: Ratio) -> Result<Solution, SolveError> {
    solve_with(&Input::Isotropic, layers, ratio, 0.0)
}

/// [`solve`] for any input spectrum (equations/teacher.md §1) and with a ridge `lambda >= 0`
/// in `E_0` (squared.md §6a; `training.ridge`): with `lambda > 0`, any `n/d_L > 0`, on either
/// side of the interpolation threshold.
pub fn solve_with(input: &Input, layers: &[Layer], ratio: Ratio, ridge: f64) -> Result<Solution, SolveError> {
    assert!(ridge >= 0.0 && ridge.is_finite(), "ridge must be finite and >= 0");
    let equation = SampleEquation { input, layers, ratio, ridge };
    // Bracket in log u_1, widened geometrically: large u_1 gives kappa -> infinity and E_0 -> -n/d_L < 0.
    let mut steps = 0;
    let (mut hi, mut width) = (0.0, 2.0);
    while equation.at(hi) >= 0.0 {
        hi += width;
        width *= 2.0;
        steps += 1;
        if hi > BRACKET_LIMIT {
            return Err(SolveError::NoBracket { ratio: ratio.delta });
        }
    }
    let (mut lo, mut width) = (hi - 2.0, 2.0);
    while equation.at(lo) < 0.0 {
        lo -= width;
        width *= 2.0;
        steps += 1;
        if lo < -BRACKET_LIMIT {
            return Err(SolveError::NoBracket { ratio: ratio.delta });
        }
    }
    let (x, brent_iterations) = brent_root(|x| equation.at(x), lo, hi, 1e-15, 300).ok_or(SolveError::NoBracket { ratio: ratio.delta })?;
    let iterations = steps + brent_iterations;
    let no_chain = || SolveError::NoConvergence { iterations, residuals: vec![1.0; layers.len() + 1] };
    let mut shifts = bottom_up(input, layers, x).ok_or_else(no_chain)?.log_shifts;
    // E_0 gives kappa = rho1^2 gamma_L u_L (1 - n/d_L) without the cancellation of the
    // chain's kappa = rho1^2 u_L (gamma_L - tau_{L-1}) - rho2^2 (relative error ~ eps rho2^2/kappa).
    let top = layers.last().expect("at least one layer");
    let c = top.rho1 * top.rho1 * top.aspect * shifts[layers.len() - 1].exp();
    shifts[layers.len()] = if ridge == 0.0 {
        shifts[layers.len() - 1] + (top.rho1 * top.rho1 * top.aspect * ratio.slack).ln()
    } else {
        // kappa / c = 1 - n/d_L + (n/d_L) lambda/kappa: the positive root of its quadratic.
        // For n > d_L, b < 0 and b + sqrt(b^2 + 4q) cancels: take the root as 2q/(sqrt - b).
        let (b, q) = (c * ratio.slack, c * ratio.delta * ridge);
        let root = (b * b + 4.0 * q).sqrt();
        (if b >= 0.0 { 0.5 * (b + root) } else { 2.0 * q / (root - b) }).ln()
    };
    let chain = along(input, layers, polish(input, layers, ratio, ridge, shifts)).ok_or_else(no_chain)?;
    let residuals = residuals_with(input, layers, ratio, ridge, &chain.log_shifts);
    let solution = Solution { chain, residuals, iterations };
    if solution.max_residual() <= MAX_RESIDUAL {
        Ok(solution)
    } else {
        Err(SolveError::NoConvergence { iterations, residuals: solution.residuals })
    }
}

/// Bias and variance of the excess risk (squared.md (4.5) in the form (5.3)), from the solved
/// chain. With `A = -tau_L'(kappa) = (1/p) tr Sigma (Sigma+kappa)^{-2}` and
/// `df2/p = tau_L - kappa A`, `E_0` gives `n - df2 = p kappa A`, so
/// `bias = r^2 kappa^2 A n/(n - df2) = r^2 kappa tau_L` and
/// `variance = sigma^2 df2/(n - df2) = sigma^2 (tau_L - kappa A)/(kappa A)`.
pub fn risk(chain: &Chain, norm2: f64, noise_var: f64) -> (f64, f64) {
    let (kappa, tau, kappa_a) = (chain.kappa(), chain.top().tau, chain.kappa_a());
    (norm2 * kappa * tau, noise_var * (tau - kappa_a) / kappa_a)
}

/// [`risk`] with a ridge (squared.md (6a.3)): the same `bias = r^2 kappa^2 A n/(n - df2)` and
/// `variance = sigma^2 df2/(n - df2)`, where `E_0` now gives `(n - df2)/p = (n/p) lambda/kappa + kappa A`:
/// `bias = r^2 kappa (kappa A) (n/p) / ((n/p) lambda/kappa + kappa A)`,
/// `variance = sigma^2 (tau_L - kappa A) / ((n/p) lambda/kappa + kappa A)`. At `lambda = 0` it is [`risk`].
pub fn risk_with_ridge(chain: &Chain, ratio: Ratio, ridge: f64, norm2: f64, noise_var: f64) -> (f64, f64) {
    if ridge == 0.0 {
        return risk(chain, norm2, noise_var);
    }
    let (kappa, tau, kappa_a) = (chain.kappa(), chain.top().tau, chain.kappa_a());
    let room = ratio.delta * ridge / kappa + kappa_a;
    (norm2 * kappa * kappa_a * ratio.delta / room, noise_var * (tau - kappa_a) / room)
}

/// The teacher as the squared map's risk sees it (equations/teacher.md §2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signal {
    /// The teacher's layer `k`, `0 <= k <= L`.
    pub depth: usize,
    /// `r_eff^2 = E||a* - a_0||^2` at `k = L`; `r^2 = E||a*||^2` below, where teacher and
    /// start share no coordinates.
    pub norm2: f64,
    /// `||a_0||^2` for `k < L` (0 at `k = L`, where it is part of `norm2`).
    pub start_norm2: f64,
}

impl Signal {
    /// A last-layer teacher of effective norm `r_eff^2` (today's model).
    pub fn top(depth: usize, effective_norm2: f64) -> Self {
        Signal { depth, norm2: effective_norm2, start_norm2: 0.0 }
    }
}

/// Bias and variance for a teacher at any layer (equations/teacher.md (T5)): with
/// `room = (n/p) lambda/kappa + kappa A = (n - df2)/p`,
/// `bias = (n/p)/room [||a_0||^2 kappa (kappa A) + r^2 unexplained_k]` and
/// `variance = sigma^2 (tau_L - kappa A)/room`. At `k = L` it is [`risk_with_ridge`].
pub fn risk_of(chain: &Chain, ratio: Ratio, ridge: f64, signal: Signal, noise_var: f64) -> (f64, f64) {
    let depth = chain.gains.len();
    if signal.depth == depth {
        return risk_with_ridge(chain, ratio, ridge, signal.norm2, noise_var);
    }
    let (kappa, tau, kappa_a) = (chain.kappa(), chain.top().tau, chain.kappa_a());
    let room = if ridge == 0.0 { kappa_a } else { ratio.delta * ridge / kappa + kappa_a };
    let missed = signal.start_norm2 * kappa * kappa_a + signal.norm2 * chain.unexplained(signal.depth);
    (ratio.delta * missed / room, noise_var * (tau - kappa_a) / room)
}

/// A shift far below every eigenvalue of `Sigma_L` that matters, for the `kappa -> 0` limit.
/// With `rho_{L,2} > 0` the spectrum stays above `rho_{L,2}^2`, and `kappa = 1e-13 (rho1^2 + rho2^2)`
/// leaves out a relative 1e-13. Without (the identity activation) the spectrum may reach 0, where
/// the limit is approached like `sqrt(kappa)` (at `d_L = d_{L-1}`), so `kappa = 1e-30 rho1^2`:
/// that chain has no cancellation (`u_{L+1} = rho1^2 u_L (gamma - tau)`).
pub fn vanishing_shift(layers: &[Layer]) -> f64 {
    let top = layers.last().expect("at least one layer");
    let (r1, r2) = (top.rho1 * top.rho1, top.rho2 * top.rho2);
    if r2 > 0.0 { (1e-13 * (r1 + r2)).ln() } else { (1e-30 * r1).ln() }
}

/// Least squares, `lambda = 0` with `n > p` (equations/teacher.md §4): the `kappa -> 0` branch
/// of (T5), `room -> n/p - 1`: `bias = n/(n - p) r^2 unexplained_k(0)` (zero at `k = L`, where
/// the teacher lies in the features) and `variance = sigma^2 p/(n - p)`.
pub fn least_squares_risk(n: usize, p: usize, signal: Signal, unexplained_at_zero: f64, noise_var: f64) -> (f64, f64) {
    assert!(n > p, "least squares needs more samples than features");
    let excess = (n - p) as f64;
    (n as f64 / excess * signal.norm2 * unexplained_at_zero, noise_var * p as f64 / excess)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Isotropic features, Sigma = I: a single layer with rho1 -> 0 is not
    /// available, but Sigma = rho2^2 I with tiny rho1 approaches it; instead check
    /// the textbook limit through an identity layer on a huge input dimension.
    #[test]
    fn wide_identity_layer_gives_isotropic_risk() {
        // d0 >> d1: W W^T -> I, so bias -> r^2 (1 - n/p), variance -> sigma^2 n/(p - n).
        let layers = [Layer { rho1: 1.0, rho2: 0.0, aspect: 1e-7 }];
        let sol = solve(&layers, Ratio::new(0.4)).unwrap();
        let (bias, variance) = risk(&sol.chain, 1.0, 1.0);
        assert!((bias - 0.6).abs() < 1e-5, "{bias}");
        assert!((variance - 400.0 / 600.0).abs() < 1e-5, "{variance}");
    }

    #[test]
    fn residuals_vanish_at_the_solution_for_deep_models() {
        let tanh = crate::solver::gep::layer_coefficients(crate::solver::activation::Activation::Tanh, 10);
        let layers: Vec<Layer> = tanh.iter().map(|g| Layer { rho1: g.rho1, rho2: g.rho2, aspect: 1.0 }).collect();
        for ratio in [1e-4, 0.1, 0.5, 0.9, 0.999, 0.999999] {
            let sol = solve(&layers, Ratio::new(ratio)).unwrap();
            assert!(sol.max_residual() < 1e-12, "ratio {ratio}: {:?}", sol.residuals);
            assert_eq!(sol.chain.log_shifts.len(), 11);
        }
    }
}
