//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rfrisk::spec::{Spec, SpecDoc};

/// A spec from the defaults plus `key=value` assignments.
pub fn spec(assignments: &[&str]) -> Spec {
    let mut doc = SpecDoc::default();
    for a in assignments {
        doc.set(a).unwrap_or_else(|e| panic!("{a}: {e}"));
    }
    doc.to_spec().unwrap_or_else(|e| panic!("{assignments:?}: {e}"))
}

/// The same spec with every size multiplied by `num/den` (which must divide them).
pub fn resized(spec: &Spec, num: usize, den: usize) -> Spec {
    let scale = |d: usize| {
        assert_eq!(d * num % den, 0, "{d} * {num}/{den} is not an integer");
        d * num / den
    };
    Spec { dim: scale(spec.dim), widths: spec.widths.iter().map(|&w| scale(w)).collect(), samples: scale(spec.samples), ..spec.clone() }
}

/// A drawn network's realized per-unit Gaussian-equivalent layers: the weights, and the last
/// layer's centred covariance, mean, and each unit's offset `b = w^T m` and pre-activation variance.
pub struct RealizedLayers {
    pub weights: Vec<faer::Mat<f64>>,
    pub sigma: faer::Mat<f64>,
    pub mean: Vec<f64>,
    pub offsets: Vec<f64>,
    pub variances: Vec<f64>,
}

pub fn realized_layers(spec: &Spec, seed: u64) -> RealizedLayers {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
    let mut sigma = faer::Mat::<f64>::identity(spec.dim, spec.dim);
    let mut mean = vec![0.0; spec.dim];
    let (mut weights, mut offsets, mut variances) = (Vec::new(), Vec::new(), Vec::new());
    let mut prev = spec.dim;
    for &width in &spec.widths {
        let w = rfrisk::realized::weight_matrix(width, prev, spec.weights, &mut rng);
        let ws = &w * &sigma;
        let wsw = &ws * w.transpose();
        offsets = (0..width).map(|i| (0..prev).map(|j| w[(i, j)] * mean[j]).sum()).collect();
        variances = (0..width).map(|i| wsw[(i, i)]).collect();
        let units: Vec<_> = (0..width).map(|i| rfrisk::activation::unit_moments(spec.activation, offsets[i], variances[i])).collect();
        sigma = faer::Mat::from_fn(width, width, |i, j| {
            let cross = units[i].rho1 * units[j].rho1 * 0.5 * (wsw[(i, j)] + wsw[(j, i)]);
            if i == j { units[i].variance } else { cross }
        });
        mean = units.iter().map(|u| u.mean).collect();
        weights.push(w);
        prev = width;
    }
    RealizedLayers { weights, sigma, mean, offsets, variances }
}

impl RealizedLayers {
    /// The last layer's uncentred second moment, `sigma + mean mean^T`.
    pub fn second_moment(&self) -> faer::Mat<f64> {
        let p = self.mean.len();
        faer::Mat::from_fn(p, p, |i, j| self.sigma[(i, j)] + self.mean[i] * self.mean[j])
    }
}

/// The uncentred feature second moment of the last layer, from realized weights.
pub fn realized_second_moment(spec: &Spec, seed: u64) -> faer::Mat<f64> {
    realized_layers(spec, seed).second_moment()
}

/// The ridgeless deterministic equivalent on a last-layer second moment for `spec`'s teacher
/// and start: the energy of `a* - a_0` on eigenvector `k` is `Var a*_i + (E a*_i - a_0)^2 (1^T u_k)^2`.
pub fn ridgeless_risk_with_mean(second: &faer::Mat<f64>, spec: &Spec) -> f64 {
    let eigen = second.self_adjoint_eigen(faer::Side::Lower).expect("symmetric eigenproblem converges");
    let p = second.nrows();
    let lambdas: Vec<f64> = (0..p).map(|k| eigen.S()[k].max(0.0)).collect();
    let mean = spec.prior_mean_entry() - spec.init;
    let var = spec.norm2 / p as f64 - spec.prior_mean_entry().powi(2);
    let u = eigen.U();
    let weights: Vec<f64> = (0..p).map(|k| var + mean * mean * (0..p).map(|i| u[(i, k)]).sum::<f64>().powi(2)).collect();
    rfrisk::det_equiv::with_eigen_weights(&lambdas, &weights, spec.samples, 0.0, spec.noise_std.powi(2)).excess_risk()
}

