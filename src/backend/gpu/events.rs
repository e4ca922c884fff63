//! The event-driven projections of a network in one set of GPU buffers (g, delay rings, CSR by
//! source, weights), each projection at its offsets (`ExpParams` in shaders/synapses/exp_synapse.wgsl),
//! and per population the lists of its incoming and outgoing projections. Sharing the
//! buffers lets a population's update deliver all of its incoming projections, and one
//! dispatch per source population propagate all of its outgoing ones: the dispatch count does
//! not grow with the projections. Matrices larger than one binding are cut by whole rows
//! (`split`) into parts, one propagation per source population and part. A matrix that a
//! batch's instances share (`ProjectionData::blocks`) holds one instance's rows: its entries
//! span every instance's sources, and a source finds its row and its targets by its instance.

use super::context::GpuContext;
use super::event_parts::{EventSplit, Place};
use super::split;
use super::kernels::{Kernel, Kernels};
use super::populations::PopulationBuffers;
use super::kernels::{EventListGpu, ExpParamsGpu, MAX_EVENT_PROJECTIONS, WEIGHT_ONE, WEIGHT_PER_INSTANCE, WEIGHT_PER_SYNAPSE};
use super::Shared;
use crate::config::SynapseModel;
use crate::connectivity::Weights;
use crate::error::{Error, Result};
use crate::model::exp_synapse::ExpKind;
use crate::network::Network;
use crate::procedural::WeightDrawGpu;
use bytemuck::Zeroable;

pub struct EventBuffers {
    /// g and the delay rings: one buffer each, or where they exceed a binding, parts of whole
    /// projections as `split` says (`event_parts`).
    pub g: Vec<wgpu::Buffer>,
    pub rings: Vec<wgpu::Buffer>,
    pub split: EventSplit,
    /// The matrices by source, in parts of whole rows that each fit one binding (one part
    /// when everything fits).
    pub parts: Vec<EventPart>,
    /// Per population: the `EventList` of its incoming projections.
    pub inputs: Vec<wgpu::Buffer>,
    /// Per projection of the network (None for graded ones): where its g lies in `g`.
    pub g_places: Vec<Option<Place>>,
}

/// Some rows of the event-driven matrices by source: `ExpParams`' row, synapse and weight
/// offsets of the part's segments point into these buffers.
pub struct EventPart {
    pub rows: wgpu::Buffer,
    pub cols: wgpu::Buffer,
    pub weights: wgpu::Buffer,
    /// Per population with rows leaving it in this part: the `EventList` of those segments,
    /// and the sources they span.
    pub outputs: Vec<Option<(wgpu::Buffer, std::ops::Range<u32>)>>,
}

/// A length as a u32 offset, or the error that names what grew too large.
fn offset(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::TooLarge(format!(
            "{n} entries in the event-driven synapses' {what} exceed 2^32"
        ))
    })
}

/// `chosen` as an `EventList` spanning `sources`, or the error for too many projections.
fn event_list(
    net: &Network,
    pop: usize,
    incoming: bool,
    chosen: &[ExpParamsGpu],
    sources: std::ops::Range<u32>,
) -> Result<EventListGpu> {
    if chosen.len() > MAX_EVENT_PROJECTIONS {
        return Err(Error::TooManyEventProjections {
            population: net.populations[pop].name.clone(),
            count: chosen.len(),
            max: MAX_EVENT_PROJECTIONS,
            direction: if incoming { "into it" } else { "leaving it" },
        });
    }
    let mut l = EventListGpu::zeroed();
    l.n = chosen.len() as u32;
    l.first_source = sources.start;
    l.end_source = sources.end;
    l.projections[..chosen.len()].copy_from_slice(chosen);
    Ok(l)
}

