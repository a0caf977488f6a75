//! What Gaussian equivalence leaves out with a mean part from two layers on (equations/nonodd.md
//! §7a). For drawn weights (ReLU, L = 2), three second moments of the last layer's features: the
//! realized per-unit Gaussian-equivalent one (what the theory is the limit of), the real features'
//! one by Monte Carlo over inputs, and the first plus the second-order correction Δ of (N8) in
//! closed form. The ridgeless deterministic equivalent of each, for a half-normal teacher, shows
//! that the real model's risk departs from the first and that Δ carries the departure.

mod common;
use common::{realized_layers, ridgeless_risk_with_mean, spec, RealizedLayers};
use faer::Mat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rfrisk::spec::{Activation, Prior, Spec};

/// `E phi phi^T` of the real last-layer features, over `samples` Gaussian inputs (products in
/// `f32`, sums over chunks in `f64`).
fn real_second_moment(activation: Activation, weights: &[Mat<f64>], samples: usize, seed: u64) -> Mat<f64> {
    const CHUNK: usize = 4000;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let weights: Vec<Mat<f32>> = weights.iter().map(|w| Mat::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)] as f32)).collect();
    let (dim, width) = (weights[0].ncols(), weights.last().unwrap().nrows());
    let mut sum = Mat::<f64>::zeros(width, width);
    for _ in 0..samples / CHUNK {
        let mut h = Mat::<f32>::from_fn(CHUNK, dim, |_, _| rng.sample(StandardNormal));
        for w in &weights {
            h = &h * w.transpose();
            h = Mat::from_fn(h.nrows(), h.ncols(), |i, j| activation.eval_f32(h[(i, j)]));
        }
        let gram = h.transpose() * &h;
        sum = Mat::from_fn(width, width, |i, j| sum[(i, j)] + gram[(i, j)] as f64);
    }
    let n = (samples / CHUNK * CHUNK) as f64;
    Mat::from_fn(width, width, |i, j| sum[(i, j)] / n)
}

/// Δ of (N8) for ReLU at L = 2, from the layer-1 Hermite coefficients (closed forms for a
/// unit-variance pre-activation, nonodd.md §7a) and the drawn weights: layer 1's own second-order
/// term along 1 carried up by `D1 W2`, and layer 2's cross and square terms from the real layer-1
/// features' `tau = E[phi~ |phi~|^2] / d1` and `V = Var(|phi~|^2 / d1)`.
fn second_order_correction(r: &RealizedLayers) -> Mat<f64> {
    let (w1, w2) = (&r.weights[0], &r.weights[1]);
    let (d1, d0) = (w1.nrows(), w1.ncols());
    let mu = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let (a1, a2) = (0.5, mu); // E z relu(z), E (z^2 - 1) relu(z)
    let (b1, b2) = (mu, 1.0 - 2.0 * mu * mu); // the same of f = (relu - mu)^2
    let var_f = 1.5 - 5.0 * mu.powi(2) - 3.0 * mu.powi(4) - (0.5 - mu * mu).powi(2);
    let k3 = 0.5 * mu + 2.0 * mu.powi(3); // E (relu - mu)^3
    let gram = w1 * w1.transpose();
    let row = |a: usize, power: i32| (0..d1).filter(|&c| c != a).map(|c| gram[(a, c)].powi(power)).sum::<f64>();
    let (rows1, rows2): (Vec<f64>, Vec<f64>) = (0..d1).map(|a| (row(a, 1), row(a, 2))).unzip();
    let norm_var = (d1 as f64 * var_f + b1 * b1 * rows1.iter().sum::<f64>() + 0.5 * b2 * b2 * rows2.iter().sum::<f64>()) / (d1 * d1) as f64;
    let tau: Vec<f64> = (0..d1).map(|a| (k3 + a1 * b1 * rows1[a] + 0.5 * a2 * b2 * rows2[a]) / d1 as f64).collect();
    let width = w2.nrows();
    let project = |v: &dyn Fn(usize) -> f64| (0..width).map(|j| (0..d1).map(|a| w2[(j, a)] * v(a)).sum::<f64>()).collect::<Vec<f64>>();
    let (w2_ones, w2_tau) = (project(&|_| 1.0), project(&|a| tau[a]));
    let units: Vec<_> = (0..width).map(|j| rfrisk::activation::unit_moments(Activation::Relu, r.offsets[j], r.variances[j])).collect();
    let e2: Vec<f64> = (0..width)
        .map(|j| {
            let s = r.variances[j].sqrt();
            (-0.5 * (r.offsets[j] / s).powi(2)).exp() * mu / s // E relu''(b + z) = phi(b/s)/s
        })
        .collect();
    let carried: Vec<f64> = (0..width).map(|j| units[j].rho1 * w2_ones[j]).collect();
    let cross: Vec<f64> = (0..width).map(|j| units[j].rho1 * w2_tau[j]).collect();
    Mat::from_fn(width, width, |i, j| {
        a2 * a2 / (2.0 * d0 as f64) * carried[i] * carried[j] + 0.5 * (cross[i] * e2[j] + e2[i] * cross[j]) + 0.25 * norm_var * e2[i] * e2[j]
    })
}

