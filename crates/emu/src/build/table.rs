//! The routers' tables, indexed for tracing: a router's outputs for a key
//! by the first-match rule (`fpnna_bitstream::first_match`), from a dense
//! key-major table of every router's outputs when that is small enough,
//! otherwise from each table grouped by mask ([`Table`]).

use crate::net::NONE;
use fpnna_bitstream::{Grid, RouteEntry, Xy};
use std::collections::BTreeMap;

/// A value of a group: (value, index of its first entry, that entry's outputs).
type Value = (u32, u32, u8);

/// A router's table, indexed for tracing: its entries grouped by mask, each
/// group sorted by value (with the index of the first entry of each value),
/// so that the first matching entry is the earliest of one search per
/// distinct mask (compressed tables use few masks). Trees are traced in
/// increasing key order, so each group keeps a cursor: the search usually
/// moves it forward by a step or two instead of bisecting the whole group.
pub(super) struct Table {
    /// (mask, [(value, index and outputs of its first entry)] sorted by value).
    groups: Vec<(u32, Vec<Value>)>,
    /// Per group: every value before it is below the last value looked up.
    cursor: Vec<usize>,
}

/// Index of the first element of `values` (sorted by `.0`) whose value is
/// not below `v`, given that every element before `*cur` is below the
/// previous `v` (or `*cur == 0`); `*cur` becomes that index.
#[inline]
fn seek(values: &[Value], cur: &mut usize, v: u32) -> usize {
    let mut c = *cur;
    if c > 0 && values[c - 1].0 >= v {
        // The key went back (or down, under a mask): search from the start.
        c = 0;
    }
    let rest = &values[c..];
    let near = rest.len().min(4);
    c += match rest[..near].iter().position(|e| e.0 >= v) {
        Some(k) => k,
        None => near + rest[near..].partition_point(|e| e.0 < v),
    };
    *cur = c;
    c
}

impl Table {
    pub fn new(entries: &[RouteEntry]) -> Table {
        // Group the entries by mask, in table order; entries with value bits
        // outside the mask match no key.
        let mut groups: Vec<(u32, Vec<Value>)> = Vec::new();
        let mut g = 0;
        for (i, e) in entries.iter().enumerate() {
            if e.value & !e.mask != 0 {
                continue;
            }
            if groups.get(g).is_none_or(|x| x.0 != e.mask) {
                g = match groups.iter().position(|x| x.0 == e.mask) {
                    Some(g) => g,
                    None => {
                        groups.push((e.mask, Vec::new()));
                        groups.len() - 1
                    }
                };
            }
            groups[g].1.push((e.value, i as u32, e.out));
        }
        for (_, values) in &mut groups {
            // Stable: equal values stay in table order, the first is kept.
            // (Compiled tables list their entries in value order already.)
            if !values.is_sorted_by_key(|e| e.0) {
                values.sort_by_key(|e| e.0);
            }
            values.dedup_by_key(|e| e.0);
        }
        let cursor = vec![0; groups.len()];
        Table { groups, cursor }
    }

    /// `best[key]` = (index, outputs) of the first entry that matches `key`,
    /// for every key below `key_count` (`(u32::MAX, NO_OUT)`: none). A
    /// group whose mask is a prefix (ones, then zeros) matches a range of
    /// keys with each value; those ranges are filled, other masks are
    /// looked up key by key.
    pub fn outputs(&mut self, key_count: u32, best: &mut Vec<(u32, u8)>) {
        best.clear();
        best.resize(key_count as usize, (u32::MAX, NO_OUT));
        for (g, (mask, values)) in self.groups.iter().enumerate() {
            if is_prefix(*mask) {
                for &(value, i, out) in values {
                    for b in &mut best[prefix_keys(value, *mask, key_count)] {
                        if i < b.0 {
                            *b = (i, out);
                        }
                    }
                }
            } else {
                let cur = &mut self.cursor[g];
                for (key, b) in best.iter_mut().enumerate() {
                    let v = key as u32 & mask;
                    if let Some(e) = values.get(seek(values, cur, v)).filter(|e| e.0 == v && e.1 < b.0) {
                        *b = (e.1, e.2);
                    }
                }
                *cur = 0;
            }
        }
    }

    /// The outputs of the first entry whose `key & mask == value`.
    pub fn lookup(&mut self, key: u32) -> Option<u8> {
        let mut first = (u32::MAX, None);
        for ((mask, values), cur) in self.groups.iter().zip(&mut self.cursor) {
            let v = key & mask;
            let i = seek(values, cur, v);
            if let Some(e) = values.get(i).filter(|e| e.0 == v && e.1 < first.0) {
                first = (e.1, Some(e.2));
            }
        }
        first.1
    }
}

