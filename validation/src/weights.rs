//! Laws of the i.i.d. hidden weights, each with variance `1/d_{l-1}`, each a
//! function of one standard Gaussian draw `g` (so every law is paired with the
//! Gaussian one on the same draws; see `draws`).

use std::fmt;
use std::str::FromStr;

/// A weight law. Every one but `ScaledGaussian` is centred with variance `1/fan_in`,
/// which is what the theory needs; `ScaledGaussian` exists to check that a real
/// gap is detected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightLaw {
    /// `N(0, 1/d)`.
    Gaussian,
    /// `+-1/sqrt(d)` with probability 1/2 each: `sign(g)`.
    Onebit,
    /// `{-a, 0, +a}` with `P(0) = zero_prob`: 0 where `|g|` is below its
    /// `zero_prob`-quantile, `sign(g)` elsewhere.
    Ternary { zero_prob: f64 },
    /// `2^bits` equally likely symmetric levels (odd multiples of a step): the
    /// uniform quantizer of `Phi(g)`.
    Kbit { bits: u32 },
    /// `+-a` with probability `density`, 0 otherwise (`|g|` above its quantile).
    SparseSign { density: f64 },
    /// `N(0, scale^2/d)`: variance mismatched on purpose (`gaussian:SCALE`).
    ScaledGaussian { scale: f64 },
}

impl WeightLaw {
    /// The weight for the standard Gaussian draw `g`, in units of `1/sqrt(fan_in)`:
    /// unit variance for every law but `ScaledGaussian`.
    pub fn value(self, g: f64) -> f64 {
        match self {
            WeightLaw::Gaussian => g,
            WeightLaw::ScaledGaussian { scale } => scale * g,
            WeightLaw::Onebit => sign(g),
            WeightLaw::Ternary { zero_prob } => sparse(g, 1.0 - zero_prob),
            WeightLaw::SparseSign { density } => sparse(g, density),
            WeightLaw::Kbit { bits } => {
                let levels = (1u64 << bits) as f64;
                let u = 0.5 * libm::erfc(-g / std::f64::consts::SQRT_2);
                let i = (u * levels).floor().min(levels - 1.0);
                // Odd multiples -(m-1)..(m-1) have mean square (m^2 - 1)/3.
                (2.0 * i - (levels - 1.0)) / ((levels * levels - 1.0) / 3.0).sqrt()
            }
        }
    }

    /// True for the laws the theory covers: centred, variance exactly `1/fan_in`.
    pub fn has_unit_variance(self) -> bool {
        !matches!(self, WeightLaw::ScaledGaussian { scale } if scale != 1.0)
    }
}

fn sign(g: f64) -> f64 {
    if g >= 0.0 {
        1.0
    } else {
        -1.0
    }
}

/// `sign(g)/sqrt(density)` where `|g|` exceeds its `(1 - density)`-quantile, else 0.
fn sparse(g: f64, density: f64) -> f64 {
    if density >= 1.0 {
        return sign(g);
    }
    let threshold = half_normal_quantile(1.0 - density);
    if g.abs() < threshold {
        0.0
    } else {
        sign(g) / density.sqrt()
    }
}

/// `t` with `P(|g| < t) = q`.
fn half_normal_quantile(q: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0).expect("standard normal").inverse_cdf(0.5 + 0.5 * q)
}

impl fmt::Display for WeightLaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightLaw::Gaussian => f.write_str("gaussian"),
            WeightLaw::Onebit => f.write_str("onebit"),
            WeightLaw::Ternary { zero_prob } => write!(f, "ternary:{zero_prob}"),
            WeightLaw::Kbit { bits } => write!(f, "kbit:{bits}"),
            WeightLaw::SparseSign { density } => write!(f, "sparse-sign:{density}"),
            WeightLaw::ScaledGaussian { scale } => write!(f, "gaussian:{scale}"),
        }
    }
}

