//! Finite-size routes the tests check the solver against: not the prediction.
//! A realized covariance of the GEP Gaussian model with drawn weights, and the
//! deterministic equivalent of ridgeless least squares for that covariance
//! (equations/model.md §4.2–4.3).

pub mod det_equiv;
pub mod realized;
