//! Charts, drawn with `plotters` as PNG and SVG: the loss curves of a run, and the map
//! of the latent space coloured by label.
//!
//! The text is set in DejaVu Sans, compiled into the program, so a chart looks the same
//! on every machine and needs no system fonts. Every file is written atomically.

use std::path::Path;
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::io::atomic::write_atomically;
use crate::train::metrics::EpochMetrics;

/// The font family every chart uses.
const FONT: &str = "sans-serif";

/// Ten distinguishable colours (matplotlib's "tab10"), for labels and series.
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

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the bundled DejaVu Sans is a valid font"));
    });
}

/// Draws with `draw` into a `size` PNG at `path`, atomically.
pub fn write_chart_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> std::result::Result<(), String>,
) -> Result<()> {
    register_font();
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root)
            .and_then(|_| root.present().map_err(|e| e.to_string()))
            .map_err(|e| Error::invalid(path, format!("cannot draw the chart: {e}")))?;
    }
    crate::outputs::images::write_png(path, size, png::ColorType::Rgb, &rgb)
}

/// Draws with `draw` into a `size` SVG at `path`, atomically.
pub fn write_chart_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> std::result::Result<(), String>,
) -> Result<()> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root)
            .and_then(|_| root.present().map_err(|e| e.to_string()))
            .map_err(|e| Error::invalid(path, format!("cannot draw the chart: {e}")))?;
    }
    write_atomically(path, svg.as_bytes())
}

/// Size of the loss-curve charts.
pub const LOSS_CURVES_SIZE: (u32, u32) = (960, 400);

/// The loss curves of a run as PNG and SVG (`stem`.png, `stem`.svg): on the left the
/// loss per epoch of every set the run has (train, test, validation); on the right the
/// held-out loss split into its two terms, reconstruction below and KL stacked on top.
/// Every epoch is also a dot, so a run of one epoch is readable.
pub fn write_loss_curves(stem: &Path, history: &[EpochMetrics]) -> Result<()> {
    write_chart_png(&stem.with_extension("png"), LOSS_CURVES_SIZE, |root| {
        draw_loss_curves(root, history)
    })?;
    write_chart_svg(&stem.with_extension("svg"), LOSS_CURVES_SIZE, |root| {
        draw_loss_curves(root, history)
    })
}

type Points = Vec<(f64, f64)>;
type Series = (&'static str, RGBColor, Points);

fn draw_loss_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    history: &[EpochMetrics],
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (left, right) = root.split_horizontally(LOSS_CURVES_SIZE.0 / 2);
    let points = |f: &dyn Fn(&EpochMetrics) -> Option<f64>| -> Points {
        history
            .iter()
            .filter_map(|m| f(m).filter(|v| v.is_finite()).map(|v| (m.epoch as f64, v)))
            .collect()
    };
    let losses: Vec<Series> = vec![
        ("train", PALETTE[0], points(&|m| Some(m.train_loss))),
        ("test", PALETTE[3], points(&|m| m.test_loss)),
        ("validation", PALETTE[2], points(&|m| m.valid_loss)),
    ];
    line_chart(
        &left,
        "Loss (negative ELBO, nats per image)",
        &losses,
        false,
    )
    .map_err(e)?;
    // The held-out terms (test, else validation, else training), stacked.
    let (name, recon, kl): (&str, Points, Points) =
        if history.iter().any(|m| m.test_recon.is_some()) {
            (
                "test",
                points(&|m| m.test_recon),
                points(&|m| Some(m.test_recon? + m.test_kl?)),
            )
        } else if history.iter().any(|m| m.valid_recon.is_some()) {
            (
                "validation",
                points(&|m| m.valid_recon),
                points(&|m| Some(m.valid_recon? + m.valid_kl?)),
            )
        } else {
            (
                "training",
                points(&|m| Some(m.train_recon)),
                points(&|m| Some(m.train_recon + m.train_kl)),
            )
        };
    let terms: Vec<Series> = vec![
        ("reconstruction", PALETTE[0], recon),
        ("+ KL", PALETTE[1], kl),
    ];
    line_chart(
        &right,
        &format!("The {name} loss: reconstruction + KL"),
        &terms,
        true,
    )
    .map_err(e)?;
    Ok(())
}

