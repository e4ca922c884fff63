//! Brian2's linked variables (`I : amp (linked)` in a model, `neurons.I = linked_var(input,
//! 'x')` in Brian2): each population's `links` resolved against the models, with Brian2's
//! rules for sizes and units.

use super::schema::Config;
use crate::error::{Error, Result};
use crate::equations::ir::{Node, Ref};
use crate::equations::neuron::{NeuronModel, VarKind};
use crate::model::Kind;

/// A linked variable resolved: variable `slot` of population `target` reads `variable` of
/// population `source`, of the source neuron `index` names for each of its neurons: `read`,
/// over that neuron's variables (`Ref::Pre`; a subexpression inlined, so evaluated when it is
/// read, as Brian2's).
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// `<population>.<variable>`, as the config names it.
    pub name: String,
    pub target: usize,
    pub slot: usize,
    pub source: usize,
    pub variable: String,
    pub read: Node,
    pub index: LinkIndex,
    /// A subgroup of the source (Brian2's `linked_var(P[a:b], ...)`): its first neuron and
    /// size, within which an index by a variable counts.
    pub within: Option<(u32, u32)>,
    /// The target's reset reads it (so it is copied again before the reset).
    pub reset_reads: bool,
}

/// Which source neuron each neuron of the target reads.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkIndex {
    /// Given (or Brian2's automatic index): one per target neuron.
    Neurons(Vec<u32>),
    /// Brian2's index by a variable's name: that `(constant)` parameter of the target (its
    /// slot), whose initial values `index_of` reads once the population is drawn.
    Variable(usize),
}

impl Link {
    /// The source neuron of each of the target's neurons, from their initial values (`init`,
    /// one column per variable) where the index is a variable of theirs; errors name the
    /// config key.
    pub fn index_of(&self, init: &[Vec<f64>], n_source: usize) -> Result<Vec<u32>> {
        match &self.index {
            LinkIndex::Neurons(list) => Ok(list.clone()),
            LinkIndex::Variable(slot) => {
                let (population, var) = self.name.rsplit_once('.').unwrap_or((&self.name, ""));
                let (first, n_source) = self.within.map_or((0, n_source), |(first, size)| (first, size as usize));
                init[*slot]
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        if x.fract() == 0.0 && x >= 0.0 && (x as usize) < n_source {
                            Ok(first + x as u32)
                        } else {
                            Err(Error::config(
                                format!("populations.{population}.links.{var}.index"),
                                format!("neuron {i} reads neuron {x} of the source, which has neurons 0..{n_source}"),
                            ))
                        }
                    })
                    .collect()
            }
        }
    }
}

/// Every population's links, in population order and each in the order written.
pub(super) fn resolve(config: &Config, models: &[Kind]) -> Result<Vec<Link>> {
    let mut out = Vec::new();
    for (target, (name, pop)) in config.populations.iter().enumerate() {
        let at = format!("populations.{name}.links");
        let Some(model) = models[target].equations() else {
            if !pop.links.is_empty() {
                return Err(Error::config(at, format!("links set the linked variables of a model written as equations; `{}` is built in", pop.model)));
            }
            continue;
        };
        let linked: Vec<&str> = model.vars.iter().filter(|v| v.is_linked()).map(|v| v.name.as_str()).collect();
        for var in pop.links.keys() {
            if !linked.contains(&var.as_str()) {
                let why = match model.slot(var) {
                    Some(_) => format!("`{var}` is not a linked variable of model `{}`: mark it `{var} : unit (linked)`", pop.model),
                    None => format!("model `{}` has no variable `{var}`", pop.model),
                };
                return Err(Error::config(format!("{at}.{var}"), why));
            }
        }
        for var in linked {
            let Some(def) = pop.links.get(var) else {
                return Err(Error::config(
                    at,
                    format!("`{var}` of model `{}` is a linked variable: say what it reads, links.{var} = \"population.variable\"", pop.model),
                ));
            };
            out.push(link(config, models, &format!("{at}.{var}"), (target, name, model, var), def)?);
        }
    }
    Ok(out)
}

