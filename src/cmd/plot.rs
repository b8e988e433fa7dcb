//! `fpnna plot`: SVG pictures of spike files, bitstreams, run statistics
//! and weights (drawn by `fpnna_plot`).

use crate::cmd::bits::load;
use crate::error::CliError;
use crate::io::{limits, read_limited, write_atomic};
use fpnna_plot::PlotError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The pictures.
#[derive(clap::Subcommand)]
pub enum PlotCommand {
    /// A spike raster of a spike file (`run --spikes`, `sim --spikes`): one band per population.
    Raster(RasterArgs),
    /// A bitstream's array as placed and routed: utilisation, node modes, link load.
    Floorplan(FloorplanArgs),
    /// Cycles and energy per step of a run (`run --stats`).
    Activity(ActivityArgs),
    /// A projection's weights as a heat map, or as one image per target neuron.
    Weights(WeightsArgs),
}

/// Arguments of `plot raster`.
#[derive(clap::Args)]
pub struct RasterArgs {
    /// The spike file (CSV `step,population,index`).
    spikes: PathBuf,
    /// The bitstream that made it: every output population gets a band at
    /// its size, silent ones too.
    #[arg(long)]
    bitstream: Option<PathBuf>,
    /// Steps across (default: up to the last spike).
    #[arg(long)]
    steps: Option<u64>,
    /// The SVG to write.
    #[arg(short, long)]
    output: PathBuf,
}

/// Arguments of `plot floorplan`.
#[derive(clap::Args)]
pub struct FloorplanArgs {
    /// The bitstream.
    input: PathBuf,
    /// The SVG to write.
    #[arg(short, long)]
    output: PathBuf,
}

/// Arguments of `plot activity`.
#[derive(clap::Args)]
pub struct ActivityArgs {
    /// The statistics of a run (`run --stats`).
    stats: PathBuf,
    /// The SVG to write.
    #[arg(short, long)]
    output: PathBuf,
}

/// Arguments of `plot weights`.
#[derive(clap::Args)]
pub struct WeightsArgs {
    /// The bitstream (weights recovered from it, as `decompile` does).
    input: PathBuf,
    /// A state saved by `run --save-state` on this bitstream: its learned
    /// STDP weights instead of the programmed ones.
    #[arg(long, value_name = "STATE.json")]
    state: Option<PathBuf>,
    /// The projection, as `decompile` names it: `SOURCE -> TARGET`.
    #[arg(long)]
    projection: String,
    /// Draw each target neuron's incoming weights as a W x H image.
    #[arg(long, value_name = "WxH", value_parser = parse_grid)]
    grid: Option<(u32, u32)>,
    /// The SVG to write.
    #[arg(short, long)]
    output: PathBuf,
}

fn parse_grid(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not WIDTHxHEIGHT (e.g. 28x28)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?);
    if w == 0 || h == 0 || w > 4096 || h > 4096 {
        return Err(format!("`{s}`: each side must be 1 to 4096"));
    }
    Ok((w, h))
}

/// Runs a `plot` subcommand.
pub fn run(c: PlotCommand) -> Result<(), CliError> {
    let (svg, output) = match c {
        PlotCommand::Raster(a) => (raster(&a)?, a.output),
        PlotCommand::Floorplan(a) => {
            let b = load(&a.input)?;
            let title = format!("{}: floorplan", name(&a.input));
            (drawn(&a.input, fpnna_plot::floorplan::svg_of(b.bitstream(), &title))?, a.output)
        }
        PlotCommand::Activity(a) => (activity(&a)?, a.output),
        PlotCommand::Weights(a) => (weights(&a)?, a.output),
    };
    write_atomic(&output, svg.as_bytes())?;
    eprintln!("{} written ({} bytes)", output.display(), svg.len());
    Ok(())
}

/// A file's name, for titles.
fn name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// A picture, or the refusal naming the file it was drawn from.
fn drawn(from: &Path, r: Result<String, PlotError>) -> Result<String, CliError> {
    r.map_err(|e| match e {
        PlotError::Data(m) => CliError::Input(format!("{}: {m}", from.display())),
        PlotError::Draw(m) => CliError::Bug(m),
    })
}

