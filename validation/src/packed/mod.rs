//! One-bit hidden layers stored as bits, and the products that multiply real-valued (f32)
//! activations by them.
//!
//! A one-bit layer is `W = s S` with `S` in `{-1, +1}^(rows x cols)` and `s = 1/sqrt(fan_in)`:
//! one bit per weight and one scale per layer, 1/32 of the f32 matrix. The activations stay
//! f32, so XNOR-popcount does not apply; the kernels are lookup tables (as in T-MAC and
//! bitnet.cpp). For each sample and each group of `G` consecutive inputs the `2^G` signed
//! sums `sum_k +-x_k` are computed once; each output row's `G` sign bits then pick one entry.
//! With AVX-512 a 16-entry f32 table (`G = 4`) sits in one register and one `vpermps` looks
//! it up for 16 output rows at once; with AVX2 the table has 8 entries (`G = 3`, 8 rows).
//! The sums are exact f32 sums of `+-x`, in a different order than a dense product: the
//! result agrees with the f32 product on the same signs up to rounding.
//!
//! The two SIMD kernels share the block loop (`drive`) and differ in their inner pass
//! (`Pass`). A simulation's one-bit layer arrives as [`ColumnSigns`] drawn straight from
//! the trial's streams (`draws::layer_signs`), never as an f32 matrix.
//!
//! Layouts (bits are 1 where the weight is `+s`):
//! - `Avx512` and `Portable`, 16 rows x 4 inputs per 64-bit word, word `block * groups + g`:
//!   row `r` of the block, input `k` of group `g` is bit `32 (r % 2) + 4 (r / 2) + k`, so that a
//!   64-bit broadcast and one variable shift put row `r`'s nibble in lane `r`.
//! - `Avx2`, 8 rows x 3 inputs per 24 bits, at byte `3 (block * groups + g)`: row `r`, input
//!   `k` is bit `3 r + k` (read as an unaligned 32-bit word; the buffer has one byte of slack).
//!
//! `RFRISK_PACKED_KERNEL=avx512|avx2|portable` forces a kernel (tests force each in turn).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod portable;

use crate::model::Activation;
use faer::{Mat, MatMut, MatRef};
use rayon::prelude::*;
use std::fmt;
use std::ops::Range;

/// Which product a packed layer is laid out for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    Avx512,
    Avx2,
    Portable,
}

impl Kernel {
    /// Every kernel this CPU runs, fastest first.
    pub fn available() -> Vec<Kernel> {
        [Kernel::Avx512, Kernel::Avx2, Kernel::Portable].into_iter().filter(|k| k.is_supported()).collect()
    }

    /// `RFRISK_PACKED_KERNEL` if set (an error if this CPU lacks it), else the fastest.
    pub fn from_env() -> Result<Kernel, String> {
        match std::env::var("RFRISK_PACKED_KERNEL") {
            Ok(name) => name.parse::<Kernel>().and_then(Kernel::checked),
            Err(_) => Ok(Kernel::available()[0]),
        }
    }

    /// `self` if this CPU has the instructions it needs.
    pub fn checked(self) -> Result<Kernel, String> {
        if self.is_supported() {
            Ok(self)
        } else {
            Err(format!("the {self} packed kernel needs CPU features this machine lacks"))
        }
    }

    fn is_supported(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The bit of row `r` of a block and input `k` of a group in the block and group's bytes.
    fn bit(self, r: usize, k: usize) -> usize {
        match self {
            Kernel::Avx512 | Kernel::Portable => 32 * (r % 2) + 4 * (r / 2) + k,
            Kernel::Avx2 => 3 * r + k,
        }
    }

    /// (rows per block, inputs per group, bytes per block and group).
    fn shape(self) -> (usize, usize, usize) {
        match self {
            Kernel::Avx512 | Kernel::Portable => (16, 4, 8),
            Kernel::Avx2 => (8, 3, 3),
        }
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        })
    }
}

impl std::str::FromStr for Kernel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "avx512" => Ok(Kernel::Avx512),
            "avx2" => Ok(Kernel::Avx2),
            "portable" => Ok(Kernel::Portable),
            _ => Err(format!("unknown packed kernel `{s}` (avx512, avx2 or portable)")),
        }
    }
}

