//! Procedural connectivity: a row's sources are not stored but drawn again wherever they are
//! needed, from (seed, projection, row) alone, so that a projection costs no memory per
//! synapse on the GPU. The WGSL twin is `shaders/synapses/procedural.wgsl`: integer
//! arithmetic only, so the CPU and the GPU draw the same sources in the same order.
//!
//! Row r's sources are the first `len(r)` values of a permutation of the source indices keyed
//! by Philox(seed; r, projection, 0, `CONNECTIVITY_STREAM`): a four-round Feistel network on
//! the smallest even number of bits that covers the sources, walked in cycles until it lands
//! among them. A permutation gives distinct sources without any memory of the ones drawn, and
//! each position is independent of the others, so that several threads can share a row. With
//! autapses excluded the permutation runs over n − 1 indices and skips the row's own.
//! `len(r)` is k for `fixed_indegree`, and a Binomial(n, p) draw per row for
//! `fixed_probability` (drawn on the host into the row pointers, 4 bytes per row): a uniform
//! subset of Binomial size is exactly a row of independent Bernoulli(p) pairs.
//!
//! A drawn weight (`DrawnWeight`) is drawn again with its synapse, from Philox(seed; r,
//! projection, position, `WEIGHT_STREAM`): a uniform weight in integer arithmetic and one exact
//! conversion (the same f32 on the CPU and the GPU), a normal one by Box–Muller in f32.

use crate::connectivity::{Csr, Weights};
use crate::rng::philox4x32_10;
use rand::SeedableRng;
use rand_distr::Distribution;
use rayon::prelude::*;

/// The last counter word of the row keys, apart from the neuron streams (population · 16 +
/// stream, below 4096): `CONNECTIVITY_STREAM` in procedural.wgsl.
pub const CONNECTIVITY_STREAM: u32 = 0xC0AA_0001;

/// The last counter word of the weight draws: `WEIGHT_STREAM` in procedural.wgsl.
pub const WEIGHT_STREAM: u32 = 0xC0AA_0002;

/// The largest |z| the Box–Muller normal of two 23-bit uniforms can reach: √(−2 ln 2⁻²⁴) =
/// 5.77, with room for the last bits of ln and cos.
const MAX_NORMAL: f64 = 5.8;

/// A procedural projection's weight drawn per synapse, again wherever the synapse is summed
/// or pushed (`DRAW_*` and `drawn_weight` in procedural.wgsl).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DrawnWeight {
    /// Uniform over [lo, hi): `quantum` · (low + ⌊span · m / 2²³⌋), m the draw's top 23 bits,
    /// `quantum` the power of two that puts max(|lo|, |hi|) between 2²² and 2²³ quanta.
    /// Integer arithmetic and one exact conversion: the CPU and the GPU draw the same f32.
    Uniform { quantum: f32, low: i32, span: u32 },
    /// mean + sd · z, z the Box–Muller normal of the draw's first two words (`rng`), in f32:
    /// the GPU's ln and cos may differ from the CPU's in the last bit.
    Normal { mean: f32, sd: f32 },
}

/// `DRAW_*` in procedural.wgsl: the kind of a drawn weight the kernels' parameters name (0:
/// none, the one weight).
pub const DRAW_UNIFORM: u32 = 1;
pub const DRAW_NORMAL: u32 = 2;

/// A drawn weight as the kernels' parameters hold it (`WeightDraw` in procedural.wgsl).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WeightDrawGpu {
    pub kind: u32,
    pub low: i32,
    pub span: u32,
    /// Uniform: the quantum; normal: the mean.
    pub a: f32,
    /// Normal: the standard deviation.
    pub b: f32,
}

impl WeightDrawGpu {
    pub fn of(weight: Option<DrawnWeight>) -> WeightDrawGpu {
        match weight {
            None => WeightDrawGpu::default(),
            Some(DrawnWeight::Uniform { quantum, low, span }) => {
                WeightDrawGpu { kind: DRAW_UNIFORM, low, span, a: quantum, b: 0.0 }
            }
            Some(DrawnWeight::Normal { mean, sd }) => WeightDrawGpu { kind: DRAW_NORMAL, low: 0, span: 0, a: mean, b: sd },
        }
    }
}

impl DrawnWeight {
    pub fn uniform(lo: f64, hi: f64) -> DrawnWeight {
        let largest = lo.abs().max(hi.abs());
        if largest == 0.0 {
            return DrawnWeight::Uniform { quantum: 1.0, low: 0, span: 0 };
        }
        let quantum = (largest.log2().floor() - 22.0).exp2();
        let (low, high) = ((lo / quantum).round(), (hi / quantum).round());
        DrawnWeight::Uniform { quantum: quantum as f32, low: low as i32, span: (high - low) as u32 }
    }

