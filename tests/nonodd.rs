//! Non-odd activations (equations/nonodd.md) against two independent routes.
//!
//! 1. The realized per-unit Gaussian equivalence: from drawn weights, each unit's exact
//!    pre-activation variance `q_i = w_i^T Sigma~ w_i` and offset `b_i = w_i^T m`, its own
//!    coefficients and mean, the centred covariance `D1 W Sigma~ W^T D1 + D2^2` and the mean
//!    vector layer by layer; then the deterministic equivalent of the ridgeless interpolator on
//!    the *uncentred* second moment `Sigma~ + m m^T`, mean spike included. No quenched-law
//!    quadrature, no layer chain.
//! 2. The real nonlinear model (the simulator), both weight laws.

mod common;
use common::spec;
use rfrisk::det_equiv::deterministic_equivalent;
use rfrisk::realized::eigenvalues;
use rfrisk::spec::Spec;

fn specs() -> Vec<(&'static str, Spec)> {
    let base = |activation: &str, widths: &str| {
        spec(&["data.dim=1000", &format!("features.widths={widths}"), &format!("features.activation={activation}"), "training.samples=800", "teacher.noise_std=0.1"])
    };
    vec![
        ("relu L=1", base("relu", "[2000]")),
        ("relu L=2", base("relu", "[2000,2000]")),
        ("relu L=3", base("relu", "[2000,1500,2000]")),
        ("leaky-relu L=1", base("leaky-relu:0.1", "[2000]")),
        ("leaky-relu L=2", base("leaky-relu:0.1", "[2000,2000]")),
        ("leaky-relu L=3", base("leaky-relu:0.1", "[2000,2000,2000]")),
        ("sigmoid L=1", base("sigmoid", "[2000]")),
        ("sigmoid L=2", base("sigmoid", "[2000,2000]")),
        ("sigmoid L=3", base("sigmoid", "[1500,2000,2000]")),
        ("gelu L=3", base("gelu", "[2000,2000,2000]")),
    ]
}

