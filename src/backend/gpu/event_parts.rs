//! The event-driven projections' g and delay rings in bindings. All projections share one g
//! and one ring buffer, each at its offsets (events.rs); past one binding each is cut into
//! parts of whole projections, a projection's block in one part: `ExpParams`' g_part and
//! ring_part name its parts, its offsets are within them. The kernels take and add arrivals
//! and read and write g through the functions of shaders/synapses/event_inputs.wgsl (the
//! update) and event_arrivals.wgsl (the propagation), replaced by this file's where the
//! buffers are cut (see `parted`). Pure arithmetic and text, tested without an adapter.

use super::parted;
use crate::shape::Shape;

/// Where each event-driven projection's g and rings lie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSplit {
    /// Per event-driven projection, in config order: its part of g, and of the rings.
    pub g: Vec<usize>,
    pub rings: Vec<usize>,
}

/// The part of each block (in bytes) when blocks are packed in order into bindings of
/// `limit` bytes, a new part opening where the next block would not fit; Err(index) of a
/// block larger than a binding.
pub fn pack(blocks: &[u64], limit: u64) -> Result<Vec<usize>, usize> {
    let (mut part, mut used) = (0, 0u64);
    let mut out = Vec::with_capacity(blocks.len());
    for (k, &bytes) in blocks.iter().enumerate() {
        if bytes > limit {
            return Err(k);
        }
        if used + bytes > limit {
            (part, used) = (part + 1, 0);
        }
        used += bytes;
        out.push(part);
    }
    Ok(out)
}

/// The bindings `pack`'s parts take (one where there is nothing to pack).
pub fn part_count(parts: &[usize]) -> usize {
    parts.last().map_or(1, |&k| k + 1)
}

/// (targets, ring slots) of each of `net`'s event-driven projections, in config order.
fn targets_and_slots(net: &Shape) -> Vec<(u64, u64)> {
    net.projections.iter().filter_map(|p| p.ring_slots.map(|slots| (p.n_target, slots))).collect()
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
/// index among the event-driven ones) whose block alone exceeds a binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTooLarge {
    pub array: &'static str,
    pub projection: usize,
}

impl EventSplit {
    /// Everything in one binding each, for `n` event-driven projections.
    #[cfg(test)]
    pub fn whole(n: usize) -> EventSplit {
        EventSplit { g: vec![0; n], rings: vec![0; n] }
    }

    /// The split for projections of (targets, ring slots), in bindings of `limit` bytes.
    pub fn new(projections: &[(u64, u64)], limit: u64) -> Result<EventSplit, BlockTooLarge> {
        let (g_blocks, ring_blocks) = block_bytes(projections);
        let g = pack(&g_blocks, limit).map_err(|projection| BlockTooLarge { array: "events.g", projection })?;
        let rings = pack(&ring_blocks, limit).map_err(|projection| BlockTooLarge { array: "events.rings", projection })?;
        Ok(EventSplit { g, rings })
    }

    /// The bindings g takes.
    pub fn g_parts(&self) -> usize {
        part_count(&self.g)
    }

    /// The bindings the rings take.
    pub fn ring_parts(&self) -> usize {
        part_count(&self.rings)
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
        let g = parted::Accessors { get: "event_g_at", set: "set_event_g", args: "part: u32, at: u32", prelude: "", part: "part" };
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

    #[test]
    fn projections_are_packed_whole_into_as_few_bindings_as_fit_in_order() {
        assert_eq!(pack(&[40, 40, 30, 50, 100], 100), Ok(vec![0, 0, 1, 1, 2]));
        assert_eq!(pack(&[], 100), Ok(vec![]));
        assert_eq!(pack(&[40, 101], 100), Err(1));
        // COBAHH's four projections (4000 and 1000 targets, two ring slots each).
        let cobahh = [(4000, 2), (1000, 2), (4000, 2), (1000, 2)];
        assert_eq!(EventSplit::new(&cobahh, u64::MAX).unwrap(), EventSplit::whole(4));
        let cut = EventSplit::new(&cobahh, 40_000).unwrap();
        assert_eq!((cut.g_parts(), cut.ring_parts()), (1, 2));
        assert_eq!(cut.rings, vec![0, 0, 1, 1]);
        let cut = EventSplit::new(&cobahh, 32_000).unwrap();
        assert_eq!((cut.g_parts(), cut.ring_parts()), (2, 4));
        assert_eq!((cut.g, cut.rings), (vec![0, 0, 1, 1], vec![0, 1, 2, 3]));
        assert_eq!(
            EventSplit::new(&cobahh, 16_000),
            Err(BlockTooLarge { array: "events.rings", projection: 0 })
        );
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
