//! Charts as plain data ([`Chart`]), drawn with plotters to SVG text and, on request, to PNG bytes.
//!
//! The report modules build charts from artifacts; this module knows plotters. Two shapes cover
//! every plot of the report: an x–y chart ([`XyPlot`], linear or log x) of lines, markers and
//! reference lines, and a row chart ([`RowPlot`]) of one value per named row, such as every
//! method's prediction beside the actual value.

use std::error::Error;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans (a subset; see `assets/README.md`): plotters measures all text with it and draws
/// the PNG plots' text with it; `report.html` embeds it for the SVG text.
pub static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// Registers [`FONT`] as plotters' `sans-serif`, once per process. Without a font plotters
/// cannot lay out text, on the SVG backend too.
fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font("sans-serif", FontStyle::Normal, FONT)
                .map_err(|_| "the embedded DejaVu Sans subset is not a valid font".to_owned())
        })
        .clone()
        .map_err(|message| anyhow!(message))
}

/// Pixel size of every chart: the plot, and the legend in a column on its right, so that it
/// never hides data.
pub const SIZE: (u32, u32) = (1000, 470);
const LEGEND_WIDTH: u32 = 250;

const CAPTION_FONT: u32 = 21;
const LABEL_FONT: u32 = 15;
const LEGEND_FONT: u32 = 14;

/// Colours: the Tableau 10 palette, which stays distinguishable for most colour-blind readers.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
pub const INK: RGBColor = RGBColor(30, 30, 30);
pub const GREY: RGBColor = RGBColor(150, 150, 150);

/// The `i`-th palette colour, cycling.
#[must_use]
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Triangle,
    Cross,
    Square,
}

/// How a line is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stroke {
    pub colour: RGBColor,
    /// Opacity in [0, 1].
    pub alpha: f64,
    pub width: u32,
    pub dashed: bool,
}

impl Stroke {
    #[must_use]
    pub fn solid(colour: RGBColor, width: u32) -> Stroke {
        Stroke {
            colour,
            alpha: 1.0,
            width,
            dashed: false,
        }
    }

    #[must_use]
    pub fn dashed(colour: RGBColor, width: u32) -> Stroke {
        Stroke {
            dashed: true,
            ..Stroke::solid(colour, width)
        }
    }

    #[must_use]
    pub fn alpha(self, alpha: f64) -> Stroke {
        Stroke { alpha, ..self }
    }

    fn style(&self) -> ShapeStyle {
        self.colour.mix(self.alpha).stroke_width(self.width)
    }
}

/// How markers are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarkerStyle {
    pub marker: Marker,
    pub colour: RGBColor,
    pub alpha: f64,
    pub filled: bool,
}

impl MarkerStyle {
    #[must_use]
    pub fn new(marker: Marker, colour: RGBColor, filled: bool) -> MarkerStyle {
        MarkerStyle {
            marker,
            colour,
            alpha: 1.0,
            filled,
        }
    }

    #[must_use]
    pub fn alpha(self, alpha: f64) -> MarkerStyle {
        MarkerStyle { alpha, ..self }
    }

    fn shape(&self) -> ShapeStyle {
        let colour = self.colour.mix(self.alpha);
        if self.filled && self.marker != Marker::Cross {
            colour.filled()
        } else {
            colour.stroke_width(2)
        }
    }
}

/// One axis of an x–y chart.
#[derive(Clone, Debug)]
pub struct Axis {
    pub label: String,
    pub range: (f64, f64),
    /// Logarithmic; the range is widened to whole decades so every decade gets a tick.
    pub log: bool,
}

impl Axis {
    #[must_use]
    pub fn linear(label: &str, range: (f64, f64)) -> Axis {
        Axis {
            label: label.to_owned(),
            range,
            log: false,
        }
    }

    #[must_use]
    pub fn log(label: &str, range: (f64, f64)) -> Axis {
        let lo = 10f64.powf(range.0.log10().floor());
        let hi = 10f64.powf(range.1.log10().ceil());
        Axis {
            label: label.to_owned(),
            range: (lo, if hi > lo { hi } else { lo * 10.0 }),
            log: true,
        }
    }
}

