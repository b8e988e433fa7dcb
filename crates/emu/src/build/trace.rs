//! Tracing every source's multicast tree through the routing tables, once,
//! breadth first: the links the trees use, each tree's routers (the
//! mesh's timing model walks them), the tiles each tree delivers to, and
//! every routing problem met on the way.

use super::table::Routes;
use crate::RouteFault;
use crate::net::{Link, NONE, TreeNode};
use fpnna_bitstream::{Dir, Grid, Xy};
use std::collections::BTreeSet;

/// The direction bits of the four links of a router's outputs.
const LINK_BITS: u8 = Dir::ALL_BITS & !Dir::Local.bit();

/// The trees traced so far, and what tracing needs (over dense indexes
/// of the grid's cells: at most 65536).
pub(super) struct Tracer<'a> {
    grid: Grid,
    routes: Routes,
    /// Tile (index into the tiles) at each cell (`NONE`: none).
    tile_index: &'a [u32],
    /// Neighbour cell of each cell in each link direction (`NONE`: off the
    /// grid): `[cell * 4 + d]` for `Dir::LINKS[d]`.
    neighbour: Vec<u32>,
    /// Link id of each (cell, direction), in order of discovery.
    link_id: Vec<u32>,
    pub links: Vec<Link>,
    /// Injection port of each cell (`NONE`: none yet), numbered in order of
    /// discovery.
    inject_id: Vec<u32>,
    pub n_inject: u32,
    /// visited[cell] == source index + 1: the router is on that source's tree.
    visited: Vec<u32>,
    /// Tree of source s: tree[tree_start[s]..tree_start[s + 1]] (see `Net`).
    pub tree_start: Vec<u32>,
    pub tree: Vec<TreeNode>,
    /// Injection port of each source.
    pub inject: Vec<u32>,
    /// Cell of each router of the current tree, in tree order.
    at: Vec<u32>,
    /// Sources there are (for the trees' capacity).
    sources: usize,
    pub faults: BTreeSet<RouteFault>,
}

impl<'a> Tracer<'a> {
    /// A tracer through `routes` over `grid`, whose cells hold the tiles of
    /// `tile_index`, for `sources` sources.
    pub fn new(grid: Grid, routes: Routes, tile_index: &'a [u32], sources: usize) -> Tracer<'a> {
        let cells = grid.cells();
        let neighbour = (0..cells)
            .flat_map(|c| {
                let p = grid.xy(c);
                Dir::LINKS.map(|d| grid.neighbour(p.x, p.y, d).map_or(NONE, |n| grid.index(n.x, n.y) as u32))
            })
            .collect();
        Tracer {
            grid,
            routes,
            tile_index,
            neighbour,
            link_id: vec![NONE; cells * 4],
            links: Vec::new(),
            inject_id: vec![NONE; cells],
            n_inject: 0,
            visited: vec![0; cells],
            tree_start: vec![0],
            tree: Vec::new(),
            inject: Vec::new(),
            at: Vec::new(),
            sources,
            faults: BTreeSet::new(),
        }
    }

    /// Coordinates of cell `c`, as a fault names them.
    fn place(&self, c: usize) -> (u16, u16) {
        let p = self.grid.xy(c);
        (p.x, p.y)
    }

    /// Traces the tree of source `si` (sources come in increasing key
    /// order), of `key`, injected at router `from`; `locals` receives, in
    /// tree order, the tiles it delivers to.
    pub fn trace(&mut self, si: usize, key: u32, from: Xy, locals: &mut Vec<u32>) {
        if si == 64 {
            // The trees' total size, extrapolated from the first ones (with
            // some slack), so that `tree` need not grow by doubling (copies
            // and fresh pages).
            self.tree.reserve(self.tree.len() / 64 * (self.sources - 64) / 8 * 9);
        }
        let stamp = si as u32 + 1;
        let root = self.grid.index(from.x, from.y);
        let ip = &mut self.inject_id[root];
        if *ip == NONE {
            *ip = self.n_inject;
            self.n_inject += 1;
        }
        self.inject.push(*ip);
        let base = self.tree.len();
        self.at.clear();
        locals.clear();
        if self.routes.lookup(root, key).is_some() {
            self.tree.push(TreeNode { link: NONE, first_child: 0, n_children: 0, local: false, depth: 0 });
            self.at.push(root as u32);
            self.visited[root] = stamp;
        }
        let mut i = 0;
        while base + i < self.tree.len() {
            let c = self.at[i] as usize;
            match self.routes.lookup(c, key) {
                Some(out) => {
                    self.branch(base + i, c, key, out, stamp);
                    let ti = self.tile_index[c];
                    if out & Dir::Local.bit() != 0 && ti != NONE {
                        locals.push(ti);
                    }
                }
                None => {
                    let what = "no routing entry matches; the packet is dropped".into();
                    self.faults.insert(RouteFault { key, at: self.place(c), what });
                }
            }
            i += 1;
        }
        self.tree_start.push(self.tree.len() as u32);
    }

    /// Tree node `node`, at cell `c`, sends the packet of `key` (of the
    /// tree `stamp`) to `out`: its children, one per link to a router not
    /// yet on the tree.
    fn branch(&mut self, node: usize, c: usize, key: u32, out: u8, stamp: u32) {
        let first = self.tree.len() as u32;
        let depth = self.tree[node].depth;
        let mut n_children = 0;
        // The link bits, east (d = 0) to south (d = 3).
        let mut dirs = out & LINK_BITS;
        while dirs != 0 {
            let d = dirs.trailing_zeros() as usize;
            dirs &= dirs - 1;
            let n = self.neighbour[c * 4 + d];
            if n == NONE {
                let (name, g) = (Dir::LINKS[d].name(), self.grid);
                let what = format!("routed {name}, off the {}x{} grid; that copy is dropped", g.width, g.height);
                self.faults.insert(RouteFault { key, at: self.place(c), what });
                continue;
            }
            if std::mem::replace(&mut self.visited[n as usize], stamp) == stamp {
                let what = "reached twice (routing loop or converging paths); the second copy is dropped".into();
                self.faults.insert(RouteFault { key, at: self.place(n as usize), what });
                continue;
            }
            let l = &mut self.link_id[c * 4 + d];
            if *l == NONE {
                *l = self.links.len() as u32;
                let p = self.grid.xy(c);
                self.links.push(Link { at: Xy { x: p.x, y: p.y }, dir: Dir::LINKS[d] });
            }
            let link = *l;
            self.tree.push(TreeNode { link, first_child: 0, n_children: 0, local: false, depth: depth + 1 });
            self.at.push(n);
            n_children += 1;
        }
        let node = &mut self.tree[node];
        node.first_child = first;
        node.n_children = n_children;
        node.local = out & Dir::Local.bit() != 0;
    }
}
