//! `rfrisk simulate` against the theory, and its promise that nothing is lost.

mod common;
use common::spec;
use rfrisk::simulate::{summarize, Run, Theory, TrialRow};
use rfrisk::spec::{Spec, WeightLaw};
use std::path::PathBuf;
use std::process::Command;

fn run(spec: &Spec, trials: usize, seed: u64) -> Vec<TrialRow> {
    let run = Run { spec, laws: vec![WeightLaw::Gaussian, WeightLaw::Onebit], trials, n_test: 1500, seed, trainer: validation::Trainer::Direct, backend: &validation::Cpu };
    run.execute(None, false, &|_, _| {}).unwrap()
}

/// The real nonlinear model at CI size, both weight laws, within [`common::band`]
/// standard errors (a 3σ test) of `rfrisk predict` (equations/model.md §4.1).
fn assert_agrees(id: &str, name: &str, spec: &Spec, trials: usize, seed: u64) {
    let summary = summarize(spec, &run(spec, trials, seed));
    let Theory::Prediction { excess_risk, .. } = summary.theory else { panic!("{name}: no theory") };
    let mut records = Vec::new();
    for (law, s) in &summary.laws {
        let e = s.excess_risk.unwrap_or_else(|| panic!("{name} {law}: every trial infeasible"));
        let z = (e.mean - excess_risk) / e.stderr;
        eprintln!("{name} {law}: theory {excess_risk:.5}, simulation {:.5} ± {:.5}, z = {z:+.2}", e.mean, e.stderr);
        assert!(z.abs() < common::band(trials), "{name} {law}: {z:.2} standard errors from theory");
        assert_eq!((e.n, s.infeasible), (trials, 0));
        records.push(format!("{law} {}", common::z_record(z, trials, e.stderr, excess_risk)));
    }
    common::record(id, &format!("{name}: {}", records.join(", ")));
}

#[test]
fn one_layer_simulation_matches_theory_for_both_weight_laws() {
    let s = spec(&["data.dim=500", "features.widths=[1000]", "teacher.noise_std=0.3", "training.samples=400"]);
    assert_agrees("simulate-l1", "tanh L = 1", &s, 32, 1);
}

#[test]
fn two_layer_simulation_matches_theory_for_both_weight_laws() {
    let s = spec(&[
        "data.dim=600",
        "features.widths=[800,1000]",
        "features.activation=erf",
        "teacher.noise_std=0.2",
        "training.samples=500",
    ]);
    assert_agrees("simulate-l2", "erf L = 2", &s, 32, 2);
}

#[test]
fn a_trial_is_reproducible_bit_for_bit() {
    let s = spec(&["data.dim=200", "features.widths=[300,300]", "teacher.noise_std=0.5", "training.samples=150"]);
    let (a, b) = (run(&s, 2, 9), run(&s, 2, 9));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.seed, x.excess_risk, x.test_error, x.train_residual), (y.seed, y.excess_risk, y.test_error, y.train_residual));
    }
    assert!(a.iter().all(|r| r.train_residual.unwrap() < 1e-8));
    assert_ne!(a[0].seed, a[2].seed, "trials get different seeds");
}

/// A run's CSV without the `seconds` column, on a pool of `threads` threads.
fn rows_on_threads(spec_path: &std::path::Path, csv: &PathBuf, threads: usize) -> Vec<String> {
    let _ = std::fs::remove_file(csv);
    let out = Command::new(env!("CARGO_BIN_EXE_rfrisk"))
        .args(["simulate", spec_path.to_str().unwrap(), "--trials", "2", "--n-test", "300", "--seed", "3", "--out", csv.to_str().unwrap()])
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(csv.with_extension("csv.run.json")).unwrap();
    data_lines(csv).iter().map(|l| without_time(l)).collect()
}

