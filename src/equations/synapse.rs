//! A synapse model compiled for one projection (its pre- and post-synaptic models resolve the
//! `_pre` and `_post` names): per-synapse parameters, summed variables (continuous coupling,
//! Brian2's `(summed)`) and the `on_pre` statements run when a pre-synaptic spike arrives.

use super::check::Scope;
use super::dims::Dim;
use super::integrate::{split_noise, Derivative, Method, StateOf, System};
use super::ir::{Count, Node, Program, Ref, Target};
use super::lower::{Lowering, Streams};
use super::neuron::{assignable, read_namespace, statement_value, NeuronModel, VarDef, VarKind, VarType};
use super::parse::{self, Defines};
use super::wgsl::{self, Names};
use crate::error::{Error, Result};

/// What a `[synapse_models.<name>]` table says, as text.
#[derive(Clone, Debug)]
pub struct SynapseText<'a> {
    pub model: &'a str,
    pub on_pre: Option<&'a str>,
    pub on_post: Option<&'a str>,
    /// The clock-driven equations' integration method; Brian2's choice when absent.
    pub method: Option<&'a str>,
    pub namespace: &'a toml::Table,
    /// Brian2's `run_regularly` on the projection: the config key they are under, and each.
    pub regularly: (&'a str, &'a [super::regularly::RegularlyText<'a>]),
}

#[derive(Clone, Debug)]
pub struct SynapseProgram {
    pub name: String,
    /// Per-synapse variables (parameters).
    pub vars: Vec<VarDef>,
    /// Each summed variable of the post-synaptic neuron.
    pub summed: Vec<Summed>,
    /// Statements per arriving spike, on the post-synaptic neuron (`Var`) and the synapse;
    /// they start by advancing the event-driven variables to now.
    pub on_pre: Program,
    /// The same for each spike of the post-synaptic neuron (Brian2's post pathway, run after
    /// the pre pathway in the same step).
    pub on_post: Program,
    /// The clock-driven equations, one step of every synapse by `method`.
    pub clock: Program,
    /// Brian2's `run_regularly` on the synapses: statements over every synapse, writing its
    /// own variables, when each one's schedule says, in the order given.
    pub regularly: Vec<(crate::record::Schedule, Program)>,
    /// How `clock` integrates (None: the synapse has no clock-driven equations).
    pub method: Option<Method>,
    /// The random streams `on_pre` and `on_post` draw from (`rand()`, `randn()`), per synapse
    /// and step: Philox counters of the synapse (`rng::stream::SYNAPSES`).
    pub streams: u32,
    /// The names `init` and `delay` expressions may use.
    pub scope: Scope,
}

/// A summed variable: the post-synaptic slot it sets to Σ_synapses expr. The expression's
/// factors that read only the post-synaptic neuron are taken out of the sum (as the built-in
/// graded synapse sums E·S and multiplies by (V_r − V) once): slot = factor · Σ term, on both
/// backends.
#[derive(Clone, Debug)]
pub struct Summed {
    pub slot: usize,
    pub factor: Option<Node>,
    /// Over `Pre`, `Syn` (and constant) slots.
    pub term: Node,
    /// The slot's type: the total is stored as Brian2 stores a value there (truncated into
    /// an integer, 1 where not 0 into a boolean).
    pub stored: VarType,
}

impl Summed {
    fn new(slot: usize, expr: Node, stored: VarType) -> Summed {
        let mut factors = Vec::new();
        flatten_product(&expr, &mut factors);
        let post_only = |n: &Node| {
            let mut ok = true;
            // A draw is the synapse's own, one per synapse.
            n.visit(&mut |x| ok &= !matches!(x, Node::Load(Ref::Pre(_) | Ref::Syn(_) | Ref::I) | Node::Uniform(_) | Node::Normal(_)));
            ok
        };
        let (outside, inside): (Vec<Node>, Vec<Node>) = factors.into_iter().partition(post_only);
        let product = |v: Vec<Node>| v.into_iter().reduce(Node::mul);
        Summed {
            slot,
            factor: product(outside),
            term: product(inside).unwrap_or(Node::c(1.0)),
            stored,
        }
    }
}

fn flatten_product(n: &Node, out: &mut Vec<Node>) {
    match n {
        Node::Bin(super::ir::BinOp::Mul, a, b) => {
            flatten_product(a, out);
            flatten_product(b, out);
        }
        n => out.push(n.clone()),
    }
}

const SYNAPSE_FLAGS: [&str; 5] = ["constant", "shared", "summed", "clock-driven", "event-driven"];

impl SynapseProgram {
    pub fn compile(
        name: &str,
        at: &str,
        text: &SynapseText,
        pre: &NeuronModel,
        post: &NeuronModel,
    ) -> Result<SynapseProgram> {
        let err = |key: &str, e: &dyn std::fmt::Display| Error::config(format!("{at}.{key}"), e.to_string());
        let equations = parse::equations(text.model).map_err(|e| err("model", &e))?;
        let mut scope = Scope::with_builtins();
        // Brian2's `N` counts the synapses, not the neurons: read where the model reads it, as
        // a variable kept per synapse (below).
        scope.symbols.remove("N");
        scope.symbols.insert("j".into(), Dim::ONE);
        scope.namespace = read_namespace(at, text.namespace)?;
        // The config's timed arrays, which the post-synaptic model holds (its model data on
        // the GPU, which the synapses' shader binds where it reads them).
        for t in &post.tables {
            scope.tables.insert(t.table.name.clone(), (t.dim, t.table.cols));
        }
        let tables: Vec<_> = post.tables.iter().map(|t| (t.table.clone(), t.dt)).collect();
        for v in &post.vars {
            scope.symbols.insert(format!("{}_post", v.name), v.dim);
            scope.symbols.insert(v.name.clone(), v.dim);
        }
        for v in &pre.vars {
            scope.symbols.insert(format!("{}_pre", v.name), v.dim);
        }
        // Brian2's `lastspike` of refractory models.
        for (model, names) in [(pre, &["lastspike_pre"][..]), (post, &["lastspike_post", "lastspike"][..])] {
            if model.lastspike().is_some() {
                names.iter().for_each(|n| _ = scope.symbols.insert((*n).into(), Dim::SECOND));
            }
        }
        let mut vars = Vec::new();
        for eq in &equations {
            if let Some(bad) = eq.flags.iter().find(|f| !SYNAPSE_FLAGS.contains(&f.as_str())) {
                return Err(err("model", &format!("{}: unknown flag `{bad}`; a synapse's equations take {}", eq.pos, SYNAPSE_FLAGS.join(", "))));
            }
            let unit = scope.unit(&eq.unit).map_err(|e| err("model", &e))?;
            let (Defines::Derivative(name) | Defines::Subexpression(name) | Defines::Parameter(name)) = &eq.defines;
            if let Some(what) = super::check::taken(name) {
                return Err(err("model", &format!("{}: `{name}` is {what}", eq.pos)));
            }
            if Count::named(name).is_some() {
                return Err(err("model", &format!("{}: `{name}` is one of Brian2's counts of a projection's synapses and neurons, which ganglion keeps", eq.pos)));
            }
            match &eq.defines {
                Defines::Derivative(n) => {
                    // Unflagged, it is clock-driven, as in Brian2.
                    let driven = eq.flags.iter().filter(|f| f.ends_with("-driven")).count();
                    if driven > 1 {
                        return Err(err("model", &format!(
                            "{}: d{n}/dt: a synapse's differential equation is `(clock-driven)` (integrated every step) or `(event-driven)` (advanced at each spike), not both",
                            eq.pos
                        )));
                    }
                    scope.symbols.insert(n.clone(), unit.dim);
                    VarType::differentiable(eq, n).map_err(|e| err("model", &e))?;
                    super::shared::not_differential(eq, n).map_err(|e| err("model", &e))?;
                    vars.push(VarDef {
                        name: n.clone(),
                        dim: unit.dim,
                        kind: VarKind::Differential,
                        flags: eq.flags.clone(),
                        ty: VarType::Float,
                    });
                }
                Defines::Parameter(n) => {
                    scope.symbols.insert(n.clone(), unit.dim);
                    vars.push(VarDef {
                        name: n.clone(),
                        dim: unit.dim,
                        kind: VarKind::Parameter,
                        flags: eq.flags.clone(),
                        ty: VarType::of(eq),
                    });
                }
                Defines::Subexpression(n) if !eq.flags.iter().any(|f| f == "summed") => {
                    scope.symbols.insert(n.clone(), unit.dim);
                }
                Defines::Subexpression(_) => {}
            }
        }
        // Brian2's counts that the equations and statements read (those of `init` and
        // `delay` are the host's), each a variable of the synapse set when they are drawn.
        let regularly_code = text.regularly.1.iter().map(|r| Some(r.code));
        for count in counts_read(&equations, [text.on_pre, text.on_post].into_iter().chain(regularly_code)) {
            let name = count.name();
            scope.symbols.insert(name.into(), Dim::ONE);
            vars.push(VarDef {
                name: name.into(),
                dim: Dim::ONE,
                kind: VarKind::Count(count),
                flags: Vec::new(),
                ty: VarType::Integer,
            });
        }
        let event_driven = |v: &VarDef| v.flags.iter().any(|f| f == "event-driven");
        if vars.iter().any(event_driven) {
            vars.push(VarDef {
                name: "lastupdate_step".into(),
                dim: Dim::ONE,
                kind: VarKind::LastUpdate,
                flags: Vec::new(),
                ty: VarType::Float,
            });
        }
        let syn_slot = |n: &str| vars.iter().position(|v| v.name == n);
        // Subexpressions of the synapse, lowered in the order written.
        let mut subs: Vec<(String, Node)> = Vec::new();
        let mut streams = Streams::default();
        let own_with = |subs: &Vec<(String, Node)>, n: &str| -> Option<Node> {
            if let Some(k) = syn_slot(n) {
                return Some(Node::load(Ref::Syn(k)));
            }
            if let Some((_, node)) = subs.iter().find(|(s, _)| s == n) {
                return Some(node.clone());
            }
            neuron_name(n, pre, post)
        };
        let mut summed = Vec::new();
        let mut event_updates: Vec<(usize, Node, Node)> = Vec::new();
        for eq in &equations {
            let (Defines::Subexpression(n), Some(expr)) = (&eq.defines, &eq.expr) else {
                continue;
            };
            let declared = scope.unit(&eq.unit).map_err(|e| err("model", &e))?.dim;
            let got = scope.dim(expr).map_err(|e| err("model", &e))?;
            if got != declared {
                return Err(err("model", &format!(
                    "{}: the right-hand side of {n} has dimension {got}, but {declared} was declared",
                    expr.start()
                )));
            }
            let own = |name: &str| own_with(&subs, name);
            let lowering = model_lowering(&scope, &own, post, &tables);
            let node = lowering.lower(expr, &mut streams).map_err(|e| err("model", &e))?;
            let is_summed = eq.flags.iter().any(|f| f == "summed");
            // Brian2 draws rand() in a summed term once per synapse and step; xi belongs in
            // a differential equation; an ordinary subexpression is inlined where it is
            // read, so a draw there would be drawn again at each use.
            if let Some(drawn) = draws(&node, &streams) {
                if drawn.starts_with("xi") || !is_summed {
                    return Err(err("model", &format!(
                        "{}: `{drawn}` in {n}: noise and random numbers go in differential equations{}",
                        eq.pos,
                        if drawn.starts_with("xi") { "" } else { " and summed variables, not in a subexpression" }
                    )));
                }
            }
            if !is_summed {
                let ty_of = |r: Ref| match r {
                    Ref::Syn(k) => vars[k].ty,
                    Ref::Pre(k) => pre.vars[k].ty,
                    Ref::Var(k) => post.vars[k].ty,
                    _ => VarType::Float,
                };
                VarType::of(eq).holds(&node, &ty_of, n, eq.pos).map_err(|e| err("model", &e))?;
                subs.push((n.clone(), node));
                continue;
            }
            not_on_event_driven(&node, &vars, "summed variable", n, eq.pos).map_err(|e| err("model", &e))?;
            let target = n.strip_suffix("_post").and_then(|b| post.slot(b).map(|k| (b, k)));
            let Some((base, k)) = target else {
                return Err(err("model", &format!(
                    "{}: a summed variable names a variable of the post-synaptic model with `_post` (`{n}` is not one; it has {})",
                    eq.pos,
                    post.vars.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
                )));
            };
            if post.vars[k].is_linked() {
                return Err(err("model", &format!(
                    "{}: `{base}` is a linked variable of the post-synaptic model (it reads another population's); a summed variable cannot set it",
                    eq.pos
                )));
            }
            if post.vars[k].kind != VarKind::Parameter {
                return Err(err("model", &format!(
                    "{}: the summed variable `{base}` must be a parameter of the post-synaptic model (`{base} : unit`), as in Brian2",
                    eq.pos
                )));
            }
            if post.vars[k].dim != declared {
                return Err(err("model", &format!(
                    "{}: `{base}` is in {} in the post-synaptic model, but the summed variable is declared in {declared}",
                    eq.pos, post.vars[k].dim
                )));
            }
            if super::shared::is_shared(&post.vars[k]) {
                return Err(err("model", &format!("{}: `{base}` is shared (one value for the group) in the post-synaptic model; a summed variable sets each neuron's own", eq.pos)));
            }
            summed.push(Summed::new(k, node, post.vars[k].ty));
        }

        // Differential equations: clock-driven ones are integrated every step (by `method`),
        // event-driven ones are advanced exactly at each spike.
        let mut clock = Program::default();
        let mut advance = Program::default();
        let mut clock_driven = Vec::new();
        for eq in &equations {
            let (Defines::Derivative(n), Some(expr)) = (&eq.defines, &eq.expr) else {
                continue;
            };
            let k = syn_slot(n).expect("declared");
            let declared = vars[k].dim;
            let got = scope.dim(expr).map_err(|e| err("model", &e))?;
            if got * Dim::SECOND != declared {
                return Err(err("model", &format!(
                    "{}: the right-hand side of d{n}/dt has dimension {} per second, but {declared} per second was declared",
                    expr.start(),
                    got * Dim::SECOND
                )));
            }
            let own = |name: &str| own_with(&subs, name);
            let lowering = model_lowering(&scope, &own, post, &tables);
            let rhs = lowering.lower(expr, &mut streams).map_err(|e| err("model", &e))?;
            let x = Node::load(Ref::Syn(k));
            if event_driven(&vars[k]) {
                if let Some(drawn) = draws(&rhs, &streams) {
                    return Err(err("model", &format!(
                        "{}: d{n}/dt is event-driven (solved exactly between spikes), so it cannot draw `{drawn}`; make it clock-driven",
                        eq.pos
                    )));
                }
            }
            let (f, noise) = split_noise(&rhs)
                .ok_or_else(|| err("model", &format!("{}: the noise of d{n}/dt must enter linearly (σ·xi)", eq.pos)))?;
            if event_driven(&vars[k]) {
                let linear = f.linear_in(&x).filter(|(a, b)| {
                    let mut constant = true;
                    for c in [a, b] {
                        c.visit(&mut |n| constant &= !matches!(n, Node::Load(Ref::Syn(_) | Ref::Pre(_) | Ref::Var(_) | Ref::T)));
                    }
                    constant
                });
                let Some((a, b)) = linear else {
                    return Err(err("model", &format!(
                        "{}: d{n}/dt is event-driven, so it must be linear in {n} with constant coefficients (it is solved exactly between spikes); make it clock-driven otherwise",
                        eq.pos
                    )));
                };
                event_updates.push((k, a, b));
            } else {
                not_on_event_driven(&f, &vars, "clock-driven variable", n, eq.pos).map_err(|e| err("model", &e))?;
                clock_driven.push(Derivative {
                    slot: k,
                    name: n.clone(),
                    f,
                    noise,
                    unless_refractory: false,
                    pos: eq.pos,
                });
            }
        }
        let method = if clock_driven.is_empty() {
            // Nothing to integrate, but a misspelt name is still one.
            if let Some(m) = text.method {
                Method::named(m).map_err(|m| Error::config(format!("{at}.method"), m))?;
            }
            None
        } else {
            let sys = System {
                state: StateOf::Synapse,
                dt: post.dt,
                derivatives: clock_driven,
                subexpressions: Vec::new(),
                not_refractory: None,
            };
            let at_method = |m: String| Error::config(format!("{at}.method"), m);
            let method = sys.method(text.method).map_err(at_method)?;
            sys.integrate(method, &mut clock).map_err(at_method)?;
            Some(method)
        };
        if let Some(last) = syn_slot("lastupdate_step") {
            // Δt since the synapse's last event, then each variable's exact solution over it.
            let elapsed = advance.let_(Node::mul(
                Node::sub(Node::load(Ref::Step), Node::load(Ref::Syn(last))),
                Node::load(Ref::Dt),
            ));
            let mut new = Vec::new();
            for (k, a, b) in &event_updates {
                let x = Node::load(Ref::Syn(*k));
                let decay = || Node::exp(Node::mul(a.clone(), elapsed.clone()));
                let value = if a.as_const() == Some(0.0) {
                    Node::add(x, Node::mul(b.clone(), elapsed.clone()))
                } else if b.as_const() == Some(0.0) {
                    Node::mul(x, decay())
                } else {
                    let ba = Node::div(b.clone(), a.clone());
                    Node::sub(Node::mul(Node::add(x, ba.clone()), decay()), ba)
                };
                new.push((*k, advance.let_(value)));
            }
            for (k, value) in new {
                advance.store(Target::Syn(k), value);
            }
            advance.store(Target::Syn(last), Node::load(Ref::Step));
        }

        let blocks = Blocks {
            scope: &scope,
            own_with: &own_with,
            subs: &subs,
            vars: &vars,
            post,
            tables: &tables,
        };
        let on_pre = statements_after(&advance, text.on_pre, "on_pre", &blocks, &mut streams, &err)?;
        let on_post = statements_after(&advance, text.on_post, "on_post", &blocks, &mut streams, &err)?;
        let (regularly_at, regularly_texts) = text.regularly;
        let regularly = regularly_texts
            .iter()
            .map(|r| regularly_block(r, regularly_at, &blocks, &mut streams))
            .collect::<Result<Vec<_>>>()?;
        if streams.count > crate::rng::stream::PER_POPULATION {
            return Err(err("model", &format!(
                "its equations, `on_pre`, `on_post` and run_regularly draw from {} random streams per synapse and step (noise names and rand() and randn() calls); at most {} are supported",
                streams.count,
                crate::rng::stream::PER_POPULATION
            )));
        }
        let with_dt = |n: &Node| super::neuron::fold_dt(n, post.dt);
        Ok(SynapseProgram {
            name: name.to_string(),
            vars,
            summed,
            on_pre: super::neuron::map_program(&on_pre, &with_dt),
            on_post: super::neuron::map_program(&on_post, &with_dt),
            clock: super::neuron::map_program(&clock, &with_dt),
            regularly: regularly.into_iter().map(|(every, p)| (every, super::neuron::map_program(&p, &with_dt))).collect(),
            method,
            streams: streams.count,
            scope,
        })
    }

    /// A linked variable's copy (`config::Link`) as a summed variable over one synapse per
    /// target neuron: `slot` of the target set to `read` (over the source neuron's variables,
    /// `Ref::Pre`). The summation's kernels and parts then serve it; the backends run it where
    /// the variable is read (`network::LinkCopy`).
    pub fn link(name: &str, slot: usize, read: Node) -> SynapseProgram {
        SynapseProgram {
            name: name.to_string(),
            vars: Vec::new(),
            // A linked variable holds its source's value as it is (Brian2 reads the source).
            summed: vec![Summed {
                slot,
                factor: None,
                term: read,
                stored: VarType::Float,
            }],
            on_pre: Program::default(),
            on_post: Program::default(),
            clock: Program::default(),
            regularly: Vec::new(),
            method: None,
            streams: 0,
            scope: Scope::default(),
        }
    }

    /// What `check` says of it: its variables and how its clock-driven equations integrate.
    pub fn describe(&self) -> String {
        let vars: Vec<String> = self
            .vars
            .iter()
            .filter(|v| v.kind != VarKind::LastUpdate)
            .map(|v| format!("{} [{}]", v.name, v.dim))
            .collect();
        let mut text = format!("synapse `{}` written as equations (variables: {})", self.name, if vars.is_empty() { "none".into() } else { vars.join(", ") });
        if let Some(m) = self.method {
            text += &format!(", clock-driven equations integrated by {}", m.name());
        }
        if !self.regularly.is_empty() {
            let every: Vec<String> = self
                .regularly
                .iter()
                .map(|(s, _)| {
                    let every = if s.every == 1 { "every step".to_string() } else { format!("every {} steps", s.every) };
                    match s.when {
                        crate::record::Sampled::Start => every,
                        crate::record::Sampled::AfterUpdates => every + " after the thresholds",
                        crate::record::Sampled::End => every + " at the end",
                    }
                })
                .collect();
            text += &format!(", run_regularly {}", every.join(", "));
        }
        if self.streams > 0 {
            text += &format!(", drawing {} random stream{} per synapse and step", self.streams, if self.streams == 1 { "" } else { "s" });
        }
        text
    }

    /// Whether it reads a timed array (then its shader binds the post-synaptic population's
    /// model data, `TABLES_BINDING`).
    pub fn reads_tables(&self) -> bool {
        let mut found = false;
        let mut look = |n: &Node| n.visit(&mut |x| found |= matches!(x, Node::Table(..)));
        for s in &self.summed {
            look(&s.term);
            s.factor.iter().for_each(&mut look);
        }
        for p in [&self.clock, &self.on_pre, &self.on_post].into_iter().chain(self.regularly.iter().map(|(_, p)| p)) {
            p.body.iter().for_each(|s| look(&s.value));
        }
        found
    }

    /// The dispatches its projection takes per step on the GPU: the summation, the marking of
    /// arrivals (`arrival_slots`), the delivery, and each run_regularly in the steps it is due.
    pub fn gpu_passes(&self, arrival_slots: u64) -> u64 {
        // A run_regularly counted as if due every step.
        self.regularly.len() as u64
            + !self.summed.is_empty() as u64
            + (arrival_slots > 0) as u64
            + !(self.on_pre.is_empty() && self.on_post.is_empty() && self.clock.is_empty()) as u64
    }

    /// The steps of marked arrivals its GPU pre pathway keeps, one bit per synapse each (0:
    /// it walks every synapse, checking each one's source at its delay). With one delay for
    /// all (`uniform_delay`), one: the sources whose spikes arrive now mark their synapses.
    /// With delays of their own whose longest is known and under `MAX_ARRIVAL_SLOTS` steps,
    /// that longest + 1: each spike marks its synapses in the steps they will receive it.
    /// Each post-synaptic neuron's thread then runs `on_pre` over its marked synapses alone,
    /// in CSR order.
    pub fn arrival_slots(&self, uniform_delay: bool, longest_delay_steps: Option<u64>) -> u64 {
        match (self.on_pre.is_empty(), uniform_delay, longest_delay_steps) {
            (true, ..) => 0,
            (false, true, _) => 1,
            (false, false, Some(d)) if d < MAX_ARRIVAL_SLOTS => d + 1,
            _ => 0,
        }
    }

    /// The names of `init` and `delay` expressions: the statements', and Brian2's counts `N`,
    /// `N_pre`, `N_post`, `N_incoming` and `N_outgoing` (`Count`).
    pub fn host_scope(&self) -> Scope {
        let mut scope = self.scope.clone();
        for name in ["N", "N_pre", "N_post", "N_incoming", "N_outgoing"] {
            scope.symbols.insert(name.into(), Dim::ONE);
        }
        scope
    }

    /// The lowering of `init` and `delay` expressions: synaptic variables, `_pre` and `_post`,
    /// the counts.
    pub fn lower_host(
        &self,
        e: &parse::Expr,
        pre: &NeuronModel,
        post: &NeuronModel,
    ) -> std::result::Result<Node, super::check::DimError> {
        let own = |n: &str| -> Option<Node> {
            if let Some(c) = super::ir::Count::named(n) {
                return Some(Node::load(Ref::Count(c)));
            }
            if let Some(k) = self.vars.iter().position(|v| v.name == n) {
                return Some(Node::load(Ref::Syn(k)));
            }
            neuron_name(n, pre, post)
        };
        Lowering {
            scope: &self.host_scope(),
            own: &own,
            random: true,
            tables: &[],
            dt: post.dt,
        }
        .lower(e, &mut Streams::default())
    }

    /// The projection's shader: `sum_synapses` (each summed variable of a post-synaptic
    /// neuron, over its synapses in order) and `step_synapses` (the clock-driven equations,
    /// then `on_pre` for each synapse whose pre-synaptic spike arrives now, then `on_post`
    /// where the post-synaptic neuron spiked, in order, on one thread per post-synaptic
    /// neuron: no atomics, each synapse written by one thread, the CPU's order). The
    /// neurons' variables are reached through synapses/equation_states.wgsl; with
    /// `same_population` the pre-synaptic ones are read from the post-synaptic state buffer
    /// (one buffer cannot be bound twice). With `arrival_slots` (> 0), `mark_arrivals` sets
    /// the bits of the synapses spikes reach before `step_synapses`, which reads and clears
    /// its row's bits of the step instead of walking the row.
    pub fn wgsl(&self, post: &NeuronModel, same_population: bool, arrival_slots: u64) -> String {
        let events = arrival_slots > 0;
        let post_name = |k: usize| format!("post_{}", post.vars[k].name);
        let pre_name = |k: usize| format!("pre_load({k}u, ipre)");
        let syn_name = |k: usize| format!("syn_{}", self.vars[k].name);
        let names = Names {
            var: &post_name,
            pre: &pre_name,
            syn: &syn_name,
            // Within a sweep's instance, as in its own run.
            i: "f32(ipre % info.pre_instance - info.pre_first)",
            j: "f32(ipost % info.post_instance - info.post_first)",
            n: "f32(info.post_instance)",
        };
        let summed_nodes: Vec<&Node> = self.summed.iter().map(|s| &s.term).collect();
        let factor_nodes: Vec<&Node> = self.summed.iter().filter_map(|s| s.factor.as_ref()).collect();
        let var_of = |r: Ref| match r {
            Ref::Var(k) => Some(k),
            _ => None,
        };
        let syn_of = |r: Ref| match r {
            Ref::Syn(k) => Some(k),
            _ => None,
        };
        let post_loads = |slots: &[usize], mutable: bool| -> String {
            slots
                .iter()
                .map(|&k| {
                    format!(
                        "    {} {} = post_at({k}u, ipost);\n",
                        if mutable { "var" } else { "let" },
                        post_name(k)
                    )
                })
                .collect()
        };
        let syn_loads = |slots: &[usize], indent: &str| -> String {
            slots
                .iter()
                .map(|&k| format!("{indent}var {} = syn_state[{k}u * info.n_syn + s];\n", syn_name(k)))
                .collect()
        };
        // Summation.
        let mut summed_post = wgsl::reads(&summed_nodes, var_of);
        summed_post.extend(wgsl::reads(&factor_nodes, var_of));
        summed_post.sort_unstable();
        summed_post.dedup();
        let summed_syn = wgsl::reads(&summed_nodes, syn_of);
        let mut sum_body = String::new();
        for (n, summed) in self.summed.iter().enumerate() {
            let mut lets = wgsl::Lets::new(&format!("summed{n}"), "        ");
            let term = wgsl::expr(&summed.term, &names, &mut lets);
            sum_body.push_str(&lets.text);
            sum_body.push_str(&format!("        acc{n} = acc{n} + {term};\n"));
        }
        let accs: String = (0..self.summed.len())
            .map(|n| format!("    var acc{n} = 0.0;\n"))
            .collect();
        let sum_stores: String = self
            .summed
            .iter()
            .enumerate()
            .map(|(n, summed)| {
                let mut lets = wgsl::Lets::new(&format!("factor{n}"), "    ");
                let value = match &summed.factor {
                    Some(f) => format!("{} * acc{n}", wgsl::expr(f, &names, &mut lets)),
                    None => format!("acc{n}"),
                };
                // As the CPU stores it (VarType::stored_value).
                let value = match summed.stored {
                    VarType::Float => value,
                    VarType::Integer => format!("trunc({value})"),
                    VarType::Boolean => format!("select(0.0, 1.0, {value} != 0.0)"),
                };
                format!("{}    set_post({}u, ipost, {value});\n", lets.text, summed.slot)
            })
            .collect();
        // The synapses' step: clock-driven equations, the pre pathway, the post pathway. The
        // post-synaptic variables the three read or write are held in registers for the row.
        let programs = [&self.clock, &self.on_pre, &self.on_post];
        let nodes: Vec<&Node> = programs.iter().flat_map(|p| p.body.iter().map(|s| &s.value)).collect();
        let written = |p: &Program, which: fn(Target) -> Option<usize>| -> Vec<usize> {
            let mut v: Vec<usize> = p.body.iter().filter_map(|s| which(s.target)).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let post_target = |t: Target| match t {
            Target::Var(k) => Some(k),
            _ => None,
        };
        let syn_target = |t: Target| match t {
            Target::Syn(k) => Some(k),
            _ => None,
        };
        let mut step_post = wgsl::reads(&nodes, var_of);
        let mut written_post = Vec::new();
        for p in programs {
            written_post.extend(written(p, post_target));
        }
        written_post.sort_unstable();
        written_post.dedup();
        step_post.extend(&written_post);
        step_post.sort_unstable();
        step_post.dedup();
        let target = |t: Target| match t {
            Target::Var(k) => post_name(k),
            Target::Syn(k) => syn_name(k),
            Target::Temp(_) => unreachable!("temporaries are lets"),
        };
        // One synapse's part of a program: its variables loaded, the statements, its
        // variables written back.
        let synapse_block = |p: &Program, tag: &str| -> String {
            let mut used = wgsl::reads(&p.body.iter().map(|s| &s.value).collect::<Vec<_>>(), syn_of);
            let stores = written(p, syn_target);
            used.extend(&stores);
            used.sort_unstable();
            used.dedup();
            let indent = "            ";
            let mut out = syn_loads(&used, indent);
            if self.streams > 0 {
                out.push_str(&format!("{indent}set_synapse(s);\n"));
            }
            out.push_str(&wgsl::program(p, &names, &target, indent, tag));
            for k in stores {
                out.push_str(&format!("{indent}syn_state[{k}u * info.n_syn + s] = {};\n", syn_name(k)));
            }
            out
        };
        let clock = if self.clock.is_empty() {
            String::new()
        } else {
            format!(
                "    for (var s = row_ptr[row]; s < row_ptr[row + 1u]; s++) {{\n        let ipre = col_idx[s];\n        {{\n{}        }}\n    }}\n",
                synapse_block(&self.clock, "clock")
            )
        };
        let pre_pathway = if self.on_pre.is_empty() {
            String::new()
        } else if events {
            format!(
                "    // The row's synapses marked by mark_arrivals for this step, 32 to a word, in order;
    // this row's bits cleared for the step the slot serves next (a word may hold the
    // neighbouring rows' too).
    let base = ring_slot(step_info, 0u, info.arrival_slots) * ((info.n_syn + 31u) >> 5u);
    let first = row_ptr[row];
    let end = row_ptr[row + 1u];
    for (var w = first >> 5u; first < end && w <= (end - 1u) >> 5u; w++) {{
        let lo = max(first, w << 5u) - (w << 5u);
        let hi = min(end, (w << 5u) + 32u) - (w << 5u);
        let mask = select((1u << hi) - 1u, 0xffffffffu, hi == 32u) & ~((1u << lo) - 1u);
        var bits = atomicLoad(&arrived[base + w]) & mask;
        if (bits == 0u) {{
            continue;
        }}
        atomicAnd(&arrived[base + w], ~mask);
        while (bits != 0u) {{
            let s = (w << 5u) + firstTrailingBit(bits);
            bits = bits & (bits - 1u);
            let ipre = col_idx[s];
{}        }}
    }}
",
                synapse_block(&self.on_pre, "on_pre")
            )
        } else {
            format!(
                "    for (var s = row_ptr[row]; s < row_ptr[row + 1u]; s++) {{
        let ipre = col_idx[s];
        let delay = select(info.uniform_delay, delays[s], info.per_synapse_delay != 0u);
        // The slot of step − delay: `delay` < pre_slots, so adding pre_slots − delay wraps there.
        let slot = ring_slot(step_info, info.pre_slots - delay, info.pre_slots);
        if ((pre_spiked_at(slot, ipre) & info.pre_mask) != 0u) {{
{}        }}
    }}
",
                synapse_block(&self.on_pre, "on_pre")
            )
        };
        let post_pathway = if self.on_post.is_empty() {
            String::new()
        } else {
            format!(
                "    // The post-synaptic spike of each synapse's delay ago (delays < post_slots): one
    // for all decides for the row.
    let per_synapse = info.per_synapse_post_delay != 0u;
    if (per_synapse || (post_spiked_at(ring_slot(step_info, info.post_slots - info.post_delay, info.post_slots), ipost) & info.post_mask) != 0u) {{
        for (var s = row_ptr[row]; s < row_ptr[row + 1u]; s++) {{
            if (per_synapse) {{
                let slot = ring_slot(step_info, info.post_slots - delays[info.post_delays_at + s], info.post_slots);
                if ((post_spiked_at(slot, ipost) & info.post_mask) == 0u) {{
                    continue;
                }}
            }}
            let ipre = col_idx[s];
{}        }}
    }}
",
                synapse_block(&self.on_post, "on_post")
            )
        };
        let post_stores: String = written_post
            .iter()
            .map(|&k| format!("    set_post({k}u, ipost, {});\n", post_name(k)))
            .collect();
        // Brian2's run_regularly: one entry each, a thread per row over its synapses, as the
        // clock-driven equations run (it writes the synapses' variables alone).
        let regularly: String = self
            .regularly
            .iter()
            .enumerate()
            .map(|(k, (_, p))| {
                let reads = wgsl::reads(&p.body.iter().map(|s| &s.value).collect::<Vec<_>>(), var_of);
                format!(
                    "
@compute @workgroup_size(256)
fn regularly_{k}(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let row = row_index(gid, groups);
    if (row >= info.n_rows) {{
        return;
    }}
    let ipost = info.first_row + row;
    let t = (f32(step_info.step_hi) * 4294967296.0 + f32(step_info.step_lo)) * DT;
{}    for (var s = row_ptr[row]; s < row_ptr[row + 1u]; s++) {{
        let ipre = col_idx[s];
        {{
{}        }}
    }}
}}
",
                    post_loads(&reads, false),
                    synapse_block(p, &format!("regularly{k}"))
                )
            })
            .collect();
        format!(
            "// requires: common/step_info{philox} synapses/exp_synapse synapses/equation_states
// Generated by ganglion for synapse model `{name}`{integrated}: the CPU runs the same statements
// in the same order (src/backend/cpu/equations.rs).

// SynapseInfo in src/backend/gpu/equations.rs.
struct SynapseInfo {{
    n_post: u32,
    n_pre: u32,
    n_syn: u32,
    pre_slots: u32,      // steps of spike history the pre-synaptic population keeps
    uniform_delay: u32,
    per_synapse_delay: u32,
    post_slots: u32,     // and the post-synaptic one
    pre_instance: u32,   // neurons per instance of a sweep run merged (else n_pre, n_post)
    post_instance: u32,
    first_row: u32,      // this part's rows (post-synaptic neurons): a matrix larger than one
    n_rows: u32,         // binding comes in parts of whole rows, row_ptr rebased to each
    first_synapse: u32,  // and the projection's index of its first synapse
    key_lo: u32,         // the run's seed key, and the projection's counter word for the
    key_hi: u32,         // draws of its synapses (src/rng.rs, stream::SYNAPSES)
    draws: u32,
    arrival_slots: u32,  // steps of marked arrivals (0: the rows are walked)
    instance_synapses: u32, // synapses per merged instance: a draw's synapse is its own run's
    post_delay: u32,     // steps of delay of the on_post pathway: one for all, or each
    per_synapse_post_delay: u32, // synapse's, in `delays` from post_delays_at on
    post_delays_at: u32,
    pre_mask: u32,       // the bits of the source's spike-ring word that trigger on_pre (on_event)
    post_mask: u32,      // the target's that trigger on_post
    pre_first: u32,      // the neurons the ends span within an instance (Brian2's subgroups):
    post_first: u32,     // i and j count from the firsts, the summed variables set the
    post_span: u32,      // target's span alone
}}

@group(0) @binding(0) var<uniform> info: SynapseInfo;
@group(0) @binding(2) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(3) var<storage, read> col_idx: array<u32>;
@group(0) @binding(4) var<storage, read> delays: array<u32>;
@group(0) @binding(5) var<storage, read_write> syn_state: array<f32>;

const DT: f32 = {dt};
{helpers}
// The pre- and post-synaptic states and spike flags: synapses/equation_states.wgsl.
const SAME_POPULATION: bool = {same_population};
{draw_functions}{tables}
fn row_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {{
    return gid.x + gid.y * groups.x * 256u;
}}

@compute @workgroup_size(256)
fn sum_synapses(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let row = row_index(gid, groups);
    if (row >= info.n_rows) {{
        return;
    }}
    let ipost = info.first_row + row;
    // Outside the target's span (a subgroup's), a neuron is no part of the sum.
    if (ipost % info.post_instance - info.post_first >= info.post_span) {{
        return;
    }}
    let t = (f32(step_info.step_hi) * 4294967296.0 + f32(step_info.step_lo)) * DT;
{sum_post_loads}{accs}    for (var s = row_ptr[row]; s < row_ptr[row + 1u]; s++) {{
        let ipre = col_idx[s];
{sum_draws}{sum_syn_loads}{sum_body}    }}
{sum_stores}}}

{mark_arrivals}@compute @workgroup_size(256)
fn step_synapses(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let row = row_index(gid, groups);
    if (row >= info.n_rows) {{
        return;
    }}
    let ipost = info.first_row + row;
    let t = (f32(step_info.step_hi) * 4294967296.0 + f32(step_info.step_lo)) * DT;
{step_post_loads}{clock}{pre_pathway}{post_pathway}{post_stores}}}
{regularly}",
            name = self.name,
            philox = if self.streams > 0 { " common/philox" } else { "" },
            draw_functions = if self.streams > 0 { DRAW_FUNCTIONS } else { "" },
            tables = if self.reads_tables() {
                format!("\n// The config's timed arrays: the post-synaptic population's model data.\n@group(0) @binding({TABLES_BINDING}) var<storage, read> model_data: array<u32>;\n{}", wgsl::TABLE_HELPER)
            } else {
                String::new()
            },
            integrated = self.method.map_or(String::new(), |m| format!(" (clock-driven equations by {})", m.name())),
            dt = wgsl::literal(post.dt),
            helpers = wgsl::HELPERS,
            sum_post_loads = post_loads(&summed_post, false),
            accs = accs,
            sum_draws = if self.streams > 0 { "        set_synapse(s);\n" } else { "" },
            sum_syn_loads = syn_loads(&summed_syn, "        "),
            sum_body = sum_body,
            sum_stores = sum_stores,
            step_post_loads = post_loads(&step_post, true),
            clock = clock,
            pre_pathway = pre_pathway,
            post_pathway = post_pathway,
            post_stores = post_stores,
            regularly = regularly,
            same_population = same_population,
            mark_arrivals = if events { mark_arrivals(TABLES_BINDING + self.reads_tables() as usize) } else { String::new() },
        )
    }
}

