//! `fpnna disasm`, `fpnna asm`, `fpnna inspect`: the bitstream tools.

use crate::error::CliError;
use crate::io::{limits, read_limited, write_atomic};
use fpnna_bitstream::Validated;
use std::path::{Path, PathBuf};

/// Reads, decodes and validates a bitstream, naming the file in any error.
pub fn load(path: &Path) -> Result<Validated, CliError> {
    load_named(path).map(|(b, _)| b)
}

/// Reads and validates a bitstream, with the hash that names it in a
/// chip's history (`fpnna_arch::bitstream_hash` of the file's bytes).
pub fn load_named(path: &Path) -> Result<(Validated, String), CliError> {
    let bytes = read_limited(path, limits::BITSTREAM)?;
    let b = fpnna_bitstream::decode(&bytes).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))?;
    // The chip history's name of it: its identity, hashed once by decoding.
    let hash = format!("{:016x}", b.content_hash());
    Ok((b, hash))
}

/// Arguments of `disasm`.
#[derive(clap::Args)]
pub struct DisasmArgs {
    /// The bitstream.
    input: PathBuf,
    /// Write the assembly here (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn disasm(a: DisasmArgs) -> Result<(), CliError> {
    let text = fpnna_bitstream::disassemble(load(&a.input)?.bitstream());
    match &a.output {
        Some(p) => write_atomic(p, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Arguments of `asm`.
#[derive(clap::Args)]
pub struct AsmArgs {
    /// The assembly text.
    input: PathBuf,
    /// The bitstream to write.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn asm(a: AsmArgs) -> Result<(), CliError> {
    let bytes = read_limited(&a.input, limits::ASSEMBLY)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::Input(format!("{}: not UTF-8 text (byte {})", a.input.display(), e.utf8_error().valid_up_to()))
    })?;
    // Assembling validates (errors at their lines).
    let b = fpnna_bitstream::assemble(&text)
        .map_err(|e| CliError::Input(format!("{}:{}:{}: {}", a.input.display(), e.line, e.col, e.msg)))?;
    let out = fpnna_bitstream::encode(&b);
    write_atomic(&a.output, &out)?;
    crate::ui::summary!("{} bytes written to {}", out.len(), a.output.display());
    Ok(())
}

/// Arguments of `inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The bitstream.
    input: PathBuf,
    /// Print JSON for machines.
    #[arg(long)]
    json: bool,
}

pub fn inspect(a: InspectArgs) -> Result<(), CliError> {
    let b = load(&a.input)?;
    let i = fpnna_bitstream::inspect(&b);
    let sizes = fpnna_bitstream::size_stats(&b);
    if a.json {
        let v = serde_json::json!({ "inspection": i, "size": sizes });
        let json = crate::provenance::json(crate::provenance::Format::Inspect, &v, serde_json::json!({}))?;
        println!("{json}");
    } else {
        print!("{i}{sizes}");
    }
    Ok(())
}
