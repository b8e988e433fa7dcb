//! `fpnna run OUT.fpb --steps N ...`: the cycle-level emulator. Outputs go
//! to files (or standard output as `-`); the summary and the spikes per
//! population go to standard error. With `--checkpoint`, the run can be
//! killed and resumed (`--resume`) to the same bytes.

mod checkpoint;
mod recorder;
mod vcd;
mod watch;

use super::bits::load_named;
use crate::error::CliError;
use crate::io::{AtomicFile, Outputs, limits, read_limited};
use crate::spikes;
use checkpoint::{Checkpointer, Input, Saved};
use fpnna_bitstream::{PortKind, Validated};
use fpnna_emu::{EmuError, EmuOptions, EmuState, Emulator, VcdObserver};
use recorder::Recorder;
use std::path::{Path, PathBuf};
use watch::{Checkpoints, Watch};

/// Arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// The bitstream.
    #[arg(required = true)]
    input: Option<PathBuf>,
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
    #[arg(long, requires = "vcd", value_name = "BYTES", default_value_t = vcd::VCD_MAX_BYTES)]
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
    /// Write a checkpoint to FILE every --checkpoint-every steps, from which
    /// `--resume FILE` goes on after a kill; removed when the run ends.
    /// Streamed outputs then grow in `.NAME.fpnna-part` beside them.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Steps between two checkpoints.
    #[arg(long, requires = "checkpoint", value_name = "K", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: u64,
    /// Go on with the run a checkpoint was taken of (its own command line,
    /// in its own directory); its outputs end as the uninterrupted run's.
    #[arg(long, value_name = "FILE", exclusive = true)]
    resume: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<(), CliError> {
    match &a.resume {
        Some(file) => resume(file),
        None => start(a, None),
    }
}

/// `run --resume FILE`: the run of the checkpoint, from it.
fn resume(file: &Path) -> Result<(), CliError> {
    let saved = checkpoint::read(file)?;
    let field = |name: &str, why: String| CliError::Input(format!("{}: field `{name}`: {why}", file.display()));
    std::env::set_current_dir(&saved.cwd).map_err(|e| field("cwd", format!("{}: {e}", saved.cwd.display())))?;
    let line = std::iter::once("fpnna".to_string()).chain(saved.args.iter().cloned());
    let cli = <crate::Cli as clap::Parser>::try_parse_from(line).map_err(|e| {
        field("args", e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string())
    })?;
    match cli.command {
        super::Command::Run(a) if a.checkpoint.is_some() => {
            crate::provenance::set_command(saved.args.clone());
            start(*a, Some((file.to_path_buf(), saved)))
        }
        _ => Err(field("args", "not a checkpointed `fpnna run` command line".into())),
    }
}

