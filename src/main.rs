//! The `rfrisk` command line: parse, call one library function, print, exit.

use clap::{Parser, Subcommand, ValueEnum};
use rfrisk::spec::{Spec, SpecDoc, SpecError};
use rfrisk::entropic::TopError;
use rfrisk::{predict, report, sweep, PredictError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rfrisk",
    version,
    about = "Asymptotic test error of deep random-features models with Gaussian or one-bit hidden weights",
    long_about = "Asymptotic test error of deep random-features models with Gaussian or one-bit hidden \
weights, last layer trained by stochastic mirror descent (arXiv 2510.16250).\n\n\
Exit codes: 0 success, 1 I/O failure, 2 invalid input (spec, key or value), \
3 outside the theory's scope (a ReLU activation, or no positive interpolator for the entropic map \
at this d_L/n), 4 the solver did not converge or found no root (the message gives the residuals; \
a known case is an entropic start far above the teacher's scale).\n\n\
The model and its conventions: equations/model.md.",
    after_help = "Spec keys (see README.md): data.dim, features.widths, features.depth, features.width, features.activation, \
features.weights, teacher.prior, teacher.norm2, teacher.noise_std, training.samples, training.mirror, training.init"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum TrainerChoice {
    Direct,
    Smd,
}

#[derive(Clone, Copy, ValueEnum)]
enum BenchKind {
    Sweep,
    Trial,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendChoice {
    Cpu,
    Opencl,
    Auto,
}

/// A spec and one of its keys swept over values (sweep and validate).
#[derive(clap::Args)]
struct SweptArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// The key to sweep, e.g. training.samples, features.depth (depth at constant width)
    /// or features.width.
    #[arg(long)]
    param: String,
    /// Values: a:b:step (inclusive) or v1,v2,...
    #[arg(long)]
    values: String,
}

impl SweptArgs {
    /// The spec document with its overrides, and the values; an unknown key fails
    /// every point the same way, so it is refused once, up front.
    fn resolve(&self) -> Result<(SpecDoc, Vec<String>), Failure> {
        let doc = rfrisk::spec::read_doc(&self.spec.spec, &self.spec.overrides)?;
        known_key("--param", &self.param)?;
        let values = sweep::parse_values(&self.values).map_err(|reason| Failure { code: 2, message: format!("--values {reason}") })?;
        Ok((doc, values))
    }
}

/// Where finished trials are kept (simulate, and gap without --scan).
#[derive(clap::Args)]
struct TrialsCsv {
    /// Append each finished trial to this CSV (its run identity goes beside it, FILE.run.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in --out, skipping the trials it already holds.
    #[arg(long, requires = "out")]
    resume: bool,
}

/// How trials are run (simulate and validate).
#[derive(clap::Args)]
struct TrialArgs {
    /// Trials per weight law (at each value, for validate).
    #[arg(long)]
    trials: usize,
    /// Weight laws to simulate, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "gaussian,onebit")]
    weights: Vec<String>,
    /// Fresh test inputs per trial for measuring the risk.
    #[arg(long, default_value_t = 2000)]
    n_test: usize,
    /// Run seed; trial k uses a seed derived from it (written in the CSV).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the dense work runs.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    backend: BackendChoice,
    /// How the last layer is trained: straight to the mirror map's interpolator, or by
    /// real stochastic mirror descent (one sample per step; slow, to show it lands there).
    #[arg(long, value_enum, default_value_t = TrainerChoice::Direct)]
    trainer: TrainerChoice,
}

impl TrialArgs {
    /// The weight laws and the backend, checked.
    fn checked(&self) -> Result<(Vec<rfrisk::spec::WeightLaw>, Box<dyn validation::Backend>), Failure> {
        let laws = self
            .weights
            .iter()
            .map(|w| w.parse().map_err(|e| Failure { code: 2, message: format!("--weights: {e}") }))
            .collect::<Result<Vec<_>, _>>()?;
        if self.trials == 0 || self.n_test == 0 {
            return Err(Failure { code: 2, message: "--trials and --n-test must be > 0".into() });
        }
        Ok((laws, choose_backend(self.backend)?))
    }
}

#[derive(clap::Args)]
struct PlotLook {
    /// What the y axis shows.
    #[arg(long, value_enum, default_value_t = rfrisk::curve::Metric::TestError)]
    metric: rfrisk::curve::Metric,
    /// Logarithmic x axis.
    #[arg(long)]
    log_x: bool,
    /// Logarithmic y axis.
    #[arg(long)]
    log_y: bool,
}

#[derive(clap::Args)]
struct SpecArgs {
    /// Spec file (TOML, or JSON by extension or content).
    spec: PathBuf,
    /// Override a spec key, e.g. --set training.samples=800 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Predict the asymptotic excess risk and test error of a spec.
    Predict {
        #[command(flatten)]
        spec: SpecArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Show the per-layer Gaussian-equivalence coefficients of a spec.
    Gep {
        #[command(flatten)]
        spec: SpecArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Predict at each value of one spec key (in parallel) and write a CSV.
    Sweep {
        #[command(flatten)]
        swept: SweptArgs,
        /// Write the CSV here (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run trials of the real finite-size model (Gaussian and one-bit weights) beside the theory.
    Simulate {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        trial: TrialArgs,
        #[command(flatten)]
        csv: TrialsCsv,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Theory and simulation at the same values of one key: one CSV and one plot (PNG and SVG).
    Validate {
        #[command(flatten)]
        swept: SweptArgs,
        #[command(flatten)]
        trial: TrialArgs,
        /// Directory for validate.csv, validate.png, validate.svg and trials/.
        #[arg(long, default_value = "validate-out")]
        out_dir: PathBuf,
        /// Continue the run in --out-dir, skipping the trials it already holds.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        look: PlotLook,
    },
    /// Redraw a figure from saved figure CSVs (written by validate), without recomputing.
    Plot {
        /// One or more figure CSVs; several are overlaid, labelled by file name.
        #[arg(required = true)]
        csv: Vec<PathBuf>,
        /// Output path without extension: writes OUT.png and OUT.svg.
        #[arg(long, default_value = "plot")]
        out: PathBuf,
        /// Title (default: the file names).
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        look: PlotLook,
    },
    /// Does quantizing the hidden weights cost anything here? The theory's checklist, the
    /// measured paired gap with its test, and the trials needed to detect a given gap.
    Gap {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        trial: TrialArgs,
        /// Relative gap to detect (0.01 = 1% of the first law's excess risk).
        #[arg(long, default_value_t = 0.01)]
        detect: f64,
        /// Significance level of the test.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Power wanted for detecting --detect.
        #[arg(long, default_value_t = 0.8)]
        power: f64,
        /// Scan a key (typically features.width): the gap at each of --values and a
        /// fitted log-log slope of the mean |gap| with its confidence interval.
        #[arg(long, requires = "values")]
        scan: Option<String>,
        /// Values for --scan: a:b:step or v1,v2,...
        #[arg(long, requires = "scan")]
        values: Option<String>,
        #[command(flatten)]
        csv: TrialsCsv,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Rebuild a committed figure of figures/ (depth, gap, mirrors): runs or resumes its trials,
    /// then writes NAME.csv, NAME.png and NAME.svg.
    Reproduce {
        /// The figure: depth, gap or mirrors (see figures/README.md).
        name: String,
        #[arg(long, default_value = "figures")]
        out_dir: PathBuf,
        /// Fewer (or more) trials than the figure's own, for a quick look.
        #[arg(long)]
        trials: Option<usize>,
        #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
        backend: BackendChoice,
        /// Continue an interrupted run.
        #[arg(long)]
        resume: bool,
    },
    /// Benchmarks. `sweep`: a 200-point training.samples sweep at depth 5 against the same
    /// sweep on one thread. `trial`: one simulation trial (d0 = 2048, widths 2048 x 2,
    /// n = 1000, n_test = 2000) against the NumPy baseline validation/bench/numpy_trial.py.
    Bench {
        #[arg(value_enum, default_value_t = BenchKind::Sweep)]
        kind: BenchKind,
        /// Backend for `trial`.
        #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
        backend: BackendChoice,
        #[arg(long, default_value_t = 200)]
        points: usize,
        #[arg(long, default_value_t = 5)]
        depth: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl From<SpecError> for Failure {
    fn from(e: SpecError) -> Self {
        Failure { code: 2, message: e.to_string() }
    }
}

impl From<PredictError> for Failure {
    fn from(e: PredictError) -> Self {
        let code = match e {
            PredictError::NoSignal { .. } | PredictError::NotOdd(_) | PredictError::Top(TopError::Infeasible { .. }) => 3,
            PredictError::Solve(_) | PredictError::Top(_) | PredictError::NonFinite { .. } | PredictError::Negative { .. } => 4,
        };
        Failure { code, message: e.to_string() }
    }
}

fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure { code: 1, message: format!("cannot write {}: {e}", path.display()) }
}

/// Refuses a key that no spec has, naming the flag that gave it.
fn known_key(flag: &str, key: &str) -> Result<(), Failure> {
    if rfrisk::spec::KEYS.contains(&key) {
        Ok(())
    } else {
        Err(Failure { code: 2, message: format!("{flag} {key}: unknown key (known keys: {})", rfrisk::spec::KEYS.join(", ")) })
    }
}

fn load(args: &SpecArgs) -> Result<Spec, Failure> {
    Ok(rfrisk::spec::load(&args.spec, &args.overrides)?)
}

/// The backend asked for. `auto` takes an OpenCL GPU when there is one and says
/// what it chose; an OpenCL CPU device (PoCL) is slower than the cpu backend.
fn choose_backend(choice: BackendChoice) -> Result<Box<dyn validation::Backend>, Failure> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(validation::Cpu)),
        BackendChoice::Opencl => {
            let cl = validation::OpenCl::new().map_err(|e| Failure { code: 2, message: format!("--backend opencl: {e}") })?;
            eprintln!("note: OpenCL device: {}", cl.device());
            Ok(Box::new(cl))
        }
        BackendChoice::Auto => match validation::OpenCl::new() {
            Ok(cl) if cl.is_gpu() => {
                eprintln!("note: using the OpenCL GPU {}", cl.device());
                Ok(Box::new(cl))
            }
            Ok(cl) => {
                eprintln!("note: the only OpenCL device is a CPU ({}); using the faster cpu backend", cl.device());
                Ok(Box::new(validation::Cpu))
            }
            Err(e) => {
                eprintln!("note: {e}; using the cpu backend");
                Ok(Box::new(validation::Cpu))
            }
        },
    }
}

/// Runs validation/bench/numpy_trial.py (same trial, same process tree) and
/// prints its times beside ours, with the ratio.
fn numpy_baseline(ours: &rfrisk::bench::TrialBench, repeats: usize) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/bench/numpy_trial.py");
    let output = std::process::Command::new("python3").arg(&script).arg(repeats.to_string()).output();
    let parsed = output
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok());
    let secs = |numpy: &serde_json::Value, law: &str| numpy[law]["seconds"].as_f64().filter(|s| *s > 0.0);
    let Some((numpy, g, o)) = parsed.and_then(|n| Some((secs(&n, "gaussian")?, secs(&n, "onebit")?)).map(|(g, o)| (n, g, o))) else {
        return format!("numpy baseline: could not run `python3 {}` (is NumPy installed?)\n", script.display());
    };
    format!(
        "numpy {:<9} gaussian {:>7.3} s   onebit {:>7.3} s   {:>6.1} GFLOP/s\n\
         time ratio numpy / rfrisk: gaussian {:.2}x, onebit {:.2}x (above 1: rfrisk is faster)\n",
        numpy["numpy"].as_str().unwrap_or("?"),
        g,
        o,
        ours.flops / g / 1e9,
        g / ours.gaussian_seconds,
        o / ours.onebit_seconds
    )
}

impl From<TrainerChoice> for validation::Trainer {
    fn from(t: TrainerChoice) -> Self {
        match t {
            TrainerChoice::Direct => validation::Trainer::Direct,
            TrainerChoice::Smd => validation::Trainer::Smd,
        }
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} trials, {elapsed} elapsed, eta {eta}").expect("a valid template"),
    )
}

/// A progress callback `(done, total)` that drives `bar`.
fn report_to(bar: &indicatif::ProgressBar) -> impl Fn(usize, usize) + '_ {
    move |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

fn simulate_failure(e: rfrisk::simulate::SimulateError) -> Failure {
    use rfrisk::simulate::SimulateError as E;
    let code = match &e {
        E::Exists { .. } | E::Mismatch { .. } => 2,
        E::Trial { source: validation::TrialError::Train(validation::train::TrainError::NoPositiveInterpolator { .. }), .. } => 3,
        E::Trial { .. } => 4,
        _ => 1,
    };
    Failure { code, message: e.to_string() }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("predictions serialize") + "\n"
}

fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Predict { spec, format } => {
            let spec = load(&spec)?;
            let prediction = predict(&spec)?;
            Ok(match format {
                Format::Table => report::prediction_table(&spec, &prediction),
                Format::Json => json(&report::PredictionJson { spec: &spec, prediction: &prediction }),
            })
        }
        Command::Gep { spec, format } => {
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
        Command::Sweep { swept, out } => {
            let (doc, values) = swept.resolve()?;
            let param = swept.param;
            let points = sweep::sweep(&doc, &param, &values);
            let failed: Vec<_> = points.iter().filter_map(|p| p.outcome.as_ref().err().map(|e| (&p.value, e))).collect();
            for (value, error) in &failed {
                eprintln!("warning: {param}={value}: {error}");
            }
            if !failed.is_empty() {
                eprintln!("warning: {} of {} points failed; they are marked in the CSV's status column", failed.len(), points.len());
            }
            let csv = sweep::to_csv(&param, &points);
            match out {
                Some(path) => {
                    rfrisk::output::write_atomic(&path, &csv).map_err(|e| io_failure(&path, e))?;
                    eprintln!("wrote {} points to {}", points.len(), path.display());
                    Ok(String::new())
                }
                None => Ok(String::from_utf8(csv).expect("CSV of UTF-8 strings")),
            }
        }
        Command::Simulate { spec, trial, csv: TrialsCsv { out, resume }, format } => {
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
        Command::Validate { swept, trial, out_dir, resume, look } => {
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
            let options = rfrisk::plot::PlotOptions {
                metric: look.metric,
                log_x: look.log_x,
                log_y: look.log_y,
                title: rfrisk::plot::title(&base, &param),
                y_label: None,
            };
            rfrisk::plot::draw(&[(String::new(), curve)], &options, &out_dir.join("validate"))
                .map_err(|e| Failure { code: 1, message: e.to_string() })?;
            eprintln!("wrote {}, validate.png and validate.svg in {}", csv.display(), out_dir.display());
            Ok(String::new())
        }
        Command::Plot { csv, out, title, look } => {
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
            let options = rfrisk::plot::PlotOptions { metric: look.metric, log_x: look.log_x, log_y: look.log_y, title, y_label: None };
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
        Command::Gap { spec, trial, detect, alpha, power, scan, values, csv: TrialsCsv { out, resume }, format } => {
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
                    let values = sweep::parse_values(values).map_err(|reason| input(format!("--values {reason}")))?;
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
                Format::Table => {
                    let mut out = format!("{:>12}  {:>12}  {:>10}  {:>12}  {:>9}  {}\n", scan.as_deref().unwrap_or(""), "mean |gap|", "s.e.", "gap", "p", "in theory");
                    for p in &scanned {
                        out += &format!(
                            "{:>12}  {:>12.4e}  {:>10.2e}  {:>+12.3e}  {:>9.3}  {}\n",
                            p.value, p.mean_abs_gap, p.mean_abs_gap_stderr, p.report.gap.mean, p.report.gap.p_value, p.report.in_theory
                        );
                    }
                    out += &match slope {
                        Some(s) => format!(
                            "log-log slope of mean |gap|: {:+.3}  [{:+.3}, {:+.3}] ({:.0}% CI)\n",
                            s.estimate, s.ci_low, s.ci_high, 100.0 * (1.0 - alpha)
                        ),
                        None => "log-log slope: needs at least three numeric values with a positive gap\n".into(),
                    };
                    out
                }
            })
        }
        Command::Reproduce { name, out_dir, trials, backend, resume } => {
            let names: Vec<&str> = rfrisk::reproduce::FIGURES.iter().map(|f| f.name).collect();
            let figure = rfrisk::reproduce::find(&name)
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
        Command::Bench { kind: BenchKind::Trial, backend, repeats, .. } => {
            let backend = choose_backend(backend)?;
            let b = rfrisk::bench::trial_bench(backend.as_ref(), repeats.max(1)).map_err(|e| Failure { code: 4, message: e.to_string() })?;
            let mut out = format!(
                "one trial: d0 = 2048, widths 2048 x 2, tanh, n = 1000, n_test = 2000, squared ({:.1} GFLOP)\n\
                 rfrisk {:<8} gaussian {:>7.3} s   onebit {:>7.3} s   {:>6.1} GFLOP/s\n",
                b.flops / 1e9,
                b.backend,
                b.gaussian_seconds,
                b.onebit_seconds,
                b.flops / b.gaussian_seconds / 1e9
            );
            out += &numpy_baseline(&b, repeats.max(1));
            Ok(out)
        }
        Command::Bench { kind: BenchKind::Sweep, points, depth, repeats, .. } => {
            if points < 2 || depth < 1 || repeats < 1 {
                return Err(Failure { code: 2, message: "bench needs --points >= 2, --depth >= 1, --repeats >= 1".into() });
            }
            let b = rfrisk::bench::sweep_bench(depth, points, repeats);
            Ok(format!(
                "sweep of training.samples, {} points, L = {}, widths 2000, d0 = 1000 ({} threads, best of {repeats})\n\
                 parallel sweep     {:>10.3} ms\n\
                 one-thread sweep   {:>10.3} ms   (baseline: the same sweep on one thread)\n\
                 speed-up           {:>10.2} x\n\
                 one prediction     {:>10.1} us   (median)\n\
                 failed points      {:>10}\n\
                 entropic map (half-normal teacher, noise 0.1), same points:\n\
                 one prediction     {:>10.3} ms   (median; {:.0} x the squared map's)\n\
                 slowest            {:>10.3} ms\n\
                 past the boundary  {:>10}   (refused with exit 3 by predict)\n",
                b.points,
                b.depth,
                b.threads,
                b.parallel_seconds * 1e3,
                b.sequential_seconds * 1e3,
                b.sequential_seconds / b.parallel_seconds,
                b.single_prediction_seconds * 1e6,
                b.failed_points,
                b.entropic_prediction_seconds * 1e3,
                b.entropic_prediction_seconds / b.single_prediction_seconds,
                b.entropic_slowest_seconds * 1e3,
                b.entropic_infeasible_points
            ))
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(stdout) => {
            print!("{stdout}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
