//! Brian2's `(shared)` variables: one value for a whole population or projection, which
//! ganglion keeps in each of its neurons or synapses. Brian2's rules keep those copies equal,
//! so ganglion enforces them: no differential equation, no per-neuron initial values, no
//! writes from code that runs per neuron or synapse (a reset, `on_pre`, `on_post`, an event's
//! code), and a `run_regularly` or PoissonInput writes one only a value of shared variables,
//! constants and time, its draws made once for the group (`Node::for_group`), as Brian2 runs
//! such code once.

use super::check::DimError;
use super::ir::{Count, Node, Ref};
use super::neuron::VarDef;
use super::parse::Pos;

pub fn is_shared(v: &VarDef) -> bool {
    v.flags.iter().any(|f| f == "shared")
}

/// Which of a neuron's refs (`Ref::Var` of `vars`) read a shared variable.
pub fn of_neuron(vars: &[VarDef]) -> impl Fn(Ref) -> bool + '_ {
    move |r| matches!(r, Ref::Var(j) if is_shared(&vars[j]))
}

/// Refuses a differential equation of shared variable `name`, as Brian2 does.
pub fn not_differential(eq: &super::parse::Equation, name: &str) -> Result<(), String> {
    match eq.flags.iter().any(|f| f == "shared") {
        true => Err(format!("{}: d{name}/dt: a differential equation cannot be `(shared)`, as in Brian2", eq.pos)),
        false => Ok(()),
    }
}

/// Refuses a write to `v` (at `pos`) from `code` that runs per neuron or synapse.
pub fn not_per_element(v: &VarDef, pos: Pos, code: &str) -> Result<(), DimError> {
    match is_shared(v) {
        true => Err(DimError {
            pos,
            message: format!("`{}` is shared (one value for the group) and {code} runs for each neuron or synapse: it cannot write it, as in Brian2", v.name),
        }),
        false => Ok(()),
    }
}

/// Refuses `value` written to shared `v` (at `pos`) where it reads what is not shared
/// (`shared` says which variables are) or draws per element (a draw for the group is one).
pub fn shared_value(v: &VarDef, value: &Node, shared: &dyn Fn(Ref) -> bool, pos: Pos) -> Result<(), DimError> {
    if !is_shared(v) {
        return Ok(());
    }
    let mut why = None;
    value.visit(&mut |n| {
        let bad = match n {
            Node::Load(r @ (Ref::Var(_) | Ref::Pre(_) | Ref::Syn(_))) if !shared(*r) => Some("a variable each neuron or synapse has its own, as in Brian2"),
            Node::Load(Ref::I | Ref::J | Ref::Count(Count::Incoming | Count::Outgoing)) => Some("an index or count of each neuron or synapse, as in Brian2"),
            // Where Brian2 draws once for the group (run_regularly, PoissonInputs) the draws
            // are the group's already (`Node::for_group`).
            Node::Uniform(_) | Node::Normal(_) => Some("a random number of each neuron's or synapse's own"),
            _ => None,
        };
        if why.is_none() {
            why = bad;
        }
    });
    match why {
        Some(what) => Err(DimError {
            pos,
            message: format!("`{}` is shared (one value for the group): its value cannot read {what}", v.name),
        }),
        None => Ok(()),
    }
}
