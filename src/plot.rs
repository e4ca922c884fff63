//! `ganglion plot`: PNG figures from an output file or a scale CSV, drawn with plotters
//! (no Python). Text is rendered with DejaVu Sans (Debian's fonts-dejavu-core, which `make`
//! installs).

use crate::error::{Error, Result};
use crate::scale::MeasuredRow;
use plotters::coord::Shift;
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
        return Err(Error::Plot(format!("{} is a directory; give a .png file", out.display())));
    }
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
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

/// One recorded variable: sample times, the recorded neurons, row-major samples.
struct Trace {
    times: Vec<f64>,
    ids: Vec<u64>,
    data: Vec<f32>,
    width: usize,
}

/// An output file with its stored config.
struct Output {
    file: hdf5::File,
    config_name: String,
    config: crate::config::Config,
}

fn open(path: &Path) -> Result<Output> {
    let (file, config) = crate::io::hdf5::open_output(path)?;
    let config_name = file
        .attr("config_name")
        .and_then(|a| a.read_scalar::<hdf5::types::VarLenUnicode>())
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| path.display().to_string());
    Ok(Output {
        file,
        config_name,
        config,
    })
}

impl Output {
    fn h5<T>(&self, r: hdf5::Result<T>) -> Result<T> {
        r.map_err(|source| Error::Hdf5 {
            path: self.file.filename().into(),
            source,
        })
    }

    /// Times (ms) and samples [sample][column] of a recorded variable, with its node ids.
    fn trace(&self, population: &str, variable: &str) -> Result<Trace> {
        let at = format!("report/{population}/{variable}");
        let ds = self.file.dataset(&format!("{at}/data")).map_err(|_| {
            Error::Plot(format!(
                "no recorded trace `{variable}` of population `{population}` in this file"
            ))
        })?;
        let width = ds.shape().get(1).copied().unwrap_or(0);
        let data: Vec<f32> = self.h5(ds.read_raw())?;
        let ids: Vec<u64> = self.h5(self
            .file
            .dataset(&format!("{at}/mapping/node_ids"))
            .and_then(|d| d.read_raw()))?;
        let time: Vec<f64> = self.h5(self
            .file
            .dataset(&format!("{at}/mapping/time"))
            .and_then(|d| d.read_raw()))?;
        let n = data.len().checked_div(width).unwrap_or(0);
        let times = (0..n).map(|k| time[0] + k as f64 * time[2]).collect();
        Ok(Trace {
            times,
            ids,
            data,
            width,
        })
    }

    fn spikes(&self, population: &str) -> Result<(Vec<f64>, Vec<u64>)> {
        let g = self
            .file
            .group(&format!("spikes/{population}"))
            .map_err(|_| {
                Error::Plot(format!(
                    "no recorded spikes of population `{population}` in this file"
                ))
            })?;
        Ok((
            self.h5(g.dataset("timestamps").and_then(|d| d.read_raw()))?,
            self.h5(g.dataset("node_ids").and_then(|d| d.read_raw()))?,
        ))
    }

    fn spiking_populations(&self) -> Result<Vec<String>> {
        Ok(match self.file.group("spikes") {
            Ok(g) => self.h5(g.member_names())?,
            Err(_) => Vec::new(),
        })
    }
}

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

fn units(variable: &str) -> &'static str {
    match variable {
        "v" => "mV",
        "refractory" => "steps",
        _ => "1",
    }
}

