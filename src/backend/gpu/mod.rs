//! The wgpu backend: neuron state in GPU buffers (structure of arrays, f32), WGSL kernels
//! advancing it, many steps per submit, one readback per chunk.
//!
//! Per step, in one compute pass: gather the traces due at this step, compute every
//! projection's synaptic current, then update every population (V, gates, S, noise, spike
//! detection and divergence flags in one fused kernel). The order is the CPU backend's.

pub mod context;
pub mod kernels;

use super::{Backend, BackendInfo, NetworkState};
use crate::config::{NeuronModel, Precision, SynapseModel};
use crate::connectivity::Weights;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{samples_in, ChunkOutput, Divergence, RecordPlan, Spike};
use crate::rng;
pub use context::{describe_adapters, dispatch_size, GpuContext};
use kernels::{CouplingParamsGpu, HhParamsGpu, Kernels, RecordParamsGpu, StepInfo};

/// Steps recorded into one command buffer: long enough to amortise the submit and readback,
/// short enough to keep the per-step slot buffer and the spike buffer small.
const MAX_STEPS_PER_SUBMIT: u64 = 2000;
/// Spike buffer entries: room for every neuron firing at 1 kHz through one submit, within
/// these bounds. More than that is an error (never a silent drop).
const MIN_SPIKE_CAPACITY: u64 = 1 << 16;
const MAX_SPIKE_CAPACITY: u64 = 1 << 23;
/// The population index shares a word with the step in a spike record.
const MAX_POPULATIONS: usize = 256;
const NO_STEP: u32 = u32::MAX;

