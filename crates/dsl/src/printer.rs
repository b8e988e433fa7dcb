//! The printer: a syntax tree back to source text that parses to the same
//! tree (parentheses only where precedence needs them).

use crate::ast::*;
use std::fmt::Write;

/// Prints a file in the canonical layout.
pub fn print(f: &File) -> String {
    let mut out = String::new();
    for item in &f.items {
        match item {
            Item::Include { path, .. } => {
                let _ = writeln!(out, "include {};", string(path));
            }
            Item::Const(c) => {
                let _ = writeln!(out, "const {} = {};", c.name.name, expr(&c.value));
            }
            Item::Module(b) => {
                let params: Vec<&str> = b.params.iter().map(|p| p.name.as_str()).collect();
                let _ = writeln!(out, "module {}({}) {{", b.name.name, params.join(", "));
                body(&mut out, &b.body);
                out.push_str("}\n");
            }
            Item::Network(b) => {
                let _ = writeln!(out, "network {} {{", b.name.name);
                body(&mut out, &b.body);
                out.push_str("}\n");
            }
        }
    }
    out
}

fn body(out: &mut String, stmts: &[Stmt]) {
    for s in stmts {
        out.push_str("    ");
        match &s.kind {
            StmtKind::Const(c) => {
                let _ = write!(out, "const {} = {};", c.name.name, expr(&c.value));
            }
            StmtKind::Dt(x) => {
                let _ = write!(out, "dt = {};", expr(x));
            }
            StmtKind::Input { name, size } => {
                let _ = write!(out, "input {}[{}];", name.name, expr(size));
            }
            StmtKind::Population { name, size, model, params } => {
                let _ = write!(out, "population {}[{}] : {}{};", name.name, expr(size), model.name, kvs(params));
            }
            StmtKind::Source { name, size, kind, params } => {
                let _ = write!(out, "source {}[{}] : {}{};", name.name, expr(size), kind.name, kvs(params));
            }
            StmtKind::Output(paths) => {
                let p: Vec<String> = paths.iter().map(Path::dotted).collect();
                let _ = write!(out, "output {};", p.join(", "));
            }
            StmtKind::Connect(c) => {
                let _ = write!(out, "connect {} -> {} : {}", c.from.dotted(), c.to.dotted(), expr(&c.connector));
                for cl in &c.clauses {
                    match cl {
                        Clause::Weight(x) => {
                            let _ = write!(out, " weight {}", expr(x));
                        }
                        Clause::Delay(x) => {
                            let _ = write!(out, " delay {}", expr(x));
                        }
                        Clause::Synapse { kind, params } => {
                            let _ = write!(out, " {}{}", kind.name, kvs(params));
                        }
                    }
                }
                out.push(';');
            }
            StmtKind::Inst { name, module, args } => {
                let a: Vec<String> = args.iter().map(expr).collect();
                let _ = write!(out, "inst {} = {}({});", name.name, module.name, a.join(", "));
            }
        }
        out.push('\n');
    }
}

fn kvs(params: &[KeyValue]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let p: Vec<String> = params.iter().map(|kv| format!("{} = {}", kv.key.name, expr(&kv.value))).collect();
    format!(" {{ {} }}", p.join(", "))
}

fn string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Prints an expression.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        // `{}` on f64 is the shortest text that parses back to the same value.
        ExprKind::Num(v) => format!("{v}"),
        ExprKind::Str(s) => string(s),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Call { name, args } => {
            let a: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{} = {}", n.name, expr(&a.value)),
                    None => expr(&a.value),
                })
                .collect();
            format!("{}({})", name.name, a.join(", "))
        }
        ExprKind::List(items) => {
            let a: Vec<String> = items.iter().map(expr).collect();
            format!("[{}]", a.join(", "))
        }
        ExprKind::Neg(x) => match x.kind {
            ExprKind::Bin(..) | ExprKind::Neg(_) => format!("-({})", expr(x)),
            _ => format!("-{}", expr(x)),
        },
        ExprKind::Bin(op, a, b) => {
            let p = op.precedence();
            let side = |x: &Expr, right: bool| match &x.kind {
                ExprKind::Bin(o, ..) if o.precedence() < p || (right && o.precedence() == p) => {
                    format!("({})", expr(x))
                }
                _ => expr(x),
            };
            format!("{} {} {}", side(a, false), op.symbol(), side(b, true))
        }
    }
}
