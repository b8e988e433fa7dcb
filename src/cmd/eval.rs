//! `fpnna eval` and `fpnna sweep`: task accuracy of a network (reference
//! simulator) or of a programmed array (emulator), and sweeps of it over
//! device figures and fault seeds (docs/evaluation.md).

use super::bits::load;
use super::compile::ArchArgs;
use crate::error::CliError;
use crate::io::{Outputs, read_limited};
use fpnna_emu::{EmuOptions, Plastic};
use fpnna_eval::chip::{EmuSpec, SimChip};
use fpnna_eval::data::{self, Source};
use fpnna_eval::encode::{Encoding, Inputs};
use fpnna_eval::readout::Readout;
use fpnna_eval::sweep::{Axis, Point, Summary, Sweep};
use fpnna_eval::{EvalError, Evaluation, Plan};
use std::path::PathBuf;

/// The largest dataset or label file read (1 GiB).
const MAX_DATA_BYTES: u64 = 1 << 30;

/// What is evaluated, on what data, read out how (shared by `eval` and `sweep`).
#[derive(clap::Args)]
pub struct TaskArgs {
    /// The network source (`.fpn`: reference simulator) or bitstream (`.fpb`: emulator).
    file: PathBuf,
    /// Samples: features (samples x channels, `.npy`, `.npz[:array]` or CSV), or spikes with `--encode spikes`.
    #[arg(long)]
    data: Source,
    /// Labels: one integer per sample (`.npy`, `.npz[:array]` or CSV).
    #[arg(long)]
    labels: Source,
    /// The input port the samples drive.
    #[arg(long = "input", value_name = "PORT")]
    port: String,
    /// The population whose spikes give the class.
    #[arg(long, value_name = "POP")]
    output: String,
    /// Steps each sample runs (default for spikes: the tensor's steps).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    steps_per_sample: Option<u64>,
    /// How features become spikes.
    #[arg(long, value_enum, default_value_t = Encode::Poisson)]
    encode: Encode,
    /// Poisson: the rate of a channel at value 1, Hz.
    #[arg(long, value_name = "HZ", value_parser = super::values::positive, allow_negative_numbers = true)]
    rate_max: Option<f64>,
    /// How a class is read out.
    #[arg(long, value_enum, default_value_t = ReadoutArg::Count)]
    readout: ReadoutArg,
    /// Label output neurons by the class they answer most on the first N samples; score the rest.
    #[arg(long, value_name = "N")]
    assign_on: Option<usize>,
    /// Seed of the input encoding.
    #[arg(long, default_value_t = 1)]
    input_seed: u64,
    /// The most steps of all samples together (samples x steps per sample), a guard against a typo running for days (at most 2^62).
    #[arg(long, value_name = "N", default_value_t = super::DEFAULT_MAX_STEPS,
          value_parser = clap::value_parser!(u64).range(1..=1 << 62))]
    max_steps: u64,
    /// Worker threads, 1 to 256 (default: every core; the output is the same for any count).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    threads: Option<u64>,
    /// What the reset between samples does with learned STDP weights.
    #[arg(long, value_enum, default_value_t = PlasticArg::Keep)]
    plastic: PlasticArg,
    /// Source only: simulate the exact weights, without quantizing to device levels.
    #[arg(long, conflicts_with_all = ["arch", "preset"])]
    exact: bool,
    /// Source only: the architecture whose quantization to simulate.
    #[command(flatten)]
    arch: ArchArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Encode {
    Poisson,
    Bernoulli,
    Spikes,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReadoutArg {
    Count,
    First,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PlasticArg {
    Keep,
    Restore,
}

/// The default rate of a channel at value 1 (Poisson).
const RATE_MAX_HZ: f64 = 100.0;

/// Arguments of `eval`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    task: TaskArgs,
    /// Bitstream only: ideal devices (explicit device flags still apply on top).
    #[arg(long)]
    ideal: bool,
    /// Bitstream: seed of the device faults and noise. Source: of random choices it leaves unseeded.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    devices: super::devices::DeviceArgs,
    /// Bitstream only: the chip to apply it to (`fpnna device new`); its
    /// stuck devices replace the stuck-at figures, with `--ideal` too.
    #[arg(long, value_name = "CHIP.state")]
    device: Option<PathBuf>,
    /// Write each sample's prediction (CSV).
    #[arg(long, value_name = "P.csv")]
    predictions: Option<PathBuf>,
    /// Write the report (JSON).
    #[arg(long, value_name = "R.json")]
    report: Option<PathBuf>,
}

/// Arguments of `sweep`.
#[derive(clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    task: TaskArgs,
    /// A varied parameter: a device figure, `stuck-rate` or (source only) `levels`, and its values (`stuck-rate=0,0.01,0.05`); repeatable.
    #[arg(long, required = true, value_name = "NAME=V1,V2,...")]
    vary: Vec<Axis>,
    /// Fault seeds per point (1..=N).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..10001))]
    seeds: u64,
    /// Start from ideal devices (the varied figures and device flags apply on top).
    #[arg(long)]
    ideal: bool,
    #[command(flatten)]
    devices: super::devices::DeviceArgs,
    /// The table: CSV, or JSON when the name ends in `.json`.
    #[arg(short = 'o', long = "out", value_name = "SWEEP.csv")]
    out: PathBuf,
    /// Plot accuracy against the first varied parameter (SVG).
    #[arg(long, value_name = "SWEEP.svg")]
    plot: Option<PathBuf>,
}

