//! The subcommands that draw: `plot` (from saved CSVs) and `reproduce` (a committed figure).

use super::args::{BackendChoice, PlotLook};
use super::common::{choose_backend, progress_bar, report_to};
use super::failure::{io_failure, simulate_failure, Failure};
use std::path::PathBuf;

/// `rfrisk plot`: one CSV as it is; several overlaid, each its own group (colour and line style).
pub fn plot(csv: Vec<PathBuf>, out: PathBuf, title: Option<String>, labels: Vec<String>, look: PlotLook) -> Result<String, Failure> {
    let input = |message: String| Failure { code: 2, message };
    let curves = csv
        .iter()
        .map(|path| rfrisk::curve::Curve::read(path).map_err(|e| input(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if !labels.is_empty() && labels.len() != csv.len() {
        return Err(input(format!("--label: {} labels for {} CSV files; give one per file, in order", labels.len(), csv.len())));
    }
    if let Some(other) = curves.iter().find(|c| c.key != curves[0].key) {
        return Err(input(format!("the files plot against different keys ({} and {}): overlay curves of one key", curves[0].key, other.key)));
    }
    let labels = if labels.is_empty() { default_labels(&csv) } else { labels };
    let title = title.unwrap_or_else(|| if csv.len() > 1 { labels.join(", ") } else { default_labels(&csv).remove(0) });
    let merged = if curves.len() == 1 {
        curves.into_iter().next().expect("one")
    } else {
        let key = curves[0].key.clone();
        let rows = curves
            .into_iter()
            .zip(&labels)
            .flat_map(|(c, label)| {
                c.rows.into_iter().map(move |r| {
                    // A file's own groups stay apart inside its label: `label, group/name`.
                    let series = match r.series.split_once('/') {
                        Some((group, name)) => format!("{label}, {group}/{name}"),
                        None => format!("{label}/{}", r.series),
                    };
                    rfrisk::curve::Row { series, ..r }
                })
            })
            .collect();
        rfrisk::curve::Curve { key, rows }
    };
    let options = rfrisk::plot::PlotOptions { metric: look.metric.into(), log_x: look.log_x, log_y: look.log_y, title, y_label: None, theory_band: look.theory_band };
    rfrisk::plot::draw(&merged, &options, &out).map_err(|e| Failure {
        code: match e {
            rfrisk::plot::PlotError::Draw { .. } => 1,
            _ => 2,
        },
        message: e.to_string(),
    })?;
    eprintln!("wrote {} and {}", out.with_extension("png").display(), out.with_extension("svg").display());
    Ok(String::new())
}

/// Labels for overlaid CSVs: the one spec field their runs differ in (read from the
/// trials' run identities beside each CSV, `trials/*.run.json`), else the file stems, else
/// (every file named alike, as validate's) their folders.
fn default_labels(csv: &[PathBuf]) -> Vec<String> {
    let stems: Vec<String> = csv.iter().map(|p| p.file_stem().unwrap_or_default().to_string_lossy().into_owned()).collect();
    if csv.len() < 2 {
        // validate's own file name says nothing: its folder does.
        let folder = csv[0].parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned());
        return match folder {
            Some(f) if stems[0] == "validate" && !f.is_empty() => vec![f],
            _ => stems,
        };
    }
    if let Some(labels) = differing_field(csv) {
        return labels;
    }
    let distinct = |v: &[String]| v.iter().collect::<std::collections::BTreeSet<_>>().len() == v.len();
    if distinct(&stems) {
        return stems;
    }
    let folders: Vec<String> = csv
        .iter()
        .map(|p| p.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        .collect();
    if distinct(&folders) { folders } else { (1..=csv.len()).map(|i| format!("{} {i}", stems[i - 1])).collect() }
}

/// `field = value` per file when the first run identity under each file's `trials/`
/// differs from the others' in exactly one spec field besides the sample count.
fn differing_field(csv: &[PathBuf]) -> Option<Vec<String>> {
    let specs: Vec<serde_json::Map<String, serde_json::Value>> = csv
        .iter()
        .map(|p| {
            let dir = p.parent()?.join("trials");
            let mut identities: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(".run.json")).collect();
            identities.sort();
            let value: serde_json::Value = serde_json::from_slice(&std::fs::read(identities.first()?).ok()?).ok()?;
            value.get("spec")?.as_object().cloned()
        })
        .collect::<Option<_>>()?;
    let fields: Vec<&String> = specs[0].keys().filter(|k| *k != "samples" && specs.iter().any(|s| s.get(*k) != specs[0].get(*k))).collect();
    let [field] = fields[..] else { return None };
    Some(
        specs
            .iter()
            .map(|s| match (field.as_str(), s.get(field)) {
                // A constant width repeated: the depth is what differs.
                ("widths", Some(serde_json::Value::Array(w))) if w.iter().all(|v| Some(v) == w.first()) => format!("L = {}", w.len()),
                (_, Some(v)) => format!("{field} = {}", v.as_str().map_or(v.to_string(), str::to_owned)),
                (_, None) => field.clone(),
            })
            .collect(),
    )
}

/// `rfrisk reproduce`.
pub fn reproduce(name: &str, out_dir: PathBuf, trials: Option<usize>, backend: BackendChoice, storage: rfrisk::shard::Storage) -> Result<String, Failure> {
    if name == "inference" {
        return inference(out_dir, backend);
    }
    let mut names: Vec<&str> = rfrisk::reproduce::FIGURES.iter().map(|f| f.name).collect();
    names.push("inference");
    let figure = rfrisk::reproduce::find(name)
        .ok_or_else(|| Failure { code: 2, message: format!("unknown figure `{name}` (expected one of {})", names.join(", ")) })?;
    if trials == Some(0) {
        return Err(Failure { code: 2, message: "--trials must be > 0".into() });
    }
    let backend = choose_backend(backend)?;
    std::fs::create_dir_all(&out_dir).map_err(|e| io_failure(&out_dir, e))?;
    let bar = progress_bar();
    figure
        .reproduce(&out_dir, trials, storage, backend.as_ref(), &report_to(&bar))
        .map_err(|e| match e {
            rfrisk::reproduce::ReproduceError::Simulate(e)
            | rfrisk::reproduce::ReproduceError::Validate(rfrisk::validate::ValidateError::Simulate(e)) => simulate_failure(e),
            other => Failure { code: 1, message: other.to_string() },
        })?;
    bar.finish_and_clear();
    if let Some(done) = super::args::shard_done(&storage) {
        return Ok(done);
    }
    eprintln!("wrote {0}/{1}.csv, {0}/{1}.png and {0}/{1}.svg", out_dir.display(), figure.name);
    Ok(String::new())
}

/// `rfrisk reproduce inference`: the paper's Figure 5 on this machine (`rfrisk bench
/// inference`'s measurements): the packed one-bit pass's speed-up over the f32 pass against d,
/// one line per batch size; the timings in inference.csv.
fn inference(out_dir: PathBuf, backend: BackendChoice) -> Result<String, Failure> {
    use rfrisk::figures::curve::{Curve, Metric, Row};
    let kernel = validation::packed::Kernel::from_env().map_err(|message| Failure { code: 2, message: format!("RFRISK_PACKED_KERNEL: {message}") })?;
    let backend = match backend {
        // A CPU OpenCL device is not what the figure is about: auto means the CPU unless a GPU answers.
        BackendChoice::Auto => match validation::OpenCl::new() {
            Ok(cl) if cl.is_gpu() => Box::new(cl) as Box<dyn validation::Backend>,
            _ => Box::new(validation::Cpu),
        },
        b => choose_backend(b)?,
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| io_failure(&out_dir, e))?;
    let bar = progress_bar();
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sizes, {elapsed} elapsed").expect("a valid template"));
    let points = rfrisk::bench::inference_bench(backend.as_ref(), kernel, &rfrisk::bench::INFERENCE_DIMS, &rfrisk::bench::INFERENCE_BATCHES, 7, &report_to(&bar))
        .map_err(|message| Failure { code: 4, message })?;
    bar.finish_and_clear();
    let mut csv = csv::Writer::from_writer(Vec::new());
    points.iter().try_for_each(|p| csv.serialize(p)).expect("points serialize");
    let csv_path = out_dir.join("inference.csv");
    rfrisk::output::write_atomic(&csv_path, &csv.into_inner().expect("in-memory write")).map_err(|e| io_failure(&csv_path, e))?;
    let rows = points
        .iter()
        .map(|p| Row {
            series: format!("batch {}, median of 7", p.batch),
            x: p.d as f64,
            excess_risk: Some(p.speedup),
            excess_stderr: None,
            test_error: None,
            test_stderr: None,
            trials: None,
            status: "ok".into(),
        })
        .collect();
    let options = rfrisk::figures::plot::PlotOptions {
        metric: Metric::ExcessRisk,
        log_x: true,
        log_y: true,
        title: format!("one-bit inference: packed bits against f32 weights ({}, {kernel} kernel)", backend.name()),
        y_label: Some("speed-up of the packed one-bit pass (x)".into()),
        theory_band: false,
    };
    let stem = out_dir.join("inference");
    rfrisk::figures::plot::draw(&Curve { key: "d".into(), rows }, &options, &stem).map_err(|e| Failure { code: 1, message: e.to_string() })?;
    eprintln!("wrote {0}/inference.csv, {0}/inference.png and {0}/inference.svg", out_dir.display());
    Ok(String::new())
}
