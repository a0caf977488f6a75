//! `rfrisk bench`: how fast the calculator is, against a baseline run in the same process.

use crate::solver::predict::predict;
use crate::spec::SpecDoc;
use crate::study::sweep::sweep;
use std::time::{Duration, Instant};

/// Timings of a `training.samples` sweep at depth `depth`, width 2000.
#[derive(Debug, serde::Serialize)]
pub struct SweepBench {
    pub depth: usize,
    pub points: usize,
    pub threads: usize,
    /// Best of `repeats` wall times of the parallel sweep (what `rfrisk sweep` runs).
    pub parallel_seconds: f64,
    /// Best of `repeats` wall times of the same sweep on a one-thread pool (the baseline).
    pub sequential_seconds: f64,
    /// Median time of one prediction.
    pub single_prediction_seconds: f64,
    pub failed_points: usize,
    /// The same points with the entropic map (half-normal teacher, noise 0.1):
    /// median and slowest time of one prediction over the points with a positive
    /// interpolator, and how many points were past the feasibility boundary.
    pub entropic_prediction_seconds: f64,
    pub entropic_slowest_seconds: f64,
    pub entropic_infeasible_points: usize,
    /// The same points with what issue 14 added, all at once: a linear teacher (k = 0), an
    /// input spectrum power:0.5, a ridge 0.01 and n doubled (both sides of n = d_L): median
    /// and slowest time of one prediction.
    pub general_prediction_seconds: f64,
    pub general_slowest_seconds: f64,
    /// The same points with the p-norm maps q = 1.25, 1.5 and 3 (sparse:0.1 teacher, noise 0.1):
    /// median and slowest time of one prediction, and how many points had none.
    pub pnorm_prediction_seconds: f64,
    pub pnorm_slowest_seconds: f64,
    pub pnorm_failed_points: usize,
}

fn best_of(repeats: usize, mut run: impl FnMut()) -> Duration {
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .expect("repeats >= 1")
}

pub fn sweep_bench(depth: usize, points: usize, repeats: usize) -> SweepBench {
    let mut doc = SpecDoc::default();
    for set in ["data.dim=1000", "features.widths=[2000]", &format!("features.depth={depth}")] {
        doc.set(set).expect("bench spec keys are valid");
    }
    // n from 5 to 1995: the whole interpolation range of d_L = 2000.
    let step = 1990 / (points.max(2) - 1);
    let values: Vec<String> = (0..points).map(|i| (5 + i * step).to_string()).collect();
    let mut failed_points = 0;
    let parallel = best_of(repeats, || {
        failed_points = sweep(&doc, "training.samples", &values).iter().filter(|p| p.outcome.is_err()).count();
    });
    // Baseline: the very same sweep confined to one thread.
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a one-thread pool");
    let sequential = best_of(repeats, || {
        one_thread.install(|| std::hint::black_box(sweep(&doc, "training.samples", &values)));
    });
    let specs: Vec<_> = values
        .iter()
        .map(|v| {
            let mut d = doc.clone();
            d.set(&format!("training.samples={v}")).expect("a valid sample count");
            d.to_spec().expect("n < d_L for every bench point")
        })
        .collect();
    let time_one = |spec: &crate::spec::Spec| {
        let start = Instant::now();
        let ok = std::hint::black_box(predict(spec)).is_ok();
        (start.elapsed(), ok)
    };
    let mut singles: Vec<Duration> = specs.iter().map(|spec| time_one(spec).0).collect();
    singles.sort();
    let entropic: Vec<(Duration, bool)> = specs
        .iter()
        .map(|spec| {
            let spec = crate::spec::Spec {
                mirror: crate::spec::Mirror::Entropic,
                prior: crate::spec::Prior::HalfNormal,
                noise_std: 0.1,
                init: (2.0 / (std::f64::consts::PI * spec.last_width() as f64)).sqrt(),
                ..spec.clone()
            };
            time_one(&spec)
        })
        .collect();
    let mut general: Vec<Duration> = specs
        .iter()
        .map(|spec| {
            let spec = crate::spec::Spec {
                teacher_depth: Some(0),
                spectrum: crate::spec::Spectrum::Power { alpha: 0.5 },
                ridge: 0.01,
                samples: 2 * spec.samples,
                ..spec.clone()
            };
            let (t, ok) = time_one(&spec);
            assert!(ok, "every general bench point is answered: {spec}");
            t
        })
        .collect();
    general.sort();
    let pnorm: Vec<(Duration, bool)> = specs
        .iter()
        .flat_map(|spec| {
            [1.25, 1.5, 3.0].map(|q| {
                let spec = crate::spec::Spec { mirror: crate::spec::Mirror::PNorm { q }, prior: crate::spec::Prior::Sparse { eps: 0.1 }, noise_std: 0.1, ..spec.clone() };
                time_one(&spec)
            })
        })
        .collect();
    let mut pnorm_ok: Vec<Duration> = pnorm.iter().filter(|(_, ok)| *ok).map(|(t, _)| *t).collect();
    pnorm_ok.sort();
    let mut feasible: Vec<Duration> = entropic.iter().filter(|(_, ok)| *ok).map(|(t, _)| *t).collect();
    feasible.sort();
    SweepBench {
        depth,
        points,
        threads: rayon::current_num_threads(),
        parallel_seconds: parallel.as_secs_f64(),
        sequential_seconds: sequential.as_secs_f64(),
        single_prediction_seconds: singles[singles.len() / 2].as_secs_f64(),
        failed_points,
        entropic_prediction_seconds: feasible.get(feasible.len() / 2).map_or(f64::NAN, Duration::as_secs_f64),
        entropic_slowest_seconds: feasible.last().map_or(f64::NAN, Duration::as_secs_f64),
        entropic_infeasible_points: entropic.len() - feasible.len(),
        general_prediction_seconds: general[general.len() / 2].as_secs_f64(),
        general_slowest_seconds: general[general.len() - 1].as_secs_f64(),
        pnorm_prediction_seconds: pnorm_ok.get(pnorm_ok.len() / 2).map_or(f64::NAN, Duration::as_secs_f64),
        pnorm_slowest_seconds: pnorm_ok.last().map_or(f64::NAN, Duration::as_secs_f64),
        pnorm_failed_points: pnorm.len() - pnorm_ok.len(),
    }
}

