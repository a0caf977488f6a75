//! Gaussian-equivalence coefficients of each activation
//! ([equations/gep.md](../../equations/gep.md)).

use crate::solver::quadrature::gaussian_expectation;
pub use validation::model::Activation;
use std::f64::consts::PI;

/// Gaussian-equivalence coefficients of one layer (equations/model.md §3):
/// `sigma(z) ~ rho1 z + rho2 xi` for `z ~ N(0, v_in)`, `xi ~ N(0, 1)` independent.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Gep {
    /// Variance of the layer's pre-activations, `v_{l-1}`.
    pub v_in: f64,
    /// `E[z sigma(z)] / v_in` (= `E sigma'(z)` by Stein's lemma).
    pub rho1: f64,
    /// `sqrt(v_out - rho1^2 v_in)`: the part of the output that acts as fresh noise.
    pub rho2: f64,
    /// `E sigma(z)^2`, the variance of the layer's output, `v_l`.
    pub v_out: f64,
}

impl Gep {
    fn from_moments(v_in: f64, z_sigma: f64, sigma_sq: f64) -> Self {
        let rho1 = z_sigma / v_in;
        // Cauchy–Schwarz makes v_out >= rho1^2 v_in; clamp the rounding below zero.
        let rho2 = (sigma_sq - rho1 * rho1 * v_in).max(0.0).sqrt();
        Gep { v_in, rho1, rho2, v_out: sigma_sq }
    }
}

/// What the theory needs of an activation: its coefficients for a Gaussian input.
pub trait GaussianEquivalence {
    /// Coefficients for pre-activations `z ~ N(0, v_in)`: closed forms for erf,
    /// identity and sign; 200-node Gauss–Hermite for tanh (equations/gep.md §5–6). For a
    /// non-odd activation, those of the centred unit at offset 0 (`v_out` its variance).
    fn gep(self, v_in: f64) -> Gep;
}

/// The moments of one unit `sigma(b + z)`, `z ~ N(0, v)`, with a fixed offset `b`
/// (equations/nonodd.md §2): what the mean-corrected theory needs per unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitMoments {
    /// `E sigma(b + z)`.
    pub mean: f64,
    /// `E[z sigma(b + z)] / v` (= `E sigma'(b + z)`).
    pub rho1: f64,
    /// `Var sigma(b + z)`.
    pub variance: f64,
}

impl UnitMoments {
    /// `Var sigma - rho1^2 v >= 0` (Cauchy–Schwarz; rounding below zero clamped).
    pub fn rho2_squared(&self, v: f64) -> f64 {
        (self.variance - self.rho1 * self.rho1 * v).max(0.0)
    }
}

/// Standard normal density and distribution function.
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// [`UnitMoments`] of `activation` at offset `b` and pre-activation variance `v > 0`: closed
/// forms for the piecewise-linear activations and sign (their kinks defeat Gauss–Hermite),
/// 200-node Gauss–Hermite for the smooth ones.
pub fn unit_moments(activation: Activation, b: f64, v: f64) -> UnitMoments {
    let s = v.sqrt();
    let t = b / s;
    // ReLU: E relu = b Phi(t) + s phi(t), E relu^2 = (b^2 + v) Phi(t) + b s phi(t), E relu' = Phi(t).
    let relu = || {
        let (cdf, pdf) = (normal_cdf(t), normal_pdf(t));
        (b * cdf + s * pdf, (b * b + v) * cdf + b * s * pdf, cdf)
    };
    let from = |mean: f64, second: f64, rho1: f64| UnitMoments { mean, rho1, variance: (second - mean * mean).max(0.0) };
    match activation {
        Activation::Identity => UnitMoments { mean: b, rho1: 1.0, variance: v },
        Activation::Relu => {
            let (mean, second, rho1) = relu();
            from(mean, second, rho1)
        }
        // max(x, a x) = a x + (1 - a) relu(x), and x relu(x) = relu(x)^2.
        Activation::LeakyRelu { slope: a } => {
            let (mean, second, rho1) = relu();
            from(a * b + (1.0 - a) * mean, a * a * (b * b + v) + (1.0 - a * a) * second, a + (1.0 - a) * rho1)
        }
        // E sign = 2 Phi(t) - 1; E sign' = 2 phi(t)/s (the density of b + z at 0, twice).
        Activation::Sign => from(2.0 * normal_cdf(t) - 1.0, 1.0, 2.0 * normal_pdf(t) / s),
        _ => {
            let f = |z: f64| activation.eval(b + z);
            let mean = gaussian_expectation(f, v);
            let second = gaussian_expectation(|z| f(z).powi(2), v);
            from(mean, second, gaussian_expectation(|z| z * f(z), v) / v)
        }
    }
}

