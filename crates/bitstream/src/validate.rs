//! Semantic checks of a configuration against its embedded architecture:
//! everything the hardware (and the emulator) relies on, so that a decoded
//! bitstream can be indexed without further checks.

use crate::config::*;
use crate::error::{BitstreamError, Place, TileItem};
use fpnna_arch::Arch;
use fpnna_model::{DECAY_ONE, Generator};

/// Checks a configuration against its embedded architecture: coordinates in
/// the grid, sizes within the tile, indices in range, sorted and unique
/// nodes, tiles and routers. [`crate::decode`] runs it; the compiler should
/// run it before writing.
pub fn validate(b: &Bitstream) -> Result<(), BitstreamError> {
    b.arch.validate("<embedded architecture>").map_err(|e| BitstreamError::InvalidArch(e.to_string()))?;
    let bad = |place: Place, what: String| Err(BitstreamError::Invalid { place, what });
    let g = &b.global;
    if !(g.dt_ms.is_finite() && g.dt_ms > 0.0) {
        return bad(Place::Global, format!("dt_ms = {:?} must be a positive finite number", g.dt_ms));
    }
    let mut prev: Option<(u16, u16)> = None;
    for (index, t) in b.tiles.iter().enumerate() {
        let place = Place::Tile { index, x: t.x, y: t.y, item: None };
        check_in_grid(&b.arch, t.x, t.y).or_else(|what| bad(place.clone(), what))?;
        if let Some((py, px)) = prev.filter(|&p| p >= (t.y, t.x)) {
            return bad(
                place,
                format!("follows tile ({px}, {py}): tiles must be sorted by (y, x), each tile at most once"),
            );
        }
        prev = Some((t.y, t.x));
        check_tile(&b.arch, g, t).or_else(|(item, what)| bad(Place::Tile { index, x: t.x, y: t.y, item }, what))?;
    }
    let mut prev: Option<(u16, u16)> = None;
    for (index, r) in b.routers.iter().enumerate() {
        let place = |entry| Place::Router { index, x: r.x, y: r.y, entry };
        check_in_grid(&b.arch, r.x, r.y).or_else(|what| bad(place(None), what))?;
        if let Some((py, px)) = prev.filter(|&p| p >= (r.y, r.x)) {
            return bad(
                place(None),
                format!("follows router ({px}, {py}): routers must be sorted by (y, x), each router at most once"),
            );
        }
        prev = Some((r.y, r.x));
        let cap = b.arch.router.table_entries;
        if r.entries.len() as u64 > u64::from(cap) {
            return bad(place(None), format!("{} entries exceed arch.router.table_entries = {cap}", r.entries.len()));
        }
        debug_assert_eq!(routes_ok(&b.arch, r), r.entries.iter().all(|e| check_route(&b.arch, r, e).is_ok()));
        if !routes_ok(&b.arch, r) {
            for (e, entry) in r.entries.iter().enumerate() {
                check_route(&b.arch, r, entry).or_else(|what| bad(place(Some(e)), what))?;
            }
        }
    }
    for (index, p) in b.ports.iter().enumerate() {
        let place = Place::Port { index, name: p.name.clone() };
        check_in_grid(&b.arch, p.x, p.y).or_else(|what| bad(place.clone(), what))?;
        check_key_range(g, p.key_base, p.size).or_else(|what| bad(place.clone(), what))?;
        match p.kind {
            PortKind::Generator(Generator::Regular { period: 0, .. }) => {
                return bad(place, "regular generator with period 0 (must be >= 1)".into());
            }
            PortKind::Generator(Generator::Poisson { p, .. }) if p > 1 << 32 => {
                return bad(place, format!("poisson probability p = {p} exceeds 2^32 (probability 1)"));
            }
            _ => {}
        }
    }
    for (index, s) in b.symbols.iter().enumerate() {
        let place = Place::Symbol { index, name: s.name.clone() };
        check_key_range(g, s.key_base, s.size).or_else(|what| bad(place, what))?;
    }
    Ok(())
}

fn check_in_grid(arch: &Arch, x: u16, y: u16) -> Result<(), String> {
    let (w, h) = (arch.grid.width, arch.grid.height);
    if x >= w || y >= h {
        return Err(format!("coordinates ({x}, {y}) outside the {w}x{h} grid of `{}`", arch.name));
    }
    Ok(())
}

fn check_key_range(g: &Global, key_base: u32, size: u32) -> Result<(), String> {
    if u64::from(key_base) + u64::from(size) > u64::from(g.key_count) {
        return Err(format!(
            "keys {key_base}..{} exceed global.key_count = {}",
            u64::from(key_base) + u64::from(size),
            g.key_count
        ));
    }
    Ok(())
}

