//! The general-mirror-map system (equations/entropic.md) against independent routes:
//! its squared-map specialization against the SGD solver, the entropic solution
//! against the Python reference implementation (a separate 2-D quadrature with
//! scipy's Wright omega), and the feasibility boundary against its closed form.

mod common;

use common::{relative, spec};
use rfrisk::entropic::{self, Problem, TopError};
use rfrisk::mirror::Squared;
use rfrisk::predict::{predict, system_layers, top_problem, PredictError};
use rfrisk::spec::Spec;

fn layers_of(spec: &Spec) -> Vec<rfrisk::squared::Layer> {
    system_layers(spec, &rfrisk::gep::layer_coefficients(spec.activation, spec.depth()))
}

/// entropic.md §9: with the squared prox plugged into the same quadrature and
/// Newton solver, the general system must give the SGD risk of squared.md (5.3).
#[test]
fn general_system_at_the_squared_map_matches_the_squared_solver() {
    let cases: [&[&str]; 5] = [
        &["features.widths=[1500]", "teacher.prior=half-normal", "training.samples=600", "training.init=0.01"],
        &["features.widths=[2000, 1500]", "teacher.noise_std=0.5", "training.samples=900"],
        &["features.widths=[1200, 3000, 900]", "features.activation=erf", "teacher.prior=half-normal", "teacher.noise_std=0.7", "training.samples=300", "training.init=0.02"],
        &["features.widths=[1000, 1000, 1000, 1000]", "features.activation=sign", "features.weights=onebit", "teacher.noise_std=0.2", "training.samples=990"],
        &["features.widths=[3000]", "features.activation=identity", "teacher.norm2=2.5", "teacher.noise_std=1.0", "training.samples=100"],
    ];
    let mut worst = 0.0f64;
    for assignments in cases {
        let spec = spec(assignments);
        let sgd = predict(&spec).unwrap();
        let layers = layers_of(&spec);
        let noise_var = spec.noise_std * spec.noise_std;
        let (general, _) = entropic::solve(&Squared, &top_problem(&spec, &layers, noise_var)).unwrap();
        let gap = relative(general.excess_risk, sgd.excess_risk);
        assert!(gap < 1e-8, "{assignments:?}: general {} vs squared {} ({gap:.1e})", general.excess_risk, sgd.excess_risk);
        // The closed-form top problem reported for SGD (entropic.md §9) is the one the general solver finds.
        assert!(relative(general.eta, sgd.top.as_ref().unwrap().eta) < 1e-8, "{assignments:?}: eta {} vs {}", general.eta, sgd.top.as_ref().unwrap().eta);
        assert!(relative(general.s, sgd.top.as_ref().unwrap().s) < 1e-8, "{assignments:?}: s {} vs {}", general.s, sgd.top.as_ref().unwrap().s);
        assert!(relative(general.distance, sgd.top.as_ref().unwrap().distance) < 1e-8, "{assignments:?}");
        // Q = n kappa/(d_L - n), checked against its other form rho1^2 gamma_L u_L n/d_L (entropic.md (4.6)).
        let (last, shifts) = (layers.last().unwrap(), &sgd.solver.unknowns);
        let u_last = shifts[shifts.len() - 2].value;
        let q_chain = last.rho1 * last.rho1 * last.aspect * u_last * spec.samples as f64 / spec.last_width() as f64;
        assert!(relative(sgd.top.as_ref().unwrap().q, q_chain) < 1e-10, "{assignments:?}: Q {} vs {q_chain}", sgd.top.as_ref().unwrap().q);
        assert!(relative(general.q, q_chain) < 1e-10, "{assignments:?}");
        worst = worst.max(gap).max(relative(general.eta, sgd.top.as_ref().unwrap().eta)).max(relative(general.s, sgd.top.as_ref().unwrap().s));
    }
    common::record("entropic-general", &format!("worst {worst:.1e}"));
}

