//! Running a sweep's instances into one file: in parallel on the CPU (each instance's own
//! network and backend, as a single run of its point); on the GPU in batches, each batch's
//! instances merged into one network (`batch`) with one set of buffers and one dispatch per
//! kernel per step, its output split back into the instances' groups. Instances that cannot
//! share a network (a model without an instance table, another shape), and a batch in which
//! an instance diverged, run one after another, each on its own backend.

use super::instances;
use super::spec::{Slice, Sweep};
use crate::app::{backend_options, RunRequest};
use crate::backend::{self, gpu, Backend};
use crate::config::{BackendChoice, Config, SweepLayout};
use crate::error::{Error, Result};
use crate::io::hdf5::{str_attr, BatchOutput, FinishedRun, Hdf5Writer, RunMeta};
use crate::io::stacked::StackedOutput;
use crate::io::output::OutputTarget;
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan};
use crate::simulator::{self, RunOptions, WholeRun};
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
    /// Instances that ran merged with others (GPU batches), and the largest batch.
    pub batched: usize,
    pub largest_batch: usize,
}

impl SweepSummary {
    pub fn one_line(&self) -> String {
        let batches = if self.batched > 0 {
            format!(", {} of them in batches of up to {}", self.batched, self.largest_batch)
        } else {
            String::new()
        };
        format!(
            "{} of {} instances on {}{batches}: {} instance-steps in {:.2} s ({:.3e} instance-steps/s)",
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
    let stacked = config.output.sweep_layout == SweepLayout::Stacked;
    if let (true, Some(own_first)) = (stacked, configs.first()) {
        // Against the sweep's first instance, so that every slice's datasets have one shape.
        let first = match range.start {
            0 => None,
            _ => Some(instances::configs(config, sweep, 0..1)?.remove(0)),
        };
        super::stacked::check(first.as_ref().unwrap_or(own_first), &configs, range.start, WHOLE_RUN_BYTES)?;
    }
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
        Ok((backend, batched, largest_batch)) => Ok((
            target.commit()?,
            SweepSummary {
                instances: configs.len(),
                total: sweep.len(),
                instance_steps: steps,
                wall_s: started.elapsed().as_secs_f64(),
                backend,
                batched,
                largest_batch,
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
) -> Result<(String, usize, usize)> {
    let h5 = |source| Error::Hdf5 { path: partial.to_owned(), source };
    let file = hdf5::File::create(partial).map_err(h5)?;
    let slice = req.slice.unwrap_or(Slice { k: 1, m: 1 });
    let backend_name = if gpu { "gpu" } else { "cpu" };
    write_root(&file, req, config, sweep, slice, backend_name).map_err(h5)?;
    write_table(&file, sweep, range.clone()).map_err(h5)?;

    let done = AtomicUsize::new(0);
    let (batched, largest_batch) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let last_flush = std::sync::Mutex::new(Instant::now());
    // Every instance written whole: a GPU batch's, and those run one by one (on the CPU, in
    // parallel) where they are small (stacked, every instance: `stacked::check`).
    let stacked = config.output.sweep_layout == SweepLayout::Stacked;
    let written = std::sync::Mutex::new(if stacked {
        Written::Stacked(StackedOutput::new(partial, &file, range.clone()))
    } else {
        Written::Instances(BatchOutput::new(partial, &file))
    });
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
        let opts = RunOptions { chunk_steps: cfg.simulation.chunk_steps, show_progress: false, interrupt: req.run.interrupt.clone() };
        let sizes = net.populations.iter().map(|p| p.size as u64);
        let result = if stacked || recording_bytes(&plan, sizes, net.n_steps, net.dt_ms) <= WHOLE_RUN_BYTES {
            let mut whole = WholeRun::default();
            let result = simulator::run(&net, backend.as_mut(), &plan, &mut whole, &opts);
            let empty = ChunkOutput::default();
            let run = finished(&whole, &empty, &result, at.elapsed().as_secs_f64());
            written.lock().expect("no writer panicked").write(k, (&net, &plan, &meta), &run)?;
            result
        } else {
            let mut writer = Hdf5Writer::create_at(partial, &file, &format!("instances/{k}"), &net, &plan, &meta)?;
            let result = simulator::run(&net, backend.as_mut(), &plan, &mut writer, &opts);
            writer.finish_as(at.elapsed().as_secs_f64(), crate::io::hdf5::stop_reason(&result))?;
            result
        };
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
        let alone = |k: usize, cfg: &Config| {
            one(k, cfg, &|net, plan| {
                Ok(Box::new(gpu::GpuBackend::in_context(ctx.clone(), net, plan, gpu::GpuOptions::of(&cfg.simulation))?) as Box<dyn Backend>)
            })
        };
        let mut rest = &instances[..];
        let mut outcome = Ok(());
        while let Some(&(_, cfg)) = rest.first() {
            if interrupted() {
                break;
            }
            let (batch, tail) = rest.split_at(batch_size(&ctx, cfg, rest.len(), sweep.keeps_connectivity())?);
            rest = tail;
            let ran = run_batch(&ctx, &written, req, batch, &alone).map(|(n, largest)| {
                batched.fetch_add(n, Ordering::Relaxed);
                largest_batch.fetch_max(largest, Ordering::Relaxed);
                done.fetch_add(n, Ordering::Relaxed);
                if let Some(b) = &bar {
                    b.inc(n as u64);
                }
            });
            if let Err(e) = ran {
                outcome = Err(e);
                break;
            }
        }
        outcome
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
    let sorted = match &mut *written.lock().expect("no writer panicked") {
        Written::Stacked(out) => out.finish(),
        Written::Instances(_) => Ok(()),
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
    sorted?;
    finish.map_err(h5)?;
    if stop == "interrupted" {
        return Err(Error::SweepInterrupted { done: n_done, total: instances.len() });
    }
    Ok((backend_name.to_string(), batched.load(Ordering::Relaxed), largest_batch.load(Ordering::Relaxed)))
}

/// Instances of `cfg`'s shape one batch may hold on the device of `ctx`: as many as keep every
/// piece that no cut divides (a buffer not cut, one state variable, one projection's g or
/// rings) within one binding, the batch's buffers within the
/// declared memory (`simulation.gpu_memory_gib`, else four bindings' worth: wgpu does not
/// report a device's memory), and on the host its instances' networks (each, and the merged
/// copy) and recordings, kept until the batch ends, within half of the free memory; at most
/// `left`. Where the instances are sure to share their matrices (`shared`), the batch stores
/// them once.
fn batch_size(ctx: &gpu::GpuContext, cfg: &Config, left: usize, shared: bool) -> Result<usize> {
    let shape = crate::shape::Shape::from_config(cfg);
    let plan = RecordPlan::from_config(cfg);
    let options = gpu::GpuOptions::of(&cfg.simulation);
    let limits = options.limits(&ctx.limits);
    let binding = gpu::preflight::binding_limit(&limits);
    let coupling = gpu::resolved(&shape, cfg.simulation.gpu_coupling, binding)?;
    // What no cut divides grows with the instances: one binding must hold a batch's.
    let largest_piece = gpu::preflight::network_buffers(&shape, coupling, &limits)?
        .into_iter()
        .map(|b| b.piece)
        .max()
        .unwrap_or(1)
        .max(1);
    let chunk = crate::simulator::chunk_steps_of(&shape, &plan, cfg.simulation.chunk_steps);
    let matrices = if shared { gpu::sizing::matrix_bytes(&shape, coupling) } else { 0 };
    let each = gpu::sizing::instance_bytes(&shape, &plan, chunk, coupling).saturating_sub(matrices).max(1);
    let memory = options.memory_bytes.unwrap_or(4 * binding).saturating_sub(matrices);
    let recording = recording_bytes(&plan, shape.populations.iter().map(|p| p.size), shape.n_steps, shape.dt_ms);
    let host = crate::memory::available().map_or(1 << 30, |a| a.bytes / 2);
    let network = crate::memory::estimate_run(cfg, &shape, &plan).network;
    let on_host = 2 * network + recording;
    let fit = (binding / largest_piece).min(memory / each).min(host / on_host.max(1));
    Ok((fit as usize).clamp(1, left.max(1)))
}

/// Runs `batch` on `ctx`'s device, each instance into its group of the sweep's file
/// (`written`), its instances grouped by what they can share (`batch::unfit`) and each group
/// of two or more merged into one network; returns how many completed merged, and the largest
/// group that did. Each instance's share of the merged output is kept in memory until the run
/// ends, then written to its group. A group of one, and a group in which an instance
/// diverged, run `alone`.
fn run_batch(
    ctx: &Arc<gpu::GpuContext>,
    written: &std::sync::Mutex<Written>,
    req: &RunRequest,
    batch: &[(usize, &Config)],
    alone: &dyn Fn(usize, &Config) -> Result<()>,
) -> Result<(usize, usize)> {
    if batch.len() == 1 {
        return alone(batch[0].0, batch[0].1).map(|()| (0, 0));
    }
    let nets = batch
        .par_iter()
        .map(|&(_, cfg)| Network::build(cfg))
        .collect::<Result<Vec<_>>>()?;
    let plans = batch
        .iter()
        .zip(&nets)
        .map(|(&(_, cfg), net)| {
            let mut plan = RecordPlan::from_config(cfg);
            plan.resolve(net)?;
            Ok(plan)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..batch.len() {
        let fits = |g: &&mut Vec<usize>| super::batch::unfit((&nets[g[0]], &plans[g[0]]), (&nets[i], &plans[i])).is_none();
        match groups.iter_mut().find(fits) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let (mut completed, mut largest) = (0, 0);
    for group in groups {
        let one_by_one = || group.iter().try_for_each(|&i| alone(batch[i].0, batch[i].1));
        let members: Vec<&Network> = group.iter().map(|&i| &nets[i]).collect();
        let member_plans: Vec<&RecordPlan> = group.iter().map(|&i| &plans[i]).collect();
        let merged = match super::batch::merge(&members, &member_plans) {
            Ok(merged) if group.len() > 1 => merged,
            _ => {
                one_by_one()?;
                continue;
            }
        };
        let cfg = batch[group[0]].1;
        let mut backend = gpu::GpuBackend::in_context(ctx.clone(), &merged.net, &merged.plan, gpu::GpuOptions::of(&cfg.simulation))?;
        let at = Instant::now();
        let opts = RunOptions { chunk_steps: cfg.simulation.chunk_steps, show_progress: false, interrupt: req.run.interrupt.clone() };
        let mut sink = BatchSink { batched: &merged, instances: vec![WholeRun::default(); group.len()] };
        let result = simulator::run(&merged.net, &mut backend, &merged.plan, &mut sink, &opts);
        if let Err(Error::Diverged { .. }) = result {
            one_by_one()?;
            continue;
        }
        // One group open at a time: HDF5 slows with every object held open.
        let wall = at.elapsed().as_secs_f64() / group.len() as f64;
        let info = backend.info();
        let mut out = written.lock().expect("no writer panicked");
        let empty = ChunkOutput::default();
        for (&i, whole) in group.iter().zip(&sink.instances) {
            let meta = RunMeta::of(&req.config, batch[i].1, &info);
            let run = finished(whole, &empty, &result, wall);
            out.write(batch[i].0, (&nets[i], &plans[i], &meta), &run)?;
        }
        match result {
            Ok(_) => {
                completed += group.len();
                largest = largest.max(group.len());
            }
            Err(Error::Interrupted { .. }) => return Ok((completed, largest)),
            Err(e) => return Err(e),
        }
    }
    Ok((completed, largest))
}

/// Where finished instances go: a group each, or their rows of the stacked datasets.
enum Written<'a> {
    Instances(BatchOutput<'a>),
    Stacked(StackedOutput<'a>),
}

impl Written<'_> {
    fn write(&mut self, k: usize, parts: (&Network, &RecordPlan, &RunMeta), run: &FinishedRun) -> Result<()> {
        match self {
            Written::Instances(out) => out.write(&format!("instances/{k}"), parts, run),
            Written::Stacked(out) => out.write(k, parts, run),
        }
    }
}

/// Splits each chunk of a merged run among its instances, kept until the run ends, each
/// instance's as one chunk: its datasets are then written in one piece each (thousands of
/// instances each appending every chunk would make HDF5's bookkeeping the run's cost).
struct BatchSink<'a> {
    batched: &'a super::batch::Batched,
    /// Each instance's output so far, and its synapse variables at the end where synapses
    /// written as equations have some.
    instances: Vec<WholeRun>,
}

impl simulator::ChunkSink for BatchSink<'_> {
    fn synapses(&mut self, values: &crate::simulator::SynapseValues) -> Result<()> {
        for (whole, own) in self.instances.iter_mut().zip(self.batched.split_synapses(values)) {
            whole.synapses = Some(own);
        }
        Ok(())
    }

    fn append(&mut self, chunk: &crate::record::ChunkOutput) -> Result<()> {
        for (whole, part) in self.instances.iter_mut().zip(self.batched.split(chunk)) {
            whole.keep(part);
        }
        Ok(())
    }
}

/// An instance whose recording takes at most this many bytes over its whole run is kept in
/// memory and written whole when it ends (`BatchOutput`); a larger one is written chunk by
/// chunk as it runs.
pub(crate) const WHOLE_RUN_BYTES: u64 = 64 << 20;

/// Bytes an instance's recording takes over its whole run: its traces as planned, its spikes
/// (a time and an id, 16 bytes, and 4 per value recorded with each) and events counted at 200 Hz, its
/// rates (8 bytes a step). `sizes` are its populations'.
pub(crate) fn recording_bytes(plan: &RecordPlan, sizes: impl Iterator<Item = u64>, n_steps: u64, dt_ms: f64) -> u64 {
    let spike_bytes = |k: usize| 16 + 4 * plan.collected_spike_values(k).len() as u64;
    let sizes: Vec<u64> = sizes.collect();
    let recorded: u64 = sizes.iter().enumerate().filter(|&(k, _)| plan.collects_spikes(k)).map(|(k, n)| n * spike_bytes(k)).sum::<u64>()
        + plan.events.iter().zip(&plan.event_values).map(|(&(p, _), values)| (16 + 4 * values.len() as u64) * sizes[p]).sum::<u64>();
    let rated = plan.rates.iter().filter(|&&on| on).count() + plan.subgroups.iter().filter(|s| s.rate).count();
    let rates = rated as u64 * n_steps * 8;
    let seconds = n_steps as f64 * dt_ms * 1e-3;
    plan.trace_bytes_per_chunk(n_steps) + rates + (recorded as f64 * 200.0 * seconds) as u64
}

/// `whole`'s run as `BatchOutput` writes it: `result` its outcome, `wall_time_s` its time.
fn finished<'a, T>(whole: &'a WholeRun, empty: &'a ChunkOutput, result: &Result<T>, wall_time_s: f64) -> FinishedRun<'a> {
    FinishedRun {
        // Stopped before its first chunk: its group says so, empty.
        output: whole.output.as_ref().unwrap_or(empty),
        synapses: whole.synapses.as_ref(),
        wall_time_s,
        stop_reason: crate::io::hdf5::stop_reason(result),
    }
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
