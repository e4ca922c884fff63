//! The CPU evaluator of `ir` programs: each expression compiled once into nested closures (no
//! strings read per step), in f64 or f32, with the operations in the order the WGSL emitter
//! writes them.

use super::ir::{BinOp, Func, Node, Program, Ref, Target};
use crate::model::Noise;
use crate::real::Real;

/// What an expression reads: the neuron's (or post-synaptic neuron's) variables, the
/// pre-synaptic neuron's, the synapse's, the temporaries, the clock and the indices.
pub struct Env<'a, F> {
    pub x: &'a [F],
    pub pre: &'a [F],
    pub syn: &'a [F],
    pub tmp: &'a [F],
    pub t: F,
    pub step: F,
    pub dt: F,
    pub i: F,
    pub j: F,
    pub n: F,
    pub noise: Option<&'a Noise>,
}

/// A compiled expression.
pub type Eval<F> = Box<dyn Fn(&Env<F>) -> F + Send + Sync>;

fn truth<F: Real>(c: bool) -> F {
    if c {
        F::one()
    } else {
        F::zero()
    }
}

/// Brian2's exprel: in f64 through exp_m1 (`model::rates::exprel`); in f32 as the WGSL
/// computes it (a series below |x| = 0.1, the quotient above), so CPU f32 and GPU agree.
#[inline]
pub(crate) fn exprel<F: Real>(x: F) -> F {
    if std::mem::size_of::<F>() == 8 {
        return crate::model::rates::exprel(x);
    }
    if x.abs() < F::from_f64(0.1) {
        let c = |v: f64| F::from_f64(v);
        F::one() + x * (c(0.5) + x * (c(1.0 / 6.0) + x * (c(1.0 / 24.0) + x * c(1.0 / 120.0))))
    } else {
        (x.exp() - F::one()) / x
    }
}

pub fn compile<F: Real>(node: &Node) -> Eval<F> {
    match node {
        Node::Const(c) => {
            let c = F::from_f64(*c);
            Box::new(move |_| c)
        }
        Node::Load(r) => match *r {
            Ref::Var(k) => Box::new(move |e| e.x[k]),
            Ref::Pre(k) => Box::new(move |e| e.pre[k]),
            Ref::Syn(k) => Box::new(move |e| e.syn[k]),
            Ref::Temp(k) => Box::new(move |e| e.tmp[k]),
            Ref::T => Box::new(|e| e.t),
            Ref::Step => Box::new(|e| e.step),
            Ref::Dt => Box::new(|e| e.dt),
            Ref::I => Box::new(|e| e.i),
            Ref::J => Box::new(|e| e.j),
            Ref::N => Box::new(|e| e.n),
            Ref::Count(c) => unreachable!("{c:?} is read on the host only (a synapse's init and delay)"),
        },
        Node::Normal(k) => {
            let k = *k;
            Box::new(move |e| e.noise.map_or(F::zero(), |n| n.normal(k)))
        }
        Node::Uniform(k) => {
            let k = *k;
            Box::new(move |e| e.noise.map_or(F::zero(), |n| n.uniform(k)))
        }
        // The first neuron's draw: one for the group.
        Node::GroupNormal(k) => {
            let k = *k;
            Box::new(move |e| e.noise.map_or(F::zero(), |n| Noise { neuron: 0, ..*n }.normal(k)))
        }
        Node::GroupUniform(k) => {
            let k = *k;
            Box::new(move |e| e.noise.map_or(F::zero(), |n| Noise { neuron: 0, ..*n }.uniform(k)))
        }
        Node::Neg(a) => {
            let a = compile::<F>(a);
            Box::new(move |e| -a(e))
        }
        Node::Not(a) => {
            let a = compile::<F>(a);
            Box::new(move |e| truth(a(e) == F::zero()))
        }
        Node::Bin(op, a, b) => {
            // A constant right operand is the common case (x/tau, v − E): one call fewer.
            if let Some(c) = b.as_const() {
                let c = F::from_f64(c);
                let a = compile::<F>(a);
                return match op {
                    BinOp::Add => Box::new(move |e| a(e) + c),
                    BinOp::Sub => Box::new(move |e| a(e) - c),
                    BinOp::Mul => Box::new(move |e| a(e) * c),
                    BinOp::Div => Box::new(move |e| a(e) / c),
                    op => {
                        let op = *op;
                        Box::new(move |e| apply(op, a(e), c))
                    }
                };
            }
            let (a, b) = (compile::<F>(a), compile::<F>(b));
            match op {
                BinOp::Add => Box::new(move |e| a(e) + b(e)),
                BinOp::Sub => Box::new(move |e| a(e) - b(e)),
                BinOp::Mul => Box::new(move |e| a(e) * b(e)),
                BinOp::Div => Box::new(move |e| a(e) / b(e)),
                op => {
                    let op = *op;
                    Box::new(move |e| apply(op, a(e), b(e)))
                }
            }
        }
        Node::Table(t, r, c) => {
            let values: Vec<F> = t.values.iter().map(|&x| F::from_f64(x)).collect();
            let (rows, cols) = (t.rows, t.cols);
            let (r, c) = (compile::<F>(r), compile::<F>(c));
            Box::new(move |e| table_at(&values, rows, cols, r(e), c(e)))
        }
        Node::Call(f, args) => {
            let f = *f;
            let mut args: Vec<Eval<F>> = args.iter().map(compile::<F>).collect();
            if f == Func::Clip {
                let (hi, lo, x) = (args.pop().unwrap(), args.pop().unwrap(), args.pop().unwrap());
                return Box::new(move |e| x(e).max(lo(e)).min(hi(e)));
            }
            if f == Func::Select {
                let (b, a, c) = (args.pop().unwrap(), args.pop().unwrap(), args.pop().unwrap());
                return Box::new(move |e| if c(e) != F::zero() { a(e) } else { b(e) });
            }
            if f == Func::Binomial {
                return Box::new(move |e| {
                    let a: Vec<F> = args.iter().map(|x| x(e)).collect();
                    binomial_inversion(&a)
                });
            }
            let a = args.pop().expect("one argument");
            match f {
                Func::Exp => Box::new(move |e| a(e).exp()),
                f => Box::new(move |e| call(f, a(e))),
            }
        }
    }
}

