//! `run --vcd`: the traced neurons, the window and the size limit of the
//! dump, checked before the run (docs/cli.md, "Limits").

use super::Args;
use crate::error::CliError;
use fpnna_emu::{EmuError, Emulator, Timescale, VcdOptions};

/// The VCD's options: the traced neurons and the window, checked.
pub fn options(a: &Args, emu: &Emulator, steps: u64, first: u64) -> Result<VcdOptions, CliError> {
    let trace = a
        .trace
        .iter()
        .map(|s| {
            emu.select(s).map_err(|e| match e {
                EmuError::Invalid { why, .. } => CliError::Usage(format!("--trace {s}: {why}")),
                e => CliError::Usage(format!("--trace {s}: {e}")),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timescale = if a.vcd_cycles { Timescale::Cycles } else { Timescale::Steps };
    let window = vcd_window(a, steps)?;
    check_vcd_size(a, &trace, &window)?;
    // The emulator numbers steps from its start (a loaded state continues).
    let window = first + window.start..first + window.end;
    Ok(VcdOptions { timescale, trace, window: Some(window) })
}

/// The default of `--vcd-max-bytes`: 1 GiB.
pub const VCD_MAX_BYTES: u64 = 1 << 30;

/// Bytes a traced neuron's potential, current and conductance take per
/// step at least when they change (three `r<value> <id>` lines).
const TRACED_BYTES_PER_STEP: u64 = 3 * 16;

/// The steps the VCD holds: `--vcd-from` to `--vcd-to`, numbered from the
/// run's first step as the spike file numbers them.
fn vcd_window(a: &Args, steps: u64) -> Result<std::ops::Range<u64>, CliError> {
    let end = steps;
    let from = a.vcd_from.unwrap_or(0);
    let to = a.vcd_to.unwrap_or(end);
    if from >= to || to > end {
        return Err(CliError::Usage(format!(
            "--vcd-from {from} --vcd-to {to}: the window must be a non-empty part of the run's steps 0..{end}"
        )));
    }
    Ok(from..to)
}

/// Refuses, before the run, a VCD whose traced neurons alone would pass
/// `--vcd-max-bytes` if they changed every step (a busy neuron does).
fn check_vcd_size(a: &Args, trace: &[std::ops::Range<u32>], window: &std::ops::Range<u64>) -> Result<(), CliError> {
    let traced: u64 = trace.iter().map(|r| u64::from(r.end - r.start)).sum();
    let estimate = traced.saturating_mul(TRACED_BYTES_PER_STEP).saturating_mul(window.end - window.start);
    if estimate > a.vcd_max_bytes {
        return Err(CliError::Usage(format!(
            "--vcd: {traced} traced neurons over {} steps would write about {estimate} bytes, more than \
             --vcd-max-bytes {}: trace fewer neurons, narrow --vcd-from/--vcd-to, or raise --vcd-max-bytes",
            window.end - window.start,
            a.vcd_max_bytes
        )));
    }
    Ok(())
}

/// A writer that refuses to write more than `limit` bytes.
pub struct Capped<W> {
    pub inner: W,
    /// Bytes it may still write.
    pub left: u64,
    pub limit: u64,
}

impl<W: std::io::Write> std::io::Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "the VCD reached --vcd-max-bytes {}: narrow --vcd-from/--vcd-to, trace fewer neurons, \
                 or raise the limit",
                self.limit
            )));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
