//! Semantic checks of a configuration against its embedded architecture:
//! everything the hardware (and the emulator) relies on, so that a
//! [`Validated`] bitstream can be indexed without further checks. Every
//! error is collected (up to [`MAX_ERRORS`]), each with its place.

use crate::config::*;
use crate::error::{BitstreamError, Place, Problem, TileItem};
use crate::mesh::{Dir, Grid};
use fpnna_arch::Arch;
use fpnna_model::{self as m, DECAY_ONE, Generator};
use std::ops::Deref;
use std::sync::OnceLock;

/// Most errors one validation lists; further ones are only counted.
pub const MAX_ERRORS: usize = 100;

/// A configuration that passed validation. Only [`Validated::new`] (and so
/// [`validate`], [`crate::decode`], [`crate::assemble`]) makes one, so a
/// holder may index it without further checks.
#[derive(Clone, Debug)]
pub struct Validated(Bitstream, OnceLock<u64>);

impl Validated {
    /// Checks `b` against its embedded architecture (see [`validate`]).
    pub fn new(b: Bitstream) -> Result<Validated, BitstreamError> {
        check(&b)?;
        Ok(Validated(b, OnceLock::new()))
    }

    /// Vouches for `b` without checking it: only with the `unchecked`
    /// feature, for tests that feed a reader what validation refuses.
    #[cfg(feature = "unchecked")]
    #[doc(hidden)]
    pub fn assume_valid(b: Bitstream) -> Validated {
        Validated(b, OnceLock::new())
    }

    /// The configuration.
    pub fn bitstream(&self) -> &Bitstream {
        &self.0
    }

    /// The configuration, no longer vouched for (to edit it).
    pub fn into_inner(self) -> Bitstream {
        self.0
    }

    /// The identity of the whole configuration: the FNV-1a hash of its
    /// encoding ([`fpnna_arch::content_hash`]; every field of every
    /// section, the encoding being canonical). The whole-file CRC cannot
    /// serve: a payload followed by its own CRC leaves it unchanged. Taken
    /// from the bytes when decoded, else encoded once.
    pub fn content_hash(&self) -> u64 {
        *self.1.get_or_init(|| fpnna_arch::content_hash(&crate::encode(&self.0)))
    }

    /// Records the content hash of the bytes it was decoded from.
    pub(crate) fn with_hash(self, hash: u64) -> Validated {
        let _ = self.1.set(hash);
        self
    }
}

impl PartialEq for Validated {
    fn eq(&self, other: &Validated) -> bool {
        self.0 == other.0
    }
}

impl Deref for Validated {
    type Target = Bitstream;

    fn deref(&self) -> &Bitstream {
        &self.0
    }
}

impl AsRef<Bitstream> for Validated {
    fn as_ref(&self) -> &Bitstream {
        &self.0
    }
}

impl PartialEq<Bitstream> for Validated {
    fn eq(&self, other: &Bitstream) -> bool {
        self.0 == *other
    }
}

/// Checks a configuration against its embedded architecture: coordinates in
/// the grid, sizes within the tile, indices in range, sorted and unique
/// nodes, tiles and routers, every key driven by one source, STDP weights
/// and rates within their bounds. One error is a [`BitstreamError::Invalid`];
/// several are a [`BitstreamError::InvalidList`], in the order found.
pub fn validate(b: Bitstream) -> Result<Validated, BitstreamError> {
    Validated::new(b)
}

/// The errors found so far: the first [`MAX_ERRORS`], and a count of the rest.
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    fn push(&mut self, place: Place, what: String) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(Problem { place, what });
        } else {
            self.more += 1;
        }
    }

    fn into_result(mut self) -> Result<(), BitstreamError> {
        match self.list.len() {
            0 => Ok(()),
            1 if self.more == 0 => {
                let Problem { place, what } = self.list.remove(0);
                Err(BitstreamError::Invalid { place, what })
            }
            _ => Err(BitstreamError::InvalidList { errors: self.list, more: self.more }),
        }
    }
}

