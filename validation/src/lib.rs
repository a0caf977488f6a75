//! The real finite-size random-features model that checks rfrisk's theory:
//! random hidden layers with Gaussian or one-bit weights, the last layer trained
//! to the interpolator its mirror map selects, and the risk on fresh inputs.

pub mod backend;
pub mod draws;
pub mod model;
pub mod opencl;
pub mod train;
pub mod trial;
pub mod weights;

pub use backend::{Backend, Cpu};
pub use opencl::OpenCl;
pub use train::Trainer;
pub use trial::{run_trial, TrialError, TrialOutcome};
