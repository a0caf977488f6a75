//! The model's vocabulary and the validated spec: what the theory predicts for
//! and what the simulator builds. Parsing and validation live in `rfrisk::spec`.

use std::fmt;
use std::str::FromStr;

/// Elementwise activations. The odd ones give centred features; the others (ReLU and
/// its kin, sigmoid) have a mean, which the mean-corrected theory carries
/// (equations/nonodd.md).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Tanh,
    Erf,
    Identity,
    Sign,
    Relu,
    /// `max(z, slope z)`, `0 <= slope < 1`.
    LeakyRelu { slope: f64 },
    /// `z Phi(z)`, the exact (erf) form.
    Gelu,
    /// `log(1 + e^z)`.
    Softplus,
    /// `1/(1 + e^-z)`.
    Sigmoid,
}

/// The default slope of `leaky-relu`.
pub const LEAKY_SLOPE: f64 = 0.01;

impl Activation {
    /// Every activation, with `leaky-relu` at its default slope.
    pub const CHOICES: &'static [(&'static str, Activation)] = &[
        ("tanh", Activation::Tanh),
        ("erf", Activation::Erf),
        ("identity", Activation::Identity),
        ("sign", Activation::Sign),
        ("relu", Activation::Relu),
        ("leaky-relu", Activation::LeakyRelu { slope: LEAKY_SLOPE }),
        ("gelu", Activation::Gelu),
        ("softplus", Activation::Softplus),
        ("sigmoid", Activation::Sigmoid),
    ];

    /// Odd activations give centred features (`E sigma(z) = 0`).
    pub fn is_odd(self) -> bool {
        matches!(self, Self::Tanh | Self::Erf | Self::Identity | Self::Sign)
    }

    /// Single precision, for the simulator's feature maps.
    pub fn eval_f32(self, z: f32) -> f32 {
        match self {
            Self::Tanh => fast_tanh(z),
            Self::Erf => libm::erff(z),
            Self::Identity => z,
            Self::Relu => z.max(0.0),
            Self::LeakyRelu { slope } => if z >= 0.0 { z } else { slope as f32 * z },
            Self::Gelu => 0.5 * z * (1.0 + libm::erff(z * std::f32::consts::FRAC_1_SQRT_2)),
            Self::Softplus => z.max(0.0) + libm::log1pf((-z.abs()).exp()),
            Self::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            // sign(0) = 0, which keeps the activation odd (signum(0) would be 1).
            Self::Sign => {
                if z == 0.0 {
                    0.0
                } else {
                    z.signum()
                }
            }
        }
    }

    /// [`Activation::eval_f32`] on every entry of `z`, in parallel over whole columns. A
    /// small matrix (batch 1) runs on this thread: handing it to the pool costs microseconds.
    pub fn eval_in_place(self, mut z: faer::MatMut<'_, f32>) {
        use rayon::prelude::*;
        const CHUNK: usize = 1 << 16;
        let columns = |mut chunk: faer::MatMut<'_, f32>| {
            for j in 0..chunk.ncols() {
                let col = chunk.as_mut().col_mut(j).try_as_col_major_mut().expect("owned columns are contiguous");
                self.eval_slice(col.as_slice_mut());
            }
        };
        if z.nrows() * z.ncols() <= CHUNK {
            columns(z.as_mut());
        } else {
            let width = (CHUNK / z.nrows().max(1)).max(1);
            z.par_col_chunks_mut(width).for_each(columns);
        }
    }

    /// [`Activation::eval_f32`] on every entry of `xs`. The build targets baseline x86-64
    /// (SSE2), so the loop is compiled again with AVX-512 and with AVX2 and the CPU's widest
    /// runs: the same IEEE operations in the same order (Rust fuses no multiply-add unasked),
    /// so every entry is the scalar result bit for bit, 16 or 8 at a time.
    fn eval_slice(self, xs: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F.
                return unsafe { self.eval_slice_avx512(xs) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                return unsafe { self.eval_slice_avx2(xs) };
            }
        }
        self.eval_slice_baseline(xs)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn eval_slice_avx512(self, xs: &mut [f32]) {
        self.eval_slice_baseline(xs)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn eval_slice_avx2(self, xs: &mut [f32]) {
        self.eval_slice_baseline(xs)
    }

    /// tanh, the common case, has a loop of its own, so that nothing branches on `self` in it.
    #[inline(always)]
    fn eval_slice_baseline(self, xs: &mut [f32]) {
        match self {
            Self::Tanh => xs.iter_mut().for_each(|x| *x = fast_tanh(*x)),
            other => xs.iter_mut().for_each(|x| *x = other.eval_f32(*x)),
        }
    }

    pub fn eval(self, z: f64) -> f64 {
        match self {
            Self::Tanh => z.tanh(),
            // libm (a port of musl) is accurate to an ulp; statrs 0.18's erf is off by 1e-10.
            Self::Erf => libm::erf(z),
            Self::Identity => z,
            Self::Relu => z.max(0.0),
            Self::LeakyRelu { slope } => if z >= 0.0 { z } else { slope * z },
            Self::Gelu => 0.5 * z * (1.0 + libm::erf(z * std::f64::consts::FRAC_1_SQRT_2)),
            Self::Softplus => z.max(0.0) + (-z.abs()).exp().ln_1p(),
            Self::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            // sign(0) = 0, which keeps the activation odd (signum(0) would be 1).
            Self::Sign => {
                if z == 0.0 {
                    0.0
                } else {
                    z.signum()
                }
            }
        }
    }

    pub fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|(_, a)| std::mem::discriminant(a) == std::mem::discriminant(&self)).expect("every activation is listed").0
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu { slope } if *slope != LEAKY_SLOPE => write!(f, "leaky-relu:{slope}"),
            _ => f.write_str(self.name()),
        }
    }
}