/// What a link names: the population, its variable, the index where given.
type Named<'a> = (&'a str, &'a str, Option<Given<'a>>);

/// An index as the config gives it.
enum Given<'a> {
    List(Vec<i64>),
    Variable(&'a str),
}

/// `"population.variable"` or `{ population = "…", variable = "…", index = [...] }`, at `at`.
fn named<'a>(at: &str, def: &'a toml::Value) -> Result<Named<'a>> {
    let err = |m: String| Error::config(at, m);
    const FORMS: &str = "give \"population.variable\" or { population = \"…\", variable = \"…\", index = [...] }";
    match def {
        toml::Value::String(s) => {
            let (p, v) = s.rsplit_once('.').ok_or_else(|| err(format!("`{s}`: {FORMS}")))?;
            Ok((p, v, None))
        }
        toml::Value::Table(t) => {
            if let Some(key) = t.keys().find(|k| !["population", "variable", "index"].contains(&k.as_str())) {
                return Err(Error::config(format!("{at}.{key}"), format!("unknown key; {FORMS}")));
            }
            let text = |key: &str| match t.get(key) {
                Some(toml::Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(Error::config(format!("{at}.{key}"), "must be a name (a string)")),
                None => Err(err(format!("no `{key}`; {FORMS}"))),
            };
            let index = match t.get("index") {
                None => None,
                Some(toml::Value::Array(a)) => Some(Given::List(
                    a.iter()
                        .map(|x| x.as_integer())
                        .collect::<Option<Vec<i64>>>()
                        .ok_or_else(|| Error::config(format!("{at}.index"), "must be a list of neuron indices (whole numbers)"))?,
                )),
                Some(toml::Value::String(v)) => Some(Given::Variable(v)),
                Some(_) => return Err(Error::config(format!("{at}.index"), "must be a list of neuron indices or the name of a variable holding them")),
            };
            Ok((text("population")?, text("variable")?, index))
        }
        _ => Err(err(FORMS.to_string())),
    }
}

