//! Variables of recorded neurons against time, one panel per variable.

use super::*;

/// [`traces`], drawn into `out`.
pub(super) fn draw(
    src: Source,
    population: &str,
    variables: &[String],
    neurons: &[u64],
    t0: Option<f64>,
    t1: Option<f64>,
    out: &Path,
) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
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
            units,
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
            .y_desc(format!("{variable} ({})", units))
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
