//! The book's figures 8.1 and 8.2 for an `ofc_saccade` population: position, velocity and
//! control against time, every trial in grey, the noiseless solution in red (computed here from
//! the same config, hence the same gains), the target in green and, with a target jump, the
//! jump time dashed. As the book draws the jump, positions are in the frame of the final
//! target: the samples before the jump are shifted by −distance, where the first target sits.

use super::*;
use crate::model::ofc_saccade::{Saccade, U, X};

const GREY: RGBColor = RGBColor(150, 150, 150);
const RED: RGBColor = RGBColor(214, 39, 40);
const GREEN: RGBColor = RGBColor(44, 160, 44);

/// One panel: its title on the y axis, the recorded variable, the noiseless variable's index.
struct Panel {
    y_desc: &'static str,
    variable: &'static str,
    noiseless: usize,
}

pub(super) fn draw(src: Source, population: Option<&str>, out: &Path) -> Result<()> {
    ensure_font()?;
    let o = open(src)?;
    let (name, pop) = match population {
        Some(p) => (
            p.to_string(),
            o.config
                .populations
                .get(p)
                .ok_or_else(|| Error::Plot(format!("no population `{p}` in this file")))?,
        ),
        None => o
            .config
            .populations
            .iter()
            .find(|(_, p)| p.model == "ofc_saccade")
            .map(|(n, p)| (n.clone(), p))
            .ok_or_else(|| Error::Plot("this file has no ofc_saccade population".into()))?,
    };
    if pop.model != "ofc_saccade" {
        return Err(Error::Plot(format!(
            "population `{name}` is of the {} model; `plot trials` draws ofc_saccade trials",
            pop.model
        )));
    }
    let clock = o.config.clock();
    let model = Saccade::from_params(&format!("populations.{name}.params"), &pop.params, clock)?;
    let reference = model.noiseless_trajectory(clock.n_steps);
    let jump = model.params.target_jump.clone().zip(model.jump_step);
    // The book's frame: before the jump, positions and the target sit −distance away.
    let shift = |variable: &str, k: usize| match &jump {
        Some((j, at)) if variable == "pos" && (k as u64) < *at => -j.distance,
        _ => 0.0,
    };
    let panels = [
        Panel {
            y_desc: "position (m)",
            variable: "pos",
            noiseless: X,
        },
        Panel {
            y_desc: "velocity (m/s)",
            variable: "vel",
            noiseless: X + 1,
        },
        Panel {
            y_desc: "control (N·m)",
            variable: "u",
            noiseless: U,
        },
    ];
    let traces = panels
        .iter()
        .map(|p| o.trace(&name, p.variable))
        .collect::<Result<Vec<_>>>()?;
    if traces[0].times.is_empty() {
        return Err(Error::Plot(format!(
            "the traces of `{name}` hold no samples"
        )));
    }
    let seconds = |t_ms: f64| t_ms * 1e-3;
    let t_end = seconds(clock.n_steps as f64 * clock.dt_ms);
    let root = BitMapBackend::new(out, (1500, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let root = root
        .titled(
            &format!(
                "{} — {name}: {} trials (grey), noiseless (red)",
                o.config_name, traces[0].width
            ),
            ("sans-serif", 22),
        )
        .map_err(plot_err)?;
    let areas = root.split_evenly((1, 3));
    for ((area, panel), trace) in areas.iter().zip(&panels).zip(&traces) {
        let value =
            |k: usize, c: usize| trace.data[k * trace.width + c] as f64 + shift(panel.variable, k);
        let n = trace.times.len();
        let (lo, hi) = range_of(
            (0..n)
                .flat_map(|k| (0..trace.width).map(move |c| (k, c)))
                .map(|(k, c)| value(k, c))
                .chain(
                    reference
                        .iter()
                        .enumerate()
                        .map(|(k, x)| x[panel.noiseless] + shift(panel.variable, k)),
                ),
        );
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..t_end, lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(panel.y_desc)
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(plot_err)?;
        if panel.variable == "pos" {
            let target: Vec<(f64, f64)> = (0..n)
                .map(|k| (seconds(trace.times[k]), shift("pos", k)))
                .collect();
            chart
                .draw_series(LineSeries::new(target, GREEN.stroke_width(2)))
                .map_err(plot_err)?;
        }
        for c in 0..trace.width {
            let points: Vec<(f64, f64)> = (0..n)
                .map(|k| (seconds(trace.times[k]), value(k, c)))
                .collect();
            chart
                .draw_series(LineSeries::new(points, GREY.mix(0.6).stroke_width(1)))
                .map_err(plot_err)?;
        }
        let noiseless: Vec<(f64, f64)> = reference
            .iter()
            .enumerate()
            .map(|(k, x)| {
                (
                    seconds(k as f64 * clock.dt_ms),
                    x[panel.noiseless] + shift(panel.variable, k),
                )
            })
            .collect();
        chart
            .draw_series(LineSeries::new(noiseless, RED.stroke_width(2)))
            .map_err(plot_err)?;
        if let Some((j, _)) = &jump {
            let t = seconds(j.at_ms);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(t, lo), (t, hi)],
                    6,
                    4,
                    RGBColor(70, 70, 70).stroke_width(2),
                ))
                .map_err(plot_err)?;
        }
    }
    root.present().map_err(plot_err)
}
