//! From the checked AST to `ir`: names resolved to slots, constants (namespace values, units)
//! folded in SI, `xi` and `rand()`/`randn()` given Philox streams.

use super::check::{DimError, Scope};
use super::ir::{fold, BinOp, Func, Node, Ref};
use super::parse::{Expr, Pos};
use super::quantities::lookup;
use std::collections::BTreeMap;

/// The Philox streams a model's expressions draw from: one per noise name (`xi`, `xi_e`: the
/// same name is the same noise in every equation, as in Brian2) and one per `rand()` or
/// `randn()` written.
#[derive(Clone, Debug, Default)]
pub struct Streams {
    pub by_noise: BTreeMap<String, u32>,
    pub count: u32,
}

impl Streams {
    fn noise(&mut self, name: &str) -> u32 {
        if let Some(&k) = self.by_noise.get(name) {
            return k;
        }
        let k = self.count;
        self.count += 1;
        self.by_noise.insert(name.to_string(), k);
        k
    }

    /// Refuses more streams than a population has (`rng::stream::PER_POPULATION`), at config
    /// key `at`; `what` names what draws them.
    pub(super) fn within_limit(&self, at: &str, what: &str) -> crate::error::Result<()> {
        let max = crate::rng::stream::PER_POPULATION;
        if self.count > max {
            return Err(crate::error::Error::config(
                at,
                format!("{what} draw from {} random streams per step; at most {max} are supported", self.count),
            ));
        }
        Ok(())
    }

    pub(super) fn fresh(&mut self) -> u32 {
        self.count += 1;
        self.count - 1
    }
}

/// How names resolve: `own` maps the model's names (with a synapse's `_pre`/`_post`
/// suffixes) to what they read; the scope gives namespace values and units.
pub struct Lowering<'a> {
    pub scope: &'a Scope,
    pub own: &'a dyn Fn(&str) -> Option<Node>,
    /// Whether `rand()`, `randn()` and `xi` may appear (not in a synapse's summed expression,
    /// which runs once per synapse and step without a stream of its own).
    pub random: bool,
    /// The timed arrays a neuron model may read, with the step of the run (s).
    pub tables: &'a [(std::sync::Arc<super::ir::Table>, f64)],
    pub dt: f64,
}

fn error<T>(pos: Pos, message: String) -> Result<T, DimError> {
    Err(DimError { pos, message })
}

