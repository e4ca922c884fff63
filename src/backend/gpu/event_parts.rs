//! The event-driven projections' g and delay rings in bindings. All projections share one g
//! and one ring buffer, each at its offsets (events.rs); past one binding each is cut into
//! parts of whole projections, a projection's block in one part: `ExpParams`' g_part and
//! ring_part name its parts, its offsets are within them. A projection whose block alone is
//! larger than a binding (4 bytes per target for g, and per target and ring slot for the rings)
//! is cut into ranges of targets as many as one binding holds, each range opening a part of
//! its own (`g_chunk` and `ring_chunk`: targets per range). The kernels take and add arrivals
//! and read and write g through the functions of shaders/synapses/event_inputs.wgsl (the
//! update) and event_arrivals.wgsl (the propagation), at the places `g_place` and `ring_place`
//! of exp_synapse.wgsl give, replaced by this file's where the buffers are cut (see
//! `parted`). Pure arithmetic and text, tested without an adapter.

use super::parted;
use crate::shape::Shape;
use std::ops::Range;

/// Where one projection's block of g or of the rings lies: whole in part `part` from word
/// `offset`, or, where it is larger than a binding, in `ranges` ranges of `chunk` targets
/// (the last may hold fewer), range c alone at the start of part `part` + c.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub part: usize,
    pub offset: u64,
    /// Targets per range; 0 where the block is whole.
    pub chunk: u64,
    pub ranges: usize,
}

impl Place {
    /// The targets of range `c`, of `targets`.
    pub fn targets(&self, c: usize, targets: u64) -> Range<u64> {
        if self.chunk == 0 {
            return 0..targets;
        }
        (c as u64 * self.chunk).min(targets)..((c as u64 + 1) * self.chunk).min(targets)
    }
}

/// The places of blocks of (targets, words per target), packed in order into bindings of
/// `limit` bytes: a new part opening where the next block would not fit, a block larger than
/// a binding cut into ranges of whole targets, each in a part of its own; and the parts they
/// take. Err(index) of a block of which not one target fits a binding.
pub fn pack(blocks: &[(u64, u64)], limit: u64) -> Result<(Vec<Place>, usize), usize> {
    let words_limit = limit / 4;
    let (mut part, mut used) = (0usize, 0u64);
    let mut out = Vec::with_capacity(blocks.len());
    for (k, &(targets, per_target)) in blocks.iter().enumerate() {
        let per_target = per_target.max(1);
        let words = targets * per_target;
        if words <= words_limit {
            if used + words > words_limit {
                (part, used) = (part + 1, 0);
            }
            out.push(Place { part, offset: used, chunk: 0, ranges: 1 });
            used += words;
            continue;
        }
        let chunk = words_limit / per_target;
        if chunk == 0 {
            return Err(k);
        }
        if used > 0 {
            part += 1;
        }
        let ranges = targets.div_ceil(chunk) as usize;
        out.push(Place { part, offset: 0, chunk, ranges });
        part += ranges - 1;
        used = (targets - (ranges as u64 - 1) * chunk) * per_target;
    }
    Ok((out, part + 1))
}

/// (targets, ring slots) of each of `net`'s event-driven projections, in config order: the
/// blocks of the rings, as `pack` takes them ((targets, 1) for g's).
pub fn targets_and_slots(net: &Shape) -> Vec<(u64, u64)> {
    net.projections.iter().filter_map(|p| p.ring_slots.map(|slots| (p.n_target, slots))).collect()
}

/// The blocks of g for projections of (targets, ring slots): one word per target.
pub fn g_blocks(projections: &[(u64, u64)]) -> Vec<(u64, u64)> {
    projections.iter().map(|&(targets, _)| (targets, 1)).collect()
}

/// The bytes of each projection's g and of its rings.
fn block_bytes(projections: &[(u64, u64)]) -> (Vec<u64>, Vec<u64>) {
    let g = projections.iter().map(|&(targets, _)| targets * 4).collect();
    let rings = projections.iter().map(|&(targets, slots)| slots * targets * 4).collect();
    (g, rings)
}

/// The bytes of each of `net`'s event-driven projections' g and of its rings (`preflight`).
pub fn blocks(net: &Shape) -> (Vec<u64>, Vec<u64>) {
    block_bytes(&targets_and_slots(net))
}

