// requires: synapses/exp_synapse synapses/procedural synapses/event_arrivals synapses/source_spikes
// Prepended with step_info.wgsl and exp_synapse.wgsl. Mirrors CpuBackend::push_spikes: one
// thread per neuron of the source population, every projection leaving it in turn. A matrix
// larger than one binding comes in parts of whole rows, one dispatch per part: its threads
// span the part's sources, and each projection's entry names the rows it holds. A batch whose
// instances all have the same matrix stores one instance's rows (src/sweep/batch.rs): source
// src is then row src % instance_sources of instance src / instance_sources, whose targets
// lie instance_targets further along per instance. Instances drawing procedural rows of
// their own seeds (own_seeds) are walked alike, but keep their own row pointers, one
// instance's after another's, and their keys in event_cols (`row_key`).

// The source population's outgoing projections (their rows in this part).
@group(0) @binding(0) var<storage, read> outputs: EventList;
@group(0) @binding(2) var<storage, read> event_rows: array<u32>;
@group(0) @binding(3) var<storage, read> event_cols: array<u32>;
@group(0) @binding(4) var<storage, read> event_weights: array<i32>;
// The source's spike flags: synapses/source_spikes.wgsl (binding 5); the delay rings:
// synapses/event_arrivals.wgsl (binding 6).

// The key instance k's procedural rows of projection q are drawn with: the projection's seed,
// or where the instances draw rows of their own seeds, k's own, two words each in event_cols
// (which a procedural matrix does not otherwise use; src/backend/gpu/events.rs).
fn row_key(q: ExpParams, k: u32) -> vec2<u32> {
    if (q.own_seeds != 0u) {
        return vec2<u32>(event_cols[q.synapse_offset + 2u * k], event_cols[q.synapse_offset + 2u * k + 1u]);
    }
    return vec2<u32>(q.seed_lo, q.seed_hi);
}

@compute @workgroup_size(256)
fn propagate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let src = outputs.first_source + gid.x + gid.y * groups.x * 256u;
    // Bit 0, the spike: a source written as equations keeps its custom events in the others.
    if (src >= outputs.end_source || (source_spiked(src) & 1u) == 0u) {
        return;
    }
    for (var j = 0u; j < outputs.n; j++) {
        let q = outputs.projections[j];
        let instance = src / q.instance_sources;
        let own = src - instance * q.instance_sources;
        if (own < q.first_row || own >= q.end_row) {
            continue;
        }
        let slot = ring_slot(step_info, 1u + q.delay_steps, q.slots);
        let base = instance * q.instance_targets;
        var row = q.row_offset + (own - q.first_row);
        if (q.own_seeds != 0u) {
            row += instance * q.instance_sources;
        }
        let start = event_rows[row];
        let end = event_rows[row + 1u];
        var one = q.uniform_weight;
        if (q.weight_mode == WEIGHT_PER_INSTANCE) {
            one = event_weights[q.weight_offset + instance];
        }
        if (q.procedural != 0u) {
            // A drawn row: one weight, its targets from the source's permutation.
            // Keyed by the source within its instance, over one instance's targets.
            let key = row_key(q, instance);
            let perm = procedural_row(key, q.projection, q.instance_targets, q.skip_diagonal, own);
            let d = WeightDraw(q.draw, q.draw_low, q.draw_span, q.draw_a, q.draw_b);
            for (var j = 0u; j < end - start; j++) {
                var w = one;
                if (DRAWN_WEIGHTS && q.draw != 0u) {
                    // Drawn with its synapse, rounded half to even as procedural::to_fixed.
                    let drawn = drawn_weight(key, q.projection, own, j, d);
                    w = i32(round(drawn * q.draw_scale));
                }
                let at = ring_place(q, slot, base + procedural_source(perm, j));
                add_arrival(at.x, at.y, w);
            }
            continue;
        }
        for (var k = start; k < end; k++) {
            var w = one;
            if (q.weight_mode == WEIGHT_PER_SYNAPSE) {
                w = event_weights[q.weight_offset + k];
            }
            let at = ring_place(q, slot, base + event_cols[q.synapse_offset + k]);
            add_arrival(at.x, at.y, w);
        }
    }
}
