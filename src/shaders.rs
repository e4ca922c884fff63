//! The WGSL modules and their composition (the GPU backend compiles them; the models name
//! theirs). WGSL has no includes, so each file names what it
//! needs in its first line (`// requires: common/step_info synapses/exp_synapse`, or
//! `// requires: nothing`), and [`compose`] concatenates a module after everything it needs,
//! each module once. Module names are paths under `shaders/` without `.wgsl`.

use crate::error::{Error, Result};

macro_rules! modules {
    ($($name:literal),* $(,)?) => {
        /// Every shader module, by name.
        pub const MODULES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../shaders/", $name, ".wgsl")))),*
        ];
    };
}

modules!(
    "common/philox",
    "common/philox_check",
    "common/step_info",
    "common/state",
    "common/neuron_arrays",
    "common/neuron_common",
    "common/instances",
    "common/record",
    "neurons/hh",
    "neurons/hh_coupled",
    "neurons/hh_traub",
    "neurons/lif",
    "neurons/ofc_saccade",
    "neurons/spike_source",
    "synapses/weights",
    "synapses/exp_synapse",
    "synapses/event_inputs",
    "synapses/event_arrivals",
    "synapses/equation_states",
    "synapses/source_spikes",
    "synapses/exp_propagate",
    "synapses/procedural",
    "synapses/graded_synapse",
    "synapses/graded_arrays",
    "synapses/graded_coupling",
    "synapses/graded_blocked",
);

/// The text of module `name`.
pub fn source(name: &str) -> Result<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| Error::Gpu(format!("no shader module `{name}`")))
}

/// The modules `name` requires, from its first line.
pub fn requires(name: &str) -> Result<Vec<&'static str>> {
    requires_in(name, source(name)?)
}

/// The modules shader `text` (called `name` in errors) requires, from its first line.
fn requires_in<'a>(name: &str, text: &'a str) -> Result<Vec<&'a str>> {
    let first = text.lines().next().unwrap_or_default();
    let list = first.strip_prefix("// requires:").ok_or_else(|| {
        Error::Gpu(format!(
            "shader module `{name}` does not start with a `// requires:` line"
        ))
    })?;
    Ok(list
        .split_whitespace()
        .filter(|n| *n != "nothing")
        .collect())
}

/// Adds `name` after the modules it requires to `done`, each once; `path` is the chain of
/// modules being visited, to report a circle.
fn visit(
    name: &'static str,
    path: &mut Vec<&'static str>,
    done: &mut Vec<&'static str>,
) -> Result<()> {
    if done.contains(&name) {
        return Ok(());
    }
    if path.contains(&name) {
        return Err(Error::Gpu(format!(
            "shader modules require each other in a circle: {} -> {name}",
            path.join(" -> ")
        )));
    }
    path.push(name);
    for dep in requires(name)? {
        visit(static_name(dep)?, path, done)?;
    }
    path.pop();
    done.push(name);
    Ok(())
}

/// `root` after every module it requires, directly or not, each once, dependencies first.
pub fn compose(root: &str) -> Result<String> {
    let mut done = Vec::new();
    visit(static_name(root)?, &mut Vec::new(), &mut done)?;
    done.iter()
        .map(|n| source(n))
        .collect::<Result<Vec<_>>>()
        .map(|s| s.concat())
}

/// A shader text that is not one of the modules (one generated from equations, say), after
/// the modules its first line requires.
pub fn compose_text(text: &str) -> Result<String> {
    let mut done = Vec::new();
    for dep in requires_in("<generated>", text)? {
        visit(static_name(dep)?, &mut Vec::new(), &mut done)?;
    }
    let mut out = done
        .iter()
        .map(|n| source(n))
        .collect::<Result<Vec<_>>>()?
        .concat();
    out.push_str(text);
    Ok(out)
}

fn static_name(name: &str) -> Result<&'static str> {
    MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| *n)
        .ok_or_else(|| Error::Gpu(format!("no shader module `{name}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_declares_what_it_requires_and_composes() {
        for (name, _) in MODULES {
            requires(name).unwrap();
            let text = compose(name).unwrap();
            assert!(text.ends_with(source(name).unwrap()), "{name} comes last");
        }
    }

    #[test]
    fn a_generated_text_comes_after_what_it_requires() {
        let text = "// requires: common/neuron_common\nfn generated() {}\n";
        let composed = compose_text(text).unwrap();
        assert!(composed.ends_with(text));
        assert_eq!(composed.matches("struct PopulationInfo").count(), 1);
        assert!(compose_text("fn no_header() {}").is_err());
    }

    #[test]
    fn a_module_comes_after_what_it_requires_and_only_once() {
        let text = compose("neurons/hh_coupled").unwrap();
        let at = |m: &str| text.find(source(m).unwrap()).unwrap();
        assert!(at("common/philox") < at("common/neuron_common"));
        assert!(at("common/step_info") < at("synapses/exp_synapse"));
        assert!(at("neurons/hh") < at("neurons/hh_coupled"));
        assert_eq!(text.matches("struct StepInfo").count(), 1);
    }
}
