//! Every kernel this CPU runs against the f32 dense product on the same signs.

use super::{Kernel, PackedLayer};
use crate::model::Activation;
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn signs(rows: usize, cols: usize, seed: u64) -> Mat<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scale = 1.0 / (cols as f32).sqrt();
    Mat::from_fn(rows, cols, |_, _| if rng.random::<bool>() { scale } else { -scale })
}

fn inputs(batch: usize, cols: usize, seed: u64) -> Mat<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Mat::from_fn(batch, cols, |_, _| rng.random_range(-2.0f32..2.0))
}

/// `activation(x W^T)` by faer's f32 GEMM.
fn dense(w: &Mat<f32>, x: &Mat<f32>, activation: Activation) -> Mat<f32> {
    let z = x * w.transpose();
    Mat::from_fn(z.nrows(), z.ncols(), |i, j| activation.eval_f32(z[(i, j)]))
}

/// Relative Frobenius difference, in f64.
fn relative(a: &Mat<f32>, b: &Mat<f32>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            diff += (a[(i, j)] as f64 - b[(i, j)] as f64).powi(2);
            norm += (b[(i, j)] as f64).powi(2);
        }
    }
    (diff / norm).sqrt()
}

const ACTIVATIONS: [Activation; 9] = [
    Activation::Tanh,
    Activation::Erf,
    Activation::Identity,
    Activation::Sign,
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.1 },
    Activation::Gelu,
    Activation::Softplus,
    Activation::Sigmoid,
];

/// Sizes that are not multiples of 3, 4, 8, 16 or 64, batch 1 (the row-split path), small
/// batches (a partial tile) and 200 (the tiled path); every activation; relative Frobenius
/// difference at most 1e-5.
#[test]
fn every_kernel_matches_the_dense_product_on_the_same_signs() {
    let mut worst = 0.0f64;
    for kernel in Kernel::available() {
        for (case, &(rows, cols)) in [(1, 1), (7, 5), (33, 65), (129, 100), (515, 1027)].iter().enumerate() {
            let w = signs(rows, cols, case as u64);
            let packed = PackedLayer::pack(w.as_ref(), kernel);
            assert_eq!(packed.to_dense(), w, "{kernel}: packing round trip");
            for (k, batch) in [1usize, 5, 13, 200].into_iter().enumerate() {
                let activation = ACTIVATIONS[(case * 4 + k) % ACTIVATIONS.len()];
                let x = inputs(batch, cols, 100 + k as u64);
                let got = packed.forward(x.as_ref(), activation);
                let rel = relative(&got, &dense(&w, &x, activation));
                assert!(rel <= 1e-5, "{kernel} {rows}x{cols} batch {batch} {activation:?}: relative difference {rel:e}");
                worst = worst.max(rel);
            }
        }
    }
    let kernels: Vec<String> = Kernel::available().iter().map(|k| k.to_string()).collect();
    crate::record::record("packed-kernels", &format!("{worst:.0e} worst, kernels {}", kernels.join(", ")));
}

#[test]
fn every_activation_through_every_kernel() {
    for kernel in Kernel::available() {
        let w = signs(300, 301, 7);
        let packed = PackedLayer::pack(w.as_ref(), kernel);
        for activation in ACTIVATIONS {
            for batch in [1, 40] {
                let x = inputs(batch, 301, 9);
                let rel = relative(&packed.forward(x.as_ref(), activation), &dense(&w, &x, activation));
                assert!(rel <= 1e-5, "{kernel} {activation:?} batch {batch}: {rel:e}");
            }
        }
    }
}

#[test]
fn packed_weights_take_a_thirty_second_of_the_f32_bytes() {
    for kernel in Kernel::available() {
        for d in [256, 1024, 4096] {
            let packed = PackedLayer::pack(signs(d, d, 1).as_ref(), kernel);
            let ratio = packed.bytes() as f64 / (4 * d * d) as f64;
            assert!(ratio <= 1.0 / 31.0, "{kernel} d {d}: {ratio}");
        }
    }
}

#[test]
fn a_kernel_is_forced_by_name_and_refused_when_unknown() {
    assert_eq!("portable".parse::<Kernel>(), Ok(Kernel::Portable));
    assert!("avx1024".parse::<Kernel>().unwrap_err().contains("avx512, avx2 or portable"));
    assert_eq!(Kernel::Portable.checked(), Ok(Kernel::Portable));
}

/// Inputs in any layout: a row-major view gives what the column-major matrix gives.
#[test]
fn a_row_major_input_gives_the_same_product() {
    for kernel in Kernel::available() {
        let packed = PackedLayer::pack(signs(70, 45, 3).as_ref(), kernel);
        let x = inputs(40, 45, 4);
        let row_major = x.transpose().to_owned();
        assert_eq!(packed.forward(row_major.transpose(), Activation::Tanh), packed.forward(x.as_ref(), Activation::Tanh), "{kernel}");
    }
}
