//! Explaining a bitstream: what it configures, how full the array is, and
//! what its bytes are spent on.

use crate::binary::{FORMAT_VERSION, SectionSize, encode_with_sizes};
use crate::config::*;
use crate::mesh::{Dir, Grid, RouteIndex, Xy};
use fpnna_model::Generator;
use serde::Serialize;
use std::fmt;

/// A summary of a configuration (serializable for JSON reports).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inspection {
    /// Format version of the binary form.
    pub format_version: u16,
    /// Name of the embedded architecture.
    pub arch_name: String,
    /// Its hash, as `0x` and 16 hex digits (JSON numbers lose 64-bit precision).
    pub arch_hash: String,
    /// Grid width, tiles.
    pub grid_width: u16,
    /// Grid height, tiles.
    pub grid_height: u16,
    /// Rows per tile (R).
    pub tile_rows: u16,
    /// Columns per tile (C).
    pub tile_cols: u16,
    /// Timestep, ms.
    pub dt_ms: f64,
    /// Keys in use.
    pub key_count: u32,
    /// Programmed tiles.
    pub tiles_programmed: usize,
    /// Tiles of the grid.
    pub tiles_total: u32,
    /// Per programmed tile.
    pub tiles: Vec<TileUsage>,
    /// Programmed nodes formed non-volatile, whole array.
    pub nodes_nonvolatile: usize,
    /// Programmed volatile (facilitating) nodes, whole array.
    pub nodes_volatile: usize,
    /// Programmed volatile STDP nodes, whole array.
    pub nodes_stdp: usize,
    /// Routers with entries.
    pub routers_used: usize,
    /// Route entries, whole array.
    pub route_entries_total: usize,
    /// Most entries of one router.
    pub route_entries_max: usize,
    /// Entries a router's table holds.
    pub route_table_capacity: u32,
    /// Ports.
    pub ports: Vec<PortSummary>,
    /// Symbols (debug info).
    pub symbols: usize,
}

/// How full one tile is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TileUsage {
    /// Column of the grid.
    pub x: u16,
    /// Row of the grid.
    pub y: u16,
    /// Rows used.
    pub rows_used: usize,
    /// Columns used.
    pub columns_used: usize,
    /// Programmed nodes on non-volatile rows.
    pub nodes_nonvolatile: usize,
    /// Programmed nodes on volatile (facilitating) rows.
    pub nodes_volatile: usize,
    /// Programmed nodes on STDP rows.
    pub nodes_stdp: usize,
    /// Entries of the neuron parameter table.
    pub params: usize,
}

/// One port.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortSummary {
    /// Population name.
    pub name: String,
    /// `input`, `output`, `poisson` or `regular`.
    pub kind: &'static str,
    /// First key.
    pub key_base: u32,
    /// Channels.
    pub size: u32,
    /// Router column.
    pub x: u16,
    /// Router row.
    pub y: u16,
}

/// Summarises a configuration.
pub fn inspect(b: &Bitstream) -> Inspection {
    let tiles: Vec<TileUsage> = b.tiles.iter().map(tile_usage).collect();
    let entries = b.routers.iter().map(|r| r.entries.len());
    Inspection {
        format_version: FORMAT_VERSION,
        arch_name: b.arch.name.clone(),
        arch_hash: format!("{:#018x}", b.arch.hash()),
        grid_width: b.arch.grid.width,
        grid_height: b.arch.grid.height,
        tile_rows: b.arch.tile.rows,
        tile_cols: b.arch.tile.cols,
        dt_ms: b.global.dt_ms,
        key_count: b.global.key_count,
        tiles_programmed: b.tiles.len(),
        tiles_total: b.arch.tiles(),
        nodes_nonvolatile: tiles.iter().map(|t| t.nodes_nonvolatile).sum(),
        nodes_volatile: tiles.iter().map(|t| t.nodes_volatile).sum(),
        nodes_stdp: tiles.iter().map(|t| t.nodes_stdp).sum(),
        tiles,
        routers_used: b.routers.len(),
        route_entries_total: entries.clone().sum(),
        route_entries_max: entries.max().unwrap_or(0),
        route_table_capacity: b.arch.router.table_entries,
        ports: b
            .ports
            .iter()
            .map(|p| PortSummary {
                name: p.name.clone(),
                kind: match p.kind {
                    PortKind::Input => "input",
                    PortKind::Output => "output",
                    PortKind::Generator(Generator::Poisson { .. }) => "poisson",
                    PortKind::Generator(Generator::Regular { .. }) => "regular",
                },
                key_base: p.key_base,
                size: p.size,
                x: p.x,
                y: p.y,
            })
            .collect(),
        symbols: b.symbols.len(),
    }
}

