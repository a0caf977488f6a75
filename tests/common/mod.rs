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

/// The same spec with every size multiplied by `num/den` (which must divide them).
pub fn resized(spec: &Spec, num: usize, den: usize) -> Spec {
    let scale = |d: usize| {
        assert_eq!(d * num % den, 0, "{d} * {num}/{den} is not an integer");
        d * num / den
    };
    Spec { dim: scale(spec.dim), widths: spec.widths.iter().map(|&w| scale(w)).collect(), samples: scale(spec.samples), ..spec.clone() }
}

pub fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}
