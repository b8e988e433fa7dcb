//! The CLI's error type and its rendering.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Source diagnostics (already carry file, line, column).
    #[error("{count} error(s) in {file}")]
    Source {
        /// File the errors are in.
        file: String,
        /// How many.
        count: usize,
        /// The diagnostics, rendered one by one.
        diagnostics: Vec<miette::Report>,
    },
    /// Any other refused input: the message names the file and the place.
    #[error("{0}")]
    Input(String),
    /// The command line asks for something impossible (a value clap alone
    /// cannot check, e.g. two flags that together are out of range).
    #[error("{0}")]
    Usage(String),
    /// A bug: an invariant of fpnna broke.
    #[error("internal error (a bug in fpnna, please report it): {0}")]
    Bug(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Source { .. } | CliError::Input(_) => crate::exit::INPUT,
            CliError::Usage(_) => crate::exit::USAGE,
            CliError::Bug(_) => crate::exit::BUG,
        }
    }
}

/// Renders diagnostics as plain text (no colour when not on a terminal).
pub fn render_report(r: &miette::Report) -> String {
    let theme = if std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let d: &dyn Diagnostic = r.as_ref();
    GraphicalReportHandler::new_themed(theme).with_width(100).render_report(&mut out, d).expect("render to a String");
    out
}

/// The default of `--max-errors`.
pub const DEFAULT_MAX_ERRORS: usize = 50;

/// How many diagnostics of a source are rendered (`--max-errors`).
static MAX_ERRORS: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_ERRORS);

/// Sets `--max-errors`.
pub fn set_max_errors(n: usize) {
    MAX_ERRORS.store(n, Ordering::Relaxed);
}

/// How many diagnostics of a source are rendered.
pub fn max_errors() -> usize {
    MAX_ERRORS.load(Ordering::Relaxed)
}

/// Prints an error to standard error: the diagnostics of a source up to
/// `--max-errors`, then one line counting the rest.
pub fn render(e: &CliError) {
    match e {
        CliError::Source { file, count, diagnostics } => {
            let shown = diagnostics.len().min(max_errors());
            for d in &diagnostics[..shown] {
                eprint!("{}", render_report(d));
            }
            if *count > shown {
                eprintln!("... and {} more errors (--max-errors N shows more)", count - shown);
            }
            eprintln!("error: {file}: {count} error(s); nothing was written");
        }
        other => eprintln!("error: {other}"),
    }
}
