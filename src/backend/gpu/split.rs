//! Matrices larger than one binding, cut into parts by whole rows: each part is a set of
//! buffers of its own (pointers rebased to the part, indices, weights) that a kernel binds
//! and dispatches over its rows, so that a row never straddles two bindings and the only limit
//! left on synapses is the device's memory. Pure arithmetic on row pointers, tested without
//! an adapter; `graded` and `events` build their buffers from the cut.

use std::ops::Range;

/// Bytes per entry of the cut buffers: a u32 index, an f32 or fixed-point i32 weight.
const ENTRY_BYTES: u64 = 4;

/// Some rows of one matrix, in one part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Which of the matrices given to `cut`.
    pub matrix: usize,
    pub rows: Range<usize>,
}

/// A row that alone needs more than one binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowTooLong {
    pub matrix: usize,
    pub row: usize,
    pub bytes: u64,
}

/// Cuts the rows of `matrices` (each given by its row pointers), in order, into parts whose
/// entries and whose pointers (a segment of r rows takes r + 1) each fit `limit` bytes. A
/// part may hold the tail of one matrix and the head of the next, as the event-driven
/// projections share their buffers. Everything in one part when everything fits.
pub fn cut(matrices: &[&[u32]], limit: u64) -> Result<Vec<Vec<Segment>>, RowTooLong> {
    let capacity = limit / ENTRY_BYTES;
    let mut parts: Vec<Vec<Segment>> = vec![Vec::new()];
    let (mut entries, mut pointers) = (0u64, 0u64);
    for (matrix, row_ptr) in matrices.iter().enumerate() {
        let n_rows = row_ptr.len().saturating_sub(1);
        let mut first = 0;
        for row in 0..n_rows {
            let len = u64::from(row_ptr[row + 1] - row_ptr[row]);
            if len > capacity || capacity < 2 {
                return Err(RowTooLong {
                    matrix,
                    row,
                    bytes: len * ENTRY_BYTES,
                });
            }
            // This row, and the pointer that opens the segment if it is the segment's first.
            let opens = (row == first) as u64;
            if entries + len > capacity || pointers + 1 + opens > capacity {
                if row > first {
                    parts.last_mut().unwrap().push(Segment {
                        matrix,
                        rows: first..row,
                    });
                }
                parts.push(Vec::new());
                (entries, pointers, first) = (0, 0, row);
                entries += len;
                pointers += 2;
            } else {
                entries += len;
                pointers += 1 + opens;
            }
        }
        if n_rows > first || n_rows == 0 {
            parts.last_mut().unwrap().push(Segment {
                matrix,
                rows: first..n_rows,
            });
            pointers += (n_rows == 0) as u64;
        }
    }
    Ok(parts)
}

/// One segment's pointers, rebased to start at 0, and its range in the matrix's entries.
pub fn segment_rows(row_ptr: &[u32], rows: &Range<usize>) -> (Vec<u32>, Range<usize>) {
    let base = row_ptr[rows.start];
    // A procedural matrix's pointers are kept modulo 2^32 (`ProceduralRows::fixed_lengths`).
    let pointers = row_ptr[rows.start..=rows.end]
        .iter()
        .map(|&p| p.wrapping_sub(base))
        .collect();
    (
        pointers,
        base as usize..row_ptr[rows.end] as usize,
    )
}

/// Parts a matrix of `synapses` entries and `rows` rows needs at least under `limit`: what
/// `check` reports from a network's shape, before any row is drawn.
pub fn parts_needed(synapses: u64, rows: u64, limit: u64) -> u64 {
    let capacity = (limit / ENTRY_BYTES).max(1);
    synapses.div_ceil(capacity).max((rows + 1).div_ceil(capacity)).max(1)
}

/// Rows per part of a procedural matrix, which stores only its row pointers (one more than
/// its rows) in bindings of `limit` bytes.
pub fn procedural_rows_per_part(limit: u64) -> usize {
    ((limit / ENTRY_BYTES).max(2) - 1) as usize
}

