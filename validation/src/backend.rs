//! Where the dense work of a trial runs. `Cpu` is the reference.

use crate::model::Activation;
use faer::Mat;
use rayon::prelude::*;

/// The hidden-feature map `phi_L(x)` for a batch of inputs (rows are samples).
pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// `phi_l = sigma(phi_{l-1} W_l^T)` through every layer; an error says why the device failed.
    fn features(&self, inputs: Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Result<Mat<f32>, String>;
}

/// faer's multithreaded f32 GEMM and a rayon elementwise pass.
pub struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn features(&self, inputs: Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Result<Mat<f32>, String> {
        let mut h = inputs;
        for w in weights {
            let mut z = &h * w.transpose();
            // Contiguous column slices, so that the activation vectorizes.
            z.as_mut().par_col_chunks_mut(64).for_each(|mut chunk| {
                for j in 0..chunk.ncols() {
                    let col = chunk.as_mut().col_mut(j).try_as_col_major_mut().expect("owned columns are contiguous");
                    for x in col.as_slice_mut() {
                        *x = activation.eval_f32(*x);
                    }
                }
            });
            h = z;
        }
        Ok(h)
    }
}
