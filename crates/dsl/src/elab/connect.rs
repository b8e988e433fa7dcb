//! Projections: a `connect` statement's ends found, its clauses (weight,
//! delay, synapse kind) evaluated, its connector's arguments checked and
//! handed to the pure functions of `connectors.rs`, whose errors become
//! diagnostics here; then the projection is added under a unique name.

use super::connectors::{self, CONNECTORS, CONNECTORS_HELP, ConnectorError, Shape, Weights};
use super::data::{Data, Numbering};
use super::expr::{Scope, Value};
use super::names::nearest;
use super::params::Dist;
use super::{Deferred, Elab};
use crate::Diag;
use crate::ast::*;
use fpnna_ir::{MAX_SYNAPSES, PopId, Projection, SynapseKind, Synapses};
use fpnna_model::{self as m, MAX_DELAY};

/// The clauses of a `connect`, evaluated.
struct Clauses {
    /// `weight` (a constant or a seeded uniform draw) and its span.
    weight: Option<(Dist, Span)>,
    /// `delay`, 1 when absent.
    delay: u8,
    /// The synapse kind, non-volatile when absent.
    kind: SynapseKind,
}

/// What a connector's errors are reported against.
struct Site<'n> {
    /// The connector expression.
    span: Span,
    /// The projection's name (`a -> b`).
    name: &'n str,
    /// The sizes of its ends.
    shape: Shape,
    /// Synapses the network may still have.
    budget: u64,
}

/// A connector call's arguments.
type CallArgs = [(Option<String>, Value)];

/// A connector's name and arguments.
type Call = (String, Vec<(Option<String>, Value)>);

impl<'a> Elab<'a> {
    /// Elaborates one `connect` (after every population is declared).
    pub(super) fn connect(&mut self, d: &Deferred<'a>) {
        let c = d.connect;
        let Some((from, to)) = self.ends(d) else { return };
        let name = format!("{}{} -> {}{}", d.prefix, c.from.dotted(), d.prefix, c.to.dotted());
        if self.net.pop(to).neurons().is_none() {
            self.err(
                Diag::new(
                    c.to.span(),
                    format!("`{}` is not a neuron population: nothing can connect into it", self.net.pop(to).name),
                )
                .label("input ports and sources only send spikes"),
            );
            return;
        }
        let shape = Shape { n_pre: self.net.pop(from).size, n_post: self.net.pop(to).size };
        let cl = self.clauses(c, &d.scope, &name);
        let Some((cname, cargs)) = self.connector_call(c, &d.scope) else { return };
        let budget = MAX_SYNAPSES - self.synapses.min(MAX_SYNAPSES);
        let at = Site { span: c.connector.span, name: &name, shape, budget };
        let syn = match cname.as_str() {
            "all_to_all" | "one_to_one" | "fixed_probability" | "fixed_fan_in" => {
                self.generated(&cname, &cargs, &at, &cl)
            }
            "dense" | "sparse" => self.data_connector(&cname, &cargs, &at, &cl),
            other => {
                self.unknown_connector(at.span, other);
                None
            }
        };
        let Some(syn) = syn else { return };
        if !self.within_stdp_bounds(&cl.kind, &syn, &at) {
            return;
        }
        self.synapses += syn.len() as u64;
        self.add_projection(from, to, &name, cl.kind, syn);
    }

    /// The source and target populations, or `None` (reported unless a
    /// failed declaration was).
    fn ends(&mut self, d: &Deferred<'a>) -> Option<(PopId, PopId)> {
        let find = |e: &mut Self, p: &Path| {
            let full = format!("{}{}", d.prefix, p.dotted());
            match e.pops.get(&full) {
                Some(&(id, _)) => Some(id),
                None if e.poisoned.contains(&full) => None,
                None => {
                    e.unknown_pop(p.span(), &full);
                    None
                }
            }
        };
        // Both ends are looked up, so that both can be reported.
        let (from, to) = (find(self, &d.connect.from), find(self, &d.connect.to));
        Some((from?, to?))
    }

