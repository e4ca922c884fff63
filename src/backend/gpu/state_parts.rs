//! A population's state in bindings. It is one buffer when it fits one binding, else cut into
//! parts of whole variables, each a buffer of its own: variable k in part k / per_part, at
//! (k % per_part)·n + i; where one variable alone is larger than a binding, into ranges of
//! neurons with every other per-neuron array of the population (`neuron_ranges`). Either way
//! each part is a contiguous piece of the structure of arrays k·n + i, in order, so the host
//! uploads and reads it back by piece.
//!
//! The models read and write their state through `state_at` and `set_state`
//! (shaders/common/state.wgsl), and the synapses written as equations the states and spike
//! flags of their populations through shaders/synapses/equation_states.wgsl, so a model's code
//! is the same either way: the kernels of a cut population are composed with those modules
//! replaced by the ones generated here, whose extra bindings follow the kernel's own. Pure
//! arithmetic and text, tested without an adapter.

use super::neuron_ranges::NeuronChunks;
use super::parted;
use crate::config::GpuCoupling;
use crate::shape::Shape;
use std::ops::Range;

/// How one population's variable blocks lie in bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateSplit {
    pub parts: usize,
    /// Whole variables per part (the last part may hold fewer); 0 where a variable is cut.
    pub per_part: usize,
    /// The neuron ranges each variable is cut into (one where variables are whole).
    pub chunks: NeuronChunks,
}

impl StateSplit {
    /// `blocks` variables of `size` f32 each, in bindings of `limit` bytes: whole when they
    /// fit one, else in as few parts of whole variables as fit, else, where one variable
    /// alone is larger than a binding, each variable in parts of whole neuron ranges.
    pub fn new(blocks: usize, size: u64, limit: u64) -> StateSplit {
        let blocks = blocks.max(1);
        let block = size.max(1) * 4;
        let chunks = NeuronChunks::new(size, limit);
        if !chunks.is_whole() {
            return StateSplit {
                parts: blocks * chunks.count,
                per_part: 0,
                chunks,
            };
        }
        let per_part = usize::try_from(limit / block).unwrap_or(usize::MAX).clamp(1, blocks);
        StateSplit {
            parts: blocks.div_ceil(per_part),
            per_part,
            chunks,
        }
    }

    /// One binding for `blocks` variables.
    pub fn whole(blocks: usize) -> StateSplit {
        StateSplit {
            parts: 1,
            per_part: blocks.max(1),
            chunks: NeuronChunks::whole(),
        }
    }

    pub fn is_whole(&self) -> bool {
        self.parts == 1
    }

    /// The bindings past the first that the state takes.
    pub fn extra_parts(&self) -> usize {
        self.parts - 1
    }

    /// Whether each variable is cut into neuron ranges.
    pub fn cuts_variables(&self) -> bool {
        !self.chunks.is_whole()
    }

    /// (part, variable within the part) of variable `k`, where variables are whole.
    pub fn place(&self, k: usize) -> (usize, usize) {
        debug_assert!(!self.cuts_variables());
        (k / self.per_part, k % self.per_part)
    }

    /// The variables part `part` holds (a part of one where variables are cut), of `blocks`.
    pub fn vars(&self, part: usize, blocks: usize) -> Range<usize> {
        if self.cuts_variables() {
            let k = part / self.chunks.count;
            return k..k + 1;
        }
        (part * self.per_part).min(blocks)..((part + 1) * self.per_part).min(blocks)
    }

    /// The neurons part `part` holds of each of its variables, of `n`.
    pub fn neurons(&self, part: usize, n: usize) -> Range<usize> {
        self.chunks.range(part % self.chunks.count, n)
    }

    /// Where part `part` lies in the structure of arrays k·n + i of `blocks` variables of `n`
    /// neurons: its first word and its words.
    pub fn words(&self, part: usize, blocks: usize, n: usize) -> Range<usize> {
        let (vars, neurons) = (self.vars(part, blocks), self.neurons(part, n));
        if self.cuts_variables() {
            return vars.start * n + neurons.start..vars.start * n + neurons.end;
        }
        vars.start * n..vars.end * n
    }

