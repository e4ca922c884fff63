//! Neuron and synapse models, each defined once: parameters, rate functions and one `step`.
//! The WGSL shaders in `shaders/` mirror these files line for line.

pub mod exp_synapse;
pub mod graded;
pub mod hh;
pub mod hh_traub;
pub mod lif;
pub mod rates;

use crate::real::Real;

/// The most variables any neuron model has: the CPU keeps a neuron's state in one array.
pub const MAX_VARS: usize = 5;

/// The synaptic input of one neuron for one step, I_syn(V) = i0 − g·V: conductance-based
/// synapses add g and g·E_rev, current-based ones add to i0.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SynInput<F> {
    pub g: F,
    pub i0: F,
}

impl<F: Real> SynInput<F> {
    pub fn zero() -> Self {
        SynInput {
            g: F::zero(),
            i0: F::zero(),
        }
    }

    #[inline]
    pub fn current(&self, v: F) -> F {
        self.i0 - self.g * v
    }
}
