//! `ganglion scale`: one population's size, or the whole network's, swept over a list, each
//! size timed on each backend, written to CSV. A size that does not fit a backend becomes a row
//! saying so.

use crate::backend::BackendOptions;
use crate::bench;
use crate::config::{self, BackendChoice, Config};
use crate::error::{Error, Result};
use crate::network::Network;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct ScaleRequest {
    pub config: PathBuf,
    pub overrides: Vec<String>,
    /// The population whose size is swept; None: the sizes are totals, shared among the
    /// populations in the config's proportions.
    pub population: Option<String>,
    pub sizes: Vec<u64>,
    pub backends: Vec<BackendChoice>,
    pub steps: u64,
    pub repeat: usize,
    pub show_progress: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScaleRow {
    pub config: String,
    pub size: u64,
    pub neurons: usize,
    pub synapses: usize,
    pub backend: String,
    pub device: String,
    pub precision: String,
    /// Building the network's arrays on the host, s.
    pub build_s: f64,
    /// Creating the backend: buffers, uploads, kernels, s.
    pub upload_s: f64,
    pub us_median: f64,
    pub us_min: f64,
    pub us_max: f64,
    /// Wall clock per step (the µs columns are device time where the GPU can time itself).
    pub us_wall: f64,
    pub neuron_steps_per_s: f64,
    pub synapse_updates_per_s: f64,
    pub bytes_per_step: u64,
    pub effective_gb_per_s: f64,
    pub peak_host_bytes: u64,
    pub gpu_bytes: Option<u64>,
    /// "ok", or why the size was not measured.
    pub status: String,
}

pub const CSV_HEADER: &str = "config,size,neurons,synapses,backend,device,precision,build_s,upload_s,us_per_step_median,us_per_step_min,us_per_step_max,us_per_step_wall,neuron_steps_per_s,synapse_updates_per_s,bytes_per_step,effective_gb_per_s,peak_host_bytes,gpu_bytes,status";

impl ScaleRow {
    pub fn csv(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('"', "'"));
        format!(
            "{},{},{},{},{},{},{},{:.6},{:.6},{:.3},{:.3},{:.3},{:.3},{:.6e},{:.6e},{},{:.4},{},{},{}",
            q(&self.config),
            self.size,
            self.neurons,
            self.synapses,
            self.backend,
            q(&self.device),
            self.precision,
            self.build_s,
            self.upload_s,
            self.us_median,
            self.us_min,
            self.us_max,
            self.us_wall,
            self.neuron_steps_per_s,
            self.synapse_updates_per_s,
            self.bytes_per_step,
            self.effective_gb_per_s,
            self.peak_host_bytes,
            self.gpu_bytes.map_or(String::new(), |b| b.to_string()),
            q(&self.status)
        )
    }
}

pub use crate::memory::peak_host_bytes;

fn backend_name(b: BackendChoice) -> &'static str {
    match b {
        BackendChoice::Cpu => "cpu",
        BackendChoice::Gpu => "gpu",
        BackendChoice::Auto => "auto",
    }
}

/// A row for a size that was not timed on a backend, saying why.
fn unmeasured_row(
    config: &str,
    size: u64,
    backend: BackendChoice,
    neurons: usize,
    synapses: usize,
    status: String,
) -> ScaleRow {
    ScaleRow {
        config: config.to_string(),
        size,
        neurons,
        synapses,
        backend: backend_name(backend).into(),
        device: String::new(),
        precision: String::new(),
        build_s: 0.0,
        upload_s: 0.0,
        us_median: f64::NAN,
        us_min: f64::NAN,
        us_max: f64::NAN,
        us_wall: f64::NAN,
        neuron_steps_per_s: f64::NAN,
        synapse_updates_per_s: f64::NAN,
        bytes_per_step: 0,
        effective_gb_per_s: f64::NAN,
        peak_host_bytes: peak_host_bytes(),
        gpu_bytes: None,
        status,
    }
}

/// The `--set` overrides that give the network `size` neurons: the swept population's size,
/// or every population's share of the total (the largest takes the rounding remainder).
fn size_overrides(base: &Config, population: Option<&str>, size: u64) -> Vec<String> {
    let set = |name: &str, n: u64| format!("populations.{name}.size={n}");
    if let Some(name) = population {
        return vec![set(name, size)];
    }
    let total: u64 = base.populations.values().map(|p| p.size).sum();
    let mut sizes: Vec<(&String, u64)> = base
        .populations
        .iter()
        .map(|(name, p)| (name, size * p.size / total))
        .collect();
    let assigned: u64 = sizes.iter().map(|s| s.1).sum();
    let largest = (0..sizes.len())
        .max_by_key(|&i| base.populations[sizes[i].0].size)
        .expect("a config has populations");
    sizes[largest].1 += size - assigned;
    sizes.iter().map(|&(name, n)| set(name, n)).collect()
}

