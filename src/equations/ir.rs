//! The checked equations as the backends receive them: expressions whose names are resolved
//! to slots (a neuron's variable, a synapse's, a temporary), with the namespace folded into
//! constants. Both the CPU evaluator (`cpu`) and the WGSL emitter (`wgsl`) read this one
//! form, so the two backends compute the same operations in the same order.

use std::fmt;

/// What a name in an expression reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ref {
    /// Variable k of the neuron being updated (of the post-synaptic neuron in a synapse).
    Var(usize),
    /// Variable k of the pre-synaptic neuron.
    Pre(usize),
    /// Variable k of the synapse.
    Syn(usize),
    /// Temporary k of the program.
    Temp(usize),
    /// Time of the step's start, s.
    T,
    /// The step's number (as a float: exact to 2^24 steps in f32).
    Step,
    /// The step, s.
    Dt,
    /// The neuron's index (in a synapse, the pre-synaptic neuron's).
    I,
    /// The post-synaptic neuron's index (synapses only).
    J,
    /// The population's size.
    N,
    /// A count of a projection's synapses, read by its `init` and `delay` on the host only.
    Count(Count),
}

/// Brian2's counts of a projection's synapses and neurons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Count {
    /// `N`: its synapses.
    Synapses,
    /// `N_pre`, `N_post`: its source's and target's sizes.
    Pre,
    Post,
    /// `N_incoming`: the synapses onto the synapse's post-synaptic neuron; `N_outgoing`: those
    /// from its pre-synaptic one.
    Incoming,
    Outgoing,
}

impl Count {
    /// Brian2's name of it.
    pub fn name(self) -> &'static str {
        match self {
            Count::Synapses => "N",
            Count::Pre => "N_pre",
            Count::Post => "N_post",
            Count::Incoming => "N_incoming",
            Count::Outgoing => "N_outgoing",
        }
    }

    pub fn named(name: &str) -> Option<Count> {
        Some(match name {
            "N" => Count::Synapses,
            "N_pre" => Count::Pre,
            "N_post" => Count::Post,
            "N_incoming" => Count::Incoming,
            "N_outgoing" => Count::Outgoing,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Mod,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn from_token(op: &str) -> Option<BinOp> {
        Some(match op {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "**" => BinOp::Pow,
            "%" => BinOp::Mod,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "==" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            _ => return None,
        })
    }

    pub fn is_boolean(self) -> bool {
        !matches!(
            self,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Pow | BinOp::Mod
        )
    }

    /// The value of `a op b`, booleans as 1 and 0, in f64 (for folding), as the CPU
    /// evaluator computes it.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        super::cpu::apply(self, a, b)
    }
}

/// The functions of Brian2's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Exp,
    Log,
    Log10,
    Sqrt,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Abs,
    Sign,
    Floor,
    Ceil,
    Int,
    Exprel,
    Clip,
    /// A Binomial(n, p) count by inversion from one uniform (Brian2's `BinomialFunction`,
    /// PoissonInput's draw): args u, n, P = min(p, 1 − p), q = 1 − P, qⁿ, the bound (mean + 10
    /// sd), and 1 where p > 1/2 (then the count is n − X). Written by ganglion, not by users.
    Binomial,
    /// args c, a, b: a where c is not 0, else b, the other not computed into it (a
    /// PoissonInput into a subgroup leaves the other neurons alone). Written by ganglion.
    Select,
}

impl Func {
    pub fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "exp" => Func::Exp,
            "log" => Func::Log,
            "log10" => Func::Log10,
            "sqrt" => Func::Sqrt,
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tan" => Func::Tan,
            "tanh" => Func::Tanh,
            "sinh" => Func::Sinh,
            "cosh" => Func::Cosh,
            "abs" => Func::Abs,
            "sign" => Func::Sign,
            "floor" => Func::Floor,
            "ceil" => Func::Ceil,
            "int" => Func::Int,
            "exprel" => Func::Exprel,
            "clip" => Func::Clip,
            _ => return None,
        })
    }

    /// Its value in f64 (for folding and for `init`), as the CPU evaluator computes it.
    pub fn apply(self, a: &[f64]) -> f64 {
        match self {
            Func::Clip => a[0].max(a[1]).min(a[2]),
            Func::Binomial => super::cpu::binomial_inversion(a),
            Func::Select => if a[0] != 0.0 { a[1] } else { a[2] },
            f => super::cpu::call(f, a[0]),
        }
    }
}

