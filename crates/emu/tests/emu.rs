//! The emulator on hand-built bitstreams: hand-checked spikes, the cycle
//! model, non-idealities, state, waveforms, determinism.

use fpnna_bitstream::Bitstream;
use fpnna_emu::{DeviceOverrides, EmuError, EmuOptions, EmuState, NullObserver, Timescale, VcdObserver, VcdOptions};
use fpnna_model::{self as m, Generator, ONE};
use fpnna_testkit::emu::emulator;
use fpnna_testkit::hand::{Builder, Kind, busy, busy_stim, memoryless, stdp_profile, volatile_profile};

fn run(bs: &Bitstream, opts: EmuOptions, steps: u64, stim: &[(u64, u32)]) -> fpnna_emu::RunResult {
    emulator(bs, opts).unwrap().run(steps, stim, &mut NullObserver).unwrap()
}

/// in -> a (tile (0,0), delay 2) -> b (tile (1,1), delay 3, two hops).
fn chain() -> (Bitstream, u32, u32, u32) {
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 1, 0, 0);
    let a = b.neurons("a", 1, 0, 0, memoryless(ONE));
    let c = b.neurons("b", 1, 1, 1, memoryless(ONE));
    b.syn(inp, a, 2, 1, ONE, Kind::Static);
    b.syn(a, c, 3, 1, ONE, Kind::Static);
    b.output("out", a, 2);
    (b.build(), inp, a, c)
}

#[test]
fn chain_with_delays_through_routers() {
    let (bs, inp, a, c) = chain();
    let emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    assert!(emu.route_faults().is_empty(), "{:?}", emu.route_faults());
    assert_eq!(emu.keys("in"), Some(inp..inp + 1));
    assert_eq!(emu.keys("b"), Some(c..c + 1));
    let r = run(&bs, EmuOptions::ideal(), 20, &[(10, inp), (0, inp)]);
    assert_eq!(r.spikes, vec![(2, a), (5, c), (12, a), (15, c)]);
    let s = &r.stats;
    assert_eq!((s.spikes, s.neuron_spikes, s.synaptic_events, s.row_reads), (6, 4, 4, 4));
    // a's packets cross two links each; the input's is delivered where it enters.
    assert_eq!((s.packets, s.hops, s.deliveries), (4, 4, 4));
    assert_eq!(s.steps, 20);
    // Default timing: 1 cycle per hop, 4 rows and 16 neurons per cycle,
    // barrier 4, bandwidth 1. Idle step: 1 (update) + 4 = 5. Stimulus
    // step: the input's packet is delivered where it enters: 5 + 1 = 6.
    // a's step: 1 row + 1 update, then two hops (arrival at cycle 2) + 1:
    // 2 + 3 + 4 = 9. b's step: 2 + 0 (b has no route) + 4 = 6.
    assert_eq!((s.cycles_per_step.min, s.cycles_per_step.max), (5, 9));
    assert_eq!(s.cycles_total, 2 * 6 + 2 * 9 + 2 * 6 + 14 * 5);
    assert_eq!(s.cycles_total, (s.cycles_per_step.mean * 20.0).round() as u64);
    assert_eq!(s.tiles.iter().map(|t| t.busy_cycles).sum::<u64>(), 2 * 20 + 4);
    // The per-step series: the stimulus steps 0 and 10 cost 6, a's steps
    // 2 and 12 cost 9, b's 5 and 15 cost 6, every other step 5.
    let mut want = vec![5u64; 20];
    for (t, c) in [(0, 6), (10, 6), (2, 9), (12, 9), (5, 6), (15, 6)] {
        want[t] = c;
    }
    assert_eq!(s.per_step.cycles, want);
    let spiked: Vec<usize> = (0..20).filter(|&t| s.per_step.spikes[t] > 0).collect();
    assert_eq!(spiked, [0, 2, 5, 10, 12, 15]);
}

#[test]
fn stimulus_errors_name_the_spike() {
    let (bs, inp, a, _) = chain();
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    let e = emu.run(5, &[(1, inp), (2, a)], &mut NullObserver).unwrap_err();
    assert!(matches!(e, EmuError::Stimulus { n: 1, .. }), "{e}");
    assert!(e.to_string().contains("`a[0]` is not a channel of an input port (input ports: in)"), "{e}");
    let e = emu.run(5, &[(5, inp)], &mut NullObserver).unwrap_err();
    assert!(e.to_string().contains("beyond the last step 4"), "{e}");
}

#[test]
fn volatile_synapse_facilitates_and_relaxes_lazily() {
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 1, 0, 0);
    let n = b.neurons("n", 1, 1, 0, memoryless(6 * ONE));
    b.syn(inp, n, 1, 4, ONE, Kind::Volatile(volatile_profile()));
    let bs = b.build();
    // Second arrival at relaxation k steps later: efficacy 4 * (1 + 9 * x),
    // x = 1/4 halved k times: k = 1: 8.5, k = 2: 6.25 (fire), k = 3: 5.125.
    let cases = [(1, vec![(2, n)]), (2, vec![(3, n)]), (3, vec![]), (20, vec![])];
    for (gap, want) in cases {
        let r = run(&bs, EmuOptions::ideal(), 30, &[(0, inp), (gap, inp)]);
        assert_eq!(r.spikes, want, "gap {gap}");
    }
    let r = run(&bs, EmuOptions::ideal(), 30, &[(0, inp)]);
    assert!(r.spikes.is_empty());
}

