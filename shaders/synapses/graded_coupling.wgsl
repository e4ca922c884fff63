// requires: synapses/graded_synapse synapses/graded_arrays
// The graded synapse's input to each target neuron: the WGSL twin of the graded branch of
// CpuBackend::gather_synaptic_input and graded::conductance.
//   couple:       one thread per target row of the CSR matrix, summed in column order, as on
//                 the CPU;
//   couple_lanes: LANES threads per row (simulation.gpu_coupling = "lanes_per_row"), with
//                 graded_synapse.wgsl's `sum_lanes`.
// Prepended with graded_synapse.wgsl.

@group(0) @binding(0) var<uniform> coupling: CouplingParams;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> col_idx: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
// The source's S and the target's input words at 4, 5 and 6: synapses/graded_arrays.wgsl.

fn add_input(i: u32, sum_es: f32) {
    let g = conductance(coupling.w, sum_es);
    var sums = vec2<f32>(0.0, 0.0);
    if (coupling.accumulate != 0u) {
        sums = input_sums(i);
    }
    set_input_sums(i, sums.x + g, sums.y + g * coupling.v_rev);
}

@compute @workgroup_size(256)
fn couple(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = gid.x + gid.y * groups.x * 256u;
    if (t >= thread_rows()) {
        return;
    }
    let at = row_at(t);
    let sum_es = row_sum(at, coupling.activation * coupling.n_source);
    add_input(at.neuron, sum_es);
}

@compute @workgroup_size(256)
fn couple_lanes(
    @builtin(local_invocation_index) local: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let first_row = first_lane_row(group, groups);
    sum_lanes(first_row, coupling.activation * coupling.n_source, local);
    let t = first_row + local;
    if (local < ROWS_PER_GROUP && t < thread_rows()) {
        add_input(row_at(t).neuron, lanes_total(local));
    }
}