struct PopulationBuffers {
    size: u32,
    /// v, m, h, n, s in model variable order.
    vars: [wgpu::Buffer; 5],
    i_syn: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

struct ProjectionBuffers {
    n_rows: u32,
    bind_group: wgpu::BindGroup,
}

struct TraceBuffers {
    population: usize,
    n_recorded: u32,
    n_variables: u32,
    every: u64,
    rows: u64,
    samples: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

struct Timer {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
}

pub struct GpuBackend {
    ctx: GpuContext,
    kernels: Kernels,
    populations: Vec<PopulationBuffers>,
    projections: Vec<ProjectionBuffers>,
    traces: Vec<TraceBuffers>,
    spikes: wgpu::Buffer,
    spike_capacity: u64,
    status: wgpu::Buffer,
    step_slots: wgpu::Buffer,
    slot_stride: u64,
    steps_per_submit: u64,
    step: u64,
    timer: Option<Timer>,
    gpu_ns: f64,
}

/// Slots of the per-dispatch uniform buffer one submit may use.
fn slots_per_submit(steps: u64, traces: usize) -> u64 {
    steps * (1 + traces as u64)
}

fn spike_capacity(net: &Network, steps: u64) -> u64 {
    let per_submit = net.n_neurons() as f64 * steps as f64 * net.dt_ms * 1e-3 * 1000.0;
    (per_submit as u64).clamp(MIN_SPIKE_CAPACITY, MAX_SPIKE_CAPACITY)
}

fn trace_rows(steps: u64, every: u64) -> u64 {
    steps.div_ceil(every) + 1
}

/// GPU memory the network and one submit's recording need, in bytes.
pub fn required_bytes(net: &Network, plan: &RecordPlan, chunk_steps: u64) -> u64 {
    let steps = chunk_steps.clamp(1, MAX_STEPS_PER_SUBMIT);
    let neurons = net.n_neurons() as u64 * 6 * 4;
    let synapses: u64 = net
        .projections
        .iter()
        .map(|p| {
            let w = matches!(p.csr.weights, Weights::PerSynapse(_)) as u64 * 4;
            (p.csr.n_rows as u64 + 1) * 4 + p.csr.n_synapses() as u64 * (4 + w)
        })
        .sum();
    let traces: u64 = plan
        .traces
        .iter()
        .map(|t| trace_rows(steps, t.every) * t.neurons.len() as u64 * (t.variables.len() as u64 * 4 + 4))
        .sum();
    let slots = slots_per_submit(steps, plan.traces.len()) * 256;
    neurons + synapses + traces + spike_capacity(net, steps) * 8 + slots
}

fn f32s(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

impl GpuBackend {
    /// Builds the buffers for `net`; `plan` sizes the recording buffers (its traces may be
    /// recorded later; a plan with traces the backend was not built for is an error).
    pub fn with_plan(net: &Network, plan: &RecordPlan, adapter: Option<&str>) -> Result<GpuBackend> {
        if net.populations.len() > MAX_POPULATIONS {
            return Err(Error::TooLarge(format!("{} populations; the GPU backend takes at most {MAX_POPULATIONS}", net.populations.len())));
        }
        let ctx = GpuContext::new(adapter)?;
        let kernels = Kernels::new(&ctx)?;
        let steps_per_submit = MAX_STEPS_PER_SUBMIT.min(net.n_steps.max(1));
        let slot_stride = (ctx.limits.min_uniform_buffer_offset_alignment as u64).max(std::mem::size_of::<StepInfo>() as u64);
        let n_slots = slots_per_submit(steps_per_submit, plan.traces.len());
        let slot_bytes = n_slots * slot_stride;
        if slot_bytes > ctx.limits.max_buffer_size {
            return Err(Error::TooLarge(format!("{slot_bytes} bytes of per-step parameters exceed the device's max_buffer_size")));
        }
        let step_slots = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("step slots"),
            size: slot_bytes,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let step_binding = || {
            wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &step_slots,
                offset: 0,
                size: wgpu::BufferSize::new(std::mem::size_of::<StepInfo>() as u64),
            })
        };
        let spike_capacity = spike_capacity(net, steps_per_submit);
        let spikes = ctx.storage_buffer("spikes", &vec![0u8; ((1 + 2 * spike_capacity) * 4) as usize])?;
        let status = ctx.storage_buffer("status", &vec![0xffu8; net.populations.len() * 8])?;
        let seed = rng::seed_key(net.seed);

        let mut populations = Vec::new();
        for (index, p) in net.populations.iter().enumerate() {
            let NeuronModel::Hh(params) = &p.model;
            let vars = [0, 1, 2, 3, 4].map(|k| ctx.storage_buffer(&format!("{}.{}", p.name, p.variables()[k]), bytemuck::cast_slice(&f32s(&p.init[k]))));
            let [v, m, h, n, s] = vars;
            let vars = [v?, m?, h?, n?, s?];
            let i_syn = ctx.storage_buffer(&format!("{}.i_syn", p.name), &vec![0u8; p.size * 4])?;
            let c = params.consts::<f32>();
            let gpu_params = HhParamsGpu {
                c_m: c.c_m,
                g_na: c.g_na,
                g_k: c.g_k,
                g_l: c.g_l,
                e_na: c.e_na,
                e_k: c.e_k,
                e_l: c.e_l,
                i_ext: c.i_ext,
                noise_sigma: c.noise_sigma,
                v_threshold: c.v_threshold,
                dt: net.dt_ms as f32,
                n: p.size as u32,
                integrator: c.integrator.code(),
                population: index as u32,
                record_spikes: plan.spikes.get(index).copied().unwrap_or(false) as u32,
                seed_lo: seed[0],
                seed_hi: seed[1],
                _pad: [0; 3],
            };
            let params_buf = ctx.uniform_buffer(&format!("{}.params", p.name), bytemuck::bytes_of(&gpu_params));
            let bind_group = kernels.hh.bind(
                &ctx,
                &p.name,
                &[
                    params_buf.as_entire_binding(),
                    step_binding(),
                    vars[0].as_entire_binding(),
                    vars[1].as_entire_binding(),
                    vars[2].as_entire_binding(),
                    vars[3].as_entire_binding(),
                    vars[4].as_entire_binding(),
                    i_syn.as_entire_binding(),
                    spikes.as_entire_binding(),
                    status.as_entire_binding(),
                ],
            );
            populations.push(PopulationBuffers { size: p.size as u32, vars, i_syn, bind_group });
        }

        let mut projections = Vec::new();
        let mut targeted = vec![false; net.populations.len()];
        for p in &net.projections {
            let SynapseModel::Graded(g) = &p.synapse;
            let (uniform_weight, weights) = match &p.csr.weights {
                Weights::Uniform(w) => (*w as f32, ctx.storage_buffer(&format!("{}.weights", p.name), &[])?),
                Weights::PerSynapse(ws) => (0.0, ctx.storage_buffer(&format!("{}.weights", p.name), bytemuck::cast_slice(&f32s(ws)))?),
            };
            let params = CouplingParamsGpu {
                v_rev: g.v_rev as f32,
                w: g.w as f32,
                uniform_weight,
                per_synapse_weights: matches!(p.csr.weights, Weights::PerSynapse(_)) as u32,
                n_rows: p.csr.n_rows as u32,
                accumulate: targeted[p.target] as u32,
                _pad: [0; 2],
            };
            targeted[p.target] = true;
            let params_buf = ctx.uniform_buffer(&format!("{}.params", p.name), bytemuck::bytes_of(&params));
            let row_ptr = ctx.storage_buffer(&format!("{}.row_ptr", p.name), bytemuck::cast_slice(&p.csr.row_ptr))?;
            let col_idx = ctx.storage_buffer(&format!("{}.col_idx", p.name), bytemuck::cast_slice(&p.csr.col_idx))?;
            let bind_group = kernels.coupling.bind(
                &ctx,
                &p.name,
                &[
                    params_buf.as_entire_binding(),
                    row_ptr.as_entire_binding(),
                    col_idx.as_entire_binding(),
                    weights.as_entire_binding(),
                    populations[p.source].vars[4].as_entire_binding(),
                    populations[p.target].vars[0].as_entire_binding(),
                    populations[p.target].i_syn.as_entire_binding(),
                ],
            );
            projections.push(ProjectionBuffers { n_rows: p.csr.n_rows as u32, bind_group });
        }

        let mut traces = Vec::new();
        for t in &plan.traces {
            let rows = trace_rows(steps_per_submit, t.every);
            let n_recorded = t.neurons.len() as u32;
            let params = RecordParamsGpu {
                n_recorded,
                n_variables: t.variables.len() as u32,
                n_samples: rows as u32,
                variables: t.variables.iter().enumerate().map(|(k, &v)| (v as u32) << (4 * k)).sum(),
            };
            let params_buf = ctx.uniform_buffer("trace params", bytemuck::bytes_of(&params));
            let neurons = ctx.storage_buffer("trace neurons", bytemuck::cast_slice(&t.neurons))?;
            let samples = ctx.storage_buffer("trace samples", &vec![0u8; (rows * n_recorded as u64 * t.variables.len() as u64 * 4) as usize])?;
            let pop = &populations[t.population];
            let bind_group = kernels.record.bind(
                &ctx,
                "trace",
                &[
                    params_buf.as_entire_binding(),
                    step_binding(),
                    pop.vars[0].as_entire_binding(),
                    pop.vars[1].as_entire_binding(),
                    pop.vars[2].as_entire_binding(),
                    pop.vars[3].as_entire_binding(),
                    pop.vars[4].as_entire_binding(),
                    neurons.as_entire_binding(),
                    samples.as_entire_binding(),
                ],
            );
            traces.push(TraceBuffers {
                population: t.population,
                n_recorded,
                n_variables: t.variables.len() as u32,
                every: t.every,
                rows,
                samples,
                bind_group,
            });
        }

        let timer = ctx.timestamps.then(|| Timer {
            queries: ctx.device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("timer"), ty: wgpu::QueryType::Timestamp, count: 2 }),
            resolve: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timer resolve"),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
        });
        // Creating buffers and bind groups can fail (out of memory, limits): surface it now.
        ctx.wait()?;
        Ok(GpuBackend {
            ctx,
            kernels,
            populations,
            projections,
            traces,
            spikes,
            spike_capacity,
            status,
            step_slots,
            slot_stride,
            steps_per_submit,
            step: 0,
            timer,
            gpu_ns: 0.0,
        })
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// Runs `n` steps from `self.step` in one submit and appends the results to `out`.
    fn run_submit(&mut self, plan: &RecordPlan, n: u64, out: &mut ChunkOutput) -> Result<()> {
        let first = self.step;
        // One uniform slot per step for the neuron kernels, one per due trace gather.
        let mut slots: Vec<StepInfo> = Vec::with_capacity(slots_per_submit(n, self.traces.len()) as usize);
        let mut rows = vec![0u32; self.traces.len()];
        let mut dispatches: Vec<(u32, Vec<(usize, u32)>)> = Vec::with_capacity(n as usize);
        for k in 0..n {
            let step = first + k;
            let info = |row| StepInfo { step_lo: step as u32, step_hi: (step >> 32) as u32, step_in_chunk: k as u32, row };
            let mut gathers = Vec::new();
            for (t, trace) in self.traces.iter().enumerate() {
                if step % trace.every == 0 {
                    gathers.push((t, slots.len() as u32));
                    slots.push(info(rows[t]));
                    rows[t] += 1;
                }
            }
            dispatches.push((slots.len() as u32, gathers));
            slots.push(info(0));
        }
        let mut slot_bytes = vec![0u8; slots.len() * self.slot_stride as usize];
        for (i, s) in slots.iter().enumerate() {
            let at = i * self.slot_stride as usize;
            slot_bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(s));
        }
        self.ctx.queue.write_buffer(&self.step_slots, 0, &slot_bytes);
        self.ctx.queue.write_buffer(&self.spikes, 0, bytemuck::bytes_of(&0u32));
        self.ctx.queue.write_buffer(&self.status, 0, &vec![0xffu8; self.populations.len() * 8]);

