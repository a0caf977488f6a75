//! Drawing figures: theory as a line, simulations as points with standard-error
//! bars, one colour per series. PNG and SVG from the same code; the font is
//! embedded (DejaVu Sans, src/figures/font/DejaVuSans-LICENSE.txt), so no system font is needed.

use crate::figures::curve::{Curve, Metric, Row};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

#[derive(Clone, Debug)]
pub struct PlotOptions {
    pub metric: Metric,
    pub log_x: bool,
    pub log_y: bool,
    pub title: String,
    /// Overrides the metric's y-axis label.
    pub y_label: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("nothing to plot: no successful point in {0}")]
    Empty(String),
    #[error("--log-{axis}: {what} must be > 0, got {value}")]
    NotPositive { axis: char, what: &'static str, value: f64 },
    #[error("drawing {path}: {message}")]
    Draw { path: String, message: String },
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, include_bytes!("font/DejaVuSans.ttf"))
            .unwrap_or_else(|_| panic!("the embedded font parses"));
    });
}

/// Colours that stay apart for colour-blind readers (Okabe–Ito).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Draws `curves` (each with a label prefix, empty for a single curve) to
/// `stem.png` and `stem.svg`.
pub fn draw(curves: &[(String, Curve)], options: &PlotOptions, stem: &Path) -> Result<(), PlotError> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let size = (1000, 680);
    let to_err = |path: &Path| {
        let path = path.display().to_string();
        move |e: Box<dyn std::error::Error>| PlotError::Draw { path: path.clone(), message: e.to_string() }
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        render(&root, curves, options).map_err(to_err(&png))??;
        root.present().map_err(|e| to_err(&png)(Box::new(e)))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        render(&root, curves, options).map_err(to_err(&svg))??;
        root.present().map_err(|e| to_err(&svg)(Box::new(e)))?;
    }
    Ok(())
}

type Drawn = Result<Result<(), PlotError>, Box<dyn std::error::Error>>;

/// An axis: linear, or logarithmic drawn as log10 on a linear axis (so that every
/// range, even less than a decade, gets tick labels), with its padded range.
#[derive(Clone, Copy)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Axis {
    fn fit(values: &[f64], log: bool, axis: char, what: &'static str) -> Result<Axis, PlotError> {
        if log {
            if let Some(&bad) = values.iter().find(|&&v| v <= 0.0) {
                return Err(PlotError::NotPositive { axis, what, value: bad });
            }
        }
        let t: Vec<f64> = values.iter().map(|&v| if log { v.log10() } else { v }).collect();
        let (lo, hi) = t.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let pad = ((hi - lo) * 0.06).max(if log { 0.02 } else { hi.abs().max(lo.abs()) * 0.02 }).max(1e-12);
        Ok(Axis { log, lo: lo - pad, hi: hi + pad })
    }

    fn to(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    fn tick(&self, t: f64) -> String {
        format_tick(if self.log { 10f64.powf(t) } else { t })
    }

    /// Tick positions at round values: 1, 2, 5 x 10^k on a linear axis (or every
    /// integer when `integer` and few), and at 1, 2, 5 x 10^k (1..9 x 10^k for
    /// ranges under a decade) of the value on a log axis.
    fn ticks(&self, integer: bool) -> Vec<f64> {
        let (lo, hi) = (self.lo, self.hi);
        if self.log {
            let decades = (lo.floor() as i32)..=(hi.ceil() as i32);
            let pick = |mantissas: &[f64]| -> Vec<f64> {
                decades.clone().flat_map(|k| mantissas.iter().map(move |m| (m * 10f64.powi(k)).log10())).filter(|t| (lo..=hi).contains(t)).collect()
            };
            let coarse = pick(&[1.0, 2.0, 5.0]);
            return if coarse.len() >= 3 { coarse } else { pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]) };
        }
        if integer && hi - lo <= 12.0 {
            return (lo.ceil() as i64..=hi.floor() as i64).map(|v| v as f64).collect();
        }
        let raw = (hi - lo) / 8.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
        let first = (lo / step).ceil() as i64;
        (first..).map(|i| i as f64 * step).take_while(|t| *t <= hi).collect()
    }
}

/// A linear coordinate whose tick marks are exactly the given values (plotters'
/// own choice of ticks lands on odd values once an axis is log10-transformed).
struct Ticked {
    range: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(axis: Axis, ticks: Vec<f64>) -> Ticked {
        Ticked { range: (axis.lo..axis.hi).into(), ticks }
    }
}

