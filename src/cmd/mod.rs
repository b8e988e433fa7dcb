//! One module per subcommand.

use crate::error::CliError;
use clap::Subcommand;

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {}

/// Runs a subcommand.
pub fn run(c: Command) -> Result<(), CliError> {
    match c {}
}