    /// The parts that hold variable `k` of `n` neurons, each with the neurons it holds.
    pub fn pieces(&self, k: usize, n: usize) -> Vec<(usize, Range<usize>)> {
        if self.cuts_variables() {
            let count = self.chunks.count;
            return (0..count).map(|c| (k * count + c, self.chunks.range(c, n))).collect();
        }
        vec![(self.place(k).0, 0..n)]
    }

    /// Declarations of this split's parts of the state array `name` (access `access`): part 0
    /// at `binding`, the others from `first` on; then `get(k, i)` and, unless `set` is empty,
    /// `set(k, i, x)` of variable k of neuron i, `n` (a WGSL expression) neurons in all,
    /// picking the part by the variable, and by the neuron where variables are cut.
    #[allow(clippy::too_many_arguments)]
    pub fn accessors(&self, name: &str, access: &str, binding: usize, first: usize, n: &str, get: &str, set: &str) -> String {
        if self.cuts_variables() {
            let blocks = self.parts / self.chunks.count;
            return self.chunks.accessors(name, access, "array<f32>", binding, first, blocks, get, set);
        }
        let per_part = self.per_part;
        let prelude = format!("    let at = (k % {per_part}u) * {n} + i;\n");
        let part = format!("k / {per_part}u");
        let accessors = parted::Accessors { get, set, args: "k: u32, i: u32", element: "f32", prelude: &prelude, part: &part };
        parted::declarations_as(name, access, "array<f32>", binding, first, self.parts) + &accessors.wgsl(name, self.parts)
    }

    /// common/state.wgsl for this split: part 0 in the state's binding, the others from
    /// binding `first` on (after the update's slots), and `state_at`/`set_state` choosing the
    /// part by the variable, and by the neuron where variables are cut.
    pub fn wgsl(&self, first: usize) -> String {
        format!(
            "// The population's state in {} bindings of {} (src/backend/gpu/state_parts.rs).\n{}",
            self.parts,
            if self.cuts_variables() { "ranges of neurons" } else { "whole variables" },
            self.accessors("state", "read_write", 2, first, "population.n", "state_at", "set_state")
        )
    }
}

/// synapses/equation_states.wgsl for the pre-synaptic population's split (None within one
/// population, whose variables are then read from the post-synaptic binding) and the
/// post-synaptic one's, and their spike flags (their ranges of neurons and steps kept): their
/// first parts in bindings 6, 7, 8 and 9, the others from binding `first` on, in that order
/// (`synapse_extra` counts them).
pub fn synapse_wgsl(
    pre: Option<StateSplit>,
    post: StateSplit,
    pre_spikes: (NeuronChunks, usize),
    post_spikes: (NeuronChunks, usize),
    first: usize,
) -> String {
    let pre = pre.unwrap_or(StateSplit::whole(1));
    let mut s = format!(
        "// The pre-synaptic state in {} bindings, the post-synaptic in {}, each part whole variables or ranges of neurons (src/backend/gpu/state_parts.rs).\n",
        pre.parts, post.parts
    );
    let mut next = first;
    s += &pre.accessors("pre_state", "read", 6, next, "info.n_pre", "pre_in", "");
    next += pre.extra_parts();
    s += &post.accessors("post_state", "read_write", 7, next, "info.n_post", "post_at", "set_post");
    next += post.extra_parts();
    s += "\nfn pre_load(k: u32, ipre: u32) -> f32 {\n    if (SAME_POPULATION) {\n        return post_at(k, ipre);\n    }\n    return pre_in(k, ipre);\n}\n";
    for (name, binding, n, (chunks, slots)) in [("pre_spiked", 8, "info.n_pre", pre_spikes), ("post_spiked", 9, "info.n_post", post_spikes)] {
        if chunks.is_whole() {
            s += &format!(
                "\n@group(0) @binding({binding}) var<storage, read> {name}: array<u32>;\n\n\
                 fn {name}_at(slot: u32, i: u32) -> u32 {{\n    return {name}[slot * {n} + i];\n}}\n"
            );
        } else {
            s += &chunks.accessors(name, "read", "array<u32>", binding, next, slots.max(1), &format!("{name}_at"), "");
            next += flag_parts((chunks, slots));
        }
    }
    s
}

