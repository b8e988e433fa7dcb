//! Spike files: CSV with the header `step,population,index`, rows sorted by
//! step, then population name, then index (docs/cli.md).

use crate::error::CliError;
use std::fmt::Write;
use std::path::Path;

/// The header line of every spike file.
pub const HEADER: &str = "step,population,index";

/// One stimulus spike as read, with its line for error messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Timestep.
    pub step: u64,
    /// Port (population) name.
    pub population: String,
    /// Index in the port.
    pub index: u32,
    /// 1-based line in the file.
    pub line: usize,
}

/// Reads a stimulus file. `size_of` gives the size of an input port by name
/// (`None`: no such input port; the error lists `ports`); spikes at or
/// beyond `steps` are refused.
pub fn read_stimulus(path: &Path, steps: u64, ports: &[(String, u32)]) -> Result<Vec<Row>, CliError> {
    // Looked up per row: a map built once, not a scan of the ports.
    let mut size_of = std::collections::BTreeMap::new();
    for (p, s) in ports {
        size_of.entry(p.as_str()).or_insert(*s);
    }
    read_rows(path, |step, population, index| {
        if step >= steps {
            return Err(format!("step {step} is beyond the run (steps 0..{steps}); raise --steps or drop the spike"));
        }
        let Some(size) = size_of.get(population) else {
            let names: Vec<&str> = ports.iter().map(|(p, _)| p.as_str()).collect();
            return Err(format!(
                "`{population}` is not an input port (input ports: {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ));
        };
        if index >= *size {
            return Err(format!("index {index} is out of range for `{population}` (size {size})"));
        }
        Ok(())
    })
}

/// Reads a spike file as `run` and `sim` write it, of any populations
/// (the file alone tells no sizes).
pub fn read_spikes(path: &Path) -> Result<Vec<Row>, CliError> {
    read_rows(path, |_, _, _| Ok(()))
}

/// The rows of a spike file, each also passed to `check` (step,
/// population, index), whose refusal is an error at its line.
fn read_rows(path: &Path, mut check: impl FnMut(u64, &str, u32) -> Result<(), String>) -> Result<Vec<Row>, CliError> {
    let bytes = crate::io::read(path)?;
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
        rows.push(Row { step, population: cells[1].to_string(), index, line: n });
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
