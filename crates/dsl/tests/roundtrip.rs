//! Property: any syntax tree prints to text that parses back to the same
//! tree (spans aside), and printing is a fixed point.

use fpnna_dsl::ast::*;
use fpnna_dsl::{KEYWORDS, parse, print};
use proptest::prelude::*;

fn ident() -> impl Strategy<Value = Ident> {
    "[a-z_][a-z0-9_]{0,6}"
        .prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str()))
        .prop_map(|name| Ident { name, span: Span::default() })
}

fn e(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::default() }
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..1_000_000).prop_map(|n| e(ExprKind::Num(f64::from(n)))),
        (0u32..1_000_000, 1u32..7).prop_map(|(n, k)| e(ExprKind::Num(f64::from(n) / 10f64.powi(k as i32)))),
        (1e-12f64..1e12).prop_map(|x| e(ExprKind::Num(x))),
        "[a-zA-Z0-9_ .\\-/\"\\\\]{0,12}".prop_map(|s| e(ExprKind::Str(s))),
        ident().prop_map(|i| e(ExprKind::Name(i.name))),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|x| e(ExprKind::Neg(Box::new(x)))),
            (0..5usize, inner.clone(), inner.clone()).prop_map(|(op, a, b)| {
                let op = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem][op];
                e(ExprKind::Bin(op, Box::new(a), Box::new(b)))
            }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| e(ExprKind::List(v))),
            (ident(), prop::collection::vec((prop::option::of(ident()), inner), 0..3)).prop_map(|(name, args)| {
                let args = args.into_iter().map(|(name, value)| Arg { name, value }).collect();
                e(ExprKind::Call { name, args })
            }),
        ]
    })
}

fn path() -> impl Strategy<Value = Path> {
    prop::collection::vec(ident(), 1..4).prop_map(|parts| Path { parts })
}

fn kvs() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec((ident(), expr()).prop_map(|(key, value)| KeyValue { key, value }), 0..3)
}

fn stmt() -> impl Strategy<Value = Stmt> {
    let kind = prop_oneof![
        (ident(), expr()).prop_map(|(name, value)| StmtKind::Const(ConstDecl { name, value })),
        expr().prop_map(StmtKind::Dt),
        (ident(), expr()).prop_map(|(name, size)| StmtKind::Input { name, size }),
        (ident(), expr(), ident(), kvs()).prop_map(|(name, size, model, params)| StmtKind::Population {
            name,
            size,
            model,
            params
        }),
        (ident(), expr(), ident(), kvs()).prop_map(|(name, size, kind, params)| StmtKind::Source {
            name,
            size,
            kind,
            params
        }),
        prop::collection::vec(path(), 1..3).prop_map(StmtKind::Output),
        (path(), path(), expr(), prop::collection::vec(clause(), 0..3))
            .prop_map(|(from, to, connector, clauses)| StmtKind::Connect(Connect { from, to, connector, clauses })),
        (ident(), ident(), prop::collection::vec(expr(), 0..3)).prop_map(|(name, module, args)| StmtKind::Inst {
            name,
            module,
            args
        }),
    ];
    kind.prop_map(|kind| Stmt { kind, span: Span::default() })
}

fn clause() -> impl Strategy<Value = Clause> {
    prop_oneof![
        expr().prop_map(Clause::Weight),
        expr().prop_map(Clause::Delay),
        Just(Clause::Synapse { kind: Ident { name: "nonvolatile".into(), span: Span::default() }, params: vec![] }),
        (prop_oneof![Just("volatile"), Just("stdp")], kvs())
            .prop_map(|(k, params)| Clause::Synapse { kind: Ident { name: k.into(), span: Span::default() }, params }),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        "[a-z/._]{1,12}".prop_map(|path| Item::Include { path, span: Span::default() }),
        (ident(), expr()).prop_map(|(name, value)| Item::Const(ConstDecl { name, value })),
        (ident(), prop::collection::vec(ident(), 0..3), prop::collection::vec(stmt(), 0..4))
            .prop_map(|(name, params, body)| Item::Module(Block { name, params, body })),
        (ident(), prop::collection::vec(stmt(), 0..6)).prop_map(|(name, body)| Item::Network(Block {
            name,
            params: vec![],
            body
        })),
    ]
}

proptest! {
    #![proptest_config(fpnna_testkit::prop::fixed(400, 0xd51_0001, file!()))]

    #[test]
    fn printed_trees_parse_back_to_themselves(items in prop::collection::vec(item(), 0..5)) {
        let file = File { items };
        let text = print(&file);
        let (back, errors) = parse(&text);
        prop_assert!(errors.is_empty(), "errors {:?} in\n{}", errors, text);
        prop_assert_eq!(&back, &file, "text:\n{}", text);
        prop_assert_eq!(print(&back), text);
    }

    #[test]
    fn parsing_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }
}

#[test]
fn examples_print_and_reparse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut n = 0;
    for dir in std::fs::read_dir(root).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "fpn") {
                let (tree, errors) = parse(&std::fs::read_to_string(&f).unwrap());
                assert!(errors.is_empty(), "{}: {errors:?}", f.display());
                let (again, errors) = parse(&print(&tree));
                assert!(errors.is_empty());
                assert_eq!(again, tree, "{}", f.display());
                n += 1;
            }
        }
    }
    assert!(n >= 7);
}