/// The signs of a one-bit layer `W = scale * S`, `rows x cols`, column by column: bit
/// `i % 64` of word `j * rows.div_ceil(64) + i / 64` is set where `W[(i, j)] = +scale`. What
/// the draw produces (`draws::layer_signs`) and the packer reads, 1/32 of the f32 matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSigns {
    rows: usize,
    cols: usize,
    scale: f32,
    pub(crate) words: Vec<u64>,
}

impl ColumnSigns {
    /// All signs negative.
    pub fn new(rows: usize, cols: usize, scale: f32) -> ColumnSigns {
        ColumnSigns { rows, cols, scale, words: vec![0; rows.div_ceil(64) * cols] }
    }

    /// The signs of `w` (a one-bit layer: every entry `+-scale`, else a panic).
    pub fn of(w: MatRef<'_, f32>) -> ColumnSigns {
        let (rows, cols) = (w.nrows(), w.ncols());
        let scale = if rows * cols > 0 { w[(0, 0)].abs() } else { 0.0 };
        let mut signs = ColumnSigns::new(rows, cols, scale);
        let words = signs.words_per_column();
        signs.words.par_chunks_mut(words.max(1)).enumerate().for_each(|(j, column)| {
            for (i, &v) in w.col(j).iter().enumerate() {
                assert!(v.abs() == scale, "a packed layer's weights are all +-{scale}, not {v}");
                column[i / 64] |= u64::from(v > 0.0) << (i % 64);
            }
        });
        signs
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Whether weight `(i, j)` is `+scale`.
    pub fn get(&self, i: usize, j: usize) -> bool {
        self.words[j * self.words_per_column() + i / 64] >> (i % 64) & 1 == 1
    }

    pub(crate) fn words_per_column(&self) -> usize {
        self.rows.div_ceil(64)
    }
}

/// A one-bit layer `W = scale * S`, `rows x cols`, its signs packed for `kernel`.
#[derive(Clone)]
pub struct PackedLayer {
    rows: usize,
    cols: usize,
    scale: f32,
    kernel: Kernel,
    bits: Vec<u8>,
}

impl PackedLayer {
    /// Packs the signs of `w` (a one-bit layer: every entry `+-scale`, else a panic) for `kernel`.
    pub fn pack(w: MatRef<'_, f32>, kernel: Kernel) -> PackedLayer {
        PackedLayer::from_signs(&ColumnSigns::of(w), kernel)
    }