/// What cannot be cut: the array (`events.g` or `events.rings`) and the projection (its
/// index among the event-driven ones) of which not one target fits a binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTooLarge {
    pub array: &'static str,
    pub projection: usize,
}

/// Where each event-driven projection's g and rings lie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSplit {
    /// Per event-driven projection, in config order: its place in g, and in the rings.
    pub g: Vec<Place>,
    pub rings: Vec<Place>,
    g_parts: usize,
    ring_parts: usize,
}

impl EventSplit {
    /// Everything in one binding each, for `n` event-driven projections.
    #[cfg(test)]
    pub fn whole(n: usize) -> EventSplit {
        EventSplit::new(&vec![(0, 1); n], u64::MAX).expect("empty blocks fit")
    }

    /// The split for projections of (targets, ring slots), in bindings of `limit` bytes.
    pub fn new(projections: &[(u64, u64)], limit: u64) -> Result<EventSplit, BlockTooLarge> {
        let (g, g_parts) = pack(&g_blocks(projections), limit).map_err(|projection| BlockTooLarge { array: "events.g", projection })?;
        let (rings, ring_parts) = pack(projections, limit).map_err(|projection| BlockTooLarge { array: "events.rings", projection })?;
        Ok(EventSplit { g, rings, g_parts, ring_parts })
    }

    /// The bindings g takes.
    pub fn g_parts(&self) -> usize {
        self.g_parts
    }

    /// The bindings the rings take.
    pub fn ring_parts(&self) -> usize {
        self.ring_parts
    }

    /// The split of `net`'s event-driven projections.
    pub fn of_shape(net: &Shape, limit: u64) -> Result<EventSplit, BlockTooLarge> {
        EventSplit::new(&targets_and_slots(net), limit)
    }

    /// shaders/synapses/event_inputs.wgsl over `g_parts` and `ring_parts` bindings: part 0
    /// of each in its own binding, the other parts of g from binding `first` on, then the
    /// other parts of the rings.
    pub fn inputs_wgsl(g_parts: usize, ring_parts: usize, first: usize) -> String {
        let mut s = format!(
            "// The event-driven g in {g_parts} bindings and the rings in {ring_parts}, each part whole projections (src/backend/gpu/event_parts.rs).\n"
        );
        s += &parted::declarations("event_g", "array<f32>", 9, first, g_parts);
        s += &parted::declarations("event_rings", "array<i32>", 10, first + g_parts - 1, ring_parts);
        let g = parted::Accessors {
            get: "event_g_at",
            set: "set_event_g",
            args: "part: u32, at: u32",
            element: "f32",
            prelude: "",
            part: "part",
        };
        s += &g.wgsl("event_g", g_parts);
        s += &format!(
            "\nfn take_arrivals(part: u32, at: u32) -> i32 {{\n{}}}\n",
            parted::switch("part", "event_rings", ring_parts, &|b| {
                format!("let arrived = {b}[at]; {b}[at] = 0; return arrived;")
            })
        );
        s
    }

