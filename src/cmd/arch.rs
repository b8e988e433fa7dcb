//! `fpnna arch [--preset NAME | --check FILE]`

use crate::error::CliError;
use fpnna_arch::Arch;
use std::path::PathBuf;

/// Arguments of `arch`.
#[derive(clap::Args)]
pub struct Args {
    /// Built-in preset to print: small, default or large.
    #[arg(long, default_value = "default", conflicts_with = "check", value_parser = clap::builder::PossibleValuesParser::new(fpnna_arch::PRESETS))]
    preset: String,
    /// Validate an architecture file instead of printing a preset.
    #[arg(long)]
    check: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<(), CliError> {
    match &a.check {
        Some(path) => {
            let arch = load(path)?;
            println!(
                "{}: architecture `{}` is valid: {}x{} tiles of {} rows x {} columns, hash {:016x}",
                path.display(),
                arch.name,
                arch.grid.width,
                arch.grid.height,
                arch.tile.rows,
                arch.tile.cols,
                arch.hash()
            );
        }
        None => print!("{}", Arch::preset_toml(&a.preset).map_err(|e| CliError::Input(e.to_string()))?),
    }
    Ok(())
}

/// Reads an architecture file.
pub fn load(path: &std::path::Path) -> Result<Arch, CliError> {
    let bytes = crate::io::read_limited(path, crate::io::limits::ARCH)?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::Input(format!("{}: not UTF-8 text", path.display())))?;
    Arch::from_toml(&text, &path.display().to_string()).map_err(|e| CliError::Input(e.to_string()))
}

/// The architecture chosen by `--arch FILE` or `--preset NAME` (default:
/// the embedded default).
pub fn choose(arch: Option<&std::path::Path>, preset: Option<&str>) -> Result<Arch, CliError> {
    match (arch, preset) {
        (Some(p), _) => load(p),
        (None, Some(name)) => Arch::preset(name).map_err(|e| CliError::Input(e.to_string())),
        (None, None) => Ok(Arch::default_arch()),
    }
}
