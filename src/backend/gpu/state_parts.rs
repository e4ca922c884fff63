//! A population's state in bindings: one buffer when it fits one binding, else cut into
//! parts of whole variables, each a buffer of its own: variable k in part k / per_part, at
//! (k % per_part)·n + i. The models read and write their state through `state_at` and
//! `set_state` (shaders/common/state.wgsl), so a model's code is the same either way: the
//! kernels of a cut population are composed with that module replaced by [`StateSplit::wgsl`]'s,
//! whose extra bindings follow the update's own. Pure arithmetic and text, tested without an
//! adapter.

use super::parted;
use crate::config::GpuCoupling;
use crate::shape::Shape;
use std::ops::Range;

/// How one population's variable blocks lie in bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateSplit {
    pub parts: usize,
    /// Whole variables per part (the last part may hold fewer).
    pub per_part: usize,
}

impl StateSplit {
    /// `blocks` variables of `size` f32 each, in bindings of `limit` bytes: whole when they
    /// fit one, else in as few parts of whole variables as fit; None where one variable alone
    /// is larger than a binding.
    pub fn new(blocks: usize, size: u64, limit: u64) -> Option<StateSplit> {
        let blocks = blocks.max(1);
        let block = size.max(1) * 4;
        if block > limit {
            return None;
        }
        let per_part = usize::try_from(limit / block).unwrap_or(usize::MAX).min(blocks);
        Some(StateSplit {
            parts: blocks.div_ceil(per_part),
            per_part,
        })
    }

    /// One binding for `blocks` variables.
    pub fn whole(blocks: usize) -> StateSplit {
        StateSplit {
            parts: 1,
            per_part: blocks.max(1),
        }
    }

    pub fn is_whole(&self) -> bool {
        self.parts == 1
    }

    /// (part, variable within the part) of variable `k`.
    pub fn place(&self, k: usize) -> (usize, usize) {
        (k / self.per_part, k % self.per_part)
    }

    /// The variables part `part` holds, of `blocks` in all.
    pub fn vars(&self, part: usize, blocks: usize) -> Range<usize> {
        (part * self.per_part).min(blocks)..((part + 1) * self.per_part).min(blocks)
    }

    /// common/state.wgsl for this split: part 0 in the state's binding, the others from
    /// binding `first` on (after the update's slots), and `state_at`/`set_state` choosing the
    /// part by the variable.
    pub fn wgsl(&self, first: usize) -> String {
        let mut s = format!(
            "// The population's state in {} bindings of {} whole variables (src/backend/gpu/state_parts.rs).\n",
            self.parts, self.per_part
        );
        s += &parted::declarations("state", "array<f32>", 2, first, self.parts);
        s += &format!("const STATE_PER_PART: u32 = {}u;\n", self.per_part);
        let state = parted::Accessors {
            get: "state_at",
            set: "set_state",
            args: "k: u32, i: u32",
            prelude: "    let at = (k % STATE_PER_PART) * population.n + i;\n",
            part: "k / STATE_PER_PART",
        };
        s + &state.wgsl("state", self.parts)
    }
}

/// synapses/equation_states.wgsl for the pre-synaptic population's split (None within one
/// population, whose variables are then read from the post-synaptic binding) and the
/// post-synaptic one's: their first parts in bindings 6 and 7, the others from binding `first`
/// on, the pre-synaptic population's first.
pub fn synapse_wgsl(pre: Option<StateSplit>, post: StateSplit, first: usize) -> String {
    let pre = pre.unwrap_or(StateSplit::whole(1));
    let mut s = format!(
        "// The pre-synaptic state in {} bindings, the post-synaptic in {}, each part whole variables (src/backend/gpu/state_parts.rs).\n",
        pre.parts, post.parts
    );
    s += &parted::declarations_as("pre_state", "read", "array<f32>", 6, first, pre.parts);
    s += &parted::declarations_as("post_state", "read_write", "array<f32>", 7, first + pre.parts - 1, post.parts);
    s += &format!("const PRE_PER_PART: u32 = {}u;\nconst POST_PER_PART: u32 = {}u;\n", pre.per_part, post.per_part);
    let post_state = parted::Accessors {
        get: "post_at",
        set: "set_post",
        args: "k: u32, ipost: u32",
        prelude: "    let at = (k % POST_PER_PART) * info.n_post + ipost;\n",
        part: "k / POST_PER_PART",
    };
    s += &post_state.wgsl("post_state", post.parts);
    s += &format!(
        "\nfn pre_load(k: u32, ipre: u32) -> f32 {{\n    if (SAME_POPULATION) {{\n        return post_at(k, ipre);\n    }}\n    \
         let at = (k % PRE_PER_PART) * info.n_pre + ipre;\n{}}}\n",
        parted::switch("k / PRE_PER_PART", "pre_state", pre.parts, &|b| format!("return {b}[at];"))
    );
    s
}