    /// Lays `signs` out for `kernel`.
    pub fn from_signs(signs: &ColumnSigns, kernel: Kernel) -> PackedLayer {
        let (rows, cols) = (signs.rows, signs.cols);
        let (block_rows, group, bytes) = kernel.shape();
        let (blocks, groups) = (rows.div_ceil(block_rows), cols.div_ceil(group));
        let column_words = signs.words_per_column();
        // One byte of slack: the AVX2 kernel reads its 24 bits as a 32-bit word.
        let mut bits = vec![0u8; blocks * groups * bytes + 1];
        bits[..blocks * groups * bytes].par_chunks_mut(groups * bytes).enumerate().for_each(|(block, chunk)| {
            // A block's 16 (or 8) rows lie in one word of each column: `first` is a multiple of them.
            let first = block * block_rows;
            for j in 0..cols {
                let mut set = signs.words[j * column_words + first / 64] >> (first % 64) & ((1 << block_rows) - 1);
                let (g, k) = (j / group, j % group);
                while set != 0 {
                    let bit = kernel.bit(set.trailing_zeros() as usize, k);
                    chunk[g * bytes + bit / 8] |= 1 << (bit % 8);
                    set &= set - 1;
                }
            }
        });
        PackedLayer { rows, cols, scale: signs.scale, kernel, bits }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// The scale `s` of `W = s S`.
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// The signs row by row, `cols.div_ceil(32)` words per row, bit `j % 32` of word `j / 32`
    /// set where weight `(i, j)` is `+scale` (the OpenCL kernel's layout).
    pub fn row_words(&self) -> Vec<u32> {
        let words = self.cols.div_ceil(32);
        let mut out = vec![0u32; self.rows * words];
        out.par_chunks_mut(words.max(1)).enumerate().for_each(|(i, row)| {
            for j in (0..self.cols).filter(|&j| self.sign(i, j)) {
                row[j / 32] |= 1 << (j % 32);
            }
        });
        out
    }

    /// Bytes held for the weights: the packed signs and the scale.
    pub fn bytes(&self) -> usize {
        self.bits.len() + std::mem::size_of::<f32>()
    }

    /// The dense f32 matrix these bits stand for (tests and the OpenCL upload).
    pub fn to_dense(&self) -> Mat<f32> {
        Mat::from_fn(self.rows, self.cols, |i, j| if self.sign(i, j) { self.scale } else { -self.scale })
    }

    /// Whether weight `(i, j)` is `+scale`.
    pub fn sign(&self, i: usize, j: usize) -> bool {
        let (block_rows, group, bytes) = self.kernel.shape();
        let (r, g, k) = (i % block_rows, j / group, j % group);
        let bit = self.kernel.bit(r, k);
        let at = ((i / block_rows) * self.cols.div_ceil(group) + g) * bytes + bit / 8;
        self.bits[at] >> (bit % 8) & 1 == 1
    }

    /// `activation(x W^T)`: one row per sample, in faer's column-major layout (as the GEMM
    /// path). The kernels store `scale * (S x)`; the activation then runs over whole columns,
    /// where it vectorizes (in the kernels' stores it was one scalar call per entry).
    pub fn forward(&self, x: MatRef<'_, f32>, activation: Activation) -> Mat<f32> {
        assert_eq!(x.ncols(), self.cols, "x must have one column per input");
        // The table builders read columns as slices.
        let owned;
        let x = if x.row_stride() == 1 {
            x
        } else {
            owned = x.to_owned();
            owned.as_ref()
        };
        let batch = x.nrows();
        let mut out = Mat::<f32>::zeros(batch, self.rows);
        if batch == 0 || self.rows == 0 {
            return out;
        }
        let tile = self.tile();
        if batch >= 2 * tile * rayon::current_num_threads() {
            // Many samples: each thread takes whole tiles of samples, one table per tile,
            // and every output row (the bits stream through once per tile).
            // One table buffer per rayon job, not one allocation per tile: a tile's tables are
            // 256 KB at d = 2048, which malloc maps fresh (and the kernel zeroes) every time.
            out.as_mut().par_row_chunks_mut(tile).zip(x.par_row_chunks(tile)).for_each_init(Vec::new, |tables, (o, xt)| {
                self.tables_into(xt, tile, tables);
                self.product(tables, tile, o, 0);
            });
        } else {
            // Few samples (batch 1): one table per sample, the output rows split across threads.
            let block_rows = self.kernel.shape().0;
            let chunk = (32 * block_rows).min(self.rows.next_multiple_of(block_rows));
            for s in 0..batch {
                let tables = self.tables(x.subrows(s, 1), 1);
                out.as_mut().subrows_mut(s, 1).par_col_chunks_mut(chunk).enumerate().for_each(|(c, o)| self.product(&tables, 1, o, c * chunk));
            }
        }
        activation.eval_in_place(out.as_mut());
        out
    }

    /// Samples per tile in the many-sample product (the kernel keeps one accumulator per
    /// sample and row block in registers).
    fn tile(&self) -> usize {
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => avx512::TILE,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => avx2::TILE,
            _ => portable::TILE,
        }
    }

    /// The signed-sum tables of the samples (rows) of `xt`, laid out `[group][slot][entry]`
    /// for `slots` samples (slots past the last sample are zero).
    fn tables(&self, xt: MatRef<'_, f32>, slots: usize) -> Vec<f32> {
        let mut tables = Vec::new();
        self.tables_into(xt, slots, &mut tables);
        tables
    }

    /// [`PackedLayer::tables`] into `tables`, whatever it held.
    fn tables_into(&self, xt: MatRef<'_, f32>, slots: usize, tables: &mut Vec<f32>) {
        let (_, group, _) = self.kernel.shape();
        tables.clear();
        tables.resize(self.cols.div_ceil(group) * slots << group, 0.0);
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a layer is packed for `Avx512` only after `Kernel::checked` saw the feature.
            Kernel::Avx512 => unsafe { avx512::tables(xt, slots, tables) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Kernel::Avx2 => unsafe { avx2::tables(xt, slots, tables) },
            _ => portable::tables(xt, slots, tables),
        }
    }

