//! One trial of the real finite-size model, from its seed to its risks.

use crate::backend::{Backend, KernelChoice, Layer};
use crate::draws::{self, Stream};
use crate::model::{Mirror, Spec, WeightLaw};
use crate::packed::PackedLayer;
use crate::train::{entropic, min_distance, pnorm, ridge, smd, Potential, TrainError, Trainer};
use faer::Mat;
use std::time::Instant;

/// Why a trial has no outcome.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrialError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error("the backend failed: {0}")]
    Backend(String),
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
}

/// What one trial measured.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialOutcome {
    /// `mean over test inputs of (phi_L^T a_hat - f*)^2`, `f* = phi_k^T a*` the noiseless target.
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

/// The hidden layers of trial `seed` for law `law` (paired across laws by `draws`), one-bit
/// ones packed as `kernel` says.
fn hidden_layers(spec: &Spec, law: WeightLaw, seed: u64, kernel: KernelChoice) -> Result<Vec<Layer>, TrialError> {
    let fan_ins = std::iter::once(spec.dim).chain(spec.widths.iter().copied());
    spec.widths
        .iter()
        .zip(fan_ins)
        .enumerate()
        .map(|(l, (&width, fan_in))| {
            Ok(match kernel.packing(fan_in, law == WeightLaw::Onebit).map_err(TrialError::Backend)? {
                // The signs straight into bits: the same signs as the f32 draw, without it.
                Some(k) => Layer::Packed(PackedLayer::from_signs(&draws::layer_signs(seed, l + 1, width, fan_in), k)),
                None => Layer::Dense(draws::layer_weights(seed, l + 1, width, fan_in, law)),
            })
        })
        .collect()
}

