// requires: nothing
// The pre- and post-synaptic populations' states as the kernels generated for synapses
// written as equations reach them (src/equations/synapse.rs): one binding each, variable k of
// neuron i at k·n + i. Where a population's state is cut into parts of whole variables,
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
