//! Synapses written as equations on the GPU: per projection, its generated shader's
//! `sum_synapses` (before the populations' updates) and `step_synapses` (clock-driven
//! equations, `on_pre`, `on_post`: after them, before the resets), one thread per
//! post-synaptic neuron taking its synapses in CSR order, as the CPU does
//! (backend/cpu/equations.rs): deterministic, without atomic arithmetic. Where the pre
//! pathway's arrivals are marked (`SynapseProgram::arrival_slots`), `mark_arrivals` first sets
//! a bit for each synapse a spike reaches, in the slot of the step it arrives (from each
//! source's list of synapses, `by_source`), so that `on_pre` visits those alone.

use super::context::{dispatch_size, GpuContext};
use super::populations::PopulationBuffers;
use super::{graded, parted, split, state_parts};
use super::kernels::{Kernel, Slot, SynapseInfoGpu};
use super::Shared;
use crate::config::SynapseModel;
use crate::error::Result;
use crate::network::Network;

/// info, step, row_ptr, col_idx, delays, synaptic state, pre state, post state, pre spikes,
/// post spikes.
pub(crate) const SYNAPSE_SLOTS: [Slot; 10] = [
    Slot::Uniform,
    Slot::StepInfo,
    Slot::Read,
    Slot::Read,
    Slot::Read,
    Slot::ReadWrite,
    Slot::Read,
    Slot::ReadWrite,
    Slot::Read,
    Slot::Read,
];

pub struct SynapsePass {
    pub kernel: Kernel,
    pub bind_group: wgpu::BindGroup,
    pub groups: (u32, u32),
    /// An event-driven pre pathway's `mark_arrivals`, dispatched over the pre-synaptic
    /// neurons just before the delivery, on its bind group.
    pub mark: Option<(Kernel, (u32, u32))>,
    /// A linked variable's copy (`ProjectionData::link`), its source and target populations:
    /// a summation dispatched where `LinkCopy` says, not with the others.
    pub link: Option<crate::network::LinkTiming>,
}

/// One part of a projection's synaptic variables: its synapses' count and its buffer
/// (variable k of the part's synapse s at k·n_syn + s).
pub struct SynapseStatePart {
    pub n_syn: usize,
    pub buffer: wgpu::Buffer,
}

/// A projection's synaptic variables, in the parts of whole rows its matrix was cut into
/// (one where it fits a binding), synapses in CSR order across them.
pub struct SynapseStates {
    pub projection: usize,
    pub n_vars: usize,
    pub parts: Vec<SynapseStatePart>,
}

/// Per projection written as equations (config order): its summation and its delivery,
/// where it has them, one pass per part of its matrix.
pub struct EquationSynapses {
    pub sums: Vec<SynapsePass>,
    pub deliveries: Vec<SynapsePass>,
    /// Brian2's `run_regularly` on the synapses, each when its schedule says, per part, in
    /// config order.
    pub regularly: Vec<(crate::record::Schedule, SynapsePass)>,
    pub states: Vec<SynapseStates>,
}

