// The graded synapse's current into each target neuron: the WGSL twin of
// CpuBackend::compute_coupling and graded::current. One thread per target row of the CSR
// matrix; the row is summed in column order, as on the CPU.

struct CouplingParams {
    v_rev: f32,
    w: f32,
    uniform_weight: f32,
    per_synapse_weights: u32,
    n_rows: u32,
    accumulate: u32,   // 0 for the first projection into a population, 1 after
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: CouplingParams;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> col_idx: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> s_source: array<f32>;
@group(0) @binding(5) var<storage, read> v_target: array<f32>;
@group(0) @binding(6) var<storage, read_write> i_syn: array<f32>;

fn current(v_rev: f32, w: f32, v: f32, sum_es: f32) -> f32 {
    return (v_rev - v) / w * sum_es;
}

@compute @workgroup_size(256)
fn couple(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= p.n_rows) {
        return;
    }
    let start = row_ptr[i];
    let end = row_ptr[i + 1u];
    var sum_es = 0.0;
    if (p.per_synapse_weights != 0u) {
        for (var k = start; k < end; k++) {
            sum_es = sum_es + weights[k] * s_source[col_idx[k]];
        }
    } else {
        for (var k = start; k < end; k++) {
            sum_es = sum_es + p.uniform_weight * s_source[col_idx[k]];
        }
    }
    var total = 0.0;
    if (p.accumulate != 0u) {
        total = i_syn[i];
    }
    i_syn[i] = total + current(p.v_rev, p.w, v_target[i], sum_es);
}
