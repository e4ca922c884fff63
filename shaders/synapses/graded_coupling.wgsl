// requires: synapses/graded_synapse
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
// The source population's state; S is its variable `coupling.activation`.
@group(0) @binding(4) var<storage, read> source_state: array<f32>;
@group(0) @binding(5) var<storage, read_write> syn_g: array<f32>;
@group(0) @binding(6) var<storage, read_write> syn_i0: array<f32>;

fn presynaptic_s(index: u32) -> f32 {
    return source_state[index];
}

fn add_input(i: u32, sum_es: f32) {
    let g = conductance(coupling.w, sum_es);
    var g_sum = 0.0;
    var i0_sum = 0.0;
    if (coupling.accumulate != 0u) {
        g_sum = syn_g[i];
        i0_sum = syn_i0[i];
    }
    syn_g[i] = g_sum + g;
    syn_i0[i] = i0_sum + g * coupling.v_rev;
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
