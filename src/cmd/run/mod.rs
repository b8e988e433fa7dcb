//! `fpnna run OUT.fpb --steps N ...`: the cycle-level emulator. Outputs go
//! to files (or standard output as `-`); the summary and the spikes per
//! population go to standard error.

use super::bits::load_named;
use super::recorder::Recorder;
use crate::error::CliError;
use crate::io::{AtomicFile, Outputs, limits, read_limited};
use crate::spikes;
use fpnna_bitstream::PortKind;
use fpnna_emu::{EmuError, EmuOptions, EmuState, Emulator, Timescale, VcdObserver, VcdOptions};
use std::path::PathBuf;

/// Arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// The bitstream.
    input: PathBuf,
    #[command(flatten)]
    io: super::RunArgs,
    /// Write a Value Change Dump (GTKWave, Surfer).
    #[arg(long)]
    vcd: Option<PathBuf>,
    /// VCD time axis in cycles instead of steps.
    #[arg(long, requires = "vcd")]
    vcd_cycles: bool,
    /// Neurons whose potential, current and volatile conductance go into the
    /// VCD: `pop`, `pop[3]` or `pop[0..8]`; repeatable.
    #[arg(long, requires = "vcd", value_parser = super::values::selection)]
    trace: Vec<String>,
    /// First step the VCD holds (numbered as in the spike file).
    #[arg(long, requires = "vcd", value_name = "STEP")]
    vcd_from: Option<u64>,
    /// Step the VCD ends at (exclusive).
    #[arg(long, requires = "vcd", value_name = "STEP")]
    vcd_to: Option<u64>,
    /// Most bytes the VCD may take: refused up front when the traced
    /// neurons alone would need more, stopped when it reaches them.
    #[arg(long, requires = "vcd", value_name = "BYTES", default_value_t = VCD_MAX_BYTES)]
    vcd_max_bytes: u64,
    /// Write statistics (JSON, docs/emulator.md).
    #[arg(long)]
    stats: Option<PathBuf>,
    /// Ideal devices: every non-ideality off (equals `fpnna sim` spike for spike); device flags apply on top.
    #[arg(long)]
    ideal: bool,
    /// Seed of every device non-ideality.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads for the tile phases, 1 to 256 (output is identical for any count).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
    /// Check the bitstream was compiled for this architecture file.
    #[arg(long)]
    arch: Option<PathBuf>,
    /// Start from a saved state (learned weights, volatile state).
    #[arg(long)]
    load_state: Option<PathBuf>,
    /// Save the state after the run.
    #[arg(long)]
    save_state: Option<PathBuf>,
    /// The chip to apply the bitstream to (`fpnna device new`): its stuck
    /// devices replace the stuck-at figures, with `--ideal` too.
    /// After a successful run the chip state records what the bitstream
    /// formed and wrote (docs/chip.md) unless `--device-readonly`.
    #[arg(long, value_name = "CHIP.state")]
    device: Option<PathBuf>,
    /// Run on the chip without recording the run in its state file.
    #[arg(long, requires = "device")]
    device_readonly: bool,
    #[command(flatten)]
    devices: super::devices::DeviceArgs,
}