    pub fn normal(mean: f64, sd: f64) -> DrawnWeight {
        DrawnWeight::Normal { mean: mean as f32, sd: sd as f32 }
    }

    /// The largest |weight| it can draw: the headroom of event-driven fixed-point sums.
    pub fn max_abs(&self) -> f64 {
        match *self {
            DrawnWeight::Uniform { quantum, low, span } => {
                quantum as f64 * (low as f64).abs().max((low as f64 + span as f64).abs())
            }
            DrawnWeight::Normal { mean, sd } => (mean as f64).abs() + sd as f64 * MAX_NORMAL,
        }
    }

    /// The weight that Philox block `bits` draws.
    pub fn draw(&self, bits: [u32; 4]) -> f32 {
        match *self {
            DrawnWeight::Uniform { quantum, low, span } => {
                let offset = (u64::from(span) * u64::from(bits[0] >> 9)) >> 23;
                quantum * (low + offset as i32) as f32
            }
            DrawnWeight::Normal { mean, sd } => mean + sd * crate::rng::standard_normal::<f32>(bits),
        }
    }
}

/// A drawn weight in an event-driven projection's fixed point (`scale` a power of two, so the
/// product is exact and only the rounding, half to even as WGSL's `round`, remains).
pub fn to_fixed(weight: f32, scale: f64) -> i32 {
    (weight as f64 * scale).round_ties_even() as i32
}

/// The rows of a procedural projection: what draws their sources, and their weights where
/// they are drawn. Their lengths are the projection's row pointers.
#[derive(Clone, Debug, PartialEq)]
pub struct ProceduralRows {
    pub seed_key: [u32; 2],
    pub projection: u32,
    pub n_cols: u32,
    /// Each row skips its own index (autapses excluded within one population).
    pub skip_diagonal: bool,
    /// A weight drawn per synapse; None where the projection has one.
    pub weight: Option<DrawnWeight>,
    /// A batch's instances drawing rows of seeds of their own (`sweep::batch`): each one's key,
    /// in instance order, their rows side by side in the matrix. Empty for one network, and
    /// where every instance draws with `seed_key`.
    pub instance_keys: Vec<[u32; 2]>,
}

/// A well-mixing 32-bit hash (lowbias32): the Feistel rounds' function.
#[inline]
fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// One row's permutation of `0..n`.
#[derive(Clone, Copy, Debug)]
pub struct RowPermutation {
    n: u32,
    half_bits: u32,
    keys: [u32; 4],
    /// The index skipped (the row's own), or u32::MAX.
    skip: u32,
}

impl RowPermutation {
    /// Half the bits of the Feistel domain: the smallest 2h bits that hold n − 1 (h ≥ 1).
    fn half_bits(n: u32) -> u32 {
        let bits = 32 - n.saturating_sub(1).leading_zeros();
        bits.div_ceil(2).max(1)
    }

    fn feistel(&self, x: u32) -> u32 {
        let h = self.half_bits;
        let mask = (1u32 << h) - 1;
        let (mut left, mut right) = (x >> h, x & mask);
        for key in self.keys {
            let next = left ^ (mix32(right ^ key) & mask);
            left = right;
            right = next;
        }
        (left << h) | right
    }

    /// The source at position `j` of the row (j below the row's length).
    pub fn source(&self, j: u32) -> u32 {
        let mut c = self.feistel(j);
        while c >= self.n {
            c = self.feistel(c);
        }
        if c >= self.skip {
            c + 1
        } else {
            c
        }
    }
}

impl ProceduralRows {
    /// Row `row`'s permutation.
    pub fn row(&self, row: u32) -> RowPermutation {
        let n = self.n_cols - self.skip_diagonal as u32;
        RowPermutation {
            n,
            half_bits: RowPermutation::half_bits(n),
            keys: philox4x32_10([row, self.projection, 0, CONNECTIVITY_STREAM], self.seed_key),
            skip: if self.skip_diagonal { row } else { u32::MAX },
        }
    }

    /// The drawn weight of the synapse at position `j` of row `row` (None: the one weight).
    pub fn weight(&self, row: u32, j: u32) -> Option<f32> {
        self.weight
            .map(|w| w.draw(philox4x32_10([row, self.projection, j, WEIGHT_STREAM], self.seed_key)))
    }

    /// The row pointers of `n_rows` rows of `k` sources each (`fixed_indegree`). A procedural
    /// matrix's pointers are kept modulo 2^32: a row's length is the difference of its two
    /// (in u32 arithmetic, as the shaders take it), so that a projection may hold more than
    /// 2^32 synapses where it stores none.
    pub fn fixed_lengths(n_rows: usize, k: u32) -> Vec<u32> {
        (0..=n_rows as u32).map(|r| r.wrapping_mul(k)).collect()
    }

