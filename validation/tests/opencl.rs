//! The OpenCL backend against the CPU reference on the same weights and inputs.
//!
//! Its own small harness (`harness = false`), because the standard one cannot skip at
//! run time: where no OpenCL runtime or device exists each check is reported as
//! SKIPPED with the reason, and the binary still succeeds; where `RFRISK_REQUIRE_OPENCL=1`
//! (set by `.ci/run` after it installs PoCL) a missing runtime is a failure.

use faer::Mat;
use validation::draws::{self, Stream};
use validation::model::{Activation, WeightLaw};
use validation::packed::{Kernel, PackedLayer};
use validation::{Backend, Cpu, KernelChoice, Layer, OpenCl};

#[path = "../../tests/common/record.rs"]
mod record;

/// A named check on the device.
type Check = (&'static str, fn(&OpenCl));

const CHECKS: &[Check] = &[
    ("opencl_features_match_the_cpu_backend", opencl_features_match_the_cpu_backend),
    ("the_opencl_packed_kernel_matches_the_cpu_kernels", the_opencl_packed_kernel_matches_the_cpu_kernels),
    ("a_trial_on_opencl_matches_the_cpu_trial", a_trial_on_opencl_matches_the_cpu_trial),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        CHECKS.iter().for_each(|(name, _)| println!("{name}: test"));
        return;
    }
    // The standard harness's filter: run the checks whose name contains a free argument.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<_> = CHECKS.iter().filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))).collect();
    if args.iter().any(|a| a == "--ignored") || chosen.is_empty() {
        println!("\nrunning 0 OpenCL checks");
        return;
    }
    let required = std::env::var("RFRISK_REQUIRE_OPENCL").is_ok_and(|v| v == "1");
    let cl = match OpenCl::new() {
        Ok(cl) => cl,
        Err(e) if required => {
            eprintln!("FAILED: RFRISK_REQUIRE_OPENCL=1 but the OpenCL checks cannot run: {e}");
            std::process::exit(1);
        }
        Err(e) => {
            println!();
            chosen.iter().for_each(|(name, _)| println!("test {name} ... SKIPPED ({e})"));
            println!("\nOpenCL checks: 0 passed; {} SKIPPED (no OpenCL runtime; set RFRISK_REQUIRE_OPENCL=1 to make this a failure)\n", chosen.len());
            return;
        }
    };
    println!("\nrunning {} OpenCL checks on {}", chosen.len(), cl.device());
    for (name, check) in &chosen {
        check(&cl);
        println!("test {name} ... ok");
    }
    println!("\nOpenCL checks: {} passed; 0 skipped\n", chosen.len());
}

fn max_relative(a: &Mat<f32>, b: &Mat<f32>) -> f64 {
    let scale = (0..a.ncols()).flat_map(|j| (0..a.nrows()).map(move |i| (i, j))).fold(0.0f64, |m, (i, j)| m.max(a[(i, j)].abs() as f64));
    (0..a.ncols())
        .flat_map(|j| (0..a.nrows()).map(move |i| (i, j)))
        .fold(0.0f64, |m, (i, j)| m.max((a[(i, j)] - b[(i, j)]).abs() as f64))
        / scale
}

fn opencl_features_match_the_cpu_backend(cl: &OpenCl) {
    let mut worst = 0.0f64;
    eprintln!("OpenCL device: {}", cl.device());
    // Sizes that are not multiples of the 16 x 16 tile, two layers, both laws.
    let (rows, dim, widths) = (203, 150, [170, 97]);
    for law in [WeightLaw::Gaussian, WeightLaw::Onebit] {
        let inputs = draws::stacked_inputs(3, (Stream::TrainInputs, rows), (Stream::TestInputs, 0), dim, validation::model::InputSource::Gaussian);
        let mut fan_in = dim;
        let weights: Vec<Layer> = widths
            .iter()
            .enumerate()
            .map(|(l, &w)| {
                let m = draws::layer_weights(3, l + 1, w, fan_in, law);
                fan_in = w;
                Layer::Dense(m)
            })
            .collect();
        for &(_, act) in Activation::CHOICES {
            let cpu = Cpu.features(inputs.clone(), &weights, act).unwrap();
            // The kernel has the activations of the odd theory and ReLU; the others say so.
            if !validation::OpenCl::has_kernel_for(act) {
                let refused = cl.features(inputs.clone(), &weights, act).unwrap_err();
                assert!(refused.contains("use --backend cpu or auto"), "{act}: {refused}");
                // `--backend auto` on a GPU hands these to the CPU.
                let auto = validation::backend::GpuOrCpu(validation::OpenCl::new().unwrap());
                assert_eq!(auto.features(inputs.clone(), &weights, act).unwrap(), cpu, "{act}");
                continue;
            }
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
            worst = worst.max(rel);
        }
    }
    record::record("opencl-features", &format!("{worst:.0e} worst"));
}