/// [`traces`], drawn into `out`.
fn draw_traces(
    path: &Path,
    population: &str,
    variables: &[String],
    neurons: &[u64],
    t0: Option<f64>,
    t1: Option<f64>,
    out: &Path,
) -> Result<()> {
    ensure_font()?;
    let o = open(path)?;
    if variables.is_empty() {
        return Err(Error::Plot("name at least one variable".into()));
    }
    let height = 260 * variables.len() as u32 + 60;
    let root = BitMapBackend::new(out, (1200, height)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(
            &format!("{} — {population}", o.config_name),
            ("sans-serif", 24),
        )
        .map_err(plot_err)?;
    let panels = root.split_evenly((variables.len(), 1));
    for (panel, variable) in panels.iter().zip(variables) {
        let Trace {
            times,
            ids,
            data,
            width,
        } = o.trace(population, variable)?;
        let columns: Vec<(usize, u64)> = if neurons.is_empty() {
            ids.iter().copied().enumerate().take(8).collect()
        } else {
            neurons
                .iter()
                .map(|n| {
                    ids.iter()
                        .position(|i| i == n)
                        .map(|c| (c, *n))
                        .ok_or_else(|| {
                            Error::Plot(format!("neuron {n} of `{population}` was not recorded"))
                        })
                })
                .collect::<Result<_>>()?
        };
        let lo = t0.unwrap_or(times.first().copied().unwrap_or(0.0));
        let hi = t1
            .unwrap_or(times.last().copied().unwrap_or(1.0))
            .max(lo + 1e-9);
        let selected: Vec<usize> = (0..times.len())
            .filter(|&k| times[k] >= lo && times[k] <= hi)
            .collect();
        if selected.is_empty() {
            return Err(Error::Plot(if times.is_empty() {
                format!("the trace `{variable}` of `{population}` holds no samples")
            } else {
                format!(
                    "no samples of `{variable}` of `{population}` between {lo} and {hi} ms (recorded from {} to {} ms)",
                    times[0],
                    times[times.len() - 1]
                )
            }));
        }
        let (ylo, yhi) = range_of(
            selected
                .iter()
                .flat_map(|&k| columns.iter().map(move |&(c, _)| (k, c)))
                .map(|(k, c)| data[k * width + c] as f64),
        );
        let mut chart = ChartBuilder::on(panel)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, ylo..yhi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("time (ms)")
            .y_desc(format!("{variable} ({})", units(variable)))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        for (k, &(c, id)) in columns.iter().enumerate() {
            let color = neuron_color(k);
            let points = selected
                .iter()
                .map(|&s| (times[s], data[s * width + c] as f64))
                .collect();
            draw_labelled_line(&mut chart, points, color, format!("neuron {id}"))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
    }
    root.present().map_err(plot_err)
}

/// [`raster`], drawn into `out`.
fn draw_raster(path: &Path, population: Option<&str>, max_neurons: u64, out: &Path) -> Result<()> {
    ensure_font()?;
    let o = open(path)?;
    let pops = match population {
        Some(p) => vec![p.to_string()],
        None => o.spiking_populations()?,
    };
    if pops.is_empty() {
        return Err(Error::Plot("this file holds no spikes".into()));
    }
    let duration = o.config.simulation.duration_ms;
    let root = BitMapBackend::new(out, (1200, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(
            &format!("{} — spikes of {}", o.config_name, pops.join(", ")),
            ("sans-serif", 24),
        )
        .map_err(plot_err)?;
    let (top, bottom) = root.split_vertically(600);
    let mut offset = 0u64;
    let mut spans = Vec::new();
    let mut all = Vec::new();
    for p in &pops {
        let (t, id) = o.spikes(p)?;
        let size = o
            .config
            .populations
            .get(p)
            .map_or(0, |x| x.size)
            .min(max_neurons);
        spans.push((
            p.clone(),
            offset,
            size,
            t.len(),
            o.config.populations.get(p).map_or(1, |x| x.size),
        ));
        all.push((t, id, offset, size));
        offset += size;
    }
    let mut chart = ChartBuilder::on(&top)
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..duration, 0.0..offset.max(1) as f64)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc("neuron")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_err)?;
    for (k, (t, id, off, size)) in all.iter().enumerate() {
        let color = neuron_color(k);
        chart
            .draw_series(
                t.iter()
                    .zip(id)
                    .filter(|(_, &i)| i < *size)
                    .map(|(&t, &i)| Circle::new((t, (off + i) as f64 + 0.5), 1, color.filled())),
            )
            .map_err(plot_err)?;
    }
    // Population rate in bins of duration/200 (at least one step).
    let bin = (duration / 200.0).max(o.config.simulation.dt_ms);
    let n_bins = (duration / bin).ceil() as usize;
    let mut rates = Vec::new();
    for (name, _, _, _, full_size) in &spans {
        let (t, _) = o.spikes(name)?;
        let mut counts = vec![0.0; n_bins.max(1)];
        for &x in &t {
            counts[((x / bin) as usize).min(n_bins.max(1) - 1)] += 1.0;
        }
        rates.push(
            counts
                .iter()
                .map(|c| c / *full_size as f64 / (bin / 1000.0))
                .collect::<Vec<f64>>(),
        );
    }
    let ymax = rates.iter().flatten().copied().fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&bottom)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..duration, 0.0..ymax)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("time (ms)")
        .y_desc(format!("rate (Hz, {bin:.2} ms bins)"))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_err)?;
    for (k, ((name, ..), r)) in spans.iter().zip(&rates).enumerate() {
        let color = neuron_color(k);
        let points = r
            .iter()
            .enumerate()
            .map(|(b, &v)| ((b as f64 + 0.5) * bin, v))
            .collect();
        draw_labelled_line(&mut chart, points, color, name.clone())?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
    root.present().map_err(plot_err)
}

