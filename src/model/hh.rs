//! Hodgkin–Huxley squid-axon neuron (Hodgkin & Huxley 1952, modern sign convention, mV, ms,
//! µA/cm², µF/cm²) carrying the presynaptic activation S of the graded synapse.
//!
//! `shaders/neurons/hh.wgsl` mirrors this file: same names, same order of operations.

use super::graded;
use super::rates::exprel_inv;
use super::var;
use super::{CpuStep, ModelInfo, Neuron, NeuronKind, Noise, SynInput, SynapticUnits, Variable};
use crate::error::{Error, Result};
use crate::real::Real;
use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the gating variables (m, h, n, and the synaptic S) are advanced over one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GatingIntegrator {
    /// x ← x∞ + (x − x∞)·e^(−dt/τx): exact for frozen V, stays in [0, 1] by construction.
    #[default]
    ExponentialEuler,
    /// x ← x + dt·(α(1 − x) − βx), clamped to [0, 1] because large dt·(α+β) overshoots.
    Euler,
}

impl GatingIntegrator {
    /// The integer code the shader switches on.
    pub fn code(self) -> u32 {
        match self {
            GatingIntegrator::ExponentialEuler => 0,
            GatingIntegrator::Euler => 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HhParams {
    /// Membrane capacitance, µF/cm².
    pub c_m: f64,
    /// Maximal conductances, mS/cm².
    pub g_na: f64,
    pub g_k: f64,
    pub g_l: f64,
    /// Reversal potentials, mV.
    pub e_na: f64,
    pub e_k: f64,
    pub e_l: f64,
    /// Constant injected current, µA/cm².
    pub i_ext: f64,
    /// Amplitude of the white-noise current, µA/cm²·ms^½: C dV = … dt + σ dW.
    pub noise_sigma: f64,
    /// Spike detection threshold (upward crossing), mV.
    pub v_threshold: f64,
    pub integrator: GatingIntegrator,
}

impl Default for HhParams {
    fn default() -> Self {
        HhParams {
            c_m: 1.0,
            g_na: 120.0,
            g_k: 36.0,
            g_l: 0.3,
            e_na: 50.0,
            e_k: -77.0,
            e_l: -54.387,
            i_ext: 10.0,
            noise_sigma: 0.0,
            v_threshold: 0.0,
            integrator: GatingIntegrator::ExponentialEuler,
        }
    }
}

pub const VARIABLES: [Variable; 5] = [
    var("v", "mV"),
    var("m", "1"),
    var("h", "1"),
    var("n", "1"),
    var("s", "1"),
];

/// The model's definition.
pub const INFO: ModelInfo = ModelInfo {
    name: "hh",
    variables: &VARIABLES,
    synaptic_units: SynapticUnits {
        conductance: "mS/cm2",
        current: "uA/cm2",
    },
    shader: "neurons/hh",
    graded_activation: Some(S),
    fused_coupling_shader: Some("neurons/hh_coupled"),
    accepts_synapses: true,
    instance_table: true,
};

/// The model as configs name it.
pub struct Hh;

impl NeuronKind for Hh {
    fn info(&self) -> &'static ModelInfo {
        &INFO
    }
    fn gpu_params_layout(&self) -> super::StructLayout {
        crate::struct_layout!(
            "Params",
            HhParamsGpu {
                c_m,
                g_na,
                g_k,
                g_l,
                e_na,
                e_k,
                e_l,
                i_ext,
                noise_sigma,
                v_threshold,
                integrator
            }
        )
    }
    fn parse(&self, at: &str, params: &toml::Table, _clock: super::Clock) -> Result<Arc<dyn Neuron>> {
        let p: HhParams = super::read_params(at, params)?;
        if !(p.c_m > 0.0) {
            return Err(Error::config(format!("{at}.c_m"), "must be positive"));
        }
        if !(p.noise_sigma >= 0.0) {
            return Err(Error::config(format!("{at}.noise_sigma"), "must be >= 0"));
        }
        Ok(Arc::new(p))
    }
}

/// `Params` in shaders/neurons/hh.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct HhParamsGpu {
    pub c_m: f32,
    pub g_na: f32,
    pub g_k: f32,
    pub g_l: f32,
    pub e_na: f32,
    pub e_k: f32,
    pub e_l: f32,
    pub i_ext: f32,
    pub noise_sigma: f32,
    pub v_threshold: f32,
    pub integrator: u32,
    pub _pad: u32,
}

impl Neuron for HhParams {
    fn kind(&self) -> &'static dyn NeuronKind {
        &Hh
    }
    fn default_v(&self) -> f64 {
        -65.0
    }
    fn rest(&self, v: f64) -> Vec<f64> {
        resting_at(v).to_vec()
    }
    fn cpu_f64(&self) -> Box<dyn CpuStep<f64>> {
        Box::new(self.consts::<f64>())
    }
    fn cpu_f32(&self) -> Box<dyn CpuStep<f32>> {
        Box::new(self.consts::<f32>())
    }
    fn gpu_params(&self) -> Vec<u8> {
        let c = self.consts::<f32>();
        let g = HhParamsGpu {
            c_m: c.c_m,
            g_na: c.g_na,
            g_k: c.g_k,
            g_l: c.g_l,
            e_na: c.e_na,
            e_k: c.e_k,
            e_l: c.e_l,
            i_ext: c.i_ext,
            noise_sigma: c.noise_sigma,
            v_threshold: c.v_threshold,
            integrator: c.integrator.code(),
            _pad: 0,
        };
        bytemuck::bytes_of(&g).to_vec()
    }
}

