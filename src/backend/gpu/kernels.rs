//! The WGSL kernels: their uniform structs (mirroring the shader structs byte for byte),
//! bind group layouts and pipelines.

use super::blocked::BlockGeometry;
use super::context::GpuContext;
use super::event_parts::EventSplit;
use super::parted::{replace_module, UpdateParts};
use super::neuron_ranges::{self, NeuronChunks};
use crate::shaders::compose;
use crate::error::{Error, Result};
use crate::config::{EventDelivery, GpuCoupling};
use crate::model::NeuronKind;
use bytemuck::{Pod, Zeroable};

/// `PopulationInfo` in shaders/common/neuron_common.wgsl: what every model's update needs to
/// know of its population besides the model's own `Params` (the models' `gpu_params`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct PopulationInfoGpu {
    pub dt: f32,
    pub n: u32,
    pub index: u32,
    /// 0: not collected; 1: collected; 2: collected with the model's values (`spike_words`).
    pub record_spikes: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub spike_slots: u32,
    /// Neurons per instance where a sweep's instances run as one population (else `n`).
    pub instance_size: u32,
    /// Words per spike in the spike buffer, the network's (`sizing::spike_words`).
    pub spike_words: u32,
    /// Bit e: the model's custom event e is recorded (Brian2's EventMonitor).
    pub record_events: u32,
    /// The spike-buffer index of the population's first recorded event (the populations'
    /// own indices come first; `RecordPlan::events`).
    pub event_index: u32,
    /// Bit e: custom event e is recorded with the model's values (`spike_words`).
    pub event_values: u32,
}

/// `ExpParams` in shaders/synapses/exp_synapse.wgsl: one event-driven projection and where its parts
/// sit in the shared event buffers.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ExpParamsGpu {
    pub e_rev: f32,
    pub decay: f32,
    pub inv_scale: f32,
    pub uniform_weight: i32,
    pub kind: u32,
    pub n_target: u32,
    pub n_source: u32,
    pub slots: u32,
    pub delay_steps: u32,
    /// `WEIGHT_*`: where a synapse's weight is.
    pub weight_mode: u32,
    pub g_offset: u32,
    pub ring_offset: u32,
    pub row_offset: u32,
    pub synapse_offset: u32,
    pub weight_offset: u32,
    /// Propagation: the sources whose rows this entry holds (all of them unless split).
    pub first_row: u32,
    pub end_row: u32,
    /// 1 where the rows by source are drawn (`crate::procedural`), with their key and
    /// autapse rule.
    pub procedural: u32,
    pub skip_diagonal: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub projection: u32,
    /// A matrix shared by a batch's instances: their count, and one instance's sources (the
    /// rows stored) and targets. 1, n_source, n_target otherwise.
    pub instances: u32,
    pub instance_sources: u32,
    pub instance_targets: u32,
    /// A weight drawn per synapse of a procedural row (`procedural::WeightDrawGpu`), and the
    /// fixed point's scale it is rounded at.
    pub draw: u32,
    pub draw_low: i32,
    pub draw_span: u32,
    pub draw_a: f32,
    pub draw_b: f32,
    pub draw_scale: f32,
    /// As `CouplingParamsGpu::own_seeds`, the keys in the event columns.
    pub own_seeds: u32,
    /// The parts of g and of the rings that hold this projection's (`event_parts`).
    pub g_part: u32,
    pub ring_part: u32,
    /// Where its g or its rings are cut into ranges of targets: the targets per range
    /// (`event_parts::Place::chunk`); 0 where whole.
    pub g_chunk: u32,
    pub ring_chunk: u32,
}

/// `WEIGHT_*` in shaders/synapses/weights.wgsl: where the coupling and propagation kernels
/// find a synapse's weight (`weight_mode` of `CouplingParams` and `ExpParams`): the
/// projection's one weight, one per synapse in the weights buffer, or one per instance of a
/// batch sharing the matrix, at the instance's index.
pub const WEIGHT_ONE: u32 = 0;
pub const WEIGHT_PER_SYNAPSE: u32 = 1;
pub const WEIGHT_PER_INSTANCE: u32 = 2;

