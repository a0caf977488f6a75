//! The AVX-512 lookup-table product: 16-entry f32 tables in one register, `vpermps` looks
//! up 16 output rows per instruction (layout in `mod.rs`).

use super::Layout;
use std::arch::x86_64::*;
use std::ops::Range;

/// Samples per tile: `TILE x 2` accumulators, two index registers and a table fit in the
/// 32 vector registers.
pub const TILE: usize = 8;

/// `tables[(g * slots + b) * 16 + n] = sum_k (bit k of n ? x_k : -x_k)` over the 4 inputs of
/// group `g` of sample `b` (inputs past `cols` are 0).
///
/// # Safety
/// The CPU must have AVX-512F; `tables` must hold `groups * slots * 16` floats.
#[target_feature(enable = "avx512f")]
pub unsafe fn tables(xt: &[f32], cols: usize, slots: usize, tables: &mut [f32]) {
    let n = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // s_k[n] = +1 where bit k of n is set, else -1.
    let sign = |k: i32| {
        let bit = _mm512_and_si512(_mm512_srlv_epi32(n, _mm512_set1_epi32(k)), _mm512_set1_epi32(1));
        _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_add_epi32(bit, bit), _mm512_set1_epi32(1)))
    };
    let s = [sign(0), sign(1), sign(2), sign(3)];
    for (b, x) in xt.chunks(cols).enumerate() {
        for (g, quad) in x.chunks(4).enumerate() {
            let mut t = _mm512_setzero_ps();
            for (k, &v) in quad.iter().enumerate() {
                t = _mm512_fmadd_ps(_mm512_set1_ps(v), s[k], t);
            }
            let at = (g * slots + b) * 16;
            assert!(at + 16 <= tables.len());
            // SAFETY: in bounds, checked above.
            unsafe { _mm512_storeu_ps(tables.as_mut_ptr().add(at), t) };
        }
    }
}

/// See `mod.rs`'s `PackedLayer::product`.
///
/// # Safety
/// The CPU must have AVX-512F; `slots` is 1 or `TILE`; `rows.start` is a multiple of 16;
/// `out` holds `samples` rows of stride `stride` covering `rows`.
#[target_feature(enable = "avx512f")]
pub unsafe fn product(layout: &Layout, tables: &[f32], slots: usize, samples: usize, out: &mut [f32], stride: usize, rows: Range<usize>) {
    assert!(rows.start % 16 == 0 && samples <= slots && tables.len() >= layout.groups * slots * 16);
    assert!(out.len() >= (samples - 1) * stride + rows.len());
    assert!(layout.bits.len() >= rows.end.div_ceil(16) * layout.groups * 8);
    let (mut block, end) = (rows.start / 16, rows.end.div_ceil(16));
    // SAFETY (every pass): the asserts above bound every read and write.
    if slots == TILE {
        while block + 2 <= end {
            unsafe { pass::<TILE, 2>(layout, tables, block, samples, out, stride, &rows) };
            block += 2;
        }
        if block < end {
            unsafe { pass::<TILE, 1>(layout, tables, block, samples, out, stride, &rows) };
        }
    } else {
        assert_eq!(slots, 1);
        while block + 4 <= end {
            unsafe { pass::<1, 4>(layout, tables, block, samples, out, stride, &rows) };
            block += 4;
        }
        while block < end {
            unsafe { pass::<1, 1>(layout, tables, block, samples, out, stride, &rows) };
            block += 1;
        }
    }
}

/// Row blocks `block .. block + NB` for `TILE` tabled samples: per group, one index register
/// per block (a 64-bit broadcast and a variable shift put row `r`'s nibble in lane `r`), then
/// one `vpermps` and one add per sample and block.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn pass<const BT: usize, const NB: usize>(layout: &Layout, tables: &[f32], block: usize, samples: usize, out: &mut [f32], stride: usize, rows: &Range<usize>) {
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
    let scale = _mm512_set1_ps(layout.scale);
    for (b, acc) in acc.iter().enumerate().take(samples) {
        for (k, &a) in acc.iter().enumerate() {
            let row = (block + k) * 16;
            if row >= rows.end {
                break;
            }
            let mask = ((1u32 << (rows.end - row).min(16)) - 1) as __mmask16;
            unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().add(b * stride + row - rows.start), mask, _mm512_mul_ps(a, scale)) };
        }
    }
}
