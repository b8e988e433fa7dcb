//! A run's activity step by step: cycles per step above, energy per step
//! below, on one step axis (the `per_step` series of `run --stats`).

use crate::PlotError;
use crate::draw::{Area, failed, font, svg};
use plotters::prelude::*;

/// The fill of the cycles panel.
pub const CYCLES: RGBColor = RGBColor(31, 119, 180);
/// The fill of the energy panel.
pub const ENERGY: RGBColor = RGBColor(214, 39, 40);

/// Width and height of the picture, pixels.
const SIZE: (u32, u32) = (960, 600);

/// Draws `stats`' per-step series as an SVG document titled `title`.
pub fn svg_of(stats: &fpnna_emu::Stats, title: &str) -> Result<String, PlotError> {
    let p = &stats.per_step;
    if p.cycles.is_empty() {
        return Err(PlotError::Data(if stats.steps == 0 {
            "the run has no steps".into()
        } else {
            "no per-step series (`per_step`): the stats were written by an fpnna before it; run again".into()
        }));
    }
    if p.energy_pj.len() != p.cycles.len() {
        return Err(PlotError::Data(format!(
            "`per_step`: {} cycle counts but {} energies",
            p.cycles.len(),
            p.energy_pj.len()
        )));
    }
    if !p.covers(stats.steps) {
        return Err(PlotError::Data(format!(
            "`per_step`: {} entries of {} steps each do not cover the run's {} steps (`steps`)",
            p.cycles.len(),
            p.steps_per_entry,
            stats.steps
        )));
    }
    if let Some(t) = p.energy_pj.iter().position(|e| !e.is_finite() || *e < 0.0) {
        return Err(PlotError::Data(format!("`per_step.energy_pj`[{t}] is not a finite energy")));
    }
    // Entry t covers steps [t w, t w + n_t): drawn as its mean per step.
    let spans: Vec<(f64, f64)> = (0..p.cycles.len())
        .map(|t| {
            let start = t as f64 * p.steps_per_entry as f64;
            (start, start + p.entry_steps(t, stats.steps) as f64)
        })
        .collect();
    let per_step = |t: usize, v: f64| v / (spans[t].1 - spans[t].0);
    let cycles: Vec<f64> = p.cycles.iter().enumerate().map(|(t, &c)| per_step(t, c as f64)).collect();
    let energy_nj: Vec<f64> = p.energy_pj.iter().enumerate().map(|(t, e)| per_step(t, e / 1000.0)).collect();
    svg(SIZE, |root| {
        let root = root.titled(title, font(20)).map_err(failed)?;
        let (top, bottom) = root.split_vertically(SIZE.1 / 2 - 16);
        let c = format!("cycles (total {}, mean {:.1} per step)", stats.cycles_total, stats.cycles_per_step.mean);
        panel(&top, &spans, &cycles, &c, CYCLES)?;
        let e = format!("energy, nJ (total {:.3} nJ)", stats.energy_pj.total_pj / 1000.0);
        panel(&bottom, &spans, &energy_nj, &e, ENERGY)
    })
}

/// One series as a step-shaped filled area, entry `t` over `spans[t]`.
fn panel(area: &Area<'_>, spans: &[(f64, f64)], ys: &[f64], what: &str, colour: RGBColor) -> Result<(), PlotError> {
    let steps = spans.last().map_or(1.0, |s| s.1);
    let top = ys.iter().copied().fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..steps, 0f64..top)
        .map_err(failed)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .label_style(font(12))
        .axis_desc_style(font(14))
        .x_desc("step")
        .y_desc(what)
        .draw()
        .map_err(failed)?;
    let outline = ys.iter().zip(spans).flat_map(|(&y, &(a, b))| [(a, y), (b, y)]);
    chart.draw_series(AreaSeries::new(outline, 0.0, colour.filled())).map_err(failed)?;
    Ok(())
}