/// The dataset, checked against the run's settings.
struct Task {
    inputs: Inputs,
    labels: Vec<u32>,
    plan: Plan,
}

fn read_source(src: &Source) -> Result<data::Array, CliError> {
    let bytes = read_limited(&src.path, MAX_DATA_BYTES)?;
    data::parse(src, &bytes).map_err(|e| CliError::Input(e.to_string()))
}

impl TaskArgs {
    fn is_bitstream(&self) -> bool {
        self.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("fpb"))
    }

    fn encoding(&self) -> Result<Encoding, CliError> {
        match (self.encode, self.rate_max) {
            (Encode::Poisson, r) => Ok(Encoding::Poisson { rate_max_hz: r.unwrap_or(RATE_MAX_HZ) }),
            (_, Some(_)) => Err(CliError::Usage("--rate-max applies to --encode poisson only".into())),
            (Encode::Bernoulli, None) => Ok(Encoding::Bernoulli),
            (Encode::Spikes, None) => Ok(Encoding::Spikes),
        }
    }

    /// Reads and checks the data for a port of `channels` channels.
    fn task(&self, channels: u32, dt_ms: f64, learns: bool) -> Result<Task, CliError> {
        let encoding = self.encoding()?;
        let data = read_source(&self.data)?;
        let steps = match (self.steps_per_sample, encoding, data.shape.as_slice()) {
            (Some(n), _, _) => n,
            (None, Encoding::Spikes, [_, t, _]) => *t as u64,
            (None, Encoding::Spikes, _) => 0,
            (None, _, _) => return Err(CliError::Usage("--steps-per-sample is needed to rate-code features".into())),
        };
        let file = self.data.to_string();
        let samples = data.shape.first().copied().unwrap_or(0) as u64;
        super::within_max_steps(samples.checked_mul(steps), self.max_steps, || {
            format!("{file}: {samples} samples of {steps} steps are")
        })?;
        let inputs = Inputs::new(&file, data, encoding, steps.max(1), dt_ms, self.input_seed)
            .map_err(|e| CliError::Input(e.to_string()))?;
        if inputs.channels != channels as usize {
            return Err(CliError::Input(format!(
                "{file}: {} channels per sample, but port `{}` has {channels}",
                inputs.channels, self.port
            )));
        }
        let labels_file = self.labels.to_string();
        let labels =
            data::labels(&labels_file, &read_source(&self.labels)?).map_err(|e| CliError::Input(e.to_string()))?;
        let threads =
            self.threads.map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), |t| t as usize);
        let readout = match self.readout {
            ReadoutArg::Count => Readout::Count,
            ReadoutArg::First => Readout::First,
        };
        let in_order = learns && matches!(self.plastic, PlasticArg::Keep);
        Ok(Task { inputs, labels, plan: Plan { readout, assign_on: self.assign_on, threads, in_order } })
    }

    fn plastic(&self) -> Plastic {
        match self.plastic {
            PlasticArg::Keep => Plastic::Keep,
            PlasticArg::Restore => Plastic::Restore,
        }
    }
}

