//! The floating-point type a backend computes in: f64 for the reference, f32 to match the GPU.

use num_traits::Float;

pub trait Real: Float + Send + Sync + std::fmt::Debug + std::iter::Sum + 'static {
    fn from_f64(x: f64) -> Self;
    fn from_f32(x: f32) -> Self;
    fn to_f64(self) -> f64;
    /// Below this |x| the x/(1 − e^−x) series is used: the direct form loses about eps/|x|
    /// of relative accuracy, the series (to x⁴) about x⁶/30240.
    const SERIES_CUTOFF: f64;
    /// A model's CPU step in this type (`Neuron::cpu_f64` or `cpu_f32`).
    fn cpu_step(model: &dyn crate::model::Neuron) -> Box<dyn crate::model::CpuStep<Self>>;
}

impl Real for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
    fn from_f32(x: f32) -> Self {
        x as f64
    }
    fn to_f64(self) -> f64 {
        self
    }
    const SERIES_CUTOFF: f64 = 1e-3;
    fn cpu_step(model: &dyn crate::model::Neuron) -> Box<dyn crate::model::CpuStep<Self>> {
        model.cpu_f64()
    }
}

impl Real for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    const SERIES_CUTOFF: f64 = 0.1;
    fn cpu_step(model: &dyn crate::model::Neuron) -> Box<dyn crate::model::CpuStep<Self>> {
        model.cpu_f32()
    }
}
