//! Leaky integrate-and-fire neuron, in the units of the Neuromatch tutorial scaled to mV, ms,
//! MΩ and nA (so R·I is in mV): τ_m dV/dt = E_L − V + R·I(t); V ≥ V_th: spike, V ← V_reset,
//! then V is held at V_reset for t_ref.
//!
//! `shaders/neurons/lif.wgsl` mirrors this file: same names, same order of operations.

use super::var;
use super::{CpuStep, ModelInfo, Neuron, NeuronKind, Noise, SynInput, SynapticUnits, Variable};
use crate::config::positive;
use crate::error::{Error, Result};
use crate::real::Real;
use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};
use std::f64::consts::TAU;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LifIntegrator {
    /// V ← V + dt/τ (E_L − V + R I): the tutorial's scheme.
    #[default]
    Euler,
    /// V ← V∞ + (V − V∞) e^(−dt/τ), V∞ = E_L + R I: exact for input constant over the step.
    Exact,
}

/// The input current I(t) in nA; the terms present are summed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LifInput {
    /// A constant current.
    #[serde(default)]
    pub constant: f64,
    /// I_mean (1 + sin(2π t / period)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sin: Option<SinInput>,
    /// I_mean (1 + σ ξ), ξ a standard normal drawn per neuron and step (Philox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseInput>,
    /// `amplitude` for start_ms ≤ t < stop_ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepInput>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinInput {
    pub mean: f64,
    pub period_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseInput {
    pub mean: f64,
    pub sigma: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    pub amplitude: f64,
    pub start_ms: f64,
    pub stop_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifParams {
    pub tau_m: f64,
    pub e_l: f64,
    pub v_reset: f64,
    pub v_th: f64,
    /// Membrane resistance, MΩ.
    pub r_m: f64,
    pub t_ref: f64,
    pub integrator: LifIntegrator,
    pub input: LifInput,
}

impl Default for LifParams {
    fn default() -> Self {
        LifParams {
            tau_m: 20.0,
            e_l: -60.0,
            v_reset: -70.0,
            v_th: -50.0,
            r_m: 100.0,
            t_ref: 0.0,
            integrator: LifIntegrator::Euler,
            input: LifInput::default(),
        }
    }
}

pub const VARIABLES: [Variable; 2] = [var("v", "mV"), var("refractory", "steps")];

/// The model's definition.
pub const INFO: ModelInfo = ModelInfo {
    name: "lif",
    variables: &VARIABLES,
    synaptic_units: SynapticUnits {
        conductance: "uS",
        current: "nA",
    },
    shader: "neurons/lif",
    graded_activation: None,
    fused_coupling_shader: None,
    accepts_synapses: true,
    instance_table: true,
};

/// The model as configs name it.
pub struct Lif;

impl NeuronKind for Lif {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }
    fn gpu_params_layout(&self) -> super::StructLayout {
        crate::struct_layout!(
            "Params",
            LifParamsGpu {
                tau_m,
                e_l,
                v_reset,
                v_th,
                r_m,
                refractory_steps,
                decay,
                i_const,
                sin_mean,
                sin_omega,
                noise_mean,
                noise_sigma,
                step_amplitude,
                step_start,
                step_stop,
                integrator,
                noisy
            }
        )
    }
    fn parse(&self, at: &str, params: &toml::Table, clock: super::Clock) -> Result<Arc<dyn Neuron>> {
        let dt_ms = clock.dt_ms;
        let p: LifParams = super::read_params(at, params)?;
        positive(at, "tau_m", p.tau_m)?;
        positive(at, "r_m", p.r_m)?;
        if !(p.t_ref >= 0.0) {
            return Err(Error::config(format!("{at}.t_ref"), "must be >= 0"));
        }
        if let Some(s) = &p.input.sin {
            positive(&format!("{at}.input.sin"), "period_ms", s.period_ms)?;
        }
        Ok(Arc::new(LifNeuron { params: p, dt_ms }))
    }
}

/// The LIF model with its parameters, for steps of `dt_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct LifNeuron {
    pub params: LifParams,
    pub dt_ms: f64,
}

/// `Params` in shaders/neurons/lif.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct LifParamsGpu {
    pub tau_m: f32,
    pub e_l: f32,
    pub v_reset: f32,
    pub v_th: f32,
    pub r_m: f32,
    pub refractory_steps: f32,
    pub decay: f32,
    pub i_const: f32,
    pub sin_mean: f32,
    pub sin_omega: f32,
    pub noise_mean: f32,
    pub noise_sigma: f32,
    pub step_amplitude: f32,
    pub step_start: f32,
    pub step_stop: f32,
    pub integrator: u32,
    pub noisy: u32,
    pub _pad: [u32; 3],
}

impl Neuron for LifNeuron {
    fn kind(&self) -> &'static dyn NeuronKind {
        &Lif
    }
    fn default_v(&self) -> f64 {
        self.params.e_l
    }
    fn rest(&self, v: f64) -> Vec<f64> {
        vec![v, 0.0]
    }
    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>> {
        Box::new(self.params.consts::<f64>(self.dt_ms))
    }
    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>> {
        Box::new(self.params.consts::<f32>(self.dt_ms))
    }
    fn gpu_params(&self) -> Vec<u8> {
        let c = self.params.consts::<f32>(self.dt_ms);
        let g = LifParamsGpu {
            tau_m: c.tau_m,
            e_l: c.e_l,
            v_reset: c.v_reset,
            v_th: c.v_th,
            r_m: c.r_m,
            refractory_steps: c.refractory_steps,
            decay: c.decay,
            i_const: c.i_const,
            sin_mean: c.sin_mean,
            sin_omega: c.sin_omega,
            noise_mean: c.noise_mean,
            noise_sigma: c.noise_sigma,
            step_amplitude: c.step_amplitude,
            step_start: c.step_start,
            step_stop: c.step_stop,
            integrator: c.integrator.code(),
            noisy: self.params.noisy() as u32,
            _pad: [0; 3],
        };
        bytemuck::bytes_of(&g).to_vec()
    }
}

