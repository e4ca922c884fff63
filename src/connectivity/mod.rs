//! Builds the CSR matrices of projections from the connectivity rules. Rows are targets
//! (post-synaptic neurons), columns sources, so a target's input is one contiguous row:
//! the layout both the CPU loop and the GPU's one-thread-per-row kernel read.

pub mod expression;
pub mod generator;

use crate::config::{Connectivity, WeightSpec};
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// One weight for every synapse of the projection: nothing per synapse to store or read.
    Uniform(f64),
    PerSynapse(Vec<f64>),
}

/// Each of `n_sources` sources' synapses among `cols` (synapses' sources, in their order):
/// pointers over the sources, and the synapses' positions in `cols`, each source's ascending.
pub fn synapses_by_source(cols: &[u32], n_sources: usize) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n_sources + 1];
    for &c in cols {
        start[c as usize + 1] += 1;
    }
    for k in 0..n_sources {
        start[k + 1] += start[k];
    }
    let mut next = start.clone();
    let mut ids = vec![0u32; cols.len()];
    for (s, &c) in cols.iter().enumerate() {
        ids[next[c as usize] as usize] = s as u32;
        next[c as usize] += 1;
    }
    (start, ids)
}

/// Compressed sparse rows: the sources of target i are `col_idx[row_ptr[i]..row_ptr[i+1]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Csr {
    pub n_rows: usize,
    pub n_cols: usize,
    pub row_ptr: Vec<u32>,
    pub col_idx: Vec<u32>,
    pub weights: Weights,
}

impl Csr {
    /// Its synapses, counted by the row pointers (a procedural matrix stores no sources).
    pub fn n_synapses(&self) -> usize {
        self.row_ptr.last().map_or(0, |&n| n as usize)
    }

    /// A subgroup's matrix (its rows the target group's neurons, its columns the source
    /// group's, each counted within its group) placed in its populations' matrix of `n_rows`
    /// by `n_cols`: its rows from `first_row` on, its columns from `first_col`, the other rows
    /// empty.
    pub fn placed(self, first_row: usize, n_rows: usize, first_col: usize, n_cols: usize) -> Csr {
        let end = self.n_synapses() as u32;
        let mut row_ptr = vec![0; first_row];
        row_ptr.extend_from_slice(&self.row_ptr);
        row_ptr.resize(n_rows + 1, end);
        let col_idx = self.col_idx.iter().map(|&c| c + first_col as u32).collect();
        Csr { n_rows, n_cols, row_ptr, col_idx, weights: self.weights }
    }

    pub fn weight(&self, k: usize) -> f64 {
        match &self.weights {
            Weights::Uniform(w) => *w,
            Weights::PerSynapse(ws) => ws[k],
        }
    }

    /// Each synapse's weight multiplied by its factor, `factors` in the matrix's order.
    pub fn scale_weights(&mut self, factors: &[f64]) {
        self.weights = Weights::PerSynapse(factors.iter().enumerate().map(|(k, f)| self.weight(k) * f).collect());
    }

    /// Rows `rows` alone, as a matrix of their own (pointers rebased): a part of a matrix cut
    /// to fit GPU bindings.
    pub fn rows(&self, rows: std::ops::Range<usize>) -> Csr {
        let base = self.row_ptr[rows.start];
        let entries = base as usize..self.row_ptr[rows.end] as usize;
        Csr {
            n_rows: rows.len(),
            n_cols: self.n_cols,
            row_ptr: self.row_ptr[rows.start..=rows.end].iter().map(|&p| p - base).collect(),
            col_idx: self.col_idx[entries.clone()].to_vec(),
            weights: match &self.weights {
                Weights::Uniform(w) => Weights::Uniform(*w),
                Weights::PerSynapse(ws) => Weights::PerSynapse(ws[entries].to_vec()),
            },
        }
    }

