//! `rfrisk gap`: does quantizing the hidden weights to a law cost anything for a
//! spec, and how many trials would show it?
//!
//! The theory's answer is that every centred i.i.d. law of variance 1/d has the
//! same limit; the checklist says whether the spec is inside the theory. The
//! measurement pairs the two laws on the same data, teacher and underlying
//! Gaussian draw (`validation::draws`), so the test is a paired t-test on the
//! per-trial differences: the design with more power here, because the two
//! laws' risks are positively correlated.

use crate::study::simulate::{SimulateError, TrialRow};
use crate::spec::{Mirror, Spec, WeightLaw};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

#[derive(Clone, Debug, Serialize)]
pub struct Assumption {
    pub name: &'static str,
    pub holds: bool,
    pub detail: String,
}

/// The theory's conditions, checked for one spec and pair of laws.
pub fn assumptions(spec: &Spec, laws: &[WeightLaw], rows: &[TrialRow]) -> Vec<Assumption> {
    let odd = spec.activation.is_odd();
    // A non-odd activation has the mean-corrected theory (equations/nonodd.md) where `predict` takes it.
    use crate::solver::predict::{nonodd_route, NonOddRoute};
    let route = (!odd).then(|| nonodd_route(spec));
    let mean_corrected = matches!(route, Some(Ok(_)));
    let infeasible = rows.iter().any(|r| r.status == "infeasible");
    let finite_risk = spec.samples != spec.last_width() || spec.ridge > 0.0 || spec.noise_std == 0.0;
    use validation::model::{InputSource, Task};
    let law_of_inputs = matches!(spec.source, InputSource::Gaussian | InputSource::Rademacher);
    vec![
        Assumption {
            name: "inputs covered",
            holds: law_of_inputs,
            detail: match spec.source {
                InputSource::Gaussian | InputSource::Rademacher => format!("{} inputs", spec.source),
                InputSource::FashionMnist | InputSource::File => format!("data.source = {} is real data, outside the asymptotic theory", spec.source),
                other => format!("{other} inputs are heavy-tailed: the theory assumes Gaussian or i.i.d. bounded coordinates"),
            },
        },
        Assumption {
            name: "regression",
            holds: spec.task == Task::Regression,
            detail: match spec.task {
                Task::Regression => "the theory's risk is a regression's squared error".into(),
                Task::Classification => "classification: the theory predicts a regression's squared error, not accuracy; the gap below is in test accuracy".into(),
            },
        },
        Assumption {
            name: "activation covered",
            holds: odd || mean_corrected,
            detail: match (odd, mean_corrected) {
                (true, _) => format!("{} is odd: centred features (equations/gep.md)", spec.activation),
                (false, true) if route == Some(Ok(NonOddRoute::Chain)) => format!("{} is not odd: the mean-corrected theory applies (equations/nonodd.md §4)", spec.activation),
                (false, true) => format!("{} is not odd: the mean-corrected theory with the mean spike's constraint applies (equations/nonodd.md §5)", spec.activation),
                (false, false) => format!("{} is not odd: {}", spec.activation, route.and_then(Result::err).unwrap_or_default()),
            },
        },
        Assumption {
            name: "finite risk",
            holds: finite_risk && (spec.mirror == Mirror::Squared || spec.samples < spec.last_width()),
            detail: format!("n = {}, d_L = {}, ridge {}", spec.samples, spec.last_width(), spec.ridge),
        },
        Assumption {
            name: "centred i.i.d. weights of variance 1/d",
            holds: laws.iter().all(|l| l.has_unit_variance()),
            detail: laws.iter().map(|l| format!("{l}: {}", if l.has_unit_variance() { "yes" } else { "no, variance mismatched" })).collect::<Vec<_>>().join("; "),
        },
        {
            // The theory's verdict (equations/entropic.md §8) beside what the trials met.
            let theory = (spec.mirror == Mirror::Entropic && (odd || mean_corrected)).then(|| crate::solver::predict(spec));
            use crate::solver::entropic::TopError;
            let theory_feasible = !matches!(theory, Some(Err(crate::PredictError::Top(TopError::Infeasible { .. } | TopError::NoMass))));
            let trials = if infeasible { "some trial had no positive interpolator" } else { "every trial had a positive interpolator" };
            Assumption {
                name: "entropic feasibility",
                holds: spec.mirror == Mirror::Squared || (!infeasible && theory_feasible),
                detail: match (spec.mirror, &theory) {
                    (Mirror::Squared, _) => "not needed (squared mirror map)".into(),
                    (_, Some(Err(e))) => format!("theory: {e}; trials: {trials}"),
                    (_, Some(Ok(p))) => match p.top.as_ref().and_then(|t| t.feasible_above_ratio) {
                        Some(b) => format!("theory: feasible for d_L/n > {b:.4} (this spec: {:.4}); trials: {trials}", spec.last_width() as f64 / spec.samples as f64),
                        None => format!("theory: feasible for every d_L > n; trials: {trials}"),
                    },
                    (_, None) => format!("trials: {trials}"),
                },
            }
        },
    ]
}

