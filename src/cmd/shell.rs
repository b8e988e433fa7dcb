//! `fpnna completions SHELL` and `fpnna man`: generated from the clap
//! definitions, so they never fall behind the options.

use crate::error::CliError;
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

/// `fpnna completions`.
#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// `fpnna man`.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Write `fpnna.1` and one `fpnna-COMMAND.1` per subcommand into this
    /// directory (without it: `fpnna.1` to standard output).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script to standard output.
pub fn completions(a: CompletionsArgs) -> Result<(), CliError> {
    let mut cmd = crate::Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "fpnna", &mut bytes);
    stdout(&bytes)
}

/// Writes the man pages: the top-level page, and with `--dir` one page per
/// subcommand (as git's `git-COMMAND.1`), all committed together.
pub fn man(a: ManArgs) -> Result<(), CliError> {
    let cmd = crate::Cli::command();
    let Some(dir) = a.dir else { return stdout(&page(cmd)?) };
    let mut out = crate::io::Outputs::default();
    out.add(&dir.join("fpnna.1"), &page(cmd.clone())?)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        let name = format!("fpnna-{}", sub.get_name());
        out.add(&dir.join(format!("{name}.1")), &page(sub.clone().display_name(name.clone()).bin_name(name))?)?;
    }
    out.commit()
}

/// One command's page, in roff.
fn page(cmd: clap::Command) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut bytes).map_err(|e| CliError::Bug(format!("man page: {e}")))?;
    Ok(bytes)
}

fn stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| CliError::Input(format!("standard output: {e}")))
}
