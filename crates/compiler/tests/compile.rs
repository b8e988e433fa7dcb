//! End-to-end tests of the compiler on networks built in code.

use fpnna_bitstream::{Node, PortKind, Row, RowKind, dir};
use fpnna_compiler::{CompileError, Progress, check_placement, compile, quantize};
use fpnna_ir::{Network, SynapseKind};
use fpnna_model::{Bounds, ONE, Pairing, StdpParams, VolatileParams};
use fpnna_testkit::ir::*;

fn tiny() -> Network {
    let mut net = Network::new("tiny", 1.0);
    let i = input(&mut net, "in", 2);
    let a = neurons(&mut net, "a", 3);
    project(
        &mut net,
        i,
        a,
        SynapseKind::NonVolatile,
        &[(0, 0, ONE, 1), (1, 0, -ONE / 2, 1), (0, 1, ONE / 4, 2), (0, 2, ONE, 1)],
    );
    net
}

/// The compiler's bitstream, validated (the checker's input).
fn valid(b: &fpnna_bitstream::Bitstream) -> fpnna_bitstream::Validated {
    fpnna_bitstream::validate(b.clone()).unwrap_or_else(|e| panic!("invalid bitstream: {e}"))
}

fn compile_ok(net: &Network, arch: &fpnna_arch::Arch, seed: u64) -> fpnna_compiler::Compiled {
    let c = compile(net, arch, seed, None).unwrap_or_else(|e| panic!("compile failed: {e}"));
    if let Err(errs) = check_placement(&c.quantized, &valid(&c.bitstream)) {
        panic!("check_placement: {errs:#?}");
    }
    c
}

#[test]
fn tiny_network_compiles_to_the_hand_checked_bitstream() {
    let mut a = arch(4, 4, 64, 32, 16);
    a.nonvolatile.levels = 5;
    let c = compile_ok(&tiny(), &a, 1);
    let bs = &c.bitstream;
    assert_eq!(bs.global.key_count, 5);
    assert_eq!(bs.tiles.len(), 1);
    let t = &bs.tiles[0];
    assert_eq!((t.x, t.y), (1, 1), "the snake start centres one tile");
    assert_eq!(t.columns.iter().map(|c| (c.key, c.v_init)).collect::<Vec<_>>(), vec![(2, 0), (3, 1), (4, 2)]);
    assert_eq!(t.params, vec![lif()]);
    // scale = ceil(65536 / 4) = 16384; rows sorted by (key, delay, negative)
    let row = |key, delay, negative| Row { key, delay, negative, kind: RowKind::NonVolatile, scale: ONE / 4 };
    assert_eq!(t.rows, vec![row(0, 1, false), row(0, 2, false), row(1, 1, true)]);
    let node = |row, col, level| Node { row, col, level };
    assert_eq!(t.nodes, vec![node(0, 0, 4), node(0, 2, 4), node(1, 1, 1), node(2, 0, 2)]);
    // Both keys are delivered locally: one entry covers them.
    assert_eq!(bs.routers.len(), 1);
    assert_eq!(bs.routers[0].entries.len(), 1);
    assert_eq!(bs.routers[0].entries[0].out, dir::LOCAL);
    let ports: Vec<_> = bs.ports.iter().map(|p| (p.name.as_str(), p.kind.clone(), p.x, p.y)).collect();
    assert_eq!(ports, vec![("in", PortKind::Input, 1, 1), ("a", PortKind::Output, 1, 1)]);
    let syms: Vec<_> = bs.symbols.iter().map(|s| (s.name.as_str(), s.key_base, s.size, s.kind.as_str())).collect();
    assert_eq!(syms, vec![("in", 0, 2, "input"), ("a", 2, 3, "lif")]);
    let r = &c.report;
    assert_eq!((r.tiles_used, r.neurons, r.synapses, r.rows_used), (1, 3, 4, 3));
    assert_eq!((r.nodes_nonvolatile, r.nodes_volatile), (4, 0));
    assert_eq!(r.quantization_max_error, 0.0);
    assert_eq!((r.total_hops, r.max_hops, r.route_iterations), (0, 0, 1));
}

