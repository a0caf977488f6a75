//! One trial of the real finite-size model, from its seed to its risks.

use crate::backend::Backend;
use crate::draws::{self, Stream};
use crate::model::{Mirror, Spec, WeightLaw};
use crate::train::{min_distance, TrainError};
use faer::Mat;
use std::time::Instant;

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

/// Draws the weights (law `law`), data, teacher and noise of trial `seed`,
/// trains the last layer and measures its risk on `n_test` fresh inputs.
pub fn run_trial(spec: &Spec, law: WeightLaw, seed: u64, n_test: usize, backend: &dyn Backend) -> Result<TrialOutcome, TrainError> {
    let start = Instant::now();
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
    let train_x = draws::gaussian_matrix(n, spec.dim, &mut draws::rng(seed, Stream::TrainInputs));
    let test_x = draws::gaussian_matrix(n_test, spec.dim, &mut draws::rng(seed, Stream::TestInputs));
    let inputs = Mat::<f32>::from_fn(n + n_test, spec.dim, |i, j| if i < n { train_x[(i, j)] } else { test_x[(i - n, j)] });
    let features = backend.features(&inputs, &weights, spec.activation);

    let teacher = draws::teacher(seed, p, spec.prior, spec.norm2);
    let phi = Mat::<f64>::from_fn(n, p, |i, j| features[(i, j)] as f64);
    let noise = draws::noise(seed, Stream::TrainNoise, n, spec.noise_std);
    let y: Vec<f64> = (0..n).map(|i| dot_row(&phi, i, &teacher) + noise[i]).collect();
    let (a_hat, train_residual) = match spec.mirror {
        Mirror::Squared => min_distance(&phi, &y, spec.init)?,
        Mirror::Entropic => return Err(TrainError::Unsupported("entropic")),
    };

    let test_noise = draws::noise(seed, Stream::TestNoise, n_test, spec.noise_std);
    let (mut excess, mut error) = (0.0, 0.0);
    for i in 0..n_test {
        let (mut fit, mut truth) = (0.0, 0.0);
        for j in 0..p {
            let f = features[(n + i, j)] as f64;
            fit += f * a_hat[j];
            truth += f * teacher[j];
        }
        excess += (fit - truth).powi(2);
        error += (fit - truth - test_noise[i]).powi(2);
    }
    Ok(TrialOutcome {
        excess_risk: excess / n_test as f64,
        test_error: error / n_test as f64,
        train_residual,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn dot_row(m: &Mat<f64>, row: usize, v: &[f64]) -> f64 {
    v.iter().enumerate().map(|(j, x)| m[(row, j)] * x).sum()
}
