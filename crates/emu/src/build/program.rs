//! Programming the tiles: every node's weight under the device
//! non-idealities (forming yield, stuck devices, write error and
//! write-verify, device-to-device spread of volatile nodes), each tile's
//! run-time structures, its neuron columns in the bank, and the cost of
//! configuring the array.

use crate::bank::Bank;
use crate::noise;
use crate::stats::{ConfigStats, TileActivity};
use crate::tile::Tile;
use crate::{DeviceFigures, EmuError};
use fpnna_arch::{Arch, ChipState, Crosspoint, Fate, Side, TileWrites};
use fpnna_bitstream::{Node, RouteEntry, Row, RowKind, TileConfig, Xy};
use fpnna_model::{self as m, DECAY_ONE, NeuronState, VolatileParams};
use std::collections::{BTreeMap, BTreeSet};

/// The programmed tiles, their columns, and what configuring them cost.
pub(super) struct Programmed {
    pub tiles: Vec<Tile>,
    pub bank: Bank,
    pub config: ConfigStats,
    /// On a chip: the non-volatile crosspoints written and formed, per tile.
    pub writes: Vec<TileWrites>,
}

/// Where stuck devices come from: the chip's state, or the stuck-at
/// figures drawn with the run's seed.
pub(super) enum Faults<'a> {
    /// Drawn from the figures.
    Figures { seed: u64, min: f64, max: f64 },
    /// The chip's own (fab defects and wear), and whether any device may
    /// be stuck, and stuck at G_max (found once).
    Chip { chip: &'a ChipState, any: bool, any_high: bool },
}

impl<'a> Faults<'a> {
    pub fn new(dev: &DeviceFigures, seed: u64, chip: Option<&'a ChipState>) -> Faults<'a> {
        match chip {
            Some(c) => Faults::Chip {
                chip: c,
                any: c.has_defects(),
                any_high: c.stuck_at_max > 0.0 || c.defects.iter().any(|d| d.high),
            },
            None => Faults::Figures { seed, min: dev.stuck_at_min, max: dev.stuck_at_max },
        }
    }

    fn fate(&self, xp: Crosspoint, side: Side) -> Fate {
        match self {
            Faults::Figures { seed, min, max } => xp.fate(*seed, side, *min, *max),
            Faults::Chip { chip, .. } => chip.fate(xp, side),
        }
    }

    /// Whether any device may be stuck (else nothing is drawn).
    fn any(&self) -> bool {
        match self {
            Faults::Figures { min, max, .. } => min + max > 0.0,
            Faults::Chip { any, .. } => *any,
        }
    }

    /// Whether any device may be stuck at G_max.
    fn any_high(&self) -> bool {
        match self {
            Faults::Figures { max, .. } => *max > 0.0,
            Faults::Chip { any_high, .. } => *any_high,
        }
    }

    /// The chip, if the faults are a chip's.
    fn chip(&self) -> Option<&'a ChipState> {
        match self {
            Faults::Figures { .. } => None,
            Faults::Chip { chip, .. } => Some(chip),
        }
    }
}

/// Refuses a configuration that puts a volatile or STDP node on a
/// crosspoint of `chip` that a configuration formed: a formed crosspoint
/// is non-volatile for good.
pub(super) fn refuse_volatile_on_formed(chip: &ChipState, tiles_cfg: &[TileConfig]) -> Result<(), EmuError> {
    for tc in tiles_cfg {
        if chip.formed_in(tc.x, tc.y).is_empty() {
            continue;
        }
        for n in tc.nodes.iter().filter(|n| tc.rows[usize::from(n.row)].kind != RowKind::NonVolatile) {
            let (row, col) = (tc.row_line(n.row), tc.col_line(n.col));
            let Some(f) = chip.formed_at(Crosspoint { x: tc.x, y: tc.y, row, col }) else { continue };
            let hash = chip.history.get(f.by as usize).map_or("?", |a| a.bitstream.as_str());
            return Err(EmuError::Invalid {
                place: format!("tile ({}, {}), row line {row}, column line {col}", tc.x, tc.y),
                why: format!(
                    "a volatile or STDP node on a crosspoint of the chip formed non-volatile by configuration {} \
                     (bitstream {hash}); a formed crosspoint cannot hold a volatile node",
                    f.by
                ),
            });
        }
    }
    Ok(())
}

