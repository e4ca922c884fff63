//! `ganglion plot`: PNG figures from an output file or a scale CSV, drawn with plotters
//! (no Python). Text is rendered with DejaVu Sans (Debian's fonts-dejavu-core, which `make`
//! installs). One file per kind of figure; this one reads the output files, draws what they
//! share, and checks every figure's arguments before anything is drawn.

mod histograms;
mod raster;
mod rates;
mod scale;
mod sweep;
mod traces;
mod trials;

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
];

/// Draws into a temporary PNG beside `out` and renames it into place only once the figure is
/// complete, so that a plot that fails leaves no blank figure and never replaces a good one.
fn write_png(out: &Path, draw: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::Plot(format!(
            "the directory {} of --out does not exist",
            dir.display()
        )));
    }
    if out.is_dir() {
        return Err(Error::Plot(format!(
            "{} is a directory; give a .png file",
            out.display()
        )));
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // plotters picks the format by extension: the temporary name keeps `.png`.
    let partial = dir.join(format!(".{name}.partial.png"));
    let result = draw(&partial).and_then(|()| {
        std::fs::rename(&partial, out).map_err(|e| Error::Plot(format!("{}: {e}", out.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn plot_err(e: impl std::fmt::Display) -> Error {
    Error::Plot(e.to_string())
}

/// Registers the font once; plotters needs one for every label.
fn ensure_font() -> Result<()> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let path = std::env::var("GANGLION_FONT").ok().into_iter().chain(FONT_PATHS.iter().map(|s| s.to_string()));
        for p in path {
            if let Ok(bytes) = std::fs::read(&p) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                return plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                    .map_err(|_| format!("{p} is not a usable TrueType font"));
            }
        }
        Err("no font found: install fonts-dejavu-core (apt-get install fonts-dejavu-core) or set GANGLION_FONT to a .ttf file".into())
    })
    .clone()
    .map_err(Error::Plot)
}

use crate::io::reader::{open, Trace};
pub use crate::io::reader::Source;

fn neuron_color(k: usize) -> RGBColor {
    // The seed's figure: the first neuron red, the second blue.
    const COLORS: [RGBColor; 8] = [
        RGBColor(220, 30, 30),
        RGBColor(30, 60, 220),
        RGBColor(20, 150, 60),
        RGBColor(230, 140, 0),
        RGBColor(140, 40, 170),
        RGBColor(0, 160, 170),
        RGBColor(120, 90, 40),
        RGBColor(90, 90, 90),
    ];
    COLORS[k % COLORS.len()]
}

/// A line with its legend entry.
fn draw_labelled_line<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: String,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    chart
        .draw_series(LineSeries::new(points, color.stroke_width(2)))
        .map_err(plot_err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    Ok(())
}

/// The legend box of every figure, at `position` of its panel.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(plot_err)
}

fn range_of(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Stacked panels of `variables` against time for `neurons` (all recorded if empty), between
/// `t0` and `t1` ms when given.
pub fn traces<'a>(
    src: impl Into<Source<'a>>,
    population: &str,
    variables: &[String],
    neurons: &[u64],
    t0: Option<f64>,
    t1: Option<f64>,
    out: &Path,
) -> Result<()> {
    if let (Some(a), Some(b)) = (t0, t1) {
        if !(a < b) {
            return Err(Error::Plot(format!("--t0 {a} must be before --t1 {b}")));
        }
    }
    if [t0, t1].iter().flatten().any(|t| !t.is_finite()) {
        return Err(Error::Plot(
            "--t0 and --t1 must be finite numbers of ms".into(),
        ));
    }
    let src = src.into();
    write_png(out, |png| {
        traces::draw(src, population, variables, neurons, t0, t1, png)
    })
}

/// A spike raster (at most `max_neurons` neurons per population) with the population rate below.
pub fn raster<'a>(src: impl Into<Source<'a>>, population: Option<&str>, max_neurons: u64, out: &Path) -> Result<()> {
    if max_neurons == 0 {
        return Err(Error::Plot("--max-neurons must be at least 1".into()));
    }
    let src = src.into();
    write_png(out, |png| raster::draw(src, population, max_neurons, png))
}

/// The recorded population rates against time (of `population`, else every one), each with
/// its smoothed rate where `record.smooth_rate` wrote it.
pub fn rates<'a>(src: impl Into<Source<'a>>, population: Option<&str>, out: &Path) -> Result<()> {
    let src = src.into();
    write_png(out, |png| rates::draw(src, population, png))
}

fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(Error::Plot("--bins must be at least 1".into()));
    }
    Ok(())
}

/// Histogram of every recorded sample of a variable (the tutorial's histogram of V).
pub fn hist<'a>(src: impl Into<Source<'a>>, population: &str, variable: &str, bins: usize, out: &Path) -> Result<()> {
    check_bins(bins)?;
    let src = src.into();
    write_png(out, |png| {
        histograms::draw_hist(src, population, variable, bins, png)
    })
}

/// Histogram of a synaptic variable's final values (the STDP example's bimodal weights).
pub fn weights<'a>(src: impl Into<Source<'a>>, projection: &str, variable: &str, bins: usize, out: &Path) -> Result<()> {
    check_bins(bins)?;
    let src = src.into();
    write_png(out, |png| {
        histograms::draw_weights(src, projection, variable, bins, png)
    })
}

/// Histogram of the inter-spike intervals of every neuron of a population.
pub fn isi<'a>(src: impl Into<Source<'a>>, population: &str, bins: usize, out: &Path) -> Result<()> {
    check_bins(bins)?;
    let src = src.into();
    write_png(out, |png| histograms::draw_isi(src, population, bins, png))
}

/// The book's saccade figures (8.1, 8.2) for an `ofc_saccade` population (the first one if
/// none is named): position, velocity and control of every trial and of the noiseless
/// solution.
pub fn trials<'a>(src: impl Into<Source<'a>>, population: Option<&str>, out: &Path) -> Result<()> {
    let src = src.into();
    write_png(out, |png| trials::draw(src, population, png))
}

/// Log–log time per step and neuron-steps/s against N, one line per backend and device, and
/// below, each GPU line's speedup over the first CPU line.
pub fn scale(csv: &Path, out: &Path) -> Result<()> {
    write_png(out, |png| scale::draw(csv, png))
}

/// A sweep's `metric` (rate, cv, fano, silent, spikes) of a population against the swept key
/// `x`: a line per value of the other keys, or with `y` a heatmap over the two.
pub fn sweep(path: &Path, x: &str, y: Option<&str>, metric: &str, population: Option<&str>, out: &Path) -> Result<()> {
    if !crate::sweep::table::METRICS.contains(&metric) {
        return Err(Error::Plot(format!("--metric {metric}: expected one of {}", crate::sweep::table::METRICS.join(", "))));
    }
    write_png(out, |png| sweep::draw(path, x, y, metric, population, png))
}