        let mut encoder = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("chunk") });
        {
            let timestamp_writes = self.timer.as_ref().map(|t| wgpu::ComputePassTimestampWrites {
                query_set: &t.queries,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("steps"), timestamp_writes });
            for (neuron_slot, gathers) in &dispatches {
                for &(t, slot) in gathers {
                    let trace = &self.traces[t];
                    pass.set_pipeline(&self.kernels.record.pipeline);
                    pass.set_bind_group(0, &trace.bind_group, &[(slot as u64 * self.slot_stride) as u32]);
                    let (x, y) = dispatch_size(trace.n_recorded);
                    pass.dispatch_workgroups(x, y, 1);
                }
                if !self.projections.is_empty() {
                    pass.set_pipeline(&self.kernels.coupling.pipeline);
                    for proj in &self.projections {
                        pass.set_bind_group(0, &proj.bind_group, &[]);
                        let (x, y) = dispatch_size(proj.n_rows);
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                pass.set_pipeline(&self.kernels.hh.pipeline);
                for pop in &self.populations {
                    pass.set_bind_group(0, &pop.bind_group, &[(*neuron_slot as u64 * self.slot_stride) as u32]);
                    let (x, y) = dispatch_size(pop.size);
                    pass.dispatch_workgroups(x, y, 1);
                }
            }
        }
        if let Some(t) = &self.timer {
            encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
        }
        self.ctx.queue.submit([encoder.finish()]);

        // One readback for the small things and the traces, a second for the spikes if any.
        let mut parts: Vec<(&wgpu::Buffer, u64, u64)> = vec![(&self.spikes, 0, 4), (&self.status, 0, self.populations.len() as u64 * 8)];
        if let Some(t) = &self.timer {
            parts.push((&t.resolve, 0, 16));
        }
        let first_trace_part = parts.len();
        for (t, trace) in self.traces.iter().enumerate() {
            let bytes = rows[t] as u64 * trace.n_recorded as u64 * 4;
            for var in 0..trace.n_variables as u64 {
                parts.push((&trace.samples, var * trace.rows * trace.n_recorded as u64 * 4, bytes));
            }
        }
        let data = self.ctx.read_buffers(&parts)?;
        if let Some(_t) = &self.timer {
            let ts: Vec<u64> = bytemuck::pod_collect_to_vec(&data[2]);
            self.gpu_ns += ts[1].saturating_sub(ts[0]) as f64 * self.ctx.queue.get_timestamp_period() as f64;
        }
        let mut part = first_trace_part;
        for (t, trace) in self.traces.iter().enumerate() {
            let chunk = &mut out.traces[t];
            for var in 0..trace.n_variables as usize {
                chunk.data[var].extend(bytemuck::pod_collect_to_vec::<u8, f32>(&data[part]));
                part += 1;
            }
        }

        let count = u32::from_le_bytes(data[0][..4].try_into().unwrap()) as u64;
        if count > self.spike_capacity {
            return Err(Error::Gpu(format!(
                "spike buffer overflow: {count} spikes in {n} steps exceed its capacity of {}; lower simulation.chunk_steps",
                self.spike_capacity
            )));
        }
        if count > 0 {
            let raw = self.ctx.read_buffers(&[(&self.spikes, 4, count * 8)])?;
            let words: Vec<u32> = bytemuck::pod_collect_to_vec(&raw[0]);
            // Atomic appends arrive in any order: sort to the CPU's (step, population, neuron).
            let mut entries: Vec<(u32, u32, u32)> = words.chunks_exact(2).map(|w| (w[0] & 0xff_ffff, w[0] >> 24, w[1])).collect();
            entries.sort_unstable();
            for (k, pop, neuron) in entries {
                if plan.spikes[pop as usize] {
                    out.spikes[pop as usize].push(Spike { step: first + k as u64, neuron });
                }
            }
        }

        let status: Vec<u32> = bytemuck::pod_collect_to_vec(&data[1]);
        let first_bad = status
            .chunks_exact(2)
            .enumerate()
            .filter(|(_, s)| s[0] != NO_STEP)
            .min_by_key(|(_, s)| s[0]);
        if let Some((population, s)) = first_bad {
            if out.diverged.is_none() {
                out.diverged = Some(Divergence { population, neuron: s[1], step: first + s[0] as u64 });
            }
        }
        self.step += n;
        Ok(())
    }
}

