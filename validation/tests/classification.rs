//! Classification (`training.task = classification`): a tiny synthetic data set in
//! Fashion-MNIST's IDX layout end to end, the real Fashion-MNIST where the Debian package
//! `dataset-fashion-mnist` is installed (`.ci/run` installs it; elsewhere that check says it
//! skipped), and the two teacher-sign classes on Gaussian inputs against their own regression.

use std::path::{Path, PathBuf};
use validation::model::{Activation, InputSource, Mirror, Prior, Spec, Spectrum, Task, WeightLaw};
use validation::{run_trial, Cpu, KernelChoice, Trainer};

#[path = "../../tests/common/record.rs"]
mod record;

fn spec(widths: Vec<usize>, samples: usize, data_path: Option<PathBuf>) -> Spec {
    Spec {
        dim: 784,
        spectrum: Spectrum::Identity,
        source: InputSource::FashionMnist,
        data_path,
        data_layout: Default::default(),
        task: Task::Classification,
        widths,
        activation: Activation::Relu,
        weights: WeightLaw::Gaussian,
        prior: Prior::Gaussian,
        teacher_depth: None,
        norm2: 1.0,
        noise_std: 0.0,
        samples,
        mirror: Mirror::Squared,
        init: 0.0,
        ridge: 0.0,
    }
}

fn idx(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| out.extend_from_slice(&d.to_be_bytes()));
    out.extend_from_slice(values);
    out
}

/// 10 classes of 28 x 28 images: class c lights up its own band of rows, plus noise.
fn write_tiny_set(dir: &Path, train_per_class: usize, test_per_class: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut state = 12345u64;
    let mut noise = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 58) as u8
    };
    let mut images = |count: usize| -> (Vec<u8>, Vec<u8>) {
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for i in 0..count * 10 {
            let class = i % 10;
            labels.push(class as u8);
            for p in 0..784 {
                let band = (p / 28) / 3 == class;
                pixels.push(if band { 160 + noise() } else { noise() });
            }
        }
        (pixels, labels)
    };
    let (train, train_labels) = images(train_per_class);
    let (test, test_labels) = images(test_per_class);
    let n = |c: usize| (c * 10) as u32;
    std::fs::write(dir.join("train-images-idx3-ubyte"), idx(&[n(train_per_class), 28, 28], &train)).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx(&[n(train_per_class)], &train_labels)).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), idx(&[n(test_per_class), 28, 28], &test)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx(&[n(test_per_class)], &test_labels)).unwrap();
}

