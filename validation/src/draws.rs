//! Every random draw of a trial, from one trial seed.
//!
//! Each kind of draw has its own ChaCha8 stream, so that a trial's data,
//! teacher and noise do not depend on the weight law: Gaussian and one-bit runs
//! with the same seed see the same inputs and teacher, and one-bit weights are the
//! signs of the very Gaussian matrix the Gaussian run uses (`onebit = sign(G)/sqrt(d)`).
//! This pairs the two laws, which makes their difference far less noisy.

use crate::model::{Prior, WeightLaw};
use faer::{Mat, MatRef};
use rayon::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

#[derive(Clone, Copy, Debug)]
pub enum Stream {
    TrainInputs,
    TestInputs,
    Teacher,
    TrainNoise,
    TestNoise,
    /// Hidden layer `l` (1-based).
    Layer(usize),
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::TrainInputs => 1,
            Stream::TestInputs => 2,
            Stream::Teacher => 3,
            Stream::TrainNoise => 4,
            Stream::TestNoise => 5,
            Stream::Layer(l) => 100 + l as u64,
        }
    }
}

/// The generator of one stream of one trial.
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    column_rng(seed, stream, 0)
}

/// Column `j` of a matrix-valued stream has a generator of its own, so that
/// columns are drawn in parallel and the result does not depend on the thread count.
fn column_rng(seed: u64, stream: Stream, column: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((stream.id() << 32) | column as u64);
    rng
}

/// Fills a column-major `rows x cols` matrix, column `j` from `fill(column rng, column)`.
fn by_columns(rows: usize, cols: usize, fill: impl Fn(&mut ChaCha8Rng, &mut [f32]) + Sync, seed: u64, stream: Stream) -> Mat<f32> {
    let mut data = vec![0.0f32; rows * cols];
    data.par_chunks_mut(rows.max(1)).enumerate().for_each(|(j, col)| fill(&mut column_rng(seed, stream, j), col));
    MatRef::from_column_major_slice(&data, rows, cols).to_owned()
}

/// `n_first + n_second` rows of standard Gaussian inputs, `dim` columns: the first
/// rows from stream `first`, the others from `second` (training and test inputs
/// share one matrix, so the forward pass is one GEMM per layer).
pub fn stacked_inputs(seed: u64, first: (Stream, usize), second: (Stream, usize), dim: usize) -> Mat<f32> {
    let ((s1, n1), (s2, n2)) = (first, second);
    let mut data = vec![0.0f32; (n1 + n2) * dim];
    data.par_chunks_mut((n1 + n2).max(1)).enumerate().for_each(|(j, col)| {
        let (a, b) = col.split_at_mut(n1);
        let mut r1 = column_rng(seed, s1, j);
        a.iter_mut().for_each(|x| *x = r1.sample(StandardNormal));
        let mut r2 = column_rng(seed, s2, j);
        b.iter_mut().for_each(|x| *x = r2.sample(StandardNormal));
    });
    MatRef::from_column_major_slice(&data, n1 + n2, dim).to_owned()
}

/// Hidden layer `l`'s weights, `width x fan_in`: `law.value(G)/sqrt(fan_in)` for
/// the same Gaussian `G` whatever the law, so that laws are compared on paired draws.
pub fn layer_weights(seed: u64, layer: usize, width: usize, fan_in: usize, law: WeightLaw) -> Mat<f32> {
    let scale = 1.0 / (fan_in as f64).sqrt();
    let fill = |rng: &mut ChaCha8Rng, col: &mut [f32]| {
        for x in col {
            let g: f32 = rng.sample(StandardNormal);
            *x = (law.value(g as f64) * scale) as f32;
        }
    };
    by_columns(width, fan_in, fill, seed, Stream::Layer(layer))
}

/// The teacher `a*`: i.i.d. entries with `E a_i^2 = norm2 / p`.
pub fn teacher(seed: u64, p: usize, prior: Prior, norm2: f64) -> Vec<f64> {
    let mut rng = rng(seed, Stream::Teacher);
    let scale = (norm2 / p as f64).sqrt();
    (0..p)
        .map(|_| {
            let g: f64 = rng.sample(StandardNormal);
            scale
                * match prior {
                    Prior::Gaussian => g,
                    Prior::HalfNormal => g.abs(),
                }
        })
        .collect()
}

/// `count` i.i.d. `N(0, std^2)` label-noise draws.
pub fn noise(seed: u64, stream: Stream, count: usize, std: f64) -> Vec<f64> {
    let mut rng = rng(seed, stream);
    (0..count).map(|_| std * rng.sample::<f64, _>(StandardNormal)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every law is a function of the same Gaussian draw: the one-bit weights are the
    /// signs of the Gaussian layer's entries, times 1/sqrt(fan_in) exactly; the sparse
    /// laws zero the entries of smallest |G| and keep the signs of the others.
    #[test]
    fn every_law_is_a_function_of_the_same_gaussian_draw() {
        let (width, fan_in) = (70, 90);
        let gaussian = layer_weights(5, 2, width, fan_in, WeightLaw::Gaussian);
        let onebit = layer_weights(5, 2, width, fan_in, WeightLaw::Onebit);
        let unit = (1.0 / (fan_in as f64).sqrt()) as f32;
        for j in 0..fan_in {
            for i in 0..width {
                assert_eq!(onebit[(i, j)], unit.copysign(gaussian[(i, j)]), "({i}, {j})");
            }
        }
        for law in [WeightLaw::Ternary { zero_prob: 0.4 }, WeightLaw::SparseSign { density: 0.2 }, WeightLaw::Kbit { bits: 2 }] {
            let w = layer_weights(5, 2, width, fan_in, law);
            let entries = (0..fan_in).flat_map(|j| (0..width).map(move |i| (i, j)));
            let (mut largest_zero, mut smallest_kept) = (0.0f32, f32::INFINITY);
            for (i, j) in entries {
                let (g, v) = (gaussian[(i, j)], w[(i, j)]);
                if v == 0.0 {
                    largest_zero = largest_zero.max(g.abs());
                } else {
                    assert_eq!(v.signum(), g.signum(), "{law}: ({i}, {j})");
                    smallest_kept = smallest_kept.min(g.abs());
                }
            }
            assert!(largest_zero < smallest_kept, "{law}: zeros are not the smallest |G|");
            // kbit: the levels are monotone in G.
            if let WeightLaw::Kbit { .. } = law {
                let mut pairs: Vec<(f32, f32)> = (0..fan_in).flat_map(|j| (0..width).map(move |i| (i, j))).map(|(i, j)| (gaussian[(i, j)], w[(i, j)])).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                assert!(pairs.windows(2).all(|p| p[0].1 <= p[1].1), "kbit levels not monotone in G");
            }
        }
        assert_ne!(layer_weights(5, 1, width, fan_in, WeightLaw::Gaussian), gaussian, "layers get their own streams");
    }
}
