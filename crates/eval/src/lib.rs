//! Task evaluation (docs/evaluation.md): a dataset, encoded into input
//! spikes, run sample by sample on the reference simulator or on the
//! emulated array (reset between samples), read out as classes and scored;
//! and sweeps of that over device figures and seeds.
//!
//! Samples run in parallel, each from reset and with draws that depend on
//! its index alone, so every output is the same at any thread count. (An
//! array that learns and keeps what it learned runs its samples in order,
//! on one thread: each sample then starts from the last one's weights.)

pub mod chip;
pub mod data;
pub mod encode;
pub mod plot;
pub mod readout;
pub mod score;
pub mod sweep;

use chip::{Chip, SampleRun};
use readout::{Classes, Decision, Readout};
use score::Scores;

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A dataset or label file is refused.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// The request does not fit the network or bitstream (port names, sizes).
    #[error("{0}")]
    Usage(String),
    /// The emulator refused (device figures, bitstream).
    #[error("{0}")]
    Emu(fpnna_emu::EmuError),
    /// A bug: what should hold did not.
    #[error("internal error: {0}")]
    Bug(String),
}

/// How to score.
#[derive(Clone, Debug)]
pub struct Plan {
    /// How a class is read out.
    pub readout: Readout,
    /// Label the output neurons on the first this many samples, score the rest.
    pub assign_on: Option<usize>,
    /// Worker threads (0 or 1: the calling thread).
    pub threads: usize,
    /// Samples must run in order on one chip (it learns and keeps it).
    pub in_order: bool,
}

/// What an evaluation found.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The scores over the scored samples.
    pub scores: Scores,
    /// Each output neuron's class.
    pub classes: Classes,
    /// Index of the first scored sample (after the assignment split).
    pub first_scored: usize,
    /// Per sample: its decision.
    pub decisions: Vec<Decision>,
    /// Per sample: what it produced.
    pub runs: Vec<SampleRun>,
}

/// Runs every sample of `inputs` on chips made by `make` (one per worker)
/// and scores them against `labels`; `outputs` is the size of the output
/// population. `on_sample` is called as each sample finishes (from the
/// worker that ran it: a progress bar).
pub fn evaluate<C: Chip>(
    make: &(dyn Fn() -> Result<C, EvalError> + Sync),
    inputs: &encode::Inputs,
    labels: &[u32],
    outputs: u32,
    plan: &Plan,
    on_sample: &(dyn Fn() + Sync),
) -> Result<Evaluation, EvalError> {
    check_labels(inputs, labels, outputs, plan)?;
    let runs = run_all(make, inputs, plan, on_sample)?;
    let split = plan.assign_on.unwrap_or(0);
    let classes = match plan.assign_on {
        Some(n) => {
            let counts: Vec<Vec<u32>> = runs[..n].iter().map(|r| spike_counts(r, outputs)).collect();
            let k = labels.iter().max().map_or(0, |&m| m + 1);
            Classes::assign(&counts, &labels[..n], k, outputs)
        }
        None => Classes::identity(outputs),
    };
    let decisions: Vec<Decision> = runs.iter().map(|r| classes.decide(plan.readout, &r.out)).collect();
    let scores = score::score(&decisions[split..], &runs[split..], &labels[split..], classes.count);
    Ok(Evaluation { scores, classes, first_scored: split, decisions, runs })
}

fn check_labels(inputs: &encode::Inputs, labels: &[u32], outputs: u32, plan: &Plan) -> Result<(), EvalError> {
    if labels.len() != inputs.samples {
        return Err(EvalError::Usage(format!(
            "{} labels for {} samples: give one label per sample",
            labels.len(),
            inputs.samples
        )));
    }
    if let Some(n) = plan.assign_on
        && n >= inputs.samples
    {
        return Err(EvalError::Usage(format!(
            "--assign-on {n}: leaves no sample to score ({} in all)",
            inputs.samples
        )));
    }
    if plan.assign_on.is_none()
        && let Some((i, &l)) = labels.iter().enumerate().find(|&(_, &l)| l >= outputs)
    {
        return Err(EvalError::Usage(format!(
            "label {l} of sample {i}: the output population has {outputs} neurons, one per class \
             (classes 0..{}); label neurons on a split with --assign-on",
            outputs.saturating_sub(1)
        )));
    }
    Ok(())
}

/// Output spikes per neuron of one sample.
fn spike_counts(r: &SampleRun, outputs: u32) -> Vec<u32> {
    let mut c = vec![0u32; outputs as usize];
    for &(_, n) in &r.out {
        c[n as usize] += 1;
    }
    c
}

/// Runs every sample, in parallel chunks of consecutive samples (one chip
/// per chunk), or in order on one chip.
fn run_all<C: Chip>(
    make: &(dyn Fn() -> Result<C, EvalError> + Sync),
    inputs: &encode::Inputs,
    plan: &Plan,
    on_sample: &(dyn Fn() + Sync),
) -> Result<Vec<SampleRun>, EvalError> {
    let n = inputs.samples;
    let workers = if plan.in_order { 1 } else { plan.threads.clamp(1, n.max(1)) };
    let chunk = n.div_ceil(workers).max(1);
    let job = |range: std::ops::Range<usize>| -> Result<Vec<SampleRun>, EvalError> {
        let mut chip = make()?;
        range
            .map(|k| {
                let r = chip.run(k, &inputs.spikes(k));
                on_sample();
                r
            })
            .collect()
    };
    let ranges: Vec<_> = (0..n).step_by(chunk).map(|a| a..(a + chunk).min(n)).collect();
    let parts: Vec<Result<Vec<SampleRun>, EvalError>> = if workers > 1 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .build()
            .map_err(|e| EvalError::Usage(format!("--threads {workers}: cannot start threads: {e}")))?;
        use rayon::prelude::*;
        pool.install(|| ranges.into_par_iter().map(job).collect())
    } else {
        ranges.into_iter().map(job).collect()
    };
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}
