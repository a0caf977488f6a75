//! The subcommands that run trials of the real model: `simulate`, `validate`, `gap`.

use super::args::{Format, GapArgs, SpecArgs, SweptArgs, TrialArgs, TrialsCsv, PlotLook};
use super::common::{json, known_key, load, progress_bar, report_to, typed_values};
use super::failure::{io_failure, simulate_failure, Failure};
use rfrisk::spec::{Spec, SpecError};
use std::path::PathBuf;

/// `rfrisk simulate`.
pub fn simulate(spec: SpecArgs, trial: TrialArgs, csv: TrialsCsv, format: Format) -> Result<String, Failure> {
    let TrialsCsv { out, resume } = csv;
    let spec = load(&spec)?;
    let (laws, backend) = trial.checked()?;
    let run = rfrisk::simulate::Run {
        spec: &spec,
        laws,
        trials: trial.trials,
        n_test: trial.n_test,
        seed: trial.seed,
        trainer: trial.trainer.into(),
        backend: backend.as_ref(),
    };
    let bar = progress_bar();
    let rows = run
        .execute(out.as_deref(), resume, &report_to(&bar))
        .map_err(simulate_failure)?;
    bar.finish_and_clear();
    let summary = rfrisk::simulate::summarize(&spec, &rows);
    Ok(match format {
        Format::Table => rfrisk::simulate::summary_table(&summary),
        Format::Json => json(&summary),
    })
}

/// `rfrisk validate`.
pub fn validate(swept: SweptArgs, trial: TrialArgs, out_dir: PathBuf, resume: bool, look: PlotLook) -> Result<String, Failure> {
    let (doc, values) = swept.resolve()?;
    let param = swept.param;
    let base = doc.to_spec()?;
    let (laws, backend) = trial.checked()?;
    let run = rfrisk::validate::Validation {
        doc: &doc,
        key: &param,
        values: &values,
        laws,
        trials: trial.trials,
        n_test: trial.n_test,
        seed: trial.seed,
        trainer: trial.trainer.into(),
        backend: backend.as_ref(),
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| io_failure(&out_dir, e))?;
    let bar = progress_bar();
    let curve = run
        .run(&out_dir, resume, look.log_x, &report_to(&bar))
        .map_err(|e| match e {
            rfrisk::validate::ValidateError::NotNumeric(_) => Failure { code: 2, message: e.to_string() },
            rfrisk::validate::ValidateError::Simulate(e) => simulate_failure(e),
        })?;
    bar.finish_and_clear();
    let csv = out_dir.join("validate.csv");
    curve.write(&csv).map_err(|e| Failure { code: 1, message: e.to_string() })?;
    let failed: Vec<String> = curve.rows.iter().filter(|r| !r.ok()).map(|r| format!("warning: {param}={} {}: {}", r.x, r.series, r.status)).collect();
    let total = curve.rows.len();
    let options = rfrisk::plot::PlotOptions {
        metric: look.metric.into(),
        log_x: look.log_x,
        log_y: look.log_y,
        title: rfrisk::plot::title(&base, &param),
        y_label: None,
    };
    rfrisk::plot::draw(&[(String::new(), curve)], &options, &out_dir.join("validate"))
        .map_err(|e| Failure { code: 1, message: e.to_string() })?;
    eprintln!("wrote {}, validate.png and validate.svg in {}", csv.display(), out_dir.display());
    if !failed.is_empty() {
        failed.iter().for_each(|line| eprintln!("{line}"));
        return Err(Failure::points_failed(failed.len(), total));
    }
    Ok(String::new())
}

/// `rfrisk gap`.
pub fn gap(spec: SpecArgs, trial: TrialArgs, test: GapArgs, csv: TrialsCsv, format: Format) -> Result<String, Failure> {
    let (GapArgs { detect, alpha, power, scan, values }, TrialsCsv { out, resume }) = (test, csv);
    let input = |message: String| Failure { code: 2, message };
    if !(detect > 0.0 && detect.is_finite()) {
        return Err(input(format!("--detect must be > 0, got {detect}")));
    }
    if !(alpha > 0.0 && alpha < 1.0 && power > 0.0 && power < 1.0) {
        return Err(input(format!("--alpha and --power must be in (0, 1), got {alpha} and {power}")));
    }
    let doc = rfrisk::spec::read_doc(&spec.spec, &spec.overrides)?;
    let (laws, backend) = trial.checked()?;
    let gap_failure = |e: rfrisk::gap::GapError| match e {
        rfrisk::gap::GapError::Simulate(e) => simulate_failure(e),
        other => input(other.to_string()),
    };
    let bar = progress_bar();
    let progress = report_to(&bar);
    let points: Vec<(String, Spec)> = match (&scan, &values) {
        (Some(key), Some(values)) => {
            known_key("--scan", key)?;
            if out.is_some() {
                return Err(input("--out is for a single spec, not --scan".into()));
            }
            let values = typed_values(key, values)?;
            values
                .into_iter()
                .map(|v| {
                    let mut d = doc.clone();
                    d.set(&format!("{key}={v}"))?;
                    Ok((v, d.to_spec()?))
                })
                .collect::<Result<_, SpecError>>()?
        }
        _ => vec![(String::new(), doc.to_spec()?)],
    };
    let mut scanned = Vec::new();
    for (value, spec) in &points {
        let run = rfrisk::simulate::Run {
            spec,
            laws: laws.clone(),
            trials: trial.trials,
            n_test: trial.n_test,
            seed: trial.seed,
            trainer: trial.trainer.into(),
            backend: backend.as_ref(),
        };
        let rows = run.execute(out.as_deref(), resume, &progress).map_err(simulate_failure)?;
        let (mean_abs_gap, mean_abs_gap_stderr) = match laws[..] {
            [a, b] => rfrisk::gap::mean_abs_gap(&rows, a, b),
            _ => return Err(gap_failure(rfrisk::gap::GapError::NotTwoLaws(laws.len()))),
        };
        let report = rfrisk::gap::report(spec, &laws, &rows, detect, alpha, power).map_err(gap_failure)?;
        scanned.push(rfrisk::gap::ScanPoint { value: value.clone(), mean_abs_gap, mean_abs_gap_stderr, report });
    }
    bar.finish_and_clear();
    if scan.is_none() {
        let report = &scanned[0].report;
        return Ok(match format {
            Format::Table => rfrisk::gap::table(report),
            Format::Json => json(report),
        });
    }
    let xy: Vec<(f64, f64)> = scanned.iter().filter_map(|p| p.value.parse::<f64>().ok().map(|x| (x, p.mean_abs_gap))).collect();
    let slope = rfrisk::gap::log_log_slope(&xy, alpha);
    Ok(match format {
        Format::Json => json(&serde_json::json!({ "scan": scan, "points": scanned, "slope": slope })),
        Format::Table => rfrisk::gap::scan_table(scan.as_deref().unwrap_or(""), &scanned, slope.as_ref(), alpha),
    })
}