impl FromStr for Activation {
    type Err = String;
    /// A name of [`Activation::CHOICES`], or `leaky-relu:SLOPE` with `0 <= SLOPE < 1`.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(slope) = s.strip_prefix("leaky-relu:") {
            return match slope.parse::<f64>() {
                Ok(slope) if (0.0..1.0).contains(&slope) => Ok(Activation::LeakyRelu { slope }),
                _ => Err(format!("`{s}`: the leaky-relu slope must be a number in [0, 1)")),
            };
        }
        Self::CHOICES.iter().find(|(name, _)| *name == s).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = Self::CHOICES.iter().map(|(n, _)| *n).collect();
            format!("unknown value `{s}` (expected one of {}, or leaky-relu:SLOPE)", names.join(", "))
        })
    }
}

impl serde::Serialize for Activation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `tanh` in f32 by Eigen's rational approximation (`generic_fast_tanh_float`):
/// measured max relative error 4.3e-7 (about 4 ulp), and ten times faster than
/// `f32::tanh` because it vectorizes. The OpenCL kernel uses the same formula.
#[inline]
#[allow(clippy::excessive_precision)] // Eigen's published coefficients, kept verbatim
pub fn fast_tanh(x: f32) -> f32 {
    let x = x.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let p = ((((((-2.760_768_5e-16f32 * x2 + 2.000_187_9e-13) * x2 - 8.604_671_5e-11) * x2 + 5.122_297e-8) * x2
        + 1.485_722_4e-5)
        * x2
        + 6.372_619_3e-4)
        * x2
        + 4.893_524_6e-3)
        * x;
    let q = ((1.198_258_4e-6f32 * x2 + 1.185_347e-4) * x2 + 2.268_434_6e-3) * x2 + 4.893_525e-3;
    p / q
}

pub use crate::weights::WeightLaw;

/// Prior of the teacher's entries `a*_i`, scaled so that `E a*_i^2 = norm2 / d_L`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prior {
    Gaussian,
    HalfNormal,
    /// `Bernoulli(eps) x Gaussian`: a fraction `eps` in (0, 1] of the entries is non-zero, each
    /// `N(0, norm2 / (eps d_L))`.
    Sparse { eps: f64 },
}

impl fmt::Display for Prior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prior::Gaussian => f.write_str("gaussian"),
            Prior::HalfNormal => f.write_str("half-normal"),
            Prior::Sparse { eps } => write!(f, "sparse:{eps}"),
        }
    }
}

