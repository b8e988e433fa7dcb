//! The reference simulator against docs/semantics.md, on tiny networks whose
//! spike steps are computed by hand. Each comment gives the arithmetic (Q16:
//! 1.0 = 65536; decays are fractions of 4096) and says which phase order or
//! rule a different answer would betray.
//!
//! Neurons here are mostly `if` (no leak: v := v + i + bias) with
//! `decay_i = 1` (i is exactly this step's input), so that v is a plain
//! running sum.

use fpnna_dsl::{Options, SourceMap, elaborate, parse};
use fpnna_ir::Network;
use fpnna_sim::{SimError, SimResult, Spike, simulate};

/// Elaborates a source text.
fn net(src: &str) -> Network {
    let (file, diags) = parse(src);
    assert!(diags.is_empty(), "{diags:?}");
    let mut map = SourceMap::default();
    map.add("test.fpn".into(), src.into());
    elaborate(&file.items, &map, &Options::default()).unwrap_or_else(|d| panic!("{d:?}"))
}

/// Runs `steps` steps with spikes `(input port, index, step)`.
fn run(net: &Network, steps: u64, stimulus: &[(&str, u32, u64)]) -> SimResult {
    let stim: Vec<Spike> = stimulus
        .iter()
        .map(|&(name, index, step)| Spike { step, pop: net.pop_by_name(name).expect(name), index })
        .collect();
    simulate(net, steps, &stim).expect("simulation")
}

/// The steps at which neuron `index` of `pop` spiked.
fn steps_of(net: &Network, r: &SimResult, pop: &str, index: u32) -> Vec<u64> {
    let id = net.pop_by_name(pop).expect(pop);
    r.spikes.iter().filter(|s| s.pop == id && s.index == index).map(|s| s.step).collect()
}

#[test]
fn a_delay_d_synapse_delivers_exactly_d_steps_later_and_the_ring_wraps() {
    let n = net("network n {
        input a[1];
        population p1[1] : if { decay_i = 1 };
        population p5[1] : if { decay_i = 1 };
        population p64[1] : if { decay_i = 1 };
        connect a -> p1 : one_to_one delay 1;
        connect a -> p5 : one_to_one delay 5;
        connect a -> p64 : one_to_one delay 64;
    }");
    // Sent at 3 and 70: arrive at 3 + d and 70 + d, and each neuron fires
    // in the step its input arrives (phase 3 before phase 4). Step 70 + 64
    // reuses the ring slots of earlier steps.
    let r = run(&n, 140, &[("a", 0, 3), ("a", 0, 70)]);
    assert_eq!(steps_of(&n, &r, "p1", 0), [4, 71]);
    assert_eq!(steps_of(&n, &r, "p5", 0), [8, 75]);
    assert_eq!(steps_of(&n, &r, "p64", 0), [67, 134]);
}

