//! Turning a sample into input spikes: rate coding of features in [0, 1]
//! (Poisson or Bernoulli), or a pre-encoded spike tensor. Every draw is a
//! function of (seed, sample, step, channel): the same spikes whatever the
//! thread count or the order samples run in.

use crate::data::{Array, DataError};

/// How features become spikes.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Encoding {
    /// A Poisson process per channel at `x * rate_max_hz`: a step of `dt`
    /// holds a spike with probability `1 - exp(-x * rate_max_hz * dt)`.
    Poisson {
        /// The rate of a channel at x = 1, Hz.
        rate_max_hz: f64,
    },
    /// A spike per step with probability x (snnTorch's `spikegen.rate`).
    Bernoulli,
    /// The data is already spikes: samples x steps x channels; a count
    /// above 1 is one spike (an input channel carries one per step).
    Spikes,
}

/// The inputs of every sample, checked once.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// Samples.
    pub samples: usize,
    /// Channels of the input port.
    pub channels: usize,
    /// Steps of each sample.
    pub steps: u64,
    encoding: Encoding,
    dt_ms: f64,
    seed: u64,
    data: Array,
    /// Entries of a spike tensor above 1, clipped to one spike.
    pub clipped: u64,
}

/// Stream of the encoder's draws (apart from the device model's).
const STREAM: u64 = 0xE9C0_DE00;

impl Inputs {
    /// Checks `data` (from `file`) for `encoding`: features are samples x
    /// channels in [0, 1]; spikes are samples x steps x channels of
    /// non-negative integers, with at most `steps` steps (the rest silent).
    pub fn new(
        file: &str,
        data: Array,
        encoding: Encoding,
        steps: u64,
        dt_ms: f64,
        seed: u64,
    ) -> Result<Inputs, DataError> {
        let (samples, channels, mut clipped) = match (encoding, data.shape.as_slice()) {
            (Encoding::Spikes, &[s, t, c]) => {
                if t as u64 > steps {
                    return Err(DataError::at(file, "", format!("{t} steps per sample, more than the run's {steps}")));
                }
                (s, c, 0)
            }
            (Encoding::Spikes, _) => {
                return Err(DataError::at(
                    file,
                    "",
                    format!("shape {:?}: spikes are samples x steps x channels", data.shape),
                ));
            }
            (_, &[s, c]) => (s, c, 0),
            (_, _) => {
                return Err(DataError::at(
                    file,
                    "",
                    format!("shape {:?}: features are samples x channels", data.shape),
                ));
            }
        };
        let width = data.shape[1..].iter().product::<usize>().max(1);
        for (i, &x) in data.values.iter().enumerate() {
            let place = || match encoding {
                Encoding::Spikes => {
                    let (s, rest) = (i / width, i % width);
                    format!("sample {s}, step {}, channel {}", rest / channels.max(1), rest % channels.max(1))
                }
                _ => format!("sample {}, channel {}", i / width, i % width),
            };
            match encoding {
                Encoding::Spikes if x < 0.0 || x.fract() != 0.0 => {
                    return Err(DataError::at(file, place(), format!("{x} is not a spike count (0, 1, 2, ...)")));
                }
                Encoding::Spikes => clipped += u64::from(x > 1.0),
                _ if !(0.0..=1.0).contains(&x) => {
                    return Err(DataError::at(file, place(), format!("{x} lies outside [0, 1] (rate coding)")));
                }
                _ => {}
            }
        }
        Ok(Inputs { samples, channels, steps, encoding, dt_ms, seed, data, clipped })
    }

    /// The encoding.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The input spikes of sample `k`: (step, channel), sorted by step.
    pub fn spikes(&self, k: usize) -> Vec<(u64, u32)> {
        let c = self.channels;
        match self.encoding {
            Encoding::Spikes => {
                let t = self.data.shape[1];
                let v = &self.data.values[k * t * c..(k + 1) * t * c];
                (0..t * c).filter(|&i| v[i] > 0.0).map(|i| ((i / c) as u64, (i % c) as u32)).collect()
            }
            Encoding::Bernoulli | Encoding::Poisson { .. } => {
                let x = &self.data.values[k * c..(k + 1) * c];
                let p: Vec<f64> = x.iter().map(|&x| self.probability(x)).collect();
                let mut out = Vec::new();
                for step in 0..self.steps {
                    for (ch, &p) in p.iter().enumerate() {
                        if p > 0.0 && self.draw(k, step, ch) < p {
                            out.push((step, ch as u32));
                        }
                    }
                }
                out
            }
        }
    }