impl FromStr for Prior {
    type Err = String;
    /// `gaussian`, `half-normal`, `sparse:EPS` (0 < EPS <= 1).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split(':').collect::<Vec<_>>().as_slice() {
            ["gaussian"] => Ok(Prior::Gaussian),
            ["half-normal"] => Ok(Prior::HalfNormal),
            ["sparse", eps] => match eps.parse::<f64>() {
                Ok(eps) if eps > 0.0 && eps <= 1.0 => Ok(Prior::Sparse { eps }),
                _ => Err(format!("`{s}`: EPS is the fraction of non-zero entries and must lie in (0, 1], got `{eps}`")),
            },
            _ => Err(format!("unknown value `{s}` (expected one of gaussian, half-normal, sparse:EPS)")),
        }
    }
}

impl serde::Serialize for Prior {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The mirror map (potential) of stochastic mirror descent on the last layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mirror {
    Squared,
    Entropic,
    /// `phi(x) = |x|^q / q`, `1 < q < infinity` (equations/pnorm.md); `pnorm:2` is read as `Squared`.
    PNorm { q: f64 },
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mirror::Squared => f.write_str("squared"),
            Mirror::Entropic => f.write_str("entropic"),
            Mirror::PNorm { q } => write!(f, "pnorm:{q}"),
        }
    }
}

impl FromStr for Mirror {
    type Err = String;
    /// `squared`, `entropic`, `pnorm:Q` (1 < Q < infinity; `pnorm:2` is the squared map itself).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split(':').collect::<Vec<_>>().as_slice() {
            ["squared"] => Ok(Mirror::Squared),
            ["entropic"] => Ok(Mirror::Entropic),
            ["pnorm", q] => match q.parse::<f64>() {
                Ok(q) if q == 2.0 => Ok(Mirror::Squared),
                Ok(q) if q > 1.0 && q.is_finite() => Ok(Mirror::PNorm { q }),
                _ => Err(format!("`{s}`: Q must be a finite number > 1 (Q = 1 is not strictly convex), got `{q}`")),
            },
            _ => Err(format!("unknown value `{s}` (expected one of squared, entropic, pnorm:Q)")),
        }
    }
}

impl serde::Serialize for Mirror {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The eigenvalues of the input covariance `Sigma_0` (diagonal), normalised to mean 1
/// (`data.spectrum`; equations/model.md §1). The mean is fixed so that the GEP
/// coefficients, which see only `tr Sigma_0 / d_0`, do not change with the shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spectrum {
    /// `Sigma_0 = I`.
    Identity,
    /// `lambda_i` proportional to `i^(-alpha)`, `i = 1..d_0`.
    Power { alpha: f64 },
    /// `round(fraction d_0)` eigenvalues `ratio` times larger than the others.
    Bimodal { ratio: f64, fraction: f64 },
}

impl Spectrum {
    pub fn is_identity(&self) -> bool {
        *self == Spectrum::Identity
    }

    /// The distinct eigenvalues among `d_0` (mean 1), each with the fraction of the spectrum
    /// it holds, without listing `d_0` numbers when a few distinct ones say the same.
    pub fn levels(&self, dim: usize) -> Vec<(f64, f64)> {
        match *self {
            Spectrum::Identity => vec![(1.0, 1.0)],
            Spectrum::Bimodal { ratio, fraction } => {
                let large = (fraction * dim as f64).round() / dim as f64;
                let mean = large * ratio + (1.0 - large);
                [(ratio / mean, large), (1.0 / mean, 1.0 - large)].into_iter().filter(|(_, w)| *w > 0.0).collect()
            }
            Spectrum::Power { .. } => {
                let share = 1.0 / dim as f64;
                self.eigenvalues(dim).into_iter().map(|l| (l, share)).collect()
            }
        }
    }

    /// The `d_0` eigenvalues, largest first, with mean 1.
    pub fn eigenvalues(&self, dim: usize) -> Vec<f64> {
        let raw: Vec<f64> = match *self {
            Spectrum::Identity => return vec![1.0; dim],
            Spectrum::Power { alpha } => (1..=dim).map(|i| (i as f64).powf(-alpha)).collect(),
            Spectrum::Bimodal { ratio, fraction } => {
                let large = (fraction * dim as f64).round() as usize;
                (0..dim).map(|i| if i < large { ratio } else { 1.0 }).collect()
            }
        };
        let mean = raw.iter().sum::<f64>() / dim as f64;
        raw.iter().map(|l| l / mean).collect()
    }
}

