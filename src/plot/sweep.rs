//! A sweep's metric against its swept keys: lines against one key (one line per value of the
//! other keys), or a heatmap over two (the mean over any other key).

use super::*;
use crate::sweep::table::{SweepTable, Value};
use plotters::style::colors::colormaps::{ColorMap, ViridisRGB};

fn number(v: &Value, key: &str) -> Result<f64> {
    match v {
        Value::Number(x) => Ok(*x),
        Value::Text(t) => Err(Error::Plot(format!("`{key}` takes text values (`{t}`): plot it as --y, or against a numeric key"))),
    }
}

/// The distinct values of column `c`, sorted (numbers by value, text by name).
fn distinct(table: &SweepTable, c: usize) -> Vec<Value> {
    let mut v: Vec<Value> = Vec::new();
    for r in &table.rows {
        if !v.contains(&r.values[c]) {
            v.push(r.values[c].clone());
        }
    }
    v.sort_by(|a, b| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    });
    v
}

/// [`crate::plot::sweep`], drawn into `out`.
pub(super) fn draw(path: &Path, x: &str, y: Option<&str>, metric: &str, population: Option<&str>, out: &Path) -> Result<()> {
    ensure_font()?;
    let table = SweepTable::read(path, 100.0)?;
    let column = |key: &str| {
        table.keys.iter().position(|k| k == key).ok_or_else(|| {
            Error::Plot(format!("`{key}` is not swept; the sweep's keys are {}", table.keys.join(", ")))
        })
    };
    let xc = column(x)?;
    let yc = y.map(column).transpose()?;
    if yc == Some(xc) {
        return Err(Error::Plot("--x and --y name the same key".into()));
    }
    let pops = table.populations();
    let population = match population {
        Some(p) if pops.iter().any(|q| q == p) => p.to_string(),
        Some(p) => return Err(Error::Plot(format!("no spikes of population `{p}`; the file has {}", pops.join(", ")))),
        None => pops.first().cloned().ok_or_else(|| Error::Plot("the sweep recorded no spikes".into()))?,
    };
    let value = |r: &crate::sweep::table::Row| SweepTable::metric(r, &population, metric).unwrap_or(f64::NAN);
    let title = format!("{metric} of {population}");
    let root = BitMapBackend::new(out, (1100, 750)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    match yc {
        None => {
            // One line per combination of the other keys' values.
            let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
            for r in &table.rows {
                let label: Vec<String> = table
                    .keys
                    .iter()
                    .zip(&r.values)
                    .enumerate()
                    .filter(|(c, _)| *c != xc)
                    .map(|(_, (k, v))| format!("{} = {v}", k.rsplit('.').next().unwrap_or(k)))
                    .collect();
                let label = label.join(", ");
                let point = (number(&r.values[xc], x)?, value(r));
                match series.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, pts)) => pts.push(point),
                    None => series.push((label, vec![point])),
                }
            }
            let others: Vec<&str> = table.keys.iter().enumerate().filter(|(c, _)| *c != xc).map(|(_, k)| k.as_str()).collect();
            let title = if series.len() > 12 {
                format!("{title} — {} lines, dark to light by {}", series.len(), others.join(", "))
            } else {
                title.clone()
            };
            let (xlo, xhi) = range_of(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)));
            let (ylo, yhi) = range_of(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)));
            let mut chart = ChartBuilder::on(&root)
                .caption(&title, ("sans-serif", 22))
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(xlo..xhi, ylo..yhi)
                .map_err(plot_err)?;
            chart.configure_mesh().x_desc(x).y_desc(metric).label_style(("sans-serif", 15)).draw().map_err(plot_err)?;
            let n = series.len();
            for (i, (label, mut pts)) in series.into_iter().enumerate() {
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let color = ViridisRGB.get_color(if n > 1 { i as f64 / (n - 1) as f64 } else { 0.0 });
                let drawn = chart.draw_series(LineSeries::new(pts.into_iter().filter(|p| p.1.is_finite()), color.stroke_width(2))).map_err(plot_err)?;
                // A legend is readable up to a dozen lines; beyond, the colours run in order.
                if n <= 12 && !label.is_empty() {
                    drawn.label(label).legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], color.stroke_width(2)));
                }
            }
            if n <= 12 && n > 1 {
                chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).label_font(("sans-serif", 14)).draw().map_err(plot_err)?;
            }
        }
        Some(yc) => {
            let (xs, ys) = (distinct(&table, xc), distinct(&table, yc));
            let mut sum = vec![vec![(0.0, 0usize); ys.len()]; xs.len()];
            for r in &table.rows {
                let (i, j) = (xs.iter().position(|v| *v == r.values[xc]), ys.iter().position(|v| *v == r.values[yc]));
                let m = value(r);
                if let (Some(i), Some(j)) = (i, j) {
                    if m.is_finite() {
                        sum[i][j].0 += m;
                        sum[i][j].1 += 1;
                    }
                }
            }
            let (lo, hi) = range_of(sum.iter().flatten().filter(|c| c.1 > 0).map(|c| c.0 / c.1 as f64));
            let (area, bar) = root.split_horizontally(980);
            let mut chart = ChartBuilder::on(&area)
                .caption(
                    if table.keys.len() > 2 { format!("{title} (mean over the other keys)") } else { title.clone() },
                    ("sans-serif", 22),
                )
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(70)
                // Cells centred on whole numbers, so that each tick names its cell's value.
                .build_cartesian_2d(-0.5..xs.len() as f64 - 0.5, -0.5..ys.len() as f64 - 0.5)
                .map_err(plot_err)?;
            let label = |vals: Vec<Value>| {
                move |v: &f64| {
                    let k = v.round();
                    if (v - k).abs() > 1e-6 || k < 0.0 {
                        return String::new();
                    }
                    vals.get(k as usize).map(|x| x.to_string()).unwrap_or_default()
                }
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(x)
                .y_desc(y.unwrap_or_default())
                .x_labels(xs.len().min(12))
                .y_labels(ys.len().min(12))
                .x_label_formatter(&label(xs.clone()))
                .y_label_formatter(&label(ys.clone()))
                .label_style(("sans-serif", 14))
                .draw()
                .map_err(plot_err)?;
            chart
                .draw_series(sum.iter().enumerate().flat_map(|(i, col)| {
                    col.iter().enumerate().map(move |(j, &(s, n))| {
                        let color = if n == 0 { RGBColor(220, 220, 220) } else { ViridisRGB.get_color_normalized(s / n as f64, lo, hi) };
                        Rectangle::new([(i as f64 - 0.5, j as f64 - 0.5), (i as f64 + 0.5, j as f64 + 0.5)], color.filled())
                    })
                }))
                .map_err(plot_err)?;
            // The colour bar.
            let mut scale = ChartBuilder::on(&bar)
                .margin_top(60)
                .margin_bottom(60)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..1.0, lo..hi)
                .map_err(plot_err)?;
            scale.configure_mesh().disable_mesh().disable_x_axis().y_desc(metric).label_style(("sans-serif", 13)).draw().map_err(plot_err)?;
            let steps = 100;
            scale
                .draw_series((0..steps).map(|k| {
                    let a = lo + (hi - lo) * k as f64 / steps as f64;
                    let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
                    Rectangle::new([(0.0, a), (1.0, b)], ViridisRGB.get_color_normalized(a, lo, hi).filled())
                }))
                .map_err(plot_err)?;
        }
    }
    root.present().map_err(plot_err)
}