    /// `blocks` side by side on the diagonal (a batch's instances' matrices in one), their
    /// weights one per synapse unless every block has the same one.
    pub fn block_diagonal<'a>(blocks: impl Iterator<Item = &'a Csr> + Clone) -> Csr {
        let first = blocks.clone().next().expect("at least one block");
        let uniform = match &first.weights {
            Weights::Uniform(w) if blocks.clone().all(|b| b.weights == Weights::Uniform(*w)) => Some(*w),
            _ => None,
        };
        let mut row_ptr = vec![0u32];
        let (mut col_idx, mut weights) = (Vec::new(), Vec::new());
        let (mut n_rows, mut n_cols) = (0, 0);
        for b in blocks {
            let base = *row_ptr.last().expect("starts at 0");
            row_ptr.extend(b.row_ptr[1..].iter().map(|&p| base + p));
            col_idx.extend(b.col_idx.iter().map(|&c| c + n_cols as u32));
            if uniform.is_none() {
                weights.extend((0..b.n_synapses()).map(|s| b.weight(s)));
            }
            n_rows += b.n_rows;
            n_cols += b.n_cols;
        }
        Csr {
            n_rows,
            n_cols,
            row_ptr,
            col_idx,
            weights: uniform.map_or(Weights::PerSynapse(weights), Weights::Uniform),
        }
    }

    /// The same synapses with rows and columns swapped (rows by source), weights carried.
    pub fn transpose(&self) -> Csr {
        let mut counts = vec![0u32; self.n_cols + 1];
        for &c in &self.col_idx {
            counts[c as usize + 1] += 1;
        }
        for i in 0..self.n_cols {
            counts[i + 1] += counts[i];
        }
        let row_ptr = counts.clone();
        let mut next = counts;
        let mut col_idx = vec![0u32; self.col_idx.len()];
        let mut order = vec![0usize; self.col_idx.len()];
        // Rows are visited in order, so each transposed row comes out sorted.
        for row in 0..self.n_rows {
            for k in self.row_ptr[row] as usize..self.row_ptr[row + 1] as usize {
                let c = self.col_idx[k] as usize;
                let at = next[c] as usize;
                col_idx[at] = row as u32;
                order[at] = k;
                next[c] += 1;
            }
        }
        let weights = match &self.weights {
            Weights::Uniform(w) => Weights::Uniform(*w),
            Weights::PerSynapse(ws) => Weights::PerSynapse(order.iter().map(|&k| ws[k]).collect()),
        };
        Csr {
            n_rows: self.n_cols,
            n_cols: self.n_rows,
            row_ptr,
            col_idx,
            weights,
        }
    }

    fn from_rows(
        n_rows: usize,
        n_cols: usize,
        rows: Vec<Vec<u32>>,
        weights: Weights,
    ) -> Result<Csr> {
        let total: usize = rows.iter().map(|r| r.len()).sum();
        if total > u32::MAX as usize {
            return Err(Error::TooLarge(format!(
                "{total} synapses in one projection; at most {} fit 32-bit indices",
                u32::MAX
            )));
        }
        let mut row_ptr = Vec::with_capacity(n_rows + 1);
        row_ptr.push(0u32);
        let mut col_idx = Vec::with_capacity(total);
        for r in rows {
            col_idx.extend_from_slice(&r);
            row_ptr.push(col_idx.len() as u32);
        }
        Ok(Csr {
            n_rows,
            n_cols,
            row_ptr,
            col_idx,
            weights,
        })
    }
}

/// An independent, reproducible stream per (seed, projection, row): rows build in parallel and
/// the result does not depend on the thread count.
fn row_rng(seed: u64, projection: usize, row: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6a09_e667_f3bc_c908);
    rng.set_stream(((projection as u64) << 40) ^ row as u64);
    rng
}

/// The weight stream of a row: apart from the structure's, so that drawing weights leaves
/// the connectivity of a seed unchanged.
fn weight_rng(seed: u64, projection: usize, row: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x510e_527f_ade6_82d1);
    rng.set_stream(((projection as u64) << 40) ^ row as u64);
    rng
}

/// A projection's weight: one for all, or a distribution each synapse draws from.
#[derive(Clone, Copy, Debug)]
pub enum WeightDraw {
    Constant(f64),
    Uniform(rand_distr::Uniform<f64>),
    Normal(rand_distr::Normal<f64>),
}

impl WeightDraw {
    /// The draw `spec` asks for; an error naming key `at` where its bounds are not valid.
    pub fn new(at: &str, spec: &WeightSpec) -> Result<WeightDraw> {
        let bad = |e: &dyn std::fmt::Display| Error::config(at, e.to_string());
        Ok(match spec {
            WeightSpec::Constant(w) => WeightDraw::Constant(*w),
            WeightSpec::Uniform { uniform: [a, b] } => WeightDraw::Uniform(
                rand_distr::Uniform::new_inclusive(*a, *b).map_err(|e| bad(&e))?,
            ),
            WeightSpec::Normal { normal: [mean, sd] } => {
                WeightDraw::Normal(rand_distr::Normal::new(*mean, *sd).map_err(|e| bad(&e))?)
            }
        })
    }
}