#[test]
fn stdp_potentiates_then_depresses() {
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 2, 0, 0);
    let n = b.neurons("n", 1, 0, 1, memoryless(ONE));
    let p = stdp_profile();
    b.syn(inp, n, 1, 2, ONE / 20, Kind::Stdp(p));
    b.syn(inp + 1, n, 1, 2, ONE, Kind::Static);
    let bs = b.build();
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    // pre arrives at 1, post fires at 2, pre arrives again at 4.
    let r = emu.run(6, &[(0, inp), (1, inp + 1), (3, inp)], &mut NullObserver).unwrap();
    assert_eq!(r.spikes, vec![(2, n)]);
    let w0 = 2 * (ONE / 20);
    let w1 = m::stdp_potentiate(&p, w0, m::decay(ONE, p.decay_plus));
    let post = m::decay(m::decay(ONE, p.decay_minus), p.decay_minus);
    let w2 = m::stdp_depress(&p, w1, post);
    assert!(w1 > w0 && w2 < w1);
    let st = emu.save_state();
    let nodes: Vec<_> = st.tiles.iter().flat_map(|t| t.nodes.iter()).collect();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0].weight, w2);
    assert_eq!(r.stats.node_writes, 2);
}

#[test]
fn generators_drive_neurons() {
    let mut b = Builder::new(2, 2);
    let g = b.generator("g", 1, 1, 1, Generator::Regular { period: 3, phase: 1 });
    let pg = Generator::Poisson { p: Generator::poisson_p(200.0, 1.0), seed: 7 };
    let q = b.generator("q", 3, 0, 0, pg);
    let n = b.neurons("n", 1, 0, 0, memoryless(ONE));
    let k = b.neurons("k", 3, 1, 0, memoryless(ONE));
    b.syn(g, n, 1, 1, ONE, Kind::Static);
    for i in 0..3 {
        b.syn(q + i, k + i, 2, 1, ONE, Kind::Static);
    }
    b.output("n", n, 4);
    let bs = b.build();
    let r = run(&bs, EmuOptions::ideal(), 10, &[]);
    let of_n: Vec<u64> = r.spikes.iter().filter(|s| s.1 == n).map(|s| s.0).collect();
    assert_eq!(of_n, vec![2, 5, 8]);
    let mut want: Vec<(u64, u32)> =
        (0..8).flat_map(|t| (0..3).filter(move |&i| pg.fires(i, t)).map(move |i| (t + 2, k + i))).collect();
    want.sort_unstable();
    let of_k: Vec<(u64, u32)> = r.spikes.iter().copied().filter(|s| s.1 != n).collect();
    assert_eq!(of_k, want);
    assert!(!want.is_empty());
}

/// Four neurons on tile (0,0), each driven by its own input, all projecting
/// to tile (1,0) over the one east link.
fn fan_in(bandwidth: u16) -> (Bitstream, u32, u32) {
    let mut b = Builder::new(2, 1);
    b.bs.arch.router.link_bandwidth = bandwidth;
    b.bs.arch.router.inject_per_cycle = 4;
    let inp = b.input("in", 4, 0, 0);
    let src = b.neurons("src", 4, 0, 0, memoryless(ONE));
    let dst = b.neurons("dst", 1, 1, 0, memoryless(3 * ONE));
    for i in 0..4 {
        b.syn(inp + i, src + i, 1, 1, ONE, Kind::Static);
        b.syn(src + i, dst, 1, 1, ONE, Kind::Static);
    }
    (b.build(), inp, dst)
}

#[test]
fn congestion_costs_cycles_not_spikes() {
    let stim: Vec<(u64, u32)> = (0..4).map(|i| (0, i)).chain([(5, 0), (5, 1), (5, 2)]).collect();
    let (wide, _, dst) = fan_in(4);
    let (narrow, _, _) = fan_in(1);
    let a = run(&wide, EmuOptions::ideal(), 10, &stim);
    let b = run(&narrow, EmuOptions::ideal(), 10, &stim);
    assert_eq!(a.spikes, b.spikes);
    assert!(a.spikes.contains(&(2, dst)) && a.spikes.contains(&(7, dst)));
    assert!(b.stats.cycles_total > a.stats.cycles_total);
    assert!(b.stats.cycles_per_step.max > a.stats.cycles_per_step.max);
    assert!(b.stats.stall_cycles > a.stats.stall_cycles);
    assert_eq!(b.stats.max_link_packets_per_step, 4);
    // Four packets in one cycle on a link of bandwidth 1: three wait 1, 2, 3 cycles.
    assert_eq!(b.stats.cycles_total - a.stats.cycles_total, 3 + 2);
}

fn noisy(seed: u64) -> EmuOptions {
    EmuOptions {
        ideal: false,
        seed,
        threads: 1,
        devices: DeviceOverrides { read_noise: Some(0.05), program_error: Some(0.03), ..DeviceOverrides::default() },
        chip: None,
    }
}

#[test]
fn noise_changes_spikes_repeatably() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 200);
    let ideal = run(&bs, EmuOptions::ideal(), 200, &stim);
    assert!(ideal.spikes.len() > 50, "{} spikes", ideal.spikes.len());
    let a = run(&bs, noisy(1), 200, &stim);
    let b = run(&bs, noisy(1), 200, &stim);
    let c = run(&bs, noisy(2), 200, &stim);
    assert_ne!(a.spikes, ideal.spikes);
    assert_eq!(a.spikes, b.spikes);
    assert_eq!(serde_json::to_string(&a.stats).unwrap(), serde_json::to_string(&b.stats).unwrap());
    assert_ne!(a.spikes, c.spikes);
    // Noise options at zero are ideal, forming and stuck-at aside.
    let zero = EmuOptions {
        devices: DeviceOverrides {
            read_noise: Some(0.0),
            program_error: Some(0.0),
            forming_yield: Some(1.0),
            c2c_noise: Some(0.0),
            d2d_tau_spread: Some(0.0),
            d2d_g0_spread: Some(0.0),
            drift_nu: Some(0.0),
            ..DeviceOverrides::default()
        },
        ..noisy(1)
    };
    assert_eq!(run(&bs, zero, 200, &stim).spikes, ideal.spikes);
}

