//! Where a JSON output came from: every JSON document a command writes
//! (compile report, run statistics, inspections, eval report, sweep table)
//! starts with a `provenance` object naming its format and version, the
//! fpnna version, the command line and the seeds (docs/cli.md, "JSON
//! outputs"; the schemas are in docs/schemas/).

use crate::error::CliError;
use serde::Serialize;
use serde_json::Value;

/// The JSON documents fpnna writes, each with its schema in
/// `docs/schemas/NAME.schema.json`.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    /// `compile --report`.
    CompileReport,
    /// `run --stats`.
    RunStats,
    /// `inspect --json`.
    Inspect,
    /// `device inspect --json`.
    DeviceInspect,
    /// `eval --report`.
    EvalReport,
    /// `sweep -o SWEEP.json`.
    Sweep,
}

impl Format {
    /// The format's name (and its schema's file name).
    pub fn name(self) -> &'static str {
        match self {
            Format::CompileReport => "compile-report",
            Format::RunStats => "run-stats",
            Format::Inspect => "inspect",
            Format::DeviceInspect => "device-inspect",
            Format::EvalReport => "eval-report",
            Format::Sweep => "sweep",
        }
    }

    /// Its version: raised whenever a field changes meaning or goes away.
    pub fn version(self) -> u32 {
        1
    }
}

#[derive(Serialize)]
struct Provenance {
    format: &'static str,
    format_version: u32,
    fpnna_version: &'static str,
    /// The arguments after the program's name, as given.
    command: Vec<String>,
    seeds: Value,
}

#[derive(Serialize)]
struct Stamped<'a, T: Serialize> {
    provenance: Provenance,
    #[serde(flatten)]
    body: &'a T,
}

/// The command line outputs record, when it is not this process's own:
/// a resumed run's outputs are the checkpointed run's (`run --resume`).
static COMMAND: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Records `args` (after the program's name) as the command line of this
/// process's outputs.
pub fn set_command(args: Vec<String>) {
    let _ = COMMAND.set(args);
}

/// `body` (a JSON object) as pretty JSON, with its provenance first;
/// `seeds` names every seed the result depends on.
pub fn json<T: Serialize>(format: Format, body: &T, seeds: Value) -> Result<String, CliError> {
    let provenance = Provenance {
        format: format.name(),
        format_version: format.version(),
        fpnna_version: env!("CARGO_PKG_VERSION"),
        command: COMMAND
            .get()
            .cloned()
            .unwrap_or_else(|| std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect()),
        seeds,
    };
    serde_json::to_string_pretty(&Stamped { provenance, body })
        .map_err(|e| CliError::Bug(format!("{} JSON: {e}", format.name())))
}