/// What programming a node needs besides the node.
struct Programmer<'a> {
    dev: &'a DeviceFigures,
    seed: u64,
    faults: &'a Faults<'a>,
    /// The highest conductance level.
    top: f64,
    cfg: &'a mut ConfigStats,
    /// On a chip: the tile's non-volatile nodes written and formed.
    writes: Option<&'a mut TileWrites>,
}

/// A tile's nodes as programmed (structure of arrays, sorted by row).
struct Nodes {
    row: Vec<u16>,
    col: Vec<u16>,
    w: Vec<i32>,
    /// Volatile: index into `vparams`.
    vp: Vec<u32>,
    vparams: Vec<VolatileParams>,
    /// Nodes of row r: row_start[r]..row_start[r + 1].
    row_start: Vec<u32>,
    /// Nodes with per-node state (all, or none in a tile of non-volatile
    /// rows only).
    plastic: usize,
}

/// Programs every tile of `bs` (`routers`: every router's entries, whose
/// words count in the configuration cost).
pub(super) fn program(
    arch: &Arch,
    tiles_cfg: &[TileConfig],
    routers: &BTreeMap<Xy, &[RouteEntry]>,
    dev: &DeviceFigures,
    seed: u64,
    faults: &Faults<'_>,
) -> Programmed {
    let top = f64::from(arch.nonvolatile.levels - 1);
    let mut tiles = Vec::with_capacity(tiles_cfg.len());
    let mut cfg = ConfigStats {
        assumption: "tiles configure in parallel; per tile one cycle per table word (neuron parameters, columns, \
                     rows, routing entries) and per pulse (forming, write, verify read); forming at energy.forming_pj, \
                     writes at energy.node_write_pj, verify reads at energy.synop_pj (projected)"
            .into(),
        ..ConfigStats::default()
    };
    let mut node_base = 0u64;
    let mut bank = Bank::default();
    let mut config_cycles = 0u64;
    let mut writes = Vec::new();
    for tc in tiles_cfg {
        let before = cfg.clone();
        let mut tw = TileWrites { x: tc.x, y: tc.y, nodes: Vec::new() };
        let w = faults.chip().is_some().then_some(&mut tw);
        let nodes = Programmer { dev, seed, faults, top, cfg: &mut cfg, writes: w }.nodes(tc, node_base);
        if !tw.nodes.is_empty() {
            tw.nodes.sort_unstable();
            writes.push(tw);
        }
        cfg.programmed_nodes += tc.nodes.len() as u64;
        let pulses = (cfg.forming_pulses - before.forming_pulses)
            + (cfg.write_pulses - before.write_pulses)
            + (cfg.verify_reads - before.verify_reads);
        let words = (tc.params.len() + tc.volatile.len() + tc.stdp.len() + tc.columns.len() + tc.rows.len()) as u64
            + routers.get(&Xy { x: tc.x, y: tc.y }).map_or(0, |e| e.len() as u64);
        cfg.table_words += words;
        config_cycles = config_cycles.max(words + pulses);
        let col_params: Vec<_> = tc.columns.iter().map(|col| tc.params[usize::from(col.params)]).collect();
        let col_lo = bank.len() as u32;
        bank.push_tile(&col_params, tc.columns.iter().map(|c| NeuronState::with_v(c.v_init)));
        let tile = new_tile(arch, dev, tc, nodes, node_base, col_lo);
        node_base += tile.node_w.len() as u64;
        tiles.push(tile);
    }
    let programmed: BTreeSet<Xy> = tiles.iter().map(|t| t.at).collect();
    for (at, e) in routers {
        if !programmed.contains(at) {
            cfg.table_words += e.len() as u64;
            config_cycles = config_cycles.max(e.len() as u64);
        }
    }
    cfg.config_cycles = config_cycles;
    cfg.config_energy_pj = cfg.forming_pulses as f64 * arch.energy.forming_pj
        + cfg.write_pulses as f64 * arch.energy.node_write_pj
        + cfg.verify_reads as f64 * arch.energy.synop_pj;
    Programmed { tiles, bank, config: cfg, writes }
}

