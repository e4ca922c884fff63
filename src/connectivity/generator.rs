//! Brian2's generator syntax for `Synapses.connect(j=…)` (`rule = "expression"` with `j`):
//! `"k for k in range(i-3, i+4) if k != i"`, `"k for k in sample(N_post, p=0.1)"`, or one
//! target per source (`"2*i"`). For each pre-synaptic i in order, each value k of the
//! iterator (`range` as Python's; `sample` keeping each with probability p) whose `if` holds
//! gives the post-synaptic j = the expression, which must be a whole number within the target
//! (else refused, or skipped with `skip_if_invalid`), connected by n synapses. Brian2 refuses a
//! `condition` or `p` beside it, and so does ganglion. The names are i, the loop variable,
//! N_pre, N_post, the synapse model's namespace and the pre-synaptic variables (`x_pre`).

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

/// A compiled generator. The loop variable is read as `Ref::J` (the generator has no j of its
/// own until the expression gives it).
#[derive(Clone, Debug)]
pub struct Generator {
    target: Node,
    iterator: Option<Iterator>,
    condition: Option<Node>,
    skip_if_invalid: bool,
    dt: f64,
    /// The most values one source's iterator may run over: the generator visits at most
    /// `MAX_PAIRS` values in all, so that a range typed too long is refused, not run for hours.
    most_per_source: i64,
}

#[derive(Clone, Debug)]
struct Iterator {
    start: Node,
    stop: Node,
    step: Node,
    /// `sample`'s probability of keeping each value (None: `range`, every value).
    p: Option<Node>,
}

/// Why a pair could not be made: the message for key `connectivity.j`.
pub type Invalid = String;

impl Generator {
    /// `text` compiled against `scope` (the synapse model's, with N_pre and N_post), with the
    /// populations `pre` (its variables, where written as equations) and sizes.
    pub fn compile(key: &str, text: &str, skip_if_invalid: bool, scope: &Scope, ends: super::expression::Ends) -> Result<Generator> {
        let (pre, n_pre, n_post, dt) = (ends.pre, ends.n_pre, ends.n_post, ends.dt);
        let bad = |m: String| Error::config(key, m);
        let (target_text, rest) = match split_word(text, "for") {
            Some((target, rest)) => (target, Some(rest)),
            None => (text, None),
        };
        let (variable, iterator_text, condition_text) = match rest {
            None => (None, None, None),
            Some(rest) => {
                let (variable, rest) = split_word(rest, "in").ok_or_else(|| bad(format!("`{text}`: a generator reads `EXPR for VAR in range(…)` or `… in sample(…, p=…)`, with an optional `if CONDITION`")))?;
                let variable = variable.trim();
                if !crate::config::is_identifier(variable) {
                    return Err(bad(format!("`{variable}` is not a name for the loop variable")));
                }
                let (iterator, condition) = match split_word(rest, "if") {
                    Some((iterator, condition)) => (iterator, Some(condition)),
                    None => (rest, None),
                };
                (Some(variable.to_string()), Some(iterator.trim()), condition)
            }
        };
        let mut scope = scope.clone();
        for name in ["j", "N"] {
            scope.symbols.remove(name);
        }
        if let Some(v) = &variable {
            scope.symbols.insert(v.clone(), Dim::ONE);
        }
        let own = |name: &str| -> Option<Node> {
            match name {
                "N_pre" => Some(Node::c(n_pre as f64)),
                "N_post" => Some(Node::c(n_post as f64)),
                _ if variable.as_deref() == Some(name) => Some(Node::load(Ref::J)),
                // Only the pre-synaptic variables: no j is known where they are read.
                _ if name.ends_with("_pre") => neuron_name(name, pre?, pre?),
                _ => None,
            }
        };
        let lower = |part: &str, want_condition: bool| -> Result<Node> {
            let e = parse::expression(part).map_err(|e| bad(e.to_string()))?;
            let dim = scope.dim(&e).map_err(|e| bad(e.to_string()))?;
            if !dim.is_dimensionless() || want_condition && !is_condition(&e) {
                return Err(bad(format!(
                    "`{}` must be {}; got a {dim} value",
                    part.trim(),
                    if want_condition { "a condition" } else { "a dimensionless number" }
                )));
            }
            let lowering = Lowering { scope: &scope, own: &own, random: true, tables: &[], dt };
            Ok(fold(lowering.lower(&e, &mut Streams::default()).map_err(|e| bad(e.to_string()))?))
        };
        let iterator = iterator_text
            .map(|it| -> Result<Iterator> {
                let (name, args) = it
                    .strip_suffix(')')
                    .and_then(|s| s.split_once('('))
                    .ok_or_else(|| bad(format!("`{it}`: the generator iterates over range(…) or sample(…)")))?;
                let mut positional = Vec::new();
                let mut p = None;
                for arg in split_commas(args) {
                    match arg.split_once('=').filter(|(k, _)| crate::config::is_identifier(k.trim())) {
                        Some((k, v)) if k.trim() == "p" && name.trim() == "sample" => p = Some(lower(v, false)?),
                        Some((k, _)) => return Err(bad(format!("`{}=`: {} takes {}", k.trim(), name.trim(), if name.trim() == "sample" { "p= (not size=)" } else { "no keywords" }))),
                        None => positional.push(lower(arg, false)?),
                    }
                }
                let (start, stop, step) = match positional.len() {
                    1 => (Node::c(0.0), positional[0].clone(), Node::c(1.0)),
                    2 => (positional[0].clone(), positional[1].clone(), Node::c(1.0)),
                    3 => (positional[0].clone(), positional[1].clone(), positional[2].clone()),
                    n => return Err(bad(format!("{}(…) takes 1 to 3 bounds (start, stop, step), got {n}", name.trim()))),
                };
                match (name.trim(), &p) {
                    ("range", _) => Ok(Iterator { start, stop, step, p: None }),
                    ("sample", Some(_)) => Ok(Iterator { start, stop, step, p }),
                    ("sample", None) => Err(bad("sample(…) needs p=, the probability of keeping each value".into())),
                    (other, _) => Err(bad(format!("`{other}`: the generator iterates over range(…) or sample(…)"))),
                }
            })
            .transpose()?;
        Ok(Generator {
            target: lower(target_text, false)?,
            iterator,
            condition: condition_text.map(|c| lower(c, true)).transpose()?,
            skip_if_invalid,
            dt,
            most_per_source: (super::expression::MAX_PAIRS / n_pre.max(1)).max(1) as i64,
        })
    }

