//! Writing result files so that a reader never sees half of one.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed to
/// disk, then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::other(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A number in a CSV: the shortest text that reads back to the same f64, in decimal
/// between 1e-4 and 1e15 and in scientific notation outside (`3.364187196284177e-16`, not
/// `0.0000000000000003364187196284177`); 0 is `0`.
pub fn csv_number(x: f64) -> String {
    if x == 0.0 || (1e-4..1e15).contains(&x.abs()) {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

/// A number for a person: `digits` significant digits, in fixed notation between 1e-3 and
/// 1e6 and in scientific notation outside; never an `e0` exponent; 0 is `0`.
pub fn readable(x: f64, digits: usize) -> String {
    let digits = digits.max(1);
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let exponent = x.abs().log10().floor() as i32;
    if (-3..6).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.*e}", digits - 1)
    }
}

/// A probability (a p-value, a power) for a person: three decimals, and below 0.001 two
/// significant digits in scientific notation (`p = 0.360`, `p = 1.4e-7`).
pub fn probability(p: f64) -> String {
    if p >= 1e-3 || p == 0.0 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_a_person_expects() {
        assert_eq!(csv_number(3.364187196284177e-16), "3.364187196284177e-16");
        assert_eq!(csv_number(0.5), "0.5");
        assert_eq!(csv_number(0.0), "0");
        assert_eq!(csv_number(-2.5e-7).parse::<f64>().unwrap(), -2.5e-7);
        assert_eq!(readable(1.394673994004884, 16), "1.394673994004884");
        assert_eq!(readable(0.7822654777606989, 16), "0.7822654777606989");
        assert_eq!(readable(1.1e-16, 2), "1.1e-16");
        assert_eq!(readable(0.0, 2), "0");
        assert_eq!(readable(8.049840372459598e-1, 4), "0.8050");
        assert_eq!(readable(2.5e7, 3), "2.50e7");
        assert_eq!(probability(0.36), "0.360");
        assert_eq!(probability(1.4e-7), "1.4e-7");
    }
}
