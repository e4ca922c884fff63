//! A neuron model compiled from its `[models.<name>]` table: the state layout, and the
//! programs of one step in Brian2's order (refractoriness, integration by the chosen method,
//! threshold, what a spike sets, reset), plus the refresh of subexpressions for recording.

use super::check::{check_equations, DimError, Scope};
use super::dims::Dim;
use super::integrate::{inline_subexpressions, split_noise, Derivative, StateOf, System};
pub use super::integrate::Method;
use super::ir::{BinOp, Func, Node, Program, Ref, Target};
use super::lower::{Lowering, Streams};
use super::parse::{self, Defines, Equation, Expr, Pos};
use super::quantities::Quantity;
pub use super::var_type::VarType;
use crate::error::{Error, Result};
use std::collections::BTreeMap;


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
    /// A custom event's flag: 1 in the steps its condition held (`events::CustomEvent`).
    EventFlag,
    /// One of Brian2's counts that a synapse's statements or equations read, kept per synapse
    /// as Brian2 keeps `N_incoming` and `N_outgoing` (set when the synapses are drawn).
    Count(super::ir::Count),
}

#[derive(Clone, Debug, PartialEq)]
pub struct VarDef {
    pub name: String,
    pub dim: Dim,
    pub kind: VarKind,
    pub flags: Vec<String>,
    pub ty: VarType,
}