    fn clauses(&mut self, c: &Connect, scope: &Scope, name: &str) -> Clauses {
        let mut weight: Option<(Dist, Span)> = None;
        let mut delay: Option<(u8, Span)> = None;
        let mut kind = SynapseKind::NonVolatile;
        let mut kind_seen = false;
        for cl in &c.clauses {
            match cl {
                Clause::Weight(x) => {
                    let Some(v) = self.eval(x, scope) else { continue };
                    if let Value::Sym(s) = &v {
                        self.unknown(x.span, s, scope, "a weight");
                        continue;
                    }
                    if weight.is_some() {
                        self.err(Diag::new(x.span, "`weight` is given twice").label("repeated"));
                    }
                    if let Some(w) = self.dist(&v, x.span, "weight", &format!("{name}.weight")) {
                        if matches!(w, Dist::File(_) | Dist::List(_)) {
                            self.err(
                                Diag::new(
                                    x.span,
                                    "per-synapse weights: use `dense(...)` or `sparse(...)` with a matrix or a CSV file",
                                )
                                .label("here"),
                            );
                            continue;
                        }
                        weight = Some((w, x.span));
                    }
                }
                Clause::Delay(x) => {
                    if delay.is_some() {
                        self.err(Diag::new(x.span, "`delay` is given twice").label("repeated"));
                    }
                    if let Some(v) = self.int(x, scope, 1, u64::from(MAX_DELAY), "a delay (steps)") {
                        delay = Some((v as u8, x.span));
                    }
                }
                Clause::Synapse { kind: k, params } => {
                    if kind_seen {
                        self.err(Diag::new(k.span, "a projection has one synapse kind").label("second kind"));
                    }
                    kind_seen = true;
                    if let Some(sk) = self.synapse_kind(k, params, scope) {
                        kind = sk;
                    }
                }
            }
        }
        Clauses { weight, delay: delay.map_or(1, |d| d.0), kind }
    }

    /// The connector's name and arguments (`all_to_all` has none).
    fn connector_call(&mut self, c: &Connect, scope: &Scope) -> Option<Call> {
        match self.eval(&c.connector, scope)? {
            Value::Sym(s) => Some((s, Vec::new())),
            Value::Call(f, a) => Some((f, a)),
            other => {
                self.err(
                    Diag::new(c.connector.span, format!("expected a connector, found {}", other.describe()))
                        .label("not a connector")
                        .help(CONNECTORS_HELP),
                );
                None
            }
        }
    }

    fn unknown_connector(&mut self, span: Span, other: &str) {
        let mut d = Diag::new(span, format!("unknown connector `{other}`")).label("not a connector");
        d = d.help(match nearest(other, CONNECTORS.iter().copied()) {
            Some(k) => format!("did you mean `{k}`?"),
            None => CONNECTORS_HELP.to_string(),
        });
        self.err(d);
    }

    // ------------------------------------------------ generated connectors

    /// `all_to_all`, `one_to_one`, `fixed_probability`, `fixed_fan_in`.
    fn generated(&mut self, cname: &str, cargs: &CallArgs, at: &Site, cl: &Clauses) -> Option<Synapses> {
        let w = self.generated_weights(cl, at.span)?;
        let (shape, delay, budget) = (at.shape, cl.delay, at.budget);
        let made = match cname {
            "all_to_all" => {
                self.args(at.span, cname, cargs, &[], &[])?;
                connectors::all_to_all(shape, w, delay, budget)
            }
            "one_to_one" => {
                self.args(at.span, cname, cargs, &[], &[])?;
                connectors::one_to_one(shape, w, delay)
            }
            "fixed_probability" => {
                let (p, seed) = self.probability_args(cname, cargs, at)?;
                connectors::fixed_probability(shape, p, seed, w, delay, budget)
            }
            _ => {
                let (k, seed) = self.fan_in_args(cname, cargs, at)?;
                connectors::fixed_fan_in(shape, k, seed, w, delay, budget)
            }
        };
        self.connector_made(made, at, "")
    }