    /// The row pointers of `n_rows` rows each holding every available source with probability
    /// `p` (`fixed_probability`), drawn per row from its own stream of `seed`.
    pub fn drawn_lengths(&self, n_rows: usize, p: f64, seed: u64) -> Vec<u32> {
        let available = u64::from(self.n_cols - self.skip_diagonal as u32);
        let binomial = rand_distr::Binomial::new(available, p.clamp(0.0, 1.0))
            .expect("p was validated to lie in [0, 1]");
        let lengths: Vec<u32> = (0..n_rows)
            .into_par_iter()
            .map(|r| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x9b05_688c_2b3e_6c1f);
                rng.set_stream(((self.projection as u64) << 32) | r as u64);
                binomial.sample(&mut rng) as u32
            })
            .collect();
        let mut row_ptr = Vec::with_capacity(n_rows + 1);
        row_ptr.push(0u32);
        for len in lengths {
            row_ptr.push(row_ptr.last().unwrap().wrapping_add(len));
        }
        row_ptr
    }

    /// The stored matrix of these rows (`synapses(row_ptr)` must fit 32 bits: `cpu::create`
    /// refuses more), in the order they are drawn (what the CPU reference
    /// sums over, in that order), with their drawn weights, or `weight` for all.
    pub fn materialize(&self, row_ptr: &[u32], weight: f64) -> Csr {
        let n_rows = row_ptr.len() - 1;
        let mut col_idx = vec![0u32; *row_ptr.last().unwrap_or(&0) as usize];
        let mut rest = &mut col_idx[..];
        let mut rows = Vec::with_capacity(n_rows);
        for r in 0..n_rows {
            let (head, tail) = rest.split_at_mut((row_ptr[r + 1] - row_ptr[r]) as usize);
            rows.push(head);
            rest = tail;
        }
        rows.into_par_iter().enumerate().for_each(|(r, out)| {
            let perm = self.row(r as u32);
            for (j, c) in out.iter_mut().enumerate() {
                *c = perm.source(j as u32);
            }
        });
        let weights = match self.weight {
            None => Weights::Uniform(weight),
            Some(_) => Weights::PerSynapse(
                (0..n_rows)
                    .into_par_iter()
                    .flat_map_iter(|r| {
                        let len = row_ptr[r + 1] - row_ptr[r];
                        (0..len).map(move |j| self.weight(r as u32, j).expect("drawn") as f64)
                    })
                    .collect(),
            ),
        };
        Csr {
            n_rows,
            n_cols: self.n_cols as usize,
            row_ptr: row_ptr.to_vec(),
            col_idx,
            weights,
        }
    }
}