/// End to end on the tiny set: both laws classify the separable bands (error below 5%), a
/// trial repeats bit for bit, and a pool too small for the asked samples is an error naming
/// the directory.
#[test]
fn a_tiny_labelled_set_is_classified_end_to_end() {
    let dir = std::env::temp_dir().join(format!("rfrisk-tiny-set-{}", std::process::id()));
    write_tiny_set(&dir, 30, 20);
    let s = spec(vec![600], 200, Some(dir.clone()));
    for law in [WeightLaw::Gaussian, WeightLaw::Onebit] {
        let run = || run_trial(&s, law, 3, 200, Trainer::Direct, &Cpu, KernelChoice::Auto).unwrap();
        let (a, b) = (run(), run());
        assert_eq!((a.excess_risk, a.test_error), (b.excess_risk, b.test_error), "{law:?}: not reproducible");
        assert!(a.test_error < 0.05 && a.train_residual < 1e-8, "{law:?}: test error {} (residual {:e})", a.test_error, a.train_residual);
    }
    let too_many = spec(vec![600], 400, Some(dir.clone()));
    let err = run_trial(&too_many, WeightLaw::Gaussian, 3, 200, Trainer::Direct, &Cpu, KernelChoice::Auto).unwrap_err().to_string();
    assert!(err.contains(dir.to_str().unwrap()) && err.contains("asks 40 rows of class \"0\", the training pool has 30"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Fashion-MNIST, ReLU, L = 1, width 4096, 200 training images per class, the 10,000 test
/// images: accuracy in the range a kernel method reaches on this data (0.75 to 0.84), for 2
/// paired trials per law.
#[test]
fn fashion_mnist_accuracy_is_in_the_kernel_range() {
    let dir = Path::new(validation::data::FASHION_MNIST_DIR);
    if !dir.join("train-images-idx3-ubyte.gz").exists() {
        eprintln!("SKIPPED: {} is not installed (apt-get install dataset-fashion-mnist)", dir.display());
        return;
    }
    let s = spec(vec![4096], 2000, None);
    let mut parts = Vec::new();
    for law in [WeightLaw::Gaussian, WeightLaw::Onebit] {
        let accuracies: Vec<f64> = (0..2).map(|t| 1.0 - run_trial(&s, law, 10 + t, 10_000, Trainer::Direct, &Cpu, KernelChoice::Auto).unwrap().test_error).collect();
        for a in &accuracies {
            assert!((0.75..=0.84).contains(a), "{law:?}: accuracy {a}");
        }
        parts.push(format!("{law:?} {:.3}, {:.3}", accuracies[0], accuracies[1]).to_lowercase());
    }
    record::record("fashion-mnist-accuracy", &parts.join("; "));
}

/// Least squares on rank-deficient features (a dead unit: a zero column) without a ridge: the
/// minimum-norm fit, which gives the dead unit no weight and fits the others as if it were absent.
#[test]
fn rank_deficient_least_squares_is_the_minimum_norm_fit() {
    use faer::Mat;
    let (n, p) = (30, 6);
    let value = |i: usize, j: usize| (((i * 7 + j * 13) % 11) as f64 - 5.0) / 3.0 + (i as f64 * 0.37 + j as f64).sin();
    let phi = Mat::<f64>::from_fn(n, p, |i, j| if j == 2 { 0.0 } else { value(i, j) });
    let labels = Mat::<f64>::from_fn(n, 2, |i, c| value(i, 9 + c));
    let (a, _) = validation::train::ridge_columns(&phi, &labels, 0.0).unwrap();
    let reduced = Mat::<f64>::from_fn(n, p - 1, |i, j| phi[(i, if j < 2 { j } else { j + 1 })]);
    let (b, _) = validation::train::ridge_columns(&reduced, &labels, 0.0).unwrap();
    for c in 0..2 {
        assert!(a[(2, c)].abs() < 1e-12, "the dead unit has weight {}", a[(2, c)]);
        for j in 0..p - 1 {
            let k = if j < 2 { j } else { j + 1 };
            assert!((a[(k, c)] - b[(j, c)]).abs() < 1e-9 * b[(j, c)].abs().max(1.0), "column {c}, weight {k}: {} vs {}", a[(k, c)], b[(j, c)]);
        }
    }
}

/// On Gaussian inputs the classes are the signs of the teacher's labels. With two classes the
/// argmax of the one-hot fit is the sign of the minimum-norm regression on the labels `+-1`
/// (the difference of the two one-hot columns), so the classifier's accuracy must equal that
/// regression's sign agreement, built here from the public draws and trainer. Both laws, and
/// well above chance: the teacher is in the features.
#[test]
fn two_class_accuracy_is_the_sign_agreement_of_its_own_regression() {
    use faer::Mat;
    use validation::draws::{self, Stream};
    use validation::Backend;
    let s = Spec {
        dim: 100,
        source: InputSource::Gaussian,
        data_path: None,
        activation: Activation::Tanh,
        noise_std: 0.1,
        ..spec(vec![300], 150, None)
    };
    let n_test = 1000;
    let mut parts = Vec::new();
    for law in [WeightLaw::Gaussian, WeightLaw::Onebit] {
        let seed = 7;
        let classified = run_trial(&s, law, seed, n_test, Trainer::Direct, &Cpu, KernelChoice::Dense).unwrap();
        // The regression, from the same draws.
        let layer = KernelChoice::Dense.layer(draws::layer_weights(seed, 1, 300, 100, law), false).unwrap();
        let inputs = draws::stacked_inputs(seed, (Stream::TrainInputs, 150), (Stream::TestInputs, n_test), 100, InputSource::Gaussian);
        let features = Cpu.features(inputs, &[layer], Activation::Tanh).unwrap();
        let teacher = draws::teacher(seed, 300, Prior::Gaussian, 1.0);
        let noise = [draws::noise(seed, Stream::TrainNoise, 150, 0.1), draws::noise(seed, Stream::TestNoise, n_test, 0.1)].concat();
        let sign: Vec<f64> = (0..150 + n_test)
            .map(|i| (0..300).map(|j| features[(i, j)] as f64 * teacher[j]).sum::<f64>() + noise[i])
            .map(|y| if y > 0.0 { 1.0 } else { -1.0 })
            .collect();
        let phi = Mat::<f64>::from_fn(150, 300, |i, j| features[(i, j)] as f64);
        let (a, _) = validation::train::min_distance(&phi, &sign[..150], 0.0).unwrap();
        let agree = (0..n_test)
            .filter(|&i| {
                let score: f64 = (0..300).map(|j| features[(150 + i, j)] as f64 * a[j]).sum();
                (score > 0.0) == (sign[150 + i] > 0.0)
            })
            .count() as f64
            / n_test as f64;
        let accuracy = 1.0 - classified.test_error;
        assert!((accuracy - agree).abs() <= 2.0 / n_test as f64, "{law:?}: accuracy {accuracy}, sign agreement {agree}");
        assert!(accuracy > 0.65, "{law:?}: accuracy {accuracy} is near chance");
        parts.push(format!("{law:?} {accuracy:.3} = {agree:.3}").to_lowercase());
    }
    record::record("sign-agreement", &parts.join("; "));
}
