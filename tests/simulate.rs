//! `rfrisk simulate` against the theory, and its promise that nothing is lost.

mod common;
use common::spec;
use rfrisk::simulate::{summarize, Run, Theory, TrialRow};
use rfrisk::spec::{Spec, WeightLaw};
use std::path::PathBuf;
use std::process::Command;

fn run(spec: &Spec, trials: usize, seed: u64) -> Vec<TrialRow> {
    run_laws(spec, vec![WeightLaw::Gaussian, WeightLaw::Onebit], trials, seed)
}

fn run_laws(spec: &Spec, laws: Vec<WeightLaw>, trials: usize, seed: u64) -> Vec<TrialRow> {
    let run = Run { spec, laws, trials, n_test: 1500, seed, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
    run.execute(None, false, &|_, _| {}).unwrap()
}

/// The real nonlinear model at CI size, both weight laws, within [`common::band`]
/// standard errors (a 3σ test) of `rfrisk predict` (equations/model.md §4.1).
fn assert_agrees(id: &str, name: &str, spec: &Spec, trials: usize, seed: u64) {
    let (theory, laws) = common::law_z_values(name, spec, trials, 1500, seed);
    let records: Vec<String> = laws.iter().map(|(law, z, stderr)| format!("{law} {}", common::z_record(*z, trials, *stderr, theory))).collect();
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

/// The other laws of unit variance (ternary, 2-bit, sparse signs with 10% non-zero)
/// have the Gaussian law's asymptotic risk: each is compared with the theory and, on
/// paired trials, with the Gaussian law, within [`common::band`] standard errors. The
/// spec is the erf L = 2 one, whose finite-size excess is small (about 1% for every
/// law in 64 trials; at tanh L = 1, d0 = 500, it is about 2%, shared by all laws).
#[test]
fn ternary_kbit_and_sparse_sign_weights_match_the_same_theory() {
    let s = spec(&["data.dim=600", "features.widths=[800,1000]", "features.activation=erf", "teacher.noise_std=0.2", "training.samples=500"]);
    let trials = 32;
    let names = ["ternary", "kbit:2", "sparse-sign"];
    let laws: Vec<WeightLaw> = names.iter().map(|l| l.parse().unwrap()).collect();
    let mut all = vec![WeightLaw::Gaussian];
    all.extend(&laws);
    let rows = run_laws(&s, all, trials, 3);
    let theory = rfrisk::predict(&s).unwrap().excess_risk;
    let mut records = Vec::new();
    for (law, name) in laws.into_iter().zip(names) {
        let pairs = rfrisk::gap::pairs(&rows, WeightLaw::Gaussian, law, rfrisk::gap::Measure::ExcessRisk);
        assert_eq!(pairs.len(), trials);
        let differences: Vec<f64> = pairs.iter().map(|(g, b)| b - g).collect();
        let own: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let (d, e) = (rfrisk::simulate::Estimate::of(&differences).unwrap(), rfrisk::simulate::Estimate::of(&own).unwrap());
        let (z_paired, z_theory) = (d.mean / d.stderr, (e.mean - theory) / e.stderr);
        eprintln!("{law}: paired vs gaussian {:+.5} ± {:.5} (z = {z_paired:+.2}); vs theory z = {z_theory:+.2}", d.mean, d.stderr);
        assert!(z_paired.abs() < common::band(trials), "{law} differs from the Gaussian law by {z_paired:.2} s.e.");
        assert!(z_theory.abs() < common::band(trials), "{law}: {z_theory:.2} s.e. from theory");
        records.push(format!("{name} z = {z_paired:+.2} vs gaussian (3 s.e. = {:.1}%), {z_theory:+.2} vs theory", 300.0 * d.stderr / theory));
    }
    common::record("simulate-laws", &format!("{trials} paired trials: {}", records.join(", ")));
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
/// maps (faer's split is fixed, `validation::trial::REDUCTION_SPLIT`; the draws go column by column).
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
    let at = |trials| Run { spec: &s, laws: vec![WeightLaw::Gaussian], trials, n_test: 300, seed: 4, trainer: validation::Trainer::Direct, backend: &validation::Cpu, kernel: validation::KernelChoice::Auto };
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

/// `rfrisk simulate` with `extra` arguments on the small spec written to `dir`.
fn simulate_cli(dir: &std::path::Path, csv: &std::path::Path, trials: usize, extra: &[&str]) -> std::process::Output {
    let spec_path = dir.join("spec.toml");
    if !spec_path.exists() {
        std::fs::write(&spec_path, "[data]\ndim = 200\n[features]\nwidths = [300]\n[teacher]\nnoise_std = 0.3\n[training]\nsamples = 120\n").unwrap();
    }
    let trials = trials.to_string();
    let mut args = vec!["simulate", spec_path.to_str().unwrap(), "--trials", &trials, "--seed", "8", "--out", csv.to_str().unwrap()];
    if !extra.contains(&"--n-test") {
        args.extend(["--n-test", "200"]);
    }
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(&args).output().unwrap()
}

/// A last line cut off by a kill (made deterministic: the file is cut in the middle of
/// its last row) is dropped on resume and its trial run again, to the same row.
#[test]
fn a_cut_off_last_line_is_dropped_and_rerun() {
    let dir = temp_dir("cut");
    let csv = dir.join("trials.csv");
    let first = simulate_cli(&dir, &csv, 3, &["--backend", "cpu"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let full = std::fs::read_to_string(&csv).unwrap();
    let last_start = full.trim_end().rfind('\n').unwrap() + 1;
    let cut = last_start + (full.len() - last_start) / 2;
    std::fs::write(&csv, &full[..cut]).unwrap();
    let resumed = simulate_cli(&dir, &csv, 3, &["--backend", "cpu", "--resume"]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let strip = |t: &str| t.lines().map(without_time).collect::<Vec<_>>();
    assert_eq!(strip(&std::fs::read_to_string(&csv).unwrap()), strip(&full));
}

/// `--resume` refuses a file written by a run with another spec, n_test, backend or
/// trainer (the seed: `killed_run_resumes_without_loss_or_duplication`), naming what differs.
#[test]
fn resume_refuses_a_different_run() {
    let dir = temp_dir("identity");
    let csv = dir.join("trials.csv");
    assert!(simulate_cli(&dir, &csv, 1, &["--backend", "cpu"]).status.success());
    let before = std::fs::read_to_string(&csv).unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["--set", "teacher.noise_std=0.4"], "its spec differs"),
        (&["--n-test", "201"], "its n_test differs"),
        (&["--trainer", "smd"], "its trainer differs"),
    ];
    for (change, reason) in cases {
        let mut args = vec!["--backend", "cpu", "--resume"];
        args.extend_from_slice(change);
        let out = simulate_cli(&dir, &csv, 1, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{change:?}: {stderr}");
        assert!(stderr.contains(reason) && stderr.contains("refusing to mix trials"), "{change:?}: {stderr}");
    }
    // The backend: written by an OpenCL run (whether or not this machine has one).
    let identity = csv.with_extension("csv.run.json");
    let text = std::fs::read_to_string(&identity).unwrap();
    std::fs::write(&identity, text.replace("\"backend\": \"cpu\"", "\"backend\": \"opencl\"")).unwrap();
    let out = simulate_cli(&dir, &csv, 1, &["--backend", "cpu", "--resume"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its backend differs"));
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), before, "a refused resume leaves the file alone");
}

/// `--backend auto` without an OpenCL GPU falls back to the CPU backend, says so under
/// `--verbose` (and only then); the trials are those of `--backend cpu`, and the run is
/// recorded as a cpu run.
#[test]
fn backend_auto_falls_back_to_the_cpu_with_a_notice() {
    let dir = temp_dir("auto");
    let (auto, cpu) = (dir.join("auto.csv"), dir.join("cpu.csv"));
    let quiet = simulate_cli(&dir, &dir.join("quiet.csv"), 1, &["--backend", "auto"]);
    assert!(quiet.status.success() && !String::from_utf8_lossy(&quiet.stderr).contains("note:"), "the choice is said only under --verbose");
    let out = simulate_cli(&dir, &auto, 2, &["--backend", "auto", "--verbose"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    if stderr.contains("using the OpenCL GPU") {
        eprintln!("skipped: this machine has an OpenCL GPU, which auto takes");
        return;
    }
    assert!(stderr.contains("using the faster cpu backend") || stderr.contains("using the cpu backend"), "{stderr}");
    assert!(std::fs::read_to_string(auto.with_extension("csv.run.json")).unwrap().contains("\"backend\": \"cpu\""));
    assert!(simulate_cli(&dir, &cpu, 2, &["--backend", "cpu"]).status.success());
    let strip = |p: &PathBuf| data_lines(p).iter().map(|l| without_time(l)).collect::<Vec<_>>();
    assert_eq!(strip(&auto), strip(&cpu));
}

/// `--trainer smd` (real stochastic mirror descent) through the command lands on the
/// direct trainer's risks, for both maps: relative 1e-6 (SMD stops at residual 1e-8).
#[test]
fn simulate_with_the_smd_trainer_matches_the_direct_trainer() {
    let dir = temp_dir("smd");
    let mut worst = 0.0f64;
    for map in ["squared", "entropic"] {
        let mirror = format!("training.mirror={map}");
        let prior = if map == "entropic" { "teacher.prior=half-normal" } else { "teacher.prior=gaussian" };
        let small = ["--set", "data.dim=60", "--set", "features.widths=[120]", "--set", "training.samples=30", "--set", &mirror, "--set", prior, "--backend", "cpu"];
        let (smd, direct) = (dir.join(format!("{map}-smd.csv")), dir.join(format!("{map}-direct.csv")));
        let mut args = small.to_vec();
        args.extend(["--trainer", "smd"]);
        let out = simulate_cli(&dir, &smd, 2, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(simulate_cli(&dir, &direct, 2, &small).status.success());
        let rows = |p: &PathBuf| -> Vec<f64> { data_lines(p).iter().map(|l| l.split(',').nth(3).unwrap().parse().unwrap()).collect() };
        let (a, b) = (rows(&smd), rows(&direct));
        assert_eq!(a.len(), 4);
        for (x, y) in a.iter().zip(&b) {
            worst = worst.max((x - y).abs() / y);
        }
    }
    eprintln!("smd vs direct through simulate: worst relative difference {worst:.1e}");
    assert!(worst < 1e-6, "{worst:e}");
    common::record("smd-simulate", &format!("--trainer smd vs direct {worst:.0e}"));
}

/// With a ridge (`training.ridge`, equations/squared.md §6a) the real model against the
/// theory on both sides of the interpolation threshold (n/d_L = 0.5 and 1.5), both weight
/// laws, 32 trials per law: within the 3σ band (t).
#[test]
fn ridge_simulation_matches_theory_on_both_sides_of_the_threshold() {
    let mut records = Vec::new();
    let cases: [(&str, &[&str], u64); 3] = [
        ("tanh L = 1, n/d_L = 0.5, ridge 0.1", &["data.dim=500", "features.widths=[800]", "teacher.noise_std=0.3", "training.samples=400", "training.ridge=0.1"], 21),
        ("tanh L = 1, n/d_L = 1.5, ridge 0.1", &["data.dim=500", "features.widths=[800]", "teacher.noise_std=0.3", "training.samples=1200", "training.ridge=0.1"], 22),
        (
            "erf L = 2, n/d_L = 1.25, ridge 0.02",
            &["data.dim=600", "features.widths=[800,800]", "features.activation=erf", "teacher.noise_std=0.2", "training.samples=1000", "training.ridge=0.02"],
            23,
        ),
    ];
    for (name, assignments, seed) in cases {
        let s = spec(assignments);
        let theory = rfrisk::predict(&s).unwrap();
        assert!(theory.top.is_none(), "no scalar problem with a ridge");
        let summary = summarize(&s, &run(&s, 32, seed));
        let Theory::Prediction { excess_risk, eta, .. } = summary.theory else { panic!("{name}: no theory") };
        assert_eq!((excess_risk, eta), (theory.excess_risk, None));
        let mut row = Vec::new();
        for (law, law_summary) in &summary.laws {
            let e = law_summary.excess_risk.unwrap();
            let z = (e.mean - excess_risk) / e.stderr;
            eprintln!("{name} {law}: theory {excess_risk:.5}, simulation {:.5} ± {:.5}, z = {z:+.2}", e.mean, e.stderr);
            assert!(z.abs() < common::band(32), "{name} {law}: z = {z:.2}");
            row.push(format!("{law} {z:+.2}"));
        }
        records.push(format!("{} ({})", name.split(", ridge").next().unwrap(), row.join(", ")));
    }
    common::record("simulate-ridge", &format!("z: {}; 32 trials per law", records.join("; ")));
}
