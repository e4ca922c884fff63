//! The wgpu backend: neuron state in GPU buffers (structure of arrays, f32), WGSL kernels
//! advancing it, many steps per submit, one readback per chunk.
//!
//! Per step, in one compute pass: gather the traces due at this step; every graded projection's
//! coupling in config order (unless fused into the update); every population's update
//! (delivery of its event-driven synapses, state, noise, spike detection, divergence flag;
//! with `gpu_event_delivery = "separate"` the deliveries run first, one dispatch each);
//! then, per source population, the propagation of the step's spikes into the delay rings of
//! its event-driven projections. The order is the CPU backend's.
//!
//! Files by role, as wgpu-hal splits a backend:
//! - `context`: the device, its limits, buffer helpers; `crate::shaders`: WGSL modules and their
//!   composition; `kernels`: pipelines, bind group layouts and the uniform structs;
//!   `layouts`: what host and shaders share, checked by a test.
//! - `preflight` and `sizing`: what a network needs, checked and counted before any buffer;
//!   `split`: matrices larger than one binding cut into parts of whole rows; `state_parts`:
//!   populations' states cut into parts of whole variables; `neuron_ranges`: every
//!   per-neuron array cut into ranges of neurons past one variable per binding; `event_parts`: the event-driven
//!   g and delay rings cut into parts of whole projections; `parted`: the WGSL of arrays in
//!   parts and the extra bindings they give an update.
//! - `populations`, `graded` (with `blocked` and the policy in `coupling`), `events`,
//!   `recording`: the buffers and bind groups of each part of a step.
//! - `submit`: the commands of one submit and their readback; this file: the backend itself.
//!
//! Conventions: every buffer is labelled `<population or projection>.<part>`, the label that
//! errors and `preflight` name; bind group slots follow the order of the shader's `@binding`s,
//! listed once per kernel in `kernels`.

pub mod blocked;
pub mod context;
pub mod coupling;
pub mod equations;
pub mod event_parts;
pub mod events;
pub mod graded;
pub mod kernels;
pub mod layouts;
pub mod neuron_ranges;
pub mod parted;
pub mod populations;
pub mod preflight;
pub mod recording;
pub mod sizing;
pub mod split;
pub mod state_parts;
mod submit;

use super::{Backend, BackendInfo, NetworkState};
use crate::config::{EventDelivery, GpuCoupling, Precision};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{samples_in, ChunkOutput, RecordPlan};
use crate::shape::Shape;
pub use context::{describe_adapters, dispatch_size, fold_groups, GpuContext};
pub use coupling::{dispatches_per_step, fused_lanes, fuses, kernel_name, resolved};
use events::PropagateDispatch;
use graded::CouplingDispatch;
use kernels::{Kernels, StepInfo};
use populations::PopulationBuffers;
use recording::TraceBuffers;
pub use sizing::required_bytes;

/// What the bind groups of every part of a step share: the per-dispatch step slots, the spike
/// and status words, and the event-driven synapses' buffers.
pub(crate) struct Shared {
    step_slots: wgpu::Buffer,
    spikes: wgpu::Buffer,
    /// Words per spike in `spikes` (`sizing::spike_words`).
    spike_words: u64,
    status: wgpu::Buffer,
    events: events::EventBuffers,
}

impl Shared {
    /// The `StepInfo` slot at binding 1, offset per dispatch.
    fn step_binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: &self.step_slots,
            offset: 0,
            size: wgpu::BufferSize::new(std::mem::size_of::<StepInfo>() as u64),
        })
    }
}

/// What a run asks of the GPU backend besides its adapter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuOptions {
    pub coupling: GpuCoupling,
    /// Bindings of at most this many bytes, below the device's own limit
    /// (`simulation.gpu_max_binding_mib`): networks are then split as on a device with
    /// smaller bindings, which is how CI tests the split on any adapter.
    pub max_binding_bytes: Option<u64>,
    /// The device's memory where the config declares it (`simulation.gpu_memory_gib`): a
    /// network needing more is refused before any buffer.
    pub memory_bytes: Option<u64>,
    /// Where the event-driven inputs are delivered (`simulation.gpu_event_delivery`).
    pub event_delivery: EventDelivery,
}

impl From<GpuCoupling> for GpuOptions {
    fn from(coupling: GpuCoupling) -> GpuOptions {
        GpuOptions {
            coupling,
            ..GpuOptions::default()
        }
    }
}

