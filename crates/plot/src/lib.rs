//! Pictures of fpnna's data, as SVG documents that open in any browser:
//! a spike raster ([`raster`]), the floorplan of a placed and routed
//! bitstream ([`floorplan`]), a run's cycles and energy per step
//! ([`activity`]) and a projection's weights ([`weights`]).
//!
//! Every picture is drawn through plotters' SVG backend (`draw.rs`), the
//! one writer of SVG text: charts with its chart builder, the floorplan
//! with its shapes in pixel coordinates. Inputs are plain data; reading
//! files is the caller's. Same input, same bytes out.

#![warn(missing_docs)]

pub mod activity;
mod colour;
mod draw;
pub mod floorplan;
pub mod raster;
pub mod weights;

pub use colour::{heat, utilisation_colour};

/// Why a picture cannot be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// The data cannot be drawn as asked (the message says why).
    #[error("{0}")]
    Data(String),
    /// The SVG backend failed (a bug: it writes into a string).
    #[error("drawing failed: {0}")]
    Draw(String),
}