/// A timed array (Brian2's TimedArray) as an expression reads it: its values (SI, row-major:
/// a row per time step, a column per neuron) and where they start in the population's model
/// data on the GPU.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
    /// Offset (in words) in the model data.
    pub offset: usize,
}

impl Table {
    /// The value at row `row` and column `col` (floats, clamped to the table as Brian2 clamps
    /// the time; a column outside it is clamped too).
    pub fn at(&self, row: f64, col: f64) -> f64 {
        let r = row.clamp(0.0, (self.rows - 1) as f64) as usize;
        let c = col.clamp(0.0, (self.cols - 1) as f64) as usize;
        self.values[r * self.cols + c]
    }
}

/// An expression over slots.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Const(f64),
    Load(Ref),
    /// A standard normal of the neuron's Philox stream k for this step (`xi`, `randn()`).
    Normal(u32),
    /// A uniform in (0, 1) of stream k (`rand()`).
    Uniform(u32),
    /// `Normal(k)` and `Uniform(k)` drawn once for the group (its instance) in the step, its
    /// first neuron's: what a value stored into a shared variable draws, as Brian2 draws
    /// scalar code's once (`Node::for_group`).
    GroupNormal(u32),
    GroupUniform(u32),
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
    /// A timed array at (row, column), both given as floats.
    Table(std::sync::Arc<Table>, Box<Node>, Box<Node>),
}

impl Node {
    pub fn load(r: Ref) -> Node {
        Node::Load(r)
    }

    pub fn c(x: f64) -> Node {
        Node::Const(x)
    }

    pub fn as_const(&self) -> Option<f64> {
        match self {
            Node::Const(x) => Some(*x),
            _ => None,
        }
    }

    pub fn bin(op: BinOp, a: Node, b: Node) -> Node {
        fold(Node::Bin(op, Box::new(a), Box::new(b)))
    }

