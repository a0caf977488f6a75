//! How a forward pass is computed: the hidden-feature map `phi_L(x)` for a batch of
//! inputs, on the CPU (`cpu`, the reference) or an OpenCL device (`opencl`). The draws,
//! weight laws and trainer do not depend on which.

mod cpu;
pub mod opencl;

use crate::model::Activation;
use crate::packed::{Kernel, PackedLayer};
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

    fn features(&self, inputs: Mat<f32>, layers: &[Layer], activation: Activation) -> Result<Mat<f32>, String> {
        if OpenCl::has_kernel_for(activation) {
            self.0.features(inputs, layers, activation)
        } else {
            Cpu.features(inputs, layers, activation)
        }
    }
}

/// The hidden-feature map `phi_L(x)` for a batch of inputs (rows are samples).
pub trait Backend: Sync {
    fn name(&self) -> &'static str;
    /// `phi_l = sigma(phi_{l-1} W_l^T)` through every layer; an error says why the device failed.
    fn features(&self, inputs: Mat<f32>, layers: &[Layer], activation: Activation) -> Result<Mat<f32>, String>;
}

/// A hidden layer's weights as the backends multiply them: an f32 matrix, or one-bit
/// weights stored as bits (`crate::packed`).
#[derive(Clone)]
pub enum Layer {
    Dense(Mat<f32>),
    Packed(PackedLayer),
}

impl Layer {
    /// Bytes held for the weights.
    pub fn bytes(&self) -> usize {
        match self {
            Layer::Dense(w) => w.nrows() * w.ncols() * std::mem::size_of::<f32>(),
            Layer::Packed(p) => p.bytes(),
        }
    }
}

/// How a simulation multiplies one-bit layers (`--kernel`): as bits, as f32 matrices, or
/// (`Auto`) as bits where the packed kernel is faster than faer's f32 GEMM on this CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelChoice {
    #[default]
    Auto,
    Packed,
    Dense,
}

impl KernelChoice {
    /// The kernel to pack a layer of fan-in `fan_in` for, if it is one-bit (`onebit`) and
    /// packing is chosen; `Auto` packs where a SIMD kernel exists and the fan-in is at least
    /// 1024, where `rfrisk bench inference` measured the packed pass faster than faer's f32
    /// GEMM at batch 1000 (1.7x at d = 1024 with AVX-512; 0.9-1.0x at d = 256 and 512).
    pub fn packing(self, fan_in: usize, onebit: bool) -> Result<Option<Kernel>, String> {
        let kernel = Kernel::from_env()?;
        let packed = match self {
            KernelChoice::Dense => false,
            KernelChoice::Packed => true,
            KernelChoice::Auto => kernel != Kernel::Portable && fan_in >= 1024,
        };
        Ok((onebit && packed).then_some(kernel))
    }

    /// The layer for the weights `w`, packed as [`KernelChoice::packing`] says.
    pub fn layer(self, w: Mat<f32>, onebit: bool) -> Result<Layer, String> {
        Ok(match self.packing(w.ncols(), onebit)? {
            Some(kernel) => Layer::Packed(PackedLayer::pack(w.as_ref(), kernel)),
            None => Layer::Dense(w),
        })
    }
}
