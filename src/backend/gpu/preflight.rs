//! The device limits a network must fit, checked on its shape before any buffer exists: the
//! GPU backend runs this first, and `ganglion check` runs the same function against the
//! adapter's limits without building the network, so that `check` accepts what `run` can
//! build (with `fixed_probability` counted at its expected number of synapses).

use super::blocked::BlockGeometry;
use super::kernels::{storage_count, COUPLING_SLOTS, MAX_EVENT_PROJECTIONS, NEURON_SLOTS, PROPAGATE_SLOTS};
use super::split;
use super::event_parts;
use super::neuron_ranges::{self, NeuronChunks};
use super::state_parts;
use crate::config::GpuCoupling;
use crate::error::{Error, Result};
use crate::shape::Shape;

/// Populations one spike record can name (the population shares a word with the step).
pub const MAX_POPULATIONS: usize = 256;

/// The largest buffer `limits` lets a shader bind.
pub fn binding_limit(limits: &wgpu::Limits) -> u64 {
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
}

/// Refuses a buffer the device cannot bind, naming the buffer, its size and the limit.
pub fn check_binding(label: &str, bytes: u64, limits: &wgpu::Limits, device: &str) -> Result<()> {
    let limit = binding_limit(limits);
    if bytes > limit {
        return Err(Error::BufferTooLarge {
            label: label.to_string(),
            bytes,
            limit,
            device: device.to_string(),
            // The blocked layout's pointers grow with rows × columns.
            hint: if label.ends_with(".seg_ptr") {
                "; the blocked layout's pointers grow with rows × columns, so another simulation.gpu_coupling may fit"
            } else if label.ends_with(".state") {
                "; a state is cut into parts, but fused coupling takes it whole"
            } else if label == "events.g" || label == "events.rings" {
                "; the event-driven g and delay rings are cut into parts of whole projections or of ranges of targets, but one target's ring slots (4 bytes each) must fit a binding"
            } else {
                ""
            },
        });
    }
    Ok(())
}

/// A buffer that grows with the network, by the label the backend gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkBuffer {
    pub label: String,
    pub bytes: u64,
    /// Bindings it takes: a matrix larger than one binding is cut into parts by whole rows
    /// (`split`, counted here at its fewest), a population's state by whole variables
    /// (`state_parts`, None where it may not be cut), the event-driven g and rings by whole
    /// projections (`event_parts`, None where one projection's exceeds a binding); anything
    /// else must fit one.
    pub parts: Option<u64>,
    /// What its parts hold whole ("rows", "variables", "projections"), where it is cut.
    pub cut_by: &'static str,
    /// The largest piece no cut divides: the whole buffer where it is not cut, one variable
    /// of a state, one projection's g or rings; 0 for a matrix, whose rows do not grow with
    /// a batch's instances. A batch must keep it within one binding.
    pub piece: u64,
}

