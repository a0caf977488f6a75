//! `rfrisk._native`: the library's commands for the Python package (python/rfrisk/__init__.py).
//!
//! Each function takes a spec as the Python layer hands it (a path, or a document's text:
//! a dict arrives as JSON), with the CLI's `--set KEY=VALUE` overrides, and goes through
//! the same `SpecDoc` parser as `rfrisk` itself, so every spec key reaches Python without
//! binding code. Results that the CLI prints as JSON are returned as the CLI's JSON text
//! (the same serializer, so `json.loads` gives bit-identical floats); long calls run on a
//! thread of their own with the GIL released while this thread watches for Ctrl-C.

use pyo3::exceptions::{PyFileExistsError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;
use rfrisk::entropic::TopError;
use rfrisk::simulate::SimulateError;
use rfrisk::spec::{SpecDoc, SpecError, WeightLaw};
use rfrisk::PredictError;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// An instance of one of rfrisk/_errors.py's exceptions, `attrs` set on it.
fn raise(py: Python<'_>, class: &str, message: String, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
    let made = py.import("rfrisk._errors").and_then(|m| m.getattr(class)).and_then(|c| c.call1((message,))).and_then(|e| {
        for (name, value) in attrs {
            e.setattr(*name, value.bind(py))?;
        }
        Ok(e)
    });
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// A panic's message, for the RuntimeError that stands in for it.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
    format!("rfrisk: internal error (a panic in the library: {what}); please report it")
}

/// Runs one binding's body; a panic becomes a RuntimeError, never a PanicException in Python.
fn no_panic<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(PyRuntimeError::new_err(panic_message(&*payload))))
}

fn spec_error(py: Python<'_>, e: SpecError) -> PyErr {
    let key = match &e {
        SpecError::Field { key, .. } => Some(key.clone()),
        SpecError::Override { assignment, .. } => assignment.split_once('=').map(|(k, _)| k.trim().to_owned()),
        SpecError::Io { .. } | SpecError::Parse { .. } => None,
    };
    let key = key.into_pyobject(py).map(|k| k.unbind()).unwrap_or_else(|_| py.None());
    raise(py, "SpecError", e.to_string(), &[("key", key)])
}

/// The CLI's exit codes 3 and 4 (src/cli/failure.rs) as exceptions: outside the theory, or
/// the solver failed (with the residuals it stopped at, where it has them).
fn predict_error(py: Python<'_>, e: PredictError) -> PyErr {
    let residuals: Option<Vec<f64>> = match &e {
        PredictError::NoSignal { .. }
        | PredictError::NotGaussianInputs(_)
        | PredictError::RealData(_)
        | PredictError::Classification
        | PredictError::NotOdd(..)
        | PredictError::InfiniteRisk(_)
        | PredictError::Top(TopError::Infeasible { .. } | TopError::NoMass) => return raise(py, "OutsideTheory", e.to_string(), &[]),
        PredictError::Solve(rfrisk::squared::SolveError::NoConvergence { residuals, .. })
        | PredictError::Top(TopError::Layers(rfrisk::squared::SolveError::NoConvergence { residuals, .. })) => Some(residuals.clone()),
        PredictError::Top(TopError::NoConvergence { t1, t2, .. }) => Some(vec![*t1, *t2]),
        PredictError::Top(TopError::UnitLawNoConvergence { residuals, .. }) => Some(residuals.clone()),
        PredictError::Solve(_) | PredictError::Top(_) | PredictError::NonFinite { .. } | PredictError::Negative { .. } => None,
    };
    // A NaN residual becomes None: no NaN reaches Python outside a sweep's arrays.
    let residuals = residuals.map(|r| r.into_iter().map(|x| (!x.is_nan()).then_some(x)).collect::<Vec<_>>());
    let residuals = residuals.into_pyobject(py).map(|r| r.unbind()).unwrap_or_else(|_| py.None());
    raise(py, "SolverError", e.to_string(), &[("residuals", residuals)])
}