#[test]
fn quantization_rounds_per_projection_and_reports_the_error() {
    let mut net = tiny();
    let a = net.pop_by_name("a").unwrap();
    let i = net.pop_by_name("in").unwrap();
    // 1.0 and 0.3 at 5 levels: scale 0.25, 0.3 -> level 1 (0.25), error 0.05
    project(&mut net, i, a, SynapseKind::NonVolatile, &[(1, 1, ONE, 1), (1, 2, (0.3 * ONE as f64) as i32, 1)]);
    let mut arch = arch(4, 4, 64, 32, 16);
    arch.nonvolatile.levels = 5;
    let (q, rep) = quantize(&net, &arch).unwrap();
    let p = q.proj(fpnna_ir::ProjId(1));
    assert_eq!(p.syn.weight, vec![ONE, ONE / 4]);
    assert_eq!(rep.projections[1].scale, ONE / 4);
    assert!((rep.max_abs_error - 0.05).abs() < 1e-4, "{}", rep.max_abs_error);
    assert!((rep.max_rel_error - 0.05 / 0.3).abs() < 1e-3);
    assert!(rep.warnings.is_empty());
}

#[test]
fn quantization_warns_about_weights_that_vanish() {
    let mut net = tiny();
    let (i, a) = (net.pop_by_name("in").unwrap(), net.pop_by_name("a").unwrap());
    project(&mut net, i, a, SynapseKind::NonVolatile, &[(1, 1, 100 * ONE, 1), (1, 2, 1, 1)]);
    let (_, rep) = quantize(&net, &arch(4, 4, 64, 32, 16)).unwrap();
    assert_eq!((rep.projections[1].zeroed, rep.zeroed), (1, 1));
    assert!(rep.warnings[0].contains("quantized to level 0"), "{:?}", rep.warnings);
    // The vanished weight is counted, not read as a 100 % relative error
    // (the kept one rounds within half a level of 31).
    assert!(rep.max_rel_error < 0.05, "{}", rep.max_rel_error);
    // RMS over both: dominated by the big one's rounding, the tiny one's loss negligible.
    assert!(rep.rms_rel_error < 0.05 && rep.rms_rel_error > 0.0, "{}", rep.rms_rel_error);
}

#[test]
fn a_population_wider_than_a_tile_is_split() {
    let net = layered(&[3, 10]);
    let c = compile_ok(&net, &arch(4, 4, 64, 4, 64), 3);
    assert_eq!(c.report.tiles_used, 3);
    assert_eq!(c.bitstream.tiles.iter().map(|t| t.columns.len()).sum::<usize>(), 10);
    // every tile needs the 3 input keys
    assert!(c.report.tiles.iter().all(|t| t.rows == 3));
    assert_eq!(c.report.fanout_total, 9);
}

#[test]
fn rows_limit_splits_tiles_by_fan_in() {
    // 4 neurons with disjoint fan-in of 3 each; tiles of 6 rows hold 2 neurons
    let mut net = Network::new("fanin", 1.0);
    let i = input(&mut net, "in", 12);
    let p = neurons(&mut net, "p", 4);
    let syn: Vec<_> = (0..12).map(|k| (k, k / 3, ONE, 1)).collect();
    project(&mut net, i, p, SynapseKind::NonVolatile, &syn);
    let c = compile_ok(&net, &arch(4, 4, 6, 32, 64), 0);
    assert_eq!(c.report.tiles_used, 2);
    assert_eq!(c.report.rows_used, 12);
}

#[test]
fn volatile_and_stdp_rows_get_profiles_and_volatile_nodes() {
    let mut net = tiny();
    let (i, a) = (net.pop_by_name("in").unwrap(), net.pop_by_name("a").unwrap());
    let vp = VolatileParams { decay: 100, gain: ONE / 4, facil: ONE };
    let sp = StdpParams {
        a_plus: ONE / 100,
        a_minus: ONE / 100,
        decay_plus: 200,
        decay_minus: 200,
        w_min: 0,
        w_max: ONE,
        pairing: Pairing::AllToAll,
        bounds: Bounds::Hard,
        relax: 0,
    };
    project(&mut net, i, a, SynapseKind::Volatile(vp), &[(0, 0, ONE, 1), (1, 1, -ONE, 3)]);
    project(&mut net, i, a, SynapseKind::Stdp(sp), &[(0, 0, ONE / 2, 1)]);
    let c = compile_ok(&net, &arch(4, 4, 64, 32, 16), 0);
    let t = &c.bitstream.tiles[0];
    assert_eq!(t.volatile, vec![vp]);
    // the architecture's retention, bound at compile time
    let relax = fpnna_model::relax_from_tau(arch(4, 4, 64, 32, 16).volatile.retention_ms, net.dt_ms);
    assert!(relax > 0);
    assert_eq!(t.stdp, vec![StdpParams { relax, ..sp }]);
    assert_eq!((c.report.nodes_volatile, c.report.nodes_nonvolatile), (3, 4));
    // (key 0, delay 1, +): non-volatile, volatile, STDP rows, in kind order
    let kinds: Vec<_> = t.rows.iter().filter(|r| r.key == 0 && r.delay == 1).map(|r| r.kind).collect();
    assert_eq!(kinds, vec![RowKind::NonVolatile, RowKind::Volatile(0), RowKind::Stdp(0)]);
}

