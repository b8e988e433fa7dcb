//! Statistics of a run and of the configuration, and the energy model.

use crate::DeviceFigures;
use fpnna_arch::Arch;
use serde::{Deserialize, Serialize};

/// Minimum, mean and maximum of a per-step quantity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MinMeanMax {
    /// Smallest value.
    pub min: u64,
    /// Mean value.
    pub mean: f64,
    /// Largest value.
    pub max: u64,
}

/// Energy of one kind of event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnergyItem {
    /// Kind of event.
    pub event: String,
    /// How many happened.
    pub count: u64,
    /// Energy of one, pJ (from the architecture file).
    pub pj_each: f64,
    /// count * pj_each.
    pub pj: f64,
    /// What the figure assumes, and whether it is measured or projected.
    pub assumption: String,
}

/// Energy of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyReport {
    /// Dynamic plus static energy, pJ.
    pub total_pj: f64,
    /// Sum of the event energies, pJ.
    pub dynamic_pj: f64,
    /// Total energy per synaptic event, pJ (0 without events).
    pub per_synaptic_event_pj: f64,
    /// By kind of event (static power last).
    pub items: Vec<EnergyItem>,
}

/// What configuring the array cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigStats {
    /// Cycles to configure (tiles in parallel; see docs/emulator.md).
    pub config_cycles: u64,
    /// Energy of the forming, write and verify pulses, pJ.
    pub config_energy_pj: f64,
    /// Programmed nodes.
    pub programmed_nodes: u64,
    /// Forming pulses (one per non-volatile node).
    pub forming_pulses: u64,
    /// Forming pulses that failed (the node is stuck at G_min).
    pub forming_failures: u64,
    /// Non-volatile nodes newly formed (forming pulses that succeeded).
    #[serde(default)]
    pub formed_nodes: u64,
    /// Non-volatile nodes on crosspoints of the chip formed before: only
    /// reprogrammed (write pulses, no forming pulse).
    #[serde(default)]
    pub reused_nodes: u64,
    /// Devices stuck at G_min, of the crosspoints in use (two devices per
    /// differential pair; forming failures apart).
    pub stuck_at_min: u64,
    /// Devices stuck at G_max, of the crosspoints in use.
    pub stuck_at_max: u64,
    /// Crosspoints the configuration leaves unprogrammed that conduct
    /// anyway (a device stuck at G_max on a driven non-volatile row and a
    /// neuron's column): synapses nobody asked for.
    pub stuck_unprogrammed: u64,
    /// Write pulses (one per node, more with write-verify).
    pub write_pulses: u64,
    /// Verify reads of write-verify.
    pub verify_reads: u64,
    /// Table words loaded (neuron parameters, row table, routing entries).
    pub table_words: u64,
    /// What the figures assume.
    pub assumption: String,
}

/// Activity of one tile over a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TileActivity {
    /// Column of the grid.
    pub x: u16,
    /// Row of the grid.
    pub y: u16,
    /// Spikes of its neurons.
    pub spikes: u64,
    /// Rows read.
    pub row_reads: u64,
    /// Nodes read into columns.
    pub synaptic_events: u64,
    /// Packets delivered to it.
    pub packets_in: u64,
    /// STDP weight writes.
    pub node_writes: u64,
    /// Cycles of row reads and neuron updates.
    pub busy_cycles: u64,
}