/// `MAX_EVENT_PROJECTIONS` in shaders/synapses/exp_synapse.wgsl.
pub const MAX_EVENT_PROJECTIONS: usize = 8;

/// `EventList` in shaders/synapses/exp_synapse.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct EventListGpu {
    pub n: u32,
    /// Propagation: the sources its threads span.
    pub first_source: u32,
    pub end_source: u32,
    /// Delivery: 1 where graded projections also target the population (their sums are in
    /// syn_g and syn_i0 before the separate delivery adds the events').
    pub graded_inputs: u32,
    pub projections: [ExpParamsGpu; MAX_EVENT_PROJECTIONS],
}

/// `StepInfo` in the neuron, synapse and record shaders; one per dispatch slot.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct StepInfo {
    pub step_lo: u32,
    pub step_hi: u32,
    pub step_in_chunk: u32,
    pub row: u32,
}

/// `CouplingParams` in shaders/synapses/graded_synapse.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct CouplingParamsGpu {
    pub v_rev: f32,
    pub w: f32,
    pub uniform_weight: f32,
    /// `WEIGHT_*`: where a synapse's weight is.
    pub weight_mode: u32,
    pub n_rows: u32,
    pub n_source: u32,
    pub accumulate: u32,
    pub blocked_parts: u32,
    pub activation: u32,
    /// The part's first row in the whole matrix (its target neuron).
    pub first_row: u32,
    /// 1 where the rows are drawn (`crate::procedural`), with their key and autapse rule.
    pub procedural: u32,
    pub skip_diagonal: u32,
    pub seed_lo: u32,
    pub seed_hi: u32,
    pub projection: u32,
    /// A matrix shared by a batch's instances: their count (`n_rows` rows serve each), and
    /// one instance's targets and sources. 1 and the whole matrix's otherwise.
    pub instances: u32,
    pub instance_rows: u32,
    pub instance_cols: u32,
    /// A weight drawn per synapse of a procedural row (`procedural::WeightDrawGpu`).
    pub draw: u32,
    pub draw_low: i32,
    pub draw_span: u32,
    pub draw_a: f32,
    pub draw_b: f32,
    /// 1 where a batch's instances draw procedural rows of seeds of their own, side by
    /// side: the rows are then each instance's, `instances` and `instance_*` per instance,
    /// and col_idx holds their keys.
    pub own_seeds: u32,
}

/// `SynapseInfo` in the shaders generated for synapses written as equations
/// (`equations::synapse::SynapseProgram::wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SynapseInfoGpu {
    pub n_post: u32,
    pub n_pre: u32,
    pub n_syn: u32,
    pub pre_slots: u32,
    pub uniform_delay: u32,
    pub per_synapse_delay: u32,
    pub post_slots: u32,
    /// Neurons per instance of the pre- and post-synaptic populations where a sweep's
    /// instances run merged (else their sizes): `i`, `j` and `N` are an instance's own.
    pub pre_instance: u32,
    pub post_instance: u32,
    /// The part's rows (`split`): the first post-synaptic neuron, and how many; and the
    /// projection's index of the part's first synapse.
    pub first_row: u32,
    pub n_rows: u32,
    pub first_synapse: u32,
    /// The draws of `on_pre` and `on_post`: the seed's key and the projection's counter word
    /// (`rng::stream::SYNAPSES` + projection).
    pub key_lo: u32,
    pub key_hi: u32,
    pub draws: u32,
    /// Steps of marked arrivals kept (`SynapseProgram::arrival_slots`; 0: the rows are
    /// walked).
    pub arrival_slots: u32,
    /// Synapses per instance where a sweep's instances run merged (each with the same
    /// connections, side by side), else the projection's: a synapse draws as the synapse of
    /// its own instance's run, its index modulo this.
    pub instance_synapses: u32,
    /// Steps of delay of the on_post pathway (Brian2's `S.post.delay`): one for all, or
    /// (`per_synapse_post_delay`) each synapse's in `delays` from `post_delays_at` on.
    pub post_delay: u32,
    pub per_synapse_post_delay: u32,
    pub post_delays_at: u32,
    /// The bits of the source's and the target's spike-ring words that trigger `on_pre` and
    /// `on_post` (Brian2's `on_event`; 1, the spike, by default).
    pub pre_mask: u32,
    pub post_mask: u32,
    /// The neurons of the source and target the projection's ends span within an instance
    /// (Brian2's subgroups): `i` and `j` count from the firsts; the summed variables set the
    /// target's span alone.
    pub pre_first: u32,
    pub post_first: u32,
    pub post_span: u32,
}

