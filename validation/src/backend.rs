//! Where the dense work of a trial runs. `Cpu` is the reference.

use crate::model::Activation;
use faer::Mat;
use rayon::prelude::*;

/// The hidden-feature map `phi_L(x)` for a batch of inputs (rows are samples).
pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// `phi_l = sigma(phi_{l-1} W_l^T)` through every layer.
    fn features(&self, inputs: &Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Mat<f32>;
}

/// faer's multithreaded f32 GEMM and a rayon elementwise pass.
pub struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn features(&self, inputs: &Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Mat<f32> {
        let mut h = inputs.clone();
        for w in weights {
            let mut z = &h * w.transpose();
            z.as_mut().par_col_iter_mut().for_each(|col| {
                for x in col.iter_mut() {
                    *x = activation.eval_f32(*x);
                }
            });
            h = z;
        }
        h
    }
}
