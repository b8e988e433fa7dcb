//! Waveforms as VCD (IEEE 1364), for GTKWave or Surfer: one scope per tile
//! position, a 1-bit spike signal per neuron, membrane potential, synaptic
//! current and volatile conductance of the traced neurons, and the packets
//! each link carried per step; a scope `ports` with a 1-bit signal per
//! channel of every input port and generator; and a last timestamp at the
//! end of the run, so that the last step has a width in a viewer.

use crate::{Emulator, Observer, StepView};
use fpnna_bitstream::Xy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;
use vcd::{IdCode, SimulationCommand, TimescaleUnit, Value, VarType};

/// Unit of the VCD's time axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timescale {
    /// One timestep per `global.dt_ms` (spikes last one step).
    #[default]
    Steps,
    /// One clock cycle at `timing.clock_mhz` (steps start at their first cycle).
    Cycles,
}

/// What to write.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VcdOptions {
    /// Time axis.
    pub timescale: Timescale,
    /// Neurons (key ranges) whose potential, current and volatile
    /// conductance are traced.
    pub trace: Vec<Range<u32>>,
    /// The steps written (numbered as the spike file numbers them); `None`:
    /// every step. Before the window the signals stay at their initial 0;
    /// at its end they return to 0 and the dump ends there.
    #[serde(default)]
    pub window: Option<Range<u64>>,
}

/// Where a dump stands between two steps (for a run's checkpoint): what
/// [`VcdObserver::resume`] needs to go on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VcdProgress {
    high: Vec<u32>,
    busy_links: Vec<u32>,
    last_time: Option<u64>,
    next_time: u64,
    ended: bool,
    traced_last: Vec<Option<(i32, i32, u64)>>,
}

struct Traced {
    key: u32,
    v: IdCode,
    i: IdCode,
    g: Option<IdCode>,
    last: Option<(i32, i32, u64)>,
}

/// A VCD writer; pass it to [`Emulator::run`] as the observer, then call
/// [`VcdObserver::finish`].
pub struct VcdObserver<W: Write> {
    w: vcd::Writer<W>,
    mode: Timescale,
    /// Time units per step (steps) or per cycle (cycles).
    factor: u64,
    spike_id: BTreeMap<u32, IdCode>,
    traced: Vec<Traced>,
    link_id: Vec<IdCode>,
    /// Keys whose spike signal is 1 since the last step written.
    high: Vec<u32>,
    busy_links: Vec<u32>,
    last_time: Option<u64>,
    next_time: u64,
    window: Range<u64>,
    /// Whether a step past the window was seen (the dump has ended).
    ended: bool,
}

