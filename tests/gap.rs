//! `rfrisk gap`'s statistics against their own promises: under a true null the
//! test rejects at rate alpha; a real gap is detected; the planned trial count
//! gives the planned power. Tiny models, so hundreds of experiments fit in CI.

mod common;
use common::spec;
use rfrisk::gap::{paired_test, pairs, power_at, trials_needed};
use rfrisk::simulate::Run;
use rfrisk::spec::{Spec, WeightLaw};

fn tiny() -> Spec {
    spec(&["data.dim=40", "features.widths=[80]", "teacher.noise_std=0.2", "training.samples=30"])
}

/// Per-trial (a, b) excess risks of `trials` paired trials with run seed `seed`.
fn experiment(spec: &Spec, a: WeightLaw, b: WeightLaw, trials: usize, seed: u64) -> Vec<(f64, f64)> {
    let run = Run { spec, laws: vec![a, b], trials, n_test: 200, seed, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    pairs(&run.execute(None, false, &|_, _| {}).unwrap(), a, b, rfrisk::gap::Measure::ExcessRisk)
}

/// The counts within 3.5 standard deviations of `p total` for `total` Bernoulli(p) draws
/// (a correct test lands outside with probability 5e-4), as rates.
fn binomial_band(total: usize, p: f64) -> (f64, f64) {
    let sd = (p * (1.0 - p) / total as f64).sqrt();
    (p - 3.5 * sd, p + 3.5 * sd)
}

/// Gaussian vs one-bit weights, tanh: the theory says no gap. 3000 experiments of
/// 6 paired trials each; the paired t-test at alpha = 0.05 must reject at a rate in
/// 0.036–0.064 (the band of [`binomial_band`]).
#[test]
fn under_the_null_the_test_rejects_at_rate_alpha() {
    let s = tiny();
    let experiments = 3000;
    let rejections =
        (0..experiments).filter(|&k| paired_test(&experiment(&s, WeightLaw::Gaussian, WeightLaw::Onebit, 6, 1000 + k as u64), 0.05).p_value < 0.05).count();
    let (rate, (lo, hi)) = (rejections as f64 / experiments as f64, binomial_band(experiments, 0.05));
    eprintln!("null: {rejections} of {experiments} rejected at alpha = 0.05");
    assert!((lo..=hi).contains(&rate), "{rejections} of {experiments}: rate {rate:.4} outside {lo:.4}–{hi:.4}");
    common::record("gap-null", &format!("{rejections}/{experiments} = {rate:.3} rejected (accepted: {lo:.3}–{hi:.3})"));
}

/// Weights of variance 1.5^2/d instead of 1/d: a real gap, found with 10 trials.
#[test]
fn a_real_gap_is_detected() {
    let s = tiny();
    let gap = paired_test(&experiment(&s, WeightLaw::Gaussian, "gaussian:1.5".parse().unwrap(), 10, 7), 0.05);
    eprintln!("mismatched variance: gap {:+.3e}, p = {:.2e}", gap.mean, gap.p_value);
    assert!(gap.p_value < 1e-3 && gap.ci_low > 0.0, "{gap:?}");
    common::record("gap-detect", &format!("p = {:.1e}", gap.p_value));
}

/// Plan the trial count for the true gap of a mildly mismatched law (estimated
/// with 400 pilot trials), then run 2000 experiments of that size: the fraction
/// that rejects is the power achieved. It must match the power the model promises
/// at the planned (rounded-up) count, which is at least the 0.8 asked for.
#[test]
fn the_planned_trial_count_achieves_the_planned_power() {
    let s = tiny();
    let b: WeightLaw = "gaussian:1.01".parse().unwrap();
    let pilot = experiment(&s, WeightLaw::Gaussian, b, 400, 99);
    let stats = paired_test(&pilot, 0.05);
    let risk = pilot.iter().map(|p| p.0).sum::<f64>() / pilot.len() as f64;
    let n = trials_needed(stats.sd, risk * stats.relative, 0.05, 0.8);
    assert!((4..200).contains(&n), "planned {n} trials");
    let promised = power_at(n, stats.sd, stats.mean, 0.05);
    assert!(promised >= 0.8 && power_at(n - 1, stats.sd, stats.mean, 0.05) < 0.8 || n == 2, "n = {n} is not the smallest count");
    let experiments = 2000;
    let hits = (0..experiments).filter(|&k| paired_test(&experiment(&s, WeightLaw::Gaussian, b, n, 5000 + k as u64), 0.05).p_value < 0.05).count();
    eprintln!("planned {n} trials for a {:+.2}% gap, promised power {promised:.3}: achieved {hits}/{experiments}", 100.0 * stats.relative);
    let (rate, (lo, hi)) = (hits as f64 / experiments as f64, binomial_band(experiments, promised));
    assert!((lo..=hi).contains(&rate), "{hits} of {experiments} at n = {n}, promised {promised:.3}: {rate:.3} outside {lo:.3}–{hi:.3}");
    common::record("gap-power", &format!("{n} trials promise power {promised:.3}, achieved {hits}/{experiments} = {rate:.3} (accepted: {lo:.3}–{hi:.3})"));
}

/// The command: JSON with the promised keys; ReLU is inside the mean-corrected theory, with a
/// start of c != 0 too at one layer, and outside it with that start at two.
#[test]
fn gap_json_reports_the_checklist_and_the_test() {
    let dir = std::env::temp_dir().join(format!("rfrisk-gap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("spec.toml");
    std::fs::write(&path, "[data]\ndim = 40\n[features]\nwidths = [80]\n[training]\nsamples = 30\n").unwrap();
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["gap", path.to_str().unwrap(), "--trials", "5", "--n-test", "100", "--backend", "cpu", "--format", "json"];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let tanh = run(&[]);
    assert_eq!(tanh["in_theory"], true);
    for key in ["mean", "ci_low", "ci_high", "p_value", "trials_needed"] {
        assert!(tanh["gap"][key].is_number(), "gap.{key} missing: {tanh}");
    }
    assert!(tanh["gap"]["ci_low"].as_f64().unwrap() <= tanh["gap"]["mean"].as_f64().unwrap());
    // --scan: one point per value, and the slope fitted to the points' mean |gap|.
    let scan = run(&["--scan", "features.width", "--values", "60,80,120"]);
    let points: Vec<(f64, f64)> = scan["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["value"].as_str().unwrap().parse().unwrap(), p["mean_abs_gap"].as_f64().unwrap()))
        .collect();
    assert_eq!(points.iter().map(|p| p.0).collect::<Vec<_>>(), [60.0, 80.0, 120.0]);
    let fit = rfrisk::gap::log_log_slope(&points, 0.05).unwrap();
    assert_eq!(scan["slope"]["estimate"].as_f64().unwrap(), fit.estimate);
    assert_eq!(scan["slope"]["ci_low"].as_f64().unwrap(), fit.ci_low);
    let relu = run(&["--set", "features.activation=relu"]);
    assert_eq!(relu["in_theory"], true, "{relu}");
    let covered = relu["assumptions"].as_array().unwrap().iter().find(|a| a["name"] == "activation covered").unwrap();
    assert!(covered["detail"].as_str().unwrap().contains("mean-corrected theory applies"), "{covered}");
    assert!(relu["theory_excess_risk"].as_f64().is_some(), "{relu}");
    // A start is inside the theory (at one layer the mean spike absorbs it; from two on the coupling is carried); with a ridge it is not.
    let relu = run(&["--set", "features.activation=relu", "--set", "training.init=0.01"]);
    assert_eq!(relu["in_theory"], true, "{relu}");
    let covered = relu["assumptions"].as_array().unwrap().iter().find(|a| a["name"] == "activation covered").unwrap();
    assert!(covered["detail"].as_str().unwrap().contains("mean spike's constraint"), "{covered}");
    let relu = run(&["--set", "features.activation=relu", "--set", "training.init=0.01", "--set", "features.widths=[80, 80]"]);
    assert_eq!(relu["in_theory"], true, "{relu}");
    let relu = run(&["--set", "features.activation=relu", "--set", "training.init=0.01", "--set", "features.widths=[80, 80]", "--set", "training.ridge=0.1"]);
    assert_eq!(relu["in_theory"], false);
    // Present and null: indexing a missing key would also give null.
    assert!(relu.as_object().unwrap().get("theory_excess_risk").is_some_and(serde_json::Value::is_null), "{relu}");
}

/// `--scan`'s log–log slope: exact on a noiseless power law, and on a noisy one
/// (log-normal scatter, 6 points) its 95% interval covers the true exponent at a rate
/// within the binomial band of 0.95 over 2000 synthetic scans.
#[test]
fn the_scan_slope_and_its_interval_recover_a_power_law() {
    use rand::{Rng, SeedableRng};
    use rfrisk::gap::log_log_slope;
    let widths = [128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0];
    let exact: Vec<(f64, f64)> = widths.iter().map(|&w: &f64| (w, 3.0 * w.powf(-0.5))).collect();
    let fit = log_log_slope(&exact, 0.05).unwrap();
    assert!((fit.estimate + 0.5).abs() < 1e-12 && fit.ci_high - fit.ci_low < 1e-10, "{fit:?}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let scans = 2000;
    let covered = (0..scans)
        .filter(|_| {
            let noisy: Vec<(f64, f64)> =
                widths.iter().map(|&w: &f64| (w, 3.0 * w.powf(-0.5) * (0.2 * rng.sample::<f64, _>(rand_distr::StandardNormal)).exp())).collect();
            let fit = log_log_slope(&noisy, 0.05).unwrap();
            fit.ci_low <= -0.5 && -0.5 <= fit.ci_high
        })
        .count();
    let (rate, (lo, hi)) = (covered as f64 / scans as f64, binomial_band(scans, 0.95));
    assert!((lo..=hi).contains(&rate), "coverage {rate:.3} outside {lo:.3}–{hi:.3}");
    assert!(log_log_slope(&exact[..2], 0.05).is_none(), "two points give no interval");
    common::record("gap-scan", &format!("slope exact to 1e-12; 95% interval covers {covered}/{scans} = {rate:.3} (accepted: {lo:.3}–{hi:.3})"));
}

/// A signed number in the README's style: `+4.3e-4`.
fn signed(v: f64) -> String {
    let s = format!("{v:.1e}");
    if v >= 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// One row of the README's gap table: Gaussian vs `law` at d0 = 500, width 1000,
/// n = 400, noise 0.2, `trials` paired trials.
fn gap_row(activation: &str, depth: usize, law: &str, label: &str, trials: usize) -> String {
    let assignments = ["data.dim=500".to_owned(), "features.width=1000".into(), format!("features.depth={depth}"), format!("features.activation={activation}"), "teacher.noise_std=0.2".into(), "training.samples=400".into()];
    let s = spec(&assignments.iter().map(String::as_str).collect::<Vec<_>>());
    let laws = [WeightLaw::Gaussian, law.parse().unwrap()];
    let run = Run { spec: &s, laws: laws.to_vec(), trials, n_test: 2000, seed: 0, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    let rows = run.execute(None, false, &|_, _| {}).unwrap();
    let r = rfrisk::gap::report(&s, &laws, &rows, 0.01, 0.05, 0.8).unwrap();
    let g = &r.gap;
    let theory = if r.in_theory { "yes" } else { "no (not odd)" };
    format!(
        "| {activation}, {depth} | {label} | {theory} | {} [{}, {}] | {:+.2}% | {:.2} | {} |",
        signed(g.mean),
        signed(g.ci_low),
        signed(g.ci_high),
        100.0 * g.relative,
        g.p_value,
        g.trials_needed
    )
}

/// `gaussian` vs `gaussian:1.3` (the README's example of a real gap): found with 10 trials.
#[test]
fn the_readme_example_gap_of_gaussian_1_3_is_found() {
    let s = spec(&["data.dim=500", "features.widths=[1000]", "teacher.noise_std=0.2", "training.samples=400"]);
    let laws = [WeightLaw::Gaussian, "gaussian:1.3".parse().unwrap()];
    let run = Run { spec: &s, laws: laws.to_vec(), trials: 10, n_test: 2000, seed: 0, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    let r = rfrisk::gap::report(&s, &laws, &run.execute(None, false, &|_, _| {}).unwrap(), 0.01, 0.05, 0.8).unwrap();
    assert!(!r.in_theory, "gaussian:1.3 breaks the unit variance");
    assert!(r.gap.p_value < 0.05 && r.gap.ci_low > 0.0, "{:?}", r.gap);
    common::record("gap-example", &format!("`gaussian` vs `gaussian:1.3` gives {:+.2}%, p = {:.1e}, with 10 trials", 100.0 * r.gap.relative, r.gap.p_value));
}

/// The README's gap table (20 paired trials per row; about 3 minutes):
/// `cargo test --release --test gap -- --ignored --nocapture`.
#[test]
#[ignore]
fn the_readme_gap_table() {
    let rows = [
        ("tanh", 1, "onebit", "onebit"),
        ("tanh", 2, "onebit", "onebit"),
        ("tanh", 3, "onebit", "onebit"),
        ("erf", 1, "onebit", "onebit"),
        ("erf", 2, "onebit", "onebit"),
        ("erf", 3, "onebit", "onebit"),
        ("relu", 1, "onebit", "onebit"),
        ("relu", 2, "onebit", "onebit"),
        ("relu", 3, "onebit", "onebit"),
        ("tanh", 2, "ternary", "ternary (P(0) = 1/3)"),
        ("tanh", 2, "kbit:2", "kbit:2"),
    ];
    for (k, (activation, depth, law, label)) in rows.iter().enumerate() {
        let row = gap_row(activation, *depth, law, label, 20);
        eprintln!("{row}");
        common::record(&format!("slow-gap-table-{k}"), &row);
    }
}
