//! Brian2's generator syntax for `Synapses.connect(j=…)` and `connect(i=…)` (`rule =
//! "expression"` with `j` or `i`): `"k for k in range(i-3, i+4) if k != i"`, `"k for k in
//! sample(N_post, p=0.1)"`, `"k for k in sample(N_post, size=10)"`, or one per outer index
//! (`"2*i"`, `"i + 1 if i < 4"`). With `j`, for each pre-synaptic i in order (the outer
//! index), each value k of the iterator (`range` as Python's; `sample` keeping each value with
//! probability p, or `size` of them drawn without replacement) gives j = the expression (the
//! result index) where the `if` holds; j must be a whole number within the target (else
//! refused, or skipped with `skip_if_invalid`), and the pair is connected by n synapses. With
//! `i`, the same over each post-synaptic j, giving i. The iterator reads the outer index, its
//! side's variables (`x_pre` for `j`), N_pre, N_post and the namespace; the expression also
//! the loop variable; the `if` everything, the result index and its side's variables
//! (`x_post` for `j`) included: where it reads those variables, a result outside its
//! population is refused (or skipped) before the `if`, as in Brian2, which cannot read them
//! there. Brian2 refuses a `condition` or `p` beside a generator, and so does ganglion.

use super::expression::States;
use crate::equations::check::Scope;
use crate::equations::dims::Dim;
use crate::equations::ir::{fold, Node, Ref};
use crate::equations::lower::{eval, Lowering, Streams};
use crate::equations::neuron::is_condition;
use crate::equations::parse;
use crate::equations::synapse::neuron_name;
use crate::error::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The loop variable, as the compiled expressions read it: the generator's one temporary.
const LOOP: Ref = Ref::Temp(0);

/// Which index a generator runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    /// `connect(j=…)`: over the pre-synaptic i, giving j.
    Pre,
    /// `connect(i=…)`: over the post-synaptic j, giving i.
    Post,
}

impl Over {
    /// The outer index's name and the result's.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Over::Pre => ("i", "j"),
            Over::Post => ("j", "i"),
        }
    }

    /// `(a, b)` in the generator's orientation: the identity over i, swapped over j. So an
    /// outer index and its result give (i, j), and the populations' sizes (pre, post) give
    /// (outer, result).
    pub fn orient<T>(self, a: T, b: T) -> (T, T) {
        match self {
            Over::Pre => (a, b),
            Over::Post => (b, a),
        }
    }

    /// Whether `r` reads the result: its index or its side's variables.
    fn is_result(self, r: Ref) -> bool {
        match self {
            Over::Pre => matches!(r, Ref::J | Ref::Var(_)),
            Over::Post => matches!(r, Ref::I | Ref::Pre(_)),
        }
    }

    /// Whether `r` reads the result side's variables.
    fn is_result_variable(self, r: Ref) -> bool {
        match self {
            Over::Pre => matches!(r, Ref::Var(_)),
            Over::Post => matches!(r, Ref::Pre(_)),
        }
    }
}

/// A compiled generator.
#[derive(Clone, Debug)]
pub struct Generator {
    over: Over,
    target: Node,
    iterator: Option<Iterator>,
    condition: Option<Node>,
    /// The `if` reads the result side's variables: a result outside its population is
    /// refused or skipped before it.
    condition_reads_result: bool,
    skip_if_invalid: bool,
    dt: f64,
    /// The most values one outer index's iterator may run over: the generator visits at most
    /// `MAX_PAIRS` values in all, so that a range typed too long is refused, not run for hours.
    most_per_source: i64,
}

#[derive(Clone, Debug)]
struct Iterator {
    start: Node,
    stop: Node,
    step: Node,
    pick: Pick,
}

/// Which of the iterator's values are taken.
#[derive(Clone, Debug)]
enum Pick {
    /// `range`: every one.
    All,
    /// `sample(…, p=…)`: each with probability p.
    Probability(Node),
    /// `sample(…, size=…)`: this many, drawn without replacement, in order.
    Size(Node),
}

/// Why a pair could not be made: the message for key `connectivity.j` (or `.i`).
pub type Invalid = String;