/// The mean of `xs` and its standard error (sample standard deviation over sqrt n).
pub fn mean_and_stderr(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (mean, (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt())
}

pub fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// The log of the root-mean-square relative gap over `draws` independent weight draws,
/// with every size scaled by `num/den`, and its standard error (delta method on the
/// mean of the squared gaps). A single draw's gap fluctuates at the same O(1/d) order
/// as its mean, so one draw per size cannot show the trend.
fn log_rms_gap(spec: &Spec, routes: &dyn Fn(&Spec, u64) -> (f64, f64), num: usize, den: usize, draws: u64) -> (f64, f64) {
    let resized = resized(spec, num, den);
    let squares: Vec<f64> = (0..draws)
        .map(|seed| {
            let (theory, de) = routes(&resized, 1000 * num as u64 + seed);
            relative(de, theory).powi(2)
        })
        .collect();
    let m = draws as f64;
    let mean = squares.iter().sum::<f64>() / m;
    let sd = (squares.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
    (0.5 * mean.ln(), 0.5 * sd / (m.sqrt() * mean))
}

/// Doubling every size must shrink the gap: the log ratio of the RMS gaps, pooled over
/// the specs, must exceed `k` of its standard errors, and no spec's gap may grow by
/// more than 2 of its own. Returns the record: the pooled and per-spec ratios.
pub fn assert_gap_shrinks(specs: &[(&str, Spec)], routes: &dyn Fn(&Spec, u64) -> (f64, f64), num: usize, den: usize, draws: u64, k: f64) -> String {
    let mut ratios = Vec::new();
    let (mut sum, mut variance) = (0.0, 0.0);
    for (name, spec) in specs {
        let ((l1, e1), (l2, e2)) = (log_rms_gap(spec, routes, num, den, draws), log_rms_gap(spec, routes, 2 * num, den, draws));
        let (log_ratio, se) = (l1 - l2, e1.hypot(e2));
        eprintln!(
            "{name:32} rms rel.diff at d_L={:>5}: {:.2e}, at d_L={:>5}: {:.2e}, ratio {:.2} (log {log_ratio:.2} ± {se:.2})",
            spec.last_width() * num / den,
            l1.exp(),
            spec.last_width() * 2 * num / den,
            l2.exp(),
            log_ratio.exp()
        );
        assert!(log_ratio > -2.0 * se, "{name}: the gap grew when sizes doubled: log ratio {log_ratio:.2} ± {se:.2}");
        ratios.push(log_ratio.exp());
        sum += log_ratio;
        variance += se * se;
    }
    let s = specs.len() as f64;
    let (pooled, se) = (sum / s, variance.sqrt() / s);
    eprintln!("pooled log ratio {pooled:.3} ± {se:.3} (ratio {:.2}, {:.1} s.e. above 0)", pooled.exp(), pooled / se);
    assert!(pooled > k * se, "the gap did not shrink by {k} s.e. when sizes doubled: log ratio {pooled:.3} ± {se:.3}");
    let (lo, hi) = ratios.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    format!("pooled ratio {:.2} (its log {:.1} s.e. above 0); per spec {lo:.2} to {hi:.2}", pooled.exp(), pooled / se)
}

/// The real model (both weight laws, `trials` paired trials) against `rfrisk predict`: each
/// law's z within [`band`], every trial feasible. Returns the theory's excess risk and, per law,
/// `(law, z, standard error)`.
pub fn law_z_values(name: &str, spec: &Spec, trials: usize, n_test: usize, seed: u64) -> (f64, Vec<(String, f64, f64)>) {
    use rfrisk::simulate::{summarize, Run, Theory};
    use rfrisk::spec::WeightLaw;
    let run = Run { spec, laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit], trials, n_test, seed, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    let summary = summarize(spec, &run.execute(None, false, &|_, _| {}).unwrap());
    let Theory::Prediction { excess_risk, .. } = summary.theory else { panic!("{name}: no theory") };
    let mut out = Vec::new();
    for (law, law_summary) in &summary.laws {
        let e = law_summary.excess_risk.unwrap_or_else(|| panic!("{name} {law}: every trial infeasible"));
        let z = (e.mean - excess_risk) / e.stderr;
        eprintln!("{name} {law}: theory {excess_risk:.5}, simulation {:.5} ± {:.5}, z = {z:+.2}", e.mean, e.stderr);
        assert!(z.abs() < band(trials), "{name} {law}: {z:.2} standard errors from theory");
        assert_eq!((e.n, law_summary.infeasible), (trials, 0), "{name} {law}");
        out.push((law.clone(), z, e.stderr));
    }
    (excess_risk, out)
}

/// [`law_z_values`] as a record's part: `gaussian +0.99, onebit +1.08`.
pub fn laws_against_theory(name: &str, spec: &Spec, trials: usize, n_test: usize, seed: u64) -> String {
    let (_, laws) = law_z_values(name, spec, trials, n_test, seed);
    laws.iter().map(|(law, z, _)| format!("{law} {z:+.2}")).collect::<Vec<_>>().join(", ")
}

#[path = "record.rs"]
mod record_impl;
#[allow(unused_imports)]
pub use record_impl::{checks_dir, record};

/// How a check against the theory reads in the README: the z value, the trials behind
/// it and the width of its ±3 s.e. band relative to the theory.
pub fn z_record(z: f64, trials: usize, stderr: f64, theory: f64) -> String {
    format!("z = {z:+.2} ({trials} trials, 3 s.e. = {:.1}%)", 300.0 * stderr / theory.abs())
}

/// How many standard errors a mean of `trials` trials may sit from the theory: the
/// Student t quantile (trials − 1 degrees of freedom) at the two-sided 3σ level, 0.9973,
/// since the standard error is itself estimated from those trials (4.09 at 10 trials,
/// 3.21 at 32, 3.0 in the limit).
pub fn band(trials: usize) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, (trials - 1) as f64).unwrap().inverse_cdf(1.0 - 0.0027 / 2.0)
}