    /// shaders/synapses/event_arrivals.wgsl over `ring_parts` bindings, the parts after the
    /// first from binding `first` on.
    pub fn arrivals_wgsl(ring_parts: usize, first: usize) -> String {
        let mut s = format!(
            "// The delay rings in {ring_parts} bindings, each part whole projections (src/backend/gpu/event_parts.rs).\n"
        );
        s += &parted::declarations("event_rings", "array<atomic<i32>>", 6, first, ring_parts);
        s += &format!(
            "\nfn add_arrival(part: u32, at: u32, w: i32) {{\n{}}}\n",
            parted::switch("part", "event_rings", ring_parts, &|b| format!("atomicAdd(&{b}[at], w);"))
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_of(places: &[Place]) -> Vec<usize> {
        places.iter().map(|p| p.part).collect()
    }

    #[test]
    fn projections_are_packed_whole_into_as_few_bindings_as_fit_in_order() {
        // Blocks of 10, 10, 7, 12 and 25 words in bindings of 25.
        let (places, parts) = pack(&[(10, 1), (10, 1), (7, 1), (12, 1), (25, 1)], 100).unwrap();
        assert_eq!((parts_of(&places), parts), (vec![0, 0, 1, 1, 2], 3));
        assert_eq!(places[3], Place { part: 1, offset: 7, chunk: 0, ranges: 1 });
        assert_eq!(pack(&[], 100), Ok((vec![], 1)));
        // COBAHH's four projections (4000 and 1000 targets, two ring slots each).
        let cobahh = [(4000, 2), (1000, 2), (4000, 2), (1000, 2)];
        assert_eq!(EventSplit::new(&cobahh, u64::MAX).unwrap(), EventSplit::new(&cobahh, 1 << 20).unwrap());
        let whole = EventSplit::new(&cobahh, u64::MAX).unwrap();
        assert_eq!((whole.g_parts(), whole.ring_parts(), parts_of(&whole.g)), (1, 1, vec![0; 4]));
        let cut = EventSplit::new(&cobahh, 40_000).unwrap();
        assert_eq!((cut.g_parts(), cut.ring_parts()), (1, 2));
        assert_eq!(parts_of(&cut.rings), vec![0, 0, 1, 1]);
        let cut = EventSplit::new(&cobahh, 32_000).unwrap();
        assert_eq!((cut.g_parts(), cut.ring_parts()), (2, 4));
        assert_eq!((parts_of(&cut.g), parts_of(&cut.rings)), (vec![0, 0, 1, 1], vec![0, 1, 2, 3]));
    }

    #[test]
    fn a_block_past_a_binding_is_cut_into_ranges_of_whole_targets_each_in_a_part_of_its_own() {
        // In bindings of 16 kB (4000 words): `ee`'s rings (8000 words) in two ranges of 2000
        // targets, each filling a part; `ei`'s (2000 words) in the next; `ie`'s again in two;
        // g (4000 words) still whole.
        let cobahh = [(4000, 2), (1000, 2), (4000, 2), (1000, 2)];
        let cut = EventSplit::new(&cobahh, 16_000).unwrap();
        assert_eq!(cut.rings[0], Place { part: 0, offset: 0, chunk: 2000, ranges: 2 });
        assert_eq!(cut.rings[1], Place { part: 2, offset: 0, chunk: 0, ranges: 1 });
        assert_eq!(cut.rings[2], Place { part: 3, offset: 0, chunk: 2000, ranges: 2 });
        assert_eq!(cut.rings[3], Place { part: 5, offset: 0, chunk: 0, ranges: 1 });
        assert_eq!(cut.ring_parts(), 6);
        assert!(cut.g.iter().all(|p| p.chunk == 0));
        // A ragged last range shares its part with the next block.
        let (places, parts) = pack(&[(10, 3), (2, 3)], 36).unwrap();
        assert_eq!(places, vec![Place { part: 0, offset: 0, chunk: 3, ranges: 4 }, Place { part: 3, offset: 3, chunk: 0, ranges: 1 }]);
        assert_eq!((parts, places[0].targets(3, 10)), (4, 9..10));
        // Not one target's ring slots fit: refused.
        assert_eq!(EventSplit::new(&[(10, 20)], 64), Err(BlockTooLarge { array: "events.rings", projection: 0 }));
    }

    #[test]
    fn the_cut_modules_keep_the_one_binding_modules_functions() {
        // In the update (after its 13 slots), a fused one (after 17) and the propagation (after 7).
        let update = crate::shaders::compose("neurons/hh_traub").unwrap();
        let cut = parted::replace_module(update, "synapses/event_inputs", &EventSplit::inputs_wgsl(2, 3, 13)).unwrap();
        assert!(cut.contains("@binding(13) var<storage, read_write> event_g_1"), "{cut}");
        assert!(cut.contains("@binding(15) var<storage, read_write> event_rings_2"), "{cut}");
        parted::validate(&cut);
        // A fused update binds its projection's four slots first (13–16).
        let fused = crate::shaders::compose("neurons/hh_coupled").unwrap();
        let cut = parted::replace_module(fused, "synapses/event_inputs", &EventSplit::inputs_wgsl(2, 2, 17)).unwrap();
        assert!(cut.contains("@binding(18) var<storage, read_write> event_rings_1"), "{cut}");
        parted::validate(&cut);
        let propagate = crate::shaders::compose("synapses/exp_propagate").unwrap();
        let cut = parted::replace_module(propagate, "synapses/event_arrivals", &EventSplit::arrivals_wgsl(3, 7)).unwrap();
        assert!(cut.contains("@binding(8) var<storage, read_write> event_rings_2"), "{cut}");
        parted::validate(&cut);
    }
}
