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

/// A non-odd activation's layers (equations/nonodd.md (N1)): the offset law each layer's
/// units see and the coefficients averaged over it.
pub fn offset_table(laws: &[crate::solver::nonodd::OffsetLaw]) -> String {
    let mut out = String::from("layer        v_in   offset var   E rho1^2   E rho2^2       v_out   mean^2 out\n");
    for (i, l) in laws.iter().enumerate() {
        writeln!(
            out,
            "{:>5} {:>11.8} {:>12.8} {:>10.8} {:>10.8} {:>11.8} {:>12.8}",
            i + 1,
            l.v_in,
            l.offset_var,
            l.mean_r1,
            l.mean_r2,
            l.v_out,
            l.mean_square_out
        )
        .unwrap();
    }
    out.push_str("(units of layer l see offsets b ~ N(0, offset var): their coefficients rho1(b), rho2(b) vary; equations/nonodd.md)\n");
    out
}

/// The keys of a labelled data set, which a regression's `predict` does not list as defaulted.
const REAL_DATA_KEYS: [&str; 8] = ["data.path", "data.labels", "data.label", "data.test_path", "data.test_labels", "data.test_fraction", "data.preprocess", "training.task"];

/// The value a spec key has in `spec`, as a spec file would write it.
pub fn key_value(spec: &Spec, key: &str) -> String {
    let n_over_d = spec.samples as f64 / spec.last_width() as f64;
    match key {
        "data.dim" => spec.dim.to_string(),
        "data.spectrum" => spec.spectrum.to_string(),
        "data.source" => spec.source.to_string(),
        "data.path" => spec.data_path.as_ref().map_or(String::new(), |p| p.display().to_string()),
        "data.labels" => spec.data_layout.labels.as_ref().map_or(String::new(), |p| p.display().to_string()),
        "data.label" => spec.data_layout.label.clone(),
        "data.test_path" => spec.data_layout.test_path.as_ref().map_or(String::new(), |p| p.display().to_string()),
        "data.test_labels" => spec.data_layout.test_labels.as_ref().map_or(String::new(), |p| p.display().to_string()),
        "data.test_fraction" => spec.data_layout.test_fraction.to_string(),
        "data.preprocess" => spec.data_layout.preprocess.to_string(),
        "training.task" => spec.task.to_string(),
        "teacher.depth" => spec.teacher_depth().to_string(),
        "features.widths" => format!("{:?}", spec.widths),
        "features.depth" => spec.depth().to_string(),
        "features.activation" => spec.activation.to_string(),
        "features.weights" => spec.weights.to_string(),
        "teacher.prior" => spec.prior.to_string(),
        "teacher.norm2" => spec.norm2.to_string(),
        "teacher.noise_std" => spec.noise_std.to_string(),
        "training.samples" => spec.samples.to_string(),
        "training.ratio" => readable(n_over_d, 6),
        "features.overparam" => readable(1.0 / n_over_d, 6),
        "training.mirror" => spec.mirror.to_string(),
        "training.init" => readable(spec.init, 6),
        "training.ridge" => readable(spec.ridge, 6),
        _ => String::new(),
    }
}

/// The keys a person would want to see when they took their default: everything but the
/// alternative ways of writing the widths or the sample count, and the real-data keys
/// (`predict` answers regression on a law of inputs only).
pub fn defaulted(set: &[&str]) -> Vec<&'static str> {
    let shape = ["features.widths", "features.depth", "features.width"];
    crate::spec::KEYS
        .iter()
        .copied()
        .filter(|k| !set.contains(k) && !REAL_DATA_KEYS.contains(k))
        .filter(|k| !(shape.contains(k) && (*k != "features.widths" || set.iter().any(|s| shape.contains(s)))))
        .filter(|k| !(crate::spec::SAMPLE_KEYS.contains(k) && (*k != "training.samples" || set.iter().any(|s| crate::spec::SAMPLE_KEYS.contains(s)))))
        .collect()
}

