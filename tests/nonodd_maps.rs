//! Non-odd activations with every mirror map, and with a teacher or a start with a mean along
//! 1 (equations/nonodd.md §5–6): the per-unit top system (N4a)–(N4e) against the squared map's
//! deterministic-equivalent chain and a closed form, the two feasibility routes against each
//! other, and the real model (Gaussian and one-bit weights) against all of it.

mod common;
use common::{relative, spec};
use rfrisk::entropic::{TopError, Teacher};
use rfrisk::mirror::Squared;
use rfrisk::nonodd_top::{self, MeanTop};
use rfrisk::predict::{mixed_layers, predict, PredictError};
use rfrisk::simulate::{Run, TrialRow};
use rfrisk::spec::{Prior, Spec, WeightLaw};
use rfrisk::squared::{Input, Ratio};

/// The top problem of `spec` as `predict` builds it.
fn top_problem<'a>(spec: &Spec, input: &'a Input, layers: &'a [rfrisk::nonodd::MixedLayer]) -> MeanTop<'a> {
    MeanTop {
        input,
        layers,
        ratio: Ratio::of_counts(spec.samples, spec.last_width()),
        teacher: Teacher { prior: spec.prior, r: spec.norm2.sqrt() },
        start: spec.init * (spec.last_width() as f64).sqrt(),
        noise_var: spec.noise_std * spec.noise_std,
        coupling: 1.0,
    }
}

/// For the squared map, (N4a)–(N4e) are derived by the CGMT per unit; §4's chain is the
/// variance-profile deterministic equivalent. With a centred teacher from a zero start both
/// apply, and they give the same risk (nonodd.md §5, "Reductions").
#[test]
fn the_per_unit_cgmt_reproduces_the_deterministic_equivalent_chain() {
    let mut worst: f64 = 0.0;
    for activation in ["relu", "leaky-relu:0.1", "sigmoid", "gelu", "softplus"] {
        for (depth, noise) in [(2, "0.1"), (3, "0"), (3, "0.3")] {
            let s = spec(&[
                "data.dim=400",
                "features.widths=[1000]",
                &format!("features.depth={depth}"),
                &format!("features.activation={activation}"),
                "training.samples=300",
                &format!("teacher.noise_std={noise}"),
            ]);
            let chain = predict(&s).unwrap().excess_risk;
            let (layers, _, _) = mixed_layers(&s);
            let input = Input::Isotropic;
            let per_unit = nonodd_top::solve(&Squared, &top_problem(&s, &input, &layers)).unwrap().excess_risk;
            let gap = relative(per_unit, chain);
            eprintln!("{activation} L={depth} noise {noise}: chain {chain:.12}, per-unit CGMT {per_unit:.12}, rel. diff {gap:.1e}");
            assert!(gap < 1e-9, "{activation} L={depth}: {per_unit} vs {chain}");
            worst = worst.max(gap);
        }
    }
    common::record("nonodd-cgmt-chain", &format!("worst relative difference {worst:.0e} (15 specs)"));
}

/// At L = 1 the squared map absorbs the whole mean part of `a* - a_0` (nonodd.md §5): the risk
/// of a half-normal teacher from any start is that of a Gaussian teacher of variance
/// `norm2 (1 - 2/pi)` from zero, and a Gaussian teacher's start costs nothing.
#[test]
fn at_one_layer_the_squared_map_absorbs_the_mean_part() {
    let base = ["data.dim=400", "features.widths=[1000]", "features.activation=relu", "training.samples=300", "teacher.noise_std=0.1"];
    let with = |extra: &[&str]| predict(&spec(&[&base[..], extra].concat())).unwrap().excess_risk;
    let variance = format!("teacher.norm2={}", 1.0 - 2.0 / std::f64::consts::PI);
    let centred = with(&[&variance]);
    let mut worst: f64 = 0.0;
    for init in ["0", "0.01", "0.05", "-0.03"] {
        let start = format!("training.init={init}");
        let half_normal = with(&["teacher.prior=half-normal", &start]);
        let gaussian = with(&[&start]);
        worst = worst.max(relative(half_normal, centred)).max(relative(gaussian, with(&[])));
    }
    eprintln!("worst relative difference {worst:.1e}");
    assert!(worst < 1e-10, "{worst}");
    common::record("nonodd-absorbed-mean", &format!("worst relative difference {worst:.0e}"));
}

