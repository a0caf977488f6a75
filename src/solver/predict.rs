//! From a validated [`Spec`] to the theory's [`Prediction`].

use crate::solver::activation::Gep;
use crate::solver::gep::layer_coefficients;
use crate::spec::{Mirror, Spec};
use crate::solver::entropic::{self, Problem, Teacher, TopError};
use crate::solver::nonodd::{self, MixedLayer, OffsetLaw};
use crate::solver::squared::{self, Input, Layer, Ratio, Signal, SolveError};
use serde::Serialize;

/// The asymptotic test error of a spec, with the numbers behind it.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// `E_x[(phi_L(x)^T a_hat - f*(x))^2]` in the proportional limit, `f* = phi_k^T a*` the
    /// noiseless target.
    pub excess_risk: f64,
    /// `excess_risk + noise_std^2`.
    pub test_error: f64,
    pub bias: f64,
    pub variance: f64,
    /// The part of the excess that no linear function of `phi_L` can represent,
    /// `min_b E(f* - phi_L^T b)^2` (0 for a last-layer teacher; equations/teacher.md (T4)).
    pub approximation_error: f64,
    /// Per-layer Gaussian-equivalence coefficients, layer 1 first (for a non-odd activation,
    /// `rho1^2` and `rho2^2` averaged over the layer's unit law).
    pub gep: Vec<Gep>,
    /// For a non-odd activation, each layer's law of unit offsets (equations/nonodd.md (N1));
    /// absent for odd activations, whose features are centred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offsets: Option<Vec<OffsetLaw>>,
    /// The last layer's scalar problem; `None` (JSON null) where it is not derived: with a
    /// ridge, a teacher below the last layer, or least squares.
    pub top: Option<TopReport>,
    pub solver: SolverReport,
    /// A known limit of the theory that applies to this spec (equations/nonodd.md §7a); absent
    /// where none is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<&'static str>,
}

