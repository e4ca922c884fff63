// requires: synapses/graded_coupling
// The graded coupling by column blocks (simulation.gpu_coupling = "blocked"), in two passes.
//   couple_blocked: a workgroup owns BLOCK_SLOTS · BLOCK_THREADS target rows and one of
//     `blocked_parts` consecutive runs of column blocks. It copies S into workgroup memory one
//     block of BLOCK_COLS source neurons at a time, each thread adds the synapses of its own rows
//     in that block, and the row sums over the run go to `partial_sums`.
//   finish_blocked: one thread per row adds its parts in order and stores the input.
// The layout and why: src/backend/gpu/blocked.rs. Within a part, a row's sum runs in column
// order, as the CPU's and `couple`'s.
//
// Prepended with graded_synapse.wgsl and graded_coupling.wgsl; the host binds the blocked
// layout's segment pointers in row_ptr's place and its entries in col_idx's. A matrix cut into
// parts (of whole rows, to fit bindings) gets a blocked layout per part.

@group(0) @binding(7) var<storage, read_write> partial_sums: array<f32>;

const BLOCK_THREADS: u32 = 256u;
// Set by the host from the adapter's workgroup memory (BlockGeometry).
override BLOCK_SLOTS: u32 = 8u;
override BLOCK_COLS: u32 = 2048u;
const SLOT_SHIFT: u32 = 16u;
const COL_MASK: u32 = 0xffffu;

// Row slot·BLOCK_THREADS + t of the group is thread t's: consecutive threads, distinct banks.
var<workgroup> block_sums: array<f32, BLOCK_SLOTS * BLOCK_THREADS>;
var<workgroup> block_s: array<f32, BLOCK_COLS>;

fn add_entry(entry: u32, k: u32, local: u32) {
    let r = (entry >> SLOT_SHIFT) * BLOCK_THREADS + local;
    block_sums[r] = block_sums[r] + weight(k, coupling.uniform_weight) * block_s[entry & COL_MASK];
}

// Thread `local`'s synapses in the block, in their order; the loads of UNROLL entries are
// issued before their sums (graded_synapse.wgsl), so that a thread keeps several in flight.
fn add_segment(segment: u32, local: u32) {
    let end = row_ptr[segment + 1u];
    var k = row_ptr[segment];
    while (k + UNROLL <= end) {
        var entries: array<u32, UNROLL>;
        for (var u = 0u; u < UNROLL; u++) {
            entries[u] = col_idx[k + u];
        }
        for (var u = 0u; u < UNROLL; u++) {
            add_entry(entries[u], k + u, local);
        }
        k += UNROLL;
    }
    for (; k < end; k++) {
        add_entry(col_idx[k], k, local);
    }
}

@compute @workgroup_size(256)
fn couple_blocked(
    @builtin(local_invocation_index) local: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let n_parts = coupling.blocked_parts;
    let w = group.x + group.y * groups.x;
    let g = w / n_parts;
    let part = w % n_parts;
    // Past the last group where the dispatch folds into two dimensions; uniform in the group.
    if (g * BLOCK_SLOTS * BLOCK_THREADS >= coupling.n_rows) {
        return;
    }
    let s_base = coupling.activation * coupling.n_source;
    let n_blocks = (coupling.n_source + BLOCK_COLS - 1u) / BLOCK_COLS;
    for (var slot = 0u; slot < BLOCK_SLOTS; slot++) {
        block_sums[slot * BLOCK_THREADS + local] = 0.0;
    }
    let end_block = (part + 1u) * n_blocks / n_parts;
    for (var b = part * n_blocks / n_parts; b < end_block; b++) {
        let first_col = b * BLOCK_COLS;
        let cols = min(BLOCK_COLS, coupling.n_source - first_col);
        for (var c = local; c < cols; c += BLOCK_THREADS) {
            block_s[c] = presynaptic_s(s_base + first_col + c);
        }
        workgroupBarrier();
        add_segment((g * n_blocks + b) * BLOCK_THREADS + local, local);
        // The next block overwrites block_s.
        workgroupBarrier();
    }
    for (var slot = 0u; slot < BLOCK_SLOTS; slot++) {
        let i = g * BLOCK_SLOTS * BLOCK_THREADS + slot * BLOCK_THREADS + local;
        if (i < coupling.n_rows) {
            partial_sums[part * coupling.n_rows + i] = block_sums[slot * BLOCK_THREADS + local];
        }
    }
}

@compute @workgroup_size(256)
fn finish_blocked(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= coupling.n_rows) {
        return;
    }
    var sum_es = 0.0;
    for (var part = 0u; part < coupling.blocked_parts; part++) {
        sum_es = sum_es + partial_sums[part * coupling.n_rows + i];
    }
    add_input(coupling.first_row + i, sum_es);
}
