//! `compile --device`: a configuration that computes exactly the source
//! network on one chip (docs/chip.md, "Compiling for a chip"). The
//! partition packs fewer rows into a tile the more neurons it holds (a
//! stuck-at-G_max device on a used column costs its row line); each tile is
//! then mapped onto its crossbar (`chipmap`), and a tile that does not fit
//! where it was placed moves to the nearest free tile where it does. If a
//! tile fits nowhere, the network is packed again, tighter.

use crate::chipmap::{Shortfall, TileMap, TileMapReport, map_tile};
use crate::partition::{Capacity, Partition};
use crate::place::Placement;
use crate::report::{ChipReport, Timings};
use crate::{CompileError, Compiled, Stages, bitgen, finish, ms_since, placed, route, timed};
use fpnna_arch::{Arch, ChipState};
use fpnna_bitstream::{TileConfig, Xy};
use fpnna_ir::{Network, NeuronId};
use std::collections::BTreeSet;
use std::time::Instant;

/// Packings tried, each filling a smaller share of the expected usable rows.
const PACKINGS: u32 = 4;
/// Free tiles tried for a tile that does not fit where it was placed.
const MOVES: usize = 12;

/// The packing of attempt `attempt` (0-based) on `chip`.
fn capacity(arch: &Arch, chip: &ChipState, attempt: u32) -> Capacity {
    let crosspoints = f64::from(arch.tiles()) * f64::from(arch.tile.rows) * f64::from(arch.tile.cols);
    let measured_high = chip.defects.iter().filter(|d| d.high).count() as f64 / crosspoints;
    let seeded_high = 1.0 - (1.0 - chip.stuck_at_max).powi(2);
    let p_lost = (seeded_high + measured_high).min(1.0);
    Capacity { p_lost, fill: 0.97 * 0.8f64.powi(attempt as i32), ..Capacity::of(arch) }
}

/// Compiles `net` for `chip` (of architecture `arch`, checked by the caller).
pub(crate) fn compile_on_chip(
    net: &Network,
    arch: &Arch,
    chip: &ChipState,
    seed: u64,
    progress: crate::OnProgress<'_>,
) -> Result<Compiled, CompileError> {
    let t0 = Instant::now();
    let mut timings = Timings::default();
    let mut last = None;
    for attempt in 0..PACKINGS {
        let cap = capacity(arch, chip, attempt);
        let (q, part, mut pl) = match placed(net, arch, seed, &cap, progress, &mut timings) {
            Ok(p) => p,
            // A tighter packing that needs more tiles than the grid has.
            Err(CompileError::TooManyTiles { .. }) if last.is_some() => break,
            Err(CompileError::TooManyTiles { needed, available, .. }) => {
                return Err(CompileError::ChipTooManyTiles { needed, available, p_lost: cap.p_lost });
            }
            Err(e) => return Err(e),
        };
        let mut tiles = bitgen::tiles(&q, &part, &pl);
        let mapped =
            timed(progress, "map onto the chip", &mut timings.map_ms, || map_all(&mut tiles, &mut pl, chip, arch));
        let reports = match mapped {
            Ok(r) => r,
            Err((c, short)) => {
                last = Some(exhausted(&q.net, &part, &pl, c, short, attempt + 1));
                continue;
            }
        };
        let routing = timed(progress, "route", &mut timings.route_ms, || route::route(&part, &pl, arch, progress))?;
        let bitstream = timed(progress, "bitgen", &mut timings.bitgen_ms, || {
            bitgen::assemble(&q, arch, &part, &pl, &routing, tiles)
        });
        timings.total_ms = ms_since(t0);
        let mut compiled = finish(net, arch, seed, Stages { q, part, pl, routing }, bitstream, timings);
        compiled.report.chip = Some(ChipReport::new(reports, attempt + 1, cap.fill));
        return Ok(compiled);
    }
    Err(last.expect("at least one packing was tried"))
}

/// Maps every tile onto the chip, moving a tile that does not fit to the
/// nearest free tile that fits (`Err`: the cluster that fits nowhere).
fn map_all(
    tiles: &mut [TileConfig],
    pl: &mut Placement,
    chip: &ChipState,
    arch: &Arch,
) -> Result<Vec<TileMapReport>, (usize, Shortfall)> {
    let mut used: BTreeSet<Xy> = pl.pos.iter().copied().collect();
    let mut reports = Vec::with_capacity(tiles.len());
    let first = map_in_place(tiles, chip, arch);
    for ((c, tc), mapped) in tiles.iter_mut().enumerate().zip(first) {
        let short = match mapped {
            Ok(m) => {
                reports.push(apply(tc, m));
                continue;
            }
            Err(s) => s,
        };
        let home = pl.pos[c];
        let moved = free_tiles(arch, &used, home).into_iter().take(MOVES).find_map(|at| {
            let (x, y) = (tc.x, tc.y);
            (tc.x, tc.y) = (at.x, at.y);
            let m = map_tile(tc, chip, arch).ok();
            if m.is_none() {
                (tc.x, tc.y) = (x, y);
            }
            m.map(|m| (at, m))
        });
        let Some((at, m)) = moved else { return Err((c, short)) };
        used.remove(&home);
        used.insert(at);
        pl.pos[c] = at;
        reports.push(apply(tc, m));
    }
    Ok(reports)
}

/// Every tile mapped where it was placed, on all cores (the tiles are
/// independent: the result is the same whatever the thread count).
fn map_in_place(tiles: &[TileConfig], chip: &ChipState, arch: &Arch) -> Vec<Result<TileMap, Shortfall>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(tiles.len().max(1));
    let chunk = tiles.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = tiles
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|tc| map_tile(tc, chip, arch)).collect::<Vec<_>>()))
            .collect();
        parts.into_iter().flat_map(|h| h.join().expect("a mapping thread panicked")).collect()
    })
}

/// Sets the tile's line maps; its report.
fn apply(tc: &mut TileConfig, m: TileMap) -> TileMapReport {
    tc.row_lines = m.row_lines;
    tc.col_lines = m.col_lines;
    m.report
}

/// The tiles no cluster uses, nearest to `home` first (ties in (y, x) order).
fn free_tiles(arch: &Arch, used: &BTreeSet<Xy>, home: Xy) -> Vec<Xy> {
    let mut free: Vec<Xy> = (0..arch.grid.height)
        .flat_map(|y| (0..arch.grid.width).map(move |x| Xy { x, y }))
        .filter(|at| !used.contains(at))
        .collect();
    free.sort_by_key(|at| (home.x.abs_diff(at.x) + home.y.abs_diff(at.y), at.y, at.x));
    free
}

/// The error for cluster `c`, which fits on no tile tried.
fn exhausted(net: &Network, part: &Partition, pl: &Placement, c: usize, s: Shortfall, packings: u32) -> CompileError {
    let range = part.clusters[c].clone();
    let first = part.netlist.neurons[range.start];
    let (pop, index) = net
        .keys()
        .locate(NeuronId(first))
        .map(|(p, i)| (net.pop(p).name.clone(), i))
        .unwrap_or_else(|| ("?".into(), 0));
    CompileError::ChipExhausted {
        pop,
        index,
        neurons: range.len(),
        at: (pl.pos[c].x, pl.pos[c].y),
        rows_needed: s.rows_needed,
        rows_placed: s.rows_placed,
        cols: s.cols,
        packings,
    }
}
