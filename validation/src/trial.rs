//! One trial of the real finite-size model, from its seed to its risks.

use crate::backend::Backend;
use crate::draws::{self, Stream};
use crate::model::{Mirror, Spec, WeightLaw};
use crate::train::{entropic, min_distance, ridge, smd, TrainError, Trainer};
use faer::Mat;
use std::time::Instant;

/// Why a trial has no outcome.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrialError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error("the backend failed: {0}")]
    Backend(String),
}

/// What one trial measured.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialOutcome {
    /// `mean over test inputs of (phi^T (a_hat - a*))^2`.
    pub excess_risk: f64,
    /// `mean over test inputs of (phi^T a_hat - y)^2`, with fresh label noise.
    pub test_error: f64,
    /// `||Phi a_hat - y|| / ||y||` on the training set.
    pub train_residual: f64,
    pub seconds: f64,
}

/// How many ways faer splits each product and factorization. faer's default follows the
/// size of the thread pool, and a different split sums in a different order; a fixed one
/// makes every trial identical bit for bit whatever `RAYON_NUM_THREADS` is (rayon only
/// decides which thread runs each piece).
pub const REDUCTION_SPLIT: usize = 8;

fn fix_reduction_order() {
    faer::set_global_parallelism(faer::Par::rayon(REDUCTION_SPLIT));
}

/// Draws the weights (law `law`), data, teacher and noise of trial `seed`,
/// trains the last layer and measures its risk on `n_test` fresh inputs.
pub fn run_trial(
    spec: &Spec,
    law: WeightLaw,
    seed: u64,
    n_test: usize,
    trainer: Trainer,
    backend: &dyn Backend,
) -> Result<TrialOutcome, TrialError> {
    let start = Instant::now();
    fix_reduction_order();
    let (n, p) = (spec.samples, spec.last_width());
    let mut fan_in = spec.dim;
    let weights: Vec<Mat<f32>> = spec
        .widths
        .iter()
        .enumerate()
        .map(|(l, &width)| {
            let w = draws::layer_weights(seed, l + 1, width, fan_in, law);
            fan_in = width;
            w
        })
        .collect();
    // One forward pass for training and test inputs together: one GEMM per layer.
    let inputs = draws::stacked_inputs(seed, (Stream::TrainInputs, n), (Stream::TestInputs, n_test), spec.dim);
    let features = backend.features(inputs, &weights, spec.activation).map_err(TrialError::Backend)?;

    let teacher = draws::teacher(seed, p, spec.prior, spec.norm2);
    let teacher_col = Mat::<f64>::from_fn(p, 1, |j, _| teacher[j]);
    let phi = Mat::<f64>::from_fn(n, p, |i, j| features[(i, j)] as f64);
    let noise = draws::noise(seed, Stream::TrainNoise, n, spec.noise_std);
    let clean = &phi * &teacher_col;
    let y: Vec<f64> = (0..n).map(|i| clean[(i, 0)] + noise[i]).collect();
    let entropic_map = spec.mirror == Mirror::Entropic;
    let (a_hat, train_residual) = match (trainer, entropic_map) {
        (Trainer::Direct, false) if spec.ridge > 0.0 => ridge(&phi, &y, spec.init, spec.ridge)?,
        (Trainer::Direct, false) => min_distance(&phi, &y, spec.init)?,
        (Trainer::Direct, true) => entropic(&phi, &y, spec.init)?,
        (Trainer::Smd, _) if spec.ridge > 0.0 => return Err(TrialError::Train(TrainError::RidgeWithSmd)),
        (Trainer::Smd, _) => smd(&phi, &y, spec.init, entropic_map, 1e-8, 100_000)?,
    };

    // Risk on fresh inputs through the same weights: phi_test (a_hat - a*), and the
    // error against noisy test labels.
    // Accumulated in f64 column by column straight from the f32 features.
    let mut test_gap = vec![0.0f64; n_test];
    for j in 0..p {
        let (column, delta) = (&features.col_as_slice(j)[n..], a_hat[j] - teacher[j]);
        test_gap.iter_mut().zip(column).for_each(|(g, &f)| *g += f as f64 * delta);
    }
    let test_noise = draws::noise(seed, Stream::TestNoise, n_test, spec.noise_std);
    let excess = test_gap.iter().map(|g| g * g).sum::<f64>();
    let error = test_gap.iter().zip(&test_noise).map(|(g, e)| (g - e).powi(2)).sum::<f64>();
    Ok(TrialOutcome {
        excess_risk: excess / n_test as f64,
        test_error: error / n_test as f64,
        train_residual,
        seconds: start.elapsed().as_secs_f64(),
    })
}
