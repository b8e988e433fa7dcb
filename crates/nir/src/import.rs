//! A NIR graph as an `.fpn` source: populations for the spiking nodes and
//! input ports for the graph's inputs; every chain of linear nodes between
//! them (Affine, Linear, Scale, Delay, Flatten, convolutions, pools)
//! composed into explicit synapses, written to CSV files beside the
//! source. Forward Euler at `dt` (docs/nir.md gives every conversion).

use crate::NirError;
use crate::graph::{Array, Graph, Node, Padding};
use fpnna_model::{DECAY_ONE, MAX_DELAY, ONE};
use std::collections::BTreeMap;
use std::fmt::Write;

/// An imported network: the source text and its data files.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The `.fpn` source.
    pub source: String,
    /// Data files `(name, contents)`, named relative to the source.
    pub files: Vec<(String, String)>,
}

/// Most values a signal or population may hold (the largest population).
const MAX_VALUES: usize = 1 << 24;

/// Refuses a node whose output would hold more than [`MAX_VALUES`].
fn bounded(n: &str, dims: &[usize]) -> Result<usize, NirError> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&c| c <= MAX_VALUES)
        .ok_or_else(|| node_err(n, format!("an output of shape {dims:?}, more than {MAX_VALUES} values")))
}

/// Most kernel taps a convolution or pool may unroll (outputs times taps).
const MAX_TAPS: usize = 1 << 28;

fn taps(n: &str, dims: &[usize]) -> Result<(), NirError> {
    match dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
        Some(t) if t <= MAX_TAPS => Ok(()),
        _ => Err(node_err(n, format!("more than {MAX_TAPS} kernel taps to unroll ({dims:?})"))),
    }
}

/// Largest magnitude of a fixed-point value.
const MAX_FIXED: f64 = 32768.0;
/// A threshold no potential reaches below saturation: the readout of a
/// node without spikes (LI, Integrator).
const NEVER: f64 = 32767.0;

fn node_err(node: &str, what: impl Into<String>) -> NirError {
    NirError::Node { node: node.to_string(), what: what.into() }
}

/// A flattened node: its place in the top graph and what it is.
struct Flat<'a> {
    node: &'a Node,
    /// Inside a nested graph (its Input and Output pass values through).
    nested: bool,
}

/// The graph with nested graphs inlined under dotted names.
struct Flattened<'a> {
    nodes: BTreeMap<String, Flat<'a>>,
    /// Sources of each node's input, in edge order.
    inputs: BTreeMap<String, Vec<String>>,
}

fn flatten<'a>(g: &'a Graph, prefix: &str, out: &mut Flattened<'a>) -> Result<(), NirError> {
    for (name, node) in &g.nodes {
        let full = format!("{prefix}{name}");
        if let Node::Graph(inner) = node {
            flatten(inner, &format!("{full}."), out)?;
        } else {
            out.nodes.insert(full, Flat { node, nested: !prefix.is_empty() });
        }
    }
    // An edge names a node of this graph, or `graph.node` inside a nested
    // one; a bare nested graph stands for its only Input (as a target) or
    // its only Output (as a source).
    let resolve = |name: &str, target: bool| -> Result<String, NirError> {
        let full = format!("{prefix}{name}");
        match g.nodes.get(name) {
            Some(Node::Graph(inner)) => {
                let want = if target { "Input" } else { "Output" };
                let ends: Vec<&String> =
                    inner.nodes.iter().filter(|(_, n)| n.type_name() == want).map(|(k, _)| k).collect();
                match ends[..] {
                    [one] => Ok(format!("{full}.{one}")),
                    _ => {
                        Err(node_err(&full, format!("an edge names this graph, which has {} {want} nodes", ends.len())))
                    }
                }
            }
            Some(_) => Ok(full),
            None if out.nodes.contains_key(&full) => Ok(full),
            None => Err(node_err(
                &full,
                format!("an edge {} it, but the graph has no such node", if target { "leads into" } else { "leaves" }),
            )),
        }
    };
    for (a, b) in &g.edges {
        let (a, b) = (resolve(a, false)?, resolve(b, true)?);
        out.inputs.entry(b).or_default().push(a);
    }
    Ok(())
}

/// One value of a signal: a weighted sum of (population, neuron, extra
/// delay in steps) spikes plus a constant.
#[derive(Clone, Debug, Default)]
struct Elem {
    terms: BTreeMap<(usize, u32, u32), f64>,
    bias: f64,
}

impl Elem {
    fn add_scaled(&mut self, other: &Elem, w: f64) {
        if w == 0.0 {
            return;
        }
        for (k, v) in &other.terms {
            *self.terms.entry(*k).or_insert(0.0) += w * v;
        }
        self.bias += w * other.bias;
    }
}

/// What flows along an edge: values of a shape (C order).
#[derive(Clone, Debug)]
struct Signal {
    shape: Vec<usize>,
    elems: Vec<Elem>,
}

/// A population of the imported network.
struct Pop {
    name: String,
    node: String,
    kind: PopKind,
    size: usize,
}

enum PopKind {
    Input,
    Neurons(Neurons),
}

