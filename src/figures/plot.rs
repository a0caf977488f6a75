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
    /// Shade theory ± the per-trial standard deviation the simulations measured (where they
    /// exist): where a single finite-size run falls about two times in three.
    pub theory_band: bool,
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

/// The SVG's size in pixels; the PNG is drawn at [`PNG_SCALE`] times it, for print.
const SIZE: (u32, u32) = (1000, 680);
const PNG_SCALE: u32 = 2;

/// Draws `curve` to `stem.png` and `stem.svg`, each written whole or not at all. Several
/// curves in one figure are series `GROUP/NAME` of one curve: one colour and line style per group.
pub fn draw(curve: &Curve, options: &PlotOptions, stem: &Path) -> Result<(), PlotError> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let to_err = |path: &Path| {
        let path = path.display().to_string();
        move |e: Box<dyn std::error::Error>| PlotError::Draw { path: path.clone(), message: e.to_string() }
    };
    {
        // Beside the target and ending in .png (the backend picks the format by extension), then renamed.
        let name = png.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = png.with_file_name(format!(".{name}.{}.png", std::process::id()));
        let drawn = (|| {
            let root = BitMapBackend::new(&tmp, (SIZE.0 * PNG_SCALE, SIZE.1 * PNG_SCALE)).into_drawing_area();
            render(&root, curve, options, PNG_SCALE, None).map_err(to_err(&png))??;
            root.present().map_err(|e| to_err(&png)(Box::new(e)))?;
            drop(root);
            std::fs::rename(&tmp, &png).map_err(|e| to_err(&png)(Box::new(e)))
        })();
        if drawn.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        drawn?;
    }
    let mut text = String::new();
    let mut lines = Vec::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        render(&root, curve, options, 1, Some(&mut lines)).map_err(to_err(&svg))??;
        root.present().map_err(|e| to_err(&svg)(Box::new(e)))?;
    }
    let text = with_sub_pixel_lines(text, &lines);
    crate::output::write_atomic(&svg, text.as_bytes()).map_err(|e| to_err(&svg)(Box::new(e)))?;
    Ok(())
}

/// A theory line at the exact (not pixel-snapped) positions of its points, for the SVG.
struct SubPixelLine {
    /// The stand-in colour plotters drew it with, which marks its `<polyline>`.
    marker: RGBColor,
    colour: RGBColor,
    width: u32,
    dashes: Option<&'static str>,
    points: Vec<(f64, f64)>,
}

/// Replaces each stand-in polyline with its sub-pixel twin (two decimals).
fn with_sub_pixel_lines(mut svg: String, lines: &[SubPixelLine]) -> String {
    let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    for line in lines {
        let needle = format!("stroke=\"{}\"", hex(line.marker));
        while let Some(at) = svg.find(&needle) {
            let start = svg[..at].rfind("<polyline").expect("a polyline carries the marker");
            let end = at + svg[at..].find("/>").expect("a closed tag") + 2;
            let points: Vec<String> = line.points.iter().map(|(x, y)| format!("{x:.2},{y:.2}")).collect();
            let dashes = line.dashes.map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default();
            let replacement = format!(
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"{dashes} points=\"{}\"/>",
                hex(line.colour),
                line.width,
                points.join(" ")
            );
            svg.replace_range(start..end, &replacement);
        }
    }
    svg
}