/// `(assignments, eta, s, excess risk)` printed by `python3 equations/reference/entropic_cases.py`
/// (which calls `equations/reference/entropic_theory.py`
/// `predict('entropic', ...)`: its own 2-D quadrature over teacher x noise and
/// `scipy.special.wrightomega`). `init = cbar / sqrt(d_L)`; the default start is cbar = sqrt(2/pi).
#[test]
fn entropic_solution_matches_the_python_reference() {
    let cases: [(&[&str], f64, f64, f64); 8] = [
        (&["features.widths=[1500]", "teacher.prior=half-normal", "training.samples=600"], 1.17201102911, 0.718556673558, 0.0420868674098),
        (&["features.widths=[1500]", "teacher.prior=half-normal", "teacher.noise_std=0.1", "training.samples=600"], 1.16770379681, 0.859637098711, 0.0583984831862),
        (&["features.widths=[1200, 1500]", "teacher.prior=half-normal", "teacher.noise_std=0.1", "training.samples=600"], 1.16114347332, 1.05995423406, 0.0366202232193),
        (&["features.widths=[1500]", "training.samples=500"], 1.1154031087, 2.54465445019, 0.501804021843),
        (&["features.widths=[1500]", "teacher.noise_std=0.1", "training.samples=375"], 2.05689878317, 2.76590838759, 0.511981213583),
        (&["features.widths=[1200, 1500]", "training.samples=375"], 2.04791709059, 2.71234776704, 0.221431060544),
        (&["features.widths=[1500]", "teacher.prior=half-normal", "training.samples=600", "training.init=0.051639777949432225"], 2.15222477496, 1.77493651168, 0.256797146604),
        (
            &["features.widths=[1200, 1500]", "features.activation=identity", "teacher.prior=half-normal", "teacher.noise_std=0.3", "training.samples=600", "training.init=0.012909944487358056"],
            0.871647408022,
            1.62522050403,
            0.346307334938,
        ),
    ];
    let mut worst = 0.0f64;
    for (assignments, eta, s, risk) in cases {
        let mut all = vec!["training.mirror=entropic"];
        all.extend_from_slice(assignments);
        let spec = spec(&all);
        let got = predict(&spec).unwrap_or_else(|e| panic!("{assignments:?}: {e}"));
        let tol = 1e-9;
        for (what, a, b) in [("eta", got.top.as_ref().unwrap().eta, eta), ("s", got.top.as_ref().unwrap().s, s), ("risk", got.excess_risk, risk)] {
            assert!(relative(a, b) < tol, "{assignments:?} {what}: rfrisk {a} vs reference {b}");
            worst = worst.max(relative(a, b));
        }
        assert!(got.solver.max_residual < 1e-12, "{assignments:?}: {:?}", got.solver.residuals);
        // `bias` is the noise-free risk: for the second case it is the first case's reference risk.
        if assignments.contains(&"teacher.noise_std=0.1") && assignments.contains(&"features.widths=[1500]") && assignments.contains(&"training.samples=600") {
            assert!(relative(got.bias, 0.0420868674098) < 1e-9, "bias {} vs the noise-free reference", got.bias);
            assert!(relative(got.bias + got.variance, risk) < 1e-9);
        }
        assert!(got.top.as_ref().unwrap().quadrature_error.unwrap() < 1e-10, "{assignments:?}");
    }
    // The reference values carry 12 digits: agreement below ~1e-11 is their rounding.
    common::record("entropic-python", &format!("worst {worst:.1e}"));
}

/// entropic.md §8 examples (tanh, d0 = 400, d1 = 600, r = 1): the boundary
/// `delta_c` of (8.3b) for a half-normal teacher with noise (0.724943, 0.591587, 0.514996 by
/// bisection in `python3 equations/reference/entropic_cases.py`, with the Python layer chain);
/// 2 for a signed teacher.
#[test]
fn infeasible_specs_are_refused_with_the_boundary() {
    let mut worst = 0.0f64;
    for (noise, delta_c) in [(0.1, 0.72494), (0.3, 0.59159), (1.0, 0.51500)] {
        let noise = format!("teacher.noise_std={noise}");
        let base = ["data.dim=400", "features.widths=[600]", "teacher.prior=half-normal", "training.mirror=entropic", noise.as_str()];
        let n_in = (delta_c * 600.0 - 1.0f64).floor() as usize;
        let n_out = (delta_c * 600.0 + 1.0f64).ceil() as usize;
        let inside = predict(&spec(&[&base[..], &[&format!("training.samples={n_in}")]].concat())).unwrap();
        let boundary = inside.top.as_ref().unwrap().feasible_above_ratio.unwrap();
        assert!((1.0 / boundary - delta_c).abs() < 1e-5, "{noise}: boundary n/d_L = {} vs {delta_c}", 1.0 / boundary);
        worst = worst.max((1.0 / boundary - delta_c).abs());
        match predict(&spec(&[&base[..], &[&format!("training.samples={n_out}")]].concat())) {
            Err(PredictError::Top(TopError::Infeasible { ratio, boundary: b })) => {
                assert!((ratio - 600.0 / n_out as f64).abs() < 1e-12);
                assert!((b - boundary).abs() < 1e-9);
            }
            other => panic!("{noise}, n = {n_out}: expected infeasible, got {other:?}"),
        }
    }
    // Signed teacher: d_L/n > 2 whatever the noise (Cover/Wendel count).
    let signed = |n: &str| spec(&["features.widths=[600]", "training.mirror=entropic", "training.init=0.01", n]);
    assert!(predict(&signed("training.samples=299")).is_ok());
    assert!(matches!(predict(&signed("training.samples=300")), Err(PredictError::Top(TopError::Infeasible { .. }))));
    // The reference boundaries are given to 5 decimals.
    common::record("entropic-boundary", &format!("δ_c within {worst:.1e}"));
}

