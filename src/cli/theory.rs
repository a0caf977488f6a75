//! The subcommands that print the theory: `predict`, `gep`, `sweep`.

use super::args::{Format, SpecArgs, SweptArgs};
use super::common::{json, load};
use super::failure::{io_failure, Failure};
use rfrisk::{predict as prediction_of, report, sweep as sweep_of, PredictError};
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
    if !spec.activation.is_odd() {
        return Err(PredictError::NotOdd(spec.activation).into());
    }
    let gep = rfrisk::gep::layer_coefficients(spec.activation, spec.depth());
    Ok(match format {
        Format::Table => report::gep_table(&gep),
        Format::Json => json(&gep),
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
