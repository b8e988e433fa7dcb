//! Elaboration: the syntax tree becomes the network IR. Constants and
//! module parameters are evaluated, modules instantiated under hierarchical
//! names, connectors expanded into synapses from their seeds, parameters
//! converted to the fixed point of `fpnna-model`. Every error is collected;
//! elaboration never stops at the first.

use crate::ast::*;
use crate::{Diag, SourceMap};
use fpnna_ir::{
    MAX_POPULATION, MAX_SYNAPSES, Network, NeuronModel, Neurons, PopId, PopKind, Population, Projection, SynapseKind,
    Synapses,
};
use fpnna_model::{
    self as m, Bounds, DECAY_ONE, Generator, MAX_DELAY, NeuronParams, Pairing, Reset, StdpParams, VolatileParams,
};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

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

/// A value of the language.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Num(f64),
    Str(String),
    List(Vec<Value>),
    /// A name bound to nothing: a keyword value such as `zero`.
    Sym(String),
    /// A call of a function the evaluator does not compute itself.
    Call(String, Vec<(Option<String>, Value)>),
}

impl Value {
    fn describe(&self) -> String {
        match self {
            Value::Num(x) => format!("the number {x}"),
            Value::Str(s) => format!("the string \"{s}\""),
            Value::List(_) => "a list".into(),
            Value::Sym(s) => format!("`{s}`"),
            Value::Call(f, _) => format!("`{f}(...)`"),
        }
    }
}

type Scope = BTreeMap<String, Value>;

struct Deferred<'a> {
    prefix: String,
    scope: Scope,
    connect: &'a Connect,
}

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
    poisoned: std::collections::BTreeSet<String>,
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
    let mut network: Option<&Block> = None;
    for item in items {
        match item {
            Item::Include { .. } => {}
            Item::Const(c) => e.define_const(&mut globals, c),
            Item::Module(b) => {
                if let Some(prev) = e.modules.insert(b.name.name.clone(), b) {
                    let (l, _) = map.line_col(prev.name.span);
                    e.err(
                        Diag::new(b.name.span, format!("module `{}` is defined twice", b.name.name))
                            .label("second definition")
                            .help(format!(
                                "the first is at line {l} of {}",
                                map.files[prev.name.span.file as usize].name
                            )),
                    );
                }
            }
            Item::Network(b) => match network {
                None => network = Some(b),
                Some(first) => e.err(
                    Diag::new(b.name.span, format!("a second network `{}`", b.name.name))
                        .label("second network")
                        .help(format!("a compilation holds one network; the first is `{}`", first.name.name)),
                ),
            },
        }
    }
    let Some(block) = network else {
        let span = items.first().map_or_else(Span::default, item_span);
        e.err(Diag::new(span, "no `network` in this file").help("add `network NAME { ... }`"));
        return Err(e.diags);
    };
    e.net = Network::new(block.name.name.clone(), 1.0);
    let mut dt_seen = false;
    for s in &block.body {
        if let StmtKind::Dt(x) = &s.kind {
            if let Some(dt) = e.num(x, &globals)
                && e.check(dt > 0.0 && dt <= 1000.0, x.span, "dt must be in (0, 1000] ms")
            {
                e.net.dt_ms = dt;
            }
            if dt_seen {
                e.err(Diag::new(s.span, "`dt` is set twice").label("second setting"));
            }
            dt_seen = true;
        }
    }
    e.block(&block.body, "", globals, true);
    e.finish();
    if e.diags.is_empty() {
        if let Err(errs) = e.net.verify() {
            let span = block.name.span;
            let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
            e.err(
                Diag::new(span, format!("internal error: the elaborated IR is invalid: {}", msgs.join("; ")))
                    .help("this is a bug in fpnna; please report it with this source"),
            );
            return Err(e.diags);
        }
        Ok(e.net)
    } else {
        Err(e.diags)
    }
}

fn item_span(i: &Item) -> Span {
    match i {
        Item::Include { span, .. } => *span,
        Item::Const(c) => c.name.span,
        Item::Module(b) | Item::Network(b) => b.name.span,
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known name nearest to `name`, if near enough to be a typo.
fn nearest<'n>(name: &str, known: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    known
        .map(|k| (distance(name, k), k))
        .filter(|&(d, k)| d <= (k.len().max(name.len()) / 3).max(1))
        .min()
        .map(|(_, k)| k)
}

fn did_you_mean<'n>(name: &str, known: impl Iterator<Item = &'n str>) -> Option<String> {
    nearest(name, known).map(|k| format!("did you mean `{k}`?"))
}

impl<'a> Elab<'a> {
    fn err(&mut self, d: Diag) {
        self.diags.push(d);
    }

    fn check(&mut self, ok: bool, span: Span, msg: &str) -> bool {
        if !ok {
            self.err(Diag::new(span, msg.to_string()).label("here"));
        }
        ok
    }

    /// The seed of an unseeded random choice: from `--seed` and the
    /// choice's name, kept below 2^53 so that it prints as an exact number.
    fn derive_seed(&self, what: &str) -> u64 {
        let h = what.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        m::hash3(self.seed, h, 0x5EED_5EED) & MAX_SEED
    }

