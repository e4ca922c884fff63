//! Initial values written in the config for models and synapses written as equations:
//! checked when the config loads (names, dimensions, lengths), evaluated on the host when the
//! network is built.

use super::ir::{Count, Node, Ref};
use super::lower::{eval, Lowering, Streams};
use super::neuron::{NeuronModel, VarKind};
use super::parse;
use super::synapse::SynapseProgram;
use crate::config::InitValue;
use crate::error::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Every variable at 0 (Brian2's default), not refractory, and the subexpressions of that.
pub fn initial_columns(m: &NeuronModel, size: usize) -> Vec<Vec<f64>> {
    let mut columns: Vec<Vec<f64>> = m
        .vars
        .iter()
        .map(|v| match v.kind {
            VarKind::NotRefractory => vec![1.0; size],
            VarKind::StepsSinceSpike => vec![super::neuron::SINCE_CAP; size],
            _ => vec![0.0; size],
        })
        .collect();
    refresh_columns(m, &mut columns, size);
    columns
}

/// Each subexpression's column from the variables' columns.
fn refresh_columns(m: &NeuronModel, columns: &mut [Vec<f64>], size: usize) {
    for (slot, node) in &m.subexpressions {
        let values: Vec<f64> = (0..size)
            .map(|i| eval(node, &|r| neuron_slot(columns, r, i, size, m.dt), &mut |_| 0.0))
            .collect();
        columns[*slot] = values;
    }
}

/// What a name of a neuron's `init` expression reads for neuron `i`, at t = 0 in steps of
/// `dt` (s).
fn neuron_slot(columns: &[Vec<f64>], r: Ref, i: usize, size: usize, dt: f64) -> f64 {
    match r {
        Ref::Var(k) => columns[k][i],
        Ref::I => i as f64,
        Ref::N => size as f64,
        Ref::Dt => dt,
        _ => 0.0,
    }
}

/// A population's initial state: `preset` (columns by name, a SONATA nodes file's
/// attributes: those naming a settable variable set it), then its `init` (checked by
/// `check_init`) in the order written: numbers, lists (SI values, one per neuron), draws, or
/// expressions per neuron of `i`, `N`, `rand()`, `randn()`, the namespace and the variables
/// set before.
pub fn neuron_state(
    m: &NeuronModel,
    at: &str,
    size: usize,
    given: &indexmap::IndexMap<String, InitValue>,
    preset: &[(String, Vec<f64>)],
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Vec<f64>>> {
    check_init(m, at, size as u64, given)?;
    let mut columns = initial_columns(m, size);
    for (name, values) in preset {
        if let Some(k) = m.settable_slot(name).filter(|_| values.len() == size) {
            columns[k] = values.iter().map(|&x| m.vars[k].ty.stored_value(x)).collect();
        }
    }
    refresh_columns(m, &mut columns, size);
    for (name, value) in given {
        let key = format!("{at}.{name}");
        let k = m.slot(name).expect("checked");
        columns[k] = match value {
            InitValue::Expression(text) => {
                let node = lower_neuron_init(m, &key, text)?;
                let mut draw = |normal: bool| draw(rng, normal);
                (0..size)
                    .map(|i| eval(&node, &|r| neuron_slot(&columns, r, i, size, m.dt), &mut draw))
                    .collect()
            }
            value => plain_values(value, size, rng),
        };
        finite(&key, &columns[k], "neuron")?;
        columns[k].iter_mut().for_each(|x| *x = m.vars[k].ty.stored_value(*x));
        refresh_columns(m, &mut columns, size);
    }
    Ok(columns)
}

/// A neuron's `init` expression, lowered against its model (namespace constants folded, a
/// division by a zero constant refused) with its subexpressions inlined.
fn lower_neuron_init(m: &NeuronModel, key: &str, text: &str) -> Result<Node> {
    let e = parse::expression(text).map_err(|e| Error::config(key, e.to_string()))?;
    let own = |n: &str| m.own_name(n);
    let tables: Vec<_> = m.tables.iter().map(|t| (t.table.clone(), t.dt)).collect();
    let lowering = Lowering {
        scope: &m.scope,
        own: &own,
        random: true,
        tables: &tables,
        dt: m.dt,
    };
    let node = lowering
        .lower(&e, &mut Streams::default())
        .map_err(|e| Error::config(key, e.to_string()))?;
    Ok(m.inline(&node))
}

/// Refuses a non-finite value computed by an `init` expression (a NaN would otherwise surface
/// as a divergence at the first step, far from the key that made it; the config's own numbers
/// are refused when it is read), naming the `what` it is for.
fn finite(key: &str, values: &[f64], what: &str) -> Result<()> {
    match values.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::config(key, format!("gives {} for {what} {i}; initial values must be finite", values[i]))),
        None => Ok(()),
    }
}

