//! The optimal-feedback-control saccade of chapter 8 of "Julia で学ぶ計算論的神経科学"
//! (Todorov 2005 style LQG with control-dependent noise). Each unit of a population is one
//! independent trial: the eye plant x (position, velocity, acceleration, jerk), its estimate
//! x̂ and the control u = −L x̂. SI units, as in the book: m, s, N·m.
//!
//!   dx  = (A x + B u) dt + Y u dγ + G dω
//!   dy  = C x dt + D dξ
//!   dx̂ = (A x̂ + B u) dt + K (dy − C x̂ dt)
//!
//! The gains L and K are computed once on the host (`lqg`). Each step is the book's
//! Euler–Maruyama `simulation` loop, with its normals from the Philox streams: one for Y u dγ,
//! four for G dω, three for D dξ. `shaders/neurons/ofc_saccade.wgsl` mirrors `advance`: same
//! names, same order of operations.

mod params;

pub use params::{Plant, SaccadeParams, TargetJump};

use super::lqg::Gains;
use super::var;
use super::{CpuStep, ModelInfo, Neuron, NeuronKind, Noise, SynInput, SynapticUnits, Variable};
use crate::config::positive;
use crate::error::{Error, Result};
use crate::real::Real;
use bytemuck::{Pod, Zeroable};
use nalgebra::DMatrix;
use std::sync::Arc;

pub const VARIABLES: [Variable; 9] = [
    var("pos", "m"),
    var("vel", "m/s"),
    var("acc", "m/s2"),
    var("jerk", "m/s3"),
    var("pos_est", "m"),
    var("vel_est", "m/s"),
    var("acc_est", "m/s2"),
    var("jerk_est", "m/s3"),
    var("u", "N*m"),
];
/// Where x, x̂ and u sit in a unit's state.
pub const X: usize = 0;
pub const X_EST: usize = 4;
pub const U: usize = 8;

/// The Philox streams of one step: Y u dγ, then G dω (four), then D dξ (three).
pub const STREAM_CONTROL: u32 = 0;
pub const STREAM_PLANT: u32 = 1;
pub const STREAM_OBSERVATION: u32 = 5;

/// The model's definition.
pub const INFO: ModelInfo = ModelInfo {
    name: "ofc_saccade",
    variables: &VARIABLES,
    // No synapses: `accepts_synapses` is false, so these units name nothing.
    synaptic_units: SynapticUnits {
        conductance: "-",
        current: "-",
    },
    shader: "neurons/ofc_saccade",
    graded_activation: None,
    fused_coupling_shader: None,
    accepts_synapses: false,
    instance_table: true,
};

/// The model as configs name it.
pub struct OfcSaccade;

impl NeuronKind for OfcSaccade {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }
    fn gpu_params_layout(&self) -> super::StructLayout {
        crate::struct_layout!(
            "Params",
            SaccadeParamsGpu {
                l,
                k0,
                k1,
                k2,
                alpha1,
                alpha2,
                alpha3,
                bu,
                y_bu,
                g,
                d0,
                d1,
                d2,
                dt_s,
                sqrt_dt,
                jump_distance,
                noisy,
                jump_step,
            }
        )
    }
    fn parse(
        &self,
        at: &str,
        params: &toml::Table,
        clock: super::Clock,
    ) -> Result<Arc<dyn Neuron>> {
        Ok(Arc::new(Saccade::from_params(at, params, clock)?))
    }
}

/// The model with its parameters and gains, for steps of `dt_s` seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Saccade {
    pub params: SaccadeParams,
    pub gains: Gains,
    pub dt_s: f64,
    /// The sample whose state the target jump shifts, if there is one.
    pub jump_step: Option<u64>,
}

