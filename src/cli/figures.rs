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
pub fn reproduce(name: &str, out_dir: PathBuf, trials: Option<usize>, backend: BackendChoice, resume: bool) -> Result<String, Failure> {
    let names: Vec<&str> = rfrisk::reproduce::FIGURES.iter().map(|f| f.name).collect();
    let figure = rfrisk::reproduce::find(name)
        .ok_or_else(|| Failure { code: 2, message: format!("unknown figure `{name}` (expected one of {})", names.join(", ")) })?;
    if trials == Some(0) {
        return Err(Failure { code: 2, message: "--trials must be > 0".into() });
    }
    let backend = choose_backend(backend)?;
    std::fs::create_dir_all(&out_dir).map_err(|e| io_failure(&out_dir, e))?;
    let bar = progress_bar();
    figure
        .reproduce(&out_dir, trials, resume, backend.as_ref(), &report_to(&bar))
        .map_err(|e| match e {
            rfrisk::reproduce::ReproduceError::Simulate(e)
            | rfrisk::reproduce::ReproduceError::Validate(rfrisk::validate::ValidateError::Simulate(e)) => simulate_failure(e),
            other => Failure { code: 1, message: other.to_string() },
        })?;
    bar.finish_and_clear();
    eprintln!("wrote {0}/{1}.csv, {0}/{1}.png and {0}/{1}.svg", out_dir.display(), figure.name);
    Ok(String::new())
}
