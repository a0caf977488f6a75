//! Sharded runs (`--shard K/N`, `--merge`; `study::shard`): the split cannot change a number,
//! merge refuses a missing or a duplicated unit by name, a killed shard resumes, and a sharded
//! `validate` merges into the same figure CSV as one machine's run, byte for byte.

mod common;
use rfrisk::shard::{Shard, Split, Storage};
use rfrisk::simulate::{Run, SimulateError, TrialRow};
use rfrisk::spec::WeightLaw;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rfrisk-shard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tiny() -> rfrisk::Spec {
    common::spec(&["data.dim=30", "features.widths=[60]", "teacher.noise_std=0.2", "training.samples=20"])
}

fn run(spec: &rfrisk::Spec) -> Run<'_> {
    Run { spec, laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit], trials: 5, n_test: 100, seed: 3, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto }
}

fn shard(index: usize, count: usize) -> Storage {
    Storage { resume: false, split: Split::Shard(Shard { index, count }) }
}

const MERGE: Storage = Storage { resume: false, split: Split::Merge };

/// A trials CSV without its `seconds` column (the only one that differs between machines).
fn without_seconds(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().lines().map(|l| l.split(',').enumerate().filter(|(i, _)| *i != 6).map(|(_, c)| c).collect::<Vec<_>>().join(",") + "\n").collect()
}

fn numbers(rows: &[TrialRow]) -> Vec<(String, usize, u64, Option<f64>, Option<f64>)> {
    rows.iter().map(|r| (r.weights.clone(), r.trial, r.seed, r.excess_risk, r.test_error)).collect()
}

#[test]
fn the_split_changes_no_number() {
    let spec = tiny();
    let dir = scratch("split");
    let whole_path = dir.join("whole.csv");
    let whole = run(&spec).execute(Some(&whole_path), false, &|_, _| {}).unwrap();
    for count in [1, 3, 7] {
        let path = dir.join(format!("n{count}")).join("trials.csv");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut units = 0;
        for index in 1..=count {
            let mine = run(&spec).execute(Some(&path), shard(index, count), &|_, _| {}).unwrap();
            units += mine.len();
            assert!(Shard { index, count }.path(&path).exists());
        }
        assert_eq!(units, 10, "N = {count}: every unit run once");
        assert!(!path.exists(), "a shard writes only its own file");
        let merged = run(&spec).execute(Some(&path), MERGE, &|_, _| {}).unwrap();
        assert_eq!(numbers(&merged), numbers(&whole), "N = {count}");
        assert_eq!(without_seconds(&path), without_seconds(&whole_path), "N = {count}: the merged file");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merge_names_missing_and_duplicated_units() {
    let spec = tiny();
    let dir = scratch("merge");
    let path = dir.join("trials.csv");
    for index in 1..=3 {
        run(&spec).execute(Some(&path), shard(index, 3), &|_, _| {}).unwrap();
    }
    // Shard 2's file lost: its units are missing, by name.
    let second = Shard { index: 2, count: 3 }.path(&path);
    let kept = std::fs::read_to_string(&second).unwrap();
    std::fs::remove_file(&second).unwrap();
    let lost: Vec<String> = kept.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).map(|c| format!("{} trial {}", c[0], c[1])).collect();
    assert!(!lost.is_empty());
    let err = run(&spec).execute(Some(&path), MERGE, &|_, _| {}).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, SimulateError::Merge { .. }), "{message}");
    assert!(message.contains(&format!("{} missing", lost.len())) && message.contains("no file at all for shard 2/3"), "{message}");
    for unit in &lost {
        assert!(message.contains(unit.as_str()), "{unit} not named: {message}");
    }
    assert!(!path.exists(), "nothing merged");
    // Restored, and one of its rows also copied into shard 1: a duplicate, by name.
    std::fs::write(&second, &kept).unwrap();
    let row = kept.lines().nth(1).unwrap();
    let first = Shard { index: 1, count: 3 }.path(&path);
    std::fs::write(&first, std::fs::read_to_string(&first).unwrap() + row + "\n").unwrap();
    let message = run(&spec).execute(Some(&path), MERGE, &|_, _| {}).unwrap_err().to_string();
    assert!(message.contains("1 duplicated") && message.contains(&format!("{} (2 copies)", lost[0])), "{message}");
    // Without shard files and without the file, merge says what to do.
    let message = run(&spec).execute(Some(&dir.join("other.csv")), MERGE, &|_, _| {}).unwrap_err().to_string();
    assert!(message.contains("no shard files"), "{message}");
    let message = run(&spec).execute(None, shard(1, 2), &|_, _| {}).unwrap_err().to_string();
    assert!(message.contains("need a trials file (--out)"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_killed_shard_resumes() {
    let spec = tiny();
    let dir = scratch("killed");
    let path = dir.join("trials.csv");
    let whole = run(&spec).execute(Some(&dir.join("whole.csv")), false, &|_, _| {}).unwrap();
    for index in 1..=2 {
        run(&spec).execute(Some(&path), shard(index, 2), &|_, _| {}).unwrap();
    }
    // Shard 1 killed after its first row, in the middle of writing the second.
    let first = Shard { index: 1, count: 2 }.path(&path);
    let text = std::fs::read_to_string(&first).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 4, "{text}");
    std::fs::write(&first, format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..lines[2].len() / 2])).unwrap();
    let again = run(&spec).execute(Some(&path), shard(1, 2), &|_, _| {});
    assert!(matches!(again, Err(SimulateError::Exists { .. })), "without --resume a shard's file is not overwritten");
    let resumed = run(&spec).execute(Some(&path), Storage { resume: true, split: Split::Shard(Shard { index: 1, count: 2 }) }, &|_, _| {}).unwrap();
    assert_eq!(resumed.len(), lines.len() - 1);
    let merged = run(&spec).execute(Some(&path), MERGE, &|_, _| {}).unwrap();
    assert_eq!(numbers(&merged), numbers(&whole));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary: `validate` in 3 shards, then `--merge`, writes the same validate.csv as one
