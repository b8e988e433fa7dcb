//! `fpnna check FILE.fpn`

use super::{FileArg, load_network};
use crate::error::CliError;
use fpnna_ir::{Network, PopKind};
use std::collections::BTreeMap;

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// The network source.
    file: FileArg,
    /// Seed of random choices the source leaves unseeded.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let net = load_network(&a.file, a.seed)?;
    print!("{}", summary(&net));
    Ok(())
}

/// The human summary of a network.
pub fn summary(net: &Network) -> String {
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, p) in net.projs() {
        *by_kind.entry(p.kind.label()).or_default() += p.syn.len() as u64;
    }
    let neurons: u64 = net.pops().filter(|(_, p)| p.neurons().is_some()).map(|(_, p)| u64::from(p.size)).sum();
    let list = |f: &dyn Fn(&PopKind, bool) -> bool| -> String {
        let v: Vec<String> =
            net.pops().filter(|(_, p)| f(&p.kind, p.output)).map(|(_, p)| format!("{}[{}]", p.name, p.size)).collect();
        if v.is_empty() { "-".into() } else { v.join(", ") }
    };
    let mut s = format!("network {} (dt = {} ms)\n", net.name, net.dt_ms);
    s += &format!("  populations  {}\n", net.pop_count());
    s += &format!("  neurons      {neurons}\n");
    s += &format!("  projections  {}\n", net.proj_count());
    s += &format!("  synapses     {}", net.synapse_count());
    if !by_kind.is_empty() {
        let parts: Vec<String> = by_kind.iter().map(|(k, v)| format!("{k} {v}")).collect();
        s += &format!(" ({})", parts.join(", "));
    }
    s += "\n";
    s += &format!("  inputs       {}\n", list(&|k, _| *k == PopKind::Input));
    s += &format!("  generators   {}\n", list(&|k, _| matches!(k, PopKind::Generator(_))));
    s += &format!("  outputs      {}\n", list(&|_, o| o));
    s
}