/// The most steps of arrivals marked ahead for delays of their own: a bit per synapse and step,
/// at most 4 bytes a synapse (no more than one of its variables, so that the bits of a part
/// cut for its variables fit a binding). Past it the rows are walked.
pub const MAX_ARRIVAL_SLOTS: u64 = 32;

/// The bindings (from `binding`) and the kernel of an event-driven pre pathway: one thread per
/// pre-synaptic neuron whose spike arrives now sets the bit of each of its synapses (in this
/// part of the matrix), or, with delays of their own, whose spike leaves now sets each
/// synapse's bit in the slot of the step it arrives; `step_synapses` runs `on_pre` over them.
fn mark_arrivals(binding: usize) -> String {
    format!(
        "// The pre pathway's arrivals: each source's synapses in this part (out_ptr over the sources,
// out_syn their indices in CSR order), and one bit per synapse and slot of arrival_slots steps,
// set where its spike arrives in that step.
@group(0) @binding({}) var<storage, read> out_ptr: array<u32>;
@group(0) @binding({}) var<storage, read> out_syn: array<u32>;
@group(0) @binding({}) var<storage, read_write> arrived: array<atomic<u32>>;

@compute @workgroup_size(256)
fn mark_arrivals(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {{
    let ipre = row_index(gid, groups);
    if (ipre >= info.n_pre) {{
        return;
    }}
    // One delay for all: the spikes of step − delay, arriving now, in the one slot. Delays of
    // their own: this step's spikes, each synapse's in the slot of step + its delay.
    let ahead = info.per_synapse_delay != 0u;
    let lag = select(info.uniform_delay, 0u, ahead);
    if ((pre_spiked_at(ring_slot(step_info, info.pre_slots - lag, info.pre_slots), ipre) & info.pre_mask) == 0u) {{
        return;
    }}
    let words = (info.n_syn + 31u) >> 5u;
    for (var k = out_ptr[ipre]; k < out_ptr[ipre + 1u]; k++) {{
        let s = out_syn[k];
        var slot = 0u;
        if (ahead) {{
            slot = ring_slot(step_info, delays[s], info.arrival_slots);
        }}
        atomicOr(&arrived[slot * words + (s >> 5u)], 1u << (s & 31u));
    }}
}}

",
        binding,
        binding + 1,
        binding + 2
    )
}

/// What a name other than the synapse's own reads: `x_pre` a pre-synaptic variable, `x_post`
/// or an unsuffixed `x` a post-synaptic one (subexpressions inlined).
pub(crate) fn neuron_name(n: &str, pre: &NeuronModel, post: &NeuronModel) -> Option<Node> {
    if let Some(base) = n.strip_suffix("_pre") {
        return Some(pre.inline(&pre.own_name(base)?).substitute(&|r| match r {
            Ref::Var(k) => Some(Node::load(Ref::Pre(k))),
            _ => None,
        }));
    }
    let base = n.strip_suffix("_post").unwrap_or(n);
    post.own_name(base).map(|node| post.inline(&node))
}

/// Brian2's counts (`N`, `N_incoming`, …) that `equations` and the statement blocks read, in
/// `Count`'s order. A block that does not parse reads none here: its error comes where it is
/// compiled.
fn counts_read<'a>(equations: &[parse::Equation], blocks: impl Iterator<Item = Option<&'a str>>) -> std::collections::BTreeSet<Count> {
    let mut exprs: Vec<parse::Expr> = equations.iter().filter_map(|eq| eq.expr.clone()).collect();
    for block in blocks.flatten() {
        exprs.extend(parse::statements(block).into_iter().flatten().map(|s| s.expr));
    }
    exprs.iter().flat_map(|e| e.names()).filter_map(Count::named).collect()
}