#[test]
fn faults_and_forming_failures_are_counted() {
    let (bs, inp) = busy();
    let opts = |sa0: f64, sa1: f64| EmuOptions {
        devices: DeviceOverrides {
            stuck_at_min: Some(sa0),
            stuck_at_max: Some(sa1),
            forming_yield: Some(0.9),
            program_error: Some(0.02),
            ..DeviceOverrides::default()
        },
        ..EmuOptions::default()
    };
    // About 100 formed nodes: 15 % each makes every count near certain.
    let e = emulator(&bs, opts(0.15, 0.15)).unwrap();
    let c = e.config_stats();
    assert!(c.forming_failures > 0 && c.stuck_at_min > 0 && c.stuck_at_max > 0, "{c:?}");
    assert!(c.write_pulses > c.programmed_nodes, "write-verify rewrites: {c:?}");
    assert!(c.config_cycles > 0 && c.config_energy_pj > 0.0);
    let ideal = emulator(&bs, EmuOptions::ideal()).unwrap();
    assert_eq!(ideal.config_stats().write_pulses, ideal.config_stats().programmed_nodes);
    assert_eq!(ideal.config_stats().verify_reads, 0);
    let stim = busy_stim(inp, 200);
    let r = run(&bs, opts(0.3, 0.3), 200, &stim);
    assert_ne!(r.spikes, run(&bs, EmuOptions::ideal(), 200, &stim).spikes);
}

#[test]
fn save_and_load_continue_the_run_exactly() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 200);
    let whole = run(&bs, noisy(5), 200, &stim);
    let mut a = emulator(&bs, noisy(5)).unwrap();
    let first: Vec<(u64, u32)> = stim.iter().copied().filter(|s| s.0 < 120).collect();
    let rest: Vec<(u64, u32)> = stim.iter().filter(|s| s.0 >= 120).map(|&(t, k)| (t - 120, k)).collect();
    let r1 = a.run(120, &first, &mut NullObserver).unwrap();
    let json = a.save_state().to_json();
    let mut b = emulator(&bs, noisy(5)).unwrap();
    b.load_state(&EmuState::from_json(&json).unwrap()).unwrap();
    assert_eq!(b.now(), 120);
    let r2 = b.run(80, &rest, &mut NullObserver).unwrap();
    let mut joined = r1.spikes.clone();
    joined.extend(r2.spikes.iter().map(|&(t, k)| (t + 120, k)));
    assert_eq!(joined, whole.spikes);
    assert_eq!(r1.stats.cycles_total + r2.stats.cycles_total, whole.stats.cycles_total);
    assert_eq!(EmuState::from_json(&json).unwrap(), a.save_state());
}

#[test]
fn state_mismatches_are_named() {
    let (bs, _) = busy();
    let (other, _, _, _) = chain();
    let st = emulator(&bs, EmuOptions::ideal()).unwrap().save_state();
    let mut e = emulator(&other, EmuOptions::ideal()).unwrap();
    let msg = e.load_state(&st).unwrap_err().to_string();
    assert!(msg.contains("4 tiles") && msg.contains("programs 2"), "{msg}");
    let mut st2 = emulator(&other, EmuOptions::ideal()).unwrap().save_state();
    st2.tiles[1].neurons.pop();
    let msg = e.load_state(&st2).unwrap_err().to_string();
    assert!(msg.contains("tile (1, 1): 0 neurons in the state, 1 in the bitstream"), "{msg}");
    let json = st.to_json().replace("\"version\": 1", "\"version\": 9");
    let msg = EmuState::from_json(&json).unwrap_err().to_string();
    assert!(msg.contains("version 9"), "{msg}");
    assert!(EmuState::from_json("{}").unwrap_err().to_string().contains("format"));
    // A step near 2^64 would wrap the counters of the next run.
    let mut late = emulator(&other, EmuOptions::ideal()).unwrap().save_state();
    late.step = u64::MAX - 3;
    let msg = e.load_state(&late).unwrap_err().to_string();
    assert!(msg.contains("counters could wrap"), "{msg}");
}

fn vcd_of(bs: &Bitstream, opts: EmuOptions, ts: Timescale, stim: &[(u64, u32)], steps: u64) -> Vec<u8> {
    vcd_window(bs, opts, ts, stim, steps, None)
}

fn vcd_window(
    bs: &Bitstream,
    opts: EmuOptions,
    ts: Timescale,
    stim: &[(u64, u32)],
    steps: u64,
    window: Option<std::ops::Range<u64>>,
) -> Vec<u8> {
    let mut emu = emulator(bs, opts).unwrap();
    let trace = vec![emu.keys("p0").unwrap(), emu.keys("b").unwrap_or(0..0)];
    let mut buf = Vec::new();
    let mut w = VcdObserver::new(&mut buf, &emu, &VcdOptions { timescale: ts, trace, window }).unwrap();
    emu.run(steps, stim, &mut w).unwrap();
    w.finish().unwrap();
    buf
}

