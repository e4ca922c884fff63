//! Each population's buffers and update bind group: its state (structure of arrays), its
//! synaptic-input words, its spike flags, its model's `Params` and the shared
//! `PopulationInfo`, and, with fused coupling, its own graded projection.

use super::context::GpuContext;
use super::graded::{self, Graded, GradedBuffers};
use super::kernels::{plain_entry, Kernel, Kernels, PopulationInfoGpu, Update};
use super::parted::UpdateParts;
use super::state_parts::StateSplit;
use super::Shared;
use crate::config::{GpuCoupling, SynapseModel};
use crate::error::Result;
use crate::network::Network;
use crate::record::RecordPlan;

pub struct PopulationBuffers {
    pub size: u32,
    pub n_vars: usize,
    /// The model's name and the way its update runs (`Kernels::update`).
    pub kind: &'static str,
    pub update: Update,
    /// The variable kept in two blocks (S with fused coupling): block `n_vars` on odd steps.
    pub double_buffered: Option<usize>,
    /// Variable k of neuron i at k·size + i, in model variable order; with fused coupling a
    /// sixth block holds S of every other step. One buffer, or where the variables do not fit
    /// one binding, parts of whole variables or of ranges of neurons as `parts.state` says.
    pub state: Vec<wgpu::Buffer>,
    /// The parts its update binds beyond its own slots (its state's, g's, the rings').
    pub parts: UpdateParts,
    /// The update's bind groups, each with the neurons it steps: one over the population,
    /// or with fused coupling one per part of its projection's matrix (cut to fit bindings),
    /// stepping that part's rows.
    pub bind_groups: Vec<(wgpu::BindGroup, u32)>,
    /// The delivery of its event-driven inputs, where it runs before the update
    /// (`EventDelivery::Separate`) and the population has any: on the update's bindings.
    pub delivery: Option<Kernel>,
    /// Models written as equations: the reset and the refresh of subexpressions, where they
    /// have one.
    pub reset: Option<(Kernel, wgpu::BindGroup)>,
    pub refresh: Option<(Kernel, wgpu::BindGroup)>,
    /// Its `run_regularly`: when, and the entry that runs it.
    pub regularly: Vec<(crate::record::Schedule, Kernel, wgpu::BindGroup)>,
    /// The model's data (a model written as equations: the config's timed arrays), which the
    /// synapses written as equations that read them bind too.
    pub model_data: wgpu::Buffer,
}

/// What `build` makes: per population its buffers, its (syn_g, syn_i0) and its spike flags,
/// each in the parts of its ranges of neurons (one where its variables are whole).
pub struct Populations {
    pub buffers: Vec<PopulationBuffers>,
    pub inputs: Vec<(Vec<wgpu::Buffer>, Vec<wgpu::Buffer>)>,
    pub spiked: Vec<Vec<wgpu::Buffer>>,
}