    // Constructors that fold as they build (not the arithmetic of std::ops on values).
    #[allow(clippy::should_implement_trait)]
    pub fn add(a: Node, b: Node) -> Node {
        Node::bin(BinOp::Add, a, b)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn sub(a: Node, b: Node) -> Node {
        Node::bin(BinOp::Sub, a, b)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn mul(a: Node, b: Node) -> Node {
        Node::bin(BinOp::Mul, a, b)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn div(a: Node, b: Node) -> Node {
        Node::bin(BinOp::Div, a, b)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn neg(a: Node) -> Node {
        fold(Node::Neg(Box::new(a)))
    }
    pub fn exp(a: Node) -> Node {
        fold(Node::Call(Func::Exp, vec![a]))
    }

    /// Whether it reads `r` anywhere.
    pub fn reads(&self, r: Ref) -> bool {
        let mut found = false;
        self.visit(&mut |n| found |= *n == Node::Load(r));
        found
    }

    pub fn visit(&self, f: &mut dyn FnMut(&Node)) {
        f(self);
        match self {
            Node::Neg(a) | Node::Not(a) => a.visit(f),
            Node::Bin(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Node::Call(_, args) => args.iter().for_each(|a| a.visit(f)),
            Node::Table(_, r, c) => {
                r.visit(f);
                c.visit(f);
            }
            _ => {}
        }
    }

    /// The expression with each draw made once for the group (`GroupNormal`, `GroupUniform`).
    pub fn for_group(&self) -> Node {
        match self {
            Node::Normal(k) => Node::GroupNormal(*k),
            Node::Uniform(k) => Node::GroupUniform(*k),
            Node::Neg(a) => Node::Neg(Box::new(a.for_group())),
            Node::Not(a) => Node::Not(Box::new(a.for_group())),
            Node::Bin(op, a, b) => Node::Bin(*op, Box::new(a.for_group()), Box::new(b.for_group())),
            Node::Call(f, args) => Node::Call(*f, args.iter().map(Node::for_group).collect()),
            Node::Table(t, r, c) => Node::Table(t.clone(), Box::new(r.for_group()), Box::new(c.for_group())),
            _ => self.clone(),
        }
    }

    /// The expression with every load of a ref that `with` maps replaced (and folded).
    pub fn substitute(&self, with: &dyn Fn(Ref) -> Option<Node>) -> Node {
        match self {
            Node::Load(r) => with(*r).unwrap_or_else(|| self.clone()),
            Node::Neg(a) => Node::neg(a.substitute(with)),
            Node::Not(a) => fold(Node::Not(Box::new(a.substitute(with)))),
            Node::Bin(op, a, b) => Node::bin(*op, a.substitute(with), b.substitute(with)),
            Node::Call(f, args) => fold(Node::Call(
                *f,
                args.iter().map(|a| a.substitute(with)).collect(),
            )),
            Node::Table(t, r, c) => Node::Table(
                t.clone(),
                Box::new(r.substitute(with)),
                Box::new(c.substitute(with)),
            ),
            _ => self.clone(),
        }
    }

    /// `self` as A·x + B where neither A nor B reads `x`; None where it is not linear in x.
    /// A is `Const(0)` where `self` does not read x.
    pub fn linear_in(&self, x: &Node) -> Option<(Node, Node)> {
        if self == x {
            return Some((Node::c(1.0), Node::c(0.0)));
        }
        if !self.contains(x) {
            return Some((Node::c(0.0), self.clone()));
        }
        match self {
            Node::Neg(a) => {
                let (p, q) = a.linear_in(x)?;
                Some((Node::neg(p), Node::neg(q)))
            }
            Node::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) => {
                let (p1, q1) = a.linear_in(x)?;
                let (p2, q2) = b.linear_in(x)?;
                Some((Node::bin(*op, p1, p2), Node::bin(*op, q1, q2)))
            }
            Node::Bin(BinOp::Mul, a, b) => {
                let (p1, q1) = a.linear_in(x)?;
                let (p2, q2) = b.linear_in(x)?;
                match (p1.as_const() == Some(0.0), p2.as_const() == Some(0.0)) {
                    (true, _) => Some((Node::mul(q1.clone(), p2), Node::mul(q1, q2))),
                    (_, true) => Some((Node::mul(p1, q2.clone()), Node::mul(q1, q2))),
                    _ => None,
                }
            }
            Node::Bin(BinOp::Div, a, b) if !b.contains(x) => {
                let (p, q) = a.linear_in(x)?;
                Some((Node::div(p, (**b).clone()), Node::div(q, (**b).clone())))
            }
            _ => None,
        }
    }

    fn contains(&self, x: &Node) -> bool {
        let mut found = false;
        self.visit(&mut |n| found |= n == x);
        found
    }
}

/// Constant folding and the identities that keep generated code short: x+0, x·1, x·0 (a
/// product with a constant zero is zero, as sympy simplifies it), x/1, --x.
pub fn fold(n: Node) -> Node {
    use Node::*;
    match n {
        Neg(a) => match *a {
            Const(x) => Const(-x),
            Neg(b) => *b,
            a => Neg(Box::new(a)),
        },
        Not(a) => match *a {
            Const(x) => Const(if x == 0.0 { 1.0 } else { 0.0 }),
            a => Not(Box::new(a)),
        },
        Bin(op, a, b) => match (op, *a, *b) {
            (op, Const(x), Const(y)) => Const(op.apply(x, y)),
            (BinOp::Add, Const(0.0), b) => b,
            (BinOp::Add | BinOp::Sub, a, Const(0.0)) => a,
            (BinOp::Sub, Const(0.0), b) => fold(Neg(Box::new(b))),
            (BinOp::Mul, Const(0.0), _) | (BinOp::Mul, _, Const(0.0)) => Const(0.0),
            (BinOp::Mul, Const(1.0), b) => b,
            (BinOp::Mul, Const(-1.0), b) | (BinOp::Mul, b, Const(-1.0)) => fold(Neg(Box::new(b))),
            (BinOp::Mul | BinOp::Div, a, Const(1.0)) => a,
            (op, a, b) => Bin(op, Box::new(a), Box::new(b)),
        },
        Call(f, args) => {
            let consts: Option<Vec<f64>> = args.iter().map(Node::as_const).collect();
            match consts {
                Some(c) => Const(f.apply(&c)),
                None => Call(f, args),
            }
        }
        n => n,
    }
}

/// Where a statement's value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Temp(usize),
    /// A variable of the neuron (the post-synaptic one in a synapse).
    Var(usize),
    Syn(usize),
}

/// `target = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub target: Target,
    pub value: Node,
}

/// Straight-line code: statements in order, over `temps` temporaries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    pub temps: usize,
    pub body: Vec<Stmt>,
}

impl Program {
    /// A new temporary holding `value`, as a node that reads it.
    pub fn let_(&mut self, value: Node) -> Node {
        if matches!(value, Node::Const(_) | Node::Load(_)) {
            return value;
        }
        let k = self.temps;
        self.temps += 1;
        self.body.push(Stmt {
            target: Target::Temp(k),
            value,
        });
        Node::Load(Ref::Temp(k))
    }

