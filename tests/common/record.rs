//! What a check measured, kept for the README's "How every number is checked" table.
//!
//! Each check writes its measured values as one line of text to `target/checks/ID`;
//! `tests/readme_table.rs` compares the table's cells with them (run by `.ci/run` after
//! the suite) or rewrites the cells from them (`RFRISK_WRITE_README=1`). Shared by both
//! crates' tests through `#[path]`, so that there is one copy. Seeded results are the same
//! on every run; a value that moves with the CPU's SIMD path or the OpenCL compiler (an
//! f32 rounding difference, an iteration count) is recorded to one significant digit.

use std::path::{Path, PathBuf};

/// `target/checks/` of this workspace (or of `CARGO_TARGET_DIR`).
pub fn checks_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.ancestors().find(|d| d.join("Cargo.lock").exists()).unwrap_or(manifest);
        root.join("target")
    });
    target.join("checks")
}

/// Keeps `measured` as check `id`'s result (written atomically: a crash leaves the old one).
pub fn record(id: &str, measured: &str) {
    let dir = checks_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join(format!(".{id}.{}", std::process::id()));
    std::fs::write(&tmp, format!("{measured}\n")).unwrap();
    std::fs::rename(&tmp, dir.join(id)).unwrap();
    eprintln!("check {id}: {measured}");
}