/// For each draw: the relative departures of the real model and of GE + Δ from GE, for the
/// half-normal teacher and for a Gaussian one (whose mean part is zero).
fn departures(spec: &Spec, draws: u64, samples: usize) -> Vec<[f64; 4]> {
    let centred = Spec { prior: Prior::Gaussian, ..spec.clone() };
    (1..=draws)
        .map(|seed| {
            let layers = realized_layers(spec, seed);
            let ge = layers.second_moment();
            let real = real_second_moment(spec.activation, &layers.weights, samples, 1_000_000 + seed);
            let delta = second_order_correction(&layers);
            let corrected = &ge + &delta;
            let rel = |s: &Spec, m: &Mat<f64>| ridgeless_risk_with_mean(m, s) / ridgeless_risk_with_mean(&ge, s) - 1.0;
            let d = [rel(spec, &real), rel(spec, &corrected), rel(&centred, &real), rel(&centred, &corrected)];
            eprintln!(
                "seed {seed}: half-normal teacher real {:+.2}%, GE + Δ {:+.2}%; Gaussian teacher real {:+.2}%, GE + Δ {:+.2}%",
                100.0 * d[0],
                100.0 * d[1],
                100.0 * d[2],
                100.0 * d[3]
            );
            d
        })
        .collect()
}

/// The move (N8) makes in the limit for these ratios (d0 : d_L : n = 0.4 : 1 : 0.3, half-normal
/// teacher, noise 0.1), carried through the squared map's Woodbury form by
/// `equations/reference/nonodd_second_order_theory.py`, written separately: coupled theory
/// 0.0403099585394794, with (N8) 0.0394970930049864.
const SECOND_ORDER_LIMIT: f64 = 0.0394970930049864 / 0.0403099585394794 - 1.0;

fn relu_l2(d0: usize, width: usize, n: usize) -> Spec {
    spec(&[
        &format!("data.dim={d0}"),
        &format!("features.widths=[{width},{width}]"),
        &format!("training.samples={n}"),
        "features.activation=relu",
        "teacher.prior=half-normal",
        "teacher.noise_std=0.1",
    ])
}

/// The checks of §7a at one size: the real model's departure from GE is resolved (below
/// `-min_departure`), Δ carries at least `min_share` of it, neither moves a centred teacher's
/// risk by more than `centred_tolerance` (Δ by 0.1%: it lives along the mean directions), and Δ's
/// move on drawn weights is its move in the limit within `limit_tolerance`.
fn assert_second_order(spec: &Spec, draws: u64, samples: usize, min_departure: f64, min_share: f64, centred_tolerance: f64, limit_tolerance: f64) -> String {
    let d = departures(spec, draws, samples);
    let mean = |k: usize| d.iter().map(|x| x[k]).sum::<f64>() / d.len() as f64;
    let (real, corrected, centred_real, centred_corrected) = (mean(0), mean(1), mean(2), mean(3));
    let share = corrected / real;
    eprintln!("mean over {draws} draws: real {:+.2}%, GE + Δ {:+.2}% (share {share:.2}; in the limit {:+.2}%)", 100.0 * real, 100.0 * corrected, 100.0 * SECOND_ORDER_LIMIT);
    assert!(real < -min_departure, "the real model's departure from GE is not resolved: {real:+.4}");
    assert!(share > min_share && share < 1.2, "Δ carries {share:.2} of the departure");
    assert!(centred_real.abs() < centred_tolerance, "a centred teacher's risk moves by {centred_real:+.4} in the real model");
    assert!(centred_corrected.abs() < 1e-3, "Δ moves a centred teacher's risk by {centred_corrected:+.4}");
    assert!(
        (corrected - SECOND_ORDER_LIMIT).abs() < limit_tolerance,
        "Δ moves the risk by {corrected:+.4} on drawn weights, {SECOND_ORDER_LIMIT:+.4} in the limit"
    );
    format!(
        "{} weights, d_L = {}, {draws} draws: real {:+.2}%, GE + Δ {:+.2}% from GE (share {share:.2}; in the limit {:+.2}%); centred teacher {:+.2}%, {:+.2}%",
        spec.weights,
        spec.last_width(),
        100.0 * real,
        100.0 * corrected,
        100.0 * SECOND_ORDER_LIMIT,
        100.0 * centred_real,
        100.0 * centred_corrected
    )
}