/// A population's parameters in the language's terms, per neuron.
struct Neurons {
    model: &'static str,
    decay_v: u16,
    decay_i: u16,
    /// Gain from the NIR input to our current.
    gain: Vec<f64>,
    threshold: Vec<f64>,
    /// Constant drive per step (from v_leak), before any input bias.
    bias: Vec<f64>,
    /// Whether a constant in the input can become a bias (no synaptic
    /// current, or one that lasts one step).
    bias_ok: bool,
    note: String,
}

struct Importer<'a> {
    flat: Flattened<'a>,
    dt: f64,
    dt_ms: f64,
    pops: Vec<Pop>,
    signals: BTreeMap<String, Signal>,
    busy: Vec<String>,
}

/// Imports a graph as a network named `name` at timestep `dt_ms`; data
/// files are named `{name}.*.csv`.
pub fn import(graph: &Graph, name: &str, dt_ms: f64) -> Result<Imported, NirError> {
    if !(dt_ms.is_finite() && dt_ms > 0.0) {
        return Err(node_err("<graph>", format!("the timestep {dt_ms} ms is not positive")));
    }
    let mut flat = Flattened { nodes: BTreeMap::new(), inputs: BTreeMap::new() };
    flatten(graph, "", &mut flat)?;
    let mut im =
        Importer { flat, dt: dt_ms / 1000.0, dt_ms, pops: Vec::new(), signals: BTreeMap::new(), busy: Vec::new() };
    // Populations first, in name order: their outputs need no input.
    let names: Vec<String> = im.flat.nodes.keys().cloned().collect();
    for n in &names {
        im.population(n)?;
    }
    let mut used = BTreeMap::new();
    for p in &mut im.pops {
        p.name = unique(&ident(&p.node), &mut used);
    }
    // Each population's input, then the outputs.
    let mut projections = Vec::new();
    for k in 0..im.pops.len() {
        if matches!(im.pops[k].kind, PopKind::Input) {
            continue;
        }
        let node = im.pops[k].node.clone();
        let input = im.input_of(&node)?;
        projections.push((k, input));
    }
    let mut outputs = Vec::new();
    for n in &names {
        let f = &im.flat.nodes[n];
        if let (Node::Output { shape }, false) = (f.node, f.nested) {
            let input = im.input_of(n)?;
            let want: usize = shape.iter().product();
            if input.elems.len() != want {
                return Err(node_err(n, format!("an Output of {want} values receives {}", input.elems.len())));
            }
            outputs.push(im.recorded(n, &input)?);
        }
    }
    im.emit(name, projections, outputs)
}

/// A name the language accepts.
fn ident(s: &str) -> String {
    use fpnna_model::names::{is_ident_char, is_ident_start, is_identifier};
    let mut out: String = s.chars().map(|c| if is_ident_char(c) { c } else { '_' }).collect();
    if out.is_empty() {
        out.push('_');
    } else if !out.starts_with(is_ident_start) {
        out = format!("n_{out}");
    }
    if !is_identifier(&out) || fpnna_ir_keyword(&out) {
        out = format!("{out}_");
    }
    debug_assert!(is_identifier(&out), "{out:?}");
    out
}

/// The language's keywords (`fpnna_model::names`) and words of its models
/// and clauses, avoided as names for readability.
fn fpnna_ir_keyword(s: &str) -> bool {
    const WORDS: &[&str] = &["lif", "if", "zero", "subtract", "all", "nearest", "hard", "soft"];
    fpnna_model::names::KEYWORDS.contains(&s) || WORDS.contains(&s)
}

fn unique(base: &str, used: &mut BTreeMap<String, u32>) -> String {
    let n = used.entry(base.to_string()).or_insert(0);
    *n += 1;
    if *n == 1 { base.to_string() } else { format!("{base}_{n}") }
}

/// A number as the language reads it back exactly.
fn num(x: f64) -> String {
    if x == 0.0 { "0".into() } else { format!("{x}") }
}

/// A value as the Q16 fixed point it becomes (`round(x * 65536)`, as the
/// elaborator rounds): the same network, printed without `f32` noise.
fn q16(x: f64) -> String {
    num((x * f64::from(ONE)).round() / f64::from(ONE))
}