/// What an x–y chart draws, in order: later layers on top.
#[derive(Clone, Debug)]
pub enum Layer {
    Line {
        points: Vec<(f64, f64)>,
        stroke: Stroke,
        label: Option<String>,
    },
    /// Markers with a size (radius in pixels) each.
    Points {
        points: Vec<(f64, f64, u32)>,
        style: MarkerStyle,
        label: Option<String>,
    },
    /// A vertical line across the whole chart.
    VLine {
        x: f64,
        stroke: Stroke,
        label: Option<String>,
    },
    /// A horizontal line across the whole chart.
    HLine {
        y: f64,
        stroke: Stroke,
        label: Option<String>,
    },
}

/// An x–y chart.
#[derive(Clone, Debug)]
pub struct XyPlot {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub layers: Vec<Layer>,
}

/// A value, with its (low, high) interval when there is one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

/// One row chart series: a value (with an optional interval) per row.
#[derive(Clone, Debug)]
pub struct RowSeries {
    pub label: String,
    pub style: MarkerStyle,
    /// Per row, when the row has one.
    pub values: Vec<Option<Estimate>>,
}

/// A vertical reference value of a row chart: across every row, or on one row only.
#[derive(Clone, Debug)]
pub struct RowReference {
    pub label: String,
    pub x: f64,
    pub stroke: Stroke,
    /// `None`: across the chart; `Some(row)`: a short tick on that row.
    pub row: Option<usize>,
}

/// Values by named row: every method's prediction, with the actual value as a vertical line.
#[derive(Clone, Debug)]
pub struct RowPlot {
    pub title: String,
    pub rows: Vec<String>,
    pub x_label: String,
    pub x_range: (f64, f64),
    pub series: Vec<RowSeries>,
    pub references: Vec<RowReference>,
}

#[derive(Clone, Debug)]
pub enum Chart {
    Xy(XyPlot),
    Rows(RowPlot),
}

type DrawResult = Result<(), Box<dyn Error>>;

/// A chart drawn: its SVG, and its PNG when asked for.
pub struct Rendered {
    pub svg: String,
    pub png: Option<Vec<u8>>,
}

/// Draws `chart` as SVG, and as PNG when `png` is set.
pub fn render(chart: &Chart, png: bool) -> anyhow::Result<Rendered> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|err| anyhow!("{err}"))?;
    }
    let png = if png { Some(render_png(chart)?) } else { None };
    Ok(Rendered { svg, png })
}

fn render_png(chart: &Chart) -> anyhow::Result<Vec<u8>> {
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|err| anyhow!("{err}"))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgb))
        .context("encoding a plot as PNG")?;
    Ok(bytes)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (area, legend_area) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let entries = match chart {
        Chart::Xy(plot) => {
            let (lo, hi) = plot.x.range;
            for (axis, (a, b)) in [("x", plot.x.range), ("y", plot.y.range)] {
                if !(a.is_finite() && b.is_finite() && a < b)
                    || (axis == "x" && plot.x.log && a <= 0.0)
                {
                    return Err(format!("the {axis} axis has no extent ({a} to {b})").into());
                }
            }
            if plot.x.log {
                draw_xy(&area, plot, (lo..hi).log_scale())?
            } else {
                draw_xy(&area, plot, lo..hi)?
            }
        }
        Chart::Rows(plot) => draw_rows(&area, plot)?,
    };
    draw_legend(&legend_area, &entries)?;
    root.present()?;
    Ok(())
}

/// Draws markers at `(x, y, radius)` points on a chart; evaluates to the series annotation.
/// (A macro rather than a function: each marker is its own element type, and plotters' dynamic
/// elements only work with a `'static` backend, which the SVG one borrowing a `String` is not.)
macro_rules! draw_markers {
    ($chart:expr, $style:expr, $points:expr) => {{
        let shape = $style.shape();
        let points = $points;
        match $style.marker {
            Marker::Circle => $chart.draw_series(
                points.map(|(x, y, r): (f64, f64, u32)| Circle::new((x, y), r, shape)),
            )?,
            Marker::Triangle => $chart.draw_series(
                points.map(|(x, y, r): (f64, f64, u32)| TriangleMarker::new((x, y), r + 1, shape)),
            )?,
            Marker::Cross => $chart.draw_series(
                points.map(|(x, y, r): (f64, f64, u32)| Cross::new((x, y), r, shape)),
            )?,
            Marker::Square => $chart.draw_series(points.map(|(x, y, r): (f64, f64, u32)| {
                let r = r as i32;
                EmptyElement::at((x, y)) + Rectangle::new([(-r, -r), (r, r)], shape)
            }))?,
        }
    }};
}

/// A legend entry: a line sample or a marker, and its label.
enum Entry {
    Line(Stroke, String),
    Marker(MarkerStyle, String),
}

