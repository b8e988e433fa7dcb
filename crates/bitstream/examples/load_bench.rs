//! Times `decode` (validation included) of a bitstream file.
//!
//! ```text
//! cargo run --release -p fpnna-bitstream --example load_bench -- FILE.fpb [RUNS]
//! ```
//!
//! Prints the median of RUNS (default 10) decodes, in ms and MB/s of file,
//! and the peak resident memory of the process (Linux only).

use std::time::Instant;

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
    let mut nodes = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let b = fpnna_bitstream::decode(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        times.push(start.elapsed().as_secs_f64());
        nodes = b.tiles.iter().map(|t| t.nodes.len()).sum::<usize>();
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
    if let (Some(before), Some(after)) = (rss_before, peak_rss_kib()) {
        println!(
            "peak RSS {:.1} MB ({:.1} MB above the file read into memory)",
            after as f64 / 1024.0,
            after.saturating_sub(before) as f64 / 1024.0
        );
    }
}