impl GaussianEquivalence for Activation {
    fn gep(self, v_in: f64) -> Gep {
        match self {
            Self::Identity => Gep { v_in, rho1: 1.0, rho2: 0.0, v_out: v_in },
            // E[z erf z] = v (2/sqrt(pi)) / sqrt(1 + 2v);  E erf(z)^2 = (2/pi) asin(2v/(1+2v)).
            Self::Erf => Gep::from_moments(
                v_in,
                v_in * 2.0 / (PI * (1.0 + 2.0 * v_in)).sqrt(),
                2.0 / PI * (2.0 * v_in / (1.0 + 2.0 * v_in)).asin(),
            ),
            // E|z| = sqrt(2 v / pi);  sign(z)^2 = 1 almost surely.
            Self::Sign => Gep::from_moments(v_in, (2.0 * v_in / PI).sqrt(), 1.0),
            // Non-odd: the centred unit at offset 0, v_out its variance (equations/nonodd.md §2).
            Self::Relu | Self::LeakyRelu { .. } | Self::Gelu | Self::Softplus | Self::Sigmoid => {
                let m = unit_moments(self, 0.0, v_in);
                Gep { v_in, rho1: m.rho1, rho2: m.rho2_squared(v_in).sqrt(), v_out: m.variance }
            }
            Self::Tanh => Gep::from_moments(
                v_in,
                gaussian_expectation(|z| z * z.tanh(), v_in),
                gaussian_expectation(|z| z.tanh().powi(2), v_in),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solver::quadrature::gaussian_expectation_piecewise;

    /// Every closed form against the independent piecewise Gauss–Legendre rule.
    #[test]
    fn coefficients_match_piecewise_quadrature() {
        for &(_, act) in Activation::CHOICES {
            // v <= 1 is the range tanh layers see (v_0 = 1 and tanh contracts).
            for v in [0.05, 0.3, 0.6, 1.0] {
                let g = act.gep(v);
                // Centred: the variance, E sigma^2 - (E sigma)^2 (the mean is 0 for odd ones).
                let mean = gaussian_expectation_piecewise(|z| act.eval(z), v);
                let q = Gep::from_moments(
                    v,
                    gaussian_expectation_piecewise(|z| z * act.eval(z), v),
                    gaussian_expectation_piecewise(|z| act.eval(z).powi(2), v) - mean * mean,
                );
                // rho2^2 = v_out - rho1^2 v_in is compared, not rho2: its square root
                // amplifies rounding where rho2 is small (erf at small v).
                for (a, b) in [(g.rho1, q.rho1), (g.rho2.powi(2), q.rho2.powi(2)), (g.v_out, q.v_out)] {
                    assert!((a - b).abs() < 1e-12 * a.abs().max(1.0), "{act} v={v}: {g:?} vs {q:?}");
                }
            }
        }
    }

    /// Every unit's moments at an offset, against composite Gauss–Legendre in y = b + z with a
    /// break at the kink y = 0 (independent of the closed forms and of Gauss–Hermite).
    #[test]
    fn unit_moments_at_an_offset_match_a_rule_with_a_break_at_the_kink() {
        let (x, w) = crate::solver::quadrature::gauss_legendre(40);
        let integrate = |f: &dyn Fn(f64) -> f64, a: f64, b: f64| {
            let pieces = 64;
            let h = (b - a) / pieces as f64;
            (0..pieces).map(|k| a + k as f64 * h).map(|lo| x.iter().zip(&w).map(|(xi, wi)| wi * f(lo + 0.5 * h * (xi + 1.0))).sum::<f64>() * 0.5 * h).sum::<f64>()
        };
        for &(_, act) in Activation::CHOICES {
            for (b, v) in [(-1.0, 0.2), (0.3, 1.0), (1.5, 0.5), (0.0, 0.7)] {
                let s: f64 = (v as f64).sqrt();
                let density = |y: f64| (-0.5 * ((y - b) / s).powi(2)).exp() / (s * (2.0 * PI).sqrt());
                let e = |g: &dyn Fn(f64) -> f64| {
                    let (lo, hi) = (b - 12.0 * s, b + 12.0 * s);
                    let f = |y: f64| g(y) * density(y);
                    if lo < 0.0 && hi > 0.0 { integrate(&f, lo, 0.0) + integrate(&f, 0.0, hi) } else { integrate(&f, lo, hi) }
                };
                let mean = e(&|y| act.eval(y));
                let second = e(&|y| act.eval(y).powi(2));
                let rho1 = e(&|y| (y - b) * act.eval(y)) / v;
                let m = unit_moments(act, b, v);
                for (got, want) in [(m.mean, mean), (m.variance, second - mean * mean), (m.rho1, rho1)] {
                    assert!((got - want).abs() < 1e-11 * want.abs().max(1.0), "{act} b={b} v={v}: {m:?} vs mean {mean}, var {}, rho1 {rho1}", second - mean * mean);
                }
            }
        }
    }

    /// Reference values of equations/model.md §3 at v = 1 (verified there with mpmath).
    #[test]
    fn reference_values_at_unit_variance() {
        let t = Activation::Tanh.gep(1.0);
        assert!((t.rho1 - 0.6057055096).abs() < 1e-10);
        assert!((t.v_out - 0.3942944904).abs() < 1e-10);
        assert!((Activation::Erf.gep(1.0).rho1 - 0.6514700).abs() < 1e-7);
        let s = Activation::Sign.gep(1.0);
        assert!((s.rho1 - 0.7978845608).abs() < 1e-10);
        assert!((s.rho2 - 0.6028102750).abs() < 1e-10);
        let i = Activation::Identity.gep(0.7);
        assert_eq!((i.rho1, i.rho2, i.v_out), (1.0, 0.0, 0.7));
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for &(_, act) in Activation::CHOICES {
            assert_eq!(act.to_string().parse::<Activation>(), Ok(act));
        }
        assert!("swish".parse::<Activation>().unwrap_err().contains("unknown value `swish`"));
        assert_eq!("leaky-relu:0.2".parse::<Activation>(), Ok(Activation::LeakyRelu { slope: 0.2 }));
        assert_eq!(Activation::LeakyRelu { slope: 0.2 }.to_string(), "leaky-relu:0.2");
        assert!("leaky-relu:1.5".parse::<Activation>().unwrap_err().contains("slope must be a number in [0, 1)"));
    }
}
