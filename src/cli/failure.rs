//! Failures and the exit codes they map to (README, "Exit codes").

use rfrisk::entropic::TopError;
use rfrisk::spec::SpecError;
use rfrisk::PredictError;
use std::path::Path;

/// An error with the exit code it maps to.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl From<SpecError> for Failure {
    fn from(e: SpecError) -> Self {
        Failure { code: 2, message: e.to_string() }
    }
}

impl From<PredictError> for Failure {
    fn from(e: PredictError) -> Self {
        let code = match e {
            PredictError::NoSignal { .. } | PredictError::NotGaussianInputs(_) | PredictError::RealData(_) | PredictError::Classification | PredictError::NotOdd(..) | PredictError::InfiniteRisk(_) | PredictError::Top(TopError::Infeasible { .. } | TopError::NoMass) => 3,
            PredictError::Solve(_) | PredictError::Top(_) | PredictError::NonFinite { .. } | PredictError::Negative { .. } => 4,
        };
        Failure { code, message: e.to_string() }
    }
}

impl Failure {
    /// Exit 5: the run finished and wrote every point, but `failed` of `total` failed
    /// (their rows say why in the status column).
    pub fn points_failed(failed: usize, total: usize) -> Failure {
        Failure { code: 5, message: format!("{failed} of {total} points failed; they are written, marked in the CSV's status column") }
    }
}

pub fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure { code: 1, message: format!("cannot write {}: {e}", path.display()) }
}

pub fn simulate_failure(e: rfrisk::simulate::SimulateError) -> Failure {
    use rfrisk::simulate::SimulateError as E;
    let code = match &e {
        E::Exists { .. } | E::Mismatch { .. } | E::ShardNeedsFile => 2,
        E::Trial { source: validation::TrialError::Train(validation::train::TrainError::NoPositiveInterpolator { .. }), .. } => 3,
        E::Trial { source: validation::TrialError::Train(validation::train::TrainError::SmdNeedsInterpolation), .. } => 2,
        E::Trial { .. } => 4,
        _ => 1,
    };
    Failure { code, message: e.to_string() }
}
