//! Figures: the data behind one (`curve`, a CSV of theory and simulation over a key)
//! and its drawing (`plot`, PNG and SVG with the embedded font in `font/`).

pub mod curve;
pub mod plot;
