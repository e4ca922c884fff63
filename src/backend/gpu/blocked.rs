//! The column-blocked layout of a graded projection for `simulation.gpu_coupling = "blocked"`
//! (shaders/synapses/graded_blocked.wgsl).
//!
//! The other coupling kernels gather S_j synapse by synapse from the whole presynaptic
//! population: at 1M neurons that is a 4 MB array read in scattered 4-byte loads, and the
//! number of such loads the caches serve bounds the step (README, "What bounds 1M"). Here a
//! workgroup owns `rows_per_group` target rows and walks the source columns in blocks of
//! `block_cols`: it copies one block of S into workgroup memory with coalesced loads, then every
//! thread adds the synapses of its own rows that fall in that block, reading S from there. S
//! then crosses from memory once per workgroup instead of once per synapse.
//!
//! Thread `t` of group `g` owns the rows `g·rows_per_group + slot·THREADS + t` for `slot <
//! slots`, so no two threads add into the same sum, and a row's synapses are added block by
//! block, each block in CSR order: column order, the CPU's order. Each row group's blocks are
//! shared among `n_parts` workgroups, each over a run of consecutive blocks; a second pass adds
//! a row's partial sums in run order, so the result is deterministic.
//!
//! The synapses of thread `t` of group `g` in block `b` are one segment, `entries[seg_ptr[s] ..
//! seg_ptr[s + 1]]` with `s = (g·n_blocks + b)·THREADS + t`; each entry packs the row's slot in
//! its high 16 bits and the column within the block in its low 16.

use crate::connectivity::{Csr, Weights};
use crate::error::{Error, Result};

/// Threads per workgroup (`BLOCK_THREADS` in graded_blocked.wgsl).
pub const THREADS: u32 = 256;
/// Entries hold the slot and the column within the block in 16 bits each.
const FIELD_BITS: u32 = 16;
const FIELD_MAX: u32 = 1 << FIELD_BITS;
/// Workgroups the first pass aims at: row groups alone are too few on a large GPU (163 at 1M
/// neurons with 48 KiB, where an H100 has 132 SMs that each hold 4 such workgroups), and a
/// workgroup spends most of a block waiting on loads.
const TARGET_WORKGROUPS: usize = 1024;
/// The least workgroup memory any WebGPU adapter offers.
pub const MIN_WORKGROUP_STORAGE: u32 = 16 << 10;

/// How rows and columns are cut: `slots` rows per thread (their sums in workgroup memory) and
/// `block_cols` floats of S in workgroup memory at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockGeometry {
    pub slots: u32,
    pub block_cols: u32,
}

impl BlockGeometry {
    /// The geometry for `bytes` of workgroup memory: half for the rows' sums, half for S. Each
    /// group reads all of S once, so the rows per group set that traffic; the block's width sets
    /// how many barriers a group waits at.
    pub fn for_workgroup_storage(bytes: u32) -> Result<BlockGeometry> {
        let slots = (bytes / 2 / (4 * THREADS)).min(FIELD_MAX - 1);
        if slots == 0 {
            return Err(Error::Gpu(format!(
                "gpu_coupling \"blocked\" needs at least {} bytes of workgroup memory; the adapter has {bytes}",
                8 * THREADS
            )));
        }
        let block_cols = ((bytes - 4 * slots * THREADS) / 4).min(FIELD_MAX);
        Ok(BlockGeometry { slots, block_cols })
    }

    pub fn rows_per_group(self) -> u32 {
        self.slots * THREADS
    }

    pub fn n_groups(self, n_rows: usize) -> usize {
        n_rows.div_ceil(self.rows_per_group() as usize)
    }

    pub fn n_blocks(self, n_cols: usize) -> usize {
        n_cols.div_ceil(self.block_cols as usize)
    }

    /// Workgroups sharing each row group's column blocks, each over a run of them, so that
    /// there are about `TARGET_WORKGROUPS` in all. More parts cost no S traffic (each reads its
    /// own blocks), only a partial sum per row and part.
    pub fn n_parts(self, n_rows: usize, n_cols: usize) -> usize {
        TARGET_WORKGROUPS
            .div_ceil(self.n_groups(n_rows).max(1))
            .clamp(1, self.n_blocks(n_cols).max(1))
    }

