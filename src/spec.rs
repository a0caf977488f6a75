//! Model specs: a TOML (or JSON) document, command-line overrides, and the
//! validated [`Spec`] that everything downstream trusts.
//!
//! Two stages: [`SpecDoc`] holds the document as written (plus `--set` overrides);
//! [`SpecDoc::to_spec`] checks every field once and names the key on failure.

use serde::Deserialize;
use std::path::{Path, PathBuf};
pub use validation::model::{Activation, InputSource, Mirror, Prior, Spec, Spectrum, Task, WeightLaw};

/// Why a spec was refused. Every variant names the file or the key.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot parse spec file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("--set {assignment}: {reason}")]
    Override { assignment: String, reason: String },
    #[error("{key}: {reason}")]
    Field { key: String, reason: String },
}

fn field_error(key: impl Into<String>, reason: impl Into<String>) -> SpecError {
    SpecError::Field { key: key.into(), reason: reason.into() }
}


/// Reads `path` and applies `overrides` (`section.key=value`) in order.
pub fn read_doc(path: &Path, overrides: &[String]) -> Result<SpecDoc, SpecError> {
    let mut doc = SpecDoc::read(path)?;
    for assignment in overrides {
        doc.set(assignment)?;
    }
    Ok(doc)
}

/// [`read_doc`], then every field checked.
pub fn load(path: &Path, overrides: &[String]) -> Result<Spec, SpecError> {
    read_doc(path, overrides)?.to_spec()
}

/// The raw spec document: TOML or JSON, with `--set` overrides applied.
#[derive(Clone, Debug, Default)]
pub struct SpecDoc {
    table: toml::Table,
}

impl SpecDoc {
    pub fn read(path: &Path) -> Result<SpecDoc, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| SpecError::Io { path: path.to_owned(), source })?;
        SpecDoc::parse(&text, path)
    }

    /// A spec document from its text (TOML, or JSON by `origin`'s extension or the text's
    /// first character); `origin` names it in errors. The Python package reads a dict or a
    /// string through this, so every key reaches it as it reaches a file.
    pub fn parse(text: &str, origin: &Path) -> Result<SpecDoc, SpecError> {
        let path = origin;
        let is_json = path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
        let parsed = if is_json {
            serde_json::from_str::<toml::Table>(text).map_err(|e| e.to_string())
        } else {
            toml::from_str::<toml::Table>(text).map_err(|e| e.message().to_owned())
        };
        parsed
            .map(|table| SpecDoc { table })
            .map_err(|message| SpecError::Parse { path: path.to_owned(), message })
    }

    /// Applies one `section.key=value` override. The value is read as a TOML value
    /// (`800`, `0.5`, `[1000, 1000]`, `"tanh"`); anything else is taken as a string.
    pub fn set(&mut self, assignment: &str) -> Result<(), SpecError> {
        let err = |reason: &str| SpecError::Override { assignment: assignment.to_owned(), reason: reason.to_owned() };
        let (key, raw) = assignment.split_once('=').ok_or_else(|| err("expected SECTION.KEY=VALUE"))?;
        let key = key.trim();
        if !KEYS.contains(&key) {
            return Err(err(&unknown_key(key)));
        }
        let (section, field) = key.split_once('.').expect("every known key is SECTION.KEY");
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.trim().to_owned()));
        let entry = self
            .table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            return Err(err(&format!("`{section}` in the spec file is not a table")));
        }
        if SAMPLE_KEYS.contains(&key) {
            for other in SAMPLE_KEYS.iter().filter(|k| **k != key) {
                let (s, f) = other.split_once('.').expect("SECTION.KEY");
                if let Some(toml::Value::Table(t)) = self.table.get_mut(s) {
                    t.remove(f);
                }
            }
        }
        let Some(toml::Value::Table(section_table)) = self.table.get_mut(section) else { unreachable!("checked above") };
        section_table.insert(field.to_owned(), value);
        Ok(())
    }

    /// Checks every field; the error names the first key that is wrong, in the user's words.
    pub fn to_spec(&self) -> Result<Spec, SpecError> {
        let raw: RawSpec = serde_path_to_error::deserialize(toml::Value::Table(self.table.clone())).map_err(|e| {
            // The path names the field (an unknown one included); the message's first line says what is wrong.
            let (path, message) = (e.path().to_string(), e.inner().to_string());
            let first_line = message.lines().next().unwrap_or_default().to_owned();
            if first_line.starts_with("unknown field") {
                field_error(path.clone(), unknown_key(&path))
            } else {
                field_error(path.clone(), plain_words(&path, &first_line))
            }
        })?;
        raw.validate()
    }

    /// The keys this document sets (after its overrides), in [`KEYS`] order.
    pub fn set_keys(&self) -> Vec<&'static str> {
        KEYS.iter()
            .copied()
            .filter(|k| {
                let (section, field) = k.split_once('.').expect("SECTION.KEY");
                self.table.get(section).and_then(|t| t.as_table()).is_some_and(|t| t.contains_key(field))
            })
            .collect()
    }
}