impl Importer<'_> {
    /// Makes the population of a spiking node or a top-level Input.
    fn population(&mut self, n: &str) -> Result<(), NirError> {
        let f = &self.flat.nodes[n];
        let dt = self.dt;
        let kind = match f.node {
            Node::Input { shape } if !f.nested => {
                self.add_pop(n, PopKind::Input, shape.clone());
                return Ok(());
            }
            Node::Lif { tau, r, v_leak, v_threshold, v_reset } => {
                same_len(n, &[("tau", tau), ("r", r), ("v_leak", v_leak), ("v_threshold", v_threshold)])?;
                zero_reset(n, v_reset)?;
                let mut lif = leaky(n, tau, r, v_leak, dt)?;
                lif.threshold = strict(&v_threshold.data);
                lif.note = format!("NIR LIF: {}", lif.note);
                lif
            }
            Node::CubaLif { tau_syn, tau_mem, r, v_leak, v_threshold, v_reset, w_in } => {
                let size = same_len(
                    n,
                    &[
                        ("tau_syn", tau_syn),
                        ("tau_mem", tau_mem),
                        ("r", r),
                        ("v_leak", v_leak),
                        ("v_threshold", v_threshold),
                        ("w_in", w_in),
                    ],
                )?;
                zero_reset(n, v_reset)?;
                let am = rates(n, "tau_mem", tau_mem, dt)?;
                let as_ = rates(n, "tau_syn", tau_syn, dt)?;
                let decay_i = decay(n, "tau_syn", &as_)?;
                Neurons {
                    model: "lif",
                    decay_v: decay(n, "tau_mem", &am)?,
                    decay_i,
                    gain: (0..size).map(|k| r.data[k] * am[k] * w_in.data[k]).collect(),
                    threshold: strict(&v_threshold.data),
                    bias: (0..size).map(|k| am[k] * v_leak.data[k]).collect(),
                    bias_ok: decay_i == DECAY_ONE,
                    note: format!(
                        "NIR CubaLIF: dt/tau_mem = {}, dt/tau_syn = {}",
                        num(am[0] as f32 as f64),
                        num(as_[0] as f32 as f64)
                    ),
                }
            }
            Node::If { r, v_threshold, v_reset } => {
                let size = same_len(n, &[("r", r), ("v_threshold", v_threshold)])?;
                zero_reset(n, v_reset)?;
                Neurons {
                    model: "if",
                    decay_v: 0,
                    decay_i: DECAY_ONE,
                    gain: (0..size).map(|k| r.data[k] * dt).collect(),
                    threshold: strict(&v_threshold.data),
                    bias: vec![0.0; size],
                    bias_ok: true,
                    note: "NIR IF".into(),
                }
            }
            Node::Li { tau, r, v_leak } => {
                same_len(n, &[("tau", tau), ("r", r), ("v_leak", v_leak)])?;
                let mut li = leaky(n, tau, r, v_leak, dt)?;
                li.note =
                    "NIR LI: a potential without spikes (never reaches its threshold; see it with --trace)".into();
                li
            }
            Node::Integrator { r } => {
                let size = r.len();
                Neurons {
                    model: "if",
                    decay_v: 0,
                    decay_i: DECAY_ONE,
                    gain: (0..size).map(|k| r.data[k] * dt).collect(),
                    threshold: vec![NEVER; size],
                    bias: vec![0.0; size],
                    bias_ok: true,
                    note: "NIR I (integrator): a potential without spikes (see it with --trace)".into(),
                }
            }
            Node::Threshold { threshold } => {
                let size = threshold.len();
                Neurons {
                    model: "lif",
                    decay_v: DECAY_ONE,
                    decay_i: DECAY_ONE,
                    gain: vec![1.0; size],
                    threshold: strict(&threshold.data),
                    bias: vec![0.0; size],
                    bias_ok: true,
                    note: "NIR Threshold: fires in every step its input exceeds the threshold".into(),
                }
            }
            Node::Other(t) => {
                return Err(node_err(
                    n,
                    format!(
                        "the NIR node type `{t}` is not supported (supported: Input, Output, Affine, Linear, Scale, \
                         LIF, CubaLIF, IF, LI, I, Threshold, Delay, Flatten, Conv1d, Conv2d, SumPool2d, AvgPool2d, \
                         NIRGraph)"
                    ),
                ));
            }
            _ => return Ok(()),
        };
        let shape = match f.node {
            Node::Lif { v_threshold: a, .. }
            | Node::CubaLif { v_threshold: a, .. }
            | Node::If { v_threshold: a, .. }
            | Node::Li { r: a, .. }
            | Node::Integrator { r: a }
            | Node::Threshold { threshold: a } => a.shape.clone(),
            _ => vec![kind.gain.len()],
        };
        bounded(n, &shape)?;
        if kind.gain.is_empty() {
            return Err(node_err(n, "a population of no neurons"));
        }
        if let Some(t) = kind.threshold.iter().find(|t| t.abs() >= MAX_FIXED) {
            return Err(node_err(n, format!("threshold {t} is beyond the fixed-point range (|x| < 32768)")));
        }
        self.add_pop(n, PopKind::Neurons(kind), shape);
        Ok(())
    }

    fn add_pop(&mut self, n: &str, kind: PopKind, shape: Vec<usize>) {
        let size = shape.iter().product::<usize>();
        let k = self.pops.len();
        self.pops.push(Pop { name: String::new(), node: n.to_string(), kind, size });
        let elems = (0..size as u32).map(|j| Elem { terms: BTreeMap::from([((k, j, 0), 1.0)]), bias: 0.0 }).collect();
        self.signals.insert(n.to_string(), Signal { shape, elems });
    }

    /// The sum of a node's incoming edges.
    fn input_of(&mut self, n: &str) -> Result<Signal, NirError> {
        let srcs = self.flat.inputs.get(n).cloned().unwrap_or_default();
        let mut sum: Option<(String, Signal)> = None;
        for s in srcs {
            let sig = self.output_of(&s)?;
            match &mut sum {
                None => sum = Some((s, sig)),
                Some((first, acc)) => {
                    if acc.elems.len() != sig.elems.len() {
                        return Err(node_err(
                            n,
                            format!(
                                "its inputs disagree: `{first}` gives {} values, `{s}` gives {}",
                                acc.elems.len(),
                                sig.elems.len()
                            ),
                        ));
                    }
                    for (a, b) in acc.elems.iter_mut().zip(&sig.elems) {
                        a.add_scaled(b, 1.0);
                    }
                }
            }
        }
        sum.map(|(_, s)| s).ok_or_else(|| node_err(n, "no edge leads into it"))
    }

    /// What a node sends along its outgoing edges.
    fn output_of(&mut self, n: &str) -> Result<Signal, NirError> {
        if let Some(s) = self.signals.get(n) {
            return Ok(s.clone());
        }
        if self.busy.iter().any(|b| b == n) {
            return Err(node_err(n, "a cycle of linear nodes with no neuron population on it"));
        }
        let node = self.flat.nodes.get(n).map(|f| f.node).ok_or_else(|| node_err(n, "no such node"))?;
        if let Node::Output { .. } = node
            && !self.flat.nodes[n].nested
        {
            return Err(node_err(n, "an edge leaves a graph Output"));
        }
        self.busy.push(n.to_string());
        let x = self.input_of(n)?;
        self.busy.pop();
        let y = self.apply(n, node, x)?;
        self.signals.insert(n.to_string(), y.clone());
        Ok(y)
    }

    /// A linear node applied to its input.
    fn apply(&self, n: &str, node: &Node, x: Signal) -> Result<Signal, NirError> {
        match node {
            Node::Input { .. } | Node::Output { .. } => Ok(x),
            Node::Linear { weight } => dense(n, weight, None, x),
            Node::Affine { weight, bias } => dense(n, weight, Some(bias), x),
            Node::Scale { scale } => {
                let mut x = x;
                for (k, e) in x.elems.iter_mut().enumerate() {
                    let s = broadcast(n, "scale", scale, k, x.shape.iter().product())?;
                    let mut y = Elem::default();
                    y.add_scaled(e, s);
                    *e = y;
                }
                Ok(x)
            }
            Node::Delay { delay } => {
                let mut x = x;
                let len = x.elems.len();
                for (k, e) in x.elems.iter_mut().enumerate() {
                    let d = broadcast(n, "delay", delay, k, len)?;
                    let steps = d / self.dt;
                    let s = steps.round();
                    if d < 0.0 || (steps - s).abs() > 1e-6 * s.max(1.0) || s > f64::from(MAX_DELAY) {
                        return Err(node_err(
                            n,
                            format!("delay {d} s is not a whole number of {} ms steps up to {MAX_DELAY}", self.dt_ms),
                        ));
                    }
                    e.terms = std::mem::take(&mut e.terms)
                        .into_iter()
                        .map(|((p, i, t), w)| ((p, i, t + s as u32), w))
                        .collect();
                }
                Ok(x)
            }
            Node::Flatten { start_dim, end_dim, .. } => {
                let r = x.shape.len() as i64;
                let (s, e) = (
                    if *start_dim < 0 { start_dim + r } else { *start_dim },
                    if *end_dim < 0 { end_dim + r } else { *end_dim },
                );
                if !(0 <= s && s <= e && e < r) {
                    return Err(node_err(n, format!("dimensions {start_dim}..={end_dim} of a shape {:?}", x.shape)));
                }
                let (s, e) = (s as usize, e as usize);
                let mut shape = x.shape[..s].to_vec();
                shape.push(x.shape[s..=e].iter().product());
                shape.extend_from_slice(&x.shape[e + 1..]);
                Ok(Signal { shape, elems: x.elems })
            }
            Node::Conv { weight, bias, stride, padding, dilation, groups, input_shape } => {
                conv(n, weight, bias, stride, padding, dilation, *groups, input_shape.as_deref(), x)
            }
            Node::Pool { average, kernel, stride, padding } => pool(n, *average, kernel, stride, padding, x),
            other => Err(node_err(n, format!("a {} node here is not supported", other.type_name()))),
        }
    }

    /// The population an Output records: its input must be exactly one
    /// population's spikes, in order.
    fn recorded(&self, n: &str, x: &Signal) -> Result<usize, NirError> {
        let pop = x.elems.first().and_then(|e| e.terms.keys().next()).map(|k| k.0);
        let exact = pop.is_some_and(|p| {
            self.pops[p].size == x.elems.len()
                && x.elems
                    .iter()
                    .enumerate()
                    .all(|(j, e)| e.bias == 0.0 && e.terms.len() == 1 && e.terms.get(&(p, j as u32, 0)) == Some(&1.0))
        });
        match pop {
            Some(p) if exact => Ok(p),
            _ => Err(node_err(
                n,
                "an Output records spikes: it must receive one neuron population's output unchanged (fpnna records \
                 no computed values)",
            )),
        }
    }

    fn emit(&self, name: &str, projections: Vec<(usize, Signal)>, outputs: Vec<usize>) -> Result<Imported, NirError> {
        let stem = ident(name);
        let mut files = Vec::new();
        let mut src = String::new();
        let _ =
            writeln!(src, "// Imported by `fpnna import` from a NIR graph at dt = {} ms (docs/nir.md).", self.dt_ms);
        let _ = writeln!(src, "// Synapse weights are in the CSV files beside this one.");
        let _ = writeln!(src, "network {stem} {{");
        let _ = writeln!(src, "    dt = {};", self.dt_ms);
        let mut connects = String::new();
        let mut biases: Vec<Vec<f64>> = self.pops.iter().map(|_| Vec::new()).collect();
        for (k, x) in &projections {
            let pop = &self.pops[*k];
            let PopKind::Neurons(nr) = &pop.kind else { continue };
            if x.elems.len() != pop.size {
                let from: Vec<&str> =
                    self.flat.inputs.get(&pop.node).map(|v| v.iter().map(String::as_str).collect()).unwrap_or_default();
                return Err(node_err(
                    &pop.node,
                    format!(
                        "a population of {} neurons receives {} values from `{}`",
                        pop.size,
                        x.elems.len(),
                        from.join("`, `")
                    ),
                ));
            }
            let mut bias = nr.bias.clone();
            let mut by_src: BTreeMap<usize, Vec<(u32, u32, f64, u32)>> = BTreeMap::new();
            for (j, e) in x.elems.iter().enumerate() {
                if e.bias != 0.0 {
                    if !nr.bias_ok {
                        return Err(node_err(
                            &pop.node,
                            "a constant input (an Affine or convolution bias) into a synaptic current that lasts \
                             more than one step has no exact equivalent (fpnna's bias adds to the potential)",
                        ));
                    }
                    bias[j] += nr.gain[j] * e.bias;
                }
                for (&(p, i, t), &w) in &e.terms {
                    let w = w * nr.gain[j];
                    if w == 0.0 {
                        continue;
                    }
                    if w.abs() >= MAX_FIXED {
                        return Err(node_err(
                            &pop.node,
                            format!("weight {w} is beyond the fixed-point range (|x| < 32768)"),
                        ));
                    }
                    if t + 1 > MAX_DELAY {
                        return Err(node_err(
                            &pop.node,
                            format!("a delay of {} steps is more than {MAX_DELAY}", t + 1),
                        ));
                    }
                    by_src.entry(p).or_default().push((i, j as u32, w, t + 1));
                }
            }
            for (p, mut syn) in by_src {
                syn.sort_by_key(|s| (s.0, s.1, s.3));
                let file = format!("{stem}.{}.{}.csv", self.pops[p].name, pop.name);
                let mut csv = String::from("pre,post,weight,delay\n");
                for (i, j, w, d) in &syn {
                    let _ = writeln!(csv, "{i},{j},{},{d}", q16(*w));
                }
                let _ = writeln!(
                    connects,
                    "    connect {} -> {} : sparse(\"{file}\");  // {} synapses",
                    self.pops[p].name,
                    pop.name,
                    syn.len()
                );
                files.push((file, csv));
            }
            if let Some(b) = bias.iter().find(|b| b.abs() >= MAX_FIXED) {
                return Err(node_err(&pop.node, format!("bias {b} is beyond the fixed-point range (|x| < 32768)")));
            }
            biases[*k] = bias;
        }
        let order = self.pops.iter().enumerate().filter(|(_, p)| matches!(p.kind, PopKind::Input));
        let order = order.chain(self.pops.iter().enumerate().filter(|(_, p)| !matches!(p.kind, PopKind::Input)));
        for (k, pop) in order {
            match &pop.kind {
                PopKind::Input => {
                    let _ = writeln!(src, "    input {}[{}];  // NIR Input `{}`", pop.name, pop.size, pop.node);
                }
                PopKind::Neurons(nr) => {
                    let per = |what: &str, v: &[f64], files: &mut Vec<(String, String)>| -> String {
                        if v.iter().all(|x| q16(*x) == q16(v[0])) {
                            q16(v[0])
                        } else {
                            let file = format!("{stem}.{}.{what}.csv", pop.name);
                            let mut csv = String::new();
                            for x in v {
                                let _ = writeln!(csv, "{}", q16(*x));
                            }
                            files.push((file.clone(), csv));
                            format!("file(\"{file}\")")
                        }
                    };
                    let bias = if biases[k].is_empty() { nr.bias.clone() } else { biases[k].clone() };
                    let th = per("threshold", &nr.threshold, &mut files);
                    let bias = per("bias", &bias, &mut files);
                    let dv = if nr.model == "lif" {
                        format!("decay_v = {}, ", num(f64::from(nr.decay_v) / f64::from(DECAY_ONE)))
                    } else {
                        String::new()
                    };
                    let _ = writeln!(src, "    // `{}`: {}", pop.node, nr.note);
                    let _ = writeln!(
                        src,
                        "    population {}[{}] : {} {{ {dv}decay_i = {}, threshold = {th}, bias = {bias}, reset = zero }};",
                        pop.name,
                        pop.size,
                        nr.model,
                        num(f64::from(nr.decay_i) / f64::from(DECAY_ONE)),
                    );
                }
            }
        }
        src.push_str(&connects);
        let mut outs: Vec<&str> = outputs.iter().map(|&p| self.pops[p].name.as_str()).collect();
        outs.sort();
        outs.dedup();
        if !outs.is_empty() {
            let _ = writeln!(src, "    output {};", outs.join(", "));
        }
        src.push_str("}\n");
        Ok(Imported { source: src, files })
    }
}