impl GpuOptions {
    /// The options a config asks for.
    pub fn of(sim: &crate::config::Simulation) -> GpuOptions {
        GpuOptions {
            coupling: sim.gpu_coupling,
            max_binding_bytes: sim.gpu_max_binding_mib.map(|mib| mib << 20),
            memory_bytes: sim.gpu_memory_gib.map(|gib| (gib * (1u64 << 30) as f64) as u64),
            event_delivery: sim.gpu_event_delivery,
        }
    }

    /// The device's `limits` with bindings and buffers capped at `max_binding_bytes`.
    pub fn limits(&self, device: &wgpu::Limits) -> wgpu::Limits {
        let mut limits = device.clone();
        if let Some(cap) = self.max_binding_bytes {
            limits.max_storage_buffer_binding_size = limits.max_storage_buffer_binding_size.min(cap);
            limits.max_buffer_size = limits.max_buffer_size.min(cap);
        }
        limits
    }
}

struct Timer {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
}

pub struct GpuBackend {
    ctx: std::sync::Arc<GpuContext>,
    kernels: Kernels,
    /// The graded-coupling kernel, `auto` resolved.
    coupling: GpuCoupling,
    /// Its name in the device description, where there is graded coupling.
    coupling_name: Option<&'static str>,
    populations: Vec<PopulationBuffers>,
    couplings: Vec<CouplingDispatch>,
    propagations: Vec<PropagateDispatch>,
    equation_synapses: equations::EquationSynapses,
    /// Bindings of the event-driven g and of the delay rings.
    event_parts: (usize, usize),
    /// The network's projection count.
    projections: usize,
    traces: Vec<TraceBuffers>,
    spikes: wgpu::Buffer,
    spike_capacity: u64,
    /// Words per spike in `spikes` (`sizing::spike_words`).
    spike_words: u64,
    status: wgpu::Buffer,
    step_slots: wgpu::Buffer,
    slot_stride: u64,
    steps_per_submit: u64,
    step: u64,
    timer: Option<Timer>,
    gpu_ns: f64,
}

impl GpuBackend {
    /// Builds the buffers for `net`; `plan` sizes the recording buffers (its traces may be
    /// recorded later; a plan with traces the backend was not built for is an error).
    pub fn with_plan(
        net: &Network,
        plan: &RecordPlan,
        adapter: Option<&str>,
    ) -> Result<GpuBackend> {
        Self::with_options(net, plan, adapter, GpuCoupling::default())
    }

    /// As `with_plan`, with the graded-coupling kernel chosen (and the bindings capped).
    pub fn with_options(
        net: &Network,
        plan: &RecordPlan,
        adapter: Option<&str>,
        options: impl Into<GpuOptions>,
    ) -> Result<GpuBackend> {
        Self::in_context(std::sync::Arc::new(GpuContext::new(adapter)?), net, plan, options)
    }