pub fn run(a: Args) -> Result<(), CliError> {
    a.io.check_steps()?;
    let t_load = std::time::Instant::now();
    let (b, bitstream_hash) = load_named(&a.input)?;
    if let Some(path) = &a.arch {
        let arch = super::arch::load(path)?;
        fpnna_bitstream::check_arch(&b, &arch).map_err(|e| CliError::Input(format!("{}: {e}", a.input.display())))?;
    }
    let chip = a.device.as_deref().map(super::device::load).transpose()?;
    let opts = EmuOptions {
        ideal: a.ideal,
        seed: a.seed,
        threads: usize::from(a.threads),
        devices: a.devices.overrides(),
        chip: chip.clone(),
    };
    let mut emu = Emulator::new(&b, opts).map_err(|e| match e {
        EmuError::Device(e) => CliError::Usage(format!("device flags: {e}")),
        e => CliError::Input(format!("{}: {e}", a.input.display())),
    })?;
    if let Some(p) = &a.load_state {
        let text = String::from_utf8(read_limited(p, limits::STATE)?)
            .map_err(|_| CliError::Input(format!("{}: not UTF-8 text", p.display())))?;
        let state = EmuState::from_json(&text).map_err(|e| CliError::Input(format!("{}: {e}", p.display())))?;
        emu.load_state(&state).map_err(|e| CliError::Input(format!("{}: {e}", p.display())))?;
        // The state this run ends in must load again: its step within the same bound.
        if state.step.checked_add(a.io.steps).is_none_or(|end| end > fpnna_emu::MAX_STATE_CLOCK) {
            return Err(CliError::Input(format!(
                "{}: field `step` = {}: with --steps {} the run would end beyond step 2^62 = {}, the most a state may hold",
                p.display(),
                state.step,
                a.io.steps,
                fpnna_emu::MAX_STATE_CLOCK
            )));
        }
    }
    let load_s = t_load.elapsed().as_secs_f64();

    let stimulus = match &a.io.stimulus {
        Some(p) => {
            let ports: Vec<(String, u32)> =
                emu.ports().iter().filter(|p| p.kind == PortKind::Input).map(|p| (p.name.clone(), p.size)).collect();
            // Key bases looked up per spike: a map built once (the first
            // port of a name, as `Emulator::port` finds it).
            let mut base = std::collections::BTreeMap::new();
            for p in emu.ports() {
                base.entry(p.name.as_str()).or_insert(p.key_base);
            }
            spikes::read_stimulus(p, a.io.steps, &ports)?
                .into_iter()
                .map(|r| (r.step, base[r.population.as_str()] + r.index))
                .collect()
        }
        None => Vec::new(),
    };

    let t_run = std::time::Instant::now();
    // Every output (VCD, spikes, stats, state) is committed together.
    let mut out = Outputs::default();
    let bar = crate::ui::bar(a.io.steps, "steps");
    let mut vcd = match &a.vcd {
        Some(path) => Some((path, vcd_options(&a, &emu)?, AtomicFile::create(path)?)),
        None => None,
    };
    let vcd_err = |e: std::io::Error| CliError::Input(format!("{}: {e}", a.vcd.as_ref().unwrap().display()));
    let mut vcd_obs = match vcd.as_mut() {
        Some((_, opts, file)) => {
            let capped = Capped { inner: file.writer(), left: a.vcd_max_bytes, limit: a.vcd_max_bytes };
            Some(VcdObserver::new(capped, &emu, opts).map_err(vcd_err)?)
        }
        None => None,
    };
    // Spikes stream to a CSV as they happen; an .npz needs them all.
    let npz = a.io.spikes.as_ref().is_some_and(|p| spikes::is_npz(p));
    let mut csv = a.io.spikes.as_ref().filter(|_| !npz).map(|p| AtomicFile::create(p)).transpose()?;
    let csv_err = |e: std::io::Error| CliError::Input(format!("{}: {e}", a.io.spikes.as_ref().unwrap().display()));
    let csv_w = csv.as_mut().map(|f| f.writer() as &mut dyn std::io::Write);
    let next = vcd_obs.as_mut().map(|o| o as &mut dyn fpnna_emu::Observer);
    let mut rec = Recorder::new(&emu, csv_w, npz, next).map_err(csv_err)?;
    let result = emu.run_streamed(a.io.steps, &stimulus, &mut Ticking { inner: &mut rec, bar: &bar });
    let Recorder { ports, counts, rows, csv_failed, .. } = rec;
    let result = result.map_err(|e| match e {
        EmuError::Observer(e) if csv_failed => csv_err(e),
        e => run_error(&a, e),
    })?;
    if let Some(o) = vcd_obs {
        o.finish().map_err(vcd_err)?;
    }
    bar.finish_and_clear();
    let wall = t_run.elapsed().as_secs_f64();
    if let Some((_, _, file)) = vcd {
        out.add_file(file)?;
    }
    if let Some(file) = csv {
        out.add_file(file)?;
    }
    if let (Some(p), Some(rows)) = (&a.io.spikes, rows) {
        out.add(p, &spikes::format_npz(&ports, a.io.steps, &rows)?)?;
    }
    let s = &result.stats;
    if let Some(p) = &a.stats {
        let seeds = serde_json::json!({ "seed": a.seed });
        let json = crate::provenance::json(crate::provenance::Format::RunStats, s, seeds)?;
        out.add(p, json.as_bytes())?;
    }
    if let Some(p) = &a.save_state {
        out.add(p, emu.save_state().to_json().as_bytes())?;
    }
    let mut recorded = None;
    if let (Some(p), Some(mut chip)) = (a.device.as_ref().filter(|_| !a.device_readonly), chip) {
        chip.apply(bitstream_hash, s.steps, emu.chip_writes());
        out.add(p, &chip.to_bytes())?;
        recorded = Some(format!(
            "chip state {}: configuration {} recorded ({} crosspoints formed, {} worn out)",
            p.display(),
            chip.history.len() - 1,
            chip.formed.iter().map(|t| t.nodes.len()).sum::<usize>(),
            chip.worn_count()
        ));
    }
    out.commit()?;
    crate::ui::summary!(
        "{} steps, {} cycles ({:.1} per step, {} to {}), {:.3} ms at {} MHz; {} spikes, {} synaptic events; \
         energy {:.3} nJ ({:.2} pJ per synaptic event, {} devices); configuration {} cycles, {:.3} nJ, \
         {} nodes formed, {} reused; \
         wall {:.3} s run + {:.3} s load, {:.3e} events/s",
        s.steps,
        s.cycles_total,
        s.cycles_per_step.mean,
        s.cycles_per_step.min,
        s.cycles_per_step.max,
        s.time_us / 1000.0,
        b.arch.timing.clock_mhz,
        s.spikes,
        s.synaptic_events,
        s.energy_pj.total_pj / 1000.0,
        s.energy_pj.per_synaptic_event_pj,
        if a.ideal { "ideal" } else { "non-ideal" },
        s.config_cycles,
        s.config_energy_pj / 1000.0,
        s.config.formed_nodes,
        s.config.reused_nodes,
        wall,
        load_s,
        s.synaptic_events as f64 / wall.max(1e-9),
    );
    if let Some(note) = recorded {
        crate::ui::summary!("{note}");
    }
    let rows = ports.into_iter().zip(counts).map(|((name, size), n)| (name, size, n));
    crate::ui::summary!("{}", spikes::rate_table(rows, s.steps, b.global.dt_ms).trim_end());
    Ok(())
}

