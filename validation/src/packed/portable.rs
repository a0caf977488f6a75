//! The portable (scalar) lookup-table product, and the reference the SIMD kernels are
//! read against: the 16-entry tables of `mod.rs`'s `Avx512` layout, one lookup per row,
//! group and sample.

use super::Layout;
use faer::{MatMut, MatRef};

/// One sample per table.
pub const TILE: usize = 1;

/// `tables[(g * slots + b) * 16 + n] = sum_k (bit k of n ? x_k : -x_k)` over the 4 inputs
/// of group `g` of sample `b` (row `b` of `xt`; inputs past its columns are 0).
pub fn tables(xt: MatRef<'_, f32>, slots: usize, tables: &mut [f32]) {
    let cols = xt.ncols();
    for b in 0..xt.nrows() {
        for g in 0..cols.div_ceil(4) {
            let quad: Vec<f32> = (4 * g..(4 * g + 4).min(cols)).map(|j| xt[(b, j)]).collect();
            let entry = &mut tables[(g * slots + b) * 16..][..16];
            for (n, e) in entry.iter_mut().enumerate() {
                *e = quad.iter().enumerate().map(|(k, &v)| if n >> k & 1 == 1 { v } else { -v }).sum();
            }
        }
    }
}

pub fn product(layout: &Layout, tables: &[f32], slots: usize, mut out: MatMut<'_, f32>, first: usize) {
    for c in 0..out.ncols() {
        let i = first + c;
        let (block, r) = (i / 16, i % 16);
        let shift = 32 * (r % 2) + 4 * (r / 2);
        let words = &layout.bits[block * layout.groups * 8..][..layout.groups * 8];
        for b in 0..out.nrows() {
            let sum: f32 = words
                .chunks_exact(8)
                .enumerate()
                .map(|(g, w)| {
                    let nibble = (u64::from_le_bytes(w.try_into().expect("8 bytes")) >> shift) as usize & 15;
                    tables[(g * slots + b) * 16 + nibble]
                })
                .sum();
            out[(b, c)] = layout.scale * sum;
        }
    }
}
