//! The run loop: chunks of steps on a backend, each appended to the output, with a progress
//! bar, a divergence guard and a clean stop on Ctrl-C.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Trace memory one chunk may hold before the chunk is shortened.
pub const MAX_TRACE_BYTES_PER_CHUNK: u64 = 64 << 20;
/// Neuron-steps (weighted by inputs) in one chunk: about 10–50 ms of GPU work on a large GPU,
/// a fraction of a second on the CPU, so progress and Ctrl-C stay responsive.
const TARGET_WORK_PER_CHUNK: f64 = 2e9;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub chunk_steps: Option<u32>,
    pub show_progress: bool,
    /// Set from outside (Ctrl-C, SIGTERM) to stop within about `SUB_CHUNK_SECONDS`.
    pub interrupt: Option<Arc<AtomicBool>>,
}

#[derive(Clone, Debug)]
pub struct PopulationSummary {
    pub name: String,
    pub size: usize,
    /// None when the population's spikes were not recorded.
    pub spikes: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct RunSummary {
    pub steps: u64,
    pub simulated_ms: f64,
    pub wall_s: f64,
    pub populations: Vec<PopulationSummary>,
    /// Peak resident host memory of the process and the estimate made before the run, bytes
    /// (filled in by `app::run`).
    pub host_memory: Option<(u64, u64)>,
}

impl RunSummary {
    pub fn one_line(&self) -> String {
        let parts: Vec<String> = self
            .populations
            .iter()
            .filter_map(|p| {
                let n = p.spikes? as f64;
                let per_neuron = n / p.size as f64;
                Some(format!(
                    "{}: {} spikes, {:.1} spikes/neuron, mean rate {:.1} Hz",
                    p.name,
                    n,
                    per_neuron,
                    per_neuron / (self.simulated_ms / 1000.0)
                ))
            })
            .collect();
        let spikes = if parts.is_empty() {
            "no spikes recorded".to_string()
        } else {
            parts.join("; ")
        };
        let ms = format!("{:.4}", self.simulated_ms);
        let ms = ms.trim_end_matches('0').trim_end_matches('.');
        format!("{ms} ms simulated in {:.2} s; {spikes}", self.wall_s)
    }
}

/// Steps per chunk before the trace-memory cap: the user's choice, else enough work to
/// amortise a GPU submit.
pub fn work_chunk_steps(neurons: u64, synapses: u64, n_steps: u64, requested: Option<u32>) -> u64 {
    let steps = match requested {
        Some(n) => n.max(1) as u64,
        None => {
            let work = (neurons + synapses).max(1) as f64;
            (TARGET_WORK_PER_CHUNK / work).clamp(50.0, 20_000.0) as u64
        }
    };
    steps.min(n_steps.max(1))
}

/// Steps per chunk: `work_chunk_steps`, capped by the trace memory a chunk may hold.
pub fn chunk_steps(net: &Network, plan: &RecordPlan, requested: Option<u32>) -> u64 {
    let steps = work_chunk_steps(
        net.n_neurons() as u64,
        net.n_synapses() as u64,
        net.n_steps,
        requested,
    );
    cap_by_traces(steps, plan.trace_bytes_per_chunk(1))
}

/// `chunk_steps` of a network not built yet.
pub fn chunk_steps_of(shape: &crate::shape::Shape, plan: &RecordPlan, requested: Option<u32>) -> u64 {
    let steps = work_chunk_steps(shape.n_neurons(), shape.n_synapses(), shape.n_steps, requested);
    cap_by_traces(steps, plan.expected_trace_bytes_per_chunk(1, shape))
}

fn cap_by_traces(steps: u64, per_step: u64) -> u64 {
    steps.min((MAX_TRACE_BYTES_PER_CHUNK / per_step.max(1)).max(1))
}

/// Per projection, the variables of its synapses written as equations (a column per variable,
/// synapses in CSR order), or None.
pub type SynapseValues = Vec<Option<Vec<Vec<f64>>>>;

/// Where finished chunks go: the HDF5 writer, memory (tests, validation) or nowhere (benchmarks).
pub trait ChunkSink {
    fn append(&mut self, chunk: &ChunkOutput) -> Result<()>;
    /// The synapses' variables when the run ends (completed or stopped).
    fn synapses(&mut self, _values: &SynapseValues) -> Result<()> {
        Ok(())
    }
}

/// Discards chunks.
pub struct NullSink;

impl ChunkSink for NullSink {
    fn append(&mut self, _: &ChunkOutput) -> Result<()> {
        Ok(())
    }
}

/// Keeps a run's output as one chunk, and its synapses' variables, to be written whole when
/// the run ends (a sweep's instance: its datasets are then written in one piece each).
#[derive(Clone, Debug, Default)]
pub struct WholeRun {
    /// None before the first chunk.
    pub output: Option<ChunkOutput>,
    pub synapses: Option<SynapseValues>,
}

impl WholeRun {
    /// Joins `part`, the steps after those kept, to the output.
    pub fn keep(&mut self, part: ChunkOutput) {
        match &mut self.output {
            Some(all) => all.extend(part),
            None => self.output = Some(part),
        }
    }
}

impl ChunkSink for WholeRun {
    fn append(&mut self, chunk: &ChunkOutput) -> Result<()> {
        self.keep(chunk.clone());
        Ok(())
    }

