//! How a forward pass is computed: the hidden-feature map `phi_L(x)` for a batch of
//! inputs, on the CPU (`cpu`, the reference) or an OpenCL device (`opencl`). The draws,
//! weight laws and trainer do not depend on which.

mod cpu;
pub mod opencl;

use crate::model::Activation;
use faer::Mat;

pub use cpu::Cpu;
pub use opencl::OpenCl;

/// `--backend auto` on a machine with an OpenCL GPU: the GPU for the activations its kernel
/// has, the CPU for the others (the non-odd ones but ReLU).
pub struct GpuOrCpu(pub OpenCl);

impl Backend for GpuOrCpu {
    fn name(&self) -> &'static str {
        "auto (opencl gpu, cpu for activations the kernel lacks)"
    }

    fn features(&self, inputs: Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Result<Mat<f32>, String> {
        if OpenCl::has_kernel_for(activation) {
            self.0.features(inputs, weights, activation)
        } else {
            Cpu.features(inputs, weights, activation)
        }
    }
}

/// The hidden-feature map `phi_L(x)` for a batch of inputs (rows are samples).
pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// `phi_l = sigma(phi_{l-1} W_l^T)` through every layer; an error says why the device failed.
    fn features(&self, inputs: Mat<f32>, weights: &[Mat<f32>], activation: Activation) -> Result<Mat<f32>, String>;
}
