//! The graded (non-spiking) synapse: each presynaptic neuron carries an activation S with
//! dS/dt = 5(1 − S)/(1 + e^(−(V+3)/8)) − S, and the target receives
//! I_syn,i = (V_r − V_i)/w · Σ_j E_ij S_j.
//! S is advanced with the neuron's gates (see `hh::step`); the coupling sum is here, delivered
//! as a conductance g = Σ_j E_ij S_j / w with reversal potential V_r.

use crate::real::Real;
use serde::{Deserialize, Serialize};

/// Opening rate of S, 1/ms.
pub fn alpha_s<F: Real>(v: F) -> F {
    F::from_f64(5.0) / (F::one() + (-(v + F::from_f64(3.0)) / F::from_f64(8.0)).exp())
}

/// Closing rate of S, 1/ms (constant; V is taken for symmetry with the gates).
pub fn beta_s<F: Real>(_v: F) -> F {
    F::one()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradedParams {
    /// Synaptic reversal potential V_r, mV.
    pub v_rev: f64,
    /// Scale w of the coupling: the current is divided by it.
    pub w: f64,
}

impl Default for GradedParams {
    fn default() -> Self {
        GradedParams {
            v_rev: 20.0,
            w: 1.0,
        }
    }
}

/// The conductance a target sees from its weighted presynaptic sum `sum_es`: the current is
/// g·(V_r − V) = (V_r − V)/w · Σ_j E_ij S_j.
#[inline]
pub fn conductance<F: Real>(w: F, sum_es: F) -> F {
    sum_es / w
}
