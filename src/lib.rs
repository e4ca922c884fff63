//! ganglion: networks of coupled neurons on the GPU (wgpu/WGSL) with a CPU reference backend.
//!
//! config TOML → [`config::Config`] → [`network::Network`] → [`backend::Backend`] →
//! [`simulator::run`] → [`io::hdf5::Hdf5Writer`].

// `!(x > 0.0)` is deliberate throughout validation: it rejects NaN, which `x <= 0.0` lets pass.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod app;
pub mod backend;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod connectivity;
pub mod equations;
pub mod error;
pub mod io;
pub mod memory;
pub mod model;
pub mod network;
pub mod procedural;
pub mod plot;
pub mod real;
pub mod record;
pub mod rng;
pub mod scale;
pub mod shape;
pub mod shaders;
pub mod smooth_rate;
pub mod simulator;
pub mod stats;
pub mod sweep;
pub mod units;

pub use error::{Error, Result};
