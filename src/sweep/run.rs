//! Running a sweep's instances into one file: in parallel on the CPU (each instance's own
//! network and backend, as a single run of its point), one after another on the GPU (one
//! device, a backend per instance).

use super::instances;
use super::spec::{Slice, Sweep};
use crate::app::{backend_options, RunRequest};
use crate::backend::{self, gpu, Backend};
use crate::config::{BackendChoice, Config};
use crate::error::{Error, Result};
use crate::io::hdf5::{str_attr, Hdf5Writer, RunMeta};
use crate::io::output::OutputTarget;
use crate::network::Network;
use crate::record::RecordPlan;
use crate::simulator::{self, RunOptions};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What a sweep ran.
#[derive(Clone, Debug)]
pub struct SweepSummary {
    pub instances: usize,
    pub total: usize,
    pub instance_steps: u64,
    pub wall_s: f64,
    pub backend: String,
}

impl SweepSummary {
    pub fn one_line(&self) -> String {
        format!(
            "{} of {} instances on {}: {} instance-steps in {:.2} s ({:.3e} instance-steps/s)",
            self.instances,
            self.total,
            self.backend,
            self.instance_steps,
            self.wall_s,
            self.instance_steps as f64 / self.wall_s.max(1e-9)
        )
    }
}

/// Builds an instance's backend for its network and plan.
type MakeBackend<'a> = dyn Fn(&Network, &RecordPlan) -> Result<Box<dyn Backend>> + 'a;

/// A slice's file, unless named: `out/<config>_slice_K_of_M.h5`.
pub fn slice_path(path: &Path, slice: Option<Slice>) -> PathBuf {
    match slice {
        Some(s) if s.m > 1 => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            path.with_file_name(format!("{stem}_slice_{}_of_{}.h5", s.k, s.m))
        }
        _ => path.to_owned(),
    }
}

/// Whether the instances run on the GPU: `auto` as a single run decides it.
fn on_gpu(config: &Config) -> bool {
    match config.simulation.backend {
        BackendChoice::Cpu => false,
        BackendChoice::Gpu => true,
        BackendChoice::Auto => config.simulation.adapter.is_some() || gpu::context::hardware_adapter_present(),
    }
}

/// Runs instances `slice` of `config`'s sweep into `path` (through its partial file, as a
/// single run is written).
pub fn run(req: &RunRequest, config: &Config, sweep: &Sweep, path: &Path) -> Result<(PathBuf, SweepSummary)> {
    if config.output.sonata_dir.is_some() {
        return Err(Error::config(
            "output.sonata_dir",
            "a sweep writes one file of instances; SONATA directories are written by single runs",
        ));
    }
    let range = req.slice.map_or(0..sweep.len(), |s| sweep.slice(s));
    let configs = instances::configs(config, sweep, range.clone())?;
    let gpu = on_gpu(config);
    // The CPU runs as many instances at once as it has threads; the GPU one.
    let at_once = if gpu { 1 } else { rayon::current_num_threads().min(configs.len()) };
    let (_, largest) = super::check::shapes(&configs);
    crate::memory::fits(largest * at_once as u64, crate::memory::available().as_ref())?;
    let target = OutputTarget::claim(path, req.force)?;
    let started = Instant::now();
    let result = run_into(target.partial(), req, config, sweep, range.clone(), &configs, gpu);
    let steps = configs.iter().map(|c| c.clock().n_steps).sum();
    match result {
        Ok(backend) => Ok((
            target.commit()?,
            SweepSummary {
                instances: configs.len(),
                total: sweep.len(),
                instance_steps: steps,
                wall_s: started.elapsed().as_secs_f64(),
                backend,
            },
        )),
        Err(e @ Error::SweepInterrupted { .. }) => {
            target.commit()?;
            Err(e)
        }
        Err(e) => {
            let shown = target.target().display().to_string();
            target.abandon(false);
            Err(Error::RunFailed { source: Box::new(e), outcome: format!("nothing was written; {shown} was left as it was") })
        }
    }
}

