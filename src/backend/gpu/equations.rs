//! Synapses written as equations on the GPU: per projection, its generated shader's
//! `sum_synapses` (before the populations' updates) and `step_synapses` (clock-driven
//! equations, `on_pre`, `on_post`: after them, before the resets), one thread per post-synaptic neuron walking its synapses in CSR order, as the
//! CPU does (backend/cpu/equations.rs): deterministic, no atomics.

use super::context::{dispatch_size, GpuContext};
use super::kernels::{Kernel, Slot, SynapseInfoGpu};
use super::Shared;
use crate::config::SynapseModel;
use crate::error::Result;
use crate::network::Network;

/// info, step, row_ptr, col_idx, delays, synaptic state, pre state, post state, pre spikes,
/// post spikes.
const SYNAPSE_SLOTS: [Slot; 10] = [
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
}

/// Per projection written as equations (config order): its summation and its delivery,
/// where it has them.
pub struct EquationSynapses {
    pub sums: Vec<SynapsePass>,
    pub deliveries: Vec<SynapsePass>,
    /// Per projection written as equations: its index, its synapses' count and variables'
    /// count, and their buffer (variable k of synapse s at k·n_syn + s).
    pub states: Vec<(usize, usize, usize, wgpu::Buffer)>,
}

pub(crate) fn build(
    ctx: &GpuContext,
    shared: &Shared,
    net: &Network,
    states: &[&wgpu::Buffer],
    spiked: &[wgpu::Buffer],
) -> Result<EquationSynapses> {
    let mut out = EquationSynapses {
        sums: Vec::new(),
        deliveries: Vec::new(),
        states: Vec::new(),
    };
    for (index, p) in net.projections.iter().enumerate() {
        let (SynapseModel::Equations(program), Some(e)) = (&p.synapse, &p.equation) else {
            continue;
        };
        let post = net.populations[p.target].model.kind().equations().expect("validated");
        let same = p.source == p.target;
        let source = crate::shaders::compose_text(&program.wgsl(post, same))?;
        let n_syn = p.csr.col_idx.len();
        let info = SynapseInfoGpu {
            n_post: p.csr.n_rows as u32,
            n_pre: net.populations[p.source].size as u32,
            n_syn: n_syn as u32,
            pre_slots: net.spike_slots(p.source),
            uniform_delay: e.delays.first().copied().unwrap_or(0),
            per_synapse_delay: (e.delays.len() > 1) as u32,
            post_slots: net.spike_slots(p.target),
            pre_instance: net.instance_size(p.source) as u32,
            post_instance: net.instance_size(p.target) as u32,
            _pad: [0; 3],
        };
        let info_buf = ctx.uniform_buffer(&format!("{}.info", p.name), bytemuck::bytes_of(&info));
        let rows = ctx.storage_buffer(&format!("{}.row_ptr", p.name), bytemuck::cast_slice(&p.csr.row_ptr))?;
        let cols = ctx.storage_buffer(&format!("{}.col_idx", p.name), bytemuck::cast_slice(&p.csr.col_idx))?;
        let delays = ctx.storage_buffer(&format!("{}.delays", p.name), bytemuck::cast_slice(&e.delays))?;
        let mut syn_init: Vec<f32> = Vec::with_capacity(n_syn * e.state.len());
        for column in &e.state {
            syn_init.extend(column.iter().map(|&x| x as f32));
        }
        let syn_state = ctx.storage_buffer(&format!("{}.synapses", p.name), bytemuck::cast_slice(&syn_init))?;
        // One buffer cannot be bound twice: within a population the shader reads the
        // pre-synaptic variables from the post-synaptic binding, and this one stays unused.
        let unused = ctx.storage_buffer(&format!("{}.unused", p.name), &[0u8; 4])?;
        let pre_state = if same { &unused } else { states[p.source] };
        let resources = [
            info_buf.as_entire_binding(),
            shared.step_binding(),
            rows.as_entire_binding(),
            cols.as_entire_binding(),
            delays.as_entire_binding(),
            syn_state.as_entire_binding(),
            pre_state.as_entire_binding(),
            states[p.target].as_entire_binding(),
            spiked[p.source].as_entire_binding(),
            spiked[p.target].as_entire_binding(),
        ];
        let groups = dispatch_size(p.csr.n_rows as u32);
        let pass = |entry: &str| -> Result<SynapsePass> {
            let label = format!("{}.{entry}", p.name);
            let kernel = Kernel::from_source(ctx, &label, source.clone(), entry, &SYNAPSE_SLOTS, &[])?;
            let bind_group = kernel.bind(ctx, &label, &resources);
            Ok(SynapsePass {
                kernel,
                bind_group,
                groups,
            })
        };
        if !program.summed.is_empty() {
            out.sums.push(pass("sum_synapses")?);
        }
        if !(program.on_pre.is_empty() && program.on_post.is_empty() && program.clock.is_empty()) {
            out.deliveries.push(pass("step_synapses")?);
        }
        out.states.push((index, n_syn, e.state.len(), syn_state));
    }
    Ok(out)
}
