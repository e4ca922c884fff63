//! Brian2's `Synapses.connect(condition=…, p=…, n=…)` (`rule = "expression"`). Every pair is
//! visited, pre-synaptic i within the row of post-synaptic j: where `condition` holds, one
//! uniform draw below `p` connects the pair by `n` synapses, in Brian2's order (the
//! condition, then the draw). Each row draws from its own stream (`row_rng`), so a seed gives
//! the same matrix on any number of threads. Brian2's own draws differ: its matrices agree
//! with these in distribution, and exactly where no draw is made. With `j`, the rule is
//! Brian2's generator syntax instead (`generator`).

use super::generator::{Generator, Over};
use super::{draw_weights, row_rng, Csr, WeightDraw};
use crate::config::{Connectivity, Probability};
use crate::equations::check::Scope;
use crate::equations::dims::Dim;
use crate::equations::ir::{fold, Node, Ref};
use crate::equations::lower::{eval, Lowering, Streams};
use crate::equations::neuron::{is_condition, NeuronModel};
use crate::equations::parse;
use crate::equations::synapse::{neuron_name, SynapseProgram};
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use crate::equations::init::draw;
use rayon::prelude::*;

/// The most pairs one rule visits: the walk costs about 100 ns a pair on one thread (10⁸
/// pairs of `i != j` with a `p` of `exp`, 10 s of CPU), so past this it takes minutes, where
/// fixed_probability and fixed_indegree draw in time linear in the synapses.
pub const MAX_PAIRS: u64 = 1 << 30;

/// Pairs the expected count of synapses is computed from: all of them up to this many, else
/// this many drawn at random.
const SAMPLED_PAIRS: u64 = 1 << 16;

/// Outer indices the expected count of a generator is computed from: all of them up to this many,
/// else this many drawn at random.
const SAMPLED_SOURCES: usize = 4096;

/// A projection's `expression` rule, compiled.
#[derive(Clone, Debug)]
pub struct ConnectExpression {
    condition: Option<Node>,
    p: Node,
    n: u64,
    /// Brian2's generator syntax (`j`), in place of the condition and p.
    generator: Option<Generator>,
    /// The rule's config key (`projections.P.connectivity`), for what drawing it refuses.
    at: String,
    /// The simulation's step (s), as `dt` reads.
    dt: f64,
}

/// The populations the expressions may read (models written as equations; None for the
/// built-in ones, whose variables they cannot name).
#[derive(Clone, Copy)]
pub struct Ends<'a> {
    pub pre: Option<&'a NeuronModel>,
    pub post: Option<&'a NeuronModel>,
    pub n_pre: u64,
    pub n_post: u64,
    /// The simulation's step (s): `dt`, as the expressions read it.
    pub dt: f64,
}

