//! Send streams: what a spike of a source does when non-volatile rows are
//! read as it is sent (`Built::pre`): per delay, the rows and nodes each
//! tile it reaches counts, and the nodes' (column, weight) pairs to add
//! into that delay's input slot; and the rows read when due, queued.

/// Consecutive rows of one tile that a source's spike reaches with one
/// delay, read when sent: `tile << 16 | first << 15 | rows << 8 | nodes`
/// (rows and nodes beyond the fields' range take further entries). One
/// word of a send stream, read only through its accessors.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub(crate) struct SentRows(pub u32);

impl SentRows {
    /// Marks the first entry of a tile in a source's send groups (the
    /// tile's one packet).
    const FIRST: u32 = 1 << 15;
    /// Most rows and nodes one entry counts.
    pub const MAX_ROWS: u32 = 0x7F;
    pub const MAX_NODES: u32 = 0xFF;

    /// `rows` rows (at most [`Self::MAX_ROWS`]) with `nodes` nodes (at
    /// most [`Self::MAX_NODES`]) of `tile` (below 2^16).
    pub fn new(tile: u32, first: bool, rows: u32, nodes: u32) -> SentRows {
        debug_assert!(tile < 1 << 16 && rows <= Self::MAX_ROWS && nodes <= Self::MAX_NODES);
        SentRows(tile << 16 | if first { Self::FIRST } else { 0 } | rows << 8 | nodes)
    }

    /// Counts `rows` more rows and `nodes` more nodes (within the fields).
    pub fn add(&mut self, rows: u32, nodes: u32) {
        debug_assert!(self.rows() + rows <= Self::MAX_ROWS && self.nodes() + nodes <= Self::MAX_NODES);
        self.0 += rows << 8 | nodes;
    }

    pub fn tile(self) -> u32 {
        self.0 >> 16
    }

    /// Whether this is the tile's first entry for the source.
    pub fn first(self) -> bool {
        self.0 & Self::FIRST != 0
    }

    pub fn rows(self) -> u32 {
        (self.0 >> 8) & Self::MAX_ROWS
    }

    pub fn nodes(self) -> u32 {
        self.0 & Self::MAX_NODES
    }
}

/// A row read when due (volatile or STDP), as a spike sends it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueuedRow {
    pub tile: u32,
    pub delay: u8,
    /// The tile's first entry for the source (as [`SentRows::first`]).
    pub first: bool,
    /// Index into `Built::deliver_rows`.
    pub row: u32,
}

/// The head word of a [`SendGroup`]: `delay | entries << 8`.
#[derive(Clone, Copy, Debug)]
struct GroupHead(u32);

impl GroupHead {
    /// Most entries one group holds (the head's 24 bits).
    const MAX_ENTRIES: usize = (1 << 24) - 1;

    fn new(delay: u8, entries: usize) -> GroupHead {
        debug_assert!(entries <= Self::MAX_ENTRIES);
        GroupHead(u32::from(delay) | (entries as u32) << 8)
    }

    fn delay(self) -> u8 {
        (self.0 & 0xFF) as u8
    }

    fn entries(self) -> usize {
        (self.0 >> 8) as usize
    }
}

/// One delay's part of a source's send stream, as words: its head
/// (`delay | entries << 8`), `nodes`, then `entries` [`SentRows`], then
/// `nodes` pairs (global column, weight as u32).
pub(crate) struct SendGroup<'a> {
    pub delay: u64,
    pub entries: &'a [u32],
    pub nodes: &'a [u32],
}

/// The groups of a source's send stream.
pub(crate) fn send_groups(mut words: &[u32]) -> impl Iterator<Item = SendGroup<'_>> {
    std::iter::from_fn(move || {
        let (&head, rest) = words.split_first()?;
        let (&nodes, rest) = rest.split_first()?;
        let head = GroupHead(head);
        let (entries, rest) = rest.split_at(head.entries());
        let (nodes, rest) = rest.split_at(2 * nodes as usize);
        words = rest;
        Some(SendGroup { delay: u64::from(head.delay()), entries, nodes })
    })
}

