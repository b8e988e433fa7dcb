//! `fpnna sim FILE.fpn --steps N [--stimulus IN.csv] [--spikes OUT.csv] [--arch A | --preset P | --exact]`

use super::{FileArg, load_network};
use crate::error::CliError;
use crate::spikes;
use fpnna_ir::{Network, PopKind};
use fpnna_sim::Spike;

/// Arguments of `sim`.
#[derive(clap::Args)]
pub struct Args {
    /// The network source.
    file: FileArg,
    #[command(flatten)]
    io: super::RunArgs,
    /// Seed of random choices the source leaves unseeded.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The architecture whose quantization to simulate (default: the embedded default).
    #[command(flatten)]
    arch: super::compile::ArchArgs,
    /// Simulate the exact weights (Q16), without quantizing to device levels.
    #[arg(long, conflicts_with_all = ["arch", "preset"])]
    exact: bool,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let net = load_network(&a.file, a.seed)?;
    // The hardware computes the quantized network: that is what the
    // emulator is held to, so it is what `sim` simulates unless told not to.
    let net = if a.exact {
        net
    } else {
        let arch = a.arch.load()?;
        fpnna_compiler::quantize(&net, &arch).map_err(|e| CliError::Input(format!("{}: {e}", a.file.display())))?.0
    };
    let stimulus = match &a.io.stimulus {
        Some(p) => read_stimulus(&net, p, a.io.steps)?,
        None => Vec::new(),
    };
    let t0 = std::time::Instant::now();
    let r = fpnna_sim::simulate(&net, a.io.steps, &stimulus).map_err(|e| CliError::Bug(e.to_string()))?;
    let wall = t0.elapsed().as_secs_f64();
    match &a.io.spikes {
        Some(p) => {
            let rows = r.spikes.iter().map(|s| (s.step, net.pop(s.pop).name.clone(), s.index));
            crate::io::write_atomic(p, spikes::format(rows).as_bytes())?;
            crate::ui::summary!("{} spikes written to {}", r.spikes.len(), p.display());
        }
        None => print!("{}", summary(&net, &r, a.io.steps)),
    }
    crate::ui::summary!(
        "simulated {} steps in {wall:.3} s ({} synaptic events, {:.3e} events/s)",
        a.io.steps,
        r.synaptic_events,
        r.synaptic_events as f64 / wall.max(1e-9)
    );
    Ok(())
}

/// Reads a stimulus file against the network's input ports.
pub fn read_stimulus(net: &Network, path: &std::path::Path, steps: u64) -> Result<Vec<Spike>, CliError> {
    let ports: Vec<(String, u32)> =
        net.pops().filter(|(_, p)| p.kind == PopKind::Input).map(|(_, p)| (p.name.clone(), p.size)).collect();
    let rows = spikes::read_stimulus(path, steps, &ports)?;
    // Names looked up per spike: a map built once (the first population of
    // a name, as `Network::pop_by_name` finds it).
    let mut id = std::collections::BTreeMap::new();
    for (i, p) in net.pops() {
        id.entry(p.name.as_str()).or_insert(i);
    }
    Ok(rows.into_iter().map(|r| Spike { step: r.step, pop: id[r.population.as_str()], index: r.index }).collect())
}

fn summary(net: &Network, r: &fpnna_sim::SimResult, steps: u64) -> String {
    let secs = steps as f64 * net.dt_ms / 1000.0;
    let mut s = format!("{:<24} {:>8} {:>10} {:>12}\n", "population", "size", "spikes", "rate (Hz)");
    for (id, p) in net.pops() {
        let n = r.counts[id.0 as usize];
        let rate = if secs > 0.0 { n as f64 / f64::from(p.size) / secs } else { 0.0 };
        s += &format!("{:<24} {:>8} {:>10} {:>12.3}\n", p.name, p.size, n, rate);
    }
    s
}
