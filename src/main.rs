//! `fpnna`: the command-line front end. A leaf: it reads files, calls the
//! library crates, renders their errors and chooses exit codes.

mod cmd;
mod error;
mod io;
mod panic;
mod provenance;
mod spikes;
mod temporaries;
mod ui;

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
    /// No progress bars and no summaries on standard error (errors still).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More detail on standard error (compile stages, timings).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Render at most N errors of a source, then count the rest.
    #[arg(long, global = true, value_name = "N", default_value_t = error::DEFAULT_MAX_ERRORS as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_errors: u64,
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    // First, so that a panic anywhere (clap's parsing included) is reported
    // as an internal error.
    panic::install_hook();
    let cli = match std::panic::catch_unwind(Cli::parse) {
        Ok(cli) => cli,
        Err(_) => return ExitCode::from(exit::BUG),
    };
    temporaries::remove_on_signal();
    ui::set(cli.quiet, cli.verbose);
    error::set_max_errors(usize::try_from(cli.max_errors).unwrap_or(usize::MAX));
    // The command owns nothing the caller looks at after a panic, so
    // observing its state half-updated is not a concern.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panic::test_trigger();
        cmd::run(cli.command)
    }));
    match outcome {
        Ok(Ok(())) => ExitCode::from(exit::OK),
        Ok(Err(e)) => {
            error::render(&e);
            ExitCode::from(e.exit_code())
        }
        // The hook has printed the report.
        Err(_) => ExitCode::from(exit::BUG),
    }
}
