//! Closed-form limits of the squared-map prediction (equations/squared.md §6),
//! each derived without the layer recursion; the solver must match to 1e-8.

mod common;
use common::{relative, spec};
use rfrisk::predict;

/// Identity activation, one layer: `Sigma = W W^T` has a Marchenko–Pastur
/// spectrum, and eliminating its Stieltjes transform from the sample equation gives
/// `bias = r^2 (1 - n/d1)(1 - n/d0)`,
/// `variance = sigma^2 n (d0 + d1 - 2n) / ((d1 - n)(d0 - n))`.
fn identity_one_layer(d0: f64, d1: f64, n: f64, norm2: f64, noise_var: f64) -> (f64, f64) {
    (
        norm2 * (1.0 - n / d1) * (1.0 - n / d0),
        noise_var * n * (d0 + d1 - 2.0 * n) / ((d1 - n) * (d0 - n)),
    )
}

#[test]
fn identity_one_layer_matches_the_marchenko_pastur_closed_form() {
    // Wider and narrower than the input, near and far from both thresholds.
    for (d0, d1, n) in [(1000, 2000, 500), (3000, 2000, 1000), (2000, 2000, 1999), (100000, 2000, 10), (501, 5000, 500)] {
        let s = spec(&[
            &format!("data.dim={d0}"),
            &format!("features.widths=[{d1}]"),
            "features.activation=identity",
            "teacher.norm2=1.7",
            "teacher.noise_std=0.4",
            &format!("training.samples={n}"),
        ]);
        let p = predict(&s).unwrap();
        let (bias, variance) = identity_one_layer(d0 as f64, d1 as f64, n as f64, 1.7, 0.16);
        assert!(relative(p.bias, bias) < 1e-8, "d0={d0} d1={d1} n={n}: bias {} vs {bias}", p.bias);
        assert!(relative(p.variance, variance) < 1e-8, "d0={d0} d1={d1} n={n}: variance {} vs {variance}", p.variance);
        assert!(relative(p.test_error, bias + variance + 0.16) < 1e-8);
    }
}

/// With no teacher signal the whole excess risk is the variance term; for the
/// identity layer it is the closed form above, and for a wide input it tends to
/// the isotropic `sigma^2 n/(p - n)`.
#[test]
fn pure_variance_term_matches_closed_forms() {
    let s = spec(&[
        "data.dim=1500",
        "features.widths=[2500]",
        "features.activation=identity",
        "teacher.norm2=0",
        "teacher.noise_std=1.3",
        "training.samples=1200",
    ]);
    let p = predict(&s).unwrap();
    assert_eq!(p.bias, 0.0);
    let (_, variance) = identity_one_layer(1500.0, 2500.0, 1200.0, 0.0, 1.69);
    assert!(relative(p.excess_risk, variance) < 1e-8, "{} vs {variance}", p.excess_risk);

    let wide = spec(&[
        "data.dim=1000000000",
        "features.widths=[2000]",
        "features.activation=identity",
        "teacher.norm2=0",
        "teacher.noise_std=1",
        "training.samples=800",
    ]);
    let isotropic = 800.0 / 1200.0;
    assert!(relative(predict(&wide).unwrap().excess_risk, isotropic) < 1e-5);
}

/// `d_L/n -> infinity`: the interpolator shrinks to zero, so the excess risk tends
/// to the risk of predicting 0, `E (phi_L^T a*)^2 = r^2 v_L` (v_L from the GEP fold).
/// Every width must dwarf n: one sample already learns O(1/d_l) of the signal.
#[test]
fn vanishing_sample_ratio_gives_the_null_predictor_risk() {
    for activation in ["tanh", "erf", "sign"] {
        let s = spec(&[
            "data.dim=100000000",
            "features.widths=[100000000]",
            "features.depth=3",
            &format!("features.activation={activation}"),
            "teacher.norm2=2",
            "training.samples=1",
        ]);
        let p = predict(&s).unwrap();
        let v_last = p.gep.last().unwrap().v_out;
        assert!(relative(p.excess_risk, 2.0 * v_last) < 1e-6, "{activation}: {} vs {}", p.excess_risk, 2.0 * v_last);
    }
}