/// The synapse's subexpressions, by name, lowered.
type Subexpressions = Vec<(String, Node)>;

/// How the model's equations and statements are lowered: names through `own`, random numbers
/// drawn from the synapse's streams, the post-synaptic model's step.
/// The binding of the timed arrays, after the synapse kernels' ten own slots
/// (`backend::gpu::equations::SYNAPSE_SLOTS`).
pub const TABLES_BINDING: usize = 10;

/// The draws of a synapse's equations, `on_pre` and `on_post`: keyed by the synapse (its index
/// in its instance's projection, set before its code runs) and the step, as the CPU's
/// (`backend::cpu::equations`).
const DRAW_FUNCTIONS: &str = "
var<private> synapse_id: u32;

// Part synapse s as the synapse of its own instance's run (merged instances lie side by side).
fn set_synapse(s: u32) {
    synapse_id = (info.first_synapse + s) % info.instance_synapses;
}

fn draw_uniform(stream: u32) -> f32 {
    return uniform_draw(vec2<u32>(info.key_lo, info.key_hi), synapse_id, step_info.step_lo, step_info.step_hi, info.draws, stream);
}

fn draw_normal(stream: u32) -> f32 {
    return normal_draw(vec2<u32>(info.key_lo, info.key_hi), synapse_id, step_info.step_lo, step_info.step_hi, info.draws, stream);
}