/// An expression that folds to a constant (no variable, index or draw): its value, refused
/// where it is not finite.
fn finite_constant(key: &str, node: Node) -> Result<Option<f64>> {
    match super::ir::fold(node).as_const() {
        Some(x) if !x.is_finite() => Err(Error::config(key, format!("is {x}; it must be finite"))),
        constant => Ok(constant),
    }
}

/// A delay of `seconds` in whole steps of `dt` (s), rounded to the nearest as Brian2 does.
fn delay_steps(key: &str, seconds: f64, dt: f64) -> Result<u32> {
    let k = (seconds / dt).round();
    if !(0.0..=65_000.0).contains(&k) {
        return Err(Error::config(key, format!("a delay of {seconds} s is outside 0 … 65000 steps")));
    }
    Ok(k as u32)
}

/// A number, list or draw as `n` values.
fn plain_values(value: &InitValue, n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    match value {
        InitValue::Constant(x) => vec![*x; n],
        InitValue::PerNeuron(list) => list.clone(),
        InitValue::Uniform { uniform: [a, b] } => (0..n).map(|_| rng.random_range(*a..=*b)).collect(),
        InitValue::Normal { normal: [mean, sd], min } => (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut *rng);
                (mean + sd * z).max(min.unwrap_or(f64::NEG_INFINITY))
            })
            .collect(),
        InitValue::Expression(_) => unreachable!("evaluated by the caller"),
    }
}

/// `randn()` (normal) or `rand()`, on the host.
pub(crate) fn draw(rng: &mut ChaCha8Rng, normal: bool) -> f64 {
    if normal {
        StandardNormal.sample(rng)
    } else {
        rng.random::<f64>()
    }
}

