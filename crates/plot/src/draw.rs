//! The one way the pictures write SVG: plotters' SVG backend into a string.

use crate::PlotError;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The drawing area of a picture.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Why plotters failed, as a [`PlotError`].
pub fn failed<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// Draws a `width` x `height` picture on a white ground with `paint` and
/// returns its SVG text.
pub fn svg(
    (width, height): (u32, u32),
    paint: impl FnOnce(&Area<'_>) -> Result<(), PlotError>,
) -> Result<String, PlotError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        paint(&root)?;
        root.present().map_err(failed)?;
    }
    Ok(out)
}

/// The text style of labels of `size` pixels.
pub fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&BLACK)
}
