//! The Traub–Miles Hodgkin–Huxley neuron of the COBAHH benchmark (Brette et al. 2007,
//! benchmark 3). Units: mV, ms, nS, pF (so nS·mV = pA and pA/pF = mV/ms).
//! All of V, m, h, n take an exponential-Euler step: each is linear in itself with the others
//! frozen, as Brian2 integrates the benchmark.
//!
//! `shaders/neurons/hh_traub.wgsl` mirrors this file: same names, same order of operations.

use super::hh::{advance_gate, steady_state, GatingIntegrator};
use super::rates::exprel_inv;
use super::var;
use super::{CpuStep, ModelInfo, Neuron, NeuronKind, Noise, SynInput, SynapticUnits, Variable};
use crate::config::positive;
use crate::error::{Error, Result};
use crate::real::Real;
use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraubParams {
    /// Membrane capacitance, pF (1 µF/cm² × 20 000 µm²).
    pub c_m: f64,
    /// Conductances, nS.
    pub g_l: f64,
    pub g_na: f64,
    pub g_k: f64,
    /// Potentials, mV.
    pub e_l: f64,
    pub e_na: f64,
    pub e_k: f64,
    pub v_t: f64,
    pub v_threshold: f64,
    /// Spikes closer than this to the last one are not detected, ms.
    pub refractory_ms: f64,
}

impl Default for TraubParams {
    fn default() -> Self {
        TraubParams {
            c_m: 200.0,
            g_l: 10.0,
            g_na: 20_000.0,
            g_k: 6_000.0,
            e_l: -60.0,
            e_na: 50.0,
            e_k: -90.0,
            v_t: -63.0,
            v_threshold: -20.0,
            refractory_ms: 3.0,
        }
    }
}

pub const VARIABLES: [Variable; 5] = [
    var("v", "mV"),
    var("m", "1"),
    var("h", "1"),
    var("n", "1"),
    var("refractory", "steps"),
];

/// The model's definition.
pub const INFO: ModelInfo = ModelInfo {
    name: "hh_traub",
    variables: &VARIABLES,
    synaptic_units: SynapticUnits {
        conductance: "nS",
        current: "pA",
    },
    shader: "neurons/hh_traub",
    graded_activation: None,
    fused_coupling_shader: None,
    accepts_synapses: true,
    instance_table: true,
};

/// The model as configs name it.
pub struct HhTraub;

impl NeuronKind for HhTraub {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }
    fn gpu_params_layout(&self) -> super::StructLayout {
        crate::struct_layout!(
            "Params",
            TraubParamsGpu {
                c_m,
                g_l,
                g_na,
                g_k,
                e_l,
                e_na,
                e_k,
                v_t,
                v_threshold,
                refractory_steps
            }
        )
    }
    fn parse(&self, at: &str, params: &toml::Table, clock: super::Clock) -> Result<Arc<dyn Neuron>> {
        let dt_ms = clock.dt_ms;
        let p: TraubParams = super::read_params(at, params)?;
        positive(at, "c_m", p.c_m)?;
        if !(p.refractory_ms >= 0.0) {
            return Err(Error::config(format!("{at}.refractory_ms"), "must be >= 0"));
        }
        Ok(Arc::new(TraubNeuron { params: p, dt_ms }))
    }
}

/// The Traub–Miles model with its parameters, for steps of `dt_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraubNeuron {
    pub params: TraubParams,
    pub dt_ms: f64,
}

/// `Params` in shaders/neurons/hh_traub.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct TraubParamsGpu {
    pub c_m: f32,
    pub g_l: f32,
    pub g_na: f32,
    pub g_k: f32,
    pub e_l: f32,
    pub e_na: f32,
    pub e_k: f32,
    pub v_t: f32,
    pub v_threshold: f32,
    pub refractory_steps: f32,
    pub _pad: [u32; 2],
}

impl Neuron for TraubNeuron {
    fn kind(&self) -> &'static dyn NeuronKind {
        &HhTraub
    }
    fn default_v(&self) -> f64 {
        self.params.e_l
    }
    /// Gates at their steady state for `v`, no refractoriness.
    fn rest(&self, v: f64) -> Vec<f64> {
        let v_t = self.params.v_t;
        vec![
            v,
            steady_state(alpha_m(v, v_t), beta_m(v, v_t)),
            steady_state(alpha_h(v, v_t), beta_h(v, v_t)),
            steady_state(alpha_n(v, v_t), beta_n(v, v_t)),
            0.0,
        ]
    }
    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>> {
        Box::new(self.params.consts::<f64>(self.dt_ms))
    }
    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>> {
        Box::new(self.params.consts::<f32>(self.dt_ms))
    }
    fn gpu_params(&self) -> Vec<u8> {
        let c = self.params.consts::<f32>(self.dt_ms);
        let g = TraubParamsGpu {
            c_m: c.c_m,
            g_l: c.g_l,
            g_na: c.g_na,
            g_k: c.g_k,
            e_l: c.e_l,
            e_na: c.e_na,
            e_k: c.e_k,
            v_t: c.v_t,
            v_threshold: c.v_threshold,
            refractory_steps: c.refractory_steps,
            _pad: [0; 2],
        };
        bytemuck::bytes_of(&g).to_vec()
    }
}