/// Counts, cycles and energy of a run (serialised as the `--stats` JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Steps run.
    pub steps: u64,
    /// Cycles of the run.
    pub cycles_total: u64,
    /// Cycles per step.
    pub cycles_per_step: MinMeanMax,
    /// Wall time on the hardware at the architecture's clock, us.
    pub time_us: f64,
    /// Spikes of every source (neurons, generators, stimulus).
    pub spikes: u64,
    /// Spikes of neurons.
    pub neuron_spikes: u64,
    /// Nodes read into columns (one per synapse per arriving spike).
    pub synaptic_events: u64,
    /// Synaptic events caused by this run's spikes, counted when sent (as
    /// the reference simulator counts them; includes events still in flight).
    pub synaptic_events_sent: u64,
    /// Packets injected into the mesh.
    pub packets: u64,
    /// Link traversals.
    pub hops: u64,
    /// Packets delivered to tiles.
    pub deliveries: u64,
    /// Packet-cycles spent waiting for a link or an injection port.
    pub stall_cycles: u64,
    /// Most packets one link carried in one step.
    pub max_link_packets_per_step: u32,
    /// Crossbar rows read.
    pub row_reads: u64,
    /// Neuron circuit updates (every programmed column, every step).
    pub neuron_updates: u64,
    /// Node writes during the run (STDP weight changes).
    pub node_writes: u64,
    /// Energy of the run.
    pub energy_pj: EnergyReport,
    /// Cycles to configure the array (apart from the run).
    pub config_cycles: u64,
    /// Energy to configure the array, pJ (apart from the run).
    pub config_energy_pj: f64,
    /// Configuration details.
    pub config: ConfigStats,
    /// Device figures in force.
    pub devices: Option<DeviceFigures>,
    /// Per programmed tile.
    pub tiles: Vec<TileActivity>,
    /// Routing problems found when loading.
    pub route_faults: Vec<String>,
    /// The run step by step (after every total above, so that readers of
    /// the totals see them first).
    #[serde(default)]
    pub per_step: PerStep,
}

/// Most entries a run's series keeps: a longer run's series has entries of
/// several steps each (see [`PerStep::steps_per_entry`]), so that it holds
/// at most 2 MiB whatever the run's length.
pub const MAX_SERIES_ENTRIES: usize = 1 << 16;

/// A run's series (what `fpnna plot activity` draws): cycles and energy as
/// the totals count them, so that each series adds up to its total (energy
/// to rounding). One entry per step while the run has at most
/// [`MAX_SERIES_ENTRIES`] steps; beyond, neighbouring entries are merged
/// in pairs as often as needed, each entry then covering
/// `steps_per_entry` steps (the last one possibly fewer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerStep {
    /// Steps each entry covers: 1, or a power of two for a run longer than
    /// [`MAX_SERIES_ENTRIES`] steps (written only when it is not 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub steps_per_entry: u64,
    /// Cycles of each entry's steps (they add up to `cycles_total`).
    pub cycles: Vec<u64>,
    /// Spikes of every source in each entry's steps.
    pub spikes: Vec<u64>,
    /// Synaptic events of each entry's steps.
    pub synaptic_events: Vec<u64>,
    /// Energy of each entry's steps, pJ: their events and the static power
    /// over their cycles (they add up to `energy_pj.total_pj`).
    pub energy_pj: Vec<f64>,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

impl Default for PerStep {
    fn default() -> PerStep {
        PerStep {
            steps_per_entry: 1,
            cycles: Vec::new(),
            spikes: Vec::new(),
            synaptic_events: Vec::new(),
            energy_pj: Vec::new(),
        }
    }
}

impl PerStep {
    /// Adds step `i` of the run (0 for its first) to the series: a new
    /// entry when `i` starts one, else into the last.
    pub(crate) fn record(&mut self, i: u64, cycles: u64, spikes: u64, synaptic_events: u64, energy_pj: f64) {
        if i.is_multiple_of(self.steps_per_entry) {
            if self.cycles.len() == MAX_SERIES_ENTRIES {
                self.merge_pairs();
            }
            self.cycles.push(cycles);
            self.spikes.push(spikes);
            self.synaptic_events.push(synaptic_events);
            self.energy_pj.push(energy_pj);
        } else if let Some(last) = self.cycles.len().checked_sub(1) {
            self.cycles[last] += cycles;
            self.spikes[last] += spikes;
            self.synaptic_events[last] += synaptic_events;
            self.energy_pj[last] += energy_pj;
        }
    }

