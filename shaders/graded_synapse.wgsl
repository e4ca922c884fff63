// What the graded synapse's kernels share: their parameters, src/model/graded.rs
// `conductance`, and the two ways to sum one row of the CSR matrix by target. A kernel that
// prepends this declares `coupling`, `row_ptr`, `col_idx`, `weights` and `presynaptic_s`.

struct CouplingParams {
    v_rev: f32,
    w: f32,
    uniform_weight: f32,
    per_synapse_weights: u32,
    n_rows: u32,
    n_source: u32,
    accumulate: u32,   // 0 for the first projection into a population, 1 after
    _pad0: u32,
}

fn conductance(w: f32, sum_es: f32) -> f32 {
    return sum_es / w;
}

fn weight(k: u32) -> f32 {
    if (coupling.per_synapse_weights != 0u) {
        return weights[k];
    }
    return coupling.uniform_weight;
}

// Σ_j E_ij S_j over row i, in column order as on the CPU; S_j is presynaptic_s(s_base + j).
// The weight branch sits outside the loops so that they stay tight.
fn row_sum(i: u32, s_base: u32) -> f32 {
    let start = row_ptr[i];
    let end = row_ptr[i + 1u];
    var sum_es = 0.0;
    if (coupling.per_synapse_weights != 0u) {
        for (var k = start; k < end; k++) {
            sum_es = sum_es + weights[k] * presynaptic_s(s_base + col_idx[k]);
        }
    } else {
        for (var k = start; k < end; k++) {
            sum_es = sum_es + coupling.uniform_weight * presynaptic_s(s_base + col_idx[k]);
        }
    }
    return sum_es;
}

// The other way: LANES threads per row, ROWS_PER_GROUP rows per workgroup of 256. Each lane
// sums every LANES-th synapse of the row (neighbouring lanes read neighbouring columns: CSR's
// "vector" kernel), then the partial sums are reduced pairwise in workgroup memory. The
// summation order differs from the CPU's.
const LANES: u32 = 32u;
const ROWS_PER_GROUP: u32 = 8u;
var<workgroup> partial: array<f32, 256>;

fn lane_row(local: u32, group: vec3<u32>, groups: vec3<u32>) -> u32 {
    return (group.x + group.y * groups.x) * ROWS_PER_GROUP + local / LANES;
}

// Σ_j E_ij S_j for the row of `local`'s lane group, valid in its lane 0. Every thread of the
// workgroup must call it (it holds barriers); `in_range` is false past the last row.
fn row_sum_lanes(i: u32, s_base: u32, local: u32, in_range: bool) -> f32 {
    let lane = local % LANES;
    var sum_es = 0.0;
    if (in_range) {
        let end = row_ptr[i + 1u];
        for (var k = row_ptr[i] + lane; k < end; k += LANES) {
            sum_es = sum_es + weight(k) * presynaptic_s(s_base + col_idx[k]);
        }
    }
    partial[local] = sum_es;
    workgroupBarrier();
    for (var stride = LANES / 2u; stride > 0u; stride = stride / 2u) {
        if (lane < stride) {
            partial[local] = partial[local] + partial[local + stride];
        }
        workgroupBarrier();
    }
    return partial[local];
}