    /// As `with_options`, on a device already open: the instances of a sweep share one.
    pub fn in_context(
        ctx: std::sync::Arc<GpuContext>,
        net: &Network,
        plan: &RecordPlan,
        options: impl Into<GpuOptions>,
    ) -> Result<GpuBackend> {
        let options = options.into();
        let shape = Shape::from_network(net);
        let limits = options.limits(&ctx.limits);
        let binding_limit = preflight::binding_limit(&limits);
        let coupling = resolved(&shape, options.coupling, binding_limit)?;
        preflight::check(&shape, coupling, &limits, &ctx.info.name)?;
        if let Some(memory) = options.memory_bytes {
            let chunk = sizing::MAX_STEPS_PER_SUBMIT;
            let required = sizing::required_bytes(&shape, plan, chunk, coupling);
            preflight::check_memory(&shape, coupling, &limits, required, memory, &ctx.info.name)?;
        }
        let blocked_geometry = (coupling == GpuCoupling::Blocked)
            .then(|| {
                blocked::BlockGeometry::for_workgroup_storage(
                    ctx.limits.max_compute_workgroup_storage_size,
                )
            })
            .transpose()?;
        let drawn_weights = net.projections.iter().any(|p| p.procedural.as_ref().is_some_and(|r| r.weight.is_some()));
        // preflight::check refused the g and rings that cannot be cut.
        let event_split = event_parts::EventSplit::of_shape(&shape, binding_limit)
            .map_err(|e| Error::Gpu(format!("`{}` of event-driven projection {} does not fit a binding", e.array, e.projection)))?;
        let mut kernels = Kernels::new(
            &ctx,
            blocked_geometry,
            drawn_weights,
            options.event_delivery,
            event_split.ring_parts(),
        )?;
        let (steps_per_submit, spike_capacity) = sizing::submit_plan(
            &shape,
            plan,
            sizing::MAX_STEPS_PER_SUBMIT,
            binding_limit,
        );
        let slot_stride = (ctx.limits.min_uniform_buffer_offset_alignment as u64)
            .max(std::mem::size_of::<StepInfo>() as u64);
        let slot_bytes =
            sizing::slots_per_submit(steps_per_submit, plan.traces.len()) * slot_stride;
        if slot_bytes > ctx.limits.max_buffer_size {
            return Err(Error::TooLarge(format!(
                "{slot_bytes} bytes of per-step parameters exceed the device's max_buffer_size"
            )));
        }
        let spike_words = sizing::spike_words(&shape, plan);
        let shared = Shared {
            step_slots: ctx.create_buffer(&wgpu::BufferDescriptor {
                label: Some("step slots"),
                size: slot_bytes,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            spikes: ctx.storage_buffer(
                "spikes",
                &vec![0u8; ((1 + spike_words * spike_capacity) * 4) as usize],
            )?,
            spike_words,
            status: ctx.storage_buffer("status", &vec![0xffu8; net.populations.len() * 8])?,
            events: events::EventBuffers::new(&ctx, net, binding_limit, event_split)?,
        };
        // preflight::check refused the states that cannot be cut.
        let splits: Vec<_> = state_parts::splits(&shape, coupling, binding_limit)
            .into_iter()
            .zip(&net.populations)
            .map(|(s, p)| s.ok_or_else(|| Error::Gpu(format!("the state of `{}` does not fit a binding", p.name))))
            .collect::<Result<_>>()?;
        let pops = populations::build(
            &ctx,
            &mut kernels,
            &shared,
            net,
            plan,
            coupling,
            binding_limit,
            &splits,
        )?;
        let couplings = graded::couplings(
            &ctx,
            &kernels,
            net,
            coupling,
            binding_limit,
            &pops.buffers,
            &pops.inputs,
        )?;
        let propagations = events::propagations(&ctx, &kernels, &shared, net, &pops.buffers, &pops.spiked)?;
        let equation_synapses = equations::build(&ctx, &shared, net, &pops.buffers, &pops.spiked, binding_limit)?;
        let traces = recording::traces(
            &ctx,
            &kernels,
            &shared,
            net,
            plan,
            &pops.buffers,
            &equation_synapses.states,
            steps_per_submit,
        )?;
        let timer = ctx.timestamps.then(|| Timer {
            queries: ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("timer"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
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
            coupling,
            coupling_name: kernel_name(&shape, coupling),
            populations: pops.buffers,
            couplings,
            propagations,
            equation_synapses,
            projections: net.projections.len(),
            traces,
            event_parts: (shared.events.split.g_parts(), shared.events.split.ring_parts()),
            spikes: shared.spikes,
            spike_capacity,
            spike_words: shared.spike_words,
            status: shared.status,
            step_slots: shared.step_slots,
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

    /// The bindings each population's state takes (1 where whole; `state_parts`).
    pub fn state_parts(&self) -> Vec<usize> {
        self.populations.iter().map(|p| p.state.len()).collect()
    }

    /// Dispatches per step of the synapses written as equations: their summations (a linked
    /// variable's `LinkTiming::per_step` times), markings of arrivals and deliveries, and each
    /// run_regularly (as if due every step), one per part of each matrix.
    pub fn equation_passes(&self) -> usize {
        let marks = self.equation_synapses.deliveries.iter().filter(|d| d.mark.is_some()).count();
        let sums: usize = self.equation_synapses.sums.iter().map(|s| s.link.map_or(1, |l| l.per_step() as usize)).sum();
        sums + marks + self.equation_synapses.deliveries.len() + self.equation_synapses.regularly.len()
    }

    /// The bindings the event-driven g and delay rings take (`event_parts`).
    pub fn event_parts(&self) -> (usize, usize) {
        self.event_parts
    }

    /// Graded-coupling and propagation dispatches per step: one per part of each matrix, so
    /// more than one per projection or source population where a matrix was cut to fit a
    /// binding. Fused, the graded ones are the updates of the coupled populations.
    pub fn matrix_dispatches(&self) -> (usize, usize) {
        let graded = if self.coupling.is_fused() {
            self.populations.iter().map(|p| p.bind_groups.len()).sum()
        } else {
            self.couplings.len()
        };
        (graded, self.propagations.len())
    }
}

impl Backend for GpuBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            kind: "gpu",
            // Benchmarks compare the coupling kernels: name the one that ran.
            device: format!(
                "{}, {:?}{}{}",
                self.ctx.info.name,
                self.ctx.info.backend,
                self.coupling_name
                    .map_or(String::new(), |k| format!(", coupling {k}")),
                if self.populations.iter().any(|p| p.delivery.is_some()) {
                    ", events delivered separately"
                } else {
                    ""
                }
            ),
            precision: Precision::F32,
        }
    }

    fn run_chunk(&mut self, plan: &RecordPlan, out: &mut ChunkOutput) -> Result<()> {
        if plan.traces.len() != self.traces.len()
            || plan.traces.iter().zip(&self.traces).any(|(p, t)| {
                p.population != t.population
                    || p.every != t.every
                    || p.neurons.len() != t.n_recorded as usize
            })
        {
            return Err(Error::Gpu(
                "the recording plan differs from the one the GPU backend was built for".into(),
            ));
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

    fn device_memory_bytes(&self) -> Option<u64> {
        Some(self.ctx.allocated_bytes())
    }

    /// Compute-pass time by timestamp queries when the adapter has them.
    fn device_seconds(&self) -> Option<f64> {
        self.timer.as_ref().map(|_| self.gpu_ns * 1e-9)
    }

    fn read_synapses(&mut self) -> Result<crate::simulator::SynapseValues> {
        let mut out: crate::simulator::SynapseValues = vec![None; self.projections];
        let states = &self.equation_synapses.states;
        let parts: Vec<_> = states
            .iter()
            .flat_map(|s| s.parts.iter().map(move |part| (&part.buffer, 0, (part.n_syn * s.n_vars * 4) as u64)))
            .collect();
        let mut data = self.ctx.read_buffers(&parts)?.into_iter();
        for s in states {
            // Variable k of every part in turn: the synapses in CSR order.
            let mut values: Vec<Vec<f64>> = vec![Vec::new(); s.n_vars];
            for (part, bytes) in s.parts.iter().zip(data.by_ref()) {
                let all: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes);
                for (k, column) in values.iter_mut().enumerate() {
                    column.extend(all[k * part.n_syn..(k + 1) * part.n_syn].iter().map(|&x| f64::from(x)));
                }
            }
            out[s.projection] = Some(values);
        }
        Ok(out)
    }

    fn read_state(&mut self) -> Result<NetworkState> {
        let odd = self.step % 2 == 1;
        // Every part of every population's state, in order.
        let parts: Vec<_> = self
            .populations
            .iter()
            .flat_map(|p| {
                let blocks = p.n_vars + p.double_buffered.is_some() as usize;
                // Each part a piece of the structure of arrays, in order.
                p.state.iter().enumerate().map(move |(k, buffer)| {
                    let words = p.parts.state.words(k, blocks, p.size as usize).len();
                    (buffer, 0, (words * 4) as u64)
                })
            })
            .collect();
        let mut data = self.ctx.read_buffers(&parts)?.into_iter();
        Ok(self
            .populations
            .iter()
            .map(|p| {
                let all: Vec<f32> = data
                    .by_ref()
                    .take(p.state.len())
                    .flat_map(|bytes| bytemuck::pod_collect_to_vec::<u8, f32>(&bytes))
                    .collect();
                let block = |k: usize| {
                    let n = p.size as usize;
                    all[k * n..(k + 1) * n]
                        .iter()
                        .map(|&x| f64::from(x))
                        .collect()
                };
                // A double-buffered variable of an odd step is in the extra block.
                (0..p.n_vars)
                    .map(|k| {
                        block(if odd && p.double_buffered == Some(k) {
                            p.n_vars
                        } else {
                            k
                        })
                    })
                    .collect()
            })
            .collect())
    }
}
