//! rfrisk: asymptotic test error of deep random-features models whose hidden
//! weights are Gaussian or one-bit, trained in the last layer by stochastic
//! mirror descent (arXiv 2510.16250). See README.md and equations/.

pub mod activation;
pub mod gep;
pub mod quadrature;
pub mod spec;
pub mod squared;

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
