//! The reference backend: the feature map on the CPU.

use super::Backend;
use crate::model::Activation;
use faer::Mat;
use rayon::prelude::*;

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