/// The measured gap `b - a` in excess risk, paired by trial.
#[derive(Clone, Debug, Serialize)]
pub struct Gap {
    /// Mean of the per-trial differences.
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided p-value of the paired t-test of zero mean.
    pub p_value: f64,
    /// `mean` over the mean excess risk of law `a`.
    pub relative: f64,
    /// Cohen's d_z: mean difference over the standard deviation of the differences.
    pub effect_size: f64,
    /// Standard deviation of the per-trial differences.
    pub sd: f64,
    /// Correlation of the two laws' risks across trials (why pairing pays).
    pub correlation: f64,
    pub trials: usize,
    /// Trials needed to detect the report's `detect` relative gap at its power
    /// (filled in by [`report`]; 0 from [`paired_test`] alone).
    pub trials_needed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum GapError {
    #[error("--weights needs exactly two laws, got {0}")]
    NotTwoLaws(usize),
    #[error("--trials must be at least 2 for a paired t-test")]
    TooFewTrials,
    #[error(transparent)]
    Simulate(#[from] SimulateError),
}

/// What the gap compares: a regression's excess risk, or a classifier's test accuracy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    ExcessRisk,
    Accuracy,
}

impl Measure {
    pub fn of(spec: &Spec) -> Measure {
        match spec.task {
            validation::model::Task::Regression => Measure::ExcessRisk,
            validation::model::Task::Classification => Measure::Accuracy,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Measure::ExcessRisk => "excess risk",
            Measure::Accuracy => "test accuracy",
        }
    }

    fn value(self, row: &TrialRow) -> Option<f64> {
        match self {
            Measure::ExcessRisk => row.excess_risk,
            Measure::Accuracy => row.test_error.map(|e| 1.0 - e),
        }
    }

