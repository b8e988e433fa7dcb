//! What a source's packet delivers to each tile its tree reaches: the
//! tile's rows of the key, listed per source in tree order, as delivery
//! lists (every row queued when the spike is sent, read when due) or, when
//! non-volatile rows are read as their spike is sent, as send streams; and
//! the rows no route delivers.

use super::send::{QueuedRow, SendBuilder};
use crate::tile::{RowInfo, Tile};
use crate::{DeviceFigures, RouteFault};
use fpnna_bitstream::RowKind;
use std::collections::BTreeSet;

/// Rows of tile `tile` that a source's packet selects:
/// `Built::deliver_rows[lo..hi]` (a copy of the descriptions of the tile's
/// rows of the key, so that a source's rows of all tiles lie side by side).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Delivery {
    pub tile: u32,
    pub lo: u32,
    pub hi: u32,
    /// Nodes on those rows (synaptic events one packet will cause).
    pub nodes: u32,
}

/// Most input sums kept for rows read when their spike is sent (slots x
/// columns, 4 bytes each).
const PRE_INPUTS_MAX: usize = 1 << 24;

/// Whether non-volatile rows are read when sent (into the input slot of
/// their due step: `Built::pre`), and the input slots the bank then needs:
/// they are unless reads are noisy or the slots take too much memory.
pub(super) fn read_when_sent(tiles: &[Tile], columns: usize, dev: &DeviceFigures) -> (bool, usize) {
    let nv_delay = tiles
        .iter()
        .flat_map(|t| t.row_kind.iter().zip(&t.row_delay))
        .filter(|&(&kind, _)| kind == RowKind::NonVolatile)
        .map(|(_, &delay)| usize::from(delay))
        .max();
    let pre = !dev.noisy_reads()
        && nv_delay.is_some_and(|d| (d + 1).next_power_of_two() * columns <= PRE_INPUTS_MAX)
        && tiles.len() <= 1 << 16;
    (pre, if pre { nv_delay.unwrap_or(0) + 1 } else { 1 })
}

/// Every source's deliveries, gathered source by source in key order
/// (the fields are `Built`'s, or `Built::streams`'s, of the same names).
pub(super) struct Deliveries {
    pub pre: bool,
    pub deliver_start: Vec<u32>,
    pub deliver: Vec<Delivery>,
    pub deliver_rows: Vec<RowInfo>,
    pub deliver_node_start: Vec<u32>,
    pub deliver_nodes: Vec<(u32, i32)>,
    pub send_start: Vec<u32>,
    pub send: Vec<u32>,
    pub queued_start: Vec<u32>,
    pub queued: Vec<QueuedRow>,
    pub sent_nodes: Vec<u64>,
    /// Synaptic events of the current source so far.
    source_nodes: u64,
    builder: SendBuilder,
    /// Per tile: its rows before this index have keys below the current source's.
    key_cursor: Vec<usize>,
    /// Whether some route delivers the key of tiles[t].row_key[i] (first row of each key).
    reached: Vec<Vec<bool>>,
    /// Rows of each tile that some route delivers (all of them: no fault to look for).
    reached_rows: Vec<usize>,
}

impl Deliveries {
    /// Empty lists for `sources` sources into `tiles`, read when sent with `pre`.
    pub fn new(tiles: &[Tile], pre: bool, sources: usize) -> Deliveries {
        let mut d = Deliveries {
            pre,
            deliver_start: vec![0],
            deliver: Vec::new(),
            deliver_rows: Vec::new(),
            deliver_node_start: vec![0],
            deliver_nodes: Vec::new(),
            send_start: vec![0],
            send: Vec::new(),
            queued_start: vec![0],
            queued: Vec::new(),
            sent_nodes: Vec::new(),
            source_nodes: 0,
            builder: SendBuilder::default(),
            key_cursor: vec![0; tiles.len()],
            reached: tiles.iter().map(|t| vec![false; t.row_key.len()]).collect(),
            reached_rows: vec![0; tiles.len()],
        };
        // Every (tile, key) with rows is delivered at most once, every row at
        // most once: these bounds are usually close, and untouched capacity
        // costs nothing.
        let all_rows = tiles.iter().map(|t| t.row_key.len()).sum();
        let nodes_all: usize = tiles.iter().filter(|t| t.direct_nv).map(|t| t.node_w.len()).sum();
        if pre {
            d.send.reserve(all_rows + 2 * nodes_all + 2 * sources);
        } else {
            d.deliver.reserve(tiles.iter().map(|t| t.row_key.chunk_by(|a, b| a == b).count()).sum());
            d.deliver_rows.reserve(all_rows);
            d.deliver_node_start.reserve(all_rows);
            d.deliver_nodes.reserve(nodes_all);
        }
        d
    }

