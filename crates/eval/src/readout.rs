//! Reading a class out of the output population's spikes: the neuron with
//! the most spikes, or the first to fire; optionally through neuron labels
//! assigned on a labelled split (as unsupervised STDP networks are scored).

/// How a class is read from the output spikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Readout {
    /// The class with the most spikes (lowest index on a tie).
    Count,
    /// The class of the first spike (lowest index among the step's first).
    First,
}

/// What one sample answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The predicted class; `None`: no output spike (a silent sample).
    pub class: Option<u32>,
    /// Several classes were level and the lowest index was taken.
    pub tie: bool,
    /// The step from which the answer stood (count: the running answer
    /// never changed after it; first: the first spike's step).
    pub step: Option<u64>,
}

/// Each output neuron's class: the identity, or labels assigned on a split.
#[derive(Clone, Debug, PartialEq)]
pub struct Classes {
    /// Class of each output neuron (`None`: never answered on the split).
    pub of_neuron: Vec<Option<u32>>,
    /// Number of classes.
    pub count: u32,
}

impl Classes {
    /// Output neuron i answers class i.
    pub fn identity(neurons: u32) -> Classes {
        Classes { of_neuron: (0..neurons).map(Some).collect(), count: neurons }
    }

    /// Labels each neuron with the class whose samples make it fire most
    /// on average (spike counts per sample by neuron, and their labels);
    /// a neuron that never fired stays unlabelled.
    pub fn assign(counts: &[Vec<u32>], labels: &[u32], classes: u32, neurons: u32) -> Classes {
        let c = classes as usize;
        let (mut sum, mut seen) = (vec![0f64; neurons as usize * c], vec![0u64; c]);
        for (row, &l) in counts.iter().zip(labels) {
            seen[l as usize] += 1;
            for (n, &k) in row.iter().enumerate() {
                sum[n * c + l as usize] += f64::from(k);
            }
        }
        let of_neuron = (0..neurons as usize)
            .map(|n| {
                let mean = |l: usize| if seen[l] == 0 { 0.0 } else { sum[n * c + l] / seen[l] as f64 };
                // The first class of the highest mean (strictly higher replaces).
                let best = (0..c).fold(None, |b: Option<(usize, f64)>, l| match b {
                    Some((_, m)) if mean(l) <= m => b,
                    _ if mean(l) > 0.0 => Some((l, mean(l))),
                    _ => b,
                });
                best.map(|(l, _)| l as u32)
            })
            .collect();
        Classes { of_neuron, count: classes }
    }

    /// The decision for one sample's output spikes ((step, neuron), sorted
    /// by step), over `steps` steps.
    pub fn decide(&self, readout: Readout, spikes: &[(u64, u32)]) -> Decision {
        match readout {
            Readout::First => self.first(spikes),
            Readout::Count => self.count(spikes),
        }
    }

    fn first(&self, spikes: &[(u64, u32)]) -> Decision {
        let labelled = |&(_, n): &(u64, u32)| self.of_neuron.get(n as usize).copied().flatten();
        let Some(&(t, _)) = spikes.iter().find(|s| labelled(s).is_some()) else {
            return Decision { class: None, tie: false, step: None };
        };
        let mut at_t: Vec<u32> = spikes.iter().filter(|s| s.0 == t).filter_map(labelled).collect();
        at_t.sort_unstable();
        at_t.dedup();
        Decision { class: Some(at_t[0]), tie: at_t.len() > 1, step: Some(t) }
    }

