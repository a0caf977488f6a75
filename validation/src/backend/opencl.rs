//! The OpenCL backend: the feature map on any OpenCL device (a GPU, or PoCL on a CPU).
//!
//! The OpenCL library is loaded at run time (`opencl3` with its `dynamic`
//! feature), so rfrisk builds and runs on machines without one; [`OpenCl::new`]
//! then returns an error that says why, and callers fall back to [`crate::Cpu`].
//! One kernel computes a whole layer, `phi_l = sigma(phi_{l-1} W_l^T)`: an SGEMM
//! with 4 x 4 register blocks per work-item and the activation fused into the store. Activations use
//! the same formulas as the CPU backend (`fast_tanh`, `erf`, identity, sign).

use crate::backend::{Backend, Layer};
use crate::model::Activation;
use faer::{Mat, MatRef};
use opencl3::command_queue::CommandQueue;
use opencl3::context::Context;
use opencl3::device::{get_all_devices, Device, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_GPU};
use opencl3::kernel::{ExecuteKernel, Kernel};
use opencl3::memory::{Buffer, CL_MEM_READ_WRITE};
use opencl3::program::Program;
use opencl3::types::{cl_float, cl_int, cl_uint, CL_BLOCKING};
use std::sync::Mutex;

/// Rows, columns and the inner dimension are zero-padded to multiples of this.
/// Every supported activation maps 0 to 0, so padding never leaks into real entries.
const BLOCK: usize = 4;

const SOURCE: &str = r#"
float activate(float x, int kind) {
    if (kind == 0) {
        /* tanh: Eigen's rational approximation, as validation::model::fast_tanh */
        x = clamp(x, -7.905311f, 7.905311f);
        float x2 = x * x;
        float p = ((((((-2.7607685e-16f * x2 + 2.0001879e-13f) * x2 - 8.6046715e-11f) * x2 + 5.122297e-8f) * x2
                  + 1.4857224e-5f) * x2 + 6.3726193e-4f) * x2 + 4.8935246e-3f) * x;
        float q = ((1.1982584e-6f * x2 + 1.185347e-4f) * x2 + 2.2684346e-3f) * x2 + 4.893525e-3f;
        return p / q;
    }
    if (kind == 1) return erf(x);
    if (kind == 2) return x;
    if (kind == 4) return fmax(x, 0.0f);
    return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
}

/* A 4 x 4 block of out[i][j] = activate(sum_k h[i][k] w[j][k]) per work-item, all
   row-major and zero-padded to multiples of 4, with float4 loads along k (contiguous
   in both h and w) and float4 accumulators: no local memory, no barriers, so it
   vectorizes on CPU devices (PoCL) as well as on GPUs. */
__kernel void layer(const int cols, const int inner, __global const float4* h,
                    __global const float4* w, __global float* out, const int kind) {
    const int bi = get_global_id(0) * 4;
    const int bj = get_global_id(1) * 4;
    const int k4 = inner / 4;
    __global const float4* h0 = h + (bi + 0) * k4;
    __global const float4* h1 = h + (bi + 1) * k4;
    __global const float4* h2 = h + (bi + 2) * k4;
    __global const float4* h3 = h + (bi + 3) * k4;
    __global const float4* w0 = w + (bj + 0) * k4;
    __global const float4* w1 = w + (bj + 1) * k4;
    __global const float4* w2 = w + (bj + 2) * k4;
    __global const float4* w3 = w + (bj + 3) * k4;
    float4 c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    float4 c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    for (int k = 0; k < k4; k++) {
        const float4 a0 = h0[k], a1 = h1[k], a2 = h2[k], a3 = h3[k];
        const float4 b0 = w0[k], b1 = w1[k], b2 = w2[k], b3 = w3[k];
        c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01); c02 = fma(a0, b2, c02); c03 = fma(a0, b3, c03);
        c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11); c12 = fma(a1, b2, c12); c13 = fma(a1, b3, c13);
        c20 = fma(a2, b0, c20); c21 = fma(a2, b1, c21); c22 = fma(a2, b2, c22); c23 = fma(a2, b3, c23);
        c30 = fma(a3, b0, c30); c31 = fma(a3, b1, c31); c32 = fma(a3, b2, c32); c33 = fma(a3, b3, c33);
    }
#define STORE(r, c, v) out[(bi + r) * cols + bj + c] = activate(v.x + v.y + v.z + v.w, kind)
    STORE(0, 0, c00); STORE(0, 1, c01); STORE(0, 2, c02); STORE(0, 3, c03);
    STORE(1, 0, c10); STORE(1, 1, c11); STORE(1, 2, c12); STORE(1, 3, c13);
    STORE(2, 0, c20); STORE(2, 1, c21); STORE(2, 2, c22); STORE(2, 3, c23);
    STORE(3, 0, c30); STORE(3, 1, c31); STORE(3, 2, c32); STORE(3, 3, c33);
}