/// The buffers that grow with the network, with their sizes under the `resolved` coupling
/// kernel and, for the matrices that can be cut, the parts they take in bindings of
/// `binding_limit(limits)`.
pub fn network_buffers(
    net: &Shape,
    resolved: GpuCoupling,
    limits: &wgpu::Limits,
) -> Result<Vec<NetworkBuffer>> {
    let limit = binding_limit(limits);
    let fused = resolved.is_fused() as u64;
    let whole = |label: String, bytes: u64| NetworkBuffer {
        label,
        bytes,
        parts: None,
        cut_by: "",
        piece: bytes,
    };
    let cut = |label: String, bytes: u64, rows: u64, entries: u64| NetworkBuffer {
        label,
        bytes,
        parts: Some(split::parts_needed(entries, rows, limit)),
        cut_by: "rows",
        piece: 0,
    };
    let mut out = Vec::new();
    // A state is cut into parts of whole variables where it may be (`state_parts`); one
    // that may not is a buffer like any other, refused past one binding.
    let splits = state_parts::splits(net, resolved, limit);
    let may_cut = state_parts::may_cut(resolved);
    for (index, (p, split)) in net.populations.iter().zip(splits).enumerate() {
        let bytes = (p.n_vars as u64 + fused) * p.size * 4;
        let within = split.is_some_and(|s| s.cuts_variables());
        out.push(NetworkBuffer {
            label: format!("{}.state", p.name),
            bytes,
            parts: split.filter(|_| may_cut).map(|s| s.parts as u64),
            cut_by: if within { "neurons" } else { "variables" },
            piece: if may_cut { p.size * 4 } else { bytes },
        });
        // The input words and spike flags follow the state's ranges of neurons; the flags of
        // each step of spike history are an array of their own where they are cut.
        let slots = net.spike_slots(index);
        for (part, steps) in [("syn_g", 1), ("syn_i0", 1), ("spiked", slots)] {
            let label = format!("{}.{part}", p.name);
            out.push(match split.filter(|s| may_cut && s.cuts_variables()) {
                Some(s) => NetworkBuffer {
                    label,
                    bytes: p.size * 4 * steps,
                    parts: Some(s.chunks.count as u64 * steps),
                    cut_by: "neurons",
                    piece: p.size * 4,
                },
                None => whole(label, p.size * 4 * steps),
            });
        }
    }
    let (mut cols, mut rows, mut weights) = (0u64, 0u64, 0u64);
    let (mut source_rows, mut weighted) = (0u64, 0u64);
    for p in &net.projections {
        // A matrix shared by a batch's instances stores one block (the blocked layout, all).
        let blocked = resolved == GpuCoupling::Blocked && p.is_graded();
        let blocks = if blocked { 1 } else { p.blocks.max(1) };
        let s = p.synapses / blocks;
        let (n_source, n_target) = (p.n_source / blocks, p.n_target / blocks);
        let w = p.per_synapse_weights as u64;
        match p.ring_slots {
            None if resolved == GpuCoupling::Blocked => {
                let geo = BlockGeometry::for_workgroup_storage(
                    limits.max_compute_workgroup_storage_size,
                )?;
                out.push(whole(
                    format!("{}.seg_ptr", p.name),
                    geo.seg_ptr_len(n_target as usize, n_source as usize) * 4,
                ));
                let t = n_target;
                out.push(cut(format!("{}.entries", p.name), s * 4, t, s));
                out.push(cut(format!("{}.weights", p.name), s * 4 * w, t, s * w));
            }
            None if p.procedural => {
                // Only the row pointers: the sources are drawn (`crate::procedural`). Cut by
                // whole rows past a binding, but a batch's instances, whose rows lie side by
                // side, keep them in one (the piece is the whole).
                let bytes = (n_target + 1) * 4;
                out.push(NetworkBuffer {
                    label: format!("{}.row_ptr", p.name),
                    bytes,
                    parts: Some(split::parts_needed(0, n_target, limit)),
                    cut_by: "rows",
                    piece: bytes,
                });
            }
            None if !p.is_graded() => {
                // Synapses written as equations: cut by whole rows so that each part's
                // variables (the largest per-synapse buffer) fit one binding.
                let t = n_target;
                let n_parts = split::equation_parts(p, limit);
                let parts = Some(n_parts);
                let mut buffers = vec![("row_ptr", (t + 1) * 4), ("col_idx", s * 4)];
                if p.values_per_synapse > 0 {
                    buffers.push(("synapses", s * 4 * p.values_per_synapse));
                }
                // Each part lists the synapses of every source (`equations::by_source`).
                for (buffer, bytes) in p.arrival_bytes(s, n_source) {
                    let bytes = if buffer == "out_ptr" { bytes * n_parts } else { bytes };
                    if bytes > 0 {
                        buffers.push((buffer, bytes));
                    }
                }
                for (buffer, bytes) in buffers {
                    out.push(NetworkBuffer { label: format!("{}.{buffer}", p.name), bytes, parts, cut_by: "rows", piece: 0 });
                }
            }
            None => {
                let t = n_target;
                out.push(cut(format!("{}.row_ptr", p.name), (t + 1) * 4, t, s));
                out.push(cut(format!("{}.col_idx", p.name), s * 4, t, s));
                out.push(cut(format!("{}.weights", p.name), s * 4 * w, t, s * w));
            }
            Some(_) => {
                // A procedural matrix keeps only its pointers.
                let stored = if p.procedural { 0 } else { s };
                cols += stored * 4;
                rows += (n_source + 1) * 4;
                source_rows += n_source;
                weights += stored * 4 * w;
                weighted += stored * w;
            }
        }
    }
    let synapses = cols / 4;
    // Packed by whole projections, a projection past a binding in ranges of targets
    // (`event_parts`).
    let (g_blocks, ring_blocks) = event_parts::blocks(net);
    // Each packed on its own, so that the one refused is named.
    let rings_by_target = event_parts::targets_and_slots(net);
    let packed = |blocks: &[(u64, u64)]| {
        event_parts::pack(blocks, limit).ok().map(|(places, parts)| (parts, places.iter().any(|p| p.chunk > 0)))
    };
    let (g, rings) = (packed(&event_parts::g_blocks(&rings_by_target)), packed(&rings_by_target));
    for (label, blocks, parts) in [("events.g", g_blocks, g), ("events.rings", ring_blocks, rings)] {
        out.push(NetworkBuffer {
            label: label.into(),
            bytes: blocks.iter().sum(),
            parts: parts.map(|(n, _)| n as u64),
            cut_by: if parts.is_some_and(|(_, ranges)| ranges) { "targets" } else { "projections" },
            piece: blocks.iter().copied().max().unwrap_or(0),
        });
    }
    out.push(cut("events.rows".into(), rows, source_rows, synapses));
    out.push(cut("events.cols".into(), cols, source_rows, synapses));
    out.push(cut("events.weights".into(), weights, source_rows, weighted));
    Ok(out)
}

