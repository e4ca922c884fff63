//! The WGSL emitter of `ir` programs: the same operations in the same order as the CPU
//! evaluator (`cpu`), every value an f32 (conditions as 1.0 and 0.0).

use super::ir::{BinOp, Func, Node, Program, Ref, Target};

/// The WGSL names of the slots an expression reads.
pub struct Names<'a> {
    pub var: &'a dyn Fn(usize) -> String,
    pub pre: &'a dyn Fn(usize) -> String,
    pub syn: &'a dyn Fn(usize) -> String,
    /// The expressions of `i`, `j` and `N` (as f32).
    pub i: &'a str,
    pub j: &'a str,
    pub n: &'a str,
}

/// An f32 literal of `x` (rounded as the CPU's f32 evaluator rounds it).
pub fn literal(x: f64) -> String {
    let x = x as f32;
    if x.is_infinite() {
        return if x > 0.0 { "3.4028235e38f" } else { "(-3.4028235e38f)" }.into();
    }
    let s = format!("{:e}f", x.abs());
    if x.is_sign_negative() {
        format!("(-{s})")
    } else {
        s
    }
}

/// Past this many levels, a subtree is computed into a `let` of its own: naga's WGSL parser
/// refuses expressions nested 200 levels deep (the function's blocks included), and each node
/// here nests one level. A `let` changes no value: the same operations in the same order.
const MAX_WGSL_NESTING: usize = 64;

/// The `let`s that keep one statement's expressions within `MAX_WGSL_NESTING`, written before
/// it. `tag` keeps their names apart from other programs' in the same function.
pub struct Lets {
    tag: String,
    indent: String,
    count: usize,
    pub text: String,
}

impl Lets {
    pub fn new(tag: &str, indent: &str) -> Lets {
        Lets {
            tag: tag.into(),
            indent: indent.into(),
            count: 0,
            text: String::new(),
        }
    }

    fn hoist(&mut self, value: String) -> String {
        let name = format!("deep_{}_{}", self.tag, self.count);
        self.count += 1;
        self.text.push_str(&format!("{}let {name} = {value};\n", self.indent));
        name
    }
}

/// `n` as a WGSL expression, its deep subtrees (if any) computed into `lets`.
pub fn expr(n: &Node, names: &Names, lets: &mut Lets) -> String {
    nested(n, names, lets).0
}

/// `n` as WGSL and how many levels it nests.
fn nested(n: &Node, names: &Names, lets: &mut Lets) -> (String, usize) {
    let operand = |x: &Node, lets: &mut Lets| {
        let (text, levels) = nested(x, names, lets);
        if levels >= MAX_WGSL_NESTING {
            (lets.hoist(text), 1)
        } else {
            (text, levels)
        }
    };
    match n {
        Node::Const(x) => (literal(*x), 1),
        Node::Load(r) => (
            match *r {
                Ref::Var(k) => (names.var)(k),
                Ref::Pre(k) => (names.pre)(k),
                Ref::Syn(k) => (names.syn)(k),
                Ref::Temp(k) => format!("t{k}"),
                Ref::T => "t".into(),
                Ref::Step => "step_value()".into(),
                Ref::Dt => "DT".into(),
                Ref::I => names.i.into(),
                Ref::J => names.j.into(),
                Ref::N => names.n.into(),
                Ref::Count(c) => unreachable!("{c:?} is read on the host only (a synapse's init and delay)"),
            },
            1,
        ),
        Node::Normal(k) => (format!("draw_normal({k}u)"), 1),
        Node::Uniform(k) => (format!("draw_uniform({k}u)"), 1),
        // The instance's first element's draw: one for the group (each shader defines them).
        Node::GroupNormal(k) => (format!("draw_normal_group({k}u)"), 1),
        Node::GroupUniform(k) => (format!("draw_uniform_group({k}u)"), 1),
        Node::Neg(a) => {
            let (a, levels) = operand(a, lets);
            (format!("(-{a})"), levels + 1)
        }
        Node::Not(a) => {
            let (a, levels) = operand(a, lets);
            (format!("select(0.0, 1.0, {a} == 0.0)"), levels + 1)
        }
        Node::Bin(op, a, b) => {
            let ((a, la), (b, lb)) = (operand(a, lets), operand(b, lets));
            let cmp = |o: &str| format!("select(0.0, 1.0, {a} {o} {b})");
            let text = match op {
                BinOp::Add => format!("({a} + {b})"),
                BinOp::Sub => format!("({a} - {b})"),
                BinOp::Mul => format!("({a} * {b})"),
                BinOp::Div => format!("({a} / {b})"),
                BinOp::Pow => format!("power({a}, {b})"),
                BinOp::Mod => format!("modulo({a}, {b})"),
                BinOp::Lt => cmp("<"),
                BinOp::Le => cmp("<="),
                BinOp::Gt => cmp(">"),
                BinOp::Ge => cmp(">="),
                BinOp::Eq => cmp("=="),
                BinOp::Ne => cmp("!="),
                BinOp::And => format!("select(0.0, 1.0, {a} != 0.0 && {b} != 0.0)"),
                BinOp::Or => format!("select(0.0, 1.0, {a} != 0.0 || {b} != 0.0)"),
            };
            (text, la.max(lb) + 1)
        }
        Node::Table(t, r, c) => {
            let ((r, lr), (c, lc)) = (operand(r, lets), operand(c, lets));
            (
                format!("table_at({}u, {}u, {}u, {r}, {c})", t.offset, t.rows, t.cols),
                lr.max(lc) + 1,
            )
        }
        Node::Call(f, args) => {
            let args: Vec<(String, usize)> = args.iter().map(|x| operand(x, lets)).collect();
            let levels = args.iter().map(|a| a.1).max().unwrap_or(0) + 1;
            let a: Vec<&str> = args.iter().map(|a| a.0.as_str()).collect();
            let text = match f {
                Func::Clip => format!("min(max({}, {}), {})", a[0], a[1], a[2]),
                Func::Binomial => format!("binomial_inversion({})", a.join(", ")),
                Func::Select => format!("select({}, {}, {} != 0.0)", a[2], a[1], a[0]),
                f => format!("{}({})", function(*f), a[0]),
            };
            (text, levels)
        }
    }
}

