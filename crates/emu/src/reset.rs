//! The array's reset between inferences (docs/emulator.md, "Reset"): every
//! neuron register back to its initial potential with no current, every
//! volatile node back to rest, traces cleared, the spikes in flight
//! dropped; programmed levels stay, and so do learned STDP weights unless
//! the reset is told to restore them.

use crate::{EmuError, EmuState, Emulator};

/// What a reset does with learned (STDP) weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plastic {
    /// Keep what was learned (the weights are non-volatile state).
    Keep,
    /// Restore the programmed initial weights (a write per changed node).
    Restore,
}

/// What a reset cost on the hardware.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResetCost {
    /// Cycles: one neuron-update pass of every tile (tiles in parallel,
    /// `timing.neurons_per_cycle` columns a cycle) and the barrier.
    pub cycles: u64,
    /// Energy, pJ: a register write per neuron (`energy.neuron_update_pj`)
    /// and a write pulse per node moved back (`energy.node_write_pj`).
    pub energy_pj: f64,
    /// Neuron registers cleared.
    pub neurons: u64,
    /// Volatile nodes away from rest, and (restoring) learned weights
    /// away from their programmed value, written back.
    pub nodes_written: u64,
}

impl Emulator {
    /// Resets the array between inferences; the next run starts at emulator
    /// step `at_step` (a later sample's steps, so that read noise and every
    /// per-event draw differ from sample to sample; device faults, drawn
    /// when the array was configured, stay).
    pub fn reset(&mut self, at_step: u64, plastic: Plastic) -> Result<ResetCost, EmuError> {
        let now = self.save_state();
        let mut next: EmuState = (*self.initial).clone();
        let mut cost = ResetCost::default();
        for (t, (n, fresh)) in next.tiles.iter_mut().zip(now.tiles.iter().zip(&self.initial.tiles)) {
            cost.neurons += t.neurons.len() as u64;
            for (node, (cur, init)) in t.nodes.iter_mut().zip(n.nodes.iter().zip(&fresh.nodes)) {
                let keep = plastic == Plastic::Keep && cur.weight != init.weight;
                if keep {
                    node.weight = cur.weight;
                }
                cost.nodes_written += u64::from(cur.x != init.x || (!keep && cur.weight != init.weight));
                // A kept weight goes on relaxing from its last touch (retention).
                node.step = if keep { cur.step.min(at_step) } else { at_step };
            }
            t.post_steps.iter_mut().for_each(|s| *s = at_step);
        }
        let arch = &self.b.arch;
        let per_cycle = u64::from(arch.timing.neurons_per_cycle.max(1));
        let widest = next.tiles.iter().map(|t| t.neurons.len() as u64).max().unwrap_or(0);
        cost.cycles = widest.div_ceil(per_cycle) + u64::from(arch.timing.barrier_cycles);
        cost.energy_pj =
            cost.neurons as f64 * arch.energy.neuron_update_pj + cost.nodes_written as f64 * arch.energy.node_write_pj;
        next.step = at_step;
        next.cycle = now.cycle + cost.cycles;
        self.load_state(&next)?;
        Ok(cost)
    }
}