/// At L = 1 every unit shares one mean, so the start lies along the mean spike, and the tilt that
/// keeps the mass takes any start to the same effective one (nonodd.md §5): the top system's risk
/// does not depend on the start, for every map. Solved directly (predict answers a start at L = 1
/// with the zero start's system), with starts far above and below the teacher's scale, where the
/// tilt nearly cancels the start, and with no teacher at all.
#[test]
fn at_one_layer_the_top_system_forgets_the_start() {
    use rfrisk::mirror::{Entropic, MirrorMap, PNorm};
    let input = Input::Isotropic;
    let mut worst: f64 = 0.0;
    let cases: [(&str, &dyn MirrorMap, &[f64]); 4] = [
        ("squared", &Squared, &[-300.0, -1.0, 0.5, 300.0]),
        ("pnorm:1.5", &PNorm { q: 1.5 }, &[-300.0, -1.0, 0.5, 300.0]),
        ("pnorm:3", &PNorm { q: 3.0 }, &[-300.0, -1.0, 0.5, 300.0]),
        ("entropic", &Entropic, &[1e-3, 0.3, 30.0]),
    ];
    for (name, map, starts) in cases {
        for (prior, norm2, noise) in [("half-normal", "1", "0.1"), ("half-normal", "1", "0"), ("gaussian", "0", "0.1")] {
            if name == "entropic" && prior == "gaussian" {
                continue; // no positive interpolator for a signed (or absent) teacher under the spike
            }
            let s = spec(&[
                "data.dim=400",
                "features.widths=[1000]",
                "features.activation=relu",
                "training.samples=300",
                &format!("training.mirror={name}"),
                &format!("teacher.prior={prior}"),
                &format!("teacher.norm2={norm2}"),
                &format!("teacher.noise_std={noise}"),
            ]);
            let (layers, _, _) = mixed_layers(&s);
            let risk = |start: f64| nonodd_top::solve(map, &MeanTop { start, ..top_problem(&s, &input, &layers) }).map(|sol| sol.excess_risk);
            let reference = risk(if name == "entropic" { 1.0 } else { 0.0 }).unwrap();
            for &c in starts {
                let got = risk(c).unwrap_or_else(|e| panic!("{name}, {prior} r^2 = {norm2}, noise {noise}, start {c}: {e}"));
                let gap = (got - reference).abs() / reference.max(1e-300);
                eprintln!("{name} {prior} r^2={norm2} noise {noise}: start {c:+e}: {got:.12e} vs {reference:.12e} ({gap:.1e})");
                assert!(gap < 1e-9, "{name}, {prior}, noise {noise}, start {c}: {got} vs {reference}");
                worst = worst.max(gap);
            }
        }
    }
    common::record("nonodd-start-forgotten", &format!("worst relative difference {worst:.0e} (4 maps, starts from 1e-3 to 300 times the teacher's scale)"));
}

