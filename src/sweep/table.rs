//! A sweep file's results as a table: one row per instance, its swept values and each
//! population's spike statistics (`ganglion stats`, `ganglion plot sweep`).

use crate::error::{Error, Result};
use crate::stats::{group_spike_stats, SpikeStats};
use std::path::Path;

/// A swept value as read back from `/sweep`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Number(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Row {
    pub instance: u64,
    pub values: Vec<Value>,
    /// Per population whose spikes were recorded.
    pub spikes: Vec<SpikeStats>,
}

#[derive(Clone, Debug)]
pub struct SweepTable {
    pub keys: Vec<String>,
    pub rows: Vec<Row>,
}

/// The metrics a row offers, by name.
pub const METRICS: [&str; 5] = ["rate", "cv", "fano", "silent", "spikes"];

impl SweepTable {
    /// Whether `path` is a sweep's file (it has `/sweep`).
    pub fn is_sweep(path: &Path) -> bool {
        hdf5::File::open(path).is_ok_and(|f| f.link_exists("sweep"))
    }

    pub fn read(path: &Path, window_ms: f64) -> Result<SweepTable> {
        let h5 = |source| Error::Hdf5 { path: path.to_owned(), source };
        let file = crate::io::hdf5::open_for_reading(path)?;
        let sweep = file.group("sweep").map_err(|_| Error::io(path, "not a sweep's file (no /sweep)"))?;
        let instances: Vec<u64> = sweep.dataset("instance").and_then(|d| d.read_raw()).map_err(h5)?;
        let config = crate::io::sonata::string_attr(&file, "config").ok_or_else(|| Error::io(path, "no config attribute"))?;
        let config = crate::config::parse(&config, &[])?;
        // The columns in the sweep's own order.
        let keys: Vec<String> = config
            .sweep
            .as_ref()
            .map(|t| t.keys().filter(|k| *k != "mode").cloned().collect())
            .unwrap_or_default();
        let mut columns = Vec::new();
        for key in &keys {
            let d = sweep.dataset(key).map_err(h5)?;
            let column: Vec<Value> = match d.read_raw::<f64>() {
                Ok(v) => v.into_iter().map(Value::Number).collect(),
                Err(_) => d
                    .read_raw::<hdf5::types::VarLenUnicode>()
                    .map_err(h5)?
                    .into_iter()
                    .map(|s| Value::Text(s.to_string()))
                    .collect(),
            };
            columns.push(column);
        }
        let mut rows = Vec::new();
        if super::stacked::is_stacked(&file) {
            let all = super::stacked::spike_rows(&file, &config, &instances, window_ms).map_err(h5)?;
            for (r, (&k, spikes)) in instances.iter().zip(all).enumerate() {
                // None: not run (an interrupted sweep).
                if let Some(spikes) = spikes {
                    rows.push(Row { instance: k, values: columns.iter().map(|c| c[r].clone()).collect(), spikes });
                }
            }
            return Ok(SweepTable { keys, rows });
        }
        for (r, &k) in instances.iter().enumerate() {
            let Ok(g) = file.group(&format!("instances/{k}")) else {
                continue; // not run (an interrupted sweep)
            };
            let text = crate::io::sonata::string_attr(&g, "config").unwrap_or_default();
            let own = crate::config::parse(&text, &[])?;
            let simulated: f64 = g.attr("simulated_ms").and_then(|a| a.read_scalar()).map_err(h5)?;
            let spikes = group_spike_stats(&g, &own, simulated, window_ms).map_err(h5)?;
            rows.push(Row { instance: k, values: columns.iter().map(|c| c[r].clone()).collect(), spikes });
        }
        Ok(SweepTable { keys, rows })
    }

    /// `metric` of `population` in `row` (NaN where undefined).
    pub fn metric(row: &Row, population: &str, metric: &str) -> Option<f64> {
        let s = row.spikes.iter().find(|s| s.population == population)?;
        Some(match metric {
            "rate" => s.mean_rate_hz,
            "cv" => s.isi_cv,
            "fano" => s.fano,
            "silent" => s.silent_fraction,
            "spikes" => s.spikes as f64,
            _ => return None,
        })
    }

    /// The populations with spikes, in the first row's order.
    pub fn populations(&self) -> Vec<String> {
        self.rows.first().map(|r| r.spikes.iter().map(|s| s.population.clone()).collect()).unwrap_or_default()
    }

    /// One line per instance: its values, then rate (Hz) and ISI CV of each population.
    pub fn report(&self) -> String {
        let mut header: Vec<String> = vec!["instance".into()];
        header.extend(self.keys.iter().cloned());
        for p in self.populations() {
            header.push(format!("{p}.rate_hz"));
            header.push(format!("{p}.cv"));
        }
        let mut lines = vec![header.join("  ")];
        for r in &self.rows {
            let mut cells: Vec<String> = vec![r.instance.to_string()];
            cells.extend(r.values.iter().map(|v| v.to_string()));
            for s in &r.spikes {
                cells.push(format!("{:.3}", s.mean_rate_hz));
                cells.push(format!("{:.3}", s.isi_cv));
            }
            lines.push(cells.join("  "));
        }
        lines.join("\n") + "\n"
    }

    /// CSV: instance, each key, and per population spikes, rate_hz, cv, fano, silent.
    pub fn csv(&self) -> String {
        let quote = |s: &str| if s.contains([',', '"']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
        let mut header: Vec<String> = vec!["instance".into()];
        header.extend(self.keys.iter().map(|k| quote(k)));
        for p in self.populations() {
            for m in ["spikes", "rate_hz", "cv", "fano", "silent"] {
                header.push(format!("{p}.{m}"));
            }
        }
        let mut out = header.join(",") + "\n";
        for r in &self.rows {
            let mut cells: Vec<String> = vec![r.instance.to_string()];
            cells.extend(r.values.iter().map(|v| quote(&v.to_string())));
            for s in &r.spikes {
                cells.extend([s.spikes as f64, s.mean_rate_hz, s.isi_cv, s.fano, s.silent_fraction].iter().map(|x| x.to_string()));
            }
            out += &(cells.join(",") + "\n");
        }
        out
    }
}