fn simulate_error(py: Python<'_>, e: SimulateError) -> PyErr {
    use validation::{TrainError, TrialError};
    let message = e.to_string();
    match e {
        SimulateError::Exists { .. } => PyFileExistsError::new_err(message),
        SimulateError::Mismatch { .. } | SimulateError::ShardNeedsFile => PyValueError::new_err(message),
        SimulateError::Shards { .. } | SimulateError::Merge { .. } => PyRuntimeError::new_err(message),
        SimulateError::Io { .. } | SimulateError::Csv { .. } => PyOSError::new_err(message),
        SimulateError::Trial { source: TrialError::Train(TrainError::NoPositiveInterpolator { .. }), .. } => raise(py, "OutsideTheory", message, &[]),
        SimulateError::Trial { source: TrialError::Train(TrainError::SmdNeedsInterpolation), .. } => PyValueError::new_err(message),
        SimulateError::Trial { .. } => raise(py, "SimulationError", message, &[]),
        // Only asked for on Ctrl-C or a failing progress callback, whose exception is raised instead.
        SimulateError::Stopped { .. } => PyRuntimeError::new_err(message),
    }
}

/// The spec document: `source` is a path (`is_path`) or a document's text named `origin`
/// in errors, then the overrides (`KEY=VALUE`, the CLI's `--set`) in order.
fn doc_of(source: &str, is_path: bool, origin: &str, overrides: &[String]) -> Result<SpecDoc, SpecError> {
    let mut doc = if is_path { SpecDoc::read(Path::new(source))? } else { SpecDoc::parse(source, Path::new(origin))? };
    for assignment in overrides {
        doc.set(assignment)?;
    }
    Ok(doc)
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("predictions serialize") + "\n"
}

/// What a long call shares with the thread watching it: how far it is, and whether to stop.
#[derive(Default)]
struct Ticker {
    done: AtomicUsize,
    total: AtomicUsize,
    stop: AtomicBool,
}

impl Ticker {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    fn report(&self, done: usize, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }
}

/// Runs `work` on a thread of its own without the GIL. This thread wakes when `work`
/// returns or every 20 ms, calls `progress(done, total)` when the count moved and checks
/// for Ctrl-C; a signal or an exception from `progress` sets `stop`, which `work` polls
/// between its units, and is raised once `work` has returned (so nothing is left running,
/// or half-written).
fn supervised<T: Send>(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, work: impl FnOnce(&Ticker) -> T + Send) -> PyResult<T> {
    let ticker = Ticker::default();
    let (finished, mut wait) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            let result = work(&ticker);
            let _ = finished.send(());
            result
        });
        let mut pending: Option<PyErr> = None;
        let mut shown = None;
        loop {
            // The receiver goes into the GIL-free closure and back (it is Send, not Sync).
            let (woke, back) = py.detach(move || (wait.recv_timeout(std::time::Duration::from_millis(20)), wait));
            wait = back;
            let done = !matches!(woke, Err(std::sync::mpsc::RecvTimeoutError::Timeout));
            if let (Some(callback), None) = (progress, &pending) {
                let now = (ticker.done.load(Ordering::Relaxed), ticker.total.load(Ordering::Relaxed));
                if shown != Some(now) && now.1 > 0 {
                    shown = Some(now);
                    if let Err(e) = callback.call1(now) {
                        pending = Some(e);
                    }
                }
            }
            if done {
                break;
            }
            if pending.is_none() {
                pending = py.check_signals().err();
            }
            if pending.is_some() {
                ticker.stop.store(true, Ordering::Relaxed);
            }
        }
        let result = handle.join().map_err(|payload| PyRuntimeError::new_err(panic_message(&*payload)))?;
        match pending {
            Some(e) => Err(e),
            None => Ok(result),
        }
    })
}

/// `rfrisk predict --format json`, as its text.
#[pyfunction]
#[pyo3(signature = (source, is_path, origin, overrides))]
fn predict(py: Python<'_>, source: &str, is_path: bool, origin: &str, overrides: Vec<String>) -> PyResult<String> {
    no_panic(|| {
        let doc = doc_of(source, is_path, origin, &overrides).map_err(|e| spec_error(py, e))?;
        let spec = doc.to_spec().map_err(|e| spec_error(py, e))?;
        let prediction = py.detach(|| rfrisk::predict(&spec)).map_err(|e| predict_error(py, e))?;
        Ok(json(&rfrisk::report::PredictionJson { spec: rfrisk::report::SpecFile::of(&spec), prediction: &prediction }))
    })
}