/// No entry matches (in a table of outputs, which use bits 0..5).
const NO_OUT: u8 = 0xFF;

/// Most bytes of the key-major table of every router's outputs.
const DENSE_MAX: usize = 1 << 25;

/// Whether a mask is a prefix (ones, then zeros): an entry with it matches
/// a range of keys.
fn is_prefix(mask: u32) -> bool {
    mask.leading_ones() + mask.trailing_zeros() == 32
}

/// The keys below `key_count` that `key & mask == value` matches, for a
/// prefix `mask` and a `value` within it.
fn prefix_keys(value: u32, mask: u32, key_count: u32) -> std::ops::Range<usize> {
    let lo = u64::from(value).min(u64::from(key_count));
    let hi = (u64::from(value) + u64::from(!mask) + 1).min(u64::from(key_count));
    lo as usize..hi as usize
}

/// The outputs of the first entry of each router (`routers[r]`, its
/// entries) that matches each key below `key_count` (`NO_OUT`: none),
/// key-major: `[key * routers.len() + r]`, so that the routers a tree
/// visits lie side by side. Tables whose masks are all prefixes (ones, then
/// zeros: what the compiler writes) are filled range by range from their
/// last entry to their first, so that the first match is written last;
/// others are indexed by [`Table`].
fn dense_outputs(routers: &[&[RouteEntry]], key_count: u32) -> Vec<u8> {
    let nr = routers.len();
    let mut dense = vec![NO_OUT; nr * key_count as usize];
    let mut best = Vec::new();
    for (r, entries) in routers.iter().enumerate() {
        if entries.iter().all(|e| is_prefix(e.mask)) {
            for e in entries.iter().rev().filter(|e| e.value & !e.mask == 0) {
                for key in prefix_keys(e.value, e.mask, key_count) {
                    dense[key * nr + r] = e.out;
                }
            }
        } else {
            Table::new(entries).outputs(key_count, &mut best);
            for (key, &(_, out)) in best.iter().enumerate() {
                dense[key * nr + r] = out;
            }
        }
    }
    dense
}

/// Every router of the grid, for lookups by cell (dense index of
/// [`Grid`]): every router's outputs for every key, when that is not too
/// large, otherwise the tables, indexed.
pub(super) struct Routes {
    /// Router of each cell, an index into the routers (`NONE`: none).
    router_at: Vec<u32>,
    routers: usize,
    /// Key-major outputs (see [`dense_outputs`]); empty: use `tables`.
    dense: Vec<u8>,
    tables: Vec<Table>,
}

impl Routes {
    /// The routers (each with its entries, in coordinate order) of `grid`,
    /// for keys below `key_count`.
    pub fn new(routers: &BTreeMap<Xy, &[RouteEntry]>, grid: Grid, key_count: u32) -> Routes {
        let mut router_at = vec![NONE; grid.cells()];
        let mut entries = Vec::with_capacity(routers.len());
        for (at, &e) in routers {
            router_at[grid.index(at.x, at.y)] = entries.len() as u32;
            entries.push(e);
        }
        let nr = entries.len();
        let dense = if nr * key_count as usize <= DENSE_MAX { dense_outputs(&entries, key_count) } else { Vec::new() };
        let tables = if dense.is_empty() { entries.iter().map(|e| Table::new(e)).collect() } else { Vec::new() };
        Routes { router_at, routers: nr, dense, tables }
    }

