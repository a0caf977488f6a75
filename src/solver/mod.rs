//! The asymptotic prediction: everything `rfrisk predict` needs, and nothing else.
//! Each file implements one derivation of `equations/`:
//!
//! | file | what | derivation |
//! |---|---|---|
//! | `activation.rs` | the activations and their Gaussian-equivalence coefficients | equations/gep.md |
//! | `quadrature.rs` | one-dimensional Gaussian expectations, two independent rules | equations/gep.md §6 |
//! | `gep.rs` | the per-layer coefficients of a deep model, a fold over depth | equations/gep.md §7 |
//! | `squared.rs` | the squared map (SGD): the L + 1 scalar equations and their solution | equations/squared.md |
//! | `nonodd.rs` | the mean-corrected chain for non-odd activations: quenched unit offsets, expectations over their law | equations/nonodd.md |
//! | `nonodd_top.rs` | the last layer of a non-odd network for any mirror map: the mean spike's constraint and the unit law | equations/nonodd.md §5 |
//! | `mirror.rs` | separable mirror maps as the last layer's CGMT sees them (prox, Bregman divergence) | equations/entropic.md §3 |
//! | `entropic.rs` | the general-map top problem (eta, s) on the squared layer chain | equations/entropic.md |
//! | `predict.rs` | from a validated spec to the prediction, with its residuals | equations/model.md |

pub mod activation;
pub mod entropic;
pub mod gep;
pub mod mirror;
pub mod nonodd;
pub mod nonodd_top;
pub mod predict;
pub mod quadrature;
pub mod squared;

pub use predict::{predict, PredictError, Prediction};
