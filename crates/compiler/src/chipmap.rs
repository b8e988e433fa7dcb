//! Mapping a tile's configuration onto the crossbar of one chip
//! (`compile --device`, docs/chip.md "Compiling for a chip"): which
//! physical column line each neuron takes and which physical row line
//! each row takes, so that every crosspoint the configuration relies on
//! conducts exactly what the network wants despite the chip's stuck
//! devices, and no volatile node lands on a formed crosspoint.
//!
//! A crosspoint matters when its row line is driven and its column line
//! holds a neuron. On a non-volatile row it must conduct the node's level
//! (or nothing, where the row has no node): a device stuck at G_max adds a
//! weight nobody asked for, one stuck at G_min on the programmed side
//! removes one. On a volatile or STDP row, a node must sit on a virgin
//! crosspoint (forming is irreversible); the emulator models stuck devices
//! on non-volatile rows only, and so does this rule.
//!
//! The columns are the tile's few neurons (the crossbar has many more row
//! lines than a tile uses columns): they take the column lines with the
//! fewest measured defects. Rows are then assigned as a matching of rows
//! to row lines: a line with no stuck or formed crosspoint on the chosen
//! columns takes any row; every other line takes only a row that is exact
//! on it, found among the rows with a node on its special columns (a
//! formed crosspoint reused, a stuck-at-G_max device matched by a node at
//! the top level) and then among the rows with the fewest nodes (the rows
//! most lines accept), so that rows with many nodes keep the clean lines.

use fpnna_arch::{Arch, ChipState, Crosspoint, Fate, Side, effective_level};
use fpnna_bitstream::{Node, RowKind, TileConfig};
use serde::Serialize;

/// Rows of the pool tried on a line before it is left unused.
const TRIES: usize = 24;

/// How one tile was mapped.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TileMapReport {
    /// Tile column of the grid.
    pub x: u16,
    /// Tile row of the grid.
    pub y: u16,
    /// Row lines tried that no row of this tile fitted (a stuck or formed
    /// crosspoint on the chosen columns that no remaining row matches).
    pub lines_lost: u32,
    /// Share of the row lines scanned (in line order, until every row had
    /// one) that a row of this tile could use, given its columns.
    pub usable_share: f64,
    /// Stuck devices on the crosspoints in use (harmless where they are).
    pub defects_in_use: u32,
    /// Crosspoints that would conduct a wrong weight with rows and columns
    /// on lines 0, 1, ... (the blind mapping).
    pub defects_avoided: u32,
    /// Non-volatile nodes on virgin crosspoints (formed by this
    /// configuration).
    pub nodes_formed: u32,
    /// Non-volatile nodes on crosspoints formed before (reprogrammed).
    pub nodes_reused: u32,
}

/// A tile's lines on the chip.
pub(crate) struct TileMap {
    pub row_lines: Vec<u16>,
    pub col_lines: Vec<u16>,
    pub report: TileMapReport,
}

/// Why a tile does not fit the chip where it is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shortfall {
    /// Rows the tile needs.
    pub rows_needed: usize,
    /// Rows it could place.
    pub rows_placed: usize,
    /// Its columns.
    pub cols: usize,
}

/// What one crosspoint on the chosen columns is, when it is not a virgin
/// healthy one.
#[derive(Clone, Copy)]
struct Special {
    /// Column (index in the tile).
    col: u16,
    fates: [Fate; 2],
    formed: bool,
}

/// The chip seen from one tile, on the chosen columns.
struct View<'a> {
    tc: &'a TileConfig,
    /// Node range of each row.
    row_nodes: Vec<std::ops::Range<usize>>,
    /// The highest level.
    top: f64,
}

impl View<'_> {
    /// Row `r`'s level at column `col`, if it has a node there.
    fn node(&self, r: usize, col: u16) -> Option<&Node> {
        let nodes = &self.tc.nodes[self.row_nodes[r].clone()];
        nodes.binary_search_by_key(&col, |n| n.col).ok().map(|i| &nodes[i])
    }

    /// Whether row `r` computes exactly on a crosspoint like `s`.
    fn exact(&self, r: usize, s: &Special) -> bool {
        let row = &self.tc.rows[r];
        let node = self.node(r, s.col);
        if row.kind != RowKind::NonVolatile {
            return !(s.formed && node.is_some());
        }
        let Some(n) = node else {
            // Unprogrammed: no device may conduct at G_max (even a pair
            // stuck high on both sides draws current: an event, zero net).
            return !s.fates.contains(&Fate::StuckMax);
        };
        let (level, on) = (f64::from(n.level), if row.negative { Side::Minus } else { Side::Plus });
        let want = if on == Side::Minus { -level } else { level };
        effective_level(level, on, s.fates, self.top) == want
    }

    /// Whether row `r` computes exactly on every special crosspoint of a line.
    fn fits(&self, r: usize, line: &[Special]) -> bool {
        line.iter().all(|s| self.exact(r, s))
    }
}