    fn synapses(&mut self, values: &SynapseValues) -> Result<()> {
        self.synapses = Some(values.clone());
        Ok(())
    }
}

/// Keeps every chunk's spikes and samples in memory.
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    /// Per population, in time order.
    pub spikes: Vec<Vec<crate::record::Spike>>,
    /// Per population: the values recorded with its spikes, a row per spike.
    pub spike_values: Vec<Vec<f32>>,
    /// Per recorded event (`RecordPlan::events`), in time order.
    pub events: Vec<Vec<crate::record::Spike>>,
    /// Per recorded event: the values recorded with it, a row per occurrence.
    pub event_values: Vec<Vec<f32>>,
    /// Per trace plan, per variable: row-major [sample][recorded neuron].
    pub traces: Vec<Vec<Vec<f32>>>,
    /// The synapses' variables at the end.
    pub synapses: SynapseValues,
}

impl ChunkSink for MemorySink {
    fn synapses(&mut self, values: &SynapseValues) -> Result<()> {
        self.synapses = values.clone();
        Ok(())
    }

    fn append(&mut self, chunk: &ChunkOutput) -> Result<()> {
        self.spikes.resize_with(chunk.spikes.len(), Vec::new);
        for (all, new) in self.spikes.iter_mut().zip(&chunk.spikes) {
            all.extend_from_slice(new);
        }
        self.spike_values.resize_with(chunk.spike_values.len(), Vec::new);
        for (all, new) in self.spike_values.iter_mut().zip(&chunk.spike_values) {
            all.extend_from_slice(new);
        }
        self.events.resize_with(chunk.events.len(), Vec::new);
        for (all, new) in self.events.iter_mut().zip(&chunk.events) {
            all.extend_from_slice(new);
        }
        self.event_values.resize_with(chunk.event_values.len(), Vec::new);
        for (all, new) in self.event_values.iter_mut().zip(&chunk.event_values) {
            all.extend_from_slice(new);
        }
        self.traces.resize_with(chunk.traces.len(), Vec::new);
        for (all, new) in self.traces.iter_mut().zip(&chunk.traces) {
            all.resize_with(new.data.len(), Vec::new);
            for (a, n) in all.iter_mut().zip(&new.data) {
                a.extend_from_slice(n);
            }
        }
        Ok(())
    }
}

impl MemorySink {
    /// Spike times (ms) of one neuron.
    pub fn spike_times(&self, population: usize, neuron: u32, dt_ms: f64) -> Vec<f64> {
        self.spikes[population]
            .iter()
            .filter(|s| s.neuron == neuron)
            .map(|s| (s.step + 1) as f64 * dt_ms)
            .collect()
    }
}

/// Wall time one call into the backend may take: an interrupt is honoured between calls, so
/// this bounds how long Ctrl-C waits, whatever the chunk length.
const SUB_CHUNK_SECONDS: f64 = 0.25;

/// The length of the next call into the backend, from the time per step seen so far.
struct Pacer {
    steps: u64,
}

impl Pacer {
    fn new() -> Pacer {
        Pacer { steps: 16 }
    }

    fn observe(&mut self, steps: u64, took: Duration) {
        if steps == 0 {
            return;
        }
        let per_step = took.as_secs_f64() / steps as f64;
        let fitting = (SUB_CHUNK_SECONDS / per_step.max(1e-9)) as u64;
        // At most doubling, so that one slow first call does not commit to a long second one.
        self.steps = fitting.clamp(1, self.steps.saturating_mul(2));
    }
}