impl<F: Real> CpuStep<F> for HhConsts<F> {
    fn step(&self, x: &mut [F], syn: SynInput<F>, noise: &Noise, _t: F, dt: F) -> bool {
        let xi = if self.noise_sigma != F::zero() {
            noise.normal(crate::rng::stream::VOLTAGE_NOISE)
        } else {
            F::zero()
        };
        step(self, x, syn, xi, dt)
    }
}

pub fn alpha_m<F: Real>(v: F) -> F {
    exprel_inv((v + F::from_f64(40.0)) / F::from_f64(10.0))
}
pub fn beta_m<F: Real>(v: F) -> F {
    F::from_f64(4.0) * (-(v + F::from_f64(65.0)) / F::from_f64(18.0)).exp()
}
pub fn alpha_h<F: Real>(v: F) -> F {
    F::from_f64(0.07) * (-(v + F::from_f64(65.0)) / F::from_f64(20.0)).exp()
}
pub fn beta_h<F: Real>(v: F) -> F {
    F::one() / (F::one() + (-(v + F::from_f64(35.0)) / F::from_f64(10.0)).exp())
}
pub fn alpha_n<F: Real>(v: F) -> F {
    F::from_f64(0.1) * exprel_inv((v + F::from_f64(55.0)) / F::from_f64(10.0))
}
pub fn beta_n<F: Real>(v: F) -> F {
    F::from_f64(0.125) * (-(v + F::from_f64(65.0)) / F::from_f64(80.0)).exp()
}

/// α/(α+β): the steady state of a gate at fixed V.
pub fn steady_state<F: Real>(alpha: F, beta: F) -> F {
    alpha / (alpha + beta)
}

/// One gating variable over one step at frozen V.
#[inline]
pub fn advance_gate<F: Real>(x: F, alpha: F, beta: F, dt: F, integrator: GatingIntegrator) -> F {
    match integrator {
        GatingIntegrator::ExponentialEuler => {
            let rate = alpha + beta;
            let x_inf = alpha / rate;
            x_inf + (x - x_inf) * (-dt * rate).exp()
        }
        GatingIntegrator::Euler => {
            let x_new = x + dt * (alpha * (F::one() - x) - beta * x);
            x_new.max(F::zero()).min(F::one())
        }
    }
}

/// Indices of the variables in a neuron's state (and of the state buffer's blocks on the GPU).
pub const V: usize = 0;
pub const M: usize = 1;
pub const H: usize = 2;
pub const N: usize = 3;
pub const S: usize = 4;

/// Gates at their steady state for `v`, synapse closed: [v, m, h, n, s].
pub fn resting_at<F: Real>(v: F) -> [F; 5] {
    [
        v,
        steady_state(alpha_m(v), beta_m(v)),
        steady_state(alpha_h(v), beta_h(v)),
        steady_state(alpha_n(v), beta_n(v)),
        F::zero(),
    ]
}

/// The parameters in the working precision, converted once per run.
#[derive(Clone, Copy, Debug)]
pub struct HhConsts<F> {
    pub c_m: F,
    pub g_na: F,
    pub g_k: F,
    pub g_l: F,
    pub e_na: F,
    pub e_k: F,
    pub e_l: F,
    pub i_ext: F,
    pub noise_sigma: F,
    pub v_threshold: F,
    pub integrator: GatingIntegrator,
}