/// Everything about `net` that the device named `device`, with `limits`, would refuse: too
/// many populations, too many event-driven projections into or out of one population, and
/// any buffer that is not cut into parts and is larger than one binding.
pub fn check(
    net: &Shape,
    resolved: GpuCoupling,
    limits: &wgpu::Limits,
    device: &str,
) -> Result<()> {
    if net.populations.len() > MAX_POPULATIONS {
        return Err(Error::TooManyPopulations {
            count: net.populations.len(),
            max: MAX_POPULATIONS,
        });
    }
    for (index, pop) in net.populations.iter().enumerate() {
        for (incoming, way) in [(true, "into it"), (false, "leaving it")] {
            let count = net
                .projections
                .iter()
                .filter(|p| p.is_event_driven() && index == if incoming { p.target } else { p.source })
                .count();
            if count > MAX_EVENT_PROJECTIONS {
                return Err(Error::TooManyEventProjections {
                    population: pop.name.clone(),
                    count,
                    max: MAX_EVENT_PROJECTIONS,
                    direction: way,
                });
            }
        }
    }
    for b in network_buffers(net, resolved, limits)? {
        if b.parts.is_none() {
            check_binding(&b.label, b.bytes, limits, device)?;
        }
    }
    check_ranges(net, resolved, limits, device)
}

/// Kernels within the device's count of storage bindings, where arrays are cut into parts
/// (each part a binding of its own).
fn check_ranges(net: &Shape, resolved: GpuCoupling, limits: &wgpu::Limits, device: &str) -> Result<()> {
    let limit = binding_limit(limits);
    let splits = state_parts::splits(net, resolved, limit);
    let chunks: Vec<NeuronChunks> = splits.iter().map(|s| s.map_or(NeuronChunks::whole(), |s| s.chunks)).collect();
    // Storage buffers each kernel binds: its own, and the parts past the first of each array.
    let max = limits.max_storage_buffers_per_shader_stage as usize;
    let events = event_parts::EventSplit::of_shape(net, limit).map_or((1, 1), |e| (e.g_parts(), e.ring_parts()));
    for (index, (pop, split)) in net.populations.iter().zip(&splits).enumerate() {
        let Some(split) = split else { continue };
        let slots = net.spike_slots(index) as usize;
        let arrays = if split.cuts_variables() { neuron_ranges::arrays_extra(split.chunks, slots) } else { 0 };
        let extra = (split.parts - 1) + arrays + (events.0 - 1) + (events.1 - 1);
        let bound = UPDATE_STORAGE + pop.model.instance_table() as usize + extra;
        // Nothing cut binds what every update binds (the adapters ganglion runs on have it).
        if extra > 0 && bound > max {
            return Err(Error::TooLarge(format!(
                "population `{}`: its update would bind {bound} storage buffers (its state in {} parts), more than the {max} of {device} (max_storage_buffers_per_shader_stage); a device with larger bindings cuts it into fewer",
                pop.name, split.parts
            )));
        }
    }
    for (index, pop) in net.populations.iter().enumerate() {
        if !net.projections.iter().any(|p| p.is_event_driven() && p.source == index) {
            continue;
        }
        let extra = (events.1 - 1) + (chunks[index].count - 1);
        let bound = PROPAGATE_STORAGE + extra;
        if extra > 0 && bound > max {
            return Err(Error::TooLarge(format!(
                "population `{}`: the propagation of its spikes would bind {bound} storage buffers, more than the {max} of {device} (max_storage_buffers_per_shader_stage)",
                pop.name
            )));
        }
    }
    for p in net.projections.iter().filter(|p| p.equation_passes.is_some()) {
        let flags = |index: usize| (chunks[index], net.spike_slots(index) as usize);
        let pre = (p.source != p.target).then(|| splits[p.source]).flatten();
        let post = splits[p.target].unwrap_or(state_parts::StateSplit::whole(1));
        let (pre_parts, post_parts, flag_parts) = state_parts::synapse_extra(pre, post, flags(p.source), flags(p.target));
        let extra = pre_parts + post_parts + flag_parts;
        let bound = SYNAPSE_STORAGE + p.reads_tables as usize + 3 * (p.arrival_slots > 0) as usize + extra;
        if extra > 0 && bound > max {
            return Err(Error::TooLarge(format!(
                "projection `{}`: its synapses would bind {bound} storage buffers (the states and spike flags of its populations in parts), more than the {max} of {device} (max_storage_buffers_per_shader_stage)",
                p.name
            )));
        }
    }
    for p in net.projections.iter().filter(|p| p.is_graded()) {
        let extra = (chunks[p.source].count - 1) + 2 * (chunks[p.target].count - 1);
        let bound = COUPLING_STORAGE + extra;
        if extra > 0 && bound > max {
            return Err(Error::TooLarge(format!(
                "projection `{}`: its coupling would bind {bound} storage buffers, more than the {max} of {device} (max_storage_buffers_per_shader_stage)",
                p.name
            )));
        }
    }
    Ok(())
}