/// Link `var` of population `target` (named `name`, of `model`), config key `at`.
fn link(config: &Config, models: &[Kind], at: &str, (target, name, model, var): (usize, &str, &NeuronModel, &str), def: &toml::Value) -> Result<Link> {
    let err = |m: String| Error::config(at, m);
    let (population, variable, index) = named(at, def)?;
    // A subgroup's neurons (Brian2's `linked_var(P[a:b], ...)`) are its population's a.. on.
    let group = config.group(population).ok_or_else(|| err(format!("no population or subgroup named `{population}`")))?;
    let source = group.population;
    let source_pop = config.populations.values().nth(source).expect("a group's population");
    let source_model = models[source]
        .equations()
        .ok_or_else(|| err(format!("a linked variable reads a population whose model is written as equations; `{population}` is `{}`", source_pop.model)))?;
    let source_slot = source_model.slot(variable).ok_or_else(|| {
        err(format!(
            "model `{}` of `{population}` has no variable `{variable}`",
            source_pop.model
        ))
    })?;
    let read = &source_model.vars[source_slot];
    if !matches!(read.kind, VarKind::Differential | VarKind::Parameter | VarKind::Subexpression) || read.is_linked() {
        return Err(err(format!("`{population}.{variable}` is {}; link to a variable of its equations", if read.is_linked() { "linked itself" } else { "kept by ganglion" })));
    }
    let value = crate::equations::synapse::neuron_name(&format!("{variable}_pre"), source_model, model).expect("a variable of the source");
    // What a subexpression may read that a neuron of another population cannot: its own
    // population's size and draws, and timed arrays (the copy's shader binds the target's).
    let mut unreadable = None;
    value.visit(&mut |n| match n {
        Node::Load(Ref::N) => unreadable = unreadable.or(Some("`N`")),
        Node::Normal(_) | Node::Uniform(_) => unreadable = unreadable.or(Some("random numbers")),
        Node::Table(..) => unreadable = unreadable.or(Some("a timed array")),
        _ => {}
    });
    if value.reads(Ref::I) && group.subgroup {
        unreadable = unreadable.or(Some("`i` (counted within a subgroup in Brian2)"));
    }
    if let Some(what) = unreadable {
        return Err(err(format!("the subexpression `{population}.{variable}` reads {what}, which a linked variable cannot")));
    }
    let slot = model.slot(var).expect("linked");
    // Brian2's threshold, after every group's update, reads a source updated in the same
    // step; ganglion's, within the target's update, has it only where the source updates
    // first.
    // So are the custom events' conditions (Brian2's `after_thresholds`).
    let condition = match &model.threshold {
        Some(t) if t.reads(Ref::Var(slot)) => Some("the threshold".to_string()),
        _ => model.events.iter().find(|e| e.condition.reads(Ref::Var(slot))).map(|e| format!("the condition of event `{}`", e.name)),
    };
    if let Some(condition) = condition.filter(|_| source >= target) {
        let whom = if source == target { "its own population".to_string() } else { format!("`{population}`, which updates after `{name}` (populations update in the order of their names, as Brian2 orders its groups)") };
        return Err(err(format!(
            "{condition} of `{name}` reads `{var}`, linked to {whom}: Brian2's thresholds read the source as updated in the same step, which ganglion gives only for a source that updates first; name the populations so that the source sorts before `{name}`, or keep `{var}` out of {condition}"
        )));
    }
    let dim = model.vars[slot].dim;
    if read.dim != dim {
        return Err(err(format!("`{var}` is in {dim} but `{population}.{variable}` in {}, as Brian2 refuses it", read.dim)));
    }
    let (n, n_source) = (config.populations[name].size as usize, group.size as usize);
    let first = group.first as u32;
    let index = match index {
        Some(Given::Variable(v)) if v.trim().is_empty() => {
            return Err(Error::config(format!("{at}.index"), "is empty: give a list of neuron indices or the name of a variable holding them"));
        }
        Some(Given::Variable(v)) => {
            // Brian2 reads the variable whenever the link is read; a constant is read once.
            let slot = model.slot(v).filter(|&k| model.vars[k].kind == VarKind::Parameter && model.vars[k].flags.iter().any(|f| f == "constant"));
            let slot = slot.ok_or_else(|| {
                Error::config(format!("{at}.index"), format!("`{v}` must be a parameter of model `{}` marked constant (`{v} : 1 (constant)`), each neuron's source neuron, set by `init`", config.populations[name].model))
            })?;
            LinkIndex::Variable(slot)
        }
        Some(Given::List(list)) => {
            if list.len() != n {
                return Err(Error::config(format!("{at}.index"), format!("has {} entries; one per neuron of `{name}` ({n}) is needed", list.len())));
            }
            if let Some(k) = list.iter().position(|&x| x < 0 || x as usize >= n_source) {
                return Err(Error::config(format!("{at}.index"), format!("entry {k} is {}, outside `{population}`'s neurons 0..{n_source}", list[k])));
            }
            LinkIndex::Neurons(list.iter().map(|&x| first + x as u32).collect())
        }
        // Brian2's automatic index: neuron for neuron, or the one neuron for all.
        None if n_source == n => LinkIndex::Neurons((first..first + n as u32).collect()),
        None if n_source == 1 => LinkIndex::Neurons(vec![first; n]),
        None => {
            return Err(err(format!(
                "`{name}` has {n} neurons and `{population}` {n_source}: give `index`, the neuron of `{population}` each one reads ({{ population = \"{population}\", variable = \"{variable}\", index = [...] }})"
            )))
        }
    };
    Ok(Link {
        name: format!("{name}.{var}"),
        target,
        slot,
        source,
        variable: variable.to_string(),
        read: value,
        index,
        within: group.span(),
        // An event's code runs after the resets, from the same copy.
        reset_reads: model.reset.body.iter().chain(model.events.iter().flat_map(|e| &e.code.body)).any(|s| s.value.reads(Ref::Var(slot))),
    })
}
