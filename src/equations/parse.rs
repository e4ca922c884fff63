//! Brian2's model language, parsed once into an AST: expressions (numbers, names, `+ - * / %`,
//! `**`, comparisons, `and`/`or`/`not`, function calls) and equation lines
//! (`dv/dt = expr : unit (flags)`, `name = expr : unit (flags)`, `name : unit (flags)`).
//! An expression may run over several lines (Brian2 allows it); an equation ends at the line
//! break after its unit and flags. `#` starts a comment. Every error names the line and
//! column.

use std::fmt;

/// Where something stands in the text, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    /// + - * / % ** ( ) , = : < <= > >= == != ;
    Op(&'static str),
    Newline,
    End,
}

const OPS: [&str; 19] = [
    "**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%", "(", ")", ",", "=", ":", "<", ">", ";",
];

fn lex(text: &str) -> Result<Vec<(Token, Pos)>, ParseError> {
    let mut out = Vec::new();
    for (l, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let pos = Pos {
                line: l + 1,
                column: i + 1,
            };
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
            {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                // An exponent: 1e-3, 2.5E4.
                if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                    let mut j = i + 1;
                    if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        i = j;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let s: String = chars[start..i].iter().collect();
                let x = s.parse::<f64>().map_err(|_| ParseError {
                    pos,
                    message: format!("`{s}` is not a number"),
                })?;
                out.push((Token::Number(x), pos));
            } else if c.is_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push((Token::Name(chars[start..i].iter().collect()), pos));
            } else if let Some(op) = OPS.iter().find(|op| {
                op.chars()
                    .enumerate()
                    .all(|(k, oc)| chars.get(i + k) == Some(&oc))
            }) {
                i += op.len();
                out.push((Token::Op(op), pos));
            } else {
                return Err(ParseError {
                    pos,
                    message: format!("unexpected character `{c}`"),
                });
            }
        }
        out.push((
            Token::Newline,
            Pos {
                line: l + 1,
                column: chars.len() + 1,
            },
        ));
    }
    let end = out.last().map_or(Pos { line: 1, column: 1 }, |t| t.1);
    out.push((Token::End, end));
    Ok(out)
}

/// An expression, each node with its position.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64, Pos),
    Name(String, Pos),
    Unary(&'static str, Box<Expr>, Pos),
    Binary(&'static str, Box<Expr>, Box<Expr>, Pos),
    Call(String, Vec<Expr>, Pos),
}

impl Expr {
    /// Where the expression starts in the text.
    pub fn start(&self) -> Pos {
        match self {
            Expr::Binary(_, a, _, _) => a.start(),
            e => e.pos(),
        }
    }

    /// Every name it reads (a call's arguments' included, not the function's), in order.
    pub fn names(&self) -> Vec<&str> {
        fn visit<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
            match e {
                Expr::Name(n, _) => out.push(n),
                Expr::Number(..) => {}
                Expr::Unary(_, a, _) => visit(a, out),
                Expr::Binary(_, a, b, _) => {
                    visit(a, out);
                    visit(b, out);
                }
                Expr::Call(_, args, _) => args.iter().for_each(|a| visit(a, out)),
            }
        }
        let mut out = Vec::new();
        visit(self, &mut out);
        out
    }

    /// The node's own position: an operator's, a call's name, a number or a name.
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Number(_, p)
            | Expr::Name(_, p)
            | Expr::Unary(_, _, p)
            | Expr::Binary(_, _, _, p)
            | Expr::Call(_, _, p) => *p,
        }
    }
}

