//! Times `decode` (validation included) of a bitstream file.
//!
//! ```text
//! cargo run --release -p fpnna-bitstream --example load_bench -- FILE.fpb [RUNS]
//! ```
//!
//! Prints the median of RUNS (default 10) decodes, in ms and MB/s of file,
//! the heap size of the decoded configuration, and the peak resident memory
//! of the process (Linux only).

use fpnna_bitstream::Bitstream;
use std::mem::size_of_val;
use std::time::Instant;

/// Heap bytes held by the decoded configuration's vectors (strings and the
/// architecture left out: they are small).
fn heap_bytes(b: &Bitstream) -> usize {
    fn cap<T>(v: &Vec<T>) -> usize {
        v.capacity() * std::mem::size_of::<T>()
    }
    let tiles: usize = b
        .tiles
        .iter()
        .map(|t| cap(&t.params) + cap(&t.volatile) + cap(&t.stdp) + cap(&t.columns) + cap(&t.rows) + cap(&t.nodes))
        .sum();
    let routers: usize = b.routers.iter().map(|r| cap(&r.entries)).sum();
    size_of_val(b) + cap(&b.tiles) + tiles + cap(&b.routers) + routers + cap(&b.ports) + cap(&b.symbols)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: load_bench FILE.fpb [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().map_or(10, |r| r.parse().expect("RUNS must be a number"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rss_before = peak_rss_kib();
    let mut times = Vec::with_capacity(runs);
    let (mut nodes, mut heap) = (0, 0);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let b = fpnna_bitstream::decode(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        times.push(start.elapsed().as_secs_f64());
        nodes = b.tiles.iter().map(|t| t.nodes.len()).sum::<usize>();
        heap = heap_bytes(&b);
        drop(b);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "{path}: {:.2} MB, {nodes} nodes: decode median {:.2} ms of {} (min {:.2}, max {:.2}), {:.0} MB/s",
        mb,
        median * 1e3,
        times.len(),
        times[0] * 1e3,
        times[times.len() - 1] * 1e3,
        mb / median
    );
    println!("decoded configuration: {:.1} MB of vectors", heap as f64 / (1024.0 * 1024.0));
    if let (Some(before), Some(after)) = (rss_before, peak_rss_kib()) {
        println!(
            "peak RSS {:.1} MB ({:.1} MB above the file read into memory)",
            after as f64 / 1024.0,
            after.saturating_sub(before) as f64 / 1024.0
        );
    }
}
