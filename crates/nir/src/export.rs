//! A network IR as a NIR graph: an Input per input port, a neuron node per
//! population (IF, LIF or CubaLIF, whichever holds it exactly), a Linear
//! node per projection and delay (with a Delay node for delays above one
//! step), an Output per recorded population. The inverse of the import's
//! conversions at the network's `dt` (docs/nir.md).

use crate::NirError;
use crate::graph::{Array, Graph, Node};
use fpnna_ir::{Network, PopKind, SynapseKind};
use fpnna_model::{DECAY_ONE, ONE, Reset};
use std::collections::BTreeMap;

fn refuse(what: &str, why: impl Into<String>) -> NirError {
    NirError::Export { what: what.to_string(), why: why.into() }
}

/// A node name: NIR reserves `.` for nested graphs.
fn node_name(s: &str) -> String {
    s.replace('.', "_")
}

/// Exports `net` as a graph.
pub fn export(net: &Network) -> Result<Graph, NirError> {
    let dt = net.dt_ms / 1000.0;
    let mut g = Graph::default();
    let recorded = net.recorded();
    let mut names = Vec::new();
    for (id, p) in net.pops() {
        let name = node_name(&p.name);
        let node = match &p.kind {
            PopKind::Input => Node::Input { shape: vec![p.size as usize] },
            PopKind::Generator(_) => return Err(refuse(&p.name, "NIR has no spike generators")),
            PopKind::Neurons(n) => neurons(&p.name, n, dt)?,
        };
        if g.nodes.insert(name.clone(), node).is_some() {
            return Err(refuse(&p.name, format!("two populations are named `{name}` in NIR")));
        }
        if recorded[id.0 as usize] {
            let out = format!("{name}_output");
            g.nodes.insert(out.clone(), Node::Output { shape: vec![p.size as usize] });
            g.edges.push((name.clone(), out));
        }
        names.push(name);
    }
    for (id, pr) in net.projs() {
        if pr.kind != SynapseKind::NonVolatile {
            return Err(refuse(&pr.name, format!("a {} synapse has no NIR equivalent", pr.kind.label())));
        }
        let (a, b) = net.endpoints(id);
        let (na, nb) = (net.pop(a).size as usize, net.pop(b).size as usize);
        let mut by_delay: BTreeMap<u8, Vec<f64>> = BTreeMap::new();
        let s = &pr.syn;
        for k in 0..s.len() {
            let w = by_delay.entry(s.delay[k]).or_insert_with(|| vec![0.0; na * nb]);
            w[s.post[k] as usize * na + s.pre[k] as usize] += f64::from(s.weight[k]) / f64::from(ONE);
        }
        let base = format!("{}_to_{}", names[a.0 as usize], names[b.0 as usize]);
        let several = by_delay.len() > 1;
        for (d, w) in by_delay {
            let mut lin = if several { format!("{base}_d{d}") } else { base.clone() };
            while g.nodes.contains_key(&lin) {
                lin.push('_');
            }
            g.nodes.insert(lin.clone(), Node::Linear { weight: Array { shape: vec![nb, na], data: w } });
            let mut from = names[a.0 as usize].clone();
            if d > 1 {
                let dn = format!("{lin}_delay");
                let delay = Array::vector(vec![f64::from(d - 1) * dt; na]);
                g.nodes.insert(dn.clone(), Node::Delay { delay });
                g.edges.push((from, dn.clone()));
                from = dn;
            }
            g.edges.push((from, lin.clone()));
            g.edges.push((lin, names[b.0 as usize].clone()));
        }
    }
    Ok(g)
}

fn neurons(name: &str, n: &fpnna_ir::Neurons, dt: f64) -> Result<Node, NirError> {
    let len = n.params.len();
    for (k, p) in n.params.iter().enumerate() {
        let bad = |what: &str| Err(refuse(name, format!("neuron {k}: {what} has no NIR equivalent")));
        if p.reset != Reset::Zero {
            return bad("reset = subtract");
        }
        if p.refractory != 0 {
            return bad("a refractory period");
        }
        if p.v_min != i32::MIN {
            return bad("a floor v_min");
        }
        if n.v_init[k] != 0 {
            return bad("an initial potential");
        }
    }
    let frac = |d: u16| f64::from(d) / f64::from(DECAY_ONE);
    let arr = |f: &dyn Fn(&fpnna_model::NeuronParams) -> f64| Array::vector(n.params.iter().map(f).collect());
    // v >= T in fixed point is v > T - 1 unit: NIR fires when v > v_threshold.
    let v_threshold = arr(&|p| f64::from(i64::from(p.threshold) as i32 - 1) / f64::from(ONE));
    let zeros = Array::vector(vec![0.0; len]);
    let instant = n.params.iter().all(|p| p.decay_i == DECAY_ONE);
    let no_leak = n.params.iter().all(|p| p.decay_v == 0);
    if no_leak && instant {
        if let Some(k) = n.params.iter().position(|p| p.bias != 0) {
            return Err(refuse(name, format!("neuron {k}: a bias without a leak has no NIR equivalent (IF has none)")));
        }
        return Ok(Node::If { r: Array::vector(vec![1.0 / dt; len]), v_threshold, v_reset: zeros });
    }
    if let Some(k) = n.params.iter().position(|p| p.decay_v == 0) {
        return Err(refuse(name, format!("neuron {k}: no membrane leak beside leaky neurons or a synaptic current")));
    }
    // Euler: dt/tau is the decay fraction; r = tau/dt makes the input's
    // gain r dt/tau = 1; v_leak dt/tau is the bias.
    let tau_mem = arr(&|p| dt / frac(p.decay_v));
    let r = arr(&|p| 1.0 / frac(p.decay_v));
    let v_leak = arr(&|p| f64::from(p.bias) / f64::from(ONE) / frac(p.decay_v));
    if instant {
        return Ok(Node::Lif { tau: tau_mem, r, v_leak, v_threshold, v_reset: zeros });
    }
    if let Some(k) = n.params.iter().position(|p| p.decay_i == 0) {
        return Err(refuse(name, format!("neuron {k}: a synaptic current that never decays")));
    }
    Ok(Node::CubaLif {
        tau_syn: arr(&|p| dt / frac(p.decay_i)),
        tau_mem,
        r,
        v_leak,
        v_threshold,
        v_reset: zeros,
        w_in: Array::vector(vec![1.0; len]),
    })
}