#[test]
fn duplicate_synapses_get_their_own_rows() {
    let mut net = Network::new("dup", 1.0);
    let i = input(&mut net, "in", 1);
    let p = neurons(&mut net, "p", 1);
    project(&mut net, i, p, SynapseKind::NonVolatile, &[(0, 0, ONE, 1), (0, 0, ONE, 1)]);
    let c = compile_ok(&net, &arch(2, 2, 8, 8, 8), 0);
    assert_eq!(c.bitstream.tiles[0].rows.len(), 2);
}

#[test]
fn layered_tables_compress() {
    let net = layered(&[32, 32, 32, 32]);
    let c = compile_ok(&net, &arch(4, 4, 64, 8, 64), 7);
    assert!(c.report.table_entries_total < c.report.table_entries_uncompressed / 4, "{:#?}", c.report);
}

#[test]
fn random_networks_compile_and_check() {
    for seed in 0..4 {
        let net = random_net(120, 10, 6, seed);
        compile_ok(&net, &arch(8, 8, 64, 8, 256), seed);
    }
}

#[test]
fn annealing_beats_a_random_placement() {
    let nets = [random_net(200, 20, 4, 1), layered(&[16, 40, 40, 40, 16]), random_net(300, 5, 2, 2)];
    for net in &nets {
        let c = compile_ok(net, &arch(8, 8, 64, 8, 4096), 11);
        let r = &c.report;
        assert!(
            r.placement_cost_final < r.placement_cost_random,
            "{} vs {}",
            r.placement_cost_final,
            r.placement_cost_random
        );
        assert!(r.placement_cost_final <= r.placement_cost_initial);
        assert!(r.placement_cost_final >= r.placement_cost_lower_bound);
        assert!(r.placement.moves > 0);
    }
}

#[test]
fn same_seed_same_bitstream_and_report() {
    let net = random_net(150, 10, 5, 9);
    let a = arch(8, 8, 64, 8, 256);
    let (x, y) = (compile_ok(&net, &a, 42), compile_ok(&net, &a, 42));
    assert_eq!(x.bitstream, y.bitstream);
    let json = |c: &fpnna_compiler::Compiled| {
        let mut r = c.report.clone();
        r.timings = Default::default();
        serde_json::to_string(&r).unwrap()
    };
    assert_eq!(json(&x), json(&y));
    // The seed matters: another seed anneals differently.
    let z = compile_ok(&net, &a, 43);
    assert_ne!(x.bitstream, z.bitstream);
}

#[test]
fn progress_names_every_stage() {
    let seen = std::cell::RefCell::new(Vec::new());
    let f = |p: Progress<'_>| {
        if let Progress::Stage(s) = p {
            seen.borrow_mut().push(s.to_string())
        }
    };
    compile(&tiny(), &arch(4, 4, 64, 32, 16), 0, Some(&f)).unwrap();
    assert_eq!(*seen.borrow(), vec!["quantize", "partition", "place", "route", "bitgen"]);
}

#[test]
fn progress_tells_every_temperature_and_route_iteration_of_the_report() {
    let (temps, iters) = (std::cell::Cell::new(0u32), std::cell::RefCell::new(Vec::new()));
    let f = |p: Progress<'_>| match p {
        Progress::Temperature { index, .. } => {
            assert_eq!(index, temps.get() + 1, "temperatures are counted from 1 in order");
            temps.set(index);
        }
        Progress::Route(it) => iters.borrow_mut().push(it.clone()),
        Progress::Stage(_) => {}
    };
    // Tables of 20 entries: the router needs several iterations.
    let c = compile(&random_net(64, 8, 3, 1), &arch(6, 6, 64, 4, 20), 1, Some(&f)).unwrap();
    assert!(temps.get() > 0);
    assert_eq!(temps.get(), c.report.placement.temperatures);
    // Every iteration after the dimension-ordered baseline is told.
    assert!(c.report.route_history.len() > 1, "the case needs PathFinder");
    assert_eq!(*iters.borrow(), c.report.route_history[1..]);
}

