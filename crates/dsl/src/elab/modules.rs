//! Statements of a network or module body: populations declared under
//! hierarchical names (`inst.pop`), modules instantiated with their
//! arguments, outputs and projections recorded for the end.

use super::expr::Scope;
use super::names::did_you_mean;
use super::{Deferred, Elab, MAX_INST_DEPTH};
use crate::Diag;
use crate::ast::*;
use fpnna_ir::{MAX_POPULATION, PopKind, Population};

impl<'a> Elab<'a> {
    /// The statements of a body, populations named under `prefix`.
    pub(super) fn block(&mut self, body: &'a [Stmt], prefix: &str, mut scope: Scope, is_network: bool) {
        for s in body {
            match &s.kind {
                StmtKind::Const(c) => self.define_const(&mut scope, c),
                StmtKind::Dt(_) => {
                    if !is_network {
                        self.err(Diag::new(s.span, "`dt` belongs to the network, not to a module").label("here"));
                    }
                }
                StmtKind::Input { name, size } => {
                    let kind = self.size(size, &scope).map(|n| (n, PopKind::Input));
                    self.declare(prefix, name, kind);
                }
                StmtKind::Population { name, size, model, params } => {
                    let full = format!("{prefix}{}", name.name);
                    let kind = self
                        .size(size, &scope)
                        .and_then(|n| self.neurons(model, params, n, &scope, &full).map(|x| (n, PopKind::Neurons(x))));
                    self.declare(prefix, name, kind);
                }
                StmtKind::Source { name, size, kind, params } => {
                    let full = format!("{prefix}{}", name.name);
                    let kind = self
                        .size(size, &scope)
                        .and_then(|n| self.generator(kind, params, &scope, &full).map(|g| (n, PopKind::Generator(g))));
                    self.declare(prefix, name, kind);
                }
                StmtKind::Output(paths) => {
                    for p in paths {
                        self.outputs.push((format!("{prefix}{}", p.dotted()), p.span()));
                    }
                }
                StmtKind::Connect(c) => {
                    self.connects.push(Deferred { prefix: prefix.to_string(), scope: scope.clone(), connect: c })
                }
                StmtKind::Inst { name, module, args } => self.inst(prefix, name, module, args, &scope, s.span),
            }
        }
    }

    /// `inst NAME = MODULE(args)`: the module's body under `prefix.NAME.`.
    fn inst(&mut self, prefix: &str, name: &Ident, module: &Ident, args: &[Expr], scope: &Scope, span: Span) {
        let Some(&block) = self.modules.get(&module.name) else {
            let help = did_you_mean(&module.name, self.modules.keys().map(String::as_str));
            let mut d = Diag::new(module.span, format!("unknown module `{}`", module.name)).label("not defined");
            if let Some(h) = help {
                d = d.help(h);
            }
            self.err(d);
            return;
        };
        if block.params.len() != args.len() {
            self.err(
                Diag::new(
                    span,
                    format!("module `{}` takes {} argument(s), given {}", module.name, block.params.len(), args.len()),
                )
                .label("wrong number of arguments")
                .help(format!(
                    "parameters: ({})",
                    block.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                )),
            );
            return;
        }
        if self.inst_stack.contains(&module.name) || self.inst_stack.len() >= MAX_INST_DEPTH {
            self.err(
                Diag::new(module.span, format!("module `{}` instantiates itself", module.name))
                    .label("recursive instance")
                    .help(format!("instance chain: {}", self.inst_stack.join(" -> "))),
            );
            return;
        }
        // A module sees the constants of its caller's scope at the point of
        // instantiation, then its parameters (which shadow them).
        let mut inner: Scope = scope.clone();
        for (p, a) in block.params.iter().zip(args) {
            if let Some(v) = self.eval(a, scope) {
                inner.insert(p.name.clone(), v);
            }
        }
        self.inst_stack.push(module.name.clone());
        let prefix = format!("{prefix}{}.", name.name);
        self.block(&block.body, &prefix, inner, false);
        self.inst_stack.pop();
    }

    /// A population size, 1..=MAX_POPULATION.
    fn size(&mut self, x: &Expr, scope: &Scope) -> Option<u32> {
        self.int(x, scope, 1, u64::from(MAX_POPULATION), "a population size").map(|v| v as u32)
    }

    /// Adds a population, or remembers that its declaration failed.
    fn declare(&mut self, prefix: &str, name: &Ident, kind: Option<(u32, PopKind)>) {
        match kind {
            Some((size, kind)) => self.add_pop(prefix, name, size, kind),
            None => {
                self.poisoned.insert(format!("{prefix}{}", name.name));
            }
        }
    }

    /// Adds a population under its full name, once.
    fn add_pop(&mut self, prefix: &str, name: &Ident, size: u32, kind: PopKind) {
        let full = format!("{prefix}{}", name.name);
        if let Some(&(_, first)) = self.pops.get(&full) {
            let (l, _) = self.map.line_col(first);
            self.err(
                Diag::new(name.span, format!("`{full}` is already defined"))
                    .label("redefined")
                    .help(format!("the first definition is at line {l}")),
            );
            return;
        }
        let id = self.net.add_population(Population { name: full.clone(), size, kind, output: false });
        self.pops.insert(full, (id, name.span));
    }

    /// Reports an unknown population, with the nearest known one.
    pub(super) fn unknown_pop(&mut self, span: Span, name: &str) {
        let help = did_you_mean(name, self.pops.keys().map(String::as_str));
        let mut d = Diag::new(span, format!("unknown population `{name}`")).label("not defined");
        if let Some(h) = help {
            d = d.help(h);
        }
        self.err(d);
    }
}
