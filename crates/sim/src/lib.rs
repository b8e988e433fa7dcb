//! The reference simulator: the golden, time-stepped model of a network IR.
//!
//! It is written for clarity over speed, and follows docs/semantics.md
//! phase by phase; every number comes from `fpnna-model`. The cycle-level
//! emulator is held to it spike for spike.

use fpnna_ir::{Network, PopId, PopKind, SynapseKind};
use fpnna_model as m;
use m::{NeuronParams, NeuronState};

/// One spike: step, population, index within the population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Spike {
    /// Timestep.
    pub step: u64,
    /// Population.
    pub pop: PopId,
    /// Index in the population.
    pub index: u32,
}

/// Errors of a simulation request.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimError {
    /// A stimulus spike targets a population that is not an input port.
    #[error("stimulus spike {n}: `{name}` is not an input port")]
    NotAnInput {
        /// Index of the spike in the stimulus.
        n: usize,
        /// Its population.
        name: String,
    },
    /// A stimulus spike lies beyond the run.
    #[error("stimulus spike {n}: step {step} is beyond the last step {last}")]
    StepBeyond {
        /// Index of the spike in the stimulus.
        n: usize,
        /// Its step.
        step: u64,
        /// Last step of the run.
        last: u64,
    },
}

/// The result of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimResult {
    /// Recorded spikes, sorted by (step, population name, index).
    pub spikes: Vec<Spike>,
    /// Spikes per population (all populations, recorded or not), by id.
    pub counts: Vec<u64>,
    /// Synaptic events delivered (one per synapse per presynaptic spike).
    pub synaptic_events: u64,
}

/// Per-synapse state of the plastic and volatile projections.
struct Plastic {
    /// Volatile node state x, or STDP weight, per synapse.
    state: Vec<i32>,
    /// STDP: presynaptic trace per synapse.
    pre_trace: Vec<i32>,
    /// STDP: the step of each synapse's last touch (an arrival or a
    /// postsynaptic spike), from which its retention is applied.
    touched: Vec<u64>,
    /// STDP: postsynaptic trace per target neuron (index in the population).
    post_trace: Vec<i32>,
    /// STDP: synapses into each target neuron (CSR over the population).
    into_start: Vec<u32>,
    into_syn: Vec<u32>,
}

impl Plastic {
    /// STDP synapse `k`, programmed at `w0`, brought up to step `t`: its
    /// learned change relaxed over the steps since its last touch.
    fn retain(&mut self, p: &m::StdpParams, k: usize, w0: i32, t: u64) {
        self.state[k] = m::stdp_retain(p, self.state[k], w0, t - self.touched[k]);
        self.touched[k] = t;
    }
}

/// One outgoing synapse of a source, flattened.
#[derive(Clone, Copy)]
struct Out {
    target: u32,
    weight: i32,
    delay: u8,
    /// `u32::MAX` for non-volatile; else (projection slot, synapse index).
    proj: u32,
    syn: u32,
}