#[test]
fn report_summary_and_json_carry_the_keys() {
    let c = compile_ok(&layered(&[4, 8, 4]), &arch(4, 4, 64, 4, 64), 0);
    let v = serde_json::to_value(&c.report).unwrap();
    for k in [
        "tiles_used",
        "neurons",
        "synapses",
        "rows_used",
        "nodes_volatile",
        "nodes_nonvolatile",
        "quantization_max_error",
        "placement_cost_initial",
        "placement_cost_final",
        "route_iterations",
        "total_hops",
        "max_hops",
        "max_link_load",
        "max_table_entries",
        "tiles",
        "seed",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    // Wall-clock times would make identical runs write different reports.
    assert!(v.get("timings").is_none());
    let text = c.report.to_string();
    assert!(text.contains("tiles     : 3 of 16 used"), "{text}");
}

// ---- error messages ----

fn err(net: &Network, a: &fpnna_arch::Arch) -> String {
    match compile(net, a, 0, None) {
        Ok(_) => panic!("compile succeeded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn delay_beyond_the_tile_names_the_projection() {
    let mut a = arch(4, 4, 64, 32, 16);
    a.tile.max_delay = 1;
    let e = err(&tiny(), &a);
    assert_eq!(
        e,
        "projection `in -> a #0`: delay 2 exceeds the tile's max_delay 1; shorten the delay or use an architecture with tile.max_delay >= 2"
    );
}

#[test]
fn fan_in_beyond_a_tile_says_by_how_much() {
    let e = err(&tiny(), &arch(4, 4, 1, 32, 16));
    assert_eq!(
        e,
        "neuron a[0] needs 2 rows (one per incoming synapse), 1 more than a tile's 1; most come from projection `in -> a #0` (2); reduce its fan-in or use an architecture with tile.rows >= 2"
    );
}

#[test]
fn too_many_neurons_suggests_a_larger_preset() {
    let e = err(&layered(&[2, 9]), &arch(2, 1, 64, 4, 16));
    assert_eq!(
        e,
        "9 neurons need 3 tiles (tiles hold 4 neurons and 64 rows) but the grid has 2; use a larger preset (e.g. `large`) or a larger grid"
    );
}

#[test]
fn missing_node_mode_is_named() {
    let mut net = tiny();
    let (i, p) = (net.pop_by_name("in").unwrap(), net.pop_by_name("a").unwrap());
    project(&mut net, i, p, SynapseKind::Volatile(VolatileParams { decay: 1, gain: 1, facil: 1 }), &[(0, 0, 1, 1)]);
    let mut a = arch(4, 4, 64, 32, 16);
    a.tile.volatile_nodes = false;
    assert_eq!(
        err(&net, &a),
        "projection `in -> a #1` is volatile and needs volatile nodes, but this architecture's tiles have none; enable tile.volatile_nodes or change the synapse kind"
    );
}

#[test]
fn overflowing_tables_fail_with_the_congested_routers() {
    let net = random_net(60, 4, 8, 5);
    let e = err(&net, &arch(8, 8, 64, 2, 1));
    assert!(e.starts_with("routing failed after "), "{e}");
    assert!(e.contains("router(s) need more than 1 table entries"), "{e}");
    assert!(e.contains("needs "), "{e}");
    assert!(e.contains("busiest link ("), "{e}");
    assert!(e.ends_with("use a larger preset, raise router.table_entries, or try another seed"), "{e}");
}

#[test]
fn invalid_networks_are_refused() {
    let mut net = tiny();
    let (i, p) = (net.pop_by_name("in").unwrap(), net.pop_by_name("a").unwrap());
    project(&mut net, i, p, SynapseKind::NonVolatile, &[(7, 0, 1, 1)]);
    let e = err(&net, &arch(4, 4, 64, 32, 16));
    assert!(e.starts_with("invalid network: projection `in -> a #1`"), "{e}");
    assert!(matches!(quantize(&net, &arch(4, 4, 64, 32, 16)), Err(CompileError::InvalidNetwork(_))));
}

// ---- the checker catches what it should ----

#[test]
fn checker_catches_corrupted_bitstreams() {
    let c = compile_ok(&random_net(40, 4, 4, 3), &arch(4, 4, 64, 8, 256), 0);
    let q = &c.quantized;
    let mut b = c.bitstream.clone();
    b.tiles[0].nodes[0].level ^= 1;
    let errs = check_placement(q, &valid(&b)).unwrap_err();
    assert!(errs.iter().any(|e| e.contains(": no node")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains(": no such synapse")), "{errs:?}");
    let mut b = c.bitstream.clone();
    b.tiles[0].nodes.pop();
    assert!(check_placement(q, &valid(&b)).is_err());
    let mut b = c.bitstream.clone();
    let r = b.routers.iter_mut().find(|r| r.entries.iter().any(|e| e.out & dir::LOCAL != 0)).unwrap();
    for e in &mut r.entries {
        e.out &= !dir::LOCAL;
    }
    assert!(check_placement(q, &valid(&b)).unwrap_err().iter().any(|e| e.contains("not delivered")));
    let mut b = c.bitstream.clone();
    b.arch.tile.rows = 1;
    // Capacities are validation's rules (the checker takes a validated bitstream).
    let e = fpnna_bitstream::validate(b).unwrap_err().to_string();
    assert!(e.contains("rows exceed arch.tile.rows = 1"), "{e}");
    let mut b = c.bitstream.clone();
    b.arch.router.table_entries = 0;
    let e = fpnna_bitstream::validate(b).unwrap_err().to_string();
    assert!(e.contains("table_entries"), "{e}");
    // The unquantized network is not what the hardware computes.
    let orig = random_net(40, 4, 4, 3);
    assert!(check_placement(&orig, &valid(&c.bitstream)).is_err());
}

#[test]
fn pathfinder_resolves_overflows_the_dimension_ordered_baseline_leaves() {
    let c = compile_ok(&random_net(64, 8, 3, 1), &arch(6, 6, 64, 4, 20), 1);
    let h = &c.report.route_history;
    assert!(h.len() > 1 && h[0].total_overuse > 0, "{h:?}");
    assert_eq!(h.last().unwrap().total_overuse, 0);
    assert!(h[1..].iter().all(|i| i.rerouted > 0));
    assert!(c.report.max_table_entries <= 20);
}

#[test]
fn an_impossible_architecture_is_refused_not_a_panic() {
    let mut a = arch(4, 4, 64, 32, 16);
    a.nonvolatile.levels = 0;
    assert!(err(&tiny(), &a).starts_with("invalid architecture: <arch small>: `nonvolatile.levels` = 0"));
}

#[test]
fn too_many_neurons_on_a_large_grid_suggests_a_larger_architecture() {
    let e = err(&layered(&[2, 2000]), &arch(32, 32, 64, 1, 16));
    assert!(
        e.starts_with("2000 neurons need 2000 tiles (tiles hold 1 neurons and 64 rows) but the grid has 1024;"),
        "{e}"
    );
    assert!(e.ends_with("use an architecture with a larger grid, or more rows per tile if the fan-in of the neurons limits how many share a tile"));
}

#[test]
fn generators_and_inputs_are_injected_at_the_median_of_their_tiles() {
    // 3 tiles of 2 neurons; the generator drives all of them, the input
    // only the last one.
    let mut net = Network::new("ports", 1.0);
    let g = generator(&mut net, "gen", 1);
    let i = input(&mut net, "in", 1);
    let p = neurons(&mut net, "p", 6);
    project(&mut net, g, p, SynapseKind::NonVolatile, &(0..6).map(|k| (0, k, ONE, 1)).collect::<Vec<_>>());
    project(&mut net, i, p, SynapseKind::NonVolatile, &[(0, 5, ONE, 1)]);
    let c = compile_ok(&net, &arch(4, 4, 64, 2, 16), 0);
    let tile_of = |key: u32| {
        let t = c.bitstream.tiles.iter().find(|t| t.columns.iter().any(|c| c.key == key)).unwrap();
        (t.x, t.y)
    };
    let port = |name: &str| c.bitstream.ports.iter().find(|p| p.name == name && p.kind != PortKind::Output).unwrap();
    assert!(matches!(port("gen").kind, PortKind::Generator(_)));
    // the median of the three tiles, axis by axis
    let tiles: Vec<_> = (2..8).step_by(2).map(tile_of).collect();
    let mut xs: Vec<_> = tiles.iter().map(|t| t.0).collect();
    let mut ys: Vec<_> = tiles.iter().map(|t| t.1).collect();
    xs.sort();
    ys.sort();
    assert_eq!((port("gen").x, port("gen").y), (xs[1], ys[1]));
    assert_eq!((port("in").x, port("in").y), tile_of(7));
    let syms: Vec<_> = c.bitstream.symbols.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(syms, vec!["regular", "input", "lif"]);
}

#[test]
fn refractory_beyond_the_circuit_names_the_population() {
    let mut a = arch(4, 4, 64, 32, 16);
    a.neuron.max_refractory = 0;
    assert_eq!(
        err(&tiny(), &a),
        "population `a`: refractory period 1 exceeds the neuron circuit's max_refractory 0; shorten it or use an architecture with neuron.max_refractory >= 1"
    );
}
