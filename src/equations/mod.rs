//! Models written as equations in Brian2's language, compiled when the config loads.
//!
//! - front end: `parse` reads equations, expressions and statements into an AST with
//!   positions, `quantities` knows Brian2's unit names, `dims` the dimensions, and `check`
//!   infers and checks them as Brian2 does;
//! - `lower` resolves names into `ir` (slots, folded constants, Philox streams);
//! - `neuron` and `synapse` compile a model's table into programs of one step, in Brian2's
//!   order; `integrate` writes the step of their differential equations by Brian2's methods;
//! - `cpu` (closures, f64 or f32; `vm` batches a neuron's update over many neurons) and `wgsl` (generated shaders) run those programs, the same
//!   statements in the same order;
//! - `poisson_input` and `regularly` add Brian2's PoissonInputs and `run_regularly` to a
//!   population's model;
//! - `model` is the equation-defined neuron as a `model::NeuronKind`.

pub mod check;
pub mod cpu;
pub mod dims;
pub mod events;
pub mod init;
pub mod integrate;
pub mod ir;
pub mod lower;
pub mod model;
pub mod neuron;
pub mod parse;
pub mod poisson_input;
pub mod quantities;
pub mod regularly;
pub mod shared;
pub mod synapse;
pub mod var_type;
pub mod vm;
pub mod wgsl;
