//! `rfrisk tune`: the ridge that minimises the predicted test error (equations/teacher.md §7).
//!
//! The theory's test error as a function of `log lambda` is scanned on a log grid, then the best
//! grid point's neighbourhood is searched by Brent's minimiser: the grid guards against a
//! second local minimum, which Brent alone could settle in.

use crate::solver::predict::{predict, PredictError};
use crate::spec::{Mirror, Spec};
use argmin::core::Executor;
use argmin::solver::brent::BrentOpt;

/// Grid points over the range, before the Brent refinement.
pub const GRID_POINTS: usize = 49;

/// Where the minimum lies relative to the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    Lower,
    Upper,
}

/// The tuned ridge and the risk there.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tuned {
    pub ridge: f64,
    pub test_error: f64,
    pub excess_risk: f64,
    pub bias: f64,
    pub variance: f64,
    /// `Some` when the minimum is at an end of the range (widen it: the true optimum may lie beyond).
    pub at_edge: Option<Edge>,
    pub range: (f64, f64),
    /// The predicted test error without a ridge, when it is finite (`None`: n = d_L with noise).
    pub test_error_without_ridge: Option<f64>,
    /// Predictions made.
    pub evaluations: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    #[error("training.mirror: tune needs the squared map (a ridge is not derived for the entropic map)")]
    NotSquared,
    #[error("--range {0}:{1}: needs 0 <= a < b, both finite")]
    BadRange(f64, f64),
    #[error("no ridge in the range has a prediction: {0}")]
    NoPrediction(PredictError),
}

fn at(spec: &Spec, ridge: f64) -> Result<crate::Prediction, PredictError> {
    predict(&Spec { ridge, ..spec.clone() })
}

/// Minimises the predicted test error over `training.ridge` in `[lo, hi]` (log scale; `lo = 0`
/// scans from `1e-9 hi` and compares the ridgeless point itself).
pub fn tune_ridge(spec: &Spec, lo: f64, hi: f64) -> Result<Tuned, TuneError> {
    if spec.mirror != Mirror::Squared {
        return Err(TuneError::NotSquared);
    }
    if !(lo >= 0.0 && hi > lo && hi.is_finite()) {
        return Err(TuneError::BadRange(lo, hi));
    }
    let (log_lo, log_hi) = ((if lo > 0.0 { lo } else { 1e-9 * hi }).ln(), hi.ln());
    let log_at = |i: usize| log_lo + (log_hi - log_lo) * i as f64 / (GRID_POINTS - 1) as f64;
    let error_at = |log_ridge: f64| at(spec, log_ridge.exp()).map(|p| p.test_error);
    let grid: Vec<Result<f64, PredictError>> = (0..GRID_POINTS).map(|i| error_at(log_at(i))).collect();
    let mut evaluations = GRID_POINTS;
    let best = (0..GRID_POINTS).filter(|&i| grid[i].is_ok()).min_by(|&a, &b| grid[a].as_ref().unwrap().total_cmp(grid[b].as_ref().unwrap()));
    let Some(best) = best else {
        return Err(TuneError::NoPrediction(grid.into_iter().find_map(Result::err).expect("every point failed")));
    };
    let log_ridge = if best == 0 || best == GRID_POINTS - 1 {
        log_at(best)
    } else {
        // A failed point inside the bracket counts as +infinity: Brent moves away from it.
        let curve = crate::solver::squared::Scalar(|x: f64| error_at(x).unwrap_or(f64::INFINITY));
        let solver = BrentOpt::new(log_at(best - 1), log_at(best + 1)).set_tolerance(f64::EPSILON.sqrt(), 1e-10);
        let result = Executor::new(curve, solver).configure(|s| s.max_iters(200)).run().ok();
        evaluations += result.as_ref().map_or(0, |r| r.state.iter as usize);
        result.and_then(|r| r.state.best_param).unwrap_or(log_at(best))
    };
    let mut ridge = log_ridge.exp();
    let mut edge = match best {
        0 => Some(Edge::Lower),
        i if i == GRID_POINTS - 1 => Some(Edge::Upper),
        _ => None,
    };
    let mut prediction = at(spec, ridge).map_err(TuneError::NoPrediction)?;
    let without = at(spec, 0.0).ok();
    evaluations += 2;
    if lo == 0.0 {
        // Within 1e-9 relative the curve is flat to rounding: prefer no ridge at all.
        if let Some(p) = without.as_ref().filter(|p| p.test_error <= prediction.test_error * (1.0 + 1e-9)) {
            (ridge, prediction, edge) = (0.0, p.clone(), Some(Edge::Lower));
        }
    }
    Ok(Tuned {
        ridge,
        test_error: prediction.test_error,
        excess_risk: prediction.excess_risk,
        bias: prediction.bias,
        variance: prediction.variance,
        at_edge: edge,
        range: (lo, hi),
        test_error_without_ridge: without.map(|p| p.test_error),
        evaluations,
    })
}