/// "unknown key", with the nearest known key (or section) when one is close (a typo), else the list.
pub fn unknown_key(key: &str) -> String {
    const SECTIONS: [&str; 4] = ["data", "features", "teacher", "training"];
    // Without a section, the word may be a key's own name (`samples`) or a section's.
    let by_field = || KEYS.iter().copied().find(|k| k.split_once('.').is_some_and(|(_, f)| nearest(key, &[f]).is_some()));
    let near = if key.contains('.') { nearest(key, KEYS) } else { by_field().or_else(|| nearest(key, &SECTIONS)) };
    match near {
        Some(near) => format!("unknown key `{key}`; did you mean `{near}`?"),
        None if key.contains('.') => format!("unknown key `{key}` (known keys: {})", KEYS.join(", ")),
        None => format!("unknown key `{key}` (sections: {}; keys: {})", SECTIONS.join(", "), KEYS.join(", ")),
    }
}

/// The nearest candidate within about a third of its length in edit distance, if any.
fn nearest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut diagonal = row[0];
            row[0] = i + 1;
            for j in 0..b.len() {
                let next = (diagonal + usize::from(ca != b[j])).min(row[j] + 1).min(row[j + 1] + 1);
                diagonal = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[b.len()]
    };
    // Ties go to the longer common prefix (`trainer` is `training`, not `teacher`).
    let prefix = |k: &str| key.chars().zip(k.chars()).take_while(|(a, b)| a == b).count();
    candidates
        .iter()
        .map(|k| (distance(key, k), std::cmp::Reverse(prefix(k)), *k))
        .filter(|(d, _, k)| *d <= k.len().div_ceil(3))
        .min()
        .map(|(_, _, k)| k)
}

/// A deserializer's message in the words of a spec's reader.
fn plain_words(key: &str, message: &str) -> String {
    let message = message.replace("expected i64", "expected an integer").replace("expected f64", "expected a number");
    if key == "features.widths" && message.contains("expected a sequence") {
        return format!(
            "{}; write a list: `widths = [1600, 1600]` in a file, `--set 'features.widths=[1600,1600]'` on the command line",
            message.replace("expected a sequence", "expected a list")
        );
    }
    message.replace("expected a sequence", "expected a list")
}

/// The deepest model a spec may ask for: far past any depth whose answer differs from
/// the infinite-depth limit in double precision, and small enough that its layer list fits in memory.
pub const MAX_DEPTH: usize = 100_000;

/// The largest `data.dim` a power-law spectrum may have: the theory holds it eigenvalue by eigenvalue.
pub const MAX_SPECTRUM_DIM: usize = 10_000_000;

/// Every key a spec may set (`features.depth` repeats a constant width).
pub const KEYS: &[&str] = &[
    "data.dim",
    "data.spectrum",
    "data.source",
    "data.path",
    "data.labels",
    "data.label",
    "data.test_path",
    "data.test_labels",
    "data.test_fraction",
    "data.per_class",
    "data.preprocess",
    "features.widths",
    "features.depth",
    "features.width",
    "features.activation",
    "features.weights",
    "teacher.prior",
    "teacher.depth",
    "teacher.norm2",
    "teacher.noise_std",
    "training.samples",
    "training.ratio",
    "features.overparam",
    "training.mirror",
    "training.init",
    "training.ridge",
    "training.task",
];

/// The keys that set the number of training samples: one of them per spec. Setting one
/// (in a file's overrides or a sweep) replaces the others.
pub const SAMPLE_KEYS: [&str; 4] = ["training.samples", "training.ratio", "features.overparam", "data.per_class"];

