//! The CPU's fast path for a neuron model's update: the program compiled once into register
//! instructions, each run over a batch of neurons at a time (tight loops over arrays, the
//! interpretation paid once per batch rather than per neuron). The operations and their order
//! are those of the closures in `cpu` and of the WGSL, so the results are the same.

use super::ir::{BinOp, Func, Node, Program, Ref, Target};
use crate::model::Noise;
use crate::real::Real;

/// Neurons per batch: registers of 64 values keep a model's working set in the L1/L2 caches.
pub const BATCH: usize = 64;

#[derive(Clone, Copy, Debug)]
enum Op<F> {
    Const(usize, F),
    Load(usize, usize),
    Time(usize),
    Step(usize),
    Index(usize),
    /// The population's size (`N`).
    Size(usize),
    Normal(usize, u32),
    Uniform(usize, u32),
    /// The group's one draw (`Node::GroupNormal`, `GroupUniform`), in every lane.
    GroupNormal(usize, u32),
    GroupUniform(usize, u32),
    Neg(usize, usize),
    Not(usize, usize),
    Bin(BinOp, usize, usize, usize),
    BinConst(BinOp, usize, usize, F),
    ConstBin(BinOp, usize, F, usize),
    Call(Func, usize, usize),
    Clip(usize, usize, usize, usize),
    /// A timed array (index into the program's tables) at (row, column) registers.
    Table(usize, usize, usize, usize),
    Store(usize, usize),
    /// Synapse batches: a pre-synaptic neuron's variable (gathered through the column
    /// indices), a synapse's, the post-synaptic neuron's (the same for the whole row), the
    /// pre-synaptic index.
    LoadPre(usize, usize),
    LoadSyn(usize, usize),
    LoadPost(usize, usize),
    PreIndex(usize),
    /// A synapse's post-synaptic index (`j`).
    PostIndex(usize),
    /// Synapse batches: a synapse's variable written.
    StoreSyn(usize, usize),
}

/// What an instruction asks of the state (`BatchProgram::execute`'s caller).
#[derive(Clone, Copy, Debug)]
enum Access {
    Load(usize),
    Store(usize),
    Normal(usize),
    Uniform(usize),
    GroupNormal(usize),
    GroupUniform(usize),
    LoadPre(usize),
    LoadSyn(usize),
    LoadPost(usize),
    PreIndex,
    PostIndex,
    StoreSyn(usize),
}

/// A summed term of a common shape, summed in one fused loop rather than instruction by
/// instruction (the same additions in the same order).
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `x_pre`.
    Pre(usize),
    /// `x_pre * w` or `w * x_pre`, in the order written.
    PreTimesSyn(usize, usize, bool),
    General,
}

/// A program as register instructions over batches of neurons.
pub struct BatchProgram<F> {
    shape: Shape,
    ops: Vec<Op<F>>,
    tables: Vec<(Vec<F>, usize, usize)>,
    registers: usize,
    /// The register holding the threshold condition, where compiled with one.
    pub condition: Option<usize>,
    dt: F,
}

struct Builder<F> {
    ops: Vec<Op<F>>,
    next: usize,
    free: Vec<usize>,
    temps: Vec<Option<usize>>,
    /// Variables already loaded into a register (until a store to them).
    loaded: Vec<(usize, usize)>,
    dt: F,
    /// Compiling a summed term over a row of synapses rather than an update over neurons.
    synapses: bool,
    /// The timed arrays read: values, rows, columns.
    tables: Vec<(Vec<F>, usize, usize)>,
    table_names: Vec<String>,
}