    /// The `weight` clause of a generated connector in fixed point (1.0
    /// when absent).
    fn generated_weights(&mut self, cl: &Clauses, cspan: Span) -> Option<Weights> {
        let w = cl.weight.as_ref().map_or(Dist::Const(1.0), |w| w.0.clone());
        let wspan = cl.weight.as_ref().map_or(cspan, |w| w.1);
        let (lo, hi, seed) = match w {
            Dist::Const(x) => (x, x, 0),
            Dist::Uniform(lo, hi, s) => (lo, hi, s),
            Dist::File(_) | Dist::List(_) => return None,
        };
        // Both bounds are converted, so that both can be reported.
        let (lo, hi) = (self.fixed(lo, wspan, "weight"), self.fixed(hi, wspan, "weight"));
        Some(Weights { lo: lo?, hi: hi?, seed })
    }

    /// `fixed_probability(p, seed = s)`: p in [0, 1] and the seed. The
    /// expected count is checked against the budget before the seed.
    fn probability_args(&mut self, cname: &str, cargs: &CallArgs, at: &Site) -> Option<(f64, u64)> {
        let a = self.args(at.span, cname, cargs, &["p"], &["seed"])?;
        let Value::Num(p) = a[0] else {
            self.err(Diag::new(at.span, "fixed_probability(p): p must be a number").label("here"));
            return None;
        };
        if !(0.0..=1.0).contains(&p) {
            self.err(Diag::new(at.span, format!("a probability is in [0, 1], found {p}")).label("out of range"));
            return None;
        }
        let expected = connectors::fixed_probability_expected(at.shape, p);
        if expected > at.budget {
            self.too_many(at, expected);
            return None;
        }
        let seed = self.seed_arg(&a[1], at.name, at.span)?;
        Some((p, seed))
    }

    /// `fixed_fan_in(k, seed = s)`: k in 0..=the source size and the seed.
    /// The count is checked against the budget before the seed.
    fn fan_in_args(&mut self, cname: &str, cargs: &CallArgs, at: &Site) -> Option<(u32, u64)> {
        let a = self.args(at.span, cname, cargs, &["k"], &["seed"])?;
        let k = match a[0] {
            Value::Num(k) if k.fract() == 0.0 && k >= 0.0 && k <= f64::from(at.shape.n_pre) => k as u32,
            _ => {
                self.connector_error(ConnectorError::FanInAboveSource, at, "", Numbering::Lines);
                return None;
            }
        };
        let count = connectors::fixed_fan_in_count(at.shape, k);
        if count > at.budget {
            self.too_many(at, count);
            return None;
        }
        let seed = self.seed_arg(&a[1], at.name, at.span)?;
        Some((k, seed))
    }

    // ----------------------------------------------------- data connectors

    /// `dense(...)` and `sparse(...)`: a matrix or a CSV file.
    fn data_connector(&mut self, cname: &str, cargs: &CallArgs, at: &Site, cl: &Clauses) -> Option<Synapses> {
        if let Some((_, span)) = &cl.weight {
            self.err(
                Diag::new(*span, format!("`{cname}` gives the weights: drop the `weight` clause"))
                    .label("conflicts with the data"),
            );
            return None;
        }
        let a = self.args(at.span, cname, cargs, &["data"], &[])?;
        let Data { rows, numbering } = self.data_rows(cname, &a[0], at.span)?;
        let src = match &a[0] {
            Value::Str(f) => f.clone(),
            _ => "the matrix".into(),
        };
        let made = if cname == "dense" {
            connectors::dense(at.shape, &rows, cl.delay)
        } else {
            connectors::sparse(at.shape, &rows, cl.delay, at.budget)
        };
        made.map_err(|e| self.connector_error(e, at, &src, numbering)).ok()
    }

    /// The rows of a data connector, each with its line (of a text file),
    /// its row (of an array) or its 1-based position (in a matrix).
    fn data_rows(&mut self, cname: &str, v: &Value, cspan: Span) -> Option<Data> {
        match v {
            Value::Str(f) => self.data_file(cspan, f),
            Value::List(rows) => {
                let mut out = Vec::new();
                for (k, r) in rows.iter().enumerate() {
                    match r {
                        Value::List(cells) if cells.iter().all(|c| matches!(c, Value::Num(_))) => out.push((
                            k + 1,
                            cells.iter().map(|c| if let Value::Num(x) = c { *x } else { 0.0 }).collect(),
                        )),
                        _ => {
                            self.err(
                                Diag::new(cspan, format!("row {} of `{cname}` is not a list of numbers", k + 1))
                                    .label("here"),
                            );
                            return None;
                        }
                    }
                }
                Some(Data { rows: out, numbering: Numbering::Lines })
            }
            other => {
                self.err(
                    Diag::new(
                        cspan,
                        format!(
                            "`{cname}` takes a matrix `[[...], ...]` or a data file name (.csv, .txt, .npy, .npz), found {}",
                            other.describe()
                        ),
                    )
                    .label("here"),
                );
                None
            }
        }
    }

