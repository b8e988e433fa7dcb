//! Emission: a network IR written back as `.fpn` source that elaborates to
//! the same IR (same populations in the same order, same fixed-point
//! parameters, same synapses). Used by `fpnna decompile`.
//!
//! Every number is printed exactly: fixed-point values are dyadic rationals
//! (x / 65536, d / 4096), which Rust prints as the shortest decimal that
//! parses back to the same float. Dotted population names become modules
//! with no parameters, one per name prefix, so the names survive.

use fpnna_ir::{Network, NeuronModel, PopKind, SynapseKind};
use fpnna_model::{Bounds, DECAY_ONE, Generator, NeuronParams, ONE, Pairing, Reset};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Why a network cannot be written as source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot express `{what}` in the language: {why}")]
pub struct EmitError {
    /// The population or projection.
    pub what: String,
    /// Why.
    pub why: String,
}

fn q16(x: i32) -> String {
    format!("{}", f64::from(x) / f64::from(ONE))
}

fn frac(d: u16) -> String {
    format!("{}", f64::from(d) / f64::from(DECAY_ONE))
}

/// Statements of one level of the name hierarchy, in the order the
/// populations stand in the IR (so that the emitted source elaborates to
/// the same population order).
#[derive(Default)]
struct Level {
    /// Declarations (`Ok`) and instances (`Err`, the child's name), in order.
    entries: Vec<Result<String, String>>,
    children: BTreeMap<String, Level>,
}

impl Level {
    fn at(&mut self, prefix: &[&str]) -> &mut Level {
        prefix.iter().fold(self, |l, p| {
            if !l.children.contains_key(*p) {
                l.entries.push(Err((*p).to_string()));
            }
            l.children.entry((*p).to_string()).or_default()
        })
    }
}

/// Writes `net` as source text. `note` becomes the leading comment.
pub fn emit(net: &Network, note: &str) -> Result<String, EmitError> {
    let mut root = Level::default();
    let mut outputs = Vec::new();
    for (_, p) in net.pops() {
        let parts: Vec<&str> = p.name.split('.').collect();
        let (leaf, prefix) = parts.split_last().expect("split yields one part");
        let decl = match &p.kind {
            PopKind::Input => format!("input {leaf}[{}];", p.size),
            PopKind::Generator(Generator::Regular { period, phase }) => {
                format!("source {leaf}[{}] : regular {{ period = {period}, phase = {phase} }};", p.size)
            }
            PopKind::Generator(Generator::Poisson { p: prob, seed }) => {
                let rate = poisson_rate(*prob, net.dt_ms).ok_or_else(|| EmitError {
                    what: p.name.clone(),
                    why: format!("no rate in Hz gives the firing probability {prob} / 2^32 at dt = {} ms", net.dt_ms),
                })?;
                if *seed > crate::elab::MAX_SEED {
                    return Err(EmitError { what: p.name.clone(), why: format!("seed {seed} is above 2^53 - 1") });
                }
                format!("source {leaf}[{}] : poisson {{ rate = {rate}, seed = {seed} }};", p.size)
            }
            PopKind::Neurons(n) => neurons(&p.name, leaf, p.size, n)?,
        };
        root.at(prefix).entries.push(Ok(decl));
        if p.output {
            outputs.push(p.name.clone());
        }
    }

    let mut out = String::new();
    for line in note.lines() {
        let _ = writeln!(out, "// {line}");
    }
    emit_modules(&mut out, &root, &mut Vec::new());
    let name = if net.name.is_empty() || crate::KEYWORDS.contains(&net.name.as_str()) { "network_" } else { &net.name };
    let _ = writeln!(out, "network {name} {{");
    let _ = writeln!(out, "    dt = {};", net.dt_ms);
    body(&mut out, &root, &[]);
    for (id, pr) in net.projs() {
        let (a, b) = net.endpoints(id);
        let kind = match pr.kind {
            SynapseKind::NonVolatile => String::new(),
            SynapseKind::Volatile(v) => format!(
                " volatile {{ decay = {}, gain = {}, sat = {} }}",
                frac(v.decay),
                q16(v.gain),
                f64::from(v.facil) / f64::from(ONE) + 1.0
            ),
            SynapseKind::Stdp(s) => format!(
                " stdp {{ a_plus = {}, a_minus = {}, decay_plus = {}, decay_minus = {}, w_min = {}, w_max = {}, \
                 pairing = {}, bounds = {}{} }}",
                q16(s.a_plus),
                q16(s.a_minus),
                frac(s.decay_plus),
                frac(s.decay_minus),
                q16(s.w_min),
                q16(s.w_max),
                if s.pairing == Pairing::AllToAll { "all" } else { "nearest" },
                if s.bounds == Bounds::Hard { "hard" } else { "soft" },
                if s.relax == 0 {
                    String::new()
                } else {
                    format!(", relax = {:?}", f64::from(s.relax) / 4_294_967_296.0)
                },
            ),
        };
        let _ = writeln!(out, "    // {}: {} synapses", pr.name, pr.syn.len());
        let _ = write!(out, "    connect {} -> {} : sparse([", net.pop(a).name, net.pop(b).name);
        for k in 0..pr.syn.len() {
            let s = &pr.syn;
            let sep = if k == 0 { "" } else { "," };
            let _ = write!(out, "{sep}\n        [{}, {}, {}, {}]", s.pre[k], s.post[k], q16(s.weight[k]), s.delay[k]);
        }
        let _ = writeln!(out, "\n    ]){kind};");
    }
    if !outputs.is_empty() {
        let _ = writeln!(out, "    output {};", outputs.join(", "));
    }
    out.push_str("}\n");
    Ok(out)
}