/// The common length of a neuron node's parameter arrays.
fn same_len(n: &str, params: &[(&str, &Array)]) -> Result<usize, NirError> {
    let len = params[0].1.len();
    for (name, a) in params {
        if a.len() != len {
            return Err(node_err(n, format!("`{name}` has {} values, `{}` has {len}", a.len(), params[0].0)));
        }
    }
    Ok(len)
}

fn zero_reset(n: &str, v_reset: &Array) -> Result<(), NirError> {
    match v_reset.data.iter().find(|&&x| x != 0.0) {
        Some(x) => Err(node_err(n, format!("v_reset = {x}: fpnna resets the potential to 0 only"))),
        None => Ok(()),
    }
}

/// `dt / tau` per neuron, each in (0, 1].
/// A leaky membrane (LIF's and LI's, forward Euler at `dt`): decay
/// `1 - dt/tau`, input gain `r dt/tau`, a constant drive `v_leak dt/tau`;
/// it never fires (threshold `NEVER`) until its caller sets a threshold.
/// The note gives dt/tau.
fn leaky(n: &str, tau: &Array, r: &Array, v_leak: &Array, dt: f64) -> Result<Neurons, NirError> {
    let a = rates(n, "tau", tau, dt)?;
    let size = a.len();
    Ok(Neurons {
        model: "lif",
        decay_v: decay(n, "tau", &a)?,
        decay_i: DECAY_ONE,
        gain: (0..size).map(|k| r.data[k] * a[k]).collect(),
        threshold: vec![NEVER; size],
        bias: (0..size).map(|k| a[k] * v_leak.data[k]).collect(),
        bias_ok: true,
        note: format!("dt/tau = {}", num(a.first().map_or(0.0, |&x| x as f32 as f64))),
    })
}