fn run_into(
    partial: &Path,
    req: &RunRequest,
    config: &Config,
    sweep: &Sweep,
    range: std::ops::Range<usize>,
    configs: &[Config],
    gpu: bool,
) -> Result<String> {
    let h5 = |source| Error::Hdf5 { path: partial.to_owned(), source };
    let file = hdf5::File::create(partial).map_err(h5)?;
    let slice = req.slice.unwrap_or(Slice { k: 1, m: 1 });
    let backend_name = if gpu { "gpu" } else { "cpu" };
    write_root(&file, req, config, sweep, slice, backend_name).map_err(h5)?;
    write_table(&file, sweep, range.clone()).map_err(h5)?;

    let done = AtomicUsize::new(0);
    let last_flush = std::sync::Mutex::new(Instant::now());
    let bar = (req.run.show_progress && configs.len() > 1).then(|| {
        let bar = indicatif::ProgressBar::new(configs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} instances, {per_sec}, ETA {eta}")
                .expect("a valid template"),
        );
        bar
    });
    let interrupted = || req.run.interrupt.as_ref().is_some_and(|f| f.load(Ordering::SeqCst));
    let one = |k: usize, cfg: &Config, make: &MakeBackend| -> Result<()> {
        if interrupted() {
            return Ok(());
        }
        let net = Network::build(cfg)?;
        let mut plan = RecordPlan::from_config(cfg);
        plan.resolve(&net)?;
        let mut backend = make(&net, &plan)?;
        let meta = RunMeta::of(&req.config, cfg, &backend.info());
        let at = Instant::now();
        let mut writer = Hdf5Writer::create_at(partial, &file, &format!("instances/{k}"), &net, &plan, &meta)?;
        let opts = RunOptions { chunk_steps: cfg.simulation.chunk_steps, show_progress: false, interrupt: req.run.interrupt.clone() };
        let result = simulator::run(&net, backend.as_mut(), &plan, &mut writer, &opts);
        writer.finish_as(at.elapsed().as_secs_f64(), crate::io::hdf5::stop_reason(&result))?;
        // The instances' groups reach the disk together, about once a second.
        if let Ok(mut last) = last_flush.try_lock() {
            if last.elapsed().as_secs_f64() > 1.0 {
                file.flush().map_err(|source| Error::Hdf5 { path: partial.to_owned(), source })?;
                *last = Instant::now();
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
        match result {
            // A diverged instance is a result of its point: its group says so, the others go on.
            Ok(_) | Err(Error::Diverged { .. }) => {
                done.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            // Its group says so; the flag stops the instances not yet started.
            Err(Error::Interrupted { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    };
    let started = Instant::now();
    let instances: Vec<(usize, &Config)> = range.zip(configs).collect();
    let result = if gpu {
        let ctx = Arc::new(gpu::GpuContext::new(config.simulation.adapter.as_deref())?);
        instances.iter().try_for_each(|&(k, cfg)| {
            one(k, cfg, &|net, plan| {
                Ok(Box::new(gpu::GpuBackend::in_context(ctx.clone(), net, plan, gpu::GpuOptions::of(&cfg.simulation))?) as Box<dyn Backend>)
            })
        })
    } else {
        instances.par_iter().try_for_each(|&(k, cfg)| {
            let mut opts = backend_options(cfg);
            opts.choice = BackendChoice::Cpu;
            one(k, cfg, &|net, plan| backend::create(net, plan, &opts))
        })
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let n_done = done.load(Ordering::Relaxed);
    let stop = match &result {
        Ok(()) if n_done == instances.len() => "complete",
        Ok(()) => "interrupted",
        Err(_) => "failed",
    };
    let finish = (|| -> hdf5::Result<()> {
        file.attr("wall_time_s")?.write_scalar(&started.elapsed().as_secs_f64())?;
        file.attr("complete")?.write_scalar(&(stop == "complete"))?;
        file.attr("instances_done")?.write_scalar(&(n_done as u64))?;
        file.delete_attr("stop_reason")?;
        str_attr(&file, "stop_reason", stop)?;
        file.flush()
    })();
    result?;
    finish.map_err(h5)?;
    if stop == "interrupted" {
        return Err(Error::SweepInterrupted { done: n_done, total: instances.len() });
    }
    Ok(backend_name.to_string())
}

fn write_root(file: &hdf5::File, req: &RunRequest, config: &Config, sweep: &Sweep, slice: Slice, backend: &str) -> hdf5::Result<()> {
    str_attr(file, "ganglion_version", env!("CARGO_PKG_VERSION"))?;
    // The config with its [sweep]: what `merge` checks the slices against.
    str_attr(file, "config", &config.to_toml())?;
    str_attr(file, "config_name", &req.config.display().to_string())?;
    str_attr(file, "backend", backend)?;
    str_attr(file, "slice", &slice.to_string())?;
    file.new_attr::<u64>().create("instances_total")?.write_scalar(&(sweep.len() as u64))?;
    file.new_attr::<u64>().create("instances_done")?.write_scalar(&0)?;
    file.new_attr::<f64>().create("dt_ms")?.write_scalar(&config.simulation.dt_ms)?;
    file.new_attr::<f64>().create("wall_time_s")?.write_scalar(&0.0)?;
    file.new_attr::<bool>().create("complete")?.write_scalar(&false)?;
    str_attr(file, "stop_reason", "running")
}

/// `/sweep`: `instance` and one column per swept key (numbers as f64, anything else as its
/// TOML text), one row per instance of `range`.
pub fn write_table(file: &hdf5::File, sweep: &Sweep, range: std::ops::Range<usize>) -> hdf5::Result<()> {
    let g = file.create_group("sweep")?;
    let ids: Vec<u64> = range.clone().map(|k| k as u64).collect();
    g.new_dataset_builder().with_data(&ids).create("instance")?;
    for (column, (key, list)) in sweep.keys.iter().zip(&sweep.lists).enumerate() {
        let numbers: Option<Vec<f64>> = list.iter().map(number).collect();
        let values = range.clone().map(|k| sweep.point(k)[column]);
        if numbers.is_some() {
            let v: Vec<f64> = values.map(|v| number(v).expect("numeric column")).collect();
            g.new_dataset_builder().with_data(&v).create(key.as_str())?;
        } else {
            let v: Vec<hdf5::types::VarLenUnicode> = values
                .map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .map(|s| s.parse().expect("no NUL in a TOML value"))
                .collect();
            g.new_dataset_builder().with_data(&v).create(key.as_str())?;
        }
    }
    Ok(())
}

/// A swept value as a number, where it is one (integers, floats, booleans as 0/1).
pub fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        toml::Value::Boolean(b) => Some(*b as u8 as f64),
        _ => None,
    }
}
