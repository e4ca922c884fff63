//! The saccade model's parameters with the book's defaults (`SaccadeModelParameter`), the
//! plant's constants, and the LQG problem and gains they define.

use crate::model::lqg::{Gains, GainsError, Lqg};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The target jump of the book's `target_jump_simulation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetJump {
    /// T_tj: the jump happens at the book's step ntj = round(T_tj / dt), i.e. to the state
    /// at t = T_tj − dt, before its control is computed. ms.
    pub at_ms: f64,
    /// The position and its estimate are shifted by −distance (the target moves by +distance).
    pub distance: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SaccadeParams {
    /// Eye inertia I, kg·m².
    pub i: f64,
    /// Viscosity b, kg·m²/s.
    pub b: f64,
    /// Activation and excitation time constants t_a, t_e, s.
    pub t_a: f64,
    pub t_e: f64,
    /// Control-dependent noise: Y = y_scale · B.
    pub y_scale: f64,
    /// Additive plant noise: G = g · I.
    pub g: f64,
    /// Observation noise: D = diag(d).
    pub d: [f64; 3],
    /// Costs: Q = diag(q), R = r, U = diag(u).
    pub q: [f64; 4],
    pub r: f64,
    pub u: [f64; 4],
    /// Initial position, m (the target is at 0).
    pub init_pos: f64,
    /// With the noises, the estimator and u = −L x̂; without, u = −L x and x̂ = x.
    pub noisy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_jump: Option<TargetJump>,
    /// The gain iteration: at most this many steps, until Σ|ΔK| and Σ|ΔL| < tolerance.
    pub max_iterations: usize,
    pub tolerance: f64,
}

impl Default for SaccadeParams {
    fn default() -> Self {
        SaccadeParams {
            i: 0.25,
            b: 0.2,
            t_a: 0.03,
            t_e: 0.04,
            y_scale: 0.02,
            g: 0.03,
            d: [1e-3, 1e-2, 5e-2],
            q: [1.0, 0.01, 0.0, 0.0],
            r: 1e-4,
            u: [1.0, 0.1, 0.01, 0.0],
            init_pos: -0.5,
            noisy: true,
            target_jump: None,
            max_iterations: 1000,
            tolerance: 1e-8,
        }
    }
}

/// α₁, α₂, α₃ and b_u of (8.4)–(8.5).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plant {
    pub alpha1: f64,
    pub alpha2: f64,
    pub alpha3: f64,
    pub bu: f64,
}

impl SaccadeParams {
    pub fn plant(&self) -> Plant {
        let bu = 1.0 / (self.t_a * self.t_e * self.i);
        Plant {
            alpha1: bu * self.b,
            alpha2: 1.0 / (self.t_a * self.t_e)
                + (1.0 / self.t_a + 1.0 / self.t_e) * self.b / self.i,
            alpha3: self.b / self.i + 1.0 / self.t_a + 1.0 / self.t_e,
            bu,
        }
    }

    /// The book's `SaccadeModelParameter` matrices.
    pub fn lqg(&self) -> Lqg {
        let p = self.plant();
        #[rustfmt::skip]
        let a = DMatrix::from_row_slice(4, 4, &[
            0.0, 1.0, 0.0, 0.0,
            0.0, 0.0, 1.0, 0.0,
            0.0, 0.0, 0.0, 1.0,
            0.0, -p.alpha1, -p.alpha2, -p.alpha3,
        ]);
        let b = DMatrix::from_column_slice(4, 1, &[0.0, 0.0, 0.0, p.bu]);
        let mut c = DMatrix::zeros(3, 4);
        c.fill_diagonal(1.0);
        Lqg {
            a,
            y: &b * self.y_scale,
            b,
            c,
            d: DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&self.d)),
            g: DMatrix::identity(4, 4) * self.g,
            q: DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&self.q)),
            r: self.r,
            u: DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(&self.u)),
        }
    }

    /// The gains from the book's start: L and K drawn uniformly in [0, 1) (Julia's `rand`),
    /// here from a fixed stream so that a config always gives the same gains.
    pub fn gains(&self) -> Result<Gains, GainsError> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let l0 = DMatrix::from_fn(1, 4, |_, _| rng.random::<f64>());
        let k0 = DMatrix::from_fn(4, 3, |_, _| rng.random::<f64>());
        self.lqg()
            .solve(l0, k0, self.max_iterations, self.tolerance)
    }
}

