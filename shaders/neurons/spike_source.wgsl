// requires: common/neuron_common common/instances
// Spikes given in advance: the WGSL twin of src/model/spike_source.rs. The population's model
// data is each neuron's row of spike steps (CSR): row pointers (n + 1), then the steps. The
// one variable is the position of the neuron's next spike in its row.

struct Params {
    period_steps: u32,    // 0: no repetition
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const NEXT: u32 = 0u;

@compute @workgroup_size(256)
fn update_neurons(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = neuron_index(gid, groups);
    if (i >= population.n) {
        return;
    }
    // A batch's instances share one schedule (the sweep merges only alike ones): rows by the
    // neuron's index within its instance.
    let own = enter_instance(i);
    var local = step_info.step_lo;
    var next = u32(state_at(NEXT, i));
    if (p.period_steps > 0u) {
        local = ring_slot(step_info, 0u, p.period_steps);
        if (local == 0u) {
            next = 0u;
        }
    }
    let start = model_data[own];
    let end = model_data[own + 1u];
    let steps = population.instance_size + 1u;
    var fired = false;
    if (start + next < end && model_data[steps + start + next] == local) {
        next = next + 1u;
        fired = true;
    }
    set_state(NEXT, i, f32(next));
    // The spike ring the synapses written as equations read (one slot without them).
    set_spiked(ring_slot(step_info, 0u, population.spike_slots), i, select(0u, 1u, fired));
    if (fired && population.record_spikes != 0u) {
        let at = atomicAdd(&spikes[0], 1u);
        let capacity = (arrayLength(&spikes) - 1u) / population.spike_words;
        if (at < capacity) {
            atomicStore(&spikes[1u + population.spike_words * at], (population.index << 24u) | step_info.step_in_chunk);
            atomicStore(&spikes[2u + population.spike_words * at], i);
        }
    }
}
