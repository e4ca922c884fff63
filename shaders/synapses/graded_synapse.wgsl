// requires: synapses/procedural synapses/weights
// What the graded synapse's kernels share: their parameters, src/model/graded.rs
// `conductance`, and the two ways to sum one row of the CSR matrix by target. A matrix
// larger than one binding comes in parts of whole rows (src/backend/gpu/split.rs), each with
// its own row_ptr (rebased), col_idx and weights: rows are indexed within the part, targets
// at `first_row` + row. A kernel that
// prepends this declares `coupling`, `row_ptr`, `col_idx`, `weights` and `presynaptic_s`.

struct CouplingParams {
    v_rev: f32,
    w: f32,
    uniform_weight: f32,
    weight_mode: u32,  // WEIGHT_*: the one weight, per synapse in `weights`, or per instance
    n_rows: u32,       // rows of this part (of the whole matrix, unsplit)
    n_source: u32,
    accumulate: u32,   // 0 for the first projection into a population, 1 after
    blocked_parts: u32, // graded_blocked.wgsl: workgroups sharing each row group's columns
    activation: u32,   // the source's state variable summed (its S)
    first_row: u32,    // the part's first row (target neuron) in the whole matrix
    procedural: u32,   // 1: col_idx is empty, rows are drawn (procedural.wgsl)
    skip_diagonal: u32, // procedural rows without autapses
    seed_lo: u32,      // procedural rows' key: the seed and the projection's index
    seed_hi: u32,
    projection: u32,
    instances: u32,    // a batch's instances sharing this one stored matrix (1: its own)
    instance_rows: u32, // one instance's targets and sources
    instance_cols: u32,
    draw: u32,         // DRAW_*: procedural rows' weights drawn per synapse (0: uniform_weight)
    draw_low: i32,
    draw_span: u32,
    draw_a: f32,
    draw_b: f32,
    own_seeds: u32,    // 1: the instances draw rows of their own seeds (`row_key`)
}

// Where thread row t works. A batch whose instances all have the same matrix stores it once
// (src/sweep/batch.rs): the part's n_rows rows then serve every instance, thread row t being
// row t % n_rows of instance t / n_rows, whose sources lie instance_cols and whose target
// instance_rows further along per instance. Instances drawing procedural rows of their own
// seeds (own_seeds) are dispatched alike, but keep their own row pointers, one instance's
// after another's. With one instance, t is the row itself.
struct RowAt {
    row: u32,          // in the part's row_ptr
    local: u32,        // the row within its instance's part (what a procedural row is keyed by)
    source_base: u32,  // added to the columns
    neuron: u32,       // the target neuron
    instance: u32,
}

fn thread_rows() -> u32 {
    return coupling.instances * coupling.n_rows;
}

fn row_at(t: u32) -> RowAt {
    // A run of its own divides nothing (a division per row costs a large network's update
    // several per cent where integer division is slow).
    if (coupling.instances == 1u) {
        return RowAt(t, t, 0u, coupling.first_row + t, 0u);
    }
    let k = t / max(coupling.n_rows, 1u);
    let row = t - k * coupling.n_rows;
    let stored = select(row, t, coupling.own_seeds != 0u);
    return RowAt(stored, row, k * coupling.instance_cols, k * coupling.instance_rows + coupling.first_row + row, k);
}

// The weight of every synapse of a row, where they have one: the projection's, or the
// row's instance's where a batch's instances share the connections but not the weight.
fn row_weight(at: RowAt) -> f32 {
    if (coupling.weight_mode == WEIGHT_PER_INSTANCE) {
        return weights[at.instance];
    }
    return coupling.uniform_weight;
}

// The key instance k's procedural rows are drawn with: the projection's seed, or where the
// instances draw rows of their own seeds, k's own, two words each in col_idx (which a
// procedural matrix does not otherwise use; src/backend/gpu/graded.rs `instance_keys`).
fn row_key(k: u32) -> vec2<u32> {
    if (coupling.own_seeds != 0u) {
        return vec2<u32>(col_idx[2u * k], col_idx[2u * k + 1u]);
    }
    return vec2<u32>(coupling.seed_lo, coupling.seed_hi);
}

// The permutation of the procedural row `at` names, keyed by its row in the whole matrix (a
// matrix whose row pointers exceed a binding is cut into parts of whole rows), over one
// instance's sources.
fn row_permutation(at: RowAt) -> RowPermutation {
    return procedural_row(
        row_key(at.instance),
        coupling.projection,
        coupling.instance_cols,
        coupling.skip_diagonal,
        coupling.first_row + at.local,
    );
}

// The weight of position j of the procedural row `at` names: drawn with it, or the row's
// one weight `one` (`row_weight`, read once per row).
fn procedural_weight(at: RowAt, j: u32, one: f32) -> f32 {
    if (!DRAWN_WEIGHTS || coupling.draw == 0u) {
        return one;
    }
    let d = WeightDraw(coupling.draw, coupling.draw_low, coupling.draw_span, coupling.draw_a, coupling.draw_b);
    return drawn_weight(row_key(at.instance), coupling.projection, coupling.first_row + at.local, j, d);
}