#[test]
fn vcd_has_scopes_signals_and_parses() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 60);
    for (ts, unit) in [(Timescale::Steps, "1 ms"), (Timescale::Cycles, "10 ns")] {
        let buf = vcd_of(&bs, EmuOptions::ideal(), ts, &stim, 60);
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains(&format!("$timescale {unit} $end")), "{}", &text[..300]);
        let mut p = vcd::Parser::new(&buf[..]);
        let h = p.parse_header().unwrap();
        let top = h.find_scope(&["fpnna"]).expect("top scope");
        assert_eq!(top.items.len(), 5, "4 tiles and the ports");
        let ports = h.find_scope(&["fpnna", "ports"]).expect("ports scope");
        let in0 = ports.items.iter().find_map(|i| match i {
            vcd::ScopeItem::Var(v) if v.reference.ends_with("_0") => Some(v.code),
            _ => None,
        });
        let in0 = in0.expect("a wire per input channel");
        let t00 = h.find_scope(&["fpnna", "tile_0_0"]).expect("tile scope");
        let var = |name: &str| t00.items.iter().any(|i| matches!(i, vcd::ScopeItem::Var(v) if v.reference == name));
        assert!(var("p0_0") && var("p0_5") && var("p0_0_v") && var("p0_0_i") && var("link_east"));
        let any_g = t00.items.iter().any(|i| matches!(i, vcd::ScopeItem::Var(v) if v.reference.ends_with("_g_nS")));
        assert!(any_g, "p0 has volatile inputs");
        let commands: Vec<vcd::Command> = p.map(|c| c.unwrap()).collect();
        let n = commands.iter().filter(|c| matches!(c, vcd::Command::ChangeScalar(_, vcd::Value::V1))).count();
        assert!(n > 10, "{n} spike edges");
        let input_edges = commands
            .iter()
            .filter(|c| matches!(c, vcd::Command::ChangeScalar(id, vcd::Value::V1) if *id == in0))
            .count();
        assert!(input_edges > 0, "the stimulus shows on its input wire");
        // The last timestamp is the end of the run (step 60 or its last cycle).
        let last = commands.iter().rev().find_map(|c| match c {
            vcd::Command::Timestamp(t) => Some(*t),
            _ => None,
        });
        if ts == Timescale::Steps {
            assert_eq!(last, Some(60), "the last step ends at 60");
        }
    }
}

/// The (time, id) of every rising spike edge of a VCD, and its last timestamp.
fn rising_edges(buf: &[u8]) -> (Vec<(u64, vcd::IdCode)>, u64) {
    let mut p = vcd::Parser::new(buf);
    p.parse_header().unwrap();
    let (mut t, mut edges) = (0, Vec::new());
    for c in p {
        match c.unwrap() {
            vcd::Command::Timestamp(x) => t = x,
            vcd::Command::ChangeScalar(id, vcd::Value::V1) => edges.push((t, id)),
            _ => {}
        }
    }
    (edges, t)
}

#[test]
fn a_vcd_window_holds_the_full_dumps_spikes_of_its_steps_and_ends_at_its_end() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 60);
    let full = vcd_of(&bs, EmuOptions::ideal(), Timescale::Steps, &stim, 60);
    let part = vcd_window(&bs, EmuOptions::ideal(), Timescale::Steps, &stim, 60, Some(20..40));
    let (all, _) = rising_edges(&full);
    let (inside, last) = rising_edges(&part);
    let expected: Vec<_> = all.iter().copied().filter(|(t, _)| (20..40).contains(t)).collect();
    assert!(expected.len() > 10, "{} spikes in the window: too few to tell", expected.len());
    assert_eq!(inside, expected);
    assert_eq!(last, 40, "the dump ends at the window's end");
    assert!(part.len() < full.len() * 3 / 4, "{} of {} bytes", part.len(), full.len());
}

#[test]
fn threads_do_not_change_anything() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 200);
    let one = EmuOptions { threads: 1, ..noisy(9) };
    let three = EmuOptions { threads: 3, ..noisy(9) };
    let a = run(&bs, one.clone(), 200, &stim);
    let b = run(&bs, three.clone(), 200, &stim);
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    let stim = busy_stim(inp, 100);
    assert_eq!(vcd_of(&bs, one, Timescale::Cycles, &stim, 100), vcd_of(&bs, three, Timescale::Cycles, &stim, 100));
}

#[test]
fn placement_on_a_larger_grid_changes_cycles_not_spikes() {
    let (small, inp, a, c) = chain();
    let mut b = Builder::new(32, 32);
    let i2 = b.input("in", 1, 0, 0);
    let a2 = b.neurons("a", 1, 0, 0, memoryless(ONE));
    let c2 = b.neurons("b", 1, 31, 31, memoryless(ONE));
    b.syn(i2, a2, 2, 1, ONE, Kind::Static);
    b.syn(a2, c2, 3, 1, ONE, Kind::Static);
    b.output("out", a2, 2);
    let big = b.build();
    assert_eq!((i2, a2, c2), (inp, a, c));
    let stim = [(0, inp), (4, inp)];
    let r1 = run(&small, EmuOptions::ideal(), 12, &stim);
    let r2 = run(&big, EmuOptions::ideal(), 12, &stim);
    assert_eq!(r1.spikes, r2.spikes);
    assert_eq!(r2.stats.hops, 2 * 62);
    assert!(r2.stats.cycles_total > r1.stats.cycles_total);
}

#[test]
fn broken_bitstreams_are_refused_not_panicking() {
    let (bs, ..) = chain();
    let mut cases: Vec<(Bitstream, &str)> = Vec::new();
    let mut b = bs.clone();
    b.tiles[0].nodes[0].col = 9;
    cases.push((b, "node #0: column 9 out of range (the tile uses 1 columns)"));
    let mut b = bs.clone();
    b.tiles[0].params[0].decay_v = 5000;
    cases.push((b, "decay_v = 5000"));
    let mut b = bs.clone();
    b.routers[0].x = 7;
    cases.push((b, "router (7, 0): coordinates (7, 0) outside the 2x2 grid"));
    let mut b = bs.clone();
    b.tiles[0].rows[0].delay = 0;
    cases.push((b, "row 0: delay 0 outside 1..=64"));
    let mut b = bs.clone();
    b.tiles[1].nodes[0].level = 40;
    cases.push((b, "level 40 is not below arch.nonvolatile.levels = 32"));
    let mut b = bs.clone();
    b.ports[0].size = 100;
    cases.push((b, "exceed global.key_count"));
    let mut b = bs.clone();
    b.arch.router.link_bandwidth = 0;
    cases.push((b, "link_bandwidth"));
    let mut b = bs.clone();
    b.tiles[1].columns[0].key = 1;
    cases.push((b, "key 1 is also driven by"));
    let mut b = bs.clone();
    b.arch.router.table_entries = 1;
    let e = b.routers[0].entries[0];
    b.routers[0].entries.push(e);
    cases.push((b, "3 entries exceed arch.router.table_entries = 1"));
    for (b, want) in cases {
        // Validation refuses them now (the emulator used to, in its own words).
        let e = emulator(&b, EmuOptions::ideal()).err().expect(want).to_string();
        assert!(e.contains(want), "{e} (wanted {want})");
    }
}

