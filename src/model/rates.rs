//! Numerically safe pieces shared by the rate functions of every model.

use crate::real::Real;

/// x / (1 − e^−x), continuous through its removable singularity at x = 0.
///
/// The direct quotient is 0/0 at x = 0 and loses about eps/|x| of relative accuracy near it,
/// so below `F::SERIES_CUTOFF` the Bernoulli series 1 + x/2 + x²/12 − x⁴/720 is used instead.
/// `shaders/common/neuron_common.wgsl` has the same function under the same name with the f32 cutoff.
#[inline]
pub fn exprel_inv<F: Real>(x: F) -> F {
    if x.abs() < F::from_f64(F::SERIES_CUTOFF) {
        let x2 = x * x;
        F::one() + x * F::from_f64(0.5) + x2 * F::from_f64(1.0 / 12.0)
            - x2 * x2 * F::from_f64(1.0 / 720.0)
    } else {
        x / (F::one() - (-x).exp())
    }
}

/// Brian2's exprel: (e^x − 1)/x, 1 at x = 0, accurate near it (through exp_m1). The WGSL twin
/// (`exprel` in generated shaders) has no exp_m1 and takes a series below |x| = 0.1.
#[inline]
pub fn exprel<F: Real>(x: F) -> F {
    if x == F::zero() {
        F::one()
    } else {
        x.exp_m1() / x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_exact_form_away_from_zero_and_is_one_at_zero() {
        assert_eq!(exprel_inv(0.0f64), 1.0);
        assert_eq!(exprel_inv(0.0f32), 1.0);
        for &x in &[-5.0f64, -0.5, -0.1001, 0.0999, 0.2, 3.0] {
            let exact = x / (-(-x).exp_m1());
            assert!(
                (exprel_inv(x) - exact).abs() < 1e-12 * exact.abs(),
                "f64 at {x}"
            );
            let got = exprel_inv(x as f32) as f64;
            assert!(
                (got - exact).abs() < 3e-6 * exact.abs(),
                "f32 at {x}: {got} vs {exact}"
            );
        }
        // Continuity across the cut-off in f32.
        let below = exprel_inv(0.099_999f32);
        let above = exprel_inv(0.100_001f32);
        assert!((above - below).abs() < 1e-5);
    }
}