/// The trial of the benchmark: d0 = 2048, widths 2048 x 2, tanh,
/// n = 1000, n_test = 2000, squared map.
pub fn bench_trial_spec() -> crate::spec::Spec {
    let mut doc = SpecDoc::default();
    for set in ["data.dim=2048", "features.widths=[2048,2048]", "training.samples=1000"] {
        doc.set(set).expect("bench spec keys are valid");
    }
    doc.to_spec().expect("a valid bench spec")
}

pub const BENCH_N_TEST: usize = 2000;

/// Floating-point operations of one trial: the f32 forward GEMMs and the f64 Gram
/// matrix, its Cholesky factor and the two solves (everything else is O(n p)).
pub fn trial_flops(spec: &crate::spec::Spec, n_test: usize) -> f64 {
    let rows = (spec.samples + n_test) as f64;
    let dims: Vec<f64> = std::iter::once(spec.dim).chain(spec.widths.iter().copied()).map(|d| d as f64).collect();
    let forward: f64 = dims.windows(2).map(|d| 2.0 * rows * d[0] * d[1]).sum();
    let (n, p) = (spec.samples as f64, spec.last_width() as f64);
    forward + 2.0 * n * n * p + n * n * n / 3.0 + 4.0 * n * p
}

/// Median seconds of `repeats` trials: Gaussian weights, one-bit weights through the packed
/// kernels, and one-bit weights as f32 matrices (the three alternate, trial by trial).
#[derive(Debug, serde::Serialize)]
pub struct TrialBench {
    pub backend: String,
    pub gaussian_seconds: f64,
    pub onebit_seconds: f64,
    pub onebit_dense_seconds: f64,
    pub flops: f64,
}