/// `RecordParams` in shaders/common/record.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct RecordParamsGpu {
    pub n_recorded: u32,
    pub n_variables: u32,
    pub n_samples: u32,
    pub variables: u32,
    pub n: u32,
    pub slots: u32,
    pub offset: u32,
    pub _pad: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum Slot {
    Uniform,
    /// A uniform bound with a dynamic offset into the per-step slot buffer.
    StepInfo,
    Read,
    ReadWrite,
}

/// The storage buffers among `slots` (what `max_storage_buffers_per_shader_stage` counts).
pub const fn storage_count(slots: &[Slot]) -> usize {
    let mut count = 0;
    let mut k = 0;
    while k < slots.len() {
        if matches!(slots[k], Slot::Read | Slot::ReadWrite) {
            count += 1;
        }
        k += 1;
    }
    count
}

fn layout(ctx: &GpuContext, label: &str, slots: &[Slot]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
        .iter()
        .enumerate()
        .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
            binding: i as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: match slot {
                Slot::Uniform => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                Slot::StepInfo => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<StepInfo>() as u64),
                },
                Slot::Read => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: true },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                Slot::ReadWrite => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only: false },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
            },
            count: None,
        })
        .collect();
    ctx.device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(label),
            entries: &entries,
        })
}

#[derive(Clone)]
pub struct Kernel {
    pub layout: wgpu::BindGroupLayout,
    pub pipeline: wgpu::ComputePipeline,
}

impl Kernel {
    /// Compiles shader module `module` (composed with what it requires) and reports shader
    /// errors.
    pub fn new(
        ctx: &GpuContext,
        label: &str,
        module: &str,
        entry: &str,
        slots: &[Slot],
    ) -> Result<Kernel> {
        Self::from_source(ctx, label, compose(module)?, entry, slots, &[])
    }

    /// As `new`, with the shader's `override` constants set.
    pub fn with_overrides(
        ctx: &GpuContext,
        label: &str,
        module: &str,
        entry: &str,
        slots: &[Slot],
        overrides: &[(&str, f64)],
    ) -> Result<Kernel> {
        Self::from_source(ctx, label, compose(module)?, entry, slots, overrides)
    }

    /// As `with_overrides`, from composed WGSL.
    pub fn from_source(
        ctx: &GpuContext,
        label: &str,
        source: String,
        entry: &str,
        slots: &[Slot],
        overrides: &[(&str, f64)],
    ) -> Result<Kernel> {
        let key = format!("{entry}|{slots:?}|{overrides:?}|{source}");
        if let Some(k) = ctx.kernels.lock().expect("the kernel cache").get(&key) {
            return Ok(k.clone());
        }
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = ctx
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        let layout = layout(ctx, label, slots);
        let pipeline_layout = ctx
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
        let pipeline = ctx
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: overrides,
                    ..Default::default()
                },
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!("building kernel `{label}`: {e}")));
        }
        let kernel = Kernel { layout, pipeline };
        ctx.kernels.lock().expect("the kernel cache").insert(key, kernel.clone());
        Ok(kernel)
    }

    pub fn bind(
        &self,
        ctx: &GpuContext,
        label: &str,
        resources: &[wgpu::BindingResource],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: r.clone(),
            })
            .collect();
        ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// Threads per CSR row in the lanes-per-row coupling kernels (`LANES` in