/// A timed array's value at (row, column), each clamped to the table (as `ir::Table::at`).
pub(crate) fn table_at<F: Real>(values: &[F], rows: usize, cols: usize, row: F, col: F) -> F {
    let clamp = |x: F, n: usize| x.max(F::zero()).min(F::from_f64((n - 1) as f64)).to_f64() as usize;
    values[clamp(row, rows) * cols + clamp(col, cols)]
}

pub(crate) fn apply<F: Real>(op: BinOp, a: F, b: F) -> F {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Pow => a.powf(b),
        // Python's %: the sign of the divisor.
        BinOp::Mod => a - b * (a / b).floor(),
        BinOp::Lt => truth(a < b),
        BinOp::Le => truth(a <= b),
        BinOp::Gt => truth(a > b),
        BinOp::Ge => truth(a >= b),
        BinOp::Eq => truth(a == b),
        BinOp::Ne => truth(a != b),
        BinOp::And => truth(a != F::zero() && b != F::zero()),
        BinOp::Or => truth(a != F::zero() || b != F::zero()),
    }
}

pub(crate) fn call<F: Real>(f: Func, x: F) -> F {
    match f {
        Func::Exp => x.exp(),
        Func::Log => x.ln(),
        Func::Log10 => x.log10(),
        Func::Sqrt => x.sqrt(),
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.tan(),
        Func::Tanh => x.tanh(),
        Func::Sinh => x.sinh(),
        Func::Cosh => x.cosh(),
        Func::Abs => x.abs(),
        Func::Sign => {
            if x > F::zero() {
                F::one()
            } else if x < F::zero() {
                -F::one()
            } else {
                F::zero()
            }
        }
        Func::Floor => x.floor(),
        Func::Ceil => x.ceil(),
        Func::Int => x.trunc(),
        Func::Exprel => exprel(x),
        Func::Clip => unreachable!("three arguments"),
        Func::Binomial => unreachable!("seven arguments"),
        Func::Select => unreachable!("three arguments"),
    }
}

/// `Func::Binomial`: numpy's inversion (as Brian2's BinomialFunction writes it) from the one
/// uniform `a[0]`, in the caller's precision, with the operations in the order of
/// `binomial_inversion` in the generated WGSL (`wgsl::HELPERS`). Where the count would pass
/// the bound (mean + 10 sd, about 10⁻²³ of the draws), Brian2 draws again; here it stops there.
pub(crate) fn binomial_inversion<F: Real>(a: &[F]) -> F {
    let (n, p, q, qn, bound, reverse) = (a[1], a[2], a[3], a[4], a[5], a[6]);
    let (mut x, mut px, mut u) = (F::zero(), qn, a[0]);
    while u > px {
        x = x + F::one();
        if x > bound {
            break;
        }
        u = u - px;
        px = ((n - x + F::one()) * p * px) / (x * q);
    }
    if reverse != F::zero() {
        n - x
    } else {
        x
    }
}

/// A program compiled for the CPU.
pub struct CpuProgram<F> {
    pub temps: usize,
    body: Vec<(Target, Eval<F>)>,
}

/// The temporaries of one run, on the stack where they are few.
const STACK_TEMPS: usize = 48;

impl<F: Real> CpuProgram<F> {
    pub fn new(p: &Program) -> Self {
        CpuProgram {
            temps: p.temps,
            body: p.body.iter().map(|s| (s.target, compile::<F>(&s.value))).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Runs the statements in order on `x` (and a synapse's `syn`); `env` gives the rest.
    pub fn run(&self, x: &mut [F], syn: &mut [F], env: EnvParts<F>) {
        if self.body.is_empty() {
            return;
        }
        if self.temps <= STACK_TEMPS {
            let mut tmp = [F::zero(); STACK_TEMPS];
            self.run_with(x, syn, &mut tmp[..], env);
        } else {
            let mut tmp = vec![F::zero(); self.temps];
            self.run_with(x, syn, &mut tmp, env);
        }
    }

    fn run_with(&self, x: &mut [F], syn: &mut [F], tmp: &mut [F], p: EnvParts<F>) {
        for (target, eval) in &self.body {
            let value = eval(&p.env(x, syn, tmp));
            match *target {
                Target::Temp(k) => tmp[k] = value,
                Target::Var(k) => x[k] = value,
                Target::Syn(k) => syn[k] = value,
            }
        }
    }
}

impl<'a, F: Copy> EnvParts<'a, F> {
    /// The environment of an expression with these parts and the slices it reads.
    pub fn env(&self, x: &'a [F], syn: &'a [F], tmp: &'a [F]) -> Env<'a, F> {
        Env {
            x,
            pre: self.pre,
            syn,
            tmp,
            t: self.t,
            step: self.step,
            dt: self.dt,
            i: self.i,
            j: self.j,
            n: self.n,
            noise: self.noise,
        }
    }
}

/// What an `Env` holds besides the slices a program writes.
#[derive(Clone, Copy)]
pub struct EnvParts<'a, F> {
    pub pre: &'a [F],
    pub t: F,
    pub step: F,
    pub dt: F,
    pub i: F,
    pub j: F,
    pub n: F,
    pub noise: Option<&'a Noise>,
}