/// The crosspoints of `tc` the configuration leaves unprogrammed but that
/// conduct anyway: on a driven non-volatile row and a neuron's column, a
/// device stuck at G_max (level 0 programmed: the fault sets the weight).
/// With the programmed nodes, sorted by (row, col).
fn with_stuck_crosspoints(tc: &TileConfig, faults: &Faults<'_>) -> Vec<Node> {
    if !faults.any_high() {
        return tc.nodes.clone();
    }
    let mut out = Vec::with_capacity(tc.nodes.len());
    let mut programmed = tc.nodes.iter().peekable();
    for (r, row) in tc.rows.iter().enumerate() {
        let r = r as u16;
        for c in 0..tc.columns.len() as u16 {
            if let Some(n) = programmed.next_if(|n| (n.row, n.col) == (r, c)) {
                out.push(*n);
                continue;
            }
            let xp = Crosspoint { x: tc.x, y: tc.y, row: tc.row_line(r), col: tc.col_line(c) };
            let stuck_high = [Side::Plus, Side::Minus].iter().any(|&side| faults.fate(xp, side) == Fate::StuckMax);
            if row.kind == RowKind::NonVolatile && stuck_high {
                out.push(Node { row: r, col: c, level: 0 });
            }
        }
    }
    out
}

impl Programmer<'_> {
    /// Programs the nodes of `tc` (and the stuck crosspoints that conduct
    /// unprogrammed), the first of which has global id `node_base` (for
    /// counter-based noise).
    fn nodes(&mut self, tc: &TileConfig, node_base: u64) -> Nodes {
        let all = with_stuck_crosspoints(tc, self.faults);
        self.cfg.stuck_unprogrammed += (all.len() - tc.nodes.len()) as u64;
        // Sorted by (row, col), each once (validated).
        let nn = all.len();
        // Per-node state of volatile and STDP nodes: none in a tile of
        // non-volatile rows only.
        let plastic = if tc.rows.iter().any(|r| r.kind != RowKind::NonVolatile) { nn } else { 0 };
        let mut out = Nodes {
            row: Vec::with_capacity(nn),
            col: Vec::with_capacity(nn),
            w: vec![0; nn],
            vp: vec![0u32; plastic],
            vparams: tc.volatile.clone(),
            row_start: vec![0u32; tc.rows.len() + 1],
            plastic,
        };
        let mut programmed = tc.nodes.iter().peekable();
        for (k, n) in all.iter().enumerate() {
            let g = node_base + k as u64;
            // A stuck crosspoint the configuration leaves alone is not written.
            let written = programmed.next_if(|p| (p.row, p.col) == (n.row, n.col)).is_some();
            let row = &tc.rows[usize::from(n.row)];
            out.row_start[usize::from(n.row) + 1] += 1;
            out.row.push(n.row);
            out.col.push(n.col);
            let xp = Crosspoint { x: tc.x, y: tc.y, row: tc.row_line(n.row), col: tc.col_line(n.col) };
            let mut w = if written { self.weight(n, row, g, xp) } else { self.stuck_weight(row, xp) };
            match row.kind {
                RowKind::Stdp(pi) => {
                    let p = &tc.stdp[usize::from(pi)];
                    // Validation checked the exact weight; a noisy one may stray.
                    w = w.clamp(p.w_min, p.w_max);
                }
                RowKind::Volatile(vi) => {
                    out.vp[k] = u32::from(vi);
                    if self.dev.d2d_tau_spread > 0.0 || self.dev.d2d_g0_spread > 0.0 {
                        out.vp[k] = out.vparams.len() as u32;
                        out.vparams.push(spread_volatile(&tc.volatile[usize::from(vi)], self.dev, self.seed, g));
                    }
                }
                RowKind::NonVolatile => {}
            }
            out.w[k] = w;
        }
        for r in 0..tc.rows.len() {
            out.row_start[r + 1] += out.row_start[r];
        }
        out
    }

    /// The weight node `n` (of `row`, global id `g`, at crosspoint `xp`)
    /// is programmed to: its level on the row's side of the differential
    /// pair, the other side at G_min; a non-volatile crosspoint's devices
    /// may be stuck (docs/emulator.md, "Stuck crosspoints").
    fn weight(&mut self, n: &Node, row: &Row, g: u64, xp: Crosspoint) -> i32 {
        let nv = row.kind == RowKind::NonVolatile;
        let pulses_before = self.cfg.write_pulses;
        let failed = nv && self.form(g, xp);
        let w = self.written_weight(n, row, g, xp, failed);
        if nv
            && !failed
            && let Some(tw) = self.writes.as_deref_mut()
        {
            tw.nodes.push((xp.row, xp.col, self.cfg.write_pulses - pulses_before));
        }
        w
    }

    /// The weight of node `n` written (after forming, `failed` or not).
    fn written_weight(&mut self, n: &Node, row: &Row, g: u64, xp: Crosspoint, failed: bool) -> i32 {
        let nv = row.kind == RowKind::NonVolatile;
        let fates = if nv { self.fates(xp) } else { [Fate::Healthy; 2] };
        let on = if row.negative { Side::Minus } else { Side::Plus };
        let level = match failed {
            true => {
                self.cfg.write_pulses += 1;
                Some(0.0)
            }
            false if fates[on as usize] != Fate::Healthy => {
                // Written, to no effect.
                self.cfg.write_pulses += 1;
                None
            }
            false if self.dev.program_error > 0.0 => Some(self.write_verify(g, n.level)),
            false => {
                self.cfg.write_pulses += 1;
                None
            }
        };
        if fates != [Fate::Healthy; 2] {
            let programmed = level.unwrap_or(f64::from(n.level));
            let l = fpnna_arch::effective_level(programmed, on, fates, self.top);
            return noise::scale_i32(row.scale, l);
        }
        let w = match level {
            None => m::saturate(i64::from(n.level) * i64::from(row.scale)),
            Some(l) => noise::scale_i32(row.scale, l),
        };
        if row.negative { m::saturate(-i64::from(w)) } else { w }
    }

    /// The weight of an unprogrammed crosspoint that conducts because a
    /// device is stuck at G_max.
    fn stuck_weight(&mut self, row: &Row, xp: Crosspoint) -> i32 {
        let fates = self.fates(xp);
        noise::scale_i32(row.scale, fpnna_arch::effective_level(0.0, Side::Plus, fates, self.top))
    }

    /// The fates of both devices at crosspoint `xp`, counted.
    fn fates(&mut self, xp: Crosspoint) -> [Fate; 2] {
        if !self.faults.any() {
            return [Fate::Healthy; 2];
        }
        let fates = [Side::Plus, Side::Minus].map(|side| self.faults.fate(xp, side));
        for f in fates {
            self.cfg.stuck_at_min += u64::from(f == Fate::StuckMin);
            self.cfg.stuck_at_max += u64::from(f == Fate::StuckMax);
        }
        fates
    }

    /// Forms non-volatile node `g` at `xp` unless the chip's crosspoint is
    /// formed already (then it is only reprogrammed): whether forming
    /// failed (the device is then stuck at G_min, and stays virgin).
    fn form(&mut self, g: u64, xp: Crosspoint) -> bool {
        let (dev, seed, cfg) = (self.dev, self.seed, &mut *self.cfg);
        if self.faults.chip().is_some_and(|c| c.formed_at(xp).is_some()) {
            cfg.reused_nodes += 1;
            return false;
        }
        cfg.forming_pulses += 1;
        let failed = dev.forming_yield < 1.0 && noise::uniform(seed, noise::FORMING, g, 0) >= dev.forming_yield;
        cfg.forming_failures += u64::from(failed);
        cfg.formed_nodes += u64::from(!failed);
        failed
    }

    /// The level node `g` reaches when written to `level` with a write
    /// error, verified and rewritten up to `write_verify_max` times.
    fn write_verify(&mut self, g: u64, level: u16) -> f64 {
        let (dev, cfg) = (self.dev, &mut *self.cfg);
        let sigma = dev.program_error * self.top;
        let mut err = 0.0;
        for it in 1..=u64::from(dev.write_verify_max.max(1)) {
            err = sigma * noise::gauss(self.seed, noise::PROGRAM, g, it);
            cfg.write_pulses += 1;
            cfg.verify_reads += u64::from(dev.write_verify_max > 0);
            if err.abs() <= 0.5 {
                break;
            }
        }
        (f64::from(level) + err).clamp(0.0, self.top)
    }
}

