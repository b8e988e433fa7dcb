//! Each picture rendered to pixels (resvg, shapes only: no fonts) and
//! looked at: where its colours are, not only that it is SVG.

use fpnna_bitstream::Bitstream;
use fpnna_plot::raster::{Band, Raster};
use fpnna_plot::weights::Weights;
use fpnna_plot::{PlotError, activity, floorplan, heat, raster, utilisation_colour, weights};
use fpnna_testkit::hand::{Builder, Kind, lif, stdp_profile, volatile_profile};

/// A colour as (r, g, b).
type Rgb = (u8, u8, u8);

/// A rendered picture.
struct Image {
    width: u32,
    height: u32,
    px: Vec<Rgb>,
}

impl Image {
    fn of(svg: &str) -> Image {
        let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("valid SVG");
        let size = tree.size().to_int_size();
        let mut map = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut map.as_mut());
        if let Some(p) = std::env::var_os("DUMP_PNG") {
            map.save_png(format!("{}-{}.png", p.to_string_lossy(), size.width() * 7 + size.height())).unwrap();
        }
        let px = map.pixels().iter().map(|p| (p.red(), p.green(), p.blue())).collect();
        Image { width: size.width(), height: size.height(), px }
    }

    fn at(&self, x: u32, y: u32) -> Rgb {
        self.px[(y * self.width + x) as usize]
    }

    /// The pixels (x, y) whose colour is within 2 of `c` in every channel.
    fn where_is(&self, c: Rgb) -> Vec<(u32, u32)> {
        let near = |a: u8, b: u8| a.abs_diff(b) <= 2;
        (0..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let p = self.at(x, y);
                near(p.0, c.0) && near(p.1, c.1) && near(p.2, c.2)
            })
            .collect()
    }

    /// Bounding box (x0, y0, x1, y1) of the pixels of colour `c`.
    fn bbox(&self, c: Rgb) -> Option<(u32, u32, u32, u32)> {
        let at = self.where_is(c);
        let x0 = at.iter().map(|p| p.0).min()?;
        let x1 = at.iter().map(|p| p.0).max()?;
        let y0 = at.iter().map(|p| p.1).min()?;
        let y1 = at.iter().map(|p| p.1).max()?;
        Some((x0, y0, x1, y1))
    }

    /// Dark pixels (each channel below 80) in the box.
    fn dark_in(&self, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> usize {
        (y0..=y1).flat_map(|y| (x0..=x1).map(move |x| (x, y))).filter(|&(x, y)| self.at(x, y).0 < 80).count()
    }
}

fn rgb(c: plotters::style::RGBColor) -> Rgb {
    (c.0, c.1, c.2)
}

/// The raster's band backgrounds, from the bottom.
const BAND: [Rgb; 3] = [(222, 235, 247), (229, 245, 224), (254, 230, 206)];

fn band(name: &str, size: u32, spikes: &[(u64, u32)]) -> Band {
    Band { name: name.into(), size, spikes: spikes.to_vec() }
}

#[test]
fn raster_marks_spikes_in_their_population_band_only() {
    let r = Raster {
        bands: vec![
            band("loud", 10, &[(0, 0), (3, 4), (7, 9), (9, 2)]),
            band("silent", 10, &[]),
            band("late", 4, &[(9, 3)]),
        ],
        steps: 10,
        title: "t".into(),
    };
    let svg = raster::svg_of(&r).unwrap();
    assert_eq!(svg, raster::svg_of(&r).unwrap(), "same input, same bytes");
    let img = Image::of(&svg);
    let (loud, silent, late) = (img.bbox(BAND[0]).unwrap(), img.bbox(BAND[1]).unwrap(), img.bbox(BAND[2]).unwrap());
    // Bands stack upwards in order, equally high.
    assert!(loud.1 > silent.3 && silent.1 > late.3, "{loud:?} {silent:?} {late:?}");
    assert!(img.dark_in(loud) > 0);
    assert_eq!(img.dark_in(silent), 0, "a silent population's band has no mark");
    assert!(img.dark_in(late) > 0);
    // The late spike is in the last tenth of the steps, in the top quarter
    // of its band (neuron 3 of 4).
    let marks: Vec<(u32, u32)> = (late.1..=late.3)
        .flat_map(|y| (late.0..=late.2).map(move |x| (x, y)))
        .filter(|&(x, y)| img.at(x, y).0 < 80)
        .collect();
    let (w, h) = (late.2 - late.0, late.3 - late.1);
    assert!(marks.iter().all(|&(x, y)| x >= late.0 + w * 9 / 10 - 1 && y <= late.1 + h / 4 + 1), "{marks:?}");
}

