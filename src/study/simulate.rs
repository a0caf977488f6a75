//! `rfrisk simulate`: trials of the real finite-size model, each appended to a
//! CSV the moment it finishes, resumable, summarised beside the theory.

use crate::solver::predict::predict;
use crate::spec::{Spec, WeightLaw};
use crate::study::shard::{Split, Storage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use validation::{run_trial, Backend, TrainError, TrialError, TrialOutcome};

/// One CSV row: a finished trial. A trial whose labels have no interpolator in the
/// mirror map's domain (entropic map past its feasibility boundary) is a finished
/// trial too: its numbers are empty and `status` says `infeasible`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    pub weights: String,
    pub trial: usize,
    pub seed: u64,
    pub excess_risk: Option<f64>,
    pub test_error: Option<f64>,
    pub train_residual: Option<f64>,
    pub seconds: f64,
    /// `ok` or `infeasible`; CSVs written before this column existed hold only `ok` trials.
    #[serde(default = "ok")]
    pub status: String,
}

fn ok() -> String {
    "ok".into()
}

/// The CSV header of a trials file.
const HEADER: &str = "weights,trial,seed,excess_risk,test_error,train_residual,seconds,status\n";

impl TrialRow {
    /// `f` of every trial of `law` that has numbers (infeasible ones have none).
    pub fn values(rows: &[TrialRow], law: &str, f: fn(&TrialRow) -> Option<f64>) -> Vec<f64> {
        rows.iter().filter(|r| r.weights == law).filter_map(f).collect()
    }

    pub fn infeasible(rows: &[TrialRow], law: &str) -> usize {
        rows.iter().filter(|r| r.weights == law && r.status == "infeasible").count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("{path} already exists: pass --resume to continue it, or remove it")]
    Exists { path: PathBuf },
    #[error("--resume: {path} was written by a different run ({reason}); refusing to mix trials")]
    Mismatch { path: PathBuf, reason: String },
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {message}")]
    Csv { path: PathBuf, message: String },
    #[error("{law} trial {trial} (seed {seed}): {source}")]
    Trial { law: String, trial: usize, seed: u64, source: validation::TrialError },
    #[error("--shard and --merge need a trials file (--out): each shard writes its own beside it")]
    ShardNeedsFile,
    #[error("--merge {path}: {reason}")]
    Shards { path: PathBuf, reason: String },
    #[error("--merge {path}: the shards do not hold every unit exactly once: {}", merge_problems(.missing, .duplicated, .absent))]
    Merge { path: PathBuf, missing: Vec<String>, duplicated: Vec<String>, absent: Vec<String> },
    #[error("stopped after {done} of {total} trials")]
    Stopped { done: usize, total: usize },
}

fn merge_problems(missing: &[String], duplicated: &[String], absent: &[String]) -> String {
    let list = |units: &[String]| {
        let shown: Vec<&str> = units.iter().take(12).map(String::as_str).collect();
        format!("{}{}", shown.join(", "), if units.len() > shown.len() { format!(" and {} more", units.len() - shown.len()) } else { String::new() })
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        let files = if absent.is_empty() { String::new() } else { format!(", no file at all for shard {}", absent.join(", ")) };
        parts.push(format!("{} missing ({}{files}): run those shards (with --resume if they were killed)", missing.len(), list(missing)));
    }
    if !duplicated.is_empty() {
        parts.push(format!("{} duplicated ({}): remove the stale shard files", duplicated.len(), list(duplicated)));
    }
    parts.join("; ")
}

