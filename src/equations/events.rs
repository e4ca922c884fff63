//! Brian2's custom events on a population whose model is written as equations
//! (`NeuronGroup(..., events={"up": "v > v_up"})` and `run_on_event("up", code)`): each
//! event's condition is checked for every neuron after the update and threshold (Brian2's
//! `after_thresholds`), not gated by refractoriness (Brian2 gates the spike event alone), and
//! stored in a flag slot of its own; its code runs for the neurons whose flag is set after the
//! step's resets (Brian2's `after_resets`, `run_on_event`'s default). Conditions and code
//! may draw, from the population's streams after the model's, its inputs' and its
//! `run_regularly`'s.

use super::dims::Dim;
use super::ir::{Node, Program, Ref, Target};
use super::lower::{Lowering, Streams};
use super::neuron::{assignable, check_condition, fold_dt, map_program, statement_value, NeuronModel, VarDef, VarKind};
use super::parse;
use super::var_type::VarType;
use crate::error::{Error, Result};

/// One custom event of a model.
#[derive(Clone, Debug)]
pub struct CustomEvent {
    pub name: String,
    /// The slot its condition is stored into every step (1 where it holds, else 0).
    pub flag: usize,
    pub condition: Node,
    /// Run after the resets for each neuron whose flag is set (Brian2's `run_on_event`).
    pub code: Program,
}

/// What one `[populations.<p>.events.<name>]` table says.
#[derive(Clone, Debug)]
pub struct EventText<'a> {
    pub name: &'a str,
    pub condition: &'a str,
    pub code: Option<&'a str>,
    pub when: Option<&'a str>,
}

/// The name of an event's flag slot: a leading underscore keeps it apart from the model's
/// names (Brian2 keeps `_<event>space`).
pub fn flag_name(event: &str) -> String {
    format!("_event_{event}")
}

/// `model` with `events` (config key `at`, the population's `events`), in the order given.
pub fn with_events(model: &NeuronModel, at: &str, events: &[EventText]) -> Result<NeuronModel> {
    // A step's events share the spike ring's word with the spike (`ring_bit`).
    if model.events.len() + events.len() > 31 {
        return Err(Error::config(at, format!("{} events: a population has at most 31", model.events.len() + events.len())));
    }
    model.with_lowering(|lowering| {
        let mut out = model.clone();
        let mut streams = Streams {
            count: model.streams,
            ..Streams::default()
        };
        for e in events {
            let key = |k: &str| format!("{at}.{}.{k}", e.name);
            let is_identifier = e.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && e.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !is_identifier {
                return Err(Error::config(format!("{at}.\"{}\"", e.name), format!("`{}` is not a valid event name: use a letter followed by letters, digits or `_`", e.name)));
            }
            if e.name == "spike" {
                return Err(Error::config(format!("{at}.spike"), "`spike` is the event of the model's threshold, as in Brian2; name a custom event otherwise"));
            }
            if out.slot(&flag_name(e.name)).is_some() {
                return Err(Error::config(format!("{at}.{}", e.name), format!("the model has a variable `{}`, the name of this event's flag", flag_name(e.name))));
            }
            if let Some(w) = e.when.filter(|w| *w != "after_resets") {
                return Err(Error::config(
                    key("when"),
                    format!("`{w}`: an event's code runs in Brian2's `after_resets` slot (run_on_event's default) alone"),
                ));
            }
            out.vars.push(VarDef {
                name: flag_name(e.name),
                dim: Dim::ONE,
                kind: VarKind::EventFlag,
                flags: Vec::new(),
                ty: VarType::Boolean,
            });
            let flag = out.vars.len() - 1;
            let condition = condition(model, lowering, &mut streams, e.condition).map_err(|m| Error::config(key("condition"), m))?;
            let mut code = Program::default();
            if let Some(text) = e.code {
                let stmts = parse::statements(text).map_err(|err| Error::config(key("code"), err.to_string()))?;
                for s in &stmts {
                    let err = |m: &dyn std::fmt::Display| Error::config(key("code"), m.to_string());
                    let k = model.slot(&s.target).ok_or_else(|| err(&format!("{}: unknown variable `{}`", s.pos, s.target)))?;
                    assignable(&model.vars[k], s.pos).map_err(|m| err(&m))?;
                    super::shared::not_per_element(&model.vars[k], s.pos, "an event's code").map_err(|m| err(&m))?;
                    let value = statement_value(&model.scope, lowering, &mut streams, s, &model.vars[k], Node::load(Ref::Var(k))).map_err(|m| err(&m))?;
                    if let Some(noise) = streams.by_noise.keys().next() {
                        return Err(err(&format!("{}: noise `{noise}` belongs in a differential equation; a statement draws with rand() or randn()", s.pos)));
                    }
                    // Written as a reset writes, `(unless refractory)` or not: Brian2's
                    // resetters assign directly.
                    code.store(Target::Var(k), model.inline(&value));
                }
            }
            out.events.push(CustomEvent {
                name: e.name.to_string(),
                flag,
                condition: fold_dt(&condition, model.dt),
                code: map_program(&code, &|n| fold_dt(n, model.dt)),
            });
        }
        streams.within_limit(at, "the model, its inputs, its run_regularly and its events")?;
        out.streams = streams.count;
        Ok(out)
    })
}