fn tile_usage(t: &TileConfig) -> TileUsage {
    let (mut nv, mut vol, mut stdp) = (0, 0, 0);
    for n in &t.nodes {
        // Validation guarantees the row exists; tolerate it missing anyway.
        match t.rows.get(usize::from(n.row)).map(|r| r.kind) {
            Some(RowKind::Volatile(_)) => vol += 1,
            Some(RowKind::Stdp(_)) => stdp += 1,
            _ => nv += 1,
        }
    }
    TileUsage {
        x: t.x,
        y: t.y,
        rows_used: t.rows.len(),
        columns_used: t.columns.len(),
        nodes_nonvolatile: nv,
        nodes_volatile: vol,
        nodes_stdp: stdp,
        params: t.params.len(),
    }
}

/// How many keys' multicast trees cross one directed link of the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkLoad {
    /// The router the link leaves.
    pub from: Xy,
    /// Its direction (never `Local`).
    pub dir: Dir,
    /// Keys whose tree crosses it.
    pub keys: u32,
}

/// The static load of every link the routing uses: each key is walked
/// from where it enters the mesh (its neuron's tile, or its input or
/// generator port) through the routers' first-match rule, each router
/// at most once per key. Links no tree crosses are left out; sorted by
/// router (y, then x), then direction.
pub fn link_loads(b: &Bitstream) -> Vec<LinkLoad> {
    let grid = Grid::of(&b.arch);
    let mut router: Vec<Option<RouteIndex>> = (0..grid.cells()).map(|_| None).collect();
    for r in b.routers.iter().filter(|r| grid.contains(r.x, r.y)) {
        router[grid.index(r.x, r.y)] = Some(RouteIndex::new(&r.entries));
    }
    let mut sources: Vec<(u32, u16, u16)> =
        b.tiles.iter().flat_map(|t| t.columns.iter().map(move |c| (c.key, t.x, t.y))).collect();
    for p in b.ports.iter().filter(|p| matches!(p.kind, PortKind::Input | PortKind::Generator(_))) {
        sources.extend((0..p.size).map(|i| (p.key_base.saturating_add(i), p.x, p.y)));
    }
    let mut load = vec![0u32; grid.cells() * Dir::LINKS.len()];
    // visited[cell] == source number + 1: the router is on that source's tree.
    let mut visited = vec![0usize; grid.cells()];
    let mut stack = Vec::new();
    for (s, &(key, x, y)) in sources.iter().enumerate() {
        if !grid.contains(x, y) {
            continue;
        }
        stack.push(Xy { x, y });
        while let Some(at) = stack.pop() {
            let cell = grid.index(at.x, at.y);
            if visited[cell] == s + 1 {
                continue;
            }
            visited[cell] = s + 1;
            let Some(out) = router[cell].as_ref().and_then(|r| r.first_match(key)) else { continue };
            for (d, dir) in Dir::LINKS.into_iter().enumerate() {
                if out & dir.bit() != 0
                    && let Some(n) = grid.neighbour(at.x, at.y, dir)
                {
                    load[cell * Dir::LINKS.len() + d] += 1;
                    stack.push(n);
                }
            }
        }
    }
    load.iter()
        .enumerate()
        .filter(|&(_, &keys)| keys > 0)
        .map(|(i, &keys)| LinkLoad { from: grid.xy(i / Dir::LINKS.len()), dir: Dir::LINKS[i % Dir::LINKS.len()], keys })
        .collect()
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 }
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (r, c) = (usize::from(self.tile_rows), usize::from(self.tile_cols));
        writeln!(f, "fpnna bitstream, format version {}", self.format_version)?;
        writeln!(f, "architecture `{}` (hash {})", self.arch_name, self.arch_hash)?;
        writeln!(f, "grid {}x{}, tiles of {r} rows x {c} columns", self.grid_width, self.grid_height)?;
        writeln!(f, "timestep {} ms, {} keys", self.dt_ms, self.key_count)?;
        writeln!(f, "tiles programmed: {} of {}", self.tiles_programmed, self.tiles_total)?;
        let nodes = self.nodes_nonvolatile + self.nodes_volatile + self.nodes_stdp;
        writeln!(
            f,
            "nodes: {nodes} programmed ({} nonvolatile, {} volatile, {} stdp)",
            self.nodes_nonvolatile, self.nodes_volatile, self.nodes_stdp
        )?;
        if !self.tiles.is_empty() {
            writeln!(f, "   tile      rows        columns     nodes  (nv/vol/stdp)  params")?;
        }
        for t in &self.tiles {
            let n = t.nodes_nonvolatile + t.nodes_volatile + t.nodes_stdp;
            writeln!(
                f,
                "  ({:>3},{:>3})  {:>4}/{r:<4} {:>3.0}%  {:>4}/{c:<4} {:>3.0}%  {n:>6}  ({}/{}/{})  {}",
                t.x,
                t.y,
                t.rows_used,
                percent(t.rows_used, r),
                t.columns_used,
                percent(t.columns_used, c),
                t.nodes_nonvolatile,
                t.nodes_volatile,
                t.nodes_stdp,
                t.params
            )?;
        }
        writeln!(
            f,
            "routing: {} routers, {} entries, at most {} of {} in one router",
            self.routers_used, self.route_entries_total, self.route_entries_max, self.route_table_capacity
        )?;
        writeln!(f, "ports: {}", self.ports.len())?;
        for p in &self.ports {
            writeln!(
                f,
                "  {:<8} {:?} keys {}..{} at ({}, {})",
                p.kind,
                p.name,
                p.key_base,
                u64::from(p.key_base) + u64::from(p.size),
                p.x,
                p.y
            )?;
        }
        writeln!(f, "symbols: {}", self.symbols)
    }
}