/// Each population's split in bindings of `limit` bytes under the `resolved` coupling kernel;
/// None where its state must be one binding and is larger: with fused coupling (S's second
/// block is read across neurons), or where one variable alone exceeds a binding.
pub fn splits(net: &Shape, resolved: GpuCoupling, limit: u64) -> Vec<Option<StateSplit>> {
    let fused = resolved.is_fused() as usize;
    net.populations
        .iter()
        // `new` keeps a state that fits whole; one that may not be cut must fit.
        .map(|p| StateSplit::new(p.n_vars + fused, p.size, limit).filter(|s| s.is_whole() || may_cut(resolved)))
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
        assert_eq!(StateSplit::new(5, 1000, 20_000), Some(StateSplit { parts: 1, per_part: 5 }));
        let s = StateSplit::new(5, 1000, 8 << 10).unwrap();
        assert_eq!(s, StateSplit { parts: 3, per_part: 2 });
        assert_eq!([s.place(0), s.place(3), s.place(4)], [(0, 0), (1, 1), (2, 0)]);
        assert_eq!([s.vars(0, 5), s.vars(1, 5), s.vars(2, 5)], [0..2, 2..4, 4..5]);
        // One variable per binding, and none where one variable is too large.
        assert_eq!(StateSplit::new(5, 1000, 4000), Some(StateSplit { parts: 5, per_part: 1 }));
        assert_eq!(StateSplit::new(5, 1000, 3999), None);
    }

    #[test]
    fn a_cut_states_module_declares_every_part_after_the_updates_slots() {
        use super::super::event_parts::EventSplit;
        use super::super::kernels::NEURON_SLOTS;
        use super::super::parted::UpdateParts;
        let s = StateSplit { parts: 3, per_part: 2 };
        let text = s.wgsl(13);
        assert!(text.contains("@binding(2) var<storage, read_write> state: array<f32>"), "{text}");
        assert!(text.contains("@binding(13) var<storage, read_write> state_1"), "{text}");
        assert!(text.contains("@binding(14) var<storage, read_write> state_2"), "{text}");
        let parts = UpdateParts::new(s, &EventSplit::whole(0));
        assert_eq!(parts.slots(&NEURON_SLOTS).len(), NEURON_SLOTS.len() + 2);
        // It replaces the one-binding module in a composed update, which must still be valid.
        let hh = crate::shaders::compose("neurons/hh").unwrap();
        let cut = parts.compose(hh.clone(), NEURON_SLOTS.len()).unwrap();
        assert!(!cut.contains(crate::shaders::source("common/state").unwrap()));
        super::super::parted::validate(&cut);
        let whole = UpdateParts::new(StateSplit::whole(5), &EventSplit::whole(0));
        assert_eq!(whole.compose(hh.clone(), NEURON_SLOTS.len()).unwrap(), hh);
    }

    #[test]
    fn a_synapse_kernel_reaches_cut_states_over_their_parts() {
        // Brian2's STDP example's shader with both populations' states cut.
        let text = super::super::equations::stdp_example_shader();
        let module = synapse_wgsl(Some(StateSplit { parts: 2, per_part: 1 }), StateSplit { parts: 3, per_part: 2 }, 10);
        assert!(module.contains("@binding(10) var<storage, read> pre_state_1"), "{module}");
        assert!(module.contains("@binding(12) var<storage, read_write> post_state_2"), "{module}");
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
        let cut = Some(StateSplit { parts: 3, per_part: 2 });
        assert_eq!(splits(&net, GpuCoupling::ThreadPerRow, 8 << 10), vec![cut]);
        assert_eq!(splits(&net, GpuCoupling::Fused, 8 << 10), vec![None]);
        assert_eq!(splits(&net, GpuCoupling::Fused, 24_000), vec![Some(StateSplit::whole(6))]);
    }
}
