//! The gains of the infinite-horizon optimal feedback controller with control-dependent noise
//! (Todorov 2005), as chapter 8 of "Julia で学ぶ計算論的神経科学" computes them
//! (`infinite_horizon_ofc`): from a start, solve the generalised Lyapunov equations (8.12) and
//! (8.13) for S and P in their vec/Kronecker form (8.16)–(8.17), update the Kalman gain K
//! (8.10) and the feedback gain L (8.11), until neither changes by more than the tolerance.
//!
//! Shapes, with n states, m = 1 control and p observations: A n×n, B n×1, C p×n, D p×p,
//! Y n×1 (control-dependent noise), G n×n, Q and U n×n, R 1×1; L 1×n, K n×p.

use nalgebra::{DMatrix, DVector};

/// The plant, its noise and the costs.
#[derive(Clone, Debug, PartialEq)]
pub struct Lqg {
    pub a: DMatrix<f64>,
    pub b: DMatrix<f64>,
    pub c: DMatrix<f64>,
    pub d: DMatrix<f64>,
    pub y: DMatrix<f64>,
    pub g: DMatrix<f64>,
    pub q: DMatrix<f64>,
    pub r: f64,
    pub u: DMatrix<f64>,
}

/// Converged gains, the S and P they solve, and the iterations it took.
#[derive(Clone, Debug, PartialEq)]
pub struct Gains {
    /// Feedback gain, 1 × n.
    pub l: DMatrix<f64>,
    /// Kalman gain, n × p.
    pub k: DMatrix<f64>,
    pub s: DMatrix<f64>,
    pub p: DMatrix<f64>,
    pub iterations: usize,
}

/// Why the gains could not be computed.
#[derive(Clone, Debug, PartialEq)]
pub enum GainsError {
    /// A Lyapunov system or R + Yᵀ(S₁₁+S₂₂)Y was singular at this iteration.
    Singular {
        iteration: usize,
        what: &'static str,
    },
    /// Not converged within the iterations allowed; the last changes of K and L.
    NotConverged {
        iterations: usize,
        delta_k: f64,
        delta_l: f64,
    },
}

impl std::fmt::Display for GainsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GainsError::Singular { iteration, what } => {
                write!(f, "{what} is singular at iteration {iteration}")
            }
            GainsError::NotConverged {
                iterations,
                delta_k,
                delta_l,
            } => write!(
                f,
                "the gains did not converge in {iterations} iterations (last Σ|ΔK| = {delta_k:.3e}, Σ|ΔL| = {delta_l:.3e})"
            ),
        }
    }
}

/// vec(M): the columns stacked (Julia's `vec`).
fn vec_of(m: &DMatrix<f64>) -> DVector<f64> {
    DVector::from_column_slice(m.as_slice())
}

/// The block matrix [[a, b], [c, d]].
fn blocks(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, d: &DMatrix<f64>) -> DMatrix<f64> {
    let (r1, c1) = a.shape();
    let (r2, c2) = d.shape();
    let mut m = DMatrix::zeros(r1 + r2, c1 + c2);
    m.view_mut((0, 0), (r1, c1)).copy_from(a);
    m.view_mut((0, c1), (r1, c2)).copy_from(b);
    m.view_mut((r1, 0), (r2, c1)).copy_from(c);
    m.view_mut((r1, c1), (r2, c2)).copy_from(d);
    m
}

/// The closed loop of (8.6), (8.7) and (8.9) for gains `l` and `k`: Ā, Ȳ, Ḡ and V.
pub struct ClosedLoop {
    pub a_bar: DMatrix<f64>,
    pub y_bar: DMatrix<f64>,
    pub g_bar: DMatrix<f64>,
    pub v: DMatrix<f64>,
}

impl Lqg {
    fn n(&self) -> usize {
        self.a.nrows()
    }

    pub fn closed_loop(&self, l: &DMatrix<f64>, k: &DMatrix<f64>) -> ClosedLoop {
        let n = self.n();
        let bl = &self.b * l;
        let yl = &self.y * l;
        let zeros = DMatrix::zeros(n, n);
        let lrl = l.transpose() * l * self.r;
        ClosedLoop {
            a_bar: blocks(&(&self.a - &bl), &bl, &zeros, &(&self.a - k * &self.c)),
            y_bar: blocks(&(-&yl), &yl, &(-&yl), &yl),
            g_bar: blocks(
                &self.g,
                &DMatrix::zeros(n, k.ncols()),
                &self.g,
                &(-(k * &self.d)),
            ),
            v: blocks(&(&self.q + &lrl), &(-&lrl), &(-&lrl), &(&lrl + &self.u)),
        }
    }