/// Runs `net` for `steps` steps with the given stimulus (spikes on input
/// ports, any order).
pub fn simulate(net: &Network, steps: u64, stimulus: &[Spike]) -> Result<SimResult, SimError> {
    for (n, s) in stimulus.iter().enumerate() {
        if net.pop(s.pop).kind != PopKind::Input {
            return Err(SimError::NotAnInput { n, name: net.pop(s.pop).name.clone() });
        }
        if s.step >= steps {
            return Err(SimError::StepBeyond { n, step: s.step, last: steps.saturating_sub(1) });
        }
    }
    let (offsets, total) = net.offsets();
    let total = total as usize;
    let pop_of: Vec<(PopId, u32)> = net.pops().flat_map(|(id, p)| (0..p.size).map(move |i| (id, i))).collect();

    // Neuron state (non-neuron entries are unused).
    let mut params: Vec<Option<NeuronParams>> = vec![None; total];
    let mut state = vec![NeuronState::default(); total];
    for (id, p) in net.pops() {
        if let Some(n) = p.neurons() {
            let o = offsets[id.0 as usize] as usize;
            for k in 0..p.size as usize {
                params[o + k] = Some(n.params[k]);
                state[o + k] = NeuronState::with_v(n.v_init[k]);
            }
        }
    }

    // Outgoing synapses per global source (CSR), in projection order.
    let projs: Vec<_> = net.projs().collect();
    let mut out_count = vec![0u32; total + 1];
    for (id, pr) in &projs {
        let o = offsets[net.endpoints(*id).0.0 as usize];
        for &pre in &pr.syn.pre {
            out_count[(o + pre) as usize + 1] += 1;
        }
    }
    for k in 0..total {
        out_count[k + 1] += out_count[k];
    }
    let out_start = out_count.clone();
    let mut fill = out_count;
    let mut outs = vec![Out { target: 0, weight: 0, delay: 1, proj: u32::MAX, syn: 0 }; out_start[total] as usize];
    let mut plastic: Vec<Option<Plastic>> = Vec::new();
    for (slot, (id, pr)) in projs.iter().enumerate() {
        let (a, b) = net.endpoints(*id);
        let (oa, ob) = (offsets[a.0 as usize], offsets[b.0 as usize]);
        let kind_plastic = pr.kind != SynapseKind::NonVolatile;
        for k in 0..pr.syn.len() {
            let src = (oa + pr.syn.pre[k]) as usize;
            outs[fill[src] as usize] = Out {
                target: ob + pr.syn.post[k],
                weight: pr.syn.weight[k],
                delay: pr.syn.delay[k],
                proj: if kind_plastic { slot as u32 } else { u32::MAX },
                syn: k as u32,
            };
            fill[src] += 1;
        }
        plastic.push(kind_plastic.then(|| {
            let size = net.pop(b).size as usize;
            let mut into_start = vec![0u32; size + 1];
            for &post in &pr.syn.post {
                into_start[post as usize + 1] += 1;
            }
            for k in 0..size {
                into_start[k + 1] += into_start[k];
            }
            let mut f = into_start.clone();
            let mut into_syn = vec![0u32; pr.syn.len()];
            for (k, &post) in pr.syn.post.iter().enumerate() {
                into_syn[f[post as usize] as usize] = k as u32;
                f[post as usize] += 1;
            }
            Plastic {
                state: match pr.kind {
                    SynapseKind::Stdp(_) => pr.syn.weight.clone(),
                    _ => vec![0; pr.syn.len()],
                },
                pre_trace: vec![0; pr.syn.len()],
                touched: vec![0; pr.syn.len()],
                post_trace: vec![0; size],
                into_start,
                into_syn,
            }
        }));
    }

    let target_base: Vec<u32> = projs.iter().map(|(id, _)| offsets[net.endpoints(*id).1.0 as usize]).collect();
    let mut stdp_into: Vec<Vec<usize>> = vec![Vec::new(); net.pop_count()];
    for (slot, (id, pr)) in projs.iter().enumerate() {
        if matches!(pr.kind, SynapseKind::Stdp(_)) {
            stdp_into[net.endpoints(*id).1.0 as usize].push(slot);
        }
    }

    // Stimulus per step.
    let mut stim: Vec<(u64, u32)> = stimulus.iter().map(|s| (s.step, offsets[s.pop.0 as usize] + s.index)).collect();
    stim.sort_unstable();
    stim.dedup();
    let mut stim_at = 0usize;

    // One slot per step of the longest delay in the network (plus now): the
    // ring's memory is (max delay + 1) x neurons.
    let max_delay = projs.iter().flat_map(|(_, p)| p.syn.delay.iter().copied()).max().unwrap_or(1);
    let ring_len = usize::from(max_delay) + 1;
    let mut ring = vec![vec![0i64; total]; ring_len];
    let mut events: Vec<Vec<(u32, u32)>> = vec![Vec::new(); ring_len];
    let recorded = net.recorded();
    let mut result = SimResult { counts: vec![0; net.pop_count()], ..Default::default() };
    let mut input = vec![0i64; total];
    let mut fired: Vec<u32> = Vec::new();
    let generators: Vec<(usize, u32, m::Generator)> = net
        .pops()
        .filter_map(|(id, p)| match p.kind {
            PopKind::Generator(g) => Some((offsets[id.0 as usize] as usize, p.size, g)),
            _ => None,
        })
        .collect();

    for t in 0..steps {
        let slot = (t % ring_len as u64) as usize;
        // (a) volatile nodes relax, STDP traces decay.
        for (s, (_, pr)) in projs.iter().enumerate() {
            let Some(pl) = plastic[s].as_mut() else { continue };
            match pr.kind {
                SynapseKind::Volatile(vp) => pl.state.iter_mut().for_each(|x| *x = m::volatile_relax(&vp, *x)),
                SynapseKind::Stdp(sp) => {
                    pl.pre_trace.iter_mut().for_each(|x| *x = m::decay(*x, sp.decay_plus));
                    pl.post_trace.iter_mut().for_each(|x| *x = m::decay(*x, sp.decay_minus));
                }
                SynapseKind::NonVolatile => {}
            }
        }
        // (b) arrivals on volatile and STDP synapses.
        let mut arrivals = std::mem::take(&mut events[slot]);
        arrivals.sort_unstable();
        for &(s, k) in &arrivals {
            let pr = projs[s as usize].1;
            let pl = plastic[s as usize].as_mut().expect("plastic projection");
            let (k, target) = (k as usize, target_base[s as usize] + pr.syn.post[k as usize]);
            match pr.kind {
                SynapseKind::Volatile(vp) => {
                    input[target as usize] += i64::from(m::volatile_efficacy(&vp, pr.syn.weight[k], pl.state[k]));
                    pl.state[k] = m::volatile_pulse(&vp, pl.state[k]);
                }
                SynapseKind::Stdp(sp) => {
                    pl.retain(&sp, k, pr.syn.weight[k], t);
                    input[target as usize] += i64::from(pl.state[k]);
                    let post = pr.syn.post[k] as usize;
                    pl.state[k] = m::stdp_depress(&sp, pl.state[k], pl.post_trace[post]);
                    pl.pre_trace[k] = m::trace_bump(sp.pairing, pl.pre_trace[k]);
                }
                SynapseKind::NonVolatile => unreachable!("non-volatile synapses use the ring"),
            }
        }
        arrivals.clear();
        events[slot] = arrivals;
        // (c) + (d) non-volatile input, neuron updates.
        fired.clear();
        let ring_slot = &mut ring[slot];
        for n in 0..total {
            let Some(p) = &params[n] else { continue };
            let inp = m::saturate(input[n] + ring_slot[n]);
            ring_slot[n] = 0;
            input[n] = 0;
            if m::neuron_step(p, &mut state[n], inp) {
                fired.push(n as u32);
            }
        }
        // (e) STDP potentiation on postsynaptic spikes.
        for &n in &fired {
            let (pop, idx) = pop_of[n as usize];
            for &slot in &stdp_into[pop.0 as usize] {
                let SynapseKind::Stdp(sp) = projs[slot].1.kind else { continue };
                let pl = plastic[slot].as_mut().expect("plastic projection");
                let (lo, hi) = (pl.into_start[idx as usize] as usize, pl.into_start[idx as usize + 1] as usize);
                for j in lo..hi {
                    let k = pl.into_syn[j] as usize;
                    pl.retain(&sp, k, projs[slot].1.syn.weight[k], t);
                    pl.state[k] = m::stdp_potentiate(&sp, pl.state[k], pl.pre_trace[k]);
                }
                pl.post_trace[idx as usize] = m::trace_bump(sp.pairing, pl.post_trace[idx as usize]);
            }
        }
        // (f) sources of this step: generators, stimulus, fired neurons.
        for &(o, size, g) in &generators {
            for i in 0..size {
                if g.fires(i, t) {
                    fired.push((o + i as usize) as u32);
                }
            }
        }
        while stim_at < stim.len() && stim[stim_at].0 == t {
            fired.push(stim[stim_at].1);
            stim_at += 1;
        }
        for &src in &fired {
            let (pop, index) = pop_of[src as usize];
            result.counts[pop.0 as usize] += 1;
            if recorded[pop.0 as usize] {
                result.spikes.push(Spike { step: t, pop, index });
            }
            for o in &outs[out_start[src as usize] as usize..out_start[src as usize + 1] as usize] {
                result.synaptic_events += 1;
                let at = ((t + u64::from(o.delay)) % ring_len as u64) as usize;
                if o.proj == u32::MAX {
                    ring[at][o.target as usize] += i64::from(o.weight);
                } else {
                    events[at].push((o.proj, o.syn));
                }
            }
        }
    }
    sort_spikes(net, &mut result.spikes);
    Ok(result)
}

/// Sorts spikes by (step, population name, index), the order of spike files.
pub fn sort_spikes(net: &Network, spikes: &mut [Spike]) {
    spikes.sort_by(|a, b| (a.step, &net.pop(a.pop).name, a.index).cmp(&(b.step, &net.pop(b.pop).name, b.index)));
}