impl Lowering<'_> {
    pub fn lower(&self, e: &Expr, streams: &mut Streams) -> Result<Node, DimError> {
        Ok(match e {
            Expr::Number(x, _) => Node::Const(*x),
            Expr::Name(n, pos) => self.name(n, *pos, streams)?,
            Expr::Unary("-", a, _) => Node::neg(self.lower(a, streams)?),
            Expr::Unary(_, a, _) => fold(Node::Not(Box::new(self.lower(a, streams)?))),
            Expr::Binary("//", a, b, pos) => {
                // Brian2 renders it floor(a/b) for floats, which every variable here is.
                let (a, b) = (self.lower(a, streams)?, self.lower(b, streams)?);
                if b.as_const() == Some(0.0) {
                    return error(*pos, "`//` divides by zero (its right-hand side is 0 with the namespace's values)".into());
                }
                fold(Node::Call(Func::Floor, vec![Node::div(a, b)]))
            }
            Expr::Binary(op, a, b, pos) => {
                let Some(op) = BinOp::from_token(op) else {
                    return error(*pos, format!("unknown operator `{op}`"));
                };
                let (a, b) = (self.lower(a, streams)?, self.lower(b, streams)?);
                // A float divided by zero is no number WGSL promises (its result is
                // indeterminate on a GPU), so the CPU and the GPU would part ways.
                if matches!(op, BinOp::Div | BinOp::Mod) && b.as_const() == Some(0.0) {
                    let token = if op == BinOp::Div { "/" } else { "%" };
                    return error(*pos, format!("`{token}` divides by zero (its right-hand side is 0 with the namespace's values)"));
                }
                power_or(op, a, b)
            }
            Expr::Call(f, args, pos) => {
                if f == "rand" || f == "randn" {
                    if !self.random {
                        return error(*pos, format!("`{f}()` cannot be used here"));
                    }
                    let k = streams.fresh();
                    return Ok(if f == "rand" {
                        Node::Uniform(k)
                    } else {
                        Node::Normal(k)
                    });
                }
                if let Some((table, table_dt)) = self.tables.iter().find(|(t, _)| &t.name == f) {
                    // Brian2's index: int((t/ε + 0.5)/K), ε = dt_array/K, K a power of two of
                    // about 8 steps of the run per step of the array.
                    let k = (2f64.powf((8.0 * table_dt / self.dt).log2().ceil())).max(1.0);
                    let time = self.lower(&args[0], streams)?;
                    let row = fold(Node::Call(
                        Func::Floor,
                        vec![Node::div(
                            Node::add(Node::mul(time, Node::c(k / table_dt)), Node::c(0.5)),
                            Node::c(k),
                        )],
                    ));
                    let col = match args.get(1) {
                        Some(i) => self.lower(i, streams)?,
                        None => Node::c(0.0),
                    };
                    return Ok(Node::Table(table.clone(), Box::new(row), Box::new(col)));
                }
                let Some(func) = Func::from_name(f) else {
                    return error(*pos, format!("unknown function `{f}`"));
                };
                let args = args
                    .iter()
                    .map(|a| self.lower(a, streams))
                    .collect::<Result<Vec<_>, _>>()?;
                fold(Node::Call(func, args))
            }
        })
    }

    fn name(&self, n: &str, pos: Pos, streams: &mut Streams) -> Result<Node, DimError> {
        if let Some(node) = (self.own)(n) {
            return Ok(node);
        }
        match n {
            "t" => return Ok(Node::load(Ref::T)),
            "dt" => return Ok(Node::load(Ref::Dt)),
            "i" => return Ok(Node::load(Ref::I)),
            "j" => return Ok(Node::load(Ref::J)),
            "N" => return Ok(Node::load(Ref::N)),
            _ => {}
        }
        if n == "xi" || n.starts_with("xi_") {
            if !self.random {
                return error(pos, format!("noise `{n}` cannot be used here"));
            }
            return Ok(Node::Normal(streams.noise(n)));
        }
        if let Some(q) = self.scope.namespace.get(n).copied().or_else(|| lookup(n)) {
            return Ok(Node::Const(q.value));
        }
        error(pos, format!("unknown name `{n}`"))
    }
}

/// `a ** b` with a small integer exponent expanded into products (as Brian2's code generation
/// does, and because WGSL's pow is undefined for a negative base); other operators as given.
fn power_or(op: BinOp, a: Node, b: Node) -> Node {
    if op == BinOp::Pow {
        if let Some(p) = b.as_const() {
            if p.fract() == 0.0 && p.abs() <= 8.0 && a.as_const().is_none() {
                let n = p.abs() as u32;
                if n == 0 {
                    return Node::c(1.0);
                }
                let mut product = a.clone();
                for _ in 1..n {
                    product = Node::bin(BinOp::Mul, product, a.clone());
                }
                return if p < 0.0 {
                    Node::div(Node::c(1.0), product)
                } else {
                    product
                };
            }
            if p == 0.5 {
                return fold(Node::Call(Func::Sqrt, vec![a]));
            }
        }
    }
    Node::bin(op, a, b)
}

/// The value of `node` in f64, with `load` giving the slots and `draw` the random numbers
/// (`init` expressions, on the host).
pub fn eval(node: &Node, load: &dyn Fn(Ref) -> f64, draw: &mut dyn FnMut(bool) -> f64) -> f64 {
    match node {
        Node::Const(x) => *x,
        Node::Load(r) => load(*r),
        Node::Normal(_) | Node::GroupNormal(_) => draw(true),
        Node::Uniform(_) | Node::GroupUniform(_) => draw(false),
        Node::Neg(a) => -eval(a, load, draw),
        Node::Not(a) => {
            if eval(a, load, draw) == 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Node::Bin(op, a, b) => {
            let x = eval(a, load, draw);
            let y = eval(b, load, draw);
            op.apply(x, y)
        }
        Node::Call(f, args) => {
            let values: Vec<f64> = args.iter().map(|a| eval(a, load, draw)).collect();
            f.apply(&values)
        }
        Node::Table(t, r, c) => {
            let (row, col) = (eval(r, load, draw), eval(c, load, draw));
            t.at(row, col)
        }
    }
}