    /// S of (8.16) and P of (8.17) for gains `l` and `k`.
    pub fn s_and_p(
        &self,
        l: &DMatrix<f64>,
        k: &DMatrix<f64>,
        iteration: usize,
    ) -> Result<(DMatrix<f64>, DMatrix<f64>), GainsError> {
        let n2 = 2 * self.n();
        let cl = self.closed_loop(l, k);
        let eye = DMatrix::<f64>::identity(n2, n2);
        let at = cl.a_bar.transpose();
        let yt = cl.y_bar.transpose();
        let solve = |m: DMatrix<f64>, rhs: DVector<f64>, what| {
            m.lu()
                .solve(&rhs)
                .map(|x| -DMatrix::from_column_slice(n2, n2, x.as_slice()))
                .ok_or(GainsError::Singular { iteration, what })
        };
        let s = solve(
            eye.kronecker(&at) + at.kronecker(&eye) + yt.kronecker(&yt),
            vec_of(&cl.v),
            "the Lyapunov system of S (8.16)",
        )?;
        let p = solve(
            eye.kronecker(&cl.a_bar) + cl.a_bar.kronecker(&eye) + cl.y_bar.kronecker(&cl.y_bar),
            vec_of(&(&cl.g_bar * cl.g_bar.transpose())),
            "the Lyapunov system of P (8.17)",
        )?;
        Ok((s, p))
    }

    /// K of (8.10) and L of (8.11) from S and P.
    pub fn gains_from(
        &self,
        s: &DMatrix<f64>,
        p: &DMatrix<f64>,
        iteration: usize,
    ) -> Result<(DMatrix<f64>, DMatrix<f64>), GainsError> {
        let n = self.n();
        let p22 = p.view((n, n), (n, n)).into_owned();
        let s11 = s.view((0, 0), (n, n)).into_owned();
        let s22 = s.view((n, n), (n, n)).into_owned();
        let ddt = &self.d * self.d.transpose();
        let ddt_inv = ddt.try_inverse().ok_or(GainsError::Singular {
            iteration,
            what: "D Dᵀ",
        })?;
        let k = p22 * self.c.transpose() * ddt_inv;
        let scale = self.r + (self.y.transpose() * (&s11 + &s22) * &self.y)[(0, 0)];
        if scale == 0.0 || !scale.is_finite() {
            return Err(GainsError::Singular {
                iteration,
                what: "R + Yᵀ(S₁₁ + S₂₂)Y",
            });
        }
        let l = self.b.transpose() * s11 / scale;
        Ok((k, l))
    }

    /// The book's fixed-point iteration from gains `l0` (1 × n) and `k0` (n × p), until
    /// Σ|ΔK| and Σ|ΔL| are both below `tolerance`, in at most `max_iterations`.
    pub fn solve(
        &self,
        l0: DMatrix<f64>,
        k0: DMatrix<f64>,
        max_iterations: usize,
        tolerance: f64,
    ) -> Result<Gains, GainsError> {
        let (mut l, mut k) = (l0, k0);
        let (mut delta_k, mut delta_l) = (f64::INFINITY, f64::INFINITY);
        for iteration in 1..=max_iterations {
            let (s, p) = self.s_and_p(&l, &k, iteration)?;
            let (k_new, l_new) = self.gains_from(&s, &p, iteration)?;
            delta_k = (&k_new - &k).abs().sum();
            delta_l = (&l_new - &l).abs().sum();
            k = k_new;
            l = l_new;
            if !(delta_k.is_finite() && delta_l.is_finite()) {
                break;
            }
            if delta_k < tolerance && delta_l < tolerance {
                return Ok(Gains {
                    l,
                    k,
                    s,
                    p,
                    iterations: iteration,
                });
            }
        }
        Err(GainsError::NotConverged {
            iterations: max_iterations,
            delta_k,
            delta_l,
        })
    }
}
