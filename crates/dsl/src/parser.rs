//! The parser: nom combinators for tokens, recursive descent for the
//! grammar (docs/language.md), statement-level recovery so that one run
//! reports every syntax error of a file. Parsing never panics.

use crate::Diag;
use crate::ast::*;
use nom::bytes::complete::{tag, take_until, take_while, take_while1};
use nom::character::complete::{char, digit1, multispace1, one_of};
use nom::combinator::{opt, recognize};
use nom::error::{ErrorKind, ParseError};
use nom::sequence::pair;
use nom::{IResult, Parser as _};

/// Words that cannot name anything (the one list: `fpnna_model::names`).
pub use fpnna_model::names::KEYWORDS;

/// A parse failure: where, and what was expected there.
#[derive(Debug, Clone)]
pub struct PError<'a> {
    at: &'a str,
    expected: String,
}

impl<'a> ParseError<&'a str> for PError<'a> {
    fn from_error_kind(at: &'a str, kind: ErrorKind) -> Self {
        PError { at, expected: kind.description().to_string() }
    }
    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, PError<'a>>;

fn expected<'a, T>(at: &'a str, what: &str) -> PResult<'a, T> {
    Err(nom::Err::Failure(PError { at, expected: what.to_string() }))
}

/// Deepest nesting of expressions, so that hostile input cannot overflow
/// the stack.
const MAX_DEPTH: u32 = 64;

/// Most binary operators on one path of an expression tree (a chain
/// `a + b + ...` is a tree as deep as it is long), so that the walkers of
/// the tree (elaboration, printing, dropping) cannot overflow the stack.
pub const MAX_OPERATORS: u32 = 1000;

struct Parser<'s> {
    src: &'s str,
    file: u32,
    depth: u32,
    /// Binary operators of the enclosing chains (see [`MAX_OPERATORS`]).
    operators: u32,
}

/// Parses one file; returns the tree (with the statements that parsed) and
/// the syntax errors.
pub fn parse(src: &str, file: u32) -> (File, Vec<Diag>) {
    let mut p = Parser { src, file, depth: 0, operators: 0 };
    let mut items = Vec::new();
    let mut diags = Vec::new();
    let mut i = src;
    loop {
        i = match p.ws(i) {
            Ok((r, ())) => r,
            Err(e) => {
                diags.push(p.diag(e));
                break;
            }
        };
        if i.is_empty() {
            break;
        }
        match p.item(i, &mut diags) {
            Ok((r, item)) => {
                items.push(item);
                i = r;
            }
            Err(e) => {
                diags.push(p.diag(e));
                i = p.recover(i, true);
            }
        }
    }
    (File { items }, diags)
}

impl<'s> Parser<'s> {
    fn off(&self, rest: &str) -> u32 {
        (self.src.len() - rest.len()) as u32
    }

    fn span(&self, from: &str, to: &str) -> Span {
        Span { file: self.file, start: self.off(from), end: self.off(to) }
    }