fn rates(n: &str, what: &str, tau: &Array, dt: f64) -> Result<Vec<f64>, NirError> {
    tau.data
        .iter()
        .map(|&t| {
            if t >= dt {
                Ok(dt / t)
            } else {
                Err(node_err(n, format!("{what} = {t} s is shorter than the timestep {dt} s (choose a smaller --dt)")))
            }
        })
        .collect()
}

/// The one decay factor of a population (fpnna holds one per population).
fn decay(n: &str, what: &str, rates: &[f64]) -> Result<u16, NirError> {
    let d: Vec<u16> = rates.iter().map(|a| (a * f64::from(DECAY_ONE)).round() as u16).collect();
    if d.iter().any(|&x| x != d[0]) {
        return Err(node_err(
            n,
            format!("{what} differs between neurons: fpnna holds one decay factor per population"),
        ));
    }
    if d[0] == 0 {
        return Err(node_err(n, format!("{what} is so long that dt/{what} rounds to 0 of 4096")));
    }
    Ok(d[0])
}

/// Thresholds for `v > th` (NIR) as `v >= th'` (fpnna): one fixed-point
/// unit above.
fn strict(th: &[f64]) -> Vec<f64> {
    th.iter().map(|t| ((t * f64::from(ONE)).round() + 1.0) / f64::from(ONE)).collect()
}