/// A population's `init` for model `m`: each name a settable variable, each value of its
/// dimension, each list one per neuron.
pub fn check_init(
    m: &NeuronModel,
    at: &str,
    size: u64,
    given: &indexmap::IndexMap<String, InitValue>,
) -> Result<()> {
    for (name, value) in given {
        let key = format!("{at}.{name}");
        let Some(k) = m.slot(name) else {
            return Err(Error::config(
                key,
                format!(
                    "unknown variable; the {} model has {}",
                    m.name,
                    m.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        let var = &m.vars[k];
        if var.is_linked() {
            return Err(Error::config(key, format!("`{name}` is a linked variable: it reads what `links.{name}` names and takes no initial value")));
        }
        if m.settable_slot(name).is_none() {
            return Err(Error::config(
                key,
                format!("`{name}` is not a state variable or parameter; it cannot be set"),
            ));
        }
        check_value(&key, value, var.dim, size, &|e| m.scope.dim(e))?;
        if let InitValue::Expression(text) = value {
            let node = lower_neuron_init(m, &key, text)?;
            super::shared::shared_value(var, &node, &super::shared::of_neuron(&m.vars), parse::Pos { line: 1, column: 1 }).map_err(|e| Error::config(&key, e.message))?;
            finite_constant(&key, node)?;
        }
        one_value_if_shared(&key, var, value)?;
    }
    Ok(())
}

/// A shared variable (one value for the group) takes one value: a number or an expression,
/// not a list or a draw per neuron or synapse (Brian2 refuses those too).
fn one_value_if_shared(key: &str, var: &super::neuron::VarDef, value: &InitValue) -> Result<()> {
    match value {
        InitValue::PerNeuron(_) | InitValue::Uniform { .. } | InitValue::Normal { .. } if super::shared::is_shared(var) => Err(Error::config(
            key,
            format!("`{}` is shared (one value for the group): give it one value, a number or an expression, as in Brian2", var.name),
        )),
        _ => Ok(()),
    }
}

fn check_value(
    key: &str,
    value: &InitValue,
    dim: super::dims::Dim,
    count: u64,
    dim_of: &dyn Fn(&parse::Expr) -> std::result::Result<super::dims::Dim, super::check::DimError>,
) -> Result<()> {
    match value {
        InitValue::Constant(x) if !dim.is_dimensionless() && *x != 0.0 => Err(Error::config(
            key,
            format!("is in {dim}: write the value with its unit, e.g. \"{x}*mV\""),
        )),
        InitValue::PerNeuron(list) if list.len() as u64 != count => Err(Error::config(
            key,
            format!("has {} values for {count} elements", list.len()),
        )),
        InitValue::Uniform { uniform: [a, b] } if !(a <= b) => {
            Err(Error::config(key, "uniform = [low, high] needs low <= high"))
        }
        InitValue::Normal { normal: [_, sd], .. } if !(*sd >= 0.0) => {
            Err(Error::config(key, "normal = [mean, sd] needs sd >= 0"))
        }
        InitValue::Expression(text) => {
            let e = parse::expression(text).map_err(|e| Error::config(key, e.to_string()))?;
            let got = dim_of(&e).map_err(|e| Error::config(key, e.to_string()))?;
            if got != dim {
                return Err(Error::config(
                    key,
                    format!("has dimension {got}, but the variable is in {dim}"),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A projection's `init`, `delay` and `post_delay` for synapse model `p` between `pre` and
/// `post`, at a step of `dt` (s): a constant delay is checked here, one drawn per synapse once
/// drawn.
pub fn check_synapse_init(p: &SynapseProgram, pre: &NeuronModel, post: &NeuronModel, at: &str, proj: &crate::config::Projection, dt: f64) -> Result<()> {
    let (given, delay, post_delay) = (&proj.init, proj.delay.as_deref(), proj.post_delay.as_deref());
    let lower = |key: &str, text: &str| -> Result<Node> {
        let e = parse::expression(text).map_err(|e| Error::config(key, e.to_string()))?;
        p.lower_host(&e, pre, post).map_err(|e| Error::config(key, e.to_string()))
    };
    let host = p.host_scope();
    for (name, value) in given {
        let key = format!("{at}.init.{name}");
        let Some(var) = p.vars.iter().find(|v| &v.name == name) else {
            return Err(Error::config(
                key,
                format!(
                    "unknown synaptic variable; synapse model `{}` has {}",
                    p.name,
                    if p.vars.is_empty() {
                        "none".to_string()
                    } else {
                        p.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
                    }
                ),
            ));
        };
        if let super::neuron::VarKind::Count(_) = var.kind {
            return Err(Error::config(key, format!("`{name}` is Brian2's count of the synapses' neurons, which ganglion keeps: it cannot be set")));
        }
        // Lists are checked against the synapse count when the connectivity is drawn (and
        // their numbers, as every number of the config, when it is read).
        if !matches!(value, InitValue::PerNeuron(_)) {
            check_value(&key, value, var.dim, 0, &|e| host.dim(e))?;
        }
        if let InitValue::Expression(text) = value {
            let node = lower(&key, text)?;
            let shared = |r: Ref| match r {
                Ref::Syn(j) => super::shared::is_shared(&p.vars[j]),
                Ref::Pre(j) => super::shared::is_shared(&pre.vars[j]),
                Ref::Var(j) => super::shared::is_shared(&post.vars[j]),
                _ => false,
            };
            super::shared::shared_value(var, &node, &shared, parse::Pos { line: 1, column: 1 }).map_err(|e| Error::config(&key, e.message))?;
            finite_constant(&key, node)?;
        }
        one_value_if_shared(&key, var, value)?;
    }
    if post_delay.is_some() && p.on_post.is_empty() {
        return Err(Error::config(format!("{at}.post_delay"), format!("delays the `on_post` pathway, which synapse model `{}` does not have", p.name)));
    }
    for (key, text) in [("delay", delay), ("post_delay", post_delay)] {
        let Some(text) = text else { continue };
        let key = format!("{at}.{key}");
        let e = parse::expression(text).map_err(|e| Error::config(&key, e.to_string()))?;
        let got = host.dim(&e).map_err(|e| Error::config(&key, e.to_string()))?;
        if got != super::dims::Dim::SECOND {
            return Err(Error::config(key, format!("must be a time (\"2*ms\"), got a {got}")));
        }
        if let Some(seconds) = finite_constant(&key, lower(&key, text)?)? {
            delay_steps(&key, seconds, dt)?;
        }
    }
    Ok(())
}

/// The longest delay of a projection's pathway in steps, known before its synapses are
/// drawn: a constant `delay` (or `post_delay`), or the largest of the SONATA edges' `delay`
/// column (ms, the `on_pre` pathway's);
/// None where the delay is an expression of each synapse (drawn, or of its neurons), whose
/// longest is only known once the network is built.
pub fn longest_delay_steps(
    p: &SynapseProgram,
    pre: &NeuronModel,
    post: &NeuronModel,
    delay: Option<&str>,
    edge_delays_ms: Option<&[f64]>,
    dt: f64,
) -> Option<u64> {
    // As `delay_steps` rounds them; an invalid delay is refused there.
    let steps = |seconds: f64| (seconds / dt).round().clamp(0.0, 65_000.0) as u64;
    match (delay, edge_delays_ms) {
        (Some(text), _) => {
            let e = parse::expression(text).ok()?;
            super::ir::fold(p.lower_host(&e, pre, post).ok()?).as_const().map(steps)
        }
        (None, Some(ms)) => Some(ms.iter().map(|&d| steps(d * 1e-3)).max().unwrap_or(0)),
        (None, None) => Some(0),
    }
}

/// Whether every synapse of a projection will have the same delay (what `synapse_state`
/// keeps as one), given its `longest_delay_steps`: none, a constant `delay` (the one
/// expression whose longest is known), or SONATA edges whose delays round to one step.
pub fn uniform_delay(delay: Option<&str>, edge_delays_ms: Option<&[f64]>, longest: Option<u64>, dt: f64) -> bool {
    match (delay, edge_delays_ms) {
        (Some(_), _) => longest.is_some(),
        (None, Some(ms)) => {
            let steps = |d: f64| delay_steps("", d * 1e-3, dt).ok();
            let first = ms.first().and_then(|&d| steps(d));
            ms.iter().all(|&d| steps(d) == first)
        }
        (None, None) => true,
    }
}

/// The synapses' variables (one column per variable, synapses in the projection's CSR order)
/// and the delays in steps of their `on_pre` and `on_post` pathways (each one per synapse, or
/// one for all), from `init`, `delay` and `post_delay`, drawn in that order. `pre_of[s]` and `post_of[s]` are the
/// synapse's neurons; `pre_state`/`post_state` the populations' initial columns.
#[allow(clippy::too_many_arguments)]
pub fn synapse_state(
    p: &SynapseProgram,
    pre: &NeuronModel,
    post: &NeuronModel,
    at: &str,
    given: &indexmap::IndexMap<String, InitValue>,
    delay: Option<&str>,
    post_delay: Option<&str>,
    edge_columns: &[(String, Vec<f64>)],
    pre_of: &[u32],
    post_of: &[u32],
    pre_state: &[Vec<f64>],
    post_state: &[Vec<f64>],
    dt: f64,
    rng: &mut ChaCha8Rng,
) -> Result<DrawnSynapses> {
    let n = pre_of.len();
    let mut columns = vec![vec![0.0; n]; p.vars.len()];
    // Brian2's counts, for `Ref::Count`.
    let (n_pre, n_post) = (pre_state.first().map_or(0, Vec::len), post_state.first().map_or(0, Vec::len));
    let (mut incoming, mut outgoing) = (vec![0usize; n_post], vec![0usize; n_pre]);
    for s in 0..n {
        incoming[post_of[s] as usize] += 1;
        outgoing[pre_of[s] as usize] += 1;
    }
    let count_of = |count: Count, s: usize| match count {
        Count::Synapses => n as f64,
        Count::Pre => n_pre as f64,
        Count::Post => n_post as f64,
        Count::Incoming => incoming[post_of[s] as usize] as f64,
        Count::Outgoing => outgoing[pre_of[s] as usize] as f64,
    };
    let evaluate = |text: &str, key: &str, columns: &[Vec<f64>], rng: &mut ChaCha8Rng| -> Result<Vec<f64>> {
        let e = parse::expression(text).map_err(|e| Error::config(key, e.to_string()))?;
        let node = p
            .lower_host(&e, pre, post)
            .map_err(|e| Error::config(key, e.to_string()))?;
        let mut out = Vec::with_capacity(n);
        for s in 0..n {
            let (i, j) = (pre_of[s] as usize, post_of[s] as usize);
            let load = |r: Ref| match r {
                Ref::Syn(k) => columns[k][s],
                Ref::Pre(k) => pre_state[k][i],
                Ref::Var(k) => post_state[k][j],
                Ref::I => i as f64,
                Ref::J => j as f64,
                Ref::Dt => dt,
                Ref::Count(count) => count_of(count, s),
                _ => 0.0,
            };
            out.push(eval(&node, &load, &mut |normal| draw(rng, normal)));
        }
        Ok(out)
    };
    // A SONATA edge attribute initialises the synaptic variable of its name; `init` may
    // still set or rescale it.
    for (name, column) in edge_columns {
        if let Some(k) = p.vars.iter().position(|v| &v.name == name) {
            columns[k] = column.iter().map(|&x| p.vars[k].ty.stored_value(x)).collect();
        }
    }
    for (k, v) in p.vars.iter().enumerate() {
        if let super::neuron::VarKind::Count(count) = v.kind {
            columns[k] = (0..n).map(|s| count_of(count, s)).collect();
        }
    }
    for (name, value) in given {
        let key = format!("{at}.init.{name}");
        let k = p.vars.iter().position(|v| &v.name == name).expect("checked");
        columns[k] = match value {
            InitValue::PerNeuron(list) if list.len() != n => {
                return Err(Error::config(
                    key,
                    format!("has {} values for {n} synapses", list.len()),
                ))
            }
            InitValue::Expression(text) => evaluate(text, &key, &columns, rng)?,
            value => plain_values(value, n, rng),
        };
        finite(&key, &columns[k], "synapse")?;
        columns[k].iter_mut().for_each(|x| *x = p.vars[k].ty.stored_value(*x));
    }
    let steps = |key: &str, seconds: Vec<f64>| -> Result<Vec<u32>> {
        let mut delays = seconds.into_iter().map(|d| delay_steps(key, d, dt)).collect::<Result<Vec<u32>>>()?;
        // One delay for all is kept once (`uniform_delay`), as the backends read it.
        if delays.windows(2).all(|w| w[0] == w[1]) {
            delays.truncate(1);
        }
        Ok(delays)
    };
    let none = vec![0; n.min(1)];
    // The `delay` key, else the SONATA edges' delays (ms), else none.
    let delays = match (delay, edge_columns.iter().find(|(name, _)| name == "delay")) {
        (Some(text), _) => {
            let key = format!("{at}.delay");
            steps(&key, evaluate(text, &key, &columns, rng)?)?
        }
        (None, Some((_, ms))) => steps(&format!("{at}.connectivity.edges"), ms.iter().map(|d| d * 1e-3).collect())?,
        (None, None) => none.clone(),
    };
    let post_delays = match post_delay {
        Some(text) => {
            let key = format!("{at}.post_delay");
            steps(&key, evaluate(text, &key, &columns, rng)?)?
        }
        None => none,
    };
    Ok(DrawnSynapses { state: columns, delays, post_delays })
}

/// A projection's synapses as `synapse_state` draws them: a column per variable, and each
/// pathway's delays in steps (one per synapse, or one for all).
pub struct DrawnSynapses {
    pub state: Vec<Vec<f64>>,
    pub delays: Vec<u32>,
    pub post_delays: Vec<u32>,
}