#[test]
fn routing_faults_are_reported_once_and_drop_packets() {
    let (mut bs, inp, a, _) = chain();
    // Router (1,0) forgets key a: its packet is dropped there.
    let r = bs.routers.iter_mut().find(|r| (r.x, r.y) == (1, 0)).unwrap();
    r.entries.clear();
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    let faults: Vec<String> = emu.route_faults().iter().map(|f| f.to_string()).collect();
    assert_eq!(
        faults,
        vec![
            "router (1, 0): packet of key 1: no routing entry matches; the packet is dropped",
            "router (1, 1): packet of key 1: the tile has rows for this key, but no route delivers it here",
        ]
    );
    let r = emu.run(10, &[(0, inp), (3, inp)], &mut NullObserver).unwrap();
    assert_eq!(r.spikes, vec![(2, a), (5, a)]);
    assert_eq!(r.stats.route_faults.len(), 2);
    // A loop: (0,0) east, (1,0) west.
    let (mut bs, inp, ..) = chain();
    for r in &mut bs.routers {
        for e in &mut r.entries {
            if e.value == 1 {
                e.out = if r.x == 0 { fpnna_bitstream::dir::EAST } else { fpnna_bitstream::dir::WEST };
            }
        }
    }
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    assert!(emu.route_faults().iter().any(|f| f.what.contains("reached twice")));
    emu.run(10, &[(0, inp)], &mut NullObserver).unwrap();
}

#[test]
fn stats_serialise_with_labelled_energy() {
    let (bs, inp) = busy();
    let r = run(&bs, EmuOptions::ideal(), 50, &busy_stim(inp, 50));
    let v: serde_json::Value = serde_json::to_value(&r.stats).unwrap();
    for k in [
        "steps",
        "cycles_total",
        "cycles_per_step",
        "spikes",
        "synaptic_events",
        "packets",
        "hops",
        "row_reads",
        "energy_pj",
        "node_writes",
        "config_cycles",
        "config_energy_pj",
        "tiles",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    let e = &r.stats.energy_pj;
    assert!(e.items.iter().all(|i| !i.assumption.is_empty()));
    let sum: f64 = e.items.iter().map(|i| i.pj).sum();
    assert!((sum - e.total_pj).abs() < 1e-6 * e.total_pj.max(1.0));
    assert_eq!(r.stats.tiles.len(), 4);
    assert_eq!(r.stats.tiles.iter().map(|t| t.row_reads).sum::<u64>(), r.stats.row_reads);
    assert_eq!(r.stats.neuron_updates, 24 * 50);
    // The per-step series add up to the totals, after them in the JSON.
    let p = &r.stats.per_step;
    assert_eq!(p.cycles.len(), 50);
    assert_eq!(p.cycles.iter().sum::<u64>(), r.stats.cycles_total);
    assert_eq!(p.spikes.iter().sum::<u64>(), r.stats.spikes);
    assert_eq!(p.synaptic_events.iter().sum::<u64>(), r.stats.synaptic_events);
    let energy: f64 = p.energy_pj.iter().sum();
    assert!((energy - e.total_pj).abs() < 1e-9 * e.total_pj, "{energy} vs {}", e.total_pj);
    let text = serde_json::to_string(&r.stats).unwrap();
    assert!(text.find("\"per_step\"") > text.find("\"route_faults\""), "per_step comes last");
}

/// Random field mutations of a valid bitstream: each is either refused
/// with an error or runs; none panics (debug builds check overflow).
#[test]
fn mutated_bitstreams_never_panic() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 30);
    let mut h = 99u64;
    let mut rnd = move || {
        h = m::hash3(h, 7, 7);
        h
    };
    let (mut refused, mut ran) = (0, 0);
    for _ in 0..300 {
        let mut b = bs.clone();
        for _ in 0..1 + rnd() % 3 {
            let r = rnd();
            let t = (rnd() % b.tiles.len() as u64) as usize;
            let tile = &mut b.tiles[t];
            let v32 = rnd() as u32;
            let small = (rnd() % 70) as u16;
            let pick = |n: usize, r: u64| (r % n.max(1) as u64) as usize;
            let (ri, ni, ci) = (pick(tile.rows.len(), r), pick(tile.nodes.len(), r), pick(tile.columns.len(), r));
            match rnd() % 16 {
                0 => tile.params[0].decay_i = v32 as u16,
                1 => tile.params[0].threshold = v32 as i32,
                2 => tile.params[0].bias = v32 as i32,
                3 if !tile.volatile.is_empty() => tile.volatile[0].gain = v32 as i32,
                4 if !tile.volatile.is_empty() => tile.volatile[0].facil = v32 as i32,
                5 if !tile.stdp.is_empty() => tile.stdp[0].a_minus = v32 as i32,
                6 if !tile.stdp.is_empty() => tile.stdp[0].w_max = v32 as i32,
                7 => tile.rows[ri].key = v32 % 40,
                8 => tile.rows[ri].delay = small as u8,
                9 => tile.rows[ri].scale = v32 as i32,
                10 => tile.nodes[ni].level = small,
                11 => tile.nodes[ni].col = small % 8,
                12 => tile.columns[ci].key = v32 % 40,
                13 => {
                    let k = pick(b.routers.len(), r);
                    let rt = &mut b.routers[k];
                    let n = rt.entries.len();
                    let e = &mut rt.entries[pick(n, v32 as u64)];
                    (e.mask, e.out) = (v32 & 0xF, (small % 32) as u8);
                }
                14 => {
                    let k = pick(b.ports.len(), r);
                    let p = &mut b.ports[k];
                    (p.key_base, p.x) = (v32 % 40, small % 3);
                }
                _ => b.global.key_count = v32 % 60,
            }
        }
        match emulator(&b, noisy(3)) {
            Err(_) => refused += 1,
            Ok(mut e) => {
                ran += 1;
                let _ = e.run(30, &stim, &mut NullObserver);
                let st = e.save_state();
                e.load_state(&st).unwrap();
            }
        }
    }
    assert!(refused > 20 && ran > 20, "refused {refused}, ran {ran}");
}

