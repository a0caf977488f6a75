//! Real data sets for the simulator: `data.source = "fashion-mnist"` (the IDX files of the
//! Debian package `dataset-fashion-mnist`, gzip or raw) and `data.source = "file"` (a user's
//! `.npy` or `.csv`). Each is read once per process and preprocessed as the theory's scale
//! asks: each coordinate centred and all scaled so that `E |x|^2 = d0`, both computed on the
//! training pool only.

use faer::Mat;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Where `apt-get install dataset-fashion-mnist` puts the files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Why a data set cannot be read; every message names the file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    #[error("{path}: cannot read it: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: not an IDX file of unsigned bytes: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: not a data table: {reason}")]
    Table { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Mismatch { path: PathBuf, reason: String },
}

/// An IDX array of unsigned bytes: its dimensions and its values in row-major order.
#[derive(Debug, PartialEq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub values: Vec<u8>,
}

/// Reads an IDX file (magic `0 0 0x08 ndim`, big-endian u32 dimensions, then the bytes),
/// gunzipping it when it starts with the gzip magic.
pub fn read_idx(path: &Path) -> Result<Idx, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::Read { path: path.to_owned(), reason: e.to_string() })?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::Format { path: path.to_owned(), reason: format!("the gzip stream is broken ({e})") })?;
        out
    } else {
        raw
    };
    let format = |reason: String| DataError::Format { path: path.to_owned(), reason };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(format(format!("the magic number is {:02x?}, not 00 00 08 NDIM", &bytes[..bytes.len().min(4)])));
    }
    if bytes[2] != 0x08 {
        return Err(format(format!("element type 0x{:02x}; only unsigned bytes (0x08) are read", bytes[2])));
    }
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if ndim == 0 || bytes.len() < header {
        return Err(format(format!("{ndim} dimensions and a header cut short at {} bytes", bytes.len())));
    }
    let dims: Vec<usize> = (0..ndim).map(|k| u32::from_be_bytes(bytes[4 + 4 * k..8 + 4 * k].try_into().expect("4 bytes")) as usize).collect();
    let count: usize = dims.iter().product();
    if bytes.len() - header != count {
        return Err(format(format!("dimensions {dims:?} need {count} values, the file holds {}", bytes.len() - header)));
    }
    Ok(Idx { dims, values: bytes[header..].to_vec() })
}

/// A labelled data set: training pool and test split, preprocessed, one row per sample.
pub struct Dataset {
    pub train: Mat<f32>,
    pub train_labels: Vec<usize>,
    pub test: Mat<f32>,
    pub test_labels: Vec<usize>,
    pub classes: usize,
    /// The label each class index stands for, in class order (`"0"`..`"9"` for Fashion-MNIST).
    pub class_names: Vec<String>,
}

impl Dataset {
    pub fn dim(&self) -> usize {
        self.train.ncols()
    }

    /// How many training rows each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        self.train_labels.iter().for_each(|&c| counts[c] += 1);
        counts
    }

    /// Preprocesses as `preprocess` says, with the training pool's mean and second moment;
    /// `train` and `test` are row-major with `dim` columns.
    #[allow(clippy::too_many_arguments)]
    fn preprocessed(train: &[f64], train_labels: Vec<usize>, test: &[f64], test_labels: Vec<usize>, dim: usize, class_names: Vec<String>, preprocess: Preprocess, path: &Path) -> Result<Dataset, DataError> {
        let n = train_labels.len();
        let mismatch = |reason: String| DataError::Mismatch { path: path.to_owned(), reason };
        if class_names.len() < 2 {
            return Err(mismatch(format!("{} class in the labels; classification needs at least two", class_names.len())));
        }
        let mean: Vec<f64> = match preprocess {
            Preprocess::CentreScale => (0..dim).map(|j| (0..n).map(|i| train[i * dim + j]).sum::<f64>() / n as f64).collect(),
            Preprocess::Scale | Preprocess::None => vec![0.0; dim],
        };
        let spread: f64 = (0..n).map(|i| (0..dim).map(|j| (train[i * dim + j] - mean[j]).powi(2)).sum::<f64>()).sum::<f64>() / n as f64;
        if !(spread > 0.0) && preprocess != Preprocess::None {
            return Err(mismatch(format!("every training row is the same: nothing to scale to E|x|^2 = d0 (data.preprocess = {preprocess})")));
        }
        let scale = if preprocess == Preprocess::None { 1.0 } else { (dim as f64 / spread).sqrt() };
        let matrix = |rows: &[f64]| Mat::<f32>::from_fn(rows.len() / dim, dim, |i, j| ((rows[i * dim + j] - mean[j]) * scale) as f32);
        Ok(Dataset { train: matrix(train), train_labels, test: matrix(test), test_labels, classes: class_names.len(), class_names })
    }
}