    /// An explicit seed (`seed = s`), or a derived one when `v` is absent.
    fn seed_arg(&mut self, v: &Value, what: &str, span: Span) -> Option<u64> {
        match v {
            Value::Num(s) if s.fract() == 0.0 && *s >= 0.0 && *s <= MAX_SEED as f64 => Some(*s as u64),
            Value::Num(s) => {
                self.err(
                    Diag::new(span, format!("a seed is a whole number in 0..=2^53-1, found {s}")).label("bad seed"),
                );
                None
            }
            _ => Some(self.derive_seed(what)),
        }
    }

    fn data_path(&self, span: Span, file: &str) -> PathBuf {
        let src = FsPath::new(&self.map.files[span.file as usize].name);
        src.parent().unwrap_or(FsPath::new("")).join(file)
    }

    fn define_const(&mut self, scope: &mut Scope, c: &ConstDecl) {
        if let Some(v) = self.eval(&c.value, scope) {
            if scope.contains_key(&c.name.name) {
                self.err(Diag::new(c.name.span, format!("`{}` is already defined", c.name.name)).label("redefined"));
            }
            scope.insert(c.name.name.clone(), v);
        }
    }

    // ---------------------------------------------------------------- values

    fn eval(&mut self, x: &Expr, scope: &Scope) -> Option<Value> {
        match &x.kind {
            ExprKind::Num(v) => Some(Value::Num(*v)),
            ExprKind::Str(s) => Some(Value::Str(s.clone())),
            ExprKind::Name(n) => Some(scope.get(n).cloned().unwrap_or_else(|| Value::Sym(n.clone()))),
            ExprKind::List(items) => {
                let vals: Vec<Option<Value>> = items.iter().map(|i| self.eval(i, scope)).collect();
                vals.into_iter().collect::<Option<Vec<_>>>().map(Value::List)
            }
            ExprKind::Neg(e) => {
                let v = self.num(e, scope)?;
                Some(Value::Num(-v))
            }
            ExprKind::Bin(op, a, b) => {
                let (a, b) = (self.num(a, scope), self.num(b, scope));
                let (a, b) = (a?, b?);
                if matches!(op, BinOp::Div | BinOp::Rem) && b == 0.0 {
                    self.err(Diag::new(x.span, "division by zero").label("divides by 0"));
                    return None;
                }
                let v = match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Rem => a % b,
                };
                if !v.is_finite() {
                    self.err(Diag::new(x.span, "this arithmetic overflows").label("not a finite number"));
                    return None;
                }
                Some(Value::Num(v))
            }
            ExprKind::Call { name, args } => {
                let mut vals = Vec::new();
                for a in args {
                    vals.push((a.name.as_ref().map(|n| n.name.clone()), self.eval(&a.value, scope)?));
                }
                self.call(name, vals, x.span)
            }
        }
    }

    fn call(&mut self, name: &Ident, args: Vec<(Option<String>, Value)>, span: Span) -> Option<Value> {
        let math: Option<fn(&[f64]) -> f64> = match name.name.as_str() {
            "exp" => Some(|a| a[0].exp()),
            "ln" => Some(|a| a[0].ln()),
            "sqrt" => Some(|a| a[0].sqrt()),
            "abs" => Some(|a| a[0].abs()),
            "floor" => Some(|a| a[0].floor()),
            "ceil" => Some(|a| a[0].ceil()),
            "round" => Some(|a| a[0].round()),
            "min" => Some(|a| a[0].min(a[1])),
            "max" => Some(|a| a[0].max(a[1])),
            "pow" => Some(|a| a[0].powf(a[1])),
            _ => None,
        };
        let Some(f) = math else { return Some(Value::Call(name.name.clone(), args)) };
        let arity = if matches!(name.name.as_str(), "min" | "max" | "pow") { 2 } else { 1 };
        let nums: Vec<f64> = args
            .iter()
            .filter_map(|(n, v)| match (n, v) {
                (None, Value::Num(x)) => Some(*x),
                _ => None,
            })
            .collect();
        if nums.len() != arity || args.len() != arity {
            self.err(Diag::new(span, format!("`{}` takes {arity} number(s)", name.name)).label("wrong arguments"));
            return None;
        }
        let v = f(&nums);
        if !v.is_finite() {
            self.err(Diag::new(span, format!("`{}` of these arguments is not a finite number", name.name)));
            return None;
        }
        Some(Value::Num(v))
    }

    fn unknown(&mut self, span: Span, name: &str, scope: &Scope, what: &str) {
        let help = did_you_mean(name, scope.keys().map(String::as_str));
        let mut d = Diag::new(span, format!("unknown name `{name}`: expected {what}")).label("not defined");
        if let Some(h) = help {
            d = d.help(h);
        }
        self.err(d);
    }

    fn num(&mut self, x: &Expr, scope: &Scope) -> Option<f64> {
        match self.eval(x, scope)? {
            Value::Num(v) => Some(v),
            Value::Sym(s) => {
                self.unknown(x.span, &s, scope, "a number");
                None
            }
            other => {
                self.err(
                    Diag::new(x.span, format!("expected a number, found {}", other.describe())).label("not a number"),
                );
                None
            }
        }
    }

    fn int(&mut self, x: &Expr, scope: &Scope, lo: u64, hi: u64, what: &str) -> Option<u64> {
        let v = self.num(x, scope)?;
        if v.fract() != 0.0 || v < lo as f64 || v > hi as f64 {
            self.err(
                Diag::new(x.span, format!("{what} must be a whole number in {lo}..={hi}, found {v}"))
                    .label("out of range"),
            );
            return None;
        }
        Some(v as u64)
    }

    fn fixed(&mut self, v: f64, span: Span, what: &str) -> Option<i32> {
        let r = m::to_fixed(v);
        if r.is_none() {
            self.err(Diag::new(span, format!("{what} {v} does not fit the 32-bit fixed point (|x| < 32768)")));
        }
        r
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, body: &'a [Stmt], prefix: &str, mut scope: Scope, is_network: bool) {
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

    fn unknown_pop(&mut self, span: Span, name: &str) {
        let help = did_you_mean(name, self.pops.keys().map(String::as_str));
        let mut d = Diag::new(span, format!("unknown population `{name}`")).label("not defined");
        if let Some(h) = help {
            d = d.help(h);
        }
        self.err(d);
    }

    // -------------------------------------------------------------- neurons

    fn params_of(&mut self, kvs: &[KeyValue], allowed: &[&str], scope: &Scope) -> BTreeMap<String, (Value, Span)> {
        let mut out = BTreeMap::new();
        for kv in kvs {
            if !allowed.contains(&kv.key.name.as_str()) {
                let mut d = Diag::new(kv.key.span, format!("unknown parameter `{}`", kv.key.name))
                    .label("not a parameter here");
                d = d.help(match nearest(&kv.key.name, allowed.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("parameters: {}", allowed.join(", ")),
                });
                self.err(d);
                continue;
            }
            if out.contains_key(&kv.key.name) {
                self.err(Diag::new(kv.key.span, format!("`{}` is given twice", kv.key.name)).label("repeated"));
                continue;
            }
            if let Some(v) = self.eval(&kv.value, scope) {
                out.insert(kv.key.name.clone(), (v, kv.value.span));
            }
        }
        out
    }

    fn get_num(&mut self, p: &BTreeMap<String, (Value, Span)>, key: &str, default: f64, scope: &Scope) -> Option<f64> {
        match p.get(key) {
            None => Some(default),
            Some((Value::Num(v), _)) => Some(*v),
            Some((Value::Sym(s), span)) => {
                self.unknown(*span, s, scope, &format!("a number for `{key}`"));
                None
            }
            Some((v, span)) => {
                self.err(
                    Diag::new(*span, format!("`{key}` must be a number, found {}", v.describe())).label("not a number"),
                );
                None
            }
        }
    }

    fn get_sym(&mut self, p: &BTreeMap<String, (Value, Span)>, key: &str, options: &[&str]) -> Option<usize> {
        match p.get(key) {
            None => Some(0),
            Some((Value::Sym(s), span)) => {
                let k = options.iter().position(|o| o == s);
                if k.is_none() {
                    self.err(
                        Diag::new(*span, format!("`{key}` must be one of {}", options.join(", ")))
                            .label(format!("`{s}` is not one of them")),
                    );
                }
                k
            }
            Some((v, span)) => {
                self.err(
                    Diag::new(*span, format!("`{key}` must be one of {}, found {}", options.join(", "), v.describe()))
                        .label("not allowed"),
                );
                None
            }
        }
    }

    fn decay(
        &mut self,
        p: &BTreeMap<String, (Value, Span)>,
        tau: &str,
        raw: &str,
        tau_default: f64,
        dt: f64,
        scope: &Scope,
    ) -> Option<u16> {
        if let (Some(_), Some((_, span))) = (p.get(tau), p.get(raw)) {
            self.err(Diag::new(*span, format!("give `{tau}` or `{raw}`, not both")).label("second way"));
            return None;
        }
        if let Some((_, span)) = p.get(raw) {
            let span = *span;
            let d = self.get_num(p, raw, 0.0, scope)?;
            if !(0.0..=1.0).contains(&d) {
                self.err(
                    Diag::new(span, format!("`{raw}` is a fraction per step in [0, 1], found {d}"))
                        .label("out of range"),
                );
                return None;
            }
            return Some((d * f64::from(DECAY_ONE)).round() as u16);
        }
        let t = self.get_num(p, tau, tau_default, scope)?;
        if t < 0.0 {
            let span = p.get(tau).map_or_else(Span::default, |x| x.1);
            self.err(Diag::new(span, format!("`{tau}` must be >= 0 ms (0: no memory), found {t}")).label("negative"));
            return None;
        }
        Some(if t == 0.0 { DECAY_ONE } else { m::decay_from_tau(t, dt) })
    }

    fn neurons(&mut self, model: &Ident, kvs: &[KeyValue], n: u32, scope: &Scope, full: &str) -> Option<Neurons> {
        const LIF: &[&str] =
            &["tau_m", "tau_syn", "decay_v", "decay_i", "threshold", "bias", "v_min", "reset", "refractory", "v_init"];
        let (nm, allowed): (NeuronModel, &[&str]) = match model.name.as_str() {
            "lif" => (NeuronModel::Lif, LIF),
            "if" => (NeuronModel::If, &LIF[1..]),
            other => {
                let mut d = Diag::new(model.span, format!("unknown neuron model `{other}`")).label("not a model");
                d = d.help("neuron models: lif, if");
                self.err(d);
                return None;
            }
        };
        let p = self.params_of(kvs, allowed, scope);
        let dt = self.net.dt_ms;
        let decay_v =
            if nm == NeuronModel::Lif { self.decay(&p, "tau_m", "decay_v", 20.0, dt, scope) } else { Some(0) };
        let decay_i = self.decay(&p, "tau_syn", "decay_i", 0.0, dt, scope);
        let v_min = match p.get("v_min") {
            None => Some(i32::MIN),
            Some((_, span)) => {
                let span = *span;
                self.get_num(&p, "v_min", 0.0, scope).and_then(|v| self.fixed(v, span, "v_min"))
            }
        };
        let reset = self.get_sym(&p, "reset", &["zero", "subtract"]).map(|k| [Reset::Zero, Reset::Subtract][k]);
        let refractory = match p.get("refractory") {
            Some((Value::Num(v), span)) if v.fract() != 0.0 || *v < 0.0 || *v > 65535.0 => {
                let span = *span;
                self.err(Diag::new(span, format!("`refractory` is a whole number of steps in 0..=65535, found {v}")));
                None
            }
            _ => self.get_num(&p, "refractory", 0.0, scope).map(|v| v as u16),
        };
        let threshold = self.per_neuron(&p, "threshold", 1.0, n, full);
        let bias = self.per_neuron(&p, "bias", 0.0, n, full);
        let v_init = self.per_neuron(&p, "v_init", 0.0, n, full);
        let (decay_v, decay_i, v_min, reset, refractory) = (decay_v?, decay_i?, v_min?, reset?, refractory?);
        let (threshold, bias, v_init) = (threshold?, bias?, v_init?);
        let params = (0..n as usize)
            .map(|k| NeuronParams {
                decay_i,
                decay_v,
                threshold: threshold[k],
                bias: bias[k],
                v_min,
                reset,
                refractory,
            })
            .collect();
        Some(Neurons { model: nm, params, v_init })
    }

    /// A per-neuron parameter: a number, `uniform(lo, hi, seed = s)` or
    /// `file("x.csv")` (one value per line).
    fn per_neuron(
        &mut self,
        p: &BTreeMap<String, (Value, Span)>,
        key: &str,
        default: f64,
        n: u32,
        full: &str,
    ) -> Option<Vec<i32>> {
        let Some((v, span)) = p.get(key).cloned() else {
            return Some(vec![self.fixed(default, Span::default(), key)?; n as usize]);
        };
        match self.dist(&v, span, key, &format!("{full}.{key}"))? {
            Dist::Const(x) => Some(vec![self.fixed(x, span, key)?; n as usize]),
            Dist::Uniform(lo, hi, seed) => {
                let (lo, hi) = (self.fixed(lo, span, key)?, self.fixed(hi, span, key)?);
                Some((0..u64::from(n)).map(|k| m::uniform_fixed(seed, k, lo, hi)).collect())
            }
            Dist::List(vals) => {
                if vals.len() != n as usize {
                    self.err(
                        Diag::new(span, format!("`{key}` lists {} values for {n} neurons", vals.len()))
                            .label("wrong count"),
                    );
                    return None;
                }
                vals.iter().map(|&x| self.fixed(x, span, key)).collect()
            }
            Dist::File(path) => {
                let rows = self.csv(span, &path)?;
                let vals: Vec<f64> = rows.iter().flat_map(|(_, r)| r.iter().copied()).collect();
                if vals.len() != n as usize {
                    self.err(
                        Diag::new(span, format!("`{}` holds {} values for {n} neurons", path.display(), vals.len()))
                            .label("wrong count")
                            .help("one value per neuron, one per line"),
                    );
                    return None;
                }
                vals.iter().map(|&x| self.fixed(x, span, key)).collect()
            }
        }
    }

    fn dist(&mut self, v: &Value, span: Span, key: &str, what: &str) -> Option<Dist> {
        match v {
            Value::Num(x) => Some(Dist::Const(*x)),
            Value::List(items) if items.iter().all(|x| matches!(x, Value::Num(_))) => {
                Some(Dist::List(items.iter().map(|x| if let Value::Num(v) = x { *v } else { 0.0 }).collect()))
            }
            Value::Call(f, args) if f == "uniform" => {
                let a = self.args(span, f, args, &["lo", "hi"], &["seed"])?;
                let (Value::Num(lo), Value::Num(hi)) = (&a[0], &a[1]) else {
                    self.err(Diag::new(span, "uniform(lo, hi) takes numbers").label("here"));
                    return None;
                };
                let seed = self.seed_arg(&a[2], what, span)?;
                if lo > hi {
                    self.err(Diag::new(span, format!("uniform({lo}, {hi}): lo is above hi")).label("empty range"));
                    return None;
                }
                Some(Dist::Uniform(*lo, *hi, seed))
            }
            Value::Call(f, args) if f == "file" => {
                let a = self.args(span, f, args, &["path"], &[])?;
                match &a[0] {
                    Value::Str(s) => Some(Dist::File(self.data_path(span, s))),
                    _ => {
                        self.err(Diag::new(span, "file(...) takes a file name in double quotes").label("here"));
                        None
                    }
                }
            }
            other => {
                self.err(
                    Diag::new(
                        span,
                        format!(
                            "`{key}` must be a number, a list, uniform(lo, hi, seed = s) or file(\"...\"), found {}",
                            other.describe()
                        ),
                    )
                    .label("not allowed here"),
                );
                None
            }
        }
    }

    /// Matches call arguments to `required` then `optional` parameters
    /// (positional first, then by name); missing optionals are `Sym("")`.
    fn args(
        &mut self,
        span: Span,
        f: &str,
        args: &[(Option<String>, Value)],
        required: &[&str],
        optional: &[&str],
    ) -> Option<Vec<Value>> {
        let names: Vec<&str> = required.iter().chain(optional).copied().collect();
        let mut out: Vec<Option<Value>> = vec![None; names.len()];
        let mut pos = 0;
        for (n, v) in args {
            let k = match n {
                None => {
                    pos += 1;
                    pos - 1
                }
                Some(n) => match names.iter().position(|x| x == n) {
                    Some(k) => k,
                    None => {
                        self.err(
                            Diag::new(span, format!("`{f}` has no parameter `{n}`"))
                                .label("unknown argument")
                                .help(format!("{f}({})", names.join(", "))),
                        );
                        return None;
                    }
                },
            };
            if k >= names.len() || out[k].is_some() {
                self.err(
                    Diag::new(span, format!("too many or repeated arguments to `{f}`"))
                        .label("here")
                        .help(format!("{f}({})", names.join(", "))),
                );
                return None;
            }
            out[k] = Some(v.clone());
        }
        if let Some(k) = (0..required.len()).find(|&k| out[k].is_none()) {
            self.err(
                Diag::new(span, format!("`{f}` needs `{}`", names[k]))
                    .label("missing argument")
                    .help(format!("{f}({})", names.join(", "))),
            );
            return None;
        }
        Some(out.into_iter().map(|v| v.unwrap_or(Value::Sym(String::new()))).collect())
    }

    /// Reads a CSV of numbers: rows of (line number, values). Blank lines,
    /// `#` comments and a non-numeric first line (a header) are skipped.
    fn csv(&mut self, span: Span, path: &FsPath) -> Option<Vec<(usize, Vec<f64>)>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    Diag::new(span, format!("cannot read `{}`: {e}", path.display()))
                        .label("this file")
                        .help("data paths are relative to the source file"),
                );
                return None;
            }
        };
        let mut rows = Vec::new();
        for (k, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cells: Result<Vec<f64>, (usize, &str)> = line
                .split(',')
                .enumerate()
                .map(|(c, s)| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or((c, s.trim())))
                .collect();
            match cells {
                Ok(v) => rows.push((k + 1, v)),
                Err(_) if rows.is_empty() && k == 0 => {} // header
                Err((c, s)) => {
                    self.err(
                        Diag::new(
                            span,
                            format!("{}:{}: column {}: `{s}` is not a number", path.display(), k + 1, c + 1),
                        )
                        .label("in this file"),
                    );
                    return None;
                }
            }
        }
        Some(rows)
    }

    fn generator(&mut self, kind: &Ident, kvs: &[KeyValue], scope: &Scope, full: &str) -> Option<Generator> {
        match kind.name.as_str() {
            "poisson" => {
                let p = self.params_of(kvs, &["rate", "seed"], scope);
                let Some((_, rate_span)) = p.get("rate").cloned() else {
                    self.err(Diag::new(kind.span, "a poisson source needs `rate` (Hz)").label("no rate"));
                    return None;
                };
                let rate = self.get_num(&p, "rate", 0.0, scope)?;
                let max = 1000.0 / self.net.dt_ms;
                if !(0.0..=max).contains(&rate) {
                    self.err(Diag::new(
                        rate_span,
                        format!("rate must be in 0..={max} Hz (one spike per step), found {rate}"),
                    ));
                    return None;
                }
                let seed = match p.get("seed") {
                    Some((v, span)) => self.seed_arg(v, full, *span)?,
                    None => self.derive_seed(full),
                };
                Some(Generator::Poisson { p: Generator::poisson_p(rate, self.net.dt_ms), seed })
            }
            "regular" => {
                let p = self.params_of(kvs, &["period", "phase"], scope);
                if !p.contains_key("period") {
                    self.err(Diag::new(kind.span, "a regular source needs `period` (steps)").label("no period"));
                    return None;
                }
                let period = self.get_num(&p, "period", 1.0, scope)?;
                let phase = self.get_num(&p, "phase", 0.0, scope)?;
                let ok = |x: f64, lo: f64| x.fract() == 0.0 && x >= lo && x <= f64::from(u32::MAX);
                if !ok(period, 1.0) || !ok(phase, 0.0) {
                    let span = p.get("period").map_or(kind.span, |x| x.1);
                    self.err(
                        Diag::new(span, "period (>= 1) and phase (>= 0) are whole numbers of steps").label("here"),
                    );
                    return None;
                }
                Some(Generator::Regular { period: period as u32, phase: phase as u32 })
            }
            other => {
                self.err(
                    Diag::new(kind.span, format!("unknown source kind `{other}`"))
                        .label("not a source kind")
                        .help("source kinds: poisson, regular"),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------ projections

    fn connect(&mut self, d: &Deferred<'a>) {
        let c = d.connect;
        let scope = &d.scope;
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
        let (from, to) = (find(self, &c.from), find(self, &c.to));
        let (Some(from), Some(to)) = (from, to) else { return };
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
        let (n_pre, n_post) = (self.net.pop(from).size, self.net.pop(to).size);

        // Clauses.
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
        let default_delay = delay.map_or(1, |d| d.0);

        // Connector.
        let Some(conn) = self.eval(&c.connector, scope) else { return };
        let cspan = c.connector.span;
        let (cname, cargs) = match &conn {
            Value::Sym(s) => (s.clone(), Vec::new()),
            Value::Call(f, a) => (f.clone(), a.clone()),
            other => {
                self.err(
                    Diag::new(cspan, format!("expected a connector, found {}", other.describe()))
                        .label("not a connector")
                        .help(CONNECTORS_HELP),
                );
                return;
            }
        };
        let budget = MAX_SYNAPSES - self.synapses.min(MAX_SYNAPSES);
        let too_many = |e: &mut Self, count: u64| {
            e.err(
                Diag::new(
                    cspan,
                    format!("`{name}` would make {count} synapses; the limit is {MAX_SYNAPSES} per network"),
                )
                .label("too many synapses")
                .help("use a sparser connector (fixed_probability, fixed_fan_in)"),
            );
        };
        let mut syn = Synapses::default();
        match cname.as_str() {
            "all_to_all" | "one_to_one" | "fixed_probability" | "fixed_fan_in" => {
                let w = weight.as_ref().map_or(Dist::Const(1.0), |w| w.0.clone());
                let wspan = weight.as_ref().map_or(cspan, |w| w.1);
                let (lo, hi, seed_w) = match w {
                    Dist::Const(x) => (x, x, 0),
                    Dist::Uniform(lo, hi, s) => (lo, hi, s),
                    Dist::File(_) | Dist::List(_) => return,
                };
                let (Some(lo), Some(hi)) = (self.fixed(lo, wspan, "weight"), self.fixed(hi, wspan, "weight")) else {
                    return;
                };
                let wgen = |k: u64| if lo == hi { lo } else { m::uniform_fixed(seed_w, k, lo, hi) };
                match cname.as_str() {
                    "all_to_all" => {
                        if self.args(cspan, &cname, &cargs, &[], &[]).is_none() {
                            return;
                        }
                        let count = u64::from(n_pre) * u64::from(n_post);
                        if count > budget {
                            return too_many(self, count);
                        }
                        for i in 0..n_pre {
                            for j in 0..n_post {
                                let k = syn.len() as u64;
                                syn.push(i, j, wgen(k), default_delay);
                            }
                        }
                    }
                    "one_to_one" => {
                        if self.args(cspan, &cname, &cargs, &[], &[]).is_none() {
                            return;
                        }
                        if n_pre != n_post {
                            self.err(
                                Diag::new(cspan, format!("one_to_one needs equal sizes, but {n_pre} -> {n_post}"))
                                    .label("sizes differ"),
                            );
                            return;
                        }
                        for i in 0..n_pre {
                            syn.push(i, i, wgen(u64::from(i)), default_delay);
                        }
                    }
                    "fixed_probability" => {
                        let Some(a) = self.args(cspan, &cname, &cargs, &["p"], &["seed"]) else { return };
                        let Value::Num(p) = a[0] else {
                            self.err(Diag::new(cspan, "fixed_probability(p): p must be a number").label("here"));
                            return;
                        };
                        if !(0.0..=1.0).contains(&p) {
                            self.err(
                                Diag::new(cspan, format!("a probability is in [0, 1], found {p}"))
                                    .label("out of range"),
                            );
                            return;
                        }
                        let pairs = u64::from(n_pre) * u64::from(n_post);
                        let expected = (pairs as f64 * p) as u64;
                        if expected > budget {
                            return too_many(self, expected);
                        }
                        let Some(seed) = self.seed_arg(&a[1], &name, cspan) else { return };
                        let mut rng = ChaCha8Rng::seed_from_u64(seed);
                        // Geometric skipping: cost is proportional to the
                        // synapses made, not to the pairs considered.
                        let ln_q = (1.0 - p).ln();
                        let mut at: u64 = 0;
                        while p > 0.0 && at < pairs {
                            if p < 1.0 {
                                let u = (f64::from(rng.next_u32()) + 1.0) / 4_294_967_297.0;
                                let skip = (u.ln() / ln_q).floor();
                                if skip >= (pairs - at) as f64 {
                                    break;
                                }
                                at += skip as u64;
                            }
                            let k = syn.len() as u64;
                            if k >= budget {
                                return too_many(self, k + 1);
                            }
                            syn.push(
                                (at / u64::from(n_post)) as u32,
                                (at % u64::from(n_post)) as u32,
                                wgen(k),
                                default_delay,
                            );
                            at += 1;
                        }
                    }
                    _ => {
                        let Some(a) = self.args(cspan, &cname, &cargs, &["k"], &["seed"]) else { return };
                        let k = match a[0] {
                            Value::Num(k) if k.fract() == 0.0 && k >= 0.0 && k <= f64::from(n_pre) => k as u32,
                            _ => {
                                self.err(
                                    Diag::new(
                                        cspan,
                                        format!(
                                            "fixed_fan_in(k): k must be a whole number in 0..={n_pre} (the source size)"
                                        ),
                                    )
                                    .label("out of range"),
                                );
                                return;
                            }
                        };
                        let count = u64::from(k) * u64::from(n_post);
                        if count > budget {
                            return too_many(self, count);
                        }
                        let Some(seed) = self.seed_arg(&a[1], &name, cspan) else { return };
                        let mut rng = ChaCha8Rng::seed_from_u64(seed);
                        let mut mark = vec![u32::MAX; n_pre as usize];
                        let mut chosen = Vec::with_capacity(k as usize);
                        let (pre, post, wv, dl) = (&mut syn.pre, &mut syn.post, &mut syn.weight, &mut syn.delay);
                        pre.reserve(count as usize);
                        post.reserve(count as usize);
                        wv.reserve(count as usize);
                        dl.reserve(count as usize);
                        for j in 0..n_post {
                            // Floyd's algorithm: k distinct sources.
                            chosen.clear();
                            for t in (n_pre - k)..n_pre {
                                let r = ((u64::from(rng.next_u32()) * u64::from(t + 1)) >> 32) as u32;
                                let pick = if mark[r as usize] == j { t } else { r };
                                mark[pick as usize] = j;
                                chosen.push(pick);
                            }
                            chosen.sort_unstable();
                            for &i in &chosen {
                                let kk = pre.len() as u64;
                                pre.push(i);
                                post.push(j);
                                wv.push(wgen(kk));
                                dl.push(default_delay);
                            }
                        }
                    }
                }
            }
            "dense" | "sparse" => {
                if let Some((_, span)) = &weight {
                    self.err(
                        Diag::new(*span, format!("`{cname}` gives the weights: drop the `weight` clause"))
                            .label("conflicts with the data"),
                    );
                    return;
                }
                let Some(a) = self.args(cspan, &cname, &cargs, &["data"], &[]) else { return };
                let rows: Vec<(usize, Vec<f64>)> = match &a[0] {
                    Value::Str(f) => {
                        let path = self.data_path(cspan, f);
                        let Some(r) = self.csv(cspan, &path) else { return };
                        r
                    }
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
                                        Diag::new(
                                            cspan,
                                            format!("row {} of `{cname}` is not a list of numbers", k + 1),
                                        )
                                        .label("here"),
                                    );
                                    return;
                                }
                            }
                        }
                        out
                    }
                    other => {
                        self.err(
                            Diag::new(
                                cspan,
                                format!(
                                    "`{cname}` takes a matrix `[[...], ...]` or a CSV file name, found {}",
                                    other.describe()
                                ),
                            )
                            .label("here"),
                        );
                        return;
                    }
                };
                let src = match &a[0] {
                    Value::Str(f) => f.clone(),
                    _ => "the matrix".into(),
                };
                if cname == "dense" {
                    if rows.len() != n_pre as usize {
                        self.err(
                            Diag::new(
                                cspan,
                                format!(
                                    "{src} has {} rows; `{name}` needs {n_pre} (one per source neuron)",
                                    rows.len()
                                ),
                            )
                            .label("wrong shape"),
                        );
                        return;
                    }
                    for (i, (line, r)) in rows.iter().enumerate() {
                        if r.len() != n_post as usize {
                            self.err(
                                Diag::new(cspan, format!("{src}, row at line {line}: {} columns; `{name}` needs {n_post} (one per target neuron)", r.len()))
                                    .label("wrong shape"),
                            );
                            return;
                        }
                        for (j, &w) in r.iter().enumerate() {
                            if w != 0.0 {
                                let Some(wf) = self.fixed(w, cspan, "weight") else { return };
                                syn.push(i as u32, j as u32, wf, default_delay);
                            }
                        }
                    }
                } else {
                    let mut seen = std::collections::BTreeSet::new();
                    for (line, r) in &rows {
                        let bad = |e: &mut Self, what: String| {
                            e.err(
                                Diag::new(cspan, format!("{src}, line {line}: {what}"))
                                    .label("in this data")
                                    .help("sparse rows are pre,post,weight[,delay]"),
                            );
                        };
                        if !(3..=4).contains(&r.len()) {
                            return bad(self, format!("{} values", r.len()));
                        }
                        let ok_index = |x: f64, n: u32| x.fract() == 0.0 && x >= 0.0 && x < f64::from(n);
                        if !ok_index(r[0], n_pre) {
                            return bad(self, format!("pre index {} outside 0..{n_pre}", r[0]));
                        }
                        if !ok_index(r[1], n_post) {
                            return bad(self, format!("post index {} outside 0..{n_post}", r[1]));
                        }
                        let dl = match r.get(3) {
                            None => default_delay,
                            Some(&x) if x.fract() == 0.0 && x >= 1.0 && x <= f64::from(MAX_DELAY) => x as u8,
                            Some(&x) => return bad(self, format!("delay {x} outside 1..={MAX_DELAY}")),
                        };
                        if !seen.insert((r[0] as u32, r[1] as u32, dl)) {
                            return bad(self, format!("duplicate synapse {} -> {} with delay {dl}", r[0], r[1]));
                        }
                        let Some(wf) = self.fixed(r[2], cspan, "weight") else { return };
                        syn.push(r[0] as u32, r[1] as u32, wf, dl);
                    }
                    if syn.len() as u64 > budget {
                        return too_many(self, syn.len() as u64);
                    }
                }
            }
            other => {
                let mut d = Diag::new(cspan, format!("unknown connector `{other}`")).label("not a connector");
                d = d.help(match nearest(other, CONNECTORS.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => CONNECTORS_HELP.to_string(),
                });
                self.err(d);
                return;
            }
        }
        if let SynapseKind::Stdp(sp) = kind
            && let Some(k) = syn.weight.iter().position(|&w| w < sp.w_min || w > sp.w_max)
        {
            self.err(
                Diag::new(
                    cspan,
                    format!(
                        "synapse {k} of `{name}` has weight {} outside the STDP bounds [{}, {}]",
                        m::from_fixed(syn.weight[k]),
                        m::from_fixed(sp.w_min),
                        m::from_fixed(sp.w_max)
                    ),
                )
                .label("initial weights out of bounds"),
            );
            return;
        }
        self.synapses += syn.len() as u64;
        let mut unique = name.clone();
        let mut k = 2;
        while self.net.projs().any(|(_, p)| p.name == unique) {
            unique = format!("{name} #{k}");
            k += 1;
        }
        self.net.add_projection(from, to, Projection { name: unique, kind, syn });
    }

    fn synapse_kind(&mut self, k: &Ident, kvs: &[KeyValue], scope: &Scope) -> Option<SynapseKind> {
        let dt = self.net.dt_ms;
        match k.name.as_str() {
            "nonvolatile" => Some(SynapseKind::NonVolatile),
            "volatile" => {
                let p = self.params_of(kvs, &["tau", "decay", "gain", "sat"], scope);
                let decay = self.decay(&p, "tau", "decay", 10.0, dt, scope);
                let gain = self.get_num(&p, "gain", 0.05, scope)?;
                let sat = self.get_num(&p, "sat", 10.0, scope)?;
                let span = kvs.first().map_or(k.span, |kv| kv.key.span.to(kvs[kvs.len() - 1].value.span));
                if !((0.0..=1.0).contains(&gain) && (1.0..=1000.0).contains(&sat)) {
                    self.err(
                        Diag::new(span, "volatile needs gain in [0, 1] and sat (Gsat/G0) in [1, 1000]")
                            .label("out of range"),
                    );
                    return None;
                }
                Some(SynapseKind::Volatile(VolatileParams {
                    decay: decay?,
                    gain: m::to_fixed(gain)?,
                    facil: m::to_fixed(sat - 1.0)?,
                }))
            }
            _ => {
                let p = self.params_of(
                    kvs,
                    &[
                        "a_plus",
                        "a_minus",
                        "tau_plus",
                        "decay_plus",
                        "tau_minus",
                        "decay_minus",
                        "w_min",
                        "w_max",
                        "pairing",
                        "bounds",
                    ],
                    scope,
                );
                let a_plus = self.get_num(&p, "a_plus", 0.01, scope)?;
                let a_minus = self.get_num(&p, "a_minus", 0.0105, scope)?;
                let decay_plus = self.decay(&p, "tau_plus", "decay_plus", 20.0, dt, scope);
                let decay_minus = self.decay(&p, "tau_minus", "decay_minus", 20.0, dt, scope);
                let (decay_plus, decay_minus) = (decay_plus?, decay_minus?);
                let w_min = self.get_num(&p, "w_min", 0.0, scope)?;
                let w_max = self.get_num(&p, "w_max", 1.0, scope)?;
                let pairing =
                    [Pairing::AllToAll, Pairing::Nearest][self.get_sym(&p, "pairing", &["all", "nearest"])?];
                let bounds = [Bounds::Hard, Bounds::Soft][self.get_sym(&p, "bounds", &["hard", "soft"])?];
                let span = kvs.first().map_or(k.span, |kv| kv.key.span.to(kvs[kvs.len() - 1].value.span));
                if !(a_plus >= 0.0 && a_minus >= 0.0 && 0.0 <= w_min && w_min <= w_max) {
                    self.err(
                        Diag::new(
                            span,
                            "stdp needs tau_plus, tau_minus > 0 ms, a_plus, a_minus >= 0 and 0 <= w_min <= w_max",
                        )
                        .label("out of range"),
                    );
                    return None;
                }
                Some(SynapseKind::Stdp(StdpParams {
                    a_plus: self.fixed(a_plus, span, "a_plus")?,
                    a_minus: self.fixed(a_minus, span, "a_minus")?,
                    decay_plus,
                    decay_minus,
                    w_min: self.fixed(w_min, span, "w_min")?,
                    w_max: self.fixed(w_max, span, "w_max")?,
                    pairing,
                    bounds,
                }))
            }
        }
    }
}

const CONNECTORS: &[&str] = &["all_to_all", "one_to_one", "fixed_probability", "fixed_fan_in", "dense", "sparse"];
const CONNECTORS_HELP: &str = "connectors: all_to_all, one_to_one, fixed_probability(p, seed = s), fixed_fan_in(k, seed = s), dense(matrix or \"file.csv\"), sparse(list or \"file.csv\")";

/// A value given as a constant, a seeded uniform draw or a file.
#[derive(Clone, Debug)]
enum Dist {
    Const(f64),
    Uniform(f64, f64, u64),
    List(Vec<f64>),
    File(PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_typos_only() {
        assert_eq!(nearest("hiden", ["hidden", "out"].into_iter()), Some("hidden"));
        assert_eq!(nearest("zzz", ["hidden", "out"].into_iter()), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
