//! The wgpu backend: neuron state in GPU buffers (structure of arrays, f32), WGSL kernels
//! advancing it, many steps per submit, one readback per chunk.
//!
//! Per step, in one compute pass: gather the traces due at this step; every graded projection's
//! coupling in config order (unless fused into the update); every population's update
//! (delivery of its event-driven synapses, state, noise, spike detection, divergence flag);
//! then, per source population, the propagation of the step's spikes into the delay rings of
//! its event-driven projections. The order is the CPU backend's.

pub mod blocked;
pub mod context;
pub mod coupling;
pub mod events;
pub mod kernels;
pub mod layouts;
pub mod preflight;
pub mod shaders;

use super::{Backend, BackendInfo, NetworkState};
use crate::config::{GpuCoupling, Precision, SynapseModel};
use crate::connectivity::{Csr, Weights};
use crate::error::{Error, Result};
use crate::model::graded::GradedParams;
use crate::network::Network;
use crate::shape::Shape;
use crate::record::{samples_in, ChunkOutput, Divergence, RecordPlan, Spike, TraceVar};
use crate::rng;
pub use context::{describe_adapters, dispatch_size, fold_groups, GpuContext};
pub use coupling::{dispatches_per_step, fused_lanes, fuses, kernel_name, resolved};
use kernels::{
    CouplingParamsGpu, Kernels, PopulationInfoGpu, RecordParamsGpu, StepInfo, Update,
};

/// Steps recorded into one command buffer: long enough to amortise the submit and readback,
/// short enough to keep the per-step slot buffer and the spike buffer small.
const MAX_STEPS_PER_SUBMIT: u64 = 2000;
/// Spike buffer entries: room for every recorded neuron firing at `SPIKE_RATE_BOUND_HZ` through
/// one submit, within these bounds. More than that is an error (never a silent drop).
const MIN_SPIKE_CAPACITY: u64 = 1 << 16;
const MAX_SPIKE_CAPACITY: u64 = 1 << 25;
const SPIKE_RATE_BOUND_HZ: f64 = 1000.0;
/// Recording buffer of one trace entry for one submit.
const MAX_TRACE_BYTES_PER_SUBMIT: u64 = 64 << 20;
const NO_STEP: u32 = u32::MAX;

struct PopulationBuffers {
    size: u32,
    n_vars: usize,
    /// The model's name and the way its update runs (`Kernels::update`).
    kind: &'static str,
    update: Update,
    /// The variable kept in two blocks (S with fused coupling): block `n_vars` on odd steps.
    double_buffered: Option<usize>,
    /// Variable k of neuron i at k·size + i, in model variable order; with fused coupling a
    /// sixth block holds S of every other step.
    state: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// A graded projection's coupling dispatch (none when the coupling is fused).
struct CouplingDispatch {
    /// Workgroups of the coupling kernel (of its first pass for `blocked`).
    groups: (u32, u32),
    /// Rows: threads of `blocked`'s second pass.
    n_rows: u32,
    bind_group: wgpu::BindGroup,
}

/// The propagation of one population's spikes into all of its event-driven projections.
struct PropagateDispatch {
    n_source: u32,
    bind_group: wgpu::BindGroup,
}

struct TraceBuffers {
    population: usize,
    n_recorded: u32,
    n_variables: u32,
    every: u64,
    rows: u64,
    samples: wgpu::Buffer,
    /// One gather for the population's own variables, one per synaptic g recorded; each for
    /// even and for odd steps, which differ where S is double-buffered.
    gathers: Vec<[wgpu::BindGroup; 2]>,
}

/// What one trace gather reads.
struct GatherSource<'a> {
    /// Variables of `n` neurons each, from `offset` on.
    buffer: &'a wgpu::Buffer,
    offset: u32,
    n: u32,
    /// (variable index, sample slot) of each variable it copies.
    vars: Vec<(u32, u32)>,
    /// The buffer is a population's state (where S may be double-buffered).
    is_state: bool,
}