/// The README's promise: the same numbers, bit for bit, on 1, 2 or 3 threads, for both
/// maps (faer's split is fixed, `validation::REDUCTION_SPLIT`; the draws go column by column).
#[test]
fn results_are_identical_whatever_the_thread_count() {
    let dir = temp_dir("threads");
    let teachers = [("squared", "noise_std = 0.3"), ("entropic", "prior = \"half-normal\"\nnoise_std = 0.1")];
    for (map, teacher) in teachers {
        let spec_path = dir.join(format!("{map}.toml"));
        let text = format!("[data]\ndim = 300\n[features]\nwidths = [400, 500]\n[teacher]\n{teacher}\n[training]\nsamples = 150\nmirror = \"{map}\"\n");
        std::fs::write(&spec_path, text).unwrap();
        let csv = dir.join(format!("{map}.csv"));
        let one = rows_on_threads(&spec_path, &csv, 1);
        assert_eq!(one.len(), 4, "{one:?}");
        assert!(one.iter().all(|l| l.ends_with(",ok")), "{map}: {one:?}");
        for threads in [2, 3] {
            assert_eq!(rows_on_threads(&spec_path, &csv, threads), one, "{map}: {threads} threads differ from 1");
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rfrisk-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn data_lines(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().skip(1).map(str::to_owned).collect()
}

/// Without the `seconds` column (the 7th): what must be identical across runs.
fn without_time(line: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields.remove(6);
    fields.join(",")
}

/// Kill a run mid-way, resume it: no finished trial lost, none duplicated, and
/// the rows are those of an uninterrupted run.
#[test]
fn killed_run_resumes_without_loss_or_duplication() {
    let dir = temp_dir("resume");
    let spec_path = dir.join("spec.toml");
    std::fs::write(&spec_path, "[data]\ndim = 600\n[features]\nwidths = [900, 900]\n[training]\nsamples = 400\n").unwrap();
    let csv = dir.join("trials.csv");
    let args = |csv: &PathBuf| {
        vec![
            "simulate".to_owned(),
            spec_path.to_str().unwrap().to_owned(),
            "--trials".into(),
            "6".into(),
            "--n-test".into(),
            "500".into(),
            "--seed".into(),
            "5".into(),
            "--backend".into(),
            "cpu".into(),
            "--out".into(),
            csv.to_str().unwrap().to_owned(),
        ]
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args(&csv)).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while data_lines(&csv).len() < 3 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        assert!(child.try_wait().unwrap().is_none(), "the run finished before it could be killed");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = data_lines(&csv);
    assert!(before.len() < 12, "killed too late to test anything: {} rows", before.len());

    // Without --resume the file is not touched.
    let refused = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args(&csv)).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    let mut resumed_args = args(&csv);
    resumed_args.push("--resume".into());
    let out = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(&resumed_args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = data_lines(&csv);
    assert_eq!(after.len(), 12, "{after:#?}");
    assert_eq!(&after[..before.len()], &before[..], "finished trials were rewritten");
    let mut keys: Vec<String> = after.iter().map(|l| l.splitn(3, ',').take(2).collect::<Vec<_>>().join(",")).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 12, "duplicated trials");

    // The same rows as one uninterrupted run.
    let fresh = dir.join("fresh.csv");
    assert!(Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args(&fresh)).output().unwrap().status.success());
    let mut a: Vec<String> = after.iter().map(|l| without_time(l)).collect();
    let mut b: Vec<String> = data_lines(&fresh).iter().map(|l| without_time(l)).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    // A different seed may not continue this file.
    let mut other = resumed_args.clone();
    let i = other.iter().position(|a| a == "--seed").unwrap();
    other[i + 1] = "6".into();
    let out = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(&other).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("seed differs"));
}

/// A trials file written before the `status` column existed resumes: its rows are
/// read as `ok`, the file is rewritten in the current layout, and new rows follow.
#[test]
fn files_without_the_status_column_resume() {
    let dir = temp_dir("old-layout");
    let csv = dir.join("trials.csv");
    let s = spec(&["data.dim=200", "features.widths=[300]", "teacher.noise_std=0.5", "training.samples=150"]);
    let at = |trials| Run { spec: &s, laws: vec![WeightLaw::Gaussian], trials, n_test: 300, seed: 4, trainer: validation::Trainer::Direct, backend: &validation::Cpu };
    let first = at(2).execute(Some(&csv), false, &|_, _| {}).unwrap();
    // Strip the status column, as an older rfrisk wrote it.
    let old: String = std::fs::read_to_string(&csv).unwrap().lines().map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0)).collect();
    assert!(old.starts_with("weights,trial,seed,excess_risk,test_error,train_residual,seconds\n"));
    std::fs::write(&csv, old).unwrap();
    let all = at(3).execute(Some(&csv), true, &|_, _| {}).unwrap();
    assert_eq!(&all[..2], &first[..], "old rows read back unchanged, as ok");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("weights,trial,seed,excess_risk,test_error,train_residual,seconds,status\n"), "{text}");
    assert_eq!(data_lines(&csv).len(), 3);
    assert!(data_lines(&csv).iter().all(|l| l.ends_with(",ok")), "{text}");
}