impl fmt::Display for Spectrum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spectrum::Identity => f.write_str("identity"),
            Spectrum::Power { alpha } => write!(f, "power:{alpha}"),
            Spectrum::Bimodal { ratio, fraction } => write!(f, "bimodal:{ratio}:{fraction}"),
        }
    }
}

impl FromStr for Spectrum {
    type Err = String;
    /// `identity`, `power:ALPHA` (ALPHA >= 0), `bimodal:RATIO:FRACTION` (RATIO > 0, FRACTION in (0, 1)).
    fn from_str(s: &str) -> Result<Self, String> {
        let number = |part: &str, what: &str| part.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("`{s}`: {what} `{part}` is not a finite number"));
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["identity"] => Ok(Spectrum::Identity),
            ["power", alpha] => {
                let alpha = number(alpha, "ALPHA")?;
                if alpha < 0.0 {
                    return Err(format!("`{s}`: ALPHA must be >= 0 (eigenvalues i^-ALPHA)"));
                }
                Ok(Spectrum::Power { alpha })
            }
            ["bimodal", ratio, fraction] => {
                let (ratio, fraction) = (number(ratio, "RATIO")?, number(fraction, "FRACTION")?);
                if !(ratio > 0.0) || !(fraction > 0.0 && fraction < 1.0) {
                    return Err(format!("`{s}`: RATIO must be > 0 and FRACTION in (0, 1)"));
                }
                Ok(Spectrum::Bimodal { ratio, fraction })
            }
            _ => Err(format!("unknown value `{s}` (expected identity, power:ALPHA or bimodal:RATIO:FRACTION)")),
        }
    }
}

impl serde::Serialize for Spectrum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How the inputs are drawn (`data.source`), each with mean 0 and covariance `Sigma_0`
/// (`x = Sigma_0^{1/2} z`, `z` of unit-variance coordinates).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InputSource {
    /// `z ~ N(0, I)`: what the theory assumes.
    Gaussian,
    /// i.i.d. Student-t coordinates with `NU > 2` degrees of freedom, scaled to unit variance.
    StudentT { nu: f64 },
    /// A multivariate t: `z = g sqrt((NU - 2) / chi2_NU)` with one `chi2_NU` per input, so that the
    /// norm of `x` fluctuates by O(1) from input to input.
    EllipticalT { nu: f64 },
    /// i.i.d. `+-1` coordinates.
    Rademacher,
    /// Fashion-MNIST images (`crate::data`), with their labels: classification only.
    FashionMnist,
    /// A user's labelled `.npy` or `.csv` (`data.path`, laid out as `Spec::data_layout` says).
    File,
}

impl InputSource {
    pub fn is_gaussian(&self) -> bool {
        *self == InputSource::Gaussian
    }

    /// A labelled data set rather than a law of inputs.
    pub fn is_real(&self) -> bool {
        matches!(self, InputSource::FashionMnist | InputSource::File)
    }
}

impl fmt::Display for InputSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputSource::Gaussian => f.write_str("gaussian"),
            InputSource::StudentT { nu } => write!(f, "student-t:{nu}"),
            InputSource::EllipticalT { nu } => write!(f, "elliptical-t:{nu}"),
            InputSource::Rademacher => f.write_str("rademacher"),
            InputSource::FashionMnist => f.write_str("fashion-mnist"),
            InputSource::File => f.write_str("file"),
        }
    }
}

