//! rfrisk: asymptotic test error of deep random-features models whose hidden
//! weights are Gaussian or one-bit, trained in the last layer by stochastic
//! mirror descent (arXiv 2510.16250). See README.md and equations/.

// `!(x > 0.0)` is deliberate throughout: NaN must fail every check that guards a number.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod activation;
pub mod gep;
pub mod quadrature;
pub mod spec;
pub mod squared;
pub mod mirror;
pub mod entropic;

pub use activation::{Activation, GaussianEquivalence, Gep};
pub use spec::{Spec, SpecDoc, SpecError};
pub mod predict;
pub use predict::{predict, Prediction, PredictError};
pub mod output;
pub mod sweep;
pub mod bench;
pub mod report;
pub mod det_equiv;
pub mod realized;
pub mod simulate;
pub mod curve;
pub mod plot;
pub mod validate;
pub mod reproduce;
pub mod gap;
