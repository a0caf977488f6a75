//! `rfrisk bench`: the sweep benchmark and one simulation trial against NumPy.

use super::args::BackendChoice;
use super::args::Format;
use super::common::{choose_backend, json, progress_bar, report_to};
use super::failure::Failure;
use std::path::Path;

/// `rfrisk bench trial`.
pub fn trial(backend: BackendChoice, repeats: usize) -> Result<String, Failure> {
    let backend = choose_backend(backend)?;
    let b = rfrisk::bench::trial_bench(backend.as_ref(), repeats.max(1)).map_err(|e| Failure { code: 4, message: e.to_string() })?;
    let mut out = format!(
        "one trial: d0 = 2048, widths 2048 x 2, tanh, n = 1000, n_test = 2000, squared ({:.1} GFLOP), median of {}\n\
         rfrisk {:<8} gaussian {:>7.3} s   onebit {:>7.3} s   {:>6.1} GFLOP/s (gaussian)\n\
         rfrisk one-bit layers as f32 matrices (--kernel dense): {:.3} s\n\
         time ratio gaussian / onebit (packed): {:.2}x; onebit dense / packed: {:.2}x\n",
        b.flops / 1e9,
        repeats.max(1),
        b.backend,
        b.gaussian_seconds,
        b.onebit_seconds,
        b.flops / b.gaussian_seconds / 1e9,
        b.onebit_dense_seconds,
        b.gaussian_seconds / b.onebit_seconds,
        b.onebit_dense_seconds / b.onebit_seconds
    );
    out += &numpy_baseline(&b, repeats.max(1));
    Ok(out)
}

/// `rfrisk bench inference`: the paper's Figure 5 on this machine.
pub fn inference(backend: BackendChoice, repeats: usize, format: Format) -> Result<String, Failure> {
    if repeats < 5 {
        return Err(Failure { code: 2, message: "bench inference needs --repeats >= 5 (the median of alternated repeats)".into() });
    }
    let kernel = validation::packed::Kernel::from_env().map_err(|message| Failure { code: 2, message: format!("RFRISK_PACKED_KERNEL: {message}") })?;
    let backend = match backend {
        BackendChoice::Auto => return Err(Failure { code: 2, message: "bench inference: choose --backend cpu or opencl".into() }),
        b => choose_backend(b)?,
    };
    let bar = progress_bar();
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sizes, {elapsed} elapsed").expect("a valid template"));
    let points = rfrisk::bench::inference_bench(backend.as_ref(), kernel, &rfrisk::bench::INFERENCE_DIMS, &rfrisk::bench::INFERENCE_BATCHES, repeats, &report_to(&bar))
        .map_err(|message| Failure { code: 4, message })?;
    bar.finish_and_clear();
    Ok(match format {
        Format::Json => json(&points),
        Format::Table => inference_table(&points, backend.name(), kernel, repeats),
    })
}

fn inference_table(points: &[rfrisk::bench::InferencePoint], backend: &str, kernel: validation::packed::Kernel, repeats: usize) -> String {
    let mut out = format!(
        "inference, one hidden layer d0 = d1 = d, tanh: f32 Gaussian weights against packed one-bit weights\n\
         backend {backend}, packed kernel {kernel}, {} threads, median of {repeats} alternated repeats\n\
         {:>5} {:>6} {:>12} {:>12} {:>8} {:>12} {:>12} {:>7}\n",
        rayon::current_num_threads(),
        "d",
        "batch",
        "dense",
        "packed",
        "speedup",
        "dense bytes",
        "packed bytes",
        "ratio"
    );
    for p in points {
        out += &format!(
            "{:>5} {:>6} {:>10.1}us {:>10.1}us {:>7.2}x {:>12} {:>12} {:>7}\n",
            p.d,
            p.batch,
            p.dense_s * 1e6,
            p.packed_s * 1e6,
            p.speedup,
            p.dense_bytes,
            p.packed_bytes,
            format!("1/{:.0}", p.dense_bytes as f64 / p.packed_bytes as f64)
        );
    }
    out
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
         slowest            {:>10.1} us\n\
         p-norm maps q = 1.25, 1.5, 3 (sparse:0.1 teacher, noise 0.1), {} points each:\n\
         one prediction     {:>10.2} ms   (median; {:.0} x the squared map's)\n\
         slowest            {:>10.2} ms\n\
         no prediction      {:>10}\n",
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
        b.general_slowest_seconds * 1e6,
        b.points,
        b.pnorm_prediction_seconds * 1e3,
        b.pnorm_prediction_seconds / b.single_prediction_seconds,
        b.pnorm_slowest_seconds * 1e3,
        b.pnorm_failed_points
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