impl FromStr for InputSource {
    type Err = String;
    /// `gaussian`, `student-t:NU`, `elliptical-t:NU` (NU > 2: a finite variance), `rademacher`.
    fn from_str(s: &str) -> Result<Self, String> {
        let nu = |part: &str| -> Result<f64, String> {
            match part.parse::<f64>() {
                Ok(nu) if nu.is_finite() && nu > 2.0 => Ok(nu),
                Ok(nu) if nu.is_finite() => Err(format!("`{s}`: NU must be > 2 (a t law has a finite variance only then), not {nu}")),
                _ => Err(format!("`{s}`: NU `{part}` is not a finite number (for NU -> infinity use gaussian)")),
            }
        };
        match s.split(':').collect::<Vec<_>>().as_slice() {
            ["gaussian"] => Ok(InputSource::Gaussian),
            ["rademacher"] => Ok(InputSource::Rademacher),
            ["fashion-mnist"] => Ok(InputSource::FashionMnist),
            ["file"] => Ok(InputSource::File),
            ["student-t", v] => Ok(InputSource::StudentT { nu: nu(v)? }),
            ["elliptical-t", v] => Ok(InputSource::EllipticalT { nu: nu(v)? }),
            _ => Err(format!("unknown value `{s}` (expected gaussian, student-t:NU, elliptical-t:NU, rademacher, fashion-mnist or file)")),
        }
    }
}

impl serde::Serialize for InputSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What the last layer is trained for (`training.task`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Labels `y = f*(x) + noise` from the teacher.
    Regression,
    /// A data set's class labels (on a law of inputs, the two classes `f*(x) + noise > 0` and
    /// `<= 0`): one-hot targets, one output per class, prediction by argmax.
    Classification,
}

impl Task {
    pub fn is_regression(&self) -> bool {
        *self == Task::Regression
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Regression => "regression",
            Task::Classification => "classification",
        })
    }
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "regression" => Ok(Task::Regression),
            "classification" => Ok(Task::Classification),
            _ => Err(format!("unknown value `{s}` (expected regression or classification)")),
        }
    }
}