    /// Whether it reads the pre-synaptic variables (whose initial values it is then given).
    pub fn reads_neurons(&self) -> bool {
        let it = self.iterator.iter().flat_map(|it| [&it.start, &it.stop, &it.step].into_iter().chain(&it.p));
        let mut found = false;
        for node in [&self.target].into_iter().chain(&self.condition).chain(it) {
            node.visit(&mut |n| found |= matches!(n, Node::Load(Ref::Pre(_))));
        }
        found
    }

    /// The post-synaptic neurons of pre-synaptic `i`, in order (each once: `n` is the
    /// caller's), drawing `sample`'s and the expressions' numbers from `rng`.
    pub fn targets(&self, i: usize, n_post: usize, states: States, rng: &mut ChaCha8Rng) -> std::result::Result<Vec<u32>, Invalid> {
        let value = |node: &Node, k: f64, rng: &mut ChaCha8Rng| {
            let load = |r: Ref| match r {
                Ref::I => i as f64,
                Ref::J => k,
                Ref::Pre(v) => states.pre[v][i],
                Ref::Dt => self.dt,
                _ => 0.0,
            };
            eval(node, &load, &mut |normal| crate::equations::init::draw(rng, normal))
        };
        let whole = |x: f64, what: &str| -> std::result::Result<i64, Invalid> {
            if x.fract() == 0.0 && x.is_finite() {
                Ok(x as i64)
            } else {
                Err(format!("{what} is {x} for i = {i}, not a whole number"))
            }
        };
        let candidates: Vec<f64> = match &self.iterator {
            None => vec![0.0],
            Some(it) => {
                let start = whole(value(&it.start, 0.0, rng), "the range's start")?;
                let stop = whole(value(&it.stop, 0.0, rng), "the range's stop")?;
                let step = whole(value(&it.step, 0.0, rng), "the range's step")?;
                if step == 0 {
                    return Err(format!("the range's step is 0 for i = {i}"));
                }
                let count = (stop - start).saturating_add(step - step.signum()) / step;
                if count > self.most_per_source {
                    return Err(format!(
                        "the range for i = {i} runs over {count} values, more than {} for each source (2^30 in all)",
                        self.most_per_source
                    ));
                }
                let mut out = Vec::new();
                let mut k = start;
                while (step > 0 && k < stop) || (step < 0 && k > stop) {
                    let keep = match &it.p {
                        None => true,
                        Some(p) => rng.random::<f64>() < value(p, k as f64, rng),
                    };
                    if keep {
                        out.push(k as f64);
                    }
                    k += step;
                }
                out
            }
        };
        let mut targets = Vec::new();
        for k in candidates {
            if let Some(c) = &self.condition {
                if value(c, k, rng) == 0.0 {
                    continue;
                }
            }
            let j = whole(value(&self.target, k, rng), "j")?;
            if !(0..n_post as i64).contains(&j) {
                if self.skip_if_invalid {
                    continue;
                }
                return Err(format!("gives j = {j} for i = {i}, outside the target's 0 … {}; skip_if_invalid = true leaves such pairs out, as in Brian2", n_post - 1));
            }
            targets.push(j as u32);
        }
        Ok(targets)
    }
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
