//! The committed figures (figures/): each CSV is what `rfrisk reproduce NAME --resume`
//! makes of the committed trials without running one, and the README's statements
//! about the figures are computed here from the committed CSVs (and recorded for
//! `tests/readme_table.rs`).

mod common;
use rfrisk::curve::{Curve, Row};
use std::path::{Path, PathBuf};

const FIGURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/figures");

fn committed(name: &str) -> Curve {
    Curve::read(&Path::new(FIGURES).join(format!("{name}.csv"))).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file under `root`, by its path relative to `root`, with its bytes.
fn files_under(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push((path.strip_prefix(root).unwrap().to_owned(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Both numbers absent, or equal to 1e-12 relative (the theory's last bits may differ
/// on another CPU's libm).
fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
        _ => false,
    }
}

/// `reproduce NAME --resume` on a copy of figures/: no trial runs (the trial files are
/// untouched), and the CSV it writes is the committed one.
#[test]
fn every_committed_figure_is_rebuilt_from_its_committed_trials() {
    let dir = std::env::temp_dir().join(format!("rfrisk-figures-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(Path::new(FIGURES), &dir);
    let trials_before = files_under(&dir.join("runs"));
    for name in ["depth", "gap", "mirrors", "double-descent", "activations", "tails", "fashion", "mirror-family"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rfrisk"))
            .args(["reproduce", name, "--resume", "--backend", "cpu", "--out-dir", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let (rebuilt, kept) = (Curve::read(&dir.join(format!("{name}.csv"))).unwrap(), committed(name));
        assert_eq!(rebuilt.key, kept.key);
        assert_eq!(rebuilt.rows.len(), kept.rows.len(), "{name}");
        for (a, b) in rebuilt.rows.iter().zip(&kept.rows) {
            let numbers = [(a.excess_risk, b.excess_risk), (a.excess_stderr, b.excess_stderr), (a.test_error, b.test_error), (a.test_stderr, b.test_stderr)];
            assert!(
                (&a.series, a.x, a.trials, &a.status) == (&b.series, b.x, b.trials, &b.status) && numbers.iter().all(|&(x, y)| same(x, y)),
                "{name}: rebuilt {a:?}\n  committed {b:?}"
            );
        }
    }
    // The paper figure of the README, one validate command, rebuilt from its trials.
    let family = dir.join("depth-ratio");
    let family_trials = files_under(&family.join("series"));
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tanh-depth2.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rfrisk"))
        .args(["validate", spec, "--param", "training.ratio", "--values", "0.1:0.9:0.1", "--series", "features.depth=1,2,3", "--trials", "10"])
        .args(["--backend", "cpu", "--out-dir", family.to_str().unwrap(), "--resume"])
        .output()
        .unwrap();
    assert!(out.status.success(), "depth-ratio: {}", String::from_utf8_lossy(&out.stderr));
    assert!(files_under(&family.join("series")) == family_trials, "depth-ratio: a trial ran");
    let (rebuilt, kept) = (Curve::read(&family.join("validate.csv")).unwrap(), Curve::read(&Path::new(FIGURES).join("depth-ratio/validate.csv")).unwrap());
    assert_eq!(rebuilt.rows.len(), kept.rows.len());
    for (a, b) in rebuilt.rows.iter().zip(&kept.rows) {
        assert!(a.series == b.series && a.x == b.x && same(a.test_error, b.test_error) && same(a.test_stderr, b.test_stderr), "depth-ratio: {a:?} vs {b:?}");
    }
    let trials_after = files_under(&dir.join("runs"));
    let changed: Vec<&PathBuf> = trials_after.iter().zip(&trials_before).filter(|(a, b)| a != b).map(|(a, _)| &a.0).collect();
    assert!(changed.is_empty() && trials_after.len() == trials_before.len(), "a trial ran or a trial file changed: {changed:?}");
}

/// The theory row of `series`'s group (`GROUP/NAME` series share `GROUP/theory`) at `x`.
fn theory_at<'a>(curve: &'a Curve, series: &str, x: f64) -> &'a Row {
    let group = series.rsplit_once('/').map_or(String::new(), |(g, _)| format!("{g}/"));
    let name = format!("{group}theory");
    curve.rows.iter().find(|r| r.series == name && r.x == x).unwrap_or_else(|| panic!("no {name} at {x}"))
}

/// Every simulated point with numbers: (row, z of its test error against the theory).
fn z_values(curve: &Curve) -> Vec<(&Row, f64)> {
    curve
        .rows
        .iter()
        .filter(|r| !r.series.ends_with("theory") && r.status == "ok")
        .map(|r| (r, (r.test_error.unwrap() - theory_at(curve, &r.series, r.x).test_error.unwrap()) / r.test_stderr.unwrap()))
        .collect()
}

/// How many points lie within `k` standard errors of the theory.
fn within(z: &[(&Row, f64)], k: f64) -> usize {
    z.iter().filter(|(_, z)| z.abs() <= k).count()
}

/// The points more than 3 standard errors from the theory, as `SERIES at X: z = Z`.
fn outside_three(z: &[(&Row, f64)]) -> Vec<String> {
    z.iter().filter(|(_, z)| z.abs() > 3.0).map(|(r, z)| format!("{} at {:.2}: z = {z:+.2}", r.series, r.x)).collect()
}

fn at<'a>(curve: &'a Curve, series: &str, x: f64) -> &'a Row {
    curve.rows.iter().find(|r| r.series == series && r.x == x).unwrap_or_else(|| panic!("no {series} at {x}"))
}

#[test]
fn the_depth_figure_statements() {
    let curve = committed("depth");
    let z = z_values(&curve);
    assert_eq!(z.len(), 10, "2 laws x 5 depths");
    let (worst, largest) = z.iter().fold((z[0].0, 0.0f64), |(w, m), &(r, z)| if z.abs() > m { (r, z.abs()) } else { (w, m) });
    let within_one = z.iter().filter(|(_, z)| z.abs() <= 1.0).count();
    let point = |x: f64, digits: usize| {
        let (t, g, o) = (theory_at(&curve, "theory", x), at(&curve, "gaussian", x), at(&curve, "onebit", x));
        format!(
            "theory {:.d$}, Gaussian {:.d$} ± {:.d$}, one-bit {:.d$} ± {:.d$}",
            t.test_error.unwrap(),
            g.test_error.unwrap(),
            g.test_stderr.unwrap(),
            o.test_error.unwrap(),
            o.test_stderr.unwrap(),
            d = digits
        )
    };
    common::record(
        "figure-depth",
        &format!("{within_one} of {} points within 1 s.e. (largest |z| = {largest:.3}, L = {} {}); L = 1: {}; L = 5: {}", z.len(), worst.x, worst.series, point(1.0, 4), point(5.0, 5)),
    );
}

#[test]
fn the_gap_figure_statements() {
    let curve = committed("gap");
    let point = |w: f64| {
        let r = at(&curve, "paired gap", w);
        format!("{:.3} ± {:.3} at w = {w}", r.excess_risk.unwrap(), r.excess_stderr.unwrap())
    };
    let (first, last) = (at(&curve, "paired gap", 256.0), at(&curve, "paired gap", 4096.0));
    assert!(last.excess_risk.unwrap() < first.excess_risk.unwrap(), "the gap falls with width");
    common::record("figure-gap", &format!("{}, {}", point(256.0), point(4096.0)));
}

#[test]
fn the_mirrors_figure_statements() {
    let curve = committed("mirrors");
    let z = z_values(&curve);
    let within = |k: f64| within(&z, k);
    let outside = outside_three(&z);
    // The entropic map with noise: trials without a positive interpolator, both laws together.
    let infeasible: Vec<String> = [1.6666666666666667, 1.4285714285714286]
        .iter()
        .map(|&x| {
            let counts: Vec<(usize, usize)> = ["gaussian", "onebit"]
                .iter()
                .map(|law| {
                    let status = &at(&curve, &format!("entropic, noise 0.3/{law}"), x).status;
                    let words: Vec<&str> = status.split_whitespace().collect();
                    let of = words.iter().position(|w| *w == "of").unwrap_or_else(|| panic!("{status}"));
                    (words[of - 1].parse().unwrap(), words[of + 1].parse().unwrap())
                })
                .collect();
            let (bad, all) = counts.iter().fold((0, 0), |(b, a), &(x, y)| (b + x, a + y));
            format!("{bad} of {all} infeasible at {x:.2}")
        })
        .collect();
    common::record(
        "figure-mirrors",
        &format!("{} points: {} within 2 s.e., {} within 3; outside: {}; entropic with noise: {}", z.len(), within(2.0), within(3.0), outside.join(", "), infeasible.join(", ")),
    );
}

#[test]
fn the_double_descent_figure_statements() {
    let curve = committed("double-descent");
    let z = z_values(&curve);
    assert_eq!(z.len(), 6 * 2 * 15, "6 curves x 2 laws x 15 widths");
    let within = |k: f64| within(&z, k);
    let outside = outside_three(&z);
    // The peak at d_L = n without a ridge, and what a ridge of 0.1 leaves of it.
    let highest = |series: &str| curve.rows.iter().filter(|r| r.series == series).filter_map(|r| r.test_error).fold(0.0f64, f64::max);
    let peaks: Vec<String> = ["L = 1", "L = 3"]
        .iter()
        .map(|depth| {
            let (none, ridge) = (highest(&format!("{depth}, ridge 0/theory")), highest(&format!("{depth}, ridge 0.1/theory")));
            assert!(ridge < 0.1 * none, "{depth}: a ridge of 0.1 removes the peak");
            format!("{depth}: {none:.1} without a ridge, {ridge:.2} with 0.1")
        })
        .collect();
    common::record(
        "figure-double-descent",
        &format!(
            "{} points: {} within 2 s.e., {} within 3{}; highest theory test error: {}",
            z.len(),
            within(2.0),
            within(3.0),
            if outside.is_empty() { String::new() } else { format!("; outside: {}", outside.join(", ")) },
            peaks.join("; ")
        ),
    );
}

/// The activation stress test: every point against the theory, and the paired one-bit −
/// Gaussian gap in excess risk per activation and depth with its 95% interval (paired t).
#[test]
fn the_activations_figure_statements() {
    let curve = committed("activations");
    let z = z_values(&curve);
    assert_eq!(z.len(), 5 * 4 * 2, "5 activations x 4 depths x 2 laws");
    let within = |k: f64| within(&z, k);
    let largest = z.iter().fold((0.0f64, String::new()), |(m, s), (r, z)| if z.abs() > m { (z.abs(), format!("{} at L = {}", r.series, r.x)) } else { (m, s) });
    let mut gaps = Vec::new();
    let mut covering_zero = 0;
    for activation in ["tanh", "sigmoid", "relu", "leaky-relu-0.1", "gelu"] {
        for depth in 1..=4 {
            let path = Path::new(FIGURES).join(format!("runs/activations/{activation}/trials/features.depth={depth}.csv"));
            let rows: Vec<rfrisk::simulate::TrialRow> = csv::Reader::from_path(&path).unwrap().deserialize().map(Result::unwrap).collect();
            let pairs = rfrisk::gap::pairs(&rows, rfrisk::spec::WeightLaw::Gaussian, rfrisk::spec::WeightLaw::Onebit, rfrisk::gap::Measure::ExcessRisk);
            assert_eq!(pairs.len(), 10, "{activation} L = {depth}");
            let g = rfrisk::gap::paired_test(&pairs, 0.05);
            covering_zero += usize::from(g.ci_low <= 0.0 && 0.0 <= g.ci_high);
            gaps.push(format!("{activation} L={depth} {:+.1e} [{:+.1e}, {:+.1e}]", g.mean, g.ci_low, g.ci_high));
        }
    }
    common::record(
        "figure-activations",
        &format!(
            "{} points: {} within 2 s.e., {} within 3 (largest |z| = {:.2}, {}); the paired one-bit − Gaussian excess-risk gap's 95% interval covers 0 in {covering_zero} of 20",
            z.len(),
            within(2.0),
            within(3.0),
            largest.0,
            largest.1
        ),
    );
    common::record("figure-activations-gaps", &gaps.join("; "));
}

/// What pairing buys, measured on the committed gap trials: the standard deviation of
/// the per-trial one-bit − Gaussian difference if the two were independent
/// (`sqrt(var a + var b)`) over the paired one, per width.
#[test]
fn pairing_on_the_committed_gap_trials() {
    let mut ratios = Vec::new();
    for width in [256, 512, 1024, 2048, 4096] {
        let path = Path::new(FIGURES).join(format!("runs/gap/trials/features.width={width}.csv"));
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let rows: Vec<rfrisk::simulate::TrialRow> = reader.deserialize().map(Result::unwrap).collect();
        let pairs = rfrisk::gap::pairs(&rows, rfrisk::spec::WeightLaw::Gaussian, rfrisk::spec::WeightLaw::Onebit, rfrisk::gap::Measure::ExcessRisk);
        assert_eq!(pairs.len(), 10, "{width}");
        let variance = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
        };
        let (a, b): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        let d: Vec<f64> = pairs.iter().map(|(a, b)| b - a).collect();
        ratios.push(format!("{:.2}", ((variance(&a) + variance(&b)) / variance(&d)).sqrt()));
    }
    common::record("pairing", &format!("the s.d. of the one-bit − Gaussian difference if independent, over the paired one: {} at w = 256, 512, 1024, 2048, 4096", ratios.join(", ")));
}

/// The tails figure (issue 17): Gaussian inputs (1/NU = 0) agree with the theory within 3 s.e.
/// for both laws; for each t family, the largest NU at which a law leaves 3 s.e. (excess risk);
/// the paired one-bit − Gaussian gap within 3 s.e. of 0 at every point (one-bit stays lossless).
#[test]
fn the_tails_figure_statements() {
    let (curve, gaps) = (committed("tails"), committed("tails-gap"));
    let z = |r: &Row| (r.excess_risk.unwrap() - theory_at(&curve, &r.series, r.x).excess_risk.unwrap()) / r.excess_stderr.unwrap();
    let mut parts = Vec::new();
    for family in ["student-t", "elliptical-t"] {
        let points: Vec<(&Row, f64)> = curve.rows.iter().filter(|r| r.series.starts_with(family) && !r.series.ends_with("theory")).map(|r| (r, z(r))).collect();
        assert_eq!(points.len(), 12, "{family}: 2 laws x 6 NU");
        for (r, z) in points.iter().filter(|(r, _)| r.x == 0.0) {
            assert!(z.abs() <= 3.0, "{family} {}: Gaussian inputs at z = {z:+.2}", r.series);
        }
        // Points ordered from Gaussian (x = 0) to the heaviest tails.
        let mut xs: Vec<f64> = points.iter().map(|(r, _)| r.x).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let fails = xs.iter().find(|&&x| points.iter().any(|(r, z)| r.x == x && z.abs() > 3.0));
        let worst = points.iter().map(|(_, z)| *z).fold(0.0f64, |m, z| if z.abs() > m.abs() { z } else { m });
        parts.push(match fails {
            Some(x) => format!("{family} leaves 3 s.e. at NU = {:.3} (worst z = {worst:+.1})", 1.0 / x),
            None => format!("{family} within 3 s.e. down to NU = 2.5 (worst z = {worst:+.1})"),
        });
        for g in gaps.rows.iter().filter(|r| r.series.starts_with(family)) {
            let zg = g.excess_risk.unwrap() / g.excess_stderr.unwrap();
            assert!(zg.abs() <= 3.0, "{family} at 1/NU = {}: paired gap {:+e} (z = {zg:+.2})", g.x, g.excess_risk.unwrap());
        }
    }
    // The elliptical family moves the risk by O(1) at small NU: it must leave the band.
    assert!(parts[1].contains("leaves"), "{parts:?}");
    common::record("figure-tails", &parts.join("; "));
}

/// The fashion figure (issue 17): at each width and depth, the paired one-bit − Gaussian
/// difference in test accuracy with its 95% interval (t quantile, 9 degrees of freedom), and
/// the pairs a 95% interval of half-width 1% would need at the measured spread. Accuracy at
/// L = 1, width 4096 in the kernel range (0.75 to 0.84).
#[test]
fn the_fashion_figure_statements() {
    let curve = committed("fashion");
    let base = Path::new(FIGURES).join("runs/fashion");
    let mut parts = Vec::new();
    for width in [512, 4096] {
        for depth in 1..=5 {
            let path = base.join(format!("width{width}/trials/features.depth={depth}.csv"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // weights,trial,seed,excess_risk,test_error,...: accuracy = 1 - test_error.
            let accuracy = |law: &str| -> Vec<(usize, f64)> {
                text.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).filter(|c| c[0] == law).map(|c| (c[1].parse().unwrap(), 1.0 - c[4].parse::<f64>().unwrap())).collect()
            };
            let (g, o) = (accuracy("gaussian"), accuracy("onebit"));
            assert_eq!((g.len(), o.len()), (10, 10), "{}", path.display());
            let diffs: Vec<f64> = g.iter().map(|(t, a)| o.iter().find(|(u, _)| u == t).expect("paired").1 - a).collect();
            let n = diffs.len() as f64;
            let mean = diffs.iter().sum::<f64>() / n;
            let sd = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let half = 2.262 * sd / n.sqrt();
            let needed = ((1.96 * sd / 0.01).powi(2)).ceil().max(2.0);
            parts.push(format!("w {width} L {depth}: {:+.2}% [{:+.2}%, {:+.2}%], {needed} pairs", 100.0 * mean, 100.0 * (mean - half), 100.0 * (mean + half)));
        }
    }
    let l1 = at(&curve, "width 4096/gaussian", 1.0);
    let accuracy = 1.0 - l1.test_error.unwrap();
    assert!((0.75..=0.84).contains(&accuracy), "L = 1, width 4096: accuracy {accuracy}");
    common::record("figure-fashion", &format!("accuracy at L = 1, width 4096: {accuracy:.3} (Gaussian); one-bit − Gaussian accuracy: {}", parts.join("; ")));
}

/// The mirror-family figure (issue 20): every simulated point within 3 s.e. of the p-norm
/// theory, and the exponent each teacher prefers: q = 2 (SGD) for the dense teacher, the
/// smallest q for the sparse one, in the theory and in the simulated means alike.
#[test]
fn the_mirror_family_figure_statements() {
    let curve = committed("mirror-family");
    let z = z_values(&curve);
    assert_eq!(z.len(), 4 * 6 * 2, "4 variants x 6 exponents x 2 laws");
    assert!(outside_three(&z).is_empty(), "{:?}", outside_three(&z));
    let mut parts = Vec::new();
    for (variant, best) in [("dense teacher, noise 0", 2.0), ("dense teacher, noise 0.1", 2.0), ("sparse:0.1 teacher, noise 0", 1.1), ("sparse:0.1 teacher, noise 0.1", 1.1)] {
        let theory: Vec<&Row> = curve.rows.iter().filter(|r| r.series == format!("{variant}/theory")).collect();
        let argmin = |rows: &[&Row]| rows.iter().min_by(|a, b| a.test_error.unwrap().total_cmp(&b.test_error.unwrap())).map(|r| r.x).unwrap();
        assert_eq!(argmin(&theory), best, "{variant}: theory");
        for law in ["gaussian", "onebit"] {
            let sim: Vec<&Row> = curve.rows.iter().filter(|r| r.series == format!("{variant}/{law}")).collect();
            assert_eq!(argmin(&sim), best, "{variant} {law}");
        }
        let at_q = |q: f64| at(&curve, &format!("{variant}/theory"), q).test_error.unwrap();
        parts.push(format!("{variant}: best q = {best} ({:.4}; q = 2: {:.4}, q = 4: {:.4})", at_q(best), at_q(2.0), at_q(4.0)));
    }
    common::record("figure-mirror-family", &format!("{} points: {} within 2 s.e., all within 3; {}", z.len(), within(&z, 2.0), parts.join("; ")));
}
