//! How much a network and its recording take on the GPU, and how many steps go into one
//! submit: pure arithmetic on the network's shape, tested without an adapter.

use super::blocked;
use crate::config::GpuCoupling;
use crate::record::RecordPlan;
use crate::shape::{ProjectionShape, Shape};

/// Steps recorded into one command buffer: long enough to amortise the submit and readback,
/// short enough to keep the per-step slot buffer and the spike buffer small.
pub const MAX_STEPS_PER_SUBMIT: u64 = 2000;
/// Spike buffer entries: room for every recorded neuron firing at every step of a submit where
/// that takes at most `EVERY_STEP_CAPACITY` (32 MiB), so that no rate overflows the buffer of a
/// small network; else for every recorded neuron firing at `SPIKE_RATE_BOUND_HZ`; within these
/// bounds. More than that is an error (never a silent drop).
const MIN_SPIKE_CAPACITY: u64 = 1 << 16;
const MAX_SPIKE_CAPACITY: u64 = 1 << 25;
const EVERY_STEP_CAPACITY: u64 = 1 << 22;
const SPIKE_RATE_BOUND_HZ: f64 = 1000.0;
/// Recording buffer of one trace entry for one submit.
const MAX_TRACE_BYTES_PER_SUBMIT: u64 = 64 << 20;

/// Slots of the per-dispatch uniform buffer one submit may use.
pub fn slots_per_submit(steps: u64, traces: usize) -> u64 {
    steps * (1 + traces as u64)
}

/// Words per spike in the spike buffer: (population << 24 | step, neuron), then, where the
/// plan records values with a population's spikes or events, that population's model's first
/// `spike_recordable()` variables (the widest such model sets the stride for every entry).
pub fn spike_words(net: &Shape, plan: &RecordPlan) -> u64 {
    let with_spikes = (0..net.populations.len()).filter(|&p| !plan.collected_spike_values(p).is_empty());
    let with_events = plan.events.iter().zip(&plan.event_values).filter(|(_, slots)| !slots.is_empty()).map(|(&(p, _), _)| p);
    let values = with_spikes
        .chain(with_events)
        .filter_map(|p| net.populations[p].model.equations().map(|m| m.spike_recordable() as u64))
        .max()
        .unwrap_or(0);
    2 + values
}

/// Steps per submit and spike-buffer entries. A network whose recorded spikes at the rate
/// bound would overflow the largest spike buffer the device binds, or whose traces would fill
/// more than `MAX_TRACE_BYTES_PER_SUBMIT`, gets shorter submits.
pub fn submit_plan(
    net: &Shape,
    plan: &RecordPlan,
    max_steps: u64,
    binding_limit: u64,
) -> (u64, u64) {
    let recorded: u64 = net
        .populations
        .iter()
        .enumerate()
        .filter(|&(k, _)| plan.collects_spikes(k))
        .map(|(_, p)| p.size)
        .sum::<u64>()
        + plan.events.iter().map(|&(p, _)| net.populations[p].size).sum::<u64>();
    let per_step = recorded as f64 * net.dt_ms * 1e-3 * SPIKE_RATE_BOUND_HZ;
    let max_capacity = (binding_limit / (4 * spike_words(net, plan)))
        .saturating_sub(1)
        .clamp(MIN_SPIKE_CAPACITY, MAX_SPIKE_CAPACITY);
    let mut steps = max_steps.min(net.n_steps).max(1);
    if per_step > 0.0 {
        steps = steps.min(((max_capacity as f64 / per_step) as u64).max(1));
    }
    for t in &plan.traces {
        let row_bytes = (t.neurons.len() * t.variables.len() * 4) as u64;
        let rows_fitting =
            (MAX_TRACE_BYTES_PER_SUBMIT.min(binding_limit) / row_bytes.max(1)).max(2);
        steps = steps.min(((rows_fitting - 1) * t.every).max(1));
    }
    let every_step = recorded.saturating_mul(steps);
    let needed = if every_step <= EVERY_STEP_CAPACITY { every_step } else { (per_step * steps as f64).ceil() as u64 };
    (steps, needed.clamp(MIN_SPIKE_CAPACITY, max_capacity))
}

pub fn trace_rows(steps: u64, every: u64) -> u64 {
    steps.div_ceil(every) + 1
}

