// Prepended with exp_synapse.wgsl. Mirrors exp_synapse::deliver.

@group(0) @binding(2) var<storage, read_write> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> pending: array<i32>;
@group(0) @binding(4) var<storage, read_write> syn_g: array<f32>;
@group(0) @binding(5) var<storage, read_write> syn_i0: array<f32>;

@compute @workgroup_size(256)
fn deliver(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= p.n_target) {
        return;
    }
    let at = ring_slot(step_info, 0u, p.slots) * p.n_target + i;
    let arrived = pending[at];
    pending[at] = 0;
    var g_sum = 0.0;
    var i0_sum = 0.0;
    if (p.accumulate != 0u) {
        g_sum = syn_g[i];
        i0_sum = syn_i0[i];
    }
    let g_now = g[i] + f32(arrived) * p.inv_scale;
    if (p.kind == KIND_CONDUCTANCE) {
        g_sum = g_sum + g_now;
        i0_sum = i0_sum + g_now * p.e_rev;
    } else {
        i0_sum = i0_sum + g_now;
    }
    g[i] = g_now * p.decay;
    syn_g[i] = g_sum;
    syn_i0[i] = i0_sum;
}
