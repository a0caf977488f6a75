//! The reference backend: the feature map on the CPU.

use super::{Backend, Layer};
use crate::model::Activation;
use faer::Mat;

/// faer's multithreaded f32 GEMM and a rayon elementwise pass for dense layers; the
/// lookup-table kernels of `crate::packed` for packed one-bit layers.
pub struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn features(&self, inputs: Mat<f32>, layers: &[Layer], activation: Activation) -> Result<Mat<f32>, String> {
        let mut h = inputs;
        for layer in layers {
            h = match layer {
                Layer::Dense(w) => dense_layer(h, w, activation),
                Layer::Packed(p) => p.forward(h.as_ref(), activation),
            };
        }
        Ok(h)
    }
}

fn dense_layer(h: Mat<f32>, w: &Mat<f32>, activation: Activation) -> Mat<f32> {
    // A few samples: `(W H^T)^T`, matrix-vector products down W's contiguous columns (faer's
    // `H W^T` with one row ran 5-10x slower at d >= 1024). A simulation's thousands of rows
    // keep the GEMM, so its trials are unchanged bit for bit.
    let mut z = if h.nrows() <= 16 { (w * h.transpose()).transpose().to_owned() } else { &h * w.transpose() };
    activation.eval_in_place(z.as_mut());
    z
}