fn eval_error(e: EvalError) -> CliError {
    match e {
        EvalError::Data(e) => CliError::Input(e.to_string()),
        EvalError::Usage(s) => CliError::Usage(s),
        EvalError::Emu(fpnna_emu::EmuError::Device(e)) => CliError::Usage(format!("device flags: {e}")),
        EvalError::Emu(e) => CliError::Input(e.to_string()),
        EvalError::Bug(s) => CliError::Bug(s),
    }
}

/// Whether a bitstream has STDP rows (it learns as it runs).
fn learns(b: &fpnna_bitstream::Validated) -> bool {
    b.tiles.iter().any(|t| t.rows.iter().any(|r| matches!(r.kind, fpnna_bitstream::RowKind::Stdp(_))))
}

/// Reads the dataset for the ports of bitstream `b`.
fn bitstream_task(t: &TaskArgs, b: &fpnna_bitstream::Validated) -> Result<Task, CliError> {
    let probe = spec(t, b, EmuOptions::ideal(), 0).chip().map_err(eval_error)?;
    t.task(probe.channels(), b.global.dt_ms, learns(b))
}

fn spec<'a>(t: &TaskArgs, b: &'a fpnna_bitstream::Validated, opts: EmuOptions, steps: u64) -> EmuSpec<'a> {
    EmuSpec { bitstream: b, opts, input: t.port.clone(), output: t.output.clone(), steps, plastic: t.plastic() }
}

/// An evaluation of `task` on the emulator, and what configuring the array
/// found (faults, forming failures: the same in every worker's array).
fn eval_bitstream(
    t: &TaskArgs,
    b: &fpnna_bitstream::Validated,
    task: &Task,
    opts: EmuOptions,
    on_sample: &(dyn Fn() + Sync),
) -> Result<(Evaluation, fpnna_emu::ConfigStats), CliError> {
    let spec = spec(t, b, opts, task.inputs.steps);
    let probe = spec.chip().map_err(eval_error)?;
    if probe.channels() as usize != task.inputs.channels {
        return Err(CliError::Bug("the bitstreams of one sweep disagree on the input port".into()));
    }
    let (outputs, config) = (probe.outputs(), probe.emulator().config_stats().clone());
    drop(probe);
    let e = fpnna_eval::evaluate(&|| spec.chip(), &task.inputs, &task.labels, outputs, &task.plan, on_sample)
        .map_err(eval_error)?;
    Ok((e, config))
}

