//! The vocabulary of the mesh, shared by the compiler, the emulator and the
//! tools: spike keys, tile coordinates, the five output directions (one
//! table), the grid's coordinate arithmetic, a router's first-match rule
//! and a spike event.

use crate::config::RouteEntry;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A spike key: the global id of a source (see [`crate::Bitstream`]).
/// Transparent in serde, so it encodes as its `u32`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(pub u32);

impl Key {
    /// The key of source `k`.
    pub const fn new(k: u32) -> Key {
        Key(k)
    }

    /// Its number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A tile's (and its router's) coordinates: column `x`, row `y`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Xy {
    /// Column of the grid.
    pub x: u16,
    /// Row of the grid.
    pub y: u16,
}

impl fmt::Display for Xy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

/// An output direction of a router: to a neighbour, or into its own tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dir {
    /// To the tile at x + 1.
    East,
    /// To the tile at y + 1.
    North,
    /// To the tile at x - 1.
    West,
    /// To the tile at y - 1.
    South,
    /// Into this tile's rows.
    Local,
}

/// The one table of directions, in [`Dir`] order: (bit of a route entry's
/// `out`, dx, dy, name in text).
const DIRS: [(u8, i32, i32, &str); 5] =
    [(1, 1, 0, "east"), (2, 0, 1, "north"), (4, -1, 0, "west"), (8, 0, -1, "south"), (16, 0, 0, "local")];

impl Dir {
    /// Every direction, in bit order.
    pub const ALL: [Dir; 5] = [Dir::East, Dir::North, Dir::West, Dir::South, Dir::Local];
    /// The four that lead to a neighbour, in bit order (`LINKS[d]` is bit `1 << d`).
    pub const LINKS: [Dir; 4] = [Dir::East, Dir::North, Dir::West, Dir::South];
    /// Every direction bit: an entry's `out` has no other.
    pub const ALL_BITS: u8 = 0x1F;

    /// Its bit in a route entry's `out`.
    pub const fn bit(self) -> u8 {
        DIRS[self as usize].0
    }

    /// Step along x.
    pub const fn dx(self) -> i32 {
        DIRS[self as usize].1
    }

    /// Step along y.
    pub const fn dy(self) -> i32 {
        DIRS[self as usize].2
    }

    /// Its name in text (`east`, ..., `local`).
    pub const fn name(self) -> &'static str {
        DIRS[self as usize].3
    }
}

/// The grid of tiles: coordinates and their dense index (`y * width + x`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Tiles along x.
    pub width: u16,
    /// Tiles along y.
    pub height: u16,
}

impl Grid {
    /// The grid of an architecture.
    pub fn of(arch: &fpnna_arch::Arch) -> Grid {
        Grid { width: arch.grid.width, height: arch.grid.height }
    }

    /// Number of tiles.
    pub fn cells(self) -> usize {
        usize::from(self.width) * usize::from(self.height)
    }

    /// Whether (x, y) is a tile of the grid.
    pub fn contains(self, x: u16, y: u16) -> bool {
        x < self.width && y < self.height
    }

    /// Dense index of (x, y) (in the grid).
    #[inline]
    pub fn index(self, x: u16, y: u16) -> usize {
        usize::from(y) * usize::from(self.width) + usize::from(x)
    }

    /// Coordinates of dense index `i`.
    #[inline]
    pub fn xy(self, i: usize) -> Xy {
        let w = usize::from(self.width);
        Xy { x: (i % w) as u16, y: (i / w) as u16 }
    }

    /// The tile next to (x, y) in direction `d` (`Local`: itself); `None`
    /// off the grid.
    pub fn neighbour(self, x: u16, y: u16, d: Dir) -> Option<Xy> {
        let (nx, ny) = (i32::from(x) + d.dx(), i32::from(y) + d.dy());
        let inside = nx >= 0 && ny >= 0 && nx < i32::from(self.width) && ny < i32::from(self.height);
        inside.then_some(Xy { x: nx as u16, y: ny as u16 })
    }

    /// The direction bits a router at (x, y) may use: its local port, and
    /// every link that leads to a router of the grid (the rule
    /// `validate::check_route` states entry by entry).
    pub fn allowed(self, x: u16, y: u16) -> u8 {
        Dir::LINKS.iter().filter(|&&d| self.neighbour(x, y, d).is_some()).fold(Dir::Local.bit(), |a, d| a | d.bit())
    }
}

/// The outputs of a router's first entry that matches `key` (`key & mask
/// == value`), the rule of every routing table; `None`: no entry matches.
pub fn first_match(entries: &[RouteEntry], key: u32) -> Option<u8> {
    entries.iter().find(|e| key & e.mask == e.value).map(|e| e.out)
}

/// [`first_match`] indexed for many lookups in one table: per distinct
/// mask, the first entry of each value; a key's first match is the
/// earliest of its candidates, one per mask.
pub struct RouteIndex {
    by_mask: Vec<(u32, HashMap<u32, usize>)>,
    outs: Vec<u8>,
}

impl RouteIndex {
    /// Indexes `entries`.
    pub fn new(entries: &[RouteEntry]) -> RouteIndex {
        let mut by_mask: Vec<(u32, HashMap<u32, usize>)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if e.value & !e.mask != 0 {
                continue; // can never match
            }
            let slot = match by_mask.iter().position(|(m, _)| *m == e.mask) {
                Some(p) => p,
                None => {
                    by_mask.push((e.mask, HashMap::new()));
                    by_mask.len() - 1
                }
            };
            by_mask[slot].1.entry(e.value).or_insert(i);
        }
        RouteIndex { by_mask, outs: entries.iter().map(|e| e.out).collect() }
    }

    /// [`first_match`] of the indexed entries.
    pub fn first_match(&self, key: u32) -> Option<u8> {
        self.by_mask.iter().filter_map(|(m, vals)| vals.get(&(key & m)).copied()).min().map(|i| self.outs[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_agrees_with_the_rule() {
        let e = |value, mask, out| RouteEntry { value, mask, out };
        let entries = vec![e(4, !3, 1), e(5, !0, 2), e(0, 0, 4), e(6, !1, 8), e(1, 1, 16), e(3, 1, 2)];
        let f = RouteIndex::new(&entries);
        for key in 0..64u32 {
            assert_eq!(f.first_match(key), first_match(&entries, key), "key {key}");
        }
    }

    #[test]
    fn directions_and_grid() {
        let g = Grid { width: 3, height: 2 };
        assert_eq!(Dir::LINKS.map(Dir::bit), [1, 2, 4, 8]);
        assert_eq!(Dir::ALL.iter().fold(0, |a, d| a | d.bit()), Dir::ALL_BITS);
        assert_eq!(g.xy(g.index(2, 1)), Xy { x: 2, y: 1 });
        assert_eq!(g.neighbour(2, 1, Dir::East), None);
        assert_eq!(g.neighbour(2, 1, Dir::South), Some(Xy { x: 2, y: 0 }));
        assert_eq!(g.allowed(0, 0), Dir::East.bit() | Dir::North.bit() | Dir::Local.bit());
        // Off the grid only the local port is left (found by a property test:
        // validation's fast path and its entry-by-entry rule disagreed).
        assert_eq!(g.allowed(7, 0), Dir::Local.bit());
        assert!(g.contains(2, 1) && !g.contains(3, 0));
    }
}