/// Element `k` of a parameter given per element or as one value.
fn broadcast(n: &str, what: &str, a: &Array, k: usize, len: usize) -> Result<f64, NirError> {
    match a.len() {
        1 => Ok(a.data[0]),
        m if m == len => Ok(a.data[k]),
        m => Err(node_err(n, format!("`{what}` has {m} values for an input of {len}"))),
    }
}

/// `W x (+ b)` along the last dimension.
fn dense(n: &str, w: &Array, b: Option<&Array>, x: Signal) -> Result<Signal, NirError> {
    let [out, inp] = w.shape[..] else {
        return Err(node_err(n, format!("weight of shape {:?}, expected [out, in]", w.shape)));
    };
    if let Some(b) = b
        && b.len() != out
    {
        return Err(node_err(n, format!("bias of {} values for {out} outputs", b.len())));
    }
    let last = x.shape.last().copied().unwrap_or(0);
    let (lead, inner) = if last == inp {
        (x.elems.len() / inp.max(1), inp)
    } else if x.elems.len() == inp {
        (1, inp)
    } else {
        return Err(node_err(n, format!("weight of {inp} inputs receives a shape {:?}", x.shape)));
    };
    let mut elems = Vec::with_capacity(bounded(n, &[lead, out])?);
    for l in 0..lead {
        for o in 0..out {
            let mut e = Elem { bias: b.map_or(0.0, |b| b.data[o]), ..Elem::default() };
            for i in 0..inner {
                e.add_scaled(&x.elems[l * inner + i], w.data[o * inp + i]);
            }
            elems.push(e);
        }
    }
    let mut shape = if x.elems.len() == inp && last != inp { vec![] } else { x.shape[..x.shape.len() - 1].to_vec() };
    shape.push(out);
    Ok(Signal { shape, elems })
}