fn histogram_png(out: &Path, title: &str, x_desc: &str, values: &[f64], bins: usize) -> Result<()> {
    if values.is_empty() {
        return Err(Error::Plot(format!("nothing to draw for {title}")));
    }
    let (lo, hi) = range_of(values.iter().copied());
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64 * 1.1;
    let root = BitMapBackend::new(out, (1000, 650)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("count")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_err)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(k, &c)| {
            let x0 = lo + k as f64 * width;
            Rectangle::new(
                [(x0, 0.0), (x0 + width, c as f64)],
                RGBColor(30, 60, 220).mix(0.7).filled(),
            )
        }))
        .map_err(plot_err)?;
    root.present().map_err(plot_err)
}

/// [`hist`], drawn into `out`.
fn draw_hist(path: &Path, population: &str, variable: &str, bins: usize, out: &Path) -> Result<()> {
    ensure_font()?;
    let o = open(path)?;
    let data = o.trace(population, variable)?.data;
    let values: Vec<f64> = data.iter().map(|&v| v as f64).collect();
    histogram_png(
        out,
        &format!(
            "{} — {population}.{variable}, all recorded samples",
            o.config_name
        ),
        &format!("{variable} ({})", units(variable)),
        &values,
        bins,
    )
}

/// [`isi`], drawn into `out`.
fn draw_isi(path: &Path, population: &str, bins: usize, out: &Path) -> Result<()> {
    ensure_font()?;
    let o = open(path)?;
    let (t, id) = o.spikes(population)?;
    let mut trains: std::collections::BTreeMap<u64, Vec<f64>> = Default::default();
    for (t, i) in t.into_iter().zip(id) {
        trains.entry(i).or_default().push(t);
    }
    let intervals: Vec<f64> = trains
        .values()
        .flat_map(|tr| tr.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>())
        .collect();
    histogram_png(
        out,
        &format!("{} — {population}, inter-spike intervals", o.config_name),
        "ISI (ms)",
        &intervals,
        bins,
    )
}