    /// Length of `seg_ptr` for a `n_rows` × `n_cols` matrix: it grows with their product, which
    /// is why this layout pays only while the synapses outnumber the (row group, column block)
    /// pairs by far.
    pub fn seg_ptr_len(self, n_rows: usize, n_cols: usize) -> u64 {
        self.n_groups(n_rows) as u64 * self.n_blocks(n_cols) as u64 * THREADS as u64 + 1
    }

    /// Bytes of the blocked layout and its partial sums on the GPU.
    pub fn bytes(
        self,
        n_rows: usize,
        n_cols: usize,
        synapses: u64,
        per_synapse_weights: bool,
    ) -> u64 {
        let weights = per_synapse_weights as u64 * 4;
        let partial_sums = (self.n_parts(n_rows, n_cols) * n_rows) as u64 * 4;
        self.seg_ptr_len(n_rows, n_cols) * 4 + synapses * (4 + weights) + partial_sums
    }
}

/// A CSR matrix by target in the blocked layout.
pub struct BlockedCsr {
    pub seg_ptr: Vec<u32>,
    pub entries: Vec<u32>,
    /// The per-synapse weights in entry order; None for a uniform weight.
    pub weights: Option<Vec<f32>>,
}

/// (segment, packed entry) of the synapse from column `col` onto row `row`.
fn place(geo: BlockGeometry, n_blocks: usize, row: usize, col: usize) -> (usize, u32) {
    let rows_per_group = geo.rows_per_group() as usize;
    let (group, local) = (row / rows_per_group, row % rows_per_group);
    let (slot, thread) = (local / THREADS as usize, local % THREADS as usize);
    let (block, col_in_block) = (col / geo.block_cols as usize, col % geo.block_cols as usize);
    let segment = (group * n_blocks + block) * THREADS as usize + thread;
    (segment, ((slot as u32) << FIELD_BITS) | col_in_block as u32)
}