/// Storage buffers of a plain update's own slots (one more for the models that read their
/// `Params` from a table, `update_slots`).
const UPDATE_STORAGE: usize = storage_count(&NEURON_SLOTS);
/// Storage buffers of a coupling's own slots, with `blocked`'s partial sums.
const COUPLING_STORAGE: usize = storage_count(&COUPLING_SLOTS) + 1;
/// Storage buffers of a synapse model's own slots (one more where it reads timed arrays).
const SYNAPSE_STORAGE: usize = storage_count(&super::equations::SYNAPSE_SLOTS);
/// Storage buffers of the propagation's own slots (`Kernels::new`).
const PROPAGATE_STORAGE: usize = storage_count(&PROPAGATE_SLOTS);

/// Refuses a network whose GPU buffers (`required` bytes in all) exceed the device's
/// `memory`, naming the largest of them.
pub fn check_memory(
    net: &Shape,
    resolved: GpuCoupling,
    limits: &wgpu::Limits,
    required: u64,
    memory: u64,
    device: &str,
) -> Result<()> {
    if required <= memory {
        return Ok(());
    }
    let largest = network_buffers(net, resolved, limits)?
        .into_iter()
        .max_by_key(|b| b.bytes)
        .map_or((String::from("(none)"), 0), |b| (b.label, b.bytes));
    Err(Error::GpuMemory {
        needed: required,
        memory,
        device: device.to_string(),
        largest: largest.0,
        largest_bytes: largest.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(extra: &str) -> Shape {
        let text = format!(
            "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n\
             [populations.a]\nmodel = \"hh_traub\"\nsize = 1000\n{extra}"
        );
        Shape::from_config(&crate::config::parse(&text, &[]).unwrap())
    }

    #[test]
    fn matrices_past_the_binding_limit_are_cut_and_other_buffers_named() {
        let net = network(
            "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_cond\"\n\
             params = { tau_ms = 5.0, e_rev = 0.0 }\nconnectivity = { rule = \"fixed_indegree\", k = 100 }\n",
        );
        let small = wgpu::Limits {
            max_storage_buffer_binding_size: 256 << 10,
            ..wgpu::Limits::default()
        };
        // 400 kB of columns take two bindings of 256 KiB.
        let buffers = network_buffers(&net, GpuCoupling::ThreadPerRow, &small).unwrap();
        let cols = buffers.iter().find(|b| b.label == "events.cols").unwrap();
        assert_eq!((cols.bytes, cols.parts), (100_000 * 4, Some(2)));
        assert!(check(&net, GpuCoupling::ThreadPerRow, &small, "a small device").is_ok());
        // The state (five variables of 4 kB) is cut into parts of two variables.
        let tiny = wgpu::Limits {
            max_storage_buffer_binding_size: 8 << 10,
            ..wgpu::Limits::default()
        };
        let buffers = network_buffers(&net, GpuCoupling::ThreadPerRow, &tiny).unwrap();
        let state = buffers.iter().find(|b| b.label == "a.state").unwrap();
        assert_eq!((state.bytes, state.parts), (20_000, Some(3)));
        // What no cut divides: one variable, one projection's rings (two slots), no row.
        let piece = |label: &str| buffers.iter().find(|b| b.label == label).unwrap().piece;
        assert_eq!([piece("a.state"), piece("events.rings"), piece("events.cols"), piece("a.syn_g")], [4000, 8000, 0, 4000]);
        let tinier = wgpu::Limits {
            max_storage_buffer_binding_size: 3 << 10,
            ..wgpu::Limits::default()
        };
        // One variable (4 kB) past the limit: every per-neuron array in ranges of 768
        // neurons, two per variable, and the projection's g and rings in ranges of targets.
        let buffers = network_buffers(&net, GpuCoupling::ThreadPerRow, &tinier).unwrap();
        let cut = |label: &str| buffers.iter().find(|b| b.label == label).map(|b| (b.parts, b.cut_by)).unwrap();
        assert_eq!([cut("a.state"), cut("a.spiked")], [(Some(10), "neurons"), (Some(2), "neurons")]);
        assert_eq!([cut("events.g"), cut("events.rings")], [(Some(2), "targets"), (Some(3), "targets")]);
        let many = wgpu::Limits { max_storage_buffers_per_shader_stage: 32, ..tinier.clone() };
        check(&net, GpuCoupling::ThreadPerRow, &many, "a tiny device").unwrap();
        // Not one target's two ring slots fit 4 bytes.
        let e = check(&net, GpuCoupling::ThreadPerRow, &wgpu::Limits { max_storage_buffer_binding_size: 4, ..many }, "a tiny device").unwrap_err();
        assert!(
            matches!(&e, Error::BufferTooLarge { label, limit, .. }
                if label == "events.rings" && *limit == 4),
            "{e:?}"
        );
        assert!(e.to_string().contains("a tiny device"), "{e}");
        // Fused coupling reads S across the population: its state stays whole, refused.
        let graded = Shape::from_config(
            &crate::config::parse(
                "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n[populations.a]\nmodel = \"hh\"\nsize = 1000\n\
                 [projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"graded\"\n\
                 connectivity = { rule = \"fixed_indegree\", k = 10 }\n",
                &[],
            )
            .unwrap(),
        );
        let e = check(&graded, GpuCoupling::Fused, &tinier, "a tiny device").unwrap_err();
        assert!(matches!(&e, Error::BufferTooLarge { label, .. } if label == "a.state"), "{e:?}");
        let many = wgpu::Limits { max_storage_buffers_per_shader_stage: 32, ..tinier.clone() };
        check(&graded, GpuCoupling::ThreadPerRow, &many, "a tiny device").unwrap();
        // Each part a storage binding of its own: past the device's count, refused.
        let e = check(&graded, GpuCoupling::ThreadPerRow, &tinier, "a tiny device").unwrap_err();
        assert!(e.to_string().contains("population `a`: its update would bind 23 storage buffers"), "{e}");
    }

    /// Two LIF populations joined by a synapse written as equations with `delay`.
    fn delayed(delay: &str) -> crate::config::Config {
        crate::config::parse(&delayed_text(delay), &[]).unwrap()
    }

    fn delayed_text(delay: &str) -> String {
        format!(
            "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n\
             [models.lif]\nequations = \"dv/dt = -v/(10*ms) : volt\"\nthreshold = \"v > 10*mV\"\nreset = \"v = 0*mV\"\n\
             [synapse_models.jump]\non_pre = \"v += 1*mV\"\n\
             [populations.a]\nmodel = \"lif\"\nsize = 1000\n[populations.b]\nmodel = \"lif\"\nsize = 10\n\
             [projections.ab]\nsource = \"a\"\ntarget = \"b\"\nsynapse = \"jump\"\ndelay = \"{delay}\"\n\
             connectivity = {{ rule = \"fixed_indegree\", k = 5 }}\n"
        )
    }

    #[test]
    fn the_spike_history_of_delayed_synapses_is_counted_in_every_step_it_keeps() {
        // 2 ms at 0.1 ms: 21 steps of flags, 84 kB, kept by the source alone.
        let text = delayed_text("2*ms");
        let config = delayed("2*ms");
        let shape = Shape::from_config(&config);
        assert_eq!((shape.spike_slots(0), shape.spike_slots(1)), (21, 1));
        assert!(shape.spike_slots_known(0));
        let net = crate::network::Network::build(&config).unwrap();
        assert_eq!(shape, Shape::from_network(&net));
        assert_eq!(shape.spike_slots(0), net.spike_slots(0) as u64);
        let limits = wgpu::Limits { max_storage_buffer_binding_size: 64 << 10, ..wgpu::Limits::default() };
        let buffers = network_buffers(&shape, GpuCoupling::ThreadPerRow, &limits).unwrap();
        let spiked = buffers.iter().find(|b| b.label == "a.spiked").unwrap();
        assert_eq!(spiked.bytes, 21 * 4000);
        // Past the binding the flags are cut with the state, one array per step of history,
        // each a binding of the update's: 2 ranges × 21 steps.
        let cut = wgpu::Limits { max_storage_buffer_binding_size: 3 << 10, max_storage_buffers_per_shader_stage: 40, ..limits };
        let buffers = network_buffers(&shape, GpuCoupling::ThreadPerRow, &cut).unwrap();
        let spiked = buffers.iter().find(|b| b.label == "a.spiked").unwrap();
        assert_eq!((spiked.parts, spiked.cut_by), (Some(42), "neurons"));
        let e = check(&shape, GpuCoupling::ThreadPerRow, &cut, "a small device").unwrap_err();
        assert!(e.to_string().contains("population `a`: its update would bind"), "{e}");
        // Within one population, a synapse reads the flags as pre- and as post-synaptic
        // ones: 10 + 44 bindings for the update, 8 + 1 + 3 + 2 × 41 for the synapses (their
        // own, the tables', the marked arrivals', the flags').
        let recurrent = Shape::from_config(
            &crate::config::parse(&text.replace("target = \"b\"", "target = \"a\""), &[]).unwrap(),
        );
        let wide = wgpu::Limits { max_storage_buffers_per_shader_stage: 64, ..cut.clone() };
        let e = check(&recurrent, GpuCoupling::ThreadPerRow, &wide, "a small device").unwrap_err();
        assert!(e.to_string().contains("projection `ab`: its synapses would bind 94 storage buffers"), "{e}");
        check(&recurrent, GpuCoupling::ThreadPerRow, &wgpu::Limits { max_storage_buffers_per_shader_stage: 94, ..cut.clone() }, "x").unwrap();
        let without = Shape::from_config(&delayed("0*ms"));
        check(&without, GpuCoupling::ThreadPerRow, &cut, "a small device").unwrap();
        // And in the device memory, 20 more words per neuron of `a`.
        let plan = crate::record::RecordPlan::from_config(&config);
        let grown = super::super::sizing::required_bytes(&shape, &plan, 10, GpuCoupling::ThreadPerRow)
            - super::super::sizing::required_bytes(&without, &plan, 10, GpuCoupling::ThreadPerRow);
        assert_eq!(grown, 20 * 1000 * 4);
        // A delay drawn per synapse is known once drawn: before, a least figure, said so.
        let drawn = Shape::from_config(&delayed("2*ms*rand()"));
        assert_eq!((drawn.spike_slots(0), drawn.spike_slots_known(0)), (1, false));
        assert!(drawn.spike_slots_known(1));
    }

    #[test]
    fn a_network_past_the_memory_is_refused_naming_its_largest_buffer() {
        let net = network(
            "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_cond\"\n\
             params = { tau_ms = 5.0, e_rev = 0.0 }\nconnectivity = { rule = \"fixed_indegree\", k = 100 }\n",
        );
        let limits = wgpu::Limits::default();
        assert!(check_memory(&net, GpuCoupling::ThreadPerRow, &limits, 1000, 1000, "x").is_ok());
        let e = check_memory(&net, GpuCoupling::ThreadPerRow, &limits, 1001, 1000, "x").unwrap_err();
        assert!(
            matches!(&e, Error::GpuMemory { largest, largest_bytes, .. }
                if largest == "events.cols" && *largest_bytes == 400_000),
            "{e:?}"
        );
    }

    #[test]
    fn more_event_projections_into_a_population_than_the_kernels_take_is_refused() {
        let projections: String = (0..=MAX_EVENT_PROJECTIONS)
            .map(|k| {
                format!(
                    "[projections.p{k}]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"exp_curr\"\n\
                     params = {{ tau_ms = 5.0 }}\nconnectivity = {{ rule = \"one_to_one\" }}\n"
                )
            })
            .collect();
        let net = network(&projections);
        let e = check(
            &net,
            GpuCoupling::ThreadPerRow,
            &wgpu::Limits::default(),
            "x",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("population `a` has 9 event-driven projections into it"),
            "{e}"
        );
    }
}
