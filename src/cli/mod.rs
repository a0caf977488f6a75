//! The command line: the argument types and one function per subcommand. `main.rs`
//! parses, calls [`run`], prints what it returns and exits with the failure's code.

mod args;
mod bench;
mod common;
mod failure;
mod figures;
mod theory;
mod trials;

use args::{BackendChoice, BenchKind, Format, GapArgs, PlotLook, ShardArgs, SpecArgs, SweptArgs, TrialArgs, TrialsCsv};
use clap::{Parser, Subcommand};
pub use failure::Failure;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "rfrisk",
    version,
    about = "Asymptotic test error of deep random-features models with Gaussian or one-bit hidden weights",
    long_about = "Asymptotic test error of deep random-features models with Gaussian or one-bit hidden \
weights, last layer trained by stochastic mirror descent (arXiv 2510.16250).\n\n\
Exit codes: 0 success, 1 I/O failure, 2 invalid input (spec, key or value), \
3 outside the theory's scope (a non-odd activation: with a mean along 1 or a map other than the squared one, a teacher below the last layer, a ridge, n >= d_L, an input spectrum or more than 6 layers; more than 40 layers; no positive interpolator for the entropic map \
at this d_L/n or, for a non-odd activation, with a signed teacher (from two layers on GELU and leaky ReLU are refused there: not solved); or an infinite risk: n = d_L without a ridge, with noise), 4 the solver did not converge or found no root (the message gives the residuals; \
a known case is an entropic start far above the teacher's scale), 5 a sweep or validate wrote every point \
but some failed (marked in the CSV's status column).\n\n\
The model and its conventions: equations/model.md.",
    after_help = "Spec keys (see README.md): data.dim, features.widths, features.depth, features.width, features.activation, \
features.weights, teacher.prior, teacher.norm2, teacher.noise_std, training.samples (or training.ratio = n/d_L, or features.overparam = d_L/n), \
training.mirror, training.init, training.ridge, teacher.depth, data.spectrum"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print notes that an ordinary run leaves out (which backend `--backend auto` chose, and why).
    #[arg(long, global = true)]
    pub verbose: bool,
}

#[derive(Subcommand)]
pub enum Command {
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
        #[command(flatten)]
        shard: ShardArgs,
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
        /// A family of curves in one figure: KEY=v1,v2,... (e.g. features.depth=1,2,3), one
        /// series per value, in one CSV (series column `KEY=v/...`), trials under series/.
        #[arg(long, value_name = "KEY=VALUES")]
        series: Option<String>,
        #[command(flatten)]
        shard: ShardArgs,
        #[command(flatten)]
        look: PlotLook,
    },
    /// Redraw a figure from saved figure CSVs (written by validate), without recomputing.
    Plot {
        /// One or more figure CSVs; several are overlaid, each in its own colour and line style.
        #[arg(required = true)]
        csv: Vec<PathBuf>,
        /// Output path without extension: writes OUT.png and OUT.svg.
        #[arg(long, default_value = "plot")]
        out: PathBuf,
        /// Title (default: the labels).
        #[arg(long)]
        title: Option<String>,
        /// A label per CSV, in order (repeat it). Default: the spec key and value the files
        /// differ in, when their trials say so and it is one; else the file names (or their
        /// folders, when every file is validate.csv).
        #[arg(long = "label")]
        labels: Vec<String>,
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
        #[command(flatten)]
        test: GapArgs,
        #[command(flatten)]
        csv: TrialsCsv,
        #[command(flatten)]
        shard: ShardArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// The ridge that minimises the predicted test error (a log-grid scan of the theory curve,
    /// then Brent's minimiser), with the risk there; says when the minimum is at an end of the range.
    Tune {
        #[command(flatten)]
        spec: SpecArgs,
        /// The key to tune: training.ridge.
        #[arg(long)]
        param: String,
        /// The range a:b searched (log scale; a = 0 also compares the ridgeless point).
        #[arg(long, default_value = "1e-6:1e3")]
        range: String,
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
        #[command(flatten)]
        shard: ShardArgs,
    },
    /// Benchmarks. `sweep`: a 200-point training.samples sweep at depth 5 against the same
    /// sweep on one thread. `trial`: one simulation trial (d0 = 2048, widths 2048 x 2,
    /// n = 1000, n_test = 2000), Gaussian and one-bit (packed and dense), against the NumPy
    /// baseline validation/bench/numpy_trial.py. `inference`: the paper's Figure 5, one layer
    /// d0 = d1 = d in 256..4096, batch 1 and 1000, f32 Gaussian against packed one-bit weights
    /// (RFRISK_PACKED_KERNEL=avx512|avx2|portable forces a kernel).
    Bench {
        #[arg(value_enum, default_value_t = BenchKind::Sweep)]
        kind: BenchKind,
        /// Backend for `trial` and `inference`.
        #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
        backend: BackendChoice,
        /// Table or JSON (`inference`).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(long, default_value_t = 200)]
        points: usize,
        #[arg(long, default_value_t = 5)]
        depth: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}


/// The command line, parsed. Before clap: a `--set KEY VALUE` (a space for the `=`) would
/// reach clap as a stray argument; it is refused here, saying how to write it.
pub fn parse() -> Result<Cli, Failure> {
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(3) {
        if pair[0] == "--set" && !pair[1].contains('=') {
            let value = if pair[2].starts_with('-') { "VALUE".to_owned() } else { pair[2].clone() };
            return Err(Failure { code: 2, message: format!("--set {}: expected KEY=VALUE; write --set {}={value}", pair[1], pair[1]) });
        }
    }
    Ok(Cli::parse_from(args))
}

/// Runs one subcommand: what it prints on stdout, or the failure.
pub fn run(cli: Cli) -> Result<String, Failure> {
    common::set_verbose(cli.verbose);
    match cli.command {
        Command::Predict { spec, format } => theory::predict(spec, format),
        Command::Gep { spec, format } => theory::gep(spec, format),
        Command::Sweep { swept, out } => theory::sweep(swept, out),
        Command::Simulate { spec, trial, csv, shard, format } => trials::simulate(spec, trial, csv.out, shard.storage(csv.resume)?, format),
        Command::Validate { swept, trial, out_dir, resume, series, shard, look } => trials::validate(swept, trial, out_dir, shard.storage(resume)?, series, look),
        Command::Plot { csv, out, title, labels, look } => figures::plot(csv, out, title, labels, look),
        Command::Gap { spec, trial, test, csv, shard, format } => trials::gap(spec, trial, test, csv.out, shard.storage(csv.resume)?, format),
        Command::Tune { spec, param, range, format } => theory::tune(spec, &param, &range, format),
        Command::Reproduce { name, out_dir, trials, backend, resume, shard } => figures::reproduce(&name, out_dir, trials, backend, shard.storage(resume)?),
        Command::Bench { kind: BenchKind::Trial, backend, repeats, .. } => bench::trial(backend, repeats),
        Command::Bench { kind: BenchKind::Inference, backend, repeats, format, .. } => bench::inference(backend, repeats, format),
        Command::Bench { kind: BenchKind::Sweep, points, depth, repeats, .. } => bench::sweep(points, depth, repeats),
    }
}
