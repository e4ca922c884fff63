//! The recorded population rates (`record.rates`) against time, one panel per population,
//! with their smoothed rate (`record.smooth_rate`) over them where it is recorded.

use super::*;

/// [`rates`], drawn into `out`.
pub(super) fn draw(src: Source, population: Option<&str>, out: &Path) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
    let recorded = o.rate_populations()?;
    let pops = match population {
        Some(p) if recorded.iter().any(|r| r == p) => vec![p.to_string()],
        Some(p) => return Err(Error::Plot(format!("no recorded rate of population `{p}` in this file (record.rates lists {})", list_or_none(&recorded)))),
        None if recorded.is_empty() => return Err(Error::Plot("this file holds no rates: record them with record.rates".into())),
        None => recorded,
    };
    let dt = o.config.simulation.dt_ms;
    let duration = o.config.simulation.duration_ms;
    let root = BitMapBackend::new(out, (1200, 300 + 250 * pops.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(&format!("{} — population rates", o.config_name), ("sans-serif", 24))
        .map_err(plot_err)?;
    for (k, (panel, p)) in root.split_evenly((pops.len(), 1)).iter().zip(&pops).enumerate() {
        let rate = o.rate(p)?;
        let smooth = o.smooth_rate(p)?;
        // Brian2's R.t: sample k at k·dt.
        let at = |values: &[f64]| values.iter().enumerate().map(|(s, &r)| (s as f64 * dt, r)).collect::<Vec<_>>();
        let top = rate.iter().chain(smooth.iter().flat_map(|s| &s.0)).copied().filter(|r| r.is_finite()).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(panel)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..duration, 0.0..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("time (ms)")
            .y_desc(format!("{p} (Hz)"))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        let raw = RGBColor(170, 170, 170);
        chart
            .draw_series(LineSeries::new(at(&rate), raw.stroke_width(1)))
            .map_err(plot_err)?
            .label("rate, each step")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], raw.stroke_width(2)));
        if let Some((values, window, width_ms)) = smooth {
            draw_labelled_line(&mut chart, at(&values), neuron_color(k), format!("smooth_rate ({window}, {width_ms} ms)"))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    root.present().map_err(plot_err)
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