/* A packed one-bit layer: out[i][j] = activate(scale * sum_k (bit k of row j ? h[i][k] : -h[i][k]))
   for k < inner, one output per work-item. w holds `words` uints per output row, bit k % 32 of
   word k / 32; h is row-major with row stride `stride`; outputs past `cols` are 0 (padding). */
__kernel void packed_layer(const int cols, const int stride_out, const int inner, const int stride,
                           __global const float* h, __global const uint* w, const int words,
                           __global float* out, const float scale, const int kind) {
    const int i = get_global_id(0);
    const int j = get_global_id(1);
    float acc = 0.0f;
    if (j < cols) {
        __global const float* hi = h + i * stride;
        __global const uint* wj = w + j * words;
        for (int q = 0; q < words; q++) {
            const uint bits = wj[q];
            const int n = min(32, inner - 32 * q);
            for (int k = 0; k < n; k++) {
                const float x = hi[32 * q + k];
                acc += ((bits >> k) & 1u) ? x : -x;
            }
        }
    }
    out[i * stride_out + j] = j < cols ? activate(scale * acc, kind) : 0.0f;
}
"#;

/// Why the OpenCL backend is unavailable, in words.
#[derive(Debug, thiserror::Error)]
#[error("OpenCL backend unavailable: {0}")]
pub struct OpenClError(String);

struct State {
    context: Context,
    queue: CommandQueue,
    program: Program,
}

// SAFETY: OpenCL API objects may be used from any thread (OpenCL 1.2 §A.2); the
// one thread-unsafe call, clSetKernelArg, only runs under the Mutex below.
unsafe impl Send for State {}

pub struct OpenCl {
    state: Mutex<State>,
    device: String,
    is_gpu: bool,
}

fn cl<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<T, OpenClError> {
    r.map_err(|e| OpenClError(format!("{what}: {e}")))
}

impl OpenCl {
    /// The first GPU, else the first OpenCL device of any type.
    /// Whether the kernel computes `activation` (the others are refused by `features`).
    pub fn has_kernel_for(activation: Activation) -> bool {
        matches!(activation, Activation::Tanh | Activation::Erf | Activation::Identity | Activation::Sign | Activation::Relu)
    }

    pub fn new() -> Result<OpenCl, OpenClError> {
        // Some ICD loaders (seen with PoCL) report no device to a second thread that
        // enumerates while the first is still initialising: enumerate one at a time.
        static ENUMERATION: Mutex<()> = Mutex::new(());
        let _one_at_a_time = ENUMERATION.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let gpus = get_all_devices(CL_DEVICE_TYPE_GPU).unwrap_or_default();
        let all = cl("no OpenCL runtime could be loaded or queried", get_all_devices(CL_DEVICE_TYPE_ALL))?;
        let is_gpu = !gpus.is_empty();
        let id = *gpus.first().or(all.first()).ok_or_else(|| OpenClError("no OpenCL device found".into()))?;
        let device = Device::new(id);
        let name = device.name().unwrap_or_else(|_| "unnamed device".into());
        let context = cl("creating a context", Context::from_device(&device))?;
        #[allow(deprecated)]
        let queue = cl("creating a command queue", CommandQueue::create_default(&context, 0))?;
        let program = cl("building the layer kernel", Program::create_and_build_from_source(&context, SOURCE, ""))?;
        Ok(OpenCl { state: Mutex::new(State { context, queue, program }), device: name.trim().to_owned(), is_gpu })
    }

    /// The device's name as the driver reports it.
    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn is_gpu(&self) -> bool {
        self.is_gpu
    }