/// Every population's buffers and bind group, its update kernel added to `kernels`; its state
/// in the parts `splits` gives it (`state_parts::splits`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    ctx: &GpuContext,
    kernels: &mut Kernels,
    shared: &Shared,
    net: &Network,
    plan: &RecordPlan,
    coupling: GpuCoupling,
    binding_limit: u64,
    splits: &[StateSplit],
) -> Result<Populations> {
    let fused = coupling.is_fused();
    let seed = crate::rng::seed_key(net.seed);
    let mut populations: Vec<PopulationBuffers> = Vec::new();
    let mut syn_inputs = Vec::new();
    let mut spiked_flags = Vec::new();
    for (index, p) in net.populations.iter().enumerate() {
        let n = p.size as u32;
        let with_values = !plan.collected_spike_values(index).is_empty();
        let record_spikes = if with_values { 2 } else { plan.collects_spikes(index) as u32 };
        let kind = p.model.kind();
        // With fused coupling the activation S is double-buffered: a second block after
        // the variables holds it on odd steps.
        let double_buffered = if fused {
            kind.graded_activation()
        } else {
            None
        };
        let mut blocks: Vec<&Vec<f64>> = p.init.iter().collect();
        blocks.extend(double_buffered.map(|s| &p.init[s]));
        let split = splits[index];
        let state = (0..split.parts)
            .map(|part| {
                let neurons = split.neurons(part, p.size);
                let init: Vec<f32> = blocks[split.vars(part, blocks.len())]
                    .iter()
                    .flat_map(|column| column[neurons.clone()].iter().map(|&x| x as f32))
                    .collect();
                let label = if split.is_whole() {
                    format!("{}.state", p.name)
                } else {
                    format!("{}.state.part{part}", p.name)
                };
                ctx.storage_buffer(&label, bytemuck::cast_slice(&init))
            })
            .collect::<Result<Vec<_>>>()?;
        // The input words and spike flags, in the state's ranges of neurons where its
        // variables are cut (`neuron_ranges::arrays_wgsl`).
        let chunks = split.chunks;
        let zeros = |label: String, blocks: usize| -> Result<Vec<wgpu::Buffer>> {
            (0..blocks * chunks.count)
                .map(|part| {
                    let words = chunks.range(part % chunks.count, p.size).len();
                    let label = if chunks.is_whole() { label.clone() } else { format!("{label}.part{part}") };
                    ctx.storage_buffer(&label, &vec![0u8; words * 4])
                })
                .collect()
        };
        let syn_g = zeros(format!("{}.syn_g", p.name), 1)?;
        let syn_i0 = zeros(format!("{}.syn_i0", p.name), 1)?;
        // A model written as equations keeps `spike_slots` steps of spikes for its synapses.
        let spike_slots = net.spike_slots(index) as usize;
        let spiked = if chunks.is_whole() {
            vec![ctx.storage_buffer(&format!("{}.spiked", p.name), &vec![0u8; p.size * 4 * spike_slots])?]
        } else {
            zeros(format!("{}.spiked", p.name), spike_slots)?
        };
        let update = match coupling {
            GpuCoupling::FusedLanes => Update::CoupledLanes,
            GpuCoupling::Fused => Update::Coupled,
            _ => Update::Plain,
        };
        let parts = UpdateParts::new(split, spike_slots, &shared.events.split);
        kernels.add_update(ctx, kind, update, parts)?;
        let batch = net.batch.as_ref();
        let (record_events, event_index) = plan.event_bits(index);
        let info = PopulationInfoGpu {
            dt: net.dt_ms as f32,
            n,
            index: index as u32,
            record_spikes,
            seed_lo: seed[0],
            seed_hi: seed[1],
            spike_slots: net.spike_slots(index),
            instance_size: net.instance_size(index) as u32,
            spike_words: shared.spike_words as u32,
            record_events,
            event_index,
            event_values: plan.event_value_bits(index),
        };
        let model_data = ctx.storage_buffer(
            &format!("{}.model_data", p.name),
            bytemuck::cast_slice(&p.model.gpu_data()),
        )?;
        let params_buf = if kind.instance_table() {
            // One `Instance` per instance: its seed's key, then its `Params`.
            let entry = |seed: u64, params: &[u8]| {
                let key = crate::rng::seed_key(seed);
                let mut bytes: Vec<u8> = bytemuck::cast_slice(&[key[0], key[1], 0, 0]).to_vec();
                bytes.extend_from_slice(params);
                bytes
            };
            let table: Vec<u8> = match batch {
                Some(b) => b.seeds.iter().zip(&b.params[index]).flat_map(|(&s, params)| entry(s, params)).collect(),
                None => entry(net.seed, &p.model.gpu_params()),
            };
            ctx.storage_buffer(&format!("{}.instances", p.name), &table)?
        } else {
            ctx.uniform_buffer(&format!("{}.params", p.name), &p.model.gpu_params())
        };
        let info_buf = ctx.uniform_buffer(&format!("{}.info", p.name), bytemuck::bytes_of(&info));
        let resources = vec![
            params_buf.as_entire_binding(),
            shared.step_binding(),
            state[0].as_entire_binding(),
            syn_g[0].as_entire_binding(),
            syn_i0[0].as_entire_binding(),
            shared.spikes.as_entire_binding(),
            shared.status.as_entire_binding(),
            spiked[0].as_entire_binding(),
            shared.events.inputs[index].as_entire_binding(),
            shared.events.g[0].as_entire_binding(),
            shared.events.rings[0].as_entire_binding(),
            info_buf.as_entire_binding(),
            model_data.as_entire_binding(),
        ];
        // The other parts of the arrays cut into parts, after the update's own slots (and a
        // fused update's projection): the state's, the input words' and spike flags', g's,
        // the rings' (parted.rs).
        let extra: Vec<wgpu::BindingResource> = state[1..]
            .iter()
            .chain(&syn_g[1..])
            .chain(&syn_i0[1..])
            .chain(&spiked[1..])
            .chain(&shared.events.g[1..])
            .chain(&shared.events.rings[1..])
            .map(|b| b.as_entire_binding())
            .collect();
        let plain: Vec<wgpu::BindingResource> = resources.iter().cloned().chain(extra.iter().cloned()).collect();
        let own_projection = net.projections.iter().find(|q| q.target == index);
        // With fused coupling, the projection's parts, each with the rows it steps.
        let graded = match (fused, own_projection) {
            (false, _) => Vec::new(),
            (true, Some(q)) => {
                let (SynapseModel::Graded(g), Some(s)) = (&q.synapse, q.source_activation) else {
                    unreachable!("fused_coupling_unfit admits graded projections only")
                };
                let g = Graded {
                    params: g,
                    activation: s,
                    procedural: q.procedural.as_ref(),
                    instances: q.kernel_instances(),
                    instance_weights: q.block_weights.as_deref(),
                };
                graded::row_parts(&q.name, &q.csr, g.procedural.is_some(), binding_limit)?
                    .into_iter()
                    .map(|(label, rows)| {
                        // Threads: the part's rows in every instance that shares them.
                        let n_rows = g.threads(&rows);
                        Ok((GradedBuffers::part(ctx, &label, &q.csr, rows, g, false)?, n_rows))
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            (true, None) => vec![(GradedBuffers::unconnected(ctx, &p.name, p.size)?, n)],
        };
        let kernel = kernels.update(kind.name(), update, parts);
        let bind_groups = if graded.is_empty() {
            vec![(kernel.bind(ctx, &p.name, &plain), n)]
        } else {
            graded
                .iter()
                .map(|(b, n_rows)| {
                    let mut with_part = resources.clone();
                    with_part.extend([
                        b.params.as_entire_binding(),
                        b.pointers.as_entire_binding(),
                        b.indices.as_entire_binding(),
                        b.weights.as_entire_binding(),
                    ]);
                    with_part.extend(extra.iter().cloned());
                    (kernel.bind(ctx, &p.name, &with_part), *n_rows)
                })
                .collect()
        };
        // The reset after the synapses' events and the refresh of subexpressions before a
        // trace: further entries of a generated shader, on the same bindings.
        let entry = |name: &str| -> Result<(Kernel, wgpu::BindGroup)> {
            let label = format!("{}.{name}", p.name);
            let kernel = plain_entry(ctx, &label, kind, parts, name, &[])?;
            let group = kernel.bind(ctx, &label, &plain);
            Ok((kernel, group))
        };
        let receives_events = net.projections.iter().any(|q| q.target == index && q.event.is_some());
        let delivery = (kernels.delivers_separately() && receives_events && update == Update::Plain)
            .then(|| kernels.delivery(ctx, kind, parts))
            .transpose()?;
        let (reset, refresh) = match kind.equations() {
            Some(m) => (
                m.acts_after_synapses().then(|| entry("reset_neurons")).transpose()?,
                (!m.refresh.is_empty()).then(|| entry("refresh_neurons")).transpose()?,
            ),
            None => (None, None),
        };
        let regularly = match kind.equations() {
            Some(m) => m
                .regularly
                .iter()
                .enumerate()
                .map(|(j, (every, _))| entry(&format!("regularly_{j}")).map(|(k, g)| (*every, k, g)))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        populations.push(PopulationBuffers {
            size: n,
            n_vars: p.init.len(),
            kind: kind.name(),
            update,
            double_buffered,
            state,
            parts,
            bind_groups,
            delivery,
            reset,
            refresh,
            regularly,
            model_data,
        });
        syn_inputs.push((syn_g, syn_i0));
        spiked_flags.push(spiked);
    }
    Ok(Populations {
        buffers: populations,
        inputs: syn_inputs,
        spiked: spiked_flags,
    })
}

impl PopulationBuffers {
    /// The buffers that hold variable block `k`, and the block's place in them: one buffer
    /// and its place among the variables it holds, or where variables are cut, the block's
    /// ranges of neurons, each alone in its buffer (place 0).
    pub fn block(&self, k: usize) -> (Vec<&wgpu::Buffer>, usize) {
        if self.parts.state.cuts_variables() {
            let pieces = self.parts.state.pieces(k, self.size as usize);
            return (pieces.into_iter().map(|(part, _)| &self.state[part]).collect(), 0);
        }
        let (part, local) = self.parts.state.place(k);
        (vec![&self.state[part]], local)
    }
}