/// Draws the legend entries in a column at the top of `area`.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", LEGEND_FONT)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, entry) in entries.iter().enumerate() {
        let y = 62 + 24 * i as i32;
        let label = match entry {
            Entry::Line(stroke, label) => {
                let points = vec![(6, y), (32, y)];
                if stroke.dashed {
                    area.draw(&plotters::element::DashedPathElement::new(
                        points,
                        6,
                        4,
                        stroke.style(),
                    ))?;
                } else {
                    area.draw(&PathElement::new(points, stroke.style()))?;
                }
                label
            }
            Entry::Marker(style, label) => {
                let (at, shape) = ((19, y), style.shape());
                match style.marker {
                    Marker::Circle => area.draw(&Circle::new(at, 5, shape))?,
                    Marker::Triangle => area.draw(&TriangleMarker::new(at, 6, shape))?,
                    Marker::Cross => area.draw(&Cross::new(at, 5, shape))?,
                    Marker::Square => {
                        area.draw(&Rectangle::new([(14, y - 5), (24, y + 5)], shape))?;
                    }
                }
                label
            }
        };
        area.draw(&Text::new(label.clone(), (42, y), font.clone()))?;
    }
    Ok(())
}

/// Tick labels: 1e18 style on log axes, plain numbers otherwise.
fn tick(log: bool) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if log {
            format!("{v:.0e}")
        } else {
            let s = format!("{v:.3}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" {
                "0".to_owned()
            } else {
                s.to_owned()
            }
        }
    }
}

/// `p` moved to within one axis span of the chart (for a log x axis, two decades).
fn pull_in(plot: &XyPlot, (x, y): (f64, f64)) -> (f64, f64) {
    let ((x0, x1), (y0, y1)) = (plot.x.range, plot.y.range);
    let (sx, sy) = ((x1 - x0).abs(), (y1 - y0).abs());
    let (xlo, xhi) = if plot.x.log {
        (x0 / 100.0, x1 * 100.0)
    } else {
        (x0 - sx, x1 + sx)
    };
    (x.clamp(xlo, xhi), y.clamp(y0 - sy, y1 + sy))
}

fn draw_xy<DB, XS>(
    root: &DrawingArea<DB, Shift>,
    plot: &XyPlot,
    x_spec: XS,
) -> Result<Vec<Entry>, Box<dyn Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    XS: AsRangedCoord<Value = f64>,
    XS::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", CAPTION_FONT))
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(66)
        .build_cartesian_2d(x_spec, plot.y.range.0..plot.y.range.1)?;
    let x_tick = tick(plot.x.log);
    let y_tick = tick(false);
    chart
        .configure_mesh()
        .x_desc(plot.x.label.as_str())
        .y_desc(plot.y.label.as_str())
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .y_max_light_lines(1)
        .x_max_light_lines(if plot.x.log { 8 } else { 1 })
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let (x0, x1) = plot.x.range;
    let (y0, y1) = plot.y.range;
    let mut entries = Vec::new();
    for layer in &plot.layers {
        match layer {
            Layer::Line {
                points,
                stroke,
                label,
            } => {
                // Non-finite points are dropped and far-off ones pulled in: plotters maps
                // coordinates to pixels in i32 and overflows on huge values.
                let points: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite() && (!plot.x.log || p.0 > 0.0))
                    .map(|&p| pull_in(plot, p))
                    .collect();
                if stroke.dashed {
                    chart.draw_series(DashedLineSeries::new(points, 6, 4, stroke.style()))?;
                } else {
                    chart.draw_series(LineSeries::new(points, stroke.style()))?;
                }
                if let Some(label) = label {
                    entries.push(Entry::Line(*stroke, label.clone()));
                }
            }
            Layer::Points {
                points,
                style,
                label,
            } => {
                draw_markers!(
                    chart,
                    style,
                    points
                        .iter()
                        .copied()
                        .filter(|p| p.0.is_finite() && p.1.is_finite())
                        // Far off the chart: not drawn (and no i32 overflow in plotters).
                        .filter(|&(x, y, _)| pull_in(plot, (x, y)) == (x, y))
                );
                if let Some(label) = label {
                    entries.push(Entry::Marker(*style, label.clone()));
                }
            }
            Layer::VLine { x, stroke, label }
            | Layer::HLine {
                y: x,
                stroke,
                label,
            } => {
                let points = if matches!(layer, Layer::VLine { .. }) {
                    vec![(*x, y0), (*x, y1)]
                } else {
                    vec![(x0, *x), (x1, *x)]
                };
                if stroke.dashed {
                    chart.draw_series(DashedLineSeries::new(points, 6, 4, stroke.style()))?;
                } else {
                    chart.draw_series(LineSeries::new(points, stroke.style()))?;
                }
                if let Some(label) = label {
                    entries.push(Entry::Line(*stroke, label.clone()));
                }
            }
        }
    }
    Ok(entries)
}