impl serde::Serialize for WeightLaw {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The accepted names, for error messages.
pub const NAMES: &str = "gaussian, onebit, ternary[:ZERO_PROB] (default 1/3), kbit[:BITS] (default 2), \
sparse-sign[:DENSITY] (default 0.1), gaussian:SCALE (variance mismatched on purpose)";

impl FromStr for WeightLaw {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, param) = match s.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (s, None),
        };
        let number = |what: &str, ok: &dyn Fn(f64) -> bool| -> Result<Option<f64>, String> {
            match param {
                None => Ok(None),
                Some(p) => match p.parse::<f64>() {
                    Ok(v) if ok(v) => Ok(Some(v)),
                    _ => Err(format!("`{s}`: {what}, got `{p}`")),
                },
            }
        };
        let law = match name {
            "gaussian" => match number("the scale must be finite and > 0", &|v| v.is_finite() && v > 0.0)? {
                None => WeightLaw::Gaussian,
                Some(scale) => WeightLaw::ScaledGaussian { scale },
            },
            "onebit" if param.is_none() => WeightLaw::Onebit,
            "ternary" => WeightLaw::Ternary {
                zero_prob: number("the zero probability must be in [0, 1)", &|v| (0.0..1.0).contains(&v))?.unwrap_or(1.0 / 3.0),
            },
            "sparse-sign" => WeightLaw::SparseSign {
                density: number("the density must be in (0, 1]", &|v| v > 0.0 && v <= 1.0)?.unwrap_or(0.1),
            },
            "kbit" => WeightLaw::Kbit {
                bits: number("the bit count must be an integer from 1 to 16", &|v| v.fract() == 0.0 && (1.0..=16.0).contains(&v))?
                    .map_or(2, |v| v as u32),
            },
            _ => return Err(format!("unknown weight law `{s}` (expected one of {NAMES})")),
        };
        Ok(law)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The law of `value(g)`, g standard normal, as (level, probability) pairs: the
    /// breakpoints in g are found by bisection (to 1e-13) and the probabilities come
    /// from the normal CDF, so the moments below are exact to ~1e-12.
    fn levels(law: WeightLaw) -> Vec<(f64, f64)> {
        use statrs::distribution::{ContinuousCDF, Normal};
        let cdf = |x: f64| Normal::new(0.0, 1.0).unwrap().cdf(x);
        let mut breaks = vec![f64::NEG_INFINITY];
        let grid: Vec<f64> = (0..=18_000).map(|i| -9.0 + i as f64 * 1e-3).collect();
        for pair in grid.windows(2) {
            let (mut lo, mut hi) = (pair[0], pair[1]);
            if law.value(lo) == law.value(hi) {
                continue;
            }
            while hi - lo > 1e-13 {
                let mid = 0.5 * (lo + hi);
                if law.value(mid) == law.value(lo) {
                    lo = mid
                } else {
                    hi = mid
                }
            }
            breaks.push(hi);
        }
        breaks.push(f64::INFINITY);
        let inside = |a: f64, b: f64| if a.is_infinite() { b - 1.0 } else if b.is_infinite() { a + 1.0 } else { 0.5 * (a + b) };
        breaks.windows(2).map(|w| (law.value(inside(w[0], w[1])), cdf(w[1]) - cdf(w[0]))).collect()
    }

    /// Exact mean 0 and variance 1 (in units of 1/d) for every discrete law, and the
    /// probabilities each law's documentation promises.
    #[test]
    fn every_law_is_centred_with_unit_variance() {
        let cases: [(&str, &[f64]); 8] = [
            ("onebit", &[0.5, 0.5]),
            ("ternary", &[1.0 / 3.0; 3]),
            ("ternary:0.6", &[0.2, 0.6, 0.2]),
            ("kbit:1", &[0.5; 2]),
            ("kbit:2", &[0.25; 4]),
            ("kbit:3", &[0.125; 8]),
            ("sparse-sign", &[0.05, 0.9, 0.05]),
            ("sparse-sign:0.5", &[0.25, 0.5, 0.25]),
        ];
        for (name, probabilities) in cases {
            let law: WeightLaw = name.parse().unwrap();
            let levels = levels(law);
            let found: Vec<f64> = levels.iter().map(|l| l.1).collect();
            assert_eq!(found.len(), probabilities.len(), "{name}: levels {levels:?}");
            for (p, want) in found.iter().zip(probabilities) {
                assert!((p - want).abs() < 1e-10, "{name}: level probabilities {found:?}, documented {probabilities:?}");
            }
            let mean: f64 = levels.iter().map(|(v, p)| v * p).sum();
            let variance: f64 = levels.iter().map(|(v, p)| v * v * p).sum::<f64>() - mean * mean;
            assert!(mean.abs() < 1e-10, "{name}: mean {mean:e}");
            assert!((variance - 1.0).abs() < 1e-9, "{name}: variance {variance}");
            assert!(law.has_unit_variance());
        }
        for g in [-3.0, -0.5, 0.0, 1e-9, 2.7] {
            assert_eq!(WeightLaw::Gaussian.value(g), g);
            assert_eq!("gaussian:1.5".parse::<WeightLaw>().unwrap().value(g), 1.5 * g);
        }
        assert_eq!("kbit:1".parse::<WeightLaw>().unwrap().value(0.3), 1.0, "one bit is kbit:1");
        assert!(!"gaussian:1.5".parse::<WeightLaw>().unwrap().has_unit_variance());
    }

    #[test]
    fn names_round_trip_and_bad_ones_are_refused() {
        for s in ["gaussian", "onebit", "ternary:0.5", "kbit:3", "sparse-sign:0.2", "gaussian:1.5"] {
            assert_eq!(s.parse::<WeightLaw>().unwrap().to_string(), s);
        }
        for bad in ["ternary:1", "kbit:0", "kbit:2.5", "sparse-sign:0", "gaussian:-1", "onebit:2", "binary"] {
            assert!(bad.parse::<WeightLaw>().is_err(), "{bad}");
        }
    }
}
