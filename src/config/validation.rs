//! Everything the types alone cannot check: finite numbers, whole durations, names, sizes,
//! ranges and names that refer to others, each error naming its key. Validation returns what
//! it resolved, so that nothing after it looks a name up again.

use super::*;
use crate::error::{Error, Result};
use crate::model::Kind;
use std::collections::BTreeMap;
use crate::record::EventGroup;

/// What validation resolved from names, in config order: what the network and the recording
/// plan read instead of looking names up again.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Per population: its model.
    pub models: Vec<Kind>,
    /// Per projection: its source and target populations.
    pub projections: Vec<Ends>,
    /// Per projection: its synapse model compiled, where written as equations.
    pub synapses: Vec<Option<std::sync::Arc<crate::equations::synapse::SynapseProgram>>>,
    /// Per trace entry: its population and each variable.
    pub traces: Vec<ResolvedTrace>,
    /// Per `record.synapses` entry: its projection and the index of each variable.
    pub synapse_traces: Vec<(usize, Vec<usize>)>,
    /// Per projection: its SONATA edges, where its connectivity is a SONATA file.
    pub edges: Vec<Option<std::sync::Arc<crate::io::sonata::Edges>>>,
    /// Per population: its SONATA nodes, where it names a nodes file.
    pub nodes: Vec<Option<std::sync::Arc<crate::io::sonata::nodes::Nodes>>>,
    /// Every population's linked variables.
    pub links: Vec<super::links::Link>,
    /// `record.smooth_rate`'s window.
    pub smooth_rate: Option<crate::smooth_rate::Smoothing>,
    /// Per population: the state slots `record.spike_variables` records with each spike.
    pub spike_values: Vec<Vec<usize>>,
    /// Per subgroup in `record.spike_variables`: the state slots recorded with its spikes.
    pub subgroup_spike_values: indexmap::IndexMap<String, Vec<usize>>,
    /// `record.events`: (population, event of its model), sorted, once each: what the
    /// backends record for the event groups.
    pub events: Vec<(usize, usize)>,
    /// `record.events` and `record.event_variables`: the event groups the output holds.
    pub event_groups: Vec<EventGroup>,
    /// Per entry of `events`: the state slots `record.event_variables` records with it.
    pub event_values: Vec<Vec<usize>>,
}

/// Why `name` names no population or subgroup.
fn unknown_group(name: &str) -> String {
    format!("no population or subgroup named `{name}`")
}

/// The slots `record.spike_variables` records: per population, and per subgroup by name.
type SpikeSlots = (Vec<Vec<usize>>, indexmap::IndexMap<String, Vec<usize>>);

/// A projection's source and target, as population indices, and the neurons of each it spans
/// (a subgroup's, or all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ends {
    pub source: usize,
    pub target: usize,
    pub source_group: super::Group,
    pub target_group: super::Group,
}

impl Ends {
    /// Whether either end is a subgroup short of its whole population.
    pub fn is_partial(&self) -> bool {
        !(self.source_group.whole && self.target_group.whole)
    }
}

/// A trace entry's population (index) and variables, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedTrace {
    pub population: usize,
    pub variables: Vec<TraceVar>,
    pub when: crate::record::Sampled,
}

/// No model, weight or duration is meaningful as NaN or ±inf, and TOML accepts `nan` and
/// `inf`: one walk over the whole document rejects them all, naming the key, before any
/// field is read.
pub(super) fn reject_non_finite(at: &str, value: &toml::Value) -> Result<()> {
    match value {
        toml::Value::Float(x) if !x.is_finite() => Err(Error::config(
            at,
            format!("must be a finite number, got {x}"),
        )),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| reject_non_finite(&format!("{at}[{i}]"), v)),
        toml::Value::Table(t) => t.iter().try_for_each(|(k, v)| {
            let key = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            reject_non_finite(&key, v)
        }),
        _ => Ok(()),
    }
}

/// Population and projection names become HDF5 group names and parts of trace variable
/// names (`g_<projection>`), so they are kept to identifiers: a letter or `_`, then letters,
/// digits or `_`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_name(kind: &str, name: &str) -> Result<()> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(Error::config(
            format!("{kind}.\"{name}\""),
            format!(
                "`{name}` is not a valid {} name: use a letter or `_` followed by letters, digits or `_`",
                &kind[..kind.len() - 1]
            ),
        ))
    }
}

/// The slots of `variables`, recorded with the spikes or events of population `name` (errors
/// at `key`): its model's differential variables and parameters, which the update leaves
/// current (a subexpression's slot is not kept so), each once, none named as a dataset of the
/// spikes' own beside which its dataset sits.
fn recordable_slots(model: &crate::equations::neuron::NeuronModel, name: &str, key: &str, variables: &[String]) -> Result<Vec<usize>> {
    if variables.is_empty() {
        return Err(Error::config(key, "name at least one variable"));
    }
    let recordable: Vec<&str> = model.vars[..model.spike_recordable()].iter().map(|v| v.name.as_str()).collect();
    let mut out = Vec::new();
    for (i, v) in variables.iter().enumerate() {
        let Some(k) = model.slot(v).filter(|&k| k < recordable.len()) else {
            let what = if model.slot(v).is_some() { "is not a differential variable, parameter or subexpression of" } else { "is not a variable of" };
            return Err(Error::config(format!("{key}[{i}]"), format!("`{v}` {what} `{name}`'s model; it has {}", recordable.join(", "))));
        };
        if variables[..i].contains(v) {
            return Err(Error::config(format!("{key}[{i}]"), format!("`{v}` is listed twice")));
        }
        if crate::io::hdf5::SPIKE_DATASETS.contains(&v.as_str()) {
            return Err(Error::config(format!("{key}[{i}]"), format!("`{v}` is the name of a spike dataset; a variable of that name cannot be recorded with the spikes")));
        }
        out.push(k);
    }
    Ok(out)
}