/// An event's condition, lowered with the subexpressions inlined: a comparison or a boolean
/// variable, as a threshold.
fn condition(model: &NeuronModel, lowering: &Lowering, streams: &mut Streams, text: &str) -> std::result::Result<Node, String> {
    let e = parse::expression(text).map_err(|e| e.to_string())?;
    let dim = model.scope.dim(&e).map_err(|e| e.to_string())?;
    let node = model.inline(&lowering.lower(&e, streams).map_err(|e| e.to_string())?);
    if let Some(noise) = streams.by_noise.keys().next() {
        return Err(format!("noise `{noise}` belongs in a differential equation; a condition draws with rand()"));
    }
    let ty_of = |r: Ref| match r {
        Ref::Var(k) => model.vars[k].ty,
        _ => VarType::Float,
    };
    check_condition(&e, dim, &node, &ty_of)?;
    Ok(node)
}

impl NeuronModel {
    /// Each event's flag stored from its condition: run after the threshold and what a spike
    /// sets, so that a condition reading `not_refractory` or `lastspike` sees the spike, as
    /// Brian2's `after_thresholds` does.
    pub fn event_flags(&self) -> Program {
        let mut p = Program::default();
        for e in &self.events {
            p.store(Target::Var(e.flag), e.condition.clone());
        }
        p
    }

    /// Whether the model acts after the step's synaptic events: PoissonInputs, a reset or an
    /// event's code.
    pub fn acts_after_synapses(&self) -> bool {
        !self.reset.is_empty() || !self.inputs.is_empty() || self.events.iter().any(|e| !e.code.is_empty())
    }
}

/// The bit of the spike ring's word (one per neuron and step) that holds event `name` of
/// `model`: 0 for the spike (its threshold's), 1 + e for its custom event e.
pub fn ring_bit(model: &NeuronModel, name: &str) -> Option<u32> {
    match name {
        "spike" => Some(0),
        _ => model.events.iter().position(|e| e.name == name).map(|e| 1 + e as u32),
    }
}

/// A projection's `on_event` (Brian2's): the ring bits that trigger its `on_pre` (of the source,
/// `pre`) and `on_post` (of the target, `post`), "spike" where not given; errors at `at.on_event`.
pub fn pathway_bits(
    synapse: &super::synapse::SynapseProgram,
    pre: &NeuronModel,
    post: &NeuronModel,
    at: &str,
    on_event: Option<&crate::config::OnEvent>,
) -> Result<(u32, u32)> {
    let Some(on) = on_event else { return Ok((0, 0)) };
    let bit = |side: &str, name: &Option<String>, model: &NeuronModel, pathway: &Program| -> Result<u32> {
        let Some(name) = name else { return Ok(0) };
        let key = format!("{at}.on_event.{side}");
        if pathway.is_empty() {
            return Err(Error::config(key, format!("triggers `on_{side}`, which synapse model `{}` does not have", synapse.name)));
        }
        ring_bit(model, name).ok_or_else(|| {
            let events: Vec<String> = std::iter::once("spike".to_string()).chain(model.events.iter().map(|e| e.name.clone())).collect();
            let whose = if side == "pre" { "source" } else { "target" };
            Error::config(key, format!("`{name}` is not an event of the {whose}'s model `{}`; it has {}", model.name, events.join(", ")))
        })
    };
    Ok((bit("pre", &on.pre, pre, &synapse.on_pre)?, bit("post", &on.post, post, &synapse.on_post)?))
}