/// Volatile parameters of one node with device-to-device spread.
fn spread_volatile(p: &VolatileParams, dev: &DeviceFigures, seed: u64, g: u64) -> VolatileParams {
    let mut q = *p;
    if dev.d2d_tau_spread > 0.0 && p.decay > 0 && p.decay < DECAY_ONE {
        // tau in steps from the decay factor, perturbed, back to a factor.
        let tau = -1.0 / (1.0 - f64::from(p.decay) / f64::from(DECAY_ONE)).ln();
        let f = 1.0 + dev.d2d_tau_spread * noise::gauss(seed, noise::D2D_TAU, g, 0);
        q.decay = m::decay_from_tau((tau * f).max(1e-3), 1.0);
    }
    if dev.d2d_g0_spread > 0.0 {
        // facil = Gsat / G0 - 1; G0 -> G0 (1 + e).
        let e = (dev.d2d_g0_spread * noise::gauss(seed, noise::D2D_G0, g, 0)).max(-0.9);
        let f = (1.0 + m::from_fixed(p.facil)) / (1.0 + e) - 1.0;
        q.facil = m::to_fixed(f).unwrap_or(p.facil);
    }
    q
}

/// The nodes of `tc` on rows that `want` selects, by column (CSR: column
/// c's are `list[start[c]..start[c + 1]]`); empty without plastic nodes.
fn column_index(tc: &TileConfig, nodes: &Nodes, want: impl Fn(RowKind) -> bool) -> (Vec<u32>, Vec<u32>) {
    let ncol = tc.columns.len();
    let mut start = vec![0u32; ncol + 1];
    if nodes.plastic == 0 || !tc.rows.iter().any(|r| want(r.kind)) {
        return (start, Vec::new());
    }
    let selected = |k: usize| want(tc.rows[usize::from(nodes.row[k])].kind);
    for k in (0..nodes.row.len()).filter(|&k| selected(k)) {
        start[usize::from(nodes.col[k]) + 1] += 1;
    }
    for c in 0..ncol {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut list = vec![0u32; start[ncol] as usize];
    for k in (0..nodes.row.len()).filter(|&k| selected(k)) {
        let c = usize::from(nodes.col[k]);
        list[fill[c] as usize] = k as u32;
        fill[c] += 1;
    }
    (start, list)
}

/// The run-time tile of `tc`, with its programmed `nodes`; its columns
/// are the bank's from `col_lo` on.
fn new_tile(arch: &Arch, dev: &DeviceFigures, tc: &TileConfig, nodes: Nodes, node_base: u64, col_lo: u32) -> Tile {
    let (col_stdp_start, col_stdp) = column_index(tc, &nodes, |k| matches!(k, RowKind::Stdp(_)));
    let (col_vol_start, col_vol) = column_index(tc, &nodes, |k| matches!(k, RowKind::Volatile(_)));
    let (ncol, nstdp, plastic) = (tc.columns.len(), tc.stdp.len(), nodes.plastic);
    Tile {
        at: Xy { x: tc.x, y: tc.y },
        node_base,
        col_key: tc.columns.iter().map(|c| c.key).collect(),
        col_lo,
        row_delay: tc.rows.iter().map(|r| r.delay).collect(),
        row_kind: tc.rows.iter().map(|r| r.kind).collect(),
        row_start: nodes.row_start,
        row_key: tc.rows.iter().map(|r| r.key).collect(),
        node_row: nodes.row,
        node_col: nodes.col,
        node_w0: if tc.stdp.iter().any(|p| p.relax != 0) { nodes.w.clone() } else { Vec::new() },
        node_w: nodes.w,
        node_x: vec![0; plastic],
        node_t: vec![0; plastic],
        node_vp: nodes.vp,
        vparams: nodes.vparams,
        stdp: tc.stdp.clone(),
        post: vec![0; ncol * nstdp],
        post_t: vec![0; ncol * nstdp],
        col_stdp_start,
        col_stdp,
        col_vol_start,
        col_vol,
        direct_nv: !dev.noisy_reads(),
        carry: Vec::new(),
        rows_read: 0,
        syn: 0,
        writes: 0,
        update_cycles: (ncol as u64).div_ceil(u64::from(arch.timing.neurons_per_cycle)),
        act: TileActivity { x: tc.x, y: tc.y, ..TileActivity::default() },
    }
}