/// How a data set is preprocessed (`data.preprocess`), with statistics of the training pool only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Preprocess {
    /// Centre each coordinate, then scale all so that `E |x|^2 = d0`: the theory's scale.
    #[default]
    CentreScale,
    /// Scale only, to `E |x|^2 = d0` (the raw second moment).
    Scale,
    /// The values as read.
    None,
}

impl std::fmt::Display for Preprocess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Preprocess::CentreScale => "centre-scale",
            Preprocess::Scale => "scale",
            Preprocess::None => "none",
        })
    }
}

impl std::str::FromStr for Preprocess {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "centre-scale" | "center-scale" => Ok(Preprocess::CentreScale),
            "scale" => Ok(Preprocess::Scale),
            "none" => Ok(Preprocess::None),
            _ => Err(format!("unknown value `{s}` (expected centre-scale, scale or none)")),
        }
    }
}

impl serde::Serialize for Preprocess {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a data set is read: a `data.source = "file"` layout (the `data.*` keys besides
/// `path`), and for every data set its preprocessing.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DataLayout {
    /// A `.npy` vector of labels (`data.labels`); `None`: the last column of the matrix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<PathBuf>,
    /// The label column of a `.csv` (`data.label`).
    pub label: String,
    /// A test split of its own (`data.test_path`, with `data.test_labels` beside a `.npy`);
    /// `None`: `test_fraction` of the rows held out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_labels: Option<PathBuf>,
    pub test_fraction: f64,
    pub preprocess: Preprocess,
}

impl Default for DataLayout {
    fn default() -> Self {
        DataLayout { labels: None, label: "label".into(), test_path: None, test_labels: None, test_fraction: 0.2, preprocess: Preprocess::CentreScale }
    }
}

impl DataLayout {
    pub fn is_default(&self) -> bool {
        *self == DataLayout::default()
    }
}

/// The seed of the fixed permutation that holds out the test rows of a file without a test
/// split: the same split for every trial and every run.
const HOLD_OUT_SEED: u64 = 0x7e57_5e7;

/// A labelled table: row-major values and one label per row, as written in the file.
struct Table {
    values: Vec<f64>,
    cols: usize,
    labels: Vec<String>,
}

/// What a data set is read from: the key under which [`cached`] keeps it.
#[derive(Clone, Debug, PartialEq)]
enum Origin {
    File(PathBuf, DataLayout),
    FashionMnist(PathBuf, Preprocess),
}

/// The data set `origin` names, read by `read` the first time and kept for the process:
/// a spec's check and every trial of a run share one read.
fn cached(origin: Origin, read: impl FnOnce() -> Result<Dataset, DataError>) -> Result<Arc<Dataset>, DataError> {
    static CACHE: OnceLock<Mutex<Vec<(Origin, Arc<Dataset>)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    if let Some((_, d)) = cache.lock().expect("no panic while holding the cache").iter().find(|(k, _)| *k == origin) {
        return Ok(d.clone());
    }
    let data = Arc::new(read()?);
    cache.lock().expect("no panic while holding the cache").push((origin, data.clone()));
    Ok(data)
}

/// A user's data set (`data.source = "file"`), read once per (path, layout).
pub fn file(path: &Path, layout: &DataLayout) -> Result<Arc<Dataset>, DataError> {
    cached(Origin::File(path.to_owned(), layout.clone()), || read_file(path, layout))
}

fn read_file(path: &Path, layout: &DataLayout) -> Result<Dataset, DataError> {
    let train = read_table(path, layout.labels.as_deref(), &layout.label)?;
    let (train, test, test_at) = match &layout.test_path {
        Some(test_path) => {
            let test = read_table(test_path, layout.test_labels.as_deref(), &layout.label)?;
            if test.cols != train.cols {
                return Err(DataError::Mismatch { path: test_path.clone(), reason: format!("{} columns of features, the training file {} has {}", test.cols, path.display(), train.cols) });
            }
            (train, test, test_path.clone())
        }
        None => {
            use rand::{seq::SliceRandom, SeedableRng};
            let rows = train.labels.len();
            let held = (layout.test_fraction * rows as f64).round() as usize;
            if held == 0 || held == rows {
                return Err(DataError::Mismatch { path: path.to_owned(), reason: format!("data.test_fraction = {} of {rows} rows leaves no test or no training rows", layout.test_fraction) });
            }
            let mut order: Vec<usize> = (0..rows).collect();
            order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(HOLD_OUT_SEED));
            let pick = |rows: &[usize]| Table {
                values: rows.iter().flat_map(|&i| train.values[i * train.cols..(i + 1) * train.cols].iter().copied()).collect(),
                cols: train.cols,
                labels: rows.iter().map(|&i| train.labels[i].clone()).collect(),
            };
            let (test_rows, train_rows) = order.split_at(held);
            (pick(train_rows), pick(test_rows), path.to_owned())
        }
    };
    // Classes in sorted order of their labels: numerically when every label is a number.
    let mut names: Vec<String> = train.labels.iter().chain(&test.labels).cloned().collect();
    names.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    names.dedup();
    let index = |labels: &[String]| labels.iter().map(|l| names.iter().position(|n| n == l).expect("every label is named")).collect::<Vec<_>>();
    let missing: Vec<&String> = names.iter().filter(|n| !train.labels.contains(n)).collect();
    if !missing.is_empty() {
        return Err(DataError::Mismatch { path: test_at, reason: format!("labels {missing:?} appear in the test split but in no training row") });
    }
    let (train_labels, test_labels) = (index(&train.labels), index(&test.labels));
    Dataset::preprocessed(&train.values, train_labels, &test.values, test_labels, train.cols, names, layout.preprocess, path)
}