// The group's one draw (a value stored into a shared variable): its instance's synapse 0's.
fn draw_uniform_group(stream: u32) -> f32 {
    return uniform_draw(vec2<u32>(info.key_lo, info.key_hi), 0u, step_info.step_lo, step_info.step_hi, info.draws, stream);
}

fn draw_normal_group(stream: u32) -> f32 {
    return normal_draw(vec2<u32>(info.key_lo, info.key_hi), 0u, step_info.step_lo, step_info.step_hi, info.draws, stream);
}
";

/// Brian2's rule: a clock-driven equation or a summed variable may not read an event-driven
/// variable (between spikes its value is not kept up to date).
fn not_on_event_driven(node: &Node, vars: &[VarDef], what: &str, name: &str, pos: parse::Pos) -> std::result::Result<(), String> {
    let mut read = None;
    node.visit(&mut |n| {
        if let Node::Load(Ref::Syn(k)) = n {
            if read.is_none() && vars[*k].kind == VarKind::Differential && vars[*k].flags.iter().any(|f| f == "event-driven") {
                read = Some(*k);
            }
        }
    });
    match read {
        Some(k) => Err(format!(
            "{pos}: the {what} `{name}` depends on the event-driven variable `{}`, which Brian2 does not allow (make it clock-driven)",
            vars[k].name
        )),
        None => Ok(()),
    }
}