/// The spatial shape `[c, h, w]` of an input (1-d inputs as `h = 1`).
fn spatial(n: &str, dims: usize, channels: usize, given: Option<&[usize]>, x: &Signal) -> Result<[usize; 3], NirError> {
    let s: Vec<usize> = if x.shape.len() == dims + 1 {
        x.shape.clone()
    } else if let Some(g) = given {
        let mut v = vec![channels];
        v.extend_from_slice(g);
        v
    } else {
        return Err(node_err(n, format!("input of shape {:?}, expected {} dimensions", x.shape, dims + 1)));
    };
    if s.len() != dims + 1 || s.iter().product::<usize>() != x.elems.len() || s[0] != channels {
        return Err(node_err(
            n,
            format!("input of {} values does not fit [{channels} channels, {:?}]", x.elems.len(), &s[1..]),
        ));
    }
    Ok(if dims == 1 { [s[0], 1, s[1]] } else { [s[0], s[1], s[2]] })
}

/// Output length of a window sweep, or `None` when the window does not fit.
fn out_len(len: usize, k: usize, s: usize, p: usize, d: usize) -> Option<usize> {
    if k == 0 || d == 0 {
        return None;
    }
    let span = d.checked_mul(k - 1)? + 1;
    (len + 2 * p).checked_sub(span).filter(|_| s > 0).map(|r| r / s + 1)
}

#[allow(clippy::too_many_arguments)]
fn conv(
    n: &str,
    w: &Array,
    bias: &Array,
    stride: &[usize],
    padding: &Padding,
    dilation: &[usize],
    groups: usize,
    given: Option<&[usize]>,
    x: Signal,
) -> Result<Signal, NirError> {
    let dims = w.shape.len() - 2;
    let (c_out, cig) = (w.shape[0], w.shape[1]);
    let (kh, kw) = if dims == 1 { (1, w.shape[2]) } else { (w.shape[2], w.shape[3]) };
    if groups == 0 || c_out % groups != 0 || bias.len() != c_out {
        return Err(node_err(n, format!("{c_out} output channels, {groups} groups, {} bias values", bias.len())));
    }
    let channels = cig.checked_mul(groups).ok_or_else(|| node_err(n, "too many channels"))?;
    let [c, h, wd] = spatial(n, dims, channels, given, &x)?;
    let two = |v: &[usize]| if dims == 1 { (1, v[0]) } else { (v[0], v[1]) };
    let (sh, sw) = two(stride);
    let (dh, dw) = two(dilation);
    let (ph, pw) = match padding {
        Padding::Explicit(p) if dims == 1 => (0, p[0]),
        Padding::Explicit(p) => (p[0], p[1]),
        Padding::Valid => (0, 0),
        Padding::Same => {
            let half = |k: usize, d: usize| -> Result<usize, NirError> {
                if (d * (k - 1)).is_multiple_of(2) && stride.iter().all(|&s| s == 1) {
                    Ok(d * (k - 1) / 2)
                } else {
                    Err(node_err(n, "padding `same` needs stride 1 and an odd dilated kernel"))
                }
            };
            (if dims == 1 { 0 } else { half(kh, dh)? }, half(kw, dw)?)
        }
    };
    let (Some(oh), Some(ow)) = (out_len(h, kh, sh, ph, dh), out_len(wd, kw, sw, pw, dw)) else {
        return Err(node_err(n, format!("the kernel does not fit the input [{c}, {h}, {wd}]")));
    };
    let cog = c_out / groups;
    let mut elems = Vec::with_capacity(bounded(n, &[c_out, oh, ow])?);
    taps(n, &[c_out, oh, ow, cig, kh, kw])?;
    for co in 0..c_out {
        let g = co / cog;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut e = Elem { bias: bias.data[co], ..Elem::default() };
                for ci in 0..cig {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let (iy, ix) = (
                                (oy * sh + ky * dh) as isize - ph as isize,
                                (ox * sw + kx * dw) as isize - pw as isize,
                            );
                            if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= wd {
                                continue;
                            }
                            let wv = w.data[((co * cig + ci) * kh + ky) * kw + kx];
                            let src = ((g * cig + ci) * h + iy as usize) * wd + ix as usize;
                            e.add_scaled(&x.elems[src], wv);
                        }
                    }
                }
                elems.push(e);
            }
        }
    }
    let shape = if dims == 1 { vec![c_out, ow] } else { vec![c_out, oh, ow] };
    Ok(Signal { shape, elems })
}