/// The number of steps a duration takes: a whole number of at least one, or an error naming
/// the key. A duration within a millionth of a step of a whole number counts as whole, so
/// that decimal values such as 0.1 ms steps over 1000 ms pass.
pub fn whole_steps(key: &str, duration_ms: f64, dt_ms: f64) -> Result<u64> {
    let exact = duration_ms / dt_ms;
    let steps = exact.round();
    if exact < 1.0 - 1e-6 {
        return Err(Error::config(
            key,
            format!("{duration_ms} ms is shorter than one step of dt = {dt_ms} ms"),
        ));
    }
    if (exact - steps).abs() > 1e-6 {
        let below = exact.floor() * dt_ms;
        let above = exact.ceil() * dt_ms;
        return Err(Error::config(
            key,
            format!(
                "{duration_ms} ms is not a whole number of steps of dt = {dt_ms} ms ({exact:.4} steps); use {} or {} ms",
                trim_float(below),
                trim_float(above)
            ),
        ));
    }
    Ok(steps as u64)
}

/// A float printed without the noise of binary rounding (0.30000000000000004 → 0.3).
fn trim_float(x: f64) -> String {
    let s = format!("{x:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Config {
    /// Checks everything the types alone cannot: sizes, ranges, names that refer to others.
    pub fn validate(&self) -> Result<Resolved> {
        let sim = &self.simulation;
        if !(sim.dt_ms.is_finite() && sim.dt_ms > 0.0) {
            return Err(Error::config(
                "simulation.dt_ms",
                format!("must be a positive number of ms, got {}", sim.dt_ms),
            ));
        }
        if !(sim.duration_ms.is_finite() && sim.duration_ms > 0.0) {
            return Err(Error::config(
                "simulation.duration_ms",
                format!("must be a positive number of ms, got {}", sim.duration_ms),
            ));
        }
        if sim.duration_ms / sim.dt_ms > u32::MAX as f64 * 4.0 {
            return Err(Error::config(
                "simulation.duration_ms",
                "more steps than a run can count",
            ));
        }
        whole_steps("simulation.duration_ms", sim.duration_ms, sim.dt_ms)?;
        if sim.chunk_steps == Some(0) {
            return Err(Error::config(
                "simulation.chunk_steps",
                "must be at least 1",
            ));
        }
        if sim.gpu_max_binding_mib == Some(0) {
            return Err(Error::config(
                "simulation.gpu_max_binding_mib",
                "must be at least 1 (MiB)",
            ));
        }
        if let Some(gib) = sim.gpu_memory_gib {
            if !(gib.is_finite() && gib > 0.0) {
                return Err(Error::config(
                    "simulation.gpu_memory_gib",
                    format!("must be a positive number of GiB, not {gib}"),
                ));
            }
        }
        if self.populations.is_empty() {
            return Err(Error::config(
                "populations",
                "at least one population is needed",
            ));
        }
        for name in self.populations.keys() {
            check_name("populations", name)?;
        }
        for name in self.projections.keys() {
            check_name("projections", name)?;
        }
        let tables = self.timed_arrays()?;
        let equation_models = self.compile_models(&tables)?;
        let models = self
            .populations
            .iter()
            .map(|(name, pop)| {
                let at = format!("populations.{name}");
                let poisson = pop.model == "poisson" && !self.models.contains_key("poisson");
                match (&pop.rates, poisson) {
                    (Some(_), false) => {
                        return Err(Error::config(
                            format!("{at}.rates"),
                            "only `model = \"poisson\"` populations take rates",
                        ))
                    }
                    (None, true) => {
                        return Err(Error::config(
                            format!("{at}.rates"),
                            "a poisson population needs its rates, e.g. rates = \"15*Hz\"",
                        ))
                    }
                    (Some(rates), true) => return self.poisson_model(name, rates, &tables),
                    (None, false) => {}
                }
                equation_models
                    .get(pop.model.as_str())
                    .cloned()
                    .or_else(|| crate::model::resolve(&pop.model))
                    .ok_or_else(|| {
                        let mut known = crate::model::names();
                        for m in self.models.keys() {
                            known.push_str(&format!(", {m}"));
                        }
                        Error::config(
                            format!("populations.{name}.model"),
                            format!("unknown model `{}`; this config has {known}", pop.model),
                        )
                    })
            })
            .collect::<Result<Vec<Kind>>>()?;
        let models = models
            .into_iter()
            .zip(&self.populations)
            .map(|(kind, (name, pop))| self.with_population_code(kind, name, pop))
            .collect::<Result<Vec<Kind>>>()?;
        let variable_names = |index: usize| -> Vec<&'static str> {
            models[index].variables().iter().map(|v| v.name).collect()
        };
        let mut nodes = Vec::new();
        for (index, (name, pop)) in self.populations.iter().enumerate() {
            let at = format!("populations.{name}");
            if pop.size == 0 {
                return Err(Error::config(format!("{at}.size"), "must be at least 1"));
            }
            if pop.size > u32::MAX as u64 {
                return Err(Error::config(
                    format!("{at}.size"),
                    "must fit in 32 bits (at most 4294967295)",
                ));
            }
            self.check_subgroups(name, pop)?;
            models[index]
                .parse(&format!("{at}.params"), &pop.params, self.clock())?
                .check_size(pop.size as usize)?;
            nodes.push(super::sonata::population_nodes(name, pop, models[index].equations())?);
            if let Some(m) = models[index].equations() {
                crate::equations::init::check_init(m, &format!("{at}.init"), pop.size, &pop.init)?;
                continue;
            }
            let vars = variable_names(index);
            for (var, init) in &pop.init {
                let key = format!("{at}.init.{var}");
                if !vars.contains(&var.as_str()) {
                    return Err(Error::config(
                        key,
                        format!(
                            "unknown variable; the {} model has {}",
                            models[index].name(),
                            vars.join(", ")
                        ),
                    ));
                }
                match init {
                    InitValue::PerNeuron(list) if list.len() as u64 != pop.size => {
                        return Err(Error::config(
                            key,
                            format!("has {} values for {} neurons", list.len(), pop.size),
                        ));
                    }
                    InitValue::Uniform { uniform: [a, b] } if !(a <= b) => {
                        return Err(Error::config(
                            key,
                            "uniform = [low, high] needs low <= high",
                        ));
                    }
                    InitValue::Normal { normal: [_, sd], .. } if !(*sd >= 0.0) => {
                        return Err(Error::config(key, "normal = [mean, sd] needs sd >= 0"));
                    }
                    InitValue::Expression(_) => {
                        return Err(Error::config(
                            key,
                            format!("expressions are for models written as equations; the {} model takes numbers, lists and draws", models[index].name()),
                        ));
                    }
                    _ => {}
                }
            }
        }
        let mut projections = Vec::new();
        let mut synapses = Vec::new();
        let mut edges = Vec::new();
        let mut summed_targets: Vec<(usize, usize, &str, (u64, u64))> = Vec::new();
        for (name, proj) in &self.projections {
            let group = |key: &str, pop: &str| {
                self.group(pop).ok_or_else(|| {
                    Error::config(
                        format!("projections.{name}.{key}"),
                        unknown_group(pop),
                    )
                })
            };
            let (source_group, target_group) = (group("source", &proj.source)?, group("target", &proj.target)?);
            let ends = Ends { source: source_group.population, target: target_group.population, source_group, target_group };
            for (key, pop, index) in [
                ("source", &proj.source, ends.source),
                ("target", &proj.target, ends.target),
            ] {
                let model = &models[index];
                if !model.info().accepts_synapses {
                    return Err(Error::config(
                        format!("projections.{name}.{key}"),
                        format!(
                            "population `{pop}` is of the {} model, whose units take no synapses",
                            model.name()
                        ),
                    ));
                }
            }
            self.validate_projection(name, proj, &models)?;
            let program = self.synapse_program(name, proj, ends, &models)?;
            self.check_partial_ends(name, proj, ends, &models, program.as_deref())?;
            crate::connectivity::expression::ConnectExpression::compile(
                &format!("projections.{name}.connectivity"),
                &proj.connectivity,
                program.as_deref(),
                crate::connectivity::expression::Ends {
                    pre: models[ends.source].equations(),
                    post: models[ends.target].equations(),
                    n_pre: ends.source_group.size,
                    n_post: ends.target_group.size,
                    dt: self.simulation.dt_ms * 1e-3,
                },
            )?;
            if let Some(p) = &program {
                // Several sums into one variable only into subgroups that do not overlap, as
                // Brian2 allows them.
                let (first, end) = (ends.target_group.first, ends.target_group.first + ends.target_group.size);
                for slot in p.summed.iter().map(|s| &s.slot) {
                    if let Some((_, _, other, _)) = summed_targets
                        .iter()
                        .find(|(t, s, _, (a, b))| *t == ends.target && s == slot && *a < end && first < *b)
                    {
                        return Err(Error::config(
                            format!("projections.{name}.synapse"),
                            format!(
                                "`{}` of `{}` is already summed by projection `{other}`; Brian2 allows one summed variable per target variable (or one each into subgroups that do not overlap)",
                                models[ends.target].variables()[*slot].name, proj.target
                            ),
                        ));
                    }
                    summed_targets.push((ends.target, *slot, name, (first, end)));
                }
            } else {
                proj.synapse_params(name)?;
            }
            edges.push(super::sonata::projection_edges(self, name, proj, program.as_deref())?);
            synapses.push(program);
            projections.push(ends);
        }
        for (key, list) in [("spikes", &self.record.spikes), ("rates", &self.record.rates)] {
            for (i, pop) in list.iter().enumerate() {
                if self.group(pop).is_none() {
                    return Err(Error::config(format!("record.{key}[{i}]"), unknown_group(pop)));
                }
                if list[..i].contains(pop) {
                    return Err(Error::config(format!("record.{key}[{i}]"), format!("`{pop}` is listed twice")));
                }
            }
        }
        // Each (population, variable) is one dataset in the output: recorded once.
        let mut traced: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut traces = Vec::new();
        for (i, t) in self.record.traces.iter().enumerate() {
            let at = format!("record.traces[{i}]");
            // A subgroup's trace is its population's, of the subgroup's neurons.
            let Some(group) = self.group(&t.population) else {
                return Err(Error::config(format!("{at}.population"), unknown_group(&t.population)));
            };
            let population = group.population;
            let mut variables = Vec::new();
            if t.variables.is_empty() {
                return Err(Error::config(
                    format!("{at}.variables"),
                    "name at least one variable",
                ));
            }
            // The model's variables, and the g of each event-driven projection into it.
            let mut vars: Vec<String> =
                variable_names(population).into_iter().map(String::from).collect();
            vars.extend(
                self.projections
                    .iter()
                    .filter(|(_, p)| {
                        self.group(&p.target).is_some_and(|g| g.population == population)
                            && self.builtin_synapse(p).is_some_and(|b| b != SynapseName::Graded)
                    })
                    .map(|(name, _)| format!("g_{name}")),
            );
            for v in &t.variables {
                if let Some(first) = traced.insert((t.population.as_str(), v.as_str()), i) {
                    let whose = if first == i {
                        "twice in this list".to_string()
                    } else {
                        format!("already by record.traces[{first}]")
                    };
                    return Err(Error::config(
                        format!("{at}.variables"),
                        format!("`{v}` of `{}` is recorded {whose}; record each variable once", t.population),
                    ));
                }
                let own = variable_names(population).iter().position(|x| x == v);
                let synaptic = v
                    .strip_prefix("g_")
                    .and_then(|p| self.projections.keys().position(|name| name == p));
                match (own, synaptic) {
                    (Some(k), _) => variables.push(TraceVar::State(k)),
                    (None, Some(p)) if vars.contains(v) => variables.push(TraceVar::Synapse(p)),
                    _ => {
                        return Err(Error::config(
                            format!("{at}.variables"),
                            format!(
                                "unknown variable `{v}`; `{}` has {}",
                                t.population,
                                vars.join(", ")
                            ),
                        ))
                    }
                }
            }
            let when = match &t.when {
                None => crate::record::Sampled::Start,
                Some(w) => crate::record::Sampled::of_brian2(w).map_err(|e| Error::config(format!("{at}.when"), e))?,
            };
            // A built-in model's update resets its neurons itself: it has no slot between.
            if when != crate::record::Sampled::Start && models[population].equations().is_none() {
                return Err(Error::config(
                    format!("{at}.when"),
                    format!("samples other than at the step's start are for models written as equations; `{}` is built in (its update resets in place)", models[population].name()),
                ));
            }
            traces.push(ResolvedTrace {
                population,
                variables,
                when,
            });
            if t.variables.len() > MAX_TRACE_VARIABLES {
                return Err(Error::config(
                    format!("{at}.variables"),
                    format!("at most {MAX_TRACE_VARIABLES} variables per trace"),
                ));
            }
            if t.every == 0 {
                return Err(Error::config(format!("{at}.every"), "must be at least 1"));
            }
            match &t.neurons {
                NeuronSelection::Keyword(k) if k != "all" => {
                    return Err(Error::config(
                        format!("{at}.neurons"),
                        format!("expected \"all\" or a list of indices, got \"{k}\""),
                    ));
                }
                NeuronSelection::List(l) if l.is_empty() => {
                    return Err(Error::config(
                        format!("{at}.neurons"),
                        "is empty: list at least one neuron, or \"all\"",
                    ));
                }
                NeuronSelection::List(l) => {
                    if let Some(bad) = l.iter().find(|&&n| n >= group.size) {
                        return Err(Error::config(
                            format!("{at}.neurons"),
                            format!("neuron {bad} is out of range for size {}", group.size),
                        ));
                    }
                    let mut seen = std::collections::BTreeSet::new();
                    if let Some(twice) = l.iter().find(|&&n| !seen.insert(n)) {
                        return Err(Error::config(
                            format!("{at}.neurons"),
                            format!("neuron {twice} is listed twice"),
                        ));
                    }
                }
                _ => {}
            }
        }
        let mut synapse_traces = Vec::new();
        for (k, t) in self.record.synapses.iter().enumerate() {
            let at = format!("record.synapses[{k}]");
            let Some(p) = self.projections.keys().position(|n| n == &t.projection) else {
                return Err(Error::config(format!("{at}.projection"), format!("no projection named `{}`", t.projection)));
            };
            let Some(program) = &synapses[p] else {
                return Err(Error::config(
                    format!("{at}.projection"),
                    format!("`{}` uses a built-in synapse; record its g with record.traces (`g_{}`)", t.projection, t.projection),
                ));
            };
            if self.group(&t.projection).is_some() {
                return Err(Error::config(
                    format!("{at}.projection"),
                    format!("`{}` names a population or subgroup too, and both would be /report/{}", t.projection, t.projection),
                ));
            }
            if t.variables.is_empty() || t.variables.len() > MAX_TRACE_VARIABLES {
                return Err(Error::config(format!("{at}.variables"), format!("name 1 to {MAX_TRACE_VARIABLES} variables")));
            }
            let mut ks = Vec::new();
            for v in &t.variables {
                let Some(idx) = program.vars.iter().position(|x| &x.name == v) else {
                    return Err(Error::config(
                        format!("{at}.variables"),
                        format!(
                            "unknown synaptic variable `{v}`; `{}` has {}",
                            t.projection,
                            program.vars.iter().map(|x| x.name.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                };
                if ks.contains(&idx) {
                    return Err(Error::config(format!("{at}.variables"), format!("`{v}` is listed twice")));
                }
                ks.push(idx);
            }
            if self.record.synapses[..k].iter().any(|o| o.projection == t.projection) {
                return Err(Error::config(format!("{at}.projection"), format!("`{}` is recorded by an earlier entry", t.projection)));
            }
            if t.every == 0 {
                return Err(Error::config(format!("{at}.every"), "must be at least 1"));
            }
            match &t.synapses {
                NeuronSelection::Keyword(w) if w != "all" => {
                    return Err(Error::config(format!("{at}.synapses"), format!("expected \"all\" or a list of indices, got \"{w}\"")))
                }
                NeuronSelection::List(l) if l.is_empty() => {
                    return Err(Error::config(format!("{at}.synapses"), "is empty: list at least one synapse, or \"all\""))
                }
                _ => {}
            }
            synapse_traces.push((p, ks));
        }
        let links = super::links::resolve(self, &models)?;
        let (spike_values, subgroup_spike_values) = self.spike_values(&models)?;
        let event_groups = self.event_groups(&models)?;
        let (events, event_values) = crate::record::collected_events(&event_groups);
        let smooth_rate = match &self.record.smooth_rate {
            None => None,
            Some(_) if self.record.rates.is_empty() => {
                return Err(Error::config("record.smooth_rate", "smooths the recorded rates, and record.rates names no population"))
            }
            Some(spec) => Some(crate::smooth_rate::Smoothing::new(spec, self.simulation.dt_ms, self.clock().n_steps)?),
        };
        Ok(Resolved {
            nodes,
            links,
            smooth_rate,
            spike_values,
            subgroup_spike_values,
            events,
            event_groups,
            event_values,
            models,
            projections,
            synapses,
            traces,
            synapse_traces,
            edges,
        })
    }

    /// `record.events` (Brian2's EventMonitor) and `record.event_variables`: the event groups
    /// the output holds, each a population's or subgroup's custom event (one of its
    /// population's `events`) with the slots of the variables recorded with it, as
    /// `spike_values` checks them.
    fn event_groups(&self, models: &[Kind]) -> Result<Vec<EventGroup>> {
        let mut out = Vec::new();
        for (name, events) in &self.record.events {
            let key = format!("record.events.{name}");
            let Some(group) = self.group(name) else {
                return Err(Error::config(key, unknown_group(name)));
            };
            let p = group.population;
            let population = self.populations.keys().nth(p).expect("a group's population");
            let defined: Vec<&str> = models[p].equations().map(|m| m.events.iter().map(|e| e.name.as_str()).collect()).unwrap_or_default();
            if events.is_empty() {
                return Err(Error::config(key, "name at least one event"));
            }
            for (i, e) in events.iter().enumerate() {
                let Some(k) = defined.iter().position(|d| d == e) else {
                    let has = if defined.is_empty() { format!("`{population}` defines no events (populations.{population}.events)") } else { format!("`{population}` defines {}", defined.join(", ")) };
                    let spike = if e == "spike" { "; its spikes are record.spikes" } else { "" };
                    return Err(Error::config(format!("{key}[{i}]"), format!("`{e}` is not an event of `{name}`: {has}{spike}")));
                };
                if events[..i].contains(e) {
                    return Err(Error::config(format!("{key}[{i}]"), format!("`{e}` is listed twice")));
                }
                out.push(EventGroup { name: name.clone(), population: p, subgroup: group.span(), event: k, slots: Vec::new() });
            }
        }
        for (name, by_event) in &self.record.event_variables {
            let Some(group) = self.group(name) else {
                return Err(Error::config(format!("record.event_variables.{name}"), unknown_group(name)));
            };
            for (event, variables) in by_event {
                let key = format!("record.event_variables.{name}.{event}");
                let model = models[group.population].equations();
                let g = model
                    .and_then(|m| m.events.iter().position(|e| &e.name == event))
                    .and_then(|k| out.iter().position(|g| &g.name == name && g.event == k))
                    .ok_or_else(|| Error::config(&key, format!("records variables with `{name}`'s event `{event}`, which record.events does not list")))?;
                let model = model.expect("an event of a model written as equations");
                out[g].slots = recordable_slots(model, name, &key, variables)?;
            }
        }
        let (collected, _) = crate::record::collected_events(&out);
        if self.populations.len() + collected.len() > 256 {
            return Err(Error::config("record.events", format!("{} populations and {} recorded events: at most 256 together", self.populations.len(), collected.len())));
        }
        Ok(out)
    }

    /// `record.spike_variables`, per population and per subgroup: the slots of the variables
    /// recorded with each of its spikes, which must be recorded, of a model written as
    /// equations.
    fn spike_values(&self, models: &[Kind]) -> Result<SpikeSlots> {
        let mut out = vec![Vec::new(); self.populations.len()];
        let mut subgroups = indexmap::IndexMap::new();
        for (name, variables) in &self.record.spike_variables {
            let key = format!("record.spike_variables.{name}");
            let Some(group) = self.group(name) else {
                return Err(Error::config(key, unknown_group(name)));
            };
            let p = group.population;
            if !self.record.spikes.contains(name) {
                return Err(Error::config(key, format!("records variables with `{name}`'s spikes, which record.spikes does not list")));
            }
            let Some(model) = models[p].equations() else {
                return Err(Error::config(key, format!("`{name}`'s model {} is built in; spike variables are for models written as equations", models[p].name())));
            };
            let slots = recordable_slots(model, name, &key, variables)?;
            match group.subgroup {
                false => out[p] = slots,
                true => _ = subgroups.insert(name.clone(), slots),
            }
        }
        Ok((out, subgroups))
    }

    /// Every `[timed_arrays.<name>]`: values in SI, row-major, laid out one after another in
    /// the model data of the populations whose equations may read them.
    fn timed_arrays(&self) -> Result<Vec<crate::equations::neuron::TimedArray>> {
        use crate::equations::{check::Scope, dims::Dim, ir::Table, parse};
        let mut out = Vec::new();
        let mut offset = 0;
        for (name, def) in &self.timed_arrays {
            let at = format!("timed_arrays.{name}");
            check_name("timed_arrays", name)?;
            let quantity = |key: &str, text: &str| {
                let e = parse::expression(text).map_err(|e| Error::config(format!("{at}.{key}"), e.to_string()))?;
                Scope::default()
                    .value(&e)
                    .map_err(|e| Error::config(format!("{at}.{key}"), e.to_string()))
            };
            let dt = quantity("dt", &def.dt)?;
            if dt.dim != Dim::SECOND || !(dt.value > 0.0) {
                return Err(Error::config(format!("{at}.dt"), "must be a positive time, e.g. \"1*ms\""));
            }
            let unit = match &def.unit {
                Some(u) => quantity("unit", u)?,
                None => crate::equations::quantities::Quantity::new(1.0, Dim::ONE),
            };
            let rows: Vec<Vec<f64>> = match (&def.values, &def.file) {
                (Some(v), None) => table_rows(&format!("{at}.values"), v)?,
                (None, Some(path)) => csv_rows(&format!("{at}.file"), path)?,
                _ => return Err(Error::config(at, "give `values` or a `file`")),
            };
            let cols = rows.first().map_or(0, Vec::len);
            if rows.is_empty() || cols == 0 {
                return Err(Error::config(at, "holds no values"));
            }
            if let Some(k) = rows.iter().position(|r| r.len() != cols) {
                return Err(Error::config(at, format!("row {k} has {} values, the first {cols}", rows[k].len())));
            }
            let values: Vec<f64> = rows.iter().flatten().map(|x| x * unit.value).collect();
            let table = Table {
                name: name.clone(),
                rows: rows.len(),
                cols,
                values,
                offset,
            };
            offset += table.values.len();
            out.push(crate::equations::neuron::TimedArray {
                table: std::sync::Arc::new(table),
                dt: dt.value,
                dim: unit.dim,
            });
        }
        Ok(out)
    }

    /// Every `[models.<name>]`, compiled for this config's step.
    fn compile_models(
        &self,
        tables: &[crate::equations::neuron::TimedArray],
    ) -> Result<BTreeMap<&str, Kind>> {
        let mut out = BTreeMap::new();
        for (name, def) in &self.models {
            check_name("models", name)?;
            let text = crate::equations::neuron::ModelText {
                equations: &def.equations,
                threshold: def.threshold.as_deref(),
                reset: def.reset.as_deref(),
                refractory: def.refractory.as_deref(),
                method: def.method.as_deref(),
                namespace: &def.namespace,
                tables,
            };
            let model = crate::equations::neuron::NeuronModel::compile(
                name,
                &format!("models.{name}"),
                &text,
                self.simulation.dt_ms * 1e-3,
            )?;
            let kind = crate::equations::model::EquationKind::new(model);
            out.insert(name.as_str(), crate::model::shared(kind));
        }
        Ok(out)
    }

    /// The model of population `name` with its PoissonInputs and `run_regularly`, where it
    /// has some.
    fn with_population_code(&self, kind: Kind, name: &str, pop: &Population) -> Result<Kind> {
        if pop.poisson_inputs.is_empty() && pop.run_regularly.is_empty() && pop.events.is_empty() {
            return Ok(kind);
        }
        let at = |what: &str| format!("populations.{name}.{what}");
        let Some(model) = kind.equations() else {
            let what = [("poisson_inputs", pop.poisson_inputs.is_empty()), ("run_regularly", pop.run_regularly.is_empty()), ("events", pop.events.is_empty())]
                .into_iter()
                .find_map(|(what, empty)| (!empty).then_some(what))
                .expect("one is given");
            return Err(Error::config(at(what), format!("PoissonInputs, run_regularly and events act on a model written as equations; `{}` is built in", pop.model)));
        };
        let inputs = pop
            .poisson_inputs
            .iter()
            .map(|(input, def)| {
                let within = match &def.subgroup {
                    None => None,
                    Some(sub) => {
                        let Some(&[a, b]) = pop.subgroups.get(sub) else {
                            let has = if pop.subgroups.is_empty() { "none".to_string() } else { pop.subgroups.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ") };
                            return Err(Error::config(at(&format!("poisson_inputs.{input}.subgroup")), format!("`{sub}` is not a subgroup of `{name}`, whose subgroups are {has}")));
                        };
                        Some((a, b.saturating_sub(a)))
                    }
                };
                Ok(crate::equations::poisson_input::PoissonInputText { name: input, variable: &def.variable, n: def.n, rate: &def.rate, weight: &def.weight, within })
            })
            .collect::<Result<Vec<_>>>()?;
        let model = crate::equations::poisson_input::with_inputs(model, &at("poisson_inputs"), &inputs)?;
        let regularly = regularly_texts(&pop.run_regularly);
        let model = crate::equations::regularly::with_regularly(&model, &at("run_regularly"), &regularly)?;
        let events: Vec<crate::equations::events::EventText> = pop
            .events
            .iter()
            .map(|(event, def)| crate::equations::events::EventText {
                name: event,
                condition: &def.condition,
                code: def.code.as_deref(),
                when: def.when.as_deref(),
            })
            .collect();
        let model = crate::equations::events::with_events(&model, &at("events"), &events)?;
        Ok(crate::model::shared(crate::equations::model::EquationKind::new(model)))
    }

    /// Brian2's PoissonGroup for population `name`: no state, a spike wherever
    /// `rand() < rates*dt`, `rates` an expression of `t` and `i` (a subexpression, so it can
    /// be recorded).
    fn poisson_model(
        &self,
        name: &str,
        rates: &str,
        tables: &[crate::equations::neuron::TimedArray],
    ) -> Result<Kind> {
        let at = format!("populations.{name}");
        if rates.contains('\n') {
            return Err(Error::config(format!("{at}.rates"), "one expression, on one line"));
        }
        if rates.trim().is_empty() {
            return Err(Error::config(format!("{at}.rates"), "is empty: give a rate such as \"15*Hz\""));
        }
        if let Ok(expr) = crate::equations::parse::expression(rates) {
            if let Some(pos) = first_draw(&expr) {
                return Err(Error::config(
                    format!("{at}.rates"),
                    format!("column {}: rates cannot draw random numbers: each step's spike is already the draw rand() < rates*dt", pos.column),
                ));
            }
        }
        const BEFORE: &str = "rates = ";
        let equations = format!("{BEFORE}{rates} : hertz");
        let namespace = toml::Table::new();
        let text = crate::equations::neuron::ModelText {
            equations: &equations,
            threshold: Some("rand() < rates*dt"),
            reset: None,
            refractory: None,
            method: None,
            namespace: &namespace,
            tables,
        };
        let model = crate::equations::neuron::NeuronModel::compile(
            &format!("poisson_{name}"),
            &at,
            &text,
            self.simulation.dt_ms * 1e-3,
        )
        .map_err(|e| match e {
            Error::Config { message, .. } => {
                Error::config(format!("{at}.rates"), at_column_of_rates(&message, BEFORE.len(), rates.chars().count()))
            }
            e => e,
        })?;
        Ok(crate::model::shared(crate::equations::model::EquationKind::new(model)))
    }

    /// The projection's synapse model compiled for its ends, where it is one of
    /// `[synapse_models]`; None for a built-in synapse.
    fn synapse_program(
        &self,
        name: &str,
        proj: &Projection,
        ends: Ends,
        models: &[Kind],
    ) -> Result<Option<std::sync::Arc<crate::equations::synapse::SynapseProgram>>> {
        let at = format!("projections.{name}");
        let Some(def) = self.synapse_models.get(&proj.synapse) else {
            if proj.builtin().is_none() {
                let mut known = "graded, exp_cond, exp_curr".to_string();
                for m in self.synapse_models.keys() {
                    known.push_str(&format!(", {m}"));
                }
                return Err(Error::config(
                    format!("{at}.synapse"),
                    format!("unknown synapse `{}`; this config has {known}", proj.synapse),
                ));
            }
            if models[ends.target].equations().is_some() {
                return Err(Error::config(
                    format!("{at}.synapse"),
                    format!(
                        "the built-in `{}` synapse cannot target `{}`, a model written as equations; write the synapse as equations too ([synapse_models])",
                        proj.synapse, proj.target
                    ),
                ));
            }
            for (key, given) in [("init", !proj.init.is_empty()), ("delay", proj.delay.is_some()), ("post_delay", proj.post_delay.is_some()), ("on_event", proj.on_event.is_some()), ("run_regularly", !proj.run_regularly.is_empty())] {
                if given {
                    return Err(Error::config(
                        format!("{at}.{key}"),
                        "only synapses written as equations ([synapse_models]) take this key",
                    ));
                }
            }
            return Ok(None);
        };
        let (Some(pre), Some(post)) = (
            models[ends.source].equations(),
            models[ends.target].equations(),
        ) else {
            return Err(Error::config(
                format!("{at}.synapse"),
                format!(
                    "the synapse model `{}` is written as equations, and so must be the models of `{}` and `{}`",
                    proj.synapse, proj.source, proj.target
                ),
            ));
        };
        if let Some(key) = proj.params.keys().next() {
            return Err(Error::config(
                format!("{at}.params.{key}"),
                format!("synapse model `{}` takes its constants from synapse_models.{}.namespace and its per-synapse values from init", proj.synapse, proj.synapse),
            ));
        }
        if proj.g0.is_some() {
            return Err(Error::config(format!("{at}.g0"), "only the built-in event-driven synapses have a g0"));
        }
        check_name("synapse_models", &proj.synapse)?;
        let regularly = regularly_texts(&proj.run_regularly);
        let regularly_at = format!("{at}.run_regularly");
        let text = crate::equations::synapse::SynapseText {
            model: &def.model,
            on_pre: def.on_pre.as_deref(),
            on_post: def.on_post.as_deref(),
            method: def.method.as_deref(),
            namespace: &def.namespace,
            regularly: (&regularly_at, &regularly),
        };
        let program = crate::equations::synapse::SynapseProgram::compile(
            &proj.synapse,
            &format!("synapse_models.{}", proj.synapse),
            &text,
            pre,
            post,
        )?;
        crate::equations::init::check_synapse_init(&program, pre, post, &at, proj, self.simulation.dt_ms * 1e-3)?;
        crate::equations::events::pathway_bits(&program, pre, post, &at, proj.on_event.as_ref())?;
        Ok(Some(std::sync::Arc::new(program)))
    }

    /// A population's subgroups: named as populations are, by no other population or
    /// subgroup, each neurons [a, b) of it.
    fn check_subgroups(&self, name: &str, pop: &super::Population) -> Result<()> {
        for (sub, &[a, b]) in &pop.subgroups {
            let key = format!("populations.{name}.subgroups.{sub}");
            if !is_identifier(sub) {
                return Err(Error::config(key, format!("`{sub}` is not a valid subgroup name: use a letter or `_` followed by letters, digits or `_`")));
            }
            if self.populations.contains_key(sub) {
                return Err(Error::config(key, format!("`{sub}` is the name of a population")));
            }
            if let Some((other, _)) = self.populations.iter().find(|(other, p)| *other != name && p.subgroups.contains_key(sub)) {
                return Err(Error::config(key, format!("`{sub}` names a subgroup of `{other}` too")));
            }
            if !(a < b && b <= pop.size) {
                return Err(Error::config(key, format!("[{a}, {b}] must be neurons [a, b) of `{name}` with 0 <= a < b <= {} (Brian2's {name}[a:b])", pop.size)));
            }
        }
        Ok(())
    }

    /// What a projection between subgroups cannot do yet, refused by key.
    fn check_partial_ends(&self, name: &str, proj: &Projection, ends: Ends, models: &[Kind], program: Option<&crate::equations::synapse::SynapseProgram>) -> Result<()> {
        let at = format!("projections.{name}");
        let subgroup = if ends.source_group.whole { &proj.target } else { &proj.source };
        if ends.is_partial() && matches!(proj.connectivity, super::Connectivity::Sonata { .. }) {
            return Err(Error::config(format!("{at}.connectivity"), format!("SONATA edges name their populations' own nodes: connect `{subgroup}`'s population and its node ids")));
        }
        if ends.is_partial() && proj.connectivity.is_procedural() {
            return Err(Error::config(format!("{at}.connectivity.procedural"), format!("a procedural matrix joins whole populations; `{subgroup}` is a subgroup (not supported yet)")));
        }
        // Brian2 gives a subgroup's summed variable the order of its group's update, so that
        // the two run in the order of their names; ganglion sums before every update.
        let population = self.populations.keys().nth(ends.target).expect("resolved");
        let updater = format!("{population}_stateupdater");
        // (A subgroup of every neuron is a subgroup in Brian2 all the same.)
        let into_subgroup = ends.target_group.subgroup;
        for summed in program.iter().flat_map(|p| &p.summed).filter(|_| into_subgroup) {
            let var = &models[ends.target].variables()[summed.slot].name;
            let brian2 = format!("{name}_summed_variable_{var}_post");
            if brian2 > updater {
                return Err(Error::config(
                    format!("{at}.synapse"),
                    format!(
                        "Brian2 sums `{var}_post` into subgroup `{}` after `{population}`'s update: a subgroup's summed variable ties with its group's update, which Brian2 runs first by name (`{updater}` before `{brian2}`); ganglion sums before the update (not supported yet: a projection name sorting before `{population}` gets Brian2's order)",
                        proj.target
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_projection(&self, name: &str, proj: &Projection, models: &[Kind]) -> Result<()> {
        let at = format!("projections.{name}");
        let size_of = |key: &str, pop: &str| {
            self.group(pop).map(|g| g.size).ok_or_else(|| {
                Error::config(
                    format!("{at}.{key}"),
                    unknown_group(pop),
                )
            })
        };
        let n_src = size_of("source", &proj.source)?;
        let n_tgt = size_of("target", &proj.target)?;
        let finite_pair = |[a, b]: [f64; 2]| a.is_finite() && b.is_finite();
        match proj.weight {
            WeightSpec::Constant(w) if !w.is_finite() => {
                return Err(Error::config(
                    format!("{at}.weight"),
                    "must be a finite number",
                ))
            }
            WeightSpec::Uniform { uniform }
                if !(finite_pair(uniform) && uniform[0] <= uniform[1]) =>
            {
                return Err(Error::config(
                    format!("{at}.weight"),
                    "uniform = [low, high] needs finite low <= high",
                ));
            }
            WeightSpec::Normal { normal } if !(finite_pair(normal) && normal[1] >= 0.0) => {
                return Err(Error::config(
                    format!("{at}.weight"),
                    "normal = [mean, sd] needs a finite mean and sd >= 0",
                ));
            }
            _ => {}
        }
        let same = proj.source == proj.target;
        let c = format!("{at}.connectivity");
        let source_model = self
            .group(&proj.source)
            .map(|g| &models[g.population]);
        if self.builtin_synapse(proj) == Some(SynapseName::Graded)
            && source_model.is_some_and(|m| m.graded_activation().is_none())
        {
            return Err(Error::config(
                format!("{at}.synapse"),
                format!(
                    "the graded synapse needs the activation S of an `hh` source; `{}` is `{}`",
                    proj.source,
                    source_model.map_or("", |m| m.name())
                ),
            ));
        }
        if proj.connectivity.is_procedural() {
            match self.builtin_synapse(proj) {
                None => {
                    return Err(Error::config(
                        format!("{c}.procedural"),
                        "synapses written as equations keep values per synapse: they need a stored rule (procedural = false)",
                    ))
                }
                Some(SynapseName::Graded) => {}
                Some(_) if matches!(proj.connectivity, Connectivity::FixedIndegree { .. }) => {
                    return Err(Error::config(
                        format!("{c}.procedural"),
                        "event-driven synapses draw a spiking source's row by source, which a fixed in-degree does not define: use fixed_probability, or a stored fixed_indegree (procedural = false)",
                    ))
                }
                Some(_) => {}
            }
            // A drawn weight is drawn again with its synapse: its bounds are checked here.
            crate::connectivity::WeightDraw::new(&format!("{at}.weight"), &proj.weight)?;
        }
        if let Some(delay_ms) = proj.synapse_params(name).ok().and_then(|s| s.delay_ms()) {
            if delay_ms / self.simulation.dt_ms > 65_000.0 {
                return Err(Error::config(
                    format!("{at}.params.delay_ms"),
                    "at most 65000 steps of delay",
                ));
            }
        }
        if let Some(g0) = &proj.g0 {
            if self.builtin_synapse(proj) == Some(SynapseName::Graded) {
                return Err(Error::config(
                    format!("{at}.g0"),
                    "only event-driven synapses (exp_cond, exp_curr) have a g",
                ));
            }
            if let InitValue::PerNeuron(list) = g0 {
                if list.len() as u64 != n_tgt {
                    return Err(Error::config(
                        format!("{at}.g0"),
                        format!("has {} values for {} target neurons", list.len(), n_tgt),
                    ));
                }
            }
        }
        match &proj.connectivity {
            Connectivity::OneToOne if n_src != n_tgt => Err(Error::config(
                c,
                format!("one_to_one needs equal sizes, got source {n_src} and target {n_tgt}"),
            )),
            Connectivity::FixedProbability { p, .. } if !(0.0..=1.0).contains(p) => Err(
                Error::config(format!("{c}.p"), format!("must be in [0, 1], got {p}")),
            ),
            Connectivity::FixedIndegree { k, autapses, .. } => {
                let available = if same && !autapses { n_src - 1 } else { n_src };
                if *k > available {
                    Err(Error::config(
                        format!("{c}.k"),
                        format!("{k} inputs asked for but only {available} sources available"),
                    ))
                } else {
                    Ok(())
                }
            }
            Connectivity::Ring { k } if *k >= n_src.max(1) && same || *k > n_src => {
                Err(Error::config(
                    format!("{c}.k"),
                    format!("{k} neighbours do not fit a ring of {n_src}"),
                ))
            }
            Connectivity::Ring { .. } if n_src != n_tgt => Err(Error::config(
                c,
                format!("ring needs equal sizes, got source {n_src} and target {n_tgt}"),
            )),
            Connectivity::Explicit { pre, post, weight } => {
                if pre.len() != post.len() {
                    return Err(Error::config(
                        c,
                        format!("pre has {} entries but post has {}", pre.len(), post.len()),
                    ));
                }
                if let Some(w) = weight {
                    if w.len() != pre.len() {
                        return Err(Error::config(
                            format!("{c}.weight"),
                            format!("has {} entries for {} synapses", w.len(), pre.len()),
                        ));
                    }
                }
                if let Some(bad) = pre.iter().find(|&&i| i >= n_src) {
                    return Err(Error::config(
                        format!("{c}.pre"),
                        format!("index {bad} is out of range for source size {n_src}"),
                    ));
                }
                if let Some(bad) = post.iter().find(|&&i| i >= n_tgt) {
                    return Err(Error::config(
                        format!("{c}.post"),
                        format!("index {bad} is out of range for target size {n_tgt}"),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

pub(super) fn check_exp(at: &str, tau_ms: f64, delay_ms: f64) -> Result<()> {
    positive(at, "tau_ms", tau_ms)?;
    if !(delay_ms >= 0.0 && delay_ms.is_finite()) {
        return Err(Error::config(
            format!("{at}.delay_ms"),
            format!("must be a finite number >= 0, got {delay_ms}"),
        ));
    }
    Ok(())
}

/// `key` of the table at `at` must be a positive, finite number.
pub fn positive(at: &str, key: &str, x: f64) -> Result<()> {
    if x > 0.0 && x.is_finite() {
        Ok(())
    } else {
        Err(Error::config(
            format!("{at}.{key}"),
            format!("must be a positive number, got {x}"),
        ))
    }
}


/// A timed array's `values`: numbers (one column) or rows of numbers.
fn table_rows(at: &str, v: &toml::Value) -> Result<Vec<Vec<f64>>> {
    let number = |x: &toml::Value| match x {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    };
    let toml::Value::Array(items) = v else {
        return Err(Error::config(at, "must be a list of numbers, or of rows of numbers"));
    };
    items
        .iter()
        .enumerate()
        .map(|(k, item)| match item {
            toml::Value::Array(row) => row
                .iter()
                .map(|x| number(x).ok_or_else(|| Error::config(format!("{at}[{k}]"), "must hold numbers")))
                .collect(),
            x => number(x)
                .map(|n| vec![n])
                .ok_or_else(|| Error::config(format!("{at}[{k}]"), "must be a number or a row of numbers")),
        })
        .collect()
}

/// A CSV file of rows of numbers (a first line that is not numbers is a header).
fn csv_rows(at: &str, path: &std::path::Path) -> Result<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(at, format!("{}: {e}", path.display())))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: std::result::Result<Vec<f64>, _> = line.split(',').map(|x| x.trim().parse::<f64>()).collect();
        match parsed {
            Ok(row) if row.iter().all(|x| x.is_finite()) => rows.push(row),
            _ if n == 0 => continue,
            _ => {
                return Err(Error::config(
                    at,
                    format!("{}: line {} is not a row of finite numbers", path.display(), n + 1),
                ))
            }
        }
    }
    Ok(rows)
}

/// A message about the equation `rates = <rates> : hertz` (`before` characters ahead of the
/// rates), its position said in the user's one line of rates: "column 3: …", or none where it
/// points outside them (at the equation as a whole).
fn at_column_of_rates(message: &str, before: usize, len: usize) -> String {
    let position = message
        .strip_prefix("line 1, column ")
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(column, rest)| Some((column.parse::<usize>().ok()?, rest)));
    match position {
        Some((column, rest)) if column > before && column <= before + len => format!("column {}: {rest}", column - before),
        Some((_, rest)) => rest.replace("found `:`", "found the end of the rates"),
        None => message.to_string(),
    }
}

/// Where an expression first draws a random number (`rand()`, `randn()`, `xi…`).
fn first_draw(e: &crate::equations::parse::Expr) -> Option<crate::equations::parse::Pos> {
    use crate::equations::parse::Expr;
    match e {
        Expr::Call(f, _, pos) if f == "rand" || f == "randn" => Some(*pos),
        Expr::Name(n, pos) if n == "xi" || n.starts_with("xi_") => Some(*pos),
        Expr::Number(..) | Expr::Name(..) => None,
        Expr::Unary(_, a, _) => first_draw(a),
        Expr::Binary(_, a, b, _) => first_draw(a).or_else(|| first_draw(b)),
        Expr::Call(_, args, _) => args.iter().find_map(first_draw),
    }
}

/// A population's or a projection's `run_regularly` tables as the compilers read them.
fn regularly_texts(defs: &indexmap::IndexMap<String, super::schema::RunRegularlyDef>) -> Vec<crate::equations::regularly::RegularlyText<'_>> {
    defs.iter()
        .map(|(name, def)| crate::equations::regularly::RegularlyText {
            name,
            code: &def.code,
            dt: def.dt.as_deref(),
            when: def.when.as_deref(),
        })
        .collect()
}