fn interrupted(opts: &RunOptions) -> bool {
    opts.interrupt
        .as_ref()
        .is_some_and(|f| f.load(Ordering::SeqCst))
}

/// Runs the network to its end, a chunk at a time, appending each chunk to `sink`. A chunk is
/// stepped in calls of about `SUB_CHUNK_SECONDS`, between which an interrupt is checked: on
/// one, the steps done so far are appended and the run ends with `Error::Interrupted`. A
/// divergence ends it after the step that diverged, with that step's output appended.
/// Hands the sink the synapses' variables, where any projection has some.
fn save_synapses(net: &Network, backend: &mut dyn Backend, sink: &mut dyn ChunkSink) -> Result<()> {
    let any = net
        .projections
        .iter()
        .any(|p| p.equation.as_ref().is_some_and(|e| !e.state.is_empty()));
    if any {
        sink.synapses(&backend.read_synapses()?)?;
    }
    Ok(())
}

pub fn run(
    net: &Network,
    backend: &mut dyn Backend,
    plan: &RecordPlan,
    sink: &mut dyn ChunkSink,
    opts: &RunOptions,
) -> Result<RunSummary> {
    let chunk = chunk_steps(net, plan, opts.chunk_steps);
    let start = Instant::now();
    let progress = Progress::new(net, opts.show_progress);
    let mut pacer = Pacer::new();
    let mut spike_counts = vec![0u64; net.populations.len()];
    let mut step = 0u64;
    while step < net.n_steps {
        let n = chunk.min(net.n_steps - step);
        let mut out = ChunkOutput::new(plan, step, 0);
        let mut stop = false;
        while out.n_steps < n && out.diverged.is_none() {
            stop = interrupted(opts);
            if stop {
                break;
            }
            let m = pacer.steps.min(n - out.n_steps);
            let mut part = ChunkOutput::new(plan, step + out.n_steps, m);
            let began = Instant::now();
            if let Err(e) = backend.run_chunk(plan, &mut part) {
                // The steps before the failure are sound: keep them.
                if out.n_steps > 0 {
                    sink.append(&out)?;
                }
                progress.finish();
                return Err(e);
            }
            pacer.observe(part.n_steps, began.elapsed());
            out.extend(part);
            progress.update(step + out.n_steps, start.elapsed());
        }
        if let Some(d) = out.diverged {
            out.truncate(plan, d.step + 1);
        }
        for (count, spikes) in spike_counts.iter_mut().zip(&out.spikes) {
            *count += spikes.len() as u64;
        }
        if out.n_steps > 0 {
            sink.append(&out)?;
        }
        step += out.n_steps;
        if out.diverged.is_some() || stop {
            save_synapses(net, backend, sink)?;
        }
        if let Some(d) = out.diverged {
            progress.finish();
            return Err(Error::Diverged {
                population: net.populations[d.population].name.clone(),
                neuron: d.neuron,
                time_ms: net.time_of_step(d.step + 1),
            });
        }
        if stop {
            progress.finish();
            return Err(Error::Interrupted {
                time_ms: net.time_of_step(step),
            });
        }
    }
    save_synapses(net, backend, sink)?;
    progress.finish();
    Ok(RunSummary {
        steps: step,
        simulated_ms: net.time_of_step(step),
        wall_s: start.elapsed().as_secs_f64(),
        populations: net
            .populations
            .iter()
            .zip(spike_counts)
            .enumerate()
            .map(|(k, (p, n))| PopulationSummary {
                name: p.name.clone(),
                size: p.size,
                spikes: plan.collects_spikes(k).then_some(n),
            })
            .collect(),
        host_memory: None,
    })
}

/// A progress bar that appears only once a run has taken more than a second.
struct Progress {
    bar: Option<ProgressBar>,
    dt_ms: f64,
}

impl Progress {
    fn new(net: &Network, enabled: bool) -> Progress {
        let bar = enabled.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(net.n_steps), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {msg} [{elapsed_precise}, ETA {eta}]")
                    .expect("static template"),
            );
            bar
        });
        Progress {
            bar,
            dt_ms: net.dt_ms,
        }
    }

    fn update(&self, step: u64, elapsed: Duration) {
        let Some(bar) = &self.bar else { return };
        if bar.is_hidden() && elapsed > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_position(step);
        let rate = step as f64 / elapsed.as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "{:.1} ms simulated, {:.0} steps/s",
            step as f64 * self.dt_ms,
            rate
        ));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