/// Close to the boundary the solution has eta -> 0 with a finite risk (entropic.md §8):
/// the solver still converges 0.1% below it.
#[test]
fn solver_converges_just_below_the_boundary() {
    let base = ["data.dim=400", "features.widths=[600]", "teacher.prior=half-normal", "teacher.noise_std=0.3", "training.mirror=entropic"];
    let spec_at = |n: usize| spec(&[&base[..], &[&format!("training.samples={n}")]].concat());
    let delta_c = 1.0 / predict(&spec_at(300)).unwrap().top.as_ref().unwrap().feasible_above_ratio.unwrap();
    let mut last_eta = f64::INFINITY;
    for n in [300, 345, 350, 354] {
        let p = predict(&spec_at(n)).unwrap();
        assert!(p.top.as_ref().unwrap().eta < last_eta, "eta must fall towards the boundary");
        last_eta = p.top.as_ref().unwrap().eta;
        assert!(p.solver.max_residual < 1e-10 && p.excess_risk.is_finite());
    }
    // The layer-chain problem at the boundary itself, through the library (non-integer n).
    let spec = spec_at(354);
    let layers = layers_of(&spec);
    let mut problem: Problem = top_problem(&spec, &layers, 0.09);
    problem.ratio = rfrisk::squared::Ratio::new(delta_c * (1.0 - 1e-3));
    let (near, _) = entropic::solve(&rfrisk::mirror::Entropic, &problem).unwrap();
    assert!(near.eta < 0.05 && near.excess_risk < 1.0, "{near:?}");
}

/// Near n/d_L = 1 (issue 10): tanh, d0 = 1000, widths [1000, d_L], half-normal teacher,
/// the default start, no noise, against the independent adaptive-quadrature solve
/// `python3 equations/reference/entropic_adaptive.py` (breakpoints at 0, +-s 2^k and the
/// prox's bend, (T1) in its complement form, a 40-digit layer chain; its own accuracy
/// about 2e-14). Columns: n, d_L, eta, s, excess risk. The error estimate
/// `top.quadrature_error` must bound the real error of the risk.
#[test]
fn entropic_map_near_the_interpolation_threshold_matches_adaptive_quadrature() {
    let cases: [(usize, usize, f64, f64, f64); 5] = [
        (9900, 10000, 0.00146388937493973, 0.0220888571275025, 3.52781139995073e-06),
        (9990, 10000, 4.79538203784634e-05, 0.00271456637465598, 5.3710720511979e-08),
        (9995, 10000, 1.70241710789626e-05, 0.00140580154513725, 1.44112544821303e-08),
        (9999, 10000, 1.52945098663373e-06, 0.000296472601231269, 6.41176781437351e-10),
        (99999, 100000, 4.84397465438386e-08, 3.07218993543762e-05, 6.26691932733663e-12),
    ];
    let (mut risk_errors, mut eta_worst, mut estimates) = (Vec::new(), 0.0f64, Vec::new());
    for (n, width, eta, s, risk) in cases {
        let base = ["data.dim=1000", "teacher.prior=half-normal", "training.mirror=entropic"];
        let sizes = [format!("features.widths=[1000, {width}]"), format!("training.samples={n}")];
        let spec = spec(&[&base[..], &[&sizes[0], &sizes[1]]].concat());
        let p = predict(&spec).unwrap();
        let error = relative(p.excess_risk, risk);
        assert!(error < 1e-9, "n/d_L = {n}/{width}: risk {} vs {risk} ({error:.1e})", p.excess_risk);
        assert!(relative(p.top.as_ref().unwrap().eta, eta) < 1e-9, "n/d_L = {n}/{width}: eta {} vs {eta}", p.top.as_ref().unwrap().eta);
        assert!(relative(p.top.as_ref().unwrap().s, s) < 1e-9, "n/d_L = {n}/{width}: s {} vs {s}", p.top.as_ref().unwrap().s);
        let estimate = p.top.as_ref().unwrap().quadrature_error.unwrap();
        assert!(error <= estimate, "n/d_L = {n}/{width}: real error {error:.1e} above the estimate {estimate:.1e}");
        risk_errors.push(error);
        eta_worst = eta_worst.max(relative(p.top.as_ref().unwrap().eta, eta));
        estimates.push(estimate);
        assert!(p.solver.max_residual < 1e-12, "n/d_L = {n}/{width}: {:?}", p.solver.residuals);
        // With noise 0.1 the same architectures have no positive interpolator (boundary from the reference).
        let noisy = spec_with(&spec, 0.1);
        match predict(&noisy) {
            Err(PredictError::Top(TopError::Infeasible { boundary, .. })) => {
                let expected = if width == 10000 { 1.788689910769 } else { 1.812534404702 };
                assert!((boundary - expected).abs() < 1e-8, "boundary {boundary} vs {expected}");
            }
            other => panic!("n/d_L = {n}/{width} with noise 0.1: expected infeasible, got {other:?}"),
        }
    }
    let range = |v: &[f64]| v.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let ((r_lo, r_hi), (e_lo, e_hi)) = (range(&risk_errors), range(&estimates));
    common::record("entropic-threshold", &format!("risk {r_lo:.0e} to {r_hi:.0e}, η up to {eta_worst:.1e}; estimates {e_lo:.0e} to {e_hi:.0e}"));
}

fn spec_with(spec: &Spec, noise_std: f64) -> Spec {
    Spec { noise_std, ..spec.clone() }
}