impl Generator {
    /// `text` compiled against `scope` (`connect`'s: the synapse model's, with i, j, N_pre and
    /// N_post, without N), with the
    /// populations `ends` (their variables, where written as equations, and sizes), running
    /// `over` one index.
    pub fn compile(key: &str, text: &str, skip_if_invalid: bool, scope: &Scope, ends: super::expression::Ends, over: Over) -> Result<Generator> {
        let (pre, post, dt) = (ends.pre, ends.post, ends.dt);
        let result_name = over.names().1;
        let bad = |m: String| Error::config(key, m);
        let (element_text, variable, iterator_text, condition_text) = match split_word(text, "for") {
            // Brian2's `EXPR if COND`, one value per outer index.
            None => match split_word(text, "if") {
                Some((element, condition)) => (element, None, None, Some(condition)),
                None => (text, None, None, None),
            },
            Some((element, rest)) => {
                let (variable, rest) = split_word(rest, "in").ok_or_else(|| bad(format!("`{text}`: a generator reads `EXPR for VAR in range(…)` or `… in sample(…, p=… or size=…)`, with an optional `if CONDITION`")))?;
                let variable = variable.trim();
                if !crate::config::is_identifier(variable) || ["i", "j", "N_pre", "N_post"].contains(&variable) {
                    return Err(bad(format!("`{variable}` is not a name for the loop variable")));
                }
                let (iterator, condition) = match split_word(rest, "if") {
                    Some((iterator, condition)) => (iterator, Some(condition)),
                    None => (rest, None),
                };
                (element, Some(variable.to_string()), Some(iterator.trim()), condition)
            }
        };
        let mut scope = scope.clone();
        if let Some(v) = &variable {
            scope.symbols.insert(v.clone(), Dim::ONE);
        }
        let own = |name: &str| -> Option<Node> {
            match name {
                "N_pre" => Some(Node::c(ends.n_pre as f64)),
                "N_post" => Some(Node::c(ends.n_post as f64)),
                _ if variable.as_deref() == Some(name) => Some(Node::load(LOOP)),
                _ if name.ends_with("_pre") => neuron_name(name, pre?, pre?),
                // A plain name is the post-synaptic neuron's, as in Brian2's synapses.
                _ => neuron_name(name, post?, post?),
            }
        };
        // `part` lowered; `refuses` names what it may not read (the result, the loop variable).
        let lower = |part: &str, want_condition: bool, refuses: &[(&dyn Fn(Ref) -> bool, &str)]| -> Result<Node> {
            // Positions count from the part's start: the message names the part.
            let within = |e: &dyn std::fmt::Display| bad(format!("in `{}`: {e}", part.trim()));
            let e = parse::expression(part).map_err(|e| within(&e))?;
            super::expression::refuse_counts(&e).map_err(bad)?;
            let dim = scope.dim(&e).map_err(|e| within(&e))?;
            if !dim.is_dimensionless() || want_condition && !is_condition(&e) {
                return Err(bad(format!(
                    "`{}` must be {}; got a {dim} value",
                    part.trim(),
                    if want_condition { "a condition" } else { "a dimensionless number" }
                )));
            }
            let lowering = Lowering { scope: &scope, own: &own, random: true, tables: &[], dt };
            let node = fold(lowering.lower(&e, &mut Streams::default()).map_err(|e| within(&e))?);
            for (reads, what) in refuses {
                if reads_any(&node, reads) {
                    return Err(bad(format!("`{}` reads {what}, which is not known there", part.trim())));
                }
            }
            Ok(node)
        };
        let result_side = match over {
            Over::Pre => "the post-synaptic variables",
            Over::Post => "the pre-synaptic variables",
        };
        let result_message = format!("{result_name} or {result_side}");
        let reads_result = |r: Ref| over.is_result(r);
        let reads_loop = |r: Ref| r == LOOP;
        let loop_message = format!("the loop variable `{}`", variable.as_deref().unwrap_or("k"));
        let bounds: [(&dyn Fn(Ref) -> bool, &str); 2] = [(&reads_result, &result_message), (&reads_loop, &loop_message)];
        let iterator = iterator_text
            .map(|it| -> Result<Iterator> {
                let (name, args) = it
                    .strip_suffix(')')
                    .and_then(|s| s.split_once('('))
                    .ok_or_else(|| bad(format!("`{it}`: the generator iterates over range(…) or sample(…)")))?;
                let name = name.trim();
                if !["range", "sample"].contains(&name) {
                    return Err(bad(format!("`{name}`: the generator iterates over range(…) or sample(…)")));
                }
                let mut positional = Vec::new();
                let mut keywords = Vec::new();
                for arg in split_commas(args) {
                    match arg.split_once('=').filter(|(k, v)| crate::config::is_identifier(k.trim()) && !v.starts_with('=')) {
                        Some((k, v)) if name == "sample" && ["p", "size"].contains(&k.trim()) => keywords.push((k.trim(), lower(v, false, &bounds)?)),
                        Some((k, _)) => {
                            let takes = if name == "sample" { "p= or size=" } else { "no keywords" };
                            return Err(bad(format!("`{}=`: {name} takes {takes}", k.trim())));
                        }
                        None => positional.push(lower(arg, false, &bounds)?),
                    }
                }
                let (start, stop, step) = match positional.len() {
                    1 => (Node::c(0.0), positional[0].clone(), Node::c(1.0)),
                    2 => (positional[0].clone(), positional[1].clone(), Node::c(1.0)),
                    3 => (positional[0].clone(), positional[1].clone(), positional[2].clone()),
                    n => return Err(bad(format!("{name}(…) takes 1 to 3 bounds (start, stop, step), got {n}"))),
                };
                let pick = match (name, keywords.as_slice()) {
                    ("range", _) => Pick::All,
                    ("sample", [("p", p)]) => Pick::Probability(p.clone()),
                    ("sample", [("size", size)]) => Pick::Size(size.clone()),
                    _ => return Err(bad("sample(…) takes one of p= (the probability of keeping each value) or size= (how many values to draw)".into())),
                };
                Ok(Iterator { start, stop, step, pick })
            })
            .transpose()?;
        let element_refuses: [(&dyn Fn(Ref) -> bool, &str); 1] = [(&reads_result, &result_message)];
        let condition = condition_text.map(|c| lower(c, true, &[])).transpose()?;
        Ok(Generator {
            over,
            target: lower(element_text, false, &element_refuses)?,
            iterator,
            condition_reads_result: condition.as_ref().is_some_and(|c| reads_any(c, |r| over.is_result_variable(r))),
            condition,
            skip_if_invalid,
            dt,
            most_per_source: (super::expression::MAX_PAIRS / over.orient(ends.n_pre, ends.n_post).0.max(1)).max(1) as i64,
        })
    }