/// GPU memory the network and one submit's recording need, in bytes, under the `resolved`
/// coupling kernel. The blocked layout is counted as cut for the least workgroup memory an
/// adapter may have, its largest: more memory means fewer pointers.
pub fn required_bytes(
    net: &Shape,
    plan: &RecordPlan,
    chunk_steps: u64,
    resolved: GpuCoupling,
) -> u64 {
    let fused = resolved.is_fused();
    let geometry = geometry_of(resolved);
    let (steps, spike_capacity) =
        submit_plan(net, plan, chunk_steps.min(MAX_STEPS_PER_SUBMIT), 2 << 30);
    // State (and S's second block when fused), two synaptic-input words and a spike flag per
    // neuron and step of spike history.
    let neurons: u64 = net
        .populations
        .iter()
        .enumerate()
        .map(|(index, p)| p.size * (p.n_vars as u64 + fused as u64 + 2 + net.spike_slots(index)) * 4)
        .sum();
    let synapses: u64 = net
        .projections
        .iter()
        .map(|p| {
            let (matrix, per_target) = projection_bytes(p, geometry);
            matrix + per_target
        })
        .sum();
    let traces: u64 = plan
        .traces
        .iter()
        .map(|t| {
            trace_rows(steps, t.every) * t.neurons.len() as u64 * (t.variables.len() as u64 * 4 + 4)
        })
        .sum();
    let slots = slots_per_submit(steps, plan.traces.len()) * 256;
    neurons + synapses + traces + spike_capacity * 4 * spike_words(net, plan) + slots
}

/// A projection's bytes on the device: its stored matrix (one block's, where a batch's
/// instances share it: `ProjectionShape::blocks`), and what it keeps per target neuron (the
/// event-driven g and delay rings). The blocked layout stores every block.
fn projection_bytes(p: &ProjectionShape, geometry: Option<blocked::BlockGeometry>) -> (u64, u64) {
    let w = p.per_synapse_weights as u64 * 4;
    let blocks = match (p.ring_slots, geometry) {
        (None, Some(_)) => 1,
        _ => p.blocks.max(1),
    };
    let (s, n_target, n_source) = (p.synapses / blocks, p.n_target / blocks, p.n_source / blocks);
    let arrivals: u64 = p.arrival_bytes(s, n_source).iter().map(|(_, bytes)| bytes).sum();
    let values = s * p.values_per_synapse * 4 + arrivals;
    match (p.ring_slots, geometry) {
        (None, Some(geo)) => (values + geo.bytes(n_target as usize, n_source as usize, s, p.per_synapse_weights), 0),
        (None, None) if p.procedural => ((n_target + 1) * 4, 0),
        (None, None) => (values + (n_target + 1) * 4 + s * (4 + w), 0),
        (Some(slots), _) => {
            let stored = if p.procedural { 0 } else { s * (4 + w) };
            ((n_source + 1) * 4 + stored, (slots + 1) * p.n_target * 4)
        }
    }
}

fn geometry_of(resolved: GpuCoupling) -> Option<blocked::BlockGeometry> {
    (resolved == GpuCoupling::Blocked).then(|| {
        blocked::BlockGeometry::for_workgroup_storage(blocked::MIN_WORKGROUP_STORAGE)
            .expect("the least workgroup memory fits the blocked kernel")
    })
}

/// The bytes of `net`'s stored matrices under the `resolved` coupling kernel: what a batch
/// whose instances share their matrices holds once.
pub fn matrix_bytes(net: &Shape, resolved: GpuCoupling) -> u64 {
    let geometry = geometry_of(resolved);
    net.projections.iter().map(|p| projection_bytes(p, geometry).0).sum()
}