impl EventBuffers {
    /// The buffers of `net`'s event-driven projections, their matrices cut into parts of at
    /// most `binding_limit` bytes, g and the rings as `split` says.
    pub fn new(ctx: &GpuContext, net: &Network, binding_limit: u64, split: EventSplit) -> Result<EventBuffers> {
        let mut params: Vec<ExpParamsGpu> = Vec::new();
        // Per part: the initial g, and the ring words.
        let mut g: Vec<Vec<f32>> = vec![Vec::new(); split.g_parts()];
        let mut rings = vec![0usize; split.ring_parts()];
        let mut g_places = vec![None; net.projections.len()];
        // Each event-driven projection's source, target and matrix by source.
        let mut ends = Vec::new();
        let mut matrices = Vec::new();
        for (index, p) in net.projections.iter().enumerate() {
            let Some(e) = &p.event else { continue };
            let n_target = p.n_target();
            // Instances drawing procedural rows of seeds of their own lie side by side: the
            // kernel walks them as a shared matrix's, each with its own rows.
            let (instances, apart) = match p.own_seeds() {
                true => (p.kernel_instances(), p.kernel_instances()),
                false => (p.blocks, 1),
            };
            let weight_mode = if p.block_weights.is_some() {
                WEIGHT_PER_INSTANCE
            } else if e.fixed_weights.len() != 1 || matches!(e.by_source.weights, Weights::PerSynapse(_)) {
                WEIGHT_PER_SYNAPSE
            } else {
                WEIGHT_ONE
            };
            let (g_place, ring_place) = (split.g[params.len()], split.rings[params.len()]);
            debug_assert_eq!(g_place.offset as usize, g[g_place.part].len());
            let draw = WeightDrawGpu::of(p.procedural.as_ref().and_then(|r| r.weight));
            g_places[index] = Some(g_place);
            params.push(ExpParamsGpu {
                e_rev: e.synapse.e_rev as f32,
                decay: e.synapse.decay(net.dt_ms) as f32,
                inv_scale: (1.0 / e.fixed_scale) as f32,
                uniform_weight: e.fixed_weights.first().copied().unwrap_or(0),
                kind: match e.synapse.kind {
                    ExpKind::Conductance => 0,
                    ExpKind::Current => 1,
                },
                n_target: n_target as u32,
                n_source: (e.by_source.n_rows * p.blocks) as u32,
                slots: e.synapse.ring_slots(),
                delay_steps: e.synapse.delay_steps,
                weight_mode,
                g_offset: offset(g_place.offset as usize, "g")?,
                ring_offset: offset(ring_place.offset as usize, "delay rings")?,
                row_offset: 0,
                synapse_offset: 0,
                weight_offset: 0,
                first_row: 0,
                end_row: e.by_source.n_rows as u32,
                procedural: p.procedural.is_some() as u32,
                skip_diagonal: p.procedural.as_ref().is_some_and(|r| r.skip_diagonal) as u32,
                seed_lo: p.procedural.as_ref().map_or(0, |r| r.seed_key[0]),
                seed_hi: p.procedural.as_ref().map_or(0, |r| r.seed_key[1]),
                projection: p.procedural.as_ref().map_or(0, |r| r.projection),
                instances: instances as u32,
                instance_sources: (e.by_source.n_rows / apart).max(1) as u32,
                instance_targets: (p.csr.n_rows / apart) as u32,
                draw: draw.kind,
                draw_low: draw.low,
                draw_span: draw.span,
                draw_a: draw.a,
                draw_b: draw.b,
                draw_scale: e.fixed_scale as f32,
                own_seeds: p.own_seeds() as u32,
                g_part: g_place.part as u32,
                ring_part: ring_place.part as u32,
                g_chunk: g_place.chunk as u32,
                ring_chunk: ring_place.chunk as u32,
            });
            // Each range of targets of a block cut so in a part of its own.
            for c in 0..g_place.ranges {
                let targets = g_place.targets(c, n_target as u64);
                g[g_place.part + c].extend(e.g0[targets.start as usize..targets.end as usize].iter().map(|&x| x as f32));
            }
            for c in 0..ring_place.ranges {
                rings[ring_place.part + c] += e.synapse.ring_slots() as usize * ring_place.targets(c, n_target as u64).count();
            }
            ends.push((p.source, p.target));
            matrices.push((p, e));
        }
        let mut inputs = Vec::new();
        for pop in 0..net.populations.len() {
            let chosen: Vec<ExpParamsGpu> = ends
                .iter()
                .zip(&params)
                .filter(|((_, target), _)| *target == pop)
                .map(|(_, q)| *q)
                .collect();
            let mut l = event_list(net, pop, true, &chosen, 0..0)?;
            l.graded_inputs = net
                .projections
                .iter()
                .any(|q| q.target == pop && matches!(q.synapse, SynapseModel::Graded(_)))
                as u32;
            let label = format!("{}.inputs", net.populations[pop].name);
            inputs.push(ctx.storage_buffer(&label, bytemuck::bytes_of(&l))?);
        }
        // A drawn matrix stores no columns: it is cut by its pointers alone.
        let empty_rows: Vec<Option<Vec<u32>>> = matrices
            .iter()
            .map(|(p, e)| p.procedural.as_ref().map(|_| vec![0; e.by_source.n_rows + 1]))
            .collect();
        let row_ptrs: Vec<&[u32]> = matrices
            .iter()
            .zip(&empty_rows)
            .map(|((_, e), empty)| empty.as_deref().unwrap_or(&e.by_source.row_ptr[..]))
            .collect();
        let cut = split::cut(&row_ptrs, binding_limit)
            .map_err(|e| super::graded::row_too_long(&matrices[e.matrix].0.name, e, binding_limit))?;
        let several = cut.len() > 1;
        let mut parts = Vec::new();
        for (k, segments) in cut.into_iter().enumerate() {
            let (mut rows, mut cols, mut weights) = (Vec::new(), Vec::new(), Vec::new());
            // This part's segments, each with its projection's parameters at its offsets.
            let mut placed = Vec::new();
            for segment in &segments {
                let (p, e) = matrices[segment.matrix];
                let (pointers, entries) = split::segment_rows(&e.by_source.row_ptr, &segment.rows);
                let mut q = params[segment.matrix];
                q.row_offset = offset(rows.len(), "rows")?;
                q.synapse_offset = offset(cols.len(), "synapses")?;
                q.weight_offset = offset(weights.len(), "weights")?;
                q.first_row = segment.rows.start as u32;
                q.end_row = segment.rows.end as u32;
                rows.extend_from_slice(&pointers);
                match p.procedural.as_ref() {
                    // No columns stored: the instances' keys, where they have their own.
                    Some(drawn) => cols.extend(drawn.instance_keys.iter().flatten()),
                    None => cols.extend_from_slice(&e.by_source.col_idx[entries.clone()]),
                }
                match q.weight_mode {
                    WEIGHT_PER_SYNAPSE if q.procedural == 0 => weights.extend_from_slice(&e.fixed_weights[entries]),
                    // Each part holds every instance's weight.
                    WEIGHT_PER_INSTANCE => weights.extend_from_slice(&e.fixed_weights),
                    _ => {}
                }
                placed.push((p.source, q));
            }
            let suffix = if several { format!(".part{k}") } else { String::new() };
            let mut outputs = Vec::new();
            for pop in 0..net.populations.len() {
                let chosen: Vec<ExpParamsGpu> = placed
                    .iter()
                    .filter(|(source, _)| *source == pop)
                    .map(|(_, q)| *q)
                    .collect();
                if chosen.is_empty() {
                    outputs.push(None);
                    continue;
                }
                // The sources whose rows these are: in every instance, where they are shared.
                let span = |q: &ExpParamsGpu| match q.instances {
                    1 => (q.first_row, q.end_row),
                    k => (0, k * q.instance_sources),
                };
                let first = chosen.iter().map(|q| span(q).0).min().unwrap_or(0);
                let end = chosen.iter().map(|q| span(q).1).max().unwrap_or(0);
                let l = event_list(net, pop, false, &chosen, first..end)?;
                let label = format!("{}.outputs{suffix}", net.populations[pop].name);
                outputs.push(Some((ctx.storage_buffer(&label, bytemuck::bytes_of(&l))?, first..end)));
            }
            parts.push(EventPart {
                rows: ctx.storage_buffer(&format!("events{suffix}.rows"), bytemuck::cast_slice(&rows))?,
                cols: ctx.storage_buffer(&format!("events{suffix}.cols"), bytemuck::cast_slice(&cols))?,
                weights: ctx.storage_buffer(
                    &format!("events{suffix}.weights"),
                    bytemuck::cast_slice(&weights),
                )?,
                outputs,
            });
        }
        let label = |array: &str, k: usize, n: usize| match n {
            1 => format!("events.{array}"),
            _ => format!("events.{array}.part{k}"),
        };
        Ok(EventBuffers {
            g: g.iter()
                .enumerate()
                .map(|(k, part)| ctx.storage_buffer(&label("g", k, g.len()), bytemuck::cast_slice(part)))
                .collect::<Result<_>>()?,
            rings: rings
                .iter()
                .enumerate()
                .map(|(k, &words)| ctx.storage_buffer(&label("rings", k, rings.len()), &vec![0u8; words * 4]))
                .collect::<Result<_>>()?,
            split,
            parts,
            inputs,
            g_places,
        })
    }
}