/// Reads `.npy` (labels in `labels`, or the last column) or `.csv` (a header; labels in column `label`).
fn read_table(path: &Path, labels: Option<&Path>, label: &str) -> Result<Table, DataError> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let table = match extension.as_str() {
        "npy" => {
            let (shape, values) = read_npy(path)?;
            let table_error = |reason: String| DataError::Table { path: path.to_owned(), reason };
            let [rows, cols] = shape[..] else { return Err(table_error(format!("shape {shape:?}: a data matrix has two dimensions (rows, columns)"))) };
            match labels {
                Some(label_path) => {
                    let (label_shape, label_values) = read_npy(label_path)?;
                    if label_shape != [rows] && label_shape != [rows, 1] {
                        return Err(DataError::Table { path: label_path.to_owned(), reason: format!("shape {label_shape:?}: {} needs one label per row, shape ({rows},)", path.display()) });
                    }
                    Table { values, cols, labels: integer_labels(label_path, &label_values, 1, 0)? }
                }
                None if cols < 2 => return Err(table_error(format!("{cols} column: with no data.labels file the last column holds the labels, and no feature is left"))),
                None => {
                    let labels = integer_labels(path, &values, cols, cols - 1)?;
                    let values = values.chunks(cols).flat_map(|row| row[..cols - 1].iter().copied()).collect();
                    Table { values, cols: cols - 1, labels }
                }
            }
        }
        "csv" => {
            if let Some(l) = labels {
                return Err(DataError::Table { path: path.to_owned(), reason: format!("data.labels = {} is for .npy matrices; a .csv names its label column with data.label", l.display()) });
            }
            read_csv(path, label)?
        }
        _ => return Err(DataError::Table { path: path.to_owned(), reason: "unknown file type: data.source = file reads .npy or .csv".into() }),
    };
    if table.labels.is_empty() {
        return Err(DataError::Table { path: path.to_owned(), reason: "no rows".into() });
    }
    if let Some(at) = table.values.iter().position(|v| !v.is_finite()) {
        return Err(DataError::Table { path: path.to_owned(), reason: format!("row {}, column {} is {}: the data must be finite numbers", at / table.cols + 1, at % table.cols + 1, table.values[at]) });
    }
    Ok(table)
}