    /// Halves the entries (every entry full): each pair becomes one entry
    /// of twice the steps.
    fn merge_pairs(&mut self) {
        fn halve<T: Copy + std::ops::Add<Output = T>>(v: &mut Vec<T>) {
            *v = v.chunks_exact(2).map(|c| c[0] + c[1]).collect();
        }
        halve(&mut self.cycles);
        halve(&mut self.spikes);
        halve(&mut self.synaptic_events);
        halve(&mut self.energy_pj);
        self.steps_per_entry *= 2;
    }

    /// Whether these entries cover the first `steps` steps of a run as
    /// [`PerStep::record`] makes them: a power of two of steps each, as
    /// many entries as those steps need, and no more steps per entry than
    /// [`MAX_SERIES_ENTRIES`] make necessary.
    pub fn covers(&self, steps: u64) -> bool {
        let w = self.steps_per_entry;
        let n = self.cycles.len();
        w.is_power_of_two()
            && n <= MAX_SERIES_ENTRIES
            && u64::try_from(n).ok() == Some(steps.div_ceil(w))
            && (w == 1 || steps > w.saturating_mul(MAX_SERIES_ENTRIES as u64 / 2))
    }

    /// Steps of entry `t` of a series covering `steps` steps.
    pub fn entry_steps(&self, t: usize, steps: u64) -> u64 {
        let w = self.steps_per_entry;
        w.min(steps.saturating_sub(w.saturating_mul(t as u64)))
    }

    /// [`PerStep::covers`], in four series of one length (checked before a
    /// checkpoint goes on).
    pub(crate) fn fits(&self, steps: u64) -> bool {
        let n = self.cycles.len();
        self.covers(steps)
            && [self.spikes.len(), self.synaptic_events.len(), self.energy_pj.len()].iter().all(|&m| m == n)
    }
}

/// The run's counts that cost energy, in the order of the energy report's
/// items (static power apart).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct EventCounts([u64; 5]);

impl EventCounts {
    /// The counts of `s` so far.
    pub(crate) fn of(s: &Stats) -> EventCounts {
        EventCounts([s.row_reads, s.synaptic_events, s.neuron_updates, s.hops, s.node_writes])
    }

    /// The energy of these events and of `cycles` cycles of static power, pJ.
    pub(crate) fn energy_pj(&self, arch: &Arch, cycles: u64) -> f64 {
        let each = event_pj(arch);
        let dynamic: f64 = self.0.iter().zip(each).map(|(&c, pj)| c as f64 * pj).sum();
        dynamic + cycles as f64 * static_pj_per_cycle(arch)
    }

    /// Synaptic events.
    pub(crate) fn synaptic_events(&self) -> u64 {
        self.0[1]
    }

    /// The counts since `before`.
    pub(crate) fn since(&self, before: &EventCounts) -> EventCounts {
        EventCounts(std::array::from_fn(|i| self.0[i] - before.0[i]))
    }
}

/// Energy of one event of each kind of [`EventCounts`], pJ.
fn event_pj(arch: &Arch) -> [f64; 5] {
    let e = &arch.energy;
    [e.row_read_pj, e.synop_pj, e.neuron_update_pj, e.hop_pj, e.node_write_pj]
}

/// Static energy of one cycle, pJ: 1 mW for 1 us is 1000 pJ.
fn static_pj_per_cycle(arch: &Arch) -> f64 {
    arch.energy.static_mw * 1000.0 / arch.timing.clock_mhz
}

