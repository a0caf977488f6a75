//! The AVX-512 lookup-table product: 16-entry f32 tables in one register, `vpermps` looks
//! up 16 output rows per instruction (layout in `mod.rs`).

use super::{Kernel, Layout};
use faer::{MatMut, MatRef};
use std::arch::x86_64::*;
use std::ops::Range;

/// Samples per tile: `TILE x WIDE` accumulators, `WIDE` index registers and a table fit in
/// the 32 vector registers (four row blocks per table load halve the table traffic of two).
pub const TILE: usize = 8;

/// Row blocks per pass of a tile.
pub const WIDE: usize = 2;

/// `tables[(g * slots + b) * 16 + n] = sum_k (bit k of n ? x_k : -x_k)` over the 4 inputs of
/// group `g` of sample `b` (inputs past `cols` are 0).
///
/// # Safety
/// The CPU must have AVX-512F; `tables` must hold `groups * slots * 16` floats.
#[target_feature(enable = "avx512f")]
pub unsafe fn tables(xt: MatRef<'_, f32>, slots: usize, tables: &mut [f32]) {
    let n = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // s_k[n] = +1 where bit k of n is set, else -1.
    let sign = |k: i32| {
        let bit = _mm512_and_si512(_mm512_srlv_epi32(n, _mm512_set1_epi32(k)), _mm512_set1_epi32(1));
        _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_add_epi32(bit, bit), _mm512_set1_epi32(1)))
    };
    let s = [sign(0), sign(1), sign(2), sign(3)];
    let columns = super::columns(xt);
    // Group by group, then sample by sample: a group's inputs of the tile's samples are
    // contiguous in the column-major `xt`.
    for (g, group) in columns.chunks(4).enumerate() {
        for b in 0..xt.nrows() {
            let mut t = _mm512_setzero_ps();
            for (k, column) in group.iter().enumerate() {
                t = _mm512_fmadd_ps(_mm512_set1_ps(column[b]), s[k], t);
            }
            let at = (g * slots + b) * 16;
            assert!(at + 16 <= tables.len());
            // SAFETY: in bounds, checked above.
            unsafe { _mm512_storeu_ps(tables.as_mut_ptr().add(at), t) };
        }
    }
}

pub struct Pass;

impl super::Pass for Pass {
    const KERNEL: Kernel = Kernel::Avx512;
    const READ: usize = 8;

    /// Per group, one index register per block (a 64-bit broadcast and a variable shift put
    /// row `r`'s nibble in lane `r`), then one `vpermps` and one add per sample and block.
    #[target_feature(enable = "avx512f")]
    unsafe fn pass<const BT: usize, const NB: usize>(layout: &Layout, tables: &[f32], block: usize, mut out: MatMut<'_, f32>, rows: &Range<usize>) {
        let shifts = _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
        let mut acc = [[_mm512_setzero_ps(); NB]; BT];
        let bits = layout.bits.as_ptr();
        let groups = layout.groups;
        for g in 0..groups {
            let mut idx = [_mm512_setzero_si512(); NB];
            for (k, idx) in idx.iter_mut().enumerate() {
                // SAFETY: block + k < the packed blocks (caller).
                let word = unsafe { (bits.add(((block + k) * groups + g) * 8) as *const i64).read_unaligned() };
                *idx = _mm512_srlv_epi32(_mm512_set1_epi64(word), shifts);
            }
            let table = unsafe { tables.as_ptr().add(g * BT * 16) };
            for (b, acc) in acc.iter_mut().enumerate() {
                let t = unsafe { _mm512_loadu_ps(table.add(b * 16)) };
                for k in 0..NB {
                    acc[k] = _mm512_add_ps(acc[k], _mm512_permutexvar_ps(idx[k], t));
                }
            }
        }
        // The scale in the store, element by element (out is column-major).
        let mut lanes = [0.0f32; 16];
        for (b, acc) in acc.iter().enumerate().take(out.nrows()) {
            for (k, &a) in acc.iter().enumerate() {
                let row = (block + k) * 16;
                if row >= rows.end {
                    break;
                }
                unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), a) };
                for (r, &v) in lanes.iter().enumerate().take(rows.end - row) {
                    out[(b, row + r - rows.start)] = layout.scale * v;
                }
            }
        }
    }
}
