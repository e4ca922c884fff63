//! Neuron and synapse models, each defined once: parameters, rate functions and one `step`.
//! The WGSL shaders in `shaders/` mirror these files line for line.

pub mod graded;
pub mod hh;
pub mod rates;