/// Scaling the teacher, the noise and the start by `l` scales the squared and p-norm maps' risks
/// by `l^2` (pnorm.md §2: `s` scales by `l`, `eta` by `l^(2-q)`, the tilt by `l^(q-1)`): the top
/// system at teacher scales from 1e-6 to 1e4 against the one at 1, at L = 1 and 2.
#[test]
fn the_mean_corrected_risk_scales_with_the_teacher() {
    let mut worst: f64 = 0.0;
    for mirror in ["squared", "pnorm:2.5", "pnorm:1.5"] {
        for widths in ["[1000]", "[1000,1000]"] {
            let at = |l: f64| {
                let s = spec(&[
                    "data.dim=400",
                    &format!("features.widths={widths}"),
                    "features.activation=relu",
                    "training.samples=300",
                    &format!("training.mirror={mirror}"),
                    "teacher.prior=half-normal",
                    &format!("teacher.norm2={:e}", l * l),
                    &format!("teacher.noise_std={:e}", 0.1 * l),
                    &format!("training.init={:e}", 0.02 * l),
                ]);
                predict(&s).unwrap_or_else(|e| panic!("{mirror} {widths} at scale {l:e}: {e}")).excess_risk
            };
            let unit = at(1.0);
            for l in [1e-6, 1e-3, 1e2, 1e4] {
                let gap = relative(at(l) / (l * l), unit);
                eprintln!("{mirror} widths {widths}: scale {l:e}: risk / l^2 off by {gap:.1e}");
                assert!(gap < 1e-8, "{mirror} {widths} at scale {l:e}: {gap}");
                worst = worst.max(gap);
            }
        }
    }
    common::record("nonodd-scale", &format!("worst relative difference {worst:.0e} (teacher scales 1e-6 to 1e4, L = 1, 2)"));
}

/// The feasibility boundary (N5) at one law (sup of Lambda_m, a root in delta) and the projection
/// system (N4a)–(N4e) solved by Newton in (delta, u, X, Y, lambda) are two routes to one number.
#[test]
fn the_two_feasibility_routes_agree_at_one_layer() {
    let mut worst: f64 = 0.0;
    for (activation, noise) in [("relu", "0.1"), ("relu", "0.5"), ("sigmoid", "0.05"), ("gelu", "0.3")] {
        let s = spec(&[
            "data.dim=400",
            "features.widths=[1000]",
            &format!("features.activation={activation}"),
            "training.samples=300",
            "training.mirror=entropic",
            "teacher.prior=half-normal",
            &format!("teacher.noise_std={noise}"),
        ]);
        let (layers, _, _) = mixed_layers(&s);
        let input = Input::Isotropic;
        let p = top_problem(&s, &input, &layers);
        let (a, b) = (nonodd_top::boundary(&p, false).unwrap(), nonodd_top::boundary(&p, true).unwrap());
        eprintln!("{activation} noise {noise}: (N5) {a:.15}, projection system {b:.15}");
        assert!(relative(a, b) < 1e-10, "{a} vs {b}");
        worst = worst.max(relative(a, b));
    }
    common::record("nonodd-boundary-routes", &format!("worst relative difference {worst:.0e}"));
}

/// Specs the top system is not derived for are refused, naming why; a signed teacher has no
/// positive interpolator under the spike (one law, every unit's mean positive).
#[test]
fn unsupported_and_infeasible_specs_are_refused() {
    let entropic_signed = spec(&["features.widths=[1000]", "features.activation=relu", "training.mirror=entropic", "training.samples=200"]);
    assert!(matches!(predict(&entropic_signed), Err(PredictError::Top(TopError::NoMass))));
    // From L = 2 on a ReLU's units still all have positive means; GELU's do not, and the signed
    // case is not solved there (nonodd.md §5).
    let relu_signed = spec(&["features.widths=[1000,1000]", "features.activation=relu", "training.mirror=entropic", "training.samples=200"]);
    assert!(matches!(predict(&relu_signed), Err(PredictError::Top(TopError::NoMass))));
    let gelu_signed = Spec { activation: rfrisk::activation::Activation::Gelu, ..relu_signed };
    match predict(&gelu_signed) {
        Err(PredictError::NotOdd(_, why)) => assert!(why.contains("negative mean"), "{why}"),
        other => panic!("GELU, signed teacher, entropic, L = 2: expected a refusal, got {other:?}"),
    }
    for extra in ["teacher.depth=0", "training.ridge=0.1", "data.spectrum=power:1"] {
        let s = spec(&["features.widths=[1000]", "features.activation=relu", "teacher.prior=half-normal", extra]);
        match predict(&s) {
            Err(PredictError::NotOdd(_, why)) => assert!(why.contains("last-layer teacher"), "{extra}: {why}"),
            other => panic!("{extra}: expected a refusal, got {other:?}"),
        }
    }
}

