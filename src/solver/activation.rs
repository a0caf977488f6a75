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
    /// identity and sign; 200-node Gauss–Hermite for tanh (equations/gep.md §5–6).
    fn gep(self, v_in: f64) -> Gep;
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
            // E[z relu z] = v/2; E relu(z)^2 = v/2. Its mean sqrt(v/(2 pi)) is not zero: the
            // coefficients exist, but the theory does not apply (predict refuses ReLU).
            Self::Relu => Gep::from_moments(v_in, v_in / 2.0, v_in / 2.0),
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
                let q = Gep::from_moments(
                    v,
                    gaussian_expectation_piecewise(|z| z * act.eval(z), v),
                    gaussian_expectation_piecewise(|z| act.eval(z).powi(2), v),
                );
                // rho2^2 = v_out - rho1^2 v_in is compared, not rho2: its square root
                // amplifies rounding where rho2 is small (erf at small v).
                for (a, b) in [(g.rho1, q.rho1), (g.rho2.powi(2), q.rho2.powi(2)), (g.v_out, q.v_out)] {
                    assert!((a - b).abs() < 1e-12 * a.abs().max(1.0), "{act} v={v}: {g:?} vs {q:?}");
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
        assert!("softplus".parse::<Activation>().unwrap_err().contains("unknown value `softplus`"));
    }
}
