//! Brian2's PoissonInput on a population whose model is written as equations: N independent
//! Poisson sources at one rate, none of them stored, adding `weight` to a variable per event.
//! Each step every neuron draws its count of events, Binomial(N, rate·dt), as Brian2's
//! `BinomialFunction` does: a normal N(Np, Np(1 − p)) where Np and N(1 − p) both exceed 5,
//! else numpy's inversion from one uniform (`ir::Func::Binomial`). The draws come from the
//! population's Philox streams after the model's own, so both backends draw the same numbers.
//! Into a shared variable the count is drawn once for the group (the first neuron's draws),
//! as Brian2 runs the input's code once.

use super::dims::Dim;
use super::ir::{BinOp, Func, Node, Program, Ref, Target};
use super::lower::Streams;
use super::neuron::{assignable, fold_dt, map_program, NeuronModel};
use super::parse;
use crate::error::{Error, Result};

/// What one `[populations.<p>.poisson_inputs.<name>]` table says.
#[derive(Clone, Debug)]
pub struct PoissonInputText<'a> {
    pub name: &'a str,
    /// The variable the events add to (Brian2's `target_var`).
    pub variable: &'a str,
    /// The number of sources (Brian2's `N`).
    pub n: u64,
    /// Each source's rate, a constant expression in hertz ("10*Hz").
    pub rate: &'a str,
    /// What each event adds: an expression of the model's variables and namespace, in the
    /// variable's unit.
    pub weight: &'a str,
    /// The subgroup it drives alone (Brian2's `PoissonInput(P[a:b], ...)`): its first neuron
    /// and size, which its `i` and `N` count within.
    pub within: Option<(u64, u64)>,
}

/// `model` with `inputs` (config key `at`, the population's `poisson_inputs`) run after the
/// synapses' events, in the order given.
pub fn with_inputs(model: &NeuronModel, at: &str, inputs: &[PoissonInputText]) -> Result<NeuronModel> {
    let mut program = Program::default();
    let mut streams = Streams {
        count: model.streams,
        ..Streams::default()
    };
    for input in inputs {
        let key = |k: &str| format!("{at}.{}.{k}", input.name);
        let k = model
            .slot(input.variable)
            .ok_or_else(|| Error::config(key("variable"), format!("`{}` is not a variable of model `{}`", input.variable, model.name)))?;
        assignable(&model.vars[k], parse::Pos { line: 1, column: 1 })
            .map_err(|e| Error::config(key("variable"), e.message))?;
        if input.n == 0 {
            return Err(Error::config(key("n"), "the number of sources must be at least 1"));
        }
        let rate = model
            .constant(input.rate, Dim::ONE / Dim::SECOND, "it must be in hertz", "in hertz (\"10*Hz\")")
            .map_err(|e| Error::config(key("rate"), e))?;
        let p = rate * model.dt;
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::config(key("rate"), format!("rate·dt is {p}: a rate must be at least 0 and at most 1/dt")));
        }
        let dim = model.vars[k].dim;
        let weight = model
            .lower_text(input.weight, dim, &format!("its variable is in {dim}"))
            .map_err(|e| Error::config(key("weight"), e))?;
        let weight = match input.within {
            None => weight,
            Some((first, size)) => weight.substitute(&|r| match r {
                Ref::I => Some(Node::sub(Node::load(Ref::I), Node::c(first as f64))),
                Ref::N => Some(Node::c(size as f64)),
                _ => None,
            }),
        };
        // Into a shared variable the count is drawn once for the group, as Brian2 runs its
        // code once; and the weight may not read what differs between neurons.
        let shared = super::shared::is_shared(&model.vars[k]);
        let draw = binomial(input.n as f64, p, streams.fresh());
        let draw = if shared { draw.for_group() } else { draw };
        super::shared::shared_value(&model.vars[k], &weight, &super::shared::of_neuron(&model.vars), parse::Pos { line: 1, column: 1 })
            .map_err(|e| Error::config(key("weight"), e.message))?;
        let value = model.vars[k].ty.stored(Node::add(Node::load(Ref::Var(k)), Node::mul(draw, weight)));
        let value = model.conditional_write(k, value);
        let value = match input.within {
            None => value,
            Some(_) if shared => return Err(Error::config(key("subgroup"), format!("`{}` is shared by the whole group: a subgroup's input cannot drive it", input.variable))),
            Some((first, size)) => {
                let i = || Node::load(Ref::I);
                let within = Node::bin(BinOp::And, Node::bin(BinOp::Ge, i(), Node::c(first as f64)), Node::bin(BinOp::Lt, i(), Node::c((first + size) as f64)));
                Node::Call(Func::Select, vec![within, value, Node::load(Ref::Var(k))])
            }
        };
        program.store(Target::Var(k), value);
    }
    streams.within_limit(at, "the model and its inputs")?;
    let mut out = model.clone();
    out.inputs = map_program(&program, &|n| fold_dt(n, model.dt));
    out.streams = streams.count;
    Ok(out)
}

/// Brian2's Binomial(n, p) draw from `stream`: `BinomialFunction`'s constants, computed here
/// in f64 so that the backends only compare, subtract, multiply and divide.
fn binomial(n: f64, p: f64, stream: u32) -> Node {
    if n * p > 5.0 && n * (1.0 - p) > 5.0 {
        let (loc, scale) = (n * p, (n * p * (1.0 - p)).sqrt());
        return Node::add(Node::mul(Node::Normal(stream), Node::c(scale)), Node::c(loc));
    }
    let reverse = p > 0.5;
    let small = if reverse { 1.0 - p } else { p };
    let q = 1.0 - small;
    let qn = (n * q.ln()).exp();
    let bound = n.min(n * small + 10.0 * (n * small * q + 1.0).sqrt());
    let args = [n, small, q, qn, bound, reverse as u8 as f64].map(Node::c);
    Node::Call(Func::Binomial, std::iter::once(Node::Uniform(stream)).chain(args).collect())
}
