//! Every random draw of a trial, from one trial seed.
//!
//! Each kind of draw has its own ChaCha8 stream, so that a trial's data,
//! teacher and noise do not depend on the weight law: Gaussian and one-bit runs
//! with the same seed see the same inputs and teacher, and one-bit weights are the
//! signs of the very Gaussian matrix the Gaussian run uses (`onebit = sign(G)/sqrt(d)`).
//! This pairs the two laws, which makes their difference far less noisy.

use crate::model::{Prior, WeightLaw};
use faer::Mat;
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

/// The generator of one stream of one trial.
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(match stream {
        Stream::TrainInputs => 1,
        Stream::TestInputs => 2,
        Stream::Teacher => 3,
        Stream::TrainNoise => 4,
        Stream::TestNoise => 5,
        Stream::Layer(l) => 100 + l as u64,
    });
    rng
}

/// `rows x cols` standard Gaussian inputs in f32.
pub fn gaussian_matrix(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Mat<f32> {
    Mat::from_fn(rows, cols, |_, _| rng.sample::<f32, _>(StandardNormal))
}

/// Hidden layer `l`'s weights, `width x fan_in`, variance `1/fan_in`.
pub fn layer_weights(seed: u64, layer: usize, width: usize, fan_in: usize, law: WeightLaw) -> Mat<f32> {
    let mut rng = rng(seed, Stream::Layer(layer));
    let scale = 1.0 / (fan_in as f32).sqrt();
    Mat::from_fn(width, fan_in, |_, _| {
        let g: f32 = rng.sample(StandardNormal);
        match law {
            WeightLaw::Gaussian => scale * g,
            WeightLaw::Onebit => {
                if g >= 0.0 {
                    scale
                } else {
                    -scale
                }
            }
        }
    })
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