/// The bindings `synapse_wgsl` adds beyond the kernel's own: the pre-synaptic state's parts
/// (read), the post-synaptic state's (written), then the spike flags' (read).
pub fn synapse_extra(pre: Option<StateSplit>, post: StateSplit, pre_spikes: (NeuronChunks, usize), post_spikes: (NeuronChunks, usize)) -> (usize, usize, usize) {
    (pre.map_or(0, |s| s.extra_parts()), post.extra_parts(), flag_parts(pre_spikes) + flag_parts(post_spikes))
}

/// The bindings past the first of a population's spike flags in ranges of neurons, `slots`
/// steps of them (none where they are whole: one binding holds every step).
fn flag_parts((chunks, slots): (NeuronChunks, usize)) -> usize {
    if chunks.is_whole() {
        0
    } else {
        slots.max(1) * chunks.count - 1
    }
}

/// Each population's split in bindings of `limit` bytes under the `resolved` coupling kernel;
/// None where its state must be one binding and is larger: with fused coupling (S's second
/// block is read across neurons), or where one variable alone exceeds a binding.
pub fn splits(net: &Shape, resolved: GpuCoupling, limit: u64) -> Vec<Option<StateSplit>> {
    let fused = resolved.is_fused() as usize;
    net.populations
        .iter()
        // `new` keeps a state that fits whole; one that may not be cut must fit.
        .map(|p| Some(StateSplit::new(p.n_vars + fused, p.size, limit)).filter(|s| s.is_whole() || may_cut(resolved)))
        .collect()
}

