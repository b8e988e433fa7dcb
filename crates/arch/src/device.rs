//! The device figures: the non-idealities of the nodes, one type for every
//! user of them.
//!
//! An architecture file holds them in its `[nonvolatile]` and `[volatile]`
//! sections; [`Arch::devices`] gathers them into [`DeviceFigures`], the
//! figures in force for a run. [`DeviceOverrides`] changes some of them (the
//! emulator's options, the command line's device flags), field by field,
//! under the same names. Each figure is declared once, in the table of
//! `device_figures!` below: its name, its section in the file, the value of
//! ideal devices and its allowed range.

use crate::Arch;
use serde::{Deserialize, Serialize};

/// The allowed range of a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// A fraction in [0, 1].
    Fraction,
    /// An exponent in [0, 1].
    Exponent,
    /// Any count.
    Count,
}

impl Range {
    /// Why a value outside the range is refused (`None`: it is inside).
    pub fn refuse(self, x: f64) -> Option<&'static str> {
        match self {
            Range::Fraction if !(0.0..=1.0).contains(&x) => Some("must be a fraction in [0, 1]"),
            Range::Exponent if !(0.0..=1.0).contains(&x) => Some("must be in [0, 1]"),
            _ => None,
        }
    }
}

/// One declared figure, for tools that list or address figures by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Figure {
    /// Field name (as in the architecture file and the command line, with
    /// `-` for `_` there).
    pub name: &'static str,
    /// Dotted path in the architecture file (`nonvolatile.read_noise`).
    pub path: &'static str,
    /// Section of the architecture file: `nonvolatile` or `volatile`.
    pub section: &'static str,
    /// What it means.
    pub doc: &'static str,
    /// Its allowed range.
    pub range: Range,
}

/// A refused figure: which, its value and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FigureError {
    /// The figure.
    pub figure: &'static Figure,
    /// The value found.
    pub value: String,
    /// Why it is refused.
    pub why: &'static str,
}