    fn diag(&self, e: nom::Err<PError<'_>>) -> Diag {
        let (at, what) = match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => (e.at, e.expected),
            nom::Err::Incomplete(_) => ("", "more input".to_string()),
        };
        let start = self.off(at);
        let found = describe(at);
        let end = start + found.1 as u32;
        Diag::new(Span { file: self.file, start, end }, format!("expected {what}, found {}", found.0))
            .label(format!("expected {what}"))
    }

    /// Skips to just after the next `;` (or past a braced block) at nesting
    /// depth 0, never past a `}` that closes the enclosing block unless
    /// `top` is set.
    fn recover<'a>(&self, mut i: &'a str, top: bool) -> &'a str {
        let mut depth = 0i32;
        let mut first = true;
        while let Some(c) = i.chars().next() {
            if let Ok((r, ())) = self.ws(i)
                && r.len() != i.len()
            {
                let newline = i[..i.len() - r.len()].contains('\n');
                i = r;
                if newline && depth == 0 && !first && starts_statement(i) {
                    return i;
                }
                continue;
            }
            if c == '"' {
                i = match string_lit(i) {
                    Ok((r, _)) => r,
                    Err(_) => &i[1..],
                };
                first = false;
                continue;
            }
            match c {
                '{' | '[' | '(' => depth += 1,
                '}' | ']' | ')' => {
                    if depth == 0 && c == '}' && !top && !first {
                        return i;
                    }
                    depth -= 1;
                    if depth <= 0 && c == '}' {
                        return &i[1..];
                    }
                }
                ';' if depth <= 0 => return &i[1..],
                _ => {}
            }
            first = false;
            i = &i[c.len_utf8()..];
        }
        i
    }

    /// Whitespace and comments.
    fn ws<'a>(&self, mut i: &'a str) -> PResult<'a, ()> {
        loop {
            let before = i.len();
            if let Ok((r, _)) = multispace1::<_, PError>(i) {
                i = r;
            }
            if let Some(r) = i.strip_prefix("//") {
                i = r.find('\n').map_or("", |n| &r[n..]);
            } else if i.starts_with("/*") {
                match take_until::<_, _, PError>("*/").parse(&i[2..]) {
                    Ok((r, _)) => i = &r[2..],
                    Err(_) => return expected(i, "`*/` to close this comment"),
                }
            }
            if i.len() == before {
                return Ok((i, ()));
            }
        }
    }

    /// A punctuation token. A missing one is reported right after the
    /// previous token, where it belongs, not at the next line's first word.
    fn sym<'a>(&self, i: &'a str, s: &'static str) -> PResult<'a, ()> {
        let (r, ()) = self.ws(i)?;
        match tag::<_, _, PError>(s).parse(r) {
            Ok((r, _)) => Ok((r, ())),
            Err(_) if r.len() != i.len() && !i.starts_with(' ') => expected(i, &format!("`{s}`")),
            Err(_) if r.len() != i.len() => expected(&i[1..], &format!("`{s}`")),
            Err(_) => expected(r, &format!("`{s}`")),
        }
    }

    fn peek_sym(&self, i: &str, s: &str) -> bool {
        self.ws(i).is_ok_and(|(r, ())| r.starts_with(s))
    }

    fn raw_ident<'a>(&self, i: &'a str) -> PResult<'a, &'a str> {
        recognize(pair(take_while1(fpnna_model::names::is_ident_start), take_while(fpnna_model::names::is_ident_char)))
            .parse(i)
    }

    fn keyword<'a>(&self, i: &'a str, kw: &str) -> PResult<'a, Span> {
        let (i, ()) = self.ws(i)?;
        match self.raw_ident(i) {
            Ok((r, w)) if w == kw => Ok((r, self.span(i, r))),
            _ => Err(nom::Err::Error(PError { at: i, expected: format!("`{kw}`") })),
        }
    }

    fn ident<'a>(&self, i: &'a str, what: &str) -> PResult<'a, Ident> {
        let (i, ()) = self.ws(i)?;
        match self.raw_ident(i) {
            Ok((r, w)) if !KEYWORDS.contains(&w) => Ok((r, Ident { name: w.to_string(), span: self.span(i, r) })),
            _ => expected(i, what),
        }
    }

    fn path<'a>(&self, i: &'a str) -> PResult<'a, Path> {
        let (mut i, first) = self.ident(i, "a population name")?;
        let mut parts = vec![first];
        while self.peek_sym(i, ".") {
            let (r, ()) = self.sym(i, ".")?;
            let (r, id) = self.ident(r, "a name after `.`")?;
            parts.push(id);
            i = r;
        }
        Ok((i, Path { parts }))
    }

    fn item<'a>(&mut self, i: &'a str, diags: &mut Vec<Diag>) -> PResult<'a, Item> {
        let start = i;
        if let Ok((r, _)) = self.keyword(i, "include") {
            let (r, ()) = self.ws(r)?;
            let (r, path) = match string_lit(r) {
                Ok(x) => x,
                Err(_) if r.starts_with('"') => return expected(r, "a closing `\"` on the same line"),
                Err(_) => return expected(r, "a file name in double quotes"),
            };
            let (r, ()) = self.sym(r, ";")?;
            return Ok((r, Item::Include { path, span: self.span(start, r) }));
        }
        if let Ok((r, _)) = self.keyword(i, "const") {
            let (r, c) = self.const_rest(r)?;
            return Ok((r, Item::Const(c)));
        }
        if let Ok((r, _)) = self.keyword(i, "module") {
            let (r, name) = self.ident(r, "a module name")?;
            let (mut r, ()) = self.sym(r, "(")?;
            let mut params = Vec::new();
            if !self.peek_sym(r, ")") {
                loop {
                    let (r2, p) = self.ident(r, "a parameter name")?;
                    params.push(p);
                    r = r2;
                    if !self.peek_sym(r, ",") {
                        break;
                    }
                    r = self.sym(r, ",")?.0;
                }
            }
            let (r, ()) = self.sym(r, ")")?;
            let (r, body) = self.body(r, diags)?;
            return Ok((r, Item::Module(Block { name, params, body })));
        }
        if let Ok((r, _)) = self.keyword(i, "network") {
            let (r, name) = self.ident(r, "a network name")?;
            let (r, body) = self.body(r, diags)?;
            return Ok((r, Item::Network(Block { name, params: Vec::new(), body })));
        }
        expected(i, "`network`, `module`, `const` or `include`")
    }

    fn const_rest<'a>(&mut self, i: &'a str) -> PResult<'a, ConstDecl> {
        let (i, name) = self.ident(i, "a constant name")?;
        let (i, ()) = self.sym(i, "=")?;
        let (i, value) = self.expr(i)?;
        let (i, ()) = self.sym(i, ";")?;
        Ok((i, ConstDecl { name, value }))
    }

    /// `{ stmt* }`, recovering after each bad statement.
    fn body<'a>(&mut self, i: &'a str, diags: &mut Vec<Diag>) -> PResult<'a, Vec<Stmt>> {
        let (mut i, ()) = self.sym(i, "{")?;
        let mut body = Vec::new();
        loop {
            let (r, ()) = self.ws(i)?;
            i = r;
            if i.is_empty() {
                return expected(i, "`}` to close this block");
            }
            if let Some(r) = i.strip_prefix('}') {
                return Ok((r, body));
            }
            match self.stmt(i) {
                Ok((r, s)) => {
                    body.push(s);
                    i = r;
                }
                Err(e) => {
                    diags.push(self.diag(e));
                    i = self.recover(i, false);
                }
            }
        }
    }

    fn stmt<'a>(&mut self, i: &'a str) -> PResult<'a, Stmt> {
        let (start, ()) = self.ws(i)?;
        let (r, kind) = self.stmt_kind(start)?;
        Ok((r, Stmt { kind, span: self.span(start, r) }))
    }

    fn stmt_kind<'a>(&mut self, i: &'a str) -> PResult<'a, StmtKind> {
        if let Ok((r, _)) = self.keyword(i, "const") {
            let (r, c) = self.const_rest(r)?;
            return Ok((r, StmtKind::Const(c)));
        }
        if let Ok((r, _)) = self.keyword(i, "dt") {
            let (r, ()) = self.sym(r, "=")?;
            let (r, e) = self.expr(r)?;
            let (r, ()) = self.sym(r, ";")?;
            return Ok((r, StmtKind::Dt(e)));
        }
        if let Ok((r, _)) = self.keyword(i, "input") {
            let (r, name) = self.ident(r, "an input port name")?;
            let (r, size) = self.size(r)?;
            let (r, ()) = self.sym(r, ";")?;
            return Ok((r, StmtKind::Input { name, size }));
        }
        for (kw, is_pop) in [("population", true), ("source", false)] {
            if let Ok((r, _)) = self.keyword(i, kw) {
                let (r, name) = self.ident(r, "a population name")?;
                let (r, size) = self.size(r)?;
                let (r, ()) = self.sym(r, ":")?;
                let what =
                    if is_pop { "a neuron model (`lif` or `if`)" } else { "a source kind (`poisson` or `regular`)" };
                let (r, model) = self.any_ident(r, what)?;
                let (r, params) = if self.peek_sym(r, "{") { self.kvs(r)? } else { (r, Vec::new()) };
                let (r, ()) = self.sym(r, ";")?;
                let k = if is_pop {
                    StmtKind::Population { name, size, model, params }
                } else {
                    StmtKind::Source { name, size, kind: model, params }
                };
                return Ok((r, k));
            }
        }
        if let Ok((r, _)) = self.keyword(i, "output") {
            let (mut r, p) = self.path(r)?;
            let mut pops = vec![p];
            while self.peek_sym(r, ",") {
                let (r2, ()) = self.sym(r, ",")?;
                let (r2, p) = self.path(r2)?;
                pops.push(p);
                r = r2;
            }
            let (r, ()) = self.sym(r, ";")?;
            return Ok((r, StmtKind::Output(pops)));
        }
        if let Ok((r, _)) = self.keyword(i, "connect") {
            let (r, from) = self.path(r)?;
            let (r, ()) = self.sym(r, "->")?;
            let (r, to) = self.path(r)?;
            let (r, ()) = self.sym(r, ":")?;
            let (mut r, connector) = self.expr(r)?;
            let mut clauses = Vec::new();
            while !self.peek_sym(r, ";") {
                let (r2, c) = self.clause(r)?;
                clauses.push(c);
                r = r2;
            }
            let (r, ()) = self.sym(r, ";")?;
            return Ok((r, StmtKind::Connect(Connect { from, to, connector, clauses })));
        }
        if let Ok((r, _)) = self.keyword(i, "inst") {
            let (r, name) = self.ident(r, "an instance name")?;
            let (r, ()) = self.sym(r, "=")?;
            let (r, module) = self.ident(r, "a module name")?;
            let (r, ()) = self.sym(r, "(")?;
            let (r, args) = self.list_of(r, ")", |p, i| p.expr(i))?;
            let (r, ()) = self.sym(r, ";")?;
            return Ok((r, StmtKind::Inst { name, module, args }));
        }
        expected(i, "a statement (`population`, `input`, `source`, `connect`, `output`, `inst`, `const` or `dt`)")
    }

    /// An identifier that may be a keyword (model and kind names).
    fn any_ident<'a>(&self, i: &'a str, what: &str) -> PResult<'a, Ident> {
        let (i, ()) = self.ws(i)?;
        match self.raw_ident(i) {
            Ok((r, w)) => Ok((r, Ident { name: w.to_string(), span: self.span(i, r) })),
            Err(_) => expected(i, what),
        }
    }

    fn size<'a>(&mut self, i: &'a str) -> PResult<'a, Expr> {
        let (i, ()) = self.sym(i, "[")?;
        let (i, e) = self.expr(i)?;
        let (i, ()) = self.sym(i, "]")?;
        Ok((i, e))
    }

    fn kvs<'a>(&mut self, i: &'a str) -> PResult<'a, Vec<KeyValue>> {
        let (i, ()) = self.sym(i, "{")?;
        self.list_of(i, "}", |p, i| {
            let (i, key) = p.any_ident(i, "a parameter name")?;
            let (i, ()) = p.sym(i, "=")?;
            let (i, value) = p.expr(i)?;
            Ok((i, KeyValue { key, value }))
        })
    }

    /// Comma-separated items up to `close` (a trailing comma is allowed).
    fn list_of<'a, T>(
        &mut self,
        mut i: &'a str,
        close: &'static str,
        mut item: impl FnMut(&mut Self, &'a str) -> PResult<'a, T>,
    ) -> PResult<'a, Vec<T>> {
        let mut out = Vec::new();
        loop {
            if self.peek_sym(i, close) {
                let (r, ()) = self.sym(i, close)?;
                return Ok((r, out));
            }
            let (r, x) = item(self, i)?;
            out.push(x);
            i = r;
            if self.peek_sym(i, ",") {
                i = self.sym(i, ",")?.0;
            } else if !self.peek_sym(i, close) {
                return expected(self.ws(i)?.0, &format!("`,` or `{close}`"));
            }
        }
    }

    fn clause<'a>(&mut self, i: &'a str) -> PResult<'a, Clause> {
        if let Ok((r, _)) = self.keyword(i, "weight") {
            let (r, e) = self.expr(r)?;
            return Ok((r, Clause::Weight(e)));
        }
        if let Ok((r, _)) = self.keyword(i, "delay") {
            let (r, e) = self.expr(r)?;
            return Ok((r, Clause::Delay(e)));
        }
        for kw in ["nonvolatile", "volatile", "stdp"] {
            if let Ok((r, span)) = self.keyword(i, kw) {
                let kind = Ident { name: kw.to_string(), span };
                let (r, params) = if kw != "nonvolatile" && self.peek_sym(r, "{") { self.kvs(r)? } else { (r, vec![]) };
                return Ok((r, Clause::Synapse { kind, params }));
            }
        }
        expected(self.ws(i)?.0, "`;`, `weight`, `delay`, `nonvolatile`, `volatile` or `stdp`")
    }

    /// expr := term (('+' | '-') term)*
    pub fn expr<'a>(&mut self, i: &'a str) -> PResult<'a, Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return expected(i, "a less deeply nested expression");
        }
        let r = self.binary(i, 1);
        self.depth -= 1;
        r
    }

    fn binary<'a>(&mut self, i: &'a str, prec: u8) -> PResult<'a, Expr> {
        let outer = self.operators;
        let r = self.chain(i, prec);
        self.operators = outer;
        r
    }

    /// One chain of operators of precedence `prec`; each operator counts
    /// towards [`MAX_OPERATORS`] for the rest of the chain and its operands.
    fn chain<'a>(&mut self, i: &'a str, prec: u8) -> PResult<'a, Expr> {
        let (mut i, mut lhs) = if prec == 1 { self.binary(i, 2)? } else { self.unary(i)? };
        loop {
            let (r, ()) = self.ws(i)?;
            let op = match r.chars().next() {
                Some('+') => BinOp::Add,
                Some('-') if !r.starts_with("->") => BinOp::Sub,
                Some('*') => BinOp::Mul,
                Some('/') if !r.starts_with("//") && !r.starts_with("/*") => BinOp::Div,
                Some('%') => BinOp::Rem,
                _ => return Ok((i, lhs)),
            };
            if op.precedence() != prec {
                return Ok((i, lhs));
            }
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                return expected(
                    r,
                    &format!("at most {MAX_OPERATORS} operators in one expression (split it into constants)"),
                );
            }
            let (r, rhs) = if prec == 1 { self.binary(&r[1..], 2)? } else { self.unary(&r[1..])? };
            let span = lhs.span.to(rhs.span);
            lhs = Expr { kind: ExprKind::Bin(op, Box::new(lhs), Box::new(rhs)), span };
            i = r;
        }
    }

    fn unary<'a>(&mut self, i: &'a str) -> PResult<'a, Expr> {
        let (i, ()) = self.ws(i)?;
        if let Some(r) = i.strip_prefix('-') {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                self.depth -= 1;
                return expected(i, "a less deeply nested expression");
            }
            let res = self.unary(r);
            self.depth -= 1;
            let (r, e) = res?;
            return Ok((r, Expr { kind: ExprKind::Neg(Box::new(e)), span: self.span(i, r) }));
        }
        self.primary(i)
    }

    fn primary<'a>(&mut self, i: &'a str) -> PResult<'a, Expr> {
        let (i, ()) = self.ws(i)?;
        if let Ok((r, text)) = number(i) {
            return match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok((r, Expr { kind: ExprKind::Num(v), span: self.span(i, r) })),
                _ => expected(i, "a finite number"),
            };
        }
        if i.starts_with('"') {
            return match string_lit(i) {
                Ok((r, s)) => Ok((r, Expr { kind: ExprKind::Str(s), span: self.span(i, r) })),
                Err(_) => expected(i, "a closing `\"` on the same line"),
            };
        }
        if let Some(r) = i.strip_prefix('(') {
            let (r, e) = self.expr(r)?;
            let (r, ()) = self.sym(r, ")")?;
            return Ok((r, e));
        }
        if let Some(r) = i.strip_prefix('[') {
            self.depth += 1;
            let res = self.list_of(r, "]", |p, i| p.expr(i));
            self.depth -= 1;
            let (r, items) = res?;
            return Ok((r, Expr { kind: ExprKind::List(items), span: self.span(i, r) }));
        }
        if let Ok((r, name)) = self.ident(i, "a value") {
            if let Some(r) = r.strip_prefix('(') {
                let (r, args) = self.list_of(r, ")", |p, i| {
                    let named = p.ident(i, "").and_then(|(r2, n)| p.sym(r2, "=").map(|(r3, ())| (r3, n)));
                    match named {
                        Ok((r3, n)) if !p.peek_sym(r3, "=") => {
                            let (r4, value) = p.expr(r3)?;
                            Ok((r4, Arg { name: Some(n), value }))
                        }
                        _ => {
                            let (r4, value) = p.expr(i)?;
                            Ok((r4, Arg { name: None, value }))
                        }
                    }
                })?;
                return Ok((r, Expr { kind: ExprKind::Call { name, args }, span: self.span(i, r) }));
            }
            return Ok((r, Expr { kind: ExprKind::Name(name.name), span: name.span }));
        }
        expected(i, "a value (a number, a name, a string, a list or `(`)")
    }
}