impl ConnectExpression {
    /// `rule` compiled where it is an `expression` rule (None for the others), its names
    /// resolved against the synapse model `program` (its namespace) and the populations `ends`;
    /// errors name the key under `at` (`projections.P.connectivity`).
    pub fn compile(at: &str, rule: &Connectivity, program: Option<&SynapseProgram>, ends: Ends) -> Result<Option<ConnectExpression>> {
        let Connectivity::Expression { condition, p, n, i, j, skip_if_invalid } = rule else {
            return Ok(None);
        };
        if *n == 0 {
            return Err(Error::config(format!("{at}.n"), "must be at least 1 (synapses per connected pair)"));
        }
        // What connect reads: i, j, the sizes; not N, Brian2's count of synapses, which do not
        // exist yet.
        let mut scope = program.map_or_else(Scope::with_builtins, |p| p.scope.clone());
        scope.symbols.remove("N");
        for name in ["i", "j", "N_pre", "N_post"] {
            scope.symbols.insert(name.into(), Dim::ONE);
        }
        let generator = match (i, j) {
            (Some(_), Some(_)) => return Err(Error::config(format!("{at}.i"), "cannot be combined with j (Brian2 refuses it too): one generator gives the other index")),
            (Some(text), None) => Some(("i", text, Over::Post)),
            (None, Some(text)) => Some(("j", text, Over::Pre)),
            (None, None) => None,
        };
        if let Some((name, text, over)) = generator {
            // Brian2's own refusals.
            if condition.is_some() {
                return Err(Error::config(format!("{at}.condition"), format!("cannot be combined with {name} (Brian2 refuses it too): put it in the generator's `if`")));
            }
            if p.is_some() {
                return Err(Error::config(format!("{at}.p"), "generator syntax cannot be combined with p (Brian2 refuses it too): iterate over sample(…, p=…)"));
            }
            let generator = Generator::compile(&format!("{at}.{name}"), text, *skip_if_invalid, &scope, ends, over)?;
            return Ok(Some(ConnectExpression { condition: None, p: Node::c(1.0), n: *n, generator: Some(generator), at: at.to_string(), dt: ends.dt }));
        }
        if *skip_if_invalid {
            return Err(Error::config(format!("{at}.skip_if_invalid"), "is for generator syntax (i or j), whose index may fall outside its population"));
        }
        let own = |name: &str| -> Option<Node> {
            match name {
                "N_pre" => Some(Node::c(ends.n_pre as f64)),
                "N_post" => Some(Node::c(ends.n_post as f64)),
                _ => neuron_name(name, ends.pre?, ends.post?),
            }
        };
        let lower = |key: &str, text: &str, want: &str| -> Result<Node> {
            let bad = |m: String| Error::config(key, m);
            let e = parse::expression(text).map_err(|e| bad(e.to_string()))?;
            refuse_counts(&e).map_err(bad)?;
            let dim = scope.dim(&e).map_err(|e| bad(e.to_string()))?;
            let is_wanted = match want {
                "condition" => dim.is_dimensionless() && is_condition(&e),
                _ => dim.is_dimensionless(),
            };
            if !is_wanted {
                return Err(bad(match want {
                    "condition" => format!("must be a condition such as \"i != j\"; got a {dim} value"),
                    _ => format!("must be a dimensionless probability; got a {dim} value"),
                }));
            }
            let lowering = Lowering {
                scope: &scope,
                own: &own,
                random: true,
                tables: &[],
                dt: ends.dt,
            };
            let node = lowering.lower(&e, &mut Streams::default()).map_err(|e| bad(e.to_string()))?;
            Ok(fold(node))
        };
        let condition = condition.as_deref().map(|text| lower(&format!("{at}.condition"), text, "condition")).transpose()?;
        let p = match p {
            None => Node::c(1.0),
            Some(Probability::Number(x)) if (0.0..=1.0).contains(x) => Node::c(*x),
            Some(Probability::Number(x)) => return Err(Error::config(format!("{at}.p"), format!("must be in [0, 1], got {x}"))),
            Some(Probability::Expression(text)) => lower(&format!("{at}.p"), text, "probability")?,
        };
        let pairs = ends.n_pre.saturating_mul(ends.n_post);
        if pairs > MAX_PAIRS {
            return Err(Error::config(
                at,
                format!(
                    "the expression rule visits every pair, {} × {} = {pairs}, more than {MAX_PAIRS}; fixed_probability or fixed_indegree draw in time linear in the synapses",
                    ends.n_pre, ends.n_post
                ),
            ));
        }
        Ok(Some(ConnectExpression { condition, p, n: *n, generator: None, at: at.to_string(), dt: ends.dt }))
    }

    /// Whether the expressions read the populations' variables (whose initial values they
    /// are then given).
    pub fn reads_neurons(&self) -> bool {
        if let Some(g) = &self.generator {
            return g.reads_neurons();
        }
        let mut found = false;
        for node in self.condition.iter().chain([&self.p]) {
            node.visit(&mut |n| found |= matches!(n, Node::Load(Ref::Pre(_) | Ref::Var(_))));
        }
        found
    }

    /// Whether pair (i, j)'s condition holds and, where it does, its probability (what the
    /// expressions draw taken from `rng`).
    fn evaluate(&self, i: usize, j: usize, states: States, rng: &mut ChaCha8Rng) -> Option<f64> {
        let load = |r: Ref| match r {
            Ref::I => i as f64,
            Ref::J => j as f64,
            Ref::Pre(k) => states.pre[k][i],
            Ref::Var(k) => states.post[k][j],
            Ref::Dt => self.dt,
            _ => 0.0,
        };
        if let Some(c) = &self.condition {
            if eval(c, &load, &mut |normal| draw(rng, normal)) == 0.0 {
                return None;
            }
        }
        Some(eval(&self.p, &load, &mut |normal| draw(rng, normal)))
    }

    /// The synapses pair (i, j) takes: 0, or `n` where its condition holds and its draw falls
    /// below `p`.
    fn synapses_of(&self, i: usize, j: usize, states: States, rng: &mut ChaCha8Rng) -> u64 {
        match self.evaluate(i, j, states, rng) {
            Some(p) if p >= 1.0 || rng.random::<f64>() < p => self.n,
            _ => 0,
        }
    }

