//! A one-bit trial through the packed kernels against the same trial with its one-bit layers
//! as f32 matrices: the excess risk agrees to 1e-5 relative, for every kernel this CPU runs
//! (forced in turn through RFRISK_PACKED_KERNEL; one test, so nothing else reads it meanwhile).

use validation::model::{Activation, Mirror, Prior, Spec, Spectrum, WeightLaw};
use validation::packed::Kernel;
use validation::{run_trial, Cpu, KernelChoice, Trainer};

#[path = "../../tests/common/record.rs"]
mod record;

fn spec(activation: Activation, widths: Vec<usize>, teacher_depth: Option<usize>, mirror: Mirror) -> Spec {
    Spec {
        dim: 301,
        spectrum: Spectrum::Identity,
        source: validation::model::InputSource::Gaussian,
        data_path: None,
        data_layout: Default::default(),
        task: validation::model::Task::Regression,
        widths,
        activation,
        weights: WeightLaw::Onebit,
        prior: if mirror == Mirror::Entropic { Prior::HalfNormal } else { Prior::Gaussian },
        teacher_depth,
        norm2: 1.0,
        noise_std: 0.1,
        samples: 150,
        mirror,
        init: if mirror == Mirror::Entropic { 0.05 } else { 0.0 },
        ridge: 0.0,
    }
}

#[test]
fn a_packed_one_bit_trial_matches_the_dense_one() {
    let specs = [
        spec(Activation::Tanh, vec![517, 389], None, Mirror::Squared),
        spec(Activation::Relu, vec![600], None, Mirror::Squared),
        spec(Activation::Erf, vec![450, 333, 700], Some(1), Mirror::Squared),
        spec(Activation::Tanh, vec![700], None, Mirror::Entropic),
    ];
    let mut worst = 0.0f64;
    for kernel in Kernel::available() {
        std::env::set_var("RFRISK_PACKED_KERNEL", kernel.to_string());
        for (i, s) in specs.iter().enumerate() {
            let run = |choice| run_trial(s, WeightLaw::Onebit, 40 + i as u64, 400, Trainer::Direct, &Cpu, choice).unwrap();
            let (packed, dense) = (run(KernelChoice::Packed), run(KernelChoice::Dense));
            let rel = (packed.excess_risk - dense.excess_risk).abs() / dense.excess_risk;
            eprintln!("{kernel} spec {i}: packed {:.9} dense {:.9} relative {rel:.1e}", packed.excess_risk, dense.excess_risk);
            assert!(rel <= 1e-5, "{kernel} spec {i}: {rel:e}");
            worst = worst.max(rel);
        }
    }
    std::env::remove_var("RFRISK_PACKED_KERNEL");
    record::record("packed-trial", &format!("{worst:.0e} worst, kernels {}", Kernel::available().iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")));
}