impl plotters::coord::ranged1d::Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.range()
    }
}

fn render<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, curves: &[(String, Curve)], o: &PlotOptions) -> Drawn
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let points: Vec<(&Row, (f64, f64))> =
        curves.iter().flat_map(|(_, c)| c.rows.iter()).filter(|r| r.ok()).filter_map(|r| o.metric.of(r).map(|v| (r, v))).collect();
    if points.is_empty() {
        return Ok(Err(PlotError::Empty(o.title.clone())));
    }
    let xs: Vec<f64> = points.iter().map(|(r, _)| r.x).collect();
    // With a log axis an error bar reaching below zero is cut at its mean.
    let low = |v: f64, se: f64| if o.log_y && v - se <= 0.0 { v } else { v - se };
    let ys: Vec<f64> = points.iter().flat_map(|(_, (v, se))| [low(*v, *se), v + se]).collect();
    let (x, y) = match (Axis::fit(&xs, o.log_x, 'x', "every x value"), Axis::fit(&ys, o.log_y, 'y', "every value")) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let key = curves.first().map(|(_, c)| c.key.as_str()).unwrap_or("x");
    let integer_x = !o.log_x && xs.iter().all(|v| v.fract() == 0.0);
    let legend_corner = emptiest_corner(&points, x, y);
    let mut chart = ChartBuilder::on(root)
        .caption(&o.title, ("sans-serif", 22))
        .margin(18)
        .x_label_area_size(55)
        .y_label_area_size(85)
        .build_cartesian_2d(Ticked::new(x, x.ticks(integer_x)), Ticked::new(y, y.ticks(false)))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v: &f64| if integer_x { format!("{}", v.round() as i64) } else { x.tick(*v) })
        .y_label_formatter(&|v: &f64| y.tick(*v))
        .x_desc(if o.log_x { format!("{} (log scale)", axis_label(key)) } else { axis_label(key) })
        .y_desc({
            let label = o.y_label.clone().unwrap_or_else(|| o.metric.label().to_owned());
            if o.log_y { format!("{label} (log scale)") } else { label }
        })
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    // Simulation series are nudged apart along x so that overlapping error bars stay readable.
    let nudge = (x.hi - x.lo) * 0.006;
    let mut colour = 0;
    for (prefix, curve) in curves {
        let mut names: Vec<&str> = curve.rows.iter().map(|r| r.series.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        // Theory first, so that points are drawn over the line.
        names.sort_by_key(|n| !n.ends_with("theory"));
        let groups: Vec<&str> = {
            let mut g: Vec<&str> = names.iter().filter_map(|n| n.split_once('/').map(|(g, _)| g)).collect();
            g.sort_unstable();
            g.dedup();
            g
        };
        for (k, name) in names.iter().enumerate() {
            let rows: Vec<&Row> = curve.rows.iter().filter(|r| r.series == *name).collect();
            let label = match (prefix.is_empty(), name.split_once('/')) {
                (_, Some((group, series))) => format!("{group}: {series}"),
                (true, None) => name.to_string(),
                (false, None) => format!("{prefix}: {name}"),
            };
            // A series named GROUP/NAME is one of several curves in one figure: the
            // group sets the colour (theory line and points alike), the name the marker.
            let group = name.split_once('/').map(|(g, series)| (groups.iter().position(|x| *x == g).expect("listed"), series));
            if name.ends_with("theory") {
                let style = match group {
                    Some((g, _)) => ShapeStyle::from(&PALETTE[g % PALETTE.len()]).stroke_width(2),
                    None => ShapeStyle::from(&BLACK.mix(0.85)).stroke_width(2),
                };
                // A failed theory point breaks the line rather than bridging it.
                let mut sorted = rows.clone();
                sorted.sort_by(|a, b| a.x.total_cmp(&b.x));
                let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
                for r in sorted {
                    match (r.ok(), o.metric.of(r)) {
                        (true, Some((v, _))) => segments.last_mut().expect("never empty").push((x.to(r.x), y.to(v))),
                        _ => segments.push(Vec::new()),
                    }
                }
                for (i, seg) in segments.into_iter().filter(|s| !s.is_empty()).enumerate() {
                    let series = chart.draw_series(LineSeries::new(seg, style))?;
                    if i == 0 {
                        series.label(label.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
                    }
                }
            } else {
                let (c, hollow) = match group {
                    Some((g, series)) => (PALETTE[g % PALETTE.len()], series != "gaussian"),
                    None => {
                        colour += 1;
                        (PALETTE[(colour - 1) % PALETTE.len()], false)
                    }
                };
                let dx = match group {
                    Some((g, series)) => ((2 * g + usize::from(series != "gaussian")) as f64 - groups.len() as f64 + 0.5) * nudge,
                    None => (k as f64 - 1.5) * nudge,
                };
                let ok: Vec<(f64, f64, f64, f64)> = rows
                    .iter()
                    .filter(|r| r.ok())
                    .filter_map(|r| o.metric.of(r).map(|(v, se)| (x.to(r.x) + dx, y.to(low(v, se)), y.to(v), y.to(v + se))))
                    .collect();
                chart.draw_series(ok.iter().map(|&(px, lo, v, hi)| ErrorBar::new_vertical(px, lo, v, hi, c.stroke_width(2), 10)))?;
                let marker = move |(px, v): (f64, f64)| {
                    if hollow { Circle::new((px, v), 5, c.stroke_width(2)) } else { Circle::new((px, v), 5, c.filled()) }
                };
                chart
                    .draw_series(ok.iter().map(|&(px, _, v, _)| marker((px, v))))?
                    .label(format!("{label} (mean ± s.e.)"))
                    .legend(move |(x, y)| if hollow { Circle::new((x + 12, y), 5, c.stroke_width(2)) } else { Circle::new((x + 12, y), 5, c.filled()) });
            }
        }
    }
    chart
        .configure_series_labels()
        .position(legend_corner)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .label_font(("sans-serif", 16))
        .draw()?;
    Ok(Ok(()))
}

/// Tick labels with the digits they need and no more.
fn format_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

/// The legend goes in the corner (of the plotting area's four) that covers the
/// fewest data points, so that it never hides one if it can help it.
fn emptiest_corner(points: &[(&Row, (f64, f64))], x: Axis, y: Axis) -> SeriesLabelPosition {
    let unit = |v: f64, a: Axis| (a.to(v) - a.lo) / (a.hi - a.lo);
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let crowd = |right: bool, upper: bool| {
        points
            .iter()
            .filter(|(r, (v, se))| {
                let u = unit(r.x, x);
                let (w_lo, w_hi) = (unit((v - se).max(f64::MIN_POSITIVE), y), unit(v + se, y));
                (if right { u > 0.6 } else { u < 0.4 }) && (if upper { w_hi > 0.7 } else { w_lo < 0.3 })
            })
            .count()
    };
    corners.into_iter().min_by_key(|&(_, right, upper)| crowd(right, upper)).map(|(p, _, _)| p).expect("four corners")
}

/// The x-axis label: the key and what it means (the ratio keys as the ratio itself).
pub fn axis_label(key: &str) -> String {
    let meaning = match key {
        "training.ratio" => "n / d_L",
        "features.overparam" => "d_L / n",
        "training.samples" => "n, training samples",
        "features.depth" => "L, hidden layers",
        "features.widths" => "hidden widths",
        "features.width" => "w, hidden width",
        "data.dim" => "d0, input dimension",
        "teacher.noise_std" => "label noise std",
        "teacher.norm2" => "teacher norm E|a*|^2",
        "training.init" => "start a0 entry",
        "d_L/n" => "last-layer width over training samples",
        _ => return key.to_owned(),
    };
    format!("{meaning} ({key})")
}

/// The title of a spec's figures.
pub fn title(spec: &crate::spec::Spec, key: &str) -> String {
    let widths = if spec.widths.iter().all(|&w| w == spec.widths[0]) {
        format!("width {}", spec.widths[0])
    } else {
        format!("widths {:?}", spec.widths)
    };
    let mut parts = vec![spec.activation.to_string()];
    if key != "features.depth" {
        parts.push(format!("L = {}", spec.depth()));
    }
    if key != "data.dim" {
        parts.push(format!("d0 = {}", spec.dim));
    }
    if key != "features.widths" {
        parts.push(widths);
    }
    if !crate::spec::SAMPLE_KEYS.contains(&key) {
        parts.push(format!("n = {}", spec.samples));
    }
    if key != "teacher.noise_std" {
        parts.push(format!("noise {}", spec.noise_std));
    }
    parts.push(format!("{} mirror", spec.mirror));
    parts.join(", ")
}