/// The VCD's options: the traced neurons and the window, checked.
fn vcd_options(a: &Args, emu: &Emulator) -> Result<VcdOptions, CliError> {
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
    let window = vcd_window(a)?;
    check_vcd_size(a, &trace, &window)?;
    // The emulator numbers steps from its start (a loaded state continues).
    let window = emu.now() + window.start..emu.now() + window.end;
    Ok(VcdOptions { timescale, trace, window: Some(window) })
}

/// The default of `--vcd-max-bytes`: 1 GiB.
const VCD_MAX_BYTES: u64 = 1 << 30;

/// Bytes a traced neuron's potential, current and conductance take per
/// step at least when they change (three `r<value> <id>` lines).
const TRACED_BYTES_PER_STEP: u64 = 3 * 16;

/// The steps the VCD holds: `--vcd-from` to `--vcd-to`, numbered from the
/// run's first step as the spike file numbers them.
fn vcd_window(a: &Args) -> Result<std::ops::Range<u64>, CliError> {
    let end = a.io.steps;
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
struct Capped<W> {
    inner: W,
    left: u64,
    limit: u64,
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

fn run_error(a: &Args, e: fpnna_emu::EmuError) -> CliError {
    match e {
        fpnna_emu::EmuError::Observer(e) => {
            CliError::Input(format!("{}: {e}", a.vcd.as_ref().map_or_else(String::new, |p| p.display().to_string())))
        }
        fpnna_emu::EmuError::Stimulus { .. } => CliError::Input(format!(
            "{}: {e}",
            a.io.stimulus.as_ref().map_or_else(String::new, |p| p.display().to_string())
        )),
        other => CliError::Input(format!("{}: {other}", a.input.display())),
    }
}

/// An observer that also advances the progress bar, a step at a time.
struct Ticking<'a> {
    inner: &'a mut dyn fpnna_emu::Observer,
    bar: &'a indicatif::ProgressBar,
}

impl fpnna_emu::Observer for Ticking<'_> {
    fn step(&mut self, view: &fpnna_emu::StepView<'_>) -> std::io::Result<()> {
        self.bar.inc(1);
        self.inner.step(view)
    }

    fn wants_link_load(&self) -> bool {
        self.inner.wants_link_load()
    }
}
