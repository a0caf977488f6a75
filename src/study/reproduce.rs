//! `rfrisk reproduce NAME`: the committed figures in figures/, each rebuilt by one
//! command from the definitions below (resumable, seeded, so reruns give the same
//! numbers on the same backend).

use crate::figures::curve::{Curve, Metric, Row};
use crate::figures::plot::{draw, PlotOptions};
use crate::study::shard::Storage;
use crate::study::simulate::{Estimate, Run, SimulateError};
use crate::spec::{SpecDoc, WeightLaw};
use crate::study::validate::{run_value, Validation, ValidateError};
use std::path::Path;

/// How a figure turns trials into points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// Theory curve and both weight laws' means (`rfrisk validate`).
    Overlay,
    /// The paired gap `|one-bit - Gaussian|` of each trial, averaged.
    Gap,
    /// One overlay per variant (its label and the assignments it adds to the base), against
    /// the swept key or against `d_L/n` whichever key is swept.
    Variants(&'static [Variant], XAxis),
    /// The p-norm family: for each variant, the values are the exponents q of
    /// `training.mirror = pnorm:Q` (theory on a dense log grid of q, both laws simulated at
    /// the values), against q.
    MirrorFamily(&'static [Variant]),
    /// Heavy-tailed inputs: for each t family of [`TAIL_FAMILIES`], the values are its degrees
    /// of freedom NU (`inf`: Gaussian inputs), drawn at x = 1/NU against the Gaussian-input
    /// theory; the paired one-bit − Gaussian gaps go to NAME-gap.csv.
    Tails,
}

/// The input families of the `tails` figure (`data.source = FAMILY:NU`).
pub const TAIL_FAMILIES: &[&str] = &["student-t", "elliptical-t"];

/// What a [`Kind::Variants`] figure puts on its x axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum XAxis {
    /// The swept key's value.
    Key,
    /// `d_L/n` at each value.
    Overparam,
}

/// One curve of a [`Kind::Variants`] figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Variant {
    pub label: &'static str,
    pub assignments: &'static [&'static str],
}

/// The curves of the `mirrors` figure: each mirror map, without and with label noise.
const MIRROR_VARIANTS: &[Variant] = &[
    Variant { label: "squared, noise 0", assignments: &["training.mirror=squared", "teacher.noise_std=0"] },
    Variant { label: "entropic, noise 0", assignments: &["training.mirror=entropic", "teacher.noise_std=0"] },
    Variant { label: "squared, noise 0.3", assignments: &["training.mirror=squared", "teacher.noise_std=0.3"] },
    Variant { label: "entropic, noise 0.3", assignments: &["training.mirror=entropic", "teacher.noise_std=0.3"] },
];

/// The curves of the `mirror-family` figure: a dense and a sparse teacher, without and with noise.
const MIRROR_FAMILY_VARIANTS: &[Variant] = &[
    Variant { label: "dense teacher, noise 0", assignments: &["teacher.prior=gaussian", "teacher.noise_std=0"] },
    Variant { label: "dense teacher, noise 0.1", assignments: &["teacher.prior=gaussian", "teacher.noise_std=0.1"] },
    Variant { label: "sparse:0.1 teacher, noise 0", assignments: &["teacher.prior=sparse:0.1", "teacher.noise_std=0"] },
    Variant { label: "sparse:0.1 teacher, noise 0.1", assignments: &["teacher.prior=sparse:0.1", "teacher.noise_std=0.1"] },
];

/// The curves of the `activations` figure: odd, sigmoid and the ReLU family.
const ACTIVATION_VARIANTS: &[Variant] = &[
    Variant { label: "tanh", assignments: &["features.activation=tanh"] },
    Variant { label: "sigmoid", assignments: &["features.activation=sigmoid"] },
    Variant { label: "relu", assignments: &["features.activation=relu"] },
    Variant { label: "leaky-relu:0.1", assignments: &["features.activation=leaky-relu:0.1"] },
    Variant { label: "gelu", assignments: &["features.activation=gelu"] },
];

