//! Every random draw of a trial, from one trial seed.
//!
//! Each kind of draw has its own ChaCha8 stream, so that a trial's data,
//! teacher and noise do not depend on the weight law: Gaussian and one-bit runs
//! with the same seed see the same inputs and teacher, and one-bit weights are the
//! signs of the very Gaussian matrix the Gaussian run uses (`onebit = sign(G)/sqrt(d)`).
//! This pairs the two laws, which makes their difference far less noisy.

use crate::model::{InputSource, Prior, WeightLaw};
use crate::packed::ColumnSigns;
use faer::Mat;
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
    /// The per-input scales of elliptical-t inputs (`data.source`).
    TrainInputScales,
    TestInputScales,
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
            Stream::TrainInputScales => 6,
            Stream::TestInputScales => 7,
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
    fill_columns(rows, cols, |j, col| fill(&mut column_rng(seed, stream, j), col))
}

/// A `rows x cols` matrix, column `j` written by `fill(j, column)`, columns in parallel, in
/// place (a buffer copied into a `Mat` would write every entry twice).
fn fill_columns(rows: usize, cols: usize, fill: impl Fn(usize, &mut [f32]) + Sync) -> Mat<f32> {
    let mut m = Mat::<f32>::zeros(rows, cols);
    m.par_col_chunks_mut(1).enumerate().for_each(|(j, mut col)| {
        fill(j, col.as_mut().col_mut(0).try_as_col_major_mut().expect("owned columns are contiguous").as_slice_mut());
    });
    m
}