/// `rfrisk gep --format json`, as its text.
#[pyfunction]
fn gep(py: Python<'_>, source: &str, is_path: bool, origin: &str, overrides: Vec<String>) -> PyResult<String> {
    no_panic(|| {
        let spec = doc_of(source, is_path, origin, &overrides).and_then(|d| d.to_spec()).map_err(|e| spec_error(py, e))?;
        let (_, gep, offsets) = py.detach(|| rfrisk::predict::mixed_layers(&spec));
        Ok(match offsets {
            None => json(&gep),
            Some(laws) => json(&serde_json::json!({ "gep": gep, "offsets": laws })),
        })
    })
}

/// The columns of `rfrisk sweep`'s CSV: the values as given, the numbers (NaN where the
/// CSV's cell is empty: a failed point, or eta and s where they are not derived), status.
type Columns = (Vec<String>, Vec<Vec<f64>>, Vec<String>);

/// `rfrisk sweep`: every value through the library's own per-point sweep, in parallel.
#[pyfunction]
#[pyo3(signature = (source, is_path, origin, overrides, param, values, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sweep(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    origin: &str,
    overrides: Vec<String>,
    param: String,
    values: Vec<String>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Columns> {
    no_panic(|| {
        let doc = doc_of(source, is_path, origin, &overrides).map_err(|e| spec_error(py, e))?;
        // As the CLI does (src/cli/args.rs): an unknown key or a value of the wrong type fails every point the same way, so refuse it once.
        let field = |reason: String| spec_error(py, SpecError::Field { key: param.clone(), reason });
        if !rfrisk::spec::KEYS.contains(&param.as_str()) {
            return Err(field(rfrisk::spec::unknown_key(&param)));
        }
        if values.is_empty() {
            return Err(field("no values to sweep".into()));
        }
        for value in &values {
            rfrisk::spec::check_value(&param, value).map_err(field)?;
        }
        let points = supervised(py, progress.as_ref(), |ticker| {
            let total = values.len();
            ticker.report(0, total);
            values
                .par_iter()
                .map(|value| {
                    if ticker.stopped() {
                        return None;
                    }
                    let point = rfrisk::sweep::sweep(&doc, &param, std::slice::from_ref(value)).pop();
                    ticker.done.fetch_add(1, Ordering::Relaxed);
                    point
                })
                .collect::<Option<Vec<_>>>()
        })?;
        let points = points.ok_or_else(|| PyRuntimeError::new_err("sweep stopped"))?;
        let mut numbers = vec![Vec::with_capacity(points.len()); rfrisk::sweep::COLUMNS.len() - 1];
        let mut status = Vec::with_capacity(points.len());
        for point in &points {
            let row = match &point.outcome {
                Ok(p) => [Some(p.excess_risk), Some(p.test_error), Some(p.bias), Some(p.variance), p.top.as_ref().map(|t| t.eta), p.top.as_ref().map(|t| t.s), Some(p.solver.max_residual)],
                Err(_) => [None; 7],
            };
            for (column, x) in numbers.iter_mut().zip(row) {
                column.push(x.unwrap_or(f64::NAN));
            }
            status.push(match &point.outcome {
                Ok(_) => "ok".to_owned(),
                Err(e) => rfrisk::sweep::one_line(e),
            });
        }
        Ok((values, numbers, status))
    })
}

/// The CLI's `--backend`, `--trainer` and `--kernel` choices (src/cli/common.rs, args.rs).
fn backend_of(name: &str) -> Result<Box<dyn validation::Backend>, String> {
    match name {
        "cpu" => Ok(Box::new(validation::Cpu)),
        "opencl" => validation::OpenCl::new().map(|cl| Box::new(cl) as Box<dyn validation::Backend>).map_err(|e| format!("backend='opencl': {e}")),
        "auto" => Ok(match validation::OpenCl::new() {
            Ok(cl) if cl.is_gpu() => Box::new(validation::backend::GpuOrCpu(cl)),
            _ => Box::new(validation::Cpu),
        }),
        other => Err(format!("backend={other:?}: expected 'auto', 'cpu' or 'opencl'")),
    }
}

