//! `rfrisk bench`: the sweep benchmark and one simulation trial against NumPy.

use super::args::BackendChoice;
use super::common::choose_backend;
use super::failure::Failure;
use std::path::Path;

/// `rfrisk bench trial`.
pub fn trial(backend: BackendChoice, repeats: usize) -> Result<String, Failure> {
    let backend = choose_backend(backend)?;
    let b = rfrisk::bench::trial_bench(backend.as_ref(), repeats.max(1)).map_err(|e| Failure { code: 4, message: e.to_string() })?;
    let mut out = format!(
        "one trial: d0 = 2048, widths 2048 x 2, tanh, n = 1000, n_test = 2000, squared ({:.1} GFLOP)\n\
         rfrisk {:<8} gaussian {:>7.3} s   onebit {:>7.3} s   {:>6.1} GFLOP/s\n",
        b.flops / 1e9,
        b.backend,
        b.gaussian_seconds,
        b.onebit_seconds,
        b.flops / b.gaussian_seconds / 1e9
    );
    out += &numpy_baseline(&b, repeats.max(1));
    Ok(out)
}

/// `rfrisk bench sweep`.
pub fn sweep(points: usize, depth: usize, repeats: usize) -> Result<String, Failure> {
    if points < 2 || depth < 1 || repeats < 1 {
        return Err(Failure { code: 2, message: "bench needs --points >= 2, --depth >= 1, --repeats >= 1".into() });
    }
    let b = rfrisk::bench::sweep_bench(depth, points, repeats);
    Ok(format!(
        "sweep of training.samples, {} points, L = {}, widths 2000, d0 = 1000 ({} threads, best of {repeats})\n\
         parallel sweep     {:>10.3} ms\n\
         one-thread sweep   {:>10.3} ms   (baseline: the same sweep on one thread)\n\
         speed-up           {:>10.2} x\n\
         one prediction     {:>10.1} us   (median)\n\
         failed points      {:>10}\n\
         entropic map (half-normal teacher, noise 0.1), same points:\n\
         one prediction     {:>10.3} ms   (median; {:.0} x the squared map's)\n\
         slowest            {:>10.3} ms\n\
         past the boundary  {:>10}   (refused with exit 3 by predict)\n\
         linear teacher (k = 0), spectrum power:0.5, ridge 0.01, n doubled (both sides of d_L):\n\
         one prediction     {:>10.1} us   (median; {:.1} x the squared map's)\n\
         slowest            {:>10.1} us\n",
        b.points,
        b.depth,
        b.threads,
        b.parallel_seconds * 1e3,
        b.sequential_seconds * 1e3,
        b.sequential_seconds / b.parallel_seconds,
        b.single_prediction_seconds * 1e6,
        b.failed_points,
        b.entropic_prediction_seconds * 1e3,
        b.entropic_prediction_seconds / b.single_prediction_seconds,
        b.entropic_slowest_seconds * 1e3,
        b.entropic_infeasible_points,
        b.general_prediction_seconds * 1e6,
        b.general_prediction_seconds / b.single_prediction_seconds,
        b.general_slowest_seconds * 1e6
    ))
}

/// Runs validation/bench/numpy_trial.py (same trial, same process tree) and
/// prints its times beside ours, with the ratio.
fn numpy_baseline(ours: &rfrisk::bench::TrialBench, repeats: usize) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/bench/numpy_trial.py");
    let output = std::process::Command::new("python3").arg(&script).arg(repeats.to_string()).output();
    let parsed = output
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok());
    let secs = |numpy: &serde_json::Value, law: &str| numpy[law]["seconds"].as_f64().filter(|s| *s > 0.0);
    let Some((numpy, g, o)) = parsed.and_then(|n| Some((secs(&n, "gaussian")?, secs(&n, "onebit")?)).map(|(g, o)| (n, g, o))) else {
        return format!("numpy baseline: could not run `python3 {}` (is NumPy installed?)\n", script.display());
    };
    format!(
        "numpy {:<9} gaussian {:>7.3} s   onebit {:>7.3} s   {:>6.1} GFLOP/s\n\
         time ratio numpy / rfrisk: gaussian {:.2}x, onebit {:.2}x (above 1: rfrisk is faster)\n",
        numpy["numpy"].as_str().unwrap_or("?"),
        g,
        o,
        ours.flops / g / 1e9,
        g / ours.gaussian_seconds,
        o / ours.onebit_seconds
    )
}
