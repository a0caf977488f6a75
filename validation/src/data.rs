//! Real data sets for the simulator (`data.source = "fashion-mnist"`): the IDX files of the
//! Debian package `dataset-fashion-mnist` (gzip or raw), read once per directory and
//! preprocessed as the theory's scale asks: each coordinate centred and all scaled so that
//! `E |x|^2 = d0`, both computed on the training pool only.

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
}

impl Dataset {
    pub fn dim(&self) -> usize {
        self.train.ncols()
    }
}

/// Fashion-MNIST from `dir` (the package's four files), read once per directory.
pub fn fashion_mnist(dir: &Path) -> Result<Arc<Dataset>, DataError> {
    static CACHE: OnceLock<Mutex<Vec<(PathBuf, Arc<Dataset>)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    if let Some((_, d)) = cache.lock().expect("no panic while holding the cache").iter().find(|(p, _)| p == dir) {
        return Ok(d.clone());
    }
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
    if classes < 2 {
        return Err(DataError::Mismatch { path: train_path, reason: "fewer than two classes".into() });
    }
    // Centre each coordinate and scale to E|x|^2 = d0, on the training pool.
    let n = train.dims[0];
    let mean: Vec<f64> = (0..dim).map(|j| (0..n).map(|i| train.values[i * dim + j] as f64).sum::<f64>() / n as f64).collect();
    let spread: f64 = (0..n).map(|i| (0..dim).map(|j| (train.values[i * dim + j] as f64 - mean[j]).powi(2)).sum::<f64>()).sum::<f64>() / n as f64;
    let scale = (dim as f64 / spread).sqrt();
    let matrix = |idx: &Idx| Mat::<f32>::from_fn(idx.dims[0], dim, |i, j| ((idx.values[i * dim + j] as f64 - mean[j]) * scale) as f32);
    let data = Arc::new(Dataset { train: matrix(&train), train_labels, test: matrix(&test), test_labels, classes });
    cache.lock().expect("no panic while holding the cache").push((dir.to_owned(), data.clone()));
    Ok(data)
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
}