/// Runs `a`, from the start or (`resumed`: the checkpoint's file and
/// contents) from a checkpoint.
fn start(a: Args, resumed: Option<(PathBuf, Saved)>) -> Result<(), CliError> {
    let steps = a.io.check_steps()?;
    let input = a.input.clone().ok_or_else(|| CliError::Usage("the bitstream is required".into()))?;
    let t_load = std::time::Instant::now();
    let (b, bitstream_hash) = load_named(&input)?;
    if let Some(path) = &a.arch {
        let arch = super::arch::load(path)?;
        fpnna_bitstream::check_arch(&b, &arch).map_err(|e| CliError::Input(format!("{}: {e}", input.display())))?;
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
        e => CliError::Input(format!("{}: {e}", input.display())),
    })?;
    let checkpointer = checkpointer(&a, &input, &bitstream_hash, resumed.as_ref())?;
    if resumed.is_none() {
        load_state(&a, &mut emu, steps)?;
    }
    let load_s = t_load.elapsed().as_secs_f64();
    let stimulus = stimulus(&a, &emu, steps)?;

    let t_run = std::time::Instant::now();
    // Every output (VCD, spikes, stats, state) is committed together.
    let mut out = Outputs::default();
    let first = resumed.as_ref().map_or(emu.now(), |(_, s)| s.run.progress.first);
    let part = |path: &Path, flag: &str| -> Result<AtomicFile, CliError> {
        match (&checkpointer, &resumed) {
            (None, _) => AtomicFile::create(path),
            (Some(_), None) => AtomicFile::part(path, flag, None),
            (Some(_), Some((file, saved))) => {
                AtomicFile::part(path, flag, Some(checkpoint::part_len(file, saved, flag)?))
            }
        }
    };
    let mut vcd = match &a.vcd {
        Some(path) => Some((vcd::options(&a, &emu, steps, first)?, part(path, "--vcd")?)),
        None => None,
    };
    // Spikes stream to a CSV as they happen; an .npz needs them all.
    let npz = a.io.spikes.as_ref().is_some_and(|p| spikes::is_npz(p));
    let mut csv = a.io.spikes.as_ref().filter(|_| !npz).map(|p| part(p, "--spikes")).transpose()?;
    let mut parts = Vec::new();
    if let Some((_, f)) = &vcd {
        parts.push(("--vcd".to_string(), f.temp_path().to_path_buf()));
    }
    if let Some(f) = &csv {
        parts.push(("--spikes".to_string(), f.temp_path().to_path_buf()));
    }
    let vcd_err = |e: std::io::Error| CliError::Input(format!("{}: {e}", a.vcd.as_ref().unwrap().display()));
    let csv_err = |e: std::io::Error| CliError::Input(format!("{}: {e}", a.io.spikes.as_ref().unwrap().display()));
    let vcd_obs = match vcd.as_mut() {
        Some((opts, file)) => {
            let had = resumed.as_ref().map_or(Ok(0), |(f, s)| checkpoint::part_len(f, s, "--vcd"))?;
            let limit = a.vcd_max_bytes;
            let capped = vcd::Capped { inner: file.writer(), left: limit.saturating_sub(had), limit };
            Some(match &resumed {
                None => VcdObserver::new(capped, &emu, opts).map_err(vcd_err)?,
                Some((f, s)) => {
                    let progress = s.vcd.as_ref().ok_or_else(|| {
                        CliError::Input(format!("{}: field `vcd`: no VCD progress recorded", f.display()))
                    })?;
                    VcdObserver::resume(capped, &emu, opts, progress)
                        .map_err(|e| CliError::Input(format!("{}: field `vcd`: {e}", f.display())))?
                }
            })
        }
        None => None,
    };
    let csv_w = csv.as_mut().map(|f| f.writer() as &mut dyn std::io::Write);
    let mut rec = Recorder::new(&emu, first, csv_w, npz);
    match &resumed {
        None => rec.header().map_err(csv_err)?,
        Some((file, s)) if s.counts.len() == rec.counts.len() => rec.counts.clone_from(&s.counts),
        Some((file, _)) => {
            return Err(CliError::Input(format!("{}: field `counts`: not this bitstream's outputs", file.display())));
        }
    }
    let bar = crate::ui::bar(steps, "steps");
    let checkpoints = checkpointer.map(|writer| Checkpoints { writer, parts });
    let mut watch = Watch { rec, vcd: vcd_obs, bar: &bar, checkpoints, failed: None };
    let result = match &resumed {
        None => emu.run_streamed(steps, &stimulus, &mut watch),
        Some((_, s)) => {
            bar.set_position(s.run.progress.done);
            emu.resume(&s.run, &stimulus, &mut watch)
        }
    };
    let Watch { rec: Recorder { ports, counts, rows, csv_failed, .. }, vcd: vcd_obs, checkpoints, failed, .. } = watch;
    let result = result.map_err(|e| match (e, failed) {
        (_, Some(e)) => e,
        (EmuError::Observer(e), None) if csv_failed => csv_err(e),
        (e, None) => run_error(&a, &input, resumed.as_ref().map(|(f, _)| f.as_path()), e),
    })?;
    if let Some(o) = vcd_obs {
        o.finish().map_err(vcd_err)?;
    }
    bar.finish_and_clear();
    let wall = t_run.elapsed().as_secs_f64();
    if let Some((_, file)) = vcd {
        out.add_file(file)?;
    }
    if let Some(file) = csv {
        out.add_file(file)?;
    }
    if let (Some(p), Some(rows)) = (&a.io.spikes, rows) {
        out.add(p, &spikes::format_npz(&ports, steps, &rows)?)?;
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
    // The run is whole: its checkpoint has served.
    if let Some(c) = checkpoints {
        let _ = std::fs::remove_file(&c.writer.path);
    }
    summary(&b, s, a.ideal, wall, load_s);
    if let Some(note) = recorded {
        crate::ui::summary!("{note}");
    }
    let rows = ports.into_iter().zip(counts).map(|((name, size), n)| (name, size, n));
    crate::ui::summary!("{}", spikes::rate_table(rows, s.steps, b.global.dt_ms).trim_end());
    Ok(())
}

