// requires: common/philox common/step_info synapses/exp_synapse common/state common/neuron_arrays synapses/event_inputs
// What every neuron kernel shares (after step_info.wgsl and exp_synapse.wgsl): the per-step
// slot, the delivery of event-driven synapses, spike output and divergence flags (the state is
// common/state.wgsl's, the synaptic-input words and spike flags common/neuron_arrays.wgsl's). Prepended (after philox.wgsl) to each model's shader, which
// declares its own `Params` (read through common/instances.wgsl).

// What every model's update needs to know of its population besides the model's own
// `Params`: PopulationInfo in src/backend/gpu/kernels.rs.
struct PopulationInfo {
    dt: f32,
    n: u32,
    index: u32,           // the population's place in the network (spike records, noise)
    record_spikes: u32,
    seed_lo: u32,
    seed_hi: u32,
    spike_slots: u32,     // steps of spike history kept in `spiked` (equation-defined models)
    instance_size: u32,   // neurons per instance of a sweep run as one population (else n)
    spike_words: u32,     // words per entry of `spikes`, the network's (2 where no values)
    record_events: u32,   // bit e: custom event e is recorded
    event_index: u32,     // the spike-buffer index of its first recorded event
    event_values: u32,    // bit e: custom event e is recorded with the model's values
}

@group(0) @binding(11) var<uniform> population: PopulationInfo;

// spikes[0] is the count; then entries of population.spike_words words: (population << 24 |
// step_in_chunk, neuron), then, for a population recording values with its spikes
// (record_spikes 2), its model's first variables (src/backend/gpu/sizing.rs spike_words).
@group(0) @binding(5) var<storage, read_write> spikes: array<atomic<u32>>;
// Per population: first step in the chunk with a non-finite V, lowest such neuron.
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;
// The event-driven projections into this population (the network's shared g and ring
// buffers are synapses/event_inputs.wgsl's; see exp_synapse.wgsl).
@group(0) @binding(8) var<storage, read> inputs: EventList;
// What a model reads beside its state (a spike source's schedule; one word for most).
@group(0) @binding(12) var<storage, read> model_data: array<u32>;

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

// false where `deliver_inputs` ran before the update (simulation.gpu_event_delivery).
override DELIVER_IN_UPDATE: bool = true;

// The graded inputs, then each event-driven projection's in config order (the CPU's order).
fn gathered_input(i: u32) -> SynInput {
    if (!DELIVER_IN_UPDATE) {
        return graded_input(i);
    }
    return deliver_events(i, graded_input(i));
}

// The delivery as a dispatch of its own, before the update: the same sum as gathered_input's,
// left in the input words for the update to read. Where no graded projection wrote them
// this step, it starts from zero.
@compute @workgroup_size(256)
fn deliver_inputs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = neuron_index(gid, groups);
    if (i >= population.n) {
        return;
    }
    var graded = SynInput(0.0, 0.0);
    if (inputs.graded_inputs != 0u) {
        graded = graded_input(i);
    }
    set_graded_input(i, deliver_events(i, graded));
}

// exp_synapse::deliver for every event-driven projection into this population: the step's
// arrivals join g, g drives the input, then decays over the step.
fn deliver_events(i: u32, graded: SynInput) -> SynInput {
    var syn = graded;
    for (var j = 0u; j < inputs.n; j++) {
        let q = inputs.projections[j];
        let ring = ring_place(q, ring_slot(step_info, 0u, q.slots), i);
        let arrived = take_arrivals(ring.x, ring.y);
        let g_at = g_place(q, i);
        let g_now = event_g_at(g_at.x, g_at.y) + f32(arrived) * q.inv_scale;
        if (q.kind == KIND_CONDUCTANCE) {
            syn.g = syn.g + g_now;
            syn.i0 = syn.i0 + g_now * q.e_rev;
        } else {
            syn.i0 = syn.i0 + g_now;
        }
        set_event_g(g_at.x, g_at.y, g_now * q.decay);
    }
    return syn;
}

fn current(syn: SynInput, v: f32) -> f32 {
    return syn.i0 - syn.g * v;
}

fn emit_spike(pop_index: u32, record: u32, i: u32, fired: bool) {
    set_spiked(0u, i, select(0u, 1u, fired));
    if (fired && record != 0u) {
        let slot = atomicAdd(&spikes[0], 1u);
        let capacity = (arrayLength(&spikes) - 1u) / population.spike_words;
        if (slot < capacity) {
            atomicStore(&spikes[1u + population.spike_words * slot], (pop_index << 24u) | step_info.step_in_chunk);
            atomicStore(&spikes[2u + population.spike_words * slot], i);
        }
    }
}

fn check_finite(pop_index: u32, i: u32, v: f32) {
    // NaN fails every comparison; ±Inf exceeds the largest finite f32.
    if (!(abs(v) <= 3.4028235e38)) {
        atomicMin(&status[2u * pop_index], step_info.step_in_chunk);
        atomicMin(&status[2u * pop_index + 1u], i);
    }
}
