//! The squared mirror map (SGD): the L+1 scalar equations of
//! [equations/squared.md §4](../equations/squared.md#4-the-final-system) and their solution.
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
/// a shift `s` leaves "resolved") and its derivative `dtau/ds < 0`, at one shift.
/// `tau = 1 - s m(s)` with `m` the normalised resolvent trace of squared.md §3;
/// carrying `tau` instead of `m` avoids the cancellation in `1 - s m` at large shifts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trace {
    pub tau: f64,
    pub dtau: f64,
}

impl Trace {
    /// Layer 0: inputs `x ~ N(0, I)`, so `tau_0(u) = 1/(1+u)`.
    pub fn input(u: f64) -> Self {
        Trace { tau: 1.0 / (1.0 + u), dtau: -1.0 / ((1.0 + u) * (1.0 + u)) }
    }
}

/// Equation `E_l` (squared.md (4.1) in the form (5.2)): given `u_l` and layer `l-1`'s trace at `u_l`,
/// returns `u_{l+1} = rho1^2 u_l (gamma - tau_{l-1}(u_l)) - rho2^2` and layer `l`'s
/// trace there, `tau_l = (tau_{l-1}(u_l) + rho2^2/(rho1^2 u_l)) / gamma`, with its
/// derivative by the chain rule. `None` below the physical branch (`u_{l+1} <= 0`).
pub fn layer_equation(layer: &Layer, u: f64, below: Trace) -> Option<(f64, Trace)> {
    let (r1, r2) = (layer.rho1 * layer.rho1, layer.rho2 * layer.rho2);
    let gap = layer.aspect - below.tau;
    let next = r1 * u * gap - r2;
    let dnext_du = r1 * (gap - u * below.dtau);
    if !(next > 0.0 && dnext_du > 0.0 && next.is_finite()) {
        return None;
    }
    let tau = (below.tau + r2 / (r1 * u)) / layer.aspect;
    let dtau_du = (below.dtau - r2 / (r1 * u * u)) / layer.aspect;
    Some((next, Trace { tau, dtau: dtau_du / dnext_du }))
}

/// The shifts `u_1, ..., u_L, kappa` and `(tau_L, tau_L')` at `kappa`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub shifts: Vec<f64>,
    pub top: Trace,
}

impl Chain {
    pub fn kappa(&self) -> f64 {
        *self.shifts.last().expect("a chain holds u_1 at least")
    }
}

/// Runs the layer equations upwards from `u_1` (squared.md §5).
pub fn bottom_up(layers: &[Layer], u1: f64) -> Option<Chain> {
    let mut shifts = Vec::with_capacity(layers.len() + 1);
    shifts.push(u1);
    let mut trace = Trace::input(u1);
    for layer in layers {
        let (next, t) = layer_equation(layer, *shifts.last().unwrap(), trace)?;
        shifts.push(next);
        trace = t;
    }
    Some(Chain { shifts, top: trace })
}

/// Equation `E_0`: `tau_L(kappa) - n/d_L` (= `1 - kappa m_L(kappa) - n/d_L`), zero at the solution.
pub fn sample_equation(chain: &Chain, ratio: f64) -> f64 {
    chain.top.tau - ratio
}

/// Relative residuals of `E_0, E_1, ..., E_L` at `shifts = [u_1..u_L, kappa]`,
/// evaluated from the equations as stated in squared.md §4 (not from the chain).
pub fn residuals(layers: &[Layer], ratio: f64, shifts: &[f64]) -> Vec<f64> {
    let depth = layers.len();
    assert_eq!(shifts.len(), depth + 1, "one shift per layer plus kappa");
    let m_top = |l: usize| 1.0 / (layers[l].rho1.powi(2) * layers[l].aspect * shifts[l]);
    let kappa = shifts[depth];
    let mut out = vec![(1.0 - kappa * m_top(depth - 1) - ratio) / ratio.max(1.0 - ratio)];
    for l in 0..depth {
        let (layer, u, next) = (&layers[l], shifts[l], shifts[l + 1]);
        // (gamma - 1) u + u^2 m_{l-1}(u) written as u (gamma - tau_{l-1}(u)), tau = 1 - u m,
        // exact for the input layer (tau_0 = 1/(1+u)).
        let tau_below = if l == 0 { 1.0 / (1.0 + u) } else { 1.0 - u * m_top(l - 1) };
        let lhs = (layer.rho2.powi(2) + next) / layer.rho1.powi(2);
        let rhs = u * (layer.aspect - tau_below);
        out.push((lhs - rhs) / lhs.abs().max(rhs.abs()));
    }
    out
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
    layers: &'a [Layer],
    ratio: f64,
}

