//! Spike files (docs/cli.md, "Spike files"): CSV with the header
//! `step,population,index`, or NumPy: an `.npz` of one `[steps, channels]`
//! array per population (and a stimulus `.npy` of one such array for the
//! only input port). The pure parse of the bytes; the command line reads
//! the file and wraps the errors.

use crate::{Array, DataError, Format};

/// The header line of every spike file.
pub const SPIKE_HEADER: &str = "step,population,index";

/// One spike as read.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikeRow {
    /// Timestep.
    pub step: u64,
    /// Port (population) name.
    pub population: String,
    /// Index in the port.
    pub index: u32,
}

/// A refused spike file: the whole message, file and place included.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SpikeFileError(pub String);

impl From<DataError> for SpikeFileError {
    fn from(e: DataError) -> Self {
        SpikeFileError(e.to_string())
    }
}

/// The format of spike bytes by their first bytes (`.npy` and `.npz`
/// magic, else CSV): for standard input, which has no extension.
pub fn sniff(bytes: &[u8]) -> Format {
    match bytes {
        [0x93, b'N', b'U', b'M', b'P', b'Y', ..] => Format::Npy,
        [b'P', b'K', 3, 4, ..] => Format::Npz,
        _ => Format::Text,
    }
}

/// How a stimulus file is named in messages: `file` in those of NumPy
/// files (`standard input` for `-`), `csv_file` before the line numbers of
/// a CSV file (the path as given).
#[derive(Clone, Copy, Debug)]
pub struct SpikeFileNames<'a> {
    /// The name in NumPy messages.
    pub file: &'a str,
    /// The name in CSV messages.
    pub csv_file: &'a str,
}