/// The synapses of procedural rows with pointers `row_ptr` (kept modulo 2^32).
pub fn synapses(row_ptr: &[u32]) -> u64 {
    row_ptr.windows(2).map(|w| u64::from(w[1].wrapping_sub(w[0]))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_are_kept_modulo_2_32_and_count_every_synapse() {
        let ptr = ProceduralRows::fixed_lengths(3, 1 << 31);
        assert_eq!(ptr, vec![0, 1 << 31, 0, 1 << 31]);
        assert_eq!(synapses(&ptr), 3 << 31);
    }

    fn rows(n_cols: u32, skip_diagonal: bool) -> ProceduralRows {
        ProceduralRows {
            seed_key: crate::rng::seed_key(5),
            projection: 1,
            n_cols,
            skip_diagonal,
            weight: None,
            instance_keys: Vec::new(),
        }
    }

    #[test]
    fn a_row_is_a_permutation_of_its_sources() {
        for n in [1u32, 2, 3, 7, 64, 100, 1000, 4097] {
            let p = rows(n, false).row(3);
            let mut seen: Vec<u32> = (0..n).map(|j| p.source(j)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn without_autapses_a_row_skips_its_own_index() {
        let r = rows(50, true);
        for row in [0u32, 17, 49] {
            let p = r.row(row);
            let mut seen: Vec<u32> = (0..49).map(|j| p.source(j)).collect();
            seen.sort_unstable();
            let want: Vec<u32> = (0..50).filter(|&c| c != row).collect();
            assert_eq!(seen, want, "row {row}");
        }
    }

    #[test]
    fn rows_keys_and_seeds_draw_differently() {
        let a: Vec<u32> = (0..10).map(|j| rows(1000, false).row(0).source(j)).collect();
        let b: Vec<u32> = (0..10).map(|j| rows(1000, false).row(1).source(j)).collect();
        let mut other = rows(1000, false);
        other.seed_key = crate::rng::seed_key(6);
        let c: Vec<u32> = (0..10).map(|j| other.row(0).source(j)).collect();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sources_are_uniform_over_the_population() {
        // 2000 rows of 50 sources from 200: each source is drawn 500 times on average.
        let r = rows(200, false);
        let mut counts = vec![0u32; 200];
        for row in 0..2000 {
            let p = r.row(row);
            for j in 0..50 {
                counts[p.source(j) as usize] += 1;
            }
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        // ±5 standard deviations of a binomial count (σ ≈ 19.4).
        assert!(*min > 400 && *max < 600, "{min} … {max}");
    }

    #[test]
    fn drawn_lengths_average_p_times_the_sources() {
        let r = rows(1000, true);
        let row_ptr = r.drawn_lengths(2000, 0.1, 3);
        let mean = *row_ptr.last().unwrap() as f64 / 2000.0;
        assert!((mean - 99.9).abs() < 1.0, "{mean}");
        assert_eq!(row_ptr, r.drawn_lengths(2000, 0.1, 3), "the same seed, the same lengths");
    }

    #[test]
    fn the_materialized_matrix_holds_the_drawn_rows() {
        let r = rows(300, true);
        let row_ptr = ProceduralRows::fixed_lengths(300, 20);
        let csr = r.materialize(&row_ptr, 0.5);
        assert_eq!(csr.n_synapses(), 6000);
        for row in [0usize, 150, 299] {
            let want: Vec<u32> = (0..20).map(|j| r.row(row as u32).source(j)).collect();
            assert_eq!(&csr.col_idx[row * 20..(row + 1) * 20], &want[..]);
            assert!(!want.contains(&(row as u32)));
        }
    }

    fn draws(w: DrawnWeight, n: u32) -> Vec<f32> {
        let mut r = rows(10, false);
        r.weight = Some(w);
        (0..n).map(|j| r.weight(j / 100, j % 100).unwrap()).collect()
    }

    fn mean_sd(x: &[f32]) -> (f64, f64) {
        let n = x.len() as f64;
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn uniform_weights_fill_their_range_on_a_grid_of_powers_of_two() {
        let w = DrawnWeight::uniform(0.0, 1e-9);
        let DrawnWeight::Uniform { quantum, low, span } = w else { unreachable!() };
        assert_eq!((quantum.log2().fract(), low), (0.0, 0), "a power of two");
        assert!((1 << 22..=1 << 23).contains(&span), "{span}");
        let x = draws(w, 100_000);
        assert!(x.iter().all(|&v| (0.0..1e-9).contains(&v)));
        let (mean, sd) = mean_sd(&x);
        // Uniform on [0, 1e-9): mean 5e-10, sd 2.89e-10, to a few standard errors.
        assert!((mean - 5e-10).abs() < 3e-12 && (sd - 2.887e-10).abs() < 3e-12, "{mean} {sd}");
        let y = draws(DrawnWeight::uniform(-2.0, 6.0), 100_000);
        assert!(y.iter().all(|&v| (-2.0..6.0).contains(&v)));
        assert!((mean_sd(&y).0 - 2.0).abs() < 0.03);
        assert_eq!(DrawnWeight::uniform(-2.0, 6.0).max_abs(), 6.0);
    }

    #[test]
    fn normal_weights_have_their_mean_and_sd_within_their_bound() {
        let w = DrawnWeight::normal(1.0, 0.25);
        let x = draws(w, 100_000);
        let (mean, sd) = mean_sd(&x);
        assert!((mean - 1.0).abs() < 0.005 && (sd - 0.25).abs() < 0.005, "{mean} {sd}");
        assert!(x.iter().all(|&v| (v as f64 - 1.0).abs() <= w.max_abs() - 1.0));
    }

    #[test]
    fn a_synapse_draws_its_weight_by_its_row_position_and_seed() {
        let mut r = rows(100, false);
        r.weight = Some(DrawnWeight::uniform(0.0, 1.0));
        assert_eq!(r.weight(3, 7), r.weight(3, 7));
        assert_ne!(r.weight(3, 7), r.weight(3, 8));
        assert_ne!(r.weight(3, 7), r.weight(4, 7));
        let mut other = r.clone();
        other.seed_key = crate::rng::seed_key(6);
        assert_ne!(r.weight(3, 7), other.weight(3, 7));
        r.weight = None;
        assert_eq!(r.weight(3, 7), None);
        // The materialized rows carry them, position by position.
        r.weight = Some(DrawnWeight::normal(0.0, 1.0));
        let csr = r.materialize(&ProceduralRows::fixed_lengths(5, 10), 0.0);
        assert_eq!(csr.weight(2 * 10 + 4), r.weight(2, 4).unwrap() as f64);
    }

    #[test]
    fn drawn_weights_round_to_fixed_point_half_to_even() {
        assert_eq!((to_fixed(2.5, 1.0), to_fixed(3.5, 1.0), to_fixed(-2.5, 1.0)), (2, 4, -2));
        assert_eq!(to_fixed(0.75, 4.0), 3);
    }
}