impl<F: Real> CpuStep<F> for LifConsts<F> {
    fn step(&self, x: &mut [F], syn: SynInput<F>, noise: &Noise, t: F, dt: F) -> bool {
        // LifParams::noisy: only a noise term with a mean and a spread draws.
        let xi = if self.noise_sigma != F::zero() && self.noise_mean != F::zero() {
            noise.normal(crate::rng::stream::VOLTAGE_NOISE)
        } else {
            F::zero()
        };
        step(self, x, syn, xi, t, dt)
    }
}
pub const V: usize = 0;
/// Steps of refractoriness left, an integer held in a float (exact in f32 up to 2^24).
pub const REFRACTORY: usize = 1;

impl LifIntegrator {
    pub fn code(self) -> u32 {
        match self {
            LifIntegrator::Euler => 0,
            LifIntegrator::Exact => 1,
        }
    }
}

/// The parameters in the working precision, with the dt-dependent constants worked out once
/// in f64 (the shader receives the same rounded values).
#[derive(Clone, Copy, Debug)]
pub struct LifConsts<F> {
    pub tau_m: F,
    pub e_l: F,
    pub v_reset: F,
    pub v_th: F,
    pub r_m: F,
    pub refractory_steps: F,
    pub decay: F,
    pub integrator: LifIntegrator,
    pub i_const: F,
    pub sin_mean: F,
    pub sin_omega: F,
    pub noise_mean: F,
    pub noise_sigma: F,
    pub step_amplitude: F,
    pub step_start: F,
    pub step_stop: F,
}

impl LifParams {
    pub fn consts<F: Real>(&self, dt: f64) -> LifConsts<F> {
        let f = F::from_f64;
        let i = &self.input;
        LifConsts {
            tau_m: f(self.tau_m),
            e_l: f(self.e_l),
            v_reset: f(self.v_reset),
            v_th: f(self.v_th),
            r_m: f(self.r_m),
            refractory_steps: f((self.t_ref / dt).round()),
            decay: f((-dt / self.tau_m).exp()),
            integrator: self.integrator,
            i_const: f(i.constant),
            sin_mean: f(i.sin.as_ref().map_or(0.0, |s| s.mean)),
            sin_omega: f(i.sin.as_ref().map_or(0.0, |s| TAU / s.period_ms)),
            noise_mean: f(i.noise.as_ref().map_or(0.0, |s| s.mean)),
            noise_sigma: f(i.noise.as_ref().map_or(0.0, |s| s.sigma)),
            step_amplitude: f(i.step.as_ref().map_or(0.0, |s| s.amplitude)),
            step_start: f(i.step.as_ref().map_or(0.0, |s| s.start_ms)),
            step_stop: f(i.step.as_ref().map_or(0.0, |s| s.stop_ms)),
        }
    }

    pub fn noisy(&self) -> bool {
        self.input
            .noise
            .as_ref()
            .is_some_and(|n| n.sigma != 0.0 && n.mean != 0.0)
    }
}

/// I(t) in nA at time `t` (ms) with the neuron's standard-normal draw `xi`.
#[inline]
pub fn input_current<F: Real>(p: &LifConsts<F>, t: F, xi: F) -> F {
    let mut i = p.i_const;
    i = i + p.sin_mean * (F::one() + (p.sin_omega * t).sin());
    i = i + p.noise_mean * (F::one() + p.noise_sigma * xi);
    if t >= p.step_start && t < p.step_stop {
        i = i + p.step_amplitude;
    }
    i
}

/// Advances one neuron from time `t` by `dt`. Returns true when it spiked.
#[inline]
pub fn step<F: Real>(p: &LifConsts<F>, x: &mut [F], syn: SynInput<F>, xi: F, t: F, dt: F) -> bool {
    if x[REFRACTORY] > F::zero() {
        x[REFRACTORY] = x[REFRACTORY] - F::one();
        x[V] = p.v_reset;
        return false;
    }
    let v = x[V];
    let i_total = input_current(p, t, xi) + syn.current(v);
    let v_new = match p.integrator {
        LifIntegrator::Euler => v + dt / p.tau_m * (p.e_l - v + p.r_m * i_total),
        LifIntegrator::Exact => {
            let v_inf = p.e_l + p.r_m * i_total;
            v_inf + (v - v_inf) * p.decay
        }
    };
    if v_new >= p.v_th {
        x[V] = p.v_reset;
        x[REFRACTORY] = p.refractory_steps;
        return true;
    }
    x[V] = v_new;
    false
}

/// The analytic rate (Hz) for a constant suprathreshold current `i` (nA).
pub fn analytic_rate(p: &LifParams, i: f64) -> f64 {
    let ri = p.r_m * i;
    let isi = p.t_ref + p.tau_m * ((ri + p.e_l - p.v_reset) / (ri + p.e_l - p.v_th)).ln();
    1000.0 / isi
}