impl VarDef {
    /// Brian2's linked variable (`I : amp (linked)`): another population's variable, read
    /// through the population's `links` (a copy the backends refresh, `network::Link`).
    pub fn is_linked(&self) -> bool {
        self.flags.iter().any(|f| f == "linked")
    }
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
    /// Brian2's PoissonInputs of the population (`poisson_input`): each adds its Binomial
    /// count of events times its weight to its variable, for every neuron, after the
    /// synapses' events and before the resets (Brian2's `synapses` slot).
    pub inputs: Program,
    /// Brian2's `run_regularly` of the population (`regularly`): statements run for every
    /// neuron at the start of every k-th step (k, program), before the step's recording.
    pub regularly: Vec<(crate::record::Schedule, Program)>,
    /// The reset statements, run for each neuron that spiked after the synapses' events.
    pub reset: Program,
    /// Brian2's custom events (`events`): flags set after the threshold, code after the
    /// resets.
    pub events: Vec<super::events::CustomEvent>,
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
        if let Some(what) = super::check::taken(name) {
            return Err(Error::config(key, format!("`{name}` is {what}, not a name a namespace may define")));
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

/// Brian2's `lastspike`, the time of the neuron's last spike, from the steps since it (in
/// slot `since`): (step − since)·dt, the start of the step it spiked in. Counted in whole
/// steps, it is exact where Brian2's float time is not, and `t − lastspike` is since·dt. A
/// neuron that has not spiked reads 10⁷ steps ago (`SINCE_CAP`; Brian2: −10⁴ s): long ago
/// either way.
fn lastspike_of(since: usize) -> Node {
    Node::mul(Node::sub(Node::load(Ref::Step), Node::load(Ref::Var(since))), Node::load(Ref::Dt))
}

/// The flags a neuron's equations may carry.
const NEURON_FLAGS: [&str; 5] = ["constant", "shared", "unless refractory", "constant over dt", "linked"];

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
            if eq.flags.iter().any(|f| f == "linked") {
                // As in Brian2: a parameter, with no other flag.
                if !matches!(eq.defines, Defines::Parameter(_)) || eq.flags.len() > 1 {
                    return Err(eq_err(&format!(
                        "{}: `(linked)` marks a parameter alone (`{name} : unit (linked)`), with no other flag",
                        eq.pos
                    )));
                }
            }
            if let Some(what) = super::check::taken(name) {
                return Err(eq_err(&format!("{}: `{name}` is {what}", eq.pos)));
            }
            if matches!(eq.defines, Defines::Derivative(_)) {
                VarType::differentiable(eq, name).map_err(|e| eq_err(&e))?;
                super::shared::not_differential(eq, name).map_err(|e| eq_err(&e))?;
            }
        }
        // Brian2 gives a refractory model `lastspike`.
        let refractory = text.refractory.filter(|r| !r.trim().is_empty());
        if refractory.is_some() {
            scope.symbols.insert("lastspike".into(), Dim::SECOND);
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
                        ty: VarType::of(eq),
                    });
                }
            }
        }
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
                    ty: if kind == VarKind::NotRefractory { VarType::Boolean } else { VarType::Integer },
                });
            }
        }
        let slot_of: BTreeMap<String, usize> = vars
            .iter()
            .enumerate()
            .map(|(k, v)| (v.name.clone(), k))
            .collect();
        let nr_slot = slot_of.get("not_refractory").copied();
        let since_slot = slot_of.get("steps_since_spike").copied();
        let own = |n: &str| match n {
            "lastspike" => since_slot.map(lastspike_of),
            _ => slot_of.get(n).map(|&k| Node::load(Ref::Var(k))),
        };
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

        // Each variable's type, as the values written to it or read as a condition are checked.
        let ty_of = |r: Ref| match r {
            Ref::Var(k) => vars[k].ty,
            _ => VarType::Float,
        };
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
            VarType::of(eq).holds(&node, &ty_of, defined(eq), eq.pos).map_err(|e| eq_err(&e))?;
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
            state: StateOf::Neuron,
            dt,
            derivatives: system,
            subexpressions: subexpressions.clone(),
            not_refractory: nr_slot,
        };
        let method = sys.method(text.method).map_err(|m| Error::config(format!("{at}.method"), m))?;

        // A threshold or refractory condition may be a boolean variable, as in Brian2.
        let is_boolean = |node: &Node| VarType::of_value(node, &ty_of) == VarType::Boolean;
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
            // The steps since the last spike, counted first: `lastspike` is read from them.
            let s = Node::load(Ref::Var(since));
            update.store(
                Target::Var(since),
                Node::Call(
                    Func::Clip,
                    vec![Node::add(s.clone(), Node::c(1.0)), Node::c(0.0), Node::c(SINCE_CAP)],
                ),
            );
            on_spike.store(Target::Var(since), Node::c(0.0));
            if dim == Dim::SECOND {
                // Brian2: not_refractory = timestep(t − lastspike, dt) >= timestep(ref, dt).
                let steps = super::ir::fold(Node::Call(
                    Func::Floor,
                    vec![Node::div(
                        Node::add(cond, Node::mul(Node::c(1e-3), Node::load(Ref::Dt))),
                        Node::load(Ref::Dt),
                    )],
                ));
                update.store(Target::Var(nr), Node::bin(BinOp::Ge, s, steps));
            } else if dim.is_dimensionless() && (is_condition(&e) || is_boolean(&cond)) {
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
                let cond = sys.inline(
                    &lowering
                        .lower(&e, &mut streams)
                        .map_err(|e| Error::config(&key, e.to_string()))?,
                );
                check_condition(&e, dim, &cond, &ty_of).map_err(|m| Error::config(&key, m))?;
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
                super::shared::not_per_element(&vars[k], s.pos, "a reset").map_err(|e| Error::config(&key, e.to_string()))?;
                let value = statement_value(&scope_with_nr, &lowering, &mut streams, s, &vars[k], Node::load(Ref::Var(k)))
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
            inputs: Program::default(),
            regularly: Vec::new(),
            reset,
            events: Vec::new(),
            refresh,
            streams: streams.count,
            scope: scope_with_nr,
            subexpressions,
            tables: text.tables.to_vec(),
        })
    }

    /// The slots a spike may record its values of (`record.spike_variables`), 0 to this:
    /// the differential variables and parameters, which come first and which the update
    /// leaves current, and the subexpressions after them, which the recording computes.
    pub fn spike_recordable(&self) -> usize {
        self.vars.iter().take_while(|v| matches!(v.kind, VarKind::Differential | VarKind::Parameter | VarKind::Subexpression)).count()
    }

    pub fn slot(&self, name: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.name == name)
    }

    /// Brian2's `lastspike` of a refractory model (None for the others, which have none).
    pub fn lastspike(&self) -> Option<Node> {
        self.slot("steps_since_spike").map(lastspike_of)
    }

    /// What a name of the model reads: a variable, or `lastspike`.
    pub fn own_name(&self, n: &str) -> Option<Node> {
        match n {
            "lastspike" => self.lastspike(),
            _ => self.slot(n).map(|k| Node::load(Ref::Var(k))),
        }
    }

    /// The slot of `name` where it is a variable a population may set (a differential
    /// variable or a parameter: not a subexpression, nor refractoriness's own).
    pub fn settable_slot(&self, name: &str) -> Option<usize> {
        self.slot(name)
            .filter(|&k| matches!(self.vars[k].kind, VarKind::Differential | VarKind::Parameter) && !self.vars[k].is_linked())
    }

    /// `text`, an expression of dimension `dim` over the model's variables and namespace (no
    /// draws), lowered with its subexpressions inlined: for code outside the model's own
    /// (a PoissonInput's weight). `dim_rule` ends the message of a wrong dimension ("its
    /// variable is in volt").
    pub fn lower_text(&self, text: &str, dim: Dim, dim_rule: &str) -> std::result::Result<Node, String> {
        let e = parse::expression(text).map_err(|e| e.to_string())?;
        let got = self.scope.dim(&e).map_err(|e| e.to_string())?;
        if got != dim {
            return Err(format!("has dimension {got}, but {dim_rule}"));
        }
        let own = |n: &str| self.own_name(n);
        let lowering = Lowering {
            scope: &self.scope,
            own: &own,
            random: false,
            tables: &[],
            dt: self.dt,
        };
        let node = lowering.lower(&e, &mut Streams::default()).map_err(|e| e.to_string())?;
        Ok(self.inline(&node))
    }

    /// The value (SI) of `text`, a constant expression of dimension `dim` (`lower_text`);
    /// `kind` says what it must be where it reads a variable ("in hertz (\"10*Hz\")").
    pub fn constant(&self, text: &str, dim: Dim, dim_rule: &str, kind: &str) -> std::result::Result<f64, String> {
        super::ir::fold(self.lower_text(text, dim, dim_rule)?)
            .as_const()
            .ok_or_else(|| format!("must be a constant {kind}, not an expression of the model's variables"))
    }

    /// `f` with the lowering of statements and conditions added to the model (its
    /// `run_regularly`, its events): the model's names and timed arrays, draws allowed.
    pub fn with_lowering<R>(&self, f: impl FnOnce(&Lowering) -> R) -> R {
        let own = |n: &str| self.own_name(n);
        let tables: Vec<_> = self
            .tables
            .iter()
            .map(|t| (t.table.clone(), t.dt))
            .collect();
        f(&Lowering {
            scope: &self.scope,
            own: &own,
            random: true,
            tables: &tables,
            dt: self.dt,
        })
    }

    /// `value` as written to variable k by code other than the model's own update and reset
    /// (a synapse's `on_pre`, a PoissonInput): Brian2 makes a variable `(unless refractory)`
    /// read-only while the neuron is refractory, so there the write keeps the old value.
    /// nr·value + (1 − nr)·x is exactly one of the two, nr being 1 or 0.
    pub fn conditional_write(&self, k: usize, value: Node) -> Node {
        let held = self.vars[k].flags.iter().any(|f| f == "unless refractory");
        match self.slot("not_refractory").filter(|_| held) {
            Some(nr) => {
                let nr = Node::load(Ref::Var(nr));
                Node::add(Node::mul(nr.clone(), value), Node::mul(Node::sub(Node::c(1.0), nr), Node::load(Ref::Var(k))))
            }
            None => value,
        }
    }

    /// `node` with every subexpression replaced by its expression (for code outside the
    /// integration, where subexpression slots are not kept current).
    pub fn inline(&self, node: &Node) -> Node {
        inline_subexpressions(node, &self.subexpressions)
    }
}