fn model_lowering<'a>(scope: &'a Scope, own: &'a dyn Fn(&str) -> Option<Node>, post: &NeuronModel, tables: &'a [(std::sync::Arc<super::ir::Table>, f64)]) -> Lowering<'a> {
    Lowering {
        scope,
        own,
        random: true,
        tables,
        dt: post.dt,
    }
}

/// The first random number `node` draws, by the name it was written with (`xi…`, `rand()`,
/// `randn()`).
fn draws(node: &Node, streams: &Streams) -> Option<String> {
    let mut found = None;
    node.visit(&mut |n| {
        let name = match n {
            Node::Uniform(_) => "rand()".to_string(),
            Node::Normal(k) => match streams.by_noise.iter().find(|(_, s)| *s == k) {
                Some((noise, _)) => noise.clone(),
                None => "randn()".to_string(),
            },
            _ => return,
        };
        found.get_or_insert(name);
    });
    found
}

/// What the statement blocks (`on_pre`, `on_post`) resolve their names against.
struct Blocks<'a> {
    scope: &'a Scope,
    own_with: &'a dyn Fn(&Subexpressions, &str) -> Option<Node>,
    subs: &'a Subexpressions,
    vars: &'a [VarDef],
    post: &'a NeuronModel,
    tables: &'a [(std::sync::Arc<super::ir::Table>, f64)],
}