/// The names of `ports` for a message.
fn port_list(ports: &[(String, u32)]) -> String {
    let names: Vec<&str> = ports.iter().map(|(p, _)| p.as_str()).collect();
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

/// Parses the bytes of a stimulus file of `format`. `ports` are the input
/// ports (name, size); spikes at or beyond `steps` are refused.
pub fn parse_stimulus(
    names: SpikeFileNames<'_>,
    format: Format,
    bytes: &[u8],
    steps: u64,
    ports: &[(String, u32)],
) -> Result<Vec<SpikeRow>, SpikeFileError> {
    let file = names.file;
    match format {
        Format::Npy => {
            let [(port, size)] = ports else {
                return Err(SpikeFileError(format!(
                    "{file}: an .npy stimulus feeds the only input port, but there are {} (input ports: {}); \
                     give an .npz with one array per port",
                    ports.len(),
                    port_list(ports)
                )));
            };
            let a = crate::read_npy(file, bytes)?;
            Ok(array_rows(file, port, *size, &a, steps)?)
        }
        Format::Npz => {
            let mut rows = Vec::new();
            for (name, a) in crate::npz_arrays(file, bytes)? {
                let Some((_, size)) = ports.iter().find(|(p, _)| *p == name) else {
                    return Err(SpikeFileError(format!(
                        "{file}: array `{name}` is not an input port (input ports: {})",
                        port_list(ports)
                    )));
                };
                rows.extend(array_rows(&format!("{file}:{name}"), &name, *size, &a, steps)?);
            }
            Ok(rows)
        }
        Format::Text => stimulus_csv(names.csv_file, bytes, steps, ports),
    }
}

/// The spikes of a `[steps, channels]` array of 0 and 1 for `port`.
fn array_rows(file: &str, port: &str, size: u32, a: &Array, steps: u64) -> Result<Vec<SpikeRow>, DataError> {
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
            rows.push(SpikeRow { step: (k / c) as u64, population: port.to_string(), index: (k % c) as u32 });
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
fn stimulus_csv(
    file: &str,
    bytes: &[u8],
    steps: u64,
    ports: &[(String, u32)],
) -> Result<Vec<SpikeRow>, SpikeFileError> {
    // Looked up per row: a map built once, not a scan of the ports.
    let mut size_of = std::collections::BTreeMap::new();
    for (p, s) in ports {
        size_of.entry(p.as_str()).or_insert(*s);
    }
    let rows = spike_csv_rows(file, bytes, |step, population, index| {
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

/// The rows of a CSV spike file (named `file` in messages) with their
/// 1-based lines, each also passed to `check` (step, population, index),
/// whose refusal is an error at its line.
pub fn spike_csv_rows(
    file: &str,
    bytes: &[u8],
    mut check: impl FnMut(u64, &str, u32) -> Result<(), String>,
) -> Result<Vec<(SpikeRow, usize)>, SpikeFileError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| SpikeFileError(format!("{file}: not UTF-8 text (byte {})", e.valid_up_to())))?;
    let at = |line: usize, msg: String| SpikeFileError(format!("{file}:{line}: {msg}"));
    let mut lines = text.lines().enumerate().map(|(k, l)| (k + 1, l.trim_end_matches('\r')));
    match lines.next() {
        Some((_, h)) if h.replace(' ', "") == SPIKE_HEADER => {}
        Some((n, h)) => return Err(at(n, format!("expected the header `{SPIKE_HEADER}`, found `{h}`"))),
        None => return Err(at(1, format!("empty file: expected the header `{SPIKE_HEADER}`"))),
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
        rows.push((SpikeRow { step, population: cells[1].to_string(), index }, n));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports() -> Vec<(String, u32)> {
        vec![("a".into(), 2), ("b".into(), 1)]
    }

    fn csv(text: &str) -> Result<Vec<SpikeRow>, SpikeFileError> {
        parse_stimulus(SpikeFileNames { file: "s.csv", csv_file: "s.csv" }, Format::Text, text.as_bytes(), 10, &ports())
    }

    #[test]
    fn csv_stimuli_are_read_and_located_errors_refused() {
        let rows = csv("step,population,index\n0,a,1\n\n3, b ,0\r\n").unwrap();
        assert_eq!(
            rows,
            vec![
                SpikeRow { step: 0, population: "a".into(), index: 1 },
                SpikeRow { step: 3, population: "b".into(), index: 0 }
            ]
        );
        let err = |t: &str| csv(t).unwrap_err().to_string();
        assert_eq!(err(""), "s.csv:1: empty file: expected the header `step,population,index`");
        assert_eq!(err("x\n"), "s.csv:1: expected the header `step,population,index`, found `x`");
        assert_eq!(err("step,population,index\n0,a\n"), "s.csv:2: expected 3 fields `step,population,index`, found 2");
        assert_eq!(err("step,population,index\n-1,a,0\n"), "s.csv:2: step `-1` is not a whole number");
        assert_eq!(err("step,population,index\n1,a,x\n"), "s.csv:2: index `x` is not a whole number");
        assert!(err("step,population,index\n10,a,0\n").starts_with("s.csv:2: step 10 is beyond the run"));
        assert_eq!(err("step,population,index\n1,c,0\n"), "s.csv:2: `c` is not an input port (input ports: a, b)");
        assert_eq!(err("step,population,index\n1,a,2\n"), "s.csv:2: index 2 is out of range for `a` (size 2)");
        let bad = parse_stimulus(
            SpikeFileNames { file: "standard input", csv_file: "-" },
            Format::Text,
            b"\xff",
            10,
            &ports(),
        );
        assert_eq!(bad.unwrap_err().to_string(), "-: not UTF-8 text (byte 0)");
    }

    #[test]
    fn an_npy_stimulus_needs_one_port_and_bytes_are_sniffed() {
        let names = SpikeFileNames { file: "standard input", csv_file: "-" };
        let e = parse_stimulus(names, Format::Npy, b"", 10, &ports()).unwrap_err().to_string();
        assert!(e.starts_with("standard input: an .npy stimulus feeds the only input port, but there are 2"), "{e}");
        assert_eq!(sniff(b"\x93NUMPY\x01\x00"), Format::Npy);
        assert_eq!(sniff(b"PK\x03\x04"), Format::Npz);
        assert_eq!(sniff(b"step"), Format::Text);
    }
}