/// What the solver did: unknowns at the returned point and the residual of every equation.
#[derive(Clone, Debug, Serialize)]
pub struct SolverReport {
    /// Where the system is derived.
    pub equations: &'static str,
    pub unknowns: Vec<Named>,
    pub residuals: Vec<Named>,
    pub max_residual: f64,
    pub iterations: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Named {
    pub name: String,
    pub value: f64,
}

/// The last layer's scalar denoising problem (equations/entropic.md §6): the
/// interpolator's entries behave like `P_eta(a + s G)`. Solved for the entropic
/// map; explicit for the squared map (`eta = d_L/n - 1`, entropic.md §9).
#[derive(Clone, Debug, Serialize)]
pub struct TopReport {
    pub eta: f64,
    pub s: f64,
    /// `Q = n kappa / (d_L - n)`.
    pub q: f64,
    /// `D = ||a_hat - a*||^2` in the limit; `excess_risk = Q D + noise amplified below`.
    pub distance: f64,
    /// Positive interpolators exist only for `d_L/n` above this (entropic map; absent when any `d_L > n` works).
    pub feasible_above_ratio: Option<f64>,
    /// Relative change of the risk when the quadrature grid is refined (entropic map).
    pub quadrature_error: Option<f64>,
}

/// Why a valid spec has no prediction.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error("features.activation: `{0}` is not odd, so the features are not centred: {1}")]
    NotOdd(crate::Activation, &'static str),
    #[error("layer {layer}: rho1 = {rho1} carries no signal through the layer; the theory needs rho1 > 0")]
    NoSignal { layer: usize, rho1: f64 },
    #[error("data.source = {0}: real data is outside the asymptotic theory (it assumes a law of inputs and a teacher); rfrisk simulate and gap measure it")]
    RealData(validation::model::InputSource),
    #[error("training.task = classification: the theory predicts a regression's squared risk, not a classifier's accuracy; rfrisk simulate and gap measure it")]
    Classification,
    #[error(
        "data.source = {0}: the theory assumes Gaussian inputs (or i.i.d. bounded coordinates: rademacher); \
         t inputs are simulated only (rfrisk simulate, gap); data.source = gaussian gives the Gaussian-input theory"
    )]
    NotGaussianInputs(validation::model::InputSource),
    #[error("{0}")]
    Solve(#[from] SolveError),
    #[error("{0}")]
    Top(#[from] TopError),
    #[error("the risk is infinite: {0}")]
    InfiniteRisk(String),
    #[error("the solver returned a non-finite {quantity} ({value}); refusing to report it")]
    NonFinite { quantity: &'static str, value: f64 },
    #[error("the solver returned a negative {quantity} ({value:e}), below what rounding explains ({slop:e}); refusing to report it")]
    Negative { quantity: &'static str, value: f64, slop: f64 },
}

/// The layers as the CGMT system sees them: GEP coefficients and aspect ratios
/// `gamma_l = d_l / d_{l-1}`.
pub fn system_layers(spec: &Spec, geps: &[Gep]) -> Vec<Layer> {
    let dims: Vec<usize> = std::iter::once(spec.dim).chain(spec.widths.iter().copied()).collect();
    geps.iter()
        .zip(dims.windows(2))
        .map(|(g, d)| Layer { rho1: g.rho1, rho2: g.rho2, aspect: d[1] as f64 / d[0] as f64 })
        .collect()
}

/// The scaled teacher and start of the last layer's problem (entropic.md §1).
pub fn top_problem<'a>(spec: &Spec, layers: &'a [Layer], noise_var: f64) -> Problem<'a> {
    Problem {
        layers,
        ratio: Ratio::of_counts(spec.samples, spec.last_width()),
        teacher: Teacher { prior: spec.prior, r: spec.norm2.sqrt() },
        start: spec.init * (spec.last_width() as f64).sqrt(),
        noise_var,
    }
}

/// The layers with their unit laws (equations/nonodd.md): one law per layer for odd
/// activations (today's coefficients), a law over the quenched offsets from layer 2 on for
/// the others; with the per-layer coefficients averaged over it and the offset laws.
pub fn mixed_layers(spec: &Spec) -> (Vec<MixedLayer>, Vec<Gep>, Option<Vec<OffsetLaw>>) {
    let dims: Vec<usize> = std::iter::once(spec.dim).chain(spec.widths.iter().copied()).collect();
    let aspects = dims.windows(2).map(|d| d[1] as f64 / d[0] as f64);
    if spec.activation.is_odd() {
        let gep = layer_coefficients(spec.activation, spec.depth());
        let layers = gep
            .iter()
            .zip(aspects)
            .map(|(g, aspect)| MixedLayer { aspect, units: vec![nonodd::Unit { weight: 1.0, r1: g.rho1 * g.rho1, r2: g.rho2 * g.rho2, mean: 0.0, coupling: 0.0 }], offset_var: 0.0 })
            .collect();
        return (layers, gep, None);
    }
    let fold = nonodd::fold(spec.activation, spec.depth());
    let gep = fold.iter().map(|(law, _)| Gep { v_in: law.v_in, rho1: law.mean_r1.sqrt(), rho2: law.mean_r2.sqrt(), v_out: law.v_out }).collect();
    let laws = fold.iter().map(|(law, _)| *law).collect();
    let layers = fold.into_iter().zip(aspects).map(|((law, units), aspect)| MixedLayer { aspect, units, offset_var: law.offset_var }).collect();
    (layers, gep, Some(laws))
}

/// Predicts the asymptotic excess risk and test error of `spec`.
pub fn predict(spec: &Spec) -> Result<Prediction, PredictError> {
    use validation::model::InputSource;
    if spec.source.is_real() {
        return Err(PredictError::RealData(spec.source));
    }
    if spec.task == validation::model::Task::Classification {
        return Err(PredictError::Classification);
    }
    if matches!(spec.source, InputSource::StudentT { .. } | InputSource::EllipticalT { .. }) {
        return Err(PredictError::NotGaussianInputs(spec.source));
    }
    if matches!(spec.mirror, Mirror::PNorm { .. }) && spec.norm2 == 0.0 && spec.init == 0.0 && spec.noise_std == 0.0 {
        // Zero labels and a zero start: every map's interpolator is a_0 = 0, the squared map's
        // among them; its system answers (risk 0) where the p-norm one degenerates (s = 0).
        return predict(&Spec { mirror: Mirror::Squared, ..spec.clone() });
    }
    let route = if spec.activation.is_odd() { None } else { Some(nonodd_route(spec).map_err(|why| PredictError::NotOdd(spec.activation, why))?) };
    if route == Some(NonOddRoute::TopSystem) && spec.depth() == 1 && spec.init != 0.0 && spec.mirror != Mirror::Entropic {
        // One layer: every unit's feature has the same mean, so a constant start lies along the mean
        // spike, and the tilt that keeps the mass takes any start to the same effective one
        // (equations/nonodd.md §5): the answer is the zero start's, without the tilt's cancellation
        // when the start is far from the teacher's scale.
        return predict(&Spec { init: 0.0, ..spec.clone() });
    }
    let (mixed, gep, offsets) = mixed_layers(spec);
    if let Some((i, g)) = gep.iter().enumerate().find(|(_, g)| !(g.rho1 > 0.0)) {
        return Err(PredictError::NoSignal { layer: i + 1, rho1: g.rho1 });
    }
    let layers = system_layers(spec, &gep);
    let noise_var = spec.noise_std * spec.noise_std;
    let depth = spec.depth();
    let mut approximation_error = 0.0;
    let mean_top = route == Some(NonOddRoute::TopSystem);
    // `slop`: how far below zero the variance may fall by rounding alone (it is a
    // difference of two computed numbers); it is then reported as 0.
    let (solution, bias, variance, slop, top, extra_unknowns, extra_residuals, top_iterations) = match spec.mirror {
        _ if mean_top => unit_law_map(mirror_map(spec.mirror).as_ref(), spec, &mixed, noise_var)?,
        Mirror::Squared => {
            let s = predict_squared(spec, &mixed, noise_var)?;
            approximation_error = s.approximation_error;
            (s.solution, s.bias, s.variance, s.slop, s.top, vec![], vec![], 0)
        }
        Mirror::Entropic | Mirror::PNorm { .. } => general_map(mirror_map(spec.mirror).as_ref(), spec, &layers, noise_var)?,
    };
    let variance = if (-slop..0.0).contains(&variance) { 0.0 } else { variance };
    let excess_risk = bias + variance;
    for (quantity, value) in [("bias", bias), ("variance", variance), ("excess risk", excess_risk)] {
        if !value.is_finite() {
            return Err(PredictError::NonFinite { quantity, value });
        }
        // The entropic risk need not grow with the noise: its variance, the difference of two
        // solves, can be negative (seen at n/d_L ~ 1e-3 with a start far below the teacher's
        // scale, and reproduced by the Python reference). The squared map's cannot.
        let may_be_negative = quantity == "variance" && spec.mirror != Mirror::Squared;
        if value < 0.0 && !may_be_negative {
            return Err(PredictError::Negative { quantity, value, slop });
        }
    }
    let unknowns: Vec<Named> = solution
        .chain
        .log_shifts
        .iter()
        .enumerate()
        .map(|(i, &log_value)| {
            let name = if i == depth { "kappa".to_string() } else { format!("u_{}", i + 1) };
            // Deep sign networks drive u_1 past the floating-point range: report its logarithm.
            let value = log_value.exp();
            if value.is_finite() && value > 0.0 { Named { name, value } } else { Named { name: format!("ln {name}"), value: log_value } }
        })
        .chain(extra_unknowns)
        .collect();
    let residuals: Vec<Named> = solution
        .residuals
        .iter()
        .enumerate()
        .map(|(i, &value)| Named { name: format!("E_{i}"), value })
        .chain(extra_residuals)
        .collect();
    let max_residual = residuals.iter().fold(0.0f64, |m, r| m.max(r.value.abs()));
    let caveat = (mean_top && depth >= 2 && (start_or_prior_mean(spec) || spec.mirror == Mirror::Entropic)).then_some(SECOND_ORDER_CAVEAT);
    Ok(Prediction {
        excess_risk,
        test_error: excess_risk + noise_var,
        bias,
        variance,
        approximation_error,
        gep,
        offsets,
        top,
        caveat,
        solver: SolverReport {
            equations: match spec.mirror {
                _ if mean_top => "equations/nonodd.md §5",
                Mirror::Squared if spec.teacher_depth.is_some() || !spec.spectrum.is_identity() || spec.samples >= spec.last_width() => {
                    "equations/teacher.md"
                }
                Mirror::Squared if spec.ridge > 0.0 => "equations/squared.md §6a",
                Mirror::Squared => "equations/squared.md",
                Mirror::Entropic => "equations/entropic.md",
                Mirror::PNorm { .. } => "equations/pnorm.md",
            },
            unknowns,
            residuals,
            max_residual,
            iterations: solution.iterations + top_iterations,
        },
    })
}

/// What the general-mirror-map system gives [`predict`]: the layers, bias, variance, their
/// rounding slop, the top report, and the top unknowns, residuals and iterations.
type GeneralOutcome = (squared::Solution, f64, f64, f64, Option<TopReport>, Vec<Named>, Vec<Named>, u64);

/// The entropic or p-norm map: the squared chain plus the top problem (equations/entropic.md).
fn general_map(map: &dyn crate::solver::mirror::MirrorMap, spec: &Spec, layers: &[Layer], noise_var: f64) -> Result<GeneralOutcome, PredictError> {
    let (with_noise, solution) = entropic::solve(map, &top_problem(spec, layers, noise_var))?;
    // The bias is the noise-free risk (for the squared map this is the usual
    // split, the risk being affine in sigma^2); the variance is what noise adds.
    let (bias, bias_error) = if noise_var == 0.0 {
        (with_noise.excess_risk, with_noise.quadrature_error)
    } else if spec.norm2 == 0.0 && spec.init == 0.0 && !map.positive_domain() {
        // No teacher and a zero start: without noise the labels are 0 and a_0 = 0 interpolates
        // them, so the bias is exactly 0 (the top problem degenerates to s = 0 there).
        (0.0, 0.0)
    } else {
        let noise_free = entropic::solve(map, &top_problem(spec, layers, 0.0))?.0;
        (noise_free.excess_risk, noise_free.quadrature_error)
    };
    let slop = with_noise.quadrature_error * with_noise.excess_risk + bias_error * bias;
    let top = TopReport {
        eta: with_noise.eta,
        s: with_noise.s,
        q: with_noise.q,
        distance: with_noise.distance,
        feasible_above_ratio: with_noise.boundary,
        quadrature_error: Some(with_noise.quadrature_error),
    };
    let unknowns = vec![Named { name: "eta".into(), value: with_noise.eta }, Named { name: "s".into(), value: with_noise.s }];
    let residuals = vec![Named { name: "T1".into(), value: with_noise.residuals[0] }, Named { name: "T2".into(), value: with_noise.residuals[1] }];
    Ok((solution, bias, with_noise.excess_risk - bias, slop, Some(top), unknowns, residuals, with_noise.iterations))
}

/// The separable map of a spec's `training.mirror`.
fn mirror_map(mirror: Mirror) -> Box<dyn crate::solver::mirror::MirrorMap> {
    use crate::solver::mirror::{Entropic, PNorm, Squared};
    match mirror {
        Mirror::Squared => Box::new(Squared),
        Mirror::Entropic => Box::new(Entropic),
        Mirror::PNorm { q } => Box::new(PNorm { q }),
    }
}

/// What `predict` says of a mean part from two layers on: Gaussian equivalence leaves out the
/// top layer's second Hermite terms, which reach the mean directions (equations/nonodd.md §7a).
pub const SECOND_ORDER_CAVEAT: &str = "with a mean part (a half-normal teacher, a start or the entropic map's mass) from two layers on, Gaussian \
     equivalence leaves out second-order terms along the mean directions, which do not vanish with size. Measured for the squared map at L = 2, \
     the real model sits about 2% (ReLU, a half-normal teacher) to 4% (ReLU or leaky ReLU with a start) below this, within 1% for sigmoid, GELU, \
     softplus and ReLU at L = 3; not measured for the other maps. For ReLU at L = 2 with the squared map, the limit with these terms is 2.0% \
     lower for a half-normal teacher (equations/nonodd.md §7a)";

/// Which part of the mean-corrected theory (equations/nonodd.md) answers a non-odd spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NonOddRoute {
    /// §4's chain: the squared map from a centred teacher and a zero start.
    Chain,
    /// §5's top system: a mean along 1 (a teacher's or a start's) or a map other than the squared one.
    TopSystem,
}