/// The curves of the `fashion` figure: two hidden widths.
const FASHION_VARIANTS: &[Variant] = &[
    Variant { label: "width 512", assignments: &["features.width=512"] },
    Variant { label: "width 4096", assignments: &["features.width=4096"] },
];

/// The curves of the `double-descent` figure: depth 1 and 3, three ridges.
const DOUBLE_DESCENT_VARIANTS: &[Variant] = &[
    Variant { label: "L = 1, ridge 0", assignments: &["features.depth=1", "training.ridge=0"] },
    Variant { label: "L = 1, ridge 1e-3", assignments: &["features.depth=1", "training.ridge=0.001"] },
    Variant { label: "L = 1, ridge 0.1", assignments: &["features.depth=1", "training.ridge=0.1"] },
    Variant { label: "L = 3, ridge 0", assignments: &["features.depth=3", "training.ridge=0"] },
    Variant { label: "L = 3, ridge 1e-3", assignments: &["features.depth=3", "training.ridge=0.001"] },
    Variant { label: "L = 3, ridge 0.1", assignments: &["features.depth=3", "training.ridge=0.1"] },
];

pub struct Figure {
    pub name: &'static str,
    pub caption: &'static str,
    pub kind: Kind,
    /// Spec assignments shared by every point.
    pub base: &'static [&'static str],
    pub key: &'static str,
    pub values: &'static [&'static str],
    /// More assignments that move with the swept value (same ratios at every size).
    pub with_value: fn(&str) -> Vec<String>,
    pub trials: usize,
    /// Test inputs per trial, as a function of the swept value.
    pub n_test: fn(&str) -> usize,
    pub metric: Metric,
    pub log_x: bool,
    pub log_y: bool,
}

fn nothing(_: &str) -> Vec<String> {
    Vec::new()
}

fn two_thousand(_: &str) -> usize {
    2000
}

/// The paired gap is small, so the test-set average must not drown it: 4w test inputs.
fn four_per_unit_width(width: &str) -> usize {
    4 * width.parse::<usize>().expect("gap widths are integers")
}

fn gap_sizes(width: &str) -> Vec<String> {
    let w: usize = width.parse().expect("gap widths are integers");
    vec![format!("data.dim={w}"), format!("training.samples={}", w / 4)]
}