/// Everything `simulate` and `gap` share: the spec, the laws, the trial settings.
struct Trials {
    spec: rfrisk::Spec,
    laws: Vec<WeightLaw>,
    trials: usize,
    n_test: usize,
    seed: u64,
    trainer: validation::Trainer,
    kernel: validation::KernelChoice,
    backend: Box<dyn validation::Backend>,
}

#[allow(clippy::too_many_arguments)]
fn trials_of(
    py: Python<'_>,
    spec: rfrisk::Spec,
    trials: usize,
    weights: &[String],
    seed: u64,
    n_test: usize,
    trainer: &str,
    backend: &str,
    kernel: &str,
) -> PyResult<Trials> {
    let _ = py;
    let laws = weights.iter().map(|w| w.parse::<WeightLaw>().map_err(|e| PyValueError::new_err(format!("weights: {e}")))).collect::<PyResult<Vec<_>>>()?;
    if trials == 0 || n_test == 0 {
        return Err(PyValueError::new_err("trials and n_test must be > 0"));
    }
    let trainer = match trainer {
        "direct" => validation::Trainer::Direct,
        "smd" => validation::Trainer::Smd,
        other => return Err(PyValueError::new_err(format!("trainer={other:?}: expected 'direct' or 'smd'"))),
    };
    let kernel = match kernel {
        "auto" => validation::KernelChoice::Auto,
        "packed" => validation::KernelChoice::Packed,
        "dense" => validation::KernelChoice::Dense,
        other => return Err(PyValueError::new_err(format!("kernel={other:?}: expected 'auto', 'packed' or 'dense'"))),
    };
    let backend = backend_of(backend).map_err(PyValueError::new_err)?;
    Ok(Trials { spec, laws, trials, n_test, seed, trainer, kernel, backend })
}

impl Trials {
    fn run(&self) -> rfrisk::simulate::Run<'_> {
        rfrisk::simulate::Run {
            spec: &self.spec,
            laws: self.laws.clone(),
            trials: self.trials,
            n_test: self.n_test,
            seed: self.seed,
            trainer: self.trainer,
            backend: self.backend.as_ref(),
            kernel: self.kernel,
        }
    }

    /// The trials, each appended to `out` as it finishes when given (`rfrisk simulate --out`).
    fn execute(&self, py: Python<'_>, out: Option<&str>, resume: bool, progress: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<rfrisk::simulate::TrialRow>> {
        let run = self.run();
        let rows = supervised(py, progress, |ticker| {
            run.execute_until(out.map(Path::new), resume, &|done, total| ticker.report(done, total), &|| ticker.stopped())
        })?;
        rows.map_err(|e| simulate_error(py, e))
    }
}

/// `rfrisk simulate`: the trial rows (the `--out` CSV's rows) as JSON text.
#[pyfunction]
#[pyo3(signature = (source, is_path, origin, overrides, trials, weights, seed, n_test, trainer, backend, kernel, out, resume, progress=None))]
#[allow(clippy::too_many_arguments)]
fn simulate(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    origin: &str,
    overrides: Vec<String>,
    trials: usize,
    weights: Vec<String>,
    seed: u64,
    n_test: usize,
    trainer: &str,
    backend: &str,
    kernel: &str,
    out: Option<String>,
    resume: bool,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    no_panic(|| {
        let spec = doc_of(source, is_path, origin, &overrides).and_then(|d| d.to_spec()).map_err(|e| spec_error(py, e))?;
        let run = trials_of(py, spec, trials, &weights, seed, n_test, trainer, backend, kernel)?;
        let rows = run.execute(py, out.as_deref(), resume, progress.as_ref())?;
        Ok(serde_json::to_string(&rows).expect("rows serialize"))
    })
}