/// `Params` in shaders/neurons/ofc_saccade.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct SaccadeParamsGpu {
    /// L, and the columns of K.
    pub l: [f32; 4],
    pub k0: [f32; 4],
    pub k1: [f32; 4],
    pub k2: [f32; 4],
    pub alpha1: f32,
    pub alpha2: f32,
    pub alpha3: f32,
    pub bu: f32,
    /// Y's one non-zero entry, y_scale · b_u.
    pub y_bu: f32,
    pub g: f32,
    pub d0: f32,
    pub d1: f32,
    pub d2: f32,
    pub dt_s: f32,
    pub sqrt_dt: f32,
    pub jump_distance: f32,
    pub noisy: u32,
    /// The sample the jump shifts; u32::MAX for none.
    pub jump_step: u32,
    pub _pad: [u32; 2],
}

/// The step's constants in the working precision.
#[derive(Clone, Copy, Debug)]
pub struct SaccadeConsts<F> {
    pub l: [F; 4],
    /// K by columns: k[j][i] = K_ij.
    pub k: [[F; 4]; 3],
    pub alpha1: F,
    pub alpha2: F,
    pub alpha3: F,
    pub bu: F,
    pub y_bu: F,
    pub g: F,
    pub d: [F; 3],
    pub dt_s: F,
    pub sqrt_dt: F,
    pub jump_distance: F,
    pub noisy: bool,
    pub jump_step: Option<u64>,
}

impl Saccade {
    /// Reads and checks the parameters at config key `at` and computes the gains.
    pub fn from_params(at: &str, params: &toml::Table, clock: super::Clock) -> Result<Saccade> {
        let p: SaccadeParams = super::read_params(at, params)?;
        for (key, x) in [
            ("i", p.i),
            ("t_a", p.t_a),
            ("t_e", p.t_e),
            ("r", p.r),
            ("tolerance", p.tolerance),
        ] {
            positive(at, key, x)?;
        }
        for (key, x) in [("b", p.b), ("y_scale", p.y_scale), ("g", p.g)] {
            if !(x >= 0.0) {
                return Err(Error::config(
                    format!("{at}.{key}"),
                    format!("must be >= 0, got {x}"),
                ));
            }
        }
        for (k, x) in p.d.iter().enumerate() {
            positive(at, &format!("d[{k}]"), *x)?;
        }
        for (name, diag) in [("q", p.q), ("u", p.u)] {
            if let Some(k) = diag.iter().position(|x| !(*x >= 0.0)) {
                return Err(Error::config(
                    format!("{at}.{name}[{k}]"),
                    format!("a cost must be >= 0, got {}", diag[k]),
                ));
            }
        }
        let jump_step = match &p.target_jump {
            None => None,
            Some(j) => {
                let ntj = (j.at_ms / clock.dt_ms).round();
                // ntj is the book's 1-based step: the state it shifts is sample ntj − 1.
                if !(ntj >= 1.0 && ntj <= clock.n_steps as f64 - 1.0) {
                    return Err(Error::config(
                        format!("{at}.target_jump.at_ms"),
                        format!(
                            "{} ms is outside the run: the jump must come at a step from {} to {} ms",
                            j.at_ms,
                            clock.dt_ms,
                            (clock.n_steps as f64 - 1.0) * clock.dt_ms
                        ),
                    ));
                }
                // The GPU compares it with a 32-bit step.
                if ntj > u32::MAX as f64 {
                    return Err(Error::config(
                        format!("{at}.target_jump.at_ms"),
                        "more than 2^32 steps into the run",
                    ));
                }
                Some(ntj as u64 - 1)
            }
        };
        let gains = p
            .gains()
            .map_err(|e| Error::config(at.to_string(), e.to_string()))?;
        Ok(Saccade {
            params: p,
            gains,
            dt_s: clock.dt_ms * 1e-3,
            jump_step,
        })
    }