#[test]
fn raster_refuses_a_spike_outside_it() {
    let r = Raster { bands: vec![band("a", 2, &[(0, 2)])], steps: 5, title: String::new() };
    let e = raster::svg_of(&r).unwrap_err();
    assert!(e.to_string().contains("`a`[2] at step 0 is outside"), "{e}");
}

/// One used tile, (2, 1) of a 3x2 grid: 4 neurons, an input port at (0, 0).
fn one_tile() -> Bitstream {
    let mut b = Builder::new(3, 2);
    // Crossbars of 16 x 16: a block per node.
    (b.bs.arch.tile.rows, b.bs.arch.tile.cols) = (16, 16);
    let inp = b.input("in", 2, 0, 0);
    let n = b.neurons("n", 4, 2, 1, lif(1 << 16));
    b.syn(inp, n, 1, 10, 256, Kind::Static);
    b.syn(inp + 1, n + 1, 1, 10, 256, Kind::Volatile(volatile_profile()));
    b.syn(n, n + 2, 1, 10, 256, Kind::Stdp(stdp_profile()));
    b.build()
}

#[test]
fn floorplan_colours_the_used_tile_and_no_other() {
    let b = one_tile();
    let svg = floorplan::svg_of(&b, "t").unwrap();
    let img = Image::of(&svg);
    let lay = floorplan::Layout::of(3, 2);
    let i = fpnna_bitstream::inspect(&b);
    let u = floorplan::utilisation(&i.tiles[0], i.tile_rows, i.tile_cols);
    let used = rgb(utilisation_colour(u));
    let [l, t, r, bt] = lay.cell(2, 1);
    // Just inside the cell's corner: the utilisation colour.
    assert_eq!(img.at(l as u32 + 2, t as u32 + 2), used);
    // Nowhere else left of the legend.
    let legend = lay.cell(2, 0)[2] + lay.gap;
    let grid = |c| img.where_is(c).into_iter().filter(|p| (p.0 as i32) < legend).collect::<Vec<_>>();
    assert!(
        grid(used).iter().all(|&(x, y)| (x as i32) >= l && (y as i32) >= t && x as i32 <= r && y as i32 <= bt),
        "only in (2, 1)'s cell"
    );
    // Every other cell is unprogrammed.
    let [l0, t0, ..] = lay.cell(0, 0);
    assert_eq!(img.at(l0 as u32 + 2, t0 as u32 + 2), (238, 238, 238));
    // Its crossbar shows the three modes.
    let [cl, ct, cr, cb] = lay.crossbar(2, 1);
    for mode in [floorplan::NONVOLATILE, floorplan::VOLATILE, floorplan::STDP] {
        let grid = grid(rgb(mode));
        assert!(!grid.is_empty(), "{mode:?} drawn");
        assert!(grid.iter().all(|&(x, y)| (x as i32) >= cl && (y as i32) >= ct && x as i32 <= cr && y as i32 <= cb));
    }
    // The input's route runs east then north: links between the cells.
    let link = img.bbox(rgb(floorplan::LINK)).unwrap();
    let [_, _, r00, _] = lay.cell(0, 0);
    assert!(link.0 as i32 >= r00 - 1, "{link:?}");
}