/// A teacher's or a start's mean along 1 (the entropic map's mass is another mean part).
fn start_or_prior_mean(spec: &Spec) -> bool {
    spec.prior_mean_entry() != 0.0 || spec.init != 0.0
}

/// The route of a non-odd spec, or why the theory does not answer it (`predict` exits 3 with
/// the reason; `gap`'s checklist says the same).
pub fn nonodd_route(spec: &Spec) -> Result<NonOddRoute, &'static str> {
    if spec.depth() > nonodd::MAX_POLISHED_DEPTH {
        return Err("the mean-corrected solver takes at most 40 layers (its variance shrinks geometrically with depth, and its Newton polish is dense; equations/nonodd.md §4)");
    }
    if spec.mirror == Mirror::Squared && !start_or_prior_mean(spec) {
        return Ok(NonOddRoute::Chain);
    }
    // A signed teacher under the spike: where every unit's mean is positive the entropic map has no
    // positive interpolator (TopError::NoMass); from two layers on some units of GELU or leaky ReLU
    // have negative means, the spike no longer rules one out, and the top system is not solved for it.
    if spec.mirror == Mirror::Entropic && spec.prior_mean_entry() == 0.0 && spec.depth() >= 2 {
        let (_, top_units) = nonodd::fold(spec.activation, spec.depth()).pop().expect("depth >= 2");
        if top_units.iter().any(|u| u.mean <= 0.0) {
            return Err("the entropic map with a signed teacher: from two layers on some units of this activation have a negative mean, so the \
                 mean spike does not rule out a positive interpolator, and the top system is not solved for that case (equations/nonodd.md §5)");
        }
    }
    if spec.depth() > crate::solver::nonodd_top::MAX_DEPTH {
        return Err("with a mean along 1 (a half-normal teacher or a start) or a map other than the squared one, the mean-corrected top system is solved \
             for at most 6 layers (equations/nonodd.md §5)");
    }
    if spec.teacher_depth() != spec.depth() || spec.ridge > 0.0 || spec.samples >= spec.last_width() || !spec.spectrum.is_identity() {
        return Err("with a mean along 1 (a half-normal teacher or a start) or a map other than the squared one, the mean-corrected theory is derived \
             for a last-layer teacher, no ridge, n < d_L and isotropic inputs (equations/nonodd.md §5)");
    }
    Ok(NonOddRoute::TopSystem)
}

