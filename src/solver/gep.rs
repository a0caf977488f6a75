//! The per-layer Gaussian-equivalence coefficients of a deep model: a fold over
//! depth, `v_0 = 1 -> v_1 -> ... -> v_L` (equations/gep.md §7).

use crate::solver::activation::{Activation, GaussianEquivalence, Gep};

/// Coefficients of layers `1..=depth` for inputs `x ~ N(0, I)` (so `v_0 = 1`).
pub fn layer_coefficients(activation: Activation, depth: usize) -> Vec<Gep> {
    let mut v = 1.0;
    (0..depth)
        .map(|_| {
            let gep = activation.gep(v);
            v = gep.v_out;
            gep
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fold against an independent route: each layer's coefficients by the trapezoid rule
    /// on a fine grid (spectrally accurate for tanh's smooth, decaying integrands), with the
    /// variance carried from layer to layer here, not by the code under test.
    #[test]
    fn the_fold_matches_an_independent_quadrature_layer_by_layer() {
        let trapezoid = |f: &dyn Fn(f64) -> f64, v: f64| {
            let h = 0.005;
            (-8000..=8000).map(|k| k as f64 * h).map(|x| f(x * v.sqrt()) * (-0.5 * x * x).exp()).sum::<f64>() * h
                / (2.0 * std::f64::consts::PI).sqrt()
        };
        let geps = layer_coefficients(Activation::Tanh, 4);
        let mut v = 1.0;
        for g in &geps {
            let rho1 = trapezoid(&|z| z * z.tanh(), v) / v;
            let v_out = trapezoid(&|z| z.tanh().powi(2), v);
            assert!((g.v_in - v).abs() < 1e-13 && (g.rho1 - rho1).abs() < 1e-13 && (g.v_out - v_out).abs() < 1e-13, "{g:?} vs {rho1}, {v_out}");
            assert!((g.rho2.powi(2) - (v_out - rho1 * rho1 * v)).abs() < 1e-13, "{g:?}");
            v = v_out;
        }
    }
}
