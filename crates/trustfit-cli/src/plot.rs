//! Fit plots: a main panel (data points and curves) above a residual panel,
//! written as SVG or PNG (by the file's extension) with `plotters`.
//!
//! Text is drawn with an embedded font (DejaVu Sans, `assets/`), so plots
//! render the same on machines without system fonts. The file is drawn into
//! a temporary file in the target's folder and renamed into place, so a
//! failed run leaves no partial plot.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

/// The embedded font (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Output format, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.svg`
    Svg,
    /// `.png`
    Png,
}

impl Format {
    /// The format for `path`'s extension (case-insensitive).
    ///
    /// # Errors
    /// Any extension other than `svg` or `png`.
    ///
    /// ```
    /// use trustfit_cli::plot::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::of(Path::new("fit.PNG")), Ok(Format::Png));
    /// assert!(Format::of(Path::new("fit.pdf")).is_err());
    /// ```
    pub fn of(path: &Path) -> Result<Self, String> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(format!(
                "cannot plot to {}: the file name must end in .svg or .png",
                path.display()
            )),
        }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Filled circles.
    Points,
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
}

/// One labelled series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// (x, y) pairs; non-finite ones are skipped.
    pub points: Vec<(f64, f64)>,
    /// How to draw it.
    pub mark: Mark,
    /// Colour index into the palette (0 = dark grey for data, then blue, red, green, ...).
    pub color: usize,
}

/// A two-panel figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Title (the formula).
    pub title: String,
    /// x axis label.
    pub x_label: String,
    /// y axis label of the main panel.
    pub y_label: String,
    /// Main panel.
    pub series: Vec<Series>,
    /// Residual panel (shares the x axis).
    pub residuals: Vec<Series>,
    /// y axis label of the residual panel.
    pub residual_label: String,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(60, 60, 60),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
];

const SIZE: (u32, u32) = (960, 720);

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw the plot: {e}")
}

/// Writes `fig` to `path` (SVG or PNG by extension), atomically.
///
/// # Errors
/// A bad extension, a folder that cannot be written, or a drawing failure;
/// no file is left behind in any of these cases.
pub fn save(fig: &Figure, path: &Path) -> Result<(), String> {
    let format = Format::of(path)?;
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let suffix = match format {
        Format::Svg => ".svg",
        Format::Png => ".png",
    };
    let tmp = tempfile::Builder::new()
        .prefix(".trustfit-plot-")
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(|e| format!("cannot write the plot {}: {e}", path.display()))?;
    match format {
        Format::Svg => {
            let root = SVGBackend::new(tmp.path(), SIZE).into_drawing_area();
            draw(&root, fig)?;
            root.present().map_err(err)?;
        }
        Format::Png => {
            let root = BitMapBackend::new(tmp.path(), SIZE).into_drawing_area();
            draw(&root, fig)?;
            root.present().map_err(err)?;
        }
    }
    // tempfile creates 0600 files; a plot is an ordinary document.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path)
        .map_err(|e| format!("cannot write the plot {}: {}", path.display(), e.error))?;
    Ok(())
}

/// Data beyond ±this are drawn at the edge of the axis: the padded axis then spans at
/// most 0.75 · `f64::MAX`, so its width and plotters' tick arithmetic stay finite.
const AXIS_LIMIT: f64 = f64::MAX / 4.0;

/// (min, max) of the finite values, padded by 5 % (half the magnitude, at least ½,
/// around a single value). For any finite data the result is finite, `lo < hi`, and
/// the width `hi − lo` is finite and not below 10⁻¹² of the values' magnitude (nor
/// below 10⁻²⁹⁰), so plotters can place ticks (issue 14, D4: ±9e307 looped forever).
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let (lo, hi) = (
        lo.clamp(-AXIS_LIMIT, AXIS_LIMIT),
        hi.clamp(-AXIS_LIMIT, AXIS_LIMIT),
    );
    let magnitude = lo.abs().max(hi.abs());
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * magnitude.max(1.0)
    };
    let pad = pad.max(1e-12 * magnitude).max(1e-290);
    (lo - pad, hi + pad)
}