    /// The outputs of the router at cell `c` for `key` (`None`: no router,
    /// or no entry matches).
    #[inline(always)]
    pub fn lookup(&mut self, c: usize, key: u32) -> Option<u8> {
        match self.router_at[c] {
            NONE => None,
            r if !self.dense.is_empty() => {
                Some(self.dense[key as usize * self.routers + r as usize]).filter(|&o| o != NO_OUT)
            }
            r => self.tables[r as usize].lookup(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fpnna_bitstream::first_match;
    use fpnna_model as m;

    /// The outputs of `entries` for every key below `n` by the rule, with
    /// `NO_OUT` for none (the dense tables' form).
    fn rule(entries: &[RouteEntry], n: u32) -> Vec<u8> {
        (0..n).map(|key| first_match(entries, key).unwrap_or(NO_OUT)).collect()
    }

    /// Checks every way the emulator looks up `entries` (the indexed
    /// table, looked up in increasing key order as in tracing and then in
    /// `any` order; its table of all keys; the dense table of this router
    /// and of its prefix entries alone, side by side) against the rule
    /// for keys below `n`.
    fn check_table(entries: &[RouteEntry], n: u32, any: &[u32]) {
        let mut t = Table::new(entries);
        for key in (0..n).chain(any.iter().copied()) {
            assert_eq!(t.lookup(key), first_match(entries, key), "key {key} in {entries:?}");
        }
        let mut best = Vec::new();
        t.outputs(n, &mut best);
        let want = rule(entries, n);
        assert_eq!(best.iter().map(|b| b.1).collect::<Vec<_>>(), want, "{entries:?}");
        let prefix: Vec<RouteEntry> = entries.iter().copied().filter(|e| is_prefix(e.mask)).collect();
        let dense = dense_outputs(&[entries, &prefix], n);
        let want_prefix = rule(&prefix, n);
        for key in 0..n as usize {
            assert_eq!(dense[key * 2], want[key], "key {key} in {entries:?}");
            assert_eq!(dense[key * 2 + 1], want_prefix[key], "key {key} in {prefix:?}");
        }
    }

    /// The indexed table (looked up, or as a table of all keys) finds the
    /// same entry as the rule, with exact, prefix and other masks mixed
    /// and repeated values.
    #[test]
    fn indexed_lookup_equals_first_match_scan() {
        let mut h = 5u64;
        let mut rnd = move || {
            h = m::hash3(h, 1, 1);
            h
        };
        for _ in 0..500 {
            let n = (rnd() % 12) as usize;
            let entries: Vec<RouteEntry> = (0..n)
                .map(|_| {
                    let mask = match rnd() % 3 {
                        0 => u32::MAX,
                        1 => (rnd() % 16) as u32,
                        _ => u32::MAX << (rnd() % 5),
                    };
                    // Now and then a value with bits outside its mask (it matches nothing).
                    let value = if rnd() % 8 == 0 { (rnd() % 20) as u32 } else { (rnd() % 20) as u32 & mask };
                    RouteEntry { value, mask, out: (rnd() % 32) as u8 }
                })
                .collect();
            // Keys in any order: the cursors must also find entries behind them.
            let any: Vec<u32> = (0..24).map(|_| (rnd() % 24) as u32).collect();
            check_table(&entries, 24, &any);
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// A router with `entries` at cell 1 of a 2x1 grid, and none at cell 0.
        fn routes_of(entries: &[RouteEntry], key_count: u32) -> Routes {
            let grid = Grid { width: 2, height: 1 };
            Routes::new(&BTreeMap::from([(Xy { x: 1, y: 0 }, entries)]), grid, key_count)
        }

        /// An entry: exact, prefix, or any mask, with a value within it
        /// mostly (and now and then one with bits outside it, which
        /// matches nothing).
        fn entry() -> impl Strategy<Value = RouteEntry> {
            let mask = prop_oneof![Just(u32::MAX), (0u32..64), (0u32..8).prop_map(|s| u32::MAX << s), any::<u32>()];
            (mask, 0u32..80, any::<bool>(), 0u8..32).prop_map(|(mask, v, inside, out)| RouteEntry {
                value: if inside { v & mask } else { v },
                mask,
                out,
            })
        }

        proptest! {
            #![proptest_config(fpnna_testkit::prop::fixed(256, 0x7ab1e, file!()))]

            /// `Table::lookup` and `Table::outputs` (the slow path), the
            /// dense table (the fast path), and `Routes::lookup` over either
            /// agree with `first_match` on every key.
            #[test]
            fn table_lookups_follow_first_match(
                entries in prop::collection::vec(entry(), 0..16),
                any in prop::collection::vec(0u32..96, 0..32),
            ) {
                check_table(&entries, 96, &any);
                let mut dense = routes_of(&entries, 96);
                prop_assert!(!dense.dense.is_empty());
                // More keys than the dense table may hold: the indexed tables.
                let mut indexed = routes_of(&entries, (DENSE_MAX + 1) as u32);
                prop_assert!(indexed.dense.is_empty());
                for key in (0..96).chain(any.iter().copied()) {
                    prop_assert_eq!(dense.lookup(0, key), None);
                    prop_assert_eq!(dense.lookup(1, key), first_match(&entries, key));
                    prop_assert_eq!(indexed.lookup(0, key), None);
                    prop_assert_eq!(indexed.lookup(1, key), first_match(&entries, key));
                }
            }
        }
    }
}