pub fn eval(a: Args) -> Result<(), CliError> {
    let t = &a.task;
    let t0 = std::time::Instant::now();
    let (task, e, target, config) = if t.is_bitstream() {
        if t.exact || t.arch.arch.is_some() || t.arch.preset.is_some() {
            return Err(CliError::Usage(
                "--exact, --arch and --preset apply to a source network, not a bitstream".into(),
            ));
        }
        let b = load(&t.file)?;
        let chip = a.device.as_deref().map(super::device::load).transpose()?;
        let opts = EmuOptions { ideal: a.ideal, seed: a.seed, threads: 1, devices: a.devices.overrides(), chip };
        let task = bitstream_task(t, &b)?;
        let bar = crate::ui::bar(task.inputs.samples as u64, "samples");
        let (e, config) = eval_bitstream(t, &b, &task, opts, &|| bar.inc(1))?;
        bar.finish_and_clear();
        let devices = if a.ideal { "ideal devices" } else { "non-ideal devices" };
        (task, e, format!("emulator, {devices}, device seed {}", a.seed), Some(config))
    } else {
        if a.ideal || a.device.is_some() || a.devices.overrides() != fpnna_emu::DeviceOverrides::default() {
            return Err(CliError::Usage(
                "--ideal, --device and device flags apply to a bitstream; a source network runs on the reference simulator"
                    .into(),
            ));
        }
        let mut net = super::load_network(&t.file, a.seed)?;
        if !t.exact {
            let arch = t.arch.load()?;
            net = fpnna_compiler::quantize(&net, &arch)
                .map_err(|e| CliError::Input(format!("{}: {e}", t.file.display())))?
                .0;
        }
        if let Some(id) = net.pop_by_name(&t.output) {
            net.set_output(id, true);
        }
        let probe = SimChip::new(&net, &t.port, &t.output, 1).map_err(eval_error)?;
        let learns = net.projs().any(|(_, p)| matches!(p.kind, fpnna_ir::SynapseKind::Stdp(_)));
        if learns && matches!(t.plastic, PlasticArg::Keep) {
            return Err(CliError::Usage(
                "the reference simulator starts every sample from the programmed weights: evaluate a network \
                 with STDP synapses with --plastic restore, or evaluate its bitstream"
                    .into(),
            ));
        }
        let task = t.task(probe.channels(), net.dt_ms, false)?;
        let outputs = probe.outputs();
        let make = || SimChip::new(&net, &t.port, &t.output, task.inputs.steps);
        let bar = crate::ui::bar(task.inputs.samples as u64, "samples");
        let e = fpnna_eval::evaluate(&make, &task.inputs, &task.labels, outputs, &task.plan, &|| bar.inc(1))
            .map_err(eval_error)?;
        bar.finish_and_clear();
        let what =
            if t.exact { "reference simulator, exact weights" } else { "reference simulator, quantized weights" };
        (task, e, what.to_string(), None)
    };
    let wall = t0.elapsed().as_secs_f64();
    let mut out = Outputs::default();
    if let Some(p) = &a.predictions {
        out.add(p, predictions(&e, &task.labels).as_bytes())?;
    }
    if let Some(p) = &a.report {
        let r = report(&a, &task, &e, &target, config.as_ref());
        let seeds = serde_json::json!({ "seed": a.seed, "input_seed": t.input_seed });
        let json = crate::provenance::json(crate::provenance::Format::EvalReport, &r, seeds)?;
        out.add(p, json.as_bytes())?;
    }
    out.commit()?;
    // The result: standard output unless an output took it (docs/cli.md, "Streams").
    crate::io::print_result(&summary(t, &task, &e, &target));
    if let Some(c) = &config {
        crate::io::print_result(&format!(
            "array: {} programmed nodes; devices stuck: {} at G_min, {} at G_max; {} unprogrammed crosspoints \
             conduct; {} forming failures\n",
            c.programmed_nodes, c.stuck_at_min, c.stuck_at_max, c.stuck_unprogrammed, c.forming_failures
        ));
    }
    crate::ui::summary!(
        "evaluated {} samples in {wall:.3} s ({} threads)",
        task.inputs.samples,
        if task.plan.in_order { 1 } else { task.plan.threads }
    );
    Ok(())
}

/// The printed summary.
fn summary(t: &TaskArgs, task: &Task, e: &Evaluation, target: &str) -> String {
    let s = &e.scores;
    let mut out = format!("{} on the {target}\n", t.file.display());
    out += &format!(
        "{} samples scored ({} steps each{}), {} readout\n",
        s.samples,
        task.inputs.steps,
        match e.first_scored {
            0 => String::new(),
            n => format!("; neurons labelled on the first {n}"),
        },
        match task.plan.readout {
            Readout::Count => "spike-count",
            Readout::First => "first-spike",
        }
    );
    out += &format!("accuracy {:.4} ({}/{}), {} ties, {} silent\n", s.accuracy, s.correct, s.samples, s.ties, s.silent);
    out += "per class:";
    for c in &s.per_class {
        out += &format!(" {}:{:.3}", c.class, c.accuracy);
    }
    out += "\nconfusion (rows: true class, columns: predicted; last: silent)\n";
    for (k, row) in s.confusion.iter().enumerate() {
        out += &format!("{k:>4} |");
        for n in row {
            out += &format!(" {n:>4}");
        }
        out += &format!(" | {:>4}\n", s.silent_by_class[k]);
    }
    let p = &s.per_inference;
    out += &format!("per inference: {:.1} spikes, {:.1} synaptic events", p.spikes, p.synaptic_events);
    if let Some(l) = p.latency_steps {
        out += &format!(", decided after {l:.1} steps");
    }
    if let (Some(c), Some(en), Some(lc)) = (p.cycles, p.energy_pj, p.latency_cycles) {
        out += &format!(", {lc:.0} cycles; {c:.0} cycles and {:.3} nJ in all", en / 1000.0);
    }
    if let (Some(rc), Some(re)) = (p.reset_cycles, p.reset_energy_pj) {
        out += &format!(" (reset {rc:.0} cycles, {:.3} nJ)", re / 1000.0);
    }
    out + "\n"
}