/// Where the bytes of the binary form go.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SizeStats {
    /// Bytes of the whole file.
    pub total_bytes: usize,
    /// Bytes per kind of section, framing included, in file order.
    pub sections: Vec<SectionSize>,
    /// Programmed nodes.
    pub nodes: usize,
    /// Bytes of the tile sections per programmed node (0 without nodes).
    pub tile_bytes_per_node: f64,
    /// Bytes of the whole file per programmed node (0 without nodes).
    pub total_bytes_per_node: f64,
}

/// Sizes of the binary form of `b`. The binary form is canonical (decode
/// refuses anything else), so these are the sizes of any file `b` was
/// decoded from.
pub fn size_stats(b: &Bitstream) -> SizeStats {
    let (bytes, sections) = encode_with_sizes(b);
    let nodes: usize = b.tiles.iter().map(|t| t.nodes.len()).sum();
    let tile_bytes = sections.iter().find(|s| s.name == "tile").map_or(0, |s| s.bytes);
    let per = |x: usize| if nodes == 0 { 0.0 } else { x as f64 / nodes as f64 };
    SizeStats {
        total_bytes: bytes.len(),
        tile_bytes_per_node: per(tile_bytes),
        total_bytes_per_node: per(bytes.len()),
        sections,
        nodes,
    }
}

impl fmt::Display for SizeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} bytes, {} programmed nodes", self.total_bytes, self.nodes)?;
        for s in &self.sections {
            writeln!(f, "  {:<8} x{:<5} {:>9} bytes", s.name, s.count, s.bytes)?;
        }
        writeln!(
            f,
            "  {:.2} tile bytes per node, {:.2} bytes per node overall",
            self.tile_bytes_per_node, self.total_bytes_per_node
        )
    }
}