/// Rows top to bottom; row `i` is at y = n − 1 − i, names drawn left of the plot area.
fn draw_rows<DB>(
    root: &DrawingArea<DB, Shift>,
    plot: &RowPlot,
) -> Result<Vec<Entry>, Box<dyn Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let n = plot.rows.len().max(1);
    let y_of = |row: usize| (n - 1 - row) as f64;
    let longest = plot
        .rows
        .iter()
        .map(|r| r.chars().count())
        .max()
        .unwrap_or(4);
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, ("sans-serif", CAPTION_FONT))
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size((longest as u32 * 8 + 20).clamp(60, 260))
        .build_cartesian_2d(plot.x_range.0..plot.x_range.1, -0.7f64..(n as f64 - 0.3))?;
    let x_tick = tick(false);
    chart
        .configure_mesh()
        .x_desc(plot.x_label.as_str())
        .x_label_formatter(&x_tick)
        .y_labels(0)
        .disable_y_mesh()
        .x_max_light_lines(1)
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    // Row names and faint row guides.
    for (i, name) in plot.rows.iter().enumerate() {
        let y = y_of(i);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(plot.x_range.0, y), (plot.x_range.1, y)],
            RGBColor(228, 228, 228).stroke_width(1),
        )))?;
        let (px, py) = chart.backend_coord(&(plot.x_range.0, y));
        root.draw(&Text::new(
            name.clone(),
            (px - 8, py),
            ("sans-serif", LABEL_FONT)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    let mut entries = Vec::new();
    for r in &plot.references {
        let style = r.stroke.style();
        let points = match r.row {
            None => vec![(r.x, -0.7), (r.x, n as f64 - 0.3)],
            Some(row) => vec![(r.x, y_of(row) - 0.35), (r.x, y_of(row) + 0.35)],
        };
        if r.stroke.dashed {
            chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?;
        } else {
            chart.draw_series(LineSeries::new(points, style))?;
        }
        if !r.label.is_empty() {
            entries.push(Entry::Line(r.stroke, r.label.clone()));
        }
    }
    let k = plot.series.len();
    for (s, series) in plot.series.iter().enumerate() {
        // Several series share a row, side by side within ±0.25 of it.
        let offset = if k > 1 {
            0.5 * (s as f64 / (k - 1) as f64 - 0.5)
        } else {
            0.0
        };
        let rows: Vec<(f64, Estimate)> = series
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|e| (y_of(i) - offset, e)))
            .collect();
        let bar = series.style.colour.stroke_width(2);
        chart.draw_series(rows.iter().filter_map(|&(y, e)| {
            e.interval
                .map(|(lo, hi)| ErrorBar::new_horizontal(y, lo, e.value, hi, bar, 8))
        }))?;
        draw_markers!(
            chart,
            series.style,
            rows.iter().map(|&(y, e)| (e.value, y, 6))
        );
        if !series.label.is_empty() {
            entries.push(Entry::Marker(series.style, series.label.clone()));
        }
    }
    Ok(entries)
}

/// The range of `values` widened by `pad` of its span on each side (at least `min_span` wide, and
/// never empty: equal values get a span of 2% of their size), then clipped to `clip`.
#[must_use]
pub fn padded_range(
    values: impl IntoIterator<Item = f64>,
    pad: f64,
    min_span: f64,
    clip: (f64, f64),
) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        // Nothing to show: the clip range, made finite.
        let lo = if clip.0.is_finite() { clip.0 } else { 0.0 };
        let hi = if clip.1.is_finite() { clip.1 } else { lo + 1.0 };
        return (lo, hi);
    }
    // An axis of zero span has no ticks to find (plotters would search for them forever).
    let min_span = min_span.max(0.02 * lo.abs().max(hi.abs())).max(1e-9);
    if hi - lo < min_span {
        let mid = f64::midpoint(lo, hi);
        lo = mid - min_span / 2.0;
        hi = mid + min_span / 2.0;
    }
    let span = hi - lo;
    ((lo - pad * span).max(clip.0), (hi + pad * span).min(clip.1))
}