/// Everything `rfrisk predict` knows, for a person. `set` are the keys the spec (with its
/// overrides) sets; the others are listed with the default they took.
pub fn prediction_table(spec: &Spec, p: &Prediction, set: &[&str]) -> String {
    let mut out = String::new();
    let n_over_d = spec.samples as f64 / spec.last_width() as f64;
    writeln!(out, "model     {spec}").unwrap();
    let defaults: Vec<String> = defaulted(set).iter().map(|k| format!("{k} = {}", key_value(spec, k))).collect();
    if !defaults.is_empty() {
        writeln!(out, "defaults  {}", defaults.join(", ")).unwrap();
    }
    writeln!(out, "ratio     n/d_L = {n_over_d:.6} (d_L/n = {:.6})", 1.0 / n_over_d).unwrap();
    writeln!(out).unwrap();
    writeln!(out, "test error   {:.10}   (excess risk + noise_std^2)", p.test_error).unwrap();
    writeln!(out, "excess risk  {:.10}", p.excess_risk).unwrap();
    writeln!(out, "  bias       {:.10}   (the noise-free risk)", p.bias).unwrap();
    writeln!(out, "  variance   {:.10}   (what the label noise adds)", p.variance).unwrap();
    if spec.teacher_depth() < spec.depth() {
        writeln!(
            out,
            "  approximation error {:.10}   (of the excess: the part of the target no linear function of layer L represents)",
            p.approximation_error
        )
        .unwrap();
    }
    if let Some(caveat) = p.caveat {
        writeln!(out, "  caveat     {caveat}").unwrap();
    }
    writeln!(out).unwrap();
    let Some(t) = &p.top else {
        let why = if spec.ridge > 0.0 {
            "with a ridge"
        } else if spec.samples >= spec.last_width() {
            "for least squares"
        } else {
            "for a teacher below the last layer"
        };
        writeln!(out, "last layer: {why} its scalar problem is not derived (equations/teacher.md)").unwrap();
        return rest(out, p);
    };
    if p.solver.equations.starts_with("equations/nonodd.md") {
        writeln!(out, "last layer as one scalar denoising problem per unit, with the mean spike's constraint (equations/nonodd.md §5; averages over the units)").unwrap();
    } else {
        writeln!(out, "last layer as a scalar denoising problem (equations/entropic.md §6)").unwrap();
    }
    writeln!(out, "  eta        {:.10}   prox step", t.eta).unwrap();
    writeln!(out, "  s          {:.10}   effective noise level", t.s).unwrap();
    writeln!(out, "  Q          {:.10}   excess risk per unit ||a_hat - a*||^2", t.q).unwrap();
    writeln!(out, "  D          {:.10}   ||a_hat - a*||^2", t.distance).unwrap();
    if let Some(ratio) = t.feasible_above_ratio {
        writeln!(out, "  positive interpolators exist for n/d_L < {:.6}, i.e. d_L/n > {ratio:.6} (this spec: n/d_L = {n_over_d:.6})", 1.0 / ratio).unwrap();
    }
    if let Some(e) = t.quadrature_error {
        writeln!(out, "  quadrature error estimate {} (relative, grid refined twofold)", readable(e, 2)).unwrap();
    }
    rest(out, p)
}

/// The GEP coefficients and the solver's unknowns and residuals, after the risk.
fn rest(mut out: String, p: &Prediction) -> String {
    writeln!(out).unwrap();
    writeln!(out, "Gaussian-equivalence coefficients (equations/gep.md)").unwrap();
    match &p.offsets {
        Some(laws) => out.push_str(&offset_table(laws)),
        None => out.push_str(&gep_table(&p.gep)),
    }
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

/// `rfrisk predict --format json`: the prediction's fields at the top level, the spec beside
/// them, nested as a spec file is, so that it reads back as one (`rfrisk predict spec.json`).
#[derive(serde::Serialize)]
pub struct PredictionJson<'a> {
    #[serde(flatten)]
    pub prediction: &'a Prediction,
    pub spec: SpecFile,
}

/// A validated spec in the layout of a spec file, every key explicit.
#[derive(serde::Serialize)]
pub struct SpecFile {
    data: serde_json::Value,
    features: serde_json::Value,
    teacher: serde_json::Value,
    training: serde_json::Value,
}

impl SpecFile {
    pub fn of(spec: &Spec) -> SpecFile {
        use serde_json::json;
        SpecFile {
            data: json!({ "dim": spec.dim, "spectrum": spec.spectrum.to_string(), "source": spec.source.to_string() }),
            features: json!({ "widths": spec.widths, "activation": spec.activation.to_string(), "weights": spec.weights.to_string() }),
            teacher: json!({ "prior": spec.prior.to_string(), "depth": spec.teacher_depth(), "norm2": spec.norm2, "noise_std": spec.noise_std }),
            training: json!({ "samples": spec.samples, "mirror": spec.mirror.to_string(), "init": spec.init, "ridge": spec.ridge }),
        }
    }
}
