//! Figures: files are written and non-empty, a figure CSV redraws to the very
//! same plot, and a failed point is drawn as missing, never as a number.

mod common;
use rfrisk::curve::{Curve, Metric, Row};
use rfrisk::plot::{draw, PlotOptions};
use std::path::PathBuf;
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rfrisk-plot-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rfrisk(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rfrisk")).args(args).output().unwrap()
}

fn row(series: &str, x: f64, v: Option<f64>, se: Option<f64>) -> Row {
    match v {
        Some(v) => Row {
            series: series.into(),
            x,
            excess_risk: Some(v),
            excess_stderr: se,
            test_error: Some(v + 0.1),
            test_stderr: se,
            trials: se.map(|_| 5),
            status: "ok".into(),
        },
        None => Row::failed(series, x, "error: training.samples: outside the interpolation regime".into()),
    }
}

#[test]
fn validate_writes_csv_png_and_svg_and_plot_redraws_the_same_figure() {
    let dir = temp_dir("validate");
    let spec = dir.join("spec.toml");
    std::fs::write(&spec, "[data]\ndim = 120\n[features]\nwidths = [200]\n[teacher]\nnoise_std = 0.2\n[training]\nsamples = 60\n").unwrap();
    let out = dir.join("out");
    let args = [
        "validate",
        spec.to_str().unwrap(),
        "--param",
        "training.samples",
        "--values",
        "40,80,120,200",
        "--trials",
        "3",
        "--n-test",
        "200",
        "--backend",
        "cpu",
        "--out-dir",
        out.to_str().unwrap(),
    ];
    let run = rfrisk(&args);
    // n = d_L = 200 with noise and no ridge fails (infinite risk): exit 5, after writing everything.
    assert_eq!(run.status.code(), Some(5), "{}", String::from_utf8_lossy(&run.stderr));
    for file in ["validate.csv", "validate.png", "validate.svg"] {
        let len = std::fs::metadata(out.join(file)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "{file}: {len} bytes");
    }
    assert!(std::fs::read(out.join("validate.png")).unwrap().starts_with(b"\x89PNG"));
    // n = d_L = 200 fails: kept in the CSV as missing, never as a number.
    let curve = Curve::read(&out.join("validate.csv")).unwrap();
    let at_200: Vec<&Row> = curve.rows.iter().filter(|r| r.x == 200.0).collect();
    assert_eq!(at_200.len(), 3, "theory, gaussian and onebit rows at 200");
    // The theory's point is missing; the finite-size trials there are finite (and huge), and kept.
    let theory_at_200 = at_200.iter().find(|r| r.series == "theory").unwrap();
    assert!(!theory_at_200.ok() && theory_at_200.excess_risk.is_none() && theory_at_200.status.contains("the risk is infinite"), "{at_200:?}");
    assert_eq!(curve.rows.iter().filter(|r| r.series != "theory" && r.ok()).count(), 8);

    // Redraw from the CSV alone: the same SVG, byte for byte.
    let spec_value = rfrisk::spec::load(&spec, &[]).unwrap();
    let title = rfrisk::plot::title(&spec_value, "training.samples");
    let again = dir.join("again");
    let replot = rfrisk(&["plot", out.join("validate.csv").to_str().unwrap(), "--out", again.to_str().unwrap(), "--title", &title]);
    assert!(replot.status.success(), "{}", String::from_utf8_lossy(&replot.stderr));
    assert_eq!(std::fs::read(again.with_extension("svg")).unwrap(), std::fs::read(out.join("validate.svg")).unwrap());

    // The same directory again without --resume is refused.
    let refused = rfrisk(&args);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    // With it, the kept trials are read, not rerun: mark one kept trial's risk (a rerun
    // would overwrite the mark) and drop another file's last trial (which must run again,
    // to the same row).
    let trials_at = |n: u32| out.join("trials").join(format!("training.samples={n}.csv"));
    let kept = std::fs::read_to_string(trials_at(40)).unwrap();
    let mut lines: Vec<String> = kept.lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    assert_eq!(fields[0], "gaussian");
    let original: f64 = fields[3].parse().unwrap();
    fields[3] = "1.5".into();
    lines[1] = fields.join(",");
    std::fs::write(trials_at(40), lines.join("\n") + "\n").unwrap();
    let full = std::fs::read_to_string(trials_at(80)).unwrap();
    let cut = full.trim_end().rfind('\n').unwrap() + 1;
    std::fs::write(trials_at(80), &full[..cut]).unwrap();
    let mut resumed: Vec<&str> = args.to_vec();
    resumed.push("--resume");
    let again = rfrisk(&resumed);
    assert_eq!(again.status.code(), Some(5), "{}", String::from_utf8_lossy(&again.stderr));
    // Every field but `seconds` (the 7th).
    let timeless = |text: &str| -> Vec<String> {
        text.lines().map(|l| l.split(',').enumerate().filter(|(i, _)| *i != 6).map(|(_, f)| f).collect::<Vec<_>>().join(",")).collect()
    };
    assert_eq!(timeless(&std::fs::read_to_string(trials_at(80)).unwrap()), timeless(&full), "the dropped trial ran again to the same row");
    assert!(std::fs::read_to_string(trials_at(40)).unwrap().contains(",1.5,"), "the marked trial was rerun");
    let resumed_curve = Curve::read(&out.join("validate.csv")).unwrap();
    let mean_at_40 = |c: &Curve| c.rows.iter().find(|r| r.series == "gaussian" && r.x == 40.0).unwrap().excess_risk.unwrap();
    let expected = mean_at_40(&curve) + (1.5 - original) / 3.0;
    assert!((mean_at_40(&resumed_curve) - expected).abs() < 1e-12, "{} vs {expected}: the figure did not use the kept trials", mean_at_40(&resumed_curve));
    let unchanged = |c: &Curve| c.rows.iter().filter(|r| !(r.series == "gaussian" && r.x == 40.0)).cloned().collect::<Vec<_>>();
    assert_eq!(unchanged(&resumed_curve), unchanged(&curve));
}

