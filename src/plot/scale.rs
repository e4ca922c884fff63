//! A scaling study: time per step, throughput and speedup against N.

use super::*;

use crate::scale::MeasuredRow;
use plotters::coord::Shift;

/// [`scale`], drawn into `out`.
pub(super) fn draw(csv: &Path, out: &Path) -> Result<()> {
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
