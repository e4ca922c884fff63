//! The event-driven projections of a network in one set of GPU buffers (g, delay rings, CSR by
//! source, weights), each projection at its offsets (`ExpParams` in shaders/synapses/exp_synapse.wgsl),
//! and per population the lists of its incoming and outgoing projections. Sharing the
//! buffers lets a population's update deliver all of its incoming projections, and one
//! dispatch per source population propagate all of its outgoing ones: the dispatch count does
//! not grow with the projections.

use super::context::GpuContext;
use super::kernels::Kernels;
use super::kernels::{EventListGpu, ExpParamsGpu, MAX_EVENT_PROJECTIONS};
use super::Shared;
use crate::connectivity::Weights;
use crate::error::{Error, Result};
use crate::model::exp_synapse::ExpKind;
use crate::network::Network;
use bytemuck::Zeroable;

pub struct EventBuffers {
    pub g: wgpu::Buffer,
    pub rings: wgpu::Buffer,
    pub rows: wgpu::Buffer,
    pub cols: wgpu::Buffer,
    pub weights: wgpu::Buffer,
    /// Per population: the `EventList` of its incoming projections.
    pub inputs: Vec<wgpu::Buffer>,
    /// Per population with projections leaving it: the `EventList` of them.
    pub outputs: Vec<Option<wgpu::Buffer>>,
    /// Per projection of the network (None for graded ones): where its g starts in `g`.
    pub g_offsets: Vec<Option<u32>>,
}

/// A length as a u32 offset, or the error that names what grew too large.
fn offset(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::TooLarge(format!(
            "{n} entries in the event-driven synapses' {what} exceed 2^32"
        ))
    })
}

impl EventBuffers {
    pub fn new(ctx: &GpuContext, net: &Network) -> Result<EventBuffers> {
        let mut params: Vec<ExpParamsGpu> = Vec::new();
        let mut g = Vec::new();
        let mut rings = 0usize;
        let mut rows = Vec::new();
        let mut cols = Vec::new();
        let mut weights = Vec::new();
        let mut g_offsets = vec![None; net.projections.len()];
        // Each event-driven projection's source and target.
        let mut ends = Vec::new();
        for (index, p) in net.projections.iter().enumerate() {
            let Some(e) = &p.event else { continue };
            let n_target = p.csr.n_rows;
            let per_synapse =
                e.fixed_weights.len() != 1 || matches!(e.by_source.weights, Weights::PerSynapse(_));
            let g_offset = offset(g.len(), "g")?;
            g_offsets[index] = Some(g_offset);
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
                n_source: e.by_source.n_rows as u32,
                slots: e.synapse.ring_slots(),
                delay_steps: e.synapse.delay_steps,
                per_synapse_weights: per_synapse as u32,
                g_offset,
                ring_offset: offset(rings, "delay rings")?,
                row_offset: offset(rows.len(), "rows")?,
                synapse_offset: offset(cols.len(), "synapses")?,
                weight_offset: offset(weights.len(), "weights")?,
                _pad: 0,
            });
            g.extend(e.g0.iter().map(|&x| x as f32));
            rings += e.synapse.ring_slots() as usize * n_target;
            rows.extend_from_slice(&e.by_source.row_ptr);
            cols.extend_from_slice(&e.by_source.col_idx);
            if per_synapse {
                weights.extend_from_slice(&e.fixed_weights);
            }
            ends.push((p.source, p.target));
        }
        // The projections (in config order) into or out of `pop`, as an `EventList`.
        let list = |pop: usize, incoming: bool| -> Result<Option<wgpu::Buffer>> {
            let chosen: Vec<ExpParamsGpu> = ends
                .iter()
                .zip(&params)
                .filter(|((source, target), _)| pop == if incoming { *target } else { *source })
                .map(|(_, q)| *q)
                .collect();
            if chosen.len() > MAX_EVENT_PROJECTIONS {
                return Err(Error::TooManyEventProjections {
                    population: net.populations[pop].name.clone(),
                    count: chosen.len(),
                    max: MAX_EVENT_PROJECTIONS,
                    direction: if incoming { "into it" } else { "leaving it" },
                });
            }
            if chosen.is_empty() && !incoming {
                return Ok(None);
            }
            let mut l = EventListGpu::zeroed();
            l.n = chosen.len() as u32;
            l.projections[..chosen.len()].copy_from_slice(&chosen);
            let name = &net.populations[pop].name;
            let label = format!("{name}.{}", if incoming { "inputs" } else { "outputs" });
            Ok(Some(ctx.storage_buffer(&label, bytemuck::bytes_of(&l))?))
        };
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for pop in 0..net.populations.len() {
            inputs.push(list(pop, true)?.expect("an input list always exists"));
            outputs.push(list(pop, false)?);
        }
        Ok(EventBuffers {
            g: ctx.storage_buffer("events.g", bytemuck::cast_slice(&g))?,
            rings: ctx.storage_buffer("events.rings", &vec![0u8; rings * 4])?,
            rows: ctx.storage_buffer("events.rows", bytemuck::cast_slice(&rows))?,
            cols: ctx.storage_buffer("events.cols", bytemuck::cast_slice(&cols))?,
            weights: ctx.storage_buffer("events.weights", bytemuck::cast_slice(&weights))?,
            inputs,
            outputs,
            g_offsets,
        })
    }
}

/// The propagation of one population's spikes into all of its event-driven projections.
pub struct PropagateDispatch {
    pub n_source: u32,
    pub bind_group: wgpu::BindGroup,
}

/// One propagation per population with event-driven projections leaving it; `spiked` are the
/// populations' spike flags.
pub(crate) fn propagations(
    ctx: &GpuContext,
    kernels: &Kernels,
    shared: &Shared,
    net: &Network,
    spiked: &[wgpu::Buffer],
) -> Vec<PropagateDispatch> {
    let mut propagations = Vec::new();
    for (index, p) in net.populations.iter().enumerate() {
        let Some(outputs) = &shared.events.outputs[index] else {
            continue;
        };
        let bind_group = kernels.propagate.bind(
            ctx,
            &p.name,
            &[
                outputs.as_entire_binding(),
                shared.step_binding(),
                shared.events.rows.as_entire_binding(),
                shared.events.cols.as_entire_binding(),
                shared.events.weights.as_entire_binding(),
                spiked[index].as_entire_binding(),
                shared.events.rings.as_entire_binding(),
            ],
        );
        propagations.push(PropagateDispatch {
            n_source: p.size as u32,
            bind_group,
        });
    }
    propagations
}
