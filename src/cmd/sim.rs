//! `fpnna sim FILE.fpn --steps N [--stimulus IN.csv|.npy|.npz] [--spikes OUT.csv|.npz] [--arch A | --preset P | --exact]`

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
    let steps = a.io.check_steps()?;
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
        Some(p) => read_stimulus(&net, p, steps)?,
        None => Vec::new(),
    };
    let t0 = std::time::Instant::now();
    let r = fpnna_sim::simulate(&net, steps, &stimulus).map_err(|e| CliError::Bug(e.to_string()))?;
    let wall = t0.elapsed().as_secs_f64();
    if let Some(p) = &a.io.spikes {
        let rows = r.spikes.iter().map(|s| (s.step, net.pop(s.pop).name.clone(), s.index));
        let bytes = if spikes::is_npz(p) {
            let recorded = net.recorded();
            let pops: Vec<(String, u32)> =
                net.pops().filter(|(id, _)| recorded[id.0 as usize]).map(|(_, p)| (p.name.clone(), p.size)).collect();
            spikes::format_npz(&pops, steps, &rows.collect::<Vec<_>>())?
        } else {
            spikes::format(rows).into_bytes()
        };
        crate::io::write_atomic(p, &bytes)?;
    }
    // A summary: standard error, whatever the outputs (docs/cli.md, "Streams").
    let pops = net.pops().map(|(id, p)| (p.name.clone(), p.size, r.counts[id.0 as usize]));
    crate::ui::summary!("{}", spikes::rate_table(pops, steps, net.dt_ms).trim_end());
    crate::ui::summary!(
        "simulated {} steps in {wall:.3} s ({} recorded spikes, {} synaptic events, {:.3e} events/s)",
        steps,
        r.spikes.len(),
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
