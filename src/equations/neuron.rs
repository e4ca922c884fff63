//! A neuron model compiled from its `[models.<name>]` table: the state layout, and the
//! programs of one step in Brian2's order (refractoriness, integration by the chosen method,
//! threshold, what a spike sets, reset), plus the refresh of subexpressions for recording.

use super::check::{check_equations, DimError, Scope};
use super::dims::Dim;
use super::ir::{BinOp, Func, Node, Program, Ref, Target};
use super::lower::{Lowering, Streams};
use super::parse::{self, Defines, Equation, Expr, Pos};
use super::quantities::Quantity;
use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Integration methods: Brian2's, by the names Brian2 gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Euler,
    ExponentialEuler,
    Rk2,
    Rk4,
    Heun,
    /// Brian2's `exact` for equations each linear in itself with constant coefficients:
    /// x ← (x + B/A)·e^{A·dt} − B/A.
    Exact,
}

impl Method {
    pub fn from_name(name: &str) -> Option<Method> {
        Some(match name {
            "euler" => Method::Euler,
            "exponential_euler" => Method::ExponentialEuler,
            "rk2" => Method::Rk2,
            "rk4" => Method::Rk4,
            "heun" => Method::Heun,
            "exact" | "linear" => Method::Exact,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Euler => "euler",
            Method::ExponentialEuler => "exponential_euler",
            Method::Rk2 => "rk2",
            Method::Rk4 => "rk4",
            Method::Heun => "heun",
            Method::Exact => "exact",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    Differential,
    Parameter,
    Subexpression,
    /// Brian2's `not_refractory` (1 or 0).
    NotRefractory,
    /// Steps since the last spike (for a refractory period given as a duration), capped.
    StepsSinceSpike,
    /// A synapse's step of its last event (for its event-driven variables).
    LastUpdate,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VarDef {
    pub name: String,
    pub dim: Dim,
    pub kind: VarKind,
    pub flags: Vec<String>,
}

/// The cap of the steps-since-spike counter: exact in f32, and longer than any refractory
/// period a run can have in view.
pub const SINCE_CAP: f64 = 1.0e7;

/// What a model's table in the config says, as text.
#[derive(Clone, Debug)]
pub struct ModelText<'a> {
    pub equations: &'a str,
    pub threshold: Option<&'a str>,
    pub reset: Option<&'a str>,
    pub refractory: Option<&'a str>,
    pub method: Option<&'a str>,
    pub namespace: &'a toml::Table,
    /// The config's timed arrays.
    pub tables: &'a [TimedArray],
}

/// A timed array of the config: its values (in `table`), its step (s) and dimension.
#[derive(Clone, Debug)]
pub struct TimedArray {
    pub table: std::sync::Arc<super::ir::Table>,
    pub dt: f64,
    pub dim: Dim,
}

#[derive(Clone, Debug)]
pub struct NeuronModel {
    pub name: String,
    pub vars: Vec<VarDef>,
    /// The step, s.
    pub dt: f64,
    pub method: Method,
    /// Refractoriness and integration: from the state at t to the state at t + dt.
    pub update: Program,
    /// The spike condition on the updated state (gated by refractoriness).
    pub threshold: Option<Node>,
    /// What a spike sets at once (not_refractory, the steps since the spike).
    pub on_spike: Program,
    /// The reset statements, run for each neuron that spiked after the synapses' events.
    pub reset: Program,
    /// Each subexpression into its slot, in dependency order (for recording).
    pub refresh: Program,
    /// Philox streams drawn per neuron and step.
    pub streams: u32,
    /// The names every expression of the model may use, for `init` and the synapses.
    pub scope: Scope,
    /// Each subexpression's slot and its expression (over slots), in dependency order.
    pub subexpressions: Vec<(usize, Node)>,
    /// The config's timed arrays (the model data of its populations on the GPU).
    pub tables: Vec<TimedArray>,
}

/// `at` names the config key an error is reported under; `err` builds the error for a
/// position in the text of `key`.
fn at_line(at: &str, key: &str, e: impl std::fmt::Display) -> Error {
    Error::config(format!("{at}.{key}"), e.to_string())
}

/// The namespace table, each value a number (dimensionless) or an expression of numbers,
/// units and other namespace entries (in any order).
pub fn read_namespace(at: &str, table: &toml::Table) -> Result<BTreeMap<String, Quantity>> {
    let mut scope = Scope::default();
    let mut pending: Vec<(&String, Expr)> = Vec::new();
    for (name, value) in table {
        let key = format!("{at}.namespace.{name}");
        if !crate::config::is_identifier(name) {
            return Err(Error::config(key, "a namespace name must be an identifier"));
        }
        match value {
            toml::Value::Integer(x) => {
                scope
                    .namespace
                    .insert(name.clone(), Quantity::new(*x as f64, Dim::ONE));
            }
            toml::Value::Float(x) => {
                scope.namespace.insert(name.clone(), Quantity::new(*x, Dim::ONE));
            }
            toml::Value::String(text) => {
                let e = parse::expression(text).map_err(|e| Error::config(&key, e.to_string()))?;
                pending.push((name, e));
            }
            _ => {
                return Err(Error::config(
                    key,
                    "must be a number or an expression with units, e.g. \"-60*mV\"",
                ))
            }
        }
    }
    // Entries may refer to each other in any order: evaluate what can be, until nothing moves.
    while !pending.is_empty() {
        let before = pending.len();
        let mut last_error = None;
        pending.retain(|(name, e)| match scope.value(e) {
            Ok(q) => {
                scope.namespace.insert((*name).clone(), q);
                false
            }
            Err(err) => {
                last_error = Some((name.to_string(), err));
                true
            }
        });
        if pending.len() == before {
            let (name, err) = last_error.expect("something is pending");
            return Err(Error::config(format!("{at}.namespace.{name}"), err.to_string()));
        }
    }
    Ok(scope.namespace)
}

/// The flags a neuron's equations may carry.
const NEURON_FLAGS: [&str; 4] = ["constant", "shared", "unless refractory", "constant over dt"];

impl NeuronModel {
    /// Compiles model `name` (config key `at`) for a step of `dt` seconds.
    pub fn compile(name: &str, at: &str, text: &ModelText, dt: f64) -> Result<NeuronModel> {
        let eq_err = |e: &dyn std::fmt::Display| at_line(at, "equations", e);
        let equations = parse::equations(text.equations).map_err(|e| eq_err(&e))?;
        if equations.is_empty() {
            return Err(Error::config(format!("{at}.equations"), "no equations"));
        }
        let mut scope = Scope::with_builtins();
        scope.namespace = read_namespace(at, text.namespace)?;
        for t in text.tables {
            scope.tables.insert(t.table.name.clone(), (t.dim, t.table.cols));
        }
        for eq in &equations {
            if let Some(bad) = eq.flags.iter().find(|f| !NEURON_FLAGS.contains(&f.as_str())) {
                let hint = match bad.as_str() {
                    "summed" | "clock-driven" | "event-driven" => " (a synapse's flag)",
                    _ => "",
                };
                return Err(eq_err(&format!(
                    "{}: unknown flag `{bad}`{hint}; a neuron's equations take {}",
                    eq.pos,
                    NEURON_FLAGS.join(", ")
                )));
            }
            let name = defined(eq);
            if matches!(name, "t" | "dt" | "i" | "N" | "not_refractory" | "lastspike" | "xi")
                || name.starts_with("xi_")
            {
                return Err(eq_err(&format!("{}: `{name}` is a reserved name", eq.pos)));
            }
        }
        let scope = check_equations(&equations, scope).map_err(|e| eq_err(&e))?;

        // Slots: differential variables (the first is checked for divergence), parameters,
        // subexpressions, then what refractoriness needs.
        let mut vars = Vec::new();
        for kind in [VarKind::Differential, VarKind::Parameter, VarKind::Subexpression] {
            for eq in &equations {
                if var_kind(eq) == kind {
                    vars.push(VarDef {
                        name: defined(eq).to_string(),
                        dim: scope.symbols[defined(eq)],
                        kind,
                        flags: eq.flags.clone(),
                    });
                }
            }
        }
        let refractory = text.refractory.filter(|r| !r.trim().is_empty());
        if refractory.is_some() {
            for (name, kind, dim) in [
                ("not_refractory", VarKind::NotRefractory, Dim::ONE),
                ("steps_since_spike", VarKind::StepsSinceSpike, Dim::ONE),
            ] {
                vars.push(VarDef {
                    name: name.into(),
                    dim,
                    kind,
                    flags: Vec::new(),
                });
            }
        }
        let slot_of: BTreeMap<String, usize> = vars
            .iter()
            .enumerate()
            .map(|(k, v)| (v.name.clone(), k))
            .collect();
        let nr_slot = slot_of.get("not_refractory").copied();
        let own = |n: &str| slot_of.get(n).map(|&k| Node::load(Ref::Var(k)));
        let mut scope_with_nr = scope.clone();
        if nr_slot.is_some() {
            scope_with_nr
                .symbols
                .insert("not_refractory".into(), Dim::ONE);
        }
        let tables: Vec<_> = text.tables.iter().map(|t| (t.table.clone(), t.dt)).collect();
        let lowering = Lowering {
            scope: &scope_with_nr,
            own: &own,
            random: true,
            tables: &tables,
            dt,
        };
        let mut streams = Streams::default();

        // Subexpressions in dependency order.
        let mut subs: Vec<(usize, Node, Pos)> = Vec::new();
        for eq in equations.iter().filter(|e| var_kind(e) == VarKind::Subexpression) {
            let node = lowering
                .lower(eq.expr.as_ref().expect("a subexpression has one"), &mut streams)
                .map_err(|e| eq_err(&e))?;
            let mut is_random = false;
            node.visit(&mut |n| is_random |= matches!(n, Node::Normal(_) | Node::Uniform(_)));
            if is_random {
                return Err(eq_err(&format!(
                    "{}: noise and random numbers go in differential equations, not in a subexpression",
                    eq.pos
                )));
            }
            subs.push((slot_of[defined(eq)], node, eq.pos));
        }
        let subexpressions = order_subexpressions(subs).map_err(|e| eq_err(&e))?;

        // Differential equations: the deterministic part f and a noise term per stream.
        let mut system = Vec::new();
        for eq in equations.iter().filter(|e| var_kind(e) == VarKind::Differential) {
            let rhs = lowering
                .lower(eq.expr.as_ref().expect("a derivative has one"), &mut streams)
                .map_err(|e| eq_err(&e))?;
            let (f, noise) = split_noise(&rhs).ok_or_else(|| {
                eq_err(&format!(
                    "{}: the noise of d{}/dt must enter linearly (σ·xi)",
                    eq.pos,
                    defined(eq)
                ))
            })?;
            let unless = eq.flags.iter().any(|f| f == "unless refractory");
            if unless && nr_slot.is_none() {
                return Err(eq_err(&format!(
                    "{}: `(unless refractory)` needs the model's `refractory`",
                    eq.pos
                )));
            }
            system.push(Derivative {
                slot: slot_of[defined(eq)],
                name: defined(eq).to_string(),
                f,
                noise,
                unless_refractory: unless,
                pos: eq.pos,
            });
        }
        let sys = System {
            derivatives: system,
            subexpressions: subexpressions.clone(),
            not_refractory: nr_slot,
        };
        let stochastic = sys.derivatives.iter().any(|d| !d.noise.is_empty());
        let method = match text.method {
            Some(m) => Method::from_name(m).ok_or_else(|| {
                Error::config(
                    format!("{at}.method"),
                    format!("unknown method `{m}`; ganglion has euler, exponential_euler, rk2, rk4, heun and exact"),
                )
            })?,
            None => sys.default_method().map_err(|m| Error::config(format!("{at}.method"), m))?,
        };
        if stochastic && !matches!(method, Method::Euler | Method::Heun) {
            return Err(Error::config(
                format!("{at}.method"),
                format!(
                    "{} cannot integrate stochastic equations; use euler (additive noise) or heun",
                    method.name()
                ),
            ));
        }

        let mut update = Program::default();
        // Refractoriness first, as Brian2's state updater computes not_refractory before
        // integrating.
        let mut on_spike = Program::default();
        if let (Some(text), Some(nr)) = (refractory, nr_slot) {
            let key = format!("{at}.refractory");
            let e = parse::expression(text).map_err(|e| Error::config(&key, e.to_string()))?;
            let dim = scope_with_nr.dim(&e).map_err(|e| Error::config(&key, e.to_string()))?;
            let cond = sys.inline(
                &lowering
                    .lower(&e, &mut streams)
                    .map_err(|e| Error::config(&key, e.to_string()))?,
            );
            let since = nr + 1;
            if dim == Dim::SECOND {
                // Brian2: not_refractory = timestep(t − lastspike, dt) >= timestep(ref, dt).
                let s = Node::load(Ref::Var(since));
                update.store(
                    Target::Var(since),
                    Node::Call(
                        Func::Clip,
                        vec![Node::add(s.clone(), Node::c(1.0)), Node::c(0.0), Node::c(SINCE_CAP)],
                    ),
                );
                let steps = super::ir::fold(Node::Call(
                    Func::Floor,
                    vec![Node::div(
                        Node::add(cond, Node::mul(Node::c(1e-3), Node::load(Ref::Dt))),
                        Node::load(Ref::Dt),
                    )],
                ));
                update.store(Target::Var(nr), Node::bin(BinOp::Ge, s, steps));
                on_spike.store(Target::Var(since), Node::c(0.0));
            } else if dim.is_dimensionless() && is_condition(&e) {
                // Brian2: not_refractory = not_refractory or not (condition).
                update.store(
                    Target::Var(nr),
                    Node::bin(
                        BinOp::Or,
                        Node::load(Ref::Var(nr)),
                        super::ir::fold(Node::Not(Box::new(cond))),
                    ),
                );
            } else {
                return Err(Error::config(
                    key,
                    format!("must be a duration (\"3*ms\") or a condition (\"v > -20*mV\"), got a {dim}"),
                ));
            }
            on_spike.store(Target::Var(nr), Node::c(0.0));
        }
        sys.integrate(method, &mut update)
            .map_err(|m| Error::config(format!("{at}.method"), m))?;

        let threshold = match text.threshold.filter(|t| !t.trim().is_empty()) {
            None => None,
            Some(t) => {
                let key = format!("{at}.threshold");
                let e = parse::expression(t).map_err(|e| Error::config(&key, e.to_string()))?;
                let dim = scope_with_nr.dim(&e).map_err(|e| Error::config(&key, e.to_string()))?;
                if !dim.is_dimensionless() || !is_condition(&e) {
                    return Err(Error::config(
                        key,
                        format!("must be a condition such as \"v > -50*mV\"; got a {dim} value"),
                    ));
                }
                let cond = sys.inline(
                    &lowering
                        .lower(&e, &mut streams)
                        .map_err(|e| Error::config(&key, e.to_string()))?,
                );
                Some(match nr_slot {
                    Some(nr) => Node::bin(BinOp::And, cond, Node::load(Ref::Var(nr))),
                    None => cond,
                })
            }
        };
        if threshold.is_none() && (text.reset.is_some_and(|r| !r.trim().is_empty()) || refractory.is_some()) {
            return Err(Error::config(
                format!("{at}.threshold"),
                "a reset or refractoriness needs a threshold",
            ));
        }

        let mut reset = Program::default();
        if let Some(r) = text.reset {
            let key = format!("{at}.reset");
            let stmts = parse::statements(r).map_err(|e| Error::config(&key, e.to_string()))?;
            for s in &stmts {
                let k = *slot_of.get(&s.target).ok_or_else(|| {
                    Error::config(&key, format!("{}: unknown variable `{}`", s.pos, s.target))
                })?;
                assignable(&vars[k], s.pos).map_err(|e| Error::config(&key, e.to_string()))?;
                let value = statement_value(&scope_with_nr, &lowering, &mut streams, s, vars[k].dim, Node::load(Ref::Var(k)))
                    .map_err(|e| Error::config(&key, e.to_string()))?;
                reset.store(Target::Var(k), sys.inline(&value));
            }
        }

        let mut refresh = Program::default();
        for (slot, node) in &subexpressions {
            refresh.store(Target::Var(*slot), node.clone());
        }
        // dt is a constant of the run: folded, so that what depends only on it (a decay
        // factor e^(−dt/τ), a refractory period in steps) is computed once, in f64.
        let with_dt = |n: &Node| fold_dt(n, dt);
        let update = map_program(&update, &with_dt);
        let on_spike = map_program(&on_spike, &with_dt);
        let reset = map_program(&reset, &with_dt);
        let refresh = map_program(&refresh, &with_dt);
        let threshold = threshold.map(|t| with_dt(&t));
        if streams.count > crate::rng::stream::PER_POPULATION {
            return Err(Error::config(
                format!("{at}.equations"),
                format!(
                    "draws from {} random streams per step (noise names and rand() calls); at most {} are supported",
                    streams.count,
                    crate::rng::stream::PER_POPULATION
                ),
            ));
        }
        Ok(NeuronModel {
            name: name.to_string(),
            vars,
            dt,
            method,
            update,
            threshold,
            on_spike,
            reset,
            refresh,
            streams: streams.count,
            scope: scope_with_nr,
            subexpressions,
            tables: text.tables.to_vec(),
        })
    }

    pub fn slot(&self, name: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.name == name)
    }

    /// `node` with every subexpression replaced by its expression (for code outside the
    /// integration, where subexpression slots are not kept current).
    pub fn inline(&self, node: &Node) -> Node {
        inline_subexpressions(node, &self.subexpressions)
    }
}

/// What a statement assigns, dimension-checked: `x op= e` as the value of x.
pub fn statement_value(
    scope: &Scope,
    lowering: &Lowering,
    streams: &mut Streams,
    s: &parse::Statement,
    target_dim: Dim,
    current: Node,
) -> std::result::Result<Node, DimError> {
    let dim = scope.dim(&s.expr)?;
    let same = matches!(s.op, "=" | "+=" | "-=");
    if same && dim != target_dim {
        return Err(DimError {
            pos: s.expr.start(),
            message: format!(
                "`{} {}` assigns a {dim} to a variable in {target_dim}",
                s.target, s.op
            ),
        });
    }
    if !same && !dim.is_dimensionless() {
        return Err(DimError {
            pos: s.expr.start(),
            message: format!("`{} {}` needs a dimensionless factor, got {dim}", s.target, s.op),
        });
    }
    let e = lowering.lower(&s.expr, streams)?;
    Ok(match s.op {
        "=" => e,
        "+=" => Node::add(current, e),
        "-=" => Node::sub(current, e),
        "*=" => Node::mul(current, e),
        _ => Node::div(current, e),
    })
}

/// A variable a statement may assign: not a subexpression, not a constant.
pub fn assignable(v: &VarDef, pos: Pos) -> std::result::Result<(), DimError> {
    let why = match v.kind {
        VarKind::Subexpression => Some("a subexpression"),
        _ if v.flags.iter().any(|f| f == "constant") => Some("constant"),
        VarKind::NotRefractory | VarKind::StepsSinceSpike | VarKind::LastUpdate => {
            Some("kept by ganglion")
        }
        _ => None,
    };
    match why {
        Some(why) => Err(DimError {
            pos,
            message: format!("`{}` is {why} and cannot be assigned", v.name),
        }),
        None => Ok(()),
    }
}

fn defined(eq: &Equation) -> &str {
    match &eq.defines {
        Defines::Derivative(n) | Defines::Subexpression(n) | Defines::Parameter(n) => n,
    }
}

fn var_kind(eq: &Equation) -> VarKind {
    match eq.defines {
        Defines::Derivative(_) => VarKind::Differential,
        Defines::Subexpression(_) => VarKind::Subexpression,
        Defines::Parameter(_) => VarKind::Parameter,
    }
}

/// Whether an expression is a condition (a comparison, `and`, `or`, `not`), as Brian2 requires
/// of thresholds.
pub fn is_condition(e: &Expr) -> bool {
    match e {
        Expr::Binary(op, _, _, _) => {
            matches!(*op, "<" | "<=" | ">" | ">=" | "==" | "!=" | "and" | "or")
        }
        Expr::Unary("not", _, _) => true,
        Expr::Name(n, _) => n == "not_refractory",
        _ => false,
    }
}

fn order_subexpressions(
    subs: Vec<(usize, Node, Pos)>,
) -> std::result::Result<Vec<(usize, Node)>, DimError> {
    let mut done: Vec<(usize, Node)> = Vec::new();
    let mut pending = subs;
    while !pending.is_empty() {
        let before = pending.len();
        let slots: Vec<usize> = pending.iter().map(|p| p.0).collect();
        let mut ready = Vec::new();
        pending.retain(|(slot, node, _)| {
            let waits = slots.iter().any(|&s| s != *slot && node.reads(Ref::Var(s)));
            if !waits && !node.reads(Ref::Var(*slot)) {
                ready.push((*slot, node.clone()));
                false
            } else {
                true
            }
        });
        done.extend(ready);
        if pending.len() == before {
            return Err(DimError {
                pos: pending[0].2,
                message: "subexpressions that depend on each other in a cycle".into(),
            });
        }
    }
    Ok(done)
}

fn inline_subexpressions(node: &Node, subs: &[(usize, Node)]) -> Node {
    node.substitute(&|r| match r {
        Ref::Var(k) => subs
            .iter()
            .find(|(s, _)| *s == k)
            .map(|(_, n)| inline_subexpressions(n, subs)),
        _ => None,
    })
}

/// `rhs` as f + Σ g_k·xi_k: f, and (stream, g_k) for each noise stream. None where a noise
/// enters non-linearly.
fn split_noise(rhs: &Node) -> Option<(Node, Vec<(u32, Node)>)> {
    let mut streams = Vec::new();
    rhs.visit(&mut |n| {
        if let Node::Normal(k) = n {
            if !streams.contains(k) {
                streams.push(*k);
            }
        }
    });
    let mut f = rhs.clone();
    let mut noise = Vec::new();
    for k in streams {
        let (g, rest) = f.linear_in(&Node::Normal(k))?;
        noise.push((k, g));
        f = rest;
    }
    Some((f, noise))
}

struct Derivative {
    slot: usize,
    name: String,
    f: Node,
    noise: Vec<(u32, Node)>,
    unless_refractory: bool,
    #[allow(dead_code)]
    pos: Pos,
}

struct System {
    derivatives: Vec<Derivative>,
    subexpressions: Vec<(usize, Node)>,
    not_refractory: Option<usize>,
}

/// One evaluation of the right-hand sides: f and the noise terms of each derivative.
struct Stage {
    f: Vec<Node>,
    g: Vec<Vec<(u32, Node)>>,
}

impl System {
    fn inline(&self, node: &Node) -> Node {
        inline_subexpressions(node, &self.subexpressions)
    }

    /// The subexpression slots that `nodes` read, directly or through other subexpressions.
    fn needed_subexpressions<'a>(&self, nodes: impl Iterator<Item = &'a Node>) -> Vec<usize> {
        let mut needed: Vec<usize> = Vec::new();
        let mut pending: Vec<&Node> = nodes.collect();
        while let Some(n) = pending.pop() {
            for (slot, sub) in &self.subexpressions {
                if !needed.contains(slot) && n.reads(Ref::Var(*slot)) {
                    needed.push(*slot);
                    pending.push(sub);
                }
            }
        }
        needed
    }

    fn nr_factor(&self, d: &Derivative) -> Option<Node> {
        match (d.unless_refractory, self.not_refractory) {
            (true, Some(nr)) => Some(Node::load(Ref::Var(nr))),
            _ => None,
        }
    }

    /// The right-hand sides at the state where each differential variable k is `values(k)`
    /// (None: its current value) and at time t + `t_shift`; the subexpressions they read go
    /// into temporaries of `prog`.
    fn stage(
        &self,
        prog: &mut Program,
        values: &dyn Fn(usize) -> Option<Node>,
        t_shift: Option<Node>,
    ) -> Stage {
        let mut sub_temps: Vec<(usize, Node)> = Vec::new();
        let diff_slots: Vec<usize> = self.derivatives.iter().map(|d| d.slot).collect();
        let map = |sub_temps: &Vec<(usize, Node)>, r: Ref| -> Option<Node> {
            match r {
                Ref::Var(k) if diff_slots.contains(&k) => {
                    values(diff_slots.iter().position(|&s| s == k).expect("listed"))
                }
                Ref::Var(k) => sub_temps.iter().find(|(s, _)| *s == k).map(|(_, n)| n.clone()),
                Ref::T => t_shift
                    .clone()
                    .map(|shift| Node::add(Node::load(Ref::T), shift)),
                _ => None,
            }
        };
        let needed = self.needed_subexpressions(
            self.derivatives
                .iter()
                .flat_map(|d| std::iter::once(&d.f).chain(d.noise.iter().map(|(_, g)| g))),
        );
        for (slot, node) in &self.subexpressions {
            if !needed.contains(slot) {
                continue;
            }
            let value = node.substitute(&|r| map(&sub_temps, r));
            let temp = prog.let_(value);
            sub_temps.push((*slot, temp));
        }
        let f = self
            .derivatives
            .iter()
            .map(|d| {
                let f = d.f.substitute(&|r| map(&sub_temps, r));
                match self.nr_factor(d) {
                    Some(nr) => Node::mul(f, nr),
                    None => f,
                }
            })
            .collect();
        let g = self
            .derivatives
            .iter()
            .map(|d| {
                d.noise
                    .iter()
                    .map(|(k, g)| {
                        let g = g.substitute(&|r| map(&sub_temps, r));
                        let g = match self.nr_factor(d) {
                            Some(nr) => Node::mul(g, nr),
                            None => g,
                        };
                        (*k, g)
                    })
                    .collect()
            })
            .collect();
        Stage { f, g }
    }

    fn x(&self, k: usize) -> Node {
        Node::load(Ref::Var(self.derivatives[k].slot))
    }

    fn dt() -> Node {
        Node::load(Ref::Dt)
    }

    /// The new values into temporaries, then stored: every update reads the old state.
    fn store_all(&self, prog: &mut Program, new: Vec<Node>) {
        let temps: Vec<Node> = new.into_iter().map(|n| prog.let_(n)).collect();
        for (d, value) in self.derivatives.iter().zip(temps) {
            prog.store(Target::Var(d.slot), value);
        }
    }

    /// √dt·xi_k for every noise stream, into temporaries.
    fn increments(&self, prog: &mut Program) -> Vec<(u32, Node)> {
        let mut streams: Vec<u32> = self
            .derivatives
            .iter()
            .flat_map(|d| d.noise.iter().map(|(k, _)| *k))
            .collect();
        streams.sort_unstable();
        streams.dedup();
        streams
            .into_iter()
            .map(|k| {
                let dw = Node::mul(
                    fold_sqrt(Self::dt()),
                    Node::Normal(k),
                );
                (k, prog.let_(dw))
            })
            .collect()
    }

    fn integrate(&self, method: Method, prog: &mut Program) -> std::result::Result<(), String> {
        let n = self.derivatives.len();
        let dt = Self::dt;
        let half = |e: Node| Node::div(e, Node::c(2.0));
        match method {
            Method::Euler => {
                let dw = self.increments(prog);
                let s = self.stage(prog, &|_| None, None);
                let new = (0..n)
                    .map(|k| {
                        let mut x = Node::add(self.x(k), Node::mul(dt(), s.f[k].clone()));
                        for (stream, g) in &s.g[k] {
                            let w = &dw.iter().find(|(j, _)| j == stream).expect("drawn").1;
                            x = Node::add(x, Node::mul(g.clone(), w.clone()));
                        }
                        x
                    })
                    .collect();
                self.store_all(prog, new);
            }
            Method::Heun => {
                let dw = self.increments(prog);
                let w = |stream: u32| dw.iter().find(|(j, _)| *j == stream).expect("drawn").1.clone();
                let s0 = self.stage(prog, &|_| None, None);
                let support: Vec<Node> = (0..n)
                    .map(|k| {
                        let mut x = self.x(k);
                        for (stream, g) in &s0.g[k] {
                            x = Node::add(x, Node::mul(g.clone(), w(*stream)));
                        }
                        prog.let_(x)
                    })
                    .collect();
                let s1 = if s0.g.iter().any(|g| !g.is_empty()) {
                    Some(self.stage(prog, &|k| Some(support[k].clone()), Some(dt())))
                } else {
                    None
                };
                let new = (0..n)
                    .map(|k| {
                        let mut x = Node::add(self.x(k), Node::mul(dt(), s0.f[k].clone()));
                        for (j, (stream, g0)) in s0.g[k].iter().enumerate() {
                            let g1 = s1.as_ref().expect("stochastic").g[k][j].1.clone();
                            let term = Node::mul(
                                Node::mul(Node::c(0.5), w(*stream)),
                                Node::add(g0.clone(), g1),
                            );
                            x = Node::add(x, term);
                        }
                        x
                    })
                    .collect();
                self.store_all(prog, new);
            }
            Method::Rk2 => {
                let s0 = self.stage(prog, &|_| None, None);
                let k1: Vec<Node> = (0..n)
                    .map(|k| prog.let_(Node::mul(dt(), s0.f[k].clone())))
                    .collect();
                let mid: Vec<Node> = (0..n)
                    .map(|k| prog.let_(Node::add(self.x(k), half(k1[k].clone()))))
                    .collect();
                let s1 = self.stage(prog, &|k| Some(mid[k].clone()), Some(half(dt())));
                let new = (0..n)
                    .map(|k| Node::add(self.x(k), Node::mul(dt(), s1.f[k].clone())))
                    .collect();
                self.store_all(prog, new);
            }
            Method::Rk4 => {
                let s1 = self.stage(prog, &|_| None, None);
                let k1: Vec<Node> = (0..n)
                    .map(|k| prog.let_(Node::mul(dt(), s1.f[k].clone())))
                    .collect();
                let at = |prog: &mut Program, ks: &[Node], scale: fn(Node) -> Node| -> Vec<Node> {
                    (0..n)
                        .map(|k| prog.let_(Node::add(self.x(k), scale(ks[k].clone()))))
                        .collect()
                };
                let x2 = at(prog, &k1, |e| Node::div(e, Node::c(2.0)));
                let s2 = self.stage(prog, &|k| Some(x2[k].clone()), Some(half(dt())));
                let k2: Vec<Node> = (0..n)
                    .map(|k| prog.let_(Node::mul(dt(), s2.f[k].clone())))
                    .collect();
                let x3 = at(prog, &k2, |e| Node::div(e, Node::c(2.0)));
                let s3 = self.stage(prog, &|k| Some(x3[k].clone()), Some(half(dt())));
                let k3: Vec<Node> = (0..n)
                    .map(|k| prog.let_(Node::mul(dt(), s3.f[k].clone())))
                    .collect();
                let x4 = at(prog, &k3, |e| e);
                let s4 = self.stage(prog, &|k| Some(x4[k].clone()), Some(dt()));
                let k4: Vec<Node> = (0..n)
                    .map(|k| prog.let_(Node::mul(dt(), s4.f[k].clone())))
                    .collect();
                let new = (0..n)
                    .map(|k| {
                        let sum = Node::add(
                            Node::add(
                                Node::add(k1[k].clone(), Node::mul(Node::c(2.0), k2[k].clone())),
                                Node::mul(Node::c(2.0), k3[k].clone()),
                            ),
                            k4[k].clone(),
                        );
                        Node::add(self.x(k), Node::div(sum, Node::c(6.0)))
                    })
                    .collect();
                self.store_all(prog, new);
            }
            Method::ExponentialEuler | Method::Exact => {
                let parts = self.linear_parts(method == Method::Exact)?;
                // The subexpressions the coefficients still read, at the current state.
                let sub_temps: Vec<(usize, Node)> = {
                    // Recompute temporaries for the subexpressions the coefficients read.
                    let mut temps = Vec::new();
                    let needed = self.needed_subexpressions(parts.iter().flat_map(|(a, b)| [a, b]));
                    for (slot, node) in &self.subexpressions {
                        if needed.contains(slot) {
                            let value = node.substitute(&|r| match r {
                                Ref::Var(k) => temps
                                    .iter()
                                    .find(|(s, _): &&(usize, Node)| *s == k)
                                    .map(|(_, n)| n.clone()),
                                _ => None,
                            });
                            let t = prog.let_(value);
                            temps.push((*slot, t));
                        }
                    }
                    temps
                };
                let resolve = |n: &Node| {
                    n.substitute(&|r| match r {
                        Ref::Var(k) => sub_temps.iter().find(|(s, _)| *s == k).map(|(_, n)| n.clone()),
                        _ => None,
                    })
                };
                let new = self
                    .derivatives
                    .iter()
                    .zip(&parts)
                    .enumerate()
                    .map(|(k, (d, (a, b)))| {
                        let (a, b) = (resolve(a), resolve(b));
                        // A appears twice (B/A and e^(A·dt)): computed once.
                        let a = prog.let_(a);
                        let a_eff = match self.nr_factor(d) {
                            Some(nr) => Node::mul(a.clone(), nr),
                            None => a.clone(),
                        };
                        if a.as_const() == Some(0.0) {
                            let b_eff = match self.nr_factor(d) {
                                Some(nr) => Node::mul(b, nr),
                                None => b,
                            };
                            Node::add(self.x(k), Node::mul(dt(), b_eff))
                        } else if b.as_const() != Some(0.0) {
                            let ba = prog.let_(Node::div(b, a));
                            Node::sub(
                                Node::mul(
                                    Node::add(self.x(k), ba.clone()),
                                    Node::exp(Node::mul(a_eff, dt())),
                                ),
                                ba,
                            )
                        } else {
                            Node::mul(self.x(k), Node::exp(Node::mul(a_eff, dt())))
                        }
                    })
                    .collect();
                self.store_all(prog, new);
            }
        }
        Ok(())
    }

    /// Each derivative as A·x + B (subexpressions that read x inlined), for the exponential
    /// methods. With `constant`, A and B may not read any differential variable or t.
    fn linear_parts(&self, constant: bool) -> std::result::Result<Vec<(Node, Node)>, String> {
        let diff_slots: Vec<usize> = self.derivatives.iter().map(|d| d.slot).collect();
        self.derivatives
            .iter()
            .map(|d| {
                let x = Node::load(Ref::Var(d.slot));
                // Inline the subexpressions that depend on x, keep the others as loads.
                let depends = |slot: usize| self.inline(&Node::load(Ref::Var(slot))).reads(Ref::Var(d.slot));
                let f = inline_where(&d.f, &self.subexpressions, &depends);
                let (a, b) = f.linear_in(&x).ok_or_else(|| {
                    format!(
                        "d{}/dt is not linear in {} (exponential_euler needs A·{}+B with A and B free of it); use euler, rk2, rk4 or heun",
                        d.name, d.name, d.name
                    )
                })?;
                if constant {
                    let full_a = self.inline(&a);
                    let full_b = self.inline(&b);
                    let moving = diff_slots.iter().any(|&s| full_a.reads(Ref::Var(s)) || full_b.reads(Ref::Var(s)))
                        || full_a.reads(Ref::T)
                        || full_b.reads(Ref::T);
                    if moving {
                        return Err(format!("d{}/dt is not linear with constant coefficients, which `exact` needs", d.name));
                    }
                }
                Ok((a, b))
            })
            .collect()
    }

    /// Brian2's default, ('exact', 'euler', 'heun'): exact where every equation is linear in
    /// itself with constant coefficients, euler for other deterministic equations and additive
    /// noise, heun for multiplicative noise. A coupled linear system, which Brian2 solves
    /// exactly by a matrix exponential, is an error here rather than a different answer.
    fn default_method(&self) -> std::result::Result<Method, String> {
        let diff_slots: Vec<usize> = self.derivatives.iter().map(|d| d.slot).collect();
        let stochastic = self.derivatives.iter().any(|d| !d.noise.is_empty());
        if stochastic {
            let multiplicative = self.derivatives.iter().any(|d| {
                d.noise.iter().any(|(_, g)| {
                    let g = self.inline(g);
                    diff_slots.iter().any(|&s| g.reads(Ref::Var(s)))
                })
            });
            return Ok(if multiplicative { Method::Heun } else { Method::Euler });
        }
        if self.linear_parts(true).is_ok() {
            return Ok(Method::Exact);
        }
        // Linear in every variable jointly, with constant coefficients: a coupled linear system.
        let coupled_linear = self.derivatives.iter().all(|d| {
            let mut rest = self.inline(&d.f);
            for &s in &diff_slots {
                match rest.linear_in(&Node::load(Ref::Var(s))) {
                    Some((a, b)) => {
                        let moving = diff_slots.iter().any(|&q| a.reads(Ref::Var(q))) || a.reads(Ref::T);
                        if moving {
                            return false;
                        }
                        rest = b;
                    }
                    None => return false,
                }
            }
            !rest.reads(Ref::T)
        });
        if coupled_linear {
            return Err("these equations are a coupled linear system, which Brian2 would integrate with `exact` (a matrix exponential); ganglion does not have that yet: name a method (euler, rk2, rk4, exponential_euler, heun)".into());
        }
        Ok(Method::Euler)
    }
}

/// `n` with `dt` replaced by its value (and folded).
pub fn fold_dt(n: &Node, dt: f64) -> Node {
    n.substitute(&|r| (r == Ref::Dt).then_some(Node::c(dt)))
}

/// `p` with `f` applied to every statement's value.
pub fn map_program(p: &Program, f: &dyn Fn(&Node) -> Node) -> Program {
    Program {
        temps: p.temps,
        body: p
            .body
            .iter()
            .map(|s| super::ir::Stmt {
                target: s.target,
                value: f(&s.value),
            })
            .collect(),
    }
}

fn fold_sqrt(n: Node) -> Node {
    super::ir::fold(Node::Call(Func::Sqrt, vec![n]))
}

/// `node` with the subexpressions for which `which` holds inlined (recursively).
fn inline_where(node: &Node, subs: &[(usize, Node)], which: &dyn Fn(usize) -> bool) -> Node {
    node.substitute(&|r| match r {
        Ref::Var(k) if which(k) => subs
            .iter()
            .find(|(s, _)| *s == k)
            .map(|(_, n)| inline_where(n, subs, which)),
        _ => None,
    })
}
