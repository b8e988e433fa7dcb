//! The network IR: the hub every other fpnna crate meets at.
//!
//! A [`Network`] is a petgraph whose nodes are populations (input ports, spike
//! generators, neuron groups) and whose edges are projections, each holding
//! its synapses already expanded (structure of arrays, weights in the fixed
//! point of `fpnna-model`). Ids are typed: [`PopId`], [`ProjId`],
//! [`NeuronId`] (the global neuron number, the spike key downstream, mapped
//! to and from (population, index) by [`KeyMap`] only); petgraph indices
//! do not leak out.

use fpnna_model::{Generator, MAX_DELAY, NeuronParams, StdpParams, VolatileParams};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};

/// Largest population (neurons or channels).
pub const MAX_POPULATION: u32 = 1 << 24;
/// Most synapses one network may hold.
pub const MAX_SYNAPSES: u64 = 50_000_000;
/// Most neurons (and channels) one network may hold.
pub const MAX_NEURONS: u64 = 1 << 24;

/// A population of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PopId(pub u32);

/// A projection of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProjId(pub u32);

/// A neuron (or channel) of the whole network: populations laid end to end
/// in id order. Downstream this number is the neuron's spike *key*.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NeuronId(pub u32);

/// The global numbering of a network's neurons, built once
/// ([`Network::keys`]): population `p`'s neuron `i` is key `base(p) + i`.
/// The one place that maps keys to (population, index) and back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMap {
    /// Key of the first neuron of each population, in id order.
    offsets: Vec<u32>,
    /// Keys of the whole network.
    total: u32,
}

impl KeyMap {
    /// Number of keys (all populations).
    pub fn len(&self) -> u32 {
        self.total
    }

    /// Whether the network has no neurons or channels.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Key of the first neuron of `pop`.
    pub fn base(&self, pop: PopId) -> u32 {
        self.offsets[pop.0 as usize]
    }

    /// Key of neuron `index` of `pop`.
    pub fn key(&self, pop: PopId, index: u32) -> NeuronId {
        NeuronId(self.base(pop) + index)
    }

    /// Population and index of `key`; `None` beyond the last key.
    pub fn locate(&self, key: NeuronId) -> Option<(PopId, u32)> {
        if key.0 >= self.total {
            return None;
        }
        // The last population starting at or before the key: empty
        // populations share their successor's offset and are skipped.
        let p = self.offsets.partition_point(|&o| o <= key.0).checked_sub(1)?;
        Some((PopId(p as u32), key.0 - self.offsets[p]))
    }
}

impl PopId {
    fn node(self) -> NodeIndex {
        NodeIndex::new(self.0 as usize)
    }
}

impl ProjId {
    fn edge(self) -> EdgeIndex {
        EdgeIndex::new(self.0 as usize)
    }
}

/// What a population is made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PopKind {
    /// An input port: its spikes come from a stimulus file.
    Input,
    /// An on-chip spike generator.
    Generator(Generator),
    /// Neuron circuits.
    Neurons(Neurons),
}

/// The neuron model family, kept for reporting and decompilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NeuronModel {
    /// Leaky integrate-and-fire.
    Lif,
    /// Integrate-and-fire (no membrane leak).
    If,
}

/// Neuron circuits: per-neuron parameters and initial potentials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Neurons {
    /// Model family.
    pub model: NeuronModel,
    /// Parameters, one per neuron (usually all equal).
    pub params: Vec<NeuronParams>,
    /// Initial membrane potential, one per neuron.
    pub v_init: Vec<i32>,
}

/// A population: a named, sized group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// Hierarchical name (`l1.out`).
    pub name: String,
    /// Number of neurons or channels.
    pub size: u32,
    /// What it is.
    pub kind: PopKind,
    /// Whether its spikes are recorded as an output.
    pub output: bool,
}

impl Population {
    /// Whether this population is made of neuron circuits.
    pub fn neurons(&self) -> Option<&Neurons> {
        match &self.kind {
            PopKind::Neurons(n) => Some(n),
            _ => None,
        }
    }
}

/// The synapse kind of a projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SynapseKind {
    /// A fixed weight (non-volatile node).
    NonVolatile,
    /// Short-term facilitation (volatile node).
    Volatile(VolatileParams),
    /// Pair-based STDP, plastic during the run.
    Stdp(StdpParams),
}