    /// Which index it runs over.
    pub fn over(&self) -> Over {
        self.over
    }

    /// Whether it reads the populations' variables (whose initial values it is then given).
    pub fn reads_neurons(&self) -> bool {
        self.nodes().any(|node| reads_any(node, |r| matches!(r, Ref::Pre(_) | Ref::Var(_))))
    }

    fn nodes(&self) -> impl std::iter::Iterator<Item = &Node> {
        let it = self.iterator.iter().flat_map(|it| {
            let pick = match &it.pick {
                Pick::All => None,
                Pick::Probability(node) | Pick::Size(node) => Some(node),
            };
            [&it.start, &it.stop, &it.step].into_iter().chain(pick)
        });
        [&self.target].into_iter().chain(&self.condition).chain(it)
    }

    /// The results (post-synaptic j for `Over::Pre`, pre-synaptic i for `Over::Post`) of outer
    /// index `outer`, in order (each once: `n` is the caller's), within `n_result`, drawing
    /// `sample`'s and the expressions' numbers from `rng`.
    pub fn targets(&self, outer: usize, n_result: usize, states: States, rng: &mut ChaCha8Rng) -> std::result::Result<Vec<u32>, Invalid> {
        let (outer_name, result_name) = self.over.names();
        // The result is NaN until known: only the `if` reads it, and its variables only once it
        // is checked to lie within its population.
        let value = |node: &Node, k: f64, result: f64, rng: &mut ChaCha8Rng| {
            let (i, j) = self.over.orient(outer as f64, result);
            let load = |r: Ref| match r {
                Ref::I => i,
                Ref::J => j,
                LOOP => k,
                Ref::Pre(v) => states.pre[v][i as usize],
                Ref::Var(v) => states.post[v][j as usize],
                Ref::Dt => self.dt,
                _ => 0.0,
            };
            eval(node, &load, &mut |normal| crate::equations::init::draw(rng, normal))
        };
        let whole = |x: f64, what: &str| -> std::result::Result<i64, Invalid> {
            if x.fract() == 0.0 && x.is_finite() {
                Ok(x as i64)
            } else {
                Err(format!("{what} is {x} for {outer_name} = {outer}, not a whole number"))
            }
        };
        let bound = |node: &Node, what: &str, rng: &mut ChaCha8Rng| whole(value(node, f64::NAN, f64::NAN, rng), what);
        let candidates: Vec<f64> = match &self.iterator {
            None => vec![0.0],
            Some(it) => {
                let start = bound(&it.start, "the range's start", rng)?;
                let stop = bound(&it.stop, "the range's stop", rng)?;
                let step = bound(&it.step, "the range's step", rng)?;
                if step == 0 {
                    return Err(format!("the range's step is 0 for {outer_name} = {outer}"));
                }
                let count = ((stop - start).saturating_add(step - step.signum()) / step).max(0);
                if count > self.most_per_source {
                    return Err(format!(
                        "the range for {outer_name} = {outer} runs over {count} values, more than {} for each {outer_name} (2^30 in all)",
                        self.most_per_source
                    ));
                }
                let at = |index: i64| (start + index * step) as f64;
                match &it.pick {
                    Pick::All => (0..count).map(at).collect(),
                    Pick::Probability(p) => {
                        let p = value(p, f64::NAN, f64::NAN, rng);
                        (0..count).filter(|_| rng.random::<f64>() < p).map(at).collect()
                    }
                    Pick::Size(size) => {
                        let mut size = bound(size, "sample's size", rng)?;
                        if count == 0 {
                            // Brian2 draws nothing from an empty range, whatever the size.
                            size = 0;
                        } else if size < 0 || size > count {
                            if !self.skip_if_invalid {
                                return Err(format!(
                                    "sample's size is {size} for {outer_name} = {outer}, {}; skip_if_invalid = true takes {}, as in Brian2",
                                    if size < 0 { "negative".to_string() } else { format!("more than the range's {count} values") },
                                    if size < 0 { "none" } else { "them all" }
                                ));
                            }
                            size = size.clamp(0, count);
                        }
                        let mut picked = rand::seq::index::sample(rng, count as usize, size as usize).into_vec();
                        picked.sort_unstable();
                        picked.into_iter().map(|index| at(index as i64)).collect()
                    }
                }
            }
        };
        let mut targets = Vec::new();
        for k in candidates {
            let result = value(&self.target, k, f64::NAN, rng);
            let holds = |rng: &mut ChaCha8Rng| self.condition.as_ref().is_none_or(|c| value(c, k, result, rng) != 0.0);
            if !self.condition_reads_result && !holds(rng) {
                continue;
            }
            let r = whole(result, result_name)?;
            if !(0..n_result as i64).contains(&r) {
                if self.skip_if_invalid {
                    continue;
                }
                return Err(format!(
                    "gives {result_name} = {r} for {outer_name} = {outer}, outside the {}'s 0 … {}{}; skip_if_invalid = true leaves such pairs out, as in Brian2",
                    if self.over == Over::Pre { "target" } else { "source" },
                    n_result as i64 - 1,
                    if self.condition_reads_result { " (before the `if`, which reads its variables)" } else { "" }
                ));
            }
            if self.condition_reads_result && !holds(rng) {
                continue;
            }
            targets.push(r as u32);
        }
        Ok(targets)
    }
}