    pub fn consts<F: Real>(&self) -> SaccadeConsts<F> {
        let f = F::from_f64;
        let (l, k) = (&self.gains.l, &self.gains.k);
        let plant = self.params.plant();
        SaccadeConsts {
            l: [f(l[(0, 0)]), f(l[(0, 1)]), f(l[(0, 2)]), f(l[(0, 3)])],
            k: [0, 1, 2].map(|j| [f(k[(0, j)]), f(k[(1, j)]), f(k[(2, j)]), f(k[(3, j)])]),
            alpha1: f(plant.alpha1),
            alpha2: f(plant.alpha2),
            alpha3: f(plant.alpha3),
            bu: f(plant.bu),
            y_bu: f(self.params.y_scale * plant.bu),
            g: f(self.params.g),
            d: self.params.d.map(f),
            dt_s: f(self.dt_s),
            sqrt_dt: f(self.dt_s.sqrt()),
            jump_distance: f(self.params.target_jump.as_ref().map_or(0.0, |j| j.distance)),
            noisy: self.params.noisy,
            jump_step: self.jump_step,
        }
    }

    /// The noiseless trajectory from the initial state, `n_steps` samples of the 9 variables:
    /// the red line of the book's figures, from the same gains.
    pub fn noiseless_trajectory(&self, n_steps: u64) -> Vec<Vec<f64>> {
        let mut quiet = self.clone();
        quiet.params.noisy = false;
        let c = quiet.consts::<f64>();
        let noise = Noise {
            key: [0, 0],
            neuron: 0,
            step: 0,
            population: 0,
            size: 1,
        };
        let mut x = quiet.rest(self.params.init_pos);
        let mut out = Vec::with_capacity(n_steps as usize);
        for step in 0..n_steps {
            out.push(x.clone());
            c.advance(&mut x, &Noise { step, ..noise });
        }
        out
    }
}