#[test]
fn each_non_ideality_alone_changes_the_run_repeatably() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 200);
    let ideal = run(&bs, EmuOptions::ideal(), 200, &stim).spikes;
    let off = DeviceOverrides::all_off();
    let only: [(&str, DeviceOverrides); 8] = [
        ("program_error", DeviceOverrides { program_error: Some(0.05), ..off.clone() }),
        ("read_noise", DeviceOverrides { read_noise: Some(0.1), ..off.clone() }),
        ("drift_nu", DeviceOverrides { drift_nu: Some(0.1), ..off.clone() }),
        ("stuck_at_min", DeviceOverrides { stuck_at_min: Some(0.2), ..off.clone() }),
        ("forming_yield", DeviceOverrides { forming_yield: Some(0.8), ..off.clone() }),
        ("c2c_noise", DeviceOverrides { c2c_noise: Some(0.5), ..off.clone() }),
        ("d2d_tau_spread", DeviceOverrides { d2d_tau_spread: Some(0.3), ..off.clone() }),
        ("d2d_g0_spread", DeviceOverrides { d2d_g0_spread: Some(0.3), ..off.clone() }),
    ];
    assert_eq!(run(&bs, EmuOptions { devices: off.clone(), ..EmuOptions::default() }, 200, &stim).spikes, ideal);
    for (name, devices) in only {
        let opts = EmuOptions { devices, ..EmuOptions::default() };
        let a = run(&bs, opts.clone(), 200, &stim).spikes;
        assert_ne!(a, ideal, "{name} changed nothing");
        assert_eq!(a, run(&bs, opts, 200, &stim).spikes, "{name} is not repeatable");
    }
}

