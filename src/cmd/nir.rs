//! `fpnna import` and `fpnna export`: NIR graphs in and out (docs/nir.md).

use crate::error::CliError;
use crate::io::{Outputs, read_limited};
use std::path::PathBuf;

/// Largest NIR file read.
const MAX_NIR_BYTES: u64 = 1 << 30;

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The NIR graph (HDF5, as the `nir` package writes it).
    input: PathBuf,
    /// The network source to write; its weight files go beside it.
    #[arg(short, long)]
    output: PathBuf,
    /// The timestep in ms at which NIR's continuous-time equations are stepped.
    #[arg(long, default_value_t = 1.0, value_parser = super::values::positive, allow_negative_numbers = true)]
    dt: f64,
}

pub fn import(a: ImportArgs) -> Result<(), CliError> {
    let file = a.input.display();
    let bytes = read_limited(&a.input, MAX_NIR_BYTES)?;
    let graph = fpnna_nir::read(&bytes).map_err(|e| CliError::Input(format!("{file}: {e}")))?;
    let stem = a.output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let imported = fpnna_nir::import(&graph, &stem, a.dt).map_err(|e| CliError::Input(format!("{file}: {e}")))?;
    let dir = a.output.parent().unwrap_or(std::path::Path::new(""));
    let mut out = Outputs::default();
    out.add(&a.output, imported.source.as_bytes())?;
    for (name, text) in &imported.files {
        out.add(&dir.join(name), text.as_bytes())?;
    }
    out.commit()?;
    crate::ui::summary!(
        "{}: written with {} weight and parameter files beside it",
        a.output.display(),
        imported.files.len()
    );
    Ok(())
}

/// Arguments of `export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// A network source (`.fpn`) or a bitstream (`.fpb`: the quantized network it computes).
    input: PathBuf,
    /// The NIR file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Seed of the source's unseeded random choices (as `check`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn export(a: ExportArgs) -> Result<(), CliError> {
    let file = a.input.display();
    let net = if a.input.extension().is_some_and(|e| e == "fpb") {
        let b = super::bits::load(&a.input)?;
        fpnna_compiler::recover(&b).map_err(|e| CliError::Input(format!("{file}: {e}")))?
    } else {
        super::load_network(&a.input, a.seed)?
    };
    let graph = fpnna_nir::export(&net).map_err(|e| CliError::Input(format!("{file}: {e}")))?;
    let bytes = fpnna_nir::write(&graph).map_err(|e| CliError::Input(format!("{}: {e}", a.output.display())))?;
    let mut out = Outputs::default();
    out.add(&a.output, &bytes)?;
    out.commit()?;
    crate::ui::summary!(
        "{}: {} NIR nodes, {} edges at dt = {} ms",
        a.output.display(),
        graph.nodes.len(),
        graph.edges.len(),
        net.dt_ms
    );
    Ok(())
}