/// A non-odd network's top problem for any map (equations/nonodd.md §5): the chain below
/// reaches `u_L`, and the top unknowns are `beta, u_L, X, Y, lambda` (and `lambda2` from two layers on).
fn unit_law_map(map: &dyn crate::solver::mirror::MirrorMap, spec: &Spec, layers: &[MixedLayer], noise_var: f64) -> Result<GeneralOutcome, PredictError> {
    use crate::solver::nonodd_top::{self, MeanTop};
    let input = Input::Isotropic;
    let problem = |noise_var| MeanTop {
        input: &input,
        layers,
        ratio: Ratio::of_counts(spec.samples, spec.last_width()),
        teacher: Teacher { prior: spec.prior, r: spec.norm2.sqrt() },
        start: spec.init * (spec.last_width() as f64).sqrt(),
        noise_var,
        coupling: 1.0,
    };
    let with_noise = nonodd_top::solve(map, &problem(noise_var))?;
    // No teacher and a zero start: without noise the labels are 0 and a_0 = 0 interpolates them.
    let (bias, bias_error) = if noise_var == 0.0 {
        (with_noise.excess_risk, with_noise.quadrature_error)
    } else if spec.norm2 == 0.0 && spec.init == 0.0 {
        (0.0, 0.0)
    } else {
        let noise_free = nonodd_top::solve(map, &problem(0.0))?;
        (noise_free.excess_risk, noise_free.quadrature_error)
    };
    // Each of the two Newton solves is accepted with residuals up to MAX_RESIDUAL (through a deep
    // chain with bottlenecks they stop near 1e-12), so their risks agree only to about that share:
    // a variance below it is rounding too (seen: -6e-13 of a risk 0.19 at L = 6).
    let slop = with_noise.quadrature_error * with_noise.excess_risk + bias_error * bias + entropic::MAX_RESIDUAL * (with_noise.excess_risk.abs() + bias.abs());
    let depth = spec.depth();
    let below_residuals = if depth == 1 { vec![] } else { layer_residuals(&input, &layers[..depth - 1], &with_noise.below) };
    let top = TopReport {
        eta: with_noise.eta,
        s: with_noise.s,
        q: with_noise.q,
        distance: with_noise.distance,
        feasible_above_ratio: with_noise.boundary,
        quadrature_error: Some(with_noise.quadrature_error),
    };
    let [log_beta, _, log_x, log_y, lambda, lambda2] = with_noise.point;
    let mut unknowns = vec![
        Named { name: "beta".into(), value: log_beta.exp() },
        Named { name: "X".into(), value: log_x.exp() },
        Named { name: "Y".into(), value: log_y.exp() },
        Named { name: "lambda".into(), value: lambda },
    ];
    if depth >= 2 {
        unknowns.push(Named { name: "lambda2".into(), value: lambda2 });
    }
    // The layer equations below (E_1..E_{L-1}), then the top's.
    let top_names: &[&str] = if depth >= 2 { &["N4a", "N4b", "N4c", "N4d", "N4e", "N4f"] } else { &["N4a", "N4b", "N4c", "N4d", "N4e"] };
    let names = (1..depth).map(|l| format!("E_{l}")).chain(top_names.iter().map(|n| n.to_string()));
    let residuals = names.zip(below_residuals.into_iter().chain(with_noise.residuals)).map(|(name, value)| Named { name, value }).collect();
    let solution = squared::Solution { chain: with_noise.below.clone(), residuals: vec![], iterations: 0 };
    Ok((solution, bias, with_noise.excess_risk - bias, slop, Some(top), unknowns, residuals, with_noise.iterations))
}

