// requires: nothing
// A population's synaptic-input words and spike flags, read and written through these
// functions: one binding each, neuron i at i (spike flags: slot s of neuron i at s·n + i).
// Where one variable of the population does not fit a binding, src/backend/gpu/state_parts.rs
// composes its kernels with this module replaced by one over ranges of neurons (no model's
// code changes).

// I_syn(V) = syn_i0 − syn_g·V of the graded projections, gathered by the coupling kernels for
// this step (zero where none targets the population); with the delivery separate, the
// event-driven inputs added by `deliver_inputs`.
@group(0) @binding(3) var<storage, read_write> syn_g: array<f32>;
@group(0) @binding(4) var<storage, read_write> syn_i0: array<f32>;
// Bit 0: the neuron spiked in this step; bit 1 + e: custom event e of a model written as
// equations held (in each of `population.spike_slots` steps for the synapses written as
// equations, whose pathways read their event's bit): read by the synapses.
@group(0) @binding(7) var<storage, read_write> spiked: array<u32>;

fn graded_input(i: u32) -> SynInput {
    return SynInput(syn_g[i], syn_i0[i]);
}

fn set_graded_input(i: u32, syn: SynInput) {
    syn_g[i] = syn.g;
    syn_i0[i] = syn.i0;
}

fn spiked_at(slot: u32, i: u32) -> u32 {
    return spiked[slot * population.n + i];
}

fn set_spiked(slot: u32, i: u32, x: u32) {
    spiked[slot * population.n + i] = x;
}