#[test]
fn selections_resolve_names_and_ranges() {
    let (bs, ..) = busy();
    let emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    let p1 = emu.keys("p1").unwrap();
    assert_eq!(emu.select("p1").unwrap(), p1.clone());
    assert_eq!(emu.select("p1[2]").unwrap(), p1.start + 2..p1.start + 3);
    assert_eq!(emu.select("p1[1..4]").unwrap(), p1.start + 1..p1.start + 4);
    for (bad, why) in [("nope", "no port or population"), ("p1[5..9]", "p1 has 6"), ("p1[x]", "index")] {
        let e = emu.select(bad).unwrap_err().to_string();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn vcd_spike_pulses_last_one_step() {
    let (mut bs, inp, ..) = chain();
    bs.global.dt_ms = 0.1;
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    let mut buf = Vec::new();
    let opts = VcdOptions { timescale: Timescale::Steps, trace: vec![emu.select("a").unwrap()], window: None };
    let mut w = VcdObserver::new(&mut buf, &emu, &opts).unwrap();
    emu.run(8, &[(0, inp)], &mut w).unwrap();
    w.finish().unwrap();
    let mut p = vcd::Parser::new(&buf[..]);
    let h = p.parse_header().unwrap();
    assert_eq!(h.timescale, Some((100, vcd::TimescaleUnit::US)));
    let a = h.find_var(&["fpnna", "tile_0_0", "a_0"]).unwrap().code;
    let b = h.find_var(&["fpnna", "tile_1_1", "b_0"]).unwrap().code;
    let av = h.find_var(&["fpnna", "tile_0_0", "a_0_v"]).unwrap().code;
    let east = h.find_var(&["fpnna", "tile_0_0", "link_east"]).unwrap().code;
    let (mut t, mut edges, mut v_at_2, mut east_at_2) = (0, Vec::new(), None, None);
    for c in p {
        match c.unwrap() {
            vcd::Command::Timestamp(x) => t = x,
            vcd::Command::ChangeScalar(id, v) if id == a || id == b => edges.push((t, id == a, v)),
            vcd::Command::ChangeReal(id, v) if id == av && t == 2 => v_at_2 = Some(v),
            vcd::Command::ChangeVector(id, v) if id == east && t == 2 => east_at_2 = Some(v.to_string()),
            _ => {}
        }
    }
    use vcd::Value::{V0, V1};
    let want = vec![(0, true, V0), (0, false, V0), (2, true, V1), (3, true, V0), (5, false, V1), (6, false, V0)];
    assert_eq!(edges, want);
    // a fired and reset to 0 at step 2; its packet took the east link.
    assert_eq!(v_at_2, Some(0.0));
    assert_eq!(east_at_2.as_deref(), Some("1"));
}

/// Two rows of weight i32::MAX arriving together with a third of weight 1
/// (a generator firing every step, which keeps the neuron busy): the sum
/// (2^32 - 1) is saturated once, so the memoryless neuron fires (a sum
/// wrapped to 32 bits would be -1).
#[test]
fn summed_input_beyond_i32_saturates() {
    let mut b = Builder::new(1, 1);
    let inp = b.input("in", 2, 0, 0);
    let g = b.generator("tick", 1, 0, 0, Generator::Regular { period: 1, phase: 0 });
    let n = b.neurons("n", 1, 0, 0, memoryless(ONE));
    b.syn(inp, n, 1, 1, i32::MAX, Kind::Static);
    b.syn(inp + 1, n, 1, 1, i32::MAX, Kind::Static);
    b.syn(g, n, 1, 1, 1, Kind::Static);
    b.output("out", n, 1);
    let bs = b.build();
    let r = run(&bs, EmuOptions::ideal(), 4, &[(0, inp), (0, inp + 1), (2, inp)]);
    assert_eq!(r.spikes, vec![(1, n), (3, n)]);
}

/// A tile whose rows are out of key order is refused with the place (an
/// arriving key selects a range of consecutive rows).
#[test]
fn rows_out_of_key_order_are_refused() {
    let mut b = Builder::new(1, 1);
    let inp = b.input("in", 2, 0, 0);
    let a = b.neurons("a", 1, 0, 0, memoryless(ONE));
    b.syn(inp + 1, a, 1, 1, ONE, Kind::Static);
    b.syn(inp, a, 1, 1, ONE, Kind::Static);
    let mut bs = b.build();
    assert!(emulator(&bs, EmuOptions::ideal()).is_ok());
    let t = &mut bs.tiles[0];
    assert_eq!(t.rows.iter().map(|r| r.key).collect::<Vec<_>>(), [inp, inp + 1], "the builder sorts rows");
    t.rows.swap(0, 1);
    let msg = emulator(&bs, EmuOptions::ideal()).err().expect("refused").to_string();
    assert!(msg.contains("row 1") && msg.contains("rows must be sorted by (key,"), "{msg}");
}

#[test]
fn reset_forgets_volatile_state_and_spikes_in_flight() {
    use fpnna_emu::Plastic;
    // A volatile node facilitated by a first spike: a second one two steps
    // later fires the neuron, unless the array was reset in between.
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 1, 0, 0);
    let n = b.neurons("n", 1, 1, 0, memoryless(6 * ONE));
    b.syn(inp, n, 1, 4, ONE, Kind::Volatile(volatile_profile()));
    let bs = b.build();
    for reset in [false, true] {
        let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
        emu.run(2, &[(0, inp)], &mut NullObserver).unwrap();
        if reset {
            let cost = emu.reset(2, Plastic::Keep).unwrap();
            assert_eq!((cost.neurons, cost.nodes_written), (1, 1), "{cost:?}");
            // One neuron-update pass and the barrier; a register write
            // per neuron and a pulse per node moved back.
            let arch = &bs.arch;
            assert_eq!(cost.cycles, 1 + u64::from(arch.timing.barrier_cycles));
            assert_eq!(cost.energy_pj, arch.energy.neuron_update_pj + arch.energy.node_write_pj);
        }
        let r = emu.run(10, &[(0, inp)], &mut NullObserver).unwrap();
        assert_eq!(r.spikes, if reset { vec![] } else { vec![(1, n)] }, "reset {reset}");
    }
    // A spike sent in the last step of a run arrives after it, unless reset.
    let (bs, inp, a, _) = chain();
    for reset in [false, true] {
        let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
        emu.run(1, &[(0, inp)], &mut NullObserver).unwrap();
        if reset {
            emu.reset(1, Plastic::Keep).unwrap();
        }
        let r = emu.run(4, &[], &mut NullObserver).unwrap();
        assert_eq!(r.spikes, if reset { vec![] } else { vec![(1, a)] }, "reset {reset}");
        // The next run starts where the reset put it.
        assert_eq!(r.first_step, 1);
    }
}

#[test]
fn reset_keeps_or_restores_learned_weights() {
    use fpnna_emu::Plastic;
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 2, 0, 0);
    let n = b.neurons("n", 1, 0, 1, memoryless(ONE));
    b.syn(inp, n, 1, 2, ONE / 20, Kind::Stdp(stdp_profile()));
    b.syn(inp + 1, n, 1, 2, ONE, Kind::Static);
    let bs = b.build();
    let weight =
        |e: &fpnna_emu::Emulator| e.save_state().tiles.iter().flat_map(|t| t.nodes.clone()).next().unwrap().weight;
    let mut emu = emulator(&bs, EmuOptions::ideal()).unwrap();
    let w0 = weight(&emu);
    emu.run(6, &[(0, inp), (1, inp + 1)], &mut NullObserver).unwrap();
    let learned = weight(&emu);
    assert_ne!(learned, w0);
    emu.reset(6, Plastic::Keep).unwrap();
    assert_eq!(weight(&emu), learned);
    let cost = emu.reset(6, Plastic::Restore).unwrap();
    assert_eq!(weight(&emu), w0);
    assert_eq!(cost.nodes_written, 1);
}

#[test]
fn stuck_crosspoints_act_on_both_devices_and_where_nothing_is_programmed() {
    use fpnna_arch::{Crosspoint, Fate, Side};
    // One driven row, two neurons: n0 has a synapse, n1 none.
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 1, 0, 0);
    let n = b.neurons("n", 2, 0, 0, memoryless(ONE));
    b.syn(inp, n, 1, 1, ONE, Kind::Static);
    let bs = b.build();
    assert_eq!((bs.tiles[0].rows.len(), bs.tiles[0].columns.len()), (1, 2));
    let (mut added, mut lost) = (0, 0);
    for seed in 1..=64 {
        let opts = EmuOptions {
            seed,
            devices: DeviceOverrides { stuck_at_max: Some(0.3), stuck_at_min: Some(0.2), ..DeviceOverrides::default() },
            ..EmuOptions::ideal()
        };
        let mut emu = emulator(&bs, opts).unwrap();
        let r = emu.run(4, &[(0, inp)], &mut NullObserver).unwrap();
        let fired = |k: u32| r.spikes.contains(&(1, n + k));
        let fate = |col: u16, side: Side| Crosspoint { x: 0, y: 0, row: 0, col }.fate(seed, side, 0.2, 0.3);
        // n1 fires when its unprogrammed crosspoint's + device is stuck at
        // G_max and its - device is not.
        let phantom = fate(1, Side::Plus) == Fate::StuckMax && fate(1, Side::Minus) != Fate::StuckMax;
        assert_eq!(fired(1), phantom, "seed {seed}");
        // n0 keeps its synapse when neither device is stuck, loses it when
        // its + device is stuck at G_min or its - device at G_max.
        let (p, m) = (fate(0, Side::Plus), fate(0, Side::Minus));
        let effective = fpnna_arch::effective_level(1.0, Side::Plus, [p, m], 31.0);
        assert_eq!(fired(0), effective >= 1.0, "seed {seed}: {p:?} {m:?}");
        let stuck_high = [fate(1, Side::Plus), fate(1, Side::Minus)].contains(&Fate::StuckMax);
        assert_eq!(emu.config_stats().stuck_unprogrammed, u64::from(stuck_high), "seed {seed}");
        added += u32::from(phantom);
        lost += u32::from(!fired(0));
    }
    // The cases occurred (about 64 x 0.3 x 0.7 and 64 x (1 - 0.5 x 0.7)).
    assert!(added >= 5 && lost >= 10, "added {added}, lost {lost}");
}

