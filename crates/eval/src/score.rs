//! Scores of an evaluation: accuracy, confusion matrix, per-class
//! accuracy, ties and silent samples, and each inference's cost.

use crate::chip::SampleRun;
use crate::readout::Decision;
use serde::Serialize;

/// The scores of an evaluation (the JSON report's `scores`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    /// Samples scored (after the assignment split, if any).
    pub samples: usize,
    /// Samples answered correctly.
    pub correct: usize,
    /// correct / samples.
    pub accuracy: f64,
    /// Samples decided by a tie (lowest class taken).
    pub ties: usize,
    /// Samples without an output spike (counted wrong).
    pub silent: usize,
    /// Number of classes.
    pub classes: u32,
    /// Samples by true class (rows) and predicted class (columns); silent
    /// samples are in `silent_by_class`.
    pub confusion: Vec<Vec<u64>>,
    /// Silent samples by true class.
    pub silent_by_class: Vec<u64>,
    /// Accuracy of each class.
    pub per_class: Vec<ClassScore>,
    /// Mean figures of one inference.
    pub per_inference: PerInference,
}

/// The score of one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScore {
    /// The class.
    pub class: u32,
    /// Its samples.
    pub samples: u64,
    /// Those answered correctly.
    pub correct: u64,
    /// correct / samples (0 without samples).
    pub accuracy: f64,
}

/// Means over the scored samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PerInference {
    /// Neuron spikes.
    pub spikes: f64,
    /// Synaptic events.
    pub synaptic_events: f64,
    /// Steps to the deciding spike (over the decided samples).
    pub latency_steps: Option<f64>,
    /// Emulator only: cycles of an inference, its reset included.
    pub cycles: Option<f64>,
    /// Emulator only: energy of an inference, its reset included, pJ.
    pub energy_pj: Option<f64>,
    /// Emulator only: cycles from the sample's start to the deciding spike.
    pub latency_cycles: Option<f64>,
    /// Emulator only: cycles of the reset before a sample.
    pub reset_cycles: Option<f64>,
    /// Emulator only: energy of the reset before a sample, pJ.
    pub reset_energy_pj: Option<f64>,
}

/// Scores `decisions` of `runs` against `labels` (all three per sample).
pub fn score(decisions: &[Decision], runs: &[SampleRun], labels: &[u32], classes: u32) -> Scores {
    let c = classes as usize;
    let mut confusion = vec![vec![0u64; c]; c];
    let mut silent_by_class = vec![0u64; c];
    let (mut correct, mut ties, mut silent) = (0, 0, 0);
    for (d, &l) in decisions.iter().zip(labels) {
        ties += usize::from(d.tie);
        match d.class {
            Some(p) => {
                confusion[l as usize][p as usize] += 1;
                correct += usize::from(p == l);
            }
            None => {
                silent += 1;
                silent_by_class[l as usize] += 1;
            }
        }
    }
    let per_class = (0..c)
        .map(|k| {
            let samples = confusion[k].iter().sum::<u64>() + silent_by_class[k];
            let ok = confusion[k][k];
            ClassScore { class: k as u32, samples, correct: ok, accuracy: ratio(ok as f64, samples as f64) }
        })
        .collect();
    let n = decisions.len();
    Scores {
        samples: n,
        correct,
        accuracy: ratio(correct as f64, n as f64),
        ties,
        silent,
        classes,
        confusion,
        silent_by_class,
        per_class,
        per_inference: per_inference(decisions, runs),
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn mean(it: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = it.fold((0.0, 0u64), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn per_inference(decisions: &[Decision], runs: &[SampleRun]) -> PerInference {
    let hw = || runs.iter().filter_map(|r| r.hw.as_ref());
    let on_hw = runs.first().is_some_and(|r| r.hw.is_some());
    let latency_cycles =
        decisions.iter().zip(runs).filter_map(|(d, r)| Some(*r.hw.as_ref()?.cycles_to.get(d.step? as usize)? as f64));
    PerInference {
        spikes: mean(runs.iter().map(|r| r.spikes as f64)).unwrap_or(0.0),
        synaptic_events: mean(runs.iter().map(|r| r.synaptic_events as f64)).unwrap_or(0.0),
        latency_steps: mean(decisions.iter().filter_map(|d| d.step).map(|s| (s + 1) as f64)),
        cycles: on_hw.then(|| mean(hw().map(|h| (h.cycles + h.reset.cycles) as f64))).flatten(),
        energy_pj: on_hw.then(|| mean(hw().map(|h| h.energy_pj + h.reset.energy_pj))).flatten(),
        latency_cycles: on_hw.then(|| mean(latency_cycles)).flatten(),
        reset_cycles: on_hw.then(|| mean(hw().map(|h| h.reset.cycles as f64))).flatten(),
        reset_energy_pj: on_hw.then(|| mean(hw().map(|h| h.reset.energy_pj))).flatten(),
    }
}