#[test]
fn figure_csv_round_trips() {
    let dir = temp_dir("roundtrip");
    let curve = Curve {
        key: "features.depth".into(),
        rows: vec![row("theory", 1.0, Some(0.5), None), row("gaussian", 1.0, Some(0.51), Some(0.01)), row("onebit", 2.0, None, None)],
    };
    let path = dir.join("c.csv");
    curve.write(&path).unwrap();
    assert_eq!(Curve::read(&path).unwrap(), curve);
    std::fs::write(dir.join("bad.csv"), "a,b\n1,2\n").unwrap();
    let out = rfrisk(&["plot", dir.join("bad.csv").to_str().unwrap(), "--out", dir.join("bad").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a figure CSV"));
}

/// Count of filled markers in an SVG: one per simulation point plus one per
/// legend entry (error bars draw an unfilled circle of their own, not counted).
fn circles(svg: &str) -> usize {
    svg.split("<circle").skip(1).filter(|c| c.split('>').next().unwrap_or("").contains("stroke=\"none\"")).count()
}

#[test]
fn a_failed_point_is_drawn_as_missing() {
    let dir = temp_dir("missing");
    let options = PlotOptions { metric: Metric::ExcessRisk, log_x: false, log_y: true, title: "missing".into(), y_label: None, theory_band: false };
    let ok_rows = vec![
        row("theory", 1.0, Some(0.5), None),
        row("theory", 2.0, Some(0.4), None),
        row("theory", 3.0, Some(0.35), None),
        row("gaussian", 1.0, Some(0.52), Some(0.02)),
        row("gaussian", 2.0, Some(0.41), Some(0.02)),
    ];
    let mut with_failure = ok_rows.clone();
    with_failure.push(row("theory", 4.0, None, None));
    with_failure.push(row("gaussian", 4.0, None, None));
    for (name, rows, points) in [("ok", ok_rows, 2), ("failed", with_failure, 2)] {
        let stem = dir.join(name);
        draw(&Curve { key: "features.depth".into(), rows }, &options, &stem).unwrap();
        let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
        assert_eq!(circles(&svg), points + 1, "{name}: one marker per successful point plus the legend's");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{name}: a non-number reached the SVG");
    }
    // Nothing to draw is an error, not an empty figure.
    let empty = Curve { key: "x".into(), rows: vec![row("theory", 1.0, None, None)] };
    assert!(draw(&empty, &options, &dir.join("empty")).is_err());
}

/// The theory polylines of an SVG: (stroke colour, points).
fn theory_polylines(svg: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p.contains("stroke-linejoin=\"round\""))
        .map(|p| {
            let attr = |name: &str| p.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_owned();
            let points = attr("points")
                .split_whitespace()
                .map(|xy| {
                    let (x, y) = xy.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            (attr("stroke"), points)
        })
        .collect()
}

/// The README's three-depth figure against n/d_L in one command: `validate --param
/// training.ratio --series features.depth=1,2,3`. One CSV with three series groups and the
/// ratio column; in the SVG three theory lines in three colours, at sub-pixel positions;
/// a PNG at print size; and `--resume` reruns nothing.
#[test]
fn a_family_of_curves_against_the_ratio_is_one_command() {
    let dir = temp_dir("family");
    let spec = dir.join("spec.toml");
    std::fs::write(&spec, "[data]\ndim = 300\n[features]\nwidths = [400]\n[teacher]\nnoise_std = 0.2\n").unwrap();
    let out = dir.join("out");
    let args = [
        "validate", spec.to_str().unwrap(), "--param", "training.ratio", "--values", "0.2,0.5,0.8", "--series", "features.depth=1,2,3",
        "--trials", "2", "--n-test", "200", "--backend", "cpu", "--out-dir", out.to_str().unwrap(),
    ];
    let run = rfrisk(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let curve = Curve::read(&out.join("validate.csv")).unwrap();
    assert_eq!(curve.key, "training.ratio");
    let mut groups: Vec<&str> = curve.rows.iter().map(|r| r.series.split_once('/').unwrap().0).collect();
    groups.dedup();
    assert_eq!(groups, ["features.depth=1", "features.depth=2", "features.depth=3"]);
    for group in &groups {
        let sims = curve.rows.iter().filter(|r| r.series.starts_with(group) && !r.series.ends_with("theory")).count();
        assert_eq!(sims, 6, "{group}: 3 ratios x 2 laws");
        assert!(curve.rows.iter().any(|r| r.series == format!("{group}/theory") && r.x == 0.5 && r.ok()));
    }
    let svg = std::fs::read_to_string(out.join("validate.svg")).unwrap();
    let lines = theory_polylines(&svg);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut colours: Vec<&String> = lines.iter().map(|(c, _)| c).collect();
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), 3, "distinct colours: {colours:?}");
    assert!(lines.iter().all(|(_, p)| p.len() > 100 && p.iter().any(|(x, y)| x.fract() != 0.0 && y.fract() != 0.0)), "sub-pixel coordinates");
    assert!(svg.contains("L = 1") || svg.contains("features.depth=1: theory"), "legend names the series");
    let png = std::fs::read(out.join("validate.png")).unwrap();
    let (w, h) = (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
    assert_eq!((w, h), (2000, 1360), "twice the SVG's 1000 x 680");
    // --theory-band shades theory ± the per-trial s.d. of each series: one band per line.
    let band = dir.join("band");
    let plotted = rfrisk(&["plot", out.join("validate.csv").to_str().unwrap(), "--theory-band", "--out", band.to_str().unwrap()]);
    assert!(plotted.status.success(), "{}", String::from_utf8_lossy(&plotted.stderr));
    let shaded = std::fs::read_to_string(band.with_extension("svg")).unwrap();
    assert_eq!(shaded.matches("<polygon").count(), 3, "one band per theory line");
    assert_eq!(svg.matches("<polygon").count(), 0, "no band unless asked");
    assert!(shaded.lines().any(|l| l.trim() == "out"), "a single validate.csv is titled by its folder");
    let trials = dir.join("out/series/features.depth=2/trials/training.ratio=0.5.csv");
    let before = std::fs::read(&trials).unwrap();
    let mut resumed = args.to_vec();
    resumed.push("--resume");
    assert!(rfrisk(&resumed).status.success());
    assert_eq!(std::fs::read(&trials).unwrap(), before);
    assert_eq!(Curve::read(&out.join("validate.csv")).unwrap(), curve);
}

/// `rfrisk plot a.csv b.csv c.csv`: each file its own colour, labelled by the spec field
/// its runs differ in (here the depth), or by `--label`; a label count that does not match
/// is refused.
#[test]
fn overlaid_files_get_their_own_colours_and_labels() {
    let dir = temp_dir("overlay");
    let spec = dir.join("spec.toml");
    std::fs::write(&spec, "[data]\ndim = 200\n[features]\nwidths = [300]\n[training]\nsamples = 100\n").unwrap();
    let mut csvs = Vec::new();
    for depth in 1..=3 {
        let out = dir.join(format!("d{depth}"));
        let depth = format!("features.depth={depth}");
        let run = rfrisk(&[
            "validate", spec.to_str().unwrap(), "--set", &depth, "--param", "training.samples", "--values", "60,150", "--trials", "2", "--n-test", "100",
            "--backend", "cpu", "--out-dir", out.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        csvs.push(out.join("validate.csv").to_str().unwrap().to_owned());
    }
    let stem = dir.join("overlay");
    let mut args = vec!["plot"];
    args.extend(csvs.iter().map(String::as_str));
    args.extend(["--out", stem.to_str().unwrap()]);
    assert!(rfrisk(&args).status.success());
    let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
    let lines = theory_polylines(&svg);
    let mut colours: Vec<&String> = lines.iter().map(|(c, _)| c).collect();
    colours.sort();
    colours.dedup();
    assert_eq!((lines.len(), colours.len()), (3, 3), "{lines:?}");
    for label in ["L = 1: theory", "L = 2: theory", "L = 3: theory"] {
        assert!(svg.contains(label), "{label}");
    }
    assert!(!svg.contains("validate, validate"), "the title is not the file names");
    args.extend(["--label", "shallow", "--label", "middle", "--label", "deep"]);
    assert!(rfrisk(&args).status.success());
    assert!(std::fs::read_to_string(stem.with_extension("svg")).unwrap().contains("deep: theory"));
    args.truncate(args.len() - 2);
    let refused = rfrisk(&args);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--label: 2 labels for 3 CSV files"));
}