    /// The current source's packet (of `key`) reaches tile `ti`: its rows
    /// of the key. Keys come in increasing order.
    pub fn tile(&mut self, tiles: &[Tile], ti: u32, key: u32) {
        let t = &tiles[ti as usize];
        // The tile's cursor has passed exactly its rows of smaller keys.
        let rk = &t.row_key;
        let cur = &mut self.key_cursor[ti as usize];
        while *cur < rk.len() && rk[*cur] < key {
            *cur += 1;
        }
        let lo = *cur;
        while *cur < rk.len() && rk[*cur] == key {
            *cur += 1;
        }
        let hi = *cur;
        if hi == lo {
            return;
        }
        if self.pre {
            self.sent_rows(t, ti, lo..hi);
        } else {
            self.delivery(t, ti, lo..hi);
        }
        self.reached[ti as usize][lo] = true;
        self.reached_rows[ti as usize] += hi - lo;
    }

    /// Rows `rows` of tile `ti` in the current source's send stream (see
    /// `Built::send`).
    fn sent_rows(&mut self, t: &Tile, ti: u32, rows: std::ops::Range<usize>) {
        let lo = rows.start;
        for r in rows {
            let (delay, kind) = (t.row_delay[r], t.row_kind[r]);
            let (a, b) = (t.row_start[r] as usize, t.row_start[r + 1] as usize);
            self.source_nodes += (b - a) as u64;
            if kind == RowKind::NonVolatile {
                self.builder.row(ti, delay, r == lo, &t.node_col[a..b], &t.node_w[a..b], t.col_lo);
            } else {
                let row = self.deliver_rows.len() as u32;
                self.queued.push(QueuedRow { tile: ti, delay, first: r == lo, row });
                self.deliver_rows.push(t.row_info(r));
                self.deliver_node_start.push(self.deliver_nodes.len() as u32);
            }
        }
    }

    /// Rows `rows` of tile `ti` as one delivery of the current source.
    fn delivery(&mut self, t: &Tile, ti: u32, rows: std::ops::Range<usize>) {
        let nodes = t.row_start[rows.end] - t.row_start[rows.start];
        let first = self.deliver_rows.len() as u32;
        for r in rows {
            let row = t.row_info(r);
            if t.direct_nv && row.kind == RowKind::NonVolatile {
                let (a, b) = (row.lo as usize, row.hi as usize);
                let (cols, ws) = (&t.node_col[a..b], &t.node_w[a..b]);
                self.deliver_nodes.extend(cols.iter().zip(ws).map(|(&c, &w)| (u32::from(c), w)));
            }
            self.deliver_rows.push(row);
            self.deliver_node_start.push(self.deliver_nodes.len() as u32);
        }
        self.deliver.push(Delivery { tile: ti, lo: first, hi: self.deliver_rows.len() as u32, nodes });
    }

    /// Closes the current source's lists.
    pub fn end_source(&mut self) {
        self.deliver_start.push(self.deliver.len() as u32);
        self.sent_nodes.push(std::mem::take(&mut self.source_nodes));
        self.builder.finish(&mut self.send);
        self.send_start.push(self.send.len() as u32);
        self.queued_start.push(self.queued.len() as u32);
    }

    /// Notes in `faults` every key that tiles have rows for but no route
    /// delivers to them (`src_key`: the keys of the sources, sorted).
    pub fn undelivered(&self, tiles: &[Tile], src_key: &[u32], faults: &mut BTreeSet<RouteFault>) {
        for (ti, t) in tiles.iter().enumerate().filter(|&(ti, t)| self.reached_rows[ti] < t.row_key.len()) {
            let mut last = None;
            // Both row_key and src_key are sorted: walk them together.
            let mut j = 0;
            for (i, &key) in t.row_key.iter().enumerate() {
                if last == Some(key) {
                    continue;
                }
                last = Some(key);
                while j < src_key.len() && src_key[j] < key {
                    j += 1;
                }
                let what = if src_key.get(j) != Some(&key) {
                    "the tile has rows for this key, which no neuron, input or generator drives"
                } else if !self.reached[ti][i] {
                    "the tile has rows for this key, but no route delivers it here"
                } else {
                    continue;
                };
                faults.insert(RouteFault { key, at: (t.at.x, t.at.y), what: what.into() });
            }
        }
    }
}