/// Theory lines of successive groups: solid, dashed, dotted, dash-dotted (SVG dash arrays
/// at scale 1; the PNG draws the same patterns).
const DASHES: [Option<&str>; 4] = [None, Some("10 6"), Some("2 4"), Some("10 4 2 4")];

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

    /// A tick label. On a linear axis every label has the decimals the finest tick needs
    /// (`0.10, 0.15, 0.20`, not `0.1, 0.15, 0.2`); on a log axis each has its own.
    fn tick(&self, t: f64, decimals: usize) -> String {
        if self.log {
            format_tick(10f64.powf(t))
        } else {
            format!("{t:.decimals$}")
        }
    }

    /// The decimals the finest of `ticks` needs (linear axes).
    fn decimals(ticks: &[f64]) -> usize {
        ticks.iter().map(|&t| format_tick(t).split_once('.').map_or(0, |(_, d)| d.len())).max().unwrap_or(0)
    }

    /// Tick positions at round values: 1, 2, 5 x 10^k on a linear axis (or every
    /// integer when `integer` and few), and at 1, 2, 5 x 10^k of the value on a log axis
    /// (1, 2, 3, 5 x 10^k, or 1..9 x 10^k, then 1.25 and 1.5 too, where that gives too few).
    fn ticks(&self, integer: bool) -> Vec<f64> {
        let (lo, hi) = (self.lo, self.hi);
        if self.log {
            let decades = (lo.floor() as i32)..=(hi.ceil() as i32);
            let pick = |mantissas: &[f64]| -> Vec<f64> {
                decades.clone().flat_map(|k| mantissas.iter().map(move |m| (m * 10f64.powi(k)).log10())).filter(|t| (lo..=hi).contains(t)).collect()
            };
            // 1-2-5 when that gives four ticks or more; else 1-2-3-5; else every mantissa.
            let coarse = pick(&[1.0, 2.0, 5.0]);
            if coarse.len() >= 4 {
                return coarse;
            }
            let medium = pick(&[1.0, 2.0, 3.0, 5.0]);
            if medium.len() >= 3 {
                return medium;
            }
            // Within one decade: every mantissa, and 1.25, 1.5 where the range starts below 2.
            let fine = pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
            return if fine.len() >= 4 { fine } else { pick(&[1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]) };
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

/// Draws the figure at `scale` times the SVG's pixel sizes. With `sub_pixel`, theory lines
/// are drawn in stand-in colours and their exact positions collected there (the SVG).
fn render<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, curve: &Curve, o: &PlotOptions, scale: u32, mut sub_pixel: Option<&mut Vec<SubPixelLine>>) -> Drawn
where
    DB::ErrorType: 'static,
{
    let px = |v: u32| v * scale;
    let font = |v: u32| (v * scale) as f64;
    root.fill(&WHITE)?;
    let points: Vec<(&Row, (f64, f64))> = curve.rows.iter().filter(|r| r.ok()).filter_map(|r| o.metric.of(r).map(|v| (r, v))).collect();
    if points.is_empty() {
        return Ok(Err(PlotError::Empty(o.title.clone())));
    }
    let xs: Vec<f64> = points.iter().map(|(r, _)| r.x).collect();
    // With a log axis an error bar reaching below zero is cut at its mean.
    let low = |v: f64, se: f64| if o.log_y && v - se <= 0.0 { v } else { v - se };
    let ys: Vec<f64> = points.iter().flat_map(|(_, (v, se))| [low(*v, *se), v + se]).collect();
    let (x, mut y) = match (Axis::fit(&xs, o.log_x, 'x', "every x value"), Axis::fit(&ys, o.log_y, 'y', "every value")) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let key = curve.key.as_str();
    let integer_x = !o.log_x && xs.iter().all(|v| v.fract() == 0.0);
    // The legend's height as a fraction of the plot: one line per series, theory lines included
    // (measured on the 2000 x 1360 PNG: 15 lines take 54% of the plot).
    let entries = {
        let mut series: Vec<&str> = curve.rows.iter().map(|r| r.series.as_str()).collect();
        series.sort_unstable();
        series.dedup();
        series.len()
    };
    let legend_height = (0.03 + 0.036 * entries as f64).min(0.85);
    let (mut legend_corner, crowd) = emptiest_corner(&points, x, y, legend_height);
    if crowd > 0 {
        // No corner is free: raise the top of the y axis just enough that the points under an
        // upper corner's legend fall below it (the upper corner that needs the least).
        let unit_x = |v: f64| (x.to(v) - x.lo) / (x.hi - x.lo);
        let needed = |right: bool| {
            let top = points
                .iter()
                .filter(|(r, _)| if right { unit_x(r.x) > 0.6 } else { unit_x(r.x) < 0.4 })
                .map(|(_, (v, se))| y.to(v + se))
                .fold(f64::NEG_INFINITY, f64::max);
            y.hi.max(y.lo + (top - y.lo) / (1.0 - legend_height))
        };
        let (right, left) = (needed(true), needed(false));
        (legend_corner, y.hi) = if right <= left { (SeriesLabelPosition::UpperRight, right) } else { (SeriesLabelPosition::UpperLeft, left) };
    }
    // A log x axis over a few values (widths 256 .. 4096, say) is ticked at the values
    // themselves, so that the data's ends are labelled.
    let mut distinct: Vec<f64> = xs.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let x_ticks: Vec<f64> = if o.log_x && distinct.len() <= 6 { distinct.iter().map(|&v| x.to(v)).collect() } else { x.ticks(integer_x) };
    let y_ticks = y.ticks(false);
    let (x_decimals, y_decimals) = (Axis::decimals(&x_ticks), Axis::decimals(&y_ticks));
    let mut chart = ChartBuilder::on(root)
        .caption(&o.title, ("sans-serif", font(22)))
        .margin(px(18))
        .x_label_area_size(px(55))
        .y_label_area_size(px(85))
        .build_cartesian_2d(Ticked::new(x, x_ticks), Ticked::new(y, y_ticks))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v: &f64| if integer_x { format!("{}", v.round() as i64) } else { x.tick(*v, x_decimals) })
        .y_label_formatter(&|v: &f64| y.tick(*v, y_decimals))
        .x_desc(if o.log_x { format!("{} (log scale)", axis_label(key)) } else { axis_label(key) })
        .y_desc({
            let label = o.y_label.clone().unwrap_or_else(|| o.metric.label().to_owned());
            if o.log_y { format!("{label} (log scale)") } else { label }
        })
        .label_style(("sans-serif", font(15)))
        .axis_desc_style(("sans-serif", font(18)))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let mut colour = 0;
    let mut names: Vec<&str> = curve.rows.iter().map(|r| r.series.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    // Simulation series are nudged apart along x so that overlapping error bars stay readable,
    // by at most ±1.2% of the axis in all: more series share it (a point must stay near its x).
    let simulated_count = names.iter().filter(|n| !n.ends_with("theory")).count().max(1);
    let nudge = (x.hi - x.lo) * 0.006 * (4.0 / simulated_count as f64).min(1.0);
    // Theory first, so that points are drawn over the line.
    names.sort_by_key(|n| !n.ends_with("theory"));
    let groups: Vec<&str> = {
        let mut g: Vec<&str> = names.iter().filter_map(|n| n.split_once('/').map(|(g, _)| g)).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    for name in &names {
        let rows: Vec<&Row> = curve.rows.iter().filter(|r| r.series == *name).collect();
        let label = match name.split_once('/') {
            Some((group, series)) => format!("{group}: {series}"),
            None => name.to_string(),
        };
        // A series named GROUP/NAME is one of several curves in one figure: the
        // group sets the colour (theory line and points alike), the name the marker.
        let group = name.split_once('/').map(|(g, series)| (groups.iter().position(|x| *x == g).expect("listed"), series));
        if name.ends_with("theory") {
            let (colour, dashes) = match group {
                Some((g, _)) => (PALETTE[g % PALETTE.len()], DASHES[g % DASHES.len()]),
                None => (RGBColor(38, 38, 38), None),
            };
            let style = ShapeStyle::from(&colour).stroke_width(px(2));
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
            if o.theory_band {
                let group_of = |n: &str| n.split_once('/').map_or("", |(g, _)| g).to_owned();
                let spread = single_trial_spread(&curve.rows, &group_of(name), o.metric);
                let band: Vec<(f64, f64, f64)> = segments
                    .iter()
                    .flatten()
                    .filter_map(|&(u, v)| {
                        let value = if y.log { 10f64.powf(v) } else { v };
                        let sd = interpolate(&spread, if x.log { 10f64.powf(u) } else { u })?;
                        let low = if y.log && value - sd <= 0.0 { value } else { value - sd };
                        Some((u, y.to(low), y.to(value + sd)))
                    })
                    .collect();
                if band.len() >= 2 {
                    let outline: Vec<(f64, f64)> = band.iter().map(|&(u, _, hi)| (u, hi)).chain(band.iter().rev().map(|&(u, lo, _)| (u, lo))).collect();
                    chart.draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.15).filled())))?;
                }
            }
            // The chart's pixel corners, for exact positions between them.
            let (corner_lo, corner_hi) = (chart.backend_coord(&(x.lo, y.lo)), chart.backend_coord(&(x.hi, y.hi)));
            let exact = |(u, v): (f64, f64)| {
                let fx = corner_lo.0 as f64 + (u - x.lo) / (x.hi - x.lo) * (corner_hi.0 - corner_lo.0) as f64;
                let fy = corner_lo.1 as f64 + (v - y.lo) / (y.hi - y.lo) * (corner_hi.1 - corner_lo.1) as f64;
                (fx, fy)
            };
            for (i, seg) in segments.into_iter().filter(|s| !s.is_empty()).enumerate() {
                let series = match sub_pixel.as_deref_mut() {
                    Some(lines) => {
                        // Stand-in colours #01xxyy, one per line (no figure colour starts with 01).
                        let marker = RGBColor(1, (lines.len() / 256) as u8, (lines.len() % 256) as u8);
                        lines.push(SubPixelLine { marker, colour, width: px(2), dashes, points: seg.iter().copied().map(exact).collect() });
                        chart.draw_series(LineSeries::new(seg, ShapeStyle::from(&marker).stroke_width(px(2))))?
                    }
                    None if dashes.is_some() => {
                        let (dash, gap) = if dashes == DASHES[2] { (px(2), px(4)) } else { (px(10), px(6)) };
                        chart.draw_series(DashedLineSeries::new(seg, dash, gap, style))?
                    }
                    None => chart.draw_series(LineSeries::new(seg, style))?,
                };
                if i == 0 {
                    // The legend's sample: a solid bar, or the group's pattern in pieces.
                    let l = px(24) as i32;
                    // Five pieces, so that every pattern has one element type (repeats are harmless).
                    let p: [(i32, i32); 5] = match dashes {
                        None => [(0, l), (0, l), (0, l), (0, l), (0, l)],
                        Some("2 4") => [0, 1, 2, 3, 4].map(|k| (k * l / 5, k * l / 5 + l / 12)),
                        Some(_) => [(0, 2 * l / 5), (0, 2 * l / 5), (3 * l / 5, l), (3 * l / 5, l), (3 * l / 5, l)],
                    };
                    let piece = move |k: usize| PathElement::new(vec![(p[k].0, 0), (p[k].1, 0)], style);
                    series.label(label.clone()).legend(move |(x, y)| EmptyElement::at((x, y)) + piece(0) + piece(1) + piece(2) + piece(3) + piece(4));
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
                // Centred on the true x: one series is not moved at all.
                None => {
                    let simulated: Vec<&&str> = names.iter().filter(|n| !n.ends_with("theory")).collect();
                    let i = simulated.iter().position(|n| **n == *name).expect("a simulated series");
                    (i as f64 - (simulated.len() as f64 - 1.0) / 2.0) * nudge
                }
            };
            let ok: Vec<(f64, f64, f64, f64)> = rows
                .iter()
                .filter(|r| r.ok())
                .filter_map(|r| o.metric.of(r).map(|(v, se)| (x.to(r.x) + dx, y.to(low(v, se)), y.to(v), y.to(v + se))))
                .collect();
            let (radius, stroke) = (px(5), px(2));
            chart.draw_series(ok.iter().map(|&(u, lo, v, hi)| ErrorBar::new_vertical(u, lo, v, hi, c.stroke_width(stroke), px(10))))?;
            let marker = move |(u, v): (f64, f64)| {
                if hollow { Circle::new((u, v), radius, c.stroke_width(stroke)) } else { Circle::new((u, v), radius, c.filled()) }
            };
            let offset = px(12) as i32;
            // Measurements without standard errors (benchmark medians) say nothing of a mean.
            let with_errors = rows.iter().any(|r| r.excess_stderr.is_some() || r.test_stderr.is_some());
            chart
                .draw_series(ok.iter().map(|&(u, _, v, _)| marker((u, v))))?
                .label(if with_errors { format!("{label} (mean ± s.e.)") } else { label.to_string() })
                .legend(move |(x, y)| {
                    if hollow { Circle::new((x + offset, y), radius, c.stroke_width(stroke)) } else { Circle::new((x + offset, y), radius, c.filled()) }
                });
        }
    }
    chart
        .configure_series_labels()
        .legend_area_size(px(34))
        .position(legend_corner)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .label_font(("sans-serif", font(16)))
        .draw()?;
    Ok(Ok(()))
}