struct Timer {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
}

pub struct GpuBackend {
    ctx: GpuContext,
    kernels: Kernels,
    /// The graded-coupling kernel, `auto` resolved.
    coupling: GpuCoupling,
    /// Its name in the device description, where there is graded coupling.
    coupling_name: Option<&'static str>,
    populations: Vec<PopulationBuffers>,
    couplings: Vec<CouplingDispatch>,
    propagations: Vec<PropagateDispatch>,
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

/// Steps per submit and spike-buffer entries. A network whose recorded spikes at the rate
/// bound would overflow the largest spike buffer the device binds, or whose traces would fill
/// more than `MAX_TRACE_BYTES_PER_SUBMIT`, gets shorter submits.
fn submit_plan(net: &Shape, plan: &RecordPlan, max_steps: u64, binding_limit: u64) -> (u64, u64) {
    let recorded: u64 = net
        .populations
        .iter()
        .zip(&plan.spikes)
        .filter(|(_, &on)| on)
        .map(|(p, _)| p.size)
        .sum();
    let per_step = recorded as f64 * net.dt_ms * 1e-3 * SPIKE_RATE_BOUND_HZ;
    let max_capacity = (binding_limit / 8)
        .saturating_sub(1)
        .clamp(MIN_SPIKE_CAPACITY, MAX_SPIKE_CAPACITY);
    let mut steps = max_steps.min(net.n_steps).max(1);
    if per_step > 0.0 {
        steps = steps.min(((max_capacity as f64 / per_step) as u64).max(1));
    }
    for t in &plan.traces {
        let row_bytes = (t.neurons.len() * t.variables.len() * 4) as u64;
        let rows_fitting =
            (MAX_TRACE_BYTES_PER_SUBMIT.min(binding_limit) / row_bytes.max(1)).max(2);
        steps = steps.min(((rows_fitting - 1) * t.every).max(1));
    }
    let capacity =
        ((per_step * steps as f64).ceil() as u64).clamp(MIN_SPIKE_CAPACITY, max_capacity);
    (steps, capacity)
}

fn trace_rows(steps: u64, every: u64) -> u64 {
    steps.div_ceil(every) + 1
}

/// GPU memory the network and one submit's recording need, in bytes, under the `resolved`
/// coupling kernel. The blocked layout is counted as cut for the least workgroup memory an
/// adapter may have, its largest: more memory means fewer pointers.
pub fn required_bytes(
    net: &Shape,
    plan: &RecordPlan,
    chunk_steps: u64,
    resolved: GpuCoupling,
) -> u64 {
    let fused = resolved.is_fused();
    let geometry = (resolved == GpuCoupling::Blocked).then(|| {
        blocked::BlockGeometry::for_workgroup_storage(blocked::MIN_WORKGROUP_STORAGE)
            .expect("the least workgroup memory fits the blocked kernel")
    });
    let (steps, spike_capacity) =
        submit_plan(net, plan, chunk_steps.min(MAX_STEPS_PER_SUBMIT), 2 << 30);
    // State (and S's second block when fused), two synaptic-input words and a spike flag per
    // neuron.
    let neurons: u64 = net
        .populations
        .iter()
        .map(|p| p.size * (p.n_vars as u64 + fused as u64 + 3) * 4)
        .sum();
    let synapses: u64 = net
        .projections
        .iter()
        .map(|p| {
            let w = p.per_synapse_weights as u64 * 4;
            match (p.ring_slots, geometry) {
                (None, Some(geo)) => geo.bytes(p.n_target as usize, p.n_source as usize, p.synapses, p.per_synapse_weights),
                (None, None) => (p.n_target + 1) * 4 + p.synapses * (4 + w),
                (Some(slots), _) => {
                    (p.n_source + 1) * 4 + p.synapses * (4 + w) + (slots + 1) * p.n_target * 4
                }
            }
        })
        .sum();
    let traces: u64 = plan
        .traces
        .iter()
        .map(|t| {
            trace_rows(steps, t.every) * t.neurons.len() as u64 * (t.variables.len() as u64 * 4 + 4)
        })
        .sum();
    let slots = slots_per_submit(steps, plan.traces.len()) * 256;
    neurons + synapses + traces + spike_capacity * 8 + slots
}

fn f32s(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// One graded projection's buffers: `CouplingParams`, the matrix by target, its weights. The
/// matrix is the CSR (`pointers` its row_ptr, `indices` its col_idx) or, for the blocked
/// kernel, the blocked layout (its seg_ptr and entries, weights in entry order) and the
/// partial sums of its first pass.
struct GradedBuffers {
    params: wgpu::Buffer,
    pointers: wgpu::Buffer,
    indices: wgpu::Buffer,
    weights: wgpu::Buffer,
    partial_sums: Option<wgpu::Buffer>,
}

/// A graded synapse as its coupling kernel needs it: its parameters and the source variable
/// it sums (the source model's activation S).
#[derive(Clone, Copy)]
struct Graded<'a> {
    params: &'a GradedParams,
    activation: usize,
}

impl GradedBuffers {
    /// The projection's `CouplingParams`.
    fn params(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        g: Graded,
        accumulate: bool,
        blocked_parts: usize,
    ) -> wgpu::Buffer {
        let params = CouplingParamsGpu {
            v_rev: g.params.v_rev as f32,
            w: g.params.w as f32,
            uniform_weight: match csr.weights {
                Weights::Uniform(w) => w as f32,
                Weights::PerSynapse(_) => 0.0,
            },
            per_synapse_weights: matches!(csr.weights, Weights::PerSynapse(_)) as u32,
            n_rows: csr.n_rows as u32,
            n_source: csr.n_cols as u32,
            accumulate: accumulate as u32,
            blocked_parts: blocked_parts as u32,
            activation: g.activation as u32,
            _pad: [0; 3],
        };
        ctx.uniform_buffer(&format!("{name}.params"), bytemuck::bytes_of(&params))
    }