/// A synapse statement's value (`statement_value`), which may draw with `rand()` and
/// `randn()` but not read a noise name (that belongs in a differential equation).
fn statement_drawing(scope: &Scope, lowering: &super::lower::Lowering, streams: &mut Streams, s: &parse::Statement, target: &VarDef, current: Node) -> std::result::Result<Node, String> {
    let value = statement_value(scope, lowering, streams, s, target, current).map_err(|e| e.to_string())?;
    match draws(&value, streams).filter(|d| d.starts_with("xi")) {
        Some(noise) => Err(format!("{}: noise `{noise}` belongs in a differential equation; a statement draws with rand() or randn()", s.pos)),
        None => Ok(value),
    }
}

/// Brian2's `run_regularly` on the synapses (`r`, under config key `at`): statements over
/// every synapse that write its own variables alone (a neuron's would be written by each of
/// its synapses at once), read as `on_pre` reads (without advancing the event-driven
/// variables: Brian2 reads them as last stored).
fn regularly_block(r: &super::regularly::RegularlyText, at: &str, blocks: &Blocks, streams: &mut Streams) -> Result<(crate::record::Schedule, Program)> {
    let Blocks { scope, own_with, subs, vars, post, tables } = *blocks;
    let key = |k: &str| format!("{at}.{}.{k}", r.name);
    let schedule = r.schedule(post, &key)?;
    let err = |e: &dyn std::fmt::Display| Error::config(key("code"), e.to_string());
    let stmts = parse::statements(r.code).map_err(|e| err(&e))?;
    if stmts.is_empty() {
        return Err(err(&"no statements"));
    }
    let own = |name: &str| own_with(subs, name);
    let lowering = model_lowering(scope, &own, post, tables);
    let mut program = Program::default();
    for s in &stmts {
        let k = vars.iter().position(|v| v.name == s.target).ok_or_else(|| {
            let base = s.target.strip_suffix("_post").or_else(|| s.target.strip_suffix("_pre")).unwrap_or(&s.target);
            if post.slot(base).is_some() || s.target != base {
                err(&format!("{}: `{}`: run_regularly on synapses writes the synapses' own variables, not a neuron's (each of its synapses would write it at once)", s.pos, s.target))
            } else {
                err(&format!("{}: unknown variable `{}`", s.pos, s.target))
            }
        })?;
        assignable(&vars[k], s.pos).map_err(|e| err(&e))?;
        let value = statement_drawing(scope, &lowering, streams, s, &vars[k], Node::load(Ref::Syn(k))).map_err(|e| err(&e))?;
        let shared = |r: Ref| match r {
            Ref::Syn(j) => super::shared::is_shared(&vars[j]),
            Ref::Var(j) => super::shared::is_shared(&post.vars[j]),
            _ => false,
        };
        // Into a shared variable, drawn once for the group (Brian2's scalar code).
        let value = if super::shared::is_shared(&vars[k]) { value.for_group() } else { value };
        super::shared::shared_value(&vars[k], &value, &shared, s.pos).map_err(|e| err(&e))?;
        program.store(Target::Syn(k), value);
    }
    Ok((schedule, program))
}

