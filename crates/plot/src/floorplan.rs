//! The array as placed and routed: one cell per tile, coloured by its
//! utilisation (the larger of rows used and columns used, as `fpnna
//! inspect` counts them), inside it the crossbar with its programmed nodes
//! coloured by mode, between the cells the links the routing uses, wider
//! the more keys' trees cross them, and a legend. North (y + 1) is up.

use crate::PlotError;
use crate::colour::{IDLE_TILE, RULE, utilisation_colour};
use crate::draw::{Area, failed, font, svg};
use fpnna_bitstream::{Bitstream, Dir, LinkLoad, RowKind, TileUsage, inspect, link_loads};
use plotters::prelude::*;

/// Nodes on non-volatile (formed) rows.
pub const NONVOLATILE: RGBColor = RGBColor(33, 102, 172);
/// Nodes on volatile (facilitating) rows.
pub const VOLATILE: RGBColor = RGBColor(27, 158, 119);
/// Nodes on STDP rows.
pub const STDP: RGBColor = RGBColor(152, 78, 163);
/// Links.
pub const LINK: RGBColor = RGBColor(60, 60, 60);

/// Blocks along each side of a tile's crossbar picture at most: a node
/// shows as the block of its physical row and column lines, coloured by
/// the rarest mode among the block's nodes (STDP, then volatile).
const BLOCKS: u16 = 16;
/// Width of the legend, pixels.
const LEGEND: i32 = 250;

/// Where a floorplan draws each tile (pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    width: u16,
    height: u16,
    /// Side of a tile's cell.
    pub cell: i32,
    /// Gap between cells (where the links run).
    pub gap: i32,
    /// Top left corner of the grid.
    pub origin: (i32, i32),
}

impl Layout {
    /// The layout of a grid of `width` x `height` tiles.
    pub fn of(width: u16, height: u16) -> Layout {
        let most = i32::from(width.max(height)).max(1);
        let cell = (640 / most - 640 / most / 4).clamp(12, 120);
        Layout { width, height, cell, gap: (cell / 3).max(6), origin: (24, 56) }
    }

    /// The cell of tile (x, y): left, top, right, bottom.
    pub fn cell(&self, x: u16, y: u16) -> [i32; 4] {
        let pitch = self.cell + self.gap;
        let left = self.origin.0 + i32::from(x) * pitch;
        let top = self.origin.1 + (i32::from(self.height) - 1 - i32::from(y)) * pitch;
        [left, top, left + self.cell, top + self.cell]
    }

    /// The crossbar inside a tile's cell (its middle, a border of the
    /// utilisation colour around it).
    pub fn crossbar(&self, x: u16, y: u16) -> [i32; 4] {
        let [l, t, r, b] = self.cell(x, y);
        let m = (self.cell / 6).max(2);
        [l + m, t + m, r - m, b - m]
    }

    /// Width and height of the whole picture.
    pub fn size(&self) -> (u32, u32) {
        let pitch = self.cell + self.gap;
        let w = self.origin.0 + i32::from(self.width) * pitch + LEGEND;
        let h = (self.origin.1 + i32::from(self.height) * pitch + 24).max(430);
        (w as u32, h as u32)
    }
}

/// How full a tile is, 0 to 1: the larger share of its rows and columns
/// in use.
pub fn utilisation(t: &TileUsage, rows: u16, cols: u16) -> f64 {
    let share = |used: usize, all: u16| if all == 0 { 0.0 } else { used as f64 / f64::from(all) };
    share(t.rows_used, rows).max(share(t.columns_used, cols))
}

/// Draws `b` as an SVG document titled `title`.
pub fn svg_of(b: &Bitstream, title: &str) -> Result<String, PlotError> {
    let i = inspect(b);
    let lay = Layout::of(i.grid_width, i.grid_height);
    let loads = link_loads(b);
    svg(lay.size(), |root| {
        root.draw(&Text::new(title.to_string(), (lay.origin.0, 16), font(20))).map_err(failed)?;
        for y in 0..i.grid_height {
            for x in 0..i.grid_width {
                let [l, t, r, bt] = lay.cell(x, y);
                root.draw(&Rectangle::new([(l, t), (r, bt)], IDLE_TILE.filled())).map_err(failed)?;
                root.draw(&Rectangle::new([(l, t), (r, bt)], RULE.stroke_width(1))).map_err(failed)?;
            }
        }
        for (usage, tile) in i.tiles.iter().zip(&b.tiles) {
            let u = utilisation(usage, i.tile_rows, i.tile_cols);
            let [l, t, r, bt] = lay.cell(tile.x, tile.y);
            root.draw(&Rectangle::new([(l, t), (r, bt)], utilisation_colour(u).filled())).map_err(failed)?;
            crossbar(root, &lay, b, tile)?;
            if lay.cell >= 48 {
                let label = format!("{:.0}%", 100.0 * u);
                root.draw(&Text::new(label, (l + 3, t + 1), font(10))).map_err(failed)?;
            }
        }
        links(root, &lay, &loads)?;
        legend(root, &lay, &loads)
    })
}

