//! The p-norm theory (equations/pnorm.md) against the real finite-size model: tanh random
//! features with Gaussian and one-bit weights, the last layer trained to the exact
//! minimum-Bregman-divergence interpolator (`validation::train::pnorm`), dense and sparse teachers.

mod common;
use common::spec;
use rfrisk::predict::predict;
use rfrisk::simulate::{summarize, Run, Theory};
use rfrisk::spec::WeightLaw;

/// Every law within [`common::band`] standard errors of the theory; returns the z values.
fn z_values(name: &str, assignments: &[&str], count: usize, seed: u64) -> Vec<f64> {
    let spec = spec(assignments);
    let theory = predict(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
    let laws = vec![WeightLaw::Gaussian, WeightLaw::Onebit];
    let run = Run { spec: &spec, laws, trials: count, n_test: 2000, seed, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    let summary = summarize(&spec, &run.execute(None, false, &|_, _| {}).unwrap());
    let Theory::Prediction { excess_risk, .. } = summary.theory else { panic!("{name}: no theory") };
    summary
        .laws
        .iter()
        .map(|(law, s)| {
            let e = s.excess_risk.unwrap_or_else(|| panic!("{name} {law}: no trial"));
            let z = (e.mean - excess_risk) / e.stderr;
            eprintln!("{name:40} {law:8} theory {excess_risk:.5} sim {:.5} ± {:.5} z {z:+.2}", e.mean, e.stderr);
            assert!(z.abs() < common::band(count), "{name} {law}: {z:.2} s.e. from theory {excess_risk} (eta = {})", theory.top.as_ref().unwrap().eta);
            assert_eq!(e.n, count, "{name} {law}");
            z
        })
        .collect()
}

/// The specs of the check: q in {1.25, 1.5, 3}, L = 1 and 2, dense and sparse:0.1
/// teachers, noise 0.1, d0 = 500, widths `width`, n = 2 width / 5.
fn specs(width: usize) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for q in ["1.25", "1.5", "3"] {
        for depth in [1, 2] {
            for prior in ["gaussian", "sparse:0.1"] {
                let widths = vec![width.to_string(); depth].join(", ");
                out.push((
                    format!("q = {q}, L = {depth}, {prior}"),
                    vec![
                        "data.dim=500".to_string(),
                        format!("features.widths=[{widths}]"),
                        format!("training.samples={}", 2 * width / 5),
                        format!("training.mirror=pnorm:{q}"),
                        format!("teacher.prior={prior}"),
                        "teacher.noise_std=0.1".into(),
                    ],
                ));
            }
        }
    }
    out
}

fn check(width: usize, count: usize, record: &str) {
    let mut all = Vec::new();
    for (k, (name, assignments)) in specs(width).iter().enumerate() {
        let assignments: Vec<&str> = assignments.iter().map(String::as_str).collect();
        all.extend(z_values(name, &assignments, count, 100 + k as u64));
    }
    let worst = all.iter().fold(0.0f64, |m, z| m.max(z.abs()));
    let within2 = all.iter().filter(|z| z.abs() < 2.0).count();
    common::record(record, &format!("{} points (12 specs x 2 laws, {count} trials, width {width}): worst |z| = {worst:.2}, {within2} within 2 s.e.", all.len()));
}

/// The default suite's size: width 400, 8 paired trials per spec.
#[test]
fn pnorm_simulation_matches_theory_at_ci_size() {
    check(400, 8, "pnorm-sim");
}

/// The size: width 1000, 32 paired trials per spec (about 3 minutes here; with 16 the
/// sparse teachers' skewed per-trial risks made one seed fall 3.9 s.e. low at q = 3, L = 2).
#[test]
#[ignore]
fn slow_pnorm_simulation_matches_theory_at_width_1000() {
    check(1000, 32, "slow-pnorm-sim");
}
