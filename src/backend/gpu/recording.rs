//! Recording on the GPU: each trace entry's sample buffer and the gathers that copy the due
//! variables into it, and the decoding of what one submit read back (spikes, divergence).

use super::context::GpuContext;
use super::equations::SynapseStates;
use super::kernels::{Kernels, RecordParamsGpu};
use super::populations::PopulationBuffers;
use super::sizing::trace_rows;
use super::Shared;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::record::{Divergence, RecordPlan, Spike, TraceVar};

/// A step the status words hold where no neuron diverged.
pub const NO_STEP: u32 = u32::MAX;

/// A recorded index a gather leaves to another (`SKIP` in shaders/common/record.wgsl).
pub const SKIP: u32 = u32::MAX;

pub struct TraceBuffers {
    pub population: usize,
    /// A trace of a projection's synapses.
    pub projection: Option<usize>,
    pub n_recorded: u32,
    pub n_variables: u32,
    pub every: u64,
    /// Where in the step its gathers run.
    pub when: crate::record::Sampled,
    pub rows: u64,
    pub samples: wgpu::Buffer,
    /// One gather for the population's own variables, one per synaptic g recorded; each for
    /// even and for odd steps, which differ where S is double-buffered.
    pub gathers: Vec<[wgpu::BindGroup; 2]>,
}

/// What one trace gather reads.
struct GatherSource<'a> {
    /// Variables of `n` neurons each, from `offset` on.
    buffer: &'a wgpu::Buffer,
    /// The recorded indices within `buffer`, where they differ from the trace's (a part of a
    /// synaptic state cut into parts: `SKIP` for the synapses of other parts).
    neurons: Option<wgpu::Buffer>,
    offset: u32,
    n: u32,
    /// (variable index, sample slot) of each variable it copies.
    vars: Vec<(u32, u32)>,
    /// The buffer is a population's state (where S may be double-buffered: fused, so whole,
    /// its variables in place).
    is_state: bool,
}

/// The trace buffers and gathers of `plan`, each for `steps_per_submit` steps.
#[allow(clippy::too_many_arguments)]
pub(crate) fn traces(
    ctx: &GpuContext,
    kernels: &Kernels,
    shared: &Shared,
    net: &Network,
    plan: &RecordPlan,
    populations: &[PopulationBuffers],
    synapse_states: &[SynapseStates],
    steps_per_submit: u64,
) -> Result<Vec<TraceBuffers>> {
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
        if let Some(p) = t.projection {
            let states = synapse_states
                .iter()
                .find(|s| s.projection == p)
                .ok_or_else(|| Error::Gpu(format!("projection `{}` keeps no synaptic variables", net.projections[p].name)))?;
            // One gather per part, each reading its own synapses (by index within it).
            let several = states.parts.len() > 1;
            let mut first = 0u32;
            for part in &states.parts {
                let end = first + part.n_syn as u32;
                let own_synapses = || {
                    let local: Vec<u32> = t
                        .neurons
                        .iter()
                        .map(|&s| if (first..end).contains(&s) { s - first } else { SKIP })
                        .collect();
                    ctx.storage_buffer("trace synapses", bytemuck::cast_slice(&local))
                };
                sources.push(GatherSource {
                    buffer: &part.buffer,
                    neurons: several.then(own_synapses).transpose()?,
                    offset: 0,
                    n: part.n_syn as u32,
                    vars: own.clone(),
                    is_state: false,
                });
                first = end;
            }
        } else if populations[t.population].parts.state.cuts_variables() {
            // Variables cut into ranges of neurons: a gather per range of each recorded
            // variable, each given its range's recorded neurons by index within it.
            let pop = &populations[t.population];
            let split = pop.parts.state;
            for c in 0..split.chunks.count {
                let range = split.chunks.range(c, pop.size as usize);
                let local = local_indices(ctx, &t.neurons, &range)?;
                for &(k, slot) in &own {
                    sources.push(GatherSource {
                        buffer: &pop.state[k as usize * split.chunks.count + c],
                        neurons: Some(local.clone()),
                        offset: 0,
                        n: range.len() as u32,
                        vars: vec![(0, slot)],
                        is_state: true,
                    });
                }
            }
        } else {
            // One gather per part of a cut state that holds a recorded variable.
            let pop = &populations[t.population];
            for (part, buffer) in pop.state.iter().enumerate() {
                let vars: Vec<(u32, u32)> = own
                    .iter()
                    .filter_map(|&(k, slot)| {
                        let (at, local) = pop.parts.state.place(k as usize);
                        (at == part).then_some((local as u32, slot))
                    })
                    .collect();
                if !vars.is_empty() {
                    sources.push(GatherSource {
                        buffer,
                        neurons: None,
                        offset: 0,
                        n: pop.size,
                        vars,
                        is_state: true,
                    });
                }
            }
        }
        for (slot, v) in t.variables.iter().enumerate() {
            if let TraceVar::Synapse(p) = v {
                let place = shared.events.g_places[*p].ok_or_else(|| {
                    Error::Gpu(format!(
                        "trace of `g_{}`: projection `{0}` is not event-driven",
                        net.projections[*p].name
                    ))
                })?;
                let n_target = net.projections[*p].n_target() as u64;
                // A g cut into ranges of targets: a gather per range, each alone in its part.
                for c in 0..place.ranges {
                    let range = place.targets(c, n_target);
                    let range = range.start as usize..range.end as usize;
                    sources.push(GatherSource {
                        buffer: &shared.events.g[place.part + c],
                        neurons: (place.ranges > 1).then(|| local_indices(ctx, &t.neurons, &range)).transpose()?,
                        offset: place.offset as u32,
                        n: range.len() as u32,
                        vars: vec![(0, slot as u32)],
                        is_state: false,
                    });
                }
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
                ctx,
                "trace",
                &[
                    params_buf.as_entire_binding(),
                    shared.step_binding(),
                    source.buffer.as_entire_binding(),
                    source.neurons.as_ref().unwrap_or(&neurons).as_entire_binding(),
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
            projection: t.projection,
            n_recorded,
            n_variables: t.variables.len() as u32,
            every: t.every,
            when: t.when,
            rows,
            samples,
            gathers,
        });
    }
    Ok(traces)
}