/// Packed one-bit layers (sizes that are not multiples of 32, two layers) through the OpenCL
/// packed kernel against every CPU kernel and the f32 dense product on the same signs.
fn the_opencl_packed_kernel_matches_the_cpu_kernels(cl: &OpenCl) {
    let (rows, dim, widths) = (203, 150, [170, 97]);
    let inputs = draws::stacked_inputs(4, (Stream::TrainInputs, rows), (Stream::TestInputs, 0), dim, validation::model::InputSource::Gaussian);
    let dense: Vec<Layer> = [(dim, widths[0]), (widths[0], widths[1])]
        .iter()
        .enumerate()
        .map(|(l, &(fan_in, w))| Layer::Dense(draws::layer_weights(4, l + 1, w, fan_in, WeightLaw::Onebit)))
        .collect();
    let packed = |kernel| -> Vec<Layer> {
        dense.iter().map(|l| match l { Layer::Dense(w) => Layer::Packed(PackedLayer::pack(w.as_ref(), kernel)), p => p.clone() }).collect()
    };
    let mut worst = 0.0f64;
    for act in [Activation::Tanh, Activation::Erf, Activation::Identity, Activation::Relu] {
        let reference = Cpu.features(inputs.clone(), &dense, act).unwrap();
        for kernel in Kernel::available() {
            let cpu = Cpu.features(inputs.clone(), &packed(kernel), act).unwrap();
            let gpu = cl.features(inputs.clone(), &packed(kernel), act).unwrap();
            let (rel_gpu, rel_cpu) = (max_relative(&reference, &gpu), max_relative(&reference, &cpu));
            eprintln!("packed {kernel} {act}: OpenCL {rel_gpu:.1e}, CPU {rel_cpu:.1e} from the dense product");
            assert!(rel_gpu < 1e-5 && rel_cpu < 1e-5, "{kernel} {act}: {rel_gpu:e} {rel_cpu:e}");
            worst = worst.max(rel_gpu);
        }
    }
    record::record("opencl-packed", &format!("{worst:.0e} worst"));
}

fn a_trial_on_opencl_matches_the_cpu_trial(cl: &OpenCl) {
    let spec = validation::model::Spec {
        dim: 120,
        spectrum: validation::model::Spectrum::Identity,
        source: validation::model::InputSource::Gaussian,
        data_path: None,
        data_layout: Default::default(),
        task: validation::model::Task::Regression,
        widths: vec![200, 260],
        activation: Activation::Tanh,
        weights: WeightLaw::Onebit,
        prior: validation::model::Prior::Gaussian,
        teacher_depth: None,
        norm2: 1.0,
        noise_std: 0.2,
        samples: 100,
        mirror: validation::model::Mirror::Squared,
        init: 0.0,
        ridge: 0.0,
    };
    let run = |backend: &dyn Backend, kernel| validation::run_trial(&spec, WeightLaw::Onebit, 11, 300, validation::Trainer::Direct, backend, kernel).unwrap();
    // The CPU's f32 product against the OpenCL packed kernel.
    let (a, b) = (run(&Cpu, KernelChoice::Dense), run(cl, KernelChoice::Packed));
    let rel = (a.excess_risk - b.excess_risk).abs() / a.excess_risk;
    eprintln!("excess risk cpu {} opencl {} (relative {rel:.1e})", a.excess_risk, b.excess_risk);
    // Measured 2e-7: the f32 features differ in the last bits, the f64 trainer does not amplify them.
    assert!(rel < 1e-5, "{rel:e}");
    record::record("opencl-trial", &format!("risk {rel:.0e}"));
}