/// Draws the weights (law `law`), data, teacher and noise of trial `seed`,
/// trains the last layer and measures its risk on `n_test` fresh inputs. `kernel` says
/// whether one-bit layers are multiplied as bits or as f32 matrices.
pub fn run_trial(
    spec: &Spec,
    law: WeightLaw,
    seed: u64,
    n_test: usize,
    trainer: Trainer,
    backend: &dyn Backend,
    kernel: KernelChoice,
) -> Result<TrialOutcome, TrialError> {
    let start = Instant::now();
    fix_reduction_order();
    if spec.task == crate::model::Task::Classification {
        return classification_trial(spec, law, seed, n_test, backend, kernel, start);
    }
    let (n, p) = (spec.samples, spec.last_width());
    let weights = hidden_layers(spec, law, seed, kernel)?;
    let (features, teacher_features) = forward(spec, seed, n_test, &weights, backend)?;
    let teacher_layer = teacher_features.as_ref().unwrap_or(&features);
    let teacher = draws::teacher(seed, spec.teacher_width(), spec.prior, spec.norm2);
    let target = |rows: std::ops::Range<usize>| teacher_outputs(&teacher, teacher_layer, rows);
    let phi = Mat::<f64>::from_fn(n, p, |i, j| features[(i, j)] as f64);
    let noise = draws::noise(seed, Stream::TrainNoise, n, spec.noise_std);
    let y: Vec<f64> = target(0..n).iter().zip(&noise).map(|(f, e)| f + e).collect();
    let (a_hat, train_residual) = match (trainer, spec.mirror) {
        (Trainer::Direct, Mirror::Squared) if spec.ridge > 0.0 || n >= p => ridge(&phi, &y, spec.init, spec.ridge)?,
        (Trainer::Direct, Mirror::Squared) => min_distance(&phi, &y, spec.init)?,
        (Trainer::Direct, Mirror::Entropic) => entropic(&phi, &y, spec.init)?,
        (Trainer::Direct, Mirror::PNorm { q }) => pnorm(&phi, &y, spec.init, q)?,
        (Trainer::Smd, _) if spec.ridge > 0.0 || n >= p => return Err(TrialError::Train(TrainError::SmdNeedsInterpolation)),
        (Trainer::Smd, mirror) => {
            let potential = match mirror {
                Mirror::Squared => Potential::Squared,
                Mirror::Entropic => Potential::Entropic,
                Mirror::PNorm { q } => Potential::PNorm(q),
            };
            smd(&phi, &y, spec.init, potential, 1e-8, 100_000)?
        }
    };

    // Risk on fresh inputs through the same weights: phi_L(x)^T a_hat - f*(x), and the
    // error against noisy test labels, accumulated in f64 column by column from the f32 features.
    let mut test_gap = match teacher_features {
        // A last-layer teacher shares the student's coordinates: phi_L^T (a_hat - a*).
        None => vec![0.0f64; n_test],
        Some(_) => target(n..n + n_test).iter().map(|f| -f).collect(),
    };
    let shared = teacher_features.is_none();
    for j in 0..p {
        let (column, delta) = (&features.col_as_slice(j)[n..], a_hat[j] - if shared { teacher[j] } else { 0.0 });
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

/// Draws the `samples` training and `n_test` test inputs of trial `seed` from the spec's law
/// and runs them through `weights` in one pass (one GEMM per layer): the last layer's
/// features, and the teacher's layer `k` when it lies below (`None`: the teacher reads the last).
fn forward(spec: &Spec, seed: u64, n_test: usize, weights: &[Layer], backend: &dyn Backend) -> Result<(Mat<f32>, Option<Mat<f32>>), TrialError> {
    let mut inputs = draws::stacked_inputs(seed, (Stream::TrainInputs, spec.samples), (Stream::TestInputs, n_test), spec.dim, spec.source);
    if !spec.spectrum.is_identity() {
        // x = Sigma_0^{1/2} g with Sigma_0 diagonal.
        for (j, l) in spec.spectrum.eigenvalues(spec.dim).iter().enumerate() {
            let scale = l.sqrt() as f32;
            inputs.col_mut(j).iter_mut().for_each(|x| *x *= scale);
        }
    }
    // The teacher reads layer k (0: the inputs): the forward pass stops there once.
    let k = spec.teacher_depth();
    if k == spec.depth() {
        return Ok((backend.features(inputs, weights, spec.activation).map_err(TrialError::Backend)?, None));
    }
    let below = if k == 0 { inputs } else { backend.features(inputs, &weights[..k], spec.activation).map_err(TrialError::Backend)? };
    let features = backend.features(below.clone(), &weights[k..], spec.activation).map_err(TrialError::Backend)?;
    Ok((features, Some(below)))
}

/// `f*(x) = phi_k(x)^T a*` on `rows` of the teacher's layer, accumulated in f64.
fn teacher_outputs(teacher: &[f64], layer: &Mat<f32>, rows: std::ops::Range<usize>) -> Vec<f64> {
    let mut out = vec![0.0f64; rows.len()];
    for (j, &t) in teacher.iter().enumerate() {
        let column = &layer.col_as_slice(j)[rows.clone()];
        out.iter_mut().zip(column).for_each(|(o, &f)| *o += f as f64 * t);
    }
    out
}

/// A classification trial (`training.task = classification`): a fresh draw of the hidden
/// weights (paired across laws as in regression), then
/// - on a data set: a class-balanced random training subsample of `samples` rows and the
///   first `n_test` rows of the fixed test split;
/// - on a law of inputs: the trial's regression inputs, teacher and noise, with the two
///   classes `f*(x) + noise > 0` (class 1) and `<= 0` (class 0).
///
/// One-hot targets, one last-layer output per class (`ridge_columns`), prediction by argmax.
/// `excess_risk` holds the test one-hot squared error (summed over classes, averaged over
/// inputs) and `test_error` the test misclassification rate, `1 - accuracy`.
fn classification_trial(spec: &Spec, law: WeightLaw, seed: u64, n_test: usize, backend: &dyn Backend, kernel: KernelChoice, start: Instant) -> Result<TrialOutcome, TrialError> {
    let n = spec.samples;
    let layers = hidden_layers(spec, law, seed, kernel)?;
    let (features, labels, k) = if spec.source.is_real() {
        let (inputs, labels, k) = data_set_rows(spec, seed, n_test)?;
        (backend.features(inputs, &layers, spec.activation).map_err(TrialError::Backend)?, labels, k)
    } else {
        let (features, teacher_features) = forward(spec, seed, n_test, &layers, backend)?;
        let teacher = draws::teacher(seed, spec.teacher_width(), spec.prior, spec.norm2);
        let f = teacher_outputs(&teacher, teacher_features.as_ref().unwrap_or(&features), 0..n + n_test);
        let noise = [draws::noise(seed, Stream::TrainNoise, n, spec.noise_std), draws::noise(seed, Stream::TestNoise, n_test, spec.noise_std)].concat();
        (features, f.iter().zip(&noise).map(|(f, e)| usize::from(f + e > 0.0)).collect(), 2)
    };
    let p = spec.last_width();
    let phi = Mat::<f64>::from_fn(n, p, |i, j| features[(i, j)] as f64);
    let one_hot = Mat::<f64>::from_fn(n, k, |i, c| if labels[i] == c { 1.0 } else { 0.0 });
    let (a, train_residual) = crate::train::ridge_columns(&phi, &one_hot, spec.ridge)?;
    let test_phi = Mat::<f64>::from_fn(n_test, p, |i, j| features[(n + i, j)] as f64);
    let scores = &test_phi * &a;
    let (mut wrong, mut squared) = (0usize, 0.0f64);
    for (i, &truth) in labels[n..].iter().enumerate() {
        let best = (0..k).max_by(|&x, &y| scores[(i, x)].total_cmp(&scores[(i, y)])).expect("K >= 2");
        wrong += usize::from(best != truth);
        squared += (0..k).map(|c| (scores[(i, c)] - if c == truth { 1.0 } else { 0.0 }).powi(2)).sum::<f64>();
    }
    Ok(TrialOutcome {
        excess_risk: squared / n_test as f64,
        test_error: wrong as f64 / n_test as f64,
        train_residual,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The inputs of a data-set trial (the class-balanced training subsample of trial `seed`, then
/// the first `n_test` test rows), the labels of those rows, and the number of classes.
fn data_set_rows(spec: &Spec, seed: u64, n_test: usize) -> Result<(Mat<f32>, Vec<usize>, usize), TrialError> {
    use crate::data::{dataset, DataError, FASHION_MNIST_DIR};
    use rand::seq::SliceRandom;
    let data = dataset(spec.source, spec.data_path.as_deref(), &spec.data_layout)?;
    let at = spec.data_path.clone().unwrap_or_else(|| FASHION_MNIST_DIR.into());
    let mismatch = |reason: String| TrialError::Data(DataError::Mismatch { path: at.clone(), reason });
    if data.dim() != spec.dim {
        return Err(mismatch(format!("data.dim = {} but the data set has {} features per row", spec.dim, data.dim())));
    }
    if n_test > data.test.nrows() {
        return Err(mismatch(format!("--n-test {n_test} is more than the {} rows of the test split", data.test.nrows())));
    }
    let (n, k) = (spec.samples, data.classes);
    // Class-balanced: n / K per class, the first n % K classes one more.
    let mut rng = draws::rng(seed, Stream::TrainInputs);
    let mut rows = Vec::with_capacity(n);
    for class in 0..k {
        let mut members: Vec<usize> = (0..data.train_labels.len()).filter(|&i| data.train_labels[i] == class).collect();
        let want = n / k + usize::from(class < n % k);
        if members.len() < want {
            return Err(mismatch(format!("training.samples = {n} asks {want} rows of class {:?}, the training pool has {}", data.class_names[class], members.len())));
        }
        members.shuffle(&mut rng);
        rows.extend_from_slice(&members[..want]);
    }
    let inputs = Mat::<f32>::from_fn(n + n_test, spec.dim, |i, j| if i < n { data.train[(rows[i], j)] } else { data.test[(i - n, j)] });
    let labels = rows.iter().map(|&r| data.train_labels[r]).chain(data.test_labels[..n_test].iter().copied()).collect();
    Ok((inputs, labels, k))
}