/// What one more instance adds to a batch's buffers: `required_bytes` without the spike and
/// step buffers, which a batch has once.
pub fn instance_bytes(net: &Shape, plan: &RecordPlan, chunk_steps: u64, resolved: GpuCoupling) -> u64 {
    let (steps, spike_capacity) =
        submit_plan(net, plan, chunk_steps.min(MAX_STEPS_PER_SUBMIT), 2 << 30);
    let once = spike_capacity * 4 * spike_words(net, plan) + slots_per_submit(steps, plan.traces.len()) * 256;
    required_bytes(net, plan, chunk_steps, resolved).saturating_sub(once)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> (Shape, RecordPlan) {
        let config = crate::config::parse(text, &[]).unwrap();
        (
            Shape::from_config(&config),
            RecordPlan::from_config(&config),
        )
    }

    const BIG: &str = "[simulation]\ndt_ms = 0.1\nduration_ms = 1000.0\n\
        [populations.a]\nmodel = \"lif\"\nsize = 4000000\n\
        [record]\nspikes = [\"a\"]\ntraces = [{ population = \"a\", variables = [\"v\"] }]\n";

    #[test]
    fn submits_shrink_so_that_spikes_and_traces_fit_their_buffers() {
        let (net, plan) = shape(BIG);
        let (steps, capacity) = submit_plan(&net, &plan, MAX_STEPS_PER_SUBMIT, 2 << 30);
        // 16 MB of trace rows per step fit 64 MiB four times (the last row is spare).
        assert_eq!(steps, 3);
        // 4M neurons at the rate bound for 3 steps of 0.1 ms.
        assert_eq!(capacity, (4e6 * 1e-4 * SPIKE_RATE_BOUND_HZ * 3.0) as u64);
        let (net, plan) = shape(&BIG.replace("size = 4000000", "size = 2"));
        assert_eq!(
            submit_plan(&net, &plan, MAX_STEPS_PER_SUBMIT, 2 << 30),
            (MAX_STEPS_PER_SUBMIT, MIN_SPIKE_CAPACITY)
        );
        // 300 neurons: room for all of them firing at every step, far past the rate bound.
        let (net, plan) = shape(&BIG.replace("size = 4000000", "size = 300"));
        assert_eq!(submit_plan(&net, &plan, 1000, 2 << 30), (1000, 300 * 1000));
        // 3000: that would take 48 MiB; the rate bound sizes it.
        let (net, plan) = shape(&BIG.replace("size = 4000000", "size = 3000"));
        assert_eq!(submit_plan(&net, &plan, 2000, 2 << 30), (2000, (3000.0 * 1e-4 * SPIKE_RATE_BOUND_HZ * 2000.0) as u64));
    }

    #[test]
    fn a_matrix_shared_by_a_batch_is_counted_once() {
        let (one, _) = shape(&BIG.replace("size = 4000000", "size = 1000").replace("[record]", "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_curr\"\nparams = { tau_ms = 5.0 }\nconnectivity = { rule = \"fixed_indegree\", k = 10 }\n[record]"));
        // Rows by source and the synapses' columns; the ring and g are per target.
        assert_eq!(matrix_bytes(&one, GpuCoupling::ThreadPerRow), 1001 * 4 + 10_000 * 4);
        // Eight instances merged: their matrices side by side, or one block for all.
        let mut merged = one.clone();
        merged.populations[0].size *= 8;
        let p = &mut merged.projections[0];
        (p.n_source, p.n_target, p.synapses) = (8000, 8000, 80_000);
        let apart = matrix_bytes(&merged, GpuCoupling::ThreadPerRow);
        assert_eq!(apart, 8001 * 4 + 80_000 * 4);
        merged.projections[0].blocks = 8;
        assert_eq!(matrix_bytes(&merged, GpuCoupling::ThreadPerRow), matrix_bytes(&one, GpuCoupling::ThreadPerRow));
        // Everything else, the ring and g per target neuron included, is the same.
        let plan = RecordPlan { spikes: vec![false], rates: vec![false], traces: vec![], ..Default::default() };
        let shared = required_bytes(&merged, &plan, 100, GpuCoupling::ThreadPerRow);
        merged.projections[0].blocks = 1;
        let side_by_side = required_bytes(&merged, &plan, 100, GpuCoupling::ThreadPerRow);
        assert_eq!(side_by_side - shared, apart - matrix_bytes(&one, GpuCoupling::ThreadPerRow));
    }

    #[test]
    fn required_bytes_count_state_synapses_and_recording() {
        let (net, plan) = shape(&BIG.replace("size = 4000000", "size = 1000").replace("[record]", "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_curr\"\nparams = { tau_ms = 5.0 }\nconnectivity = { rule = \"fixed_indegree\", k = 10 }\n[record]"));
        let bytes = required_bytes(&net, &plan, 100, GpuCoupling::ThreadPerRow);
        // State of 2 variables, 3 input and flag words; the synapses by source and the ring.
        let neurons = 1000 * (2 + 3) * 4;
        let synapses = 1001 * 4 + 10_000 * 4 + 3 * 1000 * 4;
        assert!(bytes > neurons + synapses, "{bytes}");
        let without = required_bytes(
            &net,
            &RecordPlan {
                traces: vec![],
                ..plan.clone()
            },
            100,
            GpuCoupling::ThreadPerRow,
        );
        // The samples and their neuron list, and a uniform slot per step for the gather.
        assert_eq!(
            bytes - without,
            trace_rows(100, 1) * 1000 * (4 + 4) + slots_per_submit(100, 1) * 256
                - slots_per_submit(100, 0) * 256
        );
    }
}