#[test]
fn floorplan_link_width_grows_with_load() {
    // Two keys over (0, 0) east, one over (1, 0) east.
    let mut b = Builder::new(3, 1);
    let inp = b.input("in", 2, 0, 0);
    let n = b.neurons("n", 1, 1, 0, lif(1 << 16));
    let m = b.neurons("m", 1, 2, 0, lif(1 << 16));
    b.syn(inp, n, 1, 1, 256, Kind::Static);
    b.syn(inp + 1, m, 1, 1, 256, Kind::Static);
    let img = Image::of(&floorplan::svg_of(&b.build(), "t").unwrap());
    let lay = floorplan::Layout::of(3, 1);
    let thickness = |x: u16| {
        let [_, t, r, bt] = lay.cell(x, 0);
        (t..bt).filter(|&y| img.at((r + lay.gap / 2) as u32, y as u32) == rgb(floorplan::LINK)).count()
    };
    assert!(thickness(0) > thickness(1) && thickness(1) > 0, "{} {}", thickness(0), thickness(1));
}

fn stats(cycles: &[u64], energy: &[f64]) -> fpnna_emu::Stats {
    let mut s = fpnna_emu::Stats { steps: cycles.len() as u64, ..Default::default() };
    s.per_step.cycles = cycles.to_vec();
    s.per_step.energy_pj = energy.to_vec();
    s
}

/// For each pixel column, the topmost row of colour `c` (`None`: none).
fn tops(img: &Image, c: Rgb) -> Vec<Option<u32>> {
    (0..img.width).map(|x| (0..img.height).find(|&y| img.at(x, y) == c)).collect()
}

#[test]
fn activity_peaks_where_the_step_is_busiest() {
    let mut cycles = vec![10u64; 10];
    cycles[3] = 40;
    let mut energy = vec![100.0; 10];
    energy[8] = 900.0;
    let img = Image::of(&activity::svg_of(&stats(&cycles, &energy), "t").unwrap());
    for (c, busiest, times) in [(rgb(activity::CYCLES), 3.5, 4.0), (rgb(activity::ENERGY), 8.5, 9.0)] {
        let tops = tops(&img, c);
        let xs: Vec<usize> = (0..tops.len()).filter(|&x| tops[x].is_some()).collect();
        let (lo, hi) = (xs[0], *xs.last().unwrap());
        let highest = xs.iter().map(|&x| tops[x].unwrap()).min().unwrap();
        let peak: Vec<usize> = xs.iter().copied().filter(|&x| tops[x] == Some(highest)).collect();
        let mid = (peak[0] + peak[peak.len() - 1]) as f64 / 2.0;
        let want = lo as f64 + busiest / 10.0 * (hi - lo) as f64;
        assert!((mid - want).abs() < 3.0, "peak at {mid}, want {want}");
        // `times` the others' height (from the panel's floor).
        let floor = xs.iter().map(|&x| (x, (0..img.height).rev().find(|&y| img.at(x as u32, y) == c).unwrap()));
        let floor = floor.map(|(_, y)| y).max().unwrap();
        let low = tops[lo + (hi - lo) / 20].unwrap();
        let ratio = f64::from(floor - highest) / f64::from(floor - low);
        assert!((ratio / times - 1.0).abs() < 0.08, "{ratio} vs {times}");
    }
}

#[test]
fn activity_without_a_series_is_refused() {
    let e = activity::svg_of(&fpnna_emu::Stats { steps: 5, ..Default::default() }, "t").unwrap_err();
    assert!(matches!(e, PlotError::Data(ref m) if m.contains("no per-step series")), "{e}");
}

#[test]
fn activity_of_a_series_that_does_not_cover_the_run_is_refused() {
    let mut s = stats(&[10; 10], &[1.0; 10]);
    s.steps = 12;
    let e = activity::svg_of(&s, "t").unwrap_err();
    assert!(
        matches!(e, PlotError::Data(ref m) if m.contains("10 entries of 1 steps each do not cover the run's 12 steps")),
        "{e}"
    );
    s.steps = 10;
    s.per_step.steps_per_entry = 0;
    assert!(activity::svg_of(&s, "t").is_err());
    s.per_step.steps_per_entry = 1;
    assert!(activity::svg_of(&s, "t").is_ok());
}