    /// `out[(b, i - first)] = scale * (S x_b)_i` for the output rows `i` from `first` (a
    /// block's first row) over `out`'s columns, for `out`'s rows `b` (the first of `slots`
    /// tabled samples).
    fn product(&self, tables: &[f32], slots: usize, out: MatMut<'_, f32>, first: usize) {
        let layout = Layout { bits: &self.bits, groups: self.cols.div_ceil(self.kernel.shape().1), scale: self.scale };
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `tables`.
            Kernel::Avx512 => unsafe { drive::<avx512::Pass, { avx512::TILE }, { avx512::WIDE }>(&layout, tables, slots, out, first) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as in `tables`.
            Kernel::Avx2 => unsafe { drive::<avx2::Pass, { avx2::TILE }, { avx2::WIDE }>(&layout, tables, slots, out, first) },
            _ => portable::product(&layout, tables, slots, out, first),
        }
    }
}

/// The columns of `xt` (the inputs of a tile's samples) as slices: faer's `xt[(b, j)]`
/// recomputes and checks the address of every entry the table builders read.
fn columns<'a>(xt: MatRef<'a, f32>) -> Vec<&'a [f32]> {
    (0..xt.ncols()).map(|j| xt.col(j).try_as_col_major().expect("a tile's rows are contiguous in each column").as_slice()).collect()
}

/// What a kernel reads of a packed layer.
struct Layout<'a> {
    bits: &'a [u8],
    groups: usize,
    scale: f32,
}

/// The inner loop of a SIMD kernel, which [`drive`] runs over the row blocks.
trait Pass {
    const KERNEL: Kernel;
    /// Bytes one read of a block and group's bits takes (the AVX2 kernel reads its 3 as 4).
    const READ: usize;

    /// `out[(b, i - rows.start)] = scale * (S x_b)_i` for the rows `i < rows.end` of row blocks
    /// `block .. block + NB`, for `out`'s rows `b` (at most `BT`, the tabled samples).
    ///
    /// # Safety
    /// The CPU has the kernel's features; the blocks are packed in `layout.bits` (`READ` bytes
    /// readable at each block and group); `tables` holds `BT` samples' tables of every group.
    unsafe fn pass<const BT: usize, const NB: usize>(layout: &Layout, tables: &[f32], block: usize, out: MatMut<'_, f32>, rows: &Range<usize>);
}

/// See `PackedLayer::product`. `TILE` tabled samples take `WIDE` row blocks per pass, as many
/// accumulators as the registers hold; a single sample takes 4; the last blocks one at a time.
///
/// # Safety
/// The CPU must have `K`'s features; `slots` is 1 or `TILE`; `first` is a block's first row.
unsafe fn drive<K: Pass, const TILE: usize, const WIDE: usize>(layout: &Layout, tables: &[f32], slots: usize, mut out: MatMut<'_, f32>, first: usize) {
    let (block_rows, group, bytes) = K::KERNEL.shape();
    let (samples, rows) = (out.nrows(), first..first + out.ncols());
    assert!(first % block_rows == 0 && samples <= slots && tables.len() >= layout.groups * slots << group);
    let (mut block, end) = (rows.start / block_rows, rows.end.div_ceil(block_rows));
    assert!(layout.bits.len() + bytes >= end * layout.groups * bytes + K::READ);
    // SAFETY (every pass): the asserts above bound every read; writes go through `out`.
    if slots == TILE {
        while block + WIDE <= end {
            unsafe { K::pass::<TILE, WIDE>(layout, tables, block, out.as_mut(), &rows) };
            block += WIDE;
        }
        while block < end {
            unsafe { K::pass::<TILE, 1>(layout, tables, block, out.as_mut(), &rows) };
            block += 1;
        }
    } else {
        assert_eq!(slots, 1);
        while block + 4 <= end {
            unsafe { K::pass::<1, 4>(layout, tables, block, out.as_mut(), &rows) };
            block += 4;
        }
        while block < end {
            unsafe { K::pass::<1, 1>(layout, tables, block, out.as_mut(), &rows) };
            block += 1;
        }
    }
}

#[cfg(test)]
mod tests;