impl Backend for GpuBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo { kind: "gpu", device: format!("{}, {:?}", self.ctx.info.name, self.ctx.info.backend), precision: Precision::F32 }
    }

    fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Result<()> {
        if plan.traces.len() != self.traces.len()
            || plan.traces.iter().zip(&self.traces).any(|(p, t)| p.population != t.population || p.every != t.every || p.neurons.len() != t.n_recorded as usize)
        {
            return Err(Error::Gpu("the recording plan differs from the one the GPU backend was built for".into()));
        }
        debug_assert_eq!(out.first_step, self.step);
        let end = out.first_step + out.n_steps;
        while self.step < end && out.diverged.is_none() {
            let n = self.steps_per_submit.min(end - self.step);
            self.run_submit(plan, n, out)?;
        }
        // A divergence ends the chunk at the submit it was seen in.
        out.n_steps = self.step - out.first_step;
        for (t, chunk) in plan.traces.iter().zip(out.traces.iter_mut()) {
            chunk.n_samples = samples_in(out.first_step, out.n_steps, t.every) as usize;
        }
        Ok(())
    }

    /// Compute-pass time by timestamp queries when the adapter has them.
    fn device_seconds(&self) -> Option<f64> {
        self.timer.as_ref().map(|_| self.gpu_ns * 1e-9)
    }

    fn read_state(&mut self) -> Result<NetworkState> {
        let mut parts = Vec::new();
        for p in &self.populations {
            for v in &p.vars {
                parts.push((v, 0, p.size as u64 * 4));
            }
        }
        let data = self.ctx.read_buffers(&parts)?;
        let mut it = data.into_iter();
        Ok(self
            .populations
            .iter()
            .map(|_| (0..5).map(|_| bytemuck::pod_collect_to_vec::<u8, f32>(&it.next().unwrap()).into_iter().map(f64::from).collect()).collect())
            .collect())
    }
}
