//! The portable (scalar) lookup-table product, and the reference the SIMD kernels are
//! read against: the 16-entry tables of `mod.rs`'s `Avx512` layout, one lookup per row,
//! group and sample.

use super::Layout;

/// One sample per table.
pub const TILE: usize = 1;

/// `tables[(g * slots + b) * 16 + n] = sum_k (bit k of n ? x_k : -x_k)` over the 4 inputs
/// of group `g` of sample `b` (inputs past `cols` are 0).
pub fn tables(xt: &[f32], cols: usize, slots: usize, tables: &mut [f32]) {
    for (b, x) in xt.chunks(cols).enumerate() {
        for (g, quad) in x.chunks(4).enumerate() {
            let entry = &mut tables[(g * slots + b) * 16..][..16];
            for (n, e) in entry.iter_mut().enumerate() {
                *e = quad.iter().enumerate().map(|(k, &v)| if n >> k & 1 == 1 { v } else { -v }).sum();
            }
        }
    }
}

pub fn product(layout: &Layout, tables: &[f32], slots: usize, samples: usize, out: &mut [f32], stride: usize, rows: std::ops::Range<usize>) {
    for i in rows.clone() {
        let (block, r) = (i / 16, i % 16);
        let shift = 32 * (r % 2) + 4 * (r / 2);
        let words = &layout.bits[block * layout.groups * 8..][..layout.groups * 8];
        for b in 0..samples {
            let sum: f32 = words
                .chunks_exact(8)
                .enumerate()
                .map(|(g, w)| {
                    let nibble = (u64::from_le_bytes(w.try_into().expect("8 bytes")) >> shift) as usize & 15;
                    tables[(g * slots + b) * 16 + nibble]
                })
                .sum();
            out[b * stride + i - rows.start] = layout.scale * sum;
        }
    }
}
