//! rfrisk: asymptotic test error of deep random-features models whose hidden
//! weights are Gaussian or one-bit, trained in the last layer by stochastic
//! mirror descent (arXiv 2510.16250). See README.md and equations/.
//!
//! - [`solver`]: the asymptotic prediction (each file maps to a derivation in equations/);
//! - [`finite_size`]: the finite-size routes the tests check it against;
//! - [`study`]: the commands that run many predictions or the simulator (validation/);
//! - [`figures`]: figure data and drawing;
//! - [`spec`], [`report`], [`output`]: the input, the printed tables, atomic writes.
//!
//! The modules are re-exported at the top (`rfrisk::squared`, `rfrisk::simulate`, …), so
//! that every public path stays short.

// `!(x > 0.0)` is deliberate throughout: NaN must fail every check that guards a number.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod figures;
pub mod finite_size;
pub mod output;
pub mod report;
pub mod solver;
pub mod spec;
pub mod study;

pub use figures::{curve, plot};
pub use finite_size::{det_equiv, realized};
pub use solver::activation::{Activation, GaussianEquivalence, Gep};
pub use solver::{activation, entropic, gep, mirror, nonodd, nonodd_top, predict, quadrature, squared};
pub use solver::{PredictError, Prediction};
pub use spec::{Spec, SpecDoc, SpecError};
pub use study::{bench, gap, reproduce, shard, simulate, sweep, tune, validate};
