//! The device flags: one per device figure, named like the architecture
//! field (`--d2d-tau-spread` for `volatile.d2d_tau_spread`), each checked
//! here against the figure's range so a bad value is a command-line error.

use super::values::{exponent, fraction};
use fpnna_arch::DeviceOverrides;

/// Overrides of the architecture's device figures (docs/emulator.md).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct DeviceArgs {
    /// Programming error, fraction of the level range.
    #[arg(long, value_parser = fraction, allow_negative_numbers = true)]
    program_error: Option<f64>,
    /// Write-verify iterations at most.
    #[arg(long, alias = "write-verify", allow_negative_numbers = true)]
    write_verify_max: Option<u16>,
    /// Read noise, fraction of G per read.
    #[arg(long, value_parser = fraction, allow_negative_numbers = true)]
    read_noise: Option<f64>,
    /// Drift exponent nu, in [0, 1].
    #[arg(long, value_parser = exponent, allow_negative_numbers = true)]
    drift_nu: Option<f64>,
    /// Fraction of non-volatile nodes stuck at G_min.
    #[arg(long, value_parser = fraction, allow_negative_numbers = true)]
    stuck_at_min: Option<f64>,
    /// Fraction of non-volatile nodes stuck at G_max.
    #[arg(long, value_parser = fraction, allow_negative_numbers = true)]
    stuck_at_max: Option<f64>,
    /// Forming yield (failures are stuck at G_min).
    #[arg(long, value_parser = fraction, allow_negative_numbers = true)]
    forming_yield: Option<f64>,
    /// Cycle-to-cycle noise of volatile increments.
    #[arg(long, value_parser = fraction, allow_negative_numbers = true)]
    c2c_noise: Option<f64>,
    /// Device-to-device spread of volatile tau.
    #[arg(long, alias = "tau-spread", value_parser = fraction, allow_negative_numbers = true)]
    d2d_tau_spread: Option<f64>,
    /// Device-to-device spread of volatile G0.
    #[arg(long, alias = "g0-spread", value_parser = fraction, allow_negative_numbers = true)]
    d2d_g0_spread: Option<f64>,
}

impl DeviceArgs {
    /// The overrides these flags ask for.
    pub fn overrides(&self) -> DeviceOverrides {
        DeviceOverrides {
            program_error: self.program_error,
            write_verify_max: self.write_verify_max,
            read_noise: self.read_noise,
            drift_nu: self.drift_nu,
            stuck_at_min: self.stuck_at_min,
            stuck_at_max: self.stuck_at_max,
            forming_yield: self.forming_yield,
            c2c_noise: self.c2c_noise,
            d2d_tau_spread: self.d2d_tau_spread,
            d2d_g0_spread: self.d2d_g0_spread,
        }
    }
}