pub fn trial_bench(backend: &dyn validation::Backend, repeats: usize) -> Result<TrialBench, validation::TrialError> {
    use crate::spec::WeightLaw;
    use validation::KernelChoice;
    let spec = bench_trial_spec();
    let run = |law, seed, kernel| validation::run_trial(&spec, law, seed, BENCH_N_TEST, validation::Trainer::Direct, backend, kernel).map(|o| o.seconds);
    // One warm-up trial: thread pools and page faults are not the trial's cost.
    run(WeightLaw::Gaussian, 0, KernelChoice::Dense)?;
    let cases = [(WeightLaw::Gaussian, KernelChoice::Dense), (WeightLaw::Onebit, KernelChoice::Packed), (WeightLaw::Onebit, KernelChoice::Dense)];
    let mut times = vec![Vec::new(); cases.len()];
    for k in 0..repeats {
        for (t, &(law, kernel)) in times.iter_mut().zip(&cases) {
            t.push(run(law, 1 + k as u64, kernel)?);
        }
    }
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    Ok(TrialBench {
        backend: backend.name().to_owned(),
        gaussian_seconds: median(&mut times[0]),
        onebit_seconds: median(&mut times[1]),
        onebit_dense_seconds: median(&mut times[2]),
        flops: trial_flops(&spec, BENCH_N_TEST),
    })
}

/// One point of the inference benchmark (the paper's Figure 5): one hidden layer, d0 = d1 =
/// `d`, tanh, `batch` inputs; median seconds of one forward pass with f32 Gaussian weights
/// (faer's GEMM, or the OpenCL SGEMM) and with packed one-bit weights, and the weight bytes.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InferencePoint {
    pub d: usize,
    pub batch: usize,
    pub dense_s: f64,
    pub packed_s: f64,
    pub speedup: f64,
    pub dense_bytes: usize,
    pub packed_bytes: usize,
}

pub const INFERENCE_DIMS: [usize; 5] = [256, 512, 1024, 2048, 4096];
pub const INFERENCE_BATCHES: [usize; 2] = [1, 1000];

/// Every (d, batch) of `dims x batches`. Dense and packed passes alternate, `repeats` times
/// each; a timed sample repeats the pass until it lasts about 20 ms (batch 1 at d = 256
/// takes microseconds), and the median sample over the pass count is reported.
pub fn inference_bench(
    backend: &dyn validation::Backend,
    kernel: validation::packed::Kernel,
    dims: &[usize],
    batches: &[usize],
    repeats: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<InferencePoint>, String> {
    use validation::model::{Activation, WeightLaw};
    use validation::packed::PackedLayer;
    use validation::Layer;
    let total = dims.len() * batches.len();
    let mut points = Vec::new();
    for &d in dims {
        let dense = Layer::Dense(validation::draws::layer_weights(1, 1, d, d, WeightLaw::Gaussian));
        let onebit = validation::draws::layer_weights(1, 1, d, d, WeightLaw::Onebit);
        let packed = Layer::Packed(PackedLayer::pack(onebit.as_ref(), kernel));
        for &batch in batches {
            let inputs = faer::Mat::<f32>::from_fn(batch, d, |i, j| (((i * 7919 + j * 104_729) % 1000) as f32 / 500.0) - 1.0);
            let pass = |layer: &Layer| -> Result<f64, String> {
                let start = Instant::now();
                std::hint::black_box(backend.features(inputs.clone(), std::slice::from_ref(layer), Activation::Tanh)?);
                Ok(start.elapsed().as_secs_f64())
            };
            // Warm-up and calibration: passes per timed sample.
            let first = pass(&dense)?.min(pass(&packed)?);
            let reps = ((0.02 / first.max(1e-7)).ceil() as usize).clamp(1, 100_000);
            let sample = |layer: &Layer| -> Result<f64, String> { Ok((0..reps).map(|_| pass(layer)).sum::<Result<f64, String>>()? / reps as f64) };
            let (mut dense_t, mut packed_t) = (Vec::new(), Vec::new());
            for _ in 0..repeats.max(1) {
                dense_t.push(sample(&dense)?);
                packed_t.push(sample(&packed)?);
            }
            let median = |mut t: Vec<f64>| {
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            };
            let (dense_s, packed_s) = (median(dense_t), median(packed_t));
            points.push(InferencePoint { d, batch, dense_s, packed_s, speedup: dense_s / packed_s, dense_bytes: dense.bytes(), packed_bytes: packed.bytes() });
            progress(points.len(), total);
        }
    }
    Ok(points)
}