/// What an equation line defines.
#[derive(Clone, Debug, PartialEq)]
pub enum Defines {
    /// `dx/dt = …`
    Derivative(String),
    /// `x = …`
    Subexpression(String),
    /// `x : unit`
    Parameter(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Equation {
    pub defines: Defines,
    pub expr: Option<Expr>,
    /// The unit after the colon, as written (an expression of unit names and numbers).
    pub unit: Expr,
    pub flags: Vec<String>,
    pub pos: Pos,
}

/// How many parentheses, calls, signs, `not`s and exponents may nest (Python's parser stops
/// at 200 nested parentheses): the parser recurses once per level.
const MAX_NESTING: usize = 200;

/// How many operations deep an expression may be (a sum of 1000 terms is 1000 deep): every
/// pass over the tree recurses once per level, on threads with stacks of 2 MiB.
const MAX_DEPTH: usize = 1000;

/// The depth of a tree no deeper than `MAX_DEPTH + 1`, which `built` keeps them to.
fn depth(e: &Expr) -> usize {
    match e {
        Expr::Number(..) | Expr::Name(..) => 1,
        Expr::Unary(_, a, _) => 1 + depth(a),
        Expr::Binary(_, a, b, _) => 1 + depth(a).max(depth(b)),
        Expr::Call(_, args, _) => 1 + args.iter().map(depth).max().unwrap_or(0),
    }
}

/// A node just built, refused when it is more than `MAX_DEPTH` operations deep.
fn built(e: Expr) -> Result<Expr, ParseError> {
    if depth(&e) > MAX_DEPTH {
        return Err(ParseError {
            pos: e.pos(),
            message: format!(
                "the expression is more than {MAX_DEPTH} operations deep: split it into subexpressions"
            ),
        });
    }
    Ok(e)
}

struct Parser {
    tokens: Vec<(Token, Pos)>,
    at: usize,
    /// The levels of nesting the parser stands in (see `MAX_NESTING`).
    nesting: usize,
    /// Inside an expression, line breaks are white space.
    skip_newlines: bool,
    /// A name followed by `(` is a call (not in a unit, where `(` starts the flags).
    calls: bool,
}

impl Parser {
    fn peek(&mut self) -> &(Token, Pos) {
        if self.skip_newlines {
            while self.tokens[self.at].0 == Token::Newline {
                self.at += 1;
            }
        }
        &self.tokens[self.at]
    }

    fn next(&mut self) -> (Token, Pos) {
        let t = self.peek().clone();
        if t.0 != Token::End {
            self.at += 1;
        }
        t
    }

    fn error<T>(&mut self, what: &str) -> Result<T, ParseError> {
        let (t, pos) = self.peek().clone();
        let found = match t {
            Token::Number(x) => format!("the number {x}"),
            Token::Name(n) => format!("`{n}`"),
            Token::Op(o) => format!("`{o}`"),
            Token::Newline => "the end of the line".into(),
            Token::End => "the end of the text".into(),
        };
        Err(ParseError {
            pos,
            message: format!("expected {what}, found {found}"),
        })
    }

    fn expect_op(&mut self, op: &'static str) -> Result<Pos, ParseError> {
        match self.peek().clone() {
            (Token::Op(o), pos) if o == op => {
                self.next();
                Ok(pos)
            }
            _ => self.error(&format!("`{op}`")),
        }
    }

    /// `parse` one level of nesting deeper (opened at `pos`), refused past `MAX_NESTING`.
    fn nested<T>(&mut self, pos: Pos, parse: impl FnOnce(&mut Parser) -> Result<T, ParseError>) -> Result<T, ParseError> {
        if self.nesting >= MAX_NESTING {
            return Err(ParseError {
                pos,
                message: format!(
                    "more than {MAX_NESTING} parentheses, calls, signs or powers nested in one expression"
                ),
            });
        }
        self.nesting += 1;
        let out = parse(self);
        self.nesting -= 1;
        out
    }

    fn is_op(&mut self, op: &str) -> bool {
        matches!(&self.peek().0, Token::Op(o) if *o == op)
    }

    fn is_name(&mut self, name: &str) -> bool {
        matches!(&self.peek().0, Token::Name(n) if n == name)
    }

    /// Precedence climbing: or < and < not < comparisons < + - < * / % < unary - < **.
    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.is_name("or") {
            let pos = self.next().1;
            left = built(Expr::Binary("or", Box::new(left), Box::new(self.and()?), pos))?;
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.is_name("and") {
            let pos = self.next().1;
            left = built(Expr::Binary("and", Box::new(left), Box::new(self.not()?), pos))?;
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.is_name("not") {
            let pos = self.next().1;
            let inner = self.nested(pos, Parser::not)?;
            return built(Expr::Unary("not", Box::new(inner), pos));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.sum()?;
        for op in ["<", "<=", ">", ">=", "==", "!="] {
            if self.is_op(op) {
                let pos = self.next().1;
                let op = OPS.iter().find(|o| **o == op).copied().unwrap_or("==");
                return built(Expr::Binary(op, Box::new(left), Box::new(self.sum()?), pos));
            }
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = if self.is_op("+") {
                "+"
            } else if self.is_op("-") {
                "-"
            } else {
                return Ok(left);
            };
            let pos = self.next().1;
            left = built(Expr::Binary(op, Box::new(left), Box::new(self.product()?), pos))?;
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = ["*", "//", "/", "%"].into_iter().find(|op| self.is_op(op));
            let Some(op) = op else { return Ok(left) };
            let pos = self.next().1;
            left = built(Expr::Binary(op, Box::new(left), Box::new(self.unary()?), pos))?;
        }
    }

    /// `-x**2` is `-(x**2)`, as in Python.
    fn unary(&mut self) -> Result<Expr, ParseError> {
        for op in ["-", "+"] {
            if self.is_op(op) {
                let pos = self.next().1;
                let inner = self.nested(pos, Parser::unary)?;
                return if op == "-" {
                    built(Expr::Unary("-", Box::new(inner), pos))
                } else {
                    Ok(inner)
                };
            }
        }
        self.power()
    }

    /// `**` is right-associative and its exponent may be negative: `cm**-2`.
    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.atom()?;
        if self.is_op("**") {
            let pos = self.next().1;
            let exponent = self.nested(pos, Parser::unary)?;
            return built(Expr::Binary("**", Box::new(base), Box::new(exponent), pos));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek().clone() {
            (Token::Number(x), pos) => {
                self.next();
                Ok(Expr::Number(x, pos))
            }
            (Token::Name(name), pos) => {
                self.next();
                if self.calls && self.is_op("(") {
                    self.next();
                    let mut args = Vec::new();
                    if !self.is_op(")") {
                        loop {
                            args.push(self.nested(pos, Parser::expr)?);
                            if self.is_op(",") {
                                self.next();
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect_op(")")?;
                    return built(Expr::Call(name, args, pos));
                }
                Ok(Expr::Name(name, pos))
            }
            (Token::Op("("), pos) => {
                self.next();
                let inner = self.nested(pos, Parser::expr)?;
                self.expect_op(")")?;
                Ok(inner)
            }
            _ => self.error("a number, a name or `(`"),
        }
    }

    fn name(&mut self) -> Result<(String, Pos), ParseError> {
        match self.peek().clone() {
            (Token::Name(n), pos) => {
                self.next();
                Ok((n, pos))
            }
            _ => self.error("a name"),
        }
    }

    /// One equation line (the parser stands at its first token).
    fn equation(&mut self) -> Result<Equation, ParseError> {
        let (first, pos) = self.name()?;
        // dx/dt: a name starting with d, `/`, `dt`.
        let defines = if self.is_op("/") && first.len() > 1 && first.starts_with('d') {
            self.next();
            let (dt, dt_pos) = self.name()?;
            if dt != "dt" {
                return Err(ParseError {
                    pos: dt_pos,
                    message: format!("expected `dt` in `{first}/dt`, found `{dt}`"),
                });
            }
            Some(Defines::Derivative(first[1..].to_string()))
        } else {
            None
        };
        let (defines, expr) = if self.is_op("=") {
            self.next();
            self.skip_newlines = true;
            let e = self.expr()?;
            (defines.unwrap_or(Defines::Subexpression(first)), Some(e))
        } else if defines.is_some() {
            return self.error("`=` after the derivative");
        } else {
            (Defines::Parameter(first), None)
        };
        self.skip_newlines = true;
        self.expect_op(":")?;
        // The unit and the flags stay on the colon's line.
        self.skip_newlines = false;
        let unit = self.product_of_units()?;
        let mut flags = Vec::new();
        if self.is_op("(") {
            self.next();
            loop {
                flags.push(self.flag()?);
                if self.is_op(",") {
                    self.next();
                } else {
                    break;
                }
            }
            self.expect_op(")")?;
        }
        match self.peek().0 {
            Token::Newline | Token::End => {}
            _ => return self.error("the end of the equation"),
        }
        Ok(Equation {
            defines,
            expr,
            unit,
            flags,
            pos,
        })
    }

    /// A flag: a name, two (`unless refractory`), or hyphenated (`event-driven`).
    fn flag(&mut self) -> Result<String, ParseError> {
        let (mut flag, _) = self.name()?;
        loop {
            match self.peek().clone() {
                (Token::Name(more), _) => {
                    self.next();
                    flag = format!("{flag} {more}");
                }
                (Token::Op("-"), _) => {
                    self.next();
                    let (more, _) = self.name()?;
                    flag = format!("{flag}-{more}");
                }
                _ => return Ok(flag),
            }
        }
    }

    /// A unit: products, quotients and powers of unit names and numbers (`amp/metre**2`).
    fn product_of_units(&mut self) -> Result<Expr, ParseError> {
        self.calls = false;
        let unit = self.product();
        self.calls = true;
        unit
    }
}

/// An expression alone (a threshold, a rate, a namespace value).
pub fn expression(text: &str) -> Result<Expr, ParseError> {
    let mut p = Parser {
        tokens: lex(text)?,
        at: 0,
        nesting: 0,
        skip_newlines: true,
        calls: true,
    };
    let e = p.expr()?;
    match p.peek().0 {
        Token::End => Ok(e),
        _ => p.error("the end of the expression"),
    }
}

/// One item per non-blank line of `text`, each read by `item`; where `semicolons`, a `;` ends an
/// item as a line break does.
fn lines<T>(
    text: &str,
    semicolons: bool,
    item: impl Fn(&mut Parser) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let mut p = Parser {
        tokens: lex(text)?,
        at: 0,
        nesting: 0,
        skip_newlines: false,
        calls: true,
    };
    let mut out = Vec::new();
    loop {
        p.skip_newlines = false;
        while p.peek().0 == Token::Newline || (semicolons && p.peek().0 == Token::Op(";")) {
            p.next();
        }
        if p.peek().0 == Token::End {
            return Ok(out);
        }
        out.push(item(&mut p)?);
    }
}

/// Every equation of a model's `equations` text.
pub fn equations(text: &str) -> Result<Vec<Equation>, ParseError> {
    lines(text, false, Parser::equation)
}

/// A statement of a reset or an `on_pre` block: `name = expr`, `name += expr` (also `-=`,
/// `*=`, `/=`), one per line or several separated by `;` (Brian2 splits a block at both).
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub target: String,
    /// `=`, `+=`, `-=`, `*=`, `/=`, `//=`, `%=` or `**=`.
    pub op: &'static str,
    pub expr: Expr,
    pub pos: Pos,
}

/// Every statement of a block.
pub fn statements(text: &str) -> Result<Vec<Statement>, ParseError> {
    lines(text, true, Parser::statement)
}

impl Parser {
    /// `name op expr` up to the end of its line.
    fn statement(&mut self) -> Result<Statement, ParseError> {
        let (target, pos) = self.name()?;
        let op = if self.is_op("=") {
            "="
        } else {
            let compound = ["+", "-", "*", "/", "//", "%", "**"].into_iter().find(|op| self.is_op(op));
            let Some(op) = compound else {
                return self.error("`=`, `+=`, `-=`, `*=`, `/=`, `//=`, `%=` or `**=`");
            };
            self.next();
            if !self.is_op("=") {
                return self.error("`=`");
            }
            match op {
                "+" => "+=",
                "-" => "-=",
                "*" => "*=",
                "/" => "/=",
                "//" => "//=",
                "%" => "%=",
                _ => "**=",
            }
        };
        self.next();
        let expr = self.expr()?;
        match self.peek().0 {
            Token::Newline | Token::End | Token::Op(";") => {}
            _ => return self.error("the end of the statement"),
        }
        Ok(Statement { target, op, expr, pos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match e {
            Expr::Number(x, _) => format!("{x}"),
            Expr::Name(n, _) => n.clone(),
            Expr::Unary(op, a, _) => format!("({op} {})", show(a)),
            Expr::Binary(op, a, b, _) => format!("({} {op} {})", show(a), show(b)),
            Expr::Call(f, args, _) => {
                format!(
                    "{f}({})",
                    args.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    #[test]
    fn precedence_is_pythons() {
        for (text, tree) in [
            ("1 + 2*3", "(1 + (2 * 3))"),
            ("-x**2", "(- (x ** 2))"),
            ("2**-1", "(2 ** (- 1))"),
            ("a**b**c", "(a ** (b ** c))"),
            ("v > 0*mV and not x", "((v > (0 * mV)) and (not x))"),
            ("exp(-(v+40)/10) / ms", "(exp(((- (v + 40)) / 10)) / ms)"),
            ("clip(w + A, 0, gmax)", "clip((w + A), 0, gmax)"),
            ("1.5e-3 + .5", "(0.0015 + 0.5)"),
        ] {
            assert_eq!(show(&expression(text).unwrap()), tree, "{text}");
        }
    }

    #[test]
    fn equations_of_each_kind_with_units_flags_and_continued_lines() {
        let eqs = equations(
            "# a comment\n\
             dv/dt = (gl*(El-v) +\n    ge*(Ee-v))/Cm : volt (unless refractory)\n\
             alpha_m = 0.32/ms : Hz\n\
             I : amp/metre**2  # per area\n\
             \n\
             dge/dt = -ge/taue : siemens\n",
        )
        .unwrap();
        assert_eq!(eqs.len(), 4);
        assert_eq!(eqs[0].defines, Defines::Derivative("v".into()));
        assert_eq!(eqs[0].flags, vec!["unless refractory".to_string()]);
        assert_eq!(eqs[0].pos, Pos { line: 2, column: 1 });
        assert_eq!(show(&eqs[0].unit), "volt");
        assert_eq!(eqs[1].defines, Defines::Subexpression("alpha_m".into()));
        assert_eq!(eqs[2].defines, Defines::Parameter("I".into()));
        assert!(eqs[2].expr.is_none());
        assert_eq!(show(&eqs[2].unit), "(amp / (metre ** 2))");
        assert_eq!(eqs[3].defines, Defines::Derivative("ge".into()));
        assert_eq!(eqs[3].pos.line, 7);
    }

    #[test]
    fn nesting_and_depth_are_bounded_with_the_position_where_they_are_passed() {
        let nested = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
        assert!(expression(&nested(MAX_NESTING)).is_ok());
        let e = expression(&nested(MAX_NESTING + 1)).unwrap_err();
        assert_eq!(e.pos.column, MAX_NESTING + 1, "{e}");
        assert!(e.message.contains("nested"), "{e}");
        // Signs, exponents and calls nest as parentheses do, not as a stack overflow.
        for text in [
            format!("{}x", "-".repeat(100_000)),
            format!("{}1", "2**".repeat(100_000)),
            format!("{}x{}", "exp(".repeat(100_000), ")".repeat(100_000)),
            format!("{}x", "not ".repeat(100_000)),
        ] {
            let e = expression(&text).unwrap_err();
            assert!(e.message.contains("nested"), "{e}");
        }
        // A sum nests without parentheses: term k is k + 1 operations deep.
        let sum = |n: usize| format!("x{}", " + x".repeat(n));
        assert!(expression(&sum(MAX_DEPTH - 1)).is_ok());
        let e = equations(&format!("dv/dt = {} : 1\n", sum(100_000))).unwrap_err();
        assert_eq!(e.pos.line, 1);
        assert!(e.message.contains("operations deep"), "{e}");
    }

    #[test]
    fn semicolons_separate_statements_as_line_breaks_do_and_nothing_else() {
        let one_line = statements("v = 0; c += 1;\nw *= 2 ;; ").unwrap();
        let targets: Vec<_> = one_line.iter().map(|s| (s.target.as_str(), s.op, s.pos.line, s.pos.column)).collect();
        assert_eq!(targets, [("v", "=", 1, 1), ("c", "+=", 1, 8), ("w", "*=", 2, 1)]);
        // Brian2 splits a block at every `;`, so one inside parentheses ends nothing.
        let e = statements("v = (1; + 2)").unwrap_err();
        assert_eq!(e.pos.column, 7, "{e}");
        // Equations are one per line.
        assert!(equations("dv/dt = -v/tau : 1; x : 1").is_err());
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = equations("dv/dt = (1 + : volt\n").unwrap_err();
        assert_eq!(
            e.pos,
            Pos {
                line: 1,
                column: 14
            }
        );
        assert!(
            e.message.contains("expected a number, a name or `(`"),
            "{e}"
        );
        let e = equations("x : volt\ndv/dx = 1 : 1\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(e.message.contains("`dt`"), "{e}");
        let e = equations("v = 1 : volt extra\n").unwrap_err();
        assert!(e.to_string().starts_with("line 1, column 14"), "{e}");
        let e = expression("a $ b").unwrap_err();
        assert!(e.message.contains('$'), "{e}");
    }
}
