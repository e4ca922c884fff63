// requires: nothing
// What a graded coupling reads and writes of its populations: S of its source, and the input
// words of its target, each in one binding (S is the source state's variable
// `coupling.activation`). Where one variable of either population does not fit a binding,
// src/backend/gpu/state_parts.rs composes the coupling with this module replaced by one over
// ranges of neurons, S bound alone (no kernel's code changes).

@group(0) @binding(4) var<storage, read> source_state: array<f32>;
@group(0) @binding(5) var<storage, read_write> syn_g: array<f32>;
@group(0) @binding(6) var<storage, read_write> syn_i0: array<f32>;

fn presynaptic_s(index: u32) -> f32 {
    return source_state[index];
}

// The target's (g, i0) so far this step.
fn input_sums(i: u32) -> vec2<f32> {
    return vec2<f32>(syn_g[i], syn_i0[i]);
}

fn set_input_sums(i: u32, g: f32, i0: f32) {
    syn_g[i] = g;
    syn_i0[i] = i0;
}
