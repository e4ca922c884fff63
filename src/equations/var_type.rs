//! Brian2's integer and boolean variables (`c : integer`, `b : boolean`): what a variable of
//! each type stores, and which values a subexpression of each type may have.

use super::ir::{BinOp, Func, Node, Ref};
use super::parse::{Equation, Expr, Pos};

/// Brian2's type of a variable, from the unit after its colon (`c : integer`, `b : boolean`).
/// Every variable is kept as a float: an integer or boolean one holds what Brian2 would
/// store, converted wherever a value is stored into it (statements, `init`, inputs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VarType {
    #[default]
    Float,
    Integer,
    Boolean,
}

impl VarType {
    pub fn of(eq: &Equation) -> VarType {
        match &eq.unit {
            Expr::Name(n, _) if n == "integer" => VarType::Integer,
            Expr::Name(n, _) if n == "boolean" => VarType::Boolean,
            _ => VarType::Float,
        }
    }

    /// `value` as a variable of this type stores it: an integer truncated toward zero (as
    /// Brian2's numpy and C++ targets store a float into one), a boolean 1 where the value is
    /// not 0, else 0.
    pub fn stored(self, value: Node) -> Node {
        match self {
            VarType::Float => value,
            VarType::Integer => super::ir::fold(Node::Call(Func::Int, vec![value])),
            VarType::Boolean => Node::bin(BinOp::Ne, value, Node::c(0.0)),
        }
    }

    /// `stored`, of a value on the host (`init`).
    pub fn stored_value(self, x: f64) -> f64 {
        match self {
            VarType::Float => x,
            VarType::Integer => x.trunc(),
            VarType::Boolean => f64::from(u8::from(x != 0.0)),
        }
    }

    /// The narrowest type `node`'s values always have: boolean where it is a condition (or a
    /// boolean variable), integer where it is whole (integer arithmetic of whole values and
    /// variables, indices, `int`, `floor`, `ceil`), else float. `ty_of` gives each variable's.
    pub fn of_value(node: &Node, ty_of: &dyn Fn(Ref) -> VarType) -> VarType {
        use VarType::{Boolean, Float, Integer};
        let whole = |t: VarType| t != Float;
        let both = |a: &Node, b: &Node| whole(VarType::of_value(a, ty_of)) && whole(VarType::of_value(b, ty_of));
        match node {
            Node::Const(x) if x.fract() == 0.0 => Integer,
            Node::Load(r @ (Ref::Var(_) | Ref::Pre(_) | Ref::Syn(_))) => ty_of(*r),
            Node::Load(Ref::I | Ref::J | Ref::N | Ref::Count(_) | Ref::Step) => Integer,
            Node::Not(_) => Boolean,
            Node::Bin(op, _, _) if op.is_boolean() => Boolean,
            Node::Bin(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Mod, a, b) if both(a, b) => Integer,
            Node::Neg(a) if whole(VarType::of_value(a, ty_of)) => Integer,
            Node::Call(Func::Abs, args) if whole(VarType::of_value(&args[0], ty_of)) => Integer,
            Node::Call(Func::Int | Func::Floor | Func::Ceil | Func::Sign, _) => Integer,
            Node::Call(Func::Clip, args) if args.iter().all(|a| whole(VarType::of_value(a, ty_of))) => Integer,
            _ => Float,
        }
    }

    /// Whether subexpression `name` (at `pos`) of this declared type always has its value of
    /// `node`. Brian2 converts it only where its C++ targets declare it (its numpy target reads
    /// the expression as written), so a value it would convert is refused: the targets differ.
    pub fn holds(self, node: &Node, ty_of: &dyn Fn(Ref) -> VarType, name: &str, pos: Pos) -> std::result::Result<(), String> {
        let got = VarType::of_value(node, ty_of);
        match (self, got) {
            (VarType::Float, _) | (VarType::Integer, VarType::Integer | VarType::Boolean) | (VarType::Boolean, VarType::Boolean) => Ok(()),
            (VarType::Integer, _) => Err(format!(
                "{pos}: `{name}` is declared integer but its expression is not always whole (Brian2's numpy target would read it as written, its C++ targets truncated): write it with int(), floor() or ceil()"
            )),
            (VarType::Boolean, _) => Err(format!(
                "{pos}: `{name}` is declared boolean but its expression is not a condition (Brian2's numpy target would read it as written, its C++ targets as true where not 0): write a comparison such as `x != 0`"
            )),
        }
    }

    /// A differential equation's variable must be a float (Brian2's rule), `eq` at `pos`.
    pub fn differentiable(eq: &Equation, name: &str) -> std::result::Result<(), String> {
        let not = match VarType::of(eq) {
            VarType::Float => return Ok(()),
            VarType::Integer => "integer ones",
            VarType::Boolean => "boolean ones",
        };
        Err(format!("{}: d{name}/dt: differential equations define floating-point variables only, not {not}", eq.pos))
    }
}