impl Stats {
    /// Fills the energy report from the counts.
    pub(crate) fn compute_energy(&mut self, arch: &Arch) {
        let e = &arch.energy;
        // One line per kind of [`EventCounts`], in its order.
        const EVENTS: [(&str, &str); 5] = [
            ("row_read", "arch energy.row_read_pj per crossbar row driven (projected, not measured)"),
            (
                "synaptic_event",
                "arch energy.synop_pj per node read into a column, volatile pulses included (projected)",
            ),
            ("neuron_update", "arch energy.neuron_update_pj per programmed column per step, active or not (projected)"),
            ("hop", "arch energy.hop_pj per packet per link crossed (projected)"),
            ("node_write", "arch energy.node_write_pj per STDP weight change, one pulse each (projected)"),
        ];
        let mut items: Vec<EnergyItem> = EVENTS
            .iter()
            .zip(EventCounts::of(self).0)
            .zip(event_pj(arch))
            .map(|((&(event, assumption), count), pj_each)| EnergyItem {
                event: event.into(),
                count,
                pj_each,
                pj: count as f64 * pj_each,
                assumption: assumption.into(),
            })
            .collect();
        let dynamic: f64 = items.iter().map(|i| i.pj).sum();
        // static_mw * time: 1 mW for 1 us is 1000 pJ.
        let static_pj = e.static_mw * self.time_us * 1000.0;
        items.push(EnergyItem {
            event: "static".into(),
            count: self.cycles_total,
            pj_each: static_pj_per_cycle(arch),
            pj: static_pj,
            assumption: "arch energy.static_mw of the whole array over the run's cycles at timing.clock_mhz \
                         (projected); count is cycles"
                .into(),
        });
        let total = dynamic + static_pj;
        self.energy_pj = EnergyReport {
            total_pj: total,
            dynamic_pj: dynamic,
            per_synaptic_event_pj: if self.synaptic_events > 0 { total / self.synaptic_events as f64 } else { 0.0 },
            items,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_merges_in_pairs_and_each_entry_sums_its_steps() {
        let n = 3 * MAX_SERIES_ENTRIES as u64 + 5;
        let mut p = PerStep::default();
        for i in 0..n {
            p.record(i, i, i % 3, 1, 0.5);
        }
        assert_eq!(p.steps_per_entry, 4);
        assert_eq!(p.cycles.len() as u64, n.div_ceil(4));
        assert!(p.covers(n) && p.fits(n));
        assert!(!p.covers(n + 4) && !p.covers(n - 4));
        for (t, &c) in p.cycles.iter().enumerate() {
            let steps = 4 * t as u64..(4 * t as u64 + 4).min(n);
            assert_eq!(c, steps.clone().sum::<u64>(), "entry {t}");
            assert_eq!(p.spikes[t], steps.clone().map(|i| i % 3).sum::<u64>(), "entry {t}");
            assert_eq!(p.synaptic_events[t], p.entry_steps(t, n), "entry {t}");
            assert_eq!(p.energy_pj[t], 0.5 * p.entry_steps(t, n) as f64, "entry {t}");
        }
        assert_eq!(p.entry_steps(p.cycles.len() - 1, n), 1);
    }

    #[test]
    fn a_short_series_has_one_entry_per_step_and_wider_entries_only_when_needed() {
        let mut p = PerStep::default();
        for i in 0..MAX_SERIES_ENTRIES as u64 {
            p.record(i, 1, 0, 0, 0.0);
        }
        assert_eq!((p.steps_per_entry, p.cycles.len()), (1, MAX_SERIES_ENTRIES));
        // Half as many entries of two steps each for these steps: wider
        // than they need.
        let mut q = p.clone();
        q.cycles.truncate(MAX_SERIES_ENTRIES / 2);
        q.steps_per_entry = 2;
        assert!(!q.covers(MAX_SERIES_ENTRIES as u64));
        q.steps_per_entry = 1;
        assert!(q.covers(MAX_SERIES_ENTRIES as u64 / 2));
        p.record(MAX_SERIES_ENTRIES as u64, 1, 0, 0, 0.0);
        assert_eq!((p.steps_per_entry, p.cycles.len()), (2, MAX_SERIES_ENTRIES / 2 + 1));
        assert!(p.covers(MAX_SERIES_ENTRIES as u64 + 1));
    }
}
