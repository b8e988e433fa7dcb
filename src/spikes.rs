//! Spike files: CSV with the header `step,population,index`, rows sorted by
//! step, then population name, then index; or NumPy: an `.npz` of one
//! `[steps, channels]` array per population (and a stimulus `.npy` of one
//! such array for the only input port). docs/cli.md, "Spike files".

use crate::error::CliError;
use fpnna_data::{Array, DataError, Format};
use std::fmt::Write;
use std::path::Path;

/// The header line of every spike file.
pub const HEADER: &str = "step,population,index";

/// One stimulus spike as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Timestep.
    pub step: u64,
    /// Port (population) name.
    pub population: String,
    /// Index in the port.
    pub index: u32,
}

/// The format of a spike file: by its extension, or for `-` by its first
/// bytes (`.npy` and `.npz` magic, else CSV).
fn format_of(path: &Path, bytes: &[u8]) -> Format {
    if crate::io::is_std(path) {
        match bytes {
            [0x93, b'N', b'U', b'M', b'P', b'Y', ..] => Format::Npy,
            [b'P', b'K', 3, 4, ..] => Format::Npz,
            _ => Format::Text,
        }
    } else {
        Format::of(path)
    }
}

/// The names of `ports` for a message.
fn port_list(ports: &[(String, u32)]) -> String {
    let names: Vec<&str> = ports.iter().map(|(p, _)| p.as_str()).collect();
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

/// Reads a stimulus file (`-`: standard input), CSV or NumPy. `ports` are
/// the input ports (name, size); spikes at or beyond `steps` are refused.
pub fn read_stimulus(path: &Path, steps: u64, ports: &[(String, u32)]) -> Result<Vec<Row>, CliError> {
    let bytes = crate::io::read_limited(path, crate::io::limits::STIMULUS)?;
    let file = if crate::io::is_std(path) { "standard input".to_string() } else { path.display().to_string() };
    let input = |e: DataError| CliError::Input(e.to_string());
    match format_of(path, &bytes) {
        Format::Npy => {
            let [(port, size)] = ports else {
                return Err(CliError::Input(format!(
                    "{file}: an .npy stimulus feeds the only input port, but there are {} (input ports: {}); \
                     give an .npz with one array per port",
                    ports.len(),
                    port_list(ports)
                )));
            };
            let a = fpnna_data::read_npy(&file, &bytes).map_err(input)?;
            array_rows(&file, port, *size, &a, steps).map_err(input)
        }
        Format::Npz => {
            let mut rows = Vec::new();
            for (name, a) in fpnna_data::npz_arrays(&file, &bytes).map_err(input)? {
                let Some((_, size)) = ports.iter().find(|(p, _)| *p == name) else {
                    return Err(CliError::Input(format!(
                        "{file}: array `{name}` is not an input port (input ports: {})",
                        port_list(ports)
                    )));
                };
                rows.extend(array_rows(&format!("{file}:{name}"), &name, *size, &a, steps).map_err(input)?);
            }
            Ok(rows)
        }
        Format::Text => read_csv(path, bytes, steps, ports),
    }
}

/// The spikes of a `[steps, channels]` array of 0 and 1 for `port`.
fn array_rows(file: &str, port: &str, size: u32, a: &Array, steps: u64) -> Result<Vec<Row>, DataError> {
    let Some((t, c)) = a.matrix().filter(|_| a.shape.len() == 2) else {
        return Err(DataError::at(file, "", format!("shape {:?}: a stimulus is [steps, channels]", a.shape)));
    };
    if c != size as usize {
        return Err(DataError::at(file, "", format!("{c} channels; input port `{port}` has {size}")));
    }
    if t as u64 > steps {
        return Err(DataError::at(file, "", format!("{t} steps, beyond the run (steps 0..{steps}); raise --steps")));
    }
    let mut rows = Vec::new();
    for (k, &x) in a.values.iter().enumerate() {
        if x == 1.0 {
            rows.push(Row { step: (k / c) as u64, population: port.to_string(), index: (k % c) as u32 });
        } else if x != 0.0 {
            return Err(DataError::at(
                file,
                format!("element {}", a.index_of(k)),
                format!("{x}: a stimulus holds 0 (no spike) or 1 (a spike)"),
            ));
        }
    }
    Ok(rows)
}

/// A CSV stimulus.
fn read_csv(path: &Path, bytes: Vec<u8>, steps: u64, ports: &[(String, u32)]) -> Result<Vec<Row>, CliError> {
    // Looked up per row: a map built once, not a scan of the ports.
    let mut size_of = std::collections::BTreeMap::new();
    for (p, s) in ports {
        size_of.entry(p.as_str()).or_insert(*s);
    }
    let rows = csv_rows(path, bytes, |step, population, index| {
        if step >= steps {
            return Err(format!("step {step} is beyond the run (steps 0..{steps}); raise --steps or drop the spike"));
        }
        let Some(size) = size_of.get(population) else {
            return Err(format!("`{population}` is not an input port (input ports: {})", port_list(ports)));
        };
        if index >= *size {
            return Err(format!("index {index} is out of range for `{population}` (size {size})"));
        }
        Ok(())
    })?;
    Ok(rows.into_iter().map(|(r, _)| r).collect())
}

/// Reads a CSV spike file as `run` and `sim` write it, of any populations
/// (the file alone tells no sizes): each row with its 1-based line.
pub fn read_spikes(path: &Path) -> Result<Vec<(Row, usize)>, CliError> {
    csv_rows(path, crate::io::read_limited(path, crate::io::limits::STIMULUS)?, |_, _, _| Ok(()))
}

/// The rows of a CSV spike file with their lines, each also passed to
/// `check` (step, population, index), whose refusal is an error at its line.
fn csv_rows(
    path: &Path,
    bytes: Vec<u8>,
    mut check: impl FnMut(u64, &str, u32) -> Result<(), String>,
) -> Result<Vec<(Row, usize)>, CliError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::Input(format!("{}: not UTF-8 text (byte {})", path.display(), e.utf8_error().valid_up_to()))
    })?;
    let at = |line: usize, msg: String| CliError::Input(format!("{}:{line}: {msg}", path.display()));
    let mut lines = text.lines().enumerate().map(|(k, l)| (k + 1, l.trim_end_matches('\r')));
    match lines.next() {
        Some((_, h)) if h.replace(' ', "") == HEADER => {}
        Some((n, h)) => return Err(at(n, format!("expected the header `{HEADER}`, found `{h}`"))),
        None => return Err(at(1, format!("empty file: expected the header `{HEADER}`"))),
    }
    let mut rows = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != 3 {
            return Err(at(n, format!("expected 3 fields `step,population,index`, found {}", cells.len())));
        }
        let step: u64 = cells[0].parse().map_err(|_| at(n, format!("step `{}` is not a whole number", cells[0])))?;
        let index: u32 = cells[2].parse().map_err(|_| at(n, format!("index `{}` is not a whole number", cells[2])))?;
        check(step, cells[1], index).map_err(|m| at(n, m))?;
        rows.push((Row { step, population: cells[1].to_string(), index }, n));
    }
    Ok(rows)
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