fn raster(a: &RasterArgs) -> Result<String, CliError> {
    let rows = crate::spikes::read_spikes(&a.spikes)?;
    // Populations by name (the file's order within a step); sizes from
    // the bitstream's output ports, else the largest index seen.
    let mut bands: BTreeMap<String, fpnna_plot::raster::Band> = BTreeMap::new();
    let mut sized = BTreeMap::new();
    if let Some(p) = &a.bitstream {
        let b = load(p)?;
        for port in b.bitstream().ports.iter().filter(|p| p.kind == fpnna_bitstream::PortKind::Output) {
            sized.insert(port.name.clone(), port.size);
            let band = fpnna_plot::raster::Band { name: port.name.clone(), size: port.size, spikes: Vec::new() };
            bands.insert(port.name.clone(), band);
        }
    }
    for (r, line) in &rows {
        if let Some(&size) = sized.get(&r.population)
            && r.index >= size
        {
            return Err(CliError::Input(format!(
                "{}:{}: index {} is out of range for `{}` (size {size} in the bitstream)",
                a.spikes.display(),
                line,
                r.index,
                r.population
            )));
        }
        let band = bands.entry(r.population.clone()).or_insert_with(|| fpnna_plot::raster::Band {
            name: r.population.clone(),
            size: 0,
            spikes: Vec::new(),
        });
        band.spikes.push((r.step, r.index));
        if !sized.contains_key(&r.population) {
            band.size = band.size.max(r.index + 1);
        }
    }
    let last = rows.iter().map(|(r, _)| r.step + 1).max().unwrap_or(0);
    let steps = match a.steps {
        Some(s) if s < last => {
            return Err(CliError::Usage(format!("--steps {s}: the file has spikes up to step {}", last - 1)));
        }
        Some(s) => s,
        None => last.max(1),
    };
    if bands.is_empty() {
        return Err(CliError::Input(format!(
            "{}: no spikes, and no --bitstream to name its populations",
            a.spikes.display()
        )));
    }
    let r = fpnna_plot::raster::Raster {
        bands: bands.into_values().collect(),
        steps,
        title: format!("{}: spikes", name(&a.spikes)),
    };
    drawn(&a.spikes, fpnna_plot::raster::svg_of(&r))
}

fn activity(a: &ActivityArgs) -> Result<String, CliError> {
    let text = String::from_utf8(read_limited(&a.stats, limits::STATS)?)
        .map_err(|_| CliError::Input(format!("{}: not UTF-8 text", a.stats.display())))?;
    let stats: fpnna_emu::Stats = serde_json::from_str(&text).map_err(|e| {
        CliError::Input(format!(
            "{}:{}:{}: not the statistics of `run --stats`: {e}",
            a.stats.display(),
            e.line(),
            e.column()
        ))
    })?;
    drawn(&a.stats, fpnna_plot::activity::svg_of(&stats, &format!("{}: activity per step", name(&a.stats))))
}

fn weights(a: &WeightsArgs) -> Result<String, CliError> {
    let b = load(&a.input)?;
    let mut learned = fpnna_compiler::NodeWeights::new();
    if let Some(p) = &a.state {
        let at = |e: &dyn std::fmt::Display| CliError::Input(format!("{}: {e}", p.display()));
        let text = String::from_utf8(read_limited(p, limits::STATE)?).map_err(|_| at(&"not UTF-8 text"))?;
        let state = fpnna_emu::EmuState::from_json(&text).map_err(|e| at(&e))?;
        // The emulator's own check that the state is of this bitstream.
        let mut emu = fpnna_emu::Emulator::new(&b, fpnna_emu::EmuOptions::ideal())
            .map_err(|e| CliError::Input(format!("{}: {e}", a.input.display())))?;
        emu.load_state(&state).map_err(|e| at(&e))?;
        learned.extend(emu.learned_weights());
    }
    let net = fpnna_compiler::recover_with(b.bitstream(), &learned)
        .map_err(|e| CliError::Input(format!("{}: {e}", a.input.display())))?;
    let id = fpnna_plot::weights::find(&net, &a.projection)
        .map_err(|e| CliError::Input(format!("{}: {e}", a.input.display())))?;
    let w = fpnna_plot::weights::Weights::of(&net, id);
    let from = if a.state.is_some() { "learned" } else { "programmed" };
    let title = format!("{}: {} ({from})", name(&a.input), w.name);
    let svg = match a.grid {
        Some(g) => fpnna_plot::weights::grid(&w, g, &title),
        None => fpnna_plot::weights::heat_map(&w, &title),
    };
    drawn(&a.input, svg)
}
