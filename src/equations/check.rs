//! Dimension checking as Brian2 does it: every expression's dimension is inferred from its
//! names (the model's variables, its namespace, units, `t`, `dt`, `xi`) and checked where the
//! language requires agreement: both sides of `+`, `-` and comparisons, function arguments,
//! exponents, and each equation against its declared unit. A mismatch names the line, the
//! column and both dimensions.

use super::dims::Dim;
use super::parse::{Defines, Equation, Expr, Pos};
use super::quantities::{lookup, Quantity};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Div, Mul};

#[derive(Clone, Debug, PartialEq)]
pub struct DimError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for DimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

fn error<T>(pos: Pos, message: String) -> Result<T, DimError> {
    Err(DimError { pos, message })
}

/// What the names of a model mean: its own symbols with their dimensions, and its namespace
/// (constants with values). Units and `pi`, `e`, `inf` are known to every model.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub symbols: BTreeMap<String, Dim>,
    pub namespace: BTreeMap<String, Quantity>,
    /// Timed arrays: each one's dimension and columns (1: called with `(t)`, more: `(t, i)`).
    pub tables: BTreeMap<String, (Dim, usize)>,
}

/// What the checker knows of a value: its dimension, and its value where it is a constant
/// (needed for the exponent of a dimensioned power).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Checked {
    dim: Dim,
    constant: Option<f64>,
}

/// What `name` already is in the language, where a model may not take it for a variable or a
/// namespace constant (Brian2 refuses them too; taken, they would shadow or be shadowed
/// silently): a constant (`pi`, `e`, `inf`), a function (`exp`, `rand`), or a name the
/// simulator gives every model (`t`, `dt`, `i`, `j`, `N`, noise `xi`, refractoriness's).
pub fn taken(name: &str) -> Option<&'static str> {
    match name {
        "pi" | "e" | "inf" => Some("a constant"),
        "rand" | "randn" => Some("a function"),
        _ if super::ir::Func::from_name(name).is_some() => Some("a function"),
        "t" | "dt" | "i" | "j" | "N" | "xi" | "not_refractory" | "lastspike" => Some("a reserved name"),
        _ if name.starts_with("xi_") => Some("a reserved name"),
        _ => None,
    }
}

impl Scope {
    /// The scope of the built-in names: `t` and `dt` (second), `i` and `N` (dimensionless).
    pub fn with_builtins() -> Scope {
        let mut s = Scope::default();
        for (name, dim) in [
            ("t", Dim::SECOND),
            ("dt", Dim::SECOND),
            ("i", Dim::ONE),
            ("N", Dim::ONE),
        ] {
            s.symbols.insert(name.into(), dim);
        }
        s
    }

    fn name(&self, name: &str, pos: Pos) -> Result<Checked, DimError> {
        if let Some(d) = self.symbols.get(name) {
            return Ok(Checked {
                dim: *d,
                constant: None,
            });
        }
        // White noise: xi and xi_<anything>, dimension s^-1/2.
        if name == "xi" || name.starts_with("xi_") {
            return Ok(Checked {
                dim: Dim::SECOND.pow(-0.5).unwrap_or(Dim::ONE),
                constant: None,
            });
        }
        if let Some(q) = self.namespace.get(name).copied().or_else(|| lookup(name)) {
            return Ok(Checked {
                dim: q.dim,
                constant: Some(q.value),
            });
        }
        error(pos, format!("unknown name `{name}`"))
    }

    /// The dimension of `e`.
    pub fn dim(&self, e: &Expr) -> Result<Dim, DimError> {
        self.check(e).map(|c| c.dim)
    }

    fn same(
        &self,
        what: &str,
        a: &Expr,
        b: &Expr,
        pos: Pos,
    ) -> Result<(Checked, Checked), DimError> {
        let (x, y) = (self.check(a)?, self.check(b)?);
        if x.dim != y.dim {
            return error(
                pos,
                format!(
                    "the two sides of `{what}` have different dimensions: {} and {}",
                    x.dim, y.dim
                ),
            );
        }
        Ok((x, y))
    }