/// The seed of trial `k` of a run with seed `run_seed` (SplitMix64 of the pair),
/// the same for every weight law so that laws are compared on the same draws.
pub fn trial_seed(run_seed: u64, trial: usize) -> u64 {
    let mut z = run_seed.wrapping_add((trial as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a run is: everything a resumed run must share with the one it continues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub spec: serde_json::Value,
    pub n_test: usize,
    pub seed: u64,
    pub backend: String,
    pub trainer: String,
    /// How one-bit layers were multiplied (`--kernel`). Absent in runs written before it
    /// existed (their one-bit layers were f32): those resume under any choice, since the
    /// kernels agree to 1e-5 (validation/tests/packed_trial.rs).
    #[serde(default)]
    pub kernel: Option<validation::KernelChoice>,
}

pub struct Run<'a> {
    pub spec: &'a Spec,
    pub laws: Vec<WeightLaw>,
    pub trials: usize,
    pub n_test: usize,
    pub seed: u64,
    pub trainer: validation::Trainer,
    pub backend: &'a dyn Backend,
    pub kernel: validation::KernelChoice,
}

impl Run<'_> {
    fn identity(&self) -> RunIdentity {
        RunIdentity {
            spec: serde_json::to_value(self.spec).expect("specs serialize"),
            n_test: self.n_test,
            seed: self.seed,
            backend: self.backend.name().to_owned(),
            trainer: format!("{:?}", self.trainer).to_lowercase(),
            kernel: Some(self.kernel),
        }
    }

    /// Runs every (law, trial) not already in `out`, appending each as it finishes;
    /// `storage` says whether `out` may be resumed and which units this process runs
    /// (`study::shard`). `progress(done, total)` is called after each trial. A shard returns
    /// its own trials only.
    pub fn execute(&self, out: Option<&Path>, storage: impl Into<Storage>, progress: &dyn Fn(usize, usize)) -> Result<Vec<TrialRow>, SimulateError> {
        self.execute_until(out, storage, progress, &|| false)
    }

    /// [`Run::execute`], asking `stop()` before each trial: when it says yes the run ends
    /// with [`SimulateError::Stopped`], every finished trial already in `out` (so `resume`
    /// continues it). The Python package stops here on Ctrl-C.
    pub fn execute_until(
        &self,
        out: Option<&Path>,
        storage: impl Into<Storage>,
        progress: &dyn Fn(usize, usize),
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<TrialRow>, SimulateError> {
        let storage = storage.into();
        let (file, resume) = match (storage.split, out) {
            (Split::Whole, out) => (out.map(Path::to_owned), storage.resume),
            (_, None) => return Err(SimulateError::ShardNeedsFile),
            (Split::Shard(shard), Some(out)) => (Some(shard.path(out)), storage.resume),
            (Split::Merge, Some(out)) => {
                self.merge(out)?;
                (Some(out.to_owned()), true)
            }
        };
        let mut rows = match &file {
            Some(path) => self.open(path, resume)?,
            None => Vec::new(),
        };
        // Unit k * laws + l is trial k of law l: the order an unsharded run writes them in.
        let mine = |unit: usize| match (storage.shard(), out) {
            (Some(shard), Some(out)) => shard.owns(out, unit),
            _ => true,
        };
        let units: Vec<(WeightLaw, usize)> = (0..self.trials)
            .flat_map(|k| self.laws.iter().map(move |&law| (law, k)))
            .enumerate()
            .filter(|&(unit, _)| mine(unit))
            .map(|(_, u)| u)
            .collect();
        let total = units.len();
        let todo: Vec<(WeightLaw, usize)> = units.into_iter().filter(|(law, k)| !rows.iter().any(|r| r.weights == law.to_string() && r.trial == *k)).collect();
        let mut done = total - todo.len();
        progress(done, total);
        for (law, k) in todo {
            if stop() {
                return Err(SimulateError::Stopped { done, total });
            }
            let seed = trial_seed(self.seed, k);
            let started = std::time::Instant::now();
            let row = match run_trial(self.spec, law, seed, self.n_test, self.trainer, self.backend, self.kernel) {
                Ok(TrialOutcome { excess_risk, test_error, train_residual, seconds }) => TrialRow {
                    weights: law.to_string(),
                    trial: k,
                    seed,
                    excess_risk: Some(excess_risk),
                    test_error: Some(test_error),
                    train_residual: Some(train_residual),
                    seconds,
                    status: ok(),
                },
                Err(TrialError::Train(TrainError::NoPositiveInterpolator { .. })) => TrialRow {
                    weights: law.to_string(),
                    trial: k,
                    seed,
                    excess_risk: None,
                    test_error: None,
                    train_residual: None,
                    seconds: started.elapsed().as_secs_f64(),
                    status: "infeasible".into(),
                },
                Err(source) => return Err(SimulateError::Trial { law: law.to_string(), trial: k, seed, source }),
            };
            if let Some(path) = &file {
                append(path, &row)?;
            }
            rows.push(row);
            done += 1;
            progress(done, total);
        }
        rows.retain(|r| self.laws.iter().any(|l| l.to_string() == r.weights) && r.trial < self.trials);
        Ok(rows)
    }

    /// Puts the shard files of `out` together into `out` (rows in the unsharded order, the
    /// identity beside it), after checking each shard belongs to this run and that together
    /// they hold every unit exactly once. Without shard files an existing `out` is kept.
    fn merge(&self, out: &Path) -> Result<(), SimulateError> {
        let shards = crate::study::shard::shard_files(out).map_err(|reason| SimulateError::Shards { path: out.to_owned(), reason })?;
        if shards.is_empty() {
            return match out.exists() {
                true => Ok(()),
                false => Err(SimulateError::Shards { path: out.to_owned(), reason: "no shard files (NAME.shard-K-of-N.csv) beside it: run the shards first".into() }),
            };
        }
        let mut found: Vec<TrialRow> = Vec::new();
        for (_, path) in &shards {
            found.extend(self.open(path, true)?);
        }
        let count = shards[0].0.count;
        let present: std::collections::BTreeSet<usize> = shards.iter().map(|(s, _)| s.index).collect();
        let absent: Vec<String> = (1..=count).filter(|k| !present.contains(k)).map(|k| format!("{k}/{count}")).collect();
        let (mut missing, mut duplicated, mut merged) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..self.trials {
            for law in &self.laws {
                let name = law.to_string();
                let copies: Vec<&TrialRow> = found.iter().filter(|r| r.weights == name && r.trial == k).collect();
                match copies.len() {
                    0 => missing.push(format!("{name} trial {k}")),
                    1 => merged.push(copies[0].clone()),
                    n => duplicated.push(format!("{name} trial {k} ({n} copies)")),
                }
            }
        }
        if !missing.is_empty() || !duplicated.is_empty() {
            return Err(SimulateError::Merge { path: out.to_owned(), missing, duplicated, absent });
        }
        let io = |source| SimulateError::Io { path: out.to_owned(), source };
        let mut all = csv::WriterBuilder::new().has_headers(false).from_writer(HEADER.as_bytes().to_vec());
        merged.iter().for_each(|r| all.serialize(r).expect("rows serialize"));
        let meta = serde_json::to_vec_pretty(&self.identity()).expect("identity serializes");
        crate::output::write_atomic(&identity_path(out), &meta).map_err(io)?;
        crate::output::write_atomic(out, &all.into_inner().expect("in-memory write")).map_err(io)
    }

    /// Creates `path` (with its identity beside it) or, with `resume`, reads the
    /// trials it already holds after checking it belongs to this run.
    fn open(&self, path: &Path, resume: bool) -> Result<Vec<TrialRow>, SimulateError> {
        let io = |source| SimulateError::Io { path: path.to_owned(), source };
        let meta_path = identity_path(path);
        if !path.exists() {
            let meta = serde_json::to_vec_pretty(&self.identity()).expect("identity serializes");
            crate::output::write_atomic(&meta_path, &meta).map_err(io)?;
            crate::output::write_atomic(path, HEADER.as_bytes()).map_err(io)?;
            return Ok(Vec::new());
        }
        if !resume {
            return Err(SimulateError::Exists { path: path.to_owned() });
        }
        let meta = std::fs::read(&meta_path).map_err(|source| SimulateError::Io { path: meta_path.clone(), source })?;
        let found: RunIdentity = serde_json::from_slice(&meta)
            .map_err(|e| SimulateError::Csv { path: meta_path.clone(), message: e.to_string() })?;
        let mine = self.identity();
        for (what, same) in [
            ("spec", found.spec == mine.spec),
            ("n_test", found.n_test == mine.n_test),
            ("seed", found.seed == mine.seed),
            ("backend", found.backend == mine.backend),
            ("trainer", found.trainer == mine.trainer),
            ("kernel", found.kernel.is_none() || found.kernel == mine.kernel),
        ] {
            if !same {
                return Err(SimulateError::Mismatch { path: path.to_owned(), reason: format!("its {what} differs") });
            }
        }
        drop_partial_last_line(path).map_err(io)?;
        let csv_error = |e: csv::Error| SimulateError::Csv { path: path.to_owned(), message: e.to_string() };
        let mut reader = csv::Reader::from_path(path).map_err(csv_error)?;
        let current_layout = reader.headers().map_err(csv_error)?.iter().eq(HEADER.trim_end().split(','));
        let rows: Vec<TrialRow> = reader.deserialize().collect::<Result<_, _>>().map_err(csv_error)?;
        if !current_layout {
            // Written before the status column: rewrite it in the current layout, so appended rows match.
            let mut all = csv::WriterBuilder::new().has_headers(false).from_writer(HEADER.as_bytes().to_vec());
            rows.iter().for_each(|r| all.serialize(r).expect("rows serialize"));
            crate::output::write_atomic(path, &all.into_inner().expect("in-memory write")).map_err(io)?;
        }
        Ok(rows)
    }
}

/// `trials.csv` -> `trials.csv.run.json`.
pub fn identity_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".run.json");
    PathBuf::from(name)
}