/// `n` points from `lo` to `hi`, evenly spaced on a log scale.
#[must_use]
pub fn log_space(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|i| (a + (b - a) * i as f64 / (n - 1).max(1) as f64).exp())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contents of every `<text>` element, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_owned())
            })
            .collect()
    }

    fn xy() -> Chart {
        Chart::Xy(XyPlot {
            title: "t".to_owned(),
            x: Axis::log("compute", (3e18, 4e24)),
            y: Axis::linear("accuracy", (0.0, 100.0)),
            layers: vec![
                Layer::Line {
                    points: log_space(3e18, 4e24, 20)
                        .into_iter()
                        .map(|x| (x, x.log10() * 3.0))
                        .collect(),
                    stroke: Stroke::solid(colour(0), 2),
                    label: Some("curve".to_owned()),
                },
                Layer::Points {
                    points: vec![(1e19, 50.0, 4), (1e20, 60.0, 6)],
                    style: MarkerStyle::new(Marker::Circle, colour(1), true),
                    label: Some("points".to_owned()),
                },
                Layer::VLine {
                    x: 1e24,
                    stroke: Stroke::dashed(INK, 1),
                    label: Some("target".to_owned()),
                },
            ],
        })
    }

    #[test]
    fn an_xy_chart_renders_to_svg_with_its_text_and_marks() {
        let r = render(&xy(), false).unwrap();
        assert!(r.svg.starts_with("<svg"));
        let texts = texts(&r.svg);
        for text in ["compute", "accuracy", "curve", "points", "target", "1e20"] {
            assert!(texts.iter().any(|t| t == text), "{text} missing: {texts:?}");
        }
        assert!(r.svg.matches("<circle").count() >= 3);
        assert!(r.png.is_none());
    }

    #[test]
    fn png_rendering_gives_a_decodable_image_of_the_chart_size() {
        let r = render(&xy(), true).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(r.png.unwrap()));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), SIZE);
    }

    #[test]
    fn a_row_chart_names_its_rows() {
        let chart = Chart::Rows(RowPlot {
            title: "methods".to_owned(),
            rows: vec!["cod".to_owned(), "end-to-end-bnsl".to_owned()],
            x_label: "accuracy".to_owned(),
            x_range: (60.0, 80.0),
            series: vec![RowSeries {
                label: "prediction".to_owned(),
                style: MarkerStyle::new(Marker::Circle, colour(0), true),
                values: vec![
                    Some(Estimate {
                        value: 70.0,
                        interval: Some((65.0, 75.0)),
                    }),
                    None,
                ],
            }],
            references: vec![RowReference {
                label: "actual".to_owned(),
                x: 72.0,
                stroke: Stroke::dashed(INK, 2),
                row: None,
            }],
        });
        let r = render(&chart, false).unwrap();
        let texts = texts(&r.svg);
        for text in ["cod", "end-to-end-bnsl", "actual", "prediction"] {
            assert!(texts.iter().any(|t| t == text), "{text} missing: {texts:?}");
        }
    }

    #[test]
    fn ranges_are_padded_and_clipped() {
        // Equal values (every Pythia run has the same D) still make an axis with extent.
        let (lo, hi) = padded_range([3e11, 3e11], 0.02, 0.0, (0.0, f64::INFINITY));
        assert!(
            lo < 3e11 && hi > 3e11 && (hi - lo - 6.24e9).abs() < 1.0,
            "{lo} {hi}"
        );
        let close = |(a, b): (f64, f64), (c, d): (f64, f64)| {
            assert!((a - c).abs() < 1e-12 && (b - d).abs() < 1e-12, "{a}, {b}");
        };
        close(padded_range([0.2, 0.4], 0.5, 0.0, (0.0, 1.0)), (0.1, 0.5));
        close(padded_range([0.5], 0.0, 0.2, (0.0, 1.0)), (0.4, 0.6));
        close(padded_range([], 0.1, 0.0, (0.0, 1.0)), (0.0, 1.0));
        close(
            padded_range([f64::NAN, 0.9], 1.0, 0.4, (0.0, 1.0)),
            (0.3, 1.0),
        );
        let l = log_space(1.0, 100.0, 3);
        assert!((l[1] - 10.0).abs() < 1e-12 && (l[2] - 100.0).abs() < 1e-9);
        assert_eq!(Axis::log("x", (3e18, 4e24)).range, (1e18, 1e25));
    }
}