/// What the squared map's solve gives [`predict`].
struct SquaredOutcome {
    solution: squared::Solution,
    bias: f64,
    variance: f64,
    slop: f64,
    approximation_error: f64,
    top: Option<TopReport>,
}

/// The squared map for any teacher layer, input spectrum, ridge and `n` (equations/teacher.md).
fn predict_squared(spec: &Spec, layers: &[MixedLayer], noise_var: f64) -> Result<SquaredOutcome, PredictError> {
    let input = Input::of_levels(spec.spectrum.levels(spec.dim));
    let (n, p) = (spec.samples, spec.last_width());
    let (k, depth) = (spec.teacher_depth(), spec.depth());
    let signal = if k == depth { Signal::top(k, spec.effective_norm2()) } else { Signal { depth: k, norm2: spec.norm2, start_norm2: spec.start_norm2() } };
    // kappa -> 0: what a teacher below the top leaves that no linear function of phi_L fits.
    let at_zero = || {
        nonodd::chain_at(&input, layers, squared::vanishing_shift(&[layers.last().expect("at least one layer").averaged()]))
            .ok_or(PredictError::Solve(SolveError::NoBracket { ratio: 0.0 }))
    };
    let zero_chain = if k < depth { Some(at_zero()?) } else { None };
    let unexplained_at_zero = zero_chain.as_ref().map_or(0.0, |c| c.unexplained(k));
    let approximation_error = spec.norm2 * unexplained_at_zero;
    if spec.ridge == 0.0 && n >= p {
        if n == p && (noise_var > 0.0 || approximation_error > 0.0) {
            let why = if noise_var > 0.0 { "label noise" } else { "a target that the features cannot represent (the teacher is below the last layer)" };
            return Err(PredictError::InfiniteRisk(format!(
                "n = d_L = {n} without a ridge: least squares on a square system amplifies {why} without bound; \
                 change training.samples or set training.ridge > 0"
            )));
        }
        let (bias, variance) = if n == p { (0.0, 0.0) } else { squared::least_squares_risk(n, p, signal, unexplained_at_zero, noise_var) };
        // The chain at kappa -> 0 (a teacher below the top) or just the layer equations'
        // bookkeeping of the input (a last-layer teacher needs no chain).
        let chain = match zero_chain {
            Some(c) => c,
            None => squared::Chain { log_shifts: vec![], traces: vec![], gains: vec![] },
        };
        let residuals = if chain.log_shifts.is_empty() { vec![] } else { layer_residuals(&input, layers, &chain) };
        let solution = squared::Solution { chain, residuals, iterations: 0 };
        return Ok(SquaredOutcome { solution, bias, variance, slop: 0.0, approximation_error, top: None });
    }
    let ratio = Ratio { delta: n as f64 / p as f64, slack: (p as f64 - n as f64) / p as f64 };
    let solution = nonodd::solve(&input, layers, ratio, spec.ridge)?;
    let (bias, variance) = squared::risk_of(&solution.chain, ratio, spec.ridge, signal, noise_var);
    let room = if spec.ridge == 0.0 { 0.0 } else { ratio.delta * spec.ridge / solution.chain.kappa() } + solution.chain.kappa_a();
    // variance = sigma^2 (tau_L - kappa A)/room: the difference carries eps tau_L.
    let slop = 16.0 * f64::EPSILON * noise_var * solution.chain.top().tau / room;
    let top = (spec.ridge == 0.0 && k == depth).then(|| squared_top(&solution, Ratio::of_counts(n, p), spec.effective_norm2(), noise_var));
    Ok(SquaredOutcome { solution, bias, variance, slop, approximation_error, top })
}

