//! `rfrisk validate`: the theory curve and the simulations at the same values of
//! one key, in one figure CSV and one plot.

use crate::figures::curve::{Curve, Row};
use crate::study::simulate::{Estimate, Run, SimulateError, TrialRow};
use crate::spec::{SpecDoc, WeightLaw};
use crate::study::shard::Storage;
use crate::study::sweep::sweep;
use std::path::{Path, PathBuf};

pub struct Validation<'a> {
    pub doc: &'a SpecDoc,
    pub key: &'a str,
    pub values: &'a [String],
    pub laws: Vec<WeightLaw>,
    pub trials: usize,
    pub n_test: usize,
    pub seed: u64,
    pub trainer: validation::Trainer,
    pub backend: &'a dyn validation::Backend,
    pub kernel: validation::KernelChoice,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("--values: `{0}` is not a number; validate plots against a numeric key")]
    NotNumeric(String),
    #[error(transparent)]
    Simulate(#[from] SimulateError),
}

/// Where the trials of one value are kept (resumable, one CSV per value).
pub fn trials_path(out_dir: &Path, key: &str, value: &str) -> PathBuf {
    out_dir.join("trials").join(format!("{key}={value}.csv"))
}

/// Runs (or resumes) `run`'s trials for one value in `trials_path(out_dir, key, value)`,
/// reporting progress offset by the `before` trials of earlier values.
pub fn run_value(
    run: &Run<'_>,
    out_dir: &Path,
    key: &str,
    value: &str,
    storage: Storage,
    (before, total): (usize, usize),
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<TrialRow>, SimulateError> {
    let path = trials_path(out_dir, key, value);
    std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(|source| SimulateError::Io { path: path.clone(), source })?;
    run.execute(Some(&path), storage, &|d, _| progress(before + d, total))
}

/// A dense grid of theory points between the smallest and the largest value:
/// every integer for integer keys (up to 400 of them), else 200 points.
fn theory_grid(values: &[String], log: bool) -> Vec<String> {
    let nums: Vec<f64> = values.iter().filter_map(|v| v.parse().ok()).collect();
    let (lo, hi) = nums.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let integer = values.iter().all(|v| v.parse::<i64>().is_ok());
    let mut grid: Vec<String> = values.to_vec();
    if !(hi > lo) {
        return grid;
    }
    if integer && hi - lo <= 400.0 {
        grid.extend((lo as i64..=hi as i64).map(|v| v.to_string()));
    } else {
        grid.extend((0..200).map(|i| {
            let t = i as f64 / 199.0;
            let v = if log && lo > 0.0 { lo * (hi / lo).powf(t) } else { lo + t * (hi - lo) };
            if integer { (v.round() as i64).to_string() } else { format!("{}", format!("{v:.10e}").parse::<f64>().unwrap()) }
        }));
    }
    grid.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse::<f64>().unwrap()));
    grid.dedup();
    grid
}

impl Validation<'_> {
    /// Runs everything not already in `out_dir` and returns the figure's rows.
    /// `progress(done, total)` counts trials.
    /// A shard (`storage.split`) runs its own trials only, and its curve holds only them.
    pub fn run(&self, out_dir: &Path, storage: impl Into<Storage>, log_x: bool, progress: &dyn Fn(usize, usize)) -> Result<Curve, ValidateError> {
        let storage = storage.into();
        for v in self.values {
            v.parse::<f64>().map_err(|_| ValidateError::NotNumeric(v.clone()))?;
        }
        // Real data and classification have no theory (predict says why, exit 3): no theory line,
        // rather than a grid of failed points.
        let theory = self.doc.to_spec().map_or(true, |s| !s.source.is_real() && s.task == validation::model::Task::Regression);
        let grid = if theory { theory_grid(self.values, log_x) } else { Vec::new() };
        let mut rows: Vec<Row> = sweep(self.doc, self.key, &grid)
            .into_iter()
            .map(|p| {
                let x = p.value.parse().expect("grid values are numbers");
                match p.outcome {
                    Ok(pred) => Row {
                        series: "theory".into(),
                        x,
                        excess_risk: Some(pred.excess_risk),
                        excess_stderr: None,
                        test_error: Some(pred.test_error),
                        test_stderr: None,
                        trials: None,
                        status: "ok".into(),
                    },
                    Err(status) => Row::failed("theory", x, status),
                }
            })
            .collect();
        let total = self.values.len() * self.laws.len() * self.trials;
        for (i, value) in self.values.iter().enumerate() {
            let x: f64 = value.parse().expect("checked above");
            let mut doc = self.doc.clone();
            let spec = doc.set(&format!("{}={value}", self.key)).and_then(|()| doc.to_spec());
            let spec = match spec {
                Ok(spec) => spec,
                Err(e) => {
                    rows.extend(self.laws.iter().map(|l| Row::failed(&l.to_string(), x, format!("error: {e}"))));
                    continue;
                }
            };
            let run = Run {
                spec: &spec,
                laws: self.laws.clone(),
                trials: self.trials,
                n_test: self.n_test,
                seed: self.seed,
                trainer: self.trainer,
                backend: self.backend,
                kernel: self.kernel,
            };
            let before = i * self.laws.len() * self.trials;
            let done = run_value(&run, out_dir, self.key, value, storage, (before, total), progress);
            let trial_rows = match done {
                Ok(r) => r,
                // A trial that fails for another reason (a singular Gram matrix) marks the point.
                Err(SimulateError::Trial { source, .. }) => {
                    rows.extend(self.laws.iter().map(|l| Row::failed(&l.to_string(), x, format!("error: {source}"))));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for law in &self.laws {
                let law = law.to_string();
                let e = Estimate::of(&TrialRow::values(&trial_rows, &law, |r| r.excess_risk));
                let t = Estimate::of(&TrialRow::values(&trial_rows, &law, |r| r.test_error));
                let infeasible = TrialRow::infeasible(&trial_rows, &law);
                rows.push(match (e, t) {
                    (Some(e), Some(t)) => Row {
                        series: law,
                        x,
                        excess_risk: Some(e.mean),
                        excess_stderr: Some(e.stderr),
                        test_error: Some(t.mean),
                        test_stderr: Some(t.stderr),
                        trials: Some(e.n),
                        // A mean over the feasible trials only is conditioned on feasibility:
                        // kept in the CSV, not drawn.
                        status: if infeasible == 0 {
                            "ok".into()
                        } else {
                            format!("partly infeasible: {infeasible} of {} trials had no positive interpolator", infeasible + e.n)
                        },
                    },
                    _ if infeasible > 0 => {
                        Row::failed(&law, x, format!("infeasible: no positive interpolator in {infeasible} of {infeasible} trials"))
                    }
                    _ => Row::failed(&law, x, "error: no trials".into()),
                });
            }
        }
        Ok(Curve { key: self.key.to_owned(), rows })
    }
}