/// A tile's crossbar: white, with its nodes' blocks coloured by mode.
fn crossbar(root: &Area<'_>, lay: &Layout, b: &Bitstream, tile: &fpnna_bitstream::TileConfig) -> Result<(), PlotError> {
    let [l, t, r, bt] = lay.crossbar(tile.x, tile.y);
    root.draw(&Rectangle::new([(l, t), (r, bt)], WHITE.filled())).map_err(failed)?;
    let (rows, cols) = (b.arch.tile.rows.max(1), b.arch.tile.cols.max(1));
    let (br, bc) = (BLOCKS.min(rows), BLOCKS.min(cols));
    // 0: empty; 1 non-volatile, 2 volatile, 3 STDP (the rarest mode wins).
    let mut mode = vec![0u8; usize::from(br) * usize::from(bc)];
    for n in &tile.nodes {
        let m = match tile.rows.get(usize::from(n.row)).map(|r| r.kind) {
            Some(RowKind::Stdp(_)) => 3,
            Some(RowKind::Volatile(_)) => 2,
            _ => 1,
        };
        let line_r = u32::from(tile.row_line(n.row).min(rows - 1));
        let line_c = u32::from(tile.col_line(n.col).min(cols - 1));
        let k = (line_r * u32::from(br) / u32::from(rows)) as usize * usize::from(bc)
            + (line_c * u32::from(bc) / u32::from(cols)) as usize;
        mode[k] = mode[k].max(m);
    }
    let (w, h) = (r - l, bt - t);
    for (k, &m) in mode.iter().enumerate() {
        let colour = match m {
            1 => NONVOLATILE,
            2 => VOLATILE,
            3 => STDP,
            _ => continue,
        };
        let (i, j) = ((k % usize::from(bc)) as i32, (k / usize::from(bc)) as i32);
        let (x0, x1) = (l + w * i / i32::from(bc), l + w * (i + 1) / i32::from(bc));
        let (y0, y1) = (t + h * j / i32::from(br), t + h * (j + 1) / i32::from(br));
        root.draw(&Rectangle::new([(x0, y0), (x1.max(x0 + 1), y1.max(y0 + 1))], colour.filled())).map_err(failed)?;
    }
    root.draw(&Rectangle::new([(l, t), (r, bt)], RULE.stroke_width(1))).map_err(failed)
}

/// Line width of a link carrying `keys` of at most `most`: 1 to 8 pixels.
fn link_width(keys: u32, most: u32) -> u32 {
    1 + (7 * u64::from(keys) / u64::from(most.max(1))) as u32
}

/// Each used link, in the gap between its two cells: the two directions
/// of a pair side by side (east and north on the upper or right side).
fn links(root: &Area<'_>, lay: &Layout, loads: &[LinkLoad]) -> Result<(), PlotError> {
    let most = loads.iter().map(|l| l.keys).max().unwrap_or(1);
    for l in loads {
        let [cl, ct, cr, cb] = lay.cell(l.from.x, l.from.y);
        let (mx, my) = ((cl + cr) / 2, (ct + cb) / 2);
        let off = lay.cell / 6;
        let (a, b) = match l.dir {
            Dir::East => ((cr, my - off), (cr + lay.gap, my - off)),
            Dir::West => ((cl, my + off), (cl - lay.gap, my + off)),
            Dir::North => ((mx + off, ct), (mx + off, ct - lay.gap)),
            Dir::South => ((mx - off, cb), (mx - off, cb + lay.gap)),
            Dir::Local => continue,
        };
        root.draw(&PathElement::new([a, b], LINK.stroke_width(link_width(l.keys, most)))).map_err(failed)?;
    }
    Ok(())
}

/// The legend right of the grid.
fn legend(root: &Area<'_>, lay: &Layout, loads: &[LinkLoad]) -> Result<(), PlotError> {
    let (w, _) = lay.size();
    let x = w as i32 - LEGEND + 16;
    let mut y = lay.origin.1;
    let swatch = |root: &Area<'_>, y: i32, colour: RGBColor, what: String| -> Result<(), PlotError> {
        root.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], colour.filled())).map_err(failed)?;
        root.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], RULE.stroke_width(1))).map_err(failed)?;
        root.draw(&Text::new(what, (x + 22, y + 1), font(12))).map_err(failed)
    };
    root.draw(&Text::new("tile utilisation", (x, y), font(13))).map_err(failed)?;
    y += 20;
    for u in [0.0, 0.25, 0.5, 0.75, 1.0] {
        swatch(root, y, utilisation_colour(u), format!("{:.0}% of rows or columns", 100.0 * u))?;
        y += 18;
    }
    swatch(root, y, IDLE_TILE, "not programmed".into())?;
    y += 30;
    root.draw(&Text::new("nodes", (x, y), font(13))).map_err(failed)?;
    y += 20;
    for (colour, what) in
        [(NONVOLATILE, "non-volatile"), (VOLATILE, "volatile (facilitating)"), (STDP, "volatile, STDP")]
    {
        swatch(root, y, colour, what.into())?;
        y += 18;
    }
    y += 12;
    root.draw(&Text::new("link load (keys routed)", (x, y), font(13))).map_err(failed)?;
    y += 22;
    let most = loads.iter().map(|l| l.keys).max().unwrap_or(0);
    let mut shown: Vec<u32> = [1, most.div_ceil(2), most].into_iter().filter(|&k| k > 0).collect();
    shown.dedup();
    for k in shown {
        let line = PathElement::new([(x, y + 7), (x + 30, y + 7)], LINK.stroke_width(link_width(k, most)));
        root.draw(&line).map_err(failed)?;
        root.draw(&Text::new(format!("{k}"), (x + 38, y + 1), font(12))).map_err(failed)?;
        y += 18;
    }
    if most == 0 {
        root.draw(&Text::new("no link used", (x, y), font(12))).map_err(failed)?;
    }
    Ok(())
}