/// [`scale`], drawn into `out`.
fn draw_scale(csv: &Path, out: &Path) -> Result<()> {
    ensure_font()?;
    let (config, rows) = crate::scale::read_csv(csv)?;
    if rows.is_empty() {
        return Err(Error::Plot(format!(
            "{} has no measured rows",
            csv.display()
        )));
    }
    // In the CSV's order: merged studies keep their lines apart.
    let mut series: Vec<String> = Vec::new();
    for r in &rows {
        if !series.contains(&r.series()) {
            series.push(r.series());
        }
    }
    let root = BitMapBackend::new(out, (1200, 1300)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(&format!("{config} — scaling"), ("sans-serif", 24))
        .map_err(plot_err)?;
    let panels = root.split_evenly((3, 1));
    let (xlo, xhi) = rows.iter().fold((f64::INFINITY, 0.0f64), |(a, b), r| {
        (a.min(r.size), b.max(r.size))
    });
    let xr = (xlo / 1.5)..(xhi * 1.5);
    let draw_loglog = |area: &DrawingArea<BitMapBackend, Shift>,
                       y_desc: &str,
                       pick: fn(&MeasuredRow) -> f64,
                       legend_at: SeriesLabelPosition|
     -> Result<()> {
        let (ylo, yhi) = rows
            .iter()
            .map(pick)
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(
                xr.clone().log_scale(),
                ((ylo / 1.5).max(1e-12)..(yhi * 1.5)).log_scale(),
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("neurons N")
            .y_desc(y_desc)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        for (k, name) in series.iter().enumerate() {
            let color = neuron_color(k);
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| &r.series() == name)
                .map(|r| (r.size, pick(r)))
                .collect();
            draw_labelled_line(&mut chart, pts.clone(), color, name.clone())?;
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(plot_err)?;
        }
        draw_legend(&mut chart, legend_at)?;
        Ok(())
    };
    // Time grows with N, so the upper left of its panel is empty.
    draw_loglog(
        &panels[0],
        "time per step (µs)",
        |r| r.us_per_step,
        SeriesLabelPosition::UpperLeft,
    )?;
    draw_loglog(
        &panels[1],
        "neuron-steps per second",
        |r| r.neuron_steps_per_s,
        SeriesLabelPosition::MiddleRight,
    )?;
    // Speedup: CPU time / GPU time at the sizes both measured, for each GPU line.
    let cpu = rows.iter().find(|r| r.backend == "cpu").map(|r| r.series());
    let speedups: Vec<(usize, Vec<(f64, f64)>)> = series
        .iter()
        .enumerate()
        .filter(|(_, name)| name.starts_with("gpu"))
        .map(|(k, name)| {
            let pts = rows
                .iter()
                .filter(|g| &g.series() == name)
                .filter_map(|g| {
                    rows.iter()
                        .find(|c| Some(c.series()) == cpu && c.size == g.size)
                        .map(|c| (g.size, c.us_per_step / g.us_per_step))
                })
                .collect();
            (k, pts)
        })
        .collect();
    let top = speedups
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(&panels[2])
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(xr.clone().log_scale(), 0.0..top)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("neurons N")
        .y_desc("speedup GPU/CPU (×)")
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_err)?;
    for (k, pts) in &speedups {
        let color = neuron_color(*k);
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(plot_err)?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(plot_err)?;
    }
    chart
        .draw_series(LineSeries::new(
            vec![(xr.start, 1.0), (xr.end, 1.0)],
            RGBColor(150, 150, 150),
        ))
        .map_err(plot_err)?;
    root.present().map_err(plot_err)
}

/// Stacked panels of `variables` against time for `neurons` (all recorded if empty), between
/// `t0` and `t1` ms when given.
pub fn traces(
    path: &Path,
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
        return Err(Error::Plot("--t0 and --t1 must be finite numbers of ms".into()));
    }
    write_png(out, |png| draw_traces(path, population, variables, neurons, t0, t1, png))
}

/// A spike raster (at most `max_neurons` neurons per population) with the population rate below.
pub fn raster(path: &Path, population: Option<&str>, max_neurons: u64, out: &Path) -> Result<()> {
    if max_neurons == 0 {
        return Err(Error::Plot("--max-neurons must be at least 1".into()));
    }
    write_png(out, |png| draw_raster(path, population, max_neurons, png))
}

fn check_bins(bins: usize) -> Result<()> {
    if bins == 0 {
        return Err(Error::Plot("--bins must be at least 1".into()));
    }
    Ok(())
}

/// Histogram of every recorded sample of a variable (the tutorial's histogram of V).
pub fn hist(path: &Path, population: &str, variable: &str, bins: usize, out: &Path) -> Result<()> {
    check_bins(bins)?;
    write_png(out, |png| draw_hist(path, population, variable, bins, png))
}

/// Histogram of the inter-spike intervals of every neuron of a population.
pub fn isi(path: &Path, population: &str, bins: usize, out: &Path) -> Result<()> {
    check_bins(bins)?;
    write_png(out, |png| draw_isi(path, population, bins, png))
}

/// Log–log time per step and neuron-steps/s against N, one line per backend and device, and
/// below, each GPU line's speedup over the first CPU line.
pub fn scale(csv: &Path, out: &Path) -> Result<()> {
    write_png(out, |png| draw_scale(csv, png))
}