/// One source's rows read when sent, gathered while its tree is traced and
/// then written as its send stream, grouped by delay.
#[derive(Default)]
pub(super) struct SendBuilder {
    /// (delay, entry).
    entries: Vec<(u8, SentRows)>,
    /// The rows' nodes, as (global column, weight as u32) pairs.
    nodes: Vec<u32>,
    /// (delay, first word in `nodes`, words) of each row.
    rows: Vec<(u8, u32, u32)>,
}

impl SendBuilder {
    /// Row of `tile` with `delay` and `nodes` (global column, weight),
    /// merged into the previous entry when that is the same tile's with the
    /// same delay and has room.
    pub fn row(&mut self, tile: u32, delay: u8, first: bool, nodes: &[u16], weights: &[i32], col_lo: u32) {
        let start = self.nodes.len() as u32;
        for (&c, &w) in nodes.iter().zip(weights) {
            self.nodes.extend([col_lo + u32::from(c), w as u32]);
        }
        self.rows.push((delay, start, 2 * nodes.len() as u32));
        let (mut left, mut rows, mut first) = (nodes.len() as u32, 1, first);
        loop {
            let n = left.min(SentRows::MAX_NODES);
            match self.entries.last_mut() {
                Some((d, e))
                    if *d == delay
                        && e.tile() == tile
                        && e.rows() + rows <= SentRows::MAX_ROWS
                        && e.nodes() + n <= SentRows::MAX_NODES =>
                {
                    e.add(rows, n);
                }
                _ => self.entries.push((delay, SentRows::new(tile, first, rows, n))),
            }
            (left, rows, first) = (left - n, 0, false);
            if left == 0 {
                break;
            }
        }
    }

    /// Appends the stream (one group per delay, in increasing delay; a
    /// delay with more entries than a group's head counts takes further
    /// groups) to `out`, and empties the builder.
    pub fn finish(&mut self, out: &mut Vec<u32>) {
        self.finish_groups(out, GroupHead::MAX_ENTRIES);
    }

