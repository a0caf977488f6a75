//! The OpenCL backend against the CPU reference on the same weights and inputs.
//! Skipped, saying why, where no OpenCL runtime or device exists; `.ci/run`
//! installs PoCL so that CI runs them.

use faer::Mat;
use validation::draws::{self, Stream};
use validation::model::{Activation, WeightLaw};
use validation::{Backend, Cpu, OpenCl};

fn device() -> Option<OpenCl> {
    match OpenCl::new() {
        Ok(cl) => Some(cl),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn max_relative(a: &Mat<f32>, b: &Mat<f32>) -> f64 {
    let scale = (0..a.ncols()).flat_map(|j| (0..a.nrows()).map(move |i| (i, j))).fold(0.0f64, |m, (i, j)| m.max(a[(i, j)].abs() as f64));
    (0..a.ncols())
        .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
        .fold(0.0f64, |m, (i, j)| m.max((a[(i, j)] - b[(i, j)]).abs() as f64))
        / scale
}

#[test]
fn opencl_features_match_the_cpu_backend() {
    let Some(cl) = device() else { return };
    eprintln!("OpenCL device: {}", cl.device());
    // Sizes that are not multiples of the 16 x 16 tile, two layers, both laws.
    let (rows, dim, widths) = (203, 150, [170, 97]);
    for law in [WeightLaw::Gaussian, WeightLaw::Onebit] {
        let inputs = draws::stacked_inputs(3, (Stream::TrainInputs, rows), (Stream::TestInputs, 0), dim);
        let mut fan_in = dim;
        let weights: Vec<Mat<f32>> = widths
            .iter()
            .enumerate()
            .map(|(l, &w)| {
                let m = draws::layer_weights(3, l + 1, w, fan_in, law);
                fan_in = w;
                m
            })
            .collect();
        for &(_, act) in Activation::CHOICES {
            let cpu = Cpu.features(inputs.clone(), &weights, act).unwrap();
            let gpu = cl.features(inputs.clone(), &weights, act).unwrap();
            assert_eq!((gpu.nrows(), gpu.ncols()), (rows, 97));
            let rel = if act == Activation::Sign {
                // With one-bit weights the last layer's pre-activations are sums of
                // +-1/sqrt(d) terms and can be exactly 0, where rounding decides the
                // sign. Every entry must agree except where the CPU pre-activation is ~0.
                let hidden = Cpu.features(inputs.clone(), &weights[..1], act).unwrap();
                let pre = Cpu.features(hidden, &weights[1..], Activation::Identity).unwrap();
                let flips = (0..rows)
                    .flat_map(|i| (0..97).map(move |j| (i, j)))
                    .filter(|&(i, j)| cpu[(i, j)] != gpu[(i, j)] && pre[(i, j)].abs() > 1e-5)
                    .count();
                assert_eq!(flips, 0, "{law:?} sign: {flips} entries away from 0 differ");
                0.0
            } else {
                max_relative(&cpu, &gpu)
            };
            eprintln!("{law:?} {act}: max relative difference {rel:.2e}");
            assert!(rel < 1e-4, "{law:?} {act}: OpenCL and CPU differ by {rel:e}");
        }
    }
}

#[test]
fn a_trial_on_opencl_matches_the_cpu_trial() {
    let Some(cl) = device() else { return };
    let spec = validation::model::Spec {
        dim: 120,
        widths: vec![200, 260],
        activation: Activation::Tanh,
        weights: WeightLaw::Onebit,
        prior: validation::model::Prior::Gaussian,
        norm2: 1.0,
        noise_std: 0.2,
        samples: 100,
        mirror: validation::model::Mirror::Squared,
        init: 0.0,
    };
    let run = |backend: &dyn Backend| validation::run_trial(&spec, WeightLaw::Onebit, 11, 300, validation::Trainer::Direct, backend).unwrap();
    let (a, b) = (run(&Cpu), run(&cl));
    let rel = (a.excess_risk - b.excess_risk).abs() / a.excess_risk;
    eprintln!("excess risk cpu {} opencl {} (relative {rel:.1e})", a.excess_risk, b.excess_risk);
    // Measured 2e-7: the f32 features differ in the last bits, the f64 trainer does not amplify them.
    assert!(rel < 1e-5, "{rel:e}");
}
