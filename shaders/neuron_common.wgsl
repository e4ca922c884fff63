// What every neuron kernel shares (after step_info.wgsl): the per-step slot, the state and synaptic-input buffers,
// spike output and divergence flags. Prepended (after philox.wgsl) to each model's shader,
// which declares its own `Params` at binding 0.

// Variable k of neuron i at state[k * n + i] (structure of arrays in one buffer).
@group(0) @binding(2) var<storage, read_write> state: array<f32>;
// I_syn(V) = syn_i0 − syn_g·V, gathered by the synapse kernels for this step.
@group(0) @binding(3) var<storage, read> syn_g: array<f32>;
@group(0) @binding(4) var<storage, read> syn_i0: array<f32>;
// spikes[0] is the count; then pairs (population << 24 | step_in_chunk, neuron).
@group(0) @binding(5) var<storage, read_write> spikes: array<atomic<u32>>;
// Per population: first step in the chunk with a non-finite V, lowest such neuron.
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;
// 1 where the neuron spiked in this step: read by the event-driven synapses.
@group(0) @binding(7) var<storage, read_write> spiked: array<u32>;

// Below |x| = 0.1 the series; see exprel_inv in src/model/rates.rs (f32 cut-off).
const SERIES_CUTOFF: f32 = 0.1;

fn exprel_inv(x: f32) -> f32 {
    if (abs(x) < SERIES_CUTOFF) {
        let x2 = x * x;
        return 1.0 + x * 0.5 + x2 * (1.0 / 12.0) - x2 * x2 * (1.0 / 720.0);
    }
    return x / (1.0 - exp(-x));
}

fn neuron_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// One neuron's synaptic input for one step: SynInput in src/model/mod.rs.
struct SynInput {
    g: f32,
    i0: f32,
}

fn gathered_input(i: u32) -> SynInput {
    return SynInput(syn_g[i], syn_i0[i]);
}

fn current(syn: SynInput, v: f32) -> f32 {
    return syn.i0 - syn.g * v;
}

fn emit_spike(population: u32, record: u32, i: u32, fired: bool) {
    spiked[i] = select(0u, 1u, fired);
    if (fired && record != 0u) {
        let slot = atomicAdd(&spikes[0], 1u);
        let capacity = (arrayLength(&spikes) - 1u) / 2u;
        if (slot < capacity) {
            atomicStore(&spikes[1u + 2u * slot], (population << 24u) | step_info.step_in_chunk);
            atomicStore(&spikes[2u + 2u * slot], i);
        }
    }
}

fn check_finite(population: u32, i: u32, v: f32) {
    // NaN fails every comparison; ±Inf exceeds the largest finite f32.
    if (!(abs(v) <= 3.4028235e38)) {
        atomicMin(&status[2u * population], step_info.step_in_chunk);
        atomicMin(&status[2u * population + 1u], i);
    }
}