/// synapses/graded_synapse.wgsl).
pub const LANES: u32 = 16;

/// Rows one workgroup of 256 threads of those kernels sums (`ROWS_PER_GROUP` in
/// graded_synapse.wgsl).
pub const ROWS_PER_LANE_GROUP: u32 = 256 / LANES;

/// The blocked coupling's two passes (graded_blocked.wgsl), with the geometry its layout was
/// cut for. Their layout is the coupling's plus the partial sums.
pub struct BlockedKernels {
    pub couple: Kernel,
    pub finish: Kernel,
    pub geometry: BlockGeometry,
}

/// params, row_ptr, col_idx, weights, source state, syn_g, syn_i0: see graded_coupling.wgsl.
pub const COUPLING_SLOTS: [Slot; 7] = [
    Slot::Uniform,
    Slot::Read,
    Slot::Read,
    Slot::Read,
    Slot::Read,
    Slot::ReadWrite,
    Slot::ReadWrite,
];

impl BlockedKernels {
    fn new(ctx: &GpuContext, geometry: BlockGeometry) -> Result<BlockedKernels> {
        let mut slots = COUPLING_SLOTS.to_vec();
        // The partial sums.
        slots.push(Slot::ReadWrite);
        let overrides = [
            ("BLOCK_SLOTS", geometry.slots as f64),
            ("BLOCK_COLS", geometry.block_cols as f64),
        ];
        let pass = |label, entry| {
            Kernel::with_overrides(
                ctx,
                label,
                "synapses/graded_blocked",
                entry,
                &slots,
                &overrides,
            )
        };
        Ok(BlockedKernels {
            couple: pass("graded_coupling_blocked", "couple_blocked")?,
            finish: pass("graded_coupling_blocked_finish", "finish_blocked")?,
            geometry,
        })
    }
}

/// outgoing projections, step, rows, cols, weights, spiked, rings: see exp_propagate.wgsl (the
/// rings' other parts follow where they are cut).
pub const PROPAGATE_SLOTS: [Slot; 7] = [
    Slot::Read,
    Slot::StepInfo,
    Slot::Read,
    Slot::Read,
    Slot::Read,
    Slot::Read,
    Slot::ReadWrite,
];

/// How a population's update kernel runs: alone, or with its own graded coupling summed in the
/// same dispatch (one thread, or `LANES` threads, per row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    Plain,
    Coupled,
    CoupledLanes,
}

/// params, step, state, syn_g, syn_i0, spikes, status, spiked, the incoming event-driven
/// projections, g, rings, the population's `PopulationInfo` and its model data: see
/// neuron_common.wgsl. syn_g and syn_i0 are written by the separate delivery
/// (`EventDelivery::Separate`), which runs on the update's bindings.
pub const NEURON_SLOTS: [Slot; 13] = [
    Slot::Uniform,
    Slot::StepInfo,
    Slot::ReadWrite,
    Slot::ReadWrite,
    Slot::ReadWrite,
    Slot::ReadWrite,
    Slot::ReadWrite,
    Slot::ReadWrite,
    Slot::Read,
    Slot::ReadWrite,
    Slot::ReadWrite,
    Slot::Uniform,
    Slot::Read,
];

/// Entry point `entry` of `kind`'s plain update shader (the update itself, the separate
/// delivery, a generated model's reset or refresh), on the update's bindings with `parts`.
pub fn plain_entry(
    ctx: &GpuContext,
    label: &str,
    kind: &dyn NeuronKind,
    parts: UpdateParts,
    entry: &str,
    overrides: &[(&str, f64)],
) -> Result<Kernel> {
    let source = parts.compose(kind.update_wgsl()?, NEURON_SLOTS.len())?;
    Kernel::from_source(ctx, label, source, entry, &parts.slots(&update_slots(kind)), overrides)
}