/// Parts the synapses written as equations of projection `p` take at least under `limit`:
/// their variables, the largest of their buffers, decide (`equations::build`).
pub fn equation_parts(p: &crate::shape::ProjectionShape, limit: u64) -> u64 {
    let blocks = p.blocks.max(1);
    parts_needed(p.synapses / blocks * p.values_per_synapse.max(1), p.n_target / blocks, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_procedural_part_holds_as_many_rows_as_its_pointers_fit() {
        // 1 KiB: 256 pointers, 255 rows; the fewest parts `parts_needed` counts for them.
        assert_eq!(procedural_rows_per_part(1024), 255);
        assert_eq!(parts_needed(0, 255, 1024), 1);
        assert_eq!(parts_needed(0, 256, 1024), 2);
    }

    fn ptr(lens: &[u32]) -> Vec<u32> {
        let mut p = vec![0];
        for l in lens {
            p.push(p.last().unwrap() + l);
        }
        p
    }

    /// Every row of every matrix lands in exactly one segment, in order, and no part exceeds
    /// the limit in entries or pointers.
    fn assert_covers(matrices: &[&[u32]], parts: &[Vec<Segment>], limit: u64) {
        let mut next = vec![0usize; matrices.len()];
        let mut last_matrix = 0;
        for part in parts {
            let entries: u64 = part
                .iter()
                .map(|s| u64::from(matrices[s.matrix][s.rows.end] - matrices[s.matrix][s.rows.start]))
                .sum();
            let pointers: u64 = part.iter().map(|s| s.rows.len() as u64 + 1).sum();
            assert!(entries * ENTRY_BYTES <= limit && pointers * ENTRY_BYTES <= limit, "{part:?}");
            for s in part {
                assert!(s.matrix >= last_matrix);
                last_matrix = s.matrix;
                assert_eq!(s.rows.start, next[s.matrix], "{parts:?}");
                next[s.matrix] = s.rows.end;
            }
        }
        for (m, rows) in matrices.iter().enumerate() {
            assert_eq!(next[m], rows.len() - 1);
        }
    }

    #[test]
    fn everything_in_one_part_when_it_fits() {
        let a = ptr(&[3, 0, 2]);
        let b = ptr(&[1, 1]);
        let parts = cut(&[&a, &b], 1 << 20).unwrap();
        assert_eq!(
            parts,
            vec![vec![
                Segment { matrix: 0, rows: 0..3 },
                Segment { matrix: 1, rows: 0..2 }
            ]]
        );
    }

    #[test]
    fn parts_are_cut_by_whole_rows_within_the_limit() {
        // 6 entries per part at most.
        let a = ptr(&[3, 3, 4, 2, 0, 6, 1]);
        let b = ptr(&[5, 1, 1]);
        let parts = cut(&[&a, &b], 24).unwrap();
        assert_covers(&[&a, &b], &parts, 24);
        assert_eq!(parts[0], vec![Segment { matrix: 0, rows: 0..2 }]);
        assert_eq!(parts[1], vec![Segment { matrix: 0, rows: 2..5 }]);
        assert_eq!(parts.len(), 5, "{parts:?}");
        // The tail of one matrix shares a part with the head of the next.
        assert!(parts.iter().any(|p| p.len() == 2), "{parts:?}");
    }

    #[test]
    fn pointers_count_against_the_limit_too() {
        let empty_rows = ptr(&[0; 20]);
        let parts = cut(&[&empty_rows], 16).unwrap();
        assert_covers(&[&empty_rows], &parts, 16);
        // Four pointers per part: three rows each, the last part the remaining two.
        assert_eq!(parts.len(), 7, "{parts:?}");
        assert!(parts[..6].iter().all(|p| p[0].rows.len() == 3), "{parts:?}");
    }

    #[test]
    fn a_row_longer_than_a_binding_is_named() {
        let a = ptr(&[1, 2, 9, 1]);
        assert_eq!(
            cut(&[&a], 32),
            Err(RowTooLong {
                matrix: 0,
                row: 2,
                bytes: 36
            })
        );
    }

    #[test]
    fn random_matrices_are_covered_under_many_limits() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            let lens: Vec<u32> = (0..rng.random_range(0..40)).map(|_| rng.random_range(0..9)).collect();
            let more: Vec<u32> = (0..rng.random_range(0..10)).map(|_| rng.random_range(0..9)).collect();
            let (a, b) = (ptr(&lens), ptr(&more));
            let limit = 4 * rng.random_range(9..40u64);
            let parts = cut(&[&a, &b], limit).unwrap();
            assert_covers(&[&a, &b], &parts, limit);
            assert!(parts.len() as u64 >= parts_needed(a[a.len() - 1] as u64, 0, limit));
        }
    }

    #[test]
    fn a_segment_is_rebased() {
        let a = ptr(&[3, 0, 2, 4]);
        assert_eq!(segment_rows(&a, &(1..3)), (vec![0, 0, 2], 3..5));
    }
}