impl SynapseKind {
    /// Short name used in summaries and reports.
    pub fn label(&self) -> &'static str {
        match self {
            SynapseKind::NonVolatile => "nonvolatile",
            SynapseKind::Volatile(_) => "volatile",
            SynapseKind::Stdp(_) => "stdp",
        }
    }
}

/// A projection: synapses from one population to another, structure of
/// arrays, all four vectors of equal length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Synapses {
    /// Presynaptic index within the source population.
    pub pre: Vec<u32>,
    /// Postsynaptic index within the target population.
    pub post: Vec<u32>,
    /// Weight in fixed point (`fpnna_model::ONE` is 1.0).
    pub weight: Vec<i32>,
    /// Delay in timesteps, 1..=MAX_DELAY.
    pub delay: Vec<u8>,
}

impl Synapses {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.pre.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pre.is_empty()
    }
    /// Appends one synapse.
    pub fn push(&mut self, pre: u32, post: u32, weight: i32, delay: u8) {
        self.pre.push(pre);
        self.post.push(post);
        self.weight.push(weight);
        self.delay.push(delay);
    }
}

/// A projection between two populations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// A readable name (`a -> b`, unique within the network).
    pub name: String,
    /// Synapse kind (shared by all its synapses).
    pub kind: SynapseKind,
    /// The synapses.
    pub syn: Synapses,
}

/// A whole network.
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Name given in the source.
    pub name: String,
    /// Timestep in milliseconds (used for rates and reports).
    pub dt_ms: f64,
    graph: DiGraph<Population, Projection>,
}

impl Network {
    /// An empty network.
    pub fn new(name: impl Into<String>, dt_ms: f64) -> Self {
        Network { name: name.into(), dt_ms, graph: DiGraph::new() }
    }

    /// Adds a population.
    pub fn add_population(&mut self, p: Population) -> PopId {
        PopId(self.graph.add_node(p).index() as u32)
    }

    /// Adds a projection from `pre` to `post`.
    pub fn add_projection(&mut self, pre: PopId, post: PopId, p: Projection) -> ProjId {
        ProjId(self.graph.add_edge(pre.node(), post.node(), p).index() as u32)
    }

    /// A population.
    pub fn pop(&self, id: PopId) -> &Population {
        &self.graph[id.node()]
    }

    /// A projection.
    pub fn proj(&self, id: ProjId) -> &Projection {
        &self.graph[id.edge()]
    }

    /// A projection, mutable (quantization and learning rewrite weights).
    pub fn proj_mut(&mut self, id: ProjId) -> &mut Projection {
        &mut self.graph[id.edge()]
    }

    /// Marks a population as an output (its spikes are recorded) or not.
    pub fn set_output(&mut self, id: PopId, output: bool) {
        self.graph[id.node()].output = output;
    }

    /// Source and target of a projection.
    pub fn endpoints(&self, id: ProjId) -> (PopId, PopId) {
        let (a, b) = self.graph.edge_endpoints(id.edge()).expect("projection id of this network");
        (PopId(a.index() as u32), PopId(b.index() as u32))
    }

    /// All populations, in id order.
    pub fn pops(&self) -> impl Iterator<Item = (PopId, &Population)> {
        self.graph.node_indices().map(|n| (PopId(n.index() as u32), &self.graph[n]))
    }

    /// All projections, in id order.
    pub fn projs(&self) -> impl Iterator<Item = (ProjId, &Projection)> {
        self.graph.edge_indices().map(|e| (ProjId(e.index() as u32), &self.graph[e]))
    }

    /// Projections into a population, in id order.
    pub fn projs_into(&self, id: PopId) -> Vec<ProjId> {
        let mut v: Vec<ProjId> = self
            .graph
            .edges_directed(id.node(), petgraph::Direction::Incoming)
            .map(|e| ProjId(e.id().index() as u32))
            .collect();
        v.sort();
        v
    }

    /// Looks a population up by name.
    pub fn pop_by_name(&self, name: &str) -> Option<PopId> {
        self.pops().find(|(_, p)| p.name == name).map(|(id, _)| id)
    }