/// Per-sample predictions (CSV).
fn predictions(e: &Evaluation, labels: &[u32]) -> String {
    let mut s = String::from("sample,label,predicted,tie,decided_step,spikes,cycles,energy_pj,scored\n");
    for (k, (d, r)) in e.decisions.iter().zip(&e.runs).enumerate() {
        let opt = |x: Option<String>| x.unwrap_or_default();
        s += &format!(
            "{k},{},{},{},{},{},{},{},{}\n",
            labels[k],
            opt(d.class.map(|c| c.to_string())),
            u8::from(d.tie),
            opt(d.step.map(|t| t.to_string())),
            r.spikes,
            opt(r.hw.as_ref().map(|h| (h.cycles + h.reset.cycles).to_string())),
            opt(r.hw.as_ref().map(|h| format!("{:.3}", h.energy_pj + h.reset.energy_pj))),
            u8::from(k >= e.first_scored),
        );
    }
    s
}

/// The JSON report: what was run, on what, and the scores.
fn report(
    a: &Args,
    task: &Task,
    e: &Evaluation,
    target: &str,
    config: Option<&fpnna_emu::ConfigStats>,
) -> serde_json::Value {
    let t = &a.task;
    serde_json::json!({
        "tool": "fpnna eval",
        "version": env!("CARGO_PKG_VERSION"),
        "file": t.file.display().to_string(),
        "target": target,
        "data": t.data.to_string(),
        "labels": t.labels.to_string(),
        "input": t.port,
        "output": t.output,
        "samples": task.inputs.samples,
        "steps_per_sample": task.inputs.steps,
        "encoding": task.inputs.encoding(),
        "input_seed": t.input_seed,
        "input_spikes_clipped": task.inputs.clipped,
        "readout": task.plan.readout,
        "assign_on": t.assign_on,
        "neuron_classes": e.classes.of_neuron,
        "ideal": a.ideal,
        "seed": a.seed,
        "device": a.device.as_ref().map(|p| p.display().to_string()),
        "device_overrides": a.devices.overrides(),
        "array": config.map(|c| serde_json::json!({
            "programmed_nodes": c.programmed_nodes,
            "stuck_at_min": c.stuck_at_min,
            "stuck_at_max": c.stuck_at_max,
            "stuck_unprogrammed": c.stuck_unprogrammed,
            "forming_failures": c.forming_failures,
        })),
        "scores": e.scores,
    })
}

