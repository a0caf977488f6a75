//! The real finite-size random-features model that checks rfrisk's theory:
//! random hidden layers with Gaussian or one-bit weights, the last layer trained
//! to the interpolator its mirror map selects, and the risk on fresh inputs.

// `!(x <= tol)` is deliberate: NaN must fail every check that guards a number.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod backend;
pub mod data;
pub mod draws;
pub mod model;
pub mod packed;
pub mod train;
pub mod trial;
pub mod weights;

// What the unit tests measured, for the README's table (one copy, shared with the integration tests).
#[cfg(test)]
#[path = "../../tests/common/record.rs"]
mod record;

pub use backend::{opencl, Backend, Cpu, KernelChoice, Layer, OpenCl};
pub use train::{TrainError, Trainer};
pub use trial::{run_trial, TrialError, TrialOutcome};
