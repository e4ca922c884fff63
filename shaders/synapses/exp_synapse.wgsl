// requires: common/step_info synapses/weights
// Event-driven exponential synapses: the WGSL twin of src/model/exp_synapse.rs and the event
// branches of the CPU backend. Arrivals are summed in 32-bit fixed point (order-independent
// integer atomics: deterministic, and equal to the CPU's sums bit for bit).
// All event-driven projections of a network share one set of buffers (g, delay rings, CSR by
// source), each projection at its offsets, so that one dispatch serves any number of them:
//   delivery:    in the target population's update (`deliver_events` in neuron_common.wgsl):
//                take the step's arrivals, add the synaptic input, decay g;
//   propagation: one dispatch per source population (exp_propagate.wgsl): each neuron that
//                spiked adds its weights to the ring slot `delay` steps ahead, for every
//                projection leaving the population.
// This file (after step_info.wgsl) holds what both share.

// A population's incoming (for delivery) or outgoing (for propagation) event-driven
// projections, in config order. Every thread reads the same entries, which a GPU serves from
// cache. (A uniform buffer made lavapipe six times slower: it indexes uniform arrays poorly.)
const MAX_EVENT_PROJECTIONS: u32 = 8u;

struct EventList {
    n: u32,
    first_source: u32,  // propagation: the sources its threads span
    end_source: u32,
    graded_inputs: u32, // delivery: 1 where graded projections also target the population
    projections: array<ExpParams, MAX_EVENT_PROJECTIONS>,
}

// One projection.
struct ExpParams {
    e_rev: f32,
    decay: f32,
    inv_scale: f32,
    uniform_weight: i32,
    kind: u32,          // 0 conductance, 1 current
    n_target: u32,
    n_source: u32,
    slots: u32,
    delay_steps: u32,
    weight_mode: u32,   // WEIGHT_*: the one weight, per synapse, or per instance
    g_offset: u32,      // into event_g (its part)
    ring_offset: u32,   // into the rings (its part)
    row_offset: u32,    // into event_rows (end_row - first_row + 1 entries)
    synapse_offset: u32, // into event_cols
    weight_offset: u32, // into event_weights, where weights are per synapse
    first_row: u32,     // propagation: the sources whose rows these buffers hold (a
    end_row: u32,       // matrix larger than a binding comes in parts of whole rows)
    procedural: u32,    // 1: no event_cols, a row's targets are drawn (procedural.wgsl)
    skip_diagonal: u32,
    seed_lo: u32,       // the drawn rows' key: the seed and the projection's index
    seed_hi: u32,
    projection: u32,
    instances: u32,     // a batch's instances sharing these stored rows (1: its own)
    instance_sources: u32, // one instance's sources (the rows stored) and targets
    instance_targets: u32,
    draw: u32,          // DRAW_*: drawn rows' weights drawn per synapse (0: uniform_weight)
    draw_low: i32,
    draw_span: u32,
    draw_a: f32,
    draw_b: f32,
    draw_scale: f32,    // the fixed point's scale a drawn weight is rounded at
    own_seeds: u32,     // 1: the instances draw rows of their own seeds (exp_propagate.wgsl)
    g_part: u32,        // the parts of g and of the rings that hold this projection's, where
    ring_part: u32,     // they are cut (event_inputs.wgsl, event_arrivals.wgsl); else 0
    g_chunk: u32,       // where its g or its rings alone exceed a binding: the targets per
    ring_chunk: u32,    // range, range c alone in part g_part + c (ring_part + c); else 0
}

// Where target i's g lies: (part, index within it).
fn g_place(q: ExpParams, i: u32) -> vec2<u32> {
    if (q.g_chunk == 0u) {
        return vec2<u32>(q.g_part, q.g_offset + i);
    }
    return vec2<u32>(q.g_part + i / q.g_chunk, i % q.g_chunk);
}

// Where target i's word of ring slot `slot` lies: slot by slot over the projection's targets,
// or over its range's.
fn ring_place(q: ExpParams, slot: u32, i: u32) -> vec2<u32> {
    if (q.ring_chunk == 0u) {
        return vec2<u32>(q.ring_part, q.ring_offset + slot * q.n_target + i);
    }
    let range = i / q.ring_chunk;
    let first = range * q.ring_chunk;
    return vec2<u32>(q.ring_part + range, slot * min(q.ring_chunk, q.n_target - first) + (i - first));
}

const KIND_CONDUCTANCE: u32 = 0u;

// (step + ahead) mod slots for the 64-bit step = hi·2³² + lo (slots < 65536, so no
// product overflows).
fn ring_slot(info: StepInfo, ahead: u32, slots: u32) -> u32 {
    let two_32_mod = (0xffffffffu % slots + 1u) % slots;
    let hi = (info.step_hi % slots) * two_32_mod % slots;
    return (hi + info.step_lo % slots + ahead % slots) % slots;
}