/// As `NEURON_SLOTS`, for the models that read their `Params` per instance from a table
/// (`NeuronKind::instance_table`): binding 0 is that table.
pub fn update_slots(kind: &dyn NeuronKind) -> [Slot; 13] {
    let mut slots = NEURON_SLOTS;
    if kind.instance_table() {
        slots[0] = Slot::Read;
    }
    slots
}

pub struct Kernels {
    /// Each (model, way, parts bound) update a population of the network runs, built on
    /// first need.
    updates: Vec<(&'static str, Update, UpdateParts, Kernel)>,
    /// `DRAWN_WEIGHTS` of procedural.wgsl for the kernels that may draw weights.
    drawn_weights: [(&'static str, f64); 1],
    /// Where the plain updates deliver the event-driven inputs (`DELIVER_IN_UPDATE` of
    /// neuron_common.wgsl).
    delivery: EventDelivery,
    pub coupling: Kernel,
    pub coupling_lanes: Kernel,
    /// Built only for `GpuCoupling::Blocked`.
    pub coupling_blocked: Option<BlockedKernels>,
    pub propagate: Kernel,
    /// The propagation's composed WGSL and slots, from which `propagate_in_ranges` builds it
    /// over a source's spike flags in ranges of neurons.
    propagate_source: (String, Vec<Slot>),
    pub record: Kernel,
}

impl Kernels {
    /// The shared kernels, with the blocked coupling's cut for `blocked` if given, the code
    /// that draws procedural weights where `drawn_weights`, and the propagation over the delay
    /// rings in `ring_parts` bindings; the models' updates are added by `add_update`, each
    /// delivering its event-driven inputs as `delivery` says.
    pub fn new(
        ctx: &GpuContext,
        blocked: Option<BlockGeometry>,
        drawn_weights: bool,
        delivery: EventDelivery,
        ring_parts: usize,
    ) -> Result<Kernels> {
        use Slot::*;
        let drawn = [("DRAWN_WEIGHTS", drawn_weights as u8 as f64)];
        let mut propagate_slots = PROPAGATE_SLOTS.to_vec();
        let mut propagate = compose("synapses/exp_propagate")?;
        if ring_parts > 1 {
            let module = EventSplit::arrivals_wgsl(ring_parts, propagate_slots.len());
            propagate = replace_module(propagate, "synapses/event_arrivals", &module)?;
            propagate_slots.extend(std::iter::repeat_n(ReadWrite, ring_parts - 1));
        }
        let propagate_source = (propagate.clone(), propagate_slots.clone());
        Ok(Kernels {
            propagate_source,
            updates: Vec::new(),
            drawn_weights: drawn,
            delivery,
            coupling: Kernel::with_overrides(
                ctx,
                "graded_coupling",
                "synapses/graded_coupling",
                "couple",
                &COUPLING_SLOTS,
                &drawn,
            )?,
            coupling_lanes: Kernel::with_overrides(
                ctx,
                "graded_coupling_lanes",
                "synapses/graded_coupling",
                "couple_lanes",
                &COUPLING_SLOTS,
                &drawn,
            )?,
            coupling_blocked: blocked
                .map(|geo| BlockedKernels::new(ctx, geo))
                .transpose()?,
            propagate: Kernel::from_source(ctx, "exp_propagate", propagate, "propagate", &propagate_slots, &drawn)?,
            record: Kernel::new(
                ctx,
                "record",
                "common/record",
                "gather",
                &[Uniform, StepInfo, Read, Read, ReadWrite],
            )?,
        })
    }

    /// Builds `kind`'s update of the given way, if not built yet. The coupled ways take the
    /// model's fused shader and the graded projection's params, row_ptr, col_idx and weights
    /// after the neuron slots; then come the arrays cut into `parts`.
    pub fn add_update(
        &mut self,
        ctx: &GpuContext,
        kind: &dyn NeuronKind,
        way: Update,
        parts: UpdateParts,
    ) -> Result<()> {
        if self
            .updates
            .iter()
            .any(|(k, w, p, _)| *k == kind.name() && *w == way && *p == parts)
        {
            return Ok(());
        }
        let label = format!("{}_{way:?}", kind.name());
        let kernel = match way {
            Update::Plain => {
                let delivers = [("DELIVER_IN_UPDATE", (self.delivery == EventDelivery::InUpdate) as u8 as f64)];
                plain_entry(ctx, &label, kind, parts, "update_neurons", &delivers)?
            }
            Update::Coupled | Update::CoupledLanes => {
                let module = kind.fused_coupling_shader().ok_or_else(|| {
                    Error::Gpu(format!("the {} model has no fused update", kind.name()))
                })?;
                let mut slots = update_slots(kind).to_vec();
                slots.extend([Slot::Uniform, Slot::Read, Slot::Read, Slot::Read]);
                let entry = if way == Update::Coupled {
                    "update_coupled"
                } else {
                    "update_coupled_lanes"
                };
                if !parts.state.is_whole() {
                    return Err(Error::Gpu(format!("a fused update takes its state in one binding ({label})")));
                }
                let source = parts.compose(compose(module)?, slots.len())?;
                Kernel::from_source(ctx, &label, source, entry, &parts.slots(&slots), &self.drawn_weights)?
            }
        };
        self.updates.push((kind.name(), way, parts, kernel));
        Ok(())
    }

    /// The coupling kernel `coupling` resolves to (its first pass and, for `blocked`, its
    /// second), over a source's S and a target's input words in `source` and `target` ranges
    /// of neurons: the shared kernels where both are whole, else composed with
    /// synapses/graded_arrays.wgsl replaced (`neuron_ranges::coupling_wgsl`), the extra parts
    /// bound after the kernel's own slots.
    pub fn coupling_in_ranges(
        &self,
        ctx: &GpuContext,
        coupling: GpuCoupling,
        source: NeuronChunks,
        target: NeuronChunks,
    ) -> Result<(Kernel, Option<Kernel>)> {
        let shared = match &self.coupling_blocked {
            Some(blocked) => (blocked.couple.clone(), Some(blocked.finish.clone())),
            None if coupling == GpuCoupling::LanesPerRow => (self.coupling_lanes.clone(), None),
            None => (self.coupling.clone(), None),
        };
        if source.is_whole() && target.is_whole() {
            return Ok(shared);
        }
        let mut slots = COUPLING_SLOTS.to_vec();
        let mut overrides = self.drawn_weights.to_vec();
        let (module, entries) = match &self.coupling_blocked {
            Some(blocked) => {
                slots.push(Slot::ReadWrite);
                overrides.extend([
                    ("BLOCK_SLOTS", blocked.geometry.slots as f64),
                    ("BLOCK_COLS", blocked.geometry.block_cols as f64),
                ]);
                ("synapses/graded_blocked", ["couple_blocked", "finish_blocked"].as_slice())
            }
            None if coupling == GpuCoupling::LanesPerRow => ("synapses/graded_coupling", ["couple_lanes"].as_slice()),
            None => ("synapses/graded_coupling", ["couple"].as_slice()),
        };
        let arrays = neuron_ranges::coupling_wgsl(source, target, slots.len());
        let text = replace_module(compose(module)?, "synapses/graded_arrays", &arrays)?;
        // S's parts are read, the input words' written.
        slots.extend(std::iter::repeat_n(Slot::Read, source.count - 1));
        slots.extend(std::iter::repeat_n(Slot::ReadWrite, 2 * (target.count - 1)));
        let kernel = |entry: &str| Kernel::from_source(ctx, &format!("graded_{entry}_in_ranges"), text.clone(), entry, &slots, &overrides);
        let first = kernel(entries[0])?;
        let finish = entries.get(1).map(|e| kernel(e)).transpose()?;
        Ok((first, finish))
    }

    /// The propagation of a source population whose spike flags lie in `chunks` ranges of
    /// neurons: the shared kernel where they are whole, else composed with
    /// synapses/source_spikes.wgsl replaced (`neuron_ranges::source_spikes_wgsl`), the other
    /// ranges bound after the rings' parts.
    pub fn propagate_in_ranges(&self, ctx: &GpuContext, chunks: NeuronChunks) -> Result<Kernel> {
        if chunks.is_whole() {
            return Ok(self.propagate.clone());
        }
        let (source, slots) = &self.propagate_source;
        let module = neuron_ranges::source_spikes_wgsl(chunks, slots.len());
        let text = replace_module(source.clone(), "synapses/source_spikes", &module)?;
        let mut slots = slots.clone();
        slots.extend(std::iter::repeat_n(Slot::Read, chunks.count - 1));
        Kernel::from_source(ctx, "exp_propagate_in_ranges", text, "propagate", &slots, &self.drawn_weights)
    }

    /// Whether the updates leave the event-driven inputs to `delivery`'s kernels.
    pub fn delivers_separately(&self) -> bool {
        self.delivery == EventDelivery::Separate
    }

    /// `kind`'s separate delivery of its event-driven inputs (`deliver_inputs` in
    /// neuron_common.wgsl), on the plain update's bindings (built once per device: the
    /// context caches kernels).
    pub fn delivery(&self, ctx: &GpuContext, kind: &dyn NeuronKind, parts: UpdateParts) -> Result<Kernel> {
        plain_entry(ctx, &format!("{}_delivery", kind.name()), kind, parts, "deliver_inputs", &[])
    }

    /// `kind`'s update of the given way and parts (built by `add_update`).
    pub fn update(&self, kind: &str, way: Update, parts: UpdateParts) -> &Kernel {
        self.updates
            .iter()
            .find(|(k, w, p, _)| *k == kind && *w == way && *p == parts)
            .map(|(.., kernel)| kernel)
            .expect("add_update ran for every population")
    }
}

/// Raw Philox blocks and normals computed by the GPU for the given counters (for tests).
pub fn philox_on_gpu(
    ctx: &GpuContext,
    key: [u32; 2],
    counters: &[[u32; 4]],
) -> Result<(Vec<[u32; 4]>, Vec<f32>)> {
    use Slot::*;
    let kernel = Kernel::new(
        ctx,
        "philox_check",
        "common/philox_check",
        "main",
        &[Uniform, Read, ReadWrite, ReadWrite],
    )?;
    let n = counters.len();
    let params = ctx.uniform_buffer(
        "philox_check params",
        bytemuck::cast_slice(&[key[0], key[1], n as u32, 0]),
    );
    let ctr = ctx.storage_buffer("counters", bytemuck::cast_slice(counters))?;
    let blocks = ctx.storage_buffer("blocks", &vec![0u8; n * 16])?;
    let normals = ctx.storage_buffer("normals", &vec![0u8; n * 4])?;
    let bg = kernel.bind(
        ctx,
        "philox_check",
        &[
            params.as_entire_binding(),
            ctr.as_entire_binding(),
            blocks.as_entire_binding(),
            normals.as_entire_binding(),
        ],
    );
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&kernel.pipeline);
        pass.set_bind_group(0, &bg, &[]);
        pass.dispatch_workgroups((n as u32).div_ceil(64), 1, 1);
    }
    ctx.queue.submit([encoder.finish()]);
    let out = ctx.read_buffers(&[(&blocks, 0, (n * 16) as u64), (&normals, 0, (n * 4) as u64)])?;
    Ok((
        bytemuck::pod_collect_to_vec(&out[0]),
        bytemuck::pod_collect_to_vec(&out[1]),
    ))
}
