//! Sweeps: an evaluation at every point of a grid of device figures, for
//! several fault seeds; per point the mean, standard deviation, minimum and
//! maximum of accuracy and energy per inference.

use fpnna_emu::DeviceOverrides;
use serde::Serialize;

/// One varied parameter and its values (`--vary stuck-rate=0,0.01,0.05`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axis {
    /// A device figure's name (`read_noise`), or `stuck_rate`: the total
    /// stuck-at rate, half at G_min and half at G_max.
    pub name: String,
    /// Its values, in the order given.
    pub values: Vec<f64>,
}

/// The pseudo-figure of both stuck-at rates together.
pub const STUCK_RATE: &str = "stuck_rate";

/// The number of conductance levels (`nonvolatile.levels`): varying it
/// means compiling the source network again for each value.
pub const LEVELS: &str = "levels";

impl std::str::FromStr for Axis {
    type Err = String;

    fn from_str(s: &str) -> Result<Axis, String> {
        let (name, list) = s.split_once('=').ok_or_else(|| format!("`{s}`: expected NAME=V1,V2,..."))?;
        let name = name.trim().replace('-', "_");
        let values = list
            .split(',')
            .map(|v| v.trim().parse::<f64>().map_err(|_| format!("`{s}`: `{v}` is not a number")))
            .collect::<Result<Vec<f64>, String>>()?;
        if values.is_empty() || list.trim().is_empty() {
            return Err(format!("`{s}`: no values"));
        }
        // Check every value against the figure now, not after minutes of runs.
        for &v in &values {
            if name == LEVELS {
                if v.fract() != 0.0 || !(2.0..=1024.0).contains(&v) {
                    return Err(format!("`{s}`: {v} levels: must be a whole number in 2..=1024"));
                }
            } else {
                apply(&mut DeviceOverrides::default(), &name, v).map_err(|e| format!("`{s}`: {e}"))?;
            }
        }
        Ok(Axis { name, values })
    }
}

/// Sets the varied device parameter `name` to `x` ([`LEVELS`] is not one:
/// it is the compiler's).
pub fn apply(o: &mut DeviceOverrides, name: &str, x: f64) -> Result<(), String> {
    if name == STUCK_RATE {
        if !(0.0..=1.0).contains(&x) {
            return Err(format!("{STUCK_RATE} = {x}: must be a fraction in [0, 1]"));
        }
        o.stuck_at_min = Some(x / 2.0);
        o.stuck_at_max = Some(x / 2.0);
        return Ok(());
    }
    o.set(name, x).map_err(|e| e.to_string())
}

/// Every point of the grid (the first axis slowest), as one value per axis.
pub fn grid(axes: &[Axis]) -> Vec<Vec<f64>> {
    axes.iter().fold(vec![Vec::new()], |points, a| {
        points.iter().flat_map(|p| a.values.iter().map(move |&v| [p.as_slice(), &[v]].concat())).collect()
    })
}

/// Mean, standard deviation (sample, n - 1), minimum and maximum.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one value).
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Summary {
    /// The summary of `xs` (not empty).
    pub fn of(xs: &[f64]) -> Summary {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = if xs.len() > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        let (min, max) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
        Summary { mean, std: var.sqrt(), min, max }
    }
}

/// One grid point's results over the seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The value of each axis.
    pub values: Vec<f64>,
    /// Accuracy of each seed, in seed order.
    pub accuracy_by_seed: Vec<f64>,
    /// Accuracy over the seeds.
    pub accuracy: Summary,
    /// Energy per inference over the seeds, pJ.
    pub energy_pj: Summary,
}

/// A whole sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sweep {
    /// The varied parameters.
    pub axes: Vec<Axis>,
    /// The seeds of each point.
    pub seeds: Vec<u64>,
    /// Every point, in grid order.
    pub points: Vec<Point>,
}

impl Sweep {
    /// The table as CSV: one row per point.
    pub fn csv(&self) -> String {
        let mut s: String = self.axes.iter().map(|a| format!("{},", a.name)).collect();
        s += "seeds,accuracy_mean,accuracy_std,accuracy_min,accuracy_max,";
        s += "energy_pj_mean,energy_pj_std,energy_pj_min,energy_pj_max\n";
        for p in &self.points {
            for v in &p.values {
                s += &format!("{v},");
            }
            let (a, e) = (&p.accuracy, &p.energy_pj);
            s += &format!("{},{:.6},{:.6},{:.6},{:.6},", self.seeds.len(), a.mean, a.std, a.min, a.max);
            s += &format!("{:.3},{:.3},{:.3},{:.3}\n", e.mean, e.std, e.min, e.max);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_and_check_their_values() {
        let a: Axis = "stuck-rate=0,0.01,0.1".parse().unwrap();
        assert_eq!((a.name.as_str(), a.values.as_slice()), ("stuck_rate", &[0.0, 0.01, 0.1][..]));
        for (bad, why) in [
            ("read-noise", "expected NAME=V1,V2"),
            ("read-noise=0,x", "`x` is not a number"),
            ("read-noise=2", "must be a fraction"),
            ("stuck-rate=1.5", "must be a fraction"),
            ("noise=0.1", "no device figure is called `noise`"),
            ("levels=8,2.5", "must be a whole number in 2..=1024"),
            ("levels=1", "must be a whole number in 2..=1024"),
        ] {
            let e = bad.parse::<Axis>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn the_grid_is_the_product_first_axis_slowest() {
        let a = Axis { name: "a".into(), values: vec![1.0, 2.0] };
        let b = Axis { name: "b".into(), values: vec![10.0, 20.0, 30.0] };
        let g = grid(&[a, b]);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![1.0, 10.0]);
        assert_eq!(g[2], vec![1.0, 30.0]);
        assert_eq!(g[3], vec![2.0, 10.0]);
        assert_eq!(grid(&[]), vec![Vec::<f64>::new()]);
    }

    #[test]
    fn summaries() {
        let s = Summary::of(&[0.8, 0.9, 1.0]);
        assert!((s.mean - 0.9).abs() < 1e-12 && (s.std - 0.1).abs() < 1e-12);
        assert_eq!((s.min, s.max), (0.8, 1.0));
        assert_eq!(Summary::of(&[0.5]).std, 0.0);
        let mut o = DeviceOverrides::default();
        apply(&mut o, STUCK_RATE, 0.1).unwrap();
        assert_eq!((o.stuck_at_min, o.stuck_at_max), (Some(0.05), Some(0.05)));
    }
}
