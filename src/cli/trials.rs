//! The subcommands that run trials of the real model: `simulate`, `validate`, `gap`.

use super::args::{shard_done, Format, GapArgs, PlotLook, SpecArgs, SweptArgs, TrialArgs};
use super::common::{json, known_key, load, progress_bar, report_to, values_of};
use super::failure::{io_failure, simulate_failure, Failure};
use rfrisk::shard::Storage;
use rfrisk::spec::{Spec, SpecError};
use std::path::PathBuf;

/// `rfrisk simulate`.
pub fn simulate(spec: SpecArgs, trial: TrialArgs, out: Option<PathBuf>, storage: Storage, format: Format) -> Result<String, Failure> {
    let spec = load(&spec)?;
    let (laws, backend) = trial.checked()?;
    let run = trial.run(&spec, laws, backend.as_ref());
    let bar = progress_bar();
    let rows = run
        .execute(out.as_deref(), storage, &report_to(&bar))
        .map_err(simulate_failure)?;
    bar.finish_and_clear();
    if let Some(done) = shard_done(&storage) {
        return Ok(done);
    }
    let summary = rfrisk::simulate::summarize(&spec, &rows);
    Ok(match format {
        Format::Table => rfrisk::simulate::summary_table(&summary),
        Format::Json => json(&summary),
    })
}

/// `rfrisk validate`.
pub fn validate(swept: SweptArgs, trial: TrialArgs, out_dir: PathBuf, storage: Storage, series: Option<String>, look: PlotLook) -> Result<String, Failure> {
    let (doc, values) = swept.resolve()?;
    let param = swept.param;
    // The spec the title describes: at the first swept value that makes one (the document's
    // own sample count, say, need not fit when the ratio is swept).
    let at = |v: &String| {
        let mut d = doc.clone();
        d.set(&format!("{param}={v}")).and_then(|()| d.to_spec())
    };
    let base = values.iter().find_map(|v| at(v).ok()).map_or_else(|| at(&values[0]), Ok)?;
    let (laws, backend) = trial.checked()?;
    // One (name, spec document) per curve of the family; one unnamed curve without --series.
    let family: Vec<(String, rfrisk::SpecDoc)> = match &series {
        None => vec![(String::new(), doc.clone())],
        Some(assignment) => {
            let input = |message: String| Failure { code: 2, message };
            let (key, raw) = assignment.split_once('=').ok_or_else(|| input(format!("--series {assignment}: expected KEY=v1,v2,...")))?;
            known_key("--series", key)?;
            if key == param {
                return Err(input(format!("--series {key}: it is already the swept --param")));
            }
            values_of("--series", key, raw)?
                .into_iter()
                .map(|v| {
                    let mut d = doc.clone();
                    d.set(&format!("{key}={v}")).map(|()| (format!("{key}={v}"), d))
                })
                .collect::<Result<_, SpecError>>()?
        }
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| io_failure(&out_dir, e))?;
    let mut rows = Vec::new();
    for (name, doc) in &family {
        let run = rfrisk::validate::Validation {
            doc,
            key: &param,
            values: &values,
            laws: laws.clone(),
            trials: trial.trials,
            n_test: trial.n_test_for(doc.to_spec().ok().as_ref()),
            seed: trial.seed,
            trainer: trial.trainer.into(),
            backend: backend.as_ref(),
            kernel: trial.kernel.into(),
        };
        let dir = if name.is_empty() { out_dir.clone() } else { out_dir.join("series").join(name) };
        let bar = progress_bar();
        let curve = run
            .run(&dir, storage, look.log_x, &report_to(&bar))
            .map_err(|e| match e {
                rfrisk::validate::ValidateError::NotNumeric(_) => Failure { code: 2, message: e.to_string() },
                rfrisk::validate::ValidateError::Simulate(e) => simulate_failure(e),
            })?;
        bar.finish_and_clear();
        rows.extend(curve.rows.into_iter().map(|r| if name.is_empty() { r } else { rfrisk::curve::Row { series: format!("{name}/{}", r.series), ..r } }));
    }
    if let Some(done) = shard_done(&storage) {
        return Ok(done);
    }
    let curve = rfrisk::curve::Curve { key: param.clone(), rows };
    let csv = out_dir.join("validate.csv");
    curve.write(&csv).map_err(|e| Failure { code: 1, message: e.to_string() })?;
    let failed: Vec<String> = curve.rows.iter().filter(|r| !r.ok()).map(|r| format!("warning: {param}={} {}: {}", r.x, r.series, r.status)).collect();
    let total = curve.rows.len();
    let title = match series.as_deref().and_then(|s| s.split_once('=')) {
        None => rfrisk::plot::title(&base, &param),
        Some((key, _)) => format!("{}; one curve per {key}", rfrisk::plot::title_without(&base, &[&param, key])),
    };
    let options = rfrisk::plot::PlotOptions { metric: look.metric.into(), log_x: look.log_x, log_y: look.log_y, title, y_label: None, theory_band: look.theory_band };
    rfrisk::plot::draw(&curve, &options, &out_dir.join("validate"))
        .map_err(|e| Failure { code: 1, message: e.to_string() })?;
    eprintln!("wrote {}, validate.png and validate.svg in {}", csv.display(), out_dir.display());
    if !failed.is_empty() {
        failed.iter().for_each(|line| eprintln!("{line}"));
        return Err(Failure::points_failed(failed.len(), total));
    }
    Ok(String::new())
}

/// `rfrisk gap`.
pub fn gap(spec: SpecArgs, trial: TrialArgs, test: GapArgs, out: Option<PathBuf>, storage: Storage, format: Format) -> Result<String, Failure> {
    let GapArgs { detect, alpha, power, scan, values } = test;
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
            let values = values_of("--values", key, values)?;
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
    // With --scan, --out is a directory of one trials file per value.
    let file = |value: &str| match (&scan, &out) {
        (Some(key), Some(dir)) => Some(dir.join(format!("{key}={value}.csv"))),
        _ => out.clone(),
    };
    if let (Some(_), Some(dir)) = (&scan, &out) {
        std::fs::create_dir_all(dir).map_err(|e| io_failure(dir, e))?;
    }
    let mut scanned = Vec::new();
    for (value, spec) in &points {
        let run = trial.run(spec, laws.clone(), backend.as_ref());
        let rows = run.execute(file(value).as_deref(), storage, &progress).map_err(simulate_failure)?;
        if storage.shard().is_some() {
            continue;
        }
        let (mean_abs_gap, mean_abs_gap_stderr) = match laws[..] {
            [a, b] => rfrisk::gap::mean_abs_gap(&rows, a, b, rfrisk::gap::Measure::of(spec)),
            _ => return Err(gap_failure(rfrisk::gap::GapError::NotTwoLaws(laws.len()))),
        };
        let report = rfrisk::gap::report(spec, &laws, &rows, detect, alpha, power).map_err(gap_failure)?;
        scanned.push(rfrisk::gap::ScanPoint { value: value.clone(), mean_abs_gap, mean_abs_gap_stderr, report });
    }
    bar.finish_and_clear();
    if let Some(done) = shard_done(&storage) {
        return Ok(done);
    }
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