fn rows(spec: &Spec, trials: usize, seed: u64) -> Vec<TrialRow> {
    let run = Run { spec, laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit], trials, n_test: 2000, seed, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    run.execute(None, false, &|_, _| {}).unwrap()
}

/// The real model against the theory of nonodd.md §5: widths 1000, 16 paired trials per law,
/// entropic, p-norm and squared maps at L = 1 with half-normal teachers and starts, the p-norm
/// map's unit law at L = 2 (centred teacher, zero start), noise 0 and 0.1, Gaussian and one-bit
/// weights; every law within the 3σ band (t).
#[test]
fn the_real_model_matches_the_top_system_for_every_map() {
    let trials = 16;
    let cases: [(&str, &[&str]); 11] = [
        ("relu L=1 entropic", &["features.activation=relu", "training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0.1"]),
        ("sigmoid L=1 entropic", &["features.activation=sigmoid", "training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03"]),
        ("gelu L=1 entropic", &["features.activation=gelu", "training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.01", "teacher.noise_std=0.1"]),
        ("relu L=1 pnorm:1.5, start", &["features.activation=relu", "training.mirror=pnorm:1.5", "training.init=0.02", "teacher.noise_std=0.1"]),
        ("relu L=2 pnorm:1.5", &["features.activation=relu", "features.depth=2", "training.mirror=pnorm:1.5", "teacher.noise_std=0.1"]),
        ("relu L=1 squared, half-normal", &["features.activation=relu", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0.1"]),
        ("leaky-relu L=1 squared, start", &["features.activation=leaky-relu:0.1", "training.init=0.016", "teacher.noise_std=0.1"]),
        ("relu L=2 squared, half-normal", &["features.activation=relu", "features.depth=2", "teacher.prior=half-normal", "teacher.noise_std=0.1"]),
        ("relu L=2 entropic", &["features.activation=relu", "features.depth=2", "training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0.1"]),
        ("sigmoid L=3 entropic", &["features.activation=sigmoid", "features.depth=3", "training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03"]),
        ("leaky-relu L=2 pnorm:1.5, start", &["features.activation=leaky-relu:0.1", "features.depth=2", "training.mirror=pnorm:1.5", "training.init=0.016", "teacher.noise_std=0.1"]),
    ];
    let mut records = Vec::new();
    for (i, (name, assignments)) in cases.into_iter().enumerate() {
        let s = spec(&[&["data.dim=800", "features.widths=[1000]", "training.samples=300"][..], assignments].concat());
        let row = common::laws_against_theory(name, &s, trials, 2000, 900 + i as u64);
        records.push(format!("{name} ({row})"));
    }
    common::record("simulate-nonodd-maps", &format!("z: {}; {trials} trials per law", records.join("; ")));
}

/// The simulator's verdict on a positive interpolator (per trial) against the theory: under the
/// spike a signed teacher never interpolates, where an odd network does (d_L/n = 5); a noisy
/// half-normal one interpolates below the boundary of (N5) and not above it.
#[test]
fn simulated_feasibility_follows_the_spike() {
    let count = |s: &Spec| rows(s, 4, 31).iter().filter(|r| r.status == "ok").count();
    let signed = spec(&["data.dim=800", "features.widths=[1000]", "features.activation=relu", "training.mirror=entropic", "training.samples=200", "teacher.noise_std=0.1"]);
    assert_eq!(count(&signed), 0, "relu, signed teacher: a positive interpolator");
    let tanh = Spec { activation: rfrisk::Activation::Tanh, ..signed.clone() };
    assert_eq!(count(&tanh), 8, "tanh, signed teacher: every trial interpolates");
    let noisy = |n: usize| spec(&[
        "data.dim=800",
        "features.widths=[1000]",
        "features.activation=relu",
        "training.mirror=entropic",
        "teacher.prior=half-normal",
        "teacher.noise_std=0.5",
        "training.init=0.03",
        &format!("training.samples={n}"),
    ]);
    let boundary = match predict(&noisy(100)) {
        Ok(p) => 1.0 / p.top.unwrap().feasible_above_ratio.unwrap(),
        Err(e) => panic!("{e}"),
    };
    let n_star = boundary * 1000.0;
    let (inside, outside) = ((0.8 * n_star) as usize, (1.2 * n_star) as usize);
    assert!(predict(&noisy(inside)).is_ok() && matches!(predict(&noisy(outside)), Err(PredictError::Top(TopError::Infeasible { .. }))));
    let (ok_inside, ok_outside) = (count(&noisy(inside)), count(&noisy(outside)));
    eprintln!("boundary n = {n_star:.1}: {ok_inside}/8 interpolate at n = {inside}, {ok_outside}/8 at n = {outside}");
    assert_eq!((ok_inside, ok_outside), (8, 0));
    assert_eq!(Prior::HalfNormal, noisy(inside).prior);
    common::record("nonodd-feasibility", &format!("signed teacher 0/8 (tanh 8/8); half-normal, noise 0.5: boundary n = {n_star:.0}, {ok_inside}/8 at n = {inside}, {ok_outside}/8 at n = {outside}"));
}

/// At L = 1 the theory says a start costs the squared map nothing (nonodd.md §5), where an odd
/// network would pay `r^2 + c^2`. At finite size it costs a little: the paired excess of a scaled
/// start c = 1.58 over no start (same draws), leaky ReLU, noise 0.1, is resolved at d0 = 400,
/// width 1000, n = 300 and shrinks by more than 2 s.e. (of its log) when every size doubles.
#[test]
fn the_start_costs_only_a_finite_size_excess_at_one_layer() {
    let excess = |k: usize| -> (f64, f64) {
        let (d0, width, n) = (400 * k, 1000 * k, 300 * k);
        let base = spec(&[
            &format!("data.dim={d0}"),
            &format!("features.widths=[{width}]"),
            &format!("training.samples={n}"),
            "features.activation=leaky-relu:0.1",
            "teacher.noise_std=0.1",
        ]);
        let started = Spec { init: 1.58 / (width as f64).sqrt(), ..base.clone() };
        let theory = predict(&base).unwrap().excess_risk;
        assert!(relative(predict(&started).unwrap().excess_risk, theory) < 1e-12);
        let (a, b) = (rows(&started, 16, 5), rows(&base, 16, 5));
        let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (x.excess_risk.unwrap() - y.excess_risk.unwrap()) / theory).collect();
        let (mean, se) = common::mean_and_stderr(&d);
        eprintln!("sizes x{k}: the start's paired excess {:+.2}% ± {:.2}% (both laws)", 100.0 * mean, 100.0 * se);
        (mean, se)
    };
    let ((e1, s1), (e2, s2)) = (excess(1), excess(2));
    assert!(e1 > 3.0 * s1, "the start's excess is not resolved at the base size: {e1} ± {s1}");
    let (log_ratio, se) = ((e1 / e2).ln(), (s1 / e1).hypot(s2 / e2));
    assert!(log_ratio > 2.0 * se, "the start's excess did not shrink: ratio {:.2}, log {log_ratio:.2} ± {se:.2}", (e1 / e2));
    common::record(
        "nonodd-start-doubling",
        &format!("{:+.1}% ± {:.1}% at width 1000, {:+.1}% ± {:.1}% at 2000 (ratio {:.2})", 100.0 * e1, 100.0 * s1, 100.0 * e2, 100.0 * s2, e1 / e2),
    );
}

/// `(assignments on the spec, excess risk or n/d_L boundary)` printed by the independent Python
/// reference `python3 equations/reference/nonodd_top_cases.py` (numpy, scipy; written from
/// equations/nonodd.md without the Rust code): ReLU, d0 = 400, width 1000, n = 300.
const REFERENCE: [(&[&str], f64, bool); 6] = [
    (&["training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0"], 0.0555279131704, false),
    (&["training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0.1"], 0.0641073987638, false),
    (&["teacher.prior=half-normal", "training.init=0.05", "teacher.noise_std=0.1"], 0.0660175806939, false),
    (&["training.mirror=pnorm:1.5", "training.init=0.02", "teacher.noise_std=0.1"], 0.173817254898, false),
    (&["training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0.1"], 0.722014211275, true),
    (&["training.mirror=entropic", "teacher.prior=half-normal", "training.init=0.03", "teacher.noise_std=0.5"], 0.375095952362, true),
];

#[test]
fn one_layer_matches_the_independent_python_reference() {
    let mut worst: f64 = 0.0;
    for (assignments, expected, is_boundary) in REFERENCE {
        let s = spec(&[&["data.dim=400", "features.widths=[1000]", "features.activation=relu", "training.samples=300"][..], assignments].concat());
        let p = predict(&s).unwrap();
        let got = if is_boundary { 1.0 / p.top.unwrap().feasible_above_ratio.unwrap() } else { p.excess_risk };
        let gap = relative(got, expected);
        eprintln!("{assignments:?}: rfrisk {got:.12}, reference {expected:.12}, rel. diff {gap:.1e}");
        assert!(gap < 1e-10, "{assignments:?}: {got} vs {expected}");
        worst = worst.max(gap);
    }
    common::record("nonodd-python-reference", &format!("worst relative difference {worst:.0e} (4 risks, 2 boundaries)"));
}

/// The realized-covariance route for a teacher or start with a mean along 1 (squared map): from
/// drawn weights, the exact per-unit Gaussian-equivalent second moment (offsets `b = W m` coupled
/// to the weights as in the model, spike included), its eigenvectors, the energy of `a* - a_0` on
/// each (`Var a*_i/p + (E a*_i - a_0)^2 (v_k^T 1)^2`), and the deterministic equivalent of the
/// ridgeless interpolator. No unit-law quadrature, chain or CGMT.
fn realized_with_mean(spec: &Spec, seed: u64) -> f64 {
    common::ridgeless_risk_with_mean(&common::realized_second_moment(spec, seed), spec)
}

/// The specs of the realized route with a mean part: ReLU at L = 2, 3, sigmoid at L = 2 with a
/// half-normal teacher, leaky ReLU with a start, GELU with both (d0 = 400, widths 1000, n = 300).
fn mean_part_specs() -> Vec<(&'static str, Spec)> {
    let cases: [(&str, &[&str]); 5] = [
        ("relu L=2 half-normal", &["features.widths=[1000,1000]", "features.activation=relu", "teacher.prior=half-normal"]),
        ("relu L=3 half-normal", &["features.widths=[1000,1000,1000]", "features.activation=relu", "teacher.prior=half-normal"]),
        ("leaky-relu L=2 start", &["features.widths=[1000,1000]", "features.activation=leaky-relu:0.1", "training.init=0.05"]),
        ("sigmoid L=2 half-normal", &["features.widths=[1000,1000]", "features.activation=sigmoid", "teacher.prior=half-normal"]),
        ("gelu L=3 half-normal, start", &["features.widths=[1000,1000,1000]", "features.activation=gelu", "teacher.prior=half-normal", "training.init=-0.03"]),
    ];
    cases.iter().map(|(name, extra)| (*name, spec(&[&["data.dim=400", "training.samples=300", "teacher.noise_std=0.1"][..], extra].concat()))).collect()
}

/// The mean of the realized route's signed relative gap over `draws` weight draws at every size
/// times `num` is within `tolerance` plus 3 s.e. of zero for every spec (single draws scatter by
/// 1-2% at widths 1000, more for GELU with a start); and for ReLU L = 2 the theory without the
/// coupling is outside the route's 4-s.e. band (the route resolves the coupling).
fn assert_realized_mean_route_agrees(num: usize, draws: u64, tolerance: f64, id: &str) {
    let mut records = Vec::new();
    for (i, (name, s)) in mean_part_specs().into_iter().enumerate() {
        let s = common::resized(&s, num, 1);
        let theory = predict(&s).unwrap_or_else(|e| panic!("{name}: {e}")).excess_risk;
        let realized: Vec<f64> = (0..draws).map(|k| realized_with_mean(&s, 700 + 100 * i as u64 + k)).collect();
        let gaps: Vec<f64> = realized.iter().map(|r| r / theory - 1.0).collect();
        let (mean, se) = common::mean_and_stderr(&gaps);
        eprintln!("{name:28} d_L {:>5}: theory {theory:.6}, realized route {mean:+.4} ± {se:.4} over {draws} draws", s.last_width());
        assert!(mean.abs() < tolerance + 3.0 * se, "{name}: the realized route is {mean:+e} ± {se:e} from the theory");
        if i == 0 {
            let (layers, _, _) = mixed_layers(&s);
            let input = Input::Isotropic;
            let decoupled = nonodd_top::solve(&Squared, &MeanTop { coupling: 0.0, ..top_problem(&s, &input, &layers) }).unwrap().excess_risk;
            let off = realized.iter().sum::<f64>() / draws as f64 / decoupled - 1.0;
            eprintln!("{name:28} without the coupling the theory is {decoupled:.6}: the route is {off:+.4} from it");
            assert!(off.abs() > 4.0 * se, "{name}: the realized route does not tell the coupled theory from the decoupled one");
            records.push(format!("{name} {mean:+.1e} ± {se:.0e} (without the coupling {off:+.1e})"));
        } else {
            records.push(format!("{name} {mean:+.1e} ± {se:.0e}"));
        }
    }
    common::record(id, &format!("mean gap over {draws} draws: {}", records.join("; ")));
}

/// With a mean part from two layers on, the realized route (the offsets drawn from the weights
/// themselves, so the coupling is in it) agrees with the coupled theory at widths 1000.
#[test]
fn the_realized_route_carries_the_mean_through_the_coupling() {
    assert_realized_mean_route_agrees(1, 8, 0.01, "nonodd-realized-mean");
}

/// The same at widths 2000 (about a minute and a half).
#[test]
#[ignore]
fn slow_the_realized_route_carries_the_mean_at_double_size() {
    assert_realized_mean_route_agrees(2, 6, 0.005, "slow-nonodd-realized-mean");
}

/// Zero labels (no teacher, no noise) from a start, L = 2: the averaged problem's root is the zero
/// problem, so the solver starts from the untilted start instead. Its risk must be the limit of a
/// vanishing teacher's (solved the ordinary way) and grow as c^2.
#[test]
fn with_zero_labels_the_start_alone_costs_its_square() {
    let mut worst: f64 = 0.0;
    for mirror in ["squared", "pnorm:2.5"] {
        let at = |norm2: f64, init: f64| {
            let s = spec(&[
                "data.dim=400",
                "features.widths=[1000,1000]",
                "features.activation=relu",
                "training.samples=300",
                &format!("training.mirror={mirror}"),
                &format!("teacher.norm2={norm2:e}"),
                "teacher.noise_std=0",
                &format!("training.init={init:e}"),
            ]);
            predict(&s).unwrap_or_else(|e| panic!("{mirror}, norm2 {norm2:e}, init {init:e}: {e}")).excess_risk
        };
        let zero = at(0.0, 0.03);
        let (vanishing, doubled) = (relative(at(1e-16, 0.03), zero), relative(at(0.0, 0.06), 4.0 * zero));
        eprintln!("{mirror}: zero labels {zero:.12e}; a teacher of norm 1e-8 off by {vanishing:.1e}, twice the start off 4x by {doubled:.1e}");
        assert!(zero > 0.0 && vanishing < 1e-6 && doubled < 1e-9, "{mirror}: {zero}, {vanishing}, {doubled}");
        worst = worst.max(vanishing).max(doubled);
    }
    common::record("nonodd-zero-labels", &format!("worst relative difference {worst:.0e} (L = 2, squared and p-norm 2.5)"));
}

/// `q_{L-1}(u)`'s slope along the chain (forward mode through the gains and elasticities, which
/// `theta'(u)` in (N4c) uses) against Richardson's central difference of chains solved at nearby
/// shifts, for ReLU, GELU and sigmoid two to five layers down.
#[test]
fn the_mean_resolvents_slope_matches_its_difference_quotient() {
    let mut worst: f64 = 0.0;
    for activation in ["relu", "gelu", "sigmoid"] {
        for depth in 2..=5 {
            let s = spec(&["data.dim=400", "features.widths=[1000]", &format!("features.depth={depth}"), &format!("features.activation={activation}")]);
            let (layers, _, _) = mixed_layers(&s);
            let lower = &layers[..depth - 1];
            let input = Input::Isotropic;
            let at = |log_u: f64| rfrisk::nonodd::mean_resolvent(lower, &rfrisk::nonodd::chain_at(&input, lower, log_u).unwrap()).unwrap();
            for log_u in [-2.0, 0.0, 2.0] {
                let (_, slope) = at(log_u);
                let h = 1e-3;
                let difference = (8.0 * (at(log_u + h).0 - at(log_u - h).0) - (at(log_u + 2.0 * h).0 - at(log_u - 2.0 * h).0)) / (12.0 * h);
                let gap = (slope - difference).abs() / difference.abs();
                eprintln!("{activation} L={depth} log u = {log_u}: dq/dlog u = {slope:.10e}, difference {difference:.10e} ({gap:.1e})");
                assert!(gap < 1e-7, "{activation} L={depth} log u = {log_u}: {slope} vs {difference}");
                worst = worst.max(gap);
            }
        }
    }
    common::record("nonodd-resolvent-slope", &format!("worst relative difference {worst:.0e} (3 activations, L = 2..5, 3 shifts)"));
}

/// The squared map with a mean part from two layers on has a second derivation: the ridgeless
/// deterministic equivalent with the coupling as a rank-one term along `rho1(b) b` and the spike
/// along `mu(b)`, by Woodbury's identity (nonodd.md (N6)). The independent Python script
/// `equations/reference/nonodd_coupling_woodbury.py` (ReLU, L = 2, numpy/scipy, without the Rust
/// code) printed these risks, coupled and with the coupling left out.
#[test]
fn with_a_mean_the_coupled_top_system_matches_the_woodbury_form() {
    let cases: [(&[&str], f64, f64); 3] = [
        (&["features.widths=[1000,1000]", "teacher.prior=half-normal", "teacher.noise_std=0.1"], 0.0403099583028376, 0.0385236839406317),
        (&["features.widths=[1000,1000]", "training.init=0.05", "teacher.noise_std=0.1"], 0.110759929126838, 0.103745246105156),
        (&["features.widths=[1000,1500]", "teacher.prior=half-normal", "training.init=-0.02"], 0.085774518780093, 0.0696629977819041),
    ];
    let mut worst: f64 = 0.0;
    for (assignments, coupled, decoupled) in cases {
        let s = spec(&[&["data.dim=400", "features.activation=relu", "training.samples=300"][..], assignments].concat());
        let (layers, _, _) = mixed_layers(&s);
        let input = Input::Isotropic;
        let with = predict(&s).unwrap().excess_risk;
        let without = nonodd_top::solve(&Squared, &MeanTop { coupling: 0.0, ..top_problem(&s, &input, &layers) }).unwrap().excess_risk;
        eprintln!("{assignments:?}: coupled {with:.13} (Python {coupled}), decoupled {without:.13} (Python {decoupled})");
        for (a, b) in [(with, coupled), (without, decoupled)] {
            assert!(relative(a, b) < 1e-8, "{assignments:?}: {a} vs the Woodbury form's {b}");
            worst = worst.max(relative(a, b));
        }
    }
    common::record("nonodd-coupling-woodbury", &format!("worst relative difference {worst:.0e} (3 specs, coupled and decoupled)"));
}