/// Column `column` of a row-major matrix with `cols` columns, as integer labels.
fn integer_labels(path: &Path, values: &[f64], cols: usize, column: usize) -> Result<Vec<String>, DataError> {
    values
        .iter()
        .skip(column)
        .step_by(cols)
        .enumerate()
        .map(|(row, &v)| {
            if v.is_finite() && v.fract() == 0.0 {
                Ok(format!("{}", v as i64))
            } else {
                Err(DataError::Table { path: path.to_owned(), reason: format!("label {v} in row {}: labels must be integers", row + 1) })
            }
        })
        .collect()
}

/// A `.npy` array of numbers: its shape and its values (row-major) as f64. Reads format
/// versions 1–3, little- or big-endian ints, unsigned ints, floats and bools, C or Fortran order.
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f64>), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::Read { path: path.to_owned(), reason: e.to_string() })?;
    let error = |reason: String| DataError::Table { path: path.to_owned(), reason };
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err(error(format!("the magic number is {:02x?}, not the .npy magic 93 'NUMPY'", &bytes[..bytes.len().min(6)])));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize, 12),
        v => return Err(error(format!(".npy format version {v}; versions 1 to 3 are read"))),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| error("the header is cut short".into()))?;
    let header = String::from_utf8_lossy(header);
    // The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
    let field = |name: &str| -> Option<&str> {
        let at = header.find(&format!("'{name}'"))? + name.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
        Some(rest[..end].trim())
    };
    let descr = field("descr").map(|d| d.trim_matches(['\'', '"'])).ok_or_else(|| error(format!("no 'descr' in the header {header:?}")))?;
    let fortran = match field("fortran_order") {
        Some("True") => true,
        Some("False") => false,
        other => return Err(error(format!("fortran_order is {other:?}, not True or False"))),
    };
    let shape_text = field("shape").ok_or_else(|| error(format!("no 'shape' in the header {header:?}")))?;
    let shape: Vec<usize> = shape_text
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| error(format!("shape {shape_text} is not a tuple of sizes"))))
        .collect::<Result<_, _>>()?;
    let (order, kind, size) = {
        let mut chars = descr.chars();
        let order = chars.next().unwrap_or('?');
        let kind = chars.next().unwrap_or('?');
        (order, kind, chars.as_str().parse::<usize>().unwrap_or(0))
    };
    let big = match order {
        '<' | '|' | '=' => false,
        '>' => true,
        _ => return Err(error(format!("dtype {descr}: no byte order"))),
    };
    let decode: fn(&[u8]) -> f64 = match (kind, size, big) {
        ('f', 4, false) => |b| f32::from_le_bytes(b.try_into().unwrap()) as f64,
        ('f', 8, false) => |b| f64::from_le_bytes(b.try_into().unwrap()),
        ('f', 4, true) => |b| f32::from_be_bytes(b.try_into().unwrap()) as f64,
        ('f', 8, true) => |b| f64::from_be_bytes(b.try_into().unwrap()),
        ('i', 1, _) => |b| b[0] as i8 as f64,
        ('u', 1, _) | ('b', 1, _) => |b| b[0] as f64,
        ('i', 2, false) => |b| i16::from_le_bytes(b.try_into().unwrap()) as f64,
        ('i', 4, false) => |b| i32::from_le_bytes(b.try_into().unwrap()) as f64,
        ('i', 8, false) => |b| i64::from_le_bytes(b.try_into().unwrap()) as f64,
        ('u', 2, false) => |b| u16::from_le_bytes(b.try_into().unwrap()) as f64,
        ('u', 4, false) => |b| u32::from_le_bytes(b.try_into().unwrap()) as f64,
        ('u', 8, false) => |b| u64::from_le_bytes(b.try_into().unwrap()) as f64,
        ('i', 2, true) => |b| i16::from_be_bytes(b.try_into().unwrap()) as f64,
        ('i', 4, true) => |b| i32::from_be_bytes(b.try_into().unwrap()) as f64,
        ('i', 8, true) => |b| i64::from_be_bytes(b.try_into().unwrap()) as f64,
        ('u', 2, true) => |b| u16::from_be_bytes(b.try_into().unwrap()) as f64,
        ('u', 4, true) => |b| u32::from_be_bytes(b.try_into().unwrap()) as f64,
        ('u', 8, true) => |b| u64::from_be_bytes(b.try_into().unwrap()) as f64,
        _ => return Err(error(format!("dtype {descr}: only numbers (float, int, uint, bool) are read"))),
    };
    let count: usize = shape.iter().product();
    let data = &bytes[start + header_len..];
    if data.len() != count * size {
        return Err(error(format!("shape {shape:?} of {descr} needs {} bytes of data, the file holds {}", count * size, data.len())));
    }
    let flat: Vec<f64> = data.chunks_exact(size).map(decode).collect();
    let values = match (fortran, &shape[..]) {
        (true, [rows, cols]) => (0..rows * cols).map(|k| flat[(k % cols) * rows + k / cols]).collect(),
        _ => flat,
    };
    Ok((shape, values))
}

