//! The subcommands that draw: `plot` (from saved CSVs) and `reproduce` (a committed figure).

use super::args::{BackendChoice, PlotLook};
use super::common::{choose_backend, progress_bar, report_to};
use super::failure::{io_failure, simulate_failure, Failure};
use std::path::PathBuf;

/// `rfrisk plot`.
pub fn plot(csv: Vec<PathBuf>, out: PathBuf, title: Option<String>, look: PlotLook) -> Result<String, Failure> {
    let curves = csv
        .iter()
        .map(|path| {
            let label = if csv.len() > 1 { path.file_stem().unwrap_or_default().to_string_lossy().into_owned() } else { String::new() };
            rfrisk::curve::Curve::read(path).map(|c| (label, c)).map_err(|e| Failure { code: 2, message: e.to_string() })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let title = title.unwrap_or_else(|| {
        csv.iter().map(|p| p.file_stem().unwrap_or_default().to_string_lossy().into_owned()).collect::<Vec<_>>().join(", ")
    });
    let options = rfrisk::plot::PlotOptions { metric: look.metric.into(), log_x: look.log_x, log_y: look.log_y, title, y_label: None };
    rfrisk::plot::draw(&curves, &options, &out).map_err(|e| Failure {
        code: match e {
            rfrisk::plot::PlotError::Draw { .. } => 1,
            _ => 2,
        },
        message: e.to_string(),
    })?;
    eprintln!("wrote {} and {}", out.with_extension("png").display(), out.with_extension("svg").display());
    Ok(String::new())
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
