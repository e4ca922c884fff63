//! WGSL for arrays held in several bindings, and the extra bindings of a population's update.
//! A kernel reads such an array through accessor functions of a small module
//! (shaders/common/state.wgsl, shaders/synapses/event_inputs.wgsl, event_arrivals.wgsl) that
//! declares it in one binding; where the array is cut into parts, the kernel is composed with
//! that module replaced by a generated one with the same functions over the parts: part 0 keeps
//! the array's binding, the others follow the kernel's own slots. The kernels' code is the
//! same either way, and so are their results.

use super::event_parts::EventSplit;
use super::kernels::Slot;
use super::neuron_ranges;
use super::state_parts::StateSplit;
use crate::error::{Error, Result};

/// The buffer name of part `k` of array `name` (part 0 keeps the name).
pub fn part_name(name: &str, k: usize) -> String {
    if k == 0 {
        name.to_string()
    } else {
        format!("{name}_{k}")
    }
}

/// `name` at `binding` and its parts 1.. at `first`…, each `var<storage, read_write>` of `ty`.
pub fn declarations(name: &str, ty: &str, binding: usize, first: usize, parts: usize) -> String {
    declarations_as(name, "read_write", ty, binding, first, parts)
}

/// As `declarations`, with the access mode given (`read` or `read_write`).
pub fn declarations_as(name: &str, access: &str, ty: &str, binding: usize, first: usize, parts: usize) -> String {
    (0..parts)
        .map(|k| {
            let at = if k == 0 { binding } else { first + k - 1 };
            format!("@group(0) @binding({at}) var<storage, {access}> {}: {ty};\n", part_name(name, k))
        })
        .collect()
}

/// A `switch` on the u32 expression `part` running `body(buffer)` on that part of `name`
/// (part 0 the default), indented for a function's body.
pub fn switch(part: &str, name: &str, parts: usize, body: &dyn Fn(&str) -> String) -> String {
    let mut s = format!("    switch ({part}) {{\n");
    for k in 1..parts {
        s += &format!("        case {k}u: {{ {} }}\n", body(&part_name(name, k)));
    }
    s += &format!("        default: {{ {} }}\n    }}\n", body(name));
    s
}

/// A reader `fn get(args) -> element` and, unless `set` is empty, a writer
/// `fn set(args, x: element)` of element `at` of the array `name` in parts, the part the u32
/// expression `part`; `prelude` (a line of the body, or empty) computes `at` where it is not an
/// argument.
pub struct Accessors<'a> {
    pub get: &'a str,
    pub set: &'a str,
    pub args: &'a str,
    pub element: &'a str,
    pub prelude: &'a str,
    pub part: &'a str,
}

impl Accessors<'_> {
    pub fn wgsl(&self, name: &str, parts: usize) -> String {
        let Accessors { get, set, args, element, prelude, part } = self;
        let mut s = format!(
            "\nfn {get}({args}) -> {element} {{\n{prelude}{}}}\n",
            switch(part, name, parts, &|b| format!("return {b}[at];"))
        );
        if !set.is_empty() {
            s += &format!(
                "\nfn {set}({args}, x: {element}) {{\n{prelude}{}}}\n",
                switch(part, name, parts, &|b| format!("{b}[at] = x;"))
            );
        }
        s
    }
}

/// `source` (a composed shader) with module `module`'s text replaced by `replacement`.
pub fn replace_module(source: String, module: &str, replacement: &str) -> Result<String> {
    let text = crate::shaders::source(module)?;
    if !source.contains(text) {
        return Err(Error::Gpu(format!("a shader without {module}.wgsl cannot take its array in parts")));
    }
    Ok(source.replacen(text, replacement, 1))
}

/// The parts a population's update binds beyond its own slots: its state's (plain updates
/// only; a fused one keeps it whole), then, where its variables are cut into ranges of
/// neurons, its input words' and spike flags' (`neuron_ranges::arrays_wgsl`), then the
/// event-driven g's, then the delay rings'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateParts {
    pub state: StateSplit,
    /// Steps of spike flags the population keeps (`PopulationInfo::spike_slots`).
    pub spike_slots: usize,
    pub g: usize,
    pub rings: usize,
}

impl UpdateParts {
    pub fn new(state: StateSplit, spike_slots: usize, events: &EventSplit) -> UpdateParts {
        UpdateParts {
            state,
            spike_slots,
            g: events.g_parts(),
            rings: events.ring_parts(),
        }
    }

    /// The parts of the input words and spike flags beyond their own bindings.
    pub fn array_parts(&self) -> usize {
        if self.state.cuts_variables() {
            neuron_ranges::arrays_extra(self.state.chunks, self.spike_slots)
        } else {
            0
        }
    }

    /// `slots` (the update's own), then one read-write slot per extra part.
    pub fn slots(&self, slots: &[Slot]) -> Vec<Slot> {
        let extra = (self.state.parts - 1) + self.array_parts() + (self.g - 1) + (self.rings - 1);
        let mut out = slots.to_vec();
        out.extend(std::iter::repeat_n(Slot::ReadWrite, extra));
        out
    }

    /// A composed update (whose own slots number `own`) with the modules of the cut arrays
    /// replaced: unchanged where everything is whole.
    pub fn compose(&self, source: String, own: usize) -> Result<String> {
        let mut source = source;
        let mut first = own;
        if !self.state.is_whole() {
            source = replace_module(source, "common/state", &self.state.wgsl(first))?;
            first += self.state.parts - 1;
        }
        if self.state.cuts_variables() {
            let module = neuron_ranges::arrays_wgsl(self.state.chunks, self.spike_slots, first);
            source = replace_module(source, "common/neuron_arrays", &module)?;
            first += self.array_parts();
        }
        if self.g > 1 || self.rings > 1 {
            let module = EventSplit::inputs_wgsl(self.g, self.rings, first);
            source = replace_module(source, "synapses/event_inputs", &module)?;
        }
        Ok(source)
    }
}

/// Parses and validates a composed shader (tests of the generated modules, no GPU needed).
#[cfg(test)]
pub fn validate(source: &str) {
    use wgpu::naga;
    let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{e:?}"));
}
