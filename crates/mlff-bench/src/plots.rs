//! Figures: line charts (optionally log–log) and scatter plots, both with optional vertical
//! error bars, and heat maps, drawn with plotters as SVG, rasterised to PNG with resvg (same
//! picture in both formats).

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Pixel size of every figure.
const SIZE: (u32, u32) = (820, 520);

/// Series colours (colour-blind-safe Okabe–Ito palette).
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// One named set of (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// A series with a vertical error bar per point (e.g. a 95% confidence interval).
#[derive(Debug, Clone, PartialEq)]
pub struct BarredSeries {
    /// Label and points.
    pub series: Series,
    /// Per point, the bar's (lower, upper) y in data units; `None` draws no bar there.
    pub bars: Vec<Option<(f64, f64)>>,
}

/// Anything drawn as one series: points, optionally with error bars.
pub trait Plotted {
    /// Label and points.
    fn series(&self) -> &Series;
    /// Error bar (lower, upper) of point `i`, if it has one.
    fn bar(&self, i: usize) -> Option<(f64, f64)> {
        let _ = i;
        None
    }
}

impl Plotted for Series {
    fn series(&self) -> &Series {
        self
    }
}

impl Plotted for BarredSeries {
    fn series(&self) -> &Series {
        &self.series
    }

    fn bar(&self, i: usize) -> Option<(f64, f64)> {
        self.bars.get(i).copied().flatten()
    }
}

/// Half-width of an error bar's caps, pixels.
const CAP: i32 = 4;

/// A finished figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem (`e1_learning_curve`).
    pub name: String,
    /// Caption.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a figure: {e:?}")
}

fn svg_figure(
    name: &str,
    caption: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<Figure> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    Ok(Figure {
        name: name.into(),
        caption: caption.into(),
        svg,
    })
}

/// Axis range of `values` with a margin (log10 values when `log`).
fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .map(|v| if log { v.log10() } else { v })
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(if log { 0.05 } else { 1e-3 * hi.abs().max(1e-9) });
    (lo - pad, hi + pad)
}

fn axis_label(v: f64, log: bool) -> String {
    // Log axes label 10^v with three significant digits, linear ones with three decimals at
    // most; trailing zeros go: 10, 12.6, 2.5, 0.125.
    let (x, decimals) = if log {
        let x = 10f64.powf(v);
        let decimals = (2 - x.abs().max(1e-12).log10().floor() as i32).clamp(0, 6) as usize;
        (x, decimals)
    } else {
        (v, 3)
    };
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// Lines through each series' points (log–log axes if `log_log`), with markers, error bars
/// where the series has them, and a legend.
pub fn line_chart(
    name: &str,
    caption: &str,
    x_label: &str,
    y_label: &str,
    series: &[impl Plotted],
    log_log: bool,
) -> Result<Figure> {
    chart(name, caption, x_label, y_label, series, log_log, true)
}

/// Markers only (no lines), with error bars where the series has them.
pub fn scatter(
    name: &str,
    caption: &str,
    x_label: &str,
    y_label: &str,
    series: &[impl Plotted],
) -> Result<Figure> {
    chart(name, caption, x_label, y_label, series, false, false)
}

fn chart(
    name: &str,
    caption: &str,
    x_label: &str,
    y_label: &str,
    series: &[impl Plotted],
    log_log: bool,
    lines: bool,
) -> Result<Figure> {
    let all = || series.iter().flat_map(|s| s.series().points.iter());
    let bar_ends = || {
        series.iter().flat_map(|s| {
            (0..s.series().points.len())
                .filter_map(|i| s.bar(i))
                .flat_map(|(lo, hi)| [lo, hi])
        })
    };
    let (x0, x1) = range(all().map(|p| p.0), log_log);
    let (y0, y1) = range(all().map(|p| p.1).chain(bar_ends()), log_log);
    let map = move |(x, y): (f64, f64)| {
        if log_log {
            (x.log10(), y.log10())
        } else {
            (x, y)
        }
    };
    svg_figure(name, caption, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|v| axis_label(*v, log_log))
            .y_label_formatter(&|v| axis_label(*v, log_log))
            .draw()
            .map_err(plot_error)?;
        for (i, plotted) in series.iter().enumerate() {
            let s = plotted.series();
            let colour = COLOURS[i % COLOURS.len()];
            let drawable = |(x, y): &(f64, f64)| {
                x.is_finite() && y.is_finite() && (!log_log || (*x > 0.0 && *y > 0.0))
            };
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| drawable(p))
                .map(|&p| map(p))
                .collect();
            // Error bars, clipped to the axis (a lower end ≤ 0 on a log axis runs to its foot).
            let to_axis = |y: f64| match log_log {
                true if y > 0.0 => y.log10().clamp(y0, y1),
                true => y0,
                false => y.clamp(y0, y1),
            };
            let bars: Vec<(f64, f64, f64)> = s
                .points
                .iter()
                .enumerate()
                .filter(|(_, p)| drawable(p))
                .filter_map(|(j, &p)| {
                    let (lo, hi) = plotted.bar(j)?;
                    (lo.is_finite() && hi.is_finite()).then(|| (map(p).0, to_axis(lo), to_axis(hi)))
                })
                .collect();
            let style = colour.stroke_width(1);
            chart
                .draw_series(
                    bars.iter()
                        .map(|&(x, lo, hi)| PathElement::new(vec![(x, lo), (x, hi)], style)),
                )
                .map_err(plot_error)?;
            chart
                .draw_series(bars.iter().flat_map(|&(x, lo, hi)| {
                    [lo, hi].map(|y| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(-CAP, 0), (CAP, 0)], style)
                    })
                }))
                .map_err(plot_error)?;
            if lines {
                chart
                    .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                    .map_err(plot_error)?;
            }
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(plot_error)?
                .label(s.label.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(plot_error)?;
        Ok(())
    })
}

