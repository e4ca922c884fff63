// requires: common/step_info
// Gathers the recorded neurons' variables into the chunk's recording buffer at one sample
// row: layout [variable][sample][recorded neuron], as ChunkOutput's trace buffers. `state` is
// a population's state buffer, or the event-driven projections' g (one variable at `offset`).
// Prepended with step_info.wgsl.

struct RecordParams {
    n_recorded: u32,
    n_variables: u32,
    n_samples: u32,
    variables: u32,   // up to eight 4-bit variable indices into `state`
    n: u32,           // population size: variable k of neuron i is state[k * n + i]
    slots: u32,       // up to eight 4-bit slots: where each variable goes in `samples`
    offset: u32,      // where variable 0 starts in `state`
    _pad0: u32,
}

// A recorded index that another gather reads: a synaptic state cut into parts has a gather
// per part, each given the indices of its own synapses (src/backend/gpu/recording.rs).
const SKIP: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: RecordParams;
@group(0) @binding(2) var<storage, read> state: array<f32>;
@group(0) @binding(3) var<storage, read> neurons: array<u32>;
@group(0) @binding(4) var<storage, read_write> samples: array<f32>;

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = gid.x + gid.y * groups.x * 256u;
    if (j >= p.n_recorded) {
        return;
    }
    let i = neurons[j];
    if (i == SKIP) {
        return;
    }
    for (var k = 0u; k < p.n_variables; k++) {
        let var_index = (p.variables >> (4u * k)) & 0xfu;
        let slot = (p.slots >> (4u * k)) & 0xfu;
        samples[(slot * p.n_samples + step_info.row) * p.n_recorded + j] = state[p.offset + var_index * p.n + i];
    }
}
