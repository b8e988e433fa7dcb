//! Any bytes as a stimulus file (`run`/`sim --stimulus`, CSV, `.npy` or
//! `.npz` by their first bytes, as for standard input) for two input
//! ports, and as a spike file (`plot`): an error, or spikes within the
//! run and the ports.
#![no_main]

use fpnna_data::{Format, SpikeFileNames, parse_stimulus, sniff, spike_csv_rows};
use libfuzzer_sys::fuzz_target;

/// Steps of the run the stimulus is read for.
const STEPS: u64 = 100;

fuzz_target!(|data: &[u8]| {
    let names = SpikeFileNames { file: "standard input", csv_file: "-" };
    let two = [("stim".to_string(), 2), ("in".to_string(), 16)];
    let one = [("in".to_string(), 16)];
    for ports in [&two[..], &one[..]] {
        for format in [sniff(data), Format::Text] {
            let Ok(rows) = parse_stimulus(names, format, data, STEPS, ports) else { continue };
            for r in &rows {
                assert!(r.step < STEPS, "a spike beyond the run: {r:?}");
                let size = ports.iter().find(|(p, _)| *p == r.population).map(|(_, s)| *s);
                assert!(size.is_some_and(|s| r.index < s), "a spike outside the ports: {r:?}");
            }
        }
    }
    if let Ok(rows) = spike_csv_rows("-", data, |_, _, _| Ok(())) {
        assert!(rows.windows(2).all(|w| w[0].1 < w[1].1), "lines out of order");
    }
});
