//! Every per-neuron array of a population in ranges of whole neurons, where one variable (4
//! bytes per neuron) is larger than a binding: its state (`state_parts::StateSplit`), its
//! synaptic-input words and its spike flags, variable or step k of neuron i in part
//! k·count + i / len, at i % len. The kernels reach those arrays through functions
//! (`graded_input`, `set_graded_input`, `spiked_at` and `set_spiked` of
//! shaders/common/neuron_arrays.wgsl; `presynaptic_s`, `input_sums` and `set_input_sums` of
//! shaders/synapses/graded_arrays.wgsl; `source_spiked` of shaders/synapses/source_spikes.wgsl),
//! composed for a cut population with those modules replaced by the ones generated here, whose
//! extra bindings follow the kernel's own. Pure arithmetic and text, tested without an adapter.

use super::parted;
use std::ops::Range;

/// How a population's neurons lie across bindings: in `count` ranges of `len` neurons (the
/// last may hold fewer), one part each, where one variable (4 bytes per neuron) is larger
/// than a binding; in one range (`count` 1) otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeuronChunks {
    pub len: usize,
    pub count: usize,
}

impl NeuronChunks {
    /// `n` neurons' arrays of 4 bytes each, in bindings of `limit` bytes.
    pub fn new(n: u64, limit: u64) -> NeuronChunks {
        let n = n.max(1);
        if n * 4 <= limit {
            return NeuronChunks::whole();
        }
        let len = (limit / 4).max(1);
        NeuronChunks {
            len: len as usize,
            count: n.div_ceil(len) as usize,
        }
    }

