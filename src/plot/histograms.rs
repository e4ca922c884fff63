//! Histograms: of a variable's recorded samples, and of inter-spike intervals.

use super::*;

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
pub(super) fn draw_hist(
    src: Source,
    population: &str,
    variable: &str,
    bins: usize,
    out: &Path,
) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
    let trace = o.trace(population, variable)?;
    let values: Vec<f64> = trace.data.iter().map(|&v| v as f64).collect();
    histogram_png(
        out,
        &format!(
            "{} — {population}.{variable}, all recorded samples",
            o.config_name
        ),
        &format!("{variable} ({})", trace.units),
        &values,
        bins,
    )
}

/// [`weights`], drawn into `out`.
pub(super) fn draw_weights(
    src: Source,
    projection: &str,
    variable: &str,
    bins: usize,
    out: &Path,
) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
    let (values, units) = o.synapses(projection, variable)?;
    histogram_png(
        out,
        &format!(
            "{} — {projection}.{variable} of {} synapses, at the end",
            o.config_name,
            values.len()
        ),
        &format!("{variable} ({units})"),
        &values,
        bins,
    )
}

/// [`isi`], drawn into `out`.
pub(super) fn draw_isi(src: Source, population: &str, bins: usize, out: &Path) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
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
