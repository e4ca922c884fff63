//! A spike raster with the population rate below.

use super::*;

/// [`raster`], drawn into `out`.
pub(super) fn draw(
    src: Source,
    population: Option<&str>,
    max_neurons: u64,
    out: &Path,
) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
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
            .group(p)
            .map_or(0, |g| g.size)
            .min(max_neurons);
        spans.push((
            p.clone(),
            offset,
            size,
            t.len(),
            o.config.group(p).map_or(1, |g| g.size),
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