/// [`validate`] without taking the configuration.
fn check(b: &Bitstream) -> Result<(), BitstreamError> {
    // Nothing else can be checked against an impossible architecture.
    b.arch.validate("<embedded architecture>").map_err(|e| BitstreamError::InvalidArch(e.to_string()))?;
    let mut out = Problems::default();
    let g = &b.global;
    if !(g.dt_ms.is_finite() && g.dt_ms > 0.0) {
        out.push(Place::Global, format!("dt_ms = {:?} must be a positive finite number", g.dt_ms));
    }
    check_tiles(b, &mut out);
    check_routers(b, &mut out);
    check_ports(b, &mut out);
    for (index, s) in b.symbols.iter().enumerate() {
        if let Some(what) = fpnna_model::names::refuse_name(&s.name) {
            out.push(Place::Symbol { index, name: s.name.clone() }, what);
        }
        if let Err(what) = check_key_range(g, s.key_base, s.size) {
            out.push(Place::Symbol { index, name: s.name.clone() }, what);
        }
    }
    check_sources(b, &mut out);
    out.into_result()
}

fn check_tiles(b: &Bitstream, out: &mut Problems) {
    let mut prev: Option<(u16, u16)> = None;
    for (index, t) in b.tiles.iter().enumerate() {
        let place = Place::Tile { index, x: t.x, y: t.y, item: None };
        if let Err(what) = check_in_grid(&b.arch, t.x, t.y) {
            out.push(place.clone(), what);
        }
        if let Some((py, px)) = prev.filter(|&p| p >= (t.y, t.x)) {
            let what = format!("follows tile ({px}, {py}): tiles must be sorted by (y, x), each tile at most once");
            out.push(place, what);
        }
        prev = Some((t.y, t.x));
        for (item, what) in check_tile(&b.arch, &b.global, t) {
            out.push(Place::Tile { index, x: t.x, y: t.y, item }, what);
        }
    }
}

fn check_routers(b: &Bitstream, out: &mut Problems) {
    let mut prev: Option<(u16, u16)> = None;
    for (index, r) in b.routers.iter().enumerate() {
        let place = |entry| Place::Router { index, x: r.x, y: r.y, entry };
        if let Err(what) = check_in_grid(&b.arch, r.x, r.y) {
            out.push(place(None), what);
        }
        if let Some((py, px)) = prev.filter(|&p| p >= (r.y, r.x)) {
            let what =
                format!("follows router ({px}, {py}): routers must be sorted by (y, x), each router at most once");
            out.push(place(None), what);
        }
        prev = Some((r.y, r.x));
        let cap = b.arch.router.table_entries;
        if r.entries.len() as u64 > u64::from(cap) {
            out.push(place(None), format!("{} entries exceed arch.router.table_entries = {cap}", r.entries.len()));
        }
        debug_assert_eq!(routes_ok(&b.arch, r), r.entries.iter().all(|e| check_route(&b.arch, r, e).is_ok()));
        if !routes_ok(&b.arch, r) {
            for (e, entry) in r.entries.iter().enumerate() {
                if let Err(what) = check_route(&b.arch, r, entry) {
                    out.push(place(Some(e)), what);
                }
            }
        }
    }
}

fn check_ports(b: &Bitstream, out: &mut Problems) {
    for (index, p) in b.ports.iter().enumerate() {
        let place = || Place::Port { index, name: p.name.clone() };
        if let Some(what) = fpnna_model::names::refuse_name(&p.name) {
            out.push(place(), what);
        }
        if let Err(what) = check_in_grid(&b.arch, p.x, p.y) {
            out.push(place(), what);
        }
        if let Err(what) = check_key_range(&b.global, p.key_base, p.size) {
            out.push(place(), what);
        }
        match p.kind {
            PortKind::Generator(Generator::Regular { period: 0, .. }) => {
                out.push(place(), "regular generator with period 0 (must be >= 1)".into());
            }
            PortKind::Generator(Generator::Poisson { p, .. }) if p > 1 << 32 => {
                out.push(place(), format!("poisson probability p = {p} exceeds 2^32 (probability 1)"));
            }
            _ => {}
        }
    }
}