fn check_decay(name: &str, d: u16) -> Result<(), String> {
    if d > DECAY_ONE {
        return Err(format!("{name} = {d} exceeds {DECAY_ONE} (a decay is a fraction of {DECAY_ONE})"));
    }
    Ok(())
}

type ItemResult = Result<(), (Option<TileItem>, String)>;

fn check_tile(arch: &Arch, g: &Global, t: &TileConfig) -> ItemResult {
    let at = |item: TileItem| move |what: String| (Some(item), what);
    if t.rows.len() > usize::from(arch.tile.rows) {
        return Err((None, format!("{} rows exceed arch.tile.rows = {}", t.rows.len(), arch.tile.rows)));
    }
    if t.columns.len() > usize::from(arch.tile.cols) {
        return Err((None, format!("{} columns exceed arch.tile.cols = {}", t.columns.len(), arch.tile.cols)));
    }
    for (i, p) in t.params.iter().enumerate() {
        check_decay("decay_i", p.decay_i).map_err(at(TileItem::Param(i)))?;
        check_decay("decay_v", p.decay_v).map_err(at(TileItem::Param(i)))?;
        if p.refractory > arch.neuron.max_refractory {
            let what = format!(
                "refractory = {} exceeds arch.neuron.max_refractory = {}",
                p.refractory, arch.neuron.max_refractory
            );
            return Err((Some(TileItem::Param(i)), what));
        }
    }
    for (i, v) in t.volatile.iter().enumerate() {
        check_decay("decay", v.decay).map_err(at(TileItem::Volatile(i)))?;
    }
    for (i, s) in t.stdp.iter().enumerate() {
        check_decay("decay_plus", s.decay_plus).map_err(at(TileItem::Stdp(i)))?;
        check_decay("decay_minus", s.decay_minus).map_err(at(TileItem::Stdp(i)))?;
        if !(0 <= s.w_min && s.w_min <= s.w_max) {
            let what = format!("needs 0 <= w_min <= w_max, got w_min = {}, w_max = {}", s.w_min, s.w_max);
            return Err((Some(TileItem::Stdp(i)), what));
        }
    }
    for (i, c) in t.columns.iter().enumerate() {
        let err = |what: String| Err((Some(TileItem::Column(i)), what));
        if c.key >= g.key_count {
            return err(format!("key {} is not below global.key_count = {}", c.key, g.key_count));
        }
        if usize::from(c.params) >= t.params.len() {
            return err(format!("params index {} out of range (the tile has {} params)", c.params, t.params.len()));
        }
    }
    // The fast checks say whether the detailed ones pass (tests run both).
    debug_assert_eq!(rows_ok(arch, g, t), check_rows(arch, g, t).is_ok());
    if !rows_ok(arch, g, t) {
        check_rows(arch, g, t)?;
    }
    debug_assert_eq!(nodes_ok(arch, t), check_nodes(arch, t).is_ok());
    if !nodes_ok(arch, t) {
        check_nodes(arch, t)?;
    }
    Ok(())
}

/// Whether every row passes [`check_rows`]: one branch-free pass, so that
/// the common case (no error) is fast; `check_rows` finds the error.
fn rows_ok(arch: &Arch, g: &Global, t: &TileConfig) -> bool {
    let (nv, vol, stdp) = (arch.tile.nonvolatile_nodes, t.volatile.len(), t.stdp.len());
    let vol_ok = arch.tile.volatile_nodes;
    let each = t.rows.iter().fold(true, |ok, r| {
        let kind_ok = match r.kind {
            RowKind::NonVolatile => nv,
            RowKind::Volatile(p) => vol_ok & (usize::from(p) < vol),
            RowKind::Stdp(p) => vol_ok & (usize::from(p) < stdp),
        };
        ok & (r.key < g.key_count) & (r.delay != 0) & (r.delay <= arch.tile.max_delay) & kind_ok
    });
    each && t.rows.is_sorted_by_key(Row::order)
}

/// Whether every node passes [`check_nodes`] (see [`rows_ok`]).
fn nodes_ok(arch: &Arch, t: &TileConfig) -> bool {
    let (rows, cols, levels) = (t.rows.len(), t.columns.len(), arch.nonvolatile.levels);
    let mut ok = true;
    // 1 + (row, col) of the previous node as one number, 0 before the first.
    let mut prev = 0u64;
    for n in &t.nodes {
        let place = ((u64::from(n.row) << 16) | u64::from(n.col)) + 1;
        ok &= (usize::from(n.row) < rows) & (usize::from(n.col) < cols) & (n.level < levels) & (place > prev);
        prev = place;
    }
    ok
}

