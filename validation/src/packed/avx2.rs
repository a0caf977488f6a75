//! The AVX2 lookup-table product: 8-entry f32 tables (groups of 3 inputs) in one register,
//! `vpermps` looks up 8 output rows per instruction (layout in `mod.rs`).

use super::{Kernel, Layout};
use faer::{MatMut, MatRef};
use std::arch::x86_64::*;
use std::ops::Range;

/// Samples per tile: `TILE x WIDE` accumulators, `WIDE` index registers and a table fit in
/// the 16 vector registers.
pub const TILE: usize = 6;

/// Row blocks per pass of a tile.
pub const WIDE: usize = 2;

/// `tables[(g * slots + b) * 8 + n] = sum_k (bit k of n ? x_k : -x_k)` over the 3 inputs of
/// group `g` of sample `b` (inputs past `cols` are 0).
///
/// # Safety
/// The CPU must have AVX2; `tables` must hold `groups * slots * 8` floats.
#[target_feature(enable = "avx2")]
pub unsafe fn tables(xt: MatRef<'_, f32>, slots: usize, tables: &mut [f32]) {
    let n = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let sign = |k: i32| {
        let bit = _mm256_and_si256(_mm256_srlv_epi32(n, _mm256_set1_epi32(k)), _mm256_set1_epi32(1));
        _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_add_epi32(bit, bit), _mm256_set1_epi32(1)))
    };
    let s = [sign(0), sign(1), sign(2)];
    let columns = super::columns(xt);
    // Group by group, then sample by sample, as in the AVX-512 kernel.
    for (g, group) in columns.chunks(3).enumerate() {
        for b in 0..xt.nrows() {
            let mut t = _mm256_setzero_ps();
            for (k, column) in group.iter().enumerate() {
                t = _mm256_add_ps(t, _mm256_mul_ps(_mm256_set1_ps(column[b]), s[k]));
            }
            let at = (g * slots + b) * 8;
            assert!(at + 8 <= tables.len());
            // SAFETY: in bounds, checked above.
            unsafe { _mm256_storeu_ps(tables.as_mut_ptr().add(at), t) };
        }
    }
}

pub struct Pass;

impl super::Pass for Pass {
    const KERNEL: Kernel = Kernel::Avx2;
    const READ: usize = 4;

    /// Per group, one index register per block (a 32-bit broadcast and a variable shift put
    /// row `r`'s 3 bits in lane `r`; `vpermps` reads only those), then one `vpermps` and one
    /// add per sample and block.
    #[target_feature(enable = "avx2")]
    unsafe fn pass<const BT: usize, const NB: usize>(layout: &Layout, tables: &[f32], block: usize, mut out: MatMut<'_, f32>, rows: &Range<usize>) {
        let shifts = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
        let mut acc = [[_mm256_setzero_ps(); NB]; BT];
        let bits = layout.bits.as_ptr();
        let groups = layout.groups;
        for g in 0..groups {
            let mut idx = [_mm256_setzero_si256(); NB];
            for (k, idx) in idx.iter_mut().enumerate() {
                // SAFETY: block + k < the packed blocks, plus the byte of slack (caller).
                let word = unsafe { (bits.add(((block + k) * groups + g) * 3) as *const i32).read_unaligned() };
                *idx = _mm256_srlv_epi32(_mm256_set1_epi32(word), shifts);
            }
            let table = unsafe { tables.as_ptr().add(g * BT * 8) };
            for (b, acc) in acc.iter_mut().enumerate() {
                let t = unsafe { _mm256_loadu_ps(table.add(b * 8)) };
                for k in 0..NB {
                    acc[k] = _mm256_add_ps(acc[k], _mm256_permutevar8x32_ps(t, idx[k]));
                }
            }
        }
        // The scale in the store, element by element (out is column-major).
        let mut lanes = [0.0f32; 8];
        for (b, acc) in acc.iter().enumerate().take(out.nrows()) {
            for (k, &a) in acc.iter().enumerate() {
                let row = (block + k) * 8;
                if row >= rows.end {
                    break;
                }
                unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), a) };
                for (r, &v) in lanes.iter().enumerate().take(rows.end - row) {
                    out[(b, row + r - rows.start)] = layout.scale * v;
                }
            }
        }
    }
}
