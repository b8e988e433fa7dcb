//! The spike raster: time (steps) across, neurons up, one band per
//! population (bands of equal height, whatever the population's size, so
//! that a small population stays visible), each spike a dark mark.

use crate::PlotError;
use crate::colour::{BANDS, INK, RULE};
use crate::draw::{Area, failed, font, svg};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One population's spikes.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// Its name.
    pub name: String,
    /// Its neurons (indices are below).
    pub size: u32,
    /// (step, index) of each spike.
    pub spikes: Vec<(u64, u32)>,
}

/// What a raster shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Raster {
    /// Bands from the bottom up.
    pub bands: Vec<Band>,
    /// Steps across (spikes are below).
    pub steps: u64,
    /// Title.
    pub title: String,
}

/// Width and height of the picture, pixels.
const SIZE: (u32, u32) = (960, 540);

/// Draws `r` as an SVG document.
pub fn svg_of(r: &Raster) -> Result<String, PlotError> {
    if r.bands.is_empty() {
        return Err(PlotError::Data("no population to draw".into()));
    }
    for b in &r.bands {
        if let Some(&(t, i)) = b.spikes.iter().find(|&&(t, i)| t >= r.steps || i >= b.size) {
            return Err(PlotError::Data(format!(
                "spike of `{}`[{i}] at step {t} is outside the raster ({} steps, {} neurons)",
                b.name, r.steps, b.size
            )));
        }
    }
    svg(SIZE, |root| paint(root, r))
}

fn paint(root: &Area<'_>, r: &Raster) -> Result<(), PlotError> {
    let n = r.bands.len() as f64;
    let steps = r.steps.max(1) as f64;
    let label_width = 24 + 7 * r.bands.iter().map(|b| b.name.chars().count()).max().unwrap_or(0).min(40) as u32;
    let mut chart = ChartBuilder::on(root)
        .caption(&r.title, font(20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(label_width + 20)
        .build_cartesian_2d(0f64..steps, 0f64..n)
        .map_err(failed)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .label_style(font(13))
        .axis_desc_style(font(15))
        .x_desc("step")
        .y_desc("neuron, by population")
        .draw()
        .map_err(failed)?;
    let px = |x: f64, y: f64| chart.backend_coord(&(x, y));
    for (k, b) in r.bands.iter().enumerate() {
        let y0 = k as f64;
        let (x_lo, top) = px(0.0, y0 + 1.0);
        let (x_hi, bottom) = px(steps, y0);
        root.draw(&Rectangle::new([(x_lo, top), (x_hi, bottom)], BANDS[k % BANDS.len()].filled())).map_err(failed)?;
        if k > 0 {
            root.draw(&PathElement::new([(x_lo, bottom), (x_hi, bottom)], RULE.stroke_width(1))).map_err(failed)?;
        }
        let mid = (top + bottom) / 2;
        let name = Text::new(b.name.clone(), (x_lo - 8, mid), font(13).pos(Pos::new(HPos::Right, VPos::Center)));
        root.draw(&name).map_err(failed)?;
        let range = format!("0..{}", b.size);
        let small = font(10).color(&RULE).pos(Pos::new(HPos::Right, VPos::Top));
        root.draw(&Text::new(range, (x_lo - 8, mid + 9), small)).map_err(failed)?;
        // Each spike a mark one step wide and one neuron high, at least a
        // pixel each way.
        let row = 1.0 / f64::from(b.size.max(1));
        for &(t, i) in &b.spikes {
            let (x0, y1) = px(t as f64, y0 + f64::from(i) * row);
            let (x1, y0p) = px(t as f64 + 1.0, y0 + f64::from(i + 1) * row);
            let (x1, y0p) = (x1.max(x0 + 1), y0p.min(y1 - 1));
            root.draw(&Rectangle::new([(x0, y0p), (x1, y1)], INK.filled())).map_err(failed)?;
        }
    }
    Ok(())
}