    /// The gap `--detect` names, from its value and law a's mean: relative to the excess
    /// risk, or in accuracy points (0.01: one point).
    fn detectable(self, detect: f64, mean_a: f64) -> f64 {
        match self {
            Measure::ExcessRisk => detect * mean_a,
            Measure::Accuracy => detect,
        }
    }
}

/// Per-trial (a, b) values of `measure`, matched by trial index (trials where both laws have one).
pub fn pairs(rows: &[TrialRow], a: WeightLaw, b: WeightLaw, measure: Measure) -> Vec<(f64, f64)> {
    let (a, b) = (a.to_string(), b.to_string());
    rows.iter()
        .filter(|r| r.weights == a)
        .filter_map(|ra| rows.iter().find(|rb| rb.weights == b && rb.trial == ra.trial).and_then(|rb| Some((measure.value(ra)?, measure.value(rb)?))))
        .collect()
}

/// The paired t-test at level `alpha` (two-sided).
pub fn paired_test(pairs: &[(f64, f64)], alpha: f64) -> Gap {
    let n = pairs.len();
    let nf = n as f64;
    let diffs: Vec<f64> = pairs.iter().map(|(a, b)| b - a).collect();
    let mean = diffs.iter().sum::<f64>() / nf;
    let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
    let se = sd / nf.sqrt();
    let t = StudentsT::new(0.0, 1.0, nf - 1.0).expect("n >= 2");
    let half = t.inverse_cdf(1.0 - alpha / 2.0) * se;
    let p_value = if se > 0.0 { 2.0 * (1.0 - t.cdf((mean / se).abs())) } else if mean == 0.0 { 1.0 } else { 0.0 };
    let mean_a = pairs.iter().map(|(a, _)| a).sum::<f64>() / nf;
    let mean_b = pairs.iter().map(|(_, b)| b).sum::<f64>() / nf;
    let cov = pairs.iter().map(|(a, b)| (a - mean_a) * (b - mean_b)).sum::<f64>();
    let (va, vb) = (pairs.iter().map(|(a, _)| (a - mean_a).powi(2)).sum::<f64>(), pairs.iter().map(|(_, b)| (b - mean_b).powi(2)).sum::<f64>());
    Gap {
        mean,
        ci_low: mean - half,
        ci_high: mean + half,
        p_value,
        relative: mean / mean_a,
        effect_size: if sd > 0.0 { mean / sd } else { 0.0 },
        sd,
        correlation: if va > 0.0 && vb > 0.0 { cov / (va * vb).sqrt() } else { 0.0 },
        trials: n,
        trials_needed: 0,
    }
}

/// Power of the two-sided paired t-test at level `alpha` with `n` trials, when the
/// per-trial differences have mean `delta` and standard deviation `sd`: the
/// shifted-t approximation of the noncentral t,
/// `1 - T_{n-1}(t_{1-alpha/2, n-1} - |delta| sqrt(n)/sd)`.
pub fn power_at(n: usize, sd: f64, delta: f64, alpha: f64) -> f64 {
    let df = (n.max(2) - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, df).expect("df >= 1");
    let shift = delta.abs() * (n as f64).sqrt() / sd;
    1.0 - t.cdf(t.inverse_cdf(1.0 - alpha / 2.0) - shift)
}

/// The fewest trials (at least 2) whose [`power_at`] reaches `power` for a gap of
/// `delta`; capped at 10^9.
pub fn trials_needed(sd: f64, delta: f64, alpha: f64, power: f64) -> usize {
    if !(sd > 0.0) {
        return 2;
    }
    let enough = |n: usize| power_at(n, sd, delta, alpha) >= power;
    let (mut lo, mut hi) = (2usize, 2usize);
    while !enough(hi) {
        if hi >= 1_000_000_000 {
            return hi;
        }
        lo = hi;
        hi *= 2;
    }
    if enough(lo) {
        return lo;
    }
    // Invariant: not enough(lo), enough(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if enough(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Everything `rfrisk gap` reports for one spec.
#[derive(Clone, Debug, Serialize)]
pub struct GapReport {
    pub in_theory: bool,
    pub assumptions: Vec<Assumption>,
    pub laws: [String; 2],
    /// What is compared: `excess-risk` (regression) or `accuracy` (classification).
    pub measure: Measure,
    /// The theory's limit, the same for both laws when `in_theory`.
    pub theory_excess_risk: Option<f64>,
    pub design: &'static str,
    /// Each law's mean `measure` over the paired trials, with its standard error.
    pub means: [LawMean; 2],
    pub gap: Gap,
    /// The trials needed at the ends of the 95% interval of the differences' standard
    /// deviation (chi-square, trials - 1 degrees of freedom): how uncertain `gap.trials_needed` is.
    pub trials_needed_interval: [usize; 2],
    pub detect: f64,
    pub alpha: f64,
    pub power: f64,
}

/// One law's mean `measure` over the paired trials.
#[derive(Clone, Debug, Serialize)]
pub struct LawMean {
    pub law: String,
    pub mean: f64,
    pub stderr: f64,
}

/// Below this many paired trials the trials-needed estimate is said to be rough.
pub const SMALL_PILOT: usize = 10;

/// The 95% interval of a standard deviation `sd` estimated from `n` values.
fn sd_interval(sd: f64, n: usize) -> (f64, f64) {
    use statrs::distribution::ChiSquared;
    let df = (n - 1) as f64;
    let chi = ChiSquared::new(df).expect("n >= 2");
    (sd * (df / chi.inverse_cdf(0.975)).sqrt(), sd * (df / chi.inverse_cdf(0.025)).sqrt())
}

/// The report on finished paired trials of laws `a` and `b`.
pub fn report(spec: &Spec, laws: &[WeightLaw], rows: &[TrialRow], detect: f64, alpha: f64, power: f64) -> Result<GapReport, GapError> {
    let [a, b] = laws[..] else { return Err(GapError::NotTwoLaws(laws.len())) };
    let measure = Measure::of(spec);
    let pairs = pairs(rows, a, b, measure);
    if pairs.len() < 2 {
        return Err(GapError::TooFewTrials);
    }
    let assumptions = assumptions(spec, laws, rows);
    let in_theory = assumptions.iter().all(|x| x.holds);
    let mut gap = paired_test(&pairs, alpha);
    let delta = measure.detectable(detect, pairs.iter().map(|(a, _)| a).sum::<f64>() / pairs.len() as f64);
    gap.trials_needed = trials_needed(gap.sd, delta, alpha, power);
    let (sd_low, sd_high) = sd_interval(gap.sd, pairs.len());
    let trials_needed_interval = [trials_needed(sd_low, delta, alpha, power), trials_needed(sd_high, delta, alpha, power)];
    let law_mean = |law: WeightLaw, values: Vec<f64>| {
        let e = crate::study::simulate::Estimate::of(&values).expect("at least two pairs");
        LawMean { law: law.to_string(), mean: e.mean, stderr: e.stderr }
    };
    let means = [law_mean(a, pairs.iter().map(|p| p.0).collect()), law_mean(b, pairs.iter().map(|p| p.1).collect())];
    Ok(GapReport {
        in_theory,
        assumptions,
        laws: [a.to_string(), b.to_string()],
        measure,
        theory_excess_risk: if in_theory { crate::solver::predict(spec).ok().map(|p| p.excess_risk) } else { None },
        design: "paired t-test on per-trial differences (both laws share data, teacher and the underlying Gaussian weight draw)",
        means,
        gap,
        trials_needed_interval,
        detect,
        alpha,
        power,
    })
}

/// The report for a person.
pub fn table(r: &GapReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    writeln!(out, "{} vs {}: {}", r.laws[0], r.laws[1], if r.in_theory { "inside the theory" } else { "OUTSIDE the theory" }).unwrap();
    for a in &r.assumptions {
        writeln!(out, "  [{}] {} ({})", if a.holds { "x" } else { " " }, a.name, a.detail).unwrap();
    }
    match (r.in_theory, r.theory_excess_risk) {
        (true, Some(t)) => writeln!(out, "theory: both laws have the same limit, excess risk {t:.6}").unwrap(),
        (true, None) => writeln!(out, "theory: both laws have the same limit").unwrap(),
        (false, _) => writeln!(out, "theory: no statement (an assumption fails)").unwrap(),
    }
    for m in &r.means {
        writeln!(out, "measured {}, {:<12} {:.6} ± {:.6}", r.measure.name(), format!("{}:", m.law), m.mean, m.stderr).unwrap();
    }
    let g = &r.gap;
    writeln!(
        out,
        "measured gap in {} ({} - {}), {} paired trials: {:+.3e}  [{:+.3e}, {:+.3e}] ({:.0}% CI), relative {:+.2}%",
        r.measure.name(),
        r.laws[1],
        r.laws[0],
        g.trials,
        g.mean,
        g.ci_low,
        g.ci_high,
        100.0 * (1.0 - r.alpha),
        100.0 * g.relative
    )
    .unwrap();
    writeln!(
        out,
        "{}: p = {}, effect size d_z = {:+.3}, correlation between laws {:.2}",
        r.design,
        crate::output::probability(g.p_value),
        g.effect_size,
        g.correlation
    )
    .unwrap();
    let [low, high] = r.trials_needed_interval;
    let target = match r.measure {
        Measure::ExcessRisk => format!("a {:.2}% relative gap", 100.0 * r.detect),
        Measure::Accuracy => format!("a gap of {:.2} accuracy points", 100.0 * r.detect),
    };
    writeln!(
        out,
        "trials needed to detect {target} with power {:.2} at alpha {:.3}: {} (95% interval {low}–{high}, from the uncertainty of the differences' s.d.)",
        r.power,
        r.alpha,
        r.gap.trials_needed
    )
    .unwrap();
    if g.trials < SMALL_PILOT {
        writeln!(out, "warning: only {} paired trials: the trials-needed estimate is rough; run at least {SMALL_PILOT} for one that means much", g.trials).unwrap();
    }
    out
}

/// A fitted log–log slope with its confidence interval.
#[derive(Clone, Debug, Serialize)]
pub struct Slope {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Least-squares slope of `ln y` on `ln x`, with a `1 - alpha` interval from
/// Student's t with `m - 2` degrees of freedom. `None` below three points.
pub fn log_log_slope(points: &[(f64, f64)], alpha: f64) -> Option<Slope> {
    let pts: Vec<(f64, f64)> = points.iter().filter(|(x, y)| *x > 0.0 && *y > 0.0).map(|(x, y)| (x.ln(), y.ln())).collect();
    let m = pts.len() as f64;
    if pts.len() < 3 {
        return None;
    }
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / m, pts.iter().map(|p| p.1).sum::<f64>() / m);
    let sxx = pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let resid = pts.iter().map(|p| (p.1 - my - slope * (p.0 - mx)).powi(2)).sum::<f64>() / (m - 2.0);
    let half = StudentsT::new(0.0, 1.0, m - 2.0).expect("m >= 3").inverse_cdf(1.0 - alpha / 2.0) * (resid / sxx).sqrt();
    Some(Slope { estimate: slope, ci_low: slope - half, ci_high: slope + half })
}

/// One value of a `--scan`: the report and the mean absolute paired gap.
#[derive(Clone, Debug, Serialize)]
pub struct ScanPoint {
    pub value: String,
    pub mean_abs_gap: f64,
    pub mean_abs_gap_stderr: f64,
    pub report: GapReport,
}

pub fn mean_abs_gap(rows: &[TrialRow], a: WeightLaw, b: WeightLaw, measure: Measure) -> (f64, f64) {
    let abs: Vec<f64> = pairs(rows, a, b, measure).iter().map(|(a, b)| (b - a).abs()).collect();
    crate::study::simulate::Estimate::of(&abs).map_or((f64::NAN, f64::NAN), |e| (e.mean, e.stderr))
}

/// A `--scan` for a person: one row per value, then the fitted slope of the mean |gap|.
pub fn scan_table(key: &str, points: &[ScanPoint], slope: Option<&Slope>, alpha: f64) -> String {
    let mut out = format!("{:>12}  {:>12}  {:>10}  {:>12}  {:>9}  {}\n", key, "mean |gap|", "s.e.", "gap", "p", "in theory");
    for p in points {
        out += &format!(
            "{:>12}  {:>12.4e}  {:>10.2e}  {:>+12.3e}  {:>9.3}  {}\n",
            p.value, p.mean_abs_gap, p.mean_abs_gap_stderr, p.report.gap.mean, p.report.gap.p_value, p.report.in_theory
        );
    }
    out += &match slope {
        Some(s) => format!("log-log slope of mean |gap|: {:+.3}  [{:+.3}, {:+.3}] ({:.0}% CI)\n", s.estimate, s.ci_low, s.ci_high, 100.0 * (1.0 - alpha)),
        None => "log-log slope: needs at least three numeric values with a positive gap\n".into(),
    };
    out
}