impl HhParams {
    pub fn consts<F: Real>(&self) -> HhConsts<F> {
        HhConsts {
            c_m: F::from_f64(self.c_m),
            g_na: F::from_f64(self.g_na),
            g_k: F::from_f64(self.g_k),
            g_l: F::from_f64(self.g_l),
            e_na: F::from_f64(self.e_na),
            e_k: F::from_f64(self.e_k),
            e_l: F::from_f64(self.e_l),
            i_ext: F::from_f64(self.i_ext),
            noise_sigma: F::from_f64(self.noise_sigma),
            v_threshold: F::from_f64(self.v_threshold),
            integrator: self.integrator,
        }
    }
}

/// Advances one neuron by `dt`, given its synaptic input and its standard-normal draw `xi`.
/// Every right-hand side is evaluated at the old V (explicit scheme). Returns true when V
/// crossed the threshold upward during the step.
#[inline]
pub fn step<F: Real>(p: &HhConsts<F>, x: &mut [F], syn: SynInput<F>, xi: F, dt: F) -> bool {
    let v = x[V];
    let m3h = x[M] * x[M] * x[M] * x[H];
    let n2 = x[N] * x[N];
    let i_na = p.g_na * m3h * (v - p.e_na);
    let i_k = p.g_k * n2 * n2 * (v - p.e_k);
    let i_l = p.g_l * (v - p.e_l);
    let i_total = p.i_ext - i_na - i_k - i_l + syn.current(v);
    let v_new = v + (dt * i_total + p.noise_sigma * dt.sqrt() * xi) / p.c_m;

    x[M] = advance_gate(x[M], alpha_m(v), beta_m(v), dt, p.integrator);
    x[H] = advance_gate(x[H], alpha_h(v), beta_h(v), dt, p.integrator);
    x[N] = advance_gate(x[N], alpha_n(v), beta_n(v), dt, p.integrator);
    x[S] = advance_gate(
        x[S],
        graded::alpha_s(v),
        graded::beta_s(v),
        dt,
        p.integrator,
    );
    x[V] = v_new;
    v < p.v_threshold && v_new >= p.v_threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep<F: Real>() {
        // 0.01 mV grid from −100 to 60 mV: hits −40 and −55 exactly in both precisions.
        for k in 0..=16_000 {
            let v = F::from_f64(-100.0) + F::from_f64(k as f64 * 0.01);
            let v = if k == 6000 {
                F::from_f64(-40.0)
            } else if k == 4500 {
                F::from_f64(-55.0)
            } else {
                v
            };
            for (name, r) in [
                ("alpha_m", alpha_m(v)),
                ("beta_m", beta_m(v)),
                ("alpha_h", alpha_h(v)),
                ("beta_h", beta_h(v)),
                ("alpha_n", alpha_n(v)),
                ("beta_n", beta_n(v)),
                ("alpha_s", graded::alpha_s(v)),
            ] {
                assert!(r.is_finite() && r >= F::zero(), "{name}({v:?}) = {r:?}");
            }
        }
        // The limits at the singular points: α_m(−40) = 1, α_n(−55) = 0.1.
        assert!((alpha_m(F::from_f64(-40.0)).to_f64() - 1.0).abs() < 1e-6);
        assert!((alpha_n(F::from_f64(-55.0)).to_f64() - 0.1).abs() < 1e-7);
    }

    #[test]
    fn rate_functions_are_finite_on_the_whole_range_in_f64() {
        sweep::<f64>();
    }

    #[test]
    fn rate_functions_are_finite_on_the_whole_range_in_f32() {
        sweep::<f32>();
        // The exact bit patterns of −40 and −55 in f32, not just nearby values.
        assert!(alpha_m(-40.0f32).is_finite() && alpha_n(-55.0f32).is_finite());
    }

    #[test]
    fn euler_gates_stay_in_unit_interval_even_for_large_steps() {
        for v in [-100.0f64, -40.0, 0.0, 60.0] {
            for x0 in [0.0, 0.5, 1.0] {
                for integ in [GatingIntegrator::Euler, GatingIntegrator::ExponentialEuler] {
                    let x = advance_gate(x0, alpha_m(v), beta_m(v), 5.0, integ);
                    assert!((0.0..=1.0).contains(&x), "{integ:?} v={v} x0={x0} → {x}");
                }
            }
        }
    }

    #[test]
    fn resting_state_is_near_minus_65_without_input() {
        let p = HhParams {
            i_ext: 0.0,
            ..HhParams::default()
        }
        .consts::<f64>();
        let mut x = resting_at(-65.0);
        for _ in 0..10_000 {
            step(&p, &mut x, SynInput::default(), 0.0, 0.01);
        }
        assert!((x[V] + 65.0).abs() < 0.5, "v = {}", x[V]);
    }
}