/// (x, per-trial standard deviation) of the simulations in `group` (all laws averaged),
/// sorted by x: the s.e. of each mean times the square root of its trials.
fn single_trial_spread(rows: &[Row], group: &str, metric: Metric) -> Vec<(f64, f64)> {
    let mut by_x: Vec<(f64, f64, usize)> = Vec::new();
    for r in rows.iter().filter(|r| r.ok() && !r.series.ends_with("theory")) {
        let in_group = r.series.split_once('/').map_or("", |(g, _)| g) == group;
        if let (true, Some((_, se)), Some(t)) = (in_group, metric.of(r), r.trials) {
            let sd = se * (t as f64).sqrt();
            match by_x.iter_mut().find(|e| e.0 == r.x) {
                Some(e) => {
                    e.1 += sd;
                    e.2 += 1;
                }
                None => by_x.push((r.x, sd, 1)),
            }
        }
    }
    let mut spread: Vec<(f64, f64)> = by_x.into_iter().map(|(x, sum, k)| (x, sum / k as f64)).collect();
    spread.sort_by(|a, b| a.0.total_cmp(&b.0));
    spread
}

/// Linear interpolation in `points` (sorted by x); `None` outside their range.
fn interpolate(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let (first, last) = (points.first()?, points.last()?);
    if x < first.0 || x > last.0 {
        return None;
    }
    let i = points.partition_point(|p| p.0 < x).min(points.len() - 1);
    if i == 0 || points[i].0 == x {
        return Some(points[i].1);
    }
    let (a, b) = (points[i - 1], points[i]);
    Some(a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0))
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
/// The corner whose legend-sized region (40% of the width, `height` of the plot) holds the
/// fewest points, and how many it holds.
fn emptiest_corner(points: &[(&Row, (f64, f64))], x: Axis, y: Axis, height: f64) -> (SeriesLabelPosition, usize) {
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
                (if right { u > 0.6 } else { u < 0.4 }) && (if upper { w_hi > 1.0 - height } else { w_lo < height })
            })
            .count()
    };
    corners.into_iter().map(|(p, right, upper)| (p, crowd(right, upper))).min_by_key(|&(_, c)| c).expect("four corners")
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
        "training.ridge" => "ridge lambda",
        "teacher.depth" => "k, the teacher's layer",
        "d_L/n" => "last-layer width over training samples",
        "1/NU" => "1/ν, the t inputs' inverse degrees of freedom (0: Gaussian inputs)",
        _ => return key.to_owned(),
    };
    format!("{meaning} ({key})")
}