impl std::fmt::Display for FigureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` = {}: {}", self.figure.name, self.value, self.why)
    }
}

macro_rules! device_figures {
    ($($(#[doc = $doc:literal])* $name:ident : $ty:ty = $section:ident, ideal $ideal:expr, $range:ident;)*) => {
        /// The device figures in force for a run (DEVICE-MODEL defaults, from
        /// the architecture, after any overrides).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct DeviceFigures {
            $($(#[doc = $doc])* pub $name: $ty,)*
        }

        /// Overrides of some device figures; `None` keeps the figure as it is.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct DeviceOverrides {
            $($(#[doc = $doc])* pub $name: Option<$ty>,)*
        }

        /// Every figure, in declaration order.
        pub const FIGURES: &[Figure] = &[
            $(Figure {
                name: stringify!($name),
                path: concat!(stringify!($section), ".", stringify!($name)),
                section: stringify!($section),
                doc: concat!($($doc),*),
                range: Range::$range,
            },)*
        ];

        impl DeviceFigures {
            /// Ideal devices: every non-ideality off.
            pub fn ideal() -> Self {
                DeviceFigures { $($name: $ideal,)* }
            }

            /// The figures of an architecture file.
            pub fn of(arch: &Arch) -> Self {
                DeviceFigures { $($name: arch.$section.$name,)* }
            }

            /// These figures with the overridden ones replaced.
            pub fn with(&self, o: &DeviceOverrides) -> Self {
                DeviceFigures { $($name: o.$name.unwrap_or(self.$name),)* }
            }

            /// Every figure as (name, value), in declaration order.
            pub fn values(&self) -> Vec<(&'static str, f64)> {
                vec![$((stringify!($name), f64::from(self.$name)),)*]
            }
        }

        impl DeviceOverrides {
            /// Every figure explicitly set to its ideal value (a base for
            /// turning one on).
            pub fn all_off() -> Self {
                DeviceOverrides { $($name: Some($ideal),)* }
            }

            /// Overrides the figure called `name` (`_` or `-` between
            /// words) with `x`, checked against the figure's range (a count
            /// must be a whole number).
            pub fn set(&mut self, name: &str, x: f64) -> Result<(), SetError> {
                let name = name.replace('-', "_");
                $(if name == stringify!($name) {
                    let figure = FIGURES.iter().find(|f| f.name == stringify!($name)).expect("declared");
                    if let Some(why) = figure.range.refuse(x) {
                        return Err(SetError::Refused(FigureError { figure, value: x.to_string(), why }));
                    }
                    self.$name = Some(<$ty as FigureValue>::from_f64(x).ok_or(SetError::Refused(FigureError {
                        figure,
                        value: x.to_string(),
                        why: "must be a whole number in range",
                    }))?);
                    return Ok(());
                })*
                Err(SetError::Unknown(name))
            }
        }
    };
}

/// Why [`DeviceOverrides::set`] refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetError {
    /// No figure has this name.
    Unknown(String),
    /// The value is outside the figure's range.
    Refused(FigureError),
}

impl std::fmt::Display for SetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetError::Unknown(n) => {
                let names: Vec<&str> = FIGURES.iter().map(|f| f.name).collect();
                write!(f, "no device figure is called `{n}` (figures: {})", names.join(", "))
            }
            SetError::Refused(e) => e.fmt(f),
        }
    }
}

/// The types figures have, from the f64 a sweep or a tool gives.
trait FigureValue: Sized {
    fn from_f64(x: f64) -> Option<Self>;
}

impl FigureValue for f64 {
    fn from_f64(x: f64) -> Option<f64> {
        x.is_finite().then_some(x)
    }
}

impl FigureValue for u16 {
    fn from_f64(x: f64) -> Option<u16> {
        (x.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&x)).then_some(x as u16)
    }
}

device_figures! {
    /// Programming error, std. dev. as a fraction of the level range.
    program_error: f64 = nonvolatile, ideal 0.0, Fraction;
    /// Write-verify iterations at most (0: one blind write).
    write_verify_max: u16 = nonvolatile, ideal 0, Count;
    /// Read noise, std. dev. as a fraction of the node's weight, per read.
    read_noise: f64 = nonvolatile, ideal 0.0, Fraction;
    /// Drift exponent nu of w(t) = w0 (t / dt)^-nu (non-volatile nodes).
    drift_nu: f64 = nonvolatile, ideal 0.0, Exponent;
    /// Fraction of non-volatile nodes stuck at G_min (level 0).
    stuck_at_min: f64 = nonvolatile, ideal 0.0, Fraction;
    /// Fraction of non-volatile nodes stuck at G_max (top level).
    stuck_at_max: f64 = nonvolatile, ideal 0.0, Fraction;
    /// Fraction of forming pulses that succeed (failures are stuck at G_min).
    forming_yield: f64 = nonvolatile, ideal 1.0, Fraction;
    /// Cycle-to-cycle noise of a volatile increment, fraction of the increment.
    c2c_noise: f64 = volatile, ideal 0.0, Fraction;
    /// Device-to-device spread of volatile tau, fraction.
    d2d_tau_spread: f64 = volatile, ideal 0.0, Fraction;
    /// Device-to-device spread of volatile G0, fraction.
    d2d_g0_spread: f64 = volatile, ideal 0.0, Fraction;
}

impl DeviceFigures {
    /// Refuses impossible figures: the first figure out of its range, in
    /// declaration order, then stuck-at rates that add up beyond 1.
    pub fn check(&self) -> Result<(), FigureError> {
        for (figure, (_, x)) in FIGURES.iter().zip(self.values()) {
            if let Some(why) = figure.range.refuse(x) {
                return Err(FigureError { figure, value: x.to_string(), why });
            }
        }
        if self.stuck_at_min + self.stuck_at_max > 1.0 {
            let figure = FIGURES.iter().find(|f| f.name == "stuck_at_max").expect("declared above");
            return Err(FigureError {
                figure,
                value: self.stuck_at_max.to_string(),
                why: "stuck-at rates add up beyond 1",
            });
        }
        Ok(())
    }

    /// Whether reads of non-volatile nodes are perturbed.
    pub fn noisy_reads(&self) -> bool {
        self.read_noise > 0.0 || self.drift_nu > 0.0
    }
}

impl Arch {
    /// The device figures of this architecture.
    pub fn devices(&self) -> DeviceFigures {
        DeviceFigures::of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_their_sections_and_overrides_replace_only_what_they_set() {
        let mut arch = Arch::default_arch();
        arch.nonvolatile.read_noise = 0.25;
        arch.volatile.d2d_g0_spread = 0.125;
        let f = arch.devices();
        assert_eq!((f.read_noise, f.d2d_g0_spread), (0.25, 0.125));
        let o = DeviceOverrides { read_noise: Some(0.5), ..DeviceOverrides::default() };
        let g = f.with(&o);
        assert_eq!(g.read_noise, 0.5);
        assert_eq!(g, DeviceFigures { read_noise: 0.5, ..f.clone() });
        assert_eq!(f.with(&DeviceOverrides::all_off()), DeviceFigures::ideal());
    }

    #[test]
    fn set_addresses_a_figure_by_name_and_checks_its_range() {
        let mut o = DeviceOverrides::default();
        o.set("read-noise", 0.25).unwrap();
        o.set("write_verify_max", 3.0).unwrap();
        assert_eq!((o.read_noise, o.write_verify_max), (Some(0.25), Some(3)));
        assert!(matches!(o.set("stuck_at_min", 1.5), Err(SetError::Refused(_))));
        assert!(matches!(o.set("write_verify_max", 2.5), Err(SetError::Refused(_))));
        let e = o.set("noise", 0.1).unwrap_err().to_string();
        assert!(e.contains("no device figure is called `noise`") && e.contains("read_noise"), "{e}");
    }

    #[test]
    fn the_table_lists_every_figure_once_in_its_section() {
        let names: Vec<_> = FIGURES.iter().map(|f| f.name).collect();
        let values: Vec<_> = DeviceFigures::ideal().values().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, values);
        assert_eq!(FIGURES.iter().filter(|f| f.section == "volatile").count(), 3);
        assert!(FIGURES.iter().all(|f| !f.doc.is_empty()));
    }

    #[test]
    fn check_names_the_figure_out_of_range() {
        let bad = DeviceFigures { c2c_noise: 1.5, ..DeviceFigures::ideal() };
        assert_eq!(bad.check().unwrap_err().figure.path, "volatile.c2c_noise");
        let nan = DeviceFigures { program_error: f64::NAN, ..DeviceFigures::ideal() };
        assert_eq!(nan.check().unwrap_err().figure.name, "program_error");
        let drift = DeviceFigures { drift_nu: 2.0, ..DeviceFigures::ideal() };
        assert_eq!(drift.check().unwrap_err().to_string(), "`drift_nu` = 2: must be in [0, 1]");
        let sum = DeviceFigures { stuck_at_min: 0.6, stuck_at_max: 0.6, ..DeviceFigures::ideal() };
        assert!(sum.check().unwrap_err().why.contains("add up"));
        assert_eq!(DeviceFigures::ideal().check(), Ok(()));
        assert_eq!(Arch::default_arch().devices().check(), Ok(()));
    }
}