    /// Class scores are spike counts (identity) or the mean count of the
    /// neurons labelled with the class.
    fn count(&self, spikes: &[(u64, u32)]) -> Decision {
        let c = self.count as usize;
        let mut members = vec![0u32; c];
        for l in self.of_neuron.iter().flatten() {
            members[*l as usize] += 1;
        }
        let mut score = vec![0u64; c];
        let (mut answer, mut since): (Option<u32>, Option<u64>) = (None, None);
        let mut i = 0;
        while i < spikes.len() {
            let t = spikes[i].0;
            while i < spikes.len() && spikes[i].0 == t {
                if let Some(Some(l)) = self.of_neuron.get(spikes[i].1 as usize) {
                    score[*l as usize] += 1;
                }
                i += 1;
            }
            let now = best(&score, &members).0;
            if now != answer {
                (answer, since) = (now, Some(t));
            }
        }
        let (class, tie) = best(&score, &members);
        Decision { class, tie, step: since.filter(|_| class.is_some()) }
    }
}

/// The class of the highest score per member (lowest on a tie) and whether
/// it was a tie; `None` when every score is 0.
fn best(score: &[u64], members: &[u32]) -> (Option<u32>, bool) {
    // Compare score / members exactly, as cross products.
    let higher = |a: usize, b: usize| {
        u128::from(score[a]) * u128::from(members[b]) > u128::from(score[b]) * u128::from(members[a])
    };
    let level = |a: usize, b: usize| {
        u128::from(score[a]) * u128::from(members[b]) == u128::from(score[b]) * u128::from(members[a])
    };
    let mut top: Option<usize> = None;
    let mut tie = false;
    for l in (0..score.len()).filter(|&l| score[l] > 0) {
        match top {
            Some(t) if higher(l, t) => (top, tie) = (Some(l), false),
            Some(t) if level(l, t) => tie = true,
            Some(_) => {}
            None => top = Some(l),
        }
    }
    (top.map(|t| t as u32), tie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_takes_the_most_spikes_lowest_on_a_tie_and_says_when_it_stood() {
        let c = Classes::identity(3);
        // Neuron 2 leads at step 1, neuron 0 catches up at step 4 (a tie,
        // lowest wins) and leads from step 6.
        let spikes = [(1, 2), (4, 0), (6, 0), (7, 1)];
        assert_eq!(c.decide(Readout::Count, &spikes), Decision { class: Some(0), tie: false, step: Some(4) });
        let d = c.decide(Readout::Count, &spikes[..2]);
        assert_eq!(d, Decision { class: Some(0), tie: true, step: Some(4) });
        assert_eq!(c.decide(Readout::Count, &[]), Decision { class: None, tie: false, step: None });
    }

    #[test]
    fn first_takes_the_earliest_spike_lowest_among_its_step() {
        let c = Classes::identity(4);
        assert_eq!(
            c.decide(Readout::First, &[(3, 2), (3, 1), (5, 0)]),
            Decision { class: Some(1), tie: true, step: Some(3) }
        );
        assert_eq!(c.decide(Readout::First, &[(2, 3), (3, 1)]), Decision { class: Some(3), tie: false, step: Some(2) });
        assert_eq!(c.decide(Readout::First, &[]).class, None);
    }

    #[test]
    fn assignment_labels_neurons_by_their_strongest_class_and_scores_by_mean() {
        // Neurons 0 and 1 answer class 1, neuron 2 class 0, neuron 3 never.
        let counts = vec![vec![0, 1, 5, 0], vec![4, 3, 0, 0], vec![6, 1, 1, 0]];
        let c = Classes::assign(&counts, &[0, 1, 1], 2, 4);
        assert_eq!(c.of_neuron, vec![Some(1), Some(1), Some(0), None]);
        // Class 1 scores (2 + 0) / 2 = 1 per neuron, class 0 scores 1 / 1: a tie.
        let d = c.decide(Readout::Count, &[(0, 0), (1, 0), (2, 2), (3, 3)]);
        assert_eq!((d.class, d.tie), (Some(0), true));
        // Spikes of the unlabelled neuron alone: silent.
        assert_eq!(c.decide(Readout::Count, &[(0, 3)]).class, None);
        assert_eq!(c.decide(Readout::First, &[(0, 3), (1, 2)]).class, Some(0));
    }
}
