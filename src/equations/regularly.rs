//! Brian2's `run_regularly` on a population whose model is written as equations: statements
//! run for every neuron in each step its `dt` reaches (steps 0, k, 2k, …), in the slot its
//! `when` names (`record::Sampled::of_brian2_regularly`; Brian2's `start` by default), where
//! they come before the slot's recording (Brian2 sorts a slot's objects by name, and a
//! group's `…_run_regularly` precedes `statemonitor`). They may draw (`randn()`), from the
//! population's Philox streams after the model's and its inputs'; a value stored into a shared
//! variable draws once for the group, as Brian2's scalar code does.

use super::lower::Streams;
use super::neuron::{assignable, fold_dt, map_program, statement_value, NeuronModel};
use super::ir::{Node, Program, Ref, Target};
use super::parse;
use crate::error::{Error, Result};
use crate::record::{Sampled, Schedule};

/// What one `[populations.<p>.run_regularly.<name>]` table says.
#[derive(Clone, Debug)]
pub struct RegularlyText<'a> {
    pub name: &'a str,
    /// The statements (Brian2's `code`).
    pub code: &'a str,
    /// How often, a duration ("1*ms"); every step when absent.
    pub dt: Option<&'a str>,
    /// Brian2's `when` (its default, "start", when absent).
    pub when: Option<&'a str>,
}

impl RegularlyText<'_> {
    /// When it runs: the steps between two runs (its `dt`, a duration in `model`'s
    /// namespace) and its slot; errors at `key(field)`.
    pub fn schedule(&self, model: &NeuronModel, key: &dyn Fn(&str) -> String) -> Result<Schedule> {
        let when = match self.when {
            None => Sampled::Start,
            Some(w) => Sampled::of_brian2_regularly(w).map_err(|e| Error::config(key("when"), e))?,
        };
        let every = match self.dt {
            None => 1,
            Some(text) => steps(model, text).map_err(|e| Error::config(key("dt"), e))?,
        };
        Ok(Schedule { every, when })
    }
}

/// `model` with `regularly` (config key `at`, the population's `run_regularly`), run in the
/// order given.
pub fn with_regularly(model: &NeuronModel, at: &str, regularly: &[RegularlyText]) -> Result<NeuronModel> {
    model.with_lowering(|lowering| {
        let mut streams = Streams {
            count: model.streams,
            ..Streams::default()
        };
        let mut out = model.clone();
        for r in regularly {
            let key = |k: &str| format!("{at}.{}.{k}", r.name);
            let schedule = r.schedule(model, &key)?;
            let stmts = parse::statements(r.code).map_err(|e| Error::config(key("code"), e.to_string()))?;
            if stmts.is_empty() {
                return Err(Error::config(key("code"), "no statements"));
            }
            let mut program = Program::default();
            for s in &stmts {
                let err = |e: &dyn std::fmt::Display| Error::config(key("code"), e.to_string());
                let k = model.slot(&s.target).ok_or_else(|| err(&format!("{}: unknown variable `{}`", s.pos, s.target)))?;
                assignable(&model.vars[k], s.pos).map_err(|e| err(&e))?;
                let value = statement_value(&model.scope, lowering, &mut streams, s, &model.vars[k], Node::load(Ref::Var(k)))
                    .map_err(|e| err(&e))?;
                // Into a shared variable, drawn once for the group (Brian2's scalar code).
                let value = model.inline(&value);
                let value = if super::shared::is_shared(&model.vars[k]) { value.for_group() } else { value };
                super::shared::shared_value(&model.vars[k], &value, &super::shared::of_neuron(&model.vars), s.pos).map_err(|e| err(&e))?;
                if let Some(noise) = streams.by_noise.keys().next() {
                    return Err(err(&format!("{}: noise `{noise}` belongs in a differential equation; a statement draws with rand() or randn()", s.pos)));
                }
                program.store(Target::Var(k), model.conditional_write(k, value));
            }
            out.regularly.push((schedule, map_program(&program, &|n| fold_dt(n, model.dt))));
        }
        streams.within_limit(at, "the model, its inputs and its run_regularly")?;
        out.streams = streams.count;
        Ok(out)
    })
}

/// The steps between two runs of `dt` ("1*ms"): a whole number of the simulation's steps.
fn steps(model: &NeuronModel, text: &str) -> std::result::Result<u64, String> {
    let seconds = model.constant(text, super::dims::Dim::SECOND, "it must be a duration (\"1*ms\")", "duration (\"1*ms\")")?;
    let k = (seconds / model.dt).round();
    if k < 1.0 {
        return Err(format!("{seconds} s is less than one of the simulation's steps ({} s); give a whole number of them", model.dt));
    }
    if ((seconds / model.dt) - k).abs() > 1e-6 * k {
        return Err(format!("{seconds} s is not a whole number of the simulation's steps ({} s)", model.dt));
    }
    Ok(k as u64)
}