/// The title of a spec's figures against `key`.
pub fn title(spec: &crate::spec::Spec, key: &str) -> String {
    title_without(spec, &[key])
}

/// The title of a spec's figures, leaving out what `keys` vary (the swept key, a series key).
pub fn title_without(spec: &crate::spec::Spec, keys: &[&str]) -> String {
    let varies = |k: &str| keys.contains(&k);
    let widths = if spec.widths.iter().all(|&w| w == spec.widths[0]) {
        format!("width {}", spec.widths[0])
    } else {
        format!("widths {:?}", spec.widths)
    };
    let mut parts = vec![spec.activation.to_string()];
    if !varies("features.depth") {
        parts.push(format!("L = {}", spec.depth()));
    }
    if !varies("data.dim") {
        parts.push(format!("d0 = {}", spec.dim));
    }
    if !varies("features.widths") && !varies("features.width") {
        parts.push(widths);
    }
    if !crate::spec::SAMPLE_KEYS.iter().any(|k| varies(k)) {
        parts.push(format!("n = {}", spec.samples));
    }
    if !varies("teacher.noise_std") {
        parts.push(format!("noise {}", spec.noise_std));
    }
    if !varies("training.mirror") {
        parts.push(format!("{} mirror", spec.mirror));
    }
    // The keys of issue 14, only when they leave their defaults (older titles stay as they were).
    if spec.ridge > 0.0 && !varies("training.ridge") {
        parts.push(format!("ridge {}", spec.ridge));
    }
    if let Some(k) = spec.teacher_depth.filter(|_| !varies("teacher.depth")) {
        parts.push(format!("teacher at layer {k}"));
    }
    if !spec.spectrum.is_identity() && !varies("data.spectrum") {
        parts.push(format!("inputs {}", spec.spectrum));
    }
    parts.join(", ")
}
