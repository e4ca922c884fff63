//! `ganglion bench`: time per step, throughput and effective memory bandwidth of a network on
//! one backend.

use crate::backend::{self, Backend, BackendInfo, BackendOptions};
use crate::connectivity::Weights;
use crate::error::Result;
use crate::network::Network;
use crate::record::{ChunkOutput, RecordPlan};
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct BenchResult {
    pub backend: BackendInfo,
    pub neurons: usize,
    pub synapses: usize,
    pub steps: u64,
    pub build_s: f64,
    /// Seconds from reading the config (equations compiled, network built) to the end of
    /// the first step: what a user waits for after changing a model.
    pub to_first_step_s: f64,
    /// Median, min and max over the repetitions, µs per step.
    pub us_per_step: f64,
    pub us_min: f64,
    pub us_max: f64,
    /// Median wall-clock µs per step, submits, encoding and readbacks included.
    pub wall_us_per_step: f64,
    pub bytes_per_step: u64,
    /// "gpu timestamps" or "wall clock".
    pub timing: &'static str,
    /// Bytes of device buffers the backend allocated (GPU only).
    pub device_bytes: Option<u64>,
}

impl BenchResult {
    pub fn neuron_steps_per_s(&self) -> f64 {
        self.neurons as f64 / (self.us_per_step * 1e-6)
    }
    pub fn synapse_updates_per_s(&self) -> f64 {
        self.synapses as f64 / (self.us_per_step * 1e-6)
    }
    pub fn effective_gb_per_s(&self) -> f64 {
        self.bytes_per_step as f64 / (self.us_per_step * 1e-6) / 1e9
    }
}

/// Bytes one step must move at the least, by the model's count:
/// - each neuron reads and writes its state variables (HH: v, m, h, n, s), reads its two
///   synaptic-input words and writes its spike flag;
/// - a graded projection reads per synapse a column index (none when procedural) and the
///   source's S (plus the weight when synapses have their own), per target row two row
///   pointers, and writes the two input words;
/// - an event-driven projection reads and writes per target its g and its ring slot (in the
///   target's update);
/// - a population with event-driven projections leaving it reads its spike flags once per step
///   (spikes themselves add row traffic in proportion to the rate, not counted).
pub fn bytes_per_step(net: &Network, float_bytes: u64) -> u64 {
    let neurons: u64 = net
        .populations
        .iter()
        .map(|p| p.size as u64 * ((2 * p.variables().len() as u64 + 2) * float_bytes + 4))
        .sum();
    let synapses: u64 = net
        .projections
        .iter()
        .map(|p| match &p.event {
            None => {
                let w = matches!(p.csr.weights, Weights::PerSynapse(_)) as u64;
                let index = if p.procedural.is_some() { 0 } else { 4 };
                p.csr.n_synapses() as u64 * (index + float_bytes * (1 + w))
                    + p.csr.n_rows as u64 * (8 + 2 * float_bytes)
            }
            Some(_) => p.csr.n_rows as u64 * (2 * float_bytes + 8),
        })
        .sum();
    let shape = crate::shape::Shape::from_network(net);
    let spike_flags: u64 = net
        .populations
        .iter()
        .enumerate()
        .filter(|&(i, _)| shape.sends_events(i))
        .map(|(_, p)| p.size as u64 * 4)
        .sum();
    neurons + synapses + spike_flags
}

/// Runs `steps` steps from step `from`. A divergence is an error, as in a run: the steps
/// after it are not the network's, and a time per step measured over them would be no time
/// of the network's at all.
fn advance(
    net: &Network,
    backend: &mut dyn Backend,
    plan: &RecordPlan,
    from: u64,
    steps: u64,
) -> Result<()> {
    let mut out = ChunkOutput::new(plan, from, steps);
    backend.run_chunk(plan, &mut out)?;
    match out.diverged {
        Some(d) => Err(crate::Error::Diverged {
            population: net.populations[d.population].name.clone(),
            neuron: d.neuron,
            time_ms: net.time_of_step(d.step + 1),
        }),
        None => Ok(()),
    }
}

/// Warms up, then times `repeat` runs of `steps` steps with nothing recorded.
/// `load_s`: the seconds the config and network took to load and build.
pub fn bench(
    net: &Network,
    opts: &BackendOptions,
    steps: u64,
    repeat: usize,
    load_s: f64,
) -> Result<BenchResult> {
    let warmup = steps.clamp(1, 100);
    let repeat = repeat.max(1);
    let mut net = net.clone();
    net.n_steps = warmup + steps * repeat as u64;
    let plan = RecordPlan::none(&net);
    let built = Instant::now();
    let mut b = backend::create(&net, &plan, opts)?;
    let build_s = built.elapsed().as_secs_f64();
    let info = b.info();
    advance(&net, b.as_mut(), &plan, 0, 1)?;
    let to_first_step_s = load_s + built.elapsed().as_secs_f64();
    advance(&net, b.as_mut(), &plan, 1, warmup - 1)?;
    let mut times = Vec::with_capacity(repeat);
    let mut walls = Vec::with_capacity(repeat);
    let mut timing = "wall clock";
    for r in 0..repeat {
        let (t0, d0) = (Instant::now(), b.device_seconds());
        advance(&net, b.as_mut(), &plan, warmup + r as u64 * steps, steps)?;
        let wall = t0.elapsed().as_secs_f64();
        walls.push(wall);
        times.push(match (d0, b.device_seconds()) {
            (Some(a), Some(z)) if z > a => {
                timing = "gpu timestamps";
                z - a
            }
            _ => wall,
        });
    }
    let per_step = |t: &[f64]| {
        let mut us: Vec<f64> = t.iter().map(|t| t * 1e6 / steps as f64).collect();
        us.sort_by(|a, b| a.total_cmp(b));
        us
    };
    let (us, wall_us) = (per_step(&times), per_step(&walls));
    let float_bytes = if info.precision == crate::config::Precision::F64 {
        8
    } else {
        4
    };
    Ok(BenchResult {
        backend: info,
        neurons: net.n_neurons(),
        synapses: net.n_synapses(),
        steps,
        build_s,
        to_first_step_s,
        us_per_step: us[us.len() / 2],
        us_min: us[0],
        us_max: us[us.len() - 1],
        wall_us_per_step: wall_us[wall_us.len() / 2],
        bytes_per_step: bytes_per_step(&net, float_bytes),
        timing,
        device_bytes: b.device_memory_bytes(),
    })
}

pub fn table(rows: &[BenchResult]) -> String {
    let mut s = format!(
        "{:<44} {:>10} {:>12} {:>12} {:>12} {:>16} {:>16} {:>10} {:>9} {:>10}  {}\n",
        "backend",
        "neurons",
        "synapses",
        "µs/step",
        "wall µs/step",
        "neuron-steps/s",
        "synapse-upd/s",
        "GB/s",
        "build s",
        "1st step s",
        "timing"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<44} {:>10} {:>12} {:>12.2} {:>12.2} {:>16.3e} {:>16.3e} {:>10.2} {:>9.3} {:>10.3}  {}\n",
            r.backend.to_string(),
            r.neurons,
            r.synapses,
            r.us_per_step,
            r.wall_us_per_step,
            r.neuron_steps_per_s(),
            r.synapse_updates_per_s(),
            r.effective_gb_per_s(),
            r.build_s,
            r.to_first_step_s,
            r.timing
        ));
    }
    s
}