/// One weight for all, or one drawn per synapse in row order.
fn draw_weights(draw: &WeightDraw, rows: &[Vec<u32>], seed: u64, projection: usize) -> Weights {
    use rand_distr::Distribution;
    let draw_row = |(i, row): (usize, &Vec<u32>)| -> Vec<f64> {
        let mut rng = weight_rng(seed, projection, i);
        match draw {
            WeightDraw::Constant(w) => vec![*w; row.len()],
            WeightDraw::Uniform(d) => (0..row.len()).map(|_| d.sample(&mut rng)).collect(),
            WeightDraw::Normal(d) => (0..row.len()).map(|_| d.sample(&mut rng)).collect(),
        }
    };
    match draw {
        WeightDraw::Constant(w) => Weights::Uniform(*w),
        _ => Weights::PerSynapse(
            rows.par_iter()
                .enumerate()
                .map(draw_row)
                .collect::<Vec<_>>()
                .concat(),
        ),
    }
}

/// Samples `k` distinct sources out of `n`, skipping `exclude` when given, sorted.
fn sample_distinct(rng: &mut ChaCha8Rng, n: usize, k: usize, exclude: Option<usize>) -> Vec<u32> {
    let pool = n - exclude.is_some() as usize;
    let mut picked: Vec<u32> = rand::seq::index::sample(rng, pool, k)
        .into_iter()
        .map(|j| match exclude {
            Some(x) if j >= x => (j + 1) as u32,
            _ => j as u32,
        })
        .collect();
    picked.sort_unstable();
    picked
}

/// Sources of one row connected with probability p each, by geometric skipping (O(p·n)).
fn bernoulli_row(rng: &mut ChaCha8Rng, n: usize, p: f64, exclude: Option<usize>) -> Vec<u32> {
    if p <= 0.0 {
        return Vec::new();
    }
    if p >= 1.0 {
        return (0..n as u32)
            .filter(|&j| Some(j as usize) != exclude)
            .collect();
    }
    // ln(1 − p) without rounding 1 − p to 1 when p is tiny (1e-300), which made the skips
    // infinite and their sum wrap around.
    let log_q = (-p).ln_1p();
    let mut out = Vec::new();
    let mut j: i64 = -1;
    loop {
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        let skip = (u.ln() / log_q).floor();
        if (j + 1) as f64 + skip >= n as f64 {
            break;
        }
        j += 1 + skip as i64;
        if Some(j as usize) != exclude {
            out.push(j as u32);
        }
    }
    out
}

pub fn build(
    rule: &Connectivity,
    n_src: usize,
    n_tgt: usize,
    weight: &WeightDraw,
    same_population: bool,
    seed: u64,
    projection: usize,
) -> Result<Csr> {
    let self_of = |i: usize, autapses: bool| (same_population && !autapses).then_some(i);
    let rows: Vec<Vec<u32>> = match rule {
        Connectivity::AllToAll { autapses } => (0..n_tgt)
            .into_par_iter()
            .map(|i| {
                (0..n_src as u32)
                    .filter(|&j| Some(j as usize) != self_of(i, *autapses))
                    .collect()
            })
            .collect(),
        Connectivity::OneToOne => (0..n_tgt as u32).map(|i| vec![i]).collect(),
        Connectivity::FixedProbability { p, autapses, .. } => (0..n_tgt)
            .into_par_iter()
            .map(|i| {
                bernoulli_row(
                    &mut row_rng(seed, projection, i),
                    n_src,
                    *p,
                    self_of(i, *autapses),
                )
            })
            .collect(),
        Connectivity::FixedIndegree { k, autapses, .. } => (0..n_tgt)
            .into_par_iter()
            .map(|i| {
                sample_distinct(
                    &mut row_rng(seed, projection, i),
                    n_src,
                    *k as usize,
                    self_of(i, *autapses),
                )
            })
            .collect(),
        Connectivity::Ring { k } => (0..n_tgt)
            .map(|i| {
                let mut r: Vec<u32> = (1..=*k as usize)
                    .map(|d| ((i + d) % n_src) as u32)
                    .collect();
                r.sort_unstable();
                r
            })
            .collect(),
        Connectivity::Explicit {
            pre,
            post,
            weight: Some(w),
        } => return Ok(from_pairs(n_src, n_tgt, pre, post, PairWeights::Given(w))?.0),
        Connectivity::Explicit { pre, post, weight: None } => pair_rows(n_tgt, pre, post, &pair_order(pre, post)),
        Connectivity::Expression { .. } => {
            return Err(Error::config(
                "connectivity",
                "an expression rule is built with its populations' variables (expression::ConnectExpression::build)",
            ))
        }
        Connectivity::Sonata { edges, .. } => {
            return Err(Error::config(
                "connectivity",
                format!("{}: a SONATA edges file is read when the config is validated (from_pairs)", edges.display()),
            ))
        }
    };
    let weights = draw_weights(weight, &rows, seed, projection);
    Csr::from_rows(n_tgt, n_src, rows, weights)
}

