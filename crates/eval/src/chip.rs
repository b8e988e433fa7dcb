//! What a sample runs on: the reference simulator (a source network) or
//! the cycle-level emulator (a bitstream, never the source). Each runs one
//! sample from reset and returns the output population's spikes and what
//! the inference cost.

use crate::EvalError;
use fpnna_emu::{EmuOptions, Emulator, Observer, Plastic, ResetCost, StepView};
use std::ops::Range;

/// What one sample produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleRun {
    /// Output spikes: (step in the sample, neuron of the output population), by step.
    pub out: Vec<(u64, u32)>,
    /// Spikes of every neuron.
    pub spikes: u64,
    /// Synaptic events.
    pub synaptic_events: u64,
    /// The emulator's figures (none on the reference simulator).
    pub hw: Option<Hardware>,
}

/// An inference's cost on the array.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hardware {
    /// Cycles of the run (the reset apart).
    pub cycles: u64,
    /// Energy of the run, pJ (the reset apart).
    pub energy_pj: f64,
    /// Cycles from the sample's start to the end of each step.
    pub cycles_to: Vec<u64>,
    /// The reset before the sample.
    pub reset: ResetCost,
}

/// Something that runs samples: one per worker thread.
pub trait Chip {
    /// Runs sample `k` (its index in the dataset) from reset, with input
    /// spikes (step, channel) on the input port.
    fn run(&mut self, k: usize, input: &[(u64, u32)]) -> Result<SampleRun, EvalError>;
}

/// The reference simulator of a network (quantized or exact, as given).
pub struct SimChip<'a> {
    net: &'a fpnna_ir::Network,
    input: fpnna_ir::PopId,
    output: fpnna_ir::PopId,
    steps: u64,
}

impl<'a> SimChip<'a> {
    /// `input` must be an input port and `output` a neuron population of `net`.
    pub fn new(net: &'a fpnna_ir::Network, input: &str, output: &str, steps: u64) -> Result<SimChip<'a>, EvalError> {
        let find = |name: &str| net.pop_by_name(name);
        let inputs = || names(net.pops().filter(|(_, p)| p.kind == fpnna_ir::PopKind::Input).map(|(_, p)| &p.name));
        let input_id = find(input).filter(|&i| net.pop(i).kind == fpnna_ir::PopKind::Input).ok_or_else(|| {
            EvalError::Usage(format!("--input {input}: no such input port (input ports: {})", inputs()))
        })?;
        let neuron_pops = || names(net.pops().filter(|(_, p)| p.neurons().is_some()).map(|(_, p)| &p.name));
        let output_id = find(output).filter(|&i| net.pop(i).neurons().is_some()).ok_or_else(|| {
            EvalError::Usage(format!("--output {output}: no such neuron population (populations: {})", neuron_pops()))
        })?;
        if !net.recorded()[output_id.0 as usize] {
            return Err(EvalError::Usage(format!(
                "--output {output}: the network does not record it (add `output {output};` to the source)"
            )));
        }
        Ok(SimChip { net, input: input_id, output: output_id, steps })
    }

    /// Channels of the input port.
    pub fn channels(&self) -> u32 {
        self.net.pop(self.input).size
    }

    /// Neurons of the output population.
    pub fn outputs(&self) -> u32 {
        self.net.pop(self.output).size
    }
}

fn names<'s>(it: impl Iterator<Item = &'s String>) -> String {
    let v: Vec<&str> = it.map(String::as_str).collect();
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

impl Chip for SimChip<'_> {
    fn run(&mut self, _k: usize, input: &[(u64, u32)]) -> Result<SampleRun, EvalError> {
        let stim: Vec<fpnna_sim::Spike> =
            input.iter().map(|&(step, index)| fpnna_sim::Spike { step, pop: self.input, index }).collect();
        let r = fpnna_sim::simulate(self.net, self.steps, &stim).map_err(|e| EvalError::Bug(e.to_string()))?;
        let out = r.spikes.iter().filter(|s| s.pop == self.output).map(|s| (s.step, s.index)).collect();
        let spikes =
            self.net.pops().filter(|(_, p)| p.neurons().is_some()).map(|(id, _)| r.counts[id.0 as usize]).sum();
        Ok(SampleRun { out, spikes, synaptic_events: r.synaptic_events, hw: None })
    }
}

