//! The integration methods, Brian2's by Brian2's names: one step of a system of differential
//! equations as a straight-line program, for a neuron's state (`Ref::Var`) or a synapse's
//! clock-driven variables (`Ref::Syn`), and Brian2's default choice among them.

use super::ir::{Func, Node, Program, Ref, Target};
use super::parse::Pos;

/// Integration methods: Brian2's, by the names Brian2 gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Euler,
    ExponentialEuler,
    Rk2,
    Rk4,
    Heun,
    /// Brian2's `exact` for a linear system with constant coefficients: x ← (x + B/A)·e^{A·dt}
    /// − B/A for equations each linear in itself, X ← E·X + F·B for coupled ones
    /// (`System::integrate_coupled`).
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

    /// The method named `name`, or the message that names those there are.
    pub fn named(name: &str) -> std::result::Result<Method, String> {
        Method::from_name(name)
            .ok_or_else(|| format!("unknown method `{name}`; ganglion has euler, exponential_euler, rk2, rk4, heun and exact"))
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

pub(super) fn inline_subexpressions(node: &Node, subs: &[(usize, Node)]) -> Node {
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
pub(super) fn split_noise(rhs: &Node) -> Option<(Node, Vec<(u32, Node)>)> {
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

/// dx/dt = f + Σ g_k·xi_k for the variable in `slot`.
pub(super) struct Derivative {
    pub slot: usize,
    pub name: String,
    pub f: Node,
    pub noise: Vec<(u32, Node)>,
    pub unless_refractory: bool,
    #[allow(dead_code)]
    pub pos: Pos,
}

/// Whose variables a system integrates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StateOf {
    /// A neuron's (`Ref::Var`); its subexpressions are variables too.
    Neuron,
    /// A synapse's clock-driven variables (`Ref::Syn`); the neurons' variables it reads
    /// (`_pre`, `_post`) are constant over the step, as in Brian2.
    Synapse,
}

impl StateOf {
    fn at(self, slot: usize) -> Ref {
        match self {
            StateOf::Neuron => Ref::Var(slot),
            StateOf::Synapse => Ref::Syn(slot),
        }
    }

    fn target(self, slot: usize) -> Target {
        match self {
            StateOf::Neuron => Target::Var(slot),
            StateOf::Synapse => Target::Syn(slot),
        }
    }
}

pub(super) struct System {
    pub state: StateOf,
    pub derivatives: Vec<Derivative>,
    /// Subexpressions kept as variables (a neuron's), in the order they are computed.
    pub subexpressions: Vec<(usize, Node)>,
    pub not_refractory: Option<usize>,
    /// The step (s), for the propagators of a coupled linear system.
    pub dt: f64,
}

/// One evaluation of the right-hand sides: f and the noise terms of each derivative.
struct Stage {
    f: Vec<Node>,
    g: Vec<Vec<(u32, Node)>>,
}

impl System {
    pub fn inline(&self, node: &Node) -> Node {
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
        let map = |sub_temps: &Vec<(usize, Node)>, r: Ref| -> Option<Node> {
            if let Some(k) = self.derivatives.iter().position(|d| self.state.at(d.slot) == r) {
                return values(k);
            }
            match r {
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
        Node::load(self.state.at(self.derivatives[k].slot))
    }

    fn dt() -> Node {
        Node::load(Ref::Dt)
    }

    /// The new values into temporaries, then stored: every update reads the old state.
    fn store_all(&self, prog: &mut Program, new: Vec<Node>) {
        let temps: Vec<Node> = new.into_iter().map(|n| prog.let_(n)).collect();
        for (d, value) in self.derivatives.iter().zip(temps) {
            prog.store(self.state.target(d.slot), value);
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

    pub fn integrate(&self, method: Method, prog: &mut Program) -> std::result::Result<(), String> {
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
                let parts = match self.linear_parts(method == Method::Exact) {
                    Ok(parts) => parts,
                    // Not each linear in itself: `exact` tries the system as coupled.
                    Err(why) if method == Method::Exact => return self.integrate_coupled(prog, why),
                    Err(why) => return Err(why),
                };
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
                let x = Node::load(self.state.at(d.slot));
                // Inline the subexpressions that depend on x, keep the others as loads.
                let depends = |slot: usize| self.inline(&Node::load(Ref::Var(slot))).reads(self.state.at(d.slot));
                let f = inline_where(&d.f, &self.subexpressions, &depends);
                let (a, b) = f.linear_in(&x).ok_or_else(|| {
                    format!(
                        "d{}/dt is not linear in {} ({} needs A·{}+B with A and B free of it); use euler, rk2, rk4 or heun",
                        d.name,
                        d.name,
                        if constant { "exact" } else { "exponential_euler" },
                        d.name
                    )
                })?;
                if constant {
                    let full_a = self.inline(&a);
                    let full_b = self.inline(&b);
                    let moving = diff_slots.iter().any(|&s| full_a.reads(self.state.at(s)) || full_b.reads(self.state.at(s)))
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

    /// The method named by a model's `method` key, or Brian2's choice without one.
    /// Brian2's refusals kept: only euler (additive noise) and heun integrate noise.
    pub fn method(&self, named: Option<&str>) -> std::result::Result<Method, String> {
        let method = match named {
            Some(m) => Method::named(m)?,
            None => return self.default_method(),
        };
        if self.stochastic() && !matches!(method, Method::Euler | Method::Heun) {
            return Err(format!(
                "{} cannot integrate stochastic equations; use euler (additive noise) or heun",
                method.name()
            ));
        }
        if method == Method::Euler && self.multiplicative() {
            return Err("euler cannot integrate multiplicative noise (a noise term that reads a variable of the equations, as Brian2 refuses it); use heun".into());
        }
        Ok(method)
    }

    fn stochastic(&self) -> bool {
        self.derivatives.iter().any(|d| !d.noise.is_empty())
    }

    /// Whether a noise term's factor reads a variable the equations integrate.
    fn multiplicative(&self) -> bool {
        let diff_slots: Vec<usize> = self.derivatives.iter().map(|d| d.slot).collect();
        self.derivatives.iter().any(|d| {
            d.noise.iter().any(|(_, g)| {
                let g = self.inline(g);
                diff_slots.iter().any(|&s| g.reads(self.state.at(s)))
            })
        })
    }

    /// Brian2's default, ('exact', 'euler', 'heun'): exact where the equations are a linear
    /// system with constant coefficients (each linear in itself, or coupled: then solved by a
    /// matrix exponential), euler for other deterministic equations and additive noise, heun
    /// for multiplicative noise. A coupled system whose coefficients are not numbers (a
    /// parameter τ), which Brian2 solves symbolically, is an error rather than a different
    /// answer.
    fn default_method(&self) -> std::result::Result<Method, String> {
        if self.stochastic() {
            return Ok(if self.multiplicative() { Method::Heun } else { Method::Euler });
        }
        if self.linear_parts(true).is_ok() {
            return Ok(Method::Exact);
        }
        match self.linear_system() {
            Ok(_) => Ok(Method::Exact),
            Err(Unsolved::NotLinear) => Ok(Method::Euler),
            Err(Unsolved::Unsupported(why)) => Err(why),
        }
    }

    /// The equations as dX/dt = M·X + B, for `exact` on a coupled system: M's entries numbers
    /// (namespace constants), B free of X and t (it may read parameters and the neurons'
    /// variables a synapse reads, constant over the step, as in Brian2).
    fn linear_system(&self) -> std::result::Result<LinearSystem, Unsolved> {
        let n = self.derivatives.len();
        let mut m = vec![vec![0.0; n]; n];
        let mut b = Vec::with_capacity(n);
        let mut symbolic = false;
        for (i, d) in self.derivatives.iter().enumerate() {
            let mut rest = self.inline(&d.f);
            for (j, e) in self.derivatives.iter().enumerate() {
                let (a, r) = rest.linear_in(&Node::load(self.state.at(e.slot))).ok_or(Unsolved::NotLinear)?;
                let a = super::ir::fold(a);
                let moving = self.derivatives.iter().any(|q| a.reads(self.state.at(q.slot))) || a.reads(Ref::T);
                if moving {
                    return Err(Unsolved::NotLinear);
                }
                match a.as_const() {
                    Some(c) => m[i][j] = c,
                    None => symbolic = true,
                }
                rest = r;
            }
            if rest.reads(Ref::T) {
                return Err(Unsolved::NotLinear);
            }
            b.push(super::ir::fold(rest));
        }
        let ask = "name a method (euler, rk2, rk4, exponential_euler, heun)";
        if symbolic {
            return Err(Unsolved::Unsupported(format!(
                "these equations are a coupled linear system whose coefficients are not all numbers (they read a parameter), which Brian2 would integrate with `exact` symbolically; ganglion solves coupled systems with constant coefficients only: {ask}"
            )));
        }
        // A variable held while refractory must not drive one that is not: then the others
        // evolve alone, as the full solution's block for them says.
        let held = |e: &Derivative| self.nr_factor(e).is_some();
        for (i, d) in self.derivatives.iter().enumerate().filter(|(_, d)| !held(d)) {
            if let Some((_, e)) = self.derivatives.iter().enumerate().find(|(j, e)| held(e) && m[i][*j] != 0.0) {
                return Err(Unsolved::Unsupported(format!(
                    "d{}/dt reads {}, which is held while refractory (`unless refractory`), so this coupled linear system has no exact step here: {ask}",
                    d.name, e.name
                )));
            }
        }
        Ok(LinearSystem { m, b })
    }

    /// `exact` for a coupled system: X ← E·X + F·B, with E = e^(M·dt) and F = ∫₀^dt e^(M·s) ds
    /// from one matrix exponential, in f64, as numbers of the program. A variable held while
    /// refractory keeps its value there. `not_linear` is what `linear_parts` said of the
    /// equations taken one by one, the error where they are no linear system either.
    fn integrate_coupled(&self, prog: &mut Program, not_linear: String) -> std::result::Result<(), String> {
        let sys = self.linear_system().map_err(|e| match e {
            // What the equation that is not says.
            Unsolved::NotLinear => not_linear,
            Unsolved::Unsupported(why) => why,
        })?;
        let (e, f) = propagators(&sys.m, self.dt);
        let b: Vec<Option<Node>> = sys
            .b
            .iter()
            .map(|b| (b.as_const() != Some(0.0)).then(|| if b.as_const().is_some() { b.clone() } else { prog.let_(b.clone()) }))
            .collect();
        let n = self.derivatives.len();
        let new = (0..n)
            .map(|i| {
                let mut terms = Vec::new();
                for j in 0..n {
                    if e[(i, j)] != 0.0 {
                        terms.push(Node::mul(Node::c(e[(i, j)]), self.x(j)));
                    }
                }
                for (j, bj) in b.iter().enumerate() {
                    if let (Some(bj), true) = (bj, f[(i, j)] != 0.0) {
                        terms.push(Node::mul(Node::c(f[(i, j)]), bj.clone()));
                    }
                }
                let value = terms.into_iter().reduce(Node::add).unwrap_or(Node::c(0.0));
                match self.nr_factor(&self.derivatives[i]) {
                    // nr·new + (1 − nr)·x: exactly one of the two where nr is 1 or 0.
                    Some(nr) => Node::add(Node::mul(nr.clone(), value), Node::mul(Node::sub(Node::c(1.0), nr), self.x(i))),
                    None => value,
                }
            })
            .collect();
        self.store_all(prog, new);
        Ok(())
    }
}

/// dX/dt = M·X + B.
struct LinearSystem {
    m: Vec<Vec<f64>>,
    b: Vec<Node>,
}

/// Why a system has no `exact` step here.
enum Unsolved {
    /// Not linear with constant coefficients: Brian2 would not solve it exactly either.
    NotLinear,
    /// Brian2 would; ganglion does not (the reason, for the user).
    Unsupported(String),
}

/// e^(M·dt) and ∫₀^dt e^(M·s) ds: the blocks of exp([[M, I], [0, 0]]·dt) (Van Loan), which
/// needs no inverse of M.
fn propagators(m: &[Vec<f64>], dt: f64) -> (nalgebra::DMatrix<f64>, nalgebra::DMatrix<f64>) {
    let n = m.len();
    let mut a = nalgebra::DMatrix::<f64>::zeros(2 * n, 2 * n);
    for i in 0..n {
        for j in 0..n {
            a[(i, j)] = m[i][j] * dt;
        }
        a[(i, n + i)] = dt;
    }
    let full = a.exp();
    (full.view((0, 0), (n, n)).into_owned(), full.view((0, n), (n, n)).into_owned())
}

pub(super) fn fold_sqrt(n: Node) -> Node {
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

#[cfg(test)]
mod tests {
    use super::propagators;

    #[test]
    fn propagators_are_the_exact_step_even_where_m_is_singular() {
        let dt = 0.1;
        // Decay at rates 2 and 0 (a pure integrator): e^(−2dt), 1; and (1 − e^(−2dt))/2, dt.
        let (e, f) = propagators(&[vec![-2.0, 0.0], vec![0.0, 0.0]], dt);
        let d = (-2.0 * dt).exp();
        assert!((e[(0, 0)] - d).abs() < 1e-15 && (e[(1, 1)] - 1.0).abs() < 1e-15);
        assert!((f[(0, 0)] - (1.0 - d) / 2.0).abs() < 1e-15 && (f[(1, 1)] - dt).abs() < 1e-15);
        assert_eq!((e[(0, 1)], e[(1, 0)], f[(0, 1)], f[(1, 0)]), (0.0, 0.0, 0.0, 0.0));
        // A Jordan block (the alpha function): e^(−dt/τ)·[[1, dt/τ], [0, 1]].
        let tau = 3.0;
        let (e, _) = propagators(&[vec![-1.0 / tau, 1.0 / tau], vec![0.0, -1.0 / tau]], dt);
        let d = (-dt / tau).exp();
        assert!((e[(0, 1)] - d * dt / tau).abs() < 1e-15 && (e[(0, 0)] - d).abs() < 1e-15, "{e}");
    }
}