/// Lines with a dot per point and a legend. `filled`: the series are cumulative (each
/// one the sum of those before it and one more term), drawn as bands from zero up.
fn line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    series: &[Series],
    filled: bool,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.2.iter().copied()).collect();
    let (x0, x1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (x0, x1) = if all.is_empty() {
        (0.0, 1.0)
    } else {
        (x0 - 0.5, x1 + 0.5)
    };
    let (y0, y1) = match (all.is_empty(), filled) {
        (true, _) => (0.0, 1.0),
        (false, true) => (0.0, pad(0.0, y1).1),
        // Some room below the lowest loss, but not below zero.
        (false, false) => pad(y0.min(0.0f64.max(y0 - (y1 - y0))), y1),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 17))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(8)
        // Whole epochs only.
        .x_label_formatter(&|x: &f64| {
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .y_labels(8)
        .label_style((FONT, 12))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if filled {
        // Top band first: each lower band is drawn over the one above it.
        for (_, colour, points) in series.iter().rev() {
            let light = RGBColor(tint(colour.0), tint(colour.1), tint(colour.2));
            chart.draw_series(AreaSeries::new(points.iter().copied(), 0.0, light.filled()))?;
        }
    }
    for (name, colour, points) in series.iter().filter(|s| !s.2.is_empty()) {
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    legend(&mut chart)
}

/// The series' legend, in the upper right.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 12))
        .draw()
}

/// A colour channel mixed two parts in three with white.
fn tint(c: u8) -> u8 {
    (c as u16 / 3 + 170) as u8
}

/// A range a little wider than `lo..hi` (and never empty).
fn pad(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).max(1e-6 * hi.abs().max(1.0));
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// Points of a latent map: where each image's code lies in the plane, and its label.
pub struct LatentMap<'a> {
    /// One (x, y) per image.
    pub points: Vec<(f64, f64)>,
    /// One label per image, with the name of each label value; `None` for unlabelled data.
    pub labels: Option<(&'a [u8], Vec<String>)>,
    /// The axes' names, e.g. ("z₁", "z₂") or ("first principal direction", …).
    pub axes: (String, String),
    /// The chart's title.
    pub title: String,
}

/// Size of the latent map.
pub const LATENT_MAP_SIZE: (u32, u32) = (760, 640);

/// Draws a latent map as PNG or SVG (by `path`'s extension): a dot per image, one
/// colour per label (ten colours, repeated beyond), a legend naming the labels.
pub fn plot_latent_map(path: &Path, map: &LatentMap<'_>) -> Result<()> {
    let svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if svg {
        write_chart_svg(path, LATENT_MAP_SIZE, |root| draw_latent_map(root, map))
    } else {
        write_chart_png(path, LATENT_MAP_SIZE, |root| draw_latent_map(root, map))
    }
}

fn draw_latent_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    map: &LatentMap<'_>,
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let finite: Vec<(f64, f64)> = map
        .points
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let (x0, x1) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = finite
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let ((x0, x1), (y0, y1)) = if finite.is_empty() {
        ((0.0, 1.0), (0.0, 1.0))
    } else {
        (pad(x0, x1), pad(y0, y1))
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&map.title, (FONT, 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(map.axes.0.as_str())
        .y_desc(map.axes.1.as_str())
        .label_style((FONT, 12))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(e)?;
    // Small translucent dots: thousands of them still show where they crowd.
    let dot = |p: (f64, f64), c: RGBColor| Circle::new(p, 2, c.mix(0.55).filled());
    match &map.labels {
        None => {
            chart
                .draw_series(map.points.iter().map(|&p| dot(p, PALETTE[0])))
                .map_err(e)?;
        }
        Some((labels, names)) => {
            let mut present: Vec<u8> = labels.to_vec();
            present.sort_unstable();
            present.dedup();
            for &label in &present {
                let colour = PALETTE[label as usize % PALETTE.len()];
                let name = names
                    .get(label as usize)
                    .cloned()
                    .unwrap_or_else(|| label.to_string());
                let points = map
                    .points
                    .iter()
                    .zip(labels.iter())
                    .filter(|(_, &l)| l == label);
                chart
                    .draw_series(points.map(|(&p, _)| dot(p, colour)))
                    .map_err(e)?
                    .label(name)
                    .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour.filled()));
            }
            legend(&mut chart).map_err(e)?;
        }
    }
    Ok(())
}