/// The emulator of a bitstream: a configured array, reset before each sample.
pub struct EmuChip {
    emu: Emulator,
    input: Range<u32>,
    output: Range<u32>,
    steps: u64,
    plastic: Plastic,
}

/// How to make the emulator chips of an evaluation (one per thread: each
/// configures the same array, so the same device faults).
pub struct EmuSpec<'a> {
    /// The bitstream.
    pub bitstream: &'a fpnna_bitstream::Validated,
    /// Device figures and seed (threads are the evaluation's).
    pub opts: EmuOptions,
    /// The input port.
    pub input: String,
    /// The output population (a symbol of the bitstream) or output port.
    pub output: String,
    /// Steps per sample.
    pub steps: u64,
    /// What a reset does with learned weights.
    pub plastic: Plastic,
}

impl EmuSpec<'_> {
    /// A configured array for this evaluation.
    pub fn chip(&self) -> Result<EmuChip, EvalError> {
        let opts = EmuOptions { threads: 1, ..self.opts.clone() };
        let emu = Emulator::new(self.bitstream, opts).map_err(EvalError::Emu)?;
        let input = match emu.port(&self.input) {
            Some(p) if p.kind == fpnna_bitstream::PortKind::Input => p.key_base..p.key_base + p.size,
            _ => {
                let inputs = emu.ports().iter().filter(|p| p.kind == fpnna_bitstream::PortKind::Input);
                let list = names(inputs.map(|p| &p.name));
                return Err(EvalError::Usage(format!(
                    "--input {}: no such input port (input ports: {list})",
                    self.input
                )));
            }
        };
        let output = emu
            .keys(&self.output)
            .filter(|_| emu.port(&self.output).is_none_or(|p| p.kind != fpnna_bitstream::PortKind::Input));
        let output = output.ok_or_else(|| {
            EvalError::Usage(format!(
                "--output {}: no population or output port of that name in the bitstream",
                self.output
            ))
        })?;
        Ok(EmuChip { emu, input, output, steps: self.steps, plastic: self.plastic })
    }
}

impl EmuChip {
    /// Channels of the input port.
    pub fn channels(&self) -> u32 {
        self.input.end - self.input.start
    }

    /// Neurons of the output population.
    pub fn outputs(&self) -> u32 {
        self.output.end - self.output.start
    }

    /// The configured array.
    pub fn emulator(&self) -> &Emulator {
        &self.emu
    }
}

/// Collects the output population's spikes and each step's cycles.
struct Collect {
    output: Range<u32>,
    start_cycle: Option<u64>,
    first_step: u64,
    out: Vec<(u64, u32)>,
    cycles_to: Vec<u64>,
}

impl Observer for Collect {
    fn step(&mut self, v: &StepView<'_>) -> std::io::Result<()> {
        let start = *self.start_cycle.get_or_insert(v.cycle_start);
        self.cycles_to.push(v.cycle_start + v.cycles - start);
        let step = v.step - self.first_step;
        let lo = v.spikes.partition_point(|&k| k < self.output.start);
        let hi = v.spikes.partition_point(|&k| k < self.output.end);
        self.out.extend(v.spikes[lo..hi].iter().map(|&k| (step, k - self.output.start)));
        Ok(())
    }

    fn wants_link_load(&self) -> bool {
        false
    }
}

impl Chip for EmuChip {
    fn run(&mut self, k: usize, input: &[(u64, u32)]) -> Result<SampleRun, EvalError> {
        let at = (k as u64).checked_mul(self.steps).ok_or_else(|| EvalError::Usage("too many steps in all".into()))?;
        let reset = self.emu.reset(at, self.plastic).map_err(EvalError::Emu)?;
        let stim: Vec<(u64, u32)> = input.iter().map(|&(s, c)| (s, self.input.start + c)).collect();
        let mut obs = Collect {
            output: self.output.clone(),
            start_cycle: None,
            first_step: at,
            out: Vec::new(),
            cycles_to: Vec::new(),
        };
        let r = self.emu.run(self.steps, &stim, &mut obs).map_err(EvalError::Emu)?;
        let s = &r.stats;
        let hw = Hardware { cycles: s.cycles_total, energy_pj: s.energy_pj.total_pj, cycles_to: obs.cycles_to, reset };
        Ok(SampleRun { out: obs.out, spikes: s.neuron_spikes, synaptic_events: s.synaptic_events, hw: Some(hw) })
    }
}