/// `n_first + n_second` rows of inputs of unit-variance coordinates from `source`, `dim`
/// columns: the first rows from stream `first`, the others from `second` (training and test
/// inputs share one matrix, so the forward pass is one GEMM per layer). Gaussian inputs are
/// drawn as they always were, so earlier runs reproduce bit for bit.
pub fn stacked_inputs(seed: u64, first: (Stream, usize), second: (Stream, usize), dim: usize, source: InputSource) -> Mat<f32> {
    let ((s1, n1), (s2, n2)) = (first, second);
    let student = match source {
        InputSource::StudentT { nu } => Some((rand_distr::StudentT::new(nu).expect("NU > 2 (checked by the spec)"), ((nu - 2.0) / nu).sqrt())),
        _ => None,
    };
    let coordinate = |rng: &mut ChaCha8Rng| -> f32 {
        match (source, &student) {
            (InputSource::StudentT { .. }, Some((t, scale))) => (rng.sample(t) * scale) as f32,
            (InputSource::Rademacher, _) => {
                if rng.random::<bool>() {
                    1.0
                } else {
                    -1.0
                }
            }
            _ => rng.sample(StandardNormal),
        }
    };
    let mut inputs = fill_columns(n1 + n2, dim, |j, col| {
        let (a, b) = col.split_at_mut(n1);
        let mut r1 = column_rng(seed, s1, j);
        a.iter_mut().for_each(|x| *x = coordinate(&mut r1));
        let mut r2 = column_rng(seed, s2, j);
        b.iter_mut().for_each(|x| *x = coordinate(&mut r2));
    });
    if let InputSource::EllipticalT { nu } = source {
        // x = g sqrt((nu - 2) / chi2_nu), one chi2 per input: a multivariate t of unit variance.
        let chi2 = rand_distr::ChiSquared::new(nu).expect("NU > 2 (checked by the spec)");
        let scales = |stream: Stream, n: usize| -> Vec<f32> {
            let mut r = rng(seed, stream);
            (0..n).map(|_| ((nu - 2.0) / r.sample(chi2)).sqrt() as f32).collect()
        };
        let all: Vec<f32> = scales(Stream::TrainInputScales, n1).into_iter().chain(scales(Stream::TestInputScales, n2)).collect();
        inputs.par_col_chunks_mut(1).for_each(|mut col| {
            for (i, s) in all.iter().enumerate() {
                col[(i, 0)] *= s;
            }
        });
    }
    inputs
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

/// The signs of hidden layer `l`'s one-bit weights, `width x fan_in`, without the f32
/// matrix: each column's generator is consumed exactly as [`layer_weights`] consumes it and
/// each sign is `WeightLaw::Onebit` of the same f32 draw, so these are the signs of that
/// matrix bit for bit (the laws stay paired and earlier seeds reproduce). The f32 matrix is
/// 32 times the bytes, written once and read once by the packer: most of the cost of a
/// one-bit layer's draw was there.
pub fn layer_signs(seed: u64, layer: usize, width: usize, fan_in: usize) -> ColumnSigns {
    let mut signs = ColumnSigns::new(width, fan_in, (1.0 / (fan_in as f64).sqrt()) as f32);
    let words = signs.words_per_column();
    signs.words.par_chunks_mut(words.max(1)).enumerate().for_each(|(j, column)| {
        let mut rng = column_rng(seed, Stream::Layer(layer), j);
        for (w, start) in column.iter_mut().zip((0..width).step_by(64)) {
            // Branch-free: a sign is a coin flip, which a branch mispredicts half the time.
            for i in 0..64.min(width - start) {
                let g: f32 = rng.sample(StandardNormal);
                *w |= u64::from(WeightLaw::Onebit.value(g as f64) > 0.0) << i;
            }
        }
    });
    signs
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
                    // Non-zero with probability eps, then of variance 1/eps: E entry^2 = 1.
                    Prior::Sparse { eps } => {
                        let keep = rng.random::<f64>() < eps;
                        if keep {
                            g / eps.sqrt()
                        } else {
                            0.0
                        }
                    }
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

    /// Moments of every input source over 4000 inputs x 200 coordinates: mean 0 and variance 1
    /// per coordinate (to 4 s.e. of the pooled estimate), the fourth moment of a unit-variance
    /// t_10 (3 (nu - 2)/(nu - 4) = 4) and of +-1 (1), and the spread of |x|^2/d0 across inputs:
    /// about 2/d0 for i.i.d. coordinates, 2/(nu - 4) = 1/3 for an elliptical t_10.
    #[test]
    fn every_input_source_has_its_moments() {
        let (n, d) = (4000, 200);
        let cases = [
            (InputSource::Gaussian, 3.0, 0.01),
            (InputSource::StudentT { nu: 10.0 }, 4.0, 0.01),
            (InputSource::Rademacher, 1.0, 0.0),
            (InputSource::EllipticalT { nu: 10.0 }, f64::NAN, 1.0 / 3.0),
        ];
        let mut measured = Vec::new();
        for (source, fourth, norm_var) in cases {
            let x = stacked_inputs(9, (Stream::TrainInputs, n / 2), (Stream::TestInputs, n / 2), d, source);
            let all: Vec<f64> = (0..d).flat_map(|j| (0..n).map(move |i| (i, j))).map(|(i, j)| x[(i, j)] as f64).collect();
            let m = all.len() as f64;
            let mean = all.iter().sum::<f64>() / m;
            let var = all.iter().map(|v| v * v).sum::<f64>() / m;
            let kurt = all.iter().map(|v| v.powi(4)).sum::<f64>() / m;
            assert!(mean.abs() < 4.0 / m.sqrt(), "{source}: mean {mean}");
            // The variance's s.e. is sqrt((E x^4 - 1)/m); a generous 6 for the t laws' tails.
            assert!((var - 1.0).abs() < 6.0 * (kurt.max(1.0) / m).sqrt(), "{source}: variance {var}");
            if fourth.is_finite() {
                assert!((kurt - fourth).abs() < 0.1 * fourth, "{source}: fourth moment {kurt}");
            }
            let norms: Vec<f64> = (0..n).map(|i| (0..d).map(|j| (x[(i, j)] as f64).powi(2)).sum::<f64>() / d as f64).collect();
            let nm = norms.iter().sum::<f64>() / n as f64;
            let nv = norms.iter().map(|v| (v - nm).powi(2)).sum::<f64>() / n as f64;
            let expected = if norm_var > 0.05 { norm_var } else { (fourth - 1.0) / d as f64 };
            assert!((nv - expected).abs() < 0.25 * expected.max(1e-12) + 1e-12, "{source}: Var |x|^2/d0 = {nv}, expected {expected}");
            measured.push(format!("{source}: var {var:.3}, E x^4 {kurt:.2}, Var |x|^2/d0 {nv:.3}"));
        }
        crate::record::record("input-sources", &measured.join("; "));
    }

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

    /// The signs drawn straight into bits are the signs of the one-bit f32 draw, entry for
    /// entry: widths that are not multiples of 64, and enough entries (600,000) that the
    /// ziggurat's slow paths (about 1 draw in 100) run thousands of times.
    #[test]
    fn signs_drawn_as_bits_are_the_signs_of_the_one_bit_draw() {
        for (layer, width, fan_in) in [(1, 1, 3), (2, 63, 70), (3, 130, 1), (1, 2049, 300)] {
            let dense = layer_weights(11, layer, width, fan_in, WeightLaw::Onebit);
            let signs = layer_signs(11, layer, width, fan_in);
            assert_eq!((signs.rows(), signs.cols()), (width, fan_in));
            assert_eq!(signs.scale(), dense[(0, 0)].abs(), "{width} x {fan_in}: scale");
            for j in 0..fan_in {
                for i in 0..width {
                    assert_eq!(signs.get(i, j), dense[(i, j)] > 0.0, "{width} x {fan_in}: ({i}, {j})");
                }
            }
        }
    }
}
