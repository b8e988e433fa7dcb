//! `fpnna device new` and `fpnna device inspect`: the state of a physical
//! chip (docs/chip.md), and `--device`, which applies a bitstream to one.

use crate::error::CliError;
use crate::io::{read_limited, write_atomic};
use fpnna_arch::{ChipState, Crosspoint, Defect, MAX_CHIP_BYTES, Side};
use std::path::{Path, PathBuf};

/// The subcommands of `device`.
#[derive(clap::Subcommand)]
pub enum DeviceCommand {
    /// A fresh chip of an architecture, with manufacturing defects over every crosspoint.
    New(NewArgs),
    /// What a chip state holds.
    Inspect(InspectArgs),
}

/// Arguments of `device new`.
#[derive(clap::Args)]
pub struct NewArgs {
    #[command(flatten)]
    arch: super::compile::ArchArgs,
    /// Devices stuck, in all: half at G_min, half at G_max.
    #[arg(long, value_parser = super::values::fraction, allow_negative_numbers = true, conflicts_with_all = ["stuck_at_min", "stuck_at_max"])]
    stuck_rate: Option<f64>,
    /// Devices stuck at G_min.
    #[arg(long, value_parser = super::values::fraction, allow_negative_numbers = true)]
    stuck_at_min: Option<f64>,
    /// Devices stuck at G_max.
    #[arg(long, value_parser = super::values::fraction, allow_negative_numbers = true)]
    stuck_at_max: Option<f64>,
    /// A measured defect map (CSV `tile_x,tile_y,row,col,device,kind`, device `+`/`-`, kind `min`/`max`).
    #[arg(long)]
    defects: Option<PathBuf>,
    /// Seed of the seeded defects.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The chip state to write.
    #[arg(short, long)]
    output: PathBuf,
}

/// Arguments of `device inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The chip state.
    input: PathBuf,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

pub fn run(c: DeviceCommand) -> Result<(), CliError> {
    match c {
        DeviceCommand::New(a) => new(a),
        DeviceCommand::Inspect(a) => inspect(a),
    }
}

/// Reads a chip state, naming the file in any error.
pub fn load(path: &Path) -> Result<ChipState, CliError> {
    let bytes = read_limited(path, MAX_CHIP_BYTES as u64)?;
    ChipState::from_bytes(&bytes).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}

fn new(a: NewArgs) -> Result<(), CliError> {
    let arch = a.arch.load()?;
    let (min, max) = match a.stuck_rate {
        Some(r) => (r / 2.0, r / 2.0),
        None => (a.stuck_at_min.unwrap_or(0.0), a.stuck_at_max.unwrap_or(0.0)),
    };
    if min + max > 1.0 {
        return Err(CliError::Usage("--stuck-at-min and --stuck-at-max add up beyond 1".into()));
    }
    let defects = match &a.defects {
        Some(p) => read_defects(p)?,
        None => Vec::new(),
    };
    let place = a.defects.as_ref().map_or_else(String::new, |p| format!("{}: ", p.display()));
    let chip = ChipState::new(&arch, a.seed, min, max, defects).map_err(|e| CliError::Input(format!("{place}{e}")))?;
    write_atomic(&a.output, &chip.to_bytes())?;
    crate::ui::summary!(
        "chip of `{}`: devices stuck at G_min {min}, at G_max {max} (seed {}), {} measured defects, written to {}",
        arch.name,
        a.seed,
        chip.defects.len(),
        a.output.display()
    );
    Ok(())
}

