//! Values of the language and their evaluation: constants, arithmetic,
//! the math functions, and the matching of call arguments to parameters.

use super::Elab;
use super::names::did_you_mean;
use crate::Diag;
use crate::ast::*;
use std::collections::BTreeMap;

/// A value of the language.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Num(f64),
    Str(String),
    List(Vec<Value>),
    /// A name bound to nothing: a keyword value such as `zero`.
    Sym(String),
    /// A call of a function the evaluator does not compute itself.
    Call(String, Vec<(Option<String>, Value)>),
}

impl Value {
    /// How a message names this value.
    pub(super) fn describe(&self) -> String {
        match self {
            Value::Num(x) => format!("the number {x}"),
            Value::Str(s) => format!("the string \"{s}\""),
            Value::List(_) => "a list".into(),
            Value::Sym(s) => format!("`{s}`"),
            Value::Call(f, _) => format!("`{f}(...)`"),
        }
    }
}

/// Names bound to values: constants and module parameters.
pub(super) type Scope = BTreeMap<String, Value>;

impl Elab<'_> {
    /// Defines `const NAME = EXPR` in `scope`.
    pub(super) fn define_const(&mut self, scope: &mut Scope, c: &ConstDecl) {
        if let Some(v) = self.eval(&c.value, scope) {
            if scope.contains_key(&c.name.name) {
                self.err(Diag::new(c.name.span, format!("`{}` is already defined", c.name.name)).label("redefined"));
            }
            scope.insert(c.name.name.clone(), v);
        }
    }

    /// The value of an expression, or `None` (reported).
    pub(super) fn eval(&mut self, x: &Expr, scope: &Scope) -> Option<Value> {
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

    /// A math function computed, or any other call kept as a value.
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

    /// Reports a name bound to nothing where `what` was expected.
    pub(super) fn unknown(&mut self, span: Span, name: &str, scope: &Scope, what: &str) {
        let help = did_you_mean(name, scope.keys().map(String::as_str));
        let mut d = Diag::new(span, format!("unknown name `{name}`: expected {what}")).label("not defined");
        if let Some(h) = help {
            d = d.help(h);
        }
        self.err(d);
    }

    /// An expression that must be a number.
    pub(super) fn num(&mut self, x: &Expr, scope: &Scope) -> Option<f64> {
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

    /// An expression that must be a whole number in `lo..=hi`.
    pub(super) fn int(&mut self, x: &Expr, scope: &Scope, lo: u64, hi: u64, what: &str) -> Option<u64> {
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

    /// Matches call arguments to `required` then `optional` parameters
    /// (positional first, then by name); missing optionals are `Sym("")`.
    pub(super) fn args(
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
}