fn number(i: &str) -> PResult<'_, &str> {
    recognize((digit1, opt(pair(char('.'), digit1)), opt((one_of("eE"), opt(one_of("+-")), digit1)))).parse(i)
}

/// A double-quoted string on one line; `\"` and `\\` are its only escapes.
fn string_lit(i: &str) -> PResult<'_, String> {
    let (r, _) = char('"').parse(i)?;
    let mut out = String::new();
    let mut it = r.char_indices();
    while let Some((k, c)) = it.next() {
        match c {
            '"' => return Ok((&r[k + 1..], out)),
            '\\' => match it.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                _ => return Err(nom::Err::Error(PError { at: &r[k..], expected: "`\\\"` or `\\\\`".into() })),
            },
            '\n' => return Err(nom::Err::Error(PError { at: &r[k..], expected: "`\"`".into() })),
            c => out.push(c),
        }
    }
    Err(nom::Err::Error(PError { at: "", expected: "`\"`".into() }))
}

/// Whether `i` begins with a word that starts a statement or an item.
fn starts_statement(i: &str) -> bool {
    let w: String = i.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    ["network", "module", "const", "include", "input", "population", "source", "output", "connect", "inst", "dt"]
        .contains(&w.as_str())
}

/// A short description of what stands at `at`, and its length in bytes.
fn describe(at: &str) -> (String, usize) {
    if at.starts_with(char::is_whitespace) {
        let (found, _) = describe(at.trim_start());
        return (found, 0);
    }
    match at.chars().next() {
        None => ("the end of the file".into(), 0),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            let w: String = at.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
            (format!("`{w}`"), w.len())
        }
        Some(c) => (format!("`{c}`"), c.len_utf8()),
    }
}