/// A defect map: `tile_x,tile_y,row,col,device,kind` lines, an optional
/// header, `#` comments.
fn read_defects(path: &Path) -> Result<Vec<Defect>, CliError> {
    let bytes = read_limited(path, MAX_CHIP_BYTES as u64)?;
    let text = String::from_utf8(bytes).map_err(|_| CliError::Input(format!("{}: not UTF-8 text", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 0 && line.starts_with("tile_x")) {
            continue;
        }
        let bad = |why: String| CliError::Input(format!("{}:{}: {why}", path.display(), n + 1));
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let [x, y, row, col, side, kind] = f.as_slice() else {
            return Err(bad(format!("expected 6 fields `tile_x,tile_y,row,col,device,kind`, found {}", f.len())));
        };
        let num = |s: &str, what: &str| s.parse::<u16>().map_err(|_| bad(format!("{what} `{s}` is not a number")));
        let at =
            Crosspoint { x: num(x, "tile_x")?, y: num(y, "tile_y")?, row: num(row, "row")?, col: num(col, "col")? };
        let side = match *side {
            "+" => Side::Plus,
            "-" => Side::Minus,
            s => return Err(bad(format!("device `{s}`: expected `+` or `-`"))),
        };
        let high = match *kind {
            "max" => true,
            "min" => false,
            k => return Err(bad(format!("kind `{k}`: expected `min` or `max`"))),
        };
        out.push(Defect { at, side, high });
    }
    Ok(out)
}

fn inspect(a: InspectArgs) -> Result<(), CliError> {
    let chip = load(&a.input)?;
    let life = Life::of(&chip);
    if a.json {
        let mut json = serde_json::to_value(&chip).map_err(|e| CliError::Bug(e.to_string()))?;
        json["life"] = life.to_json();
        let text = crate::provenance::json(crate::provenance::Format::DeviceInspect, &json, serde_json::json!({}))?;
        println!("{text}");
        return Ok(());
    }
    println!("chip of architecture `{}` (hash {:016x})", chip.arch, chip.arch_hash);
    println!(
        "seeded defects over every crosspoint (seed {}): {} of devices stuck at G_min, {} at G_max",
        chip.seed, chip.stuck_at_min, chip.stuck_at_max
    );
    let high = chip.defects.iter().filter(|d| d.high).count();
    println!("measured defects: {} ({} at G_max, {} at G_min)", chip.defects.len(), high, chip.defects.len() - high);
    let mut tiles: Vec<((u16, u16), usize)> = Vec::new();
    for d in &chip.defects {
        match tiles.last_mut() {
            Some((t, n)) if *t == (d.at.x, d.at.y) => *n += 1,
            _ => tiles.push(((d.at.x, d.at.y), 1)),
        }
    }
    for ((x, y), n) in tiles {
        println!("  tile ({x}, {y}): {n}");
    }
    life.print();
    Ok(())
}

/// What the configurations applied to a chip did to it (`inspect`).
struct Life {
    /// Crosspoints formed.
    formed: u64,
    /// Write pulses over the formed crosspoints.
    writes: u64,
    /// The most any one took.
    max_writes: u64,
    /// Write pulses a crosspoint endures.
    endurance: u64,
    /// max_writes / endurance.
    wear: f64,
    /// Crosspoints worn out (both devices stuck at G_min), apart from the fab defects.
    worn_out: u64,
    tiles: Vec<TileLife>,
    history: Vec<HistoryEntry>,
}

struct TileLife {
    x: u16,
    y: u16,
    formed: u64,
    writes: u64,
    max_writes: u64,
    worn_out: u64,
}

struct HistoryEntry {
    index: usize,
    bitstream: String,
    steps: u64,
    /// Crosspoints it formed.
    formed: u64,
}

impl Life {
    fn of(chip: &ChipState) -> Life {
        let tiles: Vec<TileLife> = chip
            .formed
            .iter()
            .map(|t| TileLife {
                x: t.x,
                y: t.y,
                formed: t.nodes.len() as u64,
                writes: t.nodes.iter().fold(0u64, |w, n| w.saturating_add(n.writes)),
                max_writes: t.nodes.iter().map(|n| n.writes).max().unwrap_or(0),
                worn_out: t.nodes.iter().filter(|n| chip.worn(n)).count() as u64,
            })
            .collect();
        let mut formed_by = vec![0u64; chip.history.len()];
        // Unchecked here (no architecture): a `by` beyond the history is skipped.
        for n in chip.formed.iter().flat_map(|t| &t.nodes) {
            if let Some(c) = formed_by.get_mut(n.by as usize) {
                *c += 1;
            }
        }
        let max_writes = tiles.iter().map(|t| t.max_writes).max().unwrap_or(0);
        Life {
            formed: tiles.iter().map(|t| t.formed).sum(),
            writes: tiles.iter().fold(0u64, |w, t| w.saturating_add(t.writes)),
            max_writes,
            endurance: chip.endurance,
            wear: max_writes as f64 / chip.endurance as f64,
            worn_out: tiles.iter().map(|t| t.worn_out).sum(),
            tiles,
            history: (chip.history.iter().zip(formed_by).enumerate())
                .map(|(index, (h, formed))| HistoryEntry {
                    index,
                    bitstream: h.bitstream.clone(),
                    steps: h.steps,
                    formed,
                })
                .collect(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let tiles: Vec<_> = (self.tiles.iter())
            .map(|t| {
                json!({"x": t.x, "y": t.y, "formed": t.formed, "writes": t.writes,
                       "max_writes": t.max_writes, "worn_out": t.worn_out})
            })
            .collect();
        let history: Vec<_> = (self.history.iter())
            .map(|h| json!({"index": h.index, "bitstream": h.bitstream, "steps": h.steps, "formed": h.formed}))
            .collect();
        json!({
            "formed": self.formed, "writes": self.writes, "max_writes": self.max_writes,
            "endurance": self.endurance, "wear": self.wear, "worn_out": self.worn_out,
            "tiles": tiles, "history": history,
        })
    }

    fn print(&self) {
        println!(
            "formed crosspoints: {}; writes {} in all, at most {} on one ({:.3e} of the endurance of {}); \
             worn out (stuck at G_min): {}",
            self.formed, self.writes, self.max_writes, self.wear, self.endurance, self.worn_out
        );
        for t in &self.tiles {
            println!(
                "  tile ({}, {}): {} formed, {} writes, at most {}, {} worn out",
                t.x, t.y, t.formed, t.writes, t.max_writes, t.worn_out
            );
        }
        println!("configurations applied: {}", self.history.len());
        for h in &self.history {
            println!("  {}: bitstream {}, {} steps, formed {}", h.index, h.bitstream, h.steps, h.formed);
        }
    }
}