/// A labelled heat map of `values[row][column]` (blank where `None`), white → dark blue.
pub fn heat_map(
    name: &str,
    caption: &str,
    labels: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<Figure> {
    let n = labels.len() as f64;
    let finite: Vec<f64> = values.iter().flatten().flatten().copied().collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    svg_figure(name, caption, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 18))
            .margin(16)
            .build_cartesian_2d(-2.5f64..n, -1.0f64..n)
            .map_err(plot_error)?;
        let font = ("sans-serif", 14).into_font();
        for (i, row) in values.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            for (j, value) in row.iter().enumerate() {
                let x = j as f64;
                let Some(v) = value else { continue };
                let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                let shade = |c: f64| (255.0 - t * (255.0 - c)) as u8;
                let colour = RGBColor(shade(8.0), shade(69.0), shade(148.0));
                chart
                    .draw_series([Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        colour.filled(),
                    )])
                    .map_err(plot_error)?;
                let ink = if t > 0.55 { WHITE } else { BLACK };
                chart
                    .draw_series([Text::new(
                        format!("{v:.3}"),
                        (x + 0.25, y + 0.6),
                        font.clone().color(&ink),
                    )])
                    .map_err(plot_error)?;
            }
            chart
                .draw_series([Text::new(labels[i].clone(), (-2.4, y + 0.6), font.clone())])
                .map_err(plot_error)?;
        }
        for (j, label) in labels.iter().enumerate() {
            chart
                .draw_series([Text::new(
                    label.clone(),
                    (j as f64 + 0.05, -0.4),
                    font.clone(),
                )])
                .map_err(plot_error)?;
        }
        Ok(())
    })
}

/// Writes `figure` as `<dir>/<name>.svg` and `<dir>/<name>.png`.
pub fn save(figure: &Figure, dir: &Path) -> Result<()> {
    crate::store::write_text(&dir.join(format!("{}.svg", figure.name)), &figure.svg)?;
    let png = rasterise(&figure.svg)?;
    crate::store::write_bytes(&dir.join(format!("{}.png", figure.name)), &png)
}

/// Installed families tried, in order, for the generic `sans-serif` (and `serif`, `monospace`)
/// the SVGs name. fontdb's own defaults (Arial, Times New Roman, Courier New) are absent on
/// most Linux machines, where text would silently vanish from every PNG.
const FAMILY_PREFERENCE: [&str; 7] = [
    "DejaVu Sans",
    "Liberation Sans",
    "Arial",
    "Helvetica",
    "Noto Sans",
    "FreeSans",
    "Bitstream Vera Sans",
];

/// The system fonts with the generic families mapped to an installed family.
fn font_database() -> resvg::usvg::fontdb::Database {
    let mut db = resvg::usvg::fontdb::Database::new();
    db.load_system_fonts();
    let installed: Vec<String> = db
        .faces()
        .flat_map(|face| face.families.iter().map(|(name, _)| name.clone()))
        .collect();
    let chosen = FAMILY_PREFERENCE
        .iter()
        .find(|want| installed.iter().any(|have| have == *want))
        .map(|s| s.to_string())
        .or_else(|| installed.first().cloned());
    match chosen {
        Some(family) => {
            db.set_sans_serif_family(family.clone());
            db.set_serif_family(family.clone());
            db.set_monospace_family(family);
        }
        None => tracing::warn!("no fonts installed: PNG figures will have no text (SVGs do)"),
    }
    db
}

/// PNG of an SVG document (system fonts for the text, generic families mapped to one that
/// is installed).
pub fn rasterise(svg: &str) -> Result<Vec<u8>> {
    let mut options = resvg::usvg::Options::default();
    *options.fontdb_mut() = font_database();
    let tree = resvg::usvg::Tree::from_str(svg, &options)?;
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow!("empty figure"))?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap.encode_png()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark pixels of the PNG of `svg`.
    fn ink(svg: &str) -> usize {
        let png = rasterise(svg).expect("rasterise");
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).expect("decode");
        pixmap.pixels().iter().filter(|p| p.red() < 128).count()
    }

    #[test]
    fn axis_labels_are_short() {
        assert_eq!(axis_label(1.0, true), "10");
        assert_eq!(axis_label(1.1, true), "12.6");
        assert_eq!(axis_label(2.0, true), "100");
        assert_eq!(axis_label(0.2, true), "1.58");
        assert_eq!(axis_label(20.0, false), "20");
        assert_eq!(axis_label(2.5, false), "2.5");
        assert_eq!(axis_label(-0.0001, false), "0");
    }

    #[test]
    fn png_text_uses_an_installed_font() {
        if font_database().faces().next().is_none() {
            eprintln!("skipped: this machine has no fonts installed");
            return;
        }
        let page = |text: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><rect width="200" height="60" fill="white"/><text x="10" y="40" font-family="sans-serif" font-size="24">{text}</text></svg>"#
            )
        };
        assert_eq!(ink(&page("")), 0);
        assert!(
            ink(&page("force MAE")) > 100,
            "the generic sans-serif text was not drawn"
        );
    }
}