/// Checks one value for `key` by the key's type before anything runs (`--values`,
/// `--series`): an integer key takes integers, a real key finite numbers, a name key one
/// of its names, `features.widths` a list of integers. A value of the right type can
/// still fail at its point (n >= d_L, say); that is the point's status, not this error.
pub fn check_value(key: &str, value: &str) -> Result<(), String> {
    let range_hint = "(a range is a:b:step, a list v1,v2,...)";
    match key {
        "data.dim" | "features.depth" | "features.width" | "training.samples" | "teacher.depth" | "data.per_class" => {
            value.parse::<i64>().map(|_| ()).map_err(|_| format!("`{value}` is not an integer; {key} takes integers {range_hint}"))
        }
        "teacher.norm2" | "teacher.noise_std" | "training.init" | "training.ratio" | "features.overparam" | "training.ridge" | "data.test_fraction" => match value.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(()),
            _ => Err(format!("`{value}` is not a finite number; {key} takes numbers {range_hint}")),
        },
        "features.activation" => value.parse::<Activation>().map(|_| ()),
        "features.weights" => value.parse::<WeightLaw>().map(|_| ()),
        "teacher.prior" => value.parse::<Prior>().map(|_| ()),
        "data.spectrum" => value.parse::<Spectrum>().map(|_| ()),
        "data.source" => value.parse::<InputSource>().map(|_| ()),
        "data.preprocess" => value.parse::<validation::data::Preprocess>().map(|_| ()),
        "training.task" => value.parse::<Task>().map(|_| ()),
        "data.path" | "data.labels" | "data.label" | "data.test_path" | "data.test_labels" => Ok(()),
        "training.mirror" => value.parse::<Mirror>().map(|_| ()),
        "features.widths" => toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|t| t.get("v").and_then(|v| v.as_array()).map(|a| a.iter().all(toml::Value::is_integer)))
            .filter(|&ok| ok)
            .map(|_| ())
            .ok_or_else(|| format!("`{value}` is not a list of integers like [1600,1600]")),
        _ => Err(format!("unknown key `{key}`")),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    data: RawData,
    #[serde(default)]
    features: RawFeatures,
    #[serde(default)]
    teacher: RawTeacher,
    #[serde(default)]
    training: RawTraining,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawData {
    dim: i64,
    spectrum: String,
    source: String,
    path: Option<String>,
    labels: Option<String>,
    label: Option<String>,
    test_path: Option<String>,
    test_labels: Option<String>,
    test_fraction: Option<f64>,
    per_class: Option<i64>,
    preprocess: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFeatures {
    widths: Vec<i64>,
    depth: Option<i64>,
    width: Option<i64>,
    overparam: Option<f64>,
    activation: String,
    weights: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTeacher {
    prior: String,
    depth: Option<i64>,
    norm2: f64,
    noise_std: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawTraining {
    samples: Option<i64>,
    ratio: Option<f64>,
    mirror: String,
    init: Option<f64>,
    ridge: f64,
    task: String,
}

impl Default for RawData {
    fn default() -> Self {
        RawData {
            dim: 1000,
            spectrum: "identity".into(),
            source: "gaussian".into(),
            path: None,
            labels: None,
            label: None,
            test_path: None,
            test_labels: None,
            test_fraction: None,
            per_class: None,
            preprocess: None,
        }
    }
}

impl Default for RawFeatures {
    fn default() -> Self {
        RawFeatures { widths: vec![2000, 2000], depth: None, width: None, overparam: None, activation: "tanh".into(), weights: "gaussian".into() }
    }
}

impl Default for RawTeacher {
    fn default() -> Self {
        RawTeacher { prior: "gaussian".into(), depth: None, norm2: 1.0, noise_std: 0.0 }
    }
}

impl Default for RawTraining {
    fn default() -> Self {
        RawTraining { samples: None, ratio: None, mirror: "squared".into(), init: None, ridge: 0.0, task: "regression".into() }
    }
}

fn positive(key: &str, value: i64) -> Result<usize, SpecError> {
    if value > 0 {
        Ok(value as usize)
    } else {
        Err(field_error(key, format!("must be > 0, got {value}")))
    }
}

fn finite_nonnegative(key: &str, value: f64) -> Result<f64, SpecError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(field_error(key, format!("must be finite and >= 0, got {value}")))
    }
}

fn choice<T: std::str::FromStr<Err = String>>(key: &str, value: &str) -> Result<T, SpecError> {
    value.parse().map_err(|reason| field_error(key, reason))
}

impl RawSpec {
    fn validate(self) -> Result<Spec, SpecError> {
        let dim = positive("data.dim", self.data.dim)?;
        let widths = self.features.resolved_widths()?;
        let activation: Activation = choice("features.activation", &self.features.activation)?;
        let weights: WeightLaw = choice("features.weights", &self.features.weights)?;
        let prior: Prior = choice("teacher.prior", &self.teacher.prior)?;
        let norm2 = finite_nonnegative("teacher.norm2", self.teacher.norm2)?;
        let noise_std = finite_nonnegative("teacher.noise_std", self.teacher.noise_std)?;
        let mirror: Mirror = choice("training.mirror", &self.training.mirror)?;
        let last = *widths.last().expect("resolved_widths refuses an empty list");
        let spectrum: Spectrum = choice("data.spectrum", &self.data.spectrum)?;
        let source: InputSource = choice("data.source", &self.data.source)?;
        let task: Task = choice("training.task", &self.training.task)?;
        let data_path = self.data.path.as_ref().map(std::path::PathBuf::from);
        if source.is_real() && task == Task::Regression {
            return Err(field_error("training.task", format!("= regression, but data.source = {source} has class labels, not a teacher: set training.task = classification")));
        }
        if task == Task::Classification && mirror == Mirror::Entropic {
            return Err(field_error("training.mirror", "= entropic: classification trains one squared-map output per class".to_owned()));
        }
        if data_path.is_some() && !source.is_real() {
            return Err(field_error("data.path", format!("is where a data set's files are, and data.source = {source} reads none")));
        }
        if source == InputSource::File && data_path.is_none() {
            return Err(field_error("data.path", "is missing: data.source = file reads the .npy or .csv it names".to_owned()));
        }
        if source == InputSource::FashionMnist && dim != 784 {
            return Err(field_error("data.dim", format!("= {dim}, but Fashion-MNIST images have 28 x 28 = 784 pixels: set data.dim = 784")));
        }
        let data_layout = self.data.layout(source)?;
        let dataset = match source.is_real() {
            true => Some(validation::data::dataset(source, data_path.as_deref(), &data_layout).map_err(|e| field_error("data.path", e.to_string()))?),
            false => None,
        };
        if let Some(data) = &dataset {
            if data.dim() != dim {
                return Err(field_error("data.dim", format!("= {dim}, but the data set has {} features per row: set data.dim = {}", data.dim(), data.dim())));
            }
        }
        let samples = self.samples(last, dataset.as_deref())?;
        if let Some(data) = &dataset {
            // The class-balanced subsample needs n / K (one more for the first n % K classes) of each class.
            let k = data.classes;
            for (class, &have) in data.class_counts().iter().enumerate() {
                let want = samples / k + usize::from(class < samples % k);
                if have < want {
                    let at = data_path.as_ref().map_or(validation::data::FASHION_MNIST_DIR.into(), |p| p.display().to_string());
                    return Err(field_error(
                        "training.samples",
                        format!("n = {samples} takes {want} rows of class {:?} (class-balanced), and {at} has {have} in its training pool", data.class_names[class]),
                    ));
                }
            }
        }
        if matches!(spectrum, Spectrum::Power { .. }) && dim > MAX_SPECTRUM_DIM {
            return Err(field_error(
                "data.spectrum",
                format!("= {spectrum} lists one eigenvalue per input dimension; data.dim = {dim} is above the {MAX_SPECTRUM_DIM} it holds"),
            ));
        }
        let depth = widths.len();
        let teacher_depth = match self.teacher.depth {
            None => None,
            Some(k) if k < 0 || k as usize > depth => {
                return Err(field_error("teacher.depth", format!("is the teacher's layer k and must lie in 0..={depth} (L = {depth}), got {k}")))
            }
            Some(k) if k as usize == depth => None,
            Some(k) => Some(k as usize),
        };
        let ridge = self.training.ridge;
        if !(ridge.is_finite() && ridge >= 0.0) {
            return Err(field_error("training.ridge", format!("must be finite and >= 0, got {ridge}")));
        }
        if mirror != Mirror::Squared {
            // The general-map system (equations/entropic.md, pnorm.md) is derived for an
            // isotropic input, a last-layer teacher and exact interpolation only.
            let not_derived = |key: &str, what: String| {
                field_error(key, format!("{what}: not derived for the {mirror} map, only for the squared map (equations/teacher.md)"))
            };
            if ridge > 0.0 {
                return Err(not_derived("training.ridge", format!("= {ridge}")));
            }
            if let Some(k) = teacher_depth {
                return Err(not_derived("teacher.depth", format!("= {k} < L = {depth}")));
            }
            if !spectrum.is_identity() {
                return Err(not_derived("data.spectrum", format!("= {spectrum}")));
            }
            if samples >= last {
                return Err(field_error(
                    "training.samples",
                    format!(
                        "n = {samples} is not below the last width d_L = {last}: the {mirror} map needs an \
                         overparameterised last layer (an interpolator), samples < d_L"
                    ),
                ));
            }
        }
        if activation == Activation::Identity && ridge == 0.0 {
            // Linear features span at most min(d_0..d_L) directions.
            let rank = widths.iter().copied().chain([dim]).min().expect("non-empty");
            if samples < last && samples >= rank {
                return Err(field_error(
                    "training.samples",
                    format!(
                        "n = {samples} is not below the rank {rank} = min(data.dim, widths) of identity-activation \
                         features: no interpolator, and least squares is not unique (set training.ridge > 0)"
                    ),
                ));
            }
            if samples >= last && rank < last {
                return Err(field_error(
                    "training.samples",
                    format!(
                        "n = {samples} >= d_L = {last}: least squares on identity-activation features of rank {rank} < d_L \
                         is not unique (set training.ridge > 0)"
                    ),
                ));
            }
        }
        let mut spec = Spec {
            dim,
            widths,
            spectrum,
            source,
            data_path,
            data_layout,
            task,
            activation,
            weights,
            prior,
            teacher_depth,
            norm2,
            noise_std,
            samples,
            mirror,
            init: 0.0,
            ridge,
        };
        spec.init = match self.training.init {
            Some(c) if !c.is_finite() => return Err(field_error("training.init", format!("must be finite, got {c}"))),
            Some(c) if mirror == Mirror::Entropic && c <= 0.0 => {
                return Err(field_error(
                    "training.init",
                    format!("the entropic mirror map needs a positive start a_0 = c 1, got c = {c}"),
                ))
            }
            Some(c) => c,
            // Squared map: start at zero (minimum-norm). Entropic: the prior's mean |a*_i|.
            None => match mirror {
                Mirror::Squared | Mirror::PNorm { .. } => 0.0,
                Mirror::Entropic if norm2 == 0.0 => {
                    return Err(field_error(
                        "training.init",
                        "not set, and its entropic default, the prior's mean |a*_i| = sqrt(2 norm2/(pi d_L)), is 0 \
                         because teacher.norm2 = 0; set training.init to a positive start c (a_0 = c 1)",
                    ))
                }
                Mirror::Entropic => (2.0 * norm2 / (std::f64::consts::PI * last as f64)).sqrt(),
            },
        };
        Ok(spec)
    }
}

impl RawData {
    /// The layout keys of a file source, refused on any other source.
    fn layout(&self, source: InputSource) -> Result<validation::data::DataLayout, SpecError> {
        use validation::data::DataLayout;
        let set = [
            ("data.labels", self.labels.is_some()),
            ("data.label", self.label.is_some()),
            ("data.test_path", self.test_path.is_some()),
            ("data.test_labels", self.test_labels.is_some()),
            ("data.test_fraction", self.test_fraction.is_some()),
        ];
        let preprocess = match &self.preprocess {
            Some(_) if !source.is_real() => return Err(field_error("data.preprocess", format!("preprocesses a data set; data.source = {source} draws its inputs at the theory's scale"))),
            Some(p) => choice("data.preprocess", p)?,
            None => validation::data::Preprocess::default(),
        };
        if source != InputSource::File {
            if let Some((key, _)) = set.iter().find(|(_, s)| *s) {
                return Err(field_error(*key, format!("lays out a data.source = file; data.source = {source} reads no such file")));
            }
            return Ok(DataLayout { preprocess, ..DataLayout::default() });
        }
        let path = |p: &Option<String>| p.as_ref().map(std::path::PathBuf::from);
        let default = DataLayout::default();
        let layout = DataLayout {
            labels: path(&self.labels),
            label: self.label.clone().unwrap_or(default.label),
            test_path: path(&self.test_path),
            test_labels: path(&self.test_labels),
            test_fraction: self.test_fraction.unwrap_or(default.test_fraction),
            preprocess,
        };
        if !(layout.test_fraction > 0.0 && layout.test_fraction < 1.0) {
            return Err(field_error("data.test_fraction", format!("is the share of rows held out for testing and must lie in (0, 1), got {}", layout.test_fraction)));
        }
        if layout.test_path.is_some() && self.test_fraction.is_some() {
            return Err(field_error("data.test_fraction", "holds out rows when there is no data.test_path; set only one".to_owned()));
        }
        if layout.test_labels.is_some() && layout.test_path.is_none() {
            return Err(field_error("data.test_labels", "labels the rows of data.test_path, which is not set".to_owned()));
        }
        if layout.test_path.is_some() && layout.labels.is_some() != layout.test_labels.is_some() {
            return Err(field_error("data.test_labels", "set it exactly when data.labels is set: a test file's labels live where the training file's do".to_owned()));
        }
        Ok(layout)
    }
}

/// The default number of training samples when no sample key is set.
const DEFAULT_SAMPLES: i64 = 500;

impl RawSpec {
    /// n from whichever sample key is set: `training.samples`, or `training.ratio` = n/d_L
    /// (n = round(ratio d_L)), or `features.overparam` = d_L/n (n = round(d_L / overparam)),
    /// rounding half away from zero, or `data.per_class` = n / K on a data set of K classes.
    fn samples(&self, last: usize, dataset: Option<&validation::data::Dataset>) -> Result<usize, SpecError> {
        let set = [self.training.samples.is_some(), self.training.ratio.is_some(), self.features.overparam.is_some(), self.data.per_class.is_some()];
        if set.iter().filter(|&&s| s).count() > 1 {
            let named: Vec<&str> = SAMPLE_KEYS.iter().zip(set).filter(|(_, s)| *s).map(|(k, _)| *k).collect();
            return Err(field_error(named[1], format!("set only one of {} (each sets the sample count n)", named.join(" and "))));
        }
        let from = |key: &str, n: f64, what: String| -> Result<usize, SpecError> {
            let n = n.round();
            if n < 1.0 {
                return Err(field_error(key, format!("{what} gives n = {n} training samples; it needs at least 1")));
            }
            Ok(n as usize)
        };
        if let Some(per_class) = self.data.per_class {
            let per_class = positive("data.per_class", per_class)?;
            return match dataset {
                Some(data) => Ok(per_class * data.classes),
                None => Err(field_error(
                    "data.per_class",
                    format!("takes a class-balanced subsample of a data set; data.source = {} draws its classes, set training.samples", self.data.source),
                )),
            };
        }
        match (self.training.ratio, self.features.overparam) {
            (Some(r), _) if !(r.is_finite() && r > 0.0) => {
                Err(field_error("training.ratio", format!("is n/d_L and must be a finite number > 0, got {r}")))
            }
            (Some(r), _) => from("training.ratio", r * last as f64, format!("n = round({r} x d_L = {last})")),
            (_, Some(q)) if !(q.is_finite() && q > 0.0) => {
                Err(field_error("features.overparam", format!("is d_L/n and must be a finite number > 0, got {q}")))
            }
            (_, Some(q)) => from("features.overparam", last as f64 / q, format!("n = round(d_L = {last} / {q})")),
            _ => positive("training.samples", self.training.samples.unwrap_or(DEFAULT_SAMPLES)),
        }
    }
}

impl RawFeatures {
    /// `widths`, expanded by `depth` when given (constant width), then every layer set
    /// to `width` when given.
    fn resolved_widths(&self) -> Result<Vec<usize>, SpecError> {
        if self.widths.is_empty() {
            return Err(field_error("features.widths", "must list at least one hidden width"));
        }
        if self.widths.len() > MAX_DEPTH {
            return Err(field_error("features.widths", format!("lists {} layers; at most {MAX_DEPTH}", self.widths.len())));
        }
        let mut widths = self
            .widths
            .iter()
            .enumerate()
            .map(|(i, &w)| positive(&format!("features.widths[{i}]"), w))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(depth) = self.depth {
            let depth = positive("features.depth", depth)?;
            if depth > MAX_DEPTH {
                return Err(field_error("features.depth", format!("must be at most {MAX_DEPTH}, got {depth}")));
            }
            if widths.iter().any(|&w| w != widths[0]) {
                return Err(field_error(
                    "features.depth",
                    format!("sets the depth at constant width, but features.widths = {widths:?} are not all equal"),
                ));
            }
            widths = vec![widths[0]; depth];
        }
        if let Some(width) = self.width {
            widths = vec![positive("features.width", width)?; widths.len()];
        }
        Ok(widths)
    }
}