/// The layer equations `E_1..E_L` at a chain whose top shift was given (no `E_0`).
fn layer_residuals(input: &Input, layers: &[MixedLayer], chain: &squared::Chain) -> Vec<f64> {
    let any_ratio = Ratio::new(0.5);
    match layers.iter().map(MixedLayer::uniform).collect::<Option<Vec<Layer>>>() {
        Some(uniform) => squared::residuals_with(input, &uniform, any_ratio, 0.0, &chain.log_shifts)[1..].to_vec(),
        None => nonodd::residuals(input, layers, any_ratio, 0.0, chain)[1..].to_vec(),
    }
}


/// The squared map's top problem in closed form (entropic.md §9): `eta = 1/delta - 1`,
/// `delta (1 - delta) s^2 = (1 - delta)^2 r_eff^2 + sigma^2/Q`, `D = delta^2 s^2 + (1 - delta)^2 r_eff^2`.
fn squared_top(solution: &squared::Solution, ratio: Ratio, reff2: f64, noise_var: f64) -> TopReport {
    let Ratio { delta: ratio, slack } = ratio;
    let q = ratio * solution.chain.kappa() / slack;
    let s2 = (slack.powi(2) * reff2 + noise_var / q) / (ratio * slack);
    TopReport {
        eta: slack / ratio,
        s: s2.sqrt(),
        q,
        distance: ratio * ratio * s2 + slack.powi(2) * reff2,
        feasible_above_ratio: None,
        quadrature_error: None,
    }
}