    fn check(&self, e: &Expr) -> Result<Checked, DimError> {
        let plain = |dim| Checked {
            dim,
            constant: None,
        };
        match e {
            Expr::Number(x, _) => Ok(Checked {
                dim: Dim::ONE,
                constant: Some(*x),
            }),
            Expr::Name(n, pos) => self.name(n, *pos),
            Expr::Unary("-", a, _) => {
                let c = self.check(a)?;
                Ok(Checked {
                    dim: c.dim,
                    constant: c.constant.map(|x| -x),
                })
            }
            Expr::Unary(_, a, pos) => {
                let c = self.check(a)?;
                if !c.dim.is_dimensionless() {
                    return error(*pos, format!("`not` needs a condition, got a {}", c.dim));
                }
                Ok(plain(Dim::ONE))
            }
            Expr::Binary(op @ ("+" | "-" | "%"), a, b, pos) => {
                let (x, y) = self.same(op, a, b, *pos)?;
                let constant = match (*op, x.constant, y.constant) {
                    ("+", Some(p), Some(q)) => Some(p + q),
                    ("-", Some(p), Some(q)) => Some(p - q),
                    _ => None,
                };
                Ok(Checked {
                    dim: x.dim,
                    constant,
                })
            }
            Expr::Binary(op @ ("<" | "<=" | ">" | ">=" | "==" | "!="), a, b, pos) => {
                self.same(op, a, b, *pos)?;
                Ok(plain(Dim::ONE))
            }
            Expr::Binary(op @ ("and" | "or"), a, b, pos) => {
                for side in [a, b] {
                    let d = self.dim(side)?;
                    if !d.is_dimensionless() {
                        return error(*pos, format!("`{op}` needs conditions, got a {d}"));
                    }
                }
                Ok(plain(Dim::ONE))
            }
            Expr::Binary("*", a, b, _) => {
                let (x, y) = (self.check(a)?, self.check(b)?);
                Ok(Checked {
                    dim: x.dim.mul(y.dim),
                    constant: x.constant.zip(y.constant).map(|(p, q)| p * q),
                })
            }
            Expr::Binary("/", a, b, _) => {
                let (x, y) = (self.check(a)?, self.check(b)?);
                Ok(Checked {
                    dim: x.dim.div(y.dim),
                    constant: x.constant.zip(y.constant).map(|(p, q)| p / q),
                })
            }
            Expr::Binary("//", a, b, pos) => {
                // Brian2's floor division, of dimensionless values only.
                let (x, y) = (self.check(a)?, self.check(b)?);
                if let Some(d) = [x.dim, y.dim].into_iter().find(|d| !d.is_dimensionless()) {
                    return error(*pos, format!("`//` (floor division) takes dimensionless values, as in Brian2; got a {d}"));
                }
                Ok(Checked {
                    dim: Dim::ONE,
                    constant: x.constant.zip(y.constant).map(|(p, q)| (p / q).floor()),
                })
            }
            Expr::Binary("**", a, b, pos) => {
                let (x, y) = (self.check(a)?, self.check(b)?);
                if !y.dim.is_dimensionless() {
                    return error(
                        *pos,
                        format!("an exponent must be dimensionless, got {}", y.dim),
                    );
                }
                if x.dim.is_dimensionless() {
                    return Ok(Checked {
                        dim: Dim::ONE,
                        constant: x.constant.zip(y.constant).map(|(p, q)| p.powf(q)),
                    });
                }
                let Some(p) = y.constant else {
                    return error(
                        *pos,
                        format!("a {} can only be raised to a constant power", x.dim),
                    );
                };
                match x.dim.pow(p) {
                    Some(dim) => Ok(Checked {
                        dim,
                        constant: x.constant.map(|v| v.powf(p)),
                    }),
                    None => error(
                        *pos,
                        format!("{} to the power {p} is not a dimension", x.dim),
                    ),
                }
            }
            Expr::Binary(op, _, _, pos) => error(*pos, format!("unknown operator `{op}`")),
            Expr::Call(f, args, pos) => self.call(f, args, *pos),
        }
    }