    /// The matrix: rows of `n_tgt` targets over `n_src` sources, whose variables (where the
    /// expressions read them) start at `states`, with `weight` drawn per synapse.
    pub fn build(&self, n_src: usize, n_tgt: usize, states: States, weight: &WeightDraw, seed: u64, projection: usize) -> Result<Csr> {
        if let Some(g) = &self.generator {
            // Each outer index's results from its own stream, as Brian2 walks them. Every
            // one drawn, then the first refusal in order: rayon's own collect into a Result
            // would name whichever failing index a thread met first.
            let (n_outer, n_result) = g.over().orient(n_src, n_tgt);
            let results = (0..n_outer)
                .into_par_iter()
                .map(|outer| g.targets(outer, n_result, states, &mut row_rng(seed, projection, outer)))
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<std::result::Result<Vec<Vec<u32>>, String>>()
                .map_err(|m| Error::config(format!("{}.{}", self.at, g.over().names().1), m))?;
            let (mut pre, mut post) = (Vec::new(), Vec::new());
            for (outer, made) in results.iter().enumerate() {
                for &result in made {
                    let (i, j) = g.over().orient(outer as u64, result as u64);
                    for _ in 0..self.n {
                        pre.push(i);
                        post.push(j);
                    }
                }
            }
            let weights = super::PairWeights::Drawn { draw: weight, seed, projection };
            return Ok(super::from_pairs(n_src, n_tgt, &pre, &post, weights)?.0);
        }
        let rows: Vec<Vec<u32>> = (0..n_tgt)
            .into_par_iter()
            .map(|j| {
                let mut rng = row_rng(seed, projection, j);
                let mut row = Vec::new();
                for i in 0..n_src {
                    let n = self.synapses_of(i, j, states, &mut rng);
                    row.extend(std::iter::repeat_n(i as u32, n as usize));
                }
                row
            })
            .collect();
        let weights = draw_weights(weight, &rows, seed, projection);
        Csr::from_rows(n_tgt, n_src, rows, weights)
    }

    /// The synapses expected (what `check` counts before anything is drawn): over every pair
    /// where there are at most `SAMPLED_PAIRS`, else over that many drawn at random, scaled.
    /// Exact where the expressions draw nothing and every pair is visited.
    pub fn expected_synapses(&self, n_src: usize, n_tgt: usize, states: States) -> u64 {
        let pairs = (n_src as u64) * (n_tgt as u64);
        let mut rng = ChaCha8Rng::seed_from_u64(0x9b05_688c_2b3e_6c1f);
        if let Some(g) = &self.generator {
            // Every outer index up to SAMPLED_SOURCES, else that many drawn at random,
            // scaled; one whose generator fails counts none (`build` refuses it).
            let (n_outer, n_result) = g.over().orient(n_src, n_tgt);
            let outers: Vec<usize> = if n_outer <= SAMPLED_SOURCES {
                (0..n_outer).collect()
            } else {
                (0..SAMPLED_SOURCES).map(|_| rng.random_range(0..n_outer)).collect()
            };
            let made: usize = outers.iter().map(|&outer| g.targets(outer, n_result, states, &mut rng).map_or(0, |t| t.len())).sum();
            return (made as f64 * self.n as f64 * n_outer as f64 / outers.len().max(1) as f64).round() as u64;
        }
        let expected = |i: usize, j: usize, rng: &mut ChaCha8Rng| -> f64 {
            self.evaluate(i, j, states, rng).map_or(0.0, |p| p.clamp(0.0, 1.0) * self.n as f64)
        };
        if pairs <= SAMPLED_PAIRS {
            let mut sum = 0.0;
            for j in 0..n_tgt {
                for i in 0..n_src {
                    sum += expected(i, j, &mut rng);
                }
            }
            return sum.round() as u64;
        }
        let mut sum = 0.0;
        for _ in 0..SAMPLED_PAIRS {
            let (i, j) = (rng.random_range(0..n_src), rng.random_range(0..n_tgt));
            sum += expected(i, j, &mut rng);
        }
        (sum / SAMPLED_PAIRS as f64 * pairs as f64).round() as u64
    }
}

/// Brian2's counts of synapses (`N`, `N_incoming`, `N_outgoing`) read by `e`: they do not
/// exist while the synapses are drawn, and Brian2 refuses them in `connect` too.
pub(super) fn refuse_counts(e: &parse::Expr) -> std::result::Result<(), String> {
    match e.names().into_iter().find(|n| ["N", "N_incoming", "N_outgoing"].contains(n)) {
        Some(n) => Err(format!(
            "`{n}` counts synapses, which do not exist while they are drawn: connect cannot read it{}",
            if n == "N" { "" } else { " (Brian2 refuses it too)" }
        )),
        None => Ok(()),
    }
}

/// Projection `index` of `config` compiled, where its rule is an expression.
pub fn of_config(config: &crate::config::Config, index: usize) -> Result<Option<ConnectExpression>> {
    let (name, proj) = config.projections.iter().nth(index).expect("a projection of the config");
    let ends = config.resolved.projections[index];
    ConnectExpression::compile(
        &format!("projections.{name}.connectivity"),
        &proj.connectivity,
        config.resolved.synapses[index].as_deref(),
        Ends {
            pre: config.model(ends.source).equations(),
            post: config.model(ends.target).equations(),
            n_pre: ends.source_group.size,
            n_post: ends.target_group.size,
            dt: config.simulation.dt_ms * 1e-3,
        },
    )
}

/// The initial variables of the source and target populations (empty where not read).
#[derive(Clone, Copy)]
pub struct States<'a> {
    pub pre: &'a [Vec<f64>],
    pub post: &'a [Vec<f64>],
}
