// requires: nothing
// The pre- and post-synaptic populations' states and spike flags as the kernels generated for
// synapses written as equations reach them (src/equations/synapse.rs): one binding each,
// variable k of neuron i at k·n + i, the flags of step slot s at s·n + i. Where a population's
// state is cut into parts of whole variables, or its arrays into ranges of neurons,
// src/backend/gpu/equations.rs composes the kernels with this module replaced by one over the
// parts (state_parts.rs). Within one population the pre-synaptic variables are the
// post-synaptic binding's (`SAME_POPULATION`, a constant of the generated shader).

@group(0) @binding(6) var<storage, read> pre_state: array<f32>;
@group(0) @binding(7) var<storage, read_write> post_state: array<f32>;

fn post_at(k: u32, ipost: u32) -> f32 {
    return post_state[k * info.n_post + ipost];
}

fn set_post(k: u32, ipost: u32, x: f32) {
    post_state[k * info.n_post + ipost] = x;
}

fn pre_load(k: u32, ipre: u32) -> f32 {
    if (SAME_POPULATION) {
        return post_at(k, ipre);
    }
    return pre_state[k * info.n_pre + ipre];
}

@group(0) @binding(8) var<storage, read> pre_spiked: array<u32>;
@group(0) @binding(9) var<storage, read> post_spiked: array<u32>;

fn pre_spiked_at(slot: u32, ipre: u32) -> u32 {
    return pre_spiked[slot * info.n_pre + ipre];
}

fn post_spiked_at(slot: u32, ipost: u32) -> u32 {
    return post_spiked[slot * info.n_post + ipost];
}