    /// Number of populations.
    pub fn pop_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of projections.
    pub fn proj_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The global numbering of the neurons (the spike keys).
    pub fn keys(&self) -> KeyMap {
        let mut offsets = Vec::with_capacity(self.pop_count());
        let mut total = 0u32;
        for (_, p) in self.pops() {
            offsets.push(total);
            total += p.size;
        }
        KeyMap { offsets, total }
    }

    /// Global id of the first neuron of each population, and the total
    /// (the parts of [`Network::keys`]).
    pub fn offsets(&self) -> (Vec<u32>, u32) {
        let k = self.keys();
        (k.offsets, k.total)
    }

    /// Which populations a run records, by id: those marked `output`, or
    /// every neuron population when none is marked. The one statement of
    /// the rule: the simulator records these, the compiler gives them
    /// output ports.
    pub fn recorded(&self) -> Vec<bool> {
        let any = self.pops().any(|(_, p)| p.output);
        self.pops().map(|(_, p)| if any { p.output } else { p.neurons().is_some() }).collect()
    }

    /// Total synapse count.
    pub fn synapse_count(&self) -> u64 {
        self.projs().map(|(_, p)| p.syn.len() as u64).sum()
    }

    /// Checks every invariant of the IR; returns all violations found.
    pub fn verify(&self) -> Result<(), Vec<VerifyError>> {
        let mut errs = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        let mut neurons = 0u64;
        for (id, p) in self.pops() {
            let bad = |what: String| VerifyError::Population { pop: p.name.clone(), id, what };
            if !names.insert(p.name.as_str()) {
                errs.push(bad("duplicate population name".into()));
            }
            if p.size == 0 || p.size > MAX_POPULATION {
                errs.push(bad(format!("size {} outside 1..={MAX_POPULATION}", p.size)));
            }
            neurons += u64::from(p.size);
            match &p.kind {
                PopKind::Neurons(n) => {
                    if n.params.len() != p.size as usize || n.v_init.len() != p.size as usize {
                        errs.push(bad("per-neuron vectors do not match the size".into()));
                    }
                    if n.params.iter().any(|q| q.decay_i > 4096 || q.decay_v > 4096) {
                        errs.push(bad("decay factor above 4096".into()));
                    }
                }
                PopKind::Generator(Generator::Poisson { p: prob, .. }) if *prob > 1 << 32 => {
                    errs.push(bad("Poisson probability above 1".into()));
                }
                PopKind::Generator(Generator::Regular { period: 0, .. }) => {
                    errs.push(bad("regular generator with period 0".into()));
                }
                _ => {}
            }
        }
        if neurons > MAX_NEURONS {
            errs.push(VerifyError::Network(format!("{neurons} neurons, more than {MAX_NEURONS}")));
        }
        if self.synapse_count() > MAX_SYNAPSES {
            errs.push(VerifyError::Network(format!("{} synapses, more than {MAX_SYNAPSES}", self.synapse_count())));
        }
        for (id, pr) in self.projs() {
            let (a, b) = self.endpoints(id);
            let (pa, pb) = (self.pop(a), self.pop(b));
            let bad = |what: String| VerifyError::Projection { proj: pr.name.clone(), id, what };
            if pb.neurons().is_none() {
                errs.push(bad(format!("target `{}` is not a neuron population", pb.name)));
            }
            let s = &pr.syn;
            if s.post.len() != s.len() || s.weight.len() != s.len() || s.delay.len() != s.len() {
                errs.push(bad("synapse vectors of unequal length".into()));
                continue;
            }
            if let Some(k) = s.pre.iter().position(|&i| i >= pa.size) {
                errs.push(bad(format!("synapse {k}: pre index {} >= {}", s.pre[k], pa.size)));
            }
            if let Some(k) = s.post.iter().position(|&i| i >= pb.size) {
                errs.push(bad(format!("synapse {k}: post index {} >= {}", s.post[k], pb.size)));
            }
            if let Some(k) = s.delay.iter().position(|&d| d == 0 || u32::from(d) > MAX_DELAY) {
                errs.push(bad(format!("synapse {k}: delay {} outside 1..={MAX_DELAY}", s.delay[k])));
            }
            if let SynapseKind::Stdp(p) = pr.kind {
                if p.w_min < 0 || p.w_min > p.w_max {
                    errs.push(bad("STDP bounds must satisfy 0 <= w_min <= w_max".into()));
                } else if let Some(k) = s.weight.iter().position(|&w| w < p.w_min || w > p.w_max) {
                    errs.push(bad(format!("synapse {k}: STDP weight outside [w_min, w_max]")));
                }
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

/// A broken IR invariant: a bug in whichever pass produced the IR.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerifyError {
    /// A population is malformed.
    #[error("population `{pop}` ({id:?}): {what}")]
    Population {
        /// Name.
        pop: String,
        /// Id.
        id: PopId,
        /// What is wrong.
        what: String,
    },
    /// A projection is malformed.
    #[error("projection `{proj}` ({id:?}): {what}")]
    Projection {
        /// Name.
        proj: String,
        /// Id.
        id: ProjId,
        /// What is wrong.
        what: String,
    },
    /// The network as a whole breaks a limit.
    #[error("network: {0}")]
    Network(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use fpnna_model::{ONE, Reset};

    fn neurons(n: u32) -> Population {
        let p = NeuronParams {
            decay_i: 0,
            decay_v: 0,
            threshold: ONE,
            bias: 0,
            v_min: 0,
            reset: Reset::Zero,
            refractory: 0,
            theta_step: 0,
            theta_decay: 0,
        };
        Population {
            name: format!("p{n}"),
            size: n,
            kind: PopKind::Neurons(Neurons {
                model: NeuronModel::If,
                params: vec![p; n as usize],
                v_init: vec![0; n as usize],
            }),
            output: true,
        }
    }

    #[test]
    fn verifier_accepts_a_well_formed_network() {
        let mut net = Network::new("t", 1.0);
        let a = net.add_population(Population { name: "in".into(), size: 2, kind: PopKind::Input, output: false });
        let b = net.add_population(neurons(3));
        let mut syn = Synapses::default();
        syn.push(1, 2, ONE, 1);
        net.add_projection(a, b, Projection { name: "in -> p3".into(), kind: SynapseKind::NonVolatile, syn });
        assert_eq!(net.verify(), Ok(()));
        assert_eq!(net.offsets(), (vec![0, 2], 5));
        assert_eq!(net.pop_by_name("p3"), Some(b));
    }

    #[test]
    fn keys_locate_and_round_trip() {
        let mut net = Network::new("t", 1.0);
        let a = net.add_population(Population { name: "in".into(), size: 2, kind: PopKind::Input, output: false });
        let b = net.add_population(neurons(3));
        let keys = net.keys();
        assert_eq!((keys.len(), keys.base(b)), (5, 2));
        assert_eq!(keys.key(b, 1), NeuronId(3));
        assert_eq!(keys.locate(NeuronId(1)), Some((a, 1)));
        assert_eq!(keys.locate(NeuronId(2)), Some((b, 0)));
        assert_eq!(keys.locate(NeuronId(5)), None);
        for k in 0..keys.len() {
            let (p, i) = keys.locate(NeuronId(k)).unwrap();
            assert_eq!(keys.key(p, i), NeuronId(k));
        }
    }

    #[test]
    fn outputs_are_the_marked_populations_or_else_every_neuron_population() {
        let mut net = Network::new("t", 1.0);
        net.add_population(Population { name: "in".into(), size: 2, kind: PopKind::Input, output: false });
        let b = net.add_population(Population { output: false, ..neurons(3) });
        assert_eq!(net.recorded(), vec![false, true]);
        net.set_output(b, false);
        let c = net.add_population(neurons(1));
        assert_eq!(net.recorded(), vec![false, false, true]);
        net.set_output(c, false);
        net.set_output(PopId(0), true);
        assert_eq!(net.recorded(), vec![true, false, false]);
    }

    #[test]
    fn verifier_lists_every_violation() {
        let mut net = Network::new("t", 1.0);
        let a = net.add_population(Population { name: "in".into(), size: 2, kind: PopKind::Input, output: false });
        let b = net.add_population(neurons(3));
        let mut syn = Synapses::default();
        syn.push(2, 0, ONE, 1); // pre out of range
        syn.push(0, 0, ONE, 0); // delay 0
        net.add_projection(a, b, Projection { name: "x".into(), kind: SynapseKind::NonVolatile, syn: syn.clone() });
        net.add_projection(
            b,
            a,
            Projection { name: "y".into(), kind: SynapseKind::NonVolatile, syn: Synapses::default() },
        );
        let errs = net.verify().unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[2].to_string().contains("not a neuron population"));
    }
}