/// run, byte for byte; a shard prints what to do next.
#[test]
fn a_sharded_validate_merges_into_the_same_figure_csv() {
    let dir = scratch("validate");
    let spec = dir.join("spec.toml");
    std::fs::write(&spec, "[data]\ndim = 30\n[features]\nwidths = [60]\n[teacher]\nnoise_std = 0.2\n").unwrap();
    let validate = |out: &Path, extra: &[&str]| {
        let mut args = vec!["validate", spec.to_str().unwrap(), "--param", "training.samples", "--values", "10,20,40", "--trials", "3", "--n-test", "100", "--out-dir", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(&args).output().unwrap();
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    validate(&dir.join("one"), &[]);
    for k in 1..=3 {
        let said = validate(&dir.join("sharded"), &["--shard", &format!("{k}/3")]);
        assert!(said.contains(&format!("shard {k}/3 done")) && said.contains("--merge"), "{said}");
    }
    assert!(!dir.join("sharded/validate.csv").exists(), "a shard draws no figure");
    validate(&dir.join("sharded"), &["--merge"]);
    let read = |d: &str| std::fs::read(dir.join(d).join("validate.csv")).unwrap();
    assert_eq!(read("sharded"), read("one"), "validate.csv differs");
    for value in [10, 20, 40] {
        let name = format!("trials/training.samples={value}.csv");
        assert_eq!(without_seconds(&dir.join("sharded").join(&name)), without_seconds(&dir.join("one").join(&name)), "{name}");
    }
    common::record("shard-merge", "validate in 3 shards + --merge: validate.csv identical byte for byte to one run; trials files identical but for the seconds column");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `reproduce NAME` in 2 shards, then `--merge`: the same figure CSV as one run, byte for byte
/// (the double-descent figure at 1 trial per point: about 6 s).
#[test]
fn a_sharded_reproduce_merges_into_the_same_figure_csv() {
    let dir = scratch("reproduce");
    let reproduce = |out: &Path, extra: &[&str]| {
        let mut args = vec!["reproduce", "double-descent", "--trials", "1", "--out-dir", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(&args).output().unwrap();
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    reproduce(&dir.join("one"), &[]);
    reproduce(&dir.join("sharded"), &["--shard", "1/2"]);
    reproduce(&dir.join("sharded"), &["--shard", "2/2"]);
    assert!(!dir.join("sharded/double-descent.csv").exists(), "a shard draws no figure");
    reproduce(&dir.join("sharded"), &["--merge"]);
    let read = |d: &str| std::fs::read(dir.join(d).join("double-descent.csv")).unwrap();
    assert_eq!(read("sharded"), read("one"), "double-descent.csv differs");
    let _ = std::fs::remove_dir_all(&dir);
}