/// Whether a population's state may be cut at all under the `resolved` kernel: not where it
/// is fused (the rows read S across the population).
pub fn may_cut(resolved: GpuCoupling) -> bool {
    !resolved.is_fused()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_whole_while_it_fits_and_else_in_parts_of_whole_variables() {
        // Five variables of 1000 neurons: 20 kB.
        let whole = NeuronChunks::whole();
        assert_eq!(StateSplit::new(5, 1000, 20_000), StateSplit { parts: 1, per_part: 5, chunks: whole });
        let s = StateSplit::new(5, 1000, 8 << 10);
        assert_eq!(s, StateSplit { parts: 3, per_part: 2, chunks: whole });
        assert_eq!([s.place(0), s.place(3), s.place(4)], [(0, 0), (1, 1), (2, 0)]);
        assert_eq!([s.vars(0, 5), s.vars(1, 5), s.vars(2, 5)], [0..2, 2..4, 4..5]);
        assert_eq!(s.words(1, 5, 1000), 2000..4000);
        // One variable per binding.
        assert_eq!(StateSplit::new(5, 1000, 4000), StateSplit { parts: 5, per_part: 1, chunks: whole });
    }

    #[test]
    fn a_variable_past_a_binding_is_cut_into_ranges_of_whole_neurons() {
        // 1000 neurons in bindings of 1 kB: ranges of 250, every variable in four.
        let chunks = NeuronChunks::new(1000, 1000);
        assert_eq!(chunks, NeuronChunks { len: 250, count: 4 });
        assert_eq!([chunks.range(0, 1000), chunks.range(3, 1000)], [0..250, 750..1000]);
        // A ragged last range.
        let ragged = NeuronChunks::new(1001, 1000);
        assert_eq!((ragged.count, ragged.range(4, 1001)), (5, 1000..1001));
        let s = StateSplit::new(5, 1000, 1000);
        assert_eq!(s, StateSplit { parts: 20, per_part: 0, chunks });
        assert!(s.cuts_variables());
        // Part 6 is variable 1's neurons 500..750, words 1500..1750 of the whole state.
        assert_eq!((s.vars(6, 5), s.words(6, 5, 1000)), (1..2, 1500..1750));
        assert_eq!(s.pieces(2, 1000), vec![(8, 0..250), (9, 250..500), (10, 500..750), (11, 750..1000)]);
        // The parts in order are the whole state.
        let words: Vec<usize> = (0..s.parts).flat_map(|p| s.words(p, 5, 1000)).collect();
        assert_eq!(words, (0..5000).collect::<Vec<_>>());
    }

    #[test]
    fn a_cut_states_module_declares_every_part_after_the_updates_slots() {
        use super::super::event_parts::EventSplit;
        use super::super::kernels::NEURON_SLOTS;
        use super::super::parted::UpdateParts;
        let s = StateSplit::new(5, 1000, 8 << 10);
        let text = s.wgsl(13);
        assert!(text.contains("@binding(2) var<storage, read_write> state: array<f32>"), "{text}");
        assert!(text.contains("@binding(13) var<storage, read_write> state_1"), "{text}");
        assert!(text.contains("@binding(14) var<storage, read_write> state_2"), "{text}");
        let parts = UpdateParts::new(s, 1, &EventSplit::whole(0));
        assert_eq!(parts.slots(&NEURON_SLOTS).len(), NEURON_SLOTS.len() + 2);
        // It replaces the one-binding module in a composed update, which must still be valid.
        let hh = crate::shaders::compose("neurons/hh").unwrap();
        let cut = parts.compose(hh.clone(), NEURON_SLOTS.len()).unwrap();
        assert!(!cut.contains(crate::shaders::source("common/state").unwrap()));
        super::super::parted::validate(&cut);
        let whole = UpdateParts::new(StateSplit::whole(5), 1, &EventSplit::whole(0));
        assert_eq!(whole.compose(hh.clone(), NEURON_SLOTS.len()).unwrap(), hh);
    }

    #[test]
    fn a_synapse_kernel_reaches_cut_states_over_their_parts() {
        // Brian2's STDP example's shader with both populations' states cut: their parts bound
        // after its own 13 slots (10, and 3 for the arrivals it marks).
        let text = super::super::equations::stdp_example_shader();
        let whole = (NeuronChunks::whole(), 1);
        let module = synapse_wgsl(Some(StateSplit::new(2, 1000, 4000)), StateSplit::new(5, 1000, 8 << 10), whole, whole, 13);
        assert!(module.contains("@binding(13) var<storage, read> pre_state_1"), "{module}");
        assert!(module.contains("@binding(15) var<storage, read_write> post_state_2"), "{module}");
        let cut = parted::replace_module(text.clone(), "synapses/equation_states", &module).unwrap();
        parted::validate(&cut);
        // Both cut into ranges of neurons, the pre-synaptic flags kept for two steps.
        let (pre, post) = (StateSplit::new(2, 1000, 1600), StateSplit::new(5, 1000, 2000));
        let spikes = ((pre.chunks, 2), (post.chunks, 1));
        assert_eq!(synapse_extra(Some(pre), post, spikes.0, spikes.1), (5, 9, 5 + 1));
        let module = synapse_wgsl(Some(pre), post, spikes.0, spikes.1, 13);
        for (binding, name) in [(13, "pre_state_1"), (18, "post_state_1"), (27, "pre_spiked_1"), (32, "post_spiked_1")] {
            assert!(module.contains(&format!("@binding({binding}) var<storage, read"), ) && module.contains(&format!("{name}:")), "{name}: {module}");
        }
        assert!(!module.contains("@binding(33)"), "{module}");
        let cut = parted::replace_module(text, "synapses/equation_states", &module).unwrap();
        parted::validate(&cut);
    }

    fn network(extra: &str) -> Shape {
        let text = format!(
            "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n\
             [populations.a]\nmodel = \"hh\"\nsize = 1000\n{extra}"
        );
        Shape::from_config(&crate::config::parse(&text, &[]).unwrap())
    }

    #[test]
    fn fused_coupling_keeps_a_state_whole() {
        let graded = "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"graded\"\n\
                      connectivity = { rule = \"fixed_indegree\", k = 10 }\n";
        let net = network(graded);
        let cut = Some(StateSplit::new(5, 1000, 8 << 10));
        assert_eq!(splits(&net, GpuCoupling::ThreadPerRow, 8 << 10), vec![cut]);
        assert_eq!(splits(&net, GpuCoupling::Fused, 8 << 10), vec![None]);
        assert_eq!(splits(&net, GpuCoupling::Fused, 24_000), vec![Some(StateSplit::whole(6))]);
    }
}