impl<F: Real> Builder<F> {
    fn alloc(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        })
    }

    fn release(&mut self, r: usize, owned: bool) {
        if owned {
            self.free.push(r);
        }
    }

    /// The register holding `n`'s value, and whether it is a scratch register the caller
    /// frees (a temporary's register stays).
    fn expr(&mut self, n: &Node) -> (usize, bool) {
        match n {
            Node::Load(Ref::Temp(k)) => (self.temps[*k].expect("a temporary is set before use"), false),
            Node::Load(Ref::Var(k)) if !self.synapses => {
                if let Some(&(_, r)) = self.loaded.iter().find(|(v, _)| v == k) {
                    return (r, false);
                }
                let r = self.alloc();
                self.ops.push(Op::Load(r, *k));
                self.loaded.push((*k, r));
                (r, false)
            }
            _ => {
                let r = self.alloc();
                self.emit(n, r);
                (r, true)
            }
        }
    }

    fn emit(&mut self, n: &Node, out: usize) {
        match n {
            Node::Const(c) => self.ops.push(Op::Const(out, F::from_f64(*c))),
            Node::Load(r) => match *r {
                Ref::Var(k) if self.synapses => self.ops.push(Op::LoadPost(out, k)),
                Ref::Var(k) => self.ops.push(Op::Load(out, k)),
                Ref::Pre(k) => self.ops.push(Op::LoadPre(out, k)),
                Ref::Syn(k) => self.ops.push(Op::LoadSyn(out, k)),
                Ref::T => self.ops.push(Op::Time(out)),
                Ref::Step => self.ops.push(Op::Step(out)),
                Ref::Dt => self.ops.push(Op::Const(out, self.dt)),
                Ref::I if self.synapses => self.ops.push(Op::PreIndex(out)),
                Ref::J if self.synapses => self.ops.push(Op::PostIndex(out)),
                Ref::I | Ref::J => self.ops.push(Op::Index(out)),
                Ref::Temp(k) => {
                    let src = self.temps[k].expect("set before use");
                    self.ops.push(Op::BinConst(BinOp::Add, out, src, F::zero()));
                }
                Ref::N => self.ops.push(Op::Size(out)),
                Ref::Count(c) => unreachable!("{c:?} is read on the host only (a synapse's init and delay)"),
            },
            Node::Normal(k) => self.ops.push(Op::Normal(out, *k)),
            Node::Uniform(k) => self.ops.push(Op::Uniform(out, *k)),
            Node::GroupNormal(k) => self.ops.push(Op::GroupNormal(out, *k)),
            Node::GroupUniform(k) => self.ops.push(Op::GroupUniform(out, *k)),
            Node::Neg(a) => {
                let (ra, own) = self.expr(a);
                self.ops.push(Op::Neg(out, ra));
                self.release(ra, own);
            }
            Node::Not(a) => {
                let (ra, own) = self.expr(a);
                self.ops.push(Op::Not(out, ra));
                self.release(ra, own);
            }
            Node::Bin(op, a, b) if a.as_const().is_some() && b.as_const().is_none() => {
                let c = F::from_f64(a.as_const().expect("checked"));
                let (rb, own_b) = self.expr(b);
                self.ops.push(Op::ConstBin(*op, out, c, rb));
                self.release(rb, own_b);
            }
            Node::Bin(op, a, b) => {
                let (ra, own_a) = self.expr(a);
                if let Some(c) = b.as_const() {
                    self.ops.push(Op::BinConst(*op, out, ra, F::from_f64(c)));
                } else {
                    let (rb, own_b) = self.expr(b);
                    self.ops.push(Op::Bin(*op, out, ra, rb));
                    self.release(rb, own_b);
                }
                self.release(ra, own_a);
            }
            Node::Table(t, r, c) => {
                let index = match self.table_names.iter().position(|n| n == &t.name) {
                    Some(k) => k,
                    None => {
                        self.table_names.push(t.name.clone());
                        self.tables.push((t.values.iter().map(|&x| F::from_f64(x)).collect(), t.rows, t.cols));
                        self.tables.len() - 1
                    }
                };
                let (rr, own_r) = self.expr(r);
                let (rc, own_c) = self.expr(c);
                self.ops.push(Op::Table(out, index, rr, rc));
                self.release(rc, own_c);
                self.release(rr, own_r);
            }
            Node::Call(Func::Clip, args) => {
                let (x, ox) = self.expr(&args[0]);
                let (lo, olo) = self.expr(&args[1]);
                let (hi, ohi) = self.expr(&args[2]);
                self.ops.push(Op::Clip(out, x, lo, hi));
                self.release(hi, ohi);
                self.release(lo, olo);
                self.release(x, ox);
            }
            Node::Call(Func::Binomial | Func::Select, _) => unreachable!("PoissonInput's draw and subgroup run in a CpuProgram (after the synapses)"),
            Node::Call(f, args) => {
                let (ra, own) = self.expr(&args[0]);
                self.ops.push(Op::Call(*f, out, ra));
                self.release(ra, own);
            }
        }
    }
}