/// The largest unit 10^k s (k = 0, -1, ..., -15) of which `period_s` is an
/// integer multiple, as (multiplier 1/10/100, unit, factor); falls back to
/// 1 fs with rounding.
fn pick_unit(period_s: f64) -> (u32, TimescaleUnit, u64) {
    let units = [
        (TimescaleUnit::S, 0),
        (TimescaleUnit::MS, -3),
        (TimescaleUnit::US, -6),
        (TimescaleUnit::NS, -9),
        (TimescaleUnit::PS, -12),
        (TimescaleUnit::FS, -15),
    ];
    for (unit, e) in units {
        for (mul, de) in [(100u32, 2), (10, 1), (1, 0)] {
            let u = 10f64.powi(e + de);
            let f = period_s / u;
            if f >= 1.0 && (f - f.round()).abs() < 1e-6 * f {
                return (mul, unit, f.round() as u64);
            }
        }
    }
    (1, TimescaleUnit::FS, (period_s * 1e15).round().max(1.0) as u64)
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

fn bits(n: u32) -> Vec<Value> {
    let width = (32 - n.leading_zeros()).max(1);
    (0..width).rev().map(|b| Value::from(n >> b & 1 == 1)).collect()
}

/// The signals of a dump: their codes in the order the header declares them.
struct Layout {
    factor: u64,
    spike_id: BTreeMap<u32, IdCode>,
    traced: Vec<Traced>,
    link_id: Vec<IdCode>,
}

/// Declares the header's scopes and signals into `w` (up to, not
/// including, the end of the definitions).
fn declare<V: Write>(w: &mut vcd::Writer<V>, emu: &Emulator, opts: &VcdOptions) -> io::Result<Layout> {
    let b = &emu.b;
    let (period_s, what) = match opts.timescale {
        Timescale::Steps => (b.dt_ms * 1e-3, "one timestep"),
        Timescale::Cycles => (1e-6 / b.arch.timing.clock_mhz, "one clock cycle"),
    };
    let (mul, unit, factor) = pick_unit(period_s);
    w.version(&format!("fpnna-emu {}", env!("CARGO_PKG_VERSION")))?;
    w.comment(&format!("time unit: {what} = {factor} x {mul} {unit}; spikes are 1 for the step they occur in"))?;
    w.timescale(mul, unit)?;
    w.add_module("fpnna")?;

    let mut by_pos: BTreeMap<Xy, (Option<usize>, Vec<usize>)> = BTreeMap::new();
    for (ti, t) in b.tiles.iter().enumerate() {
        by_pos.entry(t.at).or_default().0 = Some(ti);
    }
    for (li, l) in b.net.links.iter().enumerate() {
        by_pos.entry(l.at).or_default().1.push(li);
    }
    let traced_key = |k: u32| opts.trace.iter().any(|r| r.contains(&k));
    let mut spike_id = BTreeMap::new();
    let mut traced = Vec::new();
    let mut link_id = vec![IdCode::FIRST; b.net.links.len()];
    for (Xy { x, y }, (tile, links)) in &by_pos {
        w.add_module(&format!("tile_{x}_{y}"))?;
        if let Some(ti) = tile {
            for &key in &b.tiles[*ti].col_key {
                let name = match b.name_of(key) {
                    Some((n, i)) => format!("{}_{i}", sanitize(n)),
                    None => format!("n{key}"),
                };
                spike_id.insert(key, w.add_wire(1, &name)?);
                if traced_key(key) {
                    let v = w.add_var(VarType::Real, 64, &format!("{name}_v"), None)?;
                    let i = w.add_var(VarType::Real, 64, &format!("{name}_i"), None)?;
                    let g = match b.volatile_conductance_ns(key, 0) {
                        Some(_) => Some(w.add_var(VarType::Real, 64, &format!("{name}_g_nS"), None)?),
                        None => None,
                    };
                    traced.push(Traced { key, v, i, g, last: None });
                }
            }
        }
        for &li in links {
            let d = b.net.links[li].dir.name();
            link_id[li] = w.add_var(VarType::Integer, 32, &format!("link_{d}"), None)?;
        }
        w.upscope()?;
    }
    // Input ports and generators: their spikes are in every step's
    // view (it lists every source), so they are wires like neurons.
    let sources: Vec<_> = b.ports.iter().filter(|p| !matches!(p.kind, fpnna_bitstream::PortKind::Output)).collect();
    if !sources.is_empty() {
        w.add_module("ports")?;
        for p in sources {
            for i in 0..p.size {
                let id = w.add_wire(1, &format!("{}_{i}", sanitize(&p.name)))?;
                spike_id.entry(p.key_base + i).or_insert(id);
            }
        }
        w.upscope()?;
    }
    w.upscope()?;
    Ok(Layout { factor, spike_id, traced, link_id })
}

impl<W: Write> VcdObserver<W> {
    /// Writes the header for `emu`'s tiles, links and traced neurons, and
    /// every signal's initial value.
    pub fn new(out: W, emu: &Emulator, opts: &VcdOptions) -> io::Result<Self> {
        let mut w = vcd::Writer::new(out);
        let layout = declare(&mut w, emu, opts)?;
        w.enddefinitions()?;
        w.timestamp(0)?;
        w.begin(SimulationCommand::Dumpvars)?;
        for &id in layout.spike_id.values() {
            w.change_scalar(id, Value::V0)?;
        }
        for &id in &layout.link_id {
            w.change_vector(id, bits(0))?;
        }
        w.end()?;
        Ok(Self::with(w, layout, opts))
    }

    /// Goes on with a dump that `progress` was taken of, into `out` (which
    /// holds the dump up to there): writes nothing now, and from here what
    /// the uninterrupted observer would have written. The emulator and
    /// options must be the dump's.
    pub fn resume(out: W, emu: &Emulator, opts: &VcdOptions, progress: &VcdProgress) -> io::Result<Self> {
        // The header again, into nothing: the signals get the same codes.
        let layout = declare(&mut vcd::Writer::new(io::sink()), emu, opts)?;
        if progress.traced_last.len() != layout.traced.len() {
            return Err(io::Error::other(format!(
                "the checkpoint traces {} neurons, the options {}",
                progress.traced_last.len(),
                layout.traced.len()
            )));
        }
        let mut o = Self::with(vcd::Writer::new(out), layout, opts);
        for (t, &last) in o.traced.iter_mut().zip(&progress.traced_last) {
            t.last = last;
        }
        o.high.clone_from(&progress.high);
        o.busy_links.clone_from(&progress.busy_links);
        o.last_time = progress.last_time;
        o.next_time = progress.next_time;
        o.ended = progress.ended;
        Ok(o)
    }

    /// Flushes what is written, and says where the dump stands.
    pub fn progress(&mut self) -> io::Result<VcdProgress> {
        self.w.flush()?;
        Ok(VcdProgress {
            high: self.high.clone(),
            busy_links: self.busy_links.clone(),
            last_time: self.last_time,
            next_time: self.next_time,
            ended: self.ended,
            traced_last: self.traced.iter().map(|t| t.last).collect(),
        })
    }

    fn with(w: vcd::Writer<W>, l: Layout, opts: &VcdOptions) -> Self {
        VcdObserver {
            w,
            mode: opts.timescale,
            factor: l.factor,
            spike_id: l.spike_id,
            traced: l.traced,
            link_id: l.link_id,
            high: Vec::new(),
            busy_links: Vec::new(),
            last_time: Some(0),
            next_time: 0,
            window: opts.window.clone().unwrap_or(0..u64::MAX),
            ended: false,
        }
    }

    fn at(&mut self, time: u64) -> io::Result<()> {
        if self.last_time != Some(time) {
            self.w.timestamp(time)?;
            self.last_time = Some(time);
        }
        Ok(())
    }

    /// Returns spikes and link loads to zero after the last step and
    /// flushes (pass `&mut writer` to keep the writer).
    pub fn finish(mut self) -> io::Result<()> {
        self.clear_previous(self.next_time, &[], &[])?;
        // The end of the last step, even when nothing changes there: a
        // viewer shows a step only up to the last timestamp.
        self.at(self.next_time)?;
        self.w.flush()
    }

    fn clear_previous(&mut self, time: u64, spikes: &[u32], links: &[u32]) -> io::Result<()> {
        let high = std::mem::take(&mut self.high);
        for key in high {
            if spikes.binary_search(&key).is_err() {
                self.at(time)?;
                self.w.change_scalar(self.spike_id[&key], Value::V0)?;
            }
        }
        let busy = std::mem::take(&mut self.busy_links);
        for l in busy {
            if links.binary_search(&l).is_err() {
                self.at(time)?;
                self.w.change_vector(self.link_id[l as usize], bits(0))?;
            }
        }
        Ok(())
    }
}

impl<W: Write> Observer for VcdObserver<W> {
    fn step(&mut self, v: &StepView<'_>) -> io::Result<()> {
        let (time, next) = match self.mode {
            Timescale::Steps => (v.step * self.factor, (v.step + 1) * self.factor),
            Timescale::Cycles => (v.cycle_start * self.factor, (v.cycle_start + v.cycles) * self.factor),
        };
        if v.step < self.window.start || self.ended {
            return Ok(());
        }
        if v.step >= self.window.end {
            // The window's end: everything back to 0, the last timestamp.
            self.ended = true;
            self.next_time = time;
            self.clear_previous(time, &[], &[])?;
            return self.at(time);
        }
        self.next_time = next;
        // (Sorted, as the view's spikes are.)
        let spikes: Vec<u32> = v.spikes.iter().copied().filter(|k| self.spike_id.contains_key(k)).collect();
        let links: Vec<u32> = v.link_load.iter().map(|&(l, _)| l).collect();
        self.clear_previous(time, &spikes, &links)?;
        for &key in &spikes {
            self.at(time)?;
            self.w.change_scalar(self.spike_id[&key], Value::V1)?;
        }
        self.high = spikes;
        for &(l, n) in v.link_load {
            self.at(time)?;
            self.w.change_vector(self.link_id[l as usize], bits(n))?;
        }
        self.busy_links = links;
        for k in 0..self.traced.len() {
            let key = self.traced[k].key;
            let Some(s) = v.neuron(key) else { continue };
            let g = v.volatile_conductance_ns(key);
            let now = (s.v, s.i, g.map_or(0, f64::to_bits));
            if self.traced[k].last == Some(now) {
                continue;
            }
            self.at(time)?;
            let t = &self.traced[k];
            let (vid, iid, gid) = (t.v, t.i, t.g);
            self.w.change_real(vid, fpnna_model::from_fixed(s.v))?;
            self.w.change_real(iid, fpnna_model::from_fixed(s.i))?;
            if let (Some(gid), Some(g)) = (gid, g) {
                self.w.change_real(gid, g)?;
            }
            self.traced[k].last = Some(now);
        }
        Ok(())
    }
}