/// The fates and forming of crosspoint (`row` line, `col` line) of tile
/// (x, y), or `None` for a virgin healthy one.
fn special(chip: &ChipState, at: Crosspoint, col: u16) -> Option<Special> {
    let fates = [chip.fate(at, Side::Plus), chip.fate(at, Side::Minus)];
    let formed = chip.formed_at(at).is_some();
    (formed || fates != [Fate::Healthy; 2]).then_some(Special { col, fates, formed })
}

/// The column lines of a tile of `n` columns: those with the fewest
/// measured defects in the tile, in line order.
fn choose_columns(chip: &ChipState, arch: &Arch, x: u16, y: u16, n: usize) -> Vec<u16> {
    let mut bad = vec![0u32; usize::from(arch.tile.cols)];
    let lo = chip.defects.partition_point(|d| (d.at.x, d.at.y) < (x, y));
    for d in chip.defects[lo..].iter().take_while(|d| (d.at.x, d.at.y) == (x, y)) {
        bad[usize::from(d.at.col)] += 1;
    }
    let mut lines: Vec<u16> = (0..arch.tile.cols).collect();
    lines.sort_by_key(|&l| (bad[usize::from(l)], l));
    lines.truncate(n);
    lines.sort_unstable();
    lines
}

/// Maps tile `tc` (at its x, y) onto `chip`.
pub(crate) fn map_tile(tc: &TileConfig, chip: &ChipState, arch: &Arch) -> Result<TileMap, Shortfall> {
    let col_lines = choose_columns(chip, arch, tc.x, tc.y, tc.columns.len());
    let mut row_nodes = vec![0..0; tc.rows.len()];
    let mut i = 0;
    for (r, range) in row_nodes.iter_mut().enumerate() {
        let start = i;
        while i < tc.nodes.len() && usize::from(tc.nodes[i].row) == r {
            i += 1;
        }
        *range = start..i;
    }
    let view = View { tc, row_nodes, top: f64::from(arch.nonvolatile.levels - 1) };
    let line = |row: u16| -> Vec<Special> {
        let at = |c: usize| Crosspoint { x: tc.x, y: tc.y, row, col: col_lines[c] };
        (0..col_lines.len()).filter_map(|c| special(chip, at(c), c as u16)).collect()
    };
    let (row_lines, lost, lines) = assign_rows(&view, arch.tile.rows, line).map_err(|rows_placed| Shortfall {
        rows_needed: tc.rows.len(),
        rows_placed,
        cols: tc.columns.len(),
    })?;
    let report = report(&view, chip, &lines, (&row_lines, &col_lines), lost);
    Ok(TileMap { row_lines, col_lines, report })
}

/// The row line of each row, how many special lines no row fitted, and
/// the special crosspoints of the lines scanned (`line(l)` draws line `l`;
/// lines are scanned in order until every row has one). `Err`: how many
/// rows found a line.
#[allow(clippy::type_complexity)]
fn assign_rows(
    view: &View<'_>,
    count: u16,
    mut line: impl FnMut(u16) -> Vec<Special>,
) -> Result<(Vec<u16>, u32, Vec<Vec<Special>>), usize> {
    let n = view.tc.rows.len();
    let mut m = Matcher::new(view);
    let (mut placed, mut lost, mut clean) = (0, 0, Vec::new());
    for l in 0..count {
        if placed + clean.len() >= n {
            break;
        }
        let specials = line(l);
        if specials.is_empty() {
            clean.push(l);
        } else if m.place(l, &specials) {
            placed += 1;
        } else {
            lost += 1;
        }
        m.lines.push(specials);
    }
    let mut clean = clean.into_iter();
    for slot in m.line_of.iter_mut().filter(|s| s.is_none()) {
        match clean.next() {
            Some(l) => *slot = Some(l),
            None => return Err(placed),
        }
        placed += 1;
    }
    Ok((m.line_of.into_iter().map(|l| l.unwrap_or_default()).collect(), lost, m.lines))
}

/// The matching of rows to the special lines scanned so far.
struct Matcher<'a> {
    view: &'a View<'a>,
    /// The line of each row placed.
    line_of: Vec<Option<u16>>,
    /// Rows with a node on each column, for the lines that want one there.
    on_col: Vec<Vec<u16>>,
    /// Rows by ascending node count (the rows most lines accept first).
    pool: Vec<u16>,
    /// Rows of `pool` before it are placed.
    cursor: usize,
    /// The special crosspoints of each line scanned.
    lines: Vec<Vec<Special>>,
}