    fn run(&self, inputs: Mat<f32>, layers: &[Layer], activation: Activation) -> Result<Mat<f32>, OpenClError> {
        let state = self.state.lock().expect("no panic while holding the OpenCL state");
        let kernel = cl("creating the kernel", Kernel::create(&state.program, "layer"))?;
        let packed_kernel = cl("creating the kernel", Kernel::create(&state.program, "packed_layer"))?;
        let rows = inputs.nrows();
        let kind: cl_int = match activation {
            Activation::Tanh => 0,
            Activation::Erf => 1,
            Activation::Identity => 2,
            Activation::Sign => 3,
            Activation::Relu => 4,
            other => return Err(OpenClError(format!("the OpenCL kernel has no `{other}` activation (tanh, erf, identity, sign and relu); use --backend cpu or auto"))),
        };
        let upload = |data: &[f32]| -> Result<Buffer<cl_float>, OpenClError> {
            // SAFETY: a fresh buffer of data.len() floats, written once, blocking.
            unsafe {
                let mut buf = cl("allocating", Buffer::<cl_float>::create(&state.context, CL_MEM_READ_WRITE, data.len(), std::ptr::null_mut()))?;
                cl("uploading", state.queue.enqueue_write_buffer(&mut buf, CL_BLOCKING, 0, data, &[]))?;
                Ok(buf)
            }
        };
        let rows_p = rows.next_multiple_of(BLOCK);
        let mut h = upload(&padded_row_major(inputs.as_ref(), rows_p))?;
        let mut inner = inputs.ncols();
        for layer in layers {
            let cols = match layer {
                Layer::Dense(w) => w.nrows(),
                Layer::Packed(p) => p.rows(),
            };
            let (inner_p, cols_p) = (inner.next_multiple_of(BLOCK), cols.next_multiple_of(BLOCK));
            let out = match layer {
                Layer::Dense(w) => {
                    let w_buf = upload(&padded_row_major(w.as_ref(), cols_p))?;
                    // SAFETY: h holds rows_p x inner_p floats, w_buf cols_p x inner_p, out rows_p x cols_p;
                    // the arguments match the kernel's signature.
                    unsafe {
                        let out = cl("allocating", Buffer::<cl_float>::create(&state.context, CL_MEM_READ_WRITE, rows_p * cols_p, std::ptr::null_mut()))?;
                        let (c, k) = (cols_p as cl_int, inner_p as cl_int);
                        let event = cl(
                            "running the layer kernel",
                            ExecuteKernel::new(&kernel)
                                .set_arg(&c)
                                .set_arg(&k)
                                .set_arg(&h)
                                .set_arg(&w_buf)
                                .set_arg(&out)
                                .set_arg(&kind)
                                .set_global_work_sizes(&[rows_p / BLOCK, cols_p / BLOCK])
                                .enqueue_nd_range(&state.queue),
                        )?;
                        cl("waiting for the kernel", event.wait())?;
                        out
                    }
                }
                Layer::Packed(p) => {
                    let words = p.row_words();
                    // SAFETY: a fresh buffer of words.len() uints, written once, blocking; h holds
                    // rows_p x inner_p floats, w_buf cols x inner.div_ceil(32) uints, out rows_p x cols_p.
                    unsafe {
                        let mut w_buf = cl("allocating", Buffer::<cl_uint>::create(&state.context, CL_MEM_READ_WRITE, words.len().max(1), std::ptr::null_mut()))?;
                        if !words.is_empty() {
                            cl("uploading", state.queue.enqueue_write_buffer(&mut w_buf, CL_BLOCKING, 0, &words, &[]))?;
                        }
                        let out = cl("allocating", Buffer::<cl_float>::create(&state.context, CL_MEM_READ_WRITE, rows_p * cols_p, std::ptr::null_mut()))?;
                        let (c, c_p, k, k_p, nw) = (cols as cl_int, cols_p as cl_int, inner as cl_int, inner_p as cl_int, inner.div_ceil(32) as cl_int);
                        let scale: cl_float = p.scale();
                        let event = cl(
                            "running the packed layer kernel",
                            ExecuteKernel::new(&packed_kernel)
                                .set_arg(&c)
                                .set_arg(&c_p)
                                .set_arg(&k)
                                .set_arg(&k_p)
                                .set_arg(&h)
                                .set_arg(&w_buf)
                                .set_arg(&nw)
                                .set_arg(&out)
                                .set_arg(&scale)
                                .set_arg(&kind)
                                .set_global_work_sizes(&[rows_p, cols_p])
                                .enqueue_nd_range(&state.queue),
                        )?;
                        cl("waiting for the kernel", event.wait())?;
                        out
                    }
                }
            };
            h = out;
            inner = cols;
        }
        let inner_p = inner.next_multiple_of(BLOCK);
        let mut result = vec![0.0f32; rows_p * inner_p];
        // SAFETY: h holds rows_p * inner_p floats.
        unsafe {
            cl("downloading", state.queue.enqueue_read_buffer(&h, CL_BLOCKING, 0, &mut result, &[]))?;
        }
        // Row-major rows_p x inner_p is column-major inner_p x rows_p: transpose, drop the padding.
        Ok(MatRef::from_column_major_slice(&result, inner_p, rows_p).transpose().subrows(0, rows).subcols(0, inner).to_owned())
    }
}

/// Row-major copy of `m` with `rows_p` rows and the columns padded to a multiple of
/// [`BLOCK`], zeros in the padding.
fn padded_row_major(m: MatRef<'_, f32>, rows_p: usize) -> Vec<f32> {
    let cols_p = m.ncols().next_multiple_of(BLOCK);
    let mut out = vec![0.0f32; rows_p * cols_p];
    for j in 0..m.ncols() {
        for (i, &v) in m.col(j).iter().enumerate() {
            out[i * cols_p + j] = v;
        }
    }
    out
}
impl Backend for OpenCl {
    fn name(&self) -> &'static str {
        "opencl"
    }

    fn features(&self, inputs: Mat<f32>, layers: &[Layer], activation: Activation) -> Result<Mat<f32>, String> {
        self.run(inputs, layers, activation).map_err(|e| format!("{} ({}): {e}", self.name(), self.device))
    }
}