    fn new(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        g: Graded,
        accumulate: bool,
    ) -> Result<GradedBuffers> {
        let buffer =
            |part: &str, contents: &[u8]| ctx.storage_buffer(&format!("{name}.{part}"), contents);
        let weights = match &csr.weights {
            Weights::Uniform(_) => Vec::new(),
            Weights::PerSynapse(ws) => f32s(ws),
        };
        Ok(GradedBuffers {
            params: Self::params(ctx, name, csr, g, accumulate, 1),
            pointers: buffer("row_ptr", bytemuck::cast_slice(&csr.row_ptr))?,
            indices: buffer("col_idx", bytemuck::cast_slice(&csr.col_idx))?,
            weights: buffer("weights", bytemuck::cast_slice(&weights))?,
            partial_sums: None,
        })
    }

    /// As `new`, with the matrix in the blocked layout cut by `geo`, its blocks shared among
    /// `parts` workgroups. Its pointers grow with rows × columns: `preflight` checks their size
    /// before they are built.
    fn blocked(
        ctx: &GpuContext,
        name: &str,
        csr: &Csr,
        g: Graded,
        accumulate: bool,
        geo: blocked::BlockGeometry,
        parts: usize,
    ) -> Result<GradedBuffers> {
        let layout = blocked::blocked(csr, geo);
        let buffer =
            |part: &str, contents: &[u8]| ctx.storage_buffer(&format!("{name}.{part}"), contents);
        Ok(GradedBuffers {
            params: Self::params(ctx, name, csr, g, accumulate, parts),
            pointers: buffer("seg_ptr", bytemuck::cast_slice(&layout.seg_ptr))?,
            indices: buffer("entries", bytemuck::cast_slice(&layout.entries))?,
            weights: buffer(
                "weights",
                bytemuck::cast_slice(layout.weights.as_deref().unwrap_or_default()),
            )?,
            partial_sums: Some(buffer("partial_sums", &vec![0u8; parts * csr.n_rows * 4])?),
        })
    }