    /// All neurons in one range (its length is the population's: `len` 0).
    pub fn whole() -> NeuronChunks {
        NeuronChunks { len: 0, count: 1 }
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// The neurons of range `c`, of `n` in all.
    pub fn range(&self, c: usize, n: usize) -> Range<usize> {
        if self.is_whole() {
            return 0..n;
        }
        (c * self.len).min(n)..((c + 1) * self.len).min(n)
    }

    /// Declarations of the `blocks`·count parts of array `name` (element type `ty`, access
    /// `access`): part 0 at `binding`, the others from `first` on; then `get(block, i)` and,
    /// unless `set` is empty, `set(block, i, x)`, picking block `block`'s range of neuron i.
    #[allow(clippy::too_many_arguments)]
    pub fn accessors(&self, name: &str, access: &str, ty: &str, binding: usize, first: usize, blocks: usize, get: &str, set: &str) -> String {
        let parts = blocks * self.count;
        let element = ty.trim_start_matches("array<").trim_end_matches('>');
        let (len, count) = (self.len, self.count);
        // Whole, one block at i (what a coupling binds of a population that is not cut).
        let (prelude, part) = if self.is_whole() {
            debug_assert_eq!(blocks, 1);
            ("    let at = i;\n".to_string(), "block".to_string())
        } else {
            (format!("    let at = i % {len}u;\n"), format!("block * {count}u + i / {len}u"))
        };
        let accessors = parted::Accessors { get, set, args: "block: u32, i: u32", element, prelude: &prelude, part: &part };
        parted::declarations_as(name, access, ty, binding, first, parts) + &accessors.wgsl(name, parts)
    }
}

/// common/neuron_arrays.wgsl over `chunks` (cut): syn_g, syn_i0 and the `spike_slots` blocks
/// of spike flags each in their ranges, part 0 in their bindings (3, 4, 7), the others from
/// `first` on, syn_g's first, then syn_i0's, then the flags'.
pub fn arrays_wgsl(chunks: NeuronChunks, spike_slots: usize, first: usize) -> String {
    let c = chunks.count;
    let mut s = format!(
        "// The population's input words and spike flags in ranges of {} neurons (src/backend/gpu/neuron_ranges.rs).\n",
        chunks.len
    );
    s += &chunks.accessors("syn_g", "read_write", "array<f32>", 3, first, 1, "syn_g_at", "set_syn_g");
    s += &chunks.accessors("syn_i0", "read_write", "array<f32>", 4, first + c - 1, 1, "syn_i0_at", "set_syn_i0");
    s += &chunks.accessors("spiked", "read_write", "array<u32>", 7, first + 2 * (c - 1), spike_slots.max(1), "spiked_at", "set_spiked");
    s + "\nfn graded_input(i: u32) -> SynInput {\n    return SynInput(syn_g_at(0u, i), syn_i0_at(0u, i));\n}\n\n\
         fn set_graded_input(i: u32, syn: SynInput) {\n    set_syn_g(0u, i, syn.g);\n    set_syn_i0(0u, i, syn.i0);\n}\n"
}

/// The bindings `arrays_wgsl` adds beyond the arrays' own three.
pub fn arrays_extra(chunks: NeuronChunks, spike_slots: usize) -> usize {
    2 * (chunks.count - 1) + (spike_slots.max(1) * chunks.count - 1)
}

/// synapses/graded_arrays.wgsl for a coupling whose source's S lies in `source` ranges and
/// whose target's input words in `target` ranges: their first parts in bindings 4, 5 and 6,
/// the others from `first` on (S's, then syn_g's, then syn_i0's). S is bound alone, so its
/// index is the source neuron's (the coupling's `activation` 0).
pub fn coupling_wgsl(source: NeuronChunks, target: NeuronChunks, first: usize) -> String {
    let mut s = format!(
        "// S in ranges of {} neurons, the target's input in ranges of {} (src/backend/gpu/neuron_ranges.rs).\n",
        source.len, target.len
    );
    s += &source.accessors("source_state", "read", "array<f32>", 4, first, 1, "source_s", "");
    let first = first + source.count - 1;
    s += &target.accessors("syn_g", "read_write", "array<f32>", 5, first, 1, "syn_g_at", "set_syn_g");
    s += &target.accessors("syn_i0", "read_write", "array<f32>", 6, first + target.count - 1, 1, "syn_i0_at", "set_syn_i0");
    s + "\nfn presynaptic_s(index: u32) -> f32 {\n    return source_s(0u, index);\n}\n\n\
         fn input_sums(i: u32) -> vec2<f32> {\n    return vec2<f32>(syn_g_at(0u, i), syn_i0_at(0u, i));\n}\n\n\
         fn set_input_sums(i: u32, g: f32, i0: f32) {\n    set_syn_g(0u, i, g);\n    set_syn_i0(0u, i, i0);\n}\n"
}

/// synapses/source_spikes.wgsl over a source population's spike flags in `chunks` ranges:
/// the first range in binding 5, the others from `first` on (after the propagation's rings).
pub fn source_spikes_wgsl(chunks: NeuronChunks, first: usize) -> String {
    let mut s = format!(
        "// The source's spike flags in ranges of {} neurons (src/backend/gpu/neuron_ranges.rs).\n",
        chunks.len
    );
    s += &chunks.accessors("spiked", "read", "array<u32>", 5, first, 1, "spiked_in", "");
    s + "\nfn source_spiked(i: u32) -> u32 {\n    return spiked_in(0u, i);\n}\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_of_a_population_cut_within_its_variables_reach_every_range() {
        use super::super::event_parts::EventSplit;
        use super::super::kernels::{COUPLING_SLOTS, NEURON_SLOTS};
        use super::super::parted::UpdateParts;
        use super::super::state_parts::StateSplit;
        // HH's five variables of 1000 neurons in ranges of 400: 15 parts, the input words in
        // three each and two steps of spike flags in six.
        let s = StateSplit::new(5, 1000, 1600);
        let parts = UpdateParts::new(s, 2, &EventSplit::whole(0));
        assert_eq!(parts.array_parts(), 2 + 2 + 5);
        let own = NEURON_SLOTS.len();
        assert_eq!(parts.slots(&NEURON_SLOTS).len(), own + 14 + 9);
        let cut = parts.compose(crate::shaders::compose("neurons/hh").unwrap(), own).unwrap();
        // The state's parts first, then syn_g's, syn_i0's and the flags'.
        for (binding, name) in [(own, "state_1"), (own + 14, "syn_g_1"), (own + 16, "syn_i0_1"), (own + 18, "spiked_1"), (own + 22, "spiked_5")] {
            assert!(cut.contains(&format!("@binding({binding}) var<storage, read_write> {name}:")), "{name}");
        }
        assert!(!cut.contains(&format!("@binding({})", own + 23)));
        super::super::parted::validate(&cut);
        // A coupling from a population in ranges of 400 onto one in ranges of 250, and from
        // a whole one.
        let (source, target) = (NeuronChunks::new(1000, 1600), NeuronChunks::new(1000, 1000));
        for source in [source, NeuronChunks::whole()] {
            let module = coupling_wgsl(source, target, COUPLING_SLOTS.len() + 1);
            for shader in ["synapses/graded_coupling", "synapses/graded_blocked"] {
                let text = crate::shaders::compose(shader).unwrap();
                let cut = parted::replace_module(text, "synapses/graded_arrays", &module).unwrap();
                parted::validate(&cut);
            }
        }
    }
}