fn finite(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: Option<&str>,
    x_range: (f64, f64),
    y_label: &str,
    x_label: &str,
    series: &[Series],
    zero_line: bool,
) -> Result<(), String> {
    let y_range = range(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(zero_line.then_some(0.0)),
    );
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70);
    if let Some(c) = caption {
        builder.caption(c, ("sans-serif", 22));
    }
    let mut chart = builder
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    if zero_line {
        chart
            .draw_series(LineSeries::new(
                [(x_range.0, 0.0), (x_range.1, 0.0)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(err)?;
    }
    let mut legend = false;
    for s in series {
        let c = color(s.color);
        let pts = finite(&s.points);
        let anno = match s.mark {
            Mark::Points => chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(err)?,
            Mark::Line => chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))
                .map_err(err)?,
            Mark::Dashed => chart
                .draw_series(DashedLineSeries::new(pts, 6, 4, c.stroke_width(2)))
                .map_err(err)?,
        };
        if !s.label.is_empty() {
            legend = true;
            let mark = s.mark;
            anno.label(s.label.clone()).legend(
                move |(x, y)| -> DynElement<'static, DB, (i32, i32)> {
                    match mark {
                        Mark::Points => Circle::new((x + 10, y), 3, c.filled()).into_dyn(),
                        Mark::Line | Mark::Dashed => {
                            PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                                .into_dyn()
                        }
                    }
                },
            );
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, fig: &Figure) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let x_range = range(
        fig.series
            .iter()
            .chain(&fig.residuals)
            .flat_map(|s| s.points.iter().map(|p| p.0)),
    );
    let (top, bottom) = root.split_vertically(SIZE.1 * 68 / 100);
    draw_panel(
        &top,
        Some(&fig.title),
        x_range,
        &fig.y_label,
        "",
        &fig.series,
        false,
    )?;
    draw_panel(
        &bottom,
        None,
        x_range,
        &fig.residual_label,
        &fig.x_label,
        &fig.residuals,
        true,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn figure() -> Figure {
        let pts: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, (i as f64).sqrt())).collect();
        Figure {
            title: "y = a*sqrt(t)".into(),
            x_label: "t".into(),
            y_label: "y".into(),
            series: vec![
                Series {
                    label: "data".into(),
                    points: pts.clone(),
                    mark: Mark::Points,
                    color: 0,
                },
                Series {
                    label: "fit".into(),
                    points: pts.clone(),
                    mark: Mark::Line,
                    color: 1,
                },
            ],
            residuals: vec![Series {
                label: String::new(),
                points: pts.iter().map(|p| (p.0, 0.01 * p.1)).collect(),
                mark: Mark::Points,
                color: 1,
            }],
            residual_label: "residual".into(),
        }
    }

    #[test]
    fn writes_svg_and_png_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.svg", "b.png"] {
            let path = dir.path().join(name);
            save(&figure(), &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.len() > 1000, "{name}");
        }
        let svg = std::fs::read_to_string(dir.path().join("a.svg")).unwrap();
        assert!(svg.contains("y = a*sqrt(t)") && svg.contains("residual"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn bad_targets_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(save(&figure(), &dir.path().join("x.pdf")).is_err());
        let e = save(&figure(), &dir.path().join("missing/x.svg")).unwrap_err();
        assert!(e.contains("cannot write the plot"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn ranges_are_padded() {
        assert_eq!(range([0.0, 10.0].into_iter()), (-0.5, 10.5));
        assert_eq!(range([f64::NAN].into_iter()), (-1.0, 1.0));
        assert_eq!(range([2.0].into_iter()), (1.0, 3.0));
    }

    /// Data sets at the edges of f64: spans wider than `f64::MAX`, single huge values,
    /// subnormals, spans far below the values' resolution.
    const EXTREMES: [&[f64]; 9] = [
        &[9e307, -9e307],
        &[f64::MAX, -f64::MAX, 0.0],
        &[f64::MAX],
        &[-f64::MAX, -f64::MAX],
        &[5e-324, 0.0],
        &[5e-324],
        &[1e16, 1e16 + 2.0],
        &[1e300, 1e300],
        &[-1e-300, 1e-300],
    ];

    #[test]
    fn gh14_ranges_of_extreme_data_are_finite_and_wide_enough() {
        for data in EXTREMES {
            let (lo, hi) = range(data.iter().copied());
            assert!(lo.is_finite() && hi.is_finite() && lo < hi, "{data:?}");
            assert!((hi - lo).is_finite() && hi - lo >= 1e-290, "{data:?}");
        }
    }

    #[test]
    fn gh14_extreme_data_plot_in_bounded_time() {
        // Generous: each plot takes milliseconds; the bug was an endless loop.
        const LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
        let dir = tempfile::tempdir().unwrap();
        for (k, data) in EXTREMES.iter().enumerate() {
            let mut fig = figure();
            let pts: Vec<(f64, f64)> = data
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64, v))
                .collect();
            fig.series[0].points = pts.clone();
            fig.residuals[0].points = pts.iter().map(|&(x, y)| (y, x)).collect();
            let path = dir.path().join(format!("{k}.svg"));
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send(save(&fig, &path)));
            let done = rx.recv_timeout(LIMIT);
            assert!(matches!(done, Ok(Ok(()))), "{data:?}: {done:?}");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
        assert_eq!(names.len(), EXTREMES.len());
    }
}
