//! `fpnna compile FILE.fpn [--arch ARCH.toml | --preset NAME] [--seed S]
//! [--report REPORT.json] [-o OUT.fpb] [--verify] [--device CHIP.state]` and
//! `fpnna decompile`.

use super::{FileArg, load_network};
use crate::error::CliError;
use crate::io::{Outputs, write_atomic};
use std::path::PathBuf;

/// Architecture choice shared by `compile` and `sim`.
#[derive(clap::Args)]
pub struct ArchArgs {
    /// Architecture file (TOML).
    #[arg(long, conflicts_with = "preset")]
    pub arch: Option<PathBuf>,
    /// Built-in architecture: small, default or large.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(fpnna_arch::PRESETS))]
    pub preset: Option<String>,
}

impl ArchArgs {
    /// The chosen architecture (the embedded default when none is given).
    pub fn load(&self) -> Result<fpnna_arch::Arch, CliError> {
        super::arch::choose(self.arch.as_deref(), self.preset.as_deref())
    }
}

/// Arguments of `compile`.
#[derive(clap::Args)]
pub struct Args {
    /// The network source.
    file: FileArg,
    #[command(flatten)]
    arch: ArchArgs,
    /// Seed of placement and of random choices the source leaves unseeded.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the compile report (JSON, docs/compiler.md).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write the bitstream.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Check the bitstream against the network independently of the
    /// compiler (always on in debug builds).
    #[arg(long)]
    verify: bool,
    /// Compile for this chip (`fpnna device new`): map around its stuck
    /// devices and formed crosspoints, so that it computes exactly the
    /// network (docs/chip.md). Without --arch/--preset, the chip's preset.
    #[arg(long)]
    device: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let chip = a.device.as_deref().map(super::device::load).transpose()?;
    let arch = match &chip {
        Some(c) if a.arch.arch.is_none() && a.arch.preset.is_none() && fpnna_arch::Arch::preset(&c.arch).is_ok() => {
            super::arch::choose(None, Some(&c.arch))?
        }
        _ => a.arch.load()?,
    };
    if let (Some(c), Some(p)) = (&chip, &a.device) {
        c.check(&arch).map_err(|e| CliError::Input(format!("{}: {e}", p.display())))?;
    }
    let net = load_network(&a.file, a.seed)?;
    let spinner = crate::ui::spinner();
    let progress = |p: fpnna_compiler::Progress<'_>| match p {
        fpnna_compiler::Progress::Stage(stage) => {
            spinner.set_message(format!("{stage}..."));
            crate::ui::detail!("  {stage}...");
        }
        fpnna_compiler::Progress::Temperature { index, temperature, cost } => {
            spinner.set_message(format!("place: temperature {index} ({temperature:.3}), cost {cost}"));
        }
        fpnna_compiler::Progress::Route(it) => spinner.set_message(format!(
            "route: iteration {}, {} routers over their table ({} entries over)",
            it.iteration, it.overused_routers, it.total_overuse
        )),
    };
    let c = match &chip {
        Some(chip) => fpnna_compiler::compile_for_chip(&net, &arch, chip, a.seed, Some(&progress)),
        None => fpnna_compiler::compile(&net, &arch, a.seed, Some(&progress)),
    }
    .map_err(|e| CliError::Input(format!("{}: {e}", a.file.display())))?;
    spinner.finish_and_clear();
    // The report and the bitstream are written together, or neither.
    let mut out = Outputs::default();
    if let Some(p) = &a.report {
        let seeds = serde_json::json!({ "seed": a.seed });
        let json = crate::provenance::json(crate::provenance::Format::CompileReport, &c.report, seeds)?;
        out.add(p, json.as_bytes())?;
    }
    let verify = a.verify || cfg!(debug_assertions);
    let mut written = None;
    if a.output.is_some() || verify {
        let bitstream = fpnna_bitstream::validate(c.bitstream)
            .map_err(|e| CliError::Bug(format!("the compiler wrote an invalid bitstream: {e}")))?;
        if verify {
            fpnna_compiler::check_placement(&c.quantized, &bitstream).map_err(|errs| {
                CliError::Bug(format!("the bitstream does not implement the network:\n  {}", errs.join("\n  ")))
            })?;
        }
        if let Some(p) = &a.output {
            let bytes = fpnna_bitstream::encode(&bitstream);
            out.add(p, &bytes)?;
            let nodes: usize = bitstream.tiles.iter().map(|t| t.nodes.len()).sum();
            let per_node = match nodes {
                0 => "no programmed nodes".to_string(),
                n => format!("{n} programmed nodes, {:.2} bytes per node", bytes.len() as f64 / n as f64),
            };
            written = Some(format!("bitstream: {} bytes written to {} ({per_node})", bytes.len(), p.display()));
        }
    }
    out.commit()?;
    // The summaries (docs/cli.md, "Streams"), once the outputs are in place:
    // a command that fails to write them prints only its error.
    crate::ui::summary!("{}", c.report);
    if let Some(line) = written {
        crate::ui::summary!("{line}");
    }
    Ok(())
}

/// Arguments of `decompile`.
#[derive(clap::Args)]
pub struct DecompileArgs {
    /// The bitstream.
    input: PathBuf,
    /// The network source to write.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn decompile(a: DecompileArgs) -> Result<(), CliError> {
    let b = super::bits::load(&a.input)?;
    let net = fpnna_compiler::recover(&b).map_err(|e| CliError::Input(format!("{}: {e}", a.input.display())))?;
    let note = format!(
        "Recovered by `fpnna decompile` from {} (architecture `{}`).\n\
         Weights are the quantized ones: simulate with `fpnna sim --exact`.",
        a.input.display(),
        b.arch.name
    );
    let text = fpnna_dsl::emit(&net, &note).map_err(|e| CliError::Input(format!("{}: {e}", a.input.display())))?;
    write_atomic(&a.output, text.as_bytes())?;
    crate::ui::summary!(
        "{}: {} populations, {} projections, {} synapses",
        a.output.display(),
        net.pop_count(),
        net.proj_count(),
        net.synapse_count()
    );
    Ok(())
}