#[test]
fn heat_map_is_brightest_at_the_largest_weight() {
    // 3 sources x 2 targets; the largest at source 2 -> target 1, the
    // smallest at source 0 -> target 0.
    let w = Weights { name: "a -> b".into(), pre: 3, post: 2, w: vec![-1.0, 0.0, 0.1, 0.2, 0.3, 2.0] };
    let svg = weights::heat_map(&w, "t").unwrap();
    let img = Image::of(&svg);
    let (max, min) = (img.bbox(rgb(heat(1.0))).unwrap(), img.bbox(rgb(heat(0.0))).unwrap());
    // Right of and above the smallest, by two cells and one.
    let cell_w = min.2 - min.0 + 1;
    let cell_h = min.3 - min.1 + 1;
    assert_eq!(max.2 - max.0 + 1, cell_w);
    assert!(max.0.abs_diff(min.0 + 2 * cell_w) <= 1, "{max:?} {min:?}");
    assert!(max.3.abs_diff(min.3 - cell_h) <= 1, "{max:?} {min:?}");
}

#[test]
fn receptive_fields_show_each_target_neurons_weights() {
    // 2x2 images: target 0 strongest from source 1 (top right), target 1
    // from source 2 (bottom left).
    let w = Weights { name: "in -> out".into(), pre: 4, post: 2, w: vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0] };
    let img = Image::of(&weights::grid(&w, (2, 2), "t").unwrap());
    // Left of the colour bar.
    let images = |c| img.where_is(c).into_iter().filter(|p| p.0 + 120 < img.width).collect::<Vec<_>>();
    let bright = images(rgb(heat(1.0)));
    let dark = images(rgb(heat(0.0)));
    let dark = (
        dark.iter().map(|p| p.0).min().unwrap(),
        dark.iter().map(|p| p.1).min().unwrap(),
        dark.iter().map(|p| p.0).max().unwrap(),
        dark.iter().map(|p| p.1).max().unwrap(),
    );
    let left: Vec<_> = bright.iter().filter(|p| p.0 < (dark.0 + dark.2) / 2).collect();
    let right: Vec<_> = bright.iter().filter(|p| p.0 >= (dark.0 + dark.2) / 2).collect();
    assert!(!left.is_empty() && !right.is_empty());
    let mid_y = (dark.1 + dark.3) / 2;
    assert!(left.iter().all(|p| p.1 <= mid_y), "target 0's brightest pixel is in its top row");
    assert!(right.iter().all(|p| p.1 >= mid_y), "target 1's brightest pixel is in its bottom row");
    assert!(left.iter().map(|p| p.1).max() < right.iter().map(|p| p.1).min());
    let e = weights::grid(&w, (3, 2), "t").unwrap_err();
    assert!(e.to_string().contains("has 6 pixels but projection `in -> out` has 4 source neurons"), "{e}");
}

#[test]
fn weights_of_a_projection_sum_its_synapses() {
    use fpnna_ir::{Network, PopKind, Population, Projection, SynapseKind, Synapses};
    let mut net = Network::new("n", 1.0);
    let pop = |name: &str, size| Population { name: name.into(), size, kind: PopKind::Input, output: false };
    let a = net.add_population(pop("a", 2));
    let b = net.add_population(pop("b", 3));
    let mut syn = Synapses::default();
    syn.push(1, 2, 1 << 16, 1);
    syn.push(1, 2, 1 << 15, 2);
    syn.push(0, 0, -(1 << 16), 1);
    let id = net.add_projection(a, b, Projection { name: "a -> b".into(), kind: SynapseKind::NonVolatile, syn });
    assert_eq!(weights::find(&net, "a->b").unwrap(), id);
    let e = weights::find(&net, "b -> a").unwrap_err().to_string();
    assert_eq!(e, "no projection `b -> a` (projections: `a -> b`)");
    let w = Weights::of(&net, id);
    assert_eq!((w.pre, w.post), (2, 3));
    assert_eq!(w.w, [-1.0, 0.0, 0.0, 0.0, 0.0, 1.5]);
}
