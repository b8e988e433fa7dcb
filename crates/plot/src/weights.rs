//! A projection's weights: the matrix as a heat map (source neuron
//! across, target neuron up), or each target neuron's incoming weights as
//! a small image, the images in a grid (receptive fields). One colour
//! scale ([`crate::heat`], from the smallest weight to the largest) with
//! its bar.

use crate::PlotError;
use crate::colour::{RULE, heat};
use crate::draw::{Area, failed, font, svg};
use fpnna_ir::{Network, ProjId};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A dense weight matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Name of the projection.
    pub name: String,
    /// Source neurons.
    pub pre: u32,
    /// Target neurons.
    pub post: u32,
    /// `w[post * pre + source]`, in weight units (1.0 = one unit of input
    /// current); the sum of the synapses between the two (0: none).
    pub w: Vec<f64>,
}

/// Cells along each side of a heat map at most; a larger matrix is drawn
/// in blocks, each the mean of its weights.
pub const MAX_CELLS: u32 = 256;
/// Images of a grid at most.
pub const MAX_IMAGES: u32 = 1024;

/// The projection of `net` named `name` (spaces ignored, so `a->b` finds
/// `a -> b`), or an error listing them.
pub fn find(net: &Network, name: &str) -> Result<ProjId, PlotError> {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let want = squeeze(name);
    if let Some((id, _)) = net.projs().find(|(_, p)| squeeze(&p.name) == want) {
        return Ok(id);
    }
    let names: Vec<String> = net.projs().map(|(_, p)| format!("`{}`", p.name)).collect();
    Err(PlotError::Data(format!(
        "no projection `{name}` (projections: {})",
        if names.is_empty() { "none".into() } else { names.join(", ") }
    )))
}

impl Weights {
    /// The matrix of projection `id` of `net`.
    pub fn of(net: &Network, id: ProjId) -> Weights {
        let (a, b) = net.endpoints(id);
        let (pre, post) = (net.pop(a).size, net.pop(b).size);
        let p = net.proj(id);
        let mut w = vec![0.0; pre as usize * post as usize];
        let s = &p.syn;
        for k in 0..s.len() {
            let cell = s.post[k] as usize * pre as usize + s.pre[k] as usize;
            w[cell] += f64::from(s.weight[k]) / f64::from(fpnna_model::ONE);
        }
        Weights { name: p.name.clone(), pre, post, w }
    }

    fn range(&self) -> (f64, f64) {
        let lo = self.w.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) }
    }
}

/// Width of the colour bar's part of a picture, pixels.
const BAR: u32 = 120;

/// Draws `w` as a heat map.
pub fn heat_map(w: &Weights, title: &str) -> Result<String, PlotError> {
    if w.pre == 0 || w.post == 0 {
        return Err(PlotError::Data(format!("projection `{}` connects an empty population", w.name)));
    }
    let (bx, by) = (w.pre.div_ceil(MAX_CELLS), w.post.div_ceil(MAX_CELLS));
    let (nx, ny) = (w.pre.div_ceil(bx), w.post.div_ceil(by));
    let mut cells = vec![0.0; (nx * ny) as usize];
    let mut count = vec![0u32; (nx * ny) as usize];
    for j in 0..w.post {
        for i in 0..w.pre {
            let c = ((j / by) * nx + i / bx) as usize;
            cells[c] += w.w[(j * w.pre + i) as usize];
            count[c] += 1;
        }
    }
    for (c, n) in cells.iter_mut().zip(&count) {
        *c /= f64::from(*n);
    }
    let (lo, hi) = w.range();
    let scale = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
    let title = if bx * by > 1 { format!("{title} (means of {bx} x {by} blocks)") } else { title.to_string() };
    svg((860, 640), |root| {
        let root = root.titled(&title, font(20)).map_err(failed)?;
        let (left, right) = root.split_horizontally(860 - BAR);
        let mut chart = ChartBuilder::on(&left)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..f64::from(w.pre), 0f64..f64::from(w.post))
            .map_err(failed)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .label_style(font(12))
            .axis_desc_style(font(14))
            .x_desc("source neuron")
            .y_desc("target neuron")
            .draw()
            .map_err(failed)?;
        let rects = (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))).map(|(i, j)| {
            let v = cells[(j * nx + i) as usize];
            let (x0, y0) = (f64::from(i * bx), f64::from(j * by));
            let (x1, y1) = (f64::from(((i + 1) * bx).min(w.pre)), f64::from(((j + 1) * by).min(w.post)));
            Rectangle::new([(x0, y0), (x1, y1)], heat(scale(v)).filled())
        });
        chart.draw_series(rects).map_err(failed)?;
        colour_bar(&right, lo, hi)
    })
}