#[test]
fn a_neuron_spike_is_sent_in_the_step_it_fires_one_synapse_per_delay() {
    let n = net("network n {
        input a[1];
        population p[1] : if { decay_i = 1 };
        population q[1] : if { decay_i = 1 };
        connect a -> p : one_to_one;
        connect p -> q : one_to_one delay 2;
    }");
    // a at 0 -> p fires at 1 (phase 4), sent in phase 6 of step 1 -> q at 3.
    let r = run(&n, 10, &[("a", 0, 0)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [1]);
    assert_eq!(steps_of(&n, &r, "q", 0), [3]);
}

#[test]
fn input_below_the_threshold_accumulates_until_the_step_it_crosses() {
    let n = net("network n {
        input a[1];
        population p[1] : if { decay_i = 1 };
        connect a -> p : one_to_one weight 0.4;
    }");
    // w = round(0.4 * 65536) = 26214; arrivals at 1, 2, 3:
    // v = 26214, 52428, 78642 >= 65536: the third fires.
    let r = run(&n, 8, &[("a", 0, 0), ("a", 0, 1), ("a", 0, 2)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [3]);
}

#[test]
fn a_potential_equal_to_the_threshold_fires_and_bias_is_added_every_step() {
    let n = net("network n { population p[1] : if { decay_i = 1, bias = 0.25 }; }");
    // v = 0.25 (t + 1) after step t; v = 1.0 = threshold at t = 3 fires
    // (v >= threshold, not >), reset to 0, again at 7 and 11.
    let r = run(&n, 12, &[]);
    assert_eq!(steps_of(&n, &r, "p", 0), [3, 7, 11]);
}

#[test]
fn reset_to_zero_forgets_the_excess_and_reset_by_subtraction_keeps_it() {
    let n = net("network n {
        input a[1];
        population z[1] : if { decay_i = 1, reset = zero };
        population s[1] : if { decay_i = 1, reset = subtract };
        connect a -> z : one_to_one weight 0.6;
        connect a -> s : one_to_one weight 0.6;
    }");
    // w = round(0.6 * 65536) = 39322, arriving at steps 1..=7.
    // zero:     39322, 78644 fire -> 0, 39322, 78644 fire, ...: 2, 4, 6.
    // subtract: 39322, 78644 fire -> 13108, 52430, 91752 fire -> 26216,
    //           65538 fire -> 2, 39324, 78646 fire: 2, 4, 5, 7.
    let stim: Vec<_> = (0..7).map(|t| ("a", 0, t)).collect();
    let r = run(&n, 8, &stim);
    assert_eq!(steps_of(&n, &r, "z", 0), [2, 4, 6]);
    assert_eq!(steps_of(&n, &r, "s", 0), [2, 4, 5, 7]);
}

#[test]
fn a_refractory_neuron_skips_exactly_refractory_steps_and_loses_their_input() {
    let n = net("network n {
        input a[1];
        population p[1] : if { decay_i = 1, refractory = 2 };
        connect a -> p : one_to_one weight 1.5;
    }");
    // 1.5 arrives at every step 1..=8. Fires at 1 (refr := 2); steps 2 and
    // 3 count refr down to 0 without a spike and without charging v; step 4
    // fires again from v = 0: 1, 4, 7.
    let stim: Vec<_> = (0..8).map(|t| ("a", 0, t)).collect();
    let r = run(&n, 9, &stim);
    assert_eq!(steps_of(&n, &r, "p", 0), [1, 4, 7]);
}

#[test]
fn v_min_floors_the_potential_so_inhibition_cannot_push_it_below() {
    let n = net("network n {
        input inh[1];
        input exc[1];
        population floored[1] : if { decay_i = 1, v_min = 0 };
        population free[1] : if { decay_i = 1 };
        connect inh -> floored : one_to_one weight -5;
        connect inh -> free : one_to_one weight -5;
        connect exc -> floored : one_to_one weight 0.6;
        connect exc -> free : one_to_one weight 0.6;
    }");
    // -5 at step 1: floored v = max(-5, 0) = 0; free v = -5. Then 0.6 at
    // 2 and 3: floored 0.6, 1.2 fires at 3; free -3.8 never fires.
    let r = run(&n, 6, &[("inh", 0, 0), ("exc", 0, 1), ("exc", 0, 2)]);
    assert_eq!(steps_of(&n, &r, "floored", 0), [3]);
    assert_eq!(steps_of(&n, &r, "free", 0), Vec::<u64>::new());
}

#[test]
fn the_membrane_decays_before_this_steps_current_is_added() {
    let n = net("network n {
        input a[1];
        population p[1] : lif { decay_i = 1, decay_v = 0.5 };
        connect a -> p : one_to_one weight 0.6;
    }");
    // decay_v = 2048: v := v / 2 + i. With i = 39322 at steps 1, 2, 3:
    // v = 39322, 19661 + 39322 = 58983, 29491 + 39322 = 68813 fires at 3.
    // (Decaying after the addition would converge to 39322 and never fire;
    // no decay would fire at 2.)
    let stim: Vec<_> = (0..3).map(|t| ("a", 0, t)).collect();
    let r = run(&n, 6, &stim);
    assert_eq!(steps_of(&n, &r, "p", 0), [3]);
}

#[test]
fn the_synaptic_current_decays_and_keeps_charging_the_membrane() {
    let n = net("network n {
        input a[1];
        population p[1] : if { decay_i = 0.5, threshold = 1.75 };
        connect a -> p : one_to_one weight 1;
    }");
    // One arrival of 1.0 at step 1; i := i / 2 + input:
    // i = 65536, 32768, 16384; v = 65536, 98304, 114688 = 1.75 fires at 3.
    let r = run(&n, 6, &[("a", 0, 0)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [3]);
}

#[test]
fn a_steps_input_is_summed_exactly_then_saturated_once() {
    let n = net("network n {
        input a[3];
        population p[1] : if { decay_i = 1, threshold = 29999 };
        connect a -> p : sparse([[0, 0, 30000], [1, 0, 30000], [2, 0, -30000]]);
    }");
    // Arriving together at step 1: the exact sum 30000 >= 29999 fires.
    // Saturating after each addition (30000 + 30000 -> 32768 - 2^-16, then
    // - 30000 = 2768) would not.
    let r = run(&n, 3, &[("a", 0, 0), ("a", 1, 0), ("a", 2, 0)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [1]);
}

#[test]
fn a_regular_source_fires_at_its_phase_then_every_period() {
    let n = net("network n {
        source g[1] : regular { period = 3, phase = 1 };
        population p[1] : if { decay_i = 1 };
        connect g -> p : one_to_one delay 1;
    }");
    // g fires at 1, 4, 7 (phase 6, t >= phase and (t - phase) % 3 == 0);
    // p one step later.
    let r = run(&n, 9, &[]);
    assert_eq!(steps_of(&n, &r, "p", 0), [2, 5, 8]);
    assert_eq!(r.counts[n.pop_by_name("g").unwrap().0 as usize], 3);
}

/// A post neuron `p` driven by `b` (non-volatile, 1.0) and by `a` through
/// one STDP synapse whose traces never decay.
const STDP: &str = "network n {
    input a[1];
    input b[1];
    population p[1] : if { decay_i = 1 };
    connect b -> p : one_to_one weight 1;
    connect a -> p : one_to_one weight W stdp {
        a_plus = AP, a_minus = 0.5, decay_plus = 0, decay_minus = 0, w_min = 0, w_max = 1
    };
}";

fn stdp_net(w: &str, a_plus: &str) -> Network {
    net(&STDP.replace("AP", a_plus).replace('W', w))
}

#[test]
fn a_pre_spike_arriving_with_a_post_spike_potentiates_and_does_not_depress() {
    let n = stdp_net("0.5", "0.5");
    // Step 1: a and b arrive. Phase 2: input += 0.5, depress with post
    // trace 0 (no change), pre trace := 1.0. p fires (1.5). Phase 5:
    // w := 0.5 + 0.5 * 1.0 = 1.0, post trace := 1.0.
    // Step 5: a alone: input += w = 1.0 fires. Had potentiation run before
    // the pre trace was bumped (or depression after the post trace was),
    // w would be 0.5 or 0 and step 5 would not fire.
    let r = run(&n, 8, &[("a", 0, 0), ("b", 0, 0), ("a", 0, 4)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [1, 5]);
}

#[test]
fn an_stdp_synapse_delivers_its_weight_before_it_is_depressed() {
    let n = stdp_net("1", "0");
    // p fires at 1 (from b): post trace := 1.0. a arrives at 3: input +=
    // w = 1.0 fires, then w := 1.0 - 0.5 * 1.0 = 0.5; post trace := 2.0.
    // a arrives at 5: input 0.5 does not fire; w := 0.5 - 0.5 * 2 -> 0.
    // Depressing before delivering would give 0.5 at step 3: no spike.
    let r = run(&n, 8, &[("b", 0, 0), ("a", 0, 2), ("a", 0, 4)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [1, 3]);
}

#[test]
fn a_volatile_synapse_relaxes_before_an_arrival_and_facilitates_after_it() {
    let n = net("network n {
        input a[1];
        population p[1] : lif { decay_i = 1, decay_v = 1, threshold = 0.8 };
        connect a -> p : one_to_one weight 0.5 volatile { decay = 0.5, gain = 0.5, sat = 3 };
    }");
    // decay_v = 1: v is this step's input alone. facil = sat - 1 = 2.0,
    // gain 0.5, relaxation halves x. Efficacy w + w * (x * 2) (Q16).
    // Step 1: x = 0: 0.5 (no spike); x := 0.5.
    // Step 2: relax x = 0.25: 0.5 + 0.5 * 0.5 = 0.75 < 0.8; x := 0.25 +
    //         0.5 * 0.75 = 0.625.
    // Step 3: relax x = 0.3125: 0.5 + 0.5 * 0.625 = 0.8125 >= 0.8 fires.
    // Relaxing after the arrival would fire at step 2 (efficacy 1.0).
    let r = run(&n, 5, &[("a", 0, 0), ("a", 0, 1), ("a", 0, 2)]);
    assert_eq!(steps_of(&n, &r, "p", 0), [3]);
}

#[test]
fn only_outputs_are_recorded_sorted_by_step_name_and_index_but_all_are_counted() {
    let n = net("network n {
        input a[2];
        population zz[2] : if { decay_i = 1 };
        population aa[2] : if { decay_i = 1 };
        population quiet[2] : if { decay_i = 1 };
        connect a -> zz : one_to_one;
        connect a -> aa : one_to_one;
        connect a -> quiet : one_to_one;
        output zz, aa;
    }");
    let r = run(&n, 3, &[("a", 1, 0), ("a", 0, 0)]);
    let got: Vec<(u64, &str, u32)> = r.spikes.iter().map(|s| (s.step, n.pop(s.pop).name.as_str(), s.index)).collect();
    assert_eq!(got, [(1, "aa", 0), (1, "aa", 1), (1, "zz", 0), (1, "zz", 1)]);
    assert_eq!(r.counts[n.pop_by_name("quiet").unwrap().0 as usize], 2);
    assert_eq!(r.counts[n.pop_by_name("a").unwrap().0 as usize], 2);
}

#[test]
fn synaptic_events_count_each_synapse_of_each_spike_when_sent() {
    let n = net("network n {
        input a[1];
        population p[3] : if { decay_i = 1, threshold = 5 };
        connect a -> p : all_to_all delay 4;
    }");
    // Two spikes of a, three synapses each; the second is sent at the last
    // step and would arrive after the run, yet is counted.
    let r = run(&n, 10, &[("a", 0, 0), ("a", 0, 9)]);
    assert_eq!(r.synaptic_events, 6);
}

#[test]
fn stimulus_outside_the_run_or_off_an_input_port_is_refused_with_its_index() {
    let n = net("network n { input a[1]; population p[1] : if; connect a -> p : one_to_one; }");
    let (a, p) = (n.pop_by_name("a").unwrap(), n.pop_by_name("p").unwrap());
    let ok = Spike { step: 0, pop: a, index: 0 };
    let late = Spike { step: 5, pop: a, index: 0 };
    assert_eq!(simulate(&n, 5, &[ok, late]), Err(SimError::StepBeyond { n: 1, step: 5, last: 4 }));
    let wrong = Spike { step: 0, pop: p, index: 0 };
    assert_eq!(simulate(&n, 5, &[wrong]), Err(SimError::NotAnInput { n: 0, name: "p".into() }));
}