pub const FIGURES: &[Figure] = &[
    Figure {
        name: "depth",
        caption: "Test error against depth, tanh, x ~ N(0, I), d0 = 8192, hidden widths 4096, n = 1000, \
                  no label noise (the setting of Figure 1 of arXiv 2510.16250); Gaussian and one-bit hidden \
                  weights, mean ± s.e. of 10 trials each with 2000 test inputs, and the theory.",
        kind: Kind::Overlay,
        base: &["data.dim=8192", "features.widths=[4096]", "features.activation=tanh", "training.samples=1000", "teacher.noise_std=0"],
        key: "features.depth",
        values: &["1", "2", "3", "4", "5"],
        with_value: nothing,
        trials: 10,
        n_test: two_thousand,
        metric: Metric::TestError,
        log_x: false,
        log_y: false,
    },
    Figure {
        name: "gap",
        caption: "The measured gap |one-bit − Gaussian| in excess risk, paired trials (same data, teacher and \
                  underlying Gaussian matrix), against the hidden width w; tanh, L = 2, d0 = w, n = w/4, \
                  noise 0.1; mean ± s.e. of 10 trials with 4w test inputs each. Log–log axes.",
        kind: Kind::Gap,
        base: &["features.widths=[256,256]", "features.activation=tanh", "teacher.noise_std=0.1"],
        key: "features.width",
        values: &["256", "512", "1024", "2048", "4096"],
        with_value: gap_sizes,
        trials: 10,
        n_test: four_per_unit_width,
        metric: Metric::ExcessRisk,
        log_x: true,
        log_y: true,
    },
    Figure {
        name: "mirrors",
        caption: "Test error against d_L/n for the squared (SGD) and entropic (exponentiated-gradient) mirror maps, \
                  without label noise and with noise 0.3; tanh, L = 2, d0 = 1000, hidden widths 1000, half-normal \
                  teacher with E|a*|^2 = 1, both maps started from a0 = c 1 with c = E|a*_i|. Gaussian (filled) and \
                  one-bit (open) hidden weights, mean ± s.e. of 10 trials with 2000 test inputs each, and the \
                  theory. With noise the entropic map has no positive interpolator below d_L/n = 1.787 \
                  (equations/entropic.md §8): its curve ends there and its trials are infeasible.",
        kind: Kind::Variants(MIRROR_VARIANTS, XAxis::Overparam),
        base: &[
            "data.dim=1000",
            "features.widths=[1000,1000]",
            "features.activation=tanh",
            "teacher.prior=half-normal",
            "training.init=0.025231325220201604",
        ],
        key: "training.samples",
        values: &["100", "200", "300", "400", "500", "600", "700", "800", "900"],
        with_value: nothing,
        trials: 10,
        n_test: two_thousand,
        metric: Metric::TestError,
        log_x: true,
        log_y: true,
    },
    Figure {
        name: "activations",
        caption: "The activation stress test: test error against depth L = 1..4 for tanh, sigmoid, ReLU, leaky ReLU (0.1) \
                  and GELU; d0 = 500, hidden widths 1000, n = 250, noise 0.1, a gaussian teacher from a0 = 0. The non-odd \
                  activations by the mean-corrected theory (equations/nonodd.md). Gaussian (filled) and one-bit (open) hidden \
                  weights, mean ± s.e. of 10 paired trials with 2000 test inputs each; the theory as a line. Log y axis.",
        kind: Kind::Variants(ACTIVATION_VARIANTS, XAxis::Key),
        base: &["data.dim=500", "features.widths=[1000]", "training.samples=250", "teacher.noise_std=0.1"],
        key: "features.depth",
        values: &["1", "2", "3", "4"],
        with_value: nothing,
        trials: 10,
        n_test: two_thousand_test_inputs,
        metric: Metric::TestError,
        log_x: false,
        log_y: true,
    },
    Figure {
        name: "fashion",
        caption: "Fashion-MNIST (the paper's Figure 3 analogue): test misclassification rate (1 − accuracy) on the 10,000 test \
                  images against depth L = 1..5, ReLU, hidden widths 512 and 4096, 200 training images per class (a class-balanced \
                  subsample drawn per trial), one-hot targets and the minimum-norm last layer per class. Gaussian (filled) and \
                  one-bit (open) hidden weights, mean ± s.e. of 10 paired trials. No theory: real data is outside it.",
        kind: Kind::Variants(FASHION_VARIANTS, XAxis::Key),
        base: &["data.dim=784", "data.source=fashion-mnist", "training.task=classification", "features.widths=[512]", "features.activation=relu", "training.samples=2000"],
        key: "features.depth",
        values: &["1", "2", "3", "4", "5"],
        with_value: nothing,
        trials: 10,
        n_test: ten_thousand,
        metric: Metric::TestError,
        log_x: false,
        log_y: false,
    },
    Figure {
        name: "tails",
        caption: "Heavy-tailed inputs against the Gaussian-input theory: excess risk against 1/NU for i.i.d. Student-t \
                  coordinates and for an elliptical (multivariate) t, NU = 2.5, 3, 5, 10, 30 and Gaussian inputs (1/NU = 0); \
                  tanh, L = 2, d0 = 1000, hidden widths 2000, n = 500, noise 0.1. Gaussian (filled) and one-bit (open) hidden \
                  weights, mean ± s.e. of 10 paired trials with 2000 test inputs each; the Gaussian-input theory as a line.",
        kind: Kind::Tails,
        base: &["data.dim=1000", "features.widths=[2000,2000]", "features.activation=tanh", "training.samples=500", "teacher.noise_std=0.1"],
        key: "data.source",
        values: &["inf", "30", "10", "5", "3", "2.5"],
        with_value: nothing,
        trials: 10,
        n_test: two_thousand,
        metric: Metric::ExcessRisk,
        log_x: false,
        log_y: false,
    },
    Figure {
        name: "mirror-family",
        caption: "Which implicit bias suits which target: test error against the exponent q of the p-norm mirror map \
                  psi(a) = sum |sqrt(d_L) a_i|^q / q (q = 2 is SGD; q -> 1 approaches basis pursuit), log axes; tanh, L = 2, \
                  d0 = 500, hidden widths 1000, n = 400, SMD from a0 = 0. A dense Gaussian teacher and a sparse one (10% of \
                  its entries non-zero), each without label noise and with noise 0.1. The theory (equations/pnorm.md) as a \
                  line; Gaussian (filled) and one-bit (open) hidden weights, mean ± s.e. of 10 paired trials with 2000 test \
                  inputs each, the last layer trained to the exact minimum-Bregman-divergence interpolator.",
        kind: Kind::MirrorFamily(MIRROR_FAMILY_VARIANTS),
        base: &["data.dim=500", "features.widths=[1000,1000]", "features.activation=tanh", "training.samples=400"],
        key: "q",
        values: &["1.1", "1.25", "1.5", "2", "3", "4"],
        with_value: nothing,
        trials: 10,
        n_test: two_thousand,
        metric: Metric::TestError,
        log_x: true,
        log_y: true,
    },
    Figure {
        name: "double-descent",
        caption: "Test error against d_L/n through the interpolation threshold (log axes): a linear teacher \
                  y = x^T a* + noise (teacher.depth = 0), tanh, d0 = n = 200, hidden widths d_L = 20..2000 at every layer, \
                  noise 0.2, L = 1 and L = 3, ridge 0, 1e-3 and 0.1. Gaussian (filled) and one-bit (open) hidden \
                  weights, mean ± s.e. of 10 trials with 1000 test inputs each; the theory as a line. Without a \
                  ridge the risk is infinite at d_L = n, which the grid steps over.",
        kind: Kind::Variants(DOUBLE_DESCENT_VARIANTS, XAxis::Overparam),
        base: &["data.dim=200", "features.widths=[200]", "features.activation=tanh", "training.samples=200", "teacher.depth=0", "teacher.noise_std=0.2"],
        key: "features.width",
        values: &["20", "40", "80", "120", "160", "180", "190", "210", "220", "240", "300", "400", "600", "1000", "2000"],
        with_value: nothing,
        trials: 10,
        n_test: one_thousand,
        metric: Metric::TestError,
        log_x: true,
        log_y: true,
    },
];