impl serde::Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A validated model: sizes positive, every choice known, `samples` allowed for its
/// mirror map and ridge (built by `rfrisk::spec`, which checks every field once).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Spec {
    /// Input dimension `d_0`; inputs `x ~ N(0, Sigma_0)`.
    pub dim: usize,
    /// The eigenvalues of `Sigma_0` (diagonal). Left out of the serialized run identity when
    /// the identity, so that runs written before it resume.
    #[serde(skip_serializing_if = "Spectrum::is_identity")]
    pub spectrum: Spectrum,
    /// How the inputs are drawn; left out of the serialized run identity when Gaussian.
    #[serde(skip_serializing_if = "InputSource::is_gaussian")]
    pub source: InputSource,
    /// Where a real data set's files are (`data.path`: Fashion-MNIST's directory, `None` for the
    /// package's; a file source's data file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_path: Option<std::path::PathBuf>,
    /// How a file source is laid out (labels, test split); left out when the default.
    #[serde(skip_serializing_if = "crate::data::DataLayout::is_default")]
    pub data_layout: crate::data::DataLayout,
    /// Regression on a teacher, or classification of a data set's labels (`training.task`).
    #[serde(skip_serializing_if = "Task::is_regression")]
    pub task: Task,
    /// Hidden widths `d_1..d_L`.
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub weights: WeightLaw,
    pub prior: Prior,
    /// The teacher's layer `k` (0: the input, `y = x^T a*`); `None` is the last layer `L`,
    /// and is left out of the serialized run identity, so that runs written before it resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_depth: Option<usize>,
    /// `E ||a*||^2`.
    pub norm2: f64,
    pub noise_std: f64,
    /// Number of training samples `n`.
    pub samples: usize,
    pub mirror: Mirror,
    /// Every entry of the initial last layer `a_0`.
    pub init: f64,
    /// The ridge `lambda` of `(1/n)|y - Phi a|^2 + lambda |a - a_0|^2` (squared map; 0: none).
    /// Left out of the serialized run identity when 0, so that runs written before it resume.
    #[serde(skip_serializing_if = "is_zero")]
    pub ridge: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Spec {
    pub fn depth(&self) -> usize {
        self.widths.len()
    }

    /// `d_L`, the width of the trained layer.
    pub fn last_width(&self) -> usize {
        *self.widths.last().expect("validated: widths is non-empty")
    }

    /// The teacher's layer `k`, `0 <= k <= L`.
    pub fn teacher_depth(&self) -> usize {
        self.teacher_depth.unwrap_or(self.depth())
    }

    /// The width of the teacher's layer, `d_k` (`d_0` = `dim`).
    pub fn teacher_width(&self) -> usize {
        match self.teacher_depth() {
            0 => self.dim,
            k => self.widths[k - 1],
        }
    }

    /// `E a*_i` under the prior.
    pub fn prior_mean_entry(&self) -> f64 {
        match self.prior {
            Prior::Gaussian | Prior::Sparse { .. } => 0.0,
            Prior::HalfNormal => (2.0 * self.norm2 / (std::f64::consts::PI * self.teacher_width() as f64)).sqrt(),
        }
    }

    /// `E ||a* - a_0||^2 = norm2 - 2 c mu d_L + c^2 d_L` with `a_0 = c 1`: the only
    /// property of a last-layer teacher and start that the squared map's risk depends on
    /// (equations/squared.md §2). For a teacher below the last layer the two do not share
    /// coordinates; see [`Spec::start_norm2`].
    pub fn effective_norm2(&self) -> f64 {
        let p = self.last_width() as f64;
        self.norm2 - 2.0 * self.init * self.prior_mean_entry() * p + self.init * self.init * p
    }

    /// `||a_0||^2 = c^2 d_L`.
    pub fn start_norm2(&self) -> f64 {
        self.init * self.init * self.last_width() as f64
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} L={} d0={} widths={:?} n={} {} weights, {} teacher (norm2={}, noise_std={}), {} mirror",
            self.activation,
            self.depth(),
            self.dim,
            self.widths,
            self.samples,
            self.weights,
            self.prior,
            self.norm2,
            self.noise_std,
            self.mirror,
        )?;
        if self.ridge > 0.0 {
            write!(f, ", ridge {}", self.ridge)?;
        }
        if let Some(k) = self.teacher_depth {
            write!(f, ", teacher at layer {k}")?;
        }
        if !self.source.is_gaussian() {
            write!(f, ", {} inputs", self.source)?;
        }
        if !self.spectrum.is_identity() {
            write!(f, ", input spectrum {}", self.spectrum)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_is_accurate_to_a_few_ulp() {
        let mut worst = 0.0f64;
        for k in -120_000..=120_000 {
            let x = k as f32 * 1e-4;
            let exact = (x as f64).tanh();
            let err = (fast_tanh(x) as f64 - exact).abs() / exact.abs().max(1e-30);
            if k != 0 {
                worst = worst.max(err);
            }
        }
        // Measured 4.30e-7 on this grid, the figure the README and the doc comment give.
        assert!(worst < 4.5e-7, "max relative error {worst:e}");
        crate::record::record("fast-tanh", &format!("tanh {worst:.2e}"));
        assert_eq!(fast_tanh(0.0), 0.0);
        assert_eq!(fast_tanh(40.0), fast_tanh(7.905_311));
        assert!((fast_tanh(40.0) - 1.0).abs() < 1e-6);
    }

    /// The vectorized loops of `eval_in_place` give `eval_f32` bit for bit, for every
    /// activation, across +-10 (past tanh's clamp), on a small matrix (this thread) and a
    /// large one (the pool), with columns of a length that is not a multiple of 16.
    #[test]
    fn in_place_evaluation_is_the_scalar_one_bit_for_bit() {
        for (&(_, act), cols) in Activation::CHOICES.iter().zip([53, 1801].into_iter().cycle()) {
            let z = faer::Mat::<f32>::from_fn(37, cols, |i, j| (((i * 53 + j) % 1961) as f32 * 0.01 - 9.8) * if (i + j) % 3 == 0 { 1.0 } else { 0.37 });
            let mut got = z.clone();
            act.eval_in_place(got.as_mut());
            for j in 0..z.ncols() {
                for i in 0..z.nrows() {
                    assert_eq!(got[(i, j)].to_bits(), act.eval_f32(z[(i, j)]).to_bits(), "{act} at {}", z[(i, j)]);
                }
            }
        }
    }

    #[test]
    fn single_and_double_precision_agree() {
        for &(_, act) in Activation::CHOICES {
            for k in -300..=300 {
                let z = k as f64 * 0.01;
                assert!((act.eval_f32(z as f32) as f64 - act.eval(z)).abs() < 1e-6, "{act} at {z}");
            }
        }
    }
}