/// Every key has at most one source: a neuron column, or a channel of an
/// input or generator port (the emulator injects each source's spikes
/// once). Compared as key ranges, so that the work is bounded by the
/// configuration's size, not by its port sizes.
fn check_sources(b: &Bitstream, out: &mut Problems) {
    // (first key, end, place) of every source range.
    let mut ranges: Vec<(u64, u64, Place)> = Vec::new();
    for (index, t) in b.tiles.iter().enumerate() {
        for (c, col) in t.columns.iter().enumerate() {
            let place = Place::Tile { index, x: t.x, y: t.y, item: Some(TileItem::Column(c)) };
            ranges.push((u64::from(col.key), u64::from(col.key) + 1, place));
        }
    }
    for (index, p) in b.ports.iter().enumerate() {
        if matches!(p.kind, PortKind::Input | PortKind::Generator(_)) && p.size > 0 {
            let place = Place::Port { index, name: p.name.clone() };
            ranges.push((u64::from(p.key_base), u64::from(p.key_base) + u64::from(p.size), place));
        }
    }
    // Stable: sources of one key keep configuration order.
    ranges.sort_by_key(|r| r.0);
    let mut widest: Option<usize> = None;
    for i in 0..ranges.len() {
        if let Some(w) = widest.filter(|&w| ranges[w].1 > ranges[i].0) {
            let what = format!(
                "key {} is also driven by {}: a key has one source (a neuron or a port channel)",
                ranges[i].0, ranges[w].2
            );
            out.push(ranges[i].2.clone(), what);
        }
        if widest.is_none_or(|w| ranges[i].1 > ranges[w].1) {
            widest = Some(i);
        }
    }
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

/// Errors of a tile: the item concerned (`None`: the tile) and why.
type TileProblems = Vec<(Option<TileItem>, String)>;

fn check_tile(arch: &Arch, g: &Global, t: &TileConfig) -> TileProblems {
    let mut out = TileProblems::new();
    if t.rows.len() > usize::from(arch.tile.rows) {
        out.push((None, format!("{} rows exceed arch.tile.rows = {}", t.rows.len(), arch.tile.rows)));
    }
    if t.columns.len() > usize::from(arch.tile.cols) {
        out.push((None, format!("{} columns exceed arch.tile.cols = {}", t.columns.len(), arch.tile.cols)));
    }
    check_profiles(arch, t, &mut out);
    check_lines("row", &t.row_lines, t.rows.len(), arch.tile.rows, &mut out);
    check_lines("column", &t.col_lines, t.columns.len(), arch.tile.cols, &mut out);
    for (i, c) in t.columns.iter().enumerate() {
        let at = Some(TileItem::Column(i));
        if c.key >= g.key_count {
            out.push((at, format!("key {} is not below global.key_count = {}", c.key, g.key_count)));
        }
        if usize::from(c.params) >= t.params.len() {
            let what = format!("params index {} out of range (the tile has {} params)", c.params, t.params.len());
            out.push((at, what));
        }
    }
    // The fast checks say whether the detailed ones pass (tests run both).
    debug_assert_eq!(rows_ok(arch, g, t), check_rows(arch, g, t).is_empty());
    if !rows_ok(arch, g, t) {
        out.extend(check_rows(arch, g, t));
    }
    debug_assert_eq!(nodes_ok(arch, t), check_nodes(arch, t).is_empty());
    if !nodes_ok(arch, t) {
        out.extend(check_nodes(arch, t));
    }
    if !t.stdp.is_empty() {
        out.extend(check_stdp_weights(t));
    }
    out
}

/// A tile's physical line map (`what`: row or column): empty, or one
/// distinct line below `lines` per item.
fn check_lines(what: &str, map: &[u16], items: usize, lines: u16, out: &mut TileProblems) {
    if map.is_empty() {
        return;
    }
    if map.len() != items {
        out.push((None, format!("{} {what} lines given for {items} {what}s", map.len())));
        return;
    }
    let mut seen = vec![false; usize::from(lines)];
    for (i, &l) in map.iter().enumerate() {
        match seen.get_mut(usize::from(l)) {
            None => out.push((None, format!("{what} {i} on line {l}: the tile has {lines} {what} lines"))),
            Some(true) => out.push((None, format!("{what} {i} on line {l}, which another {what} already uses"))),
            Some(s) => *s = true,
        }
    }
}

/// The parameter tables: decays are fractions, refractory periods fit the
/// counter, STDP bounds are ordered and its rates cannot overflow.
fn check_profiles(arch: &Arch, t: &TileConfig, out: &mut TileProblems) {
    for (i, p) in t.params.iter().enumerate() {
        decay(out, TileItem::Param(i), "decay_i", p.decay_i);
        decay(out, TileItem::Param(i), "decay_v", p.decay_v);
        decay(out, TileItem::Param(i), "theta_decay", p.theta_decay);
        if p.theta_step < 0 {
            out.push((Some(TileItem::Param(i)), format!("theta_step = {} is negative", p.theta_step)));
        }
        if p.refractory > arch.neuron.max_refractory {
            let what = format!(
                "refractory = {} exceeds arch.neuron.max_refractory = {}",
                p.refractory, arch.neuron.max_refractory
            );
            out.push((Some(TileItem::Param(i)), what));
        }
    }
    for (i, v) in t.volatile.iter().enumerate() {
        decay(out, TileItem::Volatile(i), "decay", v.decay);
    }
    for (i, s) in t.stdp.iter().enumerate() {
        decay(out, TileItem::Stdp(i), "decay_plus", s.decay_plus);
        decay(out, TileItem::Stdp(i), "decay_minus", s.decay_minus);
        if !(0 <= s.w_min && s.w_min <= s.w_max) {
            let what = format!("needs 0 <= w_min <= w_max, got w_min = {}, w_max = {}", s.w_min, s.w_max);
            out.push((Some(TileItem::Stdp(i)), what));
        }
        // Soft bounds multiply a change (up to |a| * 64) by the weight range in i64.
        let range = i128::from(s.w_max) - i128::from(s.w_min);
        let a = i128::from(s.a_plus.unsigned_abs().max(s.a_minus.unsigned_abs()));
        if a * 64 * range >= 1 << 62 {
            let what = "a_plus or a_minus is too large for the weight range (the update overflows)".to_string();
            out.push((Some(TileItem::Stdp(i)), what));
        }
    }
}

fn decay(out: &mut TileProblems, item: TileItem, name: &str, d: u16) {
    if let Err(what) = check_decay(name, d) {
        out.push((Some(item), what));
    }
}

/// Whether every row passes [`check_rows`]: one branch-free pass, so that
/// the common case (no error) is fast; `check_rows` finds the errors.
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

fn check_rows(arch: &Arch, g: &Global, t: &TileConfig) -> TileProblems {
    let mut out = TileProblems::new();
    for (i, r) in t.rows.iter().enumerate() {
        let mut err = |what: String| out.push((Some(TileItem::Row(i)), what));
        if r.key >= g.key_count {
            err(format!("key {} is not below global.key_count = {}", r.key, g.key_count));
        }
        if r.delay == 0 || r.delay > arch.tile.max_delay {
            err(format!("delay {} outside 1..={} (arch.tile.max_delay)", r.delay, arch.tile.max_delay));
        }
        let (volatile, profile, count, name) = match r.kind {
            RowKind::NonVolatile => (false, 0, 1, ""),
            RowKind::Volatile(p) => (true, p, t.volatile.len(), "volatile"),
            RowKind::Stdp(p) => (true, p, t.stdp.len(), "stdp"),
        };
        if usize::from(profile) >= count {
            err(format!("{name} profile {profile} out of range (the tile has {count})"));
        }
        if volatile && !arch.tile.volatile_nodes {
            err(format!("{name} row, but arch.tile.volatile_nodes = false"));
        }
        if !volatile && !arch.tile.nonvolatile_nodes {
            err("nonvolatile row, but arch.tile.nonvolatile_nodes = false".into());
        }
        if i > 0 && r.order() < t.rows[i - 1].order() {
            err("rows must be sorted by (key, delay, sign, kind)".into());
        }
    }
    out
}

fn check_nodes(arch: &Arch, t: &TileConfig) -> TileProblems {
    let mut out = TileProblems::new();
    let mut prev: Option<(u16, u16)> = None;
    for (i, n) in t.nodes.iter().enumerate() {
        let mut err = |what: String| out.push((Some(TileItem::Node(i)), what));
        if usize::from(n.row) >= t.rows.len() {
            err(format!("row {} out of range (the tile uses {} rows)", n.row, t.rows.len()));
        }
        if usize::from(n.col) >= t.columns.len() {
            err(format!("column {} out of range (the tile uses {} columns)", n.col, t.columns.len()));
        }
        if n.level >= arch.nonvolatile.levels {
            err(format!(
                "(row {}, col {}) level {} is not below arch.nonvolatile.levels = {}",
                n.row, n.col, n.level, arch.nonvolatile.levels
            ));
        }
        if let Some(p) = prev.filter(|&p| p >= (n.row, n.col)) {
            let what = if p == (n.row, n.col) { "duplicate node" } else { "nodes must be sorted by (row, col)" };
            err(format!("(row {}, col {}) follows (row {}, col {}): {what}", n.row, n.col, p.0, p.1));
        }
        prev = Some((n.row, n.col));
    }
    out
}

/// Nodes of STDP rows start within their profile's bounds: the weight
/// programmed (level * scale, negated on a negative row) lies in
/// [w_min, w_max], which the learning rule then keeps.
fn check_stdp_weights(t: &TileConfig) -> TileProblems {
    let mut out = TileProblems::new();
    for (i, n) in t.nodes.iter().enumerate() {
        let Some(r) = t.rows.get(usize::from(n.row)) else { continue };
        let RowKind::Stdp(p) = r.kind else { continue };
        let Some(p) = t.stdp.get(usize::from(p)) else { continue };
        let w = m::saturate(i64::from(n.level) * i64::from(r.scale));
        let w = if r.negative { m::saturate(-i64::from(w)) } else { w };
        if !(p.w_min..=p.w_max).contains(&w) {
            let what = format!(
                "(row {}, col {}) STDP weight {w} lies outside the profile's bounds [{}, {}]",
                n.row, n.col, p.w_min, p.w_max
            );
            out.push((Some(TileItem::Node(i)), what));
        }
    }
    out
}

/// Whether every entry of `r` passes [`check_route`]: one branch-free pass
/// for the common case; `check_route` finds the errors.
fn routes_ok(arch: &Arch, r: &RouterConfig) -> bool {
    // Directions allowed at this router: the five, minus those off the grid.
    let allowed = Grid::of(arch).allowed(r.x, r.y);
    r.entries.iter().fold(true, |ok, e| ok & (e.out & !allowed == 0) & (e.value & !e.mask == 0))
}

fn check_route(arch: &Arch, r: &RouterConfig, e: &RouteEntry) -> Result<(), String> {
    const ALL: u8 = Dir::ALL_BITS;
    if e.out & !ALL != 0 {
        return Err(format!("out = {:#04x} has bits outside the five directions ({ALL:#04x})", e.out));
    }
    let grid = Grid::of(arch);
    for d in Dir::LINKS {
        if e.out & d.bit() != 0 && grid.neighbour(r.x, r.y, d).is_none() {
            return Err(format!("routes {}, off the edge of the grid", d.name()));
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
