//! Key -> symbol lookup, built once: spikes are named per spike, so the
//! lookup is a binary search, not a scan of the symbols.

use fpnna_bitstream::Symbol;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const NONE: u32 = u32::MAX;

/// The key line cut into intervals, each owned by the first symbol (in
/// bitstream order) covering it, as a scan of the symbols would find.
#[derive(Clone, Debug, Default)]
pub(crate) struct SymbolIndex {
    /// Interval starts, ascending.
    starts: Vec<u64>,
    /// Owner of each interval (a symbol index, or `NONE`).
    owner: Vec<u32>,
}

impl SymbolIndex {
    /// Indexes `symbols` (which may overlap: the first one wins).
    pub fn new(symbols: &[Symbol]) -> Self {
        let end = |s: &Symbol| u64::from(s.key_base) + u64::from(s.size);
        let mut by_start: Vec<u32> = (0..symbols.len() as u32).filter(|&i| symbols[i as usize].size > 0).collect();
        by_start.sort_by_key(|&i| (symbols[i as usize].key_base, i));
        let mut bounds: Vec<u64> = by_start
            .iter()
            .flat_map(|&i| [u64::from(symbols[i as usize].key_base), end(&symbols[i as usize])])
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        let mut index = SymbolIndex::default();
        let mut active = BinaryHeap::new();
        let mut next = 0;
        for &b in &bounds {
            while next < by_start.len() && u64::from(symbols[by_start[next] as usize].key_base) == b {
                active.push(Reverse(by_start[next]));
                next += 1;
            }
            // Expired symbols leave lazily, when they reach the top.
            while active.peek().is_some_and(|&Reverse(i)| end(&symbols[i as usize]) <= b) {
                active.pop();
            }
            let owner = active.peek().map_or(NONE, |&Reverse(i)| i);
            if index.owner.last() != Some(&owner) {
                index.starts.push(b);
                index.owner.push(owner);
            }
        }
        index
    }

    /// Index of the first symbol whose keys hold `key`.
    pub fn lookup(&self, key: u32) -> Option<usize> {
        let j = self.starts.partition_point(|&s| s <= u64::from(key)).checked_sub(1)?;
        (self.owner[j] != NONE).then_some(self.owner[j] as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(key_base: u32, size: u32) -> Symbol {
        Symbol { name: String::new(), key_base, size, kind: "lif".into() }
    }

    #[test]
    fn lookup_is_the_first_symbol_covering_the_key() {
        let symbols = [sym(10, 5), sym(0, 4), sym(12, 10), sym(30, 0), sym(3, 2), sym(40, 1)];
        let index = SymbolIndex::new(&symbols);
        for key in 0..50 {
            let scan = symbols.iter().position(|s| key >= s.key_base && key - s.key_base < s.size);
            assert_eq!(index.lookup(key), scan, "key {key}");
        }
        assert_eq!(SymbolIndex::new(&[]).lookup(0), None);
    }
}