/// The passes and buffers of `net`'s synapses written as equations. A matrix whose synaptic
/// variables exceed `binding_limit` bytes is cut into parts of whole rows (`split`), each
/// with its rebased row pointers, columns, delays and variables, and dispatched over its rows:
/// a row is walked in the same order whole or in parts, so the results are the same.
pub(crate) fn build(
    ctx: &GpuContext,
    shared: &Shared,
    net: &Network,
    populations: &[PopulationBuffers],
    spiked: &[Vec<wgpu::Buffer>],
    binding_limit: u64,
) -> Result<EquationSynapses> {
    let mut out = EquationSynapses {
        sums: Vec::new(),
        deliveries: Vec::new(),
        regularly: Vec::new(),
        states: Vec::new(),
    };
    for (index, p) in net.projections.iter().enumerate() {
        let (SynapseModel::Equations(program), Some(e)) = (&p.synapse, &p.equation) else {
            continue;
        };
        let post = net.populations[p.target].model.kind().equations().expect("validated");
        let same = p.source == p.target;
        let (pre_pop, post_pop) = (&populations[p.source], &populations[p.target]);
        // States cut into parts of whole variables, or arrays into ranges of neurons, are
        // reached over their parts, bound after the kernel's own slots (the pre-synaptic
        // state's, the post-synaptic's, then the spike flags').
        let pre_split = (!same).then_some(pre_pop.parts.state);
        let post_split = post_pop.parts.state;
        let spikes = |pop: &PopulationBuffers| (pop.parts.state.chunks, pop.parts.spike_slots);
        let (pre_spikes, post_spikes) = (spikes(pre_pop), spikes(post_pop));
        // One seed for the projection: instances whose synapses draw merge only where they
        // share it (`batch::unfit`), each synapse then drawing as in its own run.
        let key = crate::rng::seed_key(net.seed);
        let n_vars = e.state.len();
        // The variables are the largest per-synapse buffer: a part holds as many synapses as
        // their variables fit in one binding.
        let per_synapse = n_vars.max(1) as u64;
        let cut = split::cut(&[&p.csr.row_ptr], binding_limit / per_synapse).map_err(|err| {
            let bytes = err.bytes * per_synapse;
            graded::row_too_long(&p.name, split::RowTooLong { bytes, ..err }, binding_limit)
        })?;
        let n_pre = net.populations[p.source].size;
        let mut arrival_slots = e.arrival_slots(program);
        // Where a source's pointers or a part's bits would not fit one binding (sources past
        // 2^29 on a 2 GiB binding), the rows are walked instead. `check` does not know the
        // device's binding and counts them marked.
        let largest_part = cut.iter().map(|segments| segments.first().map_or(0, |s| {
            (p.csr.row_ptr[s.rows.end] - p.csr.row_ptr[s.rows.start]) as u64
        })).max().unwrap_or(0);
        if (n_pre as u64 + 1) * 4 > binding_limit || arrival_slots * largest_part.div_ceil(32) * 4 > binding_limit {
            arrival_slots = 0;
        }
        let events = arrival_slots > 0;
        let mut source = crate::shaders::compose_text(&program.wgsl(post, same, arrival_slots))?;
        let mut slots = SYNAPSE_SLOTS.to_vec();
        let tables = program.reads_tables();
        if tables {
            debug_assert_eq!(slots.len(), crate::equations::synapse::TABLES_BINDING);
            slots.push(Slot::Read);
        }
        if events {
            slots.extend(EVENT_SLOTS);
        }
        let states_cut = pre_split.is_some_and(|s| !s.is_whole()) || !post_split.is_whole() || !pre_spikes.0.is_whole();
        if states_cut {
            let module = state_parts::synapse_wgsl(pre_split, post_split, pre_spikes, post_spikes, slots.len());
            source = parted::replace_module(source, "synapses/equation_states", &module)?;
            let (pre_parts, post_parts, flags) = state_parts::synapse_extra(pre_split, post_split, pre_spikes, post_spikes);
            slots.extend(std::iter::repeat_n(Slot::Read, pre_parts));
            slots.extend(std::iter::repeat_n(Slot::ReadWrite, post_parts));
            slots.extend(std::iter::repeat_n(Slot::Read, flags));
        }
        let several = cut.len() > 1;
        // Merged instances with the same connections hold equal numbers of synapses
        // (`batch::unfit` merges no others whose synapses draw).
        let instances = p.csr.n_rows / net.instance_size(p.target).max(1);
        let instance_synapses = p.csr.n_synapses() / instances.max(1);
        // One buffer cannot be bound twice: within a population the shader reads the
        // pre-synaptic variables from the post-synaptic binding, and this one stays unused.
        let unused = ctx.storage_buffer(&format!("{}.unused", p.name), &[0u8; 4])?;
        let pre_state = if same { &unused } else { &pre_pop.state[0] };
        let pre_rest: &[wgpu::Buffer] = if same { &[] } else { &pre_pop.state[1..] };
        let mut parts = Vec::new();
        for (k, segments) in cut.iter().enumerate() {
            let rows = segments.first().map_or(0..0, |s| s.rows.clone());
            let label = if several { format!("{}.part{k}", p.name) } else { p.name.clone() };
            let (pointers, entries) = split::segment_rows(&p.csr.row_ptr, &rows);
            let n_syn = entries.len();
            // One delay for every synapse, or the part's own; then, where the post pathway's
            // differ, the part's own of those.
            let mut delays = if !e.uniform_delay() { e.delays[entries.clone()].to_vec() } else { e.delays.clone() };
            let post_delays_at = delays.len() as u32;
            if !e.uniform_post_delay() {
                delays.extend_from_slice(&e.post_delays[entries.clone()]);
            }
            let info = SynapseInfoGpu {
                n_post: p.csr.n_rows as u32,
                n_pre: net.populations[p.source].size as u32,
                n_syn: n_syn as u32,
                pre_slots: net.spike_slots(p.source),
                uniform_delay: e.delays.first().copied().unwrap_or(0),
                per_synapse_delay: !e.uniform_delay() as u32,
                post_slots: net.spike_slots(p.target),
                pre_instance: net.instance_size(p.source) as u32,
                post_instance: net.instance_size(p.target) as u32,
                first_row: rows.start as u32,
                n_rows: rows.len() as u32,
                first_synapse: p.csr.row_ptr[rows.start],
                key_lo: key[0],
                key_hi: key[1],
                draws: crate::rng::stream::SYNAPSES + index as u32,
                arrival_slots: arrival_slots as u32,
                instance_synapses: instance_synapses.max(1) as u32,
                post_delay: e.post_delays.first().copied().unwrap_or(0),
                per_synapse_post_delay: !e.uniform_post_delay() as u32,
                post_delays_at,
                pre_mask: 1 << e.pre_event,
                post_mask: 1 << e.post_event,
                pre_first: e.spans[0].0,
                post_first: e.spans[1].0,
                post_span: e.spans[1].1,
            };
            let syn_init: Vec<f32> = e
                .state
                .iter()
                .flat_map(|column| column[entries.clone()].iter().map(|&x| x as f32))
                .collect();
            let info_buf = ctx.uniform_buffer(&format!("{label}.info"), bytemuck::bytes_of(&info));
            let row_ptr = ctx.storage_buffer(&format!("{label}.row_ptr"), bytemuck::cast_slice(&pointers))?;
            let cols = ctx.storage_buffer(&format!("{label}.col_idx"), bytemuck::cast_slice(&p.csr.col_idx[entries.clone()]))?;
            let delays = ctx.storage_buffer(&format!("{label}.delays"), bytemuck::cast_slice(&delays))?;
            let syn_state = ctx.storage_buffer(&format!("{label}.synapses"), bytemuck::cast_slice(&syn_init))?;
            let mut resources = vec![
                info_buf.as_entire_binding(),
                shared.step_binding(),
                row_ptr.as_entire_binding(),
                cols.as_entire_binding(),
                delays.as_entire_binding(),
                syn_state.as_entire_binding(),
                pre_state.as_entire_binding(),
                post_pop.state[0].as_entire_binding(),
                spiked[p.source][0].as_entire_binding(),
                spiked[p.target][0].as_entire_binding(),
            ];
            if tables {
                resources.push(post_pop.model_data.as_entire_binding());
            }
            let arrivals = events
                .then(|| -> Result<[wgpu::Buffer; 3]> {
                    let (out_ptr, out_syn) = by_source(&p.csr.col_idx[entries.clone()], n_pre);
                    Ok([
                        ctx.storage_buffer(&format!("{label}.out_ptr"), bytemuck::cast_slice(&out_ptr))?,
                        ctx.storage_buffer(&format!("{label}.out_syn"), bytemuck::cast_slice(&out_syn))?,
                        ctx.storage_buffer(&format!("{label}.arrived"), bytemuck::cast_slice(&vec![0u32; (arrival_slots as usize * n_syn.div_ceil(32)).max(1)]))?,
                    ])
                })
                .transpose()?;
            resources.extend(arrivals.iter().flatten().map(|b| b.as_entire_binding()));
            resources.extend(
                pre_rest
                    .iter()
                    .chain(&post_pop.state[1..])
                    .chain(&spiked[p.source][1..])
                    .chain(&spiked[p.target][1..])
                    .map(|b| b.as_entire_binding()),
            );
            let groups = dispatch_size(rows.len() as u32);
            let kernel = |entry: &str| Kernel::from_source(ctx, &format!("{label}.{entry}"), source.clone(), entry, &slots, &[]);
            let pass = |entry: &str| -> Result<SynapsePass> {
                let kernel = kernel(entry)?;
                let bind_group = kernel.bind(ctx, &format!("{label}.{entry}"), &resources);
                Ok(SynapsePass {
                    kernel,
                    bind_group,
                    groups,
                    mark: None,
                    link: p.link,
                })
            };
            if !program.summed.is_empty() {
                out.sums.push(pass("sum_synapses")?);
            }
            if !(program.on_pre.is_empty() && program.on_post.is_empty() && program.clock.is_empty()) {
                let mut delivery = pass("step_synapses")?;
                if events {
                    delivery.mark = Some((kernel("mark_arrivals")?, dispatch_size(n_pre as u32)));
                }
                out.deliveries.push(delivery);
            }
            for (k, (schedule, _)) in program.regularly.iter().enumerate() {
                out.regularly.push((*schedule, pass(&format!("regularly_{k}"))?));
            }
            parts.push(SynapseStatePart { n_syn, buffer: syn_state });
        }
        out.states.push(SynapseStates { projection: index, n_vars, parts });
    }
    Ok(out)
}

