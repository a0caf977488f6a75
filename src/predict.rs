//! From a validated [`Spec`] to the theory's [`Prediction`].

use crate::activation::Gep;
use crate::gep::layer_coefficients;
use crate::spec::{Mirror, Spec};
use crate::squared::{self, Layer, SolveError};
use serde::Serialize;

/// The asymptotic test error of a spec, with the numbers behind it.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// `E_x[(phi_L(x)^T (a_hat - a*))^2]` in the proportional limit.
    pub excess_risk: f64,
    /// `excess_risk + noise_std^2`.
    pub test_error: f64,
    pub bias: f64,
    pub variance: f64,
    /// Per-layer Gaussian-equivalence coefficients, layer 1 first.
    pub gep: Vec<Gep>,
    pub solver: SolverReport,
}

/// What the solver did: unknowns at the returned point and the residual of every equation.
#[derive(Clone, Debug, Serialize)]
pub struct SolverReport {
    /// Where the system is derived.
    pub equations: &'static str,
    pub unknowns: Vec<Named>,
    pub residuals: Vec<Named>,
    pub max_residual: f64,
    pub iterations: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Named {
    pub name: String,
    pub value: f64,
}

/// Why a valid spec has no prediction.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error("training.mirror: the `{0}` mirror map is not implemented yet (only `squared`)")]
    UnsupportedMirror(&'static str),
    #[error("features.activation: `{0}` is not odd, so the features are not centred: outside the theory (its equations assume E sigma(z) = 0)")]
    NotOdd(crate::Activation),
    #[error("layer {layer}: rho1 = {rho1} carries no signal through the layer; the theory needs rho1 > 0")]
    NoSignal { layer: usize, rho1: f64 },
    #[error("{0}")]
    Solve(#[from] SolveError),
    #[error("the solver returned a non-finite {quantity} ({value}); refusing to report it")]
    NonFinite { quantity: &'static str, value: f64 },
}

/// The layers as the CGMT system sees them: GEP coefficients and aspect ratios
/// `gamma_l = d_l / d_{l-1}`.
pub fn system_layers(spec: &Spec, geps: &[Gep]) -> Vec<Layer> {
    let dims: Vec<usize> = std::iter::once(spec.dim).chain(spec.widths.iter().copied()).collect();
    geps.iter()
        .zip(dims.windows(2))
        .map(|(g, d)| Layer { rho1: g.rho1, rho2: g.rho2, aspect: d[1] as f64 / d[0] as f64 })
        .collect()
}

/// Predicts the asymptotic excess risk and test error of `spec`.
pub fn predict(spec: &Spec) -> Result<Prediction, PredictError> {
    if !spec.activation.is_odd() {
        return Err(PredictError::NotOdd(spec.activation));
    }
    if spec.mirror != Mirror::Squared {
        return Err(PredictError::UnsupportedMirror(spec.mirror.name()));
    }
    let gep = layer_coefficients(spec.activation, spec.depth());
    if let Some((i, g)) = gep.iter().enumerate().find(|(_, g)| !(g.rho1 > 0.0)) {
        return Err(PredictError::NoSignal { layer: i + 1, rho1: g.rho1 });
    }
    let layers = system_layers(spec, &gep);
    let ratio = spec.samples as f64 / spec.last_width() as f64;
    let solution = squared::solve(&layers, ratio)?;
    let noise_var = spec.noise_std * spec.noise_std;
    let (bias, variance) = squared::risk(&solution.chain, spec.effective_norm2(), noise_var);
    let excess_risk = bias + variance;
    for (quantity, value) in [("bias", bias), ("variance", variance), ("excess risk", excess_risk)] {
        if !value.is_finite() || value < 0.0 {
            return Err(PredictError::NonFinite { quantity, value });
        }
    }
    let depth = spec.depth();
    let unknowns = solution
        .chain
        .shifts
        .iter()
        .enumerate()
        .map(|(i, &value)| Named { name: if i == depth { "kappa".into() } else { format!("u_{}", i + 1) }, value })
        .collect();
    let residuals =
        solution.residuals.iter().enumerate().map(|(i, &value)| Named { name: format!("E_{i}"), value }).collect();
    Ok(Prediction {
        excess_risk,
        test_error: excess_risk + noise_var,
        bias,
        variance,
        gep,
        solver: SolverReport {
            equations: "equations/squared.md",
            unknowns,
            residuals,
            max_residual: solution.max_residual(),
            iterations: solution.iterations,
        },
    })
}
