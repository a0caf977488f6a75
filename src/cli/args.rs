//! The argument types the subcommands share.

use super::common::{choose_backend, known_key, values_of};
use super::failure::Failure;
use clap::ValueEnum;
use rfrisk::spec::SpecDoc;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TrainerChoice {
    Direct,
    Smd,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BenchKind {
    Sweep,
    Trial,
    Inference,
}

/// `--metric`: which number a figure shows.
#[derive(Clone, Copy, ValueEnum)]
pub enum MetricChoice {
    ExcessRisk,
    TestError,
}

impl From<MetricChoice> for rfrisk::curve::Metric {
    fn from(m: MetricChoice) -> Self {
        match m {
            MetricChoice::ExcessRisk => rfrisk::curve::Metric::ExcessRisk,
            MetricChoice::TestError => rfrisk::curve::Metric::TestError,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BackendChoice {
    Cpu,
    Opencl,
    Auto,
}

/// A spec and one of its keys swept over values (sweep and validate).
#[derive(clap::Args)]
pub struct SweptArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// The key to sweep, e.g. training.samples, features.depth (depth at constant width)
    /// or features.width.
    #[arg(long)]
    pub param: String,
    /// Values: a:b:step (inclusive) or v1,v2,...
    #[arg(long)]
    pub values: String,
}

impl SweptArgs {
    /// The spec document with its overrides, and the values; an unknown key fails
    /// every point the same way, so it is refused once, up front.
    pub fn resolve(&self) -> Result<(SpecDoc, Vec<String>), Failure> {
        let doc = rfrisk::spec::read_doc(&self.spec.spec, &self.spec.overrides)?;
        known_key("--param", &self.param)?;
        let values = values_of("--values", &self.param, &self.values)?;
        Ok((doc, values))
    }
}

/// Where finished trials are kept (simulate, and gap without --scan).
#[derive(clap::Args)]
pub struct TrialsCsv {
    /// Append each finished trial to this CSV (its run identity goes beside it, FILE.run.json);
    /// for gap --scan, a directory holding one KEY=VALUE.csv per value.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out, skipping the trials it already holds.
    #[arg(long, requires = "out")]
    pub resume: bool,
}

/// Splitting the run over machines (`study::shard`).
#[derive(clap::Args)]
pub struct ShardArgs {
    /// Run only shard K of N of the trials (1-based, e.g. 2/4), into files of its own
    /// (NAME.shard-K-of-N.csv beside each trials file); `slurm` takes K and N from the job
    /// array (SLURM_ARRAY_TASK_ID, _MIN, _COUNT). Seeds do not depend on the split.
    #[arg(long, value_name = "K/N|slurm", conflicts_with = "merge")]
    pub shard: Option<String>,
    /// Put the shards' files together (every unit exactly once, or a list of what is missing
    /// or duplicated), then finish as a resumed run: the same CSVs and figures as one machine.
    #[arg(long)]
    pub merge: bool,
}

impl ShardArgs {
    pub fn storage(&self, resume: bool) -> Result<rfrisk::shard::Storage, Failure> {
        use rfrisk::shard::{Shard, Split, Storage};
        let split = match (&self.shard, self.merge) {
            (Some(s), _) if s == "slurm" => Split::Shard(Shard::from_slurm(|name| std::env::var(name).ok()).map_err(|message| Failure { code: 2, message })?),
            (Some(s), _) => Split::Shard(s.parse().map_err(|message| Failure { code: 2, message })?),
            (None, true) => Split::Merge,
            (None, false) => Split::Whole,
        };
        Ok(Storage { resume, split })
    }
}

/// What a shard says when it has finished its part.
pub fn shard_done(storage: &rfrisk::shard::Storage) -> Option<String> {
    storage.shard().map(|s| format!("shard {}/{} done: run the same command with --merge (in place of --shard) once every shard has finished\n", s.index, s.count))
}

/// How trials are run (simulate and validate).
#[derive(clap::Args)]
pub struct TrialArgs {
    /// Trials per weight law (at each value, for validate).
    #[arg(long)]
    pub trials: usize,
    /// Weight laws to simulate, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "gaussian,onebit")]
    pub weights: Vec<String>,
    /// Test inputs per trial for measuring the risk [default: 2000 fresh inputs; on a data set
    /// (data.source = fashion-mnist or file), its whole test split].
    #[arg(long)]
    pub n_test: Option<usize>,
    /// Run seed; trial k uses a seed derived from it (written in the CSV).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where the dense work runs.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// How the last layer is trained: straight to the mirror map's interpolator, or by
    /// real stochastic mirror descent (one sample per step; slow, to show it lands there).
    #[arg(long, value_enum, default_value_t = TrainerChoice::Direct)]
    pub trainer: TrainerChoice,
    /// How one-bit layers are multiplied: as packed bits (lookup-table kernels) or as f32
    /// matrices; auto packs them where the packed kernel is the faster (fan-in >= 1024 on a
    /// CPU with AVX2 or AVX-512). The risks agree to 1e-5.
    #[arg(long, value_enum, default_value_t = KernelArg::Auto)]
    pub kernel: KernelArg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KernelArg {
    Auto,
    Packed,
    Dense,
}

impl From<KernelArg> for validation::KernelChoice {
    fn from(k: KernelArg) -> Self {
        match k {
            KernelArg::Auto => validation::KernelChoice::Auto,
            KernelArg::Packed => validation::KernelChoice::Packed,
            KernelArg::Dense => validation::KernelChoice::Dense,
        }
    }
}

impl TrialArgs {
    /// The trials these arguments ask for, of `laws` on `spec`.
    pub fn run<'a>(&self, spec: &'a rfrisk::Spec, laws: Vec<rfrisk::spec::WeightLaw>, backend: &'a dyn validation::Backend) -> rfrisk::simulate::Run<'a> {
        rfrisk::simulate::Run { spec, laws, trials: self.trials, n_test: self.n_test_for(Some(spec)), seed: self.seed, trainer: self.trainer.into(), backend, kernel: self.kernel.into() }
    }

    /// `--n-test`, or its default for `spec`: 2000 fresh inputs, or a data set's whole test split.
    pub fn n_test_for(&self, spec: Option<&rfrisk::Spec>) -> usize {
        const FRESH: usize = 2000;
        let split = |s: &rfrisk::Spec| validation::data::dataset(s.source, s.data_path.as_deref(), &s.data_layout).map_or(FRESH, |d| d.test.nrows());
        self.n_test.unwrap_or_else(|| spec.filter(|s| s.source.is_real()).map_or(FRESH, split))
    }

    /// The weight laws and the backend, checked.
    pub fn checked(&self) -> Result<(Vec<rfrisk::spec::WeightLaw>, Box<dyn validation::Backend>), Failure> {
        let laws = self
            .weights
            .iter()
            .map(|w| w.parse().map_err(|e| Failure { code: 2, message: format!("--weights: {e}") }))
            .collect::<Result<Vec<_>, _>>()?;
        if self.trials == 0 || self.n_test == Some(0) {
            return Err(Failure { code: 2, message: "--trials and --n-test must be > 0".into() });
        }
        Ok((laws, choose_backend(self.backend)?))
    }
}

#[derive(clap::Args)]
pub struct PlotLook {
    /// What the y axis shows.
    #[arg(long, value_enum, default_value_t = MetricChoice::TestError)]
    pub metric: MetricChoice,
    /// Logarithmic x axis.
    #[arg(long)]
    pub log_x: bool,
    /// Logarithmic y axis.
    #[arg(long)]
    pub log_y: bool,
    /// Shade theory ± the per-trial standard deviation the simulations measured (where they
    /// exist): the spread of single finite-size runs.
    #[arg(long)]
    pub theory_band: bool,
}

#[derive(clap::Args)]
pub struct SpecArgs {
    /// Spec file (TOML, or JSON by extension or content).
    pub spec: PathBuf,
    /// Override a spec key, e.g. --set training.samples=800 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}


/// The gap test's settings (gap).
#[derive(clap::Args)]
pub struct GapArgs {
    /// Gap to detect: relative to the first law's excess risk (0.01 = 1%), or in accuracy
    /// points for classification (0.01 = one point).
    #[arg(long, default_value_t = 0.01)]
    pub detect: f64,
    /// Significance level of the test.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Power wanted for detecting --detect.
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Scan a key (typically features.width): the gap at each of --values and a
    /// fitted log-log slope of the mean |gap| with its confidence interval.
    #[arg(long, requires = "values")]
    pub scan: Option<String>,
    /// Values for --scan: a:b:step or v1,v2,...
    #[arg(long, requires = "scan")]
    pub values: Option<String>,
}