/// `rfrisk gap --format json`, as its text: on one spec, or with `scan` at each of `values`
/// of that key (the mean |gap| per value and its fitted log-log slope).
#[pyfunction]
#[pyo3(signature = (source, is_path, origin, overrides, trials, weights, seed, n_test, trainer, backend, kernel, detect, alpha, power, scan=None, values=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn gap(
    py: Python<'_>,
    source: &str,
    is_path: bool,
    origin: &str,
    overrides: Vec<String>,
    trials: usize,
    weights: Vec<String>,
    seed: u64,
    n_test: usize,
    trainer: &str,
    backend: &str,
    kernel: &str,
    detect: f64,
    alpha: f64,
    power: f64,
    scan: Option<String>,
    values: Option<Vec<String>>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    no_panic(|| {
        // The CLI's checks (src/cli/trials.rs), in its words.
        if !(detect > 0.0 && detect.is_finite()) {
            return Err(PyValueError::new_err(format!("detect must be > 0, got {detect}")));
        }
        if !(alpha > 0.0 && alpha < 1.0 && power > 0.0 && power < 1.0) {
            return Err(PyValueError::new_err(format!("alpha and power must be in (0, 1), got {alpha} and {power}")));
        }
        let doc = doc_of(source, is_path, origin, &overrides).map_err(|e| spec_error(py, e))?;
        // (value, spec) per point: one unnamed point without a scan.
        let points: Vec<(String, rfrisk::Spec)> = match (&scan, values) {
            (None, None) => vec![(String::new(), doc.to_spec().map_err(|e| spec_error(py, e))?)],
            (Some(key), Some(values)) => {
                let field = |reason: String| spec_error(py, SpecError::Field { key: key.clone(), reason });
                if !rfrisk::spec::KEYS.contains(&key.as_str()) {
                    return Err(field(rfrisk::spec::unknown_key(key)));
                }
                values
                    .into_iter()
                    .map(|v| {
                        rfrisk::spec::check_value(key, &v).map_err(field)?;
                        let mut d = doc.clone();
                        d.set(&format!("{key}={v}")).and_then(|()| d.to_spec()).map(|spec| (v, spec)).map_err(|e| spec_error(py, e))
                    })
                    .collect::<PyResult<_>>()?
            }
            _ => return Err(PyValueError::new_err("scan and values go together")),
        };
        let mut scanned = Vec::new();
        for (value, spec) in points {
            let run = trials_of(py, spec, trials, &weights, seed, n_test, trainer, backend, kernel)?;
            let [a, b] = run.laws[..] else {
                return Err(PyValueError::new_err(rfrisk::gap::GapError::NotTwoLaws(run.laws.len()).to_string()));
            };
            let rows = run.execute(py, None, false, progress.as_ref())?;
            let (mean_abs_gap, mean_abs_gap_stderr) = rfrisk::gap::mean_abs_gap(&rows, a, b, rfrisk::gap::Measure::of(&run.spec));
            let report = rfrisk::gap::report(&run.spec, &run.laws, &rows, detect, alpha, power).map_err(|e| match e {
                rfrisk::gap::GapError::Simulate(e) => simulate_error(py, e),
                other => PyValueError::new_err(other.to_string()),
            })?;
            scanned.push(rfrisk::gap::ScanPoint { value, mean_abs_gap, mean_abs_gap_stderr, report });
        }
        let Some(scan) = scan else {
            return Ok(json(&scanned[0].report));
        };
        let xy: Vec<(f64, f64)> = scanned.iter().filter_map(|p| p.value.parse::<f64>().ok().map(|x| (x, p.mean_abs_gap))).collect();
        let slope = rfrisk::gap::log_log_slope(&xy, alpha);
        Ok(json(&serde_json::json!({ "scan": scan, "points": scanned, "slope": slope })))
    })
}

/// `--values` as the CLI expands it: `a:b:step` (inclusive) or `v1,v2,...`.
#[pyfunction]
fn expand_values(py: Python<'_>, param: String, text: &str) -> PyResult<Vec<String>> {
    no_panic(|| {
        rfrisk::sweep::parse_values(text).map_err(|reason| spec_error(py, SpecError::Field { key: param, reason }))
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(expand_values, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(gep, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(gap, m)?)?;
    Ok(())
}
