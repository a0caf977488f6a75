//! The subcommands that print the theory: `predict`, `gep`, `sweep`.

use super::args::{Format, SpecArgs, SweptArgs};
use super::common::{json, load};
use super::failure::{io_failure, Failure};
use rfrisk::{predict as prediction_of, report, sweep as sweep_of};
use std::path::PathBuf;

/// `rfrisk predict`.
pub fn predict(args: SpecArgs, format: Format) -> Result<String, Failure> {
    let doc = rfrisk::spec::read_doc(&args.spec, &args.overrides)?;
    let set = doc.set_keys();
    let mirror_changed = args.overrides.iter().any(|o| o.trim_start().starts_with("training.mirror"));
    warn_if_default_start(mirror_changed, &set);
    let spec = doc.to_spec()?;
    let prediction = prediction_of(&spec)?;
    Ok(match format {
        Format::Table => report::prediction_table(&spec, &prediction, &set),
        Format::Json => json(&report::PredictionJson { spec: report::SpecFile::of(&spec), prediction: &prediction }),
    })
}

/// The two maps start from different defaults (0 for squared, E|a*_i| for entropic): when
/// the user is comparing them (`--set training.mirror=…`, or sweeping it) without a start of
/// their own, say so.
pub fn warn_if_default_start(comparing_maps: bool, set: &[&str]) {
    if comparing_maps && !set.contains(&"training.init") {
        eprintln!(
            "warning: training.init is not set, so each mirror map takes its own default start: the squared map 0, \
             the entropic map the prior's mean |a*_i| = sqrt(2 norm2/(pi d_L)); set training.init to compare them from one start"
        );
    }
}

/// `rfrisk gep`.
pub fn gep(spec: SpecArgs, format: Format) -> Result<String, Failure> {
    let spec = load(&spec)?;
    let (_, gep, offsets) = rfrisk::predict::mixed_layers(&spec);
    Ok(match (format, offsets) {
        (Format::Table, None) => report::gep_table(&gep),
        (Format::Table, Some(laws)) => report::offset_table(&laws),
        (Format::Json, None) => json(&gep),
        (Format::Json, Some(laws)) => json(&serde_json::json!({ "gep": gep, "offsets": laws })),
    })
}

/// `rfrisk sweep`.
pub fn sweep(swept: SweptArgs, out: Option<PathBuf>) -> Result<String, Failure> {
    let (doc, values) = swept.resolve()?;
    let param = swept.param;
    warn_if_default_start(param == "training.mirror", &doc.set_keys());
    let points = sweep_of::sweep(&doc, &param, &values);
    let failed: Vec<_> = points.iter().filter_map(|p| p.outcome.as_ref().err().map(|e| (&p.value, e))).collect();
    for (value, error) in &failed {
        eprintln!("warning: {param}={value}: {error}");
    }
    let caveated: Vec<_> = points.iter().filter_map(|p| p.outcome.as_ref().ok().and_then(|p| p.caveat)).collect();
    if let Some(caveat) = caveated.first() {
        eprintln!("note: {} of {} points: {caveat}", caveated.len(), points.len());
    }
    let csv = sweep_of::to_csv(&param, &points);
    let stdout = match out {
        Some(path) => {
            rfrisk::output::write_atomic(&path, &csv).map_err(|e| io_failure(&path, e))?;
            eprintln!("wrote {} points to {}", points.len(), path.display());
            String::new()
        }
        None => String::from_utf8(csv).expect("CSV of UTF-8 strings"),
    };
    if failed.is_empty() {
        return Ok(stdout);
    }
    // What succeeded is written; the exit code says that not everything did.
    print!("{stdout}");
    Err(Failure::points_failed(failed.len(), points.len()))
}

/// `rfrisk tune`.
pub fn tune(args: SpecArgs, param: &str, range: &str, format: Format) -> Result<String, Failure> {
    if param != "training.ridge" {
        return Err(Failure { code: 2, message: format!("--param {param}: tune tunes training.ridge only") });
    }
    let bad_range = || Failure { code: 2, message: format!("--range {range}: expected a:b with 0 <= a < b, e.g. 1e-6:1e3") };
    let (a, b) = range.split_once(':').ok_or_else(bad_range)?;
    let (lo, hi) = (a.trim().parse::<f64>().map_err(|_| bad_range())?, b.trim().parse::<f64>().map_err(|_| bad_range())?);
    if !(lo >= 0.0 && hi > lo && hi.is_finite()) {
        return Err(bad_range());
    }
    let spec = rfrisk::spec::load(&args.spec, &args.overrides)?;
    let tuned = rfrisk::tune::tune_ridge(&spec, lo, hi).map_err(|e| match e {
        rfrisk::tune::TuneError::NoPrediction(p) => Failure::from(p),
        other => Failure { code: 2, message: other.to_string() },
    })?;
    Ok(match format {
        Format::Json => json(&serde_json::json!({ "tuned": tuned, "spec": rfrisk::report::SpecFile::of(&spec) })),
        Format::Table => {
            // Six significant digits, no trailing zeros: 1, 0.03, 1.2e-5.
            let readable = |x: f64, _| rfrisk::output::csv_number(format!("{x:.5e}").parse().expect("a formatted number reads back"));
            let edge = match tuned.at_edge {
                Some(rfrisk::tune::Edge::Lower) => format!("\nnote      the minimum is at the lower end of the range {range}: widen it below"),
                Some(rfrisk::tune::Edge::Upper) => format!("\nnote      the minimum is at the upper end of the range {range}: widen it above"),
                None => String::new(),
            };
            let without = tuned.test_error_without_ridge.map_or("infinite (n = d_L with noise)".to_owned(), |e| format!("{e:.10}"));
            format!(
                "model     {spec}\nridge     {} minimises the predicted test error over [{}, {}] ({} predictions: a {}-point log grid, then Brent){edge}\n\n\
                 test error   {:.10}\nexcess risk  {:.10}\n  bias       {:.10}\n  variance   {:.10}\n\nwithout a ridge, the test error is {without}\n",
                readable(tuned.ridge, 6),
                readable(lo, 3),
                readable(hi, 3),
                tuned.evaluations,
                rfrisk::tune::GRID_POINTS,
                tuned.test_error,
                tuned.excess_risk,
                tuned.bias,
                tuned.variance,
            )
        }
    })
}