    // --------------------------------------------------------------- errors

    /// The synapses a connector made, or its error reported; `src` names
    /// a data connector's data.
    fn connector_made(&mut self, made: Result<Synapses, ConnectorError>, at: &Site, src: &str) -> Option<Synapses> {
        made.map_err(|e| self.connector_error(e, at, src, Numbering::Lines)).ok()
    }

    fn connector_error(&mut self, e: ConnectorError, at: &Site, src: &str, numbering: Numbering) {
        let (span, name, Shape { n_pre, n_post }) = (at.span, at.name, at.shape);
        let d = match e {
            ConnectorError::TooMany(count) => return self.too_many(at, count),
            ConnectorError::Weight(v) => return self.fixed_overflow(v, span, "weight"),
            ConnectorError::SizesDiffer => {
                Diag::new(span, format!("one_to_one needs equal sizes, but {n_pre} -> {n_post}")).label("sizes differ")
            }
            ConnectorError::FanInAboveSource => {
                Diag::new(span, format!("fixed_fan_in(k): k must be a whole number in 0..={n_pre} (the source size)"))
                    .label("out of range")
            }
            ConnectorError::DenseRows(rows) => {
                Diag::new(span, format!("{src} has {rows} rows; `{name}` needs {n_pre} (one per source neuron)"))
                    .label("wrong shape")
            }
            ConnectorError::DenseColumns { line, columns } => Diag::new(
                span,
                format!(
                    "{src}, {}: {columns} columns; `{name}` needs {n_post} (one per target neuron)",
                    numbering.row(line)
                ),
            )
            .label("wrong shape"),
            ConnectorError::Sparse { line, problem } => {
                Diag::new(span, format!("{src}, {}: {problem}", numbering.entry(line)))
                    .label("in this data")
                    .help("sparse rows are pre,post,weight[,delay]")
            }
        };
        self.err(d);
    }

    fn too_many(&mut self, at: &Site, count: u64) {
        self.err(
            Diag::new(
                at.span,
                format!("`{}` would make {count} synapses; the limit is {MAX_SYNAPSES} per network", at.name),
            )
            .label("too many synapses")
            .help("use a sparser connector (fixed_probability, fixed_fan_in)"),
        );
    }

    // ----------------------------------------------------------- projection

    /// Whether every initial weight of an STDP projection is within its
    /// bounds (the first that is not is reported).
    fn within_stdp_bounds(&mut self, kind: &SynapseKind, syn: &Synapses, at: &Site) -> bool {
        let SynapseKind::Stdp(sp) = kind else { return true };
        let Some(k) = syn.weight.iter().position(|&w| w < sp.w_min || w > sp.w_max) else { return true };
        self.err(
            Diag::new(
                at.span,
                format!(
                    "synapse {k} of `{}` has weight {} outside the STDP bounds [{}, {}]",
                    at.name,
                    m::from_fixed(syn.weight[k]),
                    m::from_fixed(sp.w_min),
                    m::from_fixed(sp.w_max)
                ),
            )
            .label("initial weights out of bounds"),
        );
        false
    }

    /// Adds the projection; a second one between the same populations is
    /// named `a -> b #2`, and so on.
    fn add_projection(&mut self, from: PopId, to: PopId, name: &str, kind: SynapseKind, syn: Synapses) {
        let mut unique = name.to_string();
        let mut k = 2;
        while self.net.projs().any(|(_, p)| p.name == unique) {
            unique = format!("{name} #{k}");
            k += 1;
        }
        self.net.add_projection(from, to, Projection { name: unique, kind, syn });
    }
}
