//! How a forward pass is computed: the hidden-feature map `phi_L(x)` for a batch of
//! inputs, on the CPU (`cpu`, the reference) or an OpenCL device (`opencl`). The draws,
//! weight laws and trainer do not depend on which.

mod cpu;
pub mod opencl;

use crate::model::Activation;
use faer::Mat;

pub use cpu::Cpu;
pub use opencl::OpenCl;

/// The hidden-feature map `phi_L(x)` for a batch of inputs (rows are samples).
pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// `phi_l = sigma(phi_{l-1} W_l^T)` through every layer; an error says why the device failed.
    fn features(&self, inputs: Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Result<Mat<f32>, String>;
}