fn module_name(path: &[String]) -> String {
    format!("m_{}", path.join("__"))
}

fn emit_modules(out: &mut String, level: &Level, path: &mut Vec<String>) {
    for (name, child) in &level.children {
        path.push(name.clone());
        emit_modules(out, child, path);
        let _ = writeln!(out, "module {}() {{", module_name(path));
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        body(out, child, &refs);
        out.push_str("}\n");
        path.pop();
    }
}

fn body(out: &mut String, level: &Level, path: &[&str]) {
    for e in &level.entries {
        match e {
            Ok(decl) => {
                let _ = writeln!(out, "    {decl}");
            }
            Err(name) => {
                let mut p: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                p.push(name.clone());
                let _ = writeln!(out, "    inst {name} = {}();", module_name(&p));
            }
        }
    }
}

/// A rate (Hz) that the elaborator turns back into exactly `p`.
fn poisson_rate(p: u64, dt_ms: f64) -> Option<f64> {
    let rate = p as f64 / 4_294_967_296.0 * 1000.0 / dt_ms;
    let max = 1000.0 / dt_ms;
    [rate, rate.next_up(), rate.next_down()]
        .into_iter()
        .find(|&r| (0.0..=max).contains(&r) && Generator::poisson_p(r, dt_ms) == p)
}

fn neurons(full: &str, leaf: &str, size: u32, n: &fpnna_ir::Neurons) -> Result<String, EmitError> {
    let first: NeuronParams = n.params[0];
    let same = |f: fn(&NeuronParams) -> i64| n.params.iter().all(|p| f(p) == f(&first));
    let uniform = same(|p| i64::from(p.decay_i))
        && same(|p| i64::from(p.decay_v))
        && same(|p| i64::from(p.v_min))
        && same(|p| p.reset as i64)
        && same(|p| i64::from(p.refractory))
        && same(|p| i64::from(p.theta_step))
        && same(|p| i64::from(p.theta_decay));
    if !uniform {
        return Err(EmitError {
            what: full.to_string(),
            why: "decays, v_min, reset, refractory or theta differ between neurons of one population".into(),
        });
    }
    let per = |vals: Vec<i32>| -> String {
        if vals.iter().all(|&v| v == vals[0]) {
            q16(vals[0])
        } else {
            format!("[{}]", vals.iter().map(|&v| q16(v)).collect::<Vec<_>>().join(", "))
        }
    };
    let mut kv = Vec::new();
    let model = match n.model {
        NeuronModel::Lif => {
            kv.push(format!("decay_v = {}", frac(first.decay_v)));
            "lif"
        }
        NeuronModel::If if first.decay_v == 0 => "if",
        NeuronModel::If => {
            return Err(EmitError { what: full.to_string(), why: "an `if` population with a membrane leak".into() });
        }
    };
    kv.push(format!("decay_i = {}", frac(first.decay_i)));
    kv.push(format!("threshold = {}", per(n.params.iter().map(|p| p.threshold).collect())));
    kv.push(format!("bias = {}", per(n.params.iter().map(|p| p.bias).collect())));
    if first.v_min != i32::MIN {
        kv.push(format!("v_min = {}", q16(first.v_min)));
    }
    kv.push(format!("reset = {}", if first.reset == Reset::Zero { "zero" } else { "subtract" }));
    kv.push(format!("refractory = {}", first.refractory));
    kv.push(format!("v_init = {}", per(n.v_init.clone())));
    if first.adaptive() {
        kv.push(format!("theta_plus = {}, theta_decay = {}", q16(first.theta_step), frac(first.theta_decay)));
    }
    Ok(format!("population {leaf}[{size}] : {model} {{ {} }};", kv.join(", ")))
}