/// A run killed mid-write can leave a last line without its newline: drop it,
/// so the trial it held is simply run again.
fn drop_partial_last_line(path: &Path) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    if bytes.last().is_some_and(|&b| b != b'\n') {
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        std::fs::OpenOptions::new().write(true).open(path)?.set_len(keep as u64)?;
    }
    Ok(())
}

/// Appends one row and pushes it to disk before the next trial starts.
fn append(path: &Path, row: &TrialRow) -> Result<(), SimulateError> {
    let io = |source| SimulateError::Io { path: path.to_owned(), source };
    let mut line = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    line.serialize(row).expect("rows serialize");
    let bytes = line.into_inner().expect("in-memory write");
    let mut file = std::fs::OpenOptions::new().append(true).open(path).map_err(io)?;
    file.write_all(&bytes).map_err(io)?;
    file.sync_data().map_err(io)
}

/// Mean, standard error of the mean, and count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub stderr: f64,
    pub n: usize,
}

impl Estimate {
    /// `None` for an empty sample; `stderr` is NaN-free (0 for one value).
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
        Some(Estimate { mean, stderr: (var / n as f64).sqrt(), n })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LawSummary {
    /// Over the trials that have numbers; `None` if every trial was infeasible.
    pub excess_risk: Option<Estimate>,
    pub test_error: Option<Estimate>,
    /// Trials with no interpolator in the mirror map's domain.
    pub infeasible: usize,
}

/// The theory's numbers, or why there are none.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Theory {
    /// With the last layer's unknowns `eta`, `s` (equations/entropic.md §6; absent with a
    /// ridge, where they are not derived) and the largest residual of the system that gave them.
    Prediction { excess_risk: f64, test_error: f64, eta: Option<f64>, s: Option<f64>, max_residual: f64 },
    Unavailable { unavailable: String },
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub laws: BTreeMap<String, LawSummary>,
    pub theory: Theory,
    /// What the columns hold when they are not a regression's risks (classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// The theory's known limit for this spec, `predict`'s caveat (equations/nonodd.md §7a).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<&'static str>,
}