/// d0 = 200, widths 500, n = 150, 3 draws, 400k inputs each, and 2 draws with one-bit weights, whose
/// Δ is the same formula on their Gram matrix (15 s). Measured (Gaussian weights): real -2.67%,
/// -2.40%, -2.99%; GE + Δ -2.10%, -2.00%, -2.22% (share 0.78); a Gaussian teacher about -0.7% (an
/// O(1/d) part that Δ does not carry, halving per doubling) and -0.03%.
#[test]
fn the_real_features_depart_from_gaussian_equivalence_by_the_second_order_terms() {
    let gaussian = assert_second_order(&relu_l2(200, 500, 150), 3, 400_000, 0.02, 0.65, 0.012, 0.004);
    let onebit = assert_second_order(&Spec { weights: rfrisk::spec::WeightLaw::Onebit, ..relu_l2(200, 500, 150) }, 2, 400_000, 0.02, 0.65, 0.012, 0.004);
    common::record("nonodd-second-order", &format!("{gaussian}; {onebit}"));
}

/// Double size, 2e6 inputs per draw (about 2 minutes): the departure stays (a proportional-limit
/// effect) and Δ carries more of it. Measured: real -2.38%, -2.07%; GE + Δ -2.20%, -1.89% (share
/// 0.92); a Gaussian teacher -0.35%. The Python reference at widths 2000: real -2.18%, share 0.94.
#[test]
#[ignore]
fn slow_the_second_order_terms_carry_the_departure_at_double_size() {
    common::record("slow-nonodd-second-order", &assert_second_order(&relu_l2(400, 1000, 300), 2, 2_000_000, 0.015, 0.8, 0.006, 0.003));
}

/// Where else the departure reaches (d0 = 400, widths 1000, n = 300, noise 0.1, one draw, 1e6
/// inputs): the real model against GE for other activations, depths and mean parts, with the same
/// spec's centred teacher from a zero start beside it. `predict`'s caveat bounds them by 5%.
#[test]
#[ignore]
fn slow_the_departure_elsewhere_stays_within_the_caveats_bound() {
    let cases: [(&str, &[&str]); 6] = [
        ("sigmoid L=2 half-normal", &["features.activation=sigmoid", "teacher.prior=half-normal"]),
        ("gelu L=2 half-normal", &["features.activation=gelu", "teacher.prior=half-normal"]),
        ("leaky-relu:0.1 L=2 start 0.05", &["features.activation=leaky-relu:0.1", "training.init=0.05"]),
        ("relu L=2 start 0.05", &["features.activation=relu", "training.init=0.05"]),
        ("softplus L=2 half-normal", &["features.activation=softplus", "teacher.prior=half-normal"]),
        ("relu L=3 half-normal", &["features.activation=relu", "teacher.prior=half-normal", "features.widths=[1000,1000,1000]"]),
    ];
    let mut parts = Vec::new();
    for (name, extra) in cases {
        let s = spec(&[&["data.dim=400", "features.widths=[1000,1000]", "training.samples=300", "teacher.noise_std=0.1"][..], extra].concat());
        let centred = Spec { prior: Prior::Gaussian, init: 0.0, ..s.clone() };
        let layers = realized_layers(&s, 1);
        let ge = layers.second_moment();
        let real = real_second_moment(s.activation, &layers.weights, 1_000_000, 7);
        let rel = |t: &Spec| ridgeless_risk_with_mean(&real, t) / ridgeless_risk_with_mean(&ge, t) - 1.0;
        let (with_mean, without) = (rel(&s), rel(&centred));
        eprintln!("{name:32} real against GE {:+.2}% (centred, zero start {:+.2}%)", 100.0 * with_mean, 100.0 * without);
        assert!(with_mean.abs() < 0.05, "{name}: the departure {with_mean:+.4} exceeds the caveat's bound");
        parts.push(format!("{name} {:+.1}%", 100.0 * with_mean));
    }
    common::record("slow-nonodd-second-order-elsewhere", &parts.join("; "));
}

/// `predict` and `simulate`'s summary carry the caveat exactly where (N8) reaches the risk: a
/// non-odd network of two or more layers with a mean part.
#[test]
fn the_caveat_is_said_exactly_where_the_second_order_terms_apply() {
    let base = ["data.dim=200", "features.widths=[400,400]", "training.samples=100", "teacher.noise_std=0.1"];
    let cases: [(&[&str], bool); 7] = [
        (&["features.activation=relu", "teacher.prior=half-normal"], true),
        (&["features.activation=leaky-relu", "training.init=0.05"], true),
        (&["features.activation=relu", "teacher.prior=half-normal", "training.mirror=entropic"], true),
        (&["features.activation=relu", "teacher.prior=half-normal", "features.widths=[400]"], false),
        (&["features.activation=relu"], false),
        (&["features.activation=sigmoid", "training.mirror=pnorm:1.5"], false),
        (&["features.activation=tanh", "teacher.prior=half-normal", "training.init=0.05"], false),
    ];
    for (extra, expected) in cases {
        let s = spec(&[&base[..], extra].concat());
        let prediction = rfrisk::predict(&s).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(prediction.caveat.is_some(), expected, "{extra:?}: predict's caveat");
        assert_eq!(rfrisk::simulate::summarize(&s, &[]).caveat.is_some(), expected, "{extra:?}: the simulation summary's caveat");
    }
}