fn two_thousand_test_inputs(_: &str) -> usize {
    2000
}

fn ten_thousand(_: &str) -> usize {
    10_000
}

fn one_thousand(_: &str) -> usize {
    1000
}

/// One law's mean excess risk and test error over `done`, as the figure row `series` at `x`.
fn law_row(done: &[crate::study::simulate::TrialRow], law: WeightLaw, series: String, x: f64) -> Row {
    let of = |pick: fn(&crate::study::simulate::TrialRow) -> Option<f64>| {
        Estimate::of(&done.iter().filter(|r| r.weights == law.to_string()).filter_map(pick).collect::<Vec<f64>>())
    };
    match (of(|r| r.excess_risk), of(|r| r.test_error)) {
        (Some(e), Some(t)) => Row { series, x, excess_risk: Some(e.mean), excess_stderr: Some(e.stderr), test_error: Some(t.mean), test_stderr: Some(t.stderr), trials: Some(e.n), status: "ok".into() },
        _ => Row::failed(&series, x, "error: no trials".into()),
    }
}

pub fn find(name: &str) -> Option<&'static Figure> {
    FIGURES.iter().find(|f| f.name == name)
}

impl Figure {
    fn doc(&self) -> SpecDoc {
        let mut doc = SpecDoc::default();
        for a in self.base {
            doc.set(a).expect("figure specs are valid");
        }
        doc
    }