/// A block of statements (`on_pre`, `on_post`, key `key`) after `advance` (the event-driven
/// variables brought to now), when the block is given and not empty.
fn statements_after(
    advance: &Program,
    block: Option<&str>,
    key: &str,
    blocks: &Blocks,
    streams: &mut Streams,
    err: &dyn Fn(&str, &dyn std::fmt::Display) -> Error,
) -> Result<Program> {
    let Blocks { scope, own_with, subs, vars, post, tables } = *blocks;
    let Some(block) = block.filter(|b| !b.trim().is_empty()) else {
        return Ok(Program::default());
    };
    let stmts = parse::statements(block).map_err(|e| err(key, &e))?;
    let own = |name: &str| own_with(subs, name);
    // A statement may draw (Brian2's `rand()`, for a release probability): a stream of the
    // synapse per call.
    let lowering = model_lowering(scope, &own, post, tables);
    let mut program = advance.clone();
    for s in &stmts {
        let syn_slot = vars.iter().position(|v| v.name == s.target);
        let (target, def, current) = if let Some(k) = syn_slot {
            (Target::Syn(k), &vars[k], Node::load(Ref::Syn(k)))
        } else if s.target.ends_with("_pre") {
            return Err(err(key, &format!("{}: `{}`: {key} cannot write pre-synaptic variables", s.pos, s.target)));
        } else {
            let base = s.target.strip_suffix("_post").unwrap_or(&s.target);
            let k = post
                .slot(base)
                .ok_or_else(|| err(key, &format!("{}: unknown variable `{}`", s.pos, s.target)))?;
            (Target::Var(k), &post.vars[k], Node::load(Ref::Var(k)))
        };
        assignable(def, s.pos).map_err(|e| err(key, &e))?;
        super::shared::not_per_element(def, s.pos, key).map_err(|e| err(key, &e))?;
        let value = statement_drawing(scope, &lowering, streams, s, def, current).map_err(|e| err(key, &e))?;
        let value = match target {
            Target::Var(k) => post.conditional_write(k, value),
            _ => value,
        };
        program.store(target, value);
    }
    Ok(program)
}