pub fn sweep(a: SweepArgs) -> Result<(), CliError> {
    let t = &a.task;
    let levels_axis = a.vary.iter().position(|x| x.name == fpnna_eval::sweep::LEVELS);
    let source = if t.is_bitstream() {
        if t.exact || t.arch.arch.is_some() || t.arch.preset.is_some() || levels_axis.is_some() {
            return Err(CliError::Usage(
                "--exact, --arch, --preset and --vary levels need the source network (NET.fpn), not a bitstream".into(),
            ));
        }
        None
    } else {
        if t.exact {
            return Err(CliError::Usage("a sweep runs the compiled array: --exact does not apply".into()));
        }
        Some((super::load_network(&t.file, 1)?, t.arch.load()?))
    };
    let given = match &source {
        None => Some(load(&t.file)?),
        Some(_) => None,
    };
    let axes = a.vary.clone();
    let seeds: Vec<u64> = (1..=a.seeds).collect();
    let t0 = std::time::Instant::now();
    let mut compiled: Vec<(u16, fpnna_bitstream::Validated)> = Vec::new();
    let mut task = None;
    let mut points = Vec::new();
    let grid = fpnna_eval::sweep::grid(&axes);
    let bar = crate::ui::bar((grid.len() * seeds.len()) as u64, "evaluations");
    for values in grid {
        let b = match (&given, &source) {
            (Some(b), _) => b,
            (None, Some((net, arch))) => {
                let levels = levels_axis.map_or(arch.nonvolatile.levels, |i| values[i] as u16);
                if !compiled.iter().any(|(l, _)| *l == levels) {
                    compiled.push((levels, compile_with_levels(t, net, arch, levels)?));
                }
                &compiled.iter().find(|(l, _)| *l == levels).expect("just compiled").1
            }
            (None, None) => return Err(CliError::Bug("a sweep without a bitstream".into())),
        };
        let task = match &task {
            Some(known) => known,
            None => task.insert(bitstream_task(t, b)?),
        };
        let mut devices = a.devices.overrides();
        for (axis, &v) in axes.iter().zip(&values).filter(|(x, _)| x.name != fpnna_eval::sweep::LEVELS) {
            fpnna_eval::sweep::apply(&mut devices, &axis.name, v).map_err(CliError::Usage)?;
        }
        let (mut acc, mut energy) = (Vec::new(), Vec::new());
        for &seed in &seeds {
            let opts = EmuOptions { ideal: a.ideal, seed, threads: 1, devices: devices.clone(), chip: None };
            let (e, _) = eval_bitstream(t, b, task, opts, &|| {})?;
            bar.inc(1);
            acc.push(e.scores.accuracy);
            energy.push(e.scores.per_inference.energy_pj.unwrap_or(0.0));
        }
        points.push(Point {
            values,
            accuracy: Summary::of(&acc),
            energy_pj: Summary::of(&energy),
            accuracy_by_seed: acc,
        });
    }
    bar.finish_and_clear();
    let sweep = Sweep { axes, seeds, points };
    write_sweep(&a, &sweep)?;
    crate::io::print_result(&sweep.csv());
    crate::ui::summary!(
        "swept {} points x {} seeds in {:.3} s",
        sweep.points.len(),
        sweep.seeds.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The source network compiled (placement seed 1) for its architecture
/// with `levels` conductance levels.
fn compile_with_levels(
    t: &TaskArgs,
    net: &fpnna_ir::Network,
    arch: &fpnna_arch::Arch,
    levels: u16,
) -> Result<fpnna_bitstream::Validated, CliError> {
    let mut arch = arch.clone();
    arch.nonvolatile.levels = levels;
    let what = |e: String| CliError::Input(format!("{} with {levels} levels: {e}", t.file.display()));
    let c = fpnna_compiler::compile(net, &arch, 1, None).map_err(|e| what(e.to_string()))?;
    fpnna_bitstream::validate(c.bitstream).map_err(|e| CliError::Bug(format!("compiled bitstream refused: {e}")))
}

/// Writes the table and the plot, both or neither.
fn write_sweep(a: &SweepArgs, sweep: &Sweep) -> Result<(), CliError> {
    let table = if a.out.extension().is_some_and(|e| e == "json") {
        let seeds = serde_json::json!({ "seeds": sweep.seeds, "input_seed": a.task.input_seed });
        crate::provenance::json(crate::provenance::Format::Sweep, sweep, seeds)?
    } else {
        sweep.csv()
    };
    let svg = match &a.plot {
        Some(_) => {
            let name = a.task.file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let title = format!("{name}: accuracy under device faults");
            Some(fpnna_eval::plot::svg(sweep, &title).map_err(CliError::Bug)?)
        }
        None => None,
    };
    let mut out = Outputs::default();
    out.add(&a.out, table.as_bytes())?;
    if let (Some(p), Some(svg)) = (&a.plot, svg) {
        out.add(p, svg.as_bytes())?;
    }
    out.commit()
}