    /// A population with no input: empty rows.
    fn unconnected(ctx: &GpuContext, name: &str, n: usize) -> Result<GradedBuffers> {
        let csr = Csr {
            n_rows: n,
            n_cols: n,
            row_ptr: vec![0; n + 1],
            col_idx: Vec::new(),
            weights: Weights::Uniform(0.0),
        };
        let none = Graded {
            params: &GradedParams::default(),
            activation: 0,
        };
        Self::new(ctx, name, &csr, none, false)
    }
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

    /// As `with_plan`, with the graded-coupling kernel chosen.
    pub fn with_options(
        net: &Network,
        plan: &RecordPlan,
        adapter: Option<&str>,
        coupling: GpuCoupling,
    ) -> Result<GpuBackend> {
        let shape = Shape::from_network(net);
        let coupling = resolved(&shape, coupling)?;
        let fused = coupling.is_fused();
        let ctx = GpuContext::new(adapter)?;
        preflight::check(&shape, coupling, &ctx.limits, &ctx.info.name)?;
        let blocked_geometry = (coupling == GpuCoupling::Blocked)
            .then(|| {
                blocked::BlockGeometry::for_workgroup_storage(
                    ctx.limits.max_compute_workgroup_storage_size,
                )
            })
            .transpose()?;
        let mut kernels = Kernels::new(&ctx, blocked_geometry)?;
        let binding_limit = ctx
            .limits
            .max_storage_buffer_binding_size
            .min(ctx.limits.max_buffer_size);
        let (steps_per_submit, spike_capacity) =
            submit_plan(&shape, plan, MAX_STEPS_PER_SUBMIT, binding_limit);
        let slot_stride = (ctx.limits.min_uniform_buffer_offset_alignment as u64)
            .max(std::mem::size_of::<StepInfo>() as u64);
        let n_slots = slots_per_submit(steps_per_submit, plan.traces.len());
        let slot_bytes = n_slots * slot_stride;
        if slot_bytes > ctx.limits.max_buffer_size {
            return Err(Error::TooLarge(format!(
                "{slot_bytes} bytes of per-step parameters exceed the device's max_buffer_size"
            )));
        }
        let step_slots = ctx.create_buffer(&wgpu::BufferDescriptor {
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
        let spikes = ctx.storage_buffer(
            "spikes",
            &vec![0u8; ((1 + 2 * spike_capacity) * 4) as usize],
        )?;
        let status = ctx.storage_buffer("status", &vec![0xffu8; net.populations.len() * 8])?;
        let seed = rng::seed_key(net.seed);
        let events = events::EventBuffers::new(&ctx, net)?;

        let mut populations: Vec<PopulationBuffers> = Vec::new();
        let mut syn_inputs = Vec::new();
        let mut spiked_flags = Vec::new();
        for (index, p) in net.populations.iter().enumerate() {
            let n = p.size as u32;
            let record_spikes = plan.spikes.get(index).copied().unwrap_or(false) as u32;
            let kind = p.model.kind();
            // With fused coupling the activation S is double-buffered: a second block after
            // the variables holds it on odd steps.
            let double_buffered = if fused { kind.graded_activation() } else { None };
            let mut state_init = Vec::with_capacity((p.init.len() + 1) * p.size);
            for column in &p.init {
                state_init.extend(column.iter().map(|&x| x as f32));
            }
            if let Some(s) = double_buffered {
                state_init.extend(p.init[s].iter().map(|&x| x as f32));
            }
            let state = ctx.storage_buffer(
                &format!("{}.state", p.name),
                bytemuck::cast_slice(&state_init),
            )?;
            let syn_g = ctx.storage_buffer(&format!("{}.syn_g", p.name), &vec![0u8; p.size * 4])?;
            let syn_i0 =
                ctx.storage_buffer(&format!("{}.syn_i0", p.name), &vec![0u8; p.size * 4])?;
            let spiked =
                ctx.storage_buffer(&format!("{}.spiked", p.name), &vec![0u8; p.size * 4])?;
            let update = match coupling {
                GpuCoupling::FusedLanes => Update::CoupledLanes,
                GpuCoupling::Fused => Update::Coupled,
                _ => Update::Plain,
            };
            kernels.add_update(&ctx, kind, update)?;
            let info = PopulationInfoGpu {
                dt: net.dt_ms as f32,
                n,
                index: index as u32,
                record_spikes,
                seed_lo: seed[0],
                seed_hi: seed[1],
                _pad: [0; 2],
            };
            let params = p.model.gpu_params();
            let params_buf = ctx.uniform_buffer(&format!("{}.params", p.name), &params);
            let info_buf =
                ctx.uniform_buffer(&format!("{}.info", p.name), bytemuck::bytes_of(&info));
            let mut resources = vec![
                params_buf.as_entire_binding(),
                step_binding(),
                state.as_entire_binding(),
                syn_g.as_entire_binding(),
                syn_i0.as_entire_binding(),
                spikes.as_entire_binding(),
                status.as_entire_binding(),
                spiked.as_entire_binding(),
                events.inputs[index].as_entire_binding(),
                events.g.as_entire_binding(),
                events.rings.as_entire_binding(),
                info_buf.as_entire_binding(),
            ];
            let own_projection = net.projections.iter().find(|q| q.target == index);
            let graded = match (fused, own_projection) {
                (false, _) => None,
                (true, Some(q)) => {
                    let (SynapseModel::Graded(g), Some(s)) = (&q.synapse, q.source_activation)
                    else {
                        unreachable!("fused_coupling_unfit admits graded projections only")
                    };
                    let g = Graded {
                        params: g,
                        activation: s,
                    };
                    Some(GradedBuffers::new(&ctx, &q.name, &q.csr, g, false)?)
                }
                (true, None) => Some(GradedBuffers::unconnected(&ctx, &p.name, p.size)?),
            };
            if let Some(b) = &graded {
                resources.extend([
                    b.params.as_entire_binding(),
                    b.pointers.as_entire_binding(),
                    b.indices.as_entire_binding(),
                    b.weights.as_entire_binding(),
                ]);
            }
            let bind_group = kernels
                .update(kind.name(), update)
                .bind(&ctx, &p.name, &resources);
            populations.push(PopulationBuffers {
                size: n,
                n_vars: p.init.len(),
                kind: kind.name(),
                update,
                double_buffered,
                state,
                bind_group,
            });
            syn_inputs.push((syn_g, syn_i0));
            spiked_flags.push(spiked);
        }

        // Graded coupling, unless fused: the first projection into a population sets its input,
        // the later ones add to it.
        let mut couplings = Vec::new();
        let mut targeted = vec![false; net.populations.len()];
        for p in &net.projections {
            let (SynapseModel::Graded(params), Some(activation)) = (&p.synapse, p.source_activation)
            else {
                continue;
            };
            let g = Graded { params, activation };
            if fused {
                continue;
            }
            let accumulate = std::mem::replace(&mut targeted[p.target], true);
            let (syn_g, syn_i0) = &syn_inputs[p.target];
            let n_rows = p.csr.n_rows as u32;
            let (b, kernel, groups) = match &kernels.coupling_blocked {
                Some(blocked) => {
                    let geo = blocked.geometry;
                    let parts = geo.n_parts(p.csr.n_rows, p.csr.n_cols);
                    let b =
                        GradedBuffers::blocked(&ctx, &p.name, &p.csr, g, accumulate, geo, parts)?;
                    let groups = fold_groups((geo.n_groups(p.csr.n_rows) * parts) as u32);
                    (b, &blocked.couple, groups)
                }
                None => {
                    let b = GradedBuffers::new(&ctx, &p.name, &p.csr, g, accumulate)?;
                    match coupling {
                        GpuCoupling::LanesPerRow => (
                            b,
                            &kernels.coupling_lanes,
                            fold_groups(n_rows.div_ceil(kernels::ROWS_PER_LANE_GROUP)),
                        ),
                        _ => (b, &kernels.coupling, dispatch_size(n_rows)),
                    }
                }
            };
            let mut resources = vec![
                b.params.as_entire_binding(),
                b.pointers.as_entire_binding(),
                b.indices.as_entire_binding(),
                b.weights.as_entire_binding(),
                populations[p.source].state.as_entire_binding(),
                syn_g.as_entire_binding(),
                syn_i0.as_entire_binding(),
            ];
            resources.extend(b.partial_sums.as_ref().map(|s| s.as_entire_binding()));
            couplings.push(CouplingDispatch {
                groups,
                n_rows,
                bind_group: kernel.bind(&ctx, &p.name, &resources),
            });
        }

        let mut propagations = Vec::new();
        for (index, p) in net.populations.iter().enumerate() {
            let Some(outputs) = &events.outputs[index] else {
                continue;
            };
            let bind_group = kernels.propagate.bind(
                &ctx,
                &p.name,
                &[
                    outputs.as_entire_binding(),
                    step_binding(),
                    events.rows.as_entire_binding(),
                    events.cols.as_entire_binding(),
                    events.weights.as_entire_binding(),
                    spiked_flags[index].as_entire_binding(),
                    events.rings.as_entire_binding(),
                ],
            );
            propagations.push(PropagateDispatch {
                n_source: p.size as u32,
                bind_group,
            });
        }

        let mut traces = Vec::new();
        for t in &plan.traces {
            let rows = trace_rows(steps_per_submit, t.every);
            let n_recorded = t.neurons.len() as u32;
            let neurons = ctx.storage_buffer("trace neurons", bytemuck::cast_slice(&t.neurons))?;
            let samples = ctx.storage_buffer(
                "trace samples",
                &vec![0u8; (rows * n_recorded as u64 * t.variables.len() as u64 * 4) as usize],
            )?;
            // The population's own variables in one gather; each synaptic g in one more.
            let mut sources: Vec<GatherSource> = Vec::new();
            let own: Vec<(u32, u32)> = t
                .variables
                .iter()
                .enumerate()
                .filter_map(|(slot, v)| match v {
                    TraceVar::State(k) => Some((*k as u32, slot as u32)),
                    TraceVar::Synapse(_) => None,
                })
                .collect();
            if !own.is_empty() {
                sources.push(GatherSource {
                    buffer: &populations[t.population].state,
                    offset: 0,
                    n: net.populations[t.population].size as u32,
                    vars: own,
                    is_state: true,
                });
            }
            for (slot, v) in t.variables.iter().enumerate() {
                if let TraceVar::Synapse(p) = v {
                    sources.push(GatherSource {
                        buffer: &events.g,
                        offset: events.g_offsets[*p]
                            .expect("validated: g of an event-driven projection"),
                        n: net.projections[*p].csr.n_rows as u32,
                        vars: vec![(0, slot as u32)],
                        is_state: false,
                    });
                }
            }
            let gather = |source: &GatherSource, vars: &[(u32, u32)]| {
                let params = RecordParamsGpu {
                    n_recorded,
                    n_variables: vars.len() as u32,
                    n_samples: rows as u32,
                    variables: vars
                        .iter()
                        .enumerate()
                        .map(|(k, &(v, _))| v << (4 * k))
                        .sum(),
                    n: source.n,
                    slots: vars
                        .iter()
                        .enumerate()
                        .map(|(k, &(_, slot))| slot << (4 * k))
                        .sum(),
                    offset: source.offset,
                    _pad: 0,
                };
                let params_buf = ctx.uniform_buffer("trace params", bytemuck::bytes_of(&params));
                kernels.record.bind(
                    &ctx,
                    "trace",
                    &[
                        params_buf.as_entire_binding(),
                        step_binding(),
                        source.buffer.as_entire_binding(),
                        neurons.as_entire_binding(),
                        samples.as_entire_binding(),
                    ],
                )
            };
            let mut gathers = Vec::new();
            for source in &sources {
                let odd_vars: Vec<(u32, u32)> = source
                    .vars
                    .iter()
                    .map(|&(v, slot)| {
                        let pop = &populations[t.population];
                        if source.is_state && pop.double_buffered == Some(v as usize) {
                            (pop.n_vars as u32, slot)
                        } else {
                            (v, slot)
                        }
                    })
                    .collect();
                gathers.push([gather(source, &source.vars), gather(source, &odd_vars)]);
            }
            traces.push(TraceBuffers {
                population: t.population,
                n_recorded,
                n_variables: t.variables.len() as u32,
                every: t.every,
                rows,
                samples,
                gathers,
            });
        }

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
            populations,
            couplings,
            propagations,
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
        let mut slots: Vec<StepInfo> =
            Vec::with_capacity(slots_per_submit(n, self.traces.len()) as usize);
        let mut rows = vec![0u32; self.traces.len()];
        let mut dispatches: Vec<(u32, Vec<(usize, u32)>)> = Vec::with_capacity(n as usize);
        for k in 0..n {
            let step = first + k;
            let info = |row| StepInfo {
                step_lo: step as u32,
                step_hi: (step >> 32) as u32,
                step_in_chunk: k as u32,
                row,
            };
            let mut gathers = Vec::new();
            for (t, trace) in self.traces.iter().enumerate() {
                if step.is_multiple_of(trace.every) {
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
        self.ctx
            .queue
            .write_buffer(&self.step_slots, 0, &slot_bytes);
        self.ctx
            .queue
            .write_buffer(&self.spikes, 0, bytemuck::bytes_of(&0u32));
        self.ctx
            .queue
            .write_buffer(&self.status, 0, &vec![0xffu8; self.populations.len() * 8]);

        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("chunk"),
            });
        {
            let timestamp_writes = self
                .timer
                .as_ref()
                .map(|t| wgpu::ComputePassTimestampWrites {
                    query_set: &t.queries,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("steps"),
                timestamp_writes,
            });
            // Resolved: thread_per_row, lanes_per_row or blocked wherever couplings are
            // dispatched; `blocked` adds up its parts in a second pass.
            let (coupling_pass, finish_pass) = match &self.kernels.coupling_blocked {
                Some(blocked) => (&blocked.couple, Some(&blocked.finish)),
                None if self.coupling == GpuCoupling::LanesPerRow => {
                    (&self.kernels.coupling_lanes, None)
                }
                None => (&self.kernels.coupling, None),
            };
            for (k, (neuron_slot, gathers)) in dispatches.iter().enumerate() {
                let step_offset = (*neuron_slot as u64 * self.slot_stride) as u32;
                let parity = ((first + k as u64) & 1) as usize;
                for &(t, slot) in gathers {
                    let trace = &self.traces[t];
                    pass.set_pipeline(&self.kernels.record.pipeline);
                    for gather in &trace.gathers {
                        pass.set_bind_group(
                            0,
                            &gather[parity],
                            &[(slot as u64 * self.slot_stride) as u32],
                        );
                        let (x, y) = dispatch_size(trace.n_recorded);
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                for c in &self.couplings {
                    pass.set_pipeline(&coupling_pass.pipeline);
                    pass.set_bind_group(0, &c.bind_group, &[]);
                    pass.dispatch_workgroups(c.groups.0, c.groups.1, 1);
                    if let Some(finish) = finish_pass {
                        pass.set_pipeline(&finish.pipeline);
                        let (x, y) = dispatch_size(c.n_rows);
                        pass.dispatch_workgroups(x, y, 1);
                    }
                }
                for pop in &self.populations {
                    pass.set_pipeline(&self.kernels.update(pop.kind, pop.update).pipeline);
                    pass.set_bind_group(0, &pop.bind_group, &[step_offset]);
                    let (x, y) = match pop.update {
                        Update::CoupledLanes => {
                            fold_groups(pop.size.div_ceil(kernels::ROWS_PER_LANE_GROUP))
                        }
                        _ => dispatch_size(pop.size),
                    };
                    pass.dispatch_workgroups(x, y, 1);
                }
                for prop in &self.propagations {
                    pass.set_pipeline(&self.kernels.propagate.pipeline);
                    pass.set_bind_group(0, &prop.bind_group, &[step_offset]);
                    let (x, y) = dispatch_size(prop.n_source);
                    pass.dispatch_workgroups(x, y, 1);
                }
            }
        }
        if let Some(t) = &self.timer {
            encoder.resolve_query_set(&t.queries, 0..2, &t.resolve, 0);
        }
        self.ctx.queue.submit([encoder.finish()]);

        // One readback for the small things and the traces, a second for the spikes if any.
        let mut parts: Vec<(&wgpu::Buffer, u64, u64)> = vec![
            (&self.spikes, 0, 4),
            (&self.status, 0, self.populations.len() as u64 * 8),
        ];
        if let Some(t) = &self.timer {
            parts.push((&t.resolve, 0, 16));
        }
        let first_trace_part = parts.len();
        for (t, trace) in self.traces.iter().enumerate() {
            let bytes = rows[t] as u64 * trace.n_recorded as u64 * 4;
            for var in 0..trace.n_variables as u64 {
                parts.push((
                    &trace.samples,
                    var * trace.rows * trace.n_recorded as u64 * 4,
                    bytes,
                ));
            }
        }
        let data = self.ctx.read_buffers(&parts)?;
        if let Some(_t) = &self.timer {
            let ts: Vec<u64> = bytemuck::pod_collect_to_vec(&data[2]);
            self.gpu_ns +=
                ts[1].saturating_sub(ts[0]) as f64 * self.ctx.queue.get_timestamp_period() as f64;
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
            let mut entries: Vec<(u32, u32, u32)> = words
                .chunks_exact(2)
                .map(|w| (w[0] & 0xff_ffff, w[0] >> 24, w[1]))
                .collect();
            entries.sort_unstable();
            for (k, pop, neuron) in entries {
                if plan.spikes[pop as usize] {
                    out.spikes[pop as usize].push(Spike {
                        step: first + k as u64,
                        neuron,
                    });
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
                out.diverged = Some(Divergence {
                    population,
                    neuron: s[1],
                    step: first + s[0] as u64,
                });
            }
        }
        self.step += n;
        Ok(())
    }
}

impl Backend for GpuBackend {
    fn info(&self) -> BackendInfo {
        BackendInfo {
            kind: "gpu",
            // Benchmarks compare the coupling kernels: name the one that ran.
            device: format!(
                "{}, {:?}{}",
                self.ctx.info.name,
                self.ctx.info.backend,
                self.coupling_name
                    .map_or(String::new(), |k| format!(", coupling {k}"))
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

    fn read_state(&mut self) -> Result<NetworkState> {
        let odd = self.step % 2 == 1;
        let parts: Vec<_> = self
            .populations
            .iter()
            .map(|p| {
                let blocks = p.n_vars + p.double_buffered.is_some() as usize;
                (&p.state, 0, (blocks * p.size as usize * 4) as u64)
            })
            .collect();
        let data = self.ctx.read_buffers(&parts)?;
        Ok(self
            .populations
            .iter()
            .zip(data)
            .map(|(p, bytes)| {
                let all: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes);
                let block = |k: usize| {
                    let n = p.size as usize;
                    all[k * n..(k + 1) * n]
                        .iter()
                        .map(|&x| f64::from(x))
                        .collect()
                };
                // A double-buffered variable of an odd step is in the extra block.
                (0..p.n_vars)
                    .map(|k| block(if odd && p.double_buffered == Some(k) { p.n_vars } else { k }))
                    .collect()
            })
            .collect())
    }
}
