// requires: neurons/hh synapses/graded_synapse
// An HH population whose only synaptic input is its own graded projection, in one dispatch per
// step instead of two: each thread sums its CSR row with graded_synapse.wgsl's `row_sum`, as
// graded_coupling.wgsl's `couple` does, then steps its neuron with hh.wgsl's `step`.
// Dispatches cost more than this network's arithmetic at 10k neurons, so halving them is what
// the small networks need.
//
// Rows read the S of step k of every neuron while other threads of the same dispatch write
// S of step k+1: S is double-buffered in state blocks 4 and 5, which swap on odd steps.
// Appended to hh.wgsl (after philox, step_info, neuron_common and graded_synapse).

@group(0) @binding(13) var<uniform> coupling: CouplingParams;
@group(0) @binding(14) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(15) var<storage, read> col_idx: array<u32>;
@group(0) @binding(16) var<storage, read> weights: array<f32>;

const S_ALT: u32 = 5u;

fn presynaptic_s(index: u32) -> f32 {
    return state[index];
}

// A matrix larger than one binding comes in parts of whole rows, one dispatch each: a
// dispatch steps its part's rows, the neurons `row_at` names (`coupling.first_row` + row
// when the matrix is not shared by a batch's instances).
@compute @workgroup_size(256)
fn update_coupled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = neuron_index(gid, groups);
    if (t >= thread_rows()) {
        return;
    }
    let odd = (step_info.step_lo & 1u) == 1u;
    let s_now = select(S, S_ALT, odd);
    let s_next = select(S_ALT, S, odd);

    let at = row_at(t);
    let sum_es = row_sum(at, s_now * population.n);
    let g = conductance(coupling.w, sum_es);
    step(at.neuron, SynInput(g, g * coupling.v_rev), s_now, s_next);
}

// The same with LANES threads summing each row (graded_synapse.wgsl's `sum_lanes`), then the
// first ROWS_PER_GROUP threads stepping one neuron each (simulation.gpu_coupling =
// "fused_lanes").
@compute @workgroup_size(256)
fn update_coupled_lanes(
    @builtin(local_invocation_index) local: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let odd = (step_info.step_lo & 1u) == 1u;
    let s_now = select(S, S_ALT, odd);
    let s_next = select(S_ALT, S, odd);

    let first_row = first_lane_row(group, groups);
    sum_lanes(first_row, s_now * population.n, local);
    let t = first_row + local;
    if (local < ROWS_PER_GROUP && t < thread_rows()) {
        let g = conductance(coupling.w, lanes_total(local));
        step(row_at(t).neuron, SynInput(g, g * coupling.v_rev), s_now, s_next);
    }
}