impl Neuron for Saccade {
    fn kind(&self) -> &'static dyn NeuronKind {
        &OfcSaccade
    }
    fn default_v(&self) -> f64 {
        self.params.init_pos
    }
    /// x = (pos, 0, 0, 0), x̂ = x, and the control that state calls for (after the target jump
    /// if it comes at the first sample).
    fn rest(&self, pos: f64) -> Vec<f64> {
        let mut x = vec![0.0; VARIABLES.len()];
        x[X] = pos;
        x[X_EST] = pos;
        let c = self.consts::<f64>();
        c.settle(&mut x, 0);
        x
    }
    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>> {
        Box::new(self.consts::<f64>())
    }
    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>> {
        Box::new(self.consts::<f32>())
    }
    fn gpu_params(&self) -> Vec<u8> {
        let c = self.consts::<f32>();
        let g = SaccadeParamsGpu {
            l: c.l,
            k0: c.k[0],
            k1: c.k[1],
            k2: c.k[2],
            alpha1: c.alpha1,
            alpha2: c.alpha2,
            alpha3: c.alpha3,
            bu: c.bu,
            y_bu: c.y_bu,
            g: c.g,
            d0: c.d[0],
            d1: c.d[1],
            d2: c.d[2],
            dt_s: c.dt_s,
            sqrt_dt: c.sqrt_dt,
            jump_distance: c.jump_distance,
            noisy: c.noisy as u32,
            jump_step: c.jump_step.map_or(u32::MAX, |s| s as u32),
            _pad: [0; 2],
        };
        bytemuck::bytes_of(&g).to_vec()
    }
    fn describe(&self) -> Option<String> {
        let (l, k) = (&self.gains.l, &self.gains.k);
        let row = |r: usize| {
            (0..3)
                .map(|j| format!("{:>11.4e}", k[(r, j)]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        Some(format!(
            "gains after {} iterations: L = [{}]; K = [{}; {}; {}; {}]",
            self.gains.iterations,
            (0..4)
                .map(|j| format!("{:.4e}", l[(0, j)]))
                .collect::<Vec<_>>()
                .join(", "),
            row(0),
            row(1),
            row(2),
            row(3)
        ))
    }
    fn outputs(&self) -> Vec<super::ModelOutput> {
        let to_rows = |m: &DMatrix<f64>| {
            (0..m.nrows())
                .flat_map(|r| (0..m.ncols()).map(move |c| m[(r, c)]))
                .collect()
        };
        vec![
            super::ModelOutput {
                name: "L",
                shape: [1, 4],
                data: to_rows(&self.gains.l),
            },
            super::ModelOutput {
                name: "K",
                shape: [4, 3],
                data: to_rows(&self.gains.k),
            },
        ]
    }
    fn output_attributes(&self) -> Vec<(&'static str, f64)> {
        vec![("iterations", self.gains.iterations as f64)]
    }
}

impl<F: Real> SaccadeConsts<F> {
    /// The control −L·z of state z.
    fn control(&self, z: &[F]) -> F {
        -(self.l[0] * z[0] + self.l[1] * z[1] + self.l[2] * z[2] + self.l[3] * z[3])
    }

    /// (A z + B u)_k: the plant's drift.
    fn drift(&self, z: &[F], u: F, k: usize) -> F {
        if k < 3 {
            z[k + 1]
        } else {
            -(self.alpha1 * z[1] + self.alpha2 * z[2] + self.alpha3 * z[3]) + self.bu * u
        }
    }

    /// Makes sample `step` ready to be recorded and stepped: the target jump if it is due now,
    /// then the control its state calls for.
    fn settle(&self, x: &mut [F], step: u64) {
        if self.jump_step == Some(step) {
            x[X] = x[X] - self.jump_distance;
            x[X_EST] = x[X_EST] - self.jump_distance;
        }
        let from = if self.noisy { X_EST } else { X };
        x[U] = self.control(&x[from..from + 4]);
    }

    /// One Euler–Maruyama step of the book's `simulation` loop from sample `noise.step`, then
    /// `settle` for the next sample.
    pub fn advance(&self, x: &mut [F], noise: &Noise) {
        let dt = self.dt_s;
        let u = x[U];
        let mut x_new = [F::zero(); 4];
        if self.noisy {
            let gamma: F = noise.normal(STREAM_CONTROL);
            for (k, new) in x_new.iter_mut().enumerate() {
                let omega: F = noise.normal(STREAM_PLANT + k as u32);
                // Y u dγ has one non-zero entry, the last.
                let y = if k == 3 {
                    self.y_bu * u * gamma
                } else {
                    F::zero()
                };
                *new = x[X + k]
                    + self.drift(&x[X..X + 4], u, k) * dt
                    + self.sqrt_dt * (y + self.g * omega);
            }
            let mut innovation = [F::zero(); 3];
            for (j, e) in innovation.iter_mut().enumerate() {
                let xi: F = noise.normal(STREAM_OBSERVATION + j as u32);
                let dy = x[X + j] * dt + self.d[j] * self.sqrt_dt * xi;
                *e = dy - x[X_EST + j] * dt;
            }
            let mut est_new = [F::zero(); 4];
            for (k, new) in est_new.iter_mut().enumerate() {
                let correction = self.k[0][k] * innovation[0]
                    + self.k[1][k] * innovation[1]
                    + self.k[2][k] * innovation[2];
                *new = x[X_EST + k] + self.drift(&x[X_EST..X_EST + 4], u, k) * dt + correction;
            }
            x[X_EST..X_EST + 4].copy_from_slice(&est_new);
        } else {
            for (k, new) in x_new.iter_mut().enumerate() {
                *new = x[X + k] + self.drift(&x[X..X + 4], u, k) * dt;
            }
            x[X_EST..X_EST + 4].copy_from_slice(&x_new);
        }
        x[X..X + 4].copy_from_slice(&x_new);
        self.settle(x, noise.step + 1);
    }
}

impl<F: Real> CpuStep<F> for SaccadeConsts<F> {
    fn step(&self, x: &mut [F], _syn: SynInput<F>, noise: &Noise, _t: F, _dt: F) -> bool {
        self.advance(x, noise);
        false
    }
}