    pub fn store(&mut self, target: Target, value: Node) {
        self.body.push(Stmt { target, value });
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Const(x) => write!(f, "{x}"),
            Node::Load(r) => write!(f, "{r:?}"),
            Node::Normal(k) => write!(f, "normal{k}"),
            Node::GroupNormal(k) => write!(f, "group_normal{k}"),
            Node::GroupUniform(k) => write!(f, "group_uniform{k}"),
            Node::Uniform(k) => write!(f, "uniform{k}"),
            Node::Neg(a) => write!(f, "-({a})"),
            Node::Not(a) => write!(f, "not ({a})"),
            Node::Bin(op, a, b) => write!(f, "({a} {op:?} {b})"),
            Node::Table(t, r, c) => write!(f, "{}[{r}, {c}]", t.name),
            Node::Call(func, args) => {
                write!(f, "{func:?}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_linear_parts() {
        let v = Node::load(Ref::Var(0));
        let g = Node::load(Ref::Var(1));
        // (g·(E − v) + 3)/C, linear in v: A = −g/C, B = (g·E + 3)/C.
        let e = Node::div(
            Node::add(
                Node::mul(g.clone(), Node::sub(Node::c(2.0), v.clone())),
                Node::c(3.0),
            ),
            Node::c(4.0),
        );
        let (a, b) = e.linear_in(&v).unwrap();
        let at = |n: &Node, vv: f64, gv: f64| {
            let r = n.substitute(&|r| match r {
                Ref::Var(0) => Some(Node::c(vv)),
                Ref::Var(1) => Some(Node::c(gv)),
                _ => None,
            });
            r.as_const().unwrap()
        };
        assert_eq!(at(&a, 0.0, 8.0), -2.0);
        assert_eq!(at(&b, 0.0, 8.0), (16.0 + 3.0) / 4.0);
        // v·v is not linear in v; exp(v) neither.
        assert!(Node::mul(v.clone(), v.clone()).linear_in(&v).is_none());
        assert!(Node::exp(v.clone()).linear_in(&v).is_none());
        assert_eq!(Node::mul(Node::c(0.0), v.clone()), Node::c(0.0));
        assert_eq!(Node::add(Node::c(1.0), Node::c(2.0)), Node::c(3.0));
    }
}