#[test]
fn a_chip_brings_its_own_defects_which_ideal_keeps() {
    use fpnna_arch::{ChipState, Crosspoint, Defect, Side};
    // As above: n1 has no synapse; the chip's measured defect gives it one.
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 1, 0, 0);
    let n = b.neurons("n", 2, 0, 0, memoryless(ONE));
    b.syn(inp, n, 1, 1, ONE, Kind::Static);
    let bs = b.build();
    let defect = Defect { at: Crosspoint { x: 0, y: 0, row: 0, col: 1 }, side: Side::Plus, high: true };
    let chip = ChipState::new(&bs.arch, 1, 0.0, 0.0, vec![defect]).unwrap();
    let spikes = |chip: Option<ChipState>| {
        let mut emu = emulator(&bs, EmuOptions { chip, ..EmuOptions::ideal() }).unwrap();
        let r = emu.run(4, &[(0, inp)], &mut NullObserver).unwrap();
        (r.spikes, emu.config_stats().stuck_unprogrammed)
    };
    assert_eq!(spikes(None), (vec![(1, n)], 0));
    assert_eq!(spikes(Some(chip.clone())), (vec![(1, n), (1, n + 1)], 1));
    // A chip of another architecture is refused.
    let mut other = chip;
    other.arch_hash ^= 1;
    let e = emulator(&bs, EmuOptions { chip: Some(other), ..EmuOptions::ideal() }).err().unwrap();
    assert!(e.contains("chip state: a chip of architecture"), "{e}");
}

#[test]
fn a_chip_remembers_what_configuring_formed_and_refuses_volatile_nodes_there() {
    use fpnna_arch::{ChipState, TileWrites};
    let with = |kind| {
        let mut b = Builder::new(2, 2);
        let inp = b.input("in", 1, 0, 0);
        let n = b.neurons("n", 1, 0, 0, memoryless(ONE));
        b.syn(inp, n, 1, 1, ONE, kind);
        b.build()
    };
    let (nv, vol) = (with(Kind::Static), with(Kind::Volatile(volatile_profile())));
    let mut chip = ChipState::new(&nv.arch, 1, 0.0, 0.0, vec![]).unwrap();
    let configure = |chip: &ChipState, bs: &Bitstream| {
        let emu = emulator(bs, EmuOptions { chip: Some(chip.clone()), ..EmuOptions::ideal() })?;
        Ok::<_, String>((emu.config_stats().clone(), emu.chip_writes().to_vec()))
    };
    let (cfg, writes) = configure(&chip, &nv).unwrap();
    assert_eq!((cfg.forming_pulses, cfg.formed_nodes, cfg.reused_nodes, cfg.write_pulses), (1, 1, 0, 1));
    assert_eq!(writes, [TileWrites { x: 0, y: 0, nodes: vec![(0, 0, 1)] }]);
    // Without a chip nothing is recorded; a volatile node is not formed.
    let emu = emulator(&nv, EmuOptions::ideal()).unwrap();
    assert!(emu.chip_writes().is_empty());
    assert!(configure(&chip, &vol).unwrap().1.is_empty());
    chip.apply("ab12".into(), 4, &writes);
    // Formed: reprogrammed only.
    let (cfg, writes) = configure(&chip, &nv).unwrap();
    assert_eq!((cfg.forming_pulses, cfg.formed_nodes, cfg.reused_nodes, cfg.write_pulses), (0, 0, 1, 1));
    chip.apply("ab12".into(), 4, &writes);
    assert_eq!(chip.formed_in(0, 0)[0].writes, 2);
    let e = configure(&chip, &vol).unwrap_err();
    assert!(
        e.contains("tile (0, 0), row line 0, column line 0") && e.contains("configuration 0 (bitstream ab12)"),
        "{e}"
    );
}

/// Gathers each step's recorded spikes as a run's result lists them.
struct Gather {
    first: u64,
    spikes: Vec<(u64, u32)>,
}

impl fpnna_emu::Observer for Gather {
    fn step(&mut self, v: &fpnna_emu::StepView<'_>) -> std::io::Result<()> {
        assert!(v.recorded.iter().all(|k| v.spikes.contains(k)), "a recorded spike that did not happen");
        self.spikes.extend(v.recorded.iter().map(|&k| (v.step - self.first, k)));
        Ok(())
    }
}

#[test]
fn a_streamed_run_shows_the_spikes_step_by_step_and_keeps_none() {
    let (bs, inp) = busy();
    let stim = busy_stim(inp, 200);
    let kept = run(&bs, noisy(3), 200, &stim);
    assert!(kept.spikes.len() > 50, "{} spikes: too few to tell", kept.spikes.len());
    let mut emu = emulator(&bs, noisy(3)).unwrap();
    let mut g = Gather { first: emu.now(), spikes: Vec::new() };
    let streamed = emu.run_streamed(200, &stim, &mut g).unwrap();
    assert!(streamed.spikes.is_empty());
    assert_eq!(g.spikes, kept.spikes);
    assert_eq!(serde_json::to_value(&streamed.stats).unwrap(), serde_json::to_value(&kept.stats).unwrap());
}