fn pool(n: &str, average: bool, k: &[usize], s: &[usize], p: &[usize], x: Signal) -> Result<Signal, NirError> {
    let [c, h, w] = spatial(n, 2, x.shape.first().copied().unwrap_or(0), None, &x)?;
    let (Some(oh), Some(ow)) = (out_len(h, k[0], s[0], p[0], 1), out_len(w, k[1], s[1], p[1], 1)) else {
        return Err(node_err(n, format!("the kernel {k:?} does not fit the input [{c}, {h}, {w}]")));
    };
    let scale = if average { 1.0 / (k[0] * k[1]) as f64 } else { 1.0 };
    let mut elems = Vec::with_capacity(bounded(n, &[c, oh, ow])?);
    taps(n, &[c, oh, ow, k[0], k[1]])?;
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut e = Elem::default();
                for ky in 0..k[0] {
                    for kx in 0..k[1] {
                        let (iy, ix) =
                            ((oy * s[0] + ky) as isize - p[0] as isize, (ox * s[1] + kx) as isize - p[1] as isize);
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            e.add_scaled(&x.elems[(ch * h + iy as usize) * w + ix as usize], scale);
                        }
                    }
                }
                elems.push(e);
            }
        }
    }
    Ok(Signal { shape: vec![c, oh, ow], elems })
}

#[cfg(test)]
mod tests {

    #[test]
    fn node_names_become_identifiers() {
        for (node, name) in [
            ("a b", "a_b"),
            ("x-y", "x_y"),
            ("é", "_"),
            ("1abc", "n_1abc"),
            ("network", "network_"),
            ("", "_"),
            ("lif", "lif_"),
        ] {
            assert_eq!(super::ident(node), name, "{node:?}");
            assert!(fpnna_model::names::is_identifier(&super::ident(node)));
        }
    }
    use super::*;

    fn v(x: f64, n: usize) -> Array {
        Array::vector(vec![x; n])
    }

    fn cuba(tau_syn: f64) -> Node {
        Node::CubaLif {
            tau_syn: v(tau_syn, 2),
            tau_mem: v(0.004, 2),
            r: v(4.0, 2),
            v_leak: v(0.0, 2),
            v_threshold: v(1.0, 2),
            v_reset: v(0.0, 2),
            w_in: v(1.0, 2),
        }
    }

    fn graph(nodes: Vec<(&str, Node)>, edges: &[(&str, &str)]) -> Graph {
        Graph {
            nodes: nodes.into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
            edges: edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }

    fn affine() -> Node {
        Node::Affine { weight: Array { shape: vec![2, 2], data: vec![1.0, 0.0, 0.0, 1.0] }, bias: v(0.5, 2) }
    }

    #[test]
    fn a_bias_into_a_lasting_synaptic_current_is_refused_and_into_a_one_step_current_is_a_bias() {
        let edges = [("in", "fc"), ("fc", "n"), ("n", "out")];
        let g = |tau_syn| {
            graph(
                vec![
                    ("in", Node::Input { shape: vec![2] }),
                    ("fc", affine()),
                    ("n", cuba(tau_syn)),
                    ("out", Node::Output { shape: vec![2] }),
                ],
                &edges,
            )
        };
        let e = import(&g(0.002), "t", 1.0).unwrap_err();
        assert!(matches!(&e, NirError::Node { node, what } if node == "n" && what.contains("constant input")), "{e}");
        // tau_syn = dt: the current lasts its step; the bias is r dt/tau_mem 0.5 = 0.5.
        let ok = import(&g(0.001), "t", 1.0).unwrap();
        assert!(ok.source.contains("decay_i = 1, threshold = 1.0000152587890625, bias = 0.5"), "{}", ok.source);
    }

    #[test]
    fn an_output_of_computed_values_and_a_cycle_of_linear_nodes_are_refused() {
        let g = graph(
            vec![("in", Node::Input { shape: vec![2] }), ("fc", affine()), ("out", Node::Output { shape: vec![2] })],
            &[("in", "fc"), ("fc", "out")],
        );
        let e = import(&g, "t", 1.0).unwrap_err();
        assert!(e.to_string().starts_with("node `out`: an Output records spikes"), "{e}");
        let g = graph(
            vec![("in", Node::Input { shape: vec![2] }), ("a", affine()), ("b", affine()), ("n", cuba(0.001))],
            &[("in", "a"), ("a", "b"), ("b", "a"), ("b", "n")],
        );
        let e = import(&g, "t", 1.0).unwrap_err();
        assert!(e.to_string().contains("a cycle of linear nodes"), "{e}");
    }

    #[test]
    fn an_edge_to_a_missing_node_and_a_nonzero_reset_are_named() {
        let g = graph(vec![("in", Node::Input { shape: vec![2] })], &[("in", "nowhere")]);
        assert_eq!(
            import(&g, "t", 1.0).unwrap_err().to_string(),
            "node `nowhere`: an edge leads into it, but the graph has no such node"
        );
        let Node::CubaLif { tau_syn, tau_mem, r, v_leak, v_threshold, w_in, .. } = cuba(0.001) else { unreachable!() };
        let n = Node::CubaLif { tau_syn, tau_mem, r, v_leak, v_threshold, w_in, v_reset: v(-0.5, 2) };
        let g = graph(vec![("in", Node::Input { shape: vec![2] }), ("n", n)], &[("in", "n")]);
        assert!(import(&g, "t", 1.0).unwrap_err().to_string().contains("node `n`: v_reset = -0.5"));
    }
}