/// The recorded `neurons` by their index within `range` (`SKIP` for those outside it): what a
/// gather over an array cut into ranges of neurons reads.
fn local_indices(ctx: &GpuContext, neurons: &[u32], range: &std::ops::Range<usize>) -> Result<wgpu::Buffer> {
    let local: Vec<u32> = neurons
        .iter()
        .map(|&i| if range.contains(&(i as usize)) { i - range.start as u32 } else { SKIP })
        .collect();
    ctx.storage_buffer("trace neurons", bytemuck::cast_slice(&local))
}

/// The spikes of one submit from its spike words, entries of `stride` words (population << 24
/// | step_in_chunk, neuron, then the values of the model's variables where the plan records
/// them: `sizing::spike_words`) appended in any order by atomics: sorted to the CPU's (step,
/// population, neuron) and kept for the populations `plan` records, with the values it asks.
pub fn decode_spikes(words: &[u32], stride: usize, first: u64, plan: &RecordPlan, out: &mut crate::record::ChunkOutput) {
    let mut entries: Vec<(u32, u32, u32, usize)> = words
        .chunks_exact(stride)
        .enumerate()
        .map(|(e, w)| (w[0] & 0xff_ffff, w[0] >> 24, w[1], e * stride))
        .collect();
    entries.sort_unstable();
    let slots: Vec<Vec<usize>> = (0..plan.spikes.len()).map(|p| plan.collected_spike_values(p).into_owned()).collect();
    for (k, pop, neuron, at) in entries {
        let pop = pop as usize;
        // The recorded events' indices follow the populations' (`RecordPlan::events`).
        if let Some(event) = pop.checked_sub(plan.spikes.len()) {
            if let Some(events) = out.events.get_mut(event) {
                events.push(Spike { step: first + k as u64, neuron });
                out.event_values[event].extend(plan.event_values[event].iter().map(|&slot| f32::from_bits(words[at + 2 + slot])));
            }
            continue;
        }
        if plan.collects_spikes(pop) {
            out.spikes[pop].push(Spike {
                step: first + k as u64,
                neuron,
            });
            out.spike_values[pop].extend(slots[pop].iter().map(|&slot| f32::from_bits(words[at + 2 + slot])));
        }
    }
}

/// The earliest divergence in the status words (per population: first step, lowest neuron).
pub fn first_divergence(status: &[u32], first: u64) -> Option<Divergence> {
    status
        .chunks_exact(2)
        .enumerate()
        .filter(|(_, s)| s[0] != NO_STEP)
        .min_by_key(|(_, s)| s[0])
        .map(|(population, s)| Divergence {
            population,
            neuron: s[1],
            step: first + s[0] as u64,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_come_back_in_the_cpus_order_for_the_recorded_populations() {
        let plan = RecordPlan {
            spikes: vec![true, false, true],
            rates: vec![false; 3],
            traces: vec![],
            ..Default::default()
        };
        // (population << 24 | step, neuron), in the order atomics may leave them.
        let words = [
            2 << 24 | 1,
            5,
            1,
            7,
            1 << 24,
            3,
            1,
            2,
            2 << 24,
            9,
        ];
        let mut out = crate::record::ChunkOutput::new(&plan, 100, 2);
        decode_spikes(&words, 2, 100, &plan, &mut out);
        let s = |step, neuron| Spike { step, neuron };
        assert_eq!(out.spikes[0], vec![s(101, 2), s(101, 7)]);
        assert!(out.spikes[1].is_empty(), "not recorded");
        assert_eq!(out.spikes[2], vec![s(100, 9), s(101, 5)]);
    }

    #[test]
    fn spike_values_come_back_with_their_spikes_in_the_plans_order() {
        // Entries of 5 words: the model's first three variables after the pair; population 0
        // records slots 2 and 0.
        let plan = RecordPlan { spikes: vec![true], rates: vec![false], spike_values: vec![vec![2, 0]], ..Default::default() };
        let v = |x: f32| x.to_bits();
        let words = [1, 4, v(0.5), v(1.5), v(2.5), 0, 8, v(3.0), v(4.0), v(5.0)];
        let mut out = crate::record::ChunkOutput::new(&plan, 10, 2);
        decode_spikes(&words, 5, 10, &plan, &mut out);
        assert_eq!(out.spikes[0], vec![Spike { step: 10, neuron: 8 }, Spike { step: 11, neuron: 4 }]);
        assert_eq!(out.spike_values[0], vec![5.0, 3.0, 2.5, 0.5]);
    }

    #[test]
    fn the_first_divergence_is_the_earliest_step_of_any_population() {
        assert_eq!(
            first_divergence(&[NO_STEP, NO_STEP, NO_STEP, NO_STEP], 10),
            None
        );
        let d = first_divergence(&[7, 3, NO_STEP, NO_STEP, 4, 11], 10).unwrap();
        assert_eq!((d.population, d.neuron, d.step), (2, 11, 14));
    }
}
