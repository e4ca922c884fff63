// Prepended with exp_synapse.wgsl. Mirrors CpuBackend::push_spikes.

@group(0) @binding(2) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(3) var<storage, read> col_idx: array<u32>;
@group(0) @binding(4) var<storage, read> fixed_weights: array<i32>;
@group(0) @binding(5) var<storage, read> spiked: array<u32>;
@group(0) @binding(6) var<storage, read_write> pending: array<atomic<i32>>;

@compute @workgroup_size(256)
fn propagate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let src = gid.x + gid.y * groups.x * 256u;
    if (src >= p.n_source || spiked[src] == 0u) {
        return;
    }
    let base = ring_slot(step_info, 1u + p.delay_steps, p.slots) * p.n_target;
    let start = row_ptr[src];
    let end = row_ptr[src + 1u];
    for (var k = start; k < end; k++) {
        var w = p.uniform_weight;
        if (p.per_synapse_weights != 0u) {
            w = fixed_weights[k];
        }
        atomicAdd(&pending[base + col_idx[k]], w);
    }
}