/// A `.csv` with a header: column `label` holds the labels, every other column a number.
fn read_csv(path: &Path, label: &str) -> Result<Table, DataError> {
    let error = |reason: String| DataError::Table { path: path.to_owned(), reason };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).map_err(|e| DataError::Read { path: path.to_owned(), reason: e.to_string() })?;
    let header = reader.headers().map_err(|e| error(e.to_string()))?.clone();
    let at = header.iter().position(|h| h == label).ok_or_else(|| {
        error(format!("no column named {label:?} (data.label) in the header {:?}", header.iter().collect::<Vec<_>>()))
    })?;
    let cols = header.len() - 1;
    if cols == 0 {
        return Err(error("the label column is the only column: no feature".into()));
    }
    let (mut values, mut labels) = (Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => error(format!("line {line} has {len} cells, the header has {expected_len}")),
            _ => error(format!("line {line}: {e}")),
        })?;
        for (j, cell) in record.iter().enumerate() {
            if j == at {
                labels.push(cell.to_owned());
                continue;
            }
            let v: f64 = cell.parse().map_err(|_| error(format!("line {line}, column {:?}: {cell:?} is not a number", &header[j])))?;
            if !v.is_finite() {
                return Err(error(format!("line {line}, column {:?} is {cell}: the data must be finite numbers", &header[j])));
            }
            values.push(v);
        }
    }
    Ok(Table { values, cols, labels })
}

/// The labelled data set a spec names: Fashion-MNIST from `path` (default the package's
/// directory), or a file source's `path` laid out as `layout` says.
pub fn dataset(source: crate::model::InputSource, path: Option<&Path>, layout: &DataLayout) -> Result<Arc<Dataset>, DataError> {
    use crate::model::InputSource;
    match (source, path) {
        (InputSource::FashionMnist, dir) => fashion_mnist_as(dir.unwrap_or(Path::new(FASHION_MNIST_DIR)), layout.preprocess),
        (InputSource::File, Some(path)) => file(path, layout),
        (other, _) => unreachable!("{other} is not a data set with a path (the spec checks it)"),
    }
}

/// Fashion-MNIST from `dir` (the package's four files), centred and scaled.
pub fn fashion_mnist(dir: &Path) -> Result<Arc<Dataset>, DataError> {
    fashion_mnist_as(dir, Preprocess::CentreScale)
}

