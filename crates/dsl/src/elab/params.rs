//! Parameters to fixed point: `key = value` lists checked against the
//! allowed keys, numbers and keywords with defaults, decays from time
//! constants, seeds, and per-neuron values (constant, seeded uniform, list
//! or file).

use super::Elab;
use super::expr::{Scope, Value};
use super::names::nearest;
use crate::Diag;
use crate::ast::*;
use crate::elab::MAX_SEED;
use fpnna_model::{self as m, DECAY_ONE};
use std::collections::BTreeMap;

/// Parameters by key, each with its value and the value's span.
pub(super) type Params = BTreeMap<String, (Value, Span)>;

/// A value given as a constant, a seeded uniform draw or a file.
#[derive(Clone, Debug)]
pub(super) enum Dist {
    Const(f64),
    Uniform(f64, f64, u64),
    List(Vec<f64>),
    /// A data file as named in the source.
    File(String),
}

impl Elab<'_> {
    /// `v` in fixed point, or `None` (reported) when it does not fit.
    pub(super) fn fixed(&mut self, v: f64, span: Span, what: &str) -> Option<i32> {
        let r = m::to_fixed(v);
        if r.is_none() {
            self.fixed_overflow(v, span, what);
        }
        r
    }

    /// Reports that the value `v` of `what` does not fit the fixed point.
    pub(super) fn fixed_overflow(&mut self, v: f64, span: Span, what: &str) {
        self.err(Diag::new(span, format!("{what} {v} does not fit the 32-bit fixed point (|x| < 32768)")));
    }

    /// The seed of an unseeded random choice: from `--seed` and the
    /// choice's name, kept below 2^53 so that it prints as an exact number.
    pub(super) fn derive_seed(&self, what: &str) -> u64 {
        let h = what.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        m::hash3(self.seed, h, 0x5EED_5EED) & MAX_SEED
    }

    /// An explicit seed (`seed = s`), or a derived one when `v` is absent.
    pub(super) fn seed_arg(&mut self, v: &Value, what: &str, span: Span) -> Option<u64> {
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

    /// The `key = value` parameters, each key allowed and given once.
    pub(super) fn params_of(&mut self, kvs: &[KeyValue], allowed: &[&str], scope: &Scope) -> Params {
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

    /// The number under `key`, or `default` when absent.
    pub(super) fn get_num(&mut self, p: &Params, key: &str, default: f64, scope: &Scope) -> Option<f64> {
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

    /// Which of `options` the keyword under `key` is (the first when absent).
    pub(super) fn get_sym(&mut self, p: &Params, key: &str, options: &[&str]) -> Option<usize> {
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

    /// A 12-bit decay, from a time constant `tau` (ms) or given raw as a
    /// fraction per step; 0 ms means no memory.
    pub(super) fn decay(
        &mut self,
        p: &Params,
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

    /// An STDP synapse's `relax`: the share of a learned change lost per
    /// step, a fraction in [0, 1) (0, the default: kept). Retention is the
    /// device's: compiling (and `sim` with an architecture) replaces it by
    /// the architecture's; a source holds it as `decompile` writes it.
    pub(super) fn relax(&mut self, p: &Params, scope: &Scope) -> Option<u32> {
        let r = self.get_num(p, "relax", 0.0, scope)?;
        if !(0.0..1.0).contains(&r) {
            let span = p.get("relax").map_or_else(Span::default, |x| x.1);
            self.err(
                Diag::new(span, format!("`relax` is a fraction per step in [0, 1), found {r}")).label("out of range"),
            );
            return None;
        }
        Some((r * 4_294_967_296.0).round().min(f64::from(u32::MAX)) as u32)
    }

    /// A per-neuron parameter: a number, `uniform(lo, hi, seed = s)` or
    /// `file("x.csv")` (one value per neuron: a text table's values in
    /// order, or an array's in C order).
    pub(super) fn per_neuron(&mut self, p: &Params, key: &str, default: f64, n: u32, full: &str) -> Option<Vec<i32>> {
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
            Dist::File(file) => {
                let data = self.data_file(span, &file)?;
                let vals: Vec<f64> = data.rows.iter().flat_map(|(_, r)| r.iter().copied()).collect();
                if vals.len() != n as usize {
                    self.err(
                        Diag::new(span, format!("`{file}` holds {} values for {n} neurons", vals.len()))
                            .label("wrong count")
                            .help("one value per neuron: one per line, or an array of that many"),
                    );
                    return None;
                }
                vals.iter().map(|&x| self.fixed(x, span, key)).collect()
            }
        }
    }

    /// A value that may be a constant, a list, a seeded uniform draw or a
    /// file; `what` names it for a derived seed.
    pub(super) fn dist(&mut self, v: &Value, span: Span, key: &str, what: &str) -> Option<Dist> {
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
                    Value::Str(s) => Some(Dist::File(s.clone())),
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
}