fn function(f: Func) -> &'static str {
    match f {
        Func::Exp => "exp",
        Func::Log => "log",
        Func::Log10 => "log10",
        Func::Sqrt => "sqrt",
        Func::Sin => "sin",
        Func::Cos => "cos",
        Func::Tan => "tan",
        Func::Tanh => "tanh",
        Func::Sinh => "sinh",
        Func::Cosh => "cosh",
        Func::Abs => "abs",
        Func::Sign => "sign",
        Func::Floor => "floor",
        Func::Ceil => "ceil",
        Func::Int => "trunc",
        Func::Exprel => "exprel",
        Func::Clip => unreachable!("written as min/max"),
        Func::Binomial => unreachable!("written with its seven arguments"),
        Func::Select => unreachable!("written as WGSL's select"),
    }
}

/// The helper functions generated code may call.
pub const HELPERS: &str = "
// Brian2's exprel, (e^x − 1)/x: a series near 0, where the quotient loses its digits.
fn exprel(x: f32) -> f32 {
    if (abs(x) < 0.1) {
        return 1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0))));
    }
    return (exp(x) - 1.0) / x;
}

// Func::Binomial, as src/equations/cpu.rs's binomial_inversion: numpy's inversion from the one
// uniform u, stopping at the bound (mean + 10 sd).
fn binomial_inversion(u: f32, n: f32, p: f32, q: f32, qn: f32, bound: f32, reverse: f32) -> f32 {
    var x = 0.0;
    var px = qn;
    var v = u;
    loop {
        if (!(v > px)) {
            break;
        }
        x = x + 1.0;
        if (x > bound) {
            break;
        }
        v = v - px;
        px = ((n - x + 1.0) * p * px) / (x * q);
    }
    return select(x, n - x, reverse != 0.0);
}

// The step's number as a float (exact to 2^24 steps).
fn step_value() -> f32 {
    return f32(step_info.step_hi) * 4294967296.0 + f32(step_info.step_lo);
}

fn log10(x: f32) -> f32 {
    return log(x) * 0.4342944819032518;
}

// The CPU's powf: WGSL's pow is indeterminate for a negative base, where powf gives the signed
// power of a whole exponent and NaN for any other (so that the divergence check sees it).
fn power(a: f32, b: f32) -> f32 {
    if (a >= 0.0) {
        return pow(a, b);
    }
    if (b != floor(b)) {
        return bitcast<f32>(0x7fc00000u);
    }
    let m = pow(-a, b);
    return select(m, -m, b * 0.5 != floor(b * 0.5));
}

// Python's %: the sign of the divisor.
fn modulo(a: f32, b: f32) -> f32 {
    return a - b * floor(a / b);
}
";

/// The lookup of timed arrays in a neuron's model data (neuron_common.wgsl's `model_data`), as
/// `cpu::table_at`.
pub const TABLE_HELPER: &str = "
fn table_at(offset: u32, rows: u32, cols: u32, row: f32, col: f32) -> f32 {
    let r = u32(clamp(row, 0.0, f32(rows - 1u)));
    let c = u32(clamp(col, 0.0, f32(cols - 1u)));
    return bitcast<f32>(model_data[offset + r * cols + c]);
}
";

/// The statements of `p`, one per line at `indent`: temporaries as `let`, slots by `target`.
/// `tag` names the program's deep `let`s apart from other programs' in the same scope.
pub fn program(p: &Program, names: &Names, target: &dyn Fn(Target) -> String, indent: &str, tag: &str) -> String {
    let mut out = String::new();
    let mut lets = Lets::new(tag, indent);
    for s in &p.body {
        let value = expr(&s.value, names, &mut lets);
        out.push_str(&std::mem::take(&mut lets.text));
        match s.target {
            Target::Temp(k) => out.push_str(&format!("{indent}let t{k} = {value};\n")),
            t => out.push_str(&format!("{indent}{} = {value};\n", target(t))),
        }
    }
    out
}

/// The slots of kind `which` an expression or program reads.
pub fn reads(nodes: &[&Node], which: fn(Ref) -> Option<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    for n in nodes {
        n.visit(&mut |x| {
            if let Node::Load(r) = x {
                if let Some(k) = which(*r) {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
            }
        });
    }
    out.sort_unstable();
    out
}