/// Fashion-MNIST from `dir`, preprocessed as `preprocess` says, read once per (directory, preprocessing).
fn fashion_mnist_as(dir: &Path, preprocess: Preprocess) -> Result<Arc<Dataset>, DataError> {
    cached(Origin::FashionMnist(dir.to_owned(), preprocess), || read_fashion_mnist(dir, preprocess))
}

fn read_fashion_mnist(dir: &Path, preprocess: Preprocess) -> Result<Dataset, DataError> {
    let file = |name: &str| {
        let gz = dir.join(format!("{name}.gz"));
        if gz.exists() {
            gz
        } else {
            dir.join(name)
        }
    };
    let images = |name: &str| -> Result<(Idx, PathBuf), DataError> {
        let path = file(name);
        let idx = read_idx(&path)?;
        if idx.dims.len() != 3 {
            return Err(DataError::Mismatch { path, reason: format!("images need 3 dimensions (count, rows, cols), found {:?}", idx.dims) });
        }
        Ok((idx, path))
    };
    let labels = |name: &str, count: usize| -> Result<Vec<usize>, DataError> {
        let path = file(name);
        let idx = read_idx(&path)?;
        if idx.dims != [count] {
            return Err(DataError::Mismatch { path, reason: format!("{:?} labels for {count} images", idx.dims) });
        }
        Ok(idx.values.iter().map(|&v| v as usize).collect())
    };
    let (train, train_path) = images("train-images-idx3-ubyte")?;
    let (test, test_path) = images("t10k-images-idx3-ubyte")?;
    let dim = train.dims[1] * train.dims[2];
    if test.dims[1] * test.dims[2] != dim {
        return Err(DataError::Mismatch { path: test_path, reason: format!("images of {:?}, the training images are {:?}", &test.dims[1..], &train.dims[1..]) });
    }
    let train_labels = labels("train-labels-idx1-ubyte", train.dims[0])?;
    let test_labels = labels("t10k-labels-idx1-ubyte", test.dims[0])?;
    let classes = train_labels.iter().chain(&test_labels).max().map_or(0, |m| m + 1);
    let as_f64 = |idx: &Idx| idx.values.iter().map(|&v| v as f64).collect::<Vec<_>>();
    let names = (0..classes).map(|c| c.to_string()).collect();
    Dataset::preprocessed(&as_f64(&train), train_labels, &as_f64(&test), test_labels, dim, names, preprocess, &train_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn idx(dims: &[u32], values: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        dims.iter().for_each(|d| out.extend_from_slice(&d.to_be_bytes()));
        out.extend_from_slice(values);
        out
    }

    /// A raw and a gzipped file read back; every malformed case is an error naming the file.
    #[test]
    fn idx_files_are_read_and_malformed_ones_refused_by_path() {
        let dir = std::env::temp_dir().join(format!("rfrisk-idx-{}", std::process::id()));
        let good = idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let raw = write(&dir, "good", &good);
        assert_eq!(read_idx(&raw), Ok(Idx { dims: vec![2, 3], values: vec![1, 2, 3, 4, 5, 6] }));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &good).unwrap();
        let zipped = write(&dir, "good.gz", &gz.finish().unwrap());
        assert_eq!(read_idx(&zipped).unwrap().values, vec![1, 2, 3, 4, 5, 6]);
        let cases: [(&str, Vec<u8>, &str); 5] = [
            ("magic", vec![1, 2, 3, 4, 5], "the magic number"),
            ("float", { let mut b = good.clone(); b[2] = 0x0d; b }, "element type 0x0d"),
            ("short", good[..good.len() - 1].to_vec(), "need 6 values, the file holds 5"),
            ("header", vec![0, 0, 8, 3, 0, 0], "a header cut short"),
            ("gzip", vec![0x1f, 0x8b, 8, 0, 1, 2, 3], "the gzip stream is broken"),
        ];
        for (name, bytes, needle) in cases.clone() {
            let path = write(&dir, name, &bytes);
            let message = read_idx(&path).unwrap_err().to_string();
            assert!(message.contains(path.to_str().unwrap()) && message.contains(needle), "{name}: {message}");
        }
        let missing = read_idx(&dir.join("absent")).unwrap_err().to_string();
        assert!(missing.contains("absent: cannot read it"), "{missing}");
        // A directory whose labels do not match its images.
        let set = dir.join("set");
        write(&set, "train-images-idx3-ubyte", &idx(&[3, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
        write(&set, "t10k-images-idx3-ubyte", &idx(&[1, 2, 2], &[1, 2, 3, 4]));
        write(&set, "train-labels-idx1-ubyte", &idx(&[2], &[0, 1]));
        write(&set, "t10k-labels-idx1-ubyte", &idx(&[1], &[1]));
        let message = fashion_mnist(&set).err().expect("mismatched labels").to_string();
        assert!(message.contains("train-labels-idx1-ubyte") && message.contains("[2] labels for 3 images"), "{message}");
        write(&set, "train-labels-idx1-ubyte", &idx(&[3], &[0, 1, 1]));
        let data = fashion_mnist(&set).unwrap();
        assert_eq!((data.dim(), data.classes, data.train.nrows(), data.test.nrows()), (4, 2, 3, 1));
        // Centred, and E|x|^2 = d0 on the training pool.
        let norm2: f64 = (0..3).map(|i| (0..4).map(|j| (data.train[(i, j)] as f64).powi(2)).sum::<f64>()).sum::<f64>() / 3.0;
        assert!((norm2 - 4.0).abs() < 1e-5, "{norm2}");
        crate::record::record("idx-reader", &format!("{} malformed files refused by path; E|x|^2/d0 = {:.6}", cases.len(), norm2 / 4.0));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The three preprocessings of a tiny `.csv` held out 1 row in 4: centred and scaled (means
    /// 0, E|x|^2 = d0 on the training pool), scaled only (E|x|^2 = d0, the means kept in ratio),
    /// and as read.
    #[test]
    fn preprocessing_is_as_stated_on_the_training_pool() {
        let dir = std::env::temp_dir().join(format!("rfrisk-preprocess-{}", std::process::id()));
        let rows: String = (0..8).map(|i| format!("{},{},{}\n", 1.0 + i as f64, 10.0 - 2.0 * i as f64, ["a", "b"][i % 2])).collect();
        let path = write(&dir, "t.csv", format!("x,y,label\n{rows}").as_bytes());
        let layout = |preprocess| DataLayout { test_fraction: 0.25, preprocess, ..DataLayout::default() };
        let stats = |d: &Dataset| {
            let n = d.train.nrows() as f64;
            let mean = |j: usize| (0..d.train.nrows()).map(|i| d.train[(i, j)] as f64).sum::<f64>() / n;
            let norm2 = (0..d.train.nrows()).map(|i| (0..2).map(|j| (d.train[(i, j)] as f64).powi(2)).sum::<f64>()).sum::<f64>() / n;
            (mean(0), mean(1), norm2)
        };
        let centred = file(&path, &layout(Preprocess::CentreScale)).unwrap();
        let (m0, m1, norm2) = stats(&centred);
        assert!(m0.abs() < 1e-6 && m1.abs() < 1e-6 && (norm2 - 2.0).abs() < 1e-5, "{m0} {m1} {norm2}");
        let scaled = file(&path, &layout(Preprocess::Scale)).unwrap();
        let (_, _, norm2) = stats(&scaled);
        assert!((norm2 - 2.0).abs() < 1e-5, "{norm2}");
        let raw = file(&path, &layout(Preprocess::None)).unwrap();
        assert_eq!((raw.train.nrows(), raw.test.nrows(), raw.class_names.clone()), (6, 2, vec!["a".to_string(), "b".to_string()]));
        let ratio = scaled.train[(0, 0)] / raw.train[(0, 0)];
        for i in 0..6 {
            for j in 0..2 {
                assert!((scaled.train[(i, j)] - ratio * raw.train[(i, j)]).abs() < 1e-5, "scale is one factor");
                let value = raw.train[(i, j)] as f64;
                assert!(value.fract() == 0.0 && (1.0..=10.0).contains(&value.abs().max(1.0)), "as read: {value}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