    fn call(&self, f: &str, args: &[Expr], pos: Pos) -> Result<Checked, DimError> {
        if let Some(&(dim, cols)) = self.tables.get(f) {
            let want = if cols > 1 { 2 } else { 1 };
            if args.len() != want {
                let form = if cols > 1 { "(t, i)" } else { "(t)" };
                return error(pos, format!("the timed array `{f}` is read as {f}{form}"));
            }
            let d = self.dim(&args[0])?;
            if d != Dim::SECOND {
                return error(args[0].pos(), format!("a timed array is read at a time, got a {d}"));
            }
            if let Some(i) = args.get(1) {
                let d = self.dim(i)?;
                if !d.is_dimensionless() {
                    return error(i.pos(), format!("a timed array's column is dimensionless, got a {d}"));
                }
            }
            return Ok(Checked {
                dim,
                constant: None,
            });
        }
        let n = |count: usize| {
            if args.len() == count {
                Ok(())
            } else {
                error(
                    pos,
                    format!("`{f}` takes {count} argument(s), got {}", args.len()),
                )
            }
        };
        let dimensionless = |k: usize| -> Result<(), DimError> {
            let d = self.dim(&args[k])?;
            if d.is_dimensionless() {
                Ok(())
            } else {
                error(
                    args[k].pos(),
                    format!("the argument of `{f}` must be dimensionless, got {d}"),
                )
            }
        };
        let plain = |dim| Checked {
            dim,
            constant: None,
        };
        match f {
            "exp" | "log" | "log10" | "sin" | "cos" | "tan" | "tanh" | "sinh" | "cosh"
            | "exprel" => {
                n(1)?;
                dimensionless(0)?;
                Ok(plain(Dim::ONE))
            }
            "sqrt" => {
                n(1)?;
                let d = self.dim(&args[0])?;
                match d.sqrt() {
                    Some(r) => Ok(plain(r)),
                    None => error(pos, format!("the square root of {d} is not a dimension")),
                }
            }
            "abs" | "floor" | "ceil" => {
                n(1)?;
                Ok(plain(self.dim(&args[0])?))
            }
            "sign" | "int" => {
                n(1)?;
                Ok(plain(Dim::ONE))
            }
            "clip" => {
                n(3)?;
                let d = self.dim(&args[0])?;
                for k in 1..3 {
                    let dk = self.dim(&args[k])?;
                    // A bound of 0 or ±inf fits any dimension, as in Brian2.
                    let any = self
                        .check(&args[k])?
                        .constant
                        .is_some_and(|c| c == 0.0 || c.is_infinite());
                    if dk != d && !any {
                        return error(
                            args[k].pos(),
                            format!("`clip`'s bound has dimension {dk}, its value {d}"),
                        );
                    }
                }
                Ok(plain(d))
            }
            "rand" | "randn" => {
                n(0)?;
                Ok(plain(Dim::ONE))
            }
            _ => error(pos, format!("unknown function `{f}`")),
        }
    }

    /// The value of a constant expression of numbers, units and this scope's namespace
    /// (`(1*ufarad*cm**-2) * area`).
    pub fn value(&self, e: &Expr) -> Result<Quantity, DimError> {
        let c = self.check(e)?;
        match c.constant {
            Some(value) => Ok(Quantity::new(value, c.dim)),
            None => error(
                e.start(),
                "expected a constant: numbers, units and namespace values".into(),
            ),
        }
    }

    /// The value and dimension of a unit written after an equation's colon (`volt`,
    /// `amp/metre**2`, `1`); `boolean` and `integer` are dimensionless.
    pub fn unit(&self, e: &Expr) -> Result<Quantity, DimError> {
        if let Expr::Name(n, _) = e {
            if n == "boolean" || n == "integer" {
                return Ok(Quantity::new(1.0, Dim::ONE));
            }
        }
        let units_only = Scope::default();
        let c = units_only.check(e)?;
        match c.constant {
            Some(value) => Ok(Quantity::new(value, c.dim)),
            None => error(
                e.pos(),
                "a unit must be made of unit names and numbers".into(),
            ),
        }
    }
}