impl<'a> Matcher<'a> {
    fn new(view: &'a View<'a>) -> Matcher<'a> {
        let n = view.tc.rows.len();
        let mut on_col: Vec<Vec<u16>> = vec![Vec::new(); view.tc.columns.len()];
        for nd in &view.tc.nodes {
            on_col[usize::from(nd.col)].push(nd.row);
        }
        let mut pool: Vec<u16> = (0..n as u16).collect();
        pool.sort_by_key(|&r| (view.row_nodes[usize::from(r)].len(), r));
        Matcher { view, line_of: vec![None; n], on_col, pool, cursor: 0, lines: Vec::new() }
    }

    /// The rows with a node on a special column of `specials` that fit it.
    fn wanted<'s>(&'s self, specials: &'s [Special]) -> impl Iterator<Item = u16> + 's {
        let rows = specials.iter().flat_map(|s| &self.on_col[usize::from(s.col)]).copied();
        rows.filter(|&r| self.view.fits(usize::from(r), specials))
    }

    /// An unplaced row of the pool that fits `specials`.
    fn pool_row(&mut self, specials: &[Special]) -> Option<u16> {
        while self.cursor < self.pool.len() && self.line_of[usize::from(self.pool[self.cursor])].is_some() {
            self.cursor += 1;
        }
        let free = self.pool[self.cursor..].iter().copied().filter(|&r| self.line_of[usize::from(r)].is_none());
        free.take(TRIES).find(|&r| self.view.fits(usize::from(r), specials))
    }

    /// Places a row on special line `l`: an unplaced row with a node on its
    /// special columns, else one of the pool; else an augmenting path of
    /// length one: a row that fits `l` leaves its line `l2` for `l`, and
    /// an unplaced row of the pool takes `l2`.
    fn place(&mut self, l: u16, specials: &[Special]) -> bool {
        let unplaced = self.wanted(specials).find(|&r| self.line_of[usize::from(r)].is_none());
        if let Some(r) = unplaced.or_else(|| self.pool_row(specials)) {
            self.line_of[usize::from(r)] = Some(l);
            return true;
        }
        let movable: Vec<(u16, u16)> =
            self.wanted(specials).filter_map(|r| self.line_of[usize::from(r)].map(|l2| (r, l2))).take(TRIES).collect();
        for (r, l2) in movable {
            let held = std::mem::take(&mut self.lines[usize::from(l2)]);
            let other = self.pool_row(&held);
            self.lines[usize::from(l2)] = held;
            if let Some(r2) = other {
                self.line_of[usize::from(r)] = Some(l);
                self.line_of[usize::from(r2)] = Some(l2);
                return true;
            }
        }
        false
    }
}

/// What the mapping avoided, used and formed (`lost`: special lines no
/// row fitted).
fn report(
    view: &View<'_>,
    chip: &ChipState,
    lines: &[Vec<Special>],
    (row_lines, col_lines): (&[u16], &[u16]),
    lost: u32,
) -> TileMapReport {
    let tc = view.tc;
    let stuck = |s: &Special| s.fates.iter().filter(|&&f| f != Fate::Healthy).count() as u32;
    let mut out = TileMapReport {
        x: tc.x,
        y: tc.y,
        lines_lost: lost,
        usable_share: 1.0 - f64::from(lost) / lines.len().max(1) as f64,
        ..TileMapReport::default()
    };
    for &l in row_lines {
        out.defects_in_use += lines[usize::from(l)].iter().map(stuck).sum::<u32>();
    }
    // The blind mapping's crosspoints: already drawn when the columns are
    // on lines 0, 1, ... (no measured defect moved them).
    let identity = col_lines.iter().enumerate().all(|(c, &l)| usize::from(l) == c);
    for (r, line) in lines.iter().enumerate().take(tc.rows.len()) {
        let drawn;
        let blind: &[Special] = if identity {
            line
        } else {
            let at = |c: u16| Crosspoint { x: tc.x, y: tc.y, row: r as u16, col: c };
            drawn = (0..tc.columns.len() as u16).filter_map(|c| special(chip, at(c), c)).collect::<Vec<_>>();
            &drawn
        };
        out.defects_avoided += blind.iter().filter(|s| !view.exact(r, s)).count() as u32;
    }
    for n in &tc.nodes {
        if tc.rows[usize::from(n.row)].kind == RowKind::NonVolatile {
            let at =
                Crosspoint { x: tc.x, y: tc.y, row: row_lines[usize::from(n.row)], col: col_lines[usize::from(n.col)] };
            match chip.formed_at(at) {
                Some(_) => out.nodes_reused += 1,
                None => out.nodes_formed += 1,
            }
        }
    }
    out
}
