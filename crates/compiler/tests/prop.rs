//! Property: on any verified network and any small architecture, compile
//! either succeeds and the independent checker accepts the bitstream, or
//! fails with a capacity error.

mod common;

use common::*;
use fpnna_compiler::{CompileError, check_placement, compile};
use fpnna_ir::{Network, PopId, SynapseKind};
use fpnna_model::{Bounds, ONE, Pairing, StdpParams, VolatileParams};
use proptest::prelude::*;

/// (pre, post, weight, delay)
type Syn = (u32, u32, i32, u8);

#[derive(Clone, Debug)]
struct Spec {
    pops: Vec<(u8, u32)>, // (0 input, 1 generator, 2 neurons; size)
    projs: Vec<(usize, usize, u8, Vec<Syn>)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    let pops = prop::collection::vec((0u8..5, 1u32..12), 1..5);
    let projs = prop::collection::vec(
        (
            any::<usize>(),
            any::<usize>(),
            0u8..3,
            prop::collection::vec((any::<u32>(), any::<u32>(), -2 * ONE..2 * ONE, 1u8..4), 0..40),
        ),
        1..6,
    );
    (pops, projs).prop_map(|(pops, projs)| Spec { pops, projs })
}

fn build(s: &Spec) -> Network {
    let mut net = Network::new("prop", 1.0);
    let mut ids: Vec<(PopId, u8, u32)> = Vec::new();
    for (k, &(kind, size)) in s.pops.iter().enumerate() {
        let name = format!("p{k}");
        let id = match kind {
            0 => input(&mut net, &name, size),
            1 => generator(&mut net, &name, size),
            _ => neurons(&mut net, &name, size),
        };
        ids.push((id, kind, size));
    }
    let targets: Vec<_> = ids.iter().filter(|t| t.1 >= 2).copied().collect();
    if targets.is_empty() {
        return net;
    }
    let stdp = StdpParams {
        a_plus: ONE / 50,
        a_minus: ONE / 60,
        decay_plus: 300,
        decay_minus: 300,
        w_min: ONE / 10,
        w_max: ONE,
        pairing: Pairing::Nearest,
        bounds: Bounds::Soft,
    };
    for (a, b, kind, syn) in &s.projs {
        let (pa, _, sa) = ids[a % ids.len()];
        let (pb, _, sb) = targets[b % targets.len()];
        let kind = match kind {
            0 => SynapseKind::NonVolatile,
            1 => SynapseKind::Volatile(VolatileParams { decay: 500, gain: ONE / 3, facil: 2 * ONE }),
            _ => SynapseKind::Stdp(stdp),
        };
        let syn: Vec<_> = syn
            .iter()
            .map(|&(i, j, w, d)| {
                let w = if matches!(kind, SynapseKind::Stdp(_)) {
                    stdp.w_min + w.rem_euclid(stdp.w_max - stdp.w_min + 1)
                } else {
                    w
                };
                (i % sa, j % sb, w, d)
            })
            .collect();
        project(&mut net, pa, pb, kind, &syn);
    }
    net
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiles_and_checks_or_fails_on_capacity(
        s in spec(),
        w in 1u16..5, h in 1u16..5, rows in 2u16..48, cols in 1u16..10, entries in 2u32..40,
        levels in 2u16..40, max_delay in 2u8..6, vol in prop::bool::weighted(0.8), seed in any::<u64>(),
    ) {
        let net = build(&s);
        prop_assume!(net.verify().is_ok());
        let mut a = arch(w, h, rows, cols, entries);
        a.nonvolatile.levels = levels;
        a.tile.max_delay = max_delay;
        a.tile.volatile_nodes = vol;
        match compile(&net, &a, seed, None) {
            Ok(c) => {
                let v = fpnna_bitstream::validate(c.bitstream.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                if let Err(e) = check_placement(&c.quantized, &v) {
                    return Err(TestCaseError::fail(format!("{e:#?}")));
                }
                prop_assert!(c.quantized.verify().is_ok());
            }
            Err(e) => { prop_assert!(
                matches!(
                    e,
                    CompileError::TooManyTiles { .. }
                        | CompileError::FanInTooLarge { .. }
                        | CompileError::DelayTooLong { .. }
                        | CompileError::NodeMode { .. }
                        | CompileError::RefractoryTooLong { .. }
                        | CompileError::Unroutable { .. }
                ),
                "{}", e
            )},
        }
    }
}
