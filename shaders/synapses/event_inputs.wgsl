// requires: nothing
// The event-driven projections' g and delay rings as a population's update reads them: one
// binding each, shared by every projection at its offsets. Where they do not fit one binding,
// src/backend/gpu/event_parts.rs composes the update with this module replaced by one over
// parts of whole projections, `part` naming a projection's (ExpParams' g_part, ring_part).

@group(0) @binding(9) var<storage, read_write> event_g: array<f32>;
@group(0) @binding(10) var<storage, read_write> event_rings: array<i32>;

fn event_g_at(part: u32, at: u32) -> f32 {
    return event_g[at];
}

fn set_event_g(part: u32, at: u32, x: f32) {
    event_g[at] = x;
}

// This step's arrivals, the slot emptied for the step `slots` ahead.
fn take_arrivals(part: u32, at: u32) -> i32 {
    let arrived = event_rings[at];
    event_rings[at] = 0;
    return arrived;
}