/// The propagation of one population's spikes into its event-driven projections' rows in
/// one part.
pub struct PropagateDispatch {
    /// Threads: the sources the part's rows span.
    pub n_threads: u32,
    /// The propagation over the source's spike flags (`Kernels::propagate_in_ranges`).
    pub kernel: Kernel,
    pub bind_group: wgpu::BindGroup,
}

/// Per part of the matrices, one propagation per population with event-driven rows leaving
/// it there; `spiked` are the populations' spike flags, in the ranges of neurons of their
/// `populations`' states.
pub(crate) fn propagations(
    ctx: &GpuContext,
    kernels: &Kernels,
    shared: &Shared,
    net: &Network,
    populations: &[PopulationBuffers],
    spiked: &[Vec<wgpu::Buffer>],
) -> Result<Vec<PropagateDispatch>> {
    let mut propagations = Vec::new();
    for part in &shared.events.parts {
        for (index, p) in net.populations.iter().enumerate() {
            let Some((outputs, sources)) = &part.outputs[index] else {
                continue;
            };
            let mut resources = vec![
                outputs.as_entire_binding(),
                shared.step_binding(),
                part.rows.as_entire_binding(),
                part.cols.as_entire_binding(),
                part.weights.as_entire_binding(),
                spiked[index][0].as_entire_binding(),
            ];
            // Every part of the rings (event_parts.rs), then the flags' other ranges.
            resources.extend(shared.events.rings.iter().map(|b| b.as_entire_binding()));
            resources.extend(spiked[index][1..].iter().map(|b| b.as_entire_binding()));
            let kernel = kernels.propagate_in_ranges(ctx, populations[index].parts.state.chunks)?;
            let bind_group = kernel.bind(ctx, &p.name, &resources);
            propagations.push(PropagateDispatch {
                n_threads: sources.end - sources.start,
                kernel,
                bind_group,
            });
        }
    }
    Ok(propagations)
}