fn check_rows(arch: &Arch, g: &Global, t: &TileConfig) -> ItemResult {
    for (i, r) in t.rows.iter().enumerate() {
        let err = |what: String| Err((Some(TileItem::Row(i)), what));
        if r.key >= g.key_count {
            return err(format!("key {} is not below global.key_count = {}", r.key, g.key_count));
        }
        if r.delay == 0 || r.delay > arch.tile.max_delay {
            return err(format!("delay {} outside 1..={} (arch.tile.max_delay)", r.delay, arch.tile.max_delay));
        }
        let (volatile, profile, count, name) = match r.kind {
            RowKind::NonVolatile => (false, 0, 1, ""),
            RowKind::Volatile(p) => (true, p, t.volatile.len(), "volatile"),
            RowKind::Stdp(p) => (true, p, t.stdp.len(), "stdp"),
        };
        if usize::from(profile) >= count {
            return err(format!("{name} profile {profile} out of range (the tile has {count})"));
        }
        if volatile && !arch.tile.volatile_nodes {
            return err(format!("{name} row, but arch.tile.volatile_nodes = false"));
        }
        if !volatile && !arch.tile.nonvolatile_nodes {
            return err("nonvolatile row, but arch.tile.nonvolatile_nodes = false".into());
        }
        if i > 0 && r.order() < t.rows[i - 1].order() {
            return err("rows must be sorted by (key, delay, sign, kind)".into());
        }
    }
    Ok(())
}

fn check_nodes(arch: &Arch, t: &TileConfig) -> ItemResult {
    let mut prev: Option<(u16, u16)> = None;
    for (i, n) in t.nodes.iter().enumerate() {
        let err = |what: String| Err((Some(TileItem::Node(i)), what));
        if usize::from(n.row) >= t.rows.len() {
            return err(format!("row {} out of range (the tile uses {} rows)", n.row, t.rows.len()));
        }
        if usize::from(n.col) >= t.columns.len() {
            return err(format!("column {} out of range (the tile uses {} columns)", n.col, t.columns.len()));
        }
        if n.level >= arch.nonvolatile.levels {
            let what = format!(
                "(row {}, col {}) level {} is not below arch.nonvolatile.levels = {}",
                n.row, n.col, n.level, arch.nonvolatile.levels
            );
            return err(what);
        }
        if let Some(p) = prev.filter(|&p| p >= (n.row, n.col)) {
            let what = if p == (n.row, n.col) { "duplicate node" } else { "nodes must be sorted by (row, col)" };
            return err(format!("(row {}, col {}) follows (row {}, col {}): {what}", n.row, n.col, p.0, p.1));
        }
        prev = Some((n.row, n.col));
    }
    Ok(())
}

/// Whether every entry of `r` passes [`check_route`]: one branch-free pass
/// for the common case; `check_route` finds the error.
fn routes_ok(arch: &Arch, r: &RouterConfig) -> bool {
    // Directions allowed at this router: the five, minus those off the grid.
    let mut allowed = dir::EAST | dir::NORTH | dir::WEST | dir::SOUTH | dir::LOCAL;
    if u32::from(r.x) + 1 >= u32::from(arch.grid.width) {
        allowed &= !dir::EAST;
    }
    if u32::from(r.y) + 1 >= u32::from(arch.grid.height) {
        allowed &= !dir::NORTH;
    }
    if r.x == 0 {
        allowed &= !dir::WEST;
    }
    if r.y == 0 {
        allowed &= !dir::SOUTH;
    }
    r.entries.iter().fold(true, |ok, e| ok & (e.out & !allowed == 0) & (e.value & !e.mask == 0))
}

fn check_route(arch: &Arch, r: &RouterConfig, e: &RouteEntry) -> Result<(), String> {
    const ALL: u8 = dir::EAST | dir::NORTH | dir::WEST | dir::SOUTH | dir::LOCAL;
    if e.out & !ALL != 0 {
        return Err(format!("out = {:#04x} has bits outside the five directions ({ALL:#04x})", e.out));
    }
    let off_grid = [
        (dir::EAST, "east", u32::from(r.x) + 1 >= u32::from(arch.grid.width)),
        (dir::NORTH, "north", u32::from(r.y) + 1 >= u32::from(arch.grid.height)),
        (dir::WEST, "west", r.x == 0),
        (dir::SOUTH, "south", r.y == 0),
    ];
    for (bit, name, edge) in off_grid {
        if e.out & bit != 0 && edge {
            return Err(format!("routes {name}, off the edge of the grid"));
        }
    }
    if e.value & !e.mask != 0 {
        return Err(format!(
            "value {:#010x} has bits outside mask {:#010x}, so the entry never matches",
            e.value, e.mask
        ));
    }
    Ok(())
}