/// Draws each target neuron's incoming weights as a `width` x `height`
/// image (source `i` at column `i % width`, row `i / width` from the top),
/// the images left to right, top to bottom.
pub fn grid(w: &Weights, (width, height): (u32, u32), title: &str) -> Result<String, PlotError> {
    if u64::from(width) * u64::from(height) != u64::from(w.pre) {
        return Err(PlotError::Data(format!(
            "--grid {width}x{height} has {} pixels but projection `{}` has {} source neurons",
            u64::from(width) * u64::from(height),
            w.name,
            w.pre
        )));
    }
    if w.post == 0 || w.post > MAX_IMAGES {
        return Err(PlotError::Data(format!(
            "projection `{}` has {} target neurons: a grid shows 1 to {MAX_IMAGES}",
            w.name, w.post
        )));
    }
    let cols = (1..=w.post).find(|c| c * c >= w.post).unwrap_or(w.post);
    let rows = w.post.div_ceil(cols);
    let side = (720 / cols).clamp(24, 120);
    let (px_w, px_h) = ((side / width.max(height)).max(1) * width, (side / width.max(height)).max(1) * height);
    let (gap, label) = (8, if side >= 40 { 14 } else { 0 });
    let top = 48;
    let size = ((16 + cols * (px_w + gap) + BAR).max(360), (top + rows * (px_h + gap + label) + 24).max(320));
    let (lo, hi) = w.range();
    let scale = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 1.0 };
    let (sx, sy) = ((px_w / width) as i32, (px_h / height) as i32);
    svg(size, |root| {
        root.draw(&Text::new(title.to_string(), (16, 14), font(18))).map_err(failed)?;
        for n in 0..w.post {
            let (c, r) = ((n % cols) as i32, (n / cols) as i32);
            let x0 = 16 + c * (px_w + gap) as i32;
            let y0 = top as i32 + r * (px_h + gap + label) as i32 + label as i32;
            if label > 0 {
                root.draw(&Text::new(format!("{n}"), (x0, y0 - 13), font(11))).map_err(failed)?;
            }
            for i in 0..w.pre {
                let (px, py) = (x0 + (i % width) as i32 * sx, y0 + (i / width) as i32 * sy);
                let colour = heat(scale(w.w[(n * w.pre + i) as usize]));
                root.draw(&Rectangle::new([(px, py), (px + sx, py + sy)], colour.filled())).map_err(failed)?;
            }
        }
        let bar = root.clone().shrink(((size.0 - BAR) as i32, 0), (BAR, size.1));
        colour_bar(&bar, lo, hi)
    })
}

/// The colour scale from `lo` (bottom) to `hi` (top) with their values.
fn colour_bar(area: &Area<'_>, lo: f64, hi: f64) -> Result<(), PlotError> {
    let (_, h) = area.dim_in_pixel();
    let (x0, x1, top, bottom) = (16, 40, 60, h as i32 - 70);
    const STEPS: i32 = 64;
    for k in 0..STEPS {
        let y_hi = top + (bottom - top) * k / STEPS;
        let y_lo = top + (bottom - top) * (k + 1) / STEPS;
        let t = 1.0 - (f64::from(k) + 0.5) / f64::from(STEPS);
        area.draw(&Rectangle::new([(x0, y_hi), (x1, y_lo)], heat(t).filled())).map_err(failed)?;
    }
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], RULE.stroke_width(1))).map_err(failed)?;
    let value =
        |v: f64, y: i32| Text::new(format!("{v:.4}"), (x1 + 6, y), font(12).pos(Pos::new(HPos::Left, VPos::Center)));
    area.draw(&value(hi, top)).map_err(failed)?;
    area.draw(&value(lo, bottom)).map_err(failed)?;
    area.draw(&Text::new("weight", (x0, top - 22), font(13))).map_err(failed)?;
    Ok(())
}