/// What a statement assigns to `target`, dimension-checked: `x op= e` as the value x
/// stores (of x's type).
pub fn statement_value(
    scope: &Scope,
    lowering: &Lowering,
    streams: &mut Streams,
    s: &parse::Statement,
    target: &VarDef,
    current: Node,
) -> std::result::Result<Node, DimError> {
    Ok(target.ty.stored(assigned_value(scope, lowering, streams, s, target.dim, current)?))
}

/// `statement_value` before its conversion to the target's type.
fn assigned_value(
    scope: &Scope,
    lowering: &Lowering,
    streams: &mut Streams,
    s: &parse::Statement,
    target_dim: Dim,
    current: Node,
) -> std::result::Result<Node, DimError> {
    // `x //= y`, `x %= y`, `x **= y` are `x = x // y` and so on, whose checks (dimensionless
    // operands, the same dimension, a zero divisor) and lowering are the expression's.
    let compound = match s.op {
        "//=" => Some("//"),
        "%=" => Some("%"),
        "**=" => Some("**"),
        _ => None,
    };
    if let Some(op) = compound {
        let pos = s.expr.start();
        let whole = parse::Expr::Binary(op, Box::new(parse::Expr::Name(s.target.clone(), s.pos)), Box::new(s.expr.clone()), pos);
        let dim = scope.dim(&whole)?;
        if dim != target_dim {
            return Err(DimError { pos, message: format!("`{} {}` makes a {dim} of a variable in {target_dim}", s.target, s.op) });
        }
        return lowering.lower(&whole, streams);
    }
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
        _ if v.is_linked() => Some("a linked variable (it reads another population's, through `links`)"),
        VarKind::NotRefractory | VarKind::StepsSinceSpike | VarKind::LastUpdate | VarKind::EventFlag => {
            Some("kept by ganglion")
        }
        VarKind::Count(_) => Some("Brian2's count of the synapses' neurons, kept by ganglion,"),
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

/// Refuses what cannot decide a spike or an event (`e`, of dimension `dim`, lowered to
/// `node`): Brian2 takes a dimensionless condition or a boolean variable.
pub fn check_condition(e: &Expr, dim: Dim, node: &Node, ty_of: &dyn Fn(Ref) -> VarType) -> std::result::Result<(), String> {
    if !dim.is_dimensionless() || !(is_condition(e) || VarType::of_value(node, ty_of) == VarType::Boolean) {
        return Err(format!("must be a condition such as \"v > -50*mV\" or a boolean variable; got a {dim} value"));
    }
    Ok(())
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