impl SampleEquation<'_> {
    fn at(&self, x: f64) -> f64 {
        match bottom_up(self.layers, x.exp()) {
            Some(chain) => sample_equation(&chain, self.ratio),
            None => 1.0,
        }
    }
}

/// A scalar root by argmin's Brent method on `[lo, hi]` (the bracket must change
/// sign): the point and the iterations it took. Shared by both solvers.
pub fn brent_root(f: impl Fn(f64) -> f64, lo: f64, hi: f64, tol: f64, max_iters: u64) -> Option<(f64, u64)> {
    struct Scalar<F>(F);
    impl<F: Fn(f64) -> f64> CostFunction for Scalar<F> {
        type Param = f64;
        type Output = f64;
        fn cost(&self, x: &f64) -> Result<f64, argmin::core::Error> {
            Ok((self.0)(*x))
        }
    }
    let result = Executor::new(Scalar(f), BrentRoot::new(lo, hi, tol))
        .configure(|state| state.param(0.5 * (lo + hi)).max_iters(max_iters))
        .run()
        .ok()?;
    Some((result.state.best_param.or(result.state.param)?, result.state.iter))
}

/// Solves `E_0..E_L` for `ratio = n/d_L` in (0, 1) (squared.md §5).
pub fn solve(layers: &[Layer], ratio: f64) -> Result<Solution, SolveError> {
    let equation = SampleEquation { layers, ratio };
    // Bracket in log u_1: large u_1 gives kappa -> infinity and E_0 -> -n/d_L < 0.
    let mut steps = 0;
    let mut hi = 0.0;
    while equation.at(hi) >= 0.0 {
        hi += 2.0;
        steps += 1;
        if hi > 600.0 {
            return Err(SolveError::NoBracket { ratio });
        }
    }
    let mut lo = hi - 2.0;
    while equation.at(lo) < 0.0 {
        lo -= 2.0;
        steps += 1;
        if lo < -600.0 {
            return Err(SolveError::NoBracket { ratio });
        }
    }
    let (x, brent_iterations) = brent_root(|x| equation.at(x), lo, hi, 1e-15, 300).ok_or(SolveError::NoBracket { ratio })?;
    let iterations = steps + brent_iterations;
    let chain = bottom_up(layers, x.exp()).ok_or(SolveError::NoConvergence { iterations, residuals: vec![f64::NAN] })?;
    let residuals = residuals(layers, ratio, &chain.shifts);
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
    let kappa = chain.kappa();
    let Trace { tau, dtau } = chain.top;
    let kappa_a = -kappa * dtau;
    (norm2 * kappa * tau, noise_var * (tau - kappa_a) / kappa_a)
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
        let sol = solve(&layers, 0.4).unwrap();
        let (bias, variance) = risk(&sol.chain, 1.0, 1.0);
        assert!((bias - 0.6).abs() < 1e-5, "{bias}");
        assert!((variance - 400.0 / 600.0).abs() < 1e-5, "{variance}");
    }

    #[test]
    fn residuals_vanish_at_the_solution_for_deep_models() {
        let tanh = crate::gep::layer_coefficients(crate::activation::Activation::Tanh, 10);
        let layers: Vec<Layer> = tanh.iter().map(|g| Layer { rho1: g.rho1, rho2: g.rho2, aspect: 1.0 }).collect();
        for ratio in [1e-4, 0.1, 0.5, 0.9, 0.999, 0.999999] {
            let sol = solve(&layers, ratio).unwrap();
            assert!(sol.max_residual() < 1e-12, "ratio {ratio}: {:?}", sol.residuals);
            assert_eq!(sol.chain.shifts.len(), 11);
        }
    }
}
