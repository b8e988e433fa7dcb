//! `fpnna`: the command-line front end. A leaf: it reads files, calls the
//! library crates, renders their errors and chooses exit codes.

mod cmd;
mod error;
mod io;
mod spikes;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes, documented in docs/cli.md.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The input (source, architecture, bitstream, stimulus) was refused.
    pub const INPUT: u8 = 1;
    /// The command line was malformed (clap's own code).
    pub const USAGE: u8 = 2;
    /// An internal error: a bug in fpnna, please report it.
    pub const BUG: u8 = 3;
}

#[derive(Parser)]
#[command(name = "fpnna", version, about = "Toolchain for field-programmable neural network arrays")]
struct Cli {
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cmd::run(cli.command) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            error::render(&e);
            ExitCode::from(e.exit_code())
        }
    }
}
