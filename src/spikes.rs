//! Spike files: CSV with the header `step,population,index`, rows sorted by
//! step, then population name, then index; or NumPy: an `.npz` of one
//! `[steps, channels]` array per population (and a stimulus `.npy` of one
//! such array for the only input port). docs/cli.md, "Spike files".

use crate::error::CliError;
use fpnna_data::{Format, SpikeFileNames};
use std::fmt::Write;
use std::path::Path;

/// The header line of every spike file.
pub const HEADER: &str = fpnna_data::SPIKE_HEADER;

/// One stimulus spike as read.
pub type Row = fpnna_data::SpikeRow;

/// The format of a spike file: by its extension, or for `-` by its first
/// bytes (`.npy` and `.npz` magic, else CSV).
fn format_of(path: &Path, bytes: &[u8]) -> Format {
    if crate::io::is_std(path) { fpnna_data::sniff(bytes) } else { Format::of(path) }
}

/// Reads a stimulus file (`-`: standard input), CSV or NumPy. `ports` are
/// the input ports (name, size); spikes at or beyond `steps` are refused.
/// The parse is `fpnna_data::parse_stimulus`.
pub fn read_stimulus(path: &Path, steps: u64, ports: &[(String, u32)]) -> Result<Vec<Row>, CliError> {
    let bytes = crate::io::read_limited(path, crate::io::limits::STIMULUS)?;
    let file = if crate::io::is_std(path) { "standard input".to_string() } else { path.display().to_string() };
    let csv_file = path.display().to_string();
    let names = SpikeFileNames { file: &file, csv_file: &csv_file };
    fpnna_data::parse_stimulus(names, format_of(path, &bytes), &bytes, steps, ports)
        .map_err(|e| CliError::Input(e.to_string()))
}

/// Reads a CSV spike file as `run` and `sim` write it, of any populations
/// (the file alone tells no sizes): each row with its 1-based line.
pub fn read_spikes(path: &Path) -> Result<Vec<(Row, usize)>, CliError> {
    let bytes = crate::io::read_limited(path, crate::io::limits::STIMULUS)?;
    fpnna_data::spike_csv_rows(&path.display().to_string(), &bytes, |_, _, _| Ok(()))
        .map_err(|e| CliError::Input(e.to_string()))
}

/// Formats spikes (already in file order) as a spike file.
pub fn format(rows: impl Iterator<Item = (u64, String, u32)>) -> String {
    let mut out = String::with_capacity(1 << 16);
    out.push_str(HEADER);
    out.push('\n');
    for (step, pop, index) in rows {
        let _ = writeln!(out, "{step},{pop},{index}");
    }
    out
}

/// The most counts an `.npz` of spikes holds (2 GiB before compression).
const MAX_NPZ_ELEMENTS: u64 = 1 << 31;

/// Whether spikes written to `path` are an `.npz` (by its extension).
pub fn is_npz(path: &Path) -> bool {
    Format::of(path) == Format::Npz && !crate::io::is_std(path)
}

/// Spikes as an `.npz`: one `uint8` array `[steps, size]` per recorded
/// population (`pops`: name, size), 1 where the neuron spiked.
pub fn format_npz(pops: &[(String, u32)], steps: u64, rows: &[(u64, String, u32)]) -> Result<Vec<u8>, CliError> {
    // Each population's spikes in step order, gathered once.
    let mut by_pop: std::collections::BTreeMap<&str, Vec<(u64, u32)>> = std::collections::BTreeMap::new();
    for (step, pop, index) in rows {
        by_pop.entry(pop.as_str()).or_default().push((*step, *index));
    }
    let elements: u64 = pops.iter().map(|(_, s)| u64::from(*s) * steps).sum();
    if elements > MAX_NPZ_ELEMENTS {
        return Err(CliError::Usage(format!(
            "an .npz of {steps} steps x {} neurons would hold {elements} counts (at most {MAX_NPZ_ELEMENTS}): \
             write the spikes as CSV",
            pops.iter().map(|(_, s)| u64::from(*s)).sum::<u64>()
        )));
    }
    let bug = |e: std::io::Error| CliError::Bug(format!("writing an .npz in memory: {e}"));
    let mut w = fpnna_data::NpzWriter::default();
    for (name, size) in pops {
        let spikes = by_pop.get(name.as_str()).map_or(&[][..], Vec::as_slice);
        let mut next = 0;
        w.add_u8(name, steps as usize, *size as usize, |r, row| {
            while next < spikes.len() && spikes[next].0 == r as u64 {
                row[spikes[next].1 as usize] = 1;
                next += 1;
            }
        })
        .map_err(bug)?;
    }
    w.finish().map_err(bug)
}

/// The per-population summary: size, spikes and mean rate of each of
/// `pops` (name, size, spikes) over `steps` steps of `dt_ms`.
pub fn rate_table(pops: impl Iterator<Item = (String, u32, u64)>, steps: u64, dt_ms: f64) -> String {
    let secs = steps as f64 * dt_ms / 1000.0;
    let mut s = format!("{:<24} {:>8} {:>10} {:>12}\n", "population", "size", "spikes", "rate (Hz)");
    for (name, size, n) in pops {
        let rate = if secs > 0.0 { n as f64 / f64::from(size) / secs } else { 0.0 };
        let _ = writeln!(s, "{name:<24} {size:>8} {n:>10} {rate:>12.3}");
    }
    s
}