fn both_routes(spec: &Spec, seed: u64) -> (f64, f64) {
    let theory = rfrisk::predict(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let eigs = eigenvalues(&common::realized_second_moment(spec, seed));
    let de = deterministic_equivalent(&eigs, spec.samples, spec.norm2, spec.noise_std.powi(2)).expect("full rank");
    (theory.excess_risk, de.excess_risk())
}

/// ReLU, leaky ReLU and sigmoid at L = 1, 2, 3 and GELU at L = 3: the mean over `draws` weight
/// draws of the realized route's signed relative gap is under 1%. A single draw's gap is not
/// the test: from L = 2 on it fluctuates like d^(-1/2) about zero (the empirical law of the
/// per-unit offsets is an average of d terms), with a standard deviation of 1.5e-2 for ReLU
/// L = 3 at d_L = 2000 (16 draws), while the mean stays within 1.3 s.e. of 0 at d_L = 1000,
/// 2000 and 4000 (equations/nonodd.md §9).
fn assert_realized_agrees(num: usize, den: usize, draws: usize, id: &str) {
    let mut worst = (0.0f64, 0.0f64, "");
    for (i, (name, s)) in specs().iter().enumerate() {
        let s = common::resized(s, num, den);
        let gaps: Vec<f64> = (0..draws)
            .map(|k| {
                let (theory, de) = both_routes(&s, 500 + (i * draws + k) as u64);
                de / theory - 1.0
            })
            .collect();
        let (mean, se) = common::mean_and_stderr(&gaps);
        eprintln!("{name:16} d_L {:>5} mean signed gap {mean:+.2e} ± {se:.1e} over {draws} draws", s.last_width());
        assert!(mean.abs() < 0.01, "{name}: the realized route is {mean:+e} ± {se:e} from the theory");
        if mean.abs() > worst.0.abs() {
            worst = (mean, se, name);
        }
    }
    common::record(id, &format!("worst mean {:+.1e} ± {:.0e} ({})", worst.0, worst.1, worst.2));
}

#[test]
fn theory_matches_the_realized_per_unit_equivalence_at_2000() {
    assert_realized_agrees(1, 1, 8, "nonodd-realized");
}

/// Every size doubled, d ~ 4000 (several minutes): `cargo test --release --test nonodd -- --ignored`.
#[test]
#[ignore]
fn theory_matches_the_realized_per_unit_equivalence_at_4000() {
    assert_realized_agrees(2, 1, 4, "slow-nonodd-realized");
}

/// Halving every size grows the gap: d ~ 500 vs ~ 1000, 4 draws each (the RMS over draws).
/// Sigmoid at L = 3 is left out: its gap is already below 1e-3 on average (16 draws: mean
/// -6e-4 ± 6e-4, -8e-4 ± 4e-4, -2e-4 ± 2e-4 at d_L = 1000, 2000, 4000), where 4 draws cannot
/// rank two sizes.
#[test]
fn the_realized_gap_shrinks_when_all_sizes_double() {
    let specs: Vec<(&str, Spec)> = specs().into_iter().filter(|(name, _)| *name != "sigmoid L=3").collect();
    common::record("nonodd-realized-doubling", &common::assert_gap_shrinks(&specs, &both_routes, 1, 4, 4, 2.0));
}

/// The real model against the theory, widths >= 1000, 16 paired trials per law: ReLU at
/// L = 1..5, leaky ReLU and sigmoid at L = 2, GELU at L = 3; noise 0 and 0.1; Gaussian and
/// one-bit weights; within the 3σ band (t).
#[test]
fn the_real_model_matches_the_mean_corrected_theory() {
    let trials = 16;
    let cases: [(&str, &str, usize, &str); 8] = [
        ("relu L=1", "relu", 1, "0.1"),
        ("relu L=2", "relu", 2, "0"),
        ("relu L=3", "relu", 3, "0.1"),
        ("relu L=4", "relu", 4, "0"),
        ("relu L=5", "relu", 5, "0.1"),
        ("leaky-relu L=2", "leaky-relu:0.1", 2, "0.1"),
        ("sigmoid L=2", "sigmoid", 2, "0"),
        ("gelu L=3", "gelu", 3, "0.1"),
    ];
    let mut records = Vec::new();
    for (i, (name, activation, depth, noise)) in cases.into_iter().enumerate() {
        let s = spec(&[
            "data.dim=800",
            "features.widths=[1000]",
            &format!("features.depth={depth}"),
            &format!("features.activation={activation}"),
            "training.samples=400",
            &format!("teacher.noise_std={noise}"),
        ]);
        let row = common::laws_against_theory(name, &s, trials, 2000, 700 + i as u64);
        records.push(format!("{name} ({row})"));
    }
    common::record("simulate-nonodd", &format!("z: {}; {trials} trials per law", records.join("; ")));
}

/// ReLU at L = 3, every size doubled twice from d0 = 100, widths 125, n = 50 (noise 0.1, 400,
/// 200 and 100 paired trials): the real model's excess over the theory, both laws averaged,
/// is resolved at the smallest size, shrinks beyond 2 s.e. at the first doubling, and is not
/// resolved at widths 500. The laws share their draws, so the average's standard error is
/// taken as the laws' mean standard error (as if fully correlated: conservative).
#[test]
fn the_simulation_gap_shrinks_when_every_size_doubles() {
    use rfrisk::simulate::{summarize, Run, Theory};
    use rfrisk::spec::WeightLaw;
    let mut gaps = Vec::new();
    for (k, trials) in [(1usize, 400usize), (2, 200), (4, 100)] {
        let s = spec(&[
            &format!("data.dim={}", 100 * k),
            &format!("features.widths=[{}]", 125 * k),
            "features.depth=3",
            "features.activation=relu",
            &format!("training.samples={}", 50 * k),
            "teacher.noise_std=0.1",
        ]);
        let run = Run { spec: &s, laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit], trials, n_test: 2000, seed: 77, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
        let summary = summarize(&s, &run.execute(None, false, &|_, _| {}).unwrap());
        let Theory::Prediction { excess_risk, .. } = summary.theory else { panic!("relu L=3: no theory") };
        let laws: Vec<(f64, f64)> = summary.laws.iter().map(|(_, l)| l.excess_risk.expect("feasible")).map(|e| (e.mean / excess_risk - 1.0, e.stderr / excess_risk)).collect();
        let gap = laws.iter().map(|l| l.0).sum::<f64>() / laws.len() as f64;
        let se = laws.iter().map(|l| l.1).sum::<f64>() / laws.len() as f64;
        eprintln!("relu L=3 widths {}: relative excess of the simulation {gap:+.2e} ± {se:.1e} ({trials} trials per law)", 125 * k);
        gaps.push((125 * k, gap, se));
    }
    let [(_, g1, s1), (_, g2, s2), (_, g4, s4)] = gaps[..] else { unreachable!() };
    assert!(g1 > 3.0 * s1, "no finite-size excess resolved at widths 125: {g1:e} ± {s1:e}");
    assert!(g1 - g2 > 2.0 * s1.hypot(s2), "the excess does not shrink at the first doubling: {g1:e} -> {g2:e}");
    assert!(g4.abs() < 3.0 * s4, "an excess is resolved at widths 500: {g4:e} ± {s4:e}");
    let parts: Vec<String> = gaps.iter().map(|(w, g, s)| format!("widths {w}: {:+.1}% ± {:.1}%", 100.0 * g, 100.0 * s)).collect();
    common::record("simulate-nonodd-doubling", &parts.join(", "));
}
