//! The reference backend: the feature map on the CPU.

use super::{Backend, Layer};
use crate::model::Activation;
use faer::{Mat, MatRef};
use rayon::prelude::*;

/// faer's multithreaded f32 GEMM and a rayon elementwise pass for dense layers; the
/// lookup-table kernels of `crate::packed` for packed one-bit layers.
pub struct Cpu;

/// The activations between layers: faer's column-major matrix for the GEMM, row-major
/// samples for the packed kernels (converted only where the kind of layer changes).
enum Batch {
    Columns(Mat<f32>),
    Rows { data: Vec<f32>, samples: usize, width: usize },
}

impl Batch {
    fn into_columns(self) -> Mat<f32> {
        match self {
            Batch::Columns(m) => m,
            // Row-major samples x width is column-major width x samples.
            Batch::Rows { data, samples, width } => MatRef::from_column_major_slice(&data, width, samples).transpose().to_owned(),
        }
    }

    fn into_rows(self) -> (Vec<f32>, usize) {
        match self {
            Batch::Rows { data, samples, .. } => (data, samples),
            Batch::Columns(m) => {
                let t = m.transpose().to_owned();
                let data = (0..t.ncols()).flat_map(|j| t.col_as_slice(j).iter().copied()).collect();
                (data, m.nrows())
            }
        }
    }
}

impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn features(&self, inputs: Mat<f32>, layers: &[Layer], activation: Activation) -> Result<Mat<f32>, String> {
        let mut h = Batch::Columns(inputs);
        for layer in layers {
            h = match layer {
                Layer::Dense(w) => Batch::Columns(dense_layer(h.into_columns(), w, activation)),
                Layer::Packed(p) => {
                    let (x, samples) = h.into_rows();
                    Batch::Rows { data: p.forward(&x, samples, activation), samples, width: p.rows() }
                }
            };
        }
        Ok(h.into_columns())
    }
}

fn dense_layer(h: Mat<f32>, w: &Mat<f32>, activation: Activation) -> Mat<f32> {
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
    z
}