/// `csr` in the blocked layout: a stable counting sort of its synapses by segment, so that
/// within a segment the rows come in slot order, each in its CSR order.
pub fn blocked(csr: &Csr, geo: BlockGeometry) -> BlockedCsr {
    let n_blocks = geo.n_blocks(csr.n_cols);
    let len = geo.seg_ptr_len(csr.n_rows, csr.n_cols) as usize;
    let mut seg_ptr = vec![0u32; len];
    let synapses = || {
        (0..csr.n_rows).flat_map(move |row| {
            (csr.row_ptr[row] as usize..csr.row_ptr[row + 1] as usize).map(move |k| (row, k))
        })
    };
    for (row, k) in synapses() {
        let (segment, _) = place(geo, n_blocks, row, csr.col_idx[k] as usize);
        seg_ptr[segment + 1] += 1;
    }
    for s in 1..len {
        seg_ptr[s] += seg_ptr[s - 1];
    }
    let mut next: Vec<u32> = seg_ptr[..len - 1].to_vec();
    let mut entries = vec![0u32; csr.n_synapses()];
    let mut weights = match &csr.weights {
        Weights::Uniform(_) => None,
        Weights::PerSynapse(_) => Some(vec![0f32; csr.n_synapses()]),
    };
    for (row, k) in synapses() {
        let (segment, entry) = place(geo, n_blocks, row, csr.col_idx[k] as usize);
        let at = next[segment] as usize;
        next[segment] += 1;
        entries[at] = entry;
        if let (Some(out), Weights::PerSynapse(w)) = (&mut weights, &csr.weights) {
            out[at] = w[k] as f32;
        }
    }
    BlockedCsr {
        seg_ptr,
        entries,
        weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_csr(n_rows: usize, n_cols: usize, per_row: usize, seed: u64) -> Csr {
        let mut x = seed;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut row_ptr = vec![0u32];
        let mut col_idx = Vec::new();
        let mut weights = Vec::new();
        for _ in 0..n_rows {
            let len = (next() % (2 * per_row as u64 + 1)) as usize;
            let mut cols: Vec<u32> = (0..len).map(|_| (next() % n_cols as u64) as u32).collect();
            cols.sort_unstable();
            cols.dedup();
            weights.extend(cols.iter().map(|&c| c as f64 * 0.5 + 1.0));
            col_idx.extend(cols);
            row_ptr.push(col_idx.len() as u32);
        }
        Csr {
            n_rows,
            n_cols,
            row_ptr,
            col_idx,
            weights: Weights::PerSynapse(weights),
        }
    }

    /// Decodes the layout back into (row, col, weight) triples, rows in the order their
    /// synapses are added.
    fn unblocked(
        b: &BlockedCsr,
        geo: BlockGeometry,
        n_rows: usize,
        n_cols: usize,
    ) -> Vec<Vec<(u32, f32)>> {
        let n_blocks = geo.n_blocks(n_cols);
        let mut rows = vec![Vec::new(); n_rows];
        for group in 0..geo.n_groups(n_rows) {
            for block in 0..n_blocks {
                for thread in 0..THREADS as usize {
                    let s = (group * n_blocks + block) * THREADS as usize + thread;
                    for k in b.seg_ptr[s] as usize..b.seg_ptr[s + 1] as usize {
                        let e = b.entries[k];
                        let slot = (e >> FIELD_BITS) as usize;
                        let col = block * geo.block_cols as usize + (e & (FIELD_MAX - 1)) as usize;
                        let row = group * geo.rows_per_group() as usize
                            + slot * THREADS as usize
                            + thread;
                        assert!(slot < geo.slots as usize && col < n_cols && row < n_rows);
                        rows[row].push((col as u32, b.weights.as_ref().unwrap()[k]));
                    }
                }
            }
        }
        rows
    }

    #[test]
    fn every_synapse_is_placed_once_and_each_row_is_added_in_column_order() {
        // Several groups and blocks, the last of each partial; rows empty and long.
        let geo = BlockGeometry {
            slots: 3,
            block_cols: 50,
        };
        let csr = random_csr(2000, 333, 20, 7);
        let b = blocked(&csr, geo);
        assert_eq!(b.seg_ptr.len() as u64, geo.seg_ptr_len(2000, 333));
        assert_eq!(*b.seg_ptr.last().unwrap() as usize, csr.n_synapses());
        let Weights::PerSynapse(w) = &csr.weights else {
            unreachable!()
        };
        let rows = unblocked(&b, geo, 2000, 333);
        for (i, row) in rows.iter().enumerate() {
            let range = csr.row_ptr[i] as usize..csr.row_ptr[i + 1] as usize;
            let want: Vec<(u32, f32)> = range.map(|k| (csr.col_idx[k], w[k] as f32)).collect();
            assert_eq!(row, &want, "row {i}");
        }
    }

    #[test]
    fn a_uniform_weight_stores_no_weights() {
        let mut csr = random_csr(300, 300, 5, 3);
        csr.weights = Weights::Uniform(0.5);
        let geo = BlockGeometry::for_workgroup_storage(MIN_WORKGROUP_STORAGE).unwrap();
        let b = blocked(&csr, geo);
        assert!(b.weights.is_none());
        assert_eq!(b.entries.len(), csr.n_synapses());
        let partial_sums = geo.n_parts(300, 300) * 300;
        assert_eq!(
            geo.bytes(csr.n_rows, csr.n_cols, csr.n_synapses() as u64, false),
            (b.seg_ptr.len() + b.entries.len() + partial_sums) as u64 * 4
        );
    }

    #[test]
    fn the_geometry_splits_workgroup_memory_between_sums_and_s() {
        for (bytes, slots, block_cols) in [
            (16 << 10, 8, 2048),
            (32 << 10, 16, 4096),
            (48 << 10, 24, 6144),
        ] {
            let geo = BlockGeometry::for_workgroup_storage(bytes).unwrap();
            assert_eq!(geo, BlockGeometry { slots, block_cols }, "{bytes} bytes");
            assert!(4 * (geo.rows_per_group() + geo.block_cols) <= bytes);
        }
        // The 16-bit fields cap both however much memory there is.
        let huge = BlockGeometry::for_workgroup_storage(u32::MAX).unwrap();
        assert!(huge.slots < FIELD_MAX && huge.block_cols <= FIELD_MAX);
        let err = BlockGeometry::for_workgroup_storage(1024)
            .unwrap_err()
            .to_string();
        assert!(err.contains("workgroup memory"), "{err}");
    }

    #[test]
    fn parts_fill_about_a_thousand_workgroups_within_the_blocks_there_are() {
        let geo = BlockGeometry::for_workgroup_storage(48 << 10).unwrap();
        // 1M neurons: 163 row groups and 163 blocks, in 7 runs of 23 or 24.
        assert_eq!(geo.n_parts(1_000_000, 1_000_000), 7);
        // No more parts than blocks; many groups, one part.
        assert_eq!(geo.n_parts(1_000_000, 10_000), 2);
        assert_eq!(geo.n_parts(10_000_000, 10_000_000), 1);
        assert_eq!(geo.n_parts(0, 0), 1);
    }
}
