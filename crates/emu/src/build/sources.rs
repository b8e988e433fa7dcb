//! The sources of keys: neuron columns, and the channels of input and
//! generator ports, sorted by key, with where each injects its packets and
//! whether its spikes are recorded.

use crate::bank::Bank;
use crate::tile::Tile;
use fpnna_bitstream::{Port, PortKind, Xy};
use fpnna_model::Generator;

/// What drives a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SrcKind {
    /// Neuron column `col` of tile `tile` (index into `Built::tiles`).
    Column { tile: u32, col: u16 },
    /// A channel of an input port.
    Input,
    /// A channel of a generator port.
    Generator,
}

/// Every source, by index (sorted by key; one source per key, validated).
pub(super) struct Sources {
    pub key: Vec<u32>,
    pub kind: Vec<SrcKind>,
    /// The router it injects its packets at.
    pub inject_at: Vec<Xy>,
    pub recorded: Vec<bool>,
    /// (source, channel, generator) of every generator channel.
    pub gens: Vec<(u32, u32, Generator)>,
}

/// One source as listed: (key, kind, injection router, generator channel).
type Source = (u32, SrcKind, Xy, Option<(u32, Generator)>);

impl Sources {
    /// The columns of `tiles` and the channels of `ports`; notes each
    /// column's source in `bank`.
    pub fn new(tiles: &[Tile], ports: &[Port], bank: &mut Bank) -> Sources {
        let mut sources: Vec<Source> = Vec::new();
        for (ti, t) in tiles.iter().enumerate() {
            let at = t.at;
            for (c, &key) in t.col_key.iter().enumerate() {
                sources.push((key, SrcKind::Column { tile: ti as u32, col: c as u16 }, at, None));
            }
        }
        let mut outputs: Vec<(u32, u32)> = Vec::new();
        for p in ports {
            // Within global.key_count (validated).
            let end = p.key_base + p.size;
            let (kind, generator) = match p.kind {
                PortKind::Output => {
                    outputs.push((p.key_base, end));
                    continue;
                }
                PortKind::Input => (SrcKind::Input, None),
                PortKind::Generator(g) => (SrcKind::Generator, Some(g)),
            };
            let at = Xy { x: p.x, y: p.y };
            for ch in 0..p.size {
                sources.push((p.key_base + ch, kind, at, generator.map(|g| (ch, g))));
            }
        }
        if !sources.is_sorted_by_key(|s| s.0) {
            sources.sort_by_key(|s| s.0);
        }
        let key: Vec<u32> = sources.iter().map(|s| s.0).collect();
        let kind: Vec<SrcKind> = sources.iter().map(|s| s.1).collect();
        let recorded: Vec<bool> = if outputs.is_empty() {
            kind.iter().map(|k| matches!(k, SrcKind::Column { .. })).collect()
        } else {
            key.iter().map(|&k| outputs.iter().any(|&(a, b)| (a..b).contains(&k))).collect()
        };
        let mut gens = Vec::new();
        for (s, src) in sources.iter().enumerate() {
            if let SrcKind::Column { tile, col } = src.1 {
                bank.col_source[(tiles[tile as usize].col_lo + u32::from(col)) as usize] = s as u32;
            }
            if let Some((ch, g)) = src.3 {
                gens.push((s as u32, ch, g));
            }
        }
        Sources { key, kind, inject_at: sources.iter().map(|s| s.2).collect(), recorded, gens }
    }
}
