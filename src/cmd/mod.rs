//! One module per subcommand.

mod arch;
mod bits;
mod check;
mod compile;
mod device;
mod devices;
mod eval;
mod nir;
mod plot;
mod run;
mod shell;
mod sim;
mod values;

use crate::error::CliError;
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Parse and elaborate a network; print a summary (exit 1 on errors).
    Check(check::Args),
    /// Simulate a network on the reference simulator.
    Sim(sim::Args),
    /// Print a built-in architecture as TOML, or validate an architecture file.
    Arch(arch::Args),
    /// Compile a network for an architecture: report and bitstream.
    Compile(compile::Args),
    /// Recover, from a bitstream alone, a network source that computes the same.
    Decompile(compile::DecompileArgs),
    /// Print a bitstream as line-oriented assembly text.
    Disasm(bits::DisasmArgs),
    /// Assemble text back into a bitstream (identical bytes).
    Asm(bits::AsmArgs),
    /// Show a bitstream's header, architecture and utilisation.
    Inspect(bits::InspectArgs),
    /// Run a bitstream on the cycle-level array emulator.
    Run(Box<run::Args>),
    /// Chip states: a fresh chip with its manufacturing defects, or what one holds.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Task accuracy on a dataset: a network on the reference simulator, a bitstream on the emulator.
    Eval(Box<eval::Args>),
    /// Task accuracy over a grid of device figures and fault seeds (CSV/JSON table, SVG plot).
    Sweep(Box<eval::SweepArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(shell::CompletionsArgs),
    /// Print the man page (roff), or write one per subcommand into a directory.
    Man(shell::ManArgs),
    /// Import a NIR graph (HDF5) as a network source with its weight files.
    Import(nir::ImportArgs),
    /// Export a network source or a bitstream as a NIR graph (HDF5).
    Export(nir::ExportArgs),
    /// SVG pictures: spike rasters, floorplans, activity per step, weights.
    #[command(subcommand)]
    Plot(plot::PlotCommand),
}

/// Runs a subcommand.
pub fn run(c: Command) -> Result<(), CliError> {
    match c {
        Command::Check(a) => check::run(a),
        Command::Sim(a) => sim::run(a),
        Command::Arch(a) => arch::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Decompile(a) => compile::decompile(a),
        Command::Disasm(a) => bits::disasm(a),
        Command::Asm(a) => bits::asm(a),
        Command::Inspect(a) => bits::inspect(a),
        Command::Run(a) => run::run(*a),
        Command::Device(c) => device::run(c),
        Command::Eval(a) => eval::eval(*a),
        Command::Sweep(a) => eval::sweep(*a),
        Command::Completions(a) => shell::completions(a),
        Command::Man(a) => shell::man(a),
        Command::Import(a) => nir::import(a),
        Command::Export(a) => nir::export(a),
        Command::Plot(c) => plot::run(c),
    }
}

/// Loads and elaborates a source file (`-`: standard input, its includes
/// relative to the current directory), turning diagnostics into an error.
pub fn load_network(path: &Path, seed: u64) -> Result<fpnna_ir::Network, CliError> {
    let opts = fpnna_dsl::Options { seed };
    let loaded = if crate::io::is_std(path) {
        let bytes = crate::io::read_limited(path, fpnna_dsl::MAX_SOURCE_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            CliError::Input(format!(
                "standard input: not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        fpnna_dsl::load_text("standard input", text, Path::new("."), &opts)
    } else {
        fpnna_dsl::load_file(path, &opts)
    };
    loaded.map_err(|d| CliError::Source {
        file: crate::io::shown(path, "standard input"),
        count: d.diags.len(),
        diagnostics: d.reports_first(crate::error::max_errors()),
    })
}

/// A path argument.
pub type FileArg = PathBuf;

/// The default of `--max-steps` (docs/cli.md, "Limits").
pub const DEFAULT_MAX_STEPS: u64 = 1_000_000_000;

/// The spike files and length of a run, shared by `sim` and `run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// Timesteps to run (at most --max-steps).
    #[arg(long, required = true)]
    steps: Option<u64>,
    /// The most --steps may ask for, a guard against a typo running for days (at most 2^62).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STEPS,
          value_parser = clap::value_parser!(u64).range(1..=1 << 62))]
    pub max_steps: u64,
    /// Spikes on input ports (CSV `step,population,index`).
    #[arg(long)]
    pub stimulus: Option<PathBuf>,
    /// Write the recorded output spikes here (CSV; `sim` prints a rate summary without it).
    #[arg(long)]
    pub spikes: Option<PathBuf>,
}

impl RunArgs {
    /// The steps to run: `--steps`, refused beyond `--max-steps` before
    /// any work starts. (Optional for clap only so that `run --resume`,
    /// which takes it from the checkpoint, can go without it.)
    pub fn check_steps(&self) -> Result<u64, CliError> {
        let steps = self.steps.ok_or_else(|| CliError::Usage("--steps N is required".into()))?;
        within_max_steps(Some(steps), self.max_steps, || format!("--steps {steps}:"))
    }
}

/// `steps` (`None`: beyond any count), refused beyond `--max-steps` `max`
/// with `what` (the request) leading the message.
pub fn within_max_steps(steps: Option<u64>, max: u64, what: impl FnOnce() -> String) -> Result<u64, CliError> {
    match steps {
        Some(n) if n <= max => Ok(n),
        _ => Err(CliError::Usage(format!(
            "{} more than the limit of {max} steps; raise it with --max-steps N (at most 2^62)",
            what()
        ))),
    }
}
