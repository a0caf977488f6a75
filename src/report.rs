//! Human-readable tables for `predict` and `gep`.

use crate::solver::activation::Gep;
use crate::solver::predict::Prediction;
use crate::output::readable;
use crate::spec::Spec;
use std::fmt::Write;

/// The GEP coefficients, one row per layer.
pub fn gep_table(gep: &[Gep]) -> String {
    let mut out = String::from("layer        v_in        rho1        rho2       v_out\n");
    for (i, g) in gep.iter().enumerate() {
        writeln!(out, "{:>5} {:>11.8} {:>11.8} {:>11.8} {:>11.8}", i + 1, g.v_in, g.rho1, g.rho2, g.v_out).unwrap();
    }
    out
}

/// Everything `rfrisk predict` knows, for a person.
pub fn prediction_table(spec: &Spec, p: &Prediction) -> String {
    let mut out = String::new();
    writeln!(out, "model     {spec}").unwrap();
    writeln!(out, "ratio     n/d_L = {:.6}", spec.samples as f64 / spec.last_width() as f64).unwrap();
    writeln!(out).unwrap();
    writeln!(out, "test error   {:.10}   (excess risk + noise_std^2)", p.test_error).unwrap();
    writeln!(out, "excess risk  {:.10}", p.excess_risk).unwrap();
    writeln!(out, "  bias       {:.10}   (the noise-free risk)", p.bias).unwrap();
    writeln!(out, "  variance   {:.10}   (what the label noise adds)", p.variance).unwrap();
    writeln!(out).unwrap();
    let t = &p.top;
    writeln!(out, "last layer as a scalar denoising problem (equations/entropic.md §6)").unwrap();
    writeln!(out, "  eta        {:.10}   prox step", t.eta).unwrap();
    writeln!(out, "  s          {:.10}   effective noise level", t.s).unwrap();
    writeln!(out, "  Q          {:.10}   excess risk per unit ||a_hat - a*||^2", t.q).unwrap();
    writeln!(out, "  D          {:.10}   ||a_hat - a*||^2", t.distance).unwrap();
    if let Some(ratio) = t.feasible_above_ratio {
        writeln!(out, "  positive interpolators exist for d_L/n > {ratio:.6} (this spec: {:.6})", spec.last_width() as f64 / spec.samples as f64)
            .unwrap();
    }
    if let Some(e) = t.quadrature_error {
        writeln!(out, "  quadrature error estimate {} (relative, grid refined twofold)", readable(e, 2)).unwrap();
    }
    writeln!(out).unwrap();
    writeln!(out, "Gaussian-equivalence coefficients (equations/gep.md)").unwrap();
    out.push_str(&gep_table(&p.gep));
    writeln!(out).unwrap();
    let s = &p.solver;
    writeln!(
        out,
        "solver ({}): {} unknowns, {} iterations, max residual {}",
        s.equations,
        s.unknowns.len(),
        s.iterations,
        readable(s.max_residual, 2)
    )
    .unwrap();
    for (u, r) in s.unknowns.iter().zip(&s.residuals) {
        writeln!(out, "  {:<7} {:>22}    {} residual {:>9}", u.name, readable(u.value, 16), r.name, readable(r.value, 2)).unwrap();
    }
    out
}

/// `rfrisk predict --format json`: the prediction's fields at the top level, the spec beside them.
#[derive(serde::Serialize)]
pub struct PredictionJson<'a> {
    #[serde(flatten)]
    pub prediction: &'a Prediction,
    pub spec: &'a Spec,
}