impl<F: Real> CpuStep<F> for TraubConsts<F> {
    fn step(&self, x: &mut [F], syn: SynInput<F>, _noise: &Noise, _t: F, dt: F) -> bool {
        step(self, x, syn, dt)
    }
}
pub const V: usize = 0;
pub const M: usize = 1;
pub const H: usize = 2;
pub const N: usize = 3;
/// Steps left during which no spike is detected.
pub const REFRACTORY: usize = 4;

pub fn alpha_m<F: Real>(v: F, v_t: F) -> F {
    F::from_f64(1.28) * exprel_inv(-(F::from_f64(13.0) - v + v_t) / F::from_f64(4.0))
}
pub fn beta_m<F: Real>(v: F, v_t: F) -> F {
    F::from_f64(1.4) * exprel_inv(-(v - v_t - F::from_f64(40.0)) / F::from_f64(5.0))
}
pub fn alpha_h<F: Real>(v: F, v_t: F) -> F {
    F::from_f64(0.128) * ((F::from_f64(17.0) - v + v_t) / F::from_f64(18.0)).exp()
}
pub fn beta_h<F: Real>(v: F, v_t: F) -> F {
    F::from_f64(4.0) / (F::one() + ((F::from_f64(40.0) - v + v_t) / F::from_f64(5.0)).exp())
}
pub fn alpha_n<F: Real>(v: F, v_t: F) -> F {
    F::from_f64(0.16) * exprel_inv(-(F::from_f64(15.0) - v + v_t) / F::from_f64(5.0))
}
pub fn beta_n<F: Real>(v: F, v_t: F) -> F {
    F::from_f64(0.5) * ((F::from_f64(10.0) - v + v_t) / F::from_f64(40.0)).exp()
}

#[derive(Clone, Copy, Debug)]
pub struct TraubConsts<F> {
    pub c_m: F,
    pub g_l: F,
    pub g_na: F,
    pub g_k: F,
    pub e_l: F,
    pub e_na: F,
    pub e_k: F,
    pub v_t: F,
    pub v_threshold: F,
    pub refractory_steps: F,
}

impl TraubParams {
    pub fn consts<F: Real>(&self, dt: f64) -> TraubConsts<F> {
        let f = F::from_f64;
        TraubConsts {
            c_m: f(self.c_m),
            g_l: f(self.g_l),
            g_na: f(self.g_na),
            g_k: f(self.g_k),
            e_l: f(self.e_l),
            e_na: f(self.e_na),
            e_k: f(self.e_k),
            v_t: f(self.v_t),
            v_threshold: f(self.v_threshold),
            refractory_steps: f((self.refractory_ms / dt).round()),
        }
    }
}

/// Advances one neuron by `dt`. Returns true when V is above the threshold after the step and
/// the refractory period since the last spike is over (Brian2's rule).
#[inline]
pub fn step<F: Real>(p: &TraubConsts<F>, x: &mut [F], syn: SynInput<F>, dt: F) -> bool {
    let v = x[V];
    let m3h = x[M] * x[M] * x[M] * x[H];
    let n2 = x[N] * x[N];
    let g_na = p.g_na * m3h;
    let g_k = p.g_k * n2 * n2;
    // C dV/dt = A − B·V with the gates and synaptic conductances frozen.
    let b = (p.g_l + g_na + g_k + syn.g) / p.c_m;
    let a = (p.g_l * p.e_l + g_na * p.e_na + g_k * p.e_k + syn.i0) / p.c_m;
    let v_inf = a / b;
    let v_new = v_inf + (v - v_inf) * (-b * dt).exp();

    // The shader's advance_gate has no integrator argument: COBAHH is exponential Euler only.
    let gate = |x: F, alpha: F, beta: F| {
        advance_gate(x, alpha, beta, dt, GatingIntegrator::ExponentialEuler)
    };
    x[M] = gate(x[M], alpha_m(v, p.v_t), beta_m(v, p.v_t));
    x[H] = gate(x[H], alpha_h(v, p.v_t), beta_h(v, p.v_t));
    x[N] = gate(x[N], alpha_n(v, p.v_t), beta_n(v, p.v_t));
    x[V] = v_new;

    // Brian2's threshold and refractoriness (`threshold='v > -20*mV', refractory=3*ms`): a
    // neuron R steps past its spike may fire again, whenever V is above threshold then.
    let steps_left = (x[REFRACTORY] - F::one()).max(F::zero());
    x[REFRACTORY] = steps_left;
    if steps_left == F::zero() && v_new > p.v_threshold {
        x[REFRACTORY] = p.refractory_steps;
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_finite_through_their_removable_singularities() {
        let v_t = -63.0;
        // 13 − V + V_T = 0 at V = −50; V − V_T − 40 = 0 at V = −23; 15 − V + V_T = 0 at V = −48.
        for v in [-50.0f32, -23.0, -48.0] {
            for r in [
                alpha_m(v, v_t as f32),
                beta_m(v, v_t as f32),
                alpha_n(v, v_t as f32),
            ] {
                assert!(r.is_finite() && r > 0.0, "{r} at {v}");
            }
        }
        assert!((alpha_m(-50.0f64, v_t) - 1.28).abs() < 1e-9);
        assert!((beta_m(-23.0f64, v_t) - 1.4).abs() < 1e-9);
        assert!((alpha_n(-48.0f64, v_t) - 0.16).abs() < 1e-9);
        // Away from them, the textbook form.
        let v = -70.0f64;
        let x = 13.0 - v + v_t;
        assert!((alpha_m(v, v_t) - 0.32 * x / ((x / 4.0).exp() - 1.0)).abs() < 1e-12);
    }
}
