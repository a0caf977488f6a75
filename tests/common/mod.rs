//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rfrisk::spec::{Spec, SpecDoc};

/// A spec from the defaults plus `key=value` assignments.
pub fn spec(assignments: &[&str]) -> Spec {
    let mut doc = SpecDoc::default();
    for a in assignments {
        doc.set(a).unwrap_or_else(|e| panic!("{a}: {e}"));
    }
    doc.to_spec().unwrap_or_else(|e| panic!("{assignments:?}: {e}"))
}

/// The same spec with every size multiplied by `factor`.
pub fn scaled(spec: &Spec, factor: usize) -> Spec {
    Spec {
        dim: spec.dim * factor,
        widths: spec.widths.iter().map(|w| w * factor).collect(),
        samples: spec.samples * factor,
        ..spec.clone()
    }
}

pub fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}