fn conductance(w: f32, sum_es: f32) -> f32 {
    return sum_es / w;
}

// Synapse k's weight: its own, or `one` (the row's).
fn weight(k: u32, one: f32) -> f32 {
    if (coupling.weight_mode == WEIGHT_PER_SYNAPSE) {
        return weights[k];
    }
    return one;
}

// Σ_j E_ij S_j over the row `at` names, in column order as on the CPU; S_j is
// presynaptic_s(s_base + its instance's offset + j). The weight branch sits outside the loops
// so that they stay tight. A procedural row is summed in the order its sources are drawn, as
// the CPU sums its drawn rows.
fn row_sum(at: RowAt, s_base_all: u32) -> f32 {
    let i = at.row;
    let s_base = s_base_all + at.source_base;
    let start = row_ptr[i];
    let end = row_ptr[i + 1u];
    var sum_es = 0.0;
    if (coupling.procedural != 0u) {
        let perm = row_permutation(at);
        let one = row_weight(at);
        for (var j = 0u; j < end - start; j++) {
            sum_es = sum_es + procedural_weight(at, j, one) * presynaptic_s(s_base + procedural_source(perm, j));
        }
    } else if (coupling.weight_mode == WEIGHT_PER_SYNAPSE) {
        for (var k = start; k < end; k++) {
            sum_es = sum_es + weights[k] * presynaptic_s(s_base + col_idx[k]);
        }
    } else {
        let w = row_weight(at);
        for (var k = start; k < end; k++) {
            sum_es = sum_es + w * presynaptic_s(s_base + col_idx[k]);
        }
    }
    return sum_es;
}

// The other way: LANES threads per row, ROWS_PER_GROUP rows per workgroup of 256. Each lane
// sums every LANES-th synapse of its row (neighbouring lanes read neighbouring columns: CSR's
// "vector" kernel) into workgroup memory; after one barrier the first ROWS_PER_GROUP threads
// add up one row each, lane by lane, so that whatever follows (the coupling's store, or the
// fused kernel's neuron step) runs on whole warps of consecutive rows instead of one lane in
// LANES. The summation order differs from the CPU's.
const LANES: u32 = 16u;
const ROWS_PER_GROUP: u32 = 256u / LANES;
// The loads of UNROLL synapses are issued before their sums, so that a lane keeps several
// gathers in flight; the sum's order is the plain loop's.
const UNROLL: u32 = 4u;
// A padding slot per row puts the summing threads' reads on distinct banks.
const PARTIAL_STRIDE: u32 = LANES + 1u;
var<workgroup> partial: array<f32, ROWS_PER_GROUP * PARTIAL_STRIDE>;

fn first_lane_row(group: vec3<u32>, groups: vec3<u32>) -> u32 {
    return (group.x + group.y * groups.x) * ROWS_PER_GROUP;
}

// One lane's share of Σ_j E_ij S_j for thread row `first_row + local / LANES` (`row_at`),
// left in `partial`. Every thread of the workgroup must call it (it ends with a barrier).
fn sum_lanes(first_row: u32, s_base_all: u32, local: u32) {
    let row = local / LANES;
    let lane = local % LANES;
    let at = row_at(first_row + row);
    let i = at.row;
    let s_base = s_base_all + at.source_base;
    let inside = first_row + row < thread_rows();
    var sum_es = 0.0;
    if (inside && coupling.procedural != 0u) {
        let perm = row_permutation(at);
        let len = row_ptr[i + 1u] - row_ptr[i];
        let one = row_weight(at);
        for (var j = lane; j < len; j += LANES) {
            sum_es = sum_es + procedural_weight(at, j, one) * presynaptic_s(s_base + procedural_source(perm, j));
        }
    } else if (inside) {
        let one = row_weight(at);
        let end = row_ptr[i + 1u];
        var k = row_ptr[i] + lane;
        while (k + (UNROLL - 1u) * LANES < end) {
            var cols: array<u32, UNROLL>;
            for (var u = 0u; u < UNROLL; u++) {
                cols[u] = col_idx[k + u * LANES];
            }
            for (var u = 0u; u < UNROLL; u++) {
                sum_es = sum_es + weight(k + u * LANES, one) * presynaptic_s(s_base + cols[u]);
            }
            k += UNROLL * LANES;
        }
        for (; k < end; k += LANES) {
            sum_es = sum_es + weight(k, one) * presynaptic_s(s_base + col_idx[k]);
        }
    }
    partial[row * PARTIAL_STRIDE + lane] = sum_es;
    workgroupBarrier();
}

// Σ_j E_ij S_j of the workgroup's row `row` (< ROWS_PER_GROUP) after `sum_lanes`.
fn lanes_total(row: u32) -> f32 {
    var total = 0.0;
    for (var lane = 0u; lane < LANES; lane++) {
        total = total + partial[row * PARTIAL_STRIDE + lane];
    }
    return total;
}