/// Whether `node` reads any reference `which` picks.
fn reads_any(node: &Node, which: impl Fn(Ref) -> bool) -> bool {
    let mut found = false;
    node.visit(&mut |n| found |= matches!(n, Node::Load(r) if which(*r)));
    found
}

/// `text` split at the first `word` standing alone outside parentheses (`" for "`).
fn split_word<'a>(text: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 && text[at..].starts_with(word) => {
                let before = at == 0 || bytes[at - 1].is_ascii_whitespace();
                let after = bytes.get(at + word.len()).is_none_or(|b| b.is_ascii_whitespace());
                if before && after {
                    return Some((&text[..at], &text[at + word.len()..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `args` split at the commas outside parentheses.
fn split_commas(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut from) = (0i32, 0);
    for (at, c) in args.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&args[from..at]);
                from = at + 1;
            }
            _ => {}
        }
    }
    out.push(&args[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generators_parts_are_found_outside_parentheses() {
        assert_eq!(split_word("k for k in range(i-3, i+4) if k != i", "for"), Some(("k ", " k in range(i-3, i+4) if k != i")));
        assert_eq!(split_word(" k in range(forward, 3)", "in"), Some((" k ", " range(forward, 3)")));
        assert_eq!(split_word("index + 1", "in"), None);
        assert_eq!(split_commas("i - 3, clip(i, 0, 5), 2"), vec!["i - 3", " clip(i, 0, 5)", " 2"]);
    }
}
