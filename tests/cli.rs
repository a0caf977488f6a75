//! The `rfrisk` binary as a user meets it: invalid input gets exit code 2, an
//! empty stdout and a message naming the key and the reason; valid input gets
//! output that is consistent with the library.

mod common;
use std::path::PathBuf;
use std::process::{Command, Output};

fn rfrisk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args).output().expect("runs the binary")
}

/// A spec file in a temporary directory of its own (tests run in parallel, and
/// a file rewritten while another test reads it would be read half-written).
fn spec_file(name: &str, body: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rfrisk-cli-{}-{k}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

const VALID: &str = "[data]\ndim = 400\n[features]\nwidths = [600, 800]\n[teacher]\nnoise_std = 0.2\n[training]\nsamples = 300\n";

/// Exit code 2, nothing on stdout, and every `needle` in stderr.
fn assert_refused(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "stdout not empty: {}", String::from_utf8_lossy(&out.stdout));
    for needle in needles {
        assert!(stderr.contains(needle), "stderr lacks `{needle}`: {stderr}");
    }
}

#[test]
fn invalid_specs_are_refused_with_the_key_and_the_reason() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("unknown-key", "[training]\nsample = 300\n", &["training.sample: unknown key `training.sample`; did you mean `training.samples`?"]),
        ("unknown-section", "[trainer]\nsamples = 300\n", &["trainer: unknown key `trainer`; did you mean `training`?"]),
        ("wrong-type", "[training]\nsamples = \"many\"\n", &["training.samples", "invalid type"]),
        ("float-size", "[training]\nsamples = 300.5\n", &["training.samples", "invalid type"]),
        ("zero-dim", "[data]\ndim = 0\n", &["data.dim", "must be > 0, got 0"]),
        ("negative-width", "[features]\nwidths = [600, -5]\n", &["features.widths[1]", "must be > 0, got -5"]),
        ("empty-widths", "[features]\nwidths = []\n", &["features.widths", "at least one"]),
        ("nan-noise", "[teacher]\nnoise_std = nan\n", &["teacher.noise_std", "finite"]),
        ("inf-norm", "[teacher]\nnorm2 = inf\n", &["teacher.norm2", "finite"]),
        ("negative-noise", "[teacher]\nnoise_std = -0.1\n", &["teacher.noise_std", ">= 0"]),
        ("negative-norm", "[teacher]\nnorm2 = -1.0\n", &["teacher.norm2", ">= 0"]),
        ("unknown-activation", "[features]\nactivation = \"swish\"\n", &["features.activation", "unknown value `swish`"]),
        ("unknown-mirror", "[training]\nmirror = \"adam\"\n", &["training.mirror", "unknown value `adam`"]),
        ("unknown-weights", "[features]\nweights = \"binary\"\n", &["features.weights", "unknown weight law `binary`"]),
        ("unknown-prior", "[teacher]\nprior = \"laplace\"\n", &["teacher.prior", "unknown value `laplace`"]),
        (
            "entropic-samples-at-width",
            "[features]\nwidths = [600, 800]\n[training]\nsamples = 800\nmirror = \"entropic\"\n",
            &["training.samples", "the entropic map needs an overparameterised last layer", "d_L = 800"],
        ),
        (
            "identity-rank",
            "[data]\ndim = 200\n[features]\nwidths = [600]\nactivation = \"identity\"\n[training]\nsamples = 300\n",
            &["training.samples", "rank 200", "no interpolator"],
        ),
        ("teacher-above-top", "[features]\nwidths = [600, 800]\n[teacher]\ndepth = 3\n", &["teacher.depth", "must lie in 0..=2", "got 3"]),
        ("negative-teacher-depth", "[teacher]\ndepth = -1\n", &["teacher.depth", "got -1"]),
        ("unknown-spectrum", "[data]\nspectrum = \"zipf:1\"\n", &["data.spectrum", "unknown value `zipf:1`", "power:ALPHA"]),
        ("negative-power", "[data]\nspectrum = \"power:-1\"\n", &["data.spectrum", "ALPHA must be >= 0"]),
        (
            "entropic-spectrum",
            "[data]\nspectrum = \"power:1\"\n[training]\nmirror = \"entropic\"\n",
            &["data.spectrum", "not derived for the entropic map"],
        ),
        (
            "entropic-teacher-depth",
            "[teacher]\ndepth = 0\n[training]\nmirror = \"entropic\"\n",
            &["teacher.depth", "= 0 < L = 2: not derived for the entropic map"],
        ),
        ("not-toml", "[training\nsamples = 3", &["cannot parse spec file", "not-toml"]),
        ("bad-depth", "[features]\nwidths = [600, 800]\ndepth = 3\n", &["features.depth", "not all equal"]),
        ("zero-width", "[features]\nwidth = 0\n", &["features.width", "must be > 0, got 0"]),
    ];
    for (name, body, needles) in cases {
        let path = spec_file(&format!("{name}.toml"), body);
        let out = rfrisk(&["predict", path.to_str().unwrap()]);
        assert_refused(&out, needles);
    }
}

