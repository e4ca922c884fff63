// requires: nothing
// The spike flags of the population whose spikes a propagation carries, in one binding. Where
// the population is cut into ranges of neurons (one variable larger than a binding),
// src/backend/gpu/state_parts.rs composes the propagation with this module replaced by one
// over the ranges.

@group(0) @binding(5) var<storage, read> spiked: array<u32>;

fn source_spiked(i: u32) -> u32 {
    return spiked[i];
}
