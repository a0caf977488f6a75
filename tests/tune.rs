//! `rfrisk tune` against a closed form: for a last-layer teacher with a Gaussian prior and
//! `a_0 = 0`, ridge regression at `lambda = sigma^2 d_L / (n r^2)` is the posterior mean of
//! `a*` given the data (prior `N(0, r^2/d_L I)`, noise `N(0, sigma^2)`), so it minimises the
//! test error among all estimators, whatever the feature covariance: the tuned ridge must be
//! that value. Derived in equations/teacher.md §7.

mod common;
use common::{relative, spec};
use std::process::Command;

#[test]
fn the_tuned_ridge_is_the_bayes_optimal_one() {
    let mut worst = 0.0f64;
    for assignments in [
        &["data.dim=1000", "features.widths=[2000]", "training.samples=500", "teacher.noise_std=0.5"][..],
        &["data.dim=1000", "features.widths=[2000]", "training.samples=3000", "teacher.noise_std=0.3", "teacher.norm2=2"],
        &["data.dim=800", "features.widths=[1000,1500,1200]", "features.activation=erf", "features.weights=onebit", "training.samples=1000", "teacher.noise_std=1"],
        &["data.dim=800", "features.widths=[1000,1000]", "features.activation=sign", "training.samples=400", "teacher.noise_std=0.2", "data.spectrum=power:0.5"],
    ] {
        let s = spec(assignments);
        let tuned = rfrisk::tune::tune_ridge(&s, 1e-6, 1e3).unwrap();
        let bayes = s.noise_std.powi(2) * s.last_width() as f64 / (s.samples as f64 * s.norm2);
        let gap = relative(tuned.ridge, bayes);
        eprintln!("{s}: tuned {} Bayes {bayes} rel {gap:.1e}; test error {} (ridgeless {:?})", tuned.ridge, tuned.test_error, tuned.test_error_without_ridge);
        assert!(gap < 1e-4, "{s}: tuned {} vs {bayes}", tuned.ridge);
        assert_eq!(tuned.at_edge, None);
        assert!(tuned.test_error <= tuned.test_error_without_ridge.unwrap());
        worst = worst.max(gap);
    }
    // Brent's last digits move with rounding: recorded as a bound.
    assert!(worst < 1e-6);
    common::record("tune-bayes", "below 1e-6");
}

fn rfrisk(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args).output().unwrap()
}

#[test]
fn tune_says_when_the_minimum_is_at_an_end_and_refuses_what_it_cannot_tune() {
    let out = rfrisk(&["tune", "examples/tanh-depth2.toml", "--param", "training.ridge", "--set", "teacher.noise_std=0.5", "--range", "1e-6:0.01"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(text.contains("ridge     0.01 minimises") && text.contains("at the upper end of the range 1e-6:0.01"), "{text}");
    // Noise-free: the interpolator (ridge 0) is best, which a range from 0 finds.
    let out = rfrisk(&["tune", "examples/tanh-depth2.toml", "--param", "training.ridge", "--range", "0:1", "--set", "teacher.noise_std=0"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ridge     0 minimises") && text.contains("lower end"), "{text}");
    for (args, needle) in [
        (&["--param", "training.init"][..], "--param training.init: tune tunes training.ridge only"),
        (&["--param", "training.ridge", "--range", "1:0.5"], "--range 1:0.5: expected a:b with 0 <= a < b"),
        (&["--param", "training.ridge", "--range", "abc"], "--range abc"),
        (&["--param", "training.ridge", "--set", "training.mirror=entropic", "--set", "training.init=0.02"], "tune needs the squared map"),
    ] {
        let mut all = vec!["tune", "examples/tanh-depth2.toml"];
        all.extend_from_slice(args);
        let out = rfrisk(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty() && stderr.contains(needle), "{args:?}: {stderr}");
    }
}
