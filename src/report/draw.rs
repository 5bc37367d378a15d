//! Charts to PNG with plotters' bitmap backend, drawn in memory (the file is written
//! atomically by the caller). Text uses DejaVu Sans compiled into the binary, so a chart
//! looks the same on a headless machine with no fonts.

use super::ReportError;
use super::chart::{Chart, Panel, XAxis};
use crate::calendar::Calendar;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

const FONT: &str = "sans-serif";
const WIDTH: u32 = 1600;
const PANEL_HEIGHT: u32 = 520;
const HEADER: u32 = 90;

/// Tableau 10: distinct in colour and in lightness.
const PALETTE: [RGBColor; 10] = [
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

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the dejavu crate; a failure here
        // would leave text undrawn, which draw() then reports.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The chart as PNG bytes.
pub fn png(chart: &Chart, calendar: &Calendar) -> Result<Vec<u8>, ReportError> {
    register_fonts();
    let cols = if chart.panels.len() > 1 { 2 } else { 1 };
    let rows = chart.panels.len().div_ceil(cols) as u32;
    let (w, h) = (WIDTH, HEADER + rows * PANEL_HEIGHT);
    let mut buffer = vec![255u8; (w * h * 3) as usize];
    let fail = |e: &dyn std::fmt::Display| ReportError::Write(format!("{}: drawing failed: {e}", chart.file));
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (head, body) = root.split_vertically(HEADER);
        head.draw(&Text::new(chart.title.clone(), (30, 14), (FONT, 34, FontStyle::Bold).into_font().color(&BLACK)))
            .map_err(|e| fail(&e))?;
        head.draw(&Text::new(chart.note.clone(), (30, 58), (FONT, 20).into_font().color(&RGBColor(80, 80, 80))))
            .map_err(|e| fail(&e))?;
        let areas = body.split_evenly((rows as usize, cols));
        for (panel, area) in chart.panels.iter().zip(areas.iter()) {
            draw_panel(panel, area, chart, calendar).map_err(|e| fail(&e))?;
        }
        root.present().map_err(|e| fail(&e))?;
    }
    let mut png = Vec::new();
    use image::ImageEncoder;
    // Best compression: the charts are mostly flat colour, and a report embeds six of them.
    image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(&buffer, w, h, image::ColorType::Rgb8)
    .map_err(|e| fail(&e))?;
    Ok(png)
}

/// A y range that holds every point with a margin; a flat line gets a band around it.
fn y_range(panel: &Panel) -> (f64, f64) {
    let ends = panel.intervals.iter().flat_map(|i| [i.low, i.high]);
    let ys = panel.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).chain(ends);
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let pad = if span > 1e-12 * hi.abs().max(1.0) { span * 0.08 } else { hi.abs().max(1.0) * 0.05 };
    (lo - pad, hi + pad)
}

/// Decimals for axis labels `step` apart.
fn decimals(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() { 0 } else { (-(step.log10().floor()) as i64).clamp(0, 4) as usize }
}

/// The quarter of the plot with the fewest points, for the legend.
fn legend_position(panel: &Panel, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let mut count = [0usize; 4];
    for p in panel.lines.iter().flat_map(|l| l.points.iter()) {
        let right = p.0 > (x0 + x1) / 2.0;
        let top = p.1 > (y0 + y1) / 2.0;
        count[(top as usize) * 2 + right as usize] += 1;
    }
    let positions = [
        SeriesLabelPosition::LowerLeft,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
    ];
    let best = (0..4).min_by_key(|&i| (count[i], [2, 3, 0, 1][i])).unwrap_or(2);
    positions[best].clone()
}

fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
    calendar: &Calendar,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (x0, x1) = match &chart.x {
        XAxis::Weeks { last_tick } => (0.0, (*last_tick).max(1) as f64),
        XAxis::Values { .. } => {
            let xs = panel.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
            let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
            let pad = if hi > lo { (hi - lo) * 0.06 } else { lo.abs().max(1.0) * 0.1 };
            (lo - pad, hi + pad)
        }
    };
    let (y0, y1) = y_range(panel);
    let mut ctx = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let digits = decimals((y1 - y0) / 6.0);
    let x_digits = decimals((x1 - x0) / 6.0);
    let x_label = |t: &f64| match &chart.x {
        XAxis::Weeks { .. } => {
            let (y, m, _) = calendar.date_of(t.round().max(0.0) as u32).ymd();
            format!("{y:04}-{m:02}")
        }
        XAxis::Values { .. } => format!("{t:.x_digits$}"),
    };
    let x_desc = match &chart.x {
        XAxis::Weeks { .. } => "week starting",
        XAxis::Values { name } => name.as_str(),
    };
    let value = |v: &f64| format!("{v:.digits$}");
    ctx.configure_mesh()
        .x_labels(8)
        .y_labels(7)
        .x_label_formatter(&x_label)
        .y_label_formatter(&value)
        .x_desc(x_desc)
        .y_desc(&panel.y_label)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()?;
    let grey = RGBColor(150, 150, 150);
    for &t in &chart.marks {
        ctx.draw_series(LineSeries::new([(t as f64, y0), (t as f64, y1)], grey.stroke_width(1)))?;
    }
    for line in &panel.lines {
        let color = PALETTE[line.color % PALETTE.len()];
        let style = color.stroke_width(2);
        if matches!(chart.x, XAxis::Values { .. }) {
            ctx.draw_series(line.points.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
        }
        let series = if line.dashed {
            ctx.draw_series(DashedLineSeries::new(line.points.iter().copied(), 7, 5, style))?
        } else {
            ctx.draw_series(LineSeries::new(line.points.iter().copied(), style))?
        };
        if let Some(label) = &line.label {
            series
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3)));
        }
    }
    let cap = (x1 - x0) * 0.006;
    for i in &panel.intervals {
        let style = PALETTE[i.color % PALETTE.len()].stroke_width(2);
        ctx.draw_series(LineSeries::new([(i.x, i.low), (i.x, i.high)], style))?;
        for y in [i.low, i.high] {
            ctx.draw_series(LineSeries::new([(i.x - cap, y), (i.x + cap, y)], style))?;
        }
    }
    ctx.configure_series_labels()
        .position(legend_position(panel, (x0, x1), (y0, y1)))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(190, 190, 190))
        .label_font((FONT, 16))
        .margin(10)
        .draw()?;
    Ok(())
}