/// The bindings of an event-driven pre pathway, after the kernel's own slots and its tables:
/// out_ptr, out_syn, arrived (`SynapseProgram::wgsl`).
const EVENT_SLOTS: [Slot; 3] = [Slot::Read, Slot::Read, Slot::ReadWrite];

/// Each source's synapses among `cols` (a part's sources, in CSR order): pointers over the
/// `n_pre` sources, and the synapses' indices in the part, each source's in order; a part
/// without synapses keeps one entry (a binding is never empty).
fn by_source(cols: &[u32], n_pre: usize) -> (Vec<u32>, Vec<u32>) {
    let (ptr, mut syn) = crate::connectivity::synapses_by_source(cols, n_pre);
    if syn.is_empty() {
        syn.push(0);
    }
    (ptr, syn)
}

/// The composed shader of Brian2's STDP example's synapses (configs/equations/stdp.toml, two
/// inputs), for the tests of what is generated.
#[cfg(test)]
pub(crate) fn stdp_example_shader() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/equations/stdp.toml");
    let config = crate::config::load(&path, &["populations.poisson_input.size=2".into()]).unwrap();
    let net = Network::build(&config).unwrap();
    let p = &net.projections[0];
    let SynapseModel::Equations(program) = &p.synapse else { panic!("written as equations") };
    let post = net.populations[p.target].model.kind().equations().unwrap();
    let slots = p.equation.as_ref().unwrap().arrival_slots(program);
    crate::shaders::compose_text(&program.wgsl(post, false, slots)).unwrap()
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_sources_synapses_are_listed_in_csr_order() {
        let (ptr, syn) = super::by_source(&[2, 0, 2, 1, 0], 4);
        assert_eq!(ptr, [0, 2, 3, 5, 5]);
        assert_eq!(syn, [1, 4, 3, 0, 2]);
        // A part without synapses keeps one entry (a binding is never empty).
        assert_eq!(super::by_source(&[], 2), (vec![0, 0, 0], vec![0]));
    }
}
