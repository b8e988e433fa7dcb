//! Elaboration: the syntax tree becomes the network IR. Constants and
//! module parameters are evaluated, modules instantiated under hierarchical
//! names, connectors expanded into synapses from their seeds, parameters
//! converted to the fixed point of `fpnna-model`. Every error is collected;
//! elaboration never stops at the first.
//!
//! This module is the driver (items, `dt`, the end of elaboration); values
//! are in `expr`, statements and modules in `modules`, parameters in
//! `params`, neuron, source and synapse kinds in `kinds`, data files in
//! `data`, projections in `connect` and the connectors themselves, pure, in
//! `connectors`.

mod connect;
mod connectors;
mod data;
mod expr;
mod kinds;
mod modules;
mod names;
mod params;

use crate::ast::*;
use crate::{Diag, SourceMap};
use expr::Scope;
use fpnna_ir::{Network, PopId};
use std::collections::{BTreeMap, BTreeSet};

/// Elaboration options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seed of every random choice whose seed the source leaves out.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 1 }
    }
}

/// Largest seed: seeds stay exact as the language's 64-bit float numbers.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// Deepest module instantiation.
const MAX_INST_DEPTH: usize = 32;

/// A `connect` kept for the end, when every population is declared.
struct Deferred<'a> {
    prefix: String,
    scope: Scope,
    connect: &'a Connect,
}

/// The state of one elaboration.
struct Elab<'a> {
    map: &'a SourceMap,
    seed: u64,
    diags: Vec<Diag>,
    modules: BTreeMap<String, &'a Block>,
    net: Network,
    pops: BTreeMap<String, (PopId, Span)>,
    connects: Vec<Deferred<'a>>,
    outputs: Vec<(String, Span)>,
    synapses: u64,
    inst_stack: Vec<String>,
    /// Populations whose declaration had errors: references to them are
    /// not reported again.
    poisoned: BTreeSet<String>,
}

/// Elaborates the items of a compilation (the root file's and its
/// includes'); `map` resolves data file paths relative to their source.
pub fn elaborate(items: &[Item], map: &SourceMap, opts: &Options) -> Result<Network, Vec<Diag>> {
    let mut e = Elab {
        map,
        seed: opts.seed,
        diags: Vec::new(),
        modules: BTreeMap::new(),
        net: Network::default(),
        pops: BTreeMap::new(),
        connects: Vec::new(),
        outputs: Vec::new(),
        synapses: 0,
        inst_stack: Vec::new(),
        poisoned: Default::default(),
    };
    let mut globals = Scope::new();
    let network = e.items(items, &mut globals);
    let Some(block) = network else {
        let span = items.first().map_or_else(Span::default, item_span);
        e.err(Diag::new(span, "no `network` in this file").help("add `network NAME { ... }`"));
        return Err(e.diags);
    };
    e.net = Network::new(block.name.name.clone(), 1.0);
    e.dt(block, &globals);
    e.block(&block.body, "", globals, true);
    e.finish();
    if !e.diags.is_empty() {
        return Err(e.diags);
    }
    e.verified(block)
}

/// Where an item is named, for errors about the whole compilation.
fn item_span(i: &Item) -> Span {
    match i {
        Item::Include { span, .. } => *span,
        Item::Const(c) => c.name.span,
        Item::Module(b) | Item::Network(b) => b.name.span,
    }
}

impl<'a> Elab<'a> {
    /// Records an error.
    fn err(&mut self, d: Diag) {
        self.diags.push(d);
    }

    /// Reports `msg` at `span` unless `ok`; returns `ok`.
    fn check(&mut self, ok: bool, span: Span, msg: &str) -> bool {
        if !ok {
            self.err(Diag::new(span, msg.to_string()).label("here"));
        }
        ok
    }

    /// The top-level items: global constants defined, modules recorded;
    /// returns the (first) network.
    fn items(&mut self, items: &'a [Item], globals: &mut Scope) -> Option<&'a Block> {
        let mut network: Option<&Block> = None;
        for item in items {
            match item {
                Item::Include { .. } => {}
                Item::Const(c) => self.define_const(globals, c),
                Item::Module(b) => {
                    if let Some(prev) = self.modules.insert(b.name.name.clone(), b) {
                        let (l, _) = self.map.line_col(prev.name.span);
                        self.err(
                            Diag::new(b.name.span, format!("module `{}` is defined twice", b.name.name))
                                .label("second definition")
                                .help(format!(
                                    "the first is at line {l} of {}",
                                    self.map.files[prev.name.span.file as usize].name
                                )),
                        );
                    }
                }
                Item::Network(b) => match network {
                    None => network = Some(b),
                    Some(first) => self.err(
                        Diag::new(b.name.span, format!("a second network `{}`", b.name.name))
                            .label("second network")
                            .help(format!("a compilation holds one network; the first is `{}`", first.name.name)),
                    ),
                },
            }
        }
        network
    }

    /// The network's `dt`, set before its body is elaborated because
    /// decays and rates depend on it wherever it stands.
    fn dt(&mut self, block: &Block, globals: &Scope) {
        let mut dt_seen = false;
        for s in &block.body {
            if let StmtKind::Dt(x) = &s.kind {
                if let Some(dt) = self.num(x, globals)
                    && self.check(dt > 0.0 && dt <= 1000.0, x.span, "dt must be in (0, 1000] ms")
                {
                    self.net.dt_ms = dt;
                }
                if dt_seen {
                    self.err(Diag::new(s.span, "`dt` is set twice").label("second setting"));
                }
                dt_seen = true;
            }
        }
    }

    /// Outputs marked, then every projection made (they may name
    /// populations declared after them).
    fn finish(&mut self) {
        for (name, span) in std::mem::take(&mut self.outputs) {
            match self.pops.get(&name) {
                Some(&(id, _)) => {
                    if self.net.pop(id).neurons().is_none() {
                        self.err(
                            Diag::new(span, format!("`{name}` is not a neuron population"))
                                .label("cannot be an output"),
                        );
                    }
                    self.net.set_output(id, true);
                }
                None if self.poisoned.contains(&name) => {}
                None => self.unknown_pop(span, &name),
            }
        }
        let connects = std::mem::take(&mut self.connects);
        for d in &connects {
            self.connect(d);
        }
    }

    /// The network, after the IR verifier found nothing broken (anything it
    /// finds is a bug of elaboration).
    fn verified(mut self, block: &Block) -> Result<Network, Vec<Diag>> {
        if let Err(errs) = self.net.verify() {
            let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
            self.err(
                Diag::new(
                    block.name.span,
                    format!("internal error: the elaborated IR is invalid: {}", msgs.join("; ")),
                )
                .help("this is a bug in fpnna; please report it with this source"),
            );
            return Err(self.diags);
        }
        Ok(self.net)
    }
}
