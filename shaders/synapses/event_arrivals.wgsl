// requires: nothing
// The delay rings as the propagation adds to them (integer atomics): one binding, shared by
// every projection at its offsets. Where they do not fit one binding,
// src/backend/gpu/event_parts.rs composes the propagation with this module replaced by one
// over parts of whole projections, `part` naming a projection's (ExpParams' ring_part).

@group(0) @binding(6) var<storage, read_write> event_rings: array<atomic<i32>>;

fn add_arrival(part: u32, at: u32, w: i32) {
    atomicAdd(&event_rings[at], w);
}
