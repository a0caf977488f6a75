//! The per-layer Gaussian-equivalence coefficients of a deep model: a fold over
//! depth, `v_0 = 1 -> v_1 -> ... -> v_L` (equations/gep.md §7).

use crate::activation::{Activation, GaussianEquivalence, Gep};

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

    #[test]
    fn each_layer_starts_from_the_previous_output_variance() {
        let geps = layer_coefficients(Activation::Tanh, 4);
        assert_eq!(geps[0].v_in, 1.0);
        for pair in geps.windows(2) {
            assert_eq!(pair[1].v_in, pair[0].v_out);
        }
        // Variance is split exactly into the linear and the noise part.
        for g in &geps {
            assert!((g.rho1.powi(2) * g.v_in + g.rho2.powi(2) - g.v_out).abs() < 1e-15);
        }
    }
}