/// Synapse `s` of a list of pairs goes to position k of the matrix, for `order[k] = s`:
/// by target, then source (a stable sort, so repeated pairs keep their order).
fn pair_order(pre: &[u64], post: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pre.len()).collect();
    order.sort_by_key(|&s| (post[s], pre[s]));
    order
}

fn pair_rows(n_tgt: usize, pre: &[u64], post: &[u64], order: &[usize]) -> Vec<Vec<u32>> {
    let mut rows = vec![Vec::new(); n_tgt];
    for &s in order {
        rows[post[s] as usize].push(pre[s] as u32);
    }
    rows
}

/// The weights of synapses given as pairs.
pub enum PairWeights<'a> {
    /// One per pair, in the pairs' order.
    Given(&'a [f64]),
    /// Drawn as for any other rule (the projection's `weight`).
    Drawn { draw: &'a WeightDraw, seed: u64, projection: usize },
}

/// The matrix of synapses given as (pre, post) pairs (explicit lists, SONATA edges), and the
/// order that takes each pair's other values (edge attributes) to the matrix's:
/// `matrix[k] = pairs[order[k]]`. Indices are in range (validated).
pub fn from_pairs(n_src: usize, n_tgt: usize, pre: &[u64], post: &[u64], weights: PairWeights) -> Result<(Csr, Vec<usize>)> {
    let order = pair_order(pre, post);
    let rows = pair_rows(n_tgt, pre, post, &order);
    let weights = match weights {
        PairWeights::Given(w) => Weights::PerSynapse(order.iter().map(|&s| w[s]).collect()),
        PairWeights::Drawn { draw, seed, projection } => draw_weights(draw, &rows, seed, projection),
    };
    Ok((Csr::from_rows(n_tgt, n_src, rows, weights)?, order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_to_all_without_autapses_is_the_pair_matrix() {
        let c = build(
            &Connectivity::AllToAll { autapses: false },
            2,
            2,
            &WeightDraw::Constant(0.1),
            true,
            1,
            0,
        )
        .unwrap();
        assert_eq!(c.row_ptr, vec![0, 1, 2]);
        assert_eq!(c.col_idx, vec![1, 0]);
    }

    #[test]
    fn fixed_indegree_gives_k_distinct_non_self_sources() {
        let rule = Connectivity::FixedIndegree {
            k: 10,
            autapses: false,
            procedural: false,
        };
        let build_it = || build(&rule, 50, 50, &WeightDraw::Constant(1.0), true, 3, 0).unwrap();
        let c = build_it();
        for i in 0..50 {
            let row = &c.col_idx[c.row_ptr[i] as usize..c.row_ptr[i + 1] as usize];
            assert_eq!(row.len(), 10);
            assert!(row.windows(2).all(|w| w[0] < w[1]));
            assert!(!row.contains(&(i as u32)));
        }
        assert_eq!(c, build_it(), "same seed, same matrix");
    }

    #[test]
    fn fixed_probability_has_the_expected_density() {
        let c = build(
            &Connectivity::FixedProbability {
                p: 0.02,
                autapses: false,
                procedural: false,
            },
            2000,
            2000,
            &WeightDraw::Constant(1.0),
            true,
            5,
            1,
        )
        .unwrap();
        let expected = 0.02 * 2000.0 * 1999.0;
        let got = c.n_synapses() as f64;
        assert!(
            (got - expected).abs() < 4.0 * expected.sqrt(),
            "{got} vs {expected}"
        );
    }

    #[test]
    fn fixed_probability_draws_every_valid_source_and_none_at_the_smallest_p() {
        let draw = |p: f64| {
            let rule = Connectivity::FixedProbability {
                p,
                autapses: true,
                procedural: false,
            };
            build(&rule, 3000, 40, &WeightDraw::Constant(1.0), false, 7, 2).unwrap()
        };
        for p in [1e-300, f64::MIN_POSITIVE, 1e-17] {
            let c = draw(p);
            assert_eq!(c.n_synapses(), 0, "p = {p}");
            assert_eq!(c.transpose().n_synapses(), 0);
        }
        // Near 1 every row holds nearly every source, each once and in range.
        let c = draw(1.0 - 1e-12);
        assert_eq!(c.n_synapses(), 40 * 3000);
        assert!(c.col_idx.iter().all(|&j| (j as usize) < 3000));
    }

    #[test]
    fn transposing_twice_gives_the_matrix_back() {
        let rule = Connectivity::Explicit {
            pre: vec![1, 0, 2, 2],
            post: vec![0, 1, 0, 1],
            weight: Some(vec![0.5, 0.7, 0.9, 0.1]),
        };
        let c = build(&rule, 3, 2, &WeightDraw::Constant(1.0), false, 1, 0).unwrap();
        let t = c.transpose();
        assert_eq!(t.row_ptr, vec![0, 1, 2, 4]);
        assert_eq!(t.col_idx, vec![1, 0, 0, 1]);
        assert_eq!(t.weights, Weights::PerSynapse(vec![0.7, 0.5, 0.9, 0.1]));
        assert_eq!(t.transpose(), c);
    }

    #[test]
    fn drawn_weights_follow_their_distribution_and_leave_the_structure_alone() {
        let rule = Connectivity::FixedIndegree {
            k: 50,
            autapses: false,
            procedural: false,
        };
        let plain = build(&rule, 1000, 1000, &WeightDraw::Constant(1.0), true, 7, 2).unwrap();
        let drawn = build(
            &rule,
            1000,
            1000,
            &WeightDraw::new("w", &WeightSpec::Normal { normal: [0.5, 0.1] }).unwrap(),
            true,
            7,
            2,
        )
        .unwrap();
        assert_eq!(
            (&plain.row_ptr, &plain.col_idx),
            (&drawn.row_ptr, &drawn.col_idx)
        );
        let Weights::PerSynapse(w) = &drawn.weights else {
            panic!("one weight per synapse")
        };
        assert_eq!(w.len(), 50_000);
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64).sqrt();
        assert!(
            (mean - 0.5).abs() < 0.003 && (sd - 0.1).abs() < 0.003,
            "mean {mean} sd {sd}"
        );
        let again = build(
            &rule,
            1000,
            1000,
            &WeightDraw::new("w", &WeightSpec::Normal { normal: [0.5, 0.1] }).unwrap(),
            true,
            7,
            2,
        )
        .unwrap();
        assert_eq!(drawn, again);
        let u = build(
            &rule,
            1000,
            1000,
            &WeightDraw::new("w", &WeightSpec::Uniform { uniform: [0.2, 0.3] }).unwrap(),
            true,
            7,
            2,
        )
        .unwrap();
        let Weights::PerSynapse(w) = &u.weights else {
            panic!()
        };
        assert!(w.iter().all(|x| (0.2..=0.3).contains(x)));
    }

    #[test]
    fn explicit_keeps_weights_with_their_synapses() {
        let rule = Connectivity::Explicit {
            pre: vec![1, 0, 2],
            post: vec![0, 1, 0],
            weight: Some(vec![0.5, 0.7, 0.9]),
        };
        let c = build(&rule, 3, 2, &WeightDraw::Constant(1.0), false, 1, 0).unwrap();
        assert_eq!(c.row_ptr, vec![0, 2, 3]);
        assert_eq!(c.col_idx, vec![1, 2, 0]);
        assert_eq!(c.weights, Weights::PerSynapse(vec![0.5, 0.9, 0.7]));
    }
}
