//! The commands that run many predictions or the simulator: `sweep` (the theory over a
//! key), `simulate` (trials of the real model), `validate` (theory and simulation in
//! one figure), `gap` (does a weight law cost anything?), `reproduce` (the committed
//! figures), `tune` (the ridge of least predicted error) and `bench` (how fast, against a
//! baseline in the same process).

pub mod bench;
pub mod gap;
pub mod reproduce;
pub mod shard;
pub mod simulate;
pub mod sweep;
pub mod tune;
pub mod validate;