pub fn run(req: &ScaleRequest) -> Result<Vec<ScaleRow>> {
    let base = config::load(&req.config, &req.overrides)?;
    if let Some(name) = &req.population {
        if !base.populations.contains_key(name) {
            return Err(Error::config(
                "--population",
                format!("no population named `{name}` in {}", req.config.display()),
            ));
        }
    }
    if let Some(bad) = req.sizes.iter().find(|&&n| n == 0) {
        return Err(Error::config(
            "--sizes",
            format!("sizes must be at least 1, got {bad}"),
        ));
    }
    let config_name = req.config.display().to_string();
    let bar = if req.show_progress {
        ProgressBar::new((req.sizes.len() * req.backends.len()) as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed_precise}]")
            .expect("static template"),
    );
    let mut rows = Vec::new();
    for &size in &req.sizes {
        let mut overrides = req.overrides.clone();
        overrides.extend(size_overrides(&base, req.population.as_deref(), size));
        // A size the config rules out (say, more inputs than sources) is a row, not the end of
        // the study.
        let config = match config::load(&req.config, &overrides) {
            Ok(c) => c,
            Err(e) => {
                for &b in &req.backends {
                    let status = format!("invalid at this size: {e}");
                    rows.push(unmeasured_row(&config_name, size, b, 0, 0, status));
                    bar.inc(1);
                }
                continue;
            }
        };
        if let Err(e) = crate::memory::ensure_fits(&config) {
            for &b in &req.backends {
                rows.push(unmeasured_row(
                    &config_name,
                    size,
                    b,
                    0,
                    crate::shape::Shape::from_config(&config).n_synapses() as usize,
                    format!("does not fit: {e}"),
                ));
                bar.inc(1);
            }
            continue;
        }
        bar.set_message(format!("N = {size}: building"));
        let built = Instant::now();
        let net = Network::build(&config)?;
        let build_s = built.elapsed().as_secs_f64();
        for &backend in &req.backends {
            bar.set_message(format!("N = {size}: {}", backend_name(backend)));
            let opts = BackendOptions {
                choice: backend,
                ..crate::app::backend_options(&config)
            };
            match bench::bench(&net, &opts, req.steps, req.repeat, 0.0) {
                Ok(r) => rows.push(ScaleRow {
                    config: config_name.clone(),
                    size,
                    neurons: r.neurons,
                    synapses: r.synapses,
                    backend: backend_name(backend).into(),
                    device: r.backend.device.clone(),
                    precision: r.backend.precision.to_string(),
                    build_s,
                    upload_s: r.build_s,
                    us_median: r.us_per_step,
                    us_min: r.us_min,
                    us_max: r.us_max,
                    us_wall: r.wall_us_per_step,
                    neuron_steps_per_s: r.neuron_steps_per_s(),
                    synapse_updates_per_s: r.synapse_updates_per_s(),
                    bytes_per_step: r.bytes_per_step,
                    effective_gb_per_s: r.effective_gb_per_s(),
                    peak_host_bytes: peak_host_bytes(),
                    gpu_bytes: r.device_bytes,
                    status: "ok".into(),
                }),
                Err(
                    e @ (Error::TooLarge(_)
                    | Error::BufferTooLarge { .. }
                    | Error::TooManyEventProjections { .. }
                    | Error::TooManyPopulations { .. }
                    | Error::GpuMemory { .. }
                    | Error::Gpu(_)),
                ) => rows.push(unmeasured_row(
                    &config_name,
                    size,
                    backend,
                    net.n_neurons(),
                    net.n_synapses(),
                    format!("does not fit: {e}"),
                )),
                Err(e) => return Err(e),
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(rows)
}

/// Writes the CSV beside `path` and renames it into place: a study's measurements take long to
/// redo, so a failed write never leaves a truncated CSV where a good one was.
pub fn write_csv(path: &Path, rows: &[ScaleRow]) -> Result<()> {
    let io =
        |e: std::io::Error| Error::config("--out", format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut text = format!("{CSV_HEADER}\n");
    for r in rows {
        text.push_str(&r.csv());
        text.push('\n');
    }
    let partial = crate::io::output::partial_path(path);
    let written = std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.map_err(io)
}

pub fn table(rows: &[ScaleRow]) -> String {
    let mut s = format!(
        "{:>10} {:>12} {:<4} {:>8} {:>8} {:>11} {:>11} {:>14} {:>14} {:>9} {:>11}  {}\n",
        "N",
        "synapses",
        "",
        "build s",
        "upload s",
        "µs/step",
        "wall µs",
        "neuron-steps/s",
        "synapse-upd/s",
        "GB/s",
        "GPU MiB",
        "status"
    );
    for r in rows {
        s.push_str(&format!(
            "{:>10} {:>12} {:<4} {:>8.3} {:>8.3} {:>11.2} {:>11.2} {:>14.3e} {:>14.3e} {:>9.2} {:>11}  {}\n",
            r.size,
            r.synapses,
            r.backend,
            r.build_s,
            r.upload_s,
            r.us_median,
            r.us_wall,
            r.neuron_steps_per_s,
            r.synapse_updates_per_s,
            r.effective_gb_per_s,
            r.gpu_bytes.map_or("-".into(), |b| format!("{:.1}", b as f64 / 1048576.0)),
            r.status
        ));
    }
    s
}

/// A measured row of a scale CSV: (backend, size, µs/step, neuron-steps/s).
/// A measured row of a scale CSV, as `ganglion plot scale` needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredRow {
    pub backend: String,
    pub device: String,
    pub size: f64,
    pub us_per_step: f64,
    pub neuron_steps_per_s: f64,
}

impl MeasuredRow {
    /// The line this row belongs to in a plot: the backend and the device it ran on.
    pub fn series(&self) -> String {
        if self.device.is_empty() {
            self.backend.clone()
        } else {
            format!("{}: {}", self.backend, self.device)
        }
    }
}

/// Reads a scale CSV back (for `ganglion plot scale`): the measured rows and the config named
/// in it.
pub fn read_csv(path: &Path) -> Result<(String, Vec<MeasuredRow>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config("<csv>", format!("cannot read {}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            Error::config(
                "<csv>",
                format!("{} has no column `{name}`", path.display()),
            )
        })
    };
    let (c_cfg, c_size, c_backend, c_device, c_us, c_ns, c_status) = (
        col("config")?,
        col("size")?,
        col("backend")?,
        col("device")?,
        col("us_per_step_median")?,
        col("neuron_steps_per_s")?,
        col("status")?,
    );
    let mut config = String::new();
    let mut rows = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields = split_csv(line);
        let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or("");
        config = get(c_cfg).to_string();
        if get(c_status) != "ok" {
            continue;
        }
        let num = |i: usize| {
            get(i).parse::<f64>().map_err(|_| {
                Error::config(
                    "<csv>",
                    format!("bad number `{}` in {}", get(i), path.display()),
                )
            })
        };
        rows.push(MeasuredRow {
            backend: get(c_backend).to_string(),
            device: get(c_device).to_string(),
            size: num(c_size)?,
            us_per_step: num(c_us)?,
            neuron_steps_per_s: num(c_ns)?,
        });
    }
    Ok((config, rows))
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_csv() {
        let row = ScaleRow {
            config: "configs/x, y.toml".into(),
            size: 1000,
            neurons: 1000,
            synapses: 100_000,
            backend: "cpu".into(),
            device: "2 threads".into(),
            precision: "f32".into(),
            build_s: 0.1,
            upload_s: 0.01,
            us_median: 12.5,
            us_min: 12.0,
            us_max: 13.0,
            us_wall: 14.0,
            neuron_steps_per_s: 8e7,
            synapse_updates_per_s: 8e9,
            bytes_per_step: 1234,
            effective_gb_per_s: 0.1,
            peak_host_bytes: 1 << 20,
            gpu_bytes: None,
            status: "ok".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        write_csv(
            &path,
            &[
                row.clone(),
                ScaleRow {
                    status: "does not fit: too big".into(),
                    ..row
                },
            ],
        )
        .unwrap();
        let (config, rows) = read_csv(&path).unwrap();
        assert_eq!(config, "configs/x, y.toml");
        assert_eq!(
            rows,
            vec![MeasuredRow {
                backend: "cpu".into(),
                device: "2 threads".into(),
                size: 1000.0,
                us_per_step: 12.5,
                neuron_steps_per_s: 8e7,
            }]
        );
    }
}