/// The columns of a classification run, said where they are printed.
pub const CLASSIFICATION_COLUMNS: &str =
    "classification: excess_risk is the test one-hot squared error, test_error the misclassification rate 1 - accuracy";

pub fn summarize(spec: &Spec, rows: &[TrialRow]) -> Summary {
    let mut laws = BTreeMap::new();
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !names.contains(&r.weights.as_str()) {
            names.push(&r.weights);
        }
    }
    for name in names {
        laws.insert(
            name.to_string(),
            LawSummary {
                excess_risk: Estimate::of(&TrialRow::values(rows, name, |r| r.excess_risk)),
                test_error: Estimate::of(&TrialRow::values(rows, name, |r| r.test_error)),
                infeasible: TrialRow::infeasible(rows, name),
            },
        );
    }
    let prediction = predict(spec);
    let caveat = prediction.as_ref().ok().and_then(|p| p.caveat);
    let theory = match prediction {
        Ok(p) => Theory::Prediction {
            excess_risk: p.excess_risk,
            test_error: p.test_error,
            eta: p.top.as_ref().map(|t| t.eta),
            s: p.top.as_ref().map(|t| t.s),
            max_residual: p.solver.max_residual,
        },
        Err(e) => Theory::Unavailable { unavailable: e.to_string() },
    };
    let note = (spec.task == validation::model::Task::Classification).then_some(CLASSIFICATION_COLUMNS);
    Summary { laws, theory, note, caveat }
}

/// The summary for a person: mean ± s.e. per law, and how many s.e. from theory.
pub fn summary_table(summary: &Summary) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("weights    trials    excess risk (mean ± s.e.)    test error (mean ± s.e.)    z vs theory\n");
    for (law, s) in &summary.laws {
        let (Some(e), Some(t)) = (s.excess_risk, s.test_error) else {
            writeln!(out, "{law:<10} {:>6}    no positive interpolator in any trial", s.infeasible).unwrap();
            continue;
        };
        let z = match summary.theory {
            Theory::Prediction { excess_risk, .. } if e.stderr > 0.0 => format!("{:+.2}", (e.mean - excess_risk) / e.stderr),
            _ => "-".into(),
        };
        writeln!(out, "{law:<10} {:>6}    {:.6} ± {:.6}         {:.6} ± {:.6}        {z}", e.n, e.mean, e.stderr, t.mean, t.stderr).unwrap();
        if s.infeasible > 0 {
            writeln!(out, "{:<10} {:>6}    more trials had no positive interpolator (not averaged)", "", s.infeasible).unwrap();
        }
    }
    match &summary.theory {
        Theory::Prediction { excess_risk, test_error, eta, s, max_residual } => {
            let top = match (eta, s) {
                (Some(eta), Some(s)) => format!("eta = {eta:.6}, s = {s:.6}, "),
                _ => String::new(),
            };
            writeln!(
                out,
                "theory                {excess_risk:.6}                    {test_error:.6}        ({top}max residual {})",
                crate::output::readable(*max_residual, 2)
            )
            .unwrap()
        }
        Theory::Unavailable { unavailable } => writeln!(out, "theory: none ({unavailable})").unwrap(),
    }
    if let Some(note) = summary.note {
        writeln!(out, "{note}").unwrap();
    }
    if let Some(caveat) = summary.caveat {
        writeln!(out, "theory caveat: {caveat}").unwrap();
    }
    out
}
