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

pub fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
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
