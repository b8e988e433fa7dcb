//! `fpnna run OUT.fpb --steps N ...`: the cycle-level emulator. Outputs go
//! to files (or standard output as `-`); the summary and the spikes per
//! population go to standard error.

use super::bits::load_named;
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
    let result = match &a.vcd {
        Some(path) => {
            let trace = a
                .trace
                .iter()
                .map(|s| {
                    emu.select(s).map_err(|e| match e {
                        fpnna_emu::EmuError::Invalid { why, .. } => CliError::Usage(format!("--trace {s}: {why}")),
                        e => CliError::Usage(format!("--trace {s}: {e}")),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let timescale = if a.vcd_cycles { Timescale::Cycles } else { Timescale::Steps };
            let mut file = AtomicFile::create(path)?;
            let io_err = |e: std::io::Error| CliError::Input(format!("{}: {e}", path.display()));
            let mut obs = VcdObserver::new(file.writer(), &emu, &VcdOptions { timescale, trace }).map_err(io_err)?;
            let r = emu
                .run(a.io.steps, &stimulus, &mut Ticking { inner: &mut obs, bar: &bar })
                .map_err(|e| run_error(&a, e))?;
            obs.finish().map_err(io_err)?;
            out.add_file(file)?;
            r
        }
        None => emu
            .run(a.io.steps, &stimulus, &mut Ticking { inner: &mut fpnna_emu::NullObserver, bar: &bar })
            .map_err(|e| run_error(&a, e))?,
    };
    bar.finish_and_clear();
    let wall = t_run.elapsed().as_secs_f64();

    if let Some(p) = &a.io.spikes {
        let mut rows: Vec<(u64, String, u32)> = result
            .spikes
            .iter()
            .map(|&(step, key)| {
                let (name, index) =
                    emu.name_of(key).map_or_else(|| (format!("key{key}"), 0), |(n, i)| (n.to_string(), i));
                (step, name, index)
            })
            .collect();
        rows.sort();
        let bytes = if spikes::is_npz(p) {
            spikes::format_npz(&recorded_ports(&emu), a.io.steps, &rows)?
        } else {
            spikes::format(rows.into_iter()).into_bytes()
        };
        out.add(p, &bytes)?;
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
    // Spikes per recorded population, counted per key's port through the
    // sorted key bases (one lookup per spike, not a scan).
    let ports = recorded_ports(&emu);
    let mut bases: Vec<(u32, usize)> =
        emu.ports().iter().filter(|p| p.kind == PortKind::Output).enumerate().map(|(k, p)| (p.key_base, k)).collect();
    bases.sort();
    let mut counts = vec![0u64; ports.len()];
    for &(_, key) in &result.spikes {
        let at = bases.partition_point(|&(base, _)| base <= key);
        if let Some(&(base, k)) = at.checked_sub(1).map(|i| &bases[i])
            && key - base < ports[k].1
        {
            counts[k] += 1;
        }
    }
    let rows = ports.into_iter().zip(counts).map(|((name, size), n)| (name, size, n));
    crate::ui::summary!("{}", spikes::rate_table(rows, s.steps, b.global.dt_ms).trim_end());
    Ok(())
}

/// The recorded populations of a bitstream (its output ports): name, size.
fn recorded_ports(emu: &Emulator) -> Vec<(String, u32)> {
    emu.ports().iter().filter(|p| p.kind == PortKind::Output).map(|p| (p.name.clone(), p.size)).collect()
}

fn run_error(a: &Args, e: fpnna_emu::EmuError) -> CliError {
    match e {
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