impl<F: Real> BatchProgram<F> {
    /// `p` followed, where given, by the evaluation of `condition` (the threshold).
    pub fn new(p: &Program, condition: Option<&Node>, dt: f64) -> Self {
        Self::compile(p, condition, dt, false)
    }

    /// A synapse's program (its clock-driven equations, a run_regularly) over batches of
    /// synapses (`run_synapses`): it reads the neurons' variables and writes the synapse's own.
    pub fn synapse_step(p: &Program, dt: f64) -> Self {
        Self::compile(p, None, dt, true)
    }

    fn compile(p: &Program, condition: Option<&Node>, dt: f64, synapses: bool) -> Self {
        let mut b = Builder {
            ops: Vec::new(),
            next: 0,
            free: Vec::new(),
            temps: vec![None; p.temps],
            loaded: Vec::new(),
            dt: F::from_f64(dt),
            synapses,
            tables: Vec::new(),
            table_names: Vec::new(),
        };
        for s in &p.body {
            match s.target {
                Target::Temp(k) => {
                    let r = b.alloc();
                    b.emit(&s.value, r);
                    b.temps[k] = Some(r);
                }
                Target::Var(k) => {
                    assert!(!synapses, "a synapse's step writes no neuron");
                    let (r, own) = b.expr(&s.value);
                    b.ops.push(Op::Store(k, r));
                    b.release(r, own);
                    // A later read of k sees the stored value: load it again.
                    if let Some(at) = b.loaded.iter().position(|(v, _)| *v == k) {
                        let (_, reg) = b.loaded.remove(at);
                        b.free.push(reg);
                    }
                }
                Target::Syn(k) => {
                    assert!(synapses, "a neuron's program writes no synapse");
                    let (r, own) = b.expr(&s.value);
                    b.ops.push(Op::StoreSyn(k, r));
                    b.release(r, own);
                }
            }
        }
        let condition = condition.map(|c| {
            let r = b.alloc();
            b.emit(c, r);
            r
        });
        BatchProgram {
            shape: Shape::General,
            tables: b.tables,
            ops: b.ops,
            registers: b.next,
            condition,
            dt: b.dt,
        }
    }

    /// `term` (over pre-synaptic, synaptic and post-synaptic slots) compiled to be summed
    /// over rows of synapses (`sum_row`).
    pub fn summing(term: &Node, dt: f64) -> Self {
        let mut b = Builder {
            ops: Vec::new(),
            next: 0,
            free: Vec::new(),
            temps: Vec::new(),
            loaded: Vec::new(),
            dt: F::from_f64(dt),
            synapses: true,
            tables: Vec::new(),
            table_names: Vec::new(),
        };
        let r = b.alloc();
        b.emit(term, r);
        let shape = match term {
            Node::Load(Ref::Pre(k)) => Shape::Pre(*k),
            Node::Bin(BinOp::Mul, a, c) => match (&**a, &**c) {
                (Node::Load(Ref::Pre(k)), Node::Load(Ref::Syn(m))) => Shape::PreTimesSyn(*k, *m, true),
                (Node::Load(Ref::Syn(m)), Node::Load(Ref::Pre(k))) => Shape::PreTimesSyn(*k, *m, false),
                _ => Shape::General,
            },
            _ => Shape::General,
        };
        BatchProgram {
            shape,
            tables: b.tables,
            ops: b.ops,
            registers: b.next,
            condition: Some(r),
            dt: b.dt,
        }
    }

