//! A population's state in bindings: one buffer when it fits one binding, else cut into
//! parts of whole variables, each a buffer of its own: variable k in part k / per_part, at
//! (k % per_part)·n + i. The models read and write their state through `state_at` and
//! `set_state` (shaders/common/state.wgsl), so a model's code is the same either way: the
//! kernels of a cut population are composed with that module replaced by [`StateSplit::wgsl`]'s,
//! whose extra bindings follow the update's own. Pure arithmetic and text, tested without an
//! adapter.

use super::kernels::{Slot, NEURON_SLOTS};
use crate::config::GpuCoupling;
use crate::error::{Error, Result};
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

    /// The update's bind group slots: `slots`, then one read-write slot per part after the
    /// first (which takes the state's own slot).
    pub fn slots(&self, slots: &[Slot]) -> Vec<Slot> {
        let mut out = slots.to_vec();
        out.extend(std::iter::repeat_n(Slot::ReadWrite, self.parts - 1));
        out
    }

    /// A composed update shader with common/state.wgsl replaced by this split's (unchanged
    /// when whole).
    pub fn compose(&self, source: String) -> Result<String> {
        if self.is_whole() {
            return Ok(source);
        }
        let module = crate::shaders::source("common/state")?;
        if !source.contains(module) {
            return Err(Error::Gpu("an update shader without common/state.wgsl cannot take a cut state".into()));
        }
        Ok(source.replacen(module, &self.wgsl(), 1))
    }

    /// common/state.wgsl for this split: part 0 in the state's binding, the others after the
    /// update's slots, and `state_at`/`set_state` choosing the part by the variable.
    pub fn wgsl(&self) -> String {
        let first = NEURON_SLOTS.len();
        let mut s = format!(
            "// The population's state in {} bindings of {} whole variables (src/backend/gpu/state_parts.rs).\n\
             @group(0) @binding(2) var<storage, read_write> state: array<f32>;\n",
            self.parts, self.per_part
        );
        for part in 1..self.parts {
            s += &format!(
                "@group(0) @binding({}) var<storage, read_write> state_{part}: array<f32>;\n",
                first + part - 1
            );
        }
        s += &format!("const STATE_PER_PART: u32 = {}u;\n", self.per_part);
        let cases = |access: &dyn Fn(&str) -> String| -> String {
            let mut c = String::new();
            for part in 1..self.parts {
                c += &format!("        case {part}u: {{ {} }}\n", access(&format!("state_{part}")));
            }
            c += &format!("        default: {{ {} }}\n", access("state"));
            c
        };
        s += &format!(
            "\nfn state_at(k: u32, i: u32) -> f32 {{\n    \
             let at = (k % STATE_PER_PART) * population.n + i;\n    \
             switch (k / STATE_PER_PART) {{\n{}    }}\n}}\n",
            cases(&|b| format!("return {b}[at];"))
        );
        s += &format!(
            "\nfn set_state(k: u32, i: u32, x: f32) {{\n    \
             let at = (k % STATE_PER_PART) * population.n + i;\n    \
             switch (k / STATE_PER_PART) {{\n{}    }}\n}}\n",
            cases(&|b| format!("{b}[at] = x;"))
        );
        s
    }
}

/// Each population's split in bindings of `limit` bytes under the `resolved` coupling kernel;
/// None where its state must be one binding and is larger: with fused coupling (S's second
/// block is read across neurons), where synapses written as equations read or write it (their
/// kernels take it whole), or where one variable alone exceeds a binding.
pub fn splits(net: &Shape, resolved: GpuCoupling, limit: u64) -> Vec<Option<StateSplit>> {
    let fused = resolved.is_fused() as usize;
    net.populations
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let blocks = p.n_vars + fused;
            let fits = blocks as u64 * p.size * 4 <= limit;
            match (may_cut(net, index, resolved), fits) {
                (_, true) => Some(StateSplit::whole(blocks)),
                (false, false) => None,
                (true, false) => StateSplit::new(blocks, p.size, limit),
            }
        })
        .collect()
}

/// Whether population `index`'s state may be cut at all under the `resolved` kernel.
pub fn may_cut(net: &Shape, index: usize, resolved: GpuCoupling) -> bool {
    !resolved.is_fused()
        && !net
            .projections
            .iter()
            .any(|q| q.equation_passes.is_some() && (q.source == index || q.target == index))
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
        let s = StateSplit { parts: 3, per_part: 2 };
        let text = s.wgsl();
        assert!(text.contains("@binding(2) var<storage, read_write> state: array<f32>"), "{text}");
        assert!(text.contains("@binding(13) var<storage, read_write> state_1"), "{text}");
        assert!(text.contains("@binding(14) var<storage, read_write> state_2"), "{text}");
        assert_eq!(s.slots(&NEURON_SLOTS).len(), NEURON_SLOTS.len() + 2);
        // It replaces the one-binding module in a composed update, which must still parse.
        let hh = crate::shaders::compose("neurons/hh").unwrap();
        let cut = s.compose(hh.clone()).unwrap();
        assert!(!cut.contains(crate::shaders::source("common/state").unwrap()));
        use wgpu::naga;
        let module = naga::front::wgsl::parse_str(&cut).unwrap();
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
            .validate(&module)
            .unwrap();
        assert_eq!(StateSplit::whole(5).compose(hh.clone()).unwrap(), hh);
    }

    fn network(extra: &str) -> Shape {
        let text = format!(
            "[simulation]\ndt_ms = 0.01\nduration_ms = 1.0\n\
             [populations.a]\nmodel = \"hh\"\nsize = 1000\n{extra}"
        );
        Shape::from_config(&crate::config::parse(&text, &[]).unwrap())
    }

    #[test]
    fn fused_coupling_and_synapses_written_as_equations_keep_a_state_whole() {
        let graded = "[projections.aa]\nsource = \"a\"\ntarget = \"a\"\nsynapse = \"graded\"\n\
                      connectivity = { rule = \"fixed_indegree\", k = 10 }\n";
        let net = network(graded);
        let cut = Some(StateSplit { parts: 3, per_part: 2 });
        assert_eq!(splits(&net, GpuCoupling::ThreadPerRow, 8 << 10), vec![cut]);
        assert_eq!(splits(&net, GpuCoupling::Fused, 8 << 10), vec![None]);
        assert_eq!(splits(&net, GpuCoupling::Fused, 24_000), vec![Some(StateSplit::whole(6))]);
    }
}