/// Checks a model's equations: declares every defined name with its unit, then checks each
/// expression against it (a derivative's expression has the unit per second). Returns the
/// scope with the model's symbols.
pub fn check_equations(equations: &[Equation], mut scope: Scope) -> Result<Scope, DimError> {
    for eq in equations {
        let unit = scope.unit(&eq.unit)?;
        if unit.value != 1.0 {
            return error(
                eq.unit.pos(),
                format!(
                    "the unit of an equation must be unscaled (Brian2's rule): use the base unit of {}",
                    unit.dim
                ),
            );
        }
        let name = match &eq.defines {
            Defines::Derivative(n) | Defines::Subexpression(n) | Defines::Parameter(n) => n,
        };
        if scope.symbols.insert(name.clone(), unit.dim).is_some() {
            return error(eq.pos, format!("`{name}` is defined twice"));
        }
    }
    for eq in equations {
        let Some(expr) = &eq.expr else { continue };
        let declared = scope.unit(&eq.unit)?.dim;
        // A noise term σ·xi has the derivative's dimension too, since xi is in s^-1/2.
        let got = scope.dim(expr)?;
        let mismatch = match &eq.defines {
            Defines::Derivative(n) if got.mul(Dim::SECOND) != declared => Some(format!(
                "the right-hand side of d{n}/dt has dimension {} per second, but {declared} per second was declared",
                got.mul(Dim::SECOND)
            )),
            Defines::Subexpression(n) if got != declared => Some(format!(
                "the right-hand side of {n} has dimension {got}, but {declared} was declared"
            )),
            _ => None,
        };
        if let Some(message) = mismatch {
            return error(expr.start(), message);
        }
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::super::parse::{equations, expression};
    use super::*;

    fn scope_of(text: &str, namespace: &[(&str, &str)]) -> Result<Scope, String> {
        let mut scope = Scope::with_builtins();
        // In order: a value may use the ones before it.
        for (name, value) in namespace {
            let e = expression(value).unwrap();
            let q = scope.value(&e).map_err(|e| e.to_string())?;
            scope.namespace.insert(name.to_string(), q);
        }
        let eqs = equations(text).map_err(|e| e.to_string())?;
        check_equations(&eqs, scope).map_err(|e| e.to_string())
    }

    #[test]
    fn a_conductance_based_neuron_checks() {
        let s = scope_of(
            "dv/dt = (gl*(El - v) + ge*(Ee - v) + I)/Cm : volt (unless refractory)\n\
             dge/dt = -ge/taue : siemens\n\
             I : amp\n\
             m_inf = 1/(1 + exp(-(v + 40*mV)/(10*mV))) : 1\n",
            &[
                ("gl", "10*nS"),
                ("El", "-60*mV"),
                ("Ee", "0*mV"),
                ("Cm", "200*pF"),
                ("taue", "5*ms"),
            ],
        )
        .unwrap();
        assert_eq!(s.symbols["v"].to_string(), "volt");
        assert_eq!(s.symbols["ge"].to_string(), "siemens");
    }

    #[test]
    fn a_mismatch_names_the_line_and_both_dimensions() {
        let e = scope_of(
            "dv/dt = (El - v)/ms : volt\ndw/dt = v/ms : siemens\n",
            &[("El", "-60*mV")],
        )
        .unwrap_err();
        assert_eq!(
            e,
            "line 2, column 9: the right-hand side of dw/dt has dimension volt per second, \
             but siemens per second was declared"
        );
        let e = scope_of("dv/dt = (v + 1)/ms : volt\n", &[]).unwrap_err();
        assert!(e.contains("`+`") && e.contains("volt and 1"), "{e}");
        let e = scope_of("dv/dt = exp(v)/ms : volt\n", &[]).unwrap_err();
        assert!(
            e.contains("argument of `exp` must be dimensionless, got volt"),
            "{e}"
        );
        let e = scope_of("dv/dt = q/ms : volt\n", &[]).unwrap_err();
        assert!(e.contains("unknown name `q`"), "{e}");
        let e = scope_of("v : mV\n", &[]).unwrap_err();
        assert!(e.contains("unscaled") && e.contains("volt"), "{e}");
    }

    #[test]
    fn units_and_powers_as_brian2_has_them() {
        let area = expression("20000*umetre**2").unwrap();
        let q = Scope::default().unit(&area).unwrap();
        assert!((q.value - 2e-8).abs() < 1e-20);
        let cm = expression("(1*ufarad*cm**-2) * (20000*umetre**2)").unwrap();
        let q = Scope::default().unit(&cm).unwrap();
        assert_eq!(q.dim.to_string(), "farad");
        assert!((q.value - 2e-10).abs() < 1e-22, "{}", q.value);
        // White noise: sigma*sqrt(2/tau)*xi has the unit of v per second.
        scope_of(
            "dv/dt = -v/tau + sigma*sqrt(2/tau)*xi : volt\n",
            &[("tau", "10*ms"), ("sigma", "1*mV")],
        )
        .unwrap();
        let e = scope_of("dv/dt = v**x/ms : volt\nx : 1\n", &[]).unwrap_err();
        assert!(e.contains("constant power"), "{e}");
    }

    /// Brian2's COBAHH example (examples/COBAHH.py), its parameters and equations as written
    /// there.
    #[test]
    fn brian2s_cobahh_equations_check_unchanged() {
        let namespace = [
            ("area", "20000*umetre**2"),
            ("Cm", "(1*ufarad*cm**-2) * area"),
            ("gl", "(5e-5*siemens*cm**-2) * area"),
            ("El", "-60*mV"),
            ("EK", "-90*mV"),
            ("ENa", "50*mV"),
            ("g_na", "(100*msiemens*cm**-2) * area"),
            ("g_kd", "(30*msiemens*cm**-2) * area"),
            ("VT", "-63*mV"),
            ("taue", "5*ms"),
            ("taui", "10*ms"),
            ("Ee", "0*mV"),
            ("Ei", "-80*mV"),
        ];
        let equations = "
dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-
         g_na*(m*m*m)*h*(v-ENa)-
         g_kd*(n*n*n*n)*(v-EK))/Cm : volt
dm/dt = alpha_m*(1-m)-beta_m*m : 1
dn/dt = alpha_n*(1-n)-beta_n*n : 1
dh/dt = alpha_h*(1-h)-beta_h*h : 1
dge/dt = -ge*(1./taue) : siemens
dgi/dt = -gi*(1./taui) : siemens
alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
";
        let s = scope_of(equations, &namespace).unwrap();
        assert_eq!(s.symbols["alpha_m"].to_string(), "hertz");
        assert!((s.namespace["Cm"].value - 2e-10).abs() < 1e-22);
        assert_eq!(s.namespace["g_na"].dim.to_string(), "siemens");
        // Its threshold, as a condition.
        let threshold = expression("v>-20*mV").unwrap();
        assert!(s.dim(&threshold).unwrap().is_dimensionless());
    }
}
