//! Event-driven exponential synapses. Each projection keeps, per target neuron, a variable g
//! that decays as dg/dt = −g/τ and jumps by the weight when a presynaptic spike arrives
//! `delay` after it was emitted. `exp_cond` delivers the current g·(E_rev − V) (g a
//! conductance), `exp_curr` delivers g itself (a current).
//!
//! Arrivals are summed in 32-bit fixed point: integer addition is associative, so the sum
//! of any number of spikes is the same whatever order the GPU's atomics apply them in, and
//! the CPU reference reproduces it bit for bit. The scale is a power of two chosen per
//! projection so that every input of a target spiking in the same step cannot overflow.
//!
//! `shaders/synapses/exp_synapse.wgsl` mirrors this file.

use super::SynInput;
use crate::real::Real;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpKind {
    Conductance,
    Current,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpCondParams {
    pub tau_ms: f64,
    pub e_rev: f64,
    #[serde(default = "default_delay")]
    pub delay_ms: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpCurrParams {
    pub tau_ms: f64,
    #[serde(default = "default_delay")]
    pub delay_ms: f64,
}

fn default_delay() -> f64 {
    0.0
}

/// A projection's synapse resolved for a time step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExpSynapse {
    pub kind: ExpKind,
    pub tau_ms: f64,
    pub e_rev: f64,
    /// Whole steps between the emitting step and the arrival.
    pub delay_steps: u32,
}

/// Slots of the ring of a synapse delayed by `delay_steps`: see `ExpSynapse::ring_slots`.
pub fn ring_slots(delay_steps: u32) -> u32 {
    delay_steps + 2
}

/// A delay in ms as whole steps of `dt_ms`.
pub fn delay_steps(delay_ms: f64, dt_ms: f64) -> u32 {
    (delay_ms / dt_ms).round() as u32
}

impl ExpSynapse {
    /// Slots in the ring of pending arrivals: the step being delivered, the farthest future
    /// step written, and everything between.
    pub fn ring_slots(&self) -> u32 {
        ring_slots(self.delay_steps)
    }

    pub fn decay(&self, dt: f64) -> f64 {
        (-dt / self.tau_ms).exp()
    }
}

/// The power-of-two scale for fixed-point arrivals: the largest that keeps
/// `max_weight × max_indegree` within i32 with a factor of two to spare.
pub fn fixed_point_scale(max_abs_weight: f64, max_indegree: usize) -> f64 {
    let worst = max_abs_weight * max_indegree.max(1) as f64;
    if worst <= 0.0 {
        return 1.0;
    }
    let exponent = ((i32::MAX as f64 / 2.0) / worst)
        .log2()
        .floor()
        .clamp(-60.0, 60.0);
    exponent.exp2()
}

pub fn to_fixed(weight: f64, scale: f64) -> i32 {
    (weight * scale).round() as i32
}

/// Delivers the step's arrivals, adds this projection's share of the synaptic input, and
/// decays g over the step. Returns g after the arrivals (the value used for the current).
#[inline]
pub fn deliver<F: Real>(
    kind: ExpKind,
    g: &mut F,
    arrived: i32,
    inv_scale: F,
    e_rev: F,
    decay: F,
    syn: &mut SynInput<F>,
) -> F {
    let g_now = *g + F::from_f64(arrived as f64) * inv_scale;
    match kind {
        ExpKind::Conductance => {
            syn.g = syn.g + g_now;
            syn.i0 = syn.i0 + g_now * e_rev;
        }
        ExpKind::Current => syn.i0 = syn.i0 + g_now,
    }
    *g = g_now * decay;
    g_now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_leaves_room_for_every_input_at_once() {
        let s = fixed_point_scale(67.0, 200);
        assert!(67.0 * 200.0 * s <= i32::MAX as f64 / 2.0);
        assert!(
            67.0 * 200.0 * s * 2.0 > i32::MAX as f64 / 2.0,
            "the largest such power of two"
        );
        assert_eq!(s, s.log2().round().exp2());
        let w = to_fixed(6.0, s) as f64 / s;
        assert!((w - 6.0).abs() < 1e-5);
    }

    #[test]
    fn a_conductance_decays_exponentially_and_drives_toward_e_rev() {
        let mut g = 0.0f64;
        let mut syn = SynInput::default();
        let scale = 1024.0;
        let got = deliver(
            ExpKind::Conductance,
            &mut g,
            to_fixed(2.0, scale),
            1.0 / scale,
            -80.0,
            0.5,
            &mut syn,
        );
        assert_eq!(got, 2.0);
        assert_eq!(g, 1.0);
        assert_eq!(syn.current(-60.0), 2.0 * (-80.0 - -60.0));
    }
}
