// What the graded synapse's kernels share: their parameters, src/model/graded.rs
// `conductance`, and the sum over one row of the CSR matrix by target. A kernel that prepends
// this declares `coupling`, `row_ptr`, `col_idx`, `weights` and `presynaptic_s`.

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