    /// The pre-synaptic variables the term reads.
    pub fn pre_variables(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::LoadPre(_, k) => Some(*k),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Σ term over one post-synaptic neuron's synapses, in order: `cols` their pre-synaptic
    /// neurons, `pre[k]` the pre-synaptic population's variable k as one column (those
    /// `pre_variables` names: a gather from a column touches fewer cache lines than from
    /// whole neuron states), `syn` the synapses' variables (`syn_vars` each), `post` the
    /// neuron's variables and `ipost` its index; `draws`, where the term draws, the row's
    /// first synapse's random numbers at this step.
    #[allow(clippy::too_many_arguments)]
    pub fn sum_row(
        &self,
        pre: &[Vec<F>],
        cols: &[u32],
        syn: &[F],
        syn_vars: usize,
        post: &[F],
        ipost: usize,
        step: u64,
        draws: Option<&Noise>,
        regs: &mut Vec<[F; BATCH]>,
    ) -> F {
        let mut acc = F::zero();
        match self.shape {
            Shape::Pre(k) => {
                let column = &pre[k];
                for &j in cols {
                    acc = acc + column[j as usize];
                }
                return acc;
            }
            Shape::PreTimesSyn(k, m, pre_first) => {
                let column = &pre[k];
                for (i, &j) in cols.iter().enumerate() {
                    let (x, w) = (column[j as usize], syn[i * syn_vars + m]);
                    acc = acc + if pre_first { x * w } else { w * x };
                }
                return acc;
            }
            Shape::General => {}
        }
        let result = self.condition.expect("compiled by `summing`");
        for (c, cols) in cols.chunks(BATCH).enumerate() {
            let syn = &syn[c * BATCH * syn_vars..];
            let n = cols.len();
            // The batch's first synapse's draws.
            let batch = draws.map(|first| Noise {
                neuron: first.neuron + (c * BATCH) as u32,
                ..*first
            });
            let batch = || batch.as_ref().expect("a term that draws is given its synapses' draws");
            // Synapses read no `N` (`SynapseProgram::compile` refuses it).
            self.execute(n, step, ipost as f64, 0.0, regs, |op, r| match op {
                Access::LoadPre(k) => {
                    let column = &pre[k];
                    for (x, &j) in r[..n].iter_mut().zip(cols) {
                        *x = column[j as usize];
                    }
                }
                Access::LoadSyn(k) => {
                    for (i, x) in r[..n].iter_mut().enumerate() {
                        *x = syn[i * syn_vars + k];
                    }
                }
                Access::LoadPost(k) => r[..n].fill(post[k]),
                Access::PreIndex => {
                    for (x, &j) in r[..n].iter_mut().zip(cols) {
                        *x = F::from_f64(j as f64);
                    }
                }
                // The row's, one for the batch.
                Access::PostIndex => r[..n].fill(F::from_f64(ipost as f64)),
                Access::Normal(k) => draw_lanes(&mut r[..n], batch(), |at| at.normal(k as u32)),
                Access::Uniform(k) => draw_lanes(&mut r[..n], batch(), |at| at.uniform(k as u32)),
                _ => unreachable!("a summed term loads synapses, not neurons"),
            });
            for &x in &regs[result][..n] {
                acc = acc + x;
            }
        }
        acc
    }

    /// Runs a `synapse_step` program on a batch of `b.cols.len()` ≤ BATCH synapses.
    pub fn run_synapses(&self, b: SynapseBatch<F>, regs: &mut Vec<[F; BATCH]>) {
        let n = b.cols.len();
        debug_assert!(n <= BATCH && b.rows.len() == n);
        let draws = || b.draws.expect("a program that draws is given its draws");
        // Synapses read no `N` (`SynapseProgram::compile` refuses it).
        self.execute(n, b.step, 0.0, 0.0, regs, |op, r| match op {
            Access::LoadSyn(k) => {
                for (i, x) in r[..n].iter_mut().enumerate() {
                    *x = b.syn[i * b.syn_vars + k];
                }
            }
            Access::StoreSyn(k) => {
                for (i, x) in r[..n].iter().enumerate() {
                    b.syn[i * b.syn_vars + k] = *x;
                }
            }
            Access::LoadPre(k) => {
                for (x, &j) in r[..n].iter_mut().zip(b.cols) {
                    *x = b.pre[j as usize * b.pre_vars + k];
                }
            }
            Access::LoadPost(k) => {
                for (x, &i) in r[..n].iter_mut().zip(b.rows) {
                    *x = b.post[i as usize * b.post_vars + k];
                }
            }
            Access::PreIndex => {
                for (x, &j) in r[..n].iter_mut().zip(b.cols) {
                    *x = F::from_f64((j - b.firsts[0]) as f64);
                }
            }
            Access::PostIndex => {
                for (x, &i) in r[..n].iter_mut().zip(b.rows) {
                    *x = F::from_f64((i - b.firsts[1]) as f64);
                }
            }
            Access::Normal(k) => draw_lanes(&mut r[..n], draws(), |at| at.normal(k as u32)),
            Access::Uniform(k) => draw_lanes(&mut r[..n], draws(), |at| at.uniform(k as u32)),
            Access::GroupNormal(k) => r[..n].fill(group(draws()).normal(k as u32)),
            Access::GroupUniform(k) => r[..n].fill(group(draws()).uniform(k as u32)),
            Access::Load(_) | Access::Store(_) => unreachable!("a synapse's step loads and stores through its batch"),
        });
    }

    /// Runs the program on `n` ≤ BATCH neurons whose states are `xs` (`n_vars` each), the
    /// first of them neuron `noise.neuron`; the registers keep the condition.
    pub fn run(&self, xs: &mut [F], n_vars: usize, noise: &Noise, regs: &mut Vec<[F; BATCH]>) {
        let n = xs.len() / n_vars;
        debug_assert!(n <= BATCH);
        let first = noise.neuron as f64;
        // Loads and stores run here; the arithmetic in `execute`.
        self.execute(n, noise.step, first, noise.size as f64, regs, |op, r| match op {
            Access::Load(k) => {
                for (i, x) in r[..n].iter_mut().enumerate() {
                    *x = xs[i * n_vars + k];
                }
            }
            Access::Store(k) => {
                for (i, x) in r[..n].iter().enumerate() {
                    xs[i * n_vars + k] = *x;
                }
            }
            Access::Normal(k) => draw_lanes(&mut r[..n], noise, |at| at.normal(k as u32)),
            Access::Uniform(k) => draw_lanes(&mut r[..n], noise, |at| at.uniform(k as u32)),
            Access::GroupNormal(k) => r[..n].fill(group(noise).normal(k as u32)),
            Access::GroupUniform(k) => r[..n].fill(group(noise).uniform(k as u32)),
            _ => unreachable!("a neuron's update loads neurons, not synapses"),
        });
    }

    /// The instructions over `n` lanes: arithmetic here, every access to state through
    /// `access(what, register)` (a store reads its register, the others fill theirs).
    fn execute(
        &self,
        n: usize,
        step: u64,
        first_index: f64,
        size: f64,
        regs: &mut Vec<[F; BATCH]>,
        mut access: impl FnMut(Access, &mut [F; BATCH]),
    ) {
        if regs.len() < self.registers {
            regs.resize(self.registers, [F::zero(); BATCH]);
        }
        let t = F::from_f64(step as f64) * self.dt;
        let base = regs.as_mut_ptr();
        // An instruction's output register is never one of its inputs (the builder allocates
        // it before them), so the output may be borrowed mutably beside the inputs.
        let input = |r: usize| -> &[F; BATCH] { unsafe { &*base.add(r) } };
        let output = |r: usize| -> &mut [F; BATCH] { unsafe { &mut *base.add(r) } };
        for op in &self.ops {
            match *op {
                Op::Load(o, k) => access(Access::Load(k), output(o)),
                Op::Store(k, a) => access(Access::Store(k), output(a)),
                Op::Normal(o, k) => access(Access::Normal(k as usize), output(o)),
                Op::Uniform(o, k) => access(Access::Uniform(k as usize), output(o)),
                Op::GroupNormal(o, k) => access(Access::GroupNormal(k as usize), output(o)),
                Op::GroupUniform(o, k) => access(Access::GroupUniform(k as usize), output(o)),
                Op::LoadPre(o, k) => access(Access::LoadPre(k), output(o)),
                Op::LoadSyn(o, k) => access(Access::LoadSyn(k), output(o)),
                Op::LoadPost(o, k) => access(Access::LoadPost(k), output(o)),
                Op::PreIndex(o) => access(Access::PreIndex, output(o)),
                Op::PostIndex(o) => access(Access::PostIndex, output(o)),
                Op::StoreSyn(k, a) => access(Access::StoreSyn(k), output(a)),
                Op::Const(o, c) => output(o)[..n].fill(c),
                Op::Time(o) => output(o)[..n].fill(t),
                Op::Step(o) => output(o)[..n].fill(F::from_f64(step as f64)),
                Op::Size(o) => output(o)[..n].fill(F::from_f64(size)),
                Op::Index(o) => {
                    for (i, x) in output(o)[..n].iter_mut().enumerate() {
                        *x = F::from_f64(first_index + i as f64);
                    }
                }
                Op::Neg(o, a) => {
                    debug_assert_ne!(o, a);
                    let (x, r) = (input(a), output(o));
                    for i in 0..n {
                        r[i] = -x[i];
                    }
                }
                Op::Not(o, a) => {
                    debug_assert_ne!(o, a);
                    let (x, r) = (input(a), output(o));
                    for i in 0..n {
                        r[i] = if x[i] == F::zero() { F::one() } else { F::zero() };
                    }
                }
                Op::Bin(op, o, a, b) => {
                    debug_assert!(o != a && o != b);
                    let (x, y, r) = (input(a), input(b), output(o));
                    binary(op, &x[..n], |i| y[i], &mut r[..n]);
                }
                Op::BinConst(op, o, a, c) => {
                    debug_assert_ne!(o, a);
                    let (x, r) = (input(a), output(o));
                    binary(op, &x[..n], |_| c, &mut r[..n]);
                }
                Op::ConstBin(op, o, c, b) => {
                    debug_assert_ne!(o, b);
                    let (y, r) = (input(b), output(o));
                    match op {
                        BinOp::Add => (0..n).for_each(|i| r[i] = c + y[i]),
                        BinOp::Sub => (0..n).for_each(|i| r[i] = c - y[i]),
                        BinOp::Mul => (0..n).for_each(|i| r[i] = c * y[i]),
                        BinOp::Div => (0..n).for_each(|i| r[i] = c / y[i]),
                        op => (0..n).for_each(|i| r[i] = super::cpu::apply(op, c, y[i])),
                    }
                }
                Op::Call(f, o, a) => {
                    debug_assert_ne!(o, a);
                    let (x, r) = (input(a), output(o));
                    if f == Func::Exp {
                        for i in 0..n {
                            r[i] = x[i].exp();
                        }
                    } else if f == Func::Exprel {
                        for i in 0..n {
                            r[i] = super::cpu::exprel(x[i]);
                        }
                    } else {
                        for i in 0..n {
                            r[i] = super::cpu::call(f, x[i]);
                        }
                    }
                }
                Op::Table(o, t, r, c) => {
                    let (values, rows, cols) = &self.tables[t];
                    let (x, y, out) = (input(r), input(c), output(o));
                    for i in 0..n {
                        out[i] = super::cpu::table_at(values, *rows, *cols, x[i], y[i]);
                    }
                }
                Op::Clip(o, a, lo, hi) => {
                    debug_assert!(o != a && o != lo && o != hi);
                    let (x, l, h, r) = (input(a), input(lo), input(hi), output(o));
                    for i in 0..n {
                        r[i] = x[i].max(l[i]).min(h[i]);
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn binary<F: Real>(op: BinOp, x: &[F], y: impl Fn(usize) -> F, out: &mut [F]) {
    let n = x.len();
    match op {
        BinOp::Add => (0..n).for_each(|i| out[i] = x[i] + y(i)),
        BinOp::Sub => (0..n).for_each(|i| out[i] = x[i] - y(i)),
        BinOp::Mul => (0..n).for_each(|i| out[i] = x[i] * y(i)),
        BinOp::Div => (0..n).for_each(|i| out[i] = x[i] / y(i)),
        op => (0..n).for_each(|i| out[i] = super::cpu::apply(op, x[i], y(i))),
    }
}

/// A batch of consecutive synapses for `BatchProgram::run_synapses`: their variables (`syn_vars`
/// each), their pre- and post-synaptic neurons (`cols`, `rows`) with those populations'
/// states (`pre_vars` and `post_vars` per neuron), the step, and the first synapse's draws.
pub struct SynapseBatch<'a, F> {
    pub syn: &'a mut [F],
    pub syn_vars: usize,
    pub cols: &'a [u32],
    pub rows: &'a [u32],
    pub pre: &'a [F],
    pub pre_vars: usize,
    pub post: &'a [F],
    pub post_vars: usize,
    pub step: u64,
    pub draws: Option<&'a Noise>,
    /// The first neurons of the source's and the target's spans (Brian2's subgroups), which
    /// `i` and `j` count from.
    pub firsts: [u32; 2],
}

/// Lane i's draw, for neuron (or synapse) `first.neuron + i`.
/// The draws of the group's first element (neuron or synapse 0): its one draw.
fn group(any: &Noise) -> Noise {
    Noise { neuron: 0, ..*any }
}

fn draw_lanes<F: Real>(lanes: &mut [F], first: &Noise, draw: impl Fn(&Noise) -> F) {
    for (i, x) in lanes.iter_mut().enumerate() {
        *x = draw(&Noise {
            neuron: first.neuron + i as u32,
            ..*first
        });
    }
}
