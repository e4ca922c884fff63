// requires: nothing
// A population's state, read and written through `state_at` and `set_state`: variable k of
// neuron i at state[k * n + i] (structure of arrays in one buffer). Where the variables do not
// fit one binding, src/backend/gpu/state_parts.rs composes the update with this module
// replaced by one that keeps whole variables in several bindings (no model's code changes).

@group(0) @binding(2) var<storage, read_write> state: array<f32>;

fn state_at(k: u32, i: u32) -> f32 {
    return state[k * population.n + i];
}

fn set_state(k: u32, i: u32, x: f32) {
    state[k * population.n + i] = x;
}
