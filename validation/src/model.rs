//! The model's vocabulary and the validated spec: what the theory predicts for
//! and what the simulator builds. Parsing and validation live in `rfrisk::spec`.

use std::fmt;
use std::str::FromStr;

/// The activations the theory covers: odd functions, so features are centred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Tanh,
    Erf,
    Identity,
    Sign,
}

impl Activation {
    /// Single precision, for the simulator's feature maps.
    pub fn eval_f32(self, z: f32) -> f32 {
        match self {
            Self::Tanh => z.tanh(),
            Self::Erf => libm::erff(z),
            Self::Identity => z,
            Self::Sign => {
                if z > 0.0 {
                    1.0
                } else if z < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }

    pub fn eval(self, z: f64) -> f64 {
        match self {
            Self::Tanh => z.tanh(),
            // libm (a port of musl) is accurate to an ulp; statrs 0.18's erf is off by 1e-10.
            Self::Erf => libm::erf(z),
            Self::Identity => z,
            Self::Sign => {
                if z > 0.0 {
                    1.0
                } else if z < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// Gives an enum its spec names: `CHOICES` for parsing, `name()` for printing.
macro_rules! named_choices {
    ($ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const CHOICES: &'static [(&'static str, $ty)] = &[$(($name, $ty::$variant)),+];
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            /// The error says which names exist: `unknown value `x` (expected one of ...)`.
            fn from_str(s: &str) -> Result<Self, String> {
                Self::CHOICES.iter().find(|(name, _)| *name == s).map(|(_, v)| *v).ok_or_else(|| {
                    let names: Vec<&str> = Self::CHOICES.iter().map(|(n, _)| *n).collect();
                    format!("unknown value `{s}` (expected one of {})", names.join(", "))
                })
            }
        }
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

named_choices!(Activation { Tanh = "tanh", Erf = "erf", Identity = "identity", Sign = "sign" });
named_choices!(WeightLaw { Gaussian = "gaussian", Onebit = "onebit" });
named_choices!(Prior { Gaussian = "gaussian", HalfNormal = "half-normal" });
named_choices!(Mirror { Squared = "squared", Entropic = "entropic" });

/// Law of the i.i.d. hidden weights (all with variance `1/d_{l-1}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightLaw {
    Gaussian,
    Onebit,
}

/// Prior of the teacher's entries `a*_i`, scaled so that `E a*_i^2 = norm2 / d_L`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prior {
    Gaussian,
    HalfNormal,
}

/// The mirror map (potential) of stochastic mirror descent on the last layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirror {
    Squared,
    Entropic,
}

/// A validated model: sizes positive, `samples < d_L`, every choice known
/// (built by `rfrisk::spec`, which checks every field once).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Spec {
    /// Input dimension `d_0`; inputs `x ~ N(0, I)`.
    pub dim: usize,
    /// Hidden widths `d_1..d_L`.
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub weights: WeightLaw,
    pub prior: Prior,
    /// `E ||a*||^2`.
    pub norm2: f64,
    pub noise_std: f64,
    /// Number of training samples `n`.
    pub samples: usize,
    pub mirror: Mirror,
    /// Every entry of the initial last layer `a_0`.
    pub init: f64,
}

impl Spec {
    pub fn depth(&self) -> usize {
        self.widths.len()
    }

    /// `d_L`, the width of the trained layer.
    pub fn last_width(&self) -> usize {
        *self.widths.last().expect("validated: widths is non-empty")
    }

    /// `E a*_i` under the prior.
    pub fn prior_mean_entry(&self) -> f64 {
        match self.prior {
            Prior::Gaussian => 0.0,
            Prior::HalfNormal => (2.0 * self.norm2 / (std::f64::consts::PI * self.last_width() as f64)).sqrt(),
        }
    }

    /// `E ||a* - a_0||^2 = norm2 - 2 c mu d_L + c^2 d_L` with `a_0 = c 1`: the only
    /// property of teacher and start that the squared map's risk depends on
    /// (equations/squared.md §2).
    pub fn effective_norm2(&self) -> f64 {
        let p = self.last_width() as f64;
        self.norm2 - 2.0 * self.init * self.prior_mean_entry() * p + self.init * self.init * p
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
            self.weights.name(),
            self.prior.name(),
            self.norm2,
            self.noise_std,
            self.mirror.name(),
        )
    }
}
