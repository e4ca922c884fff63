// Event-driven exponential synapses: the WGSL twin of src/model/exp_synapse.rs and the event
// branches of the CPU backend. Arrivals are summed in 32-bit fixed point (order-independent
// integer atomics: deterministic, and equal to the CPU's sums bit for bit).
// This file (after step_info.wgsl) holds what both kernels share; exp_deliver.wgsl and exp_propagate.wgsl follow it.
//   deliver:   one thread per target neuron: take the step's arrivals, add the synaptic
//              input, decay g.
//   propagate: one thread per source neuron: if it spiked this step, add its weights to
//              the ring slot `delay` steps ahead.

struct ExpParams {
    e_rev: f32,
    decay: f32,
    inv_scale: f32,
    uniform_weight: i32,
    kind: u32,          // 0 conductance, 1 current
    n_target: u32,
    n_source: u32,
    slots: u32,
    delay_steps: u32,
    per_synapse_weights: u32,
    accumulate: u32,
    _pad0: u32,
}

const KIND_CONDUCTANCE: u32 = 0u;

// (step + ahead) mod slots for the 64-bit step = hi·2³² + lo (slots < 65536, so no
// product overflows).
fn ring_slot(info: StepInfo, ahead: u32, slots: u32) -> u32 {
    let two_32_mod = (0xffffffffu % slots + 1u) % slots;
    let hi = (info.step_hi % slots) * two_32_mod % slots;
    return (hi + info.step_lo % slots + ahead % slots) % slots;
}

@group(0) @binding(0) var<uniform> p: ExpParams;

