//! A user's own data set (`data.source = "file"`) as the binary meets it: the same table as
//! `.csv`, as `.npy` with its labels in the last column, with the labels in a second `.npy`,
//! and in Fortran order gives the same trials bit for bit; `rfrisk gap` measures the paired
//! accuracy gap on it; and every malformed file is exit 2 with the path and the reason named,
//! before anything is written.

mod common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rfrisk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args).output().expect("runs the binary")
}

/// A directory of its own per test (tests run in parallel).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rfrisk-real-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `.npy` file (format 1.0) of `descr` with `shape`, holding `data` as written.
fn npy(path: &Path, descr: &str, shape: &[usize], fortran: bool, data: &[u8]) {
    let shape = match shape {
        [n] => format!("({n},)"),
        s => format!("({})", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}", if fortran { "True" } else { "False" });
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

const ROWS: usize = 300;
const DIM: usize = 20;

/// Three classes, each a Gaussian cloud around its own centre in 20 dimensions: row i is in
/// class i % 3.
fn table() -> (Vec<f64>, Vec<usize>) {
    let mut state = 2024u64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut values = Vec::with_capacity(ROWS * DIM);
    for i in 0..ROWS {
        for j in 0..DIM {
            let centre = if j % 3 == i % 3 { 1.5 } else { 0.0 };
            // Box–Muller, one value per pair.
            let z = (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
            values.push(centre + z);
        }
    }
    (values, (0..ROWS).map(|i| i % 3).collect())
}

const NAMES: [&str; 3] = ["cat", "dog", "eel"];

/// The same table in every layout the reader takes.
fn write_layouts(dir: &Path) {
    let (values, labels) = table();
    let mut csv = (0..DIM).map(|j| format!("x{j}")).collect::<Vec<_>>().join(",") + ",species\n";
    for i in 0..ROWS {
        let row: Vec<String> = values[i * DIM..(i + 1) * DIM].iter().map(|v| format!("{v:?}")).collect();
        csv += &format!("{},{}\n", row.join(","), NAMES[labels[i]]);
    }
    std::fs::write(dir.join("table.csv"), csv).unwrap();
    let with_labels: Vec<f64> = (0..ROWS).flat_map(|i| values[i * DIM..(i + 1) * DIM].iter().copied().chain([labels[i] as f64])).collect();
    npy(&dir.join("last-column.npy"), "<f8", &[ROWS, DIM + 1], false, &f64_bytes(&with_labels));
    npy(&dir.join("features.npy"), "<f8", &[ROWS, DIM], false, &f64_bytes(&values));
    let labels_i8: Vec<u8> = labels.iter().flat_map(|&l| (l as i64).to_le_bytes()).collect();
    npy(&dir.join("labels.npy"), "<i8", &[ROWS], false, &labels_i8);
    let fortran: Vec<f64> = (0..DIM).flat_map(|j| (0..ROWS).map(move |i| (i, j))).map(|(i, j)| values[i * DIM + j]).collect();
    npy(&dir.join("fortran.npy"), "<f8", &[ROWS, DIM], true, &f64_bytes(&fortran));
}

fn base(path: &Path) -> Vec<String> {
    [
        "data.source=file".to_owned(),
        format!("data.path={}", path.display()),
        format!("data.dim={DIM}"),
        "training.task=classification".into(),
        "data.per_class=20".into(),
        "features.widths=[200]".into(),
        "features.activation=relu".into(),
    ]
    .into_iter()
    .flat_map(|a| ["--set".to_owned(), a])
    .collect()
}

fn spec_file(dir: &Path) -> PathBuf {
    let path = dir.join("spec.toml");
    std::fs::write(&path, "[data]\ndim = 20\n").unwrap();
    path
}

fn simulate(spec: &Path, sets: &[String]) -> Output {
    let mut args = vec!["simulate".to_owned(), spec.display().to_string(), "--trials".into(), "3".into()];
    args.extend_from_slice(sets);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    rfrisk(&args)
}

/// The trials' (weights, test error, one-hot error) of a `simulate` into `out` (its CSV).
fn trials(spec: &Path, sets: &[String], out: &Path) -> Vec<(String, f64, f64)> {
    let sets: Vec<String> = sets.iter().cloned().chain(["--out".to_owned(), out.display().to_string()]).collect();
    let run = simulate(spec, &sets);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let rows: Vec<rfrisk::simulate::TrialRow> = csv::Reader::from_path(out).unwrap().deserialize().map(Result::unwrap).collect();
    rows.into_iter().map(|r| (r.weights, r.test_error.unwrap(), r.excess_risk.unwrap())).collect()
}

#[test]
fn every_layout_of_one_table_gives_the_same_trials() {
    let dir = scratch("layouts");
    write_layouts(&dir);
    let spec = spec_file(&dir);
    let csv = trials(&spec, &[base(&dir.join("table.csv")), vec!["--set".into(), "data.label=species".into()]].concat(), &dir.join("csv.csv"));
    assert_eq!(csv.len(), 6);
    for (name, extra) in [("last-column.npy", vec![]), ("features.npy", vec![format!("data.labels={}", dir.join("labels.npy").display())]), ("fortran.npy", vec![format!("data.labels={}", dir.join("labels.npy").display())])] {
        let sets: Vec<String> = base(&dir.join(name)).into_iter().chain(extra.into_iter().flat_map(|a| ["--set".to_owned(), a])).collect();
        assert_eq!(trials(&spec, &sets, &dir.join(format!("{name}.csv"))), csv, "{name} against table.csv");
    }
    // 60 test rows (20% held out), three well-separated classes.
    for (law, error, _) in &csv {
        assert!(*error < 0.2, "{law}: test error {error}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rfrisk gap` on a file source: the accuracy gap with its interval, outside the theory, no theory line.
#[test]
fn gap_on_a_file_measures_the_accuracy_gap() {
    let dir = scratch("gap");
    write_layouts(&dir);
    let spec = spec_file(&dir);
    let mut args = vec!["gap".to_owned(), spec.display().to_string(), "--trials".into(), "6".into()];
    args.extend(base(&dir.join("last-column.npy")));
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        rfrisk(&a)
    };
    let out = run(&["--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["measure"], "accuracy");
    assert_eq!(json["in_theory"], false);
    assert!(json["theory_excess_risk"].is_null(), "{json}");
    for m in json["means"].as_array().unwrap() {
        let accuracy = m["mean"].as_f64().unwrap();
        assert!(accuracy > 0.8 && accuracy <= 1.0, "{m}");
    }
    let gap = &json["gap"];
    assert!(gap["ci_low"].as_f64().unwrap() <= gap["mean"].as_f64().unwrap() && gap["mean"].as_f64().unwrap() <= gap["ci_high"].as_f64().unwrap(), "{gap}");
    assert!(gap["trials_needed"].as_u64().unwrap() >= 2);
    let table = String::from_utf8_lossy(&run(&[]).stdout).into_owned();
    for needle in ["OUTSIDE the theory", "data.source = file is real data", "measured test accuracy, gaussian:", "measured gap in test accuracy (onebit - gaussian), 6 paired trials", "a gap of 1.00 accuracy points", "theory: no statement"] {
        assert!(table.contains(needle), "lacks `{needle}`:\n{table}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rfrisk validate` on a file source: both laws at each value, no theory line (nothing to fail).
#[test]
fn validate_on_a_file_draws_the_simulations_without_a_theory_line() {
    let dir = scratch("validate");
    write_layouts(&dir);
    let spec = spec_file(&dir);
    let out_dir = dir.join("out");
    let mut args = vec!["validate".to_owned(), spec.display().to_string(), "--param".into(), "data.per_class".into(), "--values".into(), "10,20".into(), "--trials".into(), "2".into()];
    args.extend(base(&dir.join("last-column.npy")));
    args.extend(["--out-dir".to_owned(), out_dir.display().to_string()]);
    let out = rfrisk(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let curve = rfrisk::curve::Curve::read(&out_dir.join("validate.csv")).unwrap();
    let series: Vec<(&str, f64, &str)> = curve.rows.iter().map(|r| (r.series.as_str(), r.x, r.status.as_str())).collect();
    assert_eq!(series, [("gaussian", 10.0, "ok"), ("onebit", 10.0, "ok"), ("gaussian", 20.0, "ok"), ("onebit", 20.0, "ok")], "{series:?}");
    assert!(out_dir.join("validate.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every malformed file and every mismatch with the spec: exit 2, stdout empty, the path (or
/// the key) and the reason in stderr, and the `--out` file never created.
#[test]
fn malformed_data_files_are_refused_by_path_before_anything_is_written() {
    let dir = scratch("malformed");
    write_layouts(&dir);
    let spec = spec_file(&dir);
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let mut nan = f64_bytes(&[1.0, 2.0, 0.0, 3.0, f64::NAN, 1.0]);
    let nan_path = dir.join("nan.npy");
    npy(&nan_path, "<f8", &[2, 3], false, &nan);
    nan.truncate(40);
    let short = dir.join("short.npy");
    npy(&short, "<f8", &[2, 3], false, &nan);
    let half = dir.join("half-label.npy");
    npy(&half, "<f8", &[2, 3], false, &f64_bytes(&[1.0, 2.0, 0.5, 3.0, 4.0, 1.0]));
    let strings = dir.join("strings.npy");
    npy(&strings, "<U3", &[2], false, &[0; 24]);
    let idx_dir = dir.join("idx");
    std::fs::create_dir_all(&idx_dir).unwrap();
    std::fs::write(idx_dir.join("train-images-idx3-ubyte"), [0u8, 0, 0x0d, 3]).unwrap();
    let table = dir.join("table.csv");
    let cases: Vec<(PathBuf, Vec<&str>, Vec<&str>)> = vec![
        (dir.join("absent.npy"), vec![], vec!["absent.npy: cannot read it"]),
        (write("magic.npy", b"hello world"), vec![], vec!["magic.npy: not a data table: the magic number"]),
        (write("ragged.csv", b"a,b,label\n1,2,x\n1,2\n"), vec!["data.label=label"], vec!["ragged.csv", "line 3 has 2 cells, the header has 3"]),
        (write("word.csv", b"a,b,label\n1,zz,x\n2,3,y\n"), vec!["data.label=label"], vec!["word.csv", "line 2, column \"b\": \"zz\" is not a number"]),
        (write("nan.csv", b"a,b,label\n1,nan,x\n2,3,y\n"), vec![], vec!["nan.csv", "line 2, column \"b\" is nan: the data must be finite"]),
        (nan_path, vec![], vec!["nan.npy", "row 2, column 2 is NaN"]),
        (short, vec![], vec!["short.npy", "needs 48 bytes of data, the file holds 40"]),
        (half, vec![], vec!["half-label.npy", "label 0.5 in row 1: labels must be integers"]),
        (strings, vec![], vec!["strings.npy", "dtype <U3: only numbers"]),
        (write("table.txt", b"1,2\n"), vec![], vec!["table.txt", "unknown file type"]),
        (table.clone(), vec!["data.label=kind"], vec!["table.csv", "no column named \"kind\" (data.label)"]),
        (table.clone(), vec!["data.label=species", "data.per_class=200"], vec!["training.samples", "n = 600 takes 200 rows of class \"cat\"", "table.csv has 79 in its training pool"]),
        (table.clone(), vec!["data.label=species", "data.dim=7"], vec!["data.dim", "= 7, but the data set has 20 features per row"]),
        (table.clone(), vec!["data.label=species", "data.test_fraction=1.5"], vec!["data.test_fraction", "must lie in (0, 1)"]),
        (table, vec!["data.label=species", "data.test_labels=x.npy"], vec!["data.test_labels", "data.test_path, which is not set"]),
    ];
    for (path, extra, needles) in cases {
        let out_csv = dir.join("out").join("trials.csv");
        let mut sets = base(&path);
        extra.iter().for_each(|a| sets.extend(["--set".to_owned(), a.to_string()]));
        sets.extend(["--out".to_owned(), out_csv.display().to_string()]);
        let out = simulate(&spec, &sets);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(out.stdout.is_empty() && !out_csv.exists(), "{}: something was written", path.display());
        for needle in needles {
            assert!(stderr.contains(needle), "{}: stderr lacks `{needle}`: {stderr}", path.display());
        }
    }
    // An IDX directory with a broken file, through data.source = fashion-mnist.
    let args = ["simulate", spec.to_str().unwrap(), "--trials", "1", "--set", "data.source=fashion-mnist", "--set", "data.dim=784", "--set", "training.task=classification"];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.extend(["--set".into(), format!("data.path={}", idx_dir.display())]);
    let out = rfrisk(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("train-images-idx3-ubyte: not an IDX file of unsigned bytes: element type 0x0d"), "{stderr}");
    common::record("file-readers", "15 malformed files or mismatched keys refused (exit 2, path or key named, nothing written); csv, npy (last column, label file, Fortran order) give identical trials");
    let _ = std::fs::remove_dir_all(&dir);
}