    /// [`Self::finish`] with at most `max_entries` entries per group.
    fn finish_groups(&mut self, out: &mut Vec<u32>, max_entries: usize) {
        // Rows come in trace order; sorted by delay (stably) unless they
        // are already, as they usually are (one delay): then each delay's
        // nodes lie in one piece.
        let in_order = self.entries.is_sorted_by_key(|e| e.0);
        if !in_order {
            self.entries.sort_by_key(|e| e.0);
            self.rows.sort_by_key(|r| r.0);
        }
        let mut rows = &self.rows[..];
        for g in self.entries.chunk_by(|a, b| a.0 == b.0) {
            let delay = g[0].0;
            let (mine, rest) = rows.split_at(rows.iter().take_while(|r| r.0 == delay).count());
            rows = rest;
            let words: u32 = mine.iter().map(|r| r.2).sum();
            for (i, chunk) in g.chunks(max_entries).enumerate() {
                let nodes = if i == 0 { words / 2 } else { 0 };
                out.extend([GroupHead::new(delay, chunk.len()).0, nodes]);
                out.extend(chunk.iter().map(|e| e.1.0));
                if i > 0 {
                    continue;
                }
                match (in_order, mine.first(), mine.last()) {
                    (true, Some(a), Some(b)) => out.extend_from_slice(&self.nodes[a.1 as usize..(b.1 + b.2) as usize]),
                    _ => mine.iter().for_each(|&(_, start, n)| {
                        out.extend_from_slice(&self.nodes[start as usize..(start + n) as usize])
                    }),
                }
            }
        }
        self.entries.clear();
        self.nodes.clear();
        self.rows.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A source's rows, over several tiles and delays, some with more rows
    /// or nodes than one entry counts: the stream has one group per delay
    /// (increasing), each tile's rows and nodes of that delay add up, each
    /// tile is marked first exactly once, and the nodes keep their order.
    #[test]
    fn send_stream_counts_every_row_and_node_once() {
        // (tile, delay, nodes), in trace order (a tile's rows together).
        let mut mixed: Vec<(u32, u8, usize)> = vec![(3, 2, 1), (3, 2, 0), (3, 1, 300), (0, 1, 2)];
        mixed.extend((0..200).map(|k| (7, 1 + (k % 3 == 0) as u8, k % 5)));
        // (The last row's delay is the first's, other delays in between.)
        mixed.extend([(65_535, 4, 600), (65_535, 4, 255), (65_535, 4, 1), (9, 2, 3)]);
        // Rows already in delay order.
        let mut ordered = mixed.clone();
        ordered.sort_by_key(|r| r.1);
        // Groups of any size, and groups of at most 3 entries (a delay then
        // takes several groups).
        for max in [GroupHead::MAX_ENTRIES, 3] {
            send_stream_case(max, &mixed);
            send_stream_case(max, &ordered);
        }
    }

    fn send_stream_case(max: usize, rows: &[(u32, u8, usize)]) {
        let mut b = SendBuilder::default();
        let mut want_nodes: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
        let mut want_counts: BTreeMap<(u8, u32), (u32, u32)> = BTreeMap::new();
        let mut serial = 0u16;
        for (k, &(tile, delay, n)) in rows.iter().enumerate() {
            let cols: Vec<u16> = (0..n)
                .map(|_| {
                    serial = serial.wrapping_add(1);
                    serial
                })
                .collect();
            let ws: Vec<i32> = cols.iter().map(|&c| -i32::from(c)).collect();
            let first = k == 0 || rows[k - 1].0 != tile;
            b.row(tile, delay, first, &cols, &ws, 10);
            want_nodes
                .entry(delay)
                .or_default()
                .extend(cols.iter().flat_map(|&c| [10 + u32::from(c), -i32::from(c) as u32]));
            let e = want_counts.entry((delay, tile)).or_default();
            (e.0, e.1) = (e.0 + 1, e.1 + n as u32);
        }
        let mut out = vec![99];
        b.finish_groups(&mut out, max);
        assert!(b.entries.is_empty() && b.nodes.is_empty() && b.rows.is_empty());
        let groups: Vec<SendGroup> = send_groups(&out[1..]).collect();
        let mut delays: Vec<u64> = groups.iter().map(|g| g.delay).collect();
        assert!(delays.is_sorted(), "{delays:?}");
        delays.dedup();
        assert_eq!(delays, [1, 2, 4]);
        let mut counts: BTreeMap<(u8, u32), (u32, u32)> = BTreeMap::new();
        let mut firsts = Vec::new();
        let mut nodes: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
        for g in &groups {
            assert!(g.entries.len() <= max);
            nodes.entry(g.delay as u8).or_default().extend_from_slice(g.nodes);
            for &e in g.entries {
                let e = SentRows(e);
                let c = counts.entry((g.delay as u8, e.tile())).or_default();
                (c.0, c.1) = (c.0 + e.rows(), c.1 + e.nodes());
                if e.first() {
                    firsts.push(e.tile());
                }
            }
        }
        assert_eq!(counts, want_counts);
        assert_eq!(nodes, want_nodes);
        firsts.sort_unstable();
        let mut want_firsts: Vec<u32> =
            rows.iter().enumerate().filter(|&(k, r)| k == 0 || rows[k - 1].0 != r.0).map(|(_, r)| r.0).collect();
        want_firsts.sort_unstable();
        assert_eq!(firsts, want_firsts);
    }

    /// An entry's fields, at their bounds, read back as written.
    #[test]
    fn sent_rows_fields_read_back() {
        for (tile, first, rows, nodes) in
            [(0, false, 0, 0), (65_535, true, 127, 255), (7, true, 1, 0), (1, false, 3, 9)]
        {
            let mut e = SentRows::new(tile, first, rows, nodes);
            assert_eq!((e.tile(), e.first(), e.rows(), e.nodes()), (tile, first, rows, nodes));
            if rows < SentRows::MAX_ROWS && nodes < SentRows::MAX_NODES {
                e.add(1, 1);
                assert_eq!((e.tile(), e.first(), e.rows(), e.nodes()), (tile, first, rows + 1, nodes + 1));
            }
        }
    }
}
