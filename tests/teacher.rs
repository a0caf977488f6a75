//! A teacher below the last layer, anisotropic inputs and least squares
//! (equations/teacher.md) against the deterministic equivalent of realized matrices, the
//! cross-covariance version (teacher.md §5): it uses the drawn weights' `Sigma_L`, `Sigma_k`
//! and `C_{L,k}` directly and none of the layer recursion.

mod common;
use common::{relative, resized, spec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rfrisk::det_equiv::with_cross_covariance;
use rfrisk::realized::realized_pair;
use rfrisk::spec::Spec;
use rfrisk::{gep::layer_coefficients, predict};

/// (theory excess, realized excess, theory approximation error, realized one).
fn both_routes(spec: &Spec, seed: u64) -> (f64, f64, f64, f64) {
    let theory = predict(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
    let gep = layer_coefficients(spec.activation, spec.depth());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pair = realized_pair(&spec.spectrum.eigenvalues(spec.dim), &spec.widths, &gep, spec.weights, spec.teacher_depth(), &mut rng);
    let (norm2, start) = if spec.teacher_depth() == spec.depth() { (spec.effective_norm2(), 0.0) } else { (spec.norm2, spec.start_norm2()) };
    let de = with_cross_covariance(&pair.top, &pair.teacher, &pair.cross, spec.samples, spec.ridge, norm2, start, spec.noise_std.powi(2));
    (theory.excess_risk, de.excess_risk(), theory.approximation_error, de.approximation_error)
}

fn specs() -> Vec<(&'static str, Spec)> {
    vec![
        ("tanh L=1 k=0 ridgeless", spec(&["data.dim=1000", "features.widths=[2000]", "training.samples=800", "teacher.depth=0", "teacher.noise_std=0.3"])),
        ("tanh L=1 k=0 least squares", spec(&["data.dim=1000", "features.widths=[1000]", "training.samples=2000", "teacher.depth=0", "teacher.noise_std=0.3"])),
        ("erf L=2 k=1 onebit ridge", spec(&["data.dim=1000", "features.widths=[1500,2000]", "features.activation=erf", "features.weights=onebit", "training.samples=1500", "teacher.depth=1", "training.ridge=0.01", "teacher.noise_std=0.2"])),
        ("tanh L=3 k=0 ridge n>p", spec(&["data.dim=1200", "features.widths=[1500,1500,1500]", "training.samples=2500", "teacher.depth=0", "training.ridge=0.001"])),
        ("tanh L=2 k=2 power spectrum", spec(&["data.dim=1500", "features.widths=[2000,2000]", "training.samples=1000", "data.spectrum=power:0.7", "teacher.noise_std=0.3"])),
        ("sign L=2 k=0 power spectrum", spec(&["data.dim=1500", "features.widths=[2000,2000]", "features.activation=sign", "training.samples=1200", "data.spectrum=power:1", "teacher.depth=0", "training.init=0.01"])),
        ("tanh L=3 k=1 init bimodal ridge", spec(&["data.dim=1000", "features.widths=[2000,1500,2000]", "training.samples=1500", "data.spectrum=bimodal:4:0.2", "teacher.depth=1", "training.init=0.02", "training.ridge=0.1", "teacher.noise_std=0.5"])),
    ]
}

#[test]
fn explore() {
    for (i, (name, spec)) in specs().iter().enumerate() {
        let t0 = std::time::Instant::now();
        let (t, d, ta, da) = both_routes(spec, 100 + i as u64);
        eprintln!("{name:34} theory {t:.6} de {d:.6} rel {:.2e} | approx {ta:.6} {da:.6} | {:.1}s", relative(d, t), t0.elapsed().as_secs_f64());
    }
}