    /// Runs (or resumes) the figure in `out_dir`: NAME.csv, NAME.png, NAME.svg, trials/NAME/.
    pub fn reproduce(
        &self,
        out_dir: &Path,
        trials: Option<usize>,
        storage: impl Into<Storage>,
        backend: &dyn validation::Backend,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(), ReproduceError> {
        let storage = storage.into();
        let trials = trials.unwrap_or(self.trials);
        let work = out_dir.join("runs").join(self.name);
        let values: Vec<String> = self.values.iter().map(|v| v.to_string()).collect();
        let laws = vec![WeightLaw::Gaussian, WeightLaw::Onebit];
        let curve = match self.kind {
            Kind::Overlay => {
                // Sizes that move with the value are not expressible as one key: refuse them here.
                assert!(values.iter().all(|v| (self.with_value)(v).is_empty()), "overlay figures sweep one key");
                let doc = self.doc();
                Validation {
                    doc: &doc,
                    key: self.key,
                    values: &values,
                    laws,
                    trials,
                    n_test: (self.n_test)(&values[0]),
                    seed: 0,
                    trainer: validation::Trainer::Direct,
                    backend,
                    kernel: validation::KernelChoice::Auto,
                }
                .run(&work, storage, self.log_x, progress)?
            }
            Kind::Gap => self.gap(&work, &values, trials, storage, backend, progress)?,
            Kind::Variants(variants, axis) => self.variants(variants, axis, &work, &values, trials, storage, backend, progress)?,
            Kind::MirrorFamily(variants) => self.mirror_family(variants, &work, &values, trials, storage, backend, progress)?,
            Kind::Tails => {
                let (curve, gaps) = self.tails(&work, &values, trials, storage, backend, progress)?;
                if storage.shard().is_some() {
                    return Ok(());
                }
                gaps.write(&out_dir.join(format!("{}-gap.csv", self.name))).map_err(|e| ReproduceError::Output(e.to_string()))?;
                curve
            }
        };
        if storage.shard().is_some() {
            // A shard's curve holds its own trials only: the figure waits for --merge.
            return Ok(());
        }
        let csv = out_dir.join(format!("{}.csv", self.name));
        curve.write(&csv).map_err(|e| ReproduceError::Output(e.to_string()))?;
        let spec = {
            let mut doc = self.doc();
            let first = match self.kind {
                Kind::Tails => vec![],
                Kind::MirrorFamily(_) => vec![format!("training.mirror=pnorm:{}", values[0])],
                _ => vec![format!("{}={}", self.key, values[0])],
            };
            for a in (self.with_value)(&values[0]).into_iter().chain(first) {
                doc.set(&a).expect("figure specs are valid");
            }
            doc.to_spec().map_err(|e| ReproduceError::Output(e.to_string()))?
        };
        let options = PlotOptions {
            metric: self.metric,
            log_x: self.log_x,
            log_y: self.log_y,
            title: match self.kind {
                Kind::Overlay => crate::figures::plot::title(&spec, self.key),
                Kind::Gap => "one-bit vs Gaussian hidden weights: paired gap against width (tanh, L = 2, d0 = w, n = w/4)".into(),
                Kind::Variants(..) if self.name == "mirrors" => "squared vs entropic mirror map (tanh, L = 2, d0 = 1000, width 1000, half-normal teacher)".into(),
                Kind::Variants(..) if self.name == "fashion" => "Fashion-MNIST: ReLU, 200 training images per class, 10,000 test images".into(),
                Kind::Variants(..) if self.name == "activations" => "activations against depth: d0 = 500, width 1000, n = 250, noise 0.1".into(),
                Kind::Variants(..) => "double descent: linear teacher, tanh, d0 = n = 200, noise 0.2".into(),
                Kind::Tails => "heavy-tailed inputs: tanh, L = 2, d0 = 1000, widths 2000, n = 500, noise 0.1".into(),
                Kind::MirrorFamily(_) => "p-norm mirror maps: tanh, L = 2, d0 = 500, widths 1000, n = 400".into(),
            },
            y_label: match self.kind {
                Kind::Variants(..) if self.name == "fashion" => Some("test misclassification rate (1 − accuracy)".into()),
                Kind::Overlay | Kind::Variants(..) | Kind::Tails => None,
                Kind::MirrorFamily(_) => Some("test error".into()),
                Kind::Gap => Some("mean |one-bit − Gaussian| excess risk".into()),
            },
            theory_band: false,
        };
        draw(&curve, &options, &out_dir.join(self.name)).map_err(|e| ReproduceError::Output(e.to_string()))
    }

    /// One validation per variant in its own work directory; the rows are relabelled
    /// `LABEL/SERIES` (one colour per curve in the plot) and placed at `x = d_L/n`.
    #[allow(clippy::too_many_arguments)]
    fn variants(
        &self,
        variants: &[Variant],
        axis: XAxis,
        work: &Path,
        values: &[String],
        trials: usize,
        storage: Storage,
        backend: &dyn validation::Backend,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Curve, ReproduceError> {
        let per_variant = values.len() * 2 * trials;
        let total = variants.len() * per_variant;
        let mut rows = Vec::new();
        for (i, variant) in variants.iter().enumerate() {
            let mut doc = self.doc();
            variant.assignments.iter().for_each(|a| doc.set(a).expect("figure variants are valid"));
            // d_L/n at each value (the swept key may be the width or the sample count).
            let overparam = |x: f64| -> Result<f64, ReproduceError> {
                let mut at = doc.clone();
                at.set(&format!("{}={}", self.key, crate::output::csv_number(x))).expect("a figure value");
                let spec = at.to_spec().map_err(|e| ReproduceError::Output(e.to_string()))?;
                Ok(spec.last_width() as f64 / spec.samples as f64)
            };
            let curve = Validation {
                doc: &doc,
                key: self.key,
                values,
                laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit],
                trials,
                n_test: (self.n_test)(&values[0]),
                seed: 0,
                trainer: validation::Trainer::Direct,
                backend,
                kernel: validation::KernelChoice::Auto,
            }
            .run(&work.join(self.variant_directory(variant)), storage, self.log_x, &|d, _| progress(i * per_variant + d, total))?;
            for r in curve.rows {
                let x = match axis {
                    XAxis::Key => r.x,
                    XAxis::Overparam => overparam(r.x)?,
                };
                rows.push(Row { series: format!("{}/{}", variant.label, r.series), x, ..r });
            }
        }
        rows.sort_by(|a, b| a.series.cmp(&b.series).then(a.x.total_cmp(&b.x)));
        Ok(Curve { key: if axis == XAxis::Key { self.key.to_owned() } else { "d_L/n".to_owned() }, rows })
    }

    /// The `mirror-family` figure: per variant, the theory at 60 exponents log-spaced over the
    /// values' range (and at the values), and both laws' means at each value (trials under
    /// `work/VARIANT/trials/q=Q.csv`).
    #[allow(clippy::too_many_arguments)]
    fn mirror_family(
        &self,
        variants: &[Variant],
        work: &Path,
        values: &[String],
        trials: usize,
        storage: Storage,
        backend: &dyn validation::Backend,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Curve, ReproduceError> {
        let laws = [WeightLaw::Gaussian, WeightLaw::Onebit];
        let total = variants.len() * values.len() * laws.len() * trials;
        let qs: Vec<f64> = values.iter().map(|v| v.parse().expect("mirror-family values are exponents")).collect();
        let (lo, hi) = (qs.iter().cloned().fold(f64::INFINITY, f64::min), qs.iter().cloned().fold(0.0, f64::max));
        let mut grid: Vec<f64> = (0..60).map(|i| lo * (hi / lo).powf(i as f64 / 59.0)).chain(qs.iter().copied()).collect();
        grid.sort_by(f64::total_cmp);
        let spec_at = |variant: &Variant, q: &str| -> Result<crate::spec::Spec, ReproduceError> {
            let mut doc = self.doc();
            for a in variant.assignments.iter().map(|a| a.to_string()).chain([format!("training.mirror=pnorm:{q}")]) {
                doc.set(&a).expect("figure specs are valid");
            }
            doc.to_spec().map_err(|e| ReproduceError::Output(e.to_string()))
        };
        let mut rows = Vec::new();
        for (v, variant) in variants.iter().enumerate() {
            for &q in &grid {
                let series = format!("{}/theory", variant.label);
                rows.push(match crate::predict(&spec_at(variant, &q.to_string())?) {
                    Ok(p) => Row { series, x: q, excess_risk: Some(p.excess_risk), excess_stderr: None, test_error: Some(p.test_error), test_stderr: None, trials: None, status: "ok".into() },
                    Err(e) => Row::failed(&series, q, format!("error: {e}")),
                });
            }
            for (i, value) in values.iter().enumerate() {
                let spec = spec_at(variant, value)?;
                let run = Run { spec: &spec, laws: laws.to_vec(), trials, n_test: (self.n_test)(value), seed: 0, trainer: validation::Trainer::Direct, backend, kernel: validation::KernelChoice::Auto };
                let before = (v * values.len() + i) * laws.len() * trials;
                let done = run_value(&run, &work.join(self.variant_directory(variant)), "q", value, storage, (before, total), progress)?;
                rows.extend(laws.iter().map(|&law| law_row(&done, law, format!("{}/{law}", variant.label), qs[i])));
            }
        }
        rows.sort_by(|a, b| a.series.cmp(&b.series).then(a.x.total_cmp(&b.x)));
        Ok(Curve { key: "q".into(), rows })
    }

    /// The `tails` figure: per family and NU, both laws' mean excess and test error, the
    /// Gaussian-input theory at every point, and (second curve) the paired one-bit − Gaussian gap
    /// in excess risk, signed.
    fn tails(
        &self,
        work: &Path,
        values: &[String],
        trials: usize,
        storage: Storage,
        backend: &dyn validation::Backend,
        progress: &dyn Fn(usize, usize),
    ) -> Result<(Curve, Curve), ReproduceError> {
        let theory = crate::predict(&self.doc().to_spec().map_err(|e| ReproduceError::Output(e.to_string()))?)
            .map_err(|e| ReproduceError::Output(format!("the Gaussian-input theory: {e}")))?;
        let laws = [WeightLaw::Gaussian, WeightLaw::Onebit];
        let total = TAIL_FAMILIES.len() * values.len() * laws.len() * trials;
        let (mut rows, mut gaps) = (Vec::new(), Vec::new());
        for (f, family) in TAIL_FAMILIES.iter().enumerate() {
            for (i, nu) in values.iter().enumerate() {
                let (source, x) = if nu == "inf" { ("gaussian".to_owned(), 0.0) } else { (format!("{family}:{nu}"), 1.0 / nu.parse::<f64>().expect("NU values are numbers")) };
                let mut doc = self.doc();
                doc.set(&format!("data.source={source}")).expect("figure sources are valid");
                let spec = doc.to_spec().map_err(|e| ReproduceError::Output(e.to_string()))?;
                let run = Run { spec: &spec, laws: laws.to_vec(), trials, n_test: (self.n_test)(nu), seed: 0, trainer: validation::Trainer::Direct, backend, kernel: validation::KernelChoice::Auto };
                let before = (f * values.len() + i) * laws.len() * trials;
                let done = run_value(&run, &work.join(family), "nu", nu, storage, (before, total), progress)?;
                rows.push(Row { series: format!("{family}/theory"), x, excess_risk: Some(theory.excess_risk), excess_stderr: None, test_error: Some(theory.test_error), test_stderr: None, trials: None, status: "ok".into() });
                rows.extend(laws.iter().map(|&law| law_row(&done, law, format!("{family}/{law}"), x)));
                let paired: Vec<f64> = crate::study::gap::pairs(&done, WeightLaw::Gaussian, WeightLaw::Onebit, crate::study::gap::Measure::ExcessRisk).iter().map(|(g, o)| o - g).collect();
                gaps.push(match Estimate::of(&paired) {
                    Some(e) => Row { series: format!("{family}/paired gap"), x, excess_risk: Some(e.mean), excess_stderr: Some(e.stderr), test_error: None, test_stderr: None, trials: Some(e.n), status: "ok".into() },
                    None => Row::failed(&format!("{family}/paired gap"), x, "error: no paired trials".into()),
                });
            }
        }
        let sort = |rows: &mut Vec<Row>| rows.sort_by(|a, b| a.series.cmp(&b.series).then(a.x.total_cmp(&b.x)));
        sort(&mut rows);
        sort(&mut gaps);
        Ok((Curve { key: "1/NU".into(), rows }, Curve { key: "1/NU".into(), rows: gaps }))
    }

    /// A variant's work directory: the mirrors figure keeps the names its committed runs have.
    fn variant_directory(&self, variant: &Variant) -> String {
        let value = |key: &str| variant.assignments.iter().find_map(|a| a.strip_prefix(key)).unwrap_or("");
        if self.name == "mirrors" {
            format!("{}-noise{}", value("training.mirror="), value("teacher.noise_std="))
        } else {
            variant.label.replace(", ", "-").replace(" = ", "").replace(' ', "").replace(':', "-")
        }
    }

    fn gap(
        &self,
        work: &Path,
        values: &[String],
        trials: usize,
        storage: Storage,
        backend: &dyn validation::Backend,
        progress: &dyn Fn(usize, usize),
    ) -> Result<Curve, ReproduceError> {
        let total = values.len() * 2 * trials;
        let mut rows = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let mut doc = self.doc();
            for a in (self.with_value)(value).into_iter().chain([format!("{}={value}", self.key)]) {
                doc.set(&a).expect("figure specs are valid");
            }
            let spec = doc.to_spec().map_err(|e| ReproduceError::Output(e.to_string()))?;
            let run = Run {
                spec: &spec,
                laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit],
                trials,
                n_test: (self.n_test)(value),
                seed: 0,
                trainer: validation::Trainer::Direct,
                backend,
                kernel: validation::KernelChoice::Auto,
            };
            let done = run_value(&run, work, self.key, value, storage, (i * 2 * trials, total), progress)?;
            let gaps: Vec<f64> =
                crate::study::gap::pairs(&done, WeightLaw::Gaussian, WeightLaw::Onebit, crate::study::gap::Measure::ExcessRisk).iter().map(|(g, o)| (o - g).abs()).collect();
            let x: f64 = value.parse().expect("gap values are numbers");
            rows.push(match Estimate::of(&gaps) {
                Some(e) => Row {
                    series: "paired gap".into(),
                    x,
                    excess_risk: Some(e.mean),
                    excess_stderr: Some(e.stderr),
                    test_error: None,
                    test_stderr: None,
                    trials: Some(e.n),
                    status: "ok".into(),
                },
                None => Row::failed("paired gap", x, "error: no paired trials".into()),
            });
        }
        Ok(Curve { key: self.key.to_owned(), rows })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Simulate(#[from] SimulateError),
    #[error("{0}")]
    Output(String),
}