    /// The per-step spike probability of a channel at value `x`.
    fn probability(&self, x: f64) -> f64 {
        match self.encoding {
            Encoding::Poisson { rate_max_hz } => 1.0 - (-x * rate_max_hz * self.dt_ms / 1000.0).exp(),
            _ => x,
        }
    }

    /// A uniform draw in [0, 1) of (seed, sample, step, channel).
    fn draw(&self, k: usize, step: u64, ch: usize) -> f64 {
        let h = fpnna_model::hash3(fpnna_model::hash3(self.seed, STREAM, k as u64), step, ch as u64);
        (h >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(values: Vec<f64>, channels: usize) -> Array {
        Array { shape: vec![values.len() / channels, channels], values }
    }

    #[test]
    fn rate_coding_follows_the_probability_and_repeats_exactly() {
        let data = features(vec![0.0, 0.25, 1.0, 0.5, 0.5, 0.5], 3);
        let inp = Inputs::new("x", data, Encoding::Bernoulli, 4000, 1.0, 7).unwrap();
        let s = inp.spikes(0);
        assert_eq!(s, inp.spikes(0), "a function of (seed, sample, step, channel)");
        let count = |ch: u32| s.iter().filter(|x| x.1 == ch).count();
        assert_eq!(count(0), 0);
        assert_eq!(count(2), 4000);
        assert!((800..1200).contains(&count(1)), "{}", count(1));
        assert_ne!(inp.spikes(1), inp.spikes(0)[..0].to_vec());
        assert!(s.windows(2).all(|w| w[0] <= w[1]), "sorted by step");
        // Poisson: 1 - exp(-rate dt) per step; 100 Hz at 1 ms is 9.5 %.
        let data = features(vec![1.0], 1);
        let inp = Inputs::new("x", data, Encoding::Poisson { rate_max_hz: 100.0 }, 10_000, 1.0, 1).unwrap();
        assert!((850..1050).contains(&inp.spikes(0).len()), "{}", inp.spikes(0).len());
    }

    #[test]
    fn spike_tensors_clip_counts_and_bad_values_are_named() {
        let data = Array { shape: vec![1, 2, 2], values: vec![0.0, 1.0, 3.0, 0.0] };
        let inp = Inputs::new("s.npy", data, Encoding::Spikes, 5, 1.0, 1).unwrap();
        assert_eq!(inp.spikes(0), vec![(0, 1), (1, 0)]);
        assert_eq!(inp.clipped, 1);
        let bad = |data: Array, enc: Encoding, steps: u64| {
            Inputs::new("d.csv", data, enc, steps, 1.0, 1).unwrap_err().to_string()
        };
        let e = bad(features(vec![0.5, 1.5], 2), Encoding::Bernoulli, 10);
        assert_eq!(e, "d.csv: sample 0, channel 1: 1.5 lies outside [0, 1] (rate coding)");
        let e = bad(Array { shape: vec![1, 2, 1], values: vec![0.0, 0.5] }, Encoding::Spikes, 10);
        assert_eq!(e, "d.csv: sample 0, step 1, channel 0: 0.5 is not a spike count (0, 1, 2, ...)");
        let e = bad(Array { shape: vec![1, 20, 1], values: vec![0.0; 20] }, Encoding::Spikes, 10);
        assert!(e.contains("20 steps per sample, more than the run's 10"), "{e}");
        let e = bad(Array { shape: vec![4], values: vec![0.0; 4] }, Encoding::Bernoulli, 10);
        assert!(e.contains("features are samples x channels"), "{e}");
    }
}
