//! Monte Carlo of the GEP Gaussian model (equations/model.md §4.2): features drawn from
//! `N(0, Sigma_L)` with a realized `Sigma_L`, the minimum-distance interpolator
//! computed exactly, and its excess risk `(a_hat - a*)^T Sigma_L (a_hat - a*)`
//! averaged over data, teacher and noise draws. The mean must sit within 3
//! standard errors (the t quantile of `common::band`) of the asymptotic prediction. The spec uses a half-normal
//! teacher and a non-zero start, so it also checks that the squared map's risk
//! depends on them only through `E||a* - a_0||^2` (equations/squared.md §2).

mod common;
use common::spec;
use faer::prelude::*;
use faer::{Mat, Side};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rfrisk::realized::realized_covariance;
use rfrisk::spec::{Prior, Spec};
use rfrisk::{gep::layer_coefficients, predict};

/// Excess risks of `trials` independent data sets on one realized covariance.
fn monte_carlo(spec: &Spec, trials: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gep = layer_coefficients(spec.activation, spec.depth());
    let sigma = realized_covariance(spec.dim, &spec.widths, &gep, spec.weights, &mut rng);
    let root = sigma.llt(Side::Lower).expect("Sigma_L is positive definite");
    let (n, p) = (spec.samples, spec.last_width());
    let entry_scale = (spec.norm2 / p as f64).sqrt();
    (0..trials)
        .map(|_| {
            let z = Mat::<f64>::from_fn(n, p, |_, _| rng.sample(StandardNormal));
            let phi = &z * root.L().transpose(); // rows ~ N(0, Sigma_L)
            let teacher = Mat::<f64>::from_fn(p, 1, |_, _| {
                let g: f64 = rng.sample(StandardNormal);
                entry_scale * if spec.prior == Prior::HalfNormal { g.abs() } else { g }
            });
            let noise = Mat::<f64>::from_fn(n, 1, |_, _| spec.noise_std * rng.sample::<f64, _>(StandardNormal));
            let start = Mat::<f64>::from_fn(p, 1, |_, _| spec.init);
            // a_hat = a_0 + Phi^T (Phi Phi^T)^{-1} (y - Phi a_0), y = Phi a* + noise.
            let residual = &phi * (&teacher - &start) + &noise;
            let gram = &phi * phi.transpose();
            let dual = gram.llt(Side::Lower).expect("n < p Gaussian rows are independent").solve(&residual);
            let error = &start + phi.transpose() * &dual - &teacher;
            (error.transpose() * &sigma * &error)[(0, 0)]
        })
        .collect()
}

fn mean_and_stderr(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn check(id: &str, name: &str, spec: &Spec, trials: usize, seed: u64) {
    let theory = predict(spec).unwrap().excess_risk;
    let (mean, se) = mean_and_stderr(&monte_carlo(spec, trials, seed));
    let z = (mean - theory) / se;
    eprintln!("{name}: theory {theory:.5}, Monte Carlo {mean:.5} ± {se:.5} ({trials} trials), z = {z:.2}");
    assert!(z.abs() < common::band(trials), "{name}: Monte Carlo {mean} ± {se} is {z:.2} standard errors from theory {theory}");
    common::record(id, &common::z_record(z, trials, se, theory));
}

#[test]
fn gaussian_model_agrees_with_theory_half_normal_teacher_from_nonzero_start() {
    let spec = spec(&[
        "data.dim=300",
        "features.widths=[500,600]",
        "teacher.prior=half-normal",
        "teacher.noise_std=0.3",
        "training.init=0.02",
        "training.samples=300",
    ]);
    // The start moves the risk a lot: E||a* - a_0||^2 = 1 - 2 c E|g| sqrt(p) + c^2 p = 0.458, not 1.
    let p = 600.0f64;
    let expected = 1.0 - 2.0 * 0.02 * (2.0 / std::f64::consts::PI).sqrt() * p.sqrt() + 0.02f64.powi(2) * p;
    assert!((spec.effective_norm2() - expected).abs() < 1e-12, "{} vs {expected}", spec.effective_norm2());
    check("gep-mc-half-normal", "tanh L=2 half-normal, a0 = 0.02", &spec, 600, 7);
}

#[test]
fn gaussian_model_agrees_with_theory_onebit_weights_deep_erf() {
    let spec = spec(&[
        "data.dim=400",
        "features.widths=[500]",
        "features.depth=3",
        "features.activation=erf",
        "features.weights=onebit",
        "teacher.noise_std=0.5",
        "training.samples=350",
    ]);
    check("gep-mc-onebit", "erf L=3 onebit", &spec, 600, 11);
}
