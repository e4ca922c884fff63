//! Models written as equations in Brian2's language: the front end. `parse` reads equations
//! and expressions into an AST with positions, `quantities` knows Brian2's unit names, `dims`
//! the dimensions, and `check` infers and checks them as Brian2 does.
//!
//! Not yet reachable from a config: compiling the checked equations into a model (CPU closures
//! and WGSL, through `model::NeuronKind::update_wgsl`) and the `[models.*]` config section come
//! next. Until then nothing outside this module uses it.

pub mod check;
pub mod dims;
pub mod parse;
pub mod quantities;
