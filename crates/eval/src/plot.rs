//! The sweep's picture: accuracy against the first varied parameter, one
//! line per value of the other axes, error bars of one standard deviation
//! and the min..max range as a lighter bar. SVG, by plotters.

use crate::sweep::Sweep;
use plotters::prelude::*;

/// Line colours, one per series (cycled).
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// Draws `sweep` as an SVG document titled `title`.
pub fn svg(sweep: &Sweep, title: &str) -> Result<String, String> {
    let Some(x_axis) = sweep.axes.first() else { return Err("a sweep without a varied parameter".into()) };
    let xs: Vec<f64> = sweep.points.iter().map(|p| p.values[0]).collect();
    let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (720, 480)).into_drawing_area();
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..1.02)
            .map_err(e)?;
        let seeds = sweep.seeds.len();
        chart
            .configure_mesh()
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .x_desc(x_axis.name.as_str())
            .y_desc(format!("accuracy (mean ± std of {seeds} seeds)"))
            .draw()
            .map_err(e)?;
        for (i, series) in series(sweep).into_iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let pts: Vec<&crate::sweep::Point> = series.1;
            let line: Vec<(f64, f64)> = pts.iter().map(|p| (p.values[0], p.accuracy.mean)).collect();
            let drawn = chart.draw_series(LineSeries::new(line.clone(), colour.stroke_width(2))).map_err(e)?;
            if !series.0.is_empty() {
                drawn
                    .label(series.0.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
            }
            let range = pts.iter().map(|p| {
                ErrorBar::new_vertical(
                    p.values[0],
                    p.accuracy.min,
                    p.accuracy.mean,
                    p.accuracy.max,
                    colour.mix(0.35),
                    4,
                )
            });
            chart.draw_series(range).map_err(e)?;
            let std = pts.iter().map(|p| {
                let a = &p.accuracy;
                ErrorBar::new_vertical(p.values[0], a.mean - a.std, a.mean, a.mean + a.std, colour.filled(), 8)
            });
            chart.draw_series(std).map_err(e)?;
            chart.draw_series(line.iter().map(|&(x, y)| Circle::new((x, y), 3, colour.filled()))).map_err(e)?;
        }
        if sweep.axes.len() > 1 {
            chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw().map_err(e)?;
        }
        root.present().map_err(e)?;
    }
    Ok(out)
}

/// The points grouped by the values of every axis but the first, in grid
/// order: (legend label, points).
fn series(sweep: &Sweep) -> Vec<(String, Vec<&crate::sweep::Point>)> {
    let mut out: Vec<(Vec<u64>, String, Vec<&crate::sweep::Point>)> = Vec::new();
    for p in &sweep.points {
        let key: Vec<u64> = p.values[1..].iter().map(|v| v.to_bits()).collect();
        match out.iter_mut().find(|s| s.0 == key) {
            Some(s) => s.2.push(p),
            None => {
                let label = sweep.axes[1..]
                    .iter()
                    .zip(&p.values[1..])
                    .map(|(a, v)| format!("{} = {v}", a.name))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push((key, label, vec![p]));
            }
        }
    }
    out.into_iter().map(|(_, l, p)| (l, p)).collect()
}