#[test]
fn invalid_overrides_are_refused() {
    let path = spec_file("valid.toml", VALID);
    let p = path.to_str().unwrap();
    assert_refused(&rfrisk(&["predict", p, "--set", "training.sampels=5"]), &["training.sampels", "unknown key"]);
    assert_refused(&rfrisk(&["predict", p, "--set", "samples=5"]), &["samples=5", "unknown key"]);
    assert_refused(&rfrisk(&["predict", p, "--set", "training.samples"]), &["KEY=VALUE"]);
    assert_refused(&rfrisk(&["predict", p, "--set", "training.samples=0"]), &["training.samples", "must be > 0, got 0"]);
    assert_refused(&rfrisk(&["predict", p, "--set", "teacher.depth=3"]), &["teacher.depth", "must lie in 0..=2"]);
    assert_refused(
        &rfrisk(&["predict", p, "--set", "training.mirror=entropic", "--set", "training.init=0"]),
        &["training.init", "positive start", "c = 0"],
    );
    assert_refused(
        &rfrisk(&["predict", p, "--set", "training.mirror=entropic", "--set", "training.init=-0.1"]),
        &["training.init", "positive start"],
    );
}

/// Past the feasibility boundary the entropic map has no interpolator: exit 3,
/// the spec's ratio and the boundary in the message, nothing on stdout.
#[test]
fn infeasible_entropic_interpolation_is_outside_the_theory() {
    let path = spec_file("entropic.toml", VALID);
    let p = path.to_str().unwrap();
    let out = rfrisk(&["predict", p, "--set", "training.mirror=entropic", "--set", "training.samples=450"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("no positive interpolator") && stderr.contains("d_L/n = 1.777778") && stderr.contains("d_L/n > 2.000000"), "{stderr}");
    let ok = rfrisk(&["predict", p, "--set", "training.mirror=entropic", "--format", "json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let names: Vec<&str> = json["solver"]["residuals"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["E_0", "E_1", "E_2", "T1", "T2"]);
    assert!(json["top"]["eta"].as_f64().unwrap() > 0.0 && json["top"]["feasible_above_ratio"].as_f64() == Some(2.0));
}

/// ReLU is answered by the mean-corrected theory (equations/nonodd.md): the squared map from a
/// centred teacher and start at any depth, and every map, prior and start at one layer; from two
/// layers on the entropic map, or a prior or start with a mean, is refused with exit 3 and the reason.
#[test]
fn relu_is_answered_by_the_mean_corrected_theory_where_it_is_derived() {
    let path = spec_file("relu.toml", VALID);
    let p = path.to_str().unwrap();
    let out = rfrisk(&["predict", p, "--set", "features.activation=relu", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["offsets"].as_array().unwrap().len(), 2, "{json}");
    assert!(json["offsets"][1]["offset_var"].as_f64().unwrap() > 0.0);
    // From two layers on a mean part is answered with the offsets' coupling (nonodd.md §7)...
    for sets in [&["--set", "teacher.prior=half-normal"][..], &["--set", "training.init=0.01"], &["--set", "training.mirror=entropic", "--set", "teacher.prior=half-normal"]] {
        let mut args = vec!["predict", p, "--set", "features.activation=relu"];
        args.extend_from_slice(sets);
        let out = rfrisk(&args);
        assert!(out.status.success(), "{sets:?}: {}", String::from_utf8_lossy(&out.stderr));
        // ...with the caveat of nonodd.md §7a in the table, and in a sweep's note on stderr.
        assert!(String::from_utf8_lossy(&out.stdout).contains("  caveat     with a mean part"), "{sets:?}: no caveat line");
        args[0] = "sweep";
        args.extend_from_slice(&["--param", "training.samples", "--values", "200,300"]);
        let out = rfrisk(&args);
        assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("note: 2 of 2 points: with a mean part"), "{sets:?}: no note in the sweep");
    }
    let out = rfrisk(&["predict", p, "--set", "features.activation=relu"]);
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("caveat"), "a centred teacher from zero has no caveat");
    // ...and a signed teacher with the entropic map is refused: no interpolator for ReLU, not solved for GELU.
    for (activation, needle) in [("relu", "no positive interpolator"), ("gelu", "negative mean")] {
        let activation = format!("features.activation={activation}");
        let out = rfrisk(&["predict", p, "--set", &activation, "--set", "training.mirror=entropic"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{activation}: {stderr}");
        assert!(out.stdout.is_empty() && stderr.contains(needle), "{stderr}");
    }
}

/// `data.source`: t inputs are simulated only, so `predict` refuses them with exit 3 and says
/// so; rademacher inputs are answered (the same numbers as Gaussian ones); a NU that leaves
/// the variance infinite, or an unknown source, is exit 2 naming the key.
#[test]
fn input_sources_are_refused_or_answered_by_the_theory() {
    let path = spec_file("sources.toml", VALID);
    let p = path.to_str().unwrap();
    for source in ["student-t:5", "elliptical-t:3"] {
        let out = rfrisk(&["predict", p, "--set", &format!("data.source={source}")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{source}: {stderr}");
        assert!(out.stdout.is_empty() && stderr.contains(&format!("data.source = {source}")) && stderr.contains("simulated only"), "{stderr}");
    }
    let gaussian = rfrisk(&["predict", p, "--format", "json"]);
    let rademacher = rfrisk(&["predict", p, "--set", "data.source=rademacher", "--format", "json"]);
    assert!(rademacher.status.success(), "{}", String::from_utf8_lossy(&rademacher.stderr));
    let risk = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["excess_risk"].as_f64().unwrap();
    assert_eq!(risk(&gaussian), risk(&rademacher));
    for (value, needle) in [("student-t:2", "NU must be > 2"), ("cauchy", "unknown value `cauchy`")] {
        let out = rfrisk(&["predict", p, "--set", &format!("data.source={value}")]);
        assert_refused(&out, &["data.source", needle]);
    }
    // `gap` still measures t inputs, and its checklist says the theory does not cover them.
    let sizes = ["--set", "data.dim=40", "--set", "features.widths=[60]", "--set", "training.samples=20"];
    let mut args = vec!["gap", p, "--set", "data.source=elliptical-t:5", "--trials", "3", "--n-test", "100", "--backend", "cpu"];
    args.extend_from_slice(&sizes);
    let out = rfrisk(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("OUTSIDE the theory") && stdout.contains("[ ] inputs covered (elliptical-t:5 inputs are heavy-tailed"), "{stdout}");
}

/// Real data: classification only, 784 pixels, the squared map, `data.path` only with a data
/// set; `predict` says it is outside the theory (exit 3).
#[test]
fn real_data_specs_are_checked_by_key() {
    let path = spec_file("real.toml", VALID);
    let p = path.to_str().unwrap();
    let fashion = ["--set", "data.source=fashion-mnist", "--set", "data.dim=784"];
    for (sets, needles) in [
        (&fashion[..], &["training.task", "has class labels, not a teacher"][..]),
        (&["--set", "data.source=fashion-mnist", "--set", "training.task=classification"][..], &["data.dim", "784 pixels"][..]),
        (&["--set", "data.path=/tmp"][..], &["data.path", "reads none"][..]),
        (&["--set", "training.task=sorting"][..], &["training.task", "unknown value `sorting`"][..]),
    ] {
        let mut args = vec!["predict", p];
        args.extend_from_slice(sets);
        assert_refused(&rfrisk(&args), needles);
    }
    let mut args = vec!["predict", p, "--set", "training.task=classification", "--set", "training.mirror=entropic", "--set", "training.init=0.1"];
    args.extend_from_slice(&fashion);
    assert_refused(&rfrisk(&args), &["training.mirror", "one squared-map output per class"]);
    let mut args = vec!["predict", p, "--set", "training.task=classification"];
    args.extend_from_slice(&fashion);
    let out = rfrisk(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("real data is outside the asymptotic theory"), "{stderr}");
    // Classification on a law of inputs runs (its classes are the teacher's signs) but has no theory.
    let out = rfrisk(&["predict", p, "--set", "training.task=classification"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("not a classifier's accuracy") && out.stdout.is_empty(), "{stderr}");
}

#[test]
fn missing_spec_file_names_the_path() {
    let out = rfrisk(&["predict", "/nonexistent/dir/model.toml"]);
    assert_refused(&out, &["cannot read spec file /nonexistent/dir/model.toml"]);
}

#[test]
fn predict_json_reports_the_numbers_and_the_solver() {
    let path = spec_file("valid.toml", VALID);
    let out = rfrisk(&["predict", path.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |k: &str| json[k].as_f64().unwrap_or_else(|| panic!("no number `{k}` in {json}"));
    // Same numbers as the library.
    let lib = rfrisk::predict(&rfrisk::spec::load(&path, &[]).unwrap()).unwrap();
    assert_eq!(get("excess_risk"), lib.excess_risk);
    assert!((get("test_error") - (get("excess_risk") + 0.04)).abs() < 1e-15);
    assert!((get("bias") + get("variance") - get("excess_risk")).abs() < 1e-15);
    assert_eq!(json["gep"].as_array().unwrap().len(), 2);
    assert_eq!(json["solver"]["unknowns"].as_array().unwrap().len(), 3);
    assert!(json["solver"]["max_residual"].as_f64().unwrap() < 1e-10);
    assert!(json["solver"]["iterations"].as_u64().unwrap() > 0);
    // JSON specs are read too, and give the same prediction.
    let json_spec = spec_file(
        "valid.json",
        r#"{"data": {"dim": 400}, "features": {"widths": [600, 800]}, "teacher": {"noise_std": 0.2}, "training": {"samples": 300}}"#,
    );
    let out = rfrisk(&["predict", json_spec.to_str().unwrap(), "--format", "json"]);
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["excess_risk"], json["excess_risk"]);
}

#[test]
fn predict_table_shows_the_same_numbers() {
    let path = spec_file("valid.toml", VALID);
    let out = rfrisk(&["predict", path.to_str().unwrap()]);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let lib = rfrisk::predict(&rfrisk::spec::load(&path, &[]).unwrap()).unwrap();
    for needle in [format!("{:.10}", lib.test_error), format!("{:.10}", lib.excess_risk), "kappa".into(), "rho1".into()] {
        assert!(table.contains(&needle), "table lacks {needle}:\n{table}");
    }
}

#[test]
fn gep_command_prints_one_row_per_layer() {
    let path = spec_file("valid.toml", VALID);
    let out = rfrisk(&["gep", path.to_str().unwrap(), "--set", "features.depth=3", "--set", "features.widths=[700]"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(table.lines().nth(1).unwrap().contains("0.60570551"), "tanh rho1 at v = 1: {table}");
}

#[test]
fn sweep_marks_failed_points_and_never_writes_a_number_for_them() {
    let path = spec_file("valid.toml", VALID);
    let csv_path = path.with_file_name("curve.csv");
    let out = rfrisk(&[
        "sweep",
        path.to_str().unwrap(),
        "--param",
        "training.samples",
        "--values",
        "200:1000:200",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    // Exit 5: every point written, one of them failed.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(out.stdout.is_empty());
    // n = d_L = 800 with label noise and no ridge: infinite risk; 1000 is least squares.
    assert!(stderr.contains("training.samples=800: error: the risk is infinite"), "{stderr}");
    assert!(stderr.contains("error: 1 of 5 points failed; they are written"), "{stderr}");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["training.samples", "excess_risk", "test_error", "bias", "variance", "eta", "s", "max_residual", "status"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        let n: usize = row[0].parse().unwrap();
        if n != 800 {
            assert_eq!(&row[8], "ok");
            let spec = rfrisk::spec::load(&path, &[format!("training.samples={n}")]).unwrap();
            assert_eq!(row[1].parse::<f64>().unwrap(), rfrisk::predict(&spec).unwrap().excess_risk);
            // Least squares (n > d_L) has no scalar top problem: eta and s stay empty.
            assert_eq!(row[5].is_empty(), n > 800, "{row:?}");
        } else {
            assert!(row[8].starts_with("error: the risk is infinite"), "{row:?}");
            assert!((1..8).all(|i| row[i].is_empty()), "a failed point carries a number: {row:?}");
        }
    }
}

/// An entropic sweep across the feasibility boundary (signed teacher: d_L/n = 2)
/// marks the points past it `infeasible` and reports eta and s for the others.
#[test]
fn entropic_sweep_marks_infeasible_points() {
    let path = spec_file("valid.toml", VALID);
    let out = rfrisk(&["sweep", path.to_str().unwrap(), "--set", "training.mirror=entropic", "--param", "training.samples", "--values", "200,399,400,500"]);
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect();
    let samples: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
    assert_eq!(samples, ["200", "399", "400", "500"], "one row per value, in order");
    for row in &rows {
        let n: usize = row[0].parse().unwrap();
        if n < 400 {
            assert_eq!(&row[8], "ok", "{row:?}");
            let (eta, s, residual): (f64, f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap(), row[7].parse().unwrap());
            assert!(eta > 0.0 && s > 0.0 && residual < 1e-10, "{row:?}");
        } else {
            assert!(row[8].starts_with("infeasible: no positive interpolator"), "{row:?}");
            assert!((1..8).all(|i| row[i].is_empty()), "{row:?}");
        }
    }
}

#[test]
fn sweep_over_depth_keeps_the_width() {
    let path = spec_file("valid.toml", VALID);
    let out = rfrisk(&["sweep", path.to_str().unwrap(), "--set", "features.widths=[800]", "--param", "features.depth", "--values", "1,2,3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "one row per depth");
    for (row, depth) in rows.into_iter().zip(1..) {
        assert_eq!(row[0].parse::<usize>().unwrap(), depth);
        let spec = rfrisk::spec::load(&path, &["features.widths=[800]".into(), format!("features.depth={depth}")]).unwrap();
        assert_eq!(spec.widths, vec![800; depth]);
        assert_eq!(row[1].parse::<f64>().unwrap(), rfrisk::predict(&spec).unwrap().excess_risk);
    }
    // features.width sets every hidden layer, keeping the depth.
    let spec = rfrisk::spec::load(&path, &["features.width=900".into()]).unwrap();
    assert_eq!(spec.widths, vec![900, 900]);
}

#[test]
fn sweep_refuses_unknown_keys_and_bad_ranges() {
    let path = spec_file("valid.toml", VALID);
    let p = path.to_str().unwrap();
    assert_refused(&rfrisk(&["sweep", p, "--param", "training.sampels", "--values", "1,2"]), &["--param training.sampels", "unknown key", "did you mean `training.samples`?"]);
    assert_refused(&rfrisk(&["sweep", p, "--param", "training.samples", "--values", "5:1:1"]), &["--values", "a <= b"]);
}

/// Exit 1: an output that cannot be written (its directory is a file), for sweep and
/// simulate, naming the path; nothing is left behind.
#[test]
fn an_output_that_cannot_be_written_is_exit_1() {
    let path = spec_file("valid.toml", VALID);
    let blocker = path.with_file_name("not-a-directory");
    std::fs::write(&blocker, "a file").unwrap();
    let target = blocker.join("out.csv");
    let p = path.to_str().unwrap();
    for args in [
        vec!["sweep", p, "--param", "training.samples", "--values", "100,200", "--out", target.to_str().unwrap()],
        vec!["simulate", p, "--trials", "1", "--n-test", "50", "--backend", "cpu", "--out", target.to_str().unwrap()],
    ] {
        let out = rfrisk(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(target.to_str().unwrap()) && stderr.contains("Not a directory"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "a file");
}

/// Exit 4: the solver found no root (the known entropic limit: a half-normal teacher,
/// n/d_L > 1/2, a start 9.5 times the teacher's scale). The message names c and r;
/// stdout stays empty.
#[test]
fn a_solve_without_a_root_is_exit_4() {
    let body = "[data]\ndim = 1000\n[features]\nwidths = [1000]\n[teacher]\nprior = \"half-normal\"\n[training]\nsamples = 800\nmirror = \"entropic\"\ninit = 0.3\n";
    let path = spec_file("far-start.toml", body);
    let out = rfrisk(&["predict", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no root") && stderr.contains("c = 9.4868") && stderr.contains("r = 1"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// `sweep --out` replaces the file whole or not at all: a run killed mid-way leaves
/// the old file as it was, a finished one leaves the new file and no temporary.
#[test]
fn sweep_out_is_written_atomically() {
    let path = spec_file("valid.toml", VALID);
    let csv_path = path.with_file_name("curve.csv");
    std::fs::write(&csv_path, "the previous curve\n").unwrap();
    let args = ["sweep", path.to_str().unwrap(), "--set", "training.mirror=entropic", "--param", "training.samples", "--values", "1:399:1", "--out", csv_path.to_str().unwrap()];
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args).stderr(std::process::Stdio::null()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(child.try_wait().unwrap().is_none(), "the sweep finished before it could be killed");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), "the previous curve\n");
    let out = rfrisk(&args[..7].iter().copied().chain(["1:399:100", "--out", csv_path.to_str().unwrap()]).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = csv::Reader::from_path(&csv_path).unwrap().records().count();
    assert_eq!(rows, 4, "1, 101, 201, 301");
    let leftovers: Vec<_> = std::fs::read_dir(csv_path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Every file and stdout the commands write, over valid, failing and infeasible points:
/// no NaN or infinite number anywhere.
#[test]
fn no_command_prints_or_writes_a_non_finite_number() {
    let path = spec_file("valid.toml", VALID);
    let dir = path.parent().unwrap().to_owned();
    let p = path.to_str().unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let runs: Vec<Vec<String>> = [
        vec!["predict", p],
        vec!["predict", p, "--format", "json"],
        vec!["predict", p, "--set", "training.mirror=entropic", "--format", "json"],
        vec!["gep", p],
        vec!["sweep", p, "--param", "training.samples", "--values", "100,700,800,900"],
        vec!["sweep", p, "--set", "training.mirror=entropic", "--param", "training.samples", "--values", "100,399,400,900", "--out", &file("entropic.csv")],
        vec!["simulate", p, "--trials", "2", "--n-test", "100", "--backend", "cpu", "--format", "json", "--out", &file("trials.csv")],
        vec!["simulate", p, "--set", "training.mirror=entropic", "--set", "training.samples=500", "--trials", "2", "--n-test", "100", "--backend", "cpu", "--out", &file("infeasible.csv")],
        vec!["gap", p, "--trials", "3", "--n-test", "100", "--backend", "cpu", "--format", "json"],
        vec!["gap", p, "--set", "features.activation=relu", "--trials", "3", "--n-test", "100", "--backend", "cpu"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| s.to_string()).collect())
    .collect();
    let non_finite = |text: &str| text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| ["nan", "inf", "infinity"].contains(&w.to_ascii_lowercase().as_str()));
    for args in &runs {
        let out = rfrisk(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        // The two sweeps hold failing points on purpose: exit 5.
        let expected = if args[0] == "sweep" { 5 } else { 0 };
        assert_eq!(out.status.code(), Some(expected), "{args:?}: {stderr}");
        assert!(!non_finite(&stdout) && !non_finite(&stderr), "{args:?}:\n{stdout}\n{stderr}");
    }
    for name in ["entropic.csv", "trials.csv", "infeasible.csv"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.lines().count() > 2 && !non_finite(&text), "{name}:\n{text}");
    }
    assert!(std::fs::read_to_string(dir.join("infeasible.csv")).unwrap().contains(",infeasible"), "the infeasible trials are rows");
}

/// The numbers of a `bench` report, each finite and positive where it is a time.
fn report_numbers(text: &str) -> Vec<f64> {
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .filter_map(|w| w.trim_end_matches('x').parse::<f64>().ok())
        .collect()
}

/// `bench sweep` at a tiny size: every line of the report, finite numbers, no failed point.
#[test]
fn bench_sweep_reports_its_ratios() {
    let out = rfrisk(&["bench", "sweep", "--points", "4", "--depth", "1", "--repeats", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in ["parallel sweep", "one-thread sweep", "speed-up", "one prediction", "failed points               0", "slowest", "past the boundary"] {
        assert!(text.contains(line), "`{line}` missing:\n{text}");
    }
    let numbers = report_numbers(&text);
    assert!(numbers.len() >= 12 && numbers.iter().all(|v| v.is_finite() && *v >= 0.0), "{numbers:?}\n{text}");
    assert_refused(&rfrisk(&["bench", "sweep", "--points", "1"]), &["--points >= 2"]);
}

/// `bench trial` once: both laws timed, and the NumPy baseline's ratio (or, without
/// NumPy, a line that says it could not run).
#[test]
fn bench_trial_runs_one_trial_per_law() {
    let out = rfrisk(&["bench", "trial", "--repeats", "1", "--backend", "cpu"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("rfrisk cpu") && text.contains("GFLOP/s"), "{text}");
    assert!(text.contains("time ratio numpy / rfrisk") || text.contains("could not run `python3"), "{text}");
    assert!(report_numbers(&text).iter().all(|v| v.is_finite()), "{text}");
}

/// `training.ratio` (n/d_L) and `features.overparam` (d_L/n) set n = round(ratio d_L) and
/// round(d_L / overparam); one sample key per spec; a sweep over the ratio gives the
/// predictions at the rounded n, with the ratio in the first column.
#[test]
fn ratio_keys_set_the_sample_count() {
    let path = spec_file("valid.toml", VALID);
    let load = |sets: &[&str]| rfrisk::spec::load(&path, &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(load(&["training.ratio=0.3333"]).unwrap().samples, 267, "round(0.3333 x 800)");
    assert_eq!(load(&["training.ratio=0.000625"]).unwrap().samples, 1, "round(0.5) is 1: half away from zero");
    assert_eq!(load(&["features.overparam=3"]).unwrap().samples, 267, "round(800 / 3)");
    assert_eq!(load(&["training.ratio=0.5", "training.samples=100"]).unwrap().samples, 100, "the later key replaces the earlier");
    for (set, needle) in [
        ("training.ratio=-1", "training.ratio: is n/d_L and must be a finite number > 0"),
        ("training.ratio=0.0001", "gives n = 0 training samples"),
        ("features.overparam=0", "features.overparam: is d_L/n and must be a finite number > 0"),
    ] {
        let out = rfrisk(&["predict", path.to_str().unwrap(), "--set", set]);
        assert_refused(&out, &[needle]);
    }
    let both = spec_file("both.toml", &format!("{VALID}ratio = 0.5\n"));
    assert_refused(&rfrisk(&["predict", both.to_str().unwrap()]), &["set only one of training.samples and training.ratio"]);
    let out = rfrisk(&["sweep", path.to_str().unwrap(), "--param", "training.ratio", "--values", "0.1,0.25,0.5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "training.ratio");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for (row, n) in rows.iter().zip([80, 200, 400]) {
        let spec = load(&[&format!("training.samples={n}")]).unwrap();
        assert_eq!(row[1].parse::<f64>().unwrap(), rfrisk::predict(&spec).unwrap().excess_risk, "{row:?}");
    }
    assert_eq!(rfrisk::plot::axis_label("training.ratio"), "n / d_L (training.ratio)");
}

/// `--values` is checked by the key's type before anything runs (exit 2, naming the flag,
/// empty stdout); a CSV status cell never holds a line break.
#[test]
fn malformed_values_are_refused_up_front() {
    let path = spec_file("valid.toml", VALID);
    let p = path.to_str().unwrap();
    for (key, values, needle) in [
        ("training.samples", "100-900", "`100-900` is not an integer; training.samples takes integers (a range is a:b:step"),
        ("training.samples", "100..900", "`100..900` is not an integer"),
        ("training.samples", "100,150.5", "`150.5` is not an integer"),
        ("teacher.noise_std", "0.1,abc", "`abc` is not a finite number"),
        ("features.activation", "tanh,tahn", "unknown value `tahn`"),
        ("features.widths", "800", "`800` is not a list of integers like [1600,1600]"),
    ] {
        assert_refused(&rfrisk(&["sweep", p, "--param", key, "--values", values]), &["--values", needle]);
        assert_refused(&rfrisk(&["gap", p, "--trials", "2", "--scan", key, "--values", values]), &["--values", needle]);
    }
    let out = rfrisk(&["sweep", p, "--param", "training.samples", "--values", "300,800"]);
    assert_eq!(out.status.code(), Some(5));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "header and one line per point, no line break inside a status: {text}");
}

/// Error messages in the user's words: types named as a person would, the accepted form of
/// a list, the nearest key for a typo (in a file and in `--set`), and `--set KEY VALUE`.
#[test]
fn error_messages_speak_the_users_words() {
    let path = spec_file("valid.toml", VALID);
    let p = path.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--set", "training.samples=1.5"], &["training.samples: invalid type: floating point `1.5`, expected an integer"]),
        (&["--set", "features.widths=1600"], &["expected a list", "`widths = [1600, 1600]` in a file", "`--set 'features.widths=[1600,1600]'`"]),
        (&["--set", "training.sampels=3"], &["unknown key `training.sampels`; did you mean `training.samples`?"]),
        (&["--set", "training.samples", "800"], &["--set training.samples: expected KEY=VALUE; write --set training.samples=800"]),
        (&["--set", "teacher.noise_std=abc"], &["teacher.noise_std", "expected a number"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["predict", p];
        args.extend_from_slice(extra);
        let out = rfrisk(&args);
        assert_refused(&out, needles);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("i64"), "{extra:?}");
    }
    let typo = spec_file("typo.toml", "[training]\nsampels = 100\n[trainig]\nmirror = \"squared\"\n");
    assert_refused(&rfrisk(&["predict", typo.to_str().unwrap()]), &["did you mean `training"]);
    let section = spec_file("section.toml", "[trainig]\nsamples = 100\n");
    assert_refused(&rfrisk(&["predict", section.to_str().unwrap()]), &["trainig: unknown key `trainig`; did you mean `training`?"]);
}

/// The table lists every key that took its default, with the value it took (the entropic
/// start included); comparing maps without a start of one's own is warned about; the JSON's
/// `spec` is a spec file that `predict` reads back to the same numbers.
#[test]
fn defaults_are_shown_and_the_json_spec_reads_back() {
    let body = "[data]\ndim = 400\n[features]\nwidths = [600, 800]\n[training]\nsamples = 300\n";
    let path = spec_file("defaults.toml", body);
    let p = path.to_str().unwrap();
    let squared = rfrisk(&["predict", p]);
    let table = String::from_utf8(squared.stdout).unwrap();
    assert!(table.contains("defaults  data.spectrum = identity, data.source = gaussian, features.activation = tanh, features.weights = gaussian, teacher.prior = gaussian, teacher.depth = 2, teacher.norm2 = 1, teacher.noise_std = 0, training.mirror = squared, training.init = 0, training.ridge = 0\n"), "{table}");
    assert!(table.contains("ratio     n/d_L = 0.375000 (d_L/n = 2.666667)"), "{table}");
    assert!(String::from_utf8_lossy(&squared.stderr).is_empty());
    let entropic = rfrisk(&["predict", p, "--set", "training.mirror=entropic", "--set", "teacher.prior=half-normal"]);
    let (table, stderr) = (String::from_utf8(entropic.stdout).unwrap(), String::from_utf8_lossy(&entropic.stderr).into_owned());
    assert!(table.contains("training.init = 0.0282095"), "sqrt(2/(pi 800)): {table}");
    assert!(stderr.contains("warning: training.init is not set, so each mirror map takes its own default start"), "{stderr}");
    let chosen = rfrisk(&["predict", p, "--set", "training.mirror=entropic", "--set", "training.init=0.03"]);
    assert!(chosen.status.success() && chosen.stderr.is_empty(), "{}", String::from_utf8_lossy(&chosen.stderr));
    for extra in [&[][..], &["--set", "training.mirror=entropic", "--set", "teacher.prior=half-normal", "--set", "teacher.noise_std=0.1"][..]] {
        let mut args = vec!["predict", p, "--format", "json"];
        args.extend_from_slice(extra);
        let first: serde_json::Value = serde_json::from_slice(&rfrisk(&args).stdout).unwrap();
        let echoed = path.with_file_name("echoed.json");
        std::fs::write(&echoed, first["spec"].to_string()).unwrap();
        let again: serde_json::Value = serde_json::from_slice(&rfrisk(&["predict", echoed.to_str().unwrap(), "--format", "json"]).stdout).unwrap();
        assert_eq!(again, first, "the echoed spec reads back to the same prediction");
        assert!(first["spec"]["training"]["samples"].is_u64() && first["spec"]["features"]["widths"].is_array());
    }
}

/// Numbers a person can read: no `e0` exponents and no 30-digit decimals in the table;
/// tiny numbers in scientific notation in the CSV; p-values in fixed notation.
#[test]
fn numbers_are_printed_for_people() {
    let path = spec_file("valid.toml", VALID);
    let p = path.to_str().unwrap();
    let table = String::from_utf8(rfrisk(&["predict", p]).stdout).unwrap();
    assert!(!table.contains("e0 ") && !table.contains("e0\n") && !table.contains("0.0e0"), "{table}");
    assert!(table.lines().any(|l| l.trim_start().starts_with("u_1") && l.contains("residual")), "{table}");
    let csv = String::from_utf8(rfrisk(&["sweep", p, "--param", "training.samples", "--values", "100,200"]).stdout).unwrap();
    for row in csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap) {
        let residual = &row[7];
        let value: f64 = residual.parse().unwrap();
        assert!(residual == "0" || residual.contains('e') || value >= 1e-4, "max_residual `{residual}`");
        assert!(row.iter().all(|f| f.len() < 26), "{row:?}");
    }
    let tiny = spec_file("tiny.toml", "[data]\ndim = 40\n[features]\nwidths = [80]\n[training]\nsamples = 30\n");
    let gap = String::from_utf8(rfrisk(&["gap", tiny.to_str().unwrap(), "--trials", "4", "--n-test", "100", "--backend", "cpu"]).stdout).unwrap();
    let p_value = gap.split("p = ").nth(1).unwrap().split(',').next().unwrap();
    assert!(p_value.len() == 5 && p_value.starts_with("0."), "p = {p_value}:\n{gap}");
    assert!(gap.contains("measured excess risk, gaussian:") && gap.contains("95% interval") && gap.contains("warning: only 4 paired trials"), "{gap}");
}

/// The README's first command prints exactly the output the README shows.
#[test]
fn the_readme_shows_what_its_first_command_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("```text\nmodel ").expect("the README shows the first command's output") + "```text\n".len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tanh-depth2.toml");
    let printed = String::from_utf8(rfrisk(&["predict", spec]).stdout).unwrap();
    assert_eq!(printed, shown);
}

/// `training.ridge`: refused where it is not derived or not a ridge (exit 2 naming the key),
/// and with a ridge the JSON's `top` is null (the scalar problem is not derived there) while
/// any sample count is answered, through the command as through the library.
#[test]
fn ridge_is_refused_where_it_is_not_derived_and_answered_on_both_sides() {
    let path = spec_file("valid.toml", VALID);
    let p = path.to_str().unwrap();
    for (sets, needle) in [
        (&["--set", "training.ridge=-0.1"][..], "training.ridge: must be finite and >= 0, got -0.1"),
        (&["--set", "training.ridge=nan"][..], "training.ridge"),
        (&["--set", "training.ridge=0.1", "--set", "training.mirror=entropic"][..], "training.ridge: = 0.1: not derived for the entropic map"),
    ] {
        let mut args = vec!["predict", p];
        args.extend_from_slice(sets);
        assert_refused(&rfrisk(&args), &[needle]);
    }
    for n in ["300", "800", "1200"] {
        let samples = format!("training.samples={n}");
        let out = rfrisk(&["predict", p, "--set", "training.ridge=0.05", "--set", &samples, "--format", "json"]);
        assert!(out.status.success(), "n = {n}: {}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json.as_object().unwrap().get("top").is_some_and(serde_json::Value::is_null), "{json}");
        let spec = rfrisk::spec::load(&path, &["training.ridge=0.05".into(), samples.clone()]).unwrap();
        assert_eq!(json["excess_risk"].as_f64().unwrap(), rfrisk::predict(&spec).unwrap().excess_risk);
        assert!(json["solver"]["max_residual"].as_f64().unwrap() < 1e-12);
    }
    let out = rfrisk(&["simulate", p, "--set", "training.ridge=0.05", "--trials", "1", "--n-test", "50", "--backend", "cpu", "--trainer", "smd"]);
    assert_refused(&out, &["with training.ridge > 0 or samples >= d_L there is none to run to: use --trainer direct"]);
}
