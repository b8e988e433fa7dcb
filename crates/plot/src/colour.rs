//! The colour scales and palettes of every picture (solid colours only, so
//! that a renderer shows exactly these).

use plotters::style::RGBColor;

/// Linear interpolation through `stops` at `t` in [0, 1] (clamped; NaN is 0).
fn through(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let span = (stops.len() - 1) as f64;
    let i = ((t * span).floor() as usize).min(stops.len() - 2);
    let f = t * span - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The heat-map scale at `t` in [0, 1]: viridis (dark purple to bright
/// yellow), brighter the larger, readable in grey and by the colour-blind.
pub fn heat(t: f64) -> RGBColor {
    const VIRIDIS: [(u8, u8, u8); 5] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)];
    through(&VIRIDIS, t)
}

/// A tile's colour at utilisation `u` in [0, 1]: light yellow to brown.
pub fn utilisation_colour(u: f64) -> RGBColor {
    const YL_OR_BR: [(u8, u8, u8); 3] = [(255, 247, 188), (254, 196, 79), (204, 76, 2)];
    through(&YL_OR_BR, u)
}

/// Light band backgrounds of the raster, cycled.
pub const BANDS: [RGBColor; 4] =
    [RGBColor(222, 235, 247), RGBColor(229, 245, 224), RGBColor(254, 230, 206), RGBColor(239, 237, 245)];

/// Spike marks.
pub const INK: RGBColor = RGBColor(20, 20, 20);
/// Separators and frames that must not read as data.
pub const RULE: RGBColor = RGBColor(150, 150, 150);
/// An unprogrammed tile.
pub const IDLE_TILE: RGBColor = RGBColor(238, 238, 238);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_run_from_end_to_end() {
        assert_eq!(heat(0.0), RGBColor(68, 1, 84));
        assert_eq!(heat(1.0), RGBColor(253, 231, 37));
        assert_eq!(heat(f64::NAN), heat(0.0));
        assert_eq!(utilisation_colour(2.0), RGBColor(204, 76, 2));
        assert_eq!(utilisation_colour(0.5), RGBColor(254, 196, 79));
    }
}