/// The run's checkpoints, if it takes them: checked and started (the
/// inputs hashed), or with `resumed`, the inputs checked against it.
fn checkpointer(
    a: &Args,
    input: &Path,
    bitstream_hash: &str,
    resumed: Option<&(PathBuf, Saved)>,
) -> Result<Option<Checkpointer>, CliError> {
    let Some(path) = &a.checkpoint else { return Ok(None) };
    if a.io.spikes.as_ref().is_some_and(|p| spikes::is_npz(p)) {
        return Err(CliError::Usage(
            "--checkpoint with an .npz --spikes: a checkpointed run streams its spikes; give a .csv".into(),
        ));
    }
    let mut inputs = vec![Input::bitstream(input, bitstream_hash)];
    for (flag, p, limit) in
        [("--stimulus", &a.io.stimulus, limits::STIMULUS), ("--device", &a.device, fpnna_arch::MAX_CHIP_BYTES as u64)]
    {
        if let Some(p) = p {
            if crate::io::is_std(p) {
                return Err(CliError::Usage(format!(
                    "--checkpoint with {flag} -: a resumed run reads its inputs again; give a file"
                )));
            }
            inputs.push(Input::file(flag, p, limit)?);
        }
    }
    match resumed {
        None => Checkpointer::new(path, a.checkpoint_every, inputs).map(Some),
        Some((file, saved)) => {
            checkpoint::check_inputs(file, saved, &inputs)?;
            Ok(Some(Checkpointer::resumed(saved, path, a.checkpoint_every)))
        }
    }
}

/// `--load-state`: the state the run starts from.
fn load_state(a: &Args, emu: &mut Emulator, steps: u64) -> Result<(), CliError> {
    let Some(p) = &a.load_state else { return Ok(()) };
    let text = String::from_utf8(read_limited(p, limits::STATE)?)
        .map_err(|_| CliError::Input(format!("{}: not UTF-8 text", p.display())))?;
    let state = EmuState::from_json(&text).map_err(|e| CliError::Input(format!("{}: {e}", p.display())))?;
    emu.load_state(&state).map_err(|e| CliError::Input(format!("{}: {e}", p.display())))?;
    // The state this run ends in must load again: its step within the same bound.
    if state.step.checked_add(steps).is_none_or(|end| end > fpnna_emu::MAX_STATE_CLOCK) {
        return Err(CliError::Input(format!(
            "{}: field `step` = {}: with --steps {steps} the run would end beyond step 2^62 = {}, the most a state may hold",
            p.display(),
            state.step,
            fpnna_emu::MAX_STATE_CLOCK
        )));
    }
    Ok(())
}

/// `--stimulus`: the input spikes as (step, key).
fn stimulus(a: &Args, emu: &Emulator, steps: u64) -> Result<Vec<(u64, u32)>, CliError> {
    let Some(p) = &a.io.stimulus else { return Ok(Vec::new()) };
    let ports: Vec<(String, u32)> =
        emu.ports().iter().filter(|p| p.kind == PortKind::Input).map(|p| (p.name.clone(), p.size)).collect();
    // Key bases looked up per spike: a map built once (the first port of a
    // name, as `Emulator::port` finds it).
    let mut base = std::collections::BTreeMap::new();
    for p in emu.ports() {
        base.entry(p.name.as_str()).or_insert(p.key_base);
    }
    Ok(spikes::read_stimulus(p, steps, &ports)?
        .into_iter()
        .map(|r| (r.step, base[r.population.as_str()] + r.index))
        .collect())
}

/// The run's summary on standard error.
fn summary(b: &Validated, s: &fpnna_emu::Stats, ideal: bool, wall: f64, load_s: f64) {
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
        if ideal { "ideal" } else { "non-ideal" },
        s.config_cycles,
        s.config_energy_pj / 1000.0,
        s.config.formed_nodes,
        s.config.reused_nodes,
        wall,
        load_s,
        s.synaptic_events as f64 / wall.max(1e-9),
    );
}

/// An error of the run itself, named after the file it concerns.
fn run_error(a: &Args, input: &Path, checkpoint: Option<&Path>, e: EmuError) -> CliError {
    let name = |p: Option<&PathBuf>| p.map_or_else(String::new, |p| p.display().to_string());
    match e {
        EmuError::Observer(e) => CliError::Input(format!("{}: {e}", name(a.vcd.as_ref()))),
        EmuError::Stimulus { .. } => CliError::Input(format!("{}: {e}", name(a.io.stimulus.as_ref()))),
        EmuError::State(_) if checkpoint.is_some() => {
            CliError::Input(format!("{}: {e}", checkpoint.unwrap_or(input).display()))
        }
        other => CliError::Input(format!("{}: {other}", input.display())),
    }
}
