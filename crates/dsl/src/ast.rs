//! The syntax tree of `.fpn` sources.
//!
//! Spans are metadata: two trees are equal when their structure is, wherever
//! their text stood (this is what the print/re-parse property test needs).

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, Eq)]
pub struct Span {
    /// Index of the file in the [`crate::SourceMap`].
    pub file: u32,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Span {
    /// The span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A name with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it stands.
    pub span: Span,
}

/// A dotted name (`l1.out`).
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// Its parts, at least one.
    pub parts: Vec<Ident>,
}

impl Path {
    /// The span of the whole path.
    pub fn span(&self) -> Span {
        self.parts[0].span.to(self.parts[self.parts.len() - 1].span)
    }
    /// The dotted text.
    pub fn dotted(&self) -> String {
        self.parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")
    }
}

/// A whole source file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    /// Its items in order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `include "path";`
    Include {
        /// Path as written (relative to the including file).
        path: String,
        /// The whole statement.
        span: Span,
    },
    /// `const NAME = EXPR;`
    Const(ConstDecl),
    /// `module NAME(params) { ... }`
    Module(Block),
    /// `network NAME { ... }`
    Network(Block),
}

/// `const NAME = EXPR;`
#[derive(Clone, Debug, PartialEq)]
pub struct ConstDecl {
    /// Its name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
}

/// A module or network body.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Its name.
    pub name: Ident,
    /// Module parameters (empty for a network).
    pub params: Vec<Ident>,
    /// Statements.
    pub body: Vec<Stmt>,
}

/// A statement with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it is.
    pub kind: StmtKind,
    /// The whole statement.
    pub span: Span,
}

/// The statements of a network or module body.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `const NAME = EXPR;`
    Const(ConstDecl),
    /// `dt = EXPR;` (ms)
    Dt(Expr),
    /// `input NAME[SIZE];`
    Input {
        /// Name.
        name: Ident,
        /// Size.
        size: Expr,
    },
    /// `population NAME[SIZE] : MODEL { k = v, ... };`
    Population {
        /// Name.
        name: Ident,
        /// Size.
        size: Expr,
        /// `lif` or `if`.
        model: Ident,
        /// Parameters.
        params: Vec<KeyValue>,
    },
    /// `source NAME[SIZE] : KIND { k = v, ... };`
    Source {
        /// Name.
        name: Ident,
        /// Size.
        size: Expr,
        /// `poisson` or `regular`.
        kind: Ident,
        /// Parameters.
        params: Vec<KeyValue>,
    },
    /// `output a, b.c;`
    Output(Vec<Path>),
    /// `connect a -> b : CONNECTOR clauses;`
    Connect(Connect),
    /// `inst NAME = MODULE(args);`
    Inst {
        /// Instance name.
        name: Ident,
        /// Module name.
        module: Ident,
        /// Arguments.
        args: Vec<Expr>,
    },
}

/// `key = value`
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// Key.
    pub key: Ident,
    /// Value.
    pub value: Expr,
}

/// `connect FROM -> TO : CONNECTOR clauses`
#[derive(Clone, Debug, PartialEq)]
pub struct Connect {
    /// Source population.
    pub from: Path,
    /// Target population.
    pub to: Path,
    /// Connector expression (`all_to_all`, `fixed_probability(0.1, seed = 3)`, ...).
    pub connector: Expr,
    /// Weight, delay and synapse clauses, in order.
    pub clauses: Vec<Clause>,
}

/// A clause of a `connect`.
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `weight EXPR`
    Weight(Expr),
    /// `delay EXPR`
    Delay(Expr),
    /// `nonvolatile`, `volatile { ... }`, `stdp { ... }`
    Synapse {
        /// Kind keyword.
        kind: Ident,
        /// Parameters (none for nonvolatile).
        params: Vec<KeyValue>,
    },
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// +
    Add,
    /// -
    Sub,
    /// *
    Mul,
    /// /
    Div,
    /// %
    Rem,
}

impl BinOp {
    /// Its symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
    /// Binding strength (higher binds tighter).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 2,
        }
    }
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A non-negative number literal.
    Num(f64),
    /// A string literal.
    Str(String),
    /// A name: a constant, a module parameter or a keyword value (`zero`).
    Name(String),
    /// `f(a, k = b)`
    Call {
        /// Function name.
        name: Ident,
        /// Arguments.
        args: Vec<Arg>,
    },
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `-e`
    Neg(Box<Expr>),
    /// `a OP b`
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

/// A call argument, positional or named.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some(name)` for `name = value`.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}
