//! Builders of test networks (in the IR, no source text) and small
//! architectures, for the compiler's tests.

use fpnna_arch::Arch;
use fpnna_ir::{Network, NeuronModel, Neurons, PopId, PopKind, Population, Projection, SynapseKind, Synapses};
use fpnna_model::{Generator, NeuronParams, ONE, Reset};

/// The LIF parameters of every test neuron (threshold 1.0, refractory 1).
pub fn lif() -> NeuronParams {
    NeuronParams {
        decay_i: 1024,
        decay_v: 512,
        threshold: ONE,
        bias: 0,
        v_min: -ONE,
        reset: Reset::Zero,
        refractory: 1,
        theta_step: 0,
        theta_decay: 0,
    }
}

/// A population of `n` LIF neurons, `v_init` 0, 1, 2, ... (in fixed-point units).
pub fn neurons(net: &mut Network, name: &str, n: u32) -> PopId {
    net.add_population(Population {
        name: name.into(),
        size: n,
        kind: PopKind::Neurons(Neurons {
            model: NeuronModel::Lif,
            params: vec![lif(); n as usize],
            v_init: (0..n as i32).collect(),
        }),
        output: false,
    })
}

/// An input population of `n` channels.
pub fn input(net: &mut Network, name: &str, n: u32) -> PopId {
    net.add_population(Population { name: name.into(), size: n, kind: PopKind::Input, output: false })
}

/// A generator population of `n` channels (regular, period 3).
pub fn generator(net: &mut Network, name: &str, n: u32) -> PopId {
    net.add_population(Population {
        name: name.into(),
        size: n,
        kind: PopKind::Generator(Generator::Regular { period: 3, phase: 0 }),
        output: false,
    })
}

/// A projection from `a` to `b` of the synapses (pre, post, weight, delay).
pub fn project(net: &mut Network, a: PopId, b: PopId, kind: SynapseKind, syn: &[(u32, u32, i32, u8)]) {
    let mut s = Synapses::default();
    for &(pre, post, w, d) in syn {
        s.push(pre, post, w, d);
    }
    let name = format!("{} -> {} #{}", net.pop(a).name, net.pop(b).name, net.proj_count());
    net.add_projection(a, b, Projection { name, kind, syn: s });
}

/// All-to-all synapses of weight `w`, delay 1.
pub fn all_to_all(na: u32, nb: u32, w: i32) -> Vec<(u32, u32, i32, u8)> {
    (0..na).flat_map(|i| (0..nb).map(move |j| (i, j, w, 1))).collect()
}

/// A deterministic pseudo-random stream (SplitMix64).
pub struct Mix(pub u64);
impl Mix {
    /// The next number of the stream.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        fpnna_model::hash3(self.0, 1, 2)
    }
    /// A number below `n` (below 1 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `n` neurons, each with `fan_in` random sources among `n` neurons and
/// `inputs` input channels, random sign.
pub fn random_net(n: u32, inputs: u32, fan_in: u32, seed: u64) -> Network {
    let mut net = Network::new("random", 1.0);
    let i = input(&mut net, "in", inputs.max(1));
    let p = neurons(&mut net, "pop", n);
    let mut rng = Mix(seed);
    let (mut from_in, mut rec) = (Vec::new(), Vec::new());
    for post in 0..n {
        for _ in 0..fan_in {
            let w = (rng.below(2 * ONE as u64) as i32) - ONE;
            let d = 1 + rng.below(3) as u8;
            let src = rng.below(u64::from(n + inputs.max(1))) as u32;
            if src < inputs.max(1) {
                from_in.push((src, post, w, d));
            } else {
                rec.push((src - inputs.max(1), post, w, d));
            }
        }
    }
    project(&mut net, i, p, SynapseKind::NonVolatile, &from_in);
    project(&mut net, p, p, SynapseKind::NonVolatile, &rec);
    net
}

/// A chain of layers, all-to-all between neighbours.
pub fn layered(widths: &[u32]) -> Network {
    let mut net = Network::new("layered", 1.0);
    let mut prev = input(&mut net, "in", widths[0]);
    for (k, &w) in widths.iter().enumerate().skip(1) {
        let p = neurons(&mut net, &format!("l{k}"), w);
        let na = net.pop(prev).size;
        project(&mut net, prev, p, SynapseKind::NonVolatile, &all_to_all(na, w, ONE / 2));
        prev = p;
    }
    net
}

/// The small preset with a few fields changed.
pub fn arch(w: u16, h: u16, rows: u16, cols: u16, entries: u32) -> Arch {
    let mut a = Arch::preset("small").unwrap();
    a.grid.width = w;
    a.grid.height = h;
    a.tile.rows = rows;
    a.tile.cols = cols;
    a.router.table_entries = entries;
    a
}
